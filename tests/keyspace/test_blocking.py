"""Blocking operations with several connections, run identically against redis-server and
durakv; every reply a client observes must be byte-identical."""

from __future__ import annotations

import time

import pytest

from tests.support.raw import Raw, encode
from tests.support.stats import dirty


class Client(Raw):
    def send_cmd(self, *args: object) -> None:
        self.send(encode(*args))

    def pending(self, wait: float = 0.05) -> bytes:
        """Whatever arrived within ``wait`` seconds (b'' if nothing)."""
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1 << 16)
        except TimeoutError:
            data = b""
        finally:
            self.sock.settimeout(10)
        return data


def both(redis_proc, durakv_proc, scenario, proto: int = 2) -> None:
    outs = []
    for proc in (redis_proc, durakv_proc):
        admin = Raw(proc.port, proto)
        admin.call("FLUSHALL")
        admin.close()
        outs.append(scenario(lambda port=proc.port: Client(port, proto)))
    assert outs[1] == outs[0]


PROTOS = pytest.mark.parametrize("proto", [2, 3])


@PROTOS
def test_blpop_woken_by_push(redis_proc, durakv_proc, proto):
    def sc(new):
        a, b = new(), new()
        a.send_cmd("BLPOP", "k1", "k2", "0")
        out = [a.pending()]
        out.append(b.call("RPUSH", "k2", "x", "y"))
        out.append(a.read_raw())
        out.append(b.call("LRANGE", "k2", "0", "-1"))
        return out

    both(redis_proc, durakv_proc, sc, proto)


@PROTOS
def test_fifo_and_one_element_each(redis_proc, durakv_proc, proto):
    def sc(new):
        a, b, c = new(), new(), new()
        a.send_cmd("BRPOP", "k", "0")
        a.pending(0.02)
        b.send_cmd("BLPOP", "k", "0")
        b.pending(0.02)
        out = [c.call("RPUSH", "k", "1")]
        out.append(a.read_raw())
        out.append(b.pending())
        out.append(c.call("RPUSH", "k", "2", "3"))
        out.append(b.read_raw())
        out.append(c.call("LRANGE", "k", "0", "-1"))
        return out

    both(redis_proc, durakv_proc, sc, proto)


@PROTOS
def test_timeouts(redis_proc, durakv_proc, proto):
    def sc(new):
        a = new()
        out = []
        t = time.monotonic()
        out.append(a.call("BLPOP", "k", "0.1"))
        out.append(a.call("BLMOVE", "k", "d", "LEFT", "RIGHT", "0.05"))
        out.append(a.call("BZPOPMIN", "z", "0.05"))
        out.append(a.call("BLMPOP", "0.05", "1", "k", "LEFT"))
        out.append(a.call("BZMPOP", "0.05", "2", "z", "y", "MAX"))
        assert time.monotonic() - t >= 0.25
        return out

    both(redis_proc, durakv_proc, sc, proto)


@PROTOS
def test_push_inside_multi_wakes_after_exec(redis_proc, durakv_proc, proto):
    def sc(new):
        a, b = new(), new()
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        out = [b.call("MULTI"), b.call("RPUSH", "k", "a", "b"), b.call("LPOP", "k"), b.call("EXEC")]
        out.append(a.read_raw())
        out.append(b.call("EXISTS", "k"))
        return out

    both(redis_proc, durakv_proc, sc, proto)


@PROTOS
def test_blmove_chain_and_pipeline_after_block(redis_proc, durakv_proc, proto):
    def sc(new):
        a, b, c = new(), new(), new()
        a.send(encode("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0") + encode("LLEN", "dst") + encode("PING"))
        a.pending(0.02)
        b.send_cmd("BRPOP", "dst", "0")
        b.pending(0.02)
        out = [c.call("RPUSH", "src", "v1")]
        out.append(a.read_raw(3))
        out.append(b.read_raw())
        out.append(c.call("EXISTS", "src", "dst"))
        return out

    both(redis_proc, durakv_proc, sc, proto)


@PROTOS
def test_zset_blocking(redis_proc, durakv_proc, proto):
    def sc(new):
        a, b, c = new(), new(), new()
        a.send_cmd("BZPOPMAX", "z1", "z2", "0")
        a.pending(0.02)
        b.send_cmd("BZMPOP", "0", "1", "z2", "MIN", "COUNT", "2")
        b.pending(0.02)
        out = [c.call("ZADD", "z2", "1", "a", "2", "b", "3", "c", "4", "d")]
        out.append(a.read_raw())
        out.append(b.read_raw())
        out.append(c.call("ZRANGE", "z2", "0", "-1", "WITHSCORES"))
        a.send_cmd("BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "5")
        a.pending(0.02)
        out.append(c.call("RPUSH", "l2", "x", "y"))
        out.append(a.read_raw())
        return out

    both(redis_proc, durakv_proc, sc, proto)


def test_wrong_type_keeps_waiting_and_rename_wakes(redis_proc, durakv_proc):
    def sc(new):
        a, c = new(), new()
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        out = [c.call("SET", "k", "str"), a.pending(), c.call("DEL", "k")]
        out.append(c.call("RPUSH", "tmp", "x"))
        out.append(c.call("RENAME", "tmp", "k"))
        out.append(a.read_raw())
        return out

    both(redis_proc, durakv_proc, sc)


def test_disconnected_waiter_is_forgotten(redis_proc, durakv_proc):
    def sc(new):
        a, b, c = new(), new(), new()
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        b.send_cmd("BLPOP", "k", "0")
        b.pending(0.02)
        a.close()
        time.sleep(0.05)
        out = [c.call("RPUSH", "k", "x")]
        out.append(b.read_raw())
        out.append(c.call("EXISTS", "k"))
        return out

    both(redis_proc, durakv_proc, sc)


def test_many_blocked_clients_and_blocked_count(redis_proc, durakv_proc):
    def sc(new):
        clients = [new() for _ in range(30)]
        for i, cl in enumerate(clients):
            cl.send_cmd("BLPOP", f"k{i % 3}", "0")
        time.sleep(0.05)
        p = new()
        out = []
        for i in range(30):
            out.append(p.call("RPUSH", f"k{i % 3}", f"v{i}"))
        for cl in clients:
            out.append(cl.read_raw())
        return out

    both(redis_proc, durakv_proc, sc)


def test_woken_reply_is_logged_as_pop(durakv_proc):
    """The pop done for a woken client is an effect: a replica of the log must agree."""
    a, b = Client(durakv_proc.port), Client(durakv_proc.port)
    a.call("FLUSHALL")
    a.send_cmd("BLMOVE", "s", "d", "LEFT", "RIGHT", "0")
    a.pending(0.02)
    assert b.call("RPUSH", "s", "x", "y") == b":2\r\n"
    assert a.read_raw() == b"$1\r\nx\r\n"
    assert b.call("LRANGE", "d", "0", "-1") == b"*1\r\n$1\r\nx\r\n"
    assert b.call("LRANGE", "s", "0", "-1") == b"*1\r\n$1\r\ny\r\n"


def test_effects_replay_after_crash(tmp_path):
    """Random picks, float results, SORT STORE and pops done for woken clients are logged
    as deterministic effects: after kill -9 and recovery the data is identical."""
    from tests.support.procs import start_durakv

    p = start_durakv("--appendfsync", "always", workdir=str(tmp_path))
    try:
        r = Client(p.port)
        w = Client(p.port)
        r.call("SADD", "s", *[str(i) for i in range(30)], "x", "y")
        r.call("SPOP", "s", "5")
        r.call("SPOP", "s")
        r.call("HSET", "h", "f", "1.1")
        r.call("HINCRBYFLOAT", "h", "f", "0.2")
        r.call("ZADD", "z", "INCR", "0.1", "m")
        r.call("RPUSH", "l", "3", "1", "2", "10")
        r.call("SORT", "l", "STORE", "sorted")
        r.call("SORT", "l", "BY", "nosort", "STORE", "l2")
        w.send_cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
        w.pending(0.05)
        r.call("RPUSH", "src", "a", "b")
        assert w.read_raw() == b"$1\r\na\r\n"
        w.send_cmd("BZMPOP", "0", "1", "zz", "MAX", "COUNT", "2")
        w.pending(0.05)
        r.call("ZADD", "zz", "1", "a", "2", "b", "3", "c")
        assert w.read_raw().startswith(b"*2\r\n$2\r\nzz\r\n*2\r\n")
        r.call("LMPOP", "1", "l", "RIGHT", "COUNT", "2")
        reads = [("SMEMBERS", "s"), ("HGETALL", "h"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
                 ("LRANGE", "sorted", "0", "-1"), ("LRANGE", "l2", "0", "-1"), ("LRANGE", "src", "0", "-1"),
                 ("LRANGE", "dst", "0", "-1"), ("ZRANGE", "zz", "0", "-1", "WITHSCORES"), ("LRANGE", "l", "0", "-1")]
        before = [sorted(r.parsed(*q)) if q[0] == "SMEMBERS" else r.parsed(*q) for q in reads]
        p.kill9()
        p.start()
        r = Client(p.port)
        after = [sorted(r.parsed(*q)) if q[0] == "SMEMBERS" else r.parsed(*q) for q in reads]
        assert after == before
        assert len(before[0]) == 26 and before[8] == [b"3", b"1"]
    finally:
        p.stop()


def test_swapdb_wakes_waiters(redis_proc, durakv_proc):
    def sc(new):
        a, c = new(), new()
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        out = [c.call("SELECT", "1"), c.call("RPUSH", "k", "v"), c.call("SWAPDB", "0", "1")]
        out.append(a.read_raw())
        out.append(c.call("EXISTS", "k"))
        return out

    both(redis_proc, durakv_proc, sc)


@PROTOS
def test_client_unblock(redis_proc, durakv_proc, proto):
    def sc(new):
        a, c = new(), new()
        cid = a.parsed("CLIENT", "ID")
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        out = [c.call("CLIENT", "UNBLOCK", str(cid)), a.read_raw()]
        a.send_cmd("BZPOPMIN", "z", "0")
        a.pending(0.02)
        out += [c.call("CLIENT", "UNBLOCK", str(cid), "ERROR"), a.read_raw()]
        out.append(c.call("CLIENT", "UNBLOCK", str(cid)))
        a.send_cmd("BLMOVE", "s", "d", "LEFT", "LEFT", "0")
        a.pending(0.02)
        out += [c.call("CLIENT", "UNBLOCK", str(cid), "TIMEOUT"), a.read_raw()]
        out.append(c.call("RPUSH", "k", "x"))
        out.append(c.call("LLEN", "k"))
        return out

    both(redis_proc, durakv_proc, sc, proto)


def test_client_unblock_counts_a_failed_call(redis_proc, durakv_proc):
    """Redis 7.0 counts a command ended by CLIENT UNBLOCK (TIMEOUT or ERROR) in its
    failed_calls; one that times out on its own is no failure."""
    def sc(new):
        a, c = new(), new()
        cid = str(a.parsed("CLIENT", "ID"))
        out = []
        for how in (("TIMEOUT",), ("ERROR",), ()):
            c.call("CONFIG", "RESETSTAT")
            a.send_cmd("BLPOP", "k", "0" if how else "0.05")
            a.pending(0.02)
            if how:
                c.call("CLIENT", "UNBLOCK", cid, *how)
            a.read_raw()
            stats = c.parsed("INFO", "commandstats").decode()
            line = next(x for x in stats.split("\r\n") if x.startswith("cmdstat_blpop:"))
            out.append(line.split(",")[-2:])
        return out

    both(redis_proc, durakv_proc, sc)


def test_woken_pops_count_dirty_as_redis_70(redis_proc, durakv_proc):
    """server.dirty when a push wakes a blocked client: Redis 7.0 counts the push only for
    BLPOP/BRPOP/BLMOVE/BRPOPLPUSH, and the push plus the popped elements for BLMPOP."""
    def sc(new):
        a, c = new(), new()
        out = []
        for blocked, push in (
            (("BLPOP", "s", "0"), ("LPUSH", "s", "a")),
            (("BRPOP", "s", "0"), ("RPUSH", "s", "a", "b")),
            (("BLMOVE", "s2", "d", "LEFT", "RIGHT", "0"), ("LPUSH", "s2", "a")),
            (("BRPOPLPUSH", "s3", "d", "0"), ("LPUSH", "s3", "a")),
            (("BLMPOP", "0", "1", "s4", "LEFT", "COUNT", "2"), ("LPUSH", "s4", "a", "b", "c")),
        ):
            before = dirty(c)
            a.send_cmd(*blocked)
            a.pending(0.02)
            c.call(*push)
            out.append((a.read_raw(), dirty(c) - before))
        return out

    both(redis_proc, durakv_proc, sc)


def _cpu_seconds(pid: int) -> float:
    import os

    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_many_blocked_clients_cost_no_cpu(durakv_proc):
    clients = [Client(durakv_proc.port) for _ in range(300)]
    try:
        for i, cl in enumerate(clients):
            cl.send_cmd("BLPOP", f"idle{i % 7}", "30" if i % 2 else "0")
        admin = Client(durakv_proc.port)
        time.sleep(0.2)
        assert b"blocked_clients:300" in admin.call("INFO", "clients")
        t0 = _cpu_seconds(durakv_proc.pid)
        time.sleep(0.5)
        assert _cpu_seconds(durakv_proc.pid) - t0 < 0.1
        for i in range(300):
            admin.call("RPUSH", f"idle{i % 7}", "v")
        for cl in clients:
            assert cl.read_raw().startswith(b"*2\r\n$5\r\nidle")
        assert b"blocked_clients:0" in admin.call("INFO", "clients")
    finally:
        for cl in clients:
            cl.close()


def test_push_inside_script_wakes_after_it_ends(redis_proc, durakv_proc):
    script = "redis.call('rpush', KEYS[1], 'a', 'b'); return redis.call('lpop', KEYS[1])"

    def sc(new):
        a, b = new(), new()
        a.send_cmd("BLPOP", "k", "0")
        a.pending(0.02)
        out = [b.call("EVAL", script, "1", "k"), a.read_raw(), b.call("EXISTS", "k")]
        return out

    both(redis_proc, durakv_proc, sc)


def test_negative_tiny_timeout_blocks_forever(redis_proc, durakv_proc):
    def sc(new):
        a, c = new(), new()
        cid = a.parsed("CLIENT", "ID")
        a.send_cmd("BLPOP", "k", "-0.0001")
        out = [a.pending(0.2), c.call("CLIENT", "UNBLOCK", str(cid)), a.read_raw()]
        return out

    both(redis_proc, durakv_proc, sc)
