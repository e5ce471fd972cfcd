"""Roles, leases, election, fencing and failover of one node of a shard (DESIGN.md §5).

The shard's JetStream stream is the only source of truth, for data and for leadership:

* A **replica** tails the stream (:class:`~durakv.replication.follower.Follower`) and
  applies data records in order; records are delivered only once JetStream committed
  them, so a replica only ever holds committed data.
* The **primary** appends with ``Nats-Expected-Last-Sequence`` (JetStreamLog).  It renews
  its lease with a ``LEASE`` record every ``lease-ms / 4`` (data records renew it too);
  the lease runs from the send time of the newest acknowledged record.  A primary that
  could not renew for ``lease-ms`` stops serving (``-LOADING``) and becomes a replica.
* A caught-up replica that received no record for a backoff strictly longer than the
  lease (1.2-1.45 × ``lease-ms`` on its own monotonic clock; the primary checks its
  lease every 100 ms) **campaigns**: it appends
  ``ELECT(epoch + 1, itself)`` expecting the last sequence it applied.  At most one
  candidate can append there; it becomes the primary.
* An old primary that returns finds its appends refused (wrong last sequence), fails the
  writes it had not acknowledged, and **resyncs**: it drops its memory, reloads the
  newest snapshot and replays the log, then follows it as a replica.
* **Planned failover** (``FAILOVER``): the primary refuses new writes, waits until its
  records are committed, appends ``ELECT(epoch + 1, target)`` itself and follows the
  log from there; the target promotes itself when it applies that record.

Replicas publish their applied position on core NATS subject ``durakv.s<shard>.pos``
(``WAIT``, ``ROLE``, ``INFO replication`` on the primary); every node keeps its entry in
the ``durakv_cluster`` KV bucket (id, role, endpoint, position, epoch).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import signal
import time
from typing import TYPE_CHECKING, Any

from ..durability.jetstream import (
    CHUNK,
    DATA,
    ELECT,
    EXPECTED,
    HDR,
    LEASE,
    MSG_ID,
    JetStreamLog,
    LogError,
    Record,
    connect,
    encode_header,
    ensure_stream,
    parse_servers,
    stream_name,
    subject,
)
from .follower import Follower

if TYPE_CHECKING:
    from ..node import Node

log = logging.getLogger("durakv.replication")

KV_BUCKET = "durakv_cluster"
PRIMARY, REPLICA, CANDIDATE = "primary", "replica", "candidate"


def kv_key(text: str) -> str:
    return "".join(ch if (ch.isalnum() or ch in "-_") else "_" for ch in text)


class Replication:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.ctx = node.ctx
        cfg = node.config
        self.servers = parse_servers(cfg["log"])
        self.shard = int(cfg["shard"])
        self.lease = cfg["lease-ms"] / 1000.0
        self.renew_every = self.lease / 4
        host = (cfg["replica-announce-ip"] or cfg["bind"].split()[0] or "127.0.0.1").lstrip("-")
        if host in ("0.0.0.0", "*", "::"):
            host = "127.0.0.1"
        self.host = host
        self.port = int(cfg["replica-announce-port"] or cfg["port"])
        self.node_id = cfg["node-id"] or f"{self.host}:{self.port}"
        self.addr = f"{self.host}:{self.port}"
        self.nc: Any = None
        self.log = JetStreamLog(None, self.shard, self.node_id, self.addr, ack_timeout=self.lease)
        self.follower: Follower | None = None
        self.state = REPLICA
        self.epoch = 0
        self.leader_id = ""
        self.leader_addr = ""
        self.applied_sseq = 0
        self.applied_dseq = 0
        self.sync_target = 0  # stream tail when the last (re)sync started
        self.caught_up = False
        self.synced: asyncio.Event | None = None  # set once caught up after a (re)sync
        self.pending = 0  # records after the last applied one (lag)
        self.chunks: list[bytes] = []  # leading pieces of a data record bigger than a message
        self.last_record = time.monotonic()
        self.backoff = self._draw_backoff()
        self.replicas: dict[str, list[Any]] = {}  # id -> [addr, sseq, dseq, last_seen]
        self.waiters: list[Any] = []  # WAIT clients: objects with .target/.num/.done()
        self.failover_state = "no-failover"
        self._failover_task: asyncio.Task | None = None
        self._resync_task: asyncio.Task | None = None
        self._campaign_task: asyncio.Task | None = None
        self._pos_scheduled = False
        self._last_pos = 0.0
        self._last_kv = 0.0
        self._last_lease_sent = 0.0
        self._timer: Any = None
        self.kv: Any = None
        self.promotions = 0
        self.link_down_since = time.monotonic()
        self.snapshots: Any = None  # replication.snapshots.ObjectSnapshots, when available

    def _draw_backoff(self) -> float:
        # strictly longer than the lease, with jitter so that candidates rarely collide
        return self.lease * (1.2 + 0.25 * random.random())

    # -- start ---------------------------------------------------------------------------
    def make_log(self, node: Node) -> JetStreamLog:
        return self.log

    async def recover(self, node: Node) -> None:
        """Called by ``Node.start`` before it listens: connect and start syncing in the background."""
        self.ctx.role = "slave"
        self.ctx.ks.expire_allowed = False
        self.ctx.loading = True
        self._resync_task = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        while True:
            try:
                self.nc = await connect(self.servers, name=f"durakv-{self.node_id}")
                break
            except Exception as e:  # noqa: BLE001 - NATS not up yet
                log.warning("cannot connect to NATS %s: %s; retrying", self.servers, e)
                await asyncio.sleep(0.5)
        self.log.nc = self.nc
        await self.log.start()
        await self.nc.subscribe(f"durakv.s{self.shard}.pos", cb=self._on_pos)
        await self.nc.subscribe(f"durakv.s{self.shard}.ctl", cb=self._on_ctl)
        try:
            from .snapshots import ObjectSnapshots

            self.snapshots = ObjectSnapshots(self)
        except ImportError:
            self.snapshots = None
        self._schedule_tick()
        try:
            signal.signal(signal.SIGCONT, self._on_sigcont)
        except ValueError:  # not the main thread (a node embedded in a test)
            pass
        await self._resync()

    def _on_sigcont(self, signum: int, frame: Any) -> None:
        """The process was stopped and continued: a primary whose lease ran out meanwhile
        stops serving before it handles anything that arrived while it was stopped (the
        Python handler runs before the next callback's code; the tick then steps down)."""
        if self.state == PRIMARY and time.monotonic() - self.log.last_ack_sent > self.lease:
            self.ctx.loading = True

    def _marker(self) -> str:
        from ..durability.setup import data_dir

        return os.path.join(data_dir(self.node.config), f"durakv-log-s{self.shard}.json")

    async def _ensure(self) -> None:
        marker = self._marker()
        while True:
            try:
                await ensure_stream(self.nc, self.shard, may_create=not os.path.exists(marker))
                if not os.path.exists(marker):
                    try:
                        with open(marker, "w") as f:
                            json.dump({"stream": stream_name(self.shard), "servers": self.servers}, f)
                    except OSError as e:
                        log.warning("cannot write %s: %s", marker, e)
                if self.kv is None:
                    js = self.nc.jetstream(timeout=1.5)
                    try:
                        self.kv = await js.key_value(KV_BUCKET)
                    except Exception:  # noqa: BLE001 - not created yet
                        from nats.js.api import KeyValueConfig, StorageType

                        try:
                            self.kv = await js.create_key_value(
                                KeyValueConfig(bucket=KV_BUCKET, replicas=3, storage=StorageType.FILE))
                        except Exception:  # noqa: BLE001 - created concurrently
                            self.kv = await js.key_value(KV_BUCKET)
                return
            except Exception as e:  # noqa: BLE001 - no quorum yet
                log.warning("JetStream not available (%s); retrying", e)
                await asyncio.sleep(0.5)

    async def _resync(self) -> None:
        """Drop memory, load the newest snapshot, replay the log; then follow it."""
        ctx = self.ctx
        ctx.loading = True
        ctx.role = "slave"
        ctx.ks.expire_allowed = False
        self.state = REPLICA
        self.caught_up = False
        if self.follower is not None:
            await self.follower.stop()
            self.follower = None
        while True:
            await self._ensure()
            try:
                ks = ctx.ks
                for db in ks.dbs:
                    db.clear()
                ks.signal_flush(-1)
                ks.modified.clear()
                flush_functions = getattr(ctx.scripting, "flush_functions", None)
                if flush_functions is not None:  # function libraries come back from the log
                    flush_functions()
                self.applied_sseq = self.applied_dseq = 0
                self.chunks = []
                if self.snapshots is not None:
                    meta = await asyncio.wait_for(self.snapshots.load_newest(), 120)
                    if meta is not None:
                        self.applied_sseq = meta["sseq"]
                        self.applied_dseq = meta["dseq"]
                        self.epoch = meta.get("epoch", 0)
                        self.leader_id = meta.get("leader", "")
                        self.leader_addr = meta.get("addr", "")
                info = await self.nc.jetstream(timeout=3).stream_info(stream_name(self.shard))
                if info.state.first_seq > self.applied_sseq + 1 and info.state.messages:
                    raise LogError("the log was purged up to %d and no snapshot covers it" % (info.state.first_seq - 1))
                self.sync_target = info.state.last_seq
                self.synced = asyncio.Event()
                if self.sync_target <= self.applied_sseq:
                    self._set_caught_up()
                fol = Follower(self.nc, self.shard, self._on_record, self._on_gap)
                self.follower = fol
                try:
                    await fol.start(self.applied_sseq + 1)
                except BaseException:
                    await fol.stop()
                    self.follower = None
                    raise
                break
            except Exception as e:  # noqa: BLE001 - retry until the log is readable
                log.warning("resync failed: %s; retrying", e)
                await asyncio.sleep(0.5)
        self.last_record = time.monotonic()
        await self.synced.wait()
        ctx.write_refused = None
        ctx.loading = False
        log.info("synced with the shard log at record %d (data %d)", self.applied_sseq, self.applied_dseq)
        self._publish_kv()

    def _set_caught_up(self) -> None:
        self.caught_up = True
        self.link_down_since = 0.0
        if self.synced is not None and not self.synced.is_set():
            self.synced.set()

    def _on_gap(self, expected: int, got: int) -> None:
        log.warning("log records %d..%d missing; reloading from snapshot", expected, got - 1)
        self._start_resync()

    def _start_resync(self) -> None:
        if self._resync_task is not None and not self._resync_task.done():
            return
        self._resync_task = asyncio.ensure_future(self._resync())

    # -- replica: applying records -------------------------------------------------------
    def _on_record(self, rec: Record, pending: int) -> None:
        if self.state == PRIMARY:
            return
        if rec.sseq != self.applied_sseq + 1:
            # never apply a record twice or out of order, whatever a consumer delivers
            if rec.sseq > self.applied_sseq + 1:
                log.warning("record %d arrived after %d: restarting the consumer", rec.sseq, self.applied_sseq)
                fol = self.follower
                if fol is not None:
                    fol.applied = self.applied_sseq
                    asyncio.ensure_future(fol.restart())
            return
        if rec.kind == DATA:
            if self.applied_dseq and rec.seq != self.applied_dseq + 1:
                log.error("data record %d follows %d", rec.seq, self.applied_dseq)
            payload = rec.payload
            if self.chunks:
                self.chunks.append(payload)
                payload = b"".join(self.chunks)
                self.chunks = []
            self.node.apply_payload(payload)
            self.applied_dseq = rec.seq
            if self.snapshots is not None:
                self.snapshots.bytes_since += len(payload)
        elif rec.kind == CHUNK:
            self.chunks.append(rec.payload)
        else:
            # a leader that failed in the middle of a big record left its chunks behind
            self.chunks = []
            if rec.node:
                self.leader_id = rec.node
                self.leader_addr = rec.addr
        if rec.epoch > self.epoch:
            self.epoch = rec.epoch
        self.applied_sseq = rec.sseq
        self.pending = pending
        self.last_record = time.monotonic()
        if pending == 0 or rec.sseq >= self.sync_target:
            self._set_caught_up()
        if (rec.kind == ELECT and rec.node == self.node_id and pending == 0
                and rec.sseq > self.sync_target and self.state != PRIMARY):
            self._promote(rec.epoch, rec.sseq, time.monotonic() - self.lease / 10)
        if not self._pos_scheduled:
            # at most one position report per 5 ms (WAIT, ROLE on the primary)
            self._pos_scheduled = True
            asyncio.get_running_loop().call_later(0.005, self._send_pos)

    def _send_pos(self) -> None:
        self._pos_scheduled = False
        if self.nc is None or self.state == PRIMARY:
            return
        self._last_pos = time.monotonic()
        msg = f"{self.node_id} {self.addr} {self.applied_sseq} {self.applied_dseq}".encode()
        asyncio.ensure_future(self._pub(f"durakv.s{self.shard}.pos", msg))

    async def _pub(self, subj: str, data: bytes) -> None:
        try:
            await self.nc.publish(subj, data)
        except Exception:  # noqa: BLE001 - best effort
            pass

    async def _on_pos(self, msg: Any) -> None:
        try:
            nid, addr, sseq, dseq = msg.data.decode().split()
        except ValueError:
            return
        if nid == self.node_id:
            return
        self.replicas[nid] = [addr, int(sseq), int(dseq), time.monotonic()]
        if self.waiters:
            self.check_waiters()

    # -- leadership ----------------------------------------------------------------------
    def _promote(self, epoch: int, sseq: int, lease_from: float) -> None:
        if self.state == PRIMARY:
            return
        log.info("elected primary of shard %d at epoch %d (record %d)", self.shard, epoch, sseq)
        self.state = PRIMARY
        self.promotions += 1
        self.chunks = []
        self.epoch = epoch
        self.leader_id = self.node_id
        self.leader_addr = self.addr
        self.applied_sseq = sseq
        fol, self.follower = self.follower, None
        if fol is not None:
            asyncio.ensure_future(fol.stop())
        lg = self.log
        lg.lead(epoch, sseq, self.applied_dseq)
        lg.last_ack_sent = lease_from
        node = self.node
        assert node.loop is not None
        node.attach_log(lg, node.loop.call_soon)
        ctx = self.ctx
        ctx.ks.expire_allowed = True
        ctx.primary_addr = None
        ctx.write_refused = None
        ctx.loading = False
        ctx.role = "master"
        self.replicas.clear()
        self._renew()
        self._publish_kv()

    def _renew(self) -> None:
        self._last_lease_sent = time.monotonic()
        fut = self.log.append_control(LEASE)
        fut.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)

    async def _campaign(self) -> None:
        log.info("no log record for %.2fs: campaigning for epoch %d", time.monotonic() - self.last_record,
                 self.epoch + 1)
        self.state = CANDIDATE
        expected = self.applied_sseq
        epoch = self.epoch + 1
        hdr = encode_header(ELECT, epoch, self.applied_dseq, b"", self.node_id, self.addr)
        headers = {HDR: hdr, EXPECTED: str(expected), MSG_ID: f"{self.node_id}.{epoch}.{expected + 1}"}
        sent = time.monotonic()
        try:
            resp = await self.nc.request(subject(self.shard), b"", timeout=self.lease, headers=headers)
            ack = json.loads(resp.data)
        except Exception as e:  # noqa: BLE001 - no quorum, timeout: campaign again later
            ack = {"error": {"description": str(e) or type(e).__name__}}
        if self.state != CANDIDATE:
            return
        err = ack.get("error")
        if err is None and ack.get("seq") == expected + 1:
            self._promote(epoch, expected + 1, sent)
            return
        log.info("campaign for epoch %d lost: %s", epoch, err)
        self.state = REPLICA
        self.last_record = time.monotonic()
        self.backoff = self._draw_backoff()
        fol = self.follower
        if fol is not None and fol.applied < expected + 1:
            await fol.restart()

    def on_log_failed(self, node: Node) -> None:
        """The log refused or timed out an append (fenced, lease lost): step down and resync."""
        if self.state != PRIMARY:
            return
        log.warning("stepping down as primary of shard %d: %s", self.shard, self.ctx.write_refused)
        lg = self.log
        tracker = self.ctx.tracker
        # memory holds exactly the committed log when no write is pending or unacknowledged
        clean = (tracker is not None and not tracker.has_pending and lg.data_committed == lg.data_last
                 and not lg.in_flight)
        lg.step_down()
        self._fresh_tracker()
        self.state = REPLICA
        self.ctx.role = "slave"
        self.ctx.ks.expire_allowed = False
        self.failover_state = "no-failover"
        self.fail_waiters()
        if clean and self.nc is not None:
            log.info("memory matches the log up to record %d: following it without a resync", lg.stream_committed)
            self._follow_from(lg.stream_committed, lg.data_committed)
            return
        self.ctx.loading = True
        self._start_resync()

    def _follow_from(self, sseq: int, dseq: int) -> None:
        """Become a replica whose memory is the log up to ``sseq`` (no reload)."""
        self.applied_sseq = sseq
        self.applied_dseq = dseq
        self.chunks = []
        self.caught_up = False
        self.last_record = time.monotonic()
        self.backoff = self._draw_backoff()
        self.sync_target = sseq
        self.ctx.write_refused = None
        # no reads until caught up: a newer primary may have moved on meanwhile
        self.ctx.loading = True
        self.synced = asyncio.Event()
        fol = Follower(self.nc, self.shard, self._on_record, self._on_gap)
        self.follower = fol  # set at once: the tick must not start a resync meanwhile
        asyncio.ensure_future(self._start_follower(fol, sseq))

    async def _start_follower(self, fol: Follower, sseq: int) -> None:
        synced = self.synced
        assert synced is not None
        try:
            await fol.start(sseq + 1)
            while True:
                try:
                    info = await self.nc.jetstream(timeout=2).stream_info(stream_name(self.shard))
                    break
                except Exception:  # noqa: BLE001 - no quorum yet: the tail is unknown
                    if self.follower is not fol:
                        return
                    await asyncio.sleep(0.5)
        except Exception as e:  # noqa: BLE001 - the tick resyncs a replica without a follower
            log.warning("cannot follow the log: %s", e)
            await fol.stop()
            if self.follower is fol:
                self.follower = None
            return
        self.sync_target = max(sseq, info.state.last_seq)
        if self.applied_sseq >= self.sync_target:
            self._set_caught_up()
        await synced.wait()
        if self.follower is fol and self.state == REPLICA:
            self.ctx.loading = False
            self._publish_kv()

    def _fresh_tracker(self) -> None:
        """Forget the old term's pending batches: reads must not wait for records that
        will never commit."""
        node = self.node
        if node.loop is not None:
            node.attach_log(self.log, node.loop.call_soon)

    def request_promotion(self) -> None:
        """REPLICAOF NO ONE on a replica: ask the primary to hand the shard over to us."""
        if self.nc is not None:
            asyncio.ensure_future(self._pub(f"durakv.s{self.shard}.ctl", f"handover {self.node_id}".encode()))

    async def _on_ctl(self, msg: Any) -> None:
        parts = msg.data.decode(errors="replace").split()
        if (len(parts) == 2 and parts[0] == "handover" and self.state == PRIMARY
                and self.failover_state == "no-failover" and parts[1] in self.live_replicas()):
            log.info("%s asked for the primary role (REPLICAOF NO ONE)", parts[1])
            self.start_failover(parts[1], 0, False)

    # -- planned failover ----------------------------------------------------------------
    def start_failover(self, target: str | None, timeout_ms: int, force: bool) -> None:
        self.failover_state = "waiting-for-sync"
        self._failover_task = asyncio.ensure_future(self._failover(target, timeout_ms, force))

    def abort_failover(self) -> None:
        t = self._failover_task
        if t is not None and not t.done():
            t.cancel()
        self._failover_task = None
        self.failover_state = "no-failover"
        if self.state == PRIMARY:
            self.ctx.role = "master"
            self.ctx.ks.expire_allowed = True

    def pick_target(self) -> tuple[str, str] | None:
        live = self.live_replicas()
        if not live:
            return None
        nid, ent = max(live.items(), key=lambda kv: (kv[1][2], kv[1][1]))
        return nid, ent[0]

    async def _failover(self, target: str | None, timeout_ms: int, force: bool) -> None:
        ctx = self.ctx
        try:
            ctx.role = "slave"  # new writes get -READONLY from now on
            ctx.ks.expire_allowed = False  # and no DEL from expiry either
            tracker = ctx.tracker
            if tracker is not None:
                tracker.flush()
            deadline = time.monotonic() + (timeout_ms / 1000 if timeout_ms else 3600)
            lg = self.log
            while lg.in_flight and time.monotonic() < deadline and self.state == PRIMARY:
                await asyncio.sleep(0.005)
            if self.state != PRIMARY or lg.in_flight:
                raise LogError("records still in flight")
            pick = None
            live = self.live_replicas()
            if target is not None:
                for nid, ent in live.items():
                    if ent[0] == target or nid == target:
                        pick = (nid, ent[0])
            else:
                pick = self.pick_target()
            if pick is None:
                raise LogError("no replica to hand over to")
            # wait for the target to apply everything (Redis: the replica reaches the offset);
            # after TIMEOUT the failover is aborted, unless FORCE
            while self.replicas.get(pick[0], [0, 0, 0])[2] < lg.data_last:
                if time.monotonic() >= deadline:
                    if not force:
                        raise LogError("the target did not catch up before the timeout")
                    break
                await asyncio.sleep(0.005)
            self.failover_state = "failover-in-progress"
            epoch = self.epoch + 1
            fut = lg.append_control(ELECT, node=pick[0], addr=pick[1], epoch=epoch)
            sseq = await fut
            log.info("handed shard %d over to %s (epoch %d, record %d)", self.shard, pick[0], epoch, sseq)
            lg.step_down()
            self._fresh_tracker()
            self.state = REPLICA
            self.epoch = epoch
            self.leader_id, self.leader_addr = pick
            self.applied_sseq = sseq
            self.applied_dseq = lg.data_last
            self.sync_target = sseq
            self.caught_up = True
            self.last_record = time.monotonic()
            self.backoff = self._draw_backoff()
            ctx.ks.expire_allowed = False
            self.fail_waiters()
            fol = Follower(self.nc, self.shard, self._on_record, self._on_gap)
            self.follower = fol
            await fol.start(sseq + 1)
            self._publish_kv()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the failover is abandoned
            log.warning("failover abandoned: %s", e)
            if self.state == PRIMARY:
                ctx.role = "master"
                ctx.ks.expire_allowed = True
        finally:
            self.failover_state = "no-failover"

    # -- periodic ------------------------------------------------------------------------
    def _schedule_tick(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(min(0.1, self.lease / 10), self._tick)

    def _tick(self) -> None:
        try:
            self.tick()
        except Exception:  # noqa: BLE001 - a bug here must not stop the timer
            log.exception("replication tick failed")
        self._schedule_tick()

    def tick(self) -> None:
        now = time.monotonic()
        if self.state == PRIMARY:
            lg = self.log
            lg.check(now)
            if self.state != PRIMARY:
                return
            if now - lg.last_ack_sent > self.lease:
                lg._fail(LogError("lease expired: no append acknowledged for %.1fs" % (now - lg.last_ack_sent)), 0)
                return
            if now - self._last_lease_sent >= self.renew_every and lg.leading:
                self._renew()
            tracker = self.ctx.tracker
            if tracker is not None:
                # snapshots of a JetStream shard are taken by a replica (snapshots.py), never
                # by the serving primary's automatic local snapshot
                tracker.bytes_since_snapshot = 0
            for nid in [n for n, e in self.replicas.items() if now - e[3] > 10 * self.lease + 5]:
                del self.replicas[nid]
        elif self.state == REPLICA:
            fol = self.follower
            if fol is None:
                self._start_resync()  # (not while one runs: _start_resync checks)
                return
            if now - fol.last_activity > 3.0:
                # no record and no heartbeat for 3 s: the consumer is gone (NATS server lost)
                fol.last_activity = now
                if self.link_down_since == 0.0 and not self.ctx.loading:
                    self.link_down_since = now
                asyncio.ensure_future(fol.restart())
            if self.ctx.loading:
                return
            if (self.caught_up and now - self.last_record > self.backoff
                    and self.node.config["replica-priority"] != 0 and self.nc is not None):
                self._campaign_task = asyncio.ensure_future(self._campaign())
            if now - self._last_pos > 1.0:
                self._send_pos()
            if self.snapshots is not None:
                self.snapshots.maybe_snapshot()
        if now - self._last_kv > 5.0:
            self._publish_kv()

    # -- cluster metadata ----------------------------------------------------------------
    def _publish_kv(self) -> None:
        self._last_kv = time.monotonic()
        if self.kv is None:
            return
        doc = {
            "id": self.node_id, "shard": self.shard, "host": self.host, "port": self.port,
            "role": "master" if self.state == PRIMARY else "slave", "epoch": self.epoch,
            "seq": self.position(), "pid": os.getpid(), "leader": self.leader_id,
        }
        data = json.dumps(doc).encode()

        async def put() -> None:
            try:
                await self.kv.put(f"shard.{self.shard}.node.{kv_key(self.node_id)}", data)
                if self.state == PRIMARY:
                    await self.kv.put(f"shard.{self.shard}.primary", data)
            except Exception:  # noqa: BLE001 - best effort, retried on the next tick
                pass

        asyncio.ensure_future(put())

    # -- introspection (ROLE, INFO, WAIT) ------------------------------------------------
    def position(self) -> int:
        return self.log.stream_last if self.state == PRIMARY else self.applied_sseq

    def live_replicas(self) -> dict[str, list[Any]]:
        now = time.monotonic()
        return {n: e for n, e in self.replicas.items() if now - e[3] < 3 * self.lease + 2}

    def primary_endpoint(self) -> tuple[str, int]:
        if not self.leader_addr:
            return "", 0
        h, _, p = self.leader_addr.rpartition(":")
        try:
            return h, int(p)
        except ValueError:
            return h, 0

    def link_state(self) -> str:
        if self.ctx.loading or not self.caught_up:
            return "sync"
        if self.link_down_since:
            return "connect"
        return "connected"

    def count_acks(self, target_dseq: int) -> int:
        return sum(1 for e in self.live_replicas().values() if e[2] >= target_dseq)

    def check_waiters(self) -> None:
        for w in list(self.waiters):
            n = self.count_acks(w.target)
            if n >= w.num:
                w.done(n)

    def fail_waiters(self) -> None:
        for w in list(self.waiters):
            w.done(self.count_acks(w.target))

    def replid(self) -> str:
        return hashlib.sha1(f"{stream_name(self.shard)}:{self.epoch}".encode()).hexdigest()

    def replid2(self) -> str:
        if self.epoch <= 1:
            return "0" * 40
        return hashlib.sha1(f"{stream_name(self.shard)}:{self.epoch - 1}".encode()).hexdigest()

    def info(self) -> list[tuple[str, Any]]:
        now = time.monotonic()
        out: list[tuple[str, Any]] = []
        if self.state == PRIMARY:
            live = self.live_replicas()
            out += [("role", "master"), ("connected_slaves", len(live))]
            for i, (_nid, e) in enumerate(sorted(live.items())):
                h, _, p = e[0].rpartition(":")
                out.append((f"slave{i}", f"ip={h},port={p},state=online,offset={e[1]},lag={int(now - e[3])}"))
        else:
            h, p = self.primary_endpoint()
            up = self.link_state() == "connected"
            out += [
                ("role", "slave"), ("master_host", h), ("master_port", p),
                ("master_link_status", "up" if up else "down"),
                ("master_last_io_seconds_ago", int(now - self.last_record) if up else -1),
                ("master_sync_in_progress", 1 if self.ctx.loading else 0),
                ("slave_read_repl_offset", self.applied_sseq),
                ("slave_repl_offset", self.applied_sseq),
            ]
            if not up:
                down = self.link_down_since or now
                out.append(("master_link_down_since_seconds", int(now - down) if self.link_down_since else -1))
            out += [
                ("slave_priority", self.node.config["replica-priority"]),
                ("slave_read_only", 1),
                ("replica_announced", 1),
                ("connected_slaves", 0),
            ]
        pos = self.position()
        out += [
            ("master_failover_state", self.failover_state),
            ("master_replid", self.replid()),
            ("master_replid2", self.replid2()),
            ("master_repl_offset", pos),
            ("second_repl_offset", -1),
            ("repl_backlog_active", 1),
            ("repl_backlog_size", 1048576),
            ("repl_backlog_first_byte_offset", 1),
            ("repl_backlog_histlen", pos),
            # durakv: the shard log
            ("log_shard", self.shard),
            ("log_node_id", self.node_id),
            ("log_epoch", self.epoch),
            ("log_leader", self.leader_id),
            ("log_applied_data_seq", self.applied_dseq if self.state != PRIMARY else self.log.data_last),
            ("log_lag", self.pending if self.state != PRIMARY else 0),
            ("log_promotions", self.promotions),
        ]
        return out
