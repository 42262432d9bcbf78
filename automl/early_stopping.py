"""Early stopping inside a fold: the rounds of a boosting learner found, not searched.

A fold's training rows are split once more: the learner fits on most of them and stops
when its loss on the rest (the validation part) has not improved for ``patience`` rounds.
The rows the fold is scored on never take part, so the fold score stays honest. The
preprocessing is fitted on the fitting part only and applied to the validation part, as
the pipeline would apply it. The number of rounds found is returned, and the refit on all
rows uses the mean over the folds (see :func:`refit_rounds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from automl.adapters import load_adapter
from automl.builder import Candidate
from automl.evaluation import take_rows

# The validation part: 10% of the fold's training rows (as HistGradientBoosting's own
# early stopping), but at least 100 rows or 20%, whichever is fewer, so that a small fold
# does not stop on the noise of a dozen rows.
VALIDATION_SHARE = 0.10
VALIDATION_MIN_ROWS = 100
VALIDATION_MAX_SHARE = 0.20


# early_stopping="auto" turns it on for data of more than this many rows (scikit-learn's
# HistGradientBoosting has the same rule, and cv="auto" switches to a holdout there): at
# 60 s on the dev sets early stopping lost on the small ones, where the rows it holds back
# cost more than the rounds it saves, and was level on the large ones (BENCHMARKS.md).
AUTO_MIN_ROWS = 10_000


def early_stops(setting: bool | str, n_rows: int) -> bool:
    """Whether the search finds the rounds by early stopping: ``setting`` True or False,
    or ``"auto"``: when the data has more than ``AUTO_MIN_ROWS`` rows."""
    if setting == "auto":
        return n_rows > AUTO_MIN_ROWS
    return bool(setting)


def validation_rows(n_rows: int) -> int:
    """How many of ``n_rows`` training rows form the validation part."""
    return max(
        int(round(VALIDATION_SHARE * n_rows)),
        min(VALIDATION_MIN_ROWS, int(VALIDATION_MAX_SHARE * n_rows)),
        1,
    )


def fit_early_stopped(
    pipeline: Pipeline,
    candidate: Candidate,
    X: Any,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    classification: bool,
    seed: int | None,
) -> tuple[Pipeline, int]:
    """Fit ``pipeline`` on ``(X, y)`` (a fold's training rows) with early stopping.

    Returns the fitted pipeline (its model fitted on the fitting part, predicting with the
    best round) and the number of rounds found.
    """
    stopping = candidate.early_stopping
    adapter = load_adapter(candidate.spec.adapter or "")
    if stopping is None or adapter.fit_early_stopped is None:
        raise ValueError(f"{candidate.name} has no early stopping")
    fit_rows, val_rows = _split(y, classification, seed)
    if classification:
        # a class the model never saw cannot be scored on the validation part
        val_rows = val_rows[np.isin(y[val_rows], y[fit_rows])]
    preprocess, model = (clone(step) for _, step in pipeline.steps)
    X_fit, y_fit = take_rows(X, fit_rows), y[fit_rows]
    X_fit = preprocess.fit_transform(X_fit, y_fit)
    X_val = preprocess.transform(take_rows(X, val_rows))
    weights = (
        (None, None)
        if sample_weight is None
        else (sample_weight[fit_rows], sample_weight[val_rows])
    )
    model, rounds = adapter.fit_early_stopped(
        model, X_fit, y_fit, X_val, y[val_rows], stopping.patience, *weights
    )
    names = [name for name, _ in pipeline.steps]
    return Pipeline([(names[0], preprocess), (names[1], model)]), rounds


def _split(y: np.ndarray, classification: bool, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(y))
    n_val = validation_rows(len(y))
    stratify = None
    if classification:
        _, counts = np.unique(y, return_counts=True)
        # stratified when every class can give a row to each part
        if counts.min() >= 2 and n_val >= len(counts) and len(y) - n_val >= len(counts):
            stratify = y
    fit_rows, val_rows = train_test_split(
        rows, test_size=n_val, stratify=stratify, random_state=seed
    )
    return np.sort(fit_rows), np.sort(val_rows)


def refit_rounds(rounds: list[int]) -> int:
    """The rounds a refit on all rows uses: the mean over the folds.

    Not scaled up for the refit's larger share of rows: more rows usually want a few more
    rounds, but by how much depends on the data; fewer is the cheaper side of the doubt.
    """
    return max(int(round(float(np.mean(rounds)))), 1)
