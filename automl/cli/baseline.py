"""``automl baseline DATA --target COL``: every algorithm at its defaults, scored in seconds."""

from __future__ import annotations

import argparse

import pandas as pd

from automl.cli.options import CV_HELP, parse_cv
from automl.cli.tables import read_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "baseline",
        help="score the dummy model and every algorithm at its defaults",
        description="A baseline in seconds: fit the dummy model and every algorithm that "
        "applies to the task at its default configuration (the one that opens "
        "every search), all on the same cross-validation folds. Prints a "
        "leaderboard (score mean ± std, fit time, predict time per 1,000 rows, "
        "model size) and, with --out, writes a comparison report (HTML, Markdown "
        "and JSON) to that folder.",
        epilog="Example: automl baseline train.csv --target churn --out baseline/   "
        "then open baseline/report.html in a browser.",
    )
    parser.add_argument("data", help="the table: a .csv or .parquet file, one row per example")
    parser.add_argument(
        "--target", required=True, metavar="COL", help="name of the column to predict"
    )
    parser.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="override the task inferred from the target column",
    )
    parser.add_argument(
        "--metric",
        help="metric to rank by (default: roc_auc for binary, "
        "log_loss for multiclass, rmse for regression)",
    )
    parser.add_argument(
        "--cv",
        default="auto",
        metavar="K_OR_FRACTION",
        help=CV_HELP + "; the same folds for all models",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for the folds and the models (default: 0); the same seed "
        "gives the same folds as 'automl fit --seed'",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="stop starting new algorithms after this many seconds (they "
        "run cheapest first); default: run them all",
    )
    parser.add_argument(
        "--algorithms",
        nargs="+",
        metavar="NAME",
        help="only these algorithms (see 'automl algorithms')",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="write report.html, report.md and report.json to this folder"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the leaderboard")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from automl.baselines import baseline
    from automl.report import write_report

    table = read_table(args.data)
    result = baseline(
        table,
        target=args.target,
        task=args.task,
        metric=args.metric,
        cv=parse_cv(args.cv),
        algorithms=args.algorithms,
        time_budget=args.time_budget,
        random_state=args.seed,
    )
    print(format_leaderboard(result.leaderboard, result.metric))
    print(result.summary())
    if args.out:
        X = table.drop(columns=[args.target])
        paths = write_report(result, X, table[args.target], args.out)
        print(f"Report: {paths['html']} (also {paths['markdown'].name}, {paths['json'].name})")
    return 0


def format_leaderboard(board: pd.DataFrame, metric: str) -> str:
    """The leaderboard as a terminal table: every metric's mean ± std, times, size, state."""
    others = [c[:-4] for c in board.columns if c.endswith("_std") and c != "std"]
    scores = {
        name: [_mean_std(m, s) for m, s in zip(board[name], board[std])]
        for name, std in [(metric, "std"), *[(o, f"{o}_std") for o in others]]
    }
    out = pd.DataFrame(
        {
            "algorithm": board["algorithm"],
            **scores,
            "fit s/fold": board["fit_time"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
            "predict ms/1k rows": board["predict_ms_per_1000"].map(
                lambda v: "" if pd.isna(v) else f"{v:.1f}"
            ),
            "size kB": board["size_bytes"].map(lambda v: "" if pd.isna(v) else f"{v / 1000:.1f}"),
            "state": board["state"],
            "error or note": [
                (e or n or "")[:50]
                for e, n in zip(board["error"].fillna(""), board["note"].fillna(""))
            ],
        }
    )
    return out.to_string(index=False)


def _mean_std(mean: float, std: float) -> str:
    return "" if pd.isna(mean) else f"{mean:.4f}±{std:.4f}"
