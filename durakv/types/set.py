"""The set type: a Python ``set`` of bytes members plus the intset flag.

Redis 7.0 keeps a set of integers (each member the canonical decimal form of a 64-bit
signed integer) as a sorted *intset* while it has at most ``set-max-intset-entries``
members, then converts it to a hashtable for good.  We keep one hashed representation
and an ``intset`` flag for what OBJECT ENCODING reports; while the flag is set, iteration
follows Redis's intset order (ascending integers), which is also what SMEMBERS shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_LLMAX = 2**63 - 1
_LLMIN = -(2**63)


def is_int_member(m: bytes) -> bool:
    """True if Redis would store ``m`` in an intset (string2ll accepts it exactly)."""
    n = len(m)
    if n == 0 or n > 20:
        return False
    c = m[0]
    if c == 0x2D:  # '-'
        if n == 1 or m[1] == 0x30 or not m[1:].isdigit():
            return False
    elif c == 0x30:
        return n == 1
    elif not m.isdigit():
        return False
    v = int(m)
    return _LLMIN <= v <= _LLMAX


class Set(set):  # type: ignore[type-arg]
    """A Redis set (bytes members).  ``intset`` is True while Redis would use an intset."""

    type_name = "set"
    __slots__ = ("intset",)

    def __init__(self, members: Iterable[bytes] = ()) -> None:
        super().__init__(members)
        self.intset = False

    def encoding(self, config: Any = None) -> str:
        return "intset" if self.intset else "hashtable"

    def copy(self) -> Set:  # type: ignore[override]
        s = Set(self)
        s.intset = self.intset
        return s

    def members(self) -> list[bytes]:
        """Members in iteration order (ascending integers while intset-encoded)."""
        if self.intset:
            return sorted(self, key=int)
        return list(self)

    def add_member(self, m: bytes, max_intset: int) -> bool:
        """Add one member (keeping the encoding flag right); True if it was new."""
        if m in self:
            return False
        self.add(m)
        if self.intset and (len(self) > max_intset or not is_int_member(m)):
            self.intset = False
        return True

    def add_members(self, ms: Iterable[bytes], max_intset: int) -> int:
        n = len(self)
        if self.intset:
            for m in ms:
                if m not in self:
                    self.add(m)
                    if self.intset and not is_int_member(m):
                        self.intset = False
            if len(self) > max_intset:
                self.intset = False
        else:
            self.update(ms)
        return len(self) - n

    @classmethod
    def new_for(cls, first: bytes, max_intset: int) -> Set:
        """An empty set encoded as Redis's setTypeCreate would for ``first`` as first member."""
        s = cls()
        s.intset = is_int_member(first)
        return s
