"""What a running search tells whoever watches: counts of trials by state, and the best so far.

The driver publishes a :class:`SearchProgress` after every finished trial and about once a
second while trials run: to the ``callbacks`` of the estimator, and as a DEBUG record on
the ``automl.progress`` logger (``record.automl_progress``), which the command line
renders as its live line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

progress_logger = logging.getLogger("automl.progress")


@dataclass(frozen=True)
class SearchProgress:
    """A snapshot of a running search.

    Attributes
    ----------
    elapsed : float
        Seconds since the search started (a resumed search counts its earlier runs).
    budget : float or None
        The search's time budget in seconds.
    running : int
        Trials running now.
    done : int
        Trials finished, whatever their state (the sum of the four counts below).
    complete, pruned, failed, timed_out : int
        Finished trials by outcome; ``failed`` counts errors, crashes and memory kills,
        ``timed_out`` the trials killed at the trial time limit.
    n_trials : int or None
        The trial limit, if any.
    best : float or None
        Best score so far, in the metric's natural sign.
    best_algorithm : str or None
    metric : str
    """

    elapsed: float
    budget: float | None
    running: int
    done: int
    complete: int
    pruned: int
    failed: int
    timed_out: int
    n_trials: int | None
    best: float | None
    best_algorithm: str | None
    metric: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def publish(progress: SearchProgress, callbacks: Sequence[Callable[[SearchProgress], Any]]) -> None:
    """Send ``progress`` to the logger and to each callback (a failing callback is logged)."""
    if progress_logger.isEnabledFor(logging.DEBUG):
        progress_logger.debug("progress", extra={"automl_progress": progress})
    for callback in callbacks:
        try:
            callback(progress)
        except Exception:  # a broken progress bar must not end a search
            logging.getLogger("automl.search").exception("A progress callback raised")
