"""Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis 7.0's ``multi.c``).

Queueing happens in the dispatcher (``c.multi`` is the queue; any command the gates
reject while queueing sets ``c.multi_error``, so EXEC answers EXECABORT; a rejected EXEC
itself answers "EXECABORT Transaction discarded because of: <reason>").  EXEC first
applies the gates its queued commands would meet (OOM for denyoom ones, MISCONF and
READONLY for writes), then the abort flags, then runs the queued commands back to back
through :func:`durakv.dispatch.call` with ``c.in_exec`` set (blocking commands answer at
once), so each logs its own effects; they all run within one event-loop pass, hence land
in one log record, and clients blocked on keys they made ready are served afterwards.

WATCH keeps, per watched key, whether the key was already logically expired at WATCH
time (Redis 7.0: a key that expires *after* WATCH aborts EXEC, one already expired does
not); the bookkeeping lives in :class:`durakv.keyspace.Keyspace` (``watch``,
``unwatch_all``, ``watched_key_expired``) and ``signal_modified`` / ``signal_flush`` /
``swap_dbs`` set ``c.dirty_cas``.
"""

from __future__ import annotations

from .. import dispatch, errors
from ..clock import FixedClock
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command

_EXECABORT_BECAUSE = "EXECABORT Transaction discarded because of: "
_NOPERM_EXEC = (
    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
    "EXEC call. This command is no longer allowed for the following reason: "
)


def discard_transaction(c: Session) -> None:
    """Leave MULTI state and unwatch everything (Redis's discardTransaction).

    Also what RESET and a disconnect do.
    """
    c.multi = None
    c.multi_error = False
    c.dirty_cas = False
    if c.watched:
        c.srv.ks.unwatch_all(c)


@command("multi", 1, "noscript loading stale fast allow_busy", "@fast @transaction")
def multi(c: Session, argv: list[bytes]) -> bytes:
    if c.multi is not None:
        raise CommandError(errors.MULTI_NESTED)
    c.multi = []
    c.multi_error = False
    return resp.OK


@command("discard", 1, "noscript loading stale fast allow_busy", "@fast @transaction")
def discard(c: Session, argv: list[bytes]) -> bytes:
    if c.multi is None:
        raise CommandError(errors.DISCARD_WITHOUT_MULTI)
    discard_transaction(c)
    return resp.OK


@command("watch", -2, "noscript loading stale fast allow_busy", "@fast @transaction", keys=(1, -1, 1))
def watch(c: Session, argv: list[bytes]) -> bytes:
    if c.multi is not None:
        raise CommandError(errors.WATCH_IN_MULTI)
    ks = c.srv.ks
    db = c.db
    for key in argv[1:]:
        ks.watch(c, db, key)
    return resp.OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", "@fast @transaction")
def unwatch(c: Session, argv: list[bytes]) -> bytes:
    if c.watched:
        c.srv.ks.unwatch_all(c)
    c.dirty_cas = False
    return resp.OK


def _exec_gate(c: Session, queue: list) -> str | None:
    """EXEC inherits the write/denyoom flags of what it queued (Redis 7.0 processCommand)."""
    is_write = False
    denyoom = False
    for spec, _ in queue:
        if spec.is_write:
            is_write = True
        if "denyoom" in spec.flags:
            denyoom = True
    return dispatch.refusal(c, is_write, denyoom)


def _acl_reason(reason: str) -> str:
    """EXEC's wording for an ACL denial; ``reason`` is what was denied (acl.last_reason)."""
    if reason == "key":
        return "no permission to touch the specified keys"
    if reason == "channel":
        return "no permission to access one of the channels used as arguments"
    return "no permission to execute the command or subcommand"


@command("exec", 1, "noscript loading stale skip_slowlog", "@slow @transaction")
def exec_(c: Session, argv: list[bytes]) -> bytes:
    queue = c.multi
    if queue is None:
        raise CommandError(errors.EXEC_WITHOUT_MULTI)
    # Redis runs these gates in processCommand, before execCommand looks at the flags
    err = _exec_gate(c, queue)
    if err is not None:
        discard_transaction(c)
        raise CommandError(_EXECABORT_BECAUSE + err)
    ks = c.srv.ks
    if c.watched and ks.watched_key_expired(c):
        c.dirty_cas = True
    if c.multi_error or c.dirty_cas:
        aborted = c.multi_error
        discard_transaction(c)
        if aborted:
            raise CommandError(errors.EXECABORT)
        return c.r.null_array
    if c.watched:
        ks.unwatch_all(c)
    acl = c.srv.acl
    call = dispatch.call
    out = []
    c.in_exec = True
    tracker = c.srv.tracker
    group = tracker.begin_group() if tracker is not None and not c.replaying else None
    clock = ks.clock
    ks.clock = FixedClock(clock, clock.now_ms())  # keys expire as of the EXEC
    try:
        for spec, qargv in queue:
            if acl is not None and c.user is not None:
                denied = acl.check(c, spec, qargv)
                if denied is not None:
                    out.append(dispatch.error_reply(c, _NOPERM_EXEC + _acl_reason(acl.last_reason)))
                    continue
            out.append(call(c, spec, qargv))
    finally:
        ks.clock = clock
        if group is not None:
            tracker.end_group(group)  # type: ignore[union-attr]
        c.in_exec = False
        discard_transaction(c)
    return resp.array(out)
