"""``automl predict MODEL DATA``: predictions from a saved model, after a schema check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from automl.cli.tables import STDIO, read_table, write_table
from automl.persistence import load_model


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict the target for every row of DATA (CSV or Parquet) with a model "
        "saved by 'automl fit'. The columns are checked against the ones the model "
        "was fitted on: missing columns or incompatible types are errors naming the "
        "column; extra columns (such as the target) are ignored.",
        epilog="Example: automl predict run/model.automl new.csv --proba --out preds.csv   "
        "Model files are skops archives: loading rebuilds only the types that automl's "
        "preprocessing and the space files of the model's algorithms declare, and runs no "
        "arbitrary code. Still, only use model files from sources you trust.",
    )
    parser.add_argument(
        "model", type=Path, help="model file written by 'automl fit' (OUT/model.automl)"
    )
    parser.add_argument(
        "data",
        help="rows to predict: a .csv or .parquet file with a header, or - for CSV on "
        "standard input",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write predictions to this file: Parquet if it ends in .parquet (needs "
        "automl[parquet]), else CSV; - or none: CSV to standard output",
    )
    parser.add_argument(
        "--proba",
        action="store_true",
        help="also write one probability column per class (classification)",
    )
    parser.add_argument(
        "--trust",
        nargs="*",
        default=[],
        metavar="TYPE",
        help="extra types to allow when loading a model you made with your own "
        "space files (the error that refuses them lists the names)",
    )
    parser.add_argument(
        "--spaces",
        nargs="*",
        default=[],
        metavar="FILE",
        help="the space files (TOML) of your own algorithms the model uses, as given to "
        "'automl fit --spaces'; their declared types are trusted",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = load_model(args.model, trusted=tuple(args.trust), spaces=tuple(args.spaces))
    frame = read_table(args.data)
    checked = model.check_frame(frame)
    name = "cluster" if model.task == "clustering" else "prediction"
    target = model.metadata.get("target") or name
    out = pd.DataFrame({target: model.predict(checked)})
    if args.proba:
        proba = model.predict_proba(checked)
        for i, label in enumerate(model.metadata["classes"]):
            out[f"proba_{label}"] = proba[:, i]
    write_table(out, args.out)
    if args.out not in (None, STDIO) and not args.quiet:
        print(f"Wrote {len(out)} predictions to {args.out}.", file=sys.stderr)
    return 0
