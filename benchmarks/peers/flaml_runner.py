"""FLAML on one split, from its own environment: ``flaml_runner.py SPEC OUT``.

Run by ``benchmarks.run`` with ``benchmarks/.venvs/flaml/bin/python`` (FLAML caps xgboost
below 3, which conflicts with our pins). Reads the same SPEC as ``benchmarks.worker`` and
writes the same OUT: test predictions plus FLAML's own report of its search.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from benchmarks.data import read_table, run_spec_file  # noqa: E402  (pandas/numpy/sklearn only)

METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def run(spec: dict) -> dict:
    import lightgbm  # noqa: F401  (imported before the clock starts, as in benchmarks.worker)
    import numpy as np
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import xgboost  # noqa: F401
    from flaml import AutoML
    from threadpoolctl import threadpool_limits

    task = spec["task"]
    X, y = read_table(spec["file"], spec["target"], task)
    train, test = np.asarray(spec["train_rows"]), np.asarray(spec["test_rows"])
    X_train, y_train = X.iloc[train].reset_index(drop=True), y[train]
    X_test = X.iloc[test].reset_index(drop=True)
    if task != "regression":
        y_train = y_train.astype(str)
    handle, log_file = tempfile.mkstemp(suffix=".flaml.log")
    os.close(handle)  # FLAML opens it by name
    automl = AutoML()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.monotonic()
        automl.fit(
            X_train,
            y_train,
            task="regression" if task == "regression" else "classification",
            metric=METRIC[task],
            time_budget=spec["budget"],
            n_jobs=1,
            seed=spec["seed"],
            log_file_name=log_file,
            log_type="all",
            verbose=0,
        )
        fit_time = time.monotonic() - t0
        t1 = time.perf_counter()
        if task == "regression":
            out = {"pred": np.asarray(automl.predict(X_test), dtype=float).tolist()}
        else:
            out = {
                "proba": np.asarray(automl.predict_proba(X_test), dtype=float).tolist(),
                "classes": [str(c) for c in automl.classes_],
            }
        out["predict_time"] = time.perf_counter() - t1
    records = []
    with open(log_file) as f:
        for line in f:
            with contextlib.suppress(ValueError):  # a line cut by the time limit
                records.append(json.loads(line))
    os.unlink(log_file)
    times = [r["wall_clock_time"] for r in records if "wall_clock_time" in r]
    loss = automl.best_loss
    val = (1.0 - loss) if task == "binary" else loss  # FLAML minimises 1 - auc for roc_auc
    return {
        "status": "ok",
        "fit_time": fit_time,
        "n_trials": sum(1 for r in records if "record_id" in r),
        "time_to_first_model": min(times) if times else fit_time,
        "val_score": float(val),
        "details": {
            "best_estimator": automl.best_estimator,
            "best_config_train_time": automl.best_config_train_time,
        },
        **out,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    return run_spec_file(run, spec_path, out_path)


if __name__ == "__main__":
    sys.exit(main())
