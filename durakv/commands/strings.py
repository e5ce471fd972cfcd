"""String commands (placeholder: GET and SET without options, to be completed)."""

from __future__ import annotations

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command


@command("get", 2, "readonly fast", "@read @string @fast", keys=(1, 1, 1))
def get(c: Session, argv: list[bytes]) -> bytes:
    v = c.db.lookup(argv[1])
    if v is None:
        return c.r.null
    if type(v) is not bytes:
        raise CommandError(errors.WRONGTYPE)
    return b"$%d\r\n%s\r\n" % (len(v), v)


@command("set", -3, "write denyoom", "@write @string @slow", keys=(1, 1, 1))
def set_(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    db.set(key, argv[2])
    db.ks.signal_modified(db, key)
    return resp.OK
