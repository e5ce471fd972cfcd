"""Unit tests of the stream type: node model, trimming, deletion, group bookkeeping."""

from __future__ import annotations

from durakv.types.stream import INVALID_ENTRIES_READ, MAXID, Group, Stream, fmt_id, make_id


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
