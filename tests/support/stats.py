"""Counter tests against both servers: a client on an emptied node with reset statistics,
and commands run one by one whatever they reply (their errors are part of what counts)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import redis


def fresh_client(port: int, **kw: Any) -> redis.Redis:
    r = redis.Redis(port=port, **kw)
    r.flushall()
    r.config_resetstat()
    return r


def run_each(r: redis.Redis, cmds: Iterable[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    """Run ``cmds`` in order, yielding each once it ran (error replies included)."""
    for cmd in cmds:
        try:
            r.execute_command(*cmd)
        except redis.ResponseError:
            pass
        yield cmd


def dirty(conn: Any) -> int:
    """rdb_changes_since_last_save (Redis's server.dirty) of a tests.support.raw.Raw client."""
    for line in conn.call("INFO", "persistence").split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def dirty_deltas(conn: Any, cmds: Iterable[tuple[str, ...]]) -> list[int]:
    """How much each of ``cmds``, run in order on a Raw client, moved server.dirty."""
    out = []
    for cmd in cmds:
        before = dirty(conn)
        conn.call(*cmd)
        out.append(dirty(conn) - before)
    return out
