"""scikit-learn's own estimator checks on AutoMLClassifier, AutoMLRegressor, AutoMLClusterer.

Tiny settings (one trial of one fast algorithm, 2 folds, trials in this process) so the
hundred-odd checks run in seconds; the expected failures are the published
``automl.estimators.EXPECTED_FAILED_CHECKS``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl import AutoMLClassifier, AutoMLClusterer, AutoMLRegressor
from automl.estimators import EXPECTED_FAILED_CHECKS

TINY = dict(n_trials=1, time_budget=None, cv=2, executor="inprocess", random_state=0)
ESTIMATORS = [
    AutoMLClassifier(algorithms=["logistic_regression"], **TINY),
    AutoMLRegressor(algorithms=["ridge"], **TINY),
    AutoMLClusterer(
        algorithms=["kmeans"], n_trials=2, time_budget=None, executor="inprocess", random_state=0
    ),
]


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda e: EXPECTED_FAILED_CHECKS[type(e).__name__]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_the_expected_failures_are_few_and_say_why():
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        assert name in {"AutoMLClassifier", "AutoMLRegressor", "AutoMLClusterer"}
        assert len(checks) <= 2 and all(len(reason) > 20 for reason in checks.values())


def test_score_is_scikit_learns_and_the_search_metric_stays_reachable():
    X, y = load_breast_cancer(return_X_y=True)
    model = AutoMLClassifier(algorithms=["logistic_regression"], metric="log_loss", **TINY)
    model.fit(X, y)
    assert model.score(X, y) == pytest.approx(np.mean(model.predict(X) == y))
    # the search metric, as a scikit-learn scorer: log loss negated
    assert model.scorer_(model, X, y) < 0
    X, y = load_diabetes(return_X_y=True)
    reg = AutoMLRegressor(algorithms=["ridge"], **TINY).fit(X, y)
    r2 = 1 - np.sum((reg.predict(X) - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert reg.score(X, y) == pytest.approx(r2)
    grid = GridSearchCV(reg, {"algorithms": [["ridge"], ["knn"]]}, cv=2).fit(X, y)
    assert grid.best_params_["algorithms"] in (["ridge"], ["knn"])
    assert cross_validate(reg, X, y, cv=2)["test_score"].mean() > 0.3
