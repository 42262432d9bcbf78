"""Learn the search's opening portfolio across data sets (issue 13, item 2).

The idea of auto-sklearn 2.0 (Feurer et al., 2022) and AutoGluon's zero-shot presets, made
the way TabRepo (Salinas & Erickson, 2023) does it: score a fixed set of candidate
configurations on many training data sets, then choose greedily the few that together come
closest to the best candidate on as many data sets as possible.

    # 1. candidates: each algorithm's default plus random draws from its space, per task
    python -m benchmarks.portfolio candidates --out benchmarks/portfolio/candidates.json
    # 2. score every candidate on every data set (resumable: finished data sets are skipped)
    python -m benchmarks.portfolio evaluate --datasets ../shared/meta --per-task 30 \
        --out benchmarks/portfolio/meta_results.jsonl
    # 3. greedy selection on the meta results -> the shipped file
    python -m benchmarks.portfolio select --results benchmarks/portfolio/meta_results.jsonl \
        --out search_spaces/portfolio.toml
    # 4. out of sample: the same candidates on the dev sets, which the portfolio never saw
    python -m benchmarks.portfolio evaluate --datasets ../shared/datasets \
        --out benchmarks/portfolio/dev_results.jsonl
    python -m benchmarks.portfolio score --results benchmarks/portfolio/dev_results.jsonl

Each data set is cut to at most ``--max-rows`` rows (stratified for classification) and
every candidate is scored by 3-fold cross-validation through ``automl.fit(strategy="manual")``,
so trials run in a worker process under a time limit exactly as in a search; a candidate that
fails or times out scores as the dummy model. Scores are normalised per data set as
``(score - dummy) / (best candidate - dummy)``, clipped to [0, 1], so every data set weighs
the same whatever its metric's scale; data sets where no candidate beats the dummy carry no
information and are left out of the selection.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.data import TASKS, load_manifest

HERE = Path(__file__).resolve().parent
METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
GREATER_IS_BETTER = {"binary": True, "multiclass": False, "regression": False}
# Random draws per algorithm, on top of its default: more where the space is rich and the
# algorithm is often the best (boosting), fewer where a default is nearly all there is.
DRAWS = {
    "lightgbm": 7,
    "xgboost": 7,
    "catboost": 7,
    "hist_gradient_boosting": 7,
    "random_forest": 3,
    "extra_trees": 3,
    "svm": 2,
    "mlp": 2,
    "knn": 2,
    "logistic_regression": 2,
    "ridge": 2,
    "gaussian_nb": 0,
}


# -- 1. candidates ---------------------------------------------------------------------------
def make_candidates(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Per task: each algorithm's default configuration, then random draws from its space."""
    import optuna

    from automl.builder import make_candidate
    from automl.registry import load_registry
    from automl.space.suggest import opening_config, suggest_config

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    registry = load_registry()
    out: dict[str, list[dict[str, Any]]] = {}
    for t, task in enumerate(TASKS):
        configs: list[dict[str, Any]] = []
        for a, (name, spec) in enumerate(sorted(registry.items())):
            if task not in spec.tasks:
                continue
            candidate = make_candidate(spec, task)
            configs.append({"algorithm": name, **opening_config(candidate.params, cheap=False)})
            sampler = optuna.samplers.RandomSampler(seed=seed * 1000 + t * 100 + a)
            study = optuna.create_study(sampler=sampler)
            seen = {json.dumps(configs[-1], sort_keys=True)}
            while len(seen) < 1 + DRAWS.get(name, 2):
                config = {"algorithm": name, **suggest_config(study.ask(), name, candidate.params)}
                config = {k: _plain(v) for k, v in config.items()}
                key = json.dumps(config, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    configs.append(config)
        out[task] = configs
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- 2. evaluation -----------------------------------------------------------------------------
def read_any(path: Path, target: str, task: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A CSV (the dev sets) or PMLB's tab-separated file (the meta sets)."""
    frame = pd.read_csv(path, sep="\t" if ".tsv" in path.name else ",")
    y = frame.pop(target)
    if task == "regression":
        return frame, y.to_numpy(dtype=float)
    return frame, y.astype(str).to_numpy(dtype=object)


def subsample(X: pd.DataFrame, y: np.ndarray, task: str, max_rows: int, seed: int):
    if len(y) <= max_rows:
        return X, y
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    stratify = None
    if task != "regression":
        # a class too rare to stratify on is kept whole rather than breaking the split
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
    keep, _ = train_test_split(rows, train_size=max_rows, random_state=seed, stratify=stratify)
    keep = np.sort(keep)
    return X.iloc[keep].reset_index(drop=True), y[keep]


def evaluate_dataset(
    X: pd.DataFrame, y: np.ndarray, task: str, configs: list[dict[str, Any]], limit: float
) -> dict[str, Any]:
    """Every candidate's 3-fold CV score on one data set (NaN: failed or timed out)."""
    import automl
    from automl.space.suggest import to_optuna_params

    started = time.monotonic()
    model = automl.fit(
        X,
        y,
        task=task,
        strategy="manual",
        configurations=interleaved(configs),
        time_budget=None,
        cv=3,
        prune=False,
        metric=METRIC[task],
        trial_time_limit=limit,
        random_state=0,
    )
    by_key = {}
    for trial in model.study_.trials:
        by_key[_key(trial.params)] = trial
    scores, seconds, states = [], [], []
    for config in configs:
        params = dict(config)
        trial = by_key.get(_key(to_optuna_params(params.pop("algorithm"), params)))
        ok = trial is not None and trial.state.name == "COMPLETE"
        scores.append(float(trial.value) if ok else None)
        seconds.append(trial.user_attrs.get("fit_time") if ok else None)
        states.append(trial.state.name if trial is not None else "MISSING")
    return {
        "dummy": float(model.dummy_score_),
        "scores": scores,
        "fit_seconds": seconds,
        "states": states,
        "seconds": round(time.monotonic() - started, 1),
    }


def _key(params: dict[str, Any]) -> str:
    return json.dumps({k: _plain(v) for k, v in params.items()}, sort_keys=True, default=str)


def sample_per_task(datasets: list, n: int, seed: int = 0) -> list:
    """At most ``n`` data sets per task, drawn at random (the same draw every run)."""
    rng = np.random.default_rng(seed)
    out = []
    for task in TASKS:
        of_task = [d for d in datasets if d.task == task]
        keep = sorted(rng.permutation(len(of_task))[:n])
        out += [of_task[i] for i in keep]
    return out


def interleaved(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Round-robin over algorithms, so that a slow algorithm's candidates are not in a row
    (three failures in a row drop an algorithm from a search)."""
    by_algorithm: dict[str, list[dict[str, Any]]] = {}
    for c in configs:
        by_algorithm.setdefault(c["algorithm"], []).append(c)
    groups = list(by_algorithm.values())
    return [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]


def evaluate(args: argparse.Namespace) -> None:
    candidates = json.loads(Path(args.candidates).read_text())
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {json.loads(line)["dataset"] for line in out.read_text().splitlines() if line}
    datasets = load_manifest(args.datasets, args.only or None)
    if args.per_task:
        datasets = sample_per_task(datasets, args.per_task)
    for d in datasets:
        if d.name in done:
            continue
        X, y = read_any(d.path, d.target, d.task)
        n_rows = len(y)
        X, y = subsample(X, y, d.task, args.max_rows, seed=0)
        try:
            result = evaluate_dataset(X, y, d.task, candidates[d.task], args.trial_limit)
        except Exception as exc:  # a data set the engine refuses is recorded, not fatal
            result = {"error": f"{type(exc).__name__}: {exc}"}
        line = {"dataset": d.name, "task": d.task, "n_rows": n_rows, "rows_used": len(y)}
        line.update(result)
        with out.open("a") as f:
            f.write(json.dumps(line) + "\n")
        print(
            f"{d.name:45s} {d.task:10s} rows {len(y):5d} "
            f"{result.get('seconds', '-')}s {result.get('error', '')}",
            flush=True,
        )


# -- 3. selection ------------------------------------------------------------------------------
def normalised(results: list[dict[str, Any]], task: str) -> tuple[np.ndarray, list[str]]:
    """Data sets x candidates, (score - dummy) / (best - dummy) clipped to [0, 1]."""
    rows, names = [], []
    sign = 1.0 if GREATER_IS_BETTER[task] else -1.0
    for r in results:
        if r["task"] != task or "scores" not in r:
            continue
        s = np.array([np.nan if v is None else v for v in r["scores"]], dtype=float) * sign
        dummy = r["dummy"] * sign
        best = np.nanmax(s) if np.isfinite(s).any() else np.nan
        if not np.isfinite(best) or best - dummy <= 1e-12:
            continue  # nothing beats the dummy: no information about the candidates
        rows.append(np.nan_to_num(np.clip((s - dummy) / (best - dummy), 0, 1), nan=0.0))
        names.append(r["dataset"])
    return np.array(rows), names


def greedy_portfolio(
    norm: np.ndarray, size: int, min_gain: float = 0.0
) -> tuple[list[int], list[float]]:
    """Candidates in the order greedy forward selection adds them, and the mean normalised
    score of the best member per data set after each addition; it stops when the next
    candidate would add less than ``min_gain`` (such gains are within the noise of 3-fold
    CV on a few hundred rows)."""
    chosen: list[int] = []
    curve: list[float] = []
    best = np.zeros(norm.shape[0])
    for _ in range(min(size, norm.shape[1])):
        gains = np.maximum(norm, best[:, None]).mean(axis=0)
        gains[chosen] = -np.inf
        pick = int(np.argmax(gains))
        if chosen and gains[pick] - curve[-1] < max(min_gain, 1e-9):
            break
        chosen.append(pick)
        best = np.maximum(best, norm[:, pick])
        curve.append(float(best.mean()))
    return chosen, curve


def relative_cost(results: list[dict[str, Any]], task: str, n: int) -> np.ndarray:
    """Each candidate's median fit time relative to the data set's median candidate."""
    ratios = []
    for r in results:
        if r["task"] != task or "fit_seconds" not in r:
            continue
        t = np.array([np.nan if v is None else v for v in r["fit_seconds"]], dtype=float)
        ratios.append(t / np.nanmedian(t))
    cost = np.nanmedian(np.array(ratios), axis=0) if ratios else np.ones(n)
    return np.nan_to_num(cost, nan=np.inf)


def select(args: argparse.Namespace) -> None:
    candidates = json.loads(Path(args.candidates).read_text())
    results = _read_results(args.results)
    entries, lines = [], []
    for task in TASKS:
        norm, names = normalised(results, task)
        if not names:
            lines.append(f"# {task}: no data sets scored yet")
            continue
        chosen, curve = greedy_portfolio(norm, args.size, args.min_gain)
        cost = relative_cost(results, task, len(candidates[task]))
        defaults = _default_indices(candidates[task])
        lines.append(
            f"# {task}: {len(names)} data sets; mean normalised score of the best member: "
            f"{len(chosen)} chosen {curve[-1]:.4f}, all {len(candidates[task])} candidates "
            f"1.0, the {len(defaults)} defaults {norm[:, defaults].max(axis=1).mean():.4f}"
        )
        lines.append(f"#   curve: {' '.join(f'{v:.3f}' for v in curve)}")
        for i in sorted(chosen, key=lambda i: cost[i]):
            entries.append((task, candidates[task][i], cost[i], chosen.index(i) + 1))
    Path(args.out).write_text(_portfolio_toml(entries, lines, args))
    print("\n".join(lines))


def _default_indices(configs: list[dict[str, Any]]) -> list[int]:
    first: dict[str, int] = {}
    for i, c in enumerate(configs):
        first.setdefault(c["algorithm"], i)
    return list(first.values())


def _portfolio_toml(entries: list, lines: list[str], args: argparse.Namespace) -> str:
    head = [
        "# The search's opening configurations, learned across data sets (issue 13).",
        "# Made by benchmarks/portfolio.py (see its docstring for the commands): every",
        "# candidate (each algorithm's default and random draws from its space) scored by",
        "# 3-fold CV on PMLB data sets (../shared/meta, disjoint from the dev sets), at most",
        f"# {args.max_rows} rows each; then greedy forward selection of at most {args.size} per",
        "# task maximising the mean over data sets of the best member's normalised score",
        "# ((score - dummy) / (best candidate - dummy)), stopped when a member would add less",
        f"# than {args.min_gain}. Listed cheapest first per task (median",
        "# fit time relative to the other candidates on the same data set), the order the",
        "# search runs them in. Raw results: benchmarks/portfolio/meta_results.jsonl.",
        *lines,
        "",
        "schema_version = 1",
        "",
    ]
    body = []
    for task, config, cost, rank in entries:
        body.append("[[configurations]]")
        body.append(f'task = "{task}"')
        body.append(f"# greedy rank {rank}, relative cost {cost:.2f}")
        for key, value in config.items():
            body.append(f"{key} = {_toml_value(value)}")
        body.append("")
    return "\n".join(head + body)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


# -- 4. out-of-sample score ----------------------------------------------------------------------
def score(args: argparse.Namespace) -> None:
    """On data sets the portfolio never saw: its best member against the defaults' best."""
    import tomllib

    candidates = json.loads(Path(args.candidates).read_text())
    portfolio = tomllib.loads(Path(args.portfolio).read_text())["configurations"]
    results = _read_results(args.results)
    for task in TASKS:
        norm, names = normalised(results, task)
        if not names:
            continue
        keys = [json.dumps(c, sort_keys=True) for c in candidates[task]]
        members = [
            keys.index(json.dumps({k: v for k, v in p.items() if k != "task"}, sort_keys=True))
            for p in portfolio
            if p["task"] == task
        ]
        defaults = _default_indices(candidates[task])
        print(
            f"{task}: {len(names)} data sets, mean normalised score of the best member "
            f"(1 = the best of all {len(keys)} candidates): portfolio of {len(members)} "
            f"{norm[:, members].max(axis=1).mean():.4f}, the {len(defaults)} defaults "
            f"{norm[:, defaults].max(axis=1).mean():.4f}; wins/ties/losses of the portfolio "
            f"against the defaults: {_wins(norm[:, members].max(1), norm[:, defaults].max(1))}"
        )


def _wins(a: np.ndarray, b: np.ndarray, tie: float = 0.005) -> str:
    d = a - b
    return f"{int((d > tie).sum())}/{int((abs(d) <= tie).sum())}/{int((d < -tie).sum())}"


def _read_results(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    default_candidates = str(HERE / "portfolio" / "candidates.json")
    c = sub.add_parser("candidates", help="draw the candidate configurations")
    c.add_argument("--out", default=default_candidates)
    c.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("evaluate", help="score every candidate on every data set")
    e.add_argument("--datasets", required=True, help="a folder with a manifest.json")
    e.add_argument("--only", nargs="*", help="data set names (default: all)")
    e.add_argument("--candidates", default=default_candidates)
    e.add_argument("--out", required=True, help="JSON lines, appended; finished sets skipped")
    e.add_argument("--max-rows", type=int, default=1000)
    e.add_argument("--trial-limit", type=float, default=15.0, help="seconds per candidate")
    e.add_argument("--per-task", type=int, help="at most this many data sets per task")
    s = sub.add_parser("select", help="greedy selection -> portfolio.toml")
    s.add_argument("--results", required=True)
    s.add_argument("--candidates", default=default_candidates)
    s.add_argument("--out", required=True)
    s.add_argument("--size", type=int, default=16, help="at most this many per task")
    s.add_argument(
        "--min-gain",
        type=float,
        default=0.0,
        help="stop when the next member adds less to the mean normalised score",
    )
    s.add_argument("--max-rows", type=int, default=1000, help="as used by evaluate (comment)")
    o = sub.add_parser("score", help="the portfolio against the defaults on other data sets")
    o.add_argument("--results", required=True)
    o.add_argument("--candidates", default=default_candidates)
    o.add_argument("--portfolio", default=str(HERE.parent / "search_spaces" / "portfolio.toml"))
    args = parser.parse_args(argv)
    if args.command == "candidates":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(make_candidates(args.seed), indent=1) + "\n")
        print({t: len(v) for t, v in json.loads(Path(args.out).read_text()).items()})
    elif args.command == "evaluate":
        evaluate(args)
    elif args.command == "select":
        select(args)
    else:
        score(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
