"""One system on one split, in a fresh process: ``python -m benchmarks.worker SPEC OUT``.

SPEC (JSON) names the system, the data file, target, task, train and test rows, budget and
seed. OUT (JSON) gets the predictions on the test rows and what the system reports about its
fit; the runner scores the predictions, so every system is scored by the same code. Peers
running from other environments (``peers/*.py``) write the same OUT format.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np

from benchmarks.data import run_spec_file


def prediction_payload(model: Any, X_test, task: str) -> dict[str, Any]:
    """Predictions (regression) or probabilities with their class order, and predict time."""
    t0 = time.perf_counter()
    if task == "regression":
        out = {"pred": np.asarray(model.predict(X_test), dtype=float).tolist()}
    else:
        proba = np.asarray(model.predict_proba(X_test), dtype=float)
        out = {"proba": proba.tolist(), "classes": [str(c) for c in model.classes_]}
    out["predict_time"] = time.perf_counter() - t0
    return out


def import_libraries(system: str) -> None:
    """Import the heavy libraries before the clock starts: fit time is fitting, not imports.

    The peers' scripts do the same, so no system is charged for its interpreter start-up.
    """
    import lightgbm  # noqa: F401
    import optuna  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    import sklearn.neural_network  # noqa: F401
    import sklearn.svm  # noqa: F401
    import xgboost  # noqa: F401

    if system.startswith("automl"):
        import automl  # noqa: F401


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    from benchmarks.data import read_table
    from benchmarks.systems import SYSTEMS

    X, y = read_table(spec["file"], spec["target"], spec["task"])
    train, test = np.asarray(spec["train_rows"]), np.asarray(spec["test_rows"])
    X_train, y_train = X.iloc[train].reset_index(drop=True), y[train]
    X_test = X.iloc[test].reset_index(drop=True)
    fit = SYSTEMS[spec["system"]]
    import_libraries(spec["system"])
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.monotonic()
        fitted = fit(X_train, y_train, spec["task"], spec["budget"], spec["seed"])
        fit_time = time.monotonic() - t0
        out = prediction_payload(fitted.model, fitted.prepare(X_test), spec["task"])
    return {
        "status": "ok",
        "fit_time": fit_time,
        "n_trials": fitted.n_trials,
        "time_to_first_model": (
            fitted.time_to_first_model if fitted.time_to_first_model is not None else fit_time
        ),
        "val_score": fitted.val_score,
        "details": fitted.details,
        **out,
    }


def main(argv: list[str] | None = None) -> int:
    spec_path, out_path = argv if argv is not None else sys.argv[1:]
    return run_spec_file(run, spec_path, out_path)


if __name__ == "__main__":
    sys.exit(main())
