"""List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX LINSERT LPOS LRANGE LREM
LSET LTRIM LMOVE RPOPLPUSH LMPOP and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.

Values are :class:`durakv.types.list.List` (a deque).  Blocking commands that find nothing
register with :mod:`durakv.keyspace.blocking` and are logged, once served, as the
non-blocking pop that was actually done (LPOP/RPOP/LMOVE/RPOPLPUSH).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_COLLECTION
from ..protocol import resp
from ..session import BLOCKED, Session
from ..spec import command
from ..types.list import List
from ._util import LLONG_MAX, LLONG_MIN, parse_int
from .strings import parse_long_double

_WRONGTYPE = errors.WRONGTYPE
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
NUMKEYS_GT0 = "ERR numkeys should be greater than 0"
COUNT_GT0 = "ERR count should be greater than 0"
INDEX_OUT_OF_RANGE = "ERR index out of range"
RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
COUNT_NEGATIVE = "ERR COUNT can't be negative"
MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"


_LD_2_63 = np.longdouble(2**63)
_LD_LLMIN = np.longdouble(-(2**63))
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LDBL_MAX = Fraction(2**64 - 1) * Fraction(2) ** (16383 - 63)
_LDBL_MIN_NORMAL = Fraction(1, 2**16382)


def round_ld(x: Fraction) -> Fraction:
    """Round an exact value to the nearest x87 long double (64-bit mantissa, ties to even)."""
    if x == 0:
        return x
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    scale = Fraction(2) ** (63 - e)
    m = round(a * scale)  # Fraction.__round__: ties to even
    r = m / scale
    return r if x > 0 else -r


def strtold_exact(b: bytes) -> np.longdouble | None:
    """Redis's string2ld for plain decimal numbers, correctly rounded (numpy's own parser
    is not); other spellings (hex, inf ...) go to :func:`parse_long_double`."""
    if len(b) > 300 or not _DECIMAL.fullmatch(b):
        return parse_long_double(b)
    fr = round_ld(Fraction(b.decode()))
    if abs(fr) > _LDBL_MAX:
        return None  # ERANGE overflow
    if 0 < abs(fr) < _LDBL_MIN_NORMAL:
        return parse_long_double(b)  # subnormal range: leave it to the general parser
    if fr == 0:
        if any(ch in b"123456789" for ch in b.split(b"e")[0].split(b"E")[0]):
            return None  # ERANGE underflow to zero
        return np.longdouble(0)
    return ld_from_fraction(fr)


def ld_from_fraction(fr: Fraction) -> np.longdouble:
    """An exact long double value (64-bit mantissa) as numpy's longdouble."""
    a = abs(fr)
    den_exp = a.denominator.bit_length() - 1  # a power of two for rounded values
    if a.denominator != 1 << den_exp:
        return np.longdouble(float(fr))
    num = a.numerator
    t = max(0, num.bit_length() - 64)  # a rounded value has at most 64 significant bits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = np.ldexp(np.longdouble(num >> t), t - den_exp)
    return v if fr > 0 else -v


def parse_timeout(c: Session, arg: bytes) -> float:
    """A blocking timeout in seconds as Redis's getTimeoutFromObjectOrReply (UNIT_SECONDS):
    returns seconds (0.0 = forever)."""
    if len(arg) <= 300 and _DECIMAL.fullmatch(arg):
        fr = round_ld(Fraction(arg.decode()))
        if abs(fr) > _LDBL_MAX:
            raise CommandError(errors.TIMEOUT_NOT_FLOAT)
        prod = math.ceil(round_ld(fr * 1000))  # ceill(ftval * 1000.0) in long double
        ms = prod if -(2**63) <= prod < 2**63 else LLONG_MIN
    else:
        v = parse_long_double(arg)
        if v is None:
            raise CommandError(errors.TIMEOUT_NOT_FLOAT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ms_ld = v * np.longdouble(1000.0)
            ms_ld = np.ceil(ms_ld)
        if not np.isfinite(ms_ld) or not (_LD_LLMIN <= ms_ld < _LD_2_63):
            ms = LLONG_MIN  # (long long) of an out-of-range value on x86-64
        else:
            ms = int(ms_ld)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    return min(ms, LLONG_MAX) / 1000.0


_HDR = [b"$%d" % i for i in range(4096)]
_hdr = _HDR.__getitem__


def fast_bulks(values: list[bytes]) -> bytes:
    """An array of bulk strings, built with C-level loops (list replies on hot paths)."""
    n = len(values)
    if not n:
        return b"*0\r\n"
    l0 = len(values[0])
    if len(values[-1]) == l0 == len(values[n >> 1]) and list(map(len, values)).count(l0) == n:
        # every element the same length (common for list payloads): a single join
        return b"*%d\r\n$%d\r\n%s\r\n" % (n, l0, (b"\r\n$%d\r\n" % l0).join(values))
    out: list[bytes] = [b""] * (2 * n)
    try:
        out[0::2] = map(_hdr, map(len, values))
    except IndexError:  # an element of 4 KiB or more
        return resp.bulks(values)
    out[1::2] = values
    out.append(b"")
    return b"*%d\r\n%s" % (n, b"\r\n".join(out))


def _read(c: Session, key: bytes, write: bool = False) -> List | None:
    # write: the lookup of a command about to change the key (Redis's lookupKeyWrite:
    # no keyspace hit/miss count, no keymiss event)
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    if v is not None and type(v) is not List:
        raise CommandError(_WRONGTYPE)
    return v


def _deny_blocking(c: Session) -> bool:
    return c.in_exec or c.in_script


# -- pushes --------------------------------------------------------------------------------
def _push(c: Session, argv: list[bytes], left: bool, create: bool) -> bytes:
    db = c.db
    key = argv[1]
    lst = db.data.get(key)
    if lst is None or db.expires:
        lst = db.lookup_write(key)
    elif db.ks.track_access:
        db.ks.touch_access(db, key)
    if lst is None:
        if not create:
            return resp.ZERO
        lst = List()
        db.add(key, lst)
    elif type(lst) is not List:
        raise CommandError(_WRONGTYPE)
    if left:
        if len(argv) == 3:
            lst.appendleft(argv[2])
        else:
            lst.extendleft(argv[2:])
    else:
        if len(argv) == 3:
            lst.append(argv[2])
        else:
            lst.extend(argv[2:])
    ks = db.ks
    ks.signal_modified(db, key, True, SIZE_COLLECTION)
    if len(argv) > 3:  # Redis: server.dirty += pushed elements
        ks.dirty += len(argv) - 3
    if ks.notifying:
        ks.notify("l", "lpush" if left else "rpush", key, db.id)
    return b":%d\r\n" % len(lst)


@command("lpush", -3, "write denyoom fast", "@write @list @fast", keys=(1, 1, 1))
def lpush(c: Session, argv: list[bytes]) -> bytes:
    return _push(c, argv, True, True)


@command("rpush", -3, "write denyoom fast", "@write @list @fast", keys=(1, 1, 1))
def rpush(c: Session, argv: list[bytes]) -> bytes:
    return _push(c, argv, False, True)


@command("lpushx", -3, "write denyoom fast", "@write @list @fast", keys=(1, 1, 1))
def lpushx(c: Session, argv: list[bytes]) -> bytes:
    return _push(c, argv, True, False)


@command("rpushx", -3, "write denyoom fast", "@write @list @fast", keys=(1, 1, 1))
def rpushx(c: Session, argv: list[bytes]) -> bytes:
    return _push(c, argv, False, False)


# -- pops ----------------------------------------------------------------------------------
def pop_many(c: Session, key: bytes, lst: List, left: bool, count: int, dirty: bool = True) -> list[bytes]:
    """Pop up to ``count`` elements, notify, delete the key if emptied.

    ``dirty``: count one change per popped element (Redis's listElementsRemoved); Redis 7.0
    counts none for a woken BLPOP/BRPOP (it serves them without listElementsRemoved).
    """
    n = min(count, len(lst))
    if left:
        pop = lst.popleft
    else:
        pop = lst.pop
    out = [pop() for _ in range(n)]
    db = c.db
    ks = db.ks
    ks.signal_modified(db, key, False)
    if dirty:
        ks.dirty += n
    ks.notify("l", "lpop" if left else "rpop", key, db.id)
    if not lst:
        db.delete_notify(key)
    return out


def _pop(c: Session, argv: list[bytes], left: bool) -> bytes:
    n = len(argv)
    if n > 3:
        raise CommandError(errors.WRONG_ARITY.format("lpop" if left else "rpop"))
    db = c.db
    key = argv[1]
    if n == 2:
        lst = db.data.get(key)
        if lst is None or db.expires:
            lst = db.lookup_write(key)
            if lst is None:
                return c.r.null
        elif db.ks.track_access:
            db.ks.touch_access(db, key)
        if type(lst) is not List:
            raise CommandError(_WRONGTYPE)
        v = lst.popleft() if left else lst.pop()
        ks = db.ks
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        if ks.notifying:
            ks.notify("l", "lpop" if left else "rpop", key, db.id)
        if not lst:
            db.delete_notify(key)
        return b"$%d\r\n%s\r\n" % (len(v), v)
    count = parse_int(argv[2], MUST_BE_POSITIVE)
    if count < 0:
        raise CommandError(MUST_BE_POSITIVE)
    lst = _read(c, key, True)
    if lst is None:
        return c.r.null_array
    if not count:
        return resp.EMPTY_ARRAY
    return resp.bulks(pop_many(c, key, lst, left, count))


@command("lpop", -2, "write fast", "@write @list @fast", keys=(1, 1, 1))
def lpop(c: Session, argv: list[bytes]) -> bytes:
    return _pop(c, argv, True)


@command("rpop", -2, "write fast", "@write @list @fast", keys=(1, 1, 1))
def rpop(c: Session, argv: list[bytes]) -> bytes:
    return _pop(c, argv, False)


# -- reads ---------------------------------------------------------------------------------
@command("llen", 2, "readonly fast", "@read @list @fast", keys=(1, 1, 1))
def llen(c: Session, argv: list[bytes]) -> bytes:
    lst = _read(c, argv[1])
    return resp.integer(0 if lst is None else len(lst))


@command("lindex", 3, "readonly", "@read @list @slow", keys=(1, 1, 1))
def lindex(c: Session, argv: list[bytes]) -> bytes:
    lst = _read(c, argv[1])
    if lst is None:
        return c.r.null
    i = parse_int(argv[2])
    n = len(lst)
    if i < 0:
        i += n
    if i < 0 or i >= n:
        return c.r.null
    return resp.bulk(lst[i])


def _norm_range(start: int, end: int, n: int) -> tuple[int, int] | None:
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end


@command("lrange", 4, "readonly", "@read @list @slow", keys=(1, 1, 1))
def lrange(c: Session, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    lst = _read(c, argv[1])
    if lst is None:
        return resp.EMPTY_ARRAY
    rng = _norm_range(start, end, len(lst))
    if rng is None:
        return resp.EMPTY_ARRAY
    return fast_bulks(lst.range(rng[0], rng[1]))


@command("lpos", -3, "readonly", "@read @list @slow", keys=(1, 1, 1))
def lpos(c: Session, argv: list[bytes]) -> bytes:
    rank = 1
    count = -1  # -1: no COUNT option
    maxlen = 0
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(errors.SYNTAX)
        if opt == b"rank":
            rank = parse_int(argv[i + 1])
            if rank == 0:
                raise CommandError(RANK_ZERO)
        elif opt == b"count":
            count = parse_int(argv[i + 1], COUNT_NEGATIVE)
            if count < 0:
                raise CommandError(COUNT_NEGATIVE)
        elif opt == b"maxlen":
            maxlen = parse_int(argv[i + 1], MAXLEN_NEGATIVE)
            if maxlen < 0:
                raise CommandError(MAXLEN_NEGATIVE)
        else:
            raise CommandError(errors.SYNTAX)
        i += 2
    lst = _read(c, argv[1])
    if lst is None:
        return resp.EMPTY_ARRAY if count >= 0 else c.r.null
    ele = argv[2]
    size = len(lst)
    if rank < 0:
        it = reversed(lst)
        rank = rank if rank == LLONG_MIN else -rank
        backward = True
    else:
        it = iter(lst)
        backward = False
    matches = 0
    found: list[int] = []
    index = 0
    for e in it:
        if maxlen and index >= maxlen:
            break
        if e == ele:
            matches += 1
            if matches >= rank:
                found.append(size - index - 1 if backward else index)
                if count < 0:
                    break
                if count:
                    v = (matches - rank + 1 + 2**63) % 2**64 - 2**63
                    if v >= count:
                        break
        index += 1
    if count >= 0:
        return b"*%d\r\n%s" % (len(found), b"".join(resp.integer(x) for x in found))
    return resp.integer(found[0]) if found else c.r.null


# -- in-place writes -----------------------------------------------------------------------
@command("linsert", 5, "write denyoom", "@write @list @slow", keys=(1, 1, 1))
def linsert(c: Session, argv: list[bytes]) -> bytes:
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        raise CommandError(errors.SYNTAX)
    key = argv[1]
    lst = _read(c, key, True)
    if lst is None:
        return resp.ZERO
    try:
        i = lst.index(argv[3])
    except ValueError:
        return resp.NEG_ONE
    lst.insert(i + 1 if after else i, argv[4])
    db = c.db
    db.ks.signal_modified(db, key)
    db.ks.notify("l", "linsert", key, db.id)
    return resp.integer(len(lst))


@command("lset", 4, "write denyoom", "@write @list @slow", keys=(1, 1, 1))
def lset(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    lst = _read(c, key, True)
    if lst is None:
        raise CommandError(errors.NO_SUCH_KEY)
    i = parse_int(argv[2])
    n = len(lst)
    if i < 0:
        i += n
    if i < 0 or i >= n:
        raise CommandError(INDEX_OUT_OF_RANGE)
    lst[i] = argv[3]
    db = c.db
    db.ks.signal_modified(db, key)
    db.ks.notify("l", "lset", key, db.id)
    return resp.OK


@command("ltrim", 4, "write", "@write @list @slow", keys=(1, 1, 1))
def ltrim(c: Session, argv: list[bytes]) -> bytes:
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    key = argv[1]
    lst = _read(c, key, True)
    if lst is None:
        return resp.OK
    n = len(lst)
    rng = _norm_range(start, end, n)
    if rng is None:
        ltrim_n, rtrim_n = n, 0
    else:
        ltrim_n, rtrim_n = rng[0], n - rng[1] - 1
    if ltrim_n > n // 2 and rtrim_n == 0 and ltrim_n < n:
        for _ in range(ltrim_n):
            lst.popleft()
    elif ltrim_n or rtrim_n:
        keep = lst.range(ltrim_n, n - rtrim_n - 1) if ltrim_n < n - rtrim_n else []
        lst.clear()
        lst.extend(keep)
    db = c.db
    ks = db.ks
    ks.notify("l", "ltrim", key, db.id)
    if not lst:
        db.delete_notify(key)
    # Redis: server.dirty += removed elements (a trim that removes nothing is not
    # propagated), and the key is signalled either way (WATCH)
    ks.signal_modified(db, key, False)
    ks.dirty += n - len(lst)
    return resp.OK


@command("lrem", 4, "write", "@write @list @slow", keys=(1, 1, 1))
def lrem(c: Session, argv: list[bytes]) -> bytes:
    toremove = parse_int(argv[2])
    key = argv[1]
    lst = _read(c, key, True)
    if lst is None:
        return resp.ZERO
    ele = argv[3]
    removed = 0
    if toremove >= 0:
        limit = toremove or len(lst)
        keep = []
        for e in lst:
            if removed < limit and e == ele:
                removed += 1
            else:
                keep.append(e)
    else:
        limit = -toremove
        keep = []
        for e in reversed(lst):
            if removed < limit and e == ele:
                removed += 1
            else:
                keep.append(e)
        keep.reverse()
    if removed:
        lst.clear()
        lst.extend(keep)
        db = c.db
        ks = db.ks
        ks.signal_modified(db, key, False)
        ks.dirty += removed  # Redis: one change per removed element
        ks.notify("l", "lrem", key, db.id)
        if not lst:
            db.delete_notify(key)
    return resp.integer(removed)


# -- moves ---------------------------------------------------------------------------------
def _where(arg: bytes) -> bool:
    """True for LEFT, False for RIGHT (syntax error otherwise)."""
    w = arg.lower()
    if w == b"left":
        return True
    if w == b"right":
        return False
    raise CommandError(errors.SYNTAX)


def move_one(c: Session, src: bytes, lst: List, dst: bytes, wfrom: bool, wto: bool,
             dirty: bool = True) -> bytes | None:
    """Pop one element from ``lst`` (at ``src``) and push it to ``dst``; None on WRONGTYPE
    at dst (raised).  Returns the moved element.

    ``dirty``: count the move as one change (Redis's LMOVE); Redis 7.0 counts none for a
    woken BLMOVE/BRPOPLPUSH.
    """
    db = c.db
    dlst = db.lookup_write(dst)
    if dlst is not None and type(dlst) is not List:
        raise CommandError(_WRONGTYPE)
    v = lst.popleft() if wfrom else lst.pop()
    ks = db.ks
    if dlst is None:
        dlst = List()
        db.add(dst, dlst)
    if wto:
        dlst.appendleft(v)
    else:
        dlst.append(v)
    ks.signal_modified(db, dst, dirty)
    ks.notify("l", "lpush" if wto else "rpush", dst, db.id)
    ks.signal_modified(db, src, False)
    ks.notify("l", "lpop" if wfrom else "rpop", src, db.id)
    if not lst:
        db.delete_notify(src)
    return v


def _lmove(c: Session, src: bytes, dst: bytes, wfrom: bool, wto: bool) -> bytes | None:
    lst = _read(c, src, True)
    if lst is None or not lst:
        return None
    return move_one(c, src, lst, dst, wfrom, wto)


@command("lmove", 5, "write denyoom", "@write @list @slow", keys=(1, 2, 1))
def lmove(c: Session, argv: list[bytes]) -> bytes:
    wfrom = _where(argv[3])
    wto = _where(argv[4])
    v = _lmove(c, argv[1], argv[2], wfrom, wto)
    return c.r.null if v is None else resp.bulk(v)


@command("rpoplpush", 3, "write denyoom", "@write @list @slow", keys=(1, 2, 1))
def rpoplpush(c: Session, argv: list[bytes]) -> bytes:
    v = _lmove(c, argv[1], argv[2], False, True)
    return c.r.null if v is None else resp.bulk(v)


# -- LMPOP ---------------------------------------------------------------------------------
def mpop_keys(argv: list[bytes], first: int) -> list[int]:
    """Key positions of LMPOP/ZMPOP-style commands (numkeys at ``first``)."""
    try:
        n = int(argv[first])
    except (ValueError, IndexError):
        return []
    if n <= 0 or first + n >= len(argv):
        return []
    return list(range(first + 1, first + 1 + n))


def parse_mpop(argv: list[bytes], first: int, words: tuple[bytes, bytes]) -> tuple[list[bytes], bool, int]:
    """numkeys key... WHERE [COUNT n] -> (keys, where is words[0], count (-1 = none))."""
    try:
        numkeys = parse_int(argv[first], NUMKEYS_GT0)
    except CommandError:
        raise CommandError(NUMKEYS_GT0) from None
    if numkeys <= 0:
        raise CommandError(NUMKEYS_GT0)
    widx = first + 1 + numkeys
    if widx >= len(argv):
        raise CommandError(errors.SYNTAX)
    w = argv[widx].lower()
    if w == words[0]:
        where = True
    elif w == words[1]:
        where = False
    else:
        raise CommandError(errors.SYNTAX)
    count = -1
    i = widx + 1
    n = len(argv)
    while i < n:
        if argv[i].lower() == b"count" and i + 1 < n and count == -1:
            count = parse_int(argv[i + 1], COUNT_GT0)
            if count <= 0:
                raise CommandError(COUNT_GT0)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return argv[first + 1 : widx], where, count


def _mpop_reply(key: bytes, vals: list[bytes]) -> bytes:
    return b"*2\r\n" + resp.bulk(key) + resp.bulks(vals)


@command("lmpop", -4, "write", "@write @list @slow", keys_fn=lambda argv: mpop_keys(argv, 1))
def lmpop(c: Session, argv: list[bytes]) -> bytes:
    keys, left, count = parse_mpop(argv, 1, (b"left", b"right"))
    if count < 0:
        count = 1
    for key in keys:
        lst = _read(c, key, True)
        if lst:
            vals = pop_many(c, key, lst, left, count)
            c.propagate([b"LPOP" if left else b"RPOP", key, b"%d" % len(vals)])
            return _mpop_reply(key, vals)
    return c.r.null_array


# -- blocking ------------------------------------------------------------------------------
def _block(c: Session, keys: list[bytes], serve: Callable[[Session, bytes], bytes | None],
           timeout: float) -> bytes:
    return c.srv.blocking.block(c, keys, serve, timeout, c.r.null_array)


def _serve_bpop(left: bool) -> Callable[[Session, bytes], bytes | None]:
    def serve(c: Session, key: bytes) -> bytes | None:
        lst = c.db.lookup_write(key)
        if type(lst) is not List or not lst:
            return None
        v = pop_many(c, key, lst, left, 1, dirty=False)[0]
        c.propagate([b"LPOP" if left else b"RPOP", key])
        return b"*2\r\n" + resp.bulk(key) + resp.bulk(v)

    return serve


_SERVE_BLPOP = _serve_bpop(True)
_SERVE_BRPOP = _serve_bpop(False)


def _bpop(c: Session, argv: list[bytes], left: bool) -> bytes:
    timeout = parse_timeout(c, argv[-1])
    keys = argv[1:-1]
    for key in keys:
        lst = _read(c, key, True)
        if lst:
            v = pop_many(c, key, lst, left, 1)[0]
            c.propagate([b"LPOP" if left else b"RPOP", key])
            return b"*2\r\n" + resp.bulk(key) + resp.bulk(v)
    if _deny_blocking(c):
        return c.r.null_array
    return _block(c, keys, _SERVE_BLPOP if left else _SERVE_BRPOP, timeout)


@command("blpop", -3, "write noscript blocking", "@write @list @slow @blocking", keys=(1, -2, 1))
def blpop(c: Session, argv: list[bytes]) -> bytes:
    return _bpop(c, argv, True)


@command("brpop", -3, "write noscript blocking", "@write @list @slow @blocking", keys=(1, -2, 1))
def brpop(c: Session, argv: list[bytes]) -> bytes:
    return _bpop(c, argv, False)


def _blmove(c: Session, argv: list[bytes], wfrom: bool, wto: bool) -> bytes:
    """BLMOVE src dst wherefrom whereto timeout / BRPOPLPUSH src dst timeout.

    Propagated as Redis 7.0 does: BRPOPLPUSH as RPOPLPUSH; BLMOVE as LMOVE with the client's
    own wherefrom/whereto words, or, when a push wakes it, with lowercase left/right.
    """
    src, dst = argv[1], argv[2]
    timeout = parse_timeout(c, argv[-1])
    rpoplpush = len(argv) == 4
    lst = _read(c, src, True)
    if lst:
        v = move_one(c, src, lst, dst, wfrom, wto)
        c.propagate([b"RPOPLPUSH", src, dst] if rpoplpush else [b"LMOVE", src, dst, argv[3], argv[4]])
        return resp.bulk(v)  # type: ignore[arg-type]
    if _deny_blocking(c):
        return c.r.null
    woken = [b"RPOPLPUSH", src, dst] if rpoplpush else [
        b"LMOVE", src, dst, b"left" if wfrom else b"right", b"left" if wto else b"right"]

    def serve(cl: Session, key: bytes) -> bytes | None:
        sl = cl.db.lookup_write(key)
        if type(sl) is not List or not sl:
            return None
        d = cl.db.lookup_write(dst)
        if d is not None and type(d) is not List:
            return resp.error(_WRONGTYPE)
        v = move_one(cl, src, sl, dst, wfrom, wto, dirty=False)
        cl.propagate(woken)
        return resp.bulk(v)  # type: ignore[arg-type]

    return _block(c, [src], serve, timeout)


@command("blmove", 6, "write denyoom noscript blocking", "@write @list @slow @blocking", keys=(1, 2, 1))
def blmove(c: Session, argv: list[bytes]) -> bytes:
    wfrom = _where(argv[3])
    wto = _where(argv[4])
    return _blmove(c, argv, wfrom, wto)


@command("brpoplpush", 4, "write denyoom noscript blocking", "@write @list @slow @blocking", keys=(1, 2, 1))
def brpoplpush(c: Session, argv: list[bytes]) -> bytes:
    return _blmove(c, argv, False, True)


@command("blmpop", -5, "write blocking", "@write @list @slow @blocking", keys_fn=lambda argv: mpop_keys(argv, 2))
def blmpop(c: Session, argv: list[bytes]) -> bytes:
    keys, left, count = parse_mpop(argv, 2, (b"left", b"right"))
    timeout = parse_timeout(c, argv[1])
    if count < 0:
        count = 1
    for key in keys:
        lst = _read(c, key, True)
        if lst:
            vals = pop_many(c, key, lst, left, count)
            c.propagate([b"LPOP" if left else b"RPOP", key, b"%d" % len(vals)])
            return _mpop_reply(key, vals)
    if _deny_blocking(c):
        return c.r.null_array

    def serve(cl: Session, key: bytes) -> bytes | None:
        lst = cl.db.lookup_write(key)
        if type(lst) is not List or not lst:
            return None
        vals = pop_many(cl, key, lst, left, count)
        cl.propagate([b"LPOP" if left else b"RPOP", key, b"%d" % len(vals)])
        return _mpop_reply(key, vals)

    return _block(c, keys, serve, timeout)


__all__ = ["BLOCKED", "parse_timeout", "pop_many", "mpop_keys", "parse_mpop"]
