"""``refine()``: another round of a search over a space narrowed from the last one.

A mixin of the estimators (:class:`automl.estimators.AutoMLBase`): it validates the data
against the round it refines, narrows the space (:mod:`automl.refinement` says how), runs
the round through the estimator's own search, joins the rounds' leaderboards, and keeps the
previous model when the round ends worse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from sklearn.utils.validation import check_is_fitted

from automl.data import check_sample_weight, validate_data
from automl.driver_state import driver_settings
from automl.evaluation import make_splits, search_seeds
from automl.exceptions import InvalidParameterError
from automl.execution import warm_up
from automl.parameters import check_settings
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
from automl.registry import load_registry
from automl.results import leaderboard
from automl.storage import FINGERPRINT_KEY, StudyStore

logger = logging.getLogger("automl")


class RefinementMixin:
    """``refine`` for the search estimators (it uses their ``_search`` and settings)."""

    # what the estimator this is mixed into provides (parameters, fitted attributes, steps)
    strategy: str
    n_trials: int | None
    storage: str | None
    spaces: Sequence[str]
    cv: Any
    column_kinds: Mapping[str, str] | None
    executor: str
    scheduler: str | None
    objectives: Sequence[str] | None
    random_state: int | None
    study_: optuna.Study
    spaces_: dict[str, Any]
    n_splits_: int
    _search: Any
    _fingerprint: Any
    _metric: Any
    _costs: Any
    _task_argument: Any

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
        if time_budget is None and self.n_trials is None:
            raise InvalidParameterError(
                "refine() with time_budget=None needs n_trials set on the estimator; "
                "without either the round would never end."
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
