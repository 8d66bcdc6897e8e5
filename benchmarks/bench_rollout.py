"""Rollout engine overhead: episodes/s through the engine vs stepping the same envs directly.

    python benchmarks/bench_rollout.py [--episodes 96] [--concurrency 16] [--rounds 3] [--json OUT]

Both sides run the same episodes on built-in tasks with an instant scripted agent (3 trivial
``exec`` calls, then a final message, so the verifier runs) at the same concurrency, each
episode in a fresh ``ClawGymEnv`` (real bwrap sandboxes):

- **direct**: a thread pool of ``concurrency`` threads, each episode ``reset`` / ``step`` x4 /
  ``close`` with no engine (the floor: what the env itself costs);
- **engine**: :class:`clawgym_env.rollout.RolloutEngine` with the same agent, building full
  trajectory records and appending them to a JSONL file (flush + fsync per record).

Rounds alternate direct/engine so machine drift hits both; the figure is the median over rounds,
and the overhead is ``direct episodes/s / engine episodes/s - 1`` (target: at most 20 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from clawgym_env.agents import make_agent
from clawgym_env.env import ClawGymEnv
from clawgym_env.rollout import RolloutEngine
from clawgym_env.synth.builtin import BuiltinSource

EXEC_TRUE = {"name": "exec", "arguments": {"command": "true"}}
ACTIONS = [EXEC_TRUE, EXEC_TRUE, EXEC_TRUE]
FINAL = {"role": "assistant", "content": "Done."}


def direct_episode(source: BuiltinSource, task_id: str, seed: int) -> float:
    env = ClawGymEnv(source.load(task_id))
    try:
        env.reset(seed=seed)
        for action in ACTIONS:
            env.step(action)
        _, reward, terminated, _, info = env.step(FINAL)
        assert terminated and info["infra_error"] is None, info["infra_error"]
        return reward
    finally:
        env.close()


def run_direct(source: BuiltinSource, ids: list[str], concurrency: int) -> float:
    """Episodes/s stepping envs directly on ``concurrency`` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda i: direct_episode(source, ids[i], i), range(len(ids))))
    return len(ids) / (time.perf_counter() - start)


def run_engine(source: BuiltinSource, ids: list[str], concurrency: int, records: Path) -> float:
    """Episodes/s through the rollout engine (records written to ``records``)."""
    records.unlink(missing_ok=True)
    engine = RolloutEngine(source, lambda task: make_agent("scripted", actions=ACTIONS), concurrency=concurrency,
                           records_path=records, keep_records=False)
    start = time.perf_counter()
    stats = asyncio.run(engine.run(ids))
    secs = time.perf_counter() - start
    assert stats.finished == len(ids) and stats.infra_errors == 0, (stats.finished, stats.infra_errors)
    return len(ids) / secs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=96)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="also write the figures as JSON")
    args = p.parse_args(argv)

    source = BuiltinSource()
    ids = [f"task-{i:04d}" for i in range(args.episodes)]
    for task_id in ids:  # synthesize once (cached) so neither side pays task generation
        source.load(task_id)
    tmp = Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    run_direct(source, ids[: args.concurrency], args.concurrency)  # warm-up: imports, first sandboxes
    run_engine(source, ids[: args.concurrency], args.concurrency, tmp / "warmup.jsonl")

    direct: list[float] = []
    engine: list[float] = []
    for r in range(args.rounds):
        direct.append(run_direct(source, ids, args.concurrency))
        engine.append(run_engine(source, ids, args.concurrency, tmp / "records.jsonl"))
        print(f"round {r + 1}: direct {direct[-1]:.2f} episodes/s, engine {engine[-1]:.2f} episodes/s", file=sys.stderr)
    d, e = statistics.median(direct), statistics.median(engine)
    overhead = d / e - 1
    result: dict[str, Any] = {
        "episodes": args.episodes, "concurrency": args.concurrency, "rounds": args.rounds,
        "direct_episodes_per_s": d, "engine_episodes_per_s": e, "overhead": overhead,
        "direct_rounds": direct, "engine_rounds": engine,
        "record_bytes_per_episode": (tmp / "records.jsonl").stat().st_size / args.episodes,
    }
    print(f"episodes: {args.episodes} built-in tasks, 3 exec calls + final message each, concurrency {args.concurrency}")
    print(f"direct (threads, no engine): {d:.2f} episodes/s")
    print(f"rollout engine:              {e:.2f} episodes/s  (records: {result['record_bytes_per_episode'] / 1024:.1f} KiB/episode)")
    print(f"engine overhead:             {100 * overhead:+.1f} %  (target <= 20 %)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
