"""Reply encoding for RESP2 and RESP3.

Handlers return already-encoded replies (``bytes``).  Shapes that are the same in both
protocols are module-level functions and constants; shapes that differ (null, map, set,
double, boolean, verbatim, push) are methods of :data:`RESP2` / :data:`RESP3`, and a
session holds the one matching its ``HELLO`` version as ``session.r``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
QUEUED = b"+QUEUED\r\n"
EMPTY_ARRAY = b"*0\r\n"
EMPTY_BULK = b"$0\r\n\r\n"
ZERO = b":0\r\n"
ONE = b":1\r\n"
NEG_ONE = b":-1\r\n"
NEG_TWO = b":-2\r\n"

_INT_CACHE = [b":%d\r\n" % i for i in range(10001)]


def integer(n: int) -> bytes:
    if 0 <= n <= 10000:
        return _INT_CACHE[n]
    return b":%d\r\n" % n


def bulk(v: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(v), v)


def simple(s: bytes | str) -> bytes:
    if isinstance(s, str):
        s = s.encode()
    return b"+%s\r\n" % s


def error(msg: str) -> bytes:
    return b"-%s\r\n" % msg.encode("latin-1", "replace")


def array(items: Sequence[bytes]) -> bytes:
    """An array of already-encoded items."""
    return b"*%d\r\n%s" % (len(items), b"".join(items))


def array_header(n: int) -> bytes:
    return b"*%d\r\n" % n


_BULK_HEADERS = [b"$%d\r\n" % i for i in range(1024)]
_join = b"".join


def bulks(values: Iterable[bytes]) -> bytes:
    """An array of bulk strings (values must not be None)."""
    h = _BULK_HEADERS
    if type(values) is not list:
        values = list(values)
    try:  # short values: ready-made headers, one join
        parts = [h[len(v)] + v for v in values]
    except IndexError:  # a value of 1024 bytes or more
        parts = [b"$%d\r\n%s" % (len(v), v) for v in values]
    if not parts:
        return b"*0\r\n"
    return b"*%d\r\n%s\r\n" % (len(parts), b"\r\n".join(parts))


def encode_command(argv: list[bytes]) -> bytes:
    """A command as a client sends it (RESP array of bulk strings): log records, replies."""
    n = len(argv)
    h = _BULK_HEADERS
    try:  # the common shapes with short arguments: one join of ready-made headers
        if n == 3:  # SET k v, HSET/LPUSH k x ...
            a, b, c = argv
            return _join((b"*3\r\n", h[len(a)], a, b"\r\n", h[len(b)], b, b"\r\n", h[len(c)], c, b"\r\n"))
        if n == 2:
            a, b = argv
            return _join((b"*2\r\n", h[len(a)], a, b"\r\n", h[len(b)], b, b"\r\n"))
        if n == 4:  # HSET k f v, ZADD k s m ...
            a, b, c, d = argv
            return _join((b"*4\r\n", h[len(a)], a, b"\r\n", h[len(b)], b, b"\r\n", h[len(c)], c, b"\r\n",
                          h[len(d)], d, b"\r\n"))
        if n:
            return b"*%d\r\n%s\r\n" % (n, b"\r\n".join([h[len(a)] + a for a in argv]))
    except IndexError:  # an argument of 1024 bytes or more
        pass
    return b"*%d\r\n%s" % (n, _join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv]))


def bulk_items(argv: list[bytes]) -> bytes:
    """``argv`` as consecutive bulk strings, without the array header."""
    if len(argv) == 2:  # one field-value pair (XADD, HSET ...)
        a, b = argv
        return b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(a), a, len(b), b)
    return _join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])


def format_double(d: float) -> bytes:
    """Redis 7.0 renders doubles with %.17g (and 'inf'/'-inf'/'nan')."""
    if math.isinf(d):
        return b"inf" if d > 0 else b"-inf"
    return b"%.17g" % d


class Resp2:
    version = 2
    null = b"$-1\r\n"
    null_array = b"*-1\r\n"
    true = b":1\r\n"
    false = b":0\r\n"

    def nullable_bulks(self, values: Iterable[bytes | None]) -> bytes:
        parts = [b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v) for v in values]
        return b"*%d\r\n%s" % (len(parts), b"".join(parts))

    def map(self, pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
        """A map of already-encoded keys and values (RESP2: flat array)."""
        return b"*%d\r\n%s" % (2 * len(pairs), b"".join(k + v for k, v in pairs))

    def map_header(self, n: int) -> bytes:
        return b"*%d\r\n" % (2 * n)

    def set(self, items: Sequence[bytes]) -> bytes:
        return b"*%d\r\n%s" % (len(items), b"".join(items))

    def set_header(self, n: int) -> bytes:
        return b"*%d\r\n" % n

    def double(self, d: float) -> bytes:
        return bulk(format_double(d))

    def double_raw(self, text: bytes) -> bytes:
        return bulk(text)

    def boolean(self, b: bool) -> bytes:
        return b":1\r\n" if b else b":0\r\n"

    def verbatim(self, text: bytes, fmt: bytes = b"txt") -> bytes:
        return bulk(text)

    def push(self, items: Sequence[bytes]) -> bytes:
        return b"*%d\r\n%s" % (len(items), b"".join(items))

    def push_header(self, n: int) -> bytes:
        return b"*%d\r\n" % n

    def big_number(self, text: bytes) -> bytes:
        return bulk(text)


class Resp3(Resp2):
    version = 3
    null = b"_\r\n"
    null_array = b"_\r\n"
    true = b"#t\r\n"
    false = b"#f\r\n"

    def nullable_bulks(self, values: Iterable[bytes | None]) -> bytes:
        parts = [b"_\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v) for v in values]
        return b"*%d\r\n%s" % (len(parts), b"".join(parts))

    def map(self, pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
        return b"%%%d\r\n%s" % (len(pairs), b"".join(k + v for k, v in pairs))

    def map_header(self, n: int) -> bytes:
        return b"%%%d\r\n" % n

    def set(self, items: Sequence[bytes]) -> bytes:
        return b"~%d\r\n%s" % (len(items), b"".join(items))

    def set_header(self, n: int) -> bytes:
        return b"~%d\r\n" % n

    def double(self, d: float) -> bytes:
        return b",%s\r\n" % format_double(d)

    def double_raw(self, text: bytes) -> bytes:
        return b",%s\r\n" % text

    def boolean(self, b: bool) -> bytes:
        return b"#t\r\n" if b else b"#f\r\n"

    def verbatim(self, text: bytes, fmt: bytes = b"txt") -> bytes:
        return b"=%d\r\n%s:%s\r\n" % (len(text) + 4, fmt, text)

    def push(self, items: Sequence[bytes]) -> bytes:
        return b">%d\r\n%s" % (len(items), b"".join(items))

    def push_header(self, n: int) -> bytes:
        return b">%d\r\n" % n

    def big_number(self, text: bytes) -> bytes:
        return b"(%s\r\n" % text


RESP2 = Resp2()
RESP3 = Resp3()


def encode_value(v: object, r: Resp2) -> bytes:
    """Encode a plain Python value (used by slow paths such as INFO-like or Lua replies).

    bytes -> bulk, str -> simple string, int -> integer, float -> double, None -> null,
    list/tuple -> array, dict -> map, set/frozenset -> set, bool -> boolean.
    """
    if v is None:
        return r.null
    t = type(v)
    if t is bytes:
        return bulk(v)  # type: ignore[arg-type]
    if t is bool:
        return r.boolean(v)  # type: ignore[arg-type]
    if t is int:
        return integer(v)  # type: ignore[arg-type]
    if t is str:
        return simple(v)  # type: ignore[arg-type]
    if t is float:
        return r.double(v)  # type: ignore[arg-type]
    if t is list or t is tuple:
        return array([encode_value(x, r) for x in v])  # type: ignore[union-attr]
    if t is dict:
        return r.map([(encode_value(k, r), encode_value(x, r)) for k, x in v.items()])  # type: ignore[union-attr]
    if t is set or t is frozenset:
        return r.set([encode_value(x, r) for x in v])  # type: ignore[union-attr]
    raise TypeError(f"cannot encode {t!r}")
