"""Busy scripts: -BUSY for other clients, SCRIPT KILL / FUNCTION KILL, UNKILLABLE, against Redis."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.support.procs import start_durakv, start_redis
from tests.support.raw import Raw, encode


@pytest.fixture
def servers():
    a = start_redis("--busy-reply-threshold", "50")
    b = start_durakv("--busy-reply-threshold", "50")
    yield a, b
    a.kill9()
    b.kill9()


def _scenario(port: int, script: list[object], other: list[list[object]], kill: list[object]) -> list[bytes]:
    a, b = Raw(port), Raw(port)
    b.call("PING")  # b is a known client before the script starts
    a.send(encode(*script))
    time.sleep(0.3)
    out = [b.call(*o) for o in other]
    out.append(b.call(*kill))
    if out[-1] == b"+OK\r\n":
        out.append(a.read_raw(1))
    out.append(b.call("PING"))
    a.close()
    b.close()
    return out


def test_script_kill(servers):
    script = ["EVAL", "local i = 0 while true do i = i + 1 end", 0]
    other = [["GET", "x"], ["PING"], ["FUNCTION", "KILL"], ["FUNCTION", "STATS"], ["SET", "k", "v"]]
    got = [_scenario(p.port, script, other, ["SCRIPT", "KILL"]) for p in servers]
    assert got[1] == got[0]
    assert got[0][-2].startswith(b"-ERR Script killed by user with SCRIPT KILL...")


@pytest.mark.parametrize("body", ["while true do redis.call('ping') end",
                                  "while true do pcall(redis.call, 'ping') end",
                                  "local i = 0 while true do i = i + 1 redis.pcall('get', 'k') end"])
def test_script_kill_while_it_keeps_calling_redis(servers, body):
    # the busy check must not miss a loop that spends most of its time inside redis.call
    script = ["EVAL", body, 0]
    got = [_scenario(p.port, script, [["PING"]], ["SCRIPT", "KILL"]) for p in servers]
    assert got[1] == got[0]
    assert got[0][0].startswith(b"-BUSY")


def test_function_kill(servers):
    code = "#!lua name=busy\nredis.register_function('spin', function() while true do end end)"
    for p in servers:
        c = Raw(p.port)
        assert c.call("FUNCTION", "LOAD", code) == b"$4\r\nbusy\r\n"
        c.close()
    got = [_scenario(p.port, ["FCALL", "spin", 0], [["GET", "x"], ["SCRIPT", "KILL"]], ["FUNCTION", "KILL"])
           for p in servers]
    assert got[1] == got[0]


def test_unkillable_after_write(servers):
    script = ["EVAL", "redis.call('set', 'w', '1') while true do end", 0]
    got = []
    for p in servers:
        a, b = Raw(p.port), Raw(p.port)
        b.call("PING")
        a.send(encode(*script))
        time.sleep(0.3)
        got.append([b.call("GET", "w"), b.call("SCRIPT", "KILL")])
        b.send(encode("SHUTDOWN", "NOSAVE"))
        p.proc.wait(10)
    assert got[1] == got[0]
    assert got[0][1].startswith(b"-UNKILLABLE")


def test_pcall_cannot_swallow_kill(servers):
    script = ["EVAL", "while true do pcall(function() local i = 0 while true do i = i + 1 end end) end", 0]
    got = [_scenario(p.port, script, [], ["SCRIPT", "KILL"]) for p in servers]
    assert got[1] == got[0]


def test_connection_commands_run_while_busy(servers):
    """AUTH, HELLO and RESET are allow_busy: they run while a script is busy (Redis's
    scripting.tcl ends a busy script by a HELLO ... SETNAME it waits for)."""
    script = ["EVAL", "redis.call('lpush', KEYS[1], 'y') while not string.find(redis.call('client', 'list'), "
              "'abortscript') do end redis.call('lpush', KEYS[1], 'z') return 1", 1, "x"]
    got = []
    for p in servers:
        a, b, c = Raw(p.port), Raw(p.port), Raw(p.port)
        c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1")
        b.call("PING")
        a.send(encode(*script))
        time.sleep(0.3)
        r = [b.call("GET", "x"), b.call("AUTH", "pw"), b.call("RESET"),
             re.sub(rb"\$2\r\nid\r\n:\d+", b"ID", b.call("HELLO", "2", "SETNAME", "abortscript")),
             a.read_raw(1), b.call("LRANGE", "x", 0, -1), b.call("CLIENT", "GETNAME")]
        c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0")
        got.append(r)
        for x in (a, b, c):
            x.close()
    assert got[1] == got[0]
    assert got[0][0].startswith(b"-BUSY") and got[0][4] == b":1\r\n"


def test_new_connection_while_busy(servers):
    got = []
    for p in servers:
        a = Raw(p.port)
        a.send(encode("EVAL", "local i = 0 while true do i = i + 1 end", 0))
        time.sleep(0.3)
        b = Raw(p.port)  # connects while the script runs
        r = [b.call("GET", "x"), b.call("SCRIPT", "KILL"), a.read_raw(1), b.call("PING")]
        c = Raw(p.port)
        r.append(c.call("PING"))
        got.append(r)
        a.close()
        b.close()
        c.close()
    assert got[1] == got[0]


def test_function_stats_while_busy(servers):
    code = "#!lua name=busy\nredis.register_function('spin', function() while true do end end)"
    got = []
    for p in servers:
        a, b, b3 = Raw(p.port), Raw(p.port), Raw(p.port, 3)
        b.call("PING")
        assert b.call("FUNCTION", "LOAD", code) == b"$4\r\nbusy\r\n"
        a.send(encode("FCALL", "spin", 0, "arg1"))
        time.sleep(0.3)
        r = [b.call("FUNCTION", "STATS"), b3.call("FUNCTION", "STATS"), b.call("FUNCTION", "KILL"), a.read_raw(1)]
        got.append([re.sub(rb"duration_ms\r\n:\d+", b"duration_ms:D", x) for x in r])
        for c in (a, b, b3):
            c.close()
    assert got[1] == got[0]


def test_function_load_timeout(servers):
    got = []
    for p in servers:
        c = Raw(p.port)
        got.append([c.call("FUNCTION", "LOAD", "#!lua name=spin\nwhile true do end"),
                    c.call("FUNCTION", "LOAD", "#!lua name=ok1\nredis.register_function('x', function() return 1 end)"),
                    c.call("FCALL", "x", 0)])
        c.close()
    assert got[1] == got[0]
    assert got[0][0] == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"


def test_replies_of_the_pass_a_script_started_in_leave_while_it_runs(servers):
    # b's PING and a's slow script arrive together (the server is stopped while both are
    # sent): b's reply, queued before the script started, must reach b while the script
    # runs, or b never gets to send anything else (it waits for its reply first)
    got = []
    for p in servers:
        a, b, c = Raw(p.port), Raw(p.port, timeout=3.0), Raw(p.port)
        for x in (a, b, c):
            x.call("PING")
        os.kill(p.pid, signal.SIGSTOP)
        try:
            b.send(encode("PING"))
            a.send(encode("EVAL", "local i = 0 while true do i = i + 1 end", 0))
            time.sleep(0.1)
        finally:
            os.kill(p.pid, signal.SIGCONT)
        r = [b.read_raw(1), b.call("GET", "x")[:5], c.call("SCRIPT", "KILL"), a.read_raw(1)[:45], b.call("PING")]
        got.append(r)
        for x in (a, b, c):
            x.close()
    assert got[1] == got[0]
    assert got[0][:2] == [b"+PONG\r\n", b"-BUSY"]
