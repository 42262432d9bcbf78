"""The report's figures: matplotlib, drawn from report.json, returned as inline SVG text.

Why matplotlib as SVG (and not plotly): the report must open anywhere without a network,
and inline SVG needs no JavaScript at all: nothing to load, nothing to fail in the console,
no 3.5 MB script in every file, and the text in the figures (class names, parameter names)
stays real text that Ctrl-F finds. matplotlib is the most widely used and longest-maintained
Python plotting library; only its object API is used (no pyplot global state).

Text from the data is never interpreted: ``text.parse_math`` is off (a class named ``$x$``
is printed as is), and the SVG writer escapes ``<``, ``>`` and ``&``.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# Colours by role: the best model, models not significantly worse, the rest.
BEST, TIED, OTHER, DUMMY_COLOUR = "#1f4e9c", "#5b8fd6", "#a8a8a8", "#c0392b"
MAX_PARAM_PANELS = 9

RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text (searchable, escaped by the SVG writer)
    "svg.hashsalt": "automl",  # stable ids, so the same report.json gives the same file
    "text.parse_math": False,  # a "$" in a class name is a dollar sign, not TeX
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


Builder = Callable[[Any, dict[str, Any]], bool]


def render_figures(
    report: dict[str, Any],
    deadline: float | None = None,
    builders: list[tuple[str, Builder]] | None = None,
) -> dict[str, str | None]:
    """Every figure the report has data for, as ``{name: "<svg ...>...</svg>"}``.

    Drawing them is most of what writing a report costs (about 1 s). With a ``deadline`` (on
    ``time.monotonic()``), a figure whose turn comes after it is not drawn: its value is
    None, and ``automl report RUN_DIR`` draws it later from ``report.json``. ``builders``:
    ``(name, draw(figure, report) -> bool)`` pairs, by default a search's figures.
    """
    import matplotlib

    if builders is None:
        builders = [
            ("leaderboard", _leaderboard),
            ("target", _target),
            ("confusion", _confusion),
            ("curves", _curves),
            ("regression", _regression),
            ("history", _history),
            ("params", _params),
            ("importance", _importance),
            ("pareto", _pareto),
        ]
    out: dict[str, str | None] = {}
    # the keys are checked by matplotlib at run time, not by its type hints
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        for name, draw in builders:
            figure = _new_figure()
            if draw(figure, report):  # cheap: the artists; saving lays out and renders
                late = deadline is not None and time.monotonic() >= deadline
                out[name] = None if late else _to_svg(figure, name)
    left_out = [name for name, svg in out.items() if svg is None]
    if left_out:
        several = len(left_out) > 1
        logging.getLogger("automl.report").warning(
            "The time budget ran out before the report's %s %s drawn; report.html says so, "
            "and `automl report RUN_DIR` draws %s from report.json.",
            ", ".join(left_out),
            "plots were" if several else "plot was",
            "them" if several else "it",
        )
    return out


def _new_figure() -> Any:
    from matplotlib.figure import Figure

    # 10 inches = 960 px at 96 dpi: the page's width, so figures are shown at their size.
    return Figure(figsize=(10.0, 3.6), layout="constrained")


def _to_svg(figure: Any, name: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]

    # Several SVGs share one HTML document: prefix their ids so none collides. Only inside
    # tags: text (a class label) is left as it is, and the SVG writer escapes < and > in it.
    def prefix(tag: re.Match) -> str:
        text = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', tag.group(0))
        text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
        return re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', text)

    svg = re.sub(r"<[^<>]+>", prefix, svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name} plot" ', 1)


def _leaderboard(figure, report) -> bool:
    models = [m for m in report["models"] if m["mean"] is not None]
    if not models:
        return False
    not_worse = set(report["comparison"]["not_worse"])
    ax = figure.subplots()
    models = models[::-1]  # best at the top
    for i, m in enumerate(models):
        name = m["algorithm"]
        colour = (
            BEST
            if name == report["best"]
            else TIED
            if name in not_worse
            else DUMMY_COLOUR
            if m["state"] == "reference" or name == "dummy"
            else OTHER
        )
        ax.errorbar(m["mean"], i, xerr=m["std"] or 0, fmt="o", color=colour, capsize=3)
    ax.set_yticks(range(len(models)), [m["algorithm"] for m in models])
    ax.set_xlabel(
        f"{report['metric']} (mean ± std over {report['n_splits']} folds; "
        f"{'higher' if report['greater_is_better'] else 'lower'} is better)"
    )
    ax.set_title("Dark blue: best; blue: not significantly worse; red: dummy model", loc="left")
    figure.set_size_inches(8.0, max(2.0, 0.26 * len(models) + 1.0))
    return True


def _target(figure, report) -> bool:
    data = report["data"]
    ax = figure.subplots()
    figure.set_size_inches(5.0, 2.6)
    if "class_balance" in data:
        classes = data["class_balance"][:30]
        ax.barh(range(len(classes)), [c["count"] for c in classes], color=TIED)
        ax.set_yticks(range(len(classes)), [c["label"] for c in classes])
        ax.invert_yaxis()
        ax.set_xlabel("rows")
        ax.set_title(f"Class balance of {data['target'] or 'the target'}", loc="left")
        figure.set_figheight(max(1.6, 0.25 * len(classes) + 0.9))
        return True
    hist = data["target_distribution"]["histogram"]
    edges = np.asarray(hist["edges"])
    ax.bar(edges[:-1], hist["counts"], width=np.diff(edges), align="edge", color=TIED)
    ax.set_xlabel(str(data["target"] or "target"))
    ax.set_ylabel("rows")
    ax.set_title("Target distribution", loc="left")
    return True


def _confusion(figure, report) -> bool:
    diag = report["diagnostics"]
    if diag.get("kind") != "classification" or len(diag["labels"]) > 30:
        return False
    matrix = np.asarray(diag["confusion"], dtype=float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(diag["labels"])
    figure.set_size_inches(min(9.0, 2.8 + 0.45 * n), min(9.0, 2.0 + 0.45 * n))
    ax = figure.subplots()
    ax.grid(False)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    if n <= 15:
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                f"{int(count)}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.6 else "black",
            )
    ax.set_xticks(
        range(n), diag["labels"], rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center"
    )
    ax.set_yticks(range(n), diag["labels"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    figure.suptitle("Confusion matrix (out of fold)", x=0.02, ha="left", fontsize=9)
    figure.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    return True


def _curves(figure, report) -> bool:
    diag = report["diagnostics"]
    if diag.get("kind") != "classification" or not diag["roc"]:
        return False
    roc_ax, pr_ax = figure.subplots(1, 2)
    for curve in diag["roc"]:
        roc_ax.plot(curve["x"], curve["y"], label=f"{curve['label']} (AUC {curve['auc']:.3f})")
    roc_ax.plot([0, 1], [0, 1], ls="--", color=OTHER, lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate")
    roc_ax.set_title("ROC", loc="left")
    for curve in diag["pr"]:
        pr_ax.plot(curve["x"], curve["y"], label=f"{curve['label']} (AP {curve['ap']:.3f})")
    if len(diag["pr"]) == 1:
        pr_ax.axhline(diag["pr"][0]["prevalence"], ls="--", color=OTHER, lw=1)
    pr_ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.02))
    pr_ax.set_title("Precision-recall", loc="left")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=7, loc="lower right" if ax is roc_ax else "lower left")
    return True


def _regression(figure, report) -> bool:
    diag = report["diagnostics"]
    if diag.get("kind") != "regression":
        return False
    true, predicted = np.asarray(diag["true"]), np.asarray(diag["predicted"])
    residuals = np.asarray(diag["residuals"])
    left, right = figure.subplots(1, 2)
    alpha = 0.6 if len(true) < 500 else 0.3
    left.scatter(true, predicted, s=8, alpha=alpha, color=BEST, edgecolors="none")
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    left.plot([low, high], [low, high], ls="--", color=DUMMY_COLOUR, lw=1)
    left.set(xlabel="true", ylabel="predicted (out of fold)")
    left.set_title(f"Predicted against true ({diag['algorithm']})", loc="left")
    right.scatter(predicted, residuals, s=8, alpha=alpha, color=BEST, edgecolors="none")
    right.axhline(0, ls="--", color=DUMMY_COLOUR, lw=1)
    right.set(xlabel="predicted", ylabel="residual (true − predicted)")
    right.set_title("Residuals", loc="left")
    return True


def _history(figure, report) -> bool:
    search = report.get("search")
    if not search or not any(h["value"] is not None for h in search["history"]):
        return False
    done = [h for h in search["history"] if h["value"] is not None]
    colours = algorithm_colours(sorted({h["algorithm"] for h in done}))
    best = np.maximum.accumulate if search["greater_is_better"] else np.minimum.accumulate
    by_trial, by_time = figure.subplots(1, 2, sharey=True)
    for ax, key, label in (
        (by_trial, "trial", "trial number"),
        (by_time, "seconds", "seconds since the search started"),
    ):
        points = [h for h in done if h[key] is not None]
        if not points:
            continue
        order = np.argsort([h[key] for h in points], kind="stable")
        x = np.asarray([points[i][key] for i in order], dtype=float)
        y = np.asarray([points[i]["value"] for i in order], dtype=float)
        for name, colour in colours.items():
            mine = [i for i, j in enumerate(order) if points[j]["algorithm"] == name]
            ax.scatter(x[mine], y[mine], s=12, color=colour, label=name, alpha=0.8)
        ax.step(x, best(y), where="post", color="black", lw=1.2, label="best so far")
        ax.set_xlabel(label)
    by_trial.set_ylabel(report["metric"])
    by_trial.set_title("Optimisation history", loc="left")
    by_time.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return True


def _params(figure, report) -> bool:
    search = report.get("search")
    params = (search or {}).get("params") or []
    if not params:
        return False
    params = params[:MAX_PARAM_PANELS]
    columns = min(3, len(params))
    rows = -(-len(params) // columns)
    figure.set_size_inches(3.2 * columns + 0.4, 2.3 * rows + 0.4)
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax, p in zip(axes, params):
        scores = np.asarray(p["scores"], dtype=float)
        if p["kind"] == "categorical":
            levels = sorted(set(p["values"]))
            x = np.asarray([levels.index(v) for v in p["values"]], dtype=float)
            x += np.random.default_rng(0).uniform(-0.15, 0.15, len(x))
            ax.set_xticks(range(len(levels)), levels, rotation=30 if len(levels) > 3 else 0)
        else:
            x = np.asarray(p["values"], dtype=float)
            if p["log"]:
                _log_axis(ax)
        ax.scatter(x, scores, s=10, color=BEST, alpha=0.7)
        ax.set_xlabel(p["name"])
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    axes[0].set_ylabel(report["metric"])
    figure.suptitle(
        f"{report['metric']} against each hyperparameter of {search['algorithm']}",
        x=0.01,
        ha="left",
        fontsize=9,
    )
    return True


def _importance(figure, report) -> bool:
    values = ((report.get("search") or {}).get("importance") or {}).get("values") or {}
    if not values:
        return False
    names = sorted(values, key=lambda n: values[n])
    ax = figure.subplots()
    ax.barh(range(len(names)), [values[n] for n in names], color=BEST)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("importance (share of the score's variance, fANOVA)")
    ax.set_title(f"Hyperparameter importance for {report['search']['algorithm']}", loc="left")
    figure.set_size_inches(7.0, max(1.8, 0.3 * len(names) + 1.0))
    return True


def _pareto(figure, report) -> bool:
    pareto = report.get("pareto")
    if not pareto or not pareto["points"]:
        return False
    costs = pareto["costs"]
    axes = np.atleast_1d(figure.subplots(1, len(costs), sharey=True))
    points = pareto["points"]
    labels = {"predict_latency_ms": "ms to predict 1,000 rows (log)", "model_size_mb": "MB (log)"}
    for ax, cost in zip(axes, costs):
        rest = [p for p in points if not p["on_front"]]
        front = sorted((p for p in points if p["on_front"]), key=lambda p: p[cost])
        ax.scatter(
            [p[cost] for p in rest],
            [p["score"] for p in rest],
            s=12,
            color=OTHER,
            label="other trials",
        )
        ax.scatter(
            [p[cost] for p in front],
            [p["score"] for p in front],
            s=22,
            color=BEST,
            label="Pareto front",
            zorder=3,
        )
        chosen = [p for p in points if p["trial"] == pareto["chosen"]]
        ax.scatter(
            [p[cost] for p in chosen],
            [p["score"] for p in chosen],
            s=160,
            marker="*",
            color=DUMMY_COLOUR,
            label="final model",
            zorder=4,
        )
        bound = pareto["constraints"].get(cost.rsplit("_", 1)[0])
        if bound is not None:
            ax.axvline(bound, color=DUMMY_COLOUR, ls="--", lw=1, label="constraint")
        ax.set_xscale("log")
        ax.set_xlabel(labels.get(cost, cost))
    axes[0].set_ylabel(report["metric"])
    axes[0].set_title("Accuracy against deployment cost", loc="left")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return True


def _log_axis(ax: Any) -> None:
    """A log x axis with plain tick labels (the default ones are TeX, and TeX is off)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def algorithm_colours(names: list[str]) -> dict[str, str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: to_hex(palette(i % palette.N)) for i, name in enumerate(names)}
