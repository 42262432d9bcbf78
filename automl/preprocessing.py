"""The preprocessing in front of each estimator, fitted inside each training fold only.

Three kinds, chosen by the space file's ``preprocessing`` key:

- ``scaled``  (linear models, SVMs, kNN, MLP, naive Bayes): numeric columns imputed
  (mean or median, searched) with missing-value indicators, then scaled (standard, robust
  or quantile-normal, searched); categorical columns one-hot encoded with rare categories
  grouped and unseen ones ignored.
- ``ordinal`` (random forest, extra trees): numeric columns imputed (searched strategy),
  categoricals ordinal-encoded, unseen and missing values getting their own codes.
- ``native``  (HistGradientBoosting, XGBoost, LightGBM, CatBoost): numeric columns pass
  through with their NaNs (these learners route missing values themselves); categoricals
  ordinal-encoded and placed first, so the adapter can declare them categorical by position.
  The space file's ``categorical_codes`` says how: ``"float"`` codes with NaN for missing
  and unseen values, or ``"integer"`` codes (missing -1, unseen -2, no grouping of rare
  categories) in a DataFrame, which keeps them integers, for learners that refuse float
  categories and encode high cardinality themselves (CatBoost).

Each column group starts by converting its pandas dtypes (nullable integers and floats,
``boolean``, ``string`` in python or pyarrow storage, ``category``, ``pd.NA``) to plain ones
(:func:`as_numbers`, :func:`as_categories`). Only scikit-learn classes and functions and two
pandas method calls by name are used, so a saved pipeline converts the same way at predict
time and loads without automl.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import methodcaller
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils import check_array

from automl.data import DatasetProfile
from automl.space.schema import ParamSpec

# The pandas method calls that make categorical columns plain (see as_categories) and
# durations seconds (as_seconds): as calls by name, so a saved pipeline holds no automl code.
# Loading a model file checks that every method call it holds is one of these
# (automl/persistence.py).
CATEGORY_CONVERSIONS = (methodcaller("astype", "object"), methodcaller("fillna", np.nan))
DURATION_CONVERSION = methodcaller("__truediv__", np.timedelta64(1, "s"))

# Categories seen fewer times than this in a training fold are grouped as "infrequent".
MIN_CATEGORY_COUNT = 5
# One-hot width cap per column; the rest are grouped (keeps SVM/kNN/MLP input bounded).
MAX_ONEHOT_CATEGORIES = 32
# Native categorical learners split on category codes; above this cardinality LightGBM and
# HistGradientBoosting (max_bins 255) degrade or refuse, so the tail is grouped.
MAX_NATIVE_CATEGORIES = 250

_IMPUTER = ParamSpec(
    name="numeric_imputer",
    type="categorical",
    choices=("mean", "median"),
    default="mean",
    why="auto-sklearn's imputation choices; median resists outliers",
    target="preprocessing",
)
_SCALER = ParamSpec(
    name="scaler",
    type="categorical",
    choices=("standard", "robust", "quantile"),
    default="standard",
    why="auto-sklearn's rescaling choices (minmax omitted: standard covers it for these learners)",
    target="preprocessing",
)

PREPROCESSING_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "scaled": (_IMPUTER, _SCALER),
    "ordinal": (_IMPUTER,),
    "native": (),
}


def preprocessing_params(kind: str) -> tuple[ParamSpec, ...]:
    """The searched preprocessing parameters for a preprocessing kind."""
    return PREPROCESSING_PARAMS[kind]


def build_preprocessor(
    profile: DatasetProfile,
    kind: str,
    config: dict[str, Any],
    random_state: int | None = None,
    categorical_codes: str = "float",
) -> ColumnTransformer:
    """A ColumnTransformer for ``kind`` with the searched values in ``config``.

    Each column group first converts its dtypes (:func:`as_numbers`, :func:`as_categories`),
    so every learner sees the same plain values whatever pandas dtypes the frame holds.
    Categorical columns come first in the output; :func:`categorical_positions` says where.
    """
    if kind not in PREPROCESSING_PARAMS:
        raise ValueError(f"unknown preprocessing kind {kind!r}")
    transformers: list[tuple[str, Any, Sequence]] = []
    cats = profile.selector(profile.categorical)
    nums = profile.selector(profile.numeric)
    if cats:
        encoder = _category_encoder(kind, categorical_codes)
        convert = as_categories(frame_input=not profile.from_array)
        transformers.append(("categorical", Pipeline([*convert, encoder]), cats))
    if nums:
        steps = _numeric_steps(kind, config, profile, random_state)
        transformers.append(("numeric", Pipeline([*as_numbers(), *steps]), nums))
    for name, columns, resolution in (
        ("duration", profile.duration, None),
        ("date", profile.datetime, "day"),
        ("timestamp", profile.timestamp, "hour"),
    ):
        if columns:  # skrub is imported only for data with dates
            convert = as_seconds() if resolution is None else date_features(resolution)
            steps = _numeric_steps(kind, config, profile, random_state)
            transformers.append((name, Pipeline([*convert, *steps]), profile.selector(columns)))
    frame = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    if kind == "native" and categorical_codes == "integer":
        return frame.set_output(transform="pandas")  # keeps the integer codes integers
    return frame


def as_numbers() -> list[tuple[str, FunctionTransformer]]:
    """Numeric columns of any dtype (nullable Int64, UInt8, Float32, pd.NA) as float64 with
    NaN: scikit-learn's own conversion, ``check_array``."""
    convert = FunctionTransformer(
        check_array,
        kw_args={"dtype": "float64", "ensure_all_finite": "allow-nan"},
        feature_names_out="one-to-one",
    )
    return [("dtypes", convert)]


def date_features(resolution: str) -> list[tuple[str, Any]]:
    """Dates and times (naive or tz-aware, NaT allowed) as numbers: year, month, day, the
    hour for columns with a time (``resolution="hour"``), weekday, and the value in seconds,
    by skrub's DatetimeEncoder (NaT gives NaN, imputed like other numbers)."""
    from skrub import ApplyToCols, DatetimeEncoder

    encoder = DatetimeEncoder(resolution=resolution, add_weekday=True, add_total_seconds=True)
    return [("dates", ApplyToCols(encoder))]


def as_seconds() -> list[tuple[str, FunctionTransformer]]:
    """Durations (timedelta, NaT allowed) as float seconds, NaT as NaN."""
    return [("dtypes", FunctionTransformer(DURATION_CONVERSION, feature_names_out="one-to-one"))]


def as_categories(frame_input: bool = True) -> list[tuple[str, FunctionTransformer]]:
    """Categorical columns of any dtype (string in python or pyarrow storage, category,
    boolean, nullable integers) as object values, every kind of missing value (None, NaN,
    pd.NA) as NaN, which the encoders treat as missing.

    A pipeline fitted on an array (``frame_input=False``) takes arrays at predict time too,
    which hold no pandas dtypes: only the first conversion applies to them.
    """
    steps = list(zip(("dtypes", "missing"), CATEGORY_CONVERSIONS))
    return [
        (name, FunctionTransformer(call, feature_names_out="one-to-one"))
        for name, call in (steps if frame_input else steps[:1])
    ]


def _category_encoder(kind: str, categorical_codes: str) -> tuple[str, Any]:
    if kind == "scaled":
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=MIN_CATEGORY_COUNT,
            max_categories=MAX_ONEHOT_CATEGORIES,
            sparse_output=False,
        )
    elif kind == "ordinal":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-2,
            min_frequency=MIN_CATEGORY_COUNT,
        )
    elif categorical_codes == "integer":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-2,
            encoded_missing_value=-1,
            dtype=np.int64,
        )
    else:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=MAX_NATIVE_CATEGORIES,
        )
    return ("encode", encoder)


def _numeric_steps(
    kind: str, config: dict[str, Any], profile: DatasetProfile, random_state: int | None
) -> list[tuple[str, Any]]:
    if kind == "native":
        return []  # NaNs pass through: these learners route missing values themselves
    impute = SimpleImputer(
        strategy=config.get("numeric_imputer", "mean"), add_indicator=True, keep_empty_features=True
    )
    if kind == "ordinal":
        return [("impute", impute)]
    scaler = _scaler(config.get("scaler", "standard"), profile, random_state)
    return [("impute", impute), ("scale", scaler)]


def categorical_positions(profile: DatasetProfile, kind: str) -> list[int]:
    """Output positions of the categorical columns for the ``native`` kind (they come first)."""
    return list(range(len(profile.categorical))) if kind == "native" else []


def _scaler(name: str, profile: DatasetProfile, random_state: int | None) -> Any:
    if name == "robust":
        return RobustScaler()
    if name == "quantile":
        n_quantiles = max(10, min(1000, profile.n_rows // 2))
        return QuantileTransformer(
            output_distribution="normal", n_quantiles=n_quantiles, random_state=random_state
        )
    return StandardScaler()
