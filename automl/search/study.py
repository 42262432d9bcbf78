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
from automl.storage import DriverClaim, StudyStore, open_study

# Optuna's MedianPruner defaults as this engine used them: no pruning before 10 complete
# trials, nor after the first fold.
PRUNE_STARTUP_TRIALS = 10
PRUNE_WARMUP_FOLDS = 1


def make_sampler(strategy: str, seed: int | None, n_candidates: int) -> optuna.samplers.BaseSampler:
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
) -> tuple[optuna.Study, list[str], DriverClaim | None]:
    """In memory, or in the store (claimed; resumed when asked): study, candidates, claim."""
    pruner = optuna.pruners.NopPruner()
    if store is None:
        study = optuna.create_study(direction=metric.direction, sampler=sampler, pruner=pruner)
        _name_the_objective(study, metric)
        return study, candidates, None
    study, names, claim = open_study(
        store, fingerprint, candidates, metric.direction, sampler, pruner
    )
    _name_the_objective(study, metric)
    missing = [n for n in names if n not in candidates]
    if missing:
        claim.release()
        raise InvalidParameterError(
            f"The stored search uses algorithms that are not available now: {missing}. "
            "Restore their space files (or install their libraries) to resume."
        )
    return study, names, claim


def _name_the_objective(study: optuna.Study, metric: Metric) -> None:
    """So optuna-dashboard and ``trials_dataframe`` say "roc_auc", not "Objective 0"."""
    if study.metric_names != [metric.name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([metric.name])


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
