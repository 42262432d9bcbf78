"""The Optuna study of a search: its sampler, where it lives, and the pruning rule.

TPE (multivariate, grouped: what conditional spaces need) with ``constant_liar``: while
trials run in parallel, TPE treats each running trial as if it had scored badly, so it
does not propose the same point k times. The study's own pruner is not used: trials run
in workers, away from the study, so the median rule travels with each task
(:class:`MedianRule`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import optuna

from automl.evaluation import Metric
from automl.exceptions import InvalidParameterError
from automl.objectives import CONSTRAINTS_ATTR, COST_COLUMNS
from automl.storage import DriverClaim, StudyStore, open_study

# Optuna's MedianPruner defaults as this engine used them: no pruning before 10 complete
# trials, nor after the first fold.
PRUNE_STARTUP_TRIALS = 10
PRUNE_WARMUP_FOLDS = 1


def make_sampler(strategy: str, seed: int | None, n_candidates: int) -> optuna.samplers.BaseSampler:
    """TPE for ``bayesian``, with one objective or several: TPE's multi-objective form
    (MOTPE) rather than NSGA-II, whose crossover only works on the parameters every trial
    shares; in a joint space each algorithm has its own, so NSGA-II would sample them at
    random. With constraints, TPE learns from which trials met them (the driver sets them
    on each trial with ``Trial.set_constraint``).
    """
    with warnings.catch_warnings():
        # multivariate/group TPE and constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if strategy == "bayesian":
            return optuna.samplers.TPESampler(
                seed=seed,
                multivariate=True,
                group=True,
                constant_liar=True,
                n_startup_trials=max(10, n_candidates),
            )
    # grid and manual trials are fully enqueued: the sampler is never consulted.
    return optuna.samplers.RandomSampler(seed=seed)


def create_study(
    store: StudyStore | None,
    fingerprint: dict[str, Any],
    candidates: list[str],
    metric: Metric,
    sampler: optuna.samplers.BaseSampler,
    costs: tuple[str, ...] = (),
) -> tuple[optuna.Study, list[str], DriverClaim | None]:
    """In memory, or in the store (claimed; resumed when asked): study, candidates, claim.

    With ``costs`` the study has one more objective per cost, each minimised.
    """
    pruner = optuna.pruners.NopPruner()
    directions: list[Any] = [metric.direction] + ["minimize"] * len(costs)
    if store is None:
        study = optuna.create_study(directions=directions, sampler=sampler, pruner=pruner)
        _name_the_objectives(study, metric, costs)
        return study, candidates, None
    study, names, claim = open_study(store, fingerprint, candidates, directions, sampler, pruner)
    _name_the_objectives(study, metric, costs)
    missing = [n for n in names if n not in candidates]
    if missing:
        claim.release()
        raise InvalidParameterError(
            f"The stored search uses algorithms that are not available now: {missing}. "
            "Restore their space files (or install their libraries) to resume."
        )
    return study, names, claim


def _name_the_objectives(study: optuna.Study, metric: Metric, costs: tuple[str, ...]) -> None:
    """So optuna-dashboard and ``trials_dataframe`` say "roc_auc", not "Objective 0"."""
    names = [metric.name, *(COST_COLUMNS[c] for c in costs)]
    if study.metric_names != names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(names)


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The most accurate complete trial that meets the constraints (if the study has any).

    For one objective without constraints, Optuna's ``best_trial``. For several, Optuna has
    no single best: the most accurate point of the Pareto front is taken (it is always on
    the front), ties broken by the costs in order. When no trial meets the constraints,
    the most accurate of all (the estimator warns).
    """
    if len(study.directions) == 1 and not _constrained(study):
        return study.best_trial
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ValueError("No trials are completed yet.")
    feasible = [t for t in complete if meets_constraints(t)] or complete
    signs = [1.0 if d == optuna.study.StudyDirection.MINIMIZE else -1.0 for d in study.directions]
    return min(feasible, key=lambda t: [s * v for s, v in zip(signs, t.values)])


def meets_constraints(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether every constraint the driver measured for ``trial`` holds (none: it does)."""
    return all(v <= 0 for v in trial.user_attrs.get(CONSTRAINTS_ATTR, []))


def _constrained(study: optuna.Study) -> bool:
    return any(
        CONSTRAINTS_ATTR in t.user_attrs
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    )


def best_value(study: optuna.Study) -> float:
    """The accuracy of :func:`best_trial`."""
    return float(best_trial(study).values[0])


class MedianRule:
    """Optuna's MedianPruner rule, computed in the driver and sent with each task.

    After fold ``s`` (from the second fold, before the last), a trial is pruned when the
    best of its running means is worse than the median of the complete trials' running
    means after fold ``s``; only once ``PRUNE_STARTUP_TRIALS`` trials are complete.
    """

    def __init__(self, metric: Metric, n_folds: int, enabled: bool) -> None:
        self.metric = metric
        self.n_folds = n_folds
        self.enabled = enabled and n_folds > 2
        self._running: dict[int, list[float]] = {}
        self._complete = 0

    def add(self, running_means: list[float]) -> None:
        """Record a complete trial's running mean after each fold."""
        self._complete += 1
        for step, value in enumerate(running_means):
            self._running.setdefault(step, []).append(value)

    def thresholds(self) -> dict[int, float]:
        if not self.enabled or self._complete < PRUNE_STARTUP_TRIALS:
            return {}
        return {
            step: float(np.median(self._running[step]))
            for step in range(PRUNE_WARMUP_FOLDS, self.n_folds - 1)
            if self._running.get(step)
        }


def running_means(scores: list[float]) -> list[float]:
    return [float(np.mean(scores[: i + 1])) for i in range(len(scores))]
