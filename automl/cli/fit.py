"""``automl fit DATA --target COL``: search, save the model, the leaderboard and a summary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

import automl
from automl.cli import EXIT_INTERRUPTED, UsageError
from automl.cli.options import CV_HELP, parse_cv, read_configurations
from automl.cli.progress import ProgressLine
from automl.cli.refining import read_run, refine_arguments, search_settings
from automl.cli.tables import read_table
from automl.ensemble import DEFAULT_SIZE as ENSEMBLE_SIZE
from automl.execution import EXECUTORS
from automl.persistence import EXPECTED_SAVE_SECONDS, save_model
from automl.report import expected_write_seconds, figures_deadline, write_report
from automl.results import summary
from automl.search import STRATEGIES

logger = logging.getLogger("automl.cli")

# The search never gets less than this share of the budget, whatever the outputs cost.
MIN_SEARCH_SHARE = 0.25


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="search the best model for a table and save it",
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
    parser.add_argument(
        "data",
        help="training data: a .csv or .parquet file with a header row, or - for CSV on "
        "standard input",
    )
    parser.add_argument(
        "--target",
        help="name of the column to predict (required, except with --task clustering)",
    )
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression", "clustering"),
        help="override the task inferred from the target column; clustering: group the "
        "rows without a target (the search scores clusterings by DBCV by default, see the "
        "README)",
    )
    parser.add_argument(
        "--evaluate-with",
        metavar="COLUMN",
        help="with --task clustering: a column of labels you have, left out of the features "
        "and compared with the clusters afterwards (adjusted Rand, NMI); never used by the "
        "search",
    )
    parser.add_argument(
        "--metric",
        help="metric to optimise (default: roc_auc for binary, "
        "log_loss for multiclass, rmse for regression, dbcv for clustering)",
    )
    parser.add_argument(
        "--objectives",
        metavar="METRIC,COST",
        help="search for the trade-off between accuracy and deployment costs: the metric "
        "first (instead of --metric), then predict_latency (ms to predict 1,000 rows on one "
        "thread) and/or model_size (MB), e.g. roc_auc,predict_latency. The final model is "
        "the most accurate trial of the front (within --max-latency-ms / --max-size-mb); "
        "pareto.csv and the report list the front. No pruning or ensemble; the times make "
        "a seeded run not exactly reproducible",
    )
    parser.add_argument(
        "--max-latency-ms",
        type=float,
        metavar="MS",
        help="trials slower than this (ms to predict 1,000 rows) are infeasible; the final "
        "model is the most accurate feasible one",
    )
    parser.add_argument(
        "--max-size-mb",
        type=float,
        metavar="MB",
        help="trials whose pickled pipeline is larger are infeasible",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall-clock seconds for the whole job, counted once the command "
        "has started: search, final model, report and model file "
        "(default: 60)",
    )
    parser.add_argument("--trials", type=int, metavar="N", help="stop after N trials")
    parser.add_argument(
        "--algorithms",
        metavar="A,B",
        help="comma-separated algorithms to search (default: all; see 'automl algorithms')",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="bayesian",
        help="how configurations are chosen (default: bayesian); manual: only those "
        "of --configurations",
    )
    parser.add_argument(
        "--configurations",
        metavar="FILE",
        help="configurations to evaluate first (with --strategy manual: only these), from "
        "a TOML file of [[configurations]] tables or a JSON list, each with its "
        "'algorithm' and parameter values (missing ones take their defaults)",
    )
    parser.add_argument("--cv", default="auto", metavar="K_OR_FRACTION", help=CV_HELP)
    parser.add_argument(
        "--outer-cv",
        type=int,
        metavar="K",
        help="also estimate the score on new data by nested CV with K outer "
        "folds (shares the time budget)",
    )
    parser.add_argument(
        "--portfolio",
        default="none",
        metavar="FILE",
        help="the configurations the search opens with: 'none' (each algorithm's default, "
        "the default), 'builtin' (learned on other data sets; see BENCHMARKS.md), or a "
        "TOML file of [[configurations]] tables",
    )
    parser.add_argument(
        "--early-stopping",
        choices=["auto", "on", "off"],
        default="off",
        help="find the boosting rounds of LightGBM, XGBoost and HistGradientBoosting by early "
        "stopping on part of each fold's training rows ('on'), or search them ('off'); "
        "'auto': on when the data has more than 10,000 rows (default: off)",
    )
    parser.add_argument(
        "--no-ensemble",
        action="store_true",
        help="return the best single pipeline, not a weighted ensemble of the best trials "
        "(by default an ensemble is built when it beats the best trial on the folds)",
    )
    parser.add_argument(
        "--ensemble-size",
        type=int,
        default=ENSEMBLE_SIZE,
        metavar="N",
        help=f"rounds of greedy ensemble selection, members counted with repetition "
        f"(default: {ENSEMBLE_SIZE})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="trials run at once, each in its own worker process; -1: one per core (default: 1)",
    )
    parser.add_argument(
        "--trial-time-limit",
        type=float,
        metavar="SECONDS",
        help="kill a trial that runs longer and record it as 'timeout' "
        "(default: a quarter of the time budget)",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        metavar="MB",
        help="kill a trial whose worker uses more resident memory and record "
        "it as 'memory' (default: 75%% of the machine's memory, shared "
        "by the workers)",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="processes",
        help="where trials run: 'processes' (worker processes with hard "
        "limits, the default) or 'inprocess' (this process, one at a "
        "time, no limits; for debugging)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the trials on the workers of this Dask scheduler "
        "(tcp://HOST:8786; needs automl[dask]); trials at once = the "
        "workers' threads, and --jobs only sets the outer searches of "
        "--outer-cv run at once",
    )
    parser.add_argument(
        "--spaces",
        nargs="*",
        default=[],
        metavar="FILE",
        help="your own search space files (TOML) to add; with --refine, the round's "
        "space files (e.g. RUN_DIR/refined_space/*.toml after editing)",
    )
    parser.add_argument(
        "--refine",
        type=Path,
        metavar="RUN_DIR",
        help="run one more round of the search in RUN_DIR (the --out of an earlier fit, on "
        "the same DATA) over a space narrowed from its trials: algorithms significantly "
        "worse than the best dropped, ranges shrunk around the best trials. The narrowed "
        "space is written to RUN_DIR/refined_space/*.toml; edit those files and pass them "
        "with --spaces to search your version instead. RUN_DIR's outputs are replaced by "
        "the refined model's (never worse: the last best is the round's first trial)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage URL for the trials (default: "
        "sqlite:///OUT/search.db; PostgreSQL: "
        "postgresql+psycopg://USER@HOST/DB, with automl[postgres])",
    )
    parser.add_argument(
        "--study",
        default="automl",
        metavar="NAME",
        help="the study's name in the storage; one storage can hold many "
        "searches (default: automl)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the search stored in the storage: finished trials are "
        "kept, the budget counts what is left; refused if DATA or the "
        "settings changed",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("automl-run"),
        metavar="DIR",
        help="output folder (default: ./automl-run)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    _import_output_libraries()
    started = time.monotonic()  # the budget's clock: the command line parsed, automl imported
    if args.strategy == "manual" and not args.configurations:
        raise UsageError(
            "--strategy manual evaluates only given configurations; add --configurations FILE."
        )
    run_summary = read_run(args) if args.refine else None
    configurations = read_configurations(args.configurations) if args.configurations else None
    _check_target_options(args)
    frame = read_table(args.data)
    if args.task == "clustering":
        return _cluster(frame, args, started)
    if args.target not in frame.columns:
        # validate_data would say the same; saying it before creating OUT keeps the disk clean
        automl.data.validate_data(frame, target=args.target)
    if run_summary is not None:
        args.out = args.refine
    args.out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{(args.out / 'search.db').resolve()}"
    settings: dict[str, Any] = dict(
        **_search_settings(args, storage),
        time_budget=_search_budget(args, frame, started),
        cv=parse_cv(args.cv),
        configurations=configurations,
        outer_cv=args.outer_cv,
        ensemble=not args.no_ensemble,
        early_stopping={"on": True, "off": False, "auto": "auto"}[args.early_stopping],
        portfolio={"builtin": True, "none": False}.get(args.portfolio, args.portfolio),
        ensemble_size=args.ensemble_size,
        objectives=[o.strip() for o in args.objectives.split(",")] if args.objectives else None,
        constraints={
            name: bound
            for name, bound in (
                ("predict_latency", args.max_latency_ms),
                ("model_size", args.max_size_mb),
            )
            if bound is not None
        }
        or None,
    )
    with ProgressLine(enabled=not args.quiet):
        if run_summary is None:
            model = automl.fit(frame, target=args.target, task=args.task, **settings)
        else:
            model = _refine(frame, args, settings, run_summary)
    X = frame.drop(columns=[args.target])
    kept = search_settings(model, args, storage) if run_summary is None else run_summary["settings"]
    written = _write_outputs(model, X, frame[args.target], args, storage, started, kept)
    _print_summary(model)
    print("Wrote " + ", ".join(str(p) for p in written) + ".")
    if getattr(model, "interrupted_", False):
        # The outputs hold the finished trials, but the search did not end on its own:
        # scripts see the usual exit status of Ctrl-C.
        print(
            f"The search was interrupted; continue it with --resume --out {args.out}.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def _search_settings(args: argparse.Namespace, storage: str) -> dict[str, Any]:
    """The estimator settings a supervised search and a clustering share."""
    return dict(
        n_trials=args.trials,
        metric=args.metric,
        strategy=args.strategy,
        algorithms=[a.strip() for a in args.algorithms.split(",")] if args.algorithms else None,
        spaces=args.spaces,
        n_jobs=args.jobs,
        executor=args.executor,
        scheduler=args.scheduler,
        trial_time_limit=args.trial_time_limit,
        memory_limit=args.memory_limit,
        storage=storage,
        study_name=args.study,
        resume=args.resume,
        random_state=args.seed,
    )


def _search_budget(args: argparse.Namespace, frame, started: float) -> float:
    """The search's seconds: the job's budget less what writing the report and the model
    file is expected to take and what reading DATA took, never under MIN_SEARCH_SHARE."""
    floor = MIN_SEARCH_SHARE * args.time_budget
    budget = max(args.time_budget - _output_seconds(frame), floor)
    return max(budget - (time.monotonic() - started), floor)


def _check_target_options(args: argparse.Namespace) -> None:
    if args.task == "clustering":
        if args.target:
            raise UsageError(
                "--task clustering groups rows without a target; drop --target (to compare "
                f"the clusters with labels you have, use --evaluate-with {args.target})."
            )
        return
    if not args.target:
        raise UsageError(
            "--target is required: the name of the column to predict (only --task "
            "clustering runs without one)."
        )
    if args.evaluate_with:
        raise UsageError("--evaluate-with is for --task clustering; the target is --target.")


def _cluster(frame, args: argparse.Namespace, started: float) -> int:
    """``--task clustering``: the search, the model file, leaderboard, summary and report."""
    truth = None
    if args.evaluate_with:
        if args.evaluate_with not in frame.columns:
            raise UsageError(
                f"--evaluate-with {args.evaluate_with!r}: no such column; columns are "
                f"{list(frame.columns)[:20]}."
            )
        truth = frame.pop(args.evaluate_with).to_numpy()
    args.out.mkdir(parents=True, exist_ok=True)
    storage = args.storage or f"sqlite:///{(args.out / 'search.db').resolve()}"
    with ProgressLine(enabled=not args.quiet):
        model = automl.cluster(
            frame,
            time_budget=_search_budget(args, frame, started),
            evaluate_with=truth,
            **_search_settings(args, storage),
        )
    written = _write_outputs(model, frame, None, args, storage, started, None)
    # the cluster of every input row, in input order (-1: noise)
    pd.DataFrame({"cluster": model.labels_}).to_csv(args.out / "clusters.csv", index=False)
    written.append(args.out / "clusters.csv")
    _print_summary(model)
    print("Wrote " + ", ".join(str(p) for p in written) + ".")
    return EXIT_INTERRUPTED if getattr(model, "interrupted_", False) else 0


def _refine(frame, args: argparse.Namespace, settings: dict[str, Any], run_summary: dict):
    """One more round of the search in ``args.refine``, with this job's budget and workers."""
    execution = {
        k: settings[k]
        for k in (
            "n_trials",
            "n_jobs",
            "executor",
            "scheduler",
            "trial_time_limit",
            "memory_limit",
            "ensemble",
            "ensemble_size",
        )
    }
    kwargs = refine_arguments(run_summary, args)
    model = automl.refine(
        frame, target=args.target, time_budget=settings["time_budget"], **kwargs, **execution
    )
    if not args.quiet:
        print(model.refined_space_.describe(), file=sys.stderr)
    return model


def _import_output_libraries() -> None:
    """automl imports matplotlib and skops when it first writes; here, before the clock."""
    import matplotlib.figure  # noqa: F401
    import skops.io  # noqa: F401


def _output_seconds(frame) -> float:
    """Expected seconds to write the report and the model file for a table this size."""
    return expected_write_seconds(frame.size) + EXPECTED_SAVE_SECONDS


def _write_outputs(
    model, X, y, args, storage: str, started: float, settings: dict[str, Any] | None
) -> list[Path]:
    """The model file, leaderboard, summary (``settings``: what ``--refine`` reruns the
    search with; None for a clustering) and report, into ``args.out``."""
    out = args.out
    paths = [save_model(model, X, out / "model.automl")]
    board = model.leaderboard_.copy()
    board["params"] = board["params"].map(lambda p: json.dumps(p, default=str))
    board.to_csv(out / "leaderboard.csv", index=False)
    paths.append(out / "leaderboard.csv")
    front = getattr(model, "pareto_front_", None)
    if front is not None:
        front = front.copy()
        front["params"] = front["params"].map(lambda p: json.dumps(p, default=str))
        front.to_csv(out / "pareto.csv", index=False)
        paths.append(out / "pareto.csv")
    counts = board["state"].value_counts().to_dict()
    result = {
        "data": "<standard input>" if args.data == "-" else str(args.data),
        "target": args.target,
        "task": model.profile_.task,
        "metric": model.metric_,
        "best_algorithm": model.best_algorithm_,
        "best_params": model.best_params_,
        "best_cv_score": model.best_score_,
        "dummy_cv_score": model.dummy_score_,
        "trials": int(model.n_trials_),
        "trial_states": {k: int(v) for k, v in counts.items()},
        "seconds": time.monotonic() - started,
        "fitted_on": model.fitted_on_,
        "ensemble": None
        if model.ensemble_ is None
        else {
            "cv_score": model.ensemble_score_,
            "members": model.ensemble_[["trial", "algorithm", "weight"]].to_dict("records"),
        },
        "time_budget": args.time_budget,
        "storage": storage,
        "study": model.study_.study_name,
        "settings": settings,
        "clusters": getattr(model, "n_clusters_", None),
        "null_reference": getattr(model, "null_reference_", None),
        "external_scores": getattr(model, "external_scores_", None),
        "rounds": None
        if getattr(model, "rounds_", None) is None
        else model.rounds_.to_dict("records"),
        "nested_cv": None
        if getattr(model, "nested_cv_", None) is None
        else {k: v for k, v in model.nested_cv_.to_dict().items() if k != "folds"},
    }
    (out / "summary.json").write_text(json.dumps(result, indent=2, default=str))
    paths.append(out / "summary.json")
    paths.extend(
        write_report(
            model, X, y, out, deadline=figures_deadline(started, args.time_budget)
        ).values()
    )
    return paths


def _print_summary(model) -> None:
    board = model.leaderboard_
    complete = board[board["state"] == "complete"]
    per_algorithm = complete.drop_duplicates("algorithm")
    print(
        per_algorithm[["algorithm", model.metric_, "std", "fit_time", "trial"]].to_string(
            index=False
        )
    )
    front = getattr(model, "pareto_front_", None)
    if front is not None:
        print()
        print("Pareto front (most accurate first):")
        print(front.drop(columns=["params"]).to_string(index=False))
    print()
    print(summary(model))
