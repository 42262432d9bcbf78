"""Markdown tables from result files: ``python -m benchmarks.summarize results.jsonl [...]``.

Per task instance (data set, outer fold, seed) each system's primary test metric (roc_auc
binary, log_loss multiclass, rmse regression) is normalised: 0 = the dummy model (prior or
mean), 1 = the best system on that instance. A failed run counts as the dummy (0) and ranks
last. Two systems tie when their normalised scores differ by less than ``TIE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

TIE = 0.01  # normalised-score difference below which two systems tie (1% of dummy-to-best)
GREATER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
INSTANCE = ["dataset", "fold", "seed"]


def load(paths: list[str], by_engine: bool = False) -> pd.DataFrame:
    """Result rows; with ``by_engine``, systems are named SYSTEM@ENGINE."""
    rows = [
        json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()
    ]
    if not rows:
        raise SystemExit(f"No result rows in {paths}.")
    frame = pd.DataFrame(rows)
    if "engine" not in frame:
        frame["engine"] = None
    if by_engine:
        frame["system"] = frame["system"] + "@" + frame["engine"].fillna("?")
    # A re-run of the same key keeps its last row.
    return frame.drop_duplicates(INSTANCE + ["system", "budget"], keep="last").reset_index(
        drop=True
    )


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``norm`` (0 dummy, 1 best), ``rank`` (1 best, averaged ties) per task instance."""
    frame = frame[frame["status"].isin(["ok", "failed"])].copy()
    sign = frame["primary_metric"].map(lambda m: 1.0 if GREATER_IS_BETTER[m] else -1.0)
    frame["oriented"] = np.where(frame["status"] == "ok", frame["score"] * sign, np.nan)
    frame["oriented_dummy"] = frame["dummy_score"] * sign
    best = frame.groupby(INSTANCE)["oriented"].transform("max")
    gap = (best - frame["oriented_dummy"]).where(lambda g: g.abs() > 1e-12)
    frame["norm"] = ((frame["oriented"] - frame["oriented_dummy"]) / gap).fillna(0.0)
    frame["rank"] = (
        frame["oriented"]
        .fillna(-np.inf)
        .groupby([frame[c] for c in INSTANCE])
        .rank(ascending=False, method="average")
    )
    return frame


def pairwise(frame: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    """'wins/ties/losses' of the row system against the column system, over task instances."""
    wide = frame.pivot_table(index=INSTANCE, columns="system", values="norm")
    table = pd.DataFrame("", index=systems, columns=systems)
    for a in systems:
        for b in systems:
            if a == b:
                table.loc[a, b] = "—"
                continue
            both = wide[[a, b]].dropna()
            d = both[a] - both[b]
            table.loc[a, b] = f"{(d >= TIE).sum()}/{(d.abs() < TIE).sum()}/{(d <= -TIE).sum()}"
    return table


def overall(frame: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    out = []
    for s in systems:
        g = frame[frame["system"] == s]
        ok = g[g["status"] == "ok"]
        budgeted = not s.endswith("_default")
        opt = {m: ok.loc[ok["primary_metric"] == m, "optimism"].dropna() for m in GREATER_IS_BETTER}
        rmse = ok[ok["primary_metric"] == "rmse"]
        rel = (rmse["optimism"] / rmse["score"]).dropna() * 100
        out.append(
            {
                "system": s,
                "runs ok": f"{len(ok)}/{len(g)}",
                "mean norm. score": g["norm"].mean(),
                "mean rank": g["rank"].mean(),
                "median overrun s": ok["overrun"].median() if budgeted else np.nan,
                "max overrun s": ok["overrun"].max() if budgeted else np.nan,
                "median fit/budget": (ok["fit_time"] / ok["budget"]).median()
                if budgeted
                else np.nan,
                "max fit/budget": (ok["fit_time"] / ok["budget"]).max() if budgeted else np.nan,
                "optimism AUC": opt["roc_auc"].mean() if len(opt["roc_auc"]) else np.nan,
                "optimism log_loss": opt["log_loss"].mean() if len(opt["log_loss"]) else np.nan,
                "optimism rmse %": rel.mean() if len(rel) else np.nan,
                "median trials": ok["n_trials"].median(),
                "median first model s": ok["time_to_first_model"].median(),
                "median predict µs/row": (ok["predict_time_per_row"] * 1e6).median(),
                "median peak MB": ok["peak_memory_mb"].median(),
            }
        )
    return pd.DataFrame(out).set_index("system")


def score_matrix(frame: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    """Data sets x systems: the primary test metric (mean over folds and seeds), best in bold."""
    ok = frame[frame["status"] == "ok"]
    wide = ok.pivot_table(index="dataset", columns="system", values="score", aggfunc="mean")
    order = list(dict.fromkeys(frame["dataset"]))
    metric = frame.groupby("dataset")["primary_metric"].first()
    table = pd.DataFrame(index=order, columns=["metric"] + systems, dtype=object)
    for d in order:
        table.loc[d, "metric"] = metric[d]
        values = wide.loc[d] if d in wide.index else pd.Series(dtype=float)
        present = values.dropna()
        best = (
            (present.max() if GREATER_IS_BETTER[metric[d]] else present.min())
            if len(present)
            else None
        )
        for s in systems:
            v = values.get(s, np.nan)
            table.loc[d, s] = (
                "failed"
                if pd.isna(v)
                else (f"**{_fmt(v)}**" if best is not None and np.isclose(v, best) else _fmt(v))
            )
    return table


def per_dataset(frame: pd.DataFrame, dataset: str, systems: list[str]) -> pd.DataFrame:
    g = frame[frame["dataset"] == dataset]
    metric_names = sorted({k for m in g["metrics"].dropna() for k in m})
    out = []
    for s in systems:
        r = g[g["system"] == s]
        if r.empty:
            continue
        ok = r[r["status"] == "ok"]
        row = {"system": s, "norm.": r["norm"].mean(), "rank": r["rank"].mean()}
        for m in metric_names:
            row[m] = (
                ok["metrics"].map(lambda d, m=m: d.get(m, np.nan)).mean() if len(ok) else np.nan
            )
        row.update(
            {
                "fit s": ok["fit_time"].mean(),
                "trials": ok["n_trials"].mean(),
                "first model s": ok["time_to_first_model"].mean(),
                "predict µs/row": (ok["predict_time_per_row"] * 1e6).mean(),
                "peak MB": ok["peak_memory_mb"].mean(),
                "self-reported": ok["val_score"].mean(),
                "optimism": ok["optimism"].mean(),
                "error": "; ".join(str(e)[:120] for e in r.loc[r["status"] != "ok", "error"]),
            }
        )
        out.append(row)
    return pd.DataFrame(out).set_index("system")


def _fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    v = float(v)
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.3g}"
    return f"{v:.4g}" if abs(v) < 100 else f"{v:.1f}"


def to_markdown(table: pd.DataFrame, index_name: str) -> str:
    cols = [index_name] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in table.iterrows():
        lines.append("| " + " | ".join([str(idx)] + [_fmt(v) for v in row]) + " |")
    return "\n".join(lines)


def publish(sections: list[str], raw: list[pd.DataFrame], out: str | None) -> None:
    """Print the sections; with ``out``, write them there and the raw rows next to it (CSV)."""
    print("\n\n".join(sections))
    if out:
        path = Path(out)
        path.write_text("\n\n".join(sections) + "\n")
        pd.concat(raw).to_csv(path.with_suffix(".csv"), index=False)


def report(frame: pd.DataFrame) -> str:
    unavailable = frame[frame["status"] == "unavailable"]
    systems = list(dict.fromkeys(frame.loc[frame["status"] != "unavailable", "system"]))
    scored = normalise(frame)
    datasets = list(dict.fromkeys(scored["dataset"]))
    parts = [
        f"{len(datasets)} data sets, {scored.groupby(INSTANCE).ngroups} task instances, "
        f"budget {', '.join(_fmt(b) for b in sorted(scored['budget'].unique()))} s, "
        f"engine {', '.join(sorted(scored['engine'].dropna().unique())) or '?'}.",
        "",
        "### Overall",
        "",
        to_markdown(overall(scored, systems), "system"),
        "",
        "Normalised score: 0 = dummy, 1 = best system on the task instance (failed runs "
        "count 0). Overrun: fit wall time minus the budget (n/a for the unbudgeted "
        "defaults). Optimism: the system's own validation score minus its test score, "
        "oriented so that positive = optimistic (AUC points; log_loss; rmse as % of the "
        "test rmse).",
        "",
        f"### Wins/ties/losses (row against column; tie: normalised scores within {TIE})",
        "",
        to_markdown(pairwise(scored, systems), "system"),
        "",
        "### Test score per data set (roc_auc ↑ binary, log_loss ↓ multiclass, rmse ↓ regression)",
        "",
        to_markdown(score_matrix(scored, systems), "data set"),
    ]
    if not unavailable.empty:
        parts += ["", "### Unavailable systems", ""]
        for s, g in unavailable.groupby("system"):
            parts.append(f"- {s}: {g['error'].iloc[-1]}")
    parts += ["", "### Per data set", ""]
    for d in datasets:
        task = scored.loc[scored["dataset"] == d, "task"].iloc[0]
        parts += [
            f"#### {d} ({task})",
            "",
            to_markdown(per_dataset(scored, d, systems), "system"),
            "",
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.summarize",
        description="Markdown tables from benchmark result files.",
    )
    p.add_argument("results", nargs="+", help="JSON-lines files written by benchmarks.run")
    p.add_argument("--out", help="write the Markdown here instead of printing it")
    p.add_argument(
        "--by-engine",
        action="store_true",
        help="name systems SYSTEM@ENGINE, to compare engine versions side by side",
    )
    args = p.parse_args(argv)
    text = report(load(args.results, args.by_engine))
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
