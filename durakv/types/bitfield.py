"""Bit-field arithmetic for BITFIELD: reading/writing integers at bit offsets, overflow.

Pure functions on ``bytes``/``bytearray`` (bit 0 = most significant bit of byte 0) that
reproduce Redis 7.0's ``getUnsignedBitfield``/``setUnsignedBitfield`` and
``check{Unsigned,Signed}BitfieldOverflow``, including the C 64-bit wrap-around of the
intermediate values (which decides, for example, that ``SET i8 0 -2^63`` under
``OVERFLOW SAT`` saturates to the maximum).
"""

from __future__ import annotations

OVERFLOW_WRAP = 0
OVERFLOW_SAT = 1
OVERFLOW_FAIL = 2

_U64 = 1 << 64
_I64_MAX = (1 << 63) - 1


def to_int64(x: int) -> int:
    """Wrap a Python int to a C int64_t."""
    x &= _U64 - 1
    return x - _U64 if x >> 63 else x


def get_unsigned(buf: bytes | bytearray, offset: int, bits: int) -> int:
    """The ``bits``-wide unsigned integer at bit ``offset`` (zero past the end)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    nbytes = last - first + 1
    chunk = buf[first : last + 1]
    x = int.from_bytes(chunk, "big")
    if len(chunk) < nbytes:
        x <<= (nbytes - len(chunk)) << 3
    shift = (nbytes << 3) - (offset & 7) - bits
    return (x >> shift) & ((1 << bits) - 1)


def set_unsigned(buf: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value`` at bit ``offset`` (buf must be long enough)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    nbytes = last - first + 1
    x = int.from_bytes(buf[first : last + 1], "big")
    shift = (nbytes << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    x = (x & ~mask) | ((value << shift) & mask)
    buf[first : last + 1] = x.to_bytes(nbytes, "big")


def check_unsigned_overflow(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """(overflow: 0/1/-1, limit) as checkUnsignedBitfieldOverflow; value is a uint64."""
    mx = (1 << bits) - 1
    maxincr = to_int64(mx - value)
    minincr = to_int64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        if owtype == OVERFLOW_WRAP:
            return 1, (value + incr) & mx
        return 1, mx
    if incr < 0 and incr < minincr:
        if owtype == OVERFLOW_WRAP:
            return -1, (value + incr) & mx
        return -1, 0
    return 0, 0


def check_signed_overflow(value: int, incr: int, bits: int, owtype: int) -> tuple[int, int]:
    """(overflow: 0/1/-1, limit) as checkSignedBitfieldOverflow; value is an int64."""
    mx = _I64_MAX if bits == 64 else (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = to_int64(mx - value)
    minincr = to_int64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and incr > maxincr):
        return 1, _wrap_signed(value, incr, bits) if owtype == OVERFLOW_WRAP else mx
    if value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and incr < minincr):
        return -1, _wrap_signed(value, incr, bits) if owtype == OVERFLOW_WRAP else mn
    return 0, 0


def _wrap_signed(value: int, incr: int, bits: int) -> int:
    c = (value + incr) & ((1 << bits) - 1)
    if c >> (bits - 1):
        c -= 1 << bits
    return c
