"""Tailing the shard stream in order: the replica's (and recovering node's) read side.

A :class:`Follower` owns one ephemeral push consumer on the shard stream (no acks, flow
control, idle heartbeats) that starts at a given stream sequence.  Every stream message
is decoded (:func:`durakv.durability.jetstream.decode`) and handed to ``on_record`` in
stream order together with the number of records still pending after it.  A message
that does not follow the last one (a slow-consumer drop, a consumer lost with its NATS
server) restarts the consumer after the last applied record; a stream whose head was
purged past the next needed record is reported through ``on_gap`` (the caller must load
a snapshot first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ..durability.jetstream import HDR, LogError, Record, decode, stream_name, subject

log = logging.getLogger("durakv.follower")


def _seq_pending(reply: str) -> tuple[int, int]:
    t = reply.split(".")
    if len(t) == 9:  # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
        return int(t[5]), int(t[8])
    # v2: $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>...
    return int(t[7]), int(t[10])


class Follower:
    def __init__(self, nc: NatsClient, shard: int, on_record: Callable[[Record, int], None],
                 on_gap: Callable[[int, int], None] | None = None) -> None:
        self.nc = nc
        self.shard = shard
        self.stream = stream_name(shard)
        self.subject = subject(shard)
        self.on_record = on_record
        self.on_gap = on_gap
        self.applied = 0  # stream sequence of the last record handed over
        self.last_activity = time.monotonic()  # of the last message or heartbeat
        self.running = False
        self._sub: Any = None
        self._consumer: str | None = None
        self._gen = 0
        self._restarting = False
        self.errors = 0

    async def start(self, from_seq: int) -> None:
        """Deliver records from stream sequence ``from_seq`` on."""
        self.applied = from_seq - 1
        self.running = True
        await self._subscribe()

    async def stop(self) -> None:
        self.running = False
        self._gen += 1
        await self._drop()

    async def _drop(self) -> None:
        sub, self._sub = self._sub, None
        consumer, self._consumer = self._consumer, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - connection may be gone
                pass
        if consumer is not None:
            try:
                await self.nc.jetstream(timeout=1).delete_consumer(self.stream, consumer)
            except Exception:  # noqa: BLE001 - ephemeral: it goes away on its own
                pass

    async def _subscribe(self) -> None:
        self._gen += 1
        gen = self._gen
        await self._drop()
        inbox = self.nc.new_inbox()

        async def cb(msg: Msg) -> None:
            if gen == self._gen:
                await self._on_msg(msg)

        sub = await self.nc.subscribe(inbox, cb=cb, pending_msgs_limit=1 << 20, pending_bytes_limit=1 << 30)
        self._sub = sub
        cfg = ConsumerConfig(
            deliver_subject=inbox, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.applied + 1, ack_policy=AckPolicy.NONE, flow_control=True,
            idle_heartbeat=1.0, mem_storage=True, num_replicas=1, inactive_threshold=10.0,
            filter_subject=self.subject, max_deliver=1,
        )
        try:
            info = await self.nc.jetstream(timeout=3).add_consumer(self.stream, config=cfg)
        except BaseException:
            # the server may still create the consumer after our timeout: make sure nothing
            # it delivers is ever used (another consumer replaces it)
            if self._gen == gen:
                self._gen += 1
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001 - connection gone
                pass
            if self._sub is sub:
                self._sub = None
            raise
        self._consumer = info.name
        self.last_activity = time.monotonic()

    async def restart(self) -> None:
        """Recreate the consumer after the last delivered record (lost consumer, gap)."""
        if self._restarting or not self.running:
            return
        self._restarting = True
        try:
            await self._subscribe()
        except Exception as e:  # noqa: BLE001 - retried by the caller's watchdog
            self.errors += 1
            log.warning("cannot recreate the log consumer: %s", e)
        finally:
            self._restarting = False

    async def _on_msg(self, msg: Msg) -> None:
        if not self.running:
            return
        self.last_activity = time.monotonic()
        hdrs = msg.headers
        if hdrs and "Status" in hdrs:  # heartbeat or flow control
            if msg.reply:
                await self.nc.publish(msg.reply)
            else:
                last = hdrs.get("Nats-Last-Stream")
                if last is not None and int(last) > self.applied and not self._restarting:
                    # a heartbeat says the stream went further than what we got: resume
                    asyncio.ensure_future(self.restart())
            return
        if not msg.reply:
            return
        sseq, pending = _seq_pending(msg.reply)
        if sseq <= self.applied:
            return
        if sseq != self.applied + 1:
            log.info("log gap: expected record %d, got %d", self.applied + 1, sseq)
            self._gen += 1  # ignore the rest of this consumer's deliveries
            if self.on_gap is not None:
                # the caller resyncs from a snapshot and starts another follower: this one
                # delivers nothing more, not even after a restart a heartbeat had scheduled
                self.running = False
                self.on_gap(self.applied + 1, sseq)
            else:
                asyncio.ensure_future(self.restart())
            return
        try:
            rec = decode(sseq, hdrs.get(HDR) if hdrs else None, msg.data)
        except LogError as e:
            log.error("%s; skipping it", e)
            self.applied = sseq
            return
        self.applied = sseq
        self.on_record(rec, pending)
