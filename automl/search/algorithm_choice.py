"""Which algorithm the next trial tries: the one expected to improve soonest, for its cost.

TPE picks the algorithm like any categorical parameter: by how often it sits among the
best trials, blind to what a trial of it costs, and with a prior that keeps giving every
algorithm a share. On a 50,000-row data set one random-forest trial costs ten of
LightGBM's, and an algorithm far from the best keeps its share.

This follows FLAML's learner choice (Wang et al., "FLAML: A Fast and Lightweight AutoML
Library", MLSys 2021, section 4): each algorithm gets an *estimated cost for improvement*
(ECI), and the next trial's algorithm is drawn with probability proportional to 1 / ECI.
The parameters within the algorithm stay TPE's.

Costs are the trials' measured seconds when the search has a time budget: the declared
relative ``cost`` of a space file cannot know that k-nearest neighbours on 40,000 rows
spends ten seconds predicting one fold. Measured times differ from run to run, so under a
time budget the same seed may try other algorithms; without one (``n_trials`` only) the
costs are the declared ones per trial (a pruned trial counts the share of folds it ran)
and the same seed gives the same trials.

For an algorithm with trials costing ``K0`` in all, whose best was found when ``K1`` had been
spent on it and its previous best at ``K2`` (0 if none):

- ``ECI1 = max(K0 - K1, K1 - K2, cost)``: what finding its next improvement should take.
- The algorithm of the best trial: ``ECI = ECI1``.
- Any other: ``ECI = max(ECI1, gap / speed)``, the cost of closing its gap to the best
  at its own speed of improvement (``(best - previous best) / (K1 - K2)``), or while it
  has improved only once, at ``(its best - the worst algorithm's first score) / K0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.space.suggest import ALGORITHM_KEY

ALGORITHM_CHOICES = ("cost", "tpe")

# A floor on an algorithm's speed of improvement (score per cost unit), so that the worst
# algorithm gets a tiny share rather than none.
SLOWEST = 1e-9

# An algorithm whose last this many trials failed gets no more (the driver drops it too).
FAILURES_TO_STOP = 3


@dataclass
class _History:
    """One algorithm's trials so far, in cost units."""

    cost: float
    spent: float = 0.0
    trials: int = 0
    failures_in_a_row: int = 0
    # (cost spent when found, score) of each new best of this algorithm, in order
    improvements: list[tuple[float, float]] = field(default_factory=list)


def estimated_costs(
    trials: list[FrozenTrial],
    costs: dict[str, float],
    maximize: bool,
    n_folds: int,
    measured: bool = False,
) -> dict[str, float] | None:
    """The ECI of every algorithm in ``costs`` (see the module docs), or None while one of
    them has no finished trial yet (the opening phase: TPE's choice stands).

    ``measured``: a trial costs its seconds (start to end), else its algorithm's declared
    cost (times the share of folds it ran, if pruned).
    """
    history = {name: _History(cost) for name, cost in costs.items()}
    sign = 1.0 if maximize else -1.0
    for t in sorted(trials, key=lambda t: t.number):
        h = history.get(t.params.get(ALGORITHM_KEY, ""))
        finished = t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        if h is None or not finished or "skipped" in t.user_attrs:
            continue  # a skipped trial never ran: it costs nothing and says nothing
        h.trials += 1
        if measured:
            h.spent += _seconds(t)
        elif t.state == TrialState.PRUNED:
            h.spent += h.cost * len(t.user_attrs.get("fold_scores", [])) / n_folds
        else:
            h.spent += h.cost
        if t.state == TrialState.PRUNED:
            h.failures_in_a_row = 0
            continue
        if t.state == TrialState.FAIL:
            h.failures_in_a_row += 1
            continue
        h.failures_in_a_row = 0
        score = sign * float(t.value)  # type: ignore[arg-type]
        if not h.improvements or score > h.improvements[-1][1]:
            h.improvements.append((h.spent, score))
    if any(h.spent == 0 for h in history.values()):
        return None  # (a trial measured at exactly 0 s would count as not run: harmless)
    scored = {name: h for name, h in history.items() if h.improvements}
    if not scored:
        return None
    leader = max(scored, key=lambda name: scored[name].improvements[-1][1])
    best = scored[leader].improvements[-1][1]
    worst = min(h.improvements[0][1] for h in scored.values())
    out: dict[str, float] = {}
    for name, h in history.items():
        if not h.improvements or h.failures_in_a_row >= FAILURES_TO_STOP:
            continue
        k1 = h.improvements[-1][0]
        k2 = h.improvements[-2][0] if len(h.improvements) > 1 else 0.0
        # at least one trial of it: its mean measured seconds, or its declared cost
        eci = max(h.spent - k1, k1 - k2, h.spent / h.trials if measured else h.cost)
        if name != leader:
            # its own speed, or while it has improved once, its lead over the worst
            # algorithm's first score per cost spent on it (FLAML's fallback, relative to
            # the worst score instead of a loss of 0: scores here have no natural zero)
            best_own = h.improvements[-1][1]
            speed = _speed(h) or (best_own - worst) / h.spent
            eci = max(eci, (best - best_own) / max(speed, SLOWEST))
        out[name] = eci
    # No complete trial yet (failed or pruned so far): never preferred to one that scored;
    # none at all after FAILURES_TO_STOP failures in a row.
    slowest = max(out.values(), default=1.0)
    for name, h in history.items():
        if name not in out:
            out[name] = (
                np.inf if h.failures_in_a_row >= FAILURES_TO_STOP else max(2 * h.spent, slowest)
            )
    return out


def _seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return 0.0
    return max((trial.datetime_complete - trial.datetime_start).total_seconds(), 1e-3)


def _speed(h: _History) -> float | None:
    """Improvement per cost unit between the last two improvements (None with fewer)."""
    if len(h.improvements) < 2:
        return None
    (k2, previous), (k1, best) = h.improvements[-2:]
    return (best - previous) / (k1 - k2) if k1 > k2 else None


class CostAwareSampler(optuna.samplers.BaseSampler):
    """A sampler that draws the algorithm by ECI and leaves everything else to ``base``.

    Parameters
    ----------
    base : the sampler of the algorithm's own parameters (TPE).
    costs : the declared relative cost of a trial of each candidate algorithm.
    n_folds : folds per trial (a pruned trial's cost is its share of them).
    seed : the draws are seeded by ``seed`` and the trial number.
    measured : costs in measured seconds (a search with a time budget), not declared.
    """

    def __init__(
        self,
        base: optuna.samplers.BaseSampler,
        costs: dict[str, float],
        n_folds: int,
        seed: int | None,
        measured: bool = False,
    ) -> None:
        self._base, self._costs, self._n_folds, self._seed = base, dict(costs), n_folds, seed
        self._measured = measured

    def _choose(self, study: optuna.Study, trial: FrozenTrial) -> str | None:
        trials = study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        )
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        eci = estimated_costs(trials, self._costs, maximize, self._n_folds, self._measured)
        if eci is None:
            return None
        names = [n for n in self._costs if np.isfinite(eci[n])]
        if not names:
            return None
        weights = np.array([1.0 / eci[n] for n in names])
        rng = np.random.default_rng([self._seed or 0, trial.number])
        return str(rng.choice(names, p=weights / weights.sum()))

    # -- the sampler interface: the algorithm is ours, the rest the base sampler's ---------
    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, optuna.distributions.BaseDistribution]:
        return self._base.infer_relative_search_space(study, trial)

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, optuna.distributions.BaseDistribution],
    ) -> dict[str, Any]:
        params = self._base.sample_relative(study, trial, search_space)
        if ALGORITHM_KEY in params:
            choice = self._choose(study, trial)
            if choice is not None:
                params[ALGORITHM_KEY] = choice
        return params

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: optuna.distributions.BaseDistribution,
    ) -> Any:
        if param_name == ALGORITHM_KEY:
            choice = self._choose(study, trial)
            if choice is not None:
                return choice
        return self._base.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._base.before_trial(study, trial)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._base.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._base.reseed_rng()
