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
