"""The HTML page of a report: inline CSS, inline SVG figures, no script, no external asset.

Every data-derived string is escaped with :func:`automl.report.text.e`; the SVG figures
are matplotlib's output, whose text is escaped by its SVG writer.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from automl.report.plots import render_figures
from automl.report.text import (
    FIGURE_CAPTIONS,
    LEADERBOARD_HEADER,
    e,
    headline,
    leaderboard_rows,
    method_notes,
    num,
    other_metric_rows,
    pareto_rows,
    refined_space_rows,
    rounds_rows,
    subtitle,
    title,
)

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --best: #1f4e9c; --tied: #e8f0fb;
        --bad: #fbeaea; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line);
     padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0 0 16px; }
.headline { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--best);
            padding: 12px 16px; border-radius: 4px; }
.headline p { margin: 4px 0; }
.headline p:first-child { font-size: 16px; font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px;
        min-width: 120px; }
.card b { display: block; font-size: 17px; }
.card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; background: #fff; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #dbe7fa; font-weight: 600; }
#leaderboard td { white-space: nowrap; }
tr.tied td { background: var(--tied); }
tr.failed td { background: var(--bad); }
.scroll { overflow-x: auto; }
figure { margin: 12px 0; background: #fff; border: 1px solid var(--line); border-radius: 4px;
         padding: 8px; }
figure svg { max-width: 100%; height: auto; display: block; }

figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
.note, .muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
              overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--best); margin: 8px 0; }
ul.notes li { margin: 4px 0; }
"""


def page(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    """The whole document."""
    sections = [
        _header(r),
        _leaderboard(r, figures),
        _nested(r),
        _rounds(r),
        _pareto(r, figures),
        _diagnostics(r, figures),
        _search(r, figures),
        _data(r, figures),
        _method(r),
    ]
    return document(title(r), sections)


def document(page_title: str, sections: list[str]) -> str:
    """A self-contained HTML page of ``sections`` (empty ones left out)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{e(page_title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(s for s in sections if s)
        + "\n</main>\n</body>\n</html>\n"
    )


def figure_html(figures: dict[str, str | None], name: str) -> str:
    if name not in figures:
        return ""
    if figures[name] is None:
        return (
            f'<p class="note" id="plot-{name}">The {e(name)} plot was left out: the time '
            "budget ran out while the report was written. <code>automl report RUN_DIR</code> "
            "draws it from report.json.</p>"
        )
    return (
        f'<figure class="plot" id="plot-{name}">{figures[name]}'
        f"<figcaption>{e(FIGURE_CAPTIONS.get(name, ''))}</figcaption></figure>"
    )


def table(
    header: list[str],
    rows: list[list[str]],
    table_id: str = "",
    row_classes: list[str] | None = None,
    numeric: AbstractSet[int] = frozenset(),
) -> str:
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(
            f'<td class="num">{e(c)}</td>' if j in numeric else f"<td>{e(c)}</td>"
            for j, c in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _header(r: dict[str, Any]) -> str:
    data = r["data"]
    complete = sum(m["state"] == "complete" for m in r["models"])
    cards = [
        (data["n_rows"], "rows"),
        (data["n_columns"], "feature columns"),
        (data["missing_cells"], "missing cells"),
        (r["task"], "task"),
        (complete, "models compared"),
    ]
    elapsed = (r.get("timing") or {}).get("elapsed")
    if elapsed is not None:
        cards.append(
            (f"{elapsed:.1f} s", "baseline time" if r["kind"] == "baseline" else "fit time")
        )
    lines = "".join(f"<p>{e(line)}</p>" for line in headline(r))
    return (
        f'<header><h1>{e(title(r))}</h1><p class="subtitle">{e(subtitle(r))}</p>'
        f'<section class="headline" id="headline">{lines}</section>'
        f'<div class="cards">'
        + "".join(f'<div class="card"><b>{e(v)}</b><span>{e(k)}</span></div>' for v, k in cards)
        + "</div></header>"
    )


def _leaderboard(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    not_worse = set(r["comparison"]["not_worse"])
    classes = [
        "best"
        if m["algorithm"] == r["best"]
        else "failed"
        if m["state"] == "failed"
        else "tied"
        if m["algorithm"] in not_worse
        else ""
        for m in r["models"]
    ]
    header = [h.format(metric=r["metric"]) for h in LEADERBOARD_HEADER]
    parts = [
        '<section id="leaderboard-section"><h2>Leaderboard</h2>',
        table(header, leaderboard_rows(r), "leaderboard", classes, {0, 2, 3, 4, 6, 7, 8}),
        '<p class="note">Highlighted: the best model and those not significantly worse '
        f"({e(r['comparison']['test'])}, α = {e(r['comparison']['alpha'])}). Δ: how much "
        "better the best scored, averaged over the folds; p: one-sided p-value of "
        '"this model is worse".</p>',
        figure_html(figures, "leaderboard"),
    ]
    failed = [m for m in r["models"] if m["error"]]
    if failed:
        parts.append(
            "<h3>Errors</h3><ul>"
            + "".join(
                f"<li><b>{e(m['algorithm'])}</b>: <code>{e(m['error'])}</code></li>" for m in failed
            )
            + "</ul>"
        )
    other = other_metric_rows(r)
    if other:
        parts += [
            "<h3>Other metrics (mean ± std over the same folds)</h3>",
            table(other[0], other[1], "other-metrics", numeric=set(range(1, len(other[0])))),
        ]
    configs = [
        [m["algorithm"], ", ".join(f"{k}={v}" for k, v in (m["params"] or {}).items())]
        for m in r["models"]
        if m["params"]
    ]
    if configs:
        parts.append(
            "<details><summary>Configurations</summary>"
            + table(["algorithm", "parameters"], configs, "configurations")
            + "</details>"
        )
    return "".join(parts) + "</section>"


def _nested(r: dict[str, Any]) -> str:
    n = r.get("nested")
    if not n:
        return ""
    low, high = n["ci95"]
    folds = [
        [
            str(f.get("fold")),
            f.get("algorithm"),
            num(f.get(n["metric"])),
            num(f.get("inner_best")),
            str(f.get("trials")),
            num(f.get("seconds"), 3),
        ]
        for f in n["folds"]
    ]
    return (
        '<section id="nested"><h2>Nested cross-validation: expected score on new data</h2>'
        f"<p><b>{e(n['metric'])} {e(num(n['mean']))} ± {e(num(n['std']))}</b>, 95% interval "
        f"{e(num(low))} to {e(num(high))} ({e(n['ci_method'])}). The inner best of the same "
        f"searches was {e(num(n['inner_best_mean']))}: optimism {e(num(n['optimism']))} "
        "(positive: the inner score flattered the model).</p>"
        + table(
            [
                "outer fold",
                "chosen algorithm",
                f"outer {n['metric']}",
                "inner best",
                "trials",
                "seconds",
            ],
            folds,
            "nested-folds",
            numeric={0, 2, 3, 4, 5},
        )
        + "</section>"
    )


def _rounds(r: dict[str, Any]) -> str:
    rounds = r.get("rounds")
    if not rounds:
        return ""
    header, rows = rounds_rows(r)
    space_header, space_rows = refined_space_rows(r)
    return (
        '<section id="rounds"><h2>Refinement rounds</h2>'
        + table(header, rows, "rounds-table", numeric={0, 2, 3, 6})
        + f"<p>The final model comes from round {rounds['final_round']}. "
        f"{e(rounds['note'])}</p>"
        f"<p>The last round's space ({e(rounds['rule'])}):</p>"
        + table(space_header, space_rows, "refined-space")
        + "</section>"
    )


def _pareto(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    if not r.get("pareto"):
        return ""
    header, rows = pareto_rows(r)
    return (
        '<section id="pareto"><h2>Accuracy against deployment cost: the Pareto front</h2>'
        '<p class="note">Costs measured on each trial\'s model of its last training fold: '
        "milliseconds to predict 1,000 rows on one thread (median after a warm-up) and MB "
        "pickled. Pick another point with <code>model.select(X, y, max_latency_ms=..., "
        "max_size_mb=...)</code>.</p>"
        + table(header, rows, "pareto-front", numeric={0, 2, 3, 4})
        + figure_html(figures, "pareto")
        + "</section>"
    )


def _diagnostics(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    d = r["diagnostics"]
    if d["kind"] == "unavailable":
        text, plots = "", ""
    elif d["kind"] == "regression":
        text = (
            f"rmse {num(d['rmse'])}, mae {num(d['mae'])}, r² {num(d['r2'])} over "
            f"{d['n']} rows ({d['n_plotted']} plotted)."
        )
        plots = figure_html(figures, "regression")
    else:
        text = f"Accuracy {num(d['accuracy'])} over {d['n']} rows. {d.get('curves_note', '')}"
        plots = f'<div class="grid">{figure_html(figures, "confusion")}</div>' + figure_html(
            figures, "curves"
        )
    return (
        f'<section id="diagnostics"><h2>Diagnostics of {e(d["algorithm"])}</h2>'
        f'<p class="note">From {e(d.get("folds", ""))}. {e(text)}</p>{plots}</section>'
    )


def _search(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    search = r.get("search")
    if not search:
        return (
            '<section id="search"><h2>Search</h2><p class="note">A baseline runs one '
            "default configuration per algorithm: there is no optimisation history. Run "
            "<code>automl fit</code> for a search, and its report.</p></section>"
        )
    imp = search.get("importance") or {}
    note = f"{imp.get('method', '')}. {imp.get('note', '')}"
    return (
        '<section id="search"><h2>Search</h2>'
        + figure_html(figures, "history")
        + figure_html(figures, "params")
        + figure_html(figures, "importance")
        + f'<p class="note">Importance: {e(note)}</p></section>'
    )


def _data(r: dict[str, Any], figures: dict[str, str | None]) -> str:
    d = r["data"]
    facts = [
        ["rows", d["n_rows"]],
        ["feature columns", d["n_columns"]],
        ["numeric", d["n_numeric"]],
        ["categorical", d["n_categorical"]],
        ["dropped (no information)", ", ".join(d["dropped"]) or "none"],
        ["missing cells", f"{d['missing_cells']} in {d['rows_with_missing']} rows"],
        ["target", d["target"] or "(unnamed)"],
    ]
    if "target_distribution" in d:
        t = d["target_distribution"]
        facts.append(["target mean ± std", f"{num(t['mean'])} ± {num(t['std'])}"])
        facts.append(
            ["target min / median / max", f"{num(t['min'])} / {num(t['median'])} / {num(t['max'])}"]
        )
    else:
        facts.append(
            [
                "class balance",
                ", ".join(
                    f"{c['label']}: {c['count']} ({c['share']:.1%})"
                    for c in d["class_balance"][:20]
                ),
            ]
        )
    columns = [[c["name"], c["kind"], str(c["missing"]), str(c["distinct"])] for c in d["columns"]]
    more = (
        f" (first {d['columns_listed']} of {d['n_columns']})"
        if d["columns_listed"] < d["n_columns"]
        else ""
    )
    return (
        '<section id="data"><h2>Data</h2><div class="grid"><div>'
        + table(["", "value"], [[k, str(v)] for k, v in facts], "data-summary")
        + "</div>"
        + figure_html(figures, "target")
        + "</div>"
        + f"<details><summary>Columns{e(more)}</summary>"
        + table(
            ["column", "kind", "missing", "distinct values"], columns, "columns", numeric={2, 3}
        )
        + "</details></section>"
    )


def _method(r: dict[str, Any]) -> str:
    return (
        '<section id="method"><h2>Method</h2><ul class="notes">'
        + "".join(f"<li>{e(n)}</li>" for n in method_notes(r))
        + "</ul></section>"
    )


def to_html(r: dict[str, Any], deadline: float | None = None) -> str:
    """The report as one HTML file with every asset inline (no network, no script); figures
    not drawn by ``deadline`` (see :func:`render_figures`) are left out with a note."""
    return page(r, render_figures(r, deadline))
