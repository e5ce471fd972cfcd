"""Recovery: rebuild a node's keyspace from the newest snapshot plus the log after it.

At start (``recover``) and after a failed append (``recover_after_failure``) the node
answers ``-LOADING`` while a background task loads ``dir/dbfilename`` (an RDB written by
durakv or by a real Redis) and replays every log record after the sequence the snapshot
covers (its ``durakv-seq`` aux field) through :meth:`Node.apply_payload`.  Progress and
replay rate feed INFO persistence (:class:`LoadState`).

A damaged log (corruption before its end) or an unreadable snapshot stops the node with a
message naming the file and offset: starting without that data would silently lose
acknowledged writes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .log import Log

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("durakv.recovery")

YIELD_EVERY = 2000  # records/keys between two yields to the event loop while loading


class LoadState:
    """What INFO persistence shows about the current or last load."""

    def __init__(self) -> None:
        self.loading = False
        self.start_time = 0.0
        self.total_bytes = 0
        self.loaded_bytes = 0
        self.rdb_used_mem = 0
        self.records_total = 0
        self.records_replayed = 0
        self.keys_loaded = 0
        self.keys_expired = 0
        self.last_load_seconds = 0.0
        self.last_replay_rate = 0.0
        self.replay_start = 0.0
        self.replay_seconds = 0.0
        self.snapshot_seq = 0
        self.error: str | None = None

    def replay_rate(self) -> float:
        """Log records replayed per second (the replay phase only)."""
        if self.loading and self.replay_start:
            el = time.time() - self.replay_start
            return self.records_replayed / el if el > 0 else 0.0
        return self.last_replay_rate

    def fields(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        if self.loading:
            el = max(time.time() - self.start_time, 1e-9)
            perc = 100.0 * self.loaded_bytes / self.total_bytes if self.total_bytes else 0.0
            rate = self.loaded_bytes / el
            eta = int((self.total_bytes - self.loaded_bytes) / rate) if rate > 0 else 1
            out += [
                ("loading_start_time", int(self.start_time)),
                ("loading_total_bytes", self.total_bytes),
                ("loading_rdb_used_mem", self.rdb_used_mem),
                ("loading_loaded_bytes", self.loaded_bytes),
                ("loading_loaded_perc", "%.2f" % perc),
                ("loading_eta_seconds", eta),
            ]
        return out


def snapshot_path(node: Node) -> str:
    from .setup import data_dir

    return os.path.join(data_dir(node.config), node.config["dbfilename"])


def _state(node: Node) -> LoadState:
    st = node.ctx.extras.get("load_state")
    if st is None:
        st = LoadState()
        node.ctx.extras["load_state"] = st
    return st


async def recover(node: Node) -> None:
    """Start-up hook: begin loading in the background; the node answers -LOADING meanwhile."""
    ctx = node.ctx
    st = _state(node)
    lg = node.log
    assert lg is not None
    path = snapshot_path(node)
    _remove_stale_temp_files(os.path.dirname(path))
    st.total_bytes = _size(path) + _log_bytes(lg)
    if st.total_bytes == 0:
        return  # nothing on disk: nothing to load (keeps empty starts instant)
    ctx.loading = True
    st.loading = True
    st.start_time = time.time()
    ctx.ks.expire_allowed = False
    task = asyncio.get_running_loop().create_task(_load_task(node, fatal=True))
    ctx.extras["load_task"] = task


def recover_after_failure(node: Node) -> None:
    """The log failed an append: reload from disk, then take writes again."""
    ctx = node.ctx
    if ctx.extras.get("load_task") is not None and not ctx.extras["load_task"].done():
        return
    st = _state(node)
    ctx.loading = True
    st.loading = True
    st.start_time = time.time()
    ctx.ks.expire_allowed = False
    loop = node.loop or asyncio.get_event_loop()
    ctx.extras["load_task"] = loop.create_task(_reopen_and_load(node))


async def _reopen_and_load(node: Node) -> None:
    ctx = node.ctx
    # every reply still held waits for a record that will never be durable
    from ..errors import MISCONF_LOG

    msg = MISCONF_LOG.format(ctx.write_refused or "log failure")
    for s in list(ctx.clients.values()):
        if s.conn is not None and s.conn.held:
            s.conn.fail_held(msg)
    delay = 0.05
    while True:
        old = node.log
        try:
            if old is not None:
                old.close()
        except Exception:  # the failed log may not close cleanly
            log.exception("closing the failed log")
        for db in ctx.ks.dbs:
            db.clear()
            for watchers in db.watched.values():  # WATCHed keys may lose the failed write
                for w in watchers:
                    w.dirty_cas = True
        flush = getattr(ctx.scripting, "flush_functions", None)
        if flush is not None:
            flush()
        try:
            lg = node.make_log()
        except Exception as e:
            log.error("cannot reopen the log after a failure: %s; retrying", e)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        assert node.loop is not None
        node.attach_log(lg, node.loop.call_soon)
        _state(node).total_bytes = _size(snapshot_path(node)) + _log_bytes(lg)
        ok = await _load_task(node, fatal=False)
        if ok:
            ctx.write_refused = None
            log.info("recovered from the log failure; taking writes again")
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def _load_task(node: Node, fatal: bool) -> bool:
    ctx = node.ctx
    st = _state(node)
    t0 = time.time()
    try:
        await load_into(node, st)
    except Exception as e:
        msg = f"cannot load the data on disk: {e}"
        st.error = msg
        log.critical("%s", msg)
        if fatal:
            sys.stderr.write(f"durakv: FATAL: {msg}\n")
            sys.stderr.flush()
            logging.shutdown()
            os._exit(1)
        # stay in the loading state: the keyspace is partial until a retry succeeds
        return False
    el = time.time() - t0
    st.last_load_seconds = el
    st.last_replay_rate = st.records_replayed / st.replay_seconds if st.replay_seconds > 0 else 0.0
    st.loading = False
    ctx.loading = False
    ctx.ks.expire_allowed = True
    ctx.ks.dirty = 0
    log.info(
        "DB loaded from disk: %.3f seconds (%d keys from the snapshot, %d log records replayed in %.3f s, "
        "%.0f records/s)", el, st.keys_loaded, st.records_replayed, st.replay_seconds, st.last_replay_rate,
    )
    return True


async def load_into(node: Node, st: LoadState) -> None:
    """Load the snapshot, then replay the log after it, yielding to the loop regularly."""
    for _ in _load_steps(node, st):
        await asyncio.sleep(0)


def reload_now(node: Node) -> None:
    """DEBUG LOADAOF: empty the keyspace and load it back from the snapshot and the log,
    in one go (the open batch is appended first, so every write so far is read back)."""
    ctx = node.ctx
    ks = ctx.ks
    if ctx.tracker is not None:
        ctx.tracker.flush()
    dirty = ks.dirty
    for db in ks.dbs:
        db.clear()
        for watchers in db.watched.values():
            for w in watchers:
                w.dirty_cas = True
    flush = getattr(ctx.scripting, "flush_functions", None)
    if flush is not None:
        flush()
    for _ in _load_steps(node, LoadState()):
        pass
    # the replayed commands are no change to log: the keyspace is what the log says
    ks.dirty = dirty
    ks.modified.clear()


def _load_steps(node: Node, st: LoadState) -> Iterator[None]:
    """load_into's work; yields between steps (every 1024 keys, YIELD_EVERY records)."""
    ctx = node.ctx
    lg = node.log
    assert lg is not None
    st.loaded_bytes = 0
    st.records_replayed = 0
    st.keys_loaded = 0
    st.keys_expired = 0
    snap_seq = 0
    path = snapshot_path(node)
    if os.path.exists(path):
        from . import rdb

        # keys whose TTL passed are kept, as Redis does for an AOF preamble: a record after
        # the snapshot (PERSIST, a new EXPIRE ...) may refer to them; expiry runs after loading
        loader = rdb.Loader(ctx.ks, now_ms=ctx.clock.now_ms(), config=node.config, skip_expired=False)
        n = 0
        with open(path, "rb") as f:
            data = f.read()
        for _ in loader.iter_load(data, path=path):  # one step per 1024 keys
            n += 1
            st.loaded_bytes = loader.pos
            st.keys_loaded = loader.keys_loaded
            yield
        st.keys_loaded = loader.keys_loaded
        st.keys_expired = loader.keys_expired
        st.loaded_bytes = len(data)
        st.rdb_used_mem = int(loader.aux.get(b"used-mem", b"0") or 0) if loader.aux.get(b"used-mem", b"0").isdigit() else 0
        seq_text = loader.aux.get(b"durakv-seq")
        if seq_text is not None:
            snap_seq = int(seq_text)
        else:
            snap_seq = lg.first_seq() - 1
        if loader.functions:
            from .snapshot import load_functions

            load_functions(ctx, loader.functions)
        log.info("snapshot %s loaded: %d keys, covers log seq %d", path, loader.keys_loaded, snap_seq)
    st.snapshot_seq = snap_seq
    ctx.extras["snapshot_seq"] = snap_seq
    last = lg.last_seq()
    if snap_seq > last:
        # the snapshot covers records the log no longer has (lost unsynced tail after a
        # power cut, or truncated): new records must follow the snapshot's sequence
        _restart_log_at(node, lg, snap_seq)
        return
    first = lg.first_seq()
    if last >= first and first > snap_seq + 1:
        raise RuntimeError(
            f"the log starts at seq {first} but the snapshot {path} only covers up to seq {snap_seq}: "
            "records in between are missing"
        )
    st.records_total = max(0, last - snap_seq)
    st.replay_start = time.time()
    apply = node.apply_payload
    n = 0
    replayed_bytes = 0
    for seq, payload in lg.read(snap_seq + 1):
        if seq > last:
            break
        apply(payload)
        replayed_bytes += len(payload)
        n += 1
        st.records_replayed = n
        st.loaded_bytes += len(payload) + 24
        if n % YIELD_EVERY == 0:
            yield
    st.records_replayed = n
    st.replay_seconds = time.time() - st.replay_start
    st.replay_start = 0.0
    tracker = ctx.tracker
    if tracker is not None:
        # the log after the snapshot counts toward the next automatic snapshot
        tracker.bytes_since_snapshot += replayed_bytes


def _restart_log_at(node: Node, lg: Log, seq: int) -> None:
    restart = getattr(lg, "restart_at", None)
    if restart is not None:
        restart(seq)
    tracker = node.ctx.tracker
    if tracker is not None and lg.last_seq() >= seq:
        tracker.committed = tracker.appended = lg.last_seq()
        tracker.batch_seq = lg.last_seq() + 1


def _remove_stale_temp_files(d: str) -> None:
    """Temp RDBs of snapshot writers that died (kill -9) before renaming them."""
    try:
        names = os.listdir(d)
    except OSError:
        return
    for n in names:
        if n.startswith("temp-") and n.endswith(".rdb"):
            try:
                pid = int(n.split("-")[1])
            except (IndexError, ValueError):
                continue
            if pid != os.getpid() and _alive(pid):
                continue
            try:
                os.unlink(os.path.join(d, n))
            except OSError:
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _log_bytes(lg: Log) -> int:
    size = getattr(lg, "size_bytes", None)
    if size is not None:
        return int(size()) - 16 * len(getattr(lg, "segments", []))
    return 0 if lg.last_seq() < lg.first_seq() else 1
