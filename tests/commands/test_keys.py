"""Generic key commands against redis-server and durakv (byte-exact, RESP2 and RESP3)."""

from __future__ import annotations

import time

import pytest
import redis

from tests.support.raw import Raw

FAR = 4_000_000_000  # seconds: a fixed absolute time far in the future


def test_del_unlink_exists(pair):
    pair.check("SET", "a", "1")
    pair.check("SET", "b", "2")
    pair.check("EXISTS", "a", "a", "b", "nokey")
    pair.check("DEL", "nokey")
    pair.check("DEL", "a", "nokey", "a")
    pair.check("EXISTS", "a")
    pair.check("UNLINK", "b", "b", "c")
    pair.check("EXISTS", "b")
    pair.check("DEL")
    pair.check("UNLINK")
    pair.check("EXISTS")


def test_type(pair):
    pair.check("SET", "s", "v")
    pair.check("TYPE", "s")
    pair.check("TYPE", "nokey")
    pair.check("TYPE")
    pair.check("TYPE", "a", "b")
    pair.check("RPUSH", "l", "a")
    pair.check("TYPE", "l")
    pair.check("HSET", "h", "f", "v")
    pair.check("TYPE", "h")


def test_dbsize_and_keys(pair):
    pair.check("DBSIZE")
    for k in ["one", "two", "three", "four", "", "a*b", "a?b", "[x]", "h\\llo"]:
        pair.check("SET", k, "v")
    pair.check("DBSIZE")
    pair.check("DBSIZE", "x")
    for pat in ["*", "t*", "*o", "?wo", "[ot]*", "[^o]*", "[a-f]*", "*e*", "a\\*b", "a\\?b",
                "\\[x\\]", "[[]x]", "h\\\\llo", "**", "x", "", "[", "[^", "one*", "*[r-t]*"]:
        pair.check_parsed("KEYS", pat, unordered=True)
    pair.check("KEYS")
    pair.check("KEYS", "a", "b")


def test_keys_skips_expired(pair):
    pair.check("SET", "live", "1")
    pair.check("SET", "dead", "1", "PX", "1")
    time.sleep(0.01)
    pair.check("KEYS", "*")
    pair.check("KEYS", "d*")


def test_scan_errors(pair):
    pair.check("SCAN")
    for cur in ["x", " 0", "0 ", "1x", "0x10", "18446744073709551616", "-18446744073709551616", "+", "-"]:
        pair.check("SCAN", cur)
    pair.check("SCAN", "0", "COUNT", "0")
    pair.check("SCAN", "0", "COUNT", "-1")
    pair.check("SCAN", "0", "COUNT", "x")
    pair.check("SCAN", "0", "COUNT")
    pair.check("SCAN", "0", "MATCH")
    pair.check("SCAN", "0", "TYPE")
    pair.check("SCAN", "0", "foo", "bar")
    pair.check("SCAN", "x", "COUNT", "0")
    pair.check("SCAN", "0", "COUNT", "0", "MATCH")
    pair.check("SCAN", "0", "COUNT", "99999999999999999999")


def test_scan_small(pair):
    pair.check("SCAN", "0")
    pair.check("SET", "only", "1")
    pair.check("SCAN", "0")
    pair.check("SCAN", "")
    pair.check("SCAN", "0", "TYPE", "string")
    pair.check("SCAN", "0", "TYPE", "STRING")
    pair.check("SCAN", "0", "TYPE", "list")
    pair.check("SCAN", "0", "TYPE", "foo")
    pair.check("SCAN", "0", "MATCH", "o*")
    pair.check("SCAN", "0", "MATCH", "x*")
    pair.check("SCAN", "0", "MATCH", "*", "COUNT", "100", "TYPE", "string")
    for k in ["a", "b", "c"]:
        pair.check("RPUSH", "list" + k, "x")
    for opts in [("TYPE", "list"), ("MATCH", "list[ab]")]:
        a = pair.redis.parsed("SCAN", "0", *opts)
        b = pair.durakv.parsed("SCAN", "0", *opts)
        assert b[0] == a[0] == b"0" and sorted(b[1]) == sorted(a[1])


def _full_scan(conn: Raw, *opts: object) -> tuple[list[bytes], int]:
    cursor = b"0"
    seen: list[bytes] = []
    calls = 0
    while True:
        cursor, keys = conn.parsed("SCAN", cursor, *opts)
        seen.extend(keys)
        calls += 1
        if cursor == b"0":
            return seen, calls


def test_scan_full_iteration(pair):
    pair.check("MSET", *[x for i in range(300) for x in (f"key:{i}", "v")])
    for i in range(40):
        pair.check("RPUSH", f"lst:{i}", "v")
    for opts in [(), ("COUNT", "7"), ("MATCH", "key:1*"), ("COUNT", "50", "MATCH", "*:3?"),
                 ("TYPE", "list"), ("TYPE", "string", "COUNT", "1000")]:
        a, calls_a = _full_scan(pair.redis, *opts)
        b, calls_b = _full_scan(pair.durakv, *opts)
        assert sorted(set(b)) == sorted(set(a)), opts
    # COUNT bounds the work of one call
    cursor, keys = pair.durakv.parsed("SCAN", "0", "COUNT", "10")
    assert cursor != b"0" and 0 < len(keys) <= 12


def test_scan_guarantee_under_changes(pair):
    """Keys present for the whole iteration are returned, while others come and go."""
    d = pair.durakv
    d.call("MSET", *[x for i in range(500) for x in (f"stable:{i}", "v")])
    d.call("MSET", *[x for i in range(200) for x in (f"churn:{i}", "v")])
    cursor = b"0"
    seen: set[bytes] = set()
    step = 0
    while True:
        cursor, keys = d.parsed("SCAN", cursor, "COUNT", "25")
        seen.update(keys)
        step += 1
        # delete some churn keys, add new ones: the stable keys must all be seen
        d.call("DEL", f"churn:{step}", f"churn:{step + 100}")
        d.call("SET", f"new:{step}", "v")
        if cursor == b"0":
            break
        assert step < 1000
    assert {f"stable:{i}".encode() for i in range(500)} <= seen


def test_scan_cursor_survives_cache_loss(pair):
    """A cursor whose snapshot is gone (e.g. after FLUSHALL in another DB) still completes."""
    d = pair.durakv
    d.call("MSET", *[x for i in range(100) for x in (f"k{i}", "v")])
    cursor, first = d.parsed("SCAN", "0", "COUNT", "10")
    other = Raw(d.port, d.proto)
    try:
        other.call("SELECT", "1")
        other.call("FLUSHALL")  # drops every cached snapshot
    finally:
        other.close()
    d.call("MSET", *[x for i in range(100) for x in (f"k{i}", "v")])
    seen = set(first)
    while cursor != b"0":
        cursor, keys = d.parsed("SCAN", cursor, "COUNT", "10")
        seen.update(keys)
    # the keys re-created after the flush and present since: all returned by the rest
    rest = {f"k{i}".encode() for i in range(100)}
    assert rest - set(first) <= seen


def test_randomkey(pair):
    pair.check("RANDOMKEY")
    pair.check("RANDOMKEY", "x")
    pair.check("SET", "only", "1")
    pair.check("RANDOMKEY")
    pair.check("SET", "gone", "1", "PX", "1")
    pair.check("DEL", "only")
    time.sleep(0.01)
    pair.check("RANDOMKEY")


def test_randomkey_covers_keys(r):
    for i in range(20):
        r.set(f"k{i}", i)
    seen = {r.randomkey() for _ in range(400)}
    assert seen == {f"k{i}".encode() for i in range(20)}


def test_rename(pair):
    pair.check("RENAME", "nokey", "x")
    pair.check("RENAMENX", "nokey", "x")
    pair.check("RENAMENX", "nokey", "nokey")
    pair.check("RENAME", "nokey", "nokey")
    pair.check("SET", "k", "v")
    pair.check("RENAME", "k", "k")
    pair.check("RENAMENX", "k", "k")
    pair.check("EXPIREAT", "k", FAR)
    pair.check("RENAME", "k", "k2")
    pair.check("EXISTS", "k")
    pair.check("EXPIRETIME", "k2")
    pair.check("SET", "k3", "x", "EXAT", FAR + 100)
    pair.check("RENAMENX", "k2", "k3")
    pair.check("RENAMENX", "k2", "k4")
    pair.check("EXPIRETIME", "k4")
    pair.check("SET", "plain", "p")
    pair.check("RENAME", "plain", "k3")  # the destination's TTL goes with it
    pair.check("EXPIRETIME", "k3")
    pair.check("GET", "k3")
    pair.check("RENAME", "k3")
    pair.check("RENAMENX", "a", "b", "c")


def test_copy(pair):
    pair.check("SET", "k", "v")
    pair.check("PEXPIREAT", "k", FAR * 1000 + 123)
    pair.check("COPY", "k", "k")
    pair.check("COPY", "k", "k", "DB", "0")
    pair.check("COPY", "k", "c1")
    pair.check("PEXPIRETIME", "c1")
    pair.check("COPY", "k", "c1")
    pair.check("SET", "other", "o")
    pair.check("COPY", "other", "c1", "REPLACE")
    pair.check("PEXPIRETIME", "c1")
    pair.check("GET", "c1")
    pair.check("COPY", "k", "c1", "replace", "db", "0")
    pair.check("GET", "c1")
    pair.check("COPY", "k", "k", "DB", "1")
    pair.check("COPY", "k", "k", "DB", "1")
    pair.check("COPY", "k", "k", "DB", "1", "REPLACE")
    for bad in [["DB", "16"], ["DB", "-1"], ["DB", "x"], ["DB", "99999999999"], ["DB"], ["foo"],
                ["REPLACE", "foo"], ["DB", "1", "DB"]]:
        pair.check("COPY", "k", "c2", *bad)
    pair.check("COPY", "nokey", "c2", "DB", "16")
    pair.check("COPY", "nokey", "c2")
    pair.check("COPY", "k")
    pair.check("SELECT", "1")
    pair.check("PEXPIRETIME", "k")
    pair.check("GET", "k")


def test_copy_containers_are_deep(pair):
    pair.check("RPUSH", "l", "a", "b")
    pair.check("COPY", "l", "l2")
    pair.check("RPUSH", "l2", "c")
    pair.check("LRANGE", "l", "0", "-1")
    pair.check("LRANGE", "l2", "0", "-1")
    pair.check("HSET", "h", "f", "1")
    pair.check("COPY", "h", "h2", "DB", "3")
    pair.check("HSET", "h", "g", "2")
    pair.check("SELECT", "3")
    pair.check("HGETALL", "h2")


def test_move(pair):
    pair.check("SET", "k", "v")
    pair.check("EXPIREAT", "k", FAR)
    pair.check("MOVE", "k", "0")
    pair.check("MOVE", "k", "16")
    pair.check("MOVE", "k", "-1")
    pair.check("MOVE", "k", "x")
    pair.check("MOVE", "k", "99999999999")
    pair.check("MOVE", "nokey", "1")
    pair.check("MOVE", "k", "1")
    pair.check("EXISTS", "k")
    pair.check("SET", "k", "again")
    pair.check("MOVE", "k", "1")  # exists in the target: 0
    pair.check("SELECT", "1")
    pair.check("EXPIRETIME", "k")
    pair.check("GET", "k")
    pair.check("MOVE", "k")


def test_swapdb(pair):
    pair.check("SET", "a", "in0")
    pair.check("SELECT", "2")
    pair.check("SET", "b", "in2")
    pair.check("EXPIREAT", "b", FAR)
    pair.check("SELECT", "0")
    pair.check("SWAPDB", "0", "2")
    pair.check("GET", "a")
    pair.check("GET", "b")
    pair.check("EXPIRETIME", "b")
    pair.check("DBSIZE")
    pair.check("SWAPDB", "0", "0")
    pair.check("SWAPDB", "0", "16")
    pair.check("SWAPDB", "-1", "0")
    pair.check("SWAPDB", "x", "1")
    pair.check("SWAPDB", "1", "x")
    pair.check("SWAPDB", "x", "y")
    pair.check("SWAPDB", "99999999999", "1")
    pair.check("SWAPDB", "1", "99999999999")
    pair.check("SWAPDB", "1")


def test_flush(pair):
    pair.check("SET", "a", "1")
    pair.check("SELECT", "1")
    pair.check("SET", "b", "1")
    pair.check("FLUSHDB", "x")
    pair.check("FLUSHDB", "SYNC", "x")
    pair.check("FLUSHDB", "sync")
    pair.check("DBSIZE")
    pair.check("SELECT", "0")
    pair.check("DBSIZE")
    pair.check("FLUSHDB", "ASYNC")
    pair.check("SET", "a", "1")
    pair.check("FLUSHALL", "foo")
    pair.check("FLUSHALL", "SYNC")
    pair.check("FLUSHALL", "async")
    pair.check("DBSIZE")


def test_expire_errors(pair):
    pair.check("SET", "k", "v")
    for args in [["10", "foo"], ["10", "nx", "xx"], ["10", "gt", "lt"], ["10", "nx", "gt"],
                 ["10", "nx", "lt"], ["10", "xx", "gt", "lt"], ["x"], ["1.5"], ["x", "nx", "xx"],
                 ["10", "a\r\nb"], ["", "nx"], ["10", "NX", "nX"]]:
        for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]:
            pair.check(cmd, "k", *args)
    pair.check("EXPIRE", "k")
    pair.check("TTL", "k")
    pair.check("EXPIRE", "k", "9223372036854776")
    pair.check("EXPIRE", "k", "-9223372036854776")
    pair.check("EXPIREAT", "k", "9223372036854776")
    pair.check("PEXPIRE", "k", "9223372036854775807")
    pair.check("EXPIREAT", "k", "9223372036854775807")
    pair.check("EXPIRE", "k", "9223372036854775808")
    pair.check("EXPIRE", "nokey", "10", "foo")
    pair.check("EXPIRE", "nokey", "10")
    pair.check("PEXPIREAT", "k", "9223372036854775807")
    pair.check("PEXPIRETIME", "k")
    pair.check("EXPIRETIME", "k")
    pair.check("TTL", "k")


def test_expire_options(pair):
    pair.check("SET", "k", "v")
    pair.check("EXPIREAT", "k", FAR, "XX")
    pair.check("EXPIREAT", "k", FAR, "GT")
    pair.check("EXPIREAT", "k", FAR, "LT")
    pair.check("TTL", "k")
    pair.check("EXPIREAT", "k", FAR, "NX")
    pair.check("EXPIREAT", "k", FAR + 10, "NX")
    pair.check("EXPIREAT", "k", FAR + 10, "XX")
    pair.check("EXPIRETIME", "k")
    pair.check("EXPIREAT", "k", FAR + 10, "GT")
    pair.check("EXPIREAT", "k", FAR + 5, "GT")
    pair.check("EXPIREAT", "k", FAR + 20, "gt")
    pair.check("EXPIRETIME", "k")
    pair.check("EXPIREAT", "k", FAR + 20, "LT")
    pair.check("EXPIREAT", "k", FAR + 30, "LT")
    pair.check("EXPIREAT", "k", FAR + 15, "lt")
    pair.check("EXPIRETIME", "k")
    pair.check("EXPIREAT", "k", FAR + 1, "XX", "LT")
    pair.check("EXPIREAT", "k", FAR + 2, "XX", "GT")
    pair.check("EXPIREAT", "k", FAR + 2, "GT", "XX", "GT")
    pair.check("EXPIRETIME", "k")
    pair.check("PERSIST", "k")
    pair.check("EXPIRE", "k", "-5", "GT")  # no TTL counts as infinite: GT fails
    pair.check("EXISTS", "k")
    pair.check("EXPIRE", "k", "-5", "LT")  # and LT succeeds: the key is deleted
    pair.check("EXISTS", "k")


def test_expire_past_deletes(pair):
    for cmd, t in [("EXPIRE", "-1"), ("PEXPIRE", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", "100"),
                   ("EXPIRE", "-9223372036854775"), ("PEXPIRE", "-9223372036854775808")]:
        pair.check("SET", "k", "v")
        pair.check(cmd, "k", t)
        pair.check("EXISTS", "k")
    pair.check("SET", "k", "v")
    pair.check("PEXPIREAT", "k", "100", "NX")
    pair.check("EXISTS", "k")


def test_ttl_family(pair):
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]:
        pair.check(cmd, "nokey")
        pair.check(cmd)
        pair.check(cmd, "a", "b")
    pair.check("SET", "k", "v")
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]:
        pair.check(cmd, "k")
    pair.check("PEXPIREAT", "k", FAR * 1000 + 500)
    pair.check("EXPIRETIME", "k")
    pair.check("PEXPIRETIME", "k")
    pair.check("PEXPIREAT", "k", FAR * 1000 + 499)
    pair.check("EXPIRETIME", "k")
    pair.check("EXPIRE", "k", "100")
    pair.check("TTL", "k")
    pttl = int(pair.durakv.parsed("PTTL", "k"))
    assert 99_000 < pttl <= 100_000


def test_persist(pair):
    pair.check("PERSIST", "nokey")
    pair.check("SET", "k", "v")
    pair.check("PERSIST", "k")
    pair.check("EXPIREAT", "k", FAR)
    pair.check("PERSIST", "k")
    pair.check("PERSIST", "k")
    pair.check("TTL", "k")
    pair.check("PERSIST")


def test_touch(pair):
    pair.check("SET", "a", "1")
    pair.check("SET", "b", "1")
    pair.check("TOUCH", "a", "a", "b", "nokey")
    pair.check("TOUCH", "nokey")
    pair.check("TOUCH")


STRINGS = {
    "s1": "12345", "s2": "-1", "s3": "0", "s4": "01", "s5": "9223372036854775807",
    "s6": "9223372036854775808", "s7": "-9223372036854775808", "s8": "-9223372036854775809",
    "s9": "a" * 44, "s10": "a" * 45, "s11": "", "s12": " 1", "s13": "+1", "s14": "9999",
    "s15": "10000", "s16": "1e3", "s17": "-0", "s18": "3.14", "s19": "x" * 100,
}


def test_object_encoding_strings(pair):
    for k, v in STRINGS.items():
        pair.check("SET", k, v)
    for k in STRINGS:
        pair.check("OBJECT", "ENCODING", k)
        pair.check("OBJECT", "REFCOUNT", k)
    pair.check("OBJECT", "encoding", "nokey")
    pair.check("INCR", "counter")
    pair.check("OBJECT", "ENCODING", "counter")
    pair.check("SET", "fake", "HYLLxxxx")
    pair.check("OBJECT", "ENCODING", "fake")


def test_object_encoding_hyperloglog(pair):
    pair.check("PFADD", "hll", "a", "b")
    pair.check("OBJECT", "ENCODING", "hll")


def test_object_misc(pair):
    pair.check("SET", "k", "v")
    pair.check("OBJECT", "HELP")
    pair.check("OBJECT", "help")
    pair.check("OBJECT", "HELP", "x")
    pair.check("OBJECT", "foo")
    pair.check("OBJECT", "foo", "k")
    pair.check("OBJECT")
    pair.check("OBJECT", "ENCODING")
    pair.check("OBJECT", "ENCODING", "a", "b")
    for sub in ["REFCOUNT", "IDLETIME", "FREQ"]:
        pair.check("OBJECT", sub, "nokey")
    pair.check("OBJECT", "FREQ", "k")  # noeviction: frequency is not tracked
    pair.check("OBJECT", "IDLETIME", "k")


def test_object_freq_idletime_with_lfu(r):
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        r.set("k", "v")
        with pytest.raises(redis.ResponseError, match="An LFU maxmemory policy is selected"):
            r.object("idletime", "k")
        assert isinstance(r.object("freq", "k"), int)
    finally:
        r.config_set("maxmemory-policy", "noeviction")
    r.set("fresh", "v")
    assert r.object("idletime", "fresh") == 0


def _read_until(conn: Raw, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = conn.sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def test_keyspace_notifications(pair):
    """Every generic command publishes Redis's keyspace events (class g / x)."""
    subs = [Raw(pair.redis.port, pair.proto), Raw(pair.durakv.port, pair.proto)]
    for conn in (pair.redis, pair.durakv):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        for s in subs:
            s.call("PSUBSCRIBE", "__key*__:*")
            s.call("SUBSCRIBE", "end")
        script = [
            ("SET", "a", "1"), ("RENAME", "a", "b"), ("COPY", "b", "c"), ("COPY", "b", "c", "DB", "1"),
            ("MOVE", "c", "2"), ("EXPIRE", "b", "100"), ("PERSIST", "b"), ("PEXPIREAT", "b", "1"),
            ("SET", "d", "1"), ("DEL", "d", "nokey"), ("SET", "e", "1"), ("UNLINK", "e"),
            ("SET", "f", "1"), ("RENAMENX", "f", "g"), ("SET", "h", "1"), ("EXPIRE", "h", "-1"),
            ("SET", "i", "1"), ("RENAME", "i", "i"), ("PERSIST", "i"), ("EXPIRE", "nokey", "1"),
            ("SWAPDB", "0", "1"), ("FLUSHDB",), ("FLUSHALL",),
        ]
        for args in script:
            pair.check(*args)
        pair.check("PUBLISH", "end", "x")
        marker = b"message\r\n$3\r\nend\r\n$1\r\nx\r\n"
        got = [_read_until(s, marker) for s in subs]
        assert got[1] == got[0]
    finally:
        for s in subs:
            s.close()
        for conn in (pair.redis, pair.durakv):
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")


def _stat(conn: Raw, field: str) -> int:
    info = conn.parsed("INFO", "stats")
    for line in info.decode().splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":")[1])
    raise AssertionError(field)


def test_keyspace_hits_and_misses(pair):
    pair.check("SET", "a", "1")
    pair.check("CONFIG", "RESETSTAT")
    for args in [("EXISTS", "a", "nokey"), ("TYPE", "a"), ("TYPE", "nokey"), ("TTL", "a"), ("PTTL", "nokey"),
                 ("EXPIRETIME", "a"), ("TOUCH", "a", "nokey"), ("OBJECT", "ENCODING", "a"),
                 ("OBJECT", "REFCOUNT", "nokey"), ("COPY", "a", "b"), ("COPY", "nokey", "c"),
                 ("RENAME", "b", "d"), ("EXPIRE", "d", "100"), ("PERSIST", "d"), ("MOVE", "d", "1"),
                 ("DEL", "a", "nokey"), ("SCAN", "0", "TYPE", "string"), ("KEYS", "*"), ("RANDOMKEY",)]:
        pair.check(*args)
    for field in ("keyspace_hits", "keyspace_misses"):
        assert _stat(pair.durakv, field) == _stat(pair.redis, field), field


def test_keymiss_events(pair):
    subs = [Raw(pair.redis.port, pair.proto), Raw(pair.durakv.port, pair.proto)]
    for conn in (pair.redis, pair.durakv):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "Em")
    try:
        for s in subs:
            s.call("PSUBSCRIBE", "__key*__:*")
            s.call("SUBSCRIBE", "end")
        for args in [("GET", "n1"), ("EXISTS", "n2"), ("TYPE", "n3"), ("TTL", "n4"), ("TOUCH", "n5"),
                     ("OBJECT", "ENCODING", "n6"), ("COPY", "n7", "x"), ("EXPIRE", "n8", "1"),
                     ("RENAME", "n9", "x"), ("DEL", "n10"), ("PEXPIRETIME", "n11"), ("PERSIST", "n12")]:
            pair.check(*args)
        pair.check("PUBLISH", "end", "x")
        marker = b"message\r\n$3\r\nend\r\n$1\r\nx\r\n"
        got = [_read_until(s, marker) for s in subs]
        assert got[1] == got[0]
    finally:
        for s in subs:
            s.close()
        for conn in (pair.redis, pair.durakv):
            conn.call("CONFIG", "SET", "notify-keyspace-events", "")


@pytest.mark.parametrize("trigger", [
    [("SELECT", "1"), ("RPUSH", "l", "x"), ("SWAPDB", "0", "1")],
    [("RPUSH", "src", "x"), ("RENAME", "src", "l")],
    [("RPUSH", "src", "x"), ("RENAMENX", "src", "l")],
    [("RPUSH", "src", "x"), ("COPY", "src", "l")],
    [("SELECT", "1"), ("RPUSH", "l", "x"), ("MOVE", "l", "0")],
    [("SELECT", "1"), ("RPUSH", "src", "x"), ("COPY", "src", "l", "DB", "0")],
])
def test_key_commands_wake_blocked_clients(pair, trigger):
    replies = []
    for conn in (pair.redis, pair.durakv):
        waiter = Raw(conn.port, pair.proto)
        actor = Raw(conn.port, pair.proto)
        try:
            waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n5\r\n")
            time.sleep(0.05)
            for args in trigger:
                actor.call(*args)
            replies.append(waiter.read_raw(1))
            actor.call("SELECT", "0")
            replies.append(actor.call("EXISTS", "l"))
        finally:
            waiter.close()
            actor.close()
    assert replies[2:] == replies[:2]
    assert b"x" in replies[0]


def test_keys_glob_fuzz(pair):
    """Random glob patterns (escapes, classes, ranges, high bytes) against redis-server."""
    import random

    rnd = random.Random(42)
    alpha = b"ab*?[]^-\\\x80\xff"
    keys = sorted({bytes(rnd.choice(alpha) for _ in range(rnd.randint(0, 4))) for _ in range(150)})
    for conn in (pair.redis, pair.durakv):
        conn.call("MSET", *[x for k in keys for x in (k, b"v")])
    for _ in range(150):
        pat = bytes(rnd.choice(alpha) for _ in range(rnd.randint(0, 6)))
        a = sorted(pair.redis.parsed("KEYS", pat))
        b = sorted(pair.durakv.parsed("KEYS", pat))
        assert b == a, pat
        sa = sorted(_full_scan(pair.redis, "MATCH", pat, "COUNT", "20")[0])
        sb = sorted(set(_full_scan(pair.durakv, "MATCH", pat, "COUNT", "20")[0]))
        assert sb == sorted(set(sa)) == a, pat


def test_object_encoding_of_strings_built_in_place(pair):
    """Redis holds strings changed in place as raw sds; a plain SET is re-encoded."""
    for cmd in [
        ("SET", "a", "1234"), ("SETRANGE", "a", "0", "2"), ("OBJECT", "ENCODING", "a"),
        ("APPEND", "b", "hi"), ("OBJECT", "ENCODING", "b"),
        ("APPEND", "b", "x"), ("OBJECT", "ENCODING", "b"),
        ("SETBIT", "c", "1", "0"), ("OBJECT", "ENCODING", "c"),
        ("SET", "d", "5"), ("SETBIT", "d", "0", "0"), ("OBJECT", "ENCODING", "d"),
        ("SET", "a", "77"), ("INCR", "a"), ("OBJECT", "ENCODING", "a"),
        ("BITOP", "OR", "e", "b", "b"), ("OBJECT", "ENCODING", "e"),
        ("RENAME", "e", "f"), ("OBJECT", "ENCODING", "f"),
        ("COPY", "f", "g"), ("OBJECT", "ENCODING", "g"),
        ("MOVE", "g", "1"), ("SELECT", "1"), ("OBJECT", "ENCODING", "g"), ("SELECT", "0"),
        ("SET", "f", "abc"), ("OBJECT", "ENCODING", "f"),
        ("BITFIELD", "h", "SET", "u8", "0", "65"), ("OBJECT", "ENCODING", "h"),
        ("SETRANGE", "i", "2", "xy"), ("OBJECT", "ENCODING", "i"),
        ("SET", "i", "short"), ("OBJECT", "ENCODING", "i"),
    ]:
        pair.check(*cmd)


def test_object_encoding_of_incrbyfloat_results(pair):
    """Redis stores INCRBYFLOAT's formatted result unencoded: "3" is an embstr, not an int,
    and stays one through RENAME, COPY and MOVE until a command re-encodes it."""
    for cmd in [
        ("INCRBYFLOAT", "a", "1.5"), ("INCRBYFLOAT", "a", "1.5"), ("OBJECT", "ENCODING", "a"),
        ("RENAME", "a", "b"), ("OBJECT", "ENCODING", "b"),
        ("COPY", "b", "c"), ("OBJECT", "ENCODING", "c"),
        ("MOVE", "c", "1"), ("SELECT", "1"), ("OBJECT", "ENCODING", "c"), ("SELECT", "0"),
        ("APPEND", "b", "1"), ("OBJECT", "ENCODING", "b"),
        ("SET", "d", "10"), ("INCRBYFLOAT", "d", "0"), ("OBJECT", "ENCODING", "d"),
        ("INCR", "d"), ("OBJECT", "ENCODING", "d"),
        ("INCRBYFLOAT", "e", "1e40"), ("OBJECT", "ENCODING", "e"),
        ("INCRBYFLOAT", "f", "2"), ("GETSET", "f", "7"), ("OBJECT", "ENCODING", "f"),
    ]:
        pair.check(*cmd)


def test_lazyfreed_objects_counts_what_redis_frees_in_the_background(pair):
    """INFO lazyfreed_objects: UNLINK of a costly value (Redis's free effort > 64), and every
    key of an ASYNC flush."""
    import time as _time

    def lazyfreed(side) -> int:
        for _ in range(100):  # Redis frees on a background thread: wait for it
            info = side.call("INFO", "memory").decode()
            if "lazyfree_pending_objects:0" in info:
                break
            _time.sleep(0.01)
        return int(info.split("lazyfreed_objects:")[1].split()[0])

    try:
        for side in (pair.redis, pair.durakv):
            side.call("FLUSHALL")
            side.call("CONFIG", "SET", "stream-node-max-entries", "5")
            side.call("CONFIG", "RESETSTAT")
            for _ in range(1000):
                side.call("XADD", "big", "*", "k", "v")
            side.call("XGROUP", "CREATE", "big", "g", "0")
            side.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "big", ">")
            side.call("XADD", "small", "*", "a", "b")
            side.call("XGROUP", "CREATE", "small", "g", "$")
            side.call("SADD", "bigset", *[f"m{i}" for i in range(100)])
            side.call("SADD", "smallset", "1", "2")
            side.call("RPUSH", "list", *["x"] * 100)
        for keys in (("big",), ("small",), ("bigset", "smallset"), ("list",)):
            pair.check("UNLINK", *keys)
            assert lazyfreed(pair.durakv) == lazyfreed(pair.redis), keys
        assert lazyfreed(pair.durakv) == 2
        for side in (pair.redis, pair.durakv):
            for i in range(10):
                side.call("SET", f"k{i}", "v")
        pair.check("FLUSHDB", "ASYNC")
        assert lazyfreed(pair.durakv) == lazyfreed(pair.redis) == 12
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "stream-node-max-entries", "100")
