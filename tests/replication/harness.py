"""Real processes for replication tests: three NATS servers (zones a, b, c) and durakv nodes.

Everything runs on free 127.0.0.1 ports in a temp dir and is stopped by PID.  The write
workload (:class:`Writers`) is the durability checker's idea in small: several clients
write unique values (SET, RPUSH, INCR), follow the primary through ``ROLE``, never retry
a failed write, and remember every acknowledged one for :func:`verify`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from durakv.cli.supervisor import nats_config, nats_server_binary
from tests.support.procs import Proc, durakv_cmd, scratch_dir, wait_port

ZONES = ("a", "b", "c")
_taken: set[int] = set()


def quiet_port() -> int:
    """A free port below the kernel's ephemeral range, so that no outgoing connection of a
    process started later (NATS clients, routes) can be handed the same number."""
    import random

    while True:
        port = random.randrange(20000, 32000)
        if port in _taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port


class NatsServer:
    def __init__(self, zone: str, port: int, cluster_port: int, routes: list[int], workdir: str) -> None:
        self.zone = zone
        self.port = port
        self.dir = os.path.join(workdir, f"nats-{zone}")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "nats.conf")
        Path(self.conf).write_text(nats_config(zone, "127.0.0.1", port, cluster_port, routes,
                                               os.path.join(self.dir, "js")))
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        logf = open(os.path.join(self.dir, "nats.log"), "ab")
        self.proc = subprocess.Popen([nats_server_binary(), "-c", self.conf], stdout=logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NatsCluster:
    def __init__(self, workdir: str | None = None) -> None:
        self.dir = workdir or scratch_dir("durakv-nats-")
        ports = [quiet_port() for _ in range(3)]
        cports = [quiet_port() for _ in range(3)]
        self.servers = [NatsServer(z, ports[i], cports[i], cports, self.dir) for i, z in enumerate(ZONES)]
        self.url = ",".join(f"nats://127.0.0.1:{p}" for p in ports)

    def start(self) -> None:
        for s in self.servers:
            s.start()
        for s in self.servers:
            _wait_tcp(s.port)
        self.wait_jetstream()

    def wait_jetstream(self, timeout: float = 30.0) -> None:
        """Until a clustered JetStream (meta leader elected) accepts a stream."""
        import asyncio

        import nats

        async def probe() -> bool:
            nc = await nats.connect(self.url.split(","), connect_timeout=1, max_reconnect_attempts=1)
            try:
                js = nc.jetstream(timeout=2)
                info = await js.account_info()
                return info is not None
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if asyncio.run(probe()):
                    return
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            time.sleep(0.2)
        raise TimeoutError("JetStream did not come up")

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


def _wait_tcp(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def server_cmd() -> list[str]:
    override = os.environ.get("DURAKV_SERVER_CMD")
    return override.split() if override else durakv_cmd()


class Node:
    """One durakv-server of the shard, started at once (restartable: same id, port, dir)."""

    def __init__(self, nats_url: str, node_id: str, lease_ms: int, workdir: str, *extra: str) -> None:
        self.id = node_id
        self.port = quiet_port()
        self.dir = os.path.join(workdir, node_id)
        os.makedirs(self.dir, exist_ok=True)
        argv = server_cmd() + [
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--log", nats_url,
            "--node-id", node_id, "--lease-ms", str(lease_ms), *extra,
        ]
        self.proc = Proc(argv, self.port, self.dir, wait=False)

    def start(self) -> None:
        self.proc.start(wait=False)

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_port(self.port, timeout, self.proc.proc)

    def kill9(self) -> None:
        self.proc.kill9()

    def stop(self) -> None:
        self.proc.stop()

    def sigstop(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def sigcont(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def client(self, **kw: Any) -> redis.Redis:
        """A client that never retries on its own (a retry could apply a write twice)."""
        return redis.Redis(port=self.port, socket_timeout=kw.pop("socket_timeout", 5),
                           retry=Retry(NoBackoff(), 0), **kw)

    def role(self) -> list[Any] | None:
        try:
            with self.client(socket_timeout=1, socket_connect_timeout=1) as c:
                return c.execute_command("ROLE")
        except (redis.RedisError, OSError):
            return None


class Shard:
    """Three NATS servers and ``n`` nodes of shard 0."""

    def __init__(self, n: int = 3, lease_ms: int = 1000, extra: tuple[str, ...] = ()) -> None:
        self.dir = scratch_dir("durakv-repl-")
        self.nats = NatsCluster(os.path.join(self.dir, "nats"))
        self.lease_ms = lease_ms
        self.n = n
        self.extra = extra
        self.nodes: list[Node] = []

    def start(self) -> None:
        try:
            self.nats.start()
            # Node() starts its process
            self.nodes = [Node(self.nats.url, f"n{i}", self.lease_ms, self.dir, *self.extra)
                          for i in range(self.n)]
            for nd in self.nodes:
                nd.wait_ready()
            self.wait_primary()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for nd in self.nodes:
            try:
                nd.sigcont()
            except (ProcessLookupError, AssertionError):
                pass
            nd.stop()
        self.nats.stop()
        if os.environ.get("DURAKV_KEEP_TEST_DIRS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def primary(self) -> Node | None:
        for nd in self.nodes:
            r = nd.role()
            if r and r[0] == b"master":
                return nd
        return None

    def wait_primary(self, timeout: float = 30.0, exclude: Node | None = None) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for nd in self.nodes:
                if nd is exclude:
                    continue
                r = nd.role()
                if r and r[0] == b"master":
                    return nd
            time.sleep(0.05)
        raise TimeoutError("no primary")

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Until every node is up and the replicas applied what the primary appended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            roles = [nd.role() for nd in self.nodes]
            if all(roles):
                prim = [r for r in roles if r and r[0] == b"master"]
                reps = [r for r in roles if r and r[0] == b"slave"]
                if len(prim) == 1 and all(r[3] == b"connected" and r[4] >= prim[0][1] for r in reps):
                    return
            time.sleep(0.05)
        raise TimeoutError(f"not caught up: {[nd.role() for nd in self.nodes]}")


class Writers:
    """Concurrent clients writing unique values to whichever node is primary."""

    def __init__(self, shard: Shard, clients: int = 4, tag: str = "w") -> None:
        self.shard = shard
        self.n = clients
        self.tag = tag
        self.stop_flag = threading.Event()
        self.acked: list[list[tuple[str, str, str, Any, float, int]]] = [[] for _ in range(clients)]
        self.errors = 0
        self.threads: list[threading.Thread] = []
        self.first_ok_after: dict[float, float] = {}
        self.ack_ports: list[tuple[float, int]] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.n):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)

    def _find_primary(self) -> redis.Redis | None:
        for nd in self.shard.nodes:
            r = nd.role()
            if r and r[0] == b"master":
                return nd.client(socket_timeout=3, socket_connect_timeout=1)
        return None

    def _run(self, i: int) -> None:
        c: redis.Redis | None = None
        seq = 0
        mine = self.acked[i]
        while not self.stop_flag.is_set():
            if c is None:
                c = self._find_primary()
                if c is None:
                    time.sleep(0.05)
                    continue
            seq += 1
            op = ("set", "rpush", "incr")[seq % 3]
            val = f"{self.tag}{i}-{seq}"
            try:
                if op == "set":
                    r: Any = c.set(f"{self.tag}:s:{i}:{seq % 50}", val)
                    key = f"{self.tag}:s:{i}:{seq % 50}"
                elif op == "rpush":
                    key = f"{self.tag}:l:{i}"
                    r = c.rpush(key, val)
                else:
                    key = f"{self.tag}:c:{i}"
                    r = c.incr(key)
                port = c.connection_pool.connection_kwargs["port"]
                mine.append((op, key, val, r, time.monotonic(), port))
            except (redis.RedisError, OSError):
                with self.lock:
                    self.errors += 1
                try:
                    c.close()
                except Exception:  # noqa: BLE001
                    pass
                c = None
                time.sleep(0.02)

    def total_acked(self) -> int:
        return sum(len(a) for a in self.acked)

    def acked_since(self, t: float) -> list[tuple[str, str, str, Any, float, int]]:
        return [a for lst in self.acked for a in lst if a[4] >= t]


def verify(writers: Writers, node: Node) -> list[str]:
    """Every acknowledged write of ``writers`` present on ``node``: the list of losses."""
    lost: list[str] = []
    c = node.client(socket_timeout=30)
    last_set: dict[str, str] = {}
    for i, ops in enumerate(writers.acked):
        lkey = f"{writers.tag}:l:{i}"
        items = [x.decode() for x in c.lrange(lkey, 0, -1)]
        pos = {v: k for k, v in enumerate(items)}
        max_incr = 0
        for op, key, val, r, _t, _p in ops:
            if op == "rpush":
                if val not in pos:
                    lost.append(f"rpush {key} {val}")
                elif pos[val] != r - 1:
                    lost.append(f"rpush {key} {val} at {pos[val]} not {r - 1}")
            elif op == "incr":
                max_incr = max(max_incr, r)
            else:
                last_set[key] = val
        cur = int(c.get(f"{writers.tag}:c:{i}") or 0)
        if cur < max_incr:
            lost.append(f"incr {writers.tag}:c:{i} is {cur} < acked {max_incr}")
    for key, val in last_set.items():
        got = c.get(key)
        # a later write may have failed without an ack yet been applied: accept any value of this client
        # written at or after the last acked one
        if got is None:
            lost.append(f"set {key} missing")
        else:
            g = got.decode()
            gi = int(g.rsplit("-", 1)[1])
            if gi < int(val.rsplit("-", 1)[1]):
                lost.append(f"set {key} = {g} older than acked {val}")
    c.close()
    return lost


def digest(node: Node) -> dict[bytes, Any]:
    """The whole keyspace of db 0 as plain Python values (for replica comparisons)."""
    c = node.client(socket_timeout=30)
    out: dict[bytes, Any] = {}
    for k in c.scan_iter(count=1000):
        t = c.type(k)
        if t == b"string":
            out[k] = c.get(k)
        elif t == b"list":
            out[k] = c.lrange(k, 0, -1)
        elif t == b"hash":
            out[k] = c.hgetall(k)
        elif t == b"set":
            out[k] = c.smembers(k)
        elif t == b"zset":
            out[k] = c.zrange(k, 0, -1, withscores=True)
        else:
            out[k] = t
    c.close()
    return out


__all__ = ["NatsCluster", "Node", "Shard", "Writers", "verify", "digest", "sys"]
