"""Geo commands: GEOADD GEODIST GEOHASH GEOPOS GEORADIUS[BYMEMBER][_RO] GEOSEARCH[STORE].

Geo sets are sorted sets (type ``zset``) whose scores are Redis's 52-bit geohashes (see
:mod:`durakv.types.geohash`); replies, distances (4 decimals, as fixedpoint_d2string), coordinates and errors are
Redis 7.0's (geo.c).
"""

from __future__ import annotations

from collections.abc import Callable

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types import geohash as gh
from ..types.zset import ZSet
from ._util import parse_float, parse_int

_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def _zset(c: Session, key: bytes, write: bool = False) -> ZSet | None:
    """The sorted set at ``key`` (Redis's lookupKeyRead, or lookupKeyWrite when ``write``)."""
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    if v is None:
        return None
    if type(v) is not ZSet:
        raise CommandError(errors.WRONGTYPE)
    return v


def _unit(b: bytes) -> float:
    u = _UNITS.get(b.lower())
    if u is None:
        raise CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    return u


def _fmt_f(v: float) -> str:
    return "%f" % v


def _lonlat(a: bytes, b: bytes) -> tuple[float, float]:
    lon = parse_float(a)
    lat = parse_float(b)
    if lon < gh.GEO_LONG_MIN or lon > gh.GEO_LONG_MAX or lat < gh.GEO_LAT_MIN or lat > gh.GEO_LAT_MAX:
        raise CommandError("ERR invalid longitude,latitude pair %s,%s" % (_fmt_f(lon), _fmt_f(lat)))
    return lon, lat


def _human(d: float) -> bytes:
    """ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros."""
    s = b"%.17f" % d
    if b"." in s:
        s = s.rstrip(b"0").rstrip(b".")
    if s == b"-0":
        s = b"0"
    return s


def _coord(c: Session, d: float) -> bytes:
    h = _human(d)
    if c.resp == 2:
        return b"$%d\r\n%s\r\n" % (len(h), h)
    return b",%s\r\n" % h


# Redis 7.0's addReplyDoubleDistance (fixedpoint_d2string) is not printf's "%.4f": it takes
# llrint(d * 10000), so a product that rounds to an exact .5 goes to the even neighbour
# (48022403.318149999 ft -> 48022403.3182), and an out-of-range or NaN product is x86's
# llrint result LLONG_MIN.
_DIST_INVALID = b"-922337203685477.5808"


def _dist(d: float) -> bytes:
    x = d * 10000.0
    if -9.223372036854775808e18 <= x < 9.223372036854775808e18:  # False for NaN too
        v = round(x)  # round half to even, as llrint in the default rounding mode
        s = b"%s%d.%04d" % (b"-" if v < 0 else b"", abs(v) // 10000, abs(v) % 10000)
    else:
        s = _DIST_INVALID
    return b"$%d\r\n%s\r\n" % (len(s), s)


@command("geoadd", -5, "write denyoom", "@write @geo @slow", keys=(1, 1, 1))
def geoadd(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) == 5 and argv[2][:1] not in b"nNxXcC":  # fast path: one position, no options
        z = c.db.lookup_write(argv[1])
        if type(z) is ZSet:
            lon, lat = _lonlat(argv[2], argv[3])
            score = float(gh.score_of(lon, lat))
            member = argv[4]
            old = z.score(member)
            if old == score:
                return resp.ZERO
            cfg = c.srv.config.values
            z.set(member, score, cfg["zset-max-listpack-entries"], cfg["zset-max-listpack-value"])
            db = c.db
            db.ks.signal_modified(db, argv[1])
            db.ks.notify("z", "zadd", argv[1], db.id)
            return resp.ZERO if old is not None else resp.ONE
    xx = nx = ch = False
    i = 2
    n = len(argv)
    while i < n:
        o = argv[i].lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o == b"ch":
            ch = True
        else:
            break
        i += 1
    if (n - i) % 3 or (xx and nx):
        raise CommandError(errors.SYNTAX)
    pairs = []
    for j in range(i, n, 3):
        lon, lat = _lonlat(argv[j], argv[j + 1])
        pairs.append((argv[j + 2], float(gh.score_of(lon, lat))))
    db = c.db
    key = argv[1]
    z = _zset(c, key, True)
    cfg = c.srv.config.values
    max_entries = cfg["zset-max-listpack-entries"]
    max_value = cfg["zset-max-listpack-value"]
    if z is None:
        if xx:
            return resp.ZERO
        compact = len(pairs) <= max_entries and max(len(m) for m, _ in pairs) <= max_value
        z = ZSet(compact)
        db.add(key, z)
    added = updated = 0
    for member, score in pairs:
        old = z.score(member)
        if old is None:
            if xx:
                continue
            z.set(member, score, max_entries, max_value)
            added += 1
        else:
            if nx or old == score:
                continue
            z.set(member, score, max_entries, max_value)
            updated += 1
    if added or updated:
        db.ks.signal_modified(db, key)
        db.ks.dirty += added + updated - 1
        db.ks.notify("z", "zadd", key, db.id)
    elif not len(z):
        db.delete(key)
    return resp.integer(added + updated if ch else added)


def _pos(z: ZSet | None, member: bytes) -> tuple[float, float] | None:
    if z is None:
        return None
    s = z.score(member)
    if s is None:
        return None
    return gh.decode_score(s)


@command("geodist", -4, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def geodist(c: Session, argv: list[bytes]) -> bytes:
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(errors.SYNTAX)
    z = _zset(c, argv[1])
    if z is None:
        return c.r.null
    a = _pos(z, argv[2])
    b = _pos(z, argv[3])
    if a is None or b is None:
        return c.r.null
    return _dist(gh.distance(a[0], a[1], b[0], b[1]) / to_meter)


@command("geohash", -2, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def geohash(c: Session, argv: list[bytes]) -> bytes:
    z = _zset(c, argv[1])
    out = []
    for m in argv[2:]:
        s = z.score(m) if z is not None else None
        out.append(c.r.null if s is None else resp.bulk(gh.geohash_string(s)))
    return resp.array(out)


@command("geopos", -2, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def geopos(c: Session, argv: list[bytes]) -> bytes:
    z = _zset(c, argv[1])
    out = []
    for m in argv[2:]:
        p = _pos(z, m)
        if p is None:
            out.append(c.r.null_array)
        else:
            out.append(b"*2\r\n%s%s" % (_coord(c, p[0]), _coord(c, p[1])))
    return resp.array(out)


# -- radius / box searches ----------------------------------------------------------------------
RADIUS_COORDS = 1
RADIUS_MEMBER = 2
RADIUS_NOSTORE = 4
GEOSEARCH = 8
GEOSEARCHSTORE = 16


def _distance_arg(argv: list[bytes], i: int, s: gh.Shape) -> None:
    d = parse_float(argv[i], "ERR need numeric radius")
    if d < 0:
        raise CommandError("ERR radius cannot be negative")
    s.radius = d
    s.conversion = _unit(argv[i + 1])


def _member_pos(z: ZSet, member: bytes, s: gh.Shape) -> None:
    p = _pos(z, member)
    if p is None:
        raise CommandError("ERR could not decode requested zset member")
    s.lon, s.lat = p


def _georadius(c: Session, argv: list[bytes], src: int, flags: int) -> bytes:
    storekey: bytes | None = None
    storedist = False
    z = _zset(c, argv[src])
    s = gh.Shape()
    if flags & RADIUS_COORDS:
        base = 6
        s.lon, s.lat = _lonlat(argv[2], argv[3])
        _distance_arg(argv, 4, s)
    elif flags & RADIUS_MEMBER:
        base = 5
        if z is not None:
            _member_pos(z, argv[2], s)
            _distance_arg(argv, 3, s)
    else:
        base = 2
        if flags & GEOSEARCHSTORE:
            base = 3
            storekey = argv[1]
    withdist = withhash = withcoord = False
    frommember = fromloc = byradius = bybox = False
    sort = 0
    any_ = False
    count = 0
    n = len(argv)
    rem = n - base
    i = 0
    while i < rem:
        a = argv[base + i]
        o = a.lower()
        if o == b"withdist":
            withdist = True
        elif o == b"withhash":
            withhash = True
        elif o == b"withcoord":
            withcoord = True
        elif o == b"any":
            any_ = True
        elif o == b"asc":
            sort = 1
        elif o == b"desc":
            sort = 2
        elif o == b"count" and i + 1 < rem:
            count = parse_int(argv[base + i + 1])
            if count <= 0:
                raise CommandError("ERR COUNT must be > 0")
            i += 1
        elif o in (b"store", b"storedist") and i + 1 < rem and not flags & RADIUS_NOSTORE and not flags & GEOSEARCH:
            storekey = argv[base + i + 1]
            storedist = o == b"storedist"
            i += 1
        elif o == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            storedist = True
        elif o == b"frommember" and i + 1 < rem and flags & GEOSEARCH and not fromloc:
            if z is not None:
                _member_pos(z, argv[base + i + 1], s)
            frommember = True
            i += 1
        elif o == b"fromlonlat" and i + 2 < rem and flags & GEOSEARCH and not frommember:
            s.lon, s.lat = _lonlat(argv[base + i + 1], argv[base + i + 2])
            fromloc = True
            i += 2
        elif o == b"byradius" and i + 2 < rem and flags & GEOSEARCH and not bybox:
            _distance_arg(argv, base + i + 1, s)
            s.kind = gh.CIRCULAR
            byradius = True
            i += 2
        elif o == b"bybox" and i + 3 < rem and flags & GEOSEARCH and not byradius:
            w = parse_float(argv[base + i + 1], "ERR need numeric width")
            h = parse_float(argv[base + i + 2], "ERR need numeric height")
            if h < 0 or w < 0:
                raise CommandError("ERR height or width cannot be negative")
            s.width, s.height = w, h
            s.conversion = _unit(argv[base + i + 3])
            s.kind = gh.RECTANGLE
            bybox = True
            i += 3
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if storekey is not None and (withdist or withhash or withcoord):
        raise CommandError("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options" % (
            "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"))
    name = argv[0].decode("latin-1")
    if flags & GEOSEARCH and not (frommember or fromloc):
        raise CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s" % name)
    if flags & GEOSEARCH and not (byradius or bybox):
        raise CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for %s" % name)
    if any_ and not count:
        raise CommandError("ERR the ANY argument requires COUNT argument")
    db = c.db
    if z is None:
        if storekey is not None:
            db.remove(storekey)
            return resp.ZERO
        return resp.EMPTY_ARRAY
    if count and not sort and not any_:
        sort = 1

    def range_fn(lo: int, hi: int) -> list[tuple[bytes, float]]:
        i0, j0 = z.score_range(float(lo), False, float(hi), True)
        return z.slice(i0, j0)

    found = gh.search(s, range_fn, count if any_ else 0)
    if not found and storekey is None:
        return resp.EMPTY_ARRAY
    returned = len(found) if not count or len(found) < count else count
    if sort:
        if returned == len(found):  # glibc qsort: a stable merge sort
            found.sort(key=lambda t: t[0], reverse=sort == 2)
        else:
            gh.pqsort(found, _cmp_asc if sort == 1 else _cmp_desc, 0, returned - 1)
    found = found[:returned]
    conv = s.conversion
    if storekey is None:
        opts = int(withdist) + int(withhash) + int(withcoord)
        out = []
        for d, member, score, lon, lat in found:
            mb = b"$%d\r\n%s\r\n" % (len(member), member)
            if not opts:
                out.append(mb)
                continue
            parts = [b"*%d\r\n" % (opts + 1), mb]
            if withdist:
                parts.append(_dist(d / conv))
            if withhash:
                parts.append(resp.integer(int(score)))
            if withcoord:
                parts.append(b"*2\r\n%s%s" % (_coord(c, lon), _coord(c, lat)))
            out.append(b"".join(parts))
        return resp.array(out)
    if returned:
        cfg = c.srv.config
        items = [(member, (d / conv) if storedist else score) for d, member, score, _, _ in found]
        zs = ZSet.from_items(items, cfg["zset-max-listpack-entries"], cfg["zset-max-listpack-value"])
        db.set(storekey, zs)
        db.ks.signal_modified(db, storekey)
        db.ks.dirty += returned - 1
        db.ks.notify("z", "geosearchstore" if flags & GEOSEARCH else "georadiusstore", storekey, db.id)
    else:
        db.remove(storekey)
    return resp.integer(returned)


def _cmp_asc(a: tuple, b: tuple) -> int:
    return 1 if a[0] > b[0] else (0 if a[0] == b[0] else -1)


def _cmp_desc(a: tuple, b: tuple) -> int:
    return -1 if a[0] > b[0] else (0 if a[0] == b[0] else 1)


def _store_keys(base: int) -> Callable[[list[bytes]], list[int]]:
    """Key positions of GEORADIUS*: the source key, then every STORE/STOREDIST target."""

    def fn(argv: list[bytes]) -> list[int]:
        keys = [1]
        n = len(argv)
        for word in (b"store", b"storedist"):  # Redis's key specs: first keyword match each
            for i in range(base, n - 1):
                if argv[i].lower() == word:
                    keys.append(i + 1)
                    break
        return keys

    return fn


@command("georadius", -6, "write denyoom", "@write @geo @slow", keys=(1, 1, 1), keys_fn=_store_keys(6))
def georadius(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 1, RADIUS_COORDS)


@command("georadiusbymember", -5, "write denyoom", "@write @geo @slow", keys=(1, 1, 1), keys_fn=_store_keys(5))
def georadiusbymember(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 1, RADIUS_MEMBER)


@command("georadius_ro", -6, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def georadius_ro(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@command("georadiusbymember_ro", -5, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def georadiusbymember_ro(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@command("geosearch", -7, "readonly", "@read @geo @slow", keys=(1, 1, 1))
def geosearch(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 1, GEOSEARCH)


@command("geosearchstore", -8, "write denyoom", "@write @geo @slow", keys=(1, 2, 1))
def geosearchstore(c: Session, argv: list[bytes]) -> bytes:
    return _georadius(c, argv, 2, GEOSEARCH | GEOSEARCHSTORE)

