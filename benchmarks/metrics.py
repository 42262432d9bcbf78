"""Test metrics from a worker's predictions, the dummy reference, and optimism.

Every system is scored here, by the same code, from the predictions its worker wrote.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

# The metric each search optimises, and the one the summary normalises: name, greater is better.
PRIMARY = {
    "binary": ("roc_auc", True),
    "multiclass": ("log_loss", False),
    "regression": ("rmse", False),
}


def aligned_proba(result: dict[str, Any], classes: np.ndarray) -> np.ndarray:
    """The worker's probabilities with columns in ``classes`` order (absent classes get 0)."""
    proba = np.asarray(result["proba"], dtype=float)
    position = {c: i for i, c in enumerate(result["classes"])}
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(classes):
        if c in position:
            out[:, j] = proba[:, position[c]]
    return out


def test_metrics(
    result: dict[str, Any], y_test: np.ndarray, classes: np.ndarray | None, task: str
) -> dict[str, float]:
    if task == "regression":
        pred = np.asarray(result["pred"], dtype=float)
        return {
            "rmse": float(np.sqrt(mean_squared_error(y_test, pred))),
            "r2": float(r2_score(y_test, pred)),
        }
    proba = aligned_proba(result, classes)
    pred = classes[np.argmax(proba, axis=1)]
    out = {
        "accuracy": float(accuracy_score(y_test, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_test, pred)),
        "log_loss": float(log_loss(y_test, np.clip(proba, 1e-15, 1.0), labels=classes)),
    }
    if task == "binary":
        out["roc_auc"] = float(roc_auc_score(y_test == classes[1], proba[:, 1]))
    return out


def dummy_score(
    y_train: np.ndarray, y_test: np.ndarray, classes: np.ndarray | None, task: str
) -> float:
    """The primary metric of a model that ignores the features (prior / mean)."""
    if task == "binary":
        return 0.5
    if task == "multiclass":
        prior = np.array([np.mean(y_train == c) for c in classes])
        return float(log_loss(y_test, np.tile(prior, (len(y_test), 1)), labels=classes))
    return float(np.sqrt(np.mean((y_test - np.mean(y_train)) ** 2)))


def optimism(val_score: float | None, test_score: float | None, task: str) -> float | None:
    """How much better the system's own validation score is than its test score (>0: optimistic)."""
    if val_score is None or test_score is None:
        return None
    _, greater_is_better = PRIMARY[task]
    return float(val_score - test_score) if greater_is_better else float(test_score - val_score)
