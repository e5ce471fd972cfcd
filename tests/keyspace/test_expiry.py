"""Expiry: lazy and active reclamation, DEL effects for the log, replay of key commands.

In-process tests drive a node with a :class:`ManualClock` and a :class:`MemoryLog` (no
sleeps); the server tests check that active expiry reclaims keys nobody touches, on both
redis-server and durakv.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from durakv import dispatch
from durakv.clock import ManualClock
from durakv.config import Config
from durakv.durability.log import MemoryLog
from durakv.node import Node
from durakv.session import Session


class Harness:
    """One in-process node with a manual clock; effects go to a MemoryLog."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.node = Node(Config(), clock=self.clock)
        self.pending: list[Callable[[], None]] = []
        self.log = MemoryLog()
        self.node.attach_log(self.log, self.pending.append)
        self.ctx = self.node.ctx
        self.ks = self.ctx.ks
        self.c = Session(self.ctx, 1, self.ks.dbs[0])
        self.events: list[tuple[str, str, bytes, int]] = []
        prev = self.ks.notify

        def notify(t: str, e: str, k: bytes, d: int) -> None:
            self.events.append((t, e, k, d))
            prev(t, e, k, d)

        self.ks.notify = notify

    def run(self, *args: Any, c: Session | None = None) -> bytes:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return dispatch.execute(c or self.c, argv)

    def flush(self) -> list[bytes]:
        """End of the event-loop pass: the open batch becomes one record; its commands."""
        while self.pending:
            self.pending.pop(0)()
        return self.commands()

    def commands(self) -> list[list[bytes]]:
        import hiredis

        out = []
        for rec in self.log.records:
            rd = hiredis.Reader()
            rd.feed(rec)
            while (cmd := rd.gets()) is not False:
                out.append(cmd)
        return out

    def snapshot(self) -> list[tuple[int, dict, dict]]:
        return [(db.id, dict(db.data), dict(db.expires)) for db in self.ks.dbs if db.data]


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_lazy_expiry_logs_del(h: Harness) -> None:
    h.run("SET", "k", "v", "PX", "100")
    h.flush()
    h.clock.advance(99)
    assert h.run("GET", "k") == b"$1\r\nv\r\n"
    h.clock.advance(1)
    assert h.run("GET", "k") == b"$-1\r\n"
    cmds = h.flush()
    assert cmds[-1] == [b"DEL", b"k"]
    assert h.ks.stat_expired == 1
    assert ("x", "expired", b"k", 0) in h.events
    assert b"k" not in h.ks.dbs[0].data and b"k" not in h.ks.dbs[0].expires


def test_active_expiry_reclaims_without_access(h: Harness) -> None:
    db = h.ks.dbs[0]
    for i in range(1000):
        h.run("SET", f"k{i}", "v", "PX", 10 + i % 50)
    for i in range(100):
        h.run("SET", f"keep{i}", "v")
    h.run("SELECT", "3")
    h.run("SET", "other", "v", "PX", "5")
    h.flush()
    h.clock.advance(100)
    removed = 0
    while (n := h.ks.active_expire(200)) > 0:
        removed += n
    assert removed == 1001
    assert len(db.data) == 100 and not db.expires
    assert len(h.ks.dbs[3].data) == 0
    dels = [c for c in h.flush() if c[0] == b"DEL"]
    assert len(dels) == 1001


def test_cron_runs_active_expiry(h: Harness) -> None:
    class Loop:
        def call_later(self, delay: float, fn: Callable[[], None]) -> None:
            pass

    h.node.loop = Loop()  # type: ignore[assignment]
    for i in range(500):
        h.run("SET", f"k{i}", "v", "PX", "50")
    h.flush()
    h.clock.advance(60)
    for _ in range(10):
        h.node._cron()
        if not h.ks.dbs[0].data:
            break
    assert not h.ks.dbs[0].data
    assert sum(1 for c in h.flush() if c[0] == b"DEL") == 500


def test_expire_heap_follows_updates(h: Harness) -> None:
    """Re-expiring or persisting a key leaves stale heap entries that must not delete it."""
    h.run("SET", "k", "v", "PX", "10")
    h.run("PEXPIRE", "k", "1000")
    h.run("SET", "p", "v", "PX", "10")
    h.run("PERSIST", "p")
    h.run("SET", "s", "v", "PX", "10")
    h.run("SET", "s", "v2")  # SET drops the TTL
    h.clock.advance(20)
    assert h.ks.active_expire(100) == 0
    assert set(h.ks.dbs[0].data) == {b"k", b"p", b"s"}
    h.clock.advance(1000)
    assert h.ks.active_expire(100) == 1
    assert set(h.ks.dbs[0].data) == {b"p", b"s"}


def test_next_expiry(h: Harness) -> None:
    db = h.ks.dbs[0]
    assert db.next_expiry() is None
    h.run("SET", "a", "v", "PX", "500")
    h.run("SET", "b", "v", "PX", "100")
    assert db.next_expiry() == h.clock.now_ms() + 100
    h.run("PERSIST", "b")
    assert db.next_expiry() == h.clock.now_ms() + 500


def test_effects_replay_to_same_data(h: Harness) -> None:
    """The logged effects of every key command rebuild identical data on a fresh node."""
    script = [
        ("SET", "a", "1"), ("EXPIRE", "a", "100"), ("SET", "b", "2"), ("PEXPIRE", "b", "5000", "NX"),
        ("EXPIREAT", "b", "1", "GT"), ("SET", "c", "3"), ("EXPIRE", "c", "-1"), ("SET", "d", "4"),
        ("RENAME", "a", "a2"), ("RENAMENX", "b", "b2"), ("COPY", "a2", "a3"), ("COPY", "a2", "x", "DB", "2"),
        ("MOVE", "d", "1"), ("SET", "e", "5"), ("PERSIST", "a3"), ("SWAPDB", "1", "2"),
        ("MULTI",), ("SET", "m1", "1"), ("EXPIRE", "m1", "50"), ("RENAME", "m1", "m2"), ("EXEC",),
        ("SET", "f", "6"), ("DEL", "f", "nokey"), ("SET", "g", "7"), ("UNLINK", "g"),
        ("SELECT", "5"), ("SET", "z", "1"), ("FLUSHDB",), ("SET", "z2", "1"), ("SELECT", "0"),
        ("PEXPIREAT", "e", h.clock.now_ms() + 777),
    ]
    for args in script:
        h.run(*args)
    h.flush()
    want = h.snapshot()
    other = Harness()
    for rec in h.log.records:
        other.node.apply_payload(rec)
    assert other.snapshot() == want
    cmds = h.commands()
    names = [c[0].upper() for c in cmds]
    assert b"EXPIRE" not in names and b"PEXPIRE" not in names and b"EXPIREAT" not in names
    assert [b"DEL", b"c"] in cmds


def test_multi_exec_is_one_record(h: Harness) -> None:
    h.run("SET", "before", "1")
    h.flush()
    n = len(h.log.records)
    for args in [("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("EXPIRE", "a", "10"), ("EXEC",)]:
        h.run(*args)
    h.flush()
    assert len(h.log.records) == n + 1
    rec = h.commands()[-6:]
    # wrapped as Redis 7.0 propagates a transaction: SELECT, then MULTI ... EXEC
    assert [c[0].upper() for c in rec] == [b"SELECT", b"MULTI", b"SET", b"INCR", b"PEXPIREAT", b"EXEC"]


def test_watch_sees_active_expiry(h: Harness) -> None:
    c2 = Session(h.ctx, 2, h.ks.dbs[0])
    h.run("SET", "k", "v", "PX", "10")
    h.run("WATCH", "k", c=c2)
    h.clock.advance(20)
    h.ks.active_expire(100)
    h.run("MULTI", c=c2)
    h.run("PING", c=c2)
    assert h.run("EXEC", c=c2) == b"*-1\r\n"


def test_active_expiry_on_servers(r) -> None:
    """Keys nobody touches are reclaimed: DBSIZE drops (redis-server and durakv)."""
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"k{i}", "v", px=30)
    pipe.set("stays", "v")
    pipe.execute()
    assert r.dbsize() >= 150
    deadline = time.monotonic() + 5
    while r.dbsize() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert r.dbsize() == 1
    assert r.info("stats")["expired_keys"] >= 200


def test_replica_hides_expired_keys_until_primary_del(h: Harness) -> None:
    """On a replica (expire_allowed off) an expired key reads as missing to clients but is
    kept until the primary's DEL effect is applied."""
    h.run("SET", "k", "v", "PX", "10")
    h.run("SET", "live", "v")
    h.flush()
    h.ks.expire_allowed = False
    h.clock.advance(20)
    assert h.run("GET", "k") == b"$-1\r\n"
    assert h.run("EXISTS", "k") == b":0\r\n"
    assert h.run("TTL", "k") == b":-2\r\n"
    assert h.run("KEYS", "*") == b"*1\r\n$4\r\nlive\r\n"
    assert h.ks.active_expire(100) == 0
    assert b"k" in h.ks.dbs[0].data
    h.node.apply_payload(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n")
    assert b"k" not in h.ks.dbs[0].data


@pytest.mark.parametrize("between,aborts", [
    ([], False),  # still there, logically expired: not a change since WATCH
    ([("GET", "k")], False),  # lazily deleted: no logical change
    ([("SET", "k", "new")], True),  # recreated
    ([("GET", "k"), ("SET", "k", "new")], True),
    ([("FLUSHDB",)], False),
    ([("SET", "other", "x")], False),
])
def test_watch_key_already_expired_at_watch_time(h: Harness, between: list, aborts: bool) -> None:
    c2 = Session(h.ctx, 2, h.ks.dbs[0])
    h.run("SET", "k", "v", "PX", "10")
    h.clock.advance(20)
    h.run("WATCH", "k", c=c2)  # the key is expired but not reclaimed yet
    for args in between:
        h.run(*args)
    h.run("MULTI", c=c2)
    h.run("PING", c=c2)
    assert h.run("EXEC", c=c2) == (b"*-1\r\n" if aborts else b"*1\r\n+PONG\r\n")


def test_watch_key_expiring_after_watch_aborts(h: Harness) -> None:
    c2 = Session(h.ctx, 2, h.ks.dbs[0])
    h.run("SET", "k", "v", "PX", "10")
    h.run("WATCH", "k", c=c2)
    h.clock.advance(20)  # expired, not reclaimed: EXEC still sees it (isWatchedKeyExpired)
    h.run("MULTI", c=c2)
    h.run("PING", c=c2)
    assert h.run("EXEC", c=c2) == b"*-1\r\n"


def test_slow_expire_cycle_is_a_latency_event() -> None:
    from tests.support.procs import start_durakv

    p = start_durakv()
    try:
        r = redis.Redis(port=p.port)
        r.config_set("latency-monitor-threshold", 1)
        pipe = r.pipeline(transaction=False)
        for i in range(30_000):
            pipe.set(f"k{i}", "v", px=50)
        pipe.execute()
        deadline = time.time() + 10
        while r.dbsize() and time.time() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 0
        assert b"expire-cycle" in b" ".join(e[0] for e in r.execute_command("LATENCY", "LATEST"))
    finally:
        p.stop()
