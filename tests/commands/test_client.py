"""CLIENT commands, AUTH/HELLO AUTH with requirepass, RESET, against redis-server and durakv."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw, encode


def _fields(line: bytes) -> list[bytes]:
    return [kv.split(b"=", 1)[0] for kv in line.strip().split(b" ")]


def test_client_list_and_info_fields_equal(pair):
    a, b = pair.redis.parsed("CLIENT", "LIST"), pair.durakv.parsed("CLIENT", "LIST")
    assert _fields(a.splitlines()[0]) == _fields(b.splitlines()[0])
    a, b = pair.redis.parsed("CLIENT", "INFO"), pair.durakv.parsed("CLIENT", "INFO")
    assert _fields(a) == _fields(b)
    assert b.endswith(b"\n")
    assert b"cmd=client|info" in b and b"flags=N" in b and b"user=default" in b


def test_client_info_shows_its_own_command_in_the_query_buffer(pair):
    # Redis 7.0 keeps the running command in the query buffer: qbuf, argv-mem, rbs as Redis's
    # own CLIENT LIST test matches them
    import re

    def own(side, *cmd: str) -> list[bytes]:
        text = side.parsed(*cmd)
        line = [x for x in text.splitlines() if b"cmd=client|" in x][0]
        return [m.group(0) for m in re.finditer(rb"(qbuf|qbuf-free|argv-mem|rbs|rbp|multi-mem)=\d+", line)]

    for cmd in (("CLIENT", "LIST"), ("CLIENT", "INFO"), ("client", "list", "type", "normal")):
        assert own(pair.durakv, *cmd) == own(pair.redis, *cmd)


def test_client_info_reply_type(pair):
    a, b = pair.both("CLIENT", "INFO")
    assert a[:1] == b[:1]  # bulk in RESP2, verbatim in RESP3


def test_client_id_and_list_filters(r):
    cid = r.client_id()
    assert cid > 0
    out = r.execute_command("CLIENT", "LIST", "ID", cid)
    text = out.decode() if isinstance(out, bytes) else str(out)
    assert f"id={cid} " in text
    out = r.execute_command("CLIENT", "LIST", "ID", 999999999)
    assert out in (b"", "", [], {})
    out = r.execute_command("CLIENT", "LIST", "TYPE", "normal")
    assert out


def test_client_errors(pair):
    for args in [
        ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "a\nb"), ("CLIENT", "SETNAME", ""),
        ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "ok"), ("CLIENT", "GETNAME"),
        ("CLIENT", "GETNAME", "x"), ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "abc"),
        ("CLIENT", "KILL", "ID", "0"), ("CLIENT", "KILL", "ID", "99999"), ("CLIENT", "KILL", "foo", "bar"),
        ("CLIENT", "KILL", "TYPE", "foo"), ("CLIENT", "KILL", "SKIPME", "maybe"), ("CLIENT", "KILL", "addr"),
        ("CLIENT", "KILL", "ID", "1", "TYPE"), ("CLIENT", "KILL", "USER", "nosuchuser"),
        ("CLIENT", "KILL", "LADDR", "1.2.3.4:5"), ("CLIENT", "KILL", "MAXAGE", "10"),
        ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID", "abc"), ("CLIENT", "LIST", "ID", "99999"),
        ("CLIENT", "LIST", "foo"), ("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "10", "foo"),
        ("CLIENT", "PAUSE", "-1"), ("CLIENT", "REPLY", "foo"), ("CLIENT", "NO-EVICT", "maybe"),
        ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "off"), ("CLIENT", "UNBLOCK", "abc"),
        ("CLIENT", "UNBLOCK", "9999", "foo"), ("CLIENT", "UNBLOCK", "9999"), ("CLIENT", "UNBLOCK", "9999", "error"),
        ("CLIENT", "ID", "x"), ("CLIENT", "KILL"), ("CLIENT", "INFO", "x"), ("CLIENT", "HELP"),
        ("CLIENT", "NOSUCH"), ("CLIENT",), ("CLIENT", "UNPAUSE"), ("CLIENT", "PAUSE", "10", "WRITE", "x"),
        ("CLIENT", "UNBLOCK", "1", "timeout", "x"), ("CLIENT", "KILL", "ID", "1", "ID"),
        ("CLIENT", "LIST", "TYPE", "normal", "x"), ("CLIENT", "KILL", "TYPE", "master"),
    ]:
        pair.check(*args)


def test_client_setname_getname(r):
    assert r.client_getname() is None
    assert r.client_setname("conn-1")
    assert r.client_getname() in (b"conn-1", "conn-1")
    with pytest.raises(redis.ResponseError, match="cannot contain spaces"):
        r.client_setname("bad name")


def test_hello_setname_validation(pair):
    pair.check("HELLO", "2", "SETNAME", "bad name")
    pair.check("HELLO", "2", "SETNAME", "good", "AUTH")


def test_client_kill_by_id_and_addr(durakv_proc):
    a, b = Raw(durakv_proc.port), Raw(durakv_proc.port)
    bid = b.parsed("CLIENT", "ID")
    assert a.parsed("CLIENT", "KILL", "ID", bid) == 1
    assert b.read_until_closed() == b""
    c = Raw(durakv_proc.port)
    info = c.parsed("CLIENT", "INFO").decode()
    addr = [kv.split("=", 1)[1] for kv in info.split() if kv.startswith("addr=")][0]
    assert a.call("CLIENT", "KILL", addr) == b"+OK\r\n"
    assert c.read_until_closed() == b""
    # SKIPME yes by default: killing by our own id kills nobody
    me = a.parsed("CLIENT", "ID")
    assert a.parsed("CLIENT", "KILL", "ID", me) == 0
    assert a.parsed("CLIENT", "KILL", "ID", me, "SKIPME", "no") == 1
    a.close()


def test_client_reply_off_skip_on(pair):
    for side in (pair.redis, pair.durakv):
        side.send(encode("CLIENT", "REPLY", "OFF") + encode("SET", "a", "1") + encode("CLIENT", "REPLY", "ON"))
        assert side.read_raw() == b"+OK\r\n"
        side.send(encode("CLIENT", "REPLY", "SKIP") + encode("SET", "a", "2") + encode("GET", "a"))
        assert side.read_raw() == b"$1\r\n2\r\n"


@pytest.mark.parametrize("proto", [2, 3])
def test_client_reply_off_keeps_subscribe_confirmations(durakv_proc, redis_proc, proto):
    # Redis pushes (un)subscribe confirmations whatever CLIENT REPLY says
    got = []
    for port in (redis_proc.port, durakv_proc.port):
        c = Raw(port, proto)
        c.send(encode("CLIENT", "REPLY", "OFF") + encode("SUBSCRIBE", "ch") + encode("PSUBSCRIBE", "p*")
               + encode("UNSUBSCRIBE", "ch"))
        out = [c.read_raw(3)]
        c.send(encode("PUNSUBSCRIBE") + encode("CLIENT", "REPLY", "SKIP") + encode("SUBSCRIBE", "x") + encode("PING"))
        out.append(c.read_raw(2))
        c.close()
        got.append(out)
    assert got[1] == got[0]


def test_client_pause_write_holds_writes_only(durakv_proc, redis_proc):
    for port in (redis_proc.port, durakv_proc.port):
        a, b = Raw(port), Raw(port)
        b.call("SET", "pk", "0")
        assert a.call("CLIENT", "PAUSE", "2000", "WRITE") == b"+OK\r\n"
        assert b.call("GET", "pk") == b"$1\r\n0\r\n"  # reads pass
        b.send(encode("SET", "pk", "1"))
        b.sock.settimeout(0.2)
        with pytest.raises(socket.timeout):
            b.sock.recv(100)
        b.sock.settimeout(10)
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read_raw() == b"+OK\r\n"
        assert b.call("GET", "pk") == b"$1\r\n1\r\n"
        a.close()
        b.close()


def test_client_pause_stops_expiry(pair):
    for side in (pair.redis, pair.durakv):
        side.call("SET", "ex", "1", "PX", "20")
        side.call("CLIENT", "PAUSE", "100000", "WRITE")
    time.sleep(0.1)
    try:
        pair.check("DBSIZE")  # not actively expired
        pair.check("GET", "ex")  # reads as missing
        pair.check("DBSIZE")  # and still not deleted
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CLIENT", "UNPAUSE")


def test_client_pause_all_times_out(durakv_proc):
    a, b = Raw(durakv_proc.port), Raw(durakv_proc.port)
    t0 = time.monotonic()
    assert a.call("CLIENT", "PAUSE", "150") == b"+OK\r\n"
    assert b.call("PING") == b"+PONG\r\n"
    assert time.monotonic() - t0 >= 0.1
    a.close()
    b.close()


def test_client_unblock(durakv_proc, redis_proc):
    for port in (redis_proc.port, durakv_proc.port):
        a, b = Raw(port), Raw(port)
        if b"blpop" not in a.parsed("COMMAND", "LIST"):
            continue
        bid = b.parsed("CLIENT", "ID")
        b.send(encode("BLPOP", "nolist", "0"))
        time.sleep(0.05)
        assert a.parsed("CLIENT", "UNBLOCK", bid) == 1
        assert b.read_raw() in (b"*-1\r\n",)
        b.send(encode("BLPOP", "nolist", "0"))
        time.sleep(0.05)
        assert a.parsed("CLIENT", "UNBLOCK", bid, "ERROR") == 1
        assert b.read_raw() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
        a.close()
        b.close()


@pytest.fixture(scope="module")
def auth_pair():
    rp = start_redis("--requirepass", "secret")
    dp = start_durakv("--requirepass", "secret")
    yield rp, dp
    rp.stop()
    dp.stop()


def test_auth_requirepass(auth_pair):
    rp, dp = auth_pair
    a, b = Raw(rp.port), Raw(dp.port)
    for args in [("GET", "x"), ("PING",), ("HELLO", "3"), ("AUTH", "wrong"), ("AUTH", "default", "wrong"),
                 ("AUTH", "bob", "secret"), ("AUTH", "a", "b", "c"), ("HELLO", "3", "AUTH", "default", "wrong"),
                 ("CLIENT", "ID"), ("AUTH", "secret"), ("GET", "x"), ("RESET",), ("GET", "x"),
                 ("AUTH", "default", "secret"), ("PING",)]:
        ra, rb = a.call(*args), b.call(*args)
        assert ra == rb, (args, ra, rb)
    a.close()
    b.close()
    for port in (rp.port, dp.port):
        c = Raw(port)
        got = c.parsed("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me")
        assert b"proto" in (got if isinstance(got, list) else list(got))
        assert c.parsed("CLIENT", "GETNAME") == b"me"
        c.close()


def test_auth_without_requirepass(pair):
    pair.check("AUTH", "foo")
    pair.check("AUTH", "default", "anything")
    pair.check("AUTH", "bob", "foo")
    pair.check("HELLO", "2", "AUTH", "bob", "x")
    pair.check("HELLO", "5", "AUTH", "bob", "x")


def test_reset(pair):
    for side in (pair.redis, pair.durakv):
        side.call("SELECT", "3")
        side.call("CLIENT", "SETNAME", "nm")
        side.call("MULTI") if b"multi" in side.parsed("COMMAND", "LIST") else None
        assert side.call("RESET") == b"+RESET\r\n"
        assert side.call("CLIENT", "GETNAME") == b"$-1\r\n"
        info = side.parsed("CLIENT", "INFO")
        assert b" db=0 " in info and b"resp=2" in info and b"multi=-1" in info
        if side.proto == 3:
            side.call("HELLO", "3")
    pair.check("RESET", "x")


def test_concurrent_pause_release_order(durakv_proc):
    """Writes held by CLIENT PAUSE WRITE leave in order once unpaused."""
    a, b = Raw(durakv_proc.port), Raw(durakv_proc.port)
    a.call("CLIENT", "PAUSE", "3000", "WRITE")
    b.send(encode("SET", "o", "1") + encode("INCR", "o") + encode("GET", "o"))
    t = threading.Timer(0.1, lambda: a.call("CLIENT", "UNPAUSE"))
    t.start()
    assert b.read_raw(3) == b"+OK\r\n:2\r\n$1\r\n2\r\n"
    t.join()
    a.close()
    b.close()
