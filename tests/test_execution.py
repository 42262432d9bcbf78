"""The execution layer: faults in learners, hard limits, the time budget, parallel trials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from sklearn.datasets import load_breast_cancer

import automl
from automl import AutoMLClassifier
from automl.exceptions import TrialFailedWarning

ROOT = Path(__file__).resolve().parent.parent

FAULTS = {
    "sleeper": ("SleepsForever", "timeout"),
    "hog": ("EatsMemory", "memory"),
    "segfault": ("Segfaults", "crashed"),
    "raiser": ("Raises", "error"),
}


def fault_spaces(folder):
    paths = []
    for name, (cls, _) in FAULTS.items():
        path = folder / f"{name}.toml"
        # cheapest of all, so their opening trials run first
        path.write_text(
            f'schema_version = 1\nestimator.classification = "conftest:{cls}"\ncost = 0.01\n'
        )
        paths.append(path)
    return paths


def within_budget(seconds, budget):
    return seconds <= budget * 1.05 + 1.0


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_hanging_memory_hungry_crashing_and_raising_learners_are_recorded(
    tmp_path, n_jobs, breast_cancer
):
    X, y = breast_cancer
    budget = 12
    started = time.monotonic()
    with pytest.warns(TrialFailedWarning):
        model = AutoMLClassifier(
            time_budget=budget,
            trial_time_limit=2.5,
            memory_limit=450,
            n_jobs=n_jobs,
            cv=3,
            spaces=fault_spaces(tmp_path),
            algorithms=[*FAULTS, "logistic_regression"],
            random_state=0,
        ).fit(X, y)
    assert within_budget(time.monotonic() - started, budget)
    assert model.best_algorithm_ == "logistic_regression"
    assert model.best_score_ > model.dummy_score_
    board = model.leaderboard_
    for name, (_, reason) in FAULTS.items():
        rows = board[board["algorithm"] == name]
        failed = rows[rows["state"] == "failed"]
        assert len(failed) >= 1 and (failed["reason"] == reason).all(), rows[["reason", "error"]]
        # the others were not run (too slow for the time left, or the algorithm dropped), or
        # were still running at the deadline and stopped there
        assert rows.loc[rows["state"] != "failed", "reason"].isin(["skipped", "stopped"]).all()
    segfault = board[board["algorithm"] == "segfault"]["error"].iloc[0]
    assert "signal 11 (SIGSEGV)" in segfault
    hog = board[board["algorithm"] == "hog"]["error"].iloc[0]
    assert "over the memory limit of 450 MB" in hog
    # the study records each failure with its reason, for Optuna's own tools
    failed = [t for t in model.study_.trials if t.state.name == "FAIL"]
    assert {t.user_attrs["reason"] for t in failed} == {"timeout", "memory", "crashed", "error"}


def test_an_algorithm_failing_three_times_in_a_row_is_dropped(tmp_path, breast_cancer, caplog):
    X, y = breast_cancer
    sleeper = fault_spaces(tmp_path)[0]
    with pytest.warns(TrialFailedWarning):
        model = AutoMLClassifier(
            n_trials=12,
            time_budget=None,
            trial_time_limit=0.5,
            strategy="random",
            cv=3,
            spaces=[sleeper],
            algorithms=["sleeper", "gaussian_nb"],
            random_state=0,
        ).fit(X, y)
    board = model.leaderboard_
    sleeps = board[board["algorithm"] == "sleeper"]
    assert (sleeps["reason"] == "timeout").sum() == 3
    assert (sleeps["reason"] == "skipped").sum() == len(sleeps) - 3
    assert "'sleeper' dropped from the rest of the search" in caplog.text
    assert model.best_algorithm_ == "gaussian_nb"


@pytest.mark.parametrize("budget, outer_cv", [(1, None), (3, None), (10, None), (3, 3), (10, 3)])
def test_fit_ends_within_the_time_budget_and_beats_the_dummy(budget, outer_cv):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    started = time.monotonic()
    model = automl.fit(X, y, time_budget=budget, outer_cv=outer_cv, random_state=0)
    seconds = time.monotonic() - started
    assert within_budget(seconds, budget), seconds
    assert model.best_score_ > model.dummy_score_
    if outer_cv:
        assert len(model.nested_cv_.folds) == outer_cv


@pytest.mark.parametrize("budget", [1, 3])
def test_cli_fit_writes_model_and_report_within_the_time_budget(tmp_path, budget):
    import json

    import matplotlib.figure  # noqa: F401  imported by `automl fit` before its clock starts
    import skops.io  # noqa: F401

    from automl.cli import main

    data = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(data, index=False)
    out = tmp_path / "run"
    started = time.monotonic()
    status = main(
        [
            "fit",
            str(data),
            "--target",
            "target",
            "--out",
            str(out),
            "--time-budget",
            str(budget),
            "--quiet",
        ]
    )
    seconds = time.monotonic() - started
    assert status == 0
    assert within_budget(seconds, budget), seconds
    for name in ("model.automl", "report.html", "leaderboard.csv"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_cv_score"] > summary["dummy_cv_score"]


def test_same_seed_and_n_jobs_give_the_same_trials_in_parallel(breast_cancer):
    X, y = breast_cancer
    kwargs = dict(
        n_trials=14,
        time_budget=None,
        cv=3,
        n_jobs=2,
        random_state=3,
        algorithms=["gaussian_nb", "logistic_regression", "knn", "extra_trees"],
    )
    first = AutoMLClassifier(**kwargs).fit(X, y)
    second = AutoMLClassifier(**kwargs).fit(X, y)
    assert [t.params for t in first.study_.trials] == [t.params for t in second.study_.trials]
    assert [t.value for t in first.study_.trials] == [t.value for t in second.study_.trials]
    assert first.best_params_ == second.best_params_
    np.testing.assert_allclose(first.predict_proba(X), second.predict_proba(X))


def test_progress_callbacks_see_running_and_finished_trials(breast_cancer):
    X, y = breast_cancer
    seen = []
    model = AutoMLClassifier(
        n_trials=6,
        time_budget=None,
        cv=3,
        n_jobs=2,
        random_state=0,
        algorithms=["gaussian_nb", "logistic_regression"],
        callbacks=[seen.append],
    ).fit(X, y)
    assert seen and max(p.running for p in seen) == 2
    last = seen[-1]
    assert last.done == 6 and last.running == 0
    assert last.complete + last.pruned + last.failed + last.timed_out == 6
    assert last.best == pytest.approx(model.best_score_)
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_a_worker_killed_from_outside_is_a_crashed_trial_and_the_search_goes_on(breast_cancer):
    X, y = breast_cancer
    killed = []

    def kill_a_worker(progress):
        if progress.done and progress.running and not killed:
            workers = _worker_processes()
            if workers:
                killed.append(workers[0].pid)
                workers[0].kill()

    model = AutoMLClassifier(
        n_trials=8,
        time_budget=None,
        cv=3,
        random_state=0,
        algorithms=["extra_trees", "logistic_regression"],
        configurations=[{"algorithm": "extra_trees", "n_estimators": 500}],
        callbacks=[kill_a_worker],
    ).fit(X, y)
    board = model.leaderboard_
    assert killed
    crashed = board[board["reason"] == "crashed"]
    assert len(crashed) == 1 and "signal 9 (SIGKILL)" in crashed["error"].iloc[0]
    assert (board["state"] == "complete").sum() >= 5


def _worker_processes():
    """This process's worker processes: the children of its multiprocessing fork server."""
    workers = []
    for child in psutil.Process().children():
        if any("forkserver" in part for part in child.cmdline()):
            workers += child.children()
    return workers


def test_an_interrupted_cli_run_leaves_no_worker_behind(tmp_path):
    """kill -9 of the driver: its workers notice and stop (no orphan keeps computing)."""
    import subprocess
    import sys

    frame = load_breast_cancer(as_frame=True).frame
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automl",
            "fit",
            str(data),
            "--target",
            "target",
            "--out",
            str(tmp_path / "run"),
            "--time-budget",
            "60",
            "--jobs",
            "2",
            "--quiet",
        ],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    driver = psutil.Process(process.pid)
    deadline = time.monotonic() + 30
    descendants = []
    while time.monotonic() < deadline and len(descendants) < 3:  # fork server + 2 workers
        time.sleep(0.2)
        descendants = driver.children(recursive=True)
    assert len(descendants) >= 3
    process.send_signal(signal.SIGKILL)
    process.wait()
    gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, [p.cmdline() for p in alive]


UNGUARDED_SCRIPT = """
import automl
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import make_scorer

def balanced(y_true, y_pred):  # defined in the script: it must reach the workers
    from sklearn.metrics import balanced_accuracy_score
    return balanced_accuracy_score(y_true, y_pred)

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
print("script body ran", flush=True)
model = automl.fit(X, y, n_trials=4, time_budget=None, cv=3, n_jobs=2, random_state=0,
                   algorithms=["gaussian_nb", "logistic_regression"],
                   metric=make_scorer(balanced))
print("states", sorted(set(model.leaderboard_["state"])), model.best_score_ > 0.8)
"""


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_script_without_a_main_guard_runs_once_and_its_scorer_reaches_the_workers(
    tmp_path, source
):
    """Workers never run the user's script again (no guard needed, stdin works)."""
    import subprocess
    import sys

    script = tmp_path / "search.py"
    script.write_text(UNGUARDED_SCRIPT)
    command = [sys.executable, str(script)] if source == "file" else [sys.executable, "-"]
    result = subprocess.run(
        command,
        input=None if source == "file" else UNGUARDED_SCRIPT,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("script body ran") == 1
    assert "states ['complete'] True" in result.stdout, result.stdout + result.stderr


def test_a_learner_that_hit_its_time_limit_is_never_run_unlimited_in_the_driver(tmp_path):
    # Every trial times out: the driver's fallback must not run the hanging learner without
    # a limit (it used to, and sleep for an hour); the search ends with every trial failed.
    sleeper = fault_spaces(tmp_path)[0]
    script = textwrap.dedent(f"""\
        import sys
        from sklearn.datasets import load_breast_cancer
        from automl import AutoMLClassifier
        from automl.exceptions import AllTrialsFailedError
        if __name__ == "__main__":
            X, y = load_breast_cancer(return_X_y=True)
            try:
                AutoMLClassifier(n_trials=3, time_budget=None, trial_time_limit=0.5, cv=2,
                                 spaces=[{str(sleeper)!r}], algorithms=["sleeper"]).fit(X, y)
            except AllTrialsFailedError as exc:
                print("all failed:", exc)
                sys.exit(0)
            sys.exit(1)
        """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    ran = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "all failed: Every trial of the search failed; the first: timeout" in ran.stdout
