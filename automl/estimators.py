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
from sklearn.base import BaseEstimator, ClassifierMixin, ClusterMixin, RegressorMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from automl.builder import (
    build_pipeline,
    complete_config,
    is_imbalanced,
    make_candidate,
    takes_sample_weight,
)
from automl.cluster_scores import n_clusters, small_as_noise
from automl.cluster_trial import clustering_reference, null_reference
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
    COST_COLUMNS,
    LATENCY,
    SIZE,
    check_constraints,
    check_objectives,
)
from automl.parameters import check_settings, effective_jobs, trial_time_limit
from automl.refinement import (
    PREVIOUS_STUDY_KEY,
    ROUND_KEY,
    SPACE_FILES_KEY,
    RefinedSpace,
    joined_leaderboard,
    narrow_study,
    previous_best,
    round_chain,
    round_study_name,
    rounds_table,
)
from automl.registry import builtin_portfolio, load_registry, select_candidates
from automl.results import cv_results, leaderboard, pareto_front
from automl.search import Search, SearchProgress, SearchSettings, fit_final
from automl.search.refit import ALL_ROWS, FinalModel, replay
from automl.search.study import best_trial, meets_constraints
from automl.space.portfolio import read_portfolio
from automl.space.suggest import trial_configuration
from automl.storage import FINGERPRINT_KEY, StudyStore, data_fingerprint
from automl.trial import RefitTask, SearchContext

logger = logging.getLogger("automl")

# Seconds kept at the end of the budget for what follows the refit (leaderboard, dummy
# scores): the refit must be done by the deadline less this.
FINISH_MARGIN = 0.1
# A clustering search keeps this share of its budget (at most NULL_RESERVE_MAX seconds)
# for the null reference that follows it.
NULL_RESERVE, NULL_RESERVE_MAX = 0.1, 5.0


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

    # -- refine --------------------------------------------------------------------------
    def refine(
        self,
        X: Any,
        y: Any = None,
        *,
        target: str | None = None,
        time_budget: float | None = 60.0,
        space: Sequence[str | Path] | None = None,
        top_k: int | None = None,
        space_dir: str | Path | None = None,
        study: str | None = None,
        groups: Any = None,
        sample_weight: Any = None,
    ):
        """Search another round over a space narrowed from the last round's trials.

        The same data, folds, metric and seed as the round it refines; a new Optuna study
        (``<study_name>-round-2``, ... in ``storage``, linked to the one before). The space:
        algorithms significantly worse than the best dropped, each kept algorithm's ranges
        shrunk around its top trials (see :mod:`automl.refinement` for the rules). The last
        round's best configuration is the new round's first trial, and if the round still
        ends worse the model keeps what it had: refinement never makes the model worse.

        Parameters
        ----------
        X, y, target, groups, sample_weight
            The data of the round refined (checked against the study's fingerprint).
        time_budget : float or None, default=60
            Seconds for this round (search and refit).
        space : list of paths, optional
            The round's space files, searched instead of a space narrowed automatically:
            e.g. the files ``space_dir`` (or ``refined_space_.save(dir)``) wrote, edited.
        top_k : int, optional
            The top trials per algorithm the ranges are narrowed around (default: a
            quarter of its complete trials, at least 3).
        space_dir : path, optional
            Where to write the narrowed space files (``<algorithm>_refined.toml``); they
            are then loaded from there, as a person editing them would.
        study : str, optional
            Refine this finished study of ``storage`` rather than this model's last round
            (what ``automl fit --refine RUN_DIR`` does; the model need not be fitted).

        Returns
        -------
        self
            With ``leaderboard_`` holding every round (column ``round``), ``rounds_`` one
            row per round, ``refined_space_`` the space searched, ``studies_`` the studies,
            ``best_round_`` the round the final model comes from (its attributes, such as
            ``study_``, ``best_index_`` and ``ensemble_``, are that round's).
        """
        started = time.monotonic()
        if self.strategy == "manual":
            raise InvalidParameterError(
                "refine() narrows a searched space; strategy='manual' searches none. Use "
                "strategy='bayesian', 'random' or 'grid'."
            )
        if time_budget is not None and not (
            isinstance(time_budget, (int, float)) and time_budget > 0
        ):
            raise InvalidParameterError(
                f"refine()'s 'time_budget' must be a positive number of seconds or None; got "
                f"{time_budget!r}."
            )
        if self.executor == "processes" and self.scheduler is None:
            warm_up()
        frame, y_arr, profile = validate_data(
            X, y, target=target, task=self._task_argument(), column_kinds=self.column_kinds
        )
        weights = check_sample_weight(sample_weight, len(frame), y_arr, profile.task)
        check_settings(self)
        metric = self._metric(profile.task)
        if self._costs():
            raise InvalidParameterError(
                "refine() narrows around the most accurate trials of one objective; with "
                f"objectives={list(self.objectives or [])} use select() on pareto_front_ "
                "instead, or refine a search of the metric alone."
            )
        seeds = search_seeds(self.random_state)
        previous, specs, chain = self._last_round(study)
        _check_same_search(previous, self._fingerprint(frame, y_arr, profile, metric, weights))
        if space is None:
            splits = make_splits(self.cv, profile.task, y_arr, groups, random_state=seeds.cv)
            ratio = float(np.mean([len(te) / len(tr) for tr, te in splits]))
            refined = narrow_study(previous, specs, metric, profile.task, ratio, top_k)
            files = [] if space_dir is None else refined.save(space_dir)
        else:
            refined = RefinedSpace.from_files(space)
            files = [Path(p) for p in space]
        logger.info("%s", refined.describe())
        number = len(chain) + 1
        store = (
            None
            if self.storage is None
            else StudyStore(self.storage, _free_study_name(self.storage, chain[0], number))
        )
        kept = {
            k: v
            for k, v in vars(self).items()
            if (k.endswith("_") and not k.startswith("_")) or k == "_candidates"
        }
        deadline = None if time_budget is None else started + time_budget
        with driver_settings():
            self._search(
                frame,
                y_arr,
                profile,
                groups,
                metric,
                deadline,
                seeds,
                store,
                weights,
                space=refined,
                opening=previous_best(previous),
                time_budget=time_budget,
            )
        self.study_.set_user_attr(PREVIOUS_STUDY_KEY, previous.study_name)
        self.study_.set_user_attr(ROUND_KEY, number)
        self.study_.set_user_attr(SPACE_FILES_KEY, [str(Path(f).resolve()) for f in files])
        self.studies_ = [*chain, self.study_]
        self.best_round_ = number
        if kept and metric.better(_model_score(kept), _model_score(vars(self))):
            kept.setdefault("best_round_", number - 1)
            logger.info(
                "Round %d found nothing better; the model keeps round %d's.", number, number - 1
            )
            self.__dict__.update(kept)
        self.leaderboard_ = joined_leaderboard(
            [leaderboard(s, metric, self.n_splits_) for s in self.studies_], metric
        )
        self.rounds_ = rounds_table(self.studies_, metric)
        self.refined_space_ = refined
        self.fit_time_ = time.monotonic() - started
        return self

    def _last_round(self, study: str | None):
        """The study to refine, its algorithms' specs, and the rounds up to it."""
        if study is None:
            check_is_fitted(self, "study_")
            chain = list(getattr(self, "studies_", [self.study_]))
            return self.study_, self.spaces_, chain
        if self.storage is None:
            raise InvalidParameterError(
                f"refine(study={study!r}) reads the study from 'storage', which is None. Pass "
                "the storage URL the study is in."
            )
        try:
            found = optuna.load_study(study_name=study, storage=self.storage)
        except KeyError:
            raise InvalidParameterError(
                f"No study {study!r} in {self.storage}; its studies: "
                f"{optuna.get_all_study_names(self.storage)}."
            ) from None
        registry = load_registry([*self.spaces, *found.user_attrs.get(SPACE_FILES_KEY, [])])
        names = {
            t.params["algorithm"]
            for t in found.get_trials(deepcopy=False)
            if "algorithm" in t.params
        }
        missing = sorted(names - set(registry))
        if missing:
            raise InvalidParameterError(
                f"Study {study!r} searched {missing}, whose space files are not found here; "
                "pass them with spaces= (CLI: --spaces)."
            )
        return found, {n: registry[n] for n in names}, round_chain(found, self.storage)

    # -- deployment trade-offs -------------------------------------------------------------
    def select(
        self,
        X: Any,
        y: Any = None,
        *,
        max_latency_ms: float | None = None,
        max_size_mb: float | None = None,
        target: str | None = None,
        sample_weight: Any = None,
    ) -> Any:
        """Refit and return the most accurate trial whose measured costs are within bounds.

        Parameters
        ----------
        X, y, target, sample_weight
            The data the search ran on (checked against it): the trial is refit on all of
            it, through the same builder as the search's own refit.
        max_latency_ms : float, optional
            Milliseconds to predict 1,000 rows on one thread, as the search measured them.
        max_size_mb : float, optional
            Megabytes of the pickled pipeline.

        Returns
        -------
        sklearn.pipeline.Pipeline
            Fitted on all rows; ``selected_`` says which trial it is and its costs.

        Raises
        ------
        InvalidParameterError
            When no trial is within the bounds (naming the closest one), or the costs were
            not measured (fit with ``objectives`` or ``constraints`` naming them).
        """
        check_is_fitted(self, "study_")
        bounds = check_constraints(
            {
                name: bound
                for name, bound in ((LATENCY, max_latency_ms), (SIZE, max_size_mb))
                if bound is not None
            }
        )
        if not bounds:
            raise InvalidParameterError("select() needs max_latency_ms or max_size_mb.")
        columns = {name: COST_COLUMNS[name] for name in bounds}
        board = self.leaderboard_[self.leaderboard_["state"] == "complete"]
        missing = [c for c in columns.values() if c not in board.columns]
        if missing:
            raise InvalidParameterError(
                f"The search did not measure {missing}: fit with objectives=[metric, "
                f"{', '.join(repr(n) for n in bounds)}] (or constraints naming them) to "
                "select by them."
            )
        ratios = pd.concat([board[c] / bounds[n] for n, c in columns.items()], axis=1).max(axis=1)
        within = board[ratios <= 1.0]
        if within.empty:
            closest = board.loc[ratios.idxmin()]
            measured = ", ".join(f"{c} {closest[c]:.4g}" for c in columns.values())
            raise InvalidParameterError(
                f"No trial is within {_bounds_text(bounds)}; the closest is trial "
                f"{closest['trial']} ({closest['algorithm']}: {measured}, {self.metric_} "
                f"{closest[self.metric_]:.4g}). Loosen the bounds, or search longer with "
                "them as constraints."
            )
        row = within.iloc[0]  # the leaderboard is best first
        frame, y_arr, profile = validate_data(
            X, y, target=target, task=self.profile_.task, column_kinds=self.profile_.kinds
        )
        weights = check_sample_weight(sample_weight, len(frame), y_arr, profile.task)
        saved = self.study_.user_attrs.get(FINGERPRINT_KEY, {}).get("data")
        weights_arg = {} if weights is None else {"sample_weight": weights}
        if saved is not None and saved != data_fingerprint(frame, y_arr, **weights_arg):
            raise InvalidParameterError(
                "select() refits on the data the search ran on; these rows, columns, target "
                "or weights differ from it."
            )
        trial = next(t for t in self.study_.trials if t.number == int(row["trial"]))
        algorithm, config = replay(trial, self._candidates)
        context = SearchContext(
            "select",
            frame.to_numpy() if profile.from_array else frame,
            y_arr,
            self.cv_splits_,
            profile,
            self._metric(profile.task),
            self._candidates,
            search_seeds(self.random_state).estimator,
            weights,
        )
        refit = RefitTask(trial.number, algorithm, config, time_limit=float("inf")).run(context)
        self.selected_ = {
            "trial": trial.number,
            "algorithm": algorithm,
            self.metric_: float(row[self.metric_]),
            **{c: float(row[c]) for c in COST_COLUMNS.values() if c in row.index},
        }
        return refit.pipeline

    # -- use -----------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Predict with the best pipeline."""
        check_is_fitted(self, "best_pipeline_")
        return self.best_pipeline_.predict(_check_predict_input(X))

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


def _check_predict_input(X: Any) -> Any:
    """Refuse what no pipeline can predict on, with scikit-learn's words for it."""
    if not hasattr(X, "iloc") and np.asarray(X).ndim == 1:
        raise DataValidationError(
            "Expected 2D array, got 1D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
            "if it contains a single sample."
        )
    return X


class AutoMLClassifier(ClassifierMixin, _AutoMLBase):
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
        return self.best_pipeline_.predict_proba(_check_predict_input(X))


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


class AutoMLClusterer(ClusterMixin, _AutoMLBase):
    """Search clustering algorithms and their hyperparameters jointly, without labels.

    Each trial picks an algorithm (k-means, Gaussian mixture, agglomerative, DBSCAN,
    HDBSCAN, spectral), its parameters and its preprocessing (imputer, scaler, an optional
    PCA), fits it on all rows and is scored in one reference space shared by all trials
    (see :mod:`automl.cluster_scores`): by default DBCV, a density-based validity index that
    rates clusters of any shape, with silhouette, Calinski-Harabasz, Davies-Bouldin and
    stability (agreement with fits on subsamples) alongside. There are no folds; the
    subsamples of the stability score take their place (see :mod:`automl.cluster_trial`).
    After the search the best configuration is compared with fits on uniform data in the
    same box (``null_reference_``): a clustering algorithm always returns clusters, and only
    that comparison says whether the data has any.

    Parameters
    ----------
    metric : {"dbcv", "silhouette", "calinski_harabasz", "davies_bouldin", "stability"}
        The objective (default ``"dbcv"``).
    time_budget, n_trials, strategy, algorithms, spaces, configurations, column_kinds,
    n_jobs, executor, scheduler, trial_time_limit, memory_limit, callbacks, storage,
    study_name, resume, random_state
        As for :class:`AutoMLClassifier`.

    Attributes
    ----------
    labels_ : ndarray
        The cluster of every row of the data fitted on (-1: noise, for DBSCAN/HDBSCAN).
    n_clusters_ : int
        The clusters that count: those holding at least 1% of the rows. Smaller groups
        (a few outlying rows split off) stay in ``labels_`` but the scores count them as
        noise.
    best_pipeline_, best_algorithm_, best_params_, best_score_, leaderboard_, study_
        As for :class:`AutoMLClassifier`; ``leaderboard_`` has every score of every trial
        (``n_clusters``, ``noise_share``, ``dbcv``, ``silhouette``, ...).
    null_reference_ : dict
        The best configuration's score on the data and on uniform data (mean, std),
        ``structure`` (True when the data's beats the null by more than two standard
        deviations) and the ``verdict`` in words.
    external_scores_ : dict or None
        With ``fit(X, evaluate_with=labels)``: adjusted Rand index and normalised mutual
        information of ``labels_`` against those labels (never used by the search).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from automl import AutoMLClusterer
    >>> X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> model = AutoMLClusterer(n_trials=6, time_budget=None, random_state=0,
    ...                         algorithms=["kmeans"]).fit(X)
    >>> model.labels_.shape
    (300,)
    """

    # supervised settings that have no meaning here (not parameters: get_params omits them)
    cv = "auto"
    prune = False
    outer_cv = None
    ensemble = False
    ensemble_size = ENSEMBLE_SIZE  # unused: no ensemble of clusterings
    portfolio = False
    early_stopping = False
    objectives = None
    constraints = None

    def __init__(
        self,
        *,
        time_budget: float | None = 60.0,
        n_trials: int | None = None,
        metric: str | None = None,
        strategy: str = "bayesian",
        algorithms: Sequence[str] | None = None,
        spaces: Sequence[str] = (),
        configurations: Sequence[Mapping[str, Any]] | None = None,
        column_kinds: Mapping[str, str] | None = None,
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
    ) -> None:
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.metric = metric
        self.strategy = strategy
        self.algorithms = algorithms
        self.spaces = spaces
        self.configurations = configurations
        self.column_kinds = column_kinds
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

    def _task_argument(self) -> str | None:
        return "clustering"

    def fit(self, X: Any, y: Any = None, *, evaluate_with: Any = None):  # type: ignore[override]
        """Search clusterings of X; ``y`` is ignored (scikit-learn's convention).

        ``evaluate_with``: labels you already have, compared with ``labels_`` afterwards
        (``external_scores_``) and never seen by the search.
        """
        started = time.monotonic()
        if self.executor == "processes" and self.scheduler is None:
            warm_up()
        frame, y_arr, profile = validate_data(X, task="clustering", column_kinds=self.column_kinds)
        truth = _check_evaluation_labels(evaluate_with, len(frame))
        self._fit_validated(frame, y_arr, profile, None, started, None)
        data = frame.to_numpy() if profile.from_array else frame
        model = self.best_pipeline_.steps[-1][1]
        labels = getattr(model, "labels_", None)
        if labels is None or len(labels) != len(frame):
            labels = self.best_pipeline_.predict(data)
        self.labels_ = np.asarray(labels)
        self.n_clusters_ = n_clusters(small_as_noise(self.labels_))
        reference = self.__dict__.pop("_clustering_reference")
        metric = self._metric("clustering")
        self.null_reference_ = null_reference(
            self.best_pipeline_,
            reference,
            metric.name,
            metric.greater_is_better,
            search_seeds(self.random_state).estimator,
        )
        self.external_scores_ = None if truth is None else _external_scores(self.labels_, truth)
        self.fit_time_ = time.monotonic() - started
        return self

    def refine(self, *args: Any, **kwargs: Any):
        """Not for clustering yet: a refined round would also need its labels and null
        reference recomputed. Pass narrower space files with ``spaces=`` to a new fit."""
        raise InvalidParameterError(
            "refine() is for supervised searches; for clustering, write a narrower space "
            "file (automl space kmeans > mine.toml, then edit it) and fit again with "
            "spaces=['mine.toml'], algorithms=['mine']."
        )

    def select(self, *args: Any, **kwargs: Any):
        """Not for clustering: latency and size are not measured for clusterings."""
        raise InvalidParameterError(
            "select() picks by measured predict latency and model size, which a clustering "
            "search does not measure; see leaderboard_ for every trial's scores."
        )

    def predict(self, X: Any) -> np.ndarray:
        """The cluster of new rows, for algorithms that assign them (k-means, Gaussian
        mixture); DBSCAN, HDBSCAN, agglomerative and spectral clustering do not."""
        check_is_fitted(self, "best_pipeline_")
        model = self.best_pipeline_.steps[-1][1]
        if not hasattr(model, "predict"):
            raise InvalidParameterError(
                f"The chosen algorithm ({self.best_algorithm_}, {type(model).__name__}) does "
                "not assign new rows to clusters: it has no predict. labels_ holds the "
                "clusters of the rows it was fitted on (fit_predict returns them); to cluster "
                "new rows, search with algorithms=['kmeans', 'gaussian_mixture']."
            )
        return self.best_pipeline_.predict(_check_predict_input(X))


def _check_evaluation_labels(labels: Any, n_rows: int) -> np.ndarray | None:
    if labels is None:
        return None
    values = np.asarray(labels)
    if values.ndim != 1 or len(values) != n_rows:
        raise DataValidationError(
            f"evaluate_with must hold one label per row of X ({n_rows}); got shape {values.shape}."
        )
    return values


def _external_scores(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "adjusted_rand": float(adjusted_rand_score(truth, labels)),
        "normalized_mutual_info": float(normalized_mutual_info_score(truth, labels)),
    }


def _bounds_text(bounds: Mapping[str, float]) -> str:
    units = {LATENCY: "ms per 1,000 rows", SIZE: "MB"}
    return " and ".join(f"{bound:g} {units[name]}" for name, bound in bounds.items())


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


def _model_score(attributes: Mapping[str, Any]) -> float:
    """The cross-validated score of the model a fitted estimator returns."""
    if attributes.get("ensemble_") is not None:
        return float(attributes["ensemble_score_"])
    return float(attributes["best_score_"])


# What must match between a round and the round it refines (the folds come from cv and the
# seed; budgets, algorithms and spaces may change).
SAME_SEARCH = ("data", "task", "metric", "cv", "random_state", "column_kinds")


def _check_same_search(previous: optuna.Study, now: dict[str, Any]) -> None:
    saved = previous.user_attrs.get(FINGERPRINT_KEY, {})
    for key in SAME_SEARCH:
        if key in saved and saved[key] != now[key]:
            what = "the data (rows, columns, target or weights)" if key == "data" else repr(key)
            raise InvalidParameterError(
                f"refine() needs the data and settings of the round it refines: {what} "
                f"differs (was {saved[key]!r}, now {now[key]!r}). Refine with the same "
                "data, metric, cv and random_state, or start a new search with fit()."
            )


def _free_study_name(storage: str, first: optuna.Study, number: int) -> str:
    """``<first>-round-N``, or with a suffix when a round N was already refined from it."""
    taken = set(optuna.get_all_study_names(storage))
    name = round_study_name(first.study_name, number)
    suffix = 2
    while name in taken:
        name = f"{round_study_name(first.study_name, number)}-{suffix}"
        suffix += 1
    return name


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
