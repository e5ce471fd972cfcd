"""Random command sequences over strings, bitmaps and generic keys, against both servers.

Hypothesis draws sequences from a small grammar over a handful of keys and values (so
commands collide: wrong types, missing keys, overwrites) and every reply must be the same
bytes from durakv as from redis-server, in RESP2 and RESP3.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["a", "b", "c", "{x}d"]
VALUES = ["", "0", "1", "-7", "12345678901234567890", "3.5", "foo", "bar baz", "\x00\xff", "99"]
INTS = ["0", "1", "-1", "5", "100", "-100", "9223372036854775807", "x", "1.5"]

key = st.sampled_from(KEYS)
val = st.sampled_from(VALUES)
num = st.sampled_from(INTS)
small = st.sampled_from(["0", "1", "2", "-1", "-3", "10", "100"])

command = st.one_of(
    st.tuples(st.just("SET"), key, val),
    st.tuples(st.just("SET"), key, val, st.sampled_from(["NX", "XX", "GET", "KEEPTTL", "NX GET", "XX GET"])).map(
        lambda t: (t[0], t[1], t[2], *t[3].split())),
    st.tuples(st.just("GET"), key),
    st.tuples(st.just("APPEND"), key, val),
    st.tuples(st.sampled_from(["INCR", "DECR"]), key),
    st.tuples(st.sampled_from(["INCRBY", "DECRBY"]), key, num),
    st.tuples(st.just("GETRANGE"), key, small, small),
    st.tuples(st.just("SETRANGE"), key, st.sampled_from(["0", "1", "5", "-1"]), val),
    st.tuples(st.just("STRLEN"), key),
    st.tuples(st.just("DEL"), key, key),
    st.tuples(st.just("EXISTS"), key, key),
    st.tuples(st.just("TYPE"), key),
    st.tuples(st.sampled_from(["RENAME", "RENAMENX"]), key, key),
    st.tuples(st.just("COPY"), key, key),
    st.tuples(st.just("COPY"), key, key, st.just("REPLACE")),
    st.tuples(st.sampled_from(["GETDEL", "GETSET"]), key).map(lambda t: t + (("v",) if t[0] == "GETSET" else ())),
    st.tuples(st.just("MSET"), key, val, key, val),
    st.tuples(st.just("MSETNX"), key, val, key, val),
    st.tuples(st.just("MGET"), key, key, key),
    st.tuples(st.just("SETNX"), key, val),
    st.tuples(st.just("EXPIRE"), key, st.sampled_from(["1000", "0", "-5", "x"])),
    st.tuples(st.just("EXPIRE"), key, st.just("1000"), st.sampled_from(["NX", "XX", "GT", "LT", "NX XX"])).map(
        lambda t: (t[0], t[1], t[2], *t[3].split())),
    st.tuples(st.just("PERSIST"), key),
    st.tuples(st.just("SETBIT"), key, st.sampled_from(["0", "7", "100", "-1"]), st.sampled_from(["0", "1", "2"])),
    st.tuples(st.just("GETBIT"), key, st.sampled_from(["0", "7", "100"])),
    st.tuples(st.just("BITCOUNT"), key),
    st.tuples(st.just("BITCOUNT"), key, small, small),
    st.tuples(st.just("BITPOS"), key, st.sampled_from(["0", "1"])),
    st.tuples(st.just("BITOP"), st.sampled_from(["AND", "OR", "XOR"]), key, key, key),
    st.tuples(st.just("LCS"), key, key),
    st.tuples(st.just("INCRBYFLOAT"), key, st.sampled_from(["0.1", "1", "-2.5", "1e3", "x"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(command, min_size=1, max_size=25))
def test_random_sequences_match_redis(pair, cmds):
    pair.redis.call("FLUSHALL")
    pair.durakv.call("FLUSHALL")
    for cmd in cmds:
        pair.check(*cmd)
    for k in KEYS:
        pair.check("GET", k) if pair.redis.call("TYPE", k) == b"+string\r\n" else pair.check("TYPE", k)
