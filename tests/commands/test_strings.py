"""String commands (durakv/commands/strings.py) against redis-server, byte for byte.

Differential tests (``pair``: RESP2 and RESP3) for every command, option and error;
expiry observed with tiny PX values; and in-process checks that the effects written to
the log are deterministic (absolute TTLs, SET for INCRBYFLOAT ...) and replay to the
same data.
"""

from __future__ import annotations

import random
import shlex
import time

import hiredis
import pytest

from durakv import dispatch, spec
from durakv.clock import ManualClock
from durakv.config import Config
from durakv.context import Context
from durakv.durability.log import MemoryLog
from durakv.durability.tracker import CommitTracker
from durakv.session import Session
from tests.support.notify import keyspace_events
from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw

WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


def run(pair, script: str) -> None:
    """pair.check every line of a script (shell-like quoting)."""
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*shlex.split(line))


def make_nonstring(pair, key: str = "h") -> None:
    """Create the same non-string key on both servers, with whichever type durakv has."""
    for args in (("RPUSH", key, "a"), ("SADD", key, "a"), ("HSET", key, "a", "b"), ("ZADD", key, "1", "a")):
        got = pair.durakv.call(*args)
        if not got.startswith(b"-"):
            assert pair.redis.call(*args) == got
            return
    raise AssertionError("durakv has no non-string type to test WRONGTYPE with")


# -- SET / GET ------------------------------------------------------------------------------
def test_set_get_basic(pair):
    run(pair, """
        GET nokey
        SET k v
        GET k
        SET k ""
        GET k
        SET k 12345
        GET k
        SET k v extra
        SET
        SET k
        GET k k
    """)
    pair.check("SET", b"bin\x00\r\nkey", b"\x00\xff\r\n")
    pair.check("GET", b"bin\x00\r\nkey")
    pair.check("SET", "big", "x" * 100_000)
    pair.check("GET", "big")


def test_set_option_combinations(pair):
    run(pair, """
        SET k v NX
        SET k v NX
        SET k v nx nx
        SET k v XX
        SET k v xx xx
        SET k v XX NX
        SET k v NX XX
        SET k v GET GET
        SET k v KEEPTTL KEEPTTL
        SET k v EX 10 EX 20
        SET k v PX 10000 PX 20000
        SET k v EXAT 99999999999 EXAT 99999999998
        SET k v PXAT 99999999999000 PXAT 99999999998000
        SET k v EX 10 KEEPTTL
        SET k v KEEPTTL EX 10
        SET k v KEEPTTL PX 10
        SET k v KEEPTTL EXAT 10
        SET k v KEEPTTL PXAT 10
        SET k v EX 10 PX 10
        SET k v PX 10 EX 10
        SET k v EX 10 EXAT 10
        SET k v EXAT 10 PXAT 10
        SET k v PXAT 10 PX 10
        SET k v PERSIST
        SET k v EX
        SET k v PX
        SET k v EXAT
        SET k v PXAT
        SET k v foo
        SET k v NX foo
        SET k v EX 10 foo
        SET k v nXx
        SET k v N
        SET k v ex 100 nx
        SET k v xx ex 100 get
        SET k v Px 100000 xX gEt
        SET k v2 keepttl get
        GET k
    """)


def test_set_expire_errors(pair):
    run(pair, """
        SET k v EX 0
        SET k v EX -1
        SET k v PX 0
        SET k v PX -5
        SET k v EXAT 0
        SET k v PXAT 0
        SET k v PXAT -1
        SET k v EX abc
        SET k v EX 1.5
        SET k v EX ""
        SET k v EX " 1"
        SET k v EX 01
        SET k v EX 99999999999999999999
        SET k v PX 9223372036854775807
        SET k v EX 9223372036854775
        SET k v EX 9223372036854776
        SET k v EXAT 9223372036854776
        SET k v EXAT 9223372036854775
        GET k
        SET k v PXAT 9223372036854775807
        GET k
        SET k v EX 0 GET
        SET k v EX abc NX
        SETEX k 0 v
        SETEX k -1 v
        SETEX k abc v
        SETEX k 9223372036854776 v
        PSETEX k 0 v
        PSETEX k -10 v
        PSETEX k 9223372036854775807 v
        PSETEX k 1.5 v
        GETEX k EX 0
        GETEX k PX -1
        GETEX k EXAT 0
        GETEX k PXAT abc
        GETEX nokey EX 0
        GETEX nokey PX abc
    """)


def test_set_nx_xx_get(pair):
    run(pair, """
        SET k v XX
        GET k
        SET k v XX GET
        SET k v NX GET
        GET k
        SET k v2 NX GET
        GET k
        SET k v2 NX
        SET k v3 XX GET
        SET k v4 XX
        GET k
        SET k v5 GET
        SET nk v GET
        GET nk
    """)


def test_wrongtype_everywhere(pair):
    make_nonstring(pair, "h")
    for args in (
        ("GET", "h"), ("SET", "h", "v", "GET"), ("SET", "h", "v", "NX", "GET"), ("SET", "h", "v", "XX", "GET"),
        ("GETEX", "h"), ("GETEX", "h", "EX", "0"), ("GETEX", "h", "PERSIST"), ("GETDEL", "h"),
        ("GETSET", "h", "v"), ("STRLEN", "h"), ("APPEND", "h", "x"), ("GETRANGE", "h", "0", "1"),
        ("SUBSTR", "h", "0", "1"), ("SETRANGE", "h", "0", "x"), ("SETRANGE", "h", "0", ""),
        ("INCR", "h"), ("DECR", "h"), ("INCRBY", "h", "1"), ("DECRBY", "h", "1"),
        ("INCRBYFLOAT", "h", "1"), ("LCS", "h", "x"), ("LCS", "x", "h"), ("LCS", "h", "x", "FOO"),
    ):
        got = pair.check(*args)
        assert got.startswith(b"-"), args
    # errors that come before the type check
    run(pair, """
        GETRANGE h a 1
        SETRANGE h -1 x
        SETRANGE h a x
        INCRBY h abc
        DECRBY h -9223372036854775808
        SET h v EX 0 GET
        SET h v foo
        GETEX h foo
    """)
    assert pair.check("GETEX", "h", "EX", "0") == WRONGTYPE
    # MGET gives nil for wrong types; plain SET, SETEX, MSET overwrite them
    pair.check("MGET", "h", "nokey", "h")
    pair.check("SET", "h", "v", "NX")
    pair.check("SET", "h", "v", "XX")
    pair.check("GET", "h")
    make_nonstring(pair, "h2")
    pair.check("MSET", "h2", "x")
    pair.check("GET", "h2")
    make_nonstring(pair, "h3")
    pair.check("SETEX", "h3", "100", "x")
    pair.check("GET", "h3")
    make_nonstring(pair, "h4")
    pair.check("MSETNX", "h4", "x", "n", "y")
    pair.check("SETNX", "h4", "x")
    pair.check("MGET", "h4", "n")


# -- SETNX SETEX PSETEX GETSET GETDEL GETEX --------------------------------------------------
def test_setnx_setex_psetex(pair):
    run(pair, """
        SETNX k v
        SETNX k v2
        GET k
        SETNX k
        SETEX k 100 v3
        GET k
        SETEX k 100
        SETEX k 100 v extra
        PSETEX k 100000 v4
        GET k
        PSETEX k 100000
    """)


def test_getset_getdel(pair):
    run(pair, """
        GETSET k v
        GETSET k v2
        GET k
        GETSET k
        GETDEL k
        GETDEL k
        GET k
        GETDEL nokey
        GETDEL k k
    """)


def test_getex_options(pair):
    run(pair, """
        GETEX nokey
        GETEX nokey EX 10
        GETEX nokey PERSIST
        GETEX nokey foo
        SET k v
        GETEX k
        GETEX k EX 100
        GETEX k PX 100000
        GETEX k EXAT 99999999999
        GETEX k PXAT 99999999999000
        GETEX k PERSIST
        GETEX k PERSIST PERSIST
        GETEX k EX 10 EX 20
        GETEX k persist ex 10
        GETEX k EX 10 PERSIST
        GETEX k PX 10 EX 10
        GETEX k EXAT 10 PXAT 10
        GETEX k KEEPTTL
        GETEX k NX
        GETEX k XX
        GETEX k GET
        GETEX k foo
        GETEX k EX
        GETEX k PERSIST foo
        GET k
        GETEX k PXAT 1
        EXISTS k
        GET k
        SET k v
        GETEX k EXAT 1
        GET k
    """)


# -- multi-key ------------------------------------------------------------------------------
def test_mset_mget_msetnx(pair):
    run(pair, """
        MSET a 1 b 2 c
        MSET a
        MSET a 1 b 2
        MGET a b nokey a
        MSET a 3 a 4
        GET a
        MSETNX a 1 x 2
        MGET a x
        MSETNX x 1 y 2
        MGET x y
        MSETNX z 1 z 2
        GET z
        MSETNX x
        MSETNX q 1 r
        MGET
        MGET nokey
    """)


# -- STRLEN APPEND GETRANGE SETRANGE ----------------------------------------------------------
def test_strlen_append(pair):
    run(pair, """
        STRLEN nokey
        APPEND k abc
        APPEND k def
        APPEND k ""
        APPEND new ""
        EXISTS new
        GET k
        STRLEN k
        SET n 123
        APPEND n 45
        INCR n
        STRLEN n
        STRLEN k k
    """)


def test_getrange_substr(pair):
    pair.check("SET", "s", "Hello World")
    pair.check("SET", "e", "")
    for s, e in [(0, -1), (0, 4), (-5, -1), (-1, -2), (-3, -3), (5, 2), (-100, 100), (100, 200),
                 (0, 0), (-1, -1), (10, 10), (11, 11), (-11, 0), (-12, -11), (3, -100),
                 (-9223372036854775808, 9223372036854775807)]:
        pair.check("GETRANGE", "s", s, e)
        pair.check("SUBSTR", "s", s, e)
        pair.check("GETRANGE", "e", s, e)
        pair.check("GETRANGE", "nokey", s, e)
    run(pair, """
        GETRANGE s a 1
        GETRANGE s 0 b
        GETRANGE s 0 1.5
        GETRANGE s 9223372036854775808 1
        GETRANGE nokey a 1
        GETRANGE s 0
        SUBSTR s 0
    """)


def test_setrange(pair):
    run(pair, """
        SETRANGE k 5 hello
        GET k
        SETRANGE k 0 HE
        GET k
        SETRANGE k 8 LLOWORLD
        GET k
        SETRANGE k 20 x
        GET k
        SETRANGE k -1 x
        SETRANGE k a x
        SETRANGE nokey -1 ""
        SETRANGE k 0 ""
        SETRANGE k 1000 ""
        STRLEN k
        SETRANGE none 0 ""
        SETRANGE none 100 ""
        EXISTS none
        SETRANGE k 536870912 x
        SETRANGE k 536870912 ""
        SETRANGE none 536870912 x
        SETRANGE none 9223372036854775807 x
        EXISTS none
        SET n 42
        SETRANGE n 1 7
        INCR n
    """)
    pair.check("SETRANGE", "bin", "3", b"\x00\xff")
    pair.check("GET", "bin")


# -- counters -------------------------------------------------------------------------------
def test_incr_decr(pair):
    run(pair, """
        INCR i
        INCR i
        INCRBY i 10
        DECR i
        DECRBY i 5
        DECRBY i -5
        INCRBY i -100
        GET i
        INCRBY i abc
        INCRBY i 1.5
        INCRBY i ""
        INCRBY i 9223372036854775808
        DECRBY i -9223372036854775808
        DECRBY i 9223372036854775807
        INCR i i
        SET big 9223372036854775807
        INCR big
        INCRBY big 0
        DECRBY big -1
        SET big 9223372036854775806
        INCR big
        INCR big
        SET small -9223372036854775808
        DECR small
        INCRBY small -1
        INCRBY small 9223372036854775807
        SET small -9223372036854775807
        DECRBY small 1
        DECR small
        SET f 1.5
        INCR f
        SET sp " 1"
        INCR sp
        SET sp "1 "
        INCR sp
        SET z 01
        INCR z
        SET neg -0
        INCR neg
        SET plus +1
        INCR plus
        SET e ""
        INCR e
        SET long 99999999999999999999
        INCR long
        SET neg -123
        INCR neg
        DECRBY neg 0
        SET zero 0
        DECR zero
    """)


def test_incrbyfloat_formatting(pair):
    steps = [
        ("f", "10.5"), ("f", "0.1"), ("f", "-5"), ("f", "1e10"), ("f", "1.23456789012345678901"),
        ("f", "-10000000005.6"), ("f", "3.0e3"), ("f", "-3001.23456788994371891"),
        ("g", "0"), ("g", "-0"), ("g", "-0.0"), ("g", "1e-4940"), ("g", "0x10"), ("g", "0x1p3"),
        ("g", ".5"), ("g", "5."), ("g", "+5"), ("g", "1E2"), ("g", "0X1P-2"),
        ("h", "1e308"), ("h", "1e308"), ("h", "1e4000"),
        ("j", "0.00000381469726562500"), ("j", "5e-18"), ("j", "1.5e-17"),
        ("k", "0.1"), ("k", "0.2"), ("m", "-3"), ("m", "3"), ("n", "-1.5e-17"), ("o", "5e-18"),
        ("p", "0.000000000000000015"), ("q", "0.000000000000000025"), ("r", "-0.000000000000000025"),
        ("s", "1.7976931348623157e308"), ("s", "1.7976931348623157e308"), ("t", "123456789012345678"),
        ("u", "3.14159265358979323846264338327950288"), ("u", "-0.14159265358979323846"),
    ]
    for key, inc in steps:
        pair.check("INCRBYFLOAT", key, inc)
        pair.check("GET", key)


def test_incrbyfloat_errors(pair):
    run(pair, """
        INCRBYFLOAT g abc
        INCRBYFLOAT g " 1"
        INCRBYFLOAT g "1 "
        INCRBYFLOAT g ""
        INCRBYFLOAT g 1e
        INCRBYFLOAT g inf
        INCRBYFLOAT g -inf
        INCRBYFLOAT g +inf
        INCRBYFLOAT g infinity
        INCRBYFLOAT g INF
        INCRBYFLOAT g nan
        INCRBYFLOAT g -nan
        INCRBYFLOAT g 1e5000
        INCRBYFLOAT g -1e5000
        INCRBYFLOAT g 1e-5000
        INCRBYFLOAT g 0x1p-20000
        INCRBYFLOAT g 1_0
        EXISTS g
        SET s foo
        INCRBYFLOAT s 1
        SET s "1.5 "
        INCRBYFLOAT s 1
        SET s 1e2
        INCRBYFLOAT s 1
        SET s 1.7976931348623157e308
        INCRBYFLOAT s 1.7976931348623157e308
        INCRBYFLOAT s 1e4932
        INCRBYFLOAT s -1e4932
        SET s inf
        INCRBYFLOAT s 0
        SET s 1e5000
        INCRBYFLOAT s 0
        INCRBYFLOAT s
        INCRBYFLOAT s 1 2
    """)
    pair.check("SET", "nul", b"1\x002")
    pair.check("INCRBYFLOAT", "nul", "1")
    pair.check("INCRBYFLOAT", "nul2", b"\x00")
    pair.check("INCRBYFLOAT", "nul3", b"2\x00x")
    pair.check("INCRBYFLOAT", "x", b"1\xa0")
    pair.check("INCRBYFLOAT", "x", "9" * 6000)


def test_incrbyfloat_random(pair):
    rnd = random.Random(11)
    for i in range(150):
        key = "k%d" % (i % 7)
        inc = rnd.choice([
            "%.*g" % (rnd.randint(1, 25), rnd.uniform(-1e6, 1e6)),
            "%de%d" % (rnd.randint(-999, 999), rnd.randint(-30, 30)),
            "%.*f" % (rnd.randint(0, 20), rnd.uniform(-10, 10)),
        ])
        pair.check("INCRBYFLOAT", key, inc)


# -- LCS ------------------------------------------------------------------------------------
def test_lcs_basic(pair):
    pair.check("MSET", "key1", "ohmytext", "key2", "mynewtext")
    run(pair, """
        LCS key1 key2
        LCS key1 key2 LEN
        LCS key1 key2 IDX
        LCS key1 key2 IDX MINMATCHLEN 4
        LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
        LCS key1 key2 IDX WITHMATCHLEN
        LCS key1 key2 WITHMATCHLEN
        LCS key1 key2 MINMATCHLEN 2
        LCS key1 key2 idx minmatchlen -5 withmatchlen
        LCS key1 key2 IDX LEN
        LCS key1 key2 LEN IDX
        LCS key1 key2 foo
        LCS key1 key2 MINMATCHLEN
        LCS key1 key2 MINMATCHLEN x
        LCS key1 key2 MINMATCHLEN 1.5 IDX
        LCS key1 nokey
        LCS nokey nokey2 IDX
        LCS nokey nokey2 LEN
        LCS key1 key1 IDX WITHMATCHLEN
        LCS key1
    """)


def test_lcs_random(pair):
    rnd = random.Random(3)
    for _ in range(40):
        alpha = rnd.choice(["ab", "abc", "acgt", "abcdefgh"])
        s1 = "".join(rnd.choice(alpha) for _ in range(rnd.randint(1, 25)))
        s2 = "".join(rnd.choice(alpha) for _ in range(rnd.randint(1, 25)))
        pair.check("MSET", "x", s1, "y", s2)
        pair.check("LCS", "x", "y")
        pair.check("LCS", "y", "x", "LEN")
        pair.check("LCS", "x", "y", "IDX", "MINMATCHLEN", rnd.randint(0, 3), "WITHMATCHLEN")
    a = "".join(rnd.choice("acgt") for _ in range(1500))
    b = "".join(rnd.choice("acgt") for _ in range(1200))
    pair.check("MSET", "x", a, "y", b)
    pair.check("LCS", "x", "y", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "3")
    pair.check("LCS", "x", "y")


# -- TTL behaviour (tiny real waits: real Redis must expire the keys) --------------------------
def _poll_gone(pair, key: str, limit: float = 2.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        a, b = pair.both("EXISTS", key)
        if a == b == b":0\r\n":
            return
        time.sleep(0.01)
    raise AssertionError(f"{key} did not expire on both servers")


def test_ttl_semantics(pair):
    """Which commands set, keep or clear a TTL, observed through expiry."""
    run(pair, """
        SET px v PX 300
        PSETEX psx 300 v
        SET keep v PX 300
        SET keep v2 KEEPTTL
        SET clear v PX 300
        SET clear v2
        SET gs v PX 300
        GETSET gs v2
        SET inc 1 PX 300
        INCR inc
        SET app a PX 300
        APPEND app b
        SET rng abc PX 300
        SETRANGE rng 1 X
        SET flt 1 PX 300
        INCRBYFLOAT flt 1.5
        SET gex v
        GETEX gex PX 300
        SET per v PX 300
        GETEX per PERSIST
        SET ms v PX 300
        MSET ms v2
        SET nx v PX 300
        SET nx v2 NX
    """)
    time.sleep(0.32)  # past every deadline (a TTL kept by mistake would fire)
    for key in ("px", "psx", "keep", "gs", "inc", "app", "rng", "flt", "gex", "per", "ms", "nx", "clear"):
        if key in ("clear", "gs", "per", "ms"):
            pair.check("GET", key)
        else:
            _poll_gone(pair, key)
            pair.check("GET", key)


def test_set_past_absolute_time(pair):
    run(pair, """
        SET k v EXAT 1
        GET k
        EXISTS k
        SET k v PXAT 1 GET
        SET k v PXAT 1
        SET k v NX
        GET k
    """)


# -- keyspace notifications -------------------------------------------------------------------
@pytest.fixture(scope="module")
def notify_servers():
    a = start_redis("--notify-keyspace-events", "KEAmn")
    b = start_durakv("--notify-keyspace-events", "KEAmn")
    yield a.port, b.port
    a.stop()
    b.stop()


_EVENT_CMDS = [
    ("SET", "k", "v"), ("SET", "k", "v", "EX", "100"), ("SET", "k2", "v", "NX"), ("SET", "k2", "v", "NX"),
    ("SET", "k2", "v2", "XX", "GET", "KEEPTTL"), ("SETEX", "k3", "100", "v"), ("PSETEX", "k3", "100000", "v"),
    ("GETSET", "k3", "v"), ("SETNX", "k4", "v"), ("SETNX", "k4", "v"), ("MSET", "a", "1", "b", "2"),
    ("MSETNX", "c", "1", "d", "2"), ("MSETNX", "c", "1", "e", "2"), ("APPEND", "a", "x"),
    ("APPEND", "new", ""), ("SETRANGE", "a", "0", "y"), ("SETRANGE", "a", "0", ""),
    ("SETRANGE", "none", "0", ""), ("INCR", "i"), ("DECRBY", "i", "5"), ("INCRBYFLOAT", "i", "1.5"),
    ("GETEX", "k", "PX", "100000"), ("GETEX", "k", "PERSIST"), ("GETEX", "k", "PERSIST"), ("GETEX", "k"),
    ("GETEX", "k", "PXAT", "1"), ("GETDEL", "k2"), ("GETDEL", "k2"), ("SET", "z", "v", "EXAT", "1"),
    ("GET", "z"), ("MGET", "a", "b"), ("LCS", "a", "b"), ("STRLEN", "a"), ("GETRANGE", "a", "0", "1"),
    # misses (class m) and writes that find nothing
    ("GET", "m1"), ("MGET", "m1", "a", "m2"), ("GETEX", "m1", "PX", "100"), ("GETDEL", "m1"), ("GETSET", "m3", "v"),
    ("SET", "m4", "v", "GET"), ("SET", "m5", "v", "NX", "GET"), ("STRLEN", "m1"), ("GETRANGE", "m1", "0", "1"),
    ("LCS", "m1", "m2"), ("INCR", "m6"), ("INCRBYFLOAT", "m7", "1"), ("APPEND", "m8", "x"), ("SETRANGE", "m9", "1", "x"),
    ("SET", "exp", "v", "PXAT", "1"), ("SET", "exp", "v2", "NX"), ("SET", "exp2", "v", "PXAT", "1"), ("INCR", "exp2"),
]


def test_keyspacekeyspace_events(notify_servers):
    a = keyspace_events(notify_servers[0], _EVENT_CMDS)
    b = keyspace_events(notify_servers[1], _EVENT_CMDS)
    assert b == a


# -- effects: what the log records, and that it replays to the same data -----------------------
class Harness:
    """One in-process node core (no sockets): dispatch + commit tracker + memory log."""

    def __init__(self) -> None:
        spec.load_all()
        self.clock = ManualClock()
        self.ctx = Context(Config(), self.clock)
        self.log = MemoryLog()
        self.tracker = CommitTracker(self.log, lambda fn: None)
        self.ctx.tracker = self.tracker
        self.ctx.ks.on_expired = lambda dbid, key: self.tracker.add_effect(dbid, [b"DEL", key])
        self.s = Session(self.ctx, 1, self.ctx.ks.dbs[0])

    def __call__(self, *args: object) -> bytes:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return dispatch.execute(self.s, argv)

    def effects(self) -> list[list[bytes]]:
        """Every effect logged so far (SELECTs left out), and forget them."""
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


def test_effects_are_deterministic():
    h = Harness()
    now = h.clock.now_ms()
    assert h("SET", "k", "v", "EX", "10") == b"+OK\r\n"
    assert h.effects() == [[b"SET", b"k", b"v", b"PXAT", b"%d" % (now + 10_000)]]
    h("SET", "k", "v", "PX", "500", "NX")
    assert h.effects() == []  # nothing changed, nothing logged
    h("SET", "k", "v2", "XX", "GET", "PX", "500")
    assert h.effects() == [[b"SET", b"k", b"v2", b"PXAT", b"%d" % (now + 500)]]
    h("SET", "k", "v3", "KEEPTTL", "GET")
    assert h.effects() == [[b"SET", b"k", b"v3", b"KEEPTTL"]]
    h("SET", "k", "v4", "EXAT", "1900000000")
    assert h.effects() == [[b"SET", b"k", b"v4", b"PXAT", b"1900000000000"]]
    h("SET", "plain", "v")
    assert h.effects() == [[b"SET", b"plain", b"v"]]
    h("SETEX", "se", "7", "v")
    h("PSETEX", "pse", "70", "v")
    assert h.effects() == [
        [b"SET", b"se", b"v", b"PXAT", b"%d" % (now + 7000)],
        [b"SET", b"pse", b"v", b"PXAT", b"%d" % (now + 70)],
    ]
    h("SETNX", "se", "x")
    h("SETNX", "nx", "x")
    assert h.effects() == [[b"SET", b"nx", b"x"]]
    h("GETEX", "plain", "EX", "5")
    h("GETEX", "plain", "PERSIST")
    h("GETEX", "plain", "PERSIST")
    h("GETEX", "plain")
    h("GETEX", "nokey", "EX", "5")
    assert h.effects() == [[b"PEXPIREAT", b"plain", b"%d" % (now + 5000)], [b"PERSIST", b"plain"]]
    h("GETEX", "plain", "PXAT", "1")
    assert h.effects() == [[b"DEL", b"plain"]]
    assert h("EXISTS", "plain") == b":0\r\n"
    h("SET", "f", "10.5")
    h("INCRBYFLOAT", "f", "0.1")
    h("GETDEL", "nx")
    h("GETDEL", "nx")
    h("GETSET", "gs", "v")
    h("MSETNX", "m1", "a", "m2", "b")
    h("MSETNX", "m1", "a", "m3", "b")
    assert h.effects() == [
        [b"SET", b"f", b"10.5"],
        [b"SET", b"f", b"10.6", b"KEEPTTL"],
        [b"DEL", b"nx"],
        [b"SET", b"gs", b"v"],
        [b"MSET", b"m1", b"a", b"m2", b"b"],
    ]


def test_effects_replay_to_same_data():
    h = Harness()
    script = [
        ("SET", "a", "1", "EX", "100"), ("SET", "b", "x", "PX", "5000", "NX"), ("SET", "b", "y", "KEEPTTL", "GET"),
        ("SETEX", "c", "50", "v"), ("PSETEX", "d", "900", "v"), ("INCRBYFLOAT", "e", "1.1"),
        ("INCRBYFLOAT", "e", "2.2"), ("SET", "e2", "5", "PX", "7000"), ("INCRBYFLOAT", "e2", "0.5"),
        ("INCR", "f"), ("INCRBY", "f", "41"), ("DECRBY", "f", "2"), ("APPEND", "g", "ab"), ("APPEND", "g", "cd"),
        ("SETRANGE", "g", "6", "zz"), ("MSET", "h", "1", "i", "2"), ("MSETNX", "j", "1", "k", "2"),
        ("GETSET", "h", "3"), ("GETDEL", "i"), ("SETNX", "l", "v"), ("GETEX", "l", "EXAT", "1900000000"),
        ("SET", "m", "v", "EX", "10"), ("GETEX", "m", "PXAT", "1"),
    ]
    for cmd in script:
        h(*cmd)
    h.clock.advance(1000)  # d expires (lazily, on access): a DEL effect
    assert h("GET", "d") == b"$-1\r\n"
    effects = h.effects()
    # replay the effects on an empty core, at a later time
    r = Harness()
    r.clock.ms = h.clock.ms + 123
    for argv in effects:
        got = r(*argv)
        assert not got.startswith(b"-"), (argv, got)
    src, dst = h.ctx.ks.dbs[0], r.ctx.ks.dbs[0]
    assert dst.data == src.data
    assert dst.expires == src.expires


def test_proto_max_bulk_len_limits():
    """proto-max-bulk-len bounds SETRANGE, APPEND and LCS's table (texts as Redis 7.0)."""
    h = Harness()
    h.ctx.config.set_value("proto-max-bulk-len", 1048576)
    too_big = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    assert h("SETRANGE", "s", "1048575", "x") == b":1048576\r\n"
    assert h("SETRANGE", "s", "1048576", "x") == too_big
    assert h("SETRANGE", "n", "1048576", "x") == too_big
    assert h("SETRANGE", "s", "1048576", "") == b":1048576\r\n"
    assert h("APPEND", "s", "y") == too_big
    assert h("APPEND", "s", "") == b":1048576\r\n"
    assert h("STRLEN", "s") == b":1048576\r\n"
    h("MSET", "x", "a" * 600, "y", "b" * 600)
    lcs_err = b"-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    assert h("LCS", "x", "y") == lcs_err
    assert h("LCS", "x", "y", "LEN") == lcs_err
    h("MSET", "x", "a" * 500, "y", "b" * 500)
    assert h("LCS", "x", "y", "LEN") == b":0\r\n"


# -- through redis-py (both servers, both protocols) -------------------------------------------
def test_redis_py_api(r):
    assert r.set("k", "v", ex=100, nx=True) is True
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True, px=100_000) == b"v"
    assert r.set("k", "x", keepttl=True) is True
    assert 0 < r.ttl("k") <= 100
    assert r.getex("k", persist=True) == b"x"
    assert r.ttl("k") == -1
    assert r.getdel("k") == b"x" and r.get("k") is None
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.msetnx({"a": "9", "z": "9"}) is False
    assert r.incrbyfloat("f", 10.5) == 10.5 and r.incrbyfloat("f", 0.1) == 10.6
    assert r.incrby("a", 41) == 42 and r.decrby("a", 2) == 40
    assert r.append("s", "abc") == 3 and r.setrange("s", 5, "z") == 6
    assert r.getrange("s", 0, -1) == b"abc\x00\x00z"
    assert r.strlen("s") == 6
    r.mset({"x": "ohmytext", "y": "mynewtext"})
    assert r.lcs("x", "y") == b"mytext"
    assert r.lcs("x", "y", len=True) == 6


# -- seeded random differential run over the whole string/bitmap group -------------------------
def _random_command(rnd: random.Random) -> list[bytes]:
    keys = [b"a", b"b", b"c", b"n", b"h"]
    k, k2 = rnd.choice(keys), rnd.choice(keys)

    def val() -> bytes:
        return rnd.choice([b"", b"0", b"1", b"-1", b"12", b"1.5", b"abc", b"9223372036854775807", b"3.0e2", b" 1",
                           rnd.randbytes(rnd.randint(0, 6)), b"x" * rnd.randint(0, 50)])

    def num() -> bytes:
        return rnd.choice([b"0", b"1", b"-1", b"5", b"-5", b"100", b"9223372036854775807", b"-9223372036854775808",
                           b"abc", b"1.5", b"-0", b"01", b""])

    def opts(getex: bool = False) -> list[bytes]:
        out: list[bytes] = []
        words = ["PERSIST", "EX", "PX", "EXAT", "PXAT", "foo"] + ([] if getex else ["NX", "XX", "GET", "KEEPTTL"])
        for _ in range(rnd.randint(0, 3)):
            w = rnd.choice(words)
            out.append(w.encode())
            if w in ("EX", "PX", "EXAT", "PXAT") and rnd.random() < 0.9:
                out.append(rnd.choice([b"100000", b"0", b"-1", b"abc", b"99999999999999"]))
        return out

    makers = [
        lambda: [b"SET", k, val(), *opts()], lambda: [b"GET", k], lambda: [b"GETEX", k, *opts(True)],
        lambda: [b"GETDEL", k], lambda: [b"GETSET", k, val()], lambda: [b"MSET", k, val(), k2, val()],
        lambda: [b"MSETNX", k, val(), k2, val()], lambda: [b"MGET", k, k2, b"zz"], lambda: [b"SETNX", k, val()],
        lambda: [b"SETEX", k, rnd.choice([b"100", b"0", b"x"]), val()], lambda: [b"APPEND", k, val()],
        lambda: [b"STRLEN", k], lambda: [b"GETRANGE", k, num(), num()],
        lambda: [b"SETRANGE", k, rnd.choice([b"0", b"3", b"-1", b"10", b"x"]), val()], lambda: [b"INCR", k],
        lambda: [b"DECRBY", k, num()], lambda: [b"INCRBY", k, num()],
        lambda: [b"INCRBYFLOAT", k, rnd.choice([b"1.5", b"-0.1", b"1e3", b"abc", b"inf", b"3", b"0.000001"])],
        lambda: [b"LCS", k, k2, *rnd.choice([[], [b"LEN"], [b"IDX"], [b"IDX", b"WITHMATCHLEN", b"MINMATCHLEN", b"1"]])],
        lambda: [b"SETBIT", k, rnd.choice([b"0", b"7", b"13", b"-1", b"x"]), rnd.choice([b"0", b"1", b"2"])],
        lambda: [b"GETBIT", k, rnd.choice([b"0", b"7", b"13", b"100"])],
        lambda: [b"BITCOUNT", k, *rnd.choice([[], [num(), num()], [num(), num(), rnd.choice([b"BIT", b"BYTE", b"x"])]])],
        lambda: [b"BITPOS", k, rnd.choice([b"0", b"1", b"2"]), *rnd.choice([[], [num()], [num(), num()], [num(), num(), b"BIT"]])],
        lambda: [b"BITOP", rnd.choice([b"AND", b"OR", b"XOR", b"NOT"]), k, k2, *rnd.choice([[], [b"zz"]])],
        lambda: [b"BITFIELD", k, rnd.choice([b"GET", b"SET", b"INCRBY"]), rnd.choice([b"u8", b"i5", b"u63", b"i64"]),
                 rnd.choice([b"0", b"#1", b"9"]), num()],
        lambda: [b"DEL", k], lambda: [b"EXISTS", k, k2],
    ]
    return rnd.choice(makers)()


def test_random_differential(pair):
    make_nonstring(pair, "h")
    rnd = random.Random(2024 + pair.proto)
    for _ in range(400):
        argv = _random_command(rnd)
        if argv[1] == b"h" and argv[0] in (b"DEL",):
            continue  # keep one non-string key around
        pair.check(*argv)


def test_restart_keeps_absolute_ttls(tmp_path):
    """After kill -9 and recovery from the log, relative TTLs were logged as absolute times."""
    node = start_durakv("--appendfsync", "always", workdir=str(tmp_path))
    try:
        c = Raw(node.port)
        for cmd in (("SET", "a", "1", "EX", "1000"), ("SETEX", "b", "500", "v"), ("PSETEX", "c", "400000", "v"),
                    ("SET", "d", "v"), ("GETEX", "d", "EX", "300"), ("SET", "e", "v", "PX", "200000"),
                    ("GETEX", "e", "PERSIST"), ("INCRBYFLOAT", "f", "10.5"), ("INCRBYFLOAT", "f", "0.1"),
                    ("SET", "g", "5", "PX", "100000"), ("INCRBYFLOAT", "g", "1"), ("SET", "h", "v", "EXAT", "1")):
            assert not c.call(*cmd).startswith(b"-"), cmd
        keys = "abcdefgh"
        before = [(c.call("GET", k), c.call("PTTL", k)) for k in keys]
        t_before = time.monotonic()
        c.close()
        node.kill9()
        time.sleep(0.3)  # long enough that a TTL restarted at recovery would show
        node.start()
        c = Raw(node.port)
        after = [(c.call("GET", k), c.call("PTTL", k)) for k in keys]
        elapsed_ms = (time.monotonic() - t_before) * 1000
        c.close()
    finally:
        node.stop()
    for (v0, t0), (v1, t1) in zip(before, after, strict=True):
        assert v1 == v0
        ms0, ms1 = int(t0[1:-2]), int(t1[1:-2])
        if ms0 < 0:
            assert ms1 == ms0
        else:  # the deadline did not move: the TTL shrank by the time that passed
            assert abs((ms0 - ms1) - elapsed_ms) < 400, (ms0, ms1, elapsed_ms)


def _hits_misses(conn) -> list[bytes]:
    info = conn.call("INFO", "stats")
    return [line for line in info.split(b"\r\n") if line.startswith((b"keyspace_hits:", b"keyspace_misses:"))]


def test_keyspace_hits_and_misses(pair):
    """Reads count hits/misses (lookupKeyRead), writes do not (lookupKeyWrite), as in Redis."""
    for conn in (pair.redis, pair.durakv):
        conn.call("CONFIG", "RESETSTAT")
    run(pair, """
        SET k v
        SET k v GET
        SET k2 v GET
        SET k v NX
        GET k
        GET nokey
        MGET k nokey k2
        INCR i
        INCRBYFLOAT f 1
        APPEND k x
        SETRANGE k 0 y
        STRLEN k
        GETRANGE k 0 1
        GETEX k
        GETDEL k
        GETDEL k
        GETSET g v
        MSETNX a 1
        SETNX g v
        SETEX e 10 v
        LCS g nokey
        SETBIT b 1 1
        GETBIT b 1
        GETBIT nokey 1
        BITCOUNT b
        BITPOS b 1
        BITOP AND d b nokey
        BITFIELD b GET u8 0
        BITFIELD b SET u8 0 1
        BITFIELD_RO nokey GET u8 0
    """)
    assert _hits_misses(pair.durakv) == _hits_misses(pair.redis)
