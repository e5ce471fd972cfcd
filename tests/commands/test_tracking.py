"""CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO and invalidation messages, both servers."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.support.raw import Raw, encode


def _both(pair, fn: Callable[[int], list[bytes]]) -> list[bytes]:
    a = fn(pair.redis.port)
    b = fn(pair.durakv.port)
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert y == x, f"step {i}: durakv {y!r} != redis {x!r}"
    return a


def _client_id(conn: Raw) -> int:
    """The connection's id, from HELLO (same protocol as the connection)."""
    reply = conn.parsed("HELLO", str(conn.proto))
    if isinstance(reply, dict):
        return reply[b"id"]
    return reply[reply.index(b"id") + 1]


def _ids_out(data: bytes, *ids: int) -> bytes:
    for i, cid in enumerate(ids):
        data = data.replace(b":%d\r\n" % cid, b":ID%d\r\n" % i)
    return data


def test_errors(pair):
    pair.check("CLIENT", "TRACKING", "on", "PREFIX", "a")
    pair.check("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "OPTIN")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab")
    pair.check("CLIENT", "TRACKING", "on", "REDIRECT", "999999")
    pair.check("CLIENT", "TRACKING", "on", "REDIRECT", "abc")
    pair.check("CLIENT", "TRACKING", "on", "foo")
    pair.check("CLIENT", "TRACKING", "on", "REDIRECT")
    pair.check("CLIENT", "TRACKING", "maybe")
    pair.check("CLIENT", "TRACKING")
    pair.check("CLIENT", "CACHING", "yes")
    pair.check("CLIENT", "CACHING", "yes", "no")
    pair.check("CLIENT", "GETREDIR")
    pair.check("CLIENT", "GETREDIR", "x")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "TRACKING", "off")
    pair.check("CLIENT", "TRACKINGINFO")


def test_modes_and_info(pair):
    pair.check("CLIENT", "TRACKING", "on", "OPTIN")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "CACHING", "no")
    pair.check("CLIENT", "CACHING", "maybe")
    pair.check("CLIENT", "CACHING", "yes")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "TRACKING", "on", "OPTOUT")
    pair.check("CLIENT", "TRACKING", "on", "BCAST")
    pair.check("CLIENT", "GETREDIR")
    pair.check("CLIENT", "TRACKING", "off")
    pair.check("CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP")
    pair.check("CLIENT", "CACHING", "yes")
    pair.check("CLIENT", "CACHING", "no")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "TRACKING", "off")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c")
    pair.check("CLIENT", "TRACKINGINFO")
    pair.check("CLIENT", "TRACKING", "on")
    pair.check("CLIENT", "TRACKING", "off")
    pair.check("CLIENT", "TRACKING", "on", "BCAST")
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x")
    pair.check("CLIENT", "TRACKING", "off")
    # Redis 7.0 replies an error for an overlap among later prefixes and still enables tracking
    pair.check("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc")
    pair.check("CLIENT", "TRACKINGINFO")


def test_default_mode_resp3(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        s, w = Raw(port, 3), Raw(port, 3)
        out = [s.call("CLIENT", "TRACKING", "on"), s.call("GET", "k"), s.call("MGET", "a", "b")]
        out.append(w.call("SET", "k", "1"))
        out.append(s.read_raw(1))  # invalidate k
        out.append(w.call("SET", "k", "2"))  # not read again: no message
        out.append(w.call("MSET", "a", "1", "b", "2"))
        out.append(s.read_raw(2))
        out.append(s.call("GET", "k"))
        # own write: invalidation comes after the reply
        s.send(encode("SET", "k", "3"))
        out.append(s.read_raw(2))
        out.append(s.call("GET", "k"))
        s.send(encode("DEL", "k"))
        out.append(s.read_raw(2))
        out.append(s.call("GET", "k"))
        out.append(w.call("FLUSHALL"))
        out.append(s.read_raw(1))  # null invalidation
        s.send(encode("FLUSHALL"))
        out.append(s.read_raw(2))
        out.append(s.call("CLIENT", "TRACKING", "off"))
        out.append(s.call("GET", "z"))
        out.append(w.call("SET", "z", "1"))
        out.append(s.call("PING"))
        s.close()
        w.close()
        return out

    _both(pair, scenario)


def test_noloop_and_optin_optout(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        s, w = Raw(port, 3), Raw(port, 3)
        out = [s.call("CLIENT", "TRACKING", "on", "NOLOOP"), s.call("GET", "k"), s.call("SET", "k", "v")]
        out.append(s.call("PING"))  # no invalidation for its own write
        out.append(s.call("CLIENT", "TRACKING", "off"))
        out.append(s.call("CLIENT", "TRACKING", "on", "OPTIN"))
        out.append(s.call("GET", "a"))  # not cached
        out.append(s.call("CLIENT", "CACHING", "yes"))
        out.append(s.call("GET", "b"))  # cached
        out.append(s.call("GET", "c"))  # the flag lasted one command
        out.append(w.call("MSET", "a", "1", "b", "2", "c", "3"))
        out.append(s.read_raw(1))
        out.append(s.call("CLIENT", "TRACKING", "off"))
        out.append(s.call("CLIENT", "TRACKING", "on", "OPTOUT"))
        out.append(s.call("CLIENT", "CACHING", "no"))
        out.append(s.call("GET", "a"))  # not cached
        out.append(s.call("GET", "b"))  # cached
        out.append(w.call("MSET", "a", "1", "b", "2"))
        out.append(s.read_raw(1))
        s.close()
        w.close()
        return out

    _both(pair, scenario)


def test_bcast(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        s, w = Raw(port, 3), Raw(port, 3)
        out = [s.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a")]
        out.append(w.call("MSET", "b2", "1", "a1", "2", "a0", "x", "c", "3", "b1", "1"))
        out.append(s.read_raw(2))  # one sorted message per prefix
        s.send(encode("SET", "a5", "1"))
        out.append(s.read_raw(2))  # own write, reply first
        out.append(s.call("CLIENT", "TRACKING", "off"))
        out.append(s.call("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"))
        out.append(s.call("SET", "q", "1"))
        out.append(w.call("SET", "r", "1"))
        out.append(s.read_raw(1))
        s.close()
        w.close()
        return out

    _both(pair, scenario)


def test_redirect_resp2(pair):
    if pair.proto != 2:
        return

    def scenario(port: int) -> list[bytes]:
        t, u = Raw(port, 2), Raw(port, 2)
        tid = _client_id(t)
        t.call("HELLO", "2")
        out = [u.call("CLIENT", "TRACKING", "on", "REDIRECT", str(tid))]
        out.append(_ids_out(u.call("CLIENT", "TRACKINGINFO"), tid))
        out.append(_ids_out(u.call("CLIENT", "GETREDIR"), tid))
        out.append(u.call("GET", "a"))
        out.append(u.call("SET", "a", "1"))  # redirect client not subscribed: nothing sent
        out.append(t.call("PING"))
        out.append(t.call("SUBSCRIBE", "__redis__:invalidate"))
        out.append(u.call("GET", "a"))
        out.append(u.call("SET", "a", "2"))
        out.append(t.read_raw(1))
        out.append(u.call("FLUSHALL"))
        out.append(t.read_raw(1))
        out.append(u.call("CLIENT", "TRACKING", "on", "REDIRECT", str(tid), "REDIRECT", str(tid)))
        t.close()
        out.append(u.call("GET", "a"))
        t2 = Raw(port, 2)
        out.append(t2.call("SET", "a", "3"))
        out.append(_ids_out(u.call("CLIENT", "TRACKINGINFO"), tid))
        u.close()
        t2.close()
        return out

    _both(pair, scenario)


def test_redirect_resp3_target_and_broken(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        w, v = Raw(port, 3), Raw(port, 3)
        wid = _client_id(w)
        out = [v.call("CLIENT", "TRACKING", "on", "REDIRECT", str(wid)), v.call("GET", "a"), v.call("SET", "a", "1")]
        out.append(w.read_raw(1))
        out.append(v.call("GET", "a"))
        w.close()
        x = Raw(port, 3)
        x.call("PING")
        out.append(x.call("SET", "a", "2"))
        out.append(_ids_out(v.read_raw(1), wid))  # tracking-redir-broken
        out.append(_ids_out(v.call("CLIENT", "TRACKINGINFO"), wid))
        v.close()
        x.close()
        return out

    _both(pair, scenario)


def test_redis_py_tracking(r):
    if r.get_connection_kwargs().get("protocol") != 3:
        return
    r.execute_command("CLIENT", "TRACKING", "on")
    r.get("k")
    info = r.execute_command("CLIENT", "TRACKINGINFO")
    flags = info[b"flags"] if b"flags" in info else info["flags"]
    assert b"on" in flags or "on" in flags
    r.execute_command("CLIENT", "TRACKING", "off")


def test_tracking_with_scripts_and_multi(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        s, w = Raw(port, 3), Raw(port, 3)
        out = [s.call("CLIENT", "TRACKING", "on")]
        # reads inside a script remember the script's KEYS (Redis 7.0), EVAL_RO itself nothing
        out.append(s.call("EVAL", "return redis.call('get', KEYS[1])", 1, "sk"))
        out.append(w.call("SET", "sk", "1"))
        out.append(s.read_raw(1))
        out.append(s.call("EVAL_RO", "return 1", 1, "rokey"))
        out.append(s.call("EVAL", "return redis.call('get','zz')", 1, "k2"))
        out.append(w.call("MSET", "rokey", "1", "k2", "1", "zz", "2"))
        out.append(s.read_raw(1))
        out.append(s.call("EVAL", "redis.call('get', 'x1'); redis.call('set', 'x1', 'v'); return 1", 0))
        out.append(s.call("PING"))
        # MULTI: keys of the queued reads; own writes invalidate after EXEC's reply
        out.append(s.call("MULTI"))
        out.append(s.call("GET", "mk"))
        out.append(s.call("EXEC"))
        out.append(w.call("SET", "mk", "1"))
        out.append(s.read_raw(1))
        out.append(s.call("GET", "own"))
        out.append(s.call("MULTI"))
        out.append(s.call("SET", "own", "1"))
        s.send(encode("EXEC"))
        out.append(s.read_raw(2))
        s.close()
        w.close()
        return out

    _both(pair, scenario)


def test_optin_in_multi_bcast_redirect_flush(pair):
    if pair.proto != 3:
        return

    def scenario(port: int) -> list[bytes]:
        s, w, t = Raw(port, 3), Raw(port, 3), Raw(port, 2)
        out = [s.call("CLIENT", "TRACKING", "on", "OPTIN"), s.call("CLIENT", "CACHING", "yes"), s.call("MULTI"),
               s.call("GET", "a"), s.call("GET", "b"), s.call("EXEC"), s.call("GET", "c"),
               w.call("MSET", "a", "1", "b", "2", "c", "3"), s.read_raw(2), s.call("CLIENT", "TRACKING", "off")]
        tid = _client_id(t)
        t.call("HELLO", "2")
        out.append(t.call("SUBSCRIBE", "__redis__:invalidate"))
        out.append(s.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "REDIRECT", str(tid)))
        out.append(w.call("SET", "p:1", "x"))
        out.append(w.call("SET", "q:1", "x"))
        out.append(t.read_raw(1))
        out.append(w.call("FLUSHDB"))
        out.append(t.read_raw(1))  # RESP2 channel message carrying the tracking client's RESP3 null
        out.append(s.call("CLIENT", "TRACKING", "off"))
        out.append(s.call("CLIENT", "TRACKING", "on", "OPTOUT"))
        out.append(s.call("CLIENT", "CACHING", "no"))
        out.append(s.call("GET", "z"))
        out.append(s.call("GET", "zz"))
        out.append(w.call("MSET", "z", "1", "zz", "1"))
        out.append(s.read_raw(1))
        out.append(s.call("SWAPDB", "0", "1"))
        out.append(s.call("PING"))
        for c in (s, w, t):
            c.close()
        return out

    _both(pair, scenario)


def test_tracking_table_max_keys_evicts(pair):
    if pair.proto != 3:
        return
    for conn in (pair.redis, pair.durakv):
        s = Raw(conn.port, 3)
        try:
            assert conn.call("CONFIG", "SET", "tracking-table-max-keys", "1") == b"+OK\r\n"
            assert s.call("CLIENT", "TRACKING", "on") == b"+OK\r\n"
            assert s.call("GET", "a") == b"_\r\n"
            s.send(encode("GET", "b"))
            got = s.read_raw(2)
            assert got in (b"_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n",
                           b"_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n"), got
        finally:
            conn.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
            s.close()


def test_table_forgets_keys_on_flushall_after_tracking_off(pair):
    """Redis empties the tracking table on FLUSHALL, with or without tracking clients."""
    def run(port: int) -> list[bytes]:
        r, other = Raw(port, 3), Raw(port, 3)
        try:
            out = [r.call("CLIENT", "TRACKING", "on"), r.call("GET", "key1"), r.call("CLIENT", "TRACKING", "off"),
                   other.call("FLUSHALL"), r.call("CLIENT", "TRACKING", "on"), other.call("SET", "key1", "1"),
                   r.call("PING"), r.call("GET", "key2")]
            info = other.call("INFO", "stats").decode()
            out += [line.encode() for line in info.split("\r\n") if line.startswith("tracking_total")]
            return out
        finally:
            r.close()
            other.close()
    _both(pair, run)


def test_unblocked_blmove_gets_its_invalidation_after_the_reply(pair):
    def run(port: int) -> list[bytes]:
        r, other = Raw(port, 3), Raw(port, 3)
        try:
            out = [other.call("DEL", "list1{t}", "list2{t}"), r.call("CLIENT", "TRACKING", "on"),
                   r.call("LRANGE", "list2{t}", "0", "-1")]
            r.send(encode("BLMOVE", "list1{t}", "list2{t}", "LEFT", "LEFT", "0"))
            time.sleep(0.1)
            out.append(other.call("RPUSH", "list1{t}", "foo"))
            out.append(r.read_raw(2))
            return out
        finally:
            r.close()
            other.close()
    _both(pair, run)


def test_bcast_noloop_keeps_the_last_writer_of_a_pass(pair):
    """A key the client set (filtered by NOLOOP) and the server then expired in the same
    pass is announced: the last change counts (Redis's "lazy expired keys" tracking test)."""
    def run(port: int) -> list[bytes]:
        red, r = Raw(port, 2), Raw(port, 2)
        try:
            rid = _client_id(red)
            out = [red.call("SUBSCRIBE", "__redis__:invalidate"),
                   r.call("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", str(rid), "NOLOOP")]
            r.send(encode("MULTI") + encode("SET", "mykey{t}", "myval", "PX", "1")
                   + encode("SET", "mykeyotherkey{t}", "myval") + encode("DEBUG", "SLEEP", "0.1")
                   + encode("GET", "mykey{t}") + encode("EXEC"))
            out.append(r.read_raw(6))
            out.append(red.read_raw(1))
            return out
        finally:
            red.close()
            r.close()
    got = _both(pair, lambda port: [_ids_out(x, 0) for x in run(port)])
    assert b"mykey{t}" in got[-1] and b"otherkey" not in got[-1]
