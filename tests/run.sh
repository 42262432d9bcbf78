#!/usr/bin/env bash
# Set up everything the tests need and run them; exits with pytest's status.
#
#   bash tests/run.sh            # from the repository root (the README's test line; .ci/run)
#   bash tests/run.sh -k report  # arguments go to pytest
#
# 1. System parts: Chromium and chromedriver (the report's browser test). Missing ones are
#    installed with apt-get when this runs as root on Debian/Ubuntu (as in CI); otherwise it
#    stops before any test, naming each missing part and the command that installs it.
# 2. A virtualenv in .venv with the package and its test extras.
# 3. pytest; whatever this script started is cleaned up on exit, also on failure or Ctrl-C.
#
# AUTOML_CHROMIUM and AUTOML_CHROMEDRIVER point the browser test at other binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CHROMIUM=${AUTOML_CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${AUTOML_CHROMEDRIVER:-/usr/bin/chromedriver}

say() { echo "tests/run.sh: $*" >&2; }

cleanup() {
    :  # nothing started yet needs stopping; services the tests need are stopped here
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- what is missing: "what it is|the Debian package that provides it" ------------------------
missing=()
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    missing+=("Python 3.11+ ($PYTHON)|python3")
elif ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "automl needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)." \
        "Set PYTHON=/path/to/python3.11 (or newer) and run this again."
    exit 2
elif [ ! -x .venv/bin/python ] && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=("Python's venv module|python3-venv")
fi
[ -x "$CHROMIUM" ] || missing+=("Chromium ($CHROMIUM), for the report's browser test|chromium")
[ -x "$CHROMEDRIVER" ] || missing+=("chromedriver ($CHROMEDRIVER), for the same test|chromium-driver")

if [ ${#missing[@]} -gt 0 ]; then
    packages=()
    for part in "${missing[@]}"; do packages+=("${part##*|}"); done
    install="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages[*]}"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${packages[*]} (apt-get, as root)"
        eval "$install" >/dev/null
    else
        say "the tests need parts this machine does not have, and this script installs"
        say "system packages only as root with apt-get. Missing:"
        for part in "${missing[@]}"; do say "  - ${part%%|*}"; done
        say "Install them (Debian/Ubuntu) with:"
        say "  sudo sh -c '$install'"
        say "then run this again. No test was run."
        exit 1
    fi
    for part in "$CHROMIUM" "$CHROMEDRIVER"; do
        if [ ! -x "$part" ]; then
            say "$part is still missing after installing ${packages[*]}; point" \
                "AUTOML_CHROMIUM / AUTOML_CHROMEDRIVER at your Chromium and chromedriver."
            exit 1
        fi
    done
fi

# -- the project, with its test extras ------------------------------------------------------
"$PYTHON" -m venv .venv
.venv/bin/pip install -q '.[test]'

export AUTOML_CHROMIUM="$CHROMIUM" AUTOML_CHROMEDRIVER="$CHROMEDRIVER"
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
exit "$status"
