"""Algorithms as plugins: an installed package's space files and adapter, and what loading trusts.

The plugin here is a real distribution, installed with pip into a folder of its own, that
declares an ``automl.spaces`` entry point; a fresh interpreter with that folder on its path
finds it, searches it in worker processes, saves and loads its model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.datasets import load_iris

import automl
from automl.exceptions import DataValidationError, SkippedAlgorithmWarning
from automl.persistence import load_model, save_model
from automl.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent

TREE_SPACE = """\
schema_version = 2
description = "A decision tree with a leaf budget (a plugin's algorithm)"
estimator.classification = "sklearn.tree:DecisionTreeClassifier"
estimator.regression = "sklearn.tree:DecisionTreeRegressor"
adapter = "automl_demo_plugin.adapters:build"
preprocessing = "ordinal"
trusted_types = ["sklearn.tree._tree.Tree"]
install = "pip install automl-demo-plugin"

[params.leaves_log2]
type = "int"
low = 1
high = 6
default = 3
why = "2 to 64 leaves: a plugin's own virtual parameter, turned into max_leaf_nodes"
"""

ADAPTER = """\
VIRTUAL_PARAMS = frozenset({"leaves_log2"})


def build(estimator_class, params, context):
    params = dict(params)
    return estimator_class(max_leaf_nodes=2 ** params.pop("leaves_log2"), **params)
"""


def write_plugin(folder: Path) -> Path:
    """The source of a plugin distribution: one space file and the adapter it names."""
    package = folder / "automl_demo_plugin"
    (package / "spaces").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "adapters.py").write_text(ADAPTER)
    (package / "spaces" / "__init__.py").write_text("")
    (package / "spaces" / "demo_tree.toml").write_text(TREE_SPACE)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent("""\
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "automl-demo-plugin"
        version = "1.0"

        [project.entry-points."automl.spaces"]
        demo = "automl_demo_plugin.spaces"

        [tool.setuptools]
        packages = ["automl_demo_plugin", "automl_demo_plugin.spaces"]

        [tool.setuptools.package-data]
        "automl_demo_plugin.spaces" = ["*.toml"]
        """)
    )
    return folder


def test_an_installed_plugin_is_found_searched_saved_and_loaded(tmp_path):
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
        + ["--no-build-isolation", "--target", str(site), str(write_plugin(tmp_path / "src"))],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert list(site.glob("automl_demo_plugin-1.0.dist-info/entry_points.txt"))
    script = textwrap.dedent("""\
        import json
        import automl
        from automl.persistence import load_model
        from sklearn.datasets import load_iris
        if __name__ == "__main__":
            listed = automl.list_algorithms().set_index("algorithm")
            X, y = load_iris(return_X_y=True, as_frame=True)
            model = automl.fit(X, y, n_trials=4, time_budget=None, cv=2, random_state=0,
                               algorithms=["demo_tree"], ensemble=False)
            loaded = load_model(automl.save_model(model, X, "demo.automl"))
            print(json.dumps({
                "source": listed.loc["demo_tree", "description"],
                "states": sorted(set(model.leaderboard_["state"])),
                "leaves": [int(l) for l in model.leaderboard_["params"].map(
                    lambda p: p["leaves_log2"])],
                "max_leaf_nodes": loaded.pipeline[-1].max_leaf_nodes,
                "best_leaves_log2": model.best_params_["leaves_log2"],
                "same": bool((loaded.predict(X) == model.predict(X)).all()),
            }))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = json.loads(ran.stdout.strip().splitlines()[-1])
    assert out["source"].endswith("(a plugin's algorithm)")
    assert out["states"] == ["complete"]  # the adapter ran in the worker processes
    assert len(set(out["leaves"])) > 1  # its virtual parameter was searched
    assert out["max_leaf_nodes"] == 2 ** out["best_leaves_log2"]
    assert out["same"]
    checked = subprocess.run(
        [sys.executable, "-m", "automl", "check-space"]
        + [str(site / "automl_demo_plugin" / "spaces" / "demo_tree.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def fake_installed(site: Path, files: dict[str, str]) -> None:
    """A distribution as pip leaves it in site-packages: a package and its dist-info."""
    package = site / "broken_plugin" / "spaces"
    package.mkdir(parents=True)
    (site / "broken_plugin" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(text)
    info = site / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[automl.spaces]\nbroken = broken_plugin.spaces\n")


def test_a_plugin_never_replaces_a_builtin_and_a_broken_file_is_skipped(tmp_path, monkeypatch):
    fake_installed(
        tmp_path,
        {
            "knn.toml": TREE_SPACE,
            "typo.toml": TREE_SPACE.replace('type = "int"', 'type = "integer"'),
            "fine.toml": TREE_SPACE,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(SkippedAlgorithmWarning) as caught:
        registry = load_registry()
    messages = [str(w.message) for w in caught]
    assert any("knn.toml would replace the algorithm 'knn'" in m for m in messages), messages
    assert any("typo.toml: [params.leaves_log2] type must be one of" in m for m in messages)
    assert all("of broken-plugin" in m for m in messages), messages
    assert registry["knn"].estimators["classification"] == "sklearn.neighbors:KNeighborsClassifier"
    assert "typo" not in registry and registry["fine"].adapter == (
        "automl_demo_plugin.adapters:build"
    )


def test_loading_trusts_only_the_types_of_the_algorithms_the_file_uses(tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    forest = automl.fit(
        X, y, n_trials=1, time_budget=None, cv=2, algorithms=["random_forest"], random_state=0
    )
    path = save_model(forest, X, tmp_path / "forest.automl")
    assert (load_model(path).predict(X) == forest.predict(X)).all()
    # The same pipeline in a file that says it holds naive Bayes: random_forest's declared
    # types (installed, registered) are not trusted for it.
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("metadata.json"))
        data = archive.read("pipeline.skops")
    assert "sklearn.tree._tree.Tree" in sio.get_untrusted_types(data=data)
    meta["algorithms"] = ["gaussian_nb"]
    relabelled = tmp_path / "relabelled.automl"
    with zipfile.ZipFile(relabelled, "w") as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        archive.writestr("pipeline.skops", data)
    with pytest.raises(DataValidationError, match=r"\(\['gaussian_nb'\]\) declare: \['sklearn"):
        load_model(relabelled)
    loaded = load_model(relabelled, trusted=("sklearn.tree._tree.Tree",))
    assert (loaded.predict(X) == forest.predict(X)).all()


def test_a_model_of_an_unregistered_algorithm_says_how_to_load_it(tmp_path):
    space = tmp_path / "my_tree.toml"
    space.write_text(
        TREE_SPACE.replace('adapter = "automl_demo_plugin.adapters:build"\n', "").replace(
            "leaves_log2", "max_depth"
        )
    )
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = automl.fit(
        X, y, n_trials=1, time_budget=None, cv=2, spaces=[space], algorithms=["my_tree"]
    )
    path = save_model(model, X, tmp_path / "m.automl")
    with pytest.raises(DataValidationError, match=r"\['my_tree'\] are not registered here"):
        load_model(path)
    assert (load_model(path, spaces=(space,)).predict(X) == model.predict(X)).all()
