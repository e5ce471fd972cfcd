"""SORT and SORT_RO: byte-exact differential tests against redis-server (RESP2 and RESP3)."""

from __future__ import annotations

import shlex


def run(pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pair.check(*shlex.split(line))


def test_sort_lists(pair):
    run(pair, """
        RPUSH l 3 1 2 10 -1.5 1e2
        SORT l
        SORT l DESC
        SORT l LIMIT 1 3
        SORT l LIMIT -5 2
        SORT l LIMIT 2 -1
        SORT l LIMIT 100 2
        SORT l DESC LIMIT 0 2
        SORT l ALPHA
        SORT l ALPHA DESC
        SORT_RO l
        SORT_RO l DESC LIMIT 1 1
        SORT nosuch
        SORT nosuch STORE d
        RPUSH w a 1
        SORT w
        SORT w ALPHA
        SORT l LIMIT a b
        SORT l LIMIT 1
        SORT l FOO
        SORT_RO l STORE d
        SET s v
        SORT s
        SORT_RO s
    """)


def test_sort_by_get(pair):
    run(pair, """
        RPUSH l 1 2 3 4
        MSET w_1 40 w_2 30 w_3 20 w_4 10 o_1 one o_2 two o_3 three
        HSET h_1 f 4 name a
        HSET h_2 f 3 name b
        HSET h_3 f 2
        SORT l BY w_*
        SORT l BY w_* DESC
        SORT l BY w_* GET o_*
        SORT l BY w_* GET # GET o_* GET h_*->name
        SORT l BY h_*->f
        SORT l BY h_*->f GET h_*->name GET #
        SORT l BY nosort
        SORT l BY nosort DESC
        SORT l BY nosort LIMIT 1 2
        SORT l BY nosort DESC LIMIT 1 2
        SORT l BY o_* ALPHA
        SORT l BY o_* ALPHA DESC
        SORT l BY missing_* ALPHA
        SORT l GET nostar
        SORT l GET #
        SORT l BY o_*
        SORT l BY w_* LIMIT 1 2 GET o_*
        SORT l BY h_*-> GET h_*->
    """)


def test_sort_sets_and_zsets(pair):
    run(pair, """
        SADD s 5 3 9 1
        SORT s
        SORT s DESC LIMIT 0 2
        SORT s BY nosort STORE d
        LRANGE d 0 -1
        SADD t b a c
        SORT t ALPHA
        SORT t BY nosort STORE d
        LRANGE d 0 -1
        SORT t
        ZADD z 3 a 1 b 2 c
        OBJECT ENCODING z
        SORT z BY nosort
        OBJECT ENCODING z
        SORT z BY nosort DESC LIMIT 1 5
        SORT z ALPHA
        SORT z BY nosort LIMIT 1 1
        ZADD n 1 10 2 9 3 8
        SORT n
        SORT n BY nosort GET #
    """)


def test_sort_store(pair):
    run(pair, """
        RPUSH l 3 1 2
        SORT l STORE d
        LRANGE d 0 -1
        TYPE d
        SET x v
        SORT l STORE x
        TYPE x
        SORT l GET nope_* STORE d
        LRANGE d 0 -1
        SORT nosuch STORE d
        EXISTS d
        SORT l STORE a STORE b
        EXISTS a b
        SORT l LIMIT 5 5 STORE b
        EXISTS b
    """)


def test_sort_keys_movable(pair):
    pair.check("COMMAND", "GETKEYS", "SORT", "l", "BY", "x_*", "GET", "store", "STORE", "dst")
    pair.check("COMMAND", "GETKEYS", "SORT", "l", "LIMIT", "0", "1", "STORE", "a", "STORE", "b")
    pair.check("COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "x_*")
