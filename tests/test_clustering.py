"""Clustering searched and chosen like the supervised learners: no labels, one reference space."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score

import automl
from automl import (
    AutoMLClusterer,
    DataValidationError,
    DroppedColumnWarning,
    InvalidParameterError,
)
from automl.cli import main
from automl.cluster_scores import WORST, score_labels, stability
from automl.report import write_report


def clusterer(**kw):
    settings = dict(time_budget=None, n_trials=16, random_state=0, executor="inprocess")
    return AutoMLClusterer(**{**settings, **kw})


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(
        n_samples=400, centers=[[0, 0], [8, 8], [0, 8], [8, 0]], cluster_std=1.0, random_state=0
    )
    return pd.DataFrame(X, columns=["a", "b"]), y


def test_four_separated_blobs_are_found_as_four_clusters(blobs):
    X, truth = blobs
    model = clusterer(algorithms=["kmeans", "gaussian_mixture", "agglomerative"]).fit(
        X, evaluate_with=truth
    )
    assert model.n_clusters_ == 4
    assert adjusted_rand_score(truth, model.labels_) > 0.9
    assert model.external_scores_["adjusted_rand"] > 0.9
    assert model.null_reference_["structure"] is True
    board = model.leaderboard_
    assert {"n_clusters", "silhouette", "stability", "noise_share"} <= set(board.columns)
    # scores of the same clustering compare across trials: one reference space
    assert model.best_score_ == pytest.approx(board["dbcv"].max())


def test_on_two_moons_a_density_based_method_beats_k_means():
    X, truth = make_moons(n_samples=400, noise=0.05, random_state=0)
    model = clusterer(n_trials=24, algorithms=["kmeans", "dbscan", "hdbscan"]).fit(X)
    board = model.leaderboard_[model.leaderboard_["state"] == "complete"]
    best = board.groupby("algorithm")["dbcv"].max()
    assert model.best_algorithm_ in ("dbscan", "hdbscan")
    assert max(best.get("dbscan", -1), best.get("hdbscan", -1)) > best["kmeans"]
    assert adjusted_rand_score(truth, model.labels_) > 0.9
    with pytest.raises(InvalidParameterError, match="does not assign new rows"):
        model.predict(X[:5])


def test_uniform_noise_has_no_clear_structure_and_the_report_says_so(tmp_path):
    X = np.random.default_rng(0).uniform(size=(300, 2))
    model = clusterer(n_trials=10, algorithms=["kmeans", "gaussian_mixture"]).fit(X)
    null = model.null_reference_
    assert null["structure"] is False
    assert null["verdict"].startswith("no clear structure")
    paths = write_report(model, X, None, tmp_path)
    html = paths["html"].read_text()
    assert "no clear structure" in html and 'aria-label="embedding plot"' in html
    assert "no clear structure" in paths["markdown"].read_text()
    assert json.loads(paths["json"].read_text())["kind"] == "clustering"


def test_degenerate_clusterings_score_worst_and_never_crash():
    reference = np.random.default_rng(0).normal(size=(50, 3))
    for labels in (np.zeros(50, dtype=int), np.full(50, -1)):
        scores = score_labels(reference, labels, np.arange(50))
        assert scores["dbcv"] == WORST["dbcv"] and scores["silhouette"] == WORST["silhouette"]
        assert stability(labels, []) == WORST["stability"]
    # a cluster the score's sample holds only two rows of still gives a finite DBCV
    labels = np.r_[np.zeros(25, dtype=int), np.ones(25, dtype=int), np.full(50, 2)]
    reference = np.random.default_rng(1).normal(size=(100, 3)) + labels[:, None] * 4.0
    sample = np.r_[np.arange(20), 25, 26, np.arange(50, 100)]
    scores = score_labels(reference, labels, sample)
    assert np.isfinite(scores["dbcv"]) and -1.0 <= scores["dbcv"] <= 1.0


def test_bad_input_gets_a_clear_error():
    with pytest.raises(DataValidationError, match="only 1 sample.*clustering"):
        clusterer().fit(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    with pytest.warns(DroppedColumnWarning), pytest.raises(DataValidationError, match="constant"):
        clusterer().fit(pd.DataFrame({"a": [1.0] * 20, "b": [3.0] * 20}))
    with pytest.raises(DataValidationError, match="one label per row"):
        clusterer().fit(np.ones((10, 2)) * np.arange(10)[:, None], evaluate_with=[0, 1])
    with pytest.raises(automl.UnknownNameError, match="Clustering metrics"):
        clusterer(metric="roc_auc").fit(np.arange(40.0).reshape(20, 2))


def test_the_clusterer_is_a_scikit_learn_cluster_estimator(blobs):
    X, _ = blobs
    model = clusterer(n_trials=4, algorithms=["kmeans"])
    assert "metric" in model.get_params() and "cv" not in model.get_params()
    labels = clone(model).fit_predict(X)
    assert labels.shape == (len(X),)
    fitted = model.fit(X)
    assert (fitted.predict(X) == fitted.labels_).mean() > 0.99  # k-means assigns new rows
    with pytest.raises(InvalidParameterError, match="refine\\(\\) is for supervised"):
        fitted.refine(X)


def test_cli_clusters_a_table_without_a_target(blobs, tmp_path, capsys):
    X, truth = blobs
    path = tmp_path / "points.csv"
    X.assign(kind=truth).to_csv(path, index=False)
    out = tmp_path / "run"
    code = main(
        [
            "fit",
            str(path),
            "--task",
            "clustering",
            "--evaluate-with",
            "kind",
            "--trials",
            "16",
            "--algorithms",
            "kmeans,gaussian_mixture",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["clusters"] == 4 and summary["null_reference"]["structure"] is True
    assert summary["external_scores"]["adjusted_rand"] > 0.9
    board = pd.read_csv(out / "leaderboard.csv")
    assert "kind" not in "".join(board["params"])  # the labels never reached the search
    assert (out / "report.html").is_file() and (out / "model.automl").is_file()
    clusters = pd.read_csv(out / "clusters.csv")["cluster"]
    assert len(clusters) == len(X) and adjusted_rand_score(truth, clusters) > 0.9
    assert main(["predict", str(out / "model.automl"), str(path), "--quiet"]) == 0
    assert main(["fit", str(path), "--out", str(out / "x")]) == 2
    assert "--target is required" in capsys.readouterr().err
