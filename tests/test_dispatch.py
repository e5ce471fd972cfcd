"""The dispatcher's bookkeeping against Redis: what counts as processed, rejected, failed.

INFO stats and commandstats after the same commands on both servers (the fast path for
plain data commands and the gated path must count alike).
"""

from __future__ import annotations

import pytest

from tests.support.stats import fresh_client, run_each

SCENARIOS = {
    "rejected": [("FOO",), ("GET",), ("CONFIG", "GET"), ("CONFIG", "NOPE"), ("SET", "s", "x"), ("GET", "s")],
    "multi": [("MULTI",), ("SET", "a", "1"), ("INCR", "s"), ("GET",), ("EXEC",), ("MULTI",), ("INCR", "s"),
              ("EXEC",)],
    "eval_call_error": [("SET", "s", "x"), ("EVAL", "return redis.call('INCR','s')", "0")],
    "eval_pcall_error": [("SET", "s", "x"), ("EVAL", "return redis.pcall('INCR','s')", "0")],
    "eval_pcall_swallowed": [("SET", "s", "x"), ("EVAL", "redis.pcall('INCR','s') return 1", "0")],
    "eval_error": [("EVAL", "error('boom')", "0"), ("EVAL", "return redis.error_reply('MY bad')", "0")],
    # errors the script commands raise themselves: one failed call each
    "script_command_errors": [("EVALSHA", "a" * 40, "0"), ("EVAL", "return (", "0"), ("FCALL", "nosuch", "0"),
                              ("EVAL", "return 1", "x")],
    "plain_errors": [("SET", "s", "x"), ("INCR", "s"), ("LPUSH", "s", "1"), ("GET", "s"), ("SET", "k")],
}


def _stats(port: int, cmds: list[tuple[str, ...]]) -> dict:
    r = fresh_client(port, decode_responses=True)
    for _ in run_each(r, cmds):
        pass
    total = r.info("stats")
    cs = r.info("commandstats")
    return {
        "processed": total["total_commands_processed"],
        "error_replies": total["total_error_replies"],
        "errorstats": r.info("errorstats"),
        "commands": {k: (v["calls"], v["rejected_calls"], v["failed_calls"]) for k, v in cs.items()
                     if k not in ("cmdstat_info", "cmdstat_config|resetstat", "cmdstat_flushall")},
    }


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_counters_match_redis(name, redis_proc, durakv_proc):
    assert _stats(durakv_proc.port, SCENARIOS[name]) == _stats(redis_proc.port, SCENARIOS[name])
