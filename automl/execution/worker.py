"""The body of a local worker process: receive a task, run it, send back the result.

A worker runs one task at a time and can be killed at any moment by its executor (that
is how time and memory limits are enforced). It keeps the search's context (loaded once
per search from a file the executor wrote; numeric arrays memory-mapped, so workers share
the pages) and ends when its pipe closes or its parent dies, never outliving the driver.

This module is what the fork server preloads, so its imports (scikit-learn, pandas, the
builder) are paid once per session rather than once per worker.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.spawn
import os
import signal
import threading
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

import joblib
from threadpoolctl import threadpool_limits

import automl.trial  # noqa: F401  (preloaded with the fork server: the tasks' code)
from automl.execution.limits import kill_tree

WORKER_NAME = "automl-worker"  # the name of every worker process (and nothing else)
_MAIN_STEPS = ("init_main_from_path", "init_main_from_name")


def _without_main_in_workers() -> None:
    """Start workers without running the user's ``__main__`` again.

    multiprocessing re-runs the parent's main script in every child it starts with a fork
    server (or spawn), so that functions defined there can be unpickled. A worker needs only
    automl's code (a scorer from the script travels by value, see
    ``automl.evaluation.resolve_metric``), and re-running the script breaks ordinary use: a
    script without an ``if __name__ == "__main__":`` guard would read its data and call
    ``fit`` again in every worker, and a script read from stdin cannot be re-run at all.

    This module is preloaded by the fork server, so the children it forks inherit this
    ``spawn.prepare``, which drops the main-script step for processes named
    ``WORKER_NAME`` and leaves every other process alone. (With spawn, e.g. on Windows,
    nothing is preloaded: there the guard is needed, as for any multiprocessing code.)
    """
    original = multiprocessing.spawn.prepare
    if getattr(original, "automl_skips_main", False):
        return

    def prepare(data: Mapping[str, Any]) -> None:
        if data.get("name") == WORKER_NAME:
            data = {k: v for k, v in data.items() if k not in _MAIN_STEPS}
        original(data)

    prepare.automl_skips_main = True  # type: ignore[attr-defined]
    multiprocessing.spawn.prepare = prepare


_without_main_in_workers()


# What a worker sends once it can take tasks (see ProcessExecutor._start_worker).
READY = "ready"


def main(connection: Connection, announce: bool = False) -> None:
    """Serve tasks from ``connection`` until it closes; with ``announce``, first say
    ``READY`` once the imports are done (a plain subprocess takes seconds to get there)."""
    # Ctrl-C in a terminal reaches every process of the group: it is the driver's to act on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    if announce:
        connection.send(READY)
    loaded: tuple[str, Any] | None = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, path, task = message
        if loaded is None or loaded[0] != key:
            loaded = None  # free the previous search's data before loading this one
            loaded = (key, joblib.load(path, mmap_mode="r"))
        connection.send_bytes(_run(task, loaded[1]))


def _run(task: Any, context: Any) -> Any:
    """The pickled reply: ("ok", result) or ("error", message, traceback)."""
    try:
        # One thread per learner: OpenMP learners spin-wait for threads they share with
        # the other workers, and fits are reproducible on one core.
        with threadpool_limits(limits=1):
            result = task.run(context)
    except (Exception, KeyboardInterrupt) as exc:  # a learner may raise either; both are data
        return _pickle(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5)))
    try:
        # Pickled here, so a result that cannot be pickled is reported, not a broken pipe.
        return _pickle(("ok", result))
    except Exception as exc:
        return _pickle(
            ("error", f"the result could not be sent back ({type(exc).__name__}: {exc})", "")
        )


def _pickle(reply: tuple[Any, ...]) -> Any:
    return ForkingPickler.dumps(reply)


def _exit_with_parent() -> None:
    """A watchdog thread: when the driver dies (even by kill -9), stop at once."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        kill_tree(os.getpid(), include_root=False)
        os._exit(1)

    threading.Thread(target=watch, name="automl-parent-watch", daemon=True).start()
