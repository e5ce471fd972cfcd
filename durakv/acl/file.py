"""ACL LOAD / ACL SAVE and loading ``aclfile`` at start (Redis 7.0's ACLLoadFromFile)."""

from __future__ import annotations

import logging
import os
from typing import Any

from .. import errors
from ..errors import CommandError
from . import E_ALREADY, RuleError, User, merge_selector_args

log = logging.getLogger("durakv.acl")

NO_ACLFILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via "
    "the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration "
    "file set) in order to store users in the Redis configuration."
)
SAVE_FAILED = "ERR There was an error trying to save the ACLs. Please check the server logs for more information"


def parse_file(engine: Any, path: str) -> tuple[dict[bytes, User] | None, str]:
    """The users a file defines, or (None, Redis's error text)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, "Error loading ACLs, opening file '%s': %s" % (path, e.strerror)
    errs = ""
    users: dict[bytes, User] = {}
    for n, raw in enumerate(data.split(b"\n"), 1):
        line = raw.strip(b" \t\r\n")
        if not line:
            continue
        argv = [a for a in line.split(b" ") if a]
        if not argv:
            continue
        if argv[0] != b"user" or len(argv) < 2:
            errs += "%s:%d should start with user keyword followed by the username. " % (path, n)
            continue
        name = argv[1]
        if any(ch in b" \t\n\v\f\r\0" for ch in name):
            errs += "'%s:%d: username '%s' contains invalid characters. " % (path, n, name.decode("latin-1"))
            continue
        if name in users:
            errs += "WARNING: Duplicate user '%s' found on line %d. " % (name.decode("latin-1"), n)
            continue
        u = engine.new_user(name)
        users[name] = u
        merged, _ = merge_selector_args(argv[2:])
        if merged is None:
            errs += "%s:%d: Unmatched parenthesis in selector definition." % (path, n)
            continue
        for op in merged:
            try:
                engine.apply_rule(u, op.strip(b"\t\r\n"))
            except RuleError as e:
                errs += "%s:%d: Error in applying operation '%s': %s. " % (path, n, op.decode("latin-1"), e.reason)
                break
    if errs:
        return None, errs + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
    return users, ""


def install_users(engine: Any, c: Any, users: dict[bytes, User]) -> None:
    new_default = users.pop(b"default", None)
    d = engine.default
    if new_default is None:
        from . import unrestricted_default

        new_default = unrestricted_default()
    d.copy_from(new_default)
    old = engine.users
    engine.users = {b"default": d}
    engine.users.update(users)
    for name, u in old.items():
        if name == b"default":
            continue
        for s in list(engine.ctx.clients.values()):
            if s.user is u:
                s.user = d
                s.authenticated = False
                s.disconnect(c)
    engine.update_gate()


def load_command(c: Any, engine: Any) -> None:
    path = engine.ctx.config["aclfile"]
    if not path:
        raise CommandError(NO_ACLFILE)
    users, err = parse_file(engine, _abs(engine, path))
    if users is None:
        raise CommandError(errors.sanitize("ERR " + err))
    install_users(engine, c, users)


def save_command(c: Any, engine: Any) -> None:
    path = engine.ctx.config["aclfile"]
    if not path:
        raise CommandError(NO_ACLFILE)

    path = _abs(engine, path)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(b"".join(line + b"\n" for line in engine.list_lines()))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        log.warning("Opening temp ACL file for ACL SAVE: %s", e)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CommandError(SAVE_FAILED) from None


def _abs(engine: Any, path: str) -> str:
    # relative to the working directory, which the server sets to ``dir`` (as Redis does)
    return path


def load_at_start(engine: Any, path: str) -> None:
    users, err = parse_file(engine, _abs(engine, path))
    if users is None:
        raise SystemExit("Aborting Redis startup because of ACL errors: " + err)
    install_users(engine, None, users)


def load_config_users(engine: Any, lines: list[str]) -> None:
    """``user`` directives of the config file / command line (Redis's ACLLoadConfiguredUsers)."""
    seen: set[bytes] = set()
    for text in lines:
        argv = [a.encode("latin-1") for a in text.split(" ") if a]
        if not argv:
            raise SystemExit("*** FATAL CONFIG FILE ERROR ***\nBad directive or wrong number of arguments: user")
        name = argv[0]
        if any(ch in b" \t\n\v\f\r\0" for ch in name):
            raise SystemExit("*** FATAL CONFIG FILE ERROR ***\nUsernames can't contain spaces or null characters")
        if name in seen:
            raise SystemExit("*** FATAL CONFIG FILE ERROR ***\n" + E_ALREADY)
        seen.add(name)
        u = engine.users.get(name)
        if u is None:
            u = engine.new_user(name)
        else:
            engine.apply_rule(u, b"reset")
        merged, _ = merge_selector_args(argv[1:])
        if merged is None:
            raise SystemExit("*** FATAL CONFIG FILE ERROR ***\nUnmatched parenthesis in acl selector")
        for op in merged:
            try:
                engine.apply_rule(u, op)
            except RuleError as e:
                raise SystemExit(
                    "*** FATAL CONFIG FILE ERROR ***\nError in user declaration '%s': %s"
                    % (op.decode("latin-1"), e.reason)
                ) from None
        engine.users[name] = u
    engine.update_gate()
