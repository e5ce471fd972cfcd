"""Replication commands: ROLE WAIT FAILOVER READONLY READWRITE REPLICAOF SLAVEOF.

durakv replicas follow the shard's log (``durakv.replication``), not a primary's
socket, so REPLICAOF cannot point a node at another server: it answers as Redis does
where the request already holds (the current primary on a replica) and with an error
otherwise.  ``REPLICAOF NO ONE`` on a replica asks the primary for a planned hand-over
to it (FAILOVER semantics: no acknowledged write is lost).  ``WAIT`` counts the replicas that applied the
log up to the client's writes (a log position at least as new as its last write).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import BLOCKED, Session
from ..spec import command
from ._util import parse_int

WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
    "replica is configured to be writable (which is not the default) writes to replicas are just "
    "local and are not propagated."
)
FAILOVER_ON_REPLICA = "ERR FAILOVER is not valid when server is a replica."
FAILOVER_NO_REPLICAS = "ERR FAILOVER requires connected replicas."
FAILOVER_IN_PROGRESS = "ERR FAILOVER already in progress."
FAILOVER_NOT_IN_PROGRESS = "ERR No failover in progress."
FAILOVER_TIMEOUT = "ERR FAILOVER timeout must be greater than 0"
FAILOVER_FORCE = "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
FAILOVER_NOT_REPLICA = "ERR FAILOVER target HOST and PORT is not a replica."
TIMEOUT_NOT_INT = "ERR timeout is not an integer or out of range"
INVALID_MASTER_PORT = "ERR Invalid master port"
REPLICAOF_LOG = (
    "ERR REPLICAOF is not supported: durakv replicas follow the shard log; use FAILOVER or "
    "'durakv failover' to move the primary"
)


@command("role", 1, "noscript loading stale fast", "@admin @fast @dangerous")
def role(c: Session, argv: list[bytes]) -> bytes:
    rep = c.srv.replication
    if rep is None:
        ex = c.srv.extras.get("exporter")  # external Redis replicas of a standalone node
        if ex is None:
            return resp.array([resp.bulk(b"master"), resp.integer(0), resp.EMPTY_ARRAY])
        items = [resp.bulks([r.session.addr.rsplit(":", 1)[0].encode(), b"%d" % r.port, b"%d" % r.ack_offset])
                 for r in ex.replicas]
        return resp.array([resp.bulk(b"master"), resp.integer(ex.offset), resp.array(items)])
    if rep.state == "primary":
        items = []
        for _nid, e in sorted(rep.live_replicas().items()):
            h, _, p = e[0].rpartition(":")
            items.append(resp.bulks([h.encode(), p.encode(), b"%d" % e[1]]))
        return resp.array([resp.bulk(b"master"), resp.integer(rep.position()), resp.array(items)])
    h, p = rep.primary_endpoint()
    return resp.array([
        resp.bulk(b"slave"), resp.bulk(h.encode()), resp.integer(p),
        resp.bulk(rep.link_state().encode()), resp.integer(rep.applied_sseq),
    ])


class _Waiter:
    """A client blocked in WAIT."""

    __slots__ = ("c", "num", "target", "timer", "srv")

    def __init__(self, c: Session, num: int, target: int) -> None:
        self.c = c
        self.srv = c.srv
        self.num = num
        self.target = target
        self.timer: Any = None

    def done(self, n: int) -> None:
        rep = self.srv.replication
        if rep is not None and self in rep.waiters:
            rep.waiters.remove(self)
        ex = self.srv.extras.get("exporter")
        if ex is not None and self in ex.waiters:
            ex.waiters.remove(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        conn = self.c.conn
        if conn is not None and not conn.closing:
            conn.unblock(resp.integer(n))


@command("wait", 3, "noscript", "@slow @connection")
def wait(c: Session, argv: list[bytes]) -> bytes:
    srv = c.srv
    if srv.role != "master" and (srv.replication is None or srv.replication.state != "primary"):
        raise CommandError(WAIT_ON_REPLICA)
    num = parse_int(argv[1])
    timeout = parse_int(argv[2], TIMEOUT_NOT_INT)
    if timeout < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    rep = srv.replication
    tracker = srv.tracker
    target = tracker.wait_all() if tracker is not None else 0
    # durakv replicas (log followers) in a cluster; Redis replicas fed over PSYNC otherwise
    ex = srv.extras.get("exporter") if rep is None else None
    counter = rep.count_acks if rep is not None else ex.count_acks if ex is not None else (lambda t: 0)
    n = counter(target)
    if n >= num or c.multi is not None or c.in_exec or c.in_script or c.conn is None:
        return resp.integer(n)
    w = _Waiter(c, num, target)
    if rep is not None:
        rep.waiters.append(w)
    elif ex is not None:
        ex.waiters.append(w)
        ex.ask_acks()
    if timeout:
        loop = asyncio.get_running_loop()
        w.timer = loop.call_later(timeout / 1000, lambda: w.done(counter(w.target)))
    return BLOCKED


@command("failover", -1, "admin noscript stale", "@admin @slow @dangerous")
def failover(c: Session, argv: list[bytes]) -> bytes:
    rep = c.srv.replication
    n = len(argv)
    if n == 2 and argv[1].lower() == b"abort":
        if rep is None or rep.failover_state == "no-failover":
            raise CommandError(FAILOVER_NOT_IN_PROGRESS)
        rep.abort_failover()
        return resp.OK
    target: tuple[bytes, int] | None = None
    force = False
    timeout = 0
    i = 1
    while i < n:
        opt = argv[i].lower()
        if opt == b"timeout" and i + 1 < n and timeout <= 0:
            timeout = parse_int(argv[i + 1])
            if timeout <= 0:
                raise CommandError(FAILOVER_TIMEOUT)
            i += 2
        elif opt == b"to" and i + 2 < n and target is None:
            target = (argv[i + 1], parse_int(argv[i + 2]))
            i += 3
        elif opt == b"force" and not force:
            force = True
            i += 1
        else:
            raise CommandError(errors.SYNTAX)
    if rep is not None and rep.failover_state != "no-failover":
        raise CommandError(FAILOVER_IN_PROGRESS)
    if rep is not None and rep.state != "primary":
        raise CommandError(FAILOVER_ON_REPLICA)
    if rep is None or not rep.live_replicas():
        raise CommandError(FAILOVER_NO_REPLICAS)
    if force and (target is None or not timeout):
        raise CommandError(FAILOVER_FORCE)
    tid = None
    if target is not None:
        want = "%s:%d" % (target[0].decode("latin-1"), target[1])
        if not any(e[0] == want for e in rep.live_replicas().values()):
            raise CommandError(FAILOVER_NOT_REPLICA)
        tid = want
    rep.start_failover(tid, timeout, force)
    return resp.OK


@command("readonly", 1, "loading stale fast", "@fast @connection")
def readonly(c: Session, argv: list[bytes]) -> bytes:
    if c.srv.cluster is None:
        raise CommandError(errors.CLUSTER_DISABLED)
    c.readonly_mode = True
    return resp.OK


@command("readwrite", 1, "loading stale fast", "@fast @connection")
def readwrite(c: Session, argv: list[bytes]) -> bytes:
    if c.srv.cluster is None:
        raise CommandError(errors.CLUSTER_DISABLED)
    c.readonly_mode = False
    return resp.OK


def _replicaof(c: Session, argv: list[bytes]) -> bytes:
    host, port_arg = argv[1], argv[2]
    if host.lower() == b"no" and port_arg.lower() == b"one":
        rep = c.srv.replication
        if rep is not None and rep.state != "primary":
            # a replica asks the primary for a planned hand-over to itself
            rep.request_promotion()
        return resp.OK
    port = parse_int(port_arg, INVALID_MASTER_PORT)
    if port < 0 or port > 65535:
        raise CommandError(INVALID_MASTER_PORT)
    rep = c.srv.replication
    if rep is not None and rep.state != "primary":
        h, p = rep.primary_endpoint()
        if h.encode() == host and p == port:
            return resp.simple(b"OK Already connected to specified master")
    raise CommandError(REPLICAOF_LOG)


@command("replicaof", 3, "admin noscript stale no_async_loading", "@admin @slow @dangerous")
def replicaof(c: Session, argv: list[bytes]) -> bytes:
    return _replicaof(c, argv)


@command("slaveof", 3, "admin noscript stale no_async_loading", "@admin @slow @dangerous")
def slaveof(c: Session, argv: list[bytes]) -> bytes:
    return _replicaof(c, argv)


# -- the Redis replication protocol: served to tools and external replicas ----------------
# (durakv's own replicas follow the log; replication/export.py serves SYNC/PSYNC)
def _sync(c: Session, psync: bool, replid: bytes = b"?", want: int = -1) -> bytes:
    serve = c.srv.extras.get("sync")
    if serve is None:
        raise CommandError("ERR SYNC and PSYNC are not available on this node")
    return serve(c, psync, replid, want)


@command("sync", 1, "admin noscript no_async_loading no_multi", "@admin @slow @dangerous")
def sync(c: Session, argv: list[bytes]) -> bytes:
    return _sync(c, False)


@command("psync", -3, "admin noscript no_async_loading no_multi", "@admin @slow @dangerous")
def psync(c: Session, argv: list[bytes]) -> bytes:
    return _sync(c, True, argv[1], parse_int(argv[2]))


@command("replconf", -1, "admin noscript loading stale allow_busy", "@admin @slow @dangerous")
def replconf(c: Session, argv: list[bytes]) -> bytes:
    """Accepted as Redis accepts it from a would-be replica; ACK and GETACK get no reply."""
    if len(argv) % 2 == 0:
        raise CommandError(errors.SYNTAX)
    for j in range(1, len(argv), 2):
        opt = argv[j].lower()
        val = argv[j + 1]
        if opt == b"listening-port":
            parse_int(val)
        elif opt == b"ip-address":
            if len(val) >= 256:  # NET_HOST_STR_LEN
                raise CommandError(
                    "ERR REPLCONF ip-address provided by replica instance is too long: %d bytes" % len(val))
        elif opt == b"capa":
            pass
        elif opt in (b"ack", b"getack"):
            note = c.srv.extras.get("replconf")
            if note is not None:
                note(c, opt, val)
            # no reply at all (inside EXEC an element must exist: +OK keeps the array whole)
            return resp.OK if c.in_exec else b""
        elif opt == b"rdb-only":
            v = parse_int(val)
            if v < 0 or v > 1:
                raise CommandError("ERR value is out of range, value must between 0 and 1")
        else:
            raise CommandError("ERR Unrecognized REPLCONF option: %s" % argv[j].decode("latin-1"))
    note = c.srv.extras.get("replconf")
    if note is not None:
        for j in range(1, len(argv), 2):
            note(c, argv[j].lower(), argv[j + 1])
    return resp.OK
