"""FileLog: the embedded durable log — segment files plus a manifest in one directory.

Byte format (all integers little-endian)
========================================

Directory ``<dir>/<appenddirname>`` (default ``appendonlydir``) holds:

``MANIFEST`` — text, rewritten atomically (write temp file, fsync, rename, fsync dir)::

    durakv-log 1
    first <seq>                    lowest sequence still stored (after truncate_before)
    segment <file name> <first seq>   one line per segment, oldest first

``log-<first seq, 20 digits>.seg`` — one segment::

    segment header (16 bytes):  magic b"DKVSEG1\\n" (8) | first_seq u64 (8)
    record, repeated:
        offset 0   u32  length    of the payload in bytes
        offset 4   u32  crc       CRC32C (Castagnoli) of header bytes 8..24 + payload
        offset 8   u64  seq       sequence number (consecutive, first_seq, first_seq+1 ...)
        offset 16  u32  epoch     shard epoch (0 for the embedded log)
        offset 20  u8   version   record format version (1)
        offset 21  3 bytes        reserved (zero)
        offset 24  payload        the batch of effects as RESP arrays, each run of
                                  effects on one database preceded by SELECT <db>

``spare.tmp`` — the next segment, made ahead of time by a helper thread: a file of
zeros, ``segment_bytes`` long, fsynced.  A new segment is the spare renamed, with the
header written over its start; records then overwrite zeros.  ``fdatasync`` of a write
into blocks that already exist need not commit the file system's journal (no new blocks,
no size change): measured on this machine's ext4, an fsync of such a write takes about
half the time (90 vs 190 µs) and a third less kernel CPU than of an append.  A segment is
cut to its real length when it is closed, so only the newest one ever has a zero tail.

Start-up validates every record.  A bad record in the last segment with nothing valid
after it (it runs past the end of the file, or only zero bytes follow it) is a torn tail:
it is reported and the file is cut at the last whole record (zeros alone after the last
record are the rest of a spare, cut without a report).  Anything else (a bad record
followed by data, a bad record in an older segment, a sequence gap, a missing segment) is
corruption in the middle: :class:`LogCorrupt` names the file and offset and the node does
not start.

Durability: ``append`` writes the record to the page cache at once (in the event loop,
before any reply is released, so a process kill never loses an acknowledged write even
with ``appendfsync no``).  With ``always`` the record is fsynced before ``on_durable``
reports it, in one of two ways, chosen by how long fsyncs take:

* **inline** (fast disks): ``fdatasync`` runs in the event loop right after the append,
  as Redis's ``appendfsync always`` does, and ``on_durable`` is called before ``append``
  returns.  The append is the end-of-pass flush of the commit tracker, so one fsync
  covers every write of the pass, and its replies leave in the same pass.  This spares
  the hand-offs to a thread (GIL transfers, a wake-up through the loop's self-pipe per
  fsync): about 0.5 µs of CPU per write at high load, measured with ``compare.sh``.
  Reporting at once rather than from the next pass saves another 0.2 µs per write: a
  pass later, the tracker's next batch is already open, so its per-key marks could not
  be dropped, and the replies waited while the next reads were taken in.
* **thread** (slow disks): a dedicated thread runs ``fdatasync`` while the loop goes on
  serving reads; later records accumulate and the next sync covers them all (group
  commit); the loop learns of it through ``call_soon_threadsafe``.

The log starts inline and keeps a moving average of fsync times: above
``INLINE_MAX_SYNC`` it moves to the thread (a stalled loop would delay reads of clean
keys by a whole fsync), below ``INLINE_BACK_SYNC`` it comes back.  ``on_durable`` may
thus run inside ``append`` (inline, or ``everysec``/``no``, where records count as durable
once written), and ``append`` may be called from a command handler (a snapshot appends
the open batch first): the caller must cope with a release in the middle of a read.
``tick`` (from the cron) asks for a background sync (on the thread) every second under
``everysec``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from crc32c import crc32c

from .log import Log, LogError

log = logging.getLogger("durakv.filelog")

SEG_MAGIC = b"DKVSEG1\n"
SEG_HDR = struct.Struct("<8sQ")
REC_HDR = struct.Struct("<IIQIB3x")
REC_TAIL = struct.Struct("<QIB3x")  # the header bytes 8..24 covered by the CRC
HDR_LEN = REC_HDR.size  # 24
VERSION = 1
MANIFEST = "MANIFEST"
SPARE = "spare.tmp"
DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024
INLINE_MAX_SYNC = 0.001  # seconds: a slower average fsync moves syncing to the thread
INLINE_BACK_SYNC = 0.0005  # seconds: a faster one brings it back into the loop
_SYNC_AVG_WEIGHT = 0.1  # weight of the newest fsync in the moving average


class LogCorrupt(Exception):
    """The log is damaged before its end; starting would silently lose data."""


def seg_name(first_seq: int) -> str:
    return "log-%020d.seg" % first_seq


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode_record(seq: int, payload: bytes, epoch: int = 0) -> bytes:
    tail = REC_TAIL.pack(seq, epoch, VERSION)
    crc = crc32c(payload, crc32c(tail))
    return struct.pack("<II", len(payload), crc) + tail + payload


def parse_records(data: bytes | memoryview, start: int, expect_seq: int) -> tuple[list[tuple[int, int, int]], int, str | None]:
    """Scan records from ``start``: ([(seq, payload_off, payload_len)], end of last good, problem)."""
    out: list[tuple[int, int, int]] = []
    pos = start
    n = len(data)
    unpack = REC_HDR.unpack_from
    while pos < n:
        if n - pos < HDR_LEN:
            return out, pos, "short record header"
        length, crc, seq, _epoch, ver = unpack(data, pos)
        end = pos + HDR_LEN + length
        if end > n:
            return out, pos, "record runs past the end of the file"
        if crc32c(data[pos + HDR_LEN:end], crc32c(data[pos + 8:pos + HDR_LEN])) != crc:
            return out, pos, "CRC32C mismatch"
        if seq != expect_seq:
            return out, pos, f"sequence {seq} where {expect_seq} was expected"
        if ver != VERSION:
            return out, pos, f"unknown record version {ver}"
        out.append((seq, pos + HDR_LEN, length))
        expect_seq += 1
        pos = end
    return out, pos, None


class Segment:
    __slots__ = ("name", "first", "last", "size")

    def __init__(self, name: str, first: int, last: int, size: int) -> None:
        self.name = name
        self.first = first
        self.last = last  # first - 1 when empty
        self.size = size


class FileLog(Log):
    """Segmented, CRC-framed, group-committed log in ``directory``."""

    def __init__(self, directory: str, policy: str = "always", segment_bytes: int = DEFAULT_SEGMENT_BYTES,
                 loop: asyncio.AbstractEventLoop | None = None, preallocate: bool = True) -> None:
        super().__init__()
        self.dir = directory
        self.policy = policy
        self.segment_bytes = segment_bytes
        self._loop = loop
        self.segments: list[Segment] = []
        self._first = 1
        self._last = 0
        self._fd = -1
        self._written = 0  # last seq written to the page cache
        self._synced = 0  # last seq known fsynced
        self._want = 0  # highest seq a sync was requested for
        self._cv = threading.Condition()
        self._io_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failed: Exception | None = None
        self._last_sync_time = time.monotonic()
        self.fsyncs = 0
        self.fsync_in_flight = False
        self.sync_inline = True  # see the module docstring: inline or thread fsyncs
        self.sync_avg = 0.0  # moving average of fsync durations, seconds
        self.perf: Callable[[], float] = time.perf_counter  # times fsyncs (tests inject one)
        self.bytes_written = 0
        self.torn_cut: tuple[str, int, int] | None = None  # (file, offset, bytes cut)
        self.epoch = 0
        self.preallocate = preallocate
        self._spare_ready = False  # SPARE exists, zero-filled and synced (set by its thread)
        self._spare_thread: threading.Thread | None = None
        self._open()

    # -- overridable I/O (the power-loss test layer wraps these) ----------------------------
    def _os_write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def _os_sync(self, fd: int) -> None:
        os.fdatasync(fd)

    def _os_sync_dir(self) -> None:
        fsync_dir(self.dir)

    @staticmethod
    def wipe(directory: str) -> None:
        """Delete a log directory's manifest and segments (a snapshot covers them)."""
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return
        for n in names:
            if n == MANIFEST or (n.startswith("log-") and n.endswith(".seg")):
                os.unlink(os.path.join(directory, n))

    # -- opening -----------------------------------------------------------------------------
    def _path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def _open(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        try:
            os.unlink(self._path(SPARE))  # half made, perhaps: make a new one when needed
        except FileNotFoundError:
            pass
        first, entries = self._read_manifest()
        had_manifest = entries is not None
        if entries is None:
            # no manifest: adopt whatever segments are there (a crash before the first
            # manifest write), else start empty
            names = sorted(n for n in os.listdir(self.dir) if n.startswith("log-") and n.endswith(".seg"))
            entries = []
            for n in names:
                try:
                    entries.append((n, int(n[4:-4])))
                except ValueError:
                    continue
            if entries:
                first = entries[0][1]
        self._first = first
        segs: list[Segment] = []
        for i, (name, fseq) in enumerate(entries):
            path = self._path(name)
            last_seg = i == len(entries) - 1
            if not os.path.exists(path):
                if last_seg and (not segs or segs[-1].last + 1 == fseq):
                    # the newest segment was listed but its file never reached the disk
                    os.close(self._create_file(name, fseq))
                    segs.append(Segment(name, fseq, fseq - 1, SEG_HDR.size))
                    continue
                raise LogCorrupt(f"log segment {path} listed in {self._path(MANIFEST)} is missing")
            with open(path, "rb") as f:
                data = f.read()
            if len(data) < SEG_HDR.size or data[:8] != SEG_MAGIC:
                if last_seg and (len(data) < SEG_HDR.size or not any(data)):
                    log.warning("log segment %s has a torn header; rewriting it empty", path)
                    self.torn_cut = (path, 0, len(data))
                    os.close(self._create_file(name, fseq))
                    segs.append(Segment(name, fseq, fseq - 1, SEG_HDR.size))
                    continue
                raise LogCorrupt(f"log segment {path}: bad segment header at offset 0")
            hdr_first = SEG_HDR.unpack_from(data, 0)[1]
            if hdr_first != fseq:
                raise LogCorrupt(f"log segment {path}: header says first seq {hdr_first}, manifest {fseq}")
            if segs and segs[-1].last + 1 != fseq:
                raise LogCorrupt(
                    f"log segment {path} starts at seq {fseq} but the previous segment ends at "
                    f"{segs[-1].last}: records are missing"
                )
            recs, end, problem = parse_records(data, SEG_HDR.size, fseq)
            last = recs[-1][0] if recs else fseq - 1
            if problem is not None:
                if not last_seg or not self._is_tail(data, end):
                    raise LogCorrupt(
                        f"log corrupt in the middle: {path} offset {end}: {problem} (after seq {last}); "
                        "refusing to start (records after this point would be lost)"
                    )
                cut = len(data) - end
                if any(data[end:]):
                    log.warning("torn log tail in %s at offset %d (%s): cut %d bytes after seq %d",
                                path, end, problem, cut, last)
                    self.torn_cut = (path, end, cut)
                with open(path, "r+b") as f:
                    f.truncate(end)
                    f.flush()
                    os.fsync(f.fileno())
            segs.append(Segment(name, fseq, last, end))
        self.segments = segs
        if had_manifest:
            # segments a truncation dropped from the manifest but did not get to delete
            listed = {s.name for s in segs}
            first_listed = segs[0].first if segs else first
            for n in os.listdir(self.dir):
                if n.startswith("log-") and n.endswith(".seg") and n not in listed:
                    try:
                        stale = int(n[4:-4]) < first_listed
                    except ValueError:
                        continue
                    if stale:
                        log.info("removing log segment %s (covered by a snapshot)", n)
                        os.unlink(self._path(n))
        if segs:
            self._last = segs[-1].last
            if self._first < segs[0].first:
                self._first = segs[0].first
        else:
            self._last = first - 1
        if not segs:
            self._new_segment(self._last + 1)
        else:
            seg = segs[-1]
            self._fd = os.open(self._path(seg.name), os.O_WRONLY | os.O_APPEND)
            if not had_manifest:
                self._write_manifest()
        self._written = self._synced = self._want = self._last

    @staticmethod
    def _is_tail(data: bytes, bad: int) -> bool:
        """Is the bad record at ``bad`` the torn end of the file (nothing valid after it)?"""
        n = len(data)
        if n - bad < HDR_LEN:
            return True
        length = REC_HDR.unpack_from(data, bad)[0]
        end = bad + HDR_LEN + length
        if end >= n:
            return True
        rest = data[end:]
        if not rest.strip(b"\0"):
            return True
        return not data[bad:].strip(b"\0")

    def _read_manifest(self) -> tuple[int, list[tuple[str, int]] | None]:
        path = self._path(MANIFEST)
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            return 1, None
        first = 1
        entries: list[tuple[str, int]] = []
        lines = text.splitlines()
        if not lines or not lines[0].startswith("durakv-log"):
            raise LogCorrupt(f"{path}: not a durakv log manifest")
        for line in lines[1:]:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "first":
                first = int(parts[1])
            elif parts[0] == "segment":
                entries.append((parts[1], int(parts[2])))
            else:
                raise LogCorrupt(f"{path}: unknown line {line!r}")
        return first, entries

    def _write_manifest(self) -> None:
        lines = ["durakv-log 1", f"first {self._first}"]
        lines += [f"segment {s.name} {s.first}" for s in self.segments]
        tmp = self._path(MANIFEST + ".tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path(MANIFEST))
        self._os_sync_dir()

    def _create_file(self, name: str, first_seq: int) -> int:
        fd = os.open(self._path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._os_write(fd, SEG_HDR.pack(SEG_MAGIC, first_seq))
        self._os_sync(fd)
        return fd

    def _new_segment(self, first_seq: int) -> None:
        name = seg_name(first_seq)
        fd = self._take_spare(name, first_seq) if self._spare_ready else -1
        if fd < 0:
            fd = self._create_file(name, first_seq)
        self.segments.append(Segment(name, first_seq, first_seq - 1, SEG_HDR.size))
        self._write_manifest()
        self._fd = fd

    def _take_spare(self, name: str, first_seq: int) -> int:
        """Turn the spare into segment ``name``; -1 if that fails (then create it plainly)."""
        self._spare_ready = False
        self._spare_thread = None
        path = self._path(name)
        try:
            os.rename(self._path(SPARE), path)
            fd = os.open(path, os.O_WRONLY)
        except OSError as e:
            log.warning("could not use the spare log segment: %s", e)
            return -1
        try:
            self._os_write(fd, SEG_HDR.pack(SEG_MAGIC, first_seq))
            self._os_sync(fd)
        except OSError:
            os.close(fd)
            raise
        return fd

    def _make_spare(self) -> None:
        """Start writing the next segment's spare file on a helper thread."""
        if self._spare_thread is not None or self._closed:
            return
        size = self.segment_bytes + (64 << 10)
        path = self._path(SPARE)

        def work() -> None:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    zeros = bytes(min(size, 1 << 20))
                    left = size
                    while left > 0 and not self._closed:
                        left -= os.write(fd, zeros[:left])
                    os.fsync(fd)
                finally:
                    os.close(fd)
                if left <= 0:
                    self._spare_ready = True
            except OSError as e:  # no spare: the next segment is created the plain way
                log.warning("could not prepare a spare log segment: %s", e)

        self._spare_thread = threading.Thread(target=work, name="durakv-log-spare", daemon=True)
        self._spare_thread.start()

    # -- the Log interface -----------------------------------------------------------------
    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        if self._failed is not None:
            raise LogError(f"log failed earlier: {self._failed}")
        if expected_last_seq is not None and expected_last_seq != self._last:
            raise LogError(f"expected last seq {expected_last_seq}, log has {self._last}")
        seq = self._last + 1
        seg = self.segments[-1]
        if seg.size >= self.segment_bytes and seg.last >= seg.first:
            self.rotate()
            seg = self.segments[-1]
        rec = encode_record(seq, payload, self.epoch)
        try:
            self._os_write(self._fd, rec)
        except OSError as e:
            self._failed = e
            # cut whatever part of the record reached the file
            try:
                os.ftruncate(self._fd, seg.size)
            except OSError:
                pass
            raise LogError(f"write to {self._path(seg.name)} failed: {e.strerror or e}") from e
        self._last = seq
        seg.last = seq
        seg.size += len(rec)
        if seg.size > self.segment_bytes >> 1 and self._spare_thread is None and self.preallocate:
            self._make_spare()
        self.bytes_written += len(rec)
        self._written = seq
        if self.policy == "always":
            self._request_sync(seq)
        else:
            self.on_durable(seq)
        return seq

    def read(self, from_seq: int, upto: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Records with ``from_seq <= seq [<= upto]``, validated again while read."""
        for seg in list(self.segments):
            if seg.last < from_seq or seg.last < seg.first:
                continue
            if upto is not None and seg.first > upto:
                break
            yield from read_segment_file(self._path(seg.name), seg.first, from_seq, upto, seg.size)

    def last_seq(self) -> int:
        return self._last

    def first_seq(self) -> int:
        return self._first

    def truncate_before(self, seq: int) -> None:
        """Forget records below ``seq`` (a durable snapshot covers them): drop whole segments."""
        drop = []
        while len(self.segments) > 1 and self.segments[0].last < seq and self.segments[1].first <= seq:
            drop.append(self.segments.pop(0))
        if not drop:
            return
        self._first = self.segments[0].first
        self._write_manifest()
        for s in drop:
            try:
                os.unlink(self._path(s.name))
            except FileNotFoundError:
                pass

    def restart_at(self, seq: int) -> None:
        """Make the next record get ``seq + 1`` (a snapshot covers more than the log kept)."""
        if seq <= self._last:
            return
        self.reset_to(seq)

    def reset_to(self, seq: int) -> None:
        """Drop every stored record and continue at ``seq + 1`` (a snapshot covers them)."""
        with self._io_lock:
            if self._fd >= 0:
                os.close(self._fd)  # its segment is deleted below
                self._fd = -1
        old = self.segments
        self.segments = []
        self._first = seq + 1
        self._last = seq
        self._new_segment(seq + 1)
        for s in old:
            try:
                os.unlink(self._path(s.name))
            except FileNotFoundError:
                pass
        self._written = self._synced = self._want = seq

    def rotate(self) -> int:
        """Close the current segment (synced) and start a new one; returns the last seq of the old."""
        seg = self.segments[-1]
        last = self._last
        if seg.last < seg.first:
            return last
        with self._io_lock:
            old = self._fd
            try:
                os.ftruncate(old, seg.size)  # the rest of a spare's zeros
                self._os_sync(old)
            except OSError as e:
                self._failed = e
                raise LogError(f"fsync of {self._path(seg.name)} failed: {e.strerror or e}") from e
            os.close(old)
            self._fd = -1
            self._new_segment(last + 1)
        if last > self._synced:
            self._synced = last
            if self.policy == "always":
                self._durable_soon(last)
        return last

    def _durable_soon(self, seq: int) -> None:
        # never call on_durable from inside a command handler: the connection that runs it
        # is in the middle of queueing its replies
        if self._loop is None:
            self._loop = asyncio.get_event_loop()
        self._loop.call_soon(self.on_durable, seq)

    def set_policy(self, policy: str) -> None:
        old = self.policy
        self.policy = policy
        if policy == "always":
            if self._written > self._synced:
                self._request_sync(self._written)
        elif old == "always" and self._written > self._synced:
            # records waiting for their fsync count as durable under everysec/no
            self._durable_soon(self._written)

    def tick(self) -> None:
        """Cron: under ``everysec`` start a background sync once a second."""
        if self.policy == "everysec" and self._written > self._synced and not self.fsync_in_flight:
            now = time.monotonic()
            if now - self._last_sync_time >= 1.0:
                self._request_sync(self._written)

    def sync_now(self) -> None:
        """Blocking fsync of everything written (shutdown, snapshots)."""
        if self._fd < 0:
            return
        with self._io_lock:
            self._os_sync(self._fd)
        if self._written > self._synced:
            self._synced = self._written
            if self.policy == "always" and not self._closed:
                self._durable_soon(self._written)

    def close(self) -> None:
        if self._closed:
            return
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        if self._spare_thread is not None:
            self._spare_thread.join(5)
        with self._io_lock:
            if self._fd >= 0:
                if self._failed is None:
                    try:
                        if self.segments:
                            os.ftruncate(self._fd, self.segments[-1].size)  # a spare's zeros
                        self._os_sync(self._fd)
                    except OSError:
                        pass
                os.close(self._fd)
                self._fd = -1

    # -- group commit ------------------------------------------------------------------------
    def _request_sync(self, seq: int) -> None:
        # Only wake the fsync thread when it is idle: while an fsync runs, raising _want is
        # enough (the thread, or _sync_done, starts the next fsync covering it), so a busy
        # node takes the condition's lock once per fsync, not once per record.
        if seq > self._want:
            self._want = seq
        if self.fsync_in_flight:
            return
        if self.sync_inline and self.policy == "always":
            self.fsync_in_flight = True
            target = self._want
            err: Exception | None = None
            t0 = self.perf()
            try:
                self._os_sync(self._fd)
            except OSError as e:
                err = e
            self._sync_done(target, err, self.perf() - t0)
            return
        if self._loop is None:  # (the thread reports through the loop; inline needs none)
            self._loop = asyncio.get_event_loop()
        self.fsync_in_flight = True
        with self._cv:
            if self._thread is None:
                self._thread = threading.Thread(target=self._sync_loop, name="durakv-fsync", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _sync_loop(self) -> None:
        done = 0
        while True:
            with self._cv:
                while self._want <= done and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
            with self._io_lock:
                with self._cv:
                    target = self._want
                    fd = self._fd
                err: Exception | None = None
                t0 = self.perf()
                if fd >= 0:
                    try:
                        self._os_sync(fd)
                    except OSError as e:
                        err = e
                took = self.perf() - t0
            done = target
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(self._sync_done, target, err, took)
            except RuntimeError:
                return

    def _sync_done(self, target: int, err: Exception | None, took: float = 0.0) -> None:
        self.fsyncs += 1
        self._last_sync_time = time.monotonic()
        avg = self.sync_avg = self.sync_avg + (took - self.sync_avg) * _SYNC_AVG_WEIGHT
        inline = self.sync_inline
        if inline and avg > INLINE_MAX_SYNC:
            self.sync_inline = False
            log.info("fsyncs average %.2f ms: syncing on a thread from now on", avg * 1000)
        more = self._want > target
        if more and not inline:
            with self._cv:  # more was appended meanwhile: make sure the thread goes on
                self._cv.notify()
        else:
            self.fsync_in_flight = False
            if not inline and avg < INLINE_BACK_SYNC:
                self.sync_inline = True
                log.info("fsyncs average %.2f ms: syncing in the event loop again", avg * 1000)
        if err is not None:
            self._failed = err
            self.on_failure(LogError(f"fsync failed: {getattr(err, 'strerror', None) or err}"))
            return
        if target > self._synced:
            self._synced = target
            self.on_durable(target)
        if more and inline and self._failed is None and not self._closed:
            self._request_sync(self._want)  # what was appended during the inline fsync

    # -- introspection -----------------------------------------------------------------------
    def size_bytes(self) -> int:
        return sum(s.size for s in self.segments)

    def info(self) -> dict[str, Any]:
        return {
            "segments": len(self.segments), "first": self._first, "last": self._last,
            "synced": self._synced, "fsyncs": self.fsyncs, "bytes": self.size_bytes(),
        }


def read_segment_file(path: str, seg_first: int, from_seq: int, upto: int | None = None,
                      limit: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield (seq, payload) of one segment file; raise LogCorrupt on a bad record."""
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit)
    if data[:8] != SEG_MAGIC:
        raise LogCorrupt(f"log segment {path}: bad segment header at offset 0")
    recs, end, problem = parse_records(data, SEG_HDR.size, seg_first)
    if problem is not None:
        raise LogCorrupt(f"log corrupt: {path} offset {end}: {problem}")
    for seq, off, ln in recs:
        if seq < from_seq:
            continue
        if upto is not None and seq > upto:
            return
        yield seq, data[off:off + ln]


def read_dir(directory: str, from_seq: int, upto: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Read records of a log directory without opening it for writing (snapshot worker)."""
    probe = FileLog.__new__(FileLog)
    probe.dir = directory
    first, entries = FileLog._read_manifest(probe)
    if entries is None:
        return
    for i, (name, fseq) in enumerate(entries):
        nxt = entries[i + 1][1] if i + 1 < len(entries) else None
        if nxt is not None and nxt <= from_seq:
            continue
        if upto is not None and fseq > upto:
            break
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            data = f.read()
        recs, _end, problem = parse_records(data, SEG_HDR.size, fseq)
        if problem is not None and (nxt is not None or (upto is not None and (not recs or recs[-1][0] < upto))):
            raise LogCorrupt(f"log corrupt: {path} offset {_end}: {problem}")
        for seq, off, ln in recs:
            if seq < from_seq:
                continue
            if upto is not None and seq > upto:
                return
            yield seq, data[off:off + ln]
