"""The comparison report: content, escaping, self-containment, re-rendering, the paired test."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, clone

import automl
import automl.baselines
from automl import AutoMLClassifier, AutoMLRegressor
from automl.cli import main
from automl.comparison import compare_to_best, corrected_paired_ttest
from automl.exceptions import DataValidationError, InvalidParameterError
from automl.report import Report, write_report

EVIL = "<script>alert(1)</script>"


def evil_frame(n: int = 160, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A binary task whose column names and class labels are HTML and Markdown."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    X = pd.DataFrame(
        {
            EVIL: x,
            "noise": rng.normal(size=n),
            "colour | *bold*": rng.choice(["<b>red</b>", "$blue$"], size=n),
        }
    )
    y = pd.Series(
        np.where(x + 0.5 * rng.normal(size=n) > 0, "<i>yes</i>", "$no$ & co"), name="label"
    )
    return X, y


@pytest.fixture(scope="module")
def baseline_report(tmp_path_factory):
    X, y = evil_frame()
    result = automl.baseline(X, y, cv=3, algorithms=["logistic_regression", "gaussian_nb"])
    out = tmp_path_factory.mktemp("baseline")
    return write_report(result, X, y, out), result


def test_write_report_writes_json_html_and_markdown(baseline_report):
    paths, result = baseline_report
    assert set(paths) == {"json", "html", "markdown"} and all(p.is_file() for p in paths.values())
    content = json.loads(paths["json"].read_text(encoding="utf-8"))  # strict JSON: no NaN
    assert content["kind"] == "baseline" and content["best"] == result.best_algorithm
    assert [m["algorithm"] for m in content["models"]] == list(result.leaderboard["algorithm"])
    assert content["data"]["n_rows"] == 160 and content["data"]["n_categorical"] == 1
    assert {c["label"] for c in content["data"]["class_balance"]} == {"<i>yes</i>", "$no$ & co"}
    assert result.best_algorithm in content["comparison"]["not_worse"]
    assert "Nadeau and Bengio" in content["comparison"]["test"]
    diagnostics = content["diagnostics"]
    assert diagnostics["kind"] == "classification" and len(diagnostics["roc"]) == 1
    assert np.sum(diagnostics["confusion"]) == 160


def test_html_is_self_contained_and_escapes_text_from_the_data(baseline_report):
    paths, _ = baseline_report
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>red</b>" not in page and "<i>yes</i>" not in page
    # No asset fetched from anywhere: no src, stylesheet link or url() pointing outside.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "@import" not in page and "url(http" not in page
    assert page.count("<svg") >= 4
    assert 'id="leaderboard"' in page


def test_markdown_escapes_text_from_the_data(baseline_report):
    paths, _ = baseline_report
    text = paths["markdown"].read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;i&gt;yes&lt;/i&gt;" in text
    assert "## Leaderboard" in text and "logistic\\_regression" in text


def test_report_command_renders_again_from_report_json(baseline_report, tmp_path, capsys):
    paths, _ = baseline_report
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.json").write_bytes(paths["json"].read_bytes())
    assert main(["report", str(run)]) == 0
    # The same report.json renders the same page: nothing is lost in the JSON.
    assert (run / "report.html").read_text(encoding="utf-8") == paths["html"].read_text(
        encoding="utf-8"
    )
    assert (run / "report.md").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "report.json" in capsys.readouterr().err


def test_figures_past_the_deadline_are_left_out_with_a_note_and_drawn_later(
    baseline_report, tmp_path, caplog
):
    """A caller with a time budget (automl fit) passes a deadline; drawing is most of the
    cost of a report, so figures whose turn comes after it wait for `automl report`."""
    paths, result = baseline_report
    X, y = evil_frame()
    run = tmp_path / "run"
    write_report(result, X, y, run, deadline=time.monotonic() - 1.0)
    late = (run / "report.html").read_text(encoding="utf-8")
    full = paths["html"].read_text(encoding="utf-8")
    drawn = re.findall(r'<figure class="plot" id="plot-(\w+)"', full)
    assert len(drawn) >= 4 and "<svg" not in late
    for name in drawn:
        assert f'id="plot-{name}">The {name} plot was left out' in late
    assert "automl report RUN_DIR" in late
    said = re.search(r"before the report's (.+) plots were drawn", caplog.text)
    assert said is not None and set(said.group(1).split(", ")) == set(drawn)
    assert (run / "report.json").read_text(encoding="utf-8") == paths["json"].read_text(
        encoding="utf-8"
    )
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").read_text(encoding="utf-8") == full


def test_a_report_of_another_schema_version_is_refused(baseline_report, tmp_path):
    paths, _ = baseline_report
    content = json.loads(paths["json"].read_text(encoding="utf-8"))
    content["schema_version"] = 99
    (tmp_path / "report.json").write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(DataValidationError, match="schema_version 99"):
        Report.load(tmp_path)


def test_report_of_a_fit_has_nested_cv_history_and_importance(tmp_path, breast_cancer):
    X, y = breast_cancer
    X, y = X.iloc[:150], y.iloc[:150]
    model = AutoMLClassifier(
        n_trials=10,
        time_budget=None,
        cv=3,
        outer_cv=2,
        random_state=0,
        algorithms=["logistic_regression", "gaussian_nb"],
    ).fit(X, y)
    report = Report.from_source(model, X, y)
    content = report.to_dict()
    assert content["kind"] == "fit" and content["best"] == model.best_algorithm_
    assert content["nested"]["ci95"][0] <= content["nested"]["mean"] <= content["nested"]["ci95"][1]
    assert len(content["search"]["history"]) == model.n_trials_
    assert content["search"]["params"], "score against each hyperparameter"
    assert content["search"]["importance"]["method"].startswith("fANOVA")
    best = next(m for m in content["models"] if m["algorithm"] == model.best_algorithm_)
    assert best["mean"] == pytest.approx(model.best_score_) and best["size_bytes"] > 0
    assert "search's own 3 folds, kept by the search" in content["diagnostics"]["folds"]
    page = report.to_html()
    assert 'id="plot-history"' in page and 'id="plot-params"' in page and 'id="nested"' in page


def test_each_algorithms_best_keeps_its_out_of_fold_predictions_and_measures(diabetes):
    X, y = diabetes
    X, y = X.iloc[:150], y.iloc[:150]
    model = AutoMLRegressor(
        n_trials=8, time_budget=None, cv=3, random_state=3, algorithms=["ridge", "knn"]
    ).fit(X, y)
    board = model.leaderboard_
    assert set(model.best_per_algorithm_) == {"ridge", "knn"}
    for algorithm, best in model.best_per_algorithm_.items():
        row = board[board["algorithm"] == algorithm].iloc[0]  # the leaderboard is sorted
        assert best.trial == row["trial"] and best.score == pytest.approx(row["rmse"])
        assert best.size_bytes > 0 and best.predict_ms_per_1000 > 0
        # the kept predictions are those of the trial's own fold models on the search's folds
        pipeline = AutoMLRegressor(
            n_trials=1, time_budget=None, cv=3, random_state=3, strategy="manual",
            configurations=[{"algorithm": algorithm, **row["params"]}],
        ).fit(X, y).best_pipeline_  # fmt: skip
        expected = np.full(len(y), np.nan)
        for train, test in model.cv_splits_:
            fitted = clone(pipeline).fit(X.iloc[train], y.iloc[train])
            expected[test] = fitted.predict(X.iloc[test])
        np.testing.assert_allclose(best.oof, expected, rtol=1e-6)


def test_the_report_reads_and_fits_nothing(monkeypatch, diabetes):
    from sklearn.pipeline import Pipeline

    X, y = diabetes
    X, y = X.iloc[:150], y.iloc[:150]
    model = AutoMLRegressor(
        n_trials=6, time_budget=None, cv=3, random_state=0, algorithms=["ridge", "knn"]
    ).fit(X, y)

    def no_fitting(self, *args, **kwargs):
        raise AssertionError("the report fitted a pipeline")

    monkeypatch.setattr(Pipeline, "fit", no_fitting)
    content = Report.from_source(model, X, y).to_dict()
    sizes = {m["algorithm"]: m["size_bytes"] for m in content["models"] if m["trial"] is not None}
    assert sizes == {a: b.size_bytes for a, b in model.best_per_algorithm_.items()}
    assert content["diagnostics"]["n"] == len(y)


def test_regression_report_shows_predicted_against_true(diabetes, tmp_path):
    X, y = diabetes
    result = automl.baseline(X, y, cv=3, algorithms=["ridge", "knn"])
    content = Report.from_source(result, X, y).to_dict()
    diagnostics = content["diagnostics"]
    assert diagnostics["kind"] == "regression" and diagnostics["n"] == len(y)
    dummy = next(m for m in content["models"] if m["algorithm"] == "dummy")
    assert diagnostics["rmse"] < dummy["mean"]
    assert "target_distribution" in content["data"]
    assert 'id="plot-regression"' in Report(content).to_html()


def test_report_needs_a_fitted_source(diabetes):
    X, y = diabetes
    with pytest.raises(InvalidParameterError, match="AutoMLRegressor"):
        Report.from_source(AutoMLRegressor(), X, y)


def test_corrected_t_test_is_wider_than_the_naive_one():
    best = np.array([0.90, 0.92, 0.91, 0.93, 0.90])
    other = np.array([0.89, 0.90, 0.91, 0.91, 0.88])
    corrected = corrected_paired_ttest(best, other, 0.25, greater_is_better=True)
    naive = stats.ttest_rel(best, other, alternative="greater")
    assert corrected["difference"] == pytest.approx(0.014)
    assert naive.pvalue < corrected["p"] < 1
    # Losses: lower is better, so the same numbers flipped favour ``other``.
    assert corrected_paired_ttest(best, other, 0.25, greater_is_better=False)["p"] > 0.5
    assert corrected_paired_ttest(best, best, 0.25, True)["p"] == 1.0


def test_compare_to_best_lists_the_models_not_significantly_worse():
    folds = {
        "a": [0.9, 0.91, 0.92, 0.9, 0.91],
        "b": [0.9, 0.9, 0.92, 0.89, 0.91],
        "c": [0.5, 0.52, 0.49, 0.51, 0.5],
    }
    result = compare_to_best(folds, "a", 0.25, greater_is_better=True)
    assert result["not_worse"] == ["a", "b"]
    assert {r["algorithm"]: r["worse"] for r in result["rows"]} == {
        "a": False,
        "b": False,
        "c": True,
    }


def test_a_holdout_search_is_reported_without_a_test(diabetes):
    X, y = diabetes
    X, y = X.iloc[:120], y.iloc[:120]
    model = AutoMLRegressor(
        n_trials=4, time_budget=None, cv=0.25, random_state=0, algorithms=["ridge", "knn"]
    ).fit(X, y)
    content = Report.from_source(model, X, y).to_dict()
    assert content["comparison"]["not_worse"] == [model.best_algorithm_]
    assert "StratifiedKFold" not in content["diagnostics"]["folds"]
    assert "the search's holdout (30 rows)" in content["diagnostics"]["folds"]
    assert content["diagnostics"]["n"] == 30  # the holdout rows, not refit folds
    assert "not tested (one fold)" in Report(content).to_markdown()


def test_automl_fit_out_writes_the_report_and_report_renders_it_again(tmp_path, mixed):
    X, y = mixed
    data = tmp_path / "train.csv"
    X.assign(label=y).to_csv(data, index=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "fit",
                str(data),
                "--target",
                "label",
                "--trials",
                "4",
                "--time-budget",
                "60",
                "--cv",
                "3",
                "--algorithms",
                "logistic_regression,gaussian_nb",
                "--out",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    content = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert content["kind"] == "fit" and content["data"]["target"] == "label"
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0 and (run / "report.html").is_file()


class _Exploding(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise ValueError("<img src=x onerror=alert(1)> | *not bold*")


def test_error_messages_are_escaped(monkeypatch, tmp_path):
    baseline_module = automl.baselines
    real = baseline_module.build_pipeline
    monkeypatch.setattr(
        baseline_module,
        "build_pipeline",
        lambda c, config, profile, seed: (
            _Exploding() if c.name == "gaussian_nb" else real(c, config, profile, seed)
        ),
    )
    X, y = evil_frame(90)
    result = automl.baseline(X, y, cv=3, algorithms=["logistic_regression", "gaussian_nb"])
    paths = write_report(result, X, y, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; \\| \\*not bold\\*" in paths["markdown"].read_text(
        encoding="utf-8"
    )


def test_a_best_trial_from_an_earlier_run_is_reported_without_diagnostics(diabetes):
    X, y = diabetes
    X, y = X.iloc[:120], y.iloc[:120]
    model = AutoMLRegressor(
        n_trials=3, time_budget=None, cv=3, random_state=0, algorithms=["ridge"]
    ).fit(X, y)
    model.oof_predictions_ = None  # what a resumed search whose best is older has
    report = Report.from_source(model, X, y)
    assert report.content["diagnostics"]["kind"] == "unavailable"
    assert "resumed run" in report.content["diagnostics"]["folds"]
    assert "resumed run" in report.to_markdown()
    assert "resumed run" in report.to_html()
