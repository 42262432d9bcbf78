"""The search opens with a portfolio of configurations (the built-in one, or the user's)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

import automl
from automl.builder import complete_config, make_candidate
from automl.exceptions import InvalidParameterError, SearchSpaceError
from automl.registry import builtin_portfolio, is_installed, load_registry
from automl.space.portfolio import TASKS, read_portfolio

PORTFOLIO = """
schema_version = 1

[[configurations]]
task = "binary"
algorithm = "knn"
n_neighbors = 7

[[configurations]]
task = ["binary", "multiclass"]
algorithm = "logistic_regression"
C = 0.5

[[configurations]]
task = "regression"
algorithm = "ridge"
alpha = 3.0

[[configurations]]
algorithm = "knn"
n_neighbors = 25
"""


def _data():
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    return X, y


def _opening(model, n):
    return [
        (t.params["algorithm"], t.user_attrs["config"])
        for t in sorted(model.study_.trials, key=lambda t: t.number)[:n]
    ]


def test_the_search_opens_with_the_portfolio_of_its_task_then_the_others_openings(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(PORTFOLIO)
    X, y = _data()
    model = automl.AutoMLClassifier(
        algorithms=["knn", "logistic_regression", "gaussian_nb"],
        portfolio=path,
        n_trials=5,
        time_budget=None,
        cv=3,
        random_state=0,
        ensemble=False,
    ).fit(X, y)
    opening = _opening(model, 4)
    # the three binary entries in file order, then gaussian_nb, which the portfolio left out
    assert [a for a, _ in opening] == ["knn", "logistic_regression", "knn", "gaussian_nb"]
    assert opening[0][1]["n_neighbors"] == 7 and opening[2][1]["n_neighbors"] == 25
    assert opening[1][1]["C"] == 0.5
    assert model.n_trials_ == 5  # then the sampler


def test_without_a_portfolio_each_algorithm_opens_with_its_own_configuration():
    X, y = _data()
    model = automl.AutoMLClassifier(
        algorithms=["knn", "logistic_regression"],
        portfolio=False,
        n_trials=2,
        time_budget=None,
        cv=3,
        random_state=0,
    ).fit(X, y)
    registry = load_registry()
    expected = {
        name: make_candidate(registry[name], "binary").opening_config()
        for name in ("knn", "logistic_regression")
    }
    assert {a: c for a, c in _opening(model, 2)} == expected


def test_a_users_entry_outside_the_space_names_the_file_and_the_entry(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(PORTFOLIO.replace("n_neighbors = 25", "n_neighbors = 100000"))
    X, y = _data()
    with pytest.raises(InvalidParameterError, match=r"bad.toml: configurations\[2\].*n_neighbors"):
        automl.AutoMLClassifier(
            algorithms=["knn"], portfolio=path, n_trials=2, time_budget=None, cv=3
        ).fit(X, y)


@pytest.mark.parametrize(
    "text, message",
    [
        ("schema_version = 1\n", "no \\[\\[configurations\\]\\]"),
        ('[[configurations]]\nalgorithm = "knn"\n', "schema_version = 1"),
        ("schema_version = 1\n[[configurations]]\nC = 1.0\n", "needs algorithm"),
        (
            'schema_version = 1\n[[configurations]]\nalgorithm = "knn"\ntask = "ranking"\n',
            "task 'ranking'",
        ),
        ("schema_version = [", "not valid TOML"),
    ],
)
def test_a_broken_portfolio_file_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(SearchSpaceError, match=message):
        read_portfolio(path, "binary")


def test_a_missing_portfolio_file_says_what_is_accepted(tmp_path):
    with pytest.raises(SearchSpaceError, match="not found.*portfolio=True"):
        read_portfolio(tmp_path / "none.toml", "binary")


def test_portfolio_must_be_a_bool_or_a_path():
    X, y = _data()
    with pytest.raises(InvalidParameterError, match="'portfolio'"):
        automl.AutoMLClassifier(portfolio=3, n_trials=1).fit(X, y)


@pytest.mark.parametrize("task", TASKS)
def test_every_builtin_portfolio_entry_is_in_its_algorithms_space(task):
    """The shipped portfolio is learned (benchmarks/portfolio.py); its entries must stay
    inside the spaces as they change, and name algorithms of the registry."""
    registry = load_registry()
    entries = read_portfolio(builtin_portfolio(), task)
    assert len(entries) >= 8
    for entry in entries:
        entry = dict(entry)
        spec = registry[entry.pop("algorithm")]
        assert task in spec.tasks
        if is_installed(spec):
            config = complete_config(make_candidate(spec, task), entry)
            assert set(entry) <= set(config)


def test_the_builtin_portfolio_opens_the_search_when_asked_for():
    X, y = _data()
    model = automl.AutoMLClassifier(
        n_trials=3, time_budget=None, cv=3, random_state=0, ensemble=False, portfolio=True
    ).fit(X, y)
    first = read_portfolio(builtin_portfolio(), "binary")[0]
    algorithm, config = _opening(model, 1)[0]
    assert algorithm == first["algorithm"]
    for name, value in first.items():
        if name != "algorithm":
            assert (
                config[name] == pytest.approx(value)
                if isinstance(value, float)
                else (config[name] == value)
            )
    assert np.isfinite(model.best_score_)
