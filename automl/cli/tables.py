"""Reading and writing the user's tables, with errors that say which formats are accepted."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from automl.cli import UsageError

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
STDIO = "-"
PARQUET_INSTALL = "pip install 'automl[parquet]'"


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame; ``-`` reads CSV from standard input."""
    if str(path) == STDIO:
        try:
            return pd.read_csv(sys.stdin)
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise UsageError(f"standard input could not be read as CSV: {exc}") from None
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise UsageError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            "give a .csv or .parquet file."
        )
    if not path.is_file():
        raise UsageError(f"{path}: no such file.")
    try:
        return reader(path)
    except ImportError as exc:
        raise UsageError(
            f"{path}: reading Parquet needs pyarrow: {PARQUET_INSTALL} ({exc})."
        ) from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: could not be read as {path.suffix[1:].upper()}: {exc}") from None


def write_table(frame: pd.DataFrame, path: str | Path | None) -> None:
    """Write ``frame`` as CSV, or Parquet when ``path`` ends in .parquet; None or ``-``: CSV to
    standard output."""
    if path is None or str(path) == STDIO:
        frame.to_csv(sys.stdout, index=False)
        return
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame.to_parquet(path, index=False)
        except ImportError as exc:
            raise UsageError(
                f"{path}: writing Parquet needs pyarrow: {PARQUET_INSTALL} ({exc}). "
                "Or give a .csv file."
            ) from None
        return
    frame.to_csv(path, index=False)
