"""Validation at the door, and the profile of a data set that the rest of the engine reads.

Decisions a user should know about (also in the README):

- ``X`` may be a pandas DataFrame or anything ``numpy.asarray`` accepts (columns are then
  named ``x0, x1, ...`` and the fitted pipeline selects them by position).
- Columns of dtype object, string, category or bool are categorical; the rest are numeric.
  ``column_kinds={"zip": "categorical"}`` overrides the guess.
- Missing values are allowed in features, never in the target.
- A feature column that is entirely missing, or holds a single value, carries no
  information: it is dropped with a :class:`DroppedColumnWarning` naming it (the fitted
  pipeline still accepts it at predict time and ignores it).
- The task is inferred from the target: non-numeric or two distinct values is
  classification; numbers with more than 20 distinct values, or with fractions, is
  regression; integers with 3 to 20 distinct values are multiclass. ``task=`` overrides it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning

from automl.exceptions import DataValidationError, DroppedColumnWarning, did_you_mean

logger = logging.getLogger("automl.data")

TASKS = ("binary", "multiclass", "regression", "clustering")
COLUMN_KINDS = ("numeric", "categorical")  # what column_kinds= may set
# Dates and times: expanded into numeric features in the pipeline (year, month, day, hour
# where present, weekday, the value in seconds); durations become seconds.
DATE_FEATURES = 5  # year, month, day, weekday, seconds
TIME_FEATURES = 6  # and hour
MAX_CLASSES_FROM_INTEGERS = 20


@dataclass(frozen=True)
class DatasetProfile:
    """What the engine knows about a validated data set."""

    task: str
    n_rows: int
    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    classes: tuple[Any, ...] = ()
    n_missing: int = 0
    # positional: the pipeline selects columns by position (array input, or names that are
    # not all text); from_array: the user gave an array, so pipelines fit and predict on one
    positional: bool = False
    from_array: bool = False
    target_name: str | None = None
    category_counts: dict[str, int] = field(default_factory=dict)
    datetime: tuple[str, ...] = ()  # date-only columns (every value at midnight)
    timestamp: tuple[str, ...] = ()  # date and time columns
    duration: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        """Columns the preprocessing puts out before encoding (dates expanded)."""
        return (
            len(self.numeric)
            + len(self.categorical)
            + len(self.duration)
            + DATE_FEATURES * len(self.datetime)
            + TIME_FEATURES * len(self.timestamp)
        )

    @property
    def kinds(self) -> dict[str, str]:
        """Each kept column's kind: numeric, categorical, datetime or duration."""
        return {
            **{c: "numeric" for c in self.numeric},
            **{c: "categorical" for c in self.categorical},
            **{c: "datetime" for c in (*self.datetime, *self.timestamp)},
            **{c: "duration" for c in self.duration},
        }

    def selector(self, names: tuple[str, ...]) -> list[str] | list[int]:
        """How the pipeline selects ``names``: by name, or by position for array input."""
        if self.positional:
            return [self.columns.index(n) for n in names]
        return list(names)


def validate_data(
    X: Any,
    y: Any = None,
    *,
    target: str | None = None,
    task: str | None = None,
    column_kinds: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, DatasetProfile]:
    """Check ``X`` and ``y`` and profile them.

    Returns the features as a DataFrame (all columns, dropped ones included, so positions
    match the user's data), the target as an array, and the :class:`DatasetProfile`.
    """
    frame, from_array = _as_frame(X)
    _check_columns(frame)
    complex_columns = [c for c in frame.columns if pd.api.types.is_complex_dtype(frame[c])]
    if complex_columns:
        raise DataValidationError(
            f"Complex data not supported: column(s) {_preview(complex_columns)} hold complex "
            "numbers. Split them into real and imaginary columns (or take their absolute value)."
        )
    # Integer and other non-text names (pd.read_csv(header=None), a numpy array made a frame)
    # are kept; scikit-learn selects columns by name only when every name is text, so the
    # pipeline selects these by position, as for array input.
    positional = from_array or not all(isinstance(c, str) for c in frame.columns)
    if target is not None:
        if y is not None:
            raise DataValidationError("Pass either y or target=, not both.")
        if target not in frame.columns:
            raise DataValidationError(
                f"The target column {target!r} is not in the data."
                f"{did_you_mean(target, map(str, frame.columns))} "
                f"Columns are: {_preview(frame.columns)}."
            )
        y = frame[target]
        frame = frame.drop(columns=[target])
    if task == "clustering":
        if y is not None:
            raise DataValidationError(
                "Clustering takes no target: pass only X. To compare the clusters with labels "
                "you have, pass them as evaluate_with= (CLI: --evaluate-with COLUMN); the "
                "search never sees them."
            )
        y = np.zeros(len(frame))
    elif y is None:
        raise DataValidationError(
            "No target: automl requires y to be passed, but the target y is None. Pass y, or "
            "target='<column name>'."
        )
    target_name = target if target is not None else getattr(y, "name", None)
    y_arr = _as_target(y, len(frame))
    if frame.shape[0] == 0:
        raise DataValidationError(
            f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is "
            "required: the data has no rows; at least a few dozen are needed."
        )
    if frame.shape[0] == 1:
        need = "clustering" if task == "clustering" else "cross-validation"
        raise DataValidationError(
            f"The data has only 1 sample (n_samples = 1); {need} needs at least a few dozen rows."
        )
    if frame.shape[1] == 0:
        raise DataValidationError(
            f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
            "required: the data has no feature columns (only the target)."
        )

    kinds = _column_kinds(frame, column_kinds)
    _check_infinite(frame, kinds)
    _check_mixed_types(frame, kinds)
    task = _infer_task(y_arr, task)
    classes = () if task == "clustering" else _check_target(y_arr, task)
    dropped = _uninformative_columns(frame)
    if dropped:
        warnings.warn(
            f"Dropped {len(dropped)} column(s) that carry no information (entirely missing or "
            f"a single value): {_preview(dropped)}. They are ignored at predict time.",
            DroppedColumnWarning,
            stacklevel=3,
        )
    text = [
        c
        for c in frame.columns
        if kinds[c] == "categorical"
        and c not in (column_kinds or {})
        and c not in dropped
        and _is_free_text(frame[c])
    ]
    if text:
        warnings.warn(
            f"Dropped {len(text)} free-text column(s) (long strings, almost all different): "
            f"{_preview(text)}. As categories they would become thousands of one-hot columns; "
            "they are ignored at predict time. Derive features from them yourself, or pass "
            "column_kinds={name: 'categorical'} to keep one as a category.",
            DroppedColumnWarning,
            stacklevel=3,
        )
        dropped = dropped + text
    kept = [c for c in frame.columns if c not in set(dropped)]
    if not kept:
        raise DataValidationError(
            "Every feature column is entirely missing or constant; there is nothing to learn from."
        )
    numeric = tuple(c for c in kept if kinds[c] == "numeric")
    categorical = tuple(c for c in kept if kinds[c] == "categorical")
    dates = [c for c in kept if kinds[c] == "datetime"]
    timestamp = tuple(c for c in dates if _has_time(frame[c]))
    profile = DatasetProfile(
        task=task,
        n_rows=len(frame),
        columns=tuple(frame.columns),
        numeric=numeric,
        categorical=categorical,
        dropped=tuple(dropped),
        classes=classes,
        n_missing=int(frame[kept].isna().sum().sum()),
        positional=positional,
        from_array=from_array,
        target_name=None if target_name is None else str(target_name),
        category_counts={c: int(frame[c].nunique(dropna=True)) for c in categorical},
        datetime=tuple(c for c in dates if c not in timestamp),
        timestamp=timestamp,
        duration=tuple(c for c in kept if kinds[c] == "duration"),
    )
    return frame, y_arr, profile


def check_sample_weight(
    sample_weight: Any, n_rows: int, y: np.ndarray | None = None, task: str | None = None
) -> np.ndarray | None:
    """Row weights as a float array: one per row, finite, not negative, not all zero, and
    for classification, at least two classes with weight."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim != 1 or len(w) != n_rows:
        raise DataValidationError(
            f"sample_weight must hold one weight per row ({n_rows}); got shape {w.shape}."
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"sample_weight must be finite and not negative; row {first} has {w[first]}."
        )
    if not w.any():
        raise DataValidationError("sample_weight is zero for every row; nothing would count.")
    if y is not None and task in ("binary", "multiclass") and len(np.unique(y[w > 0])) < 2:
        raise DataValidationError(
            "sample_weight leaves weight on only one class; classification needs at least two "
            "classes with weight."
        )
    return w


def _as_frame(X: Any) -> tuple[pd.DataFrame, bool]:
    if isinstance(X, pd.DataFrame):
        return X, False
    if X is None:
        raise DataValidationError("X is None; pass a pandas DataFrame or a 2-D array.")
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):  # a scipy sparse matrix or array
        raise DataValidationError(
            "Sparse data was passed for X, but dense data is required: automl does not take "
            "sparse input. Use X.toarray() to convert it to a dense array (or a DataFrame)."
        )
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataValidationError(
            f"X must be 2-D (rows x columns); got an array with {array.ndim} dimension(s) "
            f"of shape {array.shape}. Reshape a single feature with X.reshape(-1, 1)."
        )
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])]), True


def _check_columns(frame: pd.DataFrame) -> None:
    names = pd.Index(frame.columns)
    duplicated = names[names.duplicated()].unique().tolist()
    if duplicated:
        raise DataValidationError(
            f"Duplicate column names: {_preview(duplicated)}. Every column needs a unique name; "
            "rename or drop the duplicates."
        )
    as_text: dict[str, Any] = {}
    for name in names:
        clash = as_text.setdefault(str(name), name)
        if clash is not name:
            raise DataValidationError(
                f"Columns {clash!r} and {name!r} have the same name as text ({str(name)!r}), "
                "which reports, model files and the command line use. Rename one of them."
            )


def _as_target(y: Any, n_rows: int) -> np.ndarray:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataValidationError(f"y must be one column; got a DataFrame with {y.shape[1]}.")
        y = y.iloc[:, 0]
    y_arr = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        y_arr = y_arr.ravel()
    if y_arr.dtype == object and y_arr.ndim == 1 and _holds_numbers(y_arr):
        y_arr = pd.Series(y_arr).infer_objects().to_numpy()  # labels 0, 1, 2 as objects
    if y_arr.ndim != 1:
        raise DataValidationError(f"y must be 1-D; got shape {y_arr.shape}.")
    if len(y_arr) != n_rows:
        raise DataValidationError(
            f"X and y have different lengths: X has {n_rows} rows, y has {len(y_arr)}. "
            "They must describe the same rows."
        )
    missing = pd.isna(y_arr)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataValidationError(
            f"The target has {int(missing.sum())} missing value(s) (first at row {first}). "
            "Drop those rows before fitting: a model cannot learn from an unknown answer."
        )
    return y_arr


def _column_kinds(frame: pd.DataFrame, overrides: Mapping[str, str] | None) -> dict[str, str]:
    kinds = {c: _guess_kind(frame[c]) for c in frame.columns}
    for column, kind in (overrides or {}).items():
        if column not in kinds:
            raise DataValidationError(
                f"column_kinds names {column!r}, which is not a feature column."
                f"{did_you_mean(column, kinds)}"
            )
        if kind not in COLUMN_KINDS and kind != kinds[column]:  # a kind it has is fine
            raise DataValidationError(
                f"column_kinds[{column!r}] must be one of {list(COLUMN_KINDS)}; got {kind!r}."
            )
        if kind == "numeric" and kinds[column] == "categorical":
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.isna().sum() > frame[column].isna().sum():
                raise DataValidationError(
                    f"column_kinds[{column!r}] = 'numeric', but the column holds values that are "
                    "not numbers. Convert them first, or leave the column categorical."
                )
        kinds[column] = kind
    return kinds


def _has_time(column: pd.Series) -> bool:
    values = column.dropna()
    return bool((values != values.dt.normalize()).any())


def _guess_kind(column: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(column):
        return "duration"
    if column.dtype == object and _holds_numbers(column):
        return "numeric"  # numbers stored as objects (from SQL, or an array of mixed types)
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return "categorical"
    return "numeric"


def _holds_numbers(values: Any) -> bool:
    """Whether the non-missing values are all numbers (not booleans)."""
    return pd.api.types.infer_dtype(values, skipna=True) in (
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
    )


def _check_infinite(frame: pd.DataFrame, kinds: dict[str, str]) -> None:
    for column in frame.columns:
        if kinds[column] != "numeric" or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            raise DataValidationError(
                f"Column {column!r} holds {int(bad.sum())} infinite value(s) (first at row "
                f"{int(np.flatnonzero(bad)[0])}). Replace them with NaN (treated as missing) or "
                "a finite number."
            )


def _check_mixed_types(frame: pd.DataFrame, kinds: dict[str, str]) -> None:
    for column in frame.columns:
        if kinds[column] != "categorical" or frame[column].dtype != object:
            continue
        types = {type(v).__name__ for v in frame[column].dropna()}
        if len(types) > 1:
            raise DataValidationError(
                f"Column {column!r} mixes value types {sorted(types)}; a categorical column must "
                f"hold one type. Convert it, e.g. df[{column!r}] = df[{column!r}].astype(str)."
            )


def _infer_task(y: np.ndarray, task: str | None) -> str:
    if task is not None:
        if task not in TASKS:
            raise DataValidationError(
                f"task must be one of {list(TASKS)}; got {task!r}.{did_you_mean(task, TASKS)}"
            )
        if task == "regression" and not _is_numeric(y):
            raise DataValidationError(
                f"task='regression' needs a numeric target; the target holds values such as "
                f"{_preview(pd.unique(y)[:3])}. Use task='binary' or 'multiclass', or convert it."
            )
        return task
    n_unique = len(pd.unique(y))
    if not _is_numeric(y) or n_unique <= 2:
        return "binary" if n_unique <= 2 else "multiclass"
    values = y.astype(float)
    if np.all(np.mod(values, 1) == 0) and n_unique <= MAX_CLASSES_FROM_INTEGERS:
        logger.info(
            "Target holds %d distinct integers: treated as multiclass "
            "(pass task='regression' to override).",
            n_unique,
        )
        return "multiclass"
    return "regression"


def _is_numeric(y: np.ndarray) -> bool:
    return pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)


def _check_target(y: np.ndarray, task: str) -> tuple[Any, ...]:
    if task == "regression":
        values = y.astype(float)
        if np.isinf(values).any():
            raise DataValidationError(
                "The target holds infinite values; replace or drop those rows."
            )
        if np.ptp(values) == 0:
            raise DataValidationError(f"The target is constant ({values[0]}); nothing to predict.")
        return ()
    classes = tuple(np.unique(y).tolist())
    if len(classes) < 2:
        raise DataValidationError(
            f"The target has only one class ({classes[0]!r}); classification needs at least two."
        )
    if task == "binary" and len(classes) > 2:
        raise DataValidationError(
            f"task='binary' but the target has {len(classes)} classes; use task='multiclass'."
        )
    return classes


# A text column is free text (dropped) when at least half of its values are distinct and
# they are this long (median characters) or longer: sentences, descriptions, addresses.
FREE_TEXT_UNIQUE_SHARE = 0.5
FREE_TEXT_MEDIAN_LENGTH = 20


def _is_free_text(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.dropna()
    if len(values) < 20 or not all(isinstance(v, str) for v in values.iloc[:100]):
        return False
    distinct = values.nunique() / len(values)
    length = values.astype(str).str.len().median()
    return bool(distinct >= FREE_TEXT_UNIQUE_SHARE and length >= FREE_TEXT_MEDIAN_LENGTH)


def _uninformative_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if frame[c].nunique(dropna=True) <= 1]


def _preview(values: Any, limit: int = 8) -> str:
    items = [repr(v) for v in list(values)[:limit]]
    more = len(list(values)) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "")
