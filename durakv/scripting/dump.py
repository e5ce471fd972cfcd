"""FUNCTION DUMP / RESTORE payloads in Redis 7.0's format.

Payload = for each library ``RDB_OPCODE_FUNCTION2`` (245) + RDB string (the library code,
LZF-compressed when that helps, as Redis writes it), then the 2-byte little-endian RDB
version (10) and the CRC-64 of everything before it (8 bytes, little endian).  The RDB
string codec and CRC-64 come from :mod:`durakv.durability.rdb` / ``crc64``.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ..errors import CommandError

if TYPE_CHECKING:
    from . import Scripting

OPCODE_FUNCTION_PRE_GA = 246
OPCODE_FUNCTION2 = 245
RDB_VERSION = 10


def dump_payload(codes: list[bytes]) -> bytes:
    from ..durability.crc64 import crc64
    from ..durability.rdb import enc_string

    body = b"".join(bytes((OPCODE_FUNCTION2,)) + enc_string(code) for code in codes)
    body += struct.pack("<H", RDB_VERSION)
    return body + struct.pack("<Q", crc64(body))


def parse_payload(payload: bytes) -> list[bytes]:
    """The library codes of a payload; raises CommandError with Redis's texts."""
    from ..durability.crc64 import crc64
    from ..durability.rdb import RdbError, Reader

    if len(payload) < 10:
        raise CommandError("ERR DUMP payload version or checksum are wrong")
    ver = struct.unpack("<H", payload[-10:-8])[0]
    crc = struct.unpack("<Q", payload[-8:])[0]
    if ver > RDB_VERSION or (crc != 0 and crc64(payload[:-8]) != crc):
        raise CommandError("ERR DUMP payload version or checksum are wrong")
    r = Reader(payload[:-10], "FUNCTION RESTORE")
    codes = []
    try:
        while r.pos < len(r.data):
            op = r.byte()
            if op == OPCODE_FUNCTION_PRE_GA:
                raise CommandError("ERR Pre-GA function format not supported")
            if op != OPCODE_FUNCTION2:
                raise CommandError("ERR given type is not a function")
            codes.append(r.string())
    except RdbError:
        raise CommandError("ERR Failed loading library from payload") from None
    return codes


def restore_payload(sc: Scripting, payload: bytes, policy: bytes) -> None:
    """FUNCTION RESTORE with policy flush|append|replace (all or nothing)."""
    codes = parse_payload(payload)
    saved_libs = dict(sc.libraries)
    saved_funcs = dict(sc.functions)
    saved_engine = sc.fengine
    try:
        if policy == b"flush":
            sc.flush_functions()
            for code in codes:
                sc.load_library(code, False)
            return
        # build the new libraries apart first (errors inside them win), then join
        from . import parse_function_shebang

        names = [parse_function_shebang(code)[0] for code in codes]
        if policy == b"append":
            for name in names:
                if name in sc.libraries:
                    raise CommandError("ERR Library %s already exists" % name.decode("latin-1"))
        for code in codes:
            sc.load_library(code, policy == b"replace")
    except CommandError:
        sc.libraries.clear()
        sc.libraries.update(saved_libs)
        sc.functions.clear()
        sc.functions.update(saved_funcs)
        sc.fengine = saved_engine
        raise
