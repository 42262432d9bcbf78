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

Only scikit-learn classes are used, so a saved pipeline loads without automl installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from automl.data import DatasetProfile
from automl.space.schema import ParamSpec

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

    Categorical columns come first in the output; :func:`categorical_positions` says where.
    """
    transformers: list[tuple[str, Any, Sequence]] = []
    cats = profile.selector(profile.categorical)
    nums = profile.selector(profile.numeric)
    if kind == "scaled":
        if cats:
            transformers.append(
                (
                    "categorical",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=MIN_CATEGORY_COUNT,
                        max_categories=MAX_ONEHOT_CATEGORIES,
                        sparse_output=False,
                    ),
                    cats,
                )
            )
        if nums:
            transformers.append(
                (
                    "numeric",
                    Pipeline(
                        [
                            (
                                "impute",
                                SimpleImputer(
                                    strategy=config.get("numeric_imputer", "mean"),
                                    add_indicator=True,
                                    keep_empty_features=True,
                                ),
                            ),
                            (
                                "scale",
                                _scaler(config.get("scaler", "standard"), profile, random_state),
                            ),
                        ]
                    ),
                    nums,
                )
            )
    elif kind == "ordinal":
        if cats:
            transformers.append(
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        encoded_missing_value=-2,
                        min_frequency=MIN_CATEGORY_COUNT,
                    ),
                    cats,
                )
            )
        if nums:
            transformers.append(
                (
                    "numeric",
                    SimpleImputer(
                        strategy=config.get("numeric_imputer", "mean"),
                        add_indicator=True,
                        keep_empty_features=True,
                    ),
                    nums,
                )
            )
    elif kind == "native" and categorical_codes == "integer":
        if cats:
            transformers.append(
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-2,
                        encoded_missing_value=-1,
                        dtype=np.int64,
                    ),
                    cats,
                )
            )
        if nums:
            transformers.append(("numeric", "passthrough", nums))
        frame = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
        return frame.set_output(transform="pandas")
    elif kind == "native":
        if cats:
            transformers.append(
                (
                    "categorical",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                        max_categories=MAX_NATIVE_CATEGORIES,
                    ),
                    cats,
                )
            )
        if nums:
            transformers.append(("numeric", "passthrough", nums))
    else:
        raise ValueError(f"unknown preprocessing kind {kind!r}")
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


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
