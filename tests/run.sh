#!/usr/bin/env bash
# Set up everything the tests need, check lint and types, run the tests; non-zero on any failure.
#
#   bash tests/run.sh            # from the repository root (the README's test line; .ci/run)
#   bash tests/run.sh -k report  # arguments go to pytest
#
# 1. System parts: Chromium and chromedriver (the report's browser test) and a PostgreSQL
#    server (the storage tests). Missing ones are installed with apt-get when this runs as
#    root on Debian/Ubuntu (as in CI); otherwise it stops before any test, naming each
#    missing part and the command that installs it.
# 2. A virtualenv in .venv with the package and the extras the tests need.
# 3. A PostgreSQL server of its own: a temporary data directory, a free port, a database;
#    as root, run as the 'postgres' user (PostgreSQL refuses to run as root).
# 4. ruff (lint and format check) and mypy, then pytest; the exit status is non-zero when
#    any of them fails. The server is stopped and its directory removed on exit, also when pytest
#    fails or the run is interrupted.
#
# AUTOML_CHROMIUM and AUTOML_CHROMEDRIVER point the browser test at other binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CHROMIUM=${AUTOML_CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${AUTOML_CHROMEDRIVER:-/usr/bin/chromedriver}

say() { echo "tests/run.sh: $*" >&2; }

PG_DIR=""
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
AS_POSTGRES=()
[ "$(id -u)" -eq 0 ] && AS_POSTGRES=(runuser -u postgres --)

cleanup() {
    if [ -n "$PG_DIR" ]; then
        if [ -f "$PG_DIR/data/postmaster.pid" ]; then
            "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_DIR"
    fi
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
[ -n "$PG_BIN" ] || missing+=("a PostgreSQL server (/usr/lib/postgresql/*/bin), for the storage tests|postgresql")

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
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    for part in "$CHROMIUM" "$CHROMEDRIVER" "$PG_BIN/pg_ctl"; do
        if [ ! -x "$part" ]; then
            say "$part is still missing after installing ${packages[*]}; point" \
                "AUTOML_CHROMIUM / AUTOML_CHROMEDRIVER at your Chromium and chromedriver."
            exit 1
        fi
    done
fi

# -- the project, with its test extras ------------------------------------------------------
"$PYTHON" -m venv .venv
.venv/bin/pip install -q '.[test,postgres,dask]'

# -- a PostgreSQL server for this run -------------------------------------------------------
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/automl-postgres.XXXXXX")
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
PG_PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if ! { "${AS_POSTGRES[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U automl --auth=trust -E UTF8 &&
       "${AS_POSTGRES[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
           -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start &&
       "${AS_POSTGRES[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U automl automl_test
     } >"$PG_DIR/setup.log" 2>&1; then
    say "could not start a PostgreSQL server with $PG_BIN; its output:"
    cat "$PG_DIR/setup.log" "$PG_DIR/server.log" >&2 2>/dev/null || true
    exit 1
fi
export AUTOML_TEST_POSTGRES_URL="postgresql+psycopg://automl@127.0.0.1:$PG_PORT/automl_test"
export AUTOML_REQUIRE_POSTGRES=1  # a storage test that finds no server fails, never skips

# -- lint, format and types (configured in pyproject.toml); the tests run either way -------
status=0
.venv/bin/ruff check automl tests benchmarks || status=$?
.venv/bin/ruff format --check automl tests benchmarks || status=$?
.venv/bin/mypy || status=$?

export AUTOML_CHROMIUM="$CHROMIUM" AUTOML_CHROMEDRIVER="$CHROMEDRIVER"
.venv/bin/python -m pytest -q "$@" || status=$?
exit "$status"
