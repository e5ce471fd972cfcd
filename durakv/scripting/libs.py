"""The Lua libraries Redis bundles, for lupa's plain Lua 5.1: bit, struct, cjson, cmsgpack.

Implemented in Python with Redis's (LuaBitOp 1.0.2, Roberto Ierusalimschy's struct,
lua-cjson 2.1.0, lua-cmsgpack 0.4.0) behaviour: formats, number rendering, array/map
detection and error texts.  Small Lua shims (``_SHIMS``) handle what must run in Lua
(variadic returns, ``cjson.null`` as a userdata sentinel).

``install(L)`` returns a Lua table ``{bit=..., struct=..., cjson=..., cmsgpack=...}`` and
the Lua ``where()`` that error messages are prefixed with.
"""

from __future__ import annotations

import math
import re
import struct as pystruct
from typing import Any

from lupa import lua51

from .lua import LuaErr, _lua_tonumber

lua_type = lua51.lua_type
LuaError = lua51.LuaError


class _Err(LuaErr):
    """A library error: the Lua error message (no position, as luaL_error from C)."""

    def __init__(self, msg: str) -> None:
        try:
            super().__init__(msg.encode("latin-1"))  # (bytes decoded as latin-1 come back whole)
        except UnicodeEncodeError:
            super().__init__(msg.encode())


# -- bit ---------------------------------------------------------------------------------------

_NONE = object()  # an argument the caller did not pass (Lua's "no value", not nil)


def _arg(a: tuple[Any, ...], i: int) -> Any:
    return a[i] if i < len(a) else _NONE


def _bits(x: Any, fname: str, argn: int) -> int:
    """LuaBitOp's barg: lua_tonumber + 2^52+2^51, the low 32 bits of the double (unsigned)."""
    n = _lua_tonumber(x) if x is not _NONE else None
    d = (0.0 if n is None else float(n)) + 6755399441055744.0
    b = pystruct.unpack("<Q", pystruct.pack("<d", d))[0] & 0xFFFFFFFF
    if b == 0 and n is None:
        got = "no value" if x is _NONE else _typename(x)
        raise _Err(f"bad argument #{argn} to '{fname}' (number expected, got {got})")
    return b


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _mk_bit() -> dict[bytes, Any]:
    def fold(fname: str, op: Any) -> Any:
        def f(*a: Any) -> int:
            b = _bits(_arg(a, 0), fname, 1)
            for i in range(len(a), 1, -1):  # LuaBitOp reads the arguments from the last one
                b = op(b, _bits(a[i - 1], fname, i))
            return _s32(b)
        return f

    def shift(fname: str, fn: Any) -> Any:
        def f(*a: Any) -> int:
            b = _bits(_arg(a, 0), fname, 1)
            n = _bits(_arg(a, 1), fname, 2) & 31
            return _s32(fn(b, n))
        return f

    def tobit(*a: Any) -> int:
        return _s32(_bits(_arg(a, 0), "tobit", 1))

    def bnot(*a: Any) -> int:
        return _s32(~_bits(_arg(a, 0), "bnot", 1))

    def bswap(*a: Any) -> int:
        v = _bits(_arg(a, 0), "bswap", 1)
        return _s32(int.from_bytes(v.to_bytes(4, "little"), "big"))

    def tohex(*a: Any) -> bytes:
        v = _bits(_arg(a, 0), "tohex", 1)
        k = 8 if len(a) < 2 else _s32(_bits(a[1], "tohex", 2))
        upper = k < 0
        if upper:
            k = -k
        if k > 8:
            k = 8  # (-2^31 stays negative in C: an empty string)
        if k <= 0:
            return b""
        s = ("%08X" if upper else "%08x") % v
        return s[8 - k:].encode()

    return {b"tobit": tobit, b"tohex": tohex, b"bnot": bnot,
            b"band": fold("band", lambda x, y: x & y), b"bor": fold("bor", lambda x, y: x | y),
            b"bxor": fold("bxor", lambda x, y: x ^ y),
            b"lshift": shift("lshift", lambda b, n: b << n), b"rshift": shift("rshift", lambda b, n: b >> n),
            b"arshift": shift("arshift", lambda b, n: _s32(b) >> n),
            b"rol": shift("rol", lambda b, n: (b << n) | (b >> (32 - n))),
            b"ror": shift("ror", lambda b, n: (b >> n) | (b << (32 - n))),
            b"bswap": bswap}


# -- struct ------------------------------------------------------------------------------------

_MAXINTSIZE = 32


class _Fmt:
    def __init__(self, fmt: bytes) -> None:
        self.fmt = fmt.split(b"\0", 1)[0]  # a C string
        self.i = 0
        self.little = True
        self.align = 1

    def getnum(self, df: int) -> int:
        f = self.fmt
        if self.i >= len(f) or not 48 <= f[self.i] <= 57:
            return df
        a = 0
        while self.i < len(f) and 48 <= f[self.i] <= 57:
            d = f[self.i] - 48
            if a > 2147483647 // 10 or a * 10 > 2147483647 - d:
                raise _Err("integral size overflow")
            a = a * 10 + d
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


def _controloptions(st: _Fmt, opt: str, fname: str) -> None:
    if opt == " ":
        return
    if opt == ">":
        st.little = False
        return
    if opt == "<":
        st.little = True
        return
    if opt == "!":
        a = st.getnum(8)
        if a & (a - 1):
            raise _Err("alignment %d is not a power of 2" % a)
        st.align = a
        return
    raise _Err("bad argument #1 to '%s' (invalid format option '%s')" % (fname, opt))


def _fmt_arg(a: tuple[Any, ...], fname: str) -> bytes:
    """luaL_checkstring(L, 1)"""
    return _str(a[0] if a else _NONE, 1, fname)


def _c_uint64(n: float) -> int:
    """putinteger: (Uinttype)n for n >= 0, (Uinttype)(Inttype)n below (x86 conversions)."""
    if n != n:
        return 0
    if n < 0:
        return int(n) & 0xFFFFFFFFFFFFFFFF if n >= -9.2233720368547758e18 else 1 << 63
    return int(n) if n < 1.8446744073709552e19 else 0


def struct_pack(*a: Any) -> bytes:
    fmt = _fmt_arg(a, "pack")
    st = _Fmt(fmt)
    fmt = st.fmt
    out = bytearray()
    arg = 2  # the Lua argument index of the next value
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        size = _optsize(st, opt)
        out += b"\0" * _gettoalign(len(out), st, opt, size)
        if opt in "bBhHlLTiI":
            v = _c_uint64(_num(_pack_arg(a, arg), arg, "pack"))
            arg += 1
            if size < 8:
                v &= (1 << (8 * size)) - 1
            out += v.to_bytes(size, "little" if st.little else "big")
        elif opt == "x":
            out += b"\0"
        elif opt == "f":
            f = float(_num(_pack_arg(a, arg), arg, "pack"))
            arg += 1
            try:
                out += pystruct.pack("<f" if st.little else ">f", f)
            except OverflowError:
                out += pystruct.pack("<f" if st.little else ">f", math.copysign(math.inf, f))
        elif opt == "d":
            out += pystruct.pack("<d" if st.little else ">d", float(_num(_pack_arg(a, arg), arg, "pack")))
            arg += 1
        elif opt == "c" or opt == "s":
            v = _str(_pack_arg(a, arg), arg, "pack")
            arg += 1
            if size == 0:
                size = len(v)
            if len(v) < size:  # (lua_struct blames the argument after it)
                raise _Err("bad argument #%d to 'pack' (string too short)" % arg)
            out += v[:size]
            if opt == "s":
                out += b"\0"
        else:
            _controloptions(st, opt, "pack")
    return bytes(out)


def _pack_arg(a: tuple[Any, ...], i: int) -> Any:
    """Argument ``i`` (1-based) of struct.pack; the first missing one is the nil b_pack pushed."""
    if i - 1 < len(a):
        return a[i - 1]
    return None if i - 1 == len(a) else _NONE


def _num(v: Any, n: int, fname: str) -> float | int:
    """luaL_checknumber"""
    r = _lua_tonumber(v) if v is not _NONE else None
    if r is None:
        got = "no value" if v is _NONE else _typename(v)
        raise _Err(f"bad argument #{n} to '{fname}' (number expected, got {got})")
    return r


def _str(v: Any, n: int, fname: str) -> bytes:
    """luaL_checklstring"""
    if type(v) is bytes:
        return v
    if type(v) in (int, float) and type(v) is not bool:
        return _fmt_num14(v)
    got = "no value" if v is _NONE else _typename(v)
    raise _Err(f"bad argument #{n} to '{fname}' (string expected, got {got})")


def _fmt_num14(v: float) -> bytes:
    if v != v:
        return b"-nan" if math.copysign(1.0, v) < 0 else b"nan"
    return b"%.14g" % v


def _getinteger(b: bytes, little: bool, signed: bool, size: int) -> float | int:
    v = int.from_bytes(b, "little" if little else "big") & 0xFFFFFFFFFFFFFFFF
    if signed:
        mask = (0xFFFFFFFFFFFFFFFF << ((size * 8 - 1) & 63)) & 0xFFFFFFFFFFFFFFFF
        if v & mask:
            v |= mask
        if v >= 1 << 63:
            v -= 1 << 64
    return float(v) if abs(v) >= 1 << 53 else v


def struct_unpack(*a: Any) -> tuple[Any, ...]:
    fmt = _fmt_arg(a, "unpack")
    data = _str(_arg(a, 1), 2, "unpack")
    p = _arg(a, 2)
    if p is _NONE or p is None:
        pos = 1
    else:
        pos = _c_uint64(float(_num(p, 3, "unpack")))  # a size_t
    if pos == 0:
        raise _Err("bad argument #3 to 'unpack' (offset must be 1 or greater)")
    i = pos - 1
    ld = len(data)
    st = _Fmt(fmt)
    fmt = st.fmt
    res: list[Any] = []
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        size = _optsize(st, opt)
        i += _gettoalign(i, st, opt, size)
        if size > ld or i > ld - size:
            raise _Err("bad argument #2 to 'unpack' (data string too short)")
        if opt in "bBhHlLTiI":
            res.append(_getinteger(data[i:i + size], st.little, opt.islower(), size))
        elif opt == "x":
            pass
        elif opt == "f":
            res.append(pystruct.unpack("<f" if st.little else ">f", data[i:i + 4])[0])
        elif opt == "d":
            res.append(pystruct.unpack("<d" if st.little else ">d", data[i:i + 8])[0])
        elif opt == "c":
            if size == 0:
                prev = _lua_tonumber(res[-1]) if res else None
                if prev is None:
                    raise _Err("format 'c0' needs a previous size")
                res.pop()
                size = _c_uint64(float(prev))
                if size > ld or i > ld - size:
                    raise _Err("bad argument #2 to 'unpack' (data string too short)")
            res.append(data[i:i + size])
        elif opt == "s":
            e = data.find(b"\0", i)
            if e < 0:
                raise _Err("unfinished string in data")
            res.append(data[i:e])
            size = e - i + 1
        else:
            _controloptions(st, opt, "unpack")
        i += size
    nxt = (i + 1) & 0xFFFFFFFFFFFFFFFF
    res.append(nxt - (1 << 64) if nxt >= 1 << 63 else nxt)
    return tuple(res)


def struct_size(*a: Any) -> int:
    fmt = _fmt_arg(a, "size")
    st = _Fmt(fmt)
    fmt = st.fmt
    pos = 0
    while st.i < len(fmt):
        opt = chr(fmt[st.i])
        st.i += 1
        size = _optsize(st, opt)
        pos += _gettoalign(pos, st, opt, size)
        if opt == "s":
            raise _Err("bad argument #1 to 'size' (option 's' has no fixed size)")
        if opt == "c" and size == 0:
            raise _Err("bad argument #1 to 'size' (option 'c0' has no fixed size)")
        if not (opt.isascii() and opt.isalnum()):  # letters and digits that are no option: ignored
            _controloptions(st, opt, "size")
        pos += size
    return pos


# -- cjson -------------------------------------------------------------------------------------

def _typename(v: Any) -> str:
    """luaL_typename of a value a Python library function received."""
    if v is None:
        return "nil"
    t = type(v)
    if t is bool:
        return "boolean"
    if t is bytes:
        return "string"
    if t is int or t is float:
        return "number"
    lt = lua_type(v)
    if lt is None:
        return "function" if callable(v) else "userdata"
    return lt


def _lua_integer(v: Any) -> int | None:
    """luaL_checkinteger's value stored in a C int (None: not a number)."""
    n = _lua_tonumber(v)
    if n is None:
        return None
    if n != n or not -9.2233720368547758e18 <= n < 9.2233720368547758e18:
        i = -(1 << 63)
    else:
        i = int(n)
    i &= 0xFFFFFFFF
    return i - (1 << 32) if i >= 1 << 31 else i


_BOOL_OPTIONS = ("off", "on")


class _Cjson:
    """lua-cjson 2.1.0 as Redis builds it; the configuration is per Lua state and persists."""

    def __init__(self, L: Any, null: Any) -> None:
        self.L = L
        self.null = null
        self.unproxy: Any = None  # read-only proxy -> library table (set by the sandbox)
        self.sparse_convert = 0
        self.sparse_ratio = 2
        self.sparse_safe = 10
        self.max_depth = 1000
        self.decode_max_depth = 1000
        self.invalid_enc = 0  # 0 off, 1 on, 2 null
        self.invalid_dec = 1
        self.keep_buffer = 1
        self.precision = 14

    # -- configuration functions (json_cfg_*) --------------------------------------------
    @staticmethod
    def _arg_init(fname: str, args: tuple[Any, ...], n: int) -> list[Any]:
        if len(args) > n:
            raise _Err("bad argument #%d to '%s' (found too many arguments)" % (n + 1, fname))
        return [*args] + [None] * (n - len(args))

    @staticmethod
    def _int_opt(fname: str, idx: int, v: Any, cur: int, lo: int, hi: int) -> int:
        if v is None:
            return cur
        value = _lua_integer(v)
        if value is None:
            raise _Err("bad argument #%d to '%s' (number expected, got %s)" % (idx, fname, _typename(v)))
        if not lo <= value <= hi:  # lua-cjson always blames argument #1
            raise _Err("bad argument #1 to '%s' (expected integer between %d and %d)" % (fname, lo, hi))
        return value

    @staticmethod
    def _enum_opt(fname: str, idx: int, v: Any, cur: int, options: tuple[str, ...] = _BOOL_OPTIONS) -> int:
        if v is None:
            return cur
        if type(v) is bool:
            return int(v)
        if type(v) is int or type(v) is float:
            v = b"%.14g" % v
        if type(v) is not bytes:
            raise _Err("bad argument #%d to '%s' (string expected, got %s)" % (idx, fname, _typename(v)))
        name = v.split(b"\0", 1)[0].decode("latin-1")
        if name not in options:
            raise _Err("bad argument #%d to '%s' (invalid option '%s')" % (idx, fname, name))
        return options.index(name)

    @staticmethod
    def _enum_ret(cur: int, options: tuple[str, ...] = _BOOL_OPTIONS) -> Any:
        return bool(cur) if cur in (0, 1) else options[cur].encode()

    def cfg_encode_sparse_array(self, *args: Any) -> tuple[Any, int, int]:
        f = "encode_sparse_array"
        a = self._arg_init(f, args, 3)
        self.sparse_convert = self._enum_opt(f, 1, a[0], self.sparse_convert)
        self.sparse_ratio = self._int_opt(f, 2, a[1], self.sparse_ratio, 0, 2147483647)
        self.sparse_safe = self._int_opt(f, 3, a[2], self.sparse_safe, 0, 2147483647)
        return self._enum_ret(self.sparse_convert), self.sparse_ratio, self.sparse_safe

    def cfg_encode_max_depth(self, *args: Any) -> int:
        a = self._arg_init("encode_max_depth", args, 1)
        self.max_depth = self._int_opt("encode_max_depth", 1, a[0], self.max_depth, 1, 2147483647)
        return self.max_depth

    def cfg_decode_max_depth(self, *args: Any) -> int:
        a = self._arg_init("decode_max_depth", args, 1)
        self.decode_max_depth = self._int_opt("decode_max_depth", 1, a[0], self.decode_max_depth, 1, 2147483647)
        return self.decode_max_depth

    def cfg_encode_number_precision(self, *args: Any) -> int:
        f = "encode_number_precision"
        a = self._arg_init(f, args, 1)
        self.precision = self._int_opt(f, 1, a[0], self.precision, 1, 14)
        return self.precision

    def cfg_encode_keep_buffer(self, *args: Any) -> Any:
        a = self._arg_init("encode_keep_buffer", args, 1)
        self.keep_buffer = self._enum_opt("encode_keep_buffer", 1, a[0], self.keep_buffer)
        return self._enum_ret(self.keep_buffer)

    def cfg_encode_invalid_numbers(self, *args: Any) -> Any:
        opts = ("off", "on", "null")
        a = self._arg_init("encode_invalid_numbers", args, 1)
        self.invalid_enc = self._enum_opt("encode_invalid_numbers", 1, a[0], self.invalid_enc, opts)
        return self._enum_ret(self.invalid_enc, opts)

    def cfg_decode_invalid_numbers(self, *args: Any) -> Any:
        a = self._arg_init("decode_invalid_numbers", args, 1)
        self.invalid_dec = self._enum_opt("decode_invalid_numbers", 1, a[0], self.invalid_dec)
        return self._enum_ret(self.invalid_dec)

    def _number(self, v: Any) -> bytes:
        """json_append_number"""
        if type(v) is float and not math.isfinite(v):
            if self.invalid_enc == 0:
                raise _Err("Cannot serialise number: must not be NaN or Inf")
            if self.invalid_enc == 2:
                return b"null"
            if v != v:
                return b"nan"
        return b"%.*g" % (self.precision, v)

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
            out.append(self._number(v))
        elif v is None:
            out.append(b"null")
        else:
            lt = lua_type(v)
            if lt == "table":
                depth += 1
                if depth > self.max_depth:
                    raise _Err("Cannot serialise, excessive nesting (%d)" % depth)
                items = list(v.items())
                if not items and self.unproxy is not None:  # a library table (read-only proxy)
                    real = self.unproxy(v)
                    if real is not None:
                        items = list(real.items())
                n = _array_len(items)
                if n > 0 and self.sparse_ratio > 0 and n > len(items) * self.sparse_ratio and n > self.sparse_safe:
                    if not self.sparse_convert:
                        raise _Err("Cannot serialise table: excessively sparse array")
                    n = -1
                if n > 0:
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
                            out.append(b'"%s"' % self._number(k))
                        else:
                            raise _Err("Cannot serialise %s: table key must be a number or string" % _typename(k))
                        out.append(b":")
                        self._enc(x, out, depth)
                    out.append(b"}")
            elif lt == "userdata" and self.L.eval("rawequal")(v, self.null):
                out.append(b"null")
            else:
                raise _Err("Cannot serialise %s: type not supported" % _typename(v))

    def decode(self, *args: Any) -> Any:
        if len(args) != 1:
            raise _Err("bad argument #1 to 'decode' (expected 1 argument)")
        s = args[0]
        if type(s) in (int, float) and type(s) is not bool:
            s = b"%.14g" % s
        if type(s) is not bytes:
            raise _Err("bad argument #1 to 'decode' (string expected, got %s)" % (lua_type(s) or "boolean"))
        return _JsonParser(self, s).parse()


class _JsonParser:
    """lua-cjson's decoder: tokens, Redis's error texts, strtod numbers."""

    def __init__(self, cj: _Cjson, data: bytes) -> None:
        self.cj = cj
        self.L = cj.L
        self.d = data
        self.p = 0
        self.depth = 0

    def err(self, exp: str, tok: tuple[str, Any, int]) -> _Err:
        found = tok[1] if tok[0] == "T_ERROR" else tok[0]
        return _Err("Expected %s but found %s at character %d" % (exp, found, tok[2] + 1))

    def token(self) -> tuple[str, Any, int]:
        d = self.d
        n = len(d)
        p = self.p
        while p < n and d[p] in b" \t\n\r":
            p += 1
        self.p = p
        if p >= n:
            return ("T_END", None, p)
        ch = d[p]
        single = {0x7B: "T_OBJ_BEGIN", 0x7D: "T_OBJ_END", 0x5B: "T_ARR_BEGIN", 0x5D: "T_ARR_END",
                  0x3A: "T_COLON", 0x2C: "T_COMMA"}
        if ch in single:
            self.p = p + 1
            return (single[ch], None, p)
        if ch == 0x22:
            return self.string(p)
        if ch == 0x2D or 0x30 <= ch <= 0x39:
            if not self.cj.invalid_dec and _is_invalid_number(d, p):
                return ("T_ERROR", "invalid number", p)
            return self.number(p)
        if d.startswith(b"true", p):
            self.p = p + 4
            return ("T_BOOLEAN", True, p)
        if d.startswith(b"false", p):
            self.p = p + 5
            return ("T_BOOLEAN", False, p)
        if d.startswith(b"null", p):
            self.p = p + 4
            return ("T_NULL", None, p)
        if self.cj.invalid_dec and _is_invalid_number(d, p):
            return self.number(p)
        return ("T_ERROR", "invalid token", p)

    def number(self, p: int) -> tuple[str, Any, int]:
        m = _STRTOD.match(self.d, p)
        if not m or m.end() == p:
            return ("T_ERROR", "invalid number", p)
        text = m.group(0)
        try:
            if b"x" in text.lower():
                neg = text.startswith(b"-")
                v: Any = float(int(text.lstrip(b"+-"), 16)) * (-1 if neg else 1)
            else:
                v = float(text)
        except ValueError:
            return ("T_ERROR", "invalid number", p)
        self.p = m.end()
        if math.isfinite(v) and v == int(v) and abs(v) < 2**53 and (v or math.copysign(1.0, v) > 0):
            v = int(v)  # (-0 stays a float: lupa pushes it as -0)
        return ("T_NUMBER", v, p)

    def string(self, p: int) -> tuple[str, Any, int]:
        d = self.d
        n = len(d)
        i = p + 1
        out = bytearray()
        while True:
            if i >= n:
                self.p = i
                return ("T_ERROR", "unexpected end of string", i)
            ch = d[i]
            if ch == 0x22:
                break
            if ch == 0x5C:
                if i + 1 >= n:
                    self.p = i
                    return ("T_ERROR", "unexpected end of string", i)
                e = d[i + 1]
                simple = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b", 0x66: b"\f", 0x6E: b"\n",
                          0x72: b"\r", 0x74: b"\t"}
                if e in simple:
                    out += simple[e]
                    i += 2
                    continue
                if e == 0x75:
                    cp, i2 = self.unicode(i)
                    if cp is None:
                        self.p = i
                        return ("T_ERROR", "invalid unicode escape code", i)
                    out += chr(cp).encode("utf-8", "surrogatepass")
                    i = i2
                    continue
                self.p = i
                return ("T_ERROR", "invalid escape code", i)
            out.append(ch)
            i += 1
        self.p = i + 1
        return ("T_STRING", bytes(out), p)

    def unicode(self, i: int) -> tuple[int | None, int]:
        d = self.d
        h = d[i + 2:i + 6]
        if len(h) != 4 or not all(c in b"0123456789abcdefABCDEF" for c in h):
            return None, i
        cp = int(h, 16)
        i += 6
        if 0xD800 <= cp <= 0xDBFF:
            if d[i:i + 2] != b"\\u":
                return None, i
            h2 = d[i + 2:i + 6]
            if len(h2) != 4 or not all(c in b"0123456789abcdefABCDEF" for c in h2):
                return None, i
            lo = int(h2, 16)
            if not 0xDC00 <= lo <= 0xDFFF:
                return None, i
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
            i += 6
        elif 0xDC00 <= cp <= 0xDFFF:
            return None, i
        return cp, i

    def parse(self) -> Any:
        tok = self.token()
        v = self.value(tok)
        tok = self.token()
        if tok[0] != "T_END":
            raise self.err("the end", tok)
        return v

    def descend(self, tok: tuple[str, Any, int]) -> None:
        self.depth += 1
        if self.depth > self.cj.decode_max_depth:
            raise _Err("Found too many nested data structures (%d) at character %d" % (self.depth, tok[2] + 1))

    def value(self, tok: tuple[str, Any, int]) -> Any:
        t = tok[0]
        if t == "T_STRING" or t == "T_NUMBER" or t == "T_BOOLEAN":
            return tok[1]
        if t == "T_NULL":
            return self.cj.null
        if t == "T_OBJ_BEGIN":
            self.descend(tok)
            tbl = self.L.table()
            tok = self.token()
            if tok[0] == "T_OBJ_END":
                self.depth -= 1
                return tbl
            while True:
                if tok[0] != "T_STRING":
                    raise self.err("object key string", tok)
                key = tok[1]
                tok = self.token()
                if tok[0] != "T_COLON":
                    raise self.err("colon", tok)
                tbl[key] = self.value(self.token())
                tok = self.token()
                if tok[0] == "T_OBJ_END":
                    self.depth -= 1
                    return tbl
                if tok[0] != "T_COMMA":
                    raise self.err("comma or object end", tok)
                tok = self.token()
        if t == "T_ARR_BEGIN":
            self.descend(tok)
            tbl = self.L.table()
            tok = self.token()
            if tok[0] == "T_ARR_END":
                self.depth -= 1
                return tbl
            i = 1
            while True:
                tbl[i] = self.value(tok)
                i += 1
                tok = self.token()
                if tok[0] == "T_ARR_END":
                    self.depth -= 1
                    return tbl
                if tok[0] != "T_COMMA":
                    raise self.err("comma or array end", tok)
                tok = self.token()
        raise self.err("value", tok)


def _is_invalid_number(d: bytes, p: int) -> bool:
    """json_is_invalid_number: '+', hex, leading zeros, inf/nan (not JSON, strtod reads them)."""
    if d[p:p + 1] == b"+":
        return True
    if d[p:p + 1] == b"-":
        p += 1
    c = d[p:p + 1]
    if c == b"0":
        c2 = d[p + 1:p + 2]
        return c2 in (b"x", b"X") or (c2 != b"" and c2 in b"0123456789")
    if c != b"" and c <= b"9":
        return False
    return d[p:p + 3].lower() in (b"inf", b"nan")


_STRTOD = re.compile(rb"[+-]?(?:0[xX][0-9a-fA-F]+|inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.I)


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
        self.cj: _Cjson | None = None  # for its unproxy (library tables are read-only proxies)

    def pack(self, *args: Any) -> bytes:
        if not args:
            raise _Err("bad argument #0 to 'pack' (MessagePack pack needs input.)")
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
            if not items and self.cj is not None and self.cj.unproxy is not None:
                real = self.cj.unproxy(v)
                if real is not None:
                    items = list(real.items())
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

    @staticmethod
    def _checkstring(v: Any, fname: str) -> bytes:
        """luaL_checklstring(L, 1): a string, or a number as lua_tolstring writes it."""
        if type(v) is bytes:
            return v
        if type(v) is int or type(v) is float:
            return b"%.14g" % v
        got = "no value" if v is None else _typename(v)
        raise _Err("bad argument #1 to '%s' (string expected, got %s)" % (fname, got))

    @staticmethod
    def _checkint(v: Any, n: int, fname: str, opt: bool) -> int:
        """luaL_checkinteger / luaL_optinteger(..., 0) stored in a C int."""
        if v is None and opt:
            return 0
        i = _lua_integer(v)
        if i is None:
            got = "no value" if v is None else _typename(v)
            raise _Err("bad argument #%d to '%s' (number expected, got %s)" % (n, fname, got))
        return i

    def unpack(self, *args: Any) -> tuple[Any, ...]:
        data = self._checkstring(args[0] if args else None, "unpack")
        return self._unpack(data, 0, 0)

    def unpack_one(self, data: Any = None, offset: Any = None, *_: Any) -> tuple[Any, ...]:
        off = self._checkint(offset, 2, "unpack_one", True)
        return self._unpack(self._checkstring(data, "unpack_one"), 1, off)

    def unpack_limit(self, data: Any = None, limit: Any = None, offset: Any = None, *_: Any) -> tuple[Any, ...]:
        lim = self._checkint(limit, 2, "unpack_limit", False)
        off = self._checkint(offset, 3, "unpack_limit", True)
        return self._unpack(self._checkstring(data, "unpack_limit"), lim, off)

    def _unpack(self, data: bytes, limit: int, offset: int) -> tuple[Any, ...]:
        """mp_unpack_full"""
        n = len(data)
        if offset < 0 or limit < 0:  # (lua-cmsgpack prints the length as the limit)
            raise _Err("Invalid request to unpack with offset of %d and limit of %d." % (offset, n))
        if offset > n:
            raise _Err("Start offset %d greater than input length %d." % (offset, n))
        decode_all = not limit and not offset
        if decode_all:
            limit = 1 << 31
        pos = offset
        res: list[Any] = []
        while pos < n and len(res) < limit:
            v, pos = self._dec(data, pos)
            res.append(v)
        if not decode_all:
            return (-1 if pos >= n else pos, *res)
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
            # uint 64 is built in a signed lua_Integer: 2^63 and up come out negative
            sizes = {0xCC: (1, False), 0xCD: (2, False), 0xCE: (4, False), 0xCF: (8, True),
                     0xD0: (1, True), 0xD1: (2, True), 0xD2: (4, True), 0xD3: (8, True)}
            if c in sizes:
                n, signed = sizes[c]
                v = int.from_bytes(self._chk(d, p, n), "big", signed=signed)
                return (float(v) if abs(v) >= 1 << 53 else v), p + n
            if c == 0xD9:
                n = d[p]
                return self._chk(d, p + 1, n), p + 1 + n
            if c == 0xDA:
                n = int.from_bytes(self._chk(d, p, 2), "big")
                return self._chk(d, p + 2, n), p + 2 + n
            if c == 0xDB:
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
            raise _Err("Missing bytes in input.") from None
        raise _Err("Bad data format in input.")  # 0xc1, bin and ext types

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
            if k is None or k != k:  # lua_settable's errors (raised in C: no position)
                raise LuaErr(b"table index is nil" if k is None else b"table index is NaN")
            if v is not None:
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
local bit, struct, cjson, cmsgpack, cjson_cfg = ...
cjson.null = newproxy(false)
cjson._NAME, cjson._VERSION = 'cjson', '2.1.0'
cjson.new = function() return cjson end
cmsgpack._NAME, cmsgpack._VERSION = 'cmsgpack', 'lua-cmsgpack 0.4.0'
cmsgpack._COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo'
cmsgpack._DESCRIPTION = 'MessagePack C implementation for Lua'

local dbg = debug
-- luaL_where(L, 1) as seen from a library function: the position in the calling script
local function where()
  local i = dbg.getinfo(3, 'Sl')
  if i and i.currentline and i.currentline > 0 then
    return i.short_src .. ':' .. i.currentline .. ': '
  end
  return ''
end
-- how luaL_argerror names the library function: the name its caller used (nil: '?')
local function callee()
  local i = dbg.getinfo(2, 'n')  -- 1: this function, 2: the Python function's C frame
  if i then return i.name, i.namewhat end
end
return {bit = bit, struct = struct, cjson = cjson, cmsgpack = cmsgpack}, cjson.null, where, callee
"""


_ARGERR = re.compile(rb"bad argument #(\d+) to '[^']*' \((.*)\)$", re.S)


def _argerror_name(msg: bytes, name: Any, namewhat: Any = None) -> bytes:
    """luaL_argerror's message with the function named as its caller called it."""
    m = _ARGERR.match(msg)
    if m is None:
        return msg
    narg, extra = int(m.group(1)), m.group(2)
    fname = name if type(name) is bytes else b"?"
    if namewhat == b"method":
        narg -= 1
        if narg == 0:
            return b"calling '%s' on bad self (%s)" % (fname, extra)
    return b"bad argument #%d to '%s' (%s)" % (narg, fname, extra)


def _load(loader: Any, code: str) -> Any:
    r = loader(code.encode(), b"=durakv")
    if isinstance(r, tuple):
        raise RuntimeError(f"Lua bootstrap failed: {r[1]!r}")
    return r


def install(L: Any, _err_cls: Any = None) -> tuple[Any, Any, _Cjson]:
    """Build the four library tables inside runtime ``L``; returns them, the Lua
    ``where()`` (luaL_where as seen from a Python function a script called) and the cjson
    state (whose ``unproxy`` the sandbox sets)."""
    holder: list[_Cjson] = []
    mp = _Msgpack(L)

    def cj_encode(*a: Any) -> Any:
        return holder[0].encode(*a)

    def cj_decode(*a: Any) -> Any:
        return holder[0].decode(*a)

    def cfg(name: str) -> Any:
        def f(*a: Any) -> Any:
            return getattr(holder[0], "cfg_" + name)(*a)
        return f

    where_box: list[Any] = []
    callee_box: list[Any] = []

    def wrap(f: Any) -> Any:
        def w(*a: Any) -> Any:
            try:
                return f(*a)
            except _Err as e:
                msg = e.value
                if msg.startswith(b"bad argument #"):
                    msg = _argerror_name(msg, *callee_box[0]())
                raise LuaErr(where_box[0]() + msg) from None
        return w

    def tbl(d: dict[bytes, Any]) -> Any:
        return L.table_from({k: wrap(f) for k, f in d.items()})

    loader = L.eval("loadstring")
    libs, null, where, callee = _load(loader, _SHIMS)(
        tbl(_mk_bit()),
        tbl({b"pack": struct_pack, b"unpack": struct_unpack, b"size": struct_size}),
        tbl({b"encode": cj_encode, b"decode": cj_decode,
             **{b"encode_sparse_array": cfg("encode_sparse_array"), b"encode_max_depth": cfg("encode_max_depth"),
                b"decode_max_depth": cfg("decode_max_depth"), b"encode_number_precision": cfg("encode_number_precision"),
                b"encode_keep_buffer": cfg("encode_keep_buffer"), b"encode_invalid_numbers": cfg("encode_invalid_numbers"),
                b"decode_invalid_numbers": cfg("decode_invalid_numbers")}}),
        tbl({b"pack": mp.pack, b"unpack": mp.unpack, b"unpack_one": mp.unpack_one,
             b"unpack_limit": mp.unpack_limit}),
    )
    where_box.append(where)
    callee_box.append(callee)
    holder.append(_Cjson(L, null))
    mp.cj = holder[0]
    return libs, where, holder[0]
