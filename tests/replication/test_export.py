"""SYNC/PSYNC served to Redis's own tools: a real redis-server replica, ``redis-cli --rdb``.

The replica is started while clients write to durakv, so the sync covers writes that land
during the snapshot (sent from the log tail) and after it (the live stream); at the end
the replica must hold exactly what durakv holds, key by key, in every database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

import pytest
import redis

from tests.support.procs import start_durakv, start_redis


def _contents(r: redis.Redis, dbs: range = range(4)) -> dict[tuple[int, bytes], Any]:
    """Every key of the first databases with its type, value and whether it has a TTL."""
    out: dict[tuple[int, bytes], Any] = {}
    for db in dbs:
        c = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=db)
        for k in c.scan_iter(count=1000):
            t = c.type(k).decode()
            if t == "string":
                v: Any = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "hash":
                v = c.hgetall(k)
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            elif t == "stream":
                v = c.xrange(k)
            else:
                v = None
            out[(db, k)] = (t, v, c.ttl(k) > 0)
        c.close()
    return out


def _seed(r: redis.Redis) -> None:
    p = r.pipeline(transaction=False)
    for i in range(300):
        p.set(f"s{i}", f"v{i}")
    p.rpush("list", *[f"e{i}" for i in range(200)])
    p.hset("hash", mapping={f"f{i}": i for i in range(100)})
    p.sadd("set", *range(150))
    p.zadd("zset", {f"m{i}": i / 3 for i in range(120)})
    p.xadd("stream", {"a": "1"}, id="1-1")
    p.set("ttl", "x", ex=1000)
    p.execute()
    r3 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3)
    r3.set("in3", "yes")
    r3.close()


class _Writer(threading.Thread):
    """Writes a mix of commands until stopped; counts the acknowledged ones."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.r = redis.Redis(port=port)
        self.stop = threading.Event()
        self.n = 0

    def run(self) -> None:
        r = self.r
        i = 0
        while not self.stop.is_set():
            i += 1
            p = r.pipeline(transaction=False)
            p.incr("counter")
            p.lpush("list", f"w{i}")
            p.hincrby("hash", f"f{i % 7}", 1)
            p.zadd("zset", {f"w{i % 50}": i})
            p.sadd("set", f"w{i}")
            p.xadd("stream", {"i": str(i)})
            p.set(f"w{i % 100}", i, px=600000)
            if i % 5 == 0:
                p.delete(f"s{i % 300}")
            if i % 9 == 0:
                p.spop("set")
            p.execute()
            self.n += 1


def _offsets_equal(master: redis.Redis, replica: redis.Redis) -> bool:
    rep = replica.info("replication")
    return (rep.get("master_link_status") == "up"
            and rep.get("slave_repl_offset") == master.info("replication")["master_repl_offset"])


def _wait(cond: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.parametrize(("mode", "n"), [(("--appendfsync", "always"), 1), (("--appendonly", "no"), 1),
                                         (("--appendfsync", "always"), 2)], ids=["log", "nolog", "two-replicas"])
def test_redis_replica_follows_durakv(mode: tuple[str, str], n: int) -> None:
    """Replicas started while clients write; with two, the second asks while the first
    one's snapshot runs and joins it."""
    dk = start_durakv(*mode)
    reps = []
    try:
        m = redis.Redis(port=dk.port)
        _seed(m)
        w = _Writer(dk.port)
        w.start()
        _wait(lambda: w.n > 20)
        reps = [start_redis("--replicaof", "127.0.0.1", str(dk.port)) for _ in range(n)]
        clients = [redis.Redis(port=p.port) for p in reps]
        for rr in clients:
            _wait(lambda rr=rr: rr.info("replication").get("master_link_status") == "up")
        _wait(lambda: w.n > 200)  # the live stream carries these
        w.stop.set()
        w.join()
        for rr in clients:
            _wait(lambda rr=rr: _offsets_equal(m, rr))
        assert m.info("replication")["connected_slaves"] == n
        assert sorted(e[1] for e in m.execute_command("ROLE")[2]) == sorted(str(p.port).encode() for p in reps)
        mine = _contents(m)
        assert len(mine) > 300
        for rr in clients:
            assert _contents(rr) == mine
            assert int(rr.get("counter")) == w.n
    finally:
        for p in reps:
            p.stop()
        dk.stop()


def test_redis_cli_rdb_backup(tmp_path: Any) -> None:
    if shutil.which("redis-cli") is None:
        pytest.fail("redis-cli is not installed: run scripts/test.sh (it installs it)")
    dk = start_durakv()
    rp = None
    try:
        m = redis.Redis(port=dk.port)
        _seed(m)
        out = tmp_path / "backup.rdb"
        res = subprocess.run(["redis-cli", "-p", str(dk.port), "--rdb", str(out)], capture_output=True,
                             timeout=60, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "Transfer finished with success" in res.stdout + res.stderr
        chk = subprocess.run(["redis-check-rdb", str(out)], capture_output=True, text=True, timeout=60)
        assert chk.returncode == 0, chk.stdout
        d = tmp_path / "redis"
        d.mkdir()
        os.replace(out, d / "dump.rdb")
        rp = start_redis(workdir=str(d))
        assert _contents(redis.Redis(port=rp.port)) == _contents(m)
        # the connection was closed after the RDB: durakv has no replica left
        assert m.info("replication")["connected_slaves"] == 0
    finally:
        if rp is not None:
            rp.stop()
        dk.stop()



def test_wait_counts_redis_replicas() -> None:
    """WAIT on a standalone primary counts the Redis replicas that acknowledged the
    client's writes; one it cannot get in time counts only those that did."""
    dk = start_durakv()
    rep = None
    try:
        m = redis.Redis(port=dk.port)
        assert m.execute_command("WAIT", 1, 50) == 0  # no replica yet: times out at 0
        rep = start_redis("--replicaof", "127.0.0.1", str(dk.port))
        rr = redis.Redis(port=rep.port)
        _wait(lambda: rr.info("replication").get("master_link_status") == "up")
        t0 = time.monotonic()
        for i in range(20):
            p = m.pipeline(transaction=False)
            p.set("k", i)
            p.execute_command("WAIT", 1, 10000)
            assert p.execute() == [True, 1]
            assert rr.get("k") == str(i).encode()  # acknowledged means applied there
        # GETACK: the replica acks at once; its own ACKs come once a second (~10 s for 20)
        assert time.monotonic() - t0 < 4
        t0 = time.monotonic()
        assert m.execute_command("WAIT", 2, 300) == 1  # a second replica never comes
        assert time.monotonic() - t0 >= 0.29
    finally:
        if rep is not None:
            rep.stop()
        dk.stop()


def _read_until(sock: Any, buf: bytearray, n: int) -> None:
    while len(buf) < n:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        buf += chunk


def _full_sync(port: int) -> tuple[Any, bytes, int]:
    """A raw PSYNC replica: returns (socket, replid, offset after the RDB)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"REPLCONF capa eof capa psync2\r\n")
    buf = bytearray()
    _read_until(s, buf, 5)
    assert bytes(buf[:5]) == b"+OK\r\n"
    del buf[:5]
    s.sendall(b"PSYNC ? -1\r\n")
    while b"$" not in buf or buf.find(b"\r\n", buf.find(b"$")) < 0:
        buf += s.recv(65536)
    head, _, rest = bytes(buf).partition(b"$")
    line = head.strip(b"\n").split(b"\r\n")[0]  # newlines are the keepalive before it
    assert line.startswith(b"+FULLRESYNC "), line
    _, replid, off = line.split()
    n, _, body = rest.partition(b"\r\n")
    body_buf = bytearray(body)
    _read_until(s, body_buf, int(n))
    assert bytes(body_buf[:5]) == b"REDIS"
    return s, replid, int(off) + len(body_buf) - int(n)


def test_psync_continues_from_the_backlog() -> None:
    dk = start_durakv()
    try:
        m = redis.Redis(port=dk.port)
        m.set("before", "1")
        s, replid, _ = _full_sync(dk.port)
        seen = m.info("replication")["master_repl_offset"]
        s.close()
        m.set("missed1", "a")
        m.set("missed2", "b")
        # the replica comes back for the bytes after what it saw: +CONTINUE and just those
        s2 = socket.create_connection(("127.0.0.1", dk.port), timeout=10)
        s2.sendall(b"REPLCONF capa eof capa psync2\r\nPSYNC %s %d\r\n" % (replid, seen + 1))
        want = b"+OK\r\n+CONTINUE %s\r\n" % replid
        buf = bytearray()
        _read_until(s2, buf, len(want))
        assert bytes(buf[:len(want)]) == want
        del buf[:len(want)]
        total = m.info("replication")["master_repl_offset"] - seen
        _read_until(s2, buf, total)
        tail = bytes(buf)
        assert b"missed1" in tail and b"missed2" in tail and b"before" not in tail
        assert len(tail) == total
        assert [c["flags"] for c in m.client_list() if c["cmd"] == "psync"] == ["S"]
        s2.close()
        # an unknown replid, or an offset the backlog does not hold: a full resync
        for rid, off in ((b"0" * 40, seen + 1), (replid, seen + total + 100)):
            s3 = socket.create_connection(("127.0.0.1", dk.port), timeout=10)
            s3.sendall(b"PSYNC %s %d\r\n" % (rid, off))
            buf = bytearray()
            while b"\r\n" not in buf.lstrip(b"\n"):
                buf += s3.recv(65536)
            assert buf.lstrip(b"\n").startswith(b"+FULLRESYNC "), bytes(buf[:60])
            s3.close()
    finally:
        dk.stop()


def test_redis_replica_reconnects_with_a_partial_resync() -> None:
    dk = start_durakv()
    rep = None
    try:
        m = redis.Redis(port=dk.port)
        _seed(m)
        rep = start_redis("--replicaof", "127.0.0.1", str(dk.port))
        rr = redis.Redis(port=rep.port)
        _wait(lambda: _offsets_equal(m, rr))
        loaded = rr.info("persistence")["rdb_last_load_keys_loaded"]
        assert loaded > 300
        assert m.client_kill_filter(_type="replica") == 1
        for i in range(50):
            m.set(f"after{i}", i)
        _wait(lambda: _offsets_equal(m, rr))
        assert rr.info("persistence")["rdb_last_load_keys_loaded"] == loaded  # no new RDB
        st = m.info("stats")
        assert (st["sync_full"], st["sync_partial_ok"], st["sync_partial_err"]) == (1, 1, 0)
        assert _contents(rr) == _contents(m)
    finally:
        if rep is not None:
            rep.stop()
        dk.stop()


def test_a_replica_cut_off_before_any_stream_continues_with_a_partial_resync() -> None:
    # killed right after its full sync, before the stream sent a byte: it has all of it
    # (offset 0) and continues, as Redis's backlog lets it (the seeded variant above hit
    # this under load, when the kill came before the first keepalive)
    dk = start_durakv()
    rep = None
    try:
        m = redis.Redis(port=dk.port)
        m.set("k", "v")
        rep = start_redis("--replicaof", "127.0.0.1", str(dk.port))
        rr = redis.Redis(port=rep.port)
        _wait(lambda: _offsets_equal(m, rr))
        assert m.info("replication")["master_repl_offset"] == 0
        assert m.client_kill_filter(_type="replica") == 1
        _wait(lambda: m.info("stats")["sync_partial_ok"] == 1 and _offsets_equal(m, rr))
        m.set("after", "1")
        _wait(lambda: _offsets_equal(m, rr))
        st = m.info("stats")
        assert (st["sync_full"], st["sync_partial_ok"], st["sync_partial_err"]) == (1, 1, 0)
        assert rr.get("after") == b"1" and rr.get("k") == b"v"
    finally:
        if rep is not None:
            rep.stop()
        dk.stop()


def _stream_commands(s: Any, n: int) -> list[list[bytes]]:
    """The next ``n`` commands of a replication stream, PINGs and REPLCONFs left out."""
    import hiredis

    reader = hiredis.Reader()
    out: list[list[bytes]] = []
    while len(out) < n:
        reader.feed(s.recv(65536))
        while (cmd := reader.gets()) is not False:
            if cmd[0].upper() not in (b"PING", b"REPLCONF"):
                out.append([cmd[0].lower(), *cmd[1:]])
    return out


@pytest.fixture(params=["durakv", "redis"])
def primary(request: Any) -> Any:
    """durakv, or redis-server sending its RDB the way the raw replica reads it."""
    p = start_durakv() if request.param == "durakv" else start_redis("--repl-diskless-sync", "no")
    yield p
    p.stop()


def test_stream_selects_a_database_only_when_it_changes(primary: Any) -> None:
    # Redis's replication stream says SELECT once, then again only when the db changes
    # (what Redis's own tests assert with attach_to_replication_stream)
    p = primary
    r = redis.Redis(port=p.port, db=9)
    s, _, _ = _full_sync(p.port)
    r.set("foo", "bar")
    r.getdel("foo")
    r3 = redis.Redis(port=p.port, db=3)
    r3.set("x", "1")
    r.set("y", "1")
    r.set("z", "1")
    got = _stream_commands(s, 8)
    assert got == [
        [b"select", b"9"], [b"set", b"foo", b"bar"], [b"del", b"foo"],
        [b"select", b"3"], [b"set", b"x", b"1"],
        [b"select", b"9"], [b"set", b"y", b"1"], [b"set", b"z", b"1"],
    ]
    s.close()
    # a replica that syncs now starts in db 0 after the RDB: its stream selects again
    s2, _, _ = _full_sync(p.port)
    r.set("w", "1")
    assert _stream_commands(s2, 2) == [[b"select", b"9"], [b"set", b"w", b"1"]]
    s2.close()


def test_stream_wraps_a_command_with_several_effects_in_multi_exec(primary: Any) -> None:
    # Redis 7.0: what one command propagates as more than one command (EXEC, a script)
    # reaches replicas inside MULTI ... EXEC, after the SELECT of its first database
    p = primary
    r = redis.Redis(port=p.port, db=9)
    s, _, _ = _full_sync(p.port)
    tx = r.pipeline(transaction=True)
    tx.set("a", "1").get("a").set("b", "2")
    tx.execute()
    tx = r.pipeline(transaction=True)
    tx.set("c", "3").get("c")  # one write: no MULTI
    tx.execute()
    r.eval("redis.call('set', KEYS[1], 'x'); redis.call('del', KEYS[2])", 2, "d", "a")
    r.eval("return redis.call('get', KEYS[1])", 1, "d")  # no write: nothing
    r.set("e", "5")
    assert _stream_commands(s, 11) == [
        [b"select", b"9"], [b"multi"], [b"set", b"a", b"1"], [b"set", b"b", b"2"], [b"exec"],
        [b"set", b"c", b"3"],
        [b"multi"], [b"set", b"d", b"x"], [b"del", b"a"], [b"exec"],
        [b"set", b"e", b"5"],
    ]
    s.close()


def test_stream_of_blocking_moves(primary: Any) -> None:
    # Redis 7.0 propagates BRPOPLPUSH as RPOPLPUSH, BLMOVE as LMOVE with the client's own
    # LEFT/RIGHT words, and a BLMOVE woken by a push with lowercase left/right
    p = primary
    r = redis.Redis(port=p.port, db=9)
    s, _, _ = _full_sync(p.port)
    r.rpush("src", "a", "b", "c")
    r.execute_command("BLMOVE", "src", "dst", "Left", "RIGHT", "0")
    r.execute_command("BRPOPLPUSH", "src", "dst", "0")
    waiter = redis.Redis(port=p.port, db=9)
    for cmd in (("BLMOVE", "e1", "dst", "LEFT", "RIGHT", "0"), ("BRPOPLPUSH", "e2", "dst", "0")):
        t = threading.Thread(target=waiter.execute_command, args=cmd)
        t.start()
        _wait(lambda: r.info("clients")["blocked_clients"] == 1)
        r.lpush(cmd[1], "x")
        t.join()
    assert _stream_commands(s, 8) == [
        [b"select", b"9"], [b"rpush", b"src", b"a", b"b", b"c"],
        [b"lmove", b"src", b"dst", b"Left", b"RIGHT"], [b"rpoplpush", b"src", b"dst"],
        [b"lpush", b"e1", b"x"], [b"lmove", b"e1", b"dst", b"left", b"right"],
        [b"lpush", b"e2", b"x"], [b"rpoplpush", b"e2", b"dst"],
    ]
    s.close()
