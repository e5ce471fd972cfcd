"""The request parsers: whole, byte by byte, with trailing bytes; exact Redis error texts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durakv.protocol.parser import ExactParser, RequestParser, split_args
from tests.support.raw import encode


def feed_all(parser, chunks):
    cmds = []
    for ch in chunks:
        got, err = parser.feed(ch)
        cmds.extend(got)
        if err is not None:
            return cmds, err
    return cmds, None


def chunkings(data: bytes):
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    rnd = random.Random(len(data))
    for _ in range(3):
        cuts = sorted(rnd.sample(range(1, len(data)), min(len(data) - 1, 4))) if len(data) > 1 else []
        parts, last = [], 0
        for c in cuts + [len(data)]:
            parts.append(data[last:c])
            last = c
        yield parts


CASES = [
    (encode("SET", "k", "v") + encode("GET", "k"), [[b"SET", b"k", b"v"], [b"GET", b"k"]], None),
    (b"PING\r\n", [[b"PING"]], None),
    (b"PING\n", [[b"PING"]], None),
    (b"SET a 'b c'\r\n", [[b"SET", b"a", b"b c"]], None),
    (b'ECHO "a\\x41\\n"\r\n', [[b"ECHO", b"aA\n"]], None),
    (b"\r\n\r\nPING\r\n", [[b"PING"]], None),
    (b"*0\r\n*-1\r\n" + encode("PING"), [[b"PING"]], None),
    (encode("PING") + b"PING\r\n" + encode("ECHO", "x"), [[b"PING"], [b"PING"], [b"ECHO", b"x"]], None),
    (encode("SET", "k", b"\x00\r\n\xff"), [[b"SET", b"k", b"\x00\r\n\xff"]], None),
    (b"*1\r\n+PING\r\n", [], "expected '$', got '+'"),
    (b"*1\r\n:1\r\n", [], "expected '$', got ':'"),
    (b"*x\r\n", [], "invalid multibulk length"),
    (b"*3000000000\r\n", [], "invalid multibulk length"),
    (b"*1\r\n$x\r\n", [], "invalid bulk length"),
    (b"*1\r\n$-5\r\n", [], "invalid bulk length"),
    (b"*1\r\n$600000000\r\n", [], "invalid bulk length"),
    (b"SET a \"b\r\n", [], "unbalanced quotes in request"),
    (b"SET a 'b'c\r\n", [], "unbalanced quotes in request"),
    (encode("PING") + b"*1\r\n*1\r\n", [[b"PING"]], "expected '$', got '*'"),
    (encode("ECHO", "hi") + b"*3\r\n_\r\n" + encode("ECHO", "hi"), [[b"ECHO", b"hi"]], "expected '$', got '_'"),
    (b"*1\r\n+PING\r\n" + encode("PING"), [], "expected '$', got '+'"),
    (b"*2\r\n$4\r\nECHO\r\n=8\r\ntxt:PING\r\n", [], "expected '$', got '='"),
    (b"*2\r\n$4\r\nECHO\r\n+$\r\n", [], "expected '$', got '+'"),
    # arguments that start with + = ( are bulks like any other
    (encode("XRANGE", "s", "-", "+") + encode("ZCOUNT", "z", "(1", "+inf") + encode("XTRIM", "s", "MAXLEN", "=", "1"),
     [[b"XRANGE", b"s", b"-", b"+"], [b"ZCOUNT", b"z", b"(1", b"+inf"], [b"XTRIM", b"s", b"MAXLEN", b"=", b"1"]], None),
    (encode("PING") + b"*1\x00\r\n" + encode("PING"), [[b"PING"]], None),  # strchr stops at NUL
    (b"PING\r\nEC\x00HO hi\r\nPING\r\n", [[b"PING"]], None),
]


@pytest.mark.parametrize("data,want,err", CASES)
@pytest.mark.parametrize("kind", ["exact", "fast"])
def test_cases_every_chunking(data, want, err, kind):
    for chunks in chunkings(data):
        p = ExactParser() if kind == "exact" else RequestParser()
        cmds, e = feed_all(p, chunks)
        assert cmds == want, chunks
        assert e == err, chunks


def test_trailing_partial_command_is_kept():
    p = RequestParser()
    cmds, err = p.feed(encode("SET", "a", "1") + encode("GET", "a")[:7])
    assert cmds == [[b"SET", b"a", b"1"]] and err is None
    assert p.pending() > 0
    cmds, err = p.feed(encode("GET", "a")[7:] + encode("PING"))
    assert cmds == [[b"GET", b"a"], [b"PING"]] and err is None
    assert p.pending() == 0


def test_big_inline_and_header_limits():
    p = ExactParser()
    _, err = p.feed(b"A" * (64 * 1024 + 10))
    assert err == "too big inline request"
    p = ExactParser()
    _, err = p.feed(b"*" + b"1" * (64 * 1024 + 10))
    assert err == "too big mbulk count string"
    p = ExactParser()
    _, err = p.feed(b"*1\r\n$" + b"1" * (64 * 1024 + 10))
    assert err == "too big bulk count string"


def test_unauthenticated_limits():
    p = RequestParser(auth_required=lambda: True)
    _, err = p.feed(b"*11\r\n")
    assert err == "unauthenticated multibulk length"
    p = RequestParser(auth_required=lambda: True)
    _, err = p.feed(b"*1\r\n$16385\r\n")
    assert err == "unauthenticated bulk length"


def test_split_args():
    assert split_args(b"  a  b ") == [b"a", b"b"]
    assert split_args(b'"a b" c') == [b"a b", b"c"]
    assert split_args(b'x"a b"') == [b"xa b"]
    assert split_args(b"'it\\'s'") == [b"it's"]
    assert split_args(b'"\\t\\x4"') == [b"\tx4"]
    assert split_args(b'"abc') is None
    assert split_args(b"") == []


args_st = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(args_st, min_size=1, max_size=5), st.randoms())
def test_random_commands_any_chunking(cmds, rnd):
    data = b"".join(encode(*c) for c in cmds)
    p = RequestParser()
    got = []
    i = 0
    while i < len(data):
        n = rnd.randint(1, 20)
        out, err = p.feed(data[i : i + n])
        assert err is None
        got.extend(out)
        i += n
    assert got == cmds


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data):
    for p in (RequestParser(), ExactParser()):
        cmds, err = p.feed(data)
        assert isinstance(cmds, list)
        assert err is None or isinstance(err, str)


def test_raw_is_the_chunk_only_when_it_is_exactly_the_commands():
    p = RequestParser()
    chunk = encode("SET", "k", "v") + encode("GET", "k")
    assert p.feed(chunk) == ([[b"SET", b"k", b"v"], [b"GET", b"k"]], None)
    assert p.raw == chunk
    # an empty array is skipped: the chunk holds more than the commands
    p.feed(b"*0\r\n" + chunk)
    assert p.raw is None
    # a chunk ending inside a command, and the one that completes it (exact parser)
    p.feed(chunk + b"*1\r\n$4\r\nPI")
    assert p.raw is None
    assert p.feed(b"NG\r\n") == ([[b"PING"]], None)
    assert p.raw is None
    p.feed(b"PING\r\n")  # inline
    assert p.raw is None
    p.feed(chunk)
    assert p.raw == chunk
