"""Refinement: the next round of a search, over a space narrowed from the last one's trials.

Rules (what :func:`narrow_study` does with a finished round):

- **Algorithms**: each algorithm's best complete trial is compared with the overall best
  on the same folds by the corrected paired t-test of :mod:`automl.comparison` (one-sided,
  alpha 0.05); an algorithm significantly worse is dropped. With a single holdout there are
  no folds to pair: an algorithm is dropped when its best score is more than
  ``HOLDOUT_TOLERANCE`` (1%) of the best score's size behind it. An algorithm with no
  complete trial is dropped. The best algorithm always stays.
- **Parameters**: of each kept algorithm, its top ``k`` complete trials (by default a
  quarter of them, at least ``MIN_TOP``) give the region; :func:`automl.space.narrowing.narrow_spec`
  says how ranges and choices shrink. An algorithm with fewer than ``MIN_TOP`` complete
  trials keeps its whole space (too few points to say where the good region is).
- **The previous best stays a candidate**: it is the first trial of the new round (the
  same configuration in the narrowed space, scored again on the same folds).

Each round is a new Optuna study in the same storage (``<study>-round-2``, ...), whose
user attributes link it to the round before (:data:`PREVIOUS_STUDY_KEY`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from automl.comparison import compare_to_best
from automl.evaluation import Metric
from automl.exceptions import InvalidParameterError
from automl.search.study import best_trial
from automl.space.loading import load_space
from automl.space.narrowing import ParamChange, base_algorithm, narrow_spec, refined_name
from automl.space.schema import AlgorithmSpec
from automl.space.suggest import from_optuna_params
from automl.space.writing import write_space

# the least number of top trials a range is narrowed around
MIN_TOP = 3
# the share of an algorithm's complete trials that are its top trials
TOP_SHARE = 0.25
# with a single holdout: how far (relative to the best score's size) an algorithm may be
HOLDOUT_TOLERANCE = 0.01
# study user attributes that link the rounds of one search
PREVIOUS_STUDY_KEY = "automl_previous_study"
ROUND_KEY = "automl_round"
SPACE_FILES_KEY = "automl_space_files"


@dataclass
class RefinedSpace:
    """The space of the next round: narrowed specs, what was dropped, what changed.

    ``specs`` maps each kept algorithm's new name (``svm_refined``) to its spec; ``origins``
    maps it back to the name in the round it came from; ``dropped`` names each algorithm
    left out with the reason; ``changes`` lists the narrowed parameters (before, after).
    """

    specs: dict[str, AlgorithmSpec]
    origins: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    changes: list[ParamChange] = field(default_factory=list)
    rule: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per algorithm kept or dropped, and per narrowed parameter."""
        rows: list[dict[str, Any]] = []
        for name, origin in self.origins.items():
            rows.append({"algorithm": origin, "param": "", "before": "", "after": name})
            for c in self.changes:
                if c.algorithm == name:
                    rows.append(
                        {
                            "algorithm": origin,
                            "param": c.param,
                            "before": c.before,
                            "after": c.after,
                        }
                    )
        for name, reason in self.dropped.items():
            rows.append(
                {"algorithm": name, "param": "", "before": "", "after": f"dropped: {reason}"}
            )
        return pd.DataFrame(rows, columns=["algorithm", "param", "before", "after"])

    def describe(self) -> str:
        """Lines a person reads before the round runs."""
        lines = [f"Refined space ({self.rule}):"]
        for name, origin in self.origins.items():
            changed = [c for c in self.changes if c.algorithm == name]
            lines.append(f"  {origin} -> {name}" + ("" if changed else " (space unchanged)"))
            lines += [f"      {c.param}: {c.before}  ->  {c.after}" for c in changed]
        lines += [f"  {name}: dropped, {reason}" for name, reason in self.dropped.items()]
        return "\n".join(lines)

    def save(self, directory: str | Path) -> list[Path]:
        """Write each spec as ``<directory>/<name>.toml`` (loadable with ``spaces=``) and
        point ``specs`` at the files, so the search loads what a person would edit."""
        directory = Path(directory)
        paths = []
        for name, spec in self.specs.items():
            header = (
                f"Narrowed by automl from {self.origins[name]!r} ({self.rule}).\n"
                "Edit it and pass it with spaces= (CLI: --spaces) to search your version."
            )
            path = write_space(spec, directory / f"{name}.toml", header)
            self.specs[name] = load_space(path)
            paths.append(path)
        return paths

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> RefinedSpace:
        """A space a person wrote or edited: every file's algorithm, nothing narrowed here."""
        specs = {spec.name: spec for spec in (load_space(p) for p in paths)}
        if not specs:
            raise InvalidParameterError("spaces= names no space file to refine with.")
        origins = {name: base_algorithm(name) for name in specs}
        return cls(specs, origins, rule="space files given by the user")


def narrow_study(
    study: optuna.Study,
    specs: Mapping[str, AlgorithmSpec],
    metric: Metric,
    task: str,
    test_train_ratio: float,
    top_k: int | None = None,
) -> RefinedSpace:
    """The space for the round after ``study`` (see the module docstring for the rules)."""
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise InvalidParameterError(f"top_k must be a positive integer or None; got {top_k!r}.")
    by_algorithm = _complete_by_algorithm(study, metric)
    if not by_algorithm:
        raise InvalidParameterError(
            f"Study {study.study_name!r} has no complete trial to refine from."
        )
    best_algorithm = max(by_algorithm, key=lambda a: _sign(metric) * by_algorithm[a][0].value)
    n_folds = len(by_algorithm[best_algorithm][0].user_attrs.get("fold_scores", []))
    keep, dropped, rule = _kept_algorithms(
        by_algorithm, best_algorithm, metric, n_folds, test_train_ratio
    )
    for name in specs:
        if name not in by_algorithm:
            dropped[name] = "no complete trial in the last round"
    space = RefinedSpace({}, {}, dropped, rule=rule)
    for algorithm in keep:
        trials = by_algorithm[algorithm]
        k = top_k or max(MIN_TOP, math.ceil(TOP_SHARE * len(trials)))
        configs = [from_optuna_params(t.params)[1] for t in trials[:k]]
        if len(trials) < MIN_TOP and top_k is None:
            spec, changes = narrow_spec(specs[algorithm], task, [], {})  # renamed only
        else:
            spec, changes = narrow_spec(specs[algorithm], task, configs, configs[0])
        space.specs[spec.name] = spec
        space.origins[spec.name] = algorithm
        space.changes += changes
    return space


def _complete_by_algorithm(study: optuna.Study, metric: Metric) -> dict[str, list[Any]]:
    """Complete trials per algorithm, best first."""
    out: dict[str, list[Any]] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if "algorithm" in t.params and t.value is not None and np.isfinite(t.value):
            out.setdefault(t.params["algorithm"], []).append(t)
    for trials in out.values():
        trials.sort(key=lambda t: -_sign(metric) * t.value)
    return out


def _sign(metric: Metric) -> float:
    """Study values are in the study's direction; +1 where greater is better."""
    return 1.0 if metric.direction == "maximize" else -1.0


def _kept_algorithms(
    by_algorithm: dict[str, list[Any]],
    best: str,
    metric: Metric,
    n_folds: int,
    test_train_ratio: float,
) -> tuple[list[str], dict[str, str], str]:
    """The algorithms that stay, those dropped with the reason, and the rule in words."""
    bests = {a: trials[0] for a, trials in by_algorithm.items()}
    dropped: dict[str, str] = {}
    if n_folds >= 2:
        folds = {a: t.user_attrs["fold_scores"] for a, t in bests.items()}
        result = compare_to_best(folds, best, test_train_ratio, metric.greater_is_better)
        for row in result["rows"]:
            if row["worse"]:
                dropped[row["algorithm"]] = (
                    f"significantly worse than {best} on the same folds (p = {row['p']:.3g})"
                )
        rule = "algorithms significantly worse than the best dropped: corrected paired t-test"
    else:
        scores = {
            a: float(np.mean(t.user_attrs.get("fold_scores", [np.nan]))) for a, t in bests.items()
        }
        size = abs(scores[best]) or 1.0
        for a, score in scores.items():
            gap = (scores[best] - score) * (1 if metric.greater_is_better else -1)
            if gap > HOLDOUT_TOLERANCE * size:
                dropped[a] = f"{gap:.4g} behind {best} on the holdout (more than 1%)"
        rule = "single holdout: algorithms more than 1% behind the best dropped"
    keep = [a for a in bests if a not in dropped]
    return keep, dropped, rule


def previous_best(study: optuna.Study) -> tuple[str, dict[str, Any]]:
    """The best trial's algorithm and sampled configuration, named for the next round."""
    algorithm, config = from_optuna_params(best_trial(study).params)
    return refined_name(algorithm), config


def round_chain(study: optuna.Study, storage: str | None) -> list[optuna.Study]:
    """``study`` and the rounds before it, oldest first (followed through the storage)."""
    chain = [study]
    while storage is not None and PREVIOUS_STUDY_KEY in chain[0].user_attrs:
        name = chain[0].user_attrs[PREVIOUS_STUDY_KEY]
        chain.insert(0, optuna.load_study(study_name=name, storage=storage))
    return chain


def round_study_name(base: str, round_number: int) -> str:
    """``automl`` -> ``automl-round-2``: the study of a refinement round."""
    return f"{base}-round-{round_number}"


def joined_leaderboard(boards: Sequence[pd.DataFrame], metric: Metric) -> pd.DataFrame:
    """The leaderboards of every round in one table, best first, with a ``round`` column."""
    frames = [board.assign(round=i + 1) for i, board in enumerate(boards)]
    joined = pd.concat(frames, ignore_index=True)
    columns = list(joined.columns)
    columns.insert(1, columns.pop(columns.index("round")))
    return joined[columns].sort_values(
        metric.name,
        ascending=not metric.greater_is_better,
        na_position="last",
        kind="stable",
        ignore_index=True,
    )


def rounds_table(studies: Sequence[optuna.Study], metric: Metric) -> pd.DataFrame:
    """One row per round: its study, trials, algorithms searched and best trial."""
    rows = []
    for i, study in enumerate(studies):
        trials = [t for t in study.get_trials(deepcopy=False) if "algorithm" in t.params]
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = max(complete, key=lambda t: _sign(metric) * (t.value or 0.0)) if complete else None
        rows.append(
            {
                "round": i + 1,
                # an in-memory study's name is Optuna's generated "no-name-<uuid>"
                "study": "in memory"
                if study.study_name.startswith("no-name-")
                else study.study_name,
                "trials": len(trials),
                "complete": len(complete),
                "algorithms": ", ".join(sorted({t.params["algorithm"] for t in trials})),
                "best_algorithm": None if best is None else best.params["algorithm"],
                metric.name: np.nan if best is None else float(best.value or np.nan),
            }
        )
    return pd.DataFrame(rows)
