"""The node's shared services as handlers see them (``c.srv``).

A plain container built by ``node.py``.  Fields typed ``Any`` belong to higher layers
(commit tracker, pub/sub, replication ...) which this module must not import.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .clock import Clock
from .config import Config
from .keyspace import Keyspace


class Stats:
    """Counters for INFO stats (names as Redis's INFO fields)."""

    def __init__(self) -> None:
        self.total_connections_received = 0
        self.total_commands_processed = 0
        self.lazyfreed_objects = 0  # values Redis would free in the background (UNLINK, ASYNC flush)
        self.rejected_connections = 0
        self.total_net_input_bytes = 0
        self.total_net_output_bytes = 0
        self.total_error_replies = 0
        self.unexpected_error_replies = 0
        self.errors: dict[str, int] = {}
        self.client_query_buffer_limit_disconnections = 0
        self.client_output_buffer_limit_disconnections = 0
        self.total_blocking_keys = 0
        self.reset_time = time.time()

    def count_error(self, msg: str) -> None:
        self.total_error_replies += 1
        code = msg.split(" ", 1)[0]
        self.errors[code] = self.errors.get(code, 0) + 1


def _gating(name: str) -> property:
    attr = "_" + name

    def get(self: Context) -> Any:
        return getattr(self, attr)

    def set_(self: Context, value: Any) -> None:
        object.__setattr__(self, attr, value)
        self.gated = bool(
            getattr(self, "_acl", None) is not None
            or getattr(self, "_cluster", None) is not None
            or getattr(self, "_loading", False)
        )

    return property(get, set_)


class Context:
    gated = False  # True while acl, cluster or loading need the dispatcher's slow path
    acl = _gating("acl")
    cluster = _gating("cluster")
    loading = _gating("loading")

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or Clock()
        self.ks = Keyspace(config["databases"], self.clock)
        self.stats = Stats()
        self.start_time = time.time()
        self.run_id = os.urandom(20).hex()
        self.pid = os.getpid()
        self.clients: dict[int, Any] = {}  # id -> Session
        self.next_client_id = 1
        self.tracker: Any = None  # durability.tracker.CommitTracker
        self.loading = False
        self.write_refused: str | None = None  # MISCONF reason after a failed log append
        # min-replicas-to-write is set and fewer replicas are good (replication/export.py)
        self.noreplicas = False
        self.role = "master"  # or "slave"
        self.primary_addr: tuple[str, int] | None = None
        self.pubsub: Any = None
        self.current_client: Any = None  # session whose command is executing (tracking NOLOOP)
        self.acl: Any = None
        self.cluster: Any = None
        self.replication: Any = None
        self.snapshots: Any = None
        self.scripting: Any = None
        self.blocking: Any = None
        self.monitors: list[Any] = []
        self.slowlog: Any = None
        self.latency: Any = None
        self.evictor: Any = None
        self.tcp_port = 0
        self.executable = ""
        self.config_file = ""
        self.shutdown: Any = None  # callable(save: bool | None) installed by the node
        self.paused_until = 0.0
        self.pause_writes_only = False
        self.rng: Any = None
        self.lastsave = int(time.time())
        self.extras: dict[str, Any] = {}
