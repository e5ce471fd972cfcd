"""Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB *.

The subscription tables and message delivery live in :mod:`durakv.pubsub`
(``c.srv.pubsub``); these handlers only parse arguments and shape replies.
"""

from __future__ import annotations

from .. import errors
from ..errors import CommandError, fmt_arg
from ..protocol import resp
from ..pubsub import glob_match
from ..session import Session
from ..spec import command, container


@command("subscribe", -2, "pubsub noscript loading stale", "@pubsub @slow")
def subscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.subscribe(c, "subscribe", argv[1:])


@command("psubscribe", -2, "pubsub noscript loading stale", "@pubsub @slow")
def psubscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.subscribe(c, "psubscribe", argv[1:])


@command("ssubscribe", -2, "pubsub noscript loading stale", "@pubsub @slow", keys=(1, -1, 1))
def ssubscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.subscribe(c, "ssubscribe", argv[1:])


@command("unsubscribe", -1, "pubsub noscript loading stale", "@pubsub @slow")
def unsubscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.unsubscribe(c, "unsubscribe", argv[1:] or None)


@command("punsubscribe", -1, "pubsub noscript loading stale", "@pubsub @slow")
def punsubscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.unsubscribe(c, "punsubscribe", argv[1:] or None)


@command("sunsubscribe", -1, "pubsub noscript loading stale", "@pubsub @slow", keys=(1, -1, 1))
def sunsubscribe(c: Session, argv: list[bytes]) -> bytes:
    return c.srv.pubsub.unsubscribe(c, "sunsubscribe", argv[1:] or None)


@command("publish", 3, "pubsub loading stale fast", "@pubsub @fast")
def publish(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(c.srv.pubsub.publish(argv[1], argv[2]))


@command("spublish", 3, "pubsub loading stale fast", "@pubsub @fast", keys=(1, 1, 1))
def spublish(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(c.srv.pubsub.spublish(argv[1], argv[2]))


container("pubsub", -2, "@slow")

_HELP = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
]
_HELP_REPLY = resp.array([resp.simple(line) for line in _HELP])


@command("pubsub|help", 2, "loading stale", "@slow")
def pubsub_help(c: Session, argv: list[bytes]) -> bytes:
    return _HELP_REPLY


def _channels(table: dict[bytes, dict[Session, None]], argv: list[bytes]) -> bytes:
    if len(argv) > 3:
        raise CommandError(errors.UNKNOWN_SUBCOMMAND_OR_ARITY.format(fmt_arg(argv[1]), "PUBSUB"))
    if len(argv) == 3:
        pat = argv[2]
        return resp.bulks([ch for ch in table if glob_match(pat, ch)])
    return resp.bulks(list(table))


@command("pubsub|channels", -2, "pubsub loading stale", "@pubsub @slow")
def pubsub_channels(c: Session, argv: list[bytes]) -> bytes:
    return _channels(c.srv.pubsub.channels, argv)


@command("pubsub|shardchannels", -2, "pubsub loading stale", "@pubsub @slow")
def pubsub_shardchannels(c: Session, argv: list[bytes]) -> bytes:
    return _channels(c.srv.pubsub.shard_channels, argv)


def _numsub(table: dict[bytes, dict[Session, None]], names: list[bytes]) -> bytes:
    pairs = []
    for ch in names:
        subs = table.get(ch)
        pairs.append((resp.bulk(ch), resp.integer(len(subs) if subs else 0)))
    return b"*%d\r\n%s" % (2 * len(pairs), b"".join(k + v for k, v in pairs))


@command("pubsub|numsub", -2, "pubsub loading stale", "@pubsub @slow")
def pubsub_numsub(c: Session, argv: list[bytes]) -> bytes:
    return _numsub(c.srv.pubsub.channels, argv[2:])


@command("pubsub|shardnumsub", -2, "pubsub loading stale", "@pubsub @slow")
def pubsub_shardnumsub(c: Session, argv: list[bytes]) -> bytes:
    return _numsub(c.srv.pubsub.shard_channels, argv[2:])


@command("pubsub|numpat", 2, "pubsub loading stale", "@pubsub @slow")
def pubsub_numpat(c: Session, argv: list[bytes]) -> bytes:
    return resp.integer(len(c.srv.pubsub.patterns))
