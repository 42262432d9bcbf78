"""Tables built from a finished study, and the comparison report of a fit or a baseline.

- :func:`leaderboard`, :func:`cv_results`, :func:`summary`: tables and lines from a study.
- :class:`Report` and :func:`write_report`: the comparison report (data summary, leaderboard,
  paired comparison, nested CV, search history, diagnostics) as ``report.json`` (everything
  needed to render, versioned), ``report.html`` (self-contained: no network, no script) and
  ``report.md``. ``automl report RUN_DIR`` renders the last two again from the first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from automl.evaluation import Metric
from automl.space.suggest import from_optuna_params

STATE_NAMES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
               TrialState.FAIL: "failed", TrialState.RUNNING: "running",
               TrialState.WAITING: "waiting"}


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
        algorithm, params = from_optuna_params(t.params)
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
        rows.append(row)
    columns = ["trial", "algorithm", metric.name, "std", *[f"fold{i}" for i in range(n_splits)],
               "fit_time", "state", "reason", "worker", "params", "error", "note"]
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.sort_values(metric.name, ascending=not metric.greater_is_better,
                              na_position="last", kind="stable")
    return frame.reset_index(drop=True)


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
    plain = [dict(zip(("algorithm", "p"), from_optuna_params(t.params))) for t in trials]
    params = [{"algorithm": p["algorithm"], **p["p"]} for p in plain]
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
        [t.user_attrs.get("fit_time", np.nan) / n_splits for t in trials])
    results["mean_score_time"] = np.array(
        [t.user_attrs.get("score_time", np.nan) / n_splits for t in trials])
    results["state"] = np.array([STATE_NAMES.get(t.state, str(t.state)) for t in trials])
    return results


def summary(model: Any) -> str:
    """A few lines a user reads first: the winner, its inner score, and the honest estimate.

    With nested CV, the outer estimate and its interval stand next to the inner best, so
    the optimism of the inner score is in plain sight.
    """
    metric = model.metric_
    lines = [f"Best: {model.best_algorithm_}, inner {model.n_splits_}-fold CV {metric} "
             f"{model.best_score_:.4f} (dummy model {model.dummy_score_:.4f}); "
             f"{model.n_trials_} trials, {model.fit_time_:.1f}s."]
    nested = getattr(model, "nested_cv_", None)
    if nested is not None:
        low, high = nested.ci
        lines.append(
            f"Expected on new data (nested CV, {len(nested.folds)} outer folds): {metric} "
            f"{nested.mean:.4f} ± {nested.std:.4f}, 95% CI [{low:.4f}, {high:.4f}]; the inner "
            f"best of those searches was {nested.inner_mean:.4f} (optimism "
            f"{nested.optimism:+.4f}).")
        lines.append("Algorithms chosen per outer fold: "
                     + ", ".join(f"{a} {n}/{len(nested.folds)}" for a, n in nested.selection.items())
                     + ".")
    return "\n".join(lines)


REPORT_FILES = {"json": "report.json", "html": "report.html", "markdown": "report.md"}


class Report:
    """A comparison report: build it from a fit or a baseline, render it, save it.

    Parameters
    ----------
    content : dict
        The JSON-ready content (what ``report.json`` holds); build it with
        :meth:`from_source` or read it with :meth:`load`.

    Examples
    --------
    >>> import automl
    >>> from automl.report import Report
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> report = Report.from_source(automl.baseline(X, y, cv=3, algorithms=["ridge"]), X, y)
    >>> report.to_markdown().splitlines()[0]
    '# Baseline: default configurations compared'
    """

    def __init__(self, content: dict[str, Any]) -> None:
        self.content = content

    @classmethod
    def from_source(cls, source: Any, X: Any, y: Any, *, measure: bool = True,
                    deadline: float | None = None) -> Report:
        """The report of a fitted AutoMLClassifier/AutoMLRegressor or a baseline result.

        ``X`` and ``y`` are the data the source was fit on (for the data summary and the
        out-of-fold diagnostics). For a fit, ``measure=True`` also refits each algorithm's
        best configuration on all rows to measure its size; with ``deadline`` (a
        ``time.monotonic()`` value) only those expected to finish before it.
        """
        from automl.baseline import BaselineResult
        from automl.exceptions import InvalidParameterError
        from automl.report_sources import from_baseline, from_estimator

        if isinstance(source, BaselineResult):
            return cls(from_baseline(source, X, y))
        if hasattr(source, "best_pipeline_") and hasattr(source, "study_"):
            return cls(from_estimator(source, X, y, measure=measure, deadline=deadline))
        raise InvalidParameterError(
            f"A report is made from a fitted AutoMLClassifier/AutoMLRegressor or the result of "
            f"automl.baseline(); got {type(source).__name__}. Fit the estimator first.")

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """Read ``report.json`` (or the folder holding it)."""
        from automl.exceptions import DataValidationError
        from automl.report_sources import SCHEMA_VERSION

        path = Path(path)
        if path.is_dir():
            path = path / REPORT_FILES["json"]
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file. A run folder holds report.json "
                                    "when it was written by write_report, 'automl fit --out' "
                                    "or 'automl baseline --out'.")
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataValidationError(f"{path}: not a valid report.json ({exc}).") from None
        version = content.get("schema_version") if isinstance(content, dict) else None
        if version != SCHEMA_VERSION:
            raise DataValidationError(
                f"{path}: report schema_version {version!r}, but this automl reads version "
                f"{SCHEMA_VERSION}. Re-create the report with this version of automl.")
        return cls(content)

    def to_dict(self) -> dict[str, Any]:
        """The content as plain JSON values (a copy)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        return json.dumps(self.content, indent=1, allow_nan=False, ensure_ascii=False)

    def to_markdown(self) -> str:
        from automl.report_render import to_markdown

        return to_markdown(self.content)

    def to_html(self) -> str:
        from automl.report_render import to_html

        return to_html(self.content)

    def save(self, out_dir: str | Path, *, formats: tuple[str, ...] = ("json", "html",
                                                                          "markdown"),
             ) -> dict[str, Path]:
        """Write ``report.json``, ``report.html`` and ``report.md`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        render = {"json": self.to_json, "html": self.to_html, "markdown": self.to_markdown}
        paths = {}
        for name in formats:
            path = out / REPORT_FILES[name]
            path.write_text(render[name](), encoding="utf-8")
            paths[name] = path
        return paths


def write_report(source: Any, X: Any, y: Any, out_dir: str | Path, *,
                 deadline: float | None = None) -> dict[str, Path]:
    """Write the comparison report of a fit or a baseline into ``out_dir``.

    Parameters
    ----------
    source : AutoMLClassifier, AutoMLRegressor or BaselineResult
        A fitted estimator or the result of :func:`automl.baseline`.
    X, y : the data ``source`` was fit on.
    out_dir : path
        Created if needed; ``report.json``, ``report.html`` and ``report.md`` are written.
    deadline : float, optional
        A ``time.monotonic()`` value: the sizes of models that would take longer to refit
        are left out (``automl fit`` keeps its report inside the time budget this way).

    Returns
    -------
    dict
        ``{"json": Path, "html": Path, "markdown": Path}``.
    """
    return Report.from_source(source, X, y, deadline=deadline).save(out_dir)


def render_saved_report(run_dir: str | Path) -> dict[str, Path]:
    """Render ``report.html`` and ``report.md`` again from ``run_dir/report.json``."""
    return Report.load(run_dir).save(Path(run_dir) if Path(run_dir).is_dir()
                                     else Path(run_dir).parent, formats=("html", "markdown"))
