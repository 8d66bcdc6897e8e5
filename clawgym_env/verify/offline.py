"""Verifier runs outside an episode: score a given workspace, and the no-op baseline of a suite.

The no-op baseline is the data's sanity check (specs/clawgym-reference.md §B3): every task scored
with no agent action through the real env, compared against the task's ``check.py`` run directly
(in its own sandbox, aggregated the way reward.sh aggregates), so env, payload and reward parsing
are checked against an independent path.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from clawgym_env.sandbox import SandboxError, make_sandbox
from clawgym_env.sandbox.hostdirs import copy_tree_out
from clawgym_env.tasks import Task, TaskSource
from clawgym_env.tasks.files import write_input
from clawgym_env.verify.code import (
    DEFAULT_TIMEOUT_S,
    VERIFIER_CWD,
    VerifierResult,
    install_reward_files,
    run_code_verifier,
)


def _chown_tree(root: Path, uid: int | None) -> None:
    if uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)


def verify_workspace(task: Task, workspace: Path, *, backend: str = "bwrap",
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> VerifierResult:
    """Score a copy of ``workspace`` (never modified) with ``task``'s verifier."""
    if not workspace.is_dir():
        raise FileNotFoundError(f"workspace {workspace} is not a directory")
    sandbox = make_sandbox(backend)
    try:
        copy_tree_out(workspace, sandbox.host_workspace)  # links as links, no setuid/setgid bits
        _chown_tree(sandbox.host_workspace, getattr(sandbox, "uid", None))
        return run_code_verifier(sandbox, task, timeout_s=timeout_s)
    finally:
        sandbox.close()


def aggregate_like_reward_sh(stdout: str) -> float:
    """reward.sh's inline aggregation: mean of a dict's values, a bare number as is, else 0."""
    data = json.loads(stdout.strip())
    if isinstance(data, dict) and data:
        return sum(float(v) for v in data.values()) / len(data)
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    return 0.0


def direct_check_score(task: Task, *, backend: str = "bwrap", timeout_s: float = DEFAULT_TIMEOUT_S) -> float | None:
    """``python3 reward/check.py <ws>`` on the untouched inputs, in its own sandbox; None if it fails."""
    if "check.py" not in task.reward_files:
        return None
    sandbox = make_sandbox(backend)
    try:
        uid = getattr(sandbox, "uid", None)
        for rel, data in task.workspace_files().items():
            dest = sandbox.host_workspace / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            write_input(data, dest)  # big inputs (TaskFile) streamed from the task folder
        _chown_tree(sandbox.host_workspace, uid)
        install_reward_files(task, sandbox.host_workspace, uid)
        ws = sandbox.workspace
        res = sandbox.run_isolated(["python3", f"{ws}/reward/check.py", ws], cwd=VERIFIER_CWD, timeout_s=timeout_s,
                                   env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8"})
        if res.exit_code != 0:
            return None
        try:
            value = aggregate_like_reward_sh(res.stdout)
        except (ValueError, TypeError):
            return None
        return value if math.isfinite(value) else 0.0
    finally:
        sandbox.close()


def _noop_one(task: Task, backend: str, compare_check: bool) -> dict[str, Any]:
    from clawgym_env.env import ClawGymEnv

    row: dict[str, Any] = {"task_id": task.task_id, "reward": None, "crash": None}
    env = ClawGymEnv(task, backend=backend)
    try:
        env.reset(seed=0)
        _, reward, terminated, _, info = env.step({"role": "assistant", "content": ""})
        row["reward"] = reward
        row["reason"] = (info.get("verifier") or {}).get("reason")
        if info.get("infra_error"):
            row["crash"] = f"infra: {info['infra_error']}"
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


@contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[[], None]]:
    """A rich progress bar (transient); yields the function that advances it by one."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True)
    handle = bar.add_task(description, total=total)
    with bar:
        yield lambda: bar.advance(handle)


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
