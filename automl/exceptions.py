"""Errors and warnings raised by automl.

Every error derives from :class:`AutoMLError` and also from the builtin a caller would
catch without knowing automl, so ``except ValueError`` keeps working::

    AutoMLError
    ├── DataValidationError(ValueError)      bad X / y / target / column kinds
    ├── InvalidParameterError(ValueError)    bad argument to fit() or an estimator
    ├── UnknownNameError(ValueError)         unknown algorithm or metric (with did-you-mean)
    ├── SearchSpaceError(ValueError)         a space file breaks the schema
    ├── MissingDependencyError(ImportError)  an optional library is not installed
    ├── AllTrialsFailedError(RuntimeError)   no trial of a search completed
    ├── TrialError(RuntimeError)             one trial's failure as its worker reported it
    ├── StudyInUseError(RuntimeError)        another live process is running that stored search
    └── ClusterError(ConnectionError)        the Dask scheduler can't be reached or has no workers

Warnings derive from :class:`AutoMLWarning` (a ``UserWarning``)::

    AutoMLWarning
    ├── DroppedColumnWarning      a feature column was dropped (entirely missing or constant)
    ├── TrialFailedWarning        an algorithm's trial failed (once per algorithm)
    └── SkippedAlgorithmWarning   an algorithm was left out (row limit, missing library)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AutoMLError(Exception):
    """Base class of every error raised by automl."""


class DataValidationError(AutoMLError, ValueError):
    """The data given to ``fit`` or ``predict`` cannot be used as it is."""


class InvalidParameterError(AutoMLError, ValueError):
    """An argument of ``fit`` or of an estimator has a value that is not accepted."""


class UnknownNameError(AutoMLError, ValueError):
    """An algorithm or metric name is not known."""


class SearchSpaceError(AutoMLError, ValueError):
    """A search space file does not follow the schema in search_spaces/README.md."""


class MissingDependencyError(AutoMLError, ImportError):
    """An optional library needed for the request is not installed."""


class ClusterError(AutoMLError, ConnectionError):
    """The Dask scheduler named by ``scheduler=`` can't be reached, or can't run trials."""


class AllTrialsFailedError(AutoMLError, RuntimeError):
    """Every trial of a search failed; the first failure is chained as ``__cause__``."""


class TrialError(AutoMLError, RuntimeError):
    """A trial's failure (error, timeout, crash) as reported by the worker that ran it.

    Chained as the ``__cause__`` of :class:`AllTrialsFailedError`; its text holds the
    worker's traceback when there was one.
    """


class StudyInUseError(AutoMLError, RuntimeError):
    """The stored search is being run by another live process (named in the message)."""


class AutoMLWarning(UserWarning):
    """Base class of every warning issued by automl."""


class DroppedColumnWarning(AutoMLWarning):
    """A feature column was dropped before the search."""


class TrialFailedWarning(AutoMLWarning):
    """A trial raised; the search recorded the error and went on."""


class SkippedAlgorithmWarning(AutoMLWarning):
    """An algorithm was not searched (too many rows for it, or its library is missing)."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
