"""The ``durakv`` console script: run and inspect a local cluster.

* ``durakv up --dir DIR [--shards 1] [--replicas 2] [--base-port 7000]`` starts three NATS
  servers (zones a, b, c) and the nodes, prints the endpoints, restarts processes that
  die, keeps ``DIR/cluster.json`` current, and stops everything on Ctrl-C / SIGTERM.
* ``durakv status --dir DIR`` shows every node's role, log position and lag.
* ``durakv failover --dir DIR --shard N`` hands the shard's primary role to a caught-up
  replica (``FAILOVER`` on the primary) and waits for the new primary.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from typing import Any

from ..protocol.resp import encode_command
from .supervisor import LocalCluster


def _call(host: str, port: int, *args: str, timeout: float = 2.0) -> Any:
    """One command over a fresh connection; returns the parsed reply (or an Exception)."""
    import hiredis

    payload = encode_command([a.encode() for a in args])
    reader = hiredis.Reader()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(payload)
        while True:
            data = s.recv(65536)
            if not data:
                raise ConnectionError("connection closed")
            reader.feed(data)
            r = reader.gets()
            if r is not False:
                return r


def _info(host: str, port: int, section: str) -> dict[str, str]:
    r = _call(host, port, "INFO", section)
    if isinstance(r, Exception):
        return {}
    out = {}
    for line in r.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def load_cluster(directory: str) -> dict[str, Any]:
    path = os.path.join(directory, "cluster.json")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise SystemExit(f"no cluster in {directory} (missing cluster.json)") from None


def node_status(n: dict[str, Any]) -> dict[str, Any]:
    st: dict[str, Any] = {"id": n["id"], "shard": n["shard"], "endpoint": f"{n['host']}:{n['port']}",
                          "pid": n.get("pid"), "role": "down", "seq": "-", "lag": "-", "state": "-"}
    try:
        role = _call(n["host"], n["port"], "ROLE")
    except OSError:
        return st
    if isinstance(role, Exception) or not isinstance(role, list):
        st["role"] = "error"
        return st
    st["role"] = role[0].decode()
    if st["role"] == "master":
        st["seq"] = role[1]
        st["lag"] = 0
        st["state"] = f"{len(role[2])} replicas"
    else:
        st["seq"] = role[4]
        st["state"] = role[3].decode()
        info = _info(n["host"], n["port"], "replication")
        st["lag"] = info.get("log_lag", "-")
        st["primary"] = f"{role[1].decode()}:{role[2]}"
    return st


def cmd_status(args: argparse.Namespace) -> int:
    cl = load_cluster(args.dir)
    rows = [node_status(n) for n in cl["nodes"]]
    if args.json:
        print(json.dumps({"nodes": rows, "nats": cl.get("nats", [])}, indent=2))
        return 0
    print(f"{'node':<8} {'shard':>5} {'endpoint':<21} {'pid':>8} {'role':<7} {'seq':>10} {'lag':>6}  state")
    for r in rows:
        print(f"{r['id']:<8} {r['shard']:>5} {r['endpoint']:<21} {str(r['pid'] or '-'):>8} {r['role']:<7} "
              f"{str(r['seq']):>10} {str(r['lag']):>6}  {r['state']}")
    for z in cl.get("nats", []):
        alive = "up"
        try:
            socket.create_connection((z["host"], z["port"]), timeout=0.5).close()
        except OSError:
            alive = "down"
        print(f"nats zone {z['zone']}: {z['host']}:{z['port']} pid {z.get('pid') or '-'} {alive}")
    return 0


def find_primary(cl: dict[str, Any], shard: int) -> dict[str, Any] | None:
    for n in cl["nodes"]:
        if n["shard"] != shard:
            continue
        try:
            role = _call(n["host"], n["port"], "ROLE")
        except OSError:
            continue
        if isinstance(role, list) and role and role[0] == b"master":
            return n
    return None


def cmd_failover(args: argparse.Namespace) -> int:
    cl = load_cluster(args.dir)
    prim = find_primary(cl, args.shard)
    if prim is None:
        print(f"shard {args.shard} has no primary right now", file=sys.stderr)
        return 1
    fargs = ["FAILOVER"]
    if args.timeout:
        fargs += ["TIMEOUT", str(args.timeout)]
    deadline = time.monotonic() + args.wait
    while True:
        r = _call(prim["host"], prim["port"], *fargs)
        # a primary elected a moment ago learns its replicas from their first reports
        if not (isinstance(r, Exception) and "requires connected replicas" in str(r)
                and time.monotonic() < deadline):
            break
        time.sleep(0.2)
    if isinstance(r, Exception):
        print(f"{prim['id']}: {r}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
        new = find_primary(cl, args.shard)
        if new is not None and new["id"] != prim["id"]:
            print(f"shard {args.shard}: primary is now {new['id']} {new['host']}:{new['port']} "
                  f"(was {prim['id']})")
            return 0
    print(f"shard {args.shard}: no new primary within {args.wait}s", file=sys.stderr)
    return 1


def cmd_up(args: argparse.Namespace) -> int:
    if args.shards != 1:
        print("only --shards 1 is supported until cluster mode lands", file=sys.stderr)
        return 2
    cl = LocalCluster(args.dir, args.shards, args.replicas, args.base_port, args.nats_port,
                      lease_ms=args.lease_ms)
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    cl.start()
    for z in cl.nats:
        print(f"nats zone {z.extra['zone']}: nats://{z.host}:{z.port} (pid {z.pid})")
    for n in cl.nodes:
        print(f"node {n.name} shard {n.extra['shard']}: redis://{n.host}:{n.port} (pid {n.pid})")
    print(f"cluster.json: {os.path.join(cl.dir, 'cluster.json')}  (Ctrl-C stops everything)", flush=True)
    try:
        while not stopping:
            for p in cl.supervise_once():
                print(f"restarted {p.kind} {p.name} (pid {p.pid})", flush=True)
            time.sleep(0.2)
    finally:
        print("stopping...", flush=True)
        cl.stop()
    return 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="durakv", description="durakv local clusters")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start a local cluster (NATS x3 + nodes) and supervise it")
    up.add_argument("--dir", required=True)
    up.add_argument("--shards", type=int, default=1)
    up.add_argument("--replicas", type=int, default=2)
    up.add_argument("--base-port", type=int, default=7000)
    up.add_argument("--nats-port", type=int, default=None, help="first NATS client port (default base+20)")
    up.add_argument("--lease-ms", type=int, default=2000)
    up.set_defaults(fn=cmd_up)
    st = sub.add_parser("status", help="roles, log positions and lag of a local cluster")
    st.add_argument("--dir", required=True)
    st.add_argument("--json", action="store_true")
    st.set_defaults(fn=cmd_status)
    fo = sub.add_parser("failover", help="hand a shard's primary role to a caught-up replica")
    fo.add_argument("--dir", required=True)
    fo.add_argument("--shard", type=int, default=0)
    fo.add_argument("--timeout", type=int, default=0, help="FAILOVER TIMEOUT in ms")
    fo.add_argument("--wait", type=float, default=15.0)
    fo.set_defaults(fn=cmd_failover)
    args = ap.parse_args(argv)
    sys.exit(args.fn(args))


if __name__ == "__main__":
    main()
