"""AutoMLClassifier and AutoMLRegressor: the search as scikit-learn meta-estimators.

``fit`` validates the data, picks the candidate algorithms, runs the joint search on folds
fixed for the whole search, then refits the best configuration on all rows. The fitted
estimator delegates ``predict``/``predict_proba`` to ``best_pipeline_``, a plain
scikit-learn Pipeline that can be saved and used without automl.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from automl.builder import complete_config, make_candidate
from automl.data import DatasetProfile, validate_data
from automl.evaluation import dummy_scores, make_splits, resolve_metric, search_seeds
from automl.exceptions import InvalidParameterError, did_you_mean
from automl.nested import nested_cross_validation, split_budget
from automl.registry import load_registry, select_candidates
from automl.report import cv_results, leaderboard
from automl.search import STRATEGIES, Search, SearchSettings, refit_best
from automl.storage import StudyStore, data_fingerprint
from automl.space.suggest import from_optuna_params

logger = logging.getLogger("automl")


class _AutoMLBase(BaseEstimator):
    """Shared search logic; use :class:`AutoMLClassifier` or :class:`AutoMLRegressor`."""

    def __init__(
        self,
        *,
        time_budget: float | None = 60.0,
        n_trials: int | None = None,
        metric: str | Any = None,
        cv: int | float | str | Any = "auto",
        strategy: str = "bayesian",
        algorithms: Sequence[str] | None = None,
        spaces: Sequence[str] = (),
        configurations: Sequence[Mapping[str, Any]] | None = None,
        column_kinds: Mapping[str, str] | None = None,
        prune: bool = True,
        outer_cv: int | float | Any = None,
        n_jobs: int = 1,
        storage: str | None = None,
        resume: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.metric = metric
        self.cv = cv
        self.strategy = strategy
        self.algorithms = algorithms
        self.spaces = spaces
        self.configurations = configurations
        self.column_kinds = column_kinds
        self.prune = prune
        self.outer_cv = outer_cv
        self.n_jobs = n_jobs
        self.storage = storage
        self.resume = resume
        self.random_state = random_state

    # -- fit -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, target: str | None = None, groups: Any = None):
        """Search algorithms and hyperparameters, then refit the best on all rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Features; missing values are allowed. With ``target=``, X also holds the target.
        y : array-like of shape (n_samples,), optional
            The target, unless ``target`` names a column of X.
        target : str, optional
            Name of the target column in X.
        groups : array-like, optional
            Group labels for grouped cross-validation (rows of a group stay together).

        Returns
        -------
        self
        """
        frame, y_arr, profile = validate_data(
            X, y, target=target, task=self._task_argument(), column_kinds=self.column_kinds)
        return self._fit_validated(frame, y_arr, profile, groups)

    def _task_argument(self) -> str | None:
        return "regression"

    def _fit_validated(self, frame: pd.DataFrame, y: np.ndarray, profile: DatasetProfile,
                       groups: Any = None):
        self._check_settings(profile)
        started = time.monotonic()
        seeds = search_seeds(self.random_state)
        metric = resolve_metric(self.metric, profile.task)
        time_budget = self.time_budget
        if self.outer_cv is not None:
            budget = split_budget(self.time_budget, _n_splits(self.outer_cv), self.n_jobs)
            self.nested_cv_ = nested_cross_validation(self, frame, y, profile, groups, metric,
                                                      seeds.outer, budget)
            time_budget = budget["final_search"]
        elif hasattr(self, "nested_cv_"):  # from an earlier fit with outer_cv
            del self.nested_cv_
        self._search(frame, y, profile, groups, metric, time_budget, seeds, self._store("automl"))
        self.fit_time_ = time.monotonic() - started
        logger.debug("Best: %s with %s %.4g (%d trials, %.1fs).", self.best_algorithm_,
                    metric.name, self.best_score_, self.n_trials_, self.fit_time_)
        return self

    def _store(self, default_name: str) -> StudyStore | None:
        """Where this search persists: each outer fold gets its own study in the storage."""
        if self.storage is None:
            return None
        return StudyStore(self.storage, getattr(self, "_study_name", default_name), self.resume)

    def _fingerprint(self, frame, y, profile, metric) -> dict[str, Any]:
        """What must match for a stored search to be resumed (budgets may change)."""
        return {
            "data": data_fingerprint(frame, y), "task": profile.task, "metric": metric.name,
            "cv": repr(self.cv), "strategy": self.strategy, "random_state": self.random_state,
            "algorithms": None if self.algorithms is None else list(self.algorithms),
            "configurations": repr(self.configurations), "prune": self.prune,
            "column_kinds": {**{c: "numeric" for c in profile.numeric},
                             **{c: "categorical" for c in profile.categorical}},
        }

    def _search(self, frame, y, profile, groups, metric, time_budget, seeds, store) -> None:
        """The search on all rows, then the refit of its best configuration."""
        cv_seed, sampler_seed, estimator_seed = seeds.cv, seeds.sampler, seeds.estimator
        splits = make_splits(self.cv, profile.task, y, groups, random_state=cv_seed)
        n_train = int(np.mean([len(tr) for tr, _ in splits]))
        registry = load_registry(self.spaces)
        specs = select_candidates(registry, profile.task, n_train, self.algorithms)
        candidates = {s.name: make_candidate(s, profile.task) for s in specs}
        X = frame.to_numpy() if profile.positional else frame
        settings = SearchSettings(
            metric=metric,
            strategy=self.strategy,
            n_trials=self.n_trials,
            time_budget=time_budget,
            configurations=self._user_configurations(candidates),
            sampler_seed=sampler_seed,
            estimator_seed=estimator_seed,
            prune=self.prune,
            store=store,
            fingerprint={} if store is None else self._fingerprint(frame, y, profile, metric),
        )
        with _quiet_optuna(), threadpool_limits(limits=1):
            search = Search(candidates, profile, X, y, splits, settings)
            outcome = search.run()
            candidates = search.candidates
            refit_start = time.monotonic()
            self.best_pipeline_ = refit_best(outcome.study, candidates, profile, X, y,
                                             estimator_seed)
        self.refit_time_ = time.monotonic() - refit_start
        self.search_time_ = outcome.elapsed
        self.interrupted_ = outcome.interrupted
        self.study_ = outcome.study
        self.profile_ = profile
        self.metric_ = metric.name
        self.candidates_ = list(candidates)
        best = outcome.study.best_trial
        algorithm, params = from_optuna_params(best.params)
        self.best_algorithm_ = algorithm
        self.best_params_ = {"algorithm": algorithm, **params}
        self.best_score_ = float(best.value)
        self.best_index_ = best.number
        self.leaderboard_ = leaderboard(outcome.study, metric, len(splits))
        self.cv_results_ = cv_results(outcome.study, metric, len(splits))
        self.n_splits_ = len(splits)
        self.n_trials_ = len(outcome.study.trials)
        with threadpool_limits(limits=1):
            self.dummy_score_ = float(np.mean(dummy_scores(X, y, splits, metric, profile.task)))
        self.n_features_in_ = len(profile.columns)
        if not profile.positional:
            self.feature_names_in_ = np.asarray(profile.columns, dtype=object)
        self._metric = metric
        if profile.task != "regression":
            self.classes_ = np.asarray(profile.classes)

    def _check_settings(self, profile: DatasetProfile) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidParameterError(
                f"The 'strategy' parameter must be one of {list(STRATEGIES)}; got "
                f"{self.strategy!r}.{did_you_mean(str(self.strategy), STRATEGIES)}")
        if self.time_budget is not None and not (
                isinstance(self.time_budget, (int, float)) and self.time_budget > 0):
            raise InvalidParameterError(f"The 'time_budget' parameter must be a positive number "
                                        f"of seconds or None; got {self.time_budget!r}.")
        if self.n_trials is not None and not (
                isinstance(self.n_trials, (int, np.integer)) and self.n_trials > 0):
            raise InvalidParameterError(f"The 'n_trials' parameter must be a positive int or "
                                        f"None; got {self.n_trials!r}.")
        if self.time_budget is None and self.n_trials is None and self.strategy != "manual":
            raise InvalidParameterError("Give a time_budget (seconds) or n_trials, or both: "
                                        "without either the search would never end.")
        if not isinstance(self.n_jobs, (int, np.integer)) or self.n_jobs == 0 or self.n_jobs < -1:
            raise InvalidParameterError(f"The 'n_jobs' parameter must be a positive int or -1 "
                                        f"(all cores); got {self.n_jobs!r}.")
        if self.strategy == "manual" and not self.configurations:
            raise InvalidParameterError("strategy='manual' evaluates only the given "
                                        "configurations; pass configurations=[{...}].")

    def _user_configurations(self, candidates: dict) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, given in enumerate(self.configurations or ()):
            given = dict(given)
            algorithm = given.pop("algorithm", None)
            if algorithm not in candidates:
                raise InvalidParameterError(
                    f"configurations[{i}] must name an 'algorithm' among the candidates "
                    f"{sorted(candidates)}; got {algorithm!r}."
                    f"{did_you_mean(str(algorithm), candidates)}")
            out.append((algorithm, complete_config(candidates[algorithm], given)))
        return out

    # -- use -----------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Predict with the best pipeline."""
        check_is_fitted(self, "best_pipeline_")
        return self.best_pipeline_.predict(X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The search metric on (X, y), in scikit-learn's "greater is better" sign.

        So ``cross_validate`` and model selection tools rank correctly: a loss such as rmse
        comes back negated, as scikit-learn's ``neg_root_mean_squared_error`` would.
        """
        check_is_fitted(self, "best_pipeline_")
        return self._metric.to_sklearn(self._metric.score(self.best_pipeline_, X, np.asarray(y)))


class AutoMLClassifier(ClassifierMixin, _AutoMLBase):
    """Search classification algorithms and their hyperparameters jointly.

    Parameters
    ----------
    time_budget : float or None, default=60
        Wall-clock seconds for the search and the final refit. No trial starts that is
        expected not to finish in time.
    n_trials : int or None, default=None
        Maximum number of trials; with ``time_budget=None`` the search is reproducible
        under ``random_state`` on one core.
    metric : str or scikit-learn scorer, default=None
        ``roc_auc`` for binary and ``log_loss`` for multiclass targets when None. See
        :func:`automl.metric_names`.
    cv : int, float, "auto" or splitter, default="auto"
        Inner cross-validation: k stratified folds, a holdout fraction, or a splitter.
        ``"auto"``: 5 folds up to 10,000 rows, a 20% holdout above (on larger data, 5-fold
        CV of every opening configuration used most of a 60 s budget in our benchmark).
    strategy : {"bayesian", "random", "grid", "manual"}, default="bayesian"
    algorithms : list of str, optional
        Restrict the search to these algorithms (see :func:`automl.list_algorithms`).
    spaces : list of paths, optional
        Extra search space files (TOML), added to or replacing the built-in ones.
    configurations : list of dict, optional
        Configurations evaluated first (``{"algorithm": "svm", "C": 10.0}``; missing
        parameters take their defaults). With ``strategy="manual"``, only these.
    column_kinds : dict, optional
        Override the inferred kind of columns: ``{"zip": "categorical"}``.
    prune : bool, default=True
        Stop a trial after a fold when its running mean is below the median of earlier trials.
    outer_cv : int, float, splitter or None, default=None
        Nested cross-validation: run one independent search per outer fold on its training
        part and score the winner on its test part (``nested_cv_``); the final model comes
        from a search on all rows. ``time_budget`` covers everything, shared equally between
        the outer searches and the final one (see ``nested_cv_.budget``).
    n_jobs : int, default=1
        Processes for the outer folds of nested CV (-1: all cores). Each fit uses one
        thread; with ``n_trials`` and a seed the result equals the sequential run.
    storage : str or None, default=None
        An Optuna storage URL (e.g. ``"sqlite:///run.db"``): every finished trial is written
        as it finishes, so an interrupted search can be resumed.
    resume : bool, default=False
        Continue the search stored in ``storage``: finished trials are kept, and the budget
        counts what is left. Refused if the data or settings differ.
    random_state : int or None, default=None
        Seed for folds, sampler and estimators.
    task : {"binary", "multiclass"} or None, default=None
        Override the task inferred from the target.

    Attributes
    ----------
    best_pipeline_ : sklearn.pipeline.Pipeline
        The best configuration refit on all rows.
    best_params_ : dict
        ``algorithm`` and its parameters (plain names).
    best_score_ : float
        Mean inner-CV score of the best trial, in the metric's natural sign.
    leaderboard_ : pandas.DataFrame
        One row per trial, best first.
    cv_results_ : dict
        The search in ``GridSearchCV.cv_results_`` shape.
    study_ : optuna.Study
    classes_ : ndarray
    nested_cv_ : automl.nested.NestedResult
        With ``outer_cv``: per outer fold scores and choices, the outer mean with a 95%
        interval, the optimism of the inner best, and which algorithms won.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from automl import AutoMLClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> model = AutoMLClassifier(n_trials=5, time_budget=None, cv=3, random_state=0).fit(X, y)
    >>> model.predict(X.iloc[:3]).shape
    (3,)
    """

    score = _AutoMLBase.score  # the search metric, not the mixin's accuracy

    def __init__(self, *, time_budget: float | None = 60.0, n_trials: int | None = None,
                 metric: str | Any = None, cv: int | float | str | Any = "auto",
                 strategy: str = "bayesian",
                 algorithms: Sequence[str] | None = None, spaces: Sequence[str] = (),
                 configurations: Sequence[Mapping[str, Any]] | None = None,
                 column_kinds: Mapping[str, str] | None = None, prune: bool = True,
                 outer_cv: int | float | Any = None, n_jobs: int = 1, storage: str | None = None,
                 resume: bool = False, random_state: int | None = None,
                 task: str | None = None) -> None:
        super().__init__(time_budget=time_budget, n_trials=n_trials, metric=metric, cv=cv,
                         strategy=strategy, algorithms=algorithms, spaces=spaces,
                         configurations=configurations, column_kinds=column_kinds, prune=prune,
                         outer_cv=outer_cv, n_jobs=n_jobs, storage=storage, resume=resume,
                         random_state=random_state)
        self.task = task

    def _task_argument(self) -> str | None:
        if self.task not in (None, "binary", "multiclass"):
            raise InvalidParameterError(f"The 'task' parameter of AutoMLClassifier must be "
                                        f"'binary', 'multiclass' or None; got {self.task!r}.")
        return self.task

    def _fit_validated(self, frame, y, profile, groups=None):
        if profile.task == "regression":
            raise InvalidParameterError("AutoMLClassifier got a regression task; use "
                                        "AutoMLRegressor.")
        return super()._fit_validated(frame, y, profile, groups)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from the best pipeline, columns in ``classes_`` order."""
        check_is_fitted(self, "best_pipeline_")
        return self.best_pipeline_.predict_proba(X)


class AutoMLRegressor(RegressorMixin, _AutoMLBase):
    """Search regression algorithms and their hyperparameters jointly.

    Same parameters and attributes as :class:`AutoMLClassifier` (without ``task`` and
    ``classes_``); the default metric is ``rmse``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from automl import AutoMLRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = AutoMLRegressor(n_trials=5, time_budget=None, cv=3, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    score = _AutoMLBase.score  # the search metric, not the mixin's r2


# One core per fit: OpenMP learners (HistGradientBoosting, LightGBM, XGBoost) spin-wait for
# threads, and on a busy 2-core machine a 0.2 s fit was measured at 40-70 s without this limit.
# Fits are also reproducible on one core.


def _n_splits(cv: Any) -> int:
    if isinstance(cv, float):
        return 1
    if isinstance(cv, (int, np.integer)):
        return int(cv)
    return cv.get_n_splits() if hasattr(cv, "get_n_splits") else len(list(cv))


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO; inside fit our own logging says what matters."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)
