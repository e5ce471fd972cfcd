"""ACL: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT GENPASS LOG DRYRUN LOAD SAVE HELP."""

from __future__ import annotations

import secrets
from typing import Any

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import COMMANDS, command, container
from ._util import parse_int
from .server import help_reply

container("acl", -2, "@slow")

_ADMIN = "admin noscript loading stale"
_ADMIN_CATS = "@admin @slow @dangerous"


def _engine(c: Session) -> Any:
    return c.srv.extras["acl_engine"]


def _arity_error(argv: list[bytes]) -> CommandError:
    return CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(errors.fmt_arg(argv[1]), "ACL"))


@command("acl|cat", -2, "noscript loading stale", "@slow")
def acl_cat(c: Session, argv: list[bytes]) -> bytes:
    from ..acl import CATEGORIES, universe

    if len(argv) > 3:
        raise _arity_error(argv)
    if len(argv) == 2:
        return resp.bulks([x.encode() for x in CATEGORIES])
    cat = argv[2].decode("latin-1").lower()
    if cat not in CATEGORIES:
        raise CommandError(errors.sanitize(errors.ACL_UNKNOWN_CATEGORY.format(argv[2].decode("latin-1"))))
    return resp.bulks([n.encode() for n in universe().by_cat[cat]])


@command("acl|deluser", -3, _ADMIN, _ADMIN_CATS)
def acl_deluser(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(_engine(c).deluser(c, argv[2:]))


@command("acl|dryrun", -4, _ADMIN, _ADMIN_CATS)
def acl_dryrun(c: Session, argv: list[bytes]) -> bytes:
    eng = _engine(c)
    u = eng.get_user(argv[2])
    if u is None:
        raise CommandError(errors.sanitize(errors.ACL_DRYRUN_NO_USER.format(argv[2].decode("latin-1"))))
    args = argv[3:]
    spec = COMMANDS.get(args[0]) or COMMANDS.get(args[0].lower())
    if spec is not None and spec.subcommands and len(args) > 1:
        spec = spec.subcommands.get(args[1]) or spec.subcommands.get(args[1].lower())
    if spec is None:
        raise CommandError(errors.sanitize(errors.ACL_DRYRUN_NO_COMMAND.format(args[0].decode("latin-1"))))
    a, n = spec.arity, len(args)
    if (a > 0 and a != n) or n < -a:
        raise CommandError(errors.WRONG_ARITY.format(spec.name))
    msg = eng.dryrun_message(u, spec, args)
    if msg is None:
        return resp.OK
    return resp.bulk(msg.encode("latin-1"))


@command("acl|genpass", -2, "noscript loading stale", "@slow")
def acl_genpass(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 3:
        raise _arity_error(argv)
    bits = 256
    if len(argv) == 3:
        bits = parse_int(argv[2])
        if bits <= 0 or bits > 4096:
            raise CommandError(errors.ACL_GENPASS_BITS)
    chars = (bits + 3) // 4
    # a password: the OS's secure random source (Redis's getRandomHexChars), not the node rng
    return resp.bulk(secrets.token_hex((chars + 1) // 2)[:chars].encode())


def _selector_fields(c: Session, s: Any, uni: Any) -> list[tuple[bytes, bytes]]:
    return [
        (resp.bulk(b"commands"), resp.bulk(s.describe_commands(uni).encode("latin-1"))),
        (resp.bulk(b"keys"), resp.bulk(s.describe_keys())),
        (resp.bulk(b"channels"), resp.bulk(s.describe_channels())),
    ]


@command("acl|getuser", 3, _ADMIN, _ADMIN_CATS)
def acl_getuser(c: Session, argv: list[bytes]) -> bytes:
    from ..acl import universe

    u = _engine(c).get_user(argv[2])
    if u is None:
        return c.r.null
    uni = universe()
    r = c.r
    fields = [
        (resp.bulk(b"flags"), r.set([resp.bulk(f.encode()) for f in u.flags()])),
        (resp.bulk(b"passwords"), resp.bulks(u.passwords)),
    ]
    fields.extend(_selector_fields(c, u.root, uni))
    fields.append((resp.bulk(b"selectors"), resp.array([r.map(_selector_fields(c, s, uni)) for s in u.selectors[1:]])))
    return r.map(fields)


@command("acl|help", 2, "loading stale", "@slow")
def acl_help(c: Session, argv: list[bytes]) -> bytes:
    return help_reply(argv[0], [
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
    ])


@command("acl|list", 2, _ADMIN, _ADMIN_CATS)
def acl_list(c: Session, argv: list[bytes]) -> bytes:
    return resp.bulks(_engine(c).list_lines())


@command("acl|load", 2, _ADMIN, _ADMIN_CATS)
def acl_load(c: Session, argv: list[bytes]) -> bytes:
    from ..acl.file import load_command

    load_command(c, _engine(c))
    return resp.OK


@command("acl|save", 2, _ADMIN, _ADMIN_CATS)
def acl_save(c: Session, argv: list[bytes]) -> bytes:
    from ..acl.file import save_command

    save_command(c, _engine(c))
    return resp.OK


@command("acl|log", -2, _ADMIN, _ADMIN_CATS)
def acl_log(c: Session, argv: list[bytes]) -> bytes:
    from ..acl import _REASONS

    if len(argv) > 3:
        raise _arity_error(argv)
    eng = _engine(c)
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            eng.log.clear()
            return resp.OK
        count = parse_int(argv[2])
        if count < 0:
            count = 0
    now = c.srv.clock.now_ms()
    r = c.r
    out = []
    for e in eng.log[:count]:
        out.append(r.map([
            (resp.bulk(b"count"), resp.integer(e.count)),
            (resp.bulk(b"reason"), resp.bulk(_REASONS.get(e.reason, b"unknown"))),
            (resp.bulk(b"context"), resp.bulk(e.context)),
            (resp.bulk(b"object"), resp.bulk(e.object)),
            (resp.bulk(b"username"), resp.bulk(e.username)),
            (resp.bulk(b"age-seconds"), r.double((now - e.ctime) / 1000)),
            (resp.bulk(b"client-info"), resp.bulk(e.cinfo)),
        ]))
    return resp.array(out)


@command("acl|setuser", -3, _ADMIN, _ADMIN_CATS)
def acl_setuser(c: Session, argv: list[bytes]) -> bytes:
    _engine(c).setuser(argv[2], argv[3:])
    return resp.OK


@command("acl|users", 2, _ADMIN, _ADMIN_CATS)
def acl_users(c: Session, argv: list[bytes]) -> bytes:
    return resp.bulks(sorted(_engine(c).users))


@command("acl|whoami", 2, "noscript loading stale", "@slow")
def acl_whoami(c: Session, argv: list[bytes]) -> bytes:
    u = c.user
    name = u.name if u is not None else b"default"
    return resp.bulk(name)
