"""The joint search: one Optuna study over algorithms and their conditional parameters.

Each trial picks an algorithm, then that algorithm's active parameters, builds the
pipeline, and scores it fold by fold on folds fixed for the whole search (reporting each
running mean, so a pruner can stop a clearly bad trial). A trial that raises is recorded
with its error and the search goes on. Opening configurations (the user's first, then each
algorithm's defaults, cheapest first) give a sensible model within seconds.

With a time budget, no trial starts whose expected duration does not fit in what is left
(minus the expected time to refit the best model on all the data), and a trial whose next
fold would cross the deadline is stopped.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState
from sklearn.base import clone

from automl.builder import Candidate, build_pipeline, sample_pipeline
from automl.data import DatasetProfile
from automl.evaluation import Metric, Split, take_rows
from automl.exceptions import AllTrialsFailedError, InvalidParameterError, TrialFailedWarning
from automl.storage import StudyStore, open_study, previous_elapsed, record_elapsed
from automl.space.suggest import grid_configs, interleave, to_optuna_params

logger = logging.getLogger("automl.search")
# After every trial a DEBUG record carries a dict in ``record.automl_progress`` (elapsed,
# budget, done, failed, best, best_algorithm, metric): the CLI renders it as a live line.
progress_logger = logging.getLogger("automl.progress")

STRATEGIES = ("bayesian", "random", "grid", "manual")
# Stop asking when this many trials in a row were skipped for lack of time.
MAX_CONSECUTIVE_SKIPS = 25


@dataclass
class SearchSettings:
    metric: Metric
    strategy: str = "bayesian"
    n_trials: int | None = None
    time_budget: float | None = None
    configurations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sampler_seed: int | None = None
    estimator_seed: int | None = None
    prune: bool = True
    store: StudyStore | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchOutcome:
    study: optuna.Study
    elapsed: float
    interrupted: bool = False


class _Skip(Exception):
    """A trial not run because its expected duration exceeds the time left."""


class _OverBudget(Exception):
    """A trial stopped between folds because the next fold would cross the deadline."""


class Search:
    """Runs one study on fixed folds. Use :meth:`run`."""

    def __init__(
        self,
        candidates: dict[str, Candidate],
        profile: DatasetProfile,
        X: Any,
        y: np.ndarray,
        splits: list[Split],
        settings: SearchSettings,
    ) -> None:
        self.candidates = candidates
        self.profile = profile
        self.X = X
        self.y = y
        self.splits = splits
        self.settings = settings
        self.study = self._open_study()
        self._start = 0.0
        self._warned: set[str] = set()
        self._first_error: BaseException | None = None
        # Bookkeeping kept incrementally: reading every trial back per decision is O(n^2).
        self._durations: dict[str, list[float]] = {}
        self._best: tuple[float, float] | None = None  # (value, fit time) of the best trial
        self._best_algorithm: str | None = None
        self._failed = [t.number for t in self.study.get_trials(
            deepcopy=False, states=(TrialState.FAIL,))]
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            self._on_complete(t.params["algorithm"], t.value, t.user_attrs)

    # -- set-up --------------------------------------------------------------------------
    def _open_study(self) -> optuna.Study:
        """In memory, or in the settings' storage (resuming it when asked)."""
        s = self.settings
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=10, n_warmup_steps=1)
                  if s.prune and len(self.splits) > 2 else optuna.pruners.NopPruner())
        with warnings.catch_warnings():
            # multivariate/group TPE is marked experimental, and is what conditional spaces need.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if s.strategy == "bayesian":
                sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
                    seed=s.sampler_seed, multivariate=True, group=True,
                    n_startup_trials=max(10, len(self.candidates)),
                )
            else:
                # grid and manual trials are fully enqueued: the sampler is never consulted.
                sampler = optuna.samplers.RandomSampler(seed=s.sampler_seed)
            if s.store is None:
                return optuna.create_study(direction=s.metric.direction, sampler=sampler,
                                           pruner=pruner)
            study, names = open_study(s.store, s.fingerprint, list(self.candidates),
                                      s.metric.direction, sampler, pruner)
        missing = [n for n in names if n not in self.candidates]
        if missing:
            raise InvalidParameterError(
                f"The stored search uses algorithms that are not available now: {missing}. "
                "Restore their space files (or install their libraries) to resume.")
        self.candidates = {n: self.candidates[n] for n in names}
        return study

    def _planned(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Configurations to run before (or, for grid and manual, instead of) sampling."""
        yield from self.settings.configurations
        if self.settings.strategy == "manual":
            return
        if self.settings.strategy == "grid":
            ordered = sorted(self.candidates.values(), key=lambda c: c.spec.cost)
            yield from interleave([_labelled(c.name, grid_configs(c.params)) for c in ordered])
            return
        for c in sorted(self.candidates.values(), key=lambda c: c.spec.cost):
            yield c.name, c.opening_config()

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> SearchOutcome:
        s = self.settings
        # A resumed search counts its earlier runs' time and trials against the budget.
        self._start = time.monotonic() - previous_elapsed(self.study)
        planned = self._planned()
        seen = {_key(t.params) for t in self.study.trials}
        sampling = s.strategy in ("bayesian", "random")
        started = sum(t.state.is_finished() for t in self.study.trials)
        skips = 0
        interrupted = False
        while s.n_trials is None or started < s.n_trials:
            if self._out_of_time():
                break
            if not self._enqueue_next(planned, seen) and not sampling:
                break
            trial = self.study.ask()
            started += 1
            try:
                value = self._evaluate(trial)
            except _Skip as why:
                skips += 1
                trial.set_user_attr("skipped", str(why))
                self.study.tell(trial, state=TrialState.PRUNED)
                self._after_trial(started)
                if skips >= MAX_CONSECUTIVE_SKIPS:
                    break
                continue
            except (optuna.TrialPruned, _OverBudget) as why:
                trial.set_user_attr("pruned", str(why) or "pruned by the median rule")
                self.study.tell(trial, state=TrialState.PRUNED)
            except KeyboardInterrupt:
                trial.set_user_attr("error", "KeyboardInterrupt: search interrupted")
                self.study.tell(trial, state=TrialState.FAIL)
                logger.warning("Search interrupted after %d trials; keeping the finished ones.",
                               started - 1)
                interrupted = True
                break
            except Exception as exc:  # a crashed trial is data, not the end of the search
                self._record_failure(trial, exc)
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, value)
                self._on_complete(trial.params["algorithm"], value, trial.user_attrs)
            skips = 0
            self._after_trial(started)
        if not any(t.state == TrialState.COMPLETE for t in self.study.trials):
            if interrupted:
                raise KeyboardInterrupt
            message = "Every trial of the search failed; the first error is chained below."
            if self._first_error is None:
                message = ("No trial completed within the budget. Increase time_budget or "
                           "n_trials, or pick cheaper algorithms.")
            raise AllTrialsFailedError(message) from self._first_error
        return SearchOutcome(self.study, time.monotonic() - self._start, interrupted)

    def _after_trial(self, done: int) -> None:
        """Persist the elapsed time (for resume) and log progress for whoever listens."""
        elapsed = time.monotonic() - self._start
        if self.settings.store is not None:
            record_elapsed(self.study, elapsed)
        progress_logger.debug(
            "progress", extra={"automl_progress": {
                "elapsed": elapsed, "budget": self.settings.time_budget, "done": done,
                "n_trials": self.settings.n_trials, "failed": len(self._failed),
                "best": None if self._best is None else self._best[0],
                "best_algorithm": self._best_algorithm, "metric": self.settings.metric.name,
            }})

    def _enqueue_next(self, planned: Iterator, seen: set) -> bool:
        for algorithm, config in planned:
            params = to_optuna_params(algorithm, config)
            if _key(params) in seen:
                continue
            seen.add(_key(params))
            self.study.enqueue_trial(params, skip_if_exists=False)
            return True
        return False

    # -- one trial -----------------------------------------------------------------------
    def _evaluate(self, trial: optuna.Trial) -> float:
        seed = self.settings.estimator_seed
        algorithm, config, pipeline = sample_pipeline(trial, self.candidates, self.profile, seed)
        trial.set_user_attr("config", _jsonable(config))
        expected = self._expected_duration(algorithm)
        left = self._time_left()
        if expected is not None and left is not None and expected > left:
            raise _Skip(f"expected {expected:.1f}s, {max(left, 0):.1f}s left")
        scores: list[float] = []
        fit_times: list[float] = []
        score_times: list[float] = []
        caught: list[str] = []
        # Fold results are written once, when the trial ends (completed, pruned, stopped or
        # failed), not per fold: with SQLite this cut the mean overhead per trial at 100
        # trials from 80 to 75 ms (random) and 121 to 99 ms (bayesian); benchmarks/overhead.py.
        try:
            for step, (train, test) in enumerate(self.splits):
                score, fit_time, score_time, fold_warnings = self._fit_fold(pipeline, train, test)
                caught += fold_warnings
                if not np.isfinite(score):
                    raise ValueError(f"fold {step} scored {score} (not finite)")
                scores.append(score)
                fit_times.append(fit_time)
                score_times.append(score_time)
                trial.report(float(np.mean(scores)), step)
                if step + 1 < len(self.splits):
                    if trial.should_prune():
                        raise optuna.TrialPruned(f"pruned after fold {step}: running mean "
                                                 f"{np.mean(scores):.4g} below the median")
                    left = self._time_left()
                    if left is not None and np.mean(fit_times) + np.mean(score_times) > left:
                        raise _OverBudget(f"stopped after fold {step}: the next fold would cross "
                                          "the time budget")
        finally:
            if scores:
                self._record_folds(trial, scores, fit_times, score_times, caught)
        return float(np.mean(scores))

    def _fit_fold(self, pipeline: Any, train: np.ndarray, test: np.ndarray
                  ) -> tuple[float, float, float, list[str]]:
        """Fit a fresh clone on the training rows and score it; warnings are recorded, not shown."""
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            fitted = clone(pipeline).fit(take_rows(self.X, train), self.y[train])
            t1 = time.perf_counter()
            score = self.settings.metric.score(fitted, take_rows(self.X, test), self.y[test])
            t2 = time.perf_counter()
        return score, t1 - t0, t2 - t1, [f"{w.category.__name__}: {w.message}" for w in seen]

    @staticmethod
    def _record_folds(trial, scores, fit_times, score_times, caught) -> None:
        trial.set_user_attr("fold_scores", [float(s) for s in scores])
        trial.set_user_attr("fit_time", float(np.sum(fit_times)))
        trial.set_user_attr("score_time", float(np.sum(score_times)))
        if caught:
            trial.set_user_attr("warnings", sorted(set(caught))[:5])

    def _record_failure(self, trial: optuna.Trial, exc: Exception) -> None:
        algorithm = trial.params.get("algorithm", "?")
        text = f"{type(exc).__name__}: {exc}"
        self._failed.append(trial.number)
        trial.set_user_attr("error", text)
        trial.set_user_attr("traceback", traceback.format_exc(limit=5))
        if self._first_error is None:
            self._first_error = exc
        if algorithm not in self._warned:
            self._warned.add(algorithm)
            warnings.warn(
                f"Algorithm {algorithm!r} failed in trial {trial.number} ({text[:300]}); the "
                "search goes on. Every error is in leaderboard_['error'].",
                TrialFailedWarning, stacklevel=2,
            )
        logger.info("Trial %d (%s) failed: %s", trial.number, algorithm, text)

    # -- time ----------------------------------------------------------------------------
    def _time_left(self) -> float | None:
        """Seconds left for trials: the budget less elapsed time and the expected refit."""
        budget = self.settings.time_budget
        if budget is None:
            return None
        return budget - (time.monotonic() - self._start) - self._expected_refit()

    def _out_of_time(self) -> bool:
        left = self._time_left()
        if left is None:
            return False
        if left <= 0:
            return True
        cheapest = [d for d in (self._expected_duration(a) for a in self.candidates) if d is not None]
        return len(cheapest) == len(self.candidates) and min(cheapest) > left

    def _on_complete(self, algorithm: str, value: float, attrs: dict[str, Any]) -> None:
        fit_time = attrs.get("fit_time", 0.0)
        self._durations.setdefault(algorithm, []).append(fit_time + attrs.get("score_time", 0.0))
        if self._best is None or self.settings.metric.better(value, self._best[0]):
            self._best = (value, fit_time)
            self._best_algorithm = algorithm

    def _expected_duration(self, algorithm: str) -> float | None:
        """Median duration of this algorithm's trials; before it has run, scale others by cost."""
        durations = self._durations
        if durations.get(algorithm):
            return float(np.median(durations[algorithm]))
        per_cost = [d / self.candidates[a].spec.cost
                    for a, ds in durations.items() if a in self.candidates for d in ds]
        if not per_cost:
            return None
        return float(np.median(per_cost)) * self.candidates[algorithm].spec.cost

    def _expected_refit(self) -> float:
        """The best trial's mean fold fit time, scaled from fold size to all rows."""
        if self._best is None:
            return 0.0
        n_train = np.mean([len(tr) for tr, _ in self.splits])
        return self._best[1] / len(self.splits) * len(self.y) / max(n_train, 1.0)


def refit_best(
    study: optuna.Study,
    candidates: dict[str, Candidate],
    profile: DatasetProfile,
    X: Any,
    y: np.ndarray,
    estimator_seed: int | None,
) -> Any:
    """Replay the best trial's parameters through the same builder and fit on all rows."""
    fixed = optuna.trial.FixedTrial(study.best_trial.params)
    _, _, pipeline = sample_pipeline(fixed, candidates, profile, estimator_seed)
    # The same warnings were recorded per trial (leaderboard); repeating them here would
    # only alarm. They are logged, and kept on the trial that was refit.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.fit(X, y)
    for message in sorted({f"{w.category.__name__}: {w.message}" for w in caught}):
        logger.info("Refit warning: %s", message)
    return pipeline


def _labelled(name: str, configs: Iterator[dict[str, Any]]) -> Iterator[tuple[str, dict]]:
    return ((name, config) for config in configs)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _jsonable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in config.items()}


