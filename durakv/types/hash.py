"""The hash type: a compact packed blob while small (Redis's listpack), a dict past the limits.

A small hash is one ``bytes`` object (see :func:`pack`): a 5-byte header, the lengths of
every field and value, then their bytes.  That costs ~40 bytes of Python overhead for the
whole hash instead of ~1.5 KB for a dict of bytes objects.  Operations on a small hash
unpack it (one C-speed pass), work on the flat list and pack it again — like Redis's
listpack, O(n) for n <= ``hash-max-listpack-entries``.  Past ``hash-max-listpack-entries``
fields or ``hash-max-listpack-value`` bytes in one field or value the hash becomes a dict
for good (conversion is one-way, as in Redis).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

_EMPTY = b"\x01\x00\x00\x00\x00"


def pack(items: list[bytes]) -> bytes:
    """Pack a list of byte strings into one blob (header, lengths, data)."""
    n = len(items)
    if not n:
        return _EMPTY
    try:
        lens = bytes(map(len, items))
    except ValueError:  # a length of 256 or more
        return b"\x04" + n.to_bytes(4, "little") + array("I", map(len, items)).tobytes() + b"".join(items)
    return b"\x01" + n.to_bytes(4, "little") + lens + b"".join(items)


def _offsets(blob: bytes) -> list[int]:
    """Start offsets of the packed items, plus the end: item k is ``blob[o[k]:o[k + 1]]``."""
    n = int.from_bytes(blob[1:5], "little")
    if blob[0] == 1:
        pos = 5 + n
        lens: Any = blob[5:pos]
    else:
        pos = 5 + 4 * n
        lens = array("I", blob[5:pos])
    return list(accumulate(lens, initial=pos))


def unpack(blob: bytes) -> list[bytes]:
    """The list of byte strings packed in ``blob``."""
    offs = _offsets(blob)
    return [blob[a:b] for a, b in zip(offs, offs[1:])]


def find_packed(blob: bytes, item: bytes, even: bool) -> tuple[int, list[int]]:
    """(index, offsets) of the first ``item`` in ``blob`` (at an even index when ``even``),
    index -1 if absent; item k spans ``blob[offsets[k]:offsets[k + 1]]``.  Finds it with a
    substring search instead of slicing out every item."""
    offs = _offsets(blob)
    n = len(offs) - 1
    size = len(item)
    if not size:
        for j in range(0, n, 2 if even else 1):
            if offs[j + 1] == offs[j]:
                return j, offs
        return -1, offs
    end = offs[-1]
    p = blob.find(item, offs[0], end)
    while p >= 0:
        try:
            j = offs.index(p)
        except ValueError:
            pass
        else:
            while j < n and offs[j] == p:
                if offs[j + 1] - p == size and not (even and j & 1):
                    return j, offs
                j += 1
        p = blob.find(item, p + 1, end)
    return -1, offs


def packed_len(blob: bytes) -> int:
    return int.from_bytes(blob[1:5], "little")


class Hash:
    """A Redis hash.  ``lp`` is the packed flat [f1, v1, f2, v2 ...] blob while compact,
    else None and ``d`` is a dict field -> value (insertion order)."""

    type_name = "hash"
    __slots__ = ("lp", "d")

    def __init__(self) -> None:
        self.lp: bytes | None = _EMPTY
        self.d: dict[bytes, bytes] | None = None

    # -- introspection ---------------------------------------------------------------------
    def encoding(self, config: Any = None) -> str:
        return "listpack" if self.lp is not None else "hashtable"

    def __len__(self) -> int:
        if self.lp is not None:
            return packed_len(self.lp) >> 1
        return len(self.d)  # type: ignore[arg-type]

    def copy(self) -> Hash:
        h = Hash()
        h.lp = self.lp
        h.d = dict(self.d) if self.d is not None else None
        return h

    # -- reads -----------------------------------------------------------------------------
    def flat(self) -> list[bytes]:
        """[f1, v1, f2, v2 ...] in iteration order."""
        if self.lp is not None:
            return unpack(self.lp)
        out: list[bytes] = []
        for kv in self.d.items():  # type: ignore[union-attr]
            out += kv
        return out

    def items(self) -> list[tuple[bytes, bytes]]:
        """(field, value) pairs in iteration order (listpack order while compact)."""
        if self.lp is not None:
            fl = unpack(self.lp)
            return list(zip(fl[0::2], fl[1::2]))
        return list(self.d.items())  # type: ignore[union-attr]

    def keys(self) -> list[bytes]:
        if self.lp is not None:
            return unpack(self.lp)[0::2]
        return list(self.d)  # type: ignore[arg-type]

    def values(self) -> list[bytes]:
        if self.lp is not None:
            return unpack(self.lp)[1::2]
        return list(self.d.values())  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.items())

    def get(self, field: bytes) -> bytes | None:
        d = self.d
        if d is not None:
            return d.get(field)
        lp = self.lp
        if field not in lp:  # type: ignore[operator]
            return None  # not even a substring of the blob
        j, offs = find_packed(lp, field, True)  # type: ignore[arg-type]
        return None if j < 0 else lp[offs[j + 1] : offs[j + 2]]  # type: ignore[index]

    def __contains__(self, field: bytes) -> bool:
        return self.get(field) is not None

    # -- writes ----------------------------------------------------------------------------
    def set_many(self, pairs: list[bytes], max_entries: int, max_value: int) -> int:
        """Set fields from a flat [f, v, f, v ...] list; returns how many fields were new."""
        d = self.d
        if d is None:
            fl = unpack(self.lp)  # type: ignore[arg-type]
            added = 0
            big = False
            for i in range(0, len(pairs), 2):
                f = pairs[i]
                v = pairs[i + 1]
                if len(f) > max_value or len(v) > max_value:
                    big = True
                j = _find(fl, f)
                if j < 0:
                    fl.append(f)
                    fl.append(v)
                    added += 1
                else:
                    fl[j + 1] = v
            if big or len(fl) > 2 * max_entries:
                self.d = dict(zip(fl[0::2], fl[1::2]))
                self.lp = None
            else:
                self.lp = pack(fl)
            return added
        n = len(d)
        for i in range(0, len(pairs), 2):
            d[pairs[i]] = pairs[i + 1]
        return len(d) - n

    def set(self, field: bytes, value: bytes, max_entries: int, max_value: int) -> bool:
        """Set one field; True if it was new."""
        d = self.d
        if d is not None:
            n = len(d)
            d[field] = value
            return len(d) != n
        lp = self.lp
        lf = len(field)
        lv = len(value)
        if lp[0] == 1 and lf <= max_value and lv <= max_value and lf < 256 and lv < 256:  # type: ignore[index]
            # splice the blob instead of unpacking and repacking it
            if field in lp:  # type: ignore[operator]
                j, offs = find_packed(lp, field, True)  # type: ignore[arg-type]
                n = len(offs) - 1
            else:  # not even a substring of the blob: new
                j = -1
                n = int.from_bytes(lp[1:5], "little")  # type: ignore[index]
            if j < 0:
                if n + 2 <= 2 * max_entries:
                    p = 5 + n
                    self.lp = b"".join(
                        (b"\x01", (n + 2).to_bytes(4, "little"), lp[5:p], bytes((lf, lv)), lp[p:], field, value)  # type: ignore[index]
                    )
                    return True
            elif n <= 2 * max_entries:
                p = 6 + j  # the value's length byte
                self.lp = b"".join(
                    (lp[:p], bytes((lv,)), lp[p + 1 : offs[j + 1]], value, lp[offs[j + 2] :])  # type: ignore[index]
                )
                return False
        return self.set_many([field, value], max_entries, max_value) == 1

    def delete_many(self, fields: list[bytes]) -> int:
        d = self.d
        n = 0
        if d is not None:
            for f in fields:
                if d.pop(f, None) is not None:
                    n += 1
            return n
        lp = self.lp
        if len(fields) == 1 and lp[0] == 1:  # type: ignore[index]
            # one field: cut it out of the blob
            f = fields[0]
            if f not in lp:  # type: ignore[operator]
                return 0
            j, offs = find_packed(lp, f, True)  # type: ignore[arg-type]
            if j < 0:
                return 0
            m = len(offs) - 1
            self.lp = b"".join(
                (b"\x01", (m - 2).to_bytes(4, "little"), lp[5 : 5 + j], lp[7 + j : offs[j]], lp[offs[j + 2] :])  # type: ignore[index]
            )
            return 1
        fl = unpack(lp)  # type: ignore[arg-type]
        for f in fields:
            j = _find(fl, f)
            if j >= 0:
                del fl[j : j + 2]
                n += 1
        if n:
            self.lp = pack(fl)
        return n

    def convert(self) -> None:
        """Force the dict encoding (e.g. a field too long for the listpack limits)."""
        if self.lp is not None:
            fl = unpack(self.lp)
            self.d = dict(zip(fl[0::2], fl[1::2]))
            self.lp = None

    @classmethod
    def from_pairs(cls, pairs: list[tuple[bytes, bytes]], max_entries: int, max_value: int) -> Hash:
        """Build a hash (RDB load, RESTORE): compact when it fits the limits."""
        h = cls()
        flat: list[bytes] = []
        for f, v in pairs:
            flat.append(f)
            flat.append(v)
        h.set_many(flat, max_entries, max_value)
        return h


def _find(fl: list[bytes], field: bytes) -> int:
    """Index of ``field`` among the even positions of a flat list, or -1."""
    i = 0
    n = len(fl)
    while True:
        try:
            i = fl.index(field, i)
        except ValueError:
            return -1
        if not i & 1:
            return i
        i += 1
        if i >= n:
            return -1
