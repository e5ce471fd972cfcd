"""durakv's own benchmark for commands redis-benchmark has no -t test for.

Runs redis-benchmark's custom-command mode (XADD, XRANGE, PFADD, GEOADD, PUBLISH,
EVALSHA, FCALL ...) against a real redis-server started here and against a target, in the
same run, interleaved, and prints ops/s ratios target/redis at -P 1 and -P 16 (and CPU
per op with --target-pid), like ../shared/bench/compare.sh does for the -t tests.

  python bench/custom_compare.py HOST PORT [--target-pid PID] [--reps 2] [--secs 2]
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time

import redis

SCRIPT = "return redis.call('INCR', KEYS[1])"
LIBRARY = "#!lua name=benchlib\nredis.register_function('bincr', function(keys, args) return redis.call('INCR', keys[1]) end)"

# name -> (setup(client), redis-benchmark command args)
CASES: dict[str, tuple] = {
    "XADD": (None, ["XADD", "bench:stream", "MAXLEN", "~", "10000", "*", "f", "__rand_int__"]),
    "XRANGE": (lambda c: [c.xadd("bench:xr", {"f": str(i)}) for i in range(100)],
               ["XRANGE", "bench:xr", "-", "+", "COUNT", "10"]),
    "PFADD": (None, ["PFADD", "bench:hll", "__rand_int__"]),
    "GEOADD": (None, ["GEOADD", "bench:geo", "13.361389", "38.115556", "m:__rand_int__"]),
    "PUBLISH": (None, ["PUBLISH", "bench:chan", "hello"]),
    "EVALSHA": ("evalsha", None),
    "FCALL": (lambda c: c.execute_command("FUNCTION", "LOAD", "REPLACE", LIBRARY),
              ["FCALL", "bincr", "1", "bench:fc"]),
}


def cpu_ticks(pid: int | None) -> int:
    if not pid:
        return 0
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def run_bench(port: int, args: list[str], pipeline: int, n: int) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", "50", "-P", str(pipeline), "-n", str(n), "-r", "100000",
         "--csv", *args], capture_output=True, text=True, timeout=300)
    if "Error" in out.stderr or out.returncode:
        raise RuntimeError(out.stderr.strip()[:300])
    line = [x for x in out.stdout.splitlines() if x and not x.startswith('"test"')][-1]
    return float(line.split(",")[1].strip('"'))


def prepare(port: int, name: str) -> list[str]:
    c = redis.Redis(port=port)
    setup, args = CASES[name]
    if setup == "evalsha":
        sha = c.script_load(SCRIPT)
        return ["EVALSHA", sha, "1", "bench:ev"]
    if setup is not None:
        setup(c)
    return args


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--target-pid", type=int)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--redis-port", type=int, default=7405)
    ap.add_argument("--tests", default=",".join(CASES))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="custom-bench-")
    rp = subprocess.Popen(["redis-server", "--port", str(a.redis_port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
    rpid = rp.pid
    try:
        for _ in range(50):
            try:
                redis.Redis(port=a.redis_port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        print(f"{'test':8} {'mode':4} {'redis_ops/s':>12} {'durakv_ops/s':>12} {'ratio':>6} {'cpu_eff':>8}")
        ratios: dict[int, list[float]] = {1: [], 16: []}
        for name in a.tests.split(","):
            try:
                rargs = prepare(a.redis_port, name)
                targs = prepare(a.port, name)
            except Exception as e:  # noqa: BLE001 - report and go on with the next test
                print(f"{name:8} unsupported by target: {e}")
                continue
            for p in (1, 16):
                best_r = best_t = 0.0
                eff = []
                for _ in range(a.reps):
                    n = int(max(2000, (60000 if p == 1 else 300000) * a.secs / 2))
                    c0 = cpu_ticks(rpid)
                    r_ops = run_bench(a.redis_port, rargs, p, n)
                    r_cpu = (cpu_ticks(rpid) - c0) / n
                    c0 = cpu_ticks(a.target_pid)
                    try:
                        t_ops = run_bench(a.port, targs, p, n)
                    except RuntimeError as e:
                        print(f"{name:8} P{p}: target error {e}")
                        t_ops = 0.0
                    t_cpu = (cpu_ticks(a.target_pid) - c0) / n
                    best_r, best_t = max(best_r, r_ops), max(best_t, t_ops)
                    if t_cpu > 0 and r_cpu > 0:
                        eff.append(r_cpu / t_cpu)
                ratio = best_t / best_r if best_r else 0
                ratios[p].append(ratio)
                e = f"{max(eff):8.3f}" if eff else "       -"
                print(f"{name:8} P{p:<3} {best_r:12.0f} {best_t:12.0f} {ratio:6.3f} {e}", flush=True)
        g = {p: math.exp(sum(math.log(max(x, 1e-9)) for x in v) / len(v)) if v else 0 for p, v in ratios.items()}
        print(f"GEOMEAN ratio P1={g[1]:.3f} P16={g[16]:.3f}")
    finally:
        rp.terminate()
        rp.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
