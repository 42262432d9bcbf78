"""The search's clock: its deadline, and how long trials and the final refit are expected to take.

The deadline is for the search *and* the refit of its best configuration: time left for
trials is the deadline less the expected refit (the best trial's mean fold fit time,
scaled from fold size to all rows, with a margin), and, when an ensemble may follow, less
the expected refits of the next best trials too. No trial starts whose expected
duration (the median of its algorithm's earlier trials; before it ran, the others' scaled
by relative cost) exceeds the time left.
"""

from __future__ import annotations

import time

import numpy as np

# The refit's expected time is scaled by this, plus a constant for dispatch and pickling:
# fit times vary by a few tens of percent from run to run.
REFIT_SAFETY = 1.3
REFIT_OVERHEAD = 0.1


class BudgetClock:
    """Deadline bookkeeping for one search (``deadline`` on ``time.monotonic()``, or None)."""

    def __init__(
        self,
        deadline: float | None,
        costs: dict[str, float],
        n_folds: int,
        fold_train_rows: float,
        n_rows: int,
    ) -> None:
        self.deadline = deadline
        self.costs = costs
        self.n_folds = n_folds
        self.rows_scale = n_rows / max(fold_train_rows, 1.0)
        self.durations: dict[str, list[float]] = {}
        self.killed_after: dict[str, float] = {}
        self.best_fit_time = 0.0  # summed over the folds of the best trial
        # the same for the next best trials, when an ensemble may refit them as well
        self.member_fit_times: list[float] = []
        self.selection_seconds = 0.0  # kept for ensemble selection, when there may be one

    def record(self, algorithm: str, seconds: float) -> None:
        """A complete trial's duration."""
        self.durations.setdefault(algorithm, []).append(seconds)

    def record_kill(self, algorithm: str, seconds: float) -> None:
        """A trial killed after ``seconds`` (time limit): a lower bound for this algorithm only."""
        self.killed_after[algorithm] = max(seconds, self.killed_after.get(algorithm, 0.0))

    def expected_duration(self, algorithm: str) -> float | None:
        """Median duration of this algorithm's trials (or how long it ran before it was
        killed); before it has run, the others' scaled by relative cost."""
        if self.durations.get(algorithm):
            return float(np.median(self.durations[algorithm]))
        if algorithm in self.killed_after:
            return self.killed_after[algorithm]
        per_cost = [
            d / self.costs[a] for a, ds in self.durations.items() if a in self.costs for d in ds
        ]
        if not per_cost or algorithm not in self.costs:
            return None
        return float(np.median(per_cost)) * self.costs[algorithm]

    def refit_estimate(self, fit_time: float, margin: bool = True) -> float:
        """Seconds to refit on all rows a trial whose folds took ``fit_time`` to fit."""
        if fit_time <= 0:
            return 0.0
        plain = fit_time / self.n_folds * self.rows_scale
        return plain * REFIT_SAFETY + REFIT_OVERHEAD if margin else plain

    def expected_refit(self, margin: bool = True) -> float:
        """Seconds to refit the best configuration on all rows; with a margin, what the
        search keeps free for it (the refit itself goes ahead when the plain estimate fits)."""
        return self.refit_estimate(self.best_fit_time, margin)

    def expected_member_refits(self) -> float:
        """Seconds kept for an ensemble: selecting it, and refitting its likely members
        other than the best (with the margin)."""
        if not self.member_fit_times:
            return 0.0
        refits = sum(self.refit_estimate(t) for t in self.member_fit_times)
        return refits + self.selection_seconds

    def time_left(self) -> float | None:
        """Seconds left for trials (None: no deadline)."""
        if self.deadline is None:
            return None
        return (
            self.deadline - time.monotonic() - self.expected_refit() - self.expected_member_refits()
        )

    def out_of_time(self, algorithms: list[str]) -> bool:
        """No time left, or every algorithm is expected to take longer than what is left."""
        left = self.time_left()
        if left is None:
            return False
        if left <= 0:
            return True
        expected = [self.expected_duration(a) for a in algorithms]
        known = [e for e in expected if e is not None]
        return bool(algorithms) and len(known) == len(algorithms) and min(known) > left
