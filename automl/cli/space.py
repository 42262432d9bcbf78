"""``automl space NAME``: print an algorithm's search space file."""

from __future__ import annotations

import argparse
from pathlib import Path

from automl.exceptions import UnknownNameError, did_you_mean
from automl.registry import load_registry


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "space",
        help="print the search space of an algorithm",
        description="Print the search space file of an algorithm: its estimator, "
        "preprocessing, parameters with ranges, defaults and conditions.",
        epilog="Example: automl space svm > my_svm.toml   (edit the copy, then: automl "
        "check-space my_svm.toml; automl fit data.csv --target y --spaces my_svm.toml)",
    )
    parser.add_argument("name", help="algorithm name (see 'automl algorithms')")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    if args.name not in registry:
        raise UnknownNameError(
            f"Unknown algorithm {args.name!r}."
            f"{did_you_mean(args.name, registry)} Known: {sorted(registry)}."
        )
    print(Path(registry[args.name].source).read_text(encoding="utf-8"), end="")
    return 0
