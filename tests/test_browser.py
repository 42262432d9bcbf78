"""The HTML report in a real browser: headless Chromium opens it, and it renders.

Needs Debian's chromium and chromium-driver (``bash tests/run.sh`` installs them as root, or
says how to; AUTOML_CHROMIUM and AUTOML_CHROMEDRIVER point at other binaries). Without them
the test fails and says how to install them: a report nobody has seen render is not tested.
Set AUTOML_SCREENSHOT_DIR to keep the full-page screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl import AutoMLRegressor
from automl.report import write_report

CHROMIUM = os.environ.get("AUTOML_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AUTOML_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = (
    "bash tests/run.sh (it installs chromium and chromium-driver as root on Debian, "
    "and the test extras, selenium among them)"
)
EVIL = "<script>alert(1)</script>"


def _browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"The browser test needs {missing}: install them with {INSTALL}.")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"The browser test needs selenium: {INSTALL}.")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"automl-chromium-{os.getpid()}"
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver, profile


@pytest.fixture(scope="module")
def browser():
    driver, profile = _browser()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _classification_report(out: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=150)
    X = pd.DataFrame({EVIL: x, "noise": rng.normal(size=150)})
    y = pd.Series(np.where(x + 0.5 * rng.normal(size=150) > 0, "<b>yes</b>", "no"))
    result = automl.baseline(X, y, cv=3, algorithms=["logistic_regression", "gaussian_nb"])
    return write_report(result, X, y, out)["html"]


def _regression_fit_report(out: Path, diabetes) -> Path:
    X, y = diabetes
    X, y = X.iloc[:150], y.iloc[:150]
    model = AutoMLRegressor(
        n_trials=8, time_budget=None, cv=3, random_state=0, algorithms=["ridge", "knn"]
    ).fit(X, y)
    return write_report(model, X, y, out)["html"]


@pytest.mark.parametrize("kind", ["baseline_classification", "fit_regression"])
def test_report_renders_in_headless_chromium(kind, browser, tmp_path, request):
    from selenium.common.exceptions import NoAlertPresentException

    if kind == "baseline_classification":
        page = _classification_report(tmp_path)
        plots = {"leaderboard", "confusion", "curves", "target"}
    else:
        page = _regression_fit_report(tmp_path, request.getfixturevalue("diabetes"))
        plots = {"leaderboard", "regression", "history", "params", "target"}
    browser.get_log("browser")  # start from an empty console
    browser.get(page.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"JavaScript console errors: {errors}"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - the escaped <script> must not run

    rows = browser.execute_script(
        "return document.querySelectorAll('table#leaderboard tbody tr').length"
    )
    assert rows >= 3  # two algorithms and the dummy model
    drawn = browser.execute_script("""
        const out = {};
        for (const fig of document.querySelectorAll('figure.plot')) {
            const svg = fig.querySelector('svg'); const box = svg.getBoundingClientRect();
            out[fig.id.replace('plot-', '')] = {w: box.width, h: box.height,
                marks: svg.querySelectorAll('path, use, rect').length};
        }
        return out;""")
    assert plots <= set(drawn), f"missing plots: {plots - set(drawn)}"
    for name, box in drawn.items():
        assert box["w"] > 150 and box["h"] > 80 and box["marks"] > 5, (name, box)
    if kind == "baseline_classification":
        text = browser.execute_script("return document.body.textContent")
        assert EVIL in text and "<b>yes</b>" in text  # shown as text, not run or rendered
        assert browser.execute_script("return document.scripts.length") == 0

    shot = _full_page_screenshot(browser, tmp_path / f"{kind}.png")
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] > 1500 and pixels.std() > 0.05  # a long page, not a blank one


def _full_page_screenshot(browser, path: Path) -> Path:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(int(height) + 100, 12000))
    browser.save_screenshot(str(path))
    keep = os.environ.get("AUTOML_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    browser.set_window_size(1280, 900)
    return path
