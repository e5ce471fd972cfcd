"""The dispatcher: Redis's gates in Redis's order, then the handler, then the commit path.

Order (as Redis 7.0's ``processCommand``): command exists → subcommand exists → arity →
authenticated → ACL → cluster redirect → MULTI queueing errors → OOM → MISCONF (log
failed) → read-only replica → RESP2 subscribed context → loading → MULTI queue → call.

``call`` runs a handler and hands what it changed to the commit tracker: the effects to
log (the argv, or what the handler declared with ``Session.propagate``) and the keys it
modified; it sets ``c.wait`` to the log sequence the reply must wait for.
"""

from __future__ import annotations

import logging
from time import perf_counter_ns
from typing import Any

from . import errors
from .errors import CommandError, fmt_arg
from .protocol import resp
from .session import BLOCKED, Session
from .spec import COMMANDS, CommandSpec

log = logging.getLogger("durakv.dispatch")

# commands that run even inside MULTI instead of being queued
_MULTI_IMMEDIATE = frozenset({"exec", "discard", "multi", "watch", "quit", "reset"})
# commands allowed in the RESP2 subscribed state
_SUBSCRIBED_OK = frozenset({
    "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe",
    "ping", "quit", "reset",
})
# commands whose own argv is never logged: their inner commands log their own effects
_PROPAGATES_INNER = frozenset({"exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})
_SCRIPT_CALLS = _PROPAGATES_INNER - {"exec"}


def unknown_command(argv: list[bytes]) -> str:
    args = ""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += "'%s' " % a[: 128 - len(args)].decode("latin-1")
    return errors.sanitize(errors.UNKNOWN_COMMAND.format(fmt_arg(argv[0]), args))


def resolve(argv: list[bytes]) -> CommandSpec | str:
    """The spec for argv, or the error text Redis gives (unknown command/subcommand, arity)."""
    spec = COMMANDS.get(argv[0])
    if spec is None:
        spec = COMMANDS.get(argv[0].lower())
        if spec is None:
            return unknown_command(argv)
    if spec.subcommands:
        if len(argv) >= 2:
            sub = spec.subcommands.get(argv[1])
            if sub is None:
                sub = spec.subcommands.get(argv[1].lower())
            if sub is None:
                return errors.sanitize(
                    errors.UNKNOWN_SUBCOMMAND.format(fmt_arg(argv[1]), argv[0].decode("latin-1").upper())
                )
            spec = sub
        elif spec.handler is None:  # a container with its own handler (COMMAND) runs bare
            return errors.WRONG_ARITY.format(spec.name)
    a = spec.arity
    n = len(argv)
    if (a > 0 and n != a) or n < -a:
        return errors.WRONG_ARITY.format(spec.name)
    return spec


def execute(c: Session, argv: list[bytes]) -> bytes:
    """Run one client command through every gate; returns the encoded reply."""
    srv = c.srv
    found = COMMANDS.get(argv[0])
    if found is None or found.subcommands:
        resolved = resolve(argv)
        if type(resolved) is str:
            if c.multi is not None:
                c.multi_error = True
            if argv[0].lower() == b"exec":
                return reject(c, resolved, COMMANDS.get(b"exec"))
            return reject(c, resolved, _arity_rejected(argv, resolved))
        spec: CommandSpec = resolved  # type: ignore[assignment]
    else:
        spec = found
        a = spec.arity
        n = len(argv)
        if (a > 0 and n != a) or n < -a:
            if c.multi is not None:
                c.multi_error = True
            return reject(c, errors.WRONG_ARITY.format(spec.name), spec)
    c.last_cmd = spec.name
    if srv.evictor is not None and "denyoom" not in spec.flags and not c.replaying:
        # Redis evicts before every command when over maxmemory; only the commands that
        # may grow memory are refused when it cannot (write_gate, for those)
        srv.evictor.make_room()
    # the common case: no per-client state and no node-wide condition to check
    if (
        c.multi is None
        and c.authenticated
        and srv.gated is False
        and (c.resp == 3 or not (c.channels or c.patterns or c.shard_channels))
        and not (spec.write_gate and (srv.evictor is not None or srv.write_refused is not None or srv.noreplicas
                                      or srv.role != "master"))
    ):
        return call(c, spec, argv)
    return _gated(c, spec, argv)


def _gated(c: Session, spec: CommandSpec, argv: list[bytes]) -> bytes:
    srv = c.srv
    if not c.authenticated and "no_auth" not in spec.flags:
        return reject(c, errors.NOAUTH, spec)
    if srv.acl is not None and c.user is not None:
        err = srv.acl.check(c, spec, argv)
        if err is not None:
            if c.multi is not None:
                c.multi_error = True
            return reject(c, err, spec)
    if srv.cluster is not None:
        err = srv.cluster.redirect(c, spec, argv)
        if err is not None:
            if c.multi is not None:
                c.multi_error = True
            return reject(c, err, spec)
    if c.multi is not None and spec.name not in _MULTI_IMMEDIATE:
        if "no_multi" in spec.flags:
            return reject(c, errors.COMMAND_NOT_ALLOWED_IN_MULTI, spec)
        # Redis: queueing inside MULTI may use unbounded memory, so over maxmemory every
        # queued command is refused (EXEC checks the denyoom commands it runs itself)
        if srv.evictor is not None and "denyoom" not in spec.flags and not c.replaying:
            if not srv.evictor.make_room():
                return reject(c, errors.OOM, spec)
    if spec.is_write or "denyoom" in spec.flags:
        err = write_gate(c, spec)
        if err is not None:
            if c.multi is not None:
                c.multi_error = True
            return reject(c, err, spec)
    if c.resp == 2 and (c.channels or c.patterns or c.shard_channels) and spec.name not in _SUBSCRIBED_OK:
        return reject(c, errors.NOT_ALLOWED_SUBSCRIBED.format(spec.name), spec)
    if srv.loading and "loading" not in spec.flags:
        return reject(c, errors.LOADING, spec)
    if c.multi is not None and spec.name not in _MULTI_IMMEDIATE:
        c.multi.append((spec, argv))
        return resp.QUEUED
    return call(c, spec, argv)


def write_gate(c: Session, spec: CommandSpec) -> str | None:
    """OOM, MISCONF and read-only replica checks for commands that write or grow memory."""
    return refusal(c, spec.is_write, "denyoom" in spec.flags)


def refusal(c: Session, write: bool, denyoom: bool) -> str | None:
    """What processCommand refuses a command that writes and/or may grow memory with, in
    its order: OOM, MISCONF, NOREPLICAS, READONLY (also for EXEC and flagged scripts)."""
    srv = c.srv
    if denyoom and srv.evictor is not None and not c.replaying:
        if not srv.evictor.make_room():
            return errors.OOM
    if write:
        if srv.write_refused is not None:
            return errors.MISCONF_LOG.format(srv.write_refused)
        if srv.noreplicas and not c.replaying:
            return errors.NOREPLICAS
        if srv.role != "master" and not c.replaying:
            return errors.READONLY
    return None


def _arity_rejected(argv: list[bytes], msg: str) -> CommandSpec | None:
    """The (sub)command a wrong-arity error is about: Redis counts it in its rejected_calls."""
    spec = COMMANDS.get(argv[0].lower())
    if spec is None:
        return None
    if spec.subcommands and len(argv) >= 2:
        spec = spec.subcommands.get(argv[1].lower())
    if spec is None or msg != errors.WRONG_ARITY.format(spec.name):
        return None
    return spec


def reject(c: Session, msg: str, spec: CommandSpec | None = None) -> bytes:
    srv = c.srv
    if c.multi is not None:
        c.multi_error = True  # Redis's flagTransaction: EXEC will answer EXECABORT
    if spec is not None and spec.name == "exec":
        # Redis's execCommandAbort (even outside MULTI): a rejected EXEC discards and says why
        c.multi = None
        c.multi_error = c.dirty_cas = False
        if c.watched:
            srv.ks.unwatch_all(c)
        msg = "EXECABORT Transaction discarded because of: " + (msg[4:] if msg.startswith("ERR ") else msg)
    srv.stats.count_error(msg)
    if spec is not None:
        spec.rejected_calls += 1
    return resp.error(msg)


# -- the fast path for plain data commands -------------------------------------------------
# Most traffic is data commands (GET, SET, LPUSH, ZADD ...) from clients with no special
# state.  For those, a connection checks the per-client and node-wide conditions once per
# read (plain_table) instead of once per command (execute's gates), and runs each command
# with call()'s work minus what that check covers, inline in its loop
# (net/server.py Connection.run).  Measured in one process (bench/inproc.py): SET 1.90 ->
# 1.69 µs, GET 1.25 -> 1.02 µs.
_PLAIN_CATEGORIES = frozenset({
    "string", "list", "hash", "set", "sortedset", "bitmap", "hyperloglog", "geo", "stream", "keyspace",
})
# anything that changes the session, blocks, runs other commands, or is administration
_NOT_PLAIN_FLAGS = frozenset({"admin", "noscript", "blocking", "pubsub", "no_multi", "no_auth", "loading", "stale"})
_NOT_PLAIN = frozenset({"select", "swapdb", "move", "migrate", "watch", "unwatch"})
# publishing changes neither the session nor the keyspace (its "pubsub" flag is for the
# subscribe family)
_PLAIN_EXTRA = frozenset({"publish", "spublish"})
PLAIN: dict[bytes, CommandSpec] = {}  # name (as sent in lower or upper case) -> spec
NO_PLAIN: dict[bytes, CommandSpec] = {}


def _is_plain(spec: CommandSpec) -> bool:
    if spec.name in _PLAIN_EXTRA:
        return True
    return (
        spec.handler is not None and not spec.subcommands
        and bool(spec.acl & _PLAIN_CATEGORIES) and "dangerous" not in spec.acl
        and not (spec.flags & _NOT_PLAIN_FLAGS) and spec.name not in _NOT_PLAIN
        and spec.name not in _PROPAGATES_INNER
    )


def plain_table(c: Session) -> dict[bytes, CommandSpec]:
    """The commands ``c`` may run on the plain path now (empty when none may)."""
    srv = c.srv
    if (
        c.multi is None and c.authenticated and srv.gated is False and not c.replaying
        and not (c.in_exec or c.in_script) and c.tracking is None and not srv.monitors
        and (c.resp == 3 or not (c.channels or c.patterns or c.shard_channels))
        and srv.evictor is None and srv.write_refused is None and not srv.noreplicas and srv.role == "master"
    ):
        if not PLAIN:
            PLAIN.update((name, spec) for name, spec in COMMANDS.items() if _is_plain(spec))
        return PLAIN
    return NO_PLAIN


def internal_error(srv: Any, spec: CommandSpec, e: Exception) -> bytes:
    log.exception("internal error in %s", spec.name)
    srv.stats.unexpected_error_replies += 1
    msg = errors.sanitize(f"ERR internal error in '{spec.name}': {type(e).__name__}: {e}")[:500]
    srv.stats.count_error(msg)
    spec.failed_calls += 1
    return resp.error(msg)


def call(c: Session, spec: CommandSpec, argv: list[bytes]) -> bytes:
    """Run the handler; log its effects; compute the log sequence its reply waits for."""
    reply = invoke(c, spec, argv, spec.name in _PROPAGATES_INNER)
    if not (c.in_exec or c.in_script):
        srv = c.srv
        srv.current_client = None
        bl = srv.blocking
        if bl is not None and bl.ready:  # serve clients blocked on keys this command made ready
            bl.serve_ready()
    return reply


def commit(c: Session, argv: list[bytes], dirty: int, as_itself: bool = True) -> int:
    """Hand a command's changes to the commit tracker: its effects, or the command itself
    when ``as_itself`` and it changed something (``dirty``: server.dirty before it), and
    the keys in ``modified`` (cleared), after noting them for clients blocked on keys.
    Returns the sequence its reply waits for (0 without a tracker, or while replaying)."""
    srv = c.srv
    ks = srv.ks
    modified = ks.modified
    bl = srv.blocking
    if bl is not None and bl.keys:  # blocked clients wait on keys: note the ready ones
        bl.note(modified)
    seq = 0
    tracker = srv.tracker
    if tracker is not None and not c.replaying:
        effects: list[tuple[int, list[bytes] | bytes]] | None = c.effects
        if effects is not None:
            seq = tracker.write(effects, modified)
        elif ks.dirty != dirty and as_itself:
            seq = tracker.write_one(c.db.id, argv, modified)
        else:
            seq = tracker.write(None, modified)
    modified.clear()
    c.effects = None
    return seq


def invoke(c: Session, spec: CommandSpec, argv: list[bytes], inner: bool = False) -> bytes:
    """:func:`call` without the end of a client's command (serving blocked clients): the
    handler, statistics, slowlog, commit and wait, MONITOR, client tracking.  Scripts run
    their redis.call commands with it (``c``: the script session).  ``inner``: the command
    runs others that log and wait for themselves (EXEC, a script): it is neither logged as
    itself nor waits for its keys, and a script ending in an error is a failed call."""
    srv = c.srv
    ks = srv.ks
    dirty = ks.dirty
    c.effects = None
    srv.current_client = c
    if not c.replaying:  # Redis counts what call() runs: not rejected or queued commands
        srv.stats.total_commands_processed += 1
    if inner and srv.monitors and spec.name in _SCRIPT_CALLS and not c.replaying:
        srv.extras["monitor_feed"](c, argv, True)
    t0 = perf_counter_ns()
    try:
        reply = spec.handler(c, argv)  # type: ignore[misc]
    except CommandError as e:
        srv.stats.count_error(e.msg)
        spec.failed_calls += 1
        reply = resp.error(e.msg)
    except Exception as e:  # a bug must cost one reply, never the server or the connection
        reply = internal_error(srv, spec, e)
    else:
        # a script that ends in an error failed (an error the handler raised, such as
        # NOSCRIPT, was counted above: Redis counts a failed call once)
        if inner and reply[:1] == b"-" and spec.name in _SCRIPT_CALLS:
            spec.failed_calls += 1
    spec.calls += 1
    us = (perf_counter_ns() - t0) // 1000
    spec.usec += us
    sl = srv.slowlog
    if reply is BLOCKED:  # its slow log entry, if any, is made when it is unblocked
        bl = srv.blocking
        if bl is not None:
            bl.called(c, argv, us)
        if sl is not None and us >= sl.threshold:
            sl.record(c, spec, argv, us, False)
    elif sl is not None and us >= sl.threshold:  # SLOWLOG and the latency monitor
        sl.record(c, spec, argv, us)
    if ks.modified:
        seq = commit(c, argv, dirty, not inner)
        if seq > c.wait:
            c.wait = seq
    elif not inner:  # (EXEC and scripts: each command they ran computed its own wait already)
        tracker = srv.tracker
        if tracker is not None and tracker.has_pending:
            seq = tracker.read_wait(c.db.id, spec, argv)
            if seq > c.wait:
                c.wait = seq
    if srv.monitors and not c.replaying:
        srv.extras["monitor_feed"](c, argv)
    if c.tracking is not None:  # client-side caching: remember read keys, send deferred invalidations
        reply = c.tracking.after(c, spec, argv, reply)
    return reply


def error_reply(c: Session, msg: str) -> bytes:
    c.srv.stats.count_error(msg)
    return resp.error(msg)
