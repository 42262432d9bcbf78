"""The algorithm of a sampled trial: drawn by estimated cost for improvement (FLAML's ECI)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

import automl
from automl.exceptions import InvalidParameterError
from automl.search.algorithm_choice import CostAwareSampler, estimated_costs

ALGORITHMS = ["cheap_near", "dear_far", "leader"]
DIST = {"algorithm": CategoricalDistribution(ALGORITHMS)}
T0 = dt.datetime(2026, 1, 1)


def _trial(algorithm, value, state=TrialState.COMPLETE, folds=3):
    return create_trial(
        state=state,
        value=value if state == TrialState.COMPLETE else None,
        params={"algorithm": algorithm},
        distributions=DIST,
        user_attrs={"fold_scores": [0.0] * folds},
    )


def _skipped(algorithm):
    trial = _trial(algorithm, None, state=TrialState.PRUNED, folds=0)
    trial.set_user_attr("skipped", "expected 9.0s, 2.0s left")
    return trial


def _timed(trial, start, seconds):
    trial.datetime_start = T0 + dt.timedelta(seconds=start)
    trial.datetime_complete = trial.datetime_start + dt.timedelta(seconds=seconds)
    return trial


def _numbered(trials):
    for number, t in enumerate(trials):
        t.number = number
    return trials


HISTORY = _numbered(
    [
        _trial("leader", 0.80),
        _trial("leader", 0.90),
        _trial("cheap_near", 0.88),
        _trial("dear_far", 0.60),
    ]
)
COSTS = {"cheap_near": 0.5, "dear_far": 4.0, "leader": 1.0}


def test_the_leader_and_a_cheap_near_algorithm_are_expected_to_improve_soonest():
    eci = estimated_costs(HISTORY, COSTS, maximize=True, n_folds=3)
    # leader: found its best one trial after the previous one, nothing spent since
    assert eci["leader"] == pytest.approx(1.0)
    # close to the best: its own next improvement is what it costs (one cheap trial)
    assert eci["cheap_near"] == pytest.approx(0.5)
    assert eci["dear_far"] > 100 * eci["leader"]  # the worst: the floor on speed
    assert estimated_costs(HISTORY[:3], COSTS, maximize=True, n_folds=3) is None  # opening


def test_measured_costs_and_failures():
    timed = [_timed(t, 10 * i, s) for i, (t, s) in enumerate(zip(HISTORY, [1, 1, 8, 2]))]
    eci = estimated_costs(timed, COSTS, maximize=True, n_folds=3, measured=True)
    assert eci["cheap_near"] == pytest.approx(8.0)  # slow in fact, whatever it declared
    failing = _numbered(
        [*HISTORY, *[_trial("cheap_near", None, state=TrialState.FAIL) for _ in range(3)]]
    )
    assert estimated_costs(failing, COSTS, True, 3)["cheap_near"] == np.inf
    # an algorithm that has not scored yet is never preferred to one that has; a skipped
    # trial (never run: too long for the time left) is not a trial of it at all
    unscored = _numbered(
        [*HISTORY[:3], _trial("dear_far", None, state=TrialState.FAIL), _skipped("cheap_near")]
    )
    eci = estimated_costs(unscored, COSTS, maximize=True, n_folds=3, measured=False)
    assert eci["dear_far"] >= max(eci["leader"], eci["cheap_near"])
    assert eci["cheap_near"] == pytest.approx(0.5)
    # minimising: the same ranking with the signs turned
    flipped = _numbered([_trial(t.params["algorithm"], -t.value) for t in HISTORY])
    assert estimated_costs(flipped, COSTS, maximize=False, n_folds=3) == pytest.approx(
        estimated_costs(HISTORY, COSTS, maximize=True, n_folds=3)
    )


def test_the_sampler_draws_in_proportion_to_one_over_eci_and_is_seeded():
    def draws(seed):
        base = optuna.samplers.RandomSampler(seed=0)
        study = optuna.create_study(
            direction="maximize", sampler=CostAwareSampler(base, COSTS, 3, seed)
        )
        for t in HISTORY:
            study.add_trial(t)
        return [study.ask().suggest_categorical("algorithm", ALGORITHMS) for _ in range(300)]

    picks = draws(1)
    assert picks == draws(1) and picks != draws(2)
    eci = estimated_costs(HISTORY, COSTS, maximize=True, n_folds=3)
    expected = {a: (1 / eci[a]) / sum(1 / v for v in eci.values()) for a in ALGORITHMS}
    for a in ALGORITHMS:
        assert picks.count(a) / 300 == pytest.approx(expected[a], abs=0.08), a
    assert picks.count("dear_far") <= 3


def test_a_search_is_reproducible_and_tpe_remains_a_choice(breast_cancer):
    X, y = breast_cancer
    settings = dict(
        n_trials=16,
        time_budget=None,
        cv=3,
        algorithms=["gaussian_nb", "logistic_regression", "knn"],
        ensemble=False,
        random_state=0,
    )
    runs = [automl.AutoMLClassifier(**settings).fit(X, y) for _ in range(2)]
    assert [t.params for t in runs[0].study_.trials] == [t.params for t in runs[1].study_.trials]
    tpe = automl.AutoMLClassifier(algorithm_choice="tpe", **settings).fit(X, y)
    assert [t.params for t in tpe.study_.trials] != [t.params for t in runs[0].study_.trials]
    with pytest.raises(InvalidParameterError, match="'algorithm_choice' parameter must be"):
        automl.AutoMLClassifier(algorithm_choice="bandit", n_trials=1).fit(X, y)
