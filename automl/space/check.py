"""Public checks for a space file, the same ones the project's conformance test runs."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from automl.adapters import constructor_params, load_adapter
from automl.exceptions import SearchSpaceError
from automl.space.loading import load_space
from automl.space.schema import AlgorithmSpec


def check_space(path: str | Path) -> AlgorithmSpec:
    """Check a space file: the schema, then that its estimator and parameter names exist.

    Raises :class:`~automl.exceptions.SearchSpaceError` naming the file, the table, the key,
    the problem and the fix; returns the loaded spec when everything holds.

    Examples
    --------
    >>> import automl, pathlib
    >>> spec = automl.check_space(pathlib.Path(automl.registry.builtin_space_dir(), "knn.toml"))
    >>> spec.name
    'knn'
    """
    spec = load_space(path)
    check_names(spec)
    return spec


def check_names(spec: AlgorithmSpec) -> None:
    """Every estimator and the adapter import, and every parameter, fixed and smoke name is
    the estimator's (or one the adapter declares)."""
    classes = {}
    for family, path in spec.estimators.items():
        module, _, name = path.partition(":")
        try:
            classes[family] = getattr(importlib.import_module(module), name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in spec.requires:
                return  # an optional library that is not installed: checked when it is
            raise SearchSpaceError(
                f"{spec.source}: [estimator] {family} = {path!r}: module "
                f"{module!r} cannot be imported ({exc})."
            ) from None
        except AttributeError:
            raise SearchSpaceError(
                f"{spec.source}: [estimator] {family} = {path!r}: module "
                f"{module!r} has no {name!r}."
            ) from None
    virtual: frozenset[str] = frozenset()
    if spec.adapter:
        try:
            adapter = load_adapter(spec.adapter)
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"{spec.source}: {exc}") from None
        virtual = adapter.virtual_params
        if spec.early_stopping is not None and adapter.fit_early_stopped is None:
            raise SearchSpaceError(
                f"{spec.source}: [early_stopping] needs the adapter's module "
                f"({spec.adapter.partition(':')[0]}) to define fit_early_stopped(model, X, y, "
                "X_val, y_val, patience, sample_weight, sample_weight_val); define it or "
                "remove the table."
            )
    for family, cls in classes.items():
        path = spec.estimators[family]
        accepted = constructor_params(cls)
        # LightGBM and XGBoost take library options (verbose, tree_method) through **kwargs:
        # allowed as constants, but tuned parameters must be declared ones so typos fail.
        takes_kwargs = any(
            p.kind is inspect.Parameter.VAR_KEYWORD
            for p in inspect.signature(cls.__init__).parameters.values()
        )
        for table, names in (
            ("params", [p.name for p in spec.params if family in p.tasks]),
            ("fixed", list(spec.fixed)),
            ("smoke", list(spec.smoke)),
            ("balanced", list(spec.balanced) if family == "classification" else []),
        ):
            for pname in names:
                if pname in accepted or pname in virtual:
                    continue
                if not (takes_kwargs and table in ("fixed", "smoke")):
                    raise SearchSpaceError(
                        f"{spec.source}: [{table}] {pname!r} is not a parameter of {path} "
                        f"({family}). Its parameters: {sorted(accepted)}."
                    )
