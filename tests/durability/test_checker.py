"""The shared durability checker (../shared/durability/checker.py) against durakv: 0 lost.

The default run is short (a few seconds, one kill during the workload plus the final
kill, snapshots forced often); the ``soak`` variant runs longer with more kills.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import durakv_cmd, free_port

_CANDIDATES = [
    Path(os.environ.get("DURAKV_CHECKER", "")),
    Path(__file__).resolve().parents[3] / "shared" / "durability" / "checker.py",
    Path("/work/shared/durability/checker.py"),
]
CHECKER = next((p for p in _CANDIDATES if p.is_file()), _CANDIDATES[1])
OPS = "rpush,incr,set,hset,xadd,multi"


def run_checker(tmp_path: Path, duration: int, kills: int, clients: int, extra: list[str]) -> dict:
    port = free_port()
    d = tmp_path / "data"
    d.mkdir()
    server = durakv_cmd() + ["--port", str(port), "--dir", str(d), "--appendfsync", "always", *extra]
    out = tmp_path / "result.json"
    argv = [sys.executable, str(CHECKER), "--port", str(port),
            "--start-cmd", "exec " + shlex.join(server), "--ops", OPS,
            "--duration", str(duration), "--kills", str(kills), "--clients", str(clients),
            "--min-uptime", "1", "--json", str(out), "--stop-at-end"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration * 6 + 120,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "LOST acknowledged operations: 0" in proc.stdout, proc.stdout[-3000:]
    return json.loads(out.read_text()) if out.exists() else {}


def test_checker_short_run_loses_nothing(tmp_path):
    # auto snapshots every ~200 KB of log: kills also land while the worker runs
    run_checker(tmp_path, duration=6, kills=1, clients=4, extra=["--auto-snapshot-log-bytes", "200kb"])


@pytest.mark.soak
def test_checker_soak_with_snapshots(tmp_path):
    run_checker(tmp_path, duration=40, kills=6, clients=8, extra=["--auto-snapshot-log-bytes", "1mb"])
