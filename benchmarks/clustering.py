"""Clustering searches on labelled data sets: how close the clusters come to the classes.

    python -m benchmarks.clustering --datasets ../shared/datasets \\
        --only vehicle,eucalyptus,cmc --metric dbcv --budget 30 --out <name>.jsonl
    python -m benchmarks.clustering --summarize <a.jsonl> <b.jsonl> ... --out <name>.md

The classes of a classification data set are one grouping of its rows among many, not
ground truth for clusters, so the adjusted Rand index (ARI) with them measures agreement
with that one grouping. Compared side by side, objectives that find groups closer to the
classes on most sets are the ones a user with such data would want.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import load_manifest, read_table
from benchmarks.summarize import to_markdown


def run_one(dataset, metric: str, budget: float, seed: int) -> dict:
    import automl

    X, y = read_table(dataset.path, dataset.target, dataset.task)
    started = time.monotonic()
    model = automl.cluster(X, time_budget=budget, metric=metric, random_state=seed, evaluate_with=y)
    return {
        "dataset": dataset.name,
        "metric": metric,
        "rows": len(X),
        "classes": int(len(np.unique(y))),
        "seconds": round(time.monotonic() - started, 1),
        "trials": int(model.n_trials_),
        "algorithm": model.best_algorithm_,
        "clusters": int(model.n_clusters_),
        "noise": float(np.mean(model.labels_ == -1)),
        "ari": model.external_scores_["adjusted_rand"],
        "nmi": model.external_scores_["normalized_mutual_info"],
        "structure": bool(model.null_reference_["structure"]),
    }


def summarize(paths: list[Path]) -> str:
    rows = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line]
    frame = pd.DataFrame(rows)
    wide = frame.pivot_table(
        index="dataset", columns="metric", values=["ari", "clusters"], aggfunc="first"
    )
    wide.columns = [f"{value} ({metric})" for value, metric in wide.columns]
    per_metric = frame.groupby("metric").agg(
        median_ari=("ari", "median"),
        mean_ari=("ari", "mean"),
        median_seconds=("seconds", "median"),
        structure=("structure", "sum"),
        runs=("ari", "size"),
    )
    return to_markdown(wide, "dataset") + "\n\n" + to_markdown(per_metric, "metric") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets")
    parser.add_argument("--only", help="comma-separated data set names")
    parser.add_argument("--metric", default="dbcv")
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--summarize", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.summarize:
        text = summarize(args.summarize)
        args.out.write_text(text)
        print(text)
        return 0
    names = args.only.split(",") if args.only else None
    with open(args.out, "a") as out:
        for dataset in load_manifest(args.datasets, names):
            if dataset.task == "regression":
                continue
            row = run_one(dataset, args.metric, args.budget, args.seed)
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
