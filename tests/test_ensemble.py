"""Greedy ensemble selection over the best trials, and the ensemble as the final model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

import automl
from automl.ensemble import PoolEntry, fold_scores_of, reweighted, select_ensemble
from automl.evaluation import make_splits, resolve_metric
from automl.exceptions import InvalidParameterError
from automl.persistence import load_model, save_model
from automl.report import Report
from automl.report.text import headline
from automl.results import summary

# Four different learners, evaluated as given: diverse enough that an average of their
# predictions beats the best of them on these data sets.
DIVERSE = [
    {"algorithm": "logistic_regression"},
    {"algorithm": "random_forest", "n_estimators": 50},
    {"algorithm": "knn"},
    {"algorithm": "gaussian_nb"},
]


def _noisy_views(seed: int = 0, n: int = 600):
    """A binary target and two predictors, each seeing half of the signal plus noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (a + b > 0).astype(int)
    splits = make_splits(3, "binary", y, random_state=seed)

    def proba(signal):
        p = 1 / (1 + np.exp(-(signal + rng.normal(scale=1.0, size=n))))
        return np.column_stack([1 - p, p])

    return y, splits, proba(2 * a), proba(2 * b), proba(rng.normal(size=n))


def test_selection_averages_complementary_predictions_and_beats_each():
    y, splits, left, right, noise = _noisy_views()
    metric = resolve_metric("roc_auc", "binary")
    pool = [
        PoolEntry(0, "a", 0.8, left),
        PoolEntry(1, "b", 0.8, right),
        PoolEntry(2, "noise", 0.5, noise),
    ]
    ensemble = select_ensemble(pool, y, splits, metric, (0, 1))
    weight = dict(zip(ensemble.trials, ensemble.weights))
    assert {0, 1} <= set(weight)
    assert min(weight[0], weight[1]) > 4 * weight.get(2, 0.0)  # noise helps by chance at most
    assert np.isclose(sum(ensemble.weights), 1.0)
    for member in (left, right):
        assert ensemble.score > np.mean(fold_scores_of(member, y, splits, metric, (0, 1)))
    members = {0: left, 1: right, 2: noise}
    assert np.allclose(ensemble.oof, sum(w * members[t] for t, w in weight.items()))


def test_selection_never_adds_a_member_whose_refit_would_cross_the_budget():
    y, splits, left, right, _ = _noisy_views(seed=1)
    metric = resolve_metric("log_loss", "binary")
    pool = [PoolEntry(0, "a", 0.5, left, 1.0), PoolEntry(1, "b", 0.5, right, 10.0)]
    assert set(select_ensemble(pool, y, splits, metric, (0, 1)).trials) == {0, 1}
    cheap = select_ensemble(pool, y, splits, metric, (0, 1), refit_budget=5.0)
    assert cheap.trials in ((0,), (1,)) and cheap.trials != (1,)


def test_reweighting_after_a_failed_refit_renormalises_the_rest():
    y, splits, left, right, noise = _noisy_views(seed=2)
    metric = resolve_metric("roc_auc", "binary")
    pool = [PoolEntry(0, "a", 0.8, left), PoolEntry(1, "b", 0.8, right)]
    ensemble = select_ensemble(pool, y, splits, metric, (0, 1))
    alone = reweighted(ensemble, [0], pool, y, splits, metric, (0, 1))
    assert alone.trials == (0,) and alone.weights == (1.0,)
    assert alone.score < ensemble.score


def _diverse_fit(X, y, **settings):
    return automl.fit(
        X,
        y,
        strategy="manual",
        configurations=settings.pop("configurations", DIVERSE),
        time_budget=None,
        cv=3,
        random_state=0,
        **settings,
    )


def test_the_final_model_is_a_frozen_soft_vote_of_the_members_refit_on_all_rows(tmp_path):
    X, y = make_classification(
        n_samples=400, n_features=12, n_informative=6, flip_y=0.1, random_state=0
    )
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
    model = _diverse_fit(X, y)
    assert model.ensemble_ is not None, model.leaderboard_
    vote = model.best_pipeline_
    assert isinstance(vote, VotingClassifier) and vote.voting == "soft"
    assert all(isinstance(e, FrozenEstimator) for e in vote.estimators_)
    assert np.isclose(sum(vote.weights), 1.0)
    assert len(vote.estimators_) == len(model.ensemble_) >= 2
    # the vote is the weighted mean of its members, each a pipeline fitted on all 400 rows
    members = [e.estimator for e in vote.estimators_]
    assert all(isinstance(m, Pipeline) for m in members)
    expected = sum(w * m.predict_proba(X) for w, m in zip(vote.weights, members))
    assert np.allclose(model.predict_proba(X), expected)
    # it beat the best trial on the folds; the best single trial is still described
    assert model.ensemble_score_ > model.best_score_
    assert model.best_params_["algorithm"] == model.best_algorithm_
    assert model.ensemble_score_ == pytest.approx(np.mean(model.ensemble_fold_scores_))
    assert len(model.ensemble_fold_scores_) == 3
    # leaderboard_ lists the trials; the report adds the ensemble's row
    assert len(model.leaderboard_) == len(DIVERSE) == model.n_trials_
    rendered = Report.from_source(model, X, y)
    assert "ensemble" in rendered.to_html() and "optimistic" in rendered.to_markdown()
    report = rendered.to_dict()
    row = report["models"][0]
    assert row["algorithm"] == "ensemble" and row["mean"] == pytest.approx(model.ensemble_score_)
    assert "optimistic" in row["note"] and len(row["members"]) == len(model.ensemble_)
    assert "ensemble of" in " ".join(headline(report))
    # the model file holds the ensemble, trusts each member's types, and predicts the same
    saved = load_model(save_model(model, X, tmp_path / "model.automl"))
    assert sorted(saved.metadata["algorithms"]) == sorted(set(model.ensemble_["algorithm"]))
    assert np.allclose(saved.predict_proba(X), model.predict_proba(X))
    assert "ensemble of" in summary(model)


def test_ensemble_false_returns_the_best_pipeline_alone():
    X, y = make_classification(
        n_samples=400, n_features=12, n_informative=6, flip_y=0.1, random_state=0
    )
    model = _diverse_fit(X, y, ensemble=False)
    assert isinstance(model.best_pipeline_, Pipeline)
    assert model.ensemble_ is None and model.ensemble_score_ is None
    assert "ensemble" not in summary(model)


def test_a_regression_ensemble_is_a_weighted_mean():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = _diverse_fit(
        X,
        y,
        configurations=[
            {"algorithm": "ridge"},
            {"algorithm": "random_forest", "n_estimators": 50},
            {"algorithm": "knn"},
        ],
    )
    assert model.ensemble_ is not None, model.leaderboard_
    vote = model.best_pipeline_
    assert isinstance(vote, VotingRegressor)
    members = [e.estimator for e in vote.estimators_]
    expected = sum(w * m.predict(X) for w, m in zip(vote.weights, members))
    assert np.allclose(model.predict(X), expected)
    assert model.ensemble_score_ < model.best_score_  # rmse: lower is better


def test_no_ensemble_for_a_tuned_decision_threshold():
    X, y = load_breast_cancer(return_X_y=True)
    model = _diverse_fit(X[:300], y[:300], metric="f1")
    assert model.ensemble_ is None
    assert isinstance(model.best_pipeline_, Pipeline)


def test_nested_cv_scores_the_ensemble_on_the_outer_folds():
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=5, flip_y=0.1, random_state=1
    )
    model = _diverse_fit(X, y, outer_cv=2)
    folds = model.nested_cv_.folds
    assert len(folds) == 2 and np.isfinite(folds["roc_auc"]).all()
    # each outer fold's final model was an ensemble, scored on rows its search never saw;
    # its inner score is the ensemble's (so the optimism is the ensemble's too)
    assert list(folds["algorithm"]) == ["ensemble", "ensemble"], folds
    assert all(len(p) >= 2 for p in folds["params"])


@pytest.mark.parametrize("value", [0, -3, 2.5, "big"])
def test_ensemble_size_must_be_a_positive_int(value):
    with pytest.raises(InvalidParameterError, match="'ensemble_size'.*ensemble=False"):
        automl.AutoMLClassifier(ensemble_size=value, n_trials=2).fit(
            *make_classification(n_samples=60, random_state=0)
        )


def test_a_scorer_that_cannot_score_stored_predictions_leaves_the_best_trial(caplog):
    """A scorer on decision_function cannot score averaged probabilities: no ensemble, and
    the search's result stands (the fit does not fail after the search)."""
    from sklearn.metrics import make_scorer, roc_auc_score

    scorer = make_scorer(roc_auc_score, response_method="decision_function")
    X, y = make_classification(n_samples=300, n_features=8, random_state=2)
    configurations = [
        {"algorithm": "logistic_regression"},
        {"algorithm": "logistic_regression", "C": 0.05},
        {"algorithm": "logistic_regression", "C": 100.0},
    ]
    with caplog.at_level("WARNING", logger="automl.search"):
        model = _diverse_fit(X, y, metric=scorer, configurations=configurations)
    assert model.ensemble_ is None and isinstance(model.best_pipeline_, Pipeline)
    assert "No ensemble" in caplog.text
    assert np.isnan(model.dummy_score_)  # nor can it score the dummy model


def test_a_users_scorer_named_like_a_builtin_metric_is_used_as_given():
    """Selection scores a user's scorer through the scorer, even when it is called rmse
    (a user's scorer is greater-is-better; the built-in rmse is not)."""
    y, splits, left, right, _ = _noisy_views(seed=3)
    builtin = resolve_metric("log_loss", "binary")
    mine = type(builtin)("log_loss", builtin.scorer, True)  # a scorer object: -log_loss
    pool = [PoolEntry(0, "a", -0.5, left), PoolEntry(1, "b", -0.5, right)]
    chosen = select_ensemble(pool, y, splits, mine, (0, 1))
    reference = select_ensemble(pool, y, splits, builtin, (0, 1))
    assert chosen.trials == reference.trials and chosen.weights == reference.weights
    assert chosen.score == pytest.approx(-reference.score)
