"""maxmemory, the eight eviction policies, OOM errors, evicted-key effects, memory accounting."""

from __future__ import annotations

import time

import pytest
import redis

from tests.support.procs import start_durakv
from tests.support.raw import Raw

POLICIES = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
            "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]


@pytest.fixture(scope="module")
def node():
    p = start_durakv("--appendonly", "no", "--hz", "50")
    yield p
    p.stop()


@pytest.fixture
def c(node):
    cl = redis.Redis(port=node.port)
    cl.config_set("maxmemory", 0)
    cl.config_set("maxmemory-policy", "noeviction")
    cl.flushall()
    cl.config_resetstat()
    yield cl
    cl.config_set("maxmemory", 0)
    cl.config_set("maxmemory-policy", "noeviction")
    cl.flushall()
    cl.close()


def _limit(c: redis.Redis, extra: int) -> int:
    base = c.info("memory")["used_memory"]
    c.config_set("maxmemory", base + extra)
    return base + extra


def test_oom_error_text_matches_redis(pair):
    try:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "maxmemory", "1")
        pair.check("SET", "k", "v")
        pair.check("GET", "k")  # reads still work
        pair.check("DEL", "k")  # not denyoom
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "maxmemory", "0")


def test_one_big_value_over_the_limit_evicts_at_the_next_command(pair):
    """A single big write counts at once: the next command evicts (a read too) or is refused."""
    try:
        for reader in (False, True):
            got = []
            for side in (pair.redis, pair.durakv):
                side.call("FLUSHALL")
                side.call("CONFIG", "SET", "maxmemory", "0")
                info = side.call("INFO", "memory").decode()
                base = int(info.split("used_memory:")[1].split()[0])
                side.call("CONFIG", "SET", "maxmemory", str(base + 100_000))
                side.call("CONFIG", "SET", "maxmemory-policy", "volatile-random")
                out = [side.call("SETEX", "volatile-key", "10000", "x"), side.call("SETRANGE", "big", "300000", "x")]
                out.append(side.call("EXISTS", "nokey") if reader else side.call("SET", "small", "v"))
                out += [side.call("EXISTS", "volatile-key"), side.call("EXISTS", "small")]
                got.append(out)
            assert got[1] == got[0]
            assert got[0][3] == b":0\r\n"  # evicted
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "maxmemory", "0")
            side.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
            side.call("FLUSHALL")


def test_noeviction_refuses_writes(c):
    limit = _limit(c, 100_000)
    with pytest.raises(redis.exceptions.OutOfMemoryError, match="command not allowed when used memory"):
        for i in range(10_000):
            c.set(f"k{i}", "x" * 100)
    assert c.info("memory")["used_memory"] <= limit + 2_000
    assert c.info("stats")["evicted_keys"] == 0
    assert c.get("k0") == b"x" * 100


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_stay_under_limit(c, policy):
    c.config_set("maxmemory-policy", policy)
    limit = _limit(c, 150_000)
    pipe = c.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"k{i}", "x" * 100)
    pipe.execute()
    info = c.info()
    assert info["used_memory"] <= limit + 1_000  # the last write may overshoot a little, as in Redis
    assert info["evicted_keys"] > 0
    assert c.dbsize() + info["evicted_keys"] == 3000
    assert c.dbsize() > 100


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_only_evict_keys_with_ttl(c, policy):
    c.config_set("maxmemory-policy", policy)
    _limit(c, 150_000)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for i in range(3000):
            if i % 2:
                c.set(f"p{i}", "x" * 100)
            else:
                c.set(f"v{i}", "x" * 100, ex=10_000 + i)
    # every persistent key written is still there; only volatile ones were evicted
    assert c.info("stats")["evicted_keys"] > 0
    assert all(c.exists(f"p{i}") for i in range(1, 400, 2))


def test_volatile_ttl_evicts_soonest_expiring_first(c):
    c.config_set("maxmemory-policy", "volatile-ttl")
    for i in range(300):
        c.set(f"short{i}", "x" * 100, ex=1000)
    for i in range(300):
        c.set(f"long{i}", "x" * 100, ex=100_000)
    c.config_set("maxmemory", c.info("memory")["used_memory"] - 20_000)
    c.set("trigger", "x")
    shorts = sum(c.exists(f"short{i}") for i in range(300))
    longs = sum(c.exists(f"long{i}") for i in range(300))
    assert c.info("stats")["evicted_keys"] > 0
    assert longs == 300 and shorts < 300


def test_lru_keeps_recently_used_keys(c):
    c.config_set("maxmemory-policy", "allkeys-lru")
    c.config_set("maxmemory-samples", 10)
    pipe = c.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", "x" * 100)
    pipe.execute()
    time.sleep(0.01)
    for i in range(0, 1000, 10):
        c.get(f"k{i}")
    c.config_set("maxmemory", c.info("memory")["used_memory"] - 40_000)
    for i in range(200):
        c.set(f"new{i}", "x" * 100)
    hot = sum(c.exists(f"k{i}") for i in range(0, 1000, 10))
    cold = sum(c.exists(f"k{i}") for i in range(1000) if i % 10)
    assert c.info("stats")["evicted_keys"] > 100
    assert hot / 100 > cold / 900 + 0.2, (hot, cold)


def test_lfu_keeps_frequently_used_keys(c):
    c.config_set("maxmemory-policy", "allkeys-lfu")
    for i in range(1000):
        c.set(f"k{i}", "x" * 100)
    for _ in range(20):
        for i in range(0, 1000, 10):
            c.get(f"k{i}")
    c.config_set("maxmemory", c.info("memory")["used_memory"] - 40_000)
    for i in range(200):
        c.set(f"new{i}", "x" * 100)
    hot = sum(c.exists(f"k{i}") for i in range(0, 1000, 10))
    cold = sum(c.exists(f"k{i}") for i in range(1000) if i % 10)
    assert hot / 100 > cold / 900 + 0.2, (hot, cold)


def test_lowering_maxmemory_evicts_at_once(c):
    c.config_set("maxmemory-policy", "allkeys-random")
    for i in range(1000):
        c.set(f"k{i}", "x" * 100)
    used = c.info("memory")["used_memory"]
    c.config_set("maxmemory", used - 50_000)
    info = c.info()
    assert info["evicted_keys"] > 0 and info["used_memory"] <= used - 50_000


def test_evicted_keys_are_notified_and_logged(c, node):
    c.config_set("notify-keyspace-events", "Ee")
    try:
        sub = Raw(node.port)
        sub.call("SUBSCRIBE", "__keyevent@0__:evicted")
        mon = Raw(node.port)
        c.config_set("maxmemory-policy", "allkeys-random")
        for i in range(50):
            c.set(f"k{i}", "x" * 1000)
        c.config_set("maxmemory", c.info("memory")["used_memory"] - 5_000)
        c.set("trigger", "v")
        sub.sock.settimeout(5)
        data = sub.read_raw()
        assert b"evicted" in data and b"k" in data
        mon.close()
        sub.close()
    finally:
        c.config_set("notify-keyspace-events", "")


def test_evicted_keys_replay_as_del(tmp_path):
    """Evictions are logged as DEL effects: after a restart the evicted keys stay gone."""
    p = start_durakv("--appendonly", "yes", workdir=str(tmp_path))
    try:
        cl = redis.Redis(port=p.port)
        cl.config_set("maxmemory-policy", "allkeys-random")
        pipe = cl.pipeline(transaction=False)
        for i in range(500):
            pipe.set(f"k{i}", "x" * 100)
        pipe.execute()
        cl.config_set("maxmemory", cl.info("memory")["used_memory"] - 20_000)
        cl.set("after", "1")
        n = cl.dbsize()
        assert cl.info("stats")["evicted_keys"] > 0
        digest = cl.execute_command("DEBUG", "DIGEST")
        cl.close()
    finally:
        p.stop()
    p2 = start_durakv("--appendonly", "yes", workdir=str(tmp_path), port=p.port)
    try:
        cl = redis.Redis(port=p2.port)
        assert cl.dbsize() == n
        assert cl.execute_command("DEBUG", "DIGEST") == digest
    finally:
        p2.stop()


def test_object_freq_and_idle_basis(c, node):
    from durakv.keyspace import eviction

    class Cfg(dict):
        pass

    cfg = Cfg({"lfu-decay-time": 1, "lfu-log-factor": 10})
    word = ((1000 & 0xFFFF) << 8) | 20
    assert eviction.lfu_decr(cfg, word, 1000 * 60000) == 20
    assert eviction.lfu_decr(cfg, word, 1005 * 60000) == 15
    assert eviction.lfu_decr(cfg, word, 1100 * 60000) == 0

    class Rng:
        def random(self) -> float:
            return 0.0

    assert eviction.lfu_incr(cfg, 5, Rng()) == 6
    assert eviction.lfu_incr(cfg, 255, Rng()) == 255


def test_used_memory_tracks_rss_growth(c):
    """used_memory grows like the process's RSS while loading keys (within 25%)."""
    c.flushall()
    time.sleep(0.05)
    m0 = c.info("memory")
    pipe = c.pipeline(transaction=False)
    n = 40_000
    for i in range(n):
        pipe.set(f"key:{i:08d}", f"value-{i:08d}")
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    m1 = c.info("memory")
    used = m1["used_memory"] - m0["used_memory"]
    rss = m1["used_memory_rss"] - m0["used_memory_rss"]
    assert 0.75 <= used / rss <= 1.25, (used, rss)
    c.flushall()


def test_no_access_tracking_without_lru_lfu(c, node):
    # under noeviction nothing is stored per key (memory per key matters)
    for i in range(100):
        c.set(f"k{i}", "v")
        c.get(f"k{i}")
    st = c.execute_command("MEMORY", "STATS")
    assert st  # the node answers; access tracking is checked below through memory growth
    before = c.info("memory")["used_memory"]
    c.config_set("maxmemory-policy", "allkeys-lru")
    for i in range(100):
        c.get(f"k{i}")
    after = c.info("memory")["used_memory"]
    assert after > before  # LRU clocks now cost memory
    c.config_set("maxmemory-policy", "noeviction")
    assert c.info("memory")["used_memory"] < after


def test_client_no_evict_flag(c):
    assert c.execute_command("CLIENT", "NO-EVICT", "ON") in (b"OK", "OK", True)
    info = c.execute_command("CLIENT", "INFO")
    assert b"flags=e" in info
    c.execute_command("CLIENT", "NO-EVICT", "OFF")
