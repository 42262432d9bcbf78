"""automl: joint algorithm selection and hyperparameter search with honest estimates."""

from automl import registry
from automl.api import check_space, cluster, fit, list_algorithms, refine
from automl.baselines import baseline
from automl.clusterer import AutoMLClusterer
from automl.estimators import AutoMLClassifier, AutoMLRegressor
from automl.evaluation import metric_names
from automl.exceptions import (
    AllTrialsFailedError,
    AutoMLError,
    AutoMLWarning,
    ClusterError,
    DataValidationError,
    DroppedColumnWarning,
    InvalidParameterError,
    MissingDependencyError,
    SearchSpaceError,
    SkippedAlgorithmWarning,
    StudyInUseError,
    TrialFailedWarning,
    UnknownNameError,
)
from automl.persistence import load_model, save_model
from automl.version import __version__ as __version__

__all__ = [
    "AllTrialsFailedError",
    "AutoMLClassifier",
    "AutoMLClusterer",
    "AutoMLError",
    "AutoMLRegressor",
    "AutoMLWarning",
    "ClusterError",
    "DataValidationError",
    "DroppedColumnWarning",
    "InvalidParameterError",
    "MissingDependencyError",
    "SearchSpaceError",
    "SkippedAlgorithmWarning",
    "StudyInUseError",
    "TrialFailedWarning",
    "UnknownNameError",
    "baseline",
    "check_space",
    "cluster",
    "fit",
    "list_algorithms",
    "load_model",
    "metric_names",
    "refine",
    "registry",
    "save_model",
]
