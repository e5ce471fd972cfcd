"""The sorted set type: a packed blob while small (Redis's listpack), dict + sorted pairs past it.

Compact form (``lp``): the members packed as in :func:`durakv.types.hash.pack`, followed
by their scores as 8-byte doubles, in (score, member) order.  Operations unpack into two
parallel lists, work on them and pack again (O(n) for n <= ``zset-max-listpack-entries``,
like Redis's listpack).  Past ``zset-max-listpack-entries`` members or a member longer
than ``zset-max-listpack-value`` the set becomes ``d`` (member -> score) plus ``sl``, a
:class:`SortedPairs` of sort keys — Redis's skiplist — for good (except that ZUNIONSTORE &
co build their result compact when it fits, as Redis does).  A sort key is one ``bytes``
object, :func:`skey`: a 9-byte order-preserving encoding of the score followed by the
member, so (score, member) order is plain byte order (one memcmp per comparison, no tuple
or float objects to chase, nothing for the cyclic GC to track).  The exact score (-0.0
included) always comes from ``d``.

Positions are 0-based ranks in ascending (score, member) order everywhere.
"""

from __future__ import annotations

import math
import struct
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from itertools import accumulate
from operator import itemgetter
from typing import Any

from .hash import find_packed, pack, packed_len, unpack

_LOAD = 512
_SPLIT = 2 * _LOAD
_INF = math.inf

# -- sort keys -------------------------------------------------------------------------------
_KPACK = struct.Struct(">Bd").pack
_INVERT = bytes(range(255, -1, -1))
_ZERO_PREFIX = b"\x01" + bytes(8)
KEY_PREFIX = 9  # bytes of score encoding before the member
member_of = itemgetter(slice(KEY_PREFIX, None))  # sort key -> member


def score_prefix(s: float) -> bytes:
    """The 9 bytes that order scores as bytes: positive doubles keep their big-endian bits
    after a 1, negative ones are inverted after a 0; +0.0 and -0.0 are the same score."""
    if s > 0:
        return _KPACK(1, s)
    if s < 0:
        return _KPACK(255, s).translate(_INVERT)
    return _ZERO_PREFIX


def skey(s: float, m: bytes) -> bytes:
    """The sort key of (score, member)."""
    if s > 0:
        return _KPACK(1, s) + m
    if s < 0:
        return _KPACK(255, s).translate(_INVERT) + m
    return _ZERO_PREFIX + m


class SortedPairs:
    """A sorted list of comparable items (the zset's sort keys) kept in buckets of ~_LOAD
    (like sortedcontainers)."""

    __slots__ = ("lists", "maxes", "n", "_cum")

    def __init__(self, items: list[tuple[float, bytes]] | None = None) -> None:
        self.lists: list[list[tuple[float, bytes]]] = []
        self.maxes: list[tuple[float, bytes]] = []
        self.n = 0
        self._cum: list[int] | None = None
        if items:
            items = sorted(items)
            for i in range(0, len(items), _LOAD):
                chunk = items[i : i + _LOAD]
                self.lists.append(chunk)
                self.maxes.append(chunk[-1])
            self.n = len(items)

    def __len__(self) -> int:
        return self.n

    def add(self, k: tuple[float, bytes]) -> None:
        lists = self.lists
        maxes = self.maxes
        self.n += 1
        self._cum = None
        if not maxes:
            lists.append([k])
            maxes.append(k)
            return
        i = bisect_left(maxes, k)
        if i == len(maxes):
            i -= 1
            lst = lists[i]
            lst.append(k)
            maxes[i] = k
        else:
            lst = lists[i]
            insort(lst, k)
        if len(lst) > 2 * _LOAD:
            half = lst[_LOAD:]
            del lst[_LOAD:]
            maxes[i] = lst[-1]
            lists.insert(i + 1, half)
            maxes.insert(i + 1, half[-1])

    def remove(self, k: tuple[float, bytes]) -> None:
        maxes = self.maxes
        i = bisect_left(maxes, k)
        lst = self.lists[i]
        j = bisect_left(lst, k)
        del lst[j]
        self.n -= 1
        self._cum = None
        if not lst:
            del self.lists[i]
            del maxes[i]
        elif j == len(lst):
            maxes[i] = lst[-1]

    def pop_end(self, k: int, tail: bool) -> list[Any] | None:
        """Remove and return the first (last) ``k`` items, ascending, when they all sit in
        the first (last) bucket; else None (nothing removed)."""
        lists = self.lists
        if k <= 0:
            return []
        if not lists:
            return None
        i = len(lists) - 1 if tail else 0
        lst = lists[i]
        if k > len(lst):
            return None
        if tail:
            out = lst[len(lst) - k :]
            del lst[len(lst) - k :]
        else:
            out = lst[:k]
            del lst[:k]
        self.n -= k
        self._cum = None
        if not lst:
            del lists[i]
            del self.maxes[i]
        elif tail:
            self.maxes[i] = lst[-1]
        return out

    def cum(self) -> list[int]:
        c = self._cum
        if c is None:
            c = self._cum = list(accumulate(map(len, self.lists), initial=0))
        return c

    def bisect_left(self, k: Any) -> int:
        """Position of the first pair >= k (k may be a 1-tuple (score,))."""
        maxes = self.maxes
        i = bisect_left(maxes, k)
        if i == len(maxes):
            return self.n
        return self.cum()[i] + bisect_left(self.lists[i], k)

    def bisect_member(self, m: bytes, right: bool, key: Any = None) -> int:
        """Bisect by member alone (meaningful when all scores are equal: lex ranges);
        ``key`` extracts the member from an item (default: the second of a pair)."""
        if key is None:
            key = _second
        maxes = self.maxes
        if right:
            i = bisect_right(maxes, m, key=key)
            if i == len(maxes):
                return self.n
            return self.cum()[i] + bisect_right(self.lists[i], m, key=key)
        i = bisect_left(maxes, m, key=key)
        if i == len(maxes):
            return self.n
        return self.cum()[i] + bisect_left(self.lists[i], m, key=key)

    def __getitem__(self, pos: int) -> tuple[float, bytes]:
        cum = self.cum()
        i = bisect_right(cum, pos) - 1
        return self.lists[i][pos - cum[i]]

    def slice(self, start: int, stop: int) -> list[tuple[float, bytes]]:
        """Pairs at positions [start, stop)."""
        if start >= stop:
            return []
        lists = self.lists
        if start == 0 and stop <= len(lists[0]):
            return lists[0][:stop]  # the head (ZPOPMIN ...): no cumulative counts needed
        n = self.n
        if stop == n and n - start <= len(lists[-1]):
            return lists[-1][start - n :]  # the tail (ZPOPMAX ...)
        cum = self.cum()
        i = bisect_right(cum, start) - 1
        out: list[tuple[float, bytes]] = []
        off = start - cum[i]
        need = stop - start
        while need > 0 and i < len(lists):
            lst = lists[i]
            part = lst[off : off + need]
            out += part
            need -= len(part)
            off = 0
            i += 1
        return out

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        for lst in self.lists:
            yield from lst

    def first(self) -> tuple[float, bytes]:
        return self.lists[0][0]

    def last(self) -> tuple[float, bytes]:
        return self.lists[-1][-1]


def _second(t: tuple[float, bytes]) -> bytes:
    return t[1]


_SCORE_CODES = {0x62: 1, 0x68: 2, 0x69: 4, 0x64: 8}  # b h i d -> item size


def _pack_scores(ss: list[float]) -> bytes:
    """Scores as the smallest array type that holds them exactly, plus its type code
    (a listpack stores integer scores as small integers too)."""
    try:
        ints = [int(x) for x in ss]
    except (OverflowError, ValueError):
        return array("d", [x + 0.0 for x in ss]).tobytes() + b"d"
    if ints != ss:
        return array("d", [x + 0.0 for x in ss]).tobytes() + b"d"
    lo = min(ints)
    hi = max(ints)
    if -128 <= lo and hi < 128:
        return array("b", ints).tobytes() + b"b"
    if -32768 <= lo and hi < 32768:
        return array("h", ints).tobytes() + b"h"
    if -(2**31) <= lo and hi < 2**31:
        return array("i", ints).tobytes() + b"i"
    return array("d", [x + 0.0 for x in ss]).tobytes() + b"d"


def _pack(ms: list[bytes], ss: list[float]) -> bytes:
    # a listpack stores scores as text; Redis's "-0" reads back as the integer 0
    if not ms:
        return pack(ms)
    return pack(ms) + _pack_scores(ss)


def _unpack(blob: bytes) -> tuple[list[bytes], list[float]]:
    n = packed_len(blob)
    if not n:
        return [], []
    code = blob[-1]
    size = _SCORE_CODES[code]
    raw = array(chr(code), blob[-1 - size * n : -1])
    scores = raw.tolist() if code == 0x64 else list(map(float, raw))
    return unpack(blob), scores


_EMPTY = _pack([], [])
_INT_RANGES = {0x62: (-128, 128), 0x68: (-32768, 32768), 0x69: (-(2**31), 2**31)}


def _insert_new(lp: bytes, n: int, m: bytes, score: float) -> bytes | None:
    """``lp`` (n >= 1 members, none of them ``m``) with (score, m) spliced in at its place,
    exactly as :func:`_pack` would lay it out — or None when that takes a full repack (the
    score needs a wider score type, ties on the score, long lengths)."""
    code = lp[-1]
    if lp[0] != 1 or len(m) > 255:
        return None
    size = _SCORE_CODES[code]
    sc = len(lp) - 1 - size * n
    raw = array(chr(code), lp[sc:-1])
    if code == 0x64:
        x: Any = score + 0.0
    else:
        try:
            x = int(score)
        except (OverflowError, ValueError):
            return None
        lo, hi = _INT_RANGES[code]
        if x != score or not lo <= x < hi:
            return None
    i = bisect_left(raw, x)
    if i < n and raw[i] == x:
        return None  # a tie: placed by member, leave it to the full path
    p = 5 + i
    off = 5 + n + sum(lp[5:p])
    q = sc + size * i
    return b"".join(
        (
            b"\x01", (n + 1).to_bytes(4, "little"), lp[5:p], bytes((len(m),)), lp[p:off], m, lp[off:q],
            array(chr(code), (x,)).tobytes(), lp[q:],
        )
    )


class LexBound:
    """One end of a lexicographic range: '-' / '+' / '[x' / '(x'."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: int, value: bytes = b"") -> None:
        self.kind = kind  # -1: '-', 1: '+', 0: inclusive, 2: exclusive
        self.value = value


def lex_gte_min(m: bytes, b: LexBound) -> bool:
    k = b.kind
    if k == -1:
        return True
    if k == 1:
        return False
    return m >= b.value if k == 0 else m > b.value


def lex_lte_max(m: bytes, b: LexBound) -> bool:
    k = b.kind
    if k == 1:
        return True
    if k == -1:
        return False
    return m <= b.value if k == 0 else m < b.value


def _cmplex(a: LexBound, b: LexBound) -> int:
    """Redis's sdscmplex with the shared min/max string sentinels."""
    if a.kind != 0 and a.kind != 2 and a.kind == b.kind:
        return 0
    if a.kind == -1 or b.kind == 1:
        return -1
    if a.kind == 1 or b.kind == -1:
        return 1
    return (a.value > b.value) - (a.value < b.value)


def lex_empty(mn: LexBound, mx: LexBound) -> bool:
    """True for ranges that are always empty (Redis's zslIsInLexRange pre-check)."""
    c = _cmplex(mn, mx)
    return c > 0 or (c == 0 and (mn.kind != 0 or mx.kind != 0))


class ZSet:
    """A Redis sorted set.  Compact: ``lp`` (packed); else ``d`` member->score + ``sl``."""

    type_name = "zset"
    __slots__ = ("lp", "d", "sl")

    def __init__(self, compact: bool = True) -> None:
        if compact:
            self.lp: bytes | None = _EMPTY
            self.d: dict[bytes, float] | None = None
            self.sl: SortedPairs | None = None
        else:
            self.lp = None
            self.d = {}
            self.sl = SortedPairs()

    # -- introspection ---------------------------------------------------------------------
    def encoding(self, config: Any = None) -> str:
        return "listpack" if self.lp is not None else "skiplist"

    def __len__(self) -> int:
        if self.lp is not None:
            return packed_len(self.lp)
        return len(self.d)  # type: ignore[arg-type]

    def copy(self) -> ZSet:
        z = ZSet.__new__(ZSet)
        z.lp = self.lp
        if self.d is not None:
            z.d = dict(self.d)
            z.sl = SortedPairs(list(self.sl))  # type: ignore[arg-type]  # already sorted: O(n)
        else:
            z.d = None
            z.sl = None
        return z

    def items(self) -> list[tuple[bytes, float]]:
        """(member, score) pairs in ascending order."""
        if self.lp is not None:
            ms, ss = _unpack(self.lp)
            return list(zip(ms, ss))
        d = self.d
        return [(m, d[m]) for m in map(member_of, self.sl)]  # type: ignore[index, arg-type]

    def __iter__(self) -> Iterator[tuple[bytes, float]]:
        return iter(self.items())

    def members(self) -> list[bytes]:
        if self.lp is not None:
            return unpack(self.lp) if packed_len(self.lp) else []
        return list(map(member_of, self.sl))  # type: ignore[arg-type]

    def score(self, m: bytes) -> float | None:
        d = self.d
        if d is not None:
            return d.get(m)
        lp = self.lp
        if m not in lp:  # type: ignore[operator]
            return None  # not even a substring of the blob
        j, offs = find_packed(lp, m, False)  # type: ignore[arg-type]
        if j < 0:
            return None
        code = lp[-1]  # type: ignore[index]
        size = _SCORE_CODES[code]
        p = len(lp) - 1 - size * (len(offs) - 1 - j)  # type: ignore[arg-type]
        return float(array(chr(code), lp[p : p + size])[0])  # type: ignore[index]

    def rank(self, m: bytes) -> int | None:
        d = self.d
        if d is not None:
            s = d.get(m)
            if s is None:
                return None
            return self.sl.bisect_left(skey(s, m))  # type: ignore[union-attr]
        lp = self.lp
        if m not in lp:  # type: ignore[operator]
            return None
        j = find_packed(lp, m, False)[0]  # type: ignore[arg-type]
        return None if j < 0 else j

    # -- writes ----------------------------------------------------------------------------
    def convert(self) -> None:
        """To the dict + sorted pairs encoding (one-way)."""
        if self.lp is not None:
            ms, ss = _unpack(self.lp)
            self.d = dict(zip(ms, ss))
            self.sl = SortedPairs(list(map(skey, ss, ms)))
            self.lp = None

    def set(self, m: bytes, score: float, max_entries: int, max_value: int) -> bool:
        """Insert ``m`` or change its score; True if it was new."""
        d = self.d
        if d is not None:
            old = d.get(m)
            sl = self.sl
            if old is not None:
                if old == score:
                    d[m] = score
                    return False
                sl.remove(skey(old, m))  # type: ignore[union-attr]
                sl.add(skey(score, m))  # type: ignore[union-attr]
                d[m] = score
                return False
            d[m] = score
            sl.add(skey(score, m))  # type: ignore[union-attr]
            return True
        lp = self.lp
        if m not in lp or find_packed(lp, m, False)[0] < 0:  # type: ignore[operator, arg-type]
            # a new member: splice it in when that gives the same blob as a repack
            n = packed_len(lp)  # type: ignore[arg-type]
            if n and n < max_entries and len(m) <= max_value:
                blob = _insert_new(lp, n, m, score)  # type: ignore[arg-type]
                if blob is not None:
                    self.lp = blob
                    return True
        ms, ss = _unpack(lp)  # type: ignore[arg-type]
        new = True
        if m in lp:  # type: ignore[operator]
            try:
                i = ms.index(m)
            except ValueError:
                pass
            else:
                new = False
                del ms[i]
                del ss[i]
        if new and (len(ms) + 1 > max_entries or len(m) > max_value):
            self.d = dict(zip(ms, ss))
            self.sl = SortedPairs(list(map(skey, ss, ms)))
            self.lp = None
            self.d[m] = score
            self.sl.add(skey(score, m))
            return True
        # the first position whose (score, member) is >= (score, m)
        # (members with equal scores are in member order)
        i = bisect_left(ss, score)
        if i < len(ss) and ss[i] == score:
            i = bisect_left(ms, m, i, bisect_right(ss, score, i))
        ms.insert(i, m)
        ss.insert(i, score)
        self.lp = _pack(ms, ss)
        return new

    def set_big(self, m: bytes, score: float) -> int:
        """ZADD's hot path on the big encoding (``d`` is not None): insert ``m`` or change its
        score in one frame (SortedPairs.add/remove inlined).  1: added, 0: score changed,
        -1: unchanged (same score)."""
        d = self.d
        sl = self.sl
        maxes = sl.maxes  # type: ignore[union-attr]
        lists = sl.lists  # type: ignore[union-attr]
        cur = d.get(m)  # type: ignore[union-attr]
        if cur is not None:
            if cur == score:
                return -1
            # remove the old key
            if cur > 0:
                k = _KPACK(1, cur) + m
            elif cur < 0:
                k = _KPACK(255, cur).translate(_INVERT) + m
            else:
                k = _ZERO_PREFIX + m
            i = bisect_left(maxes, k)
            lst = lists[i]
            j = bisect_left(lst, k)
            del lst[j]
            if not lst:
                del lists[i]
                del maxes[i]
            elif j == len(lst):
                maxes[i] = lst[-1]
            ret = 0
        else:
            sl.n += 1  # type: ignore[union-attr]
            ret = 1
        d[m] = score  # type: ignore[index]
        sl._cum = None  # type: ignore[union-attr]
        if score > 0:
            k = _KPACK(1, score) + m
        elif score < 0:
            k = _KPACK(255, score).translate(_INVERT) + m
        else:
            k = _ZERO_PREFIX + m
        if not maxes:
            lists.append([k])
            maxes.append(k)
            return ret
        i = bisect_left(maxes, k)
        if i == len(maxes):
            i -= 1
            lst = lists[i]
            lst.append(k)
            maxes[i] = k
        else:
            lst = lists[i]
            insort(lst, k)
        if len(lst) > _SPLIT:
            half = lst[_LOAD:]
            del lst[_LOAD:]
            maxes[i] = lst[-1]
            lists.insert(i + 1, half)
            maxes.insert(i + 1, half[-1])
        return ret

    def replace_all(self, d: dict[bytes, float], compact: bool) -> None:
        """Set the whole content from a member -> score dict: compact if ``compact`` (whatever
        the limits: Redis converts only when a member that does not fit is added), else the
        big encoding."""
        if compact:
            pairs = sorted([(s, m) for m, s in d.items()])
            self.lp = _pack([m for _, m in pairs], [s for s, _ in pairs])
            self.d = None
            self.sl = None
        else:
            self.lp = None
            self.d = d
            self.sl = SortedPairs(list(map(skey, d.values(), d)))

    def remove_many(self, members: list[bytes]) -> int:
        d = self.d
        n = 0
        if d is not None:
            sl = self.sl
            for m in members:
                s = d.pop(m, None)
                if s is not None:
                    sl.remove(skey(s, m))  # type: ignore[union-attr]
                    n += 1
            return n
        ms, ss = _unpack(self.lp)  # type: ignore[arg-type]
        for m in members:
            try:
                i = ms.index(m)
            except ValueError:
                continue
            del ms[i]
            del ss[i]
            n += 1
        if n:
            self.lp = _pack(ms, ss)
        return n

    def pop(self, k: int, maximum: bool) -> list[tuple[bytes, float]]:
        """Remove the ``k`` lowest (highest) elements; (member, score) pairs lowest
        (highest) first."""
        n = len(self)
        if k > n:
            k = n
        d = self.d
        if d is not None:
            keys = self.sl.pop_end(k, maximum)  # type: ignore[union-attr]
            if keys is not None:
                if maximum:
                    keys.reverse()
                pop = d.pop
                return [(m, pop(m)) for m in map(member_of, keys)]
        if maximum:
            items = self.slice(n - k, n)
            items.reverse()
            self.remove_range(n - k, n)
        else:
            items = self.slice(0, k)
            self.remove_range(0, k)
        return items

    def remove_range(self, start: int, stop: int) -> list[bytes]:
        """Remove positions [start, stop); returns the removed members."""
        if start >= stop:
            return []
        if self.d is not None:
            keys = self.sl.slice(start, stop)  # type: ignore[union-attr]
            d = self.d
            sl = self.sl
            out = []
            for k in keys:
                m = k[KEY_PREFIX:]
                del d[m]
                sl.remove(k)  # type: ignore[union-attr]
                out.append(m)
            return out
        ms, ss = _unpack(self.lp)  # type: ignore[arg-type]
        out = ms[start:stop]
        del ms[start:stop]
        del ss[start:stop]
        self.lp = _pack(ms, ss)
        return out

    # -- positional reads --------------------------------------------------------------------
    def slice(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        """(member, score) at positions [start, stop), ascending."""
        if start >= stop:
            return []
        if self.lp is not None:
            ms, ss = _unpack(self.lp)
            return list(zip(ms[start:stop], ss[start:stop]))
        d = self.d
        return [(m, d[m]) for m in map(member_of, self.sl.slice(start, stop))]  # type: ignore[union-attr, index]

    def score_pos(self, x: float, exclusive: bool) -> int:
        """Number of elements with score < x (or <= x when ``exclusive``): the first
        position whose score is >= x (> x)."""
        if exclusive:
            if x == _INF:
                return len(self)
            x = math.nextafter(x, _INF)
        if self.lp is not None:
            return bisect_left(_unpack(self.lp)[1], x)
        return self.sl.bisect_left(score_prefix(x))  # type: ignore[union-attr]

    def score_range(self, mn: float, minex: bool, mx: float, maxex: bool) -> tuple[int, int]:
        """Positions [i, j) of the elements within the score range."""
        if mn > mx or (mn == mx and (minex or maxex)):
            return 0, 0
        i = self.score_pos(mn, minex)
        j = self.score_pos(mx, not maxex)
        return (i, j) if j > i else (0, 0)

    def lex_range(self, mn: LexBound, mx: LexBound, reverse: bool = False) -> tuple[int, int]:
        """Positions [i, j) of the elements in a lex range, found as Redis finds them
        (a scan from the head — or the tail for ``reverse`` — in the compact form)."""
        if lex_empty(mn, mx):
            return 0, 0
        n = len(self)
        if not n:
            return 0, 0
        # Redis's zslIsInLexRange: the tail must be >= min and the head <= max
        if self.lp is not None:
            ms = self.members()
            first, last = ms[0], ms[-1]
        else:
            first, last = self.sl.first()[KEY_PREFIX:], self.sl.last()[KEY_PREFIX:]  # type: ignore[union-attr]
        if not lex_gte_min(last, mn) or not lex_lte_max(first, mx):
            return 0, 0
        if self.lp is not None:
            if not reverse:
                i = 0
                while i < n and not lex_gte_min(ms[i], mn):
                    i += 1
                j = i
                while j < n and lex_lte_max(ms[j], mx):
                    j += 1
                return i, j
            j = n - 1
            while j >= 0 and not lex_lte_max(ms[j], mx):
                j -= 1
            i = j
            while i >= 0 and lex_gte_min(ms[i], mn):
                i -= 1
            return i + 1, j + 1
        sl = self.sl
        if mn.kind == -1:
            i = 0
        elif mn.kind == 1:
            i = len(sl)  # type: ignore[arg-type]
        else:
            i = sl.bisect_member(mn.value, mn.kind == 2, member_of)  # type: ignore[union-attr]
        if mx.kind == 1:
            j = len(sl)  # type: ignore[arg-type]
        elif mx.kind == -1:
            j = 0
        else:
            j = sl.bisect_member(mx.value, mx.kind == 0, member_of)  # type: ignore[union-attr]
        return (i, j) if j > i else (0, 0)

    @classmethod
    def from_items(cls, items: list[tuple[bytes, float]], max_entries: int, max_value: int) -> ZSet:
        """Build from (member, score) pairs with distinct members (any order): compact when
        it fits the limits (Redis's zsetConvertToListpackIfNeeded)."""
        n = len(items)
        if n <= max_entries and all(len(m) <= max_value for m, _ in items):
            z = cls(True)
            if n:
                pairs = sorted((s, m) for m, s in items)
                z.lp = _pack([m for _, m in pairs], [s for s, _ in pairs])
            return z
        z = cls(False)
        z.d = dict(items)
        z.sl = SortedPairs([skey(s, m) for m, s in items])
        return z
