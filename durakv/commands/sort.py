"""SORT and SORT_RO on lists, sets and sorted sets (Redis 7.0's sortCommandGeneric).

BY pattern (``*`` substituted by the element, ``->field`` for hash fields; a pattern
without ``*`` means "don't sort"), GET patterns (``#`` = the element itself), LIMIT,
ASC/DESC, ALPHA and STORE.  SORT ... STORE is logged as ``DEL dst`` + ``RPUSH dst ...``
of the stored result, since its sort order may depend on data other keys hold.
"""

from __future__ import annotations

import math
from functools import cmp_to_key

from .. import errors
from ..errors import CommandError
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types.hash import Hash
from ..types.list import List
from ..types.set import Set
from ..types.zset import ZSet
from ._util import parse_int
from .zsets import c_strtod

NOT_DOUBLE = "ERR One or more scores can't be converted into double"
_ERANGE = 34


def sort_keys(argv: list[bytes]) -> list[int]:
    """Redis's sortGetKeys: the sorted key and the last STORE key."""
    keys = [1]
    store = -1
    i = 2
    n = len(argv)
    skips = {b"limit": 2, b"get": 1, b"by": 1}
    while i < n:
        o = argv[i].lower()
        if o in skips:
            i += skips[o]
        elif o == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store > 0:
        keys.append(store)
    return keys


def lookup_by_pattern(c: Session, pattern: bytes, subst: bytes) -> bytes | None:
    """Redis's lookupKeyByPattern: ``#`` -> the element; ``a*b`` -> string key; ``a*->f`` -> hash field."""
    if pattern == b"#":
        return subst
    p = pattern.find(b"*")
    if p < 0:
        return None
    f = pattern.find(b"->", p + 1)
    field = None
    if f >= 0 and f + 2 < len(pattern):
        field = pattern[f + 2 :]
        key = pattern[:p] + subst + pattern[p + 1 : f]
    else:
        key = pattern[:p] + subst + pattern[p + 1 :]
    v = c.db.lookup(key)
    if v is None:
        return None
    if field is not None:
        if type(v) is not Hash:
            return None
        return v.get(field)
    if type(v) is not bytes:
        return None
    return v


def _full_key_access(c: Session) -> bool:
    """Whether the user may read any key (Redis's ACLUserCheckKeyPerm(user, "*")); asks the
    ACL subsystem through ``acl.full_key_access(session)`` when it provides it."""
    acl = c.srv.acl
    fn = getattr(acl, "full_key_access", None) if acl is not None else None
    return True if fn is None else bool(fn(c))


def _score(b: bytes) -> float | None:
    if b.isdigit() and len(b) < 16:
        return float(b)
    v, n, err = c_strtod(b)
    if b[n : n + 1] not in (b"", b"\0") or err == _ERANGE or math.isnan(v):
        return None
    return v


def _sort(c: Session, argv: list[bytes], readonly: bool) -> bytes:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    store: bytes | None = None
    sortby: bytes | None = None
    gets: list[bytes] = []
    j = 2
    n = len(argv)
    while j < n:
        left = n - j - 1
        o = argv[j].lower()
        if o == b"asc":
            desc = False
        elif o == b"desc":
            desc = True
        elif o == b"alpha":
            alpha = True
        elif o == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and o == b"store" and left >= 1:
            store = argv[j + 1]
            j += 1
        elif o == b"by" and left >= 1:
            sortby = argv[j + 1]
            dontsort = b"*" not in sortby
            if not dontsort:
                if c.srv.cluster is not None:
                    raise CommandError("ERR BY option of SORT denied in Cluster mode.")
                if not _full_key_access(c):
                    raise CommandError("ERR BY option of SORT denied due to insufficient ACL permissions.")
            j += 1
        elif o == b"get" and left >= 1:
            if c.srv.cluster is not None:
                raise CommandError("ERR GET option of SORT denied in Cluster mode.")
            if not _full_key_access(c):
                raise CommandError("ERR GET option of SORT denied due to insufficient ACL permissions.")
            gets.append(argv[j + 1])
            j += 1
        else:
            raise CommandError(errors.SYNTAX)
        j += 1
    val = c.db.lookup(argv[1])
    if val is not None and type(val) not in (List, Set, ZSet):
        raise CommandError(errors.WRONGTYPE)
    if dontsort and type(val) is Set and (store is not None or c.in_script):
        dontsort = False
        alpha = True
        sortby = None
    if type(val) is ZSet:
        val.convert()  # Redis converts a listpack zset to a skiplist for SORT
    vlen = 0 if val is None else len(val)
    start = min(max(limit_start, 0), vlen)
    limit_count = min(max(limit_count, -1), vlen)
    end = vlen if limit_count < 0 else start + limit_count
    if end > vlen:
        end = vlen
    if val is None:
        elems: list[bytes] = []
    elif type(val) is List or type(val) is ZSet:
        elems = list(val) if type(val) is List else val.members()
        if dontsort:
            if desc:
                elems.reverse()
            elems = elems[start:end]
            end -= start
            start = 0
    else:
        elems = val.members()  # type: ignore[union-attr]
    if not dontsort and elems:
        if alpha:
            if sortby is not None:
                keyed = [(lookup_by_pattern(c, sortby, e), e) for e in elems]

                def cmp(a: tuple[bytes | None, bytes], b: tuple[bytes | None, bytes]) -> int:
                    x, y = a[0], b[0]
                    if x is None or y is None:
                        r = 0 if x is y else (-1 if x is None else 1)
                    else:
                        if store is None:  # strcoll: C strings
                            x = x.split(b"\0", 1)[0]
                            y = y.split(b"\0", 1)[0]
                        r = (x > y) - (x < y)
                    return -r if desc else r

                keyed.sort(key=cmp_to_key(cmp))
                elems = [e for _, e in keyed]
            else:
                elems.sort(reverse=desc)
        else:
            scored = []
            err = False
            for e in elems:
                if sortby is not None:
                    bv = lookup_by_pattern(c, sortby, e)
                    if bv is None:
                        scored.append((0.0, e))
                        continue
                else:
                    bv = e
                s = _score(bv)
                if s is None:
                    err = True
                    s = 0.0
                scored.append((s, e))
            if err:
                raise CommandError(NOT_DOUBLE)
            scored.sort(reverse=desc)
            elems = [e for _, e in scored]
    elems = elems[start:end]
    if store is None:
        if not gets:
            return resp.bulks(elems)
        r = c.r
        out = []
        for e in elems:
            for g in gets:
                v = lookup_by_pattern(c, g, e)
                out.append(r.null if v is None else resp.bulk(v))
        return resp.array(out)
    result: list[bytes] = []
    if not gets:
        result = elems
    else:
        for e in elems:
            for g in gets:
                v = lookup_by_pattern(c, g, e)
                result.append(b"" if v is None else v)
    db = c.db
    ks = db.ks
    if result:
        db.set(store, List(result))
        ks.signal_modified(db, store)
        ks.notify("l", "sortstore", store, db.id)
        c.propagate([b"DEL", store])
        c.propagate([b"RPUSH", store, *result])
    else:
        if db.remove(store):
            c.propagate([b"DEL", store])
    return resp.integer(len(result))


@command("sort", -2, "write denyoom", "@write @set @sortedset @list @slow @dangerous", keys=(1, 1, 1),
         keys_fn=sort_keys)
def sort(c: Session, argv: list[bytes]) -> bytes:
    return _sort(c, argv, False)


@command("sort_ro", -2, "readonly", "@read @set @sortedset @list @slow @dangerous", keys=(1, 1, 1),
         keys_fn=lambda argv: [1])
def sort_ro(c: Session, argv: list[bytes]) -> bytes:
    return _sort(c, argv, True)
