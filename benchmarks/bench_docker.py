"""Docker backend: reset cost of a warm container / the warm pool vs ``docker run`` per task (the
ClawGym authors' design), and one exec step vs a raw ``docker exec``. Same run, same image.

    python benchmarks/bench_docker.py [--n 20] [--image clawgym/sandbox:bookworm] [--json out.json]
    python benchmarks/bench_docker.py --stress 32 --episodes 200 [--suite ../shared/datasets/clawgym-train]
    python benchmarks/bench_docker.py --noop-compare 2000 [--jobs 4] [--suite ...]   # docker vs bwrap on the built rootfs

"reset" = everything between two tasks' first commands: clean or start a sandbox and restore a
small workspace (20 files). Rows:
  cold_docker_run   a new container per task (create + start + server ready), then remove it
  warm_reset        the same container: kill every process, wipe scratch, restore files
  pool_handout      a new sandbox per task from a warm pool (ping + adopt), pool refilling behind
  raw_docker_run    ``docker run --rm IMAGE true`` (the engine's floor for a new container)
  exec_step         ``sandbox.exec("true")`` over the JSON-line server
  raw_docker_exec   ``docker exec NAME true``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clawgym_env.sandbox.client import clear_directory
from clawgym_env.sandbox.docker import DockerSandbox, default_image, docker_cli
from clawgym_env.sandbox.pool import DockerPool

FILES = {f"input/file_{i:02d}.txt": (f"line {i}\n" * 50).encode() for i in range(20)}


def restore(sb: DockerSandbox) -> None:
    root = sb.host_workspace
    clear_directory(root)
    for rel, data in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def episode(sb: DockerSandbox) -> None:
    """What an agent leaves behind: a process, scratch files, workspace files."""
    sb.exec("sleep 300 & echo x > /tmp/scratch; echo y > out.txt", timeout_s=10)


def med(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clawgym-train"


def noop_episode(env) -> tuple[float, object, object, object]:  # type: ignore[no-untyped-def]
    env.reset(seed=0)
    _, reward, _term, _, info = env.step({"role": "assistant", "content": "done"})
    v = info.get("verifier") or {}
    return reward, v.get("subscores"), v.get("reason"), info.get("infra_error")


def stress(suite: Path, concurrency: int, episodes: int) -> dict[str, object]:
    """``concurrency`` docker envs in threads run ``episodes`` episodes in all (one exec step + the
    verifier each), cycling over the suite's tasks; every error is counted."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from clawgym_env.env import ClawGymEnv
    from clawgym_env.tasks import open_source

    source = open_source(str(suite))
    ids = source.ids()[:concurrency]
    counter = iter(range(episodes))
    lock = threading.Lock()
    errors: list[str] = []
    times: list[float] = []

    def worker(i: int) -> None:
        env = ClawGymEnv(source.load(ids[i % len(ids)]), backend="docker")
        try:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                t = time.perf_counter()
                try:
                    env.reset(seed=0)
                    env.step({"name": "exec", "arguments": {"command": "ls -R | head; echo hi > note.txt"}})
                    _, _, term, _, info = env.step({"role": "assistant", "content": "done"})
                    if not term or info.get("infra_error"):
                        errors.append(str(info.get("infra_error")))
                except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                    errors.append(repr(exc))
                times.append(time.perf_counter() - t)
        finally:
            env.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as ex:
        list(ex.map(worker, range(concurrency)))
    wall = time.perf_counter() - t0
    return {"concurrency": concurrency, "episodes": len(times), "errors": len(errors), "error_samples": errors[:5],
            "wall_s": round(wall, 1), "episodes_per_s": round(len(times) / wall, 2),
            "episode_median_s": round(statistics.median(times), 3)}


def noop_compare(suite: Path, n: int, jobs: int = 4) -> dict[str, object]:
    """No-op score of ``n`` tasks (spread over the suite) on docker and on bwrap over the built
    rootfs (the same Debian packages as the image): rewards, sub-scores and reasons must match.
    ``jobs`` tasks run at once (each runs its two backends one after the other)."""
    from concurrent.futures import ThreadPoolExecutor

    from clawgym_env.env import ClawGymEnv
    from clawgym_env.progress import progress_bar
    from clawgym_env.sandbox import SandboxConfig
    from clawgym_env.tasks import open_source

    source = open_source(str(suite))
    all_ids = source.ids()
    ids = all_ids if n >= len(all_ids) else [all_ids[i * len(all_ids) // n] for i in range(n)]

    def one(tid: str) -> dict[str, object] | None:
        task = source.load(tid)
        got = {}
        for backend, cfg in (("docker", None), ("bwrap", SandboxConfig(root="default"))):
            env = ClawGymEnv(task, backend=backend, sandbox_config=cfg, prestart_next=False)
            try:
                got[backend] = noop_episode(env)
            finally:
                env.close()
        return None if got["docker"] == got["bwrap"] else {"task": tid, **{k: repr(v) for k, v in got.items()}}

    t0 = time.perf_counter()
    results = []
    with progress_bar("no-op docker vs bwrap", len(ids)) as advance, ThreadPoolExecutor(jobs) as ex:
        for r in ex.map(one, ids):
            results.append(r)
            advance()
    mismatches = [r for r in results if r is not None]
    return {"tasks": len(ids), "mismatches": len(mismatches), "mismatch_samples": mismatches[:5],
            "jobs": jobs, "wall_s": round(time.perf_counter() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--image", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--stress", type=int, default=0, help="concurrent docker envs (with --episodes)")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--noop-compare", type=int, default=0, help="compare no-op scores of N tasks, docker vs bwrap")
    ap.add_argument("--jobs", type=int, default=4, help="tasks at once for --noop-compare")
    ap.add_argument("--suite", default=str(DEFAULT_SUITE))
    args = ap.parse_args()
    if args.image:
        os.environ["CLAWGYM_DOCKER_IMAGE"] = args.image
    if args.stress or args.noop_compare:
        out = stress(Path(args.suite), args.stress, args.episodes) if args.stress else \
            noop_compare(Path(args.suite), args.noop_compare, args.jobs)
        print(json.dumps(out, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2))
        return 0 if not (out.get("errors") or out.get("mismatches")) else 1
    image = default_image()
    n = args.n
    rows: dict[str, list[float]] = {k: [] for k in ("cold_docker_run", "warm_reset", "pool_handout", "raw_docker_run",
                                                    "exec_step", "raw_docker_exec")}

    for _ in range(n):  # cold: a container per task
        t = time.perf_counter()
        sb = DockerSandbox(recycle=False)
        sb.start()
        restore(sb)
        rows["cold_docker_run"].append(time.perf_counter() - t)
        episode(sb)
        sb.close()

    sb = DockerSandbox()
    sb.start()
    for _ in range(n):  # warm: the same container, reset between tasks
        episode(sb)
        t = time.perf_counter()
        sb.stop()
        restore(sb)
        sb.launch()
        rows["warm_reset"].append(time.perf_counter() - t)
    for _ in range(n * 5):
        t = time.perf_counter()
        sb.exec("true", timeout_s=10)
        rows["exec_step"].append(time.perf_counter() - t)
    cli = docker_cli()
    for _ in range(n * 5):
        t = time.perf_counter()
        subprocess.run([cli, "exec", sb.container_name or "", "true"], check=True, capture_output=True)
        rows["raw_docker_exec"].append(time.perf_counter() - t)
    sb.close()

    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([cli, "run", "--rm", "--network", "none", image, "true"], check=True, capture_output=True)
        rows["raw_docker_run"].append(time.perf_counter() - t)

    with DockerPool(size=4, max_starts_per_s=8) as pool:
        pool.wait_filled(120)
        for _ in range(n):  # a new sandbox per task, drawn from the pool; close() in the background
            pool.wait_filled(120)  # steady state: the pool keeps up with the task rate
            t = time.perf_counter()
            sb = DockerSandbox(pool=pool)
            restore(sb)
            sb.launch()
            rows["pool_handout"].append(time.perf_counter() - t)
            episode(sb)
            sb.close()
        stats = dict(pool.stats)

    cold = med(rows["cold_docker_run"])
    result = {
        "image": image, "n": n, "median_ms": {k: round(med(v), 2) for k, v in rows.items()},
        "warm_reset_over_cold": round(med(rows["warm_reset"]) / cold, 4),
        "pool_handout_over_cold": round(med(rows["pool_handout"]) / cold, 4),
        "exec_step_over_raw_docker_exec": round(med(rows["exec_step"]) / med(rows["raw_docker_exec"]), 4),
        "pool_stats": stats,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
