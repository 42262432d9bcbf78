"""The README's first command writes a model file (not a pickle) and the report."""

from __future__ import annotations

from sklearn.datasets import load_breast_cancer

from automl.persistence import load_model
from automl.quickstart import main


def test_quickstart_writes_a_model_file_and_the_report(tmp_path, capsys):
    out = tmp_path / "qs"
    assert main(["--time-budget", "6", "--outer-cv", "0", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "leaderboard.csv",
        "model.automl",
        "report.html",
        "report.json",
        "report.md",
    ]
    assert f"automl predict {out / 'model.automl'}" in capsys.readouterr().out
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = load_model(out / "model.automl")
    assert model.metadata["task"] == "binary"
    assert (model.predict(X) == y).mean() > 0.9
