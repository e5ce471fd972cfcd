"""The stream data type: entries, Redis-shaped listpack nodes, consumer groups.

Entries live in two flat lists (``ids`` and ``vals``) ordered by ID; an ID is one Python
int ``ms << 64 | seq`` so that comparisons and ``bisect`` are cheap.  Next to them the
stream keeps a model of Redis's radix tree of listpack *nodes* (master ID, live and
deleted counts, estimated listpack bytes) so that node-granular behaviour — approximate
(``~``) trimming that only drops whole nodes, ``radix-tree-keys`` in XINFO — matches
Redis 7.0 for the same sequence of commands.

Consumer groups keep Redis's state: last delivered ID, ``entries_read``, the group PEL
(ID -> :class:`NACK`) and the consumers with their own PEL views of the same NACKs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import attrgetter

MAX64 = (1 << 64) - 1
MAXID = (MAX64 << 64) | MAX64
INVALID_ENTRIES_READ = -1


def fmt_id(i: int) -> bytes:
    return b"%d-%d" % (i >> 64, i & MAX64)


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


# -- listpack size model (Redis's lpEncodeBacklen / integer and string encodings) -----------
def _int_size(v: int) -> int:
    """Bytes of an integer listpack element (encoding + backlen)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def _is_lp_int(b: bytes) -> bool:
    n = len(b)
    if n == 0 or n > 20:
        return False
    c = b[0]
    if c == 45:  # '-'
        if n == 1 or b[1] == 48 or not b[1:].isdigit():
            return False
    elif c == 48:
        return n == 1
    elif not b.isdigit():
        return False
    return -(1 << 63) <= int(b) < (1 << 63)


def _str_size(b: bytes) -> int:
    n = len(b)
    if n <= 20 and n:
        c = b[0]
        # a positive integer below 10**18 (no sign, no leading zero) fits an int64 for sure:
        # its size follows from the value alone (the common XADD value)
        if 49 <= c <= 57 and n < 19 and b.isdigit():
            v = int(b)
            return (2 if v <= 127 else 3 if v <= 4095 else 4 if v <= 32767 else 5 if v <= 8388607
                    else 6 if v <= 2147483647 else 10)
        if (c == 45 or 48 <= c <= 57) and _is_lp_int(b):
            return _int_size(int(b))
    if n < 64:
        enc = 1 + n
    elif n < 4096:
        enc = 2 + n
    else:
        enc = 5 + n
    if enc <= 127:
        return enc + 1
    if enc < 16383:
        return enc + 2
    if enc < 2097151:
        return enc + 3
    if enc < 268435455:
        return enc + 4
    return enc + 5


def _fields_size(items: list[bytes]) -> int:
    """Listpack bytes of the strings ``items``."""
    size = 0
    for v in items:
        n = len(v)
        # a short string unless it may be a listpack integer ("0", or a sign or digit 1-9
        # first: a leading zero is a string)
        size += n + 2 if n < 64 and not (n <= 20 and n and (49 <= v[0] <= 57 or v[0] == 45 or v == b"0")) else _str_size(v)
    return size


class StreamNode:
    """One listpack of Redis's radix tree: entries from ``master`` on, up to ``last``.

    The master ID is also kept as separate ms and seq ints (``mms``, ``mseq``) and a
    single master field as ``field1`` (None when there are several), so that sizing an
    appended entry does small-int arithmetic and one comparison in the common case.
    """

    __slots__ = ("master", "mms", "mseq", "last", "live", "total", "fields", "field1", "mbytes", "ebytes")

    def __init__(self, master: int, fields: list[bytes]) -> None:
        self.master = master
        self.mms = master >> 64
        self.mseq = master & MAX64
        self.last = master
        self.live = 0
        self.total = 0
        self.fields = mf = fields[0::2]
        self.field1 = mf[0] if len(mf) == 1 else None
        self.mbytes = _int_size(len(mf)) + sum(_str_size(f) for f in mf) + 2
        self.ebytes = 0


_master = attrgetter("master")


class NACK:
    """A pending entry: last delivery time (ms), delivery count, owning consumer."""

    __slots__ = ("time", "count", "consumer")

    def __init__(self, time: int, count: int, consumer: Consumer) -> None:
        self.time = time
        self.count = count
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen", "pel")

    def __init__(self, name: bytes, seen: int) -> None:
        self.name = name
        self.seen = seen
        self.pel: dict[int, NACK] = {}


class Group:
    __slots__ = ("name", "last_id", "entries_read", "pel", "consumers")

    def __init__(self, name: bytes, last_id: int, entries_read: int) -> None:
        self.name = name
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: dict[int, NACK] = {}
        self.consumers: dict[bytes, Consumer] = {}

    def sorted_pel(self) -> list[int]:
        return sorted(self.pel)


class Stream:
    type_name = "stream"
    __slots__ = ("ids", "vals", "nodes", "last_id", "entries_added", "max_deleted", "groups", "encs")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.vals: list[list[bytes]] = []
        self.nodes: list[StreamNode] = []
        self.last_id = 0
        self.entries_added = 0
        self.max_deleted = 0
        self.groups: dict[bytes, Group] | None = None
        # reply-encoding cache, parallel to ``ids``: the RESP bytes of an entry once a
        # reader encoded it (None before); entries never change
        self.encs: list[bytes | None] = []

    def encoding(self, config: object = None) -> str:
        return "stream"

    def __len__(self) -> int:
        return len(self.ids)

    def copy(self) -> Stream:
        """A deep copy (COPY): entries, node model and consumer groups with their PELs."""
        n = Stream()
        n.ids = list(self.ids)
        n.vals = [list(v) for v in self.vals]
        n.encs = list(self.encs)
        for node in self.nodes:
            m = StreamNode.__new__(StreamNode)
            m.master, m.mms, m.mseq = node.master, node.mms, node.mseq
            m.last, m.live, m.total = node.last, node.live, node.total
            m.fields, m.field1, m.mbytes, m.ebytes = list(node.fields), node.field1, node.mbytes, node.ebytes
            n.nodes.append(m)
        n.last_id, n.entries_added, n.max_deleted = self.last_id, self.entries_added, self.max_deleted
        if self.groups is not None:
            n.groups = {}
            for name, g in self.groups.items():
                ng = Group(name, g.last_id, g.entries_read)
                for cname, cons in g.consumers.items():
                    nc = Consumer(cname, cons.seen)
                    ng.consumers[cname] = nc
                    for sid, nack in cons.pel.items():
                        nn = NACK(nack.time, nack.count, nc)
                        nc.pel[sid] = nn
                        ng.pel[sid] = nn
                n.groups[name] = ng
        return n

    @property
    def first_id(self) -> int:
        return self.ids[0] if self.ids else 0

    # -- adding and removing ------------------------------------------------------------
    def append(self, sid: int, fields: list[bytes], max_entries: int, max_bytes: int) -> None:
        """Add an entry whose ID is known to be greater than ``last_id``."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            if max_entries and node.total >= max_entries:
                node = None
            else:
                if max_bytes <= 0 or max_bytes > 1 << 30:
                    max_bytes = 1 << 30
                live = node.live
                dead = node.total - live
                lp = (7 + (2 if live < 128 else _int_size(live)) + (2 if dead < 128 else _int_size(dead))
                      + node.mbytes + node.ebytes)
                if lp + (len(fields[0]) + len(fields[1]) if len(fields) == 2 else sum(map(len, fields))) >= max_bytes:
                    node = None
        if node is None:
            node = StreamNode(sid, fields)
            nodes.append(node)
        # the entry's bytes in the listpack: flags, ms and seq deltas from the master ID
        # (the seq delta as Redis's int64 cast of an unsigned difference), then the values
        # and the lp-count if the fields are the master's, else field count, fields, values
        # and lp-count
        ms_d = (sid >> 64) - node.mms
        seq_d = (sid & MAX64) - node.mseq
        size = 4 if 0 <= ms_d <= 127 else 2 + _int_size(ms_d)
        if 0 <= seq_d <= 127:
            size += 2
        else:
            if seq_d >= 1 << 63:
                seq_d -= 1 << 64
            elif seq_d < -(1 << 63):
                seq_d += 1 << 64
            size += _int_size(seq_d)
        nv = len(fields)
        if nv == 2:
            v = fields[1]
            n = len(v)
            if n and n < 19 and 49 <= v[0] <= 57 and v.isdigit():
                # a positive integer below 10**18: _str_size's first case, without the call
                i = int(v)
                vsize = (2 if i <= 127 else 3 if i <= 4095 else 4 if i <= 32767 else 5 if i <= 8388607
                         else 6 if i <= 2147483647 else 10)
            elif n < 64 and not (n <= 20 and n and (49 <= v[0] <= 57 or v[0] == 45 or v == b"0")):
                vsize = n + 2
            else:
                vsize = _str_size(v)
            if fields[0] == node.field1:
                size += vsize + 2
            else:
                size += _fields_size(fields[:1]) + vsize + 4
        else:
            nf = nv >> 1
            if nf == len(node.fields) and fields[0::2] == node.fields:
                size += _fields_size(fields[1::2]) + (2 if nf < 125 else _int_size(3 + nf))
            else:
                size += ((2 if nf < 128 else _int_size(nf)) + _fields_size(fields)
                         + (2 if nf < 62 else _int_size(4 + 2 * nf)))
        node.ebytes += size
        node.live += 1
        node.total += 1
        node.last = sid
        self.ids.append(sid)
        self.vals.append(fields)
        self.encs.append(None)
        self.last_id = sid
        self.entries_added += 1

    def delete(self, sid: int) -> bool:
        ids = self.ids
        i = bisect_left(ids, sid)
        if i == len(ids) or ids[i] != sid:
            return False
        del ids[i]
        del self.vals[i]
        del self.encs[i]
        nodes = self.nodes
        j = bisect_right(nodes, sid, key=_master) - 1
        node = nodes[j]
        node.live -= 1
        if node.live == 0:
            del nodes[j]
        if sid > self.max_deleted:
            self.max_deleted = sid
        return True

    def trim(self, minid: bool, threshold: int, approx: bool, limit: int) -> int:
        """Redis's streamTrim: MAXLEN (threshold = length) or MINID (threshold = ID)."""
        ids = self.ids
        nodes = self.nodes
        deleted = 0
        while nodes:
            length = len(ids)
            if not minid and length <= threshold:
                break
            node = nodes[0]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if minid:
                remove = node.last < threshold
            else:
                remove = length - entries >= threshold
            if remove:
                del nodes[0]
                if entries:
                    del ids[:entries]
                    del self.vals[:entries]
                    del self.encs[:entries]
                deleted += entries
                continue
            if approx:
                break
            k = 0
            if minid:
                while k < entries and ids[k] < threshold:
                    k += 1
            else:
                k = min(entries, length - threshold)
            if k:
                node.live -= k
                del ids[:k]
                del self.vals[:k]
                del self.encs[:k]
                deleted += k
            break
        return deleted

    # -- reading ------------------------------------------------------------------------
    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list[tuple[int, list[bytes]]]:
        """Entries with start <= ID <= end (ascending, or descending if ``rev``)."""
        ids = self.ids
        if start > end or not ids:
            return []
        lo = bisect_left(ids, start) if start else 0
        hi = bisect_right(ids, end) if end != MAXID else len(ids)
        if lo >= hi:
            return []
        vals = self.vals
        if rev:
            if count and hi - lo > count:
                lo = hi - count
            return [(ids[i], vals[i]) for i in range(hi - 1, lo - 1, -1)]
        if count and hi - lo > count:
            hi = lo + count
        return list(zip(ids[lo:hi], vals[lo:hi], strict=True))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Positions [lo, hi) of the entries with start <= ID <= end."""
        ids = self.ids
        if start > end or not ids:
            return 0, 0
        lo = bisect_left(ids, start) if start else 0
        hi = bisect_right(ids, end) if end != MAXID else len(ids)
        return (lo, hi) if lo < hi else (0, 0)

    def get(self, sid: int) -> list[bytes] | None:
        ids = self.ids
        i = bisect_left(ids, sid)
        if i < len(ids) and ids[i] == sid:
            return self.vals[i]
        return None

    def after(self, sid: int, count: int = 0) -> list[tuple[int, list[bytes]]]:
        """Entries with ID > sid (XREAD)."""
        ids = self.ids
        lo = bisect_right(ids, sid)
        hi = len(ids)
        if count and hi - lo > count:
            hi = lo + count
        vals = self.vals
        return [(ids[i], vals[i]) for i in range(lo, hi)]

    def rax_nodes(self) -> int:
        """Node count of Redis's radix tree holding the listpack master IDs (XINFO)."""
        keys = [(n.master).to_bytes(16, "big") for n in self.nodes]
        if not keys:
            return 1
        nodes: set[bytes] = {b""}
        nodes.update(keys)
        for a, b in zip(keys, keys[1:], strict=False):
            lcp = 0
            while a[lcp] == b[lcp]:
                lcp += 1
            nodes.add(a[:lcp])
            nodes.add(a[: lcp + 1])
            nodes.add(b[: lcp + 1])
        return len(nodes)

    # -- consumer-group bookkeeping (Redis 7.0 lag / entries-read logic) ------------------
    def has_tombstones(self, start: int, end: int = MAXID) -> bool:
        md = self.max_deleted
        if not self.ids or not md:
            return False
        if self.first_id > md:
            return False
        return start <= md <= end

    def estimate_distance(self, sid: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry."""
        if not self.entries_added:
            return 0
        if not self.ids and sid <= self.last_id:
            return self.entries_added
        if sid == self.last_id:
            return self.entries_added
        if sid > self.last_id:
            return INVALID_ENTRIES_READ
        first = self.first_id
        md = self.max_deleted
        if not md or md < first:
            if sid < first:
                return self.entries_added - len(self.ids)
            if sid == first:
                return self.entries_added - len(self.ids) + 1
        return INVALID_ENTRIES_READ

    def group_lag(self, g: Group) -> int | None:
        if not self.entries_added:
            return 0
        if g.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(g.last_id):
            return self.entries_added - g.entries_read
        er = self.estimate_distance(g.last_id)
        if er != INVALID_ENTRIES_READ:
            return self.entries_added - er
        return None

    def advance_group(self, g: Group, sid: int) -> None:
        """A group delivered ``sid`` beyond its last ID: move last_id and entries_read."""
        if g.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones(sid):
            g.entries_read += 1
        elif self.entries_added:
            g.entries_read = self.estimate_distance(sid)
        g.last_id = sid
