"""Scripting commands: EVAL EVALSHA EVAL_RO EVALSHA_RO, SCRIPT *, FUNCTION *, FCALL FCALL_RO.

The Lua machinery lives in :mod:`durakv.scripting` (``c.srv.scripting``).  EVAL & co are
in the dispatcher's ``_PROPAGATES_INNER``: the commands a script runs log their own
effects.  FUNCTION LOAD/DELETE/FLUSH/RESTORE are write commands: their argv is logged
(the library code is data), so functions survive restart.
"""

from __future__ import annotations

from .. import errors
from ..errors import CommandError, fmt_arg
from ..protocol import resp
from ..pubsub import glob_match
from ..session import Session
from ..spec import command, container
from ._util import parse_int


def _eval_keys(argv: list[bytes]) -> list[int]:
    if len(argv) == 4 and argv[2] == b"1":  # the common shape: one key
        return [3]
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    if n < 0 or n > len(argv) - 3:
        return []
    return list(range(3, 3 + n))


# numkeys as clients usually write it: skips parse_int's strict checks for the common case
_SMALL_INTS = {b"%d" % i: i for i in range(17)}


def _numkeys(argv: list[bytes], bad: str = errors.NOT_INTEGER) -> int:
    n = _SMALL_INTS.get(argv[2])
    if n is None:
        n = parse_int(argv[2], bad)
    if n > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if n < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return n


def _eval(c: Session, argv: list[bytes], is_sha: bool, ro: bool) -> bytes:
    sc = c.srv.scripting
    if is_sha and len(argv[1]) != 40:  # Redis's evalShaCommand: no sha of another length
        raise CommandError(errors.NOSCRIPT)
    n = _numkeys(argv)
    if is_sha:
        script = sc.scripts.get(argv[1])  # the cache is keyed by the lowercase sha
        if script is None:
            sha = argv[1].lower()
            script = sc.scripts.get(sha) if len(sha) == 40 else None
            if script is None:
                raise CommandError(errors.NOSCRIPT)
    else:
        script = sc.create_script(argv[1])
    flags = script.flags
    if flags is None:  # compatibility mode (no shebang): sc.prepare would answer (ro, False)
        return sc.run(c, script.fn, argv, n, script.sha, ro, False, True, False)
    readonly, allow_oom = sc.prepare(c, flags, ro)
    return sc.run(c, script.fn, argv, n, script.sha, readonly, allow_oom, False, False)


@command("eval", -3, "noscript stale skip_monitor no_mandatory_keys", "@slow @scripting", keys_fn=_eval_keys)
def eval_(c: Session, argv: list[bytes]) -> bytes:
    return _eval(c, argv, False, False)


@command("evalsha", -3, "noscript stale skip_monitor no_mandatory_keys", "@slow @scripting", keys_fn=_eval_keys)
def evalsha(c: Session, argv: list[bytes]) -> bytes:
    # the common case inline (small numkeys, cached sha as sent, no shebang); else _eval
    n = _SMALL_INTS.get(argv[2])
    if n is not None and n <= len(argv) - 3:
        sc = c.srv.scripting
        script = sc.scripts.get(argv[1])
        if script is not None and script.flags is None:
            return sc.run(c, script.fn, argv, n, script.sha, False, False, True, False)
    return _eval(c, argv, True, False)


@command("eval_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys", "@slow @scripting",
         keys_fn=_eval_keys)
def eval_ro(c: Session, argv: list[bytes]) -> bytes:
    return _eval(c, argv, False, True)


@command("evalsha_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys", "@slow @scripting",
         keys_fn=_eval_keys)
def evalsha_ro(c: Session, argv: list[bytes]) -> bytes:
    return _eval(c, argv, True, True)


def _fcall(c: Session, argv: list[bytes], ro: bool) -> bytes:
    sc = c.srv.scripting
    f = sc.functions.get(argv[1]) or sc.functions.get(argv[1].lower())
    if f is None:
        raise CommandError("ERR Function not found")
    n = _SMALL_INTS.get(argv[2])
    if n is None or n > len(argv) - 3:
        n = _numkeys(argv, "ERR Bad number of keys provided")
    srv = c.srv
    if not f.flags and not ro and srv.evictor is None and srv.write_refused is None and srv.role == "master":
        readonly = allow_oom = False  # what sc.prepare answers for a flagless function here
    else:
        readonly, allow_oom = sc.prepare(c, f.flags, ro)
    return sc.run(c, f.fn, argv, n, f.name, readonly, allow_oom, False, True)


@command("fcall", -3, "noscript stale skip_monitor no_mandatory_keys", "@slow @scripting", keys_fn=_eval_keys)
def fcall(c: Session, argv: list[bytes]) -> bytes:
    return _fcall(c, argv, False)


@command("fcall_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys", "@slow @scripting",
         keys_fn=_eval_keys)
def fcall_ro(c: Session, argv: list[bytes]) -> bytes:
    return _fcall(c, argv, True)


# -- SCRIPT --------------------------------------------------------------------------------------

container("script", -2, "@slow")

_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@command("script|help", 2, "loading stale", "@slow @scripting")
def script_help(c: Session, argv: list[bytes]) -> bytes:
    return resp.array([resp.simple(x) for x in _SCRIPT_HELP])


@command("script|load", 3, "noscript stale", "@slow @scripting")
def script_load(c: Session, argv: list[bytes]) -> bytes:
    return resp.bulk(c.srv.scripting.create_script(argv[2]).sha)


@command("script|exists", -3, "noscript", "@slow @scripting")
def script_exists(c: Session, argv: list[bytes]) -> bytes:
    scripts = c.srv.scripting.scripts
    return resp.array([resp.ONE if a.lower() in scripts else resp.ZERO for a in argv[2:]])


@command("script|flush", -2, "noscript", "@slow @scripting")
def script_flush(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    c.srv.scripting.flush_scripts()
    return resp.OK


@command("script|kill", 2, "noscript allow_busy", "@slow @scripting")
def script_kill(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.scripting.busy.kill(c, False)


@command("script|debug", 3, "noscript", "@slow @scripting")
def script_debug(c: Session, argv: list[bytes]) -> bytes:
    # Redis refuses it while replies are pending (inside EXEC; durakv cannot see a pipeline)
    if c.in_exec:
        raise CommandError(errors.SCRIPT_DEBUG_PIPELINE)
    mode = argv[2].lower()
    if mode in (b"no", b"yes", b"sync"):
        # Redis answers +OK and debugs the next EVAL in a forked LDB session (a redis-cli
        # protocol); durakv has no debugger: the answer matches, scripts then run normally
        return resp.OK
    raise CommandError(errors.SCRIPT_DEBUG_USAGE)


# -- FUNCTION ------------------------------------------------------------------------------------

container("function", -2, "@slow")

_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


def _functions_changed(c: Session) -> None:
    """Function libraries are data: count the change so the dispatcher logs the argv."""
    ks = c.srv.ks
    ks.dirty += 1
    ks.modified.append((c.db.id, b""))


@command("function|help", 2, "loading stale", "@slow @scripting")
def function_help(c: Session, argv: list[bytes]) -> bytes:
    return resp.array([resp.simple(x) for x in _FUNCTION_HELP])


@command("function|load", -3, "write denyoom noscript", "@write @slow @scripting")
def function_load(c: Session, argv: list[bytes]) -> bytes:
    replace = False
    for opt in argv[2:-1]:
        if opt.lower() == b"replace":
            replace = True
        else:
            raise CommandError("ERR Unknown option given: %s" % fmt_arg(opt))
    name = c.srv.scripting.load_library(argv[-1], replace)
    _functions_changed(c)
    return resp.bulk(name)


@command("function|delete", 3, "write noscript", "@write @slow @scripting")
def function_delete(c: Session, argv: list[bytes]) -> bytes:
    c.srv.scripting.delete_library(argv[2])
    _functions_changed(c)
    return resp.OK


@command("function|flush", -2, "write noscript", "@write @slow @scripting")
def function_flush(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(fmt_arg(argv[1]), "FUNCTION"))
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    c.srv.scripting.flush_functions()
    _functions_changed(c)
    return resp.OK


@command("function|list", -2, "noscript", "@slow @scripting")
def function_list(c: Session, argv: list[bytes]) -> bytes:
    withcode = False
    pattern = None
    i = 2
    while i < len(argv):
        a = argv[i].lower()
        if a == b"withcode" and not withcode:
            withcode = True
        elif a == b"libraryname" and pattern is None:
            if i + 1 >= len(argv):
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise CommandError("ERR Unknown argument %s" % fmt_arg(argv[i]))
        i += 1
    r = c.r
    out = []
    for lib in c.srv.scripting.libraries.values():
        if pattern is not None and not glob_match(pattern.lower(), lib.name.lower()):  # nocase
            continue
        funcs = []
        for f in lib.functions.values():
            flags = [resp.simple(x) for x in ("no-writes", "allow-oom", "allow-stale", "no-cluster",
                                                "allow-cross-slot-keys") if x in f.flags]
            funcs.append(r.map([
                (resp.bulk(b"name"), resp.bulk(f.name)),
                (resp.bulk(b"description"), resp.bulk(f.description) if f.description is not None else r.null),
                (resp.bulk(b"flags"), r.set(flags)),
            ]))
        fields = [
            (resp.bulk(b"library_name"), resp.bulk(lib.name)),
            (resp.bulk(b"engine"), resp.bulk(b"LUA")),
            (resp.bulk(b"functions"), resp.array(funcs)),
        ]
        if withcode:
            fields.append((resp.bulk(b"library_code"), resp.bulk(lib.code)))
        out.append(r.map(fields))
    return resp.array(out)


@command("function|dump", 2, "noscript", "@slow @scripting")
def function_dump(c: Session, argv: list[bytes]) -> bytes:
    from ..scripting.dump import dump_payload

    return resp.bulk(dump_payload(c.srv.scripting.dump_libraries()))


@command("function|restore", -3, "write denyoom noscript", "@write @slow @scripting")
def function_restore(c: Session, argv: list[bytes]) -> bytes:
    from ..scripting.dump import restore_payload

    policy = b"append"
    if len(argv) > 4:
        raise CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(fmt_arg(argv[1]), "FUNCTION"))
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in (b"flush", b"append", b"replace"):
            raise CommandError(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
            )
    restore_payload(c.srv.scripting, argv[2], policy)
    _functions_changed(c)
    return resp.OK


@command("function|stats", 2, "noscript allow_busy", "@slow @scripting")
def function_stats(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.scripting.stats_reply(c.r)


@command("function|kill", 2, "noscript allow_busy", "@slow @scripting")
def function_kill(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.scripting.busy.kill(c, True)
