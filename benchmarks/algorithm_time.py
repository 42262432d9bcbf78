"""Where a search's time went: the share spent on algorithms that never came close to the best.

    python -m benchmarks.algorithm_time results.jsonl [...] [--close 0.98]

Reads the per-algorithm trial seconds and best inner-CV scores that ``fit_automl`` records
(``details.algorithm_seconds``, ``details.algorithm_best``). An algorithm is *far* on a run
when its best inner score, normalised as (score - inner dummy) / (best - inner dummy), is
below ``--close`` (default 0.98). Prints, per automl system, the median over data sets of
the share of trial seconds spent on far algorithms, and the per-data-set shares.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.summarize import GREATER_IS_BETTER, to_markdown


def far_share(row: dict, close: float) -> float | None:
    """Share of the trial seconds of one run spent on far algorithms (None: not recorded)."""
    details = row.get("details") or {}
    seconds, best = details.get("algorithm_seconds"), details.get("algorithm_best")
    if not seconds or not best:
        return None
    sign = 1.0 if GREATER_IS_BETTER[row["primary_metric"]] else -1.0
    oriented = {a: sign * v for a, v in best.items()}
    top, dummy = max(oriented.values()), sign * details["inner_dummy"]
    span = top - dummy
    if not np.isfinite(span) or span <= 0:
        return None
    far = {a for a, v in oriented.items() if (v - dummy) / span < close}
    # algorithms with no complete trial (all failed or pruned) never came close either
    far |= set(seconds) - set(best)
    total = sum(seconds.values())
    return sum(s for a, s in seconds.items() if a in far) / total if total else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON-lines result files")
    parser.add_argument("--close", type=float, default=0.98, help="normalised score bar")
    args = parser.parse_args(argv)
    rows = [
        json.loads(line)
        for path in args.results
        for line in Path(path).read_text().splitlines()
        if line.strip()
    ]
    shares = pd.DataFrame(
        [
            {"dataset": r["dataset"], "system": r["system"], "share": far_share(r, args.close)}
            for r in rows
            if r.get("status") == "ok"
        ]
    ).dropna()
    if shares.empty:
        raise SystemExit("No run records per-algorithm seconds (details.algorithm_seconds).")
    table = shares.pivot_table(index="dataset", columns="system", values="share")
    print(f"Share of trial seconds on algorithms below {args.close} normalised (inner CV)\n")
    print(to_markdown(table.round(3), "data set"))
    print("\nmedian: " + ", ".join(f"{s} {v:.3f}" for s, v in table.median().items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
