"""PING ECHO SELECT QUIT HELLO against redis-server and durakv."""

import pytest
import redis


def test_ping_echo(r):
    assert r.ping()
    assert r.echo("hello") == b"hello"
    assert r.execute_command("ECHO", "x") == b"x"


def test_ping_arity(pair):
    pair.check("PING", "a", "b")


def test_unknown_command_and_arity(pair):
    pair.check("NOSUCH", "a", "b" * 200)
    pair.check("GET")
    pair.check("GET", "a", "b")
    pair.check("CONFIG", "NOSUCH")
    pair.check("PING")


def test_select(pair):
    pair.check("SELECT", "15")
    pair.check("SELECT", "16")
    pair.check("SELECT", "-1")
    pair.check("SELECT", "abc")


def test_hello_errors(pair):
    pair.check("HELLO", "4")
    pair.check("HELLO", "abc")
    pair.check("HELLO", "3", "SETNAME")


def test_select_isolates(r):
    r.set("k", "v")
    r.execute_command("SELECT", "1")
    assert r.get("k") is None
    with pytest.raises(redis.ResponseError):
        r.execute_command("SELECT", "99")
