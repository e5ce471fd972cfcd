"""Snapshots of a shard in the JetStream Object Store, and purging the log they cover.

Format: the RDB codec of :mod:`durakv.durability.rdb` (a real Redis loads the file), with
AUX fields ``durakv-seq`` (data sequence), ``durakv-sseq`` (stream sequence) and
``durakv-epoch`` naming the log position the snapshot covers.  Objects live in bucket
``durakv_snapshots`` as ``s<shard>-<stream seq, 12 digits>.rdb``; the object description
is JSON ``{"sseq", "dseq", "epoch", "leader", "addr"}``, and the cluster KV bucket key
``shard.<n>.snapshots`` lists the kept snapshots (the index a starting node reads).

Snapshots are built off the serving node: one replica (the one with the smallest node id
among the live replicas) serialises its state, which is exactly the log applied up to
``sseq``, once more than ``auto-snapshot-log-bytes`` of records arrived since the last
one.  After the object is stored (replicated by JetStream) the stream is purged before
``sseq + 1``; the two newest snapshots are kept.  A starting node loads the newest
snapshot that verifies (checksum) and replays the log after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from nats.js.api import ObjectMeta, ObjectStoreConfig, StorageType

from ..durability import rdb
from ..durability.jetstream import stream_name

if TYPE_CHECKING:
    from .manager import Replication

log = logging.getLogger("durakv.snapshots")

BUCKET = "durakv_snapshots"
KEEP = 2


class ObjectSnapshots:
    def __init__(self, rep: Replication) -> None:
        self.rep = rep
        self.obs: Any = None
        self.bytes_since = 0
        self.last_sseq = 0
        self.busy = False
        self.saves = 0
        self.last_save_time = 0.0
        self.loaded_from: str | None = None

    def prefix(self) -> str:
        return f"s{self.rep.shard}-"

    async def store(self) -> Any:
        if self.obs is None:
            js = self.rep.nc.jetstream(timeout=1.5)
            try:
                self.obs = await js.object_store(BUCKET)
            except Exception:  # noqa: BLE001 - not created yet
                try:
                    self.obs = await js.create_object_store(
                        BUCKET, ObjectStoreConfig(bucket=BUCKET, replicas=3, storage=StorageType.FILE))
                except Exception:  # noqa: BLE001 - created concurrently
                    self.obs = await js.object_store(BUCKET)
        return self.obs

    def _key(self) -> str:
        return f"shard.{self.rep.shard}.snapshots"

    async def list(self) -> list[tuple[int, str, dict[str, Any]]]:
        """The stored snapshots, oldest first, from the index in the cluster KV bucket
        (a direct get: no consumer to set up, unlike listing the object store)."""
        kv = self.rep.kv
        if kv is None:
            return []
        try:
            entry = await kv.get(self._key())
        except Exception as e:  # noqa: BLE001 - KeyNotFoundError when there is none yet
            if type(e).__name__ in ("KeyNotFoundError", "NotFoundError", "KeyDeletedError"):
                return []
            raise
        metas = json.loads(entry.value or b"[]")
        return sorted((int(m["sseq"]), m["name"], m) for m in metas)

    async def load_newest(self) -> dict[str, Any] | None:
        """Load the newest snapshot that verifies into the (empty) keyspace; its metadata."""
        rep = self.rep
        ks = rep.ctx.ks
        for sseq, name, meta in reversed(await self.list()):
            try:
                obs = await self.store()
                res = await asyncio.wait_for(obs.get(name), 60)
                loader = rdb.Loader(ks, now_ms=None, config=rep.node.config, skip_expired=False)
                loader.load(res.data, name)
                if loader.functions:
                    from ..durability.snapshot import load_functions

                    load_functions(rep.ctx, loader.functions)
            except Exception as e:  # noqa: BLE001 - damaged or unreadable: try an older one
                log.error("snapshot %s cannot be loaded: %s", name, e)
                for db in ks.dbs:
                    db.clear()
                continue
            self.loaded_from = name
            self.last_sseq = sseq
            self.bytes_since = 0
            log.info("loaded snapshot %s (%d keys, record %d)", name, loader.keys_loaded, sseq)
            return meta
        return None

    # -- taking snapshots (on a replica) -------------------------------------------------
    def should_snapshot(self) -> bool:
        rep = self.rep
        limit = rep.node.config["auto-snapshot-log-bytes"]
        if (not limit or self.busy or self.bytes_since < limit or rep.state != "replica" or rep.ctx.loading
                or rep.chunks):
            return False
        live = [n for n in rep.live_replicas() if n != rep.leader_id]
        return not live or rep.node_id <= min(live)

    async def snapshot(self) -> str:
        """Serialise the state at the applied position, store it, purge the log before it."""
        rep = self.rep
        if self.busy:
            raise RuntimeError("a snapshot is already being taken")
        self.busy = True
        try:
            sseq, dseq = rep.applied_sseq, rep.applied_dseq
            meta = {"sseq": sseq, "dseq": dseq, "epoch": rep.epoch, "leader": rep.leader_id,
                    "addr": rep.leader_addr, "node": rep.node_id, "time": time.time()}
            aux = {b"durakv-seq": b"%d" % dseq, b"durakv-sseq": b"%d" % sseq, b"durakv-epoch": b"%d" % rep.epoch}
            from ..durability.snapshot import functions_of

            data = b"".join(rdb.write_rdb(rdb.keyspace_items(rep.ctx.ks), rep.node.config, aux,
                                          functions_of(rep.ctx)))
            self.bytes_since = 0
            name = f"{self.prefix()}{sseq:012d}.rdb"
            obs = await self.store()
            await obs.put(name, data, meta=ObjectMeta(name=name, description=json.dumps(meta)))
            meta["name"] = name
            known = await self.list()
            keep = [m for _s, _n, m in known if _s < sseq][-(KEEP - 1):] + [meta]
            if rep.kv is not None:
                await rep.kv.put(self._key(), json.dumps(keep).encode())
            self.saves += 1
            self.last_save_time = time.time()
            self.last_sseq = sseq
            # only now is the log before the snapshot no longer needed
            js = rep.nc.jetstream(timeout=5)
            await js.purge_stream(stream_name(rep.shard), seq=sseq + 1)
            names = {m["name"] for m in keep}
            for _s, old, _m in known:
                if old not in names:
                    try:
                        await obs.delete(old)
                    except Exception:  # noqa: BLE001 - an orphan object, harmless
                        pass
            log.info("snapshot %s stored (%d bytes); log purged before record %d", name, len(data), sseq + 1)
            return name
        finally:
            self.busy = False

    def maybe_snapshot(self) -> None:
        if self.should_snapshot():
            asyncio.ensure_future(self._guarded())

    async def _guarded(self) -> None:
        try:
            await self.snapshot()
        except Exception as e:  # noqa: BLE001 - retried when more log arrives
            log.warning("snapshot failed: %s", e)
