"""Checks of the estimators' parameters, and the values derived from them.

Kept apart from the estimators so each reads as its steps; every message names the
parameter, what it got and what would be accepted.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from automl.exceptions import InvalidParameterError, did_you_mean
from automl.execution import EXECUTORS
from automl.search import STRATEGIES

# Without a time budget a hanging learner must still not hang the search.
DEFAULT_TRIAL_TIME_LIMIT = 600.0
# With one, a trial may use at most this share of it (auto-sklearn uses a tenth, with a
# holdout; our 5-fold trials on small data need more), and never less than the floor: a
# trial in a fresh worker first loads the search's data, and at small budgets the
# deadline stops a slow trial anyway.
TRIAL_SHARE_OF_BUDGET = 0.25
MIN_TRIAL_TIME_LIMIT = 2.0


def check_settings(estimator: Any) -> None:
    """Raise :class:`InvalidParameterError` for the first parameter that is not accepted."""
    e = estimator
    _check_choice("strategy", e.strategy, STRATEGIES)
    if e.time_budget is not None and not _positive(e.time_budget):
        raise InvalidParameterError(
            f"The 'time_budget' parameter must be a positive number "
            f"of seconds or None; got {e.time_budget!r}."
        )
    if e.n_trials is not None and not (
        isinstance(e.n_trials, (int, np.integer)) and e.n_trials > 0
    ):
        raise InvalidParameterError(
            f"The 'n_trials' parameter must be a positive int or None; got {e.n_trials!r}."
        )
    if e.time_budget is None and e.n_trials is None and e.strategy != "manual":
        raise InvalidParameterError(
            "Give a time_budget (seconds) or n_trials, or both: "
            "without either the search would never end."
        )
    if not isinstance(e.n_jobs, (int, np.integer)) or e.n_jobs == 0 or e.n_jobs < -1:
        raise InvalidParameterError(
            f"The 'n_jobs' parameter must be a positive int or -1 (all cores); got {e.n_jobs!r}."
        )
    if e.strategy == "manual" and not e.configurations:
        raise InvalidParameterError(
            "strategy='manual' evaluates only the given "
            "configurations; pass configurations=[{...}]."
        )
    _check_choice("executor", e.executor, EXECUTORS)
    if e.scheduler is not None:
        if not isinstance(e.scheduler, str) or not e.scheduler.strip():
            raise InvalidParameterError(
                "The 'scheduler' parameter must be a Dask scheduler's address string such as "
                f"'tcp://HOST:8786' (for a Client, pass client.scheduler.address); got "
                f"{e.scheduler!r}."
            )
        if e.executor != "processes":
            raise InvalidParameterError(
                f"scheduler={e.scheduler!r} runs the trials on a Dask cluster; it cannot be "
                f"combined with executor={e.executor!r}. Leave executor at 'processes'."
            )
    if not isinstance(e.study_name, str) or not e.study_name.strip():
        raise InvalidParameterError(
            f"The 'study_name' parameter must be a non-empty string; got {e.study_name!r}."
        )
    if e.trial_time_limit is not None and not _positive(e.trial_time_limit):
        raise InvalidParameterError(
            f"The 'trial_time_limit' parameter must be a positive "
            f"number of seconds or None; got {e.trial_time_limit!r}."
        )
    if e.memory_limit is not None and not _positive(e.memory_limit):
        raise InvalidParameterError(
            f"The 'memory_limit' parameter must be a positive number "
            f"of MB or None; got {e.memory_limit!r}."
        )
    if not (isinstance(e.early_stopping, (bool, np.bool_)) or e.early_stopping == "auto"):
        raise InvalidParameterError(
            f"The 'early_stopping' parameter must be 'auto', True or False; got "
            f"{e.early_stopping!r}."
        )
    if not isinstance(e.ensemble, (bool, np.bool_)):
        raise InvalidParameterError(
            f"The 'ensemble' parameter must be True or False; got {e.ensemble!r}."
        )
    if not (
        isinstance(e.ensemble_size, (int, np.integer))
        and not isinstance(e.ensemble_size, bool)
        and e.ensemble_size >= 1
    ):
        raise InvalidParameterError(
            f"The 'ensemble_size' parameter must be an int >= 1 (selection rounds); got "
            f"{e.ensemble_size!r}. To turn the ensemble off, pass ensemble=False."
        )
    if not isinstance(e.portfolio, (bool, str, os.PathLike)):
        raise InvalidParameterError(
            "The 'portfolio' parameter must be True (the built-in portfolio), False (none) "
            f"or the path of a portfolio TOML file; got {e.portfolio!r}."
        )
    if e.callbacks is not None and not all(callable(c) for c in e.callbacks):
        raise InvalidParameterError(
            f"The 'callbacks' parameter must be a list of callables "
            f"taking a SearchProgress; got {e.callbacks!r}."
        )


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidParameterError(
            f"The '{name}' parameter must be one of {list(choices)}; got "
            f"{value!r}.{did_you_mean(str(value), choices)}"
        )


def effective_jobs(n_jobs: int, executor: str) -> int:
    """Trials at once: ``-1`` is every core; the in-process executor runs one at a time."""
    if executor == "inprocess":
        return 1
    if n_jobs == -1:
        return os.cpu_count() or 1
    return int(n_jobs)


def trial_time_limit(given: float | None, time_budget: float | None) -> float:
    """The given limit, else a quarter of the search's budget (at least 2 s), else 10 min."""
    if given is not None:
        return float(given)
    if time_budget is None:
        return DEFAULT_TRIAL_TIME_LIMIT
    return max(TRIAL_SHARE_OF_BUDGET * float(time_budget), MIN_TRIAL_TIME_LIMIT)


def _positive(value: Any) -> bool:
    return bool(
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and value > 0
    )
