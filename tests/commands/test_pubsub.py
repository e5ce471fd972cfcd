"""Pub/sub commands against redis-server and durakv: exact message bytes, RESP2 and RESP3."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.raw import Raw, encode


def _both(pair, fn: Callable[[int], list[bytes]]) -> list[bytes]:
    """Run a scenario on both servers (fresh connections) and compare every step's bytes."""
    a = fn(pair.redis.port)
    b = fn(pair.durakv.port)
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert y == x, f"step {i}: durakv {y!r} != redis {x!r}"
    return a


def test_unsubscribe_when_not_subscribed(pair):
    pair.check("UNSUBSCRIBE")
    pair.check("PUNSUBSCRIBE")
    pair.check("SUNSUBSCRIBE")
    pair.check("UNSUBSCRIBE", "nope")


def test_subscribe_publish_shapes(pair):
    proto = pair.proto

    def scenario(port: int) -> list[bytes]:
        s, t = Raw(port, proto), Raw(port, proto)
        out = []
        s.send(encode("SUBSCRIBE", "a", "b", "a"))
        out.append(s.read_raw(3))
        s.send(encode("PSUBSCRIBE", "a*", "h?llo"))
        out.append(s.read_raw(2))
        s.send(encode("SSUBSCRIBE", "x", "y"))
        out.append(s.read_raw(2))
        out.append(t.call("PUBLISH", "a", "hi"))
        out.append(s.read_raw(2))  # message + pmessage
        out.append(t.call("PUBLISH", "hello", "w"))
        out.append(s.read_raw(1))
        out.append(t.call("PUBLISH", "nobody", "w"))
        out.append(t.call("SPUBLISH", "x", "shard"))
        out.append(s.read_raw(1))
        out.append(s.call("PING"))
        out.append(s.call("PING", "x"))
        out.append(s.call("GET", "x"))
        out.append(s.call("UNSUBSCRIBE", "zz"))
        out.append(s.call("UNSUBSCRIBE", "a"))
        out.append(s.call("SUNSUBSCRIBE", "x"))
        s.send(encode("PUNSUBSCRIBE", "a*", "h?llo"))
        out.append(s.read_raw(2))
        out.append(s.call("UNSUBSCRIBE"))
        out.append(s.call("SUNSUBSCRIBE"))
        out.append(s.call("GET", "x"))
        s.close()
        t.close()
        return out

    _both(pair, scenario)


def test_message_to_self_and_binary(pair):
    proto = pair.proto

    def scenario(port: int) -> list[bytes]:
        s = Raw(port, proto)
        out = [s.call("SUBSCRIBE", b"ch\x00\xff")]
        if proto == 3:
            s.send(encode("PUBLISH", b"ch\x00\xff", b"\r\nbin\x00"))
            out.append(s.read_raw(2))
        s.close()
        return out

    _both(pair, scenario)


def test_glob_patterns(pair):
    proto = pair.proto
    patterns = ["h?llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "*", "h\\*llo", "h*o", "[]x", "x[\\]]"]
    channels = ["hello", "hallo", "hxllo", "h*llo", "hbllo", "ho", "x]"]

    def scenario(port: int) -> list[bytes]:
        out = []
        for pat in patterns:
            s, t = Raw(port, proto), Raw(port, proto)
            out.append(s.call("PSUBSCRIBE", pat))
            got = [t.call("PUBLISH", ch, "m") for ch in channels]
            out.extend(got)
            n = sum(1 for g in got if g == b":1\r\n")
            if n:
                out.append(s.read_raw(n))
            out.append(t.call("PUBSUB", "CHANNELS", pat))
            s.close()
            t.close()
        return out

    _both(pair, scenario)


def test_pubsub_introspection(pair):
    proto = pair.proto

    def scenario(port: int) -> list[bytes]:
        s, u, t = Raw(port, proto), Raw(port, proto), Raw(port, proto)
        s.send(encode("SUBSCRIBE", "news.a", "news.b"))
        s.read_raw(2)
        u.send(encode("SUBSCRIBE", "news.a"))
        u.read_raw(1)
        u.send(encode("PSUBSCRIBE", "news.*", "x"))
        u.read_raw(2)
        s.send(encode("PSUBSCRIBE", "news.*"))
        s.read_raw(1)
        u.send(encode("SSUBSCRIBE", "sh1"))
        u.read_raw(1)
        out = [
            t.call("PUBSUB", "NUMSUB", "news.a", "news.b", "none"),
            t.call("PUBSUB", "NUMSUB"),
            t.call("PUBSUB", "NUMPAT"),
            t.call("PUBSUB", "CHANNELS", "*.b"),
            t.call("PUBSUB", "CHANNELS", "nomatch"),
            t.call("PUBSUB", "SHARDCHANNELS"),
            t.call("PUBSUB", "SHARDCHANNELS", "sh*"),
            t.call("PUBSUB", "SHARDNUMSUB", "sh1", "sh2"),
            t.call("PUBSUB", "CHANNELS", "a", "b"),
            t.call("PUBSUB", "SHARDCHANNELS", "a", "b"),
            t.call("PUBSUB", "NUMPAT", "x"),
            t.call("PUBSUB", "HELP"),
            t.call("PUBSUB", "help", "x"),
            t.call("PUBSUB", "NOPE"),
            t.call("PUBSUB"),
            t.call("PUBLISH", "news.a", "x"),
        ]
        s.close()
        u.close()
        # subscriptions of a closed connection are gone
        v = Raw(port, proto)
        v.call("PING")
        out.append(t.call("PUBSUB", "NUMSUB", "news.b"))
        out.append(t.call("PUBSUB", "NUMPAT"))
        t.close()
        v.close()
        return out

    res = _both(pair, scenario)
    assert res[0] == b"*6\r\n$6\r\nnews.a\r\n:2\r\n$6\r\nnews.b\r\n:1\r\n$4\r\nnone\r\n:0\r\n"


def test_arity_errors(pair):
    pair.check("SUBSCRIBE")
    pair.check("PSUBSCRIBE")
    pair.check("SSUBSCRIBE")
    pair.check("PUBLISH", "a")
    pair.check("SPUBLISH", "a", "b", "c")


def test_resp2_subscribed_context_allows_reset_quit(pair):
    proto = pair.proto

    def scenario(port: int) -> list[bytes]:
        s = Raw(port, proto)
        out = [s.call("SUBSCRIBE", "c"), s.call("SET", "k", "v"), s.call("PSUBSCRIBE", "p*")]
        out.append(s.call("QUIT"))
        s.close()
        return out

    _both(pair, scenario)


def test_subscribe_in_multi(pair):
    proto = pair.proto

    def scenario(port: int) -> list[bytes]:
        s, t = Raw(port, proto), Raw(port, proto)
        out = [s.call("MULTI"), s.call("SUBSCRIBE", "m"), s.call("EXEC")]
        out.append(t.call("PUBLISH", "m", "x"))
        out.append(s.read_raw(1))
        s.close()
        t.close()
        return out

    _both(pair, scenario)


def test_redis_py_pubsub(r):
    p = r.pubsub()
    p.subscribe("chan")
    assert p.get_message(timeout=1)["type"] == "subscribe"
    assert r.publish("chan", "hello") == 1
    msg = p.get_message(timeout=1)
    assert msg["type"] == "message" and msg["data"] == b"hello"
    p.psubscribe("c*")
    assert p.get_message(timeout=1)["type"] == "psubscribe"
    assert r.publish("cx", "y") == 1
    assert p.get_message(timeout=1)["data"] == b"y"
    assert r.pubsub_numpat() == 1
    p.close()


def test_slow_subscriber_cut_by_pubsub_output_limit(pair):
    if pair.proto != 2:
        return

    def scenario(port: int) -> list[bytes]:
        w = Raw(port)
        out = [w.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 100000 0 0")]
        s = Raw(port)
        out.append(s.call("SUBSCRIBE", "big"))  # then never reads
        try:
            for _ in range(4000):
                w.send(encode("PUBLISH", "big", "x" * 5000))
            w.read_raw(4000)
            out.append(w.call("PUBSUB", "NUMSUB", "big"))
        finally:
            w.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 33554432 8388608 60")
        s.close()
        w.close()
        return out

    res = _both(pair, scenario)
    assert res[-1] == b"*2\r\n$3\r\nbig\r\n:0\r\n"
