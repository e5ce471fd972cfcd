"""The commit tracker and held replies, in-process with a log whose commits the test controls.

A write's reply waits for its record; a read of a key written by a pending record waits
for it; a read of a clean key is answered at once; replies on one connection keep their
order; whole-keyspace reads wait for everything pending; a failed append turns the held
replies into errors.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from durakv.config import Config
from durakv.durability.log import Log, LogError
from durakv.node import Node
from tests.support.raw import encode


class ManualLog(Log):
    """Appends are durable only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[bytes] = []

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        self.records.append(payload)
        return len(self.records)

    def commit(self, upto: int | None = None) -> None:
        self.on_durable(len(self.records) if upto is None else upto)

    def fail(self) -> None:
        self.on_failure(LogError("disk full"))

    def read(self, from_seq: int) -> Iterator[tuple[int, bytes]]:
        for i in range(from_seq - 1, len(self.records)):
            yield i + 1, self.records[i]

    def last_seq(self) -> int:
        return len(self.records)


async def _recv_some(sock: socket.socket, timeout: float = 0.3) -> bytes:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.sock_recv(sock, 65536), timeout)
    except TimeoutError:
        return b""


@pytest.fixture
def harness():
    loop = asyncio.new_event_loop()
    cfg = Config()
    cfg.set_from_text("port", "0", startup=True)
    lg = ManualLog()
    node = Node(cfg, log_factory=lambda n: lg)
    loop.run_until_complete(node.start())
    port = node.ctx.tcp_port

    def client() -> socket.socket:
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        return s

    yield loop, node, lg, client
    loop.run_until_complete(node.stop())
    loop.close()


def test_write_waits_for_commit_and_clean_read_does_not(harness):
    loop, node, lg, client = harness

    async def scenario():
        a, b = client(), client()
        a.sendall(encode("SET", "k", "v"))
        assert await _recv_some(a) == b""  # held: not durable yet
        b.sendall(encode("GET", "other"))
        assert await _recv_some(b) == b"$-1\r\n"  # clean key: at once
        b.sendall(encode("GET", "k"))
        assert await _recv_some(b) == b""  # dirty key: waits
        lg.commit()
        assert await _recv_some(a) == b"+OK\r\n"
        assert await _recv_some(b) == b"$1\r\nv\r\n"
        a.close()
        b.close()

    loop.run_until_complete(scenario())


def test_order_kept_behind_held_reply(harness):
    loop, node, lg, client = harness

    async def scenario():
        a = client()
        a.sendall(encode("SET", "k", "1") + encode("PING") + encode("GET", "zzz"))
        assert await _recv_some(a) == b""
        lg.commit()
        got = b""
        while len(got) < len(b"+OK\r\n+PONG\r\n$-1\r\n"):
            chunk = await _recv_some(a)
            assert chunk
            got += chunk
        assert got == b"+OK\r\n+PONG\r\n$-1\r\n"
        a.close()

    loop.run_until_complete(scenario())


def test_one_record_per_loop_pass(harness):
    loop, node, lg, client = harness

    async def scenario():
        a = client()
        a.sendall(encode("SET", "a", "1") + encode("SET", "b", "2") + encode("DEL", "a"))
        await _recv_some(a, 0.2)
        assert len(lg.records) == 1
        rec = lg.records[0]
        assert rec.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
        assert rec.count(b"SET") == 2 and rec.count(b"DEL") == 1
        lg.commit()
        got = b""
        while len(got) < len(b"+OK\r\n+OK\r\n:1\r\n"):
            got += await _recv_some(a)
        assert got == b"+OK\r\n+OK\r\n:1\r\n"
        a.close()

    loop.run_until_complete(scenario())


def test_noop_write_is_not_logged(harness):
    loop, node, lg, client = harness

    async def scenario():
        a = client()
        a.sendall(encode("DEL", "missing"))
        assert await _recv_some(a) == b":0\r\n"
        assert lg.records == []
        a.close()

    loop.run_until_complete(scenario())


def test_failed_append_gives_errors_and_refuses_writes(harness):
    loop, node, lg, client = harness

    async def scenario():
        a = client()
        a.sendall(encode("SET", "k", "v"))
        assert await _recv_some(a) == b""
        lg.fail()
        got = await _recv_some(a)
        assert got.startswith(b"-MISCONF"), got
        a.close()

    loop.run_until_complete(scenario())


def test_a_read_of_only_plain_writes_is_logged_as_it_came(harness):
    """A pipeline of writes logged as themselves is logged as the client's own bytes;
    anything else in the read (a read, a write logged differently, a no-op) makes the
    tracker encode every command itself. Either way the record is the same bytes."""
    loop, node, lg, client = harness

    async def scenario():
        a, b = client(), client()
        plain = encode("SET", "a", "1") + encode("HSET", "h", "f", "v") + encode("LPUSH", "l", "x")
        a.sendall(plain)
        await _recv_some(a, 0.2)
        mixed = (encode("SET", "b", "2") + encode("GET", "a") + encode("SET", "c", "3", "EX", "100")
                 + encode("SETNX", "a", "9") + encode("INCR", "n"))
        b.sendall(mixed)
        await _recv_some(b, 0.2)
        assert len(lg.records) == 2
        select0 = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        assert lg.records[0] == select0 + plain
        rec = lg.records[1]
        assert rec.startswith(select0 + encode("SET", "b", "2") + b"*5\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n$4\r\nPXAT\r\n")
        assert rec.endswith(encode("INCR", "n")) and b"GET" not in rec and b"SETNX" not in rec
        lg.commit()
        a.close()
        b.close()

    loop.run_until_complete(scenario())


def test_raw_swap_keeps_the_payload_identical():
    from durakv.durability.tracker import CommitTracker

    lg = ManualLog()
    t = CommitTracker(lg, lambda f: None)
    cmds = [[b"SET", b"k%d" % i, b"v"] for i in range(3)]
    for argv in cmds:
        t.write_one(0, argv, [(0, argv[1])])
    t.use_raw(cmds[1:], b"".join(encode(*[x.decode() for x in c]) for c in cmds[1:]))
    t.use_raw([], b"junk")  # nothing to swap: no change
    t.use_raw([[b"SET", b"other", b"v"]], b"junk")  # not what the batch ends with
    t.flush()
    want = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" + b"".join(encode("SET", "k%d" % i, "v") for i in range(3))
    assert lg.records == [want]


def test_scripts_and_exec_reading_a_dirty_key_wait_for_its_commit(harness):
    loop, node, lg, client = harness

    async def scenario():
        a, b, c = client(), client(), client()
        a.sendall(encode("SET", "k", "v"))
        assert await _recv_some(a) == b""  # held
        b.sendall(encode("EVAL", "return redis.call('GET', 'k')", "0"))  # undeclared key
        c.sendall(encode("MULTI") + encode("GET", "k") + encode("EXEC"))
        assert await _recv_some(b) == b""
        assert await _recv_some(c) == b"+OK\r\n+QUEUED\r\n"  # EXEC's reply is held
        assert await _recv_some(c) == b""
        lg.commit()
        assert await _recv_some(a) == b"+OK\r\n"
        assert await _recv_some(b) == b"$1\r\nv\r\n"
        assert await _recv_some(c) == b"*1\r\n$1\r\nv\r\n"
        for s in (a, b, c):
            s.close()

    loop.run_until_complete(scenario())


def test_keys_without_effects_never_wait_for_a_record_that_will_not_come():
    # a command that marks keys but logs nothing (its effects left with an earlier record,
    # or it changed nothing the log keeps) must wait at most for what is already appended
    from durakv.durability.tracker import CommitTracker

    lg = ManualLog()
    t = CommitTracker(lg, lambda f: None)
    assert t.write(None, [(0, b"k")]) == 0  # nothing pending at all: answered at once
    t.write_one(0, [b"SET", b"a", b"v"], [(0, b"a")])
    t.flush()  # record 1 appended, not yet durable
    seq = t.write(None, [(0, b"k")])
    assert seq == 1 and t.read_wait(0, _get_spec(), [b"GET", b"k"]) == 1
    t.flush()  # no open batch: no record 2
    assert lg.records[1:] == []
    lg.commit()
    assert t.committed >= seq and t.read_wait(0, _get_spec(), [b"GET", b"k"]) == 0
    # with others' effects in the open batch the marks wait for that batch's record
    t.write_one(0, [b"SET", b"b", b"v"], [(0, b"b")])
    seq = t.write(None, [(0, b"k")])
    t.flush()
    lg.commit()
    assert seq == 2 and t.committed == 2


def _get_spec():
    from durakv.spec import COMMANDS

    return COMMANDS[b"get"]
