"""``durakv up / status / failover``: a whole local cluster from one command.

``durakv up`` runs as a real subprocess; the test finds every process through
``DIR/cluster.json`` and stops (or kill -9s) them by PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from durakv.cli.supervisor import nats_config
from tests.replication.harness import quiet_port
from tests.support.procs import scratch_dir

CLI = [sys.executable, "-m", "durakv.cli.main"]


def _base_port() -> int:
    """A base port whose node (+0..2), NATS (+20..22) and route (+30..32) ports are free."""
    import socket

    while True:
        base = quiet_port()
        ok = True
        for off in (0, 1, 2, 20, 21, 22, 30, 31, 32):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + off))
                except OSError:
                    ok = False
                    break
        if ok:
            return base


class Up:
    def __init__(self, d: str, base: int) -> None:
        self.dir = d
        self.base = base
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(os.path.join(self.dir, "up.log"), "ab")
        self.proc = subprocess.Popen(
            CLI + ["up", "--dir", self.dir, "--base-port", str(self.base), "--lease-ms", "1000"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def cluster(self) -> dict[str, Any]:
        return json.loads(Path(self.dir, "cluster.json").read_text())

    def wait_primary(self, timeout: float = 40.0, exclude: int | None = None) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                nodes = self.cluster()["nodes"]
            except (OSError, ValueError):
                time.sleep(0.1)
                continue
            for n in nodes:
                if n["port"] == exclude:
                    continue
                try:
                    r = redis.Redis(port=n["port"], socket_timeout=1).execute_command("ROLE")
                except (redis.RedisError, OSError):
                    continue
                if r[0] == b"master":
                    return n["port"]
            time.sleep(0.1)
        raise TimeoutError("no primary")

    def status(self) -> str:
        return subprocess.run(CLI + ["status", "--dir", self.dir], capture_output=True, text=True,
                              timeout=30).stdout

    def sigint(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)

    def kill_all9(self) -> None:
        """kill -9 of durakv up itself, every node and every NATS server."""
        cl = self.cluster()
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for p in cl["nodes"] + cl["nats"]:
            if p["pid"]:
                try:
                    os.kill(p["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.3)


@pytest.fixture
def up():
    d = scratch_dir("durakv-up-")
    u = Up(d, _base_port())
    yield u
    if u.proc is not None and u.proc.poll() is None:
        u.sigint()


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_nats_config_zones_and_sync() -> None:
    text = nats_config("b", "127.0.0.1", 4222, 6222, [6222, 6223, 6224], "/x/js")
    assert "sync_interval: always" in text
    assert 'server_tags: ["zone:b"]' in text
    assert "nats-route://127.0.0.1:6224" in text and "listen: 127.0.0.1:4222" in text


def test_up_status_failover_restart_and_clean_stop(up: Up) -> None:
    up.start()
    prim = up.wait_primary()
    cl = up.cluster()
    assert [n["port"] for n in cl["nodes"]] == [up.base, up.base + 1, up.base + 2]
    assert [z["zone"] for z in cl["nats"]] == ["a", "b", "c"]
    assert all(n["shard"] == 0 and n["host"] == "127.0.0.1" and _alive(n["pid"]) for n in cl["nodes"])
    c = redis.Redis(port=prim, socket_timeout=5)
    for i in range(100):
        c.set(f"up:{i}", i)
    out = up.status()
    assert "master" in out and out.count("slave") == 2, out
    js = json.loads(subprocess.run(CLI + ["status", "--dir", up.dir, "--json"], capture_output=True, text=True,
                                   timeout=30).stdout)
    roles = {n["endpoint"]: n for n in js["nodes"]}
    assert roles[f"127.0.0.1:{prim}"]["role"] == "master"
    assert sorted(n["role"] for n in js["nodes"]) == ["master", "slave", "slave"]
    assert all(int(n["lag"]) >= 0 for n in js["nodes"])
    # planned failover through the CLI
    r = subprocess.run(CLI + ["failover", "--dir", up.dir, "--shard", "0"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    new = up.wait_primary(exclude=prim)
    assert redis.Redis(port=new).get("up:99") == b"99"
    # a crashed node is restarted (as a replica) and cluster.json names its new pid
    victim = [n for n in up.cluster()["nodes"] if n["port"] == prim][0]
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        again = [n for n in up.cluster()["nodes"] if n["port"] == prim][0]
        if again["pid"] and again["pid"] != victim["pid"] and _alive(again["pid"]):
            break
        time.sleep(0.1)
    assert again["pid"] != victim["pid"]
    deadline = time.monotonic() + 30
    role = None
    while time.monotonic() < deadline:
        try:
            role = redis.Redis(port=prim, socket_timeout=1).execute_command("ROLE")
            if role[0] == b"slave" and role[3] == b"connected":
                break
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    assert role is not None and role[0] == b"slave"
    assert redis.Redis(port=prim).get("up:42") == b"42"
    pids = [p["pid"] for p in up.cluster()["nodes"] + up.cluster()["nats"]]
    up.sigint()
    assert up.proc is not None and up.proc.returncode == 0
    assert not any(_alive(p) for p in pids)


@pytest.mark.soak
def test_everything_killed_then_up_again_keeps_acknowledged_writes(up: Up) -> None:
    up.start()
    prim = up.wait_primary()
    c = redis.Redis(port=prim, socket_timeout=5)
    acked = []
    for i in range(300):
        c.rpush("all9", i)
        c.set(f"all9:{i}", i)
        acked.append(i)
    up.kill_all9()
    up.start()
    prim = up.wait_primary(60)
    c = redis.Redis(port=prim, socket_timeout=5)
    assert [int(x) for x in c.lrange("all9", 0, -1)] == acked
    assert all(c.get(f"all9:{i}") == str(i).encode() for i in acked)
