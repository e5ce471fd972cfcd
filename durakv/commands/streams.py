"""Stream commands: XADD XRANGE XREAD, consumer groups, XPENDING/XCLAIM/XAUTOCLAIM, XINFO.

Semantics, reply shapes and error texts follow Redis 7.0 (t_stream.c).  Effects for the
log are deterministic: XADD logs the generated ID and an exact trim (``MAXLEN = n``),
XREADGROUP logs ``XGROUP CREATECONSUMER`` / ``XCLAIM ... TIME RETRYCOUNT FORCE JUSTID
LASTID`` / ``XGROUP SETID ... ENTRIESREAD`` as Redis propagates it, XCLAIM and XAUTOCLAIM
log one XCLAIM with explicit times per changed entry.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import errors
from ..errors import CommandError
from ..keyspace import SIZE_COLLECTION, Database
from ..protocol import resp
from ..session import Session
from ..spec import command, container
from ..types.stream import (
    INVALID_ENTRIES_READ,
    MAX64,
    MAXID,
    NACK,
    Consumer,
    Group,
    Stream,
    fmt_id,
)
from ._util import parse_int

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
XADD_SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
XADD_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
INVALID_START = "ERR invalid start ID for the interval"
INVALID_END = "ERR invalid end ID for the interval"

_XGROUP_HELP = [
    b"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CREATE <key> <groupname> <id|$> [option]",
    b"    Create a new consumer group. Options are:",
    b"    * MKSTREAM",
    b"      Create the empty stream if it does not exist.",
    b"    * ENTRIESREAD entries_read",
    b"      Set the group's entries_read counter (internal use).",
    b"CREATECONSUMER <key> <groupname> <consumer>",
    b"    Create a new consumer in the specified group.",
    b"DELCONSUMER <key> <groupname> <consumer>",
    b"    Remove the specified consumer.",
    b"DESTROY <key> <groupname>",
    b"    Remove the specified group.",
    b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    b"    Set the current group ID and entries_read counter.",
    b"HELP",
    b"    Prints this help.",
]
_XINFO_HELP = [
    b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
    b"HELP",
    b"    Prints this help.",
]


def _help(lines: list[bytes]) -> bytes:
    return resp.array([b"+%s\r\n" % ln for ln in lines])


def _subcmd_syntax(sub: bytes, cmd: str) -> CommandError:
    return CommandError(errors.sanitize(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(errors.fmt_arg(sub), cmd)))


# -- ID parsing (streamParseID with Redis's string2ull) ------------------------------------
def _strtoull(s: bytes) -> int | None:
    """Redis's string2ull: string2ll for non-negatives, else C strtoull rules."""
    if not s:
        return None
    i = 0
    n = len(s)
    while i < n and s[i] in b" \t\n\v\f\r":
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == 45
        i += 1
    j = i
    while j < n and 48 <= s[j] <= 57:
        j += 1
    if j == i or j != n:
        return None
    v = int(s[i:j])
    if v > MAX64:
        return None
    if neg:
        if s == b"-" + s[i:] and v != 0 and s[i] != 48:
            return None  # string2ll parsed a negative number
        v = (-v) & MAX64
    return v


def parse_id(b: bytes, missing_seq: int = 0, strict: bool = False) -> int:
    """An entry ID as streamParseIDOrReply; ``strict`` refuses the bare ``-`` and ``+``."""
    if len(b) > 127:
        raise CommandError(INVALID_ID)
    z = b.find(b"\0")
    if z >= 0:
        b = b[:z]
    if b == b"-":
        if strict:
            raise CommandError(INVALID_ID)
        return 0
    if b == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return MAXID
    dash = b.find(b"-")
    if dash >= 0:
        ms = _strtoull(b[:dash])
        seq = _strtoull(b[dash + 1:])
    else:
        ms = _strtoull(b)
        seq = missing_seq
    if ms is None or seq is None:
        raise CommandError(INVALID_ID)
    return (ms << 64) | seq


def _parse_interval(b: bytes, missing_seq: int) -> tuple[int, bool]:
    if len(b) > 1 and b[0] == 40:  # '('
        return parse_id(b[1:], missing_seq, strict=True), True
    return parse_id(b, missing_seq), False


def _range_bounds(start_arg: bytes, end_arg: bytes) -> tuple[int, int]:
    start, ex = _parse_interval(start_arg, 0)
    if ex:
        if start == MAXID:
            raise CommandError(INVALID_START)
        start += 1
    end, ex = _parse_interval(end_arg, MAX64)
    if ex:
        if end == 0:
            raise CommandError(INVALID_END)
        end -= 1
    return start, end


# -- reply helpers -------------------------------------------------------------------------
def _entry(sid: int, fields: list[bytes]) -> bytes:
    idb = fmt_id(sid)
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (
        len(idb), idb, len(fields), b"".join([b"$%d\r\n%s\r\n" % (len(f), f) for f in fields]))


def _entries(items: list[tuple[int, list[bytes]]]) -> bytes:
    return b"*%d\r\n%s" % (len(items), b"".join([_entry(i, f) for i, f in items]))


def _entries_at(s: Stream, lo: int, hi: int, rev: bool = False) -> bytes:
    """Entries at positions [lo, hi) as a RESP array, through the stream's encoding cache."""
    encs = s.encs
    chunk = encs[lo:hi]
    if None in chunk:
        ids = s.ids
        vals = s.vals
        if hi - lo <= 256:  # small reads (the hot ones) fill the cache; big scans do not
            for i in range(lo, hi):
                if encs[i] is None:
                    encs[i] = _entry(ids[i], vals[i])
            chunk = encs[lo:hi]
        else:
            chunk = [e if e is not None else _entry(ids[lo + j], vals[lo + j]) for j, e in enumerate(chunk)]
    if rev:
        chunk.reverse()
    return b"*%d\r\n%s" % (len(chunk), b"".join(chunk))  # type: ignore[arg-type]


def _after(s: Stream, gt: int, count: int) -> bytes:
    """The entries after ``gt`` (XREAD), at most ``count`` (0 = all)."""
    lo, hi = s.span(gt + 1, MAXID)
    if count and hi - lo > count:
        hi = lo + count
    return _entries_at(s, lo, hi)


def _bulk_id(sid: int) -> bytes:
    return resp.bulk(fmt_id(sid))


def _changed(db: Database, key: bytes, count: int = 1) -> None:
    """A change Redis 7.0 makes without signalModifiedKey (consumer-group state, XSETID):
    counted and logged, but WATCH and client-side caching are not invalidated."""
    ks = db.ks
    ks.dirty += count
    ks.modified.append((db.id, key))


def _get_stream(c: Session, key: bytes, write: bool = False) -> Stream | None:
    """The stream at ``key`` (Redis's lookupKeyRead, or lookupKeyWrite when ``write``)."""
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    if v is None:
        return None
    if type(v) is not Stream:
        raise CommandError(errors.WRONGTYPE)
    return v


def _eq(a: bytes, b: bytes) -> bool:
    return a.lower() == b


# -- XADD / XTRIM ---------------------------------------------------------------------------
class _TrimArgs:
    __slots__ = ("strategy", "approx", "maxlen", "minid", "limit", "nomkstream", "id", "seq_given",
                 "id_given", "idpos")

    def __init__(self) -> None:
        self.strategy = 0  # 0 none, 1 maxlen, 2 minid
        self.approx = False
        self.maxlen = 0
        self.minid = 0
        self.limit = 0
        self.nomkstream = False
        self.id = 0
        self.seq_given = True
        self.id_given = False
        self.idpos = 0


def _parse_trim_args(c: Session, argv: list[bytes], xadd: bool) -> _TrimArgs:
    a = _TrimArgs()
    n = len(argv)
    i = 2
    limit_given = False
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        lo = opt.lower()
        if xadd and opt == b"*":
            break
        if lo == b"maxlen" and more:
            if a.strategy:
                raise CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            a.maxlen = parse_int(argv[i + 1])
            if a.maxlen < 0:
                raise CommandError(MAXLEN_NEGATIVE)
            i += 1
            a.strategy = 1
        elif lo == b"minid" and more:
            if a.strategy:
                raise CommandError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            a.minid = parse_id(argv[i + 1], 0, strict=True)
            i += 1
            a.strategy = 2
        elif lo == b"limit" and more:
            a.limit = parse_int(argv[i + 1])
            if a.limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and lo == b"nomkstream":
            a.nomkstream = True
        elif xadd:
            dash = opt.find(b"-")
            if dash >= 0 and opt[dash + 1:] == b"*":
                ms = _strtoull(opt[:dash]) if len(opt) <= 127 else None
                if ms is None:
                    raise CommandError(INVALID_ID)
                a.id = ms << 64
                a.seq_given = False
            else:
                a.id = parse_id(opt, 0, strict=True)
            a.id_given = True
            break
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    a.idpos = i
    if a.limit and not a.strategy:
        raise CommandError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not a.strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.replaying:
        a.limit = 0
    elif limit_given:
        if not a.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif a.approx:
        a.limit = _default_limit(c.srv.config.values["stream-node-max-entries"])
    else:
        a.limit = 0
    return a


def _default_limit(max_entries: int) -> int:
    """The LIMIT of an approximate trim without one: 100 nodes' worth, as Redis."""
    lim = 100 * max_entries
    if lim <= 0:
        return 10000
    return min(lim, 1000000)


def _trim(s: Stream, a: _TrimArgs) -> int:
    if a.strategy == 1:
        return s.trim(False, a.maxlen, a.approx, a.limit)
    return s.trim(True, a.minid, a.approx, a.limit)


@command("xadd", -5, "write denyoom fast", "@write @stream @fast", keys=(1, 1, 1))
def xadd(c: Session, argv: list[bytes]) -> bytes:
    # the trim as locals: strategy 0 none, 1 MAXLEN, 2 MINID; threshold the length or the
    # ID; limit -1 for the default, computed only if a trim is due
    a = None
    strategy = 0
    approx = False
    threshold = limit = 0
    opt = argv[2]
    if opt == b"*":  # no options (Redis's parser stops at '*' too)
        idpos = 2
    elif (len(argv) >= 8 and argv[5] == b"*" and ((op := argv[3]) == b"~" or op == b"=")
          and (opt == b"MAXLEN" or opt.lower() == b"maxlen")):
        # the common ``MAXLEN ~|= n *``, parsed without _parse_trim_args
        idpos = 5
        strategy = 1
        approx = op == b"~"
        m = argv[4]
        # digits without a leading zero, below 10**18: parse_int would accept them as they are
        threshold = int(m) if m.isdigit() and m[0] != 48 and len(m) < 19 else parse_int(m)
        if threshold < 0:
            raise CommandError(MAXLEN_NEGATIVE)
        if approx and not c.replaying:
            limit = -1
    else:
        a = _parse_trim_args(c, argv, True)
        idpos = a.idpos
        strategy = a.strategy
        approx = a.approx
        threshold = a.maxlen if strategy == 1 else a.minid
        limit = a.limit
    n = len(argv) - idpos - 1
    if n < 2 or n & 1:
        raise CommandError(errors.WRONG_ARITY.format("xadd"))
    if a is not None and a.id_given and a.seq_given and a.id == 0:
        raise CommandError(XADD_ZERO)
    db = c.db
    key = argv[1]
    s = db.lookup_write(key)
    if s is None:
        if a is not None and a.nomkstream:
            return c.r.null
        s = Stream()
        new = True
    elif type(s) is not Stream:
        raise CommandError(errors.WRONGTYPE)
    else:
        new = False
    last = s.last_id
    if last == MAXID:
        raise CommandError(EXHAUSTED)
    if a is None or not a.id_given:
        ms = c.srv.clock.now_ms()
        if ms > last >> 64:
            sid = ms << 64
            idb = b"%d-0" % ms
        else:
            sid = last + 1  # seq overflow carries into ms, as streamIncrID
            idb = b"%d-%d" % (sid >> 64, sid & MAX64)
        gen = True
    else:
        sid = a.id
        gen = not a.seq_given
        if gen and sid >> 64 == last >> 64:
            if last & MAX64 == MAX64:
                raise CommandError("ERR Elements are too large to be stored")  # sic, as Redis 7.0
            sid = last + 1
        if sid <= last:
            raise CommandError(XADD_SMALLER)
        idb = fmt_id(sid)
    cfg = c.srv.config.values
    max_entries = cfg["stream-node-max-entries"]
    fields = argv[idpos + 1:]
    s.append(sid, fields, max_entries, cfg["stream-node-max-bytes"])
    if new:
        db.add(key, s)
    ks = db.ks
    ks.signal_modified(db, key, True, SIZE_COLLECTION)
    if ks.notifying:
        ks.notify("t", "xadd", key, db.id)
    if strategy:
        length = len(s.ids)
        # a MAXLEN trim removes nothing while the stream is within the length, nor, when
        # approximate, while dropping the first node would take it below: Stream.trim's
        # first step, without the call
        if strategy == 2 or not (length <= threshold or approx and length - s.nodes[0].live < threshold):
            if limit < 0:
                limit = _default_limit(max_entries)
            if s.trim(strategy == 2, threshold, approx, limit):
                ks.notify("t", "xtrim", key, db.id)
                length = len(s.ids)
        if approx:
            # the exact trim it came to, with the ID; encoded here (the log takes the bytes)
            nb = b"%d" % length
            if len(fields) == 2:  # one field-value pair: the whole record in one format
                f, v = fields
                c.propagate(b"*8\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$6\r\nMAXLEN\r\n$1\r\n=\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                            b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(nb), nb, len(idb), idb, len(f), f, len(v), v))
            else:
                c.propagate(b"*%d\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$6\r\nMAXLEN\r\n$1\r\n=\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n%s" % (
                    len(fields) + 6, len(key), key, len(nb), nb, len(idb), idb, resp.bulk_items(fields)))
        elif gen:
            eff = list(argv)
            eff[idpos] = idb
            c.propagate(eff)
    elif gen:
        eff = list(argv)
        eff[idpos] = idb
        c.propagate(eff)
    return b"$%d\r\n%s\r\n" % (len(idb), idb)


@command("xtrim", -4, "write", "@write @stream @slow", keys=(1, 1, 1))
def xtrim(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    a = _parse_trim_args(c, argv, False)  # Redis parses the arguments before the lookup
    s = _get_stream(c, key, True)
    if s is None:
        return resp.ZERO
    deleted = _trim(s, a)
    if deleted:
        db = c.db
        db.ks.notify("t", "xtrim", key, db.id)
        db.ks.signal_modified(db, key)
        db.ks.dirty += deleted - 1  # Redis: server.dirty += deleted
        if a.approx:
            c.propagate([b"XTRIM", key, b"MAXLEN", b"=", b"%d" % len(s)])
    return resp.integer(deleted)


# -- reads -----------------------------------------------------------------------------------
@command("xlen", 2, "readonly fast", "@read @stream @fast", keys=(1, 1, 1))
def xlen(c: Session, argv: list[bytes]) -> bytes:
    s = _get_stream(c, argv[1])
    return resp.integer(len(s) if s is not None else 0)


def _xrange(c: Session, argv: list[bytes], rev: bool) -> bytes:
    if rev:
        start, end = _range_bounds(argv[3], argv[2])
    else:
        start, end = _range_bounds(argv[2], argv[3])
    count = -1
    j = 4
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"count" and j + 1 < n:
            count = parse_int(argv[j + 1])
            if count < 0:
                count = 0
            j += 2
        else:
            raise CommandError(errors.SYNTAX)
    s = _get_stream(c, argv[1])
    if s is None:
        return resp.EMPTY_ARRAY
    if count == 0:
        return c.r.null_array
    lo, hi = s.span(start, end)
    if count > 0 and hi - lo > count:
        if rev:
            lo = hi - count
        else:
            hi = lo + count
    return _entries_at(s, lo, hi, rev)


@command("xrange", -4, "readonly", "@read @stream @slow", keys=(1, 1, 1))
def xrange_(c: Session, argv: list[bytes]) -> bytes:
    return _xrange(c, argv, False)


@command("xrevrange", -4, "readonly", "@read @stream @slow", keys=(1, 1, 1))
def xrevrange(c: Session, argv: list[bytes]) -> bytes:
    return _xrange(c, argv, True)


@command("xdel", -3, "write fast", "@write @stream @fast", keys=(1, 1, 1))
def xdel(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    s = _get_stream(c, key, True)
    if s is None:
        return resp.ZERO
    ids = [parse_id(x, 0, strict=True) for x in argv[2:]]
    deleted = 0
    for sid in ids:
        if s.delete(sid):
            deleted += 1
    if deleted:
        db = c.db
        db.ks.signal_modified(db, key)
        db.ks.dirty += deleted - 1  # Redis: server.dirty += deleted
        db.ks.notify("t", "xdel", key, db.id)
    return resp.integer(deleted)


@command("xsetid", -3, "write denyoom fast", "@write @stream @fast", keys=(1, 1, 1))
def xsetid(c: Session, argv: list[bytes]) -> bytes:
    sid = parse_id(argv[2], 0, strict=True)
    entries_added = -1
    max_xdel = 0
    i = 3
    n = len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_xdel = parse_id(argv[i + 1], 0, strict=True)
            if sid < max_xdel:
                raise CommandError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    key = argv[1]
    s = _get_stream(c, key, True)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    # Redis 7.0 does not compare the ID with the stream's current max_deleted_entry_id (7.2
    # added that check): setting the last ID below a deleted tail is accepted.
    if len(s):
        if sid < s.ids[-1]:
            raise CommandError("ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and len(s) > entries_added:
            raise CommandError(
                "ERR The entries_added specified in XSETID is smaller than the target stream length")
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel:
        s.max_deleted = max_xdel
    db = c.db
    _changed(db, key)
    db.ks.notify("t", "xsetid", key, db.id)
    return resp.OK


# -- consumer groups -------------------------------------------------------------------------
def _nogroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(errors.sanitize("NOGROUP No such key '%s' or consumer group '%s'" % (
        errors.fmt_arg(key, 1 << 30), errors.fmt_arg(group, 1 << 30))))


def _create_consumer(c: Session, g: Group, key: bytes, name: bytes, now: int) -> Consumer:
    cons = Consumer(name, now)
    g.consumers[name] = cons
    c.db.ks.dirty += 1
    c.db.ks.notify("t", "xgroup-createconsumer", key, c.db.id)
    return cons


def _lookup_consumer(c: Session, g: Group, key: bytes, name: bytes, now: int) -> Consumer:
    cons = g.consumers.get(name)
    if cons is None:
        return _create_consumer(c, g, key, name, now)
    cons.seen = now
    return cons


def _xclaim_effect(key: bytes, group: bytes, sid: int, nack: NACK, g: Group) -> list[bytes]:
    return [b"XCLAIM", key, group, nack.consumer.name, b"0", fmt_id(sid), b"TIME", b"%d" % nack.time,
            b"RETRYCOUNT", b"%d" % nack.count, b"FORCE", b"JUSTID", b"LASTID", fmt_id(g.last_id)]


def _setid_effect(key: bytes, group: bytes, g: Group) -> list[bytes]:
    return [b"XGROUP", b"SETID", key, group, fmt_id(g.last_id), b"ENTRIESREAD", b"%d" % g.entries_read]


container("xgroup", -2, "@slow")


def _xgroup_common(c: Session, argv: list[bytes], sub: bytes) -> tuple[Stream | None, bool, int]:
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    if sub in (b"create", b"setid"):
        i = 5
        n = len(argv)
        while i < n:
            opt = argv[i].lower()
            if sub == b"create" and opt == b"mkstream":
                mkstream = True
                i += 1
            elif opt == b"entriesread" and i + 1 < n:
                entries_read = parse_int(argv[i + 1])
                if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                    raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
                i += 2
            else:
                raise _subcmd_syntax(argv[1], "XGROUP")
    s = _get_stream(c, argv[2], True)
    if s is None and not mkstream:
        raise CommandError(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
            "to use the MKSTREAM option to create an empty stream automatically.")
    return s, mkstream, entries_read


def _group_or_error(s: Stream | None, key: bytes, name: bytes) -> Group:
    g = s.groups.get(name) if s is not None and s.groups else None
    if g is None:
        raise CommandError(errors.sanitize("NOGROUP No such consumer group '%s' for key name '%s'" % (
            errors.fmt_arg(name, 1 << 30), errors.fmt_arg(key, 1 << 30))))
    return g


@command("xgroup|create", -5, "write denyoom", "@write @stream @slow", keys=(2, 2, 1))
def xgroup_create(c: Session, argv: list[bytes]) -> bytes:
    s, mkstream, entries_read = _xgroup_common(c, argv, b"create")
    if len(argv) > 8:
        raise _subcmd_syntax(argv[1], "XGROUP")
    key = argv[2]
    if argv[4] == b"$":
        sid = s.last_id if s is not None else 0
    else:
        sid = parse_id(argv[4], 0, strict=True)
    db = c.db
    if s is None:
        s = Stream()
        db.add(key, s)
        db.ks.signal_modified(db, key, count=False)
    if s.groups is None:
        s.groups = {}
    name = argv[3]
    if name in s.groups:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    s.groups[name] = Group(name, sid, entries_read)
    _changed(db, key)
    db.ks.notify("t", "xgroup-create", key, db.id)
    return resp.OK


@command("xgroup|setid", -5, "write", "@write @stream @slow", keys=(2, 2, 1))
def xgroup_setid(c: Session, argv: list[bytes]) -> bytes:
    s, _, entries_read = _xgroup_common(c, argv, b"setid")
    g = _group_or_error(s, argv[2], argv[3])
    assert s is not None
    if len(argv) not in (5, 7):
        raise _subcmd_syntax(argv[1], "XGROUP")
    sid = s.last_id if argv[4] == b"$" else parse_id(argv[4], 0)
    g.last_id = sid
    g.entries_read = entries_read
    db = c.db
    _changed(db, argv[2])
    db.ks.notify("t", "xgroup-setid", argv[2], db.id)
    return resp.OK


@command("xgroup|destroy", 4, "write", "@write @stream @slow", keys=(2, 2, 1))
def xgroup_destroy(c: Session, argv: list[bytes]) -> bytes:
    s, _, _ = _xgroup_common(c, argv, b"destroy")
    assert s is not None
    if not s.groups or argv[3] not in s.groups:
        return resp.ZERO
    del s.groups[argv[3]]
    db = c.db
    _changed(db, argv[2])
    db.ks.notify("t", "xgroup-destroy", argv[2], db.id)
    return resp.ONE


@command("xgroup|createconsumer", 5, "write denyoom", "@write @stream @slow", keys=(2, 2, 1))
def xgroup_createconsumer(c: Session, argv: list[bytes]) -> bytes:
    s, _, _ = _xgroup_common(c, argv, b"createconsumer")
    g = _group_or_error(s, argv[2], argv[3])
    if argv[4] in g.consumers:
        return resp.ZERO
    _create_consumer(c, g, argv[2], argv[4], c.srv.clock.now_ms())
    _changed(c.db, argv[2], 0)
    return resp.ONE


@command("xgroup|delconsumer", 5, "write", "@write @stream @slow", keys=(2, 2, 1))
def xgroup_delconsumer(c: Session, argv: list[bytes]) -> bytes:
    s, _, _ = _xgroup_common(c, argv, b"delconsumer")
    g = _group_or_error(s, argv[2], argv[3])
    cons = g.consumers.pop(argv[4], None)
    if cons is None:
        return resp.ZERO
    for sid in cons.pel:
        g.pel.pop(sid, None)
    db = c.db
    _changed(db, argv[2])
    db.ks.notify("t", "xgroup-delconsumer", argv[2], db.id)
    return resp.integer(len(cons.pel))


@command("xgroup|help", 2, "loading stale", "@stream @slow")
def xgroup_help(c: Session, argv: list[bytes]) -> bytes:
    return _help(_XGROUP_HELP)


# -- XREAD / XREADGROUP ----------------------------------------------------------------------
def _streams_keys(startfrom: int) -> Callable[[list[bytes]], list[int]]:
    """Redis's key spec: keyword STREAMS searched from ``startfrom``, then half the rest."""

    def fn(argv: list[bytes]) -> list[int]:
        n = len(argv)
        for i in range(startfrom, n):
            if argv[i].lower() == b"streams":
                count = (n - i - 1) // 2
                return list(range(i + 1, i + 1 + count))
        return []

    return fn


class ReadRequest:
    """A parsed XREAD/XREADGROUP: what a blocked client waits for."""

    __slots__ = ("keys", "ids", "count", "group", "consumer", "noack", "timeout", "group_mode")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.ids: list[int] = []
        self.count = 0
        self.group: bytes | None = None
        self.consumer: bytes = b""
        self.noack = False
        self.timeout = -1
        self.group_mode = False


def _parse_xread(c: Session, argv: list[bytes], group_mode: bool) -> ReadRequest:
    rq = ReadRequest()
    rq.group_mode = group_mode
    n = len(argv)
    streams_arg = 0
    i = 1
    while i < n:
        more = n - i - 1
        o = argv[i].lower()
        if o == b"block" and more:
            if c.in_script:
                raise CommandError("ERR %s command is not allowed with BLOCK option from scripts"
                                   % argv[0].decode("latin-1"))
            i += 1
            rq.timeout = _parse_timeout_ms(argv[i])
        elif o == b"count" and more:
            i += 1
            rq.count = parse_int(argv[i])
            if rq.count < 0:
                rq.count = 0
        elif o == b"streams" and more:
            streams_arg = i + 1
            cnt = n - streams_arg
            if cnt % 2:
                raise CommandError(errors.XREAD_UNBALANCED)
            break
        elif o == b"group" and more >= 2:
            if not group_mode:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
            rq.group = argv[i + 1]
            rq.consumer = argv[i + 2]
            i += 2
        elif o == b"noack":
            if not group_mode:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
            rq.noack = True
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    if streams_arg == 0:
        raise CommandError(errors.SYNTAX)
    if group_mode and rq.group is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    cnt = (n - streams_arg) // 2
    rq.keys = argv[streams_arg:streams_arg + cnt]
    db = c.db
    for k in range(cnt):
        key = rq.keys[k]
        arg = argv[streams_arg + cnt + k]
        v = db.lookup(key)
        if v is not None and type(v) is not Stream:
            raise CommandError(errors.WRONGTYPE)
        if rq.group is not None:
            if v is None or not v.groups or rq.group not in v.groups:
                raise CommandError(errors.sanitize(
                    "NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
                    % (errors.fmt_arg(key, 1 << 30), errors.fmt_arg(rq.group, 1 << 30))))
        if arg == b"$":
            if group_mode:
                raise CommandError(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
                    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
                    "just return an empty result set.")
            rq.ids.append(v.last_id if v is not None else 0)
            continue
        if arg == b">":
            if not group_mode:
                raise CommandError(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
            rq.ids.append(MAXID)
            continue
        rq.ids.append(parse_id(arg, 0, strict=True))
    return rq


def _parse_timeout_ms(b: bytes) -> int:
    try:
        v = parse_int(b)
    except CommandError:
        raise CommandError("ERR timeout is not an integer or out of range") from None
    if v < 0:
        raise CommandError("ERR timeout is negative")
    return v


def _serve_group(c: Session, s: Stream, key: bytes, rq: ReadRequest, gt: int, history: bool,
                 count: int) -> bytes:
    """streamReplyWithRange for a group (new entries) or the consumer's PEL (history)."""
    assert rq.group is not None and s.groups is not None
    g = s.groups[rq.group]
    gname = rq.group
    now = c.srv.clock.now_ms()
    cons = _lookup_consumer(c, g, key, rq.consumer, now)
    if history:
        out = []
        start = gt + 1 if gt < MAXID else gt
        for sid in sorted(cons.pel):
            if sid < start:
                continue
            if count and len(out) >= count:
                break
            fields = s.get(sid)
            if fields is None:
                out.append(b"*2\r\n%s%s" % (_bulk_id(sid), c.r.null_array))
            else:
                nack = cons.pel[sid]
                nack.time = now
                nack.count += 1
                out.append(_entry(sid, fields))
                c.propagate(_xclaim_effect(key, gname, sid, nack, g))
        return resp.array(out)
    items = s.after(gt, count)
    moved = False
    for sid, _f in items:
        if sid > g.last_id:
            s.advance_group(g, sid)
            moved = True
        if not rq.noack:
            nack = g.pel.get(sid)
            if nack is None:
                nack = NACK(now, 1, cons)
                g.pel[sid] = nack
                cons.pel[sid] = nack
            else:
                del nack.consumer.pel[sid]
                nack.consumer = cons
                nack.time = now
                nack.count = 1
                cons.pel[sid] = nack
            c.propagate(_xclaim_effect(key, gname, sid, nack, g))
    if moved:
        c.propagate(_setid_effect(key, gname, g))
    return _entries(items)


def _propagate_creation(c: Session, key: bytes, rq: ReadRequest, g: Group) -> int:
    """XGROUP CREATECONSUMER for a consumer this read creates: its index in the effects
    (-1 when the consumer exists)."""
    if rq.consumer in g.consumers:
        return -1
    c.propagate([b"XGROUP", b"CREATECONSUMER", key, rq.group, rq.consumer])
    return len(c.effects) - 1  # type: ignore[arg-type]


def _drop_creation_if_claimed(c: Session, at: int) -> None:
    # Redis propagates the creation only for NOACK reads: otherwise the XCLAIMs that follow
    # create the consumer.  Kept here when nothing was claimed (a read of an empty
    # history), so that the consumer survives a restart.
    effects = c.effects
    if at >= 0 and effects is not None and len(effects) > at + 1 and effects[at + 1][1][0] == b"XCLAIM":
        del effects[at]


def _xread_serve(c: Session, rq: ReadRequest, count: int) -> bytes | None:
    """Serve what can be served now; None when nothing is available (block or null)."""
    db = c.db
    pairs: list[tuple[bytes, bytes]] = []
    group_mode = rq.group is not None
    for k, key in enumerate(rq.keys):
        s = db.lookup(key)
        if s is None or type(s) is not Stream:
            continue
        gt = rq.ids[k]
        if group_mode:
            assert rq.group is not None
            g = s.groups.get(rq.group) if s.groups else None
            if g is None:
                continue
            history = gt != MAXID
            serve = history
            if not history and s.ids and s.ids[-1] > g.last_id:
                serve = True
                gt = g.last_id
            if not serve:
                continue  # the consumer is created only when served (Redis 7.0)
            at = _propagate_creation(c, key, rq, g)
            body = _serve_group(c, s, key, rq, gt, history, count)
            _drop_creation_if_claimed(c, at)
            if c.effects:
                _changed(db, key)
            else:
                db.ks.dirty += 1  # Redis counts every group read it serves, even one changing nothing
            pairs.append((resp.bulk(key), body))
        else:
            if s.ids and s.ids[-1] > gt:
                pairs.append((resp.bulk(key), _after(s, gt, count)))
    if not pairs:
        return None
    if c.resp == 2:
        return resp.array([b"*2\r\n" + k + v for k, v in pairs])
    return c.r.map(pairs)


def _xread(c: Session, argv: list[bytes], group_mode: bool) -> bytes:
    rq = _parse_xread(c, argv, group_mode)
    reply = _xread_serve(c, rq, rq.count)
    if reply is not None:
        return reply
    if rq.timeout != -1:
        if c.in_exec or c.in_script or c.srv.blocking is None:
            return c.r.null_array
        return _block(c, rq)
    return c.r.null_array


XREAD_BLOCKED_DEFAULT_COUNT = 1000


def _block(c: Session, rq: ReadRequest) -> bytes:
    """Block until one of the keys gets entries beyond the requested IDs (or the timeout)."""
    count = rq.count or XREAD_BLOCKED_DEFAULT_COUNT
    index = {k: i for i, k in reversed(list(enumerate(rq.keys)))}
    # Redis wakes stream readers only when entries are added (or the key/group goes away),
    # not on other changes (XGROUP SETID, XACK ...): remember what each stream was
    db = c.db
    seen: dict[bytes, tuple[Stream, int] | None] = {}
    for key in index:
        v = db.data.get(key)
        seen[key] = (v, v.entries_added) if type(v) is Stream else None  # a reference, not id()

    def serve(sess: Session, key: bytes) -> bytes | None:
        return _serve_blocked(sess, rq, key, index[key], count, seen)

    return c.srv.blocking.block(c, rq.keys, serve, rq.timeout / 1000.0, c.r.null_array)


def _serve_blocked(c: Session, rq: ReadRequest, key: bytes, k: int, count: int,
                   seen: dict[bytes, tuple[Stream, int] | None]) -> bytes | None:
    """Redis's serveClientBlockedOnStream: reply with the one stream that got data."""
    db = c.db
    s = db.lookup_write(key)
    was = seen.get(key)
    if type(s) is Stream and was is not None and was[0] is s and was[1] == s.entries_added:
        if rq.group is None or (s.groups and rq.group in s.groups):
            return None  # nothing was added since the client blocked
    if rq.group is not None:
        if type(s) is not Stream:
            raise CommandError("UNBLOCKED the stream key no longer exists")
        g = s.groups.get(rq.group) if s.groups else None
        if g is None:
            raise CommandError("NOGROUP the consumer group this client was blocked on no longer exists")
        if not s.last_id > g.last_id:
            return None
        at = _propagate_creation(c, key, rq, g)
        body = _serve_group(c, s, key, rq, g.last_id, False, count)
        _drop_creation_if_claimed(c, at)
        if c.effects:
            _changed(db, key)
    else:
        if type(s) is not Stream or not s.last_id > rq.ids[k]:
            return None
        body = _after(s, rq.ids[k], count)
        tracker = c.srv.tracker
        if tracker is not None:
            seq = tracker.dirty.get((db.id, key))
            if seq is not None and seq > tracker.committed:
                # the entries are not durable yet: hold the reply with the batch that wrote them
                db.ks.modified.append((db.id, key))
    if c.resp == 2:
        return b"*1\r\n*2\r\n%s%s" % (resp.bulk(key), body)
    return b"%%1\r\n%s%s" % (resp.bulk(key), body)


@command("xread", -4, "readonly blocking", "@read @stream @slow @blocking", keys_fn=_streams_keys(1))
def xread(c: Session, argv: list[bytes]) -> bytes:
    return _xread(c, argv, False)


@command("xreadgroup", -7, "write blocking", "@write @stream @slow @blocking", keys_fn=_streams_keys(4))
def xreadgroup(c: Session, argv: list[bytes]) -> bytes:
    c.effects = []  # never logged as itself: its effects are XCLAIM / XGROUP commands
    return _xread(c, argv, True)


# -- XACK / XPENDING / XCLAIM / XAUTOCLAIM -----------------------------------------------------
@command("xack", -4, "write fast", "@write @stream @fast", keys=(1, 1, 1))
def xack(c: Session, argv: list[bytes]) -> bytes:
    key = argv[1]
    s = _get_stream(c, key)
    g = s.groups.get(argv[2]) if s is not None and s.groups else None
    if g is None:
        return resp.ZERO
    ids = [parse_id(x, 0, strict=True) for x in argv[3:]]
    n = 0
    for sid in ids:
        nack = g.pel.pop(sid, None)
        if nack is not None:
            del nack.consumer.pel[sid]
            n += 1
    if n:
        db = c.db
        db.ks.dirty += n - 1
        _changed(db, key)
    return resp.integer(n)


@command("xpending", -3, "readonly", "@read @stream @slow", keys=(1, 1, 1))
def xpending(c: Session, argv: list[bytes]) -> bytes:
    n = len(argv)
    if n != 3 and (n < 6 or n > 9):
        raise CommandError(errors.SYNTAX)
    key, gname = argv[1], argv[2]
    minidle = 0
    count = 0
    start = end = 0
    consumer_name = None
    if n >= 6:
        idx = 3
        if argv[3].lower() == b"idle":
            minidle = parse_int(argv[4])
            if n < 8:
                raise CommandError(errors.SYNTAX)
            idx += 2
        count = parse_int(argv[idx + 2])
        if count < 0:
            count = 0
        start, ex = _parse_interval(argv[idx], 0)
        if ex:
            if start == MAXID:
                raise CommandError(INVALID_START)
            start += 1
        end, ex = _parse_interval(argv[idx + 1], MAX64)
        if ex:
            if end == 0:
                raise CommandError(INVALID_END)
            end -= 1
        if idx + 3 < n:
            consumer_name = argv[idx + 3]
    s = _get_stream(c, key)
    g = s.groups.get(gname) if s is not None and s.groups else None
    if g is None:
        raise _nogroup(key, gname)
    if n == 3:
        if not g.pel:
            return b"*4\r\n:0\r\n%s%s%s" % (c.r.null, c.r.null, c.r.null_array)
        ids = g.pel.keys()
        lo, hi = min(ids), max(ids)
        cons = []
        for name in sorted(g.consumers):
            cn = g.consumers[name]
            if cn.pel:
                cons.append(b"*2\r\n%s%s" % (resp.bulk(name), resp.bulk(b"%d" % len(cn.pel))))
        return b"*4\r\n%s%s%s%s" % (resp.integer(len(g.pel)), _bulk_id(lo), _bulk_id(hi), resp.array(cons))
    if consumer_name is not None:
        cn = g.consumers.get(consumer_name)
        if cn is None:
            return resp.EMPTY_ARRAY
        pel = cn.pel
    else:
        pel = g.pel
    now = c.srv.clock.now_ms()
    out = []
    if count:
        for sid in sorted(pel):
            if sid < start:
                continue
            if sid > end:
                break
            nack = pel[sid]
            if minidle and now - nack.time < minidle:
                continue
            out.append(b"*4\r\n%s%s%s%s" % (_bulk_id(sid), resp.bulk(nack.consumer.name),
                                             resp.integer(max(0, now - nack.time)), resp.integer(nack.count)))
            count -= 1
            if not count:
                break
    return resp.array(out)


@command("xclaim", -6, "write fast", "@write @stream @fast", keys=(1, 1, 1))
def xclaim(c: Session, argv: list[bytes]) -> bytes:
    key, gname = argv[1], argv[2]
    s = _get_stream(c, key)
    g = s.groups.get(gname) if s is not None and s.groups else None
    if s is None or g is None:
        raise _nogroup(key, gname)
    c.effects = []  # never logged as itself: one XCLAIM effect per changed entry
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XCLAIM")
    if minidle < 0:
        minidle = 0
    n = len(argv)
    ids: list[int] = []
    j = 5
    while j < n:
        try:
            ids.append(parse_id(argv[j], 0, strict=True))
        except CommandError:
            break
        j += 1
    now = c.srv.clock.now_ms()
    retrycount = -1
    deliverytime = -1
    force = justid = False
    last_id = 0
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - parse_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            deliverytime = parse_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = parse_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], 0, strict=True)
        else:
            raise CommandError(errors.sanitize("ERR Unrecognized XCLAIM option '%s'" % errors.fmt_arg(argv[j], 1 << 30)))
        j += 1
    changes = 0  # Redis counts one per claimed or dropped entry, else one for LASTID alone
    propagate_last = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last = True
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    cons: Consumer | None = None
    out = []
    for sid in ids:
        nack = g.pel.get(sid)
        fields = s.get(sid)
        if fields is None:
            if nack is not None:
                c.propagate(_xclaim_effect(key, gname, sid, nack, g))
                propagate_last = False
                changes += 1
                del g.pel[sid]
                del nack.consumer.pel[sid]
            continue
        created = False
        if force and nack is None:
            nack = NACK(now, 1, None)  # type: ignore[arg-type]
            g.pel[sid] = nack
            created = True
        if nack is None:
            continue
        if not created and minidle and now - nack.time < minidle:
            continue
        if cons is None:
            cons = _lookup_consumer(c, g, key, argv[3], now)
        if nack.consumer is not cons and nack.consumer is not None:
            del nack.consumer.pel[sid]
        nack.time = deliverytime
        if retrycount >= 0:
            nack.count = retrycount
        elif not justid:
            nack.count += 1
        if nack.consumer is not cons:
            cons.pel[sid] = nack
            nack.consumer = cons
        out.append(_bulk_id(sid) if justid else _entry(sid, fields))
        c.propagate(_xclaim_effect(key, gname, sid, nack, g))
        propagate_last = False
        changes += 1
    if propagate_last:
        c.propagate(_setid_effect(key, gname, g))
        changes += 1
    if changes:
        _changed(c.db, key, changes)
    return resp.array(out)


@command("xautoclaim", -6, "write fast", "@write @stream @fast", keys=(1, 1, 1))
def xautoclaim(c: Session, argv: list[bytes]) -> bytes:
    key, gname = argv[1], argv[2]
    minidle = parse_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")
    if minidle < 0:
        minidle = 0
    start, ex = _parse_interval(argv[5], 0)
    if ex:
        if start == MAXID:
            raise CommandError(INVALID_START)
        start += 1
    count = 100
    justid = False
    j = 6
    n = len(argv)
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            try:
                count = parse_int(argv[j + 1])
            except CommandError:
                raise CommandError("ERR COUNT must be > 0") from None
            if count < 1 or count > (2**63 - 1) // 16:
                raise CommandError("ERR COUNT must be > 0")
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    s = _get_stream(c, key)
    g = s.groups.get(gname) if s is not None and s.groups else None
    if s is None or g is None:
        raise _nogroup(key, gname)
    c.effects = []
    attempts = count * 10
    now = c.srv.clock.now_ms()
    keys = [k for k in sorted(g.pel) if k >= start]
    pos = 0
    cons: Consumer | None = None
    out = []
    deleted = []
    changes = 0  # Redis counts one per claimed or dropped entry
    while attempts and count and pos < len(keys):
        attempts -= 1
        sid = keys[pos]
        pos += 1
        nack = g.pel[sid]
        fields = s.get(sid)
        if fields is None:
            c.propagate(_xclaim_effect(key, gname, sid, nack, g))
            del g.pel[sid]
            del nack.consumer.pel[sid]
            deleted.append(sid)
            count -= 1
            changes += 1
            continue
        if minidle and now - nack.time < minidle:
            continue
        if cons is None:
            cons = _lookup_consumer(c, g, key, argv[3], now)
        if nack.consumer is not cons:
            del nack.consumer.pel[sid]
        nack.time = now
        if not justid:
            nack.count += 1
        if nack.consumer is not cons:
            cons.pel[sid] = nack
            nack.consumer = cons
        out.append(_bulk_id(sid) if justid else _entry(sid, fields))
        count -= 1
        c.propagate(_xclaim_effect(key, gname, sid, nack, g))
        changes += 1
    cursor = keys[pos] if pos < len(keys) else 0
    if changes:
        _changed(c.db, key, changes)
    return b"*3\r\n%s%s%s" % (_bulk_id(cursor), resp.array(out), resp.array([_bulk_id(x) for x in deleted]))


# -- XINFO -------------------------------------------------------------------------------------
container("xinfo", -2, "@slow")


def _info_stream_or_error(c: Session, key: bytes) -> Stream:
    s = _get_stream(c, key)
    if s is None:
        raise CommandError(errors.NO_SUCH_KEY)
    return s


def _lag(c: Session, s: Stream, g: Group) -> bytes:
    lag = s.group_lag(g)
    return c.r.null if lag is None else resp.integer(lag)


def _bk(s: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(s), s)


@command("xinfo|consumers", 4, "readonly", "@read @stream @slow", keys=(2, 2, 1))
def xinfo_consumers(c: Session, argv: list[bytes]) -> bytes:
    s = _info_stream_or_error(c, argv[2])
    g = _group_or_error(s, argv[2], argv[3])
    now = c.srv.clock.now_ms()
    out = []
    for name in sorted(g.consumers):
        cn = g.consumers[name]
        out.append(c.r.map([
            (_bk(b"name"), resp.bulk(name)),
            (_bk(b"pending"), resp.integer(len(cn.pel))),
            (_bk(b"idle"), resp.integer(max(0, now - cn.seen))),
        ]))
    return resp.array(out)


@command("xinfo|groups", 3, "readonly", "@read @stream @slow", keys=(2, 2, 1))
def xinfo_groups(c: Session, argv: list[bytes]) -> bytes:
    s = _info_stream_or_error(c, argv[2])
    out = []
    if s.groups:
        for name in sorted(s.groups):
            g = s.groups[name]
            out.append(c.r.map([
                (_bk(b"name"), resp.bulk(name)),
                (_bk(b"consumers"), resp.integer(len(g.consumers))),
                (_bk(b"pending"), resp.integer(len(g.pel))),
                (_bk(b"last-delivered-id"), _bulk_id(g.last_id)),
                (_bk(b"entries-read"), c.r.null if g.entries_read == INVALID_ENTRIES_READ
                 else resp.integer(g.entries_read)),
                (_bk(b"lag"), _lag(c, s, g)),
            ]))
    return resp.array(out)


@command("xinfo|stream", -3, "readonly", "@read @stream @slow", keys=(2, 2, 1))
def xinfo_stream(c: Session, argv: list[bytes]) -> bytes:
    s = _info_stream_or_error(c, argv[2])
    n = len(argv) - 2
    full = True
    count = 10
    if n == 1:
        full = False
    elif n in (2, 4):
        if argv[3].lower() != b"full":
            raise _subcmd_syntax(argv[1], "XINFO")
        if n == 4:
            if argv[4].lower() != b"count":
                raise _subcmd_syntax(argv[1], "XINFO")
            count = parse_int(argv[5])
            if count < 0:
                count = 10
    else:
        raise _subcmd_syntax(argv[1], "XINFO")
    r = c.r
    pairs = [
        (_bk(b"length"), resp.integer(len(s))),
        (_bk(b"radix-tree-keys"), resp.integer(len(s.nodes))),
        (_bk(b"radix-tree-nodes"), resp.integer(s.rax_nodes())),
        (_bk(b"last-generated-id"), _bulk_id(s.last_id)),
        (_bk(b"max-deleted-entry-id"), _bulk_id(s.max_deleted)),
        (_bk(b"entries-added"), resp.integer(s.entries_added)),
        (_bk(b"recorded-first-entry-id"), _bulk_id(s.first_id)),
    ]
    if not full:
        pairs.append((_bk(b"groups"), resp.integer(len(s.groups) if s.groups else 0)))
        if s.ids:
            pairs.append((_bk(b"first-entry"), _entry(s.ids[0], s.vals[0])))
            pairs.append((_bk(b"last-entry"), _entry(s.ids[-1], s.vals[-1])))
        else:
            pairs.append((_bk(b"first-entry"), r.null))
            pairs.append((_bk(b"last-entry"), r.null))
        return r.map(pairs)
    pairs.append((_bk(b"entries"), _entries(s.range(0, MAXID, count))))
    groups = []
    for name in sorted(s.groups or {}):
        g = s.groups[name]  # type: ignore[index]
        pel_ids = sorted(g.pel)
        if count:
            pel_ids = pel_ids[:count]
        pend = [b"*4\r\n%s%s%s%s" % (_bulk_id(i), resp.bulk(g.pel[i].consumer.name), resp.integer(g.pel[i].time),
                                     resp.integer(g.pel[i].count)) for i in pel_ids]
        conss = []
        for cname in sorted(g.consumers):
            cn = g.consumers[cname]
            cids = sorted(cn.pel)
            if count:
                cids = cids[:count]
            cp = [b"*3\r\n%s%s%s" % (_bulk_id(i), resp.integer(cn.pel[i].time), resp.integer(cn.pel[i].count))
                  for i in cids]
            conss.append(r.map([
                (_bk(b"name"), resp.bulk(cname)),
                (_bk(b"seen-time"), resp.integer(cn.seen)),
                (_bk(b"pel-count"), resp.integer(len(cn.pel))),
                (_bk(b"pending"), resp.array(cp)),
            ]))
        groups.append(r.map([
            (_bk(b"name"), resp.bulk(name)),
            (_bk(b"last-delivered-id"), _bulk_id(g.last_id)),
            (_bk(b"entries-read"), r.null if g.entries_read == INVALID_ENTRIES_READ else resp.integer(g.entries_read)),
            (_bk(b"lag"), _lag(c, s, g)),
            (_bk(b"pel-count"), resp.integer(len(g.pel))),
            (_bk(b"pending"), resp.array(pend)),
            (_bk(b"consumers"), resp.array(conss)),
        ]))
    pairs.append((_bk(b"groups"), resp.array(groups)))
    return r.map(pairs)


@command("xinfo|help", 2, "loading stale", "@stream @slow")
def xinfo_help(c: Session, argv: list[bytes]) -> bytes:
    return _help(_XINFO_HELP)


