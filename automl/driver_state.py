"""Process-wide settings the driver needs while a search runs, safe across threads.

Inside ``fit``, Optuna's per-trial INFO logging is turned down (our own logging says what
matters) and the driver's own scikit-learn work (dummy scores, scoring outer folds, the
fallback model) runs on one thread: OpenMP learners spin-wait for threads, and on a busy
2-core machine a 0.2 s fit was measured at 40-70 s without this limit. Both are process
globals; nested CV runs several searches in threads, so the settings are taken by the
first search to start and given back by the last to end, never restored out of order.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import optuna
from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_users = 0
_saved: tuple[int, Any] | None = None


@contextlib.contextmanager
def driver_settings() -> Iterator[None]:
    global _users, _saved
    with _lock:
        if _users == 0:
            verbosity = optuna.logging.get_verbosity()
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            limits = threadpool_limits(limits=1)
            _saved = (verbosity, limits)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                verbosity, limits = _saved
                limits.restore_original_limits()
                optuna.logging.set_verbosity(verbosity)
                _saved = None
