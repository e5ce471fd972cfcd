"""Recovery: restart after kill -9, -LOADING while replaying, failed appends, damaged logs."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import redis

from durakv.durability import recovery
from durakv.durability.filelog import FileLog, seg_name
from durakv.durability.log import LogError
from durakv.durability.setup import log_dir
from tests.durability.inproc import InProcNode
from tests.support.procs import start_durakv


def test_kill9_restart_keeps_every_type_and_ttl(tmp_path):
    d = str(tmp_path)
    p = start_durakv("--appendfsync", "always", workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("s", "v")
        r.set("ttl", "x", px=100000)
        r.incr("n", 5)
        r.rpush("l", "a", "b", "c")
        r.hset("h", mapping={"f": "1", "g": "2"})
        r.sadd("set", "1", "2", "x")
        r3 = redis.Redis(port=p.port, db=3)
        r3.set("in3", "yes")
        r.close()
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert r.get("s") == b"v"
        assert 90000 < r.pttl("ttl") <= 100000
        assert r.get("n") == b"5"
        assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
        assert r.hgetall("h") == {b"f": b"1", b"g": b"2"}
        assert r.smembers("set") == {b"1", b"2", b"x"}
        assert redis.Redis(port=p.port, db=3).get("in3") == b"yes"
        info = r.info("persistence")
        assert info["loading"] == 0 and info["aof_enabled"] == 1
        assert info["loading_records_replayed"] == 7
        assert info["log_bytes_since_snapshot"] > 100  # the replayed log counts toward auto snapshots
    finally:
        p.stop()


def test_appendonly_no_keeps_nothing_in_a_log(tmp_path):
    d = str(tmp_path)
    p = start_durakv("--appendonly", "no", workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("a", "1")
        assert not os.path.exists(os.path.join(d, "appendonlydir"))
        assert r.info("persistence")["aof_enabled"] == 0
        r.save()  # but SAVE still writes dump.rdb, which the next start loads
        p.kill9()
        p.start()
        assert redis.Redis(port=p.port).get("a") == b"1"
    finally:
        p.stop()


def test_loading_answers_loading_error(tmp_path):
    d = str(tmp_path)
    lg = FileLog(os.path.join(d, "appendonlydir"), policy="no")
    for i in range(300):
        lg.append(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nk%02d\r\n$1\r\n%d\r\n" % (i % 100, i % 10))
    lg.close()
    gate = threading.Event()
    orig = recovery.load_into

    async def slow_load(node, st):
        import asyncio

        while not gate.is_set():
            await asyncio.sleep(0.005)
        await orig(node, st)

    recovery.load_into = slow_load
    try:
        n = InProcNode(d)
        try:
            c = n.client()
            with pytest.raises(redis.exceptions.BusyLoadingError):
                c.ping()
            with pytest.raises(redis.exceptions.BusyLoadingError):
                c.set("x", "1")
            info = c.info("persistence")  # INFO is allowed while loading
            assert info["loading"] == 1
            assert info["loading_total_bytes"] > 0 and "loading_eta_seconds" in info
            gate.set()
            n.wait_loaded()
            assert c.ping() is True
            assert c.get("k99") == b"9"
            info = c.info("persistence")
            assert info["loading"] == 0 and info["loading_records_replayed"] == 300
            assert "loading_eta_seconds" not in info
        finally:
            n.stop()
    finally:
        recovery.load_into = orig


class FlakyLog(FileLog):
    """A FileLog whose appends fail while ``FlakyLog.broken`` is set (disk full / EIO)."""

    broken = False

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        if FlakyLog.broken:
            raise LogError("injected I/O error")
        return super().append(payload, expected_last_seq)


def test_failed_append_tells_nobody_ok_then_recovers(tmp_path):
    d = str(tmp_path)
    FlakyLog.broken = False
    n = InProcNode(d, log_factory=lambda node: FlakyLog(log_dir(node.config), policy="always"))
    try:
        c = n.client()
        c.set("a", "1")
        FlakyLog.broken = True
        p = c.pipeline(transaction=False)
        p.set("b", "2")
        p.get("b")  # a read of the failed write must not see it either
        res = p.execute(raise_on_error=False)
        assert all(isinstance(x, redis.exceptions.ResponseError) for x in res), res
        assert str(res[0]).startswith("MISCONF The durable log refused the last write (injected I/O error)")
        FlakyLog.broken = False
        deadline = time.monotonic() + 10
        while True:
            try:
                c.set("c", "3")
                break
            except (redis.exceptions.ResponseError, redis.exceptions.BusyLoadingError):
                assert time.monotonic() < deadline
                time.sleep(0.02)
        assert c.get("a") == b"1"
        assert c.get("b") is None  # the failed record is gone: state rebuilt from disk
        assert n.node.ctx.write_refused is None
    finally:
        FlakyLog.broken = False
        n.stop()
    # and what was acknowledged is on disk
    n2 = InProcNode(d)
    try:
        n2.wait_loaded()
        c = n2.client()
        assert c.mget("a", "b", "c") == [b"1", None, b"3"]
    finally:
        n2.stop()


def _wait_exit(p, timeout=20.0) -> int:
    assert p.proc is not None
    return p.proc.wait(timeout)


def test_corruption_in_the_middle_refuses_to_start(tmp_path):
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    r = redis.Redis(port=p.port)
    for i in range(5):
        r.set(f"k{i}", "v")
    p.kill9()
    path = os.path.join(d, "appendonlydir", seg_name(1))
    with open(path, "r+b") as f:
        f.seek(16 + 24 + 3)
        f.write(b"#")
    p.start(wait=False)
    assert _wait_exit(p) != 0
    out = p.log()
    assert "corrupt in the middle" in out and path in out and "offset 16" in out


def test_torn_tail_is_reported_and_cut(tmp_path):
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    r = redis.Redis(port=p.port)
    r.set("a", "1")
    r.set("b", "2")
    p.kill9()
    path = os.path.join(d, "appendonlydir", seg_name(1))
    with open(path, "ab") as f:
        f.write(b"\x10\x00\x00\x00garbage")
    p.start()
    try:
        assert redis.Redis(port=p.port).mget("a", "b") == [b"1", b"2"]
        assert "torn log tail" in p.log()
    finally:
        p.stop()


def test_port_answers_loading_not_refused(tmp_path):
    # the listener is up while loading: a client connects at once (no ECONNREFUSED)
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    try:
        with socket.create_connection(("127.0.0.1", p.port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            assert s.recv(100) == b"+PONG\r\n"
    finally:
        p.stop()


def test_config_set_appendonly_switches_the_log(tmp_path):
    d = str(tmp_path)
    p = start_durakv("--appendonly", "no", workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("before", "1")
        assert r.config_set("appendonly", "yes")
        assert r.info("persistence")["aof_enabled"] == 1
        r.set("after", "2")
        assert os.path.exists(os.path.join(d, "appendonlydir", "MANIFEST"))
        p.kill9()
        p.start()  # the command line still says appendonly no: dump.rdb only ...
        r = redis.Redis(port=p.port)
        assert r.get("before") == b"1"
        assert r.config_set("appendonly", "yes")
        r.set("third", "3")
        assert r.config_set("appendonly", "no")  # ... turning it off snapshots first
        p.kill9()
        p.start()
        r = redis.Redis(port=p.port)
        assert r.mget("before", "third") == [b"1", b"3"]
    finally:
        p.stop()
    p = start_durakv(workdir=d)  # appendonly yes: snapshot + log
    try:
        r = redis.Redis(port=p.port)
        assert r.mget("before", "third") == [b"1", b"3"]
    finally:
        p.stop()


def test_everysec_and_no_survive_a_process_kill(tmp_path):
    d = str(tmp_path)
    p = start_durakv("--appendfsync", "everysec", workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("a", "1")
        assert r.config_set("appendfsync", "no")
        r.set("b", "2")
        assert r.config_get("appendfsync") == {"appendfsync": "no"}
        p.kill9()  # written to the page cache before the reply: a process kill keeps it
        p.start()
        assert redis.Redis(port=p.port).mget("a", "b") == [b"1", b"2"]
    finally:
        p.stop()


def test_key_expired_in_the_snapshot_but_persisted_later_survives(tmp_path):
    d = str(tmp_path)
    p = start_durakv(workdir=d)
    try:
        r = redis.Redis(port=p.port)
        r.set("k", "v", px=300)
        assert r.save()  # the snapshot has k with its TTL
        assert r.persist("k")  # the log after it makes k permanent
        p.kill9()
        time.sleep(0.35)  # by the restart the snapshot's TTL has passed
        p.start()
        r = redis.Redis(port=p.port)
        assert r.get("k") == b"v" and r.ttl("k") == -1
    finally:
        p.stop()


class FlakySyncLog(FileLog):
    """A FileLog whose fsync fails (EIO) while ``FlakySyncLog.broken`` is set."""

    broken = False

    def _os_sync(self, fd: int) -> None:
        if FlakySyncLog.broken:
            raise OSError(5, "Input/output error")
        super()._os_sync(fd)


def test_failed_fsync_tells_nobody_ok_then_recovers(tmp_path):
    d = str(tmp_path)
    FlakySyncLog.broken = False
    n = InProcNode(d, log_factory=lambda node: FlakySyncLog(log_dir(node.config), policy="always"))
    try:
        c = n.client()
        c.set("a", "1")
        FlakySyncLog.broken = True
        with pytest.raises(redis.exceptions.ResponseError, match="MISCONF .*fsync failed: Input/output error"):
            c.set("b", "2")
        FlakySyncLog.broken = False
        deadline = time.monotonic() + 10
        while True:
            try:
                c.set("c", "3")
                break
            except (redis.exceptions.ResponseError, redis.exceptions.BusyLoadingError):
                assert time.monotonic() < deadline
                time.sleep(0.02)
        assert c.get("a") == b"1" and c.get("c") == b"3"
        info = c.info("persistence")
        assert info["aof_last_write_status"] == "ok" and info["loading"] == 0
    finally:
        FlakySyncLog.broken = False
        n.stop()
