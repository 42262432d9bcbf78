"""AutoMLClassifier and AutoMLRegressor: the search as scikit-learn meta-estimators.

``fit`` validates the data, picks the candidate algorithms, runs the joint search on folds
fixed for the whole search, then refits the best configuration on all rows. The fitted
estimator delegates ``predict``/``predict_proba`` to ``best_pipeline_``, a plain
scikit-learn Pipeline that can be saved and used without automl.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from automl.builder import (
    build_pipeline,
    complete_config,
    is_imbalanced,
    make_candidate,
    takes_sample_weight,
)
from automl.cluster_trial import clustering_reference
from automl.data import DatasetProfile, check_sample_weight, validate_data
from automl.driver_state import driver_settings
from automl.early_stopping import early_stops
from automl.ensemble import DEFAULT_SIZE as ENSEMBLE_SIZE
from automl.ensemble import POOL_BYTES, POOL_TRIALS, Ensemble
from automl.evaluation import (
    THRESHOLD_METRICS,
    Metric,
    dummy_scores,
    make_splits,
    resolve_metric,
    search_seeds,
)
from automl.exceptions import (
    AllTrialsFailedError,
    AutoMLWarning,
    DataValidationError,
    InvalidParameterError,
    TrialError,
    did_you_mean,
)
from automl.execution import make_executor, warm_up
from automl.nested import nested_cross_validation, split_budget
from automl.objectives import (
    check_constraints,
    check_objectives,
)
from automl.parameters import check_settings, effective_jobs, trial_time_limit
from automl.refinement import (
    RefinedSpace,
)
from automl.registry import builtin_portfolio, load_registry, select_candidates
from automl.results import cv_results, leaderboard, pareto_front
from automl.rounds import RefinementMixin
from automl.search import Search, SearchProgress, SearchSettings, fit_final
from automl.search.refit import ALL_ROWS, FinalModel
from automl.search.study import best_trial, meets_constraints
from automl.space.portfolio import read_portfolio
from automl.space.suggest import trial_configuration
from automl.storage import FINGERPRINT_KEY, StudyStore, data_fingerprint
from automl.tradeoffs import SelectionMixin

logger = logging.getLogger("automl")

# Seconds kept at the end of the budget for what follows the refit (leaderboard, dummy
# scores): the refit must be done by the deadline less this.
FINISH_MARGIN = 0.1
# A clustering search keeps this share of its budget (at most NULL_RESERVE_MAX seconds)
# for the null reference that follows it.
NULL_RESERVE, NULL_RESERVE_MAX = 0.1, 5.0


class AutoMLBase(RefinementMixin, SelectionMixin, BaseEstimator):
    """Shared search logic; use :class:`AutoMLClassifier`, :class:`AutoMLRegressor` or
    :class:`automl.AutoMLClusterer`."""

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
        executor: str = "processes",
        scheduler: str | None = None,
        trial_time_limit: float | None = None,
        memory_limit: float | None = None,
        callbacks: Sequence[Callable[[SearchProgress], Any]] | None = None,
        storage: str | None = None,
        study_name: str = "automl",
        resume: bool = False,
        random_state: int | None = None,
        ensemble: bool = True,
        ensemble_size: int = ENSEMBLE_SIZE,
        portfolio: bool | str | Path = False,
        early_stopping: bool | str = False,
        objectives: Sequence[str] | None = None,
        constraints: Mapping[str, float] | None = None,
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
        self.executor = executor
        self.scheduler = scheduler
        self.trial_time_limit = trial_time_limit
        self.memory_limit = memory_limit
        self.callbacks = callbacks
        self.storage = storage
        self.study_name = study_name
        self.resume = resume
        self.random_state = random_state
        self.ensemble = ensemble
        self.ensemble_size = ensemble_size
        self.portfolio = portfolio
        self.early_stopping = early_stopping
        self.objectives = objectives
        self.constraints = constraints

    # -- fit -----------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        target: str | None = None,
        groups: Any = None,
        sample_weight: Any = None,
    ):
        """Search algorithms and hyperparameters, then refit the best on all rows.

        The time budget counts from here: validation, search, refit and nested CV all end
        within it.

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
        sample_weight : array-like of shape (n_samples,), optional
            Row weights, used in every trial's fit (by the learners that take weights; a
            warning names those that do not), in every score (weighted metrics), in the
            dummy reference, in nested CV and in the final refit.

        Returns
        -------
        self
        """
        started = time.monotonic()
        if self.executor == "processes" and self.scheduler is None:
            warm_up()
        frame, y_arr, profile = validate_data(
            X, y, target=target, task=self._task_argument(), column_kinds=self.column_kinds
        )
        weights = check_sample_weight(sample_weight, len(frame), y_arr, profile.task)
        return self._fit_validated(frame, y_arr, profile, groups, started, weights)

    def _task_argument(self) -> str | None:
        return "regression"

    def _metric(self, task: str) -> Metric:
        """The accuracy metric: ``metric``, or the first of ``objectives``."""
        metric, _ = check_objectives(self.objectives, self.metric)
        return resolve_metric(metric, task)

    def _costs(self) -> tuple[str, ...]:
        """The objectives after the metric (a multi-objective search when any)."""
        return check_objectives(self.objectives, self.metric)[1]

    def _fit_validated(
        self,
        frame: pd.DataFrame,
        y: np.ndarray,
        profile: DatasetProfile,
        groups: Any = None,
        started: float | None = None,
        sample_weight: np.ndarray | None = None,
    ):
        started = time.monotonic() if started is None else started
        check_settings(self)
        seeds = search_seeds(self.random_state)
        metric = self._metric(profile.task)
        deadline = None if self.time_budget is None else started + self.time_budget
        with driver_settings():
            if self.outer_cv is not None:
                budget = split_budget(
                    self.time_budget,
                    _n_splits(self.outer_cv),
                    effective_jobs(self.n_jobs, self.executor),
                )
                self.nested_cv_ = nested_cross_validation(
                    self, frame, y, profile, groups, metric, seeds.outer, budget, sample_weight
                )
            elif hasattr(self, "nested_cv_"):  # from an earlier fit with outer_cv
                del self.nested_cv_
            self._search(
                frame, y, profile, groups, metric, deadline, seeds, self._store(), sample_weight
            )
        self.fit_time_ = time.monotonic() - started
        logger.debug(
            "Best: %s with %s %.4g (%d trials, %.1fs).",
            self.best_algorithm_,
            metric.name,
            self.best_score_,
            self.n_trials_,
            self.fit_time_,
        )
        return self

    def _store(self) -> StudyStore | None:
        if self.storage is None:
            return None
        return StudyStore(self.storage, self.study_name, self.resume)

    def _fingerprint(self, frame, y, profile, metric, sample_weight=None) -> dict[str, Any]:
        """What must match for a stored search to be resumed (budgets may change)."""
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        # only when set, so that searches stored before these settings existed still resume
        deployment: dict[str, Any] = {}
        if self.objectives:
            deployment["objectives"] = list(self.objectives)
        if self.constraints:
            deployment["constraints"] = dict(self.constraints)
        # only when on, so that searches stored before the setting existed still resume
        stopping = {"early_stopping": self.early_stopping} if self.early_stopping else {}
        return {
            "data": data_fingerprint(frame, y, **weights),
            "task": profile.task,
            "metric": metric.name,
            "cv": repr(self.cv),
            "strategy": self.strategy,
            "random_state": self.random_state,
            "algorithms": None if self.algorithms is None else list(self.algorithms),
            "configurations": repr(self.configurations),
            "prune": self.prune,
            "column_kinds": profile.kinds,
            **stopping,
            **deployment,
        }

    def _search(
        self,
        frame,
        y,
        profile,
        groups,
        metric,
        deadline,
        seeds,
        store,
        sample_weight=None,
        space: RefinedSpace | None = None,
        opening: tuple[str, dict[str, Any]] | None = None,
        time_budget: float | None = None,
    ) -> None:
        """The search on all rows, then the refit of its best configuration.

        A refinement round passes its ``space`` (searched instead of the registry's, without
        the user's configurations or the portfolio, which the first round ran) and the
        previous round's best as its ``opening`` configuration.
        """
        clustering = None
        if profile.task == "clustering":  # no folds: every trial fits all rows (cluster_trial)
            rows = np.arange(len(y))
            splits = [(rows, rows)]
            clustering = clustering_reference(
                frame.to_numpy() if profile.from_array else frame, profile, seeds.cv
            )
            self._clustering_reference = clustering
            if deadline is not None:  # time for the null reference after the search
                deadline -= min(NULL_RESERVE * (deadline - time.monotonic()), NULL_RESERVE_MAX)
        else:
            splits = make_splits(self.cv, profile.task, y, groups, random_state=seeds.cv)
        n_train = int(np.mean([len(tr) for tr, _ in splits]))
        if space is None:
            registry = load_registry(self.spaces)
            specs = select_candidates(registry, profile.task, n_train, self.algorithms)
        else:
            specs = select_candidates(space.specs, profile.task, n_train, list(space.specs))
        imbalanced = is_imbalanced(y, profile.task)
        # no early stopping under a tuned decision threshold: the model step is its wrapper
        stopping = early_stops(self.early_stopping, len(y)) and not _tunes_threshold(
            profile, metric
        )
        candidates = {s.name: make_candidate(s, profile.task, imbalanced, stopping) for s in specs}
        X = frame.to_numpy() if profile.from_array else frame
        if sample_weight is not None:
            _warn_unweighted(candidates, profile, metric)
        budget = None if deadline is None else deadline - time.monotonic()
        settings = SearchSettings(
            metric=metric,
            strategy=self.strategy,
            n_trials=self.n_trials,
            deadline=None if deadline is None else deadline - FINISH_MARGIN,
            time_budget=self.time_budget if space is None else time_budget,
            trial_time_limit=trial_time_limit(self.trial_time_limit, budget),
            configurations=self._user_configurations(candidates)
            if space is None
            else _opening(candidates, opening),
            portfolio=[]
            if space is not None
            else self._portfolio_configurations(candidates, profile.task),
            openings=space is None,
            sampler_seed=seeds.sampler,
            estimator_seed=seeds.estimator,
            prune=self.prune,
            store=store,
            callbacks=tuple(self.callbacks or ()),
            fingerprint=self._fingerprint(frame, y, profile, metric, sample_weight),
            stop=getattr(self, "_stop_event", None),
            sample_weight=sample_weight,
            pool_trials=POOL_TRIALS if self._ensembles(profile, metric) else 0,
            pool_bytes=POOL_BYTES,
            costs=self._costs(),
            constraints=check_constraints(self.constraints),
            clustering=clustering,
        )
        n_workers = effective_jobs(self.n_jobs, self.executor)
        with (
            make_executor(self.executor, n_workers, self.memory_limit, self.scheduler) as executor,
            Search(candidates, profile, X, y, splits, settings) as search,
        ):
            if not executor.hard_limits and (
                self.trial_time_limit is not None or self.memory_limit is not None
            ):
                warnings.warn(
                    f"executor={self.executor!r} runs each trial in this process, where "
                    "trial_time_limit and memory_limit cannot be enforced (a trial cannot be "
                    "killed without killing its caller); use executor='processes' for them.",
                    AutoMLWarning,
                    stacklevel=3,
                )
            outcome = search.run(executor)
            if store is None:  # what refine() checks its data and settings against
                outcome.study.set_user_attr(FINGERPRINT_KEY, settings.fingerprint)
            if not outcome.interrupted and not _any_complete(outcome.study):
                search.run_fallback()  # nothing finished in time: the cheapest default
                outcome.best_fold_model, outcome.best_oof = search.best_models()
            if not _any_complete(outcome.study):
                if outcome.interrupted:
                    raise KeyboardInterrupt
                first = outcome.first_failure
                raise AllTrialsFailedError(
                    f"Every trial of the search failed; the first: {first}. Every failure "
                    "is in the study's trials (user attribute 'error')."
                ) from TrialError(f"{first}\n{first.traceback if first else ''}")
            measured = settings.costs or settings.constraints
            if measured and search.record.best_number != best_trial(outcome.study).number:
                # the final trial is chosen on costs too (a tie in accuracy broken by
                # latency): the record's fold model and predictions are another trial's
                outcome.best_fold_model, outcome.best_oof = None, None
            if clustering is not None and outcome.best_fold_model is not None:
                # the best trial was fitted on all rows already: that is the final model
                final, ensemble = FinalModel(outcome.best_fold_model, ALL_ROWS, 0.0), None
            else:
                final, ensemble = fit_final(
                    outcome,
                    search.candidates,
                    executor,
                    settings,
                    self.ensemble_size if settings.pool_trials else 0,
                )
        self._set_results(
            outcome, final, search.candidates, profile, metric, splits, X, y, sample_weight
        )
        self._set_ensemble(ensemble, metric)

    def _set_results(
        self, outcome, final, candidates, profile, metric, splits, X, y, sample_weight
    ) -> None:
        study = outcome.study
        self.best_pipeline_ = final.pipeline
        self.fitted_on_ = final.fitted_on
        self.refit_time_ = final.seconds
        self.search_time_ = outcome.elapsed
        self.interrupted_ = outcome.interrupted
        self.study_ = study
        self.profile_ = profile
        self.metric_ = metric.name
        self.candidates_ = list(candidates)
        self.spaces_ = {name: c.spec for name, c in candidates.items()}
        self._candidates = dict(candidates)  # for select(): the search's own builder
        best = best_trial(study)
        algorithm, params = trial_configuration(best)
        self.best_algorithm_ = algorithm
        self.best_params_ = {"algorithm": algorithm, **params}
        self.best_score_ = float(best.values[0])
        constraints = check_constraints(self.constraints)
        if constraints and not meets_constraints(best):
            warnings.warn(
                f"No complete trial met the constraints {constraints}; the model is the most "
                f"accurate trial ({best.number}, {algorithm}), which does not. See "
                "leaderboard_ for the measured costs.",
                AutoMLWarning,
                stacklevel=4,
            )
        costs = self._costs()
        self.pareto_front_ = None if not costs else pareto_front(study, metric, costs)
        self.best_index_ = best.number
        self.leaderboard_ = leaderboard(study, metric, len(splits))
        self.cv_results_ = cv_results(study, metric, len(splits))
        self.cv_splits_ = splits
        self.oof_predictions_ = outcome.best_oof
        self.best_per_algorithm_ = dict(outcome.by_algorithm)
        self.n_splits_ = len(splits)
        self.n_trials_ = len(study.trials)
        try:
            # clustering has no dummy model: its reference is null_reference_
            dummy = (
                [np.nan]
                if profile.task == "clustering"
                else dummy_scores(X, y, splits, metric, profile.task, sample_weight)
            )
        except (AttributeError, ValueError, TypeError) as exc:
            # a user's scorer may need what the dummy model lacks (decision_function)
            logger.info("The dummy model could not be scored (%r).", exc)
            dummy = [np.nan]
        self.dummy_score_ = float(np.mean(dummy))
        self.n_features_in_ = len(profile.columns)
        if not profile.positional:
            self.feature_names_in_ = np.asarray(profile.columns, dtype=object)
        self.scorer_ = metric.scorer
        if profile.task not in ("regression", "clustering"):
            self.classes_ = np.asarray(profile.classes)

    def _ensembles(self, profile: DatasetProfile, metric: Metric) -> bool:
        """Whether an ensemble may be built: on, and not for a decision threshold tuned for
        f1 or mcc (a soft vote would decide at 0.5, not at the members' thresholds), nor
        when latency or size are objectives or bounded (an ensemble costs the sum of its
        members: slower and larger than any point of the front)."""
        return (
            bool(self.ensemble)
            and self.ensemble_size > 0
            and not _tunes_threshold(profile, metric)
            and not self._costs()
            and not self.constraints
        )

    def _set_ensemble(self, ensemble: Ensemble | None, metric: Metric) -> None:
        """``ensemble_``, ``ensemble_score_`` and ``ensemble_fold_scores_``."""
        if ensemble is None:
            self.ensemble_, self.ensemble_score_, self.ensemble_fold_scores_ = None, None, None
            return
        scores = dict(zip(self.leaderboard_["trial"], self.leaderboard_[metric.name]))
        self.ensemble_ = pd.DataFrame(
            {
                "trial": ensemble.trials,
                "algorithm": ensemble.algorithms,
                "weight": ensemble.weights,
                metric.name: [scores[t] for t in ensemble.trials],
            }
        ).sort_values("weight", ascending=False, kind="stable", ignore_index=True)
        self.ensemble_score_ = ensemble.score
        self.ensemble_fold_scores_ = list(ensemble.fold_scores)

    def _portfolio_configurations(
        self, candidates: dict, task: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """The portfolio's configurations for ``task`` that apply to these candidates.

        Entries of algorithms that are not candidates here (not installed, left out by
        ``algorithms``, or above their row limit) are passed over. An entry outside a
        space is skipped for the built-in portfolio (a user's space file may have narrowed
        it) and an error for the user's own file.
        """
        if self.portfolio is False or self.strategy in ("grid", "manual"):
            return []
        builtin = self.portfolio is True
        path = builtin_portfolio() if builtin else Path(str(self.portfolio))
        if builtin and not path.is_file():
            return []
        out = []
        for i, entry in enumerate(read_portfolio(path, task)):
            algorithm = entry.pop("algorithm")
            if algorithm not in candidates:
                continue
            stopping = candidates[algorithm].early_stopping
            if builtin and stopping is not None:
                entry.pop(stopping.rounds, None)  # found by early stopping instead
            try:
                out.append((algorithm, complete_config(candidates[algorithm], entry)))
            except InvalidParameterError as exc:
                if not builtin:
                    raise InvalidParameterError(f"{path}: configurations[{i}]: {exc}") from None
                logger.info("Portfolio entry %d skipped: %s", i, exc)
        return out

    def _user_configurations(self, candidates: dict) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, given in enumerate(self.configurations or ()):
            given = dict(given)
            algorithm = given.pop("algorithm", None)
            if algorithm not in candidates:
                raise InvalidParameterError(
                    f"configurations[{i}] must name an 'algorithm' among the candidates "
                    f"{sorted(candidates)}; got {algorithm!r}."
                    f"{did_you_mean(str(algorithm), candidates)}"
                )
            out.append((algorithm, complete_config(candidates[algorithm], given)))
        return out

    # -- use -----------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Predict with the best pipeline."""
        check_is_fitted(self, "best_pipeline_")
        return self.best_pipeline_.predict(check_predict_input(X))

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values are imputed or routed natively
        return tags

    # score() is scikit-learn's (accuracy, R^2) from the mixins, so cross_validate,
    # GridSearchCV and pipelines behave as users expect; the search metric is best_score_,
    # and scorer_ scores it on other data.


# scikit-learn's estimator checks (sklearn.utils.estimator_checks) that these estimators
# fail on purpose, with the reason; tests/test_sklearn_contract.py runs all the others.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    name: {
        "check_dtype_object": "a column mixing a dict with numbers is refused with a "
        "DataValidationError naming the column, not numpy's TypeError",
        "check_sample_weight_equivalence_on_dense_data": "weights reach the learner, not "
        "the preprocessing (imputation and scaling are fitted unweighted), so weight 2 is "
        "not the same as a repeated row",
    }
    for name in ("AutoMLClassifier", "AutoMLRegressor")
}
EXPECTED_FAILED_CHECKS["AutoMLClusterer"] = {
    "check_dtype_object": EXPECTED_FAILED_CHECKS["AutoMLClassifier"]["check_dtype_object"]
}


def _warn_unweighted(candidates: dict, profile: DatasetProfile, metric: Metric) -> None:
    """Say which learners fit without the weights (their scores are still weighted)."""
    tuned = THRESHOLD_METRICS.get(metric.name)
    ignoring = [
        name
        for name, candidate in candidates.items()
        if not takes_sample_weight(
            build_pipeline(
                candidate, candidate.opening_config(), profile, None, tune_threshold_for=tuned
            ).steps[-1][1]
        )
    ]
    if ignoring:
        warnings.warn(
            f"sample_weight is not used to fit {ignoring}: their estimators take no weights. "
            "Their scores are still weighted; leave them out with algorithms=[...] if the "
            "weights matter to the fit.",
            AutoMLWarning,
            stacklevel=4,
        )


def check_predict_input(X: Any) -> Any:
    """Refuse what no pipeline can predict on, with scikit-learn's words for it."""
    if not hasattr(X, "iloc") and np.asarray(X).ndim == 1:
        raise DataValidationError(
            "Expected 2D array, got 1D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
            "if it contains a single sample."
        )
    return X


class AutoMLClassifier(ClassifierMixin, AutoMLBase):
    """Search classification algorithms and their hyperparameters jointly.

    Parameters
    ----------
    time_budget : float or None, default=60
        Wall-clock seconds for the whole of ``fit``, from the call to its return:
        validation, search, final refit and nested CV end within 5% (+1 s) of it. No
        trial starts that is expected not to finish in time; trials still running at the
        end are stopped; the refit's expected time is kept free.
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
        With a single holdout of 7,500 training rows or more (``cv="auto"`` on large data),
        a trial first fits on a third of them (and before that on a ninth, from 22,500
        rows) and stops there when its score is below the median of earlier trials at that
        size (successive halving on rows, see :mod:`automl.fidelity`;
        ``leaderboard_['note']`` says where a trial stopped).
    outer_cv : int, float, splitter or None, default=None
        Nested cross-validation: run one independent search per outer fold on its training
        part and score the winner on its test part (``nested_cv_``); the final model comes
        from a search on all rows. ``time_budget`` covers everything, shared equally between
        the outer searches and the final one (see ``nested_cv_.budget``).
    n_jobs : int, default=1
        Trials run at once, each in its own worker process (-1: one per core). Learners
        run on one thread each. With ``n_trials``, no ``time_budget`` and a seed, a search
        is reproducible for a fixed ``n_jobs`` (another ``n_jobs`` gives other trials).
        With ``outer_cv``, up to ``n_jobs`` outer searches run at once, each one trial at
        a time, so the nested estimate does not depend on ``n_jobs``; the final search
        then runs ``n_jobs`` trials at once. Never more than ``n_jobs`` workers in all.
    executor : {"processes", "inprocess"}, default="processes"
        Where trials run. ``"processes"``: worker processes with hard time and memory
        limits (a hanging, crashing or memory-hungry learner is killed, recorded and
        replaced). ``"inprocess"``: in this process, one at a time, without hard limits
        (for debugging).
    scheduler : str or None, default=None
        The address of a Dask scheduler (``"tcp://host:8786"``; needs
        ``pip install 'automl[dask]'``): trials run on its workers, as many at once as
        the workers have threads, each in a child process its worker can kill (so
        ``trial_time_limit`` and ``memory_limit`` hold there too). The study stays in
        this process (or in ``storage``). ``n_jobs`` then only sets how many outer
        searches of ``outer_cv`` run at once. See README, "More machines".
    trial_time_limit : float or None, default=None
        Seconds a trial (all its folds) may run before it is killed and recorded as
        ``timeout``. None: a quarter of the time budget, or 600 s without one.
    memory_limit : float or None, default=None
        MB of resident memory a worker (with its child processes) may use before its
        trial is killed and recorded as ``memory``. None: 75% of the machine's memory,
        shared by the ``n_jobs`` workers.
    callbacks : list of callables, optional
        Each is called with a :class:`automl.search.SearchProgress` (trials running,
        complete, pruned, failed and timed out; the best so far) after every trial and
        about once a second.
    storage : str or None, default=None
        An Optuna storage URL (``"sqlite:///run.db"``, or PostgreSQL with
        ``pip install 'automl[postgres]'``: ``"postgresql+psycopg://user@host/db"``): every
        finished trial is written as it finishes, so an interrupted search can be resumed.
        One process runs a stored search at a time; a second is refused
        (:class:`automl.exceptions.StudyInUseError`).
    study_name : str, default="automl"
        The study's name in ``storage`` (one storage can hold many searches). With
        ``outer_cv``, the outer searches are ``"<study_name>-outer-<k>"``.
    resume : bool, default=False
        Continue the search stored in ``storage``: finished trials are kept, and the budget
        counts what is left. Refused if the data or settings differ.
    random_state : int or None, default=None
        Seed for folds, sampler and estimators.
    ensemble : bool, default=True
        Return a weighted ensemble of the best trials when it beats the best trial on the
        inner folds: greedy ensemble selection with replacement (Caruana et al., 2004)
        over the out-of-fold predictions of the best 50 trials of this session (fewer if
        their predictions would take over 256 MB), the members refit on all
        rows within the time budget (the search keeps time free for it), combined in a
        soft-voting ``VotingClassifier`` (``VotingRegressor`` for regression) of
        ``FrozenEstimator`` members. Not built for ``metric="f1"`` or ``"mcc"`` on binary
        targets, whose decision threshold is tuned per pipeline.
    ensemble_size : int, default=25
        Rounds of the selection (members counted with repetition; weights are counts over
        rounds). The prefix of rounds with the best score is kept.
    portfolio : bool or path, default=False
        The configurations the search opens with (strategies "bayesian" and "random"),
        after ``configurations``. False: each algorithm's opening configuration. True: the
        built-in portfolio, learned on other data sets (``search_spaces/portfolio.toml``);
        off by default because at 60 s it did not beat the openings on our benchmark (see
        BENCHMARKS.md). A path: your own file of ``[[configurations]]`` tables
        (``algorithm = "..."``, parameter values, optionally ``task = "binary"``) with
        ``schema_version = 1``. Algorithms a portfolio leaves out open with theirs anyway.
    early_stopping : bool or "auto", default=False
        True: find the number of boosting rounds of LightGBM, XGBoost and
        HistGradientBoosting by early stopping in each fold instead of searching it: the
        model fits on 90% of
        the fold's training rows (at least 100 rows or 20% are held back) up to the top of
        the rounds' range and stops after ``patience`` rounds (declared in the space
        file's ``[early_stopping]`` table) without improvement of its loss on the rows
        held back; the fold is scored on its own test rows as always. The refit on all
        rows uses the mean of the rounds found in the folds (``best_params_`` and
        ``leaderboard_`` show it). Off for ``metric="f1"`` or ``"mcc"`` on binary targets
        (the threshold tuning wraps the model). False: the rounds are searched. "auto":
        True when the data has more than 10,000 rows. Off by default: at 60 s on our
        benchmark it lost on small data (the rows held back cost more than the rounds it
        saves) and was level on large data (BENCHMARKS.md).
    objectives : list of str or None, default=None
        A multi-objective search: the accuracy metric first (it replaces ``metric``;
        giving both is an error), then any of ``"predict_latency"`` (median milliseconds
        to predict 1,000 rows on one thread, after a warm-up) and ``"model_size"`` (MB of
        the pickled pipeline), both measured on each trial's model of its last training
        fold and minimised (see :mod:`automl.objectives`). The sampler is TPE's
        multi-objective form. What changes: no pruning (Optuna has none for several
        objectives: a trial poor after one fold may be fast and small), no ensemble (it
        would cost the sum of its members), ``best_pipeline_`` is the most accurate trial
        of the front (within ``constraints`` when given), ``pareto_front_`` holds the
        front and :meth:`select` refits the most accurate trial within bounds you give.
        Latency is measured, so a seeded run is not exactly reproducible: the scores of
        a configuration are, the times are not, and through the sampler they steer which
        configurations come next.
    constraints : dict or None, default=None
        Bounds on costs, e.g. ``{"predict_latency": 5, "model_size": 10}`` (ms per 1,000
        rows, MB): trials over a bound are marked infeasible (``leaderboard_["feasible"]``)
        and the sampler learns from it (Optuna's ``Trial.set_constraint``);
        ``best_pipeline_`` is the most accurate feasible trial. With or without
        ``objectives``; no ensemble is built under constraints.
    task : {"binary", "multiclass"} or None, default=None
        Override the task inferred from the target.

    Attributes
    ----------
    best_pipeline_ : sklearn.pipeline.Pipeline, VotingClassifier or VotingRegressor
        The final model: the ensemble (see ``ensemble_``), or the best configuration
        refit on all rows (see ``fitted_on_``). Plain scikit-learn either way.
    ensemble_ : pandas.DataFrame or None
        The ensemble's members (``trial``, ``algorithm``, ``weight``, the trial's own CV
        score), largest weight first; None when the final model is the best trial alone
        (``ensemble=False``, or no ensemble beat it, or its members could not be refit in
        time). ``best_params_``, ``best_score_`` and ``best_algorithm_`` always describe
        the best single trial.
    ensemble_score_ : float or None
        The ensemble's mean score on the inner folds (``ensemble_fold_scores_``: per fold).
        Optimistic: its members and weights were chosen on those folds; ``outer_cv``
        measures the ensemble honestly. The report shows it as a row of its leaderboard;
        ``leaderboard_`` itself lists trials only.
    fitted_on_ : str
        ``"all rows"``; or, when the refit could not finish within the time budget, why
        ``best_pipeline_`` is the best trial's model from its last training fold.
    oof_predictions_ : ndarray or None
        Out-of-fold predictions of the best trial on ``cv_splits_`` (class probabilities
        in ``classes_`` order, or values); NaN for rows in no test fold. None when the best
        trial came from an earlier, resumed run.
    best_per_algorithm_ : dict of str to automl.search.record.AlgorithmBest
        Each algorithm's best complete trial: its number and score, its out-of-fold
        predictions, and the pickled size and predict time (ms per 1,000 rows, one thread)
        of its model fitted on the last training fold, all measured once during the
        search (None for a best that came from an earlier, resumed run). The report reads
        these; it fits nothing.
    cv_splits_ : list of (train, test) index arrays
        The folds every trial was scored on (``groups`` honoured).
    best_params_ : dict
        ``algorithm`` and its parameters (plain names).
    best_score_ : float
        Mean inner-CV score of the best trial, in the metric's natural sign.
    scorer_ : callable
        The search metric as a scikit-learn scorer, ``scorer_(model, X, y)``, greater is
        better (a loss such as rmse comes back negated). ``score(X, y)`` is scikit-learn's
        (accuracy for classifiers, R^2 for regressors), not the search metric.
    leaderboard_ : pandas.DataFrame
        One row per trial, best first.
    cv_results_ : dict
        The search in ``GridSearchCV.cv_results_`` shape.
    study_ : optuna.Study
    classes_ : ndarray
    nested_cv_ : automl.nested.NestedResult
        With ``outer_cv``: per outer fold scores and choices, the outer mean with a 95%
        interval, the optimism of the inner best, and which algorithms won.
    spaces_ : dict of str to AlgorithmSpec
        The space of each algorithm the (last) search ran, as :meth:`refine` narrows it.
    pareto_front_ : pandas.DataFrame or None
        With ``objectives``: the complete trials no other beats on every objective (the
        metric and each cost: ``predict_latency_ms``, ``model_size_mb``), most accurate
        first; only feasible trials when ``constraints`` are met by any. None otherwise.
    selected_ : dict
        After :meth:`select`: the trial it refit, its score and measured costs.
    rounds_, refined_space_, studies_, best_round_
        After :meth:`refine`: one row per round (study, trials, best), the space the last
        round searched (``describe()``, ``to_frame()``, ``save(dir)``), the rounds'
        studies, and the round the final model comes from. ``leaderboard_`` then joins
        the rounds (column ``round``).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from automl import AutoMLClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> model = AutoMLClassifier(n_trials=5, time_budget=None, cv=3, random_state=0).fit(X, y)
    >>> model.predict(X.iloc[:3]).shape
    (3,)
    """

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
        executor: str = "processes",
        scheduler: str | None = None,
        trial_time_limit: float | None = None,
        memory_limit: float | None = None,
        callbacks: Sequence[Callable[[SearchProgress], Any]] | None = None,
        storage: str | None = None,
        study_name: str = "automl",
        resume: bool = False,
        random_state: int | None = None,
        ensemble: bool = True,
        ensemble_size: int = ENSEMBLE_SIZE,
        portfolio: bool | str | Path = False,
        early_stopping: bool | str = False,
        objectives: Sequence[str] | None = None,
        constraints: Mapping[str, float] | None = None,
        task: str | None = None,
    ) -> None:
        super().__init__(
            time_budget=time_budget,
            n_trials=n_trials,
            metric=metric,
            cv=cv,
            strategy=strategy,
            algorithms=algorithms,
            spaces=spaces,
            configurations=configurations,
            column_kinds=column_kinds,
            prune=prune,
            outer_cv=outer_cv,
            n_jobs=n_jobs,
            executor=executor,
            scheduler=scheduler,
            trial_time_limit=trial_time_limit,
            memory_limit=memory_limit,
            callbacks=callbacks,
            storage=storage,
            study_name=study_name,
            resume=resume,
            random_state=random_state,
            ensemble=ensemble,
            ensemble_size=ensemble_size,
            portfolio=portfolio,
            early_stopping=early_stopping,
            objectives=objectives,
            constraints=constraints,
        )
        self.task = task

    def _task_argument(self) -> str | None:
        if self.task not in (None, "binary", "multiclass"):
            raise InvalidParameterError(
                f"The 'task' parameter of AutoMLClassifier must be "
                f"'binary', 'multiclass' or None; got {self.task!r}."
            )
        return self.task

    def _fit_validated(self, frame, y, profile, groups=None, started=None, sample_weight=None):
        if profile.task == "regression":
            raise DataValidationError(
                "Unknown label type: continuous. AutoMLClassifier got a continuous target "
                "(a regression task); use AutoMLRegressor, or pass task='multiclass' if the "
                "values are classes."
            )
        return super()._fit_validated(frame, y, profile, groups, started, sample_weight)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from the best pipeline, columns in ``classes_`` order."""
        check_is_fitted(self, "best_pipeline_")
        return self.best_pipeline_.predict_proba(check_predict_input(X))


class AutoMLRegressor(RegressorMixin, AutoMLBase):
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


def _opening(candidates: dict, opening: tuple[str, dict[str, Any]] | None) -> list:
    """The previous round's best, first in a refinement round (when its space holds it)."""
    if opening is None or opening[0] not in candidates:
        return []
    algorithm, config = opening
    try:
        return [(algorithm, complete_config(candidates[algorithm], config))]
    except InvalidParameterError as exc:
        logger.info("The previous best is outside the refined space, not run again: %s", exc)
        return []


def _n_splits(cv: Any) -> int:
    if isinstance(cv, float):
        return 1
    if isinstance(cv, (int, np.integer)):
        return int(cv)
    return cv.get_n_splits() if hasattr(cv, "get_n_splits") else len(list(cv))


def _tunes_threshold(profile: DatasetProfile, metric: Metric) -> bool:
    """Whether each pipeline tunes its decision threshold for the metric (f1, mcc)."""
    return metric.name in THRESHOLD_METRICS and profile.task == "binary"


def _any_complete(study: optuna.Study) -> bool:
    return bool(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
