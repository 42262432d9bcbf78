"""The out-of-fold predictions of the search's best trials, kept for ensemble selection.

At most ``max_trials`` trials and ``max_bytes`` of predictions are kept: the best by score,
the worst evicted when a better one arrives. The driver sends each trial the pool's entry
bar (:meth:`OOFPool.bar`), so a trial that can get in neither here nor as its algorithm's
best (whose predictions the report reads) does not predict its folds again or ship its
predictions back. Only this session's trials are kept (a resumed run's earlier trials
have no predictions).
"""

from __future__ import annotations

import numpy as np

from automl.ensemble import PoolEntry
from automl.evaluation import Metric


class OOFPool:
    def __init__(self, metric: Metric, max_trials: int, max_bytes: int) -> None:
        self.metric = metric
        self.max_trials = max_trials
        self.max_bytes = max_bytes
        self._entries: list[PoolEntry] = []

    @property
    def enabled(self) -> bool:
        return self.max_trials > 0

    def capacity(self) -> int:
        """Trials that fit, by count and by the memory of one entry."""
        if not self._entries:
            return self.max_trials
        per_entry = max(self._entries[0].oof.nbytes, 1)
        return max(1, min(self.max_trials, self.max_bytes // per_entry))

    def bar(self) -> float | None:
        """The score a trial must beat to get in (None: any complete trial gets in)."""
        if not self.enabled or len(self._entries) < self.capacity():
            return None
        return self._entries[-1].score

    def add(
        self,
        trial: int,
        algorithm: str,
        score: float,
        oof: np.ndarray | None,
        refit_seconds: float = 0.0,
    ) -> None:
        if not self.enabled or oof is None:
            return
        self._entries.append(PoolEntry(trial, algorithm, score, oof, refit_seconds))
        sign = -1.0 if self.metric.greater_is_better else 1.0
        self._entries.sort(key=lambda c: (sign * c.score, c.trial))
        del self._entries[self.capacity() :]

    def candidates(self) -> list[PoolEntry]:
        """The kept trials, best first."""
        return list(self._entries)
