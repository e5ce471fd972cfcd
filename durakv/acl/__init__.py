"""The ACL engine: users, rule parsing, permission checks, describing users, the ACL log.

A transcription of Redis 7.0.15's ``acl.c``:

* a :class:`User` has flags (on/off, nopass, sanitize-payload), SHA-256 password hashes and
  selectors; the first selector is the *root* one (rules given outside parentheses);
* a :class:`Selector` holds the allowed commands (a set of full command names instead of
  Redis's id bitmap, plus the "future commands" bit that only ``+@all`` sets), allowed
  first arguments (``+select|0``), key patterns with read/write flags and channel patterns;
* describing command rules uses Redis 7.0's reconstruction from the bitmap (greedy choice of
  categories, then single commands) — Redis emits the single commands in the order of its
  randomly seeded command dict, durakv in declaration order;
* checks return the error text the dispatcher replies with and add ACL LOG entries.

The command universe is durakv's command table (``durakv.spec``) plus the few Redis 7.0
commands durakv does not declare (so categories count exactly as in Redis).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import errors
from .. import spec as specmod

CATEGORIES = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
]
_CATSET = frozenset(CATEGORIES)

# Redis 7.0.15 commands durakv may not declare, with their ACL categories (COMMAND INFO)
_A = "admin dangerous slow"
_SUPPLEMENT = {
    "asking": "connection fast",
    "migrate": "dangerous keyspace slow write",
    "restore-asking": "dangerous keyspace slow write",
    "cluster": "slow",
    "cluster|addslots": _A, "cluster|addslotsrange": _A, "cluster|bumpepoch": _A,
    "cluster|count-failure-reports": _A, "cluster|countkeysinslot": "slow", "cluster|delslots": _A,
    "cluster|delslotsrange": _A, "cluster|failover": _A, "cluster|flushslots": _A,
    "cluster|forget": _A, "cluster|getkeysinslot": "slow", "cluster|help": "slow",
    "cluster|info": "slow", "cluster|keyslot": "slow", "cluster|links": "slow", "cluster|meet": _A,
    "cluster|myid": "slow", "cluster|nodes": "slow", "cluster|replicas": _A, "cluster|replicate": _A,
    "cluster|reset": _A, "cluster|saveconfig": _A, "cluster|set-config-epoch": _A,
    "cluster|setslot": _A, "cluster|shards": "slow", "cluster|slaves": _A, "cluster|slots": "slow",
}

# ACL check results (Redis's ACL_DENIED_*; the larger wins when selectors disagree)
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
READ, WRITE = 1, 2
ALL_PERM = READ | WRITE

# errno-like reasons of a bad rule (Redis's ACLSetUserStringError)
E_NOENT = "Unknown command or category name in ACL"
E_INVAL = "Syntax error"
E_EXIST = (
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
    "have any effect. Try 'resetkeys' to start with an empty list of patterns"
)
E_ISDIR = (
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
    "not have any effect. Try 'resetchannels' to start with an empty list of channels"
)
E_NODEV = "The password you are trying to remove from the user does not exist"
E_BADMSG = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
E_ALREADY = "Duplicate user found. A user can only be defined once in config files"
E_CHILD = "Allowing first-arg of a subcommand is not supported"


class RuleError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- universe


class Universe:
    """Every command and subcommand with its categories, in declaration order."""

    def __init__(self) -> None:
        table = specmod.all_commands()
        self.size = len(table)
        cats: dict[str, frozenset[str]] = {}
        subs: dict[str, list[str]] = {}
        top: list[str] = []
        for name, s in table.items():
            cats[name] = frozenset(s.acl)
        for name, text in _SUPPLEMENT.items():
            if name not in cats:
                cats[name] = frozenset(text.split())
        for name in cats:
            if "|" in name:
                parent = name.split("|", 1)[0]
                subs.setdefault(parent, []).append(name)
            else:
                top.append(name)
        self.cats = cats
        self.subs = subs
        self.top = top
        self.names = frozenset(cats)
        # every name in the order Redis's counting walks them (command, then its subcommands)
        order: list[str] = []
        for t in top:
            order.append(t)
            order.extend(subs.get(t, ()))
        self.order = order
        self.by_cat: dict[str, list[str]] = {c: [n for n in order if c in cats[n]] for c in CATEGORIES}

    def lookup(self, name: str) -> str | None:
        """Redis's ACLLookupCommand (strict): 'get', 'config|get'; None when unknown."""
        parts = name.split("|")
        if len(parts) > 2:
            return None
        if len(parts) == 1:
            return name if name in self.cats and "|" not in name else None
        if parts[0] not in self.subs:
            return None
        return name if name in self.cats else None


_UNIVERSE: Universe | None = None


def universe() -> Universe:
    global _UNIVERSE
    u = _UNIVERSE
    if u is None or u.size != len(specmod.all_commands()):
        u = _UNIVERSE = Universe()
    return u


# --------------------------------------------------------------------------- selectors


class Selector:
    __slots__ = ("root", "allkeys", "allchannels", "future", "allowed", "firstargs", "patterns", "channels")

    def __init__(self, root: bool, allchannels: bool) -> None:
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.future = False  # Redis's reserved "can execute future commands" bit (+@all)
        self.allowed: set[str] = set()
        self.firstargs: dict[str, list[bytes]] = {}
        self.patterns: list[list[Any]] = []  # [pattern bytes, READ|WRITE flags]
        self.channels: list[bytes] = []

    def copy(self) -> Selector:
        s = Selector(self.root, self.allchannels)
        s.allkeys = self.allkeys
        s.future = self.future
        s.allowed = set(self.allowed)
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.patterns = [list(p) for p in self.patterns]
        s.channels = list(self.channels)
        return s

    # -- command bits ------------------------------------------------------------------------
    def change_perm(self, name: str, allow: bool, uni: Universe) -> None:
        """Redis's ACLChangeSelectorPerm: the command and all its subcommands."""
        if allow:
            self.allowed.add(name)
        else:
            self.allowed.discard(name)
        self.firstargs.pop(name, None)
        subs = uni.subs.get(name)
        if subs:
            if allow:
                self.allowed.update(subs)
            else:
                self.allowed.difference_update(subs)

    def set_category(self, cat: str, allow: bool, uni: Universe) -> None:
        for name in uni.by_cat[cat]:
            self.change_perm(name, allow, uni)

    def set_all(self, allow: bool, uni: Universe) -> None:
        self.allowed = set(uni.names) if allow else set()
        self.future = allow
        self.firstargs = {}

    # -- rules -------------------------------------------------------------------------------
    def apply(self, op: bytes, uni: Universe) -> None:
        """Redis's ACLSetSelector; raises RuleError."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.set_all(True, uni)
        elif low in (b"nocommands", b"-@all"):
            self.set_all(False, uni)
        elif op[:1] in (b"~", b"%"):
            if self.allkeys:
                raise RuleError(E_EXIST)
            flags = 0
            offset = 1
            n = len(op)
            if op[:1] == b"%":
                while offset < n:
                    ch = op[offset : offset + 1].upper()
                    if ch == b"R" and not flags & READ:
                        flags |= READ
                    elif ch == b"W" and not flags & WRITE:
                        flags |= WRITE
                    elif ch == b"~":
                        offset += 1
                        break
                    else:
                        raise RuleError(E_INVAL)
                    offset += 1
                if not flags:
                    raise RuleError(E_INVAL)
            else:
                flags = ALL_PERM
            pat = op[offset:]
            if _has_spaces(pat):
                raise RuleError(E_INVAL)
            for p in self.patterns:
                if p[0] == pat:
                    p[1] |= flags
                    break
            else:
                self.patterns.append([pat, flags])
            self.allkeys = False
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError(E_ISDIR)
            pat = op[1:]
            if _has_spaces(pat):
                raise RuleError(E_INVAL)
            if pat not in self.channels:
                self.channels.append(pat)
            self.allchannels = False
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            cat = op[2:].decode("latin-1").lower()
            if cat not in _CATSET:
                raise RuleError(E_NOENT)
            self.set_category(cat, op[:1] == b"+", uni)
        elif op[:1] == b"+":
            rest = low[1:].decode("latin-1")
            if "|" not in rest:
                name = uni.lookup(rest)
                if name is None:
                    raise RuleError(E_NOENT)
                self.change_perm(name, True, uni)
            else:
                cut = rest.rindex("|")
                base, sub = rest[:cut], op[1 + cut + 1 :]
                name = uni.lookup(base)
                if name is None:
                    raise RuleError(E_NOENT)
                if "|" in name:
                    raise RuleError(E_CHILD)
                if not sub:
                    raise RuleError(E_INVAL)
                if name in uni.subs:
                    full = uni.lookup(rest)
                    if full is None:
                        raise RuleError(E_NOENT)
                    self.change_perm(full, True, uni)
                else:
                    lst = self.firstargs.setdefault(name, [])
                    if not any(a.lower() == sub.lower() for a in lst):
                        lst.append(sub)
        elif op[:1] == b"-":
            name = uni.lookup(low[1:].decode("latin-1"))
            if name is None:
                raise RuleError(E_NOENT)
            self.change_perm(name, False, uni)
        else:
            raise RuleError(E_INVAL)

    # -- describing --------------------------------------------------------------------------
    def describe_commands(self, uni: Universe) -> str:
        """Redis 7.0's ACLDescribeSelectorCommandRules."""
        rules = []
        fake = Selector(False, False)
        if self.future:
            additive = False
            rules.append("+@all")
            fake.set_all(True, uni)
        else:
            additive = True
            rules.append("-@all")
        temp_allowed = set(self.allowed)
        applied: set[str] = set()
        while True:
            best = None
            mindiff = 1 << 62
            maxsame = 0
            for cat in CATEGORIES:
                if cat in applied:
                    continue
                on = off = 0
                for n in uni.by_cat[cat]:
                    if n in temp_allowed:
                        on += 1
                    else:
                        off += 1
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best = cat
                    mindiff = diff
                    maxsame = same
            if best is None:
                break
            fake.set_category(best, additive, uni)
            # the inverse operation on the temporary bitmap (change_perm semantics)
            tmp = Selector(False, False)
            tmp.allowed = temp_allowed
            tmp.set_category(best, not additive, uni)
            temp_allowed = tmp.allowed
            rules.append(("+@" if additive else "-@") + best)
            applied.add(best)
        for name in uni.top:
            self._single(name, fake, rules, uni)
            for sub in uni.subs.get(name, ()):
                self._single(sub, fake, rules, uni)
            if name not in self.allowed and name in self.firstargs:
                for a in self.firstargs[name]:
                    rules.append("+" + name + "|" + a.decode("latin-1"))
        return " ".join(rules)

    def _single(self, name: str, fake: Selector, rules: list[str], uni: Universe) -> None:
        userbit = name in self.allowed
        if userbit != (name in fake.allowed):
            rules.append(("+" if userbit else "-") + name)
            fake.change_perm(name, userbit, uni)

    def describe_keys(self) -> bytes:
        if self.allkeys:
            return b"~*"
        return b" ".join(_pattern_string(p) for p in self.patterns)

    def describe_channels(self) -> bytes:
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + ch for ch in self.channels)

    def describe(self, uni: Universe) -> bytes:
        out = b""
        if self.allkeys:
            out += b"~* "
        else:
            for p in self.patterns:
                out += _pattern_string(p) + b" "
        if self.allchannels:
            out += b"&* "
        else:
            out += b"resetchannels "
            for ch in self.channels:
                out += b"&" + ch + b" "
        return out + self.describe_commands(uni).encode("latin-1")

    # -- checks ------------------------------------------------------------------------------
    def check_cmd(self, spec: Any, argv: list[bytes], cache: dict[str, Any]) -> tuple[int, int]:
        """Redis's ACLSelectorCheckCmd: (result, index of the offending argument)."""
        name = spec.name
        if name not in self.allowed and "no_auth" not in spec.flags:
            if not (self.future and name not in universe().names):
                args = self.firstargs.get(name)
                if not args or len(argv) < 2:
                    return DENIED_CMD, 0
                idx = 2 if spec.parent is not None else 1
                a = argv[idx].lower() if idx < len(argv) else b""
                if not any(x.lower() == a for x in args):
                    return DENIED_CMD, 0
        if not self.allkeys:
            keys = cache.get("keys")
            if keys is None:
                keys = cache["keys"] = _key_refs(spec, argv)
            for idx, kflags in keys:
                if not self.check_key(argv[idx], kflags):
                    return DENIED_KEY, idx
        if not self.allchannels:
            chans = cache.get("channels")
            if chans is None:
                chans = cache["channels"] = _channel_refs(spec.name, argv)
            for idx, is_pattern in chans:
                if not _check_channel(self.channels, argv[idx], is_pattern):
                    return DENIED_CHANNEL, idx
        return OK, 0

    def check_key(self, key: bytes, kflags: int) -> bool:
        if self.allkeys:
            return True
        from ..commands.server import glob_match

        for pat, pflags in self.patterns:
            if pflags & kflags != kflags:
                continue
            if glob_match(pat, key):
                return True
        return False

    def unrestricted_keys(self, flags: int) -> bool:
        if self.allkeys:
            return True
        return any(p[0] == b"*" and p[1] & flags == flags for p in self.patterns)


def _pattern_string(p: list[Any]) -> bytes:
    f = p[1]
    if f == ALL_PERM:
        return b"~" + p[0]
    if f == READ:
        return b"%R~" + p[0]
    return b"%W~" + p[0]


def _has_spaces(b: bytes) -> bool:
    return any(ch in b" \t\n\v\f\r\0" for ch in b)


def _check_channel(channels: list[bytes], channel: bytes, is_pattern: bool) -> bool:
    from ..commands.server import glob_match

    for pat in channels:
        if is_pattern:
            if pat == channel:
                return True
        elif glob_match(pat, channel):
            return True
    return False


def _key_flags(fl: list[str]) -> int:
    out = 0
    if "access" in fl:
        out |= READ
    if "insert" in fl or "delete" in fl or "update" in fl:
        out |= WRITE
    return out


_HAS_KEYS: dict[str, bool] = {}


def _has_keys(spec: Any) -> bool:
    v = _HAS_KEYS.get(spec.name)
    if v is None:
        kss = specmod.reference(spec.name).get("key_specs") or []
        v = bool(spec.keys_fn is not None or spec.first_key > 0 or any("not_key" not in k.get("flags", []) for k in kss))
        _HAS_KEYS[spec.name] = v
    return v


def _key_refs(spec: Any, argv: list[bytes]) -> list[tuple[int, int]]:
    if not _has_keys(spec):
        return []
    from ..commands.server import key_refs

    try:
        refs = key_refs(spec, argv)
    except Exception:
        return []
    # channels of SPUBLISH/SSUBSCRIBE are declared as keys for cluster routing only (not_key)
    return [(i, _key_flags(fl)) for i, fl in refs if 0 < i < len(argv) and "not_key" not in fl]


def _channel_refs(name: str, argv: list[bytes]) -> list[tuple[int, bool]]:
    """Redis's getChannelsFromCommand for the publish/subscribe channel arguments."""
    if name in ("publish", "spublish"):
        return [(1, False)] if len(argv) > 1 else []
    if name in ("subscribe", "ssubscribe"):
        return [(i, False) for i in range(1, len(argv))]
    if name == "psubscribe":
        return [(i, True) for i in range(1, len(argv))]
    return []


# --------------------------------------------------------------------------- users


class User:
    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors")

    def __init__(self, name: bytes, allchannels: bool) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize: str | None = None  # "sanitize-payload" | "skip-sanitize-payload"
        self.passwords: list[bytes] = []  # sha256 hex
        self.selectors = [Selector(True, allchannels)]

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy_from(self, other: User) -> None:
        self.enabled = other.enabled
        self.nopass = other.nopass
        self.sanitize = other.sanitize
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]

    def clone(self) -> User:
        u = User(self.name, False)
        u.copy_from(self)
        return u

    def flags(self) -> list[str]:
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        if self.sanitize == "skip-sanitize-payload":
            out.append("skip-sanitize-payload")
        elif self.sanitize == "sanitize-payload":
            out.append("sanitize-payload")
        return out

    def describe(self, uni: Universe) -> bytes:
        out = b"".join(f.encode() + b" " for f in self.flags())
        for p in self.passwords:
            out += b"#" + p + b" "
        for s in self.selectors:
            d = s.describe(uni)
            out += d if s.root else b" (" + d + b")"
        return out

    def check_password(self, password: bytes) -> bool:
        if self.nopass:
            return True
        h = hashlib.sha256(password).hexdigest().encode()
        return h in self.passwords


def _password_hash(op: bytes) -> bytes:
    """The SHA-256 hex of a '>pass' / '<pass' rule, or the hash a '#hash' / '!hash' rule names."""
    if op[:1] in (b">", b"<"):
        return hashlib.sha256(op[1:]).hexdigest().encode()
    h = op[1:]
    if not _is_hash(h):
        raise RuleError(E_BADMSG)
    return h


def _is_hash(h: bytes) -> bool:
    return len(h) == 64 and all(ch in b"0123456789abcdef" for ch in h)


def merge_selector_args(args: list[bytes]) -> tuple[list[bytes] | None, int]:
    """Redis's ACLMergeSelectorArguments: (merged ops, index of an unmatched '(')."""
    out: list[bytes] = []
    start = -1
    sel = b""
    for j, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            sel = op
            start = j
            continue
        if start != -1:
            sel += b" " + op
            if op[-1:] == b")":
                start = -1
                out.append(sel)
            continue
        out.append(op)
    if start != -1:
        return None, start
    return out, -1


def split_args(text: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs (None on unbalanced quotes)."""
    out: list[bytes] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i : i + 1].isspace():
            i += 1
        if i >= n:
            return out
        cur = b""
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                ch = text[i : i + 1]
                if ch == b"\\" and i + 3 < n and text[i + 1 : i + 2] == b"x" and _ishex(text[i + 2 : i + 4]):
                    cur += bytes([int(text[i + 2 : i + 4], 16)])
                    i += 3
                elif ch == b"\\" and i + 1 < n:
                    i += 1
                    c2 = text[i : i + 1]
                    cur += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"a": b"\a"}.get(c2, c2)
                elif ch == b'"':
                    if i + 1 < n and not text[i + 1 : i + 2].isspace():
                        return None
                    inq = False
                    i += 1
                    break
                else:
                    cur += ch
            elif insq:
                if i >= n:
                    return None
                ch = text[i : i + 1]
                if ch == b"\\" and i + 1 < n and text[i + 1 : i + 2] == b"'":
                    i += 1
                    cur += b"'"
                elif ch == b"'":
                    if i + 1 < n and not text[i + 1 : i + 2].isspace():
                        return None
                    insq = False
                    i += 1
                    break
                else:
                    cur += ch
            else:
                if i >= n:
                    break
                ch = text[i : i + 1]
                if ch in (b" ", b"\n", b"\r", b"\t", b"\0"):
                    break
                if ch == b'"':
                    inq = True
                elif ch == b"'":
                    insq = True
                else:
                    cur += ch
            i += 1
        out.append(cur)


def _ishex(b: bytes) -> bool:
    return len(b) == 2 and all(ch in b"0123456789abcdefABCDEF" for ch in b)


# --------------------------------------------------------------------------- the engine


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo")


_REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_CHANNEL: b"channel", DENIED_AUTH: b"auth"}


def unrestricted_default() -> User:
    """The ``default`` user as a node starts: on, nopass, ~* &* +@all."""
    d = User(b"default", True)
    d.enabled = True
    d.nopass = True
    d.root.allkeys = True
    d.root.allchannels = True
    d.root.set_all(True, universe())
    return d


class Acl:
    """Users of one node; ``ctx.acl`` points here while checks are needed."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.users: dict[bytes, User] = {}
        d = unrestricted_default()
        self.default = d
        self.users[b"default"] = d
        self.log: list[LogEntry] = []
        self.last_reason = ""  # "command" | "key" | "channel": what the last denied check denied

    # -- users -------------------------------------------------------------------------------
    def list_lines(self) -> list[bytes]:
        """ACL LIST: one ``user <name> <rules>`` line per user, by name (also ACL SAVE and
        CONFIG REWRITE)."""
        uni = universe()
        return [b"user " + name + b" " + self.users[name].describe(uni) for name in sorted(self.users)]

    def get_user(self, name: bytes) -> User | None:
        return self.users.get(name)

    def new_user(self, name: bytes) -> User:
        return User(name, self._pubsub_default())

    def _pubsub_default(self) -> bool:
        return self.ctx.config["acl-pubsub-default"] == "allchannels"

    def apply_rule(self, u: User, op: bytes) -> None:
        """Redis's ACLSetUser; raises RuleError."""
        if not op:
            return
        low = op.lower()
        uni = universe()
        if low == b"on":
            u.enabled = True
        elif low == b"off":
            u.enabled = False
        elif low == b"skip-sanitize-payload":
            u.sanitize = "skip-sanitize-payload"
        elif low == b"sanitize-payload":
            u.sanitize = "sanitize-payload"
        elif low == b"nopass":
            u.nopass = True
            u.passwords = []
        elif low == b"resetpass":
            u.nopass = False
            u.passwords = []
        elif op[:1] in (b">", b"#"):
            h = _password_hash(op)
            if h not in u.passwords:
                u.passwords.append(h)
            u.nopass = False
        elif op[:1] in (b"<", b"!"):
            h = _password_hash(op)
            if h not in u.passwords:
                raise RuleError(E_NODEV)
            u.passwords.remove(h)
        elif op[:1] == b"(" and op[-1:] == b")":
            sel = Selector(False, self._pubsub_default())
            parts = split_args(op[1:-1]) or []
            for p in parts:
                sel.apply(p, uni)
            u.selectors.append(sel)
        elif low == b"clearselectors":
            del u.selectors[1:]
        elif low == b"reset":
            u.nopass = False
            u.passwords = []
            root = u.root
            root.allkeys = False
            root.patterns = []
            root.allchannels = self._pubsub_default()
            root.channels = []
            u.enabled = False
            u.sanitize = "sanitize-payload"
            del u.selectors[1:]
            root.set_all(False, uni)
        else:
            u.root.apply(op, uni)

    def setuser(self, name: bytes, ops: list[bytes]) -> None:
        """ACL SETUSER: all rules apply or none (raises CommandError with Redis's text)."""
        from ..errors import CommandError

        if _has_spaces(name):
            raise CommandError(errors.ACL_USERNAME_SPACES)
        existing = self.users.get(name)
        temp = existing.clone() if existing is not None else self.new_user(name)
        merged, bad = merge_selector_args(ops)
        if merged is None:
            raise CommandError(errors.sanitize(errors.ACL_UNMATCHED_PAREN.format(ops[bad].decode("latin-1"))))
        for op in merged:
            try:
                self.apply_rule(temp, op)
            except RuleError as e:
                raise CommandError(errors.sanitize(errors.ACL_SETUSER_MODIFIER.format(op.decode("latin-1"), e.reason))) from None
        if existing is not None:
            self._kill_pubsub_if_needed(temp, existing)
            existing.copy_from(temp)
        else:
            temp.name = name
            self.users[name] = temp
        self.update_gate()

    def deluser(self, c: Any, names: list[bytes]) -> int:
        from ..errors import CommandError

        for n in names:
            if n == b"default":
                raise CommandError(errors.ACL_DELETE_DEFAULT)
        deleted = 0
        for n in names:
            u = self.users.pop(n, None)
            if u is None:
                continue
            deleted += 1
            self._kill_clients(c, u)
        self.update_gate()
        return deleted

    def _kill_clients(self, c: Any, u: User) -> None:
        for s in list(self.ctx.clients.values()):
            if s.user is u:
                s.user = self.default
                s.authenticated = False
                s.disconnect(c)

    def _kill_pubsub_if_needed(self, new: User, orig: User) -> None:
        """Redis 7.0's ACLKillPubsubClientsIfNeeded."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [ch for s in new.selectors for ch in s.channels]
        up = set(upcoming)
        # a strict superset keeps everyone (an original all-channels selector never is one)
        if not any(s.allchannels for s in orig.selectors) and all(
            ch in up for s in orig.selectors for ch in s.channels
        ):
            return
        cur = self.ctx.current_client
        for s in list(self.ctx.clients.values()):
            if s.user is not orig or not (s.channels or s.patterns or s.shard_channels):
                continue
            kill = any(not _check_channel(upcoming, p, True) for p in s.patterns)
            if not kill:
                kill = any(not _check_channel(upcoming, ch, False) for ch in s.channels)
            if not kill:
                kill = any(not _check_channel(upcoming, ch, False) for ch in s.shard_channels)
            if kill:
                s.disconnect(cur)

    # -- fast-path switch --------------------------------------------------------------------
    def update_gate(self) -> None:
        """``ctx.acl`` is the engine while any check can deny something; None otherwise."""
        d = self.default
        r = d.root
        fast = (
            len(self.users) == 1
            and d.enabled
            and len(d.selectors) == 1
            and r.allkeys
            and r.allchannels
            and r.future
            and r.allowed >= universe().names
            and d.nopass == (not self.ctx.config["requirepass"])
        )
        want = None if fast else self
        if self.ctx.acl is not want:
            if want is not None:
                # sessions created on the fast path have no user: they are the default user
                for s in self.ctx.clients.values():
                    if s.user is None:
                        s.user = d
            self.ctx.acl = want

    def set_requirepass(self, value: str) -> None:
        """CONFIG SET requirepass: Redis's ACLUpdateDefaultUserPassword."""
        d = self.default
        d.passwords = []
        d.nopass = False
        if value:
            d.passwords.append(hashlib.sha256(value.encode("latin-1")).hexdigest().encode())
        else:
            d.nopass = True
        self.update_gate()

    # -- sessions ----------------------------------------------------------------------------
    def init_session(self, s: Any) -> None:
        d = self.default
        s.user = d
        s.authenticated = d.nopass and d.enabled

    def user_of(self, s: Any) -> User:
        u = s.user
        return u if isinstance(u, User) else self.default

    def auth(self, c: Any, user: bytes, password: bytes, argv0: bytes = b"AUTH") -> None:
        from ..errors import CommandError

        u = self.users.get(user)
        if u is None or not u.enabled or not u.check_password(password):
            self.add_log(c, DENIED_AUTH, self._context(c), argv0, username=user)
            raise CommandError(errors.WRONGPASS)
        c.user = u
        c.authenticated = True

    def default_nopass(self) -> bool:
        return self.default.nopass

    # -- checks ------------------------------------------------------------------------------
    def check_user(self, u: User, spec: Any, argv: list[bytes]) -> tuple[int, int]:
        """Redis's ACLCheckAllUserCommandPerm: (result, offending argument index)."""
        relevant = DENIED_CMD
        last_idx = 0
        cache: dict[str, Any] = {}
        for s in u.selectors:
            res, idx = s.check_cmd(spec, argv, cache)
            if res == OK:
                return OK, 0
            if res > relevant or (res == relevant and idx > last_idx):
                relevant = res
                last_idx = idx
        return relevant, last_idx

    def check(self, c: Any, spec: Any, argv: list[bytes], log: bool = True) -> str | None:
        """None if ``c``'s user may run ``argv``, else the NOPERM text; denials go to the
        ACL LOG unless ``log`` is False (redis.acl_check_cmd() asks without logging)."""
        u = c.user
        if not isinstance(u, User):
            return None
        res, idx = self.check_user(u, spec, argv)
        if res == OK:
            return None
        # what was denied, for callers that word their own errors (EXEC, scripts): the
        # NOPERM text of a command named like 'keys' mentions keys, this does not lie
        self.last_reason = _REASONS[res].decode()
        obj = spec.name.encode() if res == DENIED_CMD else argv[idx]
        if log:
            self.add_log(c, res, self._context(c), obj)
        if res == DENIED_CMD:
            return errors.NOPERM_CMD.format(spec.name)
        if res == DENIED_KEY:
            return errors.NOPERM_KEY
        return errors.NOPERM_CHANNEL

    def full_key_access(self, c: Any) -> bool:
        """Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess(user, cmd, argv, READ)."""
        u = c.user
        if not isinstance(u, User):
            return True
        from ..spec import lookup

        spec = lookup(b"sort")
        argv = [b"sort"]
        cache: dict[str, Any] = {"keys": [], "channels": []}
        for s in u.selectors:
            if spec is not None:
                res, _ = s.check_cmd(spec, argv, cache)
                if res != OK:
                    continue
            if s.unrestricted_keys(READ):
                return True
        return False

    def dryrun_message(self, u: User, spec: Any, argv: list[bytes]) -> str | None:
        res, idx = self.check_user(u, spec, argv)
        if res == OK:
            return None
        if res == DENIED_CMD:
            return errors.ACL_DRYRUN_CMD.format(spec.name)
        what = argv[idx].decode("latin-1")
        if res == DENIED_KEY:
            return errors.ACL_DRYRUN_KEY.format(what)
        return errors.ACL_DRYRUN_CHANNEL.format(what)

    # -- the log -----------------------------------------------------------------------------
    def _context(self, c: Any) -> bytes:
        if getattr(c, "in_script", False):
            return b"lua"
        if c.in_exec or c.multi is not None:
            return b"multi"
        return b"toplevel"

    def add_log(self, c: Any, reason: int, context: bytes, obj: bytes, username: bytes | None = None) -> None:
        from ..commands.client import client_info_string

        real = c
        if getattr(c, "in_script", False):
            sc = self.ctx.scripting
            run = getattr(sc, "current", None) if sc is not None else None
            caller = getattr(run, "caller", None) if run is not None else None
            if caller is not None:
                real = caller
        if username is None:
            u = real.user if isinstance(real.user, User) else (c.user if isinstance(c.user, User) else None)
            username = u.name if u is not None else b"default"
        now = self.ctx.clock.now_ms()
        try:
            cinfo = client_info_string(real).encode("latin-1")
        except Exception:
            cinfo = b""
        for i, e in enumerate(self.log[:10]):
            if (
                e.reason == reason
                and e.context == context
                and abs(e.ctime - now) <= 60000
                and e.object == obj
                and e.username == username
            ):
                e.cinfo = cinfo
                e.ctime = now
                e.count += 1
                del self.log[i]
                self.log.insert(0, e)
                return
        e = LogEntry()
        e.count = 1
        e.reason = reason
        e.context = context
        e.object = obj
        e.username = username
        e.ctime = now
        e.cinfo = cinfo
        self.log.insert(0, e)
        maxlen = self.ctx.config["acllog-max-len"]
        del self.log[maxlen:]
