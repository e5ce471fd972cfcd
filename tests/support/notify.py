"""Capture keyspace notifications: the replies to some commands and every message they caused.

A marker message published after the commands ends the capture, so no test waits on a
clock: everything the server published before the marker has arrived when it does.
"""

from __future__ import annotations

import time

import hiredis

from tests.support.raw import Raw, encode


def read_until_marker(sub: Raw, marker: bytes) -> list:
    """Pushed messages read from ``sub`` until the one whose payload is ``marker``."""
    reader = hiredis.Reader()
    out = []
    sub.sock.settimeout(5)
    while True:
        msg = reader.gets()
        while msg is not False:
            if msg[-1] == marker:
                return out
            out.append(msg)
            msg = reader.gets()
        data = sub.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("subscriber connection closed")
        reader.feed(data)


def keyspace_events(port: int, cmds: list[tuple], proto: int = 2, pattern: str = "__key*__:*",
                    wait_empty: float = 0.0) -> list:
    """[replies to cmds, messages matching pattern they caused], after a FLUSHALL.

    ``wait_empty`` polls DBSIZE (up to that many seconds) before the marker, for tests
    whose keys expire on their own."""
    w = Raw(port, 2)
    w.call("FLUSHALL")
    sub = Raw(port, proto)
    sub.send(encode("PSUBSCRIBE", pattern, "marker"))
    sub.read_raw(2)
    replies = [w.call(*c) for c in cmds]
    if wait_empty:
        deadline = time.monotonic() + wait_empty
        while time.monotonic() < deadline and w.call("DBSIZE") != b":0\r\n":
            time.sleep(0.01)
    w.call("PUBLISH", "marker", "END")
    msgs = read_until_marker(sub, b"END")
    w.close()
    sub.close()
    return [replies, msgs]
