"""Persistent, resumable searches in a normal Optuna storage (e.g. ``sqlite:///run.db``).

Every finished trial is written when it finishes. A study records a fingerprint of the
data and of the settings that change what a trial means; resuming against anything else is
refused, with the differing items named. The candidate algorithms are stored with the study
and reused on resume, so a registry that has gained an algorithm since does not change the
``algorithm`` choices of an existing study (Optuna refuses a categorical whose choices
change). Optuna's own tools (optuna-dashboard) can open the storage.

One driver per study. Every finished trial is written by the driver, never by a worker.
From opening the study to the end of its search, a driver holds a *claim* on it: a row
(host, pid, heartbeat every few seconds) in a table of its own, ``automl_driver_claims``,
next to Optuna's tables in the same database. Taking a claim is one atomic statement (an
insert on the study name's primary key, or an update conditioned on the row's generation
to take over a dead one), so of two drivers that open a study at the same instant exactly
one gets it; the other is refused with :class:`StudyInUseError` naming the first. A claim
whose process is gone (same host: the pid no longer exists; another host: no heartbeat for
``GRACE_PERIOD``) is taken over: the trials that process left running are failed with the
reason ``interrupted`` (Optuna's ``fail_stale_trials`` for trials whose heartbeat lapsed)
and run again first. The driver also records Optuna's heartbeats for the trials it runs,
so Optuna's own tools see them alive. Trials of a live driver are never touched.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd
import psutil
import sqlalchemy as sa
from optuna.trial import TrialState

from automl.exceptions import InvalidParameterError, MissingDependencyError, StudyInUseError

logger = logging.getLogger("automl.storage")

FINGERPRINT_KEY = "automl_fingerprint"
CANDIDATES_KEY = "automl_candidates"
ELAPSED_KEY = "automl_elapsed_seconds"
CLAIMS_TABLE = "automl_driver_claims"
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


def data_fingerprint(
    frame: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None
) -> str:
    """A hash of the rows, columns, target and weights: any change in the data changes it."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(pd.Series(y), index=False).to_numpy().tobytes())
    if sample_weight is not None:  # unweighted searches keep the fingerprint they had
        digest.update(np.asarray(sample_weight, dtype=float).tobytes())
    return digest.hexdigest()[:16]


def open_study(
    store: StudyStore,
    fingerprint: dict[str, Any],
    candidates: list[str],
    directions: Sequence[Literal["maximize", "minimize"]],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> tuple[optuna.Study, list[str], DriverClaim]:
    """Claim the study, then create it or reopen it to resume: study, candidates, claim.

    The claim (see :class:`DriverClaim`) is held from here on; the caller starts its
    heartbeat when the search runs and releases it at the end. On resume, the trials a
    stopped driver left running are failed (reason ``interrupted``), and those whose
    configuration had been drawn to the end are enqueued again, so they run first.
    """
    storage = _rdb_storage(store.url)
    claim = DriverClaim(storage, store.study_name)
    claim.acquire(store.url)
    try:
        study, names = _open_claimed(
            store,
            storage,
            fingerprint,
            candidates,
            directions,
            sampler,
            pruner,
            took_over=claim.took_over,
        )
    except BaseException:
        claim.release()
        raise
    return study, names, claim


def _rdb_storage(url: str) -> optuna.storages.RDBStorage:
    if url.startswith(("postgresql", "postgres")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            try:
                import psycopg2  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    f"The storage {url} is a PostgreSQL database, which needs a PostgreSQL "
                    "driver: pip install 'automl[postgres]' (psycopg), and write the URL as "
                    "postgresql+psycopg://USER@HOST/DATABASE."
                ) from None
    for pause in (0.2, 0.5):
        try:
            return optuna.storages.RDBStorage(url)
        except sa.exc.SQLAlchemyError:
            # Two drivers opening a new database at once both create Optuna's tables; the
            # loser's statements fail, and on a second look the tables are there.
            time.sleep(pause)
    return optuna.storages.RDBStorage(url)


def _open_claimed(
    store: StudyStore,
    storage: optuna.storages.RDBStorage,
    fingerprint: dict[str, Any],
    candidates: list[str],
    directions: Sequence[Literal["maximize", "minimize"]],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    took_over: bool,
) -> tuple[optuna.Study, list[str]]:
    try:
        existing = optuna.load_study(
            study_name=store.study_name, storage=storage, sampler=sampler, pruner=pruner
        )
    except KeyError:
        existing = None
    if existing is None:
        if store.resume:
            logger.info("Nothing to resume in %s: starting a new search.", store.url)
        study = optuna.create_study(
            study_name=store.study_name,
            storage=storage,
            directions=list(directions),
            sampler=sampler,
            pruner=pruner,
        )
        study.set_user_attr(FINGERPRINT_KEY, fingerprint)
        study.set_user_attr(CANDIDATES_KEY, list(candidates))
        study.set_user_attr(ELAPSED_KEY, 0.0)
        return study, list(candidates)
    if not store.resume:
        raise InvalidParameterError(
            f"{store.url} already holds a search (study {store.study_name!r}, "
            f"{len(existing.trials)} trials). Resume it with resume=True (CLI: --resume), or "
            "use another storage, output folder or study name."
        )
    saved = existing.user_attrs.get(FINGERPRINT_KEY, {})
    differ = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
    if differ:
        details = "; ".join(
            f"{k}: was {saved.get(k)!r}, now {fingerprint.get(k)!r}" for k in differ
        )
        raise InvalidParameterError(
            f"Cannot resume the search in {store.url}: it was started with other data or "
            f"settings ({details}). Use the same data and settings, or a new storage."
        )
    # Holding the claim, every RUNNING trial belongs to a driver that is gone.
    rerun = _fail_interrupted_trials(existing, storage)
    for params in rerun:
        existing.enqueue_trial(params, skip_if_exists=False)
    stored = list(existing.user_attrs.get(CANDIDATES_KEY, candidates))
    finished = sum(t.state.is_finished() for t in existing.trials)
    logger.info(
        "Resuming %s: %d finished trials kept, %d interrupted trials to run again.",
        store.url,
        finished,
        len(rerun),
    )
    return existing, stored


def _claim_alive(row: Any) -> bool:
    if time.time() - row.heartbeat > GRACE_PERIOD:
        return False
    if row.host == socket.gethostname():
        # On this host we can ask the OS: a killed driver is known gone at once.
        return row.pid != os.getpid() and psutil.pid_exists(row.pid)
    return True


def _fail_interrupted_trials(
    study: optuna.Study, storage: optuna.storages.RDBStorage
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
        beating = optuna.storages.RDBStorage(
            storage.url, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD
        )
        optuna.storages.fail_stale_trials(
            optuna.load_study(study_name=study.study_name, storage=beating)
        )
    study_id = storage.get_study_id_from_name(study.study_name)
    rerun = []
    for trial in running:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "reason", "interrupted")
        storage.set_trial_user_attr(
            trial_id,
            "error",
            "interrupted: the process running this trial stopped; it was run again on resume",
        )
        if storage.get_trial(trial_id).state == TrialState.RUNNING:
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        # Only a configuration drawn to the end (the driver records it as "config") is run
        # again; one cut off while its parameters were being drawn is only half a choice.
        if "config" in trial.user_attrs:
            rerun.append(dict(trial.params))
    return rerun


_METADATA = sa.MetaData()
_CLAIMS = sa.Table(
    CLAIMS_TABLE,
    _METADATA,
    sa.Column("study_name", sa.String(512), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("heartbeat", sa.Float, nullable=False),
    sa.Column("started", sa.Float, nullable=False),
    # bumped by every change of owner: a takeover is an update of the generation it read
    sa.Column("generation", sa.Integer, nullable=False),
)


class DriverClaim:
    """One driver's claim on a stored study: a row in ``automl_driver_claims``.

    ``acquire`` takes it atomically or raises :class:`StudyInUseError`; ``start`` renews it
    (and the Optuna heartbeats of the running trials) in a thread; ``release`` drops it.
    """

    def __init__(self, storage: optuna.storages.RDBStorage, study_name: str) -> None:
        self.storage = storage
        self.study_name = study_name
        self.took_over = False
        self._me = {"host": socket.gethostname(), "pid": os.getpid()}
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._study_id: int | None = None
        self._running_trials: Callable[[], list[int]] = list

    def acquire(self, url: str) -> None:
        engine = self.storage.engine
        try:
            _METADATA.create_all(engine, checkfirst=True)
        except sa.exc.SQLAlchemyError:
            # Another driver created the table between the check and the create.
            _METADATA.create_all(engine, checkfirst=True)
        for _ in range(5):  # retried only when another driver changed the row meanwhile
            now = time.time()
            try:
                with engine.begin() as connection:
                    connection.execute(
                        _CLAIMS.insert().values(
                            study_name=self.study_name,
                            heartbeat=now,
                            started=now,
                            generation=0,
                            **self._me,
                        )
                    )
                self._held = True
                return
            except sa.exc.IntegrityError:
                pass  # claimed before: by a live driver, or by one that is gone
            with engine.begin() as connection:
                row = connection.execute(
                    sa.select(_CLAIMS).where(_CLAIMS.c.study_name == self.study_name)
                ).first()
            if row is None:
                continue  # released meanwhile: insert again
            if _claim_alive(row):
                raise StudyInUseError(
                    f"The search in {url} (study {self.study_name!r}) is being run by another "
                    f"process: pid {row.pid} on host {row.host!r}, last heartbeat "
                    f"{now - row.heartbeat:.0f}s ago. Wait for it to end (or stop it), then "
                    "resume; or use another storage, output folder or study name."
                )
            with engine.begin() as connection:
                taken = connection.execute(
                    _CLAIMS.update()
                    .where(
                        _CLAIMS.c.study_name == self.study_name,
                        _CLAIMS.c.generation == row.generation,
                    )
                    .values(heartbeat=now, started=now, generation=row.generation + 1, **self._me)
                ).rowcount
            if taken == 1:
                self.took_over = True
                self._held = True
                return
        raise StudyInUseError(
            f"Could not claim the search in {url} (study "
            f"{self.study_name!r}): other processes keep claiming it."
        )

    def start(self, running_trials: Callable[[], list[int]]) -> None:
        """Renew the claim, and the heartbeats of ``running_trials()``, every few seconds."""
        self._running_trials = running_trials
        self._study_id = self.storage.get_study_id_from_name(self.study_name)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="automl-claim", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self._held:
            return
        self._held = False
        try:
            with self.storage.engine.begin() as connection:
                connection.execute(
                    _CLAIMS.delete().where(
                        _CLAIMS.c.study_name == self.study_name,
                        _CLAIMS.c.host == self._me["host"],
                        _CLAIMS.c.pid == self._me["pid"],
                    )
                )
        except Exception:  # the database may be gone; a stale claim lapses by itself
            logger.debug("Could not release the claim on the study", exc_info=True)

    def record_trial(self, number: int) -> None:
        """A heartbeat for a trial just asked, so a trial is never RUNNING without one."""
        if self._study_id is None:
            self._study_id = self.storage.get_study_id_from_name(self.study_name)
        self.storage.record_heartbeat(
            self.storage.get_trial_id_from_study_id_trial_number(self._study_id, number)
        )

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL):
            try:
                self._beat()
            except Exception:  # a missed beat is retried; the search must go on
                logger.debug("Heartbeat failed", exc_info=True)

    def _beat(self) -> None:
        with self.storage.engine.begin() as connection:
            connection.execute(
                _CLAIMS.update()
                .where(
                    _CLAIMS.c.study_name == self.study_name,
                    _CLAIMS.c.host == self._me["host"],
                    _CLAIMS.c.pid == self._me["pid"],
                )
                .values(heartbeat=time.time())
            )
        for number in self._running_trials():
            self.record_trial(number)


def previous_elapsed(study: optuna.Study) -> float:
    """Seconds the study's earlier runs spent, so a resumed budget counts what is left."""
    return float(study.user_attrs.get(ELAPSED_KEY, 0.0))


def record_elapsed(study: optuna.Study, seconds: float) -> None:
    study.set_user_attr(ELAPSED_KEY, float(seconds))
