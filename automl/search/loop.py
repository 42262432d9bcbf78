"""The search driver: ask Optuna for trials, submit them to an executor, tell the results back.

The study stays in the driver; workers only run tasks. Every result is written by the
driver. Opening configurations come before sampling: the user's, then the portfolio's
(learned across data sets, cheapest first), then the opening configuration of each
algorithm the portfolio left out, cheapest first.

Parallel trials and reproducibility. With a time budget, results are told as they come
and a free slot is filled at once. Without one (``n_trials`` only), results are told in
trial order and each tell is followed by exactly one ask, so the sampler sees the same
history at every ask: the same seed, data and ``n_jobs`` give the same trials. A
different ``n_jobs`` gives other (equally valid) trials, since TPE then sees different
trials running while it samples.

Failures. A trial that raised, was killed at its time limit or over the memory limit, or
whose worker died is recorded as failed with its reason, and the search goes on; what is
recorded, and when an algorithm is dropped, is :mod:`automl.search.record`'s.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from automl.builder import Candidate, sample_config
from automl.cluster_trial import ClusteringReference, ClusterTask
from automl.data import DatasetProfile
from automl.ensemble import PoolEntry, selection_seconds
from automl.evaluation import Metric, Split
from automl.execution.base import Executor, Finished, TaskFailure
from automl.fidelity import RowRungs
from automl.search.clock import BudgetClock
from automl.search.interrupt import InterruptGuard
from automl.search.pool import OOFPool
from automl.search.progress import SearchProgress, publish
from automl.search.record import MAX_FAILURES_IN_A_ROW, AlgorithmBest, SearchRecord
from automl.search.study import MedianRule, create_study, make_sampler
from automl.space.suggest import grid_configs, interleave, smallest_config, to_optuna_params
from automl.storage import StudyStore, previous_elapsed, record_elapsed
from automl.trial import SearchContext, TrialTask

logger = logging.getLogger("automl.search")

STRATEGIES = ("bayesian", "random", "grid", "manual")
# Stop asking when this many trials in a row were skipped for lack of time.
MAX_CONSECUTIVE_SKIPS = 25
# How often (seconds) progress is published while trials run, and the driver's longest
# wait between looks at the clock.
PROGRESS_INTERVAL = 1.0
WAIT_SLICE = 0.25


@dataclass
class SearchSettings:
    metric: Metric
    strategy: str = "bayesian"
    n_trials: int | None = None
    deadline: float | None = None  # on time.monotonic(): the search and its refit end by then
    time_budget: float | None = None  # the seconds that deadline stands for (for progress)
    trial_time_limit: float = 600.0
    configurations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # run after the user's configurations, before sampling (bayesian and random); an
    # algorithm it leaves out opens with its own opening configuration
    portfolio: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # each algorithm's opening configuration before sampling; off in a refinement round,
    # whose first round ran them
    openings: bool = True
    sampler_seed: int | None = None
    estimator_seed: int | None = None
    prune: bool = True
    store: StudyStore | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    callbacks: Sequence[Callable[[SearchProgress], Any]] = ()
    stop: threading.Event | None = None  # set by another thread: end as if interrupted
    sample_weight: np.ndarray | None = None  # per row: every fit and every score use it
    # keep the out-of-fold predictions of this many of the best trials (0: none), for an
    # ensemble, in at most this many bytes
    pool_trials: int = 0
    pool_bytes: int = 0
    # a multi-objective search: the costs after the metric (automl.objectives), and bounds
    # on costs (objectives or not) that make a trial infeasible
    costs: tuple[str, ...] = ()
    constraints: dict[str, float] = field(default_factory=dict)
    # a clustering search: the reference space and samples its trials are scored on
    clustering: ClusteringReference | None = None

    @property
    def measured(self) -> tuple[str, ...]:
        """The costs each complete trial's model is measured for."""
        return tuple(dict.fromkeys([*self.costs, *self.constraints]))


@dataclass
class SearchOutcome:
    study: optuna.Study
    elapsed: float
    context: SearchContext
    clock: BudgetClock
    interrupted: bool = False
    # The best trial's model fitted on its last training fold, and its out-of-fold
    # predictions, when that trial ran in this session (not for a best from a resumed run).
    best_fold_model: Any = None
    best_oof: np.ndarray | None = None
    first_failure: TaskFailure | None = None
    # Each algorithm's best complete trial, with its out-of-fold predictions and measures.
    by_algorithm: dict[str, AlgorithmBest] = field(default_factory=dict)
    # The best trials' out-of-fold predictions, best first (SearchSettings.pool_trials).
    pool: list[PoolEntry] = field(default_factory=list)


@dataclass
class _Asked:
    trial: optuna.Trial
    algorithm: str
    task: TrialTask | ClusterTask


class _Skipped(Exception):
    """A trial not run (expected to take longer than the time left, or its algorithm dropped)."""


class Search:
    """Runs one study on fixed folds: ``with Search(...) as search: search.run(executor)``.

    A stored study is claimed when the search is made (see :mod:`automl.storage`) and
    released when it is closed (the end of the ``with`` block).
    """

    def __init__(
        self,
        candidates: dict[str, Candidate],
        profile: DatasetProfile,
        X: Any,
        y: np.ndarray,
        splits: list[Split],
        settings: SearchSettings,
    ) -> None:
        s = settings
        self.settings = settings
        self.profile = profile
        self.X, self.y, self.splits = X, y, splits
        sampler = make_sampler(s.strategy, s.sampler_seed, len(candidates))
        self.study, names, self._claim = create_study(
            s.store, s.fingerprint, list(candidates), s.metric, sampler, s.costs
        )
        self._storage = None if self._claim is None else self._claim.storage
        try:
            self._prepare(candidates, names)
        except BaseException:
            self.close()
            raise

    def _prepare(self, candidates: dict[str, Candidate], names: list[str]) -> None:
        s, splits, y = self.settings, self.splits, self.y
        self.candidates = {n: candidates[n] for n in names}
        earlier = previous_elapsed(self.study)
        self._origin = time.monotonic() - earlier
        deadline = None if s.deadline is None else s.deadline - earlier
        self.clock = BudgetClock(
            deadline,
            {n: c.spec.cost for n, c in self.candidates.items()},
            len(splits),
            float(np.mean([len(tr) for tr, _ in splits])),
            len(y),
        )
        if s.pool_trials and s.time_budget is not None:
            self.clock.selection_seconds = selection_seconds(s.time_budget)
        # no pruning with several objectives: a trial poor in accuracy after one fold may
        # still be on the front (fast, small), and Optuna has no pruning for them either
        prune = s.prune and not s.costs
        self.rule = MedianRule(s.metric, len(splits), prune)
        self.rungs = RowRungs(len(splits[0][0]), len(splits), prune)
        pool = OOFPool(s.metric, s.pool_trials, s.pool_bytes)
        self.record = SearchRecord(
            self.study, s.metric, self.clock, self.rule, pool, self.rungs, s.costs, s.constraints
        )

    # -- the loop ------------------------------------------------------------------------
    def run(self, executor: Executor) -> SearchOutcome:
        s = self.settings
        context = SearchContext(
            uuid.uuid4().hex,
            self.X,
            self.y,
            self.splits,
            self.profile,
            s.metric,
            self.candidates,
            s.estimator_seed,
            s.sample_weight,
            s.clustering,
        )
        executor.start(context)
        self._executor = executor
        self._planned = self._plan()
        self._seen = {_key(t.params) for t in self.study.trials}
        self._asked: dict[int, _Asked] = {}
        self._results: dict[int, Finished] = {}
        self._started = sum(t.state.is_finished() for t in self.study.trials)
        self._skips = 0
        self._stop_asking = False
        self._last_progress = 0.0
        ordered = s.deadline is None
        interrupted = False
        if self._claim is not None:
            self._claim.start(lambda: list(self._asked))
        with InterruptGuard() as guard:
            try:
                self._fill()
                self._publish(force=True)
                while self._asked:
                    guard.check()
                    if s.stop is not None and s.stop.is_set():
                        raise KeyboardInterrupt
                    wait = WAIT_SLICE
                    left = self.clock.time_left()
                    if left is not None:
                        wait = min(wait, max(left, 0.01))
                    with guard.immediate():
                        for finished in executor.wait(wait):
                            self._results[finished.task.number] = finished
                    self._tell_ready(ordered)
                    self._stop_at_deadline()
                    self._publish(force=False)
                guard.check()
            except KeyboardInterrupt:
                interrupted = True
                self._tell_ready(ordered)
                self._interrupt()
            self._publish(force=True)
        elapsed = time.monotonic() - self._origin
        if self._storage is not None:
            record_elapsed(self.study, elapsed)
        return SearchOutcome(
            self.study,
            elapsed,
            context,
            self.clock,
            interrupted,
            *self.record.best_models,
            first_failure=self.record.first_failure,
            by_algorithm=self.record.by_algorithm,
            pool=self.record.pool.candidates(),
        )

    def close(self) -> None:
        """Release the stored study's claim (nothing to do for a study in memory)."""
        if self._claim is not None:
            self._claim.release()

    def __enter__(self) -> Search:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_fallback(self) -> None:
        """No trial completed (time ran out first): score the cheapest default in the driver.

        It is the first opening configuration, fitted in this process because no worker
        finished in time (it may still be starting); cheap by construction. An algorithm that
        was dropped, or hit a time or memory limit or crashed its worker, is never run here,
        where nothing limits it; when no other is left, nothing runs (every trial failed).
        """
        eligible = [
            c
            for name, c in self.candidates.items()
            if name not in self.record.dropped and name not in self.record.hard_failed
        ]
        if not eligible:
            return
        cheapest = min(eligible, key=lambda c: c.spec.cost)
        params = to_optuna_params(cheapest.name, cheapest.opening_config())
        self.study.enqueue_trial(params, skip_if_exists=False)
        trial = self.study.ask()
        algorithm, config = sample_config(trial, self.candidates)
        trial.set_user_attr("config", _jsonable(config))
        trial.set_user_attr(
            "fallback", "run in the driver: no trial finished within the time budget"
        )
        task = TrialTask(trial.number, algorithm, config, time_limit=float("inf"))
        context = SearchContext(
            uuid.uuid4().hex,
            self.X,
            self.y,
            self.splits,
            self.profile,
            self.settings.metric,
            self.candidates,
            self.settings.estimator_seed,
            self.settings.sample_weight,
        )
        started = time.monotonic()
        try:
            with threadpool_limits(limits=1):
                result: Any = task.run(context)
        except Exception as exc:
            result = TaskFailure(
                "error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)
            )
        self._tell(
            _Asked(trial, algorithm, task), Finished(task, result, time.monotonic() - started)
        )
        self._publish(force=True)

    def best_models(self) -> tuple[Any, np.ndarray | None]:
        return self.record.best_models

    # -- asking ----------------------------------------------------------------------------
    def _fill(self) -> None:
        """Ask for trials until every slot of the executor is busy (or nothing more to ask)."""
        while len(self._asked) < self._executor.capacity and self._may_ask():
            asked = self._ask()
            if asked is None:
                continue
            self._asked[asked.trial.number] = asked
            self._executor.submit(asked.task)

    def _may_ask(self) -> bool:
        s = self.settings
        if self._stop_asking:
            return False
        if s.n_trials is not None and self._started >= s.n_trials:
            return False
        remaining = [a for a in self.candidates if a not in self.record.dropped]
        if not remaining or self.clock.out_of_time(remaining):
            return False
        # grid and manual end when nothing is left to enqueue; the samplers never run out
        return self._enqueue_next() or s.strategy in ("bayesian", "random")

    def _ask(self) -> _Asked | None:
        """Ask one trial and make its task; a trial not worth running is told at once."""
        trial = self.study.ask()
        self._started += 1
        if self._claim is not None:
            self._claim.record_trial(trial.number)
        algorithm, config = sample_config(trial, self.candidates)
        trial.set_user_attr("config", _jsonable(config))
        try:
            task = self._make_task(trial.number, algorithm, config)
        except _Skipped as why:
            self._skips += 1
            self.record.skipped(trial, str(why))
            if self._skips >= MAX_CONSECUTIVE_SKIPS:
                self._stop_asking = True
            return None
        return _Asked(trial, algorithm, task)

    def _make_task(
        self, number: int, algorithm: str, config: dict[str, Any]
    ) -> TrialTask | ClusterTask:
        if algorithm in self.record.dropped:
            raise _Skipped(
                f"skipped: {algorithm} was dropped after {MAX_FAILURES_IN_A_ROW} "
                "failed trials in a row"
            )
        expected = self.clock.expected_duration(algorithm)
        left = self.clock.time_left()
        if expected is not None and left is not None and expected > left:
            raise _Skipped(f"expected {expected:.1f}s, {max(left, 0):.1f}s left")
        if self.settings.clustering is not None:
            return ClusterTask(
                number,
                algorithm,
                config,
                time_limit=self.settings.trial_time_limit,
                objective=self.settings.metric.name,
                keep_if_better_than=self.record.best_value,
                greater_is_better=self.settings.metric.greater_is_better,
            )
        return TrialTask(
            number,
            algorithm,
            config,
            time_limit=self.settings.trial_time_limit,
            stop_after=left,
            prune_thresholds=self.rule.thresholds(),
            keep_if_better_than=self.record.best_of(algorithm),
            keep_oof=self.record.pool.enabled,
            oof_bar=self.record.pool.bar(),
            rung_rows=self.rungs.rows,
            rung_thresholds=self.rungs.thresholds(),
            measure=self.settings.measured,
        )

    def _plan(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Configurations to run before (or, for grid and manual, instead of) sampling."""
        yield from self.settings.configurations
        if self.settings.strategy == "manual":
            return
        if self.settings.strategy == "grid":
            ordered = sorted(self.candidates.values(), key=lambda c: c.spec.cost)
            yield from interleave([_labelled(c.name, grid_configs(c.params)) for c in ordered])
            return
        yield from self.settings.portfolio
        if not self.settings.openings:
            return
        covered = {algorithm for algorithm, _ in self.settings.portfolio}
        ordered = sorted(self.candidates.values(), key=lambda c: c.spec.cost)
        for c in ordered:
            if c.name not in covered:
                yield c.name, c.opening_config()
        if self.settings.costs:  # the cheap end of the front: each algorithm at its smallest
            for c in ordered:
                yield c.name, smallest_config(c.params, self.settings.costs)

    def _enqueue_next(self) -> bool:
        if any(
            t.state == TrialState.WAITING
            for t in self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        ):
            return True  # an interrupted trial queued again on resume runs first
        for algorithm, config in self._planned:
            params = to_optuna_params(algorithm, config)
            if _key(params) in self._seen:
                continue
            self._seen.add(_key(params))
            self.study.enqueue_trial(params, skip_if_exists=False)
            return True
        return False

    # -- telling ---------------------------------------------------------------------------
    def _tell_ready(self, ordered: bool) -> None:
        """Tell finished trials (in trial order when ``ordered``), refilling after each."""
        while self._results:
            number = min(self._asked) if ordered else next(iter(self._results))
            finished = self._results.pop(number, None)
            if finished is None:
                return  # the next in order is still running
            self._tell(self._asked.pop(number), finished)
            self._fill()
            # After the refill, so that ``running`` counts the slots busy from here on.
            self._publish(force=True)

    def _tell(self, asked: _Asked, finished: Finished) -> None:
        if self.record.tell(asked.trial, asked.algorithm, finished):
            self._skips = 0

    # -- time, interruption, progress --------------------------------------------------------
    def _stop_at_deadline(self) -> None:
        """Past the deadline (less the refit), stop every running trial and ask no more."""
        left = self.clock.time_left()
        if left is None or left > 0:
            return
        self._stop_asking = True
        for number in list(self._asked):
            if number not in self._results:
                self._executor.cancel(number, "the time budget ran out while it ran")

    def _interrupt(self) -> None:
        """Ctrl-C: kill the running trials, record them as failed, keep every finished one."""
        for number in list(self._asked):
            self._executor.cancel(number, "interrupted")
        self._asked.clear()
        # Every running trial of the study is this driver's (it holds the claim), including
        # one that Ctrl-C caught while it was being asked, before it reached a worker.
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self.record.interrupted(optuna.Trial(self.study, frozen._trial_id))
        logger.warning(
            "Search interrupted after %d trials; keeping the finished ones.",
            sum(self.record.counts.values()),
        )

    def _publish(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        if self._storage is not None:
            record_elapsed(self.study, now - self._origin)
        s = self.settings
        publish(
            SearchProgress(
                elapsed=now - self._origin,
                budget=s.time_budget,
                running=len(getattr(self, "_asked", ())),
                done=sum(self.record.counts.values()),
                n_trials=s.n_trials,
                best=self.record.best_value,
                best_algorithm=None if self.record.best is None else self.record.best[1],
                metric=s.metric.name,
                **self.record.counts,
            ),
            s.callbacks,
        )


def _labelled(name: str, configs: Iterator[dict[str, Any]]) -> Iterator[tuple[str, dict]]:
    return ((name, config) for config in configs)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in config.items()}
