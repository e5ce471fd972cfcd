"""Wires durability into a node: the default FileLog, recovery, snapshots, INFO persistence.

``install(node)`` registers the ``ctx.extras`` hooks the node and other subsystems call:
``default_log_factory`` (FileLog in ``dir/appenddirname``, NullLog with
``appendonly no``), ``recover`` / ``recover_after_failure`` (durability.recovery),
``cron`` (everysec fsync, snapshot worker polling, automatic snapshots), ``debug_reload``
and the INFO ``persistence`` section.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from ..config import Config
from . import recovery
from .filelog import FileLog, LogCorrupt
from .log import Log, NullLog

if TYPE_CHECKING:
    from ..node import Node


def data_dir(config: Config) -> str:
    """The absolute data directory.

    ``durakv-server`` chdir()s into ``dir`` at start, as redis-server does; a relative
    ``dir`` therefore names the current directory when it is where we already are.
    """
    d = config["dir"] or "."
    if os.path.isabs(d):
        return d
    cwd = os.getcwd()
    norm = os.path.normpath(d)
    if norm == "." or os.path.realpath(cwd).endswith(os.sep + norm) or not os.path.isdir(d):
        return cwd
    return os.path.abspath(d)


def log_dir(config: Config) -> str:
    return os.path.join(data_dir(config), config["appenddirname"])


def default_log_factory(node: Node) -> Log:
    cfg = node.config
    if not cfg["appendonly"]:
        return NullLog()
    try:
        return FileLog(log_dir(cfg), policy=cfg["appendfsync"], loop=node.loop)
    except LogCorrupt as e:
        if node.ctx.extras.get("load_task") is not None:
            raise  # reopening after a failure: the caller retries
        # a damaged log must stop the start, with the file and offset, not a traceback
        recovery.log.critical("%s", e)
        sys.stderr.write(f"durakv: FATAL: {e}\n")
        sys.stderr.flush()
        logging.shutdown()
        os._exit(1)


def _set_policy(node: Node, value: Any) -> None:
    if node.log is not None:
        node.log.set_policy(str(value))


def _set_appendonly(node: Node, value: Any) -> None:
    """CONFIG SET appendonly: swap the log under the commit tracker.

    Turning it on snapshots memory first (like Redis's AOF rewrite on ``appendonly yes``)
    so that the new FileLog only has to hold what follows; turning it off keeps the last
    snapshot and stops logging.
    """
    ctx = node.ctx
    tracker = ctx.tracker
    old = node.log
    if tracker is None or old is None or bool(value) == (not isinstance(old, NullLog)):
        return
    if ctx.snapshots is not None:
        # on: the new log only holds what follows; off: nothing written so far is lost
        try:
            ctx.snapshots.save()
        except Exception:
            recovery.log.exception("snapshot while switching appendonly failed")
    tracker.flush()
    seq = tracker.appended
    if value:
        d = log_dir(node.config)
        FileLog.wipe(d)  # whatever is there predates the snapshot just taken
        flog = FileLog(d, policy=node.config["appendfsync"], loop=node.loop)
        flog.reset_to(seq)
        new: Log = flog
    else:
        null = NullLog()
        null.base = seq + 1
        new = null
    new.on_durable = tracker._on_durable
    new.on_failure = tracker._on_failure
    tracker.log = new
    node.log = new
    old.close()


def _cron(node: Node) -> None:
    lg = node.log
    tick = getattr(lg, "tick", None)
    if tick is not None:
        tick()
    snaps = node.ctx.snapshots
    if snaps is not None:
        snaps.cron()


def persistence_info(node: Node) -> list[tuple[str, Any]]:
    ctx = node.ctx
    st: recovery.LoadState | None = ctx.extras.get("load_state")
    snaps = ctx.snapshots
    lg = node.log
    tracker = ctx.tracker
    aof = bool(node.config["appendonly"])
    s = snaps.stats() if snaps is not None else {}
    out: list[tuple[str, Any]] = [
        ("loading", 1 if ctx.loading else 0),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", s.get("changes", 0)),
        ("rdb_bgsave_in_progress", s.get("bgsave_in_progress", 0)),
        ("rdb_last_save_time", ctx.lastsave),
        ("rdb_last_bgsave_status", s.get("last_bgsave_status", "ok")),
        ("rdb_last_bgsave_time_sec", s.get("last_bgsave_time_sec", -1)),
        ("rdb_current_bgsave_time_sec", s.get("current_bgsave_time_sec", -1)),
        ("rdb_saves", s.get("saves", 0)),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", st.keys_expired if st else 0),
        ("rdb_last_load_keys_loaded", st.keys_loaded if st else 0),
        ("aof_enabled", 1 if aof else 0),
        ("aof_rewrite_in_progress", s.get("aof_rewrite_in_progress", 0)),
        ("aof_rewrite_scheduled", s.get("aof_rewrite_scheduled", 0)),
        ("aof_last_rewrite_time_sec", s.get("aof_last_rewrite_time_sec", -1)),
        ("aof_current_rewrite_time_sec", s.get("aof_current_rewrite_time_sec", -1)),
        ("aof_last_bgrewrite_status", s.get("aof_last_bgrewrite_status", "ok")),
        ("aof_rewrites", s.get("aof_rewrites", 0)),
        ("aof_rewrites_consecutive_failures", s.get("aof_rewrites_consecutive_failures", 0)),
        ("aof_last_write_status", "err" if ctx.write_refused else "ok"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]
    if aof:
        size = int(lg.size_bytes()) if lg is not None and hasattr(lg, "size_bytes") else 0
        out += [
            ("aof_current_size", size),
            ("aof_base_size", s.get("base_size", 0)),
            ("aof_pending_rewrite", 0),
            ("aof_buffer_length", 0),
            ("aof_pending_bio_fsync", 1 if getattr(lg, "fsync_in_flight", False) else 0),
            ("aof_delayed_fsync", 0),
        ]
    if ctx.loading and st is not None:
        out += st.fields()
    # durakv's own fields: the log and the last load
    if lg is not None:
        out += [
            ("log_first_seq", lg.first_seq()),
            ("log_last_seq", lg.last_seq()),
            ("log_committed_seq", tracker.committed if tracker is not None else lg.last_seq()),
            ("log_fsyncs", getattr(lg, "fsyncs", 0)),
            ("log_segments", len(getattr(lg, "segments", ()))),
            ("log_bytes_since_snapshot", tracker.bytes_since_snapshot if tracker is not None else 0),
            ("snapshot_seq", ctx.extras.get("snapshot_seq", 0)),
        ]
    if st is not None:
        out += [
            ("loading_records_total", st.records_total),
            ("loading_records_replayed", st.records_replayed),
            ("loading_replay_rate", "%.0f" % st.replay_rate()),
            ("last_load_time_sec", "%.3f" % st.last_load_seconds),
        ]
    return out


def install(node: Node) -> None:
    ctx = node.ctx
    ex = ctx.extras
    ex["default_log_factory"] = default_log_factory
    ex["recover"] = recovery.recover
    ex["recover_after_failure"] = recovery.recover_after_failure
    ex.setdefault("cron", []).append(_cron)
    ex.setdefault("info", {})["persistence"] = lambda: persistence_info(node)
    node.config.watch("appendfsync", lambda v: _set_policy(node, v))
    node.config.watch("appendonly", lambda v: _set_appendonly(node, v))
    from .snapshot import SnapshotManager

    ctx.snapshots = SnapshotManager(node)
    ex["debug_reload"] = ctx.snapshots.debug_reload
