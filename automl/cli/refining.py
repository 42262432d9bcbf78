"""``automl fit DATA --target COL --refine RUN_DIR``: one more round of RUN_DIR's search.

The round keeps the search's meaning (data, metric, folds, seed, algorithms' files: what
``summary.json`` recorded), so the options that would change it are refused; budgets and
where trials run may change. The outputs of RUN_DIR are replaced by the refined model's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from automl.cli import UsageError

# Options of ``automl fit`` that fix what a search means, with their defaults: --refine
# takes them from the run it refines.
SEARCH_OPTIONS = {
    "task": None,
    "metric": None,
    "cv": "auto",
    "seed": 0,
    "algorithms": None,
    "strategy": "bayesian",
    "configurations": None,
    "outer_cv": None,
    "portfolio": "none",
    "early_stopping": "off",
    "storage": None,
    "study": "automl",
    "resume": False,
    "objectives": None,
    "max_latency_ms": None,
    "max_size_mb": None,
}


def search_settings(model: Any, args: argparse.Namespace, storage: str) -> dict[str, Any]:
    """What ``summary.json`` keeps so that ``--refine`` can run the same search again."""
    spaces = [str(Path(p).resolve()) for p in model.spaces]
    return {
        "task": args.task,
        "metric": args.metric,
        "cv": model.cv,
        "random_state": model.random_state,
        "strategy": model.strategy,
        "algorithms": model.algorithms,
        "spaces": spaces,
        "prune": model.prune,
        "early_stopping": model.early_stopping,
        "storage": storage,
        "study_name": model.study_name,
    }


def read_run(args: argparse.Namespace) -> dict[str, Any]:
    """The summary of the run to refine, after refusing options that would change it."""
    run = Path(args.refine)
    path = run / "summary.json"
    if not path.is_file():
        raise UsageError(
            f"--refine {run}: no {path.name} there; give the --out folder of an 'automl fit'."
        )
    summary = json.loads(path.read_text())
    if summary.get("task") == "clustering":
        raise UsageError(
            f"--refine {run}: refinement is for supervised searches; for clustering, fit again "
            "with a narrower space file (--spaces)."
        )
    if "settings" not in summary or "study" not in summary:
        raise UsageError(
            f"--refine {run}: {path} was written by an older automl without the search's "
            "settings; run 'automl fit' again to refine it."
        )
    changed = [
        "--" + name.replace("_", "-")
        for name, default in SEARCH_OPTIONS.items()
        if getattr(args, name) != default
    ]
    if changed:
        raise UsageError(
            f"--refine continues the search in {run} with its own data, metric, folds and "
            f"seed; {', '.join(changed)} cannot change them. Leave them out (budgets, "
            "--jobs and --executor may change), or start a new search without --refine."
        )
    if args.out != Path("automl-run") and args.out.resolve() != run.resolve():
        raise UsageError(f"--refine writes into {run}; --out {args.out} would be another folder.")
    return summary


def refine_arguments(summary: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`automl.refine` for this run."""
    settings = dict(summary["settings"])
    task = settings.pop("task")
    run = Path(args.refine)
    return {
        "study": summary["study"],
        "task": task,
        # the round's space: the user's edited files, or narrowed and written here
        "space": args.spaces or None,
        "space_dir": None if args.spaces else run / "refined_space",
        **settings,
    }
