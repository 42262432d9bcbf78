"""``select()``: the most accurate trial within bounds on predict latency and model size.

A mixin of the estimators (:class:`automl.estimators.AutoMLBase`); it reads the costs the
search measured (:mod:`automl.objectives`) from ``leaderboard_`` and refits the chosen trial
through the search's own builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.utils.validation import check_is_fitted

from automl.data import check_sample_weight, validate_data
from automl.evaluation import search_seeds
from automl.exceptions import InvalidParameterError
from automl.objectives import COST_COLUMNS, LATENCY, SIZE, check_constraints
from automl.search.refit import replay
from automl.storage import FINGERPRINT_KEY, data_fingerprint
from automl.trial import RefitTask, SearchContext


class SelectionMixin:
    """``select`` for the search estimators (it uses their fitted attributes)."""

    # what the estimator this is mixed into provides (parameters, fitted attributes, steps)
    random_state: int | None
    study_: Any
    leaderboard_: pd.DataFrame
    metric_: str
    profile_: Any
    cv_splits_: list[Any]
    _candidates: dict[str, Any]
    _metric: Any

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
        if "round" in board.columns:  # after refine(): the trials of study_'s round
            board = board[board["round"] == getattr(self, "best_round_", board["round"].max())]
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


def _bounds_text(bounds: Mapping[str, float]) -> str:
    units = {LATENCY: "ms per 1,000 rows", SIZE: "MB"}
    return " and ".join(f"{bound:g} {units[name]}" for name, bound in bounds.items())
