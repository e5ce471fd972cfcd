"""Differential tests of the stream commands against real Redis 7.0 (RESP2 and RESP3)."""

from __future__ import annotations

import random
import struct
import time
from typing import Any

import hiredis
import pytest

from durakv import dispatch, spec
from durakv.clock import ManualClock
from durakv.config import Config
from durakv.context import Context
from durakv.durability.crc64 import crc64
from durakv.durability.log import MemoryLog
from durakv.durability.rdb import enc_len, enc_string, lp_build, lp_entry, lp_int_entry
from durakv.durability.tracker import CommitTracker
from durakv.session import Session
from durakv.types.stream import Stream, fmt_id
from tests.support.notify import keyspace_events
from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw, encode
from tests.support.stats import dirty_deltas


def fill(pair: Any, key: str = "s", n: int = 5, start: int = 1) -> None:
    for i in range(start, start + n):
        pair.check("XADD", key, f"{i}-1", "f", str(i), "g", "x")


def test_xadd_explicit_ids_and_errors(pair) -> None:
    pair.check("XADD", "s", "1-1", "a", "1")
    pair.check("XADD", "s", "1-1", "a", "1")
    pair.check("XADD", "s", "1-*", "a", "1")
    pair.check("XADD", "s", "1", "a", "1")
    pair.check("XADD", "s", "5", "a", "1")
    pair.check("XADD", "s", "4-*", "a", "1")
    pair.check("XADD", "s", "0-0", "a", "1")
    pair.check("XADD", "z", "0-0", "a", "1")
    pair.check("XADD", "s", "+7-1", "a", "1")
    pair.check("XADD", "s", "08-01", "a", "1")
    pair.check("XADD", "s", "-1", "a", "1")
    pair.check("XADD", "s", "9-x", "a", "1")
    pair.check("XADD", "s", "x", "a", "1")
    pair.check("XADD", "s", "10-1", "a")
    pair.check("XADD", "s", "10-1", "a", "b", "c")
    pair.check("XADD", "s", "18446744073709551616-1", "a", "1")
    pair.check("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1")
    pair.check("XADD", "s", "*", "a", "1")
    pair.check("XADD", "s", "18446744073709551615-*", "a", "1")
    pair.check("XLEN", "s")
    pair.check("XRANGE", "s", "-", "+")
    pair.check("SET", "str", "v")
    pair.check("XADD", "str", "1-1", "a", "b")
    pair.check("XADD", "str", "NOMKSTREAM", "1-1", "a", "b")
    pair.check("XLEN", "str")
    pair.check("XLEN", "nokey")


def test_xadd_nomkstream_and_options(pair) -> None:
    pair.check("XADD", "s", "NOMKSTREAM", "1-1", "a", "b")
    pair.check("EXISTS", "s")
    pair.check("XADD", "s", "1-1", "a", "b")
    pair.check("XADD", "s", "nomkstream", "2-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "1", "MINID", "0", "3-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "-1", "3-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "x", "3-1", "a", "b")
    pair.check("XADD", "s", "LIMIT", "10", "3-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "5", "LIMIT", "10", "3-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "3-1", "a", "b")
    pair.check("XADD", "s", "MINID", "x", "3-1", "a", "b")
    pair.check("XADD", "s", "MINID", "-", "3-1", "a", "b")
    pair.check("XADD", "s", "MAXLEN", "1", "3-1", "a", "b")
    pair.check("XRANGE", "s", "-", "+")
    pair.check("XADD", "s", "MAXLEN", "=", "1", "4-1", "a", "b")
    pair.check("XADD", "s", "MINID", "=", "5", "5-1", "a", "b")
    pair.check("XADD", "s", "MINID", "6", "5-5", "a", "b")
    pair.check("XLEN", "s")
    pair.check("XINFO", "STREAM", "s")


def test_xrange_xrevrange(pair) -> None:
    fill(pair, n=6)
    pair.check("XDEL", "s", "3-1")
    for args in [("-", "+"), ("2", "4"), ("(2-1", "+"), ("-", "(5-1"), ("(1-1", "(6-1"), ("2-1", "2-1"),
                 ("5", "1"), ("(-", "+"), ("-", "(+"), ("(18446744073709551615-18446744073709551615", "+"),
                 ("-", "(0-0"), ("(0", "+"), ("x", "+"), ("(", "+")]:
        pair.check("XRANGE", "s", *args)
        pair.check("XREVRANGE", "s", args[1], args[0])
    pair.check("XRANGE", "s", "-", "+", "COUNT", "2")
    pair.check("XREVRANGE", "s", "+", "-", "COUNT", "2")
    pair.check("XRANGE", "s", "-", "+", "COUNT", "0")
    pair.check("XRANGE", "s", "-", "+", "COUNT", "-3")
    pair.check("XRANGE", "s", "-", "+", "COUNT", "x")
    pair.check("XRANGE", "s", "-", "+", "COUNT")
    pair.check("XRANGE", "s", "-", "+", "FOO", "1")
    pair.check("XRANGE", "nokey", "-", "+")
    pair.check("XRANGE", "nokey", "-", "+", "COUNT", "0")
    pair.check("XREVRANGE", "s", "+", "-", "COUNT", "1", "COUNT", "3")


def test_xdel_and_info(pair) -> None:
    fill(pair, n=4)
    pair.check("XDEL", "s", "1-1", "9-9", "x")
    pair.check("XDEL", "s", "1-1", "9-9")
    pair.check("XDEL", "s", "2-1", "2-1", "3")
    pair.check("XDEL", "nokey", "x")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XDEL", "s", "4-1")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XINFO", "STREAM", "s", "FULL")
    pair.check("XINFO", "STREAM", "nokey")
    pair.check("XINFO", "STREAM", "s", "FOO")
    pair.check("XINFO", "STREAM", "s", "FULL", "COUNT")
    pair.check("XINFO", "STREAM", "s", "FULL", "COUNT", "x")
    pair.check("XINFO", "STREAM", "s", "FULL", "X", "1")
    pair.check("XINFO", "HELP")
    pair.check("XINFO", "HELP", "x")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XINFO", "FOO", "s")


def test_xtrim_exact_and_approx(pair) -> None:
    for i in range(1, 351):
        pair.redis.send(b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$%d\r\n%d-1\r\n$1\r\nf\r\n$1\r\nv\r\n" % (len(str(i)) + 2, i))
        pair.durakv.send(b"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$%d\r\n%d-1\r\n$1\r\nf\r\n$1\r\nv\r\n" % (len(str(i)) + 2, i))
    pair.redis.read_raw(350)
    pair.durakv.read_raw(350)
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MAXLEN", "~", "290")
    pair.check("XLEN", "s")
    pair.check("XTRIM", "s", "MAXLEN", "~", "50", "LIMIT", "50")
    pair.check("XTRIM", "s", "MAXLEN", "~", "50", "LIMIT", "100")
    pair.check("XLEN", "s")
    pair.check("XTRIM", "s", "MINID", "~", "230")
    pair.check("XTRIM", "s", "MINID", "~", "330")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MAXLEN", "25")
    pair.check("XTRIM", "s", "MINID", "340")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MAXLEN", "~", "1")
    pair.check("XTRIM", "s", "MAXLEN", "0")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s")
    pair.check("XTRIM", "s", "FOO", "1")
    pair.check("XTRIM", "s", "MAXLEN", "1", "LIMIT", "1")
    pair.check("XTRIM", "s", "LIMIT", "1")
    pair.check("XTRIM", "nokey", "MAXLEN", "1")
    pair.check("XTRIM", "nokey", "foo")


def test_xadd_approx_trim_nodes(pair) -> None:
    for i in range(1, 260):
        pair.check("XADD", "s", "MAXLEN", "~", "120", f"{i}-0", "field", "v" * (i % 50))
    pair.check("XLEN", "s")
    pair.check("XINFO", "STREAM", "s")
    big = "x" * 1500
    for i in range(300, 330):
        pair.check("XADD", "b", "MAXLEN", "~", "5", f"{i}-0", "f", big)
    pair.check("XLEN", "b")
    pair.check("XINFO", "STREAM", "b")


def test_xsetid(pair) -> None:
    fill(pair, n=3)
    pair.check("XSETID", "s", "2-1")
    pair.check("XSETID", "s", "10-1")
    pair.check("XADD", "s", "10-1", "a", "b")
    pair.check("XSETID", "s", "20-1", "ENTRIESADDED", "1")
    pair.check("XSETID", "s", "20-1", "ENTRIESADDED", "-1")
    pair.check("XSETID", "s", "20-1", "ENTRIESADDED", "50", "MAXDELETEDID", "30-0")
    pair.check("XSETID", "s", "20-1", "ENTRIESADDED", "50", "MAXDELETEDID", "15-0")
    pair.check("XSETID", "s", "19-1")
    pair.check("XSETID", "s", "x")
    pair.check("XSETID", "s", "30-1", "FOO")
    pair.check("XSETID", "nokey", "1-1")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XDEL", "s", "1-1", "2-1", "3-1")


def test_xsetid_below_max_deleted_id(pair) -> None:
    # Redis 7.0 accepts a last ID smaller than max-deleted-entry-id as long as it is not
    # smaller than the top entry (the max_deleted_entry_id check came in 7.2).
    fill(pair, n=3)
    pair.check("XDEL", "s", "2-1", "3-1")
    pair.check("XSETID", "s", "2-1")
    pair.check("XSETID", "s", "1-1")
    pair.check("XSETID", "s", "1-0")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XADD", "s", "1-5", "f", "v")
    pair.check("XINFO", "STREAM", "s")


def test_dirty_counts(pair) -> None:
    """server.dirty as Redis 7.0 moves it: XDEL/XTRIM one per entry, XCLAIM/XAUTOCLAIM one per
    claimed or dropped PEL entry, XREADGROUP one per group read served (even an empty one)."""
    cmds = [("XADD", "x", f"{i}-0", "f", "v") for i in range(1, 7)] + [
        ("XGROUP", "CREATE", "x", "g", "0"), ("XREADGROUP", "GROUP", "g", "a", "COUNT", "4", "STREAMS", "x", ">"),
        ("XREADGROUP", "GROUP", "g", "a", "STREAMS", "x", "0"), ("XREADGROUP", "GROUP", "g", "a", "STREAMS", "x", "9"),
        ("XREADGROUP", "GROUP", "g", "new", "STREAMS", "x", "0"), ("XREADGROUP", "GROUP", "g", "b", "STREAMS", "x", ">"),
        ("XREADGROUP", "GROUP", "g", "b", "STREAMS", "x", ">"), ("XDEL", "x", "2-0", "3-0", "9-0"),
        ("XCLAIM", "x", "g", "c", "0", "1-0", "2-0", "4-0"), ("XCLAIM", "x", "g", "c", "0", "9-0", "LASTID", "7-0"),
        ("XCLAIM", "x", "g", "c", "0", "1-0", "LASTID", "8-0"), ("XDEL", "x", "4-0"),
        ("XAUTOCLAIM", "x", "g", "d", "0", "0"), ("XAUTOCLAIM", "x", "g", "d", "0", "0"),
        ("XADD", "x", "MAXLEN", "1", "10-0", "f", "v"), ("XADD", "x", "11-0", "f", "v"), ("XADD", "x", "12-0", "f", "v"),
        ("XTRIM", "x", "MAXLEN", "0"), ("XTRIM", "x", "MAXLEN", "0"), ("XDEL", "x", "1-0"),
    ]
    assert dirty_deltas(pair.durakv, cmds) == dirty_deltas(pair.redis, cmds)
    pair.check("XINFO", "GROUPS", "x")


def test_groups_basic(pair) -> None:
    fill(pair, n=3)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XGROUP", "CREATE", "s", "g2", "$")
    pair.check("XGROUP", "CREATE", "s", "g3", "2-1", "ENTRIESREAD", "2")
    pair.check("XGROUP", "CREATE", "s", "g4", "2-1", "ENTRIESREAD", "-2")
    pair.check("XGROUP", "CREATE", "s", "g4", "x")
    pair.check("XGROUP", "CREATE", "nokey", "g", "$")
    pair.check("XGROUP", "CREATE", "nokey", "g", "$", "MKSTREAM")
    pair.check("XGROUP", "CREATE", "s", "g5", "0", "FOO")
    pair.check("XGROUP", "CREATE", "s", "g5", "0", "MKSTREAM", "ENTRIESREAD", "1", "x")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XINFO", "GROUPS", "nokey")
    pair.check("XGROUP", "CREATECONSUMER", "s", "g", "c1")
    pair.check("XGROUP", "CREATECONSUMER", "s", "g", "c1")
    pair.check("XGROUP", "CREATECONSUMER", "s", "nog", "c1")
    pair.check("XGROUP", "DELCONSUMER", "s", "g", "c1")
    pair.check("XGROUP", "DELCONSUMER", "s", "g", "c1")
    pair.check("XGROUP", "SETID", "s", "g", "$")
    pair.check("XGROUP", "SETID", "s", "g", "1", "ENTRIESREAD", "1")
    pair.check("XGROUP", "SETID", "s", "g", "-")
    pair.check("XGROUP", "SETID", "s", "nog", "1")
    pair.check("XGROUP", "SETID", "s", "g", "1", "MKSTREAM")
    pair.check("XGROUP", "DESTROY", "s", "g2")
    pair.check("XGROUP", "DESTROY", "s", "g2")
    pair.check("XGROUP", "DESTROY", "nokey", "g2")
    pair.check("XGROUP", "HELP")
    pair.check("XGROUP", "FOO")
    pair.check("XGROUP", "CREATE", "s")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("SET", "str", "x")
    pair.check("XGROUP", "CREATE", "str", "g", "$")


def test_xreadgroup_flow(pair) -> None:
    fill(pair, n=4)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", "1-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XPENDING", "s", "g")
    pair.check("XACK", "s", "g", "1-1", "9-9")
    pair.check("XACK", "s", "g", "x")
    pair.check("XACK", "s", "nog", "1-1")
    pair.check("XDEL", "s", "2-1")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
    pair.check("XPENDING", "s", "g")
    pair.check("XPENDING", "s", "g", "-", "+", "0")
    pair.check("XPENDING", "s", "nog")
    pair.check("XPENDING", "s", "g", "-", "+")
    pair.check("XPENDING", "s", "g", "x", "+", "10")
    pair.check("XPENDING", "s", "g", "-", "+", "x")
    pair.check("XPENDING", "s", "g", "IDLE", "x", "-", "+", "10")
    pair.check("XPENDING", "s", "g", "IDLE", "10", "-", "+")
    pair.check("XPENDING", "s", "g", "-", "+", "10", "nocons")
    pair.check("XADD", "s", "5-1", "f", "5")
    pair.check("XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", "s", ">")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XPENDING", "s", "g")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "$")
    pair.check("XREADGROUP", "GROUP", "nog", "c1", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "FOO", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "nokey", ">", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "x", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "-1", "STREAMS", "s", ">")


def test_xread(pair) -> None:
    fill(pair, n=3)
    fill(pair, key="t", n=2, start=5)
    pair.check("XREAD", "STREAMS", "s", "0")
    pair.check("XREAD", "COUNT", "1", "STREAMS", "s", "t", "0", "0")
    pair.check("XREAD", "STREAMS", "s", "t", "2-1", "$")
    pair.check("XREAD", "STREAMS", "s", "$")
    pair.check("XREAD", "STREAMS", "nokey", "0")
    pair.check("XREAD", "STREAMS", "s", ">")
    pair.check("XREAD", "STREAMS", "s", "+")
    pair.check("XREAD", "STREAMS", "s")
    # Redis 7.0's unbalanced-list error names XREAD and '$', for XREADGROUP as well
    pair.check("XREAD", "STREAMS", "s", "t", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", ">")
    pair.check("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0")
    pair.check("XREAD", "NOACK", "STREAMS", "s", "0")
    pair.check("XREAD", "COUNT", "x", "STREAMS", "s", "0")
    pair.check("XREAD", "COUNT", "-1", "STREAMS", "s", "0")
    pair.check("XREAD", "FOO", "STREAMS", "s", "0")
    pair.check("XREAD", "STREAMS", "s", "x")
    pair.check("SET", "str", "x")
    pair.check("XREAD", "STREAMS", "str", "0")
    pair.check("XREAD", "BLOCK", "0", "STREAMS", "s", "0")


def test_xclaim_and_xautoclaim(pair) -> None:
    fill(pair, n=5)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    pair.check("XCLAIM", "s", "g", "c2", "0", "1-1", "2-1", "JUSTID")
    pair.check("XCLAIM", "s", "g", "c2", "0", "3-1", "RETRYCOUNT", "7")
    pair.check("XCLAIM", "s", "g", "c2", "100000", "4-1")
    pair.check("XCLAIM", "s", "g", "c2", "0", "9-1", "FORCE")
    pair.check("XCLAIM", "s", "g", "c2", "x", "4-1")
    pair.check("XCLAIM", "s", "g", "c2", "0", "4-1", "FOO")
    pair.check("XCLAIM", "s", "g", "c2", "0", "4-1", "IDLE", "x")
    pair.check("XCLAIM", "s", "g", "c2", "0", "4-1", "TIME", "x")
    pair.check("XCLAIM", "s", "g", "c2", "0", "4-1", "RETRYCOUNT", "x")
    pair.check("XCLAIM", "s", "g", "c2", "0", "4-1", "LASTID", "x")
    pair.check("XCLAIM", "s", "nog", "c2", "0", "4-1")
    pair.check("XCLAIM", "nokey", "g", "c2", "0", "4-1")
    pair.check("XPENDING", "s", "g")
    pair.check("XADD", "s", "6-1", "f", "6")
    pair.check("XCLAIM", "s", "g", "c3", "0", "6-1", "FORCE", "JUSTID", "LASTID", "6-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XDEL", "s", "5-1")
    pair.check("XCLAIM", "s", "g", "c3", "0", "5-1")
    pair.check("XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "2")
    pair.check("XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "2", "JUSTID")
    pair.check("XDEL", "s", "1-1", "3-1")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "0", "(1-1", "JUSTID")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "100000", "-")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "0", "-", "COUNT", "0")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "0", "-", "COUNT", "x")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "0", "-", "FOO")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "x", "-")
    pair.check("XAUTOCLAIM", "s", "nog", "c5", "0", "-")
    pair.check("XAUTOCLAIM", "s", "g", "c5", "0", "x")
    pair.check("XPENDING", "s", "g")
    pair.check("XINFO", "CONSUMERS", "s", "nog")
    pair.check("XINFO", "CONSUMERS", "nokey", "g")


def _strip_times(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_times(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_strip_times(x) for x in v]
    if isinstance(v, int) and v > 10**12:
        return "T"
    return v


def test_xinfo_full_with_groups(pair) -> None:
    fill(pair, n=4)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XGROUP", "CREATE", "s", "h", "$")
    pair.check("XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">")
    pair.check("XDEL", "s", "4-1")
    a = pair.redis.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "2")
    b = pair.durakv.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "2")
    assert _strip_times(a) == _strip_times(b)
    a = pair.redis.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "0")
    b = pair.durakv.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "0")
    assert _strip_times(a) == _strip_times(b)
    pair.check("XINFO", "GROUPS", "s")


def test_lag_and_entries_read(pair) -> None:
    pair.check("XGROUP", "CREATE", "s", "g0", "$", "MKSTREAM")
    pair.check("XINFO", "GROUPS", "s")
    fill(pair, n=5)
    pair.check("XGROUP", "CREATE", "s", "g1", "0")
    pair.check("XGROUP", "CREATE", "s", "g2", "3-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XREADGROUP", "GROUP", "g1", "c", "COUNT", "2", "STREAMS", "s", ">")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XDEL", "s", "4-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XDEL", "s", "1-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XTRIM", "s", "MAXLEN", "0")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XINFO", "STREAM", "s")


# -- effects: deterministic, and replaying them rebuilds identical streams and groups ----------
class Harness:
    """One in-process node core (no sockets): dispatch + commit tracker + memory log."""

    def __init__(self) -> None:
        spec.load_all()
        self.clock = ManualClock()
        self.ctx = Context(Config(), self.clock)
        self.log = MemoryLog()
        self.tracker = CommitTracker(self.log, lambda fn: None)
        self.ctx.tracker = self.tracker
        self.s = Session(self.ctx, 1, self.ctx.ks.dbs[0])

    def __call__(self, *args: object) -> bytes:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return dispatch.execute(self.s, argv)

    def effects(self) -> list[list[bytes]]:
        self.tracker.flush()
        out = []
        for payload in self.log.records:
            reader = hiredis.Reader()
            reader.feed(payload)
            while (cmd := reader.gets()) is not False:
                if cmd[0].upper() != b"SELECT":
                    out.append(cmd)
        self.log.records.clear()
        return out


def _state(st: Stream) -> Any:
    groups = {}
    for name, g in (st.groups or {}).items():
        groups[name] = (
            g.last_id, g.entries_read,
            {i: (n.time, n.count, n.consumer.name) for i, n in g.pel.items()},
            {cn: sorted(c.pel) for cn, c in g.consumers.items()},
        )
    nodes = [(n.master, n.last, n.live, n.total, n.ebytes) for n in st.nodes]
    return (st.ids, st.vals, nodes, st.last_id, st.entries_added, st.max_deleted, groups)


def test_effects_replay_to_identical_streams() -> None:
    h = Harness()
    h.ctx.config.set_value("stream-node-max-entries", 4)
    for i in range(30):
        h("XADD", "s", "MAXLEN", "~", "10", "*", "f", str(i))
        h.clock.ms += i % 3
    h("XADD", "s", "5-*", "a", "b")
    h("XADD", "s", "NOMKSTREAM", "MINID", "~", "1700000000010", "LIMIT", "4", "*", "a", "b")
    h("XTRIM", "s", "MAXLEN", "~", "3")
    h("XGROUP", "CREATE", "s", "g", "0")
    h("XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "3")
    h("XREADGROUP", "GROUP", "g", "c1", "COUNT", "3", "STREAMS", "s", ">")
    h.clock.ms += 500
    h("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
    h("XREADGROUP", "GROUP", "h", "c9", "NOACK", "STREAMS", "s", ">")
    h("XREADGROUP", "GROUP", "h", "c8", "STREAMS", "s", ">")
    h.clock.ms += 500
    ids = [fmt_id(i) for i in h.ctx.ks.dbs[0].data[b"s"].ids]
    h("XCLAIM", "s", "g", "c3", "100", ids[0], ids[1], "IDLE", "50", "LASTID", "99999999999999-0")
    h("XDEL", "s", ids[1])
    h("XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "3")
    h("XACK", "s", "g", ids[2])
    h("XGROUP", "DELCONSUMER", "s", "g", "c2")
    h("XGROUP", "CREATECONSUMER", "s", "g", "c7")
    h("XSETID", "s", "99999999999999-5", "ENTRIESADDED", "100")
    effects = h.effects()
    assert not any(e[0].upper() == b"XREADGROUP" for e in effects)
    assert not any(e[0].upper() == b"XADD" and b"*" in e for e in effects)
    r = Harness()
    r.ctx.config.set_value("stream-node-max-entries", 4)
    r.clock.ms = h.clock.ms + 1000
    r.s.replaying = True
    for argv in effects:
        got = r(*argv)
        assert not got.startswith(b"-"), (argv, got)
    assert _state(r.ctx.ks.dbs[0].data[b"s"]) == _state(h.ctx.ks.dbs[0].data[b"s"])



@pytest.mark.parametrize("node_bytes, node_entries, maxlen", [(300, 100, 25), (4096, 1000, 300)])
def test_generated_ids_under_maxlen_match_redis(redis_proc, node_bytes: int, node_entries: int, maxlen: int) -> None:
    """XADD's ``MAXLEN ~|= n *`` fast path and its node byte model, against Redis fed the same IDs."""
    h = Harness()
    h.ctx.config.set_value("stream-node-max-bytes", node_bytes)
    h.ctx.config.set_value("stream-node-max-entries", node_entries)
    rng = random.Random(5)
    values = ["0", "1", "-1", "007", "127", "128", "4095", "4096", "32767", "32768", "8388607", "8388608",
              "2147483647", "2147483648", "999999999999999999", "1000000000000000000", "9223372036854775808",
              "-9223372036854775808", "1a", "", "x" * 63, "x" * 64, "y" * 200]
    redis = Raw(redis_proc.port)
    redis.call("FLUSHALL")
    redis.call("CONFIG", "SET", "stream-node-max-bytes", str(node_bytes))
    redis.call("CONFIG", "SET", "stream-node-max-entries", str(node_entries))
    try:
        for i in range(1500):
            # runs of one ms: sequence numbers past 127, in masters too
            h.clock.ms += 0 if i % 750 < 600 else rng.choice([0, 1, 200, 70000])
            key, trim = rng.choice([("s", ["MAXLEN", "~", str(maxlen)]), ("t", ["MAXLEN", "=", str(maxlen)]), ("u", [])])
            fields = [rng.choice(["f", "f", "f", "g"]), rng.choice(values)]
            if rng.random() < 0.1:
                fields += ["h", rng.choice(values)]
            reply = h("XADD", key, *trim, "*", *fields)
            sid = reply.split(b"\r\n")[1].decode()
            assert redis.call("XADD", key, *trim, sid, *fields) == reply
        for key in ("s", "t", "u"):
            assert h("XINFO", "STREAM", key, "FULL") == redis.call("XINFO", "STREAM", key, "FULL")
    finally:
        redis.call("CONFIG", "SET", "stream-node-max-bytes", "4096")
        redis.call("CONFIG", "SET", "stream-node-max-entries", "100")
        redis.close()

# -- blocking reads ----------------------------------------------------------------------------
def _blocked_read(proc: Any, args: tuple, writer_cmds: list[tuple], proto: int = 2) -> bytes:
    c = Raw(proc.port, proto)
    w = Raw(proc.port, proto)
    c.send(encode(*args))
    time.sleep(0.05)
    for cmd in writer_cmds:
        w.call(*cmd)
    out = c.read_raw()
    c.close()
    w.close()
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_xread_woken_by_xadd(redis_proc, durakv_proc, proto: int) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        Raw(proc.port).call("FLUSHALL")
        Raw(proc.port).call("XADD", "s", "1-1", "a", "1")
        results.append(_blocked_read(proc, ("XREAD", "BLOCK", "5000", "STREAMS", "other", "s", "0", "$"),
                                     [("XADD", "s", "2-1", "b", "2"), ("XADD", "s", "3-1", "c", "3")], proto))
    assert results[1] == results[0]
    assert b"2-1" in results[0]


@pytest.mark.parametrize("proto", [2, 3])
def test_blocking_xreadgroup(redis_proc, durakv_proc, proto: int) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        a = Raw(proc.port)
        a.call("FLUSHALL")
        a.call("CONFIG", "RESETSTAT")
        a.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        got = _blocked_read(proc, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                            [("XADD", "s", "5-1", "b", "2")], proto)
        results.append((got, a.call("XPENDING", "s", "g"), a.call("XINFO", "GROUPS", "s")))
        got = _blocked_read(proc, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                            [("XGROUP", "DESTROY", "s", "g")], proto)
        errorstats = a.call("INFO", "errorstats").split(b"\r\n", 1)[1]  # the error sent to the woken reader counts
        cmdstat = [x.split(b"usec=")[0] + x.split(b"rejected_calls")[1] for x in a.call("INFO", "commandstats").split(b"\r\n")
                   if x.startswith(b"cmdstat_xreadgroup")]
        results.append((got, errorstats, cmdstat))
        got = _blocked_read(proc, ("XREAD", "BLOCK", "30", "STREAMS", "s", "$"), [], proto)
        results.append((got,))
        a.close()
    assert results[3:] == results[:3]


def pending_ext(pair: Any, *args: str) -> None:
    """Extended XPENDING with the idle times (which differ by a few ms) masked."""
    a = pair.redis.parsed(*args)
    b = pair.durakv.parsed(*args)
    assert [x[:2] + x[3:] for x in b] == [x[:2] + x[3:] for x in a]
    assert all(abs(x[2] - y[2]) < 1000 for x, y in zip(a, b, strict=True))


def test_edge_cases_lag_on_empty_and_setid(pair) -> None:
    pair.check("XADD", "s", "1-1", "a", "1")
    pair.check("XDEL", "s", "1-1")
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "5")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XINFO", "STREAM", "s", "FULL")
    pair.check("XADD", "s", "2-1", "a", "1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "1")
    pair.check("XGROUP", "SETID", "s", "g2", "0-1", "ENTRIESREAD", "0")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XSETID", "s", "1-1")
    pair.check("XSETID", "s", "3-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XADD", "s", "0-*", "a", "1")
    pair.check("XADD", "s", "3-*", "a", "1")
    pair.check("XADD", "s", "4-*", "a", "1")
    pair.check("XADD", "new", "0-*", "a", "1")
    pair.check("EXISTS", "new")
    pair.check("XADD", "s", "MAXLEN", "~", "0", "5-1", "a", "1")
    pair.check("XADD", "s", "MINID", "~", "9", "LIMIT", "0", "6-1", "a", "1")
    pair.check("XADD", "s", "MINID", "9", "7-1", "a", "1")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MINID", "~", "9", "LIMIT", "1")


def test_xreadgroup_history_and_deleted(pair) -> None:
    fill(pair, n=4)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "s", ">", ">")
    pair.check("XDEL", "s", "2-1")
    pair.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "0", "STREAMS", "s", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", "(1-1")
    pair.check("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "1")
    pair.check("XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", "0")
    pair.check("XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", ">")
    pending_ext(pair, "XPENDING", "s", "g", "-", "+", "10", "c")
    pending_ext(pair, "XPENDING", "s", "g", "(1-1", "(4-1", "10")
    pending_ext(pair, "XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10")
    pending_ext(pair, "XPENDING", "s", "g", "IDLE", "0", "-", "+", "2", "c")
    pending_ext(pair, "XPENDING", "s", "g", "IDLE", "-5", "-", "+", "2", "nobody")
    pair.check("XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "10")
    pair.check("XAUTOCLAIM", "s", "g", "d", "0", "0", "COUNT", "1")
    pair.check("XAUTOCLAIM", "s", "g", "d", "0", "0", "COUNT", "1")
    pair.check("XAUTOCLAIM", "s", "g", "d", "0", "0")
    pair.check("XPENDING", "s", "g")
    pair.check("XGROUP", "DELCONSUMER", "s", "g", "d")
    pair.check("XPENDING", "s", "g")
    pair.check("XINFO", "GROUPS", "s")


def test_multi_and_type_changes(pair) -> None:
    fill(pair, n=2)
    pair.check("MULTI")
    pair.check("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    pair.check("XREAD", "BLOCK", "0", "STREAMS", "s", "0")
    pair.check("XADD", "s", "9-1", "a", "b")
    pair.check("EXEC")
    pair.check("TYPE", "s")
    pair.check("OBJECT", "ENCODING", "s")
    pair.check("XGROUP", "CREATE", "s", "g", "$")
    pair.check("MULTI")
    pair.check("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    pair.check("EXEC")


# -- keyspace notifications --------------------------------------------------------------------
@pytest.fixture(scope="module")
def notify_servers():
    a = start_redis("--notify-keyspace-events", "KEA")
    b = start_durakv("--notify-keyspace-events", "KEA")
    yield a.port, b.port
    a.stop()
    b.stop()


_STREAM_EVENTS = [
    ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "MAXLEN", "1", "2-1", "a", "1"), ("XADD", "s", "3-1", "a", "1"),
    ("XADD", "s", "NOMKSTREAM", "4-1", "a", "1"), ("XADD", "n", "NOMKSTREAM", "4-1", "a", "1"),
    ("XDEL", "s", "3-1"), ("XDEL", "s", "3-1"), ("XTRIM", "s", "MAXLEN", "0"), ("XTRIM", "s", "MAXLEN", "0"),
    ("XSETID", "s", "9-9"), ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "c"), ("XGROUP", "CREATECONSUMER", "s", "g", "c"),
    ("XADD", "s", "10-1", "a", "1"), ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"), ("XCLAIM", "s", "g", "c4", "0", "10-1"),
    ("XAUTOCLAIM", "s", "g", "c5", "0", "0"), ("XACK", "s", "g", "10-1"), ("XGROUP", "SETID", "s", "g", "0"),
    ("XGROUP", "DELCONSUMER", "s", "g", "c"), ("XGROUP", "DELCONSUMER", "s", "g", "c5"),
    ("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "DESTROY", "s", "g"),
]


def test_stream_keyspace_events(notify_servers) -> None:
    assert keyspace_events(notify_servers[1], _STREAM_EVENTS) == keyspace_events(notify_servers[0], _STREAM_EVENTS)


@pytest.mark.parametrize("proto", [2, 3])
def test_blocked_readers_and_key_deletion(redis_proc, durakv_proc, proto: int) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        a = Raw(proc.port)
        a.call("FLUSHALL")
        a.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        got = _blocked_read(proc, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                            [("DEL", "s")], proto)
        results.append(got)
        a.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        got = _blocked_read(proc, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                            [("SET", "s", "x")], proto)
        results.append(got)
        got = _blocked_read(proc, ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                            [("DEL", "s"), ("SET", "s", "x"), ("DEL", "s"), ("XADD", "s", "1-1", "a", "b")], proto)
        results.append(got)
        a.close()
    assert results[3:] == results[:3]


def test_node_model_matches_redis_random(pair) -> None:
    rng = random.Random(11)
    cmds = []
    ms = 1
    for i in range(1500):
        ms += rng.choice([0, 0, 1, 5, 1000, 70000])
        nf = rng.choice([1, 1, 2, 3])
        args: list[str] = ["XADD", "s", f"{ms}-*"]
        for _j in range(nf):
            f = rng.choice(["a", "b", "field", "123", "-7", str(rng.randrange(10**12)), "x" * rng.randrange(1, 300)])
            v = rng.choice(["1", "-1", "0", "007", str(rng.randrange(-10**15, 10**15)), "v" * rng.randrange(0, 900),
                            "9223372036854775808", "-9223372036854775808"])
            args += [f, v]
        cmds.append(args)
        if i % 97 == 0:
            cmds.append(["XTRIM", "s", "MAXLEN", "~", str(rng.randrange(0, 400))])
        if i % 89 == 0:
            cmds.append(["XDEL", "s", f"{ms}-0"])
    for srv in (pair.redis, pair.durakv):
        srv.send(b"".join(encode(*c) for c in cmds))
    a = pair.redis.read_raw(len(cmds))
    b = pair.durakv.read_raw(len(cmds))
    assert a == b
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MINID", "~", f"{ms // 2}-0")
    pair.check("XINFO", "STREAM", "s")


def test_reply_cache_never_serves_removed_entries(pair) -> None:
    pair.check("XADD", "s", "5-1", "a", "1")
    pair.check("XRANGE", "s", "-", "+")
    pair.check("XREAD", "STREAMS", "s", "0")
    pair.check("XTRIM", "s", "MAXLEN", "0")
    pair.check("XSETID", "s", "1-1")
    pair.check("XADD", "s", "5-1", "b", "2")
    pair.check("XRANGE", "s", "-", "+")
    pair.check("XREAD", "STREAMS", "s", "0")
    pair.check("XREVRANGE", "s", "+", "-", "COUNT", "1")


def test_more_group_edges(pair) -> None:
    pair.check("XADD", "s", "5-18446744073709551615", "a", "1")
    pair.check("XADD", "s", "5-*", "a", "1")
    pair.check("XADD", "s", "6-*", "a", "1")
    fill(pair, key="t", n=6)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XGROUP", "CREATE", "t", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "NOACK", "STREAMS", "s", "t", ">", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "t", "s", ">", "0")
    pair.check("XINFO", "GROUPS", "t")
    pair.check("XDEL", "t", "2-1", "3-1")
    pair.check("XAUTOCLAIM", "t", "g", "d", "0", "-", "COUNT", "1")
    pair.check("XAUTOCLAIM", "t", "g", "d", "0", "-", "COUNT", "1")
    pair.check("XAUTOCLAIM", "t", "g", "d", "0", "-", "COUNT", "5")
    pair.check("XCLAIM", "t", "g", "e", "0", "4-1", "IDLE", "-50", "JUSTID")
    pair.check("XCLAIM", "t", "g", "e", "0", "4-1", "TIME", "99999999999999", "RETRYCOUNT", "5", "JUSTID")
    pair.check("XPENDING", "t", "g")
    pair.check("XGROUP", "CREATECONSUMER", "nokey", "g", "c")
    pair.check("XGROUP", "DELCONSUMER", "nokey", "g", "c")
    pair.check("XGROUP", "DESTROY", "nokey", "g")
    pair.check("XGROUP", "SETID", "nokey", "g", "0")
    pair.check("XINFO", "GROUPS", "t")


# -- durability: acknowledged stream and consumer-group state survives kill -9 ------------------
def _snapshot_state(port: int) -> list:
    c = Raw(port, 2)
    out = [
        _strip_times(c.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "0")),
        c.parsed("XRANGE", "s", "-", "+"),
        c.parsed("XPENDING", "s", "g"),
        [x[:2] + x[3:] for x in c.parsed("XPENDING", "s", "g", "-", "+", "100")],
        c.parsed("XINFO", "GROUPS", "s"),
        c.parsed("PFCOUNT", "h"),
        c.parsed("GET", "h"),
        c.parsed("GEOPOS", "geo", "a", "b"),
    ]
    full = c.parsed("XINFO", "STREAM", "s", "FULL", "COUNT", "0")
    groups = dict(zip(full[::2], full[1::2], strict=True))[b"groups"]
    # delivery times and counts of every pending entry, exactly
    out.append([dict(zip(g[::2], g[1::2], strict=True))[b"pending"] for g in groups])
    c.close()
    return out


def test_stream_group_state_survives_kill9() -> None:
    p = start_durakv("--appendfsync", "always")
    try:
        c = Raw(p.port, 2)
        for i in range(1, 40):
            c.call("XADD", "s", "MAXLEN", "~", "30", "*", "f", str(i))
        c.call("XGROUP", "CREATE", "s", "g", "0")
        c.call("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7")
        c.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", "5", "STREAMS", "s", ">")
        c.call("XREADGROUP", "GROUP", "g", "c2", "COUNT", "3", "STREAMS", "s", ">")
        c.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")
        c.call("XREADGROUP", "GROUP", "g2", "c9", "NOACK", "STREAMS", "s", ">")
        first = c.parsed("XRANGE", "s", "-", "+", "COUNT", "2")
        c.call("XACK", "s", "g", first[0][0])
        c.call("XCLAIM", "s", "g", "c3", "0", first[1][0], "IDLE", "5000")
        c.call("XAUTOCLAIM", "s", "g", "c4", "0", "0", "COUNT", "2")
        c.call("XDEL", "s", first[1][0])
        c.call("PFADD", "h", *[str(i) for i in range(200)])
        c.call("PFCOUNT", "h")
        c.call("GEOADD", "geo", "13.361389", "38.115556", "a", "15.087269", "37.502669", "b")
        c.close()
        before = _snapshot_state(p.port)
        p.kill9()
        p.start()
        after = _snapshot_state(p.port)
        assert after == before
    finally:
        p.stop()


_WATCH_CASES = [
    ("XADD", "s", "9-1", "a", "1"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"), ("XACK", "s", "g", "1-1"),
    ("XCLAIM", "s", "g", "d", "0", "1-1"), ("XAUTOCLAIM", "s", "g", "e", "0", "0"),
    ("XGROUP", "CREATE", "s", "g2", "0"), ("XGROUP", "SETID", "s", "g", "0"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "z"), ("XGROUP", "DELCONSUMER", "s", "g", "c"),
    ("XGROUP", "DESTROY", "s", "g"), ("XDEL", "s", "1-1"), ("XTRIM", "s", "MAXLEN", "0"), ("XSETID", "s", "99-1"),
    ("XREAD", "STREAMS", "s", "0"), ("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"),
    ("PFCOUNT", "h"), ("PFADD", "h", "zzz"), ("PFDEBUG", "GETREG", "h"), ("PFDEBUG", "TODENSE", "h"),
    ("PFMERGE", "h", "h"), ("GEOADD", "geo", "1", "1", "m"), ("GEOADD", "geo", "1", "1", "new"),
    ("GEORADIUS", "geo", "1", "1", "10", "km", "STORE", "geo"),
]


@pytest.mark.parametrize("cmd", _WATCH_CASES, ids=lambda c: " ".join(c[:2]))
def test_which_commands_invalidate_watch(pair, cmd: tuple) -> None:
    key = "h" if cmd[0].startswith("PF") else "geo" if cmd[0].startswith("GEO") else "new" if "new" in cmd else "s"
    for srv in (pair.redis, pair.durakv):
        srv.call("XADD", "s", "1-1", "a", "1")
        srv.call("XGROUP", "CREATE", "s", "g", "0")
        srv.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
        srv.call("PFADD", "h", "a", "b")
        srv.call("GEOADD", "geo", "1", "1", "m")
    other_r, other_d = Raw(pair.redis.port), Raw(pair.durakv.port)
    pair.check("WATCH", key)
    assert other_r.call(*cmd) == other_d.call(*cmd)
    pair.check("MULTI")
    pair.check("PING")
    pair.check("EXEC")
    other_r.close()
    other_d.close()


def test_entriesread_beyond_added(pair) -> None:
    fill(pair, n=3)
    pair.check("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "100")
    pair.check("XGROUP", "CREATE", "s", "g2", "2-1", "ENTRIESREAD", "0")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "100")
    pair.check("XGROUP", "SETID", "s", "g2", "1-1", "ENTRIESREAD", "-1")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">")
    pair.check("XINFO", "GROUPS", "s")
    pair.check("XADD", "s", "9-9", "a", "b")
    pair.check("XINFO", "GROUPS", "s")


def test_trim_option_parsing(pair) -> None:
    fill(pair, n=5)
    for args in [
        ("MAXLEN", "~", "3", "LIMIT", "5", "9-1"), ("LIMIT", "5", "MAXLEN", "~", "3", "10-1"),
        ("MAXLEN",), ("MAXLEN", "~"), ("MAXLEN", "~", "11-1"), ("MAXLEN", "=", "4", "LIMIT", "0", "12-1"),
        ("maxlen", "4", "13-1"), ("MINID", "~", "2", "LIMIT", "0", "14-1"), ("MINID", "=", "(3", "15-1"),
        ("MINID", "3-x", "16-1"), ("NOMKSTREAM", "NOMKSTREAM", "17-1"), ("MAXLEN", "1", "MAXLEN", "2", "18-1"),
        ("LIMIT", "x", "19-1"), ("LIMIT", "-1", "20-1"), ("LIMIT", "1", "21-1"), ("LIMIT", "0", "22-1"),
    ]:
        pair.check("XADD", "s", *args, "f", "v")
    # refused before an ID is generated: the same replies from both
    for args in [("MAXLEN", "~", "007", "*", "f", "v"), ("MAXLEN", "=", "-1", "*", "f", "v"),
                 ("maxlen", "~", "x", "*", "f", "v"), ("MaxLen", "=", "", "*", "f", "v"),
                 ("MAXLEN", "~", "99999999999999999999", "*", "f", "v"), ("MAXLEN", "~", "+5", "*", "f", "v"),
                 ("MAXLEN", "~", "5", "*", "f", "v", "w"), ("MAXLEN", "=", "5", "*", "f")]:
        pair.check("XADD", "s", *args)
    pair.check("XRANGE", "s", "-", "+")
    for args in [("MAXLEN", "~", "1", "LIMIT", "1"), ("MAXLEN", "=", "2"), ("MINID", "~", "10"), ("MAXLEN", "~"),
                 ("MAXLEN", "2", "LIMIT"), ("MAXLEN", "2", "EXTRA"), ("MINID", "x"), ("MAXLEN", "-1"),
                 ("MAXLEN", "9223372036854775808")]:
        pair.check("XTRIM", "s", *args)
    pair.check("XLEN", "s")


def test_copy_and_rename_keep_groups(pair) -> None:
    fill(pair, n=4)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">")
    pair.check("COPY", "s", "s2")
    pair.check("XADD", "s2", "9-1", "a", "b")
    pair.check("XACK", "s2", "g", "1-1")
    pair.check("XPENDING", "s", "g")
    pair.check("XPENDING", "s2", "g")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XINFO", "STREAM", "s2")
    pair.check("RENAME", "s2", "s3")
    pair.check("XINFO", "GROUPS", "s3")
    pair.check("TYPE", "s3")


def test_empty_pel_summary_and_info(pair) -> None:
    pair.check("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    pair.check("XPENDING", "s", "g")
    pair.check("XPENDING", "s", "g", "-", "+", "10")
    pair.check("XINFO", "CONSUMERS", "s", "g")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XAUTOCLAIM", "s", "g", "c", "0", "0")
    pair.check("XCLAIM", "s", "g", "c", "0", "1-1")
    pair.check("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0")
    a = pair.redis.parsed("XINFO", "CONSUMERS", "s", "g")
    b = pair.durakv.parsed("XINFO", "CONSUMERS", "s", "g")
    assert _strip_idle(a) == _strip_idle(b) and len(a) == 1


def _strip_idle(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: x for k, x in v.items() if k != b"idle"}
    return [x[:-1] if isinstance(x, list) else _strip_idle(x) for x in v]


def test_getkeys_like_redis(pair) -> None:
    for args in [("XREAD", "COUNT", "1", "STREAMS", "a", "b", "1", "2"), ("XREAD", "STREAMS", "a", "b", "c"),
                 ("XREADGROUP", "GROUP", "g", "streams", "STREAMS", "s", ">", ">"),
                 ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", ">", ">"),
                 ("XADD", "k", "*", "f", "v"), ("XINFO", "STREAM", "k"), ("XGROUP", "CREATE", "k", "g", "$")]:
        pair.check("COMMAND", "GETKEYS", *args)


def test_block_refused_in_scripts(pair) -> None:
    pair.check("EVAL", "return redis.call('XREAD','BLOCK','0','STREAMS','s','$')", "0")
    pair.check("EVAL", "return redis.call('xreadgroup','GROUP','g','c','BLOCK','0','STREAMS','s','>')", "0")
    pair.check("EVAL", "return redis.call('XADD','s','1-1','a','b')", "0")
    pair.check("EVAL", "return redis.call('XREAD','STREAMS','s','0')", "0")


def test_rax_nodes_after_removing_middle_nodes(pair) -> None:
    cmds = [["XADD", "s", f"{i * 1000 + (i % 7)}-{i % 3}", "f", "v"] for i in range(1, 701)]
    for srv in (pair.redis, pair.durakv):
        srv.send(b"".join(encode(*c) for c in cmds))
    assert pair.redis.read_raw(len(cmds)) == pair.durakv.read_raw(len(cmds))
    pair.check("XINFO", "STREAM", "s")
    pair.check("XRANGE", "s", "-", "+", "COUNT", "5")
    pair.check("XRANGE", "s", "-", "+")
    pair.check("XREVRANGE", "s", "+", "-")
    pair.check("XREAD", "STREAMS", "s", "0")
    ids = [c[2] for c in cmds]
    pair.check("XDEL", "s", *ids[100:200])
    pair.check("XINFO", "STREAM", "s")
    pair.check("XDEL", "s", *ids[400:500])
    pair.check("XDEL", "s", *ids[650:700])
    pair.check("XINFO", "STREAM", "s")
    pair.check("XTRIM", "s", "MAXLEN", "~", "150")
    pair.check("XINFO", "STREAM", "s")
    pair.check("XADD", "s", "99999999-0", "f", "v")
    pair.check("XINFO", "STREAM", "s")


def test_dump_restore_between_servers(pair) -> None:
    for srv in (pair.redis, pair.durakv):
        for i in range(1, 260):
            srv.send(encode("XADD", "s", f"{i}-1", "f", str(i), "g", "x" * (i % 40)))
        srv.read_raw(259)
        srv.call("XDEL", "s", "5-1", "150-1")
        srv.call("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "0")
        srv.call("XREADGROUP", "GROUP", "g", "c", "COUNT", "7", "STREAMS", "s", ">")
    payload = pair.redis.parsed("DUMP", "s")
    assert pair.durakv.parsed("RESTORE", "s2", "0", payload) == b"OK"
    back = pair.durakv.parsed("DUMP", "s")
    assert pair.redis.parsed("RESTORE", "s3", "0", back) == b"OK"
    full = ("XINFO", "STREAM", "{}", "FULL", "COUNT", "0")
    want = _strip_times(pair.redis.parsed(*[a.format("s") for a in full]))
    assert _strip_times(pair.durakv.parsed(*[a.format("s2") for a in full])) == want
    assert _strip_times(pair.redis.parsed(*[a.format("s3") for a in full])) == _strip_times(
        pair.durakv.parsed(*[a.format("s") for a in full]))
    pair.check("XRANGE", "s", "-", "+", "COUNT", "20")


def _legacy_stream_payload() -> bytes:
    """A DUMP payload as Redis 6.2 writes it (RDB 9, RDB_TYPE_STREAM_LISTPACKS: no
    entries-added, max-deleted or first ID, no group read counters): entries 5-0 and 6-0,
    group g1 at 5-0 with 5-0 pending for c11, group g2 at 0-0."""
    def sid(ms: int, seq: int) -> bytes:
        return struct.pack(">QQ", ms, seq)

    node = lp_build([lp_int_entry(2), lp_int_entry(0), lp_int_entry(1), lp_entry(b"data"), lp_int_entry(0),
                     lp_int_entry(2), lp_int_entry(0), lp_int_entry(0), lp_entry(b"e"), lp_int_entry(4),
                     lp_int_entry(2), lp_int_entry(1), lp_int_entry(0), lp_entry(b"f"), lp_int_entry(4)])
    t = struct.pack("<q", 1_600_000_000_000)
    body = (enc_len(1) + enc_string(sid(5, 0), False) + enc_string(node, False) + enc_len(2)
            + enc_len(6) + enc_len(0) + enc_len(2)
            + enc_string(b"g1") + enc_len(5) + enc_len(0) + enc_len(1) + sid(5, 0) + t + enc_len(1)
            + enc_len(1) + enc_string(b"c11") + t + enc_len(1) + sid(5, 0)
            + enc_string(b"g2") + enc_len(0) + enc_len(0) + enc_len(0) + enc_len(0))
    data = bytes((15,)) + body + struct.pack("<H", 9)
    return data + struct.pack("<Q", crc64(data))


def test_restore_legacy_stream_estimates_entries_read(pair) -> None:
    # Redis 7.0 loads a pre-7.0 stream with entries-added = length and each group's read
    # counter estimated from its last ID (streamEstimateDistanceFromFirstEverEntry)
    pair.check("RESTORE", "x", "0", _legacy_stream_payload())
    pair.check("XINFO", "STREAM", "x", "FULL")
    pair.check("XINFO", "GROUPS", "x")
    pair.check("XADD", "x", "7-0", "data", "g")
    pair.check("XREADGROUP", "GROUP", "g2", "c", "COUNT", "1", "STREAMS", "x", ">")
    pair.check("XINFO", "GROUPS", "x")


def test_container_arity_and_help_errors(pair) -> None:
    for args in [("XGROUP", "HELP", "x"), ("XINFO", "STREAM"), ("XINFO", "GROUPS"), ("XINFO", "GROUPS", "a", "b"),
                 ("XINFO", "CONSUMERS", "a"), ("XGROUP", "DESTROY", "a"), ("XGROUP", "SETID", "a", "g"),
                 ("XGROUP", "CREATECONSUMER", "a", "g"), ("XGROUP",), ("XINFO",), ("xinfo", "help"),
                 ("XGROUP", "SETID", "a", "g", "0", "ENTRIESREAD"), ("XINFO", "STREAM", "a", "FULL", "COUNT", "-1")]:
        pair.check(*args)
    fill(pair, n=12)
    pair.check("XINFO", "STREAM", "s", "FULL", "COUNT", "-1")
    pair.check("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD")
    pair.check("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD")
    pair.check("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "3", "X")


def test_rewind_reassigns_pending_entries(pair) -> None:
    fill(pair, n=4)
    pair.check("XGROUP", "CREATE", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "0")
    pair.check("XGROUP", "SETID", "s", "g", "0")
    pair.check("XREADGROUP", "GROUP", "g", "b", "COUNT", "2", "STREAMS", "s", ">")
    pair.check("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "s", ">")
    pending_ext(pair, "XPENDING", "s", "g", "-", "+", "10")
    pair.check("XPENDING", "s", "g")
    pair.check("XINFO", "GROUPS", "s")


def _random_stream_cmd(rng: random.Random, state: dict) -> tuple:
    key = rng.choice(["s", "s", "t"])
    ms = state["ms"]
    rid = f"{rng.randrange(1, ms + 2)}-{rng.randrange(0, 3)}"
    group = rng.choice(["g1", "g2"])
    cons = rng.choice(["c1", "c2", "c3"])
    r = rng.randrange(20)
    if r < 5:
        state["ms"] += rng.choice([0, 1, 2])
        opts = rng.choice([[], [], ["MAXLEN", "~", str(rng.randrange(0, 30))], ["MAXLEN", str(rng.randrange(0, 30))],
                           ["MINID", "~", f"{max(1, ms - 20)}"], ["NOMKSTREAM"]])
        return ("XADD", key, *opts, rng.choice([f"{state['ms']}-*", f"{state['ms']}-{rng.randrange(5)}"]),
                "f", str(rng.randrange(100)))
    if r == 5:
        return ("XDEL", key, rid, f"{rng.randrange(1, ms + 2)}-0")
    if r == 6:
        return ("XTRIM", key, rng.choice(["MAXLEN", "MINID"]), rng.choice(["~", "="]), str(rng.randrange(0, ms + 1)))
    if r == 7:
        return ("XRANGE", key, rng.choice(["-", rid, "(" + rid]), rng.choice(["+", rid]), "COUNT", str(rng.randrange(0, 6)))
    if r == 8:
        return ("XREVRANGE", key, "+", rng.choice(["-", rid]), "COUNT", str(rng.randrange(1, 6)))
    if r == 9:
        return ("XGROUP", "CREATE", key, group, rng.choice(["0", "$", rid]), "MKSTREAM")
    if r == 10:
        return ("XREADGROUP", "GROUP", group, cons, "COUNT", str(rng.randrange(1, 4)),
                *(["NOACK"] if rng.random() < 0.2 else []), "STREAMS", key, rng.choice([">", ">", "0", rid]))
    if r == 11:
        return ("XACK", key, group, rid, f"{rng.randrange(1, ms + 2)}-0")
    if r == 12:
        return ("XCLAIM", key, group, cons, "0", rid, f"{rng.randrange(1, ms + 2)}-1", "JUSTID",
                *(["FORCE"] if rng.random() < 0.3 else []))
    if r == 13:
        return ("XAUTOCLAIM", key, group, cons, "0", rng.choice(["0", rid]), "COUNT", str(rng.randrange(1, 5)), "JUSTID")
    if r == 14:
        return ("XPENDING", key, group)
    if r == 15:
        return ("XINFO", "GROUPS", key)
    if r == 16:
        return ("XINFO", "STREAM", key)
    if r == 17:
        return ("XGROUP", rng.choice(["SETID", "DELCONSUMER", "CREATECONSUMER", "DESTROY"]), key, group,
                rng.choice(["0", "$", cons, rid]))[: 4 + (0 if rng.random() < 0.2 else 1)]
    if r == 18:
        return ("XREAD", "COUNT", str(rng.randrange(1, 5)), "STREAMS", "s", "t", rid, rng.choice(["0", "$"]))
    return ("XLEN", key)


def test_random_stream_commands_match_redis(pair) -> None:
    rng = random.Random(1234)
    state = {"ms": 1}
    pair.check("CONFIG", "SET", "stream-node-max-entries", "5")
    try:
        for _ in range(700):
            cmd = _random_stream_cmd(rng, state)
            pair.check(*cmd)
        pair.check("XINFO", "STREAM", "s")
        pair.check("XINFO", "STREAM", "t")
    finally:
        pair.check("CONFIG", "SET", "stream-node-max-entries", "100")


@pytest.mark.parametrize("proto", [2, 3])
def test_blocked_group_reader_waits_for_new_entries(redis_proc, durakv_proc, proto: int) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        a = Raw(proc.port)
        a.call("FLUSHALL")
        a.call("XADD", "s", "1-1", "a", "1")
        a.call("XGROUP", "CREATE", "s", "g", "$")
        got = _blocked_read(proc, ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"),
                            [("XGROUP", "SETID", "s", "g", "0"), ("XSETID", "s", "5-0"), ("XADD", "s", "6-1", "b", "2")],
                            proto)
        results.append(got)
        results.append(a.call("XINFO", "GROUPS", "s"))
        a.close()
    assert results[2:] == results[:2]


@pytest.mark.parametrize("proto", [2, 3])
def test_blocked_reader_on_recreated_stream(redis_proc, durakv_proc, proto: int) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        a = Raw(proc.port)
        a.call("FLUSHALL")
        a.call("XADD", "s", "1-1", "a", "1")
        results.append(_blocked_read(proc, ("XREAD", "BLOCK", "0", "STREAMS", "s", "$"),
                                     [("DEL", "s"), ("XADD", "s", "1-1", "x", "y"), ("XADD", "s", "2-1", "b", "2")],
                                     proto))
        a.close()
    assert results[1] == results[0]


@pytest.mark.parametrize("mode", ["TIMEOUT", "ERROR"])
def test_client_unblock_blocked_xread(redis_proc, durakv_proc, mode: str) -> None:
    results = []
    for proc in (redis_proc, durakv_proc):
        c = Raw(proc.port, 3)
        w = Raw(proc.port)
        w.call("FLUSHALL")
        cid = c.parsed("CLIENT", "ID")
        c.send(encode("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
        time.sleep(0.05)
        results.append(w.call("CLIENT", "UNBLOCK", cid, mode))
        results.append(c.read_raw())
        c.close()
        w.close()
    assert results[2:] == results[:2]


def _hits_misses(raw: Any) -> tuple[int, int]:
    info = raw.parsed("INFO", "stats")
    text = info.decode() if isinstance(info, bytes) else str(info)
    vals = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(vals["keyspace_hits"]), int(vals["keyspace_misses"])


_STATS_CMDS = [
    ("XADD", "s", "1-1", "a", "1"), ("XADD", "n1", "NOMKSTREAM", "1-1", "a", "1"), ("XLEN", "s"), ("XLEN", "n2"),
    ("XRANGE", "s", "-", "+"), ("XRANGE", "n3", "-", "+"), ("XDEL", "s", "9-9"), ("XDEL", "n4", "9-9"),
    ("XTRIM", "s", "MAXLEN", "5"), ("XTRIM", "n5", "MAXLEN", "5"), ("XSETID", "s", "5-5"), ("XSETID", "n6", "1-1"),
    ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "n7", "g", "0"), ("XREAD", "STREAMS", "s", "n8", "0", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"), ("XACK", "s", "g", "1-1"), ("XACK", "n9", "g", "1-1"),
    ("XPENDING", "s", "g"), ("XCLAIM", "s", "g", "c", "0", "1-1"), ("XAUTOCLAIM", "s", "g", "c", "0", "0"),
    ("XINFO", "STREAM", "s"), ("XINFO", "GROUPS", "n10"),
    ("PFADD", "h", "a"), ("PFADD", "h", "b"), ("PFCOUNT", "h"), ("PFCOUNT", "h", "n11"), ("PFMERGE", "h2", "h", "n12"),
    ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "ENCODING", "n13"),
    ("GEOADD", "geo", "1", "1", "m"), ("GEOADD", "geo", "1", "1", "m2"), ("GEOADD", "geo2", "XX", "1", "1", "m"),
    ("GEODIST", "geo", "m", "m2"), ("GEODIST", "n14", "m", "m2"), ("GEOPOS", "geo", "m"), ("GEOHASH", "n15", "m"),
    ("GEORADIUS", "geo", "1", "1", "10", "km", "STORE", "d"), ("GEOSEARCH", "n16", "FROMLONLAT", "1", "1", "BYRADIUS",
                                                                  "1", "km"),
    ("GEOSEARCHSTORE", "d2", "geo", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
]


def test_keyspace_hits_and_misses_like_redis(pair) -> None:
    deltas = []
    for srv in (pair.redis, pair.durakv):
        out = []
        for cmd in _STATS_CMDS:
            h0, m0 = _hits_misses(srv)
            srv.call(*cmd)
            h1, m1 = _hits_misses(srv)
            out.append((cmd[0], cmd[1], h1 - h0, m1 - m0))
        deltas.append(out)
    assert deltas[1] == deltas[0]


def test_xtrim_parses_arguments_before_the_key(pair) -> None:
    pair.check("SET", "str", "x")
    pair.check("XTRIM", "str", "MAXLEN", "abc")
    pair.check("XTRIM", "str", "MAXLEN", "1")
    pair.check("XTRIM", "nokey", "MAXLEN", "abc")
    pair.check("XTRIM", "nokey", "FOO", "1")


def test_xreadgroup_logs_the_consumer_creation_only_when_no_xclaim_creates_it() -> None:
    # Redis propagates XGROUP CREATECONSUMER for NOACK reads only: the XCLAIMs of a normal
    # read create the consumer on replay.  A read that claims nothing still logs it here,
    # so that the consumer survives a restart.
    h = Harness()
    h("XADD", "s", "1-1", "f", "v")
    h("XGROUP", "CREATE", "s", "g", "0")
    h.effects()
    h("XREADGROUP", "GROUP", "g", "reader", "STREAMS", "s", ">")
    assert [e[0].upper() for e in h.effects()] == [b"MULTI", b"XCLAIM", b"XGROUP", b"EXEC"]  # XCLAIM, SETID
    h("XADD", "s", "2-1", "f", "v")
    h.effects()
    h("XREADGROUP", "GROUP", "g", "quiet", "NOACK", "STREAMS", "s", ">")
    assert [e[:2] for e in h.effects()] == [[b"MULTI"], [b"XGROUP", b"CREATECONSUMER"], [b"XGROUP", b"SETID"], [b"EXEC"]]
    h("XREADGROUP", "GROUP", "g", "late", "STREAMS", "s", "0")
    assert [e[:2] for e in h.effects()] == [[b"XGROUP", b"CREATECONSUMER"]]
