"""The report as Markdown: the same sections as the HTML page, tables instead of figures.

Every string from the data or a model goes through :func:`automl.report.text.md`.
"""

from __future__ import annotations

from typing import Any

from automl.report.text import (
    LEADERBOARD_HEADER,
    headline,
    leaderboard_rows,
    md,
    method_notes,
    num,
    other_metric_rows,
    pareto_rows,
    refined_space_rows,
    rounds_rows,
    subtitle,
    title,
)


def to_markdown(r: dict[str, Any]) -> str:
    """The report as Markdown: the same sections as the HTML, tables instead of figures."""
    out = [f"# {md(title(r))}", "", f"_{md(subtitle(r))}_", ""]
    out += [f"- {md(line)}" for line in headline(r)] + [""]
    out += [
        "## Leaderboard",
        "",
        md_table([h.format(metric=r["metric"]) for h in LEADERBOARD_HEADER], leaderboard_rows(r)),
        "",
    ]
    failed = [m for m in r["models"] if m["error"]]
    if failed:
        out += ["Errors:", ""] + [f"- {md(m['algorithm'])}: {md(m['error'])}" for m in failed]
        out.append("")
    other = other_metric_rows(r)
    if other:
        out += ["## Other metrics", "", md_table(other[0], other[1]), ""]
    if r.get("nested"):
        n = r["nested"]
        out += [
            "## Nested cross-validation",
            "",
            f"{md(n['metric'])}: {num(n['mean'])} ± {num(n['std'])}, 95% interval "
            f"{num(n['ci95'][0])} to {num(n['ci95'][1])} ({md(n['ci_method'])}); inner "
            f"best {num(n['inner_best_mean'])}, optimism {num(n['optimism'])}.",
            "",
        ]
    rounds = r.get("rounds")
    if rounds:
        header, rows = rounds_rows(r)
        space_header, space_rows = refined_space_rows(r)
        out += [
            "## Refinement rounds",
            "",
            md_table(header, rows),
            "",
            f"The final model comes from round {rounds['final_round']}. {md(rounds['note'])}",
            "",
            f"The last round's space ({md(rounds['rule'])}):",
            "",
            md_table(space_header, space_rows),
            "",
        ]
    if r.get("pareto"):
        header, rows = pareto_rows(r)
        out += [
            "## Accuracy against deployment cost: the Pareto front",
            "",
            md_table(header, rows),
            "",
        ]
    out += ["## Diagnostics (out of fold)", "", *_md_diagnostics(r), ""]
    imp = (r.get("search") or {}).get("importance") or {}
    if imp.get("values"):
        out += [
            f"## Hyperparameter importance ({md(r['search']['algorithm'])})",
            "",
            md_table(
                ["parameter", "importance"],
                [[k, num(v, 3)] for k, v in sorted(imp["values"].items(), key=lambda kv: -kv[1])],
            ),
            "",
        ]
    out += ["## Data", "", *_md_data(r["data"]), "", "## Method", ""]
    out += [f"- {md(n)}" for n in method_notes(r)]
    out += ["", "Figures are in report.html.", ""]
    return "\n".join(out)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_diagnostics(r: dict[str, Any]) -> list[str]:
    d = r["diagnostics"]
    lines = [f"Model: {md(d['algorithm'])}; {md(d.get('folds', ''))}.", ""]
    if d["kind"] == "unavailable":
        return lines
    if d["kind"] == "regression":
        return lines + [
            f"rmse {num(d['rmse'])}, mae {num(d['mae'])}, r2 {num(d['r2'])} over {d['n']} rows."
        ]
    curves = [
        f"{md(roc['label'])}: ROC AUC {num(roc['auc'], 3)}, AP {num(pr['ap'], 3)}"
        for roc, pr in zip(d["roc"], d["pr"])
    ]
    lines.append(f"Accuracy {num(d['accuracy'])}; " + "; ".join(curves) + ".")
    if len(d["labels"]) <= 15:
        lines += [
            "",
            "Confusion matrix (rows true, columns predicted):",
            "",
            md_table(
                ["true \\ predicted", *d["labels"]],
                [[label, *map(str, row)] for label, row in zip(d["labels"], d["confusion"])],
            ),
        ]
    return lines


def _md_data(data: dict[str, Any]) -> list[str]:
    lines = [
        f"{data['n_rows']} rows; {data['n_columns']} feature columns: "
        f"{data['n_numeric']} numeric, {data['n_categorical']} categorical, "
        f"{len(data['dropped'])} dropped ({md(', '.join(data['dropped'])) or 'none'}); "
        f"{data['missing_cells']} missing cells in {data['rows_with_missing']} rows; "
        f"target {md(data['target'] or '(unnamed)')}.",
        "",
    ]
    if "class_balance" in data:
        lines.append(
            md_table(
                ["class", "rows", "share"],
                [[c["label"], str(c["count"]), f"{c['share']:.1%}"] for c in data["class_balance"]],
            )
        )
    else:
        t = data["target_distribution"]
        lines.append(
            md_table(
                ["mean", "std", "min", "median", "max"],
                [[num(t[k]) for k in ("mean", "std", "min", "median", "max")]],
            )
        )
    return lines
