"""Client-side caching commands: CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO.

Subcommands of the ``client`` container declared by :mod:`durakv.commands.client`
(imported first: handler modules import alphabetically).  The tracking table, BCAST
prefixes and invalidation messages live in :mod:`durakv.pubsub`.
"""

from __future__ import annotations

from .. import errors
from ..errors import CommandError, fmt_arg
from ..protocol import resp
from ..session import Session
from ..spec import all_commands, command, container
from ._util import parse_int

if "client" not in all_commands():  # pragma: no cover - client.py not written yet
    container("client", -2, "@slow")


def _overlap(a: bytes, b: bytes) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@command("client|tracking", -3, "noscript loading stale", "@slow @connection")
def client_tracking(c: Session, argv: list[bytes]) -> bytes:
    ps = c.srv.pubsub
    redir = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    j = 3
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        more = n - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redir != 0:
                raise CommandError(errors.TRACKING_SINGLE_REDIRECT)
            redir = parse_int(argv[j])
            if redir not in c.srv.clients:
                raise CommandError(errors.TRACKING_REDIRECT_MISSING)
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"on":
        if not bcast and prefixes:
            raise CommandError(errors.TRACKING_PREFIX_NEEDS_BCAST)
        t = c.tracking
        if t is not None and t.bcast != bcast:
            raise CommandError(errors.TRACKING_SWITCH_BCAST)
        if bcast and (optin or optout):
            raise CommandError(errors.TRACKING_OPTIN_BCAST)
        if optin and optout:
            raise CommandError(errors.TRACKING_OPTIN_OPTOUT)
        if t is not None and ((optin and t.optout) or (optout and t.optin)):
            raise CommandError(errors.TRACKING_SWITCH_OPT)
        prefix_error = b""
        if bcast:
            existing = sorted(t.prefixes) if t is not None else []
            for i, p in enumerate(prefixes):
                for e in existing:
                    if _overlap(e, p):
                        raise CommandError(errors.TRACKING_PREFIX_EXISTING.format(fmt_arg(p, 1 << 30), fmt_arg(e, 1 << 30)))
                bad = next((q for q in prefixes[i + 1:] if _overlap(p, q)), None)
                if bad is not None:
                    msg = errors.TRACKING_PREFIX_OTHER.format(fmt_arg(p, 1 << 30), fmt_arg(bad, 1 << 30))
                    if i == 0:
                        raise CommandError(msg)
                    # Redis 7.0 replies the error and still enables tracking (then +OK)
                    prefix_error = resp.error(msg)
                    c.srv.stats.count_error(msg)
                    break
        ps.enable_tracking(c, redir, bcast, optin, optout, noloop, prefixes)
        return prefix_error + resp.OK
    if mode == b"off":
        ps.disable_tracking(c)
        return resp.OK
    raise CommandError(errors.SYNTAX)


@command("client|caching", 3, "noscript loading stale", "@slow @connection")
def client_caching(c: Session, argv: list[bytes]) -> bytes:
    t = c.tracking
    if t is None:
        raise CommandError(errors.CACHING_NOT_TRACKING)
    opt = argv[2].lower()
    if opt == b"yes":
        if not t.optin:
            raise CommandError(errors.CACHING_YES_OPTIN)
    elif opt == b"no":
        if not t.optout:
            raise CommandError(errors.CACHING_NO_OPTOUT)
    else:
        raise CommandError(errors.SYNTAX)
    t.caching = True
    return resp.OK


@command("client|getredir", 2, "noscript loading stale", "@slow @connection")
def client_getredir(c: Session, argv: list[bytes]) -> bytes:
    t = c.tracking
    return resp.integer(t.redirect) if t is not None else resp.NEG_ONE


@command("client|trackinginfo", 2, "noscript loading stale", "@slow @connection")
def client_trackinginfo(c: Session, argv: list[bytes]) -> bytes:
    t = c.tracking
    r = c.r
    if t is None:
        flags = [b"off"]
        redirect = resp.NEG_ONE
        prefixes: list[bytes] = []
    else:
        flags = [b"on"]
        if t.bcast:
            flags.append(b"bcast")
        if t.optin:
            flags.append(b"optin")
            if t.caching:
                flags.append(b"caching-yes")
        if t.optout:
            flags.append(b"optout")
            if t.caching:
                flags.append(b"caching-no")
        if t.noloop:
            flags.append(b"noloop")
        if t.broken:
            flags.append(b"broken_redirect")
        redirect = resp.integer(t.redirect)
        prefixes = sorted(t.prefixes)
    return r.map([
        (resp.bulk(b"flags"), r.set([resp.bulk(f) for f in flags])),
        (resp.bulk(b"redirect"), redirect),
        (resp.bulk(b"prefixes"), resp.bulks(prefixes)),
    ])
