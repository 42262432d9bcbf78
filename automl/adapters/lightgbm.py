"""LightGBM: declare the ordinal-encoded columns as categorical by position.

Passed as a constructor parameter (not a fit parameter) so the fitted pipeline refits with
``clone`` alone. LightGBM then warns that the keyword "will be ignored" in favour of the
Dataset argument; it is in fact applied (the trees split on categories), and the engine
silences that one message.
"""

from __future__ import annotations

from typing import Any

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    if context.categorical_positions:
        params = {**params, "categorical_feature": list(context.categorical_positions)}
    return estimator_class(**params)
