"""The ``Log`` interface every log implements (FileLog, JetStreamLog, MemoryLog).

A log stores opaque records (payload bytes) under consecutive sequence numbers starting
at 1.  ``append`` returns at once with the sequence the record got; the log later calls
``on_durable(seq)`` (on the event loop) once every record up to ``seq`` is durable, or
``on_failure(exc)`` if it cannot make them durable.  ``on_durable`` may be called from
inside ``append`` when the policy does not wait (``appendfsync no``/``everysec``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator


class LogError(Exception):
    """The log refused or failed an append (disk full, I/O error, fenced)."""


class Log:
    on_durable: Callable[[int], None]
    on_failure: Callable[[Exception], None]

    def __init__(self) -> None:
        self.on_durable = lambda seq: None
        self.on_failure = lambda exc: None

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        raise NotImplementedError

    def read(self, from_seq: int) -> Iterator[tuple[int, bytes]]:
        raise NotImplementedError

    def last_seq(self) -> int:
        raise NotImplementedError

    def first_seq(self) -> int:
        """The lowest sequence still stored (1 when nothing was truncated)."""
        return 1

    def truncate_before(self, seq: int) -> None:
        raise NotImplementedError

    def set_policy(self, policy: str) -> None:
        """``always`` / ``everysec`` / ``no`` (meaningful for the file log)."""

    def close(self) -> None:
        pass


class MemoryLog(Log):
    """Keeps records in memory and reports them durable at once (no persistence)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[bytes] = []
        self.base = 1

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        self.records.append(payload)
        seq = self.base + len(self.records) - 1
        self.on_durable(seq)
        return seq

    def read(self, from_seq: int) -> Iterator[tuple[int, bytes]]:
        for i in range(max(from_seq, self.base) - self.base, len(self.records)):
            yield self.base + i, self.records[i]

    def last_seq(self) -> int:
        return self.base + len(self.records) - 1

    def first_seq(self) -> int:
        return self.base

    def truncate_before(self, seq: int) -> None:
        drop = max(0, min(seq - self.base, len(self.records)))
        del self.records[:drop]
        self.base += drop


class NullLog(MemoryLog):
    """``appendonly no``: nothing is kept; every record is 'durable' at once."""

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        self.base += 1
        self.on_durable(self.base - 1)
        return self.base - 1

    def last_seq(self) -> int:
        return self.base - 1
