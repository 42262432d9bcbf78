"""HistGradientBoosting: declare the ordinal-encoded columns as categorical by position."""

from __future__ import annotations

from typing import Any

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    categorical = list(context.categorical_positions) or None
    return estimator_class(**params, categorical_features=categorical)


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
    """Fit with scikit-learn's own early stopping on the given validation rows (its loss).

    It does not roll back: the model keeps the ``patience`` rounds past the best, so the
    rounds for the refit are those before them (all of them if it never stopped).
    """
    model.set_params(early_stopping=True, n_iter_no_change=patience, scoring="loss")
    model.fit(
        X,
        y,
        sample_weight=sample_weight,
        X_val=X_val,
        y_val=y_val,
        sample_weight_val=sample_weight_val,
    )
    stopped = model.n_iter_ < model.max_iter
    return model, int(max(model.n_iter_ - patience, 1) if stopped else model.n_iter_)
