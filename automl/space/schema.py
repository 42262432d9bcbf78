"""The in-memory form of a search space file: what one algorithm is and what may be tuned."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

# Version 2 added the plugin keys (adapter by import path, trusted_types, install,
# categorical_codes) and [balanced]; version 3 a parameter's `drives`. Older files still load.
SCHEMA_VERSION = 3
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3)
# The deployment costs a parameter can drive (`drives`): the objectives of automl.objectives.
COST_OBJECTIVES = ("predict_latency", "model_size")
TASK_FAMILIES = ("classification", "regression", "clustering")
PREPROCESSING_KINDS = ("scaled", "ordinal", "native")
PARAM_TYPES = ("float", "int", "categorical")
# How the ``native`` preprocessing hands categorical columns to the learner: as float codes
# with NaN for missing and unseen values (LightGBM, XGBoost, HistGradientBoosting), or as
# integer codes in a DataFrame, missing and unseen values with codes of their own, for
# learners that refuse float categories (CatBoost).
CATEGORICAL_CODES = ("float", "integer")

Task = Literal["binary", "multiclass", "regression", "clustering"]


def task_family(task: str) -> str:
    """Map a task (binary, multiclass, regression, clustering) to the estimator family it
    needs."""
    if task in ("regression", "clustering"):
        return task
    return "classification"


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter, named as the estimator names it.

    ``when`` maps earlier parameters to the values under which this one is active;
    ``target`` says whether the value goes to the estimator or to the preprocessing.
    """

    name: str
    type: str
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    start: Any = None
    when: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    levels: tuple[Any, ...] = ()
    tasks: tuple[str, ...] = TASK_FAMILIES
    why: str = ""
    target: Literal["estimator", "preprocessing", "balance", "reduce"] = "estimator"
    # the costs (COST_OBJECTIVES) that grow with this parameter's value
    drives: tuple[str, ...] = ()

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of an int or float parameter."""
        if self.low is None or self.high is None:
            raise TypeError(f"parameter {self.name!r} is {self.type}: it has no bounds")
        return self.low, self.high

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a value this parameter can take."""
        if self.type == "categorical":
            return any(value == c and type(value) is type(c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.type == "int" and not float(value).is_integer():
            return False
        low, high = self.bounds
        return low <= value <= high

    def grid_levels(self) -> tuple[Any, ...]:
        """Values a grid search tries: declared ``levels``, else a few spread over the range."""
        if self.levels:
            return self.levels
        if self.type == "categorical":
            return self.choices
        low, high = self.bounds
        mid = math.sqrt(low * high) if self.log else (low + high) / 2
        values = [low, mid, high, self.default]
        if self.type == "int":
            values = [int(round(v)) for v in values]
        return tuple(sorted(set(values)))


@dataclass(frozen=True)
class EarlyStopping:
    """How a boosting learner stops adding rounds: ``[early_stopping]`` in its space file.

    ``rounds`` names the integer parameter that counts rounds (``n_estimators``); while
    early stopping is on it is not searched: each fold fits up to its ``high`` and stops
    after ``patience`` rounds without improvement on a validation part of the fold's
    training rows, and the refit uses the rounds found. The adapter module does the
    library's part (``fit_early_stopped``, see :mod:`automl.adapters`).
    """

    rounds: str
    patience: int


@dataclass(frozen=True)
class AlgorithmSpec:
    """One algorithm: its estimator per task family, preprocessing, cost and parameters.

    ``adapter`` is an import path ``"module:function"`` (a bare name in a file means one of
    automl's own, ``automl.adapters.<name>:build``); ``trusted_types`` are the types beyond
    automl's preprocessing that the fitted estimator holds, trusted when a model file that
    uses this algorithm is loaded; ``install`` is the line that installs what ``requires``.
    """

    name: str
    estimators: dict[str, str]
    params: tuple[ParamSpec, ...]
    preprocessing: str = "scaled"
    fixed: dict[str, Any] = field(default_factory=dict)
    smoke: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    cost: float = 1.0
    max_rows: int | None = None
    adapter: str | None = None
    trusted_types: tuple[str, ...] = ()
    install: str = ""
    categorical_codes: str = "float"
    balanced: dict[str, Any] = field(default_factory=dict)
    early_stopping: EarlyStopping | None = None
    description: str = ""
    source: str = ""

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks this algorithm can do."""
        out: list[str] = []
        if "classification" in self.estimators:
            out += ["binary", "multiclass"]
        if "regression" in self.estimators:
            out.append("regression")
        if "clustering" in self.estimators:
            out.append("clustering")
        return tuple(out)

    def supports(self, task: str) -> bool:
        return task_family(task) in self.estimators

    def params_for(self, task: str) -> tuple[ParamSpec, ...]:
        """The parameters that apply to ``task``, in file order."""
        family = task_family(task)
        return tuple(p for p in self.params if family in p.tasks)
