"""Progress of a running search on stderr, fed by the search's ``automl.progress`` records.

On a terminal, one line rewritten in place; when stderr is redirected (a log file, CI),
a plain line every ``LOG_INTERVAL`` seconds and a last one at the end, so the log shows
the search moving without carriage returns.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from automl.search import SearchProgress, progress_logger

LOG_INTERVAL = 5.0


class ProgressLine(logging.Handler):
    """Elapsed/budget, trials running, done, failed and timed out, the best so far."""

    def __init__(self, enabled: bool, stream: Any = None) -> None:
        super().__init__(level=logging.DEBUG)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown = False
        self._last_logged = 0.0
        self._last: SearchProgress | None = None

    def __enter__(self) -> ProgressLine:
        if self.enabled:
            progress_logger.addHandler(self)
            progress_logger.setLevel(logging.DEBUG)
            # the records are for this line only, not for the ordinary log output
            self._propagate, progress_logger.propagate = progress_logger.propagate, False
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.enabled:
            return
        progress_logger.removeHandler(self)
        progress_logger.propagate = self._propagate
        if self.live and self._shown:
            self.stream.write("\n")
        elif not self.live and self._last is not None:
            self.stream.write(format_progress(self._last) + "\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        state = getattr(record, "automl_progress", None)
        if state is None:
            return
        self._last = state
        if self.live:
            self.stream.write("\r" + format_progress(state) + "\033[K")
            self._shown = True
        else:
            now = time.monotonic()
            if now - self._last_logged < LOG_INTERVAL:
                return
            self._last_logged = now
            self.stream.write(format_progress(state) + "\n")
        self.stream.flush()


def format_progress(state: SearchProgress) -> str:
    elapsed = f"{state.elapsed:5.1f}s" + (f" / {state.budget:g}s" if state.budget else "")
    done = f"{state.done}" + (f"/{state.n_trials}" if state.n_trials else "")
    best = (
        "best: none yet"
        if state.best is None
        else f"best {state.metric} {state.best:.4f} ({state.best_algorithm})"
    )
    return (
        f"[{elapsed}] {state.running} running, {done} done ({state.complete} complete, "
        f"{state.pruned} pruned, {state.failed} failed, {state.timed_out} timed out), "
        f"{best}"
    )
