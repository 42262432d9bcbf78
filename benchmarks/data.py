"""Data sets and outer splits, shared by the runner, the workers and the peer scripts.

Only pandas, numpy and scikit-learn: the peer scripts import this module from their own
virtual environments, where automl is not installed.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    target: str
    task: str


def load_manifest(directory: str | Path, names: list[str] | None = None) -> list[Dataset]:
    """The data sets of ``directory/manifest.json`` (name, file, target, task), in file order."""
    directory = Path(directory)
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(
            f"{manifest} not found: --datasets must name a folder with a "
            "manifest.json (a list of {name, file, target, task})."
        )
    entries = json.loads(manifest.read_text())
    out = []
    for i, e in enumerate(entries):
        missing = [k for k in ("name", "file", "target", "task") if k not in e]
        if missing or e["task"] not in TASKS:
            raise SystemExit(
                f"{manifest}: entry {i} needs name, file, target and a task in {TASKS}; got {e!r}."
            )
        out.append(Dataset(e["name"], directory / e["file"], e["target"], e["task"]))
    if names:
        unknown = set(names) - {d.name for d in out}
        if unknown:
            raise SystemExit(
                f"Unknown data sets {sorted(unknown)}; the manifest has {[d.name for d in out]}."
            )
        out = [d for d in out if d.name in names]
    return out


def read_table(path: str | Path, target: str, task: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and target; class labels become strings so every system sees the same labels."""
    frame = pd.read_csv(path)
    y = frame.pop(target)
    if task == "regression":
        return frame, y.to_numpy(dtype=float)
    return frame, y.astype(str).to_numpy(dtype=object)


def outer_splits(
    y: np.ndarray, task: str, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A stratified 75/25 holdout (folds=1) or k outer folds; stratified for classification."""
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    rows = np.arange(len(y))
    stratify = y if task != "regression" else None
    if folds == 1:
        train, test = train_test_split(rows, test_size=0.25, random_state=seed, stratify=stratify)
        return [(np.sort(train), np.sort(test))]
    splitter = (
        KFold(folds, shuffle=True, random_state=seed)
        if task == "regression"
        else StratifiedKFold(folds, shuffle=True, random_state=seed)
    )
    return list(splitter.split(rows, stratify if stratify is not None else rows))


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """Non-numeric, non-boolean columns (strings, objects, categories)."""
    return [
        c
        for c in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]


def as_category(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Categorical columns as pandas ``category`` with the training categories; booleans as 0/1.

    LightGBM reads the category dtype natively; test values unseen in training become missing.
    """
    train, test = train.copy(), test.copy()
    for c in categorical_columns(train):
        levels = sorted(train[c].dropna().astype(str).unique())
        train[c] = pd.Categorical(train[c].astype("string"), categories=levels)
        test[c] = pd.Categorical(test[c].astype("string"), categories=levels)
    for c in train.columns:
        if pd.api.types.is_bool_dtype(train[c]):
            train[c] = train[c].astype(float)
            test[c] = test[c].astype(float)
    return train, test


def run_spec_file(run: Callable[[dict], dict], spec_path: str, out_path: str) -> int:
    """Run one (data set, split, system) described in SPEC and write its result to OUT.

    What every worker script's ``main`` does (ours, and the peers' in their own
    environments): a failure is written as a result, not raised, and OUT appears whole
    (written aside, then renamed) so the runner never reads half a file.
    """
    spec = json.loads(Path(spec_path).read_text())
    try:
        result = run(spec)
    except Exception as exc:  # recorded by the runner; the benchmark goes on
        result = {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "traceback": traceback.format_exc(limit=8),
        }
    with open(out_path + ".tmp", "w") as f:
        json.dump(result, f)
    os.replace(out_path + ".tmp", out_path)
    return 0
