"""Hypothesis state machine: random sequences of hash/list/set/zset commands run against a
real redis-server and durakv; every reply must match (replies Redis leaves unordered are
compared as multisets).  Random-choice commands are left out: their replies differ by
design."""

from __future__ import annotations

import os

import hiredis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from tests.support.raw import Raw

KEYS = st.sampled_from(["k1", "k2", "k3"])
MEMBERS = st.sampled_from(["a", "b", "c", "dd", "1", "2", "10", "-3", "x" * 70])
SCORES = st.sampled_from(["0", "1", "2", "-1", "1.5", "inf", "-inf", "3e2", "(1", "abc"])
INTS = st.integers(min_value=-4, max_value=6).map(str)
LEX = st.sampled_from(["-", "+", "[a", "(b", "[c", "(dd", "[1", "x"])
POS = st.sampled_from(["LEFT", "RIGHT"])


def _cmds() -> st.SearchStrategy[list[str]]:
    k = KEYS
    m = MEMBERS
    ms = st.lists(MEMBERS, min_size=1, max_size=4)
    pairs = st.lists(st.tuples(SCORES, MEMBERS), min_size=1, max_size=3).map(
        lambda ps: [x for p in ps for x in p])
    fv = st.lists(st.tuples(MEMBERS, MEMBERS), min_size=1, max_size=3).map(
        lambda ps: [x for p in ps for x in p])
    c = st.tuples
    return st.one_of(
        # hashes
        c(st.just("HSET"), k, fv).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.just("HSETNX"), k, m, m).map(list),
        c(st.sampled_from(["HGET", "HEXISTS", "HSTRLEN"]), k, m).map(list),
        c(st.just("HMGET"), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.just("HDEL"), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.sampled_from(["HLEN", "HKEYS", "HVALS", "HGETALL"]), k).map(list),
        c(st.just("HINCRBY"), k, m, INTS).map(list),
        c(st.just("HINCRBYFLOAT"), k, m, SCORES).map(list),
        # lists
        c(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.sampled_from(["LPOP", "RPOP"]), k).map(list),
        c(st.sampled_from(["LPOP", "RPOP"]), k, INTS).map(list),
        c(st.just("LLEN"), k).map(list),
        c(st.just("LINDEX"), k, INTS).map(list),
        c(st.sampled_from(["LRANGE", "LTRIM"]), k, INTS, INTS).map(list),
        c(st.just("LSET"), k, INTS, m).map(list),
        c(st.just("LREM"), k, INTS, m).map(list),
        c(st.just("LINSERT"), k, st.sampled_from(["BEFORE", "AFTER"]), m, m).map(list),
        c(st.just("LPOS"), k, m, st.sampled_from([[], ["RANK", "-1"], ["COUNT", "0"], ["RANK", "2", "COUNT", "1"],
                                                  ["MAXLEN", "2"]])).map(lambda t: [t[0], t[1], t[2], *t[3]]),
        c(st.just("LMOVE"), k, k, POS, POS).map(list),
        c(st.just("RPOPLPUSH"), k, k).map(list),
        c(st.just("LMPOP"), st.just("2"), k, k, POS, st.sampled_from([[], ["COUNT", "2"]])).map(
            lambda t: [t[0], t[1], t[2], t[3], t[4], *t[5]]),
        # sets
        c(st.sampled_from(["SADD", "SREM"]), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.sampled_from(["SCARD", "SMEMBERS"]), k).map(list),
        c(st.just("SISMEMBER"), k, m).map(list),
        c(st.just("SMISMEMBER"), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.just("SMOVE"), k, k, m).map(list),
        c(st.sampled_from(["SINTER", "SUNION", "SDIFF"]), k, k).map(list),
        c(st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k, k, k).map(list),
        c(st.just("SINTERCARD"), st.just("2"), k, k).map(list),
        # sorted sets
        c(st.just("ZADD"), k, st.sampled_from([[], ["NX"], ["XX"], ["GT"], ["LT", "CH"], ["CH"]]), pairs).map(
            lambda t: [t[0], t[1], *t[2], *t[3]]),
        c(st.just("ZINCRBY"), k, SCORES, m).map(list),
        c(st.just("ZREM"), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.sampled_from(["ZCARD"]), k).map(list),
        c(st.sampled_from(["ZSCORE", "ZRANK", "ZREVRANK"]), k, m).map(list),
        c(st.just("ZMSCORE"), k, ms).map(lambda t: [t[0], t[1], *t[2]]),
        c(st.sampled_from(["ZCOUNT", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZREMRANGEBYSCORE"]), k, SCORES,
          SCORES).map(list),
        c(st.sampled_from(["ZLEXCOUNT", "ZRANGEBYLEX", "ZREMRANGEBYLEX"]), k, LEX, LEX).map(list),
        c(st.sampled_from(["ZRANGE", "ZREVRANGE", "ZREMRANGEBYRANK"]), k, INTS, INTS).map(list),
        c(st.just("ZRANGE"), k, SCORES, SCORES, st.sampled_from([["BYSCORE"], ["BYSCORE", "REV"],
                                                                ["BYSCORE", "LIMIT", "1", "2"], ["WITHSCORES"]])
          ).map(lambda t: [t[0], t[1], t[2], t[3], *t[4]]),
        c(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), k).map(list),
        c(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), k, INTS).map(list),
        c(st.sampled_from(["ZUNION", "ZINTER", "ZDIFF"]), st.just("2"), k, k, st.just("WITHSCORES")).map(list),
        c(st.sampled_from(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k, st.just("2"), k, k).map(list),
        c(st.just("ZRANGESTORE"), k, k, INTS, INTS).map(list),
        c(st.just("ZMPOP"), st.just("2"), k, k, st.sampled_from(["MIN", "MAX"])).map(list),
        # random-choice commands in their deterministic forms (count >= size)
        c(st.sampled_from(["HRANDFIELD", "SRANDMEMBER", "SPOP"]), k, st.just("100")).map(list),
        c(st.just("ZRANDMEMBER"), k, st.just("100"), st.just("WITHSCORES")).map(list),
        c(st.sampled_from(["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"]), k, k, st.just("0.01")).map(list),
        c(st.just("BLMOVE"), k, k, POS, POS, st.just("0.01")).map(list),
        # generic glue
        c(st.sampled_from(["TYPE", "EXISTS", "DEL"]), k).map(list),
        c(st.just("SORT"), k, st.sampled_from([[], ["ALPHA"], ["DESC", "ALPHA", "LIMIT", "1", "2"]])).map(
            lambda t: [t[0], t[1], *t[2]]),
    )


UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "HRANDFIELD", "SRANDMEMBER", "SPOP"}


def _norm(cmd: str, reply: object) -> object:
    if isinstance(reply, hiredis.ReplyError):
        return ("error", str(reply))
    if cmd in UNORDERED and isinstance(reply, list):
        return sorted(map(repr, reply))
    if cmd == "HGETALL" and isinstance(reply, list):
        return sorted(zip(reply[0::2], reply[1::2]))
    return reply


def _parsed(raw: Raw, argv: list[str]) -> object:
    from tests.support.raw import encode

    raw.send(encode(*argv))
    reader = hiredis.Reader()
    while True:
        r = reader.gets()
        if r is not False:
            return r
        reader.feed(raw.sock.recv(1 << 20))


def make_machine(redis_port: int, durakv_port: int, proto: int) -> type[RuleBasedStateMachine]:
    class DataTypes(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.r = Raw(redis_port, proto)
            self.d = Raw(durakv_port, proto)
            self.r.call("FLUSHALL")
            self.d.call("FLUSHALL")

        @rule(argv=_cmds())
        def command(self, argv: list[str]) -> None:
            a = _norm(argv[0], _parsed(self.r, argv))
            b = _norm(argv[0], _parsed(self.d, argv))
            assert b == a, f"{argv}: durakv {b!r} != redis {a!r}"

        def teardown(self) -> None:
            for k in ("k1", "k2", "k3"):
                a = _parsed(self.r, ["TYPE", k])
                b = _parsed(self.d, ["TYPE", k])
                assert a == b
                if a in (b"zset", "zset"):
                    assert _parsed(self.d, ["ZRANGE", k, "0", "-1", "WITHSCORES"]) == \
                        _parsed(self.r, ["ZRANGE", k, "0", "-1", "WITHSCORES"])
                    assert _parsed(self.d, ["OBJECT", "ENCODING", k]) == _parsed(self.r, ["OBJECT", "ENCODING", k])
                if a in (b"list", "list"):
                    assert _parsed(self.d, ["LRANGE", k, "0", "-1"]) == _parsed(self.r, ["LRANGE", k, "0", "-1"])
                if a in (b"hash", "hash"):
                    assert _parsed(self.d, ["OBJECT", "ENCODING", k]) == _parsed(self.r, ["OBJECT", "ENCODING", k])
                if a in (b"set", "set"):
                    assert _parsed(self.d, ["OBJECT", "ENCODING", k]) == _parsed(self.r, ["OBJECT", "ENCODING", k])
            self.r.close()
            self.d.close()

    return DataTypes


@pytest.mark.parametrize("proto", [2, 3])
def test_random_sequences_match_redis(redis_proc, durakv_proc, proto):
    machine = make_machine(redis_proc.port, durakv_proc.port, proto)
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=int(os.environ.get("DT_EXAMPLES", "40")), stateful_step_count=40, deadline=None, derandomize=False,
                          suppress_health_check=list(HealthCheck)),
    )
