"""The paired comparison of models scored on the same cross-validation folds: the report's
"not significantly worse than the best" and refinement's rule for dropping an algorithm.

Test: the corrected resampled t-test of Nadeau and Bengio (2003), one-sided, on the
per-fold score differences between the overall best model and each other model.

Why this test: the k fold scores of one model are not independent (every two training sets
share most of their rows), so the variance of the mean difference is larger than
``var / k``, and the plain paired t-test calls too many differences significant (Dietterich
1998; Bengio and Grandvalet 2004). Nadeau and Bengio inflate the variance by
``1/k + n_test/n_train`` instead of ``1/k``; it is the same correction the engine uses for
the nested-CV interval (:mod:`automl.nested`), so one report uses one idea of uncertainty.
It is a heuristic for k-fold CV (derived for repeated random splits) and, with 5 folds,
has little power: "not significantly worse" means "the folds cannot tell them apart", not
"equally good". One-sided, because the question is whether a model is *worse* than the
best; the best was picked on these same folds, which favours it slightly (winner's curse).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

TEST_NAME = "corrected resampled t-test (Nadeau and Bengio 2003), one-sided"
ALPHA = 0.05


def corrected_paired_ttest(
    best: Sequence[float],
    other: Sequence[float],
    test_train_ratio: float,
    greater_is_better: bool,
) -> dict[str, float]:
    """Test whether ``other`` scores worse than ``best`` on the same folds.

    Parameters
    ----------
    best, other : sequence of float
        Scores on the same folds, in the metric's natural sign.
    test_train_ratio : float
        ``n_test / n_train`` of the folds (``1 / (k - 1)`` for k-fold CV).
    greater_is_better : bool
        The metric's direction.

    Returns
    -------
    dict
        ``difference`` (mean amount by which ``best`` is better, >= 0 when it is), ``t``,
        and ``p`` (one-sided p-value of "other is worse"; NaN with fewer than 2 folds).

    Examples
    --------
    >>> r = corrected_paired_ttest([0.9, 0.91, 0.92], [0.8, 0.82, 0.81], 0.5, True)
    >>> r["p"] < 0.05
    True
    """
    a, b = np.asarray(best, dtype=float), np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"The two models must be scored on the same folds; got {len(a)} "
            f"and {len(b)} fold scores."
        )
    d = a - b if greater_is_better else b - a
    k = len(d)
    mean = float(np.mean(d)) if k else float("nan")
    if k < 2 or not np.all(np.isfinite(d)):
        return {"difference": mean, "t": float("nan"), "p": float("nan")}
    variance = float(np.var(d, ddof=1))
    if variance == 0.0:
        # Identical differences on every fold: no noise to test against.
        if mean == 0.0:
            return {"difference": 0.0, "t": 0.0, "p": 1.0}
        return {
            "difference": mean,
            "t": float(np.sign(mean) * np.inf),
            "p": 0.0 if mean > 0 else 1.0,
        }
    t = mean / np.sqrt((1.0 / k + test_train_ratio) * variance)
    return {"difference": mean, "t": float(t), "p": float(stats.t.sf(t, df=k - 1))}


def compare_to_best(
    fold_scores: Mapping[str, Sequence[float]],
    best: str,
    test_train_ratio: float,
    greater_is_better: bool,
    alpha: float = ALPHA,
) -> dict[str, Any]:
    """Compare every model's fold scores with the best's; list those not significantly worse.

    Returns a JSON-ready dict: the test's name, ``alpha``, the reference model, one row per
    model (``algorithm``, ``difference``, ``t``, ``p``, ``worse``) and ``not_worse``.
    """
    rows: list[dict[str, Any]] = []
    for name, scores in fold_scores.items():
        if name == best:
            result = {"difference": 0.0, "t": 0.0, "p": 1.0}
        else:
            result = corrected_paired_ttest(
                fold_scores[best], scores, test_train_ratio, greater_is_better
            )
        worse = bool(np.isfinite(result["p"]) and result["p"] < alpha)
        rows.append({"algorithm": name, **result, "worse": worse})
    return {
        "test": TEST_NAME,
        "alpha": alpha,
        "reference": best,
        "test_train_ratio": test_train_ratio,
        "rows": rows,
        "not_worse": [r["algorithm"] for r in rows if not r["worse"] and np.isfinite(r["p"])],
    }
