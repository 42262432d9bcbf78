"""Validation at the door: every bad input gets an error naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl
from automl.data import validate_data
from automl.exceptions import DataValidationError, DroppedColumnWarning, UnknownNameError


def frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": np.arange(n) % 2})


def test_task_inference():
    df = frame()
    assert validate_data(df, target="y")[2].task == "binary"
    assert validate_data(df.assign(y=np.arange(30) % 3), target="y")[2].task == "multiclass"
    assert validate_data(df.assign(y=np.linspace(0, 1, 30)), target="y")[2].task == "regression"
    assert (
        validate_data(df.assign(y=[f"c{i % 3}" for i in range(30)]), target="y")[2].task
        == "multiclass"
    )
    # integers with many distinct values are a quantity, not classes
    assert validate_data(df.assign(y=np.arange(30) * 7), target="y")[2].task == "regression"
    # the override wins
    assert (
        validate_data(df.assign(y=np.arange(30) % 3), target="y", task="regression")[2].task
        == "regression"
    )


def test_column_kinds_and_override(mixed):
    X, y = mixed
    _, _, profile = validate_data(X, y)
    assert set(profile.categorical) == {"colour", "member", "city"}
    assert set(profile.numeric) == {"size", "weight"}
    X = X.assign(code=np.arange(len(X)) % 4)
    _, _, profile = validate_data(X, y, column_kinds={"code": "categorical"})
    assert "code" in profile.categorical


def test_numpy_input_is_positional():
    X = np.random.default_rng(0).normal(size=(20, 3))
    data, y, profile = validate_data(X, np.arange(20) % 2)
    assert profile.positional and profile.columns == ("x0", "x1", "x2")
    assert profile.selector(("x2",)) == [2]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: (frame().iloc[:0], "y"), "no rows"),
        (lambda: (frame()[["y"]], "y"), "no feature columns"),
        (lambda: (frame().assign(y=[np.nan] + [1] * 29), "y"), "missing value"),
        (lambda: (frame().assign(y=1), "y"), "only one class"),
        (lambda: (frame().assign(a=[np.inf] + [0.0] * 29), "y"), "'a' holds 1 infinite"),
        (lambda: (frame(), "target_col"), "'target_col' is not in the data"),
        (lambda: (frame(), "yy"), "Did you mean 'y'?"),
    ],
)
def test_bad_frames(make, message):
    X, target = make()
    with pytest.raises(DataValidationError, match=message):
        validate_data(X, target=target)


def test_length_mismatch():
    with pytest.raises(DataValidationError, match="X has 30 rows, y has 29"):
        validate_data(frame().drop(columns="y"), np.zeros(29))


def test_duplicate_column_names():
    df = pd.DataFrame(np.zeros((5, 3)), columns=["a", "a", "b"])
    with pytest.raises(DataValidationError, match="Duplicate column names: 'a'"):
        validate_data(df, np.arange(5) % 2)


def test_non_numeric_regression_target():
    df = frame().assign(y=["x", "y", "z"] * 10)
    with pytest.raises(DataValidationError, match="task='regression' needs a numeric target"):
        validate_data(df, target="y", task="regression")


def test_unknown_task_name():
    with pytest.raises(DataValidationError, match="Did you mean 'regression'"):
        validate_data(frame(), target="y", task="regresion")


def test_mixed_value_types_in_a_column():
    df = frame().assign(c=pd.Series([1, "a"] * 15, dtype=object))
    with pytest.raises(DataValidationError, match="Column 'c' mixes value types"):
        validate_data(df, target="y")


def test_empty_and_constant_columns_are_dropped_with_a_warning():
    df = frame().assign(empty=np.nan, const="k")
    with pytest.warns(DroppedColumnWarning, match="'empty', 'const'"):
        _, _, profile = validate_data(df, target="y")
    assert profile.dropped == ("empty", "const")
    assert "empty" not in profile.numeric and "const" not in profile.categorical


def test_unknown_algorithm_and_metric_names(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(UnknownNameError, match="Did you mean 'random_forest'"):
        automl.fit(X, y, algorithms=["random_forrest"], n_trials=1)
    with pytest.raises(UnknownNameError, match="Did you mean 'roc_auc'"):
        automl.fit(X, y, metric="roc_aux", n_trials=1)


def test_errors_are_also_builtin_errors():
    with pytest.raises(ValueError):
        validate_data(frame(), target="nope")
