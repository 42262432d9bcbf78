"""The command line's everyday habits: --version, - for standard input and output,
--configurations with --strategy manual, Parquet predictions, the metric's name on the study."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from automl.cli import main
from automl.version import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def frame():
    data = load_breast_cancer(as_frame=True).frame.sample(150, random_state=0)
    data.columns = [c.replace(" ", "_") for c in data.columns]
    return data


def fit_args(data: str, out, *extra: str) -> list[str]:
    return ["fit", data, "--target", "target", "--out", str(out), "--cv", "3", "--quiet"] + [*extra]


def test_version(capsys):
    with pytest.raises(SystemExit) as ended:
        from automl.cli import build_parser

        build_parser().parse_args(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.strip() == f"automl {__version__}"
    assert main(["--version"]) == 0


def test_fit_reads_standard_input_and_predict_writes_standard_output(
    frame, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(sys, "stdin", io.StringIO(frame.to_csv(index=False)))
    out = tmp_path / "run"
    args = fit_args("-", out, "--trials", "2", "--algorithms", "gaussian_nb")
    assert main(args) == 0
    assert json.loads((out / "summary.json").read_text())["data"] == "<standard input>"
    capsys.readouterr()
    rows = frame.drop(columns="target").head(7)
    monkeypatch.setattr(sys, "stdin", io.StringIO(rows.to_csv(index=False)))
    assert main(["predict", str(out / "model.automl"), "-", "--out", "-"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(printed.columns) == ["target"] and len(printed) == 7


@pytest.mark.parametrize("kind", ["toml", "json"])
def test_manual_strategy_runs_exactly_the_configurations_of_a_file(frame, tmp_path, kind):
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    configs = [
        {"algorithm": "logistic_regression", "C": 0.5},
        {"algorithm": "gaussian_nb", "var_smoothing": 1e-7},
    ]
    path = tmp_path / f"configs.{kind}"
    if kind == "json":
        path.write_text(json.dumps(configs))
    else:
        path.write_text(
            '[[configurations]]\nalgorithm = "logistic_regression"\nC = 0.5\n\n'
            '[[configurations]]\nalgorithm = "gaussian_nb"\nvar_smoothing = 1e-7\n'
        )
    out = tmp_path / "run"
    assert (
        main(fit_args(str(data), out, "--strategy", "manual", "--configurations", str(path))) == 0
    )
    board = pd.read_csv(out / "leaderboard.csv").sort_values("trial")
    assert list(board["algorithm"]) == ["logistic_regression", "gaussian_nb"]
    params = [json.loads(p) for p in board["params"]]
    assert params[0]["C"] == 0.5 and params[1]["var_smoothing"] == 1e-7
    # the study names its objective after the metric (optuna-dashboard shows it)
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{out / 'search.db'}")
    assert study.metric_names == ["roc_auc"]


def test_configuration_files_and_manual_strategy_errors_say_what_to_fix(frame, tmp_path, capsys):
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    assert main(fit_args(str(data), tmp_path / "a", "--strategy", "manual")) == 2
    assert "add --configurations FILE" in capsys.readouterr().err
    nameless = tmp_path / "nameless.json"
    nameless.write_text(json.dumps([{"C": 1.0}]))
    assert main(fit_args(str(data), tmp_path / "b", "--configurations", str(nameless))) == 2
    assert "nameless.json: configuration 0 has no 'algorithm' key" in capsys.readouterr().err
    yaml = tmp_path / "c.yaml"
    yaml.write_text("- algorithm: svm\n")
    assert main(fit_args(str(data), tmp_path / "c", "--configurations", str(yaml))) == 2
    assert "must be .toml or .json" in capsys.readouterr().err


def test_predictions_as_parquet_and_a_clear_error_without_pyarrow(frame, tmp_path):
    data = tmp_path / "train.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    assert main(fit_args(str(data), out, "--trials", "2", "--algorithms", "gaussian_nb")) == 0
    model = str(out / "model.automl")
    as_csv, as_parquet = tmp_path / "p.csv", tmp_path / "p.parquet"
    assert main(["predict", model, str(data), "--proba", "--out", str(as_csv), "--quiet"]) == 0
    assert main(["predict", model, str(data), "--proba", "--out", str(as_parquet)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(as_parquet), pd.read_csv(as_csv))
    # A fresh interpreter in which pyarrow (and pandas' other engine) cannot be imported,
    # as on a base install.
    script = textwrap.dedent(f"""\
        import sys

        class NotInstalled:  # pyarrow and pandas' other Parquet engine cannot be imported
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("pyarrow", "fastparquet"):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, NotInstalled())
        from automl.cli import main
        sys.exit(main(["predict", {model!r}, {str(data)!r}, "--out", "q.parquet"]))
        """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout, as the tests import it
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 2, ran.stderr
    assert "writing Parquet needs pyarrow: pip install 'automl[parquet]'" in ran.stderr
    assert not (tmp_path / "q.parquet").exists()


def test_portfolio_and_ensemble_options(frame, tmp_path):
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'schema_version = 1\n[[configurations]]\ntask = "binary"\nalgorithm = "knn"\n'
        "n_neighbors = 9\n"
    )
    algorithms = ["--algorithms", "knn,gaussian_nb,logistic_regression", "--trials", "4"]
    out = tmp_path / "mine"
    assert main(fit_args(str(csv), out, *algorithms, "--portfolio", str(mine))) == 0
    study = optuna.load_study(study_name="automl", storage=f"sqlite:///{out / 'search.db'}")
    first = min(study.trials, key=lambda t: t.number)
    assert first.user_attrs["config"]["n_neighbors"] == 9
    out = tmp_path / "plain"
    assert main(fit_args(str(csv), out, *algorithms, "--portfolio", "none", "--no-ensemble")) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ensemble"] is None
    study = optuna.load_study(study_name="automl", storage=f"sqlite:///{out / 'search.db'}")
    assert min(study.trials, key=lambda t: t.number).params["algorithm"] == "gaussian_nb"
    assert main(fit_args(str(csv), tmp_path / "bad", "--portfolio", str(tmp_path / "no.toml"))) == 2


def test_early_stopping_option(frame, tmp_path):
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    runs = {
        "found": ["--algorithms", "lightgbm", "--trials", "2", "--early-stopping", "on"],
        "default": ["--algorithms", "lightgbm", "--trials", "2", "--no-ensemble"],
    }
    for name, extra in runs.items():
        assert main(fit_args(str(csv), tmp_path / name, *extra)) == 0
    studies = {
        name: optuna.load_study(
            study_name="automl", storage=f"sqlite:///{tmp_path / name / 'search.db'}"
        )
        for name in runs
    }
    assert all("rounds_per_fold" in t.user_attrs for t in studies["found"].trials)
    assert all("lightgbm__n_estimators" in t.params for t in studies["default"].trials)
    assert main(fit_args(str(csv), tmp_path / "bad", "--early-stopping", "yes")) == 2
