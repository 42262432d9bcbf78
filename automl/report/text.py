"""What the HTML and Markdown renderers share: escaping, numbers, headlines, table rows.

Every string that comes from the data or from a model (column names, class labels,
algorithm names, parameter values, error messages) goes through :func:`html.escape` in
HTML and through :func:`md` in Markdown, so a column named ``<script>alert(1)</script>``
is shown as text. The HTML has no external asset and no script: styles are inline and
the figures are inline SVG (see :mod:`automl.report.plots`).
"""

from __future__ import annotations

import html
import re
from typing import Any

FIGURE_CAPTIONS = {
    "leaderboard": "Mean ± standard deviation over the folds of each model.",
    "target": "The target as the models saw it.",
    "confusion": "Rows: the true class; columns: the predicted class (most probable); "
    "colour: share of the true class's rows.",
    "curves": "One-vs-rest for multiclass targets. Dashed: a model without skill.",
    "regression": "Each point is a row predicted by a model that did not train on it.",
    "history": "Each point is a completed trial; the line is the best score so far.",
    "params": "Each point is a completed trial of the best algorithm.",
    "importance": "How much of the variation of the score each hyperparameter explains.",
    "pareto": "Each point is a completed trial; the front is the trials no other beats on "
    "accuracy and on every cost; the star is the final model.",
}


def e(value: Any) -> str:
    """Text for HTML: escaped, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def md(value: Any) -> str:
    """Text for a Markdown table cell: HTML, emphasis, links and pipes neutralised."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)
    return " ".join(text.split())


def num(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` decimals (scientific notation from 100,000); "—" for None."""
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        if abs(value) >= 1e5:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}f}"
    return str(value)


def pvalue(value: Any) -> str:
    """A p-value with three decimals, "< 0.001" below that."""
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def mean_std(m: dict[str, Any]) -> str:
    """``mean ± std`` of a model entry, or just the mean when there is no spread."""
    if m.get("mean") is None:
        return "—"
    return num(m["mean"]) + ("" if m.get("std") is None else f" ± {num(m['std'])}")


def size(value: Any) -> str:
    """Bytes in B, kB, MB or GB (powers of 1,000)."""
    if value is None:
        return "—"
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return "—"


def headline(r: dict[str, Any]) -> list[str]:
    """The sentences a reader sees first (plain text, not escaped)."""
    best = next(m for m in r["models"] if m["algorithm"] == r["best"])
    dummy = next((m for m in r["models"] if m["algorithm"] == "dummy"), None)
    lines = [
        f"Best: {r['best']}, {r['metric']} {mean_std(best)} over {r['n_splits']} folds"
        + (f" (dummy model {num(dummy['mean'])})." if dummy else ".")
    ]
    ensemble = next((m for m in r["models"] if m["state"] == "ensemble"), None)
    if ensemble:
        members = ", ".join(
            f"{m['algorithm']} (trial {m['trial']}) {m['weight']:.2f}" for m in ensemble["members"]
        )
        lines.append(
            f"Final model: an ensemble of {len(ensemble['members'])} trials, weighted "
            f"{members}; {r['metric']} {mean_std(ensemble)} on the same folds, an optimistic "
            "figure (members and weights were chosen on them)."
        )
    tied = [n for n in r["comparison"]["not_worse"] if n != r["best"]]
    lines.append(
        "Not significantly worse than the best on the same folds: "
        + (", ".join(tied) if tied else "none")
        + "."
    )
    nested = r.get("nested")
    if nested:
        low, high = nested["ci95"]
        lines.append(
            f"Expected on new data (nested CV): {nested['metric']} {num(nested['mean'])}, "
            f"95% interval {num(low)} to {num(high)}; the inner best was "
            f"{num(nested['inner_best_mean'])} (optimism {num(nested['optimism'])})."
        )
    return lines


def leaderboard_rows(r: dict[str, Any]) -> list[list[str]]:
    """The leaderboard as plain text cells (escaped by the caller)."""
    rows = []
    for rank, m in enumerate(r["models"], 1):
        c = m.get("comparison") or {}
        verdict = (
            "best"
            if m["algorithm"] == r["best"]
            else ""
            if not c
            else "not tested (one fold)"
            if c.get("p") is None
            else "worse"
            if c["worse"]
            else "not significantly worse"
        )
        rows.append(
            [
                str(rank),
                m["algorithm"],
                mean_std(m),
                num(c.get("difference")) if c and m["algorithm"] != r["best"] else "",
                pvalue(c.get("p")) if c and m["algorithm"] != r["best"] else "",
                verdict,
                num(m["fit_time"], 3),
                num(m["predict_ms_per_1000"], 1),
                size(m["size_bytes"]),
                m["state"],
            ]
        )
    return rows


LEADERBOARD_HEADER = [
    "#",
    "algorithm",
    "{metric} mean ± std",
    "Δ vs best",
    "p",
    "vs best",
    "fit s/fold",
    "predict ms/1,000 rows",
    "size",
    "state",
]


def method_notes(r: dict[str, Any]) -> list[str]:
    comparison = r["comparison"]
    notes = [
        f"Folds: {r['cv']}. Every model in the leaderboard was scored on the same folds.",
        f"Paired comparison: {comparison['test']}, α = {comparison['alpha']}, on the per-fold "
        f"differences with {r['best']}. Fold scores share training rows, so the plain paired "
        "t-test is too confident; the variance is inflated by 1/k + n_test/n_train "
        f"(here n_test/n_train = {num(comparison['test_train_ratio'], 3)}). With few folds the "
        "test has little power: 'not significantly worse' means the folds cannot tell the "
        "models apart. The best was picked on these same folds, which favours it slightly.",
        "Fit time: seconds per fold fit"
        + (" (median over the folds)" if r["kind"] == "baseline" else " (mean over the folds)")
        + ". Predict: milliseconds for a batch of 1,000 rows on one thread. "
        "Size: the pickled pipeline"
        + (
            " fitted on the first fold."
            if r["kind"] == "baseline"
            else " of the configuration fitted on all rows."
        ),
        f"Diagnostics: {r['diagnostics'].get('folds', '')}.",
    ]
    if r["kind"] == "baseline":
        notes.append(
            "Each algorithm runs its default configuration: the one that opens every search."
        )
    else:
        notes.append("Leaderboard: the best trial of each algorithm in the search.")
    return notes


def other_metric_rows(r: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    names = sorted({k for m in r["models"] for k in (m.get("other_metrics") or {})})
    if not names:
        return None
    rows = [
        [m["algorithm"], *[mean_std(m["other_metrics"].get(n, {})) for n in names]]
        for m in r["models"]
        if m.get("other_metrics")
    ]
    return ["algorithm", *names], rows


def title(r: dict[str, Any]) -> str:
    return (
        "Baseline: default configurations compared"
        if r["kind"] == "baseline"
        else "Search report: the best model of each algorithm compared"
    )


def subtitle(r: dict[str, Any]) -> str:
    return (
        f"{r['task']} task, metric {r['metric']} "
        f"({'higher' if r['greater_is_better'] else 'lower'} is better); target "
        f"{r['data']['target'] or '(unnamed)'}; automl {r['automl_version']}, {r['created']}"
    )


def rounds_rows(r: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The refinement rounds as a table: one row per round."""
    metric = r["metric"]
    header = ["round", "study", "trials", "complete", "algorithms", "best algorithm", metric]
    rows = [
        [
            str(x["round"]),
            str(x["study"]),
            str(x["trials"]),
            str(x["complete"]),
            str(x["algorithms"]),
            str(x["best_algorithm"]),
            num(x.get(metric)),
        ]
        for x in r["rounds"]["rounds"]
    ]
    return header, rows


def refined_space_rows(r: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """What narrowing kept, dropped and changed, one row per algorithm or parameter."""
    header = ["algorithm", "parameter", "before", "after"]
    rows = [[x["algorithm"], x["param"], x["before"], x["after"]] for x in r["rounds"]["space"]]
    return header, rows


def pareto_rows(r: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The Pareto front as a table, most accurate first; the final model marked."""
    pareto = r["pareto"]
    header = ["trial", "algorithm", r["metric"], *pareto["costs"], "feasible", ""]
    front = sorted(pareto["front"], key=lambda p: p["score"], reverse=r["greater_is_better"])
    rows = [
        [
            str(p["trial"]),
            p["algorithm"],
            num(p["score"]),
            *(num(p[c], 3) for c in pareto["costs"]),
            "yes" if p["feasible"] else "no",
            "final model" if p["trial"] == pareto["chosen"] else "",
        ]
        for p in front
    ]
    return header, rows
