"""Run systems on data sets, side by side, one fresh process per (data set, split, system).

    python -m benchmarks.run --datasets ../shared/datasets --budget 60 --folds 1 --seeds 0 \
        --systems automl,automl_random,hgb_default,rf_default,lgbm_default,optuna_lgbm,flaml \
        --out benchmarks/results/run.jsonl

Every system sees the same outer splits; systems are interleaved per data set and split, so
drift in machine speed hits all of them alike. Each fit runs on one core (thread limits in
the worker, OMP/BLAS variables in its environment; automl_jobs2 runs two single-threaded
trials at once, so two cores) under a hard timeout of budget x 3 + 60 s.
A result line is appended (and flushed) as soon as it exists; rows already in --out are
skipped, so an interrupted run resumes. A failing system is recorded, not fatal. A peer whose
environment is missing is reported as unavailable and the run goes on (see BENCHMARKS.md
for the commands that create the peer environments).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import Dataset, load_manifest, outer_splits, read_table
from benchmarks.metrics import PRIMARY, dummy_score, optimism, test_metrics
from benchmarks.systems import SYSTEMS

ROOT = Path(__file__).resolve().parent.parent  # the repository root
HERE = Path(__file__).resolve().parent
LOCAL_SYSTEMS = tuple(SYSTEMS)  # run in this environment, by benchmarks/worker.py
# Peers: their own virtual environment (conflicting pins), a script that writes OUT, the
# module that must import there, and why it may be missing.
PEERS = {
    "flaml": (
        HERE / ".venvs/flaml/bin/python",
        HERE / "peers/flaml_runner.py",
        "flaml.automl",
        "create it as BENCHMARKS.md, 'Peers', says",
    ),
    "autogluon": (
        HERE / ".venvs/autogluon/bin/python",
        HERE / "peers/autogluon_runner.py",
        "autogluon.tabular",
        "create it as BENCHMARKS.md, 'Peers', says",
    ),
}
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def engine_version(root: Path = ROOT) -> str:
    """The engine's commit (``+dirty`` if automl/ or search_spaces/ differ from it).

    A snapshot without .git (see BENCHMARKS.md: the long run uses one, so that concurrent
    edits do not change the engine mid-run) names its commit in a file ENGINE_VERSION.
    """
    marker = root / "ENGINE_VERSION"
    if marker.exists():
        return marker.read_text().strip()
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "automl", "search_spaces"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--datasets", required=True, help="folder with CSV files and manifest.json")
    p.add_argument("--only", default="", help="comma-separated data set names (default: all)")
    p.add_argument("--budget", type=float, default=60.0, help="seconds per fit (default 60)")
    p.add_argument(
        "--folds",
        type=int,
        default=1,
        help="1: a stratified 75/25 holdout; k>1: k outer folds (default 1)",
    )
    p.add_argument("--seeds", default="0", help="comma-separated seeds for splits and systems")
    p.add_argument(
        "--systems",
        default=",".join(LOCAL_SYSTEMS + tuple(PEERS)),
        help=f"comma-separated, among {', '.join(LOCAL_SYSTEMS + tuple(PEERS))}",
    )
    p.add_argument("--out", required=True, help="JSON-lines file; appended to, and resumed")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="run again the rows recorded as failed (the summary keeps the last)",
    )
    p.add_argument(
        "--engine-at",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="another engine version, in a source tree DIR (e.g. a snapshot of an "
        "older commit); a system SYSTEM@LABEL runs SYSTEM from it, interleaved "
        "with the others (repeatable)",
    )
    args = p.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    args.engine_at = dict(item.split("=", 1) for item in args.engine_at)
    bad = [s for s in args.systems if "@" in s and s.split("@", 1)[1] not in args.engine_at]
    if bad:
        p.error(f"systems {bad} name an engine that no --engine-at LABEL=DIR gives")
    unknown = [
        s for s in args.systems if s.split("@", 1)[0] not in LOCAL_SYSTEMS and s not in PEERS
    ]
    if unknown:
        p.error(f"unknown systems {unknown}; choose among {list(LOCAL_SYSTEMS) + list(PEERS)}")
    if args.folds < 1 or args.budget <= 0:
        p.error("--folds must be >= 1 and --budget > 0")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.only = [s for s in args.only.split(",") if s]
    return args


def peer_unavailable(system: str, cache: dict[str, str | None]) -> str | None:
    """None if the peer's environment imports it; otherwise the reason, with the fix."""
    if system not in PEERS:
        return None
    if system not in cache:
        python, script, module, why = PEERS[system]
        reason = None
        if not python.exists() or not script.exists():
            reason = f"no environment at {python.parent.parent} or no {script.name}: {why}"
        else:
            check = subprocess.run(
                [str(python), "-c", f"import {module}"], capture_output=True, text=True, timeout=300
            )
            if check.returncode != 0:
                reason = f"'import {module}' fails in {python}: {check.stderr.strip()[-300:]}"
        cache[system] = reason
    return cache[system]


def run_process(
    command: list[str], timeout: float, log_path: Path, root: Path = ROOT
) -> dict[str, Any]:
    """Run one worker, killed (whole group) after ``timeout``; its peak memory with its children.

    Peak memory: the larger of the worker's own peak (wait4) and the highest sum of
    proportional resident memory (PSS: a page shared by n processes counts 1/n) over the
    worker and its descendants, sampled every 0.1 s: a system that runs its trials in
    processes of its own, like automl's executor, has its memory there.
    """
    from automl.execution.limits import resident_mb

    env = dict(
        os.environ, PYTHONPATH=str(root), PYTHONHASHSEED="0", **{v: "1" for v in THREAD_VARIABLES}
    )
    started = time.monotonic()
    tree_peak = 0
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            tree_peak = max(tree_peak, resident_mb(proc.pid, proportional=True))
            time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_time": time.monotonic() - started,
        "timed_out": timed_out,
        "exit_code": proc.returncode,
        "peak_memory_mb": max(usage.ru_maxrss / 1024, tree_peak),
    }


def run_one(
    system: str,
    ds: Dataset,
    split: tuple[np.ndarray, np.ndarray],
    budget: float,
    seed: int,
    workdir: Path,
    root: Path = ROOT,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The worker's result (predictions and fit report) and the process facts.

    ``root``: the source tree whose engine (and worker) runs a local system.
    """
    train, test = split
    spec = {
        "system": system,
        "file": str(ds.path.resolve()),
        "target": ds.target,
        "task": ds.task,
        "train_rows": train.tolist(),
        "test_rows": test.tolist(),
        "budget": budget,
        "seed": seed,
    }
    tag = f"{ds.name}.{system}.{seed}"
    spec_path, out_path = workdir / f"{tag}.spec.json", workdir / f"{tag}.out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    if system in PEERS:
        python, script, _, _ = PEERS[system]
        command = [str(python), str(script), str(spec_path), str(out_path)]
    else:
        command = [sys.executable, "-m", "benchmarks.worker", str(spec_path), str(out_path)]
    log_path = workdir / f"{tag}.log"
    facts = run_process(command, budget * 3 + 60, log_path, root)
    if facts["timed_out"]:
        result = {
            "status": "failed",
            "error": f"timeout: killed after {budget * 3 + 60:.0f}s (budget x 3 + 60)",
        }
    elif out_path.exists():
        result = json.loads(out_path.read_text())
    else:
        tail = log_path.read_text(errors="replace")[-1500:]
        result = {
            "status": "failed",
            "error": f"exit code {facts['exit_code']}, no result written: {tail}",
        }
    return result, facts


def make_row(
    system, ds, fold, seed, budget, split, y, result, facts, engine: str
) -> dict[str, Any]:
    train, test = split
    primary, _ = PRIMARY[ds.task]
    classes = np.unique(y[train]) if ds.task != "regression" else None
    row = {
        "dataset": ds.name,
        "task": ds.task,
        "system": system,
        "fold": fold,
        "seed": seed,
        "budget": budget,
        "n_train": len(train),
        "n_test": len(test),
        "status": result["status"],
        "error": result.get("error"),
        "primary_metric": primary,
        "dummy_score": dummy_score(y[train], y[test], classes, ds.task),
        **{k: facts[k] for k in ("wall_time", "peak_memory_mb", "exit_code")},
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }
    if result["status"] != "ok":
        row["traceback"] = result.get("traceback")
        return row
    try:
        metrics = test_metrics(result, y[test], classes, ds.task)
    except Exception as exc:  # unusable predictions are a failure of the system, not the run
        row.update(status="failed", error=f"scoring failed: {type(exc).__name__}: {exc}")
        return row
    score = metrics[primary]
    row.update(
        {
            "metrics": metrics,
            "score": score,
            "fit_time": result["fit_time"],
            "overrun": result["fit_time"] - budget,
            "n_trials": result.get("n_trials"),
            "time_to_first_model": result.get("time_to_first_model"),
            "predict_time_per_row": result["predict_time"] / max(len(test), 1),
            "val_score": result.get("val_score"),
            "optimism": optimism(result.get("val_score"), score, ds.task),
            "details": result.get("details", {}),
        }
    )
    return row


def done_keys(path: Path, retry_failed: bool = False) -> set[tuple]:
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            if r["status"] == "ok" or (r["status"] == "failed" and not retry_failed):
                keys.add((r["dataset"], r["system"], r["fold"], r["seed"], r["budget"]))
    return keys


def append(path: Path, row: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = load_manifest(args.datasets, args.only)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = done_keys(out, args.retry_failed)
    unavailable: dict[str, str | None] = {}
    engine = engine_version()
    print(f"[benchmarks] engine {engine}, {os.cpu_count()} cores, results to {out}", flush=True)
    for system in args.systems:
        reason = peer_unavailable(system, unavailable)
        if reason:
            print(
                f"[benchmarks] {system} is unavailable and will be recorded as such: {reason}",
                flush=True,
            )
    with tempfile.TemporaryDirectory(prefix="automl-bench-") as tmp:
        workdir = Path(tmp)
        for ds in datasets:
            _, y = read_table(ds.path, ds.target, ds.task)
            for seed in args.seeds:
                for fold, split in enumerate(outer_splits(y, ds.task, args.folds, seed)):
                    for system in args.systems:
                        key = (ds.name, system, fold, seed, args.budget)
                        if key in done:
                            continue
                        reason = unavailable.get(system)
                        if reason:
                            append(
                                out,
                                {
                                    "dataset": ds.name,
                                    "task": ds.task,
                                    "system": system,
                                    "fold": fold,
                                    "seed": seed,
                                    "budget": args.budget,
                                    "status": "unavailable",
                                    "error": reason,
                                },
                            )
                            continue
                        base, _, label = system.partition("@")
                        root = Path(args.engine_at[label]).resolve() if label else ROOT
                        result, facts = run_one(base, ds, split, args.budget, seed, workdir, root)
                        row = make_row(
                            system,
                            ds,
                            fold,
                            seed,
                            args.budget,
                            split,
                            y,
                            result,
                            facts,
                            engine_version(root) if label else engine,
                        )
                        append(out, row)
                        print(
                            f"[benchmarks] {ds.name} fold {fold} seed {seed} {system}: "
                            + (
                                f"{row['primary_metric']} {row['score']:.4f}, fit "
                                f"{row['fit_time']:.1f}s, {row['n_trials']} trials, "
                                f"{row['peak_memory_mb']:.0f} MB"
                                if row["status"] == "ok"
                                else f"{row['status']}: {str(row['error'])[:200]}"
                            ),
                            flush=True,
                        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
