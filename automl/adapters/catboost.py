"""CatBoost: declare the categorical columns, predict plain labels, keep ``clone`` working.

- The space file asks for ``categorical_codes = "integer"``: the categorical columns come
  first, as integer codes in a DataFrame (CatBoost refuses float category values), and are
  declared by position. As a tuple: CatBoost's ``get_params`` returns a copy of a list, which
  scikit-learn's ``clone`` rejects as a parameter "modified by the constructor".
- ``CatBoostClassifier.predict`` returns a column of shape (n, 1). A one-model soft
  ``VotingClassifier`` around it (as for XGBoost) predicts a flat array of the original
  labels from its probabilities, and is a stock scikit-learn class.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import VotingClassifier

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    if context.categorical_positions:
        params = {**params, "cat_features": tuple(context.categorical_positions)}
    model = estimator_class(**params)
    if context.task == "regression":
        return model
    return VotingClassifier([("catboost", model)], voting="soft")
