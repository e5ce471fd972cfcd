"""``durakv-server [configfile] [--name value ...]``: start one node, redis-server style."""

from __future__ import annotations

import os
import sys

from ..config import Config, parse_args, parse_file


def build_config(argv: list[str]) -> Config:
    cfg = Config()
    cfile, pairs = parse_args(argv)
    all_pairs = []
    if cfile:
        with open(cfile) as f:
            all_pairs.extend(parse_file(f.read()))
    all_pairs.extend(pairs)
    for name, value in all_pairs:
        try:
            cfg.set_from_text(name, value, startup=True)
        except KeyError:
            raise SystemExit(f"*** FATAL CONFIG FILE ERROR ***\nBad directive or wrong number of arguments: {name}") from None
        except ValueError as e:
            raise SystemExit(f"*** FATAL CONFIG FILE ERROR ***\n'{name} {value}': {e}") from None
    if cfile:
        cfg.extras_file = os.path.abspath(cfile)  # type: ignore[attr-defined]
    return cfg


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-v", "--version"):
        from .. import __version__

        print(f"durakv-server v={__version__}")
        return
    cfg = build_config(args)
    d = cfg["dir"]
    os.makedirs(d, exist_ok=True)
    os.chdir(d)
    if cfg["daemonize"]:
        if os.fork() > 0:
            os._exit(0)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    from ..node import run

    run(cfg)


if __name__ == "__main__":
    main()
