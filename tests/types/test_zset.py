"""ZSet / SortedPairs against a brute-force model (both encodings)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from durakv.types.zset import LexBound, SortedPairs, ZSet

MEMBERS = st.binary(min_size=0, max_size=3)
SCORES = st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.0, 3.0, float("inf"), float("-inf")])
OPS = st.lists(st.tuples(st.booleans(), MEMBERS, SCORES), max_size=60)


def model_apply(ops):
    d = {}
    for add, m, s in ops:
        if add:
            d[m] = s
        else:
            d.pop(m, None)
    return d


def build(ops, max_entries):
    z = ZSet()
    for add, m, s in ops:
        if add:
            z.set(m, s, max_entries, 64)
        else:
            z.remove_many([m])
    return z


@settings(max_examples=200, deadline=None)
@given(OPS, st.sampled_from([0, 4, 128]))
def test_content_order_ranks(ops, max_entries):
    z = build(ops, max_entries)
    d = model_apply(ops)
    want = sorted(((s, m) for m, s in d.items()))
    got = [(s, m) for m, s in z.items()]
    assert got == want
    assert len(z) == len(d)
    peak = 0
    seen: dict = {}
    for add, m, s in ops:
        if add:
            seen[m] = s
        else:
            seen.pop(m, None)
        peak = max(peak, len(seen))
    assert z.encoding() == ("skiplist" if peak > max_entries else "listpack")
    for i, (s, m) in enumerate(want):
        assert z.rank(m) == i
        assert z.score(m) == s
    assert z.slice(1, 4) == [(m, s) for s, m in want[1:4]]
    c = z.copy()
    assert c.items() == z.items() and c is not z


@settings(max_examples=200, deadline=None)
@given(OPS, st.sampled_from([0, 128]), SCORES, SCORES, st.booleans(), st.booleans())
def test_score_ranges(ops, max_entries, a, b, aex, bex):
    z = build(ops, max_entries)
    items = z.items()
    i, j = z.score_range(a, aex, b, bex)
    want = [m for m, s in items if (s > a if aex else s >= a) and (s < b if bex else s <= b)]
    assert [m for m, _ in items[i:j]] == want


@settings(max_examples=200, deadline=None)
@given(st.lists(MEMBERS, max_size=40, unique=True), st.sampled_from([0, 128]),
       st.tuples(st.sampled_from([-1, 0, 1, 2]), MEMBERS), st.tuples(st.sampled_from([-1, 0, 1, 2]), MEMBERS))
def test_lex_ranges_same_score(members, max_entries, lo, hi):
    z = ZSet()
    for m in members:
        z.set(m, 0.0, max_entries, 64)
    mn, mx = LexBound(*lo), LexBound(*hi)
    ms = sorted(members)

    def ok(m):
        gmin = mn.kind == -1 or (mn.kind == 0 and m >= mn.value) or (mn.kind == 2 and m > mn.value)
        lmax = mx.kind == 1 or (mx.kind == 0 and m <= mx.value) or (mx.kind == 2 and m < mx.value)
        return gmin and lmax

    i, j = z.lex_range(mn, mx)
    assert z.members()[i:j] == [m for m in ms if ok(m)]
    i, j = z.lex_range(mn, mx, reverse=True)
    assert z.members()[i:j] == [m for m in ms if ok(m)]


def test_sorted_pairs_split_and_positions():
    sp = SortedPairs()
    for i in range(5000):
        sp.add((float(i % 97), b"%05d" % i))
    want = sorted((float(i % 97), b"%05d" % i) for i in range(5000))
    assert list(sp) == want
    assert len(sp.lists) > 2
    assert sp[2500] == want[2500]
    assert sp.slice(1000, 1010) == want[1000:1010]
    assert sp.bisect_left((50.0,)) == sum(1 for k in want if k[0] < 50.0)
    for k in want[::3]:
        sp.remove(k)
    rest = [k for idx, k in enumerate(want) if idx % 3]
    assert list(sp) == rest and len(sp) == len(rest)


def test_from_items_and_negative_zero():
    z = ZSet.from_items([(b"a", -0.0), (b"b", 1.0)], 128, 64)
    assert z.encoding() == "listpack"
    assert str(z.score(b"a")) == "0.0"  # a listpack stores -0 as the integer 0
    big = ZSet.from_items([(b"m%d" % i, float(i)) for i in range(200)], 128, 64)
    assert big.encoding() == "skiplist" and len(big) == 200 and big.rank(b"m150") == 150
