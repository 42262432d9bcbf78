"""The accuracy / latency front of a multi-objective search, per data set.

    python -m benchmarks.pareto --datasets ../shared/datasets --only phoneme,vehicle,abalone \\
        --budget 60 --seed 0 --out benchmarks/results/<name>.md

On a 75/25 holdout of each data set (the runner's ``outer_splits``), one search with
``objectives=[metric, "predict_latency"]`` on the training rows. From its front: the most
accurate trial (the final model) and the fastest trial whose inner score is within 0.5% of
it (relative), their measured latencies (ms per 1,000 rows, one thread) and the ratio; both
are then refit (the final model, and ``select`` with that latency as the bound) and scored
on the test rows, so the accuracy given up is measured on data the search never saw.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.data import load_manifest, outer_splits, read_table
from benchmarks.metrics import PRIMARY
from benchmarks.summarize import to_markdown

CLOSE = 0.005


def within(score: float, best: float, greater: bool) -> bool:
    """Whether ``score`` is within CLOSE (relative) of ``best``."""
    return score >= best - CLOSE * abs(best) if greater else score <= best + CLOSE * abs(best)


def test_score(pipeline, X, y, task: str, metric: str) -> float:
    from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score

    if task == "regression":
        return float(np.sqrt(mean_squared_error(y, pipeline.predict(X))))
    proba = pipeline.predict_proba(X)
    if metric == "roc_auc":
        return float(roc_auc_score(y, proba[:, 1]))
    return float(log_loss(y, proba, labels=pipeline.classes_))


def run_one(dataset, budget: float, seed: int) -> dict:
    import automl

    X, y = read_table(dataset.path, dataset.target, dataset.task)
    ((train, test),) = outer_splits(y, dataset.task, 1, seed)
    metric, greater = PRIMARY[dataset.task]
    started = time.monotonic()
    model = automl.fit(
        X.iloc[train],
        y[train],
        task=dataset.task,
        time_budget=budget,
        random_state=seed,
        objectives=[metric, "predict_latency"],
    )
    seconds = time.monotonic() - started
    front = model.pareto_front_
    best = front.iloc[0]
    close = front[[within(s, best[metric], greater) for s in front[metric]]]
    fastest = close.sort_values("predict_latency_ms", kind="stable").iloc[0]
    chosen = model.select(X.iloc[train], y[train], max_latency_ms=fastest["predict_latency_ms"])
    X_test, y_test = X.iloc[test], y[test]
    return {
        "dataset": dataset.name,
        "metric": metric,
        "seconds": round(seconds, 1),
        "trials": int(model.n_trials_),
        "front": len(front),
        "best_algorithm": best["algorithm"],
        "best_inner": float(best[metric]),
        "best_ms": float(best["predict_latency_ms"]),
        "best_test": test_score(model.best_pipeline_, X_test, y_test, dataset.task, metric),
        "fastest_algorithm": fastest["algorithm"],
        "fastest_inner": float(fastest[metric]),
        "fastest_ms": float(fastest["predict_latency_ms"]),
        "fastest_test": test_score(chosen, X_test, y_test, dataset.task, metric),
        "latency_ratio": float(best["predict_latency_ms"] / fastest["predict_latency_ms"]),
        "front_points": front.drop(columns=["params"]).to_dict("records"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", required=True)
    parser.add_argument("--only", required=True, help="comma-separated data set names")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, required=True, help="a .md file (and .jsonl next to it)"
    )
    args = parser.parse_args(argv)
    rows = []
    for dataset in load_manifest(args.datasets, args.only.split(",")):
        row = run_one(dataset, args.budget, args.seed)
        print(json.dumps({k: v for k, v in row.items() if k != "front_points"}), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out.with_suffix(".jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
    columns = [
        "metric",
        "trials",
        "front",
        "best_algorithm",
        "best_inner",
        "best_test",
        "best_ms",
        "fastest_algorithm",
        "fastest_inner",
        "fastest_test",
        "fastest_ms",
        "latency_ratio",
    ]
    table = pd.DataFrame(rows).set_index("dataset")[columns]
    ratios = [row["latency_ratio"] for row in rows]
    text = to_markdown(table, "dataset") + f"\n\nMedian latency ratio: {np.median(ratios):.3g}\n"
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
