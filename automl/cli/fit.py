"""``automl fit DATA --target COL``: search, save the model, the leaderboard and a summary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import automl
from automl.cli.options import CV_HELP, parse_cv
from automl.cli.progress import ProgressLine
from automl.cli.tables import read_table
from automl.persistence import save_model
from automl.report import summary
from automl.search import STRATEGIES

logger = logging.getLogger("automl.cli")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit", help="search the best model for a table and save it",
        description="Search algorithms and their hyperparameters jointly for predicting "
                    "--target from the other columns of DATA (CSV or Parquet), then save the "
                    "best pipeline and what the search found into --out. Every finished trial "
                    "is stored as it finishes (in OUT/search.db unless --storage says "
                    "otherwise), so an interrupted run continues with --resume.",
        epilog="Example: automl fit churn.csv --target churned --time-budget 120 --outer-cv 5 "
               "--out churn-run/   Writes model.automl (load with 'automl predict'), "
               "leaderboard.csv and summary.json. Model files are skops archives that load "
               "without running code, but only open model files from sources you trust.",
    )
    parser.add_argument("data", help="training data: a .csv or .parquet file with a header row")
    parser.add_argument("--target", required=True, help="name of the column to predict")
    parser.add_argument("--task", choices=("binary", "multiclass", "regression"),
                        help="override the task inferred from the target column")
    parser.add_argument("--metric", help="metric to optimise (default: roc_auc for binary, "
                        "log_loss for multiclass, rmse for regression)")
    parser.add_argument("--time-budget", type=float, default=60.0, metavar="SECONDS",
                        help="wall-clock seconds for the whole job (default: 60)")
    parser.add_argument("--trials", type=int, metavar="N", help="stop after N trials")
    parser.add_argument("--algorithms", metavar="A,B",
                        help="comma-separated algorithms to search (default: all; see "
                             "'automl algorithms')")
    parser.add_argument("--strategy", choices=STRATEGIES, default="bayesian",
                        help="how configurations are chosen (default: bayesian)")
    parser.add_argument("--cv", default="auto", metavar="K_OR_FRACTION", help=CV_HELP)
    parser.add_argument("--outer-cv", type=int, metavar="K",
                        help="also estimate the score on new data by nested CV with K outer "
                             "folds (shares the time budget)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="processes for the outer folds of --outer-cv (default: 1)")
    parser.add_argument("--spaces", nargs="*", default=[], metavar="FILE",
                        help="your own search space files (TOML) to add")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage URL for the trials (default: sqlite:///OUT/search.db)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the search stored in the storage: finished trials are "
                             "kept, the budget counts what is left; refused if DATA or the "
                             "settings changed")
    parser.add_argument("--out", type=Path, default=Path("automl-run"), metavar="DIR",
                        help="output folder (default: ./automl-run)")
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    frame = read_table(args.data)
    if args.target not in frame.columns:
        # validate_data would say the same; saying it before creating OUT keeps the disk clean
        automl.data.validate_data(frame, target=args.target)
    args.out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{(args.out / 'search.db').resolve()}"
    settings: dict[str, Any] = dict(
        time_budget=args.time_budget, n_trials=args.trials, metric=args.metric,
        cv=parse_cv(args.cv), strategy=args.strategy, outer_cv=args.outer_cv,
        n_jobs=args.jobs, spaces=args.spaces, storage=storage, resume=args.resume,
        random_state=args.seed,
        algorithms=[a.strip() for a in args.algorithms.split(",")] if args.algorithms else None,
    )
    show_progress = sys.stdout.isatty() and not args.quiet
    started = time.monotonic()
    with ProgressLine(enabled=show_progress):
        model = automl.fit(frame, target=args.target, task=args.task, **settings)
    X = frame.drop(columns=[args.target])
    written = _write_outputs(model, X, frame[args.target], args, storage, time.monotonic() - started)
    _print_summary(model)
    print("Wrote " + ", ".join(str(p) for p in written) + ".")
    return 0


def _write_outputs(model, X, y, args, storage: str, seconds: float) -> list[Path]:
    out = args.out
    paths = [save_model(model, X, out / "model.automl")]
    board = model.leaderboard_.copy()
    board["params"] = board["params"].map(lambda p: json.dumps(p, default=str))
    board.to_csv(out / "leaderboard.csv", index=False)
    paths.append(out / "leaderboard.csv")
    counts = board["state"].value_counts().to_dict()
    result = {
        "data": str(args.data), "target": args.target, "task": model.profile_.task,
        "metric": model.metric_, "best_algorithm": model.best_algorithm_,
        "best_params": model.best_params_, "best_cv_score": model.best_score_,
        "dummy_cv_score": model.dummy_score_, "trials": int(model.n_trials_),
        "trial_states": {k: int(v) for k, v in counts.items()}, "seconds": seconds,
        "time_budget": args.time_budget, "storage": storage,
        "nested_cv": None if getattr(model, "nested_cv_", None) is None
        else {k: v for k, v in model.nested_cv_.to_dict().items() if k != "folds"},
    }
    (out / "summary.json").write_text(json.dumps(result, indent=2, default=str))
    paths.append(out / "summary.json")
    write_report = getattr(automl.report, "write_report", None)
    if write_report is not None:  # the HTML report, when that feature is installed
        paths.extend(write_report(model, X, y, out).values())
    return paths


def _print_summary(model) -> None:
    board = model.leaderboard_
    complete = board[board["state"] == "complete"]
    per_algorithm = complete.drop_duplicates("algorithm")
    print(per_algorithm[["algorithm", model.metric_, "std", "fit_time", "trial"]]
          .to_string(index=False))
    print()
    print(summary(model))
