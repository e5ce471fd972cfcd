"""Random malformed-input differential fuzzing of durakv's protocol layer against redis-server.

Each case is a few RESP or inline fragments (valid, truncated, wrong types, NUL bytes,
QUIT ...) sent on a fresh connection to both servers; what each sends back, and whether
it closes the connection, must be the same.  Client ids in HELLO replies are masked.

    .venv/bin/python tools/protofuzz.py DURAKV_PORT REDIS_PORT [--seed N] [--n COUNT]
"""

from __future__ import annotations

import argparse
import random
import re
import socket

FRAGMENTS = [
    b"*1\r\n", b"*2\r\n", b"*3\r\n", b"*0\r\n", b"*-1\r\n", b"*-5\r\n", b"*abc\r\n", b"*\r\n", b"*1024\r\n",
    b"*99999999999\r\n", b"$3\r\nGET\r\n", b"$4\r\nPING\r\n", b"$1\r\nk\r\n", b"$-1\r\n", b"$0\r\n\r\n", b"$x\r\n",
    b"$3\r\nab", b"$3\r\nabcd\r\n", b"$2\r\nhi\r\n", b":1\r\n", b"+OK\r\n", b"-ERR\r\n", b"PING\r\n", b"ECHO hi\r\n",
    b"SET a \"b c\"\r\n", b"GET \"unterminated\r\n", b"\r\n", b"\n", b" \r\n", b"ECHO 'x y'\r\n",
    b"ECHO \"\\x41\\n\"\r\n", b"SET k v\n", b"*1\r\n$4\r\nPING", b"\x00\x01", b"$",
    b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", b"ECHO \"a\"b\r\n", b"*1\r\n*1\r\n", b"_\r\n", b"%1\r\n", b"=8\r\ntxt:PING\r\n",
    b"(12\r\n", b"*1\r\n$4\r\nQUIT\r\n",
]
_ID = re.compile(rb"id\r\n:\d+")


def case(rng: random.Random) -> bytes:
    return b"".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 6)))


def talk(port: int, data: bytes, wait: float = 0.15) -> tuple[bytes, bool]:
    """(what came back, closed by the server) for ``data`` sent on a new connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(data)
    s.settimeout(wait)
    out = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except TimeoutError:
        pass
    s.close()
    return _ID.sub(b"id", out), closed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("durakv_port", type=int)
    ap.add_argument("redis_port", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    diffs = 0
    for _ in range(a.n):
        data = case(rng)
        got, want = talk(a.durakv_port, data), talk(a.redis_port, data)
        if got != want:
            diffs += 1
            print(repr(data))
            print("  durakv:", got)
            print("  redis: ", want)
    print(f"{a.n} cases, {diffs} differ")


if __name__ == "__main__":
    main()
