"""Successive halving on rows: on large data scored on one holdout, a trial first fits on
samples of the training rows and stops there when it is worse than earlier trials."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_classification

from automl import AutoMLClassifier
from automl.fidelity import MIN_RUNG_ROWS, rung_rows, rung_sample


def test_rungs_divide_the_training_rows_by_three_down_to_the_smallest_sample():
    assert rung_rows(43_000) == (4_777, 14_333)
    assert rung_rows(3 * MIN_RUNG_ROWS) == (MIN_RUNG_ROWS,)
    assert rung_rows(3 * MIN_RUNG_ROWS - 1) == ()


def test_every_trial_fits_its_rung_on_the_same_stratified_rows():
    rng = np.random.default_rng(1)
    y = rng.choice(["a", "b", "c"], size=20_000, p=[0.8, 0.15, 0.05])
    train = np.sort(rng.choice(20_000, size=16_000, replace=False))
    sample = rung_sample(train, 5_000, y, stratify=True)
    assert len(sample) == 5_000 and np.isin(sample, train).all()
    assert np.array_equal(sample, rung_sample(train, 5_000, y, stratify=True))
    share = {c: np.mean(y[sample] == c) for c in "abc"}
    expected = {c: np.mean(y[train] == c) for c in "abc"}
    assert all(abs(share[c] - expected[c]) < 0.002 for c in "abc")


@pytest.fixture(scope="module")
def large():
    X, y = make_classification(
        n_samples=15_000, n_features=8, n_informative=4, flip_y=0.1, random_state=0
    )
    return X, y


def search(X, y, prune):
    return AutoMLClassifier(
        cv=0.2,  # one holdout: 12,000 training rows, one rung of 4,000
        n_trials=24,
        time_budget=None,
        algorithms=["gaussian_nb", "logistic_regression", "knn"],
        portfolio=False,
        ensemble=False,
        prune=prune,
        executor="inprocess",
        random_state=0,
    ).fit(X, y)


def test_trials_on_a_large_holdout_are_pruned_after_a_sample_of_rows(large):
    X, y = large
    model = search(X, y, prune=True)
    trials = [t for t in model.study_.trials if t.state != optuna.trial.TrialState.FAIL]
    assert all(len(t.user_attrs["rung_scores"]) == 1 for t in trials)
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "no trial was stopped on the sample"
    for t in pruned:
        assert "pruned after a fit on 4,000 of 12,000 training rows" in t.user_attrs["pruned"]
        assert not t.user_attrs["fold_scores"] and "fit_time" not in t.user_attrs
        # the bar was the median of the trials that had reached the rung before it
        earlier = [s.user_attrs["rung_scores"][0] for s in trials if s.number < t.number]
        assert len(earlier) >= 5 and t.user_attrs["rung_scores"][0] < max(earlier)
    board = model.leaderboard_
    assert board.loc[0, "state"] == "complete" and np.isfinite(model.best_score_)
    assert (board["note"].str.startswith("pruned after a fit on")).sum() == len(pruned)


def test_without_pruning_every_trial_fits_all_rows_at_once(large):
    X, y = large
    model = search(X, y, prune=False)
    assert all("rung_scores" not in t.user_attrs for t in model.study_.trials)
    assert (model.leaderboard_["state"] == "complete").all()
