"""Column names as frames come: integers (pd.read_csv(header=None), a numpy array made a
frame) are kept, in the fitted model and the model file; names that clash as text are named."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_mixed_frame

import automl
from automl.exceptions import DataValidationError
from automl.persistence import load_model, save_model
from automl.report import write_report


def integer_named(n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    X, y = make_mixed_frame(n)
    X.columns = [10, 3, 7, 0, 42]  # not positions: selecting by these as positions would fail
    return X, y


def test_integer_column_names_fit_save_load_and_report(tmp_path):
    X, y = integer_named()
    model = automl.fit(
        X,
        y,
        n_trials=3,
        time_budget=None,
        cv=2,
        random_state=0,
        algorithms=["lightgbm", "logistic_regression"],
    )
    assert set(model.leaderboard_["state"]) == {"complete"}
    assert model.n_features_in_ == 5
    loaded = load_model(save_model(model, X, tmp_path / "m.automl"))
    assert [c["name"] for c in loaded.metadata["features"]] == [10, 3, 7, 0, 42]
    kinds = {c["name"]: c["kind"] for c in loaded.metadata["features"]}
    assert kinds[7] == "categorical" and kinds[10] == "numeric"
    # the model file matches columns by name: another order predicts the same
    shuffled = X[[42, 0, 7, 3, 10]]
    np.testing.assert_array_equal(loaded.predict(shuffled), model.predict(X))
    paths = write_report(model, X, y, tmp_path)
    listed = json.loads(paths["json"].read_text())["data"]["columns"]
    assert [c["name"] for c in listed] == ["10", "3", "7", "0", "42"]


def test_names_that_clash_as_text_are_an_error_naming_both():
    X, y = make_mixed_frame(60)
    X.columns = ["size", 1, "colour", "1", "city"]
    with pytest.raises(DataValidationError, match=r"Columns 1 and '1' have the same name as text"):
        automl.fit(X, y, n_trials=1, time_budget=None, cv=2)


def test_arrays_with_text_columns_still_fit_and_predict_on_arrays():
    X, y = make_mixed_frame(150)
    array = X.to_numpy()
    model = automl.fit(
        array,
        y,
        n_trials=2,
        time_budget=None,
        cv=2,
        random_state=0,
        algorithms=["random_forest"],
    )
    assert set(model.leaderboard_["state"]) == {"complete"}
    assert (model.predict(array) == y.to_numpy()).mean() > 0.7
