"""CatBoost, the optional algorithm that proves the plugin seam: found, searched, saved, loaded.

It is added by ``search_spaces/catboost.toml`` and ``automl/adapters/catboost.py`` alone
(plus the ``automl[catboost]`` extra, which the test setup installs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import make_mixed_frame

import automl
from automl.persistence import load_model, save_model
from automl.registry import is_installed, load_registry


def test_the_registry_finds_catboost_with_its_install_line():
    spec = load_registry()["catboost"]
    assert is_installed(spec) and spec.install == "pip install 'automl[catboost]'"
    assert spec.categorical_codes == "integer" and spec.adapter == "automl.adapters.catboost:build"
    assert automl.check_space(spec.source).name == "catboost"
    listed = automl.list_algorithms().set_index("algorithm")
    assert listed.loc["catboost", "installed"]


def test_a_catboost_search_keeps_categories_native_and_its_model_file_loads(tmp_path):
    X, y = make_mixed_frame(200)
    y = y.where(X["size"].fillna(0) < 1, "maybe")  # three classes, labels as text
    cheap = [
        {"algorithm": "catboost", "iterations": 60, "depth": 4},
        {"algorithm": "catboost", "iterations": 60, "depth": 6, "l2_leaf_reg": 1.0},
    ]
    model = automl.fit(
        X,
        y,
        n_trials=2,
        time_budget=None,
        cv=2,
        algorithms=["catboost"],
        random_state=0,
        configurations=cheap,
        ensemble=False,  # the best trial's own pipeline is inspected
    )
    assert list(model.leaderboard_["state"]) == ["complete", "complete"]
    booster = model.best_pipeline_[-1].estimators_[0]
    # colour, member and city are categorical; they come first, as integer codes
    assert booster.get_cat_feature_indices() == [0, 1, 2]
    assert set(model.predict(X)) <= {"yes", "no", "maybe"}
    path = save_model(model, X, tmp_path / "catboost.automl")
    loaded = load_model(path)
    assert loaded.metadata["algorithms"] == ["catboost"]
    assert "catboost" in loaded.metadata["versions"]
    new = X.head(20).copy()
    # unseen and missing categories (object dtype, as at fit time)
    new["colour"] = pd.Series(["ultraviolet"] * 10 + [None] * 10, index=new.index, dtype=object)
    np.testing.assert_array_equal(loaded.predict(new), model.predict(new))
    np.testing.assert_allclose(loaded.predict_proba(new), model.predict_proba(new))


def test_catboost_regression_on_a_frame_with_categories(tmp_path):
    X, _ = make_mixed_frame(160)
    y = pd.Series(
        2.0 * X["size"].fillna(0) + np.where(X["colour"] == "red", 1.0, 0.0), name="target"
    )
    model = automl.fit(
        X, y, n_trials=1, time_budget=None, cv=2, algorithms=["catboost"], random_state=0
    )
    assert model.best_score_ > -1.0  # the default metric is negated RMSE; y spans about 8
    loaded = load_model(save_model(model, X, tmp_path / "catboost.automl"))
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
