"""The engine's time per trial outside model fitting: sampling, bookkeeping, storage.

    python -m benchmarks.overhead --trials 10,100,1000 --storages memory,sqlite

One search per (strategy, storage) runs the largest trial count on a tiny data set with cheap
algorithms (the fits are subtracted, so their cost only sets how long this takes). For trial
i, the cycle is the time from the end of trial i-1 (or the search start) to the end of trial
i; its overhead is the cycle minus the trial's fold fit and score times, as the engine
records them. Reported per trial count N: the mean overhead over the first N trials and the
marginal overhead at N (mean over the last 10% of those trials), split into between trials
(ask and tell: creating the trial, writing its final state, enqueueing, budget checks) and
inside a trial (Optuna samples at each ``suggest_*`` call, define-by-run, so the sampler's
cost is here; also building and cloning the pipeline, slicing folds, and the per-fold
``set_user_attr``/``report`` calls, each a storage write). Also the fixed cost of
``automl.fit`` outside the search (validation, registry, dummy baseline, leaderboard) with
10 trials.

Drives the engine's Search directly, so validation and the refit are not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

import automl
from automl.builder import make_candidate
from automl.data import validate_data
from automl.evaluation import make_splits, resolve_metric
from automl.execution import InProcessExecutor
from automl.registry import load_registry, select_candidates
from automl.search import Search, SearchSettings
from automl.storage import StudyStore
from benchmarks.summarize import to_markdown

CHEAP = ["gaussian_nb", "logistic_regression", "knn"]


def tiny_data(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_classification(n_samples=150, n_features=5, n_informative=3, random_state=seed)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]), y


def make_search(X, y, n_trials: int, strategy: str, storage: str | None, algorithms, seed=0):
    frame, y_arr, profile = validate_data(X, y)
    metric = resolve_metric(None, profile.task)
    splits = make_splits(3, profile.task, y_arr, random_state=seed)
    specs = select_candidates(load_registry(), profile.task, len(y_arr) * 2 // 3, algorithms)
    candidates = {s.name: make_candidate(s, profile.task) for s in specs}
    # with a storage URL the engine persists the study itself, as automl.fit(storage=...) does
    store = None if storage is None else StudyStore(storage)
    settings = SearchSettings(
        metric=metric,
        strategy=strategy,
        n_trials=n_trials,
        time_budget=None,
        sampler_seed=seed,
        estimator_seed=seed,
        store=store,
        fingerprint={},
    )
    return Search(candidates, profile, frame, y_arr, splits, settings)


def per_trial(study: optuna.Study, started: dt.datetime) -> pd.DataFrame:
    rows, previous = [], started
    for t in study.trials:
        work = t.user_attrs.get("fit_time", 0.0) + t.user_attrs.get("score_time", 0.0)
        rows.append(
            {
                "cycle": (t.datetime_complete - previous).total_seconds(),
                "between": (t.datetime_start - previous).total_seconds(),
                "inside": (t.datetime_complete - t.datetime_start).total_seconds() - work,
                "work": work,
            }
        )
        previous = t.datetime_complete
    out = pd.DataFrame(rows)
    out["overhead"] = out["cycle"] - out["work"]
    return out


def measure(strategy: str, storage_kind: str, n_max: int, algorithms, counts) -> list[dict]:
    X, y = tiny_data()
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{tmp}/study.db" if storage_kind == "sqlite" else None
        search = make_search(X, y, n_max, strategy, storage, algorithms)
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = dt.datetime.now()
            t0 = time.perf_counter()
            # in the driver, as before the execution layer: benchmarks.parallel measures
            # what a worker process adds per trial
            with search:
                search.run(InProcessExecutor())
            total = time.perf_counter() - t0
        trials = per_trial(search.study, started)
    out = []
    for n in counts:
        first = trials.iloc[:n]
        last = first.iloc[-max(1, n // 10) :]
        out.append(
            {
                "strategy": strategy,
                "storage": storage_kind,
                "trials": n,
                "mean overhead ms": 1e3 * first["overhead"].mean(),
                "marginal overhead ms": 1e3 * last["overhead"].mean(),
                "marginal between ms": 1e3 * last["between"].mean(),
                "marginal inside ms": 1e3 * last["inside"].mean(),
                "mean fit+score ms": 1e3 * first["work"].mean(),
                "search s (all trials)": total,
                # the process's peak so far: searches run one after another
                "peak RSS MB so far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    return out


def fixed_cost(algorithms, n_trials: int = 10) -> dict:
    X, y = tiny_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = automl.fit(
            X, y, n_trials=n_trials, time_budget=None, cv=3, random_state=0, algorithms=algorithms
        )
        wall = time.perf_counter() - t0
    return {
        "trials": n_trials,
        "fit() wall s": wall,
        "fit_time_ s": model.fit_time_,
        "search_time_ s": model.search_time_,
        "refit_time_ s": model.refit_time_,
        "outside search and refit s": model.fit_time_ - model.search_time_ - model.refit_time_,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.overhead",
        description="Engine time per trial outside model fitting.",
    )
    p.add_argument("--trials", default="10,100,1000", help="comma-separated trial counts")
    p.add_argument("--storages", default="memory,sqlite", help="memory and/or sqlite")
    p.add_argument("--strategies", default="bayesian,random")
    p.add_argument(
        "--algorithms",
        default=",".join(CHEAP),
        help="comma-separated, or 'all' (default: three cheap algorithms)",
    )
    p.add_argument("--out", help="also write the tables (Markdown) and rows (JSON) here")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    counts = sorted(int(n) for n in args.trials.split(","))
    algorithms = None if args.algorithms == "all" else args.algorithms.split(",")
    rows = []
    for strategy in args.strategies.split(","):
        for storage in args.storages.split(","):
            rows += measure(strategy, storage, counts[-1], algorithms, counts)
            print(f"[overhead] {strategy}/{storage} done", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    fixed = fixed_cost(algorithms)
    text = (
        f"Algorithms: {args.algorithms}; 150 rows x 5 features, 3-fold CV, one core; "
        f"{os.cpu_count()} cores; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        + to_markdown(table.set_index("strategy"), "strategy")
        + "\n\nFixed cost of automl.fit outside the search (10 trials, in memory):\n\n"
        + to_markdown(pd.DataFrame([fixed]).set_index("trials"), "trials")
        + "\n"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text)
        Path(args.out).with_suffix(".json").write_text(
            json.dumps({"rows": rows, "fixed": fixed}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
