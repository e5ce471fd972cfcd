"""Connection commands: PING ECHO SELECT QUIT HELLO."""

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
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            auth = c.srv.extras.get("auth")
            user, pw = argv[i + 1], argv[i + 2]
            if auth is None:
                raise CommandError(
                    "WRONGPASS invalid username-password pair or user is disabled."
                )
            auth(c, user, pw)
            i += 3
        elif opt == b"setname" and more >= 1:
            setname = argv[i + 1]
            i += 2
        else:
            raise CommandError("ERR Syntax error in HELLO option '%s'" % errors.fmt_arg(argv[i]))
    if not c.authenticated:
        raise CommandError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if setname is not None:
        validate = c.srv.extras.get("validate_client_name")
        if validate is not None:
            validate(setname)
        c.name = setname
    c.set_resp(ver)
    srv = c.srv
    from .. import __version__

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
    del __version__
    return r.map(fields)
