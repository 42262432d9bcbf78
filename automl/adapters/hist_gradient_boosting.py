"""HistGradientBoosting: declare the ordinal-encoded columns as categorical by position."""

from __future__ import annotations

from typing import Any

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    categorical = list(context.categorical_positions) or None
    return estimator_class(**params, categorical_features=categorical)
