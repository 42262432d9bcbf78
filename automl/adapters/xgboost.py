"""XGBoost: declare categorical columns, and accept any class labels.

XGBClassifier only accepts labels 0..K-1. A soft ``VotingClassifier`` around the single
model label-encodes ``y`` on fit and decodes predictions, while its probabilities are the
model's own; it is a stock scikit-learn class, so the pipeline still loads without automl.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    if context.categorical_positions:
        cats = set(context.categorical_positions)
        params = {
            **params,
            "enable_categorical": True,
            "feature_types": ["c" if i in cats else "q" for i in range(context.n_features_out)],
        }
    model = estimator_class(**params)
    if context.task == "regression":
        return model
    return VotingClassifier([("xgboost", model)], voting="soft")


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
    """Fit with XGBoost's ``early_stopping_rounds`` on ``(X_val, y_val)`` (its default loss).

    A classifier is fitted on the codes 0..K-1 of the sorted labels (the order the
    ``VotingClassifier`` wrapper uses) and wrapped already fitted (``FrozenEstimator``),
    since the wrapper cannot pass an evaluation set to the model it fits.
    """
    booster = model.estimators[0][1] if isinstance(model, VotingClassifier) else model
    booster.set_params(early_stopping_rounds=patience)
    classes = np.unique(y) if booster is not model else None
    booster.fit(
        X,
        y if classes is None else np.searchsorted(classes, y),
        sample_weight=sample_weight,
        eval_set=[(X_val, y_val if classes is None else np.searchsorted(classes, y_val))],
        sample_weight_eval_set=None if sample_weight_val is None else [sample_weight_val],
        verbose=False,
    )
    rounds = int(booster.best_iteration) + 1
    if classes is None:
        return booster, rounds
    wrapped = VotingClassifier([("xgboost", FrozenEstimator(booster))], voting="soft")
    return wrapped.fit(X, y), rounds
