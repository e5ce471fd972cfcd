"""Start and stop real server processes on free 127.0.0.1 ports."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


_SCRATCH: list[str] = []


def _remove_scratch() -> None:
    if os.environ.get("DURAKV_KEEP_TEST_DIRS"):
        return
    for d in _SCRATCH:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_scratch)


def scratch_dir(prefix: str) -> str:
    """A new temporary directory, removed when this test process exits (keep them with
    DURAKV_KEEP_TEST_DIRS=1: servers' logs and data stay for a look)."""
    d = tempfile.mkdtemp(prefix=prefix)
    _SCRATCH.append(d)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                data = s.recv(100)
                if data.startswith(b"+PONG") or data.startswith(b"-"):
                    if not data.startswith(b"-LOADING"):
                        return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"nothing answers on port {port}")


class Proc:
    """A server process started by a test; stopped by PID."""

    def __init__(self, argv: list[str], port: int, workdir: str, env: dict | None = None,
                 wait: bool = True, log_name: str = "server.log") -> None:
        self.argv = argv
        self.port = port
        self.dir = workdir
        self.log_path = os.path.join(workdir, log_name)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.start(wait)

    def start(self, wait: bool = True) -> None:
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=self.env, start_new_session=True)
        logf.close()
        if wait:
            wait_port(self.port, proc=self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""


def durakv_cmd() -> list[str]:
    exe = shutil.which("durakv-server", path=os.path.dirname(sys.executable))
    if exe:
        return [exe]
    return [sys.executable, "-m", "durakv.cli.server"]


def start_durakv(*args: str, workdir: str | None = None, port: int | None = None, wait: bool = True) -> Proc:
    port = port or free_port()
    workdir = workdir or scratch_dir("durakv-test-")
    # DEBUG is off by default, as in Redis; the tests use it on both servers
    argv = durakv_cmd() + ["--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
                           "--enable-debug-command", "yes", *args]
    return Proc(argv, port, workdir, wait=wait)


def start_redis(*args: str, workdir: str | None = None, port: int | None = None) -> Proc:
    port = port or free_port()
    workdir = workdir or scratch_dir("redis-test-")
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed: run scripts/test.sh (it installs it)")
    argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", "",
            "--appendonly", "no", "--enable-debug-command", "yes", *args]
    return Proc(argv, port, workdir)
