"""Persistent, resumable searches in a normal Optuna storage (e.g. ``sqlite:///run.db``).

Every finished trial is written when it finishes. A study records a fingerprint of the
data and of the settings that change what a trial means; resuming against anything else is
refused, with the differing items named. The candidate algorithms are stored with the study
and reused on resume, so a registry that has gained an algorithm since does not change the
``algorithm`` choices of an existing study (Optuna refuses a categorical whose choices
change). Optuna's own tools (optuna-dashboard) can open the storage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from automl.exceptions import InvalidParameterError

logger = logging.getLogger("automl.storage")

FINGERPRINT_KEY = "automl_fingerprint"
CANDIDATES_KEY = "automl_candidates"
ELAPSED_KEY = "automl_elapsed_seconds"


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
) -> tuple[optuna.Study, list[str]]:
    """Create the study, or reopen it to resume; returns it and the candidates to search."""
    storage = optuna.storages.get_storage(store.url)
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
        return study, list(candidates)
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
    _fail_interrupted_trials(storage, store.study_name, existing)
    stored = list(existing.user_attrs.get(CANDIDATES_KEY, candidates))
    finished = sum(t.state.is_finished() for t in existing.trials)
    logger.info("Resuming %s: %d finished trials kept.", store.url, finished)
    return existing, stored


def _fail_interrupted_trials(storage: optuna.storages.BaseStorage, name: str,
                             study: optuna.Study) -> None:
    """Trials left running by a killed process never finished: mark them failed."""
    study_id = storage.get_study_id_from_name(name)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "error",
                                    "interrupted: the process stopped during this trial")
        storage.set_trial_state_values(trial_id, TrialState.FAIL)


def previous_elapsed(study: optuna.Study) -> float:
    """Seconds the study's earlier runs spent, so a resumed budget counts what is left."""
    return float(study.user_attrs.get(ELAPSED_KEY, 0.0))


def record_elapsed(study: optuna.Study, seconds: float) -> None:
    study.set_user_attr(ELAPSED_KEY, float(seconds))
