"""Wires replication into a node (listed in ``node.SUBSYSTEMS``).

With ``log nats://...`` the node's log is the shard's JetStream stream
(:class:`~durakv.durability.jetstream.JetStreamLog`), its start is a sync from the newest
snapshot plus the log (:class:`~durakv.replication.manager.Replication`), and its role
follows the leases and elections in that log.  Without it the node is a standalone
primary and ``INFO replication`` / ``ROLE`` describe a master with no replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..node import Node


def standalone_info(node: Node) -> list[tuple[str, Any]]:
    # external replicas (redis-server --replicaof, replication/export.py) if any
    exporter = node.ctx.extras.get("exporter")
    replicas = exporter.info() if exporter is not None else [("connected_slaves", 0)]
    return [
        ("role", "master"),
        *replicas,
        ("master_failover_state", "no-failover"),
        ("master_replid", node.ctx.run_id),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", exporter.offset if exporter is not None else 0),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


def install(node: Node) -> None:
    ctx = node.ctx
    ex = ctx.extras
    url = str(node.config["log"])
    if not url.startswith("nats"):
        ex.setdefault("info", {})["replication"] = lambda: standalone_info(node)
        return
    from .manager import Replication

    rep = Replication(node)
    ctx.replication = rep
    ex["default_log_factory"] = rep.make_log
    ex["recover"] = rep.recover
    ex["recover_after_failure"] = rep.on_log_failed
    ex.setdefault("info", {})["replication"] = rep.info
    ctx.role = "slave"
    ctx.ks.expire_allowed = False
