"""Adapters: the quirks of each library handled where the space file cannot."""

from __future__ import annotations

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_regression

from automl.builder import build_pipeline, make_candidate
from automl.data import validate_data
from automl.registry import load_registry

REGISTRY = load_registry()


def _pipeline(name, task, X, y, **config):
    _, _, profile = validate_data(X, y, task=task)
    candidate = make_candidate(REGISTRY[name], task)
    return build_pipeline(candidate, {**candidate.opening_config(), **config}, profile, 0)


def test_knn_never_asks_for_more_neighbours_than_rows():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    pipeline = _pipeline("knn", "binary", X, y, n_neighbors=100).fit(X[:30], y[:30])
    assert pipeline[-1].n_neighbors == 20
    assert pipeline.predict(X[30:]).shape == (10,)


def test_mlp_and_svr_standardise_a_regression_target():
    X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    y = 1000 + 300 * y  # far from unit scale, like most real targets
    for name in ("mlp", "svm"):
        pipeline = _pipeline(name, "regression", X, y).fit(X[:150], y[:150])
        assert isinstance(pipeline[-1], TransformedTargetRegressor)
        r2 = pipeline.score(X[150:], y[150:])
        assert r2 > 0.5, (name, r2)


def test_xgboost_classifier_accepts_any_labels_and_declares_categories():
    rng = np.random.default_rng(0)
    import pandas as pd

    X = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 120), "x": rng.normal(size=120)})
    y = np.where(X["c"] == "a", "spam", "ham")
    pipeline = _pipeline("xgboost", "binary", X, y).fit(X, y)
    assert set(pipeline.predict(X)) <= {"spam", "ham"}
    assert pipeline[-1].estimators_[0].feature_types == ["c", "q"]
