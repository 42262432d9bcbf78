"""The ``automl`` command line: ``automl <command> --help`` explains each command.

Exit codes: 0 success; 2 bad usage or bad input (one line says what and how to fix it, no
traceback); 1 an unexpected failure (rerun with ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from automl.exceptions import AutoMLError
from automl.version import __version__

# One module per command in this package, each with add_parser(subparsers) and run(args).
COMMANDS = ("fit", "predict", "baseline", "report", "algorithms", "space", "check_space")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input detected by the command line itself (a file, a format, an option)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl",
        description="Find a strong, honestly evaluated model for a table: automl searches "
        "algorithms and their hyperparameters jointly, scores them by cross-"
        "validation, and saves the best scikit-learn pipeline.",
        epilog="Start with: automl fit data.csv --target COLUMN --out run/   "
        "Then: automl predict run/model.automl new.csv.   Exit status: 0 done, "
        "1 failed, 2 bad input (or the stored search is run by another process), "
        "130 interrupted (fit still writes what the finished trials found).",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    parser.add_argument("--version", action="version", version=f"automl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"automl.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (tests call this in-process)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help
        return int(exc.code or 0)
    _configure_logging(getattr(args, "quiet", False))
    try:
        return int(args.run(args) or 0)
    except (UsageError, AutoMLError, FileNotFoundError) as exc:
        print(f"automl {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"automl {args.command}: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `automl predict ... | head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (silence the flush at exit)
        return EXIT_OK
    except Exception as exc:  # unexpected: a bug or an environment problem
        if args.debug:
            raise
        print(
            f"automl {args.command}: unexpected error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def _configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO, format="%(message)s", stream=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
