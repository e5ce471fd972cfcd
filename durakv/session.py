"""Per-connection state: database, user, RESP version, MULTI queue, WATCH, pub/sub, flags.

A :class:`Session` is what handlers receive as ``c``.  It holds no socket: the network
layer gives it ``push`` (write an out-of-band message, e.g. pub/sub) and ``close``.
``c.srv`` is the node's :class:`~durakv.context.Context` with the shared services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .protocol.resp import RESP2, RESP3, Resp2

if TYPE_CHECKING:
    from .context import Context
    from .keyspace import Database


# a handler returns this object (compared by identity) when it blocked the client; the
# blocking layer later calls ``session.conn.unblock(reply, wait_seq)``
BLOCKED = b"__durakv_blocked__"


class Session:
    __slots__ = (
        "id", "srv", "db", "r", "resp", "name", "lib_name", "lib_ver", "user", "authenticated",
        "multi", "multi_error", "dirty_cas", "watched", "flags", "reply_mode", "channels",
        "patterns", "shard_channels", "wait", "effects", "push", "close", "addr", "laddr",
        "fd", "created", "last_interaction", "last_cmd", "blocked", "tracking", "no_evict",
        "close_after_reply", "replaying", "in_exec", "in_script", "readonly_mode",
        "kind", "argv_mem", "conn", "no_touch", "asking", "multi_wait",
    )

    def __init__(self, srv: Context, cid: int, db: Database) -> None:
        self.id = cid
        self.srv = srv
        self.db = db
        self.r: Resp2 = RESP2
        self.resp = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.user: Any = None
        self.authenticated = True
        self.multi: list[tuple[Any, list[bytes]]] | None = None
        self.multi_error = False
        self.dirty_cas = False
        self.watched: list[tuple[Database, bytes]] = []
        self.flags: set[str] = set()
        self.reply_mode = 0  # 0 on, 1 off, 2 skip next
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        self.wait = 0  # log sequence the current reply must wait for
        self.effects: list[tuple[int, list[bytes] | bytes]] | None = None
        self.push: Callable[[bytes], None] = lambda data: None
        self.close: Callable[[], None] = lambda: None
        self.addr = "?"
        self.laddr = "?"
        self.fd = -1
        self.created = 0.0
        self.last_interaction = 0.0
        self.last_cmd = "NULL"
        self.blocked: Any = None
        self.tracking: Any = None
        self.no_evict = False
        self.close_after_reply = False
        self.replaying = False
        self.in_exec = False
        self.in_script = False
        self.readonly_mode = False
        self.kind = "normal"  # normal | pubsub | replica | master
        self.argv_mem = 0
        self.conn: Any = None
        self.no_touch = False
        self.asking = False
        self.multi_wait = 0

    @property
    def dbid(self) -> int:
        return self.db.id

    def set_resp(self, version: int) -> None:
        self.resp = version
        self.r = RESP3 if version == 3 else RESP2

    def propagate(self, argv: list[bytes] | bytes, dbid: int | None = None) -> None:
        """Record an explicit effect for the log instead of (or besides) the command itself.

        A write whose argv is not deterministic (relative TTLs, random picks, generated IDs)
        calls this with the deterministic form; the dispatcher then logs these effects
        rather than the original argv.  A hot path may pass the command RESP-encoded.
        """
        if self.effects is None:
            self.effects = []
        self.effects.append((self.db.id if dbid is None else dbid, argv))

    def subscriptions(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)

    def disconnect(self, by: Session | None = None) -> None:
        """Close this client's connection (CLIENT KILL, ACL DELUSER ...); when ``by`` is this
        client itself, it gets the reply of the command that killed it first."""
        if self is by:
            self.close_after_reply = True
            self.close()
            return
        conn = self.conn
        if conn is not None:
            conn.close()
