"""A shard of three nodes on a three-zone JetStream log: replicas, roles, WAIT, failover.

Real processes (three nats-server, three durakv-server), lease 1000 ms.  The tests run in
file order on one shard; each leaves it with one primary and two caught-up replicas.
"""

from __future__ import annotations

import statistics
import time

import pytest
import redis

from tests.replication.harness import Shard, Writers, digest, verify
from tests.support.raw import Raw

READONLY_ERR = b"-READONLY You can't write against a read only replica.\r\n"


@pytest.fixture(scope="module")
def shard():
    s = Shard(3, lease_ms=1000)
    s.start()
    yield s
    s.stop()


def replicas(shard: Shard):
    prim = shard.wait_primary()
    return prim, [n for n in shard.nodes if n is not prim]


def test_replicas_apply_committed_records_in_order(shard: Shard) -> None:
    prim, reps = replicas(shard)
    c = prim.client()
    c.set("s", "v")
    c.set("t", "x", px=600000)
    c.hset("h", mapping={"a": "1", "b": "2"})
    c.zadd("z", {"m1": 1.5, "m2": -2})
    c.sadd("set", "a", "b", "c")
    for i in range(200):
        c.rpush("list", i)
    c.incrbyfloat("f", 1.25)
    p = c.pipeline(transaction=True)
    p.incr("ctr").lpush("list2", "x").execute()
    shard.wait_caught_up()
    want = digest(prim)
    assert want[b"list"][-1] == b"199"
    for r in reps:
        assert digest(r) == want
        assert 590000 < r.client().pttl("t") <= 600000


def test_records_bigger_than_a_nats_message(shard: Shard) -> None:
    prim, reps = replicas(shard)
    big = bytes(range(256)) * (20 * 4096)  # 20 MiB: three stream messages
    c = prim.client(socket_timeout=30)
    p = c.pipeline(transaction=True)
    p.set("big", big).set("big2", big[: 3 * 1024 * 1024]).rpush("after-big", "x")
    p.execute()
    shard.wait_caught_up()
    for r in reps:
        rc = r.client(socket_timeout=30)
        assert rc.get("big") == big
        assert rc.strlen("big2") == 3 * 1024 * 1024
        assert rc.lrange("after-big", 0, -1) == [b"x"]
    c.delete("big", "big2")


def test_replica_refuses_writes_serves_reads(shard: Shard) -> None:
    prim, reps = replicas(shard)
    prim.client().set("ro", "1")
    shard.wait_caught_up()
    for proto in (2, 3):
        raw = Raw(reps[0].port, proto)
        assert raw.call("SET", "ro", "2") == READONLY_ERR
        assert raw.call("INCR", "ro") == READONLY_ERR
        assert raw.call("GET", "ro") == b"$1\r\n1\r\n"
        raw.close()
    assert prim.client().get("ro") == b"1"


def test_role_shapes(shard: Shard) -> None:
    prim, reps = replicas(shard)
    prim.client().set("role", "x")
    shard.wait_caught_up()
    r = prim.role()
    assert r is not None and r[0] == b"master" and isinstance(r[1], int)
    assert sorted(int(e[1]) for e in r[2]) == sorted(n.port for n in reps)
    for e in r[2]:
        assert e[0] == b"127.0.0.1" and int(e[2]) >= 1
    for rep in reps:
        rr = rep.role()
        assert rr is not None
        assert rr[:4] == [b"slave", b"127.0.0.1", prim.port, b"connected"]
        assert rr[4] >= r[1] - 1
        # RESP3: the same array shape
        raw = Raw(rep.port, 3)
        out = raw.call("ROLE")
        assert out.startswith(b"*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:%d\r\n$9\r\nconnected\r\n:" % prim.port)
        raw.close()


def test_info_replication(shard: Shard) -> None:
    prim, reps = replicas(shard)
    shard.wait_caught_up()
    info = prim.client().info("replication")
    assert info["role"] == "master" and info["connected_slaves"] == 2
    assert info["slave0"]["state"] == "online"
    assert info["master_failover_state"] == "no-failover"
    assert len(info["master_replid"]) == 40
    rinfo = reps[0].client().info("replication")
    assert rinfo["role"] == "slave"
    assert rinfo["master_port"] == prim.port and rinfo["master_link_status"] == "up"
    assert rinfo["slave_read_only"] == 1 and "log_lag" in rinfo
    assert rinfo["master_sync_in_progress"] == 0


def test_wait_counts_replicas_that_applied(shard: Shard) -> None:
    prim, reps = replicas(shard)
    c = prim.client()
    c.set("w", "1")
    assert c.execute_command("WAIT", 2, 5000) == 2
    c.set("w", "2")
    t = time.monotonic()
    assert c.execute_command("WAIT", 3, 300) == 2
    assert time.monotonic() - t >= 0.28
    assert c.execute_command("WAIT", 0, 0) == 2
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
        reps[0].client().execute_command("WAIT", 1, 10)
    # inside MULTI: no blocking, the count at once
    p = c.pipeline(transaction=True)
    p.set("w", "3").execute_command("WAIT", 5, 0)
    assert p.execute()[1] in (0, 1, 2)


def test_failover_errors(shard: Shard) -> None:
    prim, reps = replicas(shard)
    rc = reps[0].client()
    with pytest.raises(redis.ResponseError, match="^FAILOVER is not valid when server is a replica.$"):
        rc.execute_command("FAILOVER")
    c = prim.client()
    with pytest.raises(redis.ResponseError, match="^No failover in progress.$"):
        c.execute_command("FAILOVER", "ABORT")
    with pytest.raises(redis.ResponseError, match="^FAILOVER timeout must be greater than 0$"):
        c.execute_command("FAILOVER", "TIMEOUT", "0")
    with pytest.raises(redis.ResponseError, match="^FAILOVER target HOST and PORT is not a replica.$"):
        c.execute_command("FAILOVER", "TO", "127.0.0.1", "1")
    with pytest.raises(redis.ResponseError, match="requires both a timeout and target"):
        c.execute_command("FAILOVER", "FORCE")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("FAILOVER", "bogus")


def test_planned_failover_loses_nothing(shard: Shard) -> None:
    prim, reps = replicas(shard)
    w = Writers(shard, 3, tag="pf")
    w.start()
    time.sleep(0.5)
    target = reps[1]
    assert prim.client().execute_command("FAILOVER", "TO", "127.0.0.1", target.port) == b"OK"
    new = shard.wait_primary(10, exclude=prim)
    time.sleep(0.5)
    w.stop()
    assert new is target
    r = prim.role()
    assert r is not None and r[0] == b"slave" and r[2] == target.port
    assert w.total_acked() > 50
    assert verify(w, new) == []
    shard.wait_caught_up()
    for nd in shard.nodes:
        assert verify(w, nd) == []


def test_replicaof_no_one_on_a_replica_takes_over(shard: Shard) -> None:
    prim, reps = replicas(shard)
    prim.client().set("rno", "1")
    shard.wait_caught_up()
    rep = reps[0]
    assert rep.client().execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    new = shard.wait_primary(10, exclude=prim)
    assert new is rep
    assert new.client().incr("rno") == 2
    with pytest.raises(redis.ResponseError, match="REPLICAOF is not supported"):
        prim.client().execute_command("REPLICAOF", "127.0.0.1", "1")
    shard.wait_caught_up()


def test_replica_restart_catches_up(shard: Shard) -> None:
    prim, reps = replicas(shard)
    victim = reps[0]
    victim.kill9()
    c = prim.client()
    p = c.pipeline(transaction=False)
    for i in range(2000):
        p.set(f"cu:{i}", i)
    p.execute()
    victim.start()
    victim.wait_ready()
    shard.wait_caught_up()
    assert victim.client().get("cu:1999") == b"1999"
    assert digest(victim) == digest(prim)


def test_snapshot_in_object_store_then_node_starts_from_it(shard: Shard) -> None:
    prim, reps = replicas(shard)
    c = prim.client()
    for i in range(300):
        c.set(f"snap:{i}", i)
    c.execute_command("FUNCTION", "LOAD", "REPLACE",
                      "#!lua name=snaplib\nredis.register_function{function_name='snapfn', "
                      "callback=function(keys, args) return 42 end, flags={'no-writes'}}")
    shard.wait_caught_up()
    snapper = min(reps, key=lambda n: n.id)
    sc = snapper.client()
    sc.config_set("auto-snapshot-log-bytes", "1")
    c.set("snap:trigger", "1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        first = _stream_first_seq(shard)
        if first > 1:
            break
        time.sleep(0.1)
    sc.config_set("auto-snapshot-log-bytes", "64mb")
    assert first > 1, "the log was not purged after the snapshot"
    c.set("snap:after", "2")
    other = [n for n in reps if n is not snapper][0]
    other.kill9()
    other.start()
    other.wait_ready()
    shard.wait_caught_up()
    assert other.client().get("snap:after") == b"2"
    assert other.client().get("snap:299") == b"299"
    assert digest(other) == digest(prim)
    assert other.client().execute_command("FCALL_RO", "snapfn", 0) == 42


def _stream_first_seq(shard: Shard) -> int:
    import asyncio

    import nats

    async def go() -> int:
        nc = await nats.connect(shard.nats.url.split(","))
        try:
            info = await nc.jetstream().stream_info("DURAKV_S0")
            return info.state.first_seq
        finally:
            await nc.close()

    return asyncio.run(go())


def kill_primary_once(shard: Shard, tag: str) -> float:
    """kill -9 the primary under writes; returns seconds from kill to first accepted write."""
    prim = shard.wait_primary()
    shard.wait_caught_up()
    w = Writers(shard, 4, tag=tag)
    w.start()
    time.sleep(0.8)
    t_kill = time.monotonic()
    prim.kill9()
    new = shard.wait_primary(20, exclude=prim)
    deadline = time.monotonic() + 20
    first = None
    while time.monotonic() < deadline and first is None:
        after = [a[4] for a in w.acked_since(t_kill) if a[5] == new.port]
        if after:
            first = min(after)
        time.sleep(0.02)
    time.sleep(0.3)
    w.stop()
    assert first is not None, "no write accepted after the failover"
    assert verify(w, new) == []
    prim.start()
    prim.wait_ready()
    shard.wait_caught_up()
    r = prim.role()
    assert r is not None and r[0] == b"slave"
    for nd in shard.nodes:
        assert verify(w, nd) == [], nd.id
    return first - t_kill


def test_kill9_primary_under_writes(shard: Shard) -> None:
    took = kill_primary_once(shard, "k9")
    assert took < 10


def test_sigstop_primary_longer_than_lease(shard: Shard) -> None:
    prim, _reps = replicas(shard)
    prim.client().set("stale:k", "old")
    shard.wait_caught_up()
    reader = Raw(prim.port)
    w = Writers(shard, 4, tag="st")
    w.start()
    time.sleep(0.6)
    prim.sigstop()
    t_stop = time.monotonic()
    new = shard.wait_primary(20, exclude=prim)
    deadline = time.monotonic() + 20
    t_new = None
    while time.monotonic() < deadline and t_new is None:
        after = [a[4] for a in w.acked_since(t_stop) if a[5] == new.port]
        if after:
            t_new = min(after)
        time.sleep(0.02)
    assert t_new is not None
    assert new.client().set("stale:k", "new")
    time.sleep(0.5)
    # a read queued while the old primary is stopped must not see the old value
    reader.send(b"*2\r\n$3\r\nGET\r\n$7\r\nstale:k\r\n")
    prim.sigcont()
    got = reader.read_raw()
    reader.close()
    assert got != b"$3\r\nold\r\n", "the old primary served a stale read after its lease ended"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r = prim.role()
        if r and r[0] == b"slave" and r[3] == b"connected":
            break
        time.sleep(0.05)
    time.sleep(0.3)
    w.stop()
    r = prim.role()
    assert r is not None and r[0] == b"slave"
    stale = [a for a in w.acked_since(t_new) if a[5] == prim.port]
    assert stale == [], f"the old primary acknowledged {len(stale)} writes after the election"
    shard.wait_caught_up()
    for nd in shard.nodes:
        assert verify(w, nd) == [], nd.id


@pytest.mark.soak
def test_kill9_failover_time_median_of_5(shard: Shard) -> None:
    times = [kill_primary_once(shard, f"m{i}") for i in range(5)]
    med = statistics.median(times)
    print(f"\nfailover kill -9 -> first accepted write: {['%.2f' % t for t in times]} median {med:.2f}s")
    assert med <= 5.0


def test_cluster_metadata_in_kv(shard: Shard) -> None:
    import asyncio
    import json

    import nats

    prim, reps = replicas(shard)
    shard.wait_caught_up()

    async def go() -> dict[str, dict]:
        nc = await nats.connect(shard.nats.url.split(","))
        try:
            kv = await nc.jetstream().key_value("durakv_cluster")
            out = {}
            for key in ["shard.0.primary"] + [f"shard.0.node.{n.id}" for n in shard.nodes]:
                out[key] = json.loads((await kv.get(key)).value)
            return out
        finally:
            await nc.close()

    deadline = time.monotonic() + 10
    while True:
        try:
            meta = asyncio.run(go())
            if meta["shard.0.primary"]["id"] == prim.id:
                break
        except Exception:  # noqa: BLE001 - entries not written yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert meta["shard.0.primary"]["id"] == prim.id
    assert meta["shard.0.primary"]["port"] == prim.port
    assert meta[f"shard.0.node.{prim.id}"]["role"] == "master"
    for r in reps:
        ent = meta[f"shard.0.node.{r.id}"]
        assert ent["role"] == "slave" and ent["port"] == r.port and ent["host"] == "127.0.0.1"
