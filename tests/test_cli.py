"""The command line, in-process through main(argv), and one real kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from automl.cli import main
from automl.cli.progress import format_progress
from automl.persistence import load_model
from automl.search import SearchProgress


@pytest.fixture
def csv(tmp_path):
    frame = load_breast_cancer(as_frame=True).frame.sample(240, random_state=0)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    path = tmp_path / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


def fit_args(csv, out, *extra):
    return [
        "fit",
        str(csv),
        "--target",
        "target",
        "--out",
        str(out),
        "--cv",
        "3",
        "--algorithms",
        "gaussian_nb,logistic_regression",
        "--time-budget",
        "30",
        "--quiet",
        *extra,
    ]


def test_fit_then_predict(csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(fit_args(csv, out, "--trials", "4")) == 0
    printed = capsys.readouterr().out
    assert "Best:" in printed and "roc_auc" in printed
    for name in ("model.automl", "leaderboard.csv", "summary.json", "search.db"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trials"] == 4 and summary["metric"] == "roc_auc"
    assert len(pd.read_csv(out / "leaderboard.csv")) == 4
    preds = tmp_path / "preds.csv"
    assert (
        main(["predict", str(out / "model.automl"), str(csv), "--out", str(preds), "--proba"]) == 0
    )
    table = pd.read_csv(preds)
    assert list(table.columns) == ["target", "proba_0", "proba_1"]
    truth = pd.read_csv(csv)["target"]
    assert (table["target"] == truth).mean() > 0.85


def test_saved_model_predicts_like_the_fitted_one(csv, tmp_path):
    import automl
    from automl.persistence import save_model

    frame = pd.read_csv(csv)
    X, y = frame.drop(columns="target"), frame["target"]
    model = automl.fit(
        X,
        y,
        n_trials=3,
        time_budget=None,
        cv=3,
        random_state=0,
        algorithms=["lightgbm", "xgboost", "svm"],
    )
    path = save_model(model, X, tmp_path / "m.automl")
    loaded = load_model(path)
    assert (loaded.predict(X) == model.predict(X)).all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(loaded.predict_proba(X)), pd.DataFrame(model.predict_proba(X))
    )
    assert loaded.metadata["target"] == "target" and loaded.metadata["classes"] == [0, 1]
    assert loaded.metadata["versions"]["scikit-learn"]


def test_predict_schema_errors(csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(fit_args(csv, out, "--trials", "2")) == 0
    frame = pd.read_csv(csv)
    missing = tmp_path / "missing.csv"
    frame.drop(columns=["mean_radius", "target"]).to_csv(missing, index=False)
    assert main(["predict", str(out / "model.automl"), str(missing)]) == 2
    assert "lacks 1 column(s) the model needs: ['mean_radius']" in capsys.readouterr().err
    wrong = tmp_path / "wrong.csv"
    frame.assign(mean_texture="high").to_csv(wrong, index=False)
    assert main(["predict", str(out / "model.automl"), str(wrong)]) == 2
    assert "Column 'mean_texture' must be numeric" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["fit", "data.xlsx", "--target", "y"],
            "unsupported file type '.xlsx'; give a .csv or .parquet",
        ),
        (["fit", "nope.csv", "--target", "y"], "nope.csv: no such file"),
        (["predict", "nope.automl", "x.csv"], "no such model file"),
        (["space", "randomforest"], "Did you mean 'random_forest'"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_target_and_option_values(csv, tmp_path, capsys):
    assert main(["fit", str(csv), "--target", "tarjet", "--out", str(tmp_path / "o")]) == 2
    assert "Did you mean 'target'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(fit_args(csv, tmp_path / "o2", "--cv", "lots")) == 2
    assert "--cv must be 'auto', a number of folds" in capsys.readouterr().err
    assert main(["fit", str(csv)]) == 2  # argparse: --target is required
    assert "--target" in capsys.readouterr().err


def test_a_second_fit_into_the_same_folder_is_refused_without_resume(csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(fit_args(csv, out, "--trials", "2")) == 0
    assert main(fit_args(csv, out, "--trials", "2")) == 2
    assert "already holds a search" in capsys.readouterr().err


def test_resume_against_other_data_is_refused(csv, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(fit_args(csv, out, "--trials", "2")) == 0
    other = tmp_path / "other.csv"
    pd.read_csv(csv).iloc[1:].to_csv(other, index=False)
    assert main(fit_args(other, out, "--trials", "3", "--resume")) == 2
    assert "Cannot resume" in capsys.readouterr().err


def test_registry_commands(capsys, tmp_path):
    assert main(["algorithms"]) == 0
    listing = capsys.readouterr().out
    assert "lightgbm" in listing and "installed" in listing
    assert main(["space", "svm"]) == 0
    assert "[params.degree]" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'schema_version = 1\nestimator.classification = "sklearn.svm:SVC"\n'
        "[params.C]\ntype='float'\nlow=1.0\nhigh=0.1\ndefault=0.5\nwhy='x'\n"
    )
    assert main(["check-space", str(bad)]) == 2
    assert "[params.C] 'low' (1.0) must be below 'high'" in capsys.readouterr().err


def test_help_explains_every_command(capsys):
    for command in ("fit", "predict", "algorithms", "space", "check-space"):
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: automl {command}") and "Example: automl" in text


def test_progress_line_format():
    state = SearchProgress(
        elapsed=12.3,
        budget=60,
        running=2,
        done=14,
        complete=10,
        pruned=2,
        failed=1,
        timed_out=1,
        n_trials=None,
        best=0.99412,
        best_algorithm="lightgbm",
        metric="roc_auc",
    )
    assert format_progress(state) == (
        "[ 12.3s / 60s] 2 running, 14 done (10 complete, 2 "
        "pruned, 1 failed, 1 timed out), best roc_auc 0.9941 "
        "(lightgbm)"
    )


def test_progress_to_a_redirected_stderr_is_plain_lines(csv, tmp_path):
    """Not a terminal: no carriage returns, a line every few seconds and a last one."""
    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "automl",
        "fit",
        str(csv),
        "--target",
        "target",
        "--out",
        str(out),
        "--cv",
        "3",
        "--algorithms",
        "gaussian_nb,logistic_regression",
        "--time-budget",
        "7",
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()}
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " running, " in line]
    assert "\r" not in done.stderr
    assert len(lines) >= 2  # about one per 5 s, and the last
    assert "complete" in lines[-1] and "best roc_auc" in lines[-1]


FINISHED = "SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED', 'FAIL')"
# running trials whose configuration was drawn to the end (the driver records it as "config")
RUNNING_DRAWN = (
    "SELECT COUNT(*) FROM trials JOIN trial_user_attributes USING (trial_id) "
    "WHERE state = 'RUNNING' AND key = 'config'"
)


def _count_trials(db, query: str = FINISHED) -> int:
    """Count trials read-only: opening the storage with Optuna while the fitting process
    creates it would race on creating its tables."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            return connection.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet, or briefly locked
        return 0


def test_kill_and_resume_keeps_every_finished_trial(csv, tmp_path):
    out = tmp_path / "run"
    storage = f"sqlite:///{out / 'search.db'}"
    argv = [sys.executable, "-m", "automl", *fit_args(csv, out, "--time-budget", "120")]
    argv[argv.index("gaussian_nb,logistic_regression")] = "knn,logistic_regression,random_forest"
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    deadline = time.monotonic() + 120
    db = out / "search.db"
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
        # killed while a trial runs (between a tell and the next ask, none is out)
        if _count_trials(db) >= 4 and _count_trials(db, RUNNING_DRAWN):
            break
    assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGKILL)
    process.wait()
    study = optuna.load_study(study_name="automl", storage=storage)
    before = {t.number: (t.params, t.value, t.state) for t in study.trials if t.state.is_finished()}
    assert len(before) >= 4
    # what the killed driver was running at that moment (it always has a trial out)
    running = {
        t.number: t.params
        for t in study.trials
        if t.state == optuna.trial.TrialState.RUNNING and "config" in t.user_attrs
    }
    assert running
    total = len(before) + 4
    assert (
        main(
            fit_args(
                csv,
                out,
                "--resume",
                "--trials",
                str(total),
                "--algorithms",
                "knn,logistic_regression,random_forest",
            )
        )
        == 0
    )
    after = optuna.load_study(study_name="automl", storage=storage).trials
    kept = {t.number: (t.params, t.value, t.state) for t in after if t.number in before}
    assert kept == before  # nothing finished was lost or changed
    finished = [t for t in after if t.state.is_finished()]
    assert len(finished) >= total
    numbers = [t.number for t in after]
    assert len(numbers) == len(set(numbers))
    # the opening configurations (trials 0-2, one per algorithm) were not run again
    opening = {repr(sorted(before[n][0].items())) for n in range(3)}
    later = [repr(sorted(t.params.items())) for t in finished if t.number >= 3]
    assert not opening & set(later)
    # the trials the kill cut short are failed as interrupted and run again
    by_number = {t.number: t for t in after}
    for number, params in running.items():
        trial = by_number[number]
        assert trial.state == optuna.trial.TrialState.FAIL
        assert trial.user_attrs["reason"] == "interrupted"
        assert any(t.params == params and t.number > number for t in finished)


def test_a_second_driver_on_a_running_search_is_refused(csv, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "automl", *fit_args(csv, out, "--time-budget", "120")]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.3)
            if _count_trials(out / "search.db") >= 2:
                break
        assert process.poll() is None, process.stderr.read()
        assert main(fit_args(csv, out, "--resume", "--trials", "50")) == 2
        error = capsys.readouterr().err
        assert f"pid {process.pid}" in error and "being run by another process" in error
        assert process.poll() is None  # the first one runs on, untouched
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert process.returncode == 130, process.stderr.read().decode()
    study = optuna.load_study(study_name="automl", storage=f"sqlite:///{out / 'search.db'}")
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
