"""Unit tests of the stream type: node model, trimming, deletion, group bookkeeping."""

from __future__ import annotations

import random
import re

from durakv.types.stream import INVALID_ENTRIES_READ, MAX64, MAXID, Group, Stream, fmt_id, make_id


def filled(n: int, per_node: int = 100) -> Stream:
    s = Stream()
    for i in range(1, n + 1):
        s.append(make_id(i, 0), [b"f", b"%d" % i], per_node, 4096)
    return s


def test_nodes_split_by_entries_and_bytes() -> None:
    s = filled(250)
    assert [n.total for n in s.nodes] == [100, 100, 50]
    big = Stream()
    for i in range(1, 11):
        big.append(make_id(i, 0), [b"f", b"x" * 1000], 100, 4096)
    assert len(big.nodes) > 2
    assert s.rax_nodes() > len(s.nodes)
    assert Stream().rax_nodes() == 1


def test_approx_trim_removes_whole_nodes_only() -> None:
    s = filled(250)
    assert s.trim(False, 120, True, 10000) == 100
    assert len(s) == 150
    assert s.trim(False, 120, True, 10000) == 0
    assert s.trim(False, 120, False, 0) == 30
    assert len(s) == 120 and s.first_id == make_id(131, 0)
    assert s.trim(True, make_id(200, 0), False, 0) == 69
    assert s.first_id == make_id(200, 0)


def test_delete_and_ranges() -> None:
    s = filled(10)
    assert s.delete(make_id(3, 0)) and not s.delete(make_id(3, 0))
    assert s.max_deleted == make_id(3, 0)
    assert [i for i, _ in s.range(0, MAXID, 3)] == [make_id(1, 0), make_id(2, 0), make_id(4, 0)]
    assert [i for i, _ in s.range(0, MAXID, 2, rev=True)] == [make_id(10, 0), make_id(9, 0)]
    assert [i for i, _ in s.after(make_id(8, 0))] == [make_id(9, 0), make_id(10, 0)]
    assert s.get(make_id(3, 0)) is None and s.get(make_id(4, 0)) == [b"f", b"4"]
    assert fmt_id(make_id(5, 7)) == b"5-7"


def test_lag_bookkeeping() -> None:
    s = filled(5)
    g = Group(b"g", 0, INVALID_ENTRIES_READ)
    assert s.group_lag(g) == 5
    s.advance_group(g, make_id(1, 0))
    assert g.entries_read == 1 and s.group_lag(g) == 4
    s.delete(make_id(3, 0))
    assert s.group_lag(g) is None
    g2 = Group(b"h", s.last_id, INVALID_ENTRIES_READ)
    assert s.group_lag(g2) == 0


def test_copy_is_deep() -> None:
    s = filled(3)
    s.groups = {b"g": Group(b"g", 0, 0)}
    c = s.copy()
    c.append(make_id(9, 0), [b"a", b"b"], 100, 4096)
    c.groups[b"g"].last_id = 5  # type: ignore[index]
    assert len(s) == 3 and s.groups[b"g"].last_id == 0


# -- the node byte model against a plain element-by-element listpack size ---------------------
def _ref_int_size(v: int) -> int:
    if 0 <= v <= 127:
        return 2
    for bits, size in ((13, 3), (16, 4), (24, 5), (32, 6)):
        if -(1 << (bits - 1)) <= v < 1 << (bits - 1):
            return size
    return 10


def _ref_elem_size(b: bytes) -> int:
    if re.fullmatch(rb"-?[1-9][0-9]*|0", b) and -(1 << 63) <= int(b) < (1 << 63):
        return _ref_int_size(int(b))
    n = len(b)
    enc = n + (1 if n < 64 else 2 if n < 4096 else 5)
    for limit, backlen in ((127, 1), (16382, 2), (2097150, 3), (268435454, 4)):
        if enc <= limit:
            return enc + backlen
    return enc + 5


def _ref_entry_bytes(master: int, master_fields: list[bytes], sid: int, fields: list[bytes]) -> int:
    """flags, ms and seq deltas (seq as an int64 cast), [field count], [fields], values, lp-count."""
    ms_d = (sid >> 64) - (master >> 64)
    seq_d = ((sid & MAX64) - (master & MAX64) + (1 << 63)) % (1 << 64) - (1 << 63)
    nf = len(fields) // 2
    same = fields[0::2] == master_fields
    ints = [2 if same else 0, ms_d, seq_d] + ([] if same else [nf]) + [3 + nf if same else 4 + 2 * nf]
    strs = fields[1::2] if same else fields
    return sum(map(_ref_int_size, ints)) + sum(map(_ref_elem_size, strs))


def test_entry_bytes_match_a_plain_listpack_model() -> None:
    rng = random.Random(3)
    values = [b"0", b"-0", b"007", b"", b"-", b"+1", b"1a", b"127", b"128", b"-4096", b"-4097", b"4095", b"4096",
              b"32767", b"32768", b"8388607", b"8388608", b"2147483647", b"2147483648", b"-2147483649",
              b"999999999999999999", b"1000000000000000000", b"9223372036854775807", b"9223372036854775808",
              b"-9223372036854775808", b"-9223372036854775809", b"99999999999999999999", b"x" * 63, b"x" * 64,
              b"1" * 64, b"x" * 4095, b"x" * 4096, b"x" * 20000]
    for trial in range(40):
        s = Stream()
        expect: list[int] = []
        ms, seq = rng.choice([(1, 0), (5, MAX64 - 300), (MAX64 - 10**6, 0)])
        for _ in range(400):
            if rng.random() < 0.3:
                ms += rng.choice([1, 127, 128, 200, 70000, 1 << 40])
                seq = rng.choice([0, 5, (1 << 63) + 7, MAX64 - 2])
            else:
                seq += rng.choice([1, 1, 127, 128, 200, 1 << 63])
            if seq > MAX64 or ms > MAX64:
                break
            names = rng.choice([[b"f"], [b"f"], [b"g"], [b"f", b"h"], [b"123"]])
            fields = [x for f in names for x in (f, rng.choice(values) if rng.random() < 0.5
                                                 else b"%d" % rng.randrange(-(10**rng.randrange(1, 20)), 10**rng.randrange(1, 20)))]
            sid = make_id(ms, seq)
            before = len(s.nodes)
            s.append(sid, fields, rng.choice([0, 100]), 4096)
            node = s.nodes[-1]
            if len(s.nodes) > before:
                expect.append(0)
            expect[-1] += _ref_entry_bytes(node.master, node.fields, sid, fields)
        assert [n.ebytes for n in s.nodes] == expect, trial
