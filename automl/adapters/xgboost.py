"""XGBoost: declare categorical columns, and accept any class labels.

XGBClassifier only accepts labels 0..K-1. A soft ``VotingClassifier`` around the single
model label-encodes ``y`` on fit and decodes predictions, while its probabilities are the
model's own; it is a stock scikit-learn class, so the pipeline still loads without automl.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import VotingClassifier

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
