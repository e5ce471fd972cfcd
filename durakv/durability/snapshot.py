"""Snapshots: SAVE in the loop, BGSAVE/BGREWRITEAOF/automatic ones in a worker process.

The serving node never forks.  For a background snapshot it appends the open batch, closes
the current log segment (so the snapshot covers whole segments) and starts
``python -m durakv.durability.snapshot`` with the sequence ``upto``.  The worker loads the
previous snapshot (``dir/dbfilename``), replays the log records after the sequence that
snapshot covers up to ``upto`` through the command table, writes a new RDB with
``durakv-seq = upto`` to a temp file, fsyncs and verifies it (parse + CRC64), then
atomically renames it to ``dbfilename`` and prints a JSON line.  The node's cron sees
the worker exit and deletes the log segments the snapshot covers.

``SAVE`` (and ``appendonly no``, where there is no log to replay) serializes the
in-memory keyspace directly, blocking like Redis's SAVE.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from .. import errors
from ..errors import CommandError
from . import rdb

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("durakv.snapshot")

BGSAVE_RETRY_DELAY = 5.0


def _fsync_dir(d: str) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify_checksum(path: str) -> None:
    """Re-read a written RDB and check its CRC64 footer (cheap; SAVE in the loop)."""
    from .crc64 import crc64

    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 18 or data[:5] != b"REDIS" or data[-9] != rdb.OP_EOF:
        raise rdb.RdbError(f"{path}: not a complete RDB file")
    if crc64(memoryview(data)[:-8]) != int.from_bytes(data[-8:], "little"):
        raise rdb.RdbError(f"{path}: checksum mismatch after writing")


def write_verified(path: str, pieces: Any, databases: int = 16, full: bool = True) -> int:
    """Write an RDB from ``pieces`` to a temp file, fsync, verify (``full``: parse every
    value; else the checksum only), rename over ``path``."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, "temp-%d-%d.rdb" % (os.getpid(), time.monotonic_ns()))
    size = 0
    try:
        with open(tmp, "wb") as f:
            for chunk in pieces:
                f.write(chunk)
                size += len(chunk)
            f.flush()
            os.fsync(f.fileno())
        if full:
            rdb.verify_file(tmp, databases)
        else:
            verify_checksum(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(d)
    return size


def functions_of(ctx: Any) -> list[bytes]:
    """The function libraries' code (FUNCTION2 records of a snapshot)."""
    sc = ctx.scripting
    dump = getattr(sc, "dump_libraries", None)
    return list(dump()) if dump is not None else []


def load_functions(ctx: Any, codes: list[bytes]) -> None:
    sc = ctx.scripting
    load = getattr(sc, "load_library", None)
    if load is None:
        if codes:
            log.warning("snapshot has %d function libraries but scripting is not available", len(codes))
        return
    for code in codes:
        try:
            load(code, replace=True)
        except Exception as e:  # a library that does not load must not stop the node
            log.error("cannot load a function library from the snapshot: %s", e)


class SnapshotManager:
    """The node side: SAVE, BGSAVE jobs, automatic snapshots, INFO counters."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.proc: subprocess.Popen[bytes] | None = None
        self.job: dict[str, Any] | None = None
        self.scheduled_bgsave = False
        self.scheduled_rewrite = False
        self.saves = 0
        self.last_bgsave_status = "ok"
        self.last_bgsave_time = -1
        self.rewrites = 0
        self.last_rewrite_status = "ok"
        self.last_rewrite_time = -1
        self.rewrite_failures = 0
        self.dirty_at_last_save = 0
        self.base_size = 0
        self.last_failed_at = 0.0
        # called with (ok, seq covered) when a snapshot finishes (replica syncs wait on it)
        self.on_done: list[Any] = []

    # -- helpers -------------------------------------------------------------------------
    def _path(self) -> str:
        from .setup import data_dir

        return os.path.join(data_dir(self.node.config), self.node.config["dbfilename"])

    def busy(self) -> bool:
        return self.job is not None

    def job_kind(self) -> str | None:
        return self.job["kind"] if self.job is not None else None

    def _functions(self) -> list[bytes]:
        return functions_of(self.node.ctx)

    def _prepare(self) -> tuple[int, int, int]:
        """Append the open batch and close the log segment: (seq, log bytes, dirty) covered."""
        ctx = self.node.ctx
        tracker = ctx.tracker
        if tracker is not None:
            tracker.flush()
        lg = self.node.log
        seq = lg.last_seq() if lg is not None else 0
        rotate = getattr(lg, "rotate", None)
        if rotate is not None:
            rotate()
        nbytes = tracker.bytes_since_snapshot if tracker is not None else 0
        return seq, nbytes, ctx.ks.dirty

    def _covered(self, seq: int, nbytes: int, dirty: int) -> None:
        ctx = self.node.ctx
        lg = self.node.log
        if lg is not None and hasattr(lg, "rotate"):
            try:
                lg.truncate_before(seq + 1)
            except OSError as e:
                log.warning("could not delete covered log segments: %s", e)
        ctx.extras["snapshot_seq"] = seq
        ctx.lastsave = int(time.time())
        tracker = ctx.tracker
        if tracker is not None:
            tracker.bytes_since_snapshot = max(0, tracker.bytes_since_snapshot - nbytes)
        self.dirty_at_last_save = dirty
        try:
            self.base_size = os.path.getsize(self._path())
        except OSError:
            pass

    # -- SAVE ----------------------------------------------------------------------------
    def save(self, count: bool = True) -> int:
        """Blocking snapshot of the in-memory keyspace (SAVE, appendonly no, DEBUG RELOAD);
        returns the log sequence it covers."""
        node = self.node
        seq, nbytes, dirty = self._prepare()
        aux = {b"durakv-seq": b"%d" % seq}
        pieces = rdb.write_rdb(rdb.keyspace_items(node.ctx.ks), node.config, aux, self._functions())
        write_verified(self._path(), pieces, len(node.ctx.ks.dbs), full=False)
        if count:
            self.saves += 1
        self._covered(seq, nbytes, dirty)
        return seq

    # -- background ----------------------------------------------------------------------
    def start_soon(self, kind: str) -> None:
        """BGSAVE/BGREWRITEAOF from a handler: start at the end of this event-loop pass.

        Closing the log segment appends the open batch; doing that in the middle of a
        MULTI/EXEC or a script would split its effects over two records.
        """
        self.job = {"kind": kind, "start": time.time(), "pending": True}
        loop = self.node.loop
        if loop is None:
            self._deferred(kind)
        else:
            loop.call_soon(self._deferred, kind)

    def _deferred(self, kind: str) -> None:
        if self.job is not None and self.job.get("pending"):
            self.job = None
        self._start_safely(kind)

    def start(self, kind: str) -> None:
        """Start a background snapshot (kind: bgsave | rewrite | auto)."""
        node = self.node
        lg = node.log
        t0 = time.time()
        if lg is None or not hasattr(lg, "dir") or not hasattr(lg, "rotate"):
            # no file log to replay (appendonly no): serialize memory here
            ok = True
            seq = 0
            try:
                seq = self.save(count=False)
            except Exception as e:
                log.error("background save failed: %s", e)
                ok = False
            self._finish_stats(kind, ok, time.time() - t0)
            self._done(ok, seq)
            return
        seq, nbytes, dirty = self._prepare()
        from .setup import data_dir

        cfg = node.config
        argv = [
            sys.executable, "-m", "durakv.durability.snapshot",
            "--dir", data_dir(cfg), "--dbfilename", cfg["dbfilename"], "--logdir", lg.dir,
            "--upto", str(seq), "--databases", str(len(node.ctx.ks.dbs)), "--parent", str(os.getpid()),
        ]
        for name in rdb.DEFAULT_LIMITS:
            argv += ["--config", name, node.config.params[name].render(node.config[name])]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.job = {"kind": kind, "seq": seq, "bytes": nbytes, "dirty": dirty, "start": t0}
        log.info("Background snapshot started by pid %d (covers log up to seq %d)", self.proc.pid, seq)

    def _finish_stats(self, kind: str, ok: bool, elapsed: float) -> None:
        if kind == "rewrite":
            self.rewrites += 1 if ok else 0
            self.last_rewrite_status = "ok" if ok else "err"
            self.last_rewrite_time = int(elapsed)
            self.rewrite_failures = 0 if ok else self.rewrite_failures + 1
        else:
            self.last_bgsave_status = "ok" if ok else "err"
            self.last_bgsave_time = int(elapsed)
        if ok:
            self.saves += 1
        else:
            self.last_failed_at = time.time()

    def poll(self) -> None:
        proc = self.proc
        job = self.job
        if proc is None or job is None or proc.poll() is None:
            return
        out = proc.stdout.read() if proc.stdout is not None else b""
        if proc.stdout is not None:
            proc.stdout.close()
        self.proc = None
        self.job = None
        ok = proc.returncode == 0
        if ok:
            try:
                res = json.loads(out.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                res = {}
            log.info("Background snapshot done: %s", res)
            self._covered(job["seq"], job["bytes"], job["dirty"])
        else:
            log.error("Background snapshot worker failed (exit %s)", proc.returncode)
        self._finish_stats(job["kind"], ok, time.time() - job["start"])
        self._done(ok, job["seq"])

    def _done(self, ok: bool, seq: int) -> None:
        for fn in self.on_done:
            fn(ok, seq)

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the running worker is done (shutdown, tests)."""
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return
            self.poll()

    def cron(self) -> None:
        node = self.node
        ctx = node.ctx
        self.poll()
        if self.job is not None or ctx.loading or ctx.write_refused:
            return
        if self.scheduled_rewrite:
            self.scheduled_rewrite = False
            self._start_safely("rewrite")
            return
        if self.scheduled_bgsave:
            self.scheduled_bgsave = False
            self._start_safely("bgsave")
            return
        if time.time() - self.last_failed_at < BGSAVE_RETRY_DELAY:
            return
        tracker = ctx.tracker
        limit = node.config["auto-snapshot-log-bytes"]
        if limit and tracker is not None and tracker.bytes_since_snapshot > limit and node.config["appendonly"]:
            self._start_safely("auto")
            return
        save = node.config["save"]
        if save:
            changes = ctx.ks.dirty - self.dirty_at_last_save
            if changes > 0:
                parts = save.split()
                now = time.time()
                for i in range(0, len(parts) - 1, 2):
                    try:
                        secs, n = int(parts[i]), int(parts[i + 1])
                    except ValueError:
                        continue
                    if changes >= n and now - ctx.lastsave >= secs:
                        log.info("%d changes in %d seconds. Saving...", n, secs)
                        self._start_safely("bgsave")
                        return

    def _start_safely(self, kind: str) -> None:
        try:
            self.start(kind)
        except Exception as e:
            log.error("cannot start a snapshot: %s", e)
            self._finish_stats(kind, False, 0.0)
            self._done(False, 0)

    # -- DEBUG RELOAD --------------------------------------------------------------------
    def debug_reload(self, *args: Any) -> None:
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush, load the snapshot back."""
        opts: set[bytes] = set()
        for a in args:
            if isinstance(a, (bytes, bytearray)):
                opts.add(bytes(a).lower())
            elif isinstance(a, (list, tuple)):
                opts.update(bytes(x).lower() for x in a if isinstance(x, (bytes, bytearray)))
        node = self.node
        ks = node.ctx.ks
        if b"nosave" not in opts:
            try:
                self.save()
            except Exception as e:
                log.error("DEBUG RELOAD: save failed: %s", e)
                raise CommandError("ERR Error trying to save the DB, check the log") from None
        path = self._path()
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            raise CommandError(errors.RDB_LOAD_FAILED) from None
        if b"noflush" not in opts and b"merge" not in opts:
            for db in ks.dbs:
                db.clear()
        elif b"merge" not in opts and (any(db.data for db in ks.dbs) or functions_of(node.ctx)):
            # NOFLUSH without MERGE: what the snapshot holds is already there, and Redis's
            # loader refuses a key (or library) that exists
            raise CommandError(errors.RDB_LOAD_FAILED)
        loader = rdb.Loader(ks, now_ms=node.ctx.clock.now_ms(), config=node.config)
        try:
            loader.load(data, path)
        except rdb.RdbError as e:
            log.error("DEBUG RELOAD: %s", e)
            raise CommandError(errors.RDB_LOAD_FAILED) from None
        load_functions(node.ctx, loader.functions)

    # -- INFO ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        job = self.job
        kind = job["kind"] if job else None
        el = int(time.time() - job["start"]) if job else -1
        return {
            "changes": self.node.ctx.ks.dirty - self.dirty_at_last_save,
            "bgsave_in_progress": 1 if kind in ("bgsave", "auto") else 0,
            "last_bgsave_status": self.last_bgsave_status,
            "last_bgsave_time_sec": self.last_bgsave_time,
            "current_bgsave_time_sec": el if kind in ("bgsave", "auto") else -1,
            "saves": self.saves,
            "aof_rewrite_in_progress": 1 if kind == "rewrite" else 0,
            "aof_rewrite_scheduled": 1 if self.scheduled_rewrite else 0,
            "aof_last_rewrite_time_sec": self.last_rewrite_time,
            "aof_current_rewrite_time_sec": el if kind == "rewrite" else -1,
            "aof_last_bgrewrite_status": self.last_rewrite_status,
            "aof_rewrites": self.rewrites,
            "aof_rewrites_consecutive_failures": self.rewrite_failures,
            "base_size": self.base_size,
        }


# =========================================================================================
# the worker process
# =========================================================================================
def run_worker(directory: str, dbfilename: str, logdir: str, upto: int, databases: int,
               config_pairs: list[tuple[str, str]]) -> dict[str, Any]:
    from ..config import Config
    from ..node import Node
    from .filelog import FileLog, read_dir

    cfg = Config()
    cfg.set_from_text("databases", str(databases), startup=True)
    cfg.set_from_text("appendonly", "no", startup=True)
    for name, value in config_pairs:
        cfg.set_from_text(name, value, startup=True)
    node = Node(cfg)
    ks = node.ctx.ks
    ks.expire_allowed = False
    path = os.path.join(directory, dbfilename)
    snap_seq = 0
    have_snapshot = os.path.exists(path)
    if have_snapshot:
        with open(path, "rb") as f:
            data = f.read()
        loader = rdb.Loader(ks, now_ms=None, config=cfg, skip_expired=False)
        loader.load(data, path)
        del data
        if b"durakv-seq" in loader.aux:
            snap_seq = int(loader.aux[b"durakv-seq"])
        else:
            probe = FileLog.__new__(FileLog)
            probe.dir = logdir
            first, _entries = FileLog._read_manifest(probe)
            snap_seq = first - 1
        load_functions(node.ctx, loader.functions)
    if snap_seq >= upto and have_snapshot:
        return {"seq": snap_seq, "skipped": True}
    last = snap_seq
    n = 0
    for seq, payload in read_dir(logdir, snap_seq + 1, upto):
        if seq != last + 1:
            raise RuntimeError(f"log records missing: got seq {seq} after {last}")
        node.apply_payload(payload)
        last = seq
        n += 1
    if last != upto:
        raise RuntimeError(f"log ends at seq {last}, the snapshot must cover up to {upto}")
    functions = functions_of(node.ctx)
    pieces = rdb.write_rdb(rdb.keyspace_items(ks), cfg, {b"durakv-seq": b"%d" % upto}, functions)
    size = write_verified(path, pieces, databases)
    return {"seq": upto, "records": n, "keys": ks.keycount(), "bytes": size}


def _follow_parent(parent: int) -> None:
    """Die with the node, and give way to it for the CPU.

    A snapshot of a big log takes a while; if the node is killed meanwhile, the half-built
    file is useless (the next node starts its own), so the worker must not run on as an
    orphan.  It also runs at a lower priority: serving clients comes first, and a snapshot
    that finishes later only means a longer log meanwhile.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the node died before the prctl took effect
        sys.exit(1)
    try:
        os.nice(10)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m durakv.durability.snapshot")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--dbfilename", default="dump.rdb")
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--upto", type=int, required=True)
    ap.add_argument("--databases", type=int, default=16)
    ap.add_argument("--config", nargs=2, action="append", default=[])
    ap.add_argument("--parent", type=int, default=0, help="exit when this process (the node) dies")
    a = ap.parse_args(argv)
    if a.parent:
        _follow_parent(a.parent)
    logging.basicConfig(level=logging.INFO, format="%(process)d:C %(asctime)s %(levelname)s %(message)s")
    try:
        res = run_worker(a.dir, a.dbfilename, a.logdir, a.upto, a.databases, [tuple(p) for p in a.config])
    except Exception as e:
        log.error("snapshot failed: %s", e)
        sys.exit(1)
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
