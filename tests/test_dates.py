"""Dates, times and durations become numeric features inside the pipeline (year, month, day,
hour where present, weekday, the value in seconds), fitted per fold, listed in the data
summary, and accepted again at predict time (also as text, as a CSV gives them)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import automl
from automl.data import validate_data
from automl.exceptions import DataValidationError
from automl.persistence import load_model, save_model
from automl.registry import is_installed, load_registry
from automl.report import write_report


def timed_frame(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="Europe/Paris")
    when = pd.Series(start + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"))
    day = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"))
    frame = pd.DataFrame(
        {
            "when": when,  # tz-aware, with a time
            "day": day,  # naive, dates only
            "wait": pd.Series(pd.to_timedelta(rng.integers(0, 100, n), unit="m")),
            "x": rng.normal(size=n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "when"] = pd.NaT
    frame.loc[rng.random(n) < 0.1, "wait"] = pd.NaT
    # the label lives in the hour and the weekday: a date taken as a category cannot see it
    y = (when.dt.hour >= 12) ^ (day.dt.day_of_week >= 5)
    return frame, pd.Series(y.astype(int), name="y")


def test_kinds_and_features_of_dates_and_durations():
    X, y = timed_frame()
    _, _, profile = validate_data(X, y)
    assert profile.kinds == {
        "x": "numeric",
        "when": "datetime",
        "day": "datetime",
        "wait": "duration",
    }
    assert profile.timestamp == ("when",) and profile.datetime == ("day",)
    assert profile.n_features == 1 + 1 + 6 + 5  # x, wait (seconds), when (6), day (5)


def test_every_algorithm_learns_from_the_expanded_dates(tmp_path):
    X, y = timed_frame()
    names = [
        n for n, s in sorted(load_registry().items()) if is_installed(s) and s.supports("binary")
    ]
    model = automl.fit(
        X,
        y,
        strategy="manual",
        configurations=[{"algorithm": a} for a in names],
        time_budget=None,
        cv=3,
        random_state=0,
    )
    board = model.leaderboard_
    assert set(board["state"]) == {"complete"}, board[["algorithm", "error"]]
    assert model.best_score_ > 0.95  # trees split on hour and weekday
    loaded = load_model(save_model(model, X, tmp_path / "m.automl"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # as a CSV gives them: dates and durations as text
    as_text = X.astype(str).replace({"NaT": None})
    np.testing.assert_array_equal(loaded.predict(as_text), model.predict(X))
    bad = as_text.assign(day="not a date")
    with pytest.raises(DataValidationError, match="Column 'day' held dates at fit time"):
        loaded.predict(bad)
    summary = json.loads(write_report(model, X, y, tmp_path)["json"].read_text())["data"]
    assert summary["n_datetime"] == 2 and summary["n_duration"] == 1
    assert {c["name"]: c["kind"] for c in summary["columns"]}["when"] == "datetime"
