"""CLIENT commands (ID INFO LIST KILL SETNAME GETNAME PAUSE UNPAUSE REPLY NO-EVICT UNBLOCK HELP),
CLIENT PAUSE's hold/resume of paused connections, and the connection limits enforced from
here: client-output-buffer-limit (``ctx.extras["output_limit"]``) and the idle ``timeout``.

CLIENT TRACKING/CACHING/GETREDIR/TRACKINGINFO live in :mod:`durakv.commands.tracking`.
"""

from __future__ import annotations

import time
from typing import Any

from .. import errors
from ..config import obuf_limits
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command, container
from ._util import parse_int

container("client", -2, "@slow")


# --------------------------------------------------------------------------- CLIENT LIST/INFO


def subcommand_syntax(argv: list[bytes]) -> str:
    """Redis's addReplySubcommandSyntaxError."""
    return errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(errors.fmt_arg(argv[1]), argv[0].decode("latin-1").upper())


def _flags(s: Session) -> str:
    f = ""
    if s.kind == "replica":
        f += "O" if "monitor" in s.flags else "S"
    if s.kind == "master":
        f += "M"
    if s.channels or s.patterns or s.shard_channels:
        f += "P"
    if s.multi is not None:
        f += "x"
    if s.blocked is not None:
        f += "b"
    if s.tracking:
        f += "t"
        tr = s.tracking
        if getattr(tr, "broken_redir", False):
            f += "R"
        if getattr(tr, "bcast", False):
            f += "B"
    if s.dirty_cas:
        f += "d"
    if s.close_after_reply:
        f += "c"
    if s.readonly_mode:
        f += "r"
    if s.no_evict:
        f += "e"
    if "monitor" in s.flags and s.kind != "replica":
        f = "O" + f
    return f or "N"


def client_info_string(s: Session, now: float | None = None, argv: list[bytes] | None = None) -> str:
    """One CLIENT LIST line (Redis 7.0's field list).  ``argv``: the command ``s`` is
    running (the CLIENT LIST/INFO itself): Redis 7.0 still holds it in the query buffer."""
    if now is None:
        now = time.time()
    conn = s.conn
    qbuf = 0
    omem = 0
    argv_mem = s.argv_mem
    rbs, rbp = 1024, 0
    if argv is not None:
        qbuf = len(resp.encode_command(argv))
        argv_mem = sum(map(len, argv))
        rbs = rbp = 16384  # the reply buffer a client gets when its first reply is built
        conn = None
    if conn is not None:
        try:
            qbuf = conn.parser.pending()
        except Exception:
            qbuf = 0
        t = conn.transport
        if t is not None:
            try:
                omem = t.get_write_buffer_size()
            except Exception:
                omem = 0
    tr = s.tracking
    redir = (getattr(tr, "redirect", 0) or 0) if tr else -1
    multi = -1 if s.multi is None else len(s.multi)
    user = s.user
    uname = getattr(user, "name", user) if user is not None else "default"
    if isinstance(uname, bytes):
        uname = uname.decode("latin-1")
    name = s.name.decode("latin-1")
    return (
        f"id={s.id} addr={s.addr} laddr={s.laddr} fd={s.fd} name={name} "
        f"age={int(now - s.created)} idle={int(now - s.last_interaction)} flags={_flags(s)} db={s.db.id} "
        f"sub={len(s.channels)} psub={len(s.patterns)} ssub={len(s.shard_channels)} multi={multi} "
        f"qbuf={qbuf} qbuf-free={max(0, 20474 - qbuf) if qbuf else 0} argv-mem={argv_mem} "
        f"multi-mem=0 rbs={rbs} rbp={rbp} obl=0 oll={1 if omem else 0} omem={omem} "
        f"tot-mem={rbs + qbuf + omem} events={'rw' if omem else 'r'} cmd={s.last_cmd} user={uname} "
        f"redir={redir} resp={s.resp}"
    )


def _type_of(s: Session) -> str:
    if s.kind == "master":
        return "master"
    if s.kind == "replica" and "monitor" not in s.flags:
        return "replica"
    if s.channels or s.patterns or s.shard_channels:
        return "pubsub"
    return "normal"


def _parse_type(t: bytes) -> str:
    x = t.lower()
    if x in (b"normal", b"master", b"pubsub"):
        return x.decode()
    if x in (b"replica", b"slave"):
        return "replica"
    raise CommandError(errors.sanitize("ERR Unknown client type '%s'" % t.decode("latin-1")))


@command("client|id", 2, "noscript loading stale", "@slow @connection")
def client_id(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(c.id)


@command("client|info", 2, "noscript loading stale", "@slow @connection")
def client_info(c: Session, argv: list[bytes]) -> bytes:
    return c.r.verbatim((client_info_string(c, argv=argv) + "\n").encode("latin-1"))


@command("client|list", -2, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_list(c: Session, argv: list[bytes]) -> bytes:
    clients = list(c.srv.clients.values())
    n = len(argv)
    if n == 4 and argv[2].lower() == b"type":
        t = _parse_type(argv[3])
        clients = [s for s in clients if _type_of(s) == t]
    elif n >= 4 and argv[2].lower() == b"id":
        ids = []
        for a in argv[3:]:
            try:
                ids.append(parse_int(a))
            except CommandError:
                raise CommandError("ERR Invalid client ID") from None
        by_id = c.srv.clients  # Redis prints a client once per time its id is given
        clients = [by_id[i] for i in ids if i in by_id]
    elif n != 2:
        raise CommandError(errors.SYNTAX)
    now = time.time()
    text = "".join(client_info_string(s, now, argv if s is c else None) + "\n" for s in clients)
    return c.r.verbatim(text.encode("latin-1"))


# --------------------------------------------------------------------------- CLIENT KILL


@command("client|kill", -3, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_kill(c: Session, argv: list[bytes]) -> bytes:
    srv = c.srv
    if len(argv) == 3:  # old form: CLIENT KILL ip:port
        addr = argv[2].decode("latin-1")
        for s in list(srv.clients.values()):
            if s.addr == addr:
                s.disconnect(c)
                return resp.OK
        raise CommandError("ERR No such client")
    cid = None
    ctype = None
    addr = laddr = user = None
    skipme = True
    for i in range(2, len(argv), 2):  # Redis parses (and refuses) option by option
        if i + 1 >= len(argv):
            raise CommandError(errors.SYNTAX)
        opt, val = argv[i].lower(), argv[i + 1]
        if opt == b"id":
            try:
                cid = parse_int(val)
            except CommandError:
                cid = 0
            if cid <= 0:
                raise CommandError("ERR client-id should be greater than 0")
        elif opt == b"type":
            ctype = _parse_type(val)
        elif opt == b"addr":
            addr = val.decode("latin-1")
        elif opt == b"laddr":
            laddr = val.decode("latin-1")
        elif opt == b"user":
            user = val.decode("latin-1")
            acl = srv.acl
            if acl is not None and hasattr(acl, "get_user"):
                if acl.get_user(val) is None:
                    raise CommandError(errors.sanitize(errors.NO_SUCH_USER.format(user)))
            elif user != "default":
                raise CommandError(errors.sanitize(errors.NO_SUCH_USER.format(user)))
        elif opt == b"skipme":
            v = val.lower()
            if v == b"yes":
                skipme = True
            elif v == b"no":
                skipme = False
            else:
                raise CommandError(errors.SYNTAX)
        else:
            raise CommandError(errors.SYNTAX)
    killed = 0
    for s in list(srv.clients.values()):
        if cid is not None and s.id != cid:
            continue
        if ctype is not None and _type_of(s) != ctype:
            continue
        if addr is not None and s.addr != addr:
            continue
        if laddr is not None and s.laddr != laddr:
            continue
        if user is not None:
            u = s.user
            uname = getattr(u, "name", u) if u is not None else "default"
            if isinstance(uname, bytes):
                uname = uname.decode("latin-1")
            if uname != user:
                continue
        if s is c and skipme:
            continue
        s.disconnect(c)
        killed += 1
    return resp.integer(killed)


# --------------------------------------------------------------------------- names


def validate_name(name: bytes) -> None:
    """Redis's validateClientName: printable ASCII without spaces."""
    for b in name:
        if b < 33 or b > 126:
            raise CommandError("ERR Client names cannot contain spaces, newlines or special characters.")


@command("client|setname", 3, "noscript loading stale", "@slow @connection")
def client_setname(c: Session, argv: list[bytes]) -> bytes:
    name = argv[2]
    validate_name(name)
    c.name = name
    return resp.OK


@command("client|getname", 2, "noscript loading stale", "@slow @connection")
def client_getname(c: Session, argv: list[bytes]) -> bytes:
    return resp.bulk(c.name) if c.name else c.r.null


# --------------------------------------------------------------------------- PAUSE


@command("client|pause", -3, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_pause(c: Session, argv: list[bytes]) -> bytes:
    try:
        ms = parse_int(argv[2])
    except CommandError:
        raise CommandError("ERR timeout is not an integer or out of range") from None
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    writes_only = False
    if len(argv) == 4:
        m = argv[3].lower()
        if m == b"write":
            writes_only = True
        elif m != b"all":
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    elif len(argv) > 4:
        raise CommandError(subcommand_syntax(argv))
    pause(c.srv, ms, writes_only)
    return resp.OK


@command("client|unpause", 2, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_unpause(c: Session, argv: list[bytes]) -> bytes:
    unpause(c.srv)
    return resp.OK


def pause(srv: Any, ms: int, writes_only: bool) -> None:
    """Pause clients for ``ms`` (a longer or stricter pause wins, as in Redis)."""
    now = time.monotonic()
    until = now + ms / 1000.0
    if srv.paused_until and srv.paused_until > now:
        # Redis keeps the most restrictive mode and the latest end time
        if not srv.pause_writes_only:
            writes_only = False
        until = max(until, srv.paused_until)
    srv.paused_until = until
    srv.pause_writes_only = writes_only
    # like Redis, keys do not expire while clients are paused (they read as missing but stay,
    # so that a paused primary does not produce writes); eviction is paused too
    if "_pause_expire_prev" not in srv.extras:
        srv.extras["_pause_expire_prev"] = srv.ks.expire_allowed
        srv.ks.expire_allowed = False
    _schedule_unpause(srv)


def _schedule_unpause(srv: Any) -> None:
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    h = srv.extras.pop("_pause_timer", None)
    if h is not None:
        h.cancel()
    delay = max(0.0, srv.paused_until - time.monotonic())
    srv.extras["_pause_timer"] = loop.call_later(delay, _pause_timeout, srv)


def _pause_timeout(srv: Any) -> None:
    srv.extras.pop("_pause_timer", None)
    if srv.paused_until and time.monotonic() + 0.0005 >= srv.paused_until:
        unpause(srv)
    elif srv.paused_until:
        _schedule_unpause(srv)


def unpause(srv: Any) -> None:
    srv.paused_until = 0.0
    srv.pause_writes_only = False
    if "_pause_expire_prev" in srv.extras:
        srv.ks.expire_allowed = srv.extras.pop("_pause_expire_prev")
    h = srv.extras.pop("_pause_timer", None)
    if h is not None:
        h.cancel()
    held: set[Any] = srv.extras.setdefault("_paused_conns", set())
    conns = list(held)
    held.clear()
    for conn in conns:
        if conn.closing:
            continue
        if conn.session is not None and conn.session.blocked is not None:
            continue  # still blocked (BLPOP ...): the blocking layer resumes the rest
        rest = conn.blocked_cmds or []
        conn.blocked_cmds = None
        conn.run(rest, None)
        conn.resume_input()
    for s in list(srv.clients.values()):
        conn = s.conn
        if conn is not None and conn.paused_input and conn.blocked_cmds is None and not conn.closing:
            conn.resume_input()


def _pausable(srv: Any, argv: list[bytes], s: Session) -> bool:
    from ..dispatch import resolve

    sp = resolve(argv)
    if type(sp) is str:
        return False
    if sp.is_write or "may_replicate" in sp.flags:
        return True
    name = sp.name
    if name in ("eval", "evalsha", "fcall", "publish", "spublish", "pfcount"):
        return True
    if name == "exec" and s.multi:
        return any(q[0].is_write for q in s.multi)
    return False


def pause_wait(conn: Any) -> None:
    """net calls this when input arrives while clients are paused (ctx.paused_until)."""
    srv = conn.ctx
    if srv.paused_until and time.monotonic() >= srv.paused_until:
        unpause(srv)
        return
    if "_pause_timer" not in srv.extras:
        _schedule_unpause(srv)
    s = conn.session
    if not srv.pause_writes_only or s is None:
        return  # everything waits in conn.paused_input
    data = b"".join(conn.paused_input)
    conn.paused_input = []
    cmds, err = conn.parser.feed(data)
    for i, argv in enumerate(cmds):
        if _pausable(srv, argv, s) and not (s.multi is not None and argv[0].lower() not in (b"exec",)):
            conn.run(cmds[:i], None)
            if conn.closing:
                return
            if conn.blocked_cmds is None:
                conn.blocked_cmds = cmds[i:]
            else:
                conn.blocked_cmds.extend(cmds[i:])
            srv.extras.setdefault("_paused_conns", set()).add(conn)
            return
    conn.run(cmds, err)


# --------------------------------------------------------------------------- REPLY, NO-EVICT, UNBLOCK


@command("client|reply", 3, "noscript loading stale", "@slow @connection")
def client_reply(c: Session, argv: list[bytes]) -> bytes:
    m = argv[2].lower()
    if m == b"on":
        c.reply_mode = 0
        return resp.OK
    if m == b"off":
        c.reply_mode = 1
        return b""
    if m == b"skip":
        if c.reply_mode != 1:
            c.reply_mode = 2
        return b""
    raise CommandError(errors.SYNTAX)


@command("client|no-evict", 3, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_no_evict(c: Session, argv: list[bytes]) -> bytes:
    m = argv[2].lower()
    if m == b"on":
        c.no_evict = True
    elif m == b"off":
        c.no_evict = False
    else:
        raise CommandError(errors.SYNTAX)
    return resp.OK


@command("client|unblock", -3, "admin noscript loading stale", "@admin @slow @dangerous @connection")
def client_unblock(c: Session, argv: list[bytes]) -> bytes:
    cid = parse_int(argv[2])
    error = False
    if len(argv) == 4:
        m = argv[3].lower()
        if m == b"error":
            error = True
        elif m != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise CommandError(subcommand_syntax(argv))
    target = c.srv.clients.get(cid)
    blocking = c.srv.blocking
    if target is None or target.blocked is None or blocking is None:
        return resp.ZERO
    fn = getattr(blocking, "unblock_client", None) or getattr(blocking, "unblock", None)
    if fn is None:
        return resp.ZERO
    ok = fn(target, error)
    return resp.ONE if ok is None or ok else resp.ZERO


@command("client|help", 2, "loading stale", "@slow @connection")
def client_help(c: Session, argv: list[bytes]) -> bytes:
    from .server import help_reply

    return help_reply(argv[0], _HELP_CLIENT)


# --------------------------------------------------------------------------- limits


def output_limit(conn: Any) -> None:
    """Disconnect a client whose pending output exceeds client-output-buffer-limit."""
    s = conn.session
    t = conn.transport
    if s is None or t is None or conn.closing:
        return
    srv = conn.ctx
    limits = srv.extras.get("_obuf_limits")
    if limits is None:
        limits = srv.extras["_obuf_limits"] = obuf_limits(srv.config["client-output-buffer-limit"])
    cls = "slave" if s.kind == "replica" else ("pubsub" if (s.channels or s.patterns or s.shard_channels) else "normal")
    if "monitor" in s.flags:
        cls = "normal"
    hard, soft, secs = limits[cls]
    if not hard and not soft:
        return
    size = t.get_write_buffer_size()
    over = False
    if hard and size >= hard:
        over = True
    elif soft and size >= soft:
        now = time.monotonic()
        if not conn.soft_since:
            conn.soft_since = now
        elif now - conn.soft_since >= secs:
            over = True
    else:
        conn.soft_since = 0.0
    if over:
        srv.stats.client_output_buffer_limit_disconnections += 1
        conn.abort()


def _cron_limits(node: Any) -> None:
    """Idle ``timeout`` and the soft output-buffer limit (checked without new writes)."""
    srv = node.ctx
    timeout = srv.config["timeout"]
    now = time.time()
    for s in list(srv.clients.values()):
        conn = s.conn
        if conn is None or conn.closing:
            continue
        if conn.transport is not None and conn.soft_since:
            output_limit(conn)
        if (timeout and s.kind == "normal" and s.blocked is None and not s.channels and not s.patterns
                and not s.shard_channels and "monitor" not in s.flags and now - s.last_interaction > timeout):
            conn.close()


def install_hooks(ctx: Any) -> None:
    ctx.extras["pause_wait"] = pause_wait
    ctx.extras["output_limit"] = output_limit
    ctx.extras["validate_client_name"] = validate_name
    ctx.config.watch("client-output-buffer-limit", lambda v: ctx.extras.pop("_obuf_limits", None))
    ctx.extras.setdefault("cron", []).append(_cron_limits)


_HELP_CLIENT = (
    'CACHING (YES|NO)',
    '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
    'GETREDIR',
    '    Return the client ID we are redirecting to when tracking is enabled.',
    'GETNAME',
    '    Return the name of the current connection.',
    'ID',
    '    Return the ID of the current connection.',
    'INFO',
    '    Return information about the current client connection.',
    'KILL <ip:port>',
    '    Kill connection made from <ip:port>.',
    'KILL <option> <value> [<option> <value> [...]]',
    '    Kill connections. Options are:',
    '    * ADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made from the specified address',
    '    * LADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made to specified local address',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Kill connections by type.',
    '    * USER <username>',
    '      Kill connections authenticated by <username>.',
    '    * SKIPME (YES|NO)',
    '      Skip killing current connection (default: yes).',
    'LIST [options ...]',
    '    Return information about client connections. Options:',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Return clients of specified type.',
    'UNPAUSE',
    '    Stop the current client pause, resuming traffic.',
    'PAUSE <timeout> [WRITE|ALL]',
    '    Suspend all, or just write, clients for <timeout> milliseconds.',
    'REPLY (ON|OFF|SKIP)',
    '    Control the replies sent to the current connection.',
    'SETNAME <name>',
    '    Assign the name <name> to the current connection.',
    'UNBLOCK <clientid> [TIMEOUT|ERROR]',
    '    Unblock the specified blocked client.',
    'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
    '         [OPTIN] [OPTOUT] [NOLOOP]',
    '    Control server assisted client side caching.',
    'TRACKINGINFO',
    '    Report tracking status for the current connection.',
    'NO-EVICT (ON|OFF)',
    '    Protect current client connection from eviction.',
)


def install(node: Any) -> None:
    """Listed in node.SUBSYSTEMS: pause, output limits, client names, idle timeout."""
    install_hooks(node.ctx)
