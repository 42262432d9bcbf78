"""What a search has learned so far, and how a finished trial is written into the study.

:class:`SearchRecord` tells the study each finished task (complete, pruned, stopped or
failed, with its fold scores, times, worker and failure reason as user attributes) and keeps
what the driver decides with: counts by state, the best trial so far (with its last fold
model and out-of-fold predictions), and the algorithms dropped after
``MAX_FAILURES_IN_A_ROW`` failed trials in a row. TPE learns nothing from failed trials, so
it would keep proposing such an algorithm (a learner that raised on every configuration
took 20 of 40 trials before this rule).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from automl.cluster_scores import CLUSTER_SCORES
from automl.evaluation import Metric
from automl.exceptions import TrialFailedWarning
from automl.execution.base import Finished, TaskFailure
from automl.fidelity import RowRungs
from automl.objectives import CONSTRAINTS_ATTR, COST_COLUMNS, constraint_excess
from automl.search.clock import BudgetClock
from automl.search.pool import OOFPool
from automl.search.study import MedianRule, running_means
from automl.space.suggest import FOUND_PARAMS
from automl.trial import COMPLETE, TrialOutcome

logger = logging.getLogger("automl.search")

# With an ensemble, the time kept free at the end is for refitting this many of the best
# trials (the best and the next ones); selected ensembles had 3 to 6 distinct members.
ENSEMBLE_RESERVE = 4

# An algorithm whose trials fail (raise, time out, crash, run out of memory) this many times
# in a row is dropped from the rest of the search.
MAX_FAILURES_IN_A_ROW = 3


@dataclass
class AlgorithmBest:
    """The best complete trial of one algorithm, with what the report reads about it.

    ``oof``: its out-of-fold predictions (class probabilities in ``classes_`` order, or
    values; NaN for rows in no test fold); ``size_bytes`` and ``predict_ms_per_1000``: of
    its model fitted on the last training fold, pickled, and predicting 1,000 rows on one
    thread. All three are None when the trial came from an earlier, resumed run.
    """

    trial: int
    score: float
    oof: np.ndarray | None = None
    size_bytes: int | None = None
    predict_ms_per_1000: float | None = None


class SearchRecord:
    """Counts, the best so far, and dropped algorithms of one search; tells the study."""

    def __init__(
        self,
        study: optuna.Study,
        metric: Metric,
        clock: BudgetClock,
        rule: MedianRule,
        pool: OOFPool | None = None,
        rungs: RowRungs | None = None,
        costs: tuple[str, ...] = (),
        constraints: dict[str, float] | None = None,
    ) -> None:
        self.study, self.metric, self.clock, self.rule = study, metric, clock, rule
        # a multi-objective search's costs (objectives after the metric), and constraints
        self.costs, self.constraints = costs, constraints or {}
        self.pool = OOFPool(metric, 0, 0) if pool is None else pool
        self.rungs = RowRungs(0, 0, False) if rungs is None else rungs
        # (score, fit time) of every complete trial, for the time kept free for the refits
        self._fit_times: list[tuple[float, float]] = []
        self.counts = {"complete": 0, "pruned": 0, "failed": 0, "timed_out": 0}
        self.best: tuple[float, str] | None = None  # (value, algorithm)
        self.best_number: int | None = None  # its trial
        self._best_feasible = False
        self.best_models: tuple[Any, np.ndarray | None] = (None, None)
        self.by_algorithm: dict[str, AlgorithmBest] = {}
        self.dropped: set[str] = set()
        # algorithms that hit a hard limit (time, memory) or crashed their worker: never to
        # be run without those limits, in the driver
        self.hard_failed: set[str] = set()
        self.first_failure: TaskFailure | None = None
        self._failures_in_a_row: dict[str, int] = {}
        self._warned: set[str] = set()
        for t in study.get_trials(deepcopy=False):  # a resumed study's finished trials
            self.rungs.add(t.user_attrs.get("rung_scores", []))
            if t.state == TrialState.COMPLETE and t.values:
                self._complete(t.number, t.params["algorithm"], t.values[0], t.user_attrs, None)

    @property
    def best_value(self) -> float | None:
        return None if self.best is None else self.best[0]

    def best_of(self, algorithm: str) -> float | None:
        """The best score of ``algorithm`` so far (None before its first complete trial)."""
        best = self.by_algorithm.get(algorithm)
        return None if best is None else best.score

    def tell(self, trial: optuna.Trial, algorithm: str, finished: Finished) -> bool:
        """Write a finished task into the study; True when the learner produced scores."""
        result = finished.result
        if finished.worker:
            trial.set_user_attr("worker", finished.worker)
        if isinstance(result, TaskFailure):
            if result.reason == "stopped":
                trial.set_user_attr("pruned", f"stopped: {result.message}")
                self.study.tell(trial, state=TrialState.PRUNED)
                self.counts["pruned"] += 1
            else:
                self._failure(trial, algorithm, result, finished.seconds)
                self.study.tell(trial, state=TrialState.FAIL)
            return False
        self._failures_in_a_row[algorithm] = 0
        _record_folds(trial, result)
        self.rungs.add(result.rung_scores)
        means = running_means(result.fold_scores)
        if not self.costs:  # Optuna keeps no intermediate values for several objectives
            for step, value in enumerate(means):
                trial.report(value, step)
        if result.status == COMPLETE:
            for name, value in result.costs.items():
                trial.set_user_attr(COST_COLUMNS[name], value)
            if self.constraints:
                excess = constraint_excess(result.costs, self.constraints)
                trial.set_user_attr(CONSTRAINTS_ATTR, excess)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    for name, value in zip(self.constraints, excess):
                        trial.set_constraint(name, value)  # what TPE learns feasibility from
            self.study.tell(trial, [result.mean, *(result.costs[c] for c in self.costs)])
            self._complete(trial.number, algorithm, result.mean, trial.user_attrs, result)
        else:
            trial.set_user_attr("pruned", result.note)
            self.study.tell(trial, state=TrialState.PRUNED)
            self.counts["pruned"] += 1
        return True

    def skipped(self, trial: optuna.Trial, why: str) -> None:
        """A trial not run (too slow for the time left, or its algorithm dropped)."""
        trial.set_user_attr("skipped", why)
        self.study.tell(trial, state=TrialState.PRUNED)
        self.counts["pruned"] += 1

    def interrupted(self, trial: optuna.Trial) -> None:
        trial.set_user_attr("reason", "interrupted")
        trial.set_user_attr("error", "KeyboardInterrupt: search interrupted")
        self.study.tell(trial, state=TrialState.FAIL)
        self.counts["failed"] += 1

    def _complete(
        self,
        number: int,
        algorithm: str,
        value: float,
        attrs: dict[str, Any],
        outcome: TrialOutcome | None,
    ) -> None:
        own = self.by_algorithm.get(algorithm)
        if own is None or self.metric.better(value, own.score):
            self.by_algorithm[algorithm] = (
                AlgorithmBest(number, value)
                if outcome is None
                else AlgorithmBest(
                    number, value, outcome.oof, outcome.size_bytes, outcome.predict_ms_per_1000
                )
            )
        fit_time = attrs.get("fit_time", 0.0)
        extra = 0.0 if outcome is None else outcome.oof_seconds + outcome.rung_seconds
        self.clock.record(algorithm, fit_time + attrs.get("score_time", 0.0) + extra)
        if outcome is not None:
            refit = self.clock.refit_estimate(fit_time)
            self.pool.add(number, algorithm, value, outcome.oof, refit)
        if self.pool.enabled:
            # an ensemble refits its members too: keep time free for the best few
            self._fit_times.append((value, fit_time))
            self._fit_times.sort(key=lambda p: -p[0] if self.metric.greater_is_better else p[0])
            self.clock.member_fit_times = [t for _, t in self._fit_times[1:ENSEMBLE_RESERVE]]
        self.rule.add(running_means(attrs.get("fold_scores", [])))
        self.counts["complete"] += 1
        # under constraints a feasible trial beats any infeasible one (as best_trial says)
        feasible = all(v <= 0 for v in attrs.get(CONSTRAINTS_ATTR, []))
        if (
            self.best is None
            or (feasible and not self._best_feasible)
            or (feasible == self._best_feasible and self.metric.better(value, self.best[0]))
        ):
            self.best = (value, algorithm)
            self.best_number, self._best_feasible = number, feasible
            self.clock.best_fit_time = fit_time
            self.best_models = (
                (outcome.fold_model, outcome.oof) if outcome is not None else (None, None)
            )

    def _failure(
        self, trial: optuna.Trial, algorithm: str, failure: TaskFailure, seconds: float
    ) -> None:
        text = str(failure)
        trial.set_user_attr("reason", failure.reason)
        trial.set_user_attr("error", text[:2000])
        if failure.traceback:
            trial.set_user_attr("traceback", failure.traceback)
        self.counts["timed_out" if failure.reason == "timeout" else "failed"] += 1
        if self.first_failure is None:
            self.first_failure = failure
        if failure.reason in ("timeout", "memory") or failure.reason.startswith("crashed"):
            self.hard_failed.add(algorithm)
        if failure.reason == "timeout":
            # it says how slow the algorithm is: skip it when it can no longer fit
            self.clock.record_kill(algorithm, seconds)
        if failure.reason != "worker lost":  # a machine that went says nothing of the learner
            self._failures_in_a_row[algorithm] = self._failures_in_a_row.get(algorithm, 0) + 1
        if (
            self._failures_in_a_row.get(algorithm, 0) >= MAX_FAILURES_IN_A_ROW
            and algorithm not in self.dropped
        ):
            self.dropped.add(algorithm)
            logger.warning(
                "Algorithm %r dropped from the rest of the search: %d failed trials "
                "in a row (last: %s).",
                algorithm,
                MAX_FAILURES_IN_A_ROW,
                text[:200],
            )
        if algorithm not in self._warned:
            self._warned.add(algorithm)
            warnings.warn(
                f"Algorithm {algorithm!r} failed in trial {trial.number} ({text[:300]}); the "
                "search goes on. Every failure is in leaderboard_['error'].",
                TrialFailedWarning,
                stacklevel=3,
            )
        logger.info("Trial %d (%s) failed: %s", trial.number, algorithm, text[:300])


def _record_folds(trial: optuna.Trial, outcome: TrialOutcome) -> None:
    trial.set_user_attr("fold_scores", [float(v) for v in outcome.fold_scores])
    if outcome.fit_times:  # none when pruned on a sample of rows, before any full fit
        trial.set_user_attr("fit_time", float(np.sum(outcome.fit_times)))
        trial.set_user_attr("score_time", float(np.sum(outcome.score_times)))
    if outcome.warnings:
        trial.set_user_attr("warnings", outcome.warnings[:5])
    if outcome.rung_scores:
        trial.set_user_attr("rung_scores", [float(v) for v in outcome.rung_scores])
        trial.set_user_attr("rung_seconds", float(outcome.rung_seconds))
    if outcome.cluster_scores:
        trial.set_user_attr(CLUSTER_SCORES, dict(outcome.cluster_scores))
    if outcome.found_params:
        trial.set_user_attr(FOUND_PARAMS, outcome.found_params)
        trial.set_user_attr("rounds_per_fold", outcome.rounds)
