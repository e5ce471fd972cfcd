"""INFO rendering: Redis 7.0's sections and field names, plus lines other subsystems register.

Sections: server clients memory persistence stats replication cpu modules errorstats
commandstats latencystats cluster keyspace; ``INFO`` / ``default`` / ``all`` /
``everything`` and several section names in one call as in Redis 7.0.

Subsystems contribute a whole section through a registry in ``ctx.extras``::

    ctx.extras.setdefault("info", {})["persistence"] = lambda: [("loading", 0), ...]

The function returns ``(field, value)`` pairs; when a standard section (persistence,
replication ...) is registered its lines replace the defaults rendered here, and a section
name Redis does not have is rendered as an extra section (included in ``default``).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from . import spec

DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "modules", "errorstats", "cluster", "keyspace"]
ALL_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"]
_TITLES = {"cpu": "CPU", "commandstats": "Commandstats", "errorstats": "Errorstats",
           "latencystats": "Latencystats"}


def human_bytes(n: float) -> str:
    """Redis's bytesToHuman."""
    if n < 1024:
        return "%dB" % n
    for unit, div in (("K", 1024), ("M", 1024**2), ("G", 1024**3), ("T", 1024**4), ("P", 1024**5)):
        if n < div * 1024 or unit == "P":
            return "%.2f%s" % (n / div, unit)
    return "%dB" % n


def _uname() -> str:
    u = os.uname()
    return f"{u.sysname} {u.release} {u.machine}"


def _server(srv: Any) -> list[tuple[str, Any]]:
    now = time.time()
    up = int(now - srv.start_time)
    cfg = srv.config
    return [
        ("redis_version", "7.0.15"),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", "0"),
        ("redis_mode", "cluster" if srv.cluster is not None else "standalone"),
        ("os", _uname()),
        ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll" if platform.system() == "Linux" else "kqueue"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", srv.pid),
        ("process_supervised", "no"),
        ("run_id", srv.run_id),
        ("tcp_port", srv.tcp_port or cfg["port"]),
        ("server_time_usec", srv.clock.now_us()),
        ("uptime_in_seconds", up),
        ("uptime_in_days", up // 86400),
        ("hz", cfg["hz"]),
        ("configured_hz", cfg["hz"]),
        ("lru_clock", int(now) & ((1 << 24) - 1)),
        ("executable", srv.executable or os.path.abspath(sys.argv[0])),
        ("config_file", srv.config_file or getattr(cfg, "extras_file", "")),
        ("io_threads_active", 0),
        ("durakv_version", _version()),
        ("python_version", platform.python_version()),
    ]


def _version() -> str:
    from . import __version__

    return __version__


def _clients(srv: Any) -> list[tuple[str, Any]]:
    clients = list(srv.clients.values())
    blocked = sum(1 for s in clients if s.blocked is not None)
    tracking = sum(1 for s in clients if s.tracking)
    pubsub = srv.pubsub
    if pubsub is not None and isinstance(getattr(pubsub, "tracking_clients", None), int):
        tracking = pubsub.tracking_clients
    return [
        ("connected_clients", len(clients)),
        ("cluster_connections", 0),
        ("maxclients", srv.config["maxclients"]),
        ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0),
        ("blocked_clients", blocked),
        ("tracking_clients", tracking),
        ("clients_in_timeout_table", blocked),
    ]


def _memory(srv: Any) -> list[tuple[str, Any]]:
    from .keyspace import memory

    used = memory.used_memory(srv)
    rss = memory.rss_bytes()
    peak = memory.update_peak(srv, used)
    startup = memory.startup_memory(srv)
    overhead = memory.overhead(srv)
    dataset = max(0, used - overhead)
    cfg = srv.config
    maxmem = cfg["maxmemory"]
    total = memory.total_system_memory()
    return [
        ("used_memory", used),
        ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", human_bytes(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (100.0 * used / peak if peak else 0)),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (100.0 * dataset / max(1, used - startup))),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", total),
        ("total_system_memory_human", human_bytes(total)),
        ("used_memory_lua", 32768),
        ("used_memory_vm_eval", 32768),
        ("used_memory_lua_human", "32.00K"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", len(getattr(srv.scripting, "scripts", ()))),
        ("number_of_functions", len(getattr(srv.scripting, "functions", ()))),
        ("number_of_libraries", len(getattr(srv.scripting, "libraries", ()))),
        ("used_memory_vm_functions", 32768),
        ("used_memory_vm_total", 65536),
        ("used_memory_vm_total_human", "64.00K"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmem),
        ("maxmemory_human", human_bytes(maxmem)),
        ("maxmemory_policy", cfg["maxmemory-policy"]),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "%.2f" % (rss / used if used else 0)),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "%.2f" % (rss / used if used else 0)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", memory.clients_memory(srv)),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", srv.stats.lazyfreed_objects),
    ]


def _persistence(srv: Any) -> list[tuple[str, Any]]:
    return [
        ("loading", int(bool(srv.loading))),
        ("async_loading", 0),
        ("current_cow_peak", 0),
        ("current_cow_size", 0),
        ("current_cow_size_age", 0),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0),
        ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", srv.ks.dirty),
        ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", srv.lastsave),
        ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0),
        ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", int(bool(srv.config["appendonly"]))),
        ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0),
        ("aof_last_write_status", "ok" if srv.write_refused is None else "err"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _stats(srv: Any) -> list[tuple[str, Any]]:
    st = srv.stats
    ks = srv.ks
    ex = srv.extras.get("exporter")  # SYNC/PSYNC served to Redis replicas
    ops = srv.extras.get("ops_per_sec")
    ps = srv.pubsub
    return [
        ("total_connections_received", st.total_connections_received),
        ("total_commands_processed", st.total_commands_processed),
        ("instantaneous_ops_per_sec", ops() if ops else 0),
        ("total_net_input_bytes", st.total_net_input_bytes),
        ("total_net_output_bytes", st.total_net_output_bytes),
        ("total_net_repl_input_bytes", 0),
        ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "0.00"),
        ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_connections),
        ("sync_full", getattr(ex, "sync_full", 0)),
        ("sync_partial_ok", getattr(ex, "sync_partial_ok", 0)),
        ("sync_partial_err", getattr(ex, "sync_partial_err", 0)),
        ("expired_keys", ks.stat_expired),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", 0),
        ("expire_cycle_cpu_milliseconds", 0),
        ("evicted_keys", ks.stat_evicted),
        ("evicted_clients", 0),
        ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", ks.stat_hits),
        ("keyspace_misses", ks.stat_misses),
        ("pubsub_channels", _count(ps, "channels")),
        ("pubsub_patterns", _count(ps, "patterns")),
        ("pubsubshard_channels", _count(ps, "shard_channels")),
        ("latest_fork_usec", 0),
        ("total_forks", 0),
        ("migrate_cached_sockets", len(srv.extras.get("migrate_sockets", ()))),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0),
        ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        ("tracking_total_keys", _count(ps, "table")),
        ("tracking_total_items", sum(len(v) for v in ps.table.values()) if ps is not None and hasattr(ps, "table") else 0),
        ("tracking_total_prefixes", _count(ps, "prefix_clients")),
        ("unexpected_error_replies", st.unexpected_error_replies),
        ("total_error_replies", st.total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", st.total_commands_processed),
        ("total_writes_processed", st.total_commands_processed),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
        ("client_query_buffer_limit_disconnections", st.client_query_buffer_limit_disconnections),
        ("client_output_buffer_limit_disconnections", st.client_output_buffer_limit_disconnections),
    ]


def _count(obj: Any, attr: str) -> int:
    if obj is None:
        return 0
    v = getattr(obj, attr, 0)
    if callable(v):
        v = v()
    if isinstance(v, (dict, set, list)):
        return len(v)
    return int(v)


def _replication(srv: Any) -> list[tuple[str, Any]]:
    tracker = srv.tracker
    off = tracker.committed if tracker is not None else 0
    out: list[tuple[str, Any]] = [("role", "master" if srv.role == "master" else "slave")]
    if srv.role != "master" and srv.primary_addr:
        out += [("master_host", srv.primary_addr[0]), ("master_port", srv.primary_addr[1]),
                ("master_link_status", "up")]
    ex = srv.extras.get("exporter")
    out += ex.info() if ex is not None else [("connected_slaves", 0)]
    out += [
        ("master_failover_state", "no-failover"),
        ("master_replid", srv.run_id),
        ("master_replid2", "0" * 40),
        ("master_repl_offset", off),
        ("second_repl_offset", -1),
        ("repl_backlog_active", 0),
        ("repl_backlog_size", srv.config["repl-backlog-size"]),
        ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]
    return out


def _cpu(srv: Any) -> list[tuple[str, Any]]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rc = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", "%.6f" % ru.ru_stime),
        ("used_cpu_user", "%.6f" % ru.ru_utime),
        ("used_cpu_sys_children", "%.6f" % rc.ru_stime),
        ("used_cpu_user_children", "%.6f" % rc.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % ru.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % ru.ru_utime),
    ]


def _commandstats(srv: Any) -> list[tuple[str, Any]]:
    out = []
    for s in spec.all_commands().values():
        if s.subcommands and not s.calls and not s.rejected_calls and not s.failed_calls:
            continue
        if s.calls or s.rejected_calls or s.failed_calls:
            out.append((
                "cmdstat_" + s.name,
                "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d"
                % (s.calls, s.usec, s.usec / s.calls if s.calls else 0.0, s.rejected_calls, s.failed_calls),
            ))
    return out


def _errorstats(srv: Any) -> list[tuple[str, Any]]:
    # Redis keeps them in a radix tree: sorted by the error code's bytes
    return [("errorstat_" + k, "count=%d" % v) for k, v in sorted(srv.stats.errors.items())]


def _latencystats(srv: Any) -> list[tuple[str, Any]]:
    """latency_percentiles_usec_<cmd>.  durakv keeps no per-call histogram (hot path): every
    percentile reports the command's mean latency."""
    fn = srv.extras.get("latency_percentiles")
    if fn:
        return fn()
    cfg = srv.config
    if not cfg["latency-tracking"]:
        return []
    pcts = cfg["latency-tracking-info-percentiles"].split()
    out = []
    for s in spec.all_commands().values():
        if s.calls and not s.subcommands:
            avg = s.usec / s.calls
            out.append(("latency_percentiles_usec_" + s.name, ",".join("p%s=%.3f" % (p, avg) for p in pcts)))
    return out


def _cluster(srv: Any) -> list[tuple[str, Any]]:
    return [("cluster_enabled", 1 if srv.cluster is not None else 0)]


def _keyspace(srv: Any) -> list[tuple[str, Any]]:
    out = []
    now = srv.clock.now_ms()
    for db in srv.ks.dbs:
        n = len(db.data)
        if not n:
            continue
        exp = db.expires
        avg = 0
        if exp:
            # Redis keeps a running estimate from active-expiry samples; sample up to 64
            tot = cnt = 0
            for i, when in enumerate(exp.values()):
                if i >= 64:
                    break
                if when > now:
                    tot += when - now
                    cnt += 1
            avg = tot // cnt if cnt else 0
        out.append(("db%d" % db.id, "keys=%d,expires=%d,avg_ttl=%d" % (n, len(exp), avg)))
    return out


_BUILTIN: dict[str, Callable[[Any], list[tuple[str, Any]]]] = {
    "server": _server, "clients": _clients, "memory": _memory, "persistence": _persistence,
    "stats": _stats, "replication": _replication, "cpu": _cpu, "modules": lambda srv: [],
    "commandstats": _commandstats, "errorstats": _errorstats, "latencystats": _latencystats,
    "cluster": _cluster, "keyspace": _keyspace,
}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "%.2f" % v
    return str(v)


def render(srv: Any, args: list[str]) -> str:
    """The INFO text for the section arguments (lowercase)."""
    extras: dict[str, Callable[[], list[tuple[str, Any]]]] = srv.extras.get("info", {})
    extra_names = [n for n in extras if n not in _BUILTIN]
    if not args:
        args = ["default"]
    wanted: list[str] = []
    for a in args:
        if a == "default":
            names = DEFAULT_SECTIONS + extra_names
        elif a == "all":
            names = [n for n in ALL_SECTIONS] + extra_names
        elif a == "everything":
            names = ALL_SECTIONS + extra_names
        else:
            names = [a]
        for n in names:
            if n not in wanted:
                wanted.append(n)
    # Redis renders sections in its own fixed order, not in argument order
    order = ALL_SECTIONS + extra_names
    wanted.sort(key=lambda n: order.index(n) if n in order else len(order))
    parts = []
    for name in wanted:
        fn = extras.get(name)
        if fn is not None:
            try:
                lines = fn()
            except Exception as e:  # a subsystem's INFO bug must not break INFO
                lines = [("error", repr(e))]
        elif name in _BUILTIN:
            lines = _BUILTIN[name](srv)
        else:
            continue
        title = _TITLES.get(name, name.capitalize())
        body = "".join("%s:%s\r\n" % (k, _fmt(v)) for k, v in lines)
        parts.append("# %s\r\n%s" % (title, body))
    return "\r\n".join(parts)
