"""The agent protocol: messages + tools in, one assistant turn out.

An agent sees exactly what a model would: the OpenAI-format conversation so far (system prompt,
user request, earlier turns, tool results) and the tool schemas. It returns one assistant turn,
which the env takes as its action. Agents are async so hundreds of episodes can share one event
loop; a blocking agent (a local model) runs its work in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from clawgym_env.tasks.model import Task


@dataclass
class AgentTurn:
    """One assistant turn and what it cost."""

    message: dict[str, Any] | str
    """OpenAI-format assistant message: ``{"role": "assistant", "content": ..., "tool_calls": [...]}``;
    or, for token-level policies (the veRL loop), the model's raw text, which the env parses."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token counts as the backend reports them (``prompt_tokens``, ``completion_tokens``)."""
    latency_s: float = 0.0
    model: str | None = None
    raw: Any = None
    """Backend-specific extras (finish reason, token ids, ...), kept in trajectory records."""


@runtime_checkable
class Agent(Protocol):
    name: str

    def begin_episode(self, task: Task) -> None:
        """Called before each episode (the oracle needs the task; model agents usually ignore it)."""
        ...

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn: ...

    def config(self) -> dict[str, Any]:
        """Model and sampling settings, recorded with every trajectory."""
        ...
