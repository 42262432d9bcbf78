"""Imbalanced classification: class balancing is searched, for the learners that declare it,
only when the rarest class is under 10% of the rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

import automl
from automl.builder import IMBALANCE_SHARE, is_imbalanced, make_candidate
from automl.exceptions import InvalidParameterError, SearchSpaceError
from automl.registry import load_registry
from automl.space import parse_space

REGISTRY = load_registry()
FAST = dict(time_budget=None, cv=3, random_state=0)


def data(minority: float):
    return make_classification(
        n_samples=400, n_features=6, weights=[1 - minority], flip_y=0, random_state=0
    )


def test_balancing_is_in_the_space_only_for_imbalanced_data_and_declaring_learners():
    _, y_rare = data(0.05)
    _, y_even = data(0.4)
    assert is_imbalanced(y_rare, "binary") and not is_imbalanced(y_even, "binary")
    assert not is_imbalanced(np.arange(10.0), "regression")
    for name, spec in REGISTRY.items():
        if not spec.supports("binary"):
            continue
        searched = {p.name for p in make_candidate(spec, "binary", imbalanced=True).params}
        assert ("balanced" in searched) == bool(spec.balanced), name
        plain = {p.name for p in make_candidate(spec, "binary", imbalanced=False).params}
        assert "balanced" not in plain
    assert {"logistic_regression", "lightgbm", "random_forest"} <= {
        n for n, s in REGISTRY.items() if s.balanced
    }
    assert not REGISTRY["knn"].balanced and IMBALANCE_SHARE == 0.10


def test_a_balanced_configuration_weights_the_classes(tmp_path):
    X, y = data(0.05)
    configurations = [
        {"algorithm": "logistic_regression", "balanced": True},
        {"algorithm": "logistic_regression", "balanced": False},
    ]
    model = automl.fit(
        X,
        y,
        strategy="manual",
        configurations=configurations,
        metric="balanced_accuracy",
        ensemble=False,  # the best trial's own pipeline is inspected
        **FAST,
    )
    board = model.leaderboard_.sort_values("trial")
    assert [p["balanced"] for p in board["params"]] == [True, False]
    chosen = model.best_pipeline_[-1]
    assert chosen.class_weight == ("balanced" if model.best_params_["balanced"] else None)
    # the searched space holds it too: a Bayesian search draws it
    searched = automl.fit(X, y, n_trials=12, algorithms=["logistic_regression"], **FAST)
    assert {p["balanced"] for p in searched.leaderboard_["params"]} == {True, False}


def test_balanced_data_has_no_balancing_to_configure():
    X, y = data(0.4)
    with pytest.raises(InvalidParameterError, match="names 'balanced', which is not in"):
        automl.fit(
            X,
            y,
            strategy="manual",
            configurations=[{"algorithm": "logistic_regression", "balanced": True}],
            **FAST,
        )


def test_the_balanced_table_is_a_version_2_key_for_classifiers():
    head = 'estimator.classification = "sklearn.svm:SVC"\n'
    with pytest.raises(SearchSpaceError, match=r"\['balanced'\] need schema_version = 2"):
        parse_space("schema_version = 1\n" + head + '[balanced]\nclass_weight = "balanced"\n', "x")
    with pytest.raises(SearchSpaceError, match="only classifiers weight classes"):
        parse_space(
            'schema_version = 2\nestimator.regression = "sklearn.svm:SVR"\n'
            '[balanced]\nclass_weight = "balanced"\n',
            "x",
        )
    spec = parse_space(
        "schema_version = 2\n" + head + '[balanced]\nclass_weight = "balanced"\n', "x"
    )
    assert spec.balanced == {"class_weight": "balanced"}
