"""``executor="processes"`` (the default): tasks run in local worker processes the driver can kill.

Why our own small pool: ``concurrent.futures.ProcessPoolExecutor`` and loky's reusable
executor cannot kill one running task without breaking (or restarting) the whole pool, and
a per-trial time or memory limit means exactly that. Here each worker is one
``multiprocessing`` process with a pipe; a task past its time limit, or a worker over the
memory limit, is killed with its child processes and a fresh worker takes its place.

- Workers are started from a fork server that has imported scikit-learn and the builder
  once (``spawn`` where there is no fork server, e.g. Windows): a new worker is ready in
  tens of milliseconds, and never inherits the driver's threads or OpenMP state. The first
  search of a session waits for the fork server itself (about 2 s of imports); workers are
  started in a background thread, so the driver keeps its clock meanwhile.
- The search's context (data, folds, candidates) is written once per search to a temporary
  file with joblib; each worker loads it once, numeric arrays memory-mapped (the workers
  share those pages). A task then costs the pickling of a few hundred bytes each way.
- Workers never re-run the user's main script (see :mod:`automl.execution.worker`), so a
  script that starts a search needs no ``if __name__ == "__main__":`` guard.
- Where multiprocessing may not start children (a Dask worker is a daemonic process),
  ``launcher="subprocess"`` starts workers as plain subprocesses instead
  (:mod:`automl.execution.child`); such a worker takes tasks only once it says it is
  ready (its imports done), so its start-up never counts against a task's time limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import Any

import joblib

from automl.execution.base import Executor, Finished, TaskFailure, describe_exit
from automl.execution.limits import default_memory_limit, kill_tree, resident_mb

# How often the driver looks at running tasks' clocks and memory (seconds): the precision
# of the limits. psutil's reading of a worker and its children costs about a millisecond.
POLL_INTERVAL = 0.05
WORKER_MODULE = "automl.execution.worker"
# How long a new worker may take to import its libraries before it counts as failed.
START_TIMEOUT = 120.0


@dataclass
class _Worker:
    process: Any
    connection: Connection


@dataclass
class _Running:
    worker: _Worker
    task: Any
    started: float


@dataclass
class _Pending:
    task: Any
    context_key: str
    context_path: str


class ProcessExecutor(Executor):
    """Up to ``n_workers`` tasks at once, each in a worker process with hard limits.

    Parameters
    ----------
    n_workers : int
        Worker processes (and tasks running at once).
    memory_limit : float or None
        MB of resident memory per worker, its child processes included; None: 75% of the
        machine's memory shared by the workers.
    launcher : {"multiprocessing", "subprocess"}, default="multiprocessing"
        How workers are started: from the fork server (or spawn), or as plain
        subprocesses (:mod:`automl.execution.child`) where this process may not start
        multiprocessing children, e.g. inside a Dask worker.
    """

    hard_limits = True

    def __init__(
        self,
        n_workers: int = 1,
        memory_limit: float | None = None,
        launcher: str = "multiprocessing",
    ) -> None:
        self.n_workers = max(1, int(n_workers))
        self.memory_limit = (
            default_memory_limit(self.n_workers) if memory_limit is None else float(memory_limit)
        )
        self.launcher = launcher
        self._mp = _context() if launcher == "multiprocessing" else None
        self._idle: list[_Worker] = []
        self._started: list[_Worker] = []  # filled by starter threads
        self._start_errors: list[str] = []
        self._starting = 0
        self._closed = False
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._busy: dict[int, _Running] = {}
        self._done: list[Finished] = []
        self._context_key = ""
        self._context_path = ""
        self._folder: str | None = None
        self._host = socket.gethostname()

    @property
    def capacity(self) -> int:
        return self.n_workers

    # -- the interface -----------------------------------------------------------------
    def start(self, context: Any) -> None:
        """Write the context for the workers (once per key); later tasks run on it."""
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="automl-search-")
        path = os.path.join(self._folder, f"{context.key}.joblib")
        if not os.path.exists(path):
            joblib.dump(context, path)
        self._context_key, self._context_path = context.key, path
        self._dispatch()  # starts the workers while the driver prepares the first trials

    def forget(self, key: str) -> None:
        """Delete a context's file (workers that loaded it keep it until their next search)."""
        if self._folder is not None:
            path = os.path.join(self._folder, f"{key}.joblib")
            if os.path.exists(path):
                os.remove(path)

    def submit(self, task: Any) -> None:
        self._pending.append(_Pending(task, self._context_key, self._context_path))
        self._dispatch()

    def wait(self, timeout: float) -> list[Finished]:
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            self._dispatch()
            finished = self._done
            self._done = []
            finished += self._collect(min(POLL_INTERVAL, max(deadline - time.monotonic(), 0)))
            finished += self._enforce_limits()
            if finished or time.monotonic() >= deadline:
                return finished

    def cancel(self, number: int, message: str) -> None:
        for pending in list(self._pending):
            if pending.task.number == number:
                self._pending.remove(pending)
                self._done.append(Finished(pending.task, TaskFailure("stopped", message), 0.0))
        running = self._busy.pop(number, None)
        if running is not None:
            self._kill(running.worker)
            self._done.append(
                Finished(
                    running.task,
                    TaskFailure("stopped", message),
                    time.monotonic() - running.started,
                    self._label(running.worker),
                )
            )

    def running(self) -> list[Any]:
        return [*(p.task for p in self._pending), *(r.task for r in self._busy.values())]

    def close(self) -> None:
        for running in self._busy.values():
            self._kill(running.worker)
        self._busy.clear()
        self._pending.clear()
        with self._lock:
            self._closed = True  # a worker still starting is stopped by its starter thread
        self._idle += self._take_started()
        for worker in self._idle:
            with contextlib.suppress(OSError):  # it died meanwhile: killed below
                worker.connection.send(None)
        for worker in self._idle:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                self._kill(worker)
            worker.connection.close()
        self._idle.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- workers -----------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Hand pending tasks to idle workers; start workers up to the pool's size."""
        self._idle += self._take_started()
        while self._pending and self._idle:
            worker = self._idle.pop()
            if not worker.process.is_alive():
                worker.connection.close()
                continue
            pending = self._pending.pop(0)
            try:
                worker.connection.send((pending.context_key, pending.context_path, pending.task))
            except OSError:  # it died while idle: try the next one
                self._pending.insert(0, pending)
                self._kill(worker)
                continue
            self._busy[pending.task.number] = _Running(worker, pending.task, time.monotonic())
        with self._lock:
            alive = len(self._idle) + len(self._busy) + self._starting
            wanted = min(self.n_workers, alive + len(self._pending)) - alive
            if self._start_errors and not self._starting and not self._idle and not self._busy:
                # no worker could start: fail the tasks rather than wait for ever
                error = self._start_errors[-1]
                for pending in self._pending:
                    self._done.append(
                        Finished(
                            pending.task,
                            TaskFailure("crashed", f"no worker process could start: {error}"),
                            0.0,
                        )
                    )
                self._pending.clear()
                self._start_errors.clear()
                return
            self._starting += max(0, wanted)
        for _ in range(max(0, wanted)):
            threading.Thread(
                target=self._start_worker, name="automl-worker-start", daemon=True
            ).start()

    def _start_worker(self) -> None:
        try:
            worker = self._launch()
            if self._mp is None:
                # a plain subprocess: seconds of imports before it can take a task. A
                # worker forked from the fork server has them already: it takes its first
                # task at once (waiting for its word would add to every short search).
                self._await_ready(worker)
            with self._lock:
                closed = self._closed
                if not closed:
                    self._started.append(worker)
            if closed:
                self._kill(worker)
        except Exception as exc:  # e.g. out of processes or file descriptors
            with self._lock:
                self._start_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._starting -= 1

    def _await_ready(self, worker: _Worker) -> None:
        """Wait until ``worker`` has imported what it needs: a plain subprocess takes seconds
        to start Python and import scikit-learn, which must not count against the time
        limit of the first task it is given. A worker that dies first is an error."""
        from automl.execution.worker import READY

        try:
            if worker.connection.poll(START_TIMEOUT) and worker.connection.recv() == READY:
                return
            why = f"no word from it within {START_TIMEOUT:.0f} s"
        except (EOFError, OSError):
            worker.process.join(timeout=1)
            why = describe_exit(worker.process.exitcode)
        self._kill(worker)
        raise RuntimeError(f"the worker process did not start ({why})")

    def _launch(self) -> _Worker:
        if self._mp is None:
            # imported here: ``python -m automl.execution.child`` must find it not yet loaded
            from automl.execution.child import start_child

            process, connection = start_child()
            return _Worker(process, connection)
        ours, theirs = self._mp.Pipe(duplex=True)
        from automl.execution.worker import WORKER_NAME, main

        process = self._mp.Process(target=main, args=(theirs,), name=WORKER_NAME)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _take_started(self) -> list[_Worker]:
        with self._lock:
            started, self._started = self._started, []
        return started

    def _collect(self, timeout: float) -> list[Finished]:
        """Replies (or deaths) of busy workers, waiting at most ``timeout``."""
        if not self._busy:
            time.sleep(timeout)
            return []
        # dict.fromkeys: a subprocess worker's sentinel is its connection, listed once
        handles = list(
            dict.fromkeys(
                h
                for r in self._busy.values()
                for h in (r.worker.connection, r.worker.process.sentinel)
            )
        )
        ready = set(wait_for(handles, timeout))
        finished = []
        for number, running in list(self._busy.items()):
            worker = running.worker
            if worker.connection not in ready and worker.process.sentinel not in ready:
                continue
            del self._busy[number]
            seconds = time.monotonic() - running.started
            result, worker_ok = self._receive(worker)
            if worker_ok:
                self._idle.append(worker)
            else:
                self._kill(worker)
            finished.append(Finished(running.task, result, seconds, self._label(worker)))
        return finished

    def _label(self, worker: _Worker) -> str:
        return f"{self._host}:{worker.process.pid}"

    def _receive(self, worker: _Worker) -> tuple[Any, bool]:
        """The task's result (or failure), and whether the worker can take another task."""
        try:
            if worker.connection.poll():
                reply = worker.connection.recv()
                if reply[0] == "ok":
                    return reply[1], True
                return TaskFailure("error", reply[1], reply[2]), True  # it raised, was caught
        except (EOFError, OSError):
            pass
        worker.process.join(timeout=1)
        return TaskFailure("crashed", describe_exit(worker.process.exitcode)), False

    def _enforce_limits(self) -> list[Finished]:
        finished = []
        now = time.monotonic()
        for number, running in list(self._busy.items()):
            seconds = now - running.started
            limit = running.task.time_limit
            failure = None
            if seconds > limit:
                failure = TaskFailure("timeout", f"ran longer than its time limit of {limit:.3g} s")
            else:
                used = resident_mb(running.worker.process.pid)
                if used > self.memory_limit:
                    failure = TaskFailure(
                        "memory",
                        f"its worker used {used:,.0f} MB, over the "
                        f"memory limit of {self.memory_limit:,.0f} MB",
                    )
            if failure is not None:
                del self._busy[number]
                self._kill(running.worker)
                finished.append(
                    Finished(running.task, failure, seconds, self._label(running.worker))
                )
        return finished

    @staticmethod
    def _kill(worker: _Worker) -> None:
        if worker.process.pid is not None:
            kill_tree(worker.process.pid)
        worker.process.join(timeout=5)
        worker.connection.close()


def warm_up() -> None:
    """Start the fork server in the background, before the search needs its first worker.

    The fork server imports scikit-learn and the learners once (2-3 s); started when
    ``fit`` is entered, that overlaps with validating the data.
    """
    context = _context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        threading.Thread(
            target=forkserver.ensure_running, name="automl-warm-up", daemon=True
        ).start()


def _context() -> Any:
    """A fork server where the platform has one (preloading the worker's imports), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([WORKER_MODULE, *_learner_modules()])
        return context
    return multiprocessing.get_context("spawn")


def _learner_modules() -> list[str]:
    """The modules of the registered learners (and their adapters) that are installed.

    Imported once by the fork server, so a fresh worker (after a kill) does not spend the
    first second of a trial's time limit importing scikit-learn's or LightGBM's modules.
    """
    from automl.registry import is_installed, load_registry

    modules: set[str] = set()
    for spec in load_registry().values():
        if is_installed(spec):
            modules.update(path.partition(":")[0] for path in spec.estimators.values())
            if spec.adapter:
                modules.add(spec.adapter.partition(":")[0])
    return sorted(modules)
