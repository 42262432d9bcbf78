"""Baselines in seconds: the dummy model and every algorithm at its default configuration.

Every model is scored on the same folds, on the search metric and on the other metrics
reported for the task (``automl.nested.REPORTED_METRICS``), with its fit time, its predict
time per 1,000 rows and its pickled size. The configurations are the ones that open every
search (``Candidate.opening_config``), and under the same ``random_state`` the folds and
estimator seeds are the ones an ``AutoMLClassifier``/``AutoMLRegressor`` search uses, so a
baseline row equals the search's opening trial for that algorithm.

Algorithms run cheapest first (their relative ``cost``, as in the search's opening), so
with a ``time_budget`` the cheap models are there first. An algorithm that raises is
recorded with its error; the others go on.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.dummy import DummyClassifier, DummyRegressor
from threadpoolctl import threadpool_limits

from automl.builder import Candidate, build_pipeline, make_candidate
from automl.data import DatasetProfile, validate_data
from automl.evaluation import (
    Metric,
    Split,
    make_splits,
    pickled_size,
    predict_latency,
    resolve_metric,
    search_seeds,
    take_rows,
)
from automl.exceptions import AllTrialsFailedError, InvalidParameterError
from automl.nested import REPORTED_METRICS
from automl.registry import is_installed, load_registry, select_candidates

logger = logging.getLogger("automl.baselines")

DUMMY = "dummy"


@dataclass
class BaselineResult:
    """The outcome of :func:`baseline`: one leaderboard row per model, and what is behind it.

    Attributes
    ----------
    leaderboard : DataFrame
        One row per model, best first: ``algorithm``, the search metric's mean and ``std``
        over the folds, the mean and ``<metric>_std`` of every other reported metric,
        ``fit_time`` (seconds per fold fit, median over the folds), ``predict_ms_per_1000``
        (milliseconds to predict a batch of 1,000 rows on one thread, median over the folds),
        ``size_bytes`` (the pickled pipeline fitted on the first fold), ``state``
        ("complete", "failed" or "skipped"), ``error`` and ``note`` (warnings, or why
        an algorithm was skipped).
    fold_scores : dict
        ``{algorithm: {metric: [score per fold]}}``, in the metric's natural sign.
    configs : dict
        ``{algorithm: configuration}``: the default configuration each one was fit with.
    splits : list of (train, test) index arrays
        The folds every model was scored on (groups and time order honoured), as row
        positions of the data given.
    oof : dict
        ``{algorithm: out-of-fold predictions}``: class probabilities (columns in
        ``classes`` order) for classification, predicted values for regression.
    """

    task: str
    metric: str
    greater_is_better: bool
    leaderboard: pd.DataFrame
    fold_scores: dict[str, dict[str, list[float]]]
    configs: dict[str, dict[str, Any]]
    profile: DatasetProfile
    n_splits: int
    n_train: float
    n_test: float
    cv: str
    random_state: int | None
    elapsed: float
    classes: tuple[Any, ...] = ()
    oof: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    splits: list[Split] = field(default_factory=list, repr=False)

    @property
    def best_algorithm(self) -> str:
        return str(self.leaderboard.iloc[0]["algorithm"])

    @property
    def best_score(self) -> float:
        return float(self.leaderboard.iloc[0][self.metric])

    @property
    def dummy_score(self) -> float:
        row = self.leaderboard[self.leaderboard["algorithm"] == DUMMY]
        return float(row[self.metric].iloc[0]) if len(row) else float("nan")

    def summary(self) -> str:
        """One line: the best model, its score next to the dummy's, and the time taken."""
        std = float(self.leaderboard.iloc[0]["std"])
        return (
            f"Baseline ({self.n_splits}-fold CV, {self.metric}): best {self.best_algorithm} "
            f"{self.best_score:.4f} ± {std:.4f}, dummy model {self.dummy_score:.4f}; "
            f"{len(self.leaderboard)} models in {self.elapsed:.1f}s."
        )


def baseline(
    X: Any,
    y: Any = None,
    *,
    target: str | None = None,
    task: str | None = None,
    metric: str | Callable[..., float] | None = None,
    cv: int | float | str | Any = "auto",
    algorithms: Sequence[str] | None = None,
    spaces: Sequence[str] = (),
    column_kinds: Mapping[str, str] | None = None,
    groups: Any = None,
    time_budget: float | None = None,
    random_state: int | None = 0,
) -> BaselineResult:
    """Score the dummy model and every applicable algorithm at its default configuration.

    Parameters
    ----------
    X : DataFrame or array-like
        The features, or the whole table when ``target`` names the target column.
    y : array-like, optional
        The target, if not a column of X.
    target : str, optional
        Name of the target column in X.
    task : {"binary", "multiclass", "regression"}, optional
        Override the task inferred from the target.
    metric : str or scikit-learn scorer, optional
        The metric the leaderboard is sorted by (default by task, as in the search).
    cv : int, float, "auto" or splitter, default="auto"
        Folds shared by every model (see :func:`automl.evaluation.make_splits`).
    algorithms : list of str, optional
        Restrict to these algorithms (default: every installed one for the task).
    spaces : list of paths, optional
        Extra search space files (TOML).
    column_kinds : dict, optional
        Override inferred column kinds, e.g. ``{"zip": "categorical"}``.
    groups : array-like, optional
        Group labels for grouped folds.
    time_budget : float or None, default=None
        Seconds for the whole baseline. Algorithms run cheapest first (the order in which
        they open a search); one that would start after the budget is spent is listed as
        skipped. None runs them all.
    random_state : int or None, default=0
        Seed for the folds and the estimators; the same seed gives the same folds as a search.

    Returns
    -------
    BaselineResult
        ``leaderboard`` holds one row per model, best first.

    Examples
    --------
    >>> import automl
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> result = automl.baseline(X, y, cv=3, algorithms=["ridge"])
    >>> list(result.leaderboard["algorithm"])
    ['ridge', 'dummy']
    """
    started = time.monotonic()
    if time_budget is not None and not (isinstance(time_budget, (int, float)) and time_budget > 0):
        raise InvalidParameterError(
            f"The 'time_budget' parameter of baseline must be a "
            f"positive number of seconds or None; got {time_budget!r}."
        )
    frame, y_arr, profile = validate_data(X, y, target=target, task=task, column_kinds=column_kinds)
    scorer = resolve_metric(metric, profile.task)
    metrics = {
        name: scorer if name == scorer.name else resolve_metric(name, profile.task)
        for name in dict.fromkeys((scorer.name, *REPORTED_METRICS[profile.task]))
    }
    seeds = search_seeds(random_state)
    cv_seed, estimator_seed = seeds.cv, seeds.estimator
    splits = make_splits(cv, profile.task, y_arr, groups, random_state=cv_seed)
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    registry = load_registry(spaces)
    specs = select_candidates(registry, profile.task, int(n_train), algorithms)
    candidates = {
        s.name: make_candidate(s, profile.task) for s in sorted(specs, key=lambda s: s.cost)
    }
    data = frame.to_numpy() if profile.from_array else frame
    classes = tuple(profile.classes)

    rows, fold_scores, configs, oof = [], {}, {}, {}
    models: list[tuple[str, dict[str, Any], Callable[[], Any]]] = [
        (DUMMY, {}, lambda: _dummy(profile.task))
    ]
    for name, candidate in candidates.items():
        config = candidate.opening_config()
        models.append((name, config, _builder(candidate, config, profile, estimator_seed)))
    for name, config, make in models:
        configs[name] = config
        if time_budget is not None and name != DUMMY and time.monotonic() - started > time_budget:
            rows.append(
                {
                    "algorithm": name,
                    "state": "skipped",
                    "error": "",
                    "note": f"the time budget of {time_budget:g}s was used up",
                }
            )
            continue
        outcome = _evaluate(make, data, y_arr, splits, metrics, classes)
        fold_scores[name] = outcome.pop("folds")
        predictions = outcome.pop("oof")
        if predictions is not None:
            oof[name] = predictions
        rows.append({"algorithm": name, **outcome})
        logger.info(
            "Baseline %s: %s",
            name,
            outcome["error"]
            or f"{scorer.name} {outcome[scorer.name]:.4g} ({outcome['fit_time']:.2f}s/fold)",
        )
    rows += _skipped_rows(registry, profile.task, algorithms, candidates)
    board = _leaderboard(rows, scorer, metrics)
    if not (board["state"] == "complete").any():
        raise AllTrialsFailedError(
            f"Every baseline model failed; the first error: {board['error'].iloc[0]}"
        )
    return BaselineResult(
        task=profile.task,
        metric=scorer.name,
        greater_is_better=scorer.greater_is_better,
        leaderboard=board,
        fold_scores=fold_scores,
        configs=configs,
        profile=profile,
        n_splits=len(splits),
        n_train=n_train,
        n_test=float(np.mean([len(te) for _, te in splits])),
        cv=_describe_cv(cv, profile.task),
        random_state=random_state,
        elapsed=time.monotonic() - started,
        classes=classes,
        oof=oof,
        splits=splits,
    )


def _dummy(task: str) -> Any:
    return DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")


def _builder(
    candidate: Candidate, config: dict[str, Any], profile: DatasetProfile, seed: int
) -> Callable[[], Any]:
    """A factory of fresh pipelines (a closure per algorithm, not per loop variable)."""
    return lambda: build_pipeline(candidate, config, profile, seed)


def _evaluate(
    make: Callable[[], Any],
    X: Any,
    y: np.ndarray,
    splits: list[Split],
    metrics: dict[str, Metric],
    classes: tuple[Any, ...],
) -> dict[str, Any]:
    """Fit and score one model on every fold; an exception is recorded, not raised."""
    folds: dict[str, list[float]] = {name: [] for name in metrics}
    fit_times: list[float] = []
    predict_ms: list[float] = []
    size, caught = np.nan, set[str]()
    oof = np.full((len(y), len(classes)) if classes else len(y), np.nan)
    try:
        for i, (train, test) in enumerate(splits):
            with warnings.catch_warnings(record=True) as seen, threadpool_limits(limits=1):
                warnings.simplefilter("always")
                model = make()
                t0 = time.perf_counter()
                model.fit(take_rows(X, train), y[train])
                t1 = time.perf_counter()
                X_test = take_rows(X, test)
                predictions = model.predict_proba(X_test) if classes else model.predict(X_test)
                predict_ms.append(predict_latency(model, X, test, bool(classes)))
            caught.update(f"{w.category.__name__}: {w.message}" for w in seen)
            fit_times.append(t1 - t0)
            replay = _Replay.of(model, predictions, bool(classes))
            for name, metric in metrics.items():
                folds[name].append(metric.score(replay, X_test, y[test]))
            oof[test] = _align(predictions, getattr(model, "classes_", None), classes)
            if i == 0:
                size = pickled_size(model)
    except Exception as exc:  # a failing algorithm is data, not the end of the baseline
        return {
            "folds": folds,
            "oof": None,
            "state": "failed",
            "fit_time": np.nan,
            "predict_ms_per_1000": np.nan,
            "size_bytes": np.nan,
            "error": f"{type(exc).__name__}: {exc}",
            "note": "",
        }
    out: dict[str, Any] = {
        "folds": folds,
        "oof": oof,
        "state": "complete",
        "error": "",
        # medians: the first fit can pay one-time imports, and a busy
        # machine only ever adds time
        "fit_time": float(np.median(fit_times)),
        "predict_ms_per_1000": float(np.median(predict_ms)),
        "size_bytes": float(size),
        "note": "; ".join(sorted(caught))[:500],
    }
    for name, values in folds.items():
        out[name] = float(np.mean(values))
        out[f"{name}_std"] = float(np.std(values))
    return out


def _align(proba: np.ndarray, model_classes: Any, classes: tuple[Any, ...]) -> np.ndarray:
    """Probability columns in ``classes`` order (a training fold may miss a class)."""
    if not classes or model_classes is None or list(model_classes) == list(classes):
        return proba
    out = np.zeros((len(proba), len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        out[:, index[c]] = proba[:, j]
    return out


class _Replay(BaseEstimator):
    """Replays predictions already made, so every metric costs no extra predict call.

    Scikit-learn scorers call ``predict``/``predict_proba`` on what they are given; for
    kNN or SVMs a predict costs as much as a fit, so the fold is predicted once.
    """

    @staticmethod
    def of(model: Any, predictions: np.ndarray, classification: bool) -> _Replay:
        replay = _ReplayClassifier() if classification else _ReplayRegressor()
        replay.predictions_ = predictions
        if classification:
            replay.classes_ = np.asarray(model.classes_)
        return replay


class _ReplayClassifier(ClassifierMixin, _Replay):
    def predict_proba(self, X: Any) -> np.ndarray:
        return self.predictions_

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predictions_, axis=1)]


class _ReplayRegressor(RegressorMixin, _Replay):
    def predict(self, X: Any) -> np.ndarray:
        return self.predictions_


def _skipped_rows(registry, task, algorithms, candidates) -> list[dict[str, Any]]:
    """Algorithms for the task that did not run (row limit, missing library), with why."""
    rows = []
    for spec in registry.values():
        if spec.name in candidates or not spec.supports(task):
            continue
        if algorithms is not None and spec.name not in algorithms:
            continue
        why = (
            f"needs {list(spec.requires)}, not installed"
            if not is_installed(spec)
            else f"above its row limit ({spec.max_rows})"
        )
        rows.append({"algorithm": spec.name, "state": "skipped", "error": "", "note": why})
    return rows


def _leaderboard(
    rows: list[dict[str, Any]], scorer: Metric, metrics: dict[str, Metric]
) -> pd.DataFrame:
    columns = ["algorithm", scorer.name, "std"]
    for name in metrics:
        if name != scorer.name:
            columns += [name, f"{name}_std"]
    columns += ["fit_time", "predict_ms_per_1000", "size_bytes", "state", "error", "note"]
    frame = pd.DataFrame(rows).rename(columns={f"{scorer.name}_std": "std"})
    frame = frame.reindex(columns=columns)
    frame = frame.sort_values(
        scorer.name, ascending=not scorer.greater_is_better, na_position="last", kind="stable"
    )
    return frame.reset_index(drop=True)


def _describe_cv(cv: Any, task: str) -> str:
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        kind = "KFold" if task == "regression" else "StratifiedKFold"
        return f"{kind}({int(cv)}, shuffled)"
    if isinstance(cv, float):
        return f"one holdout of {cv:.0%}"
    return repr(cv)
