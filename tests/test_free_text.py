"""Free-text columns (long strings, almost all different) are dropped with a warning naming
them, never one-hot encoded into thousands of columns; short codes and categories stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import automl
from automl.data import validate_data
from automl.exceptions import DroppedColumnWarning


def frame_with_text(n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    words = ["late", "delivery", "great", "service", "broken", "parcel", "again", "thanks"]
    review = [" ".join(rng.choice(words, 8)) + f" (order {i})" for i in range(n)]
    frame = pd.DataFrame(
        {
            "review": review,
            "code": [f"C{i:04d}" for i in range(n)],  # unique but short: an identifier
            "city": rng.choice(["Lyon", "Paris", "Nantes"], n),
            "amount": rng.normal(size=n),
        }
    )
    y = pd.Series((frame["amount"] > 0).astype(int), name="y")
    return frame, y


def test_free_text_is_dropped_and_named():
    X, y = frame_with_text()
    with pytest.warns(DroppedColumnWarning, match=r"1 free-text column\(s\).*'review'"):
        _, _, profile = validate_data(X, y)
    assert profile.dropped == ("review",)
    assert set(profile.categorical) == {"code", "city"}


def test_a_column_the_user_calls_categorical_is_kept(recwarn):
    X, y = frame_with_text()
    _, _, profile = validate_data(X, y, column_kinds={"review": "categorical"})
    assert "review" in profile.categorical and not profile.dropped


def test_a_search_on_a_frame_with_free_text_predicts_with_it():
    X, y = frame_with_text()
    with pytest.warns(DroppedColumnWarning):
        model = automl.fit(
            X, y, n_trials=2, time_budget=None, cv=2, algorithms=["logistic_regression"]
        )
    assert set(model.leaderboard_["state"]) == {"complete"}
    assert model.predict(X).shape == (len(X),)
