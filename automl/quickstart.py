"""The README's first command: a search on scikit-learn's breast cancer data.

``python -m automl.quickstart [--time-budget 60] [--outer-cv 5] [--out automl-quickstart]``
estimates the score on new data by nested CV, fits the final model, prints the best trial
of each algorithm and the summary, and saves the model file (``model.automl``, as
``automl fit`` writes it: load it with ``automl predict`` or :func:`automl.load_model`), the
leaderboard (CSV) and the comparison report (HTML, Markdown, JSON), all within the budget.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

# Imported here, before the budget's clock (as automl fit does): the report's and the model
# file's libraries take seconds to import the first time.
import matplotlib.figure  # noqa: F401
import skops.io  # noqa: F401
from sklearn.datasets import load_breast_cancer

import automl
from automl.persistence import EXPECTED_SAVE_SECONDS, save_model
from automl.report import expected_write_seconds, figures_deadline, write_report
from automl.results import summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m automl.quickstart",
        description="Search the best model for scikit-learn's breast cancer data set (569 "
        "tumours, 30 numeric features, malignant or benign), print the leaderboard "
        "and save the fitted pipeline.",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=60.0,
        help="seconds for everything: the outer searches, the final search, its refit, "
        "the model file and the report (default: 60)",
    )
    parser.add_argument(
        "--outer-cv",
        type=int,
        default=5,
        help="outer folds of nested cross-validation, for an honest estimate "
        "of the score on new data; 0 to skip (default: 5)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("automl-quickstart"),
        help="folder for model.automl, leaderboard.csv and the report (default: automl-quickstart)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    data = load_breast_cancer(as_frame=True).frame
    X, y = data.drop(columns="target"), data["target"]
    writing = expected_write_seconds(X.size) + EXPECTED_SAVE_SECONDS
    print(
        f"Searching for {args.time_budget:g}s on breast_cancer ({len(data)} rows)...",
        file=sys.stderr,
    )
    result = automl.fit(
        data,
        target="target",
        time_budget=max(args.time_budget - writing, args.time_budget / 2),
        outer_cv=args.outer_cv or None,
        random_state=args.seed,
    )
    board = result.leaderboard_
    complete = board[board["state"] == "complete"]
    # The best trial of each algorithm: the comparison a reader wants first.
    per_algorithm = complete.drop_duplicates("algorithm").assign(
        trials=lambda t: t["algorithm"].map(board["algorithm"].value_counts())
    )
    print(
        per_algorithm[
            ["algorithm", result.metric_, "std", "fit_time", "trials", "trial"]
        ].to_string(index=False)
    )
    print()
    print(summary(result))
    args.out.mkdir(parents=True, exist_ok=True)
    saved = [save_model(result, X, args.out / "model.automl")]
    board.to_csv(args.out / "leaderboard.csv", index=False)
    saved += [
        args.out / "leaderboard.csv",
        *write_report(
            result, X, y, args.out, deadline=figures_deadline(started, args.time_budget)
        ).values(),
    ]
    print(f"Saved {', '.join(str(p) for p in saved)}.")
    print(f"Predict with: automl predict {args.out / 'model.automl'} new.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
