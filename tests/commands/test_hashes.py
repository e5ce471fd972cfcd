"""Hash commands: byte-exact differential tests against redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import shlex


def run(pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*shlex.split(line))


def test_hset_family(pair):
    run(pair, """
        HSET h a 1 b 2
        HSET h a 10 c 3
        HSET h a
        HSET h a 1 b
        HMSET h a 1 b
        HMSET h d 4 e 5
        HSETNX h a 99
        HSETNX h z 26
        HSETNX nosuch f v
        HGET h a
        HGET h nosuch
        HGET nosuch a
        HMGET h a b nosuch z
        HMGET nosuch a b
        HLEN h
        HLEN nosuch
        HSTRLEN h a
        HSTRLEN h nosuch
        HSTRLEN nosuch a
        HEXISTS h a
        HEXISTS h x
        HEXISTS nosuch x
        HKEYS h
        HVALS h
        HGETALL h
        HKEYS nosuch
        HVALS nosuch
        HGETALL nosuch
        HDEL h a b nosuch
        HDEL h a
        HDEL nosuch a
        HGETALL h
        HDEL h c d e z
        EXISTS h
        SET s v
        HSET s a 1
        HGET s a
        HMGET s a
        HGETALL s
        HDEL s a
        HLEN s
        HSETNX s a 1
        HEXISTS s a
        HSTRLEN s a
        HKEYS s
    """)


def test_hincrby(pair):
    run(pair, """
        HINCRBY h n 5
        HINCRBY h n -10
        HINCRBY h n abc
        HINCRBY h n 1.5
        HSET h s hello big 9223372036854775807 small -9223372036854775808 sp " 1"
        HINCRBY h s 1
        HINCRBY h sp 1
        HINCRBY h big 1
        HINCRBY h small -1
        HINCRBY h big 0
        HINCRBYFLOAT h f 10.5
        HINCRBYFLOAT h f 0.1
        HINCRBYFLOAT h f -5e3
        HINCRBYFLOAT h f 1e310
        HINCRBYFLOAT h f abc
        HINCRBYFLOAT h f nan
        HINCRBYFLOAT h f inf
        HINCRBYFLOAT h s 1
        HINCRBYFLOAT h n 3.0e2
        HINCRBYFLOAT h g 1.23456789012345678
        HINCRBYFLOAT h g -1.23456789012345678
        HINCRBYFLOAT h k 0.001
        HINCRBYFLOAT h k 0.002
        HINCRBYFLOAT h k 1e-3
        HINCRBYFLOAT h k .1
        HINCRBYFLOAT h k 1.
        HINCRBYFLOAT h k 3.0000000000000000001
        HINCRBYFLOAT h k 1e4931
        HINCRBYFLOAT h k -1e4931
        HINCRBYFLOAT h k 1e5000
        HINCRBYFLOAT h k 1e-5000
        HINCRBYFLOAT h k +5
        HINCRBYFLOAT h k 0x1p-2
        HGET h k
        HMGET h n s big small sp f g
        SET str v
        HINCRBY str a 1
        HINCRBYFLOAT str a 1
    """)


def test_hrandfield(pair):
    run(pair, """
        HRANDFIELD nosuch
        HRANDFIELD nosuch 3
        HRANDFIELD nosuch 3 WITHVALUES
        HSET h a 1 b 2 c 3
        HRANDFIELD h 0
        HRANDFIELD h 3
        HRANDFIELD h 10 WITHVALUES
        HRANDFIELD h 1 WITHVALUE
        HRANDFIELD h 1 WITHVALUES x
        HRANDFIELD h abc
        HRANDFIELD h -9223372036854775808
        HRANDFIELD h 9223372036854775807 WITHVALUES
        SET s v
        HRANDFIELD s
        HRANDFIELD s 1
    """)
    d = pair.durakv
    assert d.parsed("HRANDFIELD", "h") in (b"a", b"b", b"c")
    assert len(d.parsed("HRANDFIELD", "h", "-7")) == 7
    pairs = d.parsed("HRANDFIELD", "h", "-4", "WITHVALUES")
    assert len(pairs) in (4, 8)
    assert sorted(d.parsed("HRANDFIELD", "h", "2")) != [] and len(set(d.parsed("HRANDFIELD", "h", "2"))) == 2


def test_hscan(pair):
    run(pair, """
        HSET h a 1 b 2 c 3 ab 4
        HSCAN h 0
        HSCAN h 0 MATCH a*
        HSCAN h 0 MATCH a* COUNT 100
        HSCAN h 0 COUNT 0
        HSCAN h x
        HSCAN h 0 FOO bar
        HSCAN h 0 TYPE hash
        HSCAN nosuch 0
        SET s v
        HSCAN s 0
    """)


def test_hscan_big_full_iteration(pair):
    fields = []
    for i in range(300):
        fields += [f"f{i}", f"v{i}"]
    pair.check("HSET", "h", *fields)
    for srv in (pair.redis, pair.durakv):
        seen = {}
        cursor = b"0"
        while True:
            cursor, items = srv.parsed("HSCAN", "h", cursor, "COUNT", "37")
            seen.update(zip(items[0::2], items[1::2]))
            if cursor == b"0":
                break
        assert len(seen) == 300 and seen[b"f7"] == b"v7"


def test_encodings(pair):
    pair.check("CONFIG", "SET", "hash-max-listpack-entries", "4")
    pair.check("CONFIG", "SET", "hash-max-listpack-value", "8")
    try:
        run(pair, """
            HSET h a 1 b 2 c 3 d 4
            OBJECT ENCODING h
            HGETALL h
            HSET h e 5
            OBJECT ENCODING h
            HDEL h a b c d
            OBJECT ENCODING h
            HSET h2 a 123456789
            OBJECT ENCODING h2
            HSET h3 f123456789 1
            OBJECT ENCODING h3
            HSET h4 a 1
            HINCRBYFLOAT h4 a 1e100
            OBJECT ENCODING h4
            HSET h5 a 1
            HINCRBY h5 longfieldname 1
            OBJECT ENCODING h5
            HSETNX h6 a 1234567890
            OBJECT ENCODING h6
        """)
    finally:
        pair.check("CONFIG", "SET", "hash-max-listpack-entries", "512")
        pair.check("CONFIG", "SET", "hash-max-listpack-value", "64")


def test_big_hash(pair):
    fields = []
    for i in range(200):
        fields += [f"f{i}", f"v{i}"]
    pair.check("HSET", "h", *fields)
    pair.check("OBJECT", "ENCODING", "h")
    pair.check("HLEN", "h")
    pair.check("HMGET", "h", "f1", "f199", "nope")
    pair.check("HDEL", "h", "f1", "f2", "nope")
    pair.check_parsed("HKEYS", "h", unordered=True)
    pair.check_parsed("HVALS", "h", unordered=True)
    pair.check("HINCRBY", "h", "f5", "1")
    pair.check("HRANDFIELD", "nosuch", "1")
