"""Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL
HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

Values are :class:`durakv.types.hash.Hash`; small hashes stay packed (listpack) until
``hash-max-listpack-entries`` / ``hash-max-listpack-value`` are exceeded.  HINCRBYFLOAT is
logged as ``HSET key field <result>`` (its float arithmetic is not replayed).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_COLLECTION, scan
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types.hash import Hash, unpack
from ._util import LLONG_MAX, LLONG_MIN, parse_int
from .lists import strtold_exact
from .strings import format_long_double

_WRONGTYPE = errors.WRONGTYPE
HASH_NOT_INT = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
RANGE_MSG = "ERR value is out of range"
VALUE_NAN_INF = "ERR value is NaN or Infinity"
_LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"


def _read(c: Session, key: bytes, write: bool = False) -> Hash | None:
    # write: the lookup of a command about to change the key (Redis's lookupKeyWrite:
    # no keyspace hit/miss count, no keymiss event)
    h = c.db.lookup_write(key) if write else c.db.lookup(key)
    if h is not None and type(h) is not Hash:
        raise CommandError(_WRONGTYPE)
    return h


def _write(c: Session, key: bytes) -> Hash:
    db = c.db
    h = db.lookup_write(key)
    if h is None:
        h = Hash()
        db.add(key, h)
    elif type(h) is not Hash:
        raise CommandError(_WRONGTYPE)
    return h


def _limits(c: Session) -> tuple[int, int]:
    cfg = c.srv.config
    return cfg["hash-max-listpack-entries"], cfg["hash-max-listpack-value"]


@command("hset", -4, "write denyoom fast", "@write @hash @fast", keys=(1, 1, 1))
def hset(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) & 1:
        raise CommandError(errors.WRONG_ARITY.format("hset"))
    key = argv[1]
    db = c.db
    h = db.data.get(key)
    if type(h) is Hash and (not db.expires or key not in db.expires):
        # fast path: an existing hash, no TTL on the key to check
        if db.ks.track_access:
            db.ks.touch_access(db, key)
        d = h.d
        if d is not None:
            n = len(d)
            if len(argv) == 4:
                d[argv[2]] = argv[3]
            else:
                for i in range(2, len(argv), 2):
                    d[argv[i]] = argv[i + 1]
            added = len(d) - n
        else:
            me, mv = _limits(c)
            if len(argv) == 4:
                added = 1 if h.set(argv[2], argv[3], me, mv) else 0
            else:
                added = h.set_many(argv[2:], me, mv)
    else:
        h = _write(c, key)
        me, mv = _limits(c)
        if len(argv) == 4:
            added = 1 if h.set(argv[2], argv[3], me, mv) else 0
        else:
            added = h.set_many(argv[2:], me, mv)
    ks = db.ks
    ks.signal_modified(db, key, True, SIZE_COLLECTION)
    if ks.notifying:
        ks.notify("h", "hset", key, db.id)
    return resp.integer(added)


@command("hmset", -4, "write denyoom fast", "@write @hash @fast", keys=(1, 1, 1))
def hmset(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) & 1:
        raise CommandError(errors.WRONG_ARITY.format("hmset"))
    key = argv[1]
    db = c.db
    h = _write(c, key)
    me, mv = _limits(c)
    h.set_many(argv[2:], me, mv)
    db.ks.signal_modified(db, key, True, SIZE_COLLECTION)
    db.ks.notify("h", "hset", key, db.id)
    return resp.OK


@command("hsetnx", 4, "write denyoom fast", "@write @hash @fast", keys=(1, 1, 1))
def hsetnx(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    db = c.db
    h = _read(c, key, True)
    if h is not None and h.get(argv[2]) is not None:
        return resp.ZERO
    if h is None:
        h = Hash()
        db.add(key, h)
    me, mv = _limits(c)
    h.set_many([argv[2], argv[3]], me, mv)
    db.ks.signal_modified(db, key, True, SIZE_COLLECTION)
    db.ks.notify("h", "hset", key, db.id)
    return resp.ONE


@command("hget", 3, "readonly fast", "@read @hash @fast", keys=(1, 1, 1))
def hget(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    if h is None:
        return c.r.null
    v = h.get(argv[2])
    if v is None:
        return c.r.null
    return b"$%d\r\n%s\r\n" % (len(v), v)


@command("hmget", -3, "readonly fast", "@read @hash @fast", keys=(1, 1, 1))
def hmget(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    if h is None:
        return c.r.nullable_bulks([None] * (len(argv) - 2))
    if h.d is not None:
        get = h.d.get
        return c.r.nullable_bulks([get(f) for f in argv[2:]])
    d = dict(h.items())
    return c.r.nullable_bulks([d.get(f) for f in argv[2:]])


@command("hdel", -3, "write fast", "@write @hash @fast", keys=(1, 1, 1))
def hdel(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    h = _read(c, key, True)
    if h is None:
        return resp.ZERO
    n = h.delete_many(argv[2:])
    if n:
        db = c.db
        ks = db.ks
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        ks.notify("h", "hdel", key, db.id)
        if not len(h):
            db.delete_notify(key)
    return resp.integer(n)


@command("hlen", 2, "readonly fast", "@read @hash @fast", keys=(1, 1, 1))
def hlen(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    return resp.integer(0 if h is None else len(h))


@command("hstrlen", 3, "readonly fast", "@read @hash @fast", keys=(1, 1, 1))
def hstrlen(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    v = None if h is None else h.get(argv[2])
    return resp.integer(0 if v is None else len(v))


@command("hexists", 3, "readonly fast", "@read @hash @fast", keys=(1, 1, 1))
def hexists(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    return resp.ONE if h is not None and h.get(argv[2]) is not None else resp.ZERO


@command("hkeys", 2, "readonly", "@read @hash @slow", keys=(1, 1, 1))
def hkeys(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    if h is None:
        return resp.EMPTY_ARRAY
    return resp.bulks(h.keys())


@command("hvals", 2, "readonly", "@read @hash @slow", keys=(1, 1, 1))
def hvals(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    if h is None:
        return resp.EMPTY_ARRAY
    return resp.bulks(h.values())


@command("hgetall", 2, "readonly", "@read @hash @slow", keys=(1, 1, 1))
def hgetall(c: Session, argv: list[bytes]) -> bytes:
    h = _read(c, argv[1])
    r = c.r
    if h is None:
        return r.map_header(0)
    fl = unpack(h.lp) if h.lp is not None else h.flat()
    return r.map_header(len(fl) >> 1) + b"".join([b"$%d\r\n%s\r\n" % (len(x), x) for x in fl])


@command("hincrby", 4, "write denyoom fast", "@write @hash @fast", keys=(1, 1, 1))
def hincrby(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    field = argv[2]
    incr = parse_int(argv[3])
    h = _read(c, key, True)
    cur = 0
    if h is not None:
        v = h.get(field)
        if v is not None:
            cur = parse_int(v, HASH_NOT_INT)
    if (incr < 0 and cur < 0 and incr < LLONG_MIN - cur) or (incr > 0 and cur > 0 and incr > LLONG_MAX - cur):
        raise CommandError(errors.OVERFLOW)
    new = cur + incr
    db = c.db
    if h is None:
        h = Hash()
        db.add(key, h)
    me, mv = _limits(c)
    h.set_many([field, b"%d" % new], me, mv)
    db.ks.signal_modified(db, key)
    db.ks.notify("h", "hincrby", key, db.id)
    return resp.integer(new)


@command("hincrbyfloat", 4, "write denyoom fast", "@write @hash @fast", keys=(1, 1, 1))
def hincrbyfloat(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    field = argv[2]
    incr = strtold_exact(argv[3])
    if incr is None:
        raise CommandError(errors.NOT_FLOAT)
    if np.isinf(incr):
        raise CommandError(VALUE_NAN_INF)
    h = _read(c, key, True)
    cur = np.longdouble(0)
    if h is not None:
        v = h.get(field)
        if v is not None:
            p = strtold_exact(v)
            if p is None:
                raise CommandError(HASH_NOT_FLOAT)
            cur = p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = cur + incr
    if np.isnan(total) or np.isinf(total):
        raise CommandError(errors.INCR_NAN_INF)
    new = format_long_double(total)
    db = c.db
    if h is None:
        h = Hash()
        db.add(key, h)
    me, mv = _limits(c)
    h.set_many([field, new], me, mv)
    db.ks.signal_modified(db, key)
    db.ks.notify("h", "hincrbyfloat", key, db.id)
    c.propagate([b"HSET", key, field, new])
    return resp.bulk(new)


@command("hrandfield", -2, "readonly", "@read @hash @slow", keys=(1, 1, 1))
def hrandfield(c: Session, argv: list[bytes]) -> bytes:
    rng = c.srv.rng
    if len(argv) == 2:
        h = _read(c, argv[1])
        if h is None:
            return c.r.null
        keys = h.keys()
        return resp.bulk(keys[rng.randrange(len(keys))])
    count = parse_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(_LONG_RANGE)
    withvalues = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(errors.SYNTAX)
    if len(argv) == 4:
        withvalues = True
        if count < -LLONG_MAX // 2 or count > LLONG_MAX // 2:
            raise CommandError(RANGE_MSG)
    h = _read(c, argv[1])
    if h is None or count == 0:
        return resp.EMPTY_ARRAY
    pairs = h.items()
    return random_reply(c, pairs, count, withvalues, False)


def random_reply(c: Session, pairs: list, count: int, withvalues: bool, scores: bool) -> bytes:
    """HRANDFIELD / ZRANDMEMBER with a count: Redis's four cases and reply shapes.

    ``pairs`` are (field, value) (or (member, score) when ``scores``) in iteration order.
    """
    rng = c.srv.rng
    size = len(pairs)
    r = c.r
    if count < 0:
        n = -count
        picks = [pairs[rng.randrange(size)] for _ in range(n)]
    elif count >= size:
        picks = pairs
    else:
        picks = rng.sample(pairs, count)
    if not withvalues:
        return resp.bulks([p[0] for p in picks])
    if scores:
        enc = r.double
        if c.resp == 2:
            return b"*%d\r\n%s" % (2 * len(picks), b"".join([resp.bulk(m) + enc(s) for m, s in picks]))
        return b"*%d\r\n%s" % (len(picks), b"".join([b"*2\r\n" + resp.bulk(m) + enc(s) for m, s in picks]))
    if c.resp == 2:
        return b"*%d\r\n%s" % (2 * len(picks), b"".join([resp.bulk(f) + resp.bulk(v) for f, v in picks]))
    return b"*%d\r\n%s" % (len(picks), b"".join([b"*2\r\n" + resp.bulk(f) + resp.bulk(v) for f, v in picks]))


@command("hscan", -3, "readonly", "@read @hash @slow", keys=(1, 1, 1))
def hscan(c: Session, argv: list[bytes]) -> bytes:
    cursor = scan.parse_cursor(argv[2])
    h = _read(c, argv[1])
    if h is None:
        return scan.reply(0, [])
    opts = scan.parse_options(argv, 3)
    match = opts.match
    if h.d is None:
        out = []
        for f, v in h.items():
            if match(f):
                out.append(resp.bulk(f))
                out.append(resp.bulk(v))
        return scan.reply(0, out)
    d = h.d
    nxt, fields = scan.scan_step(h, d, cursor, opts.count)
    out = []
    for f in fields:
        v = d.get(f)
        if v is not None and match(f):
            out.append(resp.bulk(f))
            out.append(resp.bulk(v))
    return scan.reply(nxt, out)
