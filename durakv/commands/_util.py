"""Argument parsing helpers shared by handlers (Redis's getLongLongFromObject & co)."""

from __future__ import annotations

import math
import re

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


_STRTOD = re.compile(
    rb"[+-]?(?:(?P<inf>inf(?:inity)?)|(?P<nan>nan(?:\([0-9a-z_]*\))?)"
    rb"|(?P<hex>0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?)"
    rb"|(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?))",
    re.IGNORECASE,
)


def strtod(b: bytes) -> float | None:
    """C's strtod over the whole of ``b`` as Redis uses it: None where Redis gives an error
    (leading space, trailing bytes, NaN, overflow or underflow: ERANGE)."""
    if 0 < len(b) <= 20:  # the common case, plain decimals ("-12.5"): float() agrees exactly
        t = b[1:] if b[0] == 45 else b  # '-'
        if t.replace(b".", b"", 1).isdigit():
            return float(b)
    m = _STRTOD.fullmatch(b)
    if m is None:
        return None
    if m.group("nan") is not None:
        return None
    if m.group("inf") is not None:
        return -math.inf if b[:1] == b"-" else math.inf
    text = b.decode("ascii")
    if m.group("hex") is not None:
        sign = -1.0 if text[0] == "-" else 1.0
        body = text.lstrip("+-")
        try:
            v = sign * float.fromhex(body if "p" in body.lower() else body + "p0")
        except OverflowError:
            return None
    else:
        v = float(text)
    if math.isinf(v):
        return None  # ERANGE overflow
    if v == 0.0:
        digits = m.group("hex") or m.group("dec") or ""
        mant = digits.lower().split(b"e")[0] if m.group("dec") else digits.lower()[2:].split(b"p")[0]
        if any(ch not in b"0." for ch in mant):
            return None  # underflow to zero: ERANGE
    return v


def parse_float(b: bytes, msg: str = errors.NOT_FLOAT) -> float:
    """A double as Redis's getDoubleFromObject accepts it (strtod, whole string, no NaN,
    no ERANGE, no leading space)."""
    v = strtod(b)
    if v is None:
        raise CommandError(msg)
    return v


def upper(b: bytes) -> bytes:
    return b.upper()
