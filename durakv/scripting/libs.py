"""The Lua libraries Redis bundles, for lupa's plain Lua 5.1: bit, struct, cjson, cmsgpack.

Implemented in Python with Redis's (LuaBitOp 1.0.2, Roberto Ierusalimschy's struct,
lua-cjson 2.1.0, lua-cmsgpack 0.4.0) behaviour: formats, number rendering, array/map
detection and error texts.  Small Lua shims (``_SHIMS``) handle what must run in Lua
(variadic returns, ``cjson.null`` as a userdata sentinel).

``install(L)`` returns a Lua table ``{bit=..., struct=..., cjson=..., cmsgpack=...}``.
"""

from __future__ import annotations

import json
import math
import struct as pystruct
from typing import Any

from lupa import lua51

from .lua import LuaErr

lua_type = lua51.lua_type
LuaError = lua51.LuaError


class _Err(LuaErr):
    """A library error: the Lua error message (no position, as luaL_error from C)."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg.encode())


# -- bit ---------------------------------------------------------------------------------------

def _tobit(x: Any, fname: str = "tobit", argn: int = 1) -> int:
    if type(x) is bytes:
        try:
            x = float(x)
        except ValueError:
            raise _Err(f"bad argument #{argn} to '{fname}' (number expected, got string)") from None
    elif type(x) not in (int, float) or type(x) is bool:
        got = "no value" if x is None else ("boolean" if type(x) is bool else lua_type(x) or "userdata")
        raise _Err(f"bad argument #{argn} to '{fname}' (number expected, got {got})")
    if type(x) is float:
        if math.isnan(x) or math.isinf(x):
            return 0
        x = round(x)  # the 2^52+2^51 trick rounds half to even
    v = int(x) & 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _mk_bit() -> dict[bytes, Any]:
    def band(*a: Any) -> int:
        r = _tobit(a[0] if a else None, "band")
        for i, x in enumerate(a[1:], 2):
            r &= _tobit(x, "band", i)
        return _s32(r)

    def bor(*a: Any) -> int:
        r = _tobit(a[0] if a else None, "bor")
        for i, x in enumerate(a[1:], 2):
            r |= _tobit(x, "bor", i)
        return _s32(r)

    def bxor(*a: Any) -> int:
        r = _tobit(a[0] if a else None, "bxor")
        for i, x in enumerate(a[1:], 2):
            r ^= _tobit(x, "bxor", i)
        return _s32(r)

    def lshift(x: Any = None, n: Any = None) -> int:
        return _s32((_tobit(x, "lshift") & 0xFFFFFFFF) << (_tobit(n, "lshift", 2) & 31))

    def rshift(x: Any = None, n: Any = None) -> int:
        return _s32((_tobit(x, "rshift") & 0xFFFFFFFF) >> (_tobit(n, "rshift", 2) & 31))

    def arshift(x: Any = None, n: Any = None) -> int:
        return _s32(_tobit(x, "arshift") >> (_tobit(n, "arshift", 2) & 31))

    def rol(x: Any = None, n: Any = None) -> int:
        v = _tobit(x, "rol") & 0xFFFFFFFF
        k = _tobit(n, "rol", 2) & 31
        return _s32((v << k) | (v >> (32 - k)))

    def ror(x: Any = None, n: Any = None) -> int:
        v = _tobit(x, "ror") & 0xFFFFFFFF
        k = _tobit(n, "ror", 2) & 31
        return _s32((v >> k) | (v << (32 - k)))

    def bswap(x: Any = None) -> int:
        v = _tobit(x, "bswap") & 0xFFFFFFFF
        return _s32(int.from_bytes(v.to_bytes(4, "little"), "big"))

    def bnot(x: Any = None) -> int:
        return _s32(~_tobit(x, "bnot"))

    def tohex(x: Any = None, n: Any = None) -> bytes:
        v = _tobit(x, "tohex") & 0xFFFFFFFF
        k = 8 if n is None else _tobit(n, "tohex", 2)
        upper = k < 0
        if upper:
            k = -k
        if k > 8:
            k = 8
        s = ("%08X" if upper else "%08x") % v
        return s[8 - k:].encode() if k else b""

    return {b"tobit": lambda x=None: _tobit(x), b"tohex": tohex, b"bnot": bnot, b"band": band,
            b"bor": bor, b"bxor": bxor, b"lshift": lshift, b"rshift": rshift, b"arshift": arshift,
            b"rol": rol, b"ror": ror, b"bswap": bswap}


# -- struct ------------------------------------------------------------------------------------

_MAXINTSIZE = 32


class _Fmt:
    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt
        self.i = 0
        self.little = True
        self.align = 1

    def getnum(self, df: int) -> int:
        f = self.fmt
        if self.i >= len(f) or not chr(f[self.i]).isdigit():
            return df
        a = 0
        while self.i < len(f) and chr(f[self.i]).isdigit():
            a = a * 10 + (f[self.i] - 48)
            self.i += 1
        return a


def _optsize(st: _Fmt, opt: str) -> int:
    if opt == "B" or opt == "b":
        return 1
    if opt == "H" or opt == "h":
        return 2
    if opt == "L" or opt == "l":
        return 8
    if opt == "T":
        return 8
    if opt == "f":
        return 4
    if opt == "d":
        return 8
    if opt == "x":
        return 1
    if opt == "c":
        return st.getnum(1)
    if opt == "i" or opt == "I":
        sz = st.getnum(4)
        if sz > _MAXINTSIZE:
            raise _Err("integral size %d is larger than limit of %d" % (sz, _MAXINTSIZE))
        return sz
    return 0


def _gettoalign(length: int, st: _Fmt, opt: str, size: int) -> int:
    if size == 0 or opt == "c":
        return 0
    if size > st.align:
        size = st.align
    return (size - (length & (size - 1))) & (size - 1)


def _controloptions(st: _Fmt, opt: str) -> bool:
    if opt == " ":
        return True
    if opt == ">":
        st.little = False
        return True
    if opt == "<":
        st.little = True
        return True
    if opt == "!":
        a = st.getnum(8)
        if a & (a - 1):
            raise _Err("alignment %d is not a power of 2" % a)
        st.align = a
        return True
    return False


def _check_opt(opt: str) -> None:
    if opt not in "bBhHlLTiIfdxsc":
        raise _Err("invalid format option '%s'" % opt)


def struct_pack(fmt: Any = None, *args: Any) -> bytes:
    if type(fmt) is not bytes:
        raise _Err("bad argument #1 to 'pack' (string expected, got %s)" % ("no value" if fmt is None else lua_type(fmt) or type(fmt).__name__))
    st = _Fmt(fmt)
    out = bytearray()
    argi = 0
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        if _controloptions(st, opt):
            continue
        _check_opt(opt)
        size = _optsize(st, opt)
        out += b"\0" * _gettoalign(len(out), st, opt, size)
        if opt == "x":
            out += b"\0"
            continue
        arg = args[argi] if argi < len(args) else None
        argi += 1
        if opt in "bBhHlLTiI":
            n = _num(arg, argi + 1, "pack")
            v = int(n) if not (isinstance(n, float) and (math.isnan(n) or math.isinf(n))) else 0
            v &= (1 << (8 * size)) - 1 if size else 0
            out += v.to_bytes(size, "little" if st.little else "big") if size else b""
        elif opt == "f":
            out += pystruct.pack("<f" if st.little else ">f", float(_num(arg, argi + 1, "pack")))
        elif opt == "d":
            out += pystruct.pack("<d" if st.little else ">d", float(_num(arg, argi + 1, "pack")))
        elif opt == "c" or opt == "s":
            s = _str(arg, argi + 1, "pack")
            ln = len(s)
            if size == 0:
                size = ln
            if opt == "c":
                if ln < size:
                    raise _Err("bad argument #%d to 'pack' (string too short)" % (argi + 1))
                out += s[:size]
            else:
                out += s + b"\0"
    return bytes(out)


def _num(v: Any, n: int, fname: str) -> float | int:
    if type(v) in (int, float) and type(v) is not bool:
        return v
    if type(v) is bytes:
        try:
            return float(v) if b"." in v or b"e" in v.lower() else int(v, 0)
        except ValueError:
            pass
    got = "no value" if v is None else ("string" if type(v) is bytes else lua_type(v) or "boolean")
    raise _Err(f"bad argument #{n} to '{fname}' (number expected, got {got})")


def _str(v: Any, n: int, fname: str) -> bytes:
    if type(v) is bytes:
        return v
    if type(v) in (int, float) and type(v) is not bool:
        return (b"%.14g" % v)
    got = "no value" if v is None else lua_type(v) or "boolean"
    raise _Err(f"bad argument #{n} to '{fname}' (string expected, got {got})")


def struct_unpack(fmt: Any = None, data: Any = None, pos: Any = None) -> tuple[Any, ...]:
    if type(fmt) is not bytes:
        raise _Err("bad argument #1 to 'unpack' (string expected, got %s)" % ("no value" if fmt is None else "number"))
    data = _str(data, 2, "unpack")
    i = 0 if pos is None else int(_num(pos, 3, "unpack")) - 1
    if i < 0 or i > len(data):
        raise _Err("bad argument #3 to 'unpack' (offset must be 1 or greater)")
    st = _Fmt(fmt)
    res: list[Any] = []
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        if _controloptions(st, opt):
            continue
        _check_opt(opt)
        size = _optsize(st, opt)
        i += _gettoalign(i, st, opt, size)
        if size > len(data) or i > len(data) - size:
            raise _Err("bad argument #2 to 'unpack' (data string too short)")
        if opt == "x":
            i += size
            continue
        if opt in "bBhHlLTiI":
            v = int.from_bytes(data[i:i + size], "little" if st.little else "big")
            if opt.islower() and size and v >= 1 << (8 * size - 1):
                v -= 1 << (8 * size)
            res.append(float(v) if abs(v) >= 1 << 53 else v)
        elif opt == "f":
            res.append(pystruct.unpack("<f" if st.little else ">f", data[i:i + 4])[0])
        elif opt == "d":
            res.append(pystruct.unpack("<d" if st.little else ">d", data[i:i + 8])[0])
        elif opt == "c":
            if size == 0:
                if not res:
                    raise _Err("format 'c0' needs a previous size")
                size = int(res.pop())
                if size > len(data) - i:
                    raise _Err("bad argument #2 to 'unpack' (data string too short)")
            res.append(data[i:i + size])
        elif opt == "s":
            e = data.find(b"\0", i)
            if e < 0:
                raise _Err("unfinished string in data")
            res.append(data[i:e])
            size = e - i + 1
        i += size
    res.append(i + 1)
    return tuple(res)


def struct_size(fmt: Any = None) -> int:
    if type(fmt) is not bytes:
        raise _Err("bad argument #1 to 'size' (string expected, got no value)")
    st = _Fmt(fmt)
    pos = 0
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        if _controloptions(st, opt):
            continue
        _check_opt(opt)
        size = _optsize(st, opt)
        pos += _gettoalign(pos, st, opt, size)
        if opt == "s":
            raise _Err("options 's' has no fixed size")
        if opt == "c" and size == 0:
            raise _Err("options 'c0' has no fixed size")
        pos += size
    return pos


# -- cjson -------------------------------------------------------------------------------------

class _Cjson:
    def __init__(self, L: Any, null: Any) -> None:
        self.L = L
        self.null = null
        self.max_depth = 1000

    def encode(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise _Err("bad argument #1 to 'encode' (expected 1 argument)")
        out: list[bytes] = []
        self._enc(args[0], out, 0)
        return b"".join(out)

    def _enc(self, v: Any, out: list[bytes], depth: int) -> None:
        t = type(v)
        if t is bytes:
            out.append(_json_str(v))
        elif t is bool:
            out.append(b"true" if v else b"false")
        elif t is int or t is float:
            if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
                raise _Err("Cannot serialise number: must not be NaN or Inf")
            out.append(b"%.14g" % v)
        elif v is None:
            out.append(b"null")
        else:
            lt = lua_type(v)
            if lt == "table":
                depth += 1
                if depth > self.max_depth:
                    raise _Err("Cannot serialise, excessive nesting (%d)" % depth)
                items = list(v.items())
                n = _array_len(items)
                if n >= 0:
                    if n > 10 and n > len(items) * 2:
                        raise _Err("Cannot serialise table: excessively sparse array")
                    d = dict(items)
                    out.append(b"[")
                    for i in range(1, n + 1):
                        if i > 1:
                            out.append(b",")
                        self._enc(d.get(i), out, depth)
                    out.append(b"]")
                else:
                    out.append(b"{")
                    first = True
                    for k, x in items:
                        if not first:
                            out.append(b",")
                        first = False
                        if type(k) is bytes:
                            out.append(_json_str(k))
                        elif type(k) in (int, float):
                            out.append(b'"%.14g"' % k)
                        else:
                            raise _Err("Cannot serialise %s: table key must be a number or string" % (lua_type(k) or "boolean"))
                        out.append(b":")
                        self._enc(x, out, depth)
                    out.append(b"}")
            elif lt == "userdata" and self.L.eval("rawequal")(v, self.null):
                out.append(b"null")
            else:
                raise _Err("Cannot serialise %s: type not supported" % (lt or "userdata"))

    def decode(self, *args: Any) -> Any:
        if len(args) != 1:
            raise _Err("bad argument #1 to 'decode' (expected 1 argument)")
        s = args[0]
        if type(s) in (int, float):
            s = b"%.14g" % s
        if type(s) is not bytes:
            raise _Err("bad argument #1 to 'decode' (string expected, got %s)" % (lua_type(s) or "boolean"))
        try:
            obj = json.loads(s.decode("utf-8", "surrogateescape"), parse_constant=_bad_constant)
        except (ValueError, RecursionError) as e:
            raise _Err(_cjson_decode_error(s, e)) from None
        return self._to_lua(obj, 0)

    def _to_lua(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return obj.encode("utf-8", "surrogateescape")
        if obj is None:
            return self.null
        if isinstance(obj, bool):
            return obj
        if isinstance(obj, int):
            return float(obj) if abs(obj) >= 1 << 53 else obj
        if isinstance(obj, float):
            return obj
        depth += 1
        if depth > self.max_depth:
            raise _Err("Found too many nested data structures (%d) at character 1" % depth)
        t = self.L.table()
        if isinstance(obj, list):
            for i, x in enumerate(obj, 1):
                t[i] = self._to_lua(x, depth)
        else:
            for k, x in obj.items():
                t[k.encode("utf-8", "surrogateescape")] = self._to_lua(x, depth)
        return t


def _bad_constant(name: str) -> Any:
    raise ValueError("Expected value but found invalid token")


def _cjson_decode_error(s: bytes, e: Exception) -> str:
    pos = getattr(e, "pos", 0) or 0
    stripped = s.strip()
    if not stripped:
        return "Expected value but found T_END at character %d" % (len(s) + 1)
    return "Expected value but found invalid token at character %d" % (pos + 1)


_JSON_ESC = {0x22: b'\\"', 0x5C: b"\\\\", 0x2F: b"\\/", 0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n",
             0x0D: b"\\r", 0x09: b"\\t"}


def _json_str(b: bytes) -> bytes:
    out = bytearray(b'"')
    for ch in b:
        e = _JSON_ESC.get(ch)
        if e is not None:
            out += e
        elif ch < 0x20 or ch == 0x7F:
            out += b"\\u%04x" % ch
        else:
            out.append(ch)
    out += b'"'
    return bytes(out)


def _array_len(items: list[tuple[Any, Any]]) -> int:
    """lua-cjson's lua_array_length: max positive integer key, or -1 if not an array."""
    mx = 0
    for k, _ in items:
        if type(k) in (int, float) and type(k) is not bool and k == int(k) and k >= 1:
            if k > mx:
                mx = int(k)
        else:
            return -1
    return mx


# -- cmsgpack ----------------------------------------------------------------------------------

class _Msgpack:
    def __init__(self, L: Any) -> None:
        self.L = L

    def pack(self, *args: Any) -> bytes:
        if not args:
            raise _Err("MessagePack pack needs input.")
        out = bytearray()
        for a in args:
            self._enc(a, out, 0)
        return bytes(out)

    def _enc(self, v: Any, out: bytearray, depth: int) -> None:
        t = type(v)
        if t is bytes:
            n = len(v)
            if n < 32:
                out.append(0xA0 | n)
            elif n <= 0xFF:
                out += b"\xd9" + bytes([n])
            elif n <= 0xFFFF:
                out += b"\xda" + n.to_bytes(2, "big")
            else:
                out += b"\xdb" + n.to_bytes(4, "big")
            out += v
        elif t is bool:
            out.append(0xC3 if v else 0xC2)
        elif t is int or (t is float and v == v and not math.isinf(v) and v == int(v) and abs(v) < 2**63):
            _mp_int(int(v), out)
        elif t is float:
            f = pystruct.unpack(">f", pystruct.pack(">f", v))[0] if not math.isinf(v) and abs(v) < 3.5e38 else None
            if f == v or (math.isinf(v)):
                out += b"\xca" + pystruct.pack(">f", v)
            else:
                out += b"\xcb" + pystruct.pack(">d", v)
        elif v is None:
            out.append(0xC0)
        elif lua_type(v) == "table":
            if depth >= 16:
                out.append(0xC0)
                return
            items = list(v.items())
            n = len(items)
            is_array = all(type(k) in (int, float) and type(k) is not bool and k == int(k) and k >= 1 for k, _ in items) \
                and (not items or max(int(k) for k, _ in items) == n)
            if is_array:
                d = dict(items)
                if n <= 15:
                    out.append(0x90 | n)
                elif n <= 0xFFFF:
                    out += b"\xdc" + n.to_bytes(2, "big")
                else:
                    out += b"\xdd" + n.to_bytes(4, "big")
                for i in range(1, n + 1):
                    self._enc(d[i], out, depth + 1)
            else:
                if n <= 15:
                    out.append(0x80 | n)
                elif n <= 0xFFFF:
                    out += b"\xde" + n.to_bytes(2, "big")
                else:
                    out += b"\xdf" + n.to_bytes(4, "big")
                for k, x in items:
                    self._enc(k, out, depth + 1)
                    self._enc(x, out, depth + 1)
        else:
            out.append(0xC0)

    def unpack(self, *args: Any) -> tuple[Any, ...]:
        if len(args) != 1 or type(args[0]) is not bytes:
            raise _Err("MessagePack unpack needs input.")
        data = args[0]
        pos = 0
        res = []
        while pos < len(data):
            v, pos = self._dec(data, pos)
            res.append(v)
        return tuple(res)

    def _dec(self, d: bytes, p: int) -> tuple[Any, int]:
        try:
            c = d[p]
            p += 1
            if c <= 0x7F:
                return c, p
            if c >= 0xE0:
                return c - 256, p
            if 0xA0 <= c <= 0xBF:
                n = c & 0x1F
                return self._chk(d, p, n), p + n
            if 0x90 <= c <= 0x9F:
                return self._arr(d, p, c & 0x0F)
            if 0x80 <= c <= 0x8F:
                return self._map(d, p, c & 0x0F)
            if c == 0xC0:
                return None, p
            if c == 0xC2:
                return False, p
            if c == 0xC3:
                return True, p
            if c == 0xCA:
                return pystruct.unpack(">f", self._chk(d, p, 4))[0], p + 4
            if c == 0xCB:
                return pystruct.unpack(">d", self._chk(d, p, 8))[0], p + 8
            sizes = {0xCC: (1, False), 0xCD: (2, False), 0xCE: (4, False), 0xCF: (8, False),
                     0xD0: (1, True), 0xD1: (2, True), 0xD2: (4, True), 0xD3: (8, True)}
            if c in sizes:
                n, signed = sizes[c]
                v = int.from_bytes(self._chk(d, p, n), "big", signed=signed)
                return (float(v) if abs(v) >= 1 << 53 else v), p + n
            if c in (0xD9, 0xC4):
                n = d[p]
                return self._chk(d, p + 1, n), p + 1 + n
            if c in (0xDA, 0xC5):
                n = int.from_bytes(self._chk(d, p, 2), "big")
                return self._chk(d, p + 2, n), p + 2 + n
            if c in (0xDB, 0xC6):
                n = int.from_bytes(self._chk(d, p, 4), "big")
                return self._chk(d, p + 4, n), p + 4 + n
            if c == 0xDC:
                return self._arr(d, p + 2, int.from_bytes(self._chk(d, p, 2), "big"))
            if c == 0xDD:
                return self._arr(d, p + 4, int.from_bytes(self._chk(d, p, 4), "big"))
            if c == 0xDE:
                return self._map(d, p + 2, int.from_bytes(self._chk(d, p, 2), "big"))
            if c == 0xDF:
                return self._map(d, p + 4, int.from_bytes(self._chk(d, p, 4), "big"))
        except IndexError:
            pass
        raise _Err("Missing bytes in input.")

    @staticmethod
    def _chk(d: bytes, p: int, n: int) -> bytes:
        if p + n > len(d):
            raise IndexError
        return d[p:p + n]

    def _arr(self, d: bytes, p: int, n: int) -> tuple[Any, int]:
        t = self.L.table()
        for i in range(1, n + 1):
            v, p = self._dec(d, p)
            t[i] = v
        return t, p

    def _map(self, d: bytes, p: int, n: int) -> tuple[Any, int]:
        t = self.L.table()
        for _ in range(n):
            k, p = self._dec(d, p)
            v, p = self._dec(d, p)
            if k is not None:
                t[k] = v
        return t, p


def _mp_int(v: int, out: bytearray) -> None:
    if v >= 0:
        if v <= 127:
            out.append(v)
        elif v <= 0xFF:
            out += b"\xcc" + bytes([v])
        elif v <= 0xFFFF:
            out += b"\xcd" + v.to_bytes(2, "big")
        elif v <= 0xFFFFFFFF:
            out += b"\xce" + v.to_bytes(4, "big")
        else:
            out += b"\xcf" + (v & (2**64 - 1)).to_bytes(8, "big")
    else:
        if v >= -32:
            out.append(v & 0xFF)
        elif v >= -128:
            out += b"\xd0" + v.to_bytes(1, "big", signed=True)
        elif v >= -32768:
            out += b"\xd1" + v.to_bytes(2, "big", signed=True)
        elif v >= -(2**31):
            out += b"\xd2" + v.to_bytes(4, "big", signed=True)
        else:
            out += b"\xd3" + v.to_bytes(8, "big", signed=True)


# cjson.null is a userdata sentinel made in Lua (newproxy); the tables are made here
_SHIMS = r"""
local bit, struct, cjson, cmsgpack = ...
cjson.null = newproxy(false)
return {bit = bit, struct = struct, cjson = cjson, cmsgpack = cmsgpack}, cjson.null
"""


def _load(loader: Any, code: str) -> Any:
    r = loader(code.encode(), b"=durakv")
    if isinstance(r, tuple):
        raise RuntimeError(f"Lua bootstrap failed: {r[1]!r}")
    return r


def install(L: Any, _err_cls: Any = None) -> Any:
    """Build the four library tables inside runtime ``L``."""
    holder: list[_Cjson] = []
    mp = _Msgpack(L)

    def cj_encode(*a: Any) -> Any:
        return holder[0].encode(*a)

    def cj_decode(*a: Any) -> Any:
        return holder[0].decode(*a)

    loader = L.eval("loadstring")
    libs, null = _load(loader, _SHIMS)(
        L.table_from(_mk_bit()),
        L.table_from({b"pack": struct_pack, b"unpack": struct_unpack, b"size": struct_size}),
        L.table_from({b"encode": cj_encode, b"decode": cj_decode}),
        L.table_from({b"pack": mp.pack, b"unpack": mp.unpack}),
    )
    holder.append(_Cjson(L, null))
    return libs
