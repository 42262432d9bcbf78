"""AutoGluon-Tabular on one split, from its own environment: ``autogluon_runner.py SPEC OUT``.

Run by ``benchmarks.run`` with ``benchmarks/.venvs/autogluon/bin/python`` (AutoGluon pins
pandas below 2.4 and brings its own scikit-learn, LightGBM, XGBoost and CatBoost). Reads the
same SPEC as ``benchmarks.worker`` and writes the same OUT: test predictions plus
AutoGluon's own report of its fit.

AutoGluon runs with its default preset (``medium_quality``: no bagging or stacking, one
holdout, then a weighted ensemble), ``time_limit`` = the budget, one CPU and no GPU.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings

# One core: benchmarks.run sets these in the child's environment; set them here too (before
# numpy and the model libraries load) so that a hand-run of this script is pinned as well.
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from benchmarks.data import read_table, run_spec_file  # noqa: E402  (pandas/numpy/sklearn only)

# Our SEARCH_METRIC (benchmarks.systems) in AutoGluon's names.
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "root_mean_squared_error"}


try:  # at module level: AutoGluon pickles the callbacks with its trainer
    from autogluon.core.callbacks import AbstractCallback
except ImportError:  # reported by run(), which imports autogluon.tabular
    AbstractCallback = object


class Clock(AbstractCallback):
    """When the first model finished, and how many model fits AutoGluon started."""

    def __init__(self, t0: float):
        super().__init__()
        self.t0, self.started, self.first = t0, 0, None

    def _before_model_fit(self, trainer, model, **kwargs):
        self.started += 1
        return False, False

    def _after_model_fit(self, trainer, model_names, **kwargs):
        if model_names and self.first is None:
            self.first = time.monotonic() - self.t0
        return False


def run(spec: dict) -> dict:
    import catboost  # noqa: F401  (imported before the clock starts, as in benchmarks.worker)
    import lightgbm  # noqa: F401
    import numpy as np
    import sklearn.ensemble  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    import xgboost  # noqa: F401
    from autogluon.tabular import TabularPredictor
    from threadpoolctl import threadpool_limits

    task, label = spec["task"], spec["target"]
    X, y = read_table(spec["file"], label, task)
    train, test = np.asarray(spec["train_rows"]), np.asarray(spec["test_rows"])
    train_frame = X.iloc[train].reset_index(drop=True)
    train_frame[label] = y[train]  # strings for classification (read_table), floats otherwise
    X_test = X.iloc[test].reset_index(drop=True)
    with (
        tempfile.TemporaryDirectory(prefix="autogluon-") as tmp,
        threadpool_limits(limits=1),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        predictor = TabularPredictor(
            label=label,
            eval_metric=METRIC[task],
            problem_type=task,
            path=os.path.join(tmp, "predictor"),
            verbosity=0,
        )
        t0 = time.monotonic()
        clock = Clock(t0)
        predictor.fit(
            train_frame,
            time_limit=spec["budget"],
            num_cpus=1,
            num_gpus=0,
            callbacks=[clock],
        )
        fit_time = time.monotonic() - t0
        # Models stay on disk and are loaded at each predict call unless persisted; load the
        # best one (and the models it ensembles) before the predict clock starts.
        predictor.persist()
        t1 = time.perf_counter()
        if task == "regression":
            out = {"pred": np.asarray(predictor.predict(X_test), dtype=float).tolist()}
        else:
            # Columns in predictor.class_labels order; named, so metrics.aligned_proba maps
            # them onto the benchmark's class order.
            proba = predictor.predict_proba(X_test, as_multiclass=True)
            values = proba.to_numpy(dtype=float)  # float32 from AutoGluon: rows sum to 1 +- 1e-7
            out = {
                "proba": (values / values.sum(axis=1, keepdims=True)).tolist(),
                "classes": [str(c) for c in proba.columns],
            }
        out["predict_time"] = time.perf_counter() - t1
        board = predictor.leaderboard()
        best = predictor.model_best
    to_original = predictor.eval_metric.convert_score_to_original  # AutoGluon: higher is better
    best_row = board.loc[board["model"] == best].iloc[0]
    return {
        "status": "ok",
        "fit_time": fit_time,
        "n_trials": len(board),
        "time_to_first_model": clock.first if clock.first is not None else fit_time,
        "val_score": float(to_original(best_row["score_val"])),
        "details": {
            "best_model": best,
            "best_model_fit_time": float(best_row["fit_time"]),  # with the models it ensembles
            "model_fits_started": clock.started,
            "leaderboard": [
                {
                    "model": r["model"],
                    "score_val": float(to_original(r["score_val"])),
                    "fit_time": float(r["fit_time_marginal"]),
                }
                for _, r in board.iterrows()
            ],
        },
        **out,
    }


def main() -> int:
    spec_path, out_path = sys.argv[1:3]
    return run_spec_file(run, spec_path, out_path)


if __name__ == "__main__":
    sys.exit(main())
