"""Run a durakv Node inside the test process (own event loop thread), to inject log faults."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from durakv.config import Config
from durakv.durability.log import Log
from durakv.node import Node


class InProcNode:
    def __init__(self, directory: str, *pairs: tuple[str, str],
                 log_factory: Callable[[Node], Log] | None = None) -> None:
        cfg = Config()
        cfg.set_from_text("port", "0", startup=True)
        cfg.set_from_text("dir", directory, startup=True)
        for name, value in pairs:
            cfg.set_from_text(name, value, startup=True)
        self.node = Node(cfg, log_factory=log_factory)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self._ready.wait(20):
            raise TimeoutError("in-process node did not start")
        if self._error is not None:
            raise self._error
        self.port = self.node.ctx.tcp_port

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.node.start())
        except BaseException as e:  # surfaced to the test thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    def client(self, **kw: Any) -> redis.Redis:
        # no silent retries (redis-py retries BusyLoadingError and connection errors)
        return redis.Redis(port=self.port, socket_timeout=kw.pop("socket_timeout", 5),
                           retry=Retry(NoBackoff(), 0), **kw)

    def wait_loaded(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.node.ctx.loading:
            if time.monotonic() > deadline:
                raise TimeoutError("still loading")
            time.sleep(0.01)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the node's loop and return its result."""
        fut = asyncio.run_coroutine_threadsafe(_wrap(fn), self.loop)
        return fut.result(20)

    def crash(self) -> None:
        """Stop dead: no flush, no log close (the process 'dies')."""
        def stop() -> None:
            if self.node.server is not None:
                self.node.server.close()
            for s in list(self.node.ctx.clients.values()):
                if s.conn is not None and s.conn.transport is not None:
                    s.conn.transport.abort()
            # let the aborts reach the sockets; nothing can be answered any more
            self.loop.call_later(0.02, self.loop.stop)

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)

    def stop(self) -> None:
        async def _stop() -> None:
            await self.node.stop()
            for s in list(self.node.ctx.clients.values()):
                if s.conn is not None and s.conn.transport is not None:
                    s.conn.transport.abort()

        try:
            asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


async def _wrap(fn: Callable[[], Any]) -> Any:
    return fn()
