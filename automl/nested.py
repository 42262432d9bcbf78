"""Nested cross-validation: an honest estimate of the whole search procedure.

The search is an estimator, so the outer loop is plain cross-validation over it: each outer
fold runs an independent search (its own seed, spawned from the user's) on its training
part only, refits the winner there, and scores it on its test part, which no inner search,
preprocessing step or refit ever sees. The final model comes from a separate search on
all rows.

Interval: the outer scores come from overlapping training sets, so they are not
independent and the plain t-interval is too narrow (Bengio and Grandvalet, 2004). We use
the corrected resampled t-interval of Nadeau and Bengio (2003): the variance of the fold
scores is inflated by ``1/k + n_test/n_train`` instead of ``1/k``. It is a heuristic for
k-fold CV (derived for repeated random splits), and wider than the naive interval; with
few folds it is wide, which is the honest answer.
"""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone

from automl.evaluation import Metric, Split, int_seed, make_splits, resolve_metric, take_rows
from automl.exceptions import AutoMLWarning

# Reported on every outer fold besides the search metric.
REPORTED_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "balanced_accuracy"),
    "multiclass": ("log_loss", "accuracy", "balanced_accuracy"),
    "regression": ("rmse", "mae", "r2"),
}


@dataclass
class NestedResult:
    """Per outer fold scores and choices, and the summary users need to trust the estimate.

    Attributes
    ----------
    folds : DataFrame
        One row per outer fold: the score for each metric on the outer test part, the
        chosen algorithm and parameters, the inner best score, trials run, and seconds.
    metric : str
        The search metric; ``greater_is_better`` says its direction.
    budget : dict
        How the time budget was split: seconds per outer search and for the final search.
    splits : list of (train, test) index arrays
        The outer folds, as row positions of the data given to ``fit``.
    """

    folds: pd.DataFrame
    metric: str
    greater_is_better: bool
    n_train: float
    n_test: float
    budget: dict[str, Any] = field(default_factory=dict)
    splits: list[Split] = field(default_factory=list, repr=False)

    @property
    def scores(self) -> np.ndarray:
        return self.folds[self.metric].to_numpy(dtype=float)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores, ddof=1)) if len(self.scores) > 1 else float("nan")

    @property
    def ci(self) -> tuple[float, float]:
        """95% corrected resampled t-interval (Nadeau and Bengio) of the outer mean."""
        k = len(self.scores)
        if k < 2:
            return (float("nan"), float("nan"))
        variance = np.var(self.scores, ddof=1) * (1 / k + self.n_test / self.n_train)
        half = stats.t.ppf(0.975, df=k - 1) * np.sqrt(variance)
        return (self.mean - half, self.mean + half)

    @property
    def inner_mean(self) -> float:
        return float(self.folds["inner_best"].mean())

    @property
    def optimism(self) -> float:
        """How much better the inner best looked than the outer score (positive: optimistic)."""
        gap = self.inner_mean - self.mean
        return gap if self.greater_is_better else -gap

    @property
    def selection(self) -> dict[str, int]:
        """How many outer folds each algorithm won."""
        return {str(k): int(v) for k, v in self.folds["algorithm"].value_counts().items()}

    def summary(self) -> str:
        low, high = self.ci
        return (
            f"Nested CV ({len(self.folds)} outer folds), {self.metric}: outer estimate "
            f"{self.mean:.4f} ± {self.std:.4f} (95% CI {low:.4f} to {high:.4f}); inner best "
            f"{self.inner_mean:.4f}; optimism {self.optimism:+.4f}. Algorithms chosen: "
            + ", ".join(f"{a} {n}/{len(self.folds)}" for a, n in self.selection.items())
        )

    def to_dict(self) -> dict[str, Any]:
        low, high = self.ci
        return {
            "metric": self.metric,
            "mean": self.mean,
            "std": self.std,
            "ci95": [low, high],
            "ci_method": "corrected resampled t (Nadeau and Bengio 2003)",
            "inner_best_mean": self.inner_mean,
            "optimism": self.optimism,
            "selection": self.selection,
            "budget": self.budget,
            "folds": self.folds.to_dict(orient="records"),
        }


def split_budget(time_budget: float | None, n_outer: int, n_jobs: int) -> dict[str, Any]:
    """Share the budget equally between the outer searches and the final one.

    Outer searches running at once share a slot, so with ``n_jobs`` workers there are
    ``ceil(n_outer / n_jobs)`` slots of outer searches plus one final search (which gets
    whatever is left of the whole budget when it starts).
    """
    waves = -(-n_outer // max(1, n_jobs))
    per_search = None if time_budget is None else time_budget / (waves + 1)
    return {
        "total": time_budget,
        "outer_folds": n_outer,
        "parallel_jobs": n_jobs,
        "waves": waves,
        "per_outer_search": per_search,
        "final_search": per_search,
    }


def nested_cross_validation(
    estimator: Any,
    frame: pd.DataFrame,
    y: np.ndarray,
    profile: Any,
    groups: Any,
    metric: Metric,
    outer_seq: np.random.SeedSequence,
    budget: dict[str, Any],
    sample_weight: np.ndarray | None = None,
) -> NestedResult:
    """One independent search per outer fold; up to ``budget["parallel_jobs"]`` at once.

    Each fold's search is a clone of ``estimator`` without ``outer_cv`` and with
    ``n_jobs=1`` (one trial at a time, one worker process), its share of the budget, a
    seed spawned from ``outer_seq``, the column kinds of the whole data (so a fold cannot
    re-guess them differently), and its own study name in the storage. The searches run
    in threads of this process: the work is in their worker processes, so ``n_jobs``
    outer searches use ``n_jobs`` workers in all, and the outer results do not depend on
    ``n_jobs``.
    """
    splits = make_splits(
        estimator.outer_cv, profile.task, y, groups, random_state=int_seed(outer_seq)
    )
    kinds = profile.kinds
    stop = threading.Event()  # Ctrl-C in the main thread ends every outer search
    inner = []
    for fold, seq in enumerate(outer_seq.spawn(len(splits))):
        fold_estimator = clone(estimator).set_params(
            outer_cv=None,
            n_jobs=1,
            time_budget=budget["per_outer_search"],
            random_state=int_seed(seq),
            column_kinds=kinds,
            study_name=f"{estimator.study_name}-outer-{fold}",
        )
        if "task" in fold_estimator.get_params():
            fold_estimator.set_params(task=profile.task)
        fold_estimator._stop_event = stop
        inner.append(fold_estimator)
    jobs = [
        (est, frame, y, split, groups, i, profile.task, metric, sample_weight)
        for i, (est, split) in enumerate(zip(inner, splits))
    ]
    with warnings.catch_warnings():
        # Dropped or skipped columns and algorithms are reported once, by the final search.
        # Set here, once, because warning filters are process-wide and not thread-safe.
        warnings.simplefilter("ignore", AutoMLWarning)
        parallel = min(budget["parallel_jobs"], len(jobs))
        if parallel <= 1:
            rows = [run_outer_fold(*job) for job in jobs]
        else:
            with ThreadPoolExecutor(parallel, thread_name_prefix="automl-outer") as pool:
                futures = [pool.submit(run_outer_fold, *job) for job in jobs]
                try:
                    rows = [f.result() for f in futures]
                except BaseException:
                    stop.set()
                    raise
    return NestedResult(
        folds=pd.DataFrame(rows),
        metric=metric.name,
        greater_is_better=metric.greater_is_better,
        n_train=float(np.mean([len(tr) for tr, _ in splits])),
        n_test=float(np.mean([len(te) for _, te in splits])),
        budget=budget,
        splits=splits,
    )


def run_outer_fold(
    estimator: Any,
    frame: pd.DataFrame,
    y: np.ndarray,
    split: Split,
    groups: Any,
    fold: int,
    task: str,
    metric: Metric,
    sample_weight: np.ndarray | None = None,
) -> dict[str, Any]:
    """Search on the outer-training rows only, then score the refit winner on the test rows."""
    train, test = split
    started = time.monotonic()
    fold_groups = None if groups is None else np.asarray(groups)[train]
    w = sample_weight
    estimator.fit(
        take_rows(frame, train),
        y[train],
        groups=fold_groups,
        sample_weight=None if w is None else w[train],
    )
    elapsed = time.monotonic() - started
    X_test, y_test = take_rows(frame, test), y[test]
    row: dict[str, Any] = {"fold": fold, "n_train": len(train), "n_test": len(test)}
    names = dict.fromkeys((metric.name, *REPORTED_METRICS[task]))
    for name in names:
        m = metric if name == metric.name else resolve_metric(name, task)
        row[name] = m.score(
            estimator.best_pipeline_, X_test, y_test, None if w is None else w[test]
        )
    members = estimator.ensemble_
    row.update(
        {
            # what was scored on the outer fold: the ensemble, or the best trial
            "algorithm": estimator.best_algorithm_ if members is None else "ensemble",
            "params": {k: v for k, v in estimator.best_params_.items() if k != "algorithm"}
            if members is None
            else {
                f"trial {r.trial} ({r.algorithm})": round(r.weight, 4) for r in members.itertuples()
            },
            "inner_best": estimator.best_score_ if members is None else estimator.ensemble_score_,
            "trials": estimator.n_trials_,
            "seconds": elapsed,
        }
    )
    return row
