"""The Lua 5.1 runtime of scripts and functions: sandbox, the ``redis`` API, conversions.

One :class:`LuaEngine` wraps one ``lupa.lua51.LuaRuntime``.  The bootstrap (Lua code in
``_BOOT``) builds what Redis 7.0 builds in C:

* the global environment is a protected proxy: reading a missing global raises
  "Script attempted to access nonexistent global variable 'x'", writing any global (or a
  field of a library table) raises "Attempt to modify a readonly table";
* os/io/package/require/loadfile/dofile/print/setfenv/getfenv/newproxy/debug are gone;
* ``redis.*`` (call, pcall, error_reply, status_reply, sha1hex, log, setresp, set_repl,
  replicate_commands, breakpoint, debug, REDIS_VERSION, LOG_*, REPL_*), ``pcall`` turning
  ``{err=...}`` tables into their message, Redis's ``math.random`` (rand48), and the
  cjson, cmsgpack, bit and struct libraries (:mod:`durakv.scripting.libs`);
* errors carry Redis's ``{err=..., source=..., line=...}`` shape (``__redis__err__handler``)
  so the final reply reads ``ERR user_script:1: boom script: <sha>, on @user_script:1.``

Python side: :meth:`LuaEngine.call_command` runs ``redis.call``/``pcall`` through the
dispatcher with the script's session, and replies convert both ways with Redis's rules
(RESP2 and, after ``redis.setresp(3)``, RESP3).
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lupa import lua51

from .. import dispatch
from ..protocol import resp
from ..protocol.resp import Resp2
from ..session import BLOCKED
from ..spec import COMMANDS, CommandSpec

if TYPE_CHECKING:
    from . import Scripting

log = logging.getLogger("durakv")
lua_type = lua51.lua_type

REDIS_VERSION = b"7.0.15"
_MAX_REPLY_DEPTH = 7995  # nesting of a script's reply before "reached lua stack limit"
REDIS_VERSION_NUM = 0x07000F

_BOOT = r"""
local py, libs = ...
local B = _G  -- the real globals (scripts see S, through P)
local dbg = debug
local rawget, rawset, setmetatable, getmetatable, type, error, tostring, select, unpack, xpcall, pcall, setfenv, loadstring, next =
      rawget, rawset, setmetatable, getmetatable, type, error, tostring, select, unpack, xpcall, pcall, setfenv, loadstring, next

-- Redis's Lua parses every chunk as text: precompiled bytecode (which can break out of
-- any sandbox, or crash the VM) is a syntax error there.  A leading space makes Lua's
-- loader take the text parser; the chunk keeps its name, so the error reads the same.
local ESC = string.char(27)
local function text_loadstring(s, name)
  if type(s) == 'string' and s:sub(1, 1) == ESC then
    return loadstring(' ' .. s, name or s)
  end
  return loadstring(s, name)
end

local sformat, smatch, ssub = string.format, string.match, string.sub

-- S: the globals scripts see (through the read-only proxy P)
local S = {}
for _, k in ipairs({'xpcall', 'tostring', 'setmetatable', 'next', 'assert', 'tonumber', 'rawequal',
                    'collectgarbage', 'getmetatable', 'rawset', 'type', 'select', 'unpack', 'gcinfo',
                    'pairs', 'ipairs', 'error', 'rawget', '_VERSION'}) do
  S[k] = B[k]
end
local function ro_error() error('Attempt to modify a readonly table', 2) end
local proxied = setmetatable({}, {__mode = 'k'})  -- read-only proxy -> the library table
-- every table Redis makes read-only (lua_enablereadonlytable): the globals, the library
-- proxies, the metatables scripts can reach; rawset/setmetatable/table.insert refuse them
local protected = setmetatable({}, {__mode = 'k'})
local function readonly(t)
  local p = setmetatable({}, {__index = t, __newindex = ro_error, __metatable = false})
  proxied[p] = t
  protected[p] = true
  return p
end
-- what C functions raise on a read-only table (no position: the error is in C)
local function ro_error_c() error('Attempt to modify a readonly table', 0) end
S.rawset = function(t, ...)
  if protected[t] then ro_error_c() end
  return rawset(t, ...)
end
S.setmetatable = function(t, ...)
  if protected[t] then ro_error_c() end
  return setmetatable(t, ...)
end
S.getmetatable = function(...)
  local t = ...
  if proxied[t] then return nil end  -- the library tables have no metatable in Redis
  return getmetatable(...)
end
-- pairs/next see through the read-only proxies (pairs(cjson) lists the library)
local lua_next = next
local function check_table(fname, n, ...)
  local t = ...
  if type(t) ~= 'table' then
    local got = select('#', ...) == 0 and 'no value' or type(t)
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. got .. ")", 3)
  end
  return t
end
S.next = function(...)
  local t, k = check_table('next', 1, ...), select(2, ...)
  return lua_next(proxied[t] or t, k)
end
-- library functions implemented in Python are userdata: type() reports them as functions
local lua_type = type
local pyfuncs = setmetatable({}, {__mode = 'k'})
for _, lib in pairs(libs) do
  for k, f in pairs(lib) do
    if lua_type(f) == 'userdata' and k ~= 'null' then pyfuncs[f] = true end
  end
end
pyfuncs[py.random] = true
pyfuncs[py.randomseed] = true
S.type = function(...)
  local v = ...
  if select('#', ...) == 0 then error("bad argument #1 to 'type' (value expected)", 2) end
  if pyfuncs[v] then return 'function' end
  return lua_type(v)
end
S.pairs = function(...)
  local t = check_table('pairs', 1, ...)
  return lua_next, proxied[t] or t, nil
end

local function missing(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

-- the error handler (message handler of xpcall): Redis's __redis__err__handler, skipping
-- durakv's own Lua frames (chunks named '=durakv')
local unwrap = py.unwrap
local function err_handler(err)
  if type(err) == 'userdata' then
    local v = unwrap(err)
    if v ~= nil then err = v end
  end
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=durakv') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

local redis = {}
redis.call = py.call_raise
redis.pcall = py.call_noraise
local push_error = py.push_error
redis.error_reply = function(...)
  local n = select('#', ...)
  local e = ...
  if n ~= 1 or type(e) ~= 'string' then return push_error('wrong number or type of arguments') end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return push_error(e)
end
redis.status_reply = function(...)
  local n = select('#', ...)
  local s = ...
  if n ~= 1 or type(s) ~= 'string' then return push_error('wrong number or type of arguments') end
  return {ok = s}
end
redis.sha1hex = py.sha1hex
redis.log = py.log
redis.setresp = py.setresp
redis.set_repl = py.set_repl
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = py.acl_check
for _, f in pairs(redis) do
  if lua_type(f) == 'userdata' then pyfuncs[f] = true end
end
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3

-- pcall that turns {err=...} error tables into their message (luaRedisPcall)
local function fix_pcall(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'userdata' then
    local v = unwrap(e)
    if v ~= nil then e = v end
  end
  if type(e) == 'table' then
    local m = rawget(e, 'err')
    if type(m) == 'string' then return false, m end
  end
  return false, e
end
local lua_pcall = pcall
local function redis_pcall(f, ...) return fix_pcall(lua_pcall(f, ...)) end

-- math.random/randomseed with Redis's rand48
local math2 = {}
for k, v in pairs(math) do math2[k] = v end
math2.random = py.random
math2.randomseed = py.randomseed

local P  -- the protected environment scripts see
local env_mt = {__index = nil, __newindex = ro_error, __metatable = false}

local function fix_loadstring(s, name)
  local f, e = text_loadstring(s, name)
  if f then setfenv(f, P) end
  return f, e
end
local function fix_load(fn, name)
  local first = true
  local function reader()  -- as text_loadstring: the first piece never reads as a binary chunk
    local p = fn()
    if first then
      first = false
      if type(p) == 'string' and p:sub(1, 1) == ESC then return ' ' .. p end
    end
    return p
  end
  local f, e = load(type(fn) == 'function' and reader or fn, name)
  if f then setfenv(f, P) end
  return f, e
end

S.redis = readonly(redis)
S.pcall = redis_pcall
-- xpcall: the user's handler sees Redis's error values ({err=...} tables, messages)
local lua_xpcall = xpcall
S.xpcall = function(f, h)
  return lua_xpcall(f, function(e)
    if type(e) == 'userdata' then
      local v = unwrap(e)
      if v ~= nil then e = v end
    end
    return h(e)
  end)
end
S.loadstring = fix_loadstring
S.load = fix_load
S.math = readonly(math2)
S.string = readonly(string)
local table2 = {}
for k, v in pairs(table) do table2[k] = v end
local tinsert = table.insert
table2.insert = function(t, ...)
  local n = select('#', ...)
  if protected[t] and (n == 1 or n == 2) then ro_error_c() end
  return tinsert(t, ...)
end
S.table = readonly(table2)
S.coroutine = readonly(coroutine)
for name, lib in pairs(libs) do S[name] = readonly(lib) end
-- getmetatable(_G): a read-only table holding only __index, as Redis's error metatable
setmetatable(S, {__index = missing, __newindex = ro_error, __metatable = readonly({__index = missing})})
protected[S] = true

P = setmetatable({}, env_mt)
env_mt.__index = S
rawset(S, '_G', S)  -- as in Redis, _G is the globals table (rawget(_G, 'KEYS') works)
do  -- ('x'):upper(), getmetatable('').__index == string, and that metatable is read-only
  local smt = getmetatable('')
  smt.__index = S.string
  smt.__metatable = readonly({__index = S.string})
end

-- functions' load-time API: only register_function, log and versions (function_lua.c)
local register = py.register_function
local function make_load_api()
  local r = {register_function = register, log = redis.log,
             REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
             LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3}
  local api = {redis = readonly(setmetatable(r, {__index = missing}))}
  return setmetatable(api, {__index = missing, __newindex = ro_error})
end

local function compile(code, chunkname)
  local f, e = text_loadstring(code, chunkname)
  if not f then return nil, e end
  setfenv(f, P)
  return f
end

-- run library code with the load-time API visible instead of the globals
local function load_library(f)
  local saved = env_mt.__index
  env_mt.__index = make_load_api()
  local ok, e = xpcall(f, err_handler)
  env_mt.__index = saved
  return ok, e
end

-- A run returns the script's first result, or (nil, error table) when it failed: one
-- result is one Python object, where two would cost lupa a tuple on every run.
-- KEYS and ARGV are fresh tables on every call (a script may modify them), built with
-- as few table constructions as the shape allows.  setup_eval created both globals, so
-- plain assignments replace them (no __newindex: scripts cannot remove them).
local function run_with(f, nkeys, ...)
  local n = select('#', ...)
  if n == nkeys then
    S.KEYS = {...}
    S.ARGV = {}
  elseif nkeys == 0 then
    S.KEYS = {}
    S.ARGV = {...}
  else
    local all = {...}
    S.KEYS = {unpack(all, 1, nkeys)}
    S.ARGV = {unpack(all, nkeys + 1, n)}
  end
  local ok, r = xpcall(f, err_handler)
  if ok then return r end
  return nil, r
end

-- functions get (keys, args): a trampoline reading upvalues instead of a closure per call
-- (scripts never nest)
local cur_f, cur_keys, cur_args
local function trampoline()
  return cur_f(cur_keys, cur_args)
end
local function call_function(f, nkeys, ...)
  local n = select('#', ...)
  if n == nkeys then
    cur_keys, cur_args = {...}, {}
  elseif nkeys == 0 then
    cur_keys, cur_args = {}, {...}
  else
    local all = {...}
    cur_keys, cur_args = {unpack(all, 1, nkeys)}, {unpack(all, nkeys + 1, n)}
  end
  cur_f = f
  local ok, r = xpcall(trampoline, err_handler)
  cur_f, cur_keys, cur_args = nil, nil, nil
  if ok then return r end
  return nil, r
end

-- the busy-script count hook (Redis: every 100000 instructions)
local tick = py.tick
local getinfo = dbg.getinfo
local hook_count = 100000
local deferred = false
local function hook()
  local i = getinfo(2, 'S')
  if i and i.source == '=durakv' then
    -- never inside durakv's own frames: come back at the next instruction instead (a loop
    -- around redis.call could otherwise land here at every count, phase-locked, and the
    -- script would never be seen as busy)
    if not deferred then
      deferred = true
      dbg.sethook(hook, '', 1)
    end
    return
  end
  if deferred then
    deferred = false
    dbg.sethook(hook, '', hook_count)
  end
  tick()
end
local function set_hook_count(n)
  hook_count = n
  deferred = false
  dbg.sethook(hook, '', n)
end
set_hook_count(100000)

-- reply tables built in one Lua call (cheaper than filling them from Python)
local function mk_status(s) return {ok = s} end
local function mk_array(...) return {...} end

-- what to_resp needs to know about a returned table, in one call: (kind, payload...) with
-- kind 1 err, 2 ok, 3 double, 4 big_number, 5 verbatim (string, format), 6 map, 7 set,
-- 0 array: (0, n, items...) -- the items only when n <= 200, else Python reads them
local function classify(t)
  local v = rawget(t, 'err')
  if type(v) == 'string' then return 1, v end
  v = rawget(t, 'ok')
  if type(v) == 'string' then return 2, v end
  v = rawget(t, 'double')
  if type(v) == 'number' then return 3, sformat('%.17g', v) end  -- C's text: -0, -nan
  v = rawget(t, 'big_number')
  if type(v) == 'string' then return 4, v end
  v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local f, s = rawget(v, 'format'), rawget(v, 'string')
    if type(f) == 'string' and type(s) == 'string' then
      -- addReplyVerbatim: the format's first 3 characters (up to a NUL), space padded
      return 5, s, ssub(smatch(f, '^[^%z]*') .. '   ', 1, 3)
    end
  end
  v = rawget(t, 'map')
  if type(v) == 'table' then return 6, v end
  v = rawget(t, 'set')
  if type(v) == 'table' then return 7, v end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  if n > 200 then return 0, n end
  return 0, n, unpack(t, 1, n)
end

-- EVAL's globals also hold Redis's error handler (functions keep it in the registry) and
-- KEYS and ARGV, and its redis table the debugger and compatibility helpers functions do
-- not have
local function setup_eval()
  rawset(S, '__redis__err__handler', err_handler)
  rawset(S, 'KEYS', {})
  rawset(S, 'ARGV', {})
end
local function strip_eval_only()
  redis.breakpoint, redis.debug, redis.replicate_commands = nil, nil, nil
end

-- lupa fetches debug.traceback from the real globals as the message handler of every call
-- from Python, when there is one: our calls catch their errors themselves (xpcall), so the
-- lookups are saved
B.debug = nil

return {unproxy = function(t) return proxied[t] end, setup_eval = setup_eval,
        strip_eval_only = strip_eval_only, mk_status = mk_status, mk_array = mk_array, classify = classify, compile = compile, run_with = run_with, set_hook_count = set_hook_count, load_library = load_library,
        call_function = call_function, env = P}
"""


def _rand48_next(state: list[int]) -> int:
    x = (0x5DEECE66D * state[0] + 0xB) & 0xFFFFFFFFFFFF
    state[0] = x
    return x >> 17


class LuaErr(Exception):
    """Raised by Python functions called from Lua: becomes the Lua error ``value``.

    ``value`` is an ``{err=...}`` table or a message (bytes).  Lupa hands the exception to
    Lua as a userdata; the error handler and ``pcall`` unwrap it (``py.unwrap``).
    """

    def __init__(self, value: Any) -> None:
        super().__init__(value if isinstance(value, bytes) else "lua error")
        self.value = value


def _unwrap(e: Any) -> Any:
    if isinstance(e, LuaErr):
        return e.value
    if isinstance(e, BaseException):
        return str(e).encode()
    return None


class LuaEngine:
    """One Lua state with the sandbox and the redis API."""

    def __init__(self, scripting: Scripting) -> None:
        from . import libs

        self.scripting = scripting
        self._ctx = scripting.ctx
        self.L = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                                  register_builtins=False)
        L = self.L
        self.table_from = L.table_from
        self.table = L.table
        self._rawget = L.eval("rawget")
        if sys.getrecursionlimit() < _MAX_REPLY_DEPTH + 2000:  # to_resp recurses once per level
            sys.setrecursionlimit(_MAX_REPLY_DEPTH + 2000)
        # Redis's rand48 state is process-wide (shared by EVAL and functions, kept across
        # SCRIPT FLUSH); unseeded it starts at the drand48 default 0x1234ABCD330E
        self.rand = scripting.rand
        self._register: Callable[..., Any] | None = None
        py = L.table_from({
            b"call_raise": self._lua_call_raise,
            b"call_noraise": self._lua_call_noraise,
            b"push_error": self.push_error,
            b"unwrap": _unwrap,
            b"sha1hex": self._lua_sha1hex,
            b"log": self._lua_log,
            b"setresp": self._lua_setresp,
            b"set_repl": self._lua_set_repl,
            b"random": self._lua_random,
            b"randomseed": self._lua_randomseed,
            b"register_function": self._lua_register,
            b"acl_check": self._lua_acl_check,
            b"tick": self._tick,
            b"version": REDIS_VERSION,
            b"version_num": REDIS_VERSION_NUM,
        })
        # luaL_where for errors raised by Python functions: the libraries' own
        lib_tables, self._where, cjson_state = libs.install(L, LuaErr)
        boot = self._boot(py, lib_tables)
        self.api = boot
        cjson_state.unproxy = boot[b"unproxy"]
        self._compile = boot[b"compile"]
        self._run_with = boot[b"run_with"]
        self._load_library = boot[b"load_library"]
        self._call_function = boot[b"call_function"]
        self.set_hook_count = boot[b"set_hook_count"]
        self._mk_status = boot[b"mk_status"]
        self._mk_array = boot[b"mk_array"]
        self._classify = boot[b"classify"]
        _fill_script_specs()

    def _boot(self, py: Any, libs: Any) -> Any:
        loader = self.L.eval("loadstring")
        fn = loader(_BOOT.encode(), b"=durakv")
        if isinstance(fn, tuple):
            raise RuntimeError(f"Lua bootstrap failed: {fn[1]!r}")
        return fn(py, libs)

    def push_error(self, msg: bytes) -> Any:
        """luaPushErrorBuff: ``-CODE text`` or ``text`` (code ERR) -> ``{err='CODE text'}``."""
        if msg[:1] == b"-":
            sp = msg.find(b" ")
            if sp < 0:
                code, text = b"ERR", msg[1:]
            else:
                code, text = msg[1:sp], msg[sp + 1:]
        else:
            code, text = b"ERR", msg
        text = text.rstrip(b"\r\n")
        return self.table_from({b"err": code + b" " + text})

    # -- compile and run ----------------------------------------------------------------------
    def compile(self, code: bytes, chunkname: bytes) -> tuple[Any, bytes | None]:
        r = self._compile(code, chunkname)
        if isinstance(r, tuple):
            return None, r[1]
        return r, None

    def load_library(self, fn: Any, register: Callable[..., Any]) -> tuple[bool, Any]:
        self._register = register
        try:
            return self._load_library(fn)
        finally:
            self._register = None

    # -- Python side of the redis API ------------------------------------------------------------
    def _tick(self) -> None:
        self.scripting.busy.tick()

    def _lua_register(self, *args: Any) -> None:
        if self._register is None:
            raise LuaErr(self.push_error(b"redis.register_function can only be called on FUNCTION LOAD command"))
        err = self._register(*args)
        if err is not None:
            raise LuaErr(err)

    def _lua_sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise LuaErr(self.push_error(b"wrong number of arguments"))
        v = args[0]
        if type(v) is not bytes:
            v = _fmt_num(v, b"%.14g") if type(v) in (int, float) else b""  # lua_tolstring
        return hashlib.sha1(v).hexdigest().encode()

    def _lua_log(self, *args: Any) -> None:
        if len(args) < 2:
            raise LuaErr(self.push_error(b"redis.log() requires two arguments or more."))
        level = _lua_tonumber(args[0])
        if level is None:
            raise LuaErr(self.push_error(b"First argument must be a number (log level)."))
        level = _c_int(level)
        if level < 0 or level > 3:
            raise LuaErr(self.push_error(b"Invalid debug level."))
        parts = []
        for v in args[1:]:
            if type(v) is bytes:
                parts.append(v)
            elif type(v) in (int, float) and type(v) is not bool:
                parts.append(b"%.14g" % v)
        fn = (log.debug, log.info, log.info, log.warning)[int(level)]
        fn("%s", b" ".join(parts).decode("utf-8", "replace"))

    def _lua_setresp(self, *args: Any) -> None:
        if len(args) != 1:
            raise LuaErr(self.push_error(b"redis.setresp() requires one argument."))
        v = _c_int(_lua_tonumber(args[0]) or 0)  # int resp = lua_tonumber(...)
        if v not in (2, 3):
            raise LuaErr(self.push_error(b"RESP version must be 2 or 3."))
        run = self.scripting.current
        if run is not None:
            run.session.set_resp(v)

    def _lua_set_repl(self, *args: Any) -> None:
        if len(args) != 1:
            raise LuaErr(self.push_error(b"redis.set_repl() requires two arguments."))
        v = _c_int(_lua_tonumber(args[0]) or 0)  # flags = lua_tonumber(...)
        if v & ~3:
            raise LuaErr(self.push_error(b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."))

    def _lua_random(self, *args: Any) -> float:
        try:
            return self._random(*args)
        except LuaErr as e:
            if isinstance(e.value, bytes) and e.value.startswith(b"bad argument #") and b"expected" in e.value:
                raise LuaErr(self._where() + e.value) from None
            raise

    def _random(self, *args: Any) -> float:
        r = (_rand48_next(self.rand) % 0x7FFFFFFF) / 0x7FFFFFFF
        if not args:
            return r
        if len(args) == 1:
            u = _checkint(args[0], 1)
            if u < 1:
                raise LuaErr(self._where() + b"bad argument #1 to 'random' (interval is empty)")
            return float(math.floor(r * u) + 1)
        if len(args) == 2:
            lo = _checkint(args[0], 1)
            u = _checkint(args[1], 2)
            if lo > u:
                raise LuaErr(self._where() + b"bad argument #2 to 'random' (interval is empty)")
            return float(math.floor(r * _s32(u - lo + 1)) + lo)  # (int arithmetic)
        raise LuaErr(self._where() + b"wrong number of arguments")

    def _lua_randomseed(self, seed: Any = None) -> None:
        try:
            s = _checkint(seed, 1, "randomseed") & 0xFFFFFFFF
        except LuaErr as e:
            raise LuaErr(self._where() + e.value) from None
        self.rand[0] = (s << 16) | 0x330E

    def _args(self, args: tuple[Any, ...]) -> list[bytes] | None:
        argv = []
        for a in args:
            t = type(a)
            if t is bytes:
                argv.append(a)
            elif t is int:  # lupa's int for an integral Lua number: Redis formats it "%.17g"
                argv.append(b"%d" % a if -_E17 < a < _E17 else b"%.17g" % a)
            elif t is float:
                argv.append(_fmt_num(a))
            else:
                return None
        return argv

    def _lua_acl_check(self, *args: Any) -> bool:
        if not args:
            raise LuaErr(self.push_error(b"Please specify at least one argument for this redis lib call"))
        argv = self._args(args)
        if argv is None:
            raise LuaErr(self.push_error(b"Lua redis lib command arguments must be strings or integers"))
        spec = _lookup_command(argv)  # lookupCommand: no arity check
        if spec is None:
            raise LuaErr(self.push_error(b"Invalid command passed to redis.acl_check_cmd()"))
        run = self.scripting.current
        srv = self.scripting.ctx
        if srv.acl is not None and run is not None and run.caller.user is not None:
            return srv.acl.check(run.session, spec, argv, log=False) is None
        return True

    def _lua_call_raise(self, *args: Any) -> Any:
        """redis.call: the reply as a Lua value; a failure raises the ``{err=...}`` table.

        The common case (a script running, string arguments, a plain reply) is handled
        inline: this runs once per redis.call, so every Python call saved here counts.
        """
        run = self.scripting.current
        if run is None or not args:
            v, is_err = self._call(args)
            if is_err:
                raise LuaErr(v)
            return v
        argv = [*args]
        for a in argv:
            if type(a) is not bytes:
                argv = self._args(args)
                if argv is None:
                    raise LuaErr(self.push_error(b"Lua redis lib command arguments must be strings or integers"))
                break
        # run.check_command(argv), short-cut when none of its refusals can apply: a command
        # scripts may call, with the right arity, no ACL, a writable script that already
        # wrote (or a read); such a command runs through dispatch.invoke
        spec = _SCRIPT_SPECS.get(argv[0])
        srv = self._ctx
        s = run.session
        if (
            spec is None
            or run.readonly
            or run.oom
            or srv.gated
            or (spec.arity > 0 and len(argv) != spec.arity)
            or len(argv) < -spec.arity
            or (spec.is_write and not run.dirty and (srv.role != "master" or srv.write_refused is not None
                                                     or srv.noreplicas))
        ):
            spec = run.check_command(argv)
            if type(spec) is bytes:
                raise LuaErr(self.push_error(spec))
            reply = dispatch.call(s, spec, argv)
        else:
            if spec.is_write:
                run.dirty = True  # the script's first write passed check_command's write checks
            reply = dispatch.invoke(s, spec, argv)
        if reply is BLOCKED:  # a blocking command inside a script never blocks
            reply = s.r.null
        c = reply[0]
        if c == 58:  # ':'
            return int(reply[1:-2])
        if c == 45:  # '-'
            run.counted_errors.append(reply[1:-2])  # call() counted it in the error stats
            raise LuaErr(self.push_error(reply[:-2]))
        if c == 36 and reply[1] != 45:  # '$' (not null)
            return reply[reply.index(b"\r\n") + 2:-2]
        if c == 43:  # '+'
            return self._mk_status(reply[1:-2])
        return self.reply_to_lua(reply, s.resp)

    def _lua_call_noraise(self, *args: Any) -> Any:
        """redis.pcall: what redis.call returns, or the ``{err=...}`` table it would raise."""
        try:
            return self._lua_call_raise(*args)
        except LuaErr as e:
            return e.value

    def _call(self, args: tuple[Any, ...]) -> tuple[Any, bool]:
        """redis.call / redis.pcall: (value, failed) — an ``{err=...}`` table when failing."""
        run = self.scripting.current
        if run is None:
            return self.push_error(b"redis.call/pcall can only be called inside a script invocation"), True
        if not args:
            return self.push_error(b"Please specify at least one argument for this redis lib call"), True
        argv = self._args(args)
        if argv is None:
            return self.push_error(b"Lua redis lib command arguments must be strings or integers"), True
        spec = run.check_command(argv)
        if type(spec) is bytes:
            return self.push_error(spec), True
        reply = run.execute(spec, argv)
        if reply[0] == 45:  # '-'
            return self.push_error(reply[:-2]), True
        return self.reply_to_lua(reply, run.session.resp), False

    # -- RESP -> Lua -------------------------------------------------------------------------
    def reply_to_lua(self, data: bytes, proto: int) -> Any:
        c = data[0]
        if c == 58:  # ':'
            return int(data[1:-2])
        if c == 36:  # '$'
            if data[1] == 45:
                return False if proto == 2 else None
            start = data.index(b"\r\n") + 2
            return data[start:-2]
        if c == 43:  # '+'
            return self._mk_status(data[1:-2])
        v, _ = self._parse(data, 0, proto)
        return v

    def _parse(self, data: bytes, pos: int, proto: int) -> tuple[Any, int]:
        c = data[pos]
        end = data.index(b"\r\n", pos)
        line = data[pos + 1 : end]
        pos = end + 2
        if c == 58:  # ':'
            return int(line), pos
        if c == 36 or c == 61:  # '$' bulk, '=' verbatim
            n = int(line)
            if n < 0:
                return (False if proto == 2 else None), pos
            s = data[pos : pos + n]
            if c == 61:
                return self.table_from({b"verbatim_string": self.table_from({b"format": s[:3], b"string": s[4:]})}), pos + n + 2
            return s, pos + n + 2
        if c == 43:  # '+'
            return self._mk_status(line), pos
        if c == 45:  # '-'
            return self.push_error(b"-" + line), pos
        if c == 42 or c == 62 or c == 126:  # '*' array, '>' push, '~' set
            n = int(line)
            if n < 0:
                return (False if proto == 2 else None), pos
            items = []
            for _ in range(n):
                v, pos = self._parse(data, pos, proto)
                items.append(v)
            if c == 126:
                t = self.table()
                for it in items:
                    t[it] = True
                return self.table_from({b"set": t}), pos
            if n <= 200:
                for it in items:
                    if it is None:
                        break
                else:  # no holes: one table constructor in Lua
                    return self._mk_array(*items), pos
            t = self.table()
            for i, it in enumerate(items, 1):
                if it is not None:
                    t[i] = it
            return t, pos
        if c == 37:  # '%' map
            n = int(line)
            t = self.table()
            for _ in range(n):
                k, pos = self._parse(data, pos, proto)
                v, pos = self._parse(data, pos, proto)
                if k is not None:
                    t[k] = v
            return self.table_from({b"map": t}), pos
        if c == 124:  # '|' attribute (RESP3): Redis skips it and converts the reply after it
            for _ in range(2 * int(line)):
                _, pos = self._parse(data, pos, proto)
            return self._parse(data, pos, proto)
        if c == 95:  # '_' null
            return None, pos
        if c == 35:  # '#' boolean
            return line == b"t", pos
        if c == 44:  # ',' double
            return self.table_from({b"double": float(line)}), pos
        if c == 40:  # '(' big number
            return self.table_from({b"big_number": line}), pos
        raise ValueError(f"cannot convert reply {data[:20]!r}")

    # -- Lua -> RESP -------------------------------------------------------------------------
    def to_resp(self, v: Any, r: Resp2, script_resp: int, depth: int = 0) -> bytes:
        """luaReplyToRedisReply: a Lua value as a reply in the caller's protocol."""
        t = type(v)
        if t is bytes:
            return b"$%d\r\n%s\r\n" % (len(v), v)
        if t is int:
            return resp.integer(v)
        if t is float:
            return resp.integer(_to_ll(v))
        if t is bool:
            if script_resp == 2:
                return resp.ONE if v else r.null
            return r.boolean(v)
        if v is None:
            return r.null
        if lua_type(v) != "table":
            return r.null
        if depth >= _MAX_REPLY_DEPTH:  # Redis: lua_checkstack fails past ~8000 slots
            return b"-ERR reached lua stack limit\r\n"
        got = self._classify(v)  # one Lua call instead of a rawget per field and item
        kind = got[0]
        if kind == 0:  # array: items up to the first nil
            n = got[1]
            if len(got) == n + 2:
                items = got[2:]
            else:
                rg = self._rawget
                items = [rg(v, i) for i in range(1, n + 1)]
            parts = []
            for x in items:  # a loop, not a comprehension: one Python frame per nesting level
                parts.append(self.to_resp(x, r, script_resp, depth + 1))
            return b"*%d\r\n%s" % (n, b"".join(parts))
        if kind == 1:
            return b"-" + _one_line(got[1]) + b"\r\n"
        if kind == 2:
            return b"+" + _one_line(got[1]) + b"\r\n"
        if kind == 3:
            return r.double_raw(got[1])
        if kind == 4:
            return r.big_number(_one_line(got[1]))
        if kind == 5:
            return r.verbatim(got[1], got[2])
        if kind == 6:
            parts = []
            for k, x in got[1].items():
                parts.append(self.to_resp(k, r, script_resp, depth + 2) + self.to_resp(x, r, script_resp, depth + 2))
            return r.map_header(len(parts)) + b"".join(parts)
        parts = [self.to_resp(k, r, script_resp, depth + 2) for k in got[1].keys()]
        return r.set_header(len(parts)) + b"".join(parts)

    def error_text(self, e: Any, funcname: bytes) -> bytes:
        """The final error reply (without '-' and CRLF) for a failed script."""
        if lua_type(e) != "table":
            msg = e if type(e) is bytes else str(e).encode()
            return b"ERR Error running script %s, %.100s" % (funcname, msg)
        err = e[b"err"]
        if type(err) is not bytes:  # lua_isstring: a number is its text
            err = _fmt_num(err, b"%.14g") if type(err) in (int, float) and type(err) is not bool else b""
        out = err
        src = e[b"source"]
        line = e[b"line"]
        if line is not None and src is not None:
            out += b" script: %s, on %s:%d." % (funcname, src, int(line))
        return _one_line(out)


def _checkint(v: Any, n: int, fname: str = "random") -> int:
    """luaL_checkint: lua_tonumber, to a lua_Integer (truncated), then to a C int."""
    f = _lua_tonumber(v)
    if f is not None:
        i = int(f) if f == f and -9.2233720368547758e18 <= f < 9.2233720368547758e18 else -(1 << 63)
        return _s32(i)
    got = "no value" if v is None else ("string" if type(v) is bytes else lua_type(v) or "boolean")
    raise LuaErr(f"bad argument #{n} to '{fname}' (number expected, got {got})".encode())


# the commands redis.call may run without run.check_command's lookup: no subcommands, no
# "noscript" (all others, and names in mixed case, take the full check)
_SCRIPT_SPECS: dict[bytes, CommandSpec] = {}


def _fill_script_specs() -> None:
    if not _SCRIPT_SPECS:
        _SCRIPT_SPECS.update(
            (name, spec) for name, spec in COMMANDS.items()
            if spec.handler is not None and not spec.subcommands and "noscript" not in spec.flags
        )


def _lookup_command(argv: list[bytes]) -> Any:
    """Redis's lookupCommand: the command or subcommand spec by name only (None: unknown)."""
    spec = COMMANDS.get(argv[0]) or COMMANDS.get(argv[0].lower())
    if spec is None or not spec.subcommands or len(argv) == 1:
        return spec
    return spec.subcommands.get(argv[1]) or spec.subcommands.get(argv[1].lower())


_LUA_SPACE = b" \t\n\v\f\r"


def _lua_tonumber(v: Any) -> float | None:
    """lua_tonumber (None where lua_isnumber is false): numbers, and strings luaO_str2d reads."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is not bytes:
        return None
    s = v.split(b"\0", 1)[0].strip(_LUA_SPACE)
    if not s or b"_" in s or s[:1] in _LUA_SPACE:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    try:
        body = s[1:] if s[:1] in (b"-", b"+") else s
        if body[:2] in (b"0x", b"0X"):
            n = int(body[2:], 16)
            return float(-n if s[:1] == b"-" else n)
    except ValueError:
        pass
    return None


def _s32(i: int) -> int:
    i &= 0xFFFFFFFF
    return i - (1 << 32) if i >= 1 << 31 else i


def _c_int(f: float) -> int:
    """A double stored in a C int: truncated; NaN and out of range become INT_MIN (x86)."""
    if f != f or not -2147483649.0 < f < 2147483648.0:
        return -(1 << 31)
    return int(f)


_E17 = 10 ** 17  # from here on "%.17g" writes an exponent


def _fmt_num(f: float, fmt: bytes = b"%.17g") -> bytes:
    if f != f:
        return b"-nan" if math.copysign(1.0, f) < 0 else b"nan"
    if math.isinf(f):
        return b"inf" if f > 0 else b"-inf"
    return fmt % f


def _to_ll(f: float) -> int:
    if f != f or math.isinf(f) or f >= 9.2233720368547758e18 or f < -9.2233720368547758e18:
        return -(1 << 63)
    return int(f)


def _one_line(b: bytes) -> bytes:
    if b"\r" in b or b"\n" in b:
        return b.replace(b"\r", b" ").replace(b"\n", b" ")
    return b
