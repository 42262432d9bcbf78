"""Threshold metrics (f1, mcc) on binary tasks: the decision threshold is tuned on the training
rows of each fit (scikit-learn's TunedThresholdClassifierCV) instead of left at 0.5."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.model_selection import TunedThresholdClassifierCV

import automl
from automl.persistence import load_model, save_model

# the best trial's own pipeline is inspected: no ensemble
FAST = dict(
    n_trials=2,
    time_budget=None,
    cv=3,
    random_state=0,
    algorithms=["logistic_regression"],
    ensemble=False,
)


@pytest.fixture(scope="module")
def rare():
    return make_classification(
        n_samples=500, n_features=8, weights=[0.9], flip_y=0.02, random_state=1
    )


@pytest.mark.parametrize("metric, scoring", [("f1", "f1"), ("mcc", "matthews_corrcoef")])
def test_the_threshold_is_tuned_for_f1_and_mcc(rare, metric, scoring, tmp_path):
    X, y = rare
    model = automl.fit(X, y, metric=metric, **FAST)
    tuned = model.best_pipeline_[-1]
    assert isinstance(tuned, TunedThresholdClassifierCV) and tuned.scoring == scoring
    threshold = tuned.best_threshold_
    assert threshold != pytest.approx(0.5)
    proba = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (proba >= threshold).astype(int))
    loaded = load_model(save_model(model, X, tmp_path / "m.automl"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_other_metrics_and_multiclass_keep_the_plain_estimator(rare):
    X, y = rare
    model = automl.fit(X, y, metric="roc_auc", **FAST)
    assert not isinstance(model.best_pipeline_[-1], TunedThresholdClassifierCV)
    X, y = load_iris(return_X_y=True)
    model = automl.fit(X, y, metric="mcc", **FAST)  # mcc on three classes: no threshold
    assert not isinstance(model.best_pipeline_[-1], TunedThresholdClassifierCV)
    assert "mcc" in automl.metric_names("multiclass")
