"""One clustering trial: fit a configuration, score its clusters without labels.

There are no folds to cross-validate over: a trial fits its pipeline on all rows, scores
the clustering in the search's fixed reference space (:mod:`automl.cluster_scores`), then
fits the same configuration on each of ``STABILITY_SAMPLES`` fixed subsamples of 80% of the
rows for its stability. So a trial costs about ``1 + 2 * 0.8`` fits: a little under 40% of
its time goes to the score, a little over 60% to stability. Like a supervised trial it runs
in a worker under the executor's time and memory limits.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from automl.cluster_scores import (
    SCORE_SAMPLE,
    n_clusters,
    sample_rows,
    score_labels,
    stability,
    stability_samples,
    uniform_like,
)
from automl.data import DatasetProfile
from automl.evaluation import take_rows
from automl.preprocessing import build_preprocessor
from automl.trial import COMPLETE, SearchContext, TrialOutcome, describe_warnings


@dataclass(frozen=True)
class ClusteringReference:
    """What every clustering trial is scored against: the reference space (the input
    imputed, encoded, standard-scaled), the sample of rows the pairwise scores use, and the
    subsamples of the stability score."""

    reference: np.ndarray
    sample: np.ndarray
    subsamples: list[np.ndarray]


def clustering_reference(X: Any, profile: DatasetProfile, seed: int | None) -> ClusteringReference:
    """The reference space of ``X`` and the fixed samples, the same for every trial."""
    pre = build_preprocessor(profile, "scaled", {"numeric_imputer": "mean", "scaler": "standard"})
    reference = np.asarray(pre.fit_transform(X), dtype=np.float64)
    n = len(reference)
    return ClusteringReference(
        reference, sample_rows(n, SCORE_SAMPLE, seed), stability_samples(n, seed)
    )


@dataclass(frozen=True)
class ClusterTask:
    """Fit one clustering configuration on all rows and score it (see the module)."""

    number: int
    algorithm: str
    config: dict[str, Any]
    time_limit: float
    objective: str = "dbcv"
    keep_if_better_than: float | None = None
    greater_is_better: bool = True

    def run(self, context: SearchContext) -> TrialOutcome:
        ref: ClusteringReference = context.clustering
        pipeline = context.pipeline(self.algorithm, self.config)
        outcome = TrialOutcome(COMPLETE)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            started = time.perf_counter()
            labels = np.asarray(pipeline.fit_predict(context.X))
            fit_time = time.perf_counter() - started
            started = time.perf_counter()
            scores = score_labels(ref.reference, labels, ref.sample)
            pairs = []
            if n_clusters(labels) >= 2:
                for rows in ref.subsamples:
                    own = clone(pipeline).fit_predict(take_rows(context.X, rows))
                    pairs.append((rows, np.asarray(own)))
            scores["stability"] = stability(labels, pairs)
            score_time = time.perf_counter() - started
        outcome.warnings = describe_warnings(caught)[:5]
        outcome.fold_scores = [scores[self.objective]]
        outcome.fit_times, outcome.score_times = [fit_time], [score_time]
        outcome.cluster_scores = scores
        value = scores[self.objective]
        best = self.keep_if_better_than
        if best is None or (value > best if self.greater_is_better else value < best):
            outcome.fold_model = pipeline  # fitted on all rows: the final model if it wins
        return outcome


# Fits of the best configuration on uniform data for the null reference (at least the
# second number when its time is short).
NULL_SAMPLES, MIN_NULL_SAMPLES = 5, 3


def null_reference(
    pipeline: Any,
    ref: ClusteringReference,
    metric: str,
    greater: bool,
    seed: int | None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Is there structure at all? The best configuration's clusterer (with its PCA, if any)
    fitted on the reference space's sample and on ``NULL_SAMPLES`` draws of uniform data in
    the same bounding box (the gap statistic's null, Tibshirani et al. 2001), scored the same
    way. Clear structure: the data's score beats the null mean by more than two null
    standard deviations. k-means on uniform noise is stable and scores well enough on its
    own; only the comparison says whether the clusters are more than the algorithm's.

    With a ``deadline`` (on ``time.monotonic()``) the draws stop when it passes, after at
    least ``MIN_NULL_SAMPLES``: a slow clusterer (a Gaussian mixture on 200 columns) keeps
    the budget with fewer draws, and the result says how many it had."""
    from sklearn.pipeline import Pipeline

    shape = Pipeline([(name, clone(step)) for name, step in pipeline.steps[1:]])
    Z = ref.reference[ref.sample]
    rng = np.random.default_rng(seed)

    def score(points: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = np.asarray(clone(shape).fit_predict(points))
            scores = score_labels(points, labels, np.arange(len(points)))
            if metric == "stability":
                subsamples = stability_samples(len(points), int(rng.integers(2**31)))
                pairs = [
                    (rows, np.asarray(clone(shape).fit_predict(points[rows])))
                    for rows in subsamples
                ]
                scores["stability"] = stability(labels, pairs)
        return float(scores[metric])

    observed = score(Z)
    null: list[float] = []
    while len(null) < NULL_SAMPLES and (
        len(null) < MIN_NULL_SAMPLES or deadline is None or time.monotonic() < deadline
    ):
        null.append(score(uniform_like(ref.reference, len(Z), int(rng.integers(2**31)))))
    mean, std = float(np.mean(null)), float(np.std(null))
    gap = (observed - mean) if greater else (mean - observed)
    structure = bool(gap > 2 * std and gap > 0)
    null_text = f"uniform data in the same box ({mean:.4g} ± {std:.2g})"
    if structure:
        verdict = f"clear structure: {metric} {observed:.4g} on the data against {null_text}"
    else:
        how = "no better than" if gap <= 0 else "within two standard deviations of"
        verdict = (
            f"no clear structure: {metric} {observed:.4g} on the data is {how} {null_text}; "
            "the clusters may be the algorithm's, not the data's"
        )
    return {
        "metric": metric,
        "observed": observed,
        "null_mean": mean,
        "null_std": std,
        "null_scores": null,
        "structure": structure,
        "verdict": verdict,
        "rows": int(len(Z)),
    }
