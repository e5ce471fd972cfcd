"""JetStreamLog: a shard's log as a replicated NATS JetStream stream (DESIGN.md §4, §5).

Layout in JetStream (names from :func:`stream_name` / :func:`subject`):

* stream ``DURAKV_S<shard>``, subject ``durakv.s<shard>.log``, ``num_replicas=3``, file
  storage, placed by the NATS servers over the three zones;
* one stream message per log record.

Byte format of a record (one NATS message):

* payload: the batch of effects exactly as the commit tracker builds it (RESP arrays,
  each run of effects preceded by ``SELECT <db>``); empty for control records;
* header ``Dk``: ``"<version> <kind> <epoch> <seq> <crc32c> [<node> <host:port>]"`` —
  version ``1``; kind ``d`` (data), ``c`` (chunk: a leading piece of the next data record,
  for records bigger than a NATS message), ``l`` (lease renewal) or ``e`` (election); ``epoch``
  the leader's epoch; ``seq`` the *data sequence* (the commit tracker's sequence: data
  records only, consecutive) of the last data record at or before this one; ``crc32c``
  of the payload in hex; control records add the node id and the client address of the
  leader they name;
* header ``Nats-Expected-Last-Sequence``: the stream sequence this record must follow
  (fencing: only the node that holds the end of the stream can append);
* header ``Nats-Msg-Id``: ``<node>.<epoch>.<stream seq>``, so that a publish whose ack was
  lost can be sent again safely (JetStream deduplicates it).

Two sequence spaces: the *stream sequence* counts every record; the *data sequence*
(``Log`` sequence, what ``append`` returns and ``on_durable`` reports) counts data
records only.  Appends are pipelined: ``append`` publishes at once and returns; the
PubAck of stream sequence ``s`` commits every record up to ``s`` (the expected-sequence
chain makes them consecutive), and ``on_durable`` then reports the highest data
sequence among them.  An error ack (wrong last sequence = another node was elected, no
quorum, ...) or an ack that does not arrive within ``ack_timeout`` (the lease: a replica may campaign
once it has waited that long after the record) is ``on_failure``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import crc32c
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from .log import Log, LogError

log = logging.getLogger("durakv.jetstream")

FORMAT_VERSION = "1"
DATA, LEASE, ELECT, CHUNK = "d", "l", "e", "c"
HDR = "Dk"
EXPECTED = "Nats-Expected-Last-Sequence"
MSG_ID = "Nats-Msg-Id"
WRONG_LAST_SEQ = 10071
DUPLICATE_IN_PROCESS = 10158


def stream_name(shard: int) -> str:
    return f"DURAKV_S{shard}"


def subject(shard: int) -> str:
    return f"durakv.s{shard}.log"


def parse_servers(url: str) -> list[str]:
    """``nats://h:p,h:p`` or ``nats://h:p,nats://h:p`` -> a list of server URLs."""
    out = []
    for part in url.split(","):
        part = part.strip()
        if not part:
            continue
        if "://" not in part:
            part = "nats://" + part
        out.append(part)
    return out


@dataclass(slots=True)
class Record:
    """One decoded stream message."""

    sseq: int  # stream sequence
    kind: str  # DATA, LEASE, ELECT
    epoch: int
    seq: int  # data sequence (of this record when kind is DATA)
    payload: bytes
    node: str = ""
    addr: str = ""


def encode_header(kind: str, epoch: int, seq: int, payload: bytes, node: str = "", addr: str = "") -> str:
    h = f"{FORMAT_VERSION} {kind} {epoch} {seq} {crc32c.crc32c(payload):08x}"
    if node:
        h += f" {node} {addr or '-'}"
    return h


def decode(sseq: int, header: str | None, payload: bytes) -> Record:
    """Decode a stream message; raises ``LogError`` on a foreign or damaged record."""
    if not header:
        raise LogError(f"stream record {sseq} has no durakv header")
    parts = header.split()
    if len(parts) < 5 or parts[0] != FORMAT_VERSION:
        raise LogError(f"stream record {sseq}: unknown format {header!r}")
    if int(parts[4], 16) != crc32c.crc32c(payload):
        raise LogError(f"stream record {sseq}: CRC mismatch")
    rec = Record(sseq, parts[1], int(parts[2]), int(parts[3]), payload)
    if len(parts) >= 7:
        rec.node = parts[5]
        rec.addr = "" if parts[6] == "-" else parts[6]
    return rec


async def connect(servers: list[str], name: str = "durakv", **kw: Any) -> NatsClient:
    """A NATS connection that keeps reconnecting (to any of ``servers``) forever."""

    async def _err(e: Exception) -> None:
        log.debug("nats: %s", e)

    return await nats.connect(
        servers, name=name, allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=0.1,
        connect_timeout=1, ping_interval=1, max_outstanding_pings=2, error_cb=_err, **kw,
    )


async def ensure_stream(nc: NatsClient, shard: int, replicas: int = 3, timeout: float = 5.0,
                        may_create: bool = True) -> None:
    """Create the shard's stream if it does not exist (replicas=3, file storage).

    A node that has seen the stream before passes ``may_create=False``: a JetStream
    cluster that is still recovering can answer "not found" for a stream it holds, and
    creating an empty one then would hide the whole log.
    """
    js = nc.jetstream(timeout=timeout)
    name = stream_name(shard)
    try:
        await js.stream_info(name)
        return
    except nats.js.errors.NotFoundError:
        if not may_create:
            raise LogError(f"stream {name} not found (JetStream still recovering?)") from None
    cfg = StreamConfig(
        name=name, subjects=[subject(shard)], num_replicas=replicas, storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS, allow_direct=True, duplicate_window=120.0,
    )
    try:
        await js.add_stream(cfg)
    except nats.js.errors.BadRequestError as e:  # created concurrently by another node
        if "already in use" not in str(e):
            raise


class _Pending:
    __slots__ = ("sseq", "dseq", "data", "headers", "sent", "first_sent", "fut")

    def __init__(self, sseq: int, dseq: int, data: bytes, headers: dict[str, str], sent: float,
                 fut: asyncio.Future | None) -> None:
        self.sseq = sseq
        self.dseq = dseq
        self.data = data
        self.headers = headers
        self.sent = sent
        self.first_sent = sent
        self.fut = fut


class JetStreamLog(Log):
    """The leader's side of the shard log: pipelined, fenced appends.

    The log is usable for appends only while this node leads (:meth:`lead`); otherwise
    ``append`` raises :class:`LogError`.  Replicas read the stream with
    :class:`durakv.replication.follower.Follower`.
    """

    def __init__(self, nc: NatsClient | None, shard: int, node_id: str, addr: str,
                 ack_timeout: float = 5.0, retry_after: float = 0.5) -> None:
        super().__init__()
        self.nc = nc
        self.shard = shard
        self.node_id = node_id
        self.addr = addr
        self.subject = subject(shard)
        self.stream = stream_name(shard)
        self.ack_timeout = ack_timeout
        self.retry_after = retry_after
        self.leading = False
        self.epoch = 0
        self.stream_last = 0  # stream sequence of the last record published (pending or not)
        self.stream_committed = 0  # highest stream sequence acknowledged
        self.data_last = 0  # data sequence of the last data record published
        self.data_committed = 0
        self.first = 1
        self.last_ack_sent = 0.0  # monotonic send time of the newest acknowledged record
        self.last_publish = 0.0
        self._pending: deque[_Pending] = deque()
        self._by_sseq: dict[int, _Pending] = {}
        self._inbox = ""
        self._term = 0  # bumped by every lead(): acks of an earlier term are ignored
        self._sub: Any = None
        self._failed = False
        self.on_committed: Callable[[int, int], None] | None = None  # (stream seq, data seq)
        self.appends = 0

    # -- setup -----------------------------------------------------------------------------
    async def start(self) -> None:
        assert self.nc is not None
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self._inbox + ".*", cb=self._on_ack)

    def lead(self, epoch: int, stream_last: int, data_last: int) -> None:
        """Start appending as the leader of ``epoch`` after stream record ``stream_last``."""
        self.leading = True
        self._failed = False
        self._term += 1
        self.epoch = epoch
        self.stream_last = self.stream_committed = stream_last
        self.data_last = self.data_committed = data_last
        now = time.monotonic()
        self.last_ack_sent = now
        self.last_publish = now

    def step_down(self) -> None:
        self.leading = False
        for p in self._pending:
            if p.fut is not None and not p.fut.done():
                p.fut.set_exception(LogError("stepped down"))
        self._pending.clear()
        self._by_sseq.clear()

    # -- Log interface ---------------------------------------------------------------------
    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        if not self.leading or self._failed:
            raise LogError("this node does not lead the shard log")
        self.data_last += 1
        dseq = self.data_last
        limit = self.chunk_size()
        if len(payload) > limit:
            # bigger than a NATS message: CHUNK records, then the DATA record with the tail
            view = memoryview(payload)
            end = len(payload) - limit
            for off in range(0, end, limit):
                part = bytes(view[off:min(off + limit, end)])
                self._publish(encode_header(CHUNK, self.epoch, dseq - 1, part), part, 0, None)
            payload = bytes(view[end:])
        self._publish(encode_header(DATA, self.epoch, dseq, payload), payload, dseq, None)
        return dseq

    def chunk_size(self) -> int:
        nc = self.nc
        mp = nc.max_payload if nc is not None else 1024 * 1024
        return max(64 * 1024, mp - 16 * 1024)

    def append_control(self, kind: str, node: str | None = None, addr: str | None = None,
                       epoch: int | None = None) -> asyncio.Future:
        """Append a lease renewal, or an election record naming ``node`` (planned failover).

        The future gets the record's stream sequence once it is committed.
        """
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        if not self.leading or self._failed:
            fut.set_exception(LogError("this node does not lead the shard log"))
            return fut
        hdr = encode_header(kind, self.epoch if epoch is None else epoch, self.data_last, b"",
                            node or self.node_id, self.addr if node is None else (addr or "-"))
        self._publish(hdr, b"", 0, fut)
        if kind == ELECT and node is not None and node != self.node_id:
            # handing over: nothing of ours may follow this record (its ack still counts)
            self.leading = False
        return fut

    def last_seq(self) -> int:
        return self.data_last

    def first_seq(self) -> int:
        return self.first

    def read(self, from_seq: int) -> Iterator[tuple[int, bytes]]:
        raise NotImplementedError("the JetStream log is read asynchronously (replication.follower)")

    def truncate_before(self, seq: int) -> None:
        """Purging is done by stream sequence after a snapshot (:func:`purge_before`)."""

    def close(self) -> None:
        self.step_down()
        # the node's loop closes next with the NATS client's tasks still pending: nothing
        # is lost (every acknowledged record is in the stream), so keep the log quiet
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    # -- publishing ------------------------------------------------------------------------
    def _publish(self, hdr: str, payload: bytes, dseq: int, fut: asyncio.Future | None) -> None:
        self.stream_last += 1
        sseq = self.stream_last
        headers = {
            HDR: hdr,
            EXPECTED: str(sseq - 1),
            MSG_ID: f"{self.node_id}.{self.epoch}.{sseq}",
        }
        now = time.monotonic()
        p = _Pending(sseq, dseq, payload, headers, now, fut)
        self._pending.append(p)
        self._by_sseq[sseq] = p
        self.last_publish = now
        self.appends += 1
        asyncio.ensure_future(self._send(sseq, payload, headers, self._term))

    async def _send(self, sseq: int, payload: bytes, headers: dict[str, str], term: int) -> None:
        nc = self.nc
        if nc is None or term != self._term or sseq not in self._by_sseq:
            return  # abandoned (stepped down) or already acknowledged
        try:
            await nc.publish(self.subject, payload, reply=f"{self._inbox}.{term}-{sseq}", headers=headers)
        except Exception as e:  # noqa: BLE001 - retried by check()
            log.warning("publish of record %d failed: %s", sseq, e)

    async def _on_ack(self, msg: Msg) -> None:
        try:
            term, _, seq = msg.subject.rsplit(".", 1)[1].partition("-")
            sseq = int(seq)
        except ValueError:
            return
        if int(term) != self._term:
            return  # the answer to a record of an earlier term of ours
        if sseq not in self._by_sseq:
            return
        try:
            ack = json.loads(msg.data)
        except ValueError:
            ack = {"error": {"description": "bad ack %r" % msg.data[:100]}}
        if msg.headers and msg.headers.get("Status") == "503":
            # no stream leader right now (JetStream electing one): send it again soon; the
            # lease (ack_timeout) still bounds how long we keep trying
            p = self._by_sseq[sseq]
            p.sent = min(p.sent, time.monotonic() - self.retry_after + 0.1)
            return
        err = ack.get("error")
        if err is not None:
            code = err.get("err_code", 0)
            if code == DUPLICATE_IN_PROCESS:
                return  # the first copy is still being stored: its ack comes
            p = self._by_sseq[sseq]
            if code == WRONG_LAST_SEQ and p.sent != p.first_sent:
                # a record we sent again (lost ack): its first copy may be the one stored
                asyncio.ensure_future(self._verify(p, err))
                return
            self._fail(LogError("append refused: %s" % err.get("description", err)), code)
            return
        got = int(ack.get("seq", 0))
        if got != sseq:
            self._fail(LogError(f"stream stored record {sseq} as {got}"), 0)
            return
        p = self._by_sseq[sseq]
        if time.monotonic() - p.first_sent > self.ack_timeout:
            # a replica may have waited out our lease since it got this record and been
            # elected: acknowledging now could answer after a new primary took over
            self._fail(LogError("lease expired: record %d acknowledged too late" % sseq), 0)
            return
        self._committed(sseq)

    async def _verify(self, p: _Pending, err: dict[str, Any]) -> None:
        """Is the record stored at ``p.sseq`` ours (same message id)?  Then it committed."""
        assert self.nc is not None
        try:
            m = await self.nc.jetstream(timeout=self.ack_timeout).get_msg(self.stream, p.sseq, direct=True)
            ours = bool(m.headers) and m.headers.get(MSG_ID) == p.headers[MSG_ID]
        except Exception as e:  # noqa: BLE001 - cannot tell: treat as refused
            log.warning("cannot check record %d: %s", p.sseq, e)
            ours = False
        if self._failed or p.sseq <= self.stream_committed:
            return
        if not ours:
            self._fail(LogError("append refused: %s" % err.get("description", err)), WRONG_LAST_SEQ)
        elif time.monotonic() - p.first_sent > self.ack_timeout:
            self._fail(LogError("lease expired: record %d acknowledged too late" % p.sseq), 0)
        else:
            self._committed(p.sseq)

    def _committed(self, sseq: int) -> None:
        if sseq <= self.stream_committed:
            return
        pending = self._pending
        dseq = 0
        sent = 0.0
        while pending and pending[0].sseq <= sseq:
            p = pending.popleft()
            del self._by_sseq[p.sseq]
            if p.dseq:
                dseq = p.dseq
            sent = p.first_sent
            if p.fut is not None and not p.fut.done():
                p.fut.set_result(p.sseq)
        self.stream_committed = sseq
        if sent > self.last_ack_sent:
            self.last_ack_sent = sent
        if dseq:
            self.data_committed = dseq
            self.on_durable(dseq)
        if self.on_committed is not None:
            self.on_committed(sseq, self.data_committed)

    def _fail(self, exc: LogError, code: int) -> None:
        if self._failed:
            return
        self._failed = True
        self.leading = False
        exc.code = code  # type: ignore[attr-defined]
        for p in self._pending:
            if p.fut is not None and not p.fut.done():
                p.fut.set_exception(exc)
        self._pending.clear()
        self._by_sseq.clear()
        self.on_failure(exc)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def check(self, now: float | None = None) -> None:
        """Periodic: resend unacknowledged records, fail after ``ack_timeout``."""
        if not self._pending or self._failed:
            return
        now = time.monotonic() if now is None else now
        first = self._pending[0]
        if now - first.first_sent > self.ack_timeout:
            self._fail(LogError("no acknowledgement from JetStream within %.1fs" % self.ack_timeout), 0)
            return
        for p in self._pending:
            if now - p.sent < self.retry_after:
                break
            p.sent = now
            asyncio.ensure_future(self._send(p.sseq, p.data, p.headers, self._term))
