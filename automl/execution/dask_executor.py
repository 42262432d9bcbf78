"""``scheduler="tcp://host:8786"``: the search's trials run on a Dask cluster.

The driver keeps the Optuna study (ask and tell, the sampler, the storage); the cluster
only runs tasks. What we took from Dask and what we wrote:

- Dask distributed runs the tasks: a ``distributed.Client`` connects to the scheduler,
  the search's data is scattered to the workers once (``Client.scatter``, broadcast), and
  each trial is one future whose only dependencies are that data and a configuration of a
  few hundred bytes. The study is not on the cluster: ``optuna.integration.DaskStorage``
  would keep it in the scheduler's memory (lost with the scheduler, and no resume) and
  ``optuna-distributed`` replaces the driver loop with its own (our budget, pruning,
  ordered telling and failure records would be lost), so neither is used; a shared study
  is Optuna's RDB storage (PostgreSQL), as for several drivers on one machine.
- Each future is pinned to a worker the driver picked (``workers=[address]``), so the
  driver knows which trials a worker held when it leaves the cluster (they fail as
  ``worker lost``; Dask would otherwise run them again elsewhere, silently) and spreads
  the trials over the workers' threads. Trials at once = the threads of the workers, read
  again every half second as workers come and go.
- On the worker, a trial runs in a child process it can kill
  (:mod:`automl.execution.dask_worker`), so the time and memory limits hold there too.
- A scheduler that cannot be reached is a :class:`~automl.exceptions.ClusterError` when
  the search starts; one that goes away mid-search fails the running trials as
  ``worker lost`` and leaves no capacity, so the search ends with the best model so far.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

from automl.exceptions import ClusterError, InvalidParameterError, MissingDependencyError
from automl.execution.base import Executor, Finished, TaskFailure

logger = logging.getLogger("automl")

# Seconds to reach the scheduler, and to wait for its first worker.
CONNECT_TIMEOUT = 10.0
WORKER_TIMEOUT = 30.0
# How often the driver reads the cluster's workers (seconds).
REFRESH_INTERVAL = 0.5
# A task still running this long past its time limit is given up by the driver: its worker
# enforces the limit, so only a worker that stopped answering gets here.
UNRESPONSIVE_GRACE = 30.0

INSTALL_LINE = "pip install 'automl[dask]'"


def require_distributed() -> Any:
    """The ``distributed`` module, or a clear error naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            f"scheduler= runs the trials on a Dask cluster, which needs Dask distributed: "
            f"{INSTALL_LINE}"
        ) from None
    return distributed


@dataclass
class _Running:
    task: Any
    worker: str
    future: Any
    started: float = field(default_factory=time.monotonic)


class DaskExecutor(Executor):
    """Runs tasks on the workers of the Dask scheduler at ``address``.

    Parameters
    ----------
    address : str
        The scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``.
    memory_limit : float or None
        MB of resident memory per trial's process on the workers; None: 75% of each
        worker machine's memory shared by its threads.
    """

    hard_limits = True

    def __init__(self, address: str, memory_limit: float | None = None) -> None:
        distributed = require_distributed()
        self.address = address
        self.memory_limit = memory_limit
        self._distributed = distributed
        try:
            self._client = distributed.Client(
                address, timeout=CONNECT_TIMEOUT, set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"Could not reach the Dask scheduler at {address!r} within "
                f"{CONNECT_TIMEOUT:.0f} s ({exc}). Check the address (tcp://HOST:8786) and "
                "that `dask scheduler` is running there."
            ) from None
        except ValueError as exc:
            raise InvalidParameterError(
                f"The 'scheduler' parameter must be a Dask scheduler address such as "
                f"'tcp://HOST:8786'; got {address!r} ({exc})."
            ) from None
        self._workers: dict[str, int] = {}
        self._lost = ""
        self._pending: list[Any] = []
        self._busy: dict[int, _Running] = {}
        self._done: list[Finished] = []
        self._context: Any = None
        self._context_key = ""
        self._refreshed = 0.0
        try:
            self._wait_for_workers()
            self._check_workers_have_automl()
        except BaseException:
            self._client.close()
            raise

    @property
    def capacity(self) -> int:
        return 0 if self._lost else sum(self._workers.values())

    # -- the interface -----------------------------------------------------------------
    def start(self, context: Any) -> None:
        self._context_key = context.key
        self._context = self._client.scatter(context, broadcast=True, hash=False)

    def submit(self, task: Any) -> None:
        if self._lost:  # e.g. the final refit after the scheduler went away
            self._done.append(Finished(task, TaskFailure("worker lost", self._lost), 0.0))
            return
        self._pending.append((task, time.monotonic()))
        self._dispatch()

    def wait(self, timeout: float) -> list[Finished]:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            cancelled = any(r.future.status == "cancelled" for r in self._busy.values())
            if cancelled or time.monotonic() - self._refreshed >= REFRESH_INTERVAL:
                self._refresh()  # a future we did not cancel: has the scheduler gone?
            self._dispatch()
            finished = self._collect() + self._give_up_stale()
            finished, self._done = self._done + finished, []
            left = deadline - time.monotonic()
            if finished or left <= 0:
                return finished
            futures = [r.future for r in self._busy.values()]
            pause = min(left, REFRESH_INTERVAL)
            if futures:
                try:
                    with self._client.as_current():  # wait() looks for "the" client
                        self._distributed.wait(
                            futures, timeout=pause, return_when="FIRST_COMPLETED"
                        )
                except (TimeoutError, CancelledError):
                    pass  # cancelled: the scheduler went away, found by the next refresh
            else:
                time.sleep(pause)

    def cancel(self, number: int, message: str) -> None:
        for task, since in list(self._pending):
            if task.number == number:
                self._pending.remove((task, since))
                self._done.append(Finished(task, TaskFailure("stopped", message), 0.0))
        running = self._busy.pop(number, None)
        if running is None:
            return
        self._stop(running, message)
        self._done.append(
            Finished(
                running.task,
                TaskFailure("stopped", message),
                time.monotonic() - running.started,
                running.worker,
            )
        )

    def running(self) -> list[Any]:
        return [*(t for t, _ in self._pending), *(r.task for r in self._busy.values())]

    def close(self) -> None:
        for running in list(self._busy.values()):
            self._stop(running, "the search ended")
        self._busy.clear()
        self._pending.clear()
        if not self._lost and self._context_key:
            from automl.execution.dask_worker import forget_search

            try:
                self._client.run(forget_search, self._context_key, on_error="return")
            except Exception as exc:  # the cluster is going: nothing left to clean
                logger.debug("Could not clean the workers up: %s", exc)
        self._context = None
        self._client.close()

    # -- the cluster -------------------------------------------------------------------
    def _wait_for_workers(self) -> None:
        try:
            self._client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except TimeoutError:
            raise ClusterError(
                f"The Dask scheduler at {self.address!r} has no workers (waited "
                f"{WORKER_TIMEOUT:.0f} s). Start some with: dask worker {self.address} "
                "--nthreads 1"
            ) from None
        self._refresh()

    def _check_workers_have_automl(self) -> None:
        """Every worker must import the same automl (a trial's code runs there) on a POSIX
        system (its trial processes get their socket by file-descriptor passing)."""
        from automl.execution.dask_worker import worker_facts
        from automl.version import __version__

        try:
            facts = self._client.run(worker_facts)
        except Exception as exc:
            raise ClusterError(
                f"The Dask workers of {self.address!r} cannot run automl's trials ({exc}). "
                f"Install automl {__version__} on every worker: {INSTALL_LINE}"
            ) from None
        wrong = {w: f["automl"] for w, f in facts.items() if f["automl"] != __version__}
        if wrong:
            raise ClusterError(
                f"Dask workers run another version of automl than this driver "
                f"({__version__}): {wrong}. Install the same version on every worker."
            )
        windows = sorted(w for w, f in facts.items() if f["os"] != "posix")
        if windows:
            raise ClusterError(
                f"Dask workers {windows} are not on Linux or macOS: automl runs each trial "
                "in a child process it can kill, which needs POSIX there. Run the workers "
                "on Linux or macOS, or search on this machine without a scheduler."
            )

    def _refresh(self) -> None:
        """Read the cluster's workers; fail the trials of workers that left."""
        self._refreshed = time.monotonic()
        if self._lost:
            return
        if self._client.status != "running":
            self._lose(f"the connection to the Dask scheduler at {self.address} was lost")
            return
        try:
            workers = dict(self._client.nthreads())
        except (OSError, TimeoutError, AttributeError) as exc:
            self._lose(f"the connection to the Dask scheduler at {self.address} was lost ({exc})")
            return
        for number, running in list(self._busy.items()):
            if running.worker not in workers:
                del self._busy[number]
                self._forget_future(running)
                self._done.append(
                    Finished(
                        running.task,
                        TaskFailure(
                            "worker lost",
                            f"the Dask worker {running.worker} left the cluster "
                            "while the trial ran",
                        ),
                        time.monotonic() - running.started,
                        running.worker,
                    )
                )
        if not workers and self._workers:
            logger.warning(
                "The Dask cluster at %s has no workers left; trials wait for one "
                "up to their time limit, and with none running the search ends "
                "with the best model so far.",
                self.address,
            )
        self._workers = workers

    def _lose(self, why: str) -> None:
        """The scheduler is gone: every task fails, and nothing more can run here."""
        self._lost = why
        logger.warning("%s; the search ends with the best model so far.", why[0].upper() + why[1:])
        for running in self._busy.values():
            self._done.append(
                Finished(
                    running.task,
                    TaskFailure("worker lost", why),
                    time.monotonic() - running.started,
                    running.worker,
                )
            )
        for task, _ in self._pending:
            self._done.append(Finished(task, TaskFailure("worker lost", why), 0.0))
        self._busy.clear()
        self._pending.clear()

    def _dispatch(self) -> None:
        """Pin pending tasks to the workers with the most free threads."""
        from automl.execution.dask_worker import run_task

        now = time.monotonic()
        for task, since in list(self._pending):
            if now - since > task.time_limit:  # no worker freed up in time (e.g. none left)
                self._pending.remove((task, since))
                self._done.append(
                    Finished(
                        task,
                        TaskFailure(
                            "worker lost",
                            f"no Dask worker was free to run it within its time "
                            f"limit of {task.time_limit:.3g} s",
                        ),
                        now - since,
                    )
                )
        while self._pending and not self._lost:
            free = {
                w: n - sum(r.worker == w for r in self._busy.values())
                for w, n in self._workers.items()
            }
            worker, slots = max(free.items(), key=lambda item: item[1], default=("", 0))
            if slots <= 0:
                return
            task, _ = self._pending.pop(0)
            future = self._client.submit(
                run_task,
                self._context,
                task,
                self.memory_limit,
                key=f"automl-trial-{task.number}-{uuid.uuid4().hex[:12]}",
                workers=[worker],
                allow_other_workers=False,
                pure=False,
            )
            self._busy[task.number] = _Running(task, worker, future)

    def _collect(self) -> list[Finished]:
        finished = []
        for number, running in list(self._busy.items()):
            future = running.future
            if not future.done():
                continue
            del self._busy[number]
            seconds = time.monotonic() - running.started
            if future.status == "finished":
                result, where = future.result()
                finished.append(Finished(running.task, result, seconds, where))
                continue
            if future.status == "cancelled":  # not by us: the scheduler dropped it
                failure = TaskFailure("worker lost", "the Dask scheduler cancelled the task")
            else:
                error = future.exception()
                reason = "worker lost" if type(error).__name__ == "KilledWorker" else "error"
                failure = TaskFailure(reason, f"{type(error).__name__}: {error}")
            finished.append(Finished(running.task, failure, seconds, running.worker))
        return finished

    def _give_up_stale(self) -> list[Finished]:
        finished = []
        now = time.monotonic()
        for number, running in list(self._busy.items()):
            limit = running.task.time_limit
            if now - running.started > limit + UNRESPONSIVE_GRACE:
                del self._busy[number]
                message = (
                    f"ran longer than its time limit of {limit:.3g} s and its Dask "
                    f"worker {running.worker} did not stop it"
                )
                self._stop(running, message)
                finished.append(
                    Finished(
                        running.task,
                        TaskFailure("timeout", message),
                        now - running.started,
                        running.worker,
                    )
                )
        return finished

    def _stop(self, running: _Running, message: str) -> None:
        """Kill the task's child process on its worker, and drop the future."""
        from automl.execution.dask_worker import cancel_task

        if not self._lost and self._client.status == "running":
            try:
                self._client.run(
                    cancel_task,
                    self._context_key,
                    running.task.number,
                    message,
                    workers=[running.worker],
                    on_error="return",
                )
            except Exception as exc:  # the worker may be gone already
                logger.debug(
                    "Could not stop trial %d on %s: %s", running.task.number, running.worker, exc
                )
        self._forget_future(running)

    def _forget_future(self, running: _Running) -> None:
        try:
            running.future.cancel()
        except Exception as exc:  # the client is closing
            logger.debug("Could not cancel a Dask future: %s", exc)
