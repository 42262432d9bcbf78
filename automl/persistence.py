"""Saved models: the fitted pipeline plus the metadata that makes predictions safe.

A model file (``.automl``) is a zip archive with two members:

- ``pipeline.skops``: the fitted scikit-learn Pipeline in skops format. Unlike pickle,
  loading it does not run arbitrary code: only types on an allow-list are rebuilt. The
  allow-list is what automl's preprocessing holds plus the ``trusted_types`` that the
  space files of the algorithms in this file declare (looked up in the registry here, never
  read from the file itself), so installing a plugin widens it only for that plugin's
  models. A file holding anything else is refused unless the caller explicitly trusts those
  types.
- ``metadata.json``: format version, library versions, task, target name, class labels, the
  feature schema (names, order, kinds, dtypes, category sets), the algorithms the pipeline
  holds, metric and CV estimate.

Loading warns when installed library versions differ from those that saved the model.
Predicting checks the schema first: missing columns and incompatible dtypes are errors
naming the column; extra columns are ignored with a note.
"""

from __future__ import annotations

import json
import logging
import platform
import warnings
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import metadata as importlib_metadata
from operator import methodcaller
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.exceptions import AutoMLWarning, DataValidationError, InvalidParameterError
from automl.preprocessing import CATEGORY_CONVERSIONS, DURATION_CONVERSION
from automl.registry import load_registry
from automl.space.narrowing import base_algorithm
from automl.space.schema import AlgorithmSpec

logger = logging.getLogger("automl.persistence")

FORMAT_VERSION = 1
# Libraries whose versions every model file records; the libraries an algorithm ``requires``
# are recorded too, for the algorithms the file uses.
VERSIONED_LIBRARIES = ("automl", "scikit-learn", "numpy", "pandas", "skops")
# Category values kept per column in the schema (for the predict-time check and reports).
MAX_CATEGORIES_KEPT = 1000
# What save_model takes, measured on this project's 2-core machines: a few ms to 0.1 s.
EXPECTED_SAVE_SECONDS = 0.1

# What automl's own pipeline parts hold beyond skops' defaults, in every pipeline that has
# them: the preprocessing (skrub's date features among it), the decision-threshold
# tuning for f1 and mcc (a scorer and its metric function), and the ensemble's vote. Each
# algorithm declares the types of its fitted estimator in its space file
# (``trusted_types``); a test saves one pipeline of every registered algorithm.
PIPELINE_TYPES = (
    "numpy.dtype",
    "operator.methodcaller",
    "sklearn.utils.validation.check_array",
    "sklearn.metrics._classification.f1_score",
    "sklearn.metrics._classification.matthews_corrcoef",
    "sklearn.metrics._scorer._CurveScorer",
    "sklearn.metrics._scorer._Scorer",
    "sklearn.utils._metadata_requests.MetadataRequest",
    "sklearn.utils._metadata_requests.MethodMetadataRequest",
    "numpy.timedelta64",
    "skrub._apply_to_cols.ApplyToCols",
    "skrub._apply_to_each_col.ApplyToEachCol",
    "skrub._datetime_encoder.DatetimeEncoder",
    "skrub.selectors._base.All",
    # an ensemble: a VotingClassifier/VotingRegressor over FrozenEstimator members (both
    # trusted by skops) keeps its members by name in a Bunch
    "sklearn.utils._bunch.Bunch",
)
# A method call by name could call any method of the data at predict time, so a loaded
# pipeline may hold only the ones automl's preprocessing makes (checked before it is used).
ALLOWED_METHOD_CALLS = frozenset(
    repr(call) for call in (*CATEGORY_CONVERSIONS, DURATION_CONVERSION)
)


class ModelVersionWarning(AutoMLWarning):
    """The model was saved with other library versions than those installed."""


@dataclass
class SavedModel:
    """A loaded model file: the pipeline, its metadata, and schema-checked prediction."""

    pipeline: Any
    metadata: dict[str, Any]

    @property
    def task(self) -> str:
        return self.metadata["task"]

    def check_frame(self, frame: Any) -> pd.DataFrame:
        """The columns the model needs, in its order, after checking names and dtypes."""
        schema = self.metadata["features"]
        names = [c["name"] for c in schema]
        if not isinstance(frame, pd.DataFrame):  # an array: columns in the order of fit
            frame = _array_frame(frame, names)
        missing = [n for c, n in zip(schema, names) if n not in frame.columns and not c["dropped"]]
        if missing:
            raise DataValidationError(
                f"The data lacks {len(missing)} column(s) the model needs: {missing[:10]}"
                f"{' ...' if len(missing) > 10 else ''}. Add them (values may be missing) and "
                "keep their names as at fit time."
            )
        extra = [c for c in frame.columns if c not in set(names)]
        if extra:
            logger.info(
                "Ignoring %d column(s) the model was not fitted on: %s", len(extra), extra[:10]
            )
        out = frame.reindex(columns=names)
        for column in schema:
            if column["dropped"]:
                continue
            out[column["name"]] = _check_column(out[column["name"]], column)
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        model = self.pipeline.steps[-1][1] if self.task == "clustering" else self.pipeline
        if not hasattr(model, "predict"):  # DBSCAN, HDBSCAN, agglomerative, spectral
            raise InvalidParameterError(
                f"This clustering model ({type(model).__name__}) does not assign new rows to "
                "clusters; the clusters of the rows it was fitted on are in clusters.csv next "
                "to the model file (labels_ in Python). Search with --algorithms "
                "kmeans,gaussian_mixture for a model that does."
            )
        return self.pipeline.predict(self.check_frame(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        if self.task in ("regression", "clustering"):
            raise InvalidParameterError(
                f"Probabilities exist only for classification models; this model does {self.task}."
            )
        return self.pipeline.predict_proba(self.check_frame(frame))


def save_model(model: Any, frame: Any, path: str | Path) -> Path:
    """Save a fitted AutoMLClassifier/AutoMLRegressor with the schema of ``frame`` (its X)."""
    import skops.io as sio

    path = Path(path)
    profile = model.profile_
    meta = {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "python": platform.python_version(),
            **_versions(VERSIONED_LIBRARIES + _required_libraries(model)),
        },
        "task": profile.task,
        "target": profile.target_name,
        "classes": [_plain(c) for c in profile.classes],
        "features": _schema(
            frame if isinstance(frame, pd.DataFrame) else _array_frame(frame, profile.columns),
            profile,
        ),
        "metric": model.metric_,
        "best_algorithm": model.best_algorithm_,
        # whose declared types loading trusts (each member of an ensemble)
        "algorithms": _algorithms(model),
        "ensemble": _ensemble_members(model),
        "best_params": {k: _plain(v) for k, v in model.best_params_.items()},
        "cv_score": model.best_score_,
        "cv_folds": model.n_splits_,
        "nested_cv": (
            None
            if getattr(model, "nested_cv_", None) is None
            else {k: v for k, v in model.nested_cv_.to_dict().items() if k != "folds"}
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pipeline.skops", sio.dumps(model.best_pipeline_))
        archive.writestr("metadata.json", json.dumps(meta, indent=2, default=_plain))
    return path


def load_model(
    path: str | Path, trusted: tuple[str, ...] = (), spaces: tuple[str | Path, ...] = ()
) -> SavedModel:
    """Load a model file.

    Trusted on load: automl's preprocessing types and those declared by the algorithms the
    file uses (built-in, installed plugins, or the space files in ``spaces``). ``trusted``
    adds types by name; only for files you trust.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file.")
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("metadata.json"))
            data = archive.read("pipeline.skops")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DataValidationError(
            f"{path}: not an automl model file ({exc}). Model files are written by "
            "'automl fit' or automl.save_model."
        ) from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise DataValidationError(
            f"{path}: model format version {meta.get('format_version')!r}; "
            f"this automl reads version {FORMAT_VERSION}."
        )
    algorithms = [str(a) for a in meta.get("algorithms") or [meta.get("best_algorithm")]]
    registry = load_registry(spaces)
    declared = {t for name in algorithms for t in _declared_types(name, registry)}
    allowed = set(PIPELINE_TYPES) | declared | set(trusted)
    unknown = sorted(set(sio.get_untrusted_types(data=data)) - allowed)
    if unknown:
        unregistered = [name for name in algorithms if _spec(name, registry) is None]
        hint = (
            f" The algorithm(s) {unregistered} are not registered here: install the plugin "
            "that provides them, or pass their space files with spaces=[...] (CLI: --spaces)."
            if unregistered
            else ""
        )
        raise DataValidationError(
            f"{path}: the model contains types that neither automl's preprocessing nor the "
            f"space files of the algorithms it uses ({algorithms}) declare: {unknown}. "
            f"Refusing to load them.{hint} If you made this file yourself, pass "
            "trusted=[...] (CLI: --trust TYPE) with these names."
        )
    pipeline = sio.loads(data, trusted=sorted(allowed))
    calls = sorted({repr(c) for c in _method_calls(pipeline)} - ALLOWED_METHOD_CALLS)
    if calls:  # built, never called: refusing here is in time
        raise DataValidationError(
            f"{path}: the model holds method calls automl's preprocessing never makes: "
            f"{calls}. Refusing to use it; automl makes only {sorted(ALLOWED_METHOD_CALLS)}."
        )
    _warn_on_version_mismatch(path, meta.get("versions", {}))
    return SavedModel(pipeline, meta)


def _spec(algorithm: str, registry: dict[str, AlgorithmSpec]) -> AlgorithmSpec | None:
    """The algorithm's spec; a refined space (``svm_refined``) declares what its origin
    does (narrowing changes ranges, never the estimator), so the origin's spec stands in
    when the refined file is not passed."""
    return registry.get(algorithm) or registry.get(base_algorithm(algorithm))


def _declared_types(algorithm: str, registry: dict[str, AlgorithmSpec]) -> tuple[str, ...]:
    spec = _spec(algorithm, registry)
    return () if spec is None else spec.trusted_types


def _algorithms(model: Any) -> list[str]:
    """The algorithms in the final model: the best, or every member of the ensemble."""
    members = getattr(model, "ensemble_", None)
    if members is None:
        return [model.best_algorithm_]
    return sorted(set(members["algorithm"]))


def _ensemble_members(model: Any) -> list[dict[str, Any]] | None:
    members = getattr(model, "ensemble_", None)
    if members is None:
        return None
    return [
        {"trial": int(r.trial), "algorithm": r.algorithm, "weight": float(r.weight)}
        for r in members.itertuples()
    ]


def _required_libraries(model: Any) -> tuple[str, ...]:
    """The distributions that provide the modules the model's algorithms ``require``."""
    registry = load_registry(getattr(model, "spaces", None) or ())
    found = [_spec(a, registry) for a in _algorithms(model)]
    specs = [spec for spec in found if spec is not None]
    names: set[str] = set()
    for module in sorted({m for spec in specs for m in spec.requires}):
        try:  # usually the distribution has the module's name (lightgbm, xgboost, catboost)
            importlib_metadata.version(module)
            names.add(module)
        except importlib_metadata.PackageNotFoundError:  # scanning every one takes ~0.4 s
            names.update(importlib_metadata.packages_distributions().get(module, [module]))
    return tuple(sorted(names))


def _method_calls(root: Any) -> list[methodcaller]:
    """Every ``operator.methodcaller`` reachable from ``root`` (attributes, containers)."""
    found, seen, todo = [], set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(obj))
        if isinstance(obj, methodcaller):
            found.append(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                todo.extend(obj.ravel().tolist())
        elif isinstance(obj, partial):
            todo.extend([obj.func, obj.args, obj.keywords])
        elif hasattr(obj, "__dict__"):
            todo.extend(vars(obj).values())
    return found


def _versions(libraries: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in libraries:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _warn_on_version_mismatch(path: Path, saved: dict[str, str]) -> None:
    now = _versions(tuple(k for k in saved if k != "python"))
    differ = {k: (v, now[k]) for k, v in saved.items() if k in now and now[k] != v}
    if differ:
        text = ", ".join(f"{k} {old} (now {new})" for k, (old, new) in differ.items())
        warnings.warn(
            f"{path} was saved with {text}; predictions may differ or fail. Refit with "
            "the installed versions to be sure.",
            ModelVersionWarning,
            stacklevel=3,
        )


def _array_frame(values: Any, names: Any) -> pd.DataFrame:
    array = np.asarray(values)
    if array.ndim != 2 or array.shape[1] != len(names):
        raise DataValidationError(
            f"Expected a 2-D array with {len(names)} columns (the model's features, in the "
            f"order of fit); got shape {array.shape}."
        )
    return pd.DataFrame(array, columns=list(names))


def _schema(frame: pd.DataFrame, profile: Any) -> list[dict[str, Any]]:
    kinds = profile.kinds
    schema = []
    for name in profile.columns:
        column = frame[name]
        entry: dict[str, Any] = {
            "name": name,
            "kind": kinds.get(name),
            "dtype": str(column.dtype),
            "dropped": name in profile.dropped,
        }
        if kinds.get(name) == "categorical":
            values = pd.unique(column.dropna())
            entry["categories"] = sorted((_plain(v) for v in values[:MAX_CATEGORIES_KEPT]), key=str)
            entry["category_type"] = _category_type(column)
        schema.append(entry)
    return schema


def _category_type(column: pd.Series) -> str:
    """What a categorical column held at fit time: text, booleans or numbers."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    return "numeric" if pd.api.types.is_numeric_dtype(column) else "text"


def _check_column(values: pd.Series, column: dict[str, Any]) -> pd.Series:
    name = column["name"]
    if column["kind"] in ("datetime", "duration"):
        return _as_time(values, column)
    if column["kind"] == "numeric":
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return values
        converted = pd.to_numeric(values, errors="coerce")
        bad = converted.isna() & values.notna()
        if bad.any():
            raise DataValidationError(
                f"Column {name!r} must be numeric (it was {column['dtype']} at fit time) but holds "
                f"values such as {values[bad].iloc[0]!r}. Convert it or mark unknowns as missing."
            )
        return converted
    if (
        column.get("category_type") == "text"
        and pd.api.types.is_numeric_dtype(values)
        and values.notna().any()
    ):
        raise DataValidationError(
            f"Column {name!r} held text categories at fit time (e.g. "
            f"{column['categories'][:3]}) but now holds numbers ({values.dtype}). Pass the same "
            "kind of values as in training."
        )
    if column.get("category_type") == "text" and values.dtype != object:
        return values.astype(object).where(values.notna(), None)
    return values


def _as_time(values: pd.Series, column: dict[str, Any]) -> pd.Series:
    """Dates or durations as at fit time; text (as read from CSV or JSON) is parsed."""
    dates = column["kind"] == "datetime"
    zone = column["dtype"].rstrip("]").partition(", ")[2]  # "datetime64[us, Europe/Paris]"
    try:
        if not dates:
            if pd.api.types.is_timedelta64_dtype(values):
                return values
            parsed = pd.to_timedelta(values, errors="coerce")
        elif pd.api.types.is_datetime64_any_dtype(values):
            return values
        elif zone:  # offsets may differ from row to row (summer time): through UTC
            parsed = pd.to_datetime(values, errors="coerce", utc=True).dt.tz_convert(zone)
        else:
            parsed = pd.to_datetime(values, errors="coerce")
    except (TypeError, ValueError):
        parsed = pd.Series(pd.NaT, index=values.index)
    example = "dates (e.g. 2024-05-01 13:00)" if dates else "durations (e.g. 1 days 02:00:00)"
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise DataValidationError(
            f"Column {column['name']!r} held {'dates' if dates else 'durations'} at fit time "
            f"({column['dtype']}) but holds values such as {values[bad].iloc[0]!r}. Pass "
            f"{example} or leave unknowns empty."
        )
    return parsed


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, missing values as None, timestamps and
    other objects (category values can be anything) as their text."""
    if isinstance(value, (str, bool, int, float, type(None), list, dict)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple)):
        return [_plain(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)
