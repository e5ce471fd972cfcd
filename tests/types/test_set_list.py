"""Set (intset flag, iteration order) and List (deque ranges)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from durakv.types.list import List
from durakv.types.set import Set, is_int_member


def test_int_members():
    for ok in (b"0", b"-1", b"9223372036854775807", b"-9223372036854775808", b"42"):
        assert is_int_member(ok)
    for bad in (b"", b"-", b"-0", b"007", b"9223372036854775808", b"1.0", b" 1", b"+1", b"a"):
        assert not is_int_member(bad)


def test_intset_encoding_and_order():
    s = Set.new_for(b"3", 512)
    s.add_members([b"3", b"-1", b"10"], 512)
    assert s.encoding() == "intset" and s.members() == [b"-1", b"3", b"10"]
    s.add_member(b"x", 512)
    assert s.encoding() == "hashtable"
    t = Set.new_for(b"1", 2)
    t.add_members([b"1", b"2", b"3"], 2)
    assert t.encoding() == "hashtable"
    assert t.copy() == t and t.copy().intset == t.intset


@given(st.lists(st.binary(max_size=2), max_size=40), st.integers(0, 45), st.integers(0, 45))
def test_list_range(items, a, b):
    lst = List(items)
    if a <= b < len(items):
        assert lst.range(a, b) == items[a : b + 1]
    assert lst.encoding() == "quicklist"
    assert list(lst.copy()) == items
