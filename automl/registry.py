"""The registry: every search space file found, and the candidates for one data set.

Algorithms come from three places, later ones adding to earlier ones:

1. the built-in spaces, shipped in the package (``automl/search_spaces`` once installed;
   the top-level ``search_spaces/`` folder in a source checkout);
2. installed plugins: a distribution that declares an entry point in the group
   ``automl.spaces`` whose value is a package (``my_algos = "my_package.spaces"``); every
   ``*.toml`` file in that package is an algorithm, and its adapter, if any, is named by
   import path in the file. A plugin cannot replace a built-in algorithm (a warning names
   both and the built-in one stays) and a plugin file that breaks the schema is skipped with
   a warning, so an installed package never stops a search;
3. the user's own files, ``spaces=`` (these may replace any algorithm of the same name).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
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
from automl.space.portfolio import PORTFOLIO_FILE
from automl.space.schema import AlgorithmSpec

logger = logging.getLogger("automl.registry")

ENTRY_POINT_GROUP = "automl.spaces"


def builtin_space_dir() -> Path:
    """Where the built-in space files are: inside the installed package, else the checkout's."""
    package = Path(__file__).resolve().parent
    installed = package / "search_spaces"
    if any(installed.glob("*.toml")):
        return installed
    return package.parent / "search_spaces"


def builtin_space_files() -> list[Path]:
    """The built-in algorithms' space files (the portfolio file beside them is not one)."""
    return sorted(p for p in builtin_space_dir().glob("*.toml") if p.name != PORTFOLIO_FILE)


def builtin_portfolio() -> Path:
    """The built-in portfolio file (see :mod:`automl.space.portfolio`)."""
    return builtin_space_dir() / PORTFOLIO_FILE


@lru_cache(maxsize=1)
def _builtin_specs() -> tuple[AlgorithmSpec, ...]:
    folder = builtin_space_dir()
    paths = builtin_space_files()
    if not paths:
        raise SearchSpaceError(
            f"No search space files found in {folder}; the installation "
            "is incomplete. Reinstall automl."
        )
    return tuple(load_space(p) for p in paths)


def plugin_specs() -> list[tuple[AlgorithmSpec, str]]:
    """The algorithms of installed packages that declare ``automl.spaces`` entry points,
    each with the entry point and distribution it came from."""
    specs = []
    for entry_point in sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        package = entry_point.value
        where = f"entry point {entry_point.name!r} = {package!r} (group {ENTRY_POINT_GROUP})"
        if entry_point.dist is not None:
            where += f" of {entry_point.dist.name}"
        try:
            folder = importlib.resources.files(package)
            files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=str)
        except (ImportError, TypeError) as exc:
            _skip_plugin(f"{where}: {package!r} is not an importable package ({exc}).")
            continue
        if not files:
            _skip_plugin(f"{where}: package {package!r} holds no *.toml space file.")
        for file in files:
            try:
                specs.append((load_space(Path(str(file))), where))
            except SearchSpaceError as exc:
                _skip_plugin(f"{where}: {exc}")
    return specs


def _skip_plugin(message: str) -> None:
    message = f"Skipping a plugin's space: {message}"
    logger.warning(message)
    warnings.warn(message, SkippedAlgorithmWarning, stacklevel=4)


def load_registry(extra_spaces: Iterable[str | Path] = ()) -> dict[str, AlgorithmSpec]:
    """All algorithms by name: built-in spaces, installed plugins, then the user's files."""
    registry = {spec.name: spec for spec in _builtin_specs()}
    for spec, where in plugin_specs():
        if spec.name in registry:
            _skip_plugin(
                f"{where}: {spec.source} would replace the algorithm {spec.name!r} of "
                f"{registry[spec.name].source}. Rename the plugin's file; to replace an "
                "algorithm on purpose, pass the file with spaces=."
            )
            continue
        registry[spec.name] = spec
    for path in extra_spaces:
        spec = load_space(path)
        if spec.name in registry:
            logger.info("Space file %s replaces the built-in space %r.", path, spec.name)
        registry[spec.name] = spec
    return registry


def is_installed(spec: AlgorithmSpec) -> bool:
    """Whether every library the algorithm ``requires`` can be imported."""
    return all(importlib.util.find_spec(module) is not None for module in spec.requires)


def install_line(spec: AlgorithmSpec) -> str:
    """The command that installs what ``spec`` requires: its own ``install``, else pip's."""
    return spec.install or f"pip install {' '.join(spec.requires)}"


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
                    f"Install it with: {install_line(spec)}"
                )
    else:
        chosen = []
        for spec in registry.values():
            if not spec.supports(task):
                continue
            if not is_installed(spec):
                logger.info(
                    "Skipping %r: %s not installed (%s).",
                    spec.name,
                    list(spec.requires),
                    install_line(spec),
                )
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
