"""automl.baseline and `automl baseline`: defaults on shared folds, failures kept as data."""

from __future__ import annotations

import numpy as np
import pytest

import automl
import automl.baselines
from automl import AutoMLClassifier
from automl.cli import main
from automl.exceptions import UnknownNameError
from automl.registry import load_registry, select_candidates

baseline_module = automl.baselines


def test_every_applicable_algorithm_and_the_dummy_on_the_same_folds(breast_cancer):
    X, y = breast_cancer
    result = automl.baseline(X, y, cv=3)
    board = result.leaderboard
    expected = {s.name for s in select_candidates(load_registry(), "binary", 200)}
    assert set(board["algorithm"]) == expected | {"dummy"}
    assert (board["state"] == "complete").all(), board[["algorithm", "error"]]
    assert result.best_score > result.dummy_score + 0.2
    for column in (
        "roc_auc",
        "std",
        "log_loss",
        "log_loss_std",
        "accuracy",
        "fit_time",
        "predict_ms_per_1000",
        "size_bytes",
    ):
        assert board[column].notna().all(), column
    assert (board["size_bytes"] > 0).all() and (board["predict_ms_per_1000"] > 0).all()
    assert all(len(folds["roc_auc"]) == 3 for folds in result.fold_scores.values())
    # Best first, in the metric's direction.
    assert list(board["roc_auc"]) == sorted(board["roc_auc"], reverse=True)
    assert result.oof[result.best_algorithm].shape == (len(y), 2)
    assert "dummy model" in result.summary()


def test_a_baseline_row_equals_the_opening_trial_of_a_search(breast_cancer):
    X, y = breast_cancer
    algorithms = ["logistic_regression", "gaussian_nb"]
    result = automl.baseline(X, y, cv=3, algorithms=algorithms, random_state=7)
    search = AutoMLClassifier(  # the baseline's promise: each algorithm's default
        n_trials=2, time_budget=None, cv=3, random_state=7, algorithms=algorithms, portfolio=False
    ).fit(X, y)
    opening = search.leaderboard_.set_index("algorithm")
    board = result.leaderboard.set_index("algorithm")
    for name in algorithms:
        assert opening.loc[name, "params"] == result.configs[name]
        assert opening.loc[name, "roc_auc"] == pytest.approx(board.loc[name, "roc_auc"])


def test_a_failing_algorithm_is_recorded_and_the_others_go_on(monkeypatch, diabetes):
    X, y = diabetes
    real = baseline_module.build_pipeline

    def build(candidate, config, profile, seed):
        pipeline = real(candidate, config, profile, seed)
        if candidate.name == "knn":
            pipeline.set_params(model__n_neighbors=10_000)  # more neighbours than rows
        return pipeline

    monkeypatch.setattr(baseline_module, "build_pipeline", build)
    result = automl.baseline(X, y, cv=3, algorithms=["knn", "ridge"])
    row = result.leaderboard.set_index("algorithm").loc["knn"]
    assert row["state"] == "failed" and "n_neighbors" in row["error"]
    assert result.best_algorithm == "ridge"
    assert list(result.leaderboard["algorithm"])[-1] == "knn"  # failures last


def test_regression_metrics_and_direction(diabetes):
    X, y = diabetes
    result = automl.baseline(X, y, cv=3, algorithms=["ridge"], metric="mae")
    board = result.leaderboard
    assert result.metric == "mae" and not result.greater_is_better
    assert {"rmse", "r2", "mae"} <= set(board.columns)
    assert result.best_score < result.dummy_score


def test_bad_metric_names_the_value_and_the_choices(diabetes):
    X, y = diabetes
    with pytest.raises(UnknownNameError, match=r"'rsme'.*Did you mean 'rmse'"):
        automl.baseline(X, y, metric="rsme")


def test_cli_prints_the_leaderboard_and_writes_the_report(tmp_path, mixed, capsys):
    X, y = mixed
    data = tmp_path / "train.csv"
    X.assign(label=y).to_csv(data, index=False)
    out = tmp_path / "run"
    code = main(
        [
            "baseline",
            str(data),
            "--target",
            "label",
            "--cv",
            "3",
            "--algorithms",
            "logistic_regression",
            "gaussian_nb",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert (
        "logistic_regression" in printed
        and "dummy" in printed
        and "±" in printed
        and "balanced_accuracy" in printed
    )
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.html", "report.md"}


def test_cli_bad_target_is_a_one_line_usage_error(tmp_path, mixed, capsys):
    X, y = mixed
    data = tmp_path / "train.csv"
    X.assign(label=y).to_csv(data, index=False)
    assert main(["baseline", str(data), "--target", "lable"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'lable'" in err and "label" in err


def test_predict_latency_is_per_thousand_rows(diabetes):
    X, y = diabetes
    from sklearn.linear_model import Ridge

    model = Ridge().fit(X, y)
    ms = baseline_module.predict_latency(model, X, np.arange(10), classification=False)
    assert 0 < ms < 1000


def test_help_of_the_new_commands_has_an_example(capsys):
    for command in ("baseline", "report"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: automl {command}") and "Example: automl" in text


def test_a_time_budget_skips_what_would_start_too_late(breast_cancer):
    X, y = breast_cancer
    result = automl.baseline(
        X, y, cv=3, time_budget=1e-9, algorithms=["logistic_regression", "random_forest"]
    )
    board = result.leaderboard.set_index("algorithm")
    # The dummy model always runs first; every algorithm starts after the budget is spent.
    assert board.loc["dummy", "state"] == "complete"
    assert set(board.loc[["logistic_regression", "random_forest"], "state"]) == {"skipped"}
    assert "time budget" in board.loc["random_forest", "note"]
    with pytest.raises(automl.InvalidParameterError, match="'time_budget'.*got -1"):
        automl.baseline(X, y, time_budget=-1)
