"""Lua scripting semantics against redis-server: conversions both ways, errors, sandbox.

Every case runs as EVAL on both servers (RESP2 and RESP3) and the reply bytes must be
identical, including Redis 7.0's error texts ("... script: <sha>, on @user_script:1.").
"""

from __future__ import annotations

import pytest

from tests.support.raw import encode

CASES = [
    ('EVAL', "return redis.call('nosuch')", 0),
    ('EVAL', "return redis.call('get')", 0),
    ('EVAL', "return redis.pcall('lpush','k','x')", 0),
    ('EVAL', "local t = redis.pcall('lpush','k','x'); return t.err", 0),
    ('EVAL', "return redis.error_reply('My Error')", 0),
    ('EVAL', "return redis.error_reply('-My Error')", 0),
    ('EVAL', "return {err='x y'}", 0),
    ('EVAL', "return redis.status_reply('FINE')", 0),
    ('EVAL', "error('boom')", 0),
    ('EVAL', "error({err='tbl'})", 0),
    ('EVAL', "error({err='ERR tbl'})", 0),
    ('EVAL', 'return x', 0),
    ('EVAL', 'x = 1', 0),
    ('EVAL', 'return 1 +', 0),
    ('EVAL', "return {1,2,3,'x',nil,5}", 0),
    ('EVAL', "return {1.9, -2.7, true, false, {ok='s'}, {err='e'}}", 0),
    ('EVAL', 'return 3.99', 0),
    ('EVAL', 'return true', 0),
    ('EVAL', 'return false', 0),
    ('EVAL', 'return nil', 0),
    ('EVAL', 'return KEYS[1]..ARGV[1]', 1, 'a', 'b'),
    ('EVAL', 'return 1', -1),
    ('EVAL', 'return 1', 2, 'a'),
    ('EVAL', 'return 1', 'x'),
    ('EVAL', "return redis.call('get', KEYS[1])", 1, 'nokey'),
    ('EVAL', "return redis.sha1hex('')", 0),
    ('EVAL', 'return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}', 0),
    ('EVAL', "return redis.REDIS_VERSION .. ' ' .. redis.REDIS_VERSION_NUM", 0),
    ('EVAL', 'return os.time()', 0),
    ('EVAL', 'return type(io)', 0),
    ('EVAL', 'return loadfile', 0),
    ('EVAL', 'return print', 0),
    ('EVAL', 'return tostring(require)', 0),
    ('EVAL', 'redis = {}', 0),
    ('EVAL', 'redis.call = function() end', 0),
    ('EVAL', 'string.x = 1', 0),
    ('EVAL', 'return redis.setresp(4)', 0),
    ('EVAL', 'return redis.set_repl(redis.REPL_ALL)', 0),
    ('EVAL', 'return redis.replicate_commands()', 0),
    ('EVAL', 'return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}', 0),
    ('EVAL', 'return redis.call()', 0),
    ('EVAL', 'return redis.call({})', 0),
    ('EVAL', "return redis.call('eval', 'return 1', 0)", 0),
    ('EVAL', "return redis.call('subscribe', 'x')", 0),
    ('EVAL', 'return _VERSION', 0),
    ('EVAL', 'return type(coroutine)..type(newproxy)', 0),
    ('EVAL', 'return type(bit)..type(cjson)..type(struct)..type(cmsgpack)', 0),
    ('EVAL_RO', "return redis.pcall('set','a','b')", 0),
    ('EVAL', '#!lua flags=bad\nreturn 1', 0),
    ('EVAL', '#!lua\nreturn 1', 0),
    ('EVAL', '#!lua name=x\nreturn 1', 0),
    ('EVAL', '#!luax\nreturn 1', 0),
    ('EVAL', '#!lua flags=allow-oom,no-cluster,allow-stale,allow-cross-slot-keys\nreturn 1', 0),
    ('EVAL', "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])", 1, 'x'),
    ('EVAL', "redis.log(redis.LOG_WARNING, 'hello'); return 1", 0),
    ('EVAL', "redis.log(99, 'hello'); return 1", 0),
    ('EVAL', 'redis.log(redis.LOG_WARNING); return 1', 0),
    ('EVAL', 'return redis.breakpoint()', 0),
    ('EVAL', "return redis.debug('x')", 0),
    ('EVAL', 'return redis.sha1hex()', 0),
    ('EVAL', 'return redis.error_reply()', 0),
    ('EVAL', 'return redis.status_reply(1)', 0),
    ('EVAL', "return redis.call('ping').ok", 0),
    ('EVAL', "local t = redis.call('ping'); return t", 0),
    ('EVAL', "return {1, {2, {3, 'x'}}, {}}", 0),
    ('EVAL', 'return 1e20', 0),
    ('EVAL', 'return -1e20', 0),
    ('EVAL', 'return 0/0', 0),
    ('EVAL', "return 'a\\r\\nb'", 0),
    ('EVAL', "return {ok='a\\r\\nb'}", 0),
    ('EVAL', "return {err='a\\r\\nb'}", 0),
    ('EVAL', "return redis.error_reply('')", 0),
    ('EVAL', "return {err=''}", 0),
    ('EVAL', 'return {err=1}', 0),
    ('EVAL', 'return {ok=1}', 0),
    ('EVAL', 'local a = {}; a[1]=1; a[3]=3; return a', 0),
    ('EVAL', "return pcall(function() redis.call('nosuch') end)", 0),
    ('EVAL', "local ok, e = pcall(function() redis.call('nosuch') end); return e", 0),
    ('EVAL', "local ok, e = pcall(function() error('x') end); return e", 0),
    ('EVAL', 'local ok, e = pcall(function() local z = nosuchvar end); return e', 0),
    ('EVAL', "return string.format('%d %s %5.2f', 3, 'x', 1.5)", 0),
    ('EVAL', "return tostring(1e15)..' '..tostring(0.1)..' '..tostring(123456789012345678)", 0),
    ('EVAL', "return loadstring('return 1')()", 0),
    ('EVAL', "loadstring('x = 1')()", 0),
    ('EVAL', '_G.x = 1', 0),
    ('EVAL', 'return _G.KEYS[1]', 1, 'kk'),
    ('EVAL', 'return #KEYS + #ARGV', 2, 'a', 'b', 'c'),
    ('EVAL', "redis.setresp(3); return redis.call('get', 'nokey')", 0),
    ('EVAL', 'redis.setresp(3); return {double=3.5}', 0),
    ('EVAL', 'return {double=3.5}', 0),
    ('EVAL', "return {big_number='123'}", 0),
    ('EVAL', 'return {map={a=1}}', 0),
    ('EVAL', 'return {set={a=true}}', 0),
    ('EVAL', "return {verbatim_string={format='txt', string='hi'}}", 0),
    ('EVAL', 'redis.setresp(3); return true', 0),
    ('EVAL', 'redis.setresp(3); return {false, true}', 0),  # bare #f confuses hiredis' gets()
    ('EVAL', 'redis.setresp(3); return nil', 0),
    ('EVAL', "redis.setresp(3); return redis.call('exists','nokey')", 0),
    ('EVAL', 'return math.huge', 0),
    ('EVAL', 'return -0.5', 0),
    ('EVAL', "return {1, 'a', {ok='OK'}, {err='ERR x'}, false, 3}", 0),
    ('EVAL', "return redis.call('client', 'id') > 0", 0),
    ('EVAL', 'return bit.band(0xff, 0x0f)', 0),
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_eval_case(pair, case):
    pair.check(*case)


# cases that depend on the keys earlier cases wrote: run in order on one connection
SEQUENCE = [
    ('EVAL', "return redis.call('set','k')", 0),
    ('EVAL', "redis.call('set','k','v'); return redis.call('lpush','k','x')", 0),
    ('EVAL', "return redis.call('set', {}, 1)", 0),
    ('EVAL', "return redis.call('set', 'a', 1.5)", 0),
    ('EVAL', "return redis.call('get', 'a')", 0),
    ('EVAL', "return redis.call('set', 'a', 0.1)", 0),
    ('EVAL', "return redis.call('get', 'a')", 0),
    ('EVAL_RO', "return redis.call('set','a','b')", 0),
    ('EVAL', "#!lua flags=no-writes\nreturn redis.call('set','a','b')", 0),
    ('EVAL', "#!lua\nreturn redis.call('set','shebang','1')", 0),
    ('EVAL', "return redis.call('incrbyfloat','f','1.5')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('hgetall', 'nohash')", 0),
    ('EVAL', "redis.call('hset','h','a','1'); redis.setresp(3); local r = redis.call('hgetall','h'); return r.map.a", 0),
    ('EVAL', "redis.setresp(3); local r = redis.call('hgetall','h'); return r", 0),
    ('EVAL', "redis.call('sadd','s','m'); redis.setresp(3); return redis.call('smembers','s')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('smembers','s').set.m", 0),
    ('EVAL', "redis.call('zadd','z','1.5','m'); redis.setresp(3); return redis.call('zscore','z','m')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('zscore','z','m').double", 0),
    ('EVAL', "return redis.call('zscore','z','m')", 0),
    ('EVAL', "return redis.call('select', 1)", 0),
    ('EVAL', "redis.call('select', 1); redis.call('set','indb1','x'); return redis.call('get','indb1')", 0),
    ("GET", "indb1"),
    ("SELECT", "1"),
    ("GET", "indb1"),
]


def test_eval_sequence(pair):
    for case in SEQUENCE:
        pair.check(*case)


def test_script_writes_are_visible_and_atomic(r):
    r.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('rpush', KEYS[2], ARGV[1], ARGV[1])", 2, "k", "l", "v")
    assert r.get("k") == b"v"
    assert r.lrange("l", 0, -1) == [b"v", b"v"]
    assert r.eval("return redis.call('incrby', KEYS[1], 5)", 1, "n") == 5


# redis.call over many command groups, Lua builtins, error positions (in order: keys carry over)
SEQUENCE_2 = [
    ('EVAL', 'return 2^53', 0),
    ('EVAL', 'return 2^63', 0),
    ('EVAL', 'return -2^63', 0),
    ('EVAL', 'return tostring(3.0)', 0),
    ('EVAL', "return 'a\\0b'", 0),
    ('EVAL', "return redis.call('set', KEYS[1], 123)", 1, 'num'),
    ('EVAL', "return redis.call('get', KEYS[1]) + 1", 1, 'num'),
    ('EVAL', 'error()', 0),
    ('EVAL', 'error(nil)', 0),
    ('EVAL', 'error(123)', 0),
    ('EVAL', "error('x', 0)", 0),
    ('EVAL', "error('x', 2)", 0),
    ('EVAL', "local function f()\n  error('deep')\nend\nf()", 0),
    ('EVAL', 'local t = {}\nreturn t.x.y', 0),
    ('EVAL', 'return nil + 1', 0),
    ('EVAL', "local a = 'x' .. {}", 0),
    ('EVAL', 'return #ARGV', 0, 'a', 'b'),
    ('EVAL', 'return ARGV', 0, 'a', 'b'),
    ('EVAL', 'return KEYS', 2, 'a', 'b', 'c'),
    ('EVAL', 'return {KEYS[1], ARGV[1], KEYS[3]}', 2, 'a', 'b', 'c'),
    ('EVAL', "return redis.pcall('nosuchcmd')", 0),
    ('EVAL', 'return redis.pcall()', 0),
    ('EVAL', "return redis.pcall('get')", 0),
    ('EVAL', "local r = redis.pcall('incr', 'str'); return {type(r), r.err}", 0),
    ('EVAL', "redis.call('set','str','abc'); local r = redis.pcall('incr', 'str'); return {type(r), r.err}", 0),
    ('EVAL', "return string.rep('x', 3, ',')", 0),
    ('EVAL', "return {string.byte('A'), string.char(66), string.upper('c'), ('x'):rep(2)}", 0),
    ('EVAL', "return math.floor(3.7) .. ',' .. math.max(1,5,3) .. ',' .. math.fmod(7,3)", 0),
    ('EVAL', 'local t = {3,1,2}; table.sort(t); return t', 0),
    ('EVAL', "local t = {}; table.insert(t, 'a'); table.insert(t, 1, 'b'); return t", 0),
    ('EVAL', 'return table.getn({1,2,3})', 0),
    ('EVAL', 'return unpack({1,2,3})', 0),
    ('EVAL', "return select(2, 'a', 'b', 'c')", 0),
    ('EVAL', "return tonumber('abc')", 0),
    ('EVAL', "return tonumber('12') + tonumber('0x1F')", 0),
    ('EVAL', 'return type(next({}))', 0),
    ('EVAL', 'local co = coroutine.create(function() coroutine.yield(1) end); local ok, v = coroutine.resume(co); return v', 0),
    ('EVAL', "return setmetatable({}, {__index=function(t,k) return k..'!' end}).hello", 0),
    ('EVAL', "return getmetatable('').__index == string", 0),
    ('EVAL', "return rawget(_G, 'KEYS') ~= nil", 0),
    ('EVAL', "return collectgarbage('count') > 0", 0),
    ('EVAL', 'return gcinfo() > 0', 0),
    ('EVAL', "return assert(false, 'assert msg')", 0),
    ('EVAL', 'return assert(1 == 1)', 0),
    ('EVAL', "return xpcall(function() error('q') end, function(e) return 'handled: ' .. e end)", 0),
    ('EVAL', "local ok, e = xpcall(function() error('q') end, function(e) return 'handled: ' .. e end); return e", 0),
    ('EVAL', "local ok, e = pcall(error, {err='custom'}); return e", 0),
    ('EVAL', 'local ok, e = pcall(error); return tostring(e)', 0),
    ('EVAL', "return redis.status_reply('')", 0),
    ('EVAL', "return {ok='OK', err='E'}", 0),
    ('EVAL', "return {1, {err='inner'}}", 0),
    ('EVAL', 'return {double=1/0}', 0),
    ('EVAL', 'redis.setresp(3); return {double=1/0}', 0),
    ('EVAL', "redis.setresp(3); return {big_number='12345678901234567890'}", 0),
    ('EVAL', "redis.setresp(3); return {map={[1]='a', b=true}}", 0),
    ('EVAL', 'redis.setresp(3); return {1, nil, 3}', 0),
    ('EVAL', "redis.setresp(3); return redis.call('config','get','maxmemory')", 0),
    ('EVAL', "redis.setresp('3'); return 1", 0),
    ('EVAL', 'redis.setresp(2.0); return 1', 0),
    ('EVAL', "return redis.call('exists', 'a', 'b')", 0),
    ('EVAL', "return redis.call('type', 'num')", 0),
    ('EVAL', "return redis.call('type', 'num').ok", 0),
    ('EVAL', "return redis.call('multi')", 0),
    ('EVAL', "return redis.call('watch', 'x')", 0),
    ('EVAL', "return redis.call('blpop', 'nolist', 0)", 0),
    ('EVAL', "return redis.call('ping', 'hello')", 0),
    ('EVAL', "return redis.call('echo', 'e')", 0),
    ('EVAL', "return redis.call('hello')", 0),
    ('EVAL', "return redis.call('auth', 'x')", 0),
    ('EVAL', "return redis.call('client', 'list')", 0),
    ('EVAL', "return redis.call('script', 'load', 'return 1')", 0),
    ('EVAL', "return redis.call('function', 'list')", 0),
    ('EVAL', "return redis.call('fcall', 'x', 0)", 0),
    ('EVAL', "return redis.call('spublish', 'x', 'y')", 0),
    ('EVAL', "return redis.call('publish', 'x', 'y')", 0),
    ('EVAL', "return redis.call('PING')", 0),
    ('EVAL', "return redis.call('GeT', 'num')", 0),
    ('EVAL', "return redis.call('config', 'nosub')", 0),
    ('EVAL', "return redis.call('config')", 0),
    ('EVAL', "return redis.call('object', 'encoding', 'num')", 0),
    ('EVAL', "return redis.call('debug', 'sleep', 0)", 0),
    ('EVAL', "return redis.call('time')[1] > '0'", 0),
    ('EVAL', "return redis.call('randomkey') ~= nil", 0),
    ('EVAL', "return redis.call('expire', 'num', 100)", 0),
    ('EVAL', "return redis.call('ttl', 'num')", 0),
    ('EVAL', "return redis.call('lpush', 'mylist', 'a', 'b')", 0),
    ('EVAL', "return redis.call('lrange', 'mylist', 0, -1)", 0),
    ('EVAL', "return redis.call('hset', 'hh', 'f', 1, 'g', 2)", 0),
    ('EVAL', "return redis.call('hgetall', 'hh')", 0),
    ('EVAL', "return redis.call('zadd', 'zz', 1, 'a', 2.5, 'b')", 0),
    ('EVAL', "return redis.call('zrange', 'zz', 0, -1, 'withscores')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('zrange', 'zz', 0, -1, 'withscores')", 0),
    ('EVAL', "return redis.call('xadd', 'st', '1-1', 'f', 'v')", 0),
    ('EVAL', "return redis.call('xrange', 'st', '-', '+')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('xinfo', 'stream', 'st')", 0),
    ('EVAL', "return redis.call('sismember', 'noset', 'x')", 0),
    ('EVAL', "redis.setresp(3); return redis.call('smismember', 'noset', 'x')", 0),
    ('EVAL', "return redis.call('incrbyfloat', 'fl', '0.1')", 0),
    ('EVAL', "return redis.call('object', 'freq', 'num')", 0),
]


def test_eval_sequence_commands_and_builtins(pair):
    for case in SEQUENCE_2:
        pair.check(*case)


# reply conversion corners: raw access (no __index), holes, cycles (Lua stack limit), recursion
SEQUENCE_3 = [
    ('EVAL', 'local function f() f() end f()', 0),
    ('EVAL', "return string.rep('x', 10)", 0),
    ('EVAL', "return redis.call('set', 'k', string.rep('x', 5))", 0),
    ('EVAL', "local s = 0 for i = 1, 1000 do s = s + redis.call('incr', 'cnt') end return s", 0),
    ('EVAL', 'return {1, 2, {3, {4, {5}}}}', 0),
    ('EVAL', 'return setmetatable({}, {__index = function() return 1 end})', 0),
    ('EVAL', 'return {x = 1}', 0),
    ('EVAL', "return {[1] = 'a', x = 'b'}", 0),
    ('EVAL', 'return {1, 2, [5] = 5}', 0),
]


def test_reply_conversion_corners(pair):
    for case in SEQUENCE_3:
        pair.check(*case)


def test_cyclic_reply_hits_lua_stack_limit(pair):
    """Too deep for hiredis: compare the raw bytes (7995 nested arrays, then the error)."""
    got = []
    for conn in (pair.redis, pair.durakv):
        conn.send(encode("EVAL", "local t = {}; t[1] = t; return t", 0))
        data = b""
        while not data.endswith(b"-ERR reached lua stack limit\r\n"):
            chunk = conn.sock.recv(1 << 16)
            assert chunk
            data += chunk
        got.append(data)
    assert got[1] == got[0]
    assert got[0].count(b"*1\r\n") == 7995


# error values seen by pcall/xpcall handlers
PCALL_CASES = [
    ('EVAL', "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e end); return e", 0),
    ('EVAL', "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return type(e) end); return e", 0),
    ('EVAL', "local ok, e = xpcall(function() bit.band('x') end, function(e) return e end); return e", 0),
    ('EVAL', "local ok, e = xpcall(function() error('plain') end, function(e) return e end); return e", 0),
    ('EVAL', "local ok, e = pcall(redis.call, 'nosuch'); return e", 0),
    ('EVAL', 'return xpcall(function() return 1 end, function(e) return e end)', 0),
]


@pytest.mark.parametrize("case", PCALL_CASES, ids=[str(i) for i in range(len(PCALL_CASES))])
def test_pcall_xpcall_error_values(pair, case):
    pair.check(*case)
