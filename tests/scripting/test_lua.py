"""Lua scripting semantics against redis-server: conversions both ways, errors, sandbox.

Every case runs as EVAL on both servers (RESP2 and RESP3) and the reply bytes must be
identical, including Redis 7.0's error texts ("... script: <sha>, on @user_script:1.").
"""

from __future__ import annotations

import pytest

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
