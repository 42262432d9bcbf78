"""``automl algorithms``: the registry, with what each algorithm needs."""

from __future__ import annotations

import argparse

from automl.api import list_algorithms


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "algorithms",
        help="list the algorithms the search can choose from",
        description="List every algorithm in the registry: the tasks it does, the "
        "preprocessing in front of it, the libraries it needs and whether they are "
        "installed, and its row limit.",
        epilog="Example: automl algorithms   then restrict a search with "
        "automl fit data.csv --target y --algorithms lightgbm,logistic_regression",
    )
    parser.add_argument(
        "--spaces",
        nargs="*",
        default=[],
        metavar="FILE",
        help="extra search space files (TOML) to include",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    table = list_algorithms(tuple(args.spaces))
    table["max_rows"] = table["max_rows"].map(lambda v: "" if v != v or v is None else int(v))
    print(table.drop(columns=["description"]).to_string(index=False))
    return 0
