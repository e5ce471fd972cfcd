"""Sorted set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT
ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX
ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION
ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN and the blocking BZPOPMIN
BZPOPMAX BZMPOP.

Values are :class:`durakv.types.zset.ZSet`.  Scores are parsed with the C library's
``strtod`` (hex floats, ``inf``, ERANGE rules exactly as Redis) and replied with %.17g
(RESP3 doubles).  Blocking pops are logged as ZPOPMIN/ZPOPMAX with the count popped.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_COLLECTION, scan
from ..protocol import resp
from ..protocol.resp import format_double
from ..session import Session
from ..spec import command
from ..types.set import Set
from ..types.zset import KEY_PREFIX, LexBound, ZSet
from ._util import LLONG_MAX, parse_int
from .hashes import random_reply
from .lists import mpop_keys, parse_mpop, parse_timeout

_WRONGTYPE = errors.WRONGTYPE
MINMAX_NOT_FLOAT = "ERR min or max is not a float"
LEX_INVALID = "ERR min or max not valid string range item"
NAN_RESULT = "ERR resulting score is not a number (NaN)"
XX_NX = "ERR XX and NX options at the same time are not compatible"
GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
INCR_SINGLE = "ERR INCR option supports a single increment-element pair"
WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
LIMIT_RANK = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
WITHSCORES_LEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
RANGE_MSG = "ERR value is out of range"

# -- number parsing (C strtod) -------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_strtod = _libc.strtod
_strtod.restype = ctypes.c_double
_strtod.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
_ERANGE = 34
_HUGE = math.inf


def c_strtod(b: bytes) -> tuple[float, int, int]:
    """strtod on ``b`` (as a C string): (value, characters consumed, errno)."""
    buf = ctypes.create_string_buffer(b)
    end = ctypes.c_char_p()
    ctypes.set_errno(0)
    v = _strtod(buf, ctypes.byref(end))
    err = ctypes.get_errno()
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buf)  # type: ignore[operator]
    return v, consumed, err


def parse_score(b: bytes, msg: str = errors.NOT_FLOAT) -> float:
    """Redis's getDoubleFromObject: whole string, no leading space, no ERANGE overflow or
    underflow to zero, no NaN."""
    if b.isdigit() and len(b) < 16:
        return float(b)
    if not b or b[0] in b" \t\n\v\f\r":
        raise CommandError(msg)
    v, n, err = c_strtod(b)
    if n != len(b) or math.isnan(v) or (err == _ERANGE and (v in (_HUGE, -_HUGE) or v == 0.0)):
        raise CommandError(msg)
    return v


def _range_item(b: bytes) -> tuple[float, bool]:
    ex = b[:1] == b"("
    s = b[1:] if ex else b
    if s.isdigit() and len(s) < 16:
        return float(s), ex
    v, n, _ = c_strtod(s)
    if s[n : n + 1] not in (b"", b"\0") or math.isnan(v):
        raise CommandError(MINMAX_NOT_FLOAT)
    return v, ex


def parse_range(mn: bytes, mx: bytes) -> tuple[float, bool, float, bool]:
    """zslParseRange: '(' for exclusive; raw strtod up to the end of the C string."""
    a, aex = _range_item(mn)
    b, bex = _range_item(mx)
    return a, aex, b, bex


def _lex_item(b: bytes) -> LexBound:
    c = b[:1]
    if c == b"+":
        if b[1:2] not in (b"", b"\0"):
            raise CommandError(LEX_INVALID)
        return LexBound(1)
    if c == b"-":
        if b[1:2] not in (b"", b"\0"):
            raise CommandError(LEX_INVALID)
        return LexBound(-1)
    if c == b"(":
        return LexBound(2, b[1:])
    if c == b"[":
        return LexBound(0, b[1:])
    raise CommandError(LEX_INVALID)


def parse_lex(mn: bytes, mx: bytes) -> tuple[LexBound, LexBound]:
    return _lex_item(mn), _lex_item(mx)


# -- helpers -------------------------------------------------------------------------------
_LL_HALF = 4611686018427387904.0  # (double)(LLONG_MAX / 2)


def d2string(v: float) -> bytes:
    """Redis's d2string (ZSCAN scores): integers in +-2^62 without exponent, else %.17g."""
    if v == 0:
        return b"-0" if math.copysign(1.0, v) < 0 else b"0"
    if -_LL_HALF <= v <= _LL_HALF and v.is_integer():
        return b"%d" % int(v)
    return format_double(v)


def _read(c: Session, key: bytes, write: bool = False) -> ZSet | None:
    # write: the lookup of a command about to change the key (Redis's lookupKeyWrite:
    # no keyspace hit/miss count, no keymiss event)
    z = c.db.lookup_write(key) if write else c.db.lookup(key)
    if z is not None and type(z) is not ZSet:
        raise CommandError(_WRONGTYPE)
    return z


def _limits(c: Session) -> tuple[int, int]:
    cfg = c.srv.config
    return cfg["zset-max-listpack-entries"], cfg["zset-max-listpack-value"]


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def pairs_reply(c: Session, items: list[tuple[bytes, float]], withscores: bool) -> bytes:
    """ZRANGE-style reply: members, or member/score pairs (flat in RESP2, nested in RESP3)."""
    if not withscores:
        return b"*%d\r\n%s" % (len(items), b"".join([_bulk(m) for m, _ in items]))
    if c.resp == 2:
        return b"*%d\r\n%s" % (
            2 * len(items), b"".join([_bulk(m) + _bulk(format_double(s)) for m, s in items])
        )
    return b"*%d\r\n%s" % (
        len(items), b"".join([b"*2\r\n" + _bulk(m) + b",%s\r\n" % format_double(s) for m, s in items])
    )


def _delete_if_empty(c: Session, key: bytes, z: ZSet) -> None:
    if not len(z):
        db = c.db
        db.delete_notify(key)


# -- ZADD / ZINCRBY ------------------------------------------------------------------------
def _zadd(c: Session, argv: list[bytes], incr: bool) -> bytes:
    nx = xx = gt = lt = ch = False
    i = 2
    n = len(argv)
    if True:  # ZINCRBY goes through the same option parser (zaddGenericCommand)
        while i < n:
            o = argv[i].lower()
            if o == b"nx":
                nx = True
            elif o == b"xx":
                xx = True
            elif o == b"ch":
                ch = True
            elif o == b"incr":
                incr = True
            elif o == b"gt":
                gt = True
            elif o == b"lt":
                lt = True
            else:
                break
            i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise CommandError(errors.SYNTAX)
    elements //= 2
    if nx and xx:
        raise CommandError(XX_NX)
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError(GT_LT_NX)
    if incr and elements > 1:
        raise CommandError(INCR_SINGLE)
    scores = [parse_score(argv[j]) for j in range(i, n, 2)]
    key = argv[1]
    db = c.db
    z = db.lookup_write(key)
    if z is None:
        if xx:
            return c.r.null if incr else resp.ZERO
        me, mv = _limits(c)
        z = ZSet(not (me == 0 or mv < len(argv[i + 1])))
        db.add(key, z)
    elif type(z) is not ZSet:
        raise CommandError(_WRONGTYPE)
    else:
        me, mv = _limits(c)
    added = updated = processed = 0
    score = 0.0
    d = z.d
    batch = None
    # Redis adds the pairs one by one and converts a listpack only when a new member does not
    # fit (one past the limits, lowered since, stays one); until then the listpack stores -0
    # as the integer 0, so those scores must not keep their sign
    compact = True
    if d is None and elements > 1:
        # several pairs on a compact zset: work on a dict, pack once at the end
        batch = d = dict(z.items())
    for k in range(elements):
        m = argv[i + 1 + 2 * k]
        score = scores[k]
        cur = d.get(m) if d is not None else z.score(m)
        if batch is not None:
            if cur is not None:
                if nx or (lt and score >= cur) or (gt and score <= cur):
                    continue
                processed += 1
                if score != cur:
                    batch[m] = score + 0.0 if compact else score
                    updated += 1
            elif not xx:
                if compact and (len(batch) + 1 > me or len(m) > mv):
                    compact = False
                batch[m] = score + 0.0 if compact else score
                added += 1
                processed += 1
            continue
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if math.isnan(score):
                    if not len(z):
                        db.delete(key)
                    raise CommandError(NAN_RESULT)
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                z.set(m, score, me, mv)
                updated += 1
        else:
            if xx:
                continue
            z.set(m, score, me, mv)
            d = z.d
            added += 1
            processed += 1
    if batch is not None and (added or updated):
        z.replace_all(batch, compact)
    if added or updated:
        ks = db.ks
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        ks.notify("z", "zincr" if incr else "zadd", key, db.id)
    if incr:
        return c.r.double(score) if processed else c.r.null
    return resp.integer(added + updated if ch else added)


@command("zadd", -4, "write denyoom fast", "@write @sortedset @fast", keys=(1, 1, 1))
def zadd(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) == 4:
        # fast path: one pair, integer score, existing zset, no TTLs to check
        sb = argv[2]
        db = c.db
        z = db.data.get(argv[1])
        if type(z) is ZSet and sb.isdigit() and len(sb) < 16 and (not db.expires or argv[1] not in db.expires):
            key = argv[1]
            ks = db.ks
            if ks.track_access:
                ks.touch_access(db, key)
            if z.d is not None:
                r = z.set_big(argv[3], float(sb))
                if r < 0:
                    return resp.ZERO
                ret = resp.ONE if r else resp.ZERO
            else:
                m = argv[3]
                score = float(sb)
                if z.score(m) == score:
                    return resp.ZERO
                cfg = c.srv.config
                ret = resp.ONE if z.set(m, score, cfg["zset-max-listpack-entries"],
                                        cfg["zset-max-listpack-value"]) else resp.ZERO
            ks.signal_modified(db, key, True, SIZE_COLLECTION)
            if ks.notifying:
                ks.notify("z", "zadd", key, db.id)
            return ret
    return _zadd(c, argv, False)


@command("zincrby", 4, "write denyoom fast", "@write @sortedset @fast", keys=(1, 1, 1))
def zincrby(c: Session, argv: list[bytes]) -> bytes:
    return _zadd(c, argv, True)


@command("zrem", -3, "write fast", "@write @sortedset @fast", keys=(1, 1, 1))
def zrem(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    z = _read(c, key, True)
    if z is None:
        return resp.ZERO
    n = z.remove_many(argv[2:])
    if n:
        db = c.db
        db.ks.signal_modified(db, key)
        db.ks.notify("z", "zrem", key, db.id)
        _delete_if_empty(c, key, z)
    return resp.integer(n)


# -- point reads ---------------------------------------------------------------------------
@command("zcard", 2, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zcard(c: Session, argv: list[bytes]) -> bytes:
    z = _read(c, argv[1])
    return resp.integer(0 if z is None else len(z))


@command("zscore", 3, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zscore(c: Session, argv: list[bytes]) -> bytes:
    z = _read(c, argv[1])
    s = None if z is None else z.score(argv[2])
    return c.r.null if s is None else c.r.double(s)


@command("zmscore", -3, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zmscore(c: Session, argv: list[bytes]) -> bytes:
    z = _read(c, argv[1])
    r = c.r
    out = []
    for m in argv[2:]:
        s = None if z is None else z.score(m)
        out.append(r.null if s is None else r.double(s))
    return resp.array(out)


def _rank(c: Session, argv: list[bytes], rev: bool) -> bytes:
    z = _read(c, argv[1])
    if z is None:
        return c.r.null
    r = z.rank(argv[2])
    if r is None:
        return c.r.null
    return resp.integer(len(z) - 1 - r if rev else r)


@command("zrank", 3, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zrank(c: Session, argv: list[bytes]) -> bytes:
    return _rank(c, argv, False)


@command("zrevrank", 3, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zrevrank(c: Session, argv: list[bytes]) -> bytes:
    return _rank(c, argv, True)


@command("zcount", 4, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zcount(c: Session, argv: list[bytes]) -> bytes:
    mn, mnex, mx, mxex = parse_range(argv[2], argv[3])
    z = _read(c, argv[1])
    if z is None:
        return resp.ZERO
    i, j = z.score_range(mn, mnex, mx, mxex)
    return resp.integer(j - i)


@command("zlexcount", 4, "readonly fast", "@read @sortedset @fast", keys=(1, 1, 1))
def zlexcount(c: Session, argv: list[bytes]) -> bytes:
    mn, mx = parse_lex(argv[2], argv[3])
    z = _read(c, argv[1])
    if z is None:
        return resp.ZERO
    i, j = z.lex_range(mn, mx)
    return resp.integer(j - i)


# -- ZRANGE family -------------------------------------------------------------------------
RANK, SCORE, LEX = 0, 1, 2


def _select(z: ZSet, kind: int, reverse: bool, a: bytes, b: bytes, parsed: object,
            offset: int, limit: int) -> list[tuple[bytes, float]]:
    """The (member, score) items of a ZRANGE-style query, in reply order."""
    n = len(z)
    if kind == RANK:
        start, end = parsed  # type: ignore[misc]
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return []
        if end >= n:
            end = n - 1
        if reverse:
            items = z.slice(n - 1 - end, n - start)
            items.reverse()
            return items
        return z.slice(start, end + 1)
    if offset > 0 and offset >= n and kind == SCORE:
        return []
    if offset < 0:
        return []
    if kind == SCORE:
        mn, mnex, mx, mxex = parsed  # type: ignore[misc]
        i, j = z.score_range(mn, mnex, mx, mxex)
    else:
        lmn, lmx = parsed  # type: ignore[misc]
        i, j = z.lex_range(lmn, lmx, reverse)
    if reverse:
        hi = j - offset
        lo = i if limit < 0 else max(i, hi - limit)
        if hi <= lo:
            return []
        items = z.slice(lo, hi)
        items.reverse()
        return items
    lo = i + offset
    hi = j if limit < 0 else min(j, lo + limit)
    if hi <= lo:
        return []
    return z.slice(lo, hi)


def _zrange_generic(c: Session, argv: list[bytes], first: int, store: bytes | None,
                    kind: int | None, reverse: bool | None) -> bytes:
    key = argv[first]
    minidx, maxidx = first + 1, first + 2
    withscores = False
    offset, limit = 0, -1
    j = first + 3
    n = len(argv)
    while j < n:
        left = n - j - 1
        o = argv[j].lower()
        if store is None and o == b"withscores":
            withscores = True
        elif o == b"limit" and left >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif reverse is None and o == b"rev":
            reverse = True
        elif kind is None and o == b"bylex":
            kind = LEX
        elif kind is None and o == b"byscore":
            kind = SCORE
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if reverse is None:
        reverse = False
    if kind is None:
        kind = RANK
    if limit != -1 and kind == RANK:
        raise CommandError(LIMIT_RANK)
    if withscores and kind == LEX:
        raise CommandError(WITHSCORES_LEX)
    if reverse and kind != RANK:
        minidx, maxidx = maxidx, minidx
    a, b = argv[minidx], argv[maxidx]
    parsed: object
    if kind == RANK:
        parsed = (parse_int(a), parse_int(b))
    elif kind == SCORE:
        parsed = parse_range(a, b)
    else:
        parsed = parse_lex(a, b)
    z = _read(c, key)
    if z is None:
        items: list[tuple[bytes, float]] = []
    else:
        items = _select(z, kind, reverse, a, b, parsed, offset, limit)
    if store is not None:
        return _store(c, store, _as_listpack_adds(c, items, kind == RANK), "zrangestore")
    return pairs_reply(c, items, withscores)


def _as_listpack_adds(c: Session, items: list[tuple[bytes, float]], counted: bool) -> list[tuple[bytes, float]]:
    """ZRANGESTORE's result with the scores Redis ends up storing: it adds the pairs one by
    one to a new key that starts as a listpack (for a rank range only when the count fits)
    and converts when a pair no longer fits; the listpack keeps -0 as the integer 0, so a
    -0 added before the conversion comes back as 0."""
    me, mv = _limits(c)
    if counted and len(items) > me:
        return items
    out = items
    for k, (m, s) in enumerate(items):
        if k >= me or len(m) > mv:
            break
        if s == 0 and math.copysign(1.0, s) < 0:
            if out is items:
                out = list(items)
            out[k] = (m, 0.0)
    return out


def _store(c: Session, dst: bytes, items: list[tuple[bytes, float]], event: str) -> bytes:
    db = c.db
    ks = db.ks
    if not items:
        db.remove(dst)
        return resp.ZERO
    me, mv = _limits(c)
    z = ZSet.from_items(items, me, mv)
    db.set(dst, z)
    ks.signal_modified(db, dst)
    ks.notify("z", event, dst, db.id)
    return resp.integer(len(z))


@command("zrange", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrange(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, None, None)


@command("zrangestore", -5, "write denyoom", "@write @sortedset @slow", keys=(1, 2, 1))
def zrangestore(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 2, argv[1], None, None)


@command("zrevrange", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrevrange(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, RANK, True)


@command("zrangebyscore", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrangebyscore(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, SCORE, False)


@command("zrevrangebyscore", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrevrangebyscore(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, SCORE, True)


@command("zrangebylex", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrangebylex(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, LEX, False)


@command("zrevrangebylex", -4, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrevrangebylex(c: Session, argv: list[bytes]) -> bytes:
    return _zrange_generic(c, argv, 1, None, LEX, True)


# -- ZREMRANGEBY* --------------------------------------------------------------------------
def _zremrange(c: Session, argv: list[bytes], kind: int) -> bytes:
    key = argv[1]
    if kind == RANK:
        start = parse_int(argv[2])
        end = parse_int(argv[3])
    elif kind == SCORE:
        rng = parse_range(argv[2], argv[3])
    else:
        lex = parse_lex(argv[2], argv[3])
    z = _read(c, key, True)
    if z is None:
        return resp.ZERO
    if kind == RANK:
        n = len(z)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return resp.ZERO
        if end >= n:
            end = n - 1
        i, j = start, end + 1
        event = "zremrangebyrank"
    elif kind == SCORE:
        i, j = z.score_range(*rng)
        event = "zremrangebyscore"
    else:
        i, j = z.lex_range(*lex)
        event = "zremrangebylex"
    removed = z.remove_range(i, j)
    if removed:
        db = c.db
        db.ks.signal_modified(db, key)
        db.ks.notify("z", event, key, db.id)
        _delete_if_empty(c, key, z)
    return resp.integer(len(removed))


@command("zremrangebyrank", 4, "write", "@write @sortedset @slow", keys=(1, 1, 1))
def zremrangebyrank(c: Session, argv: list[bytes]) -> bytes:
    return _zremrange(c, argv, RANK)


@command("zremrangebyscore", 4, "write", "@write @sortedset @slow", keys=(1, 1, 1))
def zremrangebyscore(c: Session, argv: list[bytes]) -> bytes:
    return _zremrange(c, argv, SCORE)


@command("zremrangebylex", 4, "write", "@write @sortedset @slow", keys=(1, 1, 1))
def zremrangebylex(c: Session, argv: list[bytes]) -> bytes:
    return _zremrange(c, argv, LEX)


# -- pops ----------------------------------------------------------------------------------
def zpop(c: Session, key: bytes, z: ZSet, count: int, maximum: bool) -> list[tuple[bytes, float]]:
    """Pop up to ``count`` lowest (highest) elements; notify; delete the key if emptied."""
    items = z.pop(count, maximum)
    db = c.db
    db.ks.signal_modified(db, key)
    db.ks.notify("z", "zpopmax" if maximum else "zpopmin", key, db.id)
    _delete_if_empty(c, key, z)
    return items


def _zpop_cmd(c: Session, argv: list[bytes], maximum: bool) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = -1
    if len(argv) == 3:
        count = parse_int(argv[2], MUST_BE_POSITIVE)
        if count < 0:
            raise CommandError(MUST_BE_POSITIVE)
    key = argv[1]
    z = _read(c, key, True)
    if z is None or count == 0:
        return resp.EMPTY_ARRAY
    items = zpop(c, key, z, 1 if count < 0 else count, maximum)
    if count < 0:
        m, s = items[0]
        return b"*2\r\n" + _bulk(m) + c.r.double(s)
    return pairs_reply(c, items, True)


@command("zpopmin", -2, "write fast", "@write @sortedset @fast", keys=(1, 1, 1))
def zpopmin(c: Session, argv: list[bytes]) -> bytes:
    return _zpop_cmd(c, argv, False)


@command("zpopmax", -2, "write fast", "@write @sortedset @fast", keys=(1, 1, 1))
def zpopmax(c: Session, argv: list[bytes]) -> bytes:
    return _zpop_cmd(c, argv, True)


def _mpop_reply(c: Session, key: bytes, items: list[tuple[bytes, float]]) -> bytes:
    r = c.r
    return b"*2\r\n%s*%d\r\n%s" % (
        _bulk(key), len(items), b"".join([b"*2\r\n" + _bulk(m) + r.double(s) for m, s in items])
    )


@command("zmpop", -4, "write", "@write @sortedset @slow", keys_fn=lambda argv: mpop_keys(argv, 1))
def zmpop(c: Session, argv: list[bytes]) -> bytes:
    keys, minimum, count = parse_mpop(argv, 1, (b"min", b"max"))
    if count < 0:
        count = 1
    for key in keys:
        z = _read(c, key, True)
        if z is not None:
            items = zpop(c, key, z, count, not minimum)
            c.propagate([b"ZPOPMIN" if minimum else b"ZPOPMAX", key, b"%d" % len(items)])
            return _mpop_reply(c, key, items)
    return c.r.null_array


def _bzpop_serve(maximum: bool) -> Callable[[Session, bytes], bytes | None]:
    def serve(c: Session, key: bytes) -> bytes | None:
        z = c.db.lookup_write(key)
        if type(z) is not ZSet or not len(z):
            return None
        m, s = zpop(c, key, z, 1, maximum)[0]
        c.propagate([b"ZPOPMAX" if maximum else b"ZPOPMIN", key])
        return b"*3\r\n" + _bulk(key) + _bulk(m) + c.r.double(s)

    return serve


_SERVE_BZPOPMIN = _bzpop_serve(False)
_SERVE_BZPOPMAX = _bzpop_serve(True)


def _bzpop(c: Session, argv: list[bytes], maximum: bool) -> bytes:
    timeout = parse_timeout(c, argv[-1])
    keys = argv[1:-1]
    for key in keys:
        z = _read(c, key, True)
        if z is not None:
            m, s = zpop(c, key, z, 1, maximum)[0]
            c.propagate([b"ZPOPMAX" if maximum else b"ZPOPMIN", key])
            return b"*3\r\n" + _bulk(key) + _bulk(m) + c.r.double(s)
    if c.in_exec or c.in_script:
        return c.r.null_array
    return c.srv.blocking.block(c, keys, _SERVE_BZPOPMAX if maximum else _SERVE_BZPOPMIN, timeout,
                                c.r.null_array)


@command("bzpopmin", -3, "write noscript blocking fast", "@write @sortedset @fast @blocking", keys=(1, -2, 1))
def bzpopmin(c: Session, argv: list[bytes]) -> bytes:
    return _bzpop(c, argv, False)


@command("bzpopmax", -3, "write noscript blocking fast", "@write @sortedset @fast @blocking", keys=(1, -2, 1))
def bzpopmax(c: Session, argv: list[bytes]) -> bytes:
    return _bzpop(c, argv, True)


@command("bzmpop", -5, "write blocking", "@write @sortedset @slow @blocking", keys_fn=lambda argv: mpop_keys(argv, 2))
def bzmpop(c: Session, argv: list[bytes]) -> bytes:
    keys, minimum, count = parse_mpop(argv, 2, (b"min", b"max"))
    timeout = parse_timeout(c, argv[1])
    if count < 0:
        count = 1
    for key in keys:
        z = _read(c, key, True)
        if z is not None:
            items = zpop(c, key, z, count, not minimum)
            c.propagate([b"ZPOPMIN" if minimum else b"ZPOPMAX", key, b"%d" % len(items)])
            return _mpop_reply(c, key, items)
    if c.in_exec or c.in_script:
        return c.r.null_array

    def serve(cl: Session, key: bytes) -> bytes | None:
        z = cl.db.lookup_write(key)
        if type(z) is not ZSet or not len(z):
            return None
        items = zpop(cl, key, z, count, not minimum)
        cl.propagate([b"ZPOPMIN" if minimum else b"ZPOPMAX", key, b"%d" % len(items)])
        return _mpop_reply(cl, key, items)

    return c.srv.blocking.block(c, keys, serve, timeout, c.r.null_array)


# -- ZRANDMEMBER ---------------------------------------------------------------------------
@command("zrandmember", -2, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zrandmember(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) == 2:
        z = _read(c, argv[1])
        if z is None:
            return c.r.null
        n = len(z)
        m = z.slice(c.srv.rng.randrange(n), n)[0][0] if z.lp is not None else \
            z.sl[c.srv.rng.randrange(n)][KEY_PREFIX:]  # type: ignore[index]
        return _bulk(m)
    count = parse_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(LONG_RANGE)
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise CommandError(errors.SYNTAX)
    withscores = len(argv) == 4
    if withscores and (count < -LLONG_MAX // 2 or count > LLONG_MAX // 2):
        raise CommandError(RANGE_MSG)
    z = _read(c, argv[1])
    if z is None or count == 0:
        return resp.EMPTY_ARRAY
    items = z.items()
    if count >= len(items):
        items.reverse()  # Redis replies the whole set through a reversed rank range
    return random_reply(c, items, count, withscores, True)


# -- ZUNION / ZINTER / ZDIFF -----------------------------------------------------------------
UNION, INTER, DIFF = 0, 1, 2
_OPNAMES = {UNION: "union", INTER: "inter", DIFF: "diff"}


def _numkeys_positions(first: int) -> Callable[[list[bytes]], list[int]]:
    def fn(argv: list[bytes]) -> list[int]:
        try:
            n = int(argv[first])
        except (ValueError, IndexError):
            return []
        if n <= 0 or first + n >= len(argv):
            return []
        return list(range(first + 1, first + 1 + n))

    return fn


def _store_keys(argv: list[bytes]) -> list[int]:
    return [1, *_numkeys_positions(2)(argv)]


def _source_items(v: object) -> dict[bytes, float]:
    if type(v) is ZSet:
        return dict(v.items())  # type: ignore[attr-defined]
    return dict.fromkeys(v, 1.0)  # type: ignore[call-overload]


def _member_set(v: object) -> object:
    """Something supporting ``in`` for the members of a zset or set source."""
    if type(v) is ZSet:
        return v.d if v.d is not None else set(v.members())  # type: ignore[attr-defined]
    return v


def _aggregate(agg: int, a: float, b: float) -> float:
    """Fold ``b`` into the running score ``a`` as Redis's zunionInterAggregate does: MIN/MAX
    keep ``a`` on a tie (0 vs -0) and when ``b`` is NaN; a NaN sum becomes 0."""
    if agg == 0:
        r = a + b
        return 0.0 if math.isnan(r) else r
    if agg == 1:
        return b if b < a else a
    return b if b > a else a


def _setop(c: Session, argv: list[bytes], numidx: int, op: int, dst: bytes | None, card: bool) -> bytes:
    name = argv[0].decode("latin-1").lower()
    setnum = parse_int(argv[numidx])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if setnum > len(argv) - (numidx + 1):
        raise CommandError(errors.SYNTAX)
    srcs: list[object | None] = []
    j = numidx + 1
    for _ in range(setnum):
        v = c.db.lookup(argv[j])
        if v is not None and type(v) is not ZSet and type(v) is not Set:
            raise CommandError(_WRONGTYPE)
        srcs.append(v)
        j += 1
    weights = [1.0] * setnum
    agg = 0
    withscores = False
    limit = 0
    n = len(argv)
    while j < n:
        remaining = n - j
        o = argv[j].lower()
        # ZINTERCARD takes neither WEIGHTS nor AGGREGATE (Redis: syntax error)
        if op != DIFF and not card and remaining >= setnum + 1 and o == b"weights":
            j += 1
            for i in range(setnum):
                weights[i] = parse_score(argv[j], WEIGHT_NOT_FLOAT)
                j += 1
        elif op != DIFF and not card and remaining >= 2 and o == b"aggregate":
            a = argv[j + 1].lower()
            if a == b"sum":
                agg = 0
            elif a == b"min":
                agg = 1
            elif a == b"max":
                agg = 2
            else:
                raise CommandError(errors.SYNTAX)
            j += 2
        elif remaining >= 1 and dst is None and not card and o == b"withscores":
            withscores = True
            j += 1
        elif card and remaining >= 2 and o == b"limit":
            try:
                limit = parse_int(argv[j + 1])
            except CommandError:
                raise CommandError(LIMIT_NEGATIVE) from None
            if limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    result: dict[bytes, float] = {}
    if op == INTER:
        if all(s is not None and len(s) for s in srcs):  # type: ignore[arg-type]
            order = sorted(range(setnum), key=lambda i: len(srcs[i]))  # type: ignore[arg-type]
            data = [_source_items(srcs[i]) for i in order]
            first = data[0]
            w0 = weights[order[0]]
            for m, s in first.items():
                score = w0 * s
                if math.isnan(score):
                    score = 0.0
                for k in range(1, setnum):
                    other = data[k].get(m)
                    if other is None:
                        break
                    # unlike the first source's, a NaN product here is left to the
                    # aggregate (SUM makes it 0, MIN/MAX ignore it), as in Redis
                    score = _aggregate(agg, score, weights[order[k]] * other)
                else:
                    result[m] = score
                    if card and limit and len(result) >= limit:
                        break
    elif op == UNION:
        # Redis walks the sources by ascending cardinality (float sums depend on the order)
        for i in sorted(range(setnum), key=lambda i: 0 if srcs[i] is None else len(srcs[i])):  # type: ignore[arg-type]
            s = srcs[i]
            if s is None:
                continue
            w = weights[i]
            for m, sc in _source_items(s).items():
                v = w * sc
                if math.isnan(v):
                    v = 0.0
                cur = result.get(m)
                result[m] = v if cur is None else _aggregate(agg, cur, v)
    else:
        first = srcs[0]
        if first is not None:
            result = _source_items(first)
            for s in srcs[1:]:
                if s is not None and result:
                    other = _member_set(s)
                    for m in [m for m in result if m in other]:
                        del result[m]
    if card:
        return resp.integer(len(result))
    items = sorted(result.items(), key=lambda kv: (kv[1], kv[0]))
    if dst is not None:
        return _store(c, dst, items, "z" + _OPNAMES[op] + "store")
    return pairs_reply(c, items, withscores)


@command("zunion", -3, "readonly", "@read @sortedset @slow", keys_fn=_numkeys_positions(1))
def zunion(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 1, UNION, None, False)


@command("zinter", -3, "readonly", "@read @sortedset @slow", keys_fn=_numkeys_positions(1))
def zinter(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 1, INTER, None, False)


@command("zdiff", -3, "readonly", "@read @sortedset @slow", keys_fn=_numkeys_positions(1))
def zdiff(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 1, DIFF, None, False)


@command("zintercard", -3, "readonly", "@read @sortedset @slow", keys_fn=_numkeys_positions(1))
def zintercard(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 1, INTER, None, True)


@command("zunionstore", -4, "write denyoom", "@write @sortedset @slow", keys=(1, 1, 1), keys_fn=_store_keys)
def zunionstore(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 2, UNION, argv[1], False)


@command("zinterstore", -4, "write denyoom", "@write @sortedset @slow", keys=(1, 1, 1), keys_fn=_store_keys)
def zinterstore(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 2, INTER, argv[1], False)


@command("zdiffstore", -4, "write denyoom", "@write @sortedset @slow", keys=(1, 1, 1), keys_fn=_store_keys)
def zdiffstore(c: Session, argv: list[bytes]) -> bytes:
    return _setop(c, argv, 2, DIFF, argv[1], False)


@command("zscan", -3, "readonly", "@read @sortedset @slow", keys=(1, 1, 1))
def zscan(c: Session, argv: list[bytes]) -> bytes:
    cursor = scan.parse_cursor(argv[2])
    z = _read(c, argv[1])
    if z is None:
        return scan.reply(0, [])
    opts = scan.parse_options(argv, 3)
    match = opts.match
    if z.d is None:
        out = []
        for m, s in z.items():
            if match(m):
                out.append(_bulk(m))
                out.append(_bulk(d2string(s)))
        return scan.reply(0, out)
    d = z.d
    nxt, ms = scan.scan_step(z, d, cursor, opts.count)
    out = []
    for m in ms:
        s = d.get(m)
        if s is not None and match(m):
            out.append(_bulk(m))
            out.append(_bulk(d2string(s)))
    return scan.reply(nxt, out)
