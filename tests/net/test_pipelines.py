"""Random pipelines of mixed commands, each sent in one write, to durakv and redis-server.

A connection runs the commands of one read together: plain writes go to the commit
tracker as a batch, handed over before the first command that is not plain (MULTI, EXEC,
SELECT, a wrong arity ...) and at the end of the read.  Every reply must be Redis's, byte
for byte, and so must the keys afterwards.
"""

from __future__ import annotations

import random

from tests.support.raw import encode

_KEYS = [b"k%d" % i for i in range(4)]


def _command(rnd: random.Random) -> list[bytes | str]:
    k = rnd.choice(_KEYS)
    k2 = rnd.choice(_KEYS)
    v = str(rnd.randrange(100))
    return rnd.choice([
        ["SET", k, v], ["GET", k], ["INCR", k], ["DECR", k], ["INCRBYFLOAT", k, "0.5"], ["APPEND", k, v],
        ["LPUSH", k, v], ["RPUSH", k, v, v], ["RPOP", k], ["LPOP", k, "2"], ["LPUSHX", k, v], ["LLEN", k],
        ["SADD", k, v], ["SREM", k, v], ["SCARD", k], ["SMOVE", k, k2, v],
        ["HSET", k, v, v], ["HGET", k, v], ["HINCRBY", k, v, "2"],
        ["ZADD", k, v, v], ["ZINCRBY", k, "1", v], ["ZPOPMIN", k], ["ZCARD", k],
        ["DEL", k], ["EXISTS", k, k2], ["TYPE", k], ["STRLEN", k], ["GETDEL", k], ["GETSET", k, v],
        ["SETNX", k, v], ["MSET", k, v, k2, v], ["COPY", k, k2], ["RENAME", k, k2], ["SORT", k],
        ["LMOVE", k, k2, "LEFT", "RIGHT"], ["EXPIREAT", k, "4000000000"], ["EXPIRETIME", k], ["PERSIST", k],
        ["OBJECT", "ENCODING", k], ["DBSIZE"], ["SELECT", str(rnd.randrange(2))],
        ["MULTI"], ["EXEC"], ["DISCARD"], ["PING"], ["ECHO", v], ["GET"], ["SET", k], ["NOSUCH", k],
    ])


def test_random_pipelines_match_redis(pair):
    rnd = random.Random(7)
    sides = (pair.redis, pair.durakv)
    try:
        for i in range(200):
            cmds = [_command(rnd) for _ in range(rnd.randrange(1, 25))]
            if i % 10 == 0:  # a sequence random draws rarely make: an integral INCRBYFLOAT result
                k = rnd.choice(_KEYS)
                cmds[rnd.randrange(len(cmds)):0] = [["DEL", k], ["INCRBYFLOAT", k, "0.5"], ["INCRBYFLOAT", k, "0.5"],
                                                    ["OBJECT", "ENCODING", k]]
            data = b"".join(encode(*c) for c in cmds)
            for side in sides:
                side.send(data)
            expected, got = (side.read_raw(len(cmds)) for side in sides)
            assert got == expected, (i, cmds)
        state = [["DISCARD"]] + [[name, *args] for db in ("0", "1")
                                 for name, *args in [["SELECT", db], *(["DUMP", k] for k in _KEYS)]]
        data = b"".join(encode(*c) for c in state)
        for side in sides:
            side.send(data)
        expected, got = (side.read_raw(len(state)) for side in sides)
        assert got == expected
    finally:
        for side in sides:
            side.call("SELECT", "0")
