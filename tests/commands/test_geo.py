"""Differential tests of the geo commands against real Redis 7.0 (RESP2 and RESP3)."""

from __future__ import annotations

import random
from typing import Any

from tests.commands.test_streams import notify_servers  # noqa: F401  (shared fixture)
from tests.support.notify import keyspace_events as events

PLACES = [
    ("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
    ("12.758489", "38.788135", "edge1"), ("17.241510", "38.222216", "edge2"),
    ("-122.4194", "37.7749", "SF"), ("-73.935242", "40.730610", "NYC"), ("2.3522", "48.8566", "Paris"),
    ("139.6917", "35.6895", "Tokyo"), ("-179.9", "-85.05", "corner"), ("179.99", "85.05", "corner2"),
    ("0", "0", "origin"), ("151.2093", "-33.8688", "Sydney"),
]


def load(pair: Any, key: str = "g") -> None:
    args = []
    for lon, lat, m in PLACES:
        args += [lon, lat, m]
    pair.check("GEOADD", key, *args)


def test_geoadd_options_and_errors(pair) -> None:
    load(pair)
    pair.check("GEOADD", "g", "13.361389", "38.115556", "Palermo")
    pair.check("GEOADD", "g", "CH", "13.4", "38.1", "Palermo", "1", "1", "new")
    pair.check("GEOADD", "g", "NX", "13.5", "38.1", "Palermo", "2", "2", "new2")
    pair.check("GEOADD", "g", "XX", "13.5", "38.1", "Palermo", "3", "3", "new3")
    pair.check("GEOADD", "g", "XX", "CH", "13.6", "38.1", "Palermo")
    pair.check("GEOADD", "g", "NX", "XX", "13.6", "38.1", "Palermo")
    pair.check("GEOADD", "g", "200", "10", "bad")
    pair.check("GEOADD", "g", "10", "86", "bad")
    pair.check("GEOADD", "g", "x", "10", "bad")
    pair.check("GEOADD", "g", "10", "10")
    pair.check("GEOADD", "g", "10", "10", "a", "11")
    pair.check("GEOADD", "xxkey", "XX", "10", "10", "a")
    pair.check("EXISTS", "xxkey")
    pair.check("ZRANGE", "g", "0", "-1", "WITHSCORES")
    pair.check("SET", "s", "v")
    pair.check("GEOADD", "s", "10", "10", "a")


def test_geopos_geohash_geodist(pair) -> None:
    load(pair)
    pair.check("GEOPOS", "g", *[p[2] for p in PLACES], "missing")
    pair.check("GEOPOS", "nokey", "a", "b")
    pair.check("GEOHASH", "g", *[p[2] for p in PLACES], "missing")
    pair.check("GEOHASH", "nokey", "a")
    for unit in ["m", "km", "ft", "mi", "KM"]:
        pair.check("GEODIST", "g", "Palermo", "Catania", unit)
        pair.check("GEODIST", "g", "SF", "Tokyo", unit)
    pair.check("GEODIST", "g", "Palermo", "Catania")
    pair.check("GEODIST", "g", "Palermo", "Palermo")
    pair.check("GEODIST", "g", "origin", "corner")
    pair.check("GEODIST", "g", "Palermo", "missing")
    pair.check("GEODIST", "nokey", "a", "b")
    pair.check("GEODIST", "g", "Palermo", "Catania", "yards")
    pair.check("GEODIST", "g", "Palermo", "Catania", "km", "x")
    pair.check("SET", "s", "v")
    pair.check("GEOPOS", "s", "a")
    pair.check("GEODIST", "s", "a", "b")
    pair.check("ZADD", "z", "0", "zero", "4503599627370495", "max")
    pair.check("GEOPOS", "z", "zero", "max")
    pair.check("GEOHASH", "z", "zero", "max")


def test_georadius_variants(pair) -> None:
    load(pair)
    for unit, r in [("km", "200"), ("m", "100000"), ("mi", "150"), ("ft", "500000"), ("km", "20000"),
                    ("km", "0"), ("km", "5000")]:
        pair.check("GEORADIUS", "g", "15", "37", r, unit)
        pair.check("GEORADIUS", "g", "15", "37", r, unit, "WITHDIST", "WITHCOORD", "WITHHASH", "ASC")
        pair.check("GEORADIUS", "g", "15", "37", r, unit, "WITHDIST", "DESC", "COUNT", "2")
        pair.check("GEORADIUS_RO", "g", "15", "37", r, unit, "WITHDIST")
        pair.check("GEORADIUSBYMEMBER", "g", "Palermo", r, unit, "WITHDIST", "ASC")
        pair.check("GEORADIUSBYMEMBER_RO", "g", "Palermo", r, unit, "WITHCOORD", "COUNT", "3")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "1", "ANY")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "ANY")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "0")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "x")
    pair.check("GEORADIUS", "g", "15", "37", "-1", "km")
    pair.check("GEORADIUS", "g", "15", "37", "x", "km")
    pair.check("GEORADIUS", "g", "15", "37", "1", "kk")
    pair.check("GEORADIUS", "g", "15", "95", "1", "km")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "FOO")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "dst", "WITHDIST")
    pair.check("GEORADIUS_RO", "g", "15", "37", "200", "km", "STORE", "dst")
    pair.check("GEORADIUSBYMEMBER", "g", "missing", "200", "km")
    pair.check("GEORADIUSBYMEMBER", "nokey", "missing", "200", "km")
    pair.check("GEORADIUS", "nokey", "15", "37", "200", "km")
    pair.check("SET", "s", "v")
    pair.check("GEORADIUS", "s", "15", "37", "200", "km")


def test_georadius_store(pair) -> None:
    load(pair)
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "dst")
    pair.check("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "dst2")
    pair.check("ZRANGE", "dst2", "0", "-1", "WITHSCORES")
    pair.check("GEORADIUSBYMEMBER", "g", "Paris", "1000", "km", "STORE", "dst3", "COUNT", "2", "DESC")
    pair.check("ZRANGE", "dst3", "0", "-1", "WITHSCORES")
    pair.check("GEORADIUS", "g", "0", "-80", "1", "km", "STORE", "dst")
    pair.check("EXISTS", "dst")
    pair.check("GEORADIUS", "nokey", "0", "-80", "1", "km", "STORE", "dst2")
    pair.check("EXISTS", "dst2")
    pair.check("GEOSEARCHSTORE", "out", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km")
    pair.check("ZRANGE", "out", "0", "-1", "WITHSCORES")
    pair.check("GEOSEARCHSTORE", "out", "g", "FROMMEMBER", "Paris", "BYRADIUS", "2000", "km", "STOREDIST", "COUNT", "3")
    pair.check("ZRANGE", "out", "0", "-1", "WITHSCORES")
    pair.check("GEOSEARCHSTORE", "out", "g", "FROMMEMBER", "Paris", "BYRADIUS", "2000", "km", "WITHDIST")
    pair.check("GEOSEARCHSTORE", "out", "g", "FROMLONLAT", "0", "-80", "BYRADIUS", "1", "km")
    pair.check("EXISTS", "out")


def test_geosearch(pair) -> None:
    load(pair)
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHDIST")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "40000", "20000", "km", "DESC", "WITHHASH")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", "1", "1", "m")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "-100", "-80", "BYRADIUS", "3000", "mi", "WITHDIST")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "ANY")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "FROMMEMBER", "Palermo")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "BYBOX", "1", "1", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37")
    pair.check("GEOSEARCH", "g", "BYRADIUS", "200", "km", "ASC")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "nobody", "BYBOX", "1", "1", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST")
    pair.check("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "200", "km")
    pair.check("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "200", "km", "ANY")


def test_random_points_match_redis(pair) -> None:
    rng = random.Random(7)
    args = []
    for i in range(400):
        args += ["%.6f" % rng.uniform(-10, 10), "%.6f" % rng.uniform(40, 50), f"p{i}"]
    pair.check("GEOADD", "r", *args)
    for _ in range(15):
        lon = "%.5f" % rng.uniform(-10, 10)
        lat = "%.5f" % rng.uniform(40, 50)
        rad = "%.1f" % rng.uniform(1, 400)
        pair.check("GEORADIUS", "r", lon, lat, rad, "km", "WITHDIST", "ASC")
        pair.check("GEOSEARCH", "r", "FROMLONLAT", lon, lat, "BYBOX", rad, str(float(rad) / 2), "km", "WITHDIST",
                   "WITHCOORD", "ASC")
        pair.check("GEORADIUS", "r", lon, lat, rad, "km", "COUNT", "5")
    pair.check("GEOPOS", "r", *[f"p{i}" for i in range(0, 400, 7)])
    pair.check("GEOHASH", "r", *[f"p{i}" for i in range(0, 400, 7)])


def test_distance_rounding_like_fixedpoint_d2string(pair) -> None:
    # Redis 7.0 prints distances as llrint(d * 10000): 48022403.318149999 ft is ".3182" there
    # (printf's "%.4f" says ".3181"); the rest sweeps units and far points for other ties
    pair.check("GEOADD", "g", "138.43222171068192", "19.603037908340802", "m124")
    pair.check("GEORADIUS", "g", "-61.29749", "24.82756", "60000000", "ft", "WITHDIST")
    pair.check("GEOADD", "g", "-61.29749", "24.82756", "c")
    pair.check("GEODIST", "g", "c", "m124", "ft")
    rng = random.Random(11)
    args = []
    for i in range(300):
        args += ["%.6f" % rng.uniform(-180, 180), "%.6f" % rng.uniform(-85, 85), f"p{i}"]
    pair.check("GEOADD", "w", *args)
    for unit in ("m", "km", "ft", "mi"):
        lon, lat = "%.5f" % rng.uniform(-180, 180), "%.5f" % rng.uniform(-80, 80)
        pair.check("GEORADIUS", "w", lon, lat, "100000", "km", "WITHDIST", "ASC")
        pair.check("GEOSEARCH", "w", "FROMLONLAT", lon, lat, "BYRADIUS", "70000000", unit, "WITHDIST", "DESC")
        for i in range(0, 300, 3):
            pair.check("GEODIST", "w", f"p{i}", f"p{i + 1}", unit)


_GEO_EVENTS = [
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d1"),
    ("GEORADIUS", "g", "15", "37", "1", "m", "STORE", "d1"),
    ("GEOSEARCHSTORE", "d2", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"),
    ("GEOSEARCHSTORE", "d2", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "nokey", "15", "37", "1", "m", "STORE", "g"),
]


def test_geo_keyspace_events(request) -> None:
    ports = request.getfixturevalue("notify_servers")
    assert events(ports[1], _GEO_EVENTS) == events(ports[0], _GEO_EVENTS)


def test_equal_distances_order_like_redis(pair) -> None:
    args = []
    for i in range(60):
        args += ["10", "10", f"m{i}"]
    args += ["10.001", "10", "far", "10.002", "10", "far2"]
    pair.check("GEOADD", "t", *args)
    for extra in [("ASC",), ("DESC",), ("COUNT", "3"), ("COUNT", "5", "DESC"), ("COUNT", "45", "DESC"),
                  ("COUNT", "61", "ASC"), ("COUNT", "8"), ()]:
        pair.check("GEORADIUS", "t", "10", "10", "100", "km", *extra)
        pair.check("GEOSEARCH", "t", "FROMMEMBER", "far", "BYBOX", "100", "100", "km", "WITHDIST", *extra)


def test_random_global_searches(pair) -> None:
    rng = random.Random(99)
    args = []
    for i in range(500):
        lon = rng.choice([rng.uniform(-180, 180), rng.uniform(175, 180), rng.uniform(-180, -175)])
        lat = rng.choice([rng.uniform(-85, 85), rng.uniform(70, 85.05), rng.uniform(-85.05, -70)])
        args += ["%.7f" % lon, "%.7f" % lat, f"p{i}"]
    pair.check("GEOADD", "w", *args)
    pair.check("OBJECT", "ENCODING", "w")
    for _ in range(25):
        lon = "%.4f" % rng.choice([rng.uniform(-180, 180), rng.uniform(178, 180), rng.uniform(-180, -178)])
        lat = "%.4f" % rng.choice([rng.uniform(-85, 85), rng.uniform(75, 85), rng.uniform(-85, -75)])
        unit = rng.choice(["m", "km", "mi", "ft"])
        rad = "%.2f" % rng.choice([rng.uniform(0, 50), rng.uniform(50, 2000), rng.uniform(2000, 20000)])
        pair.check("GEORADIUS", "w", lon, lat, rad, unit, "WITHDIST", "WITHHASH", "ASC")
        pair.check("GEOSEARCH", "w", "FROMLONLAT", lon, lat, "BYBOX", rad, "%.2f" % (float(rad) * 1.7), unit,
                   "WITHCOORD", "DESC")
        pair.check("GEOSEARCH", "w", "FROMMEMBER", f"p{rng.randrange(500)}", "BYRADIUS", rad, unit, "COUNT", "7",
                   "WITHDIST")
    pair.check("GEOADD", "long", "1", "1", "m" * 100)
    pair.check("OBJECT", "ENCODING", "long")


def test_scores_that_are_not_geohashes(pair) -> None:
    pair.check("ZADD", "z", "-5", "neg", "1e300", "huge", "inf", "pinf", "-inf", "ninf", "4503599627370496", "over",
               "9.3e18", "big63", "-1e19", "verynegative", "0.5", "half")
    members = ["neg", "huge", "pinf", "ninf", "over", "big63", "verynegative", "half"]
    pair.check("GEOPOS", "z", *members)
    pair.check("GEOHASH", "z", *members)
    pair.check("GEODIST", "z", "neg", "over", "km")
    pair.check("GEORADIUSBYMEMBER", "z", "half", "100", "km", "WITHCOORD")


def test_option_parsing_edges(pair) -> None:
    load(pair)
    pair.check("GEOADD", "g", "GT", "1", "1", "m")
    pair.check("GEOADD", "g", "CH", "XX", "NX", "1", "1", "m")
    pair.check("GEOADD", "g", "CH", "1", "1")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "a", "STOREDIST", "b")
    pair.check("ZRANGE", "b", "0", "-1", "WITHSCORES")
    pair.check("EXISTS", "a")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "2", "ANY", "DESC", "WITHDIST")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "ANY", "COUNT", "1", "ASC")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "COUNT")
    pair.check("GEORADIUS", "g", "15", "37", "200", "km", "STORE")
    pair.check("GEORADIUSBYMEMBER", "nokey", "m", "x", "km")
    pair.check("GEORADIUSBYMEMBER", "nokey", "m", "x", "km", "STORE", "b")
    pair.check("EXISTS", "b")
    pair.check("GEORADIUSBYMEMBER", "g", "Palermo", "x", "km")
    pair.check("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x")
    pair.check("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "200", "km")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ANY")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200")
    pair.check("GEOSEARCH", "g", "FROMLONLAT", "200", "37", "BYRADIUS", "200", "km")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMMEMBER", "Catania", "BYRADIUS", "200", "km")
    pair.check("GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYBOX", "100", "100", "km", "BYBOX", "1", "1", "m")
    pair.check("GEOSEARCH", "g", "frommember", "Palermo", "bybox", "100", "100", "KM", "withdist", "asc")


def test_number_parsing_like_strtod(pair) -> None:
    for lon in ["0x10", "1_0", " 1", "1 ", "1e400", "1e-400", "1e-310", "+1.5", "-0", ".5", "1.", "0x1p3", "nan",
                "Infinity", "0x"]:
        pair.check("GEOADD", "g", lon, "1", f"m{lon}")
    pair.check("GEOPOS", "g", "m0x10", "m1e-310", "m0x1p3")
    for rad in ["0x10", "1e-400", "1e-310", "1e400", "inf", "-0", "1_0"]:
        pair.check("GEORADIUS", "g", "0", "0", rad, "km")
        pair.check("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYBOX", rad, "1", "km")


def test_getkeys_like_redis(pair) -> None:
    for args in [("GEORADIUS", "k", "1", "1", "1", "km", "STORE", "d", "STOREDIST", "e"),
                 ("GEORADIUS", "k", "1", "1", "1", "km", "STOREDIST", "e", "STORE", "d"),
                 ("GEORADIUS", "k", "1", "1", "1", "km", "STORE", "a", "STORE", "b"),
                 ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"), ("GEORADIUS", "k", "1", "1", "1", "km"),
                 ("GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"), ("GEOADD", "k", "1", "1", "m")]:
        pair.check("COMMAND", "GETKEYS", *args)
