"""EVAL/EVALSHA/SCRIPT/FUNCTION/FCALL commands against redis-server, RESP2 and RESP3."""

from __future__ import annotations

import pytest

from tests.support.procs import start_durakv
from tests.support.raw import Raw

SCRIPT_SEQUENCE = [
    ('SCRIPT', 'LOAD', 'return 1'),
    ('EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 0),
    ('EVALSHA', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB', 0),
    ('EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', 0),
    ('EVALSHA', 'fff', 0),
    ('SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'x'),
    ('SCRIPT', 'FLUSH', 'x'),
    ('SCRIPT', 'FLUSH', 'ASYNC'),
    ('SCRIPT', 'HELP'),
    ('SCRIPT', 'KILL'),
    ('FUNCTION', 'KILL'),
    ("EVAL", "return 1"),
    ("EVALSHA", "x"),
    ("SCRIPT", "LOAD", "return 1 +"),
    ("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1"),
    ("SCRIPT", "EXISTS"),
    ("SCRIPT", "FLUSH", "SYNC", "ASYNC"),
    ("SCRIPT", "DEBUG", "no"),
    ("SCRIPT", "NOPE"),
    ("EVAL", "return 'cached'", 0),
    ("SCRIPT", "EXISTS", "6a1f7ddd4e4ec2ef1e5eb9a1e5bd9e4a4bfe5e08"),
]


def test_script_commands(pair):
    for case in SCRIPT_SEQUENCE:
        pair.check(*case)


FUNCTION_SEQUENCE = [
    ('FUNCTION', 'LOAD', "#!lua name=lib1\nlocal x = string.format('%d', 1)\nredis.register_function('f1', function(keys, args) return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib1\nredis.call('ping')"),
    ('FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys[1], args[1], string.format('%d', 2)} end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=lib2\nredis.register_function('f1', function(keys, args) return 1 end)"),
    ('FCALL', 'f1', 1, 'k', 'a'),
    ('FCALL', 'f1', 0),
    ('FCALL', 'nosuch', 0),
    ('FCALL', 'f1', 2, 'k'),
    ('FCALL', 'f1', 'x'),
    ('FCALL', 'f1', -1),
    ('FUNCTION', 'LOAD', "#!lua name=lib3\nredis.register_function{function_name='f3', callback=function(keys, args) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}, description='desc'}"),
    ('FCALL', 'f3', 1, 'k'),
    ('FCALL_RO', 'f1', 0),
    ('FCALL_RO', 'f3', 1, 'k'),
    ('FUNCTION', 'LOAD', "#!lua name=lib4\nredis.register_function{function_name='f4', callback=function(keys, args) error('boom') end}"),
    ('FCALL', 'f4', 0),
    ('FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'lib3'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib1'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'nomatch*'),
    ('FUNCTION', 'STATS'),
    ('FUNCTION', 'DELETE', 'nolib'),
    ('FUNCTION', 'DELETE', 'lib4'),
    ('FUNCTION', 'LOAD', 'return 1'),
    ('FUNCTION', 'LOAD', '#!lua\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=x\nreturn 1'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function('a b', function() end)"),
    ('FUNCTION', 'LOAD', '#!lua name=x y\nreturn 1'),
    ('FUNCTION', 'LOAD', '#!lua name=x foo=bar\nreturn 1'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function('a', 1)"),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, flags={'bad'}}"),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, foo=1}"),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)"),
    ('FUNCTION', 'LOAD', '#!lua name=x\nreturn 1 +'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nerror('e')"),
    ('FUNCTION', 'LOAD', '#!lua name=x\nredis.register_function()'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function('a')"),
    ('FUNCTION', 'LOAD', '#!lua name=x\nredis.register_function{callback=function() end}'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function{function_name='a'}"),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, description=1}"),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.register_function{function_name='a', callback=function() end, flags='no-writes'}"),
    ('FUNCTION', 'LOAD', '#!lua name=x\nredis.register_function(1, function() end)'),
    ('FUNCTION', 'LOAD', "#!lua name=x\nredis.log(redis.LOG_WARNING, 'loading')\nredis.register_function('logf', function() return redis.REDIS_VERSION end)"),
    ('FCALL', 'logf', 0),
    ('FUNCTION', 'LOAD', "#!LUA name=y\nredis.register_function('yf', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!js name=y\nredis.register_function('yf', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=y name=z\nredis.register_function('yf2', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua  name=w\nredis.register_function('wf', function() return 2 end)"),
    ('FUNCTION', 'LOAD', "#!lua name=w2\nredis.register_function('wf2', function(k, a) return redis.setresp(3) end)"),
    ('FCALL', 'wf2', 0),
    ('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=lib1\nredis.register_function('f1b', function(keys, args) return 'replaced' end)"),
    ('FCALL', 'f1', 0),
    ('FCALL', 'f1b', 0),
    ('FUNCTION', 'LOAD', 'BAD', 'x'),
    ('FUNCTION', 'LOAD', 'REPLACE', 'REPLACE', 'x'),
    ('FUNCTION', 'LOAD', "#!lua name=glob\nredis.register_function('g', function(keys, args) x = 1 end)"),
    ('FCALL', 'g', 0),
    ('FUNCTION', 'LOAD', "#!lua name=glob2\nredis.register_function('g2', function(keys, args) return KEYS end)"),
    ('FCALL', 'g2', 0),
    ('FUNCTION', 'LOAD', "#!lua name=glob3\nlocal function helper() return 5 end\nredis.register_function('g3', function(keys, args) return helper() + #keys + #args end)"),
    ('FCALL', 'g3', 2, 'a', 'b', 'c'),
    ('FUNCTION', 'LOAD', "#!lua name=ro\nredis.register_function{function_name='rof', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}"),
    ('FCALL_RO', 'rof', 1, 'k'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'ro'),
    ('FUNCTION', 'FLUSH', 'bad'),
    ('FUNCTION', 'FLUSH', 'sync', 'x'),
    ('FUNCTION', 'RESTORE', 'garbage'),
    ('FUNCTION', 'RESTORE', 'garbage', 'BAD'),
    ('FUNCTION', 'RESTORE', 'garbage', 'FLUSH', 'x'),
    ('FUNCTION', 'LIST', 'bad'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME'),
    ('FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'),
    ('FUNCTION', 'LIST', 'LIBRARYNAME', 'a', 'LIBRARYNAME', 'b'),
    ('FUNCTION', 'HELP'),
    ('FUNCTION', 'FLUSH'),
    ('FUNCTION', 'LIST'),
    ('FUNCTION', 'STATS'),
    ('FUNCTION', 'DUMP'),
    ('FUNCTION', 'LOAD', "#!lua name=dumped\nredis.register_function('d', function(keys, args) return 'd' end)"),
    ('FUNCTION', 'DUMP'),
    ('FUNCTION', 'LOAD', "#!lua name=dumped2\nredis.register_function('d2', function(keys, args) return 'this is a longer body to make lzf compress it, this is a longer body to make lzf compress it' end)"),
    ('FUNCTION', 'DELETE', 'dumped'),
    ('FUNCTION', 'DUMP'),
]


def test_function_commands(pair):
    pair.check("FUNCTION", "FLUSH")
    for case in FUNCTION_SEQUENCE:
        pair.check(*case)
    pair.check("FUNCTION", "FLUSH")


def test_function_list_unordered(pair):
    pair.check("FUNCTION", "FLUSH")
    for i in range(3):
        pair.check("FUNCTION", "LOAD", f"#!lua name=lib{i}\nredis.register_function('f{i}', function() return {i} end)")
    pair.check_parsed("FUNCTION", "LIST", unordered=True)
    pair.check_parsed("FUNCTION", "LIST", "WITHCODE", unordered=True)
    pair.check("FUNCTION", "STATS")
    pair.check("FUNCTION", "FLUSH")


def test_dump_from_redis_restores_into_durakv(pair):
    pair.check("FUNCTION", "FLUSH")
    code = "#!lua name=mig\nredis.register_function('mig', function(keys, args) return 'migrated ' .. args[1] end)"
    pair.redis.call("FUNCTION", "LOAD", code)
    payload = pair.redis.parsed("FUNCTION", "DUMP")
    assert pair.durakv.call("FUNCTION", "RESTORE", payload) == b"+OK\r\n"
    assert pair.durakv.call("FCALL", "mig", 0, "x") == b"$10\r\nmigrated x\r\n"
    assert pair.durakv.parsed("FUNCTION", "DUMP") == payload
    pair.check("FUNCTION", "RESTORE", payload)  # APPEND collides on both
    pair.check("FUNCTION", "RESTORE", payload, "REPLACE")
    pair.check("FUNCTION", "RESTORE", payload, "FLUSH")
    pair.check("FUNCTION", "RESTORE", payload[:-1] + bytes([payload[-1] ^ 1]))
    pair.check("FUNCTION", "LIST")
    pair.check("FUNCTION", "FLUSH")


def test_eval_ro_and_fcall_ro_reads(r):
    r.set("k", "v")
    assert r.execute_command("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "k") == b"v"
    sha = r.script_load("return redis.call('get', KEYS[1])")
    assert r.execute_command("EVALSHA_RO", sha, 1, "k") == b"v"
    assert r.evalsha(sha, 1, "k") == b"v"


def test_functions_and_script_effects_survive_restart(tmp_path):
    proc = start_durakv("--appendfsync", "always", workdir=str(tmp_path))
    try:
        c = Raw(proc.port)
        assert c.call("FUNCTION", "LOAD", "#!lua name=keep\nredis.register_function('kf', "
                      "function(keys, args) return redis.call('incr', keys[1]) end)") == b"$4\r\nkeep\r\n"
        assert c.call("FCALL", "kf", 1, "counter") == b":1\r\n"
        assert c.call("EVAL", "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])", 1, "s", "v") \
            == b"$1\r\nv\r\n"
        assert c.call("FUNCTION", "LOAD", "#!lua name=gone\nredis.register_function('gf', function() return 1 end)") \
            == b"$4\r\ngone\r\n"
        assert c.call("FUNCTION", "DELETE", "gone") == b"+OK\r\n"
        c.close()
        proc.kill9()
        proc.start()
        c = Raw(proc.port)
        assert c.call("FCALL", "kf", 1, "counter") == b":2\r\n"
        assert c.call("GET", "s") == b"$1\r\nv\r\n"
        assert c.call("FCALL", "gf", 0) == b"-ERR Function not found\r\n"
        c.close()
    finally:
        proc.stop()


@pytest.mark.parametrize("cmd", ["EVAL", "FCALL"])
def test_numkeys_errors(pair, cmd):
    pair.check("FUNCTION", "FLUSH")
    if cmd == "FCALL":
        pair.check("FUNCTION", "LOAD", "#!lua name=nk\nredis.register_function('nk', function() return 1 end)")
        name = "nk"
    else:
        name = "return 1"
    pair.check(cmd, name, "abc")
    pair.check(cmd, name, "-1")
    pair.check(cmd, name, "3", "a")
    pair.check(cmd, name, "1", "a")
    pair.check("FUNCTION", "FLUSH")


# scripts under maxmemory: compatibility mode checks per command, shebang scripts up front
OOM_SEQUENCE = [
    ('SET', 'pre', 'x'),
    ('CONFIG', 'SET', 'maxmemory', '1'),
    ('EVAL', "return redis.call('set','a','b')", 0),
    ('EVAL', "return redis.pcall('set','a','b')", 0),
    ('EVAL', "return redis.call('get','pre')", 0),
    ('EVAL', "redis.call('del','nokey'); return redis.call('set','a','b')", 0),
    ('EVAL', "#!lua\nreturn redis.call('get','pre')", 0),
    ('EVAL', "#!lua flags=no-writes\nreturn redis.call('get','pre')", 0),
    ('EVAL', "#!lua flags=allow-oom\nreturn redis.call('set','a','b')", 0),
    ('FUNCTION', 'LOAD', "#!lua name=oom\nredis.register_function('o', function() return 1 end)"),
    ('FCALL', 'o', 0),
    ('CONFIG', 'SET', 'maxmemory', '0'),
    ('FUNCTION', 'FLUSH'),
]


def test_scripts_when_out_of_memory(pair):
    pair.check("FUNCTION", "FLUSH")
    try:
        for case in OOM_SEQUENCE:
            pair.check(*case)
    finally:
        pair.redis.call("CONFIG", "SET", "maxmemory", "0")
        pair.durakv.call("CONFIG", "SET", "maxmemory", "0")


def test_evalsha_error_order(pair):
    # a sha that is not 40 characters long is NOSCRIPT before numkeys is even parsed
    for cmd in ("EVALSHA", "EVALSHA_RO"):
        pair.check(cmd, "abc", "x")
        pair.check(cmd, "abc", "5", "k")
        pair.check(cmd, "a" * 40, "x")
        pair.check(cmd, "a" * 40, "5", "k")
        pair.check(cmd, "a" * 40, "-1")
        pair.check(cmd, "A" * 40, "0")
