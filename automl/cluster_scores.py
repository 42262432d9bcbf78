"""Scores of a clustering without labels, all computed in one fixed reference space.

The reference space is the input imputed, one-hot encoded and standard-scaled, the same for
every trial, whatever preprocessing (scaler, PCA) the trial itself searched: scores of
clusterings found in different spaces would not compare otherwise.

- ``dbcv`` (the default objective): Density-Based Clustering Validation (Moulavi et al.,
  SDM 2014), from the ``hdbscan`` package (scikit-learn-contrib) on a fixed sample of rows.
  It compares the density inside each cluster with the density between clusters, so it
  rates arbitrarily shaped clusters (two moons) fairly, where silhouette and its kin reward
  convex, equal-sized ones (k-means would win on two moons under them). Noise points
  (label -1) count against it in proportion to their share.
- ``silhouette`` (Rousseeuw 1987, on the same sample), ``calinski_harabasz`` (higher is
  better) and ``davies_bouldin`` (lower is better), on the clustered (non-noise) rows, then
  weighted by their share (silhouette and Calinski-Harabasz multiplied, Davies-Bouldin
  divided): a clustering that calls half the rows noise is not rated on the easy half.
- ``stability``: the mean adjusted Rand index between the trial's clustering and
  clusterings of the same configuration fitted on fixed subsamples (Ben-Hur et al. 2002;
  Lange et al. 2004), on the rows they share.

Clusters of fewer than 1% of the rows count as noise in every score (outlying rows split
off as a cluster would otherwise look perfectly separated). A clustering with fewer than two
clusters (everything noise, or one cluster) gets the worst value of every score
(:data:`WORST`) rather than an error: the search goes on.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

# name -> greater is better
CLUSTER_METRICS = {
    "dbcv": True,
    "silhouette": True,
    "calinski_harabasz": True,
    "davies_bouldin": False,
    "stability": True,
}
DEFAULT_CLUSTER_METRIC = "dbcv"
# the trial user attribute that holds every score of a clustering trial
CLUSTER_SCORES = "cluster_scores"
# The worst value of each score, given to a clustering of fewer than two clusters.
WORST = {
    "dbcv": -1.0,
    "silhouette": -1.0,
    "calinski_harabasz": 0.0,
    "davies_bouldin": 1e6,
    "stability": 0.0,
}
# Rows the pairwise scores (DBCV and silhouette: quadratic in rows) are computed on.
SCORE_SAMPLE = 1500
# Subsamples for stability: how many, and the share of rows in each.
STABILITY_SAMPLES = 2
STABILITY_SHARE = 0.8
NOISE = -1
# Clusters smaller than this share of the rows (or than MIN_CLUSTER_ROWS) count as noise in
# the scores: a handful of outlying rows split off as a "cluster" is perfectly separated, so
# DBCV and silhouette would reward a 838 + 8 split of 846 rows (seen on the vehicle data).
MIN_CLUSTER_SHARE = 0.01
MIN_CLUSTER_ROWS = 3


def sample_rows(n_rows: int, size: int, seed: int | None) -> np.ndarray:
    """A fixed, sorted sample of ``size`` row positions (all rows when fewer)."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False))


def stability_samples(n_rows: int, seed: int | None) -> list[np.ndarray]:
    """The fixed subsamples every trial's stability is measured on."""
    size = max(2, int(STABILITY_SHARE * n_rows))
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n_rows, size, replace=False)) for _ in range(STABILITY_SAMPLES)]


def n_clusters(labels: np.ndarray) -> int:
    """Clusters found, noise not counted."""
    return int(len(set(np.unique(labels)) - {NOISE}))


def small_as_noise(labels: np.ndarray) -> np.ndarray:
    """``labels`` with every cluster smaller than ``MIN_CLUSTER_SHARE`` of the rows (and
    than ``MIN_CLUSTER_ROWS``) marked as noise."""
    labels = np.asarray(labels)
    floor = max(MIN_CLUSTER_ROWS, MIN_CLUSTER_SHARE * len(labels))
    values, counts = np.unique(labels, return_counts=True)
    small = [v for v, c in zip(values, counts) if v != NOISE and c < floor]
    if not small:
        return labels
    return np.where(np.isin(labels, small), NOISE, labels)


def score_labels(reference: np.ndarray, labels: np.ndarray, sample: np.ndarray) -> dict[str, float]:
    """Every score but stability of ``labels`` in the ``reference`` space (see the module);
    clusters of fewer than 1% of the rows count as noise here."""
    labels = small_as_noise(labels)
    found = n_clusters(labels)
    noise_share = float(np.mean(labels == NOISE))
    out: dict[str, float] = {"n_clusters": float(found), "noise_share": noise_share}
    clustered = labels != NOISE
    if found < 2 or clustered.sum() <= found:
        return {**out, **{k: v for k, v in WORST.items() if k != "stability"}}
    coverage = 1.0 - noise_share
    Z, kept = reference[clustered], labels[clustered]
    in_sample = sample[clustered[sample]]
    sub_labels = labels[in_sample]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["calinski_harabasz"] = float(calinski_harabasz_score(Z, kept)) * coverage
        out["davies_bouldin"] = float(davies_bouldin_score(Z, kept)) / coverage
        if n_clusters(sub_labels) >= 2 and len(sub_labels) > n_clusters(sub_labels):
            out["silhouette"] = float(silhouette_score(reference[in_sample], sub_labels)) * coverage
        else:
            out["silhouette"] = WORST["silhouette"]
        out["dbcv"] = _dbcv(reference[sample], labels[sample])
    return out


def _dbcv(points: np.ndarray, labels: np.ndarray) -> float:
    """DBCV from hdbscan (noise rows included: it weights clusters by their share of all
    rows); the worst value when the sample holds fewer than two clusters or it fails."""
    from hdbscan.validity import validity_index

    # hdbscan's internal spanning tree of a cluster needs a few points (it asserted in a
    # null reference on mfeat-factors): a cluster the sample catches only one or two rows
    # of counts as noise here, and hdbscan's own failures score worst
    values, counts = np.unique(labels, return_counts=True)
    thin = [v for v, c in zip(values, counts) if v != NOISE and c < 3]
    labels = np.where(np.isin(labels, thin), NOISE, labels) if thin else labels
    if n_clusters(labels) < 2:
        return WORST["dbcv"]
    try:
        value = float(validity_index(np.asarray(points, dtype=np.float64), labels))
    except (ValueError, ZeroDivisionError, FloatingPointError, AssertionError, IndexError):
        return WORST["dbcv"]  # hdbscan's own degenerate cases
    return value if np.isfinite(value) else WORST["dbcv"]


def stability(labels: np.ndarray, subsample_labels: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean adjusted Rand index between ``labels`` (on the rows of each subsample) and each
    subsample's own clustering; the worst value for fewer than two clusters."""
    if n_clusters(labels) < 2:
        return WORST["stability"]
    scores = [adjusted_rand_score(labels[rows], own) for rows, own in subsample_labels]
    return float(np.mean(scores)) if scores else WORST["stability"]


def better(metric: str, a: float, b: float) -> bool:
    return a > b if CLUSTER_METRICS[metric] else a < b


def uniform_like(reference: np.ndarray, n_rows: int, seed: Any) -> np.ndarray:
    """Rows drawn uniformly in the bounding box of ``reference`` (the gap statistic's null
    reference, Tibshirani et al. 2001)."""
    rng = np.random.default_rng(seed)
    low, high = reference.min(axis=0), reference.max(axis=0)
    return rng.uniform(low, high, size=(n_rows, reference.shape[1]))
