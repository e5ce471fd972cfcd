"""Configuration parameters: one table, parsing of config files and ``--name value`` args.

Each :class:`Param` knows its type, default, whether CONFIG SET may change it, and how
CONFIG GET renders it.  Subsystems register an ``on_change`` hook through
:meth:`Config.watch` instead of the table importing them.
"""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CommandError

_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
    "g": 1000**3, "gb": 1024**3,
}


def parse_memory(text: str) -> int:
    t = text.strip().lower()
    i = len(t)
    while i > 0 and t[i - 1].isalpha():
        i -= 1
    num, unit = t[:i], t[i:]
    if unit not in _UNITS or not num or not (num.isdigit() or (num[0] == "-" and num[1:].isdigit())):
        raise ValueError(text)
    return int(num) * _UNITS[unit]


def parse_bool(text: str) -> bool:
    t = text.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ValueError(text)


@dataclass
class Param:
    name: str
    kind: str  # int | memory | bool | enum | string | float | special
    default: Any
    mutable: bool = True
    enum: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    multi: bool = False  # enum that takes several space-separated values (none allowed)
    # custom parser installed by a subsystem (e.g. notify-keyspace-events by durakv.pubsub);
    # raises ValueError with Redis's reason text
    parser: Callable[[str], Any] | None = None

    def parse(self, text: str) -> Any:
        if self.parser is not None:
            return self.parser(text)
        k = self.kind
        if k == "int":
            try:
                v: Any = int(text)
            except ValueError:
                try:
                    v = parse_memory(text)
                except ValueError:
                    raise ValueError("argument couldn't be parsed into an integer") from None
        elif k == "memory":
            try:
                v = parse_memory(text)
            except ValueError:
                raise ValueError("argument must be a memory value") from None
        elif k == "float":
            v = float(text)
        elif k == "bool":
            try:
                v = parse_bool(text)
            except ValueError:
                raise ValueError("argument must be 'yes' or 'no'") from None
        elif k == "enum":
            if self.multi:
                words = text.lower().split()
                for w in words:
                    if w not in self.enum:
                        raise ValueError("argument(s) must be one of the following: " + ", ".join(self.enum))
                return " ".join(words)
            t = text.lower()
            if t not in self.enum:
                raise ValueError("argument(s) must be one of the following: " + ", ".join(self.enum))
            v = t
        else:
            v = text
        if k in ("int", "memory", "float"):
            if self.minimum is not None and v < self.minimum or self.maximum is not None and v > self.maximum:
                raise ValueError(
                    "argument must be between %d and %d inclusive" % (self.minimum or 0, self.maximum or 0)
                )
        return v

    def render(self, v: Any) -> str:
        if self.kind == "bool":
            return "yes" if v else "no"
        if self.kind == "float":
            return "%g" % v
        return str(v)


GiB = 1024**3
_P = Param
PARAMS: list[Param] = [
    _P("port", "int", 6379, mutable=False, minimum=0, maximum=65535),
    _P("bind", "string", "127.0.0.1", mutable=False),
    _P("dir", "string", ".", mutable=True),
    _P("dbfilename", "string", "dump.rdb"),
    _P("databases", "int", 16, mutable=False, minimum=1, maximum=2**31 - 1),
    _P("maxclients", "int", 10000, minimum=1),
    _P("timeout", "int", 0, minimum=0),
    _P("tcp-keepalive", "int", 300, minimum=0),
    _P("tcp-backlog", "int", 511, mutable=False),
    _P("requirepass", "string", ""),
    _P("maxmemory", "memory", 0, minimum=0),
    _P("maxmemory-policy", "enum", "noeviction", enum=(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
        "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
    _P("maxmemory-samples", "int", 5, minimum=1, maximum=64),
    _P("maxmemory-eviction-tenacity", "int", 10, minimum=0, maximum=100),
    _P("lfu-log-factor", "int", 10, minimum=0),
    _P("lfu-decay-time", "int", 1, minimum=0),
    _P("active-expire-effort", "int", 1, minimum=1, maximum=10),
    _P("hz", "int", 10, minimum=1, maximum=500),
    _P("dynamic-hz", "bool", True),
    _P("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024),
    _P("client-query-buffer-limit", "memory", GiB, minimum=1024 * 1024),
    _P("client-output-buffer-limit", "special",
       "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    _P("appendonly", "bool", True),
    _P("appendfsync", "enum", "always", enum=("always", "everysec", "no")),
    _P("appendfilename", "string", "appendonly.aof", mutable=False),
    _P("appenddirname", "string", "appendonlydir", mutable=False),
    _P("save", "string", ""),
    _P("auto-snapshot-log-bytes", "memory", 64 * 1024 * 1024, minimum=0),
    _P("log", "string", "", mutable=False),
    _P("shard", "int", 0, mutable=False),
    _P("rdbcompression", "bool", True),
    _P("rdbchecksum", "bool", True),
    _P("stop-writes-on-bgsave-error", "bool", True),
    _P("slowlog-log-slower-than", "int", 10000),
    _P("slowlog-max-len", "int", 128, minimum=0),
    _P("latency-monitor-threshold", "int", 0, minimum=0),
    _P("latency-tracking", "bool", True),
    _P("latency-tracking-info-percentiles", "string", "50 99 99.9"),
    _P("notify-keyspace-events", "string", ""),
    _P("loglevel", "enum", "notice", enum=("debug", "verbose", "notice", "warning", "nothing")),
    _P("logfile", "string", "", mutable=False),
    _P("daemonize", "bool", False, mutable=False),
    _P("pidfile", "string", "", mutable=False),
    _P("protected-mode", "bool", True),
    _P("io-threads", "int", 1, mutable=False),
    _P("lazyfree-lazy-eviction", "bool", False),
    _P("lazyfree-lazy-expire", "bool", False),
    _P("lazyfree-lazy-server-del", "bool", False),
    _P("lazyfree-lazy-user-del", "bool", False),
    _P("lazyfree-lazy-user-flush", "bool", False),
    _P("hash-max-listpack-entries", "int", 128, aliases=("hash-max-ziplist-entries",), minimum=0),
    _P("hash-max-listpack-value", "int", 64, aliases=("hash-max-ziplist-value",), minimum=0),
    _P("list-max-listpack-size", "int", -2, aliases=("list-max-ziplist-size",)),
    _P("list-compress-depth", "int", 0, minimum=0),
    _P("set-max-intset-entries", "int", 512, minimum=0),
    _P("zset-max-listpack-entries", "int", 128, aliases=("zset-max-ziplist-entries",), minimum=0),
    _P("zset-max-listpack-value", "int", 64, aliases=("zset-max-ziplist-value",), minimum=0),
    _P("stream-node-max-bytes", "memory", 4096, minimum=0),
    _P("stream-node-max-entries", "int", 100, minimum=0),
    _P("hll-sparse-max-bytes", "memory", 3000, minimum=0),
    _P("activerehashing", "bool", True),
    _P("lua-time-limit", "int", 5000, aliases=("busy-reply-threshold",)),
    _P("replica-read-only", "bool", True, aliases=("slave-read-only",)),
    _P("replica-serve-stale-data", "bool", True, aliases=("slave-serve-stale-data",)),
    _P("cluster-enabled", "bool", False, mutable=False),
    _P("tls-port", "int", 0, mutable=False),
    _P("tls-cert-file", "string", ""),
    _P("tls-key-file", "string", ""),
    _P("tls-ca-cert-file", "string", ""),
    _P("tls-auth-clients", "enum", "yes", enum=("yes", "no", "optional")),
    _P("aclfile", "string", "", mutable=False),
    _P("acllog-max-len", "int", 128, minimum=0),
    _P("enable-debug-command", "enum", "yes", enum=("yes", "no", "local"), mutable=False),
    _P("enable-protected-configs", "enum", "no", enum=("yes", "no", "local"), mutable=False),
    _P("supervised", "enum", "no", enum=("upstart", "systemd", "auto", "no"), mutable=False),
    _P("lease-ms", "int", 2000, mutable=False, minimum=100),
]


class Config:
    """Current values of every parameter, with change hooks."""

    def __init__(self) -> None:
        self.params: dict[str, Param] = {}
        self.values: dict[str, Any] = {}
        self._hooks: dict[str, list[Callable[[Any], None]]] = {}
        for p in PARAMS:
            self.params[p.name] = p
            for a in p.aliases:
                self.params[a] = p
            self.values[p.name] = p.default

    def __getitem__(self, name: str) -> Any:
        return self.values[self.params[name].name]

    def watch(self, name: str, hook: Callable[[Any], None]) -> None:
        self._hooks.setdefault(self.params[name].name, []).append(hook)

    def set_from_text(self, name: str, text: str, *, startup: bool = False) -> None:
        p = self.params.get(name.lower())
        if p is None:
            raise KeyError(name)
        if not p.mutable and not startup:
            raise PermissionError(name)
        v = p.parse(text)
        self.values[p.name] = v
        for h in self._hooks.get(p.name, ()):
            h(v)

    def get_matching(self, pattern: str) -> list[tuple[str, str]]:
        out = []
        seen = set()
        pat = pattern.lower()
        for name, p in self.params.items():
            if fnmatch.fnmatchcase(name, pat) and name not in seen:
                seen.add(name)
                v = self.values[p.name]
                out.append((name, p.render(v)))
        return out

    def rewrite_lines(self) -> list[str]:
        lines = []
        for p in PARAMS:
            v = self.values[p.name]
            if v != p.default:
                text = p.render(v)
                lines.append(f"{p.name} {shlex.quote(text) if (' ' in text or not text) else text}")
        return lines


def parse_args(argv: list[str]) -> tuple[str | None, list[tuple[str, str]]]:
    """redis-server style: ``[configfile] [--name value ...]``; returns (file, pairs)."""
    cfile = None
    pairs: list[tuple[str, str]] = []
    i = 0
    if argv and not argv[0].startswith("--"):
        cfile = argv[0]
        i = 1
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            raise SystemExit(f"Invalid argument '{a}'")
        name = a[2:]
        vals: list[str] = []
        i += 1
        while i < len(argv) and not argv[i].startswith("--"):
            vals.append(argv[i])
            i += 1
        pairs.append((name, " ".join(vals)))
    return cfile, pairs


def parse_file(text: str) -> list[tuple[str, str]]:
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = shlex.split(line)
        pairs.append((parts[0], " ".join(parts[1:])))
    return pairs


@dataclass
class ConfigError(Exception):
    msg: str
    extra: list[str] = field(default_factory=list)


def raise_config_set(msg: str) -> None:
    raise CommandError(msg)
