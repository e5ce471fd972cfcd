"""Wire the ACL engine into a node: the ``auth`` hook, requirepass, the dispatcher switch."""

from __future__ import annotations

from typing import Any

from . import Acl


def install(node: Any) -> None:
    ctx = node.ctx
    engine = Acl(ctx)
    ctx.extras["acl_engine"] = engine
    ctx.extras["auth"] = engine.auth
    ctx.extras["auth_default_nopass"] = engine.default_nopass
    # CONFIG REWRITE writes the users as "user" lines unless they live in an aclfile
    ctx.extras["config_user_lines"] = lambda: (
        None if ctx.config["aclfile"] else [line.decode("latin-1") for line in engine.list_lines()]
    )
    cfg = ctx.config
    cfg.watch("requirepass", lambda v: engine.set_requirepass(v or ""))
    if cfg["requirepass"]:
        engine.set_requirepass(cfg["requirepass"])
    engine.update_gate()
    aclfile = cfg["aclfile"]
    lines = getattr(cfg, "acl_user_lines", [])
    if lines and aclfile:
        raise SystemExit(
            "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path "
            "is invalid. This setup is very likely to lead to configuration errors and security holes, "
            "please define either an ACL file or declare users directly in your redis.conf, but not both."
        )
    if lines:
        from .file import load_config_users

        load_config_users(engine, lines)
    if aclfile:
        from .file import load_at_start

        load_at_start(engine, aclfile)


def engine_of(ctx: Any) -> Acl:
    return ctx.extras["acl_engine"]
