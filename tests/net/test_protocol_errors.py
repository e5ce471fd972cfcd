"""Malformed input over the wire: the same bytes back from durakv as from redis-server.

Redis answers ``-ERR Protocol error: ...`` and closes; unknown commands and wrong arity
keep the connection open.  Random bytes must never crash the server.
"""

from __future__ import annotations

import random
import socket

import pytest

from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw, encode

MALFORMED = [
    b"*1\r\n+PING\r\n",
    b"*x\r\n",
    b"*1\r\n$x\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$600000000\r\n",
    b"*3000000000\r\n",
    b'SET a "b\r\n',
    b"SET a 'b'c\r\n",
    encode("PING") + b"*1\r\n:1\r\n",
    b"PING\r\n*2\r\n$4\r\nECHO\r\n*1\r\n",
    # Redis writes a CR or LF in an error as a space: "got ' '"
    encode("PING") + b"*2\r\n\r\n",
]
# bytes follow the point where the server closes: sent whole only (sent byte by byte,
# the bytes after the close draw a reset that can swallow the reply)
MALFORMED_WITH_TAIL = [
    # a nested array whose bytes end like the last command's encoding
    encode("ECHO", "hello") + b"*3\r\n_\r\n" + encode("ECHO", "hello"),
    # items hiredis reads as strings, before a valid command
    b"*1\r\n+PING\r\n" + encode("PING"),
    b"*2\r\n$4\r\nECHO\r\n=8\r\ntxt:PING\r\n" + encode("PING"),
    b"*2\r\n$4\r\nECHO\r\n(12\r\n" + encode("PING"),
    # after QUIT nothing more is read, not even a protocol error
    encode("QUIT") + b"*abc\r\n",
    # a NUL before the end of a header line: "not complete" until the 64 KB limit
    b"PING\r\n*1\x00\r\n" + b"x" * 70000,
    b"PING\r\nEC\x00HO hi\r\n" + b"y" * 70000,
]


def exchange(port: int, data: bytes) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            raise AssertionError(f"server kept the connection open after {data!r}: {out!r}") from None
        if not chunk:
            break
        out += chunk
    s.close()
    return out


@pytest.mark.parametrize("data", MALFORMED + MALFORMED_WITH_TAIL)
def test_protocol_error_then_close(redis_proc, durakv_proc, data):
    want = exchange(redis_proc.port, data)
    got = exchange(durakv_proc.port, data)
    assert got == want


@pytest.mark.parametrize("data", MALFORMED)
def test_protocol_error_byte_by_byte(durakv_proc, redis_proc, data):
    want = exchange(redis_proc.port, data)
    s = socket.create_connection(("127.0.0.1", durakv_proc.port), timeout=5)
    for i in range(len(data)):
        try:
            s.sendall(data[i : i + 1])
        except OSError:
            break
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    assert out == want


def test_unknown_and_arity_keep_connection(pair):
    pair.check("NOSUCHCMD", "a")
    pair.check("GET")
    pair.check("PING")


def test_inline_commands(durakv_proc, redis_proc):
    for port in (redis_proc.port, durakv_proc.port):
        r = Raw(port)
        r.send(b"PING\r\nECHO \"a b\"\r\n")
        assert r.read_raw(2) == b"+PONG\r\n$3\r\na b\r\n"
        r.close()


def test_random_garbage_never_kills_server(durakv_proc):
    rnd = random.Random(1234)
    for _ in range(60):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
        if rnd.random() < 0.5:
            data = b"*" + data
        s = socket.create_connection(("127.0.0.1", durakv_proc.port), timeout=5)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()
    r = Raw(durakv_proc.port)
    assert r.call("PING") == b"+PONG\r\n"
    assert durakv_proc.proc.poll() is None


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _garbage_round(port: int, rnd: random.Random, n: int) -> None:
    for _ in range(n):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 400)))
        if rnd.random() < 0.5:
            data = b"*" + data
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        finally:
            s.close()


def test_random_garbage_neither_crashes_nor_leaks():
    node = start_durakv("--appendonly", "no")
    try:
        rnd = random.Random(99)
        _garbage_round(node.port, rnd, 100)  # warm-up: allocator pools, code paths
        before = _rss(node.pid)
        _garbage_round(node.port, rnd, 300)
        after = _rss(node.pid)
        r = Raw(node.port)
        info = r.call("INFO", "clients")
        assert b"connected_clients:1\r\n" in info, info  # every garbage connection is gone
        assert r.call("PING") == b"+PONG\r\n"
        assert node.proc.poll() is None
        assert after - before < 8 * 1024 * 1024, (before, after)
        r.close()
    finally:
        node.stop()


def test_nul_byte_in_a_line_waits_as_in_redis(durakv_proc, redis_proc):
    """Redis finds line ends with strchr, which stops at a NUL: the command never completes
    (and what follows is not read) until the 64 KB limit."""
    outs = []
    for port in (redis_proc.port, durakv_proc.port):
        s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        s.sendall(b"PING\r\nEC\x00HO hi\r\n" + encode("PING") + b"*1\r\n$4\r\nPI\x00G\r\n")
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except TimeoutError:
            got += b"<open>"
        s.close()
        outs.append(got)
    assert outs[1] == outs[0] == b"+PONG\r\n<open>"


def test_random_malformed_input_like_redis(durakv_proc, redis_proc):
    """tools/protofuzz.py's cases, a fixed sample: same bytes back, same close."""
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location(
        "protofuzz", pathlib.Path(__file__).resolve().parents[2] / "tools" / "protofuzz.py")
    assert spec is not None and spec.loader is not None
    pf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pf)
    rng = random.Random(20261127)
    for _ in range(40):
        data = pf.case(rng)
        assert pf.talk(durakv_proc.port, data) == pf.talk(redis_proc.port, data), data


@pytest.mark.parametrize("data", [b"*11\r\n", b"*1\r\n$16385\r\n", b"*2\r\n$4\r\nAUTH\r\n$20000\r\n"])
def test_unauthenticated_length_limits(data):
    """Before AUTH (requirepass set), more than 10 arguments or a bulk over 16 KB is a
    protocol error with Redis's own text."""
    servers = [start_redis("--requirepass", "pw"), start_durakv("--requirepass", "pw")]
    try:
        replies = [exchange(p.port, data) for p in servers]
    finally:
        for p in servers:
            p.stop()
    assert replies[0].startswith(b"-ERR Protocol error: unauthenticated")
    assert replies[1] == replies[0]


def _until_end(port: int, data: bytes) -> bytes:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data + encode("ECHO", "the-end"))
    out = b""
    while not out.endswith(b"the-end\r\n"):
        chunk = s.recv(65536)
        if not chunk:  # closed after a protocol error
            break
        out += chunk
    s.close()
    return out


@pytest.mark.parametrize("data", [
    # RESP3 replies where a command should be: inline commands for Redis (hiredis reads
    # "#f" as False, a set or a push as a list, and skips an attribute)
    encode("PING") + b"#f\r\n" + encode("PING"),
    encode("PING") + b"#t\r\n",
    encode("PING") + b"~1\r\n$4\r\nPING\r\n",
    encode("PING") + b">1\r\n$4\r\nPING\r\n",
    encode("PING") + b"|1\r\n$4\r\nPING\r\n$1\r\nx\r\n" + encode("PING"),
    encode("PING") + b"%1\r\n$4\r\nPING\r\n$1\r\nx\r\n",
    encode("PING") + b"*0\r\n" + encode("PING"),
    # arguments that look like other types
    encode("ECHO", "+x") + encode("ECHO", "~1") + encode("ECHO", "|a\r\n*1") + encode("ECHO", "(2"),
    # bulk data whose "\r\n*" and "\r\n$" make up for a set's missing array header
    encode("ECHO", "+") + encode("ECHO", "a\r\n*1") + b"~1\r\n$4\r\nPING\r\n",
    encode("ECHO", "x\r\n$4") + b"*2\r\n$4\r\nECHO\r\n+PING\r\n",
])
def test_resp3_items_between_commands_like_redis(durakv_proc, redis_proc, data):
    assert _until_end(durakv_proc.port, data) == _until_end(redis_proc.port, data)
