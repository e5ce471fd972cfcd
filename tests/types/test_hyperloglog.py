"""Unit tests of the HYLL representation (values checked against Redis 7.0)."""

from __future__ import annotations

import random

from durakv.types import hyperloglog as hll


def test_empty_sparse_layout() -> None:
    b = hll.new_sparse()
    assert bytes(b) == b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"
    assert hll.is_hll(bytes(b))
    assert hll.count(b) == (0, True)
    assert hll.sparse_decode(b) == b"Z:16384"


def test_sparse_add_matches_redis_decode() -> None:
    b = hll.new_sparse()
    for ele in (b"hello", b"world"):
        b, r = hll.add(b, ele, 3000)
        assert r == 1
    assert hll.sparse_decode(b) == b"Z:2742 v:3,1 Z:6473 v:1,1 Z:7167"
    b, r = hll.add(b, b"hello", 3000)
    assert r == 0


def test_dense_and_sparse_agree() -> None:
    rng = random.Random(5)
    s = hll.new_sparse()
    d = hll.to_dense(s)
    assert d is not None and len(d) == hll.HLL_DENSE_SIZE
    for _ in range(3000):
        ele = b"%d" % rng.randrange(10**9)
        s, _ = hll.add(s, ele, 1 << 20)
        d, _ = hll.add(d, ele, 0)
    assert s[4] == hll.HLL_SPARSE and d[4] == hll.HLL_DENSE
    rs, rd = hll.registers(s), hll.registers(d)
    assert rs is not None and rd is not None and (rs == rd).all()
    assert hll.count(s)[0] == hll.count(d)[0]
    assert abs(hll.count(d)[0] - 3000) < 100
    assert bytes(hll.to_dense(s)[16:]) == bytes(d[16:])  # type: ignore[index]


def test_dense_register_packing_roundtrip() -> None:
    rng = random.Random(9)
    d = hll.to_dense(hll.new_sparse())
    assert d is not None
    expect = [0] * hll.HLL_REGISTERS
    for _ in range(5000):
        i, v = rng.randrange(hll.HLL_REGISTERS), rng.randrange(1, 64)
        hll.dense_set(d, i, v)
        expect[i] = max(expect[i], v)
    assert hll.dense_registers(d).tolist() == expect
    assert hll.pack_dense(hll.dense_registers(d)) == bytes(d[16:])
    assert [hll.dense_get(d, i) for i in range(0, hll.HLL_REGISTERS, 97)] == expect[::97]


def test_validation_and_corruption() -> None:
    assert not hll.is_hll(b"HYLL")
    assert not hll.is_hll(b"HYLX" + b"\x00" * 20)
    assert not hll.is_hll(b"HYLL\x02" + b"\x00" * 20)
    assert not hll.is_hll(b"HYLL\x00" + b"\x00" * 20)
    bad = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xf0"
    assert hll.is_hll(bad)
    assert hll.count(bad)[1] is False
    assert hll.registers(bad) is None
    assert hll.add(bytearray(bad), b"x", 3000)[1] == -1


def test_cache_bits() -> None:
    b = hll.new_sparse()
    hll.set_cache(b, 12345)
    assert hll.cache_valid(bytes(b)) and hll.cached_card(bytes(b)) == 12345
    hll.invalidate_cache(b)
    assert not hll.cache_valid(bytes(b))


def test_sparse_index_gives_identical_bytes() -> None:
    for seed in range(6):
        rng = random.Random(seed)
        b1, b2 = hll.new_sparse(), hll.new_sparse()
        idx = hll.SparseIndex.build(b2)
        assert idx is not None
        for _ in range(3000):
            index = rng.randrange(16384) if rng.random() < 0.7 else rng.randrange(200) * 80
            count = rng.choice([1, 1, 2, 3, 5, 8, 20, 32])
            b1, r1 = hll.sparse_set(b1, index, count, 6000)
            b2, r2 = hll.sparse_set(b2, index, count, 6000, idx)
            assert r1 == r2 and b1 == b2
            if b2[4] == hll.HLL_DENSE:
                break
        if b2[4] == hll.HLL_SPARSE:
            ref = hll.SparseIndex.build(b2)
            assert ref is not None and (ref.firsts, ref.xz) == (idx.firsts, idx.xz)
