"""The commit tracker: group commit of effects and holding replies until they are durable.

Every write's effects go into the *open batch*; the first effect of an event-loop pass
schedules :meth:`CommitTracker.flush` for the end of the pass, which appends the batch as
one log record (so a MULTI/EXEC or a script, which run within one pass, never straddles
two records).  The batch gets sequence ``batch_seq``; writes and reads of the keys it
modified must not be answered before ``committed >= batch_seq``.

Payload of a record: the effects as RESP arrays, each run of effects on one database
preceded by ``SELECT <db>`` (the first effect of every record is a SELECT, so a record
can be applied on its own).  As in Redis's replication stream, the effects of one
command that come to more than one (an EXEC, a script, an XREADGROUP) are wrapped in
MULTI ... EXEC: a Redis replica of this node applies them atomically.  (A record is
applied whole anyway; replay skips the two markers.)

Connections that hold replies register with :meth:`add_waiter`; on every commit the
tracker calls their ``release()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..protocol.resp import encode_command
from ..spec import CommandSpec
from .log import Log

_MULTI = b"*1\r\n$5\r\nMULTI\r\n"
_EXEC = b"*1\r\n$4\r\nEXEC\r\n"
_SELECT_HEAD = b"*2\r\n$6\r\nSELECT\r\n"


def select_command(db: int) -> bytes:
    """SELECT as a record says it (the head of every record, and at each database change)."""
    return b"%s$%d\r\n%d\r\n" % (_SELECT_HEAD, len(str(db)), db)


class CommitTracker:
    """Group commit and the per-key marks that make reads wait for pending records.

    ``dirty`` maps (db, key) to the sequence of the newest batch that wrote the key.
    Entries are not removed on commit (that would cost a pass over the keys of every
    record); a mark at or below ``committed`` simply no longer delays anything, and the
    map is pruned when it grows large.
    """

    _PRUNE_AT = 8192

    def __init__(self, log: Log, call_soon: Callable[[Callable[[], None]], Any]) -> None:
        self.log = log
        self.call_soon = call_soon
        self.committed = log.last_seq()
        self.appended = self.committed
        self.batch_seq = self.committed + 1
        self._parts: list[bytes | list[bytes]] = []  # encoded effects, or write_one's argvs
        self._db = -1
        self.record_db = -1
        self._orphans: list[tuple[int, bytes | None]] = []  # keys marked without effects
        self._scheduled = False
        self.dirty: dict[tuple[int, bytes | None], int] = {}
        self._prune_at = self._PRUNE_AT
        self.barrier = 0  # reads of anything wait for this sequence (FLUSHALL, SWAPDB ...)
        self.has_pending = False
        self.waiters: set[Any] = set()
        self.failed: Exception | None = None
        self.on_failed: Callable[[Exception], None] = lambda exc: None
        self.on_record: Callable[[int, bytes], None] | None = None  # observers (MONITOR, tests)
        self.bytes_since_snapshot = 0
        self._group_depth = 0  # inside begin_group/end_group (EXEC, a script)
        self._appending = False  # inside log.append (see flush)
        self._release_after_append = False
        log.on_durable = self._on_durable
        log.on_failure = self._on_failure

    # -- building the open batch ---------------------------------------------------------
    def add_effect(self, dbid: int, argv: list[bytes] | bytes) -> None:
        """One effect into the open batch: an argv, or a command already RESP-encoded."""
        if dbid != self._db:
            self._parts.append(select_command(dbid))
            self._db = dbid
        self._parts.append(argv if type(argv) is bytes else encode_command(argv))
        self._schedule()

    def _mark(self, keys: list[tuple[int, bytes | None]], seq: int) -> None:
        dirty = self.dirty
        for k in keys:
            dirty[k] = seq
            if k[1] is None:  # EVERYTHING: a flush-like change
                self.barrier = seq

    def write(
        self, effects: list[tuple[int, list[bytes] | bytes]] | None, keys: list[tuple[int, bytes | None]]
    ) -> int:
        """Add a command's effects and modified keys to the open batch; return its seq."""
        if effects:
            group = self.begin_group() if len(effects) > 1 else None  # (a no-op when nested)
            for dbid, argv in effects:
                self.add_effect(dbid, argv)
            if group is not None:
                self.end_group(group)
        elif keys:
            if not self._parts:
                # nothing is in the open batch, so no record of it may ever come: the
                # command's effects (if any) left with the last appended record (a flush
                # during the command), and that record is what it and its keys wait for
                seq = self.appended
                if seq <= self.committed:
                    return 0
                self._mark(keys, seq)
                self.has_pending = True
                return seq
            # keys without effects while the open batch holds others' effects: the
            # batch's record comes; a flush resolves the marks (see flush)
            self._orphans.extend(keys)
            self._schedule()
        if not (keys or effects):
            return 0
        seq = self.batch_seq
        if keys:
            self._mark(keys, seq)
            self.has_pending = True
        return seq

    def begin_group(self) -> tuple[list[Any], int]:
        """The effects from here to :meth:`end_group` belong to one command (EXEC, a
        script): more than one of them are wrapped in MULTI ... EXEC."""
        self._group_depth += 1
        return self._parts, len(self._parts)

    def end_group(self, group: tuple[list[Any], int]) -> None:
        self._group_depth -= 1
        parts, start = group
        if len(parts) - start < 2 or self._group_depth or parts is not self._parts:
            return  # at most one effect, nested, or flushed meanwhile
        n = 0
        for p in parts[start:]:
            if type(p) is not bytes or not p.startswith(_SELECT_HEAD):
                n += 1
                if n > 1:
                    # Redis 7.0 selects the first command's database before the MULTI
                    first = parts[start]
                    if type(first) is bytes and first.startswith(_SELECT_HEAD):
                        start += 1
                    parts.insert(start, _MULTI)
                    parts.append(_EXEC)
                    return

    def write_one(self, dbid: int, argv: list[bytes], keys: list[tuple[int, bytes | None]]) -> int:
        """:meth:`write` for the common case of one command logged as itself."""
        return self.write_many(dbid, [argv], keys)

    def write_many(self, dbid: int, argvs: list[list[bytes] | bytes], keys: list[tuple[int, bytes | None]]) -> int:
        """:meth:`write` for commands in a row logged as themselves (or each as its one
        effect, already encoded): a connection's plain writes of one read.

        The argvs go into the batch as they are; :meth:`use_raw` may replace a run of them
        with the bytes the client sent, and :meth:`flush` encodes whatever is left.
        """
        parts = self._parts
        if dbid != self._db:
            parts.append(select_command(dbid))
            self._db = dbid
        parts += argvs
        if not self._scheduled:
            self._scheduled = True
            self.call_soon(self.flush)
        seq = self.batch_seq
        self._mark(keys, seq)
        self.has_pending = True
        return seq

    def use_raw(self, cmds: list[list[bytes]], raw: bytes) -> None:
        """``cmds`` came in as ``raw``: if the batch ends with exactly them, log ``raw``.

        True when every command of a client's read was a write logged as itself (a
        pipeline of SETs, say); this spares encoding each again.
        """
        # Equal content is enough: the swap then leaves the payload byte for byte the same
        n = len(cmds)
        if n and self._parts[-n:] == cmds:
            self._parts[-n:] = [raw]

    def _schedule(self) -> None:
        self.has_pending = True
        if not self._scheduled:
            self._scheduled = True
            self.call_soon(self.flush)

    # -- reads ---------------------------------------------------------------------------
    def read_wait(self, dbid: int, spec: CommandSpec, argv: list[bytes]) -> int:
        """The sequence a read must wait for: the newest pending batch that wrote its keys."""
        if spec.whole_keyspace:
            return self.wait_all()
        seq = self.barrier
        dirty = self.dirty
        if dirty:
            if spec.first_key == 1 and spec.last_key == 1 and spec.keys_fn is None:  # (most)
                s = dirty.get((dbid, argv[1]))
                if s is not None and s > seq:
                    seq = s
            else:
                for k in spec.keys(argv):
                    s = dirty.get((dbid, k))
                    if s is not None and s > seq:
                        seq = s
        return seq if seq > self.committed else 0

    def wait_all(self) -> int:
        return self.batch_seq if (self._parts or self._orphans) else self.appended

    # -- commit ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Append the open batch as one record (end of an event-loop pass)."""
        self._scheduled = False
        orphans = self._orphans
        if orphans:
            self._orphans = []
        if not self._parts:
            if orphans:
                # marks without any record: they wait only for what is already appended
                seq = self.appended
                dirty = self.dirty
                for k in orphans:
                    if dirty.get(k) == self.batch_seq:
                        dirty[k] = seq
                if self.barrier == self.batch_seq:
                    self.barrier = seq if seq > self.committed else 0
                self.has_pending = self.appended > self.committed
            return
        seq = self.batch_seq
        self.batch_seq += 1
        parts = self._parts
        try:
            payload = b"".join(parts)
        except TypeError:  # argv lists from write_one that no raw input replaced
            payload = b"".join([p if type(p) is bytes else encode_command(p) for p in parts])
        self._parts = []
        self.record_db = self._db  # the database the record's last command ran in
        self._db = -1
        self.bytes_since_snapshot += len(payload)
        self.appended = seq
        self._appending = True  # a log that reports durable at once: release after on_record
        try:
            got = self.log.append(payload)
        except Exception as exc:  # the log refused: nobody may be told OK
            self._appending = False
            self._on_failure(exc)
            return
        self._appending = False
        if got != seq:
            self._on_failure(RuntimeError(f"log assigned seq {got}, expected {seq}"))
            return
        # observers (PSYNC replicas, MONITOR-like tools, tests) see a record once the log
        # took it, before any reply that waited for it: with inline fsyncs that is once it
        # is on disk
        if self.on_record is not None:
            self.on_record(seq, payload)
        if self._release_after_append:
            self._release_after_append = False
            self._release(self.committed)

    def _on_durable(self, seq: int) -> None:
        if seq <= self.committed:
            return
        self.committed = seq
        if self.barrier <= seq:
            self.barrier = 0
        self.has_pending = bool(self._parts or self._orphans or self.appended > seq)
        dirty = self.dirty
        if not self.has_pending:
            if dirty:
                dirty.clear()
        elif len(dirty) > self._prune_at:
            self.dirty = {k: s for k, s in dirty.items() if s > seq}
            self._prune_at = max(self._PRUNE_AT, 2 * len(self.dirty))
        if self._appending:
            self._release_after_append = True
        else:
            self._release(seq)

    def _release(self, seq: int) -> None:
        if self.waiters:
            for w in list(self.waiters):
                w.release(seq)

    def _on_failure(self, exc: Exception) -> None:
        self.failed = exc
        self.on_failed(exc)

    def add_waiter(self, w: Any) -> None:
        self.waiters.add(w)

    def remove_waiter(self, w: Any) -> None:
        self.waiters.discard(w)
