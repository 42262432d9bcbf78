"""Trials on a Dask cluster against local workers, and the driver's own limit (TPE's ask).

    python -m benchmarks.cluster --datasets ../shared/datasets --out benchmarks/results/X.md

Needs ``pip install 'automl[dask]'``. Three measurements:

- **throughput**: finished trials per minute of search, on one data set, with the trials
  in the driver (``executor="inprocess"``), in 2 local worker processes (``n_jobs=2``), and
  on a Dask ``LocalCluster`` of 2 worker processes with 1 thread each, variants alternating
  in one run. Each variant runs one short search first, so that fork server, workers and
  the cluster's trial processes are started (as they are for every search after a
  session's first).
- **dispatch**: the time per trial outside fitting and scoring, local worker vs Dask, on a
  tiny data set (the Dask path's extra cost per trial).
- **ask**: the seconds TPE (the engine's sampler, on the joint space of every built-in
  classifier) takes to propose one trial when the study holds 100, 1,000 and 5,000
  finished trials: the driver does this for every trial, whatever the cluster's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

import numpy as np
import optuna
import pandas as pd

from benchmarks.data import load_manifest, read_table
from benchmarks.parallel import dispatch as dispatch_cost
from benchmarks.parallel import timed_fit
from benchmarks.summarize import publish, to_markdown


def _variants(address: str) -> dict[str, dict]:
    return {
        "in process": dict(executor="inprocess"),
        "local workers, n_jobs=2": dict(n_jobs=2),
        "Dask LocalCluster, 2 x 1 thread": dict(scheduler=address),
    }


def throughput(X, y, address: str, budget: float, repeats: int) -> pd.DataFrame:
    variants = _variants(address)
    for settings in variants.values():  # start what each variant starts once per session
        timed_fit(X, y, time_budget=5, random_state=99, **settings)
    rows = []
    for repeat in range(repeats):
        for name, settings in variants.items():
            model, wall = timed_fit(X, y, time_budget=budget, random_state=repeat, **settings)
            finished = sum(t.state.is_finished() for t in model.study_.trials)
            rows.append(
                {
                    "where": name,
                    "repeat": repeat,
                    "trials": finished,
                    "trials/min": 60 * finished / model.search_time_,
                    "best": model.best_score_,
                    "fit() wall s": wall,
                }
            )
            print(
                f"[cluster] {name} repeat {repeat}: {rows[-1]['trials/min']:.1f} trials/min",
                file=sys.stderr,
                flush=True,
            )
    return pd.DataFrame(rows)


def dispatch(n_trials: int, repeats: int) -> pd.DataFrame:
    """One trial at a time: one local worker, or a cluster of one single-thread worker."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        variants = {"local worker": {}, "Dask worker": dict(scheduler=cluster.scheduler_address)}
        dispatch_cost(n_trials=3, repeats=1, variants=variants)  # workers started
        return dispatch_cost(n_trials, repeats, variants)


def ask_time(sizes: list[int], asks: int = 20, seed: int = 0) -> pd.DataFrame:
    """Seconds per TPE proposal with ``n`` finished trials in the study (in memory)."""
    from automl.builder import make_candidate, sample_config
    from automl.registry import load_registry, select_candidates
    from automl.search.study import make_sampler

    specs = select_candidates(load_registry(), "binary", 2000, None)
    candidates = {s.name: make_candidate(s, "binary") for s in specs}
    rng = np.random.default_rng(seed)
    history = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    rows = []
    for n in sorted(sizes):
        while len(history.get_trials(deepcopy=False)) < n:  # random ones, made-up scores
            trial = history.ask()
            sample_config(trial, candidates)
            history.tell(trial, float(rng.uniform(0.6, 0.9)))
        study = optuna.create_study(
            direction="maximize", sampler=make_sampler("bayesian", seed, len(candidates))
        )
        study.add_trials(history.get_trials(deepcopy=False))
        seconds = []
        for _ in range(asks):
            started = time.perf_counter()
            trial = study.ask()
            sample_config(trial, candidates)  # TPE samples here, parameter by parameter
            seconds.append(time.perf_counter() - started)
            study.tell(trial, float(rng.uniform(0.6, 0.9)))
        rows.append(
            {
                "finished trials": n,
                "median ask s": float(np.median(seconds)),
                "max ask s": float(np.max(seconds)),
                "proposals/s (one core)": 1 / float(np.median(seconds)),
            }
        )
        print(
            f"[cluster] ask with {n} trials: {np.median(seconds):.3f} s",
            file=sys.stderr,
            flush=True,
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.cluster", description=__doc__.split("\n")[0]
    )
    p.add_argument("--datasets", required=True, help="folder with CSV files and manifest.json")
    p.add_argument("--dataset", default="kc1", help="data set for the throughput")
    p.add_argument("--budget", type=float, default=30.0, help="seconds per search")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sizes", default="100,1000,5000", help="finished trials for the ask time")
    p.add_argument(
        "--parts",
        default="throughput,dispatch,ask",
        help="which measurements (comma-separated; default: all three)",
    )
    p.add_argument("--out", help="also write the tables (Markdown) here, raw rows next to it")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parts = set(args.parts.split(","))
    text, raw = [f"{os.cpu_count()} cores; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC."], []
    if "throughput" in parts:
        from distributed import LocalCluster

        ds = load_manifest(args.datasets, [args.dataset])[0]
        X, y = read_table(ds.path, ds.target, ds.task)
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            rate = throughput(X, y, cluster.scheduler_address, args.budget, args.repeats)
        table = rate.groupby("where", sort=False)[["trials/min", "trials", "best"]].median()
        text += [
            f"Throughput on {ds.name} ({len(y)} rows), TPE, time budget "
            f"{args.budget:g} s, medians of {args.repeats} repeats:",
            to_markdown(table, "where"),
        ]
        raw.append(rate.assign(part="throughput"))
    if "dispatch" in parts:
        cost = dispatch(n_trials=30, repeats=args.repeats)
        table = cost.groupby("where", sort=False).median(numeric_only=True).drop(columns="repeat")
        text += [
            "Dispatch (150 rows x 5 features, gaussian_nb, 3-fold CV, 30 trials, one "
            f"trial at a time; medians of {args.repeats} repeats):",
            to_markdown(table, "where"),
        ]
        raw.append(cost.assign(part="dispatch"))
    if "ask" in parts:
        asks = ask_time([int(s) for s in args.sizes.split(",")])
        text += [
            "TPE proposal time in the driver (engine's sampler, all built-in classifiers, "
            "20 asks per size):",
            to_markdown(asks.set_index("finished trials"), "finished trials"),
        ]
        raw.append(asks.assign(part="ask"))
    publish(text, raw, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
