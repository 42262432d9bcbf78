"""Stored searches on SQLite and on a real PostgreSQL server: resume, one driver per study."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import optuna
import pytest
from sklearn.datasets import load_breast_cancer

from automl import AutoMLClassifier
from automl.exceptions import MissingDependencyError, StudyInUseError
from automl.storage import DriverClaim

CHEAP = ["gaussian_nb", "logistic_regression"]
ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


def finished_trials(url, name):
    study = optuna.load_study(study_name=name, storage=url)
    return {t.number: (t.params, t.value, t.state) for t in study.trials if t.state.is_finished()}


def test_fit_then_resume_keeps_every_finished_trial(storage_url, study_name, breast_cancer):
    X, y = breast_cancer
    settings = dict(
        time_budget=None,
        cv=3,
        algorithms=CHEAP,
        random_state=0,
        storage=storage_url,
        study_name=study_name,
    )
    AutoMLClassifier(n_trials=4, **settings).fit(X, y)
    before = finished_trials(storage_url, study_name)
    assert len(before) == 4
    model = AutoMLClassifier(n_trials=7, resume=True, **settings).fit(X, y)
    after = finished_trials(storage_url, study_name)
    assert len(after) == 7
    assert {n: after[n] for n in before} == before
    assert model.best_score_ == pytest.approx(
        optuna.load_study(study_name=study_name, storage=storage_url).best_value
    )


def test_searches_under_other_study_names_share_a_storage(storage_url, study_name, breast_cancer):
    X, y = breast_cancer
    settings = dict(time_budget=None, cv=3, algorithms=CHEAP, random_state=0, storage=storage_url)
    AutoMLClassifier(n_trials=2, study_name=study_name, **settings).fit(X, y)
    AutoMLClassifier(n_trials=3, study_name=study_name + "-b", **settings).fit(X, y)
    assert len(finished_trials(storage_url, study_name)) == 2
    assert len(finished_trials(storage_url, study_name + "-b")) == 3


HOLD_A_CLAIM = textwrap.dedent("""
    import sys, time, optuna
    from automl.storage import DriverClaim
    DriverClaim(optuna.storages.RDBStorage(sys.argv[1]), sys.argv[2]).acquire(sys.argv[1])
    print("claimed", flush=True)
    time.sleep(120)
""")


def test_a_claim_is_refused_while_its_driver_lives_and_taken_over_once_it_is_killed(
    storage_url, study_name
):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_CLAIM, storage_url, study_name],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert holder.stdout.readline().strip() == "claimed"
        storage = optuna.storages.RDBStorage(storage_url)
        with pytest.raises(StudyInUseError, match=f"pid {holder.pid} "):
            DriverClaim(storage, study_name).acquire(storage_url)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    claim = DriverClaim(storage, study_name)
    claim.acquire(storage_url)  # the holder's pid is gone: its claim is taken over
    assert claim.took_over
    claim.release()
    fresh = DriverClaim(storage, study_name)
    fresh.acquire(storage_url)  # released: a plain claim again
    assert not fresh.took_over
    fresh.release()


def test_two_drivers_started_at_once_one_runs_and_the_other_is_refused(
    storage_url, study_name, tmp_path
):
    frame = load_breast_cancer(as_frame=True).frame.sample(240, random_state=0)
    data = tmp_path / "cancer.csv"
    frame.to_csv(data, index=False)
    drivers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "automl",
                "fit",
                str(data),
                "--target",
                "target",
                "--out",
                str(tmp_path / f"run{i}"),
                "--storage",
                storage_url,
                "--study",
                study_name,
                "--resume",
                "--trials",
                "30",
                "--cv",
                "3",
                "--algorithms",
                ",".join(CHEAP),
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for i in range(2)
    ]
    errors = [d.communicate(timeout=180)[1] for d in drivers]
    codes = [d.returncode for d in drivers]
    assert sorted(codes) == [0, 2], errors
    refused = errors[codes.index(2)]
    winner = drivers[codes.index(0)]
    assert f"pid {winner.pid} " in refused and "being run by another process" in refused
    assert len(finished_trials(storage_url, study_name)) == 30


def test_a_postgres_url_without_a_driver_names_the_extra_to_install(monkeypatch, breast_cancer):
    for module in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    X, y = breast_cancer
    model = AutoMLClassifier(
        n_trials=2, time_budget=None, storage="postgresql+psycopg://automl@localhost/none"
    )
    with pytest.raises(MissingDependencyError, match=r"pip install 'automl\[postgres\]'"):
        model.fit(X, y)
