"""maxmemory and the eight eviction policies, approximated by sampling as Redis does.

``install(node)`` wires an :class:`Evictor` into ``ctx.evictor`` while ``maxmemory`` is
non-zero (the dispatcher's OOM gate calls :meth:`Evictor.make_room` before commands
flagged ``denyoom``), and turns on per-key access tracking only for the LRU/LFU policies:

* ``db.access[key]`` holds, under an ``*-lru`` policy, the key's last access time in ms;
  under an ``*-lfu`` policy Redis's 24-bit word ``(minutes << 8) | counter`` with the
  logarithmic 8-bit counter (``lfu-log-factor``) decayed every ``lfu-decay-time`` minutes.
  Under other policies nothing is stored per key (memory per key matters).
* Candidates are sampled (``maxmemory-samples`` per database, from a rotating window of
  each dict, since CPython dicts have no O(1) random access) into a pool of 16 best
  candidates kept across calls, like Redis's evictionPoolPopulate.
* An evicted key is deleted, logged as a ``DEL`` effect (the same path as expiry),
  signalled as modified (WATCH, client-side caching), notified as ``evicted`` and counted
  in ``evicted_keys``.

Memory is measured by :func:`durakv.keyspace.memory.used_memory`.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from . import memory

if TYPE_CHECKING:
    from ..node import Node

LFU_INIT_VAL = 5
POOL_SIZE = 16
_WINDOW = 16384  # candidates come from the first _WINDOW entries of each dict, rotating


class Evictor:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.pool: list[tuple[int, int, bytes]] = []  # (score, dbid, key), best last
        self.cursors: dict[tuple[int, bool], int] = {}
        self.next_db = 0

    # -- the gate --------------------------------------------------------------------------
    def make_room(self) -> bool:
        """Evict until used memory is under maxmemory; False if that was impossible."""
        ctx = self.ctx
        maxmem = self.cfg["maxmemory"]
        if not maxmem:
            return True
        if ctx.role != "master" and self.cfg["replica-ignore-maxmemory"]:
            return True
        if ctx.paused_until:  # CLIENT PAUSE pauses eviction too
            return True
        used = memory.used_memory(ctx)
        if used <= maxmem:
            return True
        policy = self.cfg["maxmemory-policy"]
        if policy == "noeviction":
            return False
        budget = 10_000
        t0 = ctx.clock.monotonic()
        ok = True
        while used > maxmem and budget > 0:
            if not self.evict_one(policy):
                ok = False
                break
            budget -= 1
            used = memory.used_memory(ctx)
        ks = ctx.ks
        tracker = ctx.tracker
        if ks.modified and tracker is not None and budget < 10_000:
            # the evicted keys join the open log batch that carries their DEL effects (the
            # command may still be refused, so the dispatcher would not drain them now)
            tracker.write(None, ks.modified)
            ks.modified.clear()
        lat = self.cfg["latency-monitor-threshold"]
        if lat and ctx.slowlog is not None:
            ms = int((ctx.clock.monotonic() - t0) * 1000)
            if ms >= lat:
                ctx.slowlog.latency_event("eviction-cycle", ms)
        return ok and used <= maxmem

    # -- choosing keys ---------------------------------------------------------------------
    def _sample(self, db: Any, d: dict[bytes, Any], volatile: bool, k: int) -> list[bytes]:
        n = len(d)
        if n <= k:
            return list(d)
        ck = (db.id, volatile)
        start = self.cursors.get(ck, 0)
        if start >= min(n, _WINDOW):
            start = 0
        keys = list(itertools.islice(d, start, start + k))
        self.cursors[ck] = start + k
        return keys

    def evict_one(self, policy: str) -> bool:
        ctx = self.ctx
        dbs = ctx.ks.dbs
        volatile = policy.startswith("volatile")
        if policy.endswith("random"):
            n = len(dbs)
            for i in range(n):
                db = dbs[(self.next_db + i) % n]
                d = db.expires if volatile else db.data
                if d:
                    self.next_db = (self.next_db + i + 1) % n
                    keys = self._sample(db, d, volatile, 16)
                    key = keys[ctx.rng.randrange(len(keys))] if ctx.rng is not None else keys[0]
                    self.evict(db, key)
                    return True
            return False
        kind = policy.split("-", 1)[1]
        if kind == "ttl":
            # exact: the key whose expiry is the soonest (the keyspace keeps a heap)
            best = None
            for db in dbs:
                when = db.next_expiry() if db.expires else None
                if when is not None and (best is None or when < best[0]):
                    best = (when, db)
            if best is None:
                return False
            db = best[1]
            self.evict(db, db._heap[0][1])  # noqa: SLF001
            return True
        samples = self.cfg["maxmemory-samples"]
        now = ctx.clock.now_ms()
        pool = self.pool
        for db in dbs:
            d = db.expires if volatile else db.data
            if not d:
                continue
            access = db.access
            for key in self._sample(db, d, volatile, samples):
                if kind == "lru":
                    score = now - access.get(key, 0)
                elif kind == "lfu":
                    score = 255 - lfu_decr(self.cfg, access.get(key, 0), now)
                else:  # ttl: the sooner it expires, the better
                    score = -db.expires.get(key, 0)
                entry = (score, db.id, key)
                if entry in pool:
                    continue
                if len(pool) < POOL_SIZE:
                    pool.append(entry)
                    pool.sort()
                elif score > pool[0][0]:
                    pool[0] = entry
                    pool.sort()
        while pool:
            _, dbid, key = pool.pop()
            db = dbs[dbid]
            if key in (db.expires if volatile else db.data):
                self.evict(db, key)
                return True
        return False

    def evict(self, db: Any, key: bytes) -> None:
        ks = self.ctx.ks
        db.delete(key)
        ks.stat_evicted += 1
        ks.signal_modified(db, key, count=False)
        ks.notify("e", "evicted", key, db.id)
        ks.on_expired(db.id, key)  # the DEL effect for the log (same path as expiry)


# -- LRU / LFU bookkeeping -----------------------------------------------------------------


def lfu_decr(cfg: Any, word: int, now_ms: int) -> int:
    """Redis's LFUDecrAndReturn: the counter after decay."""
    if not word:
        return 0
    ldt = word >> 8
    counter = word & 255
    period = cfg["lfu-decay-time"]
    if period:
        now_min = (now_ms // 60000) & 0xFFFF
        elapsed = now_min - ldt if now_min >= ldt else 65535 - ldt + now_min
        n = elapsed // period
        if n:
            counter = 0 if n > counter else counter - n
    return counter


def lfu_incr(cfg: Any, counter: int, rng: Any) -> int:
    """Redis's LFULogIncr: logarithmic increment of the 8-bit counter."""
    if counter == 255:
        return 255
    r = rng.random() if rng is not None else 0.5
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    p = 1.0 / (base * cfg["lfu-log-factor"] + 1)
    return counter + 1 if r < p else counter


def lfu_freq(ctx: Any, db: Any, key: bytes) -> int:
    """OBJECT FREQ: the decayed counter of a key (LFU policies)."""
    return lfu_decr(ctx.config, db.access.get(key, 0), ctx.clock.now_ms())


def idle_ms(ctx: Any, db: Any, key: bytes) -> int:
    """OBJECT IDLETIME basis under LRU policies: ms since the last access (0 if unknown)."""
    t = db.access.get(key)
    return 0 if t is None else max(0, ctx.clock.now_ms() - t)


def _apply_policy(ctx: Any) -> None:
    cfg = ctx.config
    policy = cfg["maxmemory-policy"]
    ks = ctx.ks
    clock = ctx.clock
    if policy.endswith("lru"):
        def touch_lru(db: Any, key: bytes) -> None:
            db.access[key] = clock.now_ms()

        ks.touch_access = touch_lru
        ks.track_access = True
        ks.lfu = False
    elif policy.endswith("lfu"):
        def touch_lfu(db: Any, key: bytes) -> None:
            access = db.access
            now = clock.now_ms()
            w = access.get(key)
            if w is None:
                counter = LFU_INIT_VAL
            else:
                counter = lfu_incr(cfg, lfu_decr(cfg, w, now), ctx.rng)
            access[key] = (((now // 60000) & 0xFFFF) << 8) | counter

        ks.touch_access = touch_lfu
        ks.track_access = True
        ks.lfu = True
    else:
        ks.track_access = False
        ks.lfu = False
        ks.touch_access = lambda db, key: None
        for db in ks.dbs:
            if db.access:
                db.access = {}
    ev = ctx.evictor
    if ev is not None:
        ev.pool.clear()


def _apply_maxmemory(ctx: Any) -> None:
    if ctx.config["maxmemory"]:
        if ctx.evictor is None:
            ctx.evictor = Evictor(ctx)
        ctx.evictor.make_room()
    else:
        ctx.evictor = None


def install(node: Node) -> None:
    ctx = node.ctx
    if ctx.rng is None:
        import random

        ctx.rng = random.Random()
    cfg = node.config
    ctx.extras.setdefault("cron", []).append(memory.cron_exact_pass)
    cfg.watch("maxmemory", lambda v: _apply_maxmemory(ctx))
    cfg.watch("maxmemory-policy", lambda v: _apply_policy(ctx))
    _apply_policy(ctx)
    if cfg["maxmemory"]:
        ctx.evictor = Evictor(ctx)
