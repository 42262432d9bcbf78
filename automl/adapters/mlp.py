"""MLP: the space samples a depth and one width per layer; the estimator takes a tuple.

For regression the target is standardised (``TransformedTargetRegressor``, a stock
scikit-learn class): with a raw target such as diabetes' (25 to 346), MLPRegressor scored
R2 about -1 and warned about convergence; standardised, about 0.6. auto-sklearn does the same.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset({"n_layers", "units_1", "units_2", "units_3"})


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    params = dict(params)
    depth = params.pop("n_layers", 1)
    widths = [params.pop(f"units_{i}", None) for i in (1, 2, 3)]
    params["hidden_layer_sizes"] = tuple(int(w) for w in widths[:depth] if w is not None)
    model = estimator_class(**params)
    if context.task == "regression":
        return TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return model
