"""HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST (Redis 7.0 semantics).

Values are ordinary strings in Redis's ``HYLL`` format (see :mod:`durakv.types.hyperloglog`).
PFCOUNT on one key refreshes the cached cardinality inside the value, which is a change
(logged as the PFCOUNT itself, deterministic), exactly as Redis propagates it.
"""

from __future__ import annotations

import numpy as np

from .. import errors
from ..errors import CommandError
from ..keyspace import Database
from ..protocol import resp
from ..session import Session
from ..spec import command
from ..types import hyperloglog as hll

INVALID_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"
_DENSE_SIZE = hll.HLL_DENSE_SIZE
_Q_BIT = 1 << hll.HLL_Q
_murmur = hll.murmur64a


def _changed(db: Database, key: bytes) -> None:
    """PFDEBUG's encoding change: logged (server.dirty++) but, as in Redis, no
    signalModifiedKey (WATCH and client-side caching are not invalidated)."""
    db.ks.dirty += 1
    db.ks.modified.append((db.id, key))


def _get_hll(c: Session, key: bytes, write: bool = False) -> bytes | None:
    """The HLL at ``key`` (Redis's lookupKeyRead, or lookupKeyWrite when ``write``)."""
    v = c.db.lookup_write(key) if write else c.db.lookup(key)
    return None if v is None else _checked(v)


def _checked(v: object) -> bytes:
    """A stored value that must be an HLL (Redis's isHLLObjectOrReply)."""
    if type(v) is not bytes:
        raise CommandError(errors.WRONGTYPE)
    if not hll.is_hll(v):
        raise CommandError(INVALID_HLL)
    return v


@command("pfadd", -2, "write denyoom fast", "@write @hyperloglog @fast", keys=(1, 1, 1))
def pfadd(c: Session, argv: list[bytes]) -> bytes:
    db = c.db
    key = argv[1]
    v = db.lookup_write(key)
    if len(argv) == 3 and type(v) is bytes and len(v) == _DENSE_SIZE and v[4] == 0 and v.startswith(b"HYLL"):
        # fast path: one element, a valid dense value (is_hll, inline): copy the 12 KB
        # value only when a register grows
        h = _murmur(argv[2])
        h2 = (h >> 14) | _Q_BIT
        val = (h2 & -h2).bit_length()  # (hll.pat_len, inline)
        # the register as it is: most elements do not raise it (as dense_update reads it)
        reg6 = (h & 16383) * 6
        pos = 16 + (reg6 >> 3)  # HLL_HDR_SIZE
        fb = reg6 & 7
        if val <= ((v[pos] >> fb if fb <= 2 else (v[pos] >> fb) | (v[pos + 1] << (8 - fb))) & 63):
            return resp.ZERO
        nv = hll.dense_update(v, h & 16383, val)
        assert nv is not None
        db.set(key, nv, keep_ttl=True)
        ks = db.ks
        ks.signal_modified(db, key)
        if ks.notifying:
            ks.notify("$", "pfadd", key, db.id)
        return resp.ONE
    if v is not None:
        v = _checked(v)
    updated = 0
    if v is None:
        b = hll.new_sparse()
        updated = 1
    else:
        b = bytearray(v)
    idx = hll.index_for(v) if v is not None and v[4] == hll.HLL_SPARSE and len(v) > 256 else None
    max_bytes = c.srv.config.values["hll-sparse-max-bytes"]
    for ele in argv[2:]:
        b, r = hll.add(b, ele, max_bytes, idx)
        if r == 1:
            updated += 1
            if idx is not None and b[4] == hll.HLL_DENSE:
                idx = None
        elif r == -1:
            raise CommandError(CORRUPTED)
    if updated:
        b[15] |= 0x80
        nv = bytes(b)
        if v is None:
            db.add(key, nv)
        else:
            db.set(key, nv, keep_ttl=True)
        if idx is not None:
            hll.remember_index(nv, idx)
        ks = db.ks
        ks.signal_modified(db, key)
        ks.dirty += updated - 1
        ks.notify("$", "pfadd", key, db.id)
        return resp.ONE
    if idx is not None and v is not None:
        hll.remember_index(v, idx)
    return resp.ZERO


@command("pfcount", -2, "readonly", "@read @hyperloglog @slow", keys=(1, -1, 1))
def pfcount(c: Session, argv: list[bytes]) -> bytes:
    if len(argv) > 2:
        regs = np.zeros(hll.HLL_REGISTERS, dtype=np.uint8)
        for key in argv[1:]:
            v = _get_hll(c, key)
            if v is None:
                continue
            r = hll.registers(v)
            if r is None:
                raise CommandError(CORRUPTED)
            np.maximum(regs, r, out=regs)
        return resp.integer(hll.count_histogram(hll.histogram(regs)))
    key = argv[1]
    v = _get_hll(c, key)
    if v is None:
        return resp.ZERO
    if hll.cache_valid(v):
        return resp.integer(hll.cached_card(v))
    card, ok = hll.count(v)
    if not ok:
        raise CommandError(CORRUPTED)
    b = bytearray(v)
    hll.set_cache(b, card)
    db = c.db
    db.set(key, bytes(b), keep_ttl=True)
    db.ks.signal_modified(db, key)
    return resp.integer(card)


@command("pfmerge", -2, "write denyoom", "@write @hyperloglog @slow", keys=(1, -1, 1))
def pfmerge(c: Session, argv: list[bytes]) -> bytes:
    regs = np.zeros(hll.HLL_REGISTERS, dtype=np.uint8)
    use_dense = False
    for key in argv[1:]:
        v = _get_hll(c, key)
        if v is None:
            continue
        if v[4] == hll.HLL_DENSE:
            use_dense = True
        r = hll.registers(v)
        if r is None:
            raise CommandError(CORRUPTED)
        np.maximum(regs, r, out=regs)
    db = c.db
    dest = argv[1]
    v = db.lookup_write(dest)
    b = hll.new_sparse() if v is None else bytearray(v)
    if use_dense:
        d = hll.to_dense(b)
        if d is None:
            raise CommandError(CORRUPTED)
        b = d
    if b[4] == hll.HLL_DENSE:
        cur = hll.dense_registers(b)
        np.maximum(cur, regs, out=cur)
        b[hll.HLL_HDR_SIZE:] = hll.pack_dense(cur)
    else:
        max_bytes = c.srv.config["hll-sparse-max-bytes"]
        for j in np.flatnonzero(regs).tolist():
            val = int(regs[j])
            if b[4] == hll.HLL_DENSE:
                hll.dense_set(b, j, val)
            else:
                b, _ = hll.sparse_set(b, j, val, max_bytes)
    b[15] |= 0x80
    if v is None:
        db.add(dest, bytes(b))
    else:
        db.set(dest, bytes(b), keep_ttl=True)
    db.ks.signal_modified(db, dest)
    db.ks.notify("$", "pfadd", dest, db.id)
    return resp.OK


@command("pfdebug", 3, "write denyoom admin", "@write @hyperloglog @admin @slow @dangerous", keys=(2, 2, 1))
def pfdebug(c: Session, argv: list[bytes]) -> bytes:
    sub = argv[1].lower()
    key = argv[2]
    db = c.db
    v = _get_hll(c, key, True)
    if v is None:
        raise CommandError("ERR The specified key does not exist")
    if sub == b"getreg":
        if v[4] == hll.HLL_SPARSE:
            d = hll.to_dense(v)
            if d is None:
                raise CommandError(CORRUPTED)
            v = bytes(d)
            db.set(key, v, keep_ttl=True)
            _changed(db, key)
        regs = hll.dense_registers(v).tolist()
        return b"*%d\r\n%s" % (len(regs), b"".join([resp.integer(x) for x in regs]))
    if sub == b"decode":
        if v[4] != hll.HLL_SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        return resp.bulk(hll.sparse_decode(v))
    if sub == b"encoding":
        return b"+dense\r\n" if v[4] == hll.HLL_DENSE else b"+sparse\r\n"
    if sub == b"todense":
        if v[4] == hll.HLL_SPARSE:
            d = hll.to_dense(v)
            if d is None:
                raise CommandError(CORRUPTED)
            db.set(key, bytes(d), keep_ttl=True)
            _changed(db, key)
            return resp.ONE
        return resp.ZERO
    raise CommandError(errors.sanitize("ERR Unknown PFDEBUG subcommand '%s'" % errors.fmt_arg(argv[1], 1 << 30)))


def _selftest() -> bool:
    """A small consistency check of the dense/sparse code paths (PFSELFTEST)."""
    b = hll.new_sparse()
    d = hll.to_dense(b)
    assert d is not None
    for i in range(400):
        ele = b"%d" % i
        b, _ = hll.add(b, ele, 1 << 30)
        d, _ = hll.add(d, ele, 0)
    sr = hll.registers(b)
    dr = hll.registers(d)
    return sr is not None and dr is not None and bool((sr == dr).all())


@command("pfselftest", 1, "admin", "@hyperloglog @admin @slow @dangerous")
def pfselftest(c: Session, argv: list[bytes]) -> bytes:
    if not _selftest():
        raise CommandError("ERR TESTFAILED Register error")
    return resp.OK
