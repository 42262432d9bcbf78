"""The space schema, its error messages, and conformance of every registered space file."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from conftest import make_mixed_frame
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

import automl
from automl.builder import build_pipeline, make_candidate
from automl.data import validate_data
from automl.early_stopping import fit_early_stopped
from automl.exceptions import SearchSpaceError
from automl.registry import builtin_space_files, load_registry
from automl.space import parse_space
from automl.space.check import check_names
from automl.space.suggest import grid_configs, is_active, opening_config, suggest_config

HEADER = 'schema_version = 1\nestimator.classification = "sklearn.svm:SVC"\n'
REGISTRY = load_registry()


def parse(body: str):
    return parse_space(HEADER + body, name="svc_test", source="svc_test.toml")


def test_a_valid_conditional_space():
    spec = parse("""
[params.kernel]
type = "categorical"
choices = ["rbf", "poly"]
default = "rbf"
why = "docs"
[params.degree]
type = "int"
low = 2
high = 5
default = 3
when = { kernel = ["poly"] }
why = "docs"
""")
    assert [p.name for p in spec.params] == ["kernel", "degree"]
    assert opening_config(spec.params) == {"kernel": "rbf"}
    assert {"kernel": "poly", "degree": 5} in list(grid_configs(spec.params))
    assert all("degree" not in c for c in grid_configs(spec.params) if c["kernel"] == "rbf")


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "[params.C]\ntype='float'\nlow=1.0\nhigh=0.5\ndefault=1.0\nwhy='x'\n",
            r"svc_test.toml: \[params.C\] 'low' \(1.0\) must be below 'high' \(0.5\)",
        ),
        (
            "[params.C]\ntype='float'\nlow=0.0\nhigh=2.0\nlog=true\ndefault=1.0\nwhy='x'\n",
            r"\[params.C\] a log-scaled range needs low > 0",
        ),
        (
            "[params.C]\ntype='float'\nlow=0.1\nhigh=2.0\ndefault=3.0\nwhy='x'\n",
            r"\[params.C\] default 3.0 is outside",
        ),
        (
            "[params.C]\ntype='float'\nlow=0.1\nhigh=2.0\ndefault=1.0\n",
            r"\[params.C\] missing 'why'",
        ),
        (
            "[params.C]\ntype='real'\nlow=0.1\nhigh=2.0\ndefault=1.0\nwhy='x'\n",
            r"\[params.C\] type must be one of",
        ),
        (
            "[params.C]\ntype='float'\nlow=0.1\nhigh=2.0\ndefault=1.0\nwhy='x'\nlower=1\n",
            r"\[params.C\] unknown key\(s\) \['lower'\]",
        ),
        (
            "[params.degree]\ntype='int'\nlow=2\nhigh=5\ndefault=3\nwhy='x'\nwhen={kernel=['poly']}\n"
            "[params.kernel]\ntype='categorical'\nchoices=['poly']\ndefault='poly'\nwhy='x'\n",
            r"\[params.degree\] 'when' refers to 'kernel', which is not declared before it. "
            r"Declare \[params.kernel\] above",
        ),
        (
            "[params.kernel]\ntype='categorical'\nchoices=['rbf']\ndefault='rbf'\nwhy='x'\n"
            "[params.degree]\ntype='int'\nlow=2\nhigh=5\ndefault=3\nwhy='x'\nwhen={kernel=['poly']}\n",
            r"'when' lists \['poly'\] for 'kernel', which can never take them",
        ),
        ("preprocessing = 'fancy'\n", r"preprocessing must be one of"),
        ("colour = 'red'\n", r"unknown top-level key\(s\) \['colour'\]"),
    ],
)
def test_schema_errors_name_file_table_and_fix(body, message):
    with pytest.raises(SearchSpaceError, match=message):
        parse(body)


def test_wrong_schema_version_and_import_path():
    with pytest.raises(SearchSpaceError, match=r"schema_version must be one of \[1, 2, 3\]; got 4"):
        parse_space('schema_version = 4\nestimator.regression = "a:B"\n', name="x")
    with pytest.raises(SearchSpaceError, match="must be an import path 'module:Class'"):
        parse_space('schema_version = 1\nestimator.regression = "sklearn.svm.SVR"\n', name="x")


def test_check_space_reports_a_misspelt_parameter(tmp_path):
    path = tmp_path / "my_svc.toml"
    path.write_text(
        HEADER + "[params.gama]\ntype='float'\nlow=0.1\nhigh=2.0\ndefault=1.0\nwhy='x'\n"
    )
    with pytest.raises(
        SearchSpaceError,
        match=r"my_svc.toml: \[params\] 'gama' is not a "
        r"parameter of sklearn.svm:SVC",
    ):
        automl.check_space(path)


def test_check_space_accepts_every_builtin_file():
    for path in builtin_space_files():
        assert automl.check_space(path).name == path.stem


def test_required_algorithms_are_registered():
    classification = {s.name for s in REGISTRY.values() if s.supports("binary")}
    regression = {s.name for s in REGISTRY.values() if s.supports("regression")}
    assert {
        "logistic_regression",
        "svm",
        "knn",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "xgboost",
        "lightgbm",
        "mlp",
        "gaussian_nb",
    } <= classification
    assert {
        "ridge",
        "svm",
        "knn",
        "random_forest",
        "extra_trees",
        "hist_gradient_boosting",
        "xgboost",
        "lightgbm",
        "mlp",
    } <= regression


# -- conformance: parametrised over whatever the registry finds ---------------------------


def _tiny_data(task: str):
    if task == "clustering":  # no target: the features of a classification set
        frame, _, _ = _tiny_data("binary")
        return validate_data(frame, task="clustering")
    if task == "regression":
        X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    else:
        X, y = make_classification(
            n_samples=120,
            n_features=5,
            n_informative=3,
            n_classes=2 if task == "binary" else 3,
            random_state=0,
        )
    mixed, _ = make_mixed_frame(120)
    frame = mixed.assign(**{f"f{i}": X[:, i] for i in range(X.shape[1])})
    return validate_data(frame, y, task=task)


CASES = [(name, task) for name, spec in sorted(REGISTRY.items()) for task in spec.tasks]


@pytest.mark.parametrize("name, task", CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_space_conformance(name, task):
    spec = REGISTRY[name]
    check_names(spec)
    candidate = make_candidate(spec, task)
    seen: set[str] = set()
    for p in candidate.params:
        assert p.contains(p.default), f"{name}.{p.name} default outside bounds"
        assert set(p.when) <= seen, f"{name}.{p.name} condition points forward"
        seen.add(p.name)
    X, y, profile = _tiny_data(task)
    configs = [candidate.opening_config()]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        configs.append(suggest_config(study.ask(), name, candidate.params))
    for config in configs:
        for p in candidate.params:
            assert (p.name in config) == is_active(p, config)
        pipeline = build_pipeline(candidate, config, profile, random_state=0, smoke=True)
        # one thread, as the engine fits: OpenMP spin-waits on a busy machine otherwise
        if task == "clustering":
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore")
                labels = pipeline.fit_predict(X.iloc[:90])
            assert len(labels) == 90 and labels.min() >= -1
            continue
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            pipeline.fit(X.iloc[:90], y[:90])
        predictions = pipeline.predict(X.iloc[90:])
        assert len(predictions) == 30
        if task != "regression":
            proba = pipeline.predict_proba(X.iloc[90:])
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
            assert set(predictions) <= set(np.unique(y))
    if spec.early_stopping is not None:
        stopping = make_candidate(spec, task, early_stopping=True)
        pipeline = build_pipeline(stopping, stopping.opening_config(), profile, random_state=0)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            fitted, rounds = fit_early_stopped(
                pipeline, stopping, X.iloc[:90], y[:90], None, task != "regression", 0
            )
        assert 1 <= rounds <= stopping.max_rounds()
        assert len(fitted.predict(X.iloc[90:])) == 30


V2 = 'schema_version = 2\nestimator.classification = "sklearn.svm:SVC"\n'


def test_version_1_files_load_and_version_2_keys_need_version_2():
    old = parse('adapter = "svm"\n')
    assert old.adapter == "automl.adapters.svm:build" and old.trusted_types == ()
    for key in ('trusted_types = ["a.B"]', 'install = "pip install x"'):
        with pytest.raises(SearchSpaceError, match=r"need schema_version = 2 \(this file says 1\)"):
            parse(key + "\n")
    with pytest.raises(SearchSpaceError, match="adapter must be a bare name of a module"):
        parse('adapter = "my_pkg.adapters:build"\n')


def test_version_2_plugin_keys():
    spec = parse_space(
        V2 + 'adapter = "my_pkg.adapters:build"\ntrusted_types = ["my_pkg.Model"]\n'
        'install = "pip install my-pkg"\npreprocessing = "native"\ncategorical_codes = "integer"\n',
        name="x",
    )
    assert spec.adapter == "my_pkg.adapters:build" and spec.trusted_types == ("my_pkg.Model",)
    assert spec.install == "pip install my-pkg" and spec.categorical_codes == "integer"
    assert parse_space(V2 + 'adapter = "lightgbm"\n', name="x").adapter == (
        "automl.adapters.lightgbm:build"
    )
    for body, message in [
        ('adapter = "my pkg:build"', "adapter must be an import path"),
        ('trusted_types = ["Model"]', "are not dotted type names"),
        ("trusted_types = 3", "trusted_types must be a list of dotted type names"),
        ('categorical_codes = "integer"', 'applies only to preprocessing = "native"'),
        ('preprocessing = "native"\ncategorical_codes = "int"', "must be one of"),
    ]:
        with pytest.raises(SearchSpaceError, match=message):
            parse_space(V2 + body + "\n", name="x")


def test_check_space_names_an_adapter_that_does_not_import(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(V2 + 'adapter = "no_such_pkg.adapters:build"\n')
    with pytest.raises(SearchSpaceError, match="x.toml: adapter .*'no_such_pkg.adapters' cannot"):
        automl.check_space(path)
    path.write_text(V2 + 'adapter = "automl.adapters:nothing"\n')
    with pytest.raises(SearchSpaceError, match="has no function 'nothing'"):
        automl.check_space(path)
