"""Core env latency and throughput, each figure beside a raw baseline measured in the same run.

    python benchmarks/bench_core.py [--task DIR] [--reps N] [--concurrency 1,8,32] [--json OUT] [--episode-only]

Figures: a whole no-op episode (reset + the final step, which runs the verifier), reset latency
(warm: after a finished episode; cold: mid-episode, including the first step's wait for the
sandbox), trivial exec step latency, verifier latency, and exec steps/s at several concurrencies.
Baselines: reward.sh alone in an already-started sandbox (what an episode cannot go below), a fresh
bwrap sandbox per episode that copies the task and runs reward.sh once, ``bwrap … true`` (the same
bwrap command line the sandbox uses), ``bash -c true``, copying the task folder, and running
reward.sh directly on a host copy. The episode and its two baselines are measured interleaved, one
of each per round, so a busy machine weighs on all three alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TASK = REPO.parent / "shared" / "datasets" / "clawgym-train" / "task_0009"
EXEC_TRUE = {"name": "exec", "arguments": {"command": "true"}}
FINAL = {"role": "assistant", "content": "Done."}


def median_ms(fn: Callable[[], Any], reps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def raw_bwrap_true_argv(sandbox: Any) -> list[str]:
    """The sandbox's own bwrap command line (its rlimits and uid drop included), running ``true``
    instead of the server."""
    from clawgym_env.sandbox.bwrap import _limits_argv

    return [*_limits_argv(sandbox.config.limits, sandbox.uid), *sandbox._bwrap_argv(), "--", "true"]


def run_raw(argv: list[str], sandbox: Any) -> None:
    subprocess.run(argv, check=True, **sandbox._popen_kwargs())


def host_reward_sh(task_dir: Path) -> Callable[[], None]:
    """The authors' chroot-style baseline: reward.sh on a host copy (paths rewritten)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-reward-"))
    shutil.copytree(task_dir / "input_files", tmp, dirs_exist_ok=True)
    shutil.copytree(task_dir / "reward", tmp / "reward")
    sh = (tmp / "reward" / "reward.sh").read_text().replace("/root/.openclaw/workspace", str(tmp))
    (tmp / "reward" / "reward.sh").write_text(sh)

    def run() -> None:
        subprocess.run(["bash", str(tmp / "reward" / "reward.sh")], cwd=tmp, capture_output=True, check=False)

    return run


def reward_sh_in_started_sandbox(task_dir: Path) -> tuple[Any, Callable[[], None], Callable[[], None]]:
    """An already-started bwrap sandbox holding the task and its reward/: each call runs reward.sh
    there (cwd /, as the verifier), through the sandbox's server. Nothing else of an episode. The
    second callable runs it with the verifier's environment: its import guard and the python3 shim
    that tees check.py's stdout (issue 11's protections, part of every verifier run)."""
    from clawgym_env.sandbox import make_sandbox
    from clawgym_env.sandbox.hostws import chown_tree

    sb = make_sandbox("bwrap")
    shutil.copytree(task_dir / "input_files", sb.host_workspace, dirs_exist_ok=True, symlinks=True)
    shutil.copytree(task_dir / "reward", sb.host_workspace / "reward")
    chown_tree(sb.host_workspace, sb.uid)
    sb.start()
    ws = "/root/.openclaw/workspace"
    cmd = f"cd / && bash {ws}/reward/reward.sh"
    guarded = {"PATH": "/run/clawgym/vbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "PYTHONPATH": "/run/clawgym/vguard", "CLAWGYM_VERIFIER_WORKSPACE": ws, "CLAWGYM_CHECK_STDOUT": "/tmp/cs"}

    def run() -> None:
        sb.exec(cmd, timeout_s=120)

    def run_guarded() -> None:
        sb.exec(cmd, timeout_s=120, env=guarded)

    return sb, run, run_guarded


def fresh_sandbox_episode(task_dir: Path) -> tuple[Any, Callable[[], None]]:
    """A fresh sandbox per episode, the simple design: empty the workspace, copy the task's inputs
    and reward/ in, run reward.sh once in a new bwrap (the sandbox's own command line, its rlimits
    and uid drop included, cwd /)."""
    from clawgym_env.sandbox import make_sandbox
    from clawgym_env.sandbox.bwrap import _limits_argv
    from clawgym_env.sandbox.hostws import chown_tree

    sb = make_sandbox("bwrap")  # only for its workspace folder, uid and command line
    ws = sb.host_workspace
    argv = sb._bwrap_argv()
    argv[argv.index("--chdir") + 1] = "/"
    argv = [*_limits_argv(sb.config.limits, sb.uid), *argv, "--", "bash", "/root/.openclaw/workspace/reward/reward.sh"]

    def run() -> None:
        for entry in list(ws.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(task_dir / "input_files", ws, dirs_exist_ok=True, symlinks=True)
        shutil.copytree(task_dir / "reward", ws / "reward")
        chown_tree(ws, sb.uid)
        subprocess.run(argv, capture_output=True, check=False, **sb._popen_kwargs())

    return sb, run


def episode_figures(task: Any, task_dir: Path, reps: int, settle_s: float = 0.1) -> dict[str, float]:
    """Whole no-op episode (reset + final step) beside its baselines, one of each per round, in a
    shuffled order, ``settle_s`` apart (what one leaves running in the background, the next
    episode's sandbox starting, would otherwise be charged to whichever runs next). Then the same
    episodes back to back, which charges the episode with everything it starts."""
    import random

    from clawgym_env.env import ClawGymEnv

    env = ClawGymEnv(task, max_steps=10_000)
    warm_box, warm, warm_guarded = reward_sh_in_started_sandbox(task_dir)
    fresh_box, fresh = fresh_sandbox_episode(task_dir)

    def episode() -> None:
        env.reset()
        _, _, _, _, info = env.step(FINAL)
        if info.get("infra_error"):
            raise RuntimeError(info["infra_error"])

    runs = [("episode", episode), ("warm", warm), ("guarded", warm_guarded), ("fresh", fresh)]
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    rng = random.Random(0)
    try:
        for i in range(reps + 3):
            rng.shuffle(runs)
            for name, fn in runs:
                time.sleep(settle_s)
                t = time.perf_counter()
                fn()
                if i >= 3:  # warm-up rounds: the first episode has no ready verifier yet
                    times[name].append(time.perf_counter() - t)
        loop_n = max(10, reps)
        t = time.perf_counter()
        for _ in range(loop_n):
            episode()
        loop_s = (time.perf_counter() - t) / loop_n
    finally:
        env.close()
        warm_box.close()
        fresh_box.close()
    keys = {"episode": "noop_episode", "warm": "baseline_reward_sh_started_sandbox",
            "guarded": "baseline_reward_sh_guarded_started_sandbox", "fresh": "baseline_fresh_sandbox_episode"}
    fig = {"noop_episode_back_to_back_ms": loop_s * 1000}
    for name, key in keys.items():
        fig[f"{key}_ms"] = statistics.median(times[name]) * 1000
        fig[f"{key}_min_ms"] = min(times[name]) * 1000  # the least disturbed round: robust on a busy host
        if name != "episode":  # paired: the episode over its baseline of the same round, whose load it shared
            fig[f"{key}_round_ratio"] = statistics.median(e / b for e, b in zip(times["episode"], times[name]))
    return fig


EPISODE_BASELINES = (
    ("reward.sh, started sandbox", "baseline_reward_sh_started_sandbox"),
    ("same, verifier env (guard)", "baseline_reward_sh_guarded_started_sandbox"),
    ("fresh sandbox + reward.sh", "baseline_fresh_sandbox_episode"),
)


def print_episode_rows(fig: dict[str, Any]) -> None:
    """The no-op episode against each baseline: medians, the fastest round of each, the mean episode
    of a back-to-back loop against the baselines' medians, then the median over rounds of the
    episode's time over the baseline's in the same round (paired, so the least moved by a busy host)."""
    for stat, suffix, ep_key in (("median", "_ms", "noop_episode_ms"), ("min", "_min_ms", "noop_episode_min_ms"),
                                 ("back to back", "_ms", "noop_episode_back_to_back_ms")):
        ep = fig[ep_key]
        for base_name, key in EPISODE_BASELINES:
            base = fig[f"{key}{suffix}"]
            print(f"{'no-op episode (reset + final), ' + stat:42s} {ep:9.2f}   {base_name:26s} {base:9.2f} "
                  f"{ep / base:7.2f}x")
    for base_name, key in EPISODE_BASELINES:
        print(f"{'no-op episode over baseline, same round':42s} {'':9s}   {base_name:26s} {'':9s} "
              f"{fig[f'{key}_round_ratio']:7.2f}x  (median of the rounds' ratios)")


def throughput(envs: list[Any], seconds: float) -> tuple[float, int]:
    """Trivial exec steps per second across ``envs`` stepped by one thread each."""
    stop = time.monotonic() + seconds
    counts = [0] * len(envs)
    errors = [0] * len(envs)

    def worker(i: int) -> None:
        env = envs[i]
        while time.monotonic() < stop:
            _, _, term, trunc, info = env.step(EXEC_TRUE)
            if info.get("infra_error") or term:
                errors[i] += 1
            if term or trunc:
                env.reset()
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(envs))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(errors)


def raw_throughput(sandboxes: list[Any], seconds: float) -> float:
    """``bwrap … true`` per second, one thread per sandbox (each its own uid, as envs have)."""
    stop = time.monotonic() + seconds
    counts = [0] * len(sandboxes)

    def worker(i: int) -> None:
        argv = raw_bwrap_true_argv(sandboxes[i])
        while time.monotonic() < stop:
            run_raw(argv, sandboxes[i])
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(sandboxes))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", type=Path, default=DEFAULT_TASK)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    ap.add_argument("--episode-only", action="store_true",
                    help="only the whole no-op episode beside its two baselines")
    args = ap.parse_args()

    from clawgym_env.env import ClawGymEnv
    from clawgym_env.sandbox import make_sandbox
    from clawgym_env.tasks import load_task

    task = load_task(args.task)
    episode = episode_figures(task, args.task, args.reps)
    if args.episode_only:
        print(f"task {task.task_id}, {os.cpu_count()} cpus, medians over {args.reps} rounds")
        print_episode_rows(episode)
        if args.json:
            args.json.write_text(json.dumps(episode, indent=2))
        return 0
    env = ClawGymEnv(task, max_steps=10_000)
    env.reset()
    env.step(EXEC_TRUE)
    sandbox = make_sandbox("bwrap")  # a sandbox of the same config, only for its bwrap command line
    raw_argv = raw_bwrap_true_argv(sandbox)
    fig: dict[str, Any] = {"task": task.task_id, "cpus": os.cpu_count(), "python": sys.version.split()[0], **episode}

    fig["baseline_bwrap_true_ms"] = median_ms(lambda: run_raw(raw_argv, sandbox), args.reps)
    fig["baseline_bash_true_ms"] = median_ms(lambda: subprocess.run(["bash", "-c", "true"], check=True), args.reps)
    copy_dst = Path(tempfile.mkdtemp(prefix="bench-copy-"))

    def copy_task() -> None:
        shutil.rmtree(copy_dst / "t", ignore_errors=True)
        shutil.copytree(args.task, copy_dst / "t")

    fig["baseline_copy_task_ms"] = median_ms(copy_task, args.reps)
    fig["baseline_reward_sh_host_ms"] = median_ms(host_reward_sh(args.task), max(5, args.reps // 5), warmup=1)

    fig["exec_step_ms"] = median_ms(lambda: env.step(EXEC_TRUE), args.reps)

    # warm reset: after a finished episode (the steady state of RL / eval loops)
    warm, verify = [], []
    for _ in range(max(5, args.reps // 3)):
        t = time.perf_counter()
        env.step(FINAL)
        verify.append(time.perf_counter() - t)
        t = time.perf_counter()
        env.reset()
        warm.append(time.perf_counter() - t)
        env.step(EXEC_TRUE)
    fig["reset_warm_ms"] = statistics.median(warm) * 1000
    fig["verifier_step_ms"] = statistics.median(verify) * 1000

    # cold reset: mid-episode, the sandbox is restarted; include the first step's wait for it
    cold, cold_first = [], []
    for _ in range(max(5, args.reps // 3)):
        env.step(EXEC_TRUE)
        t = time.perf_counter()
        env.reset()
        cold.append(time.perf_counter() - t)
        env.step(EXEC_TRUE)
        cold_first.append(time.perf_counter() - t)
    fig["reset_cold_ms"] = statistics.median(cold) * 1000
    fig["reset_cold_plus_first_step_ms"] = statistics.median(cold_first) * 1000
    env.close()

    for n in [int(x) for x in args.concurrency.split(",")]:
        envs = [ClawGymEnv(task, max_steps=10_000) for _ in range(n)]
        try:
            for e in envs:
                e.reset()
            sps, errors = throughput(envs, args.seconds)
        finally:
            for e in envs:
                e.close()
        fig[f"exec_steps_per_s_x{n}"] = sps
        fig[f"errors_x{n}"] = errors
        boxes = [make_sandbox("bwrap") for _ in range(n)]
        try:
            fig[f"baseline_bwrap_true_per_s_x{n}"] = raw_throughput(boxes, args.seconds)
        finally:
            for b in boxes:
                b.close()

    rows = [
        ("reset, warm (after a finished episode)", fig["reset_warm_ms"], "copy task folder", fig["baseline_copy_task_ms"]),
        ("reset, cold (mid-episode)", fig["reset_cold_ms"], "bwrap … true", fig["baseline_bwrap_true_ms"]),
        ("reset, cold + first step", fig["reset_cold_plus_first_step_ms"], "bwrap … true", fig["baseline_bwrap_true_ms"]),
        ("trivial exec step", fig["exec_step_ms"], "bwrap … true", fig["baseline_bwrap_true_ms"]),
        ("trivial exec step", fig["exec_step_ms"], "bash -c true", fig["baseline_bash_true_ms"]),
        ("final step incl. verifier", fig["verifier_step_ms"], "reward.sh on host", fig["baseline_reward_sh_host_ms"]),
    ]
    print(f"task {task.task_id}, {fig['cpus']} cpus, medians over {args.reps} reps")
    print(f"{'figure':42s} {'ms':>9s}   {'baseline':22s} {'ms':>9s} {'ratio':>7s}")
    print_episode_rows(fig)
    for name, value, base_name, base in rows:
        print(f"{name:42s} {value:9.2f}   {base_name:22s} {base:9.2f} {value / base:7.2f}x")
    for n in [int(x) for x in args.concurrency.split(",")]:
        sps, base = fig[f"exec_steps_per_s_x{n}"], fig[f"baseline_bwrap_true_per_s_x{n}"]
        print(f"{'exec steps/s, ' + str(n) + ' envs':42s} {sps:9.1f}   {'bwrap … true /s':22s} {base:9.1f} "
              f"{sps / base:7.2f}x  errors={fig[f'errors_x{n}']}")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
