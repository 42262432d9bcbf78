"""One-call functions: ``fit`` a model, list the algorithms, check a space file."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from automl.clusterer import AutoMLClusterer
from automl.data import check_sample_weight, validate_data
from automl.estimators import AutoMLClassifier, AutoMLRegressor
from automl.execution import warm_up
from automl.registry import is_installed, load_registry
from automl.space.check import check_space


def fit(
    X: Any,
    y: Any = None,
    *,
    target: str | None = None,
    task: str | None = None,
    column_kinds: Mapping[str, str] | None = None,
    groups: Any = None,
    sample_weight: Any = None,
    **settings: Any,
) -> AutoMLClassifier | AutoMLRegressor:
    """Search the best pipeline for a table in one call.

    Parameters
    ----------
    X : DataFrame or array-like
        The features, or the whole table when ``target`` names the target column.
    y : array-like, optional
        The target, if not a column of X.
    target : str, optional
        Name of the target column in X.
    task : {"binary", "multiclass", "regression"}, optional
        Override the task inferred from the target.
    column_kinds : dict, optional
        Override inferred column kinds, e.g. ``{"zip": "categorical"}``.
    groups : array-like, optional
        Group labels for grouped cross-validation.
    sample_weight : array-like, optional
        Row weights for every fit and score (see :meth:`AutoMLClassifier.fit`).
    **settings
        Any parameter of :class:`AutoMLClassifier` (``time_budget``, ``n_trials``,
        ``metric``, ``cv``, ``strategy``, ``algorithms``, ``random_state``, ...).

    Returns
    -------
    AutoMLClassifier or AutoMLRegressor
        Fitted; ``best_pipeline_``, ``leaderboard_`` and ``best_score_`` hold the result.

    Examples
    --------
    >>> import automl
    >>> from sklearn.datasets import load_breast_cancer
    >>> df = load_breast_cancer(as_frame=True).frame
    >>> result = automl.fit(df, target="target", n_trials=4, time_budget=None, cv=3,
    ...                     random_state=0)
    >>> result.best_pipeline_.predict(df.drop(columns="target").iloc[:2]).shape
    (2,)
    """
    started = time.monotonic()  # the time budget counts from here
    if settings.get("executor", "processes") == "processes" and not settings.get("scheduler"):
        warm_up()
    frame, y_arr, profile = validate_data(X, y, target=target, task=task, column_kinds=column_kinds)
    estimator = _estimator(profile.task, task, column_kinds, settings)
    weights = check_sample_weight(sample_weight, len(frame), y_arr, profile.task)
    return estimator._fit_validated(frame, y_arr, profile, groups, started, weights)


def refine(
    X: Any,
    y: Any = None,
    *,
    study: str,
    target: str | None = None,
    task: str | None = None,
    column_kinds: Mapping[str, str] | None = None,
    time_budget: float | None = 60.0,
    space: Any = None,
    top_k: int | None = None,
    space_dir: str | Path | None = None,
    groups: Any = None,
    sample_weight: Any = None,
    **settings: Any,
) -> AutoMLClassifier | AutoMLRegressor:
    """Refine a finished search stored in ``settings["storage"]``: one more round.

    ``study`` names the round to refine; ``settings`` are the estimator parameters of that
    search (``storage``, ``metric``, ``cv``, ``random_state``, ... as given to :func:`fit`);
    the rest is :meth:`AutoMLClassifier.refine`. ``automl fit --refine RUN_DIR`` calls this.
    """
    frame, y_arr, profile = validate_data(X, y, target=target, task=task, column_kinds=column_kinds)
    estimator = _estimator(profile.task, task, column_kinds, settings)
    return estimator.refine(
        frame,
        y_arr,
        time_budget=time_budget,
        space=space,
        top_k=top_k,
        space_dir=space_dir,
        study=study,
        groups=groups,
        sample_weight=sample_weight,
    )


def cluster(
    X: Any,
    *,
    time_budget: float | None = 60.0,
    evaluate_with: Any = None,
    **settings: Any,
) -> AutoMLClusterer:
    """Search a clustering of a table in one call (see :class:`AutoMLClusterer`).

    Examples
    --------
    >>> import automl
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    >>> model = automl.cluster(X, time_budget=None, n_trials=4, random_state=0,
    ...                        algorithms=["kmeans"])
    >>> model.labels_.shape
    (200,)
    """
    estimator = AutoMLClusterer(time_budget=time_budget, **settings)
    return estimator.fit(X, evaluate_with=evaluate_with)


def _estimator(
    inferred: str, task: str | None, column_kinds: Any, settings: dict[str, Any]
) -> AutoMLClassifier | AutoMLRegressor:
    """The estimator for the task the data has (``inferred``, after ``task`` overrode it)."""
    if inferred == "regression":
        return AutoMLRegressor(column_kinds=column_kinds, **settings)
    return AutoMLClassifier(task=task, column_kinds=column_kinds, **settings)


def list_algorithms(spaces: tuple[str | Path, ...] = ()) -> pd.DataFrame:
    """The registry as a table: name, tasks, preprocessing, requirements, installed."""
    rows = [
        {
            "algorithm": spec.name,
            "tasks": ", ".join(spec.tasks),
            "preprocessing": spec.preprocessing,
            "requires": ", ".join(spec.requires),
            "installed": is_installed(spec),
            "max_rows": spec.max_rows,
            "description": spec.description,
        }
        for spec in load_registry(spaces).values()
    ]
    return pd.DataFrame(rows)


__all__ = ["check_space", "cluster", "fit", "list_algorithms", "refine"]
