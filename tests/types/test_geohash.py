"""Unit tests of the geohash math (values checked against Redis 7.0)."""

from __future__ import annotations

import random

from durakv.types import geohash as gh


def test_encode_decode_palermo() -> None:
    score = gh.score_of(13.361389, 38.115556)
    assert score == 3479099956230698
    lon, lat = gh.decode_score(float(score))
    assert b"%.17f" % lon == b"13.36138933897018433"
    assert b"%.17f" % lat == b"38.11555639549629859"
    assert gh.geohash_string(float(score)) == b"sqc8b49rny0"


def test_distance() -> None:
    a = gh.decode_score(float(gh.score_of(13.361389, 38.115556)))
    b = gh.decode_score(float(gh.score_of(15.087269, 37.502669)))
    assert b"%.4f" % gh.distance(a[0], a[1], b[0], b[1]) == b"166274.1516"
    assert gh.distance(10.0, 10.0, 10.0, 11.0) == gh.lat_distance(10.0, 11.0)


def test_out_of_range_and_steps() -> None:
    assert gh.encode(181, 0) is None
    assert gh.encode(0, 86) is None
    assert gh.estimate_steps(0, 0) == 26
    assert gh.estimate_steps(5000, 0) > gh.estimate_steps(500000, 0)
    assert gh.estimate_steps(5000, 85) == gh.estimate_steps(5000, 0) - 2


def test_search_cells_cover_the_centre() -> None:
    s = gh.Shape()
    s.lon, s.lat, s.radius, s.conversion = 15.0, 37.0, 200.0, 1000.0
    cells = gh.search_cells(s)
    assert len(cells) == 9
    bits, step = cells[0]
    assert bits == gh.encode(15.0, 37.0, step)


def test_pqsort_sorts_the_requested_prefix() -> None:
    rng = random.Random(3)
    for n in (5, 8, 41, 300):
        arr = [rng.randrange(50) for _ in range(n)]
        k = max(1, n // 3)
        got = list(arr)
        gh.pqsort(got, lambda a, b: (a > b) - (a < b), 0, k - 1)  # type: ignore[operator]
        assert got[:k] == sorted(arr)[:k]
        assert sorted(got) == sorted(arr)
