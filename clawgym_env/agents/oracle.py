"""OracleAgent: plays a task's known-good action list, then says it is done."""

from __future__ import annotations

from typing import Any

from clawgym_env.agents.base import AgentTurn
from clawgym_env.tasks.model import Task
from clawgym_env.tools.parsing import parse_action

FINAL_MESSAGE = {"role": "assistant", "content": "Done: the requested files are in place."}


class OracleAgent:
    """Acts from the task's oracle (``Task.oracle``); ends the episode when the oracle runs out."""

    name = "oracle"

    def __init__(self, task: Task | None = None):
        self.task: Task | None = None
        self._next = 0
        if task is not None:
            self.begin_episode(task)

    def begin_episode(self, task: Task) -> None:
        if task.oracle is None:
            raise ValueError(f"task {task.task_id} has no oracle (only synthesized tasks carry one)")
        self.task = task
        self._next = 0

    def next_action(self) -> Any:
        if self.task is None:
            raise RuntimeError("begin_episode(task) first")
        assert self.task.oracle is not None
        if self._next < len(self.task.oracle):
            self._next += 1
            return self.task.oracle[self._next - 1]
        return FINAL_MESSAGE

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        return AgentTurn(message=parse_action(self.next_action()).assistant_message, model="oracle")

    def config(self) -> dict[str, Any]:
        return {"agent": "oracle"}

    def run_episode(self, env: Any, seed: int = 0) -> tuple[float, dict[str, Any]]:
        """Reset ``env`` and play until the episode ends (synchronously); returns (reward, final info)."""
        task = getattr(env.unwrapped, "task", None) or self.task
        self.begin_episode(task)
        env.reset(seed=seed)
        while True:
            _, reward, terminated, truncated, info = env.step(self.next_action())
            if terminated or truncated:
                return reward, info
