"""keyspace_hits / keyspace_misses as Redis counts them: reads count (lookupKeyRead), the
lookups of commands about to write do not (lookupKeyWrite) — compared command by command."""

from __future__ import annotations

from tests.support.stats import fresh_client, run_each

CMDS = [
    ("LMOVE", "nol", "dst", "LEFT", "RIGHT"), ("RPUSH", "l", "a", "b", "c"), ("LMOVE", "l", "dst", "LEFT", "RIGHT"),
    ("SMOVE", "nos", "d", "m"), ("SADD", "s", "m"), ("SMOVE", "s", "d", "m"), ("BLPOP", "l", "0.01"),
    ("BLPOP", "nol", "0.01"), ("RPOPLPUSH", "l", "x"), ("RPOPLPUSH", "nol", "x"), ("LPOP", "nol"), ("LPOP", "x"),
    ("SPOP", "nos"), ("GETDEL", "nok"), ("SET", "k", "1"), ("GETDEL", "k"), ("GETEX", "nok"), ("APPEND", "nok", "x"),
    ("INCR", "n"), ("HINCRBY", "h", "f", "1"), ("ZINCRBY", "z", "1", "m"), ("LINSERT", "nol", "BEFORE", "a", "b"),
    ("SETRANGE", "r", "0", "x"), ("PFADD", "hl", "a"), ("PFCOUNT", "hl"), ("PFCOUNT", "nohl"),
    ("SINTERSTORE", "d2", "s", "nos"), ("LMPOP", "1", "nol", "LEFT"), ("ZPOPMIN", "noz"), ("BZPOPMIN", "noz", "0.01"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZRANGESTORE", "d", "z", "0", "-1"), ("ZUNIONSTORE", "d3", "2", "z", "noz"),
    ("ZREMRANGEBYSCORE", "noz", "0", "1"), ("ZREM", "noz", "a"), ("HDEL", "noh", "f"), ("HSETNX", "h2", "f", "v"),
    ("HINCRBYFLOAT", "h3", "f", "1.5"), ("LSET", "nol", "0", "x"), ("LTRIM", "nol", "0", "1"), ("LREM", "nol", "0", "x"),
    ("SREM", "nos", "x"), ("LPUSHX", "nol", "x"), ("BLMOVE", "nol", "d", "LEFT", "LEFT", "0.01"),
    ("BZMPOP", "0.01", "1", "noz", "MIN"), ("BLMPOP", "0.01", "1", "nol", "LEFT"), ("LRANGE", "nol", "0", "-1"),
    ("HGET", "noh", "f"), ("ZSCORE", "z", "a"), ("EXISTS", "k", "nok"), ("TYPE", "nok"), ("TTL", "nok"),
]


def _deltas(port: int) -> list[tuple[str, int, int]]:
    r = fresh_client(port)
    out = []
    hits = misses = 0
    for cmd in run_each(r, CMDS):
        st = r.info("stats")
        out.append((" ".join(cmd), st["keyspace_hits"] - hits, st["keyspace_misses"] - misses))
        hits, misses = st["keyspace_hits"], st["keyspace_misses"]
    return out


def test_hits_and_misses_per_command_match_redis(durakv_proc, redis_proc):
    assert _deltas(durakv_proc.port) == _deltas(redis_proc.port)
