"""One trial's cross-validation, and the final refit: the work an executor runs in a worker.

Everything here is plain data plus a ``run(context)`` method, so the same task runs in the
driver (``executor="inprocess"``), in a local worker process, or on a cluster worker.

- :class:`SearchContext`: what every trial of one search shares (data, folds, profile,
  metric, candidates). An executor sends it to each worker once per search.
- :class:`TrialTask`: one configuration to score fold by fold on the shared folds. The
  pruning rule travels with the task (a median per fold, taken from the trials finished
  when it was submitted), because the study stays in the driver.
- :class:`RefitTask`: one configuration fitted on all rows.

An exception raised by ``run`` is the executor's to record; a task that stops early for a
reason of its own (pruned, out of time) returns normally with that status.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone

from automl.builder import Candidate, build_pipeline, weight_params
from automl.data import DatasetProfile
from automl.early_stopping import fit_early_stopped, refit_rounds
from automl.evaluation import (
    THRESHOLD_METRICS,
    Metric,
    Split,
    pickled_size,
    predict_latency,
    take_rows,
)
from automl.fidelity import rung_sample
from automl.objectives import measure_costs

# The statuses a TrialTask returns; failures (error, timeout, memory, crashed) come from
# the executor, which sees the task die rather than return.
COMPLETE, PRUNED, STOPPED = "complete", "pruned", "stopped"


@dataclass(frozen=True)
class SearchContext:
    """The data and settings shared by every trial of one search."""

    key: str
    X: Any
    y: np.ndarray
    splits: list[Split]
    profile: DatasetProfile
    metric: Metric
    candidates: dict[str, Candidate]
    estimator_seed: int | None
    sample_weight: np.ndarray | None = None
    # a clustering search's reference space and fixed samples (automl.cluster_trial)
    clustering: Any = None

    def pipeline(self, algorithm: str, config: dict[str, Any]) -> Any:
        """The unfitted pipeline of ``config``, built by the one builder the refit uses too."""
        return build_pipeline(
            self.candidates[algorithm],
            config,
            self.profile,
            self.estimator_seed,
            tune_threshold_for=THRESHOLD_METRICS.get(self.metric.name),
        )


@dataclass
class TrialOutcome:
    """What a trial returns: fold scores and times, and why it stopped if it did."""

    status: str
    fold_scores: list[float] = field(default_factory=list)
    fit_times: list[float] = field(default_factory=list)
    score_times: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    note: str = ""
    # early stopping: the rounds found in each fold, and the parameter value the refit uses
    rounds: list[int] = field(default_factory=list)
    found_params: dict[str, int] = field(default_factory=dict)
    # successive halving on rows (automl.fidelity): the score after each rung, and the
    # seconds the rungs took (part of the trial's cost, not of its full fit)
    rung_scores: list[float] = field(default_factory=list)
    rung_seconds: float = 0.0
    # Only for a trial that beat its algorithm's best known when it was submitted: the
    # model fitted on the last training fold (the fallback final model), the out-of-fold
    # predictions, and that model's pickled size and predict time (all read by the report).
    fold_model: Any = None
    oof: np.ndarray | None = None
    oof_seconds: float = 0.0  # predicting the folds again for ``oof`` (part of the cost)
    size_bytes: int | None = None
    predict_ms_per_1000: float | None = None
    # a multi-objective search's costs of this trial's model ({objective: value})
    costs: dict[str, float] = field(default_factory=dict)
    # a clustering trial's scores without labels (automl.cluster_scores), the objective too
    cluster_scores: dict[str, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_scores))


@dataclass(frozen=True)
class TrialTask:
    """Score one configuration on the search's folds.

    Parameters
    ----------
    number : int
        The Optuna trial number.
    algorithm, config : the configuration (plain parameter names).
    time_limit : float
        Hard limit in seconds, enforced by the executor (the task cannot enforce it).
    stop_after : float or None
        Seconds after the start past which no new fold starts when its expected duration
        (the mean of the folds so far) would cross it: the rest of the search's budget.
    prune_thresholds : dict
        ``{fold index: median}``: after that fold the trial is pruned when the best of its
        running means is worse than the median of the finished trials' running means at
        the same fold (Optuna's ``MedianPruner`` rule, with a snapshot of the study taken at
        submission, because the study stays in the driver).
    keep_if_better_than : float or None
        Return the last fold's fitted pipeline, the out-of-fold predictions and the model's
        size and predict time when the mean score beats this (None: always); the driver
        sends its algorithm's best so far, so only trials that may become it pay for that.
    keep_oof : bool
        Return the out-of-fold predictions when the mean score beats ``oof_bar`` (None:
        always), for ensemble selection; the driver sends its pool's entry bar.
    rung_rows, rung_thresholds : tuple of int, dict
        With a single split: before the full fit, fit on this many of its training rows
        (a fixed sample), score on its test rows, and stop (pruned) when the score is worse
        than ``rung_thresholds[rung]``, the median of earlier trials there (see
        :mod:`automl.fidelity`).
    measure : tuple of str
        The costs (:mod:`automl.objectives`) to measure on the last fold's model of a
        complete trial: the objectives and constraints of a multi-objective search.
    """

    number: int
    algorithm: str
    config: dict[str, Any]
    time_limit: float
    stop_after: float | None = None
    prune_thresholds: dict[int, float] = field(default_factory=dict)
    keep_if_better_than: float | None = None
    keep_oof: bool = False
    oof_bar: float | None = None
    rung_rows: tuple[int, ...] = ()
    rung_thresholds: dict[int, float] = field(default_factory=dict)
    measure: tuple[str, ...] = ()

    def run(self, context: SearchContext) -> TrialOutcome:
        started = time.monotonic()
        metric = context.metric
        pipeline = context.pipeline(self.algorithm, self.config)
        outcome = TrialOutcome(COMPLETE)
        if self.rung_rows and self._pruned_on_rows(pipeline, context, outcome):
            return outcome
        best_running: float | None = None
        # Fold models are kept until the end (not refit) in case this trial beats the best
        # and its out-of-fold predictions are wanted: memory for speed, for a few seconds.
        fold_models: list[Any] = []
        n_folds = len(context.splits)
        candidate = context.candidates[self.algorithm]
        stopping = candidate.early_stopping
        for step, (train, test) in enumerate(context.splits):
            fitted, score, fit_time, score_time, rounds = _fit_and_score_fold(
                pipeline, candidate, context, train, test, outcome.warnings
            )
            fold_models.append(fitted)
            if rounds is not None and stopping is not None:
                outcome.rounds.append(rounds)
                outcome.found_params = {stopping.rounds: refit_rounds(outcome.rounds)}
            if not np.isfinite(score):
                raise ValueError(f"fold {step} scored {score} (not finite)")
            outcome.fold_scores.append(score)
            outcome.fit_times.append(fit_time)
            outcome.score_times.append(score_time)
            running = outcome.mean
            if best_running is None or metric.better(running, best_running):
                best_running = running
            if step + 1 == n_folds:
                break
            threshold = self.prune_thresholds.get(step)
            if threshold is not None and metric.better(threshold, best_running):
                outcome.status = PRUNED
                outcome.note = (
                    f"pruned after fold {step}: running mean {running:.4g} worse "
                    f"than the median {threshold:.4g}"
                )
                return outcome
            expected = float(np.mean(outcome.fit_times) + np.mean(outcome.score_times))
            if self.stop_after is not None and (
                time.monotonic() - started + expected > self.stop_after
            ):
                outcome.status = STOPPED
                outcome.note = (
                    f"stopped after fold {step}: the next fold would cross the time budget"
                )
                return outcome
        if self.measure:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # recorded with the scores already
                outcome.costs = measure_costs(
                    fold_models[-1],
                    context.X,
                    context.splits[-1][1],
                    context.profile.task != "regression",
                    self.measure,
                )
        in_pool = self.keep_oof and (
            self.oof_bar is None or metric.better(outcome.mean, self.oof_bar)
        )
        best_of_its_algorithm = self.keep_if_better_than is None or metric.better(
            outcome.mean, self.keep_if_better_than
        )
        if in_pool or best_of_its_algorithm:
            t0 = time.perf_counter()
            outcome.oof = out_of_fold(fold_models, context)
            outcome.oof_seconds = time.perf_counter() - t0
        if best_of_its_algorithm:
            outcome.fold_model = fold_models[-1]
            outcome.size_bytes = pickled_size(outcome.fold_model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # recorded with the scores already
                outcome.predict_ms_per_1000 = predict_latency(
                    outcome.fold_model,
                    context.X,
                    context.splits[-1][1],
                    context.profile.task != "regression",
                    repeat=3,
                )
        return outcome

    def _pruned_on_rows(self, pipeline: Any, context: SearchContext, outcome: TrialOutcome) -> bool:
        """Fit and score the rungs (samples of the single split's training rows); True when
        a rung's score says stop (``outcome`` is then pruned, with a note)."""
        ((train, test),) = context.splits
        candidate = context.candidates[self.algorithm]
        stratify = context.profile.task != "regression"
        for rung, rows in enumerate(self.rung_rows):
            sample = rung_sample(train, rows, context.y, stratify)
            _, score, fit_time, score_time, _ = _fit_and_score_fold(
                pipeline, candidate, context, sample, test, outcome.warnings
            )
            if not np.isfinite(score):
                raise ValueError(f"the fit on {rows} rows scored {score} (not finite)")
            outcome.rung_scores.append(score)
            outcome.rung_seconds += fit_time + score_time
            threshold = self.rung_thresholds.get(rung)
            if threshold is not None and context.metric.better(threshold, score):
                outcome.status = PRUNED
                outcome.note = (
                    f"pruned after a fit on {rows:,} of {len(train):,} training rows: score "
                    f"{score:.4g} worse than the median {threshold:.4g} of earlier trials there"
                )
                return True
        return False


@dataclass
class RefitOutcome:
    pipeline: Any
    fit_time: float
    warnings: list[str]


@dataclass(frozen=True)
class RefitTask:
    """Fit one configuration on all rows (the final model)."""

    number: int
    algorithm: str
    config: dict[str, Any]
    time_limit: float

    def run(self, context: SearchContext) -> RefitOutcome:
        pipeline = context.pipeline(self.algorithm, self.config)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            pipeline.fit(context.X, context.y, **weight_params(pipeline, context.sample_weight))
            seconds = time.perf_counter() - started
        return RefitOutcome(pipeline, seconds, describe_warnings(caught))


def out_of_fold(fold_models: list[Any], context: SearchContext) -> np.ndarray:
    """Predictions of each fold's model on its test rows (NaN elsewhere).

    Classification: probabilities in ``profile.classes`` order (a class missing from a
    training fold gets 0). Rows in no test fold (a holdout's training rows) stay NaN.
    """
    classes = context.profile.classes
    index = {c: i for i, c in enumerate(classes)}
    y = context.y
    out = np.full((len(y), len(classes)) if classes else len(y), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings were recorded with the scores
        for fitted, (_, test) in zip(fold_models, context.splits):
            X_test = take_rows(context.X, test)
            if not classes:
                out[test] = fitted.predict(X_test)
                continue
            out[test] = 0.0
            columns = [index[c] for c in fitted.classes_]
            out[np.ix_(test, np.asarray(columns))] = fitted.predict_proba(X_test)
    return out


def _fit_and_score_fold(
    pipeline: Any,
    candidate: Candidate,
    context: SearchContext,
    train: np.ndarray,
    test: np.ndarray,
    seen: list[str],
) -> tuple[Any, float, float, float, int | None]:
    """Fit a fresh clone on the training rows (with early stopping when the candidate has
    it: then the rounds found are returned too) and score it; warnings are recorded."""
    rounds = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = context.sample_weight
        X_train, y_train = take_rows(context.X, train), context.y[train]
        t0 = time.perf_counter()
        if candidate.early_stopping is None:
            fit_params = weight_params(pipeline, None if w is None else w[train])
            fitted = clone(pipeline).fit(X_train, y_train, **fit_params)
        else:
            fitted, rounds = fit_early_stopped(
                pipeline,
                candidate,
                X_train,
                y_train,
                None if w is None else w[train],
                context.profile.task != "regression",
                context.estimator_seed,
            )
        t1 = time.perf_counter()
        score = context.metric.score(
            fitted, take_rows(context.X, test), context.y[test], None if w is None else w[test]
        )
        t2 = time.perf_counter()
    for message in describe_warnings(caught):
        if message not in seen:
            seen.append(message)
    return fitted, score, t1 - t0, t2 - t1, rounds


def describe_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """The distinct warnings a fit raised, as ``Category: message`` lines."""
    return sorted({f"{w.category.__name__}: {w.message}" for w in caught})
