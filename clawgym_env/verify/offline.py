"""Verifier runs outside an episode: score a given workspace, and run a task's ``check.py`` directly
(the independent path the no-op baseline, ``clawgym_env.bench.noop``, compares the env against)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from clawgym_env.progress import progress_bar  # also importable from here, its old home
from clawgym_env.sandbox import SandboxError, make_sandbox
from clawgym_env.sandbox.hostws import chown_tree as _chown_tree  # noqa: F401 - tests import it from here
from clawgym_env.tasks import Task
from clawgym_env.verify.code import (
    DEFAULT_TIMEOUT_S,
    VERIFIER_CWD,
    VerifierResult,
    install_reward_files,  # noqa: F401 - still importable from here
    reward_modes,
    run_code_verifier,
)


def verify_workspace(task: Task, workspace: Path, *, backend: str = "bwrap",
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> VerifierResult:
    """Score a copy of ``workspace`` (never modified) with ``task``'s verifier."""
    if not workspace.is_dir():
        raise FileNotFoundError(f"workspace {workspace} is not a directory")
    sandbox = make_sandbox(backend)
    try:
        sandbox.restore_tree(workspace)  # links as links, no setuid/setgid bits
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
        # big inputs (TaskFile) streamed from the task folder
        sandbox.restore(task.workspace_entries())
        sandbox.install_verifier(task.reward_files, reward_modes(task))
        ws = sandbox.workspace
        try:
            res = sandbox.run_verifier(["python3", f"{ws}/reward/check.py", ws], cwd=VERIFIER_CWD, timeout_s=timeout_s,
                                       env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8"})
        except SandboxError:
            return None
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
