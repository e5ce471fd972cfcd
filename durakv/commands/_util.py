"""Argument parsing helpers shared by handlers (Redis's getLongLongFromObject & co)."""

from __future__ import annotations

import math

from .. import errors
from ..errors import CommandError

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def parse_int(b: bytes, msg: str = errors.NOT_INTEGER) -> int:
    """A strict 64-bit signed integer as Redis's string2ll accepts it."""
    try:
        if len(b) > 20 or not b:
            raise ValueError
        c = b[0]
        if c == 0x2D:  # '-'
            if len(b) == 1 or b[1] == 0x30 or not b[1:].isdigit():
                raise ValueError
        elif c == 0x30:
            if len(b) != 1:
                raise ValueError
        elif not b.isdigit():
            raise ValueError
        v = int(b)
    except ValueError:
        raise CommandError(msg) from None
    if v > LLONG_MAX or v < LLONG_MIN:
        raise CommandError(msg)
    return v


def parse_float(b: bytes, msg: str = errors.NOT_FLOAT) -> float:
    """A double as Redis's getDoubleFromObject accepts it (no spaces, no nan)."""
    if not b or b[0:1].isspace() or b[-1:].isspace():
        raise CommandError(msg)
    try:
        v = float(b)
    except ValueError:
        raise CommandError(msg) from None
    if math.isnan(v):
        raise CommandError(msg)
    return v


def upper(b: bytes) -> bytes:
    return b.upper()
