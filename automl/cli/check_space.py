"""``automl check-space FILE``: validate a search space file you wrote."""

from __future__ import annotations

import argparse

from automl.space.check import check_space


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-space",
        help="check a search space file (TOML) you wrote",
        description="Check a search space file against the schema (search_spaces/README.md) "
        "and check that its estimator and parameter names exist. Prints the "
        "problem with the file, table and key at fault, and exits 2; exits 0 "
        "when the file is valid.",
        epilog="Example: automl check-space my_svm.toml   (the schema is in "
        "search_spaces/README.md; 'automl space NAME' prints a built-in file to start from)",
    )
    parser.add_argument("file", help="path to the .toml file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = check_space(args.file)
    print(
        f"{args.file}: OK: algorithm {spec.name!r} for {', '.join(spec.tasks)}, "
        f"{len(spec.params)} parameters."
    )
    return 0
