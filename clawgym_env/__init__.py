"""ClawGym: Claw-style personal-agent tasks as Gymnasium environments in real sandboxes.

    import gymnasium as gym, clawgym_env
    ids = clawgym_env.register_suite("../shared/datasets/clawgym-train")
    env = gym.make(ids[0])

Importing this package is light: gymnasium and pydantic only, no torch, veRL, Ray or docker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgym_env.registration import register_builtin, register_suite
from clawgym_env.tasks import FolderSource, Task, TaskFormatError, load_task, open_source, write_task

if TYPE_CHECKING:
    from clawgym_env.env import ClawGymEnv

__version__ = "0.1.0"
__all__ = [
    "BUILTIN_IDS", "ClawGymEnv", "FolderSource", "Task", "TaskFormatError", "load_task", "open_source", "register_suite",
    "write_task",
]


BUILTIN_IDS = register_builtin()
"""``ClawGym/task-0000`` ... ``ClawGym/task-13499``: the built-in suite, registered at import."""


def __getattr__(name: str) -> Any:
    """ClawGymEnv is imported on first use, so ``import clawgym_env`` stays quick."""
    if name == "ClawGymEnv":
        from clawgym_env.env import ClawGymEnv

        return ClawGymEnv
    raise AttributeError(f"module 'clawgym_env' has no attribute {name!r}")
