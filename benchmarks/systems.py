"""The systems that run in the project's own environment: our engine, defaults, plain Optuna.

Each ``fit_<system>(X, y, task, budget, seed)`` returns a :class:`Fitted`: something with
``predict``/``predict_proba`` plus what the system reports about its own search. Peers with
conflicting pins (FLAML, AutoGluon) run from their own virtual environments: ``peers/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.data import as_category, categorical_columns
from benchmarks.metrics import PRIMARY

# The search metric per task (our engine's defaults), in its natural sign.
SEARCH_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


@dataclass
class Fitted:
    model: Any  # predict / predict_proba on the prepared test frame
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = lambda X: X
    n_trials: int = 1
    time_to_first_model: float | None = None  # seconds from fit start; None: the fit time
    val_score: float | None = None  # the system's own estimate of SEARCH_METRIC
    details: dict[str, Any] = field(default_factory=dict)


# -- our engine --------------------------------------------------------------------------------
def fit_automl(
    X, y, task, budget, seed, strategy="bayesian", refine_share: float = 0.0, **settings
) -> Fitted:
    """Our engine; with ``refine_share``, that share of the budget goes to one refinement
    round after a first round on the rest."""
    from optuna.trial import TrialState

    import automl

    first = budget * (1.0 - refine_share)
    started = time.monotonic()
    model = automl.fit(
        X,
        y,
        task=task,
        time_budget=first,
        strategy=strategy,
        random_state=seed,
        metric=SEARCH_METRIC[task],
        **settings,
    )
    if refine_share:
        model.refine(X, y, time_budget=budget - (time.monotonic() - started))
    trials = model.study_.trials
    first_complete = next((t for t in trials if t.state == TrialState.COMPLETE), None)
    to_first = None
    if first_complete is not None and trials[0].datetime_start is not None:
        to_first = (first_complete.datetime_complete - trials[0].datetime_start).total_seconds()
    states = pd.Series([t.state.name for t in trials]).value_counts().to_dict()
    # where the search's time went: seconds and best score per algorithm
    seconds: dict[str, float] = {}
    for t in trials:
        if t.datetime_start is not None and t.datetime_complete is not None:
            name = t.params.get("algorithm", "")
            spent = (t.datetime_complete - t.datetime_start).total_seconds()
            seconds[name] = seconds.get(name, 0.0) + spent
    board = model.leaderboard_.dropna(subset=[SEARCH_METRIC[task]])
    best_by_algorithm = board.groupby("algorithm")[SEARCH_METRIC[task]].agg(
        "max" if PRIMARY[task][1] else "min"
    )
    skipped = sum(1 for t in trials if "skipped" in t.user_attrs)
    return Fitted(
        model.best_pipeline_,
        # every round's trials after refinement
        n_trials=model.n_trials_
        if getattr(model, "rounds_", None) is None
        else int(model.rounds_["trials"].sum()),
        time_to_first_model=to_first,
        # the final model's own CV score: the ensemble's when there is one (optimistic)
        val_score=model.best_score_
        if getattr(model, "ensemble_score_", None) is None
        else model.ensemble_score_,
        details={
            "best_algorithm": model.best_algorithm_,
            "ensemble": None
            if getattr(model, "ensemble_", None) is None
            else model.ensemble_[["algorithm", "weight"]].to_dict("records"),
            "best_trial_score": model.best_score_,
            "trial_states": states,
            "skipped_trials": skipped,
            "search_time": model.search_time_,
            "refit_time": model.refit_time_,
            "inner_dummy": model.dummy_score_,
            "algorithm_seconds": seconds,
            "algorithm_best": {k: float(v) for k, v in best_by_algorithm.items()},
        },
    )


def fit_automl_random(X, y, task, budget, seed) -> Fitted:
    return fit_automl(X, y, task, budget, seed, strategy="random")


def fit_automl_noens(X, y, task, budget, seed) -> Fitted:
    """Ablation: the best trial alone, no ensemble."""
    return fit_automl(X, y, task, budget, seed, ensemble=False)


def fit_automl_noes(X, y, task, budget, seed) -> Fitted:
    """Boosting rounds always searched, never found by early stopping (the default)."""
    return fit_automl(X, y, task, budget, seed, early_stopping=False)


def fit_automl_es(X, y, task, budget, seed) -> Fitted:
    """Early stopping inside the folds on every data set."""
    return fit_automl(X, y, task, budget, seed, early_stopping=True)


def fit_automl_noprune(X, y, task, budget, seed) -> Fitted:
    """Ablation: no pruning (after a fold, or on a sample of rows on large data)."""
    return fit_automl(X, y, task, budget, seed, prune=False)


def fit_automl_portfolio(X, y, task, budget, seed) -> Fitted:
    """The learned portfolio opens the search (instead of each algorithm's default)."""
    return fit_automl(X, y, task, budget, seed, portfolio=True)


def fit_automl_refine(X, y, task, budget, seed) -> Fitted:
    """Half the budget for a first round, the rest for one refinement round."""
    return fit_automl(X, y, task, budget, seed, refine_share=0.5)


def fit_automl_jobs2(X, y, task, budget, seed) -> Fitted:
    """Two trials at once, in two worker processes (the only system here using two cores)."""
    return fit_automl(X, y, task, budget, seed, n_jobs=2)


# -- library defaults with simple preprocessing ------------------------------------------------
def _ordinal_frame(X: pd.DataFrame, impute: bool):
    """Ordinal-encode categorical columns (unknown -> missing); optionally impute everything."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    cats = categorical_columns(X)
    nums = [c for c in X.columns if c not in cats]
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    cat_steps = [encoder, SimpleImputer(strategy="most_frequent")] if impute else [encoder]
    num_steps = [SimpleImputer(strategy="median")] if impute else ["passthrough"]
    transformer = ColumnTransformer(
        [("cat", make_pipeline(*cat_steps), cats), ("num", make_pipeline(*num_steps), nums)],
        verbose_feature_names_out=False,
    )
    return transformer, len(cats)


def _drop_empty(fit: Callable[..., Fitted]) -> Callable[..., Fitted]:
    """Drop training columns that are entirely missing (simple preprocessing for defaults).

    HistGradientBoosting (scikit-learn 1.9) raises "window shape cannot be larger than input
    array shape" on an all-NaN numeric column, e.g. TBG in sick.
    """

    def wrapped(X, y, task, budget, seed) -> Fitted:
        keep = [c for c in X.columns if X[c].notna().any()]
        fitted = fit(X[keep], y, task, budget, seed)
        prepare = fitted.prepare
        fitted.prepare = lambda T: prepare(T[keep])
        return fitted

    wrapped.__name__ = fit.__name__
    return wrapped


def _as_strings(X: pd.DataFrame) -> pd.DataFrame:
    X = X.copy()
    for c in X.columns:
        if pd.api.types.is_bool_dtype(X[c]):
            X[c] = X[c].astype(float)
    for c in categorical_columns(X):
        X[c] = (
            X[c]
            .astype(object)
            .where(X[c].notna(), np.nan)
            .map(lambda v: v if isinstance(v, float) else str(v))
        )
    return X


def fit_hgb_default(X, y, task, budget, seed) -> Fitted:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline

    transformer, n_cats = _ordinal_frame(X, impute=False)
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    # Encoded categoricals come first in the transformer's output.
    mask = [True] * n_cats + [False] * (X.shape[1] - n_cats)
    model = make_pipeline(
        transformer, cls(random_state=seed, categorical_features=mask if n_cats else None)
    )
    return Fitted(model.fit(_as_strings(X), y), prepare=_as_strings)


def fit_rf_default(X, y, task, budget, seed) -> Fitted:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline

    transformer, _ = _ordinal_frame(X, impute=True)
    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    model = make_pipeline(transformer, cls(n_jobs=1, random_state=seed))
    return Fitted(model.fit(_as_strings(X), y), prepare=_as_strings)


def _lgbm_class(task):
    from lightgbm import LGBMClassifier, LGBMRegressor

    return LGBMRegressor if task == "regression" else LGBMClassifier


def fit_lgbm_default(X, y, task, budget, seed) -> Fitted:
    train, _ = as_category(X, X.iloc[:0])
    model = _lgbm_class(task)(n_jobs=1, random_state=seed, verbose=-1).fit(train, y)
    return Fitted(model, prepare=lambda T: as_category(X, T)[1])


# -- plain Optuna TPE over LightGBM ------------------------------------------------------------
def fit_optuna_lgbm(X, y, task, budget, seed) -> Fitted:
    """Default (seeded) TPESampler over a standard LightGBM space, 5-fold CV, study timeout.

    The study stops when the time left is below the expected refit (the best trial's mean
    fold fit time, scaled to all rows); a running trial is not interrupted.
    """
    import optuna
    from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started, wall_start = time.monotonic(), time.time()
    train, _ = as_category(X, X.iloc[:0])
    cls = _lgbm_class(task)
    splitter = (
        KFold(5, shuffle=True, random_state=seed)
        if task == "regression"
        else StratifiedKFold(5, shuffle=True, random_state=seed)
    )
    folds = list(splitter.split(train, y))

    def params_of(trial) -> dict:
        return {
            "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 2, 100, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 10.0, log=True),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 10.0, log=True),
        }

    def make(params):
        return cls(**params, subsample_freq=1, n_jobs=1, random_state=seed, verbose=-1)

    def score(model, Xv, yv) -> float:
        if task == "regression":
            return float(np.sqrt(mean_squared_error(yv, model.predict(Xv))))
        proba = model.predict_proba(Xv)
        if task == "binary":
            return float(roc_auc_score(yv == model.classes_[1], proba[:, 1]))
        return float(log_loss(yv, proba, labels=model.classes_))

    def objective(trial) -> float:
        model = make(params_of(trial))
        scores, fit_times = [], []
        for tr, va in folds:
            t0 = time.perf_counter()
            fitted = model.fit(train.iloc[tr], y[tr])
            fit_times.append(time.perf_counter() - t0)
            scores.append(score(fitted, train.iloc[va], y[va]))
        trial.set_user_attr("fit_time", float(np.mean(fit_times)))
        return float(np.mean(scores))

    def stop_for_refit(study, _trial) -> None:
        done = [t for t in study.trials if t.value is not None]
        if not done:
            return
        refit = study.best_trial.user_attrs["fit_time"] * 5 / 4
        if time.monotonic() - started + refit >= budget:
            study.stop()

    direction = "maximize" if task == "binary" else "minimize"
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(
        objective,
        timeout=max(budget - (time.monotonic() - started), 1.0),
        callbacks=[stop_for_refit],
    )
    model = make(study.best_params).fit(train, y)
    trials = study.trials
    first = next(
        (t for t in trials if t.datetime_complete is not None and t.value is not None), None
    )
    to_first = first.datetime_complete.timestamp() - wall_start if first else None
    return Fitted(
        model,
        prepare=lambda T: as_category(X, T)[1],
        n_trials=len(trials),
        time_to_first_model=to_first,
        val_score=float(study.best_value),
        details={"best_params": study.best_params},
    )


SYSTEMS: dict[str, Callable[..., Fitted]] = {
    "automl": fit_automl,
    "automl_random": fit_automl_random,
    "automl_jobs2": fit_automl_jobs2,
    "automl_noens": fit_automl_noens,
    "automl_noes": fit_automl_noes,
    "automl_es": fit_automl_es,
    "automl_noprune": fit_automl_noprune,
    "automl_portfolio": fit_automl_portfolio,
    "automl_refine": fit_automl_refine,
    "hgb_default": _drop_empty(fit_hgb_default),
    "rf_default": _drop_empty(fit_rf_default),
    "lgbm_default": _drop_empty(fit_lgbm_default),
    "optuna_lgbm": fit_optuna_lgbm,
}
