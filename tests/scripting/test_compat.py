"""More Lua scripting corners against redis-server 7.0.15 (RESP2 and RESP3, exact bytes).

Found by a differential sweep: number formatting of arguments, RESP3 reply shapes, the
read-only sandbox (which must survive scripts that try to break it), the helpers' numeric
argument rules, and lua-cjson's configuration functions (state that persists in the Lua VM
until SCRIPT FLUSH).
"""

from __future__ import annotations

import pytest


def E(body: str, *args: object) -> tuple[object, ...]:
    return ("EVAL", body, 0, *args)


def _get_after_set(v: str) -> tuple[object, ...]:
    return E(f"redis.call('set', 'k', {v}); return redis.call('get', 'k')")


NUMBER_CASES = [
    # arguments: Redis writes Lua numbers with "%.17g" (an exponent from 1e17 on)
    _get_after_set("2^62"),
    _get_after_set("-2^63"),
    _get_after_set("2^53 + 1"),
    _get_after_set("1e16"),
    _get_after_set("99999999999999999"),
    _get_after_set("0/0"),
    _get_after_set("-(0/0)"),
    _get_after_set("0.1"),
    # redis.sha1hex hashes lua_tolstring's text ("%.14g")
    E("return redis.sha1hex(0.1)"),
    E("return redis.sha1hex(2^62)"),
    E("return redis.sha1hex(1/0)"),
    E("return redis.sha1hex(12)"),
    E("return redis.sha1hex('a', 'b')"),
    # RESP3 doubles keep C's text (-0, -nan)
    E("redis.setresp(3); return {double=-0.0}"),
    E("redis.setresp(3); return {double=0/0}"),
    E("redis.setresp(3); return {double=-(0/0)}"),
    E("return {double=-0.0}"),
    # verbatim strings: the format is its first 3 characters, space padded
    E("redis.setresp(3); return {verbatim_string={format='toolong', string='hi'}}"),
    E("redis.setresp(3); return {verbatim_string={format='', string='hi'}}"),
    E("redis.setresp(3); return {verbatim_string={format='t', string='hi'}}"),
    E("redis.setresp(3); return {verbatim_string={format=1, string='hi'}}"),
    E("redis.setresp(3); return {verbatim_string={string='hi'}}"),
]

HELPER_CASES = [
    # redis.log: lua_isnumber level (numeric strings too), truncated to an int
    *[E(f"redis.log({x}, 'a'); return 'ok'") for x in
      ["'3'", "' 3 '", "'0x3'", "'3x'", "3.9", "-0.9", "0/0", "1/0", "'1e0'", "true", "{}", "4", "-1"]],
    # redis.setresp / redis.set_repl: int x = lua_tonumber(...) (0 for non-numbers)
    *[E(f"redis.setresp({x}); return redis.call('hgetall', 'nokey')") for x in
      ["'3'", "' 3 '", "'0x3'", "'3x'", "3.9", "2.1", "0/0", "'1e0'", "true", "{}", "nil", "'3.5'"]],
    *[E(f"redis.set_repl({x}); return 'ok'") for x in
      ["'3'", "3.9", "-0.9", "0/0", "true", "{}", "nil", "'3.5'", "4", "-1", "'x'"]],
    # redis.acl_check_cmd looks the command up without checking its arity
    E("return redis.acl_check_cmd('get')"),
    E("return redis.acl_check_cmd('config')"),
    E("return redis.acl_check_cmd('config', 'get')"),
    E("return redis.acl_check_cmd('config', 'nosuch')"),
    E("return redis.acl_check_cmd('nosuch')"),
]

SANDBOX_CASES = [
    E("local t = {} for k in pairs(getmetatable(_G)) do t[#t+1] = k end return t"),
    E("return type(getmetatable(_G).__index)"),
    E("return getmetatable(getmetatable(_G))"),
    E("return {getmetatable(string) == nil, getmetatable(redis) == nil, getmetatable(cjson) == nil}"),
    E("return getmetatable('').__index == string"),
    E("return ('abc'):upper()"),
    E("local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t"),
    E("return type(__redis__err__handler)"),
    E("local t = __redis__err__handler('x'); return {t.err, t.source, t.line}"),
    E("local t = __redis__err__handler({err='y'}); return {t.err, t.source, t.line}"),
    E("setmetatable(KEYS, {}); rawset(KEYS, 1, 'x'); table.insert(KEYS, 'y'); return KEYS"),
    E("return {pcall(setmetatable, _G, nil)}"),
    E("return {pcall(rawset, _G, 'x', 1)}"),
    # precompiled bytecode is refused: Redis's Lua parses every chunk as text
    E("local f, e = loadstring(string.dump(function() return 1 end)); return {tostring(f), e}"),
    E("local s = string.dump(function() return 1 end); local f, e = load(function() local p = s; s = nil; return p end); "
      "return {tostring(f), e}"),
    E("local f, e = loadstring(string.char(27) .. 'Lua', 'name'); return {tostring(f), e}"),
    E("return loadstring('return 5')()"),
    E("\x1bLuaQ\x00\x01\x04\x08\x04\x08\x00"),
]

# each attempt must fail, and leave the sandbox intact for the next script
SANDBOX_ATTACKS = [
    "local mt = getmetatable(_G); mt.__index = nil",
    "setmetatable(_G, nil)",
    "setmetatable(getmetatable(_G), nil)",
    "rawset(_G, 'x', 1)",
    "rawset(getmetatable(_G), '__index', nil)",
    "setmetatable(string, nil)",
    "setmetatable(redis, {})",
    "rawset(string, 'x', 1)",
    "rawset(redis, 'call', 1)",
    "table.insert(string, 'x')",
    "table.insert(redis, 1, 'x')",
    "getmetatable('').__index = nil",
    "getmetatable('').x = 1",
    "rawset(getmetatable(''), '__index', nil)",
]


@pytest.mark.parametrize("case", NUMBER_CASES + HELPER_CASES + SANDBOX_CASES,
                         ids=[str(i) for i in range(len(NUMBER_CASES + HELPER_CASES + SANDBOX_CASES))])
def test_case(pair, case):
    pair.check(*case)


@pytest.mark.parametrize("attack", SANDBOX_ATTACKS)
def test_sandbox_stays_read_only(pair, attack):
    pair.check(*E(attack))
    pair.check(*E("return nosuch"))
    pair.check(*E("x = 1"))
    pair.check(*E("return {string.x, redis.x, rawget(_G, 'x'), ('a'):upper(), redis.call('ping')}"))
    pair.check(*E("return getmetatable('').__index == string"))


def test_sandbox_of_functions_stays_read_only(pair):
    lib = """#!lua name=sbx
redis.register_function('a1', function() rawset(_G, 'y', 1) end)
redis.register_function('a2', function() local mt = getmetatable(_G); mt.__index = nil end)
redis.register_function('a3', function() return nosuch end)
redis.register_function('a4', function() local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t end)
redis.register_function('a5', function() return {pcall(setmetatable, string, {})} end)
"""
    pair.check("FUNCTION", "LOAD", "REPLACE", lib)
    for f in ("a1", "a2", "a3", "a4", "a5", "a3"):
        pair.check("FCALL", f, 0)
    pair.check("FUNCTION", "DELETE", "sbx")


CJSON_CONFIG_SEQUENCE = [
    E("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}"),
    E("return {cjson.encode_sparse_array()}"),
    E("return {cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}"),
    E("return cjson.encode({[10]=1})"),
    E("return cjson.encode({[11]=1})"),
    E("return cjson.encode(redis)"),
    E("return cjson.encode({string})"),
    E("return cjson.decode('+1')"),
    E("return cjson.decode('[0x10, 01, -0x2]')"),
    # errors of the configuration functions
    E("return cjson.encode_max_depth(0)"),
    E("return cjson.encode_max_depth('x')"),
    E("return cjson.encode_max_depth(1, 2)"),
    E("return cjson.encode_number_precision(15)"),
    E("return cjson.encode_keep_buffer('x')"),
    E("return cjson.encode_keep_buffer(1)"),
    E("return cjson.encode_invalid_numbers({})"),
    E("return {cjson.encode_sparse_array('x')}"),
    E("return {cjson.encode_sparse_array(true, -1)}"),
    E("return {cjson.encode_sparse_array(true, 1, 2, 3)}"),
    # settings persist from one script to the next
    E("return {cjson.encode_sparse_array(true, 2, 3)}"),
    E("return cjson.encode({[10]=1})"),
    E("return {cjson.encode_sparse_array(false)}"),
    E("return cjson.encode({[10]=1})"),
    E("return {cjson.encode_sparse_array(nil, 0)}"),
    E("return cjson.encode({[1000]=1})"),
    E("return cjson.encode_number_precision('3')"),
    E("return cjson.encode({math.pi, 1000, [5]=0.5})"),
    E("return cjson.encode({[math.pi]=1})"),
    E("return {cjson.encode_invalid_numbers('on')}"),
    E("return cjson.encode({1/0, -1/0})"),
    E("return {cjson.encode_invalid_numbers('null')}"),
    E("return cjson.encode({1/0, 0/0})"),
    E("return {cjson.encode_invalid_numbers(true)}"),
    E("return {cjson.encode_keep_buffer(false)}"),
    E("return {cjson.decode_invalid_numbers('off')}"),
    E("return cjson.decode('+1')"),
    E("return cjson.decode('01')"),
    E("return cjson.decode('-0x1')"),
    E("return cjson.decode('NaN')"),
    E("return cjson.decode('[1, inf]')"),
    E("return cjson.decode_max_depth(2)"),
    E("return cjson.decode('[[1]]')[1][1]"),
    E("return cjson.decode('[[[1]]]')"),
    E("return cjson.encode_max_depth(2)"),
    E("return cjson.encode({{1}})"),
    E("return cjson.encode({{{1}}})"),
    E("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}"),
    # SCRIPT FLUSH makes a new Lua VM: the defaults again
    ("SCRIPT", "FLUSH"),
    E("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}"),
    E("return {cjson.encode_sparse_array()}"),
]


def test_cjson_configuration(pair):
    try:
        for case in CJSON_CONFIG_SEQUENCE:
            pair.check(*case)
    finally:
        pair.redis.call("SCRIPT", "FLUSH")
        pair.durakv.call("SCRIPT", "FLUSH")


LIB_CASES = [E(x) for x in [
    # cmsgpack: lua_cmsgpack's argument checks and decoder errors
    "return {cmsgpack.unpack()}",
    "return {cmsgpack.unpack({})}",
    "return {cmsgpack.unpack(1)}",
    "return {cmsgpack.unpack('\\193')}",
    "return {cmsgpack.unpack('\\196\\3abc')}",
    "return {cmsgpack.unpack('\\199\\1\\5a')}",
    "return {cmsgpack.unpack('\\212\\1\\2')}",
    "return {cmsgpack.unpack('\\217\\5ab')}",
    "return {cmsgpack.unpack('\\129\\192\\1')}",
    "return {pcall(cmsgpack.unpack, '\\129\\192\\1')}",
    "return {cmsgpack.unpack('\\129\\1\\192')}",
    "return {cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')}",
    "return {cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\0')}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x')}",
    "return {cmsgpack.unpack_one()}",
    "return {cmsgpack.unpack_one('')}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}",
    "return {cmsgpack.unpack_limit('x')}",
    "return {string.byte(cmsgpack.pack(redis), 1, 3)}",
    # struct: lua_struct's argument numbering, C conversions, size rules
    "return struct.pack('c3', 'a')",
    "return struct.pack('>I')",
    "return struct.pack('bb', 1)",
    "return struct.pack('b', nil)",
    "return struct.pack(1)",
    "return {string.byte(struct.pack('>I8', 1e30), 1, -1)}",
    "return {string.byte(struct.pack('>i16', -1), 1, -1)}",
    "return {string.byte(struct.pack('>i', '0x10'), 1, -1)}",
    "return {string.byte(struct.pack('s', 12), 1, -1)}",
    "return {struct.unpack('>I', '\\0\\0\\0\\1', -1)}",
    "return {struct.unpack('>I', '\\0\\0\\0\\1', 0)}",
    "return {struct.unpack(1, 2)}",
    "return {struct.unpack('>i9', string.rep('\\255', 9))}",
    "return {struct.unpack('', 'a', 10)}",
    "return {struct.unpack('bbc0', '\\1\\2xy')}",
    "return struct.size('z')",
    "return struct.size('?')",
    "return struct.size('I\\0I')",
    "return struct.size('i99999999999')",
    # luaL_argerror names the function as the caller called it
    "local p = struct.pack; return p('z')",
    "return struct:pack('z')",
    "return {pcall(struct.pack, 'z')}",
    "local t = {f = bit.tohex}; return t.f('x')",
    "return {pcall(cjson.encode_max_depth, 0)}",
    # bit: LuaBitOp's barg (lua_tonumber + 2^52+2^51), arguments checked from the last
    "return bit.tobit(2^53 + 2)",
    "return bit.tobit(1e20)",
    "return bit.tobit('0x10')",
    "return bit.tobit(' 7 ')",
    "return bit.tobit(nil)",
    "return bit.tobit()",
    "return bit.bor(1, nil)",
    "return bit.band(1, 2, 'x', 'y')",
    "return bit.lshift(1)",
    "return bit.tohex(1, nil)",
    "return bit.tohex(255, -2^31)",
    "return bit.bnot('1e1')",
]]


@pytest.mark.parametrize("case", LIB_CASES, ids=[str(i) for i in range(len(LIB_CASES))])
def test_library_case(pair, case):
    pair.check(*case)


SHEBANG_CASES = [
    ("SCRIPT", "LOAD", "#!lua flags=no-writes,,allow-oom\nreturn 1"),
    ("SCRIPT", "LOAD", "#!lua flags=no-writes,\nreturn 1"),
    ("SCRIPT", "LOAD", "#!lua flags=\nreturn 1"),
    ("SCRIPT", "LOAD", "#!lua"),
    ("SCRIPT", "LOAD", "#!"),
    ("SCRIPT", "LOAD", "#!lua flags=no-writes"),
    ("SCRIPT", "LOAD", "#!lua\r\nreturn 1"),
    ("SCRIPT", "LOAD", "#!lua\tflags=no-writes\nreturn 1"),
    ("SCRIPT", "LOAD", '#!lua flags="no-writes"\nreturn 1'),
    ("SCRIPT", "LOAD", "#!lua flags='no-writes\nreturn 1"),
    ("SCRIPT", "LOAD", '#!lua ""\nreturn 1'),
    ("EVAL", "#!lua\r\nreturn 1", 0),
    ("EVAL", "#!lua\n\nreturn x", 0),
    ("FUNCTION", "LOAD", "#!js name=a-b\nx"),
    ("FUNCTION", "LOAD", "#!lua name=ab"),
    ("FUNCTION", "LOAD", '#!lua name="q b"\nreturn 1'),
    ("FUNCTION", "LOAD", '#!lua name="qb\nreturn 1'),
    ("FUNCTION", "LOAD", "#!\nreturn 1"),
    ("FUNCTION", "LOAD", "#!lua name=\nreturn 1"),
    ("FUNCTION", "LOAD", "#!lua NAME=ab\nredis.register_function('abf', function() return 1 end)"),
    ("FCALL", "abf", 0),
    ("FUNCTION", "LOAD", "#!lua\tname=tb\r\nredis.register_function('tbf', function() return 1 end)"),
    ("FCALL", "tbf", 0),
    # read-only scripts refuse CMD_MAY_REPLICATE commands (PUBLISH, PFCOUNT) like writes
    ("EVAL_RO", "return redis.call('publish', 'x', 'y')", 0),
    ("EVAL_RO", "return redis.pcall('pfcount', 'x')", 0),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('spublish', 'x', 'y')", 0),
    ("EVAL", "return redis.call('publish', 'x', 'y')", 0),
    # SCRIPT DEBUG: +OK outside a transaction, refused inside one
    ("SCRIPT", "DEBUG", "yes"),
    ("SCRIPT", "DEBUG", "sync"),
    ("SCRIPT", "DEBUG", "no"),
    ("SCRIPT", "DEBUG", "x"),
    ("MULTI",),
    ("SCRIPT", "DEBUG", "no"),
    ("SCRIPT", "DEBUG", "x"),
    ("EXEC",),
]


def test_shebangs_and_script_commands(pair):
    pair.check("FUNCTION", "FLUSH")
    try:
        for case in SHEBANG_CASES:
            pair.check(*case)
    finally:
        pair.check("FUNCTION", "FLUSH")


def _lib(name: str, body: str) -> tuple[object, ...]:
    return ("FUNCTION", "LOAD", "REPLACE", f"#!lua name={name}\n{body}")


FUNCTION_CASES = [
    # FCALL finds functions whatever the case; names collide across libraries ignoring case
    _lib("a", "redis.register_function('f', function() return 1 end)"),
    ("FCALL", "F", 0),
    ("FCALL_RO", "F", 0),
    _lib("b", "redis.register_function('F', function() return 2 end)"),
    _lib("A", "redis.register_function('g', function() return 3 end)"),  # library names keep case
    ("FCALL", "G", 0),
    ("FUNCTION", "DELETE", "A"),
    ("FUNCTION", "DELETE", "a"),
    _lib("b", "redis.register_function('F', function() return 2 end)"),
    ("FCALL", "f", 0),
    # named arguments: keys and flags ignore case, numbers are strings, flags read up to a nil
    _lib("c", "redis.register_function{FUNCTION_NAME='h', CallBack=function() return 3 end, FLAGS={'NO-WRITES'}}"),
    ("FCALL_RO", "h", 0),
    ("FUNCTION", "LIST", "LIBRARYNAME", "c"),
    _lib("c", "redis.register_function{function_name=12, callback=function() return 3 end}"),
    ("FCALL", "12", 0),
    _lib("c", "redis.register_function(3.5, function() return 3 end)"),
    _lib("c", "redis.register_function{function_name='h', callback=function() end, description=5}"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "c"),
    _lib("c", "redis.register_function{function_name='h', callback=function() end, [true]=1}"),
    _lib("c", "redis.register_function{function_name='h', callback=function() end, flags={'no-writes', nil, 'bad'}}"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "c"),
    _lib("c", "redis.register_function{function_name='h', callback=function() end, flags={[2]='bad'}}"),
    _lib("c", "redis.register_function{function_name='h', callback=function() end, flags={true}}"),
    _lib("c", "redis.register_function{function_name={}, callback=function() end}"),
    _lib("c", "redis.register_function{function_name='h', description={}, callback=function() end}"),
    _lib("c", "redis.register_function{function_name='h', callback='x'}"),
    _lib("c", "redis.register_function{'h', function() end}"),
    # the load-time redis table: register_function, log, versions (no setresp)
    _lib("d", "redis.setresp(3)"),
    _lib("d", "redis.register_function('h', function() end) return redis.setresp"),
    # the run-time redis table of functions has no breakpoint/debug/replicate_commands
    _lib("e", "redis.register_function('e1', function() local t = {} for k in pairs(redis) do t[#t+1] = k end "
         "table.sort(t) return t end)\n"
         "redis.register_function('e2', function() return redis.breakpoint() end)\n"
         "redis.register_function('e3', function() return type(redis.debug) end)"),
    ("FCALL", "e1", 0),
    ("FCALL", "e2", 0),
    ("FCALL", "e3", 0),
    ("FUNCTION", "LIST", "LIBRARYNAME", "C"),  # the pattern ignores case
    ("FUNCTION", "LIST", "LIBRARYNAME", "[C-D]"),
]


def test_function_registration(pair):
    pair.check("FUNCTION", "FLUSH")
    try:
        for case in FUNCTION_CASES:
            pair.check(*case)
        pair.check("FUNCTION", "STATS")
    finally:
        pair.check("FUNCTION", "FLUSH")


def test_error_table_with_a_number(pair):
    pair.check(*E("error({err=5})"))
    pair.check(*E("error({err=1.5})"))


def test_math_random_arguments(pair):
    """luaL_checkint: numbers are truncated to a C int (2^31 wraps), numeric strings count."""
    for body in ("math.randomseed(7); return math.random(100)",
                 "return math.random(1, 2^40)", "return math.random(2^31)", "return math.random(2^32 + 5)",
                 "return math.random('3')", "return math.random(' 0x10 ')", "return math.random({})",
                 "return math.random(1, {})", "return math.random(-2^31, 2^31 - 1)", "return math.random(0/0)",
                 "return math.randomseed()", "return math.randomseed('x')",
                 "math.randomseed(2^32 + 7); return math.random(100)", "math.randomseed('7'); return math.random(100)"):
        pair.check(*E(body))


def test_function_vm_survives_function_flush(pair):
    """FUNCTION FLUSH drops the libraries, not the Lua VM: cjson's settings persist."""
    load = ("FUNCTION", "LOAD", "REPLACE", "#!lua name=cj\nredis.register_function('cj', function(k, a) "
            "if a[1] then cjson.encode_max_depth(tonumber(a[1])) end return cjson.encode_max_depth() end)")
    pair.check("FUNCTION", "FLUSH")
    try:
        for case in [load, ("FCALL", "cj", 0, "7"), ("FUNCTION", "FLUSH"), load, ("FCALL", "cj", 0),
                     ("FUNCTION", "LOAD", "#!lua name=cj2\ncjson.encode_max_depth(9)\n"
                      "redis.register_function('cj2', function() return 1 end)"),
                     ("FCALL", "cj", 0), ("SCRIPT", "FLUSH"), ("FCALL", "cj", 0)]:
            pair.check(*case)
    finally:
        pair.check("FCALL", "cj", 0, "1000")
        pair.check("FUNCTION", "FLUSH")


def test_commands_a_script_may_not_run_are_counted_as_rejected(pair):
    # Redis's scriptCall: the command's rejected_calls and the error's errorstat, counted once
    # whether the error ends the script (redis.call) or is returned (redis.pcall)
    import re

    def stats(side) -> list[bytes]:
        info = side.call("INFO", "ALL")
        keep = rb"^(errorstat_\w+|cmdstat_(set|eval|eval_ro)|total_error_replies):"
        lines = [re.sub(rb"usec(_per_call)?=[\d.]+,?", b"", line) for line in info.split(b"\r\n") if re.match(keep, line)]
        return sorted(lines)

    try:
        for script in (("EVAL", "return redis.call('set','x','y')", "1", "x"),
                       ("EVAL", "return redis.pcall('set','x','y')", "1", "x"),
                       ("EVAL", "local t = redis.pcall('set','x','y') return 1", "1", "x"),
                       ("EVAL_RO", "return redis.call('set','x','y')", "1", "x")):
            for side in (pair.redis, pair.durakv):
                side.call("CONFIG", "SET", "maxmemory", "1" if script[0] == "EVAL" else "0")
                side.call("CONFIG", "RESETSTAT")
            pair.check(*script)
            assert stats(pair.durakv) == stats(pair.redis), script
    finally:
        for side in (pair.redis, pair.durakv):
            side.call("CONFIG", "SET", "maxmemory", "0")
