"""``executor="inprocess"``: every task runs in the calling thread, one at a time.

For debugging (a breakpoint in a learner's ``fit`` stops there, tracebacks are local) and
for code that cannot be sent to another process. There are no hard limits here: a task
cannot be killed without killing the caller, so ``trial_time_limit`` and
``memory_limit`` are not enforced, and a learner that hangs or crashes takes the search
with it. A task still stops between folds when its budget runs out.
"""

from __future__ import annotations

import time
import traceback
from collections import deque
from typing import Any

from threadpoolctl import threadpool_limits

from automl.execution.base import Executor, Finished, TaskFailure


class InProcessExecutor(Executor):
    """Runs each task in the caller when :meth:`wait` is called."""

    hard_limits = False

    def __init__(self) -> None:
        self._context: Any = None
        self._queue: deque[Any] = deque()
        self._cancelled: list[Finished] = []

    @property
    def capacity(self) -> int:
        return 1

    def start(self, context: Any) -> None:
        self._context = context

    def submit(self, task: Any) -> None:
        self._queue.append(task)

    def wait(self, timeout: float) -> list[Finished]:
        if self._cancelled:
            done, self._cancelled = self._cancelled, []
            return done
        if not self._queue:
            time.sleep(min(max(timeout, 0.0), 0.05))
            return []
        task = self._queue.popleft()
        started = time.monotonic()
        try:
            with threadpool_limits(limits=1):
                result: Any = task.run(self._context)
        except Exception as exc:  # a failed task is data; KeyboardInterrupt goes through
            result = TaskFailure(
                "error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)
            )
        return [Finished(task, result, time.monotonic() - started)]

    def cancel(self, number: int, message: str) -> None:
        """Nothing runs between calls to :meth:`wait`: a queued task is dropped unrun."""
        for task in list(self._queue):
            if task.number == number:
                self._queue.remove(task)
                self._cancelled.append(Finished(task, TaskFailure("stopped", message), 0.0))

    def running(self) -> list[Any]:
        return list(self._queue)
