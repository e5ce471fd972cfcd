"""Databases and their keys: values, expiry, WATCH versions, modified-key signals.

The keyspace knows nothing of sockets, sessions or the log.  Upper layers learn about
changes through plain attributes and callbacks that ``node.py`` wires:

* ``Keyspace.modified`` — (db, key) pairs changed since the dispatcher last drained it
  (``(-1, None)`` means "everything": FLUSHALL, SWAPDB ...); the commit tracker turns
  them into per-key wait marks.
* ``Keyspace.on_expired(db, key)`` — a key was removed because its TTL passed; the owner
  node turns that into a ``DEL`` effect for the log.
* ``Keyspace.notify(type_flag, event, key, dbid)`` — keyspace notifications.
* ``Keyspace.on_touch(dbid, key)`` — client-side caching invalidation.

Values are ``bytes`` for strings and objects from :mod:`durakv.types` for the other
types (each has a ``type_name`` class attribute).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any

from ..clock import Clock

EVERYTHING = (-1, None)

# signal_modified's ``sized``: what memory accounting (keyspace/memory.py) must do
SIZE_UNKNOWN = 1  # look the value up: collections and big strings are measured one by one
SIZE_SMALL_STRING = 0  # a string under memory.BIG_STRING before and after: strings are sampled
SIZE_COLLECTION = 2  # a collection now (or gone): measure it again, no lookup needed


def type_name(v: Any) -> str:
    if type(v) is bytes:
        return "string"
    return v.type_name


class Watchers(dict):  # type: ignore[type-arg]
    """The sessions WATCHing one key -> whether the key was already expired at WATCH time.

    A dict that also answers the set-style ``add``/``discard`` older callers use.
    """

    __slots__ = ()

    def add(self, c: Any) -> None:
        self.setdefault(c, False)

    def discard(self, c: Any) -> None:
        self.pop(c, None)


class Database:
    __slots__ = ("id", "ks", "data", "expires", "watched", "access", "_heap", "str_enc", "resized")

    def __init__(self, dbid: int, ks: Keyspace) -> None:
        self.id = dbid
        self.ks = ks
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        # WATCH: key -> {session: key was already logically expired when WATCHed}
        self.watched: dict[bytes, Watchers] = {}
        self.access: dict[bytes, int] = {}  # LRU clock or LFU counter, when eviction needs it
        self._heap: list[tuple[int, bytes]] = []
        # string keys whose OBJECT ENCODING is not what their content says: "raw" for a
        # value Redis builds in place (APPEND to an existing key, SETRANGE, SETBIT,
        # BITFIELD, BITOP), "embstr" for one it stores unencoded (INCRBYFLOAT's result)
        self.str_enc: dict[bytes, str] = {}
        # keys whose entry memory accounting must measure again (its set, once installed)
        self.resized: set[bytes] | None = None

    # -- reads ---------------------------------------------------------------------------
    def lookup(self, key: bytes) -> Any:
        """The value of a live key, or None.  Expires the key lazily if its time passed."""
        v = self.data.get(key)
        if v is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.ks.clock.now_ms() and self._gone(key):
                v = None
        if v is None:
            ks = self.ks
            ks.stat_misses += 1  # INFO keyspace_hits/misses
            ks.notify("m", "keymiss", key, self.id)  # Redis's lookupKeyRead on a miss
            return None
        self.ks.stat_hits += 1
        if self.ks.track_access:
            self.ks.touch_access(self, key)
        return v

    def lookup_write(self, key: bytes) -> Any:
        """Like :meth:`lookup` for a command about to write the key (Redis's
        lookupKeyWrite): lazy expiry and LRU/LFU touch, but no keyspace hit/miss count."""
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.ks.clock.now_ms() and self._gone(key):
                return None
        if self.ks.track_access:
            self.ks.touch_access(self, key)
        return v

    def lookup_nottl(self, key: bytes) -> Any:
        """Like :meth:`lookup` without touching LRU/LFU (OBJECT, TYPE-like introspection)."""
        v = self.data.get(key)
        if v is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.ks.clock.now_ms() and self._gone(key):
                return None
        return v

    def _gone(self, key: bytes) -> bool:
        """A key whose time passed: expire it (primary), or hide it from clients while it
        waits for the primary's DEL (replica / loading; Redis's expireIfNeeded).  Effects
        being applied (``ks.applying``) still see it, so that DEL can remove it."""
        ks = self.ks
        if ks.expire_allowed:
            self._expire(key)
            return True
        return not ks.applying

    def exists(self, key: bytes) -> bool:
        return self.lookup_nottl(key) is not None

    def get_expire(self, key: bytes) -> int | None:
        return self.expires.get(key)

    def is_logically_expired(self, key: bytes) -> bool:
        when = self.expires.get(key)
        return when is not None and when <= self.ks.clock.now_ms()

    def __len__(self) -> int:
        return len(self.data)

    # -- writes (callers signal the change with Keyspace.signal_modified) --------------------
    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        data = self.data
        if self.str_enc:
            self.str_enc.pop(key, None)
        if key in data:
            data[key] = value
            if not keep_ttl and self.expires:
                self.expires.pop(key, None)
        else:
            data[key] = value
            self.ks.notify("n", "new", key, self.id)  # Redis's dbAdd
        if self.ks.track_access:
            self.ks.touch_access(self, key)

    def add(self, key: bytes, value: Any) -> None:
        """Insert a key known to be absent (new container); emits the 'new' key event."""
        self.data[key] = value
        if self.str_enc:
            self.str_enc.pop(key, None)
        self.ks.notify("n", "new", key, self.id)
        if self.ks.track_access:
            self.ks.touch_access(self, key)

    def delete(self, key: bytes) -> bool:
        if self.data.pop(key, None) is None:
            return False
        if self.str_enc:
            self.str_enc.pop(key, None)
        if self.expires:
            self.expires.pop(key, None)
        if self.access:
            self.access.pop(key, None)
        return True

    def remove(self, key: bytes) -> bool:
        """DEL of one key (Redis's dbDelete + signalModifiedKey + the ``del`` event): True if
        a live key was removed."""
        if self.lookup_nottl(key) is None or not self.delete(key):
            return False
        self.ks.signal_modified(self, key)
        self.ks.notify("g", "del", key, self.id)
        return True

    def delete_notify(self, key: bytes) -> None:
        """Delete ``key`` with the generic ``del`` keyspace event: a container a command
        emptied, or a destination key a store command removed."""
        self.delete(key)
        self.ks.notify("g", "del", key, self.id)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        self.expires[key] = when_ms
        heap = self._heap
        heapq.heappush(heap, (when_ms, key))
        if len(heap) > 64 and len(heap) > 3 * len(self.expires):
            self._heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self._heap)

    def persist(self, key: bytes) -> bool:
        return self.expires.pop(key, None) is not None

    def clear(self) -> None:
        self.data = {}
        self.str_enc = {}
        self.expires = {}
        self.access = {}
        self._heap = []

    def _expire(self, key: bytes) -> None:
        self.delete(key)
        ks = self.ks
        ks.stat_expired += 1
        # like Redis, an expiry is not a change of server.dirty: the command that found the
        # key expired is not propagated because of it, only the DEL effect below is
        ks.signal_modified(self, key, count=False)
        ks.notify("x", "expired", key, self.id)
        ks.on_expired(self.id, key)

    def expire_due(self, now_ms: int, budget: int) -> int:
        """Remove up to ``budget`` keys whose time passed; returns how many were removed."""
        heap = self._heap
        n = 0
        while heap and n < budget and heap[0][0] <= now_ms:
            when, key = heapq.heappop(heap)
            if self.expires.get(key) == when:
                self._expire(key)
                n += 1
        return n

    def next_expiry(self) -> int | None:
        heap = self._heap
        while heap and self.expires.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def keys(self) -> Iterator[bytes]:
        return iter(list(self.data))


class Keyspace:
    def __init__(self, ndb: int = 16, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.dbs = [Database(i, self) for i in range(ndb)]
        self.dirty = 0  # changes since the last snapshot (Redis's server.dirty)
        self.modified: list[tuple[int, bytes | None]] = []
        self.expire_allowed = True  # False on replicas: the primary's DEL effects expire keys
        self.applying = False  # Node.apply_payload is replaying effects: expired keys stay visible
        self.track_access = False
        self.lfu = False
        self.stat_expired = 0
        self.stat_evicted = 0
        self.stat_hits = 0
        self.stat_misses = 0
        self.on_expired: Callable[[int, bytes], None] = lambda dbid, key: None
        self.notify: Callable[[str, str, bytes, int], None] = lambda t, e, k, d: None
        self.notifying = False  # notify does something (hot paths skip the call otherwise)
        self.on_touch: Callable[[int, bytes | None], None] | None = None
        # memory accounting (keyspace/memory.py): a key's value may have changed size
        self.on_size: Callable[[Database, bytes], None] | None = None
        self.touch_access: Callable[[Database, bytes], None] = lambda db, key: None

    def signal_modified(self, db: Database, key: bytes, count: bool = True, sized: int = SIZE_UNKNOWN) -> None:
        """A key changed (Redis's signalModifiedKey + server.dirty++).

        ``sized`` (SIZE_*) spares memory accounting a lookup of the value where the caller
        knows what it is: write paths that run often pass it.
        """
        if count:
            self.dirty += 1
        self.modified.append((db.id, key))
        if db.watched:
            watchers = db.watched.get(key)
            if watchers:
                for c, expired in watchers.items():
                    if expired:
                        # watched while already expired (Redis 7.0 touchWatchedKey): its
                        # deletion is no logical change; later changes are
                        if key not in db.data:
                            watchers[c] = False
                        continue
                    c.dirty_cas = True
        if self.on_touch is not None:
            self.on_touch(db.id, key)
        if sized:
            if sized == SIZE_COLLECTION:
                if db.resized is not None:
                    db.resized.add(key)
            elif self.on_size is not None:
                self.on_size(db, key)

    def signal_written(self, db: Database, key: bytes) -> None:
        """``key`` was written without a change Redis signals (no signalModifiedKey, so no
        WATCH or tracking invalidation and no dirty++) that the log must still record, e.g.
        BITFIELD creating a key while every operation FAILs: only the open log batch and
        memory accounting learn it (signal_modified does the same inline, on the hot path).
        """
        self.modified.append((db.id, key))
        if self.on_size is not None:
            self.on_size(db, key)

    def signal_flush(self, dbid: int) -> None:
        """A whole database (or all, dbid == -1) is about to be emptied: FLUSHDB/FLUSHALL.

        Call it *before* clearing: like Redis's touchAllWatchedKeysInDb, only watchers of
        keys that exist in the emptied database are invalidated.
        """
        self.dirty += 1
        self.modified.append(EVERYTHING)
        dbs = self.dbs if dbid == -1 else [self.dbs[dbid]]
        for db in dbs:
            if db.watched:
                self._touch_all_watched(db, None)
        if self.on_touch is not None:
            self.on_touch(dbid, None)

    def _touch_all_watched(self, emptied: Database, replaced_with: Database | None) -> None:
        other = replaced_with.data if replaced_with is not None else None
        data = emptied.data
        for key, watchers in emptied.watched.items():
            in_emptied = key in data
            if in_emptied or (other is not None and key in other):
                for c, expired in watchers.items():
                    if expired:
                        if other is None or key not in other:
                            watchers[c] = False  # the expired key is gone: no logical change
                            continue
                        if replaced_with.is_logically_expired(key):  # type: ignore[union-attr]
                            continue  # an expired key stays expired
                    elif not in_emptied and replaced_with.is_logically_expired(key):  # type: ignore[union-attr]
                        watchers[c] = True  # a missing key replaced with an expired one
                        continue
                    c.dirty_cas = True

    def swap_dbs(self, id1: int, id2: int) -> None:
        """SWAPDB: exchange the contents of two databases; WATCHers stay where they are."""
        if id1 == id2:
            self.dirty += 1
            return
        db1, db2 = self.dbs[id1], self.dbs[id2]
        if db1.watched:
            self._touch_all_watched(db1, db2)
        if db2.watched:
            self._touch_all_watched(db2, db1)
        db1.data, db2.data = db2.data, db1.data
        db1.expires, db2.expires = db2.expires, db1.expires
        db1.access, db2.access = db2.access, db1.access
        db1._heap, db2._heap = db2._heap, db1._heap
        db1.str_enc, db2.str_enc = db2.str_enc, db1.str_enc
        self.dirty += 1
        self.modified.append(EVERYTHING)

    # -- WATCH ---------------------------------------------------------------------------
    def watch(self, c: Any, db: Database, key: bytes) -> None:
        """WATCH ``key`` of ``db`` for session ``c`` (no-op when already watched)."""
        watchers = db.watched.get(key)
        if watchers is None:
            watchers = db.watched[key] = Watchers()
        elif c in watchers:
            return
        watchers[c] = db.is_logically_expired(key) and key in db.data
        c.watched.append((db, key))

    def unwatch_all(self, c: Any) -> None:
        for db, key in c.watched:
            watchers = db.watched.get(key)
            if watchers is not None:
                watchers.pop(c, None)
                if not watchers:
                    del db.watched[key]
        c.watched = []

    def watched_key_expired(self, c: Any) -> bool:
        """Redis's isWatchedKeyExpired: a key live at WATCH time has expired since."""
        for db, key in c.watched:
            watchers = db.watched.get(key)
            if watchers is not None and not watchers.get(c, False) and db.is_logically_expired(key):
                return True
        return False

    def active_expire(self, budget: int = 200) -> int:
        """One active-expiry pass over every database; returns keys removed."""
        if not self.expire_allowed:
            return 0
        now = self.clock.now_ms()
        n = 0
        for db in self.dbs:
            if db.expires:
                n += db.expire_due(now, budget)
        return n

    def keycount(self) -> int:
        return sum(len(db.data) for db in self.dbs)

    def resize(self, ndb: int) -> None:
        while len(self.dbs) < ndb:
            self.dbs.append(Database(len(self.dbs), self))
