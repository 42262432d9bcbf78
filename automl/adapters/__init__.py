"""Adapters build estimators whose library has quirks a space file cannot express.

An adapter is a module here with two names:

- ``VIRTUAL_PARAMS``: parameter names the space file may use that are not the estimator's
  own (they are turned into real parameters by ``build``);
- ``build(estimator_class, params, context) -> estimator``.

A space file names its adapter with ``adapter = "<module>"``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class BuildContext:
    """What an adapter may need to know beyond the parameters."""

    task: str
    categorical_positions: tuple[int, ...]
    n_features_out: int
    n_rows: int


def load_adapter(name: str) -> ModuleType:
    """Import ``automl.adapters.<name>``."""
    return importlib.import_module(f"automl.adapters.{name}")
