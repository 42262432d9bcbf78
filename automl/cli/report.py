"""``automl report RUN_DIR``: render a saved comparison report again."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="render the comparison report of a saved run again",
        description="Render report.html and report.md again from the report.json that "
        "'automl fit --out DIR' or 'automl baseline --out DIR' saved in RUN_DIR "
        "(for example after upgrading automl). The data is not needed.",
        epilog="Example: automl report run/   then open run/report.html in a browser.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the folder holding report.json")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from automl.cli import UsageError
    from automl.report import render_saved_report

    folder = Path(args.run_dir)
    if not (folder / "report.json").is_file():
        raise UsageError(
            f"{folder}: no report.json there. Write one with 'automl fit DATA "
            f"--target COL --out {folder}' or 'automl baseline DATA --target COL "
            f"--out {folder}'."
        )
    paths = render_saved_report(folder)
    print(f"Wrote {paths['html']} and {paths['markdown']}.")
    return 0
