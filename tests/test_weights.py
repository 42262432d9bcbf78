"""sample_weight: every trial's fit (where the learner takes weights), every score, the dummy
reference, nested CV and the refit; learners without weights are named."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

import automl
from automl.exceptions import AutoMLWarning, DataValidationError

# The default configuration (portfolio=False): the portfolio's first logistic regression
# (C=119) stops at lbfgs's iteration limit, where one thread (the workers) and several (this
# process, refitting by hand below) give slightly different models.
ONE = dict(n_trials=1, time_budget=None, cv=3, random_state=0, portfolio=False)


@pytest.fixture(scope="module")
def weighted():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    w = np.where(y == 0, 5.0, 1.0) * np.random.default_rng(0).uniform(0.5, 1.5, len(y))
    return X, y.to_numpy(), w


def test_weights_reach_every_fold_fit_every_score_and_the_refit(weighted):
    X, y, w = weighted
    plain = automl.fit(X, y, algorithms=["logistic_regression"], **ONE)
    model = automl.fit(X, y, sample_weight=w, algorithms=["logistic_regression"], **ONE)
    assert model.cv_splits_[0][1].tolist() == plain.cv_splits_[0][1].tolist()  # same folds
    # the search's score is the weighted metric of weighted fold fits
    scores = []
    for train, test in model.cv_splits_:
        fold = clone(model.best_pipeline_).fit(
            X.iloc[train], y[train], model__sample_weight=w[train]
        )
        p = fold.predict_proba(X.iloc[test])[:, 1]
        scores.append(roc_auc_score(y[test], p, sample_weight=w[test]))
    assert model.best_score_ == pytest.approx(np.mean(scores))
    assert model.best_score_ != pytest.approx(plain.best_score_)
    # the final model was refit with the weights: it leans to the heavy class 0
    assert (model.predict(X) == 0).sum() > (plain.predict(X) == 0).sum()
    refit = clone(model.best_pipeline_).fit(X, y, model__sample_weight=w)
    np.testing.assert_allclose(model.predict_proba(X), refit.predict_proba(X))


def test_a_learner_without_weights_is_named_and_its_scores_are_weighted(weighted):
    X, y, w = weighted
    with pytest.warns(AutoMLWarning, match=r"sample_weight is not used to fit \['knn'\]"):
        model = automl.fit(X, y, sample_weight=w, algorithms=["knn", "gaussian_nb"], **ONE)
    assert set(model.leaderboard_["state"]) == {"complete"}


def test_nested_cv_and_the_dummy_reference_are_weighted(weighted):
    X, y, w = weighted
    nested = dict(
        algorithms=["gaussian_nb"], outer_cv=2, n_trials=1, time_budget=None, cv=2, random_state=0
    )
    model = automl.fit(X, y, sample_weight=w, **nested)
    plain = automl.fit(X, y, **nested)
    assert len(model.nested_cv_.folds) == 2
    assert not np.allclose(model.nested_cv_.scores, plain.nested_cv_.scores)
    assert model.dummy_score_ == pytest.approx(0.5)  # a constant predictor, weighted or not
    assert model.best_score_ != pytest.approx(plain.best_score_)


@pytest.mark.parametrize(
    "weights, message",
    [
        (lambda n: np.ones(n - 1), r"one weight per row \(569\)"),
        (lambda n: np.r_[-1.0, np.ones(n - 1)], "row 0 has -1.0"),
        (lambda n: np.zeros(n), "zero for every row"),
    ],
)
def test_bad_weights_are_named(weighted, weights, message):
    X, y, _ = weighted
    with pytest.raises(DataValidationError, match=message):
        automl.fit(X, y, sample_weight=weights(len(y)), **ONE)
