"""The RDB codec: Redis 7.0 RDB files (version 10) and DUMP/RESTORE value payloads.

Writing follows Redis 7.0's choices so that a real redis-server loads our files and a
DUMP of a simple value is byte-identical to Redis's: strings use the int8/16/32 encodings
and LZF compression (a port of liblzf 3.6, as Redis uses it, for strings longer than 20
bytes); lists are quicklists of listpacks (``RDB_TYPE_LIST_QUICKLIST_2``); hashes and
zsets are listpacks below their ``*-max-listpack-*`` limits, else hashtables / skiplists
with binary double scores; sets are intsets or hashtables; streams are
``RDB_TYPE_STREAM_LISTPACKS_2`` with consumer groups and PELs.  A file is the
``REDIS0010`` header, AUX fields (redis-ver, redis-bits, ctime, used-mem, aof-base and
durakv's ``durakv-seq``, the log sequence the snapshot covers), FUNCTION2 records,
SELECTDB/RESIZEDB, the keys (EXPIRETIME_MS before a key with a TTL), EOF and the CRC64.

Reading also accepts what older Redis versions write: linked lists, ziplists (lists,
hashes, zsets), quicklist v1, zsets with string scores, second-resolution expiries,
LZF-compressed strings, IDLE/FREQ opcodes, module AUX records are refused.

A DUMP payload is one value (type byte + encoding) followed by the 2-byte RDB version and
the 8-byte CRC64 of everything before it.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterator
from typing import Any

from ..types import Hash, List, Set, ZSet
from ..types import stream as tstream
from .crc64 import crc64

RDB_VERSION = 10

# value types
T_STRING = 0
T_LIST = 1
T_SET = 2
T_ZSET = 3
T_HASH = 4
T_ZSET_2 = 5
T_MODULE = 6
T_MODULE_2 = 7
T_HASH_ZIPMAP = 9
T_LIST_ZIPLIST = 10
T_SET_INTSET = 11
T_ZSET_ZIPLIST = 12
T_HASH_ZIPLIST = 13
T_LIST_QUICKLIST = 14
T_STREAM_LISTPACKS = 15
T_HASH_LISTPACK = 16
T_ZSET_LISTPACK = 17
T_LIST_QUICKLIST_2 = 18
T_STREAM_LISTPACKS_2 = 19
T_SET_LISTPACK = 20
T_STREAM_LISTPACKS_3 = 21

# opcodes
OP_FUNCTION2 = 245
OP_FUNCTION = 246
OP_MODULE_AUX = 247
OP_IDLE = 248
OP_FREQ = 249
OP_AUX = 250
OP_RESIZEDB = 251
OP_EXPIRETIME_MS = 252
OP_EXPIRETIME = 253
OP_SELECTDB = 254
OP_EOF = 255

DEFAULT_LIMITS = {
    "hash-max-listpack-entries": 128,
    "hash-max-listpack-value": 64,
    "zset-max-listpack-entries": 128,
    "zset-max-listpack-value": 64,
    "set-max-intset-entries": 512,
    "list-max-listpack-size": -2,
    "stream-node-max-entries": 100,
    "stream-node-max-bytes": 4096,
    "rdbcompression": True,
}


class RdbError(Exception):
    """The data is not a valid RDB (or DUMP payload); the message says where."""


# =========================================================================================
# LZF (liblzf as configured in Redis: HLOG 16, VERY_FAST with its IDX(h) = ((h >> 8) - h*5),
# zeroed hash table)
# =========================================================================================
_HLOG = 16
_HSIZE = 1 << _HLOG
_MAX_LIT = 1 << 5
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)


def lzf_compress(data: bytes, out_len: int) -> bytes | None:
    """Compress into at most ``out_len`` bytes, or None when it does not fit."""
    in_len = len(data)
    if not in_len or not out_len:
        return None
    ip = 0
    in_end = in_len
    out = bytearray(out_len + 16)
    op = 1
    lit = 0
    htab: dict[int, int] = {}
    hval = (data[0] << 8) | data[1] if in_len > 1 else 0
    while ip < in_end - 2:
        hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
        slot = ((hval >> 8) - hval * 5) & 0xFFFF
        ref = htab.get(slot, 0)
        htab[slot] = ip
        off = ip - ref - 1
        if 0 <= off < _MAX_OFF and ref > 0 and data[ref + 2] == data[ip + 2] and data[ref] == data[ip] \
                and data[ref + 1] == data[ip + 1]:
            length = 2
            maxlen = in_end - ip - length
            if maxlen > _MAX_REF:
                maxlen = _MAX_REF
            if op + 3 + 1 >= out_len:
                if op - (0 if lit else 1) + 3 + 1 >= out_len:
                    return None
            out[op - lit - 1] = (lit - 1) & 0xFF
            if not lit:
                op -= 1
            broke = False
            if maxlen > 16:
                for _ in range(16):
                    length += 1
                    if data[ref + length] != data[ip + length]:
                        broke = True
                        break
            if not broke:
                while True:
                    length += 1
                    if not (length < maxlen and data[ref + length] == data[ip + length]):
                        break
            length -= 2
            ip += 1
            if length < 7:
                out[op] = ((off >> 8) + (length << 5)) & 0xFF
                op += 1
            else:
                out[op] = ((off >> 8) + (7 << 5)) & 0xFF
                out[op + 1] = (length - 7) & 0xFF
                op += 2
            out[op] = off & 0xFF
            op += 1
            lit = 0
            op += 1
            ip += length + 1
            if ip >= in_end - 2:
                break
            ip -= 2
            hval = (data[ip] << 8) | data[ip + 1]
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> 8) - hval * 5) & 0xFFFF] = ip
            ip += 1
            hval = ((hval << 8) | data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> 8) - hval * 5) & 0xFFFF] = ip
            ip += 1
        else:
            if op >= out_len:
                return None
            lit += 1
            out[op] = data[ip]
            op += 1
            ip += 1
            if lit == _MAX_LIT:
                out[op - lit - 1] = lit - 1
                lit = 0
                op += 1
    if op + 3 > out_len:
        return None
    while ip < in_end:
        lit += 1
        out[op] = data[ip]
        op += 1
        ip += 1
        if lit == _MAX_LIT:
            out[op - lit - 1] = lit - 1
            lit = 0
            op += 1
    out[op - lit - 1] = (lit - 1) & 0xFF
    if not lit:
        op -= 1
    if op > out_len:
        return None
    return bytes(out[:op])


def lzf_decompress(data: bytes | memoryview, out_len: int) -> bytes:
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            ln = ctrl + 1
            if i + ln > n:
                raise RdbError("LZF: literal run past the end of the input")
            out += data[i:i + ln]
            i += ln
        else:
            ln = ctrl >> 5
            if ln == 7:
                if i >= n:
                    raise RdbError("LZF: truncated back reference")
                ln += data[i]
                i += 1
            if i >= n:
                raise RdbError("LZF: truncated back reference")
            ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
            i += 1
            if ref < 0:
                raise RdbError("LZF: back reference before the start")
            ln += 2
            if ref + ln <= len(out):
                out += out[ref:ref + ln]
            else:
                for k in range(ln):
                    out.append(out[ref + k])
    if len(out) != out_len:
        raise RdbError("LZF: decompressed length mismatch")
    return bytes(out)


# =========================================================================================
# small helpers shared by both directions
# =========================================================================================
_LLMIN = -(1 << 63)
_LLMAX = (1 << 63) - 1


def str_to_int(b: bytes) -> int | None:
    """Redis's string2ll: the canonical decimal form of a 64-bit integer, else None."""
    n = len(b)
    if n == 0 or n > 20:
        return None
    c = b[0]
    if c == 45:
        if n == 1 or b[1] == 48 or not b[1:].isdigit():
            return None
    elif c == 48:
        if n != 1:
            return None
    elif not b.isdigit():
        return None
    v = int(b)
    if v < _LLMIN or v > _LLMAX:
        return None
    return v


def fmt_double(d: float) -> bytes:
    """Redis 7.0's d2string (zset listpack scores)."""
    if d != d:
        return b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    if d == 0:
        return b"-0" if str(d).startswith("-") else b"0"
    if -4503599627370496.0 < d < 4503599627370496.0 and d == int(d):
        return b"%d" % int(d)
    return b"%.17g" % d


# ---- listpack -------------------------------------------------------------------------
def _backlen_size(l: int) -> int:
    if l <= 127:
        return 1
    if l < 16383:
        return 2
    if l < 2097151:
        return 3
    if l < 268435455:
        return 4
    return 5


def _encode_backlen(l: int) -> bytes:
    if l <= 127:
        return bytes((l,))
    if l < 16383:
        return bytes((l >> 7, (l & 127) | 128))
    if l < 2097151:
        return bytes((l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128))
    if l < 268435455:
        return bytes((l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128))
    return bytes((l >> 28, ((l >> 21) & 127) | 128, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128,
                  (l & 127) | 128))


def lp_int_entry(v: int) -> bytes:
    if 0 <= v <= 127:
        e = bytes((v,))
    elif -4096 <= v <= 4095:
        u = v & 0x1FFF
        e = bytes(((u >> 8) | 0xC0, u & 0xFF))
    elif -32768 <= v <= 32767:
        e = b"\xf1" + struct.pack("<h", v)
    elif -8388608 <= v <= 8388607:
        e = b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
    elif -2147483648 <= v <= 2147483647:
        e = b"\xf3" + struct.pack("<i", v)
    else:
        e = b"\xf4" + struct.pack("<q", v)
    return e + _encode_backlen(len(e))


def lp_entry(b: bytes) -> bytes:
    if len(b) <= 20:
        v = str_to_int(b)
        if v is not None:
            return lp_int_entry(v)
    n = len(b)
    if n < 64:
        e = bytes((0x80 | n,)) + b
    elif n < 4096:
        e = bytes((0xE0 | (n >> 8), n & 0xFF)) + b
    else:
        e = b"\xf0" + struct.pack("<I", n) + b
    return e + _encode_backlen(len(e))


def lp_build(entries: list[bytes]) -> bytes:
    """A listpack blob from already-encoded entries."""
    body = b"".join(entries)
    total = 6 + len(body) + 1
    count = len(entries) if len(entries) < 65535 else 65535
    return struct.pack("<IH", total, count) + body + b"\xff"


def lp_pack(items: list[bytes]) -> bytes:
    return lp_build([lp_entry(x) for x in items])


def lp_parse(blob: bytes | memoryview) -> list[bytes | int]:
    """Elements of a listpack: ints as int, strings as bytes."""
    if len(blob) < 7:
        raise RdbError("listpack too short")
    total = struct.unpack_from("<I", blob, 0)[0]
    if total != len(blob):
        raise RdbError("listpack size mismatch")
    out: list[bytes | int] = []
    p = 6
    n = len(blob)
    while True:
        if p >= n:
            raise RdbError("listpack without terminator")
        b = blob[p]
        if b == 0xFF:
            break
        if b < 0x80:
            v: bytes | int = b
            ln = 1
        elif b & 0xC0 == 0x80:
            s = b & 0x3F
            v = bytes(blob[p + 1:p + 1 + s])
            ln = 1 + s
        elif b & 0xE0 == 0xC0:
            u = ((b & 0x1F) << 8) | blob[p + 1]
            v = u - 0x2000 if u >= 0x1000 else u
            ln = 2
        elif b & 0xF0 == 0xE0:
            s = ((b & 0x0F) << 8) | blob[p + 1]
            v = bytes(blob[p + 2:p + 2 + s])
            ln = 2 + s
        elif b == 0xF1:
            v = struct.unpack_from("<h", blob, p + 1)[0]
            ln = 3
        elif b == 0xF2:
            u = int.from_bytes(blob[p + 1:p + 4], "little")
            v = u - (1 << 24) if u >= 1 << 23 else u
            ln = 4
        elif b == 0xF3:
            v = struct.unpack_from("<i", blob, p + 1)[0]
            ln = 5
        elif b == 0xF4:
            v = struct.unpack_from("<q", blob, p + 1)[0]
            ln = 9
        elif b == 0xF0:
            s = struct.unpack_from("<I", blob, p + 1)[0]
            v = bytes(blob[p + 5:p + 5 + s])
            ln = 5 + s
        else:
            raise RdbError(f"bad listpack entry encoding {b:#x}")
        if p + ln > n:
            raise RdbError("listpack entry past the end")
        out.append(v)
        p += ln + _backlen_size(ln)
    return out


def _as_bytes(v: bytes | int) -> bytes:
    return v if type(v) is bytes else b"%d" % v


# ---- ziplist (read only) ----------------------------------------------------------------
def ziplist_parse(blob: bytes | memoryview) -> list[bytes]:
    if len(blob) < 11:
        raise RdbError("ziplist too short")
    p = 10
    n = len(blob)
    out: list[bytes] = []
    while True:
        if p >= n:
            raise RdbError("ziplist without terminator")
        if blob[p] == 0xFF:
            break
        p += 5 if blob[p] == 0xFE else 1  # prevlen
        b = blob[p]
        top = b >> 6
        if top == 0:
            s = b & 0x3F
            out.append(bytes(blob[p + 1:p + 1 + s]))
            p += 1 + s
        elif top == 1:
            s = ((b & 0x3F) << 8) | blob[p + 1]
            out.append(bytes(blob[p + 2:p + 2 + s]))
            p += 2 + s
        elif top == 2:
            s = struct.unpack_from(">I", blob, p + 1)[0]
            out.append(bytes(blob[p + 5:p + 5 + s]))
            p += 5 + s
        else:
            if b == 0xC0:
                v = struct.unpack_from("<h", blob, p + 1)[0]
                p += 3
            elif b == 0xD0:
                v = struct.unpack_from("<i", blob, p + 1)[0]
                p += 5
            elif b == 0xE0:
                v = struct.unpack_from("<q", blob, p + 1)[0]
                p += 9
            elif b == 0xF0:
                u = int.from_bytes(blob[p + 1:p + 4], "little")
                v = u - (1 << 24) if u >= 1 << 23 else u
                p += 4
            elif b == 0xFE:
                v = struct.unpack_from("<b", blob, p + 1)[0]
                p += 2
            elif 0xF1 <= b <= 0xFD:
                v = (b & 0x0F) - 1
                p += 1
            else:
                raise RdbError(f"bad ziplist entry encoding {b:#x}")
            out.append(b"%d" % v)
        if p > n:
            raise RdbError("ziplist entry past the end")
    return out


def intset_parse(blob: bytes | memoryview) -> list[int]:
    if len(blob) < 8:
        raise RdbError("intset too short")
    enc, count = struct.unpack_from("<II", blob, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(enc)
    if fmt is None or len(blob) != 8 + enc * count:
        raise RdbError("bad intset")
    return list(struct.unpack_from("<%d%s" % (count, fmt), blob, 8))


def intset_pack(values: list[int]) -> bytes:
    values = sorted(values)
    lo = values[0] if values else 0
    hi = values[-1] if values else 0
    if -32768 <= lo and hi <= 32767:
        enc, fmt = 2, "h"
    elif -2147483648 <= lo and hi <= 2147483647:
        enc, fmt = 4, "i"
    else:
        enc, fmt = 8, "q"
    return struct.pack("<II", enc, len(values)) + struct.pack("<%d%s" % (len(values), fmt), *values)


# =========================================================================================
# writing
# =========================================================================================
def enc_len(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def enc_string(s: bytes, compress: bool = True) -> bytes:
    n = len(s)
    if n <= 11 and n:
        v = str_to_int(s)
        if v is not None:
            if -128 <= v <= 127:
                return b"\xc0" + struct.pack("<b", v)
            if -32768 <= v <= 32767:
                return b"\xc1" + struct.pack("<h", v)
            if -2147483648 <= v <= 2147483647:
                return b"\xc2" + struct.pack("<i", v)
    if compress and n > 20:
        c = lzf_compress(s, n - 4)
        if c is not None:
            return b"\xc3" + enc_len(len(c)) + enc_len(n) + c
    return enc_len(n) + s


def enc_int_string(v: int) -> bytes:
    if -128 <= v <= 127:
        return b"\xc0" + struct.pack("<b", v)
    if -32768 <= v <= 32767:
        return b"\xc1" + struct.pack("<h", v)
    if -2147483648 <= v <= 2147483647:
        return b"\xc2" + struct.pack("<i", v)
    s = b"%d" % v
    return enc_len(len(s)) + s


class Limits:
    __slots__ = ("hash_entries", "hash_value", "zset_entries", "zset_value", "intset", "list_fill",
                 "stream_entries", "stream_bytes", "compress")

    def __init__(self, config: Any = None) -> None:
        def get(name: str) -> Any:
            if config is None:
                return DEFAULT_LIMITS[name]
            try:
                return config[name]
            except (KeyError, TypeError):
                return DEFAULT_LIMITS[name]

        self.hash_entries = int(get("hash-max-listpack-entries"))
        self.hash_value = int(get("hash-max-listpack-value"))
        self.zset_entries = int(get("zset-max-listpack-entries"))
        self.zset_value = int(get("zset-max-listpack-value"))
        self.intset = int(get("set-max-intset-entries"))
        self.list_fill = int(get("list-max-listpack-size"))
        self.stream_entries = int(get("stream-node-max-entries"))
        self.stream_bytes = int(get("stream-node-max-bytes"))
        self.compress = bool(get("rdbcompression"))


_FILL_BYTES = {-1: 4096, -2: 8192, -3: 16384, -4: 32768, -5: 65536}


def _list_nodes(items: list[bytes], fill: int) -> list[bytes]:
    """Split list elements into listpacks the way Redis 7.0's quicklist fills nodes on RPUSH
    (``_quicklistNodeAllowInsert``: listpack bytes + element + 8 against the fill limit)."""
    nodes: list[bytes] = []
    cur: list[bytes] = []
    size = 7
    limit = _FILL_BYTES.get(fill, 0)
    for it in items:
        if cur:
            new_sz = size + len(it) + 8
            if fill < 0:
                ok = new_sz <= limit
            else:
                ok = new_sz <= 8192 and len(cur) < fill
            if not ok:
                nodes.append(lp_build(cur))
                cur = []
                size = 7
        e = lp_entry(it)
        cur.append(e)
        size += len(e)
    if cur:
        nodes.append(lp_build(cur))
    return nodes


def encode_value(v: Any, lim: Limits) -> tuple[int, bytes]:
    """(RDB type, encoded value) for one keyspace value."""
    comp = lim.compress
    if type(v) is bytes:
        return T_STRING, enc_string(v, comp)
    tn = v.type_name
    if tn == "list":
        items = list(v)
        parts = []
        nodes = _list_nodes(items, lim.list_fill)
        for blob in nodes:
            parts.append(b"\x02" + enc_string(blob, comp))
        return T_LIST_QUICKLIST_2, enc_len(len(nodes)) + b"".join(parts)
    if tn == "hash":
        pairs = v.items()
        if v.encoding() == "listpack":
            flat: list[bytes] = []
            for f, val in pairs:
                flat.append(f)
                flat.append(val)
            return T_HASH_LISTPACK, enc_string(lp_pack(flat), comp)
        out = [enc_len(len(pairs))]
        for f, val in pairs:
            out.append(enc_string(f, comp))
            out.append(enc_string(val, comp))
        return T_HASH, b"".join(out)
    if tn == "set":
        if v.intset:
            return T_SET_INTSET, enc_string(intset_pack([int(m) for m in v]), comp)
        members = list(v)
        return T_SET, enc_len(len(members)) + b"".join(enc_string(m, comp) for m in members)
    if tn == "zset":
        items = v.items()
        if v.encoding() == "listpack":
            ents: list[bytes] = []
            for m, s in items:
                ents.append(lp_entry(m))
                ents.append(lp_entry(fmt_double(s)))
            return T_ZSET_LISTPACK, enc_string(lp_build(ents), comp)
        out = [enc_len(len(items))]
        for m, s in reversed(items):
            out.append(enc_string(m, comp))
            out.append(struct.pack("<d", s))
        return T_ZSET_2, b"".join(out)
    if tn == "stream":
        return T_STREAM_LISTPACKS_2, _encode_stream(v, lim)
    raise RdbError(f"cannot encode a value of type {tn}")


def _id_bytes(sid: int) -> bytes:
    return struct.pack(">QQ", sid >> 64, sid & tstream.MAX64)


def _ms(t: int) -> bytes:
    return struct.pack("<q", t)


def _encode_stream(st: Any, lim: Limits) -> bytes:
    comp = lim.compress
    nodes = list(st.nodes)
    ids = st.ids
    vals = st.vals
    out: list[bytes] = []
    blobs: list[tuple[int, bytes]] = []
    from bisect import bisect_left

    for k, node in enumerate(nodes):
        lo = bisect_left(ids, node.master)
        hi = bisect_left(ids, nodes[k + 1].master) if k + 1 < len(nodes) else len(ids)
        if hi <= lo:
            continue
        master = node.master
        mfields = list(node.fields)
        ents = [lp_int_entry(hi - lo), lp_int_entry(0), lp_int_entry(len(mfields))]
        ents += [lp_entry(f) for f in mfields]
        ents.append(lp_int_entry(0))
        mms, mseq = master >> 64, master & tstream.MAX64
        for i in range(lo, hi):
            sid = ids[i]
            fields = vals[i]
            ms_d = (sid >> 64) - mms
            seq_d = ((sid & tstream.MAX64) - mseq)
            if seq_d >= 1 << 63:
                seq_d -= 1 << 64
            elif seq_d < -(1 << 63):
                seq_d += 1 << 64
            nf = len(fields) >> 1
            same = nf == len(mfields) and fields[0::2] == mfields
            ents.append(lp_int_entry(2 if same else 0))
            ents.append(lp_int_entry(ms_d))
            ents.append(lp_int_entry(seq_d))
            if same:
                ents += [lp_entry(x) for x in fields[1::2]]
                ents.append(lp_int_entry(3 + nf))
            else:
                ents.append(lp_int_entry(nf))
                ents += [lp_entry(x) for x in fields]
                ents.append(lp_int_entry(4 + 2 * nf))
        blobs.append((master, lp_build(ents)))
    out.append(enc_len(len(blobs)))
    for master, blob in blobs:
        out.append(enc_string(_id_bytes(master), False))
        out.append(enc_string(blob, comp))
    last = st.last_id
    first = st.first_id if len(st) else 0
    out.append(enc_len(len(st)))
    out.append(enc_len(last >> 64) + enc_len(last & tstream.MAX64))
    out.append(enc_len(first >> 64) + enc_len(first & tstream.MAX64))
    md = st.max_deleted
    out.append(enc_len(md >> 64) + enc_len(md & tstream.MAX64))
    out.append(enc_len(st.entries_added))
    groups = list(st.groups.values()) if st.groups else []
    out.append(enc_len(len(groups)))
    for g in groups:
        out.append(enc_string(g.name, comp))
        out.append(enc_len(g.last_id >> 64) + enc_len(g.last_id & tstream.MAX64))
        er = g.entries_read
        out.append(enc_len(er if er >= 0 else (1 << 64) + er))
        pel = sorted(g.pel.items())
        out.append(enc_len(len(pel)))
        for sid, nack in pel:
            out.append(_id_bytes(sid) + _ms(nack.time) + enc_len(nack.count))
        cons = list(g.consumers.values())
        out.append(enc_len(len(cons)))
        for c in cons:
            out.append(enc_string(c.name, comp))
            out.append(_ms(c.seen))
            cp = sorted(c.pel)
            out.append(enc_len(len(cp)))
            for sid in cp:
                out.append(_id_bytes(sid))
    return b"".join(out)


def dump_payload(v: Any, config: Any = None) -> bytes:
    t, body = encode_value(v, Limits(config))
    data = bytes((t,)) + body + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def _aux(key: bytes, value: bytes) -> bytes:
    return bytes((OP_AUX,)) + enc_string(key) + enc_string(value)


def write_rdb(dbs: list[tuple[int, list[tuple[bytes, Any, int | None]]]], config: Any = None,
              aux: dict[bytes, bytes] | None = None, functions: list[bytes] | None = None,
              used_mem: int = 0) -> Iterator[bytes]:
    """Yield the pieces of an RDB file: ``dbs`` is [(dbid, [(key, value, expire_ms|None)])]."""
    lim = Limits(config)
    parts: list[bytes] = [b"REDIS%04d" % RDB_VERSION]
    parts.append(_aux(b"redis-ver", b"7.0.15"))
    parts.append(_aux(b"redis-bits", b"64"))
    parts.append(_aux(b"ctime", b"%d" % int(time.time())))
    parts.append(_aux(b"used-mem", b"%d" % used_mem))
    parts.append(_aux(b"aof-base", b"0"))
    for k, val in (aux or {}).items():
        parts.append(_aux(k, val))
    for code in functions or []:
        parts.append(bytes((OP_FUNCTION2,)) + enc_string(code, lim.compress))
    crc = 0
    for dbid, keys in dbs:
        if not keys:
            continue
        nexp = sum(1 for _k, _v, e in keys if e is not None)
        parts.append(bytes((OP_SELECTDB,)) + enc_len(dbid))
        parts.append(bytes((OP_RESIZEDB,)) + enc_len(len(keys)) + enc_len(nexp))
        for key, value, exp in keys:
            if exp is not None:
                parts.append(bytes((OP_EXPIRETIME_MS,)) + struct.pack("<q", exp))
            t, body = encode_value(value, lim)
            parts.append(bytes((t,)))
            parts.append(enc_string(key, lim.compress))
            parts.append(body)
            if len(parts) >= 4096:
                chunk = b"".join(parts)
                crc = crc64(chunk, crc)
                yield chunk
                parts = []
    parts.append(bytes((OP_EOF,)))
    chunk = b"".join(parts)
    crc = crc64(chunk, crc)
    yield chunk + struct.pack("<Q", crc)


def keyspace_items(ks: Any) -> list[tuple[int, list[tuple[bytes, Any, int | None]]]]:
    out = []
    for db in ks.dbs:
        if not db.data:
            continue
        exp = db.expires
        out.append((db.id, [(k, v, exp.get(k)) for k, v in db.data.items()]))
    return out


def save_file(path: str, ks: Any, config: Any = None, aux: dict[bytes, bytes] | None = None,
              functions: list[bytes] | None = None) -> int:
    """Write the keyspace to ``path`` atomically (temp file, fsync, rename, fsync dir)."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, "temp-%d-%d.rdb" % (os.getpid(), time.monotonic_ns()))
    size = 0
    try:
        with open(tmp, "wb") as f:
            for chunk in write_rdb(keyspace_items(ks), config, aux, functions):
                f.write(chunk)
                size += len(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return size


# =========================================================================================
# reading
# =========================================================================================
class Reader:
    __slots__ = ("data", "pos", "where")

    def __init__(self, data: bytes | memoryview, where: str = "RDB") -> None:
        self.data = data
        self.pos = 0
        self.where = where

    def fail(self, msg: str) -> RdbError:
        return RdbError(f"{self.where}: {msg} at offset {self.pos}")

    def byte(self) -> int:
        p = self.pos
        if p >= len(self.data):
            raise self.fail("unexpected end of data")
        self.pos = p + 1
        return self.data[p]

    def raw(self, n: int) -> bytes:
        p = self.pos
        if p + n > len(self.data):
            raise self.fail("unexpected end of data")
        self.pos = p + n
        return bytes(self.data[p:p + n])

    def length(self) -> tuple[int, bool]:
        """(value, is_encoded)"""
        b = self.byte()
        t = b >> 6
        if t == 0:
            return b & 0x3F, False
        if t == 1:
            return ((b & 0x3F) << 8) | self.byte(), False
        if t == 3:
            return b & 0x3F, True
        if b == 0x80:
            return struct.unpack(">I", self.raw(4))[0], False
        if b == 0x81:
            return struct.unpack(">Q", self.raw(8))[0], False
        raise self.fail(f"bad length encoding {b:#x}")

    def len(self) -> int:
        v, enc = self.length()
        if enc:
            raise self.fail("unexpected encoded length")
        return v

    def string(self) -> bytes:
        v, enc = self.length()
        if not enc:
            return self.raw(v)
        if v == 0:
            return b"%d" % struct.unpack("<b", self.raw(1))[0]
        if v == 1:
            return b"%d" % struct.unpack("<h", self.raw(2))[0]
        if v == 2:
            return b"%d" % struct.unpack("<i", self.raw(4))[0]
        if v == 3:
            clen = self.len()
            ulen = self.len()
            return lzf_decompress(self.raw(clen), ulen)
        raise self.fail(f"unknown string encoding {v}")

    def double_str(self) -> float:
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        try:
            return float(self.raw(n))
        except ValueError:
            raise self.fail("bad double") from None

    def double_bin(self) -> float:
        return struct.unpack("<d", self.raw(8))[0]

    def millis(self) -> int:
        return struct.unpack("<q", self.raw(8))[0]

    def stream_id(self) -> int:
        ms, seq = struct.unpack(">QQ", self.raw(16))
        return (ms << 64) | seq


# the value-length limit for a stored listpack: Redis 7.0 keeps one whatever its lengths
_ANY_LENGTH = 1 << 62


def decode_value(r: Reader, t: int, lim: Limits) -> Any:
    if t == T_STRING:
        return r.string()
    if t in (T_LIST_QUICKLIST_2, T_LIST_QUICKLIST):
        n = r.len()
        items: list[bytes] = []
        for _ in range(n):
            if t == T_LIST_QUICKLIST_2:
                container = r.len()
                blob = r.string()
                if container == 1:
                    items.append(blob)
                    continue
                if container != 2:
                    raise r.fail(f"bad quicklist container {container}")
                items.extend(_as_bytes(x) for x in lp_parse(blob))
            else:
                items.extend(ziplist_parse(r.string()))
        if not items:
            raise r.fail("empty list")
        return List(items)
    if t == T_LIST:
        n = r.len()
        if not n:
            raise r.fail("empty list")
        return List([r.string() for _ in range(n)])
    if t == T_LIST_ZIPLIST:
        items = ziplist_parse(r.string())
        if not items:
            raise r.fail("empty list")
        return List(items)
    if t == T_SET:
        n = r.len()
        if not n:
            raise r.fail("empty set")
        members = [r.string() for _ in range(n)]
        s = Set(members)
        from ..types.set import is_int_member

        s.intset = len(members) <= lim.intset and all(is_int_member(m) for m in members)
        return s
    if t == T_SET_INTSET:
        vals = intset_parse(r.string())
        if not vals:
            raise r.fail("empty intset")
        s = Set(b"%d" % v for v in vals)
        s.intset = len(vals) <= lim.intset
        return s
    if t == T_SET_LISTPACK:
        members = [_as_bytes(x) for x in lp_parse(r.string())]
        s = Set(members)
        return s
    if t in (T_HASH, T_HASH_LISTPACK, T_HASH_ZIPLIST):
        if t == T_HASH:
            n = r.len()
            pairs = [(r.string(), r.string()) for _ in range(n)]
        else:
            flat = [_as_bytes(x) for x in lp_parse(r.string())] if t == T_HASH_LISTPACK else ziplist_parse(r.string())
            if len(flat) % 2:
                raise r.fail("odd hash listpack")
            pairs = list(zip(flat[0::2], flat[1::2]))
        if not pairs:
            raise r.fail("empty hash")
        if t == T_HASH:
            return Hash.from_pairs(pairs, lim.hash_entries, lim.hash_value)
        # a stored listpack (or ziplist) stays one unless it has more than
        # hash-max-listpack-entries fields: Redis 7.0 does not check their lengths here
        return Hash.from_pairs(pairs, lim.hash_entries, _ANY_LENGTH)
    if t in (T_ZSET, T_ZSET_2):
        n = r.len()
        if not n:
            raise r.fail("empty zset")
        zitems = []
        for _ in range(n):
            m = r.string()
            s_ = r.double_bin() if t == T_ZSET_2 else r.double_str()
            if s_ != s_:
                raise r.fail("zset score is NaN")
            zitems.append((m, s_))
        return ZSet.from_items(zitems, lim.zset_entries, lim.zset_value)
    if t in (T_ZSET_LISTPACK, T_ZSET_ZIPLIST):
        flat2 = [_as_bytes(x) for x in lp_parse(r.string())] if t == T_ZSET_LISTPACK else ziplist_parse(r.string())
        if len(flat2) % 2 or not flat2:
            raise r.fail("bad zset listpack")
        zitems = []
        for m, sc in zip(flat2[0::2], flat2[1::2]):
            try:
                zitems.append((m, float(sc)))
            except ValueError:
                raise r.fail("bad zset score") from None
        # a stored listpack stays one unless it has more than zset-max-listpack-entries
        # members: Redis 7.0 does not check their lengths here (a skiplist is checked for both)
        return ZSet.from_items(zitems, lim.zset_entries, _ANY_LENGTH)
    if t in (T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3):
        return _decode_stream(r, t, lim)
    if t == T_HASH_ZIPMAP:
        raise r.fail("zipmap-encoded hashes (Redis < 2.6) are not supported")
    if t in (T_MODULE, T_MODULE_2):
        raise r.fail("module values are not supported")
    raise r.fail(f"unknown value type {t}")


def _decode_stream(r: Reader, t: int, lim: Limits) -> Any:
    st = tstream.Stream()
    nlp = r.len()
    entries: list[tuple[int, list[bytes]]] = []
    for _ in range(nlp):
        key = r.string()
        if len(key) != 16:
            raise r.fail("bad stream node key")
        mms, mseq = struct.unpack(">QQ", key)
        lp = lp_parse(r.string())
        if not lp:
            raise r.fail("empty stream listpack")
        try:
            p = 2
            nmf = int(lp[p])
            p += 1
            mfields = [_as_bytes(x) for x in lp[p:p + nmf]]
            p += nmf + 1
            while p < len(lp):
                flags = int(lp[p])
                ms = mms + int(lp[p + 1])
                seq = (mseq + int(lp[p + 2])) & tstream.MAX64
                p += 3
                if flags & 2:
                    fields = []
                    for f in mfields:
                        fields.append(f)
                        fields.append(_as_bytes(lp[p]))
                        p += 1
                else:
                    nf = int(lp[p])
                    p += 1
                    fields = [_as_bytes(x) for x in lp[p:p + 2 * nf]]
                    p += 2 * nf
                p += 1  # lp-count
                if not flags & 1:
                    entries.append(((ms << 64) | seq, fields))
        except (IndexError, ValueError, TypeError):
            raise r.fail("bad stream listpack") from None
    length = r.len()
    last = (r.len() << 64) | r.len()
    if t >= T_STREAM_LISTPACKS_2:
        r.len()
        r.len()  # first id (recomputed)
        md = (r.len() << 64) | r.len()
        added = r.len()
    else:
        md = 0
        added = length
    for sid, fields in entries:
        st.append(sid, fields, lim.stream_entries, lim.stream_bytes)
    if len(st) != length:
        raise r.fail("stream length mismatch")
    st.last_id = last
    st.max_deleted = md
    st.entries_added = added
    ngroups = r.len()
    if ngroups:
        st.groups = {}
    for _ in range(ngroups):
        name = r.string()
        glast = (r.len() << 64) | r.len()
        if t >= T_STREAM_LISTPACKS_2:
            er = r.len()
            if er >= 1 << 63:
                er -= 1 << 64
        else:
            # a pre-7.0 payload has no read counter: Redis 7.0's loader estimates it
            er = st.estimate_distance(glast)
        g = tstream.Group(name, glast, er)
        npel = r.len()
        pending: dict[int, tuple[int, int]] = {}
        for _ in range(npel):
            sid = r.stream_id()
            tm = r.millis()
            cnt = r.len()
            pending[sid] = (tm, cnt)
        ncons = r.len()
        for _ in range(ncons):
            cname = r.string()
            seen = r.millis()
            if t >= T_STREAM_LISTPACKS_3:
                r.millis()  # active time (7.2)
            c = tstream.Consumer(cname, seen)
            nc = r.len()
            for _ in range(nc):
                sid = r.stream_id()
                if sid not in pending:
                    raise r.fail("consumer PEL entry missing from the group PEL")
                tm, cnt = pending[sid]
                nack = tstream.NACK(tm, cnt, c)
                g.pel[sid] = nack
                c.pel[sid] = nack
            g.consumers[cname] = c
        if len(g.pel) != len(pending):
            raise r.fail("group PEL entry without consumer")
        st.groups[name] = g
    return st


def parse_payload(payload: bytes, config: Any = None) -> Any:
    """The value of a DUMP payload; RdbError('checksum') / RdbError(...) when bad."""
    if len(payload) < 10:
        raise RdbError("checksum")
    ver = struct.unpack_from("<H", payload, len(payload) - 10)[0]
    if ver > RDB_VERSION:
        raise RdbError("checksum")
    crc = struct.unpack_from("<Q", payload, len(payload) - 8)[0]
    if crc64(memoryview(payload)[:-8]) != crc:
        raise RdbError("checksum")
    r = Reader(memoryview(payload)[:-10], "DUMP payload")
    t = r.byte()
    v = decode_value(r, t, Limits(config))
    if r.pos != len(r.data):
        raise RdbError("trailing data")
    return v


class Loader:
    """Loads an RDB file into a keyspace, as an iterator (one step per key) for yielding."""

    def __init__(self, ks: Any, now_ms: int | None = None, config: Any = None, skip_expired: bool = True) -> None:
        self.ks = ks
        self.now_ms = now_ms
        self.lim = Limits(config)
        self.skip_expired = skip_expired
        self.aux: dict[bytes, bytes] = {}
        self.functions: list[bytes] = []
        self.keys_loaded = 0
        self.keys_expired = 0
        self.pos = 0
        self.version = 0

    def iter_load(self, data: bytes, path: str = "RDB") -> Iterator[None]:
        if len(data) < 9 or data[:5] != b"REDIS":
            raise RdbError(f"{path}: wrong signature trying to load DB from file")
        try:
            ver = int(data[5:9])
        except ValueError:
            raise RdbError(f"{path}: bad RDB version") from None
        if ver < 1 or ver > RDB_VERSION + 2:
            raise RdbError(f"{path}: can't handle RDB format version {ver}")
        self.version = ver
        data = bytes(data)
        ndata = len(data)
        r = Reader(data, path)
        r.pos = 9
        ks = self.ks
        dbs = ks.dbs
        db = dbs[0]
        expire: int | None = None
        batch = 0
        dd = db.data
        loaded = self.keys_loaded
        while True:
            p = r.pos
            if p >= ndata:
                raise r.fail("unexpected end of data")
            op = data[p]
            r.pos = p + 1
            if op < OP_FUNCTION2:
                p = r.pos
                b = data[p] if p < ndata else 0xFF
                if b < 0x80:  # the key has a plain 6/14-bit length: parse it inline (hot path)
                    if b < 0x40:
                        p += 1
                        n = b
                    else:
                        n = ((b & 0x3F) << 8) | data[p + 1]
                        p += 2
                    key = data[p:p + n]
                    p += n
                    if op == T_STRING and p < ndata and data[p] < 0x80:
                        b = data[p]
                        if b < 0x40:
                            p += 1
                            n = b
                        else:
                            n = ((b & 0x3F) << 8) | data[p + 1]
                            p += 2
                        value = data[p:p + n]
                        p += n
                        if p > ndata:
                            raise r.fail("unexpected end of data")
                        r.pos = p
                    else:
                        if p > ndata:
                            raise r.fail("unexpected end of data")
                        r.pos = p
                        value = decode_value(r, op, self.lim)
                else:
                    key = r.string()
                    value = decode_value(r, op, self.lim)
                if expire is not None and self.skip_expired and self.now_ms is not None and expire < self.now_ms:
                    self.keys_expired += 1
                else:
                    dd[key] = value
                    if expire is not None:
                        db.set_expire(key, expire)
                    loaded += 1
                expire = None
                batch += 1
                if batch >= 1024:
                    batch = 0
                    self.pos = r.pos
                    self.keys_loaded = loaded
                    yield None
                continue
            if op == OP_EOF:
                break
            if op == OP_SELECTDB:
                dbid = r.len()
                if dbid >= len(dbs):
                    raise r.fail(f"FATAL: Data file was created with a Redis server configured to handle more than {len(dbs)} databases")
                db = dbs[dbid]
                dd = db.data
                continue
            if op == OP_RESIZEDB:
                r.len()
                r.len()
                continue
            if op == OP_AUX:
                k = r.string()
                self.aux[k] = r.string()
                continue
            if op == OP_EXPIRETIME_MS:
                expire = r.millis()
                continue
            if op == OP_EXPIRETIME:
                expire = struct.unpack("<i", r.raw(4))[0] * 1000
                continue
            if op == OP_IDLE:
                r.len()
                continue
            if op == OP_FREQ:
                r.byte()
                continue
            if op == OP_FUNCTION2:
                self.functions.append(r.string())
                continue
            if op == OP_FUNCTION:
                raise r.fail("pre-release function format (7.0 rc) is not supported")
            if op == OP_MODULE_AUX:
                raise r.fail("module auxiliary data is not supported")
            raise r.fail(f"unknown opcode {op}")
        self.keys_loaded = loaded
        if ver >= 5:
            end = r.pos
            tail = r.raw(8)
            stored = struct.unpack("<Q", tail)[0]
            if stored != 0 and crc64(memoryview(data)[:end]) != stored:
                raise RdbError(f"{path}: wrong RDB checksum (expected {stored:#x}); the file is damaged")
        self.pos = r.pos

    def load(self, data: bytes, path: str = "RDB") -> None:
        for _ in self.iter_load(data, path):
            pass


def verify_file(path: str, databases: int = 16) -> dict[bytes, bytes]:
    """Parse a whole RDB file (values, checksum) without keeping it; returns its AUX fields."""
    from ..keyspace import Keyspace

    with open(path, "rb") as f:
        data = f.read()
    ks = Keyspace(databases)
    ld = Loader(ks, now_ms=None)
    ld.load(data, path)
    return ld.aux
