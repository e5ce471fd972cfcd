"""Server commands: COMMAND, CONFIG, INFO, TIME, SLOWLOG, LATENCY, MONITOR, MEMORY, DEBUG, SHUTDOWN.

COMMAND * is rendered from the declarations in :mod:`durakv.spec` (arity, flags, ACL
categories, key positions) plus Redis's documentation facts from ``reference.json``
(key specs, tips, arguments, history), so that ``COMMAND INFO``/``COMMAND DOCS`` of every
command durakv implements equal real Redis 7.0's byte for byte.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from .. import errors, info, spec
from ..errors import CommandError
from ..protocol import resp
from ..protocol.resp import Resp2
from ..session import Session
from ..spec import CommandSpec, command, container

# --------------------------------------------------------------------------- helpers


def help_reply(argv0: bytes, lines: Iterable[str]) -> bytes:
    """Redis's addReplyHelp: status lines, first naming the command, HELP last."""
    out = [resp.simple("%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % argv0.decode("latin-1").upper())]
    out.extend(resp.simple(x) for x in lines)
    out.append(resp.simple("HELP"))
    out.append(resp.simple("    Prints this help."))
    return resp.array(out)


_glob_cache: dict[tuple[bytes, bool], re.Pattern[bytes]] = {}


def glob_match(pattern: bytes, s: bytes, nocase: bool = False) -> bool:
    """Redis's stringmatchlen: * ? [abc] [^a-z] and backslash escapes."""
    key = (pattern, nocase)
    rx = _glob_cache.get(key)
    if rx is None:
        out = []
        i, n = 0, len(pattern)
        while i < n:
            ch = pattern[i : i + 1]
            if ch == b"*":
                out.append(b".*")
            elif ch == b"?":
                out.append(b".")
            elif ch == b"\\" and i + 1 < n:
                i += 1
                out.append(re.escape(pattern[i : i + 1]))
            elif ch == b"[":
                j = i + 1
                neg = j < n and pattern[j : j + 1] == b"^"
                if neg:
                    j += 1
                items = []
                while j < n and pattern[j : j + 1] != b"]":
                    c = pattern[j : j + 1]
                    if c == b"\\" and j + 1 < n:
                        j += 1
                        items.append(re.escape(pattern[j : j + 1]))
                    elif j + 2 < n and pattern[j + 1 : j + 2] == b"-" and pattern[j + 2 : j + 3] != b"]":
                        a, b = pattern[j], pattern[j + 2]
                        if a > b:
                            a, b = b, a
                        items.append(re.escape(bytes([a])) + b"-" + re.escape(bytes([b])))
                        j += 2
                    else:
                        items.append(re.escape(c))
                    j += 1
                out.append(b"[" + (b"^" if neg else b"") + b"".join(items) + b"]" if items else (b"[^\\s\\S]" if not neg else b"."))
                i = j
            else:
                out.append(re.escape(ch))
            i += 1
        rx = re.compile(b"".join(out) + b"\\Z", re.S | (re.I if nocase else 0))
        if len(_glob_cache) > 1000:
            _glob_cache.clear()
        _glob_cache[key] = rx
    return rx.match(s) is not None


# --------------------------------------------------------------------------- COMMAND

_ACL_ORDER = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
]
# flags Redis 7.0 never shows in COMMAND INFO
_HIDDEN_FLAGS = frozenset({"may_replicate", "sentinel", "only_sentinel", "protected", "module_no_cluster"})
_KEY_FLAG_ORDER = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
                   "incomplete", "variable_flags"]


def _status_set(r: Resp2, items: Iterable[str]) -> bytes:
    lst = [resp.simple(x) for x in items]
    return r.set(lst)


def _render_json(r: Resp2, v: Any, key: str = "") -> bytes:
    """Render a reference.json fragment with the reply types Redis uses for it."""
    if isinstance(v, bool):
        return resp.integer(int(v))
    if isinstance(v, int):
        return resp.integer(v)
    if isinstance(v, str):
        return resp.bulk(v.encode())
    if isinstance(v, dict):
        return r.map([(resp.bulk(k.encode()), _render_json(r, x, k)) for k, x in v.items()])
    if isinstance(v, list):
        if key in ("flags", "doc_flags"):
            return _status_set(r, v)
        if key == "history":
            return r.set([resp.bulks([a.encode(), b.encode()]) for a, b in v])
        return resp.array([_render_json(r, x) for x in v])
    return r.null


def _sub_order(parent: CommandSpec) -> list[CommandSpec]:
    """Subcommands in Redis's order (reference.json keeps it), then durakv-only ones."""
    subs = {s.name: s for s in parent.subcommands.values()}
    out = []
    for n in _ref_order():
        if n.startswith(parent.name + "|") and n in subs:
            out.append(subs.pop(n))
    out.extend(sorted(subs.values(), key=lambda s: s.id))
    return out


def ordered_commands() -> list[CommandSpec]:
    top = {s.name: s for s in spec.top_level()}
    out = []
    for n in _ref_order():
        if n in top:
            out.append(top.pop(n))
    out.extend(sorted(top.values(), key=lambda s: s.id))
    return out


_info_cache: dict[tuple[str, int], bytes] = {}


def command_info(r: Resp2, s: CommandSpec) -> bytes:
    key = (s.name, r.version)
    cached = _info_cache.get(key)
    if cached is not None and not s.subcommands:
        return cached
    ref = spec.reference(s.name)
    acl = [a for a in _ACL_ORDER if a in s.acl] + sorted(a for a in s.acl if a not in _ACL_ORDER)
    parts = [
        resp.bulk(s.name.encode()),
        resp.integer(s.arity),
        _status_set(r, [f for f in s.public_flags() if f not in _HIDDEN_FLAGS]),
        resp.integer(s.first_key),
        resp.integer(s.last_key),
        resp.integer(s.step),
        _status_set(r, ["@" + a for a in acl]),
        r.set([resp.bulk(t.encode()) for t in ref.get("tips", [])]),
        r.set([_render_json(r, ks) for ks in ref.get("key_specs", [])]),
    ]
    if s.subcommands:
        parts.append(resp.array([command_info(r, sub) for sub in _sub_order(s)]))
    else:
        parts.append(r.set([]))
    out = resp.array(parts)
    _info_cache[key] = out
    return out


def command_docs(r: Resp2, s: CommandSpec) -> bytes:
    ref = spec.reference(s.name)
    pairs = []
    for k, v in ref.items():
        if k in ("key_specs", "tips"):
            continue
        pairs.append((resp.bulk(k.encode()), _render_json(r, v, k)))
    if not ref:
        pairs = [(resp.bulk(b"summary"), resp.bulk(b"")), (resp.bulk(b"since"), resp.bulk(b"")),
                 (resp.bulk(b"group"), resp.bulk(b"server")), (resp.bulk(b"complexity"), resp.bulk(b""))]
    if s.subcommands:
        subs = _sub_order(s)
        pairs.append((resp.bulk(b"subcommands"),
                      r.map([(resp.bulk(x.name.encode()), command_docs(r, x)) for x in subs])))
    return r.map(pairs)


def _lookup_full(names: list[bytes]) -> CommandSpec | None:
    s = spec.lookup(names[0])
    if s is None:
        return None
    if s.subcommands and len(names) >= 2:
        sub = s.subcommands.get(names[1]) or s.subcommands.get(names[1].lower())
        return sub
    return s


def _lookup_name(name: bytes) -> CommandSpec | None:
    """'get' or 'config|get' (COMMAND INFO/DOCS names)."""
    if b"|" in name:
        a, b = name.split(b"|", 1)
        s = spec.lookup(a)
        if s is None or not s.subcommands:
            return None
        return s.subcommands.get(b) or s.subcommands.get(b.lower())
    return spec.lookup(name)


spec.declare("command", -1, "loading stale", "@slow @connection")


@command("command|count", 2, "loading stale", "@slow @connection")
def command_count(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(len(spec.top_level()))


def command_all(c: Session, argv: list[bytes]) -> bytes:
    r = c.r
    cmds = ordered_commands()
    return resp.array([command_info(r, s) for s in cmds])


@command("command|info", -2, "loading stale", "@slow @connection")
def command_info_cmd(c: Session, argv: list[bytes]) -> bytes:
    r = c.r
    if len(argv) == 2:
        return command_all(c, argv)
    out = []
    for name in argv[2:]:
        s = _lookup_name(name)
        out.append(command_info(r, s) if s is not None else r.null)
    return resp.array(out)


@command("command|docs", -2, "loading stale", "@slow @connection")
def command_docs_cmd(c: Session, argv: list[bytes]) -> bytes:
    r = c.r
    if len(argv) == 2:
        specs = ordered_commands()
    else:
        specs = [s for s in (_lookup_name(n) for n in argv[2:]) if s is not None]
    return r.map([(resp.bulk(s.name.encode()), command_docs(r, s)) for s in specs])


def _acl_cats(s: CommandSpec) -> set[str]:
    return set(s.acl)


@command("command|list", -2, "loading stale", "@slow @connection")
def command_list(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) == 2:
        names = []
        for s in ordered_commands():
            names.append(s.name.encode())
            names.extend(sub.name.encode() for sub in _sub_order(s))
        return resp.bulks(names)
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(errors.SYNTAX)
    kind = argv[3].lower()
    arg = argv[4]
    if kind == b"module":
        return resp.EMPTY_ARRAY
    if kind == b"aclcat":
        cat = arg.decode("latin-1").lower()
        pred = lambda s: cat in s.acl  # noqa: E731
    elif kind == b"pattern":
        pred = lambda s: glob_match(arg, s.name.encode(), True)  # noqa: E731
    else:
        raise CommandError(errors.SYNTAX)
    out = []
    for s in ordered_commands():
        if pred(s):
            out.append(s.name.encode())
        for sub in _sub_order(s):
            if pred(sub):
                out.append(sub.name.encode())
    return resp.bulks(out)


def keys_with_specs(s: CommandSpec, args: list[bytes]) -> tuple[list[tuple[int, list[str]]], bool]:
    """Redis's getKeysFromCommandWithSpecs: [(index, key-spec flags)], ok."""
    ref = spec.reference(s.name)
    kss = ref.get("key_specs", [])
    has_var = any("variable_flags" in k.get("flags", []) or "incomplete" in k.get("flags", []) for k in kss)
    has_key = any("not_key" not in k.get("flags", []) for k in kss)
    if kss and has_key and not has_var and s.keys_fn is None:
        got = _keys_using_specs(kss, args)
        if got is not None:
            return got, True
    # the declaration's own key positions (Redis's getkeys_proc)
    flags_all: list[str] = []
    for k in kss:
        for f in k.get("flags", []):
            if f not in flags_all and f != "variable_flags":
                flags_all.append(f)
    try:
        pos = s.key_positions(args)
    except Exception:
        return [], False
    if len(kss) == 1:
        fl = kss[0].get("flags", [])
        return [(i, fl) for i in pos], bool(pos)
    # map positions onto specs when the specs can place them
    spec_keys = _keys_using_specs(kss, args, partial=True) or []
    by_pos = {i: f for i, f in spec_keys}
    return [(i, by_pos.get(i, kss[0].get("flags", []) if kss else [])) for i in pos], bool(pos)


def _keys_using_specs(kss: list[dict[str, Any]], argv: list[bytes], partial: bool = False) -> list[tuple[int, list[str]]] | None:
    argc = len(argv)
    out: list[tuple[int, list[str]]] = []
    for ks in kss:
        fl = ks.get("flags", [])
        bs = ks["begin_search"]
        fk = ks["find_keys"]
        first = 0
        if bs["type"] == "index":
            first = bs["spec"]["index"]
        elif bs["type"] == "keyword":
            kw = bs["spec"]["keyword"].encode().lower()
            sf = bs["spec"]["startfrom"]
            start = sf if sf > 0 else argc + sf
            end = argc - 1 if sf > 0 else 1
            i = start
            while True:
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
                if i == end:
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            if partial:
                continue
            return None
        if fk["type"] == "range":
            lastkey, step, limit = fk["spec"]["lastkey"], fk["spec"]["keystep"], fk["spec"]["limit"]
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif fk["type"] == "keynum":
            step = fk["spec"]["keystep"]
            idx = fk["spec"]["keynumidx"]
            if idx >= argc - first:
                if partial:
                    continue
                return None
            try:
                numkeys = int(argv[first + idx])
                if numkeys < 0 or not argv[first + idx].lstrip(b"-").isdigit():
                    raise ValueError
            except ValueError:
                if partial:
                    continue
                return None
            first += fk["spec"]["firstkey"]
            last = first + numkeys - 1
        else:
            if partial:
                continue
            return None
        if last >= argc or last < first or first >= argc:
            if partial:
                continue
            return None
        i = first
        while i <= last:
            out.append((i, fl))
            i += step
    return out


def _getkeys(c: Session, argv: list[bytes], with_flags: bool) -> bytes:
    args = argv[2:]
    s = _lookup_full(args)
    if s is None or (s.subcommands and len(args) >= 2):
        raise CommandError("ERR Invalid command specified")
    ref = spec.reference(s.name)
    if not ref.get("key_specs") and s.keys_fn is None and s.first_key == 0:
        raise CommandError("ERR The command has no key arguments")
    n = len(args)
    if (s.arity > 0 and s.arity != n) or n < -s.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    keys, _ = keys_with_specs(s, args)
    if not keys:
        if "no_mandatory_keys" in s.flags:
            return resp.EMPTY_ARRAY
        raise CommandError("ERR Invalid arguments specified for command")
    if not with_flags:
        return resp.bulks([args[i] for i, _ in keys])
    keys = [(i, _variable_key_flags(s.name, args, fl)) for i, fl in keys]
    r = c.r
    return resp.array([
        resp.array([resp.bulk(args[i]), _status_set(r, [f for f in _KEY_FLAG_ORDER if f in fl])])
        for i, fl in keys
    ])


def _variable_key_flags(name: str, args: list[bytes], fl: list[str]) -> list[str]:
    """Flags of commands whose key-spec flags depend on arguments (Redis's getkeys procs)."""
    if "variable_flags" not in fl:
        return fl
    if name == "set":
        return ["RW", "access", "update"] if any(a.lower() == b"get" for a in args[3:]) else ["OW", "update"]
    if name == "bitfield":
        ops = {a.lower() for a in args[2:]}
        return ["RW", "access", "update"] if ops & {b"set", b"incrby"} else ["RO", "access"]
    return [f for f in fl if f != "variable_flags"]


@command("command|getkeys", -4, "loading stale", "@slow @connection")
def command_getkeys(c: Session, argv: list[bytes]) -> bytes:
    return _getkeys(c, argv, False)


@command("command|getkeysandflags", -4, "loading stale", "@slow @connection")
def command_getkeysandflags(c: Session, argv: list[bytes]) -> bytes:
    return _getkeys(c, argv, True)


@command("command|help", 2, "loading stale", "@slow @connection")
def command_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP_COMMAND)


_REF_ORDER: list[str] = []


def _ref_order() -> list[str]:
    if not _REF_ORDER:
        spec.reference("get")
        _REF_ORDER.extend(spec._REFERENCE or {})  # noqa: SLF001  (key order = Redis's dict order)
    return _REF_ORDER


spec.lookup(b"command").handler = command_all  # type: ignore[union-attr]  # COMMAND alone


# --------------------------------------------------------------------------- CONFIG

container("config", -2, "@slow")


@command("config|get", -3, "admin noscript loading stale", "@admin @slow @dangerous")
def config_get(c: Session, argv: list[bytes]) -> bytes:
    cfg = c.srv.config
    found: dict[str, str] = {}
    for pat in argv[2:]:
        p = pat.decode("latin-1")
        if not any(ch in p for ch in "[*?"):
            param = cfg.params.get(p.lower())
            if param is not None and p not in found:
                found[p] = param.render(cfg.values[param.name])
            continue
        for name, param in cfg.params.items():
            if name not in found and glob_match(pat, name.encode(), True):
                found[name] = param.render(cfg.values[param.name])
    return c.r.map([(resp.bulk(k.encode("latin-1")), resp.bulk(v.encode("latin-1"))) for k, v in found.items()])


@command("config|set", -4, "admin noscript loading stale", "@admin @slow @dangerous")
def config_set(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) % 2:
        raise CommandError(errors.SYNTAX)
    cfg = c.srv.config
    unknown = None
    err: tuple[str, str] | None = None
    chosen: list[tuple[str, Any, bytes]] = []
    seen: set[str] = set()
    for i in range(2, len(argv), 2):
        name = argv[i].decode("latin-1")
        lname = name.lower()
        p = cfg.params.get(lname)
        if p is None:
            if err is None and unknown is None:
                unknown = name
            continue
        if err is not None or unknown is not None:
            continue
        if not p.mutable:
            err = (name, "can't set immutable config")
            continue
        if p.protected and cfg["enable-protected-configs"] == "no":
            err = (name, "can't set protected config")
            continue
        if lname in seen:
            err = (name, "duplicate parameter")
            continue
        seen.add(lname)
        chosen.append((lname, p, argv[i + 1]))
    if unknown is not None:
        raise CommandError("ERR Unknown option or number of arguments for CONFIG SET - '%s'" % unknown)
    if err is not None:
        raise CommandError("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % err)
    parsed = []
    for lname, p, raw in chosen:
        try:
            parsed.append((p, p.parse(raw.decode("latin-1"))))
        except ValueError as e:
            raise CommandError("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (lname, e)) from None
    old = [(p, cfg.values[p.name]) for p, _ in parsed]
    try:
        for p, v in parsed:
            cfg.set_value(p.name, v)
    except ValueError as e:  # an apply hook refused: restore every value
        for p, v in old:
            cfg.values[p.name] = v
        raise CommandError("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (p.name, e)) from None
    return resp.OK


@command("config|resetstat", 2, "admin noscript loading stale", "@admin @slow @dangerous")
def config_resetstat(c: Session, argv: list[bytes]) -> bytes:
    reset_stats(c.srv)
    return resp.OK


def reset_stats(srv: Any) -> None:
    srv.stats.__init__()
    ks = srv.ks
    ks.stat_expired = ks.stat_evicted = ks.stat_hits = ks.stat_misses = 0
    for s in spec.all_commands().values():
        s.calls = s.usec = s.rejected_calls = s.failed_calls = 0
    for fn in srv.extras.get("resetstat", []):
        fn()


@command("config|rewrite", 2, "admin noscript loading stale", "@admin @slow @dangerous")
def config_rewrite(c: Session, argv: list[bytes]) -> bytes:
    srv = c.srv
    path = srv.config_file or getattr(srv.config, "extras_file", "")
    if not path:
        raise CommandError("ERR The server is running without a config file")
    try:
        rewrite_config_file(srv.config, path)
    except OSError as e:
        raise CommandError("ERR Rewriting config file: %s" % e.strerror) from None
    return resp.OK


def rewrite_config_file(cfg: Any, path: str) -> None:
    """Redis's CONFIG REWRITE: keep comments and unknown lines, update known ones, append
    the changed parameters that the file does not mention yet."""
    import shlex

    from ..config import PARAMS

    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []

    def render(p: Any) -> str:
        text = p.render(cfg.values[p.name])
        return f"{p.name} {shlex.quote(text) if (not text or any(ch.isspace() for ch in text)) else text}"

    done: set[str] = set()
    out: list[str] = []
    for line in lines:
        st = line.strip()
        if not st or st.startswith("#"):
            if st != "# Generated by CONFIG REWRITE":
                out.append(line)
            continue
        name = st.split(None, 1)[0].lower()
        p = cfg.params.get(name)
        if p is None:
            out.append(line)
            continue
        if p.name in done:
            continue
        done.add(p.name)
        if cfg.values[p.name] == p.default and p.mutable:
            continue
        out.append(render(p))
    extra = [render(p) for p in PARAMS if p.name not in done and cfg.values[p.name] != p.default]
    if extra:
        out.append("# Generated by CONFIG REWRITE")
        out.extend(extra)
    tmp = path + ".tmp-rewrite"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@command("config|help", 2, "loading stale", "@slow")
def config_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP_CONFIG)


# --------------------------------------------------------------------------- INFO, TIME


@command("info", -1, "loading stale whole_keyspace", "@slow @dangerous")
def info_cmd(c: Session, argv: list[bytes]) -> bytes:
    text = info.render(c.srv, [a.decode("latin-1").lower() for a in argv[1:]])
    return c.r.verbatim(text.encode())


@command("time", 1, "loading stale fast", "@fast")
def time_cmd(c: Session, argv: list[bytes]) -> bytes:
    us = c.srv.clock.now_us()
    return resp.bulks([b"%d" % (us // 1_000_000), b"%d" % (us % 1_000_000)])



# --------------------------------------------------------------------------- help texts (Redis 7.0.15)

_HELP_COMMAND = (
    '(no subcommand)',
    '    Return details about all Redis commands.',
    'COUNT',
    '    Return the total number of commands in this Redis server.',
    'LIST',
    '    Return a list of all commands in this Redis server.',
    'INFO [<command-name> ...]',
    '    Return details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'DOCS [<command-name> ...]',
    '    Return documentation details about multiple Redis commands.',
    '    If no command names are given, documentation details for all',
    '    commands are returned.',
    'GETKEYS <full-command>',
    '    Return the keys from a full Redis command.',
    'GETKEYSANDFLAGS <full-command>',
    '    Return the keys and the access flags from a full Redis command.',
)
_HELP_CONFIG = (
    'GET <pattern>',
    '    Return parameters matching the glob-like <pattern> and their values.',
    'SET <directive> <value>',
    '    Set the configuration <directive> to <value>.',
    'RESETSTAT',
    '    Reset statistics reported by the INFO command.',
    'REWRITE',
    '    Rewrite the configuration file.',
)
_HELP_SLOWLOG = (
    'GET [<count>]',
    '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
    '    Entries are made of:',
    '    id, timestamp, time in microseconds, arguments array, client IP and port,',
    '    client name',
    'LEN',
    '    Return the length of the slowlog.',
    'RESET',
    '    Reset the slowlog.',
)
_HELP_LATENCY = (
    'DOCTOR',
    '    Return a human readable latency analysis report.',
    'GRAPH <event>',
    '    Return an ASCII latency graph for the <event> class.',
    'HISTORY <event>',
    '    Return time-latency samples for the <event> class.',
    'LATEST',
    '    Return the latest latency samples for all events.',
    'RESET [<event> ...]',
    '    Reset latency data of one or more <event> classes.',
    '    (default: reset all data for all event classes)',
    'HISTOGRAM [COMMAND ...]',
    '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
    '    If no commands are specified then all histograms are replied.',
)
_HELP_MEMORY = (
    'DOCTOR',
    '    Return memory problems reports.',
    'MALLOC-STATS',
    '    Return internal statistics report from the memory allocator.',
    'PURGE',
    '    Attempt to purge dirty pages for reclamation by the allocator.',
    'STATS',
    '    Return information about the memory usage of the server.',
    'USAGE <key> [SAMPLES <count>]',
    '    Return memory in bytes used by <key> and its value. Nested values are',
    '    sampled up to <count> times (default: 5, 0 means sample all).',
)
_HELP_DEBUG = (
    'AOF-FLUSH-SLEEP <microsec>',
    '    Server will sleep before flushing the AOF, this is used for testing.',
    'ASSERT',
    '    Crash by assertion failed.',
    'CHANGE-REPL-ID',
    '    Change the replication IDs of the instance.',
    '    Dangerous: should be used only for testing the replication subsystem.',
    'CONFIG-REWRITE-FORCE-ALL',
    '    Like CONFIG REWRITE but writes all configuration options, including',
    '    keywords not listed in original configuration file or default values.',
    'CRASH-AND-RECOVER [<milliseconds>]',
    '    Hard crash and restart after a <milliseconds> delay (default 0).',
    'DIGEST',
    '    Output a hex signature representing the current DB content.',
    'DIGEST-VALUE <key> [<key> ...]',
    '    Output a hex signature of the values of all the specified keys.',
    'ERROR <string>',
    '    Return a Redis protocol error with <string> as message. Useful for clients',
    '    unit tests to simulate Redis errors.',
    'LEAK <string>',
    '    Create a memory leak of the input string.',
    'LOG <message>',
    '    Write <message> to the server log.',
    'HTSTATS <dbid>',
    '    Return hash table statistics of the specified Redis database.',
    'HTSTATS-KEY <key>',
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    'LOADAOF',
    '    Flush the AOF buffers on disk and reload the AOF in memory.',
    'REPLICATE <string>',
    '    Replicates the provided string to replicas, allowing data divergence.',
    'MALLCTL <key> [<val>]',
    '    Get or set a malloc tuning integer.',
    'MALLCTL-STR <key> [<val>]',
    '    Get or set a malloc tuning string.',
    'OBJECT <key>',
    '    Show low level info about `key` and associated value.',
    'DROP-CLUSTER-PACKET-FILTER <packet-type>',
    '    Drop all packets that match the filtered type. Set to -1 allow all packets.',
    'OOM',
    '    Crash the server simulating an out-of-memory error.',
    'PANIC',
    '    Crash the server simulating a panic.',
    'POPULATE <count> [<prefix>] [<size>]',
    '    Create <count> string keys named key:<num>. If <prefix> is specified then',
    "    it is used instead of the 'key' prefix. These are not propagated to",
    '    replicas. Cluster slots are not respected so keys not belonging to the',
    '    current node can be created in cluster mode.',
    'PROTOCOL <type>',
    '    Reply with a test value of the specified type. <type> can be: string,',
    '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
    '    true, false.',
    'RELOAD [option ...]',
    '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
    '    * MERGE: conflicting keys will be loaded from RDB.',
    '    * NOFLUSH: the existing database will not be removed before load, but',
    '      conflicting keys will generate an exception and kill the server.',
    '    * NOSAVE: the database will be loaded from an existing RDB file.',
    '    Examples:',
    '    * DEBUG RELOAD: verify that the server is able to persist, flush and reload',
    '      the database.',
    '    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an',
    '      existing RDB file.',
    '    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB',
    '      file to the database.',
    'RESTART [<milliseconds>]',
    '    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).',
    'SDSLEN <key>',
    '    Show low level SDS string info representing `key` and value.',
    'SEGFAULT',
    '    Crash the server with sigsegv.',
    'SET-ACTIVE-EXPIRE <0|1>',
    '    Setting it to 0 disables expiring keys in background when they are not',
    '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
    '    default.',
    'QUICKLIST-PACKED-THRESHOLD <size>',
    '    Sets the threshold for elements to be inserted as plain vs packed nodes',
    '    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.',
    'SET-SKIP-CHECKSUM-VALIDATION <0|1>',
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    'SLEEP <seconds>',
    '    Stop the server for <seconds>. Decimals allowed.',
    'STRINGMATCH-TEST',
    '    Run a fuzz tester against the stringmatchlen() function.',
    'STRUCTSIZE',
    '    Return the size of different Redis core C structures.',
    'LISTPACK <key>',
    '    Show low level info about the listpack encoding of <key>.',
    'QUICKLIST <key> [<0|1>]',
    '    Show low level info about the quicklist encoding of <key>.',
    '    The optional argument (0 by default) sets the level of detail',
    'CLIENT-EVICTION',
    '    Show low level client eviction pools info (maxmemory-clients).',
    'PAUSE-CRON <0|1>',
    '    Stop periodic cron job processing.',
    'REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>',
    '    Sets the time (in milliseconds) to wait between client reply buffer peak resets.',
    '    In case NEVER is provided the last observed peak will never be reset',
    '    In case RESET is provided the peak reset time will be restored to the default value',
    'REPLYBUFFER RESIZING <0|1>',
    '    Enable or disable the reply buffer resize cron job',
    'CLUSTERLINK KILL <to|from|all> <node-id>',
    '    Kills the link based on the direction to/from (both) with the provided node.',
)

