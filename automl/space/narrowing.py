"""Narrow one algorithm's space around configurations that did well (refinement's core).

Given the top configurations of a finished round, each parameter's range becomes the span
of their values in the parameter's own scale (log where the file says ``log``), widened on
both sides by ``margin`` times that span (at least ``min_share`` of the original span, so a
range never collapses onto one point), clipped to the original bounds; integers are rounded
outwards. A categorical parameter keeps the choices the top configurations used. A
parameter whose ``when`` condition can no longer hold (its parent lost those choices) is
dropped; ``when`` lists lose the values that went. Defaults, starts and grid levels outside
the narrowed space are moved to the best configuration's value or left out.

The narrowed spec is a full spec under a new name (``svm`` -> ``svm_refined``), so written to
a file it never shadows the built-in space, and inside Optuna its parameters have new names
(a new round is a new study: TPE refuses distributions that change within one study).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from automl.space.schema import AlgorithmSpec, ParamSpec, task_family

REFINED_SUFFIX = "_refined"
# widening of the top configurations' span on each side, as a share of that span
MARGIN = 0.25
# the least widening on each side, as a share of the original span
MIN_SHARE = 0.05
# significant digits of a narrowed float bound (rounded outwards)
DIGITS = 3


def refined_name(algorithm: str) -> str:
    """``svm`` -> ``svm_refined``; a refined space refined again keeps its name."""
    return algorithm if algorithm.endswith(REFINED_SUFFIX) else algorithm + REFINED_SUFFIX


def base_algorithm(algorithm: str) -> str:
    """The algorithm a refined space was narrowed from (``svm_refined`` -> ``svm``)."""
    return algorithm.removesuffix(REFINED_SUFFIX)


@dataclass(frozen=True)
class ParamChange:
    """What narrowing did to one parameter, for the user to read."""

    algorithm: str
    param: str
    before: str
    after: str


def narrow_spec(
    spec: AlgorithmSpec,
    task: str,
    top: Sequence[Mapping[str, Any]],
    best: Mapping[str, Any],
    margin: float = MARGIN,
    min_share: float = MIN_SHARE,
) -> tuple[AlgorithmSpec, list[ParamChange]]:
    """``spec`` narrowed to the region of the ``top`` configurations (``best`` among them).

    Parameters not used by ``task`` and parameters no top configuration set (e.g. rounds
    found by early stopping) keep their declared space.
    """
    family = task_family(task)
    name = refined_name(spec.name)
    kept: dict[str, ParamSpec] = {}
    changes: list[ParamChange] = []
    for p in spec.params:
        when = _surviving_when(p, kept)
        if when is None:
            changes.append(
                ParamChange(
                    name, p.name, _describe(p), "dropped (its condition can no longer hold)"
                )
            )
            continue
        observed = [c[p.name] for c in top if p.name in c]
        if family not in p.tasks or not observed:
            kept[p.name] = dataclasses.replace(p, when=when)
            continue
        narrowed = _narrow_param(p, observed, best.get(p.name), margin, min_share)
        narrowed = dataclasses.replace(narrowed, when=when)
        kept[p.name] = narrowed
        if _describe(narrowed) != _describe(p):
            changes.append(ParamChange(name, p.name, _describe(p), _describe(narrowed)))
    refined = dataclasses.replace(
        spec,
        name=name,
        params=tuple(kept.values()),
        description=f"{spec.description} (narrowed from {spec.name})".strip(),
        source="",
    )
    return refined, changes


def _surviving_when(p: ParamSpec, kept: Mapping[str, ParamSpec]) -> dict[str, tuple] | None:
    """``p``'s condition restricted to the parents' remaining values; None if it cannot hold."""
    when: dict[str, tuple] = {}
    for parent, values in p.when.items():
        if parent not in kept:
            return None
        alive = tuple(v for v in values if kept[parent].contains(v))
        if not alive:
            return None
        when[parent] = alive
    return when


def _narrow_param(
    p: ParamSpec, observed: list[Any], best: Any, margin: float, min_share: float
) -> ParamSpec:
    if p.type == "categorical":
        choices = tuple(c for c in p.choices if any(_same(c, v) for v in observed))
        narrowed = dataclasses.replace(p, choices=choices)
    else:
        narrowed = _narrow_range(p, observed, margin, min_share)
    default = p.default
    if not narrowed.contains(default):
        default = best if best is not None and narrowed.contains(best) else observed[0]
    start = p.start if p.start is not None and narrowed.contains(p.start) else None
    levels = tuple(v for v in p.levels if narrowed.contains(v))
    why = f"narrowed from {_describe(p)} around the best trials of the last round. {p.why}"
    return dataclasses.replace(
        narrowed, default=default, start=start, levels=levels, why=why.strip()
    )


def _narrow_range(p: ParamSpec, observed: list[Any], margin: float, min_share: float) -> ParamSpec:
    low, high = p.bounds
    forward = math.log if p.log else float
    backward = math.exp if p.log else float
    points = [forward(v) for v in observed]
    lo, hi = min(points), max(points)
    pad = max(margin * (hi - lo), min_share * (forward(high) - forward(low)))
    new_low = max(low, backward(lo - pad))
    new_high = min(high, backward(hi + pad))
    if p.type == "int":
        new_low, new_high = math.floor(new_low), math.ceil(new_high)
        if new_low == new_high:  # one integer left: keep a range the sampler can use
            new_low, new_high = max(int(low), new_low - 1), min(int(high), new_high + 1)
        return dataclasses.replace(p, low=int(new_low), high=int(new_high))
    new_low = max(low, _round(new_low, math.floor))
    new_high = min(high, _round(new_high, math.ceil))
    return dataclasses.replace(p, low=float(new_low), high=float(new_high))


def _round(value: float, direction: Any) -> float:
    """``value`` to DIGITS significant digits, rounded in ``direction`` (floor or ceil)."""
    if value == 0:
        return 0.0
    scale = 10 ** (DIGITS - 1 - math.floor(math.log10(abs(value))))
    return direction(value * scale) / scale


def _same(choice: Any, value: Any) -> bool:
    return choice == value and type(choice) is type(value)


def _describe(p: ParamSpec) -> str:
    if p.type == "categorical":
        return ", ".join(str(c) for c in p.choices)
    scale = " (log)" if p.log else ""
    return f"{p.low:g} .. {p.high:g}{scale}"
