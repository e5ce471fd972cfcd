"""Shared fixtures: one real redis-server (the oracle) and one durakv node per session.

* ``r`` — a redis-py client, parametrized over [redis, durakv] × [RESP2, RESP3]: write the
  assertions once, they run against both servers.
* ``pair`` — raw clients to both servers with ``check(*args)``, which asserts that the
  exact reply bytes are equal and returns them.
Both flush all databases before each test.
"""

from __future__ import annotations

import os

import pytest
import redis

from tests.support.procs import Proc, start_durakv, start_redis
from tests.support.raw import Raw


@pytest.fixture(scope="session")
def redis_proc():
    p = start_redis()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def durakv_proc():
    p = start_durakv("--appendfsync", "always")
    yield p
    p.stop()


SERVERS = ["redis", "durakv"]


@pytest.fixture(params=[(s, proto) for s in SERVERS for proto in (2, 3)],
                ids=[f"{s}-resp{proto}" for s in SERVERS for proto in (2, 3)])
def r(request, redis_proc: Proc, durakv_proc: Proc):
    name, proto = request.param
    proc = redis_proc if name == "redis" else durakv_proc
    client = redis.Redis(port=proc.port, protocol=proto, socket_timeout=15)
    client.flushall()
    client.server_name = name  # type: ignore[attr-defined]
    yield client
    client.close()


class Pair:
    def __init__(self, redis_port: int, durakv_port: int, proto: int) -> None:
        self.redis = Raw(redis_port, proto)
        self.durakv = Raw(durakv_port, proto)
        self.proto = proto

    def check(self, *args: object) -> bytes:
        a = self.redis.call(*args)
        b = self.durakv.call(*args)
        assert b == a, f"{args!r}: durakv {b!r} != redis {a!r}"
        return a

    def check_parsed(self, *args: object, unordered: bool = False):
        """Compare parsed replies (for replies whose element order Redis leaves open)."""
        a = self.redis.parsed(*args)
        b = self.durakv.parsed(*args)
        if unordered and isinstance(a, list):
            assert isinstance(b, list) and sorted(map(repr, b)) == sorted(map(repr, a)), (args, a, b)
        else:
            assert b == a, f"{args!r}: durakv {b!r} != redis {a!r}"
        return a

    def both(self, *args: object) -> tuple[bytes, bytes]:
        return self.redis.call(*args), self.durakv.call(*args)

    def close(self) -> None:
        self.redis.close()
        self.durakv.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, redis_proc: Proc, durakv_proc: Proc):
    p = Pair(redis_proc.port, durakv_proc.port, request.param)
    p.redis.call("FLUSHALL")
    p.durakv.call("FLUSHALL")
    yield p
    p.close()


@pytest.fixture
def tmpdir_path(tmp_path):
    return str(tmp_path)


def pytest_report_header(config):
    return f"durakv tests, pid {os.getpid()}"
