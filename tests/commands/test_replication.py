"""ROLE WAIT FAILOVER READONLY READWRITE REPLICAOF on a standalone node, against Redis.

Both servers are standalone masters without replicas here; the replicated behaviour is
in ``tests/replication``.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import Pair


def test_role_standalone(pair: Pair) -> None:
    pair.check("ROLE")
    pair.check("ROLE", "x")


@pytest.mark.parametrize("args", [
    ("WAIT",), ("WAIT", "1"), ("WAIT", "1", "x"), ("WAIT", "x", "1"), ("WAIT", "1", "-1"),
    ("WAIT", "0", "0"), ("WAIT", "-5", "0"), ("WAIT", "x", "x"), ("WAIT", "1", "1.5"),
    ("WAIT", "0", "10"), ("WAIT", "1", "2", "3"),
])
def test_wait_args(pair: Pair, args: tuple[str, ...]) -> None:
    pair.check(*args)


def test_wait_blocks_until_timeout_without_replicas(pair: Pair) -> None:
    pair.check("SET", "k", "v")
    t = time.monotonic()
    pair.check("WAIT", "1", "150")
    assert time.monotonic() - t >= 0.29  # both servers waited ~150 ms


def test_wait_in_multi_does_not_block(pair: Pair) -> None:
    pair.check("MULTI")
    pair.check("WAIT", "1", "0")
    pair.check("EXEC")


@pytest.mark.parametrize("args", [
    ("FAILOVER", "ABORT"), ("FAILOVER", "TIMEOUT", "0"), ("FAILOVER", "TIMEOUT", "-1"),
    ("FAILOVER", "TIMEOUT", "x"), ("FAILOVER", "TO", "127.0.0.1"), ("FAILOVER", "TO", "127.0.0.1", "x"),
    ("FAILOVER", "bla"), ("FAILOVER", "ABORT", "TIMEOUT", "10"), ("FAILOVER", "FORCE"),
    ("FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"), ("FAILOVER", "ABORT", "ABORT"),
])
def test_failover_errors(pair: Pair, args: tuple[str, ...]) -> None:
    pair.check(*args)


def test_failover_without_replicas(pair: Pair) -> None:
    pair.check("FAILOVER")
    pair.check("FAILOVER", "TIMEOUT", "100")


@pytest.mark.parametrize("cmd", ["READONLY", "READWRITE"])
def test_readonly_readwrite_without_cluster(pair: Pair, cmd: str) -> None:
    pair.check(cmd)
    pair.check(cmd, "x")


@pytest.mark.parametrize("cmd", ["REPLICAOF", "SLAVEOF"])
def test_replicaof(pair: Pair, cmd: str) -> None:
    pair.check(cmd, "NO", "ONE")
    pair.check(cmd, "no", "one")
    pair.check(cmd, "127.0.0.1", "x")
    pair.check(cmd, "127.0.0.1", "-1")
    pair.check(cmd, "127.0.0.1", "99999")
    pair.check(cmd, "NO")
    pair.check(cmd)


@pytest.mark.parametrize("args", [
    ("REPLCONF",), ("REPLCONF", "a"), ("REPLCONF", "listening-port", "x"), ("REPLCONF", "listening-port", "1"),
    ("REPLCONF", "listening-port", "1", "capa", "eof", "capa", "psync2"), ("REPLCONF", "ip-address", "1.2.3.4"),
    ("REPLCONF", "ip-address", "x" * 255), ("REPLCONF", "ip-address", "x" * 256), ("REPLCONF", "rdb-only", "1"), ("REPLCONF", "rdb-only", "x"),
    ("REPLCONF", "rdb-only", "2"), ("REPLCONF", "foo", "bar"), ("REPLCONF", "CAPA", "whatever"),
    ("PSYNC",), ("PSYNC", "a"), ("PSYNC", "a", "b", "c"), ("SYNC", "x"),
])
def test_replication_protocol_errors(pair: Pair, args: tuple[str, ...]) -> None:
    pair.check(*args)


def test_replconf_ack_has_no_reply(pair: Pair) -> None:
    pair.redis.send(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n10\r\n*1\r\n$4\r\nPING\r\n")
    pair.durakv.send(b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n10\r\n*1\r\n$4\r\nPING\r\n")
    assert pair.durakv.read_raw() == pair.redis.read_raw() == b"+PONG\r\n"


def test_sync_in_multi(pair: Pair) -> None:
    pair.check("MULTI")
    pair.check("SYNC")
    pair.check("PSYNC", "?", "-1")
    pair.check("DISCARD")


@pytest.mark.parametrize("name", ["role", "wait", "failover", "readonly", "readwrite", "replicaof", "slaveof",
                                  "sync", "psync", "replconf"])
def test_command_info(pair: Pair, name: str) -> None:
    pair.check_parsed("COMMAND", "INFO", name)


def test_info_replication_fields(pair: Pair) -> None:
    a = pair.redis.parsed("INFO", "replication")
    b = pair.durakv.parsed("INFO", "replication")
    fa = [line.split(":")[0] for line in a.decode().splitlines()]
    fb = [line.split(":")[0] for line in b.decode().splitlines()]
    assert fb == fa
