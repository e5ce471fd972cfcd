"""Hash and the packed-blob helpers against a dict model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from durakv.types.hash import Hash, pack, unpack

FIELDS = st.binary(max_size=4)


@given(st.lists(st.binary(max_size=300), max_size=30))
def test_pack_roundtrip(items):
    assert unpack(pack(items)) == items


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), FIELDS, st.binary(max_size=6)), max_size=50), st.sampled_from([0, 3, 128]))
def test_hash_model(ops, max_entries):
    h = Hash()
    model: dict[bytes, bytes] = {}
    for put, f, v in ops:
        if put:
            assert h.set(f, v, max_entries, 4) == (f not in model)
            model[f] = v
        else:
            assert h.delete_many([f]) == (1 if model.pop(f, None) is not None else 0)
    assert dict(h.items()) == model
    assert len(h) == len(model)
    for f, v in model.items():
        assert h.get(f) == v
    if h.encoding() == "listpack":
        assert [f for f, _ in h.items()] == list(model)  # listpack keeps insertion order
        assert len(model) <= max_entries and all(len(f) <= 4 and len(v) <= 4 for f, v in model.items())
    c = h.copy()
    assert c.items() == h.items()


def test_conversion_is_one_way():
    h = Hash()
    h.set_many([b"a", b"1", b"b", b"2"], 1, 64)
    assert h.encoding() == "hashtable"
    h.delete_many([b"a"])
    assert h.encoding() == "hashtable" and h.items() == [(b"b", b"2")]
    h2 = Hash.from_pairs([(b"f", b"x" * 65)], 128, 64)
    assert h2.encoding() == "hashtable"
