"""Verifier runs outside an episode: score a given workspace, and run a task's ``check.py`` directly
(the independent path the no-op baseline, ``clawgym_env.bench.noop``, compares the env against)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from clawgym_env.progress import progress_bar  # also importable from here, its old home
from clawgym_env.sandbox import make_sandbox
from clawgym_env.sandbox.hostdirs import copy_tree_out
from clawgym_env.tasks import Task
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




__all__ = ["aggregate_like_reward_sh", "direct_check_score", "progress_bar", "verify_workspace"]
