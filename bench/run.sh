#!/usr/bin/env bash
# durakv's benchmark: start a fresh durakv node and run the shared side-by-side
# benchmarks against it (real redis-server started by each script, same run), then the
# custom-command comparison.  Results go to stdout; copy the tables into README.md.
#   bash bench/run.sh [core|types|custom|memory|durable|all]
# SERVER_ARGS="--appendonly no" measures without the log (durakv's default is fsync always).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/bench}
WHAT=${1:-all}
PY=.venv/bin/python
PORT=${PORT:-7420}
DIR=$(mktemp -d /tmp/durakv-bench.XXXXXX)
start() {
  # shellcheck disable=SC2086
  .venv/bin/durakv-server --port "$PORT" --dir "$DIR" ${SERVER_ARGS:-} "$@" >"$DIR/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "durakv did not start"; cat "$DIR/server.log"; exit 2
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"/*; }
trap 'stop; rm -rf "$DIR"' EXIT
run_core() { start; bash "$SHARED/compare.sh" 127.0.0.1 "$PORT" --label durakv --target-pid "$PID"; stop; }
run_types() { start; TESTS=lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,lrange_100 bash "$SHARED/compare.sh" 127.0.0.1 "$PORT" --label durakv --target-pid "$PID"; stop; }
run_custom() { start; $PY bench/custom_compare.py 127.0.0.1 "$PORT" --target-pid "$PID"; stop; }
run_memory() { start; $PY "$SHARED/memory_compare.py" 127.0.0.1 "$PORT" --label durakv --target-pid "$PID"; stop; }
run_durable() { start --appendfsync always; bash "$SHARED/durable_compare.sh" 127.0.0.1 "$PORT" --label durakv --target-pid "$PID"; stop; }
case $WHAT in
  all) run_core; run_types; run_custom; run_memory; run_durable ;;
  *) "run_$WHAT" ;;
esac
