"""Power loss, not just process death: every byte not fsynced is dropped at the crash.

``PowerLossLog`` records, per file, the length each fsync covered (the write offset
*before* the sync started, a safe lower bound); ``power_cut`` truncates every segment to it.  After
recovery on the cut files, every write acknowledged to a client must be there.  The
negative control (``appendfsync no``) shows the layer really drops unsynced data.
"""

from __future__ import annotations

import errno
import os
import threading
import time

import redis

from durakv.durability.filelog import FileLog
from durakv.durability.setup import log_dir
from durakv.node import Node
from tests.durability.inproc import InProcNode


class PowerLossLog(FileLog):
    def __init__(self, *a, **kw) -> None:
        self.synced_size: dict[str, int] = {}
        self.dead = False
        super().__init__(*a, **kw)

    def _os_write(self, fd: int, data: bytes) -> None:
        if self.dead:
            raise OSError(errno.EIO, "power is off")
        super()._os_write(fd, data)

    def _os_sync(self, fd: int) -> None:
        if self.dead:
            raise OSError(errno.EIO, "power is off")
        path = os.readlink(f"/proc/self/fd/{fd}")
        # where the writes got to, not the file's size: a segment made from a spare is
        # full of zeros beyond its records
        size = os.lseek(fd, 0, os.SEEK_CUR)
        super()._os_sync(fd)
        self.synced_size[path] = max(self.synced_size.get(path, 0), size)

    def power_cut(self) -> int:
        """Drop every unsynced byte; returns how many bytes were dropped."""
        self.dead = True
        with self._io_lock:  # an fsync in flight completes (or not) before the cut
            pass
        dropped = 0
        for name in os.listdir(self.dir):
            if not name.endswith(".seg"):
                continue
            path = os.path.join(self.dir, name)
            keep = self.synced_size.get(path, 0)
            size = os.path.getsize(path)
            if size > keep:
                dropped += size - keep
                os.truncate(path, keep)
        return dropped


def _workload(n: InProcNode, policy: str, seconds: float,
              snapshot: bool = False) -> tuple[dict[int, int], PowerLossLog]:
    lg: PowerLossLog = n.node.log  # type: ignore[assignment]
    acked: dict[int, int] = {}
    stop = threading.Event()

    def client(t: int) -> None:
        c = n.client(socket_timeout=3)
        i = 0
        try:
            while not stop.is_set():
                c.set(f"t{t}:{i}", i)
                acked[t] = i
                i += 1
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            pass

    threads = [threading.Thread(target=client, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    if snapshot:
        # a snapshot (worker process) in the middle: recovery = snapshot + synced log tail
        time.sleep(seconds / 2)
        admin = n.client(socket_timeout=10)
        admin.bgsave()
        deadline = time.monotonic() + 30
        while admin.info("persistence")["rdb_bgsave_in_progress"]:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert admin.info("persistence")["rdb_last_bgsave_status"] == "ok"
        admin.close()
    time.sleep(seconds if not snapshot else seconds / 2)
    n.crash()  # the process stops dead, mid-write ...
    dropped = lg.power_cut()  # ... and the machine loses its page cache
    stop.set()
    for th in threads:
        th.join(10)
    assert dropped >= 0
    return acked, lg


def _factory(policy: str, segment_bytes: int = 16 * 1024):
    def make(node: Node) -> PowerLossLog:
        # small segments: the workload rolls over many, each made from a spare of zeros
        return PowerLossLog(log_dir(node.config), policy=policy, segment_bytes=segment_bytes)

    return make


def _missing(d: str, acked: dict[int, int]) -> int:
    n2 = InProcNode(d)
    try:
        n2.wait_loaded()
        c = n2.client()
        missing = 0
        for t, last in acked.items():
            keys = [f"t{t}:{i}" for i in range(last + 1)]
            for k in range(0, len(keys), 500):
                missing += sum(1 for v in c.mget(keys[k:k + 500]) if v is None)
        return missing
    finally:
        n2.stop()


def test_power_cut_keeps_every_acknowledged_write(tmp_path):
    d = str(tmp_path)
    n = InProcNode(d, log_factory=_factory("always"))
    acked, lg = _workload(n, "always", 0.6)
    assert sum(v + 1 for v in acked.values()) > 100  # the workload really ran
    assert lg.segments[0].first > 1 or len(lg.segments) > 2  # it rolled over segments
    assert _missing(d, acked) == 0


def test_power_cut_loses_unsynced_writes_with_appendfsync_no(tmp_path):
    # negative control: acks without fsync do not survive a power cut.  One segment for the
    # whole workload: closing a segment fsyncs it, and with small ones the cut could come
    # just after a rollover (a slow fsync under load) with no acknowledged write after it
    d = str(tmp_path)
    n = InProcNode(d, ("appendfsync", "no"), log_factory=_factory("no", 64 * 1024 * 1024))
    acked, lg = _workload(n, "no", 0.3)
    assert sum(v + 1 for v in acked.values()) > 100
    assert _missing(d, acked) > 0


def test_power_cut_after_a_snapshot_keeps_every_acknowledged_write(tmp_path):
    d = str(tmp_path)
    n = InProcNode(d, log_factory=_factory("always"))
    acked, lg = _workload(n, "always", 0.8, snapshot=True)
    assert os.path.exists(os.path.join(d, "dump.rdb"))
    assert sum(v + 1 for v in acked.values()) > 100
    assert _missing(d, acked) == 0
