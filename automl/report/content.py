"""Report contents from a fitted estimator or a baseline: one JSON-ready dict for both.

The dict holds everything the renderers (:mod:`automl.report.markdown`,
:mod:`automl.report.html`) need, so ``automl report RUN_DIR`` renders again from
``report.json`` alone. Its keys (``schema_version`` 1):

- ``kind`` ("fit" or "baseline"), ``task``, ``metric``, ``greater_is_better``, ``cv``,
  ``n_splits``, ``best`` (the best algorithm), ``created``, ``automl_version``, ``timing``;
- ``data``: rows, columns by kind, dropped columns, missing cells, one entry per column,
  and ``class_balance`` or ``target_distribution`` (with a histogram);
- ``models``: one entry per algorithm, best first (its best trial for a fit, its default
  configuration for a baseline): ``mean``, ``std``, ``folds`` (scores on the shared
  folds), ``fit_time``, ``predict_ms_per_1000``, ``size_bytes``, ``state``, ``error``,
  ``params``, ``other_metrics`` and its row of ``comparison``;
- ``comparison``: the paired test against the best (:mod:`automl.comparison`) and
  ``not_worse``, the models not significantly worse than the best;
- ``nested``: ``NestedResult.to_dict()`` when the fit ran nested CV, else null;
- ``search``: for a fit, ``history`` (every trial: value, seconds since the start),
  ``params`` (score against each hyperparameter of the best algorithm) and ``importance``;
- ``diagnostics``: from out-of-fold predictions of the best model: confusion matrix, ROC
  and precision-recall curves, or predicted against true values and residuals.

Scores are in the metric's natural sign; missing values are null (strict JSON).
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from threadpoolctl import threadpool_limits

from automl.baselines import DUMMY, BaselineResult
from automl.comparison import compare_to_best
from automl.data import validate_data
from automl.evaluation import Split
from automl.objectives import COST_COLUMNS
from automl.report.data_summary import (
    classification_diagnostics,
    data_summary,
    jsonable,
    regression_diagnostics,
)
from automl.space.suggest import ALGORITHM_KEY, from_optuna_params

SCHEMA_VERSION = 1
ENSEMBLE_NOTE = (
    "weighted average of its members' predictions (fit time: theirs, summed); its CV "
    "score is optimistic, members and weights were chosen on these folds (nested CV "
    "measures it)"
)
OOF_FOLDS = 5  # for a fit whose cv is not an int (a holdout or a splitter object)


def from_baseline(result: BaselineResult, X: Any, y: Any) -> dict[str, Any]:
    """The report of a :func:`automl.baseline` result (X and y: the data it was run on)."""
    frame, y_arr, profile = _validate(X, y, result.profile)
    board = result.leaderboard
    models = []
    for _, row in board.iterrows():
        name = row["algorithm"]
        models.append(
            {
                "algorithm": name,
                "mean": row[result.metric],
                "std": row["std"],
                "folds": result.fold_scores.get(name, {}).get(result.metric, []),
                "other_metrics": {
                    m: {"mean": row[m], "std": row[f"{m}_std"]}
                    for m in _other_metrics(board, result.metric)
                },
                "fit_time": row["fit_time"],
                "predict_ms_per_1000": row["predict_ms_per_1000"],
                "size_bytes": row["size_bytes"],
                "state": row["state"],
                "error": row["error"],
                "note": row["note"],
                "params": result.configs.get(name, {}),
                "trial": None,
            }
        )
    best = result.best_algorithm
    diagnostics = _diagnostics(y_arr, result.oof[best], result.task, result.classes)
    return _assemble(
        kind="baseline",
        task=result.task,
        metric=result.metric,
        greater_is_better=result.greater_is_better,
        models=models,
        best=best,
        n_splits=result.n_splits,
        ratio=result.n_test / result.n_train,
        data=data_summary(frame, y_arr, profile),
        cv=f"{result.cv}, seed {result.random_state}",
        nested=None,
        search=None,
        diagnostics={
            **diagnostics,
            "algorithm": best,
            "folds": f"out-of-fold predictions on the leaderboard's {result.n_splits} "
            f"folds ({result.cv})",
        },
        timing={"elapsed": result.elapsed},
    )


def from_estimator(model: Any, X: Any, y: Any) -> dict[str, Any]:
    """The report of a fitted AutoMLClassifier/AutoMLRegressor (X, y: the data it was fit on).

    It only reads: each algorithm's size and predict time, and the diagnostics'
    out-of-fold predictions, were measured once by the search (``best_per_algorithm_``,
    ``oof_predictions_``) on the folds it used (``cv_splits_``). Nothing is refit.
    """
    frame, y_arr, profile = _validate(X, y, model.profile_)
    task, metric = profile.task, model.metric_
    greater = model.study_.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    splits = model.cv_splits_
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test_total = float(sum(len(te) for _, te in splits))
    study = model.study_
    models = _ensemble_entry(model) + _best_trials(model, n_test_total)
    models.append(
        {
            "algorithm": DUMMY,
            "mean": model.dummy_score_,
            "std": None,
            "folds": [],
            "state": "reference",
            "error": "",
            "note": "dummy model, same folds",
            "params": {},
            "trial": None,
            "other_metrics": {},
            "fit_time": None,
            "predict_ms_per_1000": None,
            "size_bytes": None,
        }
    )
    diagnostics = _kept_diagnostics(model, y_arr, splits, task, tuple(profile.classes))
    nested = getattr(model, "nested_cv_", None)
    return _assemble(
        kind="fit",
        task=task,
        metric=metric,
        greater_is_better=greater,
        models=models,
        best=model.best_algorithm_,
        n_splits=model.n_splits_,
        ratio=(float(np.mean([len(te) for _, te in splits])) / n_train),
        data=data_summary(frame, y_arr, profile),
        cv=f"{model.cv!r} (inner CV of the search), random_state {model.random_state}",
        nested=None if nested is None else nested.to_dict(),
        search=_search_section(study, model.best_algorithm_, greater),
        diagnostics={**diagnostics, "algorithm": model.best_algorithm_},
        timing={
            "elapsed": getattr(model, "fit_time_", None),
            "n_trials": getattr(model, "n_trials_", None),
        },
        rounds=_rounds_section(model),
        pareto=_pareto_section(model),
    )


def _pareto_section(model: Any) -> dict[str, Any] | None:
    """Every complete trial's accuracy and measured costs, which are on the front, and the
    final model's trial (a multi-objective search only)."""
    front = getattr(model, "pareto_front_", None)
    if front is None:
        return None
    board = model.leaderboard_
    costs = [c for c in COST_COLUMNS.values() if c in front.columns]
    complete = board[board["state"] == "complete"]
    on_front = set(front["trial"])
    points = [
        {
            "trial": int(r["trial"]),
            "algorithm": r["algorithm"],
            "score": float(r[model.metric_]),
            **{c: float(r[c]) for c in costs},
            "on_front": int(r["trial"]) in on_front,
            "feasible": bool(r.get("feasible", True)),
        }
        for _, r in complete.iterrows()
    ]
    return {
        "costs": costs,
        "points": points,
        "front": [p for p in points if p["on_front"]],
        "chosen": int(model.best_index_),
        "constraints": dict(model.constraints or {}),
    }


ROUNDS_NOTE = (
    "Each round after the first searched a space narrowed from the round before, on the "
    "same folds; its first trial was the previous best. A score picked over several rounds "
    "on the same folds is more optimistic than one round's; a nested estimate, if shown, "
    "is of the first round's procedure."
)


def _rounds_section(model: Any) -> dict[str, Any] | None:
    """The rounds of a refined search and the space the last one searched (or None)."""
    rounds = getattr(model, "rounds_", None)
    if rounds is None:
        return None
    space = model.refined_space_
    return {
        "rounds": rounds.to_dict("records"),
        "final_round": int(getattr(model, "best_round_", len(rounds))),
        "rule": space.rule,
        "space": space.to_frame().to_dict("records"),
        "note": ROUNDS_NOTE,
    }


def _model_round(model: Any) -> pd.DataFrame:
    """The leaderboard rows of the round the final model came from (all of a one-round fit)."""
    board = model.leaderboard_
    if "round" not in board.columns:
        return board
    return board[board["round"] == getattr(model, "best_round_", board["round"].max())]


def _assemble(
    *,
    kind,
    task,
    metric,
    greater_is_better,
    models,
    best,
    n_splits,
    ratio,
    data,
    cv,
    nested,
    search,
    diagnostics,
    timing,
    rounds=None,
    pareto=None,
) -> dict[str, Any]:
    from automl.version import __version__

    complete = {
        m["algorithm"]: m["folds"]
        for m in models
        if m["state"] == "complete" and len(m["folds"]) == n_splits
    }
    comparison = compare_to_best(complete, best, ratio, greater_is_better)
    by_name = {r["algorithm"]: r for r in comparison["rows"]}
    for m in models:
        m["comparison"] = by_name.get(m["algorithm"])
    return jsonable(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "automl_version": __version__,
            "task": task,
            "metric": metric,
            "greater_is_better": greater_is_better,
            "cv": cv,
            "n_splits": n_splits,
            "best": best,
            "data": data,
            "models": models,
            "comparison": comparison,
            "nested": nested,
            "search": search,
            "diagnostics": diagnostics,
            "timing": timing,
            "rounds": rounds,
            "pareto": pareto,
        }
    )


def _validate(X: Any, y: Any, profile) -> tuple[pd.DataFrame, np.ndarray, Any]:
    kinds = profile.kinds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropped columns were reported by the fit itself
        return validate_data(X, y, task=profile.task, column_kinds=kinds)


def _other_metrics(board: pd.DataFrame, metric: str) -> list[str]:
    return [c[:-4] for c in board.columns if c.endswith("_std") and c != "std" and c[:-4] != metric]


def _diagnostics(y, oof, task, classes) -> dict[str, Any]:
    if task == "regression":
        return regression_diagnostics(y, oof)
    return classification_diagnostics(y, oof, classes)


def _kept_diagnostics(
    model: Any, y: np.ndarray, splits: list[Split], task: str, classes: tuple[Any, ...]
) -> dict[str, Any]:
    """Diagnostics of the best trial from the out-of-fold predictions the search kept."""
    kept = getattr(model, "oof_predictions_", None)
    if kept is None:
        return {
            "kind": "unavailable",
            "folds": "no out-of-fold predictions: the best trial came from an earlier, "
            "resumed run, whose predictions were not kept (the report does not refit)",
        }
    scored = ~np.isnan(kept.reshape(len(y), -1)).any(axis=1)  # a holdout scores a part
    found = _diagnostics(y[scored], kept[scored], task, classes)
    found["folds"] = (
        f"out-of-fold predictions of the best trial on the search's own {len(splits)} "
        "folds, kept by the search"
        if len(splits) > 1
        else f"predictions of the best trial on the search's holdout ({len(splits[0][1])} "
        "rows), kept by the search"
    )
    return found


def _ensemble_entry(model: Any) -> list[dict[str, Any]]:
    """The final ensemble as a leaderboard entry (none when the final model is one trial).

    Its size and predict time are the sums of its members' (each algorithm's best trial,
    as the search measured them) when every member is such a trial, else unknown.
    """
    members = getattr(model, "ensemble_", None)
    if members is None:
        return []
    board = _model_round(model)
    fit_time = board.loc[board["trial"].isin(members["trial"]), "fit_time"].sum()
    measured = {b.trial: b for b in getattr(model, "best_per_algorithm_", {}).values()}
    found = [measured.get(int(t)) for t in members["trial"]]
    parts = [p for p in found if p is not None and p.size_bytes is not None]
    known = len(parts) == len(found)
    return [
        {
            "algorithm": "ensemble",
            "trial": None,
            "mean": model.ensemble_score_,
            "std": float(np.std(model.ensemble_fold_scores_)),
            "folds": list(model.ensemble_fold_scores_),
            "fit_time": float(fit_time) / model.n_splits_,
            "predict_ms_per_1000": sum(p.predict_ms_per_1000 for p in parts) if known else None,
            "size_bytes": sum(p.size_bytes for p in parts) if known else None,
            "state": "ensemble",
            "error": "",
            "note": ENSEMBLE_NOTE,
            "params": {
                f"trial {r.trial} ({r.algorithm})": round(float(r.weight), 4)
                for r in members.itertuples()
            },
            "other_metrics": {},
            "members": [
                {"trial": int(r.trial), "algorithm": r.algorithm, "weight": float(r.weight)}
                for r in members.itertuples()
            ],
        }
    ]


def _best_trials(model: Any, n_test_total: float) -> list[dict[str, Any]]:
    """The best complete trial of each algorithm, plus algorithms whose every trial failed.

    After refinement the algorithms of every round are listed (``svm``, ``svm_refined``);
    sizes and predict times were measured for the final model's round only.
    """
    models, seen = [], set()
    board = model.leaderboard_
    measures = getattr(model, "best_per_algorithm_", {})
    fold_columns = [c for c in board.columns if c.startswith("fold")]
    studies = getattr(model, "studies_", [model.study_])
    trials = {
        (i + 1, t.number): t for i, s in enumerate(studies) for t in s.get_trials(deepcopy=False)
    }
    final_round = getattr(model, "best_round_", len(studies))
    for _, row in board.iterrows():
        name = row["algorithm"]
        if name in seen or row["state"] != "complete":
            continue  # the ensemble's row is _ensemble_entry's
        seen.add(name)
        row_round = int(row.get("round", final_round))
        attrs = trials[(row_round, row["trial"])].user_attrs
        measured = measures.get(name) if row_round == final_round else None
        if measured is None or measured.trial != row["trial"] or measured.size_bytes is None:
            measured = None
        models.append(
            {
                "algorithm": name,
                "trial": int(row["trial"]),
                "mean": row[model.metric_],
                "std": row["std"],
                "folds": [row[c] for c in fold_columns],
                "fit_time": attrs.get("fit_time", np.nan) / model.n_splits_,
                # without a measure (a trial of a resumed run): the search's scoring time
                "predict_ms_per_1000": (
                    attrs.get("score_time", np.nan) / n_test_total * 1e6
                    if measured is None
                    else measured.predict_ms_per_1000
                ),
                "size_bytes": None if measured is None else measured.size_bytes,
                "state": "complete",
                "error": "",
                "note": "" if measured is not None else "size not measured (an earlier run)",
                "params": row["params"],
                "other_metrics": {},
            }
        )
    for _, row in board.iterrows():
        if row["algorithm"] not in seen and row["state"] == "failed":
            seen.add(row["algorithm"])
            models.append(
                {
                    "algorithm": row["algorithm"],
                    "trial": int(row["trial"]),
                    "mean": None,
                    "std": None,
                    "folds": [],
                    "state": "failed",
                    "error": row["error"],
                    "note": "",
                    "params": row["params"],
                    "other_metrics": {},
                    "fit_time": None,
                    "predict_ms_per_1000": None,
                    "size_bytes": None,
                }
            )
    return models


def _search_section(study: optuna.Study, best: str, greater: bool) -> dict[str, Any]:
    """History of the search, score against each parameter of the best algorithm, importance."""
    trials = [t for t in study.get_trials(deepcopy=False) if ALGORITHM_KEY in t.params]
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    origin = min(starts) if starts else None
    history = []
    for t in trials:
        end = t.datetime_complete
        history.append(
            {
                "trial": t.number,
                "algorithm": t.params[ALGORITHM_KEY],
                "state": t.state.name.lower(),
                "value": t.values[0] if t.state == TrialState.COMPLETE else None,
                "seconds": (end - origin).total_seconds() if end and origin else None,
            }
        )
    own = [t for t in trials if t.state == TrialState.COMPLETE and t.params[ALGORITHM_KEY] == best]
    return {
        "history": history,
        "algorithm": best,
        "greater_is_better": greater,
        "params": _param_scores(own),
        "importance": _importance(study, best, own),
    }


def _param_scores(trials: list[optuna.trial.FrozenTrial]) -> list[dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for t in trials:
        algorithm, plain = from_optuna_params(t.params)
        for name, value in plain.items():
            dist = t.distributions[f"{algorithm}__{name}"]
            entry = params.setdefault(
                name,
                {
                    "name": name,
                    "values": [],
                    "scores": [],
                    "kind": (
                        "categorical"
                        if isinstance(dist, optuna.distributions.CategoricalDistribution)
                        else "numeric"
                    ),
                    "log": bool(getattr(dist, "log", False)),
                },
            )
            entry["values"].append(value if entry["kind"] == "numeric" else str(value))
            entry["scores"].append(t.values[0])
    return list(params.values())


def _importance(
    study: optuna.Study, best: str, trials: list[optuna.trial.FrozenTrial]
) -> dict[str, Any]:
    """fANOVA importance (Optuna's default evaluator) over the best algorithm's trials."""
    method = "fANOVA (optuna.importance.FanovaImportanceEvaluator, seed 0)"
    common = set.intersection(*(set(t.params) for t in trials)) if trials else set()
    keys = sorted(
        k for k in common if k != ALGORITHM_KEY and len({repr(t.params[k]) for t in trials}) > 1
    )
    if len(trials) < 3 or not keys:
        return {
            "method": method,
            "values": {},
            "note": (
                f"Not enough {best} trials with varied parameters ({len(trials)} completed) "
                "to estimate importance."
            ),
        }
    started = time.monotonic()
    try:
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(
                study,
                evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),
                params=keys,
                # with costs as objectives too, the importance for accuracy
                target=None if len(study.directions) == 1 else lambda t: t.values[0],
            )
    except Exception as exc:  # importance is a nicety; say why it is missing
        return {
            "method": method,
            "values": {},
            "note": f"not available: {type(exc).__name__}: {exc}"[:300],
        }
    prefix = f"{best}__"
    return {
        "method": method,
        "seconds": time.monotonic() - started,
        "values": {k[len(prefix) :]: float(v) for k, v in values.items()},
        "note": (
            f"Over the {len(trials)} completed {best} trials, parameters present in "
            f"all of them (conditional ones that are sometimes inactive are left "
            f"out)."
        ),
    }
