"""The client connection: an ``asyncio.Protocol`` feeding a parser and the dispatcher.

All complete commands of one read are executed before their replies are queued, and
everything queued for a connection during a loop pass leaves in one ``transport.write``
at the end of the pass (:class:`_Output`), as Redis writes its replies in beforeSleep.
A reply whose command touched not-yet-durable data (``session.wait`` above the tracker's
committed sequence) is held, and so is every reply after it on the same connection,
until the tracker reports the sequence durable (``release``).
A blocked command (BLPOP ...) pauses the connection's command processing until the
blocking layer calls :meth:`Connection.unblock`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque
from time import perf_counter_ns
from typing import Any

from .. import dispatch
from ..context import Context
from ..errors import CommandError, sanitize
from ..protocol.parser import RequestParser
from ..protocol.resp import error
from ..session import BLOCKED, Session

_HIGH_WATER = 16 * 1024 * 1024


_PUSHED_REPLIES = frozenset({b"subscribe", b"psubscribe", b"ssubscribe", b"unsubscribe", b"punsubscribe",
                             b"sunsubscribe"})


class Connection(asyncio.Protocol):
    __slots__ = (
        "ctx", "transport", "session", "parser", "held", "closing", "blocked_cmds",
        "paused_input", "reading_paused", "out_bytes_pending", "soft_since", "peer", "wbuf", "output",
    )

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.transport: Any = None
        self.session: Session | None = None
        # (seq, reply) or, for one read's replies from the first that waits on,
        # (highest seq, (replies, the seq each waits for))
        self.held: deque[tuple[int, Any]] = deque()
        self.closing = False
        self.blocked_cmds: list[list[bytes]] | None = None
        self.paused_input: list[bytes] = []
        self.reading_paused = False
        self.soft_since = 0.0
        self.wbuf: list[bytes] | None = None  # output of this pass, not yet written
        output = ctx.extras.get("_output")
        loop = asyncio.get_event_loop()
        if output is None or output.loop is not loop:  # (a node started again in a new loop)
            output = ctx.extras["_output"] = _Output(loop)
        self.output: _Output = output

    # -- asyncio callbacks -----------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        ctx = self.ctx
        self.transport = transport
        ctx.stats.total_connections_received += 1
        if len(ctx.clients) >= ctx.config["maxclients"]:
            ctx.stats.rejected_connections += 1
            transport.write(b"-ERR max number of clients reached\r\n")
            transport.close()
            self.closing = True
            return
        transport.set_write_buffer_limits(high=_HIGH_WATER)
        cid = ctx.next_client_id
        ctx.next_client_id += 1
        s = Session(ctx, cid, ctx.ks.dbs[0])
        s.conn = self
        s.push = self.push
        s.close = self.close_after_reply
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        s.addr = _fmt_addr(peer)
        s.laddr = _fmt_addr(sock)
        sk = transport.get_extra_info("socket")
        s.fd = sk.fileno() if sk is not None else -1
        s.created = s.last_interaction = time.time()
        if ctx.acl is not None:
            ctx.acl.init_session(s)
        elif ctx.config["requirepass"]:
            s.authenticated = False
        self.session = s
        ctx.clients[cid] = s
        sess = s
        self.parser = RequestParser(
            lambda: ctx.config["proto-max-bulk-len"], lambda: not sess.authenticated
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.wbuf = None
        s = self.session
        if s is None:
            return
        self.ctx.clients.pop(s.id, None)
        tracker = self.ctx.tracker
        if tracker is not None:
            tracker.remove_waiter(self)
        s.multi = None
        if s.watched:
            self.ctx.ks.unwatch_all(s)
        for hook in self.ctx.extras.get("on_disconnect", ()):
            hook(s)

    def pause_writing(self) -> None:
        # the client does not read its replies: stop reading its commands (backpressure)
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        s = self.session
        assert s is not None
        ctx = self.ctx
        ctx.stats.total_net_input_bytes += len(data)
        if self.blocked_cmds is not None or ctx.paused_until:
            self.paused_input.append(data)
            if self.blocked_cmds is None:
                ctx.extras["pause_wait"](self)
            return
        parser = self.parser
        cmds, err = parser.feed(data)
        if err is None and parser.pending() > ctx.config["client-query-buffer-limit"]:
            ctx.stats.client_query_buffer_limit_disconnections += 1
            self.abort()
            return
        raw = parser.raw
        if raw is not None:
            parser.raw = None  # an idle connection must not keep its last read alive
        self.run(cmds, err, raw)

    # -- command processing ----------------------------------------------------------------
    def run(self, cmds: list[list[bytes]], err: str | None, raw: bytes | None = None) -> None:
        """Execute ``cmds`` in order and send or hold their replies.

        ``raw``: the bytes ``cmds`` came in as, when they are exactly that (the parser
        says); the tracker may log them as they are.
        """
        s = self.session
        assert s is not None
        if cmds:
            s.last_interaction = time.time()  # CLIENT LIST idle, the `timeout` parameter
        out: list[bytes] = []  # replies that may leave now
        tail: list[bytes] | None = None  # from the first reply that must wait on ...
        tail_w: list[int] = []  # ... and the sequence each of those waits for
        tail_seq = 0
        held = self.held
        ctx = self.ctx
        tracker = ctx.tracker
        committed = tracker.committed if tracker is not None else 1 << 62
        execute = dispatch.execute
        plain = dispatch.plain_table(s) if tracker is not None else dispatch.NO_PLAIN
        # The plain-command path (see dispatch.plain_table): what dispatch.call does, minus
        # the checks plain_table made for the whole read, inline, with what cannot change
        # during the read looked up once.  The clock is read once per *segment*, a run of
        # consecutive plain commands of one spec (a pipeline of SETs is one): see
        # _close_segment for how its time is shared out.
        ks = ctx.ks
        modified = ks.modified
        stats = ctx.stats
        bl = ctx.blocking
        sl = ctx.slowlog
        slow_us = sl.threshold if sl is not None else 1 << 62
        db = s.db
        # Plain writes logged as themselves, or as one effect in the same database, go to
        # the tracker together (_hand_over): at the end of the read, or before the first
        # command that is not one.  ``logged`` holds those argvs or effects (a RESP-encoded
        # effect as bytes), the first ``nmod`` entries of ``modified`` are their keys, and their
        # replies wait for ``open_seq``, the open batch.  Those replies are held (a write's
        # always is), and so is every later reply of this read: a read after them waits for
        # ``open_seq`` too, since the tracker has no marks of their keys yet.
        # Not while clients are blocked on keys (each write may serve them at once), nor
        # while replies are skipped (CLIENT REPLY: a read's wait would then need the marks).
        # In one process: SET 1.46 -> 1.32, LPUSH 1.21 -> 1.10 µs.
        logged: list[list[bytes] | bytes] = []
        nmod = 0
        batched = (bl is None or not bl.keys) and not s.reply_mode
        open_seq = tracker.batch_seq if tracker is not None else 0
        seg: Any = None  # the segment's spec ...
        seg_i = seg_n = 0  # ... where it starts in cmds, how many commands it has so far
        if plain:
            ctx.current_client = s
            s.effects = None
        t_seg = perf_counter_ns()
        for i, argv in enumerate(cmds):
            spec = plain.get(argv[0])
            if spec is not None and (spec.arity == len(argv) or 0 > spec.arity >= -len(argv)):
                if spec is not seg:
                    if seg_n:
                        t = perf_counter_ns()
                        _close_segment(s, seg, cmds, seg_i, seg_n, t - t_seg, slow_us)
                        t_seg = t
                    seg = spec
                    seg_i = i
                    seg_n = 0
                seg_n += 1
                dirty = ks.dirty
                try:
                    reply = spec.handler(s, argv)  # type: ignore[misc]
                except CommandError as e:
                    stats.count_error(e.msg)
                    spec.failed_calls += 1
                    reply = error(e.msg)
                except Exception as e:  # a bug must cost one reply, never the connection
                    reply = dispatch.internal_error(ctx, spec, e)
                w = 0
                if modified and len(modified) != nmod:
                    effects = s.effects
                    if batched and ks.dirty != dirty and (
                        effects is None or (len(effects) == 1 and effects[0][0] == db.id)
                    ):
                        if effects is None:
                            logged.append(argv)
                        else:  # what it logs instead of itself (XADD with its ID, SPOP's SREM ...)
                            logged.append(effects[0][1])  # type: ignore[arg-type]
                            s.effects = None
                        nmod = len(modified)
                        w = open_seq
                    else:
                        if logged:
                            tail_seq = max(tail_seq, self._hand_over(logged, nmod, db.id))
                            logged = []
                            nmod = 0
                        w = dispatch.commit(s, argv, dirty)
                        if bl is not None and bl.ready:  # serve clients blocked on keys made ready
                            # (their commands are timed on their own: the segment ends here)
                            _close_segment(s, seg, cmds, seg_i, seg_n, perf_counter_ns() - t_seg, slow_us)
                            seg = None
                            seg_n = 0
                            bl.serve_ready()
                            ctx.current_client = s
                            t_seg = perf_counter_ns()
                elif logged:
                    # after writes kept back, whose marks the tracker has not got yet: held
                    # with them anyway, and failed with them if their record fails
                    w = open_seq
                elif tracker.has_pending:
                    w = tracker.read_wait(db.id, spec, argv)
            else:
                if seg_n:
                    _close_segment(s, seg, cmds, seg_i, seg_n, perf_counter_ns() - t_seg, slow_us)
                    seg = None
                    seg_n = 0
                if logged:
                    tail_seq = max(tail_seq, self._hand_over(logged, nmod, db.id))
                    logged = []
                    nmod = 0
                s.wait = 0
                reply = execute(s, argv)
                w = s.wait
                plain = dispatch.plain_table(s) if tracker is not None else dispatch.NO_PLAIN
                if plain:  # the command may have changed what holds
                    batched = (bl is None or not bl.keys) and not s.reply_mode
                    open_seq = tracker.batch_seq
                    ctx.current_client = s
                    s.effects = None
                    db = s.db
                    sl = ctx.slowlog
                    slow_us = sl.threshold if sl is not None else 1 << 62
                t_seg = perf_counter_ns()
            if reply is BLOCKED:
                self.blocked_cmds = cmds[i + 1 :]
                break
            rm = s.reply_mode
            if rm:
                # 1: CLIENT REPLY OFF; 2: SKIP was just given; 3: this reply is skipped
                if rm == 2:
                    s.reply_mode = 3
                    continue
                if rm == 3:
                    s.reply_mode = 0
                if argv[0].lower() not in _PUSHED_REPLIES:
                    continue
                # (subscribe confirmations are pushed in Redis, whatever CLIENT REPLY says)
            if tail is not None:
                # replies keep their order: everything after a held reply is held with it
                tail.append(reply)
                tail_w.append(w)
                if w > tail_seq:
                    tail_seq = w
            elif w > committed or held:
                tail = [reply]
                tail_w = [w]
                tail_seq = w
            else:
                out.append(reply)
            if s.close_after_reply:
                break
        if seg_n:
            _close_segment(s, seg, cmds, seg_i, seg_n, perf_counter_ns() - t_seg, slow_us)
        if logged:
            tail_seq = max(tail_seq, self._hand_over(logged, nmod, db.id))
        if plain:
            ctx.current_client = None
        if raw is not None and tracker is not None:
            tracker.use_raw(cmds, raw)
        if err is not None and not s.close_after_reply:  # after QUIT Redis reads no further
            perr = error(sanitize("ERR Protocol error: " + err))  # "got '\r'" reads "got ' '"
            if tail is not None:
                tail.append(perr)
                tail_w.append(0)
            else:
                out.append(perr)
            self.ctx.stats.count_error("ERR")
            s.close_after_reply = True
        if out:
            if held:
                held.append((0, b"".join(out)))
            else:
                self.write(b"".join(out))
        if tail is not None:
            if not held:
                tracker.add_waiter(self)
            held.append((tail_seq, (tail, tail_w)))
            if tail_seq <= tracker.committed:
                # made durable during this read (a snapshot appends the open batch): no
                # later commit may come to release it
                self.release(tracker.committed)
        if s.close_after_reply and not held:
            self.close()

    def _hand_over(self, logged: list[list[bytes] | bytes], nmod: int, dbid: int) -> int:
        """Give the tracker the plain writes run() kept back: their argvs and their keys
        (the first ``nmod`` entries of ``modified``); the sequence they wait for.  (It is
        the ``open_seq`` their replies were given: nothing but a command that is not plain
        appends the open batch, and those come after a hand-over.)"""
        ks = self.ctx.ks
        modified = ks.modified
        tracker = self.ctx.tracker
        if len(modified) == nmod:
            w = tracker.write_many(dbid, logged, modified)
            modified.clear()
        else:
            w = tracker.write_many(dbid, logged, modified[:nmod])
            del modified[:nmod]
        return w

    def release(self, committed: int) -> None:
        """The tracker made ``committed`` durable: send the held replies it unblocks."""
        held = self.held
        out = []
        while held and held[0][0] <= committed:
            data = held.popleft()[1]
            if type(data) is tuple:  # one read's replies, held together to keep their order
                out.extend(data[0])
            else:
                out.append(data)
        if out:
            self.write(b"".join(out))
        if not held:
            self.ctx.tracker.remove_waiter(self)
            if self.session is not None and self.session.close_after_reply:
                self.close()

    def fail_held(self, msg: str) -> None:
        """The log failed: every held reply that waited on a lost record becomes an error."""
        committed = self.ctx.tracker.committed
        out = []
        err = error(msg)
        for seq, data in self.held:
            if type(data) is tuple:
                out.extend([r if s <= committed else err for r, s in zip(*data)])
            else:
                out.append(data if seq <= committed else err)
        self.held.clear()
        self.ctx.tracker.remove_waiter(self)
        if out:
            self.write(b"".join(out))

    def unblock(self, reply: bytes, wait: int = 0) -> None:
        """A blocked command finished (data arrived, timeout, CLIENT UNBLOCK)."""
        s = self.session
        assert s is not None
        rest = self.blocked_cmds or []
        self.blocked_cmds = None
        tracker = self.ctx.tracker
        if (tracker is not None and wait > tracker.committed) or self.held:
            if not self.held:
                tracker.add_waiter(self)
            self.held.append((wait, reply))
        else:
            self.write(reply)
        if self.closing:
            return
        self.run(rest, None)
        self.resume_input()

    def resume_input(self) -> None:
        """Feed input that arrived while blocked or paused."""
        while self.paused_input and self.blocked_cmds is None and not self.closing:
            data = b"".join(self.paused_input)
            self.paused_input = []
            cmds, err = self.parser.feed(data)
            self.run(cmds, err)

    # -- output --------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Queue ``data``; it leaves at the end of the loop pass (see :class:`_Output`)."""
        if self.transport is None or self.closing:
            return
        self.ctx.stats.total_net_output_bytes += len(data)
        wbuf = self.wbuf
        if wbuf is None:
            self.wbuf = [data]
            self.output.add(self)
        else:
            wbuf.append(data)

    def flush_output(self) -> None:
        """Write what this pass queued (the end of the pass, a close, a busy script's poll)."""
        wbuf = self.wbuf
        if wbuf is None:
            return
        self.wbuf = None
        t = self.transport
        if t is None or self.closing:
            return
        t.write(wbuf[0] if len(wbuf) == 1 else b"".join(wbuf))
        limit = self.ctx.extras.get("output_limit")
        if limit is not None and t.get_write_buffer_size() > 0:
            limit(self)

    def push(self, data: bytes) -> None:
        """Out-of-band data (pub/sub, invalidations, MONITOR): ordered after held replies."""
        if self.held:
            self.held.append((0, data))
        else:
            self.write(data)

    def close_after_reply(self) -> None:
        s = self.session
        if s is not None:
            s.close_after_reply = True

    def close(self) -> None:
        if self.transport is not None and not self.closing:
            self.flush_output()  # (transport.close still sends what it buffered)
            self.closing = True
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.closing = True
            self.wbuf = None
            self.transport.abort()


def _close_segment(s: Session, spec: Any, cmds: list[list[bytes]], i: int, n: int, ns: int,
                   slow_us: int) -> None:
    """Account ``n`` plain commands of ``spec`` (``cmds[i:i + n]``) that took ``ns`` together.

    Their time is their sum, as Redis's would be (to the microsecond).  When the sum stays
    under the slow-log/latency threshold no command of them can have reached it; when it
    does not, each is recorded with the segment's mean (exact for a segment of one, and
    for a threshold of 0 every command is logged, as in Redis).
    """
    us = ns // 1000
    spec.calls += n
    spec.usec += us
    srv = s.srv
    srv.stats.total_commands_processed += n
    s.last_cmd = spec.name
    if us >= slow_us:
        sl = srv.slowlog
        mean = us // n
        for argv in cmds[i:i + n]:
            sl.record(s, spec, argv, mean)


class _Output:
    """The connections with output queued during this loop pass; one callback at the end
    of the pass writes each connection's output at once.

    Writing every reply as soon as its read is done wakes the client (over loopback, in
    the writer's own system call) while the node still reads other clients: measured with
    ``redis-benchmark -P 16``, GET cost 2.2 µs of CPU per command that way, 1.1 µs with
    the writes gathered at the end of the pass.
    """

    __slots__ = ("conns", "scheduled", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.conns: list[Connection] = []
        self.scheduled = False
        self.loop = loop

    def add(self, conn: Connection) -> None:
        self.conns.append(conn)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        conns = self.conns
        self.conns = []
        for conn in conns:
            conn.flush_output()


def _fmt_addr(a: Any) -> str:
    if not a:
        return "?"
    if isinstance(a, tuple):
        return f"{a[0]}:{a[1]}"
    return str(a)


def listen_sockets(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Bound, listening sockets for ``host`` (space-separated addresses) and ``port``;
    raises OSError (nothing left open) when an address cannot be bound."""
    socks: list[socket.socket] = []
    try:
        for h in host.split():
            s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((h, port))
            s.listen(backlog)
            s.setblocking(False)
    except OSError:
        for s in socks:
            s.close()
        raise
    return socks


async def serve(ctx: Context, host: str, port: int, backlog: int = 511) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    hosts = host.split()
    return await loop.create_server(lambda: Connection(ctx), hosts if len(hosts) > 1 else hosts[0], port,
                                    backlog=backlog, reuse_address=True)
