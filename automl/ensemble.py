"""Greedy ensemble selection over the search's trials (Caruana et al., 2004).

The search keeps the out-of-fold predictions of its best trials (:mod:`automl.search.pool`).
Selection starts from nothing and, round after round, adds (with replacement) the trial
whose predictions most improve the weighted average's score on the rows the folds scored;
the weights are how often each trial was added. The rounds stop at ``max_size``; the prefix
with the best pooled score is kept, so on those rows it never scores worse than its first
member (the fold-mean score the search compares with the best trial may differ slightly).

Scores of an average of predictions are taken with scikit-learn's metric function for the
default metrics, and otherwise with the search's scorer through a stand-in estimator that
returns the stored predictions (:class:`StoredPredictions`; a scorer that needs
``decision_function`` or the columns of X cannot score it, and there is no ensemble). The
ensemble's score is, like a trial's, the mean of its scores on each fold's test rows; it is
optimistic (members and weights are chosen on those same rows), which nested CV measures.

The fitted ensemble is plain scikit-learn: a soft-voting ``VotingClassifier`` or a
``VotingRegressor`` over members refit on all rows, each wrapped in ``FrozenEstimator``
so that fitting the vote (which only learns the class labels) never refits them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.ensemble import VotingClassifier, VotingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error

from automl.evaluation import Metric, Split

# Selection rounds (the ensemble's size counted with repetition): auto-sklearn's default is
# 50; on our benchmark's data sets the score stopped moving after about 20.
DEFAULT_SIZE = 25
# Trials whose out-of-fold predictions the search keeps for selection (the best by score),
# and the memory they may take together.
POOL_TRIALS = 50
POOL_BYTES = 256 * 1024**2
# Selection scores (trials kept) x (rounds) averages: about 2 s for 50 x 25 on 600 rows on
# our machines. It gets a share of the time budget, at most this many seconds, and scores
# at most this many rows (a random sample of them above).
SELECTION_SHARE = 0.03
MAX_SELECTION_SECONDS = 2.0
SELECTION_ROWS = 20_000


def selection_seconds(time_budget: float) -> float:
    """The time ensemble selection may take (kept free by the search, like the refit)."""
    return min(MAX_SELECTION_SECONDS, SELECTION_SHARE * time_budget)


@dataclass(frozen=True)
class PoolEntry:
    """One trial's out-of-fold predictions, as the search kept them."""

    trial: int
    algorithm: str
    score: float  # the trial's mean fold score
    oof: np.ndarray
    refit_seconds: float = 0.0  # expected time to refit it on all rows


@dataclass(frozen=True)
class Ensemble:
    """Members (trial numbers, with repetition counted in ``weights``) and their scores.

    ``score`` and ``fold_scores``: the weighted average's scores on each fold's test rows
    (optimistic: chosen on those rows); ``oof``: the average itself.
    """

    trials: tuple[int, ...]
    algorithms: tuple[str, ...]
    weights: tuple[float, ...]
    fold_scores: tuple[float, ...]
    oof: np.ndarray

    @property
    def score(self) -> float:
        return float(np.mean(self.fold_scores))

    def __len__(self) -> int:
        return len(self.trials)


class StoredPredictions(BaseEstimator):
    """An "estimator" that predicts stored values for row positions (a column of X).

    The search's scorer calls ``predict_proba``/``predict`` on it, so an average of
    out-of-fold predictions is scored exactly as a fitted model would be.
    """

    def __init__(self, values: np.ndarray, classes: Sequence[Any] | None = None) -> None:
        self.values = values
        self.classes = classes

    def _rows(self, X: Any) -> np.ndarray:
        return np.asarray(X)[:, 0].astype(int)

    def predict(self, X: Any) -> np.ndarray:
        if self.classes is None:
            return self.values[self._rows(X)]
        return np.asarray(self.classes_)[np.argmax(self.values[self._rows(X)], axis=1)]


class StoredProbabilities(ClassifierMixin, StoredPredictions):
    def __init__(self, values: np.ndarray, classes: Sequence[Any] | None = None) -> None:
        super().__init__(values, classes)
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.values[self._rows(X)]


class StoredValues(RegressorMixin, StoredPredictions):
    pass


def fold_scores_of(
    predictions: np.ndarray,
    y: np.ndarray,
    splits: list[Split],
    metric: Metric,
    classes: Sequence[Any] | None,
    sample_weight: np.ndarray | None = None,
) -> list[float]:
    """The scores of stored out-of-fold ``predictions`` on each fold's test rows."""
    model = _stored(predictions, classes)
    out = []
    for _, test in splits:
        w = None if sample_weight is None else sample_weight[test]
        out.append(metric.score(model, test[:, None], y[test], w))
    return out


def select_ensemble(
    pool: Sequence[PoolEntry],
    y: np.ndarray,
    splits: list[Split],
    metric: Metric,
    classes: Sequence[Any] | None,
    sample_weight: np.ndarray | None = None,
    max_size: int = DEFAULT_SIZE,
    deadline: float | None = None,
    refit_budget: float | None = None,
    refit_limit: float | None = None,
    reserved: float = 0.0,
) -> Ensemble | None:
    """Greedy forward selection with replacement; None when the pool is empty.

    Members are chosen by their score on the rows every kept trial's folds scored (at
    most ``SELECTION_ROWS`` of them), then the result is scored fold by fold like a
    trial. ``deadline`` (``time.monotonic()``) ends the selection early. Refit time:
    a trial is not added when its ``refit_seconds`` exceed ``refit_limit`` (the time
    left), or when the members' refits with ``reserved`` seconds (kept for the best
    trial's own refit) would exceed ``refit_budget`` (the time left times the refits
    that run at once).
    """
    pool = [c for c in pool if c.oof is not None]
    if not pool:
        return None
    scored = np.ones(len(y), dtype=bool)
    for c in pool:
        scored &= np.isfinite(c.oof).all(axis=1) if c.oof.ndim == 2 else np.isfinite(c.oof)
    rows = np.flatnonzero(scored)
    if len(rows) == 0:
        return None
    if len(rows) > SELECTION_ROWS:  # the ranking of averages needs no more
        rows = np.sort(np.random.default_rng(0).choice(rows, SELECTION_ROWS, replace=False))
    w = None if sample_weight is None else sample_weight[rows]
    preds = [c.oof[rows] for c in pool]
    total = np.zeros_like(preds[0])
    counts = np.zeros(len(pool), dtype=int)
    history: list[tuple[float, np.ndarray]] = []
    score = _pooled_scorer(metric, y[rows], classes, w)
    refits = np.array([c.refit_seconds for c in pool])
    fits = [i for i in range(len(pool)) if refit_limit is None or refits[i] <= refit_limit]
    for size in range(1, max_size + 1):
        spent = reserved + refits[counts > 0].sum()
        allowed = [
            i
            for i in fits
            if counts[i] or refit_budget is None or spent + refits[i] <= refit_budget
        ]
        scores: dict[int, float] = {}
        for i in allowed:
            if scores and deadline is not None and time.monotonic() > deadline:
                break
            scores[i] = score((total + preds[i]) / size)
        if not scores:
            break
        pick = max(scores, key=lambda i: _key(scores[i], metric))
        total += preds[pick]
        counts[pick] += 1
        history.append((scores[pick], counts.copy()))
        if deadline is not None and time.monotonic() > deadline:
            break  # a round cut short above still added its best of those it scored
    if not history:
        return None
    best = max(range(len(history)), key=lambda i: (_key(history[i][0], metric), -i))
    counts = history[best][1]
    chosen = np.flatnonzero(counts)
    weights = counts[chosen] / counts.sum()
    oof = _average([pool[i].oof for i in chosen], weights)
    return Ensemble(
        trials=tuple(pool[i].trial for i in chosen),
        algorithms=tuple(pool[i].algorithm for i in chosen),
        weights=tuple(float(v) for v in weights),
        fold_scores=tuple(fold_scores_of(oof, y, splits, metric, classes, sample_weight)),
        oof=oof,
    )


def reweighted(
    ensemble: Ensemble,
    keep: Sequence[int],
    pool: Sequence[PoolEntry],
    y: np.ndarray,
    splits: list[Split],
    metric: Metric,
    classes: Sequence[Any] | None,
    sample_weight: np.ndarray | None = None,
) -> Ensemble:
    """The ensemble restricted to the trials in ``keep`` (weights renormalised), rescored;
    for members whose refit failed or did not finish in time."""
    by_trial = {c.trial: c for c in pool}
    index = [i for i, t in enumerate(ensemble.trials) if t in keep]
    total = sum(ensemble.weights[i] for i in index)
    weights = [ensemble.weights[i] / total for i in index]
    oof = _average([by_trial[ensemble.trials[i]].oof for i in index], weights)
    return Ensemble(
        trials=tuple(ensemble.trials[i] for i in index),
        algorithms=tuple(ensemble.algorithms[i] for i in index),
        weights=tuple(weights),
        fold_scores=tuple(fold_scores_of(oof, y, splits, metric, classes, sample_weight)),
        oof=oof,
    )


def voting_model(
    members: Sequence[Any], names: Sequence[str], weights: Sequence[float], X: Any, y: Any
) -> VotingClassifier | VotingRegressor:
    """The fitted members as one plain scikit-learn estimator (soft vote / weighted mean).

    ``fit`` only learns the class labels: each member is a ``FrozenEstimator``, which a fit
    leaves as it is (and which ``clone`` returns unchanged).
    """
    estimators = [(name, FrozenEstimator(m)) for name, m in zip(names, members)]
    if hasattr(members[0], "predict_proba") and hasattr(members[0], "classes_"):
        vote: Any = VotingClassifier(estimators, voting="soft", weights=list(weights))
    else:
        vote = VotingRegressor(estimators, weights=list(weights))
    return vote.fit(X, y)


def _pooled_scorer(
    metric: Metric, y: np.ndarray, classes: Sequence[Any] | None, w: np.ndarray | None
) -> Callable[[np.ndarray], float]:
    """Score predictions of the selection rows: scikit-learn's metric function for the
    default metrics (the scorer's input checks cost more than the metric on small data,
    and selection scores thousands of averages), the scorer itself for any other."""
    if not metric.builtin:  # a user's scorer named like a built-in metric is still theirs
        positions = np.arange(len(y))[:, None]
        return lambda p: metric.score(_stored(p, classes), positions, y, w)
    if metric.name == "roc_auc" and classes is not None:
        positive = np.asarray(y) == classes[1]
        return lambda p: float(roc_auc_score(positive, p[:, 1], sample_weight=w))
    if metric.name == "log_loss" and classes is not None:
        # a member's float32 probabilities may sum to 1 only within float32's precision
        return lambda p: float(
            log_loss(y, p / p.sum(axis=1, keepdims=True), labels=list(classes), sample_weight=w)
        )
    if metric.name == "rmse" and classes is None:
        return lambda p: float(root_mean_squared_error(y, p, sample_weight=w))
    positions = np.arange(len(y))[:, None]
    return lambda p: metric.score(_stored(p, classes), positions, y, w)


def _average(predictions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    return np.sum([w * p for w, p in zip(weights, predictions)], axis=0)


def _stored(values: np.ndarray, classes: Sequence[Any] | None) -> StoredPredictions:
    if classes is None:
        return StoredValues(values)
    return StoredProbabilities(values, classes)


def _key(score: float, metric: Metric) -> float:
    return score if metric.greater_is_better else -score
