"""Refinement: a narrowed space, written as ordinary space files, searched as a new round."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

import automl
from automl import AutoMLClassifier, AutoMLRegressor, InvalidParameterError, check_space
from automl.cli import main
from automl.registry import builtin_space_files, load_registry
from automl.space.loading import load_space
from automl.space.narrowing import narrow_spec
from automl.space.writing import write_space


@pytest.fixture(scope="module")
def linear():
    """A target that is a linear function of the columns: ridge is near perfect, a nearest
    neighbours model in 10 dimensions is clearly worse on every fold."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 10)), columns=[f"x{i}" for i in range(10)])
    y = X.to_numpy() @ rng.normal(size=10) + rng.normal(scale=0.1, size=300)
    return X, y


def regressor(**kw):
    settings = dict(
        time_budget=None,
        n_trials=10,
        cv=5,
        algorithms=["ridge", "knn"],
        random_state=0,
        executor="inprocess",
        ensemble=False,
    )
    return AutoMLRegressor(**{**settings, **kw})


@pytest.mark.parametrize(
    "path", [p for p in builtin_space_files() if p.stem != "portfolio"], ids=lambda p: p.stem
)
def test_a_written_space_file_loads_back_as_the_same_spec(path, tmp_path):
    spec = load_space(path)
    written = write_space(spec, tmp_path / path.name, header="a header\nof two lines")
    assert written.read_text().startswith("# a header\n# of two lines\n")
    again = check_space(written)
    assert dataclasses.replace(again, source="") == dataclasses.replace(spec, source="")


def test_narrowing_shrinks_ranges_in_log_scale_and_drops_what_cannot_hold():
    svm = load_registry()["svm"]
    top = [
        {"C": 1.0, "kernel": "rbf", "gamma": 0.01},
        {"C": 10.0, "kernel": "rbf", "gamma": 0.1},
        {"C": 3.0, "kernel": "rbf", "gamma": 0.03},
    ]
    spec, changes = narrow_spec(svm, "binary", top, top[1])
    params = {p.name: p for p in spec.params}
    assert spec.name == "svm_refined"
    assert params["kernel"].choices == ("rbf",)
    # degree (poly) and coef0 (poly, sigmoid) can no longer be active
    assert "degree" not in params and "coef0" not in params
    assert params["gamma"].when == {"kernel": ("rbf",)}
    c = params["C"]
    low, high = svm.params[0].bounds
    assert low <= c.low <= 1.0 and 10.0 <= c.high <= high
    assert c.log
    # widened on each side by a quarter of the top span, or 5% of the whole range if more,
    # in log scale (bounds rounded outwards to three digits)
    pad = max(0.25 * math.log(10.0 / 1.0), 0.05 * math.log(high / low))
    assert math.log(c.low) == pytest.approx(math.log(1.0) - pad, abs=0.01)
    assert math.log(c.high) == pytest.approx(math.log(10.0) + pad, abs=0.01)
    assert c.contains(c.default) and all(c.contains(v) for v in c.levels)
    assert {ch.param for ch in changes} == {"C", "kernel", "gamma", "degree", "coef0"}


def test_narrowed_int_ranges_round_outwards_and_keep_two_values():
    knn = load_registry()["knn"]
    top = [{"n_neighbors": 7, "weights": "distance", "p": 2}] * 3
    spec, _ = narrow_spec(knn, "binary", top, top[0])
    k = next(p for p in spec.params if p.name == "n_neighbors")
    assert isinstance(k.low, int) and isinstance(k.high, int)
    assert k.low < 7 < k.high  # a single value still leaves a range to sample
    assert k.low >= 1 and k.high <= 100


def test_refine_drops_a_clearly_worse_algorithm_narrows_ranges_and_keeps_the_best(linear, tmp_path):
    X, y = linear
    model = regressor().fit(X, y)
    before_score, before_params = model.best_score_, model.best_params_
    assert model.best_algorithm_ == "ridge"
    model.refine(X, y, time_budget=None, space_dir=tmp_path / "refined")

    space = model.refined_space_
    assert "knn" in space.dropped and "significantly worse" in space.dropped["knn"]
    assert list(space.specs) == ["ridge_refined"]
    alpha = next(p for p in space.specs["ridge_refined"].params if p.name == "alpha")
    original = next(p for p in load_registry()["ridge"].params if p.name == "alpha")
    assert original.low <= alpha.low and alpha.high <= original.high
    assert (alpha.high / alpha.low) < (original.high / original.low)

    # the rounds are joined; round 2 opened with round 1's best, scored on the same folds
    assert set(model.leaderboard_["round"]) == {1, 2}
    assert list(model.rounds_["round"]) == [1, 2]
    round2 = model.leaderboard_[model.leaderboard_["round"] == 2]
    first = round2[round2["trial"] == 0].iloc[0]
    assert first["algorithm"] == "ridge_refined"
    assert first["params"]["alpha"] == before_params["alpha"]
    assert first["rmse"] == pytest.approx(before_score, rel=1e-9)
    assert model.best_score_ <= before_score  # rmse: never worse
    assert model.best_round_ == 2 and model.best_algorithm_ == "ridge_refined"

    # the files are ordinary space files: checked, and searchable in a new fit
    files = sorted((tmp_path / "refined").glob("*.toml"))
    assert [f.name for f in files] == ["ridge_refined.toml"]
    check_space(files[0])
    again = regressor(spaces=[str(files[0])], algorithms=["ridge_refined"], n_trials=3)
    again.fit(X, y)
    assert set(again.leaderboard_["algorithm"]) == {"ridge_refined"}


def test_refine_keeps_the_previous_model_when_the_round_finds_nothing_better(linear, tmp_path):
    X, y = linear
    model = regressor(n_trials=4).fit(X, y)
    pipeline, score = model.best_pipeline_, model.best_score_
    knn = dataclasses.replace(load_registry()["knn"], name="knn_refined")
    path = write_space(knn, tmp_path / "knn_refined.toml")
    model.refine(X, y, time_budget=None, space=[path])
    assert model.best_pipeline_ is pipeline and model.best_score_ == score
    assert model.best_round_ == 1 and model.best_algorithm_ == "ridge"
    assert set(model.leaderboard_["round"]) == {1, 2}
    assert model.rounds_.loc[1, "best_algorithm"] == "knn_refined"


def test_refine_refuses_other_data_and_an_unfitted_model(linear):
    X, y = linear
    with pytest.raises(Exception, match="not fitted"):
        regressor().refine(X, y)
    model = regressor(n_trials=3).fit(X, y)
    with pytest.raises(InvalidParameterError, match="the data"):
        model.refine(X.iloc[:200], y[:200], time_budget=None)
    with pytest.raises(InvalidParameterError, match="top_k"):
        model.refine(X, y, top_k=0)
    with pytest.raises(InvalidParameterError, match="would never end"):
        regressor(n_trials=None, time_budget=5).fit(X, y).refine(X, y, time_budget=None)


def test_refine_a_stored_study_as_a_new_linked_study(linear, tmp_path):
    X, y = linear
    url = f"sqlite:///{tmp_path / 'search.db'}"
    first = regressor(storage=url, n_trials=8).fit(X, y)
    board1 = first.leaderboard_
    # a new process would only have the storage: refine by the study's name
    model = automl.refine(
        X, y, study="automl", storage=url, time_budget=None, **_settings_without_storage()
    )
    assert model.study_.study_name == "automl-round-2"
    stored = optuna.load_study(study_name="automl-round-2", storage=url)
    assert stored.user_attrs["automl_previous_study"] == "automl"
    assert stored.user_attrs["automl_round"] == 2
    round1 = model.leaderboard_[model.leaderboard_["round"] == 1]
    assert sorted(round1["trial"]) == sorted(board1["trial"])
    assert {"automl", "automl-round-2"} <= set(optuna.get_all_study_names(url))


def _settings_without_storage():
    params = regressor(n_trials=6).get_params()
    return {k: v for k, v in params.items() if k not in ("storage", "time_budget")}


@pytest.fixture
def cancer_csv(tmp_path):
    frame = load_breast_cancer(as_frame=True).frame.sample(200, random_state=0)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = tmp_path / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_refine_writes_the_space_the_rounds_and_a_model_that_loads(
    cancer_csv, tmp_path, capsys
):
    out = tmp_path / "run"
    common = ["--target", "target", "--trials", "8", "--time-budget", "60", "--quiet"]
    assert (
        main(["fit", str(cancer_csv), *common, "--algorithms", "svm,knn", "--out", str(out)]) == 0
    )
    assert main(["fit", str(cancer_csv), *common, "--refine", str(out)]) == 0
    files = sorted(p.name for p in (out / "refined_space").glob("*.toml"))
    assert files and all(f.endswith("_refined.toml") for f in files)
    for f in (out / "refined_space").glob("*.toml"):
        check_space(f)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["study"] == "automl-round-2"
    assert [r["round"] for r in summary["rounds"]] == [1, 2]
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["round"]) == {1, 2}
    html = (out / "report.html").read_text()
    assert 'id="rounds"' in html and "refined" in html
    assert main(["predict", str(out / "model.automl"), str(cancer_csv), "--quiet"]) == 0

    # options that change what the search means are refused, with the reason
    assert main(["fit", str(cancer_csv), *common, "--refine", str(out), "--metric", "f1"]) == 2
    assert "--metric cannot change" in capsys.readouterr().err


def test_a_refined_model_file_loads_without_the_refined_space_files(tmp_path):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[:200], y.iloc[:200]
    model = AutoMLClassifier(
        time_budget=None,
        n_trials=4,
        cv=3,
        algorithms=["svm"],
        random_state=0,
        executor="inprocess",
        ensemble=False,
    ).fit(X, y)
    model.refine(X, y, time_budget=None)
    assert model.best_algorithm_ == "svm_refined"
    path = automl.save_model(model, X, tmp_path / "model.automl")
    # the SVM's calibration types are trusted as svm's, the space it was narrowed from
    loaded = automl.load_model(path)
    assert (loaded.predict(X) == model.predict(X)).all()
