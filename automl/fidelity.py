"""Successive halving on rows: a trial on large data first fits on a sample of the rows.

With k folds, a poor trial is pruned after a fold (:class:`automl.search.study.MedianRule`).
Large data is scored on a single holdout (``cv="auto"`` above 10,000 rows), so there is no
fold to prune after, and a trial there costs seconds: a 60 s search saw a dozen or two. Here
a trial first fits on a ninth, then a third, of its training rows ("rungs"), each scored on
the whole holdout; after each, it goes on only when its score is at least the median of the
scores earlier trials had at that rung (Optuna's MedianPruner rule, with rows for steps, as
in Hyperband and ASHA, Li et al. 2018/2020). A configuration that does badly on 5,000 rows
rarely does well on 45,000, and it is stopped for the price of a small fit; one that goes
on pays about 45% more than its full fit alone.

On the three large dev sets it tied with no pruning on every split, at 60 s and 10 s, with
more trials on the largest (BENCHMARKS.md, "A fidelity for large data").

Every trial fits its rungs on the same rows (a fixed sample, stratified for classification),
so rung scores compare across trials. The rung scores of pruned trials count towards the
medians too (as in ASHA, every trial that reached a rung is ranked there), so the bar is the
median of all configurations tried at that size, not only of those that went on.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

# Rungs: the training rows divided by ETA, again and again, while the rung keeps at least
# MIN_RUNG_ROWS (fewer rows rank configurations too differently from the full data).
ETA = 3
MIN_RUNG_ROWS = 2_500
# No rung prunes before this many trials have a score there.
RUNG_STARTUP_TRIALS = 5
SAMPLE_SEED = 0


def rung_rows(n_train: int) -> tuple[int, ...]:
    """The training rows of each rung below the full fit, smallest first (may be empty)."""
    rows: list[int] = []
    size = n_train // ETA
    while size >= MIN_RUNG_ROWS:
        rows.insert(0, size)
        size //= ETA
    return tuple(rows)


def rung_sample(train: np.ndarray, rows: int, y: np.ndarray, stratify: bool) -> np.ndarray:
    """``rows`` of the training indices ``train``: the same for every trial (fixed seed),
    with every class in proportion for classification."""
    labels = y[train] if stratify else None
    if labels is not None and np.unique(labels, return_counts=True)[1].min() < 2:
        labels = None  # a class with one row cannot be stratified; the sample stays random
    sample, _ = train_test_split(train, train_size=rows, stratify=labels, random_state=SAMPLE_SEED)
    return np.sort(sample)


class RowRungs:
    """The rungs of a search and their medians, kept in the driver and sent with each task.

    Rungs need a single split (with folds, the fold rule prunes) and ``enabled`` (the
    ``prune`` setting); ``n_train`` is that split's training rows.
    """

    def __init__(self, n_train: int, n_splits: int, enabled: bool) -> None:
        self.rows = rung_rows(n_train) if enabled and n_splits == 1 else ()
        self._scores: dict[int, list[float]] = {}

    def add(self, scores: list[float]) -> None:
        """Record a trial's score at each rung it reached (pruned trials too)."""
        for rung, value in enumerate(scores):
            self._scores.setdefault(rung, []).append(value)

    def thresholds(self) -> dict[int, float]:
        """``{rung: median}`` for the rungs that have enough scores to prune."""
        return {
            rung: float(np.median(values))
            for rung, values in self._scores.items()
            if len(values) >= RUNG_STARTUP_TRIALS
        }
