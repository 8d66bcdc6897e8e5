"""Helpers shared by the operation tests: score files with a task's own shipped checker, and gate
the tasks of an operation's harder variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clawgym_env.synth.compose import Synthesized, synthesize
from clawgym_env.synth.gate import gate_task
from clawgym_env.tasks import Task


def score_with_check_py(task: Task, files: dict[str, str], ws: Path) -> dict[str, bool]:
    """The task's own reward/check.py (its engine and checks, as shipped) on a workspace holding ``files``."""
    ns: dict[str, Any] = {"__name__": "check"}
    exec(compile(task.reward_files["check.py"].decode(), "check.py", "exec"), ns)  # noqa: S102 - the shipped checker
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    return ns["run"](ns["SPEC"], str(ws))


def gated_hard_tasks(force_ops: list[str], *, want: int = 3, scan: int = 80,
                     min_difficulty: int = 4) -> list[Synthesized]:
    """The first ``want`` builtin-v2 tasks of the chain ``force_ops`` at ``min_difficulty`` or more,
    each asserted to pass the quality gate (oracle 1.0, no-op 0, mutations caught)."""
    found: list[Synthesized] = []
    for index in range(scan):
        s = synthesize(index, version="builtin-v2", force_ops=force_ops)
        if s.task.metadata["difficulty"] < min_difficulty:
            continue
        report = gate_task(s.task)
        assert report.passed, report.to_dict()
        found.append(s)
        if len(found) == want:
            return found
    raise AssertionError(f"only {len(found)} of {want} {force_ops} tasks at difficulty >= {min_difficulty} "
                         f"in the first {scan}")
