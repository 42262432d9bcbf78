"""Parallel trials and the cost of running them in worker processes.

    python -m benchmarks.parallel --datasets ../shared/datasets --out benchmarks/results/X.md

Three measurements, each side by side in one run (variants alternate, so drift in machine
speed hits all of them alike):

- **throughput**: finished trials per minute of search with ``n_jobs=1`` and ``n_jobs=2`` on
  the same data. "TPE, time budget" is the search as users run it (TPE proposes other
  trials for each ``n_jobs``, so it mixes speed with what was proposed). The two "same
  trials" modes run identical work for both ``n_jobs`` (random search with a seed, no
  pruning): told as they finish (what a time budget does), and told in trial order (what
  ``n_trials`` without a budget does, for reproducibility: a finished trial waits for the
  ones asked before it, holding its slot);
- **constant liar**: with ``n_jobs=2`` and a fixed ``n_trials``, the best cross-validated score
  with TPE's ``constant_liar`` on (the engine's setting) and off, paired by seed, and how often
  two trials running side by side got the same algorithm;
- **dispatch**: the time per trial outside fitting and scoring, in the driver
  (``executor="inprocess"``) and in one worker process (``"processes"``), on a tiny data set.

Learners are single-threaded in every variant (the workers set their thread pools to one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings

import optuna
import pandas as pd

import automl
from benchmarks.data import load_manifest, read_table
from benchmarks.overhead import per_trial, tiny_data
from benchmarks.summarize import publish, to_markdown


def timed_fit(X, y, **settings):
    """``automl.fit`` with warnings silenced: (model, wall seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.monotonic()
        model = automl.fit(X, y, **settings)
        return model, time.monotonic() - started


def throughput(X, y, budget: float, n_trials: int, repeats: int) -> pd.DataFrame:
    modes = {
        "TPE, time budget": dict(time_budget=budget),
        # random search with a seed proposes the same trials whatever n_jobs is
        "same trials, told as finished": dict(
            strategy="random", prune=False, n_trials=n_trials, time_budget=3600
        ),
        "same trials, told in order": dict(
            strategy="random", prune=False, n_trials=n_trials, time_budget=None
        ),
    }
    rows = []
    for repeat in range(repeats):
        for mode, settings in modes.items():
            for n_jobs in (1, 2):
                model, wall = timed_fit(X, y, n_jobs=n_jobs, random_state=repeat, **settings)
                finished = sum(t.state.is_finished() for t in model.study_.trials)
                rows.append(
                    {
                        "mode": mode,
                        "n_jobs": n_jobs,
                        "repeat": repeat,
                        "trials": finished,
                        "search s": model.search_time_,
                        "trials/min": 60 * finished / model.search_time_,
                        "best": model.best_score_,
                        "fit() wall s": wall,
                    }
                )
                print(
                    f"[parallel] throughput {mode} n_jobs={n_jobs} repeat {repeat}: "
                    f"{rows[-1]['trials/min']:.1f} trials/min",
                    file=sys.stderr,
                    flush=True,
                )
    return pd.DataFrame(rows)


def _without_constant_liar(seed: int, n_candidates: int) -> optuna.samplers.TPESampler:
    """The engine's sampler (automl.search.study.make_sampler) with constant_liar off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=False,
            n_startup_trials=max(10, n_candidates),
        )


def _same_algorithm_side_by_side(study: optuna.Study) -> float:
    """Share of trials whose algorithm equals that of a trial that ran at the same time."""
    trials = [t for t in study.trials if t.datetime_start and t.datetime_complete]
    same = 0
    for t in trials:
        beside = [
            u
            for u in trials
            if u is not t
            and u.datetime_start < t.datetime_complete
            and t.datetime_start < u.datetime_complete
        ]
        same += any(u.params.get("algorithm") == t.params.get("algorithm") for u in beside)
    return same / max(len(trials), 1)


def constant_liar(X, y, n_trials: int, seeds: int) -> pd.DataFrame:
    from automl.search import loop  # where the search creates its sampler

    engine_sampler = loop.make_sampler
    rows = []
    for seed in range(seeds):
        for liar in (True, False):
            if not liar:  # the only change: the sampler the search creates
                loop.make_sampler = lambda strategy, s, n: _without_constant_liar(s, n)
            try:
                model, _ = timed_fit(
                    X, y, n_jobs=2, time_budget=None, n_trials=n_trials, random_state=seed
                )
            finally:
                loop.make_sampler = engine_sampler
            rows.append(
                {
                    "constant_liar": liar,
                    "seed": seed,
                    "best": model.best_score_,
                    "maximize": model.study_.direction.name == "MAXIMIZE",
                    "same algorithm side by side": _same_algorithm_side_by_side(model.study_),
                }
            )
            print(
                f"[parallel] constant_liar={liar} seed {seed}: best {model.best_score_:.4f}",
                file=sys.stderr,
                flush=True,
            )
    return pd.DataFrame(rows)


def dispatch(n_trials: int, repeats: int, variants: dict[str, dict] | None = None) -> pd.DataFrame:
    """Time per trial outside fitting and scoring, one trial at a time, on a tiny data set.

    ``variants``: name -> settings of ``automl.fit`` (default: in the driver, and in one
    local worker process). The first trial of each search waits for its worker; the steady
    figures leave it out.
    """
    if variants is None:
        variants = {"inprocess": dict(executor="inprocess"), "processes": {}}
    X, y = tiny_data()
    rows = []
    for repeat in range(repeats):
        for name, settings in variants.items():
            model, wall = timed_fit(
                X, y, time_budget=None, n_trials=n_trials, cv=3, random_state=repeat,
                algorithms=["gaussian_nb"], **settings,
            )  # fmt: skip
            trials = per_trial(model.study_, model.study_.trials[0].datetime_start)
            steady = trials.iloc[1:]
            rows.append(
                {
                    "where": name,
                    "repeat": repeat,
                    "overhead ms/trial": 1e3 * steady["overhead"].median(),
                    "fit+score ms/trial": 1e3 * steady["work"].median(),
                    "first trial s": trials["cycle"].iloc[0],
                    "fit() wall s": wall,
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.parallel", description=__doc__.split("\n")[0]
    )
    p.add_argument("--datasets", required=True, help="folder with CSV files and manifest.json")
    p.add_argument("--dataset", default="kc1", help="data set for throughput and constant liar")
    p.add_argument("--budget", type=float, default=30.0, help="seconds per timed search")
    p.add_argument("--trials", type=int, default=40, help="n_trials of the untimed searches")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seeds", type=int, default=8, help="seeds of the constant-liar pairs")
    p.add_argument(
        "--parts",
        default="throughput,liar,dispatch",
        help="which measurements (comma-separated; default: all three)",
    )
    p.add_argument("--out", help="also write the tables (Markdown) here, raw rows next to it")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ds = load_manifest(args.datasets, [args.dataset])[0]
    X, y = read_table(ds.path, ds.target, ds.task)

    parts, text, raw = (
        set(args.parts.split(",")),
        [
            f"Data set {ds.name} ({len(y)} rows); {os.cpu_count()} cores; "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC."
        ],
        [],
    )
    if "throughput" in parts:
        rate = throughput(X, y, args.budget, args.trials, args.repeats)
        medians = rate.groupby(["mode", "n_jobs"])[["trials/min", "trials", "best"]].median()
        ratio = (
            medians["trials/min"].xs(2, level="n_jobs")
            / medians["trials/min"].xs(1, level="n_jobs")
        ).rename("n_jobs=2 / n_jobs=1")
        text += [
            f"Throughput, medians of {args.repeats} repeats (TPE: time budget "
            f"{args.budget:g} s; same trials: {args.trials} random trials, no pruning):",
            to_markdown(medians.reset_index().set_index("mode"), "mode"),
            to_markdown(ratio.to_frame(), "mode"),
        ]
        raw.append(rate.assign(part="throughput"))
    if "liar" in parts:
        liar = constant_liar(X, y, args.trials, args.seeds)
        paired = liar.pivot(index="seed", columns="constant_liar", values="best")
        sign = 1 if liar["maximize"].iloc[0] else -1
        wins = int((sign * (paired[True] - paired[False]) > 0).sum())
        table = liar.groupby("constant_liar")[["best", "same algorithm side by side"]].median()
        table.index = table.index.map({True: "on", False: "off"})
        text += [
            f"Constant liar (n_jobs=2, {args.trials} trials, {args.seeds} seeds, medians; "
            f"with it better on {wins} of {len(paired)} seeds):",
            to_markdown(table, "constant_liar"),
        ]
        raw.append(liar.assign(part="constant liar"))
    if "dispatch" in parts:
        cost = dispatch(n_trials=30, repeats=args.repeats)
        table = cost.groupby("where").median(numeric_only=True).drop(columns="repeat")
        text += [
            f"Dispatch (150 rows x 5 features, gaussian_nb, 3-fold CV, 30 trials; medians "
            f"of {args.repeats} repeats):",
            to_markdown(table, "where"),
        ]
        raw.append(cost.assign(part="dispatch"))
    publish(text, raw, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
