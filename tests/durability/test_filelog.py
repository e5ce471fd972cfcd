"""FileLog: framing, group commit, torn tails, corruption in the middle, segments."""

from __future__ import annotations

import asyncio
import os

import pytest

from durakv.durability.filelog import SEG_HDR, FileLog, LogCorrupt, encode_record, seg_name
from durakv.durability.log import LogError


def run_async(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _append_and_wait(lg: FileLog, payloads: list[bytes]) -> list[int]:
    loop = asyncio.get_running_loop()
    lg._loop = loop
    done = loop.create_future()
    durable: list[int] = []
    # the last record's seq, known before appending: an inline fsync reports during append,
    # and one that turns slow moves the rest to the thread (last_seq() would be met early)
    want = lg.last_seq() + len(payloads)

    def on_durable(seq: int) -> None:
        durable.append(seq)
        if seq >= want and not done.done():
            done.set_result(None)

    lg.on_durable = on_durable
    for p in payloads:
        lg.append(p)
    await asyncio.wait_for(done, 10)
    return durable


def test_roundtrip_and_reopen(tmp_path):
    d = str(tmp_path / "log")
    lg = FileLog(d)
    payloads = [b"*1\r\n$4\r\nPING\r\n" * (i + 1) for i in range(50)]
    durable = run_async(_append_and_wait(lg, payloads))
    assert durable[-1] == 50
    lg.close()
    lg2 = FileLog(d)
    assert lg2.first_seq() == 1 and lg2.last_seq() == 50
    assert [p for _, p in lg2.read(1)] == payloads
    assert [s for s, _ in lg2.read(45)] == [45, 46, 47, 48, 49, 50]
    lg2.close()


def test_group_commit_on_the_fsync_thread_one_fsync_covers_many(tmp_path):
    lg = FileLog(str(tmp_path))
    lg.sync_inline = False  # a slow disk's mode: records appended during an fsync wait for it
    durable = run_async(_append_and_wait(lg, [b"x" * 10] * 200))
    # 200 appends in one loop pass: far fewer fsyncs than records, ack for the last one
    assert durable[-1] == 200
    assert lg.fsyncs < 20
    lg.close()


def test_policy_no_acks_at_once(tmp_path):
    lg = FileLog(str(tmp_path), policy="no")
    seen: list[int] = []
    lg.on_durable = seen.append
    assert lg.append(b"a") == 1
    assert seen == [1]
    lg.close()


def _fill(d: str, n: int) -> str:
    lg = FileLog(d, policy="no")
    for i in range(n):
        lg.append(b"payload-%d" % i)
    lg.close()
    return os.path.join(d, seg_name(1))


def test_torn_tail_is_cut(tmp_path, caplog):
    d = str(tmp_path)
    path = _fill(d, 5)
    good = os.path.getsize(path)
    rec = encode_record(6, b"payload-5")
    with open(path, "ab") as f:
        f.write(rec[: len(rec) - 3])  # the record did not reach the disk whole
    lg = FileLog(d)
    assert lg.last_seq() == 5
    assert lg.torn_cut == (path, good, len(rec) - 3)
    assert os.path.getsize(path) == good
    assert "torn log tail" in caplog.text
    # the log goes on after the cut
    lg.policy = "no"
    assert lg.append(b"next") == 6
    lg.close()
    assert [p for _, p in FileLog(d).read(5)] == [b"payload-4", b"next"]


def test_zero_filled_tail_is_cut(tmp_path):
    d = str(tmp_path)
    path = _fill(d, 3)
    good = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(b"\0" * 4096)  # power loss after the file grew but before data landed
    lg = FileLog(d)
    assert lg.last_seq() == 3 and os.path.getsize(path) == good
    lg.close()


def test_corrupt_crc_at_end_is_torn_tail(tmp_path):
    d = str(tmp_path)
    path = _fill(d, 3)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(size - 1)
        f.write(b"Z")  # last record damaged, nothing after it
    lg = FileLog(d)
    assert lg.last_seq() == 2
    lg.close()


def test_corruption_in_the_middle_stops(tmp_path):
    d = str(tmp_path)
    path = _fill(d, 5)
    off = SEG_HDR.size + 24 + 2  # inside the first record's payload
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(b"#")
    with pytest.raises(LogCorrupt) as ei:
        FileLog(d)
    msg = str(ei.value)
    assert path in msg and f"offset {SEG_HDR.size}" in msg and "CRC32C" in msg


def test_corruption_in_an_older_segment_stops(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no")
    for i in range(3):
        lg.append(b"a%d" % i)
    lg.rotate()
    lg.append(b"b")
    lg.close()
    first = os.path.join(d, seg_name(1))
    with open(first, "r+b") as f:
        f.seek(os.path.getsize(first) - 1)
        f.write(b"!")
    with pytest.raises(LogCorrupt, match="corrupt in the middle"):
        FileLog(d)


def test_missing_segment_stops(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no")
    lg.append(b"a")
    lg.rotate()
    lg.append(b"b")
    lg.rotate()
    lg.append(b"c")
    lg.close()
    os.unlink(os.path.join(d, seg_name(2)))
    with pytest.raises(LogCorrupt, match="missing"):
        FileLog(d)


def test_rotate_truncate_before_and_reopen(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no")
    for i in range(4):
        lg.append(b"r%d" % i)
    assert lg.rotate() == 4
    lg.append(b"r4")
    lg.truncate_before(5)
    assert lg.first_seq() == 5
    assert not os.path.exists(os.path.join(d, seg_name(1)))
    lg.close()
    lg2 = FileLog(d)
    assert (lg2.first_seq(), lg2.last_seq()) == (5, 5)
    assert list(lg2.read(1)) == [(5, b"r4")]
    lg2.close()


def test_restart_at(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no")
    lg.append(b"x")
    lg.restart_at(10)
    assert lg.last_seq() == 10
    assert lg.append(b"y") == 11
    lg.close()
    lg2 = FileLog(d)
    assert list(lg2.read(1)) == [(11, b"y")]
    lg2.close()


def test_segments_roll_over(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no", segment_bytes=200)
    for _ in range(20):
        lg.append(b"v" * 40)
    assert len(lg.segments) > 3
    lg.close()
    lg2 = FileLog(d)
    assert lg2.last_seq() == 20 and len(list(lg2.read(1))) == 20
    lg2.close()


def test_expected_last_seq_fences(tmp_path):
    lg = FileLog(str(tmp_path), policy="no")
    lg.append(b"a")
    with pytest.raises(LogError):
        lg.append(b"b", expected_last_seq=5)
    assert lg.append(b"b", expected_last_seq=1) == 2
    lg.close()


def test_write_error_fails_the_log(tmp_path):
    class Full(FileLog):
        full = False

        def _os_write(self, fd: int, data: bytes) -> None:
            if self.full:
                os.write(fd, data[:5])
                raise OSError(28, "No space left on device")
            super()._os_write(fd, data)

    d = str(tmp_path)
    lg = Full(d, policy="no")
    lg.append(b"ok")
    lg.full = True
    with pytest.raises(LogError, match="No space left"):
        lg.append(b"lost")
    lg.close()
    lg2 = FileLog(d)  # the partial record was cut; the log is whole
    assert lg2.last_seq() == 1 and lg2.torn_cut is None
    lg2.close()


def test_segments_left_by_an_interrupted_truncation_are_removed(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no")
    lg.append(b"a")
    lg.rotate()
    lg.append(b"b")
    lg.close()
    old = os.path.join(d, seg_name(1))
    data = open(old, "rb").read()
    lg = FileLog(d, policy="no")
    lg.truncate_before(2)
    lg.close()
    with open(old, "wb") as f:  # as if the crash came between manifest write and unlink
        f.write(data)
    lg = FileLog(d)
    assert not os.path.exists(old) and lg.first_seq() == 2 and list(lg.read(1)) == [(2, b"b")]
    lg.close()


class _TimedSyncs(FileLog):
    """fsyncs that take ``cost`` seconds on an injected clock; notes the thread of each."""

    cost = 0.0

    def __init__(self, *a, **kw) -> None:
        self.now = 0.0
        self.sync_threads: list[str] = []
        super().__init__(*a, **kw)
        self.perf = lambda: self.now

    def _os_sync(self, fd: int) -> None:
        import threading

        self.sync_threads.append(threading.current_thread().name)
        self.now += self.cost
        super()._os_sync(fd)


def test_fast_fsyncs_run_inline_and_ack_before_append_returns(tmp_path):
    import threading

    lg = _TimedSyncs(str(tmp_path))
    lg.cost = 0.0001
    durable: list[int] = []
    lg.on_durable = durable.append
    for i in range(1, 4):
        # the tracker appends once per loop pass; its replies may leave in that same pass
        assert lg.append(b"x" * 10) == i
        assert durable == list(range(1, i + 1))
    assert lg.sync_inline and lg.fsyncs == 3
    assert set(lg.sync_threads) == {threading.current_thread().name}
    assert lg._thread is None
    lg.close()


def test_slow_fsyncs_move_to_the_thread_and_fast_ones_come_back(tmp_path):
    lg = _TimedSyncs(str(tmp_path))
    lg.cost = 0.02  # a slow disk: the loop must not stall on it
    for i in range(5):
        run_async(_append_and_wait(lg, [b"a%d" % i]))
    assert not lg.sync_inline
    assert lg.sync_threads[-1] == "durakv-fsync"
    assert lg.sync_avg > 0.001
    lg.cost = 0.0
    for i in range(60):  # the moving average decays below the threshold
        run_async(_append_and_wait(lg, [b"b%d" % i]))
    assert lg.sync_inline
    assert lg.sync_avg < 0.0005
    n = len(lg.sync_threads)
    run_async(_append_and_wait(lg, [b"c"]))
    assert lg.sync_threads[n:] == ["MainThread"]
    assert lg.last_seq() == 66
    lg.close()


def test_inline_fsync_failure_fails_the_log_and_acks_nothing(tmp_path):
    class Broken(FileLog):
        broken = False

        def _os_sync(self, fd: int) -> None:
            if self.broken:
                raise OSError(5, "Input/output error")
            super()._os_sync(fd)

    lg = Broken(str(tmp_path))
    lg.broken = True
    durable: list[int] = []
    failures: list[Exception] = []

    async def go() -> None:
        lg._loop = asyncio.get_running_loop()
        lg.on_durable = durable.append
        lg.on_failure = failures.append
        lg.append(b"x")
        for _ in range(3):
            await asyncio.sleep(0)

    run_async(go())
    assert durable == []
    assert len(failures) == 1 and "fsync failed: Input/output error" in str(failures[0])
    with pytest.raises(LogError, match="failed earlier"):
        lg.append(b"y")
    lg._failed = None  # let close() finish
    lg.close()


def _join_spare(lg: FileLog) -> None:
    if lg._spare_thread is not None:
        lg._spare_thread.join(10)


def test_next_segment_is_a_prepared_spare_of_zeros(tmp_path):
    from durakv.durability.filelog import SPARE

    d = str(tmp_path)
    lg = FileLog(d, policy="no", segment_bytes=4096)
    n = 0
    while not lg._spare_ready:  # past half the segment a helper thread writes the spare
        lg.append(b"v" * 100)
        n += 1
        assert n < 40
        _join_spare(lg)
    spare = os.path.join(d, SPARE)
    assert os.path.getsize(spare) >= 4096
    with open(spare, "rb") as f:
        assert not any(f.read())
    while len(lg.segments) == 1:
        lg.append(b"v" * 100)
        n += 1
    assert not os.path.exists(spare)
    old, new = lg.segments
    # the closed segment was cut to its records; the new one is the spare, zeros after them
    assert os.path.getsize(os.path.join(d, old.name)) == old.size
    assert os.path.getsize(os.path.join(d, new.name)) >= 4096 > new.size
    lg.append(b"w" * 10)
    # a crash now leaves zeros after the last record: cut quietly, nothing lost, no report
    lg2 = FileLog(d)
    assert lg2.last_seq() == n + 1 and lg2.torn_cut is None
    assert [p for _, p in lg2.read(1)] == [b"v" * 100] * n + [b"w" * 10]
    assert os.path.getsize(os.path.join(d, new.name)) == new.size
    lg2.close()
    lg.close()


def test_a_clean_close_leaves_no_zero_tail(tmp_path):
    d = str(tmp_path)
    lg = FileLog(d, policy="no", segment_bytes=4096)
    for _ in range(60):
        lg.append(b"v" * 100)
        _join_spare(lg)
    assert len(lg.segments) > 1
    last = lg.segments[-1]
    lg.close()
    assert os.path.getsize(os.path.join(d, last.name)) == last.size
