"""Early stopping inside each fold: the rounds of the boosters found, never searched, and
never found on the rows a fold is scored on; the refit uses the rounds found."""

from __future__ import annotations

import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression

import automl
from automl.builder import build_pipeline, make_candidate
from automl.data import validate_data
from automl.early_stopping import early_stops, fit_early_stopped, refit_rounds, validation_rows
from automl.exceptions import InvalidParameterError, SearchSpaceError
from automl.registry import load_registry
from automl.space import parse_space

REGISTRY = load_registry()
BOOSTERS = ["lightgbm", "xgboost", "hist_gradient_boosting"]


def _labelled(n=400, classes=("no", "yes", "maybe"), seed=0):
    X, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_classes=len(classes), random_state=seed
    )
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]), np.asarray(classes)[y]


@pytest.mark.parametrize("name", BOOSTERS)
def test_each_booster_stops_well_before_its_cap_and_predicts_the_labels(name):
    X, y = _labelled()
    _, _, profile = validate_data(X, y)
    candidate = make_candidate(REGISTRY[name], profile.task, early_stopping=True)
    rounds_param = candidate.early_stopping.rounds
    assert rounds_param not in {p.name for p in candidate.params}  # not searched
    # a high learning rate on easy data: the loss on held-back rows stops improving early
    config = {**candidate.opening_config(), "learning_rate": 0.3}
    pipeline = build_pipeline(candidate, config, profile, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted, rounds = fit_early_stopped(pipeline, candidate, X[:300], y[:300], None, True, 0)
    assert 1 <= rounds < candidate.max_rounds() // 2
    assert set(fitted.predict(X[300:])) <= set(y)
    assert list(fitted.classes_) == sorted(set(y))
    assert fitted.score(X[300:], y[300:]) > 0.6


def test_regression_rounds_grow_when_the_learning_rate_shrinks():
    X, y = make_regression(n_samples=400, n_features=5, noise=10.0, random_state=0)
    _, _, profile = validate_data(X, y)
    candidate = make_candidate(REGISTRY["lightgbm"], "regression", early_stopping=True)
    found = {}
    for rate in (0.3, 0.03):
        config = {**candidate.opening_config(), "learning_rate": rate}
        pipeline = build_pipeline(candidate, config, profile, random_state=0)
        _, found[rate] = fit_early_stopped(pipeline, candidate, X, y, None, False, 0)
    assert found[0.03] > 2 * found[0.3]


def test_validation_part_is_a_tenth_but_never_tiny():
    assert validation_rows(10_000) == 1_000
    assert validation_rows(400) == 80  # 20% rather than 40 rows
    assert validation_rows(2_000) == 200
    assert refit_rounds([100, 121, 130]) == 117


def _spy_space(tmp_path, monkeypatch):
    """A plugin: LightGBM through an adapter that records the rows it validates on."""
    module = tmp_path / "spy_adapter.py"
    module.write_text(
        textwrap.dedent(
            """
            from automl.adapters import lightgbm

            SEEN = []

            def build(estimator_class, params, context):
                return lightgbm.build(estimator_class, params, context)

            def fit_early_stopped(model, X, y, X_val, y_val, patience, *weights):
                SEEN.append((set(X[:, 0].round(6)), set(X_val[:, 0].round(6))))
                return lightgbm.fit_early_stopped(model, X, y, X_val, y_val, patience, *weights)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "spy_adapter", raising=False)
    with open(REGISTRY["lightgbm"].source) as file:
        text = file.read().replace('adapter = "lightgbm"', 'adapter = "spy_adapter:build"')
    path = tmp_path / "spy_lightgbm.toml"
    path.write_text(text)
    return path


def test_rounds_are_found_on_training_rows_only_and_reused_by_the_refit(tmp_path, monkeypatch):
    space = _spy_space(tmp_path, monkeypatch)
    X, y = _labelled(300, classes=("a", "b"))
    X["x0"] = np.arange(len(X), dtype=float)  # a row id the adapter can see
    model = automl.AutoMLClassifier(
        n_trials=2,
        time_budget=None,
        cv=3,
        algorithms=["spy_lightgbm"],
        spaces=[str(space)],
        executor="inprocess",
        ensemble=False,
        early_stopping=True,
        random_state=0,
    ).fit(X, y)
    import spy_adapter

    assert len(spy_adapter.SEEN) == 2 * 3  # two trials, three folds each
    for k, (fit_ids, val_ids) in enumerate(spy_adapter.SEEN):
        train, test = model.cv_splits_[k % 3]
        assert val_ids and fit_ids.isdisjoint(val_ids)
        assert fit_ids | val_ids == set(train.astype(float))  # never a test row
        assert val_ids.isdisjoint(test.astype(float))
    board = model.leaderboard_
    best = model.study_.trials[model.best_index_]
    per_fold = best.user_attrs["rounds_per_fold"]
    assert len(per_fold) == 3
    assert model.best_params_["n_estimators"] == refit_rounds(per_fold)
    assert board.loc[0, "params"]["n_estimators"] == refit_rounds(per_fold)
    assert model.best_pipeline_[-1].n_estimators == refit_rounds(per_fold)
    assert "spy_lightgbm__n_estimators" not in best.params  # not sampled


def test_auto_searches_the_rounds_of_small_data_and_stops_early_on_large():
    assert not early_stops("auto", 8_000) and early_stops("auto", 12_000)
    assert early_stops(True, 100) and not early_stops(False, 50_000)


def test_without_early_stopping_the_rounds_are_searched_again(breast_cancer):
    X, y = breast_cancer
    model = automl.AutoMLClassifier(
        n_trials=3,
        time_budget=None,
        cv=3,
        algorithms=["hist_gradient_boosting"],
        early_stopping=False,
        ensemble=False,
        random_state=0,
    ).fit(X, y)
    best = model.study_.trials[model.best_index_]
    assert "hist_gradient_boosting__max_iter" in best.params
    assert "rounds_per_fold" not in best.user_attrs
    assert model.best_pipeline_[-1].max_iter == model.best_params_["max_iter"]


def test_a_configuration_naming_the_rounds_says_early_stopping_finds_them(breast_cancer):
    X, y = breast_cancer
    settings = dict(n_trials=1, time_budget=None, cv=3, ensemble=False, random_state=0)
    config = [{"algorithm": "lightgbm", "n_estimators": 60}]
    with pytest.raises(InvalidParameterError, match="'n_estimators', which early stopping"):
        automl.AutoMLClassifier(configurations=config, early_stopping=True, **settings).fit(X, y)
    model = automl.AutoMLClassifier(
        configurations=config, early_stopping=False, strategy="manual", **settings
    ).fit(X, y)
    assert model.best_pipeline_[-1].n_estimators == 60
    with pytest.raises(InvalidParameterError, match="'early_stopping' parameter must be 'auto'"):
        automl.AutoMLClassifier(early_stopping="yes", **settings).fit(X, y)


def test_the_table_names_an_int_parameter_and_needs_an_adapter_that_stops(tmp_path):
    head = (
        "schema_version = 2\n"
        'estimator.regression = "sklearn.ensemble:HistGradientBoostingRegressor"\n'
    )
    param = "[params.max_iter]\ntype='int'\nlow=10\nhigh=100\ndefault=50\nwhy='x'\n"
    stop = "[early_stopping]\nrounds = 'max_iter'\npatience = 10\n"
    spec = parse_space(head + 'adapter = "hist_gradient_boosting"\n' + stop + param, name="x")
    assert spec.early_stopping.rounds == "max_iter" and spec.early_stopping.patience == 10
    for body, message in [
        (stop + param, "needs an adapter"),
        ('adapter = "svm"\n' + stop.replace("max_iter", "depth") + param, "must name an int"),
        ('adapter = "svm"\n' + stop.replace("10", "0") + param, "'patience' must be an integer"),
    ]:
        with pytest.raises(SearchSpaceError, match=message):
            parse_space(head + body, name="x")
    path = tmp_path / "x.toml"
    path.write_text(head + 'adapter = "svm"\n' + stop + param)  # svm's adapter cannot stop
    with pytest.raises(SearchSpaceError, match="x.toml: \\[early_stopping\\] needs the adapter"):
        automl.check_space(path)
