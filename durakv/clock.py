"""Time and randomness, injected so that tests can drive them without sleeping."""

from __future__ import annotations

import random
import time


class Clock:
    """Wall time in ms (expiry, TIME) and a monotonic time (timeouts, leases, latency)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now_us(self) -> int:
        return time.time_ns() // 1_000

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """A clock tests move by hand."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.ms = start_ms
        self.mono = 1000.0

    def now_ms(self) -> int:
        return self.ms

    def now_us(self) -> int:
        return self.ms * 1000

    def monotonic(self) -> float:
        return self.mono

    def advance(self, ms: int) -> None:
        self.ms += ms
        self.mono += ms / 1000


def make_rng(seed: int | None = None) -> random.Random:
    return random.Random(seed)


class FixedClock(Clock):
    """A clock whose ``now_ms`` stays at one reading; the rest passes through.

    Redis checks expiry against a time taken when a transaction or a script starts
    (``fixed_time_expire``, the script's time snapshot): a key set with ``PX 1`` inside
    MULTI is still there for the GET that follows it in the same EXEC.
    """

    def __init__(self, base: Clock, ms: int) -> None:
        self.base = base
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms

    def now_us(self) -> int:
        return self.base.now_us()

    def monotonic(self) -> float:
        return self.base.monotonic()
