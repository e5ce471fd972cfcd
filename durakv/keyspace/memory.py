"""Memory accounting: per-value size estimates and the node's ``used_memory``.

Design (cheap on the write path, no per-key metadata):

* ``value_size(v)`` estimates the bytes CPython spends on one value: ``bytes`` objects
  are sized exactly (header + length, rounded to pymalloc's 16-byte blocks); containers
  from :mod:`durakv.types` expose ``memory_usage(samples)`` when their module provides it,
  otherwise they are measured generically (``sys.getsizeof`` of the object and of its
  internal containers, elements sampled like Redis's MEMORY USAGE SAMPLES).
* ``used_memory`` = a constant startup figure + the dict tables of every database
  (``sys.getsizeof`` of ``data``/``expires``/``access``, O(1)) + for each database its key
  keys and values: databases of up to 2000 keys are measured exactly (at most every 10 ms);
  bigger ones keep the last measurement and extrapolate it by the change in key count.
  A measurement is the background exact pass (``cron_exact_pass``: every key, ~3 ms of
  each cron tick) or, when the key count moved by more than 1/8 since the last one, a
  stratified sample of 64 keys over the whole dict (one C-level pass).  Writes, deletes
  and evictions are reflected at once through the key count; growth of existing values
  at the next measurement.  Loading uniform data it tracks the process's RSS growth
  within a few percent (tests/keyspace/test_eviction.py checks it).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections import deque
from typing import Any

STARTUP_BYTES = 880_000  # what an empty node reports (Redis 7.0 reports ~870 KB)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_BYTES_HDR = sys.getsizeof(b"")  # 33 on 64-bit CPython
_INT_SIZE = 32  # an int object above the small-int cache


def _round(n: int) -> int:
    return (n + 15) & ~15


def bytes_size(n: int) -> int:
    """Bytes CPython allocates for a ``bytes`` object of length n."""
    return _round(_BYTES_HDR + n)


def value_size(v: Any, samples: int = 5) -> int:
    if type(v) is bytes:
        return bytes_size(len(v))
    fn = getattr(v, "memory_usage", None)
    if fn is not None:
        try:
            return int(fn(samples))
        except TypeError:
            return int(fn())
    return _generic(v, samples, 0)


def _generic(o: Any, samples: int, depth: int) -> int:
    t = type(o)
    if t is bytes:
        return bytes_size(len(o))
    if t is int or t is float:
        return _INT_SIZE if t is int else 24
    if o is None or t is bool:
        return 0
    size = sys.getsizeof(o)
    if depth > 4:
        return size
    if t is tuple:
        # (score, member) pairs next to a member->score dict: the member is shared
        return size + sum(_generic(x, samples, depth + 1) for x in o if type(x) is not bytes)
    if isinstance(o, dict):
        n = len(o)
        if n:
            it = itertools.islice(o.items(), samples if samples > 0 else n)
            tot = cnt = 0
            for k, x in it:
                tot += _generic(k, samples, depth + 1) + _generic(x, samples, depth + 1)
                cnt += 1
            size += tot * n // cnt
        return size
    if isinstance(o, (list, tuple, set, frozenset, deque)):
        n = len(o)
        if n:
            tot = cnt = 0
            for x in itertools.islice(iter(o), samples if samples > 0 else n):
                tot += _generic(x, samples, depth + 1)
                cnt += 1
            size += tot * n // cnt
        return size
    slots = getattr(t, "__slots__", None)
    if slots is not None:
        for name in (slots,) if isinstance(slots, str) else slots:
            x = getattr(o, name, None)
            if x is not None and x is not o:
                size += _generic(x, samples, depth + 1)
    d = getattr(o, "__dict__", None)
    if d is not None:
        size += sys.getsizeof(d)
        for x in d.values():
            size += _generic(x, samples, depth + 1)
    return size


def key_usage(db: Any, key: bytes, samples: int = 5) -> int | None:
    """MEMORY USAGE: the key, its value and its dict entries."""
    v = db.data.get(key)
    if v is None:
        return None
    n = bytes_size(len(key)) + value_size(v, samples) + 40
    if key in db.expires:
        n += 40
    return n


class _DbSample:
    """Per-database accounting state."""

    __slots__ = ("data", "csizes", "ctotal", "dirty", "stotal", "scount", "t", "pos", "ptotal",
                 "pcount")

    def __init__(self) -> None:
        self.data: Any = None  # the dict measured (FLUSHDB replaces it)
        self.csizes: dict[bytes, int] = {}  # container key -> measured entry size
        self.ctotal = 0
        self.dirty: set[bytes] = set()  # container keys changed since measured
        self.stotal = 0  # string entries: bytes when last measured ...
        self.scount = -1  # ... and their count then
        self.t = 0.0
        self.pos = 0  # background exact pass over string entries
        self.ptotal = 0
        self.pcount = 0


_SAMPLE = 64
# strings this long are measured one by one, like containers, not through the sample of
# the rest: one big value must count at once (maxmemory), not at the next re-sample
BIG_STRING = 4096
_SMALL_DB = 2000  # databases up to this size have their strings measured exactly
_CRON_BUDGET_S = 0.003  # time per cron tick for the background exact pass


def _entry_size(key: bytes, v: Any) -> int:
    return bytes_size(len(key)) + value_size(v)


def _str_entry(key: bytes, v: bytes) -> int:
    return ((_BYTES_HDR + len(key) + 15) & ~15) + ((_BYTES_HDR + len(v) + 15) & ~15)


def _sync(st: _DbSample, db: Any) -> None:
    """Re-measure the containers changed since the last call."""
    data = db.data
    if st.data is not data:
        st.data = data
        st.csizes = {}
        st.ctotal = 0
        st.dirty.clear()  # (the set is also the database's ``resized``)
        st.dirty.update(k for k, v in data.items() if type(v) is not bytes or len(v) >= BIG_STRING)
        st.scount = -1
        st.pos = st.ptotal = st.pcount = 0
    if st.dirty:
        csizes = st.csizes
        tot = st.ctotal
        for key in st.dirty:
            v = data.get(key)
            old = csizes.pop(key, 0)
            tot -= old
            if v is not None and (type(v) is not bytes or len(v) >= BIG_STRING):
                n = _entry_size(key, v)
                csizes[key] = n
                tot += n
        st.ctotal = tot
        st.dirty.clear()


def _strings_bytes(srv: Any, db: Any, st: _DbSample, now: float) -> int:
    data = db.data
    nstr = len(data) - len(st.csizes)
    if nstr <= 0:
        return 0
    if len(data) <= _SMALL_DB:
        if st.scount > 0 and now - st.t <= 0.01:
            # measured less than 10 ms ago: extrapolate (eviction loops call this per key)
            return st.stotal + (nstr - st.scount) * st.stotal // st.scount
        st.stotal = sum(_str_entry(k, v) for k, v in data.items() if type(v) is bytes and len(v) < BIG_STRING)
        st.scount = nstr
        st.t = now
        return st.stotal
    if st.scount <= 0 or abs(nstr - st.scount) * 8 > st.scount:
        # no usable measurement: a stratified sample over the whole dict (one C-level pass)
        step = len(data) // _SAMPLE
        start = srv.rng.randrange(step) if srv.rng is not None else 0
        tot = cnt = 0
        for k in itertools.islice(data, start, None, step):
            v = data[k]
            if type(v) is bytes and len(v) < BIG_STRING:
                tot += _str_entry(k, v)
                cnt += 1
        if not cnt:
            return nstr * 96
        st.stotal = tot * nstr // cnt
        st.scount = nstr
        st.t = now
        return st.stotal
    return st.stotal + (nstr - st.scount) * st.stotal // st.scount


def _states(srv: Any) -> list[_DbSample]:
    states = srv.extras.get("_mem_samples")
    if states is None or len(states) != len(srv.ks.dbs):
        states = srv.extras["_mem_samples"] = [_DbSample() for _ in srv.ks.dbs]

        def on_size(db: Any, key: bytes) -> None:
            st = states[db.id]
            v = db.data.get(key)
            if type(v) is not bytes or len(v) >= BIG_STRING or (st.csizes and key in st.csizes):
                st.dirty.add(key)

        srv.ks.on_size = on_size
        for db, st in zip(srv.ks.dbs, states):
            db.resized = st.dirty
    return states


def cron_exact_pass(node: Any) -> None:
    """Background correction of big databases' string figure: measure every string entry,
    a few ms per cron tick; a completed pass replaces the extrapolated figure."""
    srv = node.ctx
    clock = srv.clock
    deadline = clock.monotonic() + _CRON_BUDGET_S
    for db, st in zip(srv.ks.dbs, _states(srv)):
        data = db.data
        n = len(data)
        if n <= _SMALL_DB or st.data is not data:
            st.pos = st.ptotal = st.pcount = 0
            continue
        while st.pos < n:
            if clock.monotonic() >= deadline:
                return
            take = min(5000, n - st.pos)
            tot = cnt = 0
            for key in itertools.islice(data, st.pos, st.pos + take):
                v = data[key]
                if type(v) is bytes and len(v) < BIG_STRING:
                    tot += _str_entry(key, v)
                    cnt += 1
            st.ptotal += tot
            st.pcount += cnt
            st.pos += take
        nstr = n - len(st.csizes)
        if st.pcount and nstr > 0:
            st.stotal = st.ptotal * nstr // st.pcount
            st.scount = nstr
            st.t = clock.monotonic()
        st.pos = st.ptotal = st.pcount = 0


def used_memory(srv: Any) -> int:
    """The node's memory figure for INFO and maxmemory (see the module docstring)."""
    states = _states(srv)
    now = srv.clock.monotonic()
    total = STARTUP_BYTES
    getsize = sys.getsizeof
    for db, st in zip(srv.ks.dbs, states):
        data = db.data
        if not data:
            if st.data is not data:
                _sync(st, db)
            continue
        _sync(st, db)
        total += getsize(data) + st.ctotal + _strings_bytes(srv, db, st, now)
        if db.expires:
            total += getsize(db.expires) + len(db.expires) * 8
        if db.access:
            total += getsize(db.access) + len(db.access) * _INT_SIZE
    total += clients_memory(srv)
    return total


def clients_memory(srv: Any) -> int:
    n = len(srv.clients)
    return n * 1024


def overhead(srv: Any) -> int:
    tot = STARTUP_BYTES + clients_memory(srv)
    for db in srv.ks.dbs:
        if db.data:
            tot += sys.getsizeof(db.data) + sys.getsizeof(db.expires)
    return tot


def startup_memory(srv: Any) -> int:
    return STARTUP_BYTES


def update_peak(srv: Any, used: int) -> int:
    peak = max(srv.extras.get("_mem_peak", 0), used)
    srv.extras["_mem_peak"] = peak
    return peak


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def total_system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0
