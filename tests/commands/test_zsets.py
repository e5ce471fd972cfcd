"""Sorted set commands: byte-exact differential tests against redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import pytest


def run(pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*_split(line))


def _split(line: str) -> list[str]:
    import shlex

    return shlex.split(line)


def test_zadd_options_and_errors(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c
        ZADD z NX 10 a 4 d
        ZADD z XX 10 a 5 e
        ZADD z XX CH 11 a 2 b
        ZADD z GT CH 1 a 20 b
        ZADD z LT CH 100 a 0 c
        ZADD z INCR 5 a
        ZADD z INCR NX 5 a
        ZADD z INCR XX 5 nosuch
        ZADD z INCR GT -1 a
        ZADD z INCR LT -1 a
        ZRANGE z 0 -1 WITHSCORES
        ZADD z XX NX 1 a
        ZADD z GT LT 1 a
        ZADD z GT NX 1 a
        ZADD z LT NX 1 a
        ZADD z INCR 1 a 2 b
        ZADD z 1
        ZADD z NX 1
        ZADD z 1 a 2
        ZADD z nan a
        ZADD z abc a
        ZADD z 1e400 a
        ZADD z 1e-400 a
        ZADD z " 1" a
        ZADD z "1 " a
        ZADD z 0x10 hex 1e3 e3 -0 negz +5 plus .5 half
        ZADD z inf pinf -inf ninf
        ZADD z INCR -inf pinf
        ZRANGE z 0 -1 WITHSCORES
        ZADD xx XX 1 a
        EXISTS xx
        ZADD xx XX INCR 1 a
        SET s v
        ZADD s 1 a
        ZINCRBY s 1 a
        ZINCRBY z abc a
        ZINCRBY z NX 1
        ZINCRBY z CH INCR
        ZINCRBY z XX 1
        ZINCRBY z 2.5 newm
        ZINCRBY z -1e308 ninf
        ZSCORE z newm
        ZADD z 1.5 a 1.5 b 1.5 c
        ZRANGE z 0 -1 WITHSCORES
    """)


def test_scores_formatting(pair):
    run(pair, """
        ZADD z 0.1 a 3.0000000000000004 b 1e20 c 123456789012345678 d -2.5e-10 e 1e-320 f
        ZRANGE z 0 -1 WITHSCORES
        ZSCORE z c
        ZMSCORE z a b nosuch f
        ZMSCORE nosuch a b
        ZINCRBY z 0.2 a
        ZSCAN z 0
    """)


def test_point_reads(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c
        ZCARD z
        ZCARD nosuch
        ZSCORE z b
        ZSCORE z x
        ZSCORE nosuch x
        ZRANK z a
        ZRANK z c
        ZRANK z x
        ZREVRANK z a
        ZREVRANK nosuch a
        ZREM z a x
        ZREM z b c
        EXISTS z
        ZREM z a
        SET s v
        ZCARD s
        ZSCORE s a
        ZRANK s a
        ZMSCORE s a
        ZREM s a
    """)


def test_zrange_rank(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZRANGE z 0 -1
        ZRANGE z 1 3 WITHSCORES
        ZRANGE z -2 -1 withscores
        ZRANGE z 3 1
        ZRANGE z 10 20
        ZRANGE z -100 100
        ZRANGE z 0 -1 REV
        ZRANGE z 0 1 REV WITHSCORES
        ZREVRANGE z 0 1
        ZREVRANGE z 0 -1 WITHSCORES
        ZRANGE z 0 1 LIMIT 0 1
        ZRANGE z 0 1 LIMIT 0 -1
        ZREVRANGE z 0 1 LIMIT 0 1
        ZRANGE z a b
        ZRANGE z 0 1 foo
        ZRANGE z 0 1 REV REV
        ZRANGE z 0 1 BYSCORE BYLEX
        ZRANGE nosuch 0 -1
        ZRANGE z 0 1 LIMIT 0
        ZRANGE z 0 1 LIMIT a b
        ZREVRANGE z 0 1 REV
    """)


def test_zrange_byscore(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c 4 d 5 e 5 f
        ZRANGEBYSCORE z -inf +inf
        ZRANGEBYSCORE z (1 3 WITHSCORES
        ZRANGEBYSCORE z 1 (3
        ZRANGEBYSCORE z (1 (2
        ZRANGEBYSCORE z 3 1
        ZRANGEBYSCORE z 2 2
        ZRANGEBYSCORE z (2 2
        ZRANGEBYSCORE z -inf +inf LIMIT 1 2
        ZRANGEBYSCORE z -inf +inf LIMIT 1 -1
        ZRANGEBYSCORE z -inf +inf LIMIT -1 2
        ZRANGEBYSCORE z -inf +inf LIMIT 10 2
        ZRANGEBYSCORE z -inf +inf LIMIT 1 0
        ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 2 3
        ZREVRANGEBYSCORE z +inf -inf
        ZREVRANGEBYSCORE z 4 (2 WITHSCORES
        ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2
        ZREVRANGEBYSCORE z 1 3
        ZRANGE z 1 4 BYSCORE
        ZRANGE z 4 1 BYSCORE REV LIMIT 1 2 WITHSCORES
        ZRANGE z (1 +inf BYSCORE LIMIT 0 -5
        ZRANGEBYSCORE z a 1
        ZRANGEBYSCORE z 1 b
        ZRANGEBYSCORE z nan 1
        ZRANGEBYSCORE z (nan 1
        ZRANGEBYSCORE z "" +inf
        ZRANGEBYSCORE z ( +inf
        ZRANGEBYSCORE z " 1" +inf
        ZRANGEBYSCORE z (1e400 +inf
        ZRANGEBYSCORE z 0x2 +inf
        ZRANGEBYSCORE z 1 2 REV
        ZRANGEBYSCORE z 1 2 BYSCORE
        ZRANGEBYSCORE nosuch 1 2
        ZCOUNT z -inf +inf
        ZCOUNT z (1 5
        ZCOUNT z 5 1
        ZCOUNT z a 1
        ZCOUNT nosuch 1 2
    """)


def test_zrange_bylex(pair):
    run(pair, """
        ZADD z 0 a 0 b 0 c 0 d 0 e 0 ff 0 g
        ZRANGEBYLEX z - +
        ZRANGEBYLEX z [b (e
        ZRANGEBYLEX z (b [e
        ZRANGEBYLEX z - [c
        ZRANGEBYLEX z [c +
        ZRANGEBYLEX z + -
        ZRANGEBYLEX z - -
        ZRANGEBYLEX z + +
        ZRANGEBYLEX z [e [b
        ZRANGEBYLEX z [b [b
        ZRANGEBYLEX z (b [b
        ZRANGEBYLEX z - + LIMIT 2 3
        ZRANGEBYLEX z - + LIMIT -1 3
        ZRANGEBYLEX z - + LIMIT 1 -1
        ZREVRANGEBYLEX z + -
        ZREVRANGEBYLEX z [e (b
        ZREVRANGEBYLEX z + - LIMIT 1 2
        ZRANGE z [b [f BYLEX
        ZRANGE z [f [b BYLEX REV LIMIT 0 2
        ZRANGEBYLEX z b c
        ZRANGEBYLEX z [a +x
        ZRANGEBYLEX z -x +
        ZRANGEBYLEX z - + WITHSCORES
        ZRANGE z - + BYLEX WITHSCORES
        ZLEXCOUNT z - +
        ZLEXCOUNT z [b (e
        ZLEXCOUNT z b e
        ZLEXCOUNT nosuch - +
        ZRANGEBYLEX nosuch - +
    """)


def test_zrangestore(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c 4 d
        ZRANGESTORE d z 0 1
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d z 2 1 BYSCORE
        EXISTS d
        ZRANGESTORE d z +inf -inf BYSCORE REV LIMIT 1 2
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZRANGESTORE d z 0 -1 WITHSCORES
        ZRANGESTORE d nosuch 0 -1
        EXISTS d
        ZRANGESTORE d z [a + BYLEX
        SET s v
        ZRANGESTORE d s 0 -1
        ZRANGESTORE s z 0 0
        TYPE s
    """)


def test_zremrange(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZREMRANGEBYRANK z 0 1
        ZREMRANGEBYRANK z 5 10
        ZREMRANGEBYRANK z -1 -1
        ZRANGE z 0 -1
        ZREMRANGEBYSCORE z (3 +inf
        ZREMRANGEBYSCORE z a b
        ZRANGE z 0 -1
        ZREMRANGEBYSCORE z -inf +inf
        EXISTS z
        ZADD z 0 a 0 b 0 c 0 d
        ZREMRANGEBYLEX z [b (d
        ZREMRANGEBYLEX z b c
        ZRANGE z 0 -1
        ZREMRANGEBYLEX z - +
        EXISTS z
        ZREMRANGEBYRANK nosuch 0 1
        ZREMRANGEBYRANK z a 1
        SET s v
        ZREMRANGEBYRANK s 0 1
        ZREMRANGEBYSCORE s 0 1
        ZREMRANGEBYLEX s - +
    """)


def test_pops(pair):
    run(pair, """
        ZPOPMIN z
        ZPOPMIN z 2
        ZPOPMAX z
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 0
        ZPOPMIN z 2
        ZPOPMAX z 5
        EXISTS z
        ZPOPMIN z 1 2
        ZPOPMIN z -1
        ZPOPMIN z abc
        ZADD z 1 a 2 b 3 c
        ZMPOP 1 z MIN
        ZMPOP 1 z MAX COUNT 5
        ZMPOP 2 nosuch z MIN
        ZMPOP 0 z MIN
        ZMPOP 1 z MIDDLE
        ZMPOP 1 z MIN COUNT 0
        ZMPOP 1 z MIN COUNT 1 COUNT 1
        ZMPOP abc z MIN
        ZADD y 1 a
        ZMPOP 2 nosuch y max count 10
        SET s v
        ZPOPMIN s
        ZMPOP 1 s MIN
        BZPOPMIN nosuch s 0
        ZADD z 7 x 8 y 9 w
        BZPOPMIN nosuch z 0
        BZPOPMAX z 0
        BZMPOP 0 1 z MIN
        BZPOPMIN z -1
        BZPOPMIN z abc
        BZMPOP abc 1 z MIN
        BZMPOP 0 0 z MIN
        BZMPOP 0 1 z FOO
    """)


def test_setops(pair):
    run(pair, """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        SADD s y w q
        ZUNION 2 a b
        ZUNION 2 a b WITHSCORES
        ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES
        ZUNION 2 a b AGGREGATE MIN WITHSCORES
        ZUNION 2 a b AGGREGATE max WITHSCORES
        ZUNION 3 a b s WITHSCORES
        ZINTER 2 a b WITHSCORES
        ZINTER 3 a b s WITHSCORES
        ZINTER 2 a nosuch
        ZDIFF 2 a b WITHSCORES
        ZDIFF 2 b s WITHSCORES
        ZDIFF 1 nosuch
        ZINTERCARD 2 a b
        ZINTERCARD 2 a b LIMIT 1
        ZINTERCARD 2 a b LIMIT 0
        ZINTERCARD 2 a b LIMIT -1
        ZINTERCARD 2 a b WITHSCORES
        ZINTERCARD 0 a
        ZUNIONSTORE d 2 a b WEIGHTS 1 2
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        ZINTERSTORE d 2 a b AGGREGATE MAX
        ZRANGE d 0 -1 WITHSCORES
        ZDIFFSTORE d 2 a b
        ZRANGE d 0 -1 WITHSCORES
        ZINTERSTORE d 2 a nosuch
        EXISTS d
        ZUNION 0 a
        ZUNION abc a
        ZUNION 3 a b
        ZUNION 2 a b WEIGHTS 1
        ZUNION 2 a b WEIGHTS 1 x
        ZUNION 2 a b AGGREGATE avg
        ZUNION 2 a b AGGREGATE
        ZDIFF 2 a b WEIGHTS 1 1
        ZDIFF 2 a b AGGREGATE SUM
        ZUNIONSTORE d 2 a b WITHSCORES
        ZUNIONSTORE d 0 a
        SET str v
        ZUNION 2 a str
        ZUNIONSTORE d 1 str
        ZADD i1 inf x
        ZADD i2 -inf x
        ZUNION 2 i1 i2 WITHSCORES
        ZUNION 2 i1 i2 WEIGHTS 0 1 WITHSCORES
        ZINTER 2 i1 i2 WITHSCORES
    """)


def test_zintercard_rejects_weights_and_aggregate(pair):
    # ZINTERCARD shares ZINTER's parser but takes only LIMIT: WEIGHTS/AGGREGATE are syntax errors
    run(pair, """
        ZADD a 1 x 2 y
        ZADD b 3 y 4 z
        ZINTERCARD 1 a WEIGHTS 1
        ZINTERCARD 2 a b WEIGHTS 1 2
        ZINTERCARD 2 a b AGGREGATE MAX
        ZINTERCARD 2 a b LIMIT 1 AGGREGATE MIN
        ZINTERCARD 2 a b WEIGHTS 1
        ZINTERCARD 2 a nosuch WEIGHTS 1 2
    """)


def test_zadd_negative_zero_in_listpack(pair):
    # a listpack stores -0 as the integer 0; a variadic ZADD that converts midway keeps the
    # sign only for the pairs added after the conversion
    run(pair, """
        CONFIG SET zset-max-listpack-entries 2
        ZADD z 1 aa -0 e 1.5 d 1e10 f
        ZMSCORE z aa e d f
        OBJECT ENCODING z
        ZADD z2 -0 a -0 b -0 c
        ZRANGE z2 0 -1 WITHSCORES
        ZADD z3 1 a
        ZADD z3 -0 b -0 c 5 d -0 e
        ZRANGE z3 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-entries 128
        CONFIG SET zset-max-listpack-value 3
        ZADD z4 -0 a -0 bbbb -0 c
        ZRANGE z4 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-value 64
        ZADD z5 -0 a -0 b
        ZRANGE z5 0 -1 WITHSCORES
    """)


def test_zadd_updates_keep_listpack_past_lowered_limits(pair):
    # Redis converts a listpack only when a new member does not fit: a variadic ZADD that
    # only updates a listpack left past lowered limits keeps it a listpack
    run(pair, """
        ZADD z 1 a 2 b 3 c 4 d
        CONFIG SET zset-max-listpack-entries 2
        ZADD z 5 a 6 b
        OBJECT ENCODING z
        ZADD z XX 8 a 9 nosuch
        OBJECT ENCODING z
        ZADD z 1 a 1 e
        OBJECT ENCODING z
        ZRANGE z 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-entries 128
        ZADD y 1 a 2 b 3 c
        CONFIG SET zset-max-listpack-value 0
        ZADD y 5 a 6 b
        OBJECT ENCODING y
        ZADD y 1 a 1 ""
        OBJECT ENCODING y
        CONFIG SET zset-max-listpack-value 64
    """)


def test_aggregate_ties_and_nan(pair):
    # MIN/MAX keep the running score on a tie (0 vs -0) and when the product is NaN (inf * 0);
    # ZINTER leaves a later source's NaN to the aggregate (SUM: 0)
    run(pair, """
        CONFIG SET zset-max-listpack-entries 0
        ZADD a inf x 0 y -0 z 1 w
        ZADD b -0 x 0 y -0 z inf w
        ZADD c inf x inf y inf z -inf w
        ZINTER 3 a b c WEIGHTS 2 0 1 WITHSCORES
        ZINTER 3 a b c WEIGHTS 2 0 1 AGGREGATE MIN WITHSCORES
        ZINTER 3 a b c WEIGHTS 2 0 1 AGGREGATE MAX WITHSCORES
        ZINTER 2 a b AGGREGATE MIN WITHSCORES
        ZINTER 2 b a AGGREGATE MAX WITHSCORES
        ZUNION 2 a b AGGREGATE MIN WITHSCORES
        ZUNION 2 b a AGGREGATE MIN WITHSCORES
        ZUNION 2 a b AGGREGATE MAX WITHSCORES
        ZINTER 3 a a a WEIGHTS 1 0 -1 WITHSCORES
        ZINTER 3 a a a WEIGHTS 1 0 -1 AGGREGATE MIN WITHSCORES
        ZINTERSTORE d 3 a b c WEIGHTS 2 0 1 AGGREGATE MIN
        ZRANGE d 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-entries 128
    """)


def test_zrangestore_negative_zero(pair):
    # ZRANGESTORE fills the new key pair by pair, starting as a listpack (for a rank range only
    # when the count fits): -0 scores added before it converts are stored as 0
    run(pair, """
        CONFIG SET zset-max-listpack-entries 0
        ZADD sk -0 a 5 xxxxxxxxxxxxxxxxxxxxxxxxx -0 b 1 c
        CONFIG SET zset-max-listpack-entries 1
        ZRANGESTORE d sk -inf +inf BYSCORE
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d sk 0 -1
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d sk - + BYLEX
        ZRANGE d 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-entries 3
        ZRANGESTORE d sk -inf +inf BYSCORE
        ZRANGE d 0 -1 WITHSCORES
        ZRANGESTORE d sk 0 -1 REV
        ZRANGE d 0 -1 WITHSCORES
        CONFIG SET zset-max-listpack-entries 128
        CONFIG SET zset-max-listpack-value 5
        ZRANGESTORE d sk 0 -1
        ZRANGE d 0 -1 WITHSCORES
        OBJECT ENCODING d
        CONFIG SET zset-max-listpack-value 64
    """)


def test_randmember_and_hrandfield_shapes(pair):
    run(pair, """
        ZRANDMEMBER nosuch
        ZRANDMEMBER nosuch 5
        ZRANDMEMBER nosuch 5 WITHSCORES
        ZADD z 1 a 2 b 3 c
        ZRANDMEMBER z 0
        ZRANDMEMBER z 3 WITHSCORES
        ZRANDMEMBER z 10
        ZRANDMEMBER z 1 WITHSCORE
        ZRANDMEMBER z 1 WITHSCORES x
        ZRANDMEMBER z abc
        ZRANDMEMBER z -9223372036854775808
        ZRANDMEMBER z 9223372036854775807 WITHSCORES
        ZRANDMEMBER z -9223372036854775807 WITHSCORES
    """)
    for _ in range(5):
        a = pair.durakv.parsed("ZRANDMEMBER", "z", "-5", "WITHSCORES")
        assert len(a) in (5, 10)
        b = pair.durakv.parsed("ZRANDMEMBER", "z")
        assert b in (b"a", b"b", b"c")
        assert len(set(pair.durakv.parsed("ZRANDMEMBER", "z", "2"))) == 2


def test_zscan(pair):
    run(pair, """
        ZADD z 1 a 2 b 3 c
        ZSCAN z 0
        ZSCAN z 0 MATCH a*
        ZSCAN z 0 COUNT 1
        ZSCAN z abc
        ZSCAN z 0 COUNT 0
        ZSCAN z 0 TYPE zset
        ZSCAN nosuch 0
    """)


@pytest.mark.parametrize("n", [5, 200])
def test_encodings_and_big(pair, n):
    pair.check("CONFIG", "SET", "zset-max-listpack-entries", "128")
    args = []
    for i in range(n):
        args += [str(i % 17), f"m{i:04d}"]
    pair.check("ZADD", "z", *args)
    pair.check("OBJECT", "ENCODING", "z")
    pair.check("ZRANGE", "z", "0", "-1", "WITHSCORES")
    pair.check("ZRANGE", "z", "5", "100", "REV")
    pair.check("ZRANGEBYSCORE", "z", "(3", "10", "LIMIT", "3", "7")
    pair.check("ZREVRANGEBYSCORE", "z", "10", "(3", "LIMIT", "3", "7", "WITHSCORES")
    pair.check("ZRANK", "z", "m0100")
    pair.check("ZREVRANK", "z", "m0003")
    pair.check("ZCOUNT", "z", "2", "(9")
    pair.check("ZADD", "z", "INCR", "3.5", "m0002")
    pair.check("ZREM", "z", "m0001", "m0003")
    pair.check("ZREMRANGEBYSCORE", "z", "16", "16")
    pair.check("ZREMRANGEBYRANK", "z", "0", "2")
    pair.check("ZPOPMAX", "z", "3")
    pair.check("ZRANGE", "z", "0", "-1", "WITHSCORES")
    pair.check("ZADD", "lex", *[x for i in range(n) for x in ("0", f"k{i:04d}")])
    pair.check("ZRANGEBYLEX", "lex", "[k0003", "(k0100", "LIMIT", "2", "5")
    pair.check("ZREVRANGEBYLEX", "lex", "(k0100", "[k0003", "LIMIT", "2", "5")
    pair.check("ZLEXCOUNT", "lex", "(k0003", "+")
    pair.check("ZREMRANGEBYLEX", "lex", "[k0010", "[k0020")
    pair.check("ZRANGE", "lex", "0", "-1")
    pair.check("OBJECT", "ENCODING", "lex")


def test_encoding_thresholds(pair):
    pair.check("CONFIG", "SET", "zset-max-listpack-entries", "3")
    pair.check("CONFIG", "SET", "zset-max-listpack-value", "4")
    try:
        run(pair, """
            ZADD a 1 x 2 y 3 z
            OBJECT ENCODING a
            ZADD a 4 w
            OBJECT ENCODING a
            ZREM a w x
            OBJECT ENCODING a
            ZADD b 1 longmember
            OBJECT ENCODING b
            ZADD c 1 x
            ZADD c 1 longer
            OBJECT ENCODING c
            ZUNIONSTORE d 1 a
            OBJECT ENCODING d
            ZRANGESTORE e a 0 0
            OBJECT ENCODING e
            CONFIG SET zset-max-listpack-entries 0
            ZADD f 1 x
            OBJECT ENCODING f
        """)
    finally:
        pair.check("CONFIG", "SET", "zset-max-listpack-entries", "128")
        pair.check("CONFIG", "SET", "zset-max-listpack-value", "64")


def test_lex_range_on_mixed_scores(pair):
    run(pair, """
        ZADD z 2 b 0 x 0 y
        ZRANGEBYLEX z [x [x
        ZLEXCOUNT z [x +
        ZREMRANGEBYLEX z [x [x
        ZREVRANGEBYLEX z + [x
        ZRANGE z 0 -1
    """)


EVENT_SCRIPT = """
hset h a 1
hsetnx h b 2
hincrby h c 1
hincrbyfloat h d 1.5
hdel h a b c d
lpush l a b
rpush l c
linsert l before a x
lset l 0 y
lpop l
rpop l 2
lmove l l2 left right
rpoplpush l2 l
ltrim l 0 0
lrem l 0 y
rpush l a
lmpop 1 l left
sadd s a b c
srem s a
smove s s2 b
spop s
sadd s 1 2 3
sinterstore d s s
sunionstore d s s2
sdiffstore d s s
zadd z 1 a 2 b 3 c
zincrby z 1 a
zadd z incr 1 a
zrem z a
zremrangebyscore z 0 2
zadd z 1 a 2 b
zremrangebyrank z 0 0
zadd z 0 x 0 y
zremrangebylex z [x [x
zpopmin z
zpopmax z
zadd z 1 a 2 b
zunionstore z2 1 z
zinterstore z2 1 z
zdiffstore z2 1 z
zrangestore z3 z 0 -1
zmpop 1 z min count 5
rpush sl 3 2 1
sort sl store sorted
"""


def _events(port: int) -> list:
    from tests.support.notify import keyspace_events
    from tests.support.raw import Raw

    a = Raw(port)
    a.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        cmds = [tuple(_split(line)) for line in EVENT_SCRIPT.strip().splitlines()]
        _, msgs = keyspace_events(port, cmds, pattern="__keyevent*__:*")
        return [(m[2], m[3]) for m in msgs]
    finally:
        a.call("CONFIG", "SET", "notify-keyspace-events", "")
        a.close()


def test_keyspace_events_all_types(redis_proc, durakv_proc):
    want = _events(redis_proc.port)
    assert len(want) > 40
    assert _events(durakv_proc.port) == want


def test_union_float_sum_order(pair):
    run(pair, """
        ZADD a 0.1 m 1 x 2 y 3 z
        ZADD b 0.2 m
        ZADD c 0.3 m 5 q
        ZUNION 3 a b c WITHSCORES
        ZUNION 3 c b a WITHSCORES
        ZINTER 3 a b c WITHSCORES
        ZINTER 3 c a b WEIGHTS 0.7 1.3 3.1 WITHSCORES
        ZUNIONSTORE d 3 a c b WEIGHTS 0.1 0.2 0.3
        ZRANGE d 0 -1 WITHSCORES
    """)
