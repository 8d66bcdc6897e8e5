"""Agents that need no model: replay a recorded trajectory, or play a fixed script.

``ReplayAgent`` re-runs what a model once said (a trajectory's assistant turns), e.g. to re-score a
recording against a changed verifier or to benchmark the env without a model. ``ScriptedAgent``
plays a list of actions in any form :func:`parse_action` accepts, for tests and benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clawgym_env.agents.base import AgentTurn
from clawgym_env.agents.common import AgentError, count_tool_calls, turn_message
from clawgym_env.tasks.model import Task
from clawgym_env.tools.parsing import parse_action

__all__ = ["ReplayAgent", "ScriptedAgent"]

DEFAULT_FINAL = "Done."


class ReplayAgent:
    """Replays recorded assistant messages, one per turn, from the start of every episode.

    Args:
        messages: the recorded conversation (only ``role == "assistant"`` entries are replayed, so a
            whole ``info["messages"]`` list works), a trajectory record (a dict with ``messages``), or
            one JSONL line of such a record.

    Running out of recorded turns raises :class:`AgentError` (kind ``exhausted``): the recording
    ended before the env did (e.g. it was truncated by a smaller ``max_steps``), which is not a
    model outcome.
    """

    def __init__(self, messages: list[dict[str, Any]] | dict[str, Any] | str, *, name: str = "replay"):
        self.name = name
        self.turns: list[dict[str, Any]] = _assistant_turns(messages)
        self._next = 0

    @classmethod
    def from_jsonl(cls, path: str | Path, index: int = 0, *, task_id: str | None = None,
                   name: str = "replay") -> ReplayAgent:
        """The trajectory at line ``index`` of a JSONL file, or the first one whose ``task_id`` matches."""
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
        if task_id is not None:
            for line in lines:
                record = json.loads(line)
                if record.get("task_id") == task_id:
                    return cls(record, name=name)
            raise KeyError(f"{path}: no trajectory with task_id {task_id!r}")
        return cls(lines[index], name=name)

    def begin_episode(self, task: Task) -> None:
        self._next = 0

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        if self._next >= len(self.turns):
            raise AgentError(f"replay ran out after {len(self.turns)} recorded turns", kind="exhausted",
                             attempts=0)
        recorded = self.turns[self._next]
        self._next += 1
        message, _ = turn_message(parse_action(recorded, id_offset=count_tool_calls(messages)))
        return AgentTurn(message=message, model=self.name, raw={"turn": self._next - 1})

    def config(self) -> dict[str, Any]:
        return {"agent": "replay", "name": self.name, "turns": len(self.turns)}


def _assistant_turns(source: list[dict[str, Any]] | dict[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(source, str):
        source = json.loads(source)
    if isinstance(source, dict):
        if "messages" not in source:
            raise ValueError("a trajectory record needs a 'messages' list")
        source = source["messages"]
    if not isinstance(source, list):
        raise TypeError(f"expected a list of messages, a trajectory dict or a JSONL line; got {type(source).__name__}")
    turns = [m for m in source if isinstance(m, dict) and m.get("role") == "assistant"]
    if not turns:
        raise ValueError("no assistant messages to replay")
    return turns


class ScriptedAgent:
    """Plays ``actions`` in order, then ends the episode with a plain reply (``final``).

    Each action may be anything :func:`parse_action` accepts: an assistant message, a tool-call dict,
    a list of tool calls, or raw model text with ``<tool_call>`` blocks (malformed ones included,
    which is how tests feed a model's mistakes through the real parsing path).
    """

    def __init__(self, actions: list[Any], *, final: str | None = DEFAULT_FINAL, name: str = "scripted"):
        self.name = name
        self.actions = list(actions)
        self.final = final
        self._next = 0

    def begin_episode(self, task: Task) -> None:
        self._next = 0

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        if self._next < len(self.actions):
            action = self.actions[self._next]
        elif self.final is not None:
            action = {"role": "assistant", "content": self.final}
        else:
            raise AgentError(f"script ran out after {len(self.actions)} actions", kind="exhausted", attempts=0)
        self._next += 1
        message, malformed = turn_message(parse_action(action, id_offset=count_tool_calls(messages)))
        return AgentTurn(message=message, model=self.name, raw={"turn": self._next - 1, "malformed_tool_calls": malformed})

    def config(self) -> dict[str, Any]:
        return {"agent": "scripted", "name": self.name, "actions": len(self.actions), "final": self.final}
