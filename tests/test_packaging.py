"""The installed package finds its space files, and the public surface is what we export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import automl

ROOT = Path(__file__).resolve().parent.parent


def test_installed_package_ships_and_finds_the_space_files(tmp_path):
    target = tmp_path / "site"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    shipped = sorted(p.name for p in (target / "automl" / "search_spaces").glob("*.toml"))
    assert shipped == sorted(p.name for p in (ROOT / "search_spaces").glob("*.toml"))
    # A process outside the source tree imports the installed copy, loads the registry,
    # and runs a search whose trials run in worker processes (which import it too).
    script = (
        "import automl, automl.registry as r, automl.execution.worker as w\n"
        "from sklearn.datasets import load_iris\n"
        "if __name__ == '__main__':\n"
        "    print(r.builtin_space_dir()); print(len(automl.list_algorithms()))\n"
        "    print(w.__file__)\n"
        "    X, y = load_iris(return_X_y=True)\n"
        "    m = automl.fit(X, y, n_trials=2, time_budget=None, cv=2, n_jobs=2,\n"
        "                   algorithms=['gaussian_nb'])\n"
        "    print((m.leaderboard_['state'] == 'complete').sum())\n"
    )
    (tmp_path / "run.py").write_text(script)
    out = subprocess.run(
        [sys.executable, "run.py"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
    )
    folder, count, worker, complete = out.stdout.split()
    assert Path(folder).resolve() == (target / "automl" / "search_spaces").resolve()
    assert int(count) == len(shipped) - 1  # every space file is an algorithm, not the portfolio
    assert "portfolio.toml" in shipped
    assert Path(worker).resolve().is_relative_to(target.resolve())
    assert int(complete) == 2
    # the optional extras the error messages name are declared in the installed metadata
    metadata = next(target.glob("automl-*.dist-info")).joinpath("METADATA").read_text()
    for extra in ("dask", "postgres"):
        assert f"Provides-Extra: {extra}" in metadata
    assert (target / "automl" / "py.typed").exists()  # type checkers read our hints


def test_public_names_are_sorted_and_importable():
    assert automl.__all__ == sorted(automl.__all__)
    for name in automl.__all__:
        assert getattr(automl, name) is not None


def test_list_algorithms_reports_installed_libraries():
    table = automl.list_algorithms()
    assert {"algorithm", "tasks", "requires", "installed"} <= set(table.columns)
    assert table.set_index("algorithm").loc["lightgbm", "installed"]


def test_the_layers_of_the_style_guide_hold():
    """The import-linter contract in pyproject.toml: each layer imports only from below."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "1 kept, 0 broken" in out.stdout


def test_no_module_imports_itself_through_others():
    import grimp

    graph = grimp.build_graph("automl")
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a != b and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []
