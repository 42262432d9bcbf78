"""Trials on a Dask cluster: real LocalCluster worker processes, and a real `dask scheduler`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest
from distributed import Client, LocalCluster

import automl
from automl import AutoMLClassifier
from automl.exceptions import ClusterError, InvalidParameterError, MissingDependencyError

CHEAP = ["gaussian_nb", "logistic_regression", "knn"]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, as `dask worker --nthreads 1` would give."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def _workers(address: str) -> dict[str, int]:
    """Each worker's address and process id."""
    with Client(address, set_as_default=False) as client:
        return client.run(os.getpid)


def slow_space(folder, seconds: float):
    path = folder / "slow.toml"
    # a parameter, so that every trial is a new configuration
    path.write_text(
        'schema_version = 1\nestimator.classification = "conftest:Slow"\n'
        f'cost = 0.01\n[params.seconds]\ntype = "float"\n'
        f"low = {seconds}\nhigh = {seconds * 1.5}\ndefault = {seconds}\n"
        'why = "a test: how long each fit sleeps"\n'
    )
    return path


def test_trials_run_on_every_worker_and_the_leaderboard_says_where(cluster, breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(
        n_trials=10,
        time_budget=None,
        cv=3,
        algorithms=CHEAP,
        scheduler=cluster.scheduler_address,
        random_state=0,
    ).fit(X, y)
    board = model.leaderboard_
    assert set(board["worker"]) == set(_workers(cluster.scheduler_address))
    assert {t.user_attrs["worker"] for t in model.study_.trials} == set(board["worker"])
    assert (board["state"] == "complete").sum() >= 5
    assert model.fitted_on_ == "all rows"
    assert model.scorer_(model, X, y) > model.dummy_score_


def test_a_seeded_run_gives_the_same_trials_as_local_processes_with_as_many_slots(
    cluster, breast_cancer
):
    X, y = breast_cancer
    kwargs = dict(
        n_trials=10,
        time_budget=None,
        cv=3,
        random_state=5,
        algorithms=["gaussian_nb", "logistic_regression", "knn", "extra_trees"],
    )
    on_cluster = AutoMLClassifier(scheduler=cluster.scheduler_address, **kwargs).fit(X, y)
    local = AutoMLClassifier(n_jobs=2, **kwargs).fit(X, y)
    assert [t.params for t in on_cluster.study_.trials] == [t.params for t in local.study_.trials]
    assert [t.value for t in on_cluster.study_.trials] == [t.value for t in local.study_.trials]
    assert on_cluster.best_params_ == local.best_params_


def test_hanging_and_memory_hungry_trials_are_cut_on_the_workers(cluster, tmp_path, breast_cancer):
    X, y = breast_cancer
    spaces = []
    for name, cls in (("sleeper", "SleepsForever"), ("hog", "EatsMemory")):
        spaces.append(tmp_path / f"{name}.toml")
        spaces[-1].write_text(
            f'schema_version = 1\nestimator.classification = "conftest:{cls}"\ncost = 0.01\n'
        )
    started = time.monotonic()
    with pytest.warns(automl.TrialFailedWarning):
        model = AutoMLClassifier(
            n_trials=8,
            time_budget=None,
            trial_time_limit=3,
            memory_limit=450,
            cv=3,
            spaces=spaces,
            algorithms=["sleeper", "hog", "logistic_regression"],
            configurations=[{"algorithm": "sleeper"}, {"algorithm": "hog"}],
            scheduler=cluster.scheduler_address,
            random_state=0,
        ).fit(X, y)
    board = model.leaderboard_
    for name, reason, message in (
        ("sleeper", "timeout", "time limit of 3 s"),
        ("hog", "memory", "over the memory limit of 450 MB"),
    ):
        rows = board[board["algorithm"] == name]
        assert len(rows) >= 1 and (rows["reason"] == reason).all(), rows
        assert message in rows["error"].iloc[0]
    assert model.best_algorithm_ == "logistic_regression"
    # the slots came back: all 8 trials ran, most of them after the two faults
    assert len(board) == 8 and (board["state"] == "complete").sum() >= 4
    assert time.monotonic() - started < 60


def test_a_worker_killed_mid_trial_is_worker_lost_and_the_search_goes_on(tmp_path, breast_cancer):
    X, y = breast_cancer
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        pids = _workers(local.scheduler_address)
        killed = []

        def kill_a_busy_worker(progress):
            if progress.running == 2 and not killed:
                address, pid = sorted(pids.items())[0]
                os.kill(pid, 9)
                killed.append(address)

        model = AutoMLClassifier(
            n_trials=6,
            time_budget=None,
            cv=3,
            spaces=[slow_space(tmp_path, 0.5)],
            algorithms=["slow"],
            scheduler=local.scheduler_address,
            random_state=0,
            callbacks=[kill_a_busy_worker],
        ).fit(X, y)
    board = model.leaderboard_
    assert killed
    lost = board[board["reason"] == "worker lost"]
    assert len(lost) == 1, board[["trial", "state", "reason", "worker", "error"]]
    assert lost["worker"].iloc[0] == killed[0]
    assert f"the Dask worker {killed[0]} left the cluster" in lost["error"].iloc[0]
    assert len(board) == 6 and (board["state"] == "complete").sum() == 5


@pytest.fixture
def scheduler_and_worker(tmp_path):
    """A scheduler and a worker started with the `dask` command, as README shows."""
    info = tmp_path / "scheduler.json"
    commands = {
        "scheduler": [
            sys.executable,
            "-m",
            "dask",
            "scheduler",
            "--port",
            "0",
            "--dashboard-address",
            ":0",
            "--scheduler-file",
            str(info),
        ],
        "worker": [
            sys.executable,
            "-m",
            "dask",
            "worker",
            "--scheduler-file",
            str(info),
            "--nworkers",
            "1",
            "--nthreads",
            "2",
        ],
    }
    # the worker imports what the tests import (this checkout's automl, and conftest)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    started = {"scheduler": subprocess.Popen(commands["scheduler"], stderr=subprocess.DEVNULL)}
    try:
        for _ in range(300):
            if info.exists() and info.read_text().strip():
                break
            time.sleep(0.1)
        started["worker"] = subprocess.Popen(commands["worker"], stderr=subprocess.DEVNULL, env=env)
        yield json.loads(info.read_text())["address"], started
    finally:
        for process in started.values():
            process.kill()
            process.wait()


def test_a_scheduler_that_goes_away_ends_the_search_with_the_best_model_so_far(
    scheduler_and_worker, tmp_path, breast_cancer
):
    X, y = breast_cancer
    address, processes = scheduler_and_worker

    def kill_the_scheduler(progress):
        if progress.complete >= 3 and processes["scheduler"].poll() is None:
            processes["scheduler"].kill()

    started = time.monotonic()
    model = AutoMLClassifier(
        time_budget=40,
        cv=3,
        spaces=[slow_space(tmp_path, 0.2)],
        algorithms=["slow", "logistic_regression"],
        scheduler=address,
        random_state=0,
        callbacks=[kill_the_scheduler],
    ).fit(X, y)
    assert time.monotonic() - started < 40 * 1.05 + 1
    board = model.leaderboard_
    assert (board["state"] == "complete").sum() >= 3
    assert "worker lost" in set(board["reason"])
    lost = board.loc[board["reason"] == "worker lost", "error"]
    assert lost.str.contains(f"the connection to the Dask scheduler at {address} was lost").all()
    # no refit on all rows without a cluster: the best trial's fold model is kept
    assert model.fitted_on_.startswith("the best trial's last training fold")
    assert model.predict(X).shape == (len(X),)


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch, breast_cancer):
    from automl.execution import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 1.0)
    X, y = breast_cancer
    with pytest.raises(
        ClusterError,
        match=r"Could not reach the Dask scheduler at "
        r"'tcp://127.0.0.1:9'.*dask scheduler",
    ):
        AutoMLClassifier(n_trials=2, time_budget=None, scheduler="tcp://127.0.0.1:9").fit(X, y)


def test_the_cli_runs_on_a_scheduler(cluster, tmp_path, breast_cancer):
    from automl.cli import main

    X, y = breast_cancer
    data = tmp_path / "data.csv"
    X.assign(target=y).to_csv(data, index=False)
    code = main(
        [
            "fit",
            str(data),
            "--target",
            "target",
            "--trials",
            "4",
            "--time-budget",
            "60",
            "--algorithms",
            "gaussian_nb,logistic_regression",
            "--cv",
            "3",
            "--scheduler",
            cluster.scheduler_address,
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ]
    )
    assert code == 0
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    assert set(board["worker"]) <= set(_workers(cluster.scheduler_address))


def test_scheduler_takes_an_address_string_only(cluster, breast_cancer):
    X, y = breast_cancer
    with (
        Client(cluster.scheduler_address, set_as_default=False) as client,
        pytest.raises(InvalidParameterError, match="client.scheduler.address"),
    ):
        AutoMLClassifier(n_trials=2, time_budget=None, scheduler=client).fit(X, y)
    with pytest.raises(InvalidParameterError, match="executor='inprocess'"):
        AutoMLClassifier(
            n_trials=2, time_budget=None, executor="inprocess", scheduler=cluster.scheduler_address
        ).fit(X, y)


def test_without_dask_the_error_says_what_to_install(monkeypatch, breast_cancer):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    X, y = breast_cancer
    with pytest.raises(MissingDependencyError, match=r"pip install 'automl\[dask\]'"):
        AutoMLClassifier(n_trials=2, time_budget=None, scheduler="tcp://127.0.0.1:8786").fit(X, y)


def test_workers_on_another_version_of_automl_are_refused(cluster, monkeypatch, breast_cancer):
    import automl.version

    monkeypatch.setattr(automl.version, "__version__", "0.0.0-driver")
    X, y = breast_cancer
    with pytest.raises(ClusterError, match="another version of automl"):
        AutoMLClassifier(n_trials=2, time_budget=None, scheduler=cluster.scheduler_address).fit(
            X, y
        )
