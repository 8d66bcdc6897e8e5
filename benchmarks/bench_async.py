"""Event-loop responsiveness of the async env API under many concurrent episodes.

    python benchmarks/bench_async.py [--concurrency 64 256] [--episodes N] [--no-legacy]
                                     [--switch-interval 0.005 0.001] [--json OUT]

Each level runs ``concurrency`` (or ``--episodes``) real episodes at once on one asyncio loop:
built-in tasks (``ClawGym/task-0000`` ...) solved by the oracle agent through ``areset`` /
``astep`` / ``aclose`` on real bwrap sandboxes, task loading and env construction on a small
thread pool as the rollout engine does. A loop-lag monitor (a coroutine that sleeps 10 ms and
records how late it wakes) runs beside them; its longest and p99 lateness are the figures.

Baselines measured in the same run, so a busy machine shows up in them too:

- **idle**: the same monitor on the same loop with no episode running;
- **external**: the same monitor in a separate process during the episodes (what the machine's
  CPU load alone does to a loop: the floor any in-process fix can reach);
- **legacy** (unless ``--no-legacy``): the same episodes driven the way the env did before the
  fix: a ``ThreadPoolExecutor`` per env behind ``loop.run_in_executor``, and bwrap started with a
  Python ``preexec_fn`` (rlimits + setresuid). Reported ratios are fixed / legacy and fixed / idle.

Also reported: episodes/s, rewards (all must be 1.0), infra errors, the driver's peak RSS and the
peak total RSS of the sandboxes' processes (sampled from a separate process).
256 concurrent sandboxes take about 256 x 12 MB of RAM; lower ``--concurrency`` on small machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clawgym_env.agents.oracle import OracleAgent
from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import bwrap as bwrap_mod
from clawgym_env.sandbox.runtime import UidLease, runtime_dir
from clawgym_env.synth.builtin import BuiltinSource

TICK_S = 0.010

# A separate process: the same loop-lag monitor, and every 0.5 s the RSS of the sandboxes' processes
# (uids in the lease range); runs until its stdin closes, then prints one JSON line.
_EXTERNAL = r"""
import asyncio, json, os, sys, time, threading
first, count, tick = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
done = threading.Event()
peak = {"sandbox_rss_mb": 0.0, "sandbox_procs": 0}
def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
def sample():
    while not done.wait(0.5):
        total = n = 0
        for e in os.scandir("/proc"):
            if e.name.isdigit():
                try:
                    uid = e.stat().st_uid
                except OSError:
                    continue
                if first <= uid < first + count:
                    total += rss_kb(e.name); n += 1
        if total / 1024 > peak["sandbox_rss_mb"]:
            peak["sandbox_rss_mb"], peak["sandbox_procs"] = total / 1024, n
def wait_stdin():
    sys.stdin.read()
    done.set()
async def lag():
    out = []
    while not done.is_set():
        t = time.perf_counter()
        await asyncio.sleep(tick)
        out.append(time.perf_counter() - t - tick)
    return out
threading.Thread(target=sample, daemon=True).start()
threading.Thread(target=wait_stdin, daemon=True).start()
s = sorted(asyncio.run(lag())) or [0.0]
print(json.dumps({"max": s[-1], "p99": s[min(len(s) - 1, int(len(s) * 0.99))], **peak}))
"""


class LagMonitor:
    """How late a 10 ms sleep wakes on the running loop: the loop's stalls."""

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.stalls.append(max(0.0, time.perf_counter() - t - TICK_S))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, float]:
        self._stop.set()
        assert self._task is not None
        await self._task
        return summarize(self.stalls)


def summarize(stalls: list[float]) -> dict[str, float]:
    s = sorted(stalls) or [0.0]
    return {"max": s[-1], "p99": s[min(len(s) - 1, int(len(s) * 0.99))], "n": len(s)}


# ---------------------------------------------------------------------- the pre-fix behaviour
def _legacy_preexec(limits: Any, uid: int | None, cgroup: Any = None):  # type: ignore[no-untyped-def]
    """What BwrapSandbox ran between fork and exec before the fix."""
    def apply() -> None:
        if cgroup is not None:
            cgroup.enter()
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
    return apply


class _LegacySubprocess:
    """``subprocess`` as bwrap.py sees it in legacy mode: every bwrap start gets the preexec_fn."""

    def __init__(self, limits_of: threading.local) -> None:
        self._limits_of = limits_of

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        current = getattr(self._limits_of, "current", None)
        if current is not None:
            sb, cgroup = current
            kwargs["preexec_fn"] = _legacy_preexec(sb.config.limits, sb.uid, cgroup)
        return subprocess.Popen(argv, **kwargs)


@contextlib.contextmanager
def legacy_mode() -> Iterator[None]:
    """Drive envs as before the fix (ThreadPoolExecutor per env, preexec_fn bwrap starts)."""
    saved = (bwrap_mod._limits_argv, bwrap_mod.BwrapSandbox._popen_kwargs, bwrap_mod.BwrapSandbox._run_isolated,
             bwrap_mod.subprocess, ClawGymEnv.areset, ClawGymEnv.astep, ClawGymEnv.aclose)
    bwrap_mod._limits_argv = lambda *args: []  # type: ignore[assignment]
    orig_kwargs, orig_isolated = saved[1], saved[2]

    def popen_kwargs(self: Any) -> dict[str, Any]:
        return {**orig_kwargs(self), "preexec_fn": _legacy_preexec(self.config.limits, self.uid, self.cgroup)}

    holder = threading.local()  # the sandbox whose verifier this thread is starting
    fake = _LegacySubprocess(holder)

    def run_isolated(self: Any, *args: Any, **kwargs: Any) -> Any:
        holder.current = (self, kwargs.get("cgroup"))
        try:
            return orig_isolated(self, *args, **kwargs)
        finally:
            holder.current = None

    async def areset(self: ClawGymEnv, *, seed: int | None = None, options: Any = None) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_legacy_pool(self), lambda: self.reset(seed=seed, options=options))

    async def astep(self: ClawGymEnv, action: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(_legacy_pool(self), self.step, action)

    async def aclose(self: ClawGymEnv) -> None:
        await asyncio.get_running_loop().run_in_executor(_legacy_pool(self), self.close)

    bwrap_mod.BwrapSandbox._popen_kwargs = popen_kwargs  # type: ignore[method-assign]
    bwrap_mod.BwrapSandbox._run_isolated = run_isolated  # type: ignore[method-assign]
    bwrap_mod.subprocess = fake  # type: ignore[assignment]
    ClawGymEnv.areset, ClawGymEnv.astep, ClawGymEnv.aclose = areset, astep, aclose  # type: ignore[method-assign]
    try:
        yield
    finally:
        (bwrap_mod._limits_argv, bwrap_mod.BwrapSandbox._popen_kwargs, bwrap_mod.BwrapSandbox._run_isolated,
         bwrap_mod.subprocess, ClawGymEnv.areset, ClawGymEnv.astep, ClawGymEnv.aclose) = saved


def _legacy_pool(env: ClawGymEnv) -> ThreadPoolExecutor:
    pool = getattr(env, "_legacy_executor", None)
    if pool is None:
        pool = env._legacy_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clawgym-env")  # type: ignore[attr-defined]
    return pool


# ---------------------------------------------------------------------- one level
async def _episode(source: BuiltinSource, task_id: str, setup: ThreadPoolExecutor) -> tuple[float, str | None]:
    loop = asyncio.get_running_loop()
    task = await loop.run_in_executor(setup, source.load, task_id)
    env = await loop.run_in_executor(setup, ClawGymEnv, task)
    agent = OracleAgent(task)
    try:
        await env.areset()
        while True:
            _, reward, terminated, truncated, info = await env.astep(agent.next_action())
            if terminated or truncated:
                if reward != 1.0:  # say why (the oracle should solve every built-in task)
                    why = (info.get("verifier") or {}).get("reason") or (info.get("verifier") or {}).get("stdout_tail", "")[-200:]
                    print(f"  {task_id}: reward {reward}: {why}", file=sys.stderr)
                return reward, info.get("infra_error")
    finally:
        await env.aclose()
        legacy = getattr(env, "_legacy_executor", None)
        if legacy is not None:
            legacy.shutdown(wait=False)


async def _level(source: BuiltinSource, ids: list[str], concurrency: int, ext: subprocess.Popen[str]) -> dict[str, Any]:
    idle = LagMonitor()
    idle.start()
    await asyncio.sleep(1.0)
    idle_fig = await idle.stop()

    setup = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bench-setup")
    await asyncio.sleep(0.5)  # let the external monitor start before the episodes do
    sem = asyncio.Semaphore(concurrency)

    async def one(tid: str) -> tuple[float, str | None]:
        async with sem:
            return await _episode(source, tid, setup)

    mon = LagMonitor()
    mon.start()
    start = time.perf_counter()
    results = await asyncio.gather(*(one(t) for t in ids), return_exceptions=True)
    wall = time.perf_counter() - start
    fig = await mon.stop()
    external = json.loads(ext.communicate("")[0])  # blocking is fine now: the measurement is over
    setup.shutdown(wait=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    ok = [r for r in results if not isinstance(r, BaseException)]
    return {
        "episodes": len(ids), "concurrency": concurrency, "wall_s": wall, "episodes_per_s": len(ids) / wall,
        "stall_max_s": fig["max"], "stall_p99_s": fig["p99"], "idle_max_s": idle_fig["max"],
        "idle_p99_s": idle_fig["p99"], "external_max_s": external["max"], "external_p99_s": external["p99"],
        "sandbox_peak_rss_mb": external["sandbox_rss_mb"], "sandbox_peak_procs": external["sandbox_procs"],
        "exceptions": [repr(e) for e in errors[:5]], "n_exceptions": len(errors),
        "infra_errors": sum(1 for _, e in ok if e), "not_solved": sum(1 for r, _ in ok if r != 1.0),
    }


def run_level(source: BuiltinSource, ids: list[str], concurrency: int) -> dict[str, Any]:
    ext = subprocess.Popen([sys.executable, "-c", _EXTERNAL, str(UidLease.FIRST), str(UidLease.COUNT), str(TICK_S)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        return asyncio.run(_level(source, ids, concurrency, ext))
    finally:
        if ext.poll() is None:
            ext.kill()
            ext.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--episodes", type=int, default=None, help="episodes per level (default: = concurrency)")
    ap.add_argument("--no-legacy", action="store_true", help="skip the pre-fix baseline")
    ap.add_argument("--switch-interval", type=float, nargs="+", default=[None],
                    help="also measure the fixed path under these sys.setswitchinterval values (seconds)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    runtime_dir()  # once, before threads race to create it
    source = BuiltinSource()
    all_ids = source.ids()
    rows = []
    for conc in args.concurrency:
        n = args.episodes or conc
        ids = [all_ids[i % len(all_ids)] for i in range(n)]
        modes: list[tuple[str, float | None]] = [] if args.no_legacy else [("legacy", None)]
        modes += [("fixed", si) for si in args.switch_interval]
        default_interval = sys.getswitchinterval()
        for mode, interval in modes:
            ctx = legacy_mode() if mode == "legacy" else contextlib.nullcontext()
            sys.setswitchinterval(interval or default_interval)
            with ctx:
                row = {"mode": mode, "switch_interval_s": sys.getswitchinterval(), **run_level(source, ids, conc)}
            sys.setswitchinterval(default_interval)
            row["driver_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
