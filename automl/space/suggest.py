"""Turn parameter specs into configurations: sampled by Optuna, opening, or on a grid.

Inside Optuna every parameter is named ``<algorithm>__<param>`` so that two algorithms never
share a distribution; users and reports see plain names.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import optuna

from automl.space.schema import ParamSpec

ALGORITHM_KEY = "algorithm"
_MISSING = object()


def optuna_name(algorithm: str, param: str) -> str:
    return f"{algorithm}__{param}"


def is_active(param: ParamSpec, config: dict[str, Any]) -> bool:
    """A parameter is active when every parent named in ``when`` has one of the listed values."""
    return all(config.get(parent, _MISSING) in values for parent, values in param.when.items())


def suggest_config(
    trial: optuna.trial.BaseTrial, algorithm: str, params: Sequence[ParamSpec]
) -> dict[str, Any]:
    """Ask ``trial`` for each active parameter, in file order (define-by-run)."""
    config: dict[str, Any] = {}
    for p in params:
        if not is_active(p, config):
            continue
        key = optuna_name(algorithm, p.name)
        if p.type == "categorical":
            config[p.name] = trial.suggest_categorical(key, list(p.choices))
        elif p.type == "int":
            low, high = p.bounds
            config[p.name] = trial.suggest_int(key, int(low), int(high), log=p.log)
        else:
            low, high = p.bounds
            config[p.name] = trial.suggest_float(key, float(low), float(high), log=p.log)
    return config


def opening_config(params: Sequence[ParamSpec], cheap: bool = True) -> dict[str, Any]:
    """The configuration that opens a search: ``start`` where declared, else ``default``."""
    config: dict[str, Any] = {}
    for p in params:
        if is_active(p, config):
            config[p.name] = p.start if (cheap and p.start is not None) else p.default
    return config


def smallest_config(params: Sequence[ParamSpec], costs: Sequence[str]) -> dict[str, Any]:
    """The opening configuration with every parameter that drives one of ``costs`` (its
    ``drives``) at its low bound: the algorithm's fastest, smallest model in the space."""
    config: dict[str, Any] = {}
    for p in params:
        if not is_active(p, config):
            continue
        if set(p.drives) & set(costs):
            config[p.name] = int(p.bounds[0]) if p.type == "int" else float(p.bounds[0])
        else:
            config[p.name] = p.start if p.start is not None else p.default
    return config


def grid_configs(params: Sequence[ParamSpec]) -> Iterator[dict[str, Any]]:
    """Every combination of grid levels, honouring conditions (inactive parameters are left out)."""

    def expand(index: int, config: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if index == len(params):
            yield dict(config)
            return
        p = params[index]
        if not is_active(p, config):
            yield from expand(index + 1, config)
            return
        for value in p.grid_levels():
            config[p.name] = value
            yield from expand(index + 1, config)
            del config[p.name]

    return expand(0, {})


def interleave(groups: Sequence[Iterator[Any]]) -> Iterator[Any]:
    """Round-robin over several iterators, so a budget cut leaves every group represented."""
    sentinel = object()
    for items in itertools.zip_longest(*groups, fillvalue=sentinel):
        yield from (item for item in items if item is not sentinel)


def to_optuna_params(algorithm: str, config: dict[str, Any]) -> dict[str, Any]:
    """The parameter dict Optuna stores for ``config`` (for enqueue_trial and FixedTrial)."""
    out: dict[str, Any] = {ALGORITHM_KEY: algorithm}
    out.update({optuna_name(algorithm, k): v for k, v in config.items()})
    return out


# The user attribute of a trial that holds parameter values found while it ran rather than
# sampled (the rounds early stopping found): part of its configuration, not of Optuna's.
FOUND_PARAMS = "found_params"


def trial_configuration(trial: Any) -> tuple[str, dict[str, Any]]:
    """A finished trial's algorithm and plain-named configuration, with the values found
    while it ran (its user attribute ``found_params``), as the refit uses them."""
    algorithm, params = from_optuna_params(trial.params)
    return algorithm, {**params, **trial.user_attrs.get(FOUND_PARAMS, {})}


def from_optuna_params(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Split Optuna's stored parameters into the algorithm and its plain-named configuration."""
    algorithm = params[ALGORITHM_KEY]
    prefix = f"{algorithm}__"
    return algorithm, {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
