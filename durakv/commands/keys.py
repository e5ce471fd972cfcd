"""Generic key commands (Redis's "keyspace" group): existence, type, iteration, renaming,
copying and moving keys, databases, expiry, OBJECT.

Every command follows Redis 7.0's ``db.c`` / ``expire.c`` / ``object.c`` step by step:
order of checks, error texts, reply shapes, keyspace events and ``dirty`` accounting.

Effects for the log: the EXPIRE family becomes ``PEXPIREAT key <abs-ms> [flags]`` (or
``DEL key`` / ``UNLINK key`` when the time is already past); RENAME, COPY, MOVE, SWAPDB,
FLUSHDB, FLUSHALL, PERSIST, DEL and UNLINK are deterministic and logged as given.

Lookups mirror Redis's flavours: ``read_nottl`` (lookupKeyReadWithFlags NOTOUCH: hit/miss
stats and the keymiss event, no LRU touch) for EXISTS TYPE TTL SCAN-TYPE, ``db.lookup``
(touch) for TOUCH and COPY's source, ``db.lookup_write`` for the writers.  RENAME and
MOVE carry the key's LRU/LFU data with it (Redis moves the object); COPY starts fresh.

SCAN cursors: see :mod:`durakv.keyspace.scan` (hash-ordered snapshots with a safe
fallback).  RANDOMKEY keeps, for large databases, a cached key list that is refreshed
when it goes stale, so a pick costs O(1) instead of copying the key set.

Known differences: string values are plain bytes, so OBJECT ENCODING judges them by
content (strings Redis builds in place — APPEND to an existing key, SETRANGE, SETBIT,
BITOP — are "raw" in Redis whatever their content), OBJECT REFCOUNT of a COPY of a small
integer is 1 in Redis, and OBJECT IDLETIME is only tracked under an LRU policy.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..clock import make_rng
from ..errors import CommandError, fmt_arg, sanitize
from ..keyspace import Database, eviction, type_name
from ..keyspace.scan import matcher, parse_cursor, parse_options, reply, scan_step
from ..protocol import resp
from ..session import Session
from ..spec import command, container
from ._util import LLONG_MAX, parse_int

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
OBJ_SHARED_REFCOUNT = 2147483647
OBJ_SHARED_INTEGERS = 10000
EMBSTR_SIZE_LIMIT = 44

_NX = 1
_XX = 2
_GT = 4
_LT = 8


def _get_int(b: bytes, msg: str | None = None) -> int:
    """Redis's getIntFromObjectOrReply (range check against C int)."""
    v = parse_int(b, msg or errors.NOT_INTEGER)
    if v < INT_MIN or v > INT_MAX:
        raise CommandError(msg or "ERR value is out of range, value must between %d and %d" % (INT_MIN, INT_MAX))
    return v


def _db_by_index(c: Session, idx: int) -> Database:
    dbs = c.srv.ks.dbs
    if idx < 0 or idx >= len(dbs):
        raise CommandError(errors.INVALID_DB)
    return dbs[idx]


def _carry_access(dst: Database, dkey: bytes, access: Any) -> None:
    """Keep a moved object's LRU/LFU data (Redis moves the object, with its lru field)."""
    if access is not None:
        dst.access[dkey] = access


def read_nottl(db: Database, key: bytes) -> Any:
    """Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): lazy expiry, hit/miss stats and the
    keymiss event, but no LRU/LFU touch (EXISTS, TYPE, TTL, SCAN TYPE ...)."""
    v = db.lookup_nottl(key)
    ks = db.ks
    if v is None:
        ks.stat_misses += 1
        ks.notify("m", "keymiss", key, db.id)
    else:
        ks.stat_hits += 1
    return v


def _lookup_write(db: Database, key: bytes) -> Any:
    """Redis's lookupKeyWrite (lazy expiry, LRU touch, no stats, no keymiss)."""
    return db.lookup_write(key)


# -- DEL UNLINK EXISTS TYPE TOUCH ----------------------------------------------------------


def _delete_keys(c: Session, argv: list[bytes], lazy: bool = False) -> bytes:
    db = c.db
    n = 0
    for key in argv[1:]:
        if lazy:
            v = db.data.get(key)
            if v is not None and free_effort(v, c.srv.config) > LAZYFREE_THRESHOLD:
                c.srv.stats.lazyfreed_objects += 1
        if db.remove(key):
            n += 1
    return resp.integer(n)


LAZYFREE_THRESHOLD = 64  # Redis frees values costlier than this in a background thread


def free_effort(v: Any, config: Any) -> int:
    """Redis's lazyfreeGetFreeEffort: about how many allocations freeing ``v`` takes."""
    if type(v) is bytes:
        return 1
    kind = v.type_name
    if kind == "list":
        if len(v) <= LAZYFREE_THRESHOLD:
            return len(v)  # a quicklist node holds one element at least
        from ..durability.rdb import _list_nodes

        return len(_list_nodes(list(v), config["list-max-listpack-size"]))
    if kind == "stream":
        effort = len(v.nodes)
        if v.groups:
            first = next(iter(v.groups.values()))
            effort += len(v.groups) * (1 + len(first.pel))
        return effort
    if v.encoding(config) in ("hashtable", "skiplist"):
        return len(v)
    return 1


@command("del", -2, "write", "@keyspace @write @slow", keys=(1, -1, 1))
def del_(c: Session, argv: list[bytes]) -> bytes:
    return _delete_keys(c, argv, c.srv.config["lazyfree-lazy-user-del"])


@command("unlink", -2, "write fast", "@keyspace @write @fast", keys=(1, -1, 1))
def unlink(c: Session, argv: list[bytes]) -> bytes:
    return _delete_keys(c, argv, True)


@command("exists", -2, "readonly fast", "@keyspace @read @fast", keys=(1, -1, 1))
def exists(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    n = 0
    for k in argv[1:]:
        if read_nottl(db, k) is not None:
            n += 1
    return resp.integer(n)


@command("type", 2, "readonly fast", "@keyspace @read @fast", keys=(1, 1, 1))
def type_(c: Session, argv: list[bytes]) -> bytes:
    v = read_nottl(c.db, argv[1])
    if v is None:
        return b"+none\r\n"
    if type(v) is bytes:
        return b"+string\r\n"
    return b"+%s\r\n" % v.type_name.encode()


@command("touch", -2, "readonly fast", "@keyspace @read @fast", keys=(1, -1, 1))
def touch(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    n = 0
    for k in argv[1:]:
        if db.lookup(k) is not None:
            n += 1
    return resp.integer(n)


# -- KEYS SCAN RANDOMKEY DBSIZE ------------------------------------------------------------


def _live(db: Database, keys: list[bytes]) -> list[bytes]:
    """Drop keys whose time passed (Redis's keyIsExpired; they are not deleted here)."""
    exp = db.expires
    if not exp:
        return keys
    now = db.ks.clock.now_ms()
    out = []
    for k in keys:
        w = exp.get(k)
        if w is None or w > now:
            out.append(k)
    return out


@command("keys", 2, "readonly whole_keyspace", "@keyspace @read @slow @dangerous")
def keys(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    pattern = argv[1]
    if pattern == b"*":
        found = list(db.data)
    else:
        m = matcher(pattern)
        found = [k for k in db.data if m(k)]
    return resp.bulks(_live(db, found))


@command("scan", -2, "readonly whole_keyspace", "@keyspace @read @slow")
def scan(c: Session, argv: list[bytes]) -> bytes:
    cursor = parse_cursor(argv[1])
    opts = parse_options(argv, 2, allow_type=True)
    db = c.db
    data = db.data
    nxt, cand = scan_step(data, data, cursor, opts.count)
    match = None if opts.pattern is None or opts.pattern == b"*" else opts.match
    want = opts.type
    exp = db.expires
    out = []
    for k in cand:
        if match is not None and not match(k):
            continue
        if want is not None:
            v = read_nottl(db, k)
            tn = b"none" if v is None else (b"string" if type(v) is bytes else v.type_name.encode())
            if tn != want:
                continue
            if v is None:  # deleted just now by the type check: Redis still lists it
                out.append(resp.bulk(k))
                continue
        if exp and k in exp and db.lookup_nottl(k) is None:
            continue
        out.append(resp.bulk(k))
    return reply(nxt, out)


@command("dbsize", 1, "readonly fast whole_keyspace", "@keyspace @read @fast")
def dbsize(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(len(c.db.data))


_RANDOM_SMALL = 2048
# per database: (the data dict the list was built from, the key list, misses since built)
_random_cache: dict[int, list[Any]] = {}


def _rng(c: Session) -> Any:
    rng = c.srv.rng
    if rng is None:
        rng = c.srv.rng = make_rng()
    return rng


def _pick(db: Database, rng: Any) -> bytes | None:
    data = db.data
    n = len(data)
    if n == 0:
        return None
    if n <= _RANDOM_SMALL:
        _random_cache.pop(id(db), None)
        return rng.choice(list(data))
    ent = _random_cache.get(id(db))
    if ent is None or ent[0] is not data or ent[2] > 8 or abs(len(ent[1]) - n) > n // 4:
        ent = [data, list(data), 0]
        _random_cache[id(db)] = ent
    lst = ent[1]
    while True:
        k = rng.choice(lst)
        if k in data:
            return k
        ent[2] += 1
        if ent[2] > 8:
            ent[1] = lst = list(data)
            ent[2] = 0


@command("randomkey", 1, "readonly whole_keyspace", "@keyspace @read @slow")
def randomkey(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    rng = _rng(c)
    tries = 100
    allvolatile = len(db.data) == len(db.expires)
    while True:
        k = _pick(db, rng)
        if k is None:
            return c.r.null
        if db.expires and k in db.expires:
            if allvolatile and not db.ks.expire_allowed:
                tries -= 1
                if tries == 0:
                    return resp.bulk(k)
            if db.lookup_nottl(k) is None:
                continue
            if not db.ks.expire_allowed and db.is_logically_expired(k):
                continue
        return resp.bulk(k)


# -- FLUSHDB FLUSHALL SWAPDB -----------------------------------------------------------------


def _flush_args(c: Session, argv: list[bytes], dbs: list[Database]) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"sync", b"async")):
        raise CommandError(errors.SYNTAX)
    lazy = argv[1].lower() == b"async" if len(argv) == 2 else c.srv.config["lazyfree-lazy-user-flush"]
    if lazy:  # Redis frees the emptied databases in the background: every key counts
        c.srv.stats.lazyfreed_objects += sum(len(db.data) for db in dbs)


@command("flushdb", -1, "write", "@keyspace @write @slow @dangerous")
def flushdb(c: Session, argv: list[bytes]) -> bytes:
    _flush_args(c, argv, [c.db])
    c.srv.ks.signal_flush(c.db.id)
    c.db.clear()
    _random_cache.pop(id(c.db), None)
    return resp.OK


@command("flushall", -1, "write", "@keyspace @write @slow @dangerous")
def flushall(c: Session, argv: list[bytes]) -> bytes:
    ks = c.srv.ks
    _flush_args(c, argv, ks.dbs)
    ks.signal_flush(-1)
    for db in ks.dbs:
        db.clear()
    _random_cache.clear()
    from ..keyspace.scan import SCANNER

    SCANNER.clear()
    return resp.OK


@command("swapdb", 3, "write fast", "@keyspace @write @fast @dangerous")
def swapdb(c: Session, argv: list[bytes]) -> bytes:
    if c.srv.cluster is not None:
        raise CommandError("ERR SWAPDB is not allowed in cluster mode")
    id1 = _get_int(argv[1], "ERR invalid first DB index")
    id2 = _get_int(argv[2], "ERR invalid second DB index")
    ks = c.srv.ks
    if id1 < 0 or id1 >= len(ks.dbs) or id2 < 0 or id2 >= len(ks.dbs):
        raise CommandError(errors.INVALID_DB)
    ks.swap_dbs(id1, id2)
    _random_cache.pop(id(ks.dbs[id1]), None)
    _random_cache.pop(id(ks.dbs[id2]), None)
    bl = c.srv.blocking
    if bl is not None and bl.keys and id1 != id2:
        # Redis's scanDatabaseForReadyKeys: clients blocked on a key that now exists
        for dbid, key in list(bl.keys):
            if (dbid == id1 or dbid == id2) and key in ks.dbs[dbid].data:
                bl.signal(dbid, key)
    return resp.OK


# -- RENAME RENAMENX COPY MOVE ---------------------------------------------------------------


def _rename(c: Session, argv: list[bytes], nx: bool) -> bytes:
    db = c.db
    ks = db.ks
    src, dst = argv[1], argv[2]
    v = _lookup_write(db, src)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    if src == dst:
        return resp.ZERO if nx else resp.OK
    expire = db.expires.get(src)
    if _lookup_write(db, dst) is not None:
        if nx:
            return resp.ZERO
        db.delete(dst)
    access = db.access.get(src)
    enc = db.str_enc.get(src)  # the object moves as it is, encoding included
    db.delete(src)
    db.add(dst, v)
    if enc is not None:
        db.str_enc[dst] = enc
    if expire is not None:
        db.set_expire(dst, expire)
    _carry_access(db, dst, access)
    ks.signal_modified(db, src, count=False)
    ks.signal_modified(db, dst)
    ks.notify("g", "rename_from", src, db.id)
    ks.notify("g", "rename_to", dst, db.id)
    return resp.ONE if nx else resp.OK


@command("rename", 3, "write", "@keyspace @write @slow", keys=(1, 2, 1))
def rename(c: Session, argv: list[bytes]) -> bytes:
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", "@keyspace @write @fast", keys=(1, 2, 1))
def renamenx(c: Session, argv: list[bytes]) -> bytes:
    return _rename(c, argv, True)


@command("copy", -3, "write denyoom", "@keyspace @write @slow", keys=(1, 2, 1))
def copy(c: Session, argv: list[bytes]) -> bytes:
    src = c.db
    dst = c.db
    replace = False
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and n - j - 1 >= 1:
            dst = _db_by_index(c, _get_int(argv[j + 1]))
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    if c.srv.cluster is not None and (src.id != 0 or dst.id != 0):
        raise CommandError("ERR Copying to another database is not allowed in cluster mode")
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise CommandError(errors.SAME_OBJECT)
    v = src.lookup(key)
    if v is None:
        return resp.ZERO
    expire = src.expires.get(key)
    delete = False
    if _lookup_write(dst, newkey) is not None:
        if not replace:
            return resp.ZERO
        delete = True
    newv = v if type(v) is bytes else v.copy()
    if delete:
        dst.delete(newkey)
    dst.add(newkey, newv)
    enc = src.str_enc.get(key)
    if enc is not None:  # dupStringObject keeps a raw string raw, an embstr an embstr
        dst.str_enc[newkey] = enc
    if expire is not None:
        dst.set_expire(newkey, expire)
    ks = src.ks
    ks.signal_modified(dst, newkey)
    ks.notify("g", "copy_to", newkey, dst.id)
    return resp.ONE


@command("move", 3, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def move(c: Session, argv: list[bytes]) -> bytes:
    if c.srv.cluster is not None:
        raise CommandError("ERR MOVE is not allowed in cluster mode")
    src = c.db
    dst = _db_by_index(c, _get_int(argv[2]))
    if src is dst:
        raise CommandError(errors.SAME_OBJECT)
    key = argv[1]
    v = _lookup_write(src, key)
    if v is None:
        return resp.ZERO
    expire = src.expires.get(key)
    if _lookup_write(dst, key) is not None:
        return resp.ZERO
    access = src.access.get(key)
    dst.add(key, v)
    enc = src.str_enc.get(key)
    if enc is not None:
        dst.str_enc[key] = enc
    if expire is not None:
        dst.set_expire(key, expire)
    _carry_access(dst, key, access)
    src.delete(key)
    ks = src.ks
    ks.signal_modified(src, key, count=False)
    ks.signal_modified(dst, key)
    ks.notify("g", "move_from", key, src.id)
    ks.notify("g", "move_to", key, dst.id)
    return resp.ONE


# -- EXPIRE family ---------------------------------------------------------------------------


def _expire_flags(argv: list[bytes]) -> int:
    """Redis's parseExtendedExpireArgumentsOrReply."""
    flags = 0
    for a in argv[3:]:
        o = a.lower()
        if o == b"nx":
            flags |= _NX
        elif o == b"xx":
            flags |= _XX
        elif o == b"gt":
            flags |= _GT
        elif o == b"lt":
            flags |= _LT
        else:
            raise CommandError(sanitize("ERR Unsupported option %s" % fmt_arg(a.split(b"\0", 1)[0], 1 << 30)))
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire_generic(c: Session, argv: list[bytes], name: str, relative: bool, seconds: bool) -> bytes:
    flags = _expire_flags(argv)
    when = parse_int(argv[2])
    if seconds:
        if when > LLONG_MAX // 1000 or when < -(LLONG_MAX // 1000):
            raise CommandError(errors.INVALID_EXPIRE.format(name))
        when *= 1000
    basetime = c.srv.clock.now_ms() if relative else 0
    if when > LLONG_MAX - basetime:
        raise CommandError(errors.INVALID_EXPIRE.format(name))
    when += basetime
    db = c.db
    key = argv[1]
    if _lookup_write(db, key) is None:
        return resp.ZERO
    if flags:
        cur = db.expires.get(key)
        if flags & _NX and cur is not None:
            return resp.ZERO
        if flags & _XX and cur is None:
            return resp.ZERO
        if flags & _GT and (cur is None or when <= cur):
            return resp.ZERO
        if flags & _LT and cur is not None and when >= cur:
            return resp.ZERO
    ks = db.ks
    if when <= c.srv.clock.now_ms() and not c.replaying and not c.srv.loading and c.srv.role == "master":
        db.delete(key)
        lazy = c.srv.config["lazyfree-lazy-expire"]
        c.propagate([b"UNLINK" if lazy else b"DEL", key])
        ks.signal_modified(db, key)
        ks.notify("g", "del", key, db.id)
        return resp.ONE
    db.set_expire(key, when)
    if not c.replaying:
        c.propagate([b"PEXPIREAT", key, b"%d" % when, *argv[3:]])
    ks.signal_modified(db, key)
    ks.notify("g", "expire", key, db.id)
    return resp.ONE


@command("expire", -3, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def expire(c: Session, argv: list[bytes]) -> bytes:
    return _expire_generic(c, argv, "expire", True, True)


@command("pexpire", -3, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def pexpire(c: Session, argv: list[bytes]) -> bytes:
    return _expire_generic(c, argv, "pexpire", True, False)


@command("expireat", -3, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def expireat(c: Session, argv: list[bytes]) -> bytes:
    return _expire_generic(c, argv, "expireat", False, True)


@command("pexpireat", -3, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def pexpireat(c: Session, argv: list[bytes]) -> bytes:
    return _expire_generic(c, argv, "pexpireat", False, False)


def _ttl_generic(c: Session, argv: list[bytes], ms: bool, absolute: bool) -> bytes:
    db = c.db
    key = argv[1]
    if read_nottl(db, key) is None:
        return resp.NEG_TWO
    when = db.expires.get(key)
    if when is None:
        return resp.NEG_ONE
    ttl = when if absolute else when - c.srv.clock.now_ms()
    if ttl < 0:
        ttl = 0
    return resp.integer(ttl if ms else (ttl + 500) // 1000)


@command("ttl", 2, "readonly fast", "@keyspace @read @fast", keys=(1, 1, 1))
def ttl(c: Session, argv: list[bytes]) -> bytes:
    return _ttl_generic(c, argv, False, False)


@command("pttl", 2, "readonly fast", "@keyspace @read @fast", keys=(1, 1, 1))
def pttl(c: Session, argv: list[bytes]) -> bytes:
    return _ttl_generic(c, argv, True, False)


@command("expiretime", 2, "readonly fast", "@keyspace @read @fast", keys=(1, 1, 1))
def expiretime(c: Session, argv: list[bytes]) -> bytes:
    return _ttl_generic(c, argv, False, True)


@command("pexpiretime", 2, "readonly fast", "@keyspace @read @fast", keys=(1, 1, 1))
def pexpiretime(c: Session, argv: list[bytes]) -> bytes:
    return _ttl_generic(c, argv, True, True)


@command("persist", 2, "write fast", "@keyspace @write @fast", keys=(1, 1, 1))
def persist(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    if _lookup_write(db, key) is None or not db.persist(key):
        return resp.ZERO
    db.ks.signal_modified(db, key)
    db.ks.notify("g", "persist", key, db.id)
    return resp.ONE


# -- OBJECT ------------------------------------------------------------------------------------

container("object", -2, "@slow")

_OBJECT_HELP = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]
_OBJECT_HELP_REPLY = resp.array([b"+%s\r\n" % line for line in _OBJECT_HELP])

_LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
_LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)


def _int_value(v: bytes) -> int | None:
    """The integer a string holds when Redis would encode it as 'int' (string2l), else None."""
    n = len(v)
    if n == 0 or n > 20:
        return None
    try:
        return parse_int(v)
    except CommandError:
        return None


def string_encoding(v: bytes) -> str:
    """OBJECT ENCODING of a string value as Redis's tryObjectEncoding decides it.

    Values are plain bytes, so strings Redis builds in place (APPEND to an existing key,
    SETRANGE, SETBIT, BITOP, BITFIELD: always "raw") are judged by content like a SET
    would be; HyperLogLogs (a "HYLL" header) are recognised and reported "raw"."""
    if _int_value(v) is not None:
        return "int"
    if len(v) > EMBSTR_SIZE_LIMIT or (len(v) >= 16 and v[:4] == b"HYLL" and v[4] < 2 and v[5:8] == b"\0\0\0"):
        return "raw"
    return "embstr"


def _lfu_policy(c: Session) -> bool:
    return "lfu" in c.srv.config["maxmemory-policy"]


def _object_lookup(c: Session, key: bytes) -> Any:
    """LOOKUP_NOTOUCH|LOOKUP_NONOTIFY: stats count, no keymiss event."""
    db = c.db
    v = db.lookup_nottl(key)
    if v is None:
        db.ks.stat_misses += 1
    else:
        db.ks.stat_hits += 1
    return v


# declared in the order Redis lists them in COMMAND INFO / COMMAND DOCS
@command("object|idletime", 3, "readonly", "@keyspace @read @slow", keys=(2, 2, 1))
def object_idletime(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[2]
    if _object_lookup(c, key) is None:
        return c.r.null
    if _lfu_policy(c):
        raise CommandError(_LFU_SELECTED)
    return resp.integer(eviction.idle_ms(c.srv, db, key) // 1000)


@command("object|refcount", 3, "readonly", "@keyspace @read @slow", keys=(2, 2, 1))
def object_refcount(c: Session, argv: list[bytes]) -> bytes:
    v = _object_lookup(c, argv[2])
    if v is None:
        return c.r.null
    if type(v) is bytes:
        iv = _int_value(v)
        if iv is not None and 0 <= iv < OBJ_SHARED_INTEGERS:
            cfg = c.srv.config
            policy = cfg["maxmemory-policy"]
            if cfg["maxmemory"] == 0 or not ("lru" in policy or "lfu" in policy):
                return resp.integer(OBJ_SHARED_REFCOUNT)
    return resp.ONE


@command("object|freq", 3, "readonly", "@keyspace @read @slow", keys=(2, 2, 1))
def object_freq(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[2]
    if _object_lookup(c, key) is None:
        return c.r.null
    if not _lfu_policy(c):
        raise CommandError(_LFU_NOT_SELECTED)
    return resp.integer(eviction.lfu_freq(c.srv, db, key))


@command("object|encoding", 3, "readonly", "@keyspace @read @slow", keys=(2, 2, 1))
def object_encoding(c: Session, argv: list[bytes]) -> bytes:
    v = _object_lookup(c, argv[2])
    if v is None:
        return c.r.null
    if type(v) is bytes:
        enc = c.db.str_enc.get(argv[2]) or string_encoding(v)
    else:
        enc = v.encoding(c.srv.config)
    return resp.bulk(enc.encode())


@command("object|help", 2, "loading stale", "@keyspace @slow")
def object_help(c: Session, argv: list[bytes]) -> bytes:
    return _OBJECT_HELP_REPLY


__all__ = ["string_encoding", "type_name"]
