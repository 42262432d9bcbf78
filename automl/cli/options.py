"""Option values shared by several commands."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from automl.cli import UsageError


def parse_cv(text: str) -> int | float | str:
    """``--cv``: ``auto``, a number of folds (``5``) or a holdout fraction (``0.2``)."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"--cv must be 'auto', a number of folds (e.g. 5) or a holdout "
            f"fraction (e.g. 0.2); got {text!r}."
        ) from None
    return int(value) if value.is_integer() else value


CV_HELP = (
    "inner validation: 'auto' (5 folds up to 10,000 rows, a 20%% holdout above), "
    "K folds, or a holdout fraction like 0.2 (default: auto)"
)


CONFIGURATIONS_EXAMPLE = """[[configurations]]
algorithm = "svm"
C = 10.0"""


def read_configurations(path: str | Path) -> list[dict[str, Any]]:
    """``--configurations FILE``: ``[[configurations]]`` tables in TOML, or a JSON list of
    objects (or ``{"configurations": [...]}``); each names its ``algorithm``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such configurations file.") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise UsageError(
                f"{path}: a configurations file must be .toml or .json; got "
                f"{path.suffix or 'no suffix'!r}."
            )
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: could not be read: {exc}") from None
    if isinstance(data, dict):
        data = data.get("configurations")
    if not isinstance(data, list) or not data or not all(isinstance(c, dict) for c in data):
        raise UsageError(
            f"{path}: expected a list of configurations, each a table with an 'algorithm' "
            f"and parameter values; in TOML:\n{CONFIGURATIONS_EXAMPLE}"
        )
    missing = [i for i, c in enumerate(data) if "algorithm" not in c]
    if missing:
        raise UsageError(
            f"{path}: configuration {missing[0]} has no 'algorithm' key; every configuration "
            "names the algorithm its parameters belong to."
        )
    return data
