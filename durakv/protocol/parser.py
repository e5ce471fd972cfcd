"""Sans-I/O request parsing, exactly as Redis 7.0 frames client input.

Two parsers produce the same commands:

* :class:`ExactParser` — pure Python, a transcription of Redis's ``processMultibulkBuffer``
  and ``processInlineBuffer``: inline commands, limits, and Redis's exact protocol-error
  texts.  It is the reference and the slow path.
* :class:`RequestParser` — what a connection uses.  While input arrives in whole RESP
  commands (the normal case) it feeds one ``hiredis.Reader``; as soon as a chunk ends
  inside a command, starts inline, or hiredis rejects it, the chunk is re-read by the
  exact parser, which keeps going until the stream is back on a command boundary.

Both return ``(commands, error)``: the complete commands of the input so far, and a
protocol error text (without the ``-ERR Protocol error: `` prefix) once the input is
malformed.  After an error the connection must reply and close.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

import hiredis

from .. import errors
from .resp import encode_command

INLINE_MAX = 64 * 1024
# multibulk counts of 1M+ elements take the exact parser, which checks them against
# Redis's limits before buffering anything (hiredis allocates the array up front).  A bulk
# header needs no such check: hiredis waits for the whole bulk, and a chunk that ends
# inside a command goes to the exact parser anyway.
_HUGE_ARRAY = re.compile(rb"\*-?\d{7}").search
# A line starting with a type hiredis turns into a string although it is not a bulk
# (status, verbatim, big number), or into a list or a dict although it is not an array
# (set, push, map), or skips (attribute): Redis refuses those in a request ("expected
# '$'", or an inline command).  Arguments starting with + = ( ~ > | % are common ("+",
# "(1", "="), so a candidate found here is only a reason to check: the chunk must be
# exactly its commands encoded as Redis reads them.
_ODD_ITEM = re.compile(rb"\n[+=(~>|%]").search
# what hiredis returns for "not a whole reply yet" (False is also RESP3's "#f")
_NOT_ENOUGH = object()
# a chunk this long may hold a whole bulk above the smallest proto-max-bulk-len (1mb)
_BIG_CHUNK = 1 << 20
_join = b"".join
_drain = deque(maxlen=0).extend  # consumes an iterator in C
INT_MAX = 2**31 - 1

Command = list[bytes]


def _string2ll(s: bytes) -> int | None:
    """Redis's strict string2ll: optional '-', no '+', no leading zeros, no spaces."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    i = 1 if s[0:1] == b"-" else 0
    if i == n:
        return None
    c = s[i]
    if c == 0x30:
        return 0 if n - i == 1 and i == 0 else None
    if not (0x31 <= c <= 0x39):
        return None
    if not s[i:].isdigit():
        return None
    v = int(s)
    if v > 2**63 - 1 or v < -(2**63):
        return None
    return v


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"
_SPACE = b" \n\r\t\v\f"


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's ``sdssplitargs``: shell-like splitting with quotes; None if quotes unbalanced."""
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        done = False
        while not done:
            if inq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == 0x78
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    cur += _ESCAPES.get(line[i], bytes([line[i]]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    done = True
                else:
                    cur.append(c)
            elif insq:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    done = True
                else:
                    cur.append(c)
            else:
                if i >= n:
                    done = True
                    break
                c = line[i]
                if c in _SPACE:
                    done = True
                elif c == 0x22:
                    inq = True
                elif c == 0x27:
                    insq = True
                else:
                    cur.append(c)
            if i < n:
                i += 1
        out.append(bytes(cur))


def _strchr(buf: bytearray, ch: bytes, pos: int) -> int:
    """Where C's strchr finds ``ch`` from ``pos`` (-1: not found).

    Redis looks for the end of an inline command or of a ``*``/``$`` header line with
    strchr, which stops at a NUL byte: a NUL before the terminator means "not complete
    yet", so such input waits until the "too big" limit, exactly as in Redis.
    """
    i = buf.find(ch, pos)
    if i >= 0 and buf.find(b"\0", pos, i) >= 0:
        return -1
    return i


class ExactParser:
    """Redis's framing, byte for byte.  ``max_bulk`` and ``auth_required`` are read per call."""

    def __init__(
        self,
        max_bulk: Callable[[], int] = lambda: 512 * 1024 * 1024,
        auth_required: Callable[[], bool] = lambda: False,
    ) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk = max_bulk
        self.auth_required = auth_required
        self._mbulk = 0  # remaining bulks of the current multibulk command; 0 = at boundary
        self._bulklen = -1
        self._argv: Command = []

    def at_boundary(self) -> bool:
        return self._mbulk == 0 and self.pos >= len(self.buf)

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def feed(self, data: bytes) -> tuple[list[Command], str | None]:
        if self.pos and self.pos >= len(self.buf):
            self.buf.clear()
            self.pos = 0
        self.buf += data
        cmds: list[Command] = []
        err = None
        while self.pos < len(self.buf):
            if self._mbulk == 0 and self.buf[self.pos] != 0x2A:  # not '*'
                r = self._inline()
            else:
                r = self._multibulk()
            if r is None:
                break
            if isinstance(r, str):
                err = r
                break
            if r:
                cmds.append(r)
        if self.pos > 65536:
            del self.buf[: self.pos]
            self.pos = 0
        return cmds, err

    def _inline(self) -> Command | str | None:
        buf = self.buf
        nl = _strchr(buf, b"\n", self.pos)
        if nl < 0:
            if len(buf) - self.pos > INLINE_MAX:
                return errors.PROTO_BIG_INLINE
            return None
        line = bytes(buf[self.pos : nl])
        if line.endswith(b"\r"):
            line = line[:-1]
        self.pos = nl + 1
        argv = split_args(line)
        if argv is None:
            return errors.PROTO_UNBALANCED_QUOTES
        return argv

    def _multibulk(self) -> Command | str | None:
        buf = self.buf
        if self._mbulk == 0:
            cr = _strchr(buf, b"\r", self.pos)
            if cr < 0:
                if len(buf) - self.pos > INLINE_MAX:
                    return errors.PROTO_BIG_MBULK
                return None
            if cr + 1 >= len(buf):  # need the '\n' too before consuming the header
                return None
            ll = _string2ll(bytes(buf[self.pos + 1 : cr]))
            if ll is None or ll > INT_MAX:
                return errors.PROTO_INVALID_MBULK
            if ll > 10 and self.auth_required():
                return errors.PROTO_UNAUTH_MBULK
            self.pos = cr + 2
            if ll <= 0:
                return []
            self._mbulk = ll
            self._argv = []
            self._bulklen = -1
        while self._mbulk:
            if self._bulklen == -1:
                cr = _strchr(buf, b"\r", self.pos)
                if cr < 0:
                    if len(buf) - self.pos > INLINE_MAX:
                        return errors.PROTO_BIG_BULK
                    return None
                if cr + 1 >= len(buf):
                    return None
                if buf[self.pos] != 0x24:  # '$'
                    return "expected '$', got '%s'" % chr(buf[self.pos])
                ll = _string2ll(bytes(buf[self.pos + 1 : cr]))
                if ll is None or ll < 0 or ll > self.max_bulk():
                    return errors.PROTO_INVALID_BULK
                if ll > 16384 and self.auth_required():
                    return errors.PROTO_UNAUTH_BULK
                self.pos = cr + 2
                self._bulklen = ll
            if len(buf) - self.pos < self._bulklen + 2:
                return None
            end = self.pos + self._bulklen
            self._argv.append(bytes(buf[self.pos : end]))
            self.pos = end + 2
            self._bulklen = -1
            self._mbulk -= 1
        argv, self._argv = self._argv, []
        return argv


class RequestParser:
    """hiredis while the input is whole RESP commands; :class:`ExactParser` otherwise."""

    __slots__ = ("_reader", "_exact", "_max_bulk", "_auth_required", "raw")

    def __init__(
        self,
        max_bulk: Callable[[], int] = lambda: 512 * 1024 * 1024,
        auth_required: Callable[[], bool] = lambda: False,
    ) -> None:
        self._reader = hiredis.Reader(notEnoughData=_NOT_ENOUGH)
        self._exact: ExactParser | None = None
        self._max_bulk = max_bulk
        self._auth_required = auth_required
        # after feed(): the chunk itself when it was exactly the returned commands in
        # Redis's own encoding (whole, nothing skipped), else None.  The commit tracker
        # logs such a chunk as it came instead of encoding its commands again.
        self.raw: bytes | None = None

    def pending(self) -> int:
        """Bytes buffered that do not form a whole command yet (exact mode only)."""
        return self._exact.pending() if self._exact is not None else 0

    def feed(self, data: bytes) -> tuple[list[Command], str | None]:
        self.raw = None
        if self._exact is not None:
            return self._feed_exact(data)
        if not data:
            return [], None
        if data[0] != 0x2A or len(data) >= _BIG_CHUNK or self._auth_required() or _HUGE_ARRAY(data) is not None:
            # inline input, a chunk that may hold an over-long bulk, unauthenticated
            # limits, or an array header hiredis would trust blindly
            return self._feed_exact(data)
        reader = self._reader
        reader.feed(data)
        raw: bytes | None = data
        try:
            cmds: list[Command] = list(iter(reader.gets, _NOT_ENOUGH))  # (the loop in C)
            # every reply must be an array of strings: join (in C) refuses ints, nulls,
            # booleans, errors and arrays, in a command and in its place (strings and maps
            # in its place are _ODD_ITEM's).  One small join per command, not one of the
            # whole chunk: a chunk-sized temporary would come from malloc's heap and
            # inflate the RSS
            _drain(map(_join, cmds))
        except (hiredis.ProtocolError, TypeError):
            # not what Redis accepts (nested arrays, ':' items, nulls ...): the exact
            # parser finds the error and its text
            return self._redo(data, [])
        if [] in cmds:  # empty arrays are skipped, so the chunk is more than the commands
            cmds = [c for c in cmds if c]
            raw = None
        # Did the chunk end on a command boundary?  hiredis does not say (its partial
        # state is internal), so ask it: fed an empty status reply, a reader at a boundary
        # returns exactly that, and one inside a command (mid-bulk, or inside an array,
        # even one whose bytes it has all consumed) does not.  (Comparing the chunk's end
        # with the last command's encoding is not enough: a nested array can end the
        # same way.)  The probe leaves a reader at a boundary where it was.
        if not cmds:
            return self._redo(data, cmds)
        if _ODD_ITEM(data) is not None and (raw is None or _join(map(encode_command, cmds)) != data):
            # not exactly these commands in Redis's encoding: an item that is not a bulk
            # or a command that is not an array (or a valid chunk that only looks odd,
            # which the exact parser reads too, only slower)
            return self._redo(data, cmds)
        try:
            reader.feed(b"+\r\n")
            at_boundary = reader.gets() == b""
        except hiredis.ProtocolError:
            at_boundary = False
        if not at_boundary:
            # the chunk ends inside a command: the exact parser takes over the tail
            return self._redo(data, cmds)
        # hiredis reads lengths as strictly as Redis (no sign, no leading zeros, no
        # spaces), so a chunk it took whole reads back as exactly these commands, with
        # hiredis and with Redis (a log replica), whatever follows each bulk's bytes
        self.raw = raw
        return cmds, None

    def _redo(self, data: bytes, done: list[Command]) -> tuple[list[Command], str | None]:
        # the chunk started on a command boundary, so the exact parser can re-read all of
        # it; its result is authoritative (hiredis accepts a few things Redis rejects)
        self._reader = hiredis.Reader(notEnoughData=_NOT_ENOUGH)
        return self._feed_exact(data)

    def _feed_exact(self, data: bytes) -> tuple[list[Command], str | None]:
        ex = self._exact
        if ex is None:
            ex = self._exact = ExactParser(self._max_bulk, self._auth_required)
        cmds, err = ex.feed(data)
        if ex.at_boundary():
            self._exact = None
        return cmds, err

