"""The no-op baseline of a suite: the data's sanity check (specs/clawgym-reference.md §B3).

Every task is scored with no agent action through the real env (``reset`` then ``finish``: the
untouched workspace), and compared against the task's ``check.py`` run directly (in its own sandbox,
aggregated the way reward.sh aggregates), so env, payload and reward parsing are checked against an
independent path.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import SandboxError
from clawgym_env.tasks import Task, TaskSource
from clawgym_env.progress import progress_bar
from clawgym_env.verify.offline import direct_check_score


def _noop_one(task: Task, backend: str, compare_check: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"task_id": task.task_id, "reward": None, "crash": None}
    env = ClawGymEnv(task, backend=backend)
    try:
        env.reset(seed=0)
        result = env.finish("noop")
        row["reward"] = result.reward
        row["reason"] = (result.info.get("verifier") or {}).get("reason")
        if result.infra_error is not None:
            row["crash"] = f"infra: {result.infra_error}"
        elif row["reason"]:
            row["crash"] = f"verifier: {row['reason']}"
    except (SandboxError, OSError, RuntimeError) as exc:
        row["crash"] = f"{type(exc).__name__}: {exc}"
    finally:
        env.close()
    if compare_check and row["crash"] is None:
        direct = direct_check_score(task, backend=backend)
        row["direct"] = direct
        row["mismatch"] = direct is None or abs(direct - float(row["reward"])) > 1e-9
    return row


def noop_scores(source: TaskSource, ids: list[str], *, jobs: int = 4, backend: str = "bwrap",
                compare_check: bool = True, progress: bool = True) -> dict[str, Any]:
    """Score ``ids`` with no agent actions; returns per-task rows and a summary."""
    start = time.monotonic()
    rows: list[dict[str, Any]] = []
    with progress_bar("no-op scoring", len(ids), enabled=progress) as advance, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(lambda t=tid: _noop_one(source.load(t), backend, compare_check)): tid for tid in ids}
        for fut in as_completed(futures):
            try:
                rows.append(fut.result())
            except Exception as exc:  # a broken task folder is a crash of that task, not of the run
                rows.append({"task_id": futures[fut], "reward": None, "crash": f"{type(exc).__name__}: {exc}"})
            advance()
    rows.sort(key=lambda r: r["task_id"])
    rewards = [float(r["reward"]) for r in rows if r["reward"] is not None]
    summary = {
        "tasks": len(rows),
        "crashes": sum(1 for r in rows if r.get("crash")),
        "mismatches": sum(1 for r in rows if r.get("mismatch")),
        "mean": statistics.fmean(rewards) if rewards else 0.0,
        "max": max(rewards) if rewards else 0.0,
        "nonzero": sum(1 for r in rewards if r > 0),
        "seconds": time.monotonic() - start,
    }
    return {"summary": summary, "rows": rows}


__all__ = ["noop_scores"]
