"""AutoMLClusterer: the search without a target (see :mod:`automl.cluster_trial`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import ClusterMixin
from sklearn.utils.validation import check_is_fitted

from automl.cluster_scores import n_clusters, small_as_noise
from automl.cluster_trial import null_reference
from automl.data import validate_data
from automl.ensemble import DEFAULT_SIZE as ENSEMBLE_SIZE
from automl.estimators import AutoMLBase, check_predict_input
from automl.evaluation import search_seeds
from automl.exceptions import DataValidationError, InvalidParameterError
from automl.execution import warm_up
from automl.search import SearchProgress


class AutoMLClusterer(ClusterMixin, AutoMLBase):
    """Search clustering algorithms and their hyperparameters jointly, without labels.

    Each trial picks an algorithm (k-means, Gaussian mixture, agglomerative, DBSCAN,
    HDBSCAN, spectral), its parameters and its preprocessing (imputer, scaler, an optional
    PCA), fits it on all rows and is scored in one reference space shared by all trials
    (see :mod:`automl.cluster_scores`): by default DBCV, a density-based validity index that
    rates clusters of any shape, with silhouette, Calinski-Harabasz, Davies-Bouldin and
    stability (agreement with fits on subsamples) alongside. There are no folds; the
    subsamples of the stability score take their place (see :mod:`automl.cluster_trial`).
    After the search the best configuration is compared with fits on uniform data in the
    same box (``null_reference_``): a clustering algorithm always returns clusters, and only
    that comparison says whether the data has any.

    Parameters
    ----------
    metric : {"dbcv", "silhouette", "calinski_harabasz", "davies_bouldin", "stability"}
        The objective (default ``"dbcv"``).
    time_budget, n_trials, strategy, algorithms, spaces, configurations, column_kinds,
    n_jobs, executor, scheduler, trial_time_limit, memory_limit, callbacks, storage,
    study_name, resume, random_state
        As for :class:`AutoMLClassifier`.

    Attributes
    ----------
    labels_ : ndarray
        The cluster of every row of the data fitted on (-1: noise, for DBSCAN/HDBSCAN).
    n_clusters_ : int
        The clusters that count: those holding at least 1% of the rows. Smaller groups
        (a few outlying rows split off) stay in ``labels_`` but the scores count them as
        noise.
    best_pipeline_, best_algorithm_, best_params_, best_score_, leaderboard_, study_
        As for :class:`AutoMLClassifier`; ``leaderboard_`` has every score of every trial
        (``n_clusters``, ``noise_share``, ``dbcv``, ``silhouette``, ...).
    null_reference_ : dict
        The best configuration's score on the data and on uniform data (mean, std),
        ``structure`` (True when the data's beats the null by more than two standard
        deviations) and the ``verdict`` in words.
    external_scores_ : dict or None
        With ``fit(X, evaluate_with=labels)``: adjusted Rand index and normalised mutual
        information of ``labels_`` against those labels (never used by the search).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from automl import AutoMLClusterer
    >>> X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> model = AutoMLClusterer(n_trials=6, time_budget=None, random_state=0,
    ...                         algorithms=["kmeans"]).fit(X)
    >>> model.labels_.shape
    (300,)
    """

    # supervised settings that have no meaning here (not parameters: get_params omits them)
    cv = "auto"
    prune = False
    outer_cv = None
    ensemble = False
    ensemble_size = ENSEMBLE_SIZE  # unused: no ensemble of clusterings
    portfolio = False
    early_stopping = False
    objectives = None
    constraints = None

    def __init__(
        self,
        *,
        time_budget: float | None = 60.0,
        n_trials: int | None = None,
        metric: str | None = None,
        strategy: str = "bayesian",
        algorithms: Sequence[str] | None = None,
        spaces: Sequence[str] = (),
        configurations: Sequence[Mapping[str, Any]] | None = None,
        column_kinds: Mapping[str, str] | None = None,
        n_jobs: int = 1,
        executor: str = "processes",
        scheduler: str | None = None,
        trial_time_limit: float | None = None,
        memory_limit: float | None = None,
        callbacks: Sequence[Callable[[SearchProgress], Any]] | None = None,
        storage: str | None = None,
        study_name: str = "automl",
        resume: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.time_budget = time_budget
        self.n_trials = n_trials
        self.metric = metric
        self.strategy = strategy
        self.algorithms = algorithms
        self.spaces = spaces
        self.configurations = configurations
        self.column_kinds = column_kinds
        self.n_jobs = n_jobs
        self.executor = executor
        self.scheduler = scheduler
        self.trial_time_limit = trial_time_limit
        self.memory_limit = memory_limit
        self.callbacks = callbacks
        self.storage = storage
        self.study_name = study_name
        self.resume = resume
        self.random_state = random_state

    def _task_argument(self) -> str | None:
        return "clustering"

    def fit(self, X: Any, y: Any = None, *, evaluate_with: Any = None):  # type: ignore[override]
        """Search clusterings of X; ``y`` is ignored (scikit-learn's convention).

        ``evaluate_with``: labels you already have, compared with ``labels_`` afterwards
        (``external_scores_``) and never seen by the search.
        """
        started = time.monotonic()
        if self.executor == "processes" and self.scheduler is None:
            warm_up()
        frame, y_arr, profile = validate_data(X, task="clustering", column_kinds=self.column_kinds)
        truth = _check_evaluation_labels(evaluate_with, len(frame))
        self._fit_validated(frame, y_arr, profile, None, started, None)
        data = frame.to_numpy() if profile.from_array else frame
        model = self.best_pipeline_.steps[-1][1]
        labels = getattr(model, "labels_", None)
        if labels is None or len(labels) != len(frame):
            labels = self.best_pipeline_.predict(data)
        self.labels_ = np.asarray(labels)
        self.n_clusters_ = n_clusters(small_as_noise(self.labels_))
        reference = self.__dict__.pop("_clustering_reference")
        metric = self._metric("clustering")
        self.null_reference_ = null_reference(
            self.best_pipeline_,
            reference,
            metric.name,
            metric.greater_is_better,
            search_seeds(self.random_state).estimator,
            deadline=None if self.time_budget is None else started + self.time_budget,
        )
        self.external_scores_ = None if truth is None else _external_scores(self.labels_, truth)
        self.fit_time_ = time.monotonic() - started
        return self

    def refine(self, *args: Any, **kwargs: Any):
        """Not for clustering yet: a refined round would also need its labels and null
        reference recomputed. Pass narrower space files with ``spaces=`` to a new fit."""
        raise InvalidParameterError(
            "refine() is for supervised searches; for clustering, write a narrower space "
            "file (automl space kmeans > mine.toml, then edit it) and fit again with "
            "spaces=['mine.toml'], algorithms=['mine']."
        )

    def select(self, *args: Any, **kwargs: Any):
        """Not for clustering: latency and size are not measured for clusterings."""
        raise InvalidParameterError(
            "select() picks by measured predict latency and model size, which a clustering "
            "search does not measure; see leaderboard_ for every trial's scores."
        )

    def predict(self, X: Any) -> np.ndarray:
        """The cluster of new rows, for algorithms that assign them (k-means, Gaussian
        mixture); DBSCAN, HDBSCAN, agglomerative and spectral clustering do not."""
        check_is_fitted(self, "best_pipeline_")
        model = self.best_pipeline_.steps[-1][1]
        if not hasattr(model, "predict"):
            raise InvalidParameterError(
                f"The chosen algorithm ({self.best_algorithm_}, {type(model).__name__}) does "
                "not assign new rows to clusters: it has no predict. labels_ holds the "
                "clusters of the rows it was fitted on (fit_predict returns them); to cluster "
                "new rows, search with algorithms=['kmeans', 'gaussian_mixture']."
            )
        return self.best_pipeline_.predict(check_predict_input(X))


def _check_evaluation_labels(labels: Any, n_rows: int) -> np.ndarray | None:
    if labels is None:
        return None
    values = np.asarray(labels)
    if values.ndim != 1 or len(values) != n_rows:
        raise DataValidationError(
            f"evaluate_with must hold one label per row of X ({n_rows}); got shape {values.shape}."
        )
    return values


def _external_scores(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "adjusted_rand": float(adjusted_rand_score(truth, labels)),
        "normalized_mutual_info": float(normalized_mutual_info_score(truth, labels)),
    }
