"""Persistent, resumable searches in a normal Optuna storage (e.g. ``sqlite:///run.db``).

Every finished trial is written when it finishes. A study records a fingerprint of the
data and of the settings that change what a trial means; resuming against anything else is
refused, with the differing items named. The candidate algorithms are stored with the study
and reused on resume, so a registry that has gained an algorithm since does not change the
``algorithm`` choices of an existing study (Optuna refuses a categorical whose choices
change). Optuna's own tools (optuna-dashboard) can open the storage.

One driver per study. Every finished trial is written by the driver, never by a worker.
While a search runs, its driver holds a *claim* on the study (host, pid and a heartbeat
every few seconds, in a study attribute) and records Optuna's trial heartbeats for the
trials it runs. A second process that opens the study while the claim is alive is
refused with :class:`StudyInUseError` naming the first. A claim whose process is gone
(same host: the pid no longer exists; another host: no heartbeat for ``GRACE_PERIOD``)
is taken over: the trials that process left running are failed with the reason
``interrupted`` (Optuna's ``fail_stale_trials`` for trials whose heartbeat lapsed) and
run again first. Trials of a live driver are never touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
import psutil
from optuna.trial import TrialState

from automl.exceptions import InvalidParameterError, StudyInUseError

logger = logging.getLogger("automl.storage")

FINGERPRINT_KEY = "automl_fingerprint"
CANDIDATES_KEY = "automl_candidates"
ELAPSED_KEY = "automl_elapsed_seconds"
CLAIM_KEY = "automl_driver"
# The driver's claim and its trials' heartbeats are renewed this often (seconds); a claim
# from another host is taken as abandoned after GRACE_PERIOD without a heartbeat.
HEARTBEAT_INTERVAL = 5
GRACE_PERIOD = 30


@dataclass(frozen=True)
class StudyStore:
    """Where a search persists: an Optuna storage URL, a study name, and whether to resume."""

    url: str
    study_name: str = "automl"
    resume: bool = False


def data_fingerprint(frame: pd.DataFrame, y: np.ndarray) -> str:
    """A hash of the rows, columns and target: any change in the data changes it."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(pd.Series(y), index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def open_study(
    store: StudyStore,
    fingerprint: dict[str, Any],
    candidates: list[str],
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, list[str], optuna.storages.RDBStorage]:
    """Create the study, or reopen it to resume: the study, the candidates, the storage.

    The study's storage is an ``RDBStorage``; the driver records the heartbeats of its
    trials itself (see :class:`DriverClaim`).

    On resume, the trials a stopped driver left running are failed (reason
    ``interrupted``) and enqueued again, so they run first.
    """
    storage = optuna.storages.RDBStorage(store.url)
    try:
        existing = optuna.load_study(study_name=store.study_name, storage=storage,
                                     sampler=sampler, pruner=pruner)
    except KeyError:
        existing = None
    if existing is None:
        if store.resume:
            logger.info("Nothing to resume in %s: starting a new search.", store.url)
        study = optuna.create_study(study_name=store.study_name, storage=storage,
                                    direction=direction, sampler=sampler, pruner=pruner)
        study.set_user_attr(FINGERPRINT_KEY, fingerprint)
        study.set_user_attr(CANDIDATES_KEY, list(candidates))
        study.set_user_attr(ELAPSED_KEY, 0.0)
        return study, list(candidates), storage
    _refuse_if_claimed(store, existing)
    if not store.resume:
        raise InvalidParameterError(
            f"{store.url} already holds a search (study {store.study_name!r}, "
            f"{len(existing.trials)} trials). Resume it with resume=True (CLI: --resume), or "
            "use another storage or output folder."
        )
    saved = existing.user_attrs.get(FINGERPRINT_KEY, {})
    differ = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
    if differ:
        details = "; ".join(f"{k}: was {saved.get(k)!r}, now {fingerprint.get(k)!r}" for k in differ)
        raise InvalidParameterError(
            f"Cannot resume the search in {store.url}: it was started with other data or "
            f"settings ({details}). Use the same data and settings, or a new storage."
        )
    rerun = _fail_interrupted_trials(existing, storage)
    for params in rerun:
        existing.enqueue_trial(params, skip_if_exists=False)
    stored = list(existing.user_attrs.get(CANDIDATES_KEY, candidates))
    finished = sum(t.state.is_finished() for t in existing.trials)
    logger.info("Resuming %s: %d finished trials kept, %d interrupted trials to run again.",
                store.url, finished, len(rerun))
    return existing, stored, storage


def _refuse_if_claimed(store: StudyStore, study: optuna.Study) -> None:
    claim = study.user_attrs.get(CLAIM_KEY)
    if _claim_alive(claim):
        age = time.time() - claim["heartbeat"]
        raise StudyInUseError(
            f"The search in {store.url} (study {store.study_name!r}) is being run by another "
            f"process: pid {claim['pid']} on host {claim['host']!r}, last heartbeat "
            f"{age:.0f}s ago. Wait for it to end (or stop it), then resume; or use another "
            "storage or output folder."
        )


def _claim_alive(claim: dict[str, Any] | None) -> bool:
    if not claim:
        return False
    if time.time() - claim.get("heartbeat", 0) > GRACE_PERIOD:
        return False
    if claim.get("host") == socket.gethostname():
        # On this host we can ask the OS: a killed driver is known gone at once.
        return claim.get("pid") != os.getpid() and psutil.pid_exists(claim.get("pid", -1))
    return True


def _fail_interrupted_trials(study: optuna.Study, storage: optuna.storages.RDBStorage
                             ) -> list[dict[str, Any]]:
    """Fail the trials whose driver is gone; return their parameters, to run them again.

    Called only once the claim is known dead: trials whose Optuna heartbeat lapsed go
    through ``fail_stale_trials``; the rest still RUNNING (a driver killed less than a
    grace period ago, or one that never recorded a heartbeat) belonged to that same dead
    driver, the only one that could have been running them.
    """
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    with warnings.catch_warnings():
        # Optuna marks its heartbeat experimental, and meant for Study.optimize; the driver
        # records the heartbeats itself, so a storage with the heartbeat on is made only here.
        warnings.simplefilter("ignore")
        beating = optuna.storages.RDBStorage(storage.url, heartbeat_interval=HEARTBEAT_INTERVAL,
                                             grace_period=GRACE_PERIOD)
        optuna.storages.fail_stale_trials(optuna.load_study(study_name=study.study_name,
                                                            storage=beating))
    study_id = storage.get_study_id_from_name(study.study_name)
    rerun = []
    for trial in running:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "reason", "interrupted")
        storage.set_trial_user_attr(trial_id, "error", "interrupted: the process running "
                                    "this trial stopped; it was run again on resume")
        if storage.get_trial(trial_id).state == TrialState.RUNNING:
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        if "algorithm" in trial.params:
            rerun.append(dict(trial.params))
    return rerun


class DriverClaim:
    """The running driver's claim on its study, renewed by a heartbeat thread.

    ``running_trials`` returns the numbers of the trials running now; their Optuna
    heartbeats are recorded with the claim, so Optuna's own tools see them alive.
    """

    def __init__(self, study: optuna.Study, storage: optuna.storages.RDBStorage,
                 running_trials: Callable[[], list[int]]) -> None:
        self.study = study
        self.storage = storage
        self.study_id = storage.get_study_id_from_name(study.study_name)
        self.running_trials = running_trials
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.time()

    def __enter__(self) -> DriverClaim:
        self._beat()
        self._thread = threading.Thread(target=self._loop, name="automl-claim", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.study.set_user_attr(CLAIM_KEY, None)
        except Exception:  # the storage may be gone; a stale claim lapses by itself
            logger.debug("Could not release the claim on the study", exc_info=True)

    def record_trial(self, number: int) -> None:
        """A heartbeat for a trial just asked, so a trial is never RUNNING without one."""
        self.storage.record_heartbeat(
            self.storage.get_trial_id_from_study_id_trial_number(self.study_id, number))

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            try:
                self._beat()
            except Exception:  # a missed beat is retried; the search must go on
                logger.debug("Heartbeat failed", exc_info=True)

    def _beat(self) -> None:
        self.study.set_user_attr(CLAIM_KEY, {
            "host": socket.gethostname(), "pid": os.getpid(), "heartbeat": time.time(),
            "started": self._started})
        for number in self.running_trials():
            self.record_trial(number)


def previous_elapsed(study: optuna.Study) -> float:
    """Seconds the study's earlier runs spent, so a resumed budget counts what is left."""
    return float(study.user_attrs.get(ELAPSED_KEY, 0.0))


def record_elapsed(study: optuna.Study, seconds: float) -> None:
    study.set_user_attr(ELAPSED_KEY, float(seconds))
