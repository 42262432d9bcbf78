"""Where a search's trials run: in the driver, in local worker processes with limits, or on
the workers of a Dask cluster (with the same limits).

``make_executor`` turns the estimator's ``executor`` and ``scheduler`` parameters into an
:class:`Executor`; the interface is in :mod:`automl.execution.base`. The Dask executor
(:mod:`automl.execution.dask_executor`) is imported only when a scheduler is named, so
Dask stays an optional extra.
"""

from __future__ import annotations

from automl.exceptions import InvalidParameterError, did_you_mean
from automl.execution.base import Executor, Finished, TaskFailure
from automl.execution.inprocess import InProcessExecutor
from automl.execution.processes import ProcessExecutor, warm_up

EXECUTORS = ("processes", "inprocess")


def make_executor(
    name: str, n_workers: int, memory_limit: float | None, scheduler: str | None = None
) -> Executor:
    """``"processes"``: ``n_workers`` worker processes with hard limits (the default), or
    the workers of the Dask ``scheduler`` when one is given; ``"inprocess"``: the calling
    thread, one task at a time, no hard limits (debugging)."""
    if scheduler is not None:
        from automl.execution.dask_executor import DaskExecutor  # imports Dask: only here

        return DaskExecutor(scheduler, memory_limit)
    if name == "processes":
        return ProcessExecutor(n_workers, memory_limit)
    if name == "inprocess":
        return InProcessExecutor()
    raise InvalidParameterError(
        f"The 'executor' parameter must be one of {list(EXECUTORS)}; got {name!r}."
        f"{did_you_mean(str(name), EXECUTORS)}"
    )


__all__ = [
    "EXECUTORS",
    "Executor",
    "Finished",
    "InProcessExecutor",
    "ProcessExecutor",
    "TaskFailure",
    "make_executor",
    "warm_up",
]
