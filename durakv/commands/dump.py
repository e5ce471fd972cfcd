"""DUMP and RESTORE: a value in RDB encoding + RDB version + CRC64 (durability.rdb)."""

from __future__ import annotations

from .. import errors
from ..durability import rdb
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command
from ._util import parse_int

_BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
_BAD_FORMAT = "ERR Bad data format"
_LLONG_MAX = (1 << 63) - 1


@command("dump", 2, "readonly", "@keyspace @read @slow", keys=(1, 1, 1))
def dump(c: Session, argv: list[bytes]) -> bytes:
    v = c.db.lookup(argv[1])
    if v is None:
        return c.r.null
    return resp.bulk(rdb.dump_payload(v, c.srv.config))


@command("restore", -4, "write denyoom", "@keyspace @write @slow @dangerous", keys=(1, 1, 1))
def restore(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    replace = absttl = False
    idle = -1
    freq = -1
    j = 4
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[j + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[j + 1])
            if freq < 0 or freq > 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    db = c.db
    ks = db.ks
    if not replace and db.lookup_nottl(key) is not None:
        raise CommandError(errors.BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    payload = argv[3]
    try:
        value = rdb.parse_payload(payload, c.srv.config)
    except rdb.RdbError as e:
        if str(e) == "checksum":
            raise CommandError(_BAD_PAYLOAD) from None
        raise CommandError(_BAD_FORMAT) from None
    except Exception:  # any malformed value inside a good checksum (struct.error, ...)
        raise CommandError(_BAD_FORMAT) from None
    deleted = db.delete(key) if replace else False
    now = c.srv.clock.now_ms()
    when = ttl if absttl or not ttl else ttl + now
    if when > _LLONG_MAX:  # Redis's signed overflow: the key counts as already expired
        when -= 1 << 64
    if ttl and when <= now and not c.replaying:
        if deleted:
            c.propagate([b"DEL", key])
            ks.signal_modified(db, key)
            ks.notify("g", "del", key, db.id)
        return resp.OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, when)
        if not absttl:
            out = [b"RESTORE", key, b"%d" % when, payload, b"ABSTTL"]
            if replace:
                out.append(b"REPLACE")
            c.propagate(out)
    if ks.track_access:
        if ks.lfu:
            if freq >= 0:
                db.access[key] = (((now // 60000) & 0xFFFF) << 8) | freq
        elif idle >= 0:
            db.access[key] = now - idle * 1000
    ks.signal_modified(db, key)
    ks.notify("g", "restore", key, db.id)
    return resp.OK
