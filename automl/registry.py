"""The registry: every search space file found, and the candidates for one data set.

Built-in spaces ship in the package (``automl/search_spaces`` once installed; the top-level
``search_spaces/`` folder in a source checkout). Users add their own files with ``spaces=``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from automl.exceptions import (
    InvalidParameterError,
    MissingDependencyError,
    SearchSpaceError,
    SkippedAlgorithmWarning,
    UnknownNameError,
    did_you_mean,
)
from automl.space.loading import load_space
from automl.space.schema import AlgorithmSpec

logger = logging.getLogger("automl.registry")


def builtin_space_dir() -> Path:
    """Where the built-in space files are: inside the installed package, else the checkout's."""
    package = Path(__file__).resolve().parent
    installed = package / "search_spaces"
    if any(installed.glob("*.toml")):
        return installed
    return package.parent / "search_spaces"


@lru_cache(maxsize=1)
def _builtin_specs() -> tuple[AlgorithmSpec, ...]:
    folder = builtin_space_dir()
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise SearchSpaceError(
            f"No search space files found in {folder}; the installation "
            "is incomplete. Reinstall automl."
        )
    return tuple(load_space(p) for p in paths)


def load_registry(extra_spaces: Iterable[str | Path] = ()) -> dict[str, AlgorithmSpec]:
    """All algorithms by name: built-in spaces, then the user's files (which may replace one)."""
    registry = {spec.name: spec for spec in _builtin_specs()}
    for path in extra_spaces:
        spec = load_space(path)
        if spec.name in registry:
            logger.info("Space file %s replaces the built-in space %r.", path, spec.name)
        registry[spec.name] = spec
    return registry


def is_installed(spec: AlgorithmSpec) -> bool:
    """Whether every library the algorithm ``requires`` can be imported."""
    return all(importlib.util.find_spec(module) is not None for module in spec.requires)


def select_candidates(
    registry: dict[str, AlgorithmSpec],
    task: str,
    n_rows: int,
    algorithms: Sequence[str] | None = None,
) -> list[AlgorithmSpec]:
    """The algorithms to search for ``task`` on ``n_rows`` training rows.

    Asked-for algorithms that cannot run raise a clear error; when searching everything,
    an algorithm that cannot run here is skipped with a log line (and a warning when the
    reason is the data size, which a user may want to know about).
    """
    if algorithms is not None:
        if isinstance(algorithms, str):
            algorithms = [algorithms]
        unknown = [a for a in algorithms if a not in registry]
        if unknown:
            raise UnknownNameError(
                f"Unknown algorithm {unknown[0]!r}.{did_you_mean(unknown[0], registry)} "
                f"Known algorithms: {sorted(registry)}."
            )
        chosen = [registry[a] for a in dict.fromkeys(algorithms)]
        for spec in chosen:
            if not spec.supports(task):
                able = sorted(s.name for s in registry.values() if s.supports(task))
                raise InvalidParameterError(
                    f"Algorithm {spec.name!r} does not do {task}; it does {list(spec.tasks)}. "
                    f"Algorithms for {task}: {able}."
                )
            if not is_installed(spec):
                missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
                raise MissingDependencyError(
                    f"Algorithm {spec.name!r} needs {missing}, which is not installed. "
                    f"Install it with: pip install {' '.join(missing)}"
                )
    else:
        chosen = []
        for spec in registry.values():
            if not spec.supports(task):
                continue
            if not is_installed(spec):
                logger.info("Skipping %r: %s not installed.", spec.name, list(spec.requires))
                continue
            chosen.append(spec)
    runnable = []
    for spec in chosen:
        if spec.max_rows is not None and n_rows > spec.max_rows:
            message = (
                f"Skipping {spec.name!r}: {n_rows} training rows exceed its row limit "
                f"({spec.max_rows}), above which its cost grows too fast."
            )
            logger.info(message)
            warnings.warn(message, SkippedAlgorithmWarning, stacklevel=3)
            continue
        runnable.append(spec)
    if not runnable:
        raise InvalidParameterError(
            f"No algorithm can run on this {task} task with {n_rows} rows "
            f"(asked for: {list(algorithms) if algorithms else 'all'})."
        )
    return runnable
