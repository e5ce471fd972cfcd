"""String commands: SET/GET and their variants, counters, ranges, INCRBYFLOAT and LCS.

Strings are stored as plain ``bytes`` values in ``db.data``.  GET, SET, INCR, MGET and
MSET have lean fast paths; everything else follows Redis 7.0's ``t_string.c`` step by
step (order of checks, error texts, keyspace events).

Effects for the log: relative TTLs become absolute (``SET k v PXAT <ms>``,
``PEXPIREAT``), conditional forms whose outcome is already known are logged in their
unconditional form, INCRBYFLOAT becomes ``SET k <result> KEEPTTL``, GETDEL becomes
``DEL`` and an already-past GETEX time becomes ``DEL``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_SMALL_STRING, SIZE_UNKNOWN
from ..keyspace.memory import BIG_STRING
from ..protocol import resp
from ..session import Session
from ..spec import command
from ._util import LLONG_MAX, LLONG_MIN, parse_int
from .keys import EMBSTR_SIZE_LIMIT

_OK = resp.OK
_WRONGTYPE = errors.WRONGTYPE

# -- SET / GETEX option parsing (Redis's parseExtendedStringArgumentsOrReply) -------------
_NX = 1
_XX = 2
_GET = 4
_KEEPTTL = 8
_PERSIST = 16
_EX = 32
_PX = 64
_EXAT = 128
_PXAT = 256
_ANY_EXPIRE = _EX | _PX | _EXAT | _PXAT


def _parse_ext(argv: list[bytes], j: int, is_set: bool) -> tuple[int, bytes | None]:
    """Parse SET (is_set) or GETEX options from argv[j:]; returns (flags, expire arg)."""
    flags = 0
    expire: bytes | None = None
    n = len(argv)
    while j < n:
        opt = argv[j].upper()
        more = j + 1 < n
        if opt == b"NX" and is_set and not flags & _XX:
            flags |= _NX
        elif opt == b"XX" and is_set and not flags & _NX:
            flags |= _XX
        elif opt == b"GET" and is_set:
            flags |= _GET
        elif opt == b"KEEPTTL" and is_set and not flags & (_PERSIST | _ANY_EXPIRE):
            flags |= _KEEPTTL
        elif opt == b"PERSIST" and not is_set and not flags & (_ANY_EXPIRE | _KEEPTTL):
            flags |= _PERSIST
        elif opt == b"EX" and more and not flags & (_KEEPTTL | _PERSIST | _EXAT | _PX | _PXAT):
            flags |= _EX
            j += 1
            expire = argv[j]
        elif opt == b"PX" and more and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PXAT):
            flags |= _PX
            j += 1
            expire = argv[j]
        elif opt == b"EXAT" and more and not flags & (_KEEPTTL | _PERSIST | _EX | _PX | _PXAT):
            flags |= _EXAT
            j += 1
            expire = argv[j]
        elif opt == b"PXAT" and more and not flags & (_KEEPTTL | _PERSIST | _EX | _EXAT | _PX):
            flags |= _PXAT
            j += 1
            expire = argv[j]
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    return flags, expire


def _expire_ms(c: Session, arg: bytes, flags: int, name: str) -> int:
    """Absolute expire time in ms (Redis's getExpireMillisecondsOrReply)."""
    ms = parse_int(arg)
    seconds = flags & (_EX | _EXAT)
    if ms <= 0 or (seconds and ms > LLONG_MAX // 1000):
        raise CommandError(errors.INVALID_EXPIRE.format(name))
    if seconds:
        ms *= 1000
    if flags & (_EX | _PX):
        ms += c.srv.clock.now_ms()
    if ms > LLONG_MAX:  # the C addition overflows to a negative number
        raise CommandError(errors.INVALID_EXPIRE.format(name))
    return ms


def _get_string(c: Session, key: bytes, write: bool = False) -> bytes | None:
    """The string at key (None if missing); WRONGTYPE for other types."""
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise CommandError(_WRONGTYPE)
    return v


# -- GET / SET ----------------------------------------------------------------------------
@command("get", 2, "readonly fast", "@read @string @fast", keys=(1, 1, 1))
def get(c: Session, argv: list[bytes]) -> bytes:
    v = c.db.lookup(argv[1])
    if v is None:
        return c.r.null
    if type(v) is not bytes:
        raise CommandError(_WRONGTYPE)
    return b"$%d\r\n%s\r\n" % (len(v), v)


@command("set", -3, "write denyoom", "@write @string @slow", keys=(1, 1, 1))
def set_(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) == 3:  # fast path: SET key value
        db = c.db
        key = argv[1]
        data = db.data
        exp = db.expires
        if exp and key in exp:
            db.lookup_write(key)  # expire it first if its time passed (events, DEL effect)
            exp.pop(key, None)
        ks = db.ks
        if db.str_enc:
            db.str_enc.pop(key, None)
        val = argv[2]
        old = data.get(key)
        data[key] = val
        if old is None and ks.notifying:
            ks.notify("n", "new", key, db.id)
        if ks.track_access:
            ks.touch_access(db, key)
        small = type(old) is bytes and len(old) < BIG_STRING and len(val) < BIG_STRING
        ks.signal_modified(db, key, True, SIZE_SMALL_STRING if small else SIZE_UNKNOWN)
        if ks.notifying:
            ks.notify("$", "set", key, db.id)
        return _OK
    flags, expire = _parse_ext(argv, 3, True)
    return _set_generic(c, argv[1], argv[2], flags, expire, "set", None, None)


def _set_generic(
    c: Session, key: bytes, val: bytes, flags: int, expire: bytes | None, name: str,
    ok_reply: bytes | None, abort_reply: bytes | None,
) -> bytes:
    """Redis's setGenericCommand."""
    when = 0
    if expire is not None:
        when = _expire_ms(c, expire, flags, name)
    db = c.db
    reply: bytes | None = None
    if flags & _GET:
        old = db.lookup(key)
        if old is None:
            reply = c.r.null
        elif type(old) is not bytes:
            raise CommandError(_WRONGTYPE)
        else:
            reply = b"$%d\r\n%s\r\n" % (len(old), old)
        found = old is not None
    else:
        found = db.lookup_write(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        if reply is not None:
            return reply
        return abort_reply if abort_reply is not None else c.r.null
    keep = bool(flags & _KEEPTTL)
    db.set(key, val, keep_ttl=keep)
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("$", "set", key, db.id)
    if expire is not None:
        db.set_expire(key, when)
        ks.notify("g", "expire", key, db.id)
        c.propagate([b"SET", key, val, b"PXAT", b"%d" % when])
    elif flags & (_GET | _NX | _XX):
        c.propagate([b"SET", key, val, b"KEEPTTL"] if keep else [b"SET", key, val])
    if reply is not None:
        return reply
    return ok_reply if ok_reply is not None else _OK


@command("setnx", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def setnx(c: Session, argv: list[bytes]) -> bytes:
    return _set_generic(c, argv[1], argv[2], _NX, None, "setnx", resp.ONE, resp.ZERO)


@command("setex", 4, "write denyoom", "@write @string @slow", keys=(1, 1, 1))
def setex(c: Session, argv: list[bytes]) -> bytes:
    return _set_generic(c, argv[1], argv[3], _EX, argv[2], "setex", None, None)


@command("psetex", 4, "write denyoom", "@write @string @slow", keys=(1, 1, 1))
def psetex(c: Session, argv: list[bytes]) -> bytes:
    return _set_generic(c, argv[1], argv[3], _PX, argv[2], "psetex", None, None)


@command("getset", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def getset(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    old = _get_string(c, key)
    reply = c.r.null if old is None else b"$%d\r\n%s\r\n" % (len(old), old)
    db.set(key, argv[2])
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("$", "set", key, db.id)
    c.propagate([b"SET", key, argv[2]])
    return reply


@command("getex", -2, "write fast", "@write @string @fast", keys=(1, 1, 1))
def getex(c: Session, argv: list[bytes]) -> bytes:
    flags, expire = _parse_ext(argv, 2, False)
    db = c.db
    key = argv[1]
    v = db.lookup(key)
    if v is None:
        return c.r.null
    if type(v) is not bytes:
        raise CommandError(_WRONGTYPE)
    when = 0
    if expire is not None:
        when = _expire_ms(c, expire, flags, "getex")
    reply = b"$%d\r\n%s\r\n" % (len(v), v)
    ks = db.ks
    if flags & (_EXAT | _PXAT) and when <= c.srv.clock.now_ms() and not c.replaying:
        db.delete(key)
        ks.signal_modified(db, key)
        ks.notify("g", "del", key, db.id)
        c.propagate([b"DEL", key])
    elif expire is not None:
        db.set_expire(key, when)
        ks.signal_modified(db, key)
        ks.notify("g", "expire", key, db.id)
        c.propagate([b"PEXPIREAT", key, b"%d" % when])
    elif flags & _PERSIST:
        if db.persist(key):
            ks.signal_modified(db, key)
            ks.notify("g", "persist", key, db.id)
            c.propagate([b"PERSIST", key])
    return reply


@command("getdel", 2, "write fast", "@write @string @fast", keys=(1, 1, 1))
def getdel(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    v = _get_string(c, key)
    if v is None:
        return c.r.null
    db.delete(key)
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("g", "del", key, db.id)
    c.propagate([b"DEL", key])
    return b"$%d\r\n%s\r\n" % (len(v), v)


# -- multi-key ----------------------------------------------------------------------------
@command("mget", -2, "readonly fast", "@read @string @fast", keys=(1, -1, 1))
def mget(c: Session, argv: list[bytes]) -> bytes:
    lookup = c.db.lookup
    null = c.r.null
    parts = [b"*%d\r\n" % (len(argv) - 1)]
    append = parts.append
    for i in range(1, len(argv)):
        v = lookup(argv[i])
        if v is None or type(v) is not bytes:
            append(null)
        else:
            append(b"$%d\r\n%s\r\n" % (len(v), v))
    return b"".join(parts)


def _mset(c: Session, argv: list[bytes], name: str) -> None:
    db = c.db
    ks = db.ks
    dbid = db.id
    data = db.data
    exp = db.expires
    track = ks.track_access
    for j in range(1, len(argv), 2):
        key = argv[j]
        if exp and key in exp:
            db.lookup_write(key)
            exp.pop(key, None)
        if key not in data:
            ks.notify("n", "new", key, dbid)
        data[key] = argv[j + 1]
        if db.str_enc:
            db.str_enc.pop(key, None)
        if track:
            ks.touch_access(db, key)
        ks.signal_modified(db, key)
        ks.notify("$", "set", key, dbid)


@command("mset", -3, "write denyoom", "@write @string @slow", keys=(1, -1, 2))
def mset(c: Session, argv: list[bytes]) -> bytes:
    if not len(argv) & 1:
        raise CommandError(errors.WRONG_ARITY.format("mset"))
    _mset(c, argv, "mset")
    return _OK


@command("msetnx", -3, "write denyoom", "@write @string @slow", keys=(1, -1, 2))
def msetnx(c: Session, argv: list[bytes]) -> bytes:
    if not len(argv) & 1:
        raise CommandError(errors.WRONG_ARITY.format("msetnx"))
    lookup = c.db.lookup_write
    for j in range(1, len(argv), 2):
        if lookup(argv[j]) is not None:
            return resp.ZERO
    _mset(c, argv, "msetnx")
    c.propagate([b"MSET", *argv[1:]])
    return resp.ONE


# -- length, ranges, append ---------------------------------------------------------------
def _check_len(c: Session, size: int, append: int) -> None:
    """Redis's checkStringLength: the result may not exceed proto-max-bulk-len."""
    if c.replaying:
        return
    if size + append > c.srv.config["proto-max-bulk-len"]:
        raise CommandError(errors.STRING_TOO_LONG)


@command("strlen", 2, "readonly fast", "@read @string @fast", keys=(1, 1, 1))
def strlen(c: Session, argv: list[bytes]) -> bytes:
    v = _get_string(c, argv[1])
    return resp.ZERO if v is None else resp.integer(len(v))


@command("append", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def append(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    v = _get_string(c, key, True)
    if v is None:
        new = argv[2]
        db.add(key, new)
    else:
        _check_len(c, len(v), len(argv[2]))
        new = v + argv[2]
        db.set(key, new, keep_ttl=True)
        db.str_enc[key] = "raw"  # Redis appends in place to an unshared (raw) sds
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("$", "append", key, db.id)
    return resp.integer(len(new))


def _getrange(c: Session, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = c.db.lookup(argv[1])
    if v is None:
        return resp.EMPTY_BULK
    if type(v) is not bytes:
        raise CommandError(_WRONGTYPE)
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return resp.EMPTY_BULK
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return resp.EMPTY_BULK
    return resp.bulk(v[start : end + 1])


@command("getrange", 4, "readonly", "@read @string @slow", keys=(1, 1, 1))
def getrange(c: Session, argv: list[bytes]) -> bytes:
    return _getrange(c, argv)


@command("substr", 4, "readonly", "@read @string @slow", keys=(1, 1, 1))
def substr(c: Session, argv: list[bytes]) -> bytes:
    return _getrange(c, argv)


@command("setrange", 4, "write denyoom", "@write @string @slow", keys=(1, 1, 1))
def setrange(c: Session, argv: list[bytes]) -> bytes:
    offset = parse_int(argv[2])
    if offset < 0:
        raise CommandError(errors.OFFSET_OUT_OF_RANGE)
    db = c.db
    key = argv[1]
    value = argv[3]
    vlen = len(value)
    v = _get_string(c, key, True)
    if v is None:
        if vlen == 0:
            return resp.ZERO
        _check_len(c, offset, vlen)
        new = b"\0" * offset + value
        db.add(key, new)
        db.str_enc[key] = "raw"
    else:
        olen = len(v)
        if vlen == 0:
            return resp.integer(olen)
        _check_len(c, offset, vlen)
        if offset > olen:
            new = b"".join((v, bytes(offset - olen), value))
        else:  # one copy: the joined parts are views of the old value
            mv = memoryview(v)
            new = b"".join((mv[:offset], value, mv[offset + vlen :]))
        db.set(key, new, keep_ttl=True)
        db.str_enc[key] = "raw"
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("$", "setrange", key, db.id)
    return resp.integer(len(new))


# -- counters -----------------------------------------------------------------------------
def _incr(c: Session, key: bytes, incr: int) -> bytes:
    db = c.db
    data = db.data
    ks = db.ks
    v = data.get(key)
    if v is not None and (db.expires or ks.track_access):
        v = db.lookup_write(key)
    if v is None:
        cur = 0
    elif type(v) is not bytes:
        raise CommandError(_WRONGTYPE)
    elif 0 < len(v) < 19 and v.isdigit() and (v[0] != 48 or len(v) == 1):
        cur = int(v)
    else:
        cur = parse_int(v)
    new = cur + incr
    if new > LLONG_MAX or new < LLONG_MIN:
        raise CommandError(errors.OVERFLOW)
    data[key] = b"%d" % new  # an existing key keeps its TTL, as Redis's dbOverwrite
    if db.str_enc:
        db.str_enc.pop(key, None)
    if v is None:
        ks.notify("n", "new", key, db.id)
        if ks.track_access:
            ks.touch_access(db, key)
    # (an integer's string is small)
    ks.signal_modified(db, key, True, SIZE_UNKNOWN if v is None else SIZE_SMALL_STRING)
    if ks.notifying:
        ks.notify("$", "incrby", key, db.id)
    return b":%d\r\n" % new


@command("incr", 2, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def incr(c: Session, argv: list[bytes]) -> bytes:
    return _incr(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def decr(c: Session, argv: list[bytes]) -> bytes:
    return _incr(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def incrby(c: Session, argv: list[bytes]) -> bytes:
    return _incr(c, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def decrby(c: Session, argv: list[bytes]) -> bytes:
    n = parse_int(argv[2])
    if n == LLONG_MIN:
        raise CommandError(errors.DECR_OVERFLOW)
    return _incr(c, argv[1], -n)


# -- INCRBYFLOAT: long double arithmetic as Redis does it -----------------------------------
_LD = np.longdouble
_MAX_LD_CHARS = 5 * 1024  # MAX_LONG_DOUBLE_CHARS
_SPACES = b" \t\n\v\f\r"
_INF_WORDS = (b"inf", b"infinity")
# numpy warns when a parse or a sum overflows to inf; both are handled (as Redis does)
warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning, __name__)


def parse_long_double(b: bytes) -> np.longdouble | None:
    """Redis's string2ld (strtold in the C locale, whole string, no NaN, no ERANGE)."""
    if not b or len(b) >= _MAX_LD_CHARS:
        return None
    if b[0] in _SPACES or not b.isascii() or b"\0" in b:
        return None
    try:
        v = _LD(b.decode())
    except ValueError:
        return None
    if np.isnan(v):
        return None
    if np.isinf(v):
        if b.lstrip(b"+-").lower() not in _INF_WORDS:
            return None  # overflow: ERANGE with HUGE_VAL
    elif v == 0:
        low = b.lower()
        mant = low
        if b"0x" in low:
            mant = low.split(b"0x", 1)[1].split(b"p", 1)[0]
            if any(ch in b"123456789abcdef" for ch in mant):
                return None  # underflow to zero
        else:
            mant = low.split(b"e", 1)[0]
            if any(ch in b"123456789" for ch in mant):
                return None
    return v


_CHUNK = 10**4000  # Python refuses int -> str conversions above 4300 digits


def _digits(q: int) -> bytes:
    if q < _CHUNK:
        return b"%d" % q
    hi, lo = divmod(q, _CHUNK)
    return _digits(hi) + b"%04000d" % lo


def format_long_double(v: np.longdouble) -> bytes:
    """ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros (and '.') removed."""
    if np.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    num, den = v.as_integer_ratio()
    neg = num < 0
    if neg:
        num = -num
    q, r = divmod(num * 10**17, den)
    r2 = 2 * r
    if r2 > den or (r2 == den and q & 1):  # round half to even, as glibc's printf
        q += 1
    digits = _digits(q).rjust(18, b"0")
    s = digits[:-17] + b"." + digits[-17:]
    s = s.rstrip(b"0")
    if s.endswith(b"."):
        s = s[:-1]
    if neg and s != b"0":
        s = b"-" + s
    return s


@command("incrbyfloat", 3, "write denyoom fast", "@write @string @fast", keys=(1, 1, 1))
def incrbyfloat(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    v = _get_string(c, key, True)
    cur = _LD(0) if v is None else parse_long_double(v)
    if cur is None:
        raise CommandError(errors.NOT_FLOAT)
    inc = parse_long_double(argv[2])
    if inc is None:
        raise CommandError(errors.NOT_FLOAT)
    total = cur + inc
    if np.isnan(total) or np.isinf(total):
        raise CommandError(errors.INCR_NAN_INF)
    new = format_long_double(total)
    if v is None:
        db.add(key, new)
    else:
        db.set(key, new, keep_ttl=True)
    # Redis stores the formatted result as it is (createStringObjectFromLongDouble, no
    # tryObjectEncoding): "3" from INCRBYFLOAT is an embstr, not an int
    db.str_enc[key] = "embstr" if len(new) <= EMBSTR_SIZE_LIMIT else "raw"
    ks = db.ks
    ks.signal_modified(db, key)
    ks.notify("$", "incrbyfloat", key, db.id)
    c.propagate([b"SET", key, new, b"KEEPTTL"])
    return resp.bulk(new)


# -- LCS ----------------------------------------------------------------------------------
def _lcs_rows(a: bytes, b: bytes, keep: bool) -> list[int]:
    """Bit-parallel LCS (Allison-Dix): row i has a 0 bit at j where LCS(i, j+1) > LCS(i, j).

    LCS(a[:i], b[:j]) == j - popcount(rows[i] & ((1 << j) - 1)).  Only the last row is
    returned unless ``keep``.
    """
    blen = len(b)
    full = (1 << blen) - 1
    masks: dict[int, int] = {}
    if blen:
        arr = np.frombuffer(b, dtype=np.uint8)
        for ch in set(a) & set(b):
            masks[ch] = int.from_bytes(np.packbits(arr == ch, bitorder="little").tobytes(), "little")
    row = full
    rows = [row]
    get = masks.get
    for ch in a:
        u = row & get(ch, 0)
        row = ((row + u) | (row - u)) & full
        if keep:
            rows.append(row)
    if not keep:
        return [row]
    return rows


@command("lcs", -3, "readonly", "@read @string @slow", keys=(1, 2, 1))
def lcs(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    oa = db.lookup(argv[1])
    ob = db.lookup(argv[2])
    if (oa is not None and type(oa) is not bytes) or (ob is not None and type(ob) is not bytes):
        raise CommandError(errors.LCS_NOT_STRINGS)
    a: bytes = oa or b""
    b: bytes = ob or b""
    getidx = getlen = withmatchlen = False
    minmatchlen = 0
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and j + 1 < n:
            minmatchlen = max(parse_int(argv[j + 1]), 0)
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if getidx and getlen:
        raise CommandError(errors.LCS_IDX_AND_LEN)
    alen = len(a)
    blen = len(b)
    if alen >= 0xFFFFFFFE or blen >= 0xFFFFFFFE:
        raise CommandError(errors.LCS_TOO_LONG)
    if (alen + 1) * (blen + 1) * 4 > c.srv.config["proto-max-bulk-len"]:
        raise CommandError(errors.LCS_TOO_BIG)
    computelcs = getidx or not getlen
    rows = _lcs_rows(a, b, computelcs)
    total = blen - rows[-1].bit_count()
    if not computelcs:
        return resp.integer(total)

    def L(i: int, jj: int) -> int:  # noqa: N802 - the table's name in Redis
        return jj - (rows[i] & ((1 << jj) - 1)).bit_count()

    out: list[int] = []
    ranges: list[bytes] = []
    i, jb = alen, blen
    a_start = alen  # alen: no range open
    a_end = b_start = b_end = 0
    while i > 0 and jb > 0:
        emit = False
        if a[i - 1] == b[jb - 1]:
            out.append(a[i - 1])
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = jb - 1
            elif a_start == i and b_start == jb:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            i -= 1
            jb -= 1
        else:
            if L(i - 1, jb) > L(i, jb - 1):
                i -= 1
            else:
                jb -= 1
            if a_start != alen:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                item = [
                    b"*2\r\n" + resp.integer(a_start) + resp.integer(a_end),
                    b"*2\r\n" + resp.integer(b_start) + resp.integer(b_end),
                ]
                if withmatchlen:
                    item.append(resp.integer(match_len))
                ranges.append(resp.array(item))
            a_start = alen
    if getidx:
        return c.r.map([
            (resp.bulk(b"matches"), resp.array(ranges)),
            (resp.bulk(b"len"), resp.integer(total)),
        ])
    out.reverse()
    return resp.bulk(bytes(out))
