"""Connection output: what a connection gets during a loop pass leaves in one write, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis

from durakv.config import Config
from durakv.net.server import Connection
from durakv.node import Node
from durakv.protocol.resp import encode_command
from tests.support.procs import scratch_dir


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name in ("peername", "sockname") else None

    def set_write_buffer_limits(self, high: int) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass


async def _with_node(body: Any) -> None:
    cfg = Config()
    cfg.set_from_text("port", "0", startup=True)
    cfg.set_from_text("dir", scratch_dir("durakv-test."), startup=True)
    node = Node(cfg)
    await node.start()
    try:
        await body(node)
    finally:
        await node.stop()


def _conn(node: Node) -> tuple[Connection, _Transport]:
    c = Connection(node.ctx)
    t = _Transport()
    c.connection_made(t)
    return c, t


async def _settle() -> None:
    for _ in range(5):  # the end-of-pass flushes (log, then output)
        await asyncio.sleep(0)


def test_a_pass_of_reads_leaves_in_one_write_in_order() -> None:
    async def body(node: Node) -> None:
        c, t = _conn(node)
        c.data_received(encode_command([b"SET", b"k", b"v"]))
        await _settle()
        assert t.writes == [b"+OK\r\n"]  # (after its log record was durable)
        c.data_received(encode_command([b"GET", b"k"]) + encode_command([b"ECHO", b"x"]))
        c.data_received(encode_command([b"GET", b"k"]))
        assert t.writes == [b"+OK\r\n"]  # nothing leaves in the middle of the pass
        await _settle()
        assert t.writes == [b"+OK\r\n", b"$1\r\nv\r\n$1\r\nx\r\n$1\r\nv\r\n"]

    asyncio.run(_with_node(body))


def test_pushes_keep_their_place_among_replies() -> None:
    async def body(node: Node) -> None:
        sub, ts = _conn(node)
        pub, tp = _conn(node)
        sub.data_received(encode_command([b"SUBSCRIBE", b"ch"]))
        pub.data_received(encode_command([b"PUBLISH", b"ch", b"m1"]))
        sub.data_received(encode_command([b"PING"]))
        pub.data_received(encode_command([b"PUBLISH", b"ch", b"m2"]))
        await _settle()
        assert ts.writes == [
            b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm1\r\n"
            b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm2\r\n"
        ]
        assert tp.writes == [b":1\r\n:1\r\n"]

    asyncio.run(_with_node(body))


def test_a_reads_plain_writes_reach_the_log_together_in_order() -> None:
    # plain writes logged as themselves go to the tracker at the end of the read (or before
    # a command that is not plain): the record still holds every effect in command order,
    # and the keys are marked pending before any other client reads them
    async def body(node: Node) -> None:
        from durakv.spec import COMMANDS

        tracker = node.ctx.tracker
        records: list[bytes] = []
        tracker.on_record = lambda seq, payload: records.append(payload)
        c, t = _conn(node)
        cmds = [[b"SET", b"a", b"1"], [b"INCR", b"n"], [b"GET", b"a"], [b"EXPIRE", b"a", b"100"],
                [b"SET", b"b", b"2"], [b"CLIENT", b"GETNAME"], [b"LPUSH", b"l", b"x"], [b"GET", b"b"]]
        c.data_received(b"".join(encode_command(x) for x in cmds))
        seq = tracker.batch_seq
        for key in (b"a", b"n", b"b", b"l"):
            assert tracker.read_wait(0, COMMANDS[b"get"], [b"GET", key]) == seq
        assert t.writes == []
        await _settle()
        assert t.writes == [b"+OK\r\n:1\r\n$1\r\n1\r\n:1\r\n+OK\r\n$-1\r\n:1\r\n$1\r\n2\r\n"]
        assert len(records) == 1
        reader = hiredis.Reader()
        reader.feed(records[0])
        logged = list(iter(reader.gets, False))
        assert [x[:2] for x in logged] == [[b"SELECT", b"0"], [b"SET", b"a"], [b"INCR", b"n"],
                                           [b"PEXPIREAT", b"a"], [b"SET", b"b"], [b"LPUSH", b"l"]]

    asyncio.run(_with_node(body))
