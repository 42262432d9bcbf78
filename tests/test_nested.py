"""Nested cross-validation: disjoint outer folds, honest estimates, budget, determinism."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import RowRecorder

import automl
from automl import AutoMLClassifier

FAST = dict(time_budget=None, cv=3, random_state=0)


def test_outer_test_rows_are_never_seen_by_inner_searches(tmp_path):
    space = tmp_path / "recorder.toml"
    log = tmp_path / "fits.log"
    space.write_text(
        textwrap.dedent(f"""
        schema_version = 1
        estimator.classification = "conftest:RowRecorder"
        preprocessing = "native"
        [fixed]
        log = "{log}"
    """)
    )
    rng = np.random.default_rng(0)
    n = 90
    X = pd.DataFrame({"row_id": np.arange(n, dtype=float), "x": rng.normal(size=n)})
    y = np.arange(n) % 2
    model = AutoMLClassifier(
        n_trials=2, spaces=[space], algorithms=["recorder"], outer_cv=3, metric="accuracy", **FAST
    ).fit(X, y)
    outer_train = [set(train.tolist()) for train, _ in model.nested_cv_.splits]
    assert all(
        not (set(test.tolist()) & outer_train[i])
        for i, (_, test) in enumerate(model.nested_cv_.splits)
    )
    # Fits happen fold after fold: assign each to the current outer fold while it fits
    # inside that fold's training rows; anything else is a leak (or the final search).
    fold, assigned = 0, [0, 0, 0]
    fitted_rows = RowRecorder.read(log)
    for rows in fitted_rows:
        while fold < 3 and not rows <= outer_train[fold]:
            fold += 1
        if fold == 3:
            break
        assigned[fold] += 1
    assert all(count > 0 for count in assigned), assigned
    final_fits = fitted_rows[sum(assigned) :]
    assert final_fits and max(len(r) for r in final_fits) == n  # the refit on all rows


def test_pure_noise_inner_best_is_optimistic_outer_stays_near_chance():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 10)), columns=[f"f{i}" for i in range(10)])
    y = rng.integers(0, 2, size=200)
    model = AutoMLClassifier(
        n_trials=15, outer_cv=3, algorithms=["knn", "logistic_regression"], **FAST
    ).fit(X, y)
    nested = model.nested_cv_
    assert abs(nested.mean - 0.5) < 0.15  # seeds 0-4 gave 0.39 to 0.56
    assert nested.inner_mean > nested.mean
    assert nested.optimism > 0
    low, high = nested.ci
    assert low <= nested.mean <= high


def test_nested_results_have_every_metric_per_fold_and_a_summary(wine):
    X, y = wine
    model = AutoMLClassifier(
        n_trials=4, outer_cv=3, algorithms=["logistic_regression", "knn"], **FAST
    ).fit(X, y)
    folds = model.nested_cv_.folds
    assert len(folds) == 3
    assert {
        "log_loss",
        "accuracy",
        "balanced_accuracy",
        "algorithm",
        "params",
        "inner_best",
        "trials",
        "seconds",
    } <= set(folds.columns)
    assert folds["accuracy"].min() > 0.7
    assert sum(model.nested_cv_.selection.values()) == 3
    text = model.nested_cv_.summary()
    assert "outer estimate" in text and "inner best" in text and "optimism" in text
    assert model.nested_cv_.to_dict()["ci_method"].startswith("corrected resampled t")


def test_regression_path_and_determinism(diabetes):
    X, y = diabetes
    runs = [
        automl.fit(X, y, n_trials=3, outer_cv=3, algorithms=["ridge", "knn"], **FAST)
        for _ in range(2)
    ]
    a, b = (r.nested_cv_.folds for r in runs)
    assert a["rmse"].tolist() == b["rmse"].tolist()
    assert a["params"].tolist() == b["params"].tolist()
    assert {"rmse", "mae", "r2"} <= set(a.columns)
    assert runs[0].nested_cv_.mean < runs[0].dummy_score_


def test_parallel_outer_folds_equal_the_sequential_run(breast_cancer):
    X, y = breast_cancer
    kwargs = dict(n_trials=3, outer_cv=2, algorithms=["gaussian_nb", "logistic_regression"], **FAST)
    sequential = AutoMLClassifier(n_jobs=1, **kwargs).fit(X, y).nested_cv_.folds
    parallel = AutoMLClassifier(n_jobs=2, **kwargs).fit(X, y).nested_cv_.folds
    cols = ["roc_auc", "algorithm", "inner_best", "trials"]
    pd.testing.assert_frame_equal(sequential[cols], parallel[cols])


def test_the_time_budget_is_split_and_recorded(breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(time_budget=6, outer_cv=2, cv=3, random_state=0).fit(X, y)
    budget = model.nested_cv_.budget
    assert budget["per_outer_search"] == pytest.approx(2.0)
    assert budget["final_search"] == pytest.approx(2.0)
    # each outer search kept to its share (loose: one running trial may finish)
    assert model.nested_cv_.folds["seconds"].max() < 2.0 + 4
    assert model.fit_time_ < 6 + 8
