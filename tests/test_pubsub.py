"""durakv.pubsub: keyspace notifications against redis-server, flag parsing, glob matching."""

from __future__ import annotations

import pytest

from durakv.pubsub import glob_match, parse_notify_flags
from tests.support.notify import keyspace_events
from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw


@pytest.fixture(scope="module")
def servers():
    a = start_redis("--notify-keyspace-events", "KEA")
    b = start_durakv("--notify-keyspace-events", "KEA")
    yield a.port, b.port
    a.stop()
    b.stop()


def _events(port: int, proto: int, cmds: list[tuple], pattern: str = "__key*__:*", wait: float = 0.0) -> list:
    return keyspace_events(port, cmds, proto, pattern, wait)


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("name,cmds", [
    ("strings", [("SET", "k", "v"), ("SET", "k", "v2", "EX", "100"), ("APPEND", "k", "x"),
                 ("INCR", "n"), ("INCRBYFLOAT", "n", "1.5"), ("SETRANGE", "k", "1", "zz"), ("DEL", "k", "n", "none")]),
    ("generic", [("SET", "a", "1"), ("EXPIRE", "a", "100"), ("PERSIST", "a"), ("RENAME", "a", "b"),
                 ("COPY", "b", "c"), ("DEL", "b", "c")]),
    ("list", [("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPOP", "l"), ("RPOP", "l"), ("LSET", "l", "0", "x"),
              ("LPOP", "l")]),
    ("hash", [("HSET", "h", "f", "v", "g", "w"), ("HSET", "h", "f", "v2"), ("HINCRBY", "h", "n", "1"),
              ("HDEL", "h", "f", "g", "n")]),
    ("set", [("SADD", "s", "a", "b"), ("SREM", "s", "a"), ("SREM", "s", "b"), ("SADD", "s2", "a"),
             ("SPOP", "s2")]),
    ("zset", [("ZADD", "z", "1", "a", "2", "b"), ("ZINCRBY", "z", "1", "a"), ("ZREM", "z", "a", "b")]),
])
def test_notifications(servers, proto, name, cmds):
    a = _events(servers[0], proto, cmds)
    b = _events(servers[1], proto, cmds)
    assert b == a


@pytest.mark.parametrize("proto", [2, 3])
def test_expired_notification(servers, proto):
    cmds = [("SET", "e", "v", "PX", "30")]
    a = _events(servers[0], proto, cmds, wait=2.0)
    b = _events(servers[1], proto, cmds, wait=2.0)
    assert b == a
    assert [b"pmessage", b"__key*__:*", b"__keyevent@0__:expired", b"e"] in [list(m) for m in a[1]]


def test_keyspace_only_and_class_filter(servers):
    for port in servers:
        Raw(port).call("CONFIG", "SET", "notify-keyspace-events", "K$")
    cmds = [("SET", "k", "v"), ("LPUSH", "l", "x"), ("DEL", "k")]
    try:
        a = _events(servers[0], 2, cmds)
        b = _events(servers[1], 2, cmds)
    finally:
        for port in servers:
            Raw(port).call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    assert b == a
    assert a[1] == [[b"pmessage", b"__key*__:*", b"__keyspace@0__:k", b"set"]]


def test_evicted_notification(servers):
    cmds = [("SET", "a", "1"), ("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"),
            ("CONFIG", "SET", "maxmemory", "1"), ("SET", "b", "2"), ("CONFIG", "SET", "maxmemory", "0"),
            ("CONFIG", "SET", "maxmemory-policy", "noeviction")]
    a = _events(servers[0], 2, cmds)
    b = _events(servers[1], 2, cmds)
    assert b == a
    assert [b"pmessage", b"__key*__:*", b"__keyevent@0__:evicted", b"a"] in [list(m) for m in a[1]]


def test_other_database(servers):
    cmds = [("SELECT", "3"), ("SET", "k", "v")]
    assert _events(servers[1], 2, cmds) == _events(servers[0], 2, cmds)


@pytest.mark.parametrize("value", ["", "A", "KEA", "AnKEm", "gKAgn", "x", "Kx", "g$lshzxetd", "EKmn", "nd", "KE"])
def test_config_rendering(servers, value):
    got = []
    for port in servers:
        c = Raw(port)
        got.append((c.call("CONFIG", "SET", "notify-keyspace-events", value),
                    c.call("CONFIG", "GET", "notify-keyspace-events")))
        c.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        c.close()
    assert got[1] == got[0]


def test_config_invalid(servers):
    got = []
    for port in servers:
        c = Raw(port)
        got.append(c.call("CONFIG", "SET", "notify-keyspace-events", "Kq"))
        c.close()
    assert got[1] == got[0]


def test_parse_notify_flags():
    assert parse_notify_flags("gKAgn") == "AK"
    assert parse_notify_flags("AnKEm") == "AKEm"
    assert parse_notify_flags("nE") == "nE"
    assert parse_notify_flags("Ex$").flags == parse_notify_flags("$xE").flags
    with pytest.raises(ValueError, match="Invalid event class character"):
        parse_notify_flags("Kq")


@pytest.mark.parametrize("pat,s,ok", [
    ("*", "anything", True), ("h?llo", "hello", True), ("h?llo", "hllo", False),
    ("h[ae]llo", "hallo", True), ("h[ae]llo", "hillo", False), ("h[^e]llo", "hallo", True),
    ("h[^e]llo", "hello", False), ("h[a-c]llo", "hbllo", True), ("h[c-a]llo", "hbllo", True),
    ("h\\*llo", "h*llo", True), ("h\\*llo", "hallo", False), ("a*b*c", "axxbyyc", True),
    ("a*b*c", "axxbyy", False), ("[]x", "x", False), ("k\ney", "k\ney", True), ("x[\\]]", "x]", True),
])
def test_glob_match(pat, s, ok):
    assert glob_match(pat.encode(), s.encode()) is ok
