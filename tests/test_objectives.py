"""Accuracy against predict latency and model size: objectives, constraints, the front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_moons

from automl import AutoMLClassifier, InvalidParameterError, SearchSpaceError
from automl.cli import main
from automl.objectives import (
    check_constraints,
    check_objectives,
    measure_costs,
    non_dominated,
)
from automl.registry import load_registry
from automl.space.loading import parse_space
from automl.space.suggest import opening_config, smallest_config


@pytest.fixture(scope="module")
def moons():
    """Curved classes: a forest is more accurate than a linear model, and slower."""
    X, y = make_moons(n_samples=400, noise=0.3, random_state=0)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(np.c_[X, rng.normal(size=(400, 3))], columns=list("abcde"))
    return frame, y


@pytest.fixture(scope="module")
def searched(moons):
    X, y = moons
    model = AutoMLClassifier(
        time_budget=None,
        n_trials=14,
        cv=3,
        algorithms=["logistic_regression", "lightgbm"],
        objectives=["roc_auc", "predict_latency", "model_size"],
        random_state=0,
    )
    return model.fit(X, y)


def test_objectives_and_constraints_are_checked_with_the_fix_in_the_message():
    assert check_objectives(None, "f1") == ("f1", ())
    assert check_objectives(["roc_auc", "model_size"], None) == ("roc_auc", ("model_size",))
    with pytest.raises(InvalidParameterError, match="either 'metric'"):
        check_objectives(["roc_auc", "predict_latency"], "roc_auc")
    with pytest.raises(InvalidParameterError, match="must be the accuracy metric"):
        check_objectives(["predict_latency", "roc_auc"], None)
    with pytest.raises(InvalidParameterError, match="Did you mean 'model_size'"):
        check_objectives(["roc_auc", "model_sise"], None)
    with pytest.raises(InvalidParameterError, match="twice"):
        check_objectives(["roc_auc", "model_size", "model_size"], None)
    assert check_constraints({"predict_latency": 5}) == {"predict_latency": 5.0}
    with pytest.raises(InvalidParameterError, match="positive number"):
        check_constraints({"model_size": 0})
    with pytest.raises(InvalidParameterError, match="Unknown constraint"):
        check_constraints({"latency": 5})


def test_non_dominated_keeps_exactly_the_points_no_other_beats_everywhere():
    points = np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0], [2.0, 2.0]])
    assert non_dominated(points).tolist() == [True, True, False, True, True]


def test_the_front_is_non_dominated_has_several_points_and_heads_the_final_model(searched):
    model, front = searched, searched.pareto_front_
    assert len(front) > 1
    board = model.leaderboard_[model.leaderboard_["state"] == "complete"]
    cost_columns = ["predict_latency_ms", "model_size_mb"]
    assert board[cost_columns].notna().all().all()

    def dominates(a, b) -> bool:
        better_or_equal = a["roc_auc"] >= b["roc_auc"] and all(a[c] <= b[c] for c in cost_columns)
        strictly = a["roc_auc"] > b["roc_auc"] or any(a[c] < b[c] for c in cost_columns)
        return better_or_equal and strictly

    for _, p in front.iterrows():
        assert not any(dominates(q, p) for _, q in board.iterrows())
    off_front = board[~board["trial"].isin(front["trial"])]
    for _, q in off_front.iterrows():
        assert any(dominates(p, q) for _, p in board.iterrows())
    # the final model: the front's most accurate trial, alone (no ensemble, no pruning)
    assert model.best_index_ == front.iloc[0]["trial"]
    assert model.best_score_ == pytest.approx(board["roc_auc"].max())
    assert model.ensemble_ is None
    assert not (model.leaderboard_["reason"] == "pruned").any()


def test_each_algorithm_also_opens_at_its_smallest_configuration(searched):
    booster = load_registry()["lightgbm"]
    smallest = smallest_config(booster.params, ("model_size",))
    low = {p.name: p.low for p in booster.params if p.drives}
    assert set(low) == {"n_estimators", "num_leaves"}
    assert {k: smallest[k] for k in low} == low
    opening = opening_config(booster.params)
    assert {k: v for k, v in smallest.items() if k not in low} == {
        k: v for k, v in opening.items() if k not in low
    }
    ran = [p for p in searched.leaderboard_["params"] if p.get("num_leaves") is not None]
    assert any(all(p[k] == v for k, v in low.items()) for p in ran)


def test_select_refits_the_most_accurate_trial_within_the_bound(searched, moons):
    X, y = moons
    front = searched.pareto_front_
    bound = float(front["predict_latency_ms"].min()) * 1.01
    pipeline = searched.select(X, y, max_latency_ms=bound)
    chosen = searched.selected_
    fits = searched.leaderboard_[searched.leaderboard_["predict_latency_ms"] <= bound]
    assert chosen["predict_latency_ms"] <= bound
    assert chosen["roc_auc"] == pytest.approx(fits["roc_auc"].max())
    # measured again on the refit pipeline: within a loose factor of the promise (timing)
    again = measure_costs(pipeline, X, np.arange(len(X)), True, ["predict_latency"])
    assert again["predict_latency"] <= 5 * bound + 5.0
    assert (pipeline.predict(X) == pipeline.predict(X)).all()
    with pytest.raises(InvalidParameterError, match="the closest is trial"):
        searched.select(X, y, max_latency_ms=1e-6)
    with pytest.raises(InvalidParameterError, match="needs max_latency_ms or max_size_mb"):
        searched.select(X, y)


def test_a_constraint_marks_infeasible_trials_and_the_model_meets_it(moons):
    X, y = moons
    probe = AutoMLClassifier(
        time_budget=None,
        n_trials=4,
        cv=3,
        algorithms=["logistic_regression", "random_forest"],
        objectives=["roc_auc", "model_size"],
        random_state=0,
    ).fit(X, y)
    sizes = probe.leaderboard_["model_size_mb"].dropna()
    bound = float(sizes.min() + sizes.max()) / 2  # some trials over it, some under
    model = AutoMLClassifier(
        time_budget=None,
        n_trials=8,
        cv=3,
        algorithms=["logistic_regression", "random_forest"],
        constraints={"model_size": bound},
        random_state=0,
    ).fit(X, y)
    board = model.leaderboard_[model.leaderboard_["state"] == "complete"]
    assert set(board["feasible"]) == {True, False}
    assert (board["feasible"] == (board["model_size_mb"] <= bound)).all()
    best = board[board["trial"] == model.best_index_].iloc[0]
    assert best["feasible"]
    assert model.best_score_ == pytest.approx(board[board["feasible"]]["roc_auc"].max())
    assert model.pareto_front_ is None  # one objective


def test_drives_is_a_version_3_key_for_numeric_parameters():
    base = """schema_version = {v}
estimator.classification = "sklearn.ensemble:RandomForestClassifier"
[params.n_estimators]
type = "{t}"
{bounds}
default = {d}
drives = {drives}
why = "test"
"""
    numeric = dict(t="int", bounds="low = 10\nhigh = 100", d=50)
    spec = parse_space(base.format(v=3, drives='["model_size"]', **numeric), name="rf")
    assert spec.params[0].drives == ("model_size",)
    with pytest.raises(SearchSpaceError, match="needs schema_version = 3"):
        parse_space(base.format(v=2, drives='["model_size"]', **numeric), name="rf")
    with pytest.raises(SearchSpaceError, match="among"):
        parse_space(base.format(v=3, drives='["speed"]', **numeric), name="rf")
    categorical = dict(t="categorical", bounds='choices = ["a", "b"]', d='"a"')
    with pytest.raises(SearchSpaceError, match="int and float"):
        parse_space(base.format(v=3, drives='["model_size"]', **categorical), name="rf")


def test_cli_objectives_write_the_front_and_the_report_plots_it(moons, tmp_path, capsys):
    X, y = moons
    path = tmp_path / "moons.csv"
    X.assign(label=y).to_csv(path, index=False)
    out = tmp_path / "run"
    args = [
        "fit",
        str(path),
        "--target",
        "label",
        "--trials",
        "8",
        "--cv",
        "3",
        "--quiet",
        "--algorithms",
        "logistic_regression,random_forest",
        "--out",
        str(out),
    ]
    assert main([*args, "--objectives", "roc_auc,predict_latency", "--max-latency-ms", "1000"]) == 0
    front = pd.read_csv(out / "pareto.csv")
    assert {"trial", "algorithm", "roc_auc", "predict_latency_ms", "feasible"} <= set(front.columns)
    html = (out / "report.html").read_text()
    assert 'id="pareto"' in html and 'aria-label="pareto plot"' in html
    assert "Pareto front" in capsys.readouterr().out
    assert main([*args, "--metric", "roc_auc", "--objectives", "roc_auc,model_size"]) == 2
    assert "not both" in capsys.readouterr().err
