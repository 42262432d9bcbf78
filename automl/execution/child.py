"""Worker processes started as plain subprocesses, for hosts where multiprocessing can't.

A Dask worker runs in a *daemonic* process (its nanny starts it so), and multiprocessing
refuses to start children from one ("daemonic processes are not allowed to have
children"); changing that needs a setting on every worker of the cluster
(``distributed.worker.daemon``). A trial still has to run in a process its host can
kill, so there the worker is started with :mod:`subprocess` instead:
``python -m automl.execution.child FD``, talking over a socket pair whose end it gets as
file descriptor ``FD`` (POSIX ``pass_fds``), and serving tasks with the same loop as a
local worker (:func:`automl.execution.worker.main`).

The price is a fresh interpreter per worker (the imports of scikit-learn and the learners,
2-3 s) where the fork server hands out a ready worker in tens of milliseconds; workers are
kept for the life of their host, so it is paid once per worker and after each kill.

A child never outlives its host: it watches its stdin, a pipe nobody writes to, and
stops when that reaches end-of-file (the host closed it, or died, even by kill -9).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from automl.exceptions import InvalidParameterError


class ChildProcess:
    """The parent's handle on a child: what the executor uses of ``multiprocessing.Process``."""

    def __init__(self, popen: subprocess.Popen, connection: Connection) -> None:
        self._popen = popen
        # A child that dies closes its end of the socket, so the connection becomes ready
        # (end-of-file): it is also the process's sentinel.
        self.sentinel = connection

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        if self._popen.stdin is not None:
            self._popen.stdin.close()


def start_child() -> tuple[ChildProcess, Connection]:
    """Start ``python -m automl.execution.child`` and return it with our end of its socket."""
    if os.name != "posix":
        raise InvalidParameterError(
            "Trial workers on this host need POSIX file-descriptor passing; on Windows, run "
            "the search with local worker processes (no scheduler)."
        )
    ours, theirs = socket.socketpair()
    # The child imports what its host imports (e.g. a learner from the user's own package).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.PIPE,
            close_fds=True,
            env=env,
        )
    finally:
        theirs.close()
    connection = Connection(ours.detach())
    return ChildProcess(popen, connection), connection


def _exit_when_parent_goes() -> None:
    """A watchdog thread: stdin reaching end-of-file means the parent is gone."""
    from automl.execution.limits import kill_tree

    stdin = sys.stdin.fileno()

    def watch() -> None:
        try:  # os.read, not sys.stdin: a buffered reader's lock would block the exit
            while os.read(stdin, 4096):
                pass
        except OSError:
            pass
        kill_tree(os.getpid(), include_root=False)
        os._exit(1)

    threading.Thread(target=watch, name="automl-parent-watch", daemon=True).start()


def _main(argv: list[str]) -> Any:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the host's to act on
    _exit_when_parent_goes()
    from automl.execution.worker import main

    main(Connection(int(argv[1])), announce=True)
    os._exit(0)  # the parent said stop; the watchdog thread must not hold up the exit


if __name__ == "__main__":
    _main(sys.argv)
