"""The final model: the best configuration refit on all rows, within what is left of the budget.

The refit replays the best trial's parameters through the same builder as the search
(``FixedTrial``) and runs in a worker like a trial, so it has a hard time limit too. When
the refit is not expected to finish before the deadline, or is killed at it, the best
trial's own model (fitted on its last training fold) is returned instead: ``fit`` always
returns a model once one trial has completed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import optuna

from automl.builder import Candidate, sample_config
from automl.execution.base import Executor, Finished, TaskFailure
from automl.search.study import best_trial
from automl.space.suggest import FOUND_PARAMS
from automl.trial import RefitOutcome, RefitTask

logger = logging.getLogger("automl.search")

ALL_ROWS = "all rows"


@dataclass
class FinalModel:
    pipeline: Any
    fitted_on: str  # "all rows", or why the best trial's fold model was kept instead
    seconds: float


def refit_best(
    study: optuna.Study,
    candidates: dict[str, Candidate],
    executor: Executor,
    deadline: float | None,
    expected: float,
    time_limit: float,
    fold_model: Any = None,
    refitted: Any = None,
) -> FinalModel:
    """Refit the best trial on all rows before ``deadline``, or fall back to its fold model.

    ``expected``: the clock's estimate of the refit (seconds); ``time_limit``: the refit's
    hard limit when there is no deadline; ``refitted``: what came of the best trial's
    refit when it already ran with an ensemble's members (a ``RefitOutcome`` or a
    ``TaskFailure``), used as it is rather than run again.
    """
    best = best_trial(study)
    algorithm, config = replay(best, candidates)
    started = time.monotonic()
    if refitted is not None:
        return _refit_result(refitted, fold_model, best.number, algorithm, started)
    left = None if deadline is None else deadline - started
    if fold_model is not None and left is not None and expected > left:
        return _fold_model(
            fold_model,
            f"the refit was expected to take {expected:.2f}s, {max(left, 0):.2f}s were left",
            started,
        )
    limit = time_limit if left is None or fold_model is None else max(left, 0.0)
    executor.submit(RefitTask(best.number, algorithm, config, time_limit=limit))
    finished: list[Finished] = []
    while not finished:
        finished = executor.wait(0.25)
    return _refit_result(finished[0].result, fold_model, best.number, algorithm, started, wall=True)


def _refit_result(
    result: Any, fold_model: Any, number: int, algorithm: str, started: float, wall: bool = False
) -> FinalModel:
    """The refit's pipeline (its time: the wall time from ``started``, or the fit's own
    when it ran earlier), else the fold model, else an error."""
    if not isinstance(result, TaskFailure):
        for message in result.warnings:
            logger.info("Refit warning: %s", message)
        seconds = time.monotonic() - started if wall else result.fit_time
        return FinalModel(result.pipeline, ALL_ROWS, seconds)
    if fold_model is not None:
        return _fold_model(fold_model, f"the refit failed ({result})", started)
    raise RuntimeError(
        f"Refitting the best configuration (trial {number}, {algorithm}) "
        f"on all rows failed: {result}"
    )


def refit_members(
    study: optuna.Study,
    trials: list[int],
    candidates: dict[str, Candidate],
    executor: Executor,
    deadline: float | None,
    time_limit: float,
) -> dict[int, RefitOutcome | TaskFailure]:
    """Refit trials on all rows (as many at once as the executor runs) before
    ``deadline``; returns what came of each, by trial number.

    A refit that fails, or is still running at the deadline (it is cancelled), comes
    back as a ``TaskFailure`` and is logged; the caller reweights the other members.
    """
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    for number in trials:
        algorithm, config = replay(by_number[number], candidates)
        left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        executor.submit(RefitTask(number, algorithm, config, time_limit if left is None else left))
    results: dict[int, RefitOutcome | TaskFailure] = {}
    waiting = set(trials)
    cancelled = False
    while waiting:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0 and not cancelled:
            cancelled = True
            for number in waiting:
                executor.cancel(number, "the time budget ran out during the ensemble's refit")
        for finished in executor.wait(0.25 if left is None else min(0.25, max(left, 0.01))):
            number = finished.task.number
            waiting.discard(number)
            results[number] = finished.result
            if isinstance(finished.result, TaskFailure):
                logger.warning("The refit of trial %d failed (%s).", number, finished.result)
    return results


def replay(
    trial: optuna.trial.FrozenTrial, candidates: dict[str, Candidate]
) -> tuple[str, dict[str, Any]]:
    """The configuration a finished trial ran, through the search's own ``sample_config``
    (``FixedTrial``), with the values found while it ran (early stopping's rounds)."""
    algorithm, config = sample_config(optuna.trial.FixedTrial(trial.params), candidates)
    return algorithm, {**config, **trial.user_attrs.get(FOUND_PARAMS, {})}


def _fold_model(model: Any, why: str, started: float) -> FinalModel:
    logger.warning("Keeping the best trial's model fitted on its last training fold: %s.", why)
    return FinalModel(
        model, f"the best trial's last training fold ({why})", time.monotonic() - started
    )
