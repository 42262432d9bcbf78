"""SVC: probabilities by Platt scaling, now that ``SVC(probability=True)`` is deprecated.

scikit-learn 1.9 recommends ``CalibratedClassifierCV(SVC(), ensemble=False)``: one SVC on
all the data, its decision values mapped to probabilities by a sigmoid fitted on
cross-validated decisions (what libsvm did internally). Three folds keep the extra cost low.

SVR's ``epsilon`` (0.001 to 1) assumes a target on unit scale, so for regression the target
is standardised with ``TransformedTargetRegressor`` (as auto-sklearn does).
"""

from __future__ import annotations

from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import StandardScaler

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()
CALIBRATION_FOLDS = 3


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    model = estimator_class(**params)
    if context.task == "regression":
        return TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return CalibratedClassifierCV(model, method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False)
