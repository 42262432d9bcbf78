"""The final model of a search: an ensemble of its best trials, or its best trial alone.

Steps, all within what the deadline leaves:

1. greedy ensemble selection over the out-of-fold predictions the search kept
   (:func:`automl.ensemble.select_ensemble`); kept only when it has two members or more
   and its mean fold score beats the best trial's;
2. the members refit on all rows, as many at once as the executor runs, after the best
   trial's own refit, which runs whether or not it is a member
   (:func:`automl.search.refit.refit_members`); a member that fails or runs out of time
   is left out and the others reweighted, and the ensemble is kept only if it still
   beats the best trial;
3. otherwise the best trial alone (:func:`automl.search.refit.refit_best`), from its refit
   in step 2 when that ran (a failed one is not run again: its last training fold's
   model is kept, as always when the refit fails).

Selection keeps to the time the search left free: it scores within its share, and adds no
trial whose refit would not fit in the time left (the best trial's refit counted first).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from automl.builder import Candidate
from automl.ensemble import Ensemble, reweighted, select_ensemble, voting_model
from automl.execution.base import Executor, TaskFailure
from automl.search.loop import SearchOutcome, SearchSettings
from automl.search.refit import ALL_ROWS, FinalModel, refit_best, refit_members
from automl.search.study import best_trial, best_value
from automl.trial import RefitOutcome

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
    best = best_trial(study)
    ensemble = None
    # after Ctrl-C the user waits: the best trial alone, as before
    if ensemble_size > 0 and len(outcome.pool) >= 2 and not outcome.interrupted:
        ensemble = _select(outcome, settings, ensemble_size, executor.capacity)
    refits: dict[int, RefitOutcome | TaskFailure] = {}
    if ensemble is not None:
        started = time.monotonic()
        # the best trial first, member or not: the fallback if the ensemble falls through
        order = [best.number] + [t for t in ensemble.trials if t != best.number]
        refits = refit_members(
            study, order, candidates, executor, settings.deadline, settings.trial_time_limit
        )
        done = [t for t in ensemble.trials if isinstance(refits.get(t), RefitOutcome)]
        if 2 <= len(done) < len(ensemble):
            ensemble = _reweighted(ensemble, done, outcome, settings)
        if (
            ensemble is not None
            and len(done) >= 2
            and metric.better(ensemble.score, best_value(study))
        ):
            model = voting_model(
                [refits[t].pipeline for t in ensemble.trials],  # type: ignore[union-attr]
                [f"trial{t}_{a}" for t, a in zip(ensemble.trials, ensemble.algorithms)],
                ensemble.weights,
                context.X,
                context.y,
            )
            return FinalModel(model, ALL_ROWS, time.monotonic() - started), ensemble
        logger.info(
            "Ensemble not kept: %d of its %d members were refit in time.",
            len(done),
            len(ensemble) if ensemble is not None else 0,
        )
    final = refit_best(
        study,
        candidates,
        executor,
        settings.deadline,
        outcome.clock.expected_refit(margin=False),
        settings.trial_time_limit,
        outcome.best_fold_model,
        refitted=refits.get(best.number),
    )
    return final, None


def _select(
    outcome: SearchOutcome, settings: SearchSettings, ensemble_size: int, capacity: int
) -> Ensemble | None:
    context, metric, clock = outcome.context, settings.metric, outcome.clock
    started = time.monotonic()
    deadline = refit_budget = refit_limit = None
    if settings.deadline is not None:
        deadline = min(started + clock.selection_seconds, settings.deadline)
        refit_limit = max(settings.deadline - deadline, 0.0)
        # the members refit as many at once as the executor runs
        refit_budget = refit_limit * capacity
    best = best_trial(outcome.study).number
    # the best trial's refit is counted once, in ``reserved``
    pool = [replace(e, refit_seconds=0.0) if e.trial == best else e for e in outcome.pool]
    try:
        ensemble = select_ensemble(
            pool,
            context.y,
            context.splits,
            metric,
            context.profile.classes or None,
            settings.sample_weight,
            max_size=ensemble_size,
            deadline=deadline,
            refit_budget=refit_budget,
            refit_limit=refit_limit,
            # the best trial is refit whatever is chosen (see fit_final)
            reserved=clock.expected_refit(),
        )
    except Exception as exc:  # a user's scorer that cannot score stored predictions
        logger.warning("No ensemble: scoring averaged predictions failed (%r).", exc)
        return None
    best_score = best_value(outcome.study)
    if ensemble is None or len(ensemble) < 2 or not np.isfinite(ensemble.score):
        return None
    if not metric.better(ensemble.score, best_score):
        logger.info(
            "Ensemble not kept: its CV score %.4g does not beat the best trial's %.4g.",
            ensemble.score,
            best_score,
        )
        return None
    return ensemble


def _reweighted(
    ensemble: Ensemble, done: list[int], outcome: SearchOutcome, settings: SearchSettings
) -> Ensemble | None:
    context = outcome.context
    try:
        return reweighted(
            ensemble,
            done,
            outcome.pool,
            context.y,
            context.splits,
            settings.metric,
            context.profile.classes or None,
            settings.sample_weight,
        )
    except Exception as exc:  # as in _select
        logger.warning("No ensemble: scoring the refit members failed (%r).", exc)
        return None
