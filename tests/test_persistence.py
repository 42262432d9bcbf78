"""Model files: every algorithm's pipeline round-trips through skops with the allow-list."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import skops.io as sio
from conftest import make_mixed_frame
from threadpoolctl import threadpool_limits

import automl
from automl.builder import build_pipeline, make_candidate
from automl.data import validate_data
from automl.exceptions import DataValidationError
from automl.persistence import PIPELINE_TYPES, load_model, save_model
from automl.registry import load_registry

REGISTRY = load_registry()
CASES = [(name, task) for name, spec in sorted(REGISTRY.items()) for task in spec.tasks]


@pytest.mark.parametrize("name, task", CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_every_algorithm_declares_the_types_its_model_holds(name, task):
    X, _ = make_mixed_frame(150)
    rng = np.random.default_rng(0)
    y = {
        "binary": rng.integers(0, 2, 150),
        "multiclass": rng.integers(0, 3, 150),
        "regression": rng.normal(size=150),
        "clustering": None,
    }[task]
    X, y, profile = validate_data(X, y, task=task)
    candidate = make_candidate(REGISTRY[name], task)
    config = candidate.opening_config()
    if task == "clustering":
        config["pca"], config["pca_variance"] = True, 0.9  # the PCA step's types too
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        pipeline = build_pipeline(candidate, config, profile, 0, smoke=True)
        pipeline.fit(X, y)
    untrusted = set(sio.get_untrusted_types(data=sio.dumps(pipeline)))
    declared = set(PIPELINE_TYPES) | set(REGISTRY[name].trusted_types)
    assert untrusted <= declared, f"{name}: declare {sorted(untrusted - declared)}"


def test_a_file_that_is_not_a_model_is_named(tmp_path):
    path = tmp_path / "notes.automl"
    path.write_text("hello")
    with pytest.raises(DataValidationError, match="notes.automl: not an automl model file"):
        load_model(path)


def test_loading_warns_when_library_versions_differ(tmp_path, breast_cancer):
    import json
    import zipfile

    from automl.persistence import ModelVersionWarning

    X, y = breast_cancer
    model = automl.fit(
        X, y, n_trials=1, algorithms=["gaussian_nb"], time_budget=None, cv=3, random_state=0
    )
    path = save_model(model, X, tmp_path / "m.automl")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("metadata.json"))
        data = archive.read("pipeline.skops")
    meta["versions"]["scikit-learn"] = "0.24.0"
    old = tmp_path / "old.automl"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        archive.writestr("pipeline.skops", data)
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 0.24.0 \(now "):
        loaded = load_model(old)
    assert (loaded.predict(X) == model.predict(X)).all()


def test_a_method_call_automl_never_makes_is_refused_before_use(tmp_path, breast_cancer):
    import json
    import zipfile
    from operator import methodcaller

    from sklearn.preprocessing import FunctionTransformer

    X, y = breast_cancer
    model = automl.fit(
        X, y, n_trials=1, algorithms=["gaussian_nb"], time_budget=None, cv=3, random_state=0
    )
    path = save_model(model, X, tmp_path / "m.automl")
    assert load_model(path).predict(X).shape == (len(X),)
    written = tmp_path / "written.csv"
    tampered = model.best_pipeline_
    tampered.steps.insert(0, ("x", FunctionTransformer(methodcaller("to_csv", str(written)))))
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("metadata.json"))
    bad = tmp_path / "bad.automl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        archive.writestr("pipeline.skops", sio.dumps(tampered))
    with pytest.raises(DataValidationError, match=r"method calls .* never makes: \[\"operator"):
        load_model(bad)
    assert not written.exists()
