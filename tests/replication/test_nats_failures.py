"""Losing NATS servers: one of three keeps the shard writable; two stop writes without
losing an acknowledged one; service resumes when they come back."""

from __future__ import annotations

import time

import pytest
import redis

from tests.replication.harness import Shard, Writers, verify


@pytest.fixture(scope="module")
def shard():
    s = Shard(2, lease_ms=1000)
    s.start()
    yield s
    s.stop()


def _write_ok(shard: Shard, key: str, timeout: float) -> float | None:
    """Seconds until a write on the primary succeeded (following ROLE), or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        prim = shard.primary()
        if prim is not None:
            try:
                if prim.client(socket_timeout=2).set(key, "1"):
                    return time.monotonic() - t0
            except (redis.RedisError, OSError):
                pass
        time.sleep(0.05)
    return None


def test_one_nats_server_down_writes_continue(shard: Shard) -> None:
    shard.wait_caught_up()
    w = Writers(shard, 3, tag="n1")
    w.start()
    time.sleep(0.5)
    victim = shard.nats.servers[0]
    victim.kill9()
    t = time.monotonic()
    # if the killed server led the stream, JetStream elects another stream leader first
    # (its raft election timeout is several seconds); then writes flow again
    deadline = t + 20
    resumed = None
    while time.monotonic() < deadline and resumed is None:
        after = w.acked_since(t + 0.5)
        if after:
            resumed = min(a[4] for a in after)
        time.sleep(0.05)
    assert resumed is not None, "writes did not resume with two of three NATS servers"
    time.sleep(2.0)
    flowing = len(w.acked_since(resumed + 0.5))
    w.stop()
    print(f"\none NATS server killed: writes paused {resumed - t:.2f}s")
    assert flowing > 20, "writes did not continue with two of three NATS servers"
    prim = shard.wait_primary()
    assert verify(w, prim) == []
    victim.start()
    shard.nats.wait_jetstream()


def test_two_nats_servers_down_then_back(shard: Shard) -> None:
    shard.wait_caught_up(60)
    w = Writers(shard, 3, tag="n2")
    w.start()
    time.sleep(0.5)
    a, b = shard.nats.servers[1], shard.nats.servers[2]
    a.kill9()
    b.kill9()
    t_down = time.monotonic()
    time.sleep(4.0)
    acked_late = w.acked_since(t_down + 2.0)
    assert acked_late == [], "writes were acknowledged without a JetStream quorum"
    a.start()
    b.start()
    took = _write_ok(shard, "n2:probe", 60)
    assert took is not None, "service did not resume after the NATS servers came back"
    time.sleep(0.5)
    w.stop()
    assert len(w.acked_since(t_down)) > 0
    prim = shard.wait_primary()
    assert verify(w, prim) == []
    shard.wait_caught_up(60)
    for nd in shard.nodes:
        assert verify(w, nd) == [], nd.id


def test_idle_primary_losing_quorum_keeps_its_memory(shard: Shard) -> None:
    """A primary with nothing in flight that loses its lease matches the log: it follows
    the log from there, no reload."""
    shard.wait_caught_up(60)
    prim = shard.wait_primary()
    c = prim.client()
    for i in range(50):
        c.set(f"idle:{i}", i)
    shard.wait_caught_up(60)
    a, b = shard.nats.servers[1], shard.nats.servers[2]
    a.kill9()
    b.kill9()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = prim.role()
        if r is not None and r[0] == b"slave":
            break
        time.sleep(0.05)
    assert r is not None and r[0] == b"slave"
    a.start()
    b.start()
    assert _write_ok(shard, "idle:after", 60) is not None
    new = shard.wait_primary()
    assert new.client().get("idle:49") == b"49"
    assert "without a resync" in prim.proc.log()
    shard.wait_caught_up(60)
    for nd in shard.nodes:
        assert nd.client().get("idle:after") == b"1"


@pytest.mark.soak
def test_stream_leader_nats_server_killed(shard: Shard) -> None:
    """The worst single failure: the NATS server that leads the shard stream."""
    import asyncio

    import nats

    shard.wait_caught_up(60)

    async def leader() -> str:
        nc = await nats.connect(shard.nats.url.split(","))
        try:
            info = await nc.jetstream().stream_info("DURAKV_S0")
            return info.cluster.leader
        finally:
            await nc.close()

    name = asyncio.run(leader())
    victim = [s for s in shard.nats.servers if f"durakv-{s.zone}" == name][0]
    w = Writers(shard, 3, tag="nl")
    w.start()
    time.sleep(0.5)
    victim.kill9()
    t = time.monotonic()
    deadline = t + 30
    resumed = None
    while time.monotonic() < deadline and resumed is None:
        after = w.acked_since(t + 0.2)
        if after:
            resumed = min(a[4] for a in after)
        time.sleep(0.05)
    time.sleep(1.0)
    w.stop()
    assert resumed is not None, "writes did not resume after the stream leader's server died"
    print(f"\nstream leader's NATS server killed: writes paused {resumed - t:.2f}s")
    prim = shard.wait_primary()
    assert verify(w, prim) == []
    victim.start()
    shard.nats.wait_jetstream()
    shard.wait_caught_up(60)
    for nd in shard.nodes:
        assert verify(w, nd) == [], nd.id
