"""Replaying the log gives identical data: DEBUG DIGEST before a kill -9 equals after recovery.

A seeded random workload over every data type, including the commands whose effects must
be rewritten to be deterministic (relative TTLs, SPOP, SRANDMEMBER-free picks, INCRBYFLOAT,
XADD *, MULTI/EXEC), runs against a durable node; the node is killed and recovered from
the log alone, then from a snapshot plus the log after it.
"""

from __future__ import annotations

import random
import time

import redis

from tests.support.procs import start_durakv


def workload(r: redis.Redis, seed: int, n: int) -> None:
    rng = random.Random(seed)
    p = r.pipeline(transaction=False)
    for i in range(n):
        k = rng.randrange(30)
        op = rng.randrange(22)
        if op == 0:
            p.set(f"s{k}", rng.randbytes(rng.randrange(1, 40)))
        elif op == 1:
            p.set(f"s{k}", i, ex=rng.randrange(100, 1000))
        elif op == 2:
            p.incrbyfloat(f"f{k}", rng.random() * 10)
        elif op == 3:
            p.incr(f"n{k}")
        elif op == 4:
            p.rpush(f"l{k}", *[rng.randrange(1000) for _ in range(rng.randrange(1, 5))])
        elif op == 5:
            p.lpop(f"l{k}")
        elif op == 6:
            p.hset(f"h{k}", f"f{rng.randrange(10)}", rng.randrange(10**6))
        elif op == 7:
            p.hincrbyfloat(f"h{k}", "float", 1.5)
        elif op == 8:
            p.sadd(f"t{k}", *[rng.randrange(50) for _ in range(3)])
        elif op == 9:
            p.spop(f"t{k}")
        elif op == 10:
            p.zadd(f"z{k}", {f"m{rng.randrange(20)}": rng.random() * 100})
        elif op == 11:
            p.zincrby(f"z{k}", 0.25, f"m{rng.randrange(20)}")
        elif op == 12:
            p.xadd(f"x{k}", {"v": i})
        elif op == 13:
            p.expire(f"l{k}", rng.randrange(100, 1000))
        elif op == 14:
            p.delete(f"s{k}")
        elif op == 15:
            p.append(f"s{k}", "tail")
        elif op == 16:
            p.pexpire(f"h{k}", 3)  # expires (lazily/actively) during the run: DEL effects
        elif op == 17:
            p.lmove(f"l{k}", f"l{(k + 1) % 30}", "LEFT", "RIGHT")
        elif op == 18:
            p.zpopmin(f"z{k}")
        elif op == 19:
            p.setrange(f"s{k}", rng.randrange(10), "xy")
        elif op == 20:
            p.srandmember(f"t{k}")
        else:
            tx = r.pipeline(transaction=True)
            tx.incr(f"n{k}")
            tx.set(f"tx{k}", i, px=rng.randrange(10**5, 10**6))
            tx.execute()
        if i % 100 == 99:
            p.execute()
            time.sleep(0.001)
    p.execute()


def digest(r: redis.Redis) -> bytes:
    return r.execute_command("DEBUG", "DIGEST")


def test_replay_gives_identical_data(tmp_path):
    p = start_durakv("--appendfsync", "always", workdir=str(tmp_path))
    try:
        r = redis.Redis(port=p.port)
        workload(r, 7, 3000)
        time.sleep(0.02)  # let the short TTLs expire and their DELs reach the log
        r.keys("*")
        before = digest(r)
        assert before != b"0" * 40
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert digest(r) == before
        # snapshot in the middle, more writes, then recovery from snapshot + log tail
        assert r.bgsave()
        workload(r, 8, 1500)
        deadline = time.monotonic() + 30
        while r.info("persistence")["rdb_bgsave_in_progress"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.02)  # as above: the 3 ms TTLs of the last writes run out first
        r.keys("*")
        before = digest(r)
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert r.info("persistence")["snapshot_seq"] > 0
        assert digest(r) == before
        r.execute_command("DEBUG", "RELOAD")
        assert digest(r) == before
    finally:
        p.stop()
