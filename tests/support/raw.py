"""A raw RESP client: exact reply bytes, for byte-for-byte differential tests."""

from __future__ import annotations

import socket

import hiredis


def encode(*args: object) -> bytes:
    parts = []
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        else:
            b = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"*%d\r\n%s" % (len(parts), b"".join(parts))


class Raw:
    def __init__(self, port: int, proto: int = 2, timeout: float = 10.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.proto = proto
        if proto == 3:
            self.call("HELLO", "3")

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_raw(self, n_replies: int = 1) -> bytes:
        """Read until ``n_replies`` complete replies arrived; return their exact bytes."""
        reader = hiredis.Reader()
        buf = b""
        got = 0
        while got < n_replies:
            reply = reader.gets()
            while reply is not False:
                got += 1
                if got >= n_replies:
                    break
                reply = reader.gets()
            if got >= n_replies:
                break
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError(f"closed after {buf[-200:]!r}")
            buf += data
            reader.feed(data)
        return buf

    def call(self, *args: object) -> bytes:
        self.send(encode(*args))
        return self.read_raw()

    def parsed(self, *args: object):
        self.send(encode(*args))
        reader = hiredis.Reader()
        while True:
            r = reader.gets()
            if r is not False:
                return r
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            reader.feed(data)

    def read_until_closed(self, timeout: float = 5.0) -> bytes:
        self.sock.settimeout(timeout)
        out = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"connection not closed; got {out!r}") from None
            if not data:
                return out
            out += data
