"""Ctrl-C during a search lands where it cannot break the study's storage.

Python raises ``KeyboardInterrupt`` at whatever line the main thread is on. Inside a
storage write (Optuna's SQLAlchemy session), that can leave the SQLite file locked, and the
writes that record the interruption then fail with "database is locked". The driver spends
its time waiting for workers, where an interrupt is harmless; elsewhere it writes. So: while
waiting, Ctrl-C raises at once, as usual; while writing, it is noted and raised at the next
safe point. A second Ctrl-C raises at once wherever it lands, for a user who insists.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType


class InterruptGuard:
    """Defers SIGINT in the main thread while it is active (a no-op in other threads, which
    never receive it, and when someone else already handles SIGINT).

    Use as ``with InterruptGuard() as guard:``; call :meth:`check` at safe points and wrap
    the waits in :meth:`immediate`.
    """

    def __init__(self) -> None:
        self.requested = False
        self._waiting = False
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._installed = False

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self._waiting or self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed since the last safe point."""
        if self.requested:
            raise KeyboardInterrupt

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """A stretch with no storage writes: Ctrl-C raises at once here."""
        self.check()
        self._waiting = True
        try:
            yield
        finally:
            self._waiting = False
