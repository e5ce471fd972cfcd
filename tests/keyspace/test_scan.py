"""durakv.keyspace.scan: glob matching (vs. a line-by-line port of Redis's stringmatchlen),
cursor parsing, option parsing and the SCAN guarantee of the stable cursors."""

from __future__ import annotations

import random
from zlib import crc32

import pytest

from durakv.errors import CommandError
from durakv.keyspace.scan import Scanner, matcher, parse_cursor, parse_options, reply, stringmatch


def ref_stringmatch(p: bytes, s: bytes) -> bool:
    """Redis 7.0 util.c stringmatchlen_impl, transcribed (pattern reads past the end see NUL)."""
    pad = p + b"\0\0\0"

    def signed(x: int) -> int:
        return x - 256 if x >= 128 else x

    def m(pi: int, plen: int, si: int, slen: int, skip: list[int]) -> bool:
        while plen and slen:
            ch = pad[pi]
            if ch == 0x2A:
                while plen and pad[pi + 1] == 0x2A:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if m(pi + 1, plen - 1, si, slen, skip):
                        return True
                    if skip[0]:
                        return False
                    si += 1
                    slen -= 1
                skip[0] = 1
                return False
            elif ch == 0x3F:
                si += 1
                slen -= 1
            elif ch == 0x5B:
                pi += 1
                plen -= 1
                neg = pad[pi] == 0x5E
                if neg:
                    pi += 1
                    plen -= 1
                match = False
                while True:
                    if pad[pi] == 0x5C and plen >= 2:
                        pi += 1
                        plen -= 1
                        if pad[pi] == s[si]:
                            match = True
                    elif pad[pi] == 0x5D:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and pad[pi + 1] == 0x2D:
                        lo, hi, c = signed(pad[pi]), signed(pad[pi + 2]), signed(s[si])
                        if lo > hi:
                            lo, hi = hi, lo
                        pi += 2
                        plen -= 2
                        if lo <= c <= hi:
                            match = True
                    elif pad[pi] == s[si]:
                        match = True
                    pi += 1
                    plen -= 1
                if neg:
                    match = not match
                if not match:
                    return False
                si += 1
                slen -= 1
            else:
                if ch == 0x5C and plen >= 2:
                    pi += 1
                    plen -= 1
                if pad[pi] != s[si]:
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while plen > 0 and pad[pi] == 0x2A:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return m(0, len(p), 0, len(s), [0])


def test_matcher_fuzz_against_reference() -> None:
    rnd = random.Random(7)
    alpha = b"ab*?[]^-\\\x80\xff"
    for _ in range(20000):
        p = bytes(rnd.choice(alpha) for _ in range(rnd.randint(0, 7)))
        s = bytes(rnd.choice(alpha) for _ in range(rnd.randint(0, 6)))
        assert stringmatch(p, s) == ref_stringmatch(p, s), (p, s)


@pytest.mark.parametrize(
    "pattern,s,want",
    [
        (b"h?llo", b"hello", True), (b"h*llo", b"hllo", True), (b"h[ae]llo", b"hallo", True),
        (b"h[^e]llo", b"hello", False), (b"h[a-b]llo", b"hbllo", True), (b"h[b-a]llo", b"hallo", True),
        (b"h\\*llo", b"h*llo", True), (b"h\\*llo", b"hello", False), (b"[\\]]", b"]", True),
        (b"[a-]", b"]", True),  # 'a-]' is a range up to ']' in Redis
        (b"[abc", b"c", True), (b"[", b"x", False), (b"[^", b"x", True), (b"\\", b"\\", True),
        (b"*", b"", True), (b"**", b"", False), (b"", b"", True), (b"", b"a", False),
        (b"a**", b"a", True), (b"*a*a*a*a*a*a*a*a*a*b", b"a" * 200, False),
        (b"[\x80-\xff]", b"\x90", True), (b"[a-\xff]", b"b", False),  # signed char ranges
    ],
)
def test_matcher_cases(pattern: bytes, s: bytes, want: bool) -> None:
    assert matcher(pattern)(s) is want


def test_parse_cursor() -> None:
    assert parse_cursor(b"0") == 0
    assert parse_cursor(b"") == 0
    assert parse_cursor(b"+5") == 5
    assert parse_cursor(b"-1") == 2**64 - 1
    assert parse_cursor(b"18446744073709551615") == 2**64 - 1
    assert parse_cursor(b"7\0junk") == 7
    for bad in [b"x", b" 1", b"1 ", b"0x1", b"18446744073709551616", b"+", b"-", b"1.0"]:
        with pytest.raises(CommandError, match="ERR invalid cursor"):
            parse_cursor(bad)


def test_parse_options() -> None:
    o = parse_options([b"SCAN", b"0", b"count", b"5", b"MATCH", b"a*", b"TYPE", b"LIST"], 2, allow_type=True)
    assert (o.count, o.pattern, o.type) == (5, b"a*", b"list")
    assert o.match(b"abc") and not o.match(b"b")
    for bad in [[b"COUNT", b"0"], [b"COUNT"], [b"MATCH"], [b"TYPE", b"x"], [b"FOO", b"1"]]:
        with pytest.raises(CommandError, match="ERR syntax error"):
            parse_options([b"HSCAN", b"k", b"0", *bad], 3)
    with pytest.raises(CommandError, match="not an integer"):
        parse_options([b"SCAN", b"0", b"COUNT", b"x"], 2)


def test_reply_shape() -> None:
    assert reply(0, []) == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert reply(12, [b"$1\r\na\r\n"]) == b"*2\r\n$2\r\n12\r\n*1\r\n$1\r\na\r\n"


def full_scan(sc: Scanner, owner: object, members: dict | set, count: int, churn=None) -> list[bytes]:
    seen: list[bytes] = []
    cursor = 0
    steps = 0
    while True:
        cursor, got = sc.step(owner, members, cursor, count)
        seen.extend(got)
        steps += 1
        if churn is not None:
            churn(steps)
        if cursor == 0:
            return seen
        assert steps < 100000


def test_small_collection_in_one_step() -> None:
    sc = Scanner()
    d = {b"a": 1, b"b": 2}
    assert sc.step(d, d, 0, 10) == (0, [b"a", b"b"])


def test_full_iteration_exact_without_changes() -> None:
    sc = Scanner()
    d = {f"k{i}".encode(): i for i in range(1000)}
    seen = full_scan(sc, d, d, 7)
    assert sorted(seen) == sorted(d)
    assert len(seen) == len(d)  # no duplicates when nothing changes


def test_guarantee_under_churn() -> None:
    rnd = random.Random(3)
    sc = Scanner()
    stable = {f"s{i}".encode() for i in range(400)}
    members = set(stable) | {f"c{i}".encode() for i in range(400)}
    extra = iter(range(10**6))

    def churn(step: int) -> None:
        for _ in range(5):
            victim = rnd.choice(sorted(members - stable))
            members.discard(victim)
            members.add(f"n{next(extra)}".encode())

    seen = set(full_scan(sc, members, members, 13, churn))
    assert stable <= seen


def test_fallback_when_snapshot_evicted() -> None:
    sc = Scanner(max_snapshots=1)
    d = {f"k{i}".encode(): i for i in range(300)}
    other = {f"o{i}".encode(): i for i in range(300)}
    seen: list[bytes] = []
    cursor, got = sc.step(d, d, 0, 10)
    seen.extend(got)
    sc.step(other, other, 0, 10)  # evicts d's snapshot
    while cursor:
        cursor, got = sc.step(d, d, cursor, 10)
        seen.extend(got)
        sc.step(other, other, 0, 10)
    assert set(seen) == set(d)


def test_cursor_on_replaced_collection_restarts_at_its_hash() -> None:
    """A cursor used on another collection (SWAPDB, a recreated key) takes a new snapshot."""
    sc = Scanner()
    a = {f"k{i}".encode(): i for i in range(100)}
    cursor, first = sc.step(a, a, 0, 10)
    b = dict(a)
    rest: list[bytes] = []
    while cursor:
        cursor, got = sc.step(b, b, cursor, 10)
        rest.extend(got)
    assert set(first) | set(rest) == set(a)
    threshold = max(crc32(k) for k in first)
    assert all(crc32(k) > threshold for k in rest)


def test_equal_hash_runs_are_not_split() -> None:
    # 'plumless' and 'buckeroo' are a classic crc32 collision
    assert crc32(b"plumless") == crc32(b"buckeroo")
    sc = Scanner()
    d = {f"x{i}".encode(): 0 for i in range(50)}
    d[b"plumless"] = 0
    d[b"buckeroo"] = 0
    for count in (1, 2, 3, 5):
        assert set(full_scan(sc, d, d, count)) == set(d)


def test_huge_cursor_ends_iteration() -> None:
    sc = Scanner()
    d = {f"k{i}".encode(): i for i in range(100)}
    assert sc.step(d, d, 2**64 - 1, 10) == (0, [])
