"""Long-running scripts: -BUSY for other clients, SCRIPT KILL / FUNCTION KILL.

durakv is single-threaded, so while a script runs nothing else is served.  Each Lua state
has a count hook (``debug.sethook``, every 100000 VM instructions, as Redis) that calls
:meth:`BusyGuard.tick`.  Once the running script is older than ``busy-reply-threshold``
(lua-time-limit), the guard polls the other clients' sockets itself (``select`` + ``os.read``
on their file descriptors, the event loop being blocked anyway): SCRIPT KILL / FUNCTION
KILL are honoured with Redis's replies (OK, NOTBUSY, UNKILLABLE, BUSY for the wrong kind),
SHUTDOWN NOSAVE stops the process, and every other command is answered ``-BUSY ...``.
Bytes of an incomplete command are handed back to the connection when the script ends.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import time
from typing import TYPE_CHECKING, Any

import hiredis

from .. import dispatch
from ..errors import CommandError
from ..protocol import resp

if TYPE_CHECKING:
    from . import Scripting, ScriptRun

log = logging.getLogger("durakv")

HOOK_COUNT = 100000
LOAD_TIMEOUT = 0.5  # seconds a FUNCTION LOAD may run its library code
# allow_busy commands (besides the KILLs, FUNCTION STATS and SHUTDOWN, answered here) that
# run as usual while a script is busy
_ALLOW_BUSY = frozenset({"multi", "discard", "watch", "unwatch", "auth", "hello", "reset"})
BUSY_EVAL = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
BUSY_FUNCTION = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
    "wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)
NOTBUSY = "NOTBUSY No scripts in execution right now."


class BusyGuard:
    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.engine: Any = None  # the engine of a FUNCTION LOAD in progress
        self.busy = False
        self.fast_hook = False
        self.load_start = 0.0  # FUNCTION LOAD in progress (500 ms limit, as Redis)
        self.readers: dict[Any, hiredis.Reader] = {}
        self.pending: dict[Any, bytes] = {}
        self.accepted: list[Any] = []  # connections accepted while busy (raw sockets)

    def end(self, run: ScriptRun, engine: Any) -> None:
        """After a script that got busy or was killed (Scripting.run checks both flags)."""
        if self.busy:
            self.busy = False
            log.warning("Slow script detected: still in execution after %d milliseconds.",
                        int((time.monotonic() - run.start) * 1000))
            leftovers = self.pending
            self.pending = {}
            self.readers = {}
            for conn, data in leftovers.items():
                if isinstance(conn, _RawClient):
                    continue
                if data and not conn.closing:
                    conn.data_received(data)
            accepted = self.accepted
            self.accepted = []
            for rc in accepted:
                self._adopt(rc, leftovers.get(rc, b""))
        if self.fast_hook:
            self.fast_hook = False
            engine.set_hook_count(HOOK_COUNT)

    def begin_load(self, engine: Any) -> None:
        self.engine = engine
        self.load_start = time.monotonic()

    def end_load(self) -> None:
        self.load_start = 0.0
        if self.fast_hook and self.engine is not None:
            self.fast_hook = False
            self.engine.set_hook_count(HOOK_COUNT)
        self.engine = None

    # -- the count hook ------------------------------------------------------------------------
    def tick(self) -> None:
        run = self.scripting.current
        if run is None:
            if self.load_start and time.monotonic() - self.load_start > LOAD_TIMEOUT:
                from .lua import LuaErr

                eng = self.engine
                if not self.fast_hook:
                    self.fast_hook = True
                    eng.set_hook_count(1)
                raise LuaErr(eng.push_error(b"FUNCTION LOAD timeout"))
            return
        if run.kill:
            self._raise_killed(run)
        threshold = self.scripting.ctx.config["lua-time-limit"]
        if (time.monotonic() - run.start) * 1000 < threshold:
            return
        if not self.busy:
            self.busy = True
            log.warning("Script running longer than busy-reply-threshold: serving -BUSY to other clients")
        self._poll_clients(run)
        # a poll is the busy script's loop pass, and ends as one: what was queued (the BUSY
        # replies, and replies queued in the pass the script started in) leaves now, or a
        # client waiting on its reply would never send SCRIPT KILL
        output = self.scripting.ctx.extras.get("_output")
        if output is not None:
            output.flush()
        if run.kill:
            self._raise_killed(run)

    def _raise_killed(self, run: ScriptRun) -> None:
        from .lua import LuaErr

        eng = self.scripting.fengine if run.is_function else self.scripting.engine
        if not self.fast_hook:
            self.fast_hook = True
            eng.set_hook_count(1)  # stay killed even if the script pcall()s the error away
        raise LuaErr(eng.push_error(b"Script killed by user with SCRIPT KILL..."))

    def _poll_clients(self, run: ScriptRun) -> None:
        ctx = self.scripting.ctx
        fds: dict[int, Any] = {}
        for s in list(ctx.clients.values()):
            conn = s.conn
            if s is run.caller or conn is None or conn.closing or conn.transport is None:
                continue
            if getattr(conn, "blocked_cmds", None) is not None or getattr(conn, "reading_paused", False):
                continue  # blocked (BLPOP ...) or back-pressured clients are not read, as in Redis
            sock = conn.transport.get_extra_info("socket")
            if sock is None:
                continue
            try:
                fds[sock.fileno()] = conn
            except (OSError, ValueError):
                continue
        node = ctx.extras.get("node")
        server = getattr(node, "server", None)
        listeners = {}
        if server is not None:
            for ls in server.sockets or ():
                try:
                    listeners[ls.fileno()] = ls
                except (OSError, ValueError):
                    pass
        for rc in self.accepted:
            fds[rc.sock.fileno()] = rc
        fds.update(listeners)
        if not fds:
            return
        try:
            ready, _, _ = select.select(list(fds), [], [], 0)
        except (OSError, ValueError):
            return
        for fd in ready:
            conn = fds[fd]
            if fd in listeners:
                self._accept(fd)
                continue
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue
            if not data:
                continue
            self._handle(conn, data, run)

    def _handle(self, conn: Any, data: bytes, run: ScriptRun) -> None:
        reader = self.readers.get(conn)
        if reader is None:
            reader = self.readers[conn] = hiredis.Reader()
        raw = self.pending.get(conn, b"") + data
        reader.feed(data)
        out = []
        consumed_all = True
        while True:
            try:
                argv = reader.gets()
            except hiredis.ProtocolError:
                break
            if argv is False:
                consumed_all = False
                break
            if not isinstance(argv, list) or not argv:
                continue
            out.append(self._busy_reply(conn, [a if isinstance(a, bytes) else str(a).encode() for a in argv], run))
        # an incomplete command stays for the connection's own parser after the script
        if consumed_all:
            self.pending.pop(conn, None)
        else:
            self.pending[conn] = raw if not out else _tail_after(raw, len(out))
        if out:
            conn.push(b"".join(out))

    def _busy_reply(self, conn: Any, argv: list[bytes], run: ScriptRun) -> bytes:
        name = argv[0].lower()
        sub = argv[1].lower() if len(argv) > 1 else b""
        if name == b"script" and sub == b"kill" and len(argv) == 2:
            return self._kill_reply(run, False)
        if name == b"function" and sub == b"kill" and len(argv) == 2:
            return self._kill_reply(run, True)
        if name == b"function" and sub == b"stats" and len(argv) == 2 and run.is_function:
            sess = getattr(conn, "session", None)
            return self.scripting.stats_reply(sess.r if sess is not None else resp.RESP2)
        if name == b"shutdown" and b"nosave" in [a.lower() for a in argv[1:]]:
            log.warning("SHUTDOWN NOSAVE while a script is busy: exiting")
            os._exit(0)
        busy = BUSY_FUNCTION if run.is_function else BUSY_EVAL
        sess = getattr(conn, "session", None)
        if sess is None:
            return busy
        # Redis lets the allow_busy commands through (the transaction commands, AUTH, HELLO,
        # RESET) and refuses the rest as rejected commands: one refused inside MULTI aborts
        # the EXEC that follows, and a refused EXEC discards the transaction (no half of it
        # ever runs)
        spec = dispatch.resolve(argv)
        if type(spec) is not str and spec.name in _ALLOW_BUSY:  # type: ignore[union-attr]
            srv = self.scripting.ctx
            current = srv.current_client
            try:
                return dispatch.execute(sess, argv)
            finally:
                srv.current_client = current
        return dispatch.reject(sess, busy[1:-2].decode(), spec if type(spec) is not str else None)  # type: ignore[arg-type]

    def _kill_reply(self, run: ScriptRun, is_function: bool) -> bytes:
        if run.dirty:
            return resp.error(UNKILLABLE)
        if not is_function and run.is_function:
            return BUSY_FUNCTION
        if is_function and not run.is_function:
            return BUSY_EVAL
        run.kill = True
        return resp.OK

    def _accept(self, lfd: int) -> None:
        """Accept a new client while busy (Redis keeps accepting during slow scripts)."""
        try:
            lsock = socket.socket(fileno=os.dup(lfd))
        except OSError:
            return
        try:
            sock, _ = lsock.accept()
        except (BlockingIOError, InterruptedError, OSError):
            return
        finally:
            lsock.close()  # only the duplicate descriptor
        sock.setblocking(False)
        self.accepted.append(_RawClient(sock))

    def _adopt(self, rc: _RawClient, leftover: bytes) -> None:
        """Hand a socket accepted while busy to the event loop as a normal connection."""
        import asyncio

        from ..net.server import Connection

        ctx = self.scripting.ctx
        proto = Connection(ctx)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            rc.sock.close()
            return
        task = asyncio.ensure_future(loop.connect_accepted_socket(lambda: proto, rc.sock))
        if leftover:
            task.add_done_callback(lambda _t: proto.data_received(leftover))

    # -- commands when no script is running --------------------------------------------------------
    def kill(self, c: Any, is_function: bool) -> bytes:
        """SCRIPT KILL / FUNCTION KILL through the normal path: nothing can be running."""
        raise CommandError(NOTBUSY)


class _RawClient:
    """A client accepted while a script is busy: answered on its raw socket."""

    closing = False

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def push(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except OSError:
            pass


def _tail_after(raw: bytes, n_commands: int) -> bytes:
    """The bytes of ``raw`` after its first ``n_commands`` complete commands."""
    reader = hiredis.Reader()
    pos = 0
    got = 0
    # feed byte ranges until n complete commands were parsed: binary search would be
    # overkill here, the busy path is rare and commands small
    for i in range(1, len(raw) + 1):
        reader.feed(raw[pos:i])
        pos = i
        while True:
            r = reader.gets()
            if r is False:
                break
            got += 1
            if got == n_commands:
                return raw[i:]
    return b""
