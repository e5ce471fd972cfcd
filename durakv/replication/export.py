"""Serving Redis's replication protocol (SYNC / PSYNC) to tools and external replicas.

durakv's own replicas follow the log (DESIGN §5).  This module is for everything else
that speaks Redis replication: ``redis-cli --rdb`` (a backup over the wire) and a real
``redis-server --replicaof`` pointed at a durakv primary (a migration path, or a read
replica outside durakv).

A sync is served from a snapshot built the usual way, off the serving node: the exporter
asks the snapshot manager for a background snapshot (or joins the one running) and, when
it is done, sends ``+FULLRESYNC`` (for PSYNC), the RDB file, the log records appended
after the sequence the snapshot covers, and from then on every record as it is appended.
A record is already a run of RESP commands each run preceded by SELECT, which is what
Redis's replication stream is, so records go out as they are, but for the SELECT that
opens every record: like Redis, the stream says SELECT only when the database changes,
and once after each snapshot point (a replica that loaded the snapshot starts in db 0).
The stream offset counts the bytes of the stream since the first sync; the bytes that
follow a snapshot come from the backlog, which keeps them while replicas wait.

While a replica waits for its snapshot it gets a newline every second (Redis's keepalive
before the PSYNC reply); online replicas get a PING in the stream every
``repl-ping-replica-period`` seconds.  ``REPLCONF rdb-only 1`` (what ``redis-cli --rdb``
sends) closes the connection after the RDB.

WAIT on a standalone primary counts these replicas: the exporter remembers at which
stream offset each recent record ended, a replica counts for a record once its
``REPLCONF ACK`` offset reaches that, and WAIT puts ``REPLCONF GETACK *`` in the stream
(as Redis does) so replicas answer at once instead of at their next one-second ACK.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from ..durability.tracker import select_command
from ..errors import CommandError
from ..session import Session

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("durakv.export")

_PING = b"*1\r\n$4\r\nPING\r\n"
_GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
_ENDS_KEPT = 100_000  # records whose end offset WAIT can still look up


class Replica:
    __slots__ = ("session", "psync", "rdb_only", "ack_offset", "ack_time", "port")

    def __init__(self, session: Session, psync: bool, rdb_only: bool, port: int) -> None:
        self.session = session
        self.psync = psync
        self.rdb_only = rdb_only
        self.ack_offset = 0
        self.ack_time = time.monotonic()
        self.port = port

    def gone(self) -> bool:
        conn = self.session.conn
        return conn is None or conn.closing

    def write(self, data: bytes) -> None:
        conn = self.session.conn
        if conn is not None:
            conn.push(data)  # after any reply still held for durability

    def drop(self) -> None:
        """Close the connection once what was written to it is sent."""
        conn = self.session.conn
        if conn is not None:
            conn.close()


class Exporter:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.replid = node.ctx.run_id  # what INFO replication shows as master_replid
        self.offset = 0  # bytes of stream since the first sync
        # the stream's most recent bytes, for replicas that reconnect (partial resync)
        self.backlog = bytearray()
        self.backlog_start = 0  # stream offset of backlog[0]
        self.hooked: Any = None  # the tracker whose records we observe
        self.waiting: list[Replica] = []
        self.replicas: list[Replica] = []
        self.last_ping = time.monotonic()
        self.last_newline = time.monotonic()
        # per-connection REPLCONF options given before SYNC/PSYNC
        self.options: dict[int, dict[bytes, bytes]] = {}
        self.ends: deque[tuple[int, int]] = deque(maxlen=_ENDS_KEPT)  # (log seq, stream offset after it)
        self.stream_db = -1  # the database the stream last selected (-1: the next record says)
        self.waiters: list[Any] = []  # WAIT clients (commands/replication.py's _Waiter)
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0  # INFO stats

    # -- commands --------------------------------------------------------------------------
    def replconf(self, c: Session, opt: bytes, val: bytes) -> None:
        opts = self.options.setdefault(c.id, {})
        if opt == b"capa":  # given once per capability: keep them all
            opts[opt] = opts.get(opt, b"") + b" " + val
        else:
            opts[opt] = val
        if opt == b"ack":
            for r in self.replicas:
                if r.session is c:
                    try:
                        r.ack_offset = int(val)
                    except ValueError:
                        pass
                    r.ack_time = time.monotonic()
            if self.waiters:
                self.check_waiters()

    # -- WAIT --------------------------------------------------------------------------------
    def count_acks(self, seq: int) -> int:
        """Replicas that acknowledged the stream up to the end of log record ``seq``."""
        if not self.replicas:
            return 0
        ends = self.ends
        if ends and seq > ends[-1][0]:
            return 0  # not in the stream yet (the batch is still open)
        need = 0
        for s, end in reversed(ends):
            if s <= seq:
                need = end
                break
        return sum(1 for r in self.replicas if r.ack_offset >= need and not r.gone())

    def ask_acks(self) -> None:
        if self.replicas:
            self.feed(_GETACK)

    def check_waiters(self) -> None:
        for w in list(self.waiters):
            n = self.count_acks(w.target)
            if n >= w.num:
                w.done(n)

    def sync(self, c: Session, psync: bool, replid: bytes = b"?", want: int = -1) -> bytes:
        ctx = self.node.ctx
        if ctx.role != "master":
            raise CommandError("ERR SYNC and PSYNC are served by the primary only (durakv replicas follow the log)")
        if psync:
            cont = self._partial(c, replid, want)
            if cont is not None:
                self.sync_partial_ok += 1
                return cont
            if replid != b"?":
                self.sync_partial_err += 1  # it asked to continue; it gets a full sync
        mgr = ctx.snapshots
        if mgr is None:
            raise CommandError("ERR no snapshot manager: this node cannot serve a sync")
        if any(r.session is c for r in self.waiting + self.replicas):
            return b""  # Redis ignores SYNC from a client that is already a replica
        self._hook()
        self.waiting.append(self._new_replica(c, psync)[0])
        self.sync_full += 1
        log.info("Replica %s asks for synchronization (%s)", c.addr, "PSYNC" if psync else "SYNC")
        if not mgr.busy():
            mgr.start_soon("sync")
        # otherwise the running snapshot serves it: the records after it come from the log
        return b""  # the reply is the RDB, sent when the snapshot is done

    def _new_replica(self, c: Session, psync: bool) -> tuple[Replica, dict[bytes, bytes]]:
        """The connection becomes a replica, with the REPLCONF options it gave before."""
        opts = self.options.pop(c.id, {})
        try:
            port = int(opts.get(b"listening-port", b"0"))
        except ValueError:
            port = 0
        c.kind = "replica"  # CLIENT LIST flags=S, CLIENT KILL TYPE replica, its buffer limits
        return Replica(c, psync, opts.get(b"rdb-only") == b"1", port), opts

    def _partial(self, c: Session, replid: bytes, want: int) -> bytes | None:
        """PSYNC <our replid> <offset+1> from a replica that has all but the backlog's tail:
        the reply is +CONTINUE and the bytes it misses (masterTryPartialResynchronization);
        None when the backlog cannot serve it (a full resync follows)."""
        if replid.decode("latin-1") != self.replid or self.hooked is None:
            return None
        have = want - 1  # the replica asks for the byte after the last one it processed
        if not (self.backlog_start <= have <= self.offset):
            return None  # (a replica with all of the stream, even an empty one, continues)
        r, opts = self._new_replica(c, True)
        psync2 = b"psync2" in opts.get(b"capa", b"").split()
        r.ack_offset = have
        self.replicas.append(r)
        self.refresh_good()
        log.info("Partial resynchronization request from %s accepted: sending %d bytes of backlog",
                 c.addr, self.offset - have)
        head = b"+CONTINUE %s\r\n" % self.replid.encode() if psync2 else b"+CONTINUE\r\n"
        return head + bytes(self.backlog[have - self.backlog_start:])

    # -- the stream --------------------------------------------------------------------------
    def _hook(self) -> None:
        tracker = self.node.ctx.tracker
        if tracker is None or self.hooked is tracker:
            return
        prev = tracker.on_record

        def on_record(seq: int, payload: bytes) -> None:
            if prev is not None:
                prev(seq, payload)
            db = self.stream_db
            job = self.node.ctx.snapshots.job if self.node.ctx.snapshots is not None else None
            if job is not None and job.get("seq") == seq - 1:
                db = -1  # the first record after a snapshot point: a replica may start here
            if db >= 0:
                sel = select_command(db)
                if payload.startswith(sel):
                    payload = payload[len(sel):]
            if tracker.record_db >= 0:
                self.stream_db = tracker.record_db
            self.feed(payload)
            self.ends.append((seq, self.offset))
            if self.waiters and any(w.target == seq for w in self.waiters):
                self.ask_acks()  # a WAIT issued before this record of its writes was appended

        tracker.on_record = on_record
        self.hooked = tracker

    def feed(self, payload: bytes) -> None:
        self.offset += len(payload)
        bl = self.backlog
        bl += payload
        if len(bl) > 2 * self.node.config["repl-backlog-size"] and not self.waiting:
            cut = len(bl) - self.node.config["repl-backlog-size"]
            del bl[:cut]
            self.backlog_start += cut
        if self.replicas:
            for r in self.replicas:
                r.write(payload)

    def snapshot_done(self, ok: bool, seq: int) -> None:
        """The snapshot manager finished a snapshot covering the log up to ``seq``."""
        waiting = [r for r in self.waiting if not r.gone()]
        self.waiting = []
        if not waiting:
            return
        node = self.node
        if not ok:
            log.warning("snapshot for replica sync failed: closing %d replica(s)", len(waiting))
            for r in waiting:
                r.drop()
            return
        try:
            with open(node.ctx.snapshots._path(), "rb") as f:
                rdb = f.read()
            tail, start = self._after(seq)
        except Exception as e:  # the file or the log could not be read: the replicas retry
            log.error("cannot serve replica sync: %s", e)
            for r in waiting:
                r.drop()
            return
        if not tail:
            self.stream_db = -1  # the next record tells the new replicas its database
        for r in waiting:
            if r.psync:
                r.write(b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(), start))
            r.write(b"$%d\r\n" % len(rdb))
            r.write(rdb)
            if r.rdb_only:
                log.info("RDB sent to %s (rdb-only): closing", r.session.addr)
                r.drop()
                continue
            if tail:
                r.write(tail)
            r.ack_offset = start
            if not self.replicas:  # the keepalive PINGs count from the first replica online
                self.last_ping = time.monotonic()
            self.replicas.append(r)
            log.info("Synchronization with replica %s succeeded", r.session.addr)
        self.refresh_good()

    def _after(self, seq: int) -> tuple[bytes, int]:
        """The stream after log record ``seq`` (a snapshot point) and its offset."""
        end = next((e for s, e in reversed(self.ends) if s == seq), None)
        if end is not None and end >= self.backlog_start:
            return bytes(self.backlog[end - self.backlog_start:]), end
        tracker = self.node.ctx.tracker
        if seq >= (tracker.appended if tracker is not None else 0):
            return b"", self.offset  # nothing after the snapshot yet
        if self.replicas:
            raise RuntimeError(f"the stream after record {seq} is no longer in the backlog")
        # the first sync joined a snapshot started before the stream was observed: nobody
        # follows the stream yet, so it starts over with the log records after the snapshot
        # (each opens with its SELECT)
        tail = b"".join(p for _, p in self.node.log.read(seq + 1))
        self.offset = len(tail)
        self.backlog = bytearray(tail)
        self.backlog_start = 0
        self.ends.clear()
        self.stream_db = -1
        return tail, 0

    def cron(self, node: Node) -> None:
        now = time.monotonic()
        if self.replicas:
            self.replicas = [r for r in self.replicas if not r.gone()]
        if self.waiting and now - self.last_newline >= 1.0:
            self.last_newline = now
            for r in self.waiting:
                r.write(b"\n")
        if self.replicas and now - self.last_ping >= node.config["repl-ping-replica-period"]:
            self.last_ping = now
            self.feed(_PING)
        self.refresh_good()

    def refresh_good(self, *_: Any) -> None:
        """min-replicas-to-write: are enough replicas online with a recent ACK?  (Redis's
        repl_good_slaves_count, kept in ``ctx.noreplicas`` for the write gates.)"""
        cfg = self.node.config
        need = cfg["min-replicas-to-write"]
        lag = cfg["min-replicas-max-lag"]
        ctx = self.node.ctx
        if not need or not lag or ctx.role != "master":
            ctx.noreplicas = False
            return
        now = time.monotonic()
        good = sum(1 for r in self.replicas if not r.gone() and now - r.ack_time <= lag)
        ctx.noreplicas = good < need

    def reset_stats(self) -> None:
        self.sync_full = self.sync_partial_ok = self.sync_partial_err = 0

    def disconnect(self, c: Session) -> None:
        self.options.pop(c.id, None)
        self.waiting = [r for r in self.waiting if r.session is not c]
        self.replicas = [r for r in self.replicas if r.session is not c]
        self.waiters = [w for w in self.waiters if w.c is not c]
        self.refresh_good()

    # -- INFO replication --------------------------------------------------------------------
    def info(self) -> list[tuple[str, Any]]:
        now = time.monotonic()
        out: list[tuple[str, Any]] = [("connected_slaves", len(self.replicas))]
        for i, r in enumerate(self.replicas):
            ip = r.session.addr.rsplit(":", 1)[0]
            out.append((f"slave{i}", f"ip={ip},port={r.port},state=online,offset={r.ack_offset},"
                                    f"lag={int(now - r.ack_time)}"))
        return out


def install(node: Node) -> None:
    ex = Exporter(node)
    ctx = node.ctx
    ctx.extras["exporter"] = ex
    ctx.extras["sync"] = ex.sync
    ctx.extras["replconf"] = ex.replconf
    ctx.extras.setdefault("cron", []).append(ex.cron)
    ctx.extras.setdefault("on_disconnect", []).append(ex.disconnect)
    ctx.extras.setdefault("resetstat", []).append(ex.reset_stats)
    node.config.watch("min-replicas-to-write", ex.refresh_good)
    node.config.watch("min-replicas-max-lag", ex.refresh_good)
    mgr = ctx.snapshots
    if mgr is not None:
        mgr.on_done.append(ex.snapshot_done)
