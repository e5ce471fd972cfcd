"""Bitmap commands (durakv/commands/bitmaps.py) against redis-server, byte for byte.

Fixed cases for every option and error, plus seeded random differential runs over
binary values for BITPOS/BITCOUNT ranges, BITFIELD programs and BITOP.  No test
allocates near the 512MB limit (the limits are checked with GETBIT/SETBIT errors).
"""

from __future__ import annotations

import random
import time

import pytest

from durakv.types.bitfield import (
    OVERFLOW_SAT,
    OVERFLOW_WRAP,
    check_signed_overflow,
    check_unsigned_overflow,
    get_unsigned,
    set_unsigned,
    to_int64,
)
from tests.commands.test_strings import Harness, make_nonstring, run
from tests.support.notify import keyspace_events as _events
from tests.support.procs import start_durakv, start_redis
from tests.support.stats import dirty_deltas


def test_setbit_getbit(pair):
    run(pair, """
        SETBIT b 7 1
        SETBIT b 7 1
        GET b
        SETBIT b 7 0
        SETBIT b 0 1
        GET b
        SETBIT b 100 0
        GET b
        STRLEN b
        GETBIT b 0
        GETBIT b 7
        GETBIT b 100
        GETBIT b 101
        GETBIT b 99999
        GETBIT nokey 0
        SETBIT b -1 1
        SETBIT b 1 2
        SETBIT b 1 -1
        SETBIT b 1 x
        SETBIT b x 1
        SETBIT b 1.5 1
        SETBIT b 4294967296 0
        SETBIT b 9223372036854775807 1
        SETBIT b 99999999999999999999 1
        SETBIT b "" 1
        GETBIT b x
        GETBIT b -1
        GETBIT b 4294967296
        GETBIT b 4294967295
        GETBIT b 4294967288
        SETBIT b 1
        GETBIT b
        SET s A
        SETBIT s 6 1
        GET s
        GETBIT s 1
        SET n 5
        GETBIT n 5
        GETBIT n 7
        SETBIT n 6 1
        GET n
    """)


def test_bitcount(pair):
    pair.check("SET", "s", "foobar")
    pair.check("SET", "e", "")
    pair.check("SET", "bin", b"\xff\x00\xaa\x0f\xf0\x01\x80")
    for key in ("s", "e", "bin", "nokey"):
        pair.check("BITCOUNT", key)
        for s, e in [(0, -1), (1, 1), (-2, -1), (-1, -2), (0, 0), (5, 30), (-100, 100), (3, 2), (7, 7),
                     (0, 100), (-1, -1), (-56, -1), (1, 54), (9, 9)]:
            pair.check("BITCOUNT", key, s, e)
            pair.check("BITCOUNT", key, s, e, "BIT")
            pair.check("BITCOUNT", key, s, e, "byte")
    run(pair, """
        BITCOUNT nokey a b
        BITCOUNT nokey 1
        BITCOUNT nokey 0 1 foo
        BITCOUNT s 1
        BITCOUNT s 1 a
        BITCOUNT s a 1
        BITCOUNT s 0 1 foo
        BITCOUNT s -1 -2 foo
        BITCOUNT s 1 2 3 4
        BITCOUNT s 0 1 BIT extra
        BITCOUNT s 0 9223372036854775807 BIT
        BITCOUNT s -9223372036854775808 -1 BIT
        BITCOUNT
    """)


def test_bitpos(pair):
    pair.check("SET", "x", b"\xff\xf0\x00")
    pair.check("SET", "z", b"\x00\x00\x00")
    pair.check("SET", "o", b"\xff\xff")
    pair.check("SET", "e", "")
    for key in ("x", "z", "o", "e", "nokey"):
        for bit in (0, 1):
            pair.check("BITPOS", key, bit)
            for s, e in [(0, -1), (1, 1), (2, -1), (-1, -1), (3, 2), (0, 0), (-100, 100), (1, 100),
                         (7, 15), (3, 11), (12, 15), (0, 11), (16, 23), (4, 4), (9, 13)]:
                pair.check("BITPOS", key, bit, s)
                pair.check("BITPOS", key, bit, s, e)
                pair.check("BITPOS", key, bit, s, e, "BIT")
                pair.check("BITPOS", key, bit, s, e, "BYTE")
    run(pair, """
        BITPOS nokey 1 a
        BITPOS nokey 2
        BITPOS x 2
        BITPOS x -1
        BITPOS x a
        BITPOS x 1 a
        BITPOS x 1 0 a
        BITPOS x 1 0 x foo
        BITPOS x 1 x 1 foo
        BITPOS x 1 0 -1 foo
        BITPOS nokey 0 0 -1 foo
        BITPOS x 0 1 2 3 4
        BITPOS nokey 0 1 2 3 4
        BITPOS x
    """)


def test_bitcount_bitpos_random(pair):
    rnd = random.Random(5)
    for _ in range(60):
        val = bytes(rnd.choice([0, 255, rnd.randrange(256)]) for _ in range(rnd.randint(1, 6)))
        pair.check("SET", "k", val)
        for _ in range(4):
            bit = rnd.randint(0, 1)
            s, e = rnd.randint(-60, 60), rnd.randint(-60, 60)
            unit = rnd.choice(["BIT", "BYTE"])
            form = rnd.randint(0, 3)
            args = [["BITPOS", "k", bit], ["BITPOS", "k", bit, s], ["BITPOS", "k", bit, s, e],
                    ["BITPOS", "k", bit, s, e, unit]][form]
            pair.check(*args)
            pair.check("BITCOUNT", "k", s // 8, e // 8)
            pair.check("BITCOUNT", "k", s, e, unit)


def test_bitop(pair):
    pair.check("SET", "a", b"\xff\x0f\xaa")
    pair.check("SET", "b", b"\x0f\xf0")
    pair.check("SET", "c", b"\x01")
    run(pair, """
        BITOP AND d a b
        GET d
        BITOP or d a b c
        GET d
        BITOP XOR d a b c
        GET d
        BITOP Xor d a a
        GET d
        BITOP AND d a nokey
        GET d
        BITOP OR d nokey a
        GET d
        BITOP NOT d a
        GET d
        BITOP NOT d c
        GET d
        BITOP NOT d nokey
        EXISTS d
        BITOP AND d nokey nokey2
        EXISTS d
        SET d x
        BITOP OR d nokey
        EXISTS d
        BITOP NOT d a b
        BITOP NOT d
        BITOP FOO d a
        BITOP AN d a
        BITOP AND d
        BITOP AND a a b
        GET a
        BITOP OR a a
        GET a
        SET e ""
        BITOP AND d e
        EXISTS d
        BITOP NOT d e
        EXISTS d
    """)


def test_bitop_ttl_dropped(pair):
    run(pair, """
        SET src ab
        SET dst old PX 60
        BITOP OR dst src
        GET dst
    """)
    time.sleep(0.07)
    pair.check("GET", "dst")


def test_bitfield_errors(pair):
    pair.check("SET", "bf", b"\x12\x34")
    run(pair, """
        BITFIELD bf
        BITFIELD_RO bf
        BITFIELD bf get u64 0
        BITFIELD bf get i65 0
        BITFIELD bf get i0 0
        BITFIELD bf get u0 0
        BITFIELD bf get x8 0
        BITFIELD bf get i 0
        BITFIELD bf get U8 0
        BITFIELD bf get I8 0
        BITFIELD bf get i-1 0
        BITFIELD bf get i08 0
        BITFIELD bf get u8 -1
        BITFIELD bf get u8 #-1
        BITFIELD bf get u8 #
        BITFIELD bf get u8 ##1
        BITFIELD bf get u8 1.5
        BITFIELD bf get u8 4294967296
        BITFIELD bf get u8 #536870912
        BITFIELD bf get u8 4294967295
        BITFIELD bf get u8 #536870911
        BITFIELD bf get u8 #2305843009213693953
        BITFIELD bf get u8 #2305843009213693952
        BITFIELD bf overflow foo
        BITFIELD bf overflow
        BITFIELD bf foo
        BITFIELD bf get u8
        BITFIELD bf get
        BITFIELD bf set u8 0
        BITFIELD bf set u8 0 x
        BITFIELD bf set u8 0 1.5
        BITFIELD bf set u8 0 9223372036854775808
        BITFIELD bf incrby u8 0
        BITFIELD bf incrby u8 0 x
        BITFIELD bf get u8 0 overflow
        BITFIELD bf get u8 0 foo
        BITFIELD bf GET u8 0 OVERFLOW SAT
        BITFIELD bf get u8 0 get x8 0
        BITFIELD bf set u8 0 1 get u64 0
        BITFIELD_RO bf get u8 0 overflow sat
        BITFIELD_RO bf get u8 0 overflow sat incrby u8 0 1
        BITFIELD_RO bf set u8 0 1
        BITFIELD_RO bf get u8 0 get u4 4 get i16 #1
        GET bf
    """)


def test_bitfield_ops(pair):
    pair.check("SET", "s", "foobar")
    run(pair, """
        BITFIELD s incrby i5 3 7 incrby i5 3 7 overflow sat incrby i5 3 7 overflow fail incrby i5 3 7 get u4 0
        BITFIELD s set i13 17 -4000 get i13 17
        GET s
        BITFIELD s incrby u2 100 1 overflow sat incrby u2 102 5 incrby u2 102 -5
        BITFIELD s overflow wrap incrby u2 102 -5 incrby i64 2 -9223372036854775808
        GET s
        BITFIELD nokey get i5 3 get u63 100
        BITFIELD_RO nokey get i5 3 get u63 100
        EXISTS nokey
        BITFIELD bf overflow sat set i8 0 -9223372036854775808
        BITFIELD bf overflow wrap set i8 0 -9223372036854775808
        BITFIELD bf overflow sat set i8 0 9223372036854775807
        BITFIELD bf2 overflow fail set u8 0 -1
        EXISTS bf2
        GET bf2
        BITFIELD bf2 overflow sat set u8 0 -1
        BITFIELD bf2 overflow wrap set u8 0 -1
        BITFIELD bf3 overflow sat incrby i64 0 9223372036854775807 incrby i64 0 1
        BITFIELD bf3 overflow wrap incrby i64 0 1
        BITFIELD bf3 overflow fail incrby i64 0 -1 incrby i64 0 -9223372036854775808
        BITFIELD bf3 get i64 0 get u63 0 get u63 1 get i64 1
        BITFIELD bf4 incrby u63 0 -1
        BITFIELD bf4 overflow sat incrby u63 0 -1
        BITFIELD bf4 get u8 #1 set u8 #2 200 get u8 #2 get u8 16
        BITFIELD bf4 get u8 #2305843009213693953
        BITFIELD bf5 set u1 0 1 set u1 1 1 set i1 2 -1 set i1 3 1 get u4 0 get i4 0
        BITFIELD bf5 overflow sat incrby i1 4 -5 incrby u1 5 5 overflow fail incrby i1 6 1
        GET bf5
        BITFIELD bf6 set i64 60 -1 get i64 60 get u63 61 get u8 #8
        GET bf6
        STRLEN bf6
    """)


def test_bitfield_random(pair):
    rnd = random.Random(9)
    for _ in range(80):
        ops: list[object] = []
        for _ in range(rnd.randint(1, 5)):
            typ = rnd.choice("iu") + str(rnd.randint(1, 64))
            if typ == "u64":
                typ = "u63"
            off = rnd.choice([str(rnd.randint(0, 70)), "#" + str(rnd.randint(0, 5))])
            kind = rnd.randint(0, 3)
            val = str(rnd.choice([rnd.randint(-300, 300), rnd.randint(-2**63, 2**63 - 1)]))
            if kind == 0:
                ops += ["GET", typ, off]
            elif kind == 1:
                ops += ["SET", typ, off, val]
            elif kind == 2:
                ops += ["INCRBY", typ, off, val]
            else:
                ops += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
        pair.check("BITFIELD", "k", *ops)
        pair.check("GET", "k")
        pair.check("BITOP", rnd.choice(["AND", "OR", "XOR"]), "d", "k", "k2", "nokey")
        pair.check("GET", "d")
        pair.check("SETRANGE", "k2", rnd.randint(0, 8), rnd.randbytes(3))


def test_bitmaps_wrongtype(pair):
    make_nonstring(pair, "h")
    for args in (
        ("SETBIT", "h", "0", "1"), ("GETBIT", "h", "0"), ("BITCOUNT", "h"), ("BITCOUNT", "h", "1"),
        ("BITCOUNT", "h", "a", "b"), ("BITPOS", "h", "1"), ("BITPOS", "h", "1", "a"),
        ("BITOP", "AND", "d", "h"), ("BITOP", "OR", "d", "nokey", "h"), ("BITFIELD", "h", "GET", "u8", "0"),
        ("BITFIELD", "h", "SET", "u8", "0", "1"), ("BITFIELD", "h"), ("BITFIELD_RO", "h", "GET", "u8", "0"),
        ("BITFIELD", "h", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000"),
    ):
        pair.check(*args)
    # errors found while parsing come before the type check
    run(pair, """
        SETBIT h -1 1
        SETBIT h 0 2
        GETBIT h x
        BITPOS h 2
        BITFIELD h get x8 0
        BITFIELD_RO h set u8 0 1
    """)
    # BITOP overwrites a destination of another type
    pair.check("SET", "src", "abc")
    pair.check("BITOP", "NOT", "h", "src")
    pair.check("GET", "h")


@pytest.fixture(scope="module")
def notify_servers():
    a = start_redis("--notify-keyspace-events", "KEAmn")
    b = start_durakv("--notify-keyspace-events", "KEAmn")
    yield a.port, b.port
    a.stop()
    b.stop()


def test_keyspace_events_bitmaps(notify_servers):
    cmds = [
        ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "100", "0"),
        ("BITFIELD", "b", "SET", "u8", "0", "1"), ("BITFIELD", "b", "SET", "u8", "0", "1"),
        ("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"), ("BITFIELD", "b", "GET", "u8", "0"),
        ("BITOP", "NOT", "d", "b"), ("BITOP", "AND", "d", "nokey"), ("BITOP", "AND", "d", "nokey"),
        ("BITFIELD_RO", "b", "GET", "u8", "0"), ("GETBIT", "m1", "0"), ("BITCOUNT", "m1"), ("BITPOS", "m1", "1"),
        ("BITOP", "OR", "d2", "m1", "b", "m2"), ("BITFIELD", "m1", "GET", "u8", "0"), ("BITFIELD_RO", "m1", "GET", "u8", "0"),
        ("SETBIT", "m3", "0", "0"), ("BITFIELD", "m4", "SET", "u8", "0", "0"),
    ]
    a = _events(notify_servers[0], cmds)
    b = _events(notify_servers[1], cmds)
    assert b == a


def test_bitfield_arithmetic_unit():
    buf = bytearray(3)
    set_unsigned(buf, 3, 7, 0x7F)
    assert buf == bytearray(b"\x1f\xc0\x00")
    assert get_unsigned(buf, 3, 7) == 0x7F
    assert get_unsigned(b"\xff", 4, 8) == 0xF0  # zero past the end
    assert to_int64(2**63) == -(2**63)
    assert check_unsigned_overflow(250, 10, 8, OVERFLOW_WRAP) == (1, 4)
    assert check_unsigned_overflow(250, 10, 8, OVERFLOW_SAT) == (1, 255)
    assert check_unsigned_overflow(5, -10, 8, OVERFLOW_SAT) == (-1, 0)
    assert check_signed_overflow(120, 10, 8, OVERFLOW_WRAP) == (1, -126)
    assert check_signed_overflow(-(2**63), 0, 8, OVERFLOW_SAT) == (1, 127)  # Redis's wrap-around
    assert check_signed_overflow(3, 4, 8, OVERFLOW_SAT) == (0, 0)


def test_dirty_counts_only_changes(pair):
    """SETBIT/BITFIELD count changes only (and BITFIELD one per changed field), like Redis."""
    cmds = [
        ("SETBIT", "foo", "0", "0"), ("BITFIELD", "foo2", "SET", "i5", "0", "0"), ("SETBIT", "foo", "0", "0"),
        ("BITFIELD", "foo2", "SET", "i5", "0", "0"), ("SETBIT", "foo", "0", "1"), ("SETBIT", "foo", "0", "1"),
        ("BITFIELD", "foo2", "SET", "i5", "0", "1", "SET", "i5", "5", "3", "SET", "i5", "0", "1"),
        ("BITFIELD", "foo3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"), ("BITFIELD", "foo3", "GET", "u2", "0"),
        ("MSET", "a", "1", "b", "2", "c", "3"), ("MSETNX", "a", "1"), ("SETRANGE", "a", "0", ""), ("APPEND", "a", ""),
        ("GETEX", "a", "PERSIST"), ("BITOP", "AND", "d", "nokey"), ("SET", "a", "1", "NX"), ("LCS", "a", "b"),
    ]
    assert dirty_deltas(pair.durakv, cmds) == dirty_deltas(pair.redis, cmds)
    pair.check("EXISTS", "foo3")


def test_bitfield_without_change_keeps_watch(pair):
    """A BITFIELD that changes no field (same value, or every op FAILs) does not touch WATCHed
    keys in Redis 7.0, even when it creates or grows the string; a real change does."""
    pair.check("SET", "b", "x")
    for ops in (("SET", "u8", "0", "120"), ("OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100"),
                ("OVERFLOW", "FAIL", "INCRBY", "u2", "100", "100"), ("SET", "u8", "0", "121")):
        pair.check("WATCH", "b")
        pair.check("BITFIELD", "b", *ops)
        pair.check("MULTI")
        pair.check("PING")
        pair.check("EXEC")
    pair.check("STRLEN", "b")
    pair.check("WATCH", "nb")
    pair.check("BITFIELD", "nb", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100")
    pair.check("MULTI")
    pair.check("PING")
    pair.check("EXEC")
    pair.check("EXISTS", "nb")


def test_bitmap_effects_replay():
    """Bitmap writes are logged as themselves and replay to the same data."""
    h = Harness()
    for cmd in (("SETBIT", "b", "100", "1"), ("SETBIT", "b", "100", "1"), ("BITFIELD", "f", "OVERFLOW", "FAIL",
                "INCRBY", "u2", "0", "9"), ("BITFIELD", "g", "SET", "i8", "#2", "-5", "INCRBY", "u4", "3", "20"),
                ("BITOP", "XOR", "x", "b", "g"), ("BITOP", "AND", "x2", "nokey"), ("SET", "t", "v", "PX", "5000"),
                ("SETBIT", "t", "1", "1")):
        h(*cmd)
    effects = h.effects()
    assert [b"SETBIT", b"b", b"100", b"1"] in effects and effects.count([b"SETBIT", b"b", b"100", b"1"]) == 1
    assert [b"BITFIELD", b"f", b"OVERFLOW", b"FAIL", b"INCRBY", b"u2", b"0", b"9"] in effects
    # on an existing key, a BITFIELD that changes nothing is no effect (Redis propagates none)
    h("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9")
    h("BITFIELD", "g", "SET", "i8", "#2", "-5")
    assert h.effects() == []
    r = Harness()
    for argv in effects:
        r(*argv)
    assert r.ctx.ks.dbs[0].data == h.ctx.ks.dbs[0].data
    assert r.ctx.ks.dbs[0].expires == h.ctx.ks.dbs[0].expires
