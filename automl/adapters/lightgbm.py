"""LightGBM: declare the ordinal-encoded columns as categorical by position.

Passed as a constructor parameter (not a fit parameter) so the fitted pipeline refits with
``clone`` alone. LightGBM then warns that the keyword "will be ignored" in favour of the
Dataset argument; it is in fact applied (the trees split on categories), and the engine
silences that one message.
"""

from __future__ import annotations

import warnings
from typing import Any

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    if context.categorical_positions:
        params = {**params, "categorical_feature": list(context.categorical_positions)}
    return estimator_class(**params)


def fit_early_stopped(
    model: Any,
    X: Any,
    y: Any,
    X_val: Any,
    y_val: Any,
    patience: int,
    sample_weight: Any = None,
    sample_weight_val: Any = None,
) -> tuple[Any, int]:
    """Fit with LightGBM's early-stopping callback on ``(X_val, y_val)`` (its default loss
    for the objective); the fitted model predicts with the best iteration."""
    import lightgbm

    with warnings.catch_warnings():
        # LightGBM 4.7 deprecates eval_set for eval_X / eval_y, whose labels its classifier
        # does not encode yet (string classes fail): eval_set works in every 4.x
        warnings.filterwarnings("ignore", message=".*eval_set.*deprecated")
        model.fit(
            X,
            y,
            sample_weight=sample_weight,
            eval_set=[(X_val, y_val)],
            eval_sample_weight=None if sample_weight_val is None else [sample_weight_val],
            callbacks=[lightgbm.early_stopping(patience, first_metric_only=True, verbose=False)],
        )
    return model, int(model.best_iteration_ or model.n_estimators)
