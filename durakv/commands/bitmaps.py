"""Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Bitmaps are ordinary string values (``bytes``), bit 0 being the most significant bit
of the first byte.  The order of checks, error texts and range arithmetic follow Redis
7.0's ``bitops.c`` (including its quirks: BITCOUNT looks the key up before parsing its
range, BITFIELD's ``#`` offsets wrap like C's 64-bit multiplication).
"""

from __future__ import annotations

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types.bitfield import (
    OVERFLOW_FAIL,
    OVERFLOW_SAT,
    OVERFLOW_WRAP,
    check_signed_overflow,
    check_unsigned_overflow,
    get_unsigned,
    set_unsigned,
    to_int64,
)
from ._util import parse_int

_NOT_TABLE = bytes(255 - i for i in range(256))


def bit_offset(c: Session, arg: bytes, hash_ok: bool = False, bits: int = 0) -> int:
    """Redis's getBitOffsetFromArgument (``#n`` means n*bits when hash_ok)."""
    usehash = hash_ok and bits > 0 and arg[:1] == b"#"
    try:
        off = parse_int(arg[1:] if usehash else arg)
    except CommandError:
        raise CommandError(errors.BIT_OFFSET) from None
    if usehash:
        off = to_int64(off * bits)
    if off < 0 or (not c.replaying and (off >> 3) >= c.srv.config["proto-max-bulk-len"]):
        raise CommandError(errors.BIT_OFFSET)
    return off


def _string(c: Session, key: bytes, write: bool = False) -> bytes | None:
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise CommandError(errors.WRONGTYPE)
    return v


# -- SETBIT / GETBIT ----------------------------------------------------------------------
@command("setbit", 4, "write denyoom", "@write @bitmap @slow", keys=(1, 1, 1))
def setbit(c: Session, argv: list[bytes]) -> bytes:
    offset = bit_offset(c, argv[2])
    on = parse_int(argv[3], errors.BIT_VALUE)
    if on & ~1:
        raise CommandError(errors.BIT_VALUE)
    db = c.db
    key = argv[1]
    v = _string(c, key, True)
    byte = offset >> 3
    olen = 0 if v is None else len(v)
    grown = byte >= olen
    old = 0 if grown else v[byte]  # type: ignore[index]
    shift = 7 - (offset & 7)
    bitval = (old >> shift) & 1
    if grown or bitval != on:
        nb = bytes(((old & ~(1 << shift)) | (on << shift),))
        if grown:  # zero-pad up to the byte (one copy of the old value)
            new = b"".join((v or b"", bytes(byte - olen), nb))
        else:  # one copy: the joined parts are views of the old value
            mv = memoryview(v)  # type: ignore[arg-type]
            new = b"".join((mv[:byte], nb, mv[byte + 1 :]))
        db.set(key, new, keep_ttl=True)
        ks = db.ks
        ks.signal_modified(db, key)
        ks.notify("$", "setbit", key, db.id)
    db.str_enc[key] = "raw"  # Redis unshares the value for any SETBIT: it is a raw sds from now on
    return resp.ONE if bitval else resp.ZERO


@command("getbit", 3, "readonly fast", "@read @bitmap @fast", keys=(1, 1, 1))
def getbit(c: Session, argv: list[bytes]) -> bytes:
    offset = bit_offset(c, argv[2])
    v = _string(c, argv[1])
    if v is None:
        return resp.ZERO
    byte = offset >> 3
    if byte >= len(v):
        return resp.ZERO
    return resp.ONE if (v[byte] >> (7 - (offset & 7))) & 1 else resp.ZERO


# -- BITCOUNT / BITPOS --------------------------------------------------------------------
def _unit(arg: bytes) -> bool:
    """BIT -> True, BYTE -> False, anything else is a syntax error."""
    u = arg.lower()
    if u == b"bit":
        return True
    if u == b"byte":
        return False
    raise CommandError(errors.SYNTAX)


def _popcount(b: bytes) -> int:
    return int.from_bytes(b, "big").bit_count()


def _byte_range(start: int, end: int, totlen: int, isbit: bool) -> tuple[int, int, int, int]:
    """BITCOUNT/BITPOS range: clamp start/end (bytes, or bits with BIT) like Redis and
    return byte bounds plus the masks of the bits outside the range in the edge bytes."""
    first_mask = last_mask = 0
    if isbit:
        totlen <<= 3
    if start < 0:
        start += totlen
    if end < 0:
        end += totlen
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= totlen:
        end = totlen - 1
    if isbit and start <= end:
        first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
        last_mask = (1 << (7 - (end & 7))) - 1
        start >>= 3
        end >>= 3
    return start, end, first_mask, last_mask


@command("bitcount", -2, "readonly", "@read @bitmap @slow", keys=(1, 1, 1))
def bitcount(c: Session, argv: list[bytes]) -> bytes:
    v = _string(c, argv[1])
    if v is None:
        return resp.ZERO
    n = len(argv)
    first_mask = last_mask = 0
    if n == 4 or n == 5:
        totlen = len(v)
        start = parse_int(argv[2])
        end = parse_int(argv[3])
        if start < 0 and end < 0 and start > end:
            return resp.ZERO
        isbit = _unit(argv[4]) if n == 5 else False
        start, end, first_mask, last_mask = _byte_range(start, end, totlen, isbit)
    elif n == 2:
        start = 0
        end = len(v) - 1
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return resp.ZERO
    count = _popcount(v[start : end + 1])
    if first_mask:
        count -= (v[start] & first_mask).bit_count()
    if last_mask:
        count -= (v[end] & last_mask).bit_count()
    return resp.integer(count)


def _bitpos_raw(b: bytes, bit: int) -> int:
    """Redis's redisBitpos: first bit equal to ``bit``; clear bits past the end count."""
    if bit:
        rest = b.lstrip(b"\0")
        if not rest:
            return -1
        return (len(b) - len(rest)) * 8 + 8 - rest[0].bit_length()
    rest = b.lstrip(b"\xff")
    if not rest:
        return len(b) * 8
    return (len(b) - len(rest)) * 8 + 8 - (rest[0] ^ 0xFF).bit_length()


@command("bitpos", -3, "readonly", "@read @bitmap @slow", keys=(1, 1, 1))
def bitpos(c: Session, argv: list[bytes]) -> bytes:
    bit = parse_int(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError(errors.BITPOS_BIT)
    v = _string(c, argv[1])
    if v is None:
        return resp.NEG_ONE if bit else resp.ZERO
    n = len(argv)
    end_given = False
    first_mask = last_mask = 0
    if 4 <= n <= 6:
        totlen = len(v)
        start = parse_int(argv[3])
        isbit = _unit(argv[5]) if n == 6 else False
        if n >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = (totlen << 3) + 7 if isbit else totlen - 1
        start, end, first_mask, last_mask = _byte_range(start, end, totlen, isbit)
    elif n == 3:
        start = 0
        end = len(v) - 1
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return resp.NEG_ONE
    nbytes = end - start + 1
    pos, start, nbytes = _bitpos_scan(v, bit, start, end, nbytes, first_mask, last_mask)
    if end_given and bit == 0 and pos == nbytes << 3:
        return resp.NEG_ONE
    if pos != -1:
        pos += start << 3
    return resp.integer(pos)


def _bitpos_scan(
    v: bytes, bit: int, start: int, end: int, nbytes: int, first_mask: int, last_mask: int
) -> tuple[int, int, int]:
    """The masked scan of Redis's bitposCommand; returns (pos, start, bytes) at 'result'."""
    if first_mask:
        tmp = (v[start] & ~first_mask & 0xFF) if bit else (v[start] | first_mask)
        if last_mask and nbytes == 1:
            tmp = (tmp & ~last_mask & 0xFF) if bit else (tmp | last_mask)
        pos = _bitpos_raw(bytes((tmp,)), bit)
        if nbytes == 1 or (pos != -1 and pos != 8):
            return pos, start, nbytes
        start += 1
        nbytes -= 1
    curbytes = nbytes - (1 if last_mask else 0)
    if curbytes > 0:
        pos = _bitpos_raw(v[start : start + curbytes], bit)
        if nbytes == curbytes or (pos != -1 and pos != curbytes << 3):
            return pos, start, nbytes
        start += curbytes
        nbytes -= curbytes
    tmp = (v[end] & ~last_mask & 0xFF) if bit else (v[end] | last_mask)
    return _bitpos_raw(bytes((tmp,)), bit), start, nbytes


# -- BITOP --------------------------------------------------------------------------------
@command("bitop", -4, "write denyoom", "@write @bitmap @slow", keys=(2, -1, 1))
def bitop(c: Session, argv: list[bytes]) -> bytes:
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(errors.SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise CommandError(errors.BITOP_NOT_ONE_KEY)
    db = c.db
    srcs: list[bytes] = []
    for key in argv[3:]:
        v = db.lookup(key)
        if v is None:
            srcs.append(b"")
        elif type(v) is not bytes:
            raise CommandError(errors.WRONGTYPE)
        else:
            srcs.append(v)
    maxlen = max(len(s) for s in srcs)
    target = argv[2]
    ks = db.ks
    if maxlen:
        if op == b"not":
            res = srcs[0].translate(_NOT_TABLE)
        else:
            acc = int.from_bytes(srcs[0].ljust(maxlen, b"\0"), "big")
            for s in srcs[1:]:
                x = int.from_bytes(s.ljust(maxlen, b"\0"), "big")
                if op == b"and":
                    acc &= x
                elif op == b"or":
                    acc |= x
                else:
                    acc ^= x
            res = acc.to_bytes(maxlen, "big")
        db.lookup_write(target)  # lazy expiry of the old value first, as setKey's lookup
        db.set(target, res)
        db.str_enc[target] = "raw"
        ks.signal_modified(db, target)
        ks.notify("$", "set", target, db.id)
    elif db.lookup_write(target) is not None:
        db.delete(target)
        ks.signal_modified(db, target)
        ks.notify("g", "del", target, db.id)
    return resp.integer(maxlen)


# -- BITFIELD -----------------------------------------------------------------------------
_OP_GET = 0
_OP_SET = 1
_OP_INCRBY = 2


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """(signed, bits) from i1..i64 / u1..u63."""
    if arg[:1] == b"i":
        signed = True
    elif arg[:1] == b"u":
        signed = False
    else:
        raise CommandError(errors.BITFIELD_TYPE)
    try:
        bits = parse_int(arg[1:])
    except CommandError:
        raise CommandError(errors.BITFIELD_TYPE) from None
    if bits < 1 or (signed and bits > 64) or (not signed and bits > 63):
        raise CommandError(errors.BITFIELD_TYPE)
    return signed, bits


def _bitfield(c: Session, argv: list[bytes], readonly_cmd: bool) -> bytes:
    ops: list[tuple[int, int, int, bool, int, int]] = []  # (op, offset, bits, signed, value, owtype)
    owtype = OVERFLOW_WRAP
    readonly = True
    highest = 0
    j = 2
    n = len(argv)
    while j < n:
        remargs = n - j - 1
        sub = argv[j].lower()
        if sub == b"get" and remargs >= 2:
            op = _OP_GET
        elif sub == b"set" and remargs >= 3:
            op = _OP_SET
        elif sub == b"incrby" and remargs >= 3:
            op = _OP_INCRBY
        elif sub == b"overflow" and remargs >= 1:
            name = argv[j + 1].lower()
            j += 2
            if name == b"wrap":
                owtype = OVERFLOW_WRAP
            elif name == b"sat":
                owtype = OVERFLOW_SAT
            elif name == b"fail":
                owtype = OVERFLOW_FAIL
            else:
                raise CommandError(errors.BITFIELD_OVERFLOW_TYPE)
            continue
        else:
            raise CommandError(errors.SYNTAX)
        signed, bits = _bitfield_type(argv[j + 1])
        offset = bit_offset(c, argv[j + 2], True, bits)
        value = 0
        if op != _OP_GET:
            readonly = False
            if highest < offset + bits - 1:
                highest = offset + bits - 1
            value = parse_int(argv[j + 3])
        ops.append((op, offset, bits, signed, value, owtype))
        j += 3 if op == _OP_GET else 4

    db = c.db
    key = argv[1]
    grown = False
    if readonly:
        v = _string(c, key)
        buf: bytes | bytearray = v if v is not None else b""
    else:
        if readonly_cmd:
            raise CommandError(errors.BITFIELD_RO_GET_ONLY)
        v = _string(c, key, True)
        need = (highest >> 3) + 1
        if v is None:
            buf = bytearray(need)
            grown = True
        else:
            buf = bytearray(v)
            if len(buf) < need:
                buf.extend(bytes(need - len(buf)))
                grown = True

    out = [b"*%d\r\n" % len(ops)]
    changes = 0
    for op, offset, bits, signed, value, ow in ops:
        if op == _OP_GET:
            u = get_unsigned(buf, offset, bits)
            if signed and u >> (bits - 1):
                u -= 1 << bits
            out.append(resp.integer(u))
            continue
        assert isinstance(buf, bytearray)
        old = get_unsigned(buf, offset, bits)
        if signed:
            if old >> (bits - 1):
                old -= 1 << bits
            if op == _OP_INCRBY:
                overflow, wrapped = check_signed_overflow(old, value, bits, ow)
                new = wrapped if overflow else old + value
                ret = new
            else:
                overflow, wrapped = check_signed_overflow(value, 0, bits, ow)
                new = wrapped if overflow else value
                ret = old
        else:
            if op == _OP_INCRBY:
                overflow, wrapped = check_unsigned_overflow(old, value, bits, ow)
                new = wrapped if overflow else old + value
                ret = new
            else:
                uval = value & 0xFFFFFFFFFFFFFFFF  # the C code stores the int64 as uint64
                overflow, wrapped = check_unsigned_overflow(uval, 0, bits, ow)
                new = wrapped if overflow else uval
                ret = old
        if overflow and ow == OVERFLOW_FAIL:
            out.append(c.r.null)
            continue
        out.append(resp.integer(ret))
        set_unsigned(buf, offset, bits, new)
        if grown or old != new:
            changes += 1

    if not readonly and (changes or grown):
        db.set(key, bytes(buf), keep_ttl=True)
    if not readonly and key in db.data:
        db.str_enc[key] = "raw"
        ks = db.ks
        if changes:
            ks.signal_modified(db, key)
            ks.dirty += changes - 1  # Redis: server.dirty += changes
            ks.notify("$", "setbit", key, db.id)
        elif grown:
            # only created/grown (every op FAILed): Redis signals no change (WATCH and
            # tracking see none), but the log must still create or grow the key
            ks.signal_written(db, key)
            c.propagate(list(argv))
    return b"".join(out)


@command("bitfield", -2, "write denyoom", "@write @bitmap @slow", keys=(1, 1, 1))
def bitfield(c: Session, argv: list[bytes]) -> bytes:
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", "@read @bitmap @fast", keys=(1, 1, 1))
def bitfield_ro(c: Session, argv: list[bytes]) -> bytes:
    return _bitfield(c, argv, True)
