"""Reading the user's data files, with errors that say which formats are accepted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from automl.cli import UsageError

READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame."""
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
            f"{path}: reading Parquet needs pyarrow: pip install pyarrow ({exc})."
        ) from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: could not be read as {path.suffix[1:].upper()}: {exc}") from None
