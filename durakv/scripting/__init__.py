"""Lua scripts (EVAL/EVALSHA & co) and functions (FUNCTION/FCALL) for one node.

``install(node)`` sets ``ctx.scripting`` to a :class:`Scripting`, which owns:

* the script cache (sha1 -> compiled function) in one sandboxed Lua state,
* the function libraries (name -> code and registered functions) in a second Lua state,
* the script session: a :class:`~durakv.session.Session` used to run the commands a script
  calls through the dispatcher (so each inner command's effects are what the log records),
* the busy-script machinery: a Lua count hook that, past ``busy-reply-threshold``
  (lua-time-limit), answers other clients ``-BUSY`` and honours SCRIPT KILL / FUNCTION KILL.

Functions are data: FUNCTION LOAD/DELETE/FLUSH/RESTORE are write commands whose argv is
logged; snapshots use :meth:`Scripting.dump_libraries` / :meth:`Scripting.load_library`.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any

from .. import dispatch, errors
from ..clock import FixedClock
from ..errors import CommandError
from ..protocol import resp
from ..protocol.parser import split_args
from ..session import BLOCKED, Session
from ..spec import COMMANDS, CommandSpec
from .lua import LuaEngine, lua_type

if TYPE_CHECKING:
    from ..node import Node

# Redis 7.0's CMD_MAY_REPLICATE commands a script can call (the flag COMMAND INFO hides):
# read-only scripts refuse them like writes
_MAY_REPLICATE = frozenset({"publish", "spublish", "pfcount"})
SCRIPT_FLAGS = ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys")
_NAME_RE = re.compile(rb"^[A-Za-z0-9_]+$")


@dataclass
class Script:
    sha: bytes
    body: bytes
    fn: Any
    flags: frozenset[str] | None  # None: no shebang (compatibility mode)


@dataclass
class Function:
    name: bytes
    fn: Any
    library: Library
    flags: frozenset[str]
    description: bytes | None


@dataclass
class Library:
    name: bytes
    code: bytes
    functions: dict[bytes, Function] = field(default_factory=dict)


class ScriptRun:
    """The script being executed: its caller, session and permissions.

    Scripting keeps one and resets it for every run (scripts never nest).
    """

    __slots__ = ("scripting", "caller", "session", "readonly", "dirty", "allow_oom", "oom", "funcname",
                 "start", "is_function", "kill", "argv", "numkeys", "counted_errors")

    def __init__(self, scripting: Scripting) -> None:
        self.scripting = scripting
        self.caller: Session | None = None
        self.session = scripting.session
        self.readonly = False
        self.dirty = False
        self.allow_oom = False
        self.oom = False
        self.funcname = b""
        self.start = 0.0
        self.is_function = False
        self.kill = False
        self.argv: list[bytes] = []  # the EVAL/FCALL command: name, script, numkeys, keys, args
        self.numkeys = 0
        # error replies of the script's commands, already in the error stats: when the
        # script ends with one of them, Redis does not count it again
        self.counted_errors: list[bytes] = []

    @property
    def keys(self) -> list[bytes]:
        return self.argv[3:3 + self.numkeys]

    def check_command(self, argv: list[bytes]) -> CommandSpec | bytes:
        """Redis's scriptCall checks; returns the spec or the error text for Lua."""
        spec = COMMANDS.get(argv[0])
        if spec is None or spec.subcommands or (spec.arity > 0 and len(argv) != spec.arity) or len(argv) < -spec.arity:
            spec = dispatch.resolve(argv)
        if type(spec) is str:
            if spec.startswith("ERR wrong number of arguments"):
                return b"Wrong number of args calling Redis command from script"
            return b"Unknown Redis command called from script"
        flags = spec.flags
        if "noscript" in flags and not self.scripting.ctx.extras.get("disable_deny_scripts"):
            return b"This Redis command is not allowed from script"
        srv = self.scripting.ctx
        if srv.gated and srv.acl is not None and self.caller.user is not None:  # gated: acl may be set
            err = srv.acl.check(self.session, spec, argv)
            if err is not None:
                return self._rejected(spec, _acl_script_error(srv.acl.last_reason))
        write = spec.is_write
        if self.readonly and (write or "may_replicate" in flags or spec.name in _MAY_REPLICATE):
            return self._rejected(spec, b"Write commands are not allowed from read-only scripts.")
        if write and not self.dirty:
            if srv.role != "master" and not self.caller.replaying:
                return self._rejected(spec, b"-" + errors.READONLY.encode())
            if srv.write_refused is not None:
                return self._rejected(spec, b"-" + errors.MISCONF_LOG.format(srv.write_refused).encode())
            if srv.noreplicas and not self.caller.replaying:
                return self._rejected(spec, b"-" + errors.NOREPLICAS.encode())
        if self.oom and not self.allow_oom and not self.dirty and "denyoom" in flags:
            return self._rejected(spec, b"-" + errors.OOM.encode())
        if write:
            self.dirty = True
        return spec

    def _rejected(self, spec: CommandSpec, msg: bytes) -> bytes:
        """A command the script may not run now: counted as Redis's scriptCall does (the
        command's rejected_calls, the error's errorstat, once even if it ends the script)."""
        spec.rejected_calls += 1
        text = msg[1:] if msg[:1] == b"-" else b"ERR " + msg
        self.scripting.ctx.stats.count_error(text.decode("latin-1"))
        self.counted_errors.append(text)
        return msg

    def execute(self, spec: CommandSpec, argv: list[bytes]) -> bytes:
        s = self.session
        reply = dispatch.call(s, spec, argv)
        if reply is BLOCKED:  # a blocking command inside a script never blocks
            return s.r.null
        return reply


def _acl_script_error(reason: str) -> bytes:
    """The script error for an ACL denial; ``reason`` is what was denied (acl.last_reason)."""
    if reason == "key":
        what = "can't access at least one of the keys mentioned in the command arguments"
    elif reason == "channel":
        what = "can't publish to the channel mentioned in the command"
    else:
        what = "can't run this command or subcommand"
    return ("The user executing the script " + what).encode()


class Scripting:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.ctx = node.ctx
        self.rand = [0x1234ABCD330E]  # math.random's rand48 state (see LuaEngine)
        self._fixed_clock = FixedClock(self.ctx.clock, 0)  # the keyspace's clock while a script runs
        self.engine = LuaEngine(self)
        self.engine.api[b"setup_eval"]()
        self.scripts: dict[bytes, Script] = {}
        self._by_body: dict[bytes, Script] = {}  # the same scripts by body (EVAL's lookup)
        self.fengine = LuaEngine(self)
        self.fengine.api[b"strip_eval_only"]()
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}  # by lowercase name: FCALL ignores case
        self.current: ScriptRun | None = None
        self.session = Session(self.ctx, 0, self.ctx.ks.dbs[0])
        self.session.in_script = True
        self.session.authenticated = True
        self.session.kind = "lua"
        self.session.name = b""
        self._run = ScriptRun(self)
        from .busy import BusyGuard

        self.busy = BusyGuard(self)

    # -- scripts -------------------------------------------------------------------------------
    @staticmethod
    def sha(body: bytes) -> bytes:
        return hashlib.sha1(body).hexdigest().encode()

    def create_script(self, body: bytes, sha: bytes | None = None) -> Script:
        """Compile and cache a script (luaCreateFunction); raises CommandError."""
        if sha is None:
            sc = self._by_body.get(body)  # EVAL of a cached body: no SHA1 to compute
            if sc is not None:
                return sc
            sha = self.sha(body)
        sc = self.scripts.get(sha)
        if sc is not None:
            self._by_body[sc.body] = sc
            return sc
        flags, code = parse_eval_shebang(body)
        fn, err = self.engine.compile(code, b"@user_script")
        if fn is None:
            raise CommandError("ERR Error compiling script (new function): %s" % _s(err))
        sc = Script(sha, body, fn, flags)
        self.scripts[sha] = sc
        self._by_body[body] = sc
        return sc

    def flush_scripts(self) -> None:
        self.scripts.clear()
        self._by_body.clear()
        self.engine = LuaEngine(self)
        self.engine.api[b"setup_eval"]()

    def prepare(self, c: Session, flags: frozenset[str] | None, is_ro: bool) -> tuple[bool, bool]:
        """scriptPrepareForRun: (readonly, allow_oom); raises the refusal errors."""
        srv = self.ctx
        if flags is None:  # compatibility mode (no shebang)
            return is_ro, False
        if "no-cluster" in flags and srv.cluster is not None:
            raise CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
        no_writes = "no-writes" in flags
        if not no_writes:
            # processCommand treats the script as a write (and denyoom unless allow-oom) first
            err = dispatch.refusal(c, True, "allow-oom" not in flags)
            if err is not None:
                raise CommandError(err)
            if is_ro:
                raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        return no_writes or is_ro, "allow-oom" in flags

    def run(self, c: Session, fn: Any, argv: list[bytes], numkeys: int, funcname: bytes,
            readonly: bool, allow_oom: bool, compat: bool, is_function: bool) -> bytes:
        """Run a script or function for EVAL & co / FCALL & co (``argv``: that command,
        its keys and arguments from index 3, ``numkeys`` of them keys)."""
        if self.current is not None:
            raise CommandError("ERR This Redis command is not allowed from script")
        srv = self.ctx
        run = self._run
        run.caller = c
        run.readonly = readonly
        run.dirty = False
        run.allow_oom = allow_oom
        run.oom = compat and srv.evictor is not None and not srv.evictor.make_room()
        run.funcname = funcname
        run.start = _monotonic()
        run.is_function = is_function
        run.kill = False
        run.argv = argv
        run.numkeys = numkeys
        if run.counted_errors:
            run.counted_errors.clear()
        s = self.session
        s.db = c.db
        if s.resp != 2:
            s.set_resp(2)
        s.user = c.user
        s.wait = 0
        s.tracking = c.tracking
        replaying = s.replaying = c.replaying
        self.current = run  # (the busy hook's view of the script too)
        tracker = srv.tracker
        group = tracker.begin_group() if tracker is not None and not replaying else None
        ks = srv.ks
        clock = ks.clock
        fixed = self._fixed_clock
        fixed.base = clock
        fixed.ms = clock.now_ms()
        ks.clock = fixed  # keys expire as of the script's start
        eng = self.fengine if is_function else self.engine
        call = eng._call_function if is_function else eng._run_with
        try:
            # the common shapes as positional calls: lupa takes them faster than *argv[3:]
            nargs = len(argv)
            if nargs == 4:
                res = call(fn, numkeys, argv[3])
            elif nargs == 3:
                res = call(fn, 0)
            elif nargs == 5:
                res = call(fn, numkeys, argv[3], argv[4])
            else:
                res = call(fn, numkeys, *argv[3:])
            t = type(res)
            if t is int:
                reply = resp.integer(res)
            elif t is bytes:
                reply = b"$%d\r\n%s\r\n" % (len(res), res)
            elif t is tuple:  # (None, error): the script failed
                reply = b"-" + eng.error_text(res[1], funcname) + b"\r\n"
            else:
                reply = eng.to_resp(res, c.r, s.resp)
        finally:
            ks.clock = clock
            if group is not None:
                tracker.end_group(group)  # type: ignore[union-attr]
            hook = self.busy
            if hook.busy or hook.fast_hook:
                hook.end(run, eng)
            self.current = None
            s.tracking = None
            s.user = None
            run.caller = None  # keep no reference to a client session between scripts
        if s.wait > c.wait:
            c.wait = s.wait
        if reply[0] == 45:
            text = reply[1:-2]
            if not any(text.startswith(e) for e in run.counted_errors):
                srv.stats.count_error(text.decode("latin-1"))
        return reply

    # -- functions --------------------------------------------------------------------------------
    def load_library(self, code: bytes, replace: bool = False) -> bytes:
        """FUNCTION LOAD: compile, register; returns the library name (raises CommandError)."""
        name, body = parse_function_shebang(code)
        old = self.libraries.get(name)
        if old is not None and not replace:
            raise CommandError("ERR Library '%s' already exists" % _s(name))
        eng = self.fengine
        fn, err = eng.compile(body, b"@user_function")
        if fn is None:
            raise CommandError("ERR Error compiling function: %s" % _s(err))
        lib = Library(name, code)
        reg = _Registrar(self, lib)
        self.busy.begin_load(eng)
        try:
            ok, res = eng.load_library(fn, reg)
        finally:
            self.busy.end_load()
        if not ok:
            msg = res[b"err"] if lua_type(res) == "table" else res
            raise CommandError("ERR Error registering functions: %s" % _s(msg if isinstance(msg, bytes) else b""))
        if not lib.functions:
            raise CommandError("ERR No functions registered")
        for fname in lib.functions:
            other = self.functions.get(fname.lower())
            if other is not None and other.library.name != name:
                raise CommandError("ERR Function %s already exists" % _s(fname))
        if old is not None:
            for fname in old.functions:
                self.functions.pop(fname.lower(), None)
        self.libraries[name] = lib
        for fname, f in lib.functions.items():
            self.functions[fname.lower()] = f
        return name

    def delete_library(self, name: bytes) -> None:
        lib = self.libraries.pop(name, None)
        if lib is None:
            raise CommandError("ERR Library not found")
        for fname in lib.functions:
            self.functions.pop(fname.lower(), None)

    def flush_functions(self) -> None:
        # Redis keeps the functions' Lua VM (state such as cjson's settings survives): only
        # the libraries go (their callbacks are unreachable once these dicts drop them)
        self.libraries.clear()
        self.functions.clear()

    def stats_reply(self, r: Any) -> bytes:
        """FUNCTION STATS (also answered while a function is busy)."""
        run = self.current
        if run is not None and run.is_function:
            ms = int((time.monotonic() - run.start) * 1000)
            running = r.map([
                (resp.bulk(b"name"), resp.bulk(run.funcname)),
                (resp.bulk(b"command"), resp.bulks(run.argv)),
                (resp.bulk(b"duration_ms"), resp.integer(ms)),
            ])
        else:
            running = r.null
        engines = r.map([(resp.bulk(b"LUA"), r.map([
            (resp.bulk(b"libraries_count"), resp.integer(len(self.libraries))),
            (resp.bulk(b"functions_count"), resp.integer(len(self.functions))),
        ]))])
        return r.map([(resp.bulk(b"running_script"), running), (resp.bulk(b"engines"), engines)])

    def dump_libraries(self) -> list[bytes]:
        """The code of every library (for snapshots and FUNCTION DUMP)."""
        return [lib.code for lib in self.libraries.values()]


class _Registrar:
    """redis.register_function during FUNCTION LOAD."""

    def __init__(self, scripting: Scripting, lib: Library) -> None:
        self.scripting = scripting
        self.lib = lib

    def __call__(self, *args: Any) -> Any:
        eng = self.scripting.fengine
        err = eng.push_error
        description = None
        flags: frozenset[str] = frozenset()
        if len(args) == 1 and lua_type(args[0]) == "table":  # luaRegisterFunctionReadNamedArgs
            t = args[0]
            name = callback = None
            for k, v in t.items():
                if type(k) in (int, float) and type(k) is not bool:
                    k = b"%.14g" % k
                elif type(k) is not bytes:
                    return _raise(err(b"named argument key given to redis.register_function is not a string"))
                key = k.split(b"\0", 1)[0].lower()
                if key == b"function_name":
                    name = _lua_string(v)
                    if name is None:
                        return _raise(err(b"function_name argument given to redis.register_function must be a string"))
                elif key == b"description":
                    description = _lua_string(v)
                    if description is None:
                        return _raise(err(b"description argument given to redis.register_function must be a string"))
                elif key == b"callback":
                    if lua_type(v) != "function":
                        return _raise(err(b"callback argument given to redis.register_function must be a function"))
                    callback = v
                elif key == b"flags":
                    if lua_type(v) != "table":
                        return _raise(err(b"flags argument to redis.register_function must be a table representing function flags"))
                    fl = set()
                    i = 1
                    while True:  # the array part, up to the first nil; flags ignore case
                        f = v[i]
                        if f is None:
                            break
                        f = _lua_string(f)
                        fs = f.decode("latin-1").lower() if f is not None else None
                        if fs not in SCRIPT_FLAGS:
                            return _raise(err(b"unknown flag given"))
                        fl.add(fs)
                        i += 1
                    flags = frozenset(fl)
                else:
                    return _raise(err(b"unknown argument given to redis.register_function"))
            if name is None:
                return _raise(err(b"redis.register_function must get a function name argument"))
            if callback is None:
                return _raise(err(b"redis.register_function must get a callback argument"))
        elif len(args) == 2:
            name, callback = _lua_string(args[0]), args[1]
            if name is None:
                return _raise(err(b"first argument to redis.register_function must be a string"))
            if lua_type(callback) != "function":
                return _raise(err(b"second argument to redis.register_function must be a function"))
        elif len(args) == 1:
            return _raise(err(b"calling redis.register_function with a single argument is only applicable to "
                              b"Lua table (representing named arguments)."))
        else:
            return _raise(err(b"wrong number of arguments to redis.register_function"))
        if not _NAME_RE.match(name):
            return _raise(err(b"Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"))
        if name in self.lib.functions:
            return _raise(err(b"Function already exists in the library"))
        self.lib.functions[name] = Function(name, callback, self.lib, flags, description)
        return None


def _lua_string(v: Any) -> bytes | None:
    """luaGetStringSds: a string, or a number as Lua writes it (None otherwise)."""
    if type(v) is bytes:
        return v
    if type(v) in (int, float) and type(v) is not bool:
        return b"%.14g" % v
    return None


def _raise(err_table: Any) -> Any:
    """register_function failures: the Lua wrapper raises the returned error table."""
    return err_table


def _s(b: Any) -> str:
    if isinstance(b, bytes):
        return b.decode("latin-1")
    return str(b)


def parse_eval_shebang(body: bytes) -> tuple[frozenset[str] | None, bytes]:
    """``#!lua flags=a,b`` of EVAL scripts (evalExtractShebangFlags); returns (flags or None,
    the code to compile: the shebang line dropped, its line feed kept)."""
    if not body.startswith(b"#!"):
        return None, body
    nl = body.find(b"\n")
    if nl < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = split_args(body[:nl])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError("ERR Unexpected engine in script shebang: %s" % _s(parts[0]))
    flags: set[str] = set()
    for p in parts[1:]:
        if p.startswith(b"flags="):
            for f in p[6:].split(b",") if len(p) > 6 else ():
                fs = f.decode("latin-1")
                if fs not in SCRIPT_FLAGS:
                    raise CommandError("ERR Unexpected flag in script shebang: %s" % fs)
                flags.add(fs)
        else:
            raise CommandError("ERR Unknown lua shebang option: %s" % _s(p))
    return frozenset(flags), body[nl:]


def parse_function_shebang(code: bytes) -> tuple[bytes, bytes]:
    """``#!lua name=lib`` of FUNCTION LOAD (functionExtractLibMetaData + the name and engine
    checks, in Redis's order); returns (library name, code to compile)."""
    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    nl = code.find(b"\n")
    if nl < 0:
        raise CommandError(errors.INVALID_LIBRARY_METADATA)
    parts = split_args(code[:nl])
    if not parts:
        raise CommandError(errors.INVALID_LIBRARY_METADATA)
    engine = parts[0][2:]
    name = None
    for p in parts[1:]:
        if p[:5].lower() == b"name=":
            if name is not None:
                raise CommandError("ERR Invalid metadata value, name argument was given multiple times")
            name = p[5:]
        else:
            raise CommandError("ERR Invalid metadata value given: %s" % _s(p))
    if name is None:
        raise CommandError("ERR Library name was not given")
    if not _NAME_RE.match(name):
        raise CommandError(
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
        )
    if engine.lower() != b"lua":
        raise CommandError("ERR Engine '%s' not found" % _s(engine))
    return name, code[nl:]


def install(node: Node) -> None:
    node.ctx.scripting = Scripting(node)
