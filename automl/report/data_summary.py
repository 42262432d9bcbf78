"""Sections of a report computed from the data: the data summary and the diagnostics.

Everything here returns plain JSON-ready values (lists, dicts, str, float, None), so a
report can be rendered again from its ``report.json`` without the data.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    mean_absolute_error,
    precision_recall_curve,
    r2_score,
    roc_auc_score,
    roc_curve,
)

from automl.data import DatasetProfile

MAX_COLUMNS_LISTED = 100
MAX_CURVES = 10  # one-vs-rest curves drawn for at most this many classes
MAX_CURVE_POINTS = 300  # per curve: enough for the eye, keeps report.json small
MAX_SCATTER_POINTS = 2000


def data_summary(frame: pd.DataFrame, y: np.ndarray, profile: DatasetProfile) -> dict[str, Any]:
    """Rows, columns by kind, missing values, and the class balance or target distribution."""
    kinds = {**profile.kinds, **{c: "dropped" for c in profile.dropped}}
    missing = frame.isna().sum()
    columns = [
        {
            "name": str(c),
            "kind": kinds.get(c, "dropped"),
            "missing": int(missing[c]),
            "distinct": int(frame[c].nunique(dropna=True)),
        }
        for c in frame.columns[:MAX_COLUMNS_LISTED]
    ]
    summary: dict[str, Any] = {
        "n_rows": int(profile.n_rows),
        "n_columns": len(profile.columns),
        "n_numeric": len(profile.numeric),
        "n_categorical": len(profile.categorical),
        "n_datetime": len(profile.datetime) + len(profile.timestamp),
        "n_duration": len(profile.duration),
        "dropped": [str(c) for c in profile.dropped],
        "target": profile.target_name,
        "missing_cells": int(missing.sum()),
        "rows_with_missing": int(frame.isna().any(axis=1).sum()),
        "columns": columns,
        "columns_listed": len(columns),
    }
    if profile.task == "regression":
        values = np.asarray(y, dtype=float)
        counts, edges = np.histogram(values, bins=30)
        summary["target_distribution"] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
            **dict(
                zip(
                    ("min", "q25", "median", "q75", "max"),
                    map(float, np.quantile(values, [0, 0.25, 0.5, 0.75, 1])),
                )
            ),
            "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
        }
    else:
        labels, counts = np.unique(y, return_counts=True)
        summary["class_balance"] = [
            {"label": str(label), "count": int(n), "share": float(n / len(y))}
            for label, n in zip(labels, counts)
        ]
    return summary


def classification_diagnostics(
    y: np.ndarray, proba: np.ndarray, classes: tuple[Any, ...]
) -> dict[str, Any]:
    """Confusion matrix, ROC and precision-recall curves from out-of-fold probabilities."""
    keep = np.all(np.isfinite(proba), axis=1)
    y, proba = np.asarray(y)[keep], proba[keep]
    labels = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(classes)}
    truth_index = np.asarray([index[v] for v in y.tolist()])
    matrix = confusion_matrix(
        truth_index, np.argmax(proba, axis=1), labels=list(range(len(classes)))
    )
    positives = [1] if len(classes) == 2 else list(range(min(len(classes), MAX_CURVES)))
    roc, pr = [], []
    for j in positives:
        truth = (truth_index == j).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, proba[:, j])
        precision, recall, _ = precision_recall_curve(truth, proba[:, j])
        roc.append(
            {
                "label": labels[j],
                "auc": float(roc_auc_score(truth, proba[:, j])),
                "x": _thin(fpr),
                "y": _thin(tpr),
            }
        )
        pr.append(
            {
                "label": labels[j],
                "ap": float(average_precision_score(truth, proba[:, j])),
                "prevalence": float(truth.mean()),
                "x": _thin(recall[::-1]),
                "y": _thin(precision[::-1]),
            }
        )
    return {
        "kind": "classification",
        "labels": labels,
        "confusion": matrix.tolist(),
        "accuracy": float(np.trace(matrix) / max(matrix.sum(), 1)),
        "roc": roc,
        "pr": pr,
        "curves_note": (
            ""
            if len(classes) <= MAX_CURVES
            else f"One-vs-rest curves for the first {MAX_CURVES} of {len(classes)} classes."
        ),
        "n": int(len(y)),
    }


def regression_diagnostics(y: np.ndarray, predicted: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Predicted against true values and the residuals, from out-of-fold predictions."""
    y, predicted = np.asarray(y, dtype=float), np.asarray(predicted, dtype=float)
    keep = np.isfinite(predicted)
    y, predicted = y[keep], predicted[keep]
    residuals = y - predicted
    rows = np.arange(len(y))
    if len(rows) > MAX_SCATTER_POINTS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_SCATTER_POINTS, replace=False))
    return {
        "kind": "regression",
        "true": y[rows].tolist(),
        "predicted": predicted[rows].tolist(),
        "residuals": residuals[rows].tolist(),
        "n": int(len(y)),
        "n_plotted": int(len(rows)),
        "rmse": float(np.sqrt(np.mean(residuals**2))),
        "mae": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
    }


def _thin(values: np.ndarray) -> list[float]:
    """At most MAX_CURVE_POINTS points, evenly spaced, endpoints kept."""
    values = np.asarray(values, dtype=float)
    if len(values) > MAX_CURVE_POINTS:
        values = values[np.unique(np.linspace(0, len(values) - 1, MAX_CURVE_POINTS).astype(int))]
    return [round(float(v), 6) for v in values]


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become None, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)
