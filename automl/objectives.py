"""Deployment objectives: a model's predict latency and size, next to its accuracy.

``objectives=["roc_auc", "predict_latency", "model_size"]`` (any subset of the costs, the
accuracy metric first) makes the search multi-objective; ``constraints={"predict_latency":
5}`` marks trials over a bound as infeasible (Optuna's ``Trial.set_constraint``, which TPE
learns from), with or without the cost as an objective. Both costs are measured in the
worker, on the model a trial fitted on its last training fold:

- ``predict_latency``: milliseconds to predict a batch of 1,000 rows (``predict_proba``
  for classifiers) in one thread, the median of ``LATENCY_REPEATS`` calls after one
  warm-up call (the first call pays for lazy initialisation the others do not);
- ``model_size``: megabytes of the fitted pipeline pickled (what a model file holds
  before compression).

A measured time depends on the machine and its load, so a seeded multi-objective search
is not exactly reproducible: the accuracy of each trial is, its latency is not, and
through the sampler the latencies steer which trials come next.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from automl.evaluation import pickled_size, take_rows
from automl.exceptions import InvalidParameterError, did_you_mean
from automl.space.schema import COST_OBJECTIVES

LATENCY, SIZE = COSTS = COST_OBJECTIVES
# the user attribute and leaderboard column of each cost, with its unit
COST_COLUMNS = {LATENCY: "predict_latency_ms", SIZE: "model_size_mb"}
COST_UNITS = {LATENCY: "ms per 1,000 rows", SIZE: "MB"}
LATENCY_BATCH = 1000
LATENCY_REPEATS = 5
# the user attribute that keeps each constraint's value minus its bound (feasible when
# every one is <= 0), as the leaderboard and the front read it
CONSTRAINTS_ATTR = "constraint_excess"


def check_objectives(objectives: Sequence[str] | None, metric: Any) -> tuple[Any, tuple[str, ...]]:
    """``(accuracy metric, cost objectives)`` from ``objectives`` and ``metric``.

    The first objective is the accuracy metric and replaces ``metric``; the others are
    among :data:`COSTS`, each once.
    """
    if objectives is None:
        return metric, ()
    if isinstance(objectives, str) or not isinstance(objectives, Sequence) or not objectives:
        raise InvalidParameterError(
            "The 'objectives' parameter must be a list: the accuracy metric first, then any "
            f"of {list(COSTS)}, e.g. ['roc_auc', 'predict_latency']; got {objectives!r}."
        )
    if metric is not None:
        raise InvalidParameterError(
            f"Give either 'metric' ({metric!r}) or 'objectives' ({list(objectives)}), not "
            "both: the first objective is the metric."
        )
    first, costs = objectives[0], tuple(objectives[1:])
    if first in COSTS:
        raise InvalidParameterError(
            f"objectives[0] must be the accuracy metric (e.g. 'roc_auc'), not the cost "
            f"{first!r}; put the costs after it."
        )
    unknown = [c for c in costs if c not in COSTS]
    if unknown:
        raise InvalidParameterError(
            f"Unknown objective {unknown[0]!r} after the metric."
            f"{did_you_mean(str(unknown[0]), COSTS)} The costs that can be objectives: "
            f"{list(COSTS)}."
        )
    if len(set(costs)) != len(costs):
        raise InvalidParameterError(f"objectives lists a cost twice: {list(objectives)}.")
    return first, costs


def check_constraints(constraints: Mapping[str, float] | None) -> dict[str, float]:
    """``{cost: bound}``: latency in ms per 1,000 rows, size in MB; each bound positive."""
    if constraints is None:
        return {}
    if not isinstance(constraints, Mapping):
        raise InvalidParameterError(
            "The 'constraints' parameter must be a dict such as {'predict_latency': 5, "
            f"'model_size': 10}} (ms per 1,000 rows, MB); got {constraints!r}."
        )
    out = {}
    for name, bound in constraints.items():
        if name not in COSTS:
            raise InvalidParameterError(
                f"Unknown constraint {name!r}.{did_you_mean(str(name), COSTS)} Constraints "
                f"bound {list(COSTS)} (ms per 1,000 rows, MB)."
            )
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not bound > 0:
            raise InvalidParameterError(
                f"constraints[{name!r}] must be a positive number ({COST_UNITS[name]}); got "
                f"{bound!r}."
            )
        out[name] = float(bound)
    return out


def measure_costs(
    model: Any, X: Any, rows: np.ndarray, classification: bool, costs: Sequence[str]
) -> dict[str, float]:
    """The costs named in ``costs`` of a fitted ``model`` (see the module docstring)."""
    out: dict[str, float] = {}
    if SIZE in costs:
        out[SIZE] = pickled_size(model) / 1e6
    if LATENCY in costs:
        batch = take_rows(X, np.resize(rows, LATENCY_BATCH))
        predict = model.predict_proba if classification else model.predict
        predict(batch)  # warm-up
        times = []
        for _ in range(LATENCY_REPEATS):
            started = time.perf_counter()
            predict(batch)
            times.append(time.perf_counter() - started)
        out[LATENCY] = float(np.median(times)) * 1000
    return out


def constraint_excess(costs: Mapping[str, float], constraints: Mapping[str, float]) -> list[float]:
    """Each constraint's measured value minus its bound (<= 0: met), in ``constraints`` order."""
    return [costs.get(name, math.inf) - bound for name, bound in constraints.items()]


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` (to minimise, one column per objective) that
    no other row dominates (as good in every column and better in one)."""
    points = np.asarray(points, dtype=float)
    keep = np.ones(len(points), dtype=bool)
    for i, p in enumerate(points):
        dominated_by = np.all(points <= p, axis=1) & np.any(points < p, axis=1)
        keep[i] = not dominated_by.any()
    return keep
