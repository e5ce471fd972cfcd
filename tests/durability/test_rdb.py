"""RDB codec: CRC64, LZF, listpacks; DUMP/RESTORE against real Redis; RDB files both ways."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable

import pytest
import redis

from durakv.durability import crc64 as crcmod
from durakv.durability import rdb
from tests.support.procs import start_durakv, start_redis

# -- pieces ------------------------------------------------------------------------------


def test_crc64_check_value_and_fast_path():
    assert crcmod.crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    data = random.Random(1).randbytes(300_001)
    assert crcmod.crc64(data, 77) == crcmod._crc_py(data, 77)
    assert crcmod.crc64(data[:1000], crcmod.crc64(b"abc")) == crcmod.crc64(b"abc" + data[:1000])


@pytest.mark.parametrize("size", [64, 300, 5000, 70000])
def test_lzf_roundtrip(size):
    rng = random.Random(size)
    words = [b"alpha", b"beta", b"gamma", b"\x00\x01", b"zz"]
    data = b"".join(rng.choice(words) for _ in range(size))[:size]
    c = rdb.lzf_compress(data, len(data) - 4)
    assert c is not None and len(c) < len(data)
    assert rdb.lzf_decompress(c, len(data)) == data
    noise = rng.randbytes(size)
    assert rdb.lzf_compress(noise, len(noise) - 4) is None


def test_listpack_roundtrip_every_encoding():
    items = [b"0", b"127", b"128", b"-1", b"4095", b"-4096", b"4096", b"32767", b"-32769",
             b"8388607", b"-8388609", b"2147483647", b"2147483648", b"9223372036854775807",
             b"-9223372036854775808", b"01", b"+1", b"", b"x" * 63, b"y" * 64, b"z" * 4095, b"w" * 4096]
    parsed = rdb.lp_parse(rdb.lp_pack(items))
    assert [rdb._as_bytes(x) for x in parsed] == items


def test_intset_widths():
    for vals in ([1, -2, 3], [40000, -1], [2**40, -(2**63)]):
        assert rdb.intset_parse(rdb.intset_pack(vals)) == sorted(vals)


# -- DUMP / RESTORE against the real thing ----------------------------------------------

STRINGS = [b"", b"0", b"-1", b"127", b"-128", b"128", b"32767", b"-32769", b"2147483647",
           b"2147483648", b"12345678901", b"01", b" 1", b"abc", b"a" * 20, b"a" * 21,
           b"hello world " * 40, bytes(range(256)), b"x" * 5000]


def test_dump_string_bytes_equal_redis(pair):
    for i, v in enumerate(STRINGS):
        pair.check("SET", f"k{i}", v)
        pair.check("DUMP", f"k{i}")
    pair.check("DUMP", "missing")


def test_dump_small_containers_equal_redis(pair):
    pair.check("RPUSH", "l", "a", "1", "-300", "70000", "1099511627776", "x" * 100)
    pair.check("DUMP", "l")
    pair.check("HSET", "h", "f1", "v1", "f2", "2", "f3", "x" * 30)
    pair.check("DUMP", "h")
    pair.check("SADD", "si", "3", "1", "2", "-100")
    pair.check("DUMP", "si")
    pair.check("SADD", "sw", "3", "70000")
    pair.check("DUMP", "sw")
    pair.check("ZADD", "z", "1", "a", "2.5", "b", "-3", "c", "1e20", "d")
    pair.check("DUMP", "z")
    pair.check("XADD", "s", "1-1", "f", "v", "g", "1")
    pair.check("XADD", "s", "1-2", "f", "w", "g", "2")
    pair.check("XADD", "s", "5-0", "other", "x")
    pair.check("DUMP", "s")


def _payloads(pair, entries_cfg: str, default: str, make: Callable[[str], tuple]) -> tuple[bytes, bytes]:
    """DUMPs of a compact value and of one in the big encoding (made with ``entries_cfg``
    at 0), the same bytes on both servers."""
    pair.check(*make("lp"))
    pair.check("CONFIG", "SET", entries_cfg, "0")
    pair.check(*make("big"))
    pair.check("CONFIG", "SET", entries_cfg, default)
    lp, big = pair.durakv.parsed("DUMP", "lp"), pair.durakv.parsed("DUMP", "big")
    assert lp == pair.redis.parsed("DUMP", "lp") and big == pair.redis.parsed("DUMP", "big")
    return lp, big


def _restore(pair, key: str, payload: bytes) -> None:
    pair.check("RESTORE", key, "0", payload)
    pair.check("OBJECT", "ENCODING", key)


def test_restore_zset_listpack_ignores_member_length(pair):
    # a stored listpack zset stays one unless it has too many members (Redis 7.0 does not
    # check member lengths against zset-max-listpack-value there); a skiplist is checked for both
    try:
        lp, big = _payloads(pair, "zset-max-listpack-entries", "128",
                            lambda k: ("ZADD", k, "1.5", "a" * 10, "2", "b"))
        pair.check("CONFIG", "SET", "zset-max-listpack-value", "1")
        _restore(pair, "lp2", lp)
        _restore(pair, "big2", big)
        pair.check("CONFIG", "SET", "zset-max-listpack-entries", "1")
        _restore(pair, "lp3", lp)
    finally:
        pair.both("CONFIG", "SET", "zset-max-listpack-entries", "128")
        pair.both("CONFIG", "SET", "zset-max-listpack-value", "64")


def test_restore_hash_listpack_ignores_value_length(pair):
    # as for zsets: a stored listpack hash stays one unless it has too many fields; a
    # hashtable payload is checked for lengths too, and later writes check only their own
    try:
        pair.check("CONFIG", "SET", "hash-max-listpack-value", "1000")
        lp, big = _payloads(pair, "hash-max-listpack-entries", "512", lambda k: ("HSET", k, "f", "x" * 100))
        pair.check("CONFIG", "SET", "hash-max-listpack-value", "10")
        _restore(pair, "lp2", lp)
        pair.check("HSET", "lp2", "g", "short")
        pair.check("OBJECT", "ENCODING", "lp2")
        _restore(pair, "big2", big)
        pair.check("HSET", "lp2", "h", "y" * 11)
        pair.check("OBJECT", "ENCODING", "lp2")
        pair.check("CONFIG", "SET", "hash-max-listpack-entries", "0")
        _restore(pair, "lp3", lp)
    finally:
        pair.both("CONFIG", "SET", "hash-max-listpack-entries", "512")
        pair.both("CONFIG", "SET", "hash-max-listpack-value", "64")


def _content(r: redis.Redis, key: str):
    t = r.type(key)
    if t == b"string":
        return t, r.get(key)
    if t == b"list":
        return t, r.lrange(key, 0, -1)
    if t == b"hash":
        return t, r.hgetall(key)
    if t == b"set":
        return t, r.smembers(key)
    if t == b"zset":
        return t, r.zrange(key, 0, -1, withscores=True)
    if t == b"stream":
        return t, r.xrange(key), r.execute_command("XINFO", "STREAM", key, "FULL")
    return t, None


LIB = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 'fn-ok' end)"


def populate(r: redis.Redis) -> None:
    r.set("str", "hello")
    r.set("int", 12345)
    r.set("bigint", 2**40)
    r.set("long", "abc" * 200)
    r.set("rand", random.Random(5).randbytes(100))
    r.set("ttl", "v", px=500000)
    r.rpush("list_small", "a", 1, -300, 70000, 2**40, "x" * 100)
    r.rpush("list_big", *[f"element-{i}" for i in range(3000)])
    r.rpush("list_huge_elem", "y" * 10000, "z")
    r.hset("hash_small", mapping={"f1": "v1", "f2": 2})
    r.pexpire("hash_small", 400000)
    r.hset("hash_big", mapping={f"f{i}": f"v{i}" for i in range(300)})
    r.hset("hash_longval", "f", "v" * 100)
    r.sadd("set_int", 1, 2, 3, -5, 70000, 2**40)
    r.sadd("set_str", "a", "b", "c")
    r.sadd("set_bigint", *range(1000))
    r.zadd("zset_small", {"a": 1, "b": 2.5, "c": -3, "d": 1e20})
    r.zadd("zset_big", {f"m{i}": i * 0.5 for i in range(300)})
    r.zadd("zset_inf", {"x": float("inf"), "y": float("-inf"), "z": 0.1})
    for i in range(250):
        r.xadd("stream", {"f": i, "g": "v"} if i % 7 else {"other": i}, id=f"{1000 + i}-{i % 3}")
    r.xgroup_create("stream", "g1", id="0")
    r.xgroup_create("stream", "g2", id="$")
    r.xreadgroup("g1", "alice", {"stream": ">"}, count=5)
    r.xreadgroup("g1", "bob", {"stream": ">"}, count=3)
    r.xack("stream", "g1", "1001-1")
    r.xdel("stream", "1100-1")
    r.execute_command("XGROUP", "CREATECONSUMER", "stream", "g2", "carol")
    r.execute_command("FUNCTION", "LOAD", LIB)
    r2 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=2)
    r2.set("in_db2", "two")
    r2.rpush("list_db2", "q")


def _all_keys(r: redis.Redis) -> dict[int, list[bytes]]:
    port = r.connection_pool.connection_kwargs["port"]
    out = {}
    for db in range(16):
        keys = redis.Redis(port=port, db=db).keys("*")
        if keys:
            out[db] = sorted(keys)
    return out


@pytest.fixture
def source():
    p = start_redis()
    r = redis.Redis(port=p.port)
    populate(r)
    yield p, r
    p.stop()


def test_dump_restore_roundtrip_through_durakv(source, durakv_proc):
    _p, red = source
    dk = redis.Redis(port=durakv_proc.port)
    dk.flushall()
    for key in red.keys("*"):
        payload = red.dump(key)
        assert dk.restore(key, 0, payload)
        back = dk.dump(key)
        red.restore(b"__back", 0, back, replace=True)
        assert _content(red, b"__back") == _content(red, key), key
        enc_r = red.object("encoding", key)
        assert dk.object("encoding", key) == enc_r, key
    red.delete("__back")


def test_restore_errors_match_redis(pair):
    pair.check("SET", "foo", "bar")
    good = pair.redis.parsed("DUMP", "foo")
    for args in (
        ("RESTORE", "foo", "0", good),
        ("RESTORE", "foo", "x", "x"),
        ("RESTORE", "foo2", "-1", good),
        ("RESTORE", "foo2", "x", good),
        ("RESTORE", "foo2", "0", "x"),
        ("RESTORE", "foo2", "0", good[:-1] + bytes([good[-1] ^ 1])),
        ("RESTORE", "foo2", "0", b"\x00\x03bar\x0b\x00" + good[-8:]),
        ("RESTORE", "foo2", "0", good, "IDLETIME", "-1"),
        ("RESTORE", "foo2", "0", good, "IDLETIME", "1", "FREQ", "1"),
        ("RESTORE", "foo2", "0", good, "FREQ", "256"),
        ("RESTORE", "foo2", "0", good, "FREQ", "x"),
        ("RESTORE", "foo2", "0", good, "bla"),
        ("RESTORE", "foo2", "0", good, "REPLACE", "IDLETIME"),
        ("RESTORE", "foo", "x", "x", "bla"),
        ("RESTORE", "foo2"),
    ):
        pair.check(*args)
    # a bad value inside a good checksum
    import struct

    body = b"\x63\x03bar" + struct.pack("<H", 10)
    bad = body + struct.pack("<Q", crcmod.crc64(body))
    pair.check("RESTORE", "foo3", "0", bad)
    for empty in (b"\x02\x00", b"\x01\x00", b"\x05\x00", b"\x04\x00", b"\x12\x00"):
        body = empty + struct.pack("<H", 10)
        pair.check("RESTORE", "empty", "0", body + struct.pack("<Q", crcmod.crc64(body)))
    body = b"\x00\x03bar" + struct.pack("<H", 11)  # a newer RDB version
    pair.check("RESTORE", "newer", "0", body + struct.pack("<Q", crcmod.crc64(body)))
    pair.check("RESTORE", "foo", "0", good, "REPLACE", "IDLETIME", "10")
    pair.check("GET", "foo")
    pair.check("RESTORE", "foo4", "0", good, "FREQ", "5", "ABSTTL")
    pair.check("GET", "foo4")
    pair.check("RESTORE", "gone", "1", good, "ABSTTL")  # already expired: OK, nothing created
    pair.check("EXISTS", "gone")
    pair.check("RESTORE", "foo", "1", good, "ABSTTL", "REPLACE")  # replaced then gone
    pair.check("EXISTS", "foo")


def test_restore_ttl_overflow(pair):
    pair.check("SET", "src", "v")
    payload = pair.redis.parsed("DUMP", "src")
    for key, ttl, opts in (("a", "9223372036854775807", ()), ("b", "9223372036854775000", ()),
                           ("c", "9223372036854775806", ("ABSTTL",)), ("d", "9000000000000000000", ())):
        pair.check("RESTORE", key, ttl, payload, *opts)
        pair.check("EXISTS", key)


def test_restore_ttl(r):
    r.set("src", "v")
    payload = r.dump("src")
    assert r.restore("a", 100000, payload)
    assert 99000 < r.pttl("a") <= 100000
    assert r.restore("b", 4102444800000, payload, absttl=True)
    assert r.pexpiretime("b") == 4102444800000
    with pytest.raises(redis.exceptions.ResponseError, match="BUSYKEY"):
        r.restore("a", 0, payload)
    assert r.restore("a", 0, payload, replace=True)
    assert r.pttl("a") == -1


# -- RDB files both ways ----------------------------------------------------------------


def test_durakv_loads_a_redis_rdb(source, tmp_path):
    _p, red = source
    red.save()
    d = str(tmp_path)
    shutil.copy(os.path.join(_p.dir, "dump.rdb"), os.path.join(d, "dump.rdb"))
    dkp = start_durakv(workdir=d)
    try:
        keys = _all_keys(red)
        assert _all_keys(redis.Redis(port=dkp.port)) == keys
        for db, ks in keys.items():
            rr = redis.Redis(port=_p.port, db=db)
            dk = redis.Redis(port=dkp.port, db=db)
            for key in ks:
                rr.restore(b"__cmp", 0, dk.dump(key), replace=True)
                assert _content(rr, b"__cmp") == _content(rr, key), key
                assert abs(dk.pttl(key) - rr.pttl(key)) < 5000, key
            rr.delete("__cmp")
        assert redis.Redis(port=dkp.port).fcall("myfunc", 0) == b"fn-ok"
        assert redis.Redis(port=dkp.port).info("persistence")["rdb_last_load_keys_loaded"] == sum(
            len(v) for v in keys.values())
    finally:
        dkp.stop()


def test_redis_loads_a_durakv_rdb(source, tmp_path):
    _p, red = source
    d = str(tmp_path / "dk")
    os.makedirs(d)
    dkp = start_durakv(workdir=d)
    try:
        keys = _all_keys(red)
        for db, ks in keys.items():
            rr = redis.Redis(port=_p.port, db=db)
            dk = redis.Redis(port=dkp.port, db=db)
            for key in ks:
                ttl = rr.pttl(key)
                dk.restore(key, max(ttl, 0), rr.dump(key))
        redis.Redis(port=dkp.port).function_load(LIB)
        assert redis.Redis(port=dkp.port).save()
    finally:
        dkp.stop()
    path = os.path.join(d, "dump.rdb")
    import subprocess

    check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
    assert "RDB looks OK" in check.stdout, check.stdout
    d2 = str(tmp_path / "r2")
    os.makedirs(d2)
    shutil.copy(path, os.path.join(d2, "dump.rdb"))
    p2 = start_redis(workdir=d2)
    try:
        assert _all_keys(redis.Redis(port=p2.port)) == keys
        assert redis.Redis(port=p2.port).fcall("myfunc", 0) == b"fn-ok"
        for db, ks in keys.items():
            a = redis.Redis(port=_p.port, db=db)
            b = redis.Redis(port=p2.port, db=db)
            for key in ks:
                assert _content(b, key) == _content(a, key), key
                assert abs(a.pttl(key) - b.pttl(key)) < 5000, key
    finally:
        p2.stop()


def test_restore_sets_lru_idle_time(r):
    r.set("foo", "bar")
    encoded = r.dump("foo")
    r.delete("foo")
    r.config_set("maxmemory-policy", "allkeys-lru")
    try:
        assert r.restore("foo", 0, encoded, idletime=1000)
        idle = r.object("idletime", "foo")
        assert 1000 <= idle <= 1010
        assert r.get("foo") == b"bar"
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_restore_sets_lfu_frequency(r):
    r.set("foo", "bar")
    encoded = r.dump("foo")
    r.delete("foo")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert r.restore("foo", 0, encoded, frequency=100)
        assert r.object("freq", "foo") == 100
        assert r.get("foo") == b"bar"
    finally:
        r.config_set("maxmemory-policy", "noeviction")


# -- encodings older Redis versions write (ziplists, quicklist v1, string scores) --------


def _zl_entry(prev: int, v: bytes | int) -> bytes:
    import struct

    pre = bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
    if isinstance(v, bytes):
        if len(v) < 64:
            enc = bytes((len(v),))
        else:
            enc = bytes((0x40 | (len(v) >> 8), len(v) & 0xFF))
        return pre + enc + v
    if 0 <= v <= 12:
        return pre + bytes((0xF1 + v,))
    if -128 <= v <= 127:
        return pre + b"\xfe" + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return pre + b"\xc0" + struct.pack("<h", v)
    if -(1 << 23) <= v < (1 << 23):
        return pre + b"\xf0" + (v & 0xFFFFFF).to_bytes(3, "little")
    if -(1 << 31) <= v < (1 << 31):
        return pre + b"\xd0" + struct.pack("<i", v)
    return pre + b"\xe0" + struct.pack("<q", v)


def _ziplist(items: list) -> bytes:
    import struct

    body = b""
    prev = 0
    for it in items:
        e = _zl_entry(prev, it)
        body += e
        prev = len(e)
    return struct.pack("<IIH", 11 + len(body), 10, len(items)) + body + b"\xff"


def _decode(t: int, body: bytes):
    r = rdb.Reader(body)
    v = rdb.decode_value(r, t, rdb.Limits())
    assert r.pos == len(body)
    return v


def test_old_encodings_decode():
    items = [b"abc", b"x" * 300, 0, 12, 13, -5, 1000, -70000, 2**30, 2**40]
    want = [b"abc", b"x" * 300, b"0", b"12", b"13", b"-5", b"1000", b"-70000", b"%d" % 2**30, b"%d" % 2**40]
    zl = _ziplist(items)
    assert list(_decode(rdb.T_LIST_ZIPLIST, rdb.enc_string(zl))) == want
    quick = rdb.enc_len(2) + rdb.enc_string(zl) + rdb.enc_string(_ziplist([b"tail"]))
    assert list(_decode(rdb.T_LIST_QUICKLIST, quick)) == want + [b"tail"]
    linked = rdb.enc_len(2) + rdb.enc_string(b"a") + rdb.enc_string(b"12")
    assert list(_decode(rdb.T_LIST, linked)) == [b"a", b"12"]
    h = _decode(rdb.T_HASH_ZIPLIST, rdb.enc_string(_ziplist([b"f", 1, b"g", b"v"])))
    assert h.items() == [(b"f", b"1"), (b"g", b"v")] and h.encoding() == "listpack"
    z = _decode(rdb.T_ZSET_ZIPLIST, rdb.enc_string(_ziplist([b"a", 1, b"b", b"2.5"])))
    assert z.items() == [(b"a", 1.0), (b"b", 2.5)]
    zs = rdb.enc_len(3) + rdb.enc_string(b"m") + b"\x031.5" + rdb.enc_string(b"i") + b"\xfe" \
        + rdb.enc_string(b"n") + b"\xff"
    assert _decode(rdb.T_ZSET, zs).items() == [(b"n", float("-inf")), (b"m", 1.5), (b"i", float("inf"))]


def test_rdb_file_with_second_expiry_and_lzf(tmp_path):
    import struct

    from durakv.keyspace import Keyspace

    long_value = b"compress me " * 20
    body = b"REDIS0009" + bytes((rdb.OP_AUX,)) + rdb.enc_string(b"redis-ver") + rdb.enc_string(b"6.2.0")
    body += bytes((rdb.OP_SELECTDB,)) + rdb.enc_len(1)
    body += bytes((rdb.OP_EXPIRETIME,)) + struct.pack("<i", 2000000000) + b"\x00" + rdb.enc_string(b"k")
    body += rdb.enc_string(b"v")
    body += bytes((rdb.OP_IDLE,)) + rdb.enc_len(5) + b"\x00" + rdb.enc_string(b"big") + rdb.enc_string(long_value)
    body += bytes((rdb.OP_EOF,))
    body += struct.pack("<Q", crcmod.crc64(body))
    assert b"\xc3" in body  # the long value really is LZF-compressed
    ks = Keyspace(16)
    ld = rdb.Loader(ks, now_ms=0)
    ld.load(body)
    assert ks.dbs[1].data == {b"k": b"v", b"big": long_value}
    assert ks.dbs[1].expires[b"k"] == 2000000000000
    bad = body[:-1] + bytes((body[-1] ^ 1,))
    with pytest.raises(rdb.RdbError, match="checksum"):
        rdb.Loader(Keyspace(16), now_ms=0).load(bad)


def test_restore_of_mangled_payloads_never_breaks_the_server(durakv_proc):
    import struct

    dk = redis.Redis(port=durakv_proc.port)
    dk.flushall()
    dk.rpush("l", *range(50))
    dk.hset("h", mapping={f"f{i}": i for i in range(20)})
    dk.sadd("s", *range(20))
    dk.xadd("x", {"a": 1})
    dk.zadd("z", {"a": 1, "b": 2})
    dk.set("str", "hello world " * 10)
    rng = random.Random(3)
    for key in ("l", "h", "s", "x", "z", "str"):
        good = dk.dump(key)
        body = bytearray(good[:-10])
        for _ in range(60):
            b = bytearray(body)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            if rng.random() < 0.3:
                b = b[: rng.randrange(1, len(b))]
            data = bytes(b) + struct.pack("<H", 10)
            payload = data + struct.pack("<Q", crcmod.crc64(data))
            try:
                dk.restore("fuzz", 0, payload, replace=True)
            except redis.exceptions.ResponseError as e:
                assert str(e) == "Bad data format", e
    assert dk.ping()


def test_dump_bytes_equal_redis_for_big_lists_and_compressible_strings(pair):
    pair.check("RPUSH", "l", *[f"element-{i}" for i in range(3000)])
    pair.check("DUMP", "l")  # several quicklist nodes, each LZF-compressed
    pair.check("RPUSH", "l2", *[str(i) for i in range(3000)])
    pair.check("DUMP", "l2")
    pair.check("RPUSH", "l3", "x" * 5000, "y" * 5000, "z")
    pair.check("DUMP", "l3")
    rng = random.Random(11)
    for k in range(40):
        words = [b"alpha", b"beta", b"gamma", b"\x00\x01", b"zz", b"element-", b"%d" % rng.randrange(1000)]
        v = b"".join(rng.choice(words) for _ in range(rng.randrange(5, 2000)))
        pair.check("SET", f"s{k}", v)
        pair.check("DUMP", f"s{k}")


def test_dump_bytes_equal_redis_for_skiplist_zsets_and_multi_node_streams(pair):
    pair.check("ZADD", "z", *[x for i in range(300) for x in (str(i * 0.5), f"m{i}")])
    pair.check("DUMP", "z")  # skiplist: saved from the highest score down, as Redis does
    for i in range(250):
        fields = ("f", str(i), "g", "v") if i % 7 else ("other", str(i))
        pair.check("XADD", "x", f"{1000 + i}-{i % 3}", *fields)
    pair.check("DUMP", "x")
    pair.check("XGROUP", "CREATE", "x", "g1", "0")
    pair.check("DUMP", "x")
