"""Server commands: COMMAND, CONFIG, INFO, TIME, SLOWLOG, LATENCY, MONITOR, MEMORY, DEBUG, SHUTDOWN.

COMMAND * is rendered from the declarations in :mod:`durakv.spec` (arity, flags, ACL
categories, key positions) plus Redis's documentation facts from ``reference.json``
(key specs, tips, arguments, history), so that ``COMMAND INFO``/``COMMAND DOCS`` of every
command durakv implements equal real Redis 7.0's byte for byte.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
import sys
import time
from collections.abc import Iterable
from typing import Any

from .. import errors, info, spec
from ..errors import CommandError
from ..protocol import resp
from ..protocol.resp import Resp2
from ..session import Session
from ..spec import CommandSpec, command, container
from ._util import parse_int

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
    has_var = any("variable_flags" in k.get("flags", []) for k in kss)
    has_key = any("not_key" not in k.get("flags", []) for k in kss)
    if kss and has_key and not has_var:
        got = _keys_using_specs(kss, args)
        if got is not None:
            return got, True
        if s.keys_fn is None:  # no getkeys proc to fall back on: no keys
            return [], False
        if any(k["find_keys"]["type"] == "keynum" for k in kss):
            return [], False  # Redis's getkeys procs refuse a bad numkeys too
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
    if s.name == "sort" and pos:  # sortGetKeys: the key, then the STORE destination
        return [(pos[0], ["RO", "access"])] + [(i, ["OW", "update"]) for i in pos[1:]], True
    # map positions onto specs when the specs can place them
    spec_keys = _keys_using_specs(kss, args, partial=True) or []
    by_pos = {i: [x for x in f if x != "incomplete"] for i, f in spec_keys}  # procs set real flags
    return [(i, by_pos.get(i, kss[0].get("flags", []) if kss else [])) for i in pos], bool(pos)


def _keys_using_specs(kss: list[dict[str, Any]], argv: list[bytes], partial: bool = False) -> list[tuple[int, list[str]]] | None:
    """Redis's getKeysUsingKeySpecs: None where it fails (an invalid or incomplete spec),
    unless ``partial`` (GET_KEYSPEC_RETURN_PARTIAL), which skips such specs instead."""
    argc = len(argv)
    out: list[tuple[int, list[str]]] = []
    for ks in kss:
        fl = ks.get("flags", [])
        if "not_key" in fl:
            continue
        bs = ks["begin_search"]
        fk = ks["find_keys"]
        first = 0
        ok = True
        if bs["type"] == "index":
            first = bs["spec"]["index"]
        elif bs["type"] == "keyword":
            kw = bs["spec"]["keyword"].encode().lower()
            sf = bs["spec"]["startfrom"]
            start = sf if sf > 0 else argc + sf
            end = argc - 1 if sf > 0 else 1
            i = start
            while i != end:  # Redis never looks at the end index itself
                if i >= argc or i < 1:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
                i = i + 1 if start <= end else i - 1
            if not first:
                continue
        else:
            ok = False
        last = step = 0
        if ok and fk["type"] == "range":
            step = fk["spec"]["keystep"]
            lastkey, limit = fk["spec"]["lastkey"], fk["spec"]["limit"]
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif ok and fk["type"] == "keynum":
            step = fk["spec"]["keystep"]
            idx = fk["spec"]["keynumidx"]
            if idx >= argc or first + idx >= argc:
                ok = False
            else:
                raw = argv[first + idx]
                try:
                    numkeys = parse_int(raw)
                except CommandError:
                    numkeys = -1
                if numkeys < 0:
                    ok = False
                else:
                    first += fk["spec"]["firstkey"]
                    last = first + numkeys - 1
        elif ok:
            ok = False
        if ok and (last >= argc or last < first or first >= argc):
            ok = False
        if ok:
            i = first
            while i <= last:
                out.append((i, fl))
                i += step
            if "incomplete" in fl:
                ok = False
        if not ok:
            if partial:
                continue
            return None
    return out


def _getkeys(c: Session, argv: list[bytes], with_flags: bool) -> bytes:
    args = argv[2:]
    s = _lookup_full(args)
    if s is None or (s.subcommands and len(args) >= 2):
        raise CommandError("ERR Invalid command specified")
    ref = spec.reference(s.name)
    kss = ref.get("key_specs")
    has_keys = any("not_key" not in k.get("flags", []) for k in kss) if kss else (
        s.keys_fn is not None or s.first_key > 0)
    if not has_keys:
        raise CommandError("ERR The command has no key arguments")
    n = len(args)
    if (s.arity > 0 and s.arity != n) or n < -s.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    keys = key_refs(s, args)
    if not keys:
        if "no_mandatory_keys" in s.flags:
            return resp.EMPTY_ARRAY
        raise CommandError("ERR Invalid arguments specified for command")
    if not with_flags:
        return resp.bulks([args[i] for i, _ in keys])
    r = c.r
    return resp.array([
        resp.array([resp.bulk(args[i]), _status_set(r, [f for f in _KEY_FLAG_ORDER if f in fl])])
        for i, fl in keys
    ])


def key_refs(s: CommandSpec, args: list[bytes]) -> list[tuple[int, list[str]]]:
    """Key positions in ``args`` with their key-spec flags, the variable ones resolved
    (Redis's getKeysFromCommandWithSpecs): COMMAND GETKEYSANDFLAGS and ACL key checks."""
    keys, _ = keys_with_specs(s, args)
    return [(i, _variable_key_flags(s.name, args, fl)) for i, fl in keys]


def _variable_key_flags(name: str, args: list[bytes], fl: list[str]) -> list[str]:
    """Flags of commands whose key-spec flags depend on arguments (Redis's getkeys procs)."""
    if "variable_flags" not in fl:
        return fl
    if name == "set":
        return ["RW", "access", "update"] if any(a.lower() == b"get" for a in args[3:]) else ["OW", "update"]
    if name == "bitfield":  # Redis's bitfieldGetKeys: read-only only if every op is a GET
        i = 2
        n = len(args)
        while i < n:
            a = args[i].lower()
            rem = n - i - 1
            if a == b"get" and rem >= 2:
                i += 3
            elif a == b"overflow" and rem >= 1:
                i += 2
            else:
                return ["RW", "access", "update"]
        return ["RO", "access"]
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
    found: dict[str, tuple[str, str]] = {}  # lowercase name -> (name as replied, value); Redis's
    for pat in argv[2:]:                     # matches dict compares names case-insensitively
        p = pat.decode("latin-1")
        if not any(ch in p for ch in "[*?"):
            param = cfg.params.get(p.lower())
            if param is not None and p.lower() not in found:
                found[p.lower()] = (p, param.render(cfg.values[param.name]))
            continue
        for name, param in cfg.params.items():
            if name not in found and not param.hidden and glob_match(pat, name.encode(), True):
                found[name] = (name, param.render(cfg.values[param.name]))
    return c.r.map([(resp.bulk(k.encode("latin-1")), resp.bulk(v.encode("latin-1"))) for k, v in found.values()])


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
        raise CommandError("ERR Unknown option or number of arguments for CONFIG SET - '%s'" % errors.sanitize(unknown))
    if err is not None:
        raise CommandError(errors.sanitize(errors.CONFIG_SET_FAILED.format(*err)))
    parsed = []
    for lname, p, raw in chosen:
        try:
            parsed.append((p, p.parse(raw.decode("latin-1"))))
        except ValueError as e:
            raise CommandError(errors.CONFIG_SET_FAILED.format(lname, e)) from None
    old = [(p, cfg.values[p.name]) for p, _ in parsed]
    try:
        for p, v in parsed:
            cfg.set_value(p.name, v)
    except ValueError as e:  # an apply hook refused: restore every value
        failed = p.name
        for q, v in old:
            cfg.values[q.name] = v
        raise CommandError(errors.CONFIG_SET_FAILED.format(failed, e)) from None
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
    users = srv.extras.get("config_user_lines")
    try:
        rewrite_config_file(srv.config, path, users() if users is not None else None)
    except OSError as e:
        raise CommandError("ERR Rewriting config file: %s" % e.strerror) from None
    return resp.OK


def _rewrite_force_all(c: Session) -> bytes:
    """DEBUG CONFIG-REWRITE-FORCE-ALL: CONFIG REWRITE writing every parameter."""
    srv = c.srv
    path = srv.config_file or getattr(srv.config, "extras_file", "")
    if not path:
        raise CommandError("ERR The server is running without a config file")
    users = srv.extras.get("config_user_lines")
    try:
        rewrite_config_file(srv.config, path, users() if users is not None else None, force_all=True)
    except OSError as e:
        raise CommandError("ERR CONFIG-REWRITE-FORCE-ALL failed: %s" % e.strerror) from None
    return resp.OK


def rewrite_config_file(cfg: Any, path: str, users: list[str] | None = None, force_all: bool = False) -> None:
    """Redis's CONFIG REWRITE: keep comments and unknown lines, update known ones, append
    the changed parameters that the file does not mention yet.  ``users`` (ACL LIST lines,
    None when users live in an aclfile) replace the file's ``user`` lines in order.
    ``force_all``: every parameter is written, default or not (DEBUG CONFIG-REWRITE-FORCE-ALL)."""
    import shlex

    from ..config import PARAMS

    users = list(users) if users is not None else None
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
        if name == "user" and users is not None:
            if users:
                out.append(users.pop(0))
            continue
        p = cfg.params.get(name)
        if p is None:
            out.append(line)
            continue
        if p.name in done:
            continue
        done.add(p.name)
        if cfg.values[p.name] == p.default and p.mutable and not force_all:
            continue
        out.append(render(p))
    extra = [render(p) for p in PARAMS if p.name not in done and (force_all or cfg.values[p.name] != p.default)]
    extra += users or []
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



# --------------------------------------------------------------------------- SLOWLOG, LATENCY

SLOWLOG_MAX_ARGC = 32
SLOWLOG_MAX_STRING = 128


class SlowLog:
    """The slow log and the latency monitor's ``command``/``fast-command`` events.

    ``dispatch.call`` calls :meth:`record` when a command took at least ``threshold`` us
    (the smaller of slowlog-log-slower-than and latency-monitor-threshold)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.entries: list[list[Any]] = []  # newest first
        self.next_id = 0
        self.threshold = 1 << 62
        self.events: dict[str, list[tuple[int, int]]] = {}  # event -> [(ts, ms)] oldest first
        self.event_max: dict[str, int] = {}
        self.update()

    def update(self) -> None:
        cfg = self.ctx.config
        slow = cfg["slowlog-log-slower-than"]
        lat = cfg["latency-monitor-threshold"]
        t = 1 << 62
        if slow >= 0:
            t = slow
        if lat > 0:
            t = min(t, lat * 1000)
        self.threshold = t

    def record(self, c: Session, sp: CommandSpec, argv: list[bytes], us: int, slowlog: bool = True) -> None:
        """``slowlog`` False: the command blocked; its slow log entry waits for its unblocking
        (Blocking), as Redis's call() leaves it to updateStatsOnUnblock."""
        cfg = self.ctx.config
        slow = cfg["slowlog-log-slower-than"]
        if slowlog and slow >= 0 and us >= slow and "skip_slowlog" not in sp.flags:
            self.add(c, argv, us)
        lat = cfg["latency-monitor-threshold"]
        if lat > 0 and us // 1000 >= lat:
            self.latency_event("fast-command" if "fast" in sp.flags else "command", us // 1000)

    def add(self, c: Session, argv: list[bytes], us: int) -> None:
        args = _redact(argv)
        if len(args) > SLOWLOG_MAX_ARGC:
            args = args[: SLOWLOG_MAX_ARGC - 1] + [b"... (%d more arguments)" % (len(argv) - SLOWLOG_MAX_ARGC + 1)]
        args = [a if len(a) <= SLOWLOG_MAX_STRING else
                a[:SLOWLOG_MAX_STRING] + b"... (%d more bytes)" % (len(a) - SLOWLOG_MAX_STRING) for a in args]
        self.entries.insert(0, [self.next_id, self.ctx.clock.now_ms() // 1000, us, args,
                                c.addr.encode(), c.name])
        self.next_id += 1
        maxlen = self.ctx.config["slowlog-max-len"]
        del self.entries[maxlen:]

    def latency_event(self, event: str, ms: int) -> None:
        now = self.ctx.clock.now_ms() // 1000
        hist = self.events.setdefault(event, [])
        if hist and hist[-1][0] == now:
            if ms > hist[-1][1]:
                hist[-1] = (now, ms)
        else:
            hist.append((now, ms))
            if len(hist) > 160:
                del hist[0]
        if ms > self.event_max.get(event, 0):
            self.event_max[event] = ms


_SENSITIVE_CONFIG = frozenset({b"requirepass", b"masterauth", b"masteruser"})
_REDACTED = b"(redacted)"


def _redact(argv: list[bytes]) -> list[bytes]:
    """Arguments Redis hides from SLOWLOG (its redactClientCommandArgument calls)."""
    if not argv:
        return argv
    name = argv[0].lower()
    n = len(argv)
    if name == b"auth":
        return [argv[0]] + [_REDACTED] * (n - 1)
    out = list(argv)
    if name == b"hello":
        for i, a in enumerate(argv):
            if a.lower() == b"auth" and i + 2 < n:
                out[i + 1] = out[i + 2] = _REDACTED
    elif name == b"acl" and n > 2 and argv[1].lower() == b"setuser":
        out[2:] = [_REDACTED] * (n - 2)
    elif name == b"migrate":
        i = 6
        while i < n:
            a = argv[i].lower()
            if a == b"auth" and i + 1 < n:
                out[i + 1] = _REDACTED
                i += 1
            elif a == b"auth2" and i + 2 < n:
                out[i + 1] = out[i + 2] = _REDACTED
                i += 2
            elif a == b"keys":
                break
            i += 1
    elif name == b"config" and n > 3 and argv[1].lower() == b"set":
        for i in range(2, n - 1, 2):
            if argv[i].lower() in _SENSITIVE_CONFIG:
                out[i + 1] = _REDACTED
    return out


def _slowlog(c: Session) -> SlowLog:
    sl = c.srv.slowlog
    if sl is None:
        sl = c.srv.slowlog = SlowLog(c.srv)
    return sl


container("slowlog", -2, "@slow")


@command("slowlog|get", -2, "admin loading stale", "@admin @slow @dangerous")
def slowlog_get(c: Session, argv: list[bytes]) -> bytes:
    count = 10
    if len(argv) == 3:
        try:
            count = parse_int(argv[2])
        except CommandError:
            raise CommandError("ERR count should be greater than or equal to -1") from None
        if count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
    elif len(argv) > 3:
        raise CommandError("ERR unknown subcommand or wrong number of arguments for '%s'. Try SLOWLOG HELP."
                           % errors.fmt_arg(argv[1]))
    entries = _slowlog(c).entries
    if count != -1:
        entries = entries[:count]
    return resp.array([
        resp.array([resp.integer(e[0]), resp.integer(e[1]), resp.integer(e[2]), resp.bulks(e[3]),
                    resp.bulk(e[4]), resp.bulk(e[5])])
        for e in entries
    ])


@command("slowlog|len", 2, "admin loading stale", "@admin @slow @dangerous")
def slowlog_len(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(len(_slowlog(c).entries))


@command("slowlog|reset", 2, "admin loading stale", "@admin @slow @dangerous")
def slowlog_reset(c: Session, argv: list[bytes]) -> bytes:
    _slowlog(c).entries.clear()
    return resp.OK


@command("slowlog|help", 2, "loading stale", "@slow")
def slowlog_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP_SLOWLOG)


container("latency", -2, "@slow")


@command("latency|latest", 2, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_latest(c: Session, argv: list[bytes]) -> bytes:
    sl = _slowlog(c)
    out = []
    for ev, hist in sl.events.items():
        if hist:
            ts, ms = hist[-1]
            out.append(resp.array([resp.bulk(ev.encode()), resp.integer(ts), resp.integer(ms),
                                   resp.integer(sl.event_max.get(ev, ms))]))
    return resp.array(out)


@command("latency|history", 3, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_history(c: Session, argv: list[bytes]) -> bytes:
    hist = _slowlog(c).events.get(argv[2].decode("latin-1"), [])
    return resp.array([resp.array([resp.integer(ts), resp.integer(ms)]) for ts, ms in hist])


@command("latency|reset", -2, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_reset(c: Session, argv: list[bytes]) -> bytes:
    sl = _slowlog(c)
    if len(argv) == 2:
        n = len(sl.events)
        sl.events.clear()
        sl.event_max.clear()
        return resp.integer(n)
    n = 0
    for a in argv[2:]:
        ev = a.decode("latin-1")
        if ev in sl.events:
            del sl.events[ev]
            sl.event_max.pop(ev, None)
            n += 1
    return resp.integer(n)


@command("latency|doctor", 2, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_doctor(c: Session, argv: list[bytes]) -> bytes:
    return c.r.verbatim(latency_report(c.srv, _slowlog(c)).encode())


def _anon_huge_pages() -> int:
    """Redis's THPGetAnonHugePagesSize (of this process)."""
    for path in ("/proc/self/smaps_rollup", "/proc/self/smaps"):
        try:
            with open(path) as f:
                return sum(int(line.split()[1]) for line in f if line.startswith("AnonHugePages:"))
        except (OSError, ValueError, IndexError):
            continue
    return 0


_ADVICE = {
    "slowlog_enabled": "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n",
    "slowlog_tuning": "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n",
    "slowlog_inspect": "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
    "scheduler": "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
                 "  1) Lower the system load.\n"
                 "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
                 "  3) Check if you have a \"noisy neighbour\" problem.\n"
                 "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
                 "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
    "local_disk": "- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n",
    "ssd": "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n",
    "data_writeback": "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n",
    "disk_contention": "- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n",
    "no_appendfsync": "- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n",
    "relax_fsync_policy": "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
    "hz": "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
    "large_objects": "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
    "mass_eviction": "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n",
    "disable_thp": "- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it to /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n",
}
# per event: the advices it adds (Redis's createLatencyReport)
_EVENT_ADVICE = {
    "fast-command": ("scheduler",),
    "aof-write-pending-fsync": ("local_disk", "disk_contention", "ssd", "data_writeback"),
    "aof-write-active-child": ("no_appendfsync", "data_writeback", "ssd"),
    "aof-write-alone": ("local_disk", "data_writeback", "ssd"),
    "aof-fsync-always": ("relax_fsync_policy",),
    "aof-fstat": ("disk_contention", "local_disk"),
    "rdb-unlink-temp-file": ("disk_contention", "local_disk"),
    "aof-rewrite-write-data-to-child": ("no_appendfsync", "disk_contention", "local_disk"),
    "aof-rewrite-fsync": ("no_appendfsync", "disk_contention", "local_disk"),
    "expire-cycle": ("hz", "large_objects"),
    "eviction-del": ("large_objects",),
    "eviction-cycle": ("mass_eviction",),
}


def latency_report(srv: Any, sl: SlowLog) -> str:
    """Redis's createLatencyReport (LATENCY DOCTOR)."""
    cfg = srv.config
    threshold = cfg["latency-monitor-threshold"]
    if not sl.events and threshold == 0:
        return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
                "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. "
                "If we weren't in a deep space mission I'd suggest to take a look at "
                "https://redis.io/topics/latency-monitor.\n")
    advise: set[str] = set()
    advices = 0
    out = ""
    now = srv.clock.now_ms() // 1000
    eventnum = 0
    for ev, hist in sl.events.items():
        eventnum += 1
        if eventnum == 1:
            out += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n"
        samples = len(hist)
        avg = mad = 0
        period = 0
        if samples:
            avg = sum(ms for _, ms in hist) // samples
            period = now - min(ts for ts, _ in hist) or 1
            mad = sum(abs(avg - ms) for _, ms in hist) // samples
        out += ("%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). "
                "Worst all time event %dms." % (eventnum, ev, samples, avg, mad,
                                                period / samples if samples else math.nan,
                                                sl.event_max.get(ev, 0)))
        if ev == "command":
            slow = cfg["slowlog-log-slower-than"]
            if slow < 0 or cfg["slowlog-max-len"] == 0:
                advise.add("slowlog_enabled")
                advices += 1
            elif int(slow / 1000) > threshold:
                advise.add("slowlog_tuning")
                advices += 1
            advise.update(("slowlog_inspect", "large_objects"))
            advices += 2
        for a in _EVENT_ADVICE.get(ev, ()):
            advise.add(a)
            advices += 1
        out += "\n"
    if _anon_huge_pages() > 0:
        advise.add("disable_thp")
        advices += 1
    if eventnum == 0 and advices == 0:
        return out + ("Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
                      "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and "
                      "think things over.\n")
    if eventnum > 0 and advices == 0:
        return out + ("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
                      "the Redis community to get some help, providing this report in your help request.\n")
    out += "\nI have a few advices for you:\n\n"
    for a in ("slowlog_enabled", "slowlog_tuning", "slowlog_inspect", "scheduler", "local_disk", "ssd",
              "data_writeback", "disk_contention", "no_appendfsync", "relax_fsync_policy", "hz",
              "large_objects", "mass_eviction", "disable_thp"):
        if a not in advise:
            continue
        if a == "relax_fsync_policy" and cfg["appendfsync"] != "always":
            continue
        if a == "hz" and cfg["hz"] >= 100:
            continue
        text = _ADVICE[a]
        out += text % (threshold * 1000) if "%d" in text else text
    return out


_SPARK_CHARS = "_o#"  # SPARKLINE_FILL


def _sparkline(samples: list[tuple[int, str]], columns: int = 80, rows: int = 4) -> str:
    """Redis's sparklineRender (sparkline.c) with SPARKLINE_FILL: (value, label) samples."""
    if not samples:
        return ""
    lo = min(v for v, _ in samples)
    hi = max(v for v, _ in samples)
    labels = sum(1 for _, lab in samples if lab)
    out = []
    for j in range(0, len(samples), columns):
        if j:
            out.append("\n")
        part = samples[j:j + columns]
        relmax = (hi - lo) or 1
        steps = 3 * rows
        row = 0
        while True:
            loop = False
            chars = [" "] * len(part)
            for k, (v, label) in enumerate(part):
                step = int(int((v - lo) * steps) / relmax)
                step = min(max(step, 0), steps - 1)
                if row < rows:
                    idx = step - (rows - row - 1) * 3
                    loop = True
                    if 0 <= idx < 3:
                        chars[k] = _SPARK_CHARS[idx]
                    elif idx >= 3:
                        chars[k] = "|"
                else:
                    if labels and row - rows < 1:  # label_margin_top
                        loop = True
                        break
                    if label:
                        at = row - rows - 1
                        if len(label) > at:
                            loop = True
                            chars[k] = label[at]
            if not loop:
                break
            row += 1
            out.append("".join(chars) + "\n")
    return "".join(out)


@command("latency|graph", 3, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_graph(c: Session, argv: list[bytes]) -> bytes:
    ev = argv[2].decode("latin-1")
    sl = _slowlog(c)
    hist = sl.events.get(ev)
    if not hist:
        raise CommandError(errors.sanitize("ERR No samples available for event '%s'" % ev))
    now = c.srv.clock.now_ms() // 1000
    samples = []
    for ts, ms in hist:
        el = now - ts
        if el < 60:
            label = "%ds" % el
        elif el < 3600:
            label = "%dm" % (el // 60)
        elif el < 86400:
            label = "%dh" % (el // 3600)
        else:
            label = "%dd" % (el // 86400)
        samples.append((ms, label))
    hi = max(ms for _, ms in hist)
    lo = min(ms for _, ms in hist)
    text = "%s - high %d ms, low %d ms (all time high %d ms)\n" % (ev, hi, lo, sl.event_max.get(ev, hi))
    text += "-" * 80 + "\n" + _sparkline(samples)
    return c.r.verbatim(text.encode("latin-1"))


@command("latency|histogram", -2, "admin noscript loading stale", "@admin @slow @dangerous")
def latency_histogram(c: Session, argv: list[bytes]) -> bytes:
    r = c.r
    if len(argv) == 2:
        specs = [s for s in spec.all_commands().values() if s.calls]
    else:
        specs = []
        for a in argv[2:]:
            s = _lookup_name(a.lower())
            if s is None:
                continue
            # a container command stands for its subcommands
            for one in s.subcommands.values() if s.subcommands else (s,):
                if one.calls and one not in specs:
                    specs.append(one)
    pairs = []
    for s in specs:
        avg = max(1, s.usec // max(1, s.calls))
        bucket = 1 << max(0, (avg - 1).bit_length())
        pairs.append((resp.bulk(s.name.encode()), r.map([
            (resp.bulk(b"calls"), resp.integer(s.calls)),
            (resp.bulk(b"histogram_usec"), r.map([(resp.integer(bucket), resp.integer(s.calls))])),
        ])))
    return r.map(pairs)


@command("latency|help", 2, "loading stale", "@slow")
def latency_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP_LATENCY)


# --------------------------------------------------------------------------- MONITOR


@command("monitor", 1, "admin noscript loading stale", "@admin @slow @dangerous")
def monitor(c: Session, argv: list[bytes]) -> bytes:
    srv = c.srv
    if "monitor" in c.flags:
        return resp.OK
    c.flags.add("monitor")
    srv.monitors.append(c)
    srv.extras["monitor_feed"] = monitor_feed
    return resp.OK


def repr_arg(a: bytes) -> bytes:
    """Redis's sdscatrepr: a double-quoted, escaped argument."""
    out = bytearray(b'"')
    for ch in a:
        if ch == 0x5C or ch == 0x22:
            out += b"\\" + bytes([ch])
        elif ch == 0x0A:
            out += b"\\n"
        elif ch == 0x0D:
            out += b"\\r"
        elif ch == 0x09:
            out += b"\\t"
        elif ch == 0x07:
            out += b"\\a"
        elif ch == 0x08:
            out += b"\\b"
        elif 0x20 <= ch < 0x7F:
            out.append(ch)
        else:
            out += b"\\x%02x" % ch
    out += b'"'
    return bytes(out)


_NOT_MONITORED = ("admin", "skip_monitor")


def monitor_feed(c: Session, argv: list[bytes], script: bool = False) -> None:
    """Called by dispatch.call after every executed command while monitors exist, and
    before a script runs (``script``: Redis shows EVAL/FCALL, then the commands they run,
    despite their skip_monitor flag)."""
    srv = c.srv
    sp = spec.all_commands().get(c.last_cmd)
    if not script and sp is not None and ("admin" in sp.flags or "skip_monitor" in sp.flags):
        return
    us = srv.clock.now_us()
    if c.in_script:
        who = b"lua"
    else:
        who = c.addr.encode()
    args = _redact(argv)
    line = b"+%d.%06d [%d %s] %s\r\n" % (us // 1_000_000, us % 1_000_000, c.db.id, who,
                                          b" ".join(repr_arg(a) for a in args))
    for m in list(srv.monitors):
        conn = m.conn
        if conn is None or conn.closing:
            srv.monitors.remove(m)
            continue
        m.push(line)


# --------------------------------------------------------------------------- MEMORY

_JE_SMALL = 14336


def je_size(n: int) -> int:
    """jemalloc's size class for an allocation of n bytes (what Redis's zmalloc_size reports)."""
    if n <= 8:
        return 8
    if n <= 16:
        return 16
    lg = (n - 1).bit_length() - 1
    spacing = max(16, 1 << (lg - 2))
    return (n + spacing - 1) // spacing * spacing


def _sds_hdr(n: int) -> int:
    if n < 1 << 5:
        return 1
    if n < 1 << 8:
        return 3
    if n < 1 << 16:
        return 5
    if n < 1 << 32:
        return 9
    return 17


def _sds_size(b: bytes) -> int:
    """sdsZmallocSize of an sds created with exactly len(b) bytes."""
    hdr = _sds_hdr(len(b))
    if hdr == 1 and not b:
        hdr = 3
    return je_size(hdr + len(b) + 1)


def _is_int_str(v: bytes) -> bool:
    if not v or len(v) > 20:
        return False
    try:
        parse_int(v)
    except CommandError:
        return False
    return True


def string_usage(v: bytes) -> int:
    """Redis's objectComputeSize for a string value."""
    if _is_int_str(v):
        return 16
    if len(v) <= 44:
        return je_size(16 + 3 + len(v) + 1)
    return je_size(_sds_hdr(len(v)) + len(v) + 1) + 16


def _redis_value_usage(v: Any, config: Any, samples: int) -> int | None:
    """Redis's objectComputeSize for the compact encodings (listpack, intset, quicklist),
    computed from the same byte layouts; None for the others."""
    try:
        from ..durability import rdb

        tn = v.type_name
        enc = v.encoding(config)
        if tn == "hash" and enc == "listpack":
            flat: list[bytes] = []
            for f, x in v:
                flat += (f, x)
            return 16 + je_size(len(rdb.lp_pack(flat)))
        if tn == "zset" and enc == "listpack":
            flat = []
            for m, score in v.items():
                flat += (m, _fmt_score(score) if score != int(score) or abs(score) >= 1e17 else b"%d" % score)
            return 16 + je_size(len(rdb.lp_pack(flat)))
        if tn == "set" and enc == "intset":
            return 16 + je_size(len(rdb.intset_pack([int(x) for x in v])))
        if tn == "list" and enc == "quicklist":
            nodes = rdb._list_nodes(list(v), config["list-max-listpack-size"])  # noqa: SLF001
            if not nodes:
                return 16 + 40
            k = len(nodes) if samples == 0 else min(samples, len(nodes))
            ele = sum(40 + je_size(len(b)) for b in nodes[:k])
            return 16 + 40 + int(ele / k * len(nodes))
        if enc == "hashtable" and tn in ("hash", "set"):
            n = len(v)
            slots = 4
            while slots < n:
                slots *= 2
            size = 16 + 56 + 8 * slots
            it = iter(v)
            k = 0
            ele = 0
            while samples == 0 or k < samples:
                try:
                    x = next(it)
                except StopIteration:
                    break
                if tn == "hash":
                    ele += _sds_size(x[0]) + _sds_size(x[1]) + 24
                else:
                    ele += _sds_size(x) + 24
                k += 1
            if k:
                size += int(ele / k * n)
            return size
    except Exception:
        return None
    return None


def key_memory_usage(db: Any, key: bytes, samples: int) -> int | None:
    from ..keyspace import memory

    v = db.data.get(key)
    if v is None:
        return None
    hdr = _sds_hdr(len(key))
    if hdr == 1 and not key:
        hdr = 3
    base = je_size(hdr + len(key) + 1) + 24
    if type(v) is bytes:
        return base + string_usage(v)
    exact = _redis_value_usage(v, db.ks.config if hasattr(db.ks, "config") else None, samples)
    return base + (exact if exact is not None else memory.value_size(v, samples))


container("memory", -2, "@slow")


@command("memory|usage", -3, "readonly", "@read @slow", keys=(2, 2, 1))
def memory_usage(c: Session, argv: list[bytes]) -> bytes:
    samples = 5
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = parse_int(argv[i + 1])
            if samples < 0:
                raise CommandError(errors.SYNTAX)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    db = c.db
    if db.lookup_nottl(argv[2]) is None:
        return c.r.null
    n = _key_usage(c, db, argv[2], samples)
    return resp.integer(n or 0)


def _key_usage(c: Session, db: Any, key: bytes, samples: int) -> int | None:
    from ..keyspace import memory

    v = db.data.get(key)
    if v is None:
        return None
    hdr = _sds_hdr(len(key))
    base = je_size(hdr + len(key) + 1) + 24
    if type(v) is bytes:
        return base + string_usage(v)
    exact = _redis_value_usage(v, c.srv.config, samples)
    return base + (exact if exact is not None else memory.value_size(v, samples))


@command("memory|stats", 2, "", "@slow")
def memory_stats(c: Session, argv: list[bytes]) -> bytes:
    from ..keyspace import memory

    srv = c.srv
    r = c.r
    used = memory.used_memory(srv)
    peak = memory.update_peak(srv, used)
    startup = memory.startup_memory(srv)
    overhead = memory.overhead(srv)
    rss = memory.rss_bytes()
    keys = srv.ks.keycount()
    dataset = max(0, used - overhead)
    pairs: list[tuple[bytes, bytes]] = []

    def add(k: str, v: bytes) -> None:
        pairs.append((resp.bulk(k.encode()), v))

    import sys as _sys

    add("peak.allocated", resp.integer(peak))
    add("total.allocated", resp.integer(used))
    add("startup.allocated", resp.integer(startup))
    add("replication.backlog", resp.integer(0))
    add("clients.slaves", resp.integer(0))
    add("clients.normal", resp.integer(memory.clients_memory(srv)))
    add("cluster.links", resp.integer(0))
    add("aof.buffer", resp.integer(0))
    add("lua.caches", resp.integer(0))
    add("functions.caches", resp.integer(0))
    for db in srv.ks.dbs:
        if db.data:
            add("db.%d" % db.id, r.map([
                (resp.bulk(b"overhead.hashtable.main"), resp.integer(_sys.getsizeof(db.data))),
                (resp.bulk(b"overhead.hashtable.expires"), resp.integer(_sys.getsizeof(db.expires))),
                (resp.bulk(b"overhead.hashtable.slot-to-keys"), resp.integer(0)),
            ]))
    add("overhead.total", resp.integer(overhead))
    add("keys.count", resp.integer(keys))
    add("keys.bytes-per-key", resp.integer((used - startup) // keys if keys else 0))
    add("dataset.bytes", resp.integer(dataset))
    add("dataset.percentage", r.double(100.0 * dataset / max(1, used - startup)))
    add("peak.percentage", r.double(100.0 * used / peak if peak else 0.0))
    add("allocator.allocated", resp.integer(used))
    add("allocator.active", resp.integer(used))
    add("allocator.resident", resp.integer(rss))
    add("allocator-fragmentation.ratio", r.double(1.0))
    add("allocator-fragmentation.bytes", resp.integer(0))
    add("allocator-rss.ratio", r.double(rss / used if used else 0.0))
    add("allocator-rss.bytes", resp.integer(rss - used))
    add("rss-overhead.ratio", r.double(1.0))
    add("rss-overhead.bytes", resp.integer(0))
    add("fragmentation", r.double(rss / used if used else 0.0))
    add("fragmentation.bytes", resp.integer(rss - used))
    return r.map(pairs)


@command("memory|doctor", 2, "", "@slow")
def memory_doctor(c: Session, argv: list[bytes]) -> bytes:
    from ..keyspace import memory

    used = memory.used_memory(c.srv)
    if used < 5 * 1024 * 1024:
        text = ("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
                "used in these conditions. Please, leave for your mission on Earth and fill it with some data. "
                "The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
    else:
        text = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    return c.r.verbatim(text.encode())


@command("memory|malloc-stats", 2, "", "@slow")
def memory_malloc_stats(c: Session, argv: list[bytes]) -> bytes:
    return c.r.verbatim(b"Stats not supported for the current allocator")


@command("memory|purge", 2, "", "@slow")
def memory_purge(c: Session, argv: list[bytes]) -> bytes:
    import gc

    gc.collect()
    return resp.OK


@command("memory|help", 2, "loading stale", "@slow")
def memory_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], _HELP_MEMORY)


# --------------------------------------------------------------------------- DEBUG

_OBJ_TYPE = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}


def _xor(digest: bytearray, data: bytes) -> None:
    h = hashlib.sha1(data).digest()
    for i in range(20):
        digest[i] ^= h[i]


def _mix(digest: bytearray, data: bytes) -> None:
    _xor(digest, data)
    digest[:] = hashlib.sha1(bytes(digest)).digest()


def _fmt_score(d: float) -> bytes:
    if d == math.inf:
        return b"inf"
    if d == -math.inf:
        return b"-inf"
    return b"%.17g" % d


def value_digest(digest: bytearray, v: Any, has_expire: bool) -> None:
    """Redis's xorObjectDigest (debug.c) over durakv's value types."""
    from ..keyspace import type_name

    tn = type_name(v)
    _mix(digest, struct.pack(">I", _OBJ_TYPE.get(tn, 5)))
    if tn == "string":
        _mix(digest, v)
    elif tn == "list":
        for e in v:
            _mix(digest, e)
    elif tn == "set":
        for e in v:
            _xor(digest, e)
    elif tn == "zset":
        for m, score in v.items():
            ed = bytearray(20)
            _mix(ed, m)
            _mix(ed, _fmt_score(score))
            _xor(digest, bytes(ed))
    elif tn == "hash":
        for f, val in v:
            ed = bytearray(20)
            _mix(ed, f)
            _mix(ed, val)
            _xor(digest, bytes(ed))
    elif tn == "stream":
        for sid, fields in zip(v.ids, v.vals):
            _mix(digest, b"%d.%d" % (sid >> 64, sid & ((1 << 64) - 1)))
            for x in fields:
                _mix(digest, x)
    if has_expire:
        _xor(digest, b"!!expire!!")


def dataset_digest(srv: Any) -> bytes:
    final = bytearray(20)
    for db in srv.ks.dbs:
        if not db.data:
            continue
        _mix(final, struct.pack(">I", db.id))
        for key, v in list(db.data.items()):
            d = bytearray(20)
            _mix(d, key)
            value_digest(d, v, key in db.expires)
            _xor(final, bytes(d))
    return bytes(final)


def _encoding(c: Session, v: Any) -> str:
    if type(v) is bytes:
        if _is_int_str(v):
            return "int"
        return "embstr" if len(v) <= 44 else "raw"
    return v.encoding(c.srv.config)


def _serialized_length(c: Session, v: Any) -> int:
    try:
        from ..durability import rdb

        return len(rdb.dump_payload(v, c.srv.config)) - 11
    except Exception:
        return len(v) if type(v) is bytes else 0


_PROTOCOL = {
    "string": (b"$11\r\nHello World\r\n", b"$11\r\nHello World\r\n"),
    "integer": (b":12345\r\n", b":12345\r\n"),
    "double": (b"$5\r\n3.141\r\n", b",3.141\r\n"),
    "bignum": (b"$37\r\n1234567999999999999999999999999999999\r\n", b"(1234567999999999999999999999999999999\r\n"),
    "null": (b"$-1\r\n", b"_\r\n"),
    "array": (b"*3\r\n:0\r\n:1\r\n:2\r\n", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
    "set": (b"*3\r\n:0\r\n:1\r\n:2\r\n", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
    "map": (b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
    "attrib": (b"$39\r\nSome real reply following the attribute\r\n",
               b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
               b"$39\r\nSome real reply following the attribute\r\n"),
    "push": (b"-ERR RESP2 is not supported by this command\r\n",
             b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n"),
    "verbatim": (b"$25\r\nThis is a verbatim\nstring\r\n", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
    "true": (b":1\r\n", b"#t\r\n"),
    "false": (b":0\r\n", b"#f\r\n"),
}


@command("debug", -2, "admin noscript loading stale", "@admin @slow @dangerous")
def debug(c: Session, argv: list[bytes]) -> bytes:
    sub = argv[1].lower()
    n = len(argv)
    srv = c.srv
    allowed = srv.config["enable-debug-command"]
    if allowed == "no" or (allowed == "local" and not c.addr.startswith(("127.", "::1", "["))):
        raise CommandError(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
            "run it from a local connection, otherwise you need to set this option in the configuration file, "
            "and then restart the server.")
    if sub == b"help" and n == 2:
        return help_reply(argv[0], _HELP_DEBUG)
    if sub == b"config-rewrite-force-all" and n == 2:
        return _rewrite_force_all(c)
    if sub == b"sleep" and n == 3:
        try:
            secs = float(argv[2])
        except ValueError:
            secs = 0.0
        if secs > 0:
            time.sleep(secs)
        return resp.OK
    if sub == b"set-active-expire" and n == 3:
        ks = srv.ks
        try:
            on = int(argv[2]) != 0
        except ValueError:
            on = False
        if on:
            ks.__dict__.pop("active_expire", None)
        else:
            ks.active_expire = lambda budget=200: 0
        return resp.OK
    if sub == b"set-disable-deny-scripts" and n == 3:
        try:
            srv.extras["disable_deny_scripts"] = int(argv[2]) != 0
        except ValueError:
            srv.extras["disable_deny_scripts"] = False
        return resp.OK
    if sub == b"object" and n == 3:
        db = c.db
        v = db.data.get(argv[2])  # as Redis: the entry as it is, expired or not
        if v is None:
            raise CommandError(errors.NO_SUCH_KEY)
        from ..keyspace.eviction import idle_ms

        idle = idle_ms(srv, db, argv[2]) // 1000
        lru = (srv.clock.now_ms() // 1000 - idle) & ((1 << 24) - 1)
        extra = ""
        if type(v) is not bytes and v.type_name == "list":
            fill = srv.config["list-max-listpack-size"]
            try:
                from ..durability import rdb

                blobs = rdb._list_nodes(list(v), fill)  # noqa: SLF001  (Redis's quicklist fill)
            except Exception:
                blobs = [b""]
            nodes = max(1, len(blobs))
            extra = " ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d" % (
                nodes, len(v) / nodes, fill, 0, sum(len(b) for b in blobs))
        refcount = 1
        if type(v) is bytes and _is_int_str(v) and 0 <= int(v) < 10000:
            policy = srv.config["maxmemory-policy"]
            if srv.config["maxmemory"] == 0 or not ("lru" in policy or "lfu" in policy):
                refcount = 2147483647  # a shared integer object
        # a string's bytes object is new after every change, where Redis changes an integer
        # in place (INCR on an unshared value keeps its address): a per-key address then
        addr = id(v) if type(v) is not bytes else 0x7F0000000000 | (hash((db.id, argv[2])) & 0xFFFFFFFFF0)
        text = "Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s" % (
            addr, refcount, (db.str_enc.get(argv[2]) if type(v) is bytes else None) or _encoding(c, v),
            _serialized_length(c, v), lru, idle, extra)
        return resp.simple(text)
    if sub == b"digest" and n == 2:
        return resp.simple(dataset_digest(srv).hex())
    if sub == b"digest-value" and n >= 2:
        out = []
        db = c.db
        for key in argv[2:]:
            d = bytearray(20)
            v = db.lookup_nottl(key)
            if v is not None:
                value_digest(d, v, key in db.expires)
            out.append(resp.simple(bytes(d).hex()))
        return resp.array(out)
    if sub == b"protocol" and n == 3:
        name = argv[2].decode("latin-1").lower()
        got = _PROTOCOL.get(name)
        if got is None:
            raise CommandError("ERR Wrong protocol type name. Please use one of the following: "
                               "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        if name == "push" and c.resp == 3:
            c.push(b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n")
            return b"$40\r\nSome real reply following the push reply\r\n"
        return got[1] if c.resp == 3 else got[0]
    if sub == b"loadaof" and n == 2:
        node = srv.extras.get("node")
        if node is None or node.log is None or srv.tracker is None:
            raise CommandError("ERR DEBUG LOADAOF needs the log (appendonly yes)")
        from ..durability.recovery import reload_now

        reload_now(node)
        return resp.OK
    if sub == b"reload":
        for a in argv[2:]:
            if a.lower() not in (b"merge", b"noflush", b"nosave"):
                raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
        fn = srv.extras.get("debug_reload")
        if fn is None:
            raise CommandError("ERR DEBUG RELOAD is not supported by this node (no snapshot subsystem)")
        res = fn(c, [a.lower() for a in argv[2:]])
        if isinstance(res, bytes):
            return res
        return resp.OK
    if sub == b"error" and n == 3:
        raise CommandError(errors.sanitize(argv[2].decode("latin-1")))
    if sub == b"log" and n == 3:
        import logging

        logging.getLogger("durakv").warning("DEBUG LOG: %s", argv[2].decode("latin-1", "replace"))
        return resp.OK
    if sub == b"pause-cron" and n == 3:
        return resp.OK
    if sub == b"change-repl-id" and n == 2:
        srv.run_id = os.urandom(20).hex()
        return resp.OK
    if sub == b"quicklist-packed-threshold" and n == 3:
        from ..config import memtoull

        sz = memtoull(argv[2].decode("latin-1"))
        if sz is None or sz > (1 << 32) - (1 << 20):
            raise CommandError("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
        return resp.OK
    got = _debug_more(c, sub, argv)
    if got is not None:
        return got
    raise CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(errors.fmt_arg(argv[1]), "DEBUG"))


def _debug_lookup(c: Session, key: bytes) -> Any:
    """Redis's objectCommandLookupOrReply(c, key, shared.nokeyerr)."""
    v = c.db.lookup_nottl(key)
    if v is None:
        raise CommandError(errors.NO_SUCH_KEY)
    return v


def _dict_stats(keys: Any) -> str:
    """Redis's dictGetStats for a dict holding ``keys``: its table size is the power of two
    Redis's incremental growth reaches; chains are simulated with Python's hash (Redis's
    siphash is seeded at random, so only their shape can match)."""
    n = len(keys)
    head = "Hash table 0 stats (main hash table):\n"
    if n == 0:
        return head + "No stats available for empty dictionaries\n"
    size = 4
    while size < n:
        size *= 2
    chains = [0] * size
    for k in keys:
        chains[hash(k) & (size - 1)] += 1
    slots = sum(1 for x in chains if x)
    maxlen = max(chains)
    out = head + (" table size: %d\n number of elements: %d\n different slots: %d\n max chain length: %d\n"
                  " avg chain length (counted): %.02f\n avg chain length (computed): %.02f\n"
                  " Chain length distribution:\n" % (size, n, slots, maxlen, n / slots, n / slots))
    for length in range(min(maxlen, 49) + 1):
        cnt = chains.count(length)
        if cnt:
            out += "   %d: %d (%.02f%%)\n" % (length, cnt, cnt / size * 100)
    return out


_CLIENT_MEM_BUCKETS = 19  # CLIENT_MEM_USAGE_BUCKET_MAX_LOG (33) - MIN_LOG (15) + 1


def _debug_more(c: Session, sub: bytes, argv: list[bytes]) -> bytes | None:
    """The DEBUG subcommands Redis 7.0 has beyond the ones above (debug.c), or None."""
    n = len(argv)
    srv = c.srv
    if sub == b"populate" and 3 <= n <= 5:
        return _debug_populate(c, argv)
    if sub == b"sdslen" and n == 3:
        v = _debug_lookup(c, argv[2])
        if type(v) is not bytes or _is_int_str(v):
            raise CommandError("ERR Not an sds encoded string.")
        key = argv[2]
        if len(v) <= 44:  # embstr: the sds lives in the object's allocation, no spare room
            val_mem, val_avail = je_size(16 + 3 + len(v) + 1) - 16, 0
        else:  # sdsnewlen keeps the allocator's usable size as spare room; SET trims
            val_mem = je_size(_sds_hdr(len(v)) + len(v) + 1)  # more than a tenth of the length
            val_avail = val_mem - _sds_hdr(len(v)) - len(v) - 1
            if val_avail > len(v) // 10:
                val_avail = 0
        key_mem = _sds_size(key)
        key_avail = 0 if len(key) < 32 else key_mem - _sds_hdr(len(key)) - len(key) - 1  # sdshdr5 has none
        return resp.simple("key_sds_len:%d, key_sds_avail:%d, key_zmalloc: %d, val_sds_len:%d, val_sds_avail:%d, "
                           "val_zmalloc: %d" % (len(key), key_avail, key_mem, len(v), val_avail, val_mem))
    if sub == b"listpack" and n == 3:
        v = _debug_lookup(c, argv[2])
        if type(v) is bytes or v.encoding(srv.config) != "listpack":
            raise CommandError("ERR Not a listpack encoded object.")
        return resp.simple("Listpack structure printed on stdout")
    if sub == b"quicklist" and n in (3, 4):
        v = _debug_lookup(c, argv[2])
        if type(v) is bytes or v.encoding(srv.config) != "quicklist":
            raise CommandError("ERR Not a quicklist encoded object.")
        return resp.simple("Quicklist structure printed on stdout")
    if sub == b"htstats" and n == 3:
        dbid = parse_int(argv[2])
        if dbid < 0 or dbid >= len(srv.ks.dbs):
            raise CommandError("ERR Out of range database")
        db = srv.ks.dbs[dbid]
        text = "[Dictionary HT]\n" + _dict_stats(db.data) + "[Expires HT]\n" + _dict_stats(db.expires)
        return c.r.verbatim(text.encode())
    if sub == b"htstats-key" and n == 3:
        v = _debug_lookup(c, argv[2])
        enc = "" if type(v) is bytes else v.encoding(srv.config)
        if enc not in ("hashtable", "skiplist"):
            raise CommandError("ERR The value stored at the specified key is not represented using an hash table")
        return c.r.verbatim(_dict_stats(list(v) if enc == "hashtable" else list(v.items())).encode())
    if sub in (b"mallctl", b"mallctl-str") and 3 <= n <= 4:
        raise CommandError("ERR No such file or directory")  # no jemalloc: every key is unknown
    if sub == b"structsize" and n == 2:
        return resp.bulk(b"bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 ")
    if sub == b"client-eviction" and n == 2:
        if srv.config["maxmemory-clients"] in (0, "0%"):
            raise CommandError("ERR maxmemory-clients is disabled.")
        lines = []
        for j in range(_CLIENT_MEM_BUCKETS):
            head = "bucket          0" if j == 0 else "bucket %10d" % (1 << (j - 1 + 15))
            head += "+            : " if j == _CLIENT_MEM_BUCKETS - 1 else " - %10d: " % ((1 << (j + 15)) - 1)
            clients = len(srv.clients) if j == 0 else 0
            lines.append(head + "tot-mem: %10d, clients: %d\n" % (1024 * clients, clients))
        return c.r.verbatim("".join(lines).encode())
    if sub in (b"set-skip-checksum-validation", b"aof-flush-sleep") and n == 3:
        srv.extras["debug_" + sub.decode()] = _atoi(argv[2])
        return resp.OK
    if sub == b"replybuffer" and n == 4:
        opt = argv[2].lower()
        if opt == b"peak-reset-time":
            if argv[3].lower() not in (b"never", b"reset"):
                parse_int(argv[3])
        elif opt != b"resizing":
            raise CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(errors.fmt_arg(argv[1]), "DEBUG"))
        return resp.OK
    if sub == b"stringmatch-test" and n == 2:  # Redis fuzzes its stringmatchlen() here
        return resp.simple("Apparently Redis did not crash: test passed")
    if sub == b"drop-cluster-packet-filter" and n == 3:
        parse_int(argv[2])
        return resp.OK
    if sub == b"clusterlink" and n == 5 and argv[2].lower() == b"kill":
        if srv.cluster is None:
            raise CommandError("ERR Debug option only available for cluster mode enabled setup!")
    return None


def _atoi(b: bytes) -> int:
    m = re.match(rb"\s*[-+]?\d+", b)
    return int(m.group()) if m else 0


def _debug_populate(c: Session, argv: list[bytes]) -> bytes:
    """DEBUG POPULATE count [prefix] [size]: string keys prefix:N = value:N (padded with
    zero bytes or cut to size); existing keys are left alone.  Logged as MSETs."""
    def positive(a: bytes) -> int:
        try:
            v = parse_int(a)
        except CommandError:
            v = -1
        if v < 0:
            raise CommandError(errors.NEGATIVE_LENGTH)
        return v

    count = positive(argv[2])
    size = positive(argv[4]) if len(argv) == 5 else 0
    prefix = argv[3] if len(argv) >= 4 else b"key"
    db = c.db
    batch: list[bytes] = []
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]  # Redis formats it into a 128-byte buffer
        if db.lookup(key) is not None:
            continue
        val = b"value:%d" % j
        if size:
            val = val[:size] + b"\0" * max(0, size - len(val))
        db.add(key, val)
        db.ks.signal_modified(db, key)
        batch += (key, val)
        if len(batch) >= 2000:
            c.propagate([b"MSET", *batch])
            batch = []
    if batch:
        c.propagate([b"MSET", *batch])
    return resp.OK


# --------------------------------------------------------------------------- SHUTDOWN


@command("shutdown", -1, "admin noscript loading stale no_multi allow_busy", "@admin @slow @dangerous")
def shutdown(c: Session, argv: list[bytes]) -> bytes:
    save = nosave = abort = False
    for a in argv[1:]:
        x = a.lower()
        if x == b"nosave":
            nosave = True
        elif x == b"save":
            save = True
        elif x in (b"now", b"force"):
            pass
        elif x == b"abort":
            abort = True
        else:
            raise CommandError(errors.SYNTAX)
    if (save and nosave) or (abort and len(argv) != 2):
        raise CommandError(errors.SYNTAX)
    if abort:
        raise CommandError("ERR No shutdown in progress.")
    fn = c.srv.shutdown
    if fn is None:
        raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
    fn(True if save else (False if nosave else None))
    c.close_after_reply = True
    c.close()
    return b""


# --------------------------------------------------------------------------- CLUSTER, ASKING, MIGRATE

# durakv runs standalone: Redis 7.0 with cluster-enabled no answers every CLUSTER
# subcommand (HELP included) and ASKING with this error, after the usual arity checks.

container("cluster", -2, "@slow")


def _cluster_disabled(c: Session, argv: list[bytes]) -> bytes:
    fn = c.srv.extras.get("cluster_command")
    if c.srv.cluster is not None and fn is not None:
        return fn(c, argv)
    raise CommandError(errors.CLUSTER_DISABLED)


for _name, _arity, _flags, _acl in (
    ("help", 2, "loading stale", "@slow"),
    ("slaves", 3, "admin stale", "@admin @slow @dangerous"),
    ("meet", -4, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("setslot", -4, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("forget", 3, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("failover", -2, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("countkeysinslot", 3, "stale", "@slow"),
    ("replicate", 3, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("slots", 2, "stale", "@slow"),
    ("nodes", 2, "stale", "@slow"),
    ("shards", 2, "stale", "@slow"),
    ("myid", 2, "stale", "@slow"),
    ("links", 2, "stale", "@slow"),
    ("getkeysinslot", 4, "stale", "@slow"),
    ("saveconfig", 2, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("flushslots", 2, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("addslotsrange", -4, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("count-failure-reports", 3, "admin stale", "@admin @slow @dangerous"),
    ("delslotsrange", -4, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("delslots", -3, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("bumpepoch", 2, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("info", 2, "stale", "@slow"),
    ("reset", -2, "admin noscript stale", "@admin @slow @dangerous"),
    ("keyslot", 3, "stale", "@slow"),
    ("addslots", -3, "admin stale no_async_loading", "@admin @slow @dangerous"),
    ("replicas", 3, "admin stale", "@admin @slow @dangerous"),
    ("set-config-epoch", 3, "admin stale no_async_loading", "@admin @slow @dangerous"),
):
    spec.declare("cluster|" + _name, _arity, _flags, _acl, handler=_cluster_disabled)


@command("asking", 1, "fast", "@fast @connection")
def asking(c: Session, argv: list[bytes]) -> bytes:
    if c.srv.cluster is None:
        raise CommandError(errors.CLUSTER_DISABLED)
    c.asking = True
    return resp.OK


def _restore_asking(c: Session, argv: list[bytes]) -> bytes:
    from .dump import restore

    return restore(c, argv)


spec.declare("restore-asking", -4, "write denyoom asking", "@keyspace @write @slow @dangerous",
             keys=(1, 1, 1), handler=_restore_asking)

_MIGRATE_KEYS_NOT_EMPTY = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
_MIGRATE_SKIP = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def _migrate_keys(argv: list[bytes]) -> list[int]:
    """Redis's migrateGetKeys."""
    first, num = 3, 1
    n = len(argv)
    if n > 6:
        i = 6
        while i < n:
            a = argv[i].lower()
            if a == b"keys":
                if argv[3]:
                    return []
                first = i + 1
                num = n - first
                break
            i += _MIGRATE_SKIP.get(a, 0) + 1
    return list(range(first, first + num))


class _MigrateSocket:
    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.last_dbid = -1
        self.last_use = time.monotonic()
        self.buf = b""

    def readline(self, deadline: float) -> bytes:
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line


def _migrate_sockets(c: Session) -> dict[bytes, _MigrateSocket]:
    return c.srv.extras.setdefault("migrate_sockets", {})


def _migrate_socket(c: Session, host: bytes, port: bytes, timeout_ms: int) -> _MigrateSocket:
    import socket

    socks = _migrate_sockets(c)
    name = host + b":" + port
    cs = socks.get(name)
    if cs is not None:
        cs.last_use = time.monotonic()
        return cs
    if len(socks) == 64:  # Redis: MIGRATE_SOCKET_CACHE_ITEMS, evict one at random
        victim = next(iter(socks))
        _migrate_close(c, victim)
    m = re.match(rb"\s*[-+]?\d+", port)  # atoi()
    portnum = int(m.group()) if m else 0
    sock: Any = None
    try:
        sock = socket.create_connection((host.decode("latin-1"), portnum & 0xFFFF), timeout=timeout_ms / 1000)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (ConnectionRefusedError, ConnectionResetError):
        # Redis's non-blocking connect reports a refused connection as connected: the
        # write that follows fails ("error or timeout writing to target instance")
        sock = None
    except (OSError, ValueError, OverflowError, UnicodeError):
        raise CommandError("IOERR error or timeout connecting to the client") from None
    cs = socks[name] = _MigrateSocket(sock)
    return cs


def _migrate_close(c: Session, name: bytes) -> None:
    cs = _migrate_sockets(c).pop(name, None)
    if cs is not None:
        _migrate_close_sock(cs)


def _migrate_close_sock(cs: _MigrateSocket) -> None:
    if cs.sock is not None:
        try:
            cs.sock.close()
        except OSError:
            pass


def _bulk_cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


@command("migrate", -6, "write", "@keyspace @write @slow @dangerous", keys=(3, 3, 1), keys_fn=_migrate_keys)
def migrate(c: Session, argv: list[bytes]) -> bytes:
    """Redis's migrateCommand: DUMP + RESTORE over a cached connection, then DEL locally."""
    from ..durability import rdb

    copy = replace = False
    username = password = None
    first_key, num_keys = 3, 1
    n = len(argv)
    j = 6
    while j < n:
        more = n - 1 - j
        a = argv[j].lower()
        if a == b"copy":
            copy = True
        elif a == b"replace":
            replace = True
        elif a == b"auth":
            if not more:
                raise CommandError(errors.SYNTAX)
            j += 1
            password = argv[j]
        elif a == b"auth2":
            if more < 2:
                raise CommandError(errors.SYNTAX)
            username, password = argv[j + 1], argv[j + 2]
            j += 2
        elif a == b"keys":
            if argv[3]:
                raise CommandError(_MIGRATE_KEYS_NOT_EMPTY)
            first_key = j + 1
            num_keys = n - j - 1
            break
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    timeout = parse_int(argv[5])
    dbid = parse_int(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = c.db
    keys = [k for k in argv[first_key:first_key + num_keys] if db.lookup(k) is not None]
    if not keys:
        return b"+NOKEY\r\n"
    name = argv[1] + b":" + argv[2]
    may_retry = True
    while True:
        cs = _migrate_socket(c, argv[1], argv[2], timeout)
        out = []
        if password is not None:
            out.append(_bulk_cmd(b"AUTH", username, password) if username is not None else _bulk_cmd(b"AUTH", password))
        select = cs.last_dbid != dbid
        if select:
            out.append(_bulk_cmd(b"SELECT", b"%d" % dbid))
        now = c.srv.clock.now_ms()
        sent = []
        for k in keys:
            v = db.data.get(k)
            if v is None:
                continue
            ttl = 0
            when = db.get_expire(k)
            if when is not None:
                ttl = when - now
                if ttl < 0:
                    continue
                ttl = max(ttl, 1)
            sent.append(k)
            args = [b"RESTORE-ASKING" if c.srv.cluster is not None else b"RESTORE", k, b"%d" % ttl,
                    rdb.dump_payload(v, c.srv.config)]
            if replace:
                args.append(b"REPLACE")
            out.append(_bulk_cmd(*args))
        deadline = time.monotonic() + timeout / 1000
        write_error = False
        try:
            try:
                if cs.sock is None:
                    raise ConnectionRefusedError
                cs.sock.settimeout(timeout / 1000)
                cs.sock.sendall(b"".join(out))
            except OSError:
                write_error = True
                raise
            auth_reply = cs.readline(deadline) if password is not None else b"+"
            select_reply = cs.readline(deadline) if select else b"+"
        except (OSError, ConnectionError):
            _migrate_close(c, name)
            if may_retry and not isinstance(sys.exc_info()[1], TimeoutError):
                may_retry = False
                continue
            raise CommandError("IOERR error or timeout %s to target instance"
                               % ("writing" if write_error else "reading")) from None
        error = None
        socket_error = False
        deleted: list[bytes] = []
        done = 0
        for k in sent:
            try:
                line = cs.readline(deadline)
            except (OSError, ConnectionError):
                socket_error = True
                break
            done += 1
            if auth_reply[:1] == b"-" or select_reply[:1] == b"-" or line[:1] == b"-":
                if error is None:
                    cs.last_dbid = -1
                    bad = auth_reply if auth_reply[:1] == b"-" else (select_reply if select_reply[:1] == b"-" else line)
                    error = "Target instance replied with error: %s" % bad[1:].decode("latin-1")
            elif not copy:
                db.remove(k)
                deleted.append(k)
        if error is None and socket_error and done == 0 and may_retry:
            _migrate_close(c, name)
            may_retry = False
            continue
        if socket_error:
            _migrate_close(c, name)
        if deleted:
            c.propagate([b"DEL", *deleted])
        if error is not None:
            raise CommandError("ERR " + error)
        if socket_error:
            raise CommandError("IOERR error or timeout reading to target instance")
        cs.last_dbid = dbid
        return resp.OK


def _migrate_cron(node: Any) -> None:
    """Redis's migrateCloseTimedoutSockets: cached sockets idle for 10 s are closed."""
    socks = node.ctx.extras.get("migrate_sockets")
    if not socks:
        return
    now = time.monotonic()
    for name, cs in list(socks.items()):
        if now - cs.last_use > 10:
            _migrate_close_sock(socks.pop(name))


# --------------------------------------------------------------------------- MODULE, LOLWUT

_MODULE_NOT_ALLOWED = (
    "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run "
    "it from a local connection, otherwise you need to set this option in the configuration file, and then "
    "restart the server."
)

container("module", -2, "@slow")


@command("module|list", 2, "admin noscript", "@admin @slow @dangerous")
def module_list(c: Session, argv: list[bytes]) -> bytes:
    return resp.EMPTY_ARRAY


def _module_refused(c: Session) -> None:
    if c.srv.config["enable-module-command"] == "no" or (
        c.srv.config["enable-module-command"] == "local" and not c.addr.startswith(("127.", "::1"))
    ):
        raise CommandError(_MODULE_NOT_ALLOWED)


@command("module|load", -3, "admin noscript no_async_loading", "@admin @slow @dangerous")
def module_load(c: Session, argv: list[bytes]) -> bytes:
    _module_refused(c)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@command("module|loadex", -3, "admin noscript no_async_loading", "@admin @slow @dangerous")
def module_loadex(c: Session, argv: list[bytes]) -> bytes:
    _module_refused(c)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@command("module|unload", 3, "admin noscript no_async_loading", "@admin @slow @dangerous")
def module_unload(c: Session, argv: list[bytes]) -> bytes:
    _module_refused(c)
    raise CommandError("ERR Error unloading module: no such module with that name")


@command("module|help", 2, "loading stale", "@slow")
def module_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], (
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
    ))


@command("lolwut", -1, "readonly fast", "@read @fast")
def lolwut(c: Session, argv: list[bytes]) -> bytes:
    version = 7
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = parse_int(argv[2])
    if version == 5:
        text = "\u280b\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
    elif version == 6:
        text = ("\n\nDedicated to the 8 bit game developers of past and present.\n"
                "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n")
    else:
        text = "Redis ver. 7.0.15\n"
    return c.r.verbatim(text.encode())


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



def install(node: Any) -> None:
    """Listed in node.SUBSYSTEMS: the slow log / latency monitor and the MONITOR feed."""
    ctx = node.ctx
    sl = ctx.slowlog = SlowLog(ctx)
    for name in ("slowlog-log-slower-than", "latency-monitor-threshold"):
        node.config.watch(name, lambda v: sl.update())
    ctx.extras["monitor_feed"] = monitor_feed
    ctx.extras.setdefault("resetstat", [])
    samples: list[int] = []
    last = [time.monotonic(), 0]

    def ops_cron(node: Any) -> None:  # Redis's trackInstantaneousMetric (16 samples)
        now = time.monotonic()
        if now - last[0] < 0.1:
            return
        total = ctx.stats.total_commands_processed
        samples.append(int((total - last[1]) / (now - last[0])) if total >= last[1] else 0)
        del samples[:-16]
        last[0], last[1] = now, total

    ctx.extras.setdefault("cron", []).append(ops_cron)
    ctx.extras["cron"].append(_migrate_cron)
    ctx.extras["ops_per_sec"] = lambda: sum(samples) // len(samples) if samples else 0
