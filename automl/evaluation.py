"""Metrics, cross-validation splits and the dummy baseline.

Scores are reported in the metric's natural sign (an rmse of 3.2 is 3.2, and lower is
better); scikit-learn scorers, which always return "greater is better", are used underneath.
Default metrics: ``roc_auc`` for binary, ``log_loss`` for multiclass (it rewards calibrated
probabilities and every class), ``rmse`` for regression (in the target's own unit).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    ShuffleSplit,
    StratifiedGroupKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
)

from automl.cluster_scores import CLUSTER_METRICS, DEFAULT_CLUSTER_METRIC
from automl.exceptions import InvalidParameterError, UnknownNameError, did_you_mean

DEFAULT_METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}

# Metrics of hard predictions for which a binary classifier's decision threshold is tuned
# on the training folds (TunedThresholdClassifierCV) instead of left at 0.5.
THRESHOLD_METRICS = {"f1": "f1", "mcc": "matthews_corrcoef"}

# name -> (scikit-learn scorer name, greater is better, tasks)
_METRICS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "roc_auc": ("roc_auc", True, ("binary",)),
    "roc_auc_ovr": ("roc_auc_ovr", True, ("multiclass",)),
    "log_loss": ("neg_log_loss", False, ("binary", "multiclass")),
    "accuracy": ("accuracy", True, ("binary", "multiclass")),
    "balanced_accuracy": ("balanced_accuracy", True, ("binary", "multiclass")),
    "f1": ("f1", True, ("binary",)),
    "f1_macro": ("f1_macro", True, ("binary", "multiclass")),
    "average_precision": ("average_precision", True, ("binary",)),
    "mcc": ("matthews_corrcoef", True, ("binary", "multiclass")),
    "rmse": ("neg_root_mean_squared_error", False, ("regression",)),
    "mse": ("neg_mean_squared_error", False, ("regression",)),
    "mae": ("neg_mean_absolute_error", False, ("regression",)),
    "r2": ("r2", True, ("regression",)),
}


@dataclass(frozen=True)
class Metric:
    """A metric: its name, the scikit-learn scorer, and which way is better."""

    name: str
    scorer: Callable[..., float]
    greater_is_better: bool
    builtin: bool = False  # one of metric_names(), not a user's scorer

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "maximize" if self.greater_is_better else "minimize"

    def score(self, estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The score in the metric's natural sign (weighted when ``sample_weight`` is given)."""
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        value = float(self.scorer(estimator, X, y, **weights))
        return value if self.greater_is_better else -value

    def to_sklearn(self, value: float) -> float:
        """A natural-sign value in scikit-learn's "greater is better" convention."""
        return value if self.greater_is_better else -value

    def better(self, a: float, b: float) -> bool:
        return a > b if self.greater_is_better else a < b


def metric_names(task: str | None = None) -> list[str]:
    return [n for n, (_, _, tasks) in _METRICS.items() if task is None or task in tasks]


def resolve_metric(metric: str | Callable[..., float] | None, task: str) -> Metric:
    """A metric by name (see :func:`metric_names`), or any scikit-learn scorer object."""
    if task == "clustering":
        return _cluster_metric(metric)
    if metric is None:
        metric = DEFAULT_METRICS[task]
    if callable(metric):
        # scikit-learn scorers return "greater is better" values by contract. The scorer
        # travels to the worker processes by value (cloudpickle, through joblib), so one
        # defined in the user's script works there without running the script again.
        return Metric(
            getattr(metric, "__name__", repr(metric)),
            joblib.wrap_non_picklable_objects(metric),
            True,
        )
    if not isinstance(metric, str) or metric not in _METRICS:
        raise UnknownNameError(
            f"Unknown metric {metric!r}.{did_you_mean(str(metric), metric_names(task))} "
            f"Metrics for {task}: {metric_names(task)}, or pass a scikit-learn scorer."
        )
    scorer_name, greater, tasks = _METRICS[metric]
    if task not in tasks:
        raise InvalidParameterError(
            f"The metric {metric!r} does not apply to {task} tasks. "
            f"Metrics for {task}: {metric_names(task)}."
        )
    return Metric(metric, get_scorer(scorer_name), greater, builtin=True)


def _cluster_metric(metric: Any) -> Metric:
    """A clustering objective by name (:data:`automl.cluster_scores.CLUSTER_METRICS`)."""
    metric = DEFAULT_CLUSTER_METRIC if metric is None else metric
    if not isinstance(metric, str) or metric not in CLUSTER_METRICS:
        raise UnknownNameError(
            f"Unknown clustering metric {metric!r}."
            f"{did_you_mean(str(metric), CLUSTER_METRICS)} Clustering metrics (scored "
            f"without labels): {list(CLUSTER_METRICS)}."
        )
    return Metric(metric, _no_scorer(metric), CLUSTER_METRICS[metric], builtin=True)


class _no_scorer:
    """A clustering score is computed by the search in its reference space, not by a
    scikit-learn scorer on a fitted model; calling this says so."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        raise TypeError(
            f"{self.name} scores a clustering in the search's reference space; it has no "
            "scikit-learn scorer. Read it from leaderboard_."
        )


Split = tuple[np.ndarray, np.ndarray]


def make_splits(
    cv: Any, task: str, y: np.ndarray, groups: Any = None, random_state: int | None = None
) -> list[Split]:
    """Materialise the folds once, so every candidate is scored on the same rows.

    ``cv``: an int (k folds, stratified for classification, grouped when ``groups`` is
    given), a float in (0, 1) (one holdout of that fraction), a scikit-learn splitter, a
    list of (train, test) index arrays, or ``"auto"`` (5 folds up to 10,000 rows, a 20%
    holdout above: :func:`auto_cv`).
    """
    classification = task != "regression"
    n = len(y)
    X_placeholder = np.zeros((n, 1))
    if isinstance(cv, str) and cv == "auto":
        cv = auto_cv(n)
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != n:
            raise InvalidParameterError(
                f"groups has {len(groups)} entries but the data has {n} rows."
            )
    if isinstance(cv, bool) or cv is None or isinstance(cv, str):
        raise InvalidParameterError(
            f"The 'cv' parameter must be an int >= 2, a float in (0, 1), "
            f"'auto' or a scikit-learn splitter; got {cv!r}."
        )
    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise InvalidParameterError(
                f"The 'cv' parameter must be >= 2 folds; got {cv}. "
                "For a single holdout pass a fraction such as 0.2."
            )
        if classification:
            _check_class_counts(y, int(cv))
        if groups is not None:
            splitter = (
                StratifiedGroupKFold(cv, shuffle=True, random_state=random_state)
                if classification
                else GroupKFold(cv)
            )
        elif classification:
            splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        else:
            splitter = KFold(cv, shuffle=True, random_state=random_state)
    elif isinstance(cv, float):
        if not 0 < cv < 1:
            raise InvalidParameterError(
                f"A float 'cv' is the holdout fraction and must be in (0, 1); got {cv}."
            )
        if groups is not None:
            splitter = GroupShuffleSplit(1, test_size=cv, random_state=random_state)
        elif classification:
            _check_class_counts(y, 2)
            splitter = StratifiedShuffleSplit(1, test_size=cv, random_state=random_state)
        else:
            splitter = ShuffleSplit(1, test_size=cv, random_state=random_state)
    elif hasattr(cv, "split"):
        splitter = cv
    elif isinstance(cv, (list, tuple)):
        return _given_splits(cv, n)
    else:
        raise InvalidParameterError(
            f"The 'cv' parameter must be an int >= 2, a float in (0, 1), 'auto', a "
            f"scikit-learn splitter or a list of (train, test) index arrays; got {cv!r}."
        )
    splits = [
        (np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X_placeholder, y, groups)
    ]
    if not splits:
        raise InvalidParameterError(f"The splitter {cv!r} produced no folds.")
    return splits


def _given_splits(cv: list | tuple, n: int) -> list[Split]:
    """``cv`` as scikit-learn also takes it: (train, test) pairs of row positions."""
    splits = []
    for i, pair in enumerate(cv):
        if len(pair) != 2:
            raise InvalidParameterError(
                f"cv[{i}] must be a (train, test) pair of row positions; got {len(pair)} items."
            )
        train, test = (np.asarray(part, dtype=int) for part in pair)
        if len(train) == 0 or len(test) == 0 or max(train.max(), test.max()) >= n:
            raise InvalidParameterError(
                f"cv[{i}]: train and test must be non-empty row positions below {n}."
            )
        splits.append((train, test))
    if not splits:
        raise InvalidParameterError("cv is an empty list of splits.")
    return splits


# Above this many rows a single holdout replaces 5-fold CV: on the benchmark's larger data
# sets (pol, bank-marketing, diamonds) 5-fold CV of every opening configuration used most of
# a 60 s budget, and the search never left its opening phase. FLAML makes the same switch.
AUTO_HOLDOUT_ROWS = 10_000
AUTO_HOLDOUT_FRACTION = 0.2


def auto_cv(n_rows: int) -> int | float:
    """``cv="auto"``: 5 folds up to 10,000 rows, a 20% holdout above."""
    return 5 if n_rows <= AUTO_HOLDOUT_ROWS else AUTO_HOLDOUT_FRACTION


def _check_class_counts(y: np.ndarray, n_splits: int) -> None:
    values, counts = np.unique(y, return_counts=True)
    smallest = int(np.argmin(counts))
    if counts[smallest] < n_splits:
        raise InvalidParameterError(
            f"Class {values[smallest]!r} has only {counts[smallest]} row(s), fewer than the "
            f"{n_splits} folds asked for: stratified folds cannot each hold one. Use fewer "
            "folds (cv=...), or merge or drop that class."
        )


def dummy_scores(
    X: Any,
    y: np.ndarray,
    splits: list[Split],
    metric: Metric,
    task: str,
    sample_weight: np.ndarray | None = None,
) -> list[float]:
    """Fold scores of the dummy model (class prior, or the mean) on the same folds."""
    dummy = DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")
    return fold_scores(dummy, X, y, splits, metric, sample_weight)


def fold_scores(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    splits: list[Split],
    metric: Metric,
    sample_weight: np.ndarray | None = None,
) -> list[float]:
    w = sample_weight
    out = []
    for train, test in splits:
        fit_params = {} if w is None else {"sample_weight": w[train]}
        fitted = clone(estimator).fit(take_rows(X, train), y[train], **fit_params)
        out.append(
            metric.score(fitted, take_rows(X, test), y[test], None if w is None else w[test])
        )
    return out


def int_seed(seq: np.random.SeedSequence) -> int:
    """An int seed for a library, drawn from one branch of the user's seed."""
    return int(seq.generate_state(1)[0])


@dataclass(frozen=True)
class SearchSeeds:
    """The independent seeds of one search, all spawned from the user's ``random_state``."""

    cv: int
    sampler: int
    estimator: int
    outer: np.random.SeedSequence  # spawned again, once per outer fold of nested CV


def search_seeds(random_state: int | None) -> SearchSeeds:
    """Split ``random_state`` into folds, sampler, estimators and outer folds.

    A search, a baseline and a report under one seed share folds and model seeds.
    """
    cv, sampler, estimator, outer = np.random.SeedSequence(random_state).spawn(4)
    return SearchSeeds(int_seed(cv), int_seed(sampler), int_seed(estimator), outer)


def take_rows(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def predict_latency(
    model: Any, X: Any, rows: np.ndarray, classification: bool, batch: int = 1000, repeat: int = 1
) -> float:
    """Milliseconds to predict one batch of 1,000 rows (the given rows, repeated if fewer).

    Timed on a full batch rather than scaled from a small test fold, where the fixed cost
    of a call (input checks, column selection) would dominate; the fastest of ``repeat``
    calls, since a busy machine only ever adds time.
    """
    X_batch = take_rows(X, np.resize(rows, batch))
    best = np.inf
    for _ in range(repeat):
        started = time.perf_counter()
        model.predict_proba(X_batch) if classification else model.predict(X_batch)
        best = min(best, time.perf_counter() - started)
    return best * 1000 * 1000 / batch


def pickled_size(model: Any) -> int:
    """Bytes of ``model`` pickled (what a saved model file is made of, before compression)."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
