"""Regenerate durakv/spec/reference.json from a running Redis 7.0 (the oracle).

The reference holds Redis's documentation facts (summary, since, group, complexity,
arguments, key specs, tips, history) per command and subcommand.  Declarations next to
the handlers own arity, flags, ACL categories and key positions; this file only feeds
COMMAND DOCS / COMMAND INFO key specs.  Usage: python tools/gen_command_reference.py PORT
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import redis


def _conv(x):
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, list):
        return [_conv(i) for i in x]
    if isinstance(x, dict):
        return {_conv(k): _conv(v) for k, v in x.items()}
    return x


def main() -> None:
    port = int(sys.argv[1])
    conn = redis.Connection(port=port, protocol=3)

    def raw(*args):
        conn.send_command(*args)
        return _conv(conn.read_response())

    docs = raw("COMMAND", "DOCS")
    info = raw("COMMAND", "INFO")
    out: dict[str, dict] = {}

    def add_info(entry):
        name = entry[0]
        d = out.setdefault(name, {})
        d["key_specs"] = entry[8]
        d["tips"] = entry[7]
        for sub in entry[9]:
            add_info(sub)

    for e in info:
        add_info(e)

    def add_docs(name, d):
        o = out.setdefault(name, {})
        for k, v in d.items():
            if k == "subcommands":
                for sn, sd in v.items():
                    add_docs(sn, sd)
            else:
                o[k] = v

    for name, d in docs.items():
        add_docs(name, d)
    path = Path(__file__).resolve().parent.parent / "durakv" / "spec" / "reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")))
    print(f"{len(out)} commands -> {path}")


if __name__ == "__main__":
    main()
