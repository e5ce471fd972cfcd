"""The composition root: builds one node's objects and wires the callbacks that point up.

Lower layers never import higher ones; whatever must flow upward (an expired key becoming
a ``DEL`` effect for the log, a failed append refusing writes, records replayed through
the command table) is connected here.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import hiredis

from . import __version__, dispatch, errors, spec
from .clock import Clock
from .config import Config
from .context import Context
from .durability.log import Log, MemoryLog, NullLog
from .durability.tracker import CommitTracker
from .net import server as net
from .session import Session

log = logging.getLogger("durakv")

# subsystems that plug into a node: each module has ``install(node)``, called in this
# order once the context exists (a module not written yet is skipped)
SUBSYSTEMS = [
    "durakv.durability.setup",  # FileLog, recovery, snapshots
    "durakv.keyspace.eviction",  # maxmemory policies
    "durakv.commands.client",  # CLIENT PAUSE hold/resume, output buffer limits, idle timeout
    "durakv.commands.server",  # SLOWLOG / latency monitor, MONITOR feed
    "durakv.keyspace.blocking",  # BLPOP & co
    "durakv.pubsub",  # pub/sub, keyspace notifications, client tracking
    "durakv.scripting",  # Lua scripts and functions
    "durakv.replication.setup",  # JetStream log, replicas, leases, failover
    "durakv.replication.export",  # SYNC/PSYNC for redis-cli --rdb and external Redis replicas
    "durakv.cluster.setup",  # cluster mode
    "durakv.acl.setup",  # users and ACL checks
]


class Node:
    def __init__(self, config: Config, clock: Clock | None = None, log_factory: Callable[[Node], Log] | None = None) -> None:
        spec.load_all()
        self.config = config
        self.ctx = Context(config, clock)
        self.ctx.extras["node"] = self
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: asyncio.AbstractServer | None = None
        self.extra_servers: list[asyncio.AbstractServer] = []  # one per further address after CONFIG SET bind
        self._bound: tuple[str, int] = ("", -1)  # what self.server listens on
        self.log_factory = log_factory
        self.log: Log | None = None
        self.replay_session = Session(self.ctx, 0, self.ctx.ks.dbs[0])
        self.replay_session.replaying = True
        self.replay_session.authenticated = True
        self._timers: list[asyncio.TimerHandle] = []
        for name in SUBSYSTEMS:
            try:
                mod = importlib.import_module(name)
            except ModuleNotFoundError as e:
                # a subsystem not written yet (the module or its package): skip it; a
                # missing dependency inside an existing module is a real error
                if e.name is None or not (name == e.name or name.startswith(e.name + ".")):
                    raise
                continue
            mod.install(self)

    # -- log wiring ------------------------------------------------------------------------
    def make_log(self) -> Log:
        if self.log_factory is not None:
            return self.log_factory(self)
        factory = self.ctx.extras.get("default_log_factory")
        if factory is not None:
            return factory(self)
        if not self.config["appendonly"]:
            return NullLog()
        return MemoryLog()

    def attach_log(self, lg: Log, call_soon: Callable[[Callable[[], None]], Any]) -> CommitTracker:
        self.log = lg
        tracker = CommitTracker(lg, call_soon)
        self.ctx.tracker = tracker
        ks = self.ctx.ks
        ks.on_expired = lambda dbid, key: tracker.add_effect(dbid, [b"DEL", key])
        tracker.on_failed = self._on_log_failed
        return tracker

    def _on_log_failed(self, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        log.error("log append failed: %s; refusing writes until recovered", reason)
        self.ctx.write_refused = reason
        from .errors import MISCONF_LOG

        msg = MISCONF_LOG.format(reason)
        for s in list(self.ctx.clients.values()):
            if s.conn is not None and s.conn.held:
                s.conn.fail_held(msg)
        recover = self.ctx.extras.get("recover_after_failure")
        if recover is not None:
            recover(self)

    # -- applying records (recovery, replicas) ---------------------------------------------
    def apply_payload(self, payload: bytes) -> None:
        """Apply one log record's effects through the command table (no tracking, no log)."""
        s = self.replay_session
        reader = hiredis.Reader()
        reader.feed(payload)
        ks = self.ctx.ks
        ks.applying = True  # expired keys stay visible to the effects (a DEL must find them)
        try:
            while True:
                argv = reader.gets()
                if argv is False:
                    break
                name = argv[0].lower()
                if name == b"select":
                    s.db = ks.dbs[int(argv[1])]
                    continue
                if name == b"multi" or name == b"exec":
                    continue  # transaction markers for Redis replicas: the record is applied whole
                sp = dispatch.resolve(argv)
                if type(sp) is str:
                    log.error("cannot apply effect %r: %s", argv[:3], sp)
                    continue
                dispatch.call(s, sp, argv)
        finally:
            ks.applying = False
        ks.modified.clear()

    # -- serving ---------------------------------------------------------------------------
    def _rebind(self, host: str, port: int, failure: str) -> None:
        """CONFIG SET port/bind: listen on the new address, then close the old listener
        (Redis's changeListener); the old one stays when the new one cannot be bound."""
        if (host, port) == self._bound or self.loop is None:
            return
        try:
            socks = net.listen_sockets(host, port, self.config["tcp-backlog"])
        except OSError as e:
            log.warning("CONFIG SET: cannot listen on %s port %d: %s", host, port, e)
            raise ValueError(failure) from None
        old = self.server
        self._bound = (host, port)
        self.ctx.tcp_port = socks[0].getsockname()[1]
        ctx = self.ctx

        async def adopt() -> None:
            servers = [await self.loop.create_server(lambda: net.Connection(ctx), sock=s)  # type: ignore[union-attr]
                       for s in socks]
            self.server = servers[0]
            self.extra_servers = servers[1:]

        self.loop.create_task(adopt())
        if old is not None:
            old.close()
        for extra in self.extra_servers:
            extra.close()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        ctx = self.ctx
        lg = self.make_log()
        self.attach_log(lg, self.loop.call_soon)
        recover = ctx.extras.get("recover")
        if recover is not None:
            await recover(self)
        host = self.config["bind"]
        port = self.config["port"]
        self.server = await net.serve(ctx, host, port, self.config["tcp-backlog"])
        ctx.tcp_port = self.server.sockets[0].getsockname()[1] if self.server.sockets else port
        self._bound = (host, port)
        self.config.watch("port", lambda v: self._rebind(self.config["bind"], v, errors.LISTEN_PORT_FAILED))
        self.config.watch("bind", lambda v: self._rebind(v, self.config["port"], errors.BIND_FAILED))
        self._schedule_cron()
        starter = ctx.extras.get("after_start")
        if starter is not None:
            starter(self)

    def _schedule_cron(self) -> None:
        assert self.loop is not None
        hz = max(1, int(self.config["hz"]))
        self.loop.call_later(1 / hz, self._cron)

    def _cron(self) -> None:
        """Periodic work (Redis's serverCron): active expiry and registered tasks."""
        try:
            ks = self.ctx.ks
            # repeat while a pass found many expired keys, within a small time budget
            t0 = self.ctx.clock.monotonic()
            t_end = t0 + 0.025 * self.config["active-expire-effort"]
            while ks.active_expire(200) >= 200 and self.ctx.clock.monotonic() < t_end:
                pass
            lat = self.config["latency-monitor-threshold"]
            if lat and self.ctx.slowlog is not None:  # the latency monitor's expire-cycle event
                ms = int((self.ctx.clock.monotonic() - t0) * 1000)
                if ms >= lat:
                    self.ctx.slowlog.latency_event("expire-cycle", ms)
            if ks.modified:
                tracker = self.ctx.tracker
                if tracker is not None:
                    tracker.write(None, ks.modified)
                ks.modified.clear()
            for task in self.ctx.extras.get("cron", []):
                task(self)
        except Exception:  # a bug in one periodic task must not stop the others
            log.exception("cron task failed")
        self._schedule_cron()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for extra in self.extra_servers:
            extra.close()
        tracker = self.ctx.tracker
        if tracker is not None:
            tracker.flush()
        if self.log is not None:
            self.log.close()


def run(config: Config) -> None:
    """Run a node until SIGINT/SIGTERM or SHUTDOWN."""
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # logfile "" is standard output, as in Redis
    where: dict[str, Any] = {"filename": config["logfile"]} if config["logfile"] else {"stream": sys.stdout}
    logging.basicConfig(level=logging.INFO, format="%(process)d:M %(asctime)s %(levelname)s %(message)s", **where)
    # Redis's start-up lines, which tools and Redis's own test harness look for
    log.info("durakv version=%s, bits=64, pid=%d, just started", __version__, os.getpid())
    node = Node(config)
    done = loop.create_future()

    def shutdown(*_: Any) -> None:
        if not done.done():
            done.set_result(None)

    node.ctx.shutdown = shutdown
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shutdown)

    async def main() -> None:
        await node.start()
        # Every parsed command allocates containers (argv lists), which drives CPython's
        # cyclic GC; with many container values (hashes, sets ...) its full passes cost.
        # Objects alive after start-up are moved out of its sight, and passes are rarer.
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)
        pidfile = config["pidfile"]
        if pidfile:
            with open(pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        if config["always-show-logo"]:
            log.info("durakv %s  Port: %s  PID: %d", __version__, node.ctx.tcp_port, os.getpid())
        log.info("Ready to accept connections on %s:%s", config["bind"], node.ctx.tcp_port)
        await done
        await node.stop()
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    sys.stdout.flush()
