"""MULTI EXEC DISCARD WATCH UNWATCH against redis-server and durakv (byte-exact).

WATCH scenarios run the same script of commands, each tagged with the connection that
sends it, on two connections to each server, and compare every reply.
"""

from __future__ import annotations

import time

import redis

from tests.support.raw import Raw

Step = tuple  # (connection index, *args)


def scenario(pair, steps: list[Step], conns: int = 2) -> list[bytes]:
    """Run ``steps`` on ``conns`` connections to each server; assert identical replies."""
    sides = []
    for port in (pair.redis.port, pair.durakv.port):
        cs = [Raw(port, pair.proto) for _ in range(conns)]
        sides.append(cs)
    try:
        out = []
        for step in steps:
            if step[0] == "sleep":
                time.sleep(step[1])
                continue
            idx, args = step[0], step[1:]
            a = sides[0][idx].call(*args)
            b = sides[1][idx].call(*args)
            assert b == a, f"step {step!r}: durakv {b!r} != redis {a!r}"
            out.append(a)
        return out
    finally:
        for cs in sides:
            for c in cs:
                c.close()


def test_basic(pair):
    pair.check("MULTI")
    pair.check("SET", "a", "1")
    pair.check("INCR", "a")
    pair.check("GET", "a")
    pair.check("EXEC")
    pair.check("MULTI")
    pair.check("EXEC")
    pair.check("EXEC")
    pair.check("DISCARD")
    pair.check("MULTI")
    pair.check("SET", "a", "2")
    pair.check("DISCARD")
    pair.check("GET", "a")


def test_errors_while_queueing(pair):
    pair.check("MULTI")
    pair.check("MULTI")  # nested: an error, but the transaction survives
    pair.check("SET", "a", "1")
    pair.check("EXEC")
    pair.check("MULTI")
    pair.check("WATCH", "x")  # WATCH inside MULTI: an error, the transaction survives
    pair.check("EXEC")
    for bad in [("NOSUCH", "x"), ("GET",), ("SAVE",), ("WATCH",), ("MULTI", "x"), ("DISCARD", "x"),
                ("OBJECT", "nosub"), ("SET", "a")]:
        pair.check("MULTI")
        pair.check("SET", "a", "2")
        pair.check(*bad)
        pair.check("EXEC")
        pair.check("GET", "a")
    pair.check("EXEC", "x")
    pair.check("MULTI")
    pair.check("SET", "a", "3")
    pair.check("EXEC", "x")  # a rejected EXEC discards the transaction
    pair.check("EXEC")
    pair.check("GET", "a")
    pair.check("eXeC", "x")
    pair.check("DISCARD", "x")
    pair.check("UNWATCH", "x")
    pair.check("MULTI", "x")


def test_runtime_errors_in_exec(pair):
    pair.check("SET", "s", "str")
    pair.check("MULTI")
    pair.check("SET", "a", "x")
    pair.check("INCR", "a")
    pair.check("LPUSH", "s", "v")
    pair.check("EXPIRE", "a", "10", "foo")
    pair.check("SET", "b", "ok")
    pair.check("UNWATCH")
    pair.check("EXEC")
    pair.check("MGET", "a", "b")


def test_select_inside_multi(pair):
    pair.check("MULTI")
    pair.check("SELECT", "1")
    pair.check("SET", "z", "1")
    pair.check("SELECT", "99")
    pair.check("EXEC")
    pair.check("GET", "z")
    pair.check("SELECT", "0")
    pair.check("GET", "z")


def test_watch_basic(pair):
    scenario(pair, [
        (0, "WATCH", "k"), (1, "SET", "k", "1"), (0, "MULTI"), (0, "SET", "r", "1"), (0, "EXEC"),
        (0, "GET", "r"),
        # after a failed EXEC nothing is watched any more
        (0, "MULTI"), (0, "SET", "r", "2"), (0, "EXEC"),
        # untouched watch: EXEC runs
        (0, "WATCH", "k", "k2"), (1, "SET", "other", "1"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        # a write from the same client also invalidates
        (0, "WATCH", "k"), (0, "SET", "k", "mine"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        # UNWATCH clears, DISCARD unwatches
        (0, "WATCH", "k"), (1, "SET", "k", "2"), (0, "UNWATCH"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        (0, "WATCH", "k"), (0, "MULTI"), (0, "DISCARD"), (1, "SET", "k", "3"), (0, "MULTI"),
        (0, "PING"), (0, "EXEC"),
        # the same key watched twice; key in another DB is a different key
        (0, "WATCH", "k", "k"), (1, "SELECT", "1"), (1, "SET", "k", "x"), (0, "MULTI"), (0, "PING"),
        (0, "EXEC"),
        (0, "SELECT", "1"), (0, "WATCH", "k"), (0, "SELECT", "0"), (1, "DEL", "k"), (0, "MULTI"),
        (0, "PING"), (0, "EXEC"),
    ])


def test_watch_key_commands(pair):
    """Every kind of change to a watched key aborts EXEC; no-ops do not."""
    cases = [
        [(1, "DEL", "k")],
        [(1, "UNLINK", "k")],
        [(1, "EXPIRE", "k", "100")],
        [(1, "PERSIST", "k")],  # no TTL: nothing changes
        [(1, "RENAME", "k", "k2")],
        [(1, "RENAME", "o", "k")],
        [(1, "RENAME", "k", "k")],
        [(1, "COPY", "o", "k")],
        [(1, "COPY", "o", "k", "REPLACE")],
        [(1, "COPY", "k", "o2")],
        [(1, "MOVE", "k", "1")],
        [(1, "EXPIRE", "k", "-1")],
        [(1, "EXPIRE", "k", "10", "XX")],  # no TTL: not changed
        [(1, "TOUCH", "k")],
        [(1, "GET", "k")],
        [(1, "FLUSHDB")],
        [(1, "FLUSHALL")],
        [(1, "SELECT", "1"), (1, "FLUSHDB")],
        [(1, "SWAPDB", "0", "1")],
        [(1, "SWAPDB", "1", "2")],
        [(1, "SWAPDB", "0", "0")],
        [(1, "DEL", "nokey")],
    ]
    for case in cases:
        steps = [(0, "FLUSHALL"), (0, "SET", "k", "v"), (0, "SET", "o", "v"), (0, "WATCH", "k")]
        steps += case
        steps += [(0, "MULTI"), (0, "PING"), (0, "EXEC")]
        scenario(pair, steps)


def test_watch_missing_key(pair):
    cases = [
        [(1, "FLUSHALL")],
        [(1, "FLUSHDB")],
        [(1, "SET", "k", "v")],
        [(1, "SELECT", "1"), (1, "SET", "k", "v"), (1, "SWAPDB", "0", "1")],
        [(1, "SELECT", "1"), (1, "SET", "other", "v"), (1, "SWAPDB", "0", "1")],
        [(1, "RENAME", "o", "k")],
        [(1, "DEL", "k")],
    ]
    for case in cases:
        steps = [(0, "FLUSHALL"), (0, "SET", "o", "v"), (0, "WATCH", "k")] + case
        steps += [(0, "MULTI"), (0, "PING"), (0, "EXEC")]
        scenario(pair, steps)


def test_watch_expiry(pair):
    """Redis 7.0: a key that expires after WATCH aborts EXEC; one already expired does not."""
    scenario(pair, [
        # expires after WATCH (not yet reclaimed at EXEC)
        (0, "SET", "k", "v", "PX", "30"), (0, "WATCH", "k"), ("sleep", 0.06), (0, "MULTI"),
        (0, "PING"), (0, "EXEC"),
        # already expired when WATCHed (not yet reclaimed: active expiry is off in DEBUG? no —
        # read it with another key name so nothing reclaims it before WATCH)
        (0, "SET", "e", "v", "PX", "1"), ("sleep", 0.01), (0, "WATCH", "e"), (1, "GET", "e"),
        (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        # already expired and then recreated: aborts
        (0, "SET", "f", "v", "PX", "1"), ("sleep", 0.01), (0, "WATCH", "f"), (1, "SET", "f", "new"),
        (0, "MULTI"), (0, "PING"), (0, "EXEC"),
        # expires after WATCH and is reclaimed by an access: aborts too
        (0, "SET", "g", "v", "PX", "30"), (0, "WATCH", "g"), ("sleep", 0.06), (1, "GET", "g"),
        (0, "MULTI"), (0, "PING"), (0, "EXEC"),
    ])


def test_watch_in_multi_and_exec_inner_unwatch(pair):
    scenario(pair, [
        (0, "WATCH", "k"), (0, "MULTI"), (0, "UNWATCH"), (0, "SET", "k", "1"), (1, "SET", "k", "x"),
        (0, "EXEC"), (0, "GET", "k"),
        (0, "WATCH", "k"), (0, "MULTI"), (0, "WATCH", "k"), (1, "SET", "k", "y"), (0, "EXEC"),
    ])


def test_disconnect_while_watching(pair):
    for conn in (pair.redis, pair.durakv):
        other = Raw(conn.port, pair.proto)
        other.call("WATCH", "k")
        other.call("MULTI")
        other.call("SET", "q", "1")
        other.close()
    time.sleep(0.05)
    pair.check("SET", "k", "v")
    pair.check("GET", "q")
    pair.check("MULTI")
    pair.check("GET", "k")
    pair.check("EXEC")


def test_exec_resp3_shapes(pair):
    pair.check("HSET", "h", "f", "v")
    pair.check("MULTI")
    pair.check("HGETALL", "h")
    pair.check("GET", "nokey")
    pair.check("OBJECT", "ENCODING", "nokey")
    pair.check("EXEC")
    pair.check("WATCH", "h")
    pair.check("HSET", "h", "g", "w")
    pair.check("MULTI")
    pair.check("EXEC")


def test_transaction_with_redis_py(r):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").get("a")
        assert p.execute() == [True, 2, b"2"]
    r.set("bal", 10)
    with r.pipeline() as p:
        p.watch("bal")
        other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
        other.set("bal", 20)
        other.close()
        p.multi()
        p.set("bal", 0)
        try:
            p.execute()
            raise AssertionError("WatchError expected")
        except redis.WatchError:
            pass
    assert r.get("bal") == b"20"


def test_reset_discards_and_unwatches(pair):
    scenario(pair, [
        (0, "WATCH", "k"), (0, "MULTI"), (0, "SET", "q", "1"), (0, "RESET"), (1, "SET", "k", "1"),
        (0, "EXEC"), (0, "GET", "q"),
        (0, "WATCH", "k"), (0, "RESET"), (1, "SET", "k", "2"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
    ])


def test_quit_inside_multi(pair):
    for conn in (pair.redis, pair.durakv):
        other = Raw(conn.port, pair.proto)
        other.call("MULTI")
        other.call("SET", "q", "1")
        assert other.call("QUIT") == b"+OK\r\n"
        assert other.read_until_closed() == b""
        other.close()
    pair.check("GET", "q")


def test_blocking_command_inside_exec_does_not_block(pair):
    pair.check("MULTI")
    pair.check("BLPOP", "nolist", "0")
    pair.check("RPUSH", "l", "a")
    pair.check("BLPOP", "l", "0")
    pair.check("EXEC")


def test_oom_inside_multi(pair):
    script = [
        ("SET", "x", "1"), ("CONFIG", "SET", "maxmemory", "1"),
        ("MULTI",), ("SET", "a", "b"), ("GET", "x"), ("EXEC",),
        ("MULTI",), ("GET", "x"), ("DISCARD",),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("MULTI",), ("SET", "a", "b"), ("GET", "x"), ("CONFIG", "SET", "maxmemory", "1"), ("EXEC",),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("MULTI",), ("SET", "a", "b"), ("NOSUCH",), ("CONFIG", "SET", "maxmemory", "1"), ("EXEC",),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("MULTI",), ("GET", "x"), ("EXEC",),
    ]
    try:
        for args in script:
            pair.check(*args)
    finally:
        for conn in (pair.redis, pair.durakv):
            conn.call("DISCARD")
            conn.call("CONFIG", "SET", "maxmemory", "0")


def test_exec_wakes_blocked_clients_after_the_transaction(pair):
    replies = []
    for conn in (pair.redis, pair.durakv):
        waiter = Raw(conn.port, pair.proto)
        actor = Raw(conn.port, pair.proto)
        try:
            waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n5\r\n")
            time.sleep(0.05)
            for args in [("MULTI",), ("RPUSH", "l", "a"), ("RPUSH", "l", "b"), ("LLEN", "l"), ("EXEC",)]:
                replies.append(actor.call(*args))
            replies.append(waiter.read_raw(1))
            replies.append(actor.call("LRANGE", "l", "0", "-1"))
        finally:
            waiter.close()
            actor.close()
    half = len(replies) // 2
    assert replies[half:] == replies[:half]


def test_watch_expired_keys_without_active_expiry(pair):
    """With active expiry off, the WATCH-time expiry rules are deterministic on both servers."""
    for conn in (pair.redis, pair.durakv):
        conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        cases = [
            ([], "*1"), ([(1, "GET", "k")], "*1"), ([(1, "SET", "k", "new")], "*-1"),
            ([(1, "EXISTS", "k"), (1, "SET", "k", "new")], "*-1"), ([(1, "FLUSHDB",)], "*1"),
            ([(1, "SET", "other", "x")], "*1"), ([(1, "SWAPDB", "0", "1")], "*1"),
        ]
        for between, _ in cases:
            steps = [(0, "FLUSHALL"), (0, "SET", "k", "v", "PX", "5"), ("sleep", 0.02), (0, "WATCH", "k")]
            steps += between + [(0, "MULTI"), (0, "PING"), (0, "EXEC")]
            scenario(pair, steps)
        # a key that expires after WATCH aborts even if nobody reclaimed it
        scenario(pair, [(0, "FLUSHALL"), (0, "SET", "k", "v", "PX", "20"), (0, "WATCH", "k"), ("sleep", 0.04),
                        (0, "MULTI"), (0, "PING"), (0, "EXEC"), (0, "DBSIZE")])
        # SWAPDB bringing in a stale key (touchAllWatchedKeysInDb): a missing key replaced
        # with an expired one, an expired key with another expired one or with a live one
        for db0 in (None, ("v0", "PX", "1"), ("v0",)):
            steps = [(0, "FLUSHALL"), (0, "SELECT", "1")]
            if db0 is not None:
                steps.append((0, "SET", "k", *db0))
            steps += [(0, "SELECT", "0"), (0, "SET", "k", "v", "PX", "1"), ("sleep", 0.01), (0, "SELECT", "1"),
                      (0, "WATCH", "k"), (1, "SWAPDB", "0", "1"), (0, "MULTI"), (0, "PING"), (0, "EXEC"),
                      (0, "SELECT", "0")]
            scenario(pair, steps)
    finally:
        for conn in (pair.redis, pair.durakv):
            conn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def _other_command(rnd, keys: list[str]) -> list[str]:
    k, k2 = rnd.choice(keys), rnd.choice(keys)
    return rnd.choice([
        ["SET", k, "1"], ["SET", k, "1", "NX"], ["GET", k], ["DEL", k], ["INCR", k], ["APPEND", k, "x"],
        ["RPUSH", k, "x"], ["LPOP", k], ["LREM", k, "0", "zz"], ["LMOVE", k, k2, "LEFT", "RIGHT"],
        ["SADD", k, "m"], ["SREM", k, "m"], ["SREM", k, "nomember"], ["SMOVE", k, k2, "m"],
        ["HSET", k, "f", "v"], ["HDEL", k, "nofield"], ["HINCRBY", k, "n", "1"], ["HSETNX", k, "f", "v"],
        ["ZADD", k, "1", "m"], ["ZADD", k, "NX", "1", "m"], ["ZREM", k, "m"], ["ZINCRBY", k, "1", "m"],
        ["EXPIRE", k, "100"], ["PERSIST", k], ["RENAME", k, k2], ["COPY", k, k2], ["SUNIONSTORE", k, k2],
        ["SETRANGE", k, "0", "z"], ["GETDEL", k], ["MSETNX", k, "1"], ["XADD", k, f"{rnd.randint(1, 30)}-1", "f", "v"], ["DEL", "nokey"],
    ])


def test_watch_fuzz_across_command_groups(pair):
    """Random writes (or no-op writes) by another client between WATCH and EXEC."""
    import random

    rnd = random.Random(20261127 + pair.proto)
    keys = ["a", "b", "c"]
    for _ in range(60):
        steps: list[Step] = [(0, "WATCH", *rnd.sample(keys, rnd.randint(1, 2)))]
        steps += [(1, *_other_command(rnd, keys)) for _ in range(rnd.randint(0, 2))]
        steps += [(0, "MULTI"), (0, "SET", "done", "1"), (0, "EXEC")]
        scenario(pair, steps)


def test_keys_expire_as_of_the_start_of_exec_or_a_script(pair):
    # Redis's fixed_time_expire / script time snapshot: no key expires in the middle
    scenario(pair, [
        (0, "MULTI"), (0, "SET", "k", "v", "PX", "1"), (0, "DEBUG", "SLEEP", "0.02"), (0, "GET", "k"),
        (0, "EXEC"), ("sleep", 0.01), (0, "GET", "k"),
    ])
    wait = ("redis.call('set', KEYS[1], 'v', 'px', 1) "
            "local t = redis.call('time') "
            "local t0 = t[1] * 1000000 + t[2] "
            "repeat t = redis.call('time') until t[1] * 1000000 + t[2] - t0 > 20000 "
            "return redis.call('get', KEYS[1])")
    scenario(pair, [(0, "EVAL", wait, "1", "s"), ("sleep", 0.01), (0, "GET", "s")])


def test_transaction_commands_while_a_script_is_busy(pair):
    """Redis lets MULTI/DISCARD/WATCH/UNWATCH through a busy script and rejects the rest:
    a command refused inside MULTI aborts the EXEC, a refused EXEC discards the transaction."""
    from tests.support.raw import encode

    def run(port: int) -> list[bytes]:
        admin, looper, c2 = Raw(port, pair.proto), Raw(port, pair.proto), Raw(port, pair.proto)
        out = []
        try:
            admin.call("CONFIG", "SET", "busy-reply-threshold", "10")
            admin.call("SET", "xx", "1")
            for exec_while_busy in (False, True):
                looper.send(encode("EVAL", "while true do end", "0"))
                time.sleep(0.2)
                out.append(c2.call("MULTI"))
                out.append(c2.call("INCR", "xx"))
                if exec_while_busy:
                    out.append(c2.call("EXEC"))
                out.append(admin.call("SCRIPT", "KILL"))
                out.append(looper.read_raw()[:10])
                out.append(c2.call("INCR", "xx"))
                if not exec_while_busy:
                    out.append(c2.call("EXEC"))
                out.append(c2.call("GET", "xx"))
            return out
        finally:
            admin.call("CONFIG", "SET", "busy-reply-threshold", "5000")
            for c in (admin, looper, c2):
                c.close()

    got = run(pair.durakv.port)
    assert got == run(pair.redis.port)
    assert got[5].startswith(b"-EXECABORT") and got[9].startswith(b"-EXECABORT") and b"BUSY" in got[9]


def test_min_replicas_to_write_refuses_writes(pair):
    """NOREPLICAS with too few good replicas: plain writes, EXEC of queued writes (also when
    the setting changed after they were queued), and writes inside scripts."""
    try:
        scenario(pair, [
            (0, "SET", "xx", "1"), (0, "MULTI"), (0, "INCR", "xx"),
            (1, "CONFIG", "SET", "min-replicas-to-write", "2"),
            (0, "EXEC"), (0, "GET", "xx"), (0, "PING", "out of multi"),
            (0, "SET", "a", "b"), (0, "GET", "a"), (0, "MULTI"), (0, "GET", "a"), (0, "EXEC"),
            (0, "EVAL", "return redis.call('set', KEYS[1], 1)", "1", "a"),
            (0, "EVAL", "return redis.pcall('set', KEYS[1], 1)", "1", "a"),
            (0, "EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "a"),
            (0, "EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "a"),
            (1, "CONFIG", "SET", "min-replicas-max-lag", "0"), (0, "SET", "a", "c"),
            (1, "CONFIG", "SET", "min-replicas-max-lag", "10"), (0, "SET", "a", "d"),
        ])
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "min-replicas-to-write", "0")
