"""The Lua libraries (cjson, bit, struct, cmsgpack) against redis-server, byte for byte."""

from __future__ import annotations

import pytest

CASES = [
    ('EVAL', 'return cjson.encode({1,2,3})', 0),
    ('EVAL', 'return cjson.encode({a=1})', 0),
    ('EVAL', 'return cjson.encode({})', 0),
    ('EVAL', 'return cjson.encode(\'a/b"c\\n\')', 0),
    ('EVAL', 'return cjson.encode({1.5, 0.1, 1e20, -3, true, false})', 0),
    ('EVAL', 'return cjson.encode({[1]=1,[3]=3})', 0),
    ('EVAL', 'return cjson.encode({[1]=1,[30]=3})', 0),
    ('EVAL', 'return cjson.encode({a={b={c={1,2}}}})', 0),
    ('EVAL', 'return cjson.encode(cjson.null)', 0),
    ('EVAL', 'return cjson.encode(nil)', 0),
    ('EVAL', 'return cjson.encode(function() end)', 0),
    ('EVAL', 'return cjson.encode(1/0)', 0),
    ('EVAL', 'return cjson.encode({[true]=1})', 0),
    ('EVAL', 'return cjson.encode()', 0),
    ('EVAL', "return cjson.encode({x='\\1\\127'})", 0),
    ('EVAL', "return cjson.encode({name='x', tags={'a','b'}, n=5})", 0),
    ('EVAL', 'local t = cjson.decode(\'[1,2,{"a":null}]\'); return {t[1], t[2], type(t[3].a)}', 0),
    ('EVAL', 'local t = cjson.decode(\'{"a":1.5,"b":"x"}\'); return {tostring(t.a), t.b}', 0),
    ('EVAL', 'return cjson.decode(\'"\\\\u00e9"\')', 0),
    ('EVAL', "return cjson.decode('bad')", 0),
    ('EVAL', "return cjson.decode('')", 0),
    ('EVAL', "return cjson.decode('[1,2')", 0),
    ('EVAL', 'return cjson.decode(\'{"a":1}\').a', 0),
    ('EVAL', "return cjson.decode('123')", 0),
    ('EVAL', "return cjson.decode('true')", 0),
    ('EVAL', 'return cjson.encode(cjson.decode(\'{"a":[1,2,3],"b":{"c":"d"}}\'))', 0),
    ('EVAL', 'return bit.band(0xff, 0x0f)', 0),
    ('EVAL', 'return {bit.tobit(0xffffffff), bit.tobit(2^32+5), bit.bnot(0), bit.bor(1,2,4), bit.bxor(5,3)}', 0),
    ('EVAL', 'return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8)}', 0),
    ('EVAL', 'return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.bswap(0x12345678)}', 0),
    ('EVAL', "return bit.band('x')", 0),
    ('EVAL', "return bit.tobit(1.5) .. ' ' .. bit.tobit(2.5) .. ' ' .. bit.tobit(-1.5)", 0),
    ('EVAL', "return struct.pack('>I2', 258)", 0),
    ('EVAL', "return struct.pack('<i4d', -2, 1.5)", 0),
    ('EVAL', "return {struct.unpack('>I2', '\\1\\2')}", 0),
    ('EVAL', "return {struct.unpack('<i4', struct.pack('<i4', -7))}", 0),
    ('EVAL', "return struct.size('>I2i4d')", 0),
    ('EVAL', "return struct.pack('s', 'abc')", 0),
    ('EVAL', "return {struct.unpack('s', 'ab\\0cd')}", 0),
    ('EVAL', "return struct.pack('c3', 'abcdef')", 0),
    ('EVAL', "return struct.pack('!4 b i', 1, 2)", 0),
    ('EVAL', "return struct.pack('z', 1)", 0),
    ('EVAL', "return {struct.unpack('>I4', 'ab')}", 0),
    ('EVAL', 'return cmsgpack.pack({1,2,3})', 0),
    ('EVAL', 'return cmsgpack.pack({a=1})', 0),
    ('EVAL', "return cmsgpack.pack('abc', 1.5, -1, 300, -300, 70000, true, false, nil)", 0),
    ('EVAL', 'return cmsgpack.pack(0.1)', 0),
    ('EVAL', "return cmsgpack.pack(string.rep('x', 40))", 0),
    ('EVAL', "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}))}", 0),
    ('EVAL', 'local t = cmsgpack.unpack(cmsgpack.pack({a=5})); return t.a', 0),
    ('EVAL', "return cmsgpack.unpack('\\205')", 0),
    ('EVAL', 'return cmsgpack.pack()', 0),
    ('EVAL', 'return cmsgpack.pack(2^40, -2^40)', 0),
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_library_case(pair, case):
    pair.check(*case)


# argument errors of the redis API and the libraries (positions, texts), cjson decode errors
MORE = [
    ('EVAL', 'return redis.set_repl(99)', 0),
    ('EVAL', 'return redis.set_repl()', 0),
    ('EVAL', "return redis.set_repl('x')", 0),
    ('EVAL', 'return redis.setresp()', 0),
    ('EVAL', "return redis.setresp('x')", 0),
    ('EVAL', "redis.log('x', 'y')", 0),
    ('EVAL', 'redis.log(0, {})', 0),
    ('EVAL', 'return redis.sha1hex(1)', 0),
    ('EVAL', 'return redis.sha1hex({})', 0),
    ('EVAL', "return redis.sha1hex('a', 'b')", 0),
    ('EVAL', "return redis.error_reply('a', 'b')", 0),
    ('EVAL', 'return redis.status_reply()', 0),
    ('EVAL', 'return redis.acl_check_cmd()', 0),
    ('EVAL', 'return redis.acl_check_cmd({})', 0),
    ('EVAL', 'return math.random(0)', 0),
    ('EVAL', 'return math.random(5, 1)', 0),
    ('EVAL', 'return math.random(1, 2, 3)', 0),
    ('EVAL', "return math.random('x')", 0),
    ('EVAL', 'math.randomseed(42); return math.random(1000000)', 0),
    ('EVAL', 'math.randomseed(42); return {math.random(100), math.random(100), math.random(100)}', 0),
    ('EVAL', 'return redis.replicate_commands(1)', 0),
    ('EVAL', "return string.format('%q', 'a\\nb')", 0),
    ('EVAL', "return struct.size('c0')", 0),
    ('EVAL', "return {struct.unpack('bc0', struct.pack('bc0', 3, 'abc'))}", 0),
    ('EVAL', "return cjson.decode('[1,2,3,]')", 0),
    ('EVAL', 'return cjson.decode(\'{"a" 1}\')', 0),
    ('EVAL', "return cjson.decode('{1:2}')", 0),
    ('EVAL', "return cjson.decode('[1] x')", 0),
    ('EVAL', 'return cjson.decode(\'"\\\\x"\')', 0),
    ('EVAL', 'return cjson.decode(\'"abc\')', 0),
    ('EVAL', "return cjson.decode('nul')", 0),
    ('EVAL', "return cjson.decode('01')", 0),
    ('EVAL', "return cjson.decode('1e400')", 0),
    ('EVAL', 'return cjson.encode(cjson.decode(\'[1.5,"\\\\u20ac",true,null]\'))', 0),
    ('EVAL', 'return cjson.encode({1, nil, 3})', 0),
    ('EVAL', 'return cjson.encode({[1]=1, [2]=2, [4]=4})', 0),
    ('EVAL', 'return cjson.encode({a={}, b={1}})', 0),
    ('EVAL', 'return cjson.encode(12345678901234567)', 0),
    ('EVAL', 'return cjson.encode(0.1 + 0.2)', 0),
    ('EVAL', 'return cmsgpack.pack({1, 2, nil, 4})', 0),
    ('EVAL', "return cmsgpack.pack({[1]='a', [3]='c'})", 0),
    ('EVAL', 'return cmsgpack.pack(1.0, -0.5, 3.14159)', 0),
    ('EVAL', "return {cmsgpack.unpack('')}", 0),
    ('EVAL', 'return bit.tohex(0x7fffffff, 0)', 0),
    ('EVAL', 'return bit.tobit()', 0),
    ('EVAL', 'return bit.lshift(1, 33)', 0),
]


@pytest.mark.parametrize("case", MORE, ids=[str(i) for i in range(len(MORE))])
def test_more_library_cases(pair, case):
    pair.check(*case)


def test_math_random_sequence_of_a_fresh_server():
    """Redis's rand48 starts at the drand48 default state and is never reseeded per call."""
    from tests.support.procs import start_durakv, start_redis
    from tests.support.raw import Raw

    got = []
    for proc in (start_redis(), start_durakv()):
        try:
            c = Raw(proc.port)
            got.append([c.call("EVAL", "return {math.random(1000), math.random(1000), math.random(7, 9)}", 0),
                        c.call("SCRIPT", "FLUSH"),
                        c.call("EVAL", "return math.random(100000)", 0)])
            c.close()
        finally:
            proc.stop()
    assert got[1] == got[0]
    assert got[0][0] == b"*3\r\n:397\r\n:841\r\n:8\r\n"


# library tables as scripts see them: contents, metadata, config functions, cmsgpack offsets
INTROSPECTION = [
    ('EVAL', "local t = {} for k, v in pairs(cjson) do t[#t+1] = k .. ':' .. type(v) end table.sort(t) return t", 0),
    ('EVAL', "local t = {} for k, v in pairs(cmsgpack) do t[#t+1] = k .. ':' .. type(v) end table.sort(t) return t", 0),
    ('EVAL', "local t = {} for k, v in pairs(bit) do t[#t+1] = k .. ':' .. type(v) end table.sort(t) return t", 0),
    ('EVAL', "local t = {} for k, v in pairs(struct) do t[#t+1] = k .. ':' .. type(v) end table.sort(t) return t", 0),
    ('EVAL', 'for k, v in pairs(nil) do end', 0),
    ('EVAL', 'for k, v in pairs() do end', 0),
    ('EVAL', 'return next({})', 0),
    ('EVAL', 'local t = {a=1} for k, v in pairs(t) do return {k, v} end', 0),
    ('EVAL', 'local n = 0 for k in pairs(string) do n = n + 1 end return n > 10', 0),
    ('EVAL', 'return next(redis) ~= nil', 0),
    ('EVAL', 'cjson.encode = function() return 1 end', 0),
    ('EVAL', 'cmsgpack.pack = function() return 1 end', 0),
    ('EVAL', 'bit.lshift = function() return 1 end', 0),
    ('EVAL', "print('x')", 0),
    ('EVAL', 'return {cjson._NAME, cjson._VERSION, cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}', 0),
    ('EVAL', 'return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer()}', 0),
    ('EVAL', 'return {cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(), cjson.encode_sparse_array()}', 0),
    ('EVAL', 'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}', 0),
    ('EVAL', 'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}', 0),
    ('EVAL', 'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 2)}', 0),
    ('EVAL', 'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)}', 0),
    ('EVAL', 'return {cmsgpack.unpack_one(cmsgpack.pack(1))}', 0),
    ('EVAL', 'return {type(redis.call), type(cjson.encode), type(math.random), type(print == nil), type(nil)}', 0),
]


@pytest.mark.parametrize("case", INTROSPECTION, ids=[str(i) for i in range(len(INTROSPECTION))])
def test_library_introspection(pair, case):
    pair.check(*case)
