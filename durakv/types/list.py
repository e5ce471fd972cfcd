"""The list type: a ``collections.deque`` (O(1) pushes and pops at both ends).

Redis 7.0 always reports the ``quicklist`` encoding for lists (the listpack encoding of
small lists arrived in 7.2), so there is a single representation here.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any


class List(deque):  # type: ignore[type-arg]
    """A Redis list; iterate it for the elements head to tail."""

    type_name = "list"
    __slots__ = ()

    def encoding(self, config: Any = None) -> str:
        return "quicklist"

    def copy(self) -> List:  # type: ignore[override]
        return List(self)

    def range(self, start: int, stop: int) -> list[bytes]:
        """Elements start..stop inclusive (already-normalized, 0 <= start <= stop < len)."""
        n = len(self)
        if stop - start + 1 == n:
            return list(self)
        if start > n - 1 - stop:
            # nearer the tail: walk from the end
            out = list(islice(reversed(self), n - 1 - stop, n - start))
            out.reverse()
            return out
        return list(islice(self, start, stop + 1))
