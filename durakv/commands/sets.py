"""Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP SMOVE SINTER
SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.

Values are :class:`durakv.types.set.Set`.  SPOP's random picks are logged as ``SREM`` of
the chosen members (``DEL`` when it took the whole set).  Results built by SUNION/SDIFF
(and every *STORE) start as an intset like Redis's, so all-integer results come out in
ascending order as Redis replies them.
"""

from __future__ import annotations

from itertools import islice

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_COLLECTION, scan
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types.set import Set, is_int_member
from ._util import LLONG_MAX, parse_int

_WRONGTYPE = errors.WRONGTYPE
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
LONG_RANGE = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
NUMKEYS_GT0 = "ERR numkeys should be greater than 0"
TOO_MANY_KEYS = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"


def _read(c: Session, key: bytes, write: bool = False) -> Set | None:
    # write: the lookup of a command about to change the key (Redis's lookupKeyWrite:
    # no keyspace hit/miss count, no keymiss event)
    s = c.db.lookup_write(key) if write else c.db.lookup(key)
    if s is not None and type(s) is not Set:
        raise CommandError(_WRONGTYPE)
    return s


def _max_intset(c: Session) -> int:
    return c.srv.config["set-max-intset-entries"]


def build_set(members: list[bytes], max_intset: int) -> Set:
    """A new set of ``members`` encoded as Redis builds one from an empty intset."""
    s = Set(members)
    s.intset = len(s) <= max_intset and all(is_int_member(m) for m in s)
    return s


def _members_reply(c: Session, members: list[bytes]) -> bytes:
    return c.r.set_header(len(members)) + b"".join([b"$%d\r\n%s\r\n" % (len(m), m) for m in members])


@command("sadd", -3, "write denyoom fast", "@write @set @fast", keys=(1, 1, 1))
def sadd(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    s = db.data.get(key)
    if s is None or db.expires:
        s = db.lookup_write(key)
        if s is None:
            s = Set.new_for(argv[2], _max_intset(c))
            db.add(key, s)
    elif db.ks.track_access:
        db.ks.touch_access(db, key)
    if type(s) is not Set:
        raise CommandError(_WRONGTYPE)
    if not s.intset:
        n = len(s)
        if len(argv) == 3:
            s.add(argv[2])
        else:
            s.update(argv[2:])
        added = len(s) - n
    else:
        added = s.add_members(argv[2:], _max_intset(c))
    if added:
        ks = db.ks
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        if ks.notifying:
            ks.notify("s", "sadd", key, db.id)
    return resp.integer(added)


@command("srem", -3, "write fast", "@write @set @fast", keys=(1, 1, 1))
def srem(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    s = _read(c, key, True)
    if s is None:
        return resp.ZERO
    n = 0
    for m in argv[2:]:
        if m in s:
            s.discard(m)
            n += 1
    if n:
        db = c.db
        ks = db.ks
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        ks.notify("s", "srem", key, db.id)
        if not s:
            db.delete_notify(key)
    return resp.integer(n)


@command("scard", 2, "readonly fast", "@read @set @fast", keys=(1, 1, 1))
def scard(c: Session, argv: list[bytes]) -> bytes:
    s = _read(c, argv[1])
    return resp.integer(0 if s is None else len(s))


@command("sismember", 3, "readonly fast", "@read @set @fast", keys=(1, 1, 1))
def sismember(c: Session, argv: list[bytes]) -> bytes:
    s = _read(c, argv[1])
    return resp.ONE if s is not None and argv[2] in s else resp.ZERO


@command("smismember", -3, "readonly fast", "@read @set @fast", keys=(1, 1, 1))
def smismember(c: Session, argv: list[bytes]) -> bytes:
    s = _read(c, argv[1])
    if s is None:
        return b"*%d\r\n%s" % (len(argv) - 2, resp.ZERO * (len(argv) - 2))
    return b"*%d\r\n%s" % (len(argv) - 2, b"".join([resp.ONE if m in s else resp.ZERO for m in argv[2:]]))


@command("smembers", 2, "readonly", "@read @set @slow", keys=(1, 1, 1))
def smembers(c: Session, argv: list[bytes]) -> bytes:
    s = _read(c, argv[1])
    if s is None:
        return c.r.set_header(0)
    return _members_reply(c, s.members())


@command("srandmember", -2, "readonly", "@read @set @slow", keys=(1, 1, 1))
def srandmember(c: Session, argv: list[bytes]) -> bytes:
    rng = c.srv.rng
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        s = _read(c, argv[1])
        if s is None:
            return c.r.null
        i = rng.randrange(len(s))
        if s.intset:  # small, and in Redis's intset order
            return resp.bulk(s.members()[i])
        return resp.bulk(next(islice(s, i, None)))  # no copy of a big set's members
    count = parse_int(argv[2])
    if count < -LLONG_MAX:
        raise CommandError(LONG_RANGE)
    s = _read(c, argv[1])
    if s is None or count == 0:
        return resp.EMPTY_ARRAY
    ms = s.members()
    if count < 0:
        n = len(ms)
        return resp.bulks([ms[rng.randrange(n)] for _ in range(-count)])
    if count >= len(ms):
        return resp.bulks(ms)
    return resp.bulks(rng.sample(ms, count))


@command("spop", -2, "write fast", "@write @set @fast", keys=(1, 1, 1))
def spop(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    ks = db.ks
    if len(argv) == 2:
        s = _read(c, key, True)
        if s is None:
            return c.r.null
        if len(s) <= 128:
            ms = list(s)
            m = ms[c.srv.rng.randrange(len(ms))]
            s.discard(m)
        else:
            m = s.pop()  # big set: an arbitrary member in O(1) (hash order)
        ks.signal_modified(db, key, True, SIZE_COLLECTION)
        if ks.notifying:
            ks.notify("s", "spop", key, db.id)
        if not s:
            db.delete_notify(key)
        c.propagate([b"SREM", key, m])
        return b"$%d\r\n%s\r\n" % (len(m), m)
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    count = parse_int(argv[2], MUST_BE_POSITIVE)
    if count < 0:
        raise CommandError(MUST_BE_POSITIVE)
    s = _read(c, key, True)
    if s is None or count == 0:
        return c.r.set_header(0)
    if count >= len(s):
        ms = s.members()
        db.delete(key)
        ks.signal_modified(db, key)
        ks.notify("s", "spop", key, db.id)
        ks.notify("g", "del", key, db.id)
        c.propagate([b"DEL", key])
        return _members_reply(c, ms)
    picked = c.srv.rng.sample(s.members() if s.intset else list(s), count)
    s.difference_update(picked)
    ks.signal_modified(db, key)
    ks.notify("s", "spop", key, db.id)
    c.propagate([b"SREM", key, *picked])
    return _members_reply(c, picked)


@command("smove", 4, "write fast", "@write @set @fast", keys=(1, 2, 1))
def smove(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    src, dst, m = argv[1], argv[2], argv[3]
    ss = db.lookup_write(src)
    ds = db.lookup_write(dst)
    if ss is None:
        return resp.ZERO
    if type(ss) is not Set or (ds is not None and type(ds) is not Set):
        raise CommandError(_WRONGTYPE)
    if ss is ds:
        return resp.ONE if m in ss else resp.ZERO
    if m not in ss:
        return resp.ZERO
    ss.discard(m)
    ks = db.ks
    ks.notify("s", "srem", src, db.id)
    if not ss:
        db.delete_notify(src)
    if ds is None:
        ds = Set.new_for(m, _max_intset(c))
        db.add(dst, ds)
    ks.signal_modified(db, src)
    if ds.add_member(m, _max_intset(c)):
        ks.signal_modified(db, dst)
        ks.notify("s", "sadd", dst, db.id)
    return resp.ONE


# -- algebra -------------------------------------------------------------------------------
def _load(c: Session, keys: list[bytes]) -> list[Set | None]:
    out = []
    for k in keys:
        out.append(_read(c, k))
    return out


def _store(c: Session, dst: bytes, members: list[bytes], event: str) -> bytes:
    db = c.db
    ks = db.ks
    if not members:
        db.remove(dst)
        return resp.ZERO
    s = build_set(members, _max_intset(c))
    db.set(dst, s)
    ks.signal_modified(db, dst)
    ks.notify("s", event, dst, db.id)
    return resp.integer(len(s))


def _inter(sets: list[Set], limit: int = 0) -> list[bytes]:
    sets = sorted(sets, key=len)
    first = sets[0]
    rest = sets[1:]
    out = []
    for m in first.members() if first.intset else first:
        for s in rest:
            if m not in s:
                break
        else:
            out.append(m)
            if limit and len(out) >= limit:
                break
    return out


def _sinter(c: Session, keys: list[bytes], dst: bytes | None) -> bytes:
    sets = _load(c, keys)
    if any(s is None for s in sets):
        if dst is not None:
            return _store(c, dst, [], "sinterstore")
        return c.r.set_header(0)
    out = _inter(sets)  # type: ignore[arg-type]
    if dst is not None:
        return _store(c, dst, out, "sinterstore")
    return _members_reply(c, out)


@command("sinter", -2, "readonly", "@read @set @slow", keys=(1, -1, 1))
def sinter(c: Session, argv: list[bytes]) -> bytes:
    return _sinter(c, argv[1:], None)


@command("sinterstore", -3, "write denyoom", "@write @set @slow", keys=(1, -1, 1))
def sinterstore(c: Session, argv: list[bytes]) -> bytes:
    return _sinter(c, argv[2:], argv[1])


def numkeys_positions(argv: list[bytes], first: int = 1) -> list[int]:
    try:
        n = int(argv[first])
    except (ValueError, IndexError):
        return []
    if n <= 0 or first + n >= len(argv):
        return []
    return list(range(first + 1, first + 1 + n))


@command("sintercard", -3, "readonly", "@read @set @slow", keys_fn=numkeys_positions)
def sintercard(c: Session, argv: list[bytes]) -> bytes:
    try:
        numkeys = parse_int(argv[1])
    except CommandError:
        raise CommandError(NUMKEYS_GT0) from None
    if numkeys <= 0:
        raise CommandError(NUMKEYS_GT0)
    if numkeys > len(argv) - 2:
        raise CommandError(TOO_MANY_KEYS)
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            try:
                limit = parse_int(argv[i + 1])
            except CommandError:
                raise CommandError(LIMIT_NEGATIVE) from None
            if limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    sets = _load(c, argv[2 : 2 + numkeys])
    if any(s is None for s in sets):
        return resp.ZERO
    return resp.integer(len(_inter(sets, limit)))  # type: ignore[arg-type]


def _union_diff(c: Session, keys: list[bytes], dst: bytes | None, diff: bool) -> bytes:
    sets = _load(c, keys)
    if diff:
        first = sets[0]
        if first is None:
            res: set[bytes] = set()
        else:
            res = set(first)
            for s in sets[1:]:
                if s is not None:
                    res.difference_update(s)
                    if not res:
                        break
    else:
        res = set()
        for s in sets:
            if s is not None:
                res.update(s)
    if dst is not None:
        return _store(c, dst, list(res), "sdiffstore" if diff else "sunionstore")
    out = build_set(list(res), _max_intset(c))
    return _members_reply(c, out.members())


@command("sunion", -2, "readonly", "@read @set @slow", keys=(1, -1, 1))
def sunion(c: Session, argv: list[bytes]) -> bytes:
    return _union_diff(c, argv[1:], None, False)


@command("sunionstore", -3, "write denyoom", "@write @set @slow", keys=(1, -1, 1))
def sunionstore(c: Session, argv: list[bytes]) -> bytes:
    return _union_diff(c, argv[2:], argv[1], False)


@command("sdiff", -2, "readonly", "@read @set @slow", keys=(1, -1, 1))
def sdiff(c: Session, argv: list[bytes]) -> bytes:
    return _union_diff(c, argv[1:], None, True)


@command("sdiffstore", -3, "write denyoom", "@write @set @slow", keys=(1, -1, 1))
def sdiffstore(c: Session, argv: list[bytes]) -> bytes:
    return _union_diff(c, argv[2:], argv[1], True)


@command("sscan", -3, "readonly", "@read @set @slow", keys=(1, 1, 1))
def sscan(c: Session, argv: list[bytes]) -> bytes:
    cursor = scan.parse_cursor(argv[2])
    s = _read(c, argv[1])
    if s is None:
        return scan.reply(0, [])
    opts = scan.parse_options(argv, 3)
    match = opts.match
    if s.intset:
        return scan.reply(0, [resp.bulk(m) for m in s.members() if match(m)])
    nxt, ms = scan.scan_step(s, s, cursor, opts.count)
    return scan.reply(nxt, [resp.bulk(m) for m in ms if m in s and match(m)])
