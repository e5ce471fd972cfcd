"""SCAN-family building blocks: Redis glob matching, cursor parsing, and stable cursors.

Shared by SCAN (the keyspace) and by HSCAN / SSCAN / ZSCAN (the members of one value).

Glob patterns
-------------
:func:`matcher` compiles a pattern into a predicate with exactly the semantics of Redis's
``stringmatchlen`` (``*``, ``?``, ``[...]`` with ``^`` negation, ``a-z`` ranges compared as
signed chars and swapped when reversed, ``\\`` escapes inside and outside classes, an
unterminated class taking the rest of the pattern, and the empty string matching only the
empty pattern).  The pattern is parsed the way Redis walks it, then translated to a
regular expression whose interior ``*`` segments are atomic groups, so no pattern can
backtrack catastrophically.  The single-``*`` pattern is the "match everything" shortcut
(it matches the empty key too, as in Redis where ``use_pattern`` is then off).

Cursors
-------
Python dicts have no stable bucket order, so Redis's reverse-binary bucket cursor cannot
be reproduced.  durakv orders the members of a collection by ``crc32(member)`` instead:
that order is a total order that does not depend on insertion history, on the dict's
size or on the process.  A cursor says "every member whose hash is below H has been
returned", plus a snapshot slot::

    cursor = ((H + 1) << 16) | slot          (0 = start / iteration finished)

* ``cursor 0`` takes a *snapshot* of the collection's members (a list, plus numpy arrays
  of their positions in hash order and of the sorted hashes) and remembers it under a
  fresh slot in a small bounded cache (:class:`Scanner`).  Each step bisects the snapshot at ``H``, returns
  up to ``count`` members that are still present, and extends the step to the end of a
  run of equal hashes so that ``H`` always falls on a hash boundary.
* If the slot is no longer cached (evicted, another process, a cursor from a replica
  after failover, a collection replaced by SWAPDB/FLUSH...), a new snapshot of the
  *current* members is taken and the iteration continues at ``H``.  Any snapshot taken
  after the iteration began contains every member that has been present since then, so
  the guarantee holds: every member present for the whole iteration is returned at least
  once (possibly more than once); members added or removed meanwhile may or may not be.
  A slot's cache entry is only ever replaced by a newer snapshot, never an older one.
* Collections of fewer than ``count`` members are returned whole with cursor 0, as Redis
  does for small tables.

Costs: a snapshot is one C-level pass and sort (numpy: ~0.3 s for a million members)
once per iteration, about 20 bytes per member; each step is O(log n + count).  The cache keeps at most ``MAX_SNAPSHOTS`` snapshots and
``MAX_ITEMS`` members overall, oldest evicted first.

API (see :func:`scan_step`, :func:`parse_cursor`, :func:`parse_options`, :func:`matcher`,
:func:`reply`)::

    cursor = parse_cursor(argv[2])                    # raises CommandError
    opts = parse_options(argv, 3)                     # MATCH / COUNT (allow_type for SCAN)
    nxt, members = scan_step(value_dict, value_dict, cursor, opts.count)
    members = [m for m in members if opts.match(m)]
    return reply(nxt, [resp.bulk(m) ... ])
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache
from zlib import crc32

import numpy as np

from .. import errors
from ..errors import CommandError

ULONG_MAX = 2**64 - 1
MAX_SNAPSHOTS = 64
MAX_ITEMS = 4_000_000
_SLOT_BITS = 16
_SLOT_MASK = (1 << _SLOT_BITS) - 1

Matcher = Callable[[bytes], bool]


def _always(_: bytes) -> bool:
    return True


# -- glob matching (Redis's stringmatchlen) ----------------------------------------------------

_STAR = None  # token marker; other tokens are regex fragments for exactly one byte


def _class_regex(table: list[bool]) -> bytes:
    members = [b for b in range(256) if table[b]]
    if not members:
        return b"(?!)"
    if len(members) == 256:
        return b"."
    return b"[" + b"".join(b"\\x%02x" % b for b in members) + b"]"


def _tokens(p: bytes) -> list[bytes | None]:
    """Walk the pattern as stringmatchlen does; one token per pattern element."""
    out: list[bytes | None] = []
    n = len(p)
    i = 0
    while i < n:
        ch = p[i]
        if ch == 0x2A:  # '*'
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
            i += 1
        elif ch == 0x3F:  # '?'
            out.append(b".")
            i += 1
        elif ch == 0x5B:  # '['
            i += 1
            neg = i < n and p[i] == 0x5E  # '^'
            if neg:
                i += 1
            table = [False] * 256
            while True:
                if i < n and p[i] == 0x5C and n - i >= 2:  # '\\' escape
                    i += 1
                    table[p[i]] = True
                elif i < n and p[i] == 0x5D:  # ']'
                    break
                elif i >= n:  # unterminated class: it ends with the pattern
                    i -= 1
                    break
                elif n - i >= 3 and p[i + 1] == 0x2D:  # range 'a-z' (signed chars)
                    start, end = p[i], p[i + 2]
                    start = start - 256 if start >= 128 else start
                    end = end - 256 if end >= 128 else end
                    if start > end:
                        start, end = end, start
                    for b in range(256):
                        sb = b - 256 if b >= 128 else b
                        if start <= sb <= end:
                            table[b] = True
                    i += 2
                else:
                    table[p[i]] = True
                i += 1
            i += 1
            if neg:
                table = [not t for t in table]
            out.append(_class_regex(table))
        else:
            if ch == 0x5C and n - i >= 2:  # '\\' escapes the next byte
                i += 1
                ch = p[i]
            out.append(b"\\x%02x" % ch)
            i += 1
    return out


@lru_cache(maxsize=512)
def matcher(pattern: bytes) -> Matcher:
    """A predicate ``f(s) -> bool`` equal to Redis's ``stringmatchlen(pattern, s)``.

    ``b"*"`` returns the match-everything shortcut (Redis turns the pattern off for it).
    """
    if pattern == b"*":
        return _always
    toks = _tokens(pattern)
    if not toks:
        return lambda s: not s
    # translate: leading fixed part, then (?>.*?fixed) for interior segments, .*fixed last
    parts: list[bytes] = []
    i = 0
    n = len(toks)
    while i < n and toks[i] is not _STAR:
        parts.append(toks[i])  # type: ignore[arg-type]
        i += 1
    while i < n:
        i += 1  # the star
        if i == n:
            parts.append(b".*")
            break
        fixed: list[bytes] = []
        while i < n and toks[i] is not _STAR:
            fixed.append(toks[i])  # type: ignore[arg-type]
            i += 1
        seg = b"".join(fixed)
        if i == n:
            parts.append(b".*" + seg)
        else:
            parts.append(b"(?>.*?" + seg + b")")
    fm = re.compile(b"".join(parts), re.DOTALL).fullmatch

    def match(s: bytes) -> bool:
        # Redis's loop never runs on an empty string: only the empty pattern matches it
        return bool(s) and fm(s) is not None

    return match


def stringmatch(pattern: bytes, s: bytes) -> bool:
    """One-off ``stringmatchlen`` (no shortcut: ``*`` does not match the empty string)."""
    if pattern == b"*":
        return bool(s)
    return matcher(pattern)(s)


# -- argument parsing -----------------------------------------------------------------------


def parse_cursor(arg: bytes) -> int:
    """A cursor as Redis's parseScanCursorOrReply reads it (strtoul, base 10)."""
    s = arg.split(b"\0", 1)[0]
    if not s:
        return 0
    if s[0] in b" \t\n\v\f\r":
        raise CommandError(errors.INVALID_CURSOR)
    neg = s[0] == 0x2D
    body = s[1:] if s[0] in (0x2B, 0x2D) else s
    if not body or not body.isdigit():
        raise CommandError(errors.INVALID_CURSOR)
    v = int(body)
    if v > ULONG_MAX:
        raise CommandError(errors.INVALID_CURSOR)
    return (-v) & ULONG_MAX if neg else v


class ScanOptions:
    __slots__ = ("count", "pattern", "match", "type")

    def __init__(self) -> None:
        self.count = 10
        self.pattern: bytes | None = None
        self.match: Matcher = _always
        self.type: bytes | None = None


def parse_options(argv: list[bytes], start: int, allow_type: bool = False) -> ScanOptions:
    """MATCH / COUNT (and TYPE for SCAN) from ``argv[start:]``, with Redis's errors."""
    from ..commands._util import parse_int

    opts = ScanOptions()
    i = start
    n = len(argv)
    while i < n:
        more = n - i
        opt = argv[i].lower()
        if opt == b"count" and more >= 2:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(errors.SYNTAX)
            opts.count = count
            i += 2
        elif opt == b"match" and more >= 2:
            opts.pattern = argv[i + 1]
            opts.match = matcher(argv[i + 1])
            i += 2
        elif opt == b"type" and allow_type and more >= 2:
            opts.type = argv[i + 1].lower()
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    return opts


def reply(cursor: int, items: list[bytes]) -> bytes:
    """``[cursor, [items...]]`` where ``items`` are already encoded."""
    c = b"%d" % cursor
    return b"*2\r\n$%d\r\n%s\r\n*%d\r\n%s" % (len(c), c, len(items), b"".join(items))


# -- stable cursors ---------------------------------------------------------------------------


class _Snapshot:
    """Members in the collection's order, plus their positions sorted by hash."""

    __slots__ = ("owner", "members", "order", "hashes")

    def __init__(self, owner: object, members: list[bytes]) -> None:
        self.owner = owner
        self.members = members
        h = np.fromiter(map(crc32, members), dtype=np.uint32, count=len(members))
        self.order = np.argsort(h)  # positions in hash order (C-level sort: fast on millions)
        self.hashes = h[self.order]  # sorted hashes, for searchsorted


class Scanner:
    """Bounded cache of iteration snapshots (see the module docstring)."""

    def __init__(self, max_snapshots: int = MAX_SNAPSHOTS, max_items: int = MAX_ITEMS) -> None:
        self.max_snapshots = max_snapshots
        self.max_items = max_items
        self._cache: OrderedDict[int, _Snapshot] = OrderedDict()
        self._items = 0
        self._gen = 0

    def clear(self) -> None:
        self._cache.clear()
        self._items = 0

    def _snapshot(self, owner: object, members: Iterable[bytes]) -> tuple[int, _Snapshot]:
        snap = _Snapshot(owner, list(members))
        self._gen = (self._gen + 1) & _SLOT_MASK
        slot = self._gen
        cache = self._cache
        old = cache.pop(slot, None)
        if old is not None:
            self._items -= len(old.members)
        cache[slot] = snap
        self._items += len(snap.members)
        while len(cache) > 1 and (len(cache) > self.max_snapshots or self._items > self.max_items):
            _, ev = cache.popitem(last=False)
            self._items -= len(ev.members)
        return slot, snap

    def _drop(self, slot: int, snap: _Snapshot) -> None:
        if self._cache.get(slot) is snap:
            del self._cache[slot]
            self._items -= len(snap.members)

    def step(
        self, owner: object, members: Collection[bytes], cursor: int, count: int
    ) -> tuple[int, list[bytes]]:
        """One SCAN step over ``members`` (a dict or set: iterable, sized, ``in``).

        ``owner`` identifies the collection across calls (usually ``members`` itself).
        Returns the next cursor (0 when done) and up to ``count`` members that are present
        now (a few more when a run of equal hashes straddles the limit).
        """
        if cursor == 0:
            if len(members) < count:
                return 0, list(members)
            slot, snap = self._snapshot(owner, members)
            idx = 0
        else:
            threshold = (cursor >> _SLOT_BITS) - 1
            if threshold > 0xFFFFFFFF:  # past every hash (e.g. SCAN -1): nothing left
                return 0, []
            slot = cursor & _SLOT_MASK
            snap = self._cache.get(slot)  # type: ignore[assignment]
            if snap is None or snap.owner is not owner:
                slot, snap = self._snapshot(owner, members)
            # a uint32 needle: a Python int would make numpy convert the whole array
            idx = int(snap.hashes.searchsorted(np.uint32(max(threshold, 0)), "left"))
        keys = snap.members
        hashes = snap.hashes
        n = len(keys)
        out: list[bytes] = []
        i = idx
        # look at no more than 10*count positions (bounds the work spent on removed members)
        for pos in snap.order[idx : idx + 10 * count].tolist():
            i += 1
            k = keys[pos]
            if k in members:
                out.append(k)
                if len(out) >= count:
                    break
        while 0 < i < n and hashes[i] == hashes[i - 1]:  # never split a run of equal hashes
            k = keys[int(snap.order[i])]
            i += 1
            if k in members:
                out.append(k)
        if i >= n:
            self._drop(slot, snap)
            return 0, out
        if slot in self._cache:
            self._cache.move_to_end(slot)
        return ((int(hashes[i]) + 1) << _SLOT_BITS) | slot, out


SCANNER = Scanner()


def scan_step(owner: object, members: Collection[bytes], cursor: int, count: int) -> tuple[int, list[bytes]]:
    """One step with the process-wide :class:`Scanner` (see :meth:`Scanner.step`)."""
    return SCANNER.step(owner, members, cursor, count)
