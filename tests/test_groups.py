"""Groups and time order are honoured wherever rows are split: the inner CV, the outer CV of
nested cross-validation, the baselines, and the report (which reads the folds the search used).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import TimeSeriesSplit

import automl
from automl.report import write_report

FAST = dict(n_trials=2, time_budget=None, random_state=0, algorithms=["gaussian_nb"])


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    groups = np.arange(len(X)) // 10  # 57 groups of 10 neighbouring rows
    return X, y, groups


def assert_grouped(splits, groups, n_rows):
    assert splits
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) <= n_rows


def test_inner_and_outer_folds_keep_each_group_on_one_side(data, tmp_path):
    X, y, groups = data
    model = automl.fit(X, y, groups=groups, cv=3, outer_cv=3, **FAST)
    assert_grouped(model.cv_splits_, groups, len(X))
    assert_grouped(model.nested_cv_.splits, groups, len(X))
    assert len(model.nested_cv_.splits) == 3
    # the report reads the grouped folds the search used; it does not re-split
    paths = write_report(model, X, y, tmp_path)
    content = json.loads(paths["json"].read_text())
    assert content["n_splits"] == 3
    # its diagnostics are those of the grouped out-of-fold predictions, not of new folds
    oof = model.oof_predictions_
    auc = roc_auc_score(y, oof[:, 1])
    assert content["diagnostics"]["roc"][0]["auc"] == pytest.approx(auc)
    assert content["diagnostics"]["accuracy"] == pytest.approx(
        np.mean(model.classes_[oof.argmax(axis=1)] == y)
    )


def test_baseline_folds_keep_each_group_on_one_side(data):
    X, y, groups = data
    result = automl.baseline(X, y, groups=groups, cv=4, algorithms=["gaussian_nb"])
    assert_grouped(result.splits, groups, len(X))
    assert result.n_splits == 4


def test_time_order_train_before_test_and_untested_rows_have_no_prediction(data, tmp_path):
    X, y, _ = data
    model = automl.fit(X, y, cv=TimeSeriesSplit(3), **FAST)
    for train, test in model.cv_splits_:
        assert train.max() < test.min()
    tested = np.unique(np.concatenate([test for _, test in model.cv_splits_]))
    first = np.setdiff1d(np.arange(len(X)), tested)
    assert len(first) > 0  # the first chunk is never a test fold
    assert np.isnan(model.oof_predictions_[first]).all()
    assert not np.isnan(model.oof_predictions_[tested]).any()
    assert write_report(model, X, y, tmp_path)["html"].exists()
    result = automl.baseline(X, y, cv=TimeSeriesSplit(3), algorithms=["gaussian_nb"])
    for train, test in result.splits:
        assert train.max() < test.min()
