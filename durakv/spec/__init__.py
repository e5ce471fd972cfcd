"""The command table: one declaration per command, next to its handler.

A handler module declares each command with :func:`command` (and subcommands with
``command("config|get", ...)``).  The declaration is the single source of arity, flags,
ACL categories and key positions; the dispatcher's gates, ``COMMAND *``, ACL checks and
cluster slot routing all read it.  Redis's documentation facts for ``COMMAND DOCS`` and
its key-spec objects come from ``reference.json`` (generated from Redis 7.0 by
``tools/gen_command_reference.py``), looked up by the same name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[..., bytes]

# flags that change what the dispatcher does
WRITE = "write"
READONLY = "readonly"
DENYOOM = "denyoom"
ADMIN = "admin"
PUBSUB = "pubsub"
NOSCRIPT = "noscript"
BLOCKING = "blocking"
LOADING = "loading"
STALE = "stale"
FAST = "fast"
NO_AUTH = "no_auth"
NO_MULTI = "no_multi"
ALLOW_BUSY = "allow_busy"
# durakv-only marker (not shown in COMMAND): the command reads the whole keyspace, so a
# reply waits for every pending log record.
WHOLE_KEYSPACE = "whole_keyspace"

_INTERNAL_FLAGS = frozenset({WHOLE_KEYSPACE})


@dataclass(slots=True, eq=False)
class CommandSpec:
    name: str  # lowercase full name: "get", "config|get"
    handler: Handler | None
    arity: int
    flags: frozenset[str]
    acl: frozenset[str]  # without '@': "read", "string", "fast"
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    keys_fn: Callable[[list[bytes]], list[int]] | None = None  # key positions for movablekeys
    subcommands: dict[bytes, CommandSpec] = field(default_factory=dict)
    parent: CommandSpec | None = None
    # runtime statistics (INFO commandstats)
    calls: int = 0
    usec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    is_write: bool = False
    is_fast_read: bool = False
    write_gate: bool = False  # write or denyoom: OOM / MISCONF / read-only replica gates apply
    whole_keyspace: bool = False
    id: int = 0

    @property
    def is_container(self) -> bool:
        return bool(self.subcommands)

    def public_flags(self) -> list[str]:
        return [f for f in _FLAG_ORDER if f in self.flags]

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments in ``argv`` (Redis's getKeysFromCommand)."""
        if self.keys_fn is not None:
            return self.keys_fn(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key
        n = len(argv)
        if last < 0:
            last = n + last
        if last >= n:
            last = n - 1
        return list(range(self.first_key, last + 1, self.step or 1))

    def keys(self, argv: list[bytes]) -> list[bytes]:
        return [argv[i] for i in self.key_positions(argv)]


# the order Redis prints command flags in COMMAND INFO
_FLAG_ORDER = [
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys", "protected",
    "no_async_loading", "no_multi", "movablekeys", "allow_busy", "module_no_cluster",
]

COMMANDS: dict[bytes, CommandSpec] = {}  # top-level commands by lowercase and uppercase name
_ALL: dict[str, CommandSpec] = {}  # every command and subcommand by full name
_next_id = 0


def command(
    name: str,
    arity: int,
    flags: str = "",
    acl: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    keys_fn: Callable[[list[bytes]], list[int]] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a command (or ``container|sub``) and register its handler.

    ``acl`` lists categories as Redis does (``"@write @string @slow"``); ``keys`` is
    (first, last, step) as in COMMAND INFO; ``keys_fn`` returns key indexes for commands
    whose keys move (``movablekeys``).
    """

    def deco(fn: Handler) -> Handler:
        declare(name, arity, flags, acl, keys, keys_fn, fn)
        return fn

    return deco


def declare(
    name: str,
    arity: int,
    flags: str = "",
    acl: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    keys_fn: Callable[[list[bytes]], list[int]] | None = None,
    handler: Handler | None = None,
) -> CommandSpec:
    global _next_id
    fl = frozenset(flags.split())
    if keys_fn is not None:
        fl = fl | {"movablekeys"}
    spec = CommandSpec(
        name=name,
        handler=handler,
        arity=arity,
        flags=fl,
        acl=frozenset(a.lstrip("@") for a in acl.split()),
        first_key=keys[0],
        last_key=keys[1],
        step=keys[2],
        keys_fn=keys_fn,
    )
    spec.is_write = WRITE in fl
    spec.whole_keyspace = WHOLE_KEYSPACE in fl
    spec.is_fast_read = not spec.is_write and FAST in fl
    spec.write_gate = spec.is_write or DENYOOM in fl
    _next_id += 1
    spec.id = _next_id
    if "|" in name:
        parent_name, sub = name.split("|", 1)
        parent = _ALL.get(parent_name)
        if parent is None:
            raise RuntimeError(f"declare container {parent_name!r} before {name!r}")
        spec.parent = parent
        parent.subcommands[sub.encode()] = spec
        parent.subcommands[sub.upper().encode()] = spec
    else:
        if name in _ALL:
            raise RuntimeError(f"command {name!r} declared twice")
        COMMANDS[name.encode()] = spec
        COMMANDS[name.upper().encode()] = spec
    _ALL[name] = spec
    return spec


def container(name: str, arity: int = -2, acl: str = "@slow") -> CommandSpec:
    """Declare a container command (CONFIG, CLIENT ...) whose subcommands are declared next."""
    return declare(name, arity, "", acl)


def lookup(argv0: bytes) -> CommandSpec | None:
    spec = COMMANDS.get(argv0)
    if spec is None:
        spec = COMMANDS.get(argv0.lower())
    return spec


def all_commands() -> dict[str, CommandSpec]:
    return _ALL


def top_level() -> list[CommandSpec]:
    return [s for n, s in _ALL.items() if "|" not in n]


_REFERENCE: dict[str, Any] | None = None


def reference(name: str) -> dict[str, Any]:
    """Redis's documentation facts for a command (empty for durakv-only commands)."""
    global _REFERENCE
    if _REFERENCE is None:
        _REFERENCE = json.loads((Path(__file__).parent / "reference.json").read_text())
    return _REFERENCE.get(name, {})


def load_all() -> None:
    """Import every handler module so that all declarations are registered."""
    from .. import commands  # noqa: F401  (the package imports its modules)
