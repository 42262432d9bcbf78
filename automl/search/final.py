"""The final model of a search: an ensemble of its best trials, or its best trial alone.

Steps, all within what the deadline leaves:

1. greedy ensemble selection over the out-of-fold predictions the search kept
   (:func:`automl.ensemble.select_ensemble`); kept only when it has two members or more
   and its mean fold score beats the best trial's;
2. the members refit on all rows, the best trial first, as many at once as the executor
   runs (:func:`automl.search.refit.refit_members`); a member that fails or runs out of
   time is left out and the others reweighted, and the ensemble is kept only if it still
   beats the best trial;
3. otherwise the best trial refit alone (:func:`automl.search.refit.refit_best`), reusing
   its refit from step 2 when there was one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from automl.builder import Candidate
from automl.ensemble import Ensemble, reweighted, select_ensemble, voting_model
from automl.execution.base import Executor
from automl.search.loop import SearchOutcome, SearchSettings
from automl.search.refit import ALL_ROWS, FinalModel, refit_best, refit_members

logger = logging.getLogger("automl.search")


def fit_final(
    outcome: SearchOutcome,
    candidates: dict[str, Candidate],
    executor: Executor,
    settings: SearchSettings,
    ensemble_size: int,
) -> tuple[FinalModel, Ensemble | None]:
    """The final model and, when it is one, the ensemble it was built from."""
    study, context = outcome.study, outcome.context
    metric = settings.metric
    best = study.best_trial
    ensemble = None
    # after Ctrl-C the user waits: the best trial alone, as before
    if ensemble_size > 0 and len(outcome.pool) >= 2 and not outcome.interrupted:
        ensemble = _select(outcome, settings, ensemble_size, executor.capacity)
    refitted: dict[int, Any] = {}
    if ensemble is not None:
        started = time.monotonic()
        order = sorted(ensemble.trials, key=lambda t: t != best.number)
        refitted = refit_members(
            study, order, candidates, executor, settings.deadline, settings.trial_time_limit
        )
        if len(refitted) < len(ensemble) and len(refitted) >= 2:
            ensemble = reweighted(
                ensemble,
                list(refitted),
                outcome.pool,
                context.y,
                context.splits,
                metric,
                context.profile.classes or None,
                settings.sample_weight,
            )
        if len(refitted) >= 2 and metric.better(ensemble.score, study.best_value):
            model = voting_model(
                [refitted[t] for t in ensemble.trials],
                [f"trial{t}_{a}" for t, a in zip(ensemble.trials, ensemble.algorithms)],
                ensemble.weights,
                context.X,
                context.y,
            )
            return FinalModel(model, ALL_ROWS, time.monotonic() - started), ensemble
        logger.info(
            "Ensemble not kept: %d of its %d members were refit in time.",
            len(refitted),
            len(ensemble),
        )
    final = refit_best(
        study,
        candidates,
        executor,
        settings.deadline,
        outcome.clock.expected_refit(margin=False),
        settings.trial_time_limit,
        outcome.best_fold_model,
        refitted=refitted.get(best.number),
    )
    return final, None


def _select(
    outcome: SearchOutcome, settings: SearchSettings, ensemble_size: int, capacity: int
) -> Ensemble | None:
    context, metric = outcome.context, settings.metric
    started = time.monotonic()
    deadline, refit_budget = None, None
    if settings.deadline is not None:
        deadline = started + outcome.clock.selection_seconds
        # the members refit as many at once as the executor runs
        refit_budget = max(settings.deadline - deadline, 0.0) * capacity
    try:
        ensemble = select_ensemble(
            outcome.pool,
            context.y,
            context.splits,
            metric,
            context.profile.classes or None,
            settings.sample_weight,
            max_size=ensemble_size,
            deadline=deadline,
            refit_budget=refit_budget,
        )
    except (ValueError, TypeError) as exc:  # a scorer that cannot take averaged predictions
        logger.warning("No ensemble: scoring its predictions failed (%s).", exc)
        return None
    best_value = float(outcome.study.best_value)
    if ensemble is None or len(ensemble) < 2 or not np.isfinite(ensemble.score):
        return None
    if not metric.better(ensemble.score, best_value):
        logger.info(
            "Ensemble not kept: its CV score %.4g does not beat the best trial's %.4g.",
            ensemble.score,
            best_value,
        )
        return None
    return ensemble
