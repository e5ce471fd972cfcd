"""Configuration parameters: one table, parsing of config files and ``--name value`` args.

Each :class:`Param` knows its type, default, whether CONFIG SET may change it, and how
CONFIG GET renders it.  Subsystems register an ``on_change`` hook through
:meth:`Config.watch` instead of the table importing them.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CommandError

_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
    "g": 1000**3, "gb": 1024**3,
}


def memtoull(text: str) -> int | None:
    """Redis's memtoull: digits then an optional unit (b k kb m mb g gb, any case); None on
    error.  No sign, no spaces; strtoull saturates and the multiplication wraps at 2**64."""
    if text.startswith("-"):
        return None
    i = 0
    n = len(text)
    while i < n and "0" <= text[i] <= "9":
        i += 1
    unit = text[i:]
    mul = _UNITS.get(unit.lower()) if unit.isascii() else None
    if mul is None or i >= 128:
        return None
    v = int(text[:i]) if i else 0
    v = min(v, (1 << 64) - 1)
    return (v * mul) & ((1 << 64) - 1)


def parse_memory(text: str) -> int:
    """A memory value (config files, DEBUG ...): memtoull, ValueError when it is not one."""
    v = memtoull(text)
    if v is None:
        raise ValueError(text)
    return v


def _strtoll(t: str) -> tuple[int, str]:
    """C strtoll(t, &end, 10): (value saturated to 64 bits, rest of the string)."""
    m = re.match(r"[ \t\n\v\f\r]*([-+]?)([0-9]+)", t)
    if m is None:
        return 0, t
    v = int(m.group(2))
    v = -v if m.group(1) == "-" else v
    return max(-(1 << 63), min(v, (1 << 63) - 1)), t[m.end():]


def _to_int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _split_args(text: str) -> list[str]:
    """CONFIG SET of a multi-argument config: sdssplitlen(value, " ") (no argument for "")."""
    return text.split(" ") if text else []


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
    protected: bool = False  # CONFIG SET refused unless enable-protected-configs (dir, dbfilename)
    hidden: bool = False  # Redis's HIDDEN_CONFIG: CONFIG GET shows it for its exact name only

    def parse(self, text: str) -> Any:
        if self.parser is not None:
            return self.parser(text)
        k = self.kind
        if k in ("int", "memory", "percent"):
            v: Any = self._parse_numeric(text)
            if isinstance(v, str):  # a percentage
                return v
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
        elif k == "special":
            return _SPECIAL_PARSERS.get(self.name, _parse_any)(text)
        else:
            v = text
        if k == "float":
            if self.minimum is not None and v < self.minimum or self.maximum is not None and v > self.maximum:
                raise ValueError(
                    "argument must be between %d and %d inclusive" % (self.minimum or 0, self.maximum or 0)
                )
        if self.name == "hz":  # Redis clamps hz into 1..500 instead of refusing
            v = min(max(v, 1), 500)
        elif self.name == "repl-backlog-size" and v < 16384:  # CONFIG_REPL_BACKLOG_MIN_SIZE
            v = 16384
        check = _VALIDATORS.get(self.name)
        if check is not None:
            check(v)
        return v

    def _parse_numeric(self, text: str) -> int | str:
        """Redis's numericParseString + numericBoundaryCheck: memory values through memtoull
        (cast to long long), percentages stored as text ("10%"), plain integers through
        string2ll; bounds compared unsigned for the unsigned C types."""
        k = self.kind
        v: int | None = None
        if k in ("memory", "percent"):
            m = memtoull(text)
            if m is not None:
                v = m - (1 << 64) if m >= 1 << 63 else m
        if v is None and k == "percent" and len(text) > 1 and text.endswith("%") and _is_ll(text[:-1]) \
                and int(text[:-1]) >= 0:
            v = -int(text[:-1])
        if v is None and k == "int" and _is_ll(text):
            v = int(text)
        if v is None:
            if k == "percent":
                raise ValueError("argument must be a memory or percent value")
            if k == "memory":
                raise ValueError("argument must be a memory value")
            raise ValueError("argument couldn't be parsed into an integer")
        lo = int(self.minimum) if self.minimum is not None else -(1 << 63)
        hi = int(self.maximum) if self.maximum is not None else (1 << 63) - 1
        if self.name in _UNSIGNED:
            u = v & ((1 << 64) - 1)
            if u > hi or u < lo:
                raise ValueError("argument must be between %d and %d inclusive" % (lo, hi))
            return u
        if k == "percent" and v < 0:
            if v < -100:
                raise ValueError("percentage argument must be less or equal to 100")
            return "%d%%" % -v
        if v > hi or v < lo:
            raise ValueError("argument must be between %d and %d inclusive" % (lo, hi))
        return v

    def render(self, v: Any) -> str:
        if self.kind == "bool":
            return "yes" if v else "no"
        if self.kind == "float":
            return "%g" % v
        return str(v)


# configs whose C type is unsigned (numericBoundaryCheck compares them as unsigned)
_UNSIGNED = frozenset({
    "maxclients", "socket-mark-id", "unixsocketperm", "maxmemory", "cluster-link-sendbuf-limit",
    "hash-max-listpack-entries", "set-max-intset-entries", "zset-max-listpack-entries",
    "active-defrag-ignore-bytes", "hash-max-listpack-value", "stream-node-max-bytes",
    "zset-max-listpack-value", "hll-sparse-max-bytes", "tracking-table-max-keys",
    "client-query-buffer-limit",
})


def _is_ll(t: str) -> bool:
    """Redis's string2ll: optional '-', digits, no leading zeros, no spaces, 64-bit range."""
    if not t or len(t) > 20:
        return False
    d = t[1:] if t[0] == "-" else t
    if not d or not d.isascii() or not d.isdigit() or (len(d) > 1 and d[0] == "0") or (t[0] == "-" and d == "0"):
        return False
    return -(2**63) <= int(t) <= 2**63 - 1


def _parse_any(text: str) -> str:
    return text


def _parse_obuf(text: str) -> dict[str, tuple[int, int, int]]:
    """client-output-buffer-limit '<class> <hard> <soft> <seconds> ...': the classes given
    (Redis's setConfigClientOutputBufferLimitOption over the space-split value)."""
    words = _split_args(text)
    if len(words) % 4:
        raise ValueError("Wrong number of arguments in buffer limit configuration.")
    out: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(words), 4):
        cls = words[i].lower()
        if cls == "replica":
            cls = "slave"
        if cls not in ("normal", "slave", "pubsub"):
            raise ValueError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(words[i + 1]), memtoull(words[i + 2])
        secs, rest = _strtoll(words[i + 3])
        secs = _to_int32(secs)
        if hard is None or soft is None or secs < 0 or rest:
            raise ValueError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        out[cls] = (hard, soft, secs)
    return out


def obuf_limits(text: str) -> dict[str, tuple[int, int, int]]:
    """client-output-buffer-limit as {class: (hard, soft, soft_seconds)}."""
    w = text.split()
    return {w[i]: (int(w[i + 1]), int(w[i + 2]), int(w[i + 3])) for i in range(0, len(w), 4)}


def _parse_save(text: str) -> str:
    """Redis's setConfigSaveOption over the space-split value: "<seconds> <changes> ..."."""
    words = _split_args(text)
    if words == [""]:
        words = []
    if len(words) % 2:
        raise ValueError("Invalid save parameters")
    vals = []
    for j, w in enumerate(words):
        v, rest = _strtoll(w)
        if rest or (j % 2 == 0 and v < 1) or (j % 2 == 1 and v < 0):
            raise ValueError("Invalid save parameters")
        vals.append(v if j % 2 == 0 else _to_int32(v))
    return " ".join(str(v) for v in vals)


_NOTIFY_ORDER = "g$lshzxetd"


def _parse_notify(text: str) -> str:
    flags = set()
    for ch in text:
        if ch == "A":
            flags.update(_NOTIFY_ORDER)
        elif ch in "g$lshzxetdnmKE":
            flags.add(ch)
        else:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    if all(f in flags for f in _NOTIFY_ORDER):
        out = "A"
    else:
        out = "".join(f for f in _NOTIFY_ORDER if f in flags)
    if "n" in flags and out != "A":
        out += "n"
    elif "n" in flags:
        out += "n"
    return out + "".join(f for f in "KEm" if f in flags)


def _parse_oom_adj(text: str) -> str:
    words = _split_args(text)
    if len(words) != 3:
        raise ValueError("wrong number of arguments")
    vals = []
    for w in words:
        v, rest = _strtoll(w)
        if rest or not -2000 <= v <= 2000:
            raise ValueError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
        vals.append(v)
    return " ".join(str(v) for v in vals)


def _string2d(t: str) -> float | None:
    """Redis's string2d: strtod of the whole string, no leading space, not NaN."""
    if not t or t[0] in " \t\n\v\f\r":
        return None
    try:
        f = float.fromhex(t) if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*([pP][-+]?\d+)?", t) else float(t)
    except ValueError:
        return None
    if not re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|0[xX].*)", t, re.I):
        return None
    return None if f != f else f


def _parse_percentiles(text: str) -> str:
    out = []
    for w in _split_args(text):
        f = _string2d(w)
        if f is None:
            raise ValueError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= f <= 100.0:
            raise ValueError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        out.append(("%f" % f).rstrip("0").rstrip("."))
    return " ".join(out)


def _parse_hostname(text: str) -> str:
    if not all(ch.isascii() and (ch.isalnum() or ch in "-.") for ch in text):
        raise ValueError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return text


_TITLE_VARS = {"title", "listen-addr", "server-mode", "port", "tls-port", "unixsocket", "config-file"}


def _check_title_template(v: str) -> None:
    ok = bool(v)
    i = 0
    while ok and i < len(v):
        if v[i] == "{":
            j = v.find("}", i)
            ok = j > 0 and v[i + 1 : j] in _TITLE_VARS
            i = j + 1
        elif v[i] == "}":
            ok = False
        else:
            i += 1
    if ok and not v.replace("{title}", "").strip(" "):
        ok = False  # expands to nothing when the title is empty
    if not ok:
        raise ValueError("template format is invalid or contains unknown variables")


def _no_defrag(v: Any) -> None:
    if v:
        raise ValueError("Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
                         "modified Jemalloc like the one shipped by default with the Redis source distribution")


def _no_tls(v: Any) -> None:
    if v:
        raise ValueError("Unable to update TLS configuration. Check server logs.")


# extra checks after parsing (Redis's apply/validation functions that durakv can refuse early)
_VALIDATORS: dict[str, Callable[[Any], None]] = {
    "proc-title-template": _check_title_template,
    "activedefrag": _no_defrag,
    "tls-cluster": _no_tls,
    "tls-replication": _no_tls,
}


_SPECIAL_PARSERS: dict[str, Callable[[str], Any]] = {
    "client-output-buffer-limit": _parse_obuf,
    "save": _parse_save,
    "notify-keyspace-events": _parse_notify,
    "oom-score-adj-values": _parse_oom_adj,
    "latency-tracking-info-percentiles": _parse_percentiles,
    "cluster-announce-hostname": _parse_hostname,
}


GiB = 1024**3
_P = Param
PARAMS: list[Param] = [
    # Redis 7.0.15's parameters with its defaults and bounds (CONFIG GET * / CONFIG SET errors
    # of the real server).  Deviations: port/bind are immutable (no live rebind); appendonly
    # yes + appendfsync always (durakv is durable by default); save "" (snapshots are taken
    # off the serving node, see DESIGN.md); dir "." (the server chdirs into --dir).
    # Most other parameters are accepted and shown but have no effect (active defrag, TLS
    # session cache, cluster announce ..., io-threads, jemalloc-bg-thread, lazyfree-*).
    _P('acl-pubsub-default', 'enum', 'resetchannels', enum=('allchannels', 'resetchannels')),
    _P('aclfile', 'string', '', mutable=False),
    _P('acllog-max-len', 'int', 128, minimum=0, maximum=9223372036854775807),
    _P('active-defrag-cycle-max', 'int', 25, minimum=1, maximum=99),
    _P('active-defrag-cycle-min', 'int', 1, minimum=1, maximum=99),
    _P('active-defrag-ignore-bytes', 'memory', 104857600, minimum=1, maximum=9223372036854775807),
    _P('active-defrag-max-scan-fields', 'int', 1000, minimum=1, maximum=9223372036854775807),
    _P('active-defrag-threshold-lower', 'int', 10, minimum=0, maximum=1000),
    _P('active-defrag-threshold-upper', 'int', 100, minimum=0, maximum=1000),
    _P('active-expire-effort', 'int', 1, minimum=1, maximum=10),
    _P('activedefrag', 'bool', False),
    _P('activerehashing', 'bool', True),
    _P('always-show-logo', 'bool', False, mutable=False),
    _P('aof-disable-auto-gc', 'bool', False),
    _P('aof-load-truncated', 'bool', True),
    _P('aof-rewrite-incremental-fsync', 'bool', True),
    _P('aof-timestamp-enabled', 'bool', False),
    _P('aof-use-rdb-preamble', 'bool', True),
    _P('aof_rewrite_cpulist', 'string', '', mutable=False),
    _P('appenddirname', 'string', 'appendonlydir', mutable=False),
    _P('appendfilename', 'string', 'appendonly.aof', mutable=False),
    _P('appendfsync', 'enum', 'always', enum=('everysec', 'always', 'no')),
    _P('appendonly', 'bool', True),
    _P('auto-aof-rewrite-min-size', 'memory', 67108864, minimum=0, maximum=9223372036854775807),
    _P('auto-aof-rewrite-percentage', 'int', 100, minimum=0, maximum=2147483647),
    _P('bgsave_cpulist', 'string', '', mutable=False),
    _P('bind', 'string', '127.0.0.1'),
    _P('bind-source-addr', 'string', ''),
    _P('bio_cpulist', 'string', '', mutable=False),
    _P('busy-reply-threshold', 'int', 5000, minimum=0, maximum=9223372036854775807, aliases=('lua-time-limit',)),
    _P('client-output-buffer-limit', 'special', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'),
    _P('client-query-buffer-limit', 'memory', 1073741824, minimum=1048576, maximum=9223372036854775807),
    _P('cluster-allow-pubsubshard-when-down', 'bool', True),
    _P('cluster-allow-reads-when-down', 'bool', False),
    _P('cluster-allow-replica-migration', 'bool', True),
    _P('cluster-announce-bus-port', 'int', 0, minimum=0, maximum=65535),
    _P('cluster-announce-hostname', 'special', ''),
    _P('cluster-announce-ip', 'string', ''),
    _P('cluster-announce-port', 'int', 0, minimum=0, maximum=65535),
    _P('cluster-announce-tls-port', 'int', 0, minimum=0, maximum=65535),
    _P('cluster-config-file', 'string', 'nodes.conf', mutable=False),
    _P('cluster-enabled', 'bool', False, mutable=False),
    _P('cluster-link-sendbuf-limit', 'memory', 0, minimum=0, maximum=18446744073709551615),
    _P('cluster-migration-barrier', 'int', 1, minimum=0, maximum=2147483647),
    _P('cluster-node-timeout', 'int', 15000, minimum=0, maximum=9223372036854775807),
    _P('cluster-port', 'int', 0, mutable=False),
    _P('cluster-preferred-endpoint-type', 'enum', 'ip', enum=('ip', 'hostname', 'unknown-endpoint')),
    _P('cluster-replica-no-failover', 'bool', False, aliases=('cluster-slave-no-failover',)),
    _P('cluster-replica-validity-factor', 'int', 10, minimum=0, maximum=2147483647, aliases=('cluster-slave-validity-factor',)),
    _P('cluster-require-full-coverage', 'bool', True),
    _P('crash-log-enabled', 'bool', True),
    _P('crash-memcheck-enabled', 'bool', True),
    _P('daemonize', 'bool', False, mutable=False),
    _P('databases', 'int', 16, mutable=False),
    _P('dbfilename', 'string', 'dump.rdb', protected=True),
    _P('dir', 'string', '.', protected=True),
    _P('disable-thp', 'bool', True, mutable=False),
    _P('dynamic-hz', 'bool', True),
    _P('enable-debug-command', 'enum', 'no', mutable=False, enum=('yes', 'no', 'local')),
    _P('enable-module-command', 'enum', 'no', mutable=False, enum=('yes', 'no', 'local')),
    _P('enable-protected-configs', 'enum', 'no', mutable=False, enum=('yes', 'no', 'local')),
    _P('hash-max-listpack-entries', 'int', 512, minimum=0, maximum=9223372036854775807, aliases=('hash-max-ziplist-entries',)),
    _P('hash-max-listpack-value', 'memory', 64, minimum=0, maximum=9223372036854775807, aliases=('hash-max-ziplist-value',)),
    _P('hll-sparse-max-bytes', 'memory', 3000, minimum=0, maximum=9223372036854775807),
    _P('hz', 'int', 10, minimum=0, maximum=2147483647),
    _P('ignore-warnings', 'string', ''),
    _P('io-threads', 'int', 1, mutable=False),
    _P('io-threads-do-reads', 'bool', False, mutable=False),
    _P('jemalloc-bg-thread', 'bool', True),
    _P('key-load-delay', 'int', 0, minimum=-2147483648, maximum=2147483647, hidden=True),
    _P('latency-monitor-threshold', 'int', 0, minimum=0, maximum=9223372036854775807),
    _P('latency-tracking', 'bool', True),
    _P('latency-tracking-info-percentiles', 'special', '50 99 99.9'),
    _P('lazyfree-lazy-eviction', 'bool', False),
    _P('lazyfree-lazy-expire', 'bool', False),
    _P('lazyfree-lazy-server-del', 'bool', False),
    _P('lazyfree-lazy-user-del', 'bool', False),
    _P('lazyfree-lazy-user-flush', 'bool', False),
    _P('lfu-decay-time', 'int', 1, minimum=0, maximum=2147483647),
    _P('loading-process-events-interval-bytes', 'int', 2097152, minimum=1024, maximum=2147483647, hidden=True),
    _P('lfu-log-factor', 'int', 10, minimum=0, maximum=2147483647),
    _P('list-compress-depth', 'int', 0, minimum=0, maximum=2147483647),
    _P('list-max-listpack-size', 'int', -2, minimum=-2147483648, maximum=2147483647, aliases=('list-max-ziplist-size',)),
    _P('logfile', 'string', '', mutable=False),
    _P('loglevel', 'enum', 'notice', enum=('debug', 'verbose', 'notice', 'warning')),
    _P('masterauth', 'string', ''),
    _P('masteruser', 'string', ''),
    _P('maxclients', 'int', 10000, minimum=1, maximum=4294967295),
    _P('maxmemory', 'memory', 0, minimum=0, maximum=18446744073709551615),
    _P('maxmemory-clients', 'percent', 0, minimum=0, maximum=18446744073709551615),
    _P('maxmemory-eviction-tenacity', 'int', 10, minimum=0, maximum=100),
    _P('maxmemory-policy', 'enum', 'noeviction', enum=('volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction')),
    _P('maxmemory-samples', 'int', 5, minimum=1, maximum=2147483647),
    _P('min-replicas-max-lag', 'int', 10, minimum=0, maximum=2147483647, aliases=('min-slaves-max-lag',)),
    _P('min-replicas-to-write', 'int', 0, minimum=0, maximum=2147483647, aliases=('min-slaves-to-write',)),
    _P('no-appendfsync-on-rewrite', 'bool', False),
    _P('notify-keyspace-events', 'special', ''),
    _P('oom-score-adj', 'enum', 'no', enum=('no', 'yes', 'relative', 'absolute')),
    _P('oom-score-adj-values', 'special', '0 200 800'),
    _P('pidfile', 'string', '', mutable=False),
    _P('port', 'int', 6379, minimum=0, maximum=65535),
    _P('proc-title-template', 'string', '{title} {listen-addr} {server-mode}'),
    _P('propagation-error-behavior', 'enum', 'ignore', enum=('ignore', 'panic', 'panic-on-replicas')),
    _P('protected-mode', 'bool', True),
    _P('proto-max-bulk-len', 'memory', 536870912, minimum=1048576, maximum=9223372036854775807),
    _P('rdb-del-sync-files', 'bool', False),
    _P('rdb-save-incremental-fsync', 'bool', True),
    _P('rdb-key-save-delay', 'int', 0, minimum=-2147483648, maximum=2147483647, hidden=True),
    _P('rdbchecksum', 'bool', True, mutable=False),
    _P('rdbcompression', 'bool', True),
    _P('repl-backlog-size', 'memory', 1048576, minimum=1, maximum=9223372036854775807),
    _P('repl-backlog-ttl', 'int', 3600, minimum=0, maximum=9223372036854775807),
    _P('repl-disable-tcp-nodelay', 'bool', False),
    _P('repl-diskless-load', 'enum', 'disabled', enum=('disabled', 'on-empty-db', 'swapdb')),
    _P('repl-diskless-sync', 'bool', True),
    _P('repl-diskless-sync-delay', 'int', 5, minimum=0, maximum=2147483647),
    _P('repl-diskless-sync-max-replicas', 'int', 0, minimum=0, maximum=2147483647),
    _P('repl-ping-replica-period', 'int', 10, minimum=1, maximum=2147483647, aliases=('repl-ping-slave-period',)),
    _P('repl-timeout', 'int', 60, minimum=1, maximum=2147483647),
    _P('replica-announce-ip', 'string', '', aliases=('slave-announce-ip',)),
    _P('replica-announce-port', 'int', 0, minimum=0, maximum=65535, aliases=('slave-announce-port',)),
    _P('replica-announced', 'bool', True),
    _P('replica-ignore-disk-write-errors', 'bool', False),
    _P('replica-ignore-maxmemory', 'bool', True, aliases=('slave-ignore-maxmemory',)),
    _P('replica-lazy-flush', 'bool', False, aliases=('slave-lazy-flush',)),
    _P('replica-priority', 'int', 100, minimum=0, maximum=2147483647, aliases=('slave-priority',)),
    _P('replica-read-only', 'bool', True, aliases=('slave-read-only',)),
    _P('replica-serve-stale-data', 'bool', True, aliases=('slave-serve-stale-data',)),
    _P('replicaof', 'string', '', mutable=False, aliases=('slaveof',)),
    _P('requirepass', 'string', ''),
    _P('sanitize-dump-payload', 'enum', 'no', enum=('no', 'yes', 'clients')),
    _P('save', 'special', ''),
    _P('server_cpulist', 'string', '', mutable=False),
    _P('set-max-intset-entries', 'int', 512, minimum=0, maximum=9223372036854775807),
    _P('set-proc-title', 'bool', True, mutable=False),
    _P('shutdown-on-sigint', 'enum', 'default', enum=('default', 'save', 'nosave', 'now', 'force')),
    _P('shutdown-on-sigterm', 'enum', 'default', enum=('default', 'save', 'nosave', 'now', 'force')),
    _P('shutdown-timeout', 'int', 10, minimum=0, maximum=2147483647),
    _P('slowlog-log-slower-than', 'int', 10000, minimum=-1, maximum=9223372036854775807),
    _P('slowlog-max-len', 'int', 128, minimum=0, maximum=9223372036854775807),
    _P('socket-mark-id', 'int', 0, mutable=False),
    _P('stop-writes-on-bgsave-error', 'bool', True),
    _P('stream-node-max-bytes', 'memory', 4096, minimum=0, maximum=9223372036854775807),
    _P('stream-node-max-entries', 'int', 100, minimum=0, maximum=9223372036854775807),
    _P('supervised', 'enum', 'no', mutable=False, enum=('upstart', 'systemd', 'auto', 'no')),
    _P('syslog-enabled', 'bool', False, mutable=False),
    _P('syslog-facility', 'string', 'local0', mutable=False),
    _P('syslog-ident', 'string', 'redis', mutable=False),
    _P('tcp-backlog', 'int', 511, mutable=False),
    _P('tcp-keepalive', 'int', 300, minimum=0, maximum=2147483647),
    _P('timeout', 'int', 0, minimum=0, maximum=2147483647),
    _P('tls-auth-clients', 'enum', 'yes', enum=('no', 'yes', 'optional')),
    _P('tls-ca-cert-dir', 'string', ''),
    _P('tls-ca-cert-file', 'string', ''),
    _P('tls-cert-file', 'string', ''),
    _P('tls-ciphers', 'string', ''),
    _P('tls-ciphersuites', 'string', ''),
    _P('tls-client-cert-file', 'string', ''),
    _P('tls-client-key-file', 'string', ''),
    _P('tls-client-key-file-pass', 'string', ''),
    _P('tls-cluster', 'bool', False),
    _P('tls-dh-params-file', 'string', ''),
    _P('tls-key-file', 'string', ''),
    _P('tls-key-file-pass', 'string', ''),
    _P('tls-port', 'int', 0, minimum=0, maximum=65535),
    _P('tls-prefer-server-ciphers', 'bool', False),
    _P('tls-protocols', 'string', ''),
    _P('tls-replication', 'bool', False),
    _P('tls-session-cache-size', 'int', 20480, minimum=0, maximum=2147483647),
    _P('tls-session-cache-timeout', 'int', 300, minimum=0, maximum=2147483647),
    _P('tls-session-caching', 'bool', True),
    _P('tracking-table-max-keys', 'int', 1000000, minimum=0, maximum=9223372036854775807),
    _P('unixsocket', 'string', '', mutable=False),
    _P('unixsocketperm', 'int', 0, mutable=False),
    _P('zset-max-listpack-entries', 'int', 128, minimum=0, maximum=9223372036854775807, aliases=('zset-max-ziplist-entries',)),
    _P('zset-max-listpack-value', 'memory', 64, minimum=0, maximum=9223372036854775807, aliases=('zset-max-ziplist-value',)),

    # durakv-only parameters; the start-up-only ones are hidden from CONFIG GET patterns (as
    # Redis hides its internal ones), so that tools which CONFIG SET every value CONFIG GET *
    # returned keep working
    _P("auto-snapshot-log-bytes", "memory", 64 * 1024 * 1024, minimum=0),
    _P("log", "string", "", mutable=False, hidden=True),
    _P("shard", "int", 0, mutable=False, hidden=True),
    _P("lease-ms", "int", 2000, mutable=False, minimum=100, hidden=True),
    _P("node-id", "string", "", mutable=False, hidden=True),  # replication: this node's id in the shard log
]


class Config:
    """Current values of every parameter, with change hooks."""

    def __init__(self) -> None:
        self.params: dict[str, Param] = {}
        self.values: dict[str, Any] = {}
        self._hooks: dict[str, list[Callable[[Any], None]]] = {}
        self.acl_user_lines: list[str] = []  # "user" directives (see set_from_text)
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
        if startup and name.lower() == "user":
            # "user <name> <rules...>" config-file directive: applied by the ACL subsystem at start
            self.acl_user_lines.append(text)
            return
        p = self.params.get(name.lower())
        if p is None:
            raise KeyError(name)
        if not p.mutable and not startup:
            raise PermissionError(name)
        self.set_value(p.name, p.parse(text))

    def set_value(self, name: str, v: Any) -> None:
        """Store an already parsed value (``Param.parse``) and run the change hooks."""
        p = self.params[name]
        if isinstance(v, dict) and p.name == "client-output-buffer-limit":
            cur = obuf_limits(self.values[p.name])
            cur.update(v)
            v = " ".join(f"{c} {h} {s} {t}" for c, (h, s, t) in cur.items())
        self.values[p.name] = v
        for h in self._hooks.get(p.name, ()):
            h(v)

    def get_matching(self, pattern: str) -> list[tuple[str, str]]:
        out = []
        seen = set()
        pat = pattern.lower()
        for name, p in self.params.items():
            if fnmatch.fnmatchcase(name, pat) and name not in seen and not p.hidden:
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
