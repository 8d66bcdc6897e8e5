"""OracleAgent: plays a task's known-good action list through ``env.step``, then says it is done."""

from __future__ import annotations

from typing import Any

from clawgym_env.tasks.model import Task

FINAL_MESSAGE = {"role": "assistant", "content": "Done: the requested files are in place."}


class OracleAgent:
    """Acts from the task's oracle (``Task.oracle``); ends the episode when the oracle runs out."""

    def __init__(self, task: Task):
        if task.oracle is None:
            raise ValueError(f"task {task.task_id} has no oracle (only synthesized tasks carry one)")
        self.task = task
        self._next = 0

    def reset(self) -> None:
        self._next = 0

    def act(self, observation: str, info: dict[str, Any]) -> Any:
        assert self.task.oracle is not None
        if self._next < len(self.task.oracle):
            action = self.task.oracle[self._next]
            self._next += 1
            return action
        return FINAL_MESSAGE

    def run_episode(self, env: Any, seed: int = 0) -> tuple[float, dict[str, Any]]:
        """Reset ``env`` and play until the episode ends; returns (reward, final info)."""
        self.reset()
        obs, info = env.reset(seed=seed)
        while True:
            obs, reward, terminated, truncated, info = env.step(self.act(obs, info))
            if terminated or truncated:
                return reward, info
