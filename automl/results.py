"""Tables and lines built from a finished search: the results layer.

- :func:`leaderboard`: one row per trial, best first (``leaderboard_``);
- :func:`cv_results`: the search in ``GridSearchCV.cv_results_`` shape (``cv_results_``);
- :func:`summary`: the few lines a user reads first, nested estimate included.

The estimators build their fitted attributes from these; the report reads them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from automl.cluster_scores import CLUSTER_METRICS, CLUSTER_SCORES
from automl.evaluation import Metric
from automl.objectives import CONSTRAINTS_ATTR, COST_COLUMNS, non_dominated
from automl.search.study import meets_constraints
from automl.space.suggest import trial_configuration

CLUSTER_COLUMNS = ("n_clusters", "noise_share", *CLUSTER_METRICS)
STATE_NAMES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}


def leaderboard(study: optuna.Study, metric: Metric, n_splits: int) -> pd.DataFrame:
    """One row per trial, best first: algorithm, plain-named parameters, fold scores, times.

    Scores are in the metric's natural sign. ``reason`` says why a trial did not complete:
    ``error``, ``timeout``, ``memory``, ``crashed`` or ``interrupted`` (failed; the message
    is in ``error``), ``worker lost`` (its Dask worker left the cluster), ``pruned``,
    ``stopped`` (by the time budget) or ``skipped`` (not run; the note says why).
    ``worker`` says where the trial ran: ``host:pid`` of a local worker process, or the
    address of a Dask worker.
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        if "algorithm" not in t.params:
            continue
        algorithm, params = trial_configuration(t)
        folds = t.user_attrs.get("fold_scores", [])
        complete = t.state == TrialState.COMPLETE
        row: dict[str, Any] = {
            "trial": t.number,
            "algorithm": algorithm,
            "params": params,
            metric.name: float(np.mean(folds)) if complete else np.nan,
            "std": float(np.std(folds)) if complete else np.nan,
            "fit_time": t.user_attrs.get("fit_time", np.nan),
            "state": STATE_NAMES.get(t.state, str(t.state)),
            "reason": _reason(t),
            "worker": t.user_attrs.get("worker", ""),
            "error": t.user_attrs.get("error", ""),
            "note": t.user_attrs.get("skipped") or t.user_attrs.get("pruned") or "",
        }
        for i in range(n_splits):
            row[f"fold{i}"] = folds[i] if i < len(folds) else np.nan
        for column in COST_COLUMNS.values():
            row[column] = t.user_attrs.get(column, np.nan)
        for name, value in t.user_attrs.get(CLUSTER_SCORES, {}).items():
            if name != metric.name:  # the objective is the metric's own column
                row[name] = value
        if CONSTRAINTS_ATTR in t.user_attrs:
            row["feasible"] = meets_constraints(t)
        rows.append(row)
    columns = [
        "trial",
        "algorithm",
        metric.name,
        "std",
        *[f"fold{i}" for i in range(n_splits)],
        "fit_time",
        # measured only in a search with latency or size as objective or constraint
        *[c for c in COST_COLUMNS.values() if any(not pd.isna(r[c]) for r in rows)],
        *(["feasible"] if any("feasible" in r for r in rows) else []),
        # a clustering search's other scores (automl.cluster_scores)
        *[c for c in CLUSTER_COLUMNS if c != metric.name and any(c in r for r in rows)],
        "state",
        "reason",
        "worker",
        "params",
        "error",
        "note",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(
        metric.name, ascending=not metric.greater_is_better, na_position="last", kind="stable"
    )
    return frame.reset_index(drop=True)


def pareto_front(study: optuna.Study, metric: Metric, costs: tuple[str, ...]) -> pd.DataFrame:
    """The complete trials no other complete trial beats on every objective, most accurate
    first: trial, algorithm, the metric, each cost, ``feasible`` (meets the constraints;
    only trials that do are on the front when any does) and the parameters."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    feasible = [t for t in complete if meets_constraints(t)]
    trials = feasible or complete
    columns = [
        "trial",
        "algorithm",
        metric.name,
        *(COST_COLUMNS[c] for c in costs),
        "feasible",
        "params",
    ]
    if not trials:
        return pd.DataFrame(columns=columns)
    sign = -1.0 if metric.greater_is_better else 1.0
    points = np.array([[sign * t.values[0], *t.values[1:]] for t in trials])
    rows = []
    for t, on_front in zip(trials, non_dominated(points)):
        if on_front:
            algorithm, params = trial_configuration(t)
            rows.append(
                [t.number, algorithm, t.values[0], *t.values[1:], meets_constraints(t), params]
            )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(
        metric.name, ascending=not metric.greater_is_better, kind="stable", ignore_index=True
    )


def _reason(trial: optuna.trial.FrozenTrial) -> str:
    attrs = trial.user_attrs
    if trial.state == TrialState.FAIL:
        return attrs.get("reason", "error")
    if trial.state == TrialState.PRUNED:
        if "skipped" in attrs:
            return "skipped"
        return "stopped" if str(attrs.get("pruned", "")).startswith("stopped") else "pruned"
    return ""


def cv_results(study: optuna.Study, metric: Metric, n_splits: int) -> dict[str, Any]:
    """The search in the shape of ``GridSearchCV.cv_results_`` (scores greater-is-better).

    Trials that did not complete have NaN scores and the worst rank.
    """
    trials = [t for t in study.get_trials(deepcopy=False) if "algorithm" in t.params]
    plain = [trial_configuration(t) for t in trials]
    params = [{"algorithm": algorithm, **values} for algorithm, values in plain]
    n = len(trials)
    results: dict[str, Any] = {"params": params}
    names = sorted({k for p in params for k in p})
    for name in names:
        column = np.ma.masked_all(n, dtype=object)
        for i, p in enumerate(params):
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    split_scores = np.full((n, n_splits), np.nan)
    for i, t in enumerate(trials):
        if t.state == TrialState.COMPLETE:
            folds = t.user_attrs.get("fold_scores", [])
            split_scores[i, : len(folds)] = [metric.to_sklearn(v) for v in folds]
    for k in range(n_splits):
        results[f"split{k}_test_score"] = split_scores[:, k]
    mean = split_scores.mean(axis=1)
    results["mean_test_score"] = mean
    results["std_test_score"] = split_scores.std(axis=1)
    order = np.where(np.isnan(mean), -np.inf, mean)
    ranks = np.empty(n, dtype=np.int32)
    ranks[np.argsort(-order, kind="stable")] = np.arange(1, n + 1)
    results["rank_test_score"] = ranks
    results["mean_fit_time"] = np.array(
        [t.user_attrs.get("fit_time", np.nan) / n_splits for t in trials]
    )
    results["mean_score_time"] = np.array(
        [t.user_attrs.get("score_time", np.nan) / n_splits for t in trials]
    )
    results["state"] = np.array([STATE_NAMES.get(t.state, str(t.state)) for t in trials])
    return results


def summary(model: Any) -> str:
    """A few lines a user reads first: the winner, its inner score, and the honest estimate.

    With nested CV, the outer estimate and its interval stand next to the inner best, so
    the optimism of the inner score is in plain sight.
    """
    metric = model.metric_
    null = getattr(model, "null_reference_", None)
    if null is not None:  # a clustering
        return (
            f"Best: {model.best_algorithm_}, {metric} {model.best_score_:.4f}, "
            f"{model.n_clusters_} clusters; {model.n_trials_} trials, {model.fit_time_:.1f}s.\n"
            f"Null reference: {null['verdict']}."
        )
    lines = [
        f"Best: {model.best_algorithm_}, inner {model.n_splits_}-fold CV {metric} "
        f"{model.best_score_:.4f} (dummy model {model.dummy_score_:.4f}); "
        f"{model.n_trials_} trials, {model.fit_time_:.1f}s."
    ]
    members = getattr(model, "ensemble_", None)
    if members is not None:
        lines.append(
            f"Final model: an ensemble of {len(members)} trials ("
            + ", ".join(f"{r.algorithm} {r.weight:.2f}" for r in members.itertuples())
            + f"), CV {metric} {model.ensemble_score_:.4f}: optimistic, chosen on the "
            "same folds."
        )
    nested = getattr(model, "nested_cv_", None)
    if nested is not None:
        low, high = nested.ci
        lines.append(
            f"Expected on new data (nested CV, {len(nested.folds)} outer folds): {metric} "
            f"{nested.mean:.4f} ± {nested.std:.4f}, 95% CI [{low:.4f}, {high:.4f}]; the inner "
            f"best of those searches was {nested.inner_mean:.4f} (optimism "
            f"{nested.optimism:+.4f})."
        )
        lines.append(
            "Algorithms chosen per outer fold: "
            + ", ".join(f"{a} {n}/{len(nested.folds)}" for a, n in nested.selection.items())
            + "."
        )
    return "\n".join(lines)
