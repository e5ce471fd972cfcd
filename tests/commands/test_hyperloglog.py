"""Differential tests of PFADD PFCOUNT PFMERGE PFDEBUG against real Redis 7.0, byte for byte."""

from __future__ import annotations

import random
from typing import Any

from tests.commands.test_streams import notify_servers  # noqa: F401  (shared fixture)
from tests.support.notify import keyspace_events as events
from tests.support.raw import encode


def _add_many(pair: Any, key: str, elems: list[str], chunk: int = 200) -> None:
    for i in range(0, len(elems), chunk):
        pair.check("PFADD", key, *elems[i:i + chunk])


def test_pfadd_sparse_exact_bytes(pair) -> None:
    pair.check("PFADD", "h")
    pair.check("GET", "h")
    pair.check("PFADD", "h")
    pair.check("PFADD", "h", "a", "b", "c")
    pair.check("PFADD", "h", "a")
    pair.check("GET", "h")
    pair.check("PFCOUNT", "h")
    pair.check("GET", "h")
    pair.check("PFADD", "h", "d")
    pair.check("GET", "h")
    pair.check("PFDEBUG", "DECODE", "h")
    pair.check("PFDEBUG", "ENCODING", "h")
    _add_many(pair, "h", [f"e{i}" for i in range(300)])
    pair.check("GET", "h")
    pair.check("PFCOUNT", "h")
    pair.check("PFDEBUG", "DECODE", "h")


def test_promotion_to_dense_and_counts(pair) -> None:
    _add_many(pair, "h", [f"elem:{i}" for i in range(3000)])
    pair.check("PFDEBUG", "ENCODING", "h")
    pair.check("GET", "h")
    pair.check("PFCOUNT", "h")
    _add_many(pair, "h", [str(i) for i in range(20000)], chunk=1000)
    pair.check("PFCOUNT", "h")
    pair.check("GET", "h")
    pair.check("PFDEBUG", "DECODE", "h")
    pair.check("PFADD", "h", "elem:1")
    pair.check("PFDEBUG", "TODENSE", "h")


def test_pfcount_union_and_merge(pair) -> None:
    _add_many(pair, "a", [f"x{i}" for i in range(500)])
    _add_many(pair, "b", [f"x{i}" for i in range(250, 900)])
    _add_many(pair, "d", [f"y{i}" for i in range(4000)], chunk=500)
    pair.check("PFCOUNT", "a", "b")
    pair.check("PFCOUNT", "a", "b", "d", "nokey")
    pair.check("PFCOUNT", "nokey")
    pair.check("PFCOUNT", "nokey", "nokey2")
    pair.check("PFMERGE", "m", "a", "b")
    pair.check("GET", "m")
    pair.check("PFCOUNT", "m")
    pair.check("PFMERGE", "m2", "a", "d")
    pair.check("GET", "m2")
    pair.check("PFMERGE", "a", "b")
    pair.check("GET", "a")
    pair.check("PFMERGE", "empty")
    pair.check("GET", "empty")
    pair.check("PFMERGE", "empty", "nokey")
    pair.check("PFCOUNT", "empty")


def test_pfdebug_and_errors(pair) -> None:
    pair.check("PFADD", "h", "a", "b")
    pair.check("PFDEBUG", "GETREG", "h")
    pair.check("PFDEBUG", "ENCODING", "h")
    pair.check("GET", "h")
    pair.check("PFDEBUG", "DECODE", "h")
    pair.check("PFDEBUG", "TODENSE", "h")
    pair.check("PFADD", "h2", "a")
    pair.check("PFDEBUG", "TODENSE", "h2")
    pair.check("PFDEBUG", "FOO", "h2")
    pair.check("PFDEBUG", "GETREG", "nokey")
    pair.check("PFDEBUG", "GETREG")
    pair.check("SET", "s", "hello")
    pair.check("PFADD", "s", "a")
    pair.check("PFCOUNT", "s")
    pair.check("PFCOUNT", "h", "s")
    pair.check("PFMERGE", "s", "h")
    pair.check("PFMERGE", "h", "s")
    pair.check("PFDEBUG", "ENCODING", "s")
    pair.check("SET", "n", "12345")
    pair.check("PFADD", "n", "a")
    pair.check("SET", "bad", b"HYLL\x02" + b"\x00" * 20)
    pair.check("PFADD", "bad", "a")
    pair.check("SET", "bad2", b"HYLL\x00" + b"\x00" * 20)
    pair.check("PFCOUNT", "bad2")
    pair.check("SET", "bad3", b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xf0")
    pair.check("PFCOUNT", "bad3")
    pair.check("PFADD", "bad3", "a")
    pair.check("PFCOUNT", "bad3", "h")
    pair.check("PFMERGE", "x", "bad3")
    pair.check("RPUSH", "l", "a")
    pair.check("PFADD", "l", "a")
    pair.check("PFCOUNT", "l")
    pair.check("PFSELFTEST")
    pair.check("PFSELFTEST", "x")


def test_hll_value_from_redis_works_in_durakv(pair) -> None:
    for i in range(3):
        pair.redis.call("PFADD", "src", *[f"v{i}-{j}" for j in range(700 * (i + 1))])
        raw = pair.redis.parsed("GET", "src")
        pair.durakv.call("SET", f"copy{i}", raw)
        pair.redis.call("SET", f"copy{i}", raw)
        pair.check("PFCOUNT", f"copy{i}")
        pair.check("PFADD", f"copy{i}", "more", "elements")
        pair.check("GET", f"copy{i}")
        back = pair.durakv.parsed("GET", f"copy{i}")
        pair.redis.call("SET", "back", back)
        assert pair.redis.parsed("PFCOUNT", "back") == pair.durakv.parsed("PFCOUNT", f"copy{i}")


_HLL_EVENTS = [
    ("PFADD", "h", "a"), ("PFADD", "h", "a"), ("PFADD", "h2"), ("PFCOUNT", "h"), ("PFMERGE", "m", "h", "h2"),
    ("PFDEBUG", "TODENSE", "h"), ("PFCOUNT", "h", "m"),
]


def test_hll_keyspace_events(request) -> None:
    ports = request.getfixturevalue("notify_servers")
    assert events(ports[1], _HLL_EVENTS) == events(ports[0], _HLL_EVENTS)


def test_ttl_kept_and_config_and_big_registers(pair) -> None:
    pair.check("PFADD", "h", "a")
    pair.check("PEXPIRE", "h", "100000")
    pair.check("PFADD", "h", "b", "c")
    pair.check("PFCOUNT", "h")
    pair.check("PFMERGE", "h", "h")
    assert pair.redis.parsed("PTTL", "h") > 0 and pair.durakv.parsed("PTTL", "h") > 0
    regs = bytearray(12288)
    regs[3] = 40  # register 4 = 40 (above the sparse VAL maximum of 32)
    dense = b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80" + bytes(regs)
    pair.check("SET", "big", dense)
    pair.check("PFCOUNT", "big")
    pair.check("PFADD", "sp", "x", "y")
    pair.check("PFMERGE", "sp", "big")
    pair.check("GET", "sp")
    pair.check("PFDEBUG", "ENCODING", "sp")
    try:
        pair.check("CONFIG", "SET", "hll-sparse-max-bytes", "60")
        pair.check("PFADD", "small", *[f"e{i}" for i in range(10)])
        pair.check("PFDEBUG", "ENCODING", "small")
        pair.check("PFADD", "small", *[f"f{i}" for i in range(30)])
        pair.check("PFDEBUG", "ENCODING", "small")
        pair.check("GET", "small")
    finally:
        pair.check("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_dump_restore_between_servers(pair) -> None:
    for srv in (pair.redis, pair.durakv):
        srv.call("PFADD", "sp", *[f"s{i}" for i in range(100)])
        srv.call("PFADD", "de", *[f"d{i}" for i in range(5000)])
    for key in ("sp", "de"):
        payload = pair.redis.parsed("DUMP", key)
        assert pair.durakv.parsed("RESTORE", key + "2", "0", payload) == b"OK"
        back = pair.durakv.parsed("DUMP", key)
        assert pair.redis.parsed("RESTORE", key + "3", "0", back) == b"OK"
        assert pair.durakv.parsed("GET", key + "2") == pair.redis.parsed("GET", key)
        assert pair.redis.parsed("GET", key + "3") == pair.redis.parsed("GET", key)
        assert pair.durakv.parsed("PFCOUNT", key + "2") == pair.redis.parsed("PFCOUNT", key)


def _random_hll_cmd(rng: random.Random) -> tuple:
    k = rng.choice(["a", "b", "c"])
    r = rng.randrange(10)
    if r < 5:
        return ("PFADD", k, *[f"e{rng.randrange(30000)}" for _ in range(rng.randrange(0, 60))])
    if r == 5:
        return ("PFMERGE", k, *rng.sample(["a", "b", "c", "nokey"], rng.randrange(1, 4)))
    if r == 6:
        return ("PFCOUNT", *rng.sample(["a", "b", "c"], rng.randrange(1, 4)))
    if r == 7:
        return ("PFDEBUG", rng.choice(["TODENSE", "ENCODING", "DECODE"]), k)
    return ("GET", k)


def test_random_hll_commands_match_redis(pair) -> None:
    rng = random.Random(77)
    for _ in range(300):
        pair.check(*_random_hll_cmd(rng))
    for k in "abc":
        pair.check("GET", k)


def test_many_single_adds_through_promotion(pair) -> None:
    rng = random.Random(21)
    cmds = []
    for i in range(3000):
        cmds.append(("PFADD", rng.choice(["h1", "h1", "h1", "h2"]), str(rng.randrange(10**7))))
        if i % 250 == 0:
            cmds.append(("GET", "h1"))
            cmds.append(("PFCOUNT", "h2"))
    for srv in (pair.redis, pair.durakv):
        srv.send(b"".join(encode(*c) for c in cmds))
    assert pair.durakv.read_raw(len(cmds)) == pair.redis.read_raw(len(cmds))
    pair.check("GET", "h1")
    pair.check("GET", "h2")


def test_single_adds_to_a_dense_value(pair) -> None:
    """One element per PFADD into a dense value (the command's fast path): each reply,
    and the value after, byte for byte as Redis (registers at every bit offset)."""
    pair.check("PFADD", "d", "seed")
    pair.check("PFDEBUG", "TODENSE", "d")
    rng = random.Random(5)
    cmds = [("PFADD", "d", rng.choice(["%012d", "%d", "element:%d"]) % rng.randrange(10**6)) for _ in range(4000)]
    for srv in (pair.redis, pair.durakv):
        srv.send(b"".join(encode(*c) for c in cmds))
    assert pair.durakv.read_raw(len(cmds)) == pair.redis.read_raw(len(cmds))
    pair.check("GET", "d")
    pair.check("PFCOUNT", "d")
