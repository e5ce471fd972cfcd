"""Pub/sub, keyspace notifications and client-side caching (tracking) for one node.

``install(node)`` sets ``ctx.pubsub`` to a :class:`PubSub` and wires the keyspace hooks:

* ``ks.notify(class_char, event, key, dbid)`` publishes ``__keyspace@<db>__:<key>`` /
  ``__keyevent@<db>__:<event>`` messages as ``notify-keyspace-events`` asks (it is a no-op
  lambda while the parameter selects nothing, so writes pay nothing for it);
* ``ks.on_touch(dbid, key)`` invalidates keys remembered for tracking clients (installed
  only while at least one client has ``CLIENT TRACKING on``).

Messages go out through ``session.push`` (the connection's ordered, output-limit-checked
write path).  Subscriptions live in three dicts (channel/pattern/shard channel -> dict of
sessions, insertion ordered); each session keeps its own sets in ``c.channels``,
``c.patterns`` and ``c.shard_channels``.

Tracking follows Redis's tracking.c: a table key -> client ids filled by read-only
commands of tracking clients (the dispatcher calls :meth:`Tracking.after` after every
command of a session whose ``c.tracking`` is set), BCAST prefixes whose modified keys are
sent once per event-loop pass, sorted, and invalidations for the client that is executing
the command deferred until after its reply.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .protocol import resp
from .session import BLOCKED, Session

if TYPE_CHECKING:
    from .node import Node
    from .spec import CommandSpec

# -- Redis glob patterns (stringmatchlen) -------------------------------------------------

_GLOB_CACHE: dict[bytes, Callable[[bytes], Any]] = {}


def _glob_regex(pat: bytes) -> bytes:
    out = []
    i = 0
    n = len(pat)
    while i < n:
        ch = pat[i : i + 1]
        if ch == b"*":
            while i + 1 < n and pat[i + 1 : i + 2] == b"*":
                i += 1
            out.append(b".*")
        elif ch == b"?":
            out.append(b".")
        elif ch == b"\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i : i + 1]))
        elif ch == b"[":
            i += 1
            negate = False
            if i < n and pat[i : i + 1] == b"^":
                negate = True
                i += 1
            items = []
            while i < n and pat[i : i + 1] != b"]":
                c = pat[i : i + 1]
                if c == b"\\" and i + 1 < n:
                    i += 1
                    items.append(re.escape(pat[i : i + 1]))
                elif n - i >= 3 and pat[i + 1 : i + 2] == b"-":
                    a, b = pat[i], pat[i + 2]
                    if a > b:
                        a, b = b, a
                    items.append(re.escape(bytes([a])) + b"-" + re.escape(bytes([b])))
                    i += 2
                else:
                    items.append(re.escape(c))
                i += 1
            body = b"".join(items)
            if not body:
                out.append(b"." if negate else b"(?!)")
            else:
                out.append(b"[" + (b"^" if negate else b"") + body + b"]")
        else:
            out.append(re.escape(ch))
        i += 1
    return b"".join(out)


def glob_matcher(pat: bytes) -> Callable[[bytes], Any]:
    """A function telling whether a string matches a Redis glob pattern."""
    m = _GLOB_CACHE.get(pat)
    if m is None:
        if len(_GLOB_CACHE) > 4096:
            _GLOB_CACHE.clear()
        m = re.compile(_glob_regex(pat), re.DOTALL).fullmatch
        _GLOB_CACHE[pat] = m
    return m


def glob_match(pat: bytes, s: bytes) -> bool:
    if pat == b"*":
        return True
    return glob_matcher(pat)(s) is not None


# -- notify-keyspace-events ----------------------------------------------------------------

K = 1 << 0
E = 1 << 1
_CLASS_BITS = {
    "g": 1 << 2, "$": 1 << 3, "l": 1 << 4, "s": 1 << 5, "h": 1 << 6, "z": 1 << 7,
    "x": 1 << 8, "e": 1 << 9, "t": 1 << 10, "m": 1 << 11, "d": 1 << 13, "n": 1 << 14,
}
_ALL = sum(_CLASS_BITS[c] for c in "g$lshzxetd")
_RENDER_ORDER = "g$lshzxetdn"


class NotifyFlags(str):
    """The rendered (normalized) value of notify-keyspace-events, carrying its bit flags."""

    flags: int = 0


def parse_notify_flags(text: str) -> NotifyFlags:
    """Redis's keyspaceEventsStringToFlags + keyspaceEventsFlagsToString."""
    flags = 0
    for ch in text:
        if ch == "A":
            flags |= _ALL
        elif ch == "K":
            flags |= K
        elif ch == "E":
            flags |= E
        elif ch in _CLASS_BITS:
            flags |= _CLASS_BITS[ch]
        else:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    out = ""
    if flags & _ALL == _ALL:
        out = "A"
    else:
        for ch in _RENDER_ORDER:
            if flags & _CLASS_BITS[ch]:
                out += ch
    if flags & K:
        out += "K"
    if flags & E:
        out += "E"
    if flags & _CLASS_BITS["m"]:
        out += "m"
    v = NotifyFlags(out)
    v.flags = flags
    return v


# -- tracking ---------------------------------------------------------------------------------

_INVALIDATE_CHANNEL = b"__redis__:invalidate"


class Tracking:
    """One client's CLIENT TRACKING state (``c.tracking`` while tracking is on)."""

    __slots__ = ("ps", "owner", "bcast", "optin", "optout", "noloop", "redirect", "prefixes",
                 "caching", "broken", "pending", "pending_flush")

    def __init__(self, ps: PubSub, owner: Session) -> None:
        self.ps = ps
        self.owner = owner
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.redirect = 0
        self.prefixes: set[bytes] = set()
        self.caching = False
        self.broken = False
        self.pending: list[bytes | None] = []  # invalidations deferred until after the reply

    @property
    def broken_redir(self) -> bool:
        return self.broken

    def after(self, c: Session, spec: CommandSpec, argv: list[bytes], reply: bytes) -> bytes:
        """Called by the dispatcher after each command of a tracking session."""
        owner = self.owner
        if "readonly" in spec.flags and not self.bcast:
            if not ((self.optin and not self.caching) or (self.optout and self.caching)):
                if c is not owner:
                    # a read inside a script: Redis 7.0 remembers the keys of the caller's
                    # command (the script's KEYS), not those of the inner command
                    run = getattr(self.ps.ctx.scripting, "current", None)
                    keys = run.keys if run is not None else []
                elif "pubsub" in spec.flags or spec.name in _RO_SCRIPT_CMDS:
                    keys = []  # read-only scripts: only the commands they run count
                else:
                    keys = spec.keys(argv)
                if keys:
                    ps = self.ps
                    table = ps.table
                    cid = owner.id
                    for k in keys:
                        ids = table.get(k)
                        if ids is None:
                            table[k] = {cid}
                        else:
                            ids.add(cid)
                    if ps.max_keys and len(table) > ps.max_keys:
                        ps.schedule_limit()
        if c is owner and not (c.in_exec or c.in_script):
            if c.multi is None and not spec.name.startswith("client"):
                self.caching = False
            if self.pending and reply is not BLOCKED:
                return self.after_reply(reply)
        return reply

    def after_reply(self, reply: bytes) -> bytes:
        """``reply`` followed by the invalidations deferred while its command ran."""
        parts = [reply]
        for key in self.pending:
            parts.append(self.ps.tracking_message(self.owner, key))
        self.pending = []
        return b"".join(parts)


_RO_SCRIPT_CMDS = frozenset({"eval_ro", "evalsha_ro", "fcall_ro"})


class PubSub:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.ctx = node.ctx
        self.channels: dict[bytes, dict[Session, None]] = {}
        self.patterns: dict[bytes, dict[Session, None]] = {}
        self.shard_channels: dict[bytes, dict[Session, None]] = {}
        self.notify_flags = 0
        # tracking
        self.table: dict[bytes, set[int]] = {}
        self.tracking_clients = 0
        self.prefix_clients: dict[bytes, dict[Session, None]] = {}
        self.bcast_pending: dict[bytes, dict[bytes, Session | None]] = {}
        self._bcast_scheduled = False
        self.max_keys = 0  # tracking-table-max-keys
        self._limit_scheduled = False
        self._limit_rounds = 0

    # -- subscriptions -----------------------------------------------------------------------
    def _mark(self, c: Session) -> None:
        if c.subscriptions():
            if c.kind == "normal":
                c.kind = "pubsub"
        elif c.kind == "pubsub":
            c.kind = "normal"

    def subscribe(self, c: Session, kind: str, names: list[bytes]) -> bytes:
        """SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: one confirmation message per name."""
        r = c.r
        if kind == "subscribe":
            mine, table = c.channels, self.channels
        elif kind == "psubscribe":
            mine, table = c.patterns, self.patterns
        else:
            mine, table = c.shard_channels, self.shard_channels
        head = r.push_header(3) + resp.bulk(kind.encode())
        out = []
        for name in names:
            if name not in mine:
                mine.add(name)
                subs = table.get(name)
                if subs is None:
                    table[name] = {c: None}
                else:
                    subs[c] = None
            if kind == "ssubscribe":
                n = len(c.shard_channels)
            else:
                n = len(c.channels) + len(c.patterns)
            out.append(head + resp.bulk(name) + resp.integer(n))
        self._mark(c)
        return b"".join(out)

    def unsubscribe(self, c: Session, kind: str, names: list[bytes] | None) -> bytes:
        """UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE (``names`` None: all of them)."""
        r = c.r
        if kind == "unsubscribe":
            mine, table = c.channels, self.channels
        elif kind == "punsubscribe":
            mine, table = c.patterns, self.patterns
        else:
            mine, table = c.shard_channels, self.shard_channels
        head = r.push_header(3) + resp.bulk(kind.encode())
        if names is None:
            names = list(mine)
            if not names:
                n = len(c.shard_channels) if kind == "sunsubscribe" else len(c.channels) + len(c.patterns)
                return head + r.null + resp.integer(n)
        out = []
        for name in names:
            if name in mine:
                mine.discard(name)
                subs = table.get(name)
                if subs is not None:
                    subs.pop(c, None)
                    if not subs:
                        del table[name]
            if kind == "sunsubscribe":
                n = len(c.shard_channels)
            else:
                n = len(c.channels) + len(c.patterns)
            out.append(head + resp.bulk(name) + resp.integer(n))
        self._mark(c)
        return b"".join(out)

    def drop(self, c: Session) -> None:
        """Forget every subscription of ``c`` silently (disconnect, RESET)."""
        for mine, table in ((c.channels, self.channels), (c.patterns, self.patterns),
                            (c.shard_channels, self.shard_channels)):
            for name in mine:
                subs = table.get(name)
                if subs is not None:
                    subs.pop(c, None)
                    if not subs:
                        del table[name]
            mine.clear()
        self._mark(c)

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to channel subscribers and pattern subscribers; returns receivers."""
        n = 0
        subs = self.channels.get(channel)
        if subs:
            m2 = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(channel), channel, len(message), message)
            m3 = None
            for s in tuple(subs):  # a push may unsubscribe (a client closed on its output limit)
                if s.resp == 3:
                    if m3 is None:
                        m3 = b">" + m2[1:]
                    s.push(m3)
                else:
                    s.push(m2)
                n += 1
        if self.patterns:
            tail = b""
            for pat, psubs in list(self.patterns.items()):
                if not glob_match(pat, channel):
                    continue
                if not tail:
                    tail = resp.bulk(channel) + resp.bulk(message)
                body = resp.bulk(b"pmessage") + resp.bulk(pat) + tail
                for s in list(psubs):
                    s.push((b">4\r\n" if s.resp == 3 else b"*4\r\n") + body)
                    n += 1
        return n

    def spublish(self, channel: bytes, message: bytes) -> int:
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        body = resp.bulk(b"smessage") + resp.bulk(channel) + resp.bulk(message)
        n = 0
        for s in list(subs):
            s.push((b">3\r\n" if s.resp == 3 else b"*3\r\n") + body)
            n += 1
        return n

    # -- keyspace notifications --------------------------------------------------------------
    def set_notify(self, value: Any) -> None:
        flags = value.flags if isinstance(value, NotifyFlags) else parse_notify_flags(str(value)).flags
        self.notify_flags = flags
        on = bool(flags & (K | E) and flags & ~(K | E))
        self.ctx.ks.notify = self.notify if on else _no_notify
        self.ctx.ks.notifying = on

    def notify(self, class_char: str, event: str, key: bytes, dbid: int) -> None:
        flags = self.notify_flags
        if not flags & _CLASS_BITS.get(class_char, 0):
            return
        ev = event.encode()
        if flags & K:
            self.publish(b"__keyspace@%d__:%s" % (dbid, key), ev)
        if flags & E:
            self.publish(b"__keyevent@%d__:%s" % (dbid, ev), key)

    # -- tracking ------------------------------------------------------------------------------
    def _update_touch_hook(self) -> None:
        # also while the table still has keys of clients that turned tracking off: Redis
        # drops a key from it whenever the key changes (or on FLUSHALL), tracking or not
        self.ctx.ks.on_touch = self.on_touch if self.tracking_clients > 0 or self.table else None

    def enable_tracking(self, c: Session, redirect: int, bcast: bool, optin: bool, optout: bool,
                        noloop: bool, prefixes: list[bytes]) -> None:
        t = c.tracking
        if t is None:
            t = c.tracking = Tracking(self, c)
            self.tracking_clients += 1
            self._update_touch_hook()
        t.broken = t.bcast = t.optin = t.optout = t.noloop = False
        t.redirect = redirect
        if bcast:
            t.bcast = True
            for p in prefixes or [b""]:
                t.prefixes.add(p)
                subs = self.prefix_clients.get(p)
                if subs is None:
                    self.prefix_clients[p] = {c: None}
                else:
                    subs[c] = None
        t.optin, t.optout, t.noloop = optin, optout, noloop

    def disable_tracking(self, c: Session) -> None:
        t = c.tracking
        if t is None:
            return
        for p in t.prefixes:
            subs = self.prefix_clients.get(p)
            if subs is not None:
                subs.pop(c, None)
                if not subs:
                    del self.prefix_clients[p]
                    self.bcast_pending.pop(p, None)
        c.tracking = None
        self.tracking_clients -= 1
        self._update_touch_hook()

    def tracking_message(self, c: Session, key: bytes | None) -> bytes:
        """Encoded invalidation for ``c`` (a key, or None for a flush); may be empty."""
        keys_part = (c.r.null if key is None else b"*1\r\n" + resp.bulk(key))
        return self._tracking_payload(c, keys_part)

    def _tracking_payload(self, c: Session, keys_part: bytes) -> bytes:
        t = c.tracking
        target = c
        redirected = False
        if t is not None and t.redirect:
            target = self.ctx.clients.get(t.redirect)
            if target is None:
                t.broken = True
                if c.resp > 2:
                    return b">2\r\n$21\r\ntracking-redir-broken\r\n" + resp.integer(t.redirect)
                return b""
            redirected = True
        if target.resp > 2:
            msg = b">2\r\n$10\r\ninvalidate\r\n" + keys_part
        elif redirected and target.subscriptions():
            msg = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n" + keys_part
        else:
            return b""
        if target is not c:
            target.push(msg)
            return b""
        return msg

    def _send_tracking(self, c: Session, key: bytes | None, keys_part: bytes | None = None) -> None:
        if keys_part is None:
            keys_part = c.r.null if key is None else b"*1\r\n" + resp.bulk(key)
        msg = self._tracking_payload(c, keys_part)
        if msg:
            c.push(msg)

    def on_touch(self, dbid: int, key: bytes | None) -> None:
        if key is None:
            self._flush_invalidate()
            return
        cur = self.ctx.current_client
        if self.prefix_clients:
            who = cur.tracking.owner if cur is not None and cur.tracking is not None else cur
            for p in self.prefix_clients:
                if key.startswith(p):
                    pend = self.bcast_pending.get(p)
                    if pend is None:
                        pend = self.bcast_pending[p] = {}
                    pend[key] = who  # raxInsert: the last writer of the pass is kept (NOLOOP)
                    self._schedule_bcast()
        ids = self.table.pop(key, None)
        if not ids:
            return
        if not self.tracking_clients:
            if not self.table:
                self._update_touch_hook()
            return
        clients = self.ctx.clients
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            t = target.tracking
            if t is None or t.bcast:
                continue
            if cur is not None and cur.tracking is t:
                if t.noloop:
                    continue
                t.pending.append(key)
            else:
                self._send_tracking(target, key)

    def schedule_limit(self) -> None:
        if self._limit_scheduled:
            return
        self._limit_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self.limit_table)
        except RuntimeError:
            self._limit_scheduled = False

    def limit_table(self) -> None:
        """trackingLimitUsedSlots: invalidate random keys while the table is over its limit."""
        self._limit_scheduled = False
        table = self.table
        mx = self.max_keys
        if not mx or len(table) <= mx:
            self._limit_rounds = 0
            return
        rng = self.ctx.rng
        effort = 100 * (self._limit_rounds + 1)
        keys = list(table)
        while effort > 0 and keys and len(table) > mx:
            effort -= 1
            i = rng.randrange(len(keys)) if rng is not None else 0
            key = keys.pop(i)
            ids = table.pop(key, None)
            for cid in ids or ():
                target = self.ctx.clients.get(cid)
                if target is not None and target.tracking is not None and not target.tracking.bcast:
                    self._send_tracking(target, key)
        if len(table) > mx:
            self._limit_rounds += 1
            self.schedule_limit()
        else:
            self._limit_rounds = 0

    def set_max_keys(self, value: Any) -> None:
        try:
            self.max_keys = int(value)
        except (TypeError, ValueError):
            self.max_keys = 0
        if self.max_keys and len(self.table) > self.max_keys:
            self.schedule_limit()

    def _flush_invalidate(self) -> None:
        cur = self.ctx.current_client
        for s in list(self.ctx.clients.values()):
            t = s.tracking
            if t is None:
                continue
            if cur is not None and cur.tracking is t:
                t.pending.append(None)
            else:
                self._send_tracking(s, None)
        self.table.clear()
        self._update_touch_hook()

    def _schedule_bcast(self) -> None:
        if self._bcast_scheduled:
            return
        self._bcast_scheduled = True
        try:
            asyncio.get_running_loop().call_soon(self.broadcast_pending)
        except RuntimeError:
            self._bcast_scheduled = False

    def broadcast_pending(self) -> None:
        """Send BCAST invalidations collected this pass (Redis's beforeSleep step)."""
        self._bcast_scheduled = False
        pending = self.bcast_pending
        self.bcast_pending = {}
        for p in sorted(pending):
            keys = pending[p]
            subs = self.prefix_clients.get(p)
            if not subs:
                continue
            ordered = sorted(keys)
            for s in list(subs):
                t = s.tracking
                if t is None:
                    continue
                if t.noloop:
                    sel = [k for k in ordered if keys[k] is not s]
                    if not sel:
                        continue
                else:
                    sel = ordered
                part = resp.bulks(sel)
                self._send_tracking(s, None, part)

    # -- connection lifecycle ----------------------------------------------------------------
    def on_disconnect(self, c: Session) -> None:
        if c.channels or c.patterns or c.shard_channels:
            self.drop(c)
        if c.tracking is not None:
            self.disable_tracking(c)


def _no_notify(class_char: str, event: str, key: bytes, dbid: int) -> None:
    return None


def install(node: Node) -> None:
    ctx = node.ctx
    ps = PubSub(node)
    ctx.pubsub = ps
    cfg = node.config
    param = cfg.params["notify-keyspace-events"]
    param.parser = parse_notify_flags
    try:
        value = parse_notify_flags(str(cfg["notify-keyspace-events"]))
    except ValueError:
        value = parse_notify_flags("")
    cfg.values[param.name] = value
    ps.set_notify(value)
    cfg.watch("notify-keyspace-events", ps.set_notify)
    if "tracking-table-max-keys" in cfg.params:
        ps.set_max_keys(cfg["tracking-table-max-keys"])
        cfg.watch("tracking-table-max-keys", ps.set_max_keys)
    ctx.extras.setdefault("on_disconnect", []).append(ps.on_disconnect)
    ctx.extras["pubsub_reset"] = ps.on_disconnect
