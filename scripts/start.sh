#!/usr/bin/env bash
# Install durakv into .venv and start one durable node (file log, fsync always) on
# 127.0.0.1:6379 with its data in ./data.  Extra arguments go to durakv-server.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check .
exec .venv/bin/durakv-server --dir "${DURAKV_DIR:-./data}" "$@"
