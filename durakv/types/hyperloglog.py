"""HyperLogLog in Redis's exact representation (hyperloglog.c of Redis 7.0).

A HyperLogLog is a plain string value: a 16-byte header (``HYLL``, encoding byte, three
unused bytes, the cached cardinality as 8 little-endian bytes whose top bit marks it
stale) followed by 16384 six-bit registers, either *dense* (12288 packed bytes) or
*sparse* (ZERO / XZERO / VAL opcodes).  Elements are hashed with MurmurHash64A (seed
0xadc83b19); the count is Ertl's improved estimator as in Redis 7.  The functions here
work on ``bytearray`` buffers and reproduce Redis byte for byte, so a value copied from a
real Redis (GET/SET, DUMP/RESTORE) works here and back.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any

import numpy as np

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_P_MASK = HLL_REGISTERS - 1
HLL_BITS = 6
HLL_REGISTER_MAX = (1 << HLL_BITS) - 1
HLL_HDR_SIZE = 16
HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) // 8
HLL_DENSE = 0
HLL_SPARSE = 1
HLL_SPARSE_VAL_MAX_VALUE = 32
HLL_SPARSE_VAL_MAX_LEN = 4
HLL_SPARSE_ZERO_MAX_LEN = 64
HLL_SPARSE_XZERO_MAX_LEN = 16384
HLL_ALPHA_INF = 0.721347520444481703680

_M64 = (1 << 64) - 1
_MUR_M = 0xC6A4A7935BD1E995
_SEED = 0xADC83B19


# the starting hash per length for Redis's seed: one multiplication fewer per call
_H0 = [(_SEED ^ (n * _MUR_M)) & _M64 for n in range(65)]


def murmur64a(data: bytes, _h0: list[int] = _H0, m: int = _MUR_M, M: int = _M64, _fb: Any = int.from_bytes) -> int:
    """MurmurHash64A with Redis's HLL seed, as Redis compiles it (little-endian 8-byte
    blocks).  (The defaults make the constants locals: this runs once per element.)"""
    n = len(data)
    if n < 16:
        # up to one block and a tail (redis-benchmark's 12-digit elements, most ids): no loop
        x = _fb(data, "little")
        h = _h0[n]
        if n >= 8:
            k = ((x & M) * m) & M
            h = ((h ^ (((k ^ (k >> 47)) * m) & M)) * m) & M
            x >>= 64
        if n & 7:
            h = ((h ^ x) * m) & M
    elif n <= 64:
        # one int for all of it, its blocks shifted off the bottom, instead of a slice and
        # an int per block
        h = _h0[n]
        x = _fb(data, "little")
        nb = n >> 3
        while nb:
            k = ((x & M) * m) & M
            k ^= k >> 47
            h = ((h ^ ((k * m) & M)) * m) & M
            x >>= 64
            nb -= 1
        if n & 7:
            h = ((h ^ x) * m) & M
    else:
        h = (_SEED ^ (n * m)) & M
        end = n & ~7
        i = 0
        while i < end:
            k = (_fb(data[i:i + 8], "little") * m) & M
            k ^= k >> 47
            h = ((h ^ ((k * m) & M)) * m) & M
            i += 8
        if n & 7:
            h = ((h ^ _fb(data[end:], "little")) * m) & M
    h = ((h ^ (h >> 47)) * m) & M
    return h ^ (h >> 47)


def pat_len(ele: bytes) -> tuple[int, int]:
    """(register index, run length of the 0...01 pattern) for an element."""
    h = murmur64a(ele)
    index = h & HLL_P_MASK
    h = (h >> HLL_P) | (1 << HLL_Q)
    return index, (h & -h).bit_length()


# -- validity and construction --------------------------------------------------------------
def is_hll(v: bytes) -> bool:
    """Redis's isHLLObjectOrReply checks (magic, encoding, dense length)."""
    if len(v) < HLL_HDR_SIZE or not v.startswith(b"HYLL"):
        return False
    enc = v[4]
    if enc > HLL_SPARSE:
        return False
    return not (enc == HLL_DENSE and len(v) != HLL_DENSE_SIZE)


def new_sparse() -> bytearray:
    """createHLLObject: an empty sparse HLL (one XZERO opcode)."""
    b = bytearray(b"HYLL\x01\x00\x00\x00" + b"\x00" * 8)
    aux = HLL_REGISTERS
    while aux:
        xz = min(HLL_SPARSE_XZERO_MAX_LEN, aux)
        ln = xz - 1
        b.append((ln >> 8) | 0x40)
        b.append(ln & 0xFF)
        aux -= xz
    return b


def invalidate_cache(b: bytearray) -> None:
    b[15] |= 0x80


def cache_valid(v: bytes) -> bool:
    return not v[15] & 0x80


def cached_card(v: bytes) -> int:
    return int.from_bytes(v[8:16], "little")


def set_cache(b: bytearray, card: int) -> None:
    b[8:16] = (card & _M64).to_bytes(8, "little")


# -- dense registers ------------------------------------------------------------------------
def dense_get(b: bytes | bytearray, reg: int) -> int:
    pos = HLL_HDR_SIZE + reg * 6 // 8
    fb = reg * 6 & 7
    b0 = b[pos]
    b1 = b[pos + 1] if pos + 1 < len(b) else 0
    return ((b0 >> fb) | (b1 << (8 - fb))) & 63


def dense_set(b: bytearray, reg: int, val: int) -> int:
    """hllDenseSet: raise register ``reg`` to ``val``; 1 if it changed."""
    pos = HLL_HDR_SIZE + reg * 6 // 8
    fb = reg * 6 & 7
    b0 = b[pos]
    if fb <= 2:
        old = (b0 >> fb) & 63
        if val <= old:
            return 0
        b[pos] = (b0 & ~(63 << fb) & 0xFF) | (val << fb)
        return 1
    b1 = b[pos + 1]
    fb8 = 8 - fb
    old = ((b0 >> fb) | (b1 << fb8)) & 63
    if val <= old:
        return 0
    b[pos] = (b0 & ~(63 << fb) & 0xFF) | ((val << fb) & 0xFF)
    b[pos + 1] = (b1 & ~(63 >> fb8) & 0xFF) | (val >> fb8)
    return 1


def dense_update(v: bytes, reg: int, val: int) -> bytes | None:
    """A copy of dense HLL ``v`` with register ``reg`` raised to ``val`` and the cached
    cardinality invalidated (one 12 KB copy), or None if the register is already >= val."""
    pos = HLL_HDR_SIZE + reg * 6 // 8
    fb = reg * 6 & 7
    b0 = v[pos]
    if fb <= 2:
        if val <= (b0 >> fb) & 63:
            return None
        mid = bytes(((b0 & ~(63 << fb) & 0xFF) | (val << fb),))
        end = pos + 1
    else:
        b1 = v[pos + 1]
        fb8 = 8 - fb
        if val <= ((b0 >> fb) | (b1 << fb8)) & 63:
            return None
        mid = bytes(((b0 & ~(63 << fb) & 0xFF) | ((val << fb) & 0xFF), (b1 & ~(63 >> fb8) & 0xFF) | (val >> fb8)))
        end = pos + 2
    mv = memoryview(v)
    if v[15] & 0x80:
        return b"".join((mv[:pos], mid, mv[end:]))
    return b"".join((mv[:15], bytes((v[15] | 0x80,)), mv[16:pos], mid, mv[end:]))


def dense_registers(v: bytes | bytearray) -> np.ndarray:
    """All 16384 registers of a dense HLL as a uint8 array."""
    a = np.frombuffer(bytes(v[HLL_HDR_SIZE:HLL_DENSE_SIZE]), dtype=np.uint8).reshape(-1, 3).astype(np.uint16)
    out = np.empty((a.shape[0], 4), dtype=np.uint8)
    out[:, 0] = a[:, 0] & 63
    out[:, 1] = ((a[:, 0] >> 6) | (a[:, 1] << 2)) & 63
    out[:, 2] = ((a[:, 1] >> 4) | (a[:, 2] << 4)) & 63
    out[:, 3] = a[:, 2] >> 2
    return out.reshape(-1)


def pack_dense(regs: np.ndarray) -> bytes:
    r = regs.astype(np.uint16).reshape(-1, 4)
    out = np.empty((r.shape[0], 3), dtype=np.uint8)
    out[:, 0] = (r[:, 0] | (r[:, 1] << 6)) & 0xFF
    out[:, 1] = ((r[:, 1] >> 2) | (r[:, 2] << 4)) & 0xFF
    out[:, 2] = ((r[:, 2] >> 4) | (r[:, 3] << 2)) & 0xFF
    return out.tobytes()


# -- sparse ---------------------------------------------------------------------------------
def sparse_registers(v: bytes | bytearray) -> np.ndarray | None:
    """Decode a sparse HLL into 16384 registers (None if the opcodes do not add up)."""
    regs = np.zeros(HLL_REGISTERS, dtype=np.uint8)
    i = 0
    p = HLL_HDR_SIZE
    end = len(v)
    while p < end:
        op = v[p]
        if op & 0x80:
            runlen = (op & 3) + 1
            if runlen + i > HLL_REGISTERS:
                break
            regs[i:i + runlen] = ((op >> 2) & 31) + 1
            i += runlen
            p += 1
        elif op & 0x40:
            i += (((op & 0x3F) << 8) | (v[p + 1] if p + 1 < end else 0)) + 1
            p += 2
        else:
            i += (op & 0x3F) + 1
            p += 1
    if i != HLL_REGISTERS:
        return None
    return regs


def to_dense(v: bytes | bytearray) -> bytearray | None:
    """hllSparseToDense (header copied, encoding set to dense); None if corrupted."""
    if v[4] == HLL_DENSE:
        return bytearray(v)
    regs = sparse_registers(v)
    if regs is None:
        return None
    out = bytearray(v[:HLL_HDR_SIZE])
    out[4] = HLL_DENSE
    out += pack_dense(regs)
    return out


class SparseIndex:
    """Opcode index of a sparse HLL: the first register of every opcode (``firsts``) and
    the opcode numbers of the two-byte XZERO opcodes (``xz``, sorted), so that an opcode's
    byte offset is ``16 + j + (XZERO opcodes before j)``."""

    __slots__ = ("firsts", "xz")

    def __init__(self, firsts: list[int], xz: list[int]) -> None:
        self.firsts = firsts
        self.xz = xz

    @classmethod
    def build(cls, b: bytes | bytearray) -> SparseIndex | None:
        firsts, xz, total = _scan(b, HLL_HDR_SIZE, len(b), 0, 0)
        if total != HLL_REGISTERS:
            return None
        return cls(firsts, xz)

    def offset(self, j: int) -> int:
        return HLL_HDR_SIZE + j + bisect_left(self.xz, j)

    def locate(self, index: int) -> tuple[int, int, int, int, int] | None:
        """(opcode number, offset, first register, span, previous offset or -1)."""
        firsts = self.firsts
        j = bisect_right(firsts, index) - 1
        if j < 0 or index >= HLL_REGISTERS:
            return None
        first = firsts[j]
        span = (firsts[j + 1] if j + 1 < len(firsts) else HLL_REGISTERS) - first
        return j, self.offset(j), first, span, (self.offset(j - 1) if j else -1)

    def rescan(self, b: bytearray, ws: int, we: int, start: int, stop: int) -> None:
        """Opcodes ws..we-1 were rewritten into bytes [start, stop): re-index them."""
        firsts, xz, _ = _scan(b, start, stop, self.firsts[ws], ws)
        shift = len(firsts) - (we - ws)
        self.firsts[ws:we] = firsts
        old = self.xz
        lo = bisect_left(old, ws)
        hi = bisect_left(old, we)
        self.xz = old[:lo] + xz + [x + shift for x in old[hi:]]


def _scan(b: bytes | bytearray, p: int, end: int, first: int, j: int) -> tuple[list[int], list[int], int]:
    """Walk opcodes in bytes [p, end): their first registers, XZERO opcode numbers (from
    ``j`` on) and the register reached."""
    firsts: list[int] = []
    xz: list[int] = []
    while p < end:
        op = b[p]
        firsts.append(first)
        if op & 0x80:
            first += (op & 3) + 1
            p += 1
        elif op & 0x40:
            xz.append(j)
            first += (((op & 0x3F) << 8) | (b[p + 1] if p + 1 < len(b) else 0)) + 1
            p += 2
        else:
            first += (op & 0x3F) + 1
            p += 1
        j += 1
    return firsts, xz, first


def sparse_set(b: bytearray, index: int, count: int, max_bytes: int,
               idx: SparseIndex | None = None) -> tuple[bytearray, int]:
    """hllSparseSet: returns (buffer, result) — the buffer is dense after a promotion;
    result 1 changed, 0 unchanged, -1 corrupted.  ``idx`` (an opcode index of ``b``) makes
    the lookup O(log n) and is kept up to date; it is stale once the result is dense."""
    if count > HLL_SPARSE_VAL_MAX_VALUE:
        return _promote(b, index, count)
    end = len(b)
    j = -1
    if idx is not None:
        loc = idx.locate(index)
        if loc is None:
            return b, -1
        j, p, first, span, prev = loc
    elif end > 256:
        loc = _locate_np(b, index)
        if loc is None:
            return b, -1
        p, first, span, prev = loc
    else:
        p = HLL_HDR_SIZE
        first = 0
        prev = -1
        span = 0
        while p < end:
            op = b[p]
            oplen = 1
            if op & 0x80:
                span = (op & 3) + 1
            elif op & 0x40:
                span = (((op & 0x3F) << 8) | (b[p + 1] if p + 1 < end else 0)) + 1
                oplen = 2
            else:
                span = (op & 0x3F) + 1
            if index <= first + span - 1:
                break
            prev = p
            p += oplen
            first += span
    if span == 0 or p >= end:
        return b, -1
    op = b[p]
    is_val = bool(op & 0x80)
    is_xzero = not is_val and bool(op & 0x40)
    is_zero = not is_val and not is_xzero
    if is_val:
        runlen = (op & 3) + 1
        if ((op >> 2) & 31) + 1 >= count:
            return b, 0
        if runlen == 1:
            b[p] = ((count - 1) << 2) | 0x80
            return _finish(b, prev, end, j, idx), 1
    elif is_xzero:
        runlen = (((op & 0x3F) << 8) | b[p + 1]) + 1
    else:
        runlen = (op & 0x3F) + 1
        if runlen == 1:
            b[p] = ((count - 1) << 2) | 0x80
            return _finish(b, prev, end, j, idx), 1
    seq = bytearray()
    last = first + span - 1
    if is_zero or is_xzero:
        if index != first:
            _zero_op(seq, index - first)
        seq.append(((count - 1) << 2) | 0x80)
        if index != last:
            _zero_op(seq, last - index)
    else:
        curval = ((op >> 2) & 31) + 1
        if index != first:
            seq.append(((curval - 1) << 2) | (index - first - 1) | 0x80)
        seq.append(((count - 1) << 2) | 0x80)
        if index != last:
            seq.append(((curval - 1) << 2) | (last - index - 1) | 0x80)
    oldlen = 2 if is_xzero else 1
    delta = len(seq) - oldlen
    if delta > 0 and len(b) + delta > max_bytes:
        return _promote(b, index, count)
    b[p:p + oldlen] = seq
    return _finish(b, prev, end, j, idx), 1


def _finish(b: bytearray, prev: int, old_len: int, j: int, idx: SparseIndex | None) -> bytearray:
    """Merge step, then bring the opcode index (if any) up to date around opcode ``j``."""
    if idx is None:
        return _merge(b, prev, len(b))
    ws = j - 1 if j > 0 else 0
    we = min(j + 9, len(idx.firsts))
    start = idx.offset(ws)
    old_stop = idx.offset(we) if we < len(idx.firsts) else old_len
    _merge(b, prev, len(b))
    idx.rescan(b, ws, we, start, old_stop + len(b) - old_len)
    return b


_SPAN = np.array([(i & 3) + 1 if i & 0x80 else (0 if i & 0x40 else (i & 0x3F) + 1) for i in range(256)],
                 dtype=np.int32)


def _locate_np(b: bytearray, index: int) -> tuple[int, int, int, int] | None:
    """The opcode covering register ``index``: (offset, first register, span, previous
    opcode offset or -1) — the scan of hllSparseSet, vectorized for long sparse values."""
    a = np.frombuffer(b, dtype=np.uint8, offset=HLL_HDR_SIZE)
    n = a.shape[0]
    span = _SPAN[a]
    skip = -1
    data: set[int] = set()
    for q in np.flatnonzero((a & 0xC0) == 0x40).tolist():
        if q == skip:
            continue  # the second byte of an XZERO
        nxt = int(a[q + 1]) if q + 1 < n else 0
        span[q] = (((int(a[q]) & 0x3F) << 8) | nxt) + 1
        if q + 1 < n:
            span[q + 1] = 0
            data.add(q + 1)
        skip = q + 1
    cum = np.cumsum(span)
    p = int(np.searchsorted(cum, index, side="right"))
    if p >= n:
        return None
    sp = int(span[p])
    first = int(cum[p]) - sp
    if p == 0:
        prev = -1
    elif p - 1 in data:
        prev = p - 2
    else:
        prev = p - 1
    return p + HLL_HDR_SIZE, first, sp, (prev + HLL_HDR_SIZE if prev >= 0 else -1)


def _zero_op(seq: bytearray, ln: int) -> None:
    if ln > HLL_SPARSE_ZERO_MAX_LEN:
        ln -= 1
        seq.append((ln >> 8) | 0x40)
        seq.append(ln & 0xFF)
    else:
        seq.append(ln - 1)


def _merge(b: bytearray, prev: int, end: int) -> bytearray:
    """Step 4 of hllSparseSet: merge adjacent VAL opcodes of the same value."""
    p = prev if prev >= 0 else HLL_HDR_SIZE
    scan = 5
    while p < end and scan:
        scan -= 1
        op = b[p]
        if not op & 0x80:
            p += 2 if op & 0x40 else 1
            continue
        if p + 1 < end and b[p + 1] & 0x80:
            nx = b[p + 1]
            v1 = (op >> 2) & 31
            if v1 == (nx >> 2) & 31:
                ln = (op & 3) + (nx & 3) + 2
                if ln <= HLL_SPARSE_VAL_MAX_LEN:
                    b[p + 1] = (v1 << 2) | (ln - 1) | 0x80
                    del b[p]
                    end -= 1
                    continue
        p += 1
    return b


def _promote(b: bytearray, index: int, count: int) -> tuple[bytearray, int]:
    d = to_dense(b)
    if d is None:
        return b, -1
    dense_set(d, index, count)
    return d, 1


def add(b: bytearray, ele: bytes, max_bytes: int, idx: SparseIndex | None = None) -> tuple[bytearray, int]:
    """hllAdd: returns (buffer, 1 changed / 0 unchanged / -1 corrupted)."""
    index, count = pat_len(ele)
    if b[4] == HLL_DENSE:
        return b, dense_set(b, index, count)
    if b[4] == HLL_SPARSE:
        return sparse_set(b, index, count, max_bytes, idx)
    return b, -1


# the opcode index of the sparse value written last (PFADD on one key, again and again)
_last_index: list = [None, None]


def index_for(v: bytes) -> SparseIndex | None:
    """An opcode index for sparse value ``v`` (reused when ``v`` is the value written last)."""
    if _last_index[0] is v:
        idx = _last_index[1]
        _last_index[0] = _last_index[1] = None  # the caller mutates it
        return idx  # type: ignore[no-any-return]
    return SparseIndex.build(v)


def remember_index(v: bytes, idx: SparseIndex | None) -> None:
    _last_index[0] = v if idx is not None else None
    _last_index[1] = idx


def registers(v: bytes | bytearray) -> np.ndarray | None:
    """The 16384 registers of any valid HLL (None if a sparse one is corrupted)."""
    if v[4] == HLL_DENSE:
        return dense_registers(v)
    return sparse_registers(v)


# -- counting -------------------------------------------------------------------------------
def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if zp == z:
            return z / 3


def count_histogram(histo: list[int]) -> int:
    """Ertl's estimator over a register histogram (hllCount)."""
    m = float(HLL_REGISTERS)
    z = m * _tau((m - histo[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    e = HLL_ALPHA_INF * m * m / z
    return int(math.floor(e + 0.5)) if e >= 0 else -int(math.floor(-e + 0.5))


def histogram(regs: np.ndarray) -> list[int]:
    return np.bincount(regs, minlength=64).tolist()


def sparse_histogram(v: bytes | bytearray) -> tuple[list[int], bool]:
    """hllSparseRegHisto: (histogram, valid)."""
    histo = [0] * 64
    idx = 0
    p = HLL_HDR_SIZE
    end = len(v)
    while p < end:
        op = v[p]
        if op & 0x80:
            runlen = (op & 3) + 1
            idx += runlen
            histo[((op >> 2) & 31) + 1] += runlen
            p += 1
        elif op & 0x40:
            runlen = (((op & 0x3F) << 8) | (v[p + 1] if p + 1 < end else 0)) + 1
            idx += runlen
            histo[0] += runlen
            p += 2
        else:
            runlen = (op & 0x3F) + 1
            idx += runlen
            histo[0] += runlen
            p += 1
    return histo, idx == HLL_REGISTERS


def count(v: bytes | bytearray) -> tuple[int, bool]:
    """(estimated cardinality, valid) of one HLL value."""
    if v[4] == HLL_DENSE:
        return count_histogram(histogram(dense_registers(v))), True
    histo, ok = sparse_histogram(v)
    return count_histogram(histo), ok


def sparse_decode(v: bytes | bytearray) -> bytes:
    """PFDEBUG DECODE text."""
    parts = []
    p = HLL_HDR_SIZE
    end = len(v)
    while p < end:
        op = v[p]
        if op & 0x80:
            parts.append(b"v:%d,%d" % (((op >> 2) & 31) + 1, (op & 3) + 1))
            p += 1
        elif op & 0x40:
            parts.append(b"Z:%d" % ((((op & 0x3F) << 8) | (v[p + 1] if p + 1 < end else 0)) + 1))
            p += 2
        else:
            parts.append(b"z:%d" % ((op & 0x3F) + 1))
            p += 1
    return b" ".join(parts)
