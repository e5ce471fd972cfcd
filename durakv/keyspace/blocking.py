"""Blocking operations: clients waiting for keys (BLPOP & co, reused by XREAD BLOCK).

A handler that finds nothing to serve calls :meth:`Blocking.block` with the keys, a
``serve(session, key) -> reply | None`` callback and a timeout, and returns what it
returns (:data:`durakv.session.BLOCKED`).  The connection then holds the client's input
until :meth:`Blocking` calls ``session.conn.unblock(reply, wait_seq)``.

How waiters are woken (Redis's signalKeyAsReady / handleClientsBlockedOnKeys):

* the dispatcher calls :meth:`Blocking.note` with the keys a command modified whenever
  anybody is blocked (so any write — a push, LMOVE, RENAME, RESTORE, SORT STORE ... —
  can make a key ready), and :meth:`Blocking.serve_ready` after the command — but not
  inside MULTI/EXEC or a script: then after EXEC / the script ends;
* for each ready key, waiters are tried first-come first-served; ``serve`` does the pop
  in the waiter's session (notifications, ``propagate`` of the non-blocking equivalent),
  and returns the reply, or None to keep waiting (wrong type, nothing left ...);
* the pop's effects go into the open log batch, and the woken client's reply is held
  until that batch is durable (``unblock(reply, seq)``);
* timeouts use ``loop.call_later`` (no polling); a disconnected client is dropped through
  an ``on_disconnect`` hook; CLIENT UNBLOCK calls :meth:`Blocking.unblock`.

``install(node)`` sets ``ctx.blocking`` and a seeded ``ctx.rng`` if none exists.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from .. import spec
from ..session import BLOCKED, Session

log = logging.getLogger("durakv.blocking")

UNBLOCKED_ERROR = b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"

Serve = Callable[[Session, bytes], "bytes | None"]


class Waiter:
    """One blocked client."""

    __slots__ = ("session", "dbid", "keys", "serve", "timer", "timeout_reply", "done", "cmd", "argv", "us")

    def __init__(self, session: Session, keys: list[bytes], serve: Serve, timeout_reply: bytes) -> None:
        self.session = session
        self.cmd = session.last_cmd  # the blocked command (its failed_calls if it ends in an error)
        self.dbid = session.db.id
        self.keys = keys
        self.serve = serve
        self.timer: asyncio.TimerHandle | None = None
        self.timeout_reply = timeout_reply
        self.done = False
        # the command as called and its duration then (Blocking.called): its slow log entry
        # is made when it is served or CLIENT UNBLOCKed, with both durations
        self.argv: list[bytes] | None = None
        self.us = 0


class Blocking:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.keys: dict[tuple[int, bytes], deque[Waiter]] = {}
        self.ready: dict[tuple[int, bytes], None] = {}
        self.waiters: set[Waiter] = set()
        self._serving = False

    # -- registering ---------------------------------------------------------------------------
    def block(self, c: Session, keys: list[bytes], serve: Serve, timeout: float, timeout_reply: bytes) -> bytes:
        """Block ``c`` on ``keys`` (seconds ``timeout``, 0 = forever); returns BLOCKED."""
        w = Waiter(c, list(dict.fromkeys(keys)), serve, timeout_reply)
        dbid = w.dbid
        for k in w.keys:
            q = self.keys.get((dbid, k))
            if q is None:
                q = self.keys[(dbid, k)] = deque()
            q.append(w)
        self.waiters.add(w)
        c.blocked = w
        if 0 < timeout < 1e9:  # longer than ~31 years: no timer at all
            loop = asyncio.get_running_loop()
            w.timer = loop.call_later(timeout, self._timed_out, w)
        return BLOCKED

    def called(self, c: Session, argv: list[bytes], us: int) -> None:
        """dispatch: ``c``'s command ``argv`` blocked after ``us`` microseconds."""
        w = c.blocked
        if type(w) is Waiter:
            w.argv = argv
            w.us = us

    def _slowlog(self, w: Waiter, us: int, argv: list[bytes] | None = None) -> None:
        """Redis's updateStatsOnUnblock: the unblocked command's slow log entry (and its
        time in the command's statistics), ``us``: the time its unblocking took; ``argv``
        instead of the command's arguments."""
        sp = spec.all_commands().get(w.cmd)
        if sp is None or w.argv is None:
            return
        total = w.us + us
        sp.usec += us
        sl = self.ctx.slowlog
        if sl is not None:
            slow = self.ctx.config["slowlog-log-slower-than"]
            if slow >= 0 and total >= slow and "skip_slowlog" not in sp.flags:
                sl.add(w.session, w.argv if argv is None else argv, total)

    def _remove(self, w: Waiter) -> None:
        if w.done:
            return
        w.done = True
        self.waiters.discard(w)
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        for k in w.keys:
            q = self.keys.get((w.dbid, k))
            if q is not None:
                try:
                    q.remove(w)
                except ValueError:
                    pass
                if not q:
                    del self.keys[(w.dbid, k)]
        if w.session.blocked is w:
            w.session.blocked = None

    def _finish(self, w: Waiter, reply: bytes, seq: int = 0) -> None:
        self._remove(w)
        conn = w.session.conn
        if conn is not None:
            conn.unblock(reply, seq)

    def _timed_out(self, w: Waiter) -> None:
        if not w.done:
            w.timer = None
            self._finish(w, w.timeout_reply)

    # -- public API for other subsystems -----------------------------------------------------
    def unblock(self, session: Session, error: bool) -> bool:
        """CLIENT UNBLOCK: end a blocked client's wait (timeout reply, or the UNBLOCKED error)."""
        w = session.blocked
        if type(w) is not Waiter or w.done:
            return False
        if error:
            self.ctx.stats.count_error("UNBLOCKED")
        # Redis 7.0 (updateStatsOnUnblock(target, 0, 0, 1)) counts the unblocked command as
        # failed, with TIMEOUT as well as ERROR
        sp = spec.all_commands().get(w.cmd)
        if sp is not None:
            sp.failed_calls += 1
        # (Redis 7.0 logs it with no arguments: they are gone by then)
        self._slowlog(w, 0, [])
        self._finish(w, UNBLOCKED_ERROR if error else w.timeout_reply)
        return True

    def count(self) -> int:
        """Blocked clients (INFO blocked_clients)."""
        return len(self.waiters)

    def keys_count(self) -> int:
        return len(self.keys)

    def is_blocked(self, session: Session) -> bool:
        return type(session.blocked) is Waiter and not session.blocked.done

    def disconnected(self, session: Session) -> None:
        w = session.blocked
        if type(w) is Waiter:
            self._remove(w)

    # -- waking ------------------------------------------------------------------------------
    def note(self, modified: list[tuple[int, bytes | None]]) -> None:
        """Keys a command modified: those with waiters become ready."""
        keys = self.keys
        for k in modified:
            if k in keys:
                self.ready[k] = None  # type: ignore[index]
            elif k[1] is None:  # FLUSHALL / SWAPDB ...: any waited key may have changed
                for wk in keys:
                    self.ready[wk] = None

    def signal(self, dbid: int, key: bytes) -> None:
        k = (dbid, key)
        if k in self.keys:
            self.ready[k] = None

    def serve_ready(self) -> None:
        """Serve waiters of the keys that became ready (end of a command / EXEC / script)."""
        if self._serving:
            return
        self._serving = True
        ctx = self.ctx
        ks = ctx.ks
        try:
            while self.ready:
                ready = self.ready
                self.ready = {}
                for k in ready:
                    q = self.keys.get(k)
                    if not q:
                        continue
                    for w in list(q):
                        if w.done:
                            continue
                        c = w.session
                        saved = ks.modified
                        ks.modified = []
                        c.effects = None
                        # the woken client runs its command: invalidations it causes for its
                        # own tracking follow its reply (Redis's tracking_pending_keys)
                        writer = ctx.current_client
                        ctx.current_client = c
                        t0 = perf_counter_ns()
                        try:
                            reply = w.serve(c, k[1])
                        except Exception as e:  # CommandError from the pop: reply with it
                            msg = getattr(e, "msg", None)
                            if msg is None:  # a bug must not break the writer's command
                                log.exception("serving a blocked client failed")
                                msg = "ERR internal error while serving a blocked client"
                            reply = b"-%s\r\n" % msg.encode("latin-1", "replace")
                            ctx.stats.count_error(msg)  # INFO errorstats, as any error reply
                            sp = spec.all_commands().get(w.cmd)
                            if sp is not None:
                                sp.failed_calls += 1
                        finally:
                            ctx.current_client = writer
                        t = c.tracking
                        if t is not None and t.pending and reply is not None:
                            reply = t.after_reply(reply)
                        modified = ks.modified
                        ks.modified = saved
                        if reply is None:
                            continue
                        self._slowlog(w, (perf_counter_ns() - t0) // 1000)
                        seq = 0
                        tracker = ctx.tracker
                        if modified:
                            if self.keys:
                                self.note(modified)
                            if tracker is not None and not c.replaying:
                                seq = tracker.write(c.effects, modified)
                        c.effects = None
                        # like Redis's unblocked_clients: the woken client's reply and the
                        # rest of its pipeline are processed after this pass, not in it
                        self._remove(w)
                        conn = c.conn
                        if conn is not None:
                            asyncio.get_running_loop().call_soon(conn.unblock, reply, seq)
        finally:
            self._serving = False


def install(node: Any) -> None:
    ctx = node.ctx
    bl = Blocking(ctx)
    ctx.blocking = bl
    if ctx.rng is None:
        ctx.rng = random.Random(os.urandom(16))
    def on_disconnect(session: Session) -> None:
        if session.blocked is not None:
            bl.disconnected(session)

    ctx.extras.setdefault("on_disconnect", []).append(on_disconnect)
