"""The README's first command: a search on scikit-learn's breast cancer data.

``python -m automl.quickstart [--time-budget 30] [--out automl-quickstart]`` fits a model,
prints the leaderboard, and saves the fitted pipeline (joblib) and the leaderboard (CSV).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_breast_cancer

import automl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m automl.quickstart",
        description="Search the best model for scikit-learn's breast cancer data set (569 "
                    "tumours, 30 numeric features, malignant or benign), print the leaderboard "
                    "and save the fitted pipeline.",
    )
    parser.add_argument("--time-budget", type=float, default=30.0,
                        help="seconds for the whole search and refit (default: 30)")
    parser.add_argument("--out", type=Path, default=Path("automl-quickstart"),
                        help="folder for model.joblib and leaderboard.csv")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    data = load_breast_cancer(as_frame=True).frame
    print(f"Searching for {args.time_budget:g}s on breast_cancer ({len(data)} rows)...",
          file=sys.stderr)
    result = automl.fit(data, target="target", time_budget=args.time_budget,
                        random_state=args.seed)
    board = result.leaderboard_
    complete = board[board["state"] == "complete"]
    # The best trial of each algorithm: the comparison a reader wants first.
    per_algorithm = complete.drop_duplicates("algorithm").assign(
        trials=lambda t: t["algorithm"].map(board["algorithm"].value_counts()))
    print(per_algorithm[["algorithm", result.metric_, "std", "fit_time", "trials", "trial"]]
          .to_string(index=False))
    print(f"\nBest: {result.best_algorithm_}, {result.metric_} {result.best_score_:.4f} "
          f"(inner {result.n_splits_}-fold CV; dummy model {result.dummy_score_:.4f}); "
          f"{result.n_trials_} trials in {result.fit_time_:.1f}s.")
    args.out.mkdir(parents=True, exist_ok=True)
    joblib.dump(result.best_pipeline_, args.out / "model.joblib")
    board.to_csv(args.out / "leaderboard.csv", index=False)
    print(f"Saved {args.out / 'model.joblib'} and {args.out / 'leaderboard.csv'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
