"""Persistence commands: SAVE BGSAVE BGREWRITEAOF LASTSAVE.

Snapshots are made by :mod:`durakv.durability.snapshot` (``c.srv.snapshots``): SAVE
serializes memory in the loop; BGSAVE and BGREWRITEAOF (which compacts the log: same job)
start the snapshot worker process.
"""

from __future__ import annotations

import logging

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command

log = logging.getLogger("durakv.persistence")

_BGSAVE_BUSY = "ERR Background save already in progress"
_CHILD_ACTIVE = (
    "ERR Another child process is active (AOF?): can't BGSAVE right now. "
    "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
)
_REWRITE_BUSY = "ERR Background append only file rewriting already in progress"


@command("save", 1, "admin noscript no_async_loading no_multi", "@admin @slow @dangerous")
def save(c: Session, argv: list[bytes]) -> bytes:
    snaps = c.srv.snapshots
    if snaps.busy():
        raise CommandError(_BGSAVE_BUSY)
    try:
        snaps.save()
    except Exception as e:  # disk full, permissions ...
        log.error("SAVE failed: %s", e)
        raise CommandError("ERR") from None
    return resp.OK


@command("bgsave", -1, "admin noscript no_async_loading", "@admin @slow @dangerous")
def bgsave(c: Session, argv: list[bytes]) -> bytes:
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise CommandError(errors.SYNTAX)
    snaps = c.srv.snapshots
    kind = snaps.job_kind()
    if kind in ("bgsave", "auto"):
        raise CommandError(_BGSAVE_BUSY)
    if kind is not None or c.in_exec:  # (inside EXEC Redis schedules it, as behind a child)
        if schedule or c.in_exec:
            snaps.scheduled_bgsave = True
            return b"+Background saving scheduled\r\n"
        raise CommandError(_CHILD_ACTIVE)
    snaps.start_soon("bgsave")
    return b"+Background saving started\r\n"


@command("bgrewriteaof", 1, "admin noscript no_async_loading", "@admin @slow @dangerous")
def bgrewriteaof(c: Session, argv: list[bytes]) -> bytes:
    snaps = c.srv.snapshots
    kind = snaps.job_kind()
    if kind == "rewrite":
        raise CommandError(_REWRITE_BUSY)
    if kind is not None or c.in_exec:
        snaps.scheduled_rewrite = True
        return b"+Background append only file rewriting scheduled\r\n"
    snaps.start_soon("rewrite")
    return b"+Background append only file rewriting started\r\n"


@command("lastsave", 1, "loading stale fast", "@admin @fast @dangerous")
def lastsave(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(c.srv.lastsave)
