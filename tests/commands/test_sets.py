"""Set commands: byte-exact differential tests against redis-server (RESP2 and RESP3);
replies whose order Redis leaves to its hash table are compared unordered."""

from __future__ import annotations

import shlex


def run(pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*shlex.split(line))


def test_basic(pair):
    run(pair, """
        SADD s 3 1 2
        SADD s 2 4
        SMEMBERS s
        SCARD s
        SCARD nosuch
        SISMEMBER s 1
        SISMEMBER s 9
        SISMEMBER nosuch 1
        SMISMEMBER s 1 9 2
        SMISMEMBER nosuch 1 2
        SMEMBERS nosuch
        OBJECT ENCODING s
        SREM s 1 9
        SREM s 2 3 4
        EXISTS s
        SREM nosuch a
        SADD t a
        OBJECT ENCODING t
        SADD u 1 -5 0 -0 007 9223372036854775807 9223372036854775808
        OBJECT ENCODING u
        SADD v 1 -5 0 9223372036854775807 -9223372036854775808 42
        OBJECT ENCODING v
        SMEMBERS v
        SSCAN v 0
        SUNION v
        SDIFF v nosuch
        SINTER v
        SET str x
        SADD str a
        SREM str a
        SCARD str
        SMEMBERS str
        SISMEMBER str a
        SMISMEMBER str a
    """)


def test_intset_threshold(pair):
    pair.check("CONFIG", "SET", "set-max-intset-entries", "3")
    try:
        run(pair, """
            SADD s 1 2 3
            OBJECT ENCODING s
            SADD s 4
            OBJECT ENCODING s
            SREM s 4 3
            OBJECT ENCODING s
            SADD a 1 2
            SINTERSTORE d a
            OBJECT ENCODING d
            SADD b 1 2 3 4
            SUNIONSTORE d b
            OBJECT ENCODING d
            SMOVE b newset 1
            OBJECT ENCODING newset
            SMOVE b newset2 x
            SADD c x
            SMOVE c newset3 x
            OBJECT ENCODING newset3
        """)
    finally:
        pair.check("CONFIG", "SET", "set-max-intset-entries", "512")


def test_pop_rand_shapes(pair):
    run(pair, """
        SPOP nosuch
        SPOP nosuch 2
        SPOP s 1 2
        SPOP s -1
        SPOP s abc
        SRANDMEMBER nosuch
        SRANDMEMBER nosuch 3
        SRANDMEMBER s 1 2
        SRANDMEMBER s abc
        SRANDMEMBER s -9223372036854775808
        SADD s 5 1 3
        SRANDMEMBER s 0
        SRANDMEMBER s 3
        SRANDMEMBER s 10
        SPOP s 0
        SPOP s 3
        EXISTS s
        SADD s 1 2 3
        SPOP s 10
        SET str v
        SPOP str
        SRANDMEMBER str
        SRANDMEMBER str 2
    """)
    d = pair.durakv
    d.call("SADD", "x", "a", "b", "c", "d")
    assert d.parsed("SRANDMEMBER", "x") in (b"a", b"b", b"c", b"d")
    assert len(d.parsed("SRANDMEMBER", "x", "-10")) == 10
    assert len(set(d.parsed("SRANDMEMBER", "x", "3"))) == 3
    popped = d.parsed("SPOP", "x", "2")
    assert len(popped) == 2 and d.parsed("SCARD", "x") == 2
    assert d.parsed("SPOP", "x") in (b"a", b"b", b"c", b"d")
    assert d.parsed("SCARD", "x") == 1


def test_smove(pair):
    run(pair, """
        SADD a 1 2
        SADD b 3
        SMOVE a b 1
        SMOVE a b 9
        SMOVE a a 2
        SMOVE a a 9
        SMOVE nosuch b 1
        SMOVE a b 2
        EXISTS a
        SMEMBERS b
        SMOVE b c 3
        SET str v
        SMOVE str b 1
        SMOVE b str 1
        SMOVE nosuch str 1
        SMOVE b c 1
        SMEMBERS c
    """)


def test_algebra(pair):
    run(pair, """
        SADD a 1 2 3 4
        SADD b 3 4 5
        SADD c 4 5 6
        SINTER a b
        SINTER a b c
        SINTER a nosuch
        SINTERCARD 2 a b
        SINTERCARD 3 a b c LIMIT 1
        SINTERCARD 2 a nosuch
        SINTERCARD 0 a
        SINTERCARD abc a
        SINTERCARD 3 a b
        SINTERCARD 1 a LIMIT -1
        SINTERCARD 1 a LIMIT x
        SINTERCARD 1 a FOO 1
        SINTERCARD 1 a LIMIT
        SUNION a b c
        SUNION nosuch
        SDIFF a b
        SDIFF a b c
        SDIFF nosuch a
        SINTERSTORE d a b
        SMEMBERS d
        SUNIONSTORE d a c
        SMEMBERS d
        SDIFFSTORE d a b c
        SMEMBERS d
        SINTERSTORE d a nosuch
        EXISTS d
        SDIFFSTORE d a a
        EXISTS d
        SET str v
        SINTER a str
        SINTER nosuch str
        SUNION a str
        SDIFF str a
        SINTERSTORE str a b
        TYPE str
        SINTERCARD 2 a str
    """)
    pair.check("SADD", "x", "a", "b", "c", "1")
    pair.check("SADD", "y", "b", "c", "d")
    pair.check_parsed("SINTER", "x", "y", unordered=True)
    pair.check_parsed("SUNION", "x", "y", unordered=True)
    pair.check_parsed("SDIFF", "x", "y", unordered=True)
    pair.check("SUNIONSTORE", "z", "x", "y")
    pair.check("OBJECT", "ENCODING", "z")
    pair.check_parsed("SMEMBERS", "z", unordered=True)


def test_sscan(pair):
    run(pair, """
        SADD i 3 1 2
        SSCAN i 0
        SSCAN i 0 MATCH 1*
        SSCAN i abc
        SSCAN i 0 COUNT 0
        SSCAN i 0 TYPE set
        SSCAN nosuch 0
        SET str v
        SSCAN str 0
    """)
    pair.check("SADD", "s", *[f"m{i}" for i in range(250)])
    for srv in (pair.redis, pair.durakv):
        seen = set()
        cursor = b"0"
        while True:
            cursor, items = srv.parsed("SSCAN", "s", cursor, "MATCH", "m1*")
            seen.update(items)
            if cursor == b"0":
                break
        assert seen == {f"m{i}".encode() for i in range(250) if str(i).startswith("1")}
