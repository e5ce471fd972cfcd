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
    time.sleep(4.0)
    after = len(w.acked_since(t + 2.5))
    w.stop()
    assert after > 20, "writes did not continue with two of three NATS servers"
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
