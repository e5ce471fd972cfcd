"""ACL users and permissions, byte for byte against redis-server 7.0.15 (RESP2 and RESP3).

Every test leaves both servers with only the ``default`` user (``on nopass ~* &* +@all``),
no requirepass and an empty ACL LOG (the ``clean`` fixture).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.raw import Raw


def _reset(port: int) -> None:
    r = Raw(port)
    try:
        users = r.parsed("ACL", "USERS")
        others = [u for u in users if u != b"default"]
        if others:
            r.call("ACL", "DELUSER", *others)
        r.call("ACL", "SETUSER", "default", "on", "nopass", "allkeys", "allchannels", "allcommands", "clearselectors")
        r.call("CONFIG", "SET", "requirepass", "")
        r.call("CONFIG", "SET", "acllog-max-len", "128")
        r.call("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
        r.call("ACL", "LOG", "RESET")
    finally:
        r.close()


@pytest.fixture(autouse=True)
def clean(redis_proc, durakv_proc):
    _reset(redis_proc.port)
    _reset(durakv_proc.port)
    yield
    _reset(redis_proc.port)
    _reset(durakv_proc.port)


def _as_user(pair, user: str, password: str, proto: int | None = None) -> tuple[Raw, Raw]:
    """A second connection to each server, authenticated as ``user``."""
    proto = proto or pair.proto
    a, b = Raw(pair.redis.port, proto), Raw(pair.durakv.port, proto)
    assert a.call("AUTH", user, password) == b"+OK\r\n"
    assert b.call("AUTH", user, password) == b"+OK\r\n"
    return a, b


def _same(a: Raw, b: Raw, *args: object) -> bytes:
    x, y = a.call(*args), b.call(*args)
    assert y == x, f"{args!r}: durakv {y!r} != redis {x!r}"
    return x


def _setuser(pair, name: str, *rules: str) -> None:
    assert pair.check("ACL", "SETUSER", name, *rules) == b"+OK\r\n"


# --------------------------------------------------------------------------- SETUSER / LIST / GETUSER

# rule sequences whose rendering is fully determined (at most one single-command rule)
RULES = [
    ["+get"], ["+@all", "+get"], ["+@all", "-get", "+get"], ["-@all", "+get", "+set", "-get"],
    ["+@read", "-get", "+get"], ["+@read", "+get"], ["+@read", "-@read"], ["+@read", "+@write", "-@read"],
    ["+config", "+config|get"], ["+config|get", "+config"], ["+config|get", "-config"],
    ["+select|0", "+select|1"], ["+select|0", "-select"], ["+select|0", "+select"], ["+get", "+GET"],
    ["+@hash", "+hset", "-@hash"], ["-config", "+config|get", "-config|get"], ["+@all", "-config|set"],
    ["+@all", "-config|set", "-config"], ["-@all", "+@dangerous"], ["+@all", "-@dangerous"],
    ["-@all", "+@read", "+@write"], ["-@all", "+@hash", "+@set", "-hset"], ["+@all", "-@keyspace", "-@admin"],
    ["+@all", "-@slow", "+get"], ["-@all", "+@fast", "-get"], ["+@all", "-@fast"],
    ["-@all", "+@connection", "+@transaction", "+@scripting"], ["-@all", "+@pubsub", "-publish"],
    ["+@all", "-@pubsub", "-@blocking"], ["-@all", "+@admin"], ["-@all", "+@admin", "-@dangerous"],
    ["+@all", "-@admin", "+@dangerous"], ["-@all", "+@sortedset", "+@list", "+@geo"],
    ["-@all", "+@stream", "+@bitmap", "+@hyperloglog", "-pfdebug"], ["-@all", "+acl", "+@read"],
    ["+@all", "-cluster"], ["-@all", "+@slow"], ["allkeys", "allchannels", "allcommands", "on", "nopass"],
    ["~a*", "%R~b*", "%W~c*", "&x*", "&y"], ["%RW~a", "%WR~b", "%R~c", "%W~c"], ["~a", "~b", "resetkeys", "~c"],
    ["&a", "&b", "resetchannels", "&c"], ["%R~", "~", "%rw~a", "&"], ["%RW"], ["%R~*"], ["%R~*", "~*"],
    ["~a", "%R~b", "%W~a", "%R~b"],
    [">a", ">b", "#ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "<b"],
    ["(+get ~a)", "(+set %W~b &c)", "clearselectors", "(+hget)"], ["(~x +@read -get)", "on", ">pw"],
    ["(+get", "~a)"], ["( ~a \"+get )"], ["()"], ["+select|0", "+select|0", "+SELECT|0", "+select|A"],
    ["+@all", "-select", "+select|0", "+select|1"], ["+@all", "-debug", "+debug|object"],
    ["-@all", "+debug|object", "+debug|reload", "-debug"], ["reset", "on", "+@all", "~*"],
    ["skip-sanitize-payload", "sanitize-payload"], ["skip-sanitize-payload"], ["reset"], ["nopass", ">x"],
    [">x", "nopass"], ["ON", "NOPASS", "allCommands"], [">"], ["+acl|setuser"], ["+client|id"],
    ["-@all", "+cluster|info"], ["+@all", "-@all", "+@all"], ["", "on"],
]


@pytest.mark.parametrize("rules", RULES, ids=[" ".join(r) or "empty" for r in RULES])
def test_setuser_renders_as_redis(pair, rules):
    pair.check("ACL", "SETUSER", "t", *rules)
    pair.check("ACL", "LIST")
    pair.check("ACL", "GETUSER", "t")
    pair.check("ACL", "USERS")


# rule sequences whose single-command rules Redis emits in its (randomly seeded) dict order
UNORDERED = [
    ["-@all", "+@string", "-@write", "+set"], ["+@all", "-@write", "+@string"],
    ["+@all", "-acl|setuser", "-client", "+client|list"], ["-@all", "+cluster|info", "+asking"],
    ["-@all", "+@slow", "-@dangerous", "+@keyspace"], ["+@all", "-@write", "+set", "+hset", "+lpush"],
    ["-@all", "+get", "+set", "+hget", "+config|get", "+select|0"],
]


@pytest.mark.parametrize("rules", UNORDERED, ids=[" ".join(r) for r in UNORDERED])
def test_setuser_renders_categories_then_commands(pair, rules):
    pair.check("ACL", "SETUSER", "t", *rules)
    a = pair.redis.parsed("ACL", "GETUSER", "t")
    b = pair.durakv.parsed("ACL", "GETUSER", "t")
    if isinstance(a, dict):  # RESP3 map
        a, b = [x for kv in a.items() for x in kv], [x for kv in b.items() for x in kv]
    ca = a[a.index(b"commands") + 1].split(b" ")
    cb = b[b.index(b"commands") + 1].split(b" ")
    cats_a = [x for x in ca if x[1:2] == b"@"]
    cats_b = [x for x in cb if x[1:2] == b"@"]
    assert cats_b == cats_a  # the category part is deterministic and ordered
    assert cb[: len(cats_b)] == cats_b
    assert sorted(cb) == sorted(ca)


BAD_RULES = [
    "foo", "+nosuch", "-nosuch", "+@nosuch", "-@nosuch", "-select|0", "+config|nosuch", "+config|",
    "+config|get|x", "+select|", "%X~a", "%~a", "%RWR~a", "#abc", "!abc", "<nopw", "!" + "0" * 64,
    "#0123456789012345678901234567890123456789012345678901234567890ABC", "~a b", "&a b", "(+get foo)",
    "-config|get|x", "+get|x|y", "+nosuch|x", "@read", "%R", "+client|kill|x",
]


@pytest.mark.parametrize("rule", BAD_RULES)
def test_setuser_bad_rule_errors(pair, rule):
    _setuser(pair, "t", "on", "+get")
    pair.check("ACL", "SETUSER", "t", "~k", rule)
    pair.check("ACL", "LIST")  # nothing of a failed SETUSER applies


def test_setuser_errors(pair):
    pair.check("ACL", "SETUSER", "t", "allkeys", "~foo")
    pair.check("ACL", "SETUSER", "t", "&*", "&foo")
    pair.check("ACL", "SETUSER", "t", "(", "+get")
    pair.check("ACL", "SETUSER", "t", "(+get")
    pair.check("ACL", "SETUSER", "t", "on", "(", "foo)")
    pair.check("ACL", "SETUSER", "a b", "on")
    pair.check("ACL", "SETUSER", "a\x00b", "on")
    pair.check("ACL", "SETUSER", "t", "bad\r\nrule")
    pair.check("ACL", "SETUSER")
    pair.check("ACL", "SETUSER", "x")
    pair.check("ACL", "LIST")


def test_getuser_shapes(pair):
    _setuser(pair, "u2", "on", ">p1", ">p2", "~a*", "%R~b*", "&c*", "+get", "-set", "+@hash", "(~x +get)",
             "(%W~y &z +set)")
    pair.check("ACL", "GETUSER", "u2")
    pair.check("ACL", "GETUSER", "default")
    pair.check("ACL", "GETUSER", "nosuch")
    _setuser(pair, "u3", "reset")
    pair.check("ACL", "GETUSER", "u3")
    pair.check("ACL", "LIST")


def test_acl_pubsub_default_allchannels(pair):
    pair.check("CONFIG", "SET", "acl-pubsub-default", "allchannels")
    _setuser(pair, "t", "on", "(+get)")
    _setuser(pair, "t2", "reset")
    pair.check("ACL", "LIST")


def test_users_whoami_deluser(pair):
    _setuser(pair, "zed", "on")
    _setuser(pair, "alice")
    _setuser(pair, "Bob")
    pair.check("ACL", "USERS")
    pair.check("ACL", "WHOAMI")
    pair.check("ACL", "DELUSER", "default")
    pair.check("ACL", "DELUSER", "alice", "default")
    pair.check("ACL", "USERS")
    pair.check("ACL", "DELUSER", "nosuch", "alice", "alice", "Bob")
    pair.check("ACL", "USERS")
    pair.check("ACL", "DELUSER")
    pair.check("ACL", "LIST", "x")
    pair.check("ACL", "WHOAMI", "x")
    pair.check("ACL", "USERS", "x")
    pair.check("ACL")
    pair.check("ACL", "NOSUCH")
    pair.check("ACL", "HELP")
    pair.check("ACL", "help")


def test_cat(pair):
    pair.check("ACL", "CAT")
    pair.check("ACL", "CAT", "nosuch")
    pair.check("ACL", "CAT", "a", "b")
    for cat in pair.redis.parsed("ACL", "CAT"):
        pair.check_parsed("ACL", "CAT", cat, unordered=True)
    pair.check_parsed("ACL", "CAT", "HASH", unordered=True)


def test_genpass(pair):
    for bits in (None, "1", "4", "5", "8", "255", "4096"):
        args = ("ACL", "GENPASS") if bits is None else ("ACL", "GENPASS", bits)
        a, b = pair.redis.parsed(*args), pair.durakv.parsed(*args)
        assert len(b) == len(a)
        assert all(ch in b"0123456789abcdef" for ch in b)
    assert pair.durakv.parsed("ACL", "GENPASS") != pair.durakv.parsed("ACL", "GENPASS")
    for bad in ("0", "-1", "4097", "abc", "1.5"):
        pair.check("ACL", "GENPASS", bad)
    pair.check("ACL", "GENPASS", "1", "2")


def test_dryrun(pair):
    _setuser(pair, "u2", "on", ">p1", "~a*", "%R~b*", "&c*", "+get", "-set", "+@hash", "+publish",
             "(~x +get)", "(%W~y &z +set)")
    _setuser(pair, "u3", "reset")
    for args in (
        ("get", "a1"), ("get", "zz"), ("set", "a1", "v"), ("set", "y", "v"), ("lpush", "a1", "v"),
        ("publish", "zz", "v"), ("publish", "c1", "v"), ("config", "get", "x"), ("config", "nosuch"),
        ("config",), ("GET", "zz"), ("hset", "b1", "f", "v"), ("hget", "b1", "f"), ("get",), ("get", "a", "b"),
        ("nosuchcmd", "x"), ("hmget", "a1", "f"), ("hmget", "b1", "f"),
    ):
        pair.check("ACL", "DRYRUN", "u2", *args)
    pair.check("ACL", "DRYRUN", "u3", "auth", "a", "b")
    pair.check("ACL", "DRYRUN", "u3", "get", "a")
    pair.check("ACL", "DRYRUN", "nosuch", "get", "x")
    pair.check("ACL", "DRYRUN", "default", "get", "x")
    pair.check("ACL", "LOG")  # DRYRUN logs nothing


# --------------------------------------------------------------------------- checks


def test_command_key_channel_permissions(pair):
    _setuser(pair, "alice", "on", ">pw", "~k*", "&ch*", "+get", "+set", "+publish", "+subscribe",
             "+psubscribe", "+config|get", "+select|0", "+mget", "+acl|whoami")
    a, b = _as_user(pair, "alice", "pw")
    for args in (
        ("GET", "k1"), ("GET", "x"), ("MGET", "k1", "k2"), ("MGET", "k1", "x", "k2"), ("LPUSH", "k1", "a"),
        ("PUBLISH", "ch1", "x"), ("PUBLISH", "zz", "x"), ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "maxmemory", "0"), ("SELECT", "0"), ("SELECT", "1"), ("select", "0"),
        ("ACL", "WHOAMI"), ("ACL", "LIST"), ("AUTH", "alice", "pw"), ("PING",),
    ):
        _same(a, b, *args)
    _same(a, b, "PSUBSCRIBE", "c*")
    _same(a, b, "SUBSCRIBE", "zz")
    _same(a, b, "SUBSCRIBE", "ch1", "zz")
    _same(a, b, "PSUBSCRIBE", "ch*")
    _same(a, b, "SUBSCRIBE", "ch2")


def test_read_write_key_permissions(pair):
    _setuser(pair, "rw", "on", "nopass", "%R~r*", "%W~w*", "~b*", "+@all")
    a, b = _as_user(pair, "rw", "x")
    for args in (
        ("SET", "w1", "v"), ("SET", "r1", "v"), ("SET", "b1", "v"), ("GET", "r1"), ("GET", "w1"),
        ("SET", "w1", "v", "GET"), ("SET", "b1", "v", "GET"), ("APPEND", "w1", "x"), ("DEL", "w1"),
        ("DEL", "r1"), ("COPY", "r1", "w2"), ("COPY", "w1", "w2"), ("LMOVE", "r1", "w1", "LEFT", "LEFT"),
        ("SORT", "b1", "BY", "nosort"), ("SORT", "b1", "BY", "x*"), ("SORT", "b1", "GET", "#"),
        ("EXISTS", "r1"), ("EXISTS", "w1"), ("TYPE", "w1"), ("OBJECT", "ENCODING", "w1"),
        ("BITFIELD", "w1", "GET", "u8", "0"), ("BITFIELD", "r1", "GET", "u8", "0"),
        ("BITFIELD", "w1", "SET", "u8", "0", "1"), ("ZUNIONSTORE", "w9", "2", "r1", "b1"),
        ("ZUNIONSTORE", "w9", "2", "r1", "w1"), ("EVAL", "return 1", "1", "w1"), ("EVAL", "return 1", "1", "b1"),
        ("KEYS", "*"), ("RENAME", "b1", "b2"), ("RENAME", "r1", "b2"),
    ):
        _same(a, b, *args)


def test_sort_by_needs_full_key_access(pair):
    _setuser(pair, "s", "on", "nopass", "%R~*", "+@all")
    _setuser(pair, "s2", "on", "nopass", "~l*", "+@all")
    _setuser(pair, "s3", "on", "nopass", "~l*", "+@all", "(~* -@all +sort)")
    for user in ("s", "s2", "s3"):
        a, b = _as_user(pair, user, "x")
        _same(a, b, "RPUSH", "l1", "3", "1", "2")
        _same(a, b, "SORT", "l1", "BY", "w*")
        _same(a, b, "SORT", "l1", "GET", "#")
        _same(a, b, "SORT", "l1", "BY", "nosort")


def test_selectors_pick_the_relevant_error(pair):
    _setuser(pair, "sel", "on", "nopass", "~a*", "+get", "(~b* +set)", "(&c* +publish ~x)")
    a, b = _as_user(pair, "sel", "x")
    for args in (
        ("GET", "a1"), ("GET", "b1"), ("SET", "b1", "v"), ("SET", "a1", "v"), ("PUBLISH", "c1", "m"),
        ("PUBLISH", "d1", "m"), ("LPUSH", "a1", "v"), ("MGET", "a1"),
    ):
        _same(a, b, *args)
    _log_equal(pair)


def _log_fields(raw: Raw) -> list[dict]:
    out = []
    for e in raw.parsed("ACL", "LOG"):
        d = dict(e) if isinstance(e, dict) else dict(zip(e[::2], e[1::2], strict=True))
        ci = d.pop(b"client-info")
        d.pop(b"age-seconds")
        d[b"ci"] = {kv.split(b"=", 1)[0]: kv.split(b"=", 1)[1] for kv in ci.split(b" ") if b"=" in kv}
        for k in (b"id", b"addr", b"laddr", b"fd", b"age", b"idle", b"qbuf", b"qbuf-free", b"argv-mem",
                  b"multi-mem", b"rbs", b"rbp", b"obl", b"oll", b"omem", b"tot-mem", b"events"):
            d[b"ci"].pop(k, None)
        out.append(d)
    return out


def _log_equal(pair) -> list[dict]:
    a, b = _log_fields(pair.redis), _log_fields(pair.durakv)
    assert b == a
    return a


def test_acl_log(pair):
    _setuser(pair, "alice", "on", ">pw", "~k*", "&ch*", "+get", "+publish", "+multi", "+exec", "+eval")
    a, b = _as_user(pair, "alice", "pw")
    _same(a, b, "GET", "x")
    _same(a, b, "GET", "x")
    _same(a, b, "LPUSH", "k1", "a")
    _same(a, b, "PUBLISH", "zz", "m")
    _same(a, b, "EVAL", "return redis.call('get','x')", "0")
    _same(a, b, "EVAL", "return redis.call('lpush','k','x')", "0")
    _same(a, b, "EVAL", "return redis.call('publish','zz','x')", "0")
    _same(a, b, "MULTI")
    _same(a, b, "GET", "y")
    _same(a, b, "EXEC")
    pair.check("AUTH", "alice", "wrong")
    pair.check("Auth", "nouser", "x")
    pair.check("HELLO", "3", "AUTH", "alice", "bad")
    log = _log_equal(pair)
    assert len(log) == 10 and log[-1][b"count"] == 2
    assert log[0][b"reason"] == b"auth" and log[0][b"object"] == b"HELLO"
    assert len(pair.durakv.parsed("ACL", "LOG", "2")) == len(pair.redis.parsed("ACL", "LOG", "2")) == 2
    pair.check("ACL", "LOG", "0")
    pair.check("ACL", "LOG", "-1")
    pair.check("ACL", "LOG", "abc")
    pair.check("ACL", "LOG", "1", "2")
    e = pair.durakv.parsed("ACL", "LOG", "1")[0]
    age = e[b"age-seconds"] if isinstance(e, dict) else e[e.index(b"age-seconds") + 1]
    assert 0 <= float(age) < 60
    pair.check("ACL", "LOG", "reset")
    pair.check("ACL", "LOG")


def test_acl_log_max_len(pair):
    pair.check("CONFIG", "SET", "acllog-max-len", "2")
    for u in ("u1", "u2", "u3"):
        pair.check("AUTH", u, "x")
    log = _log_equal(pair)
    assert [e[b"username"] for e in log] == [b"u3", b"u2"]


def test_auth_and_users(pair):
    pair.check("AUTH", "x")
    pair.check("AUTH", "default", "anything")
    _setuser(pair, "bob", "on", ">pw", "+@all", "~*")
    _setuser(pair, "off", "off", "nopass", "+@all")
    _setuser(pair, "nopw", "on", "+@all")
    a, b = Raw(pair.redis.port, pair.proto), Raw(pair.durakv.port, pair.proto)
    for args in (
        ("AUTH", "bob", "bad"), ("AUTH", "off", "x"), ("AUTH", "nopw", ""), ("AUTH", "nosuch", "x"),
        ("AUTH", "a", "b", "c"), ("ACL", "WHOAMI"), ("AUTH", "bob", "pw"), ("ACL", "WHOAMI"), ("AUTH", "pw"),
        ("ACL", "WHOAMI"), ("RESET",), ("ACL", "WHOAMI"),
    ):
        _same(a, b, *args)
    x = a.call("HELLO", "3", "AUTH", "bob", "pw")
    y = b.call("HELLO", "3", "AUTH", "bob", "pw")
    assert x[:1] == y[:1] == b"%"
    _same(a, b, "ACL", "WHOAMI")
    _same(a, b, "CLIENT", "KILL", "USER", "nosuch")
    assert b"user=bob" in b.parsed("CLIENT", "INFO")


def test_requirepass_is_the_default_users_password(pair):
    pair.check("CONFIG", "SET", "requirepass", "foo")
    pair.check("ACL", "LIST")
    pair.check("ACL", "GETUSER", "default")
    pair.check("CONFIG", "GET", "requirepass")
    a, b = Raw(pair.redis.port), Raw(pair.durakv.port)
    _same(a, b, "GET", "x")
    _same(a, b, "ACL", "WHOAMI")
    _same(a, b, "AUTH", "bar")
    _same(a, b, "AUTH", "foo")
    _same(a, b, "ACL", "SETUSER", "default", "resetpass", ">bar")
    _same(a, b, "CONFIG", "GET", "requirepass")
    c, d = Raw(pair.redis.port), Raw(pair.durakv.port)
    _same(c, d, "AUTH", "foo")
    _same(c, d, "AUTH", "default", "bar")
    _same(a, b, "CONFIG", "SET", "requirepass", "")
    _same(a, b, "ACL", "LIST")
    e, f = Raw(pair.redis.port), Raw(pair.durakv.port)
    _same(e, f, "GET", "x")
    _same(e, f, "AUTH", "x")


def test_default_user_with_password_needs_auth(pair):
    h = hashlib.sha256(b"pw").hexdigest()
    pair.check("ACL", "SETUSER", "default", "#" + h)
    a, b = Raw(pair.redis.port, pair.proto), Raw(pair.durakv.port, pair.proto)
    _same(a, b, "GET", "x")
    _same(a, b, "HELLO", "3")
    _same(a, b, "AUTH", "pw")
    _same(a, b, "GET", "x")
    pair.check("ACL", "SETUSER", "default", "nopass")
    c, d = Raw(pair.redis.port), Raw(pair.durakv.port)
    _same(c, d, "GET", "x")


def test_restricted_default_user(pair):
    a, b = Raw(pair.redis.port), Raw(pair.durakv.port)
    try:
        pair.check("ACL", "SETUSER", "default", "-@all", "+get", "+acl", "resetkeys", "~k*")
        _same(a, b, "GET", "x")
        _same(a, b, "GET", "k1")
        _same(a, b, "SET", "k1", "v")
        c, d = Raw(pair.redis.port), Raw(pair.durakv.port)
        _same(c, d, "SET", "k1", "v")
        _same(c, d, "GET", "k1")
    finally:
        pair.check("ACL", "SETUSER", "default", "+@all", "~*")
    _same(a, b, "SET", "k1", "v")


def test_deluser_disconnects_and_off_does_not(pair):
    _setuser(pair, "bob", "on", ">pw", "~*", "&*", "+@all")
    a, b = _as_user(pair, "bob", "pw")
    c, d = _as_user(pair, "bob", "pw", proto=3)
    pair.check("ACL", "SETUSER", "bob", "off")
    _same(a, b, "GET", "x")
    _same(a, b, "ACL", "WHOAMI")
    pair.check("ACL", "SETUSER", "bob", "reset")
    _same(a, b, "GET", "x")
    pair.check("ACL", "DELUSER", "bob")
    for conn in (a, b, c, d):
        assert conn.read_until_closed() == b""
    pair.check("CLIENT", "KILL", "USER", "bob")


def test_deluser_self_replies_then_closes(pair):
    _setuser(pair, "me", "on", "nopass", "+@all")
    a, b = _as_user(pair, "me", "x")
    assert _same(a, b, "ACL", "DELUSER", "me") == b":1\r\n"
    assert a.read_until_closed() == b.read_until_closed() == b""


def test_channel_permission_change_kills_subscribers(pair):
    _setuser(pair, "sub", "on", "nopass", "+@all", "&news", "&sp*")
    a, b = _as_user(pair, "sub", "x")
    c, d = _as_user(pair, "sub", "x")
    _same(a, b, "SUBSCRIBE", "news")
    _same(c, d, "PSUBSCRIBE", "sp*")
    pair.check("ACL", "SETUSER", "sub", "&more")  # a superset: nobody is disconnected
    _same(a, b, "PING")
    _same(c, d, "PING")
    pair.check("ACL", "SETUSER", "sub", "resetchannels", "&news")
    assert c.read_until_closed() == d.read_until_closed() == b""
    _same(a, b, "PING")
    pair.check("ACL", "SETUSER", "sub", "resetchannels")
    assert a.read_until_closed() == b.read_until_closed() == b""


def test_losing_allchannels_kills_subscribers(pair):
    _setuser(pair, "pk", "on", "nopass", "+@all", "&*")
    a, b = _as_user(pair, "pk", "x")
    c, d = _as_user(pair, "pk", "x")
    _same(a, b, "SUBSCRIBE", "foo")
    _same(c, d, "SUBSCRIBE", "bar")
    pair.check("ACL", "SETUSER", "pk", "resetchannels", "&bar")
    assert a.read_until_closed() == b.read_until_closed() == b""
    _same(c, d, "PING")


def test_multi_exec_and_acl(pair):
    _setuser(pair, "m", "on", "nopass", "~*", "+multi", "+exec", "+get", "+set", "+discard")
    a, b = _as_user(pair, "m", "x")
    _same(a, b, "MULTI")
    _same(a, b, "LPUSH", "k", "v")
    _same(a, b, "EXEC")
    _same(a, b, "MULTI")
    _same(a, b, "SET", "k", "v")
    _same(a, b, "GET", "k")
    pair.check("ACL", "SETUSER", "m", "-set")
    _same(a, b, "EXEC")
    pair.check("ACL", "SETUSER", "m", "+set", "resetkeys", "~a*")
    _same(a, b, "MULTI")
    _same(a, b, "GET", "a1")
    pair.check("ACL", "SETUSER", "m", "resetkeys", "~b*")
    _same(a, b, "EXEC")
    _log_equal(pair)


def test_scripts_and_acl(pair):
    _setuser(pair, "lua", "on", "nopass", "~k*", "&c*", "+eval", "+get", "+publish", "+fcall")
    a, b = _as_user(pair, "lua", "x")
    _same(a, b, "EVAL", "return redis.call('get','x')", "0")
    _same(a, b, "EVAL", "return redis.call('get','k1')", "0")
    _same(a, b, "EVAL", "return redis.call('lpush','k','x')", "0")
    _same(a, b, "EVAL", "return redis.call('publish','zz','x')", "0")
    _same(a, b, "EVAL", "return redis.pcall('lpush','k','x')", "0")
    _same(a, b, "EVAL", "return redis.acl_check_cmd('get','k1')", "0")
    _same(a, b, "EVAL", "return redis.acl_check_cmd('lpush','k1','x')", "0")
    _same(a, b, "EVAL", "return redis.acl_check_cmd('get','x')", "0")
    assert len(_log_equal(pair)) == 3  # acl_check_cmd logs nothing


def test_errorstats_and_rejected_calls(pair):
    pair.check("CONFIG", "RESETSTAT")
    _setuser(pair, "e", "on", "nopass", "+get", "+info")
    a, b = _as_user(pair, "e", "x")
    _same(a, b, "GET", "x")
    _same(a, b, "SET", "x", "y")
    _same(a, b, "SET", "x", "y")
    for conn in (pair.redis, pair.durakv):
        info = conn.parsed("INFO", "errorstats") + conn.parsed("INFO", "commandstats")
        assert b"errorstat_NOPERM:count=3" in info
        assert b"cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=2,failed_calls=0" in info


def test_client_list_shows_user_and_kill_user(pair):
    _setuser(pair, "k", "on", "nopass", "+@all")
    a, b = _as_user(pair, "k", "x")
    assert b"user=k" in a.parsed("CLIENT", "INFO")
    assert b"user=k" in b.parsed("CLIENT", "INFO")
    pair.check("CLIENT", "KILL", "USER", "k")
    assert a.read_until_closed() == b.read_until_closed() == b""


def test_acl_file_load_save_without_aclfile(pair):
    pair.check("ACL", "LOAD")
    pair.check("ACL", "SAVE")


def _on_both(tmp_path, run):
    """``run(start, d)`` against a redis-server, then a durakv node, each started by
    ``start(*args)`` in its own directory ``d``; returns the two results."""
    from tests.support.procs import start_durakv, start_redis

    procs = []
    try:
        out = []
        for start in (start_redis, start_durakv):
            d = tmp_path / start.__name__
            d.mkdir()

            def started(*args, start=start, d=d):
                p = start(*args, workdir=str(d))
                procs.append(p)
                return p

            out.append(run(started, d))
        return out
    finally:
        for p in procs:
            p.stop()


def test_acl_file_load_and_save(tmp_path):
    def run(start, d):
        path = d / "users.acl"
        path.write_text("user default on nopass ~* &* +@all\nuser alice on >pw ~k* &c +get\n\n")
        p = start("--aclfile", str(path))
        r = Raw(p.port)
        replies = [r.call("ACL", "LIST")]
        a = Raw(p.port)
        replies.append(a.call("AUTH", "alice", "pw"))
        replies.append(r.call("ACL", "SETUSER", "bob", "on", "+@all", "(~x +get)"))
        replies.append(r.call("ACL", "SAVE"))
        replies.append(path.read_bytes())
        path.write_text("user alice on nopass +set\nuser default on nopass ~* &* +@all -flushall\n")
        replies.append(r.call("ACL", "LOAD"))
        replies.append(r.call("ACL", "LIST"))
        replies.append(a.read_until_closed())
        path.write_text("user alice on +nosuch\nfoo bar\n")
        replies.append(r.call("ACL", "LOAD").replace(os.fsencode(str(path)), b"PATH"))
        replies.append(r.call("ACL", "LIST"))
        return replies

    out = _on_both(tmp_path, run)
    assert out[1] == out[0]


def test_checks_switch_on_only_when_needed():
    """``ctx.acl`` stays None (the dispatcher's fast path) while only an unrestricted
    ``default`` user exists, whatever its password."""
    from durakv import dispatch
    from durakv.config import Config
    from durakv.node import Node
    from durakv.session import Session

    node = Node(Config())
    ctx = node.ctx
    c = Session(ctx, 1, ctx.ks.dbs[0])
    ctx.clients[1] = c

    def run(*args: str) -> bytes:
        return dispatch.execute(c, [a.encode() for a in args])

    assert ctx.acl is None and ctx.gated is False
    assert run("CONFIG", "SET", "requirepass", "foo") == b"+OK\r\n"
    assert ctx.acl is None
    assert run("ACL", "SETUSER", "default", "resetpass", ">bar") == b"+OK\r\n"
    assert ctx.acl is None
    assert run("ACL", "SETUSER", "alice", "on") == b"+OK\r\n"
    assert ctx.acl is not None and ctx.gated is True
    assert c.user is not None and c.user.name == b"default"  # existing sessions get the default user
    assert run("ACL", "DELUSER", "alice") == b":1\r\n"
    assert ctx.acl is None and ctx.gated is False
    assert run("ACL", "SETUSER", "default", "-flushall") == b"+OK\r\n"
    assert ctx.acl is not None
    assert run("FLUSHALL").startswith(b"-NOPERM")
    assert run("ACL", "SETUSER", "default", "+flushall") == b"+OK\r\n"
    assert ctx.acl is None
    assert run("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
    assert ctx.acl is None
    assert run("ACL", "SETUSER", "default", ">x") == b"+OK\r\n"  # password without requirepass
    assert ctx.acl is not None
    assert run("ACL", "SETUSER", "default", "nopass") == b"+OK\r\n"
    assert ctx.acl is None
    assert run("ACL", "SETUSER", "default", "off") == b"+OK\r\n"
    assert ctx.acl is not None


# commands over keys with different read/write flags (the key specs' access/insert/update/delete)
KEY_FLAG_COMMANDS = [
 ("XADD","w1","1-1","f","v"),("XADD","r1","1-1","f","v"),("XREAD","STREAMS","r1","0"),("XREAD","STREAMS","w1","0"),
 ("XREAD","COUNT","1","STREAMS","r1","b1","0","0"),("XGROUP","CREATE","w1","g","0"),("XGROUP","CREATE","b1","g","0","MKSTREAM"),
 ("XREADGROUP","GROUP","g","c","STREAMS","b1",">"),("XREADGROUP","GROUP","g","c","STREAMS","r1",">"),
 ("GEOADD","w2","0","0","m"),("GEOADD","b2","0","0","m"),("GEORADIUS","b2","0","0","1","km","STORE","w3"),
 ("GEORADIUS","b2","0","0","1","km","STORE","r3"),("GEORADIUS_RO","r2","0","0","1","km"),("GEOSEARCHSTORE","w4","b2","FROMLONLAT","0","0","BYRADIUS","1","km"),
 ("LMPOP","2","r1","w1","LEFT"),("LMPOP","1","b5","LEFT"),("SINTERCARD","2","r1","b1"),("ZINTERCARD","1","w1"),
 ("GETEX","r1"),("GETEX","w1"),("GETDEL","w1"),("GETDEL","b1"),("PFCOUNT","r1"),("PFCOUNT","w1"),("PFMERGE","w5","r1"),("PFMERGE","b5","w1"),
 ("SMOVE","b1","w1","m"),("SMOVE","r1","b1","m"),("RPOPLPUSH","b1","w1"),("MSET","w1","v","b1","v"),("MSET","w1","v","r1","v"),("MSETNX","b1","v","w1","v"),
 ("EXPIRE","w1","10"),("EXPIRE","r1","10"),("TOUCH","r1"),("TOUCH","w1"),("UNLINK","w1"),("DUMP","r1"),("DUMP","w1"),
 ("SORT_RO","r1"),("SORT","b1","STORE","w1"),("SORT","b1","STORE","r1"),("FCALL","f","1","r1"),("ZADD","w1","1","a"),("ZRANGESTORE","w1","b1","0","1"),
 ("ZRANGESTORE","r1","b1","0","1"),("LPOS","r1","a"),("BITOP","AND","w1","r1"),("BITOP","AND","r1","w1"),("SETRANGE","w1","0","a"),("STRLEN","w1"),
 ("HSET","w1","f","v"),("HGET","w1","f"),("HINCRBY","b1","f","1"),("SADD","w1","a"),("SISMEMBER","w1","a"),("INCR","w1"),("PERSIST","w1"),("PERSIST","r1"),
 ("OBJECT","FREQ","r1"),("MEMORY","USAGE","r1"),("LCS","r1","b1"),("LCS","r1","w1"),("XDEL","w1","0-1"),("XTRIM","r1","MAXLEN","1"),
 ("XAUTOCLAIM","b1","g","c","0","0"),("XCLAIM","r1","g","c","0","0-1"),("XINFO","STREAM","r1"),("XINFO","STREAM","w1"),("XPENDING","r1","g"),("XSETID","w1","0-1"),
 ("WATCH","r1"),("WATCH","w1"),("EVAL_RO","return 1","1","r1"),("EVAL_RO","return 1","1","w1"),("SUNIONSTORE","w1","r1","b1"),("SUNIONSTORE","w1","r1","w2"),
 ("RESTORE","w9","0","x"),("COPY","b1","b2","DB","1"),("MOVE","b1","1"),("MOVE","r1","1"),("RENAMENX","w1","w2"),("SPUBLISH","c","m"),
 ("BITFIELD_RO","r1","GET","u8","0"),("BITFIELD_RO","w1","GET","u8","0"),("BITCOUNT","w1"),("SETBIT","w1","1","1"),("GETBIT","w1","1"),
 ("LSET","r1","0","x"),("LINSERT","w1","BEFORE","a","b"),("HRANDFIELD","w1"),("SRANDMEMBER","w1"),("SPOP","r1"),("SPOP","w1"),
 ("ZPOPMIN","w1"),("ZMPOP","1","w1","MIN"),("ZMPOP","1","r1","MIN"),("ZDIFFSTORE","w1","1","r1"),("ZUNION","2","r1","w1"),("ZUNION","1","r1"),
 ("GEODIST","r1","a","b"),("GEOHASH","w1","a"),("GEOPOS","w1"),("EXPIRETIME","w1"),("PTTL","w1"),("TTL","r1"),("TYPE","r1"),
]


def test_key_flags_of_many_commands(pair):
    _setuser(pair, "rw", "on", "nopass", "%R~r*", "%W~w*", "~b*", "+@all", "&*")
    a, b = _as_user(pair, "rw", "x")
    for cmd in KEY_FLAG_COMMANDS:
        _same(a, b, *cmd)
    _log_equal(pair)


def test_shard_channels(pair):
    _setuser(pair, "sh", "on", "nopass", "+@all", "&s*")
    a, b = _as_user(pair, "sh", "x")
    _same(a, b, "SPUBLISH", "s1", "m")
    _same(a, b, "SPUBLISH", "x1", "m")
    _same(a, b, "SSUBSCRIBE", "x1")
    _same(a, b, "SSUBSCRIBE", "s1", "s2")
    pair.check("ACL", "SETUSER", "sh", "resetchannels", "&s1")
    assert a.read_until_closed() == b.read_until_closed() == b""
    _log_equal(pair)


def test_denied_keys_command_in_exec_and_scripts(pair):
    _setuser(pair, "kk", "on", "nopass", "+@all", "~*")
    a, b = _as_user(pair, "kk", "x")
    _same(a, b, "MULTI")
    _same(a, b, "KEYS", "*")
    pair.check("ACL", "SETUSER", "kk", "-keys")
    _same(a, b, "EXEC")
    _same(a, b, "EVAL", "return redis.call('keys','*')", "0")


def test_setuser_arguments_are_redacted_in_slowlog(pair):
    pair.check("CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        pair.check("ACL", "SETUSER", "zz", "on", ">secret")
        a = pair.redis.parsed("SLOWLOG", "GET", "1")[0][3]
        b = pair.durakv.parsed("SLOWLOG", "GET", "1")[0][3]
        assert b == a
    finally:
        pair.check("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        pair.check("SLOWLOG", "RESET")


def test_user_directives_at_start(tmp_path):
    def run(start, d):
        p = start("--user", "alice", "on", ">pw", "~k*", "+get", "(~x +set)", "--user", "default", "on", "nopass",
                  "~*", "&*", "+@all", "-flushall", "--user", "bob")
        r = Raw(p.port)
        return [r.call("ACL", "LIST"), r.call("AUTH", "alice", "pw"), r.call("GET", "x"),
                r.call("GET", "k1"), Raw(p.port).call("FLUSHALL")]

    out = _on_both(tmp_path, run)
    assert out[1] == out[0]


def test_default_user_off(pair):
    _setuser(pair, "alice", "on", ">pw", "+@all", "~*")
    try:
        pair.check("ACL", "SETUSER", "default", "off")
        pair.check("GET", "x")  # connections already open keep working
        a, b = Raw(pair.redis.port, pair.proto), Raw(pair.durakv.port, pair.proto)
        for args in (("GET", "x"), ("AUTH", "x"), ("AUTH", "default", "x"), ("HELLO", "2"), ("ACL", "WHOAMI"),
                     ("AUTH", "alice", "pw"), ("ACL", "WHOAMI"), ("RESET",), ("GET", "x")):
            _same(a, b, *args)
    finally:
        pair.check("ACL", "SETUSER", "default", "on")


def test_config_rewrite_writes_users(tmp_path):
    """CONFIG REWRITE replaces the file's user lines with the current users, in place and
    then appended, as Redis does."""
    from tests.support.procs import Proc, durakv_cmd, free_port

    procs = []
    try:
        out = []
        for name in ("redis", "durakv"):
            d = tmp_path / name
            d.mkdir()
            conf = d / "node.conf"
            conf.write_text("user alice on >pw ~k* +get\n# keep me\nmaxmemory-samples 7\n")
            port = free_port()
            exe = ["redis-server"] if name == "redis" else durakv_cmd()
            procs.append(Proc(exe + [str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
                                     "--save", ""], port, str(d)))
            r = Raw(port)
            assert r.call("ACL", "SETUSER", "bob", "on", "nopass", "~*", "+@read") == b"+OK\r\n"
            assert r.call("CONFIG", "REWRITE") == b"+OK\r\n"
            lines = conf.read_text().splitlines()
            out.append(([ln for ln in lines if ln.startswith("user ")], lines[:3]))
        assert out[1] == out[0]
        assert out[0][0][0].startswith("user alice on #")
    finally:
        for p in procs:
            p.stop()
