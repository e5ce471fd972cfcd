"""Generic key commands (DEL EXISTS FLUSHDB FLUSHALL so far; the rest of the keyspace group follows)."""

from __future__ import annotations

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command


@command("del", -2, "write", "@keyspace @write @slow", keys=(1, -1, 1))
def del_(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    n = 0
    for key in argv[1:]:
        if db.lookup_nottl(key) is not None and db.delete(key):
            db.ks.signal_modified(db, key)
            db.ks.notify("g", "del", key, db.id)
            n += 1
    return resp.integer(n)


@command("exists", -2, "readonly fast", "@keyspace @read @fast", keys=(1, -1, 1))
def exists(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    return resp.integer(sum(1 for k in argv[1:] if db.lookup_nottl(k) is not None))


def _flush_args(argv: list[bytes]) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"sync", b"async")):
        raise CommandError(errors.SYNTAX)


@command("flushdb", -1, "write", "@keyspace @write @slow @dangerous")
def flushdb(c: Session, argv: list[bytes]) -> bytes:
    _flush_args(argv)
    c.db.clear()
    c.srv.ks.signal_flush(c.db.id)
    return resp.OK


@command("flushall", -1, "write", "@keyspace @write @slow @dangerous")
def flushall(c: Session, argv: list[bytes]) -> bytes:
    _flush_args(argv)
    for db in c.srv.ks.dbs:
        db.clear()
    c.srv.ks.signal_flush(-1)
    return resp.OK
