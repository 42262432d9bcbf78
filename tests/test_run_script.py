"""tests/run.sh, the one test command: where it cannot install, it stops before any test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "run.sh"


def _as_non_root(command: list[str]) -> list[str]:
    """CI runs as root; the refusal is what a user without root sees."""
    if os.geteuid() != 0:
        return command
    return [shutil.which("runuser") or "/sbin/runuser", "-u", "nobody", "--", *command]


def test_without_root_a_missing_browser_stops_it_with_the_install_line(tmp_path):
    env = {
        **os.environ,
        "AUTOML_CHROMIUM": str(tmp_path / "no-chromium"),
        "AUTOML_CHROMEDRIVER": str(tmp_path / "no-chromedriver"),
    }
    result = subprocess.run(
        _as_non_root(["bash", str(SCRIPT), "--collect-only"]),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert str(tmp_path / "no-chromium") in result.stderr
    assert str(tmp_path / "no-chromedriver") in result.stderr
    assert "apt-get install -y -qq chromium chromium-driver" in result.stderr
    assert "No test was run" in result.stderr
    assert "collected" not in result.stdout  # pytest never started
