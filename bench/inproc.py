"""In-process benchmark of the command path: parser → dispatch → handler → commit → reply.

No sockets and no fsync: a node runs on an in-memory log inside this process, and 50
connections with fake transports are fed pipelines of 16 commands on random keys (as
``redis-benchmark -c 50 -P 16 -r 100000`` sends them).  It prints CPU microseconds per
command, which excludes the kernel and the load generator and so is far steadier than
the socket benchmarks: a tool for finding what the interpreter spends per command.

    .venv/bin/python bench/inproc.py [TEST ...]    (default: the compare.sh set)
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import tempfile
import time
from typing import Any

import uvloop

from durakv.config import Config
from durakv.durability.log import MemoryLog
from durakv.net.server import Connection
from durakv.node import Node
from durakv.protocol.resp import encode_command

KEYSPACE = 100_000  # redis-benchmark -r: __rand_int__ becomes 12 digits
CLIENTS = 50
PIPELINE = int(__import__("os").environ.get("PIPE", "16"))
NCHUNKS = 6250  # 100k commands: keys spread over the whole keyspace, as in the real run
VALUE = b"x" * 3
_RND = random.Random(2)

TESTS: dict[str, Any] = {
    "set": lambda k: [b"SET", b"key:%012d" % k, VALUE],
    "get": lambda k: [b"GET", b"key:%012d" % k],
    "incr": lambda k: [b"INCR", b"counter:%012d" % k],
    "lpush": lambda k: [b"LPUSH", b"mylist", VALUE],
    "rpop": lambda k: [b"RPOP", b"mylist"],
    "rpush": lambda k: [b"RPUSH", b"mylist", VALUE],
    "lpop": lambda k: [b"LPOP", b"mylist"],
    "sadd": lambda k: [b"SADD", b"myset", b"element:%012d" % k],
    "spop": lambda k: [b"SPOP", b"myset"],
    "lrange_100": lambda k: [b"LRANGE", b"mylist", b"0", b"99"],
    "hset": lambda k: [b"HSET", b"myhash", b"element:%012d" % k, VALUE],
    "xadd": lambda k: [b"XADD", b"bench:stream", b"MAXLEN", b"~", b"10000", b"*", b"f", b"%012d" % k],
    "pfadd": lambda k: [b"PFADD", b"bench:hll", b"%012d" % k],
    "geoadd": lambda k: [b"GEOADD", b"bench:geo", b"13.361389", b"38.115556", b"m:%012d" % k],
    "publish": lambda k: [b"PUBLISH", b"bench:chan", b"hello"],
    # redis-benchmark -r draws the score and the member independently
    "zadd": lambda k: [b"ZADD", b"myzset", b"%d" % _RND.randrange(KEYSPACE), b"element:%012d" % k],
    # bench/custom_compare.py's script and function
    "evalsha": lambda k: [b"EVALSHA", _SHA, b"1", b"bench:ev"],
    "fcall": lambda k: [b"FCALL", b"bincr", b"1", b"bench:fc"],
}
# compare.sh's default set; ``types`` in argv: the TESTS of the data-types issue
CORE = ("set", "get", "incr", "lpush", "rpop", "hset", "zadd")
TYPES = ("lpush", "rpush", "lpop", "rpop", "sadd", "spop", "hset", "zadd", "lrange_100")
_SCRIPT = b"return redis.call('INCR', KEYS[1])"
_SHA = __import__("hashlib").sha1(_SCRIPT).hexdigest().encode()
SETUP = {
    "lrange_100": [[b"DEL", b"mylist"], [b"RPUSH", b"mylist", *[VALUE] * 600]],  # as redis-benchmark fills it
    "evalsha": [[b"SCRIPT", b"LOAD", _SCRIPT]],
    "fcall": [[b"FUNCTION", b"LOAD", b"REPLACE", b"#!lua name=benchlib\nredis.register_function('bincr', "
               b"function(keys, args) return redis.call('INCR', keys[1]) end)"]],
}


class DeferredLog(MemoryLog):
    """Records become durable one loop pass after their append (as after an fsync)."""

    def append(self, payload: bytes, expected_last_seq: int | None = None) -> int:
        self.records.append(payload)
        seq = self.base + len(self.records) - 1
        asyncio.get_running_loop().call_soon(self.on_durable, seq)
        if len(self.records) > 1000:
            self.truncate_before(seq)
        return seq


class FakeTransport:
    def __init__(self) -> None:
        self.out = 0

    def write(self, data: bytes) -> None:
        self.out += len(data)

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name in ("peername", "sockname") else None

    def set_write_buffer_limits(self, high: int) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass


async def run(tests: list[str], rounds: int) -> None:
    cfg = Config()
    cfg.set_from_text("port", "0", startup=True)
    cfg.set_from_text("dir", tempfile.mkdtemp(prefix="durakv-inproc."), startup=True)
    node = Node(cfg, log_factory=lambda n: DeferredLog())
    await node.start()
    gc.freeze()
    gc.set_threshold(50000, 50, 100)
    conns = []
    for _ in range(CLIENTS):
        c = Connection(node.ctx)
        c.connection_made(FakeTransport())
        conns.append(c)
    rnd = random.Random(1)
    for name in tests:
        make = TESTS[name]
        for argv in SETUP.get(name, []):
            conns[0].data_received(encode_command(argv))
            await asyncio.sleep(0)
        chunks = [
            b"".join(encode_command(make(rnd.randrange(KEYSPACE))) for _ in range(PIPELINE))
            for _ in range(NCHUNKS)
        ]
        # warm up (and fill the keyspace the way the earlier test would)
        for i in range(NCHUNKS):
            conns[i % CLIENTS].data_received(chunks[i % NCHUNKS])
            await asyncio.sleep(0)
        # fresh commands for the timed part: a repeated ZADD or HSET would find nothing to change
        chunks = [
            b"".join(encode_command(make(rnd.randrange(KEYSPACE))) for _ in range(PIPELINE))
            for _ in range(rounds * CLIENTS)
        ]
        t0 = time.process_time()
        n = 0
        for r in range(rounds):
            for j, c in enumerate(conns):
                c.data_received(chunks[r * CLIENTS + j])
            n += CLIENTS * PIPELINE
            await asyncio.sleep(0)  # end of the loop pass: the group commit
            await asyncio.sleep(0)  # the next pass: durable, the replies leave
        dt = time.process_time() - t0
        print(f"{name:6s} {dt / n * 1e6:6.2f} us/op")
    await node.stop()


def main() -> None:
    tests = list(TYPES) if sys.argv[1:] == ["types"] else sys.argv[1:] or [t for t in TESTS if t in CORE]
    uvloop.run(run(tests, int(__import__("os").environ.get("ROUNDS", "400"))))


if __name__ == "__main__":
    main()
