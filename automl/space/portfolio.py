"""Portfolios: configurations a search opens with, learned across data sets.

A portfolio file is TOML with ``schema_version = 1`` and ``[[configurations]]`` tables in
the shape of the ``configurations=`` parameter (``algorithm = "..."`` and parameter
values), each optionally limited to tasks (``task = "binary"`` or a list). The built-in
one, ``search_spaces/portfolio.toml``, was learned on other data sets by
``benchmarks/portfolio.py``, which says in the file how. The search runs the entries of its
task in file order (cheapest first there), then samples.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from automl.exceptions import SearchSpaceError

PORTFOLIO_FILE = "portfolio.toml"
TASKS = ("binary", "multiclass", "regression")


def read_portfolio(path: str | Path, task: str) -> list[dict[str, Any]]:
    """The configurations of ``task`` in the portfolio file ``path``, in file order, each
    with its ``algorithm`` and parameters (the ``task`` key removed)."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SearchSpaceError(
            f"Portfolio file {path} not found. Pass portfolio=True (the built-in one), "
            "False (none) or the path of a TOML file of [[configurations]] tables."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SearchSpaceError(f"{path}: not valid TOML ({exc}).") from None
    if document.get("schema_version") != 1:
        raise SearchSpaceError(
            f"{path}: a portfolio file needs schema_version = 1; got "
            f"{document.get('schema_version')!r}."
        )
    entries = document.get("configurations")
    if not isinstance(entries, list) or not entries:
        raise SearchSpaceError(
            f'{path}: no [[configurations]] tables; each needs algorithm = "..." and may '
            "name a task and parameter values."
        )
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry.get("algorithm"), str):
            raise SearchSpaceError(
                f'{path}: configurations[{i}] needs algorithm = "<name>" (see '
                f"'automl algorithms'); got {entry.get('algorithm')!r}."
            )
        tasks = entry.get("task", list(TASKS))
        tasks = [tasks] if isinstance(tasks, str) else tasks
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise SearchSpaceError(
                f"{path}: configurations[{i}] names task {unknown[0]!r}; tasks are {TASKS}."
            )
        if task in tasks:
            out.append({k: v for k, v in entry.items() if k != "task"})
    return out
