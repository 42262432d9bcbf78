"""Which algorithms a search gets: task, installed libraries, row limits, user files."""

from __future__ import annotations

import textwrap

import pytest

from automl.exceptions import MissingDependencyError, SkippedAlgorithmWarning
from automl.registry import load_registry, select_candidates


def write_space(tmp_path, name: str, extra: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        textwrap.dedent(f"""
        schema_version = 1
        estimator.classification = "sklearn.naive_bayes:GaussianNB"
        {extra}
        [params.var_smoothing]
        type = "float"
        low = 1e-11
        high = 1e-5
        log = true
        default = 1e-9
        why = "scikit-learn docs"
    """)
    )
    return str(path)


def test_missing_library_skipped_quietly_or_named_with_an_install_hint(tmp_path):
    registry = load_registry([write_space(tmp_path, "needs_lib", 'requires = ["no_such_lib_xyz"]')])
    names = [s.name for s in select_candidates(registry, "binary", 100)]
    assert "needs_lib" not in names and "gaussian_nb" in names
    with pytest.raises(MissingDependencyError, match="pip install no_such_lib_xyz"):
        select_candidates(registry, "binary", 100, ["needs_lib"])


def test_row_limit_skips_costly_algorithms_and_says_so():
    registry = load_registry()
    with pytest.warns(SkippedAlgorithmWarning, match="200000 training rows exceed") as caught:
        names = [s.name for s in select_candidates(registry, "binary", 200_000)]
    assert {str(w.message).split("'")[1] for w in caught} == {"svm", "knn"}
    assert "svm" not in names and "knn" not in names and "lightgbm" in names
    assert "svm" in [s.name for s in select_candidates(registry, "binary", 1_000)]


def test_task_filter():
    registry = load_registry()
    regression = {s.name for s in select_candidates(registry, "regression", 100)}
    assert "ridge" in regression and "logistic_regression" not in regression
    assert "gaussian_nb" not in regression


def test_a_user_file_replaces_a_builtin_of_the_same_name(tmp_path):
    registry = load_registry([write_space(tmp_path, "knn", "cost = 0.01")])
    assert registry["knn"].cost == 0.01
    assert registry["knn"].estimators["classification"] == "sklearn.naive_bayes:GaussianNB"


def test_the_install_line_a_space_file_declares_is_the_hint(tmp_path):
    path = tmp_path / "needs_extra.toml"
    path.write_text(
        'schema_version = 2\nestimator.classification = "no_such_lib_xyz:Model"\n'
        'requires = ["no_such_lib_xyz"]\ninstall = "pip install \'automl[xyz]\'"\n'
    )
    registry = load_registry([str(path)])
    with pytest.raises(
        MissingDependencyError, match=r"Install it with: pip install 'automl\[xyz\]'"
    ):
        select_candidates(registry, "binary", 100, ["needs_extra"])
