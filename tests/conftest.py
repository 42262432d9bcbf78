"""Data factories and shared fixtures. Tests use data shipped with scikit-learn or made here."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import time
import uuid

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine


def pytest_configure(config):
    """Several tests press Ctrl-C (SIGINT) in this process or in an `automl fit` they start.
    A shell that starts a background job without job control makes it ignore SIGINT, and
    the ignoring is inherited; take Ctrl-C back, as an interactive terminal has it (child
    processes then start with the default action)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def seed() -> int:
    return 0


def sample_rows(X: pd.DataFrame, y: pd.Series, n: int, seed: int = 0):
    """A reproducible, class-balanced-enough subsample keeping tests fast."""
    rows = np.random.default_rng(seed).permutation(len(X))[:n]
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request, tmp_path) -> str:
    """An empty place for a study: a SQLite file, or a real PostgreSQL server.

    The server is the one tests/run.sh starts (AUTOML_TEST_POSTGRES_URL); a test gets its
    own study name there (``study_name`` fixture), so tests never see each other's studies.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'search.db'}"
    url = os.environ.get("AUTOML_TEST_POSTGRES_URL")
    if not url:
        reason = (
            "no PostgreSQL server to test against: bash tests/run.sh starts one and "
            "names it in AUTOML_TEST_POSTGRES_URL"
        )
        if os.environ.get("AUTOML_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def study_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return sample_rows(X, y, 300)


@pytest.fixture
def wine():
    return load_wine(return_X_y=True, as_frame=True)


@pytest.fixture
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return sample_rows(X, y, 300)


def make_mixed_frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Numeric and string columns with missing values; the label depends on both kinds."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", "violet"], size=n)
    size = rng.normal(size=n)
    weight = rng.normal(size=n)
    logit = 2.0 * size + np.where(colour == "red", 2.0, -1.0) + 0.3 * rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "size": size,
            "weight": weight,
            "colour": pd.Series(colour, dtype=object),
            "member": rng.choice([True, False], size=n),
            "city": pd.Series(rng.choice(["a", "b", "c"], size=n), dtype="category"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "size"] = np.nan
    frame.loc[rng.random(n) < 0.1, "colour"] = None
    y = pd.Series(np.where(logit > 0, "yes", "no"), name="label")
    return frame, y


@pytest.fixture
def mixed():
    return make_mixed_frame()


class PriorClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the class prior of its training labels (the base of the test learners)."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class RowRecorder(PriorClassifier):
    """A classifier that logs the row ids (column 0) of every fit to the file ``log``.

    For leakage tests: fits run in worker processes, so the record goes through a file,
    one line per fit, in the order the fits happened. Lives here so a space file can
    name it as ``conftest:RowRecorder``.
    """

    def __init__(self, log: str = ""):
        self.log = log

    def fit(self, X, y):
        rows = sorted(np.asarray(X)[:, 0].astype(int).tolist())
        with open(self.log, "a") as handle:
            handle.write(json.dumps(rows) + "\n")
        return super().fit(X, y)

    @staticmethod
    def read(log) -> list[frozenset]:
        return [frozenset(json.loads(line)) for line in open(log).read().splitlines()]


class InterruptOnFit(ClassifierMixin, BaseEstimator):
    """Raises KeyboardInterrupt on fit, as if the user pressed Ctrl-C during that trial."""

    def fit(self, X, y):
        raise KeyboardInterrupt


class SleepsForever(ClassifierMixin, BaseEstimator):
    """Hangs in fit, like a learner stuck in a loop (fault injection)."""

    def fit(self, X, y):
        time.sleep(3600)
        return self


class EatsMemory(ClassifierMixin, BaseEstimator):
    """Allocates (and touches) memory in fit until it is killed (fault injection)."""

    def fit(self, X, y):
        chunks = []
        while True:
            chunks.append(np.ones(2**23))  # 64 MB, written, so resident
            time.sleep(0.01)  # fast enough to pass the test's limit well before its timeout


class Segfaults(ClassifierMixin, BaseEstimator):
    """Dies of a segmentation fault in fit, like a broken native library (fault injection)."""

    def fit(self, X, y):
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return self


class Raises(ClassifierMixin, BaseEstimator):
    """Raises in fit (fault injection)."""

    def fit(self, X, y):
        raise RuntimeError("this learner always fails")


class Slow(PriorClassifier):
    """Takes ``seconds`` to fit, then predicts the class prior: a trial that is surely
    running when a test acts on it (e.g. kills its worker)."""

    def __init__(self, seconds: float = 1.0):
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        return super().fit(X, y)
