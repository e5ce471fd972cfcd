"""List commands (non-blocking forms and the immediate paths of the blocking ones):
byte-exact differential tests against redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import shlex

from tests.support.stats import dirty_deltas


def run(pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*shlex.split(line))


def test_push_pop(pair):
    run(pair, """
        LPUSH l a b c
        RPUSH l d e
        LRANGE l 0 -1
        LPUSHX nosuch a
        RPUSHX nosuch a
        LPUSHX l x
        RPUSHX l y z
        LLEN l
        LLEN nosuch
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 2
        LPOP l 0
        LPOP l -1
        LPOP l abc
        LPOP l 1 2
        RPOP l 100
        EXISTS l
        LPOP l
        LPOP l 2
        RPOP l 0
        OBJECT ENCODING nosuch
        RPUSH l a
        OBJECT ENCODING l
        SET s v
        LPUSH s a
        RPUSHX s a
        LPOP s
        RPOP s 2
        LLEN s
    """)


def test_index_range(pair):
    run(pair, """
        RPUSH l a b c d e f g
        LINDEX l 0
        LINDEX l -1
        LINDEX l 7
        LINDEX l -8
        LINDEX l abc
        LINDEX nosuch abc
        LRANGE l 2 4
        LRANGE l -3 -1
        LRANGE l -100 100
        LRANGE l 5 2
        LRANGE l 7 10
        LRANGE l 0 0
        LRANGE l a 1
        LRANGE nosuch 0 -1
        LRANGE nosuch a 1
        LSET l 0 A
        LSET l -1 G
        LSET l 7 x
        LSET l abc x
        LSET nosuch 0 x
        LRANGE l 0 -1
        SET s v
        LINDEX s 0
        LRANGE s 0 1
        LSET s 0 x
    """)


def test_insert_rem_trim(pair):
    run(pair, """
        RPUSH l a b c a b c a
        LINSERT l BEFORE b X
        LINSERT l AFTER c Y
        LINSERT l after nosuch Z
        LINSERT l middle a Z
        LINSERT nosuch BEFORE a b
        LRANGE l 0 -1
        LREM l 2 a
        LREM l -1 c
        LREM l 0 b
        LREM l 1 nosuch
        LREM l abc a
        LREM nosuch 0 a
        LRANGE l 0 -1
        LTRIM l 1 -2
        LRANGE l 0 -1
        LTRIM l 0 100
        LRANGE l 0 -1
        LTRIM l a 1
        LTRIM nosuch 0 1
        LTRIM l 5 1
        EXISTS l
        RPUSH m 1 2 3 4 5 6 7 8 9
        LTRIM m -3 -1
        LRANGE m 0 -1
        LREM m 0 8
        LREM m 0 7
        LREM m 0 9
        EXISTS m
        SET s v
        LINSERT s BEFORE a b
        LREM s 0 a
        LTRIM s 0 1
    """)


def test_lpos(pair):
    run(pair, """
        RPUSH l a b c a b c a
        LPOS l a
        LPOS l c
        LPOS l nosuch
        LPOS l a RANK 2
        LPOS l a RANK -1
        LPOS l a RANK -2
        LPOS l a RANK 10
        LPOS l a COUNT 0
        LPOS l a COUNT 2
        LPOS l a COUNT 2 RANK -1
        LPOS l a COUNT 0 MAXLEN 4
        LPOS l a MAXLEN 1 RANK 2
        LPOS l a RANK -9223372036854775808
        LPOS l a RANK -9223372036854775808 COUNT 2
        LPOS l a RANK 9223372036854775807
        LPOS l a RANK 0
        LPOS l a COUNT -1
        LPOS l a MAXLEN -1
        LPOS l a RANK
        LPOS l a FOO 1
        LPOS l a RANK x
        LPOS l a COUNT x
        LPOS l a MAXLEN 1.5
        LPOS l a RANK 1 RANK 2
        LPOS nosuch a
        LPOS nosuch a COUNT 1
        SET s v
        LPOS s a
    """)


def test_moves(pair):
    run(pair, """
        RPUSH src a b c
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LMOVE src dst left left
        LMOVE src dst LEFT RIGHT
        EXISTS src
        LRANGE dst 0 -1
        LMOVE dst dst LEFT RIGHT
        LRANGE dst 0 -1
        LMOVE dst dst UP RIGHT
        LMOVE dst dst LEFT DOWN
        RPOPLPUSH dst other
        RPOPLPUSH nosuch other
        LRANGE other 0 -1
        RPUSH one x
        RPOPLPUSH one one
        LRANGE one 0 -1
        SET s v
        LMOVE dst s LEFT RIGHT
        LMOVE s dst LEFT RIGHT
        RPOPLPUSH dst s
        RPOPLPUSH nosuch s
        LRANGE dst 0 -1
    """)


def test_lmpop_and_immediate_blocking_forms(pair):
    run(pair, """
        RPUSH a 1 2 3
        RPUSH b 4 5
        LMPOP 2 nosuch a LEFT
        LMPOP 2 a b RIGHT COUNT 10
        LMPOP 2 a b LEFT COUNT 1
        LMPOP 1 nosuch LEFT
        LMPOP 0 a LEFT
        LMPOP -1 a LEFT
        LMPOP abc a LEFT
        LMPOP 2 a LEFT
        LMPOP 1 a MIDDLE
        LMPOP 1 a LEFT COUNT 0
        LMPOP 1 a LEFT COUNT -1
        LMPOP 1 a LEFT COUNT 1 COUNT 1
        LMPOP 1 a LEFT FOO
        RPUSH c x y z
        BLPOP nosuch c 0
        BRPOP c nosuch 0
        BLMOVE c d LEFT RIGHT 0
        BRPOPLPUSH d c 0
        BLMPOP 0 1 c LEFT COUNT 5
        BLPOP c -1
        BLPOP c abc
        BLPOP c inf
        BLPOP c 1e30
        BLPOP c nan
        BLMOVE c d LEFT UP 0
        BLMOVE c d LEFT RIGHT abc
        BLMPOP abc 1 c MIDDLE
        BLMPOP abc 1 c LEFT
        BLMPOP 0 0 c LEFT
        SET s v
        BLPOP s 0
        BLMPOP 0 1 s LEFT
        LMPOP 1 s LEFT
        BLMOVE s d LEFT RIGHT 0
        BLPOP nosuch 0.01
        BRPOP nosuch 0.01
        BLMOVE nosuch d LEFT RIGHT 0.01
        BRPOPLPUSH nosuch d 0.01
        BLMPOP 0.01 1 nosuch LEFT
        BLPOP nosuch 0.0001
        BLPOP nosuch 0.001
        BZPOPMIN nosuch 0.0009
        BLPOP nosuch 1e-320
    """)


def test_multi_makes_blocking_non_blocking(pair):
    run(pair, """
        MULTI
        BLPOP nosuch 0
        BLMOVE nosuch d LEFT RIGHT 0
        BLMPOP 0 1 nosuch LEFT
        BZPOPMIN nosuch 0
        BZMPOP 0 1 nosuch MIN
        RPUSH l a
        BLPOP l 0
        EXEC
    """)


def test_big_list(pair):
    pair.check("RPUSH", "l", *[str(i) for i in range(1000)])
    pair.check("LRANGE", "l", "0", "99")
    pair.check("LRANGE", "l", "-100", "-1")
    pair.check("LRANGE", "l", "450", "560")
    pair.check("LINDEX", "l", "777")
    pair.check("LTRIM", "l", "600", "-1")
    pair.check("LRANGE", "l", "0", "2")
    pair.check("LTRIM", "l", "0", "10")
    pair.check("LRANGE", "l", "0", "-1")


def test_dirty_counts_elements(pair):
    """server.dirty as Redis 7.0 counts it: one per pushed, popped, removed or trimmed
    element, one per LMOVE/RPOPLPUSH/LINSERT/LSET, none when nothing changed."""
    cmds = [
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f", "g", "h"), ("LPUSH", "l", "x", "y"),
        ("LPUSHX", "l", "1", "2", "3"), ("RPUSHX", "nol", "1", "2"), ("LPOP", "l"), ("RPOP", "l", "3"),
        ("LPOP", "l", "0"), ("LPOP", "nol", "2"), ("LINSERT", "l", "BEFORE", "c", "cc"),
        ("LINSERT", "l", "BEFORE", "nope", "q"), ("LSET", "l", "0", "v"), ("LTRIM", "l", "1", "-2"),
        ("LREM", "l", "0", "nope"), ("RPUSH", "l", "c", "c", "c"), ("LREM", "l", "0", "c"),
        ("LREM", "l", "-1", "d"), ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l", "l2"),
        ("RPOPLPUSH", "l", "l"), ("LMOVE", "nol", "l2", "LEFT", "LEFT"), ("LMPOP", "2", "nol", "l", "LEFT", "COUNT", "2"),
        ("BLPOP", "l", "0"), ("BLMOVE", "l2", "l3", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "l3", "l4", "0"),
        ("BLMPOP", "0", "1", "l2", "RIGHT", "COUNT", "5"), ("RPUSH", "t", "a", "b"), ("LTRIM", "t", "0", "-1"),
        ("LTRIM", "t", "0", "5"), ("LTRIM", "t", "5", "1"),
    ]
    assert dirty_deltas(pair.durakv, cmds) == dirty_deltas(pair.redis, cmds)


def test_a_trim_that_removes_nothing_is_answered_and_still_signals_watchers(pair):
    # nothing to log (Redis does not propagate it), so nothing for the reply to wait on;
    # WATCH is touched all the same (signalModifiedKey)
    pair.check("RPUSH", "t", "a", "b")
    pair.check("WATCH", "t")
    pair.check("LTRIM", "t", "0", "-1")
    pair.check("MULTI")
    pair.check("LRANGE", "t", "0", "-1")
    pair.check("EXEC")
    pair.check("LTRIM", "t", "0", "-1")
    pair.check("LRANGE", "t", "0", "-1")
