"""Adapters build estimators whose library has quirks a space file cannot express.

A space file names its adapter by import path, ``adapter = "package.module:function"``, so
a third-party package can ship one next to its space file; a bare name (``"lightgbm"``)
means one of automl's own modules here, ``automl.adapters.<name>:build``. The function is
called as ``function(estimator_class, params, context) -> estimator`` with the
:class:`BuildContext` below. Its module may define ``VIRTUAL_PARAMS``: parameter names the
space file may use that are not the estimator's own (the function turns them into real ones).

A space file with an ``[early_stopping]`` table needs its adapter module to define
``fit_early_stopped(model, X, y, X_val, y_val, patience, sample_weight, sample_weight_val)
-> (fitted model, rounds)``: fit the unfitted ``model`` (what ``build`` returned) on the
preprocessed ``X``, stopping after ``patience`` rounds without improvement of the
library's own loss on ``(X_val, y_val)``, and return the fitted model (it predicts with the
best round) and the number of rounds a refit on all rows should use.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automl.exceptions import SearchSpaceError


@dataclass(frozen=True)
class BuildContext:
    """What an adapter may need to know beyond the parameters."""

    task: str
    categorical_positions: tuple[int, ...]
    n_features_out: int
    n_rows: int


@dataclass(frozen=True)
class Adapter:
    """An adapter function and the parameter names it accepts beyond the estimator's."""

    build: Callable[[type, dict[str, Any], BuildContext], Any]
    virtual_params: frozenset[str]
    fit_early_stopped: Callable[..., tuple[Any, int]] | None = None


def load_adapter(reference: str) -> Adapter:
    """Import the adapter ``"module:function"`` a space file names (see the module docs)."""
    module_name, _, function_name = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise SearchSpaceError(
            f"adapter {reference!r}: module {module_name!r} cannot be imported ({exc}). Install "
            "the package that provides it, or fix the space file's 'adapter' key."
        ) from None
    build = getattr(module, function_name or "build", None)
    if not callable(build):
        raise SearchSpaceError(
            f"adapter {reference!r}: module {module_name!r} has no function "
            f"{function_name or 'build'!r}. Name a function build(estimator_class, params, "
            "context) in it."
        )
    return Adapter(
        build,
        frozenset(getattr(module, "VIRTUAL_PARAMS", frozenset())),
        getattr(module, "fit_early_stopped", None),
    )


def constructor_params(cls: type) -> set[str]:
    """The parameters ``cls`` takes by name.

    Read from the constructor's signature as well as ``get_params()``: CatBoost's
    ``get_params()`` lists only the values that were set, so it is empty on a default instance.
    """
    named = {
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    try:
        return named | set(cls().get_params())
    except TypeError:
        return named
