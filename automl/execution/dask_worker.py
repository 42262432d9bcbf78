"""What a Dask worker runs for a search: each trial in a child process it can kill.

A running Dask task cannot be cancelled or interrupted, so the task does not fit the
learner itself. It hands the trial to a :class:`~automl.execution.processes.ProcessExecutor`
owned by the Dask worker process (one per process, with as many child workers as the Dask
worker has threads) and waits for it. That executor enforces the trial's time limit and
the memory limit exactly as on a local machine: a trial past either is killed with its
child process, recorded as ``timeout`` or ``memory``, and the Dask task returns at once,
so its thread (the slot) comes back. Children are plain subprocesses
(:mod:`automl.execution.child`) because Dask worker processes are daemonic, and they stay
up between trials and searches.

Functions here run on the workers; the driver's side is :mod:`automl.execution.dask_executor`.
Nothing here imports Dask, so a child process that imports this module stays light.
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass
from typing import Any

from automl.execution.base import Finished
from automl.execution.processes import POLL_INTERVAL, ProcessExecutor

_lock = threading.Lock()
_executor: ProcessExecutor | None = None
_results: dict[int, list[Finished]] = {}
_host_numbers: dict[tuple[str, int], int] = {}
_next_number = itertools.count()


@dataclass(frozen=True)
class _HostTask:
    """A search's task under a number unique on this host (several searches may share it)."""

    number: int
    time_limit: float
    task: Any

    def run(self, context: Any) -> Any:
        return self.task.run(context)


def run_task(context: Any, task: Any, memory_limit: float | None) -> tuple[Any, str]:
    """Run ``task`` in a child process of this worker: (result or failure, where it ran)."""
    from distributed import get_worker

    worker = get_worker()
    number = next(_next_number)
    with _lock:
        executor = _host_executor(worker.state.nthreads)
        if memory_limit is not None:
            executor.memory_limit = float(memory_limit)
        executor.start(context)  # writes the context to a file once per search
        _results[number] = []
        _host_numbers[(context.key, task.number)] = number
        executor.submit(_HostTask(number, task.time_limit, task))
    try:
        # Whichever task thread holds the lock collects for all of them.
        while True:
            with _lock:
                for finished in executor.wait(POLL_INTERVAL):
                    _results.setdefault(finished.task.number, []).append(finished)
                if _results[number]:
                    finished = _results.pop(number)[0]
                    break
    finally:
        with _lock:
            _host_numbers.pop((context.key, task.number), None)
            _results.pop(number, None)
    return finished.result, worker.address


def cancel_task(context_key: str, number: int, message: str) -> bool:
    """Kill the child running a search's task (the driver's budget ran out); False if none."""
    with _lock:
        host_number = _host_numbers.get((context_key, number))
        if host_number is None or _executor is None:
            return False
        _executor.cancel(host_number, message)
        return True


def forget_search(context_key: str) -> None:
    """The search ended: delete its context file on this worker."""
    with _lock:
        if _executor is not None:
            _executor.forget(context_key)


def worker_facts() -> dict[str, str]:
    """What the driver checks before it sends trials: automl's version and the OS family."""
    from automl.version import __version__

    return {"automl": __version__, "os": os.name}


def _host_executor(n_threads: int) -> ProcessExecutor:
    global _executor
    if _executor is None:
        _executor = ProcessExecutor(n_threads, launcher="subprocess")
    return _executor
