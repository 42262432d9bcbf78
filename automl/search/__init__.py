"""The search: an Optuna study driven by ask/tell, its budget clock, and the final refit.

- :mod:`automl.search.loop`: the driver loop (ask, submit to an executor, tell);
- :mod:`automl.search.study`: sampler, storage and the pruning rule;
- :mod:`automl.search.clock`: the deadline and expected durations;
- :mod:`automl.search.refit`: the best configuration on all rows, within the budget;
- :mod:`automl.search.final`: the final model, an ensemble of the best trials or the best;
- :mod:`automl.search.pool`: the best trials' out-of-fold predictions, for the ensemble;
- :mod:`automl.search.progress`: what a running search publishes.
"""

from automl.search.final import fit_final
from automl.search.loop import STRATEGIES, Search, SearchOutcome, SearchSettings
from automl.search.progress import SearchProgress, progress_logger
from automl.search.refit import ALL_ROWS, FinalModel, refit_best

__all__ = [
    "ALL_ROWS",
    "STRATEGIES",
    "FinalModel",
    "Search",
    "SearchOutcome",
    "SearchProgress",
    "SearchSettings",
    "fit_final",
    "progress_logger",
    "refit_best",
]
