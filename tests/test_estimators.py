"""End to end through the public API: fit, results, scikit-learn compatibility, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import automl
from automl import AutoMLClassifier, AutoMLRegressor
from automl.exceptions import AllTrialsFailedError, InvalidParameterError, TrialFailedWarning

FAST = dict(time_budget=None, cv=3, random_state=0)


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine", "diabetes"])
def test_end_to_end_beats_the_dummy_baseline(dataset, request):
    X, y = request.getfixturevalue(dataset)
    result = automl.fit(X, y, n_trials=12, **FAST)
    expected_task = {"breast_cancer": "binary", "wine": "multiclass", "diabetes": "regression"}
    assert result.profile_.task == expected_task[dataset]
    assert (
        result.metric_
        == {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[
            result.profile_.task
        ]
    )
    if result.metric_ == "roc_auc":
        assert result.best_score_ > result.dummy_score_ + 0.2
    else:  # losses: lower is better
        assert result.best_score_ < 0.9 * result.dummy_score_
    predictions = result.best_pipeline_.predict(X.iloc[:10])
    assert len(predictions) == 10
    board = result.leaderboard_
    assert len(board) == result.n_trials_ == 12
    assert board.iloc[0][result.metric_] == pytest.approx(result.best_score_)
    assert board.iloc[0]["algorithm"] == result.best_algorithm_


def test_mixed_frame_with_unseen_category_at_predict(mixed):
    X, y = mixed
    model = AutoMLClassifier(n_trials=6, **FAST).fit(X, y)
    assert model.best_score_ > 0.8
    new = X.iloc[:5].copy()
    new["colour"] = ["orange", None, "red", "pink", "blue"]
    new["city"] = pd.Categorical(["zzz", "a", "b", "c", "a"])
    proba = model.predict_proba(new)
    assert proba.shape == (5, 2)
    assert set(model.predict(new)) <= {"yes", "no"}
    assert list(model.classes_) == ["no", "yes"]


def test_same_seed_same_trials(breast_cancer):
    X, y = breast_cancer
    # without the portfolio (the same for every seed) the 14 trials reach the sampler
    runs = [AutoMLClassifier(n_trials=14, portfolio=False, **FAST).fit(X, y) for _ in range(2)]
    boards = [r.leaderboard_.sort_values("trial") for r in runs]
    assert boards[0]["params"].tolist() == boards[1]["params"].tolist()
    np.testing.assert_allclose(boards[0]["roc_auc"], boards[1]["roc_auc"])
    other = AutoMLClassifier(
        n_trials=14, time_budget=None, cv=3, random_state=1, portfolio=False
    ).fit(X, y)
    assert (
        other.leaderboard_.sort_values("trial")["params"].tolist() != boards[0]["params"].tolist()
    )


def test_time_budget_is_respected_loosely(breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(time_budget=4, cv=3, random_state=0).fit(X, y)
    # loose bound: a trial already running may finish, and this is not a benchmark
    assert model.fit_time_ < 4 + 8
    assert model.n_trials_ >= 1


def test_a_crashing_algorithm_is_recorded_and_the_search_goes_on(tmp_path, breast_cancer):
    space = tmp_path / "broken.toml"
    space.write_text(
        textwrap.dedent("""
        schema_version = 1
        estimator.classification = "sklearn.linear_model:LogisticRegression"
        [fixed]
        solver = "no-such-solver"
        [params.C]
        type = "float"
        low = 0.1
        high = 10.0
        log = true
        default = 1.0
        why = "test: this estimator always raises at fit"
    """)
    )
    X, y = breast_cancer
    with pytest.warns(TrialFailedWarning, match="'broken' failed"):
        model = AutoMLClassifier(
            n_trials=8, spaces=[space], algorithms=["broken", "gaussian_nb"], **FAST
        ).fit(X, y)
    board = model.leaderboard_
    failed = board[board["state"] == "failed"]
    assert len(failed) >= 1 and set(failed["algorithm"]) == {"broken"}
    assert failed["error"].str.contains("solver").all()
    assert model.best_algorithm_ == "gaussian_nb"
    with pytest.warns(TrialFailedWarning), pytest.raises(AllTrialsFailedError) as info:
        AutoMLClassifier(n_trials=3, spaces=[space], algorithms=["broken"], **FAST).fit(X, y)
    assert info.value.__cause__ is not None and "solver" in str(info.value.__cause__)


def test_clone_get_params_and_sklearn_tools(breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(n_trials=3, metric="accuracy", algorithms=["gaussian_nb"], **FAST)
    params = model.get_params()
    assert params["n_trials"] == 3 and params["metric"] == "accuracy"
    twin = clone(model)
    assert twin.get_params() == params
    twin.set_params(n_trials=2)
    assert twin.n_trials == 2 and model.n_trials == 3
    scores = cross_validate(model, X, y, cv=2)
    assert np.all(scores["test_score"] > 0.8)
    pipeline = make_pipeline(FunctionTransformer(), clone(model)).fit(X, y)
    assert pipeline.score(X, y) > 0.8


def test_the_search_metric_as_a_scorer_is_greater_is_better(diabetes):
    X, y = diabetes
    model = AutoMLRegressor(n_trials=2, algorithms=["ridge"], **FAST).fit(X, y)
    rmse = np.sqrt(np.mean((model.predict(X) - y) ** 2))
    assert model.scorer_(model, X, y) == pytest.approx(-rmse)


def test_results_in_scikit_learn_shape(breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(n_trials=6, **FAST).fit(X, y)
    results = model.cv_results_
    n = model.n_trials_
    for key in (
        "params",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split0_test_score",
        "split2_test_score",
        "mean_fit_time",
        "param_algorithm",
    ):
        assert len(results[key]) == n
    best = int(np.argmin(results["rank_test_score"]))
    assert results["params"][best] == model.best_params_
    assert results["mean_test_score"][best] == pytest.approx(model.best_score_)
    # fold scores were reported to Optuna one by one, for pruning
    complete = [t for t in model.study_.trials if t.state.name == "COMPLETE"]
    assert all(len(t.intermediate_values) == 3 for t in complete)


def test_defaults_open_the_search_cheapest_first(breast_cancer):
    X, y = breast_cancer
    model = AutoMLClassifier(n_trials=3, portfolio=False, **FAST).fit(X, y)
    opening = model.leaderboard_.sort_values("trial")["algorithm"].tolist()
    assert opening == ["gaussian_nb", "logistic_regression", "knn"]


def test_user_configurations_run_first_or_alone(breast_cancer):
    X, y = breast_cancer
    configurations = [{"algorithm": "knn", "n_neighbors": 7}, {"algorithm": "ridge"}]
    with pytest.raises(
        InvalidParameterError, match=r"configurations\[1\] must name an 'algorithm'"
    ):
        AutoMLClassifier(n_trials=3, configurations=configurations, **FAST).fit(X, y)
    configurations = [
        {"algorithm": "knn", "n_neighbors": 7},
        {"algorithm": "logistic_regression", "solver": "saga", "l1_ratio": 0.5},
    ]
    model = AutoMLClassifier(strategy="manual", configurations=configurations, **FAST).fit(X, y)
    board = model.leaderboard_.sort_values("trial")
    assert board["algorithm"].tolist() == ["knn", "logistic_regression"]
    assert board.iloc[0]["params"]["n_neighbors"] == 7
    assert board.iloc[1]["params"]["l1_ratio"] == 0.5
    with pytest.raises(InvalidParameterError, match="'l1_ratio'.* do not apply"):
        AutoMLClassifier(
            strategy="manual",
            configurations=[
                {"algorithm": "logistic_regression", "solver": "lbfgs", "l1_ratio": 0.5}
            ],
            **FAST,
        ).fit(X, y)


def test_random_and_grid_strategies(breast_cancer):
    X, y = breast_cancer
    random = AutoMLClassifier(n_trials=5, strategy="random", algorithms=["knn"], **FAST).fit(X, y)
    assert random.n_trials_ == 5
    grid = AutoMLClassifier(
        n_trials=6, strategy="grid", algorithms=["knn", "gaussian_nb"], **FAST
    ).fit(X, y)
    board = grid.leaderboard_.sort_values("trial")
    assert set(board["algorithm"]) == {"knn", "gaussian_nb"}  # interleaved, not one grid first
    assert len({repr(sorted(p.items())) for p in board["params"]}) == 6
    knn_levels = {1, 5, 10, 100}
    assert all(
        p["n_neighbors"] in knn_levels
        for p, a in zip(board["params"], board["algorithm"])
        if a == "knn"
    )


def test_auto_cv_is_5_folds_on_small_data_and_a_holdout_on_large():
    from automl.evaluation import AUTO_HOLDOUT_ROWS, make_splits

    small = make_splits("auto", "binary", np.arange(200) % 2, random_state=0)
    assert len(small) == 5
    y = np.arange(AUTO_HOLDOUT_ROWS + 1) % 2
    ((train, test),) = make_splits("auto", "binary", y, random_state=0)
    assert len(test) == pytest.approx(0.2 * len(y), abs=1)
    with pytest.raises(InvalidParameterError, match="'auto' or a scikit-learn splitter"):
        make_splits("fivefold", "binary", y)


@pytest.mark.parametrize("cv", [0.25, KFold(3, shuffle=True, random_state=0)])
def test_cv_accepts_a_holdout_fraction_or_a_splitter(cv, diabetes):
    X, y = diabetes
    model = AutoMLRegressor(
        n_trials=2, algorithms=["ridge"], time_budget=None, cv=cv, random_state=0
    ).fit(X, y)
    assert model.n_splits_ == (1 if cv == 0.25 else 3)


def test_groups_keep_rows_of_a_group_together(diabetes):
    X, y = diabetes
    groups = np.arange(len(X)) % 10
    model = AutoMLRegressor(
        n_trials=2, algorithms=["ridge"], time_budget=None, cv=GroupKFold(5), random_state=0
    ).fit(X, y, groups=groups)
    assert model.n_splits_ == 5
    with pytest.raises(InvalidParameterError, match="groups has 3 entries"):
        AutoMLRegressor(n_trials=1, **FAST).fit(X, y, groups=[1, 2, 3])


def test_bad_settings_name_the_parameter(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(InvalidParameterError, match="'strategy' parameter .* Did you mean 'grid'"):
        AutoMLClassifier(strategy="gird", n_trials=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'time_budget' parameter"):
        AutoMLClassifier(time_budget=-1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'cv' parameter must be >= 2"):
        AutoMLClassifier(cv=1, n_trials=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="does not apply to binary"):
        AutoMLClassifier(metric="rmse", n_trials=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'ridge' does not do binary"):
        AutoMLClassifier(algorithms=["ridge"], n_trials=1).fit(X, y)


def test_best_pipeline_predicts_in_a_process_that_never_imported_automl(tmp_path, mixed):
    X, y = mixed
    model = AutoMLClassifier(n_trials=2, algorithms=["xgboost", "lightgbm"], **FAST).fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(model.best_pipeline_, path)
    X.to_pickle(tmp_path / "X.pkl")
    expected = model.predict(X)
    script = (
        "import sys, joblib, pandas as pd\n"
        f"model = joblib.load({str(path)!r})\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        "assert not any(m.split('.')[0] == 'automl' for m in sys.modules), 'automl imported'\n"
        "print(','.join(map(str, model.predict(X))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().split(",") == list(map(str, expected))


def test_ctrl_c_in_process_keeps_the_finished_trials_and_returns_their_best(
    tmp_path, breast_cancer
):
    space = tmp_path / "interrupt.toml"
    space.write_text(
        textwrap.dedent("""
        schema_version = 1
        estimator.classification = "conftest:InterruptOnFit"
        cost = 100.0
    """)
    )
    X, y = breast_cancer
    model = AutoMLClassifier(
        n_trials=10,
        spaces=[space],
        executor="inprocess",
        algorithms=["gaussian_nb", "logistic_regression", "interrupt"],
        portfolio=False,  # one opening trial per algorithm, cheapest first
        **FAST,
    ).fit(X, y)
    assert model.interrupted_
    states = model.leaderboard_.set_index("algorithm")["state"]
    assert states["gaussian_nb"] == "complete" and states["logistic_regression"] == "complete"
    assert states["interrupt"] == "failed"
    assert model.n_trials_ == 3  # the search stopped at the interruption
    assert model.best_algorithm_ in {"gaussian_nb", "logistic_regression"}


def test_ctrl_c_with_worker_processes_keeps_the_finished_trials(breast_cancer):
    """A real SIGINT to the driver while trials run in workers (which ignore it)."""
    X, y = breast_cancer

    pressed = []

    def press_ctrl_c(progress):
        if progress.complete >= 3 and not pressed:
            pressed.append(progress.running)
            os.kill(os.getpid(), signal.SIGINT)

    model = AutoMLClassifier(
        n_trials=40,
        callbacks=[press_ctrl_c],
        n_jobs=2,
        algorithms=["gaussian_nb", "logistic_regression", "knn"],
        portfolio=False,
        **FAST,
    ).fit(X, y)
    assert model.interrupted_
    board = model.leaderboard_
    assert (board["state"] == "complete").sum() >= 3
    assert len(board) < 40
    # the trials running at the interruption are recorded as failed, with the reason
    interrupted = board[board["reason"] == "interrupted"]
    assert (interrupted["state"] == "failed").all()
    assert model.predict(X.iloc[:5]).shape == (5,)


def test_ctrl_c_while_the_driver_writes_to_the_storage_waits_for_the_write(tmp_path, breast_cancer):
    """Progress is published between storage writes; a Ctrl-C there must not cut a write in
    half (it left the SQLite file locked, and recording the interruption then failed)."""
    import optuna

    X, y = breast_cancer
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    steps = []

    def press_ctrl_c(progress):
        if progress.complete >= 2 and not steps:
            steps.append("pressed")
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("went on")  # a KeyboardInterrupt raised here would skip this

    settings = dict(algorithms=["gaussian_nb", "logistic_regression"], storage=storage, **FAST)
    model = AutoMLClassifier(n_trials=30, callbacks=[press_ctrl_c], **settings).fit(X, y)
    assert steps == ["pressed", "went on"]
    assert model.interrupted_ and model.n_trials_ < 30
    study = optuna.load_study(study_name="automl", storage=storage)
    assert not study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
    resumed = AutoMLClassifier(n_trials=30, resume=True, **settings).fit(X, y)
    assert not resumed.interrupted_
    assert len(resumed.leaderboard_) >= 30


def test_a_second_ctrl_c_is_not_deferred():
    from automl.search.interrupt import InterruptGuard

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with InterruptGuard() as guard:
        os.kill(os.getpid(), signal.SIGINT)
        assert guard.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            guard.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # waiting for workers: Ctrl-C raises where it lands
    with InterruptGuard() as guard, pytest.raises(KeyboardInterrupt), guard.immediate():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)


def test_limits_that_an_executor_cannot_enforce_are_said_not_ignored(breast_cancer):
    X, y = breast_cancer
    settings = dict(n_trials=2, time_budget=None, cv=3, algorithms=["gaussian_nb"])
    with pytest.warns(automl.AutoMLWarning, match="cannot be enforced"):
        AutoMLClassifier(executor="inprocess", trial_time_limit=5, **settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", automl.AutoMLWarning)
        AutoMLClassifier(executor="inprocess", **settings).fit(X, y)  # nothing to say
