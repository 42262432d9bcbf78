"""The executor interface: where a search's tasks run.

The search driver owns the Optuna study and asks it for trials; an executor only runs
tasks and hands back what came of them. The seam is deliberately the shape of
``concurrent.futures`` / ``distributed.Client`` (submit, then wait for whatever finished)
so the same driver loop runs trials in the driver, in local worker processes, or on a
cluster:

- :meth:`Executor.start` shares the search's data with the workers, once per search;
- :meth:`Executor.submit` starts a task (``task.number`` identifies it);
- :meth:`Executor.wait` returns the tasks that finished, within a timeout, and is where
  an executor enforces its limits (a task past its ``time_limit`` or over the memory
  limit is killed and comes back as a :class:`TaskFailure`);
- :meth:`Executor.cancel` kills a running task (the search's budget ran out).

A task's failure is data, never an exception in the driver: the search records it and
goes on.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

# Why a task failed. "error": it raised; "timeout": it ran past its time limit; "memory":
# its worker went over the memory limit; "crashed": its worker died (a segfault, an
# abort, a kill from outside); "stopped": the driver cancelled it (the budget ran out);
# "worker lost": the cluster machine or process running it left the cluster (Dask).
FAILURE_REASONS = ("error", "timeout", "memory", "crashed", "stopped", "worker lost")


class Task(Protocol):
    """What an executor runs: a number, a hard time limit, and ``run(context)``."""

    @property
    def number(self) -> int: ...

    @property
    def time_limit(self) -> float: ...

    def run(self, context: Any) -> Any: ...


@dataclass(frozen=True)
class TaskFailure:
    """A task that did not return: why (one of ``FAILURE_REASONS``) and a readable message."""

    reason: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class Finished:
    """A task that ended: its return value or a :class:`TaskFailure`, its wall time, and
    where it ran (``host:pid`` of a worker process, or a Dask worker's address)."""

    task: Any
    result: Any
    seconds: float
    worker: str = ""

    @property
    def failure(self) -> TaskFailure | None:
        return self.result if isinstance(self.result, TaskFailure) else None


class Executor(ABC):
    """Runs the tasks of one search; use as a context manager so workers are cleaned up."""

    #: True when the executor enforces time and memory limits by killing a task.
    hard_limits: bool = False

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many tasks may run at once."""

    @abstractmethod
    def start(self, context: Any) -> None:
        """Share the search's context (data, folds, candidates) with the workers."""

    @abstractmethod
    def submit(self, task: Task) -> None:
        """Start ``task``; its :class:`Finished` comes back from :meth:`wait`."""

    @abstractmethod
    def wait(self, timeout: float) -> list[Finished]:
        """Tasks that finished, waiting at most ``timeout`` seconds for the first one."""

    @abstractmethod
    def cancel(self, number: int, message: str) -> None:
        """Kill a running task; it comes back from :meth:`wait` as failed, "stopped"."""

    @abstractmethod
    def running(self) -> list[Any]:
        """The tasks submitted and not yet returned by :meth:`wait`."""

    def close(self) -> None:  # noqa: B027 (not abstract: an executor may have nothing to free)
        """Stop every worker and free what :meth:`start` shared."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe_exit(exitcode: int | None) -> str:
    """ "signal 11 (SIGSEGV)" or "exit code 3", for a worker that died."""
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
        return f"signal {-exitcode} ({name})"
    return f"exit code {exitcode}"
