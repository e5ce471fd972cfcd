"""Connection limits: client-output-buffer-limit, idle timeout, maxclients, query buffer."""

from __future__ import annotations

import socket
import time

import redis

from tests.support.procs import start_durakv
from tests.support.raw import Raw, encode


def test_output_buffer_limit_disconnects(durakv_proc):
    ctl = redis.Redis(port=durakv_proc.port)
    ctl.config_set("client-output-buffer-limit", "normal 100kb 50kb 1")
    try:
        ctl.set("big", "x" * 200_000)
        s = socket.create_connection(("127.0.0.1", durakv_proc.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        before = ctl.info("stats")["client_output_buffer_limit_disconnections"]
        s.sendall(encode("GET", "big") * 50)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if ctl.info("stats")["client_output_buffer_limit_disconnections"] > before:
                break
            time.sleep(0.02)
        assert ctl.info("stats")["client_output_buffer_limit_disconnections"] > before
        s.close()
    finally:
        ctl.config_set("client-output-buffer-limit", "normal 0 0 0")
        ctl.delete("big")


def test_idle_timeout_closes_client():
    p = start_durakv("--timeout", "1", "--hz", "50")
    try:
        c = Raw(p.port)
        assert c.call("PING") == b"+PONG\r\n"
        assert c.read_until_closed(timeout=5) == b""
    finally:
        p.stop()


def test_maxclients_error():
    p = start_durakv("--maxclients", "1")
    try:
        a = Raw(p.port)
        assert a.call("PING") == b"+PONG\r\n"
        s = socket.create_connection(("127.0.0.1", p.port))
        s.settimeout(5)
        assert s.recv(100) == b"-ERR max number of clients reached\r\n"
        s.close()
        a.close()
    finally:
        p.stop()


def test_output_buffer_soft_limit_with_seconds():
    p = start_durakv("--client-output-buffer-limit", "normal 10mb 64kb 1", "--hz", "50")
    try:
        ctl = redis.Redis(port=p.port)
        ctl.set("big", "x" * 100_000)
        s = socket.create_connection(("127.0.0.1", p.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # 8 MB of replies: under the 10 MB hard limit, and more than the kernel's socket
        # buffers take (tcp_wmem's 4 MB at most), so over the 64 KB soft one for good
        s.sendall(encode("GET", "big") * 80)
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            if ctl.info("stats")["client_output_buffer_limit_disconnections"]:
                break
            time.sleep(0.05)
        assert ctl.info("stats")["client_output_buffer_limit_disconnections"] == 1
        s.close()
    finally:
        p.stop()


def test_query_buffer_limit_disconnects():
    p = start_durakv("--client-query-buffer-limit", "1mb")
    try:
        s = socket.create_connection(("127.0.0.1", p.port))
        s.sendall(b"*2\r\n$3\r\nGET\r\n$100000000\r\n" + b"x" * (2 * 1024 * 1024))
        s.settimeout(5)
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            pass
        ctl = redis.Redis(port=p.port)
        assert ctl.info("stats")["client_query_buffer_limit_disconnections"] == 1
    finally:
        p.stop()
