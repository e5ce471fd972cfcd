"""Snapshots: SAVE/BGSAVE/BGREWRITEAOF/LASTSAVE/DEBUG RELOAD, the worker, automatic ones."""

from __future__ import annotations

import os
import time

import redis

from tests.support.procs import start_durakv
from tests.support.raw import Raw, encode


def _wait_idle(r: redis.Redis, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = r.info("persistence")
        if not info["rdb_bgsave_in_progress"] and not info["aof_rewrite_in_progress"] \
                and not info.get("aof_rewrite_scheduled"):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.02)


def test_command_replies_match_redis(pair):
    pair.check("SAVE", "x")
    pair.check("LASTSAVE", "x")
    pair.check("BGREWRITEAOF", "x")
    pair.check("BGSAVE", "x")
    pair.check("BGSAVE", "SCHEDULE", "x")
    pair.check("SAVE")
    for raw in (pair.redis, pair.durakv):
        _wait_idle(redis.Redis(port=raw.port))
    pair.check("BGSAVE")
    for raw in (pair.redis, pair.durakv):
        _wait_idle(redis.Redis(port=raw.port))
    pair.check("BGSAVE", "SCHEDULE")
    for raw in (pair.redis, pair.durakv):
        _wait_idle(redis.Redis(port=raw.port))
    pair.check("BGREWRITEAOF")
    for raw in (pair.redis, pair.durakv):
        _wait_idle(redis.Redis(port=raw.port))


def test_info_persistence_fields_in_redis_order(pair):
    a = pair.redis.parsed("INFO", "persistence").decode().split("\r\n")
    b = pair.durakv.parsed("INFO", "persistence").decode().split("\r\n")
    names_a = [x.split(":")[0] for x in a if ":" in x]
    names_b = [x.split(":")[0] for x in b if ":" in x]
    last = names_a.index("module_fork_last_cow_size")
    assert names_b[: last + 1] == names_a[: last + 1]


def test_busy_and_scheduled_jobs(tmp_path):
    p = start_durakv(workdir=str(tmp_path))
    try:
        r = redis.Redis(port=p.port)
        raw = Raw(p.port)
        r.set("k", "v")
        assert raw.call("BGSAVE") == b"+Background saving started\r\n"
        # the worker is a separate process that takes a while to start: still running
        assert raw.call("BGSAVE") == b"-ERR Background save already in progress\r\n"
        assert raw.call("SAVE") == b"-ERR Background save already in progress\r\n"
        assert raw.call("BGREWRITEAOF") == b"+Background append only file rewriting scheduled\r\n"
        info = r.info("persistence")
        assert info["rdb_bgsave_in_progress"] == 1 and info["aof_rewrite_scheduled"] == 1
        info = _wait_idle(r)
        assert info["rdb_last_bgsave_status"] == "ok" and info["aof_rewrites"] == 1
        assert raw.call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        assert raw.call("BGREWRITEAOF") == b"-ERR Background append only file rewriting already in progress\r\n"
        assert raw.call("BGSAVE") == (b"-ERR Another child process is active (AOF?): can't BGSAVE right now. "
                                      b"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n")
        assert raw.call("BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
        info = _wait_idle(r)
        assert info["aof_rewrites"] == 2 and info["rdb_saves"] >= 3
        raw.close()
    finally:
        p.stop()


def test_bgsave_covers_the_log_and_restart_uses_it(tmp_path):
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    try:
        r = redis.Redis(port=p.port)
        for i in range(50):
            r.set(f"k{i}", i)
        r.rpush("l", *range(100))
        before = r.lastsave()
        assert r.bgsave()
        info = _wait_idle(r)
        assert os.path.exists(os.path.join(d, "dump.rdb"))
        assert info["snapshot_seq"] == 51 and info["log_first_seq"] == 52
        assert r.lastsave() >= before
        assert not [n for n in os.listdir(os.path.join(d, "appendonlydir")) if n.startswith("log-0000000000000000000")]
        r.set("after", "snapshot")
        r.incr("k1")
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert r.get("k1") == b"2" and r.get("after") == b"snapshot" and r.get("k49") == b"49"
        assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(100)]
        info = r.info("persistence")
        assert info["rdb_last_load_keys_loaded"] == 51 and info["loading_records_replayed"] == 2
    finally:
        p.stop()


def test_save_then_restart(tmp_path):
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("a", "1", px=600000)
        assert r.save()
        assert r.info("persistence")["rdb_changes_since_last_save"] == 0
        r.set("b", "2")
        assert r.info("persistence")["rdb_changes_since_last_save"] == 1
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert r.mget("a", "b") == [b"1", b"2"]
        assert 570000 < r.pttl("a") <= 600000
    finally:
        p.stop()


def test_a_write_pipelined_before_save_gets_its_reply(tmp_path):
    # SAVE appends the open batch, which becomes durable inside the SAVE: the SET's reply,
    # held for that batch, must leave with the read, not wait for a later commit
    for policy in ("always", "no"):
        os.mkdir(tmp_path / policy)
        p = start_durakv("--appendfsync", policy, workdir=str(tmp_path / policy))
        try:
            raw = Raw(p.port)
            raw.send(encode("SET", "k", "v") + encode("SAVE") + encode("GET", "k"))
            assert raw.read_raw(3) == b"+OK\r\n+OK\r\n$1\r\nv\r\n"
            raw.close()
        finally:
            p.stop()


def test_automatic_snapshot_when_the_log_grows(tmp_path):
    d = str(tmp_path)
    p = start_durakv("--auto-snapshot-log-bytes", "20kb", workdir=d)
    try:
        r = redis.Redis(port=p.port)
        for i in range(200):
            r.set(f"key{i}", "v" * 200)
        deadline = time.monotonic() + 30
        while r.info("persistence")["rdb_saves"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # snapshots follow one another until what is left of the log is under the limit
        while True:
            info = _wait_idle(r)
            if info["log_bytes_since_snapshot"] < 20 * 1024:
                break
            assert time.monotonic() < deadline, info
            time.sleep(0.05)
        assert os.path.exists(os.path.join(d, "dump.rdb"))
    finally:
        p.stop()


def test_save_points(tmp_path):
    p = start_durakv("--save", "1 1", workdir=str(tmp_path))
    try:
        r = redis.Redis(port=p.port)
        r.set("x", "1")
        deadline = time.monotonic() + 10
        while r.info("persistence")["rdb_saves"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        p.stop()


def test_debug_reload(pair):
    pair.check("SET", "a", "1")
    pair.check("RPUSH", "l", "x", "y")
    pair.check("DEBUG", "RELOAD")
    pair.check("GET", "a")
    pair.check("LRANGE", "l", "0", "-1")
    pair.check("DEBUG", "RELOAD", "NOSAVE")
    pair.check("LRANGE", "l", "0", "-1")


def test_bgsave_inside_multi_does_not_split_the_transaction(tmp_path):
    from tests.durability.inproc import InProcNode

    n = InProcNode(str(tmp_path))
    try:
        records: list[bytes] = []
        n.call(lambda: setattr(n.node.ctx.tracker, "on_record", lambda seq, payload: records.append(payload)))
        c = n.client()
        tx = c.pipeline(transaction=True)
        tx.set("a", "1")
        tx.bgsave()
        tx.set("b", "2")
        res = tx.execute()
        assert res[0] is True and res[2] is True
        with_a = [p for p in records if b"$1\r\na\r\n" in p]
        assert len(with_a) == 1 and b"$1\r\nb\r\n" in with_a[0]
        _wait_idle(c)
        assert c.info("persistence")["rdb_last_bgsave_status"] == "ok"
    finally:
        n.stop()


def test_bgsave_and_bgrewriteaof_inside_exec_are_scheduled(pair, redis_proc, durakv_proc):
    """Inside EXEC both are scheduled (Redis: as behind a running child), then run."""
    clients = [redis.Redis(port=p.port) for p in (redis_proc, durakv_proc)]
    try:
        for c in clients:
            _wait_idle(c)
        for cmd, counter in (("BGREWRITEAOF", "aof_rewrites"), ("BGSAVE", "rdb_saves")):
            before = [c.info("persistence")[counter] for c in clients]
            pair.check("MULTI")
            pair.check("SET", "k", "v")
            pair.check(cmd)
            pair.check("EXEC")
            for c, n in zip(clients, before):
                deadline = time.monotonic() + 30
                while c.info("persistence")[counter] != n + 1:  # (a scheduled BGSAVE shows nowhere)
                    assert time.monotonic() < deadline, (cmd, c.info("persistence"))
                    time.sleep(0.02)
                _wait_idle(c)
    finally:
        for c in clients:
            c.close()


def test_command_info_and_docs_match_redis(pair):
    for c in ("dump", "restore", "save", "bgsave", "bgrewriteaof", "lastsave"):
        pair.check("COMMAND", "INFO", c)
        pair.check("COMMAND", "DOCS", c)


def test_worker_refuses_to_run_as_an_orphan(tmp_path):
    """The worker exits when the node that started it is gone (it must not run on alone)."""
    import subprocess
    import sys

    not_parent = os.getpid()  # the test runner did not start the worker's parent chain here
    p = subprocess.run(
        [sys.executable, "-c", "import subprocess,sys; sys.exit(subprocess.call(sys.argv[1:]))",
         sys.executable, "-m", "durakv.durability.snapshot", "--dir", str(tmp_path),
         "--logdir", str(tmp_path / "log"), "--upto", "0", "--parent", str(not_parent)],
        capture_output=True, timeout=60,
    )
    assert p.returncode == 1
    assert not (tmp_path / "dump.rdb").exists()
