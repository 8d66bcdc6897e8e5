"""One chat completion for a pipeline stage, through :class:`OpenAIChatAgent`.

The agent already does what a synthesis run needs from a client (retries with backoff on 429/5xx
honouring Retry-After, timeouts, token usage from the API), so stages call it with no tools instead
of keeping a second HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clawgym_env.agents.openai_agent import OpenAIChatAgent


@dataclass(frozen=True)
class ModelSpec:
    """Where a stage's model is served and how it samples."""

    base_url: str
    model: str
    api_key: str | None = None
    temperature: float = 0.7
    max_tokens: int | None = 8192
    max_retries: int = 5
    timeout_s: float = 600.0
    backoff_base_s: float = 1.0


@dataclass
class Completion:
    text: str
    usage: dict[str, int] = field(default_factory=dict)
    attempts: int = 1
    model: str | None = None


class StageClient:
    """Text in, text out; one instance serves every concurrent request of a stage's event loop."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self._agent = OpenAIChatAgent(spec.base_url, spec.model, spec.api_key, temperature=spec.temperature,
                                      max_tokens=spec.max_tokens, max_retries=spec.max_retries,
                                      timeout_s=spec.timeout_s, backoff_base_s=spec.backoff_base_s,
                                      text_tool_calls=False, name="synth-llm")

    async def complete(self, messages: list[dict[str, Any]]) -> Completion:
        """Raises :class:`clawgym_env.agents.common.AgentError` once retries run out."""
        turn = await self._agent.act(messages, [])
        message = turn.message if isinstance(turn.message, dict) else {"content": turn.message}
        raw = turn.raw if isinstance(turn.raw, dict) else {}
        return Completion(text=message.get("content") or "", usage=dict(turn.usage),
                          attempts=int(raw.get("attempts") or 1), model=turn.model)

    async def aclose(self) -> None:
        await self._agent.aclose()


__all__ = ["Completion", "ModelSpec", "StageClient"]
