"""Geohash math as Redis 7.0 does it (geohash.c, geohash_helper.c, the search part of geo.c).

Positions are stored as zset scores: a 52-bit interleaved geohash (26 steps; latitude bits
at even positions, longitude at odd ones) over longitude [-180, 180] and latitude
[-85.05112878, 85.05112878].  Decoding returns the centre of the cell, distances use the
haversine formula with Redis's earth radius, and radius/box searches scan the same nine
geohash cells (same step estimation, same pruning) so results match Redis exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

GEO_STEP_MAX = 26
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0
_M64 = (1 << 64) - 1

CIRCULAR = 1
RECTANGLE = 2


_NAN = float("nan")


def _ccos(x: float) -> float:
    """C's cos(): NaN for infinite input instead of an exception."""
    try:
        return math.cos(x)
    except ValueError:
        return _NAN


def _csin(x: float) -> float:
    try:
        return math.sin(x)
    except ValueError:
        return _NAN


def _casin(x: float) -> float:
    try:
        return math.asin(x)
    except ValueError:
        return _NAN


def _csqrt(x: float) -> float:
    try:
        return math.sqrt(x)
    except ValueError:
        return _NAN


def deg_rad(a: float) -> float:
    return a * D_R


def rad_deg(a: float) -> float:
    return a / D_R


def _spread_slow(v: int) -> int:
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    v = (v | (v << 1)) & 0x5555555555555555
    return v


_SPREAD8 = [_spread_slow(i) for i in range(256)]


def _spread(v: int) -> int:
    """Interleave a 32-bit value with zeros (bit i -> bit 2i)."""
    t = _SPREAD8
    return t[v & 255] | (t[(v >> 8) & 255] << 16) | (t[(v >> 16) & 255] << 32) | (t[(v >> 24) & 255] << 48)


def _squash(v: int) -> int:
    v &= 0x5555555555555555
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    v = (v | (v >> 16)) & 0x00000000FFFFFFFF
    return v


def encode(lon: float, lat: float, step: int = GEO_STEP_MAX,
           lon_min: float = GEO_LONG_MIN, lon_max: float = GEO_LONG_MAX,
           lat_min: float = GEO_LAT_MIN, lat_max: float = GEO_LAT_MAX) -> int | None:
    """geohashEncode: interleaved bits (lat even, lon odd), or None outside the ranges."""
    if step > 32 or step == 0:
        return None
    if lon > GEO_LONG_MAX or lon < GEO_LONG_MIN or lat > GEO_LAT_MAX or lat < GEO_LAT_MIN:
        return None
    if lat < lat_min or lat > lat_max or lon < lon_min or lon > lon_max:
        return None
    lat_off = (lat - lat_min) / (lat_max - lat_min)
    lon_off = (lon - lon_min) / (lon_max - lon_min)
    lat_off *= float(1 << step)
    lon_off *= float(1 << step)
    return _spread(int(lat_off)) | (_spread(int(lon_off)) << 1)


def decode_area(bits: int, step: int, lon_min: float = GEO_LONG_MIN, lon_max: float = GEO_LONG_MAX,
                lat_min: float = GEO_LAT_MIN, lat_max: float = GEO_LAT_MAX
                ) -> tuple[float, float, float, float] | None:
    """geohashDecode: (lon_min, lon_max, lat_min, lat_max) of a cell (None for the zero hash)."""
    if bits == 0 and step == 0:
        return None
    ilat = _squash(bits)
    ilon = _squash(bits >> 1)
    lat_scale = lat_max - lat_min
    lon_scale = lon_max - lon_min
    div = float(1 << step)
    return (
        lon_min + (ilon * 1.0 / div) * lon_scale,
        lon_min + ((ilon + 1) * 1.0 / div) * lon_scale,
        lat_min + (ilat * 1.0 / div) * lat_scale,
        lat_min + ((ilat + 1) * 1.0 / div) * lat_scale,
    )


def _to_u64(x: float) -> int:
    """C's ``(uint64_t)x`` as gcc compiles it on x86-64 (scores that are not geohashes)."""
    if x != x or x < -9223372036854775808.0:
        return 1 << 63
    if x >= 9223372036854775808.0:
        y = x - 9223372036854775808.0
        if y >= 9223372036854775808.0:
            return 0
        return int(y) ^ (1 << 63)
    return int(x) & _M64


def decode_score(score: float) -> tuple[float, float]:
    """decodeGeohash: the (longitude, latitude) centre of a 52-bit score's cell."""
    bits = _to_u64(score)
    area = decode_area(bits, GEO_STEP_MAX)
    assert area is not None
    x = (area[0] + area[1]) / 2
    if x > GEO_LONG_MAX:
        x = GEO_LONG_MAX
    if x < GEO_LONG_MIN:
        x = GEO_LONG_MIN
    y = (area[2] + area[3]) / 2
    if y > GEO_LAT_MAX:
        y = GEO_LAT_MAX
    if y < GEO_LAT_MIN:
        y = GEO_LAT_MIN
    return x, y


def score_of(lon: float, lat: float) -> int:
    bits = encode(lon, lat)
    assert bits is not None
    return bits  # step 26 is already aligned to 52 bits


def geohash_string(score: float) -> bytes:
    """GEOHASH: the standard 11-character base32 geohash of a stored position."""
    lon, lat = decode_score(score)
    bits = encode(lon, lat, 26, -180.0, 180.0, -90.0, 90.0) or 0
    alphabet = b"0123456789bcdefghjkmnpqrstuvwxyz"
    out = bytearray()
    for i in range(11):
        idx = 0 if i == 10 else (bits >> (52 - (i + 1) * 5)) & 0x1F
        out.append(alphabet[idx])
    return bytes(out)


# -- distances ---------------------------------------------------------------------------------
def lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS_IN_METERS * math.fabs(deg_rad(lat2) - deg_rad(lat1))


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance (haversine, with Redis 7's same-longitude shortcut)."""
    lon1r = deg_rad(lon1)
    lon2r = deg_rad(lon2)
    v = _csin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    lat1r = deg_rad(lat1)
    lat2r = deg_rad(lat2)
    u = _csin((lat2r - lat1r) / 2)
    a = u * u + _ccos(lat1r) * _ccos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _casin(_csqrt(a))


# -- search area -------------------------------------------------------------------------------
class Shape:
    """A search shape: centre (lon, lat), radius or width/height, unit conversion."""

    __slots__ = ("kind", "lon", "lat", "radius", "width", "height", "conversion")

    def __init__(self) -> None:
        self.kind = CIRCULAR
        self.lon = 0.0
        self.lat = 0.0
        self.radius = 0.0
        self.width = 0.0
        self.height = 0.0
        self.conversion = 1.0

    def within(self, lon: float, lat: float) -> float | None:
        """Distance in meters if the point is inside the shape (geoAppendIfWithinShape)."""
        if self.kind == CIRCULAR:
            d = distance(self.lon, self.lat, lon, lat)
            return None if d > self.radius * self.conversion else d
        w = self.width * self.conversion
        h = self.height * self.conversion
        if lat_distance(lat, self.lat) > h / 2:
            return None
        if distance(lon, lat, self.lon, lat) > w / 2:
            return None
        return distance(self.lon, self.lat, lon, lat)


def estimate_steps(range_m: float, lat: float) -> int:
    if range_m == 0:
        return 26
    step = 1
    while range_m < MERCATOR_MAX:
        range_m *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(26, step))


def _div(a: float, b: float) -> float:
    """C's a / b for doubles (IEEE: x/0 is +-inf or NaN, no exception)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return _NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def bounding_box(s: Shape) -> tuple[float, float, float, float]:
    height = s.conversion * (s.radius if s.kind == CIRCULAR else s.height / 2)
    width = s.conversion * (s.radius if s.kind == CIRCULAR else s.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = _div(width / EARTH_RADIUS_IN_METERS, _ccos(deg_rad(s.lat + lat_delta))) / D_R
    long_delta_bottom = _div(width / EARTH_RADIUS_IN_METERS, _ccos(deg_rad(s.lat - lat_delta))) / D_R
    south = s.lat < 0
    min_lon = s.lon - long_delta_bottom if south else s.lon - long_delta_top
    max_lon = s.lon + long_delta_bottom if south else s.lon + long_delta_top
    return min_lon, s.lat - lat_delta, max_lon, s.lat + lat_delta


def _move_x(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = (x + (zz + 1)) & _M64
    else:
        x = x | zz
        x = (x - (zz + 1)) & _M64
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return x | y


def _move_y(bits: int, step: int, d: int) -> int:
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = (y + (zz + 1)) & _M64
    else:
        y = y | zz
        y = (y - (zz + 1)) & _M64
    y &= 0x5555555555555555 >> (64 - step * 2)
    return x | y


def neighbors(bits: int, step: int) -> dict[str, int]:
    return {
        "east": _move_x(bits, step, 1),
        "west": _move_x(bits, step, -1),
        "south": _move_y(bits, step, -1),
        "north": _move_y(bits, step, 1),
        "north_west": _move_y(_move_x(bits, step, -1), step, 1),
        "south_west": _move_y(_move_x(bits, step, -1), step, -1),
        "north_east": _move_y(_move_x(bits, step, 1), step, 1),
        "south_east": _move_y(_move_x(bits, step, 1), step, -1),
    }


def search_cells(s: Shape) -> list[tuple[int, int]]:
    """geohashCalculateAreasByShapeWGS84: the nine (bits, step) cells, zeroed ones as (0, 0),
    in membersOfAllNeighbors' order (centre, N, S, E, W, NE, NW, SE, SW)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(s)
    if s.kind == CIRCULAR:
        radius_m = s.radius
    else:
        radius_m = _csqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))
    radius_m *= s.conversion
    steps = estimate_steps(radius_m, s.lat)
    bits = encode(s.lon, s.lat, steps) or 0
    nb = neighbors(bits, steps)
    area = decode_area(bits, steps)
    north = decode_area(nb["north"], steps)
    south = decode_area(nb["south"], steps)
    east = decode_area(nb["east"], steps)
    west = decode_area(nb["west"], steps)
    dec = False
    if north is not None and north[3] < max_lat:
        dec = True
    if south is not None and south[2] > min_lat:
        dec = True
    if east is not None and east[1] < max_lon:
        dec = True
    if west is not None and west[0] > min_lon:
        dec = True
    if steps > 1 and dec:
        steps -= 1
        bits = encode(s.lon, s.lat, steps) or 0
        nb = neighbors(bits, steps)
        area = decode_area(bits, steps)
    cells = {k: (v, steps) for k, v in nb.items()}
    if steps >= 2 and area is not None:
        if area[2] < min_lat:
            for k in ("south", "south_west", "south_east"):
                cells[k] = (0, 0)
        if area[3] > max_lat:
            for k in ("north", "north_east", "north_west"):
                cells[k] = (0, 0)
        if area[0] < min_lon:
            for k in ("west", "south_west", "north_west"):
                cells[k] = (0, 0)
        if area[1] > max_lon:
            for k in ("east", "south_east", "north_east"):
                cells[k] = (0, 0)
    order = ["north", "south", "east", "west", "north_east", "north_west", "south_east", "south_west"]
    return [(bits, steps)] + [cells[k] for k in order]


def search(s: Shape, range_fn: Callable[[int, int], list[tuple[bytes, float]]], limit: int
           ) -> list[tuple[float, bytes, float, float, float]]:
    """membersOfAllNeighbors: (dist_m, member, score, lon, lat) found, in Redis's order.

    ``range_fn(min, max)`` returns the (member, score) pairs with min <= score < max in
    ascending order."""
    cells = search_cells(s)
    out: list[tuple[float, bytes, float, float, float]] = []
    last = 0
    for i, (bits, step) in enumerate(cells):
        if bits == 0 and step == 0:
            continue
        if last and bits == cells[last][0] and step == cells[last][1]:
            continue
        if out and limit and len(out) >= limit:
            break
        lo = bits << (52 - step * 2)
        hi = (bits + 1) << (52 - step * 2)
        for member, score in range_fn(lo, hi):
            lon, lat = decode_score(score)
            d = s.within(lon, lat)
            if d is not None:
                out.append((d, member, score, lon, lat))
                if limit and len(out) >= limit:
                    break
        last = i
    return out


# -- Redis's pqsort (partial quicksort, pqsort.c): the order of equal distances with COUNT ---
def pqsort(arr: list, cmp: Callable[[object, object], int], lrange: int, rrange: int) -> None:
    """Sort ``arr`` in place so that positions lrange..rrange hold what a full sort would,
    exactly as Redis's (unstable) pqsort leaves them."""
    _pqsort(arr, 0, len(arr), cmp, lrange, rrange)


def _pqsort(arr: list, lo: int, n: int, cmp: Callable[[object, object], int], lr: int, rr: int) -> None:
    def swap(i: int, j: int) -> None:
        arr[i], arr[j] = arr[j], arr[i]

    def med3(a: int, b: int, c: int) -> int:
        if cmp(arr[a], arr[b]) < 0:
            return b if cmp(arr[b], arr[c]) < 0 else (c if cmp(arr[a], arr[c]) < 0 else a)
        return b if cmp(arr[b], arr[c]) > 0 else (a if cmp(arr[a], arr[c]) < 0 else c)

    def vecswap(a: int, b: int, k: int) -> None:
        for i in range(k):
            swap(a + i, b + i)

    while True:
        if n < 7:
            for pm in range(lo + 1, lo + n):
                pl = pm
                while pl > lo and cmp(arr[pl - 1], arr[pl]) > 0:
                    swap(pl, pl - 1)
                    pl -= 1
            return
        pm = lo + n // 2
        if n > 7:
            pl = lo
            pn = lo + n - 1
            if n > 40:
                d = n // 8
                pl = med3(pl, pl + d, pl + 2 * d)
                pm = med3(pm - d, pm, pm + d)
                pn = med3(pn - 2 * d, pn - d, pn)
            pm = med3(pl, pm, pn)
        swap(lo, pm)
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(arr[pb], arr[lo])
                if r > 0:
                    break
                if r == 0:
                    swap(pa, pb)
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(arr[pc], arr[lo])
                if r < 0:
                    break
                if r == 0:
                    swap(pc, pd)
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            swap(pb, pc)
            pb += 1
            pc -= 1
        pn = lo + n
        k = min(pa - lo, pb - pa)
        vecswap(lo, pb - k, k)
        k = min(pd - pc, pn - pd - 1)
        vecswap(pb, pn - k, k)
        k = pb - pa
        if k > 1:
            sl, sr = lo, lo + k - 1
            if not ((lr < sl and rr < sl) or (lr > sr and rr > sr)):
                _pqsort(arr, lo, k, cmp, lr, rr)
        k = pd - pc
        if k > 1:
            lo = pn - k
            n = k
            sl, sr = lo, lo + k - 1
            if not ((lr < sl and rr < sl) or (lr > sr and rr > sr)):
                continue
        return
