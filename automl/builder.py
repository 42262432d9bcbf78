"""One code path from (algorithm, configuration) to a scikit-learn Pipeline.

The search builds each trial's pipeline here, and the refit replays the best trial's
parameters through the same function (via ``optuna.trial.FixedTrial``), so what is
refit is exactly what was scored.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from sklearn.decomposition import PCA
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline

from automl.adapters import BuildContext, constructor_params, load_adapter
from automl.data import DatasetProfile
from automl.exceptions import InvalidParameterError, did_you_mean
from automl.preprocessing import build_preprocessor, categorical_positions, preprocessing_params
from automl.space.schema import AlgorithmSpec, EarlyStopping, ParamSpec, task_family
from automl.space.suggest import ALGORITHM_KEY, is_active, opening_config, suggest_config


@dataclass(frozen=True)
class Candidate:
    """An algorithm ready for one task: its spec and every parameter searched for it."""

    spec: AlgorithmSpec
    params: tuple[ParamSpec, ...]
    # on when the rounds are found by early stopping in each fold rather than searched
    early_stopping: EarlyStopping | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def opening_config(self) -> dict[str, Any]:
        return opening_config(self.params)

    def max_rounds(self) -> int:
        """The rounds a fold may fit before early stopping: the top of their declared range."""
        if self.early_stopping is None:
            raise ValueError(f"{self.name} has no early stopping")
        rounds = next(p for p in self.spec.params if p.name == self.early_stopping.rounds)
        return int(rounds.bounds[1])


# Folds on which TunedThresholdClassifierCV picks a decision threshold (it then refits on all
# the rows it was given): 3 rather than its default 5, since it runs inside every trial.
THRESHOLD_FOLDS = 3

# A classification task is imbalanced when its rarest class holds less than this share of
# the rows; class balancing is then searched for the learners that declare [balanced].
IMBALANCE_SHARE = 0.10

BALANCE_PARAM = ParamSpec(
    name="balanced",
    type="categorical",
    choices=(False, True),
    default=False,
    tasks=("classification",),
    why="class weights by inverse frequency, or none (the learner's default), searched only "
    f"when the rarest class holds under {IMBALANCE_SHARE:.0%} of the rows",
    target="balance",
)


# Clustering searches an optional PCA between the preprocessing and the clusterer.
REDUCE_PARAM = ParamSpec(
    name="pca",
    type="categorical",
    choices=(False, True),
    default=False,
    tasks=("clustering",),
    why="clusters may separate better in the main directions of variation than in all "
    "columns (noise columns blur distances); searched, not assumed",
    target="reduce",
)
REDUCE_VARIANCE_PARAM = ParamSpec(
    name="pca_variance",
    type="float",
    low=0.5,
    high=0.99,
    default=0.9,
    when={"pca": (True,)},
    tasks=("clustering",),
    why="share of the variance the kept components explain (PCA picks their number): "
    "0.5 keeps the few strongest directions, 0.99 nearly all",
    target="reduce",
)


def make_candidate(
    spec: AlgorithmSpec, task: str, imbalanced: bool = False, early_stopping: bool = False
) -> Candidate:
    """``spec`` ready for ``task``; with ``imbalanced``, class balancing is searched too
    (for learners whose space file declares ``[balanced]``); with ``early_stopping``, the
    rounds of a learner whose file declares ``[early_stopping]`` are found in each fold
    instead of searched (the parameter leaves the space)."""
    params = preprocessing_params(spec.preprocessing) + spec.params_for(task)
    if task == "clustering":
        params = preprocessing_params(spec.preprocessing) + (REDUCE_PARAM, REDUCE_VARIANCE_PARAM)
        params += spec.params_for(task)
    if imbalanced and spec.balanced and task != "regression":
        params += (BALANCE_PARAM,)
    stopping = spec.early_stopping if early_stopping else None
    if stopping is not None:
        params = tuple(p for p in params if p.name != stopping.rounds)
    return Candidate(spec, params, stopping)


def is_imbalanced(y: Any, task: str) -> bool:
    """Whether the rarest class of a classification target is under ``IMBALANCE_SHARE``."""
    if task == "regression":
        return False
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return bool(counts.min() / counts.sum() < IMBALANCE_SHARE)


def estimator_class(spec: AlgorithmSpec, task: str) -> type:
    """Import the estimator class a space file names for ``task``."""
    module, _, name = spec.estimators[task_family(task)].partition(":")
    return getattr(importlib.import_module(module), name)


def build_pipeline(
    candidate: Candidate,
    config: dict[str, Any],
    profile: DatasetProfile,
    random_state: int | None,
    smoke: bool = False,
    tune_threshold_for: str | None = None,
) -> Pipeline:
    """The pipeline for ``config``: preprocessing for the algorithm, then its estimator.

    ``smoke=True`` applies the space file's ``[smoke]`` values (tiny fits, for tests).
    ``tune_threshold_for`` (a scikit-learn scorer name, binary tasks): the estimator is
    wrapped in ``TunedThresholdClassifierCV``, which picks the decision threshold that
    maximises that metric by cross-validation on the rows it is fitted on.
    """
    spec = candidate.spec
    targets = {p.name: p.target for p in candidate.params}
    pre_config = {k: v for k, v in config.items() if targets.get(k) == "preprocessing"}
    est_params = {
        **spec.fixed,
        **{k: v for k, v in config.items() if targets.get(k, "estimator") == "estimator"},
    }
    if config.get(BALANCE_PARAM.name) and targets.get(BALANCE_PARAM.name) == "balance":
        est_params.update(spec.balanced)
    if candidate.early_stopping is not None and candidate.early_stopping.rounds not in config:
        est_params[candidate.early_stopping.rounds] = candidate.max_rounds()
    if smoke:
        est_params.update(spec.smoke)
    cls = estimator_class(spec, profile.task)
    seedable = "random_state" not in est_params and "random_state" in constructor_params(cls)
    if random_state is not None and seedable:
        est_params["random_state"] = random_state
    context = BuildContext(
        task=profile.task,
        categorical_positions=tuple(categorical_positions(profile, spec.preprocessing)),
        n_features_out=profile.n_features,
        n_rows=profile.n_rows,
    )
    if spec.adapter:
        estimator = load_adapter(spec.adapter).build(cls, est_params, context)
    else:
        estimator = cls(**est_params)
    if tune_threshold_for is not None and profile.task == "binary":
        estimator = TunedThresholdClassifierCV(
            estimator,
            scoring=tune_threshold_for,
            cv=THRESHOLD_FOLDS,
            random_state=random_state,
        )
    preprocessor = build_preprocessor(
        profile, spec.preprocessing, pre_config, random_state, spec.categorical_codes
    )
    steps: list[tuple[str, Any]] = [("preprocess", preprocessor)]
    if config.get(REDUCE_PARAM.name) and targets.get(REDUCE_PARAM.name) == "reduce":
        share = config[REDUCE_VARIANCE_PARAM.name]
        steps.append(("reduce", PCA(n_components=share, svd_solver="full")))
    return Pipeline([*steps, ("model", estimator)])


def sample_config(
    trial: optuna.trial.BaseTrial, candidates: dict[str, Candidate]
) -> tuple[str, dict[str, Any]]:
    """Let ``trial`` choose the algorithm, then its active parameters (plain names).

    The search calls it with a live trial; the refit replays the best trial's parameters
    through it with ``optuna.trial.FixedTrial``; both then build with :func:`build_pipeline`.
    """
    algorithm = trial.suggest_categorical(ALGORITHM_KEY, list(candidates))
    return algorithm, suggest_config(trial, algorithm, candidates[algorithm].params)


def complete_config(candidate: Candidate, given: dict[str, Any]) -> dict[str, Any]:
    """A user's (partial) configuration, checked and completed with default values.

    Parameters the user left out take their ``default``; parameters that the given values
    make inactive are an error, as are unknown names and values outside the space.
    """
    known = {p.name: p for p in candidate.params}
    stopping = candidate.early_stopping
    if stopping is not None and stopping.rounds in given:
        raise InvalidParameterError(
            f"Configuration for {candidate.name!r} names {stopping.rounds!r}, which early "
            "stopping finds in each fold. Remove it, or pass early_stopping=False to search it."
        )
    for name, value in given.items():
        if name not in known:
            raise InvalidParameterError(
                f"Configuration for {candidate.name!r} names {name!r}, which is not in its "
                f"space.{did_you_mean(name, known)} Parameters: {sorted(known)}."
            )
        if not known[name].contains(value):
            raise InvalidParameterError(
                f"Configuration for {candidate.name!r}: {name}={value!r} is outside the space "
                f"({_describe(known[name])})."
            )
    config: dict[str, Any] = {}
    for p in candidate.params:
        if is_active(p, config):
            config[p.name] = given.get(p.name, p.default)
    inactive = sorted(set(given) - set(config))
    if inactive:
        raise InvalidParameterError(
            f"Configuration for {candidate.name!r}: {inactive} do not apply with the other "
            f"values given (see their 'when' conditions in {candidate.spec.source})."
        )
    return config


def _describe(p: ParamSpec) -> str:
    if p.type == "categorical":
        return f"choices {list(p.choices)}"
    return f"{p.type} in [{p.low}, {p.high}]"


def takes_sample_weight(estimator: Any) -> bool:
    """Whether ``estimator.fit`` uses a ``sample_weight``."""
    if "sample_weight" in inspect.signature(estimator.fit).parameters:
        return True
    # TransformedTargetRegressor passes its fit parameters on: its regressor decides.
    # (TunedThresholdClassifierCV takes them only with scikit-learn's metadata routing on.)
    inner = getattr(estimator, "regressor", None)
    return inner is not None and takes_sample_weight(inner)


def weight_params(pipeline: Pipeline, sample_weight: Any) -> dict[str, Any]:
    """The fit parameters that hand ``sample_weight`` to the pipeline's estimator, if it
    takes one (none otherwise: the caller says so to the user)."""
    name, estimator = pipeline.steps[-1]
    if sample_weight is None or not takes_sample_weight(estimator):
        return {}
    return {f"{name}__sample_weight": sample_weight}
