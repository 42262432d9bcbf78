"""Frames as pandas, Parquet and SQL give them: nullable and Arrow dtypes, pd.NA anywhere.

Every algorithm fits such a frame without a failed trial (they used to fail for LightGBM,
XGBoost and HistGradientBoosting, and the search quietly went on without them), and the
saved model predicts on the same dtypes as the fitted one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl
from automl.persistence import load_model, save_model
from automl.registry import is_installed, load_registry

N = 160


def nullable_frame(n: int = N, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """One column per nullable or Arrow dtype, 10% of each pd.NA; y depends on two.

    Dates and times have their own test (test_dates.py)."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    columns = {
        **{
            f"int{bits}": pd.array(rng.integers(0, 100, n), dtype=f"Int{bits}")
            for bits in (8, 16, 32, 64)
        },
        **{
            f"uint{bits}": pd.array(rng.integers(0, 100, n), dtype=f"UInt{bits}")
            for bits in (8, 16, 32, 64)
        },
        "float32": pd.array(signal.astype("float32"), dtype="Float32"),
        "float64": pd.array(rng.normal(size=n), dtype="Float64"),
        "flag": pd.array(signal > 0.5, dtype="boolean"),
        "text": pd.array(rng.choice(["a", "b", "c"], n), dtype="string[python]"),
        "arrow_text": pd.array(rng.choice(["x", "y"], n), dtype="string[pyarrow]"),
        "default_str": pd.Series(rng.choice(["p", "q", "r"], n)).astype("str"),
        "category": pd.Series(pd.Categorical(rng.choice(["u", "v"], n))),
    }
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        frame.loc[rng.random(n) < 0.1, name] = pd.NA
    y = pd.Series(np.where(signal + (frame["text"] == "a").fillna(False) > 0.3, "yes", "no"))
    return frame, y.rename("label")


def test_the_frame_holds_the_dtypes_it_should():
    X, _ = nullable_frame()
    dtypes = {str(t) for t in X.dtypes}
    assert {"Int8", "UInt64", "Float32", "boolean", "category"} <= dtypes
    assert X["arrow_text"].dtype.storage == "pyarrow" and X["text"].dtype.storage == "python"
    assert X.isna().any().all()  # every column has missing values
    assert any(v is pd.NA for v in X["int8"])


ALGORITHMS = [name for name, spec in sorted(load_registry().items()) if is_installed(spec)]


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_every_algorithm_fits_nullable_and_arrow_dtypes(task, tmp_path):
    X, y = nullable_frame()
    if task == "regression":
        y = pd.Series(np.arange(N) % 7 + X["float32"].astype("float64").fillna(0), name="t")
    registry = load_registry()
    names = [a for a in ALGORITHMS if registry[a].supports(task)]
    model = automl.fit(
        X,
        y,
        strategy="manual",
        configurations=[{"algorithm": a} for a in names],
        time_budget=None,
        cv=2,
        random_state=0,
    )
    board = model.leaderboard_
    failed = board[board["state"] != "complete"]
    assert failed.empty, failed[["algorithm", "state", "error"]].to_string()
    assert sorted(board["algorithm"]) == sorted(names)
    # The saved model takes the same dtypes at predict time, and predicts as the fitted one.
    loaded = load_model(save_model(model, X, tmp_path / "m.automl"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_plain_and_nullable_dtypes_of_the_same_values_predict_the_same():
    X, y = nullable_frame()
    model = automl.fit(
        X, y, n_trials=2, time_budget=None, cv=2, algorithms=["lightgbm"], random_state=0
    )
    plain = X.astype(
        {c: "float64" for c in X.columns if str(X[c].dtype)[0] in "IUF"}
        | {c: object for c in ("text", "arrow_text", "default_str", "flag")}
    )
    plain = plain.where(plain.notna(), np.nan)
    np.testing.assert_array_equal(model.predict(plain), model.predict(X))
