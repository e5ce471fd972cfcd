"""Connection commands: PING ECHO SELECT QUIT HELLO AUTH RESET (requirepass and the ``default`` user)."""

from __future__ import annotations

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command
from ._util import parse_int


@command("ping", -1, "fast sentinel", "@fast @connection")
def ping(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 2:
        raise CommandError(errors.WRONG_ARITY.format("ping"))
    if c.resp == 2 and c.subscriptions():
        msg = argv[1] if len(argv) == 2 else b""
        return resp.bulks([b"pong", msg])
    if len(argv) == 2:
        return resp.bulk(argv[1])
    return resp.PONG


@command("echo", 2, "loading stale fast", "@fast @connection")
def echo(c: Session, argv: list[bytes]) -> bytes:
    return resp.bulk(argv[1])


@command("select", 2, "loading stale fast", "@fast @connection")
def select(c: Session, argv: list[bytes]) -> bytes:
    idx = parse_int(argv[1], "ERR value is not an integer or out of range")
    dbs = c.srv.ks.dbs
    if idx < 0 or idx >= len(dbs):
        raise CommandError(errors.INVALID_DB)
    c.db = dbs[idx]
    return resp.OK


@command("quit", -1, "noscript loading stale fast no_auth allow_busy", "@fast @connection")
def quit_(c: Session, argv: list[bytes]) -> bytes:
    c.close()
    return resp.OK


@command("hello", -1, "noscript loading stale fast no_auth sentinel allow_busy", "@fast @connection")
def hello(c: Session, argv: list[bytes]) -> bytes:
    ver = c.resp
    i = 1
    if len(argv) >= 2:
        try:
            ver = parse_int(argv[1])
        except CommandError:
            raise CommandError("ERR Protocol version is not an integer or out of range") from None
        if ver < 2 or ver > 3:
            raise CommandError("NOPROTO unsupported protocol version")
        i = 2
    setname = None
    creds = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            creds = (argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"setname" and more >= 1:
            setname = argv[i + 1]
            i += 2
        else:
            raise CommandError("ERR Syntax error in HELLO option '%s'" % errors.fmt_arg(argv[i]))
    if creds is not None:
        authenticate(c, creds[0], creds[1], argv[0])
    if not c.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if setname is not None:
        validate = c.srv.extras.get("validate_client_name")
        if validate is not None:
            validate(setname)
        c.name = setname
    c.set_resp(ver)
    srv = c.srv
    r = c.r
    fields = [
        (resp.bulk(b"server"), resp.bulk(b"redis")),
        (resp.bulk(b"version"), resp.bulk(b"7.0.15")),
        (resp.bulk(b"proto"), resp.integer(ver)),
        (resp.bulk(b"id"), resp.integer(c.id)),
        (resp.bulk(b"mode"), resp.bulk(b"cluster" if srv.cluster is not None else b"standalone")),
        (resp.bulk(b"role"), resp.bulk(b"master" if srv.role == "master" else b"replica")),
        (resp.bulk(b"modules"), resp.EMPTY_ARRAY),
    ]
    return r.map(fields)


WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOPASS = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)


def authenticate(c: Session, user: bytes, password: bytes, argv0: bytes = b"AUTH") -> None:
    """Check credentials (the ACL subsystem's ``auth`` hook, else ``requirepass`` and the
    ``default`` user); raises WRONGPASS, marks the session authenticated on success.
    ``argv0`` (the command as typed) names a failure in the ACL LOG."""
    hook = c.srv.extras.get("auth")
    if hook is not None:
        hook(c, user, password, argv0)
        return
    req = c.srv.config["requirepass"]
    if user != b"default" or (req and password != req.encode("latin-1")):
        raise CommandError(WRONGPASS)
    c.authenticated = True


@command("auth", -2, "noscript loading stale fast no_auth allow_busy", "@fast @connection")
def auth(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        nopass = c.srv.extras.get("auth_default_nopass")  # the ACL's default user has nopass
        if nopass() if nopass is not None else not c.srv.config["requirepass"]:
            raise CommandError(AUTH_NOPASS)
        authenticate(c, b"default", argv[1], argv[0])
    else:
        authenticate(c, argv[1], argv[2], argv[0])
    return resp.OK


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", "@fast @connection")
def reset(c: Session, argv: list[bytes]) -> bytes:
    srv = c.srv
    if "monitor" in c.flags:
        c.flags.discard("monitor")
        if c in srv.monitors:
            srv.monitors.remove(c)
        if c.kind == "replica":
            c.kind = "normal"
    c.multi = None
    c.multi_error = False
    for db, key in c.watched:
        w = db.watched.get(key)
        if w is not None:
            w.discard(c)
            if not w:
                del db.watched[key]
    c.watched = []
    c.dirty_cas = False
    drop = srv.extras.get("pubsub_reset")
    if drop is not None:
        drop(c)
    else:
        c.channels.clear()
        c.patterns.clear()
        c.shard_channels.clear()
    c.db = srv.ks.dbs[0]
    c.set_resp(2)
    c.name = b""
    c.no_evict = False
    c.reply_mode = 0
    c.asking = False
    c.readonly_mode = False
    c.no_touch = False
    if srv.acl is not None:
        srv.acl.init_session(c)
    else:
        c.user = None
        c.authenticated = not srv.config["requirepass"]
    return resp.simple(b"RESET")
