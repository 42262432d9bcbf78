"""A live progress line on the terminal, fed by the search's ``automl.progress`` records."""

from __future__ import annotations

import logging
import sys
from typing import Any

from automl.search import progress_logger


class ProgressLine(logging.Handler):
    """Rewrites one line: elapsed/budget, trials done and failed, best score and algorithm."""

    def __init__(self, enabled: bool, stream: Any = None) -> None:
        super().__init__(level=logging.DEBUG)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._shown = False

    def __enter__(self) -> ProgressLine:
        if self.enabled:
            progress_logger.addHandler(self)
            progress_logger.setLevel(logging.DEBUG)
            # the records are for this line only, not for the ordinary log output
            self._propagate, progress_logger.propagate = progress_logger.propagate, False
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            progress_logger.removeHandler(self)
            progress_logger.propagate = self._propagate
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        state = getattr(record, "automl_progress", None)
        if state is None:
            return
        self.stream.write("\r" + format_progress(state) + "\033[K")
        self.stream.flush()
        self._shown = True


def format_progress(state: dict[str, Any]) -> str:
    budget = state["budget"]
    elapsed = f"{state['elapsed']:5.1f}s" + (f" / {budget:g}s" if budget else "")
    trials = f"{state['done']}" + (f"/{state['n_trials']}" if state.get("n_trials") else "")
    best = ("best: none yet" if state["best"] is None
            else f"best {state['metric']} {state['best']:.4f} ({state['best_algorithm']})")
    return f"[{elapsed}] {trials} trials, {state['failed']} failed, {best}"
