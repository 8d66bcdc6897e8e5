"""A trajectory record as training messages: the one place that decides what a trainer sees.

Every SFT format (veRL parquet, HF JSONL/datasets, OpenRLHF, token ids) is written from
:func:`sft_messages`, so they all train on the same conversation: OpenAI-format messages with only
the keys chat templates read, and tool-call arguments always a JSON string (veRL issue #4112: dict
arguments with list values break after a parquet round trip; Qwen templates accept strings).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from clawgym_env.rollout.records import TrajectoryRecord
from clawgym_env.tools.parsing import content_text


def arguments_string(arguments: Any) -> str:
    """Tool-call arguments as a JSON string: strings are kept verbatim (even malformed ones, which
    is what the model wrote), anything else is serialised."""
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return "{}"
    return json.dumps(arguments, ensure_ascii=False)


def clean_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """``{"id", "type": "function", "function": {"name", "arguments": str}}`` from an OpenAI tool
    call (also accepts the flat ``{"name", "arguments"}`` shape)."""
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    return {"id": str(call.get("id") or ""), "type": "function",
            "function": {"name": str(fn.get("name") or ""), "arguments": arguments_string(fn.get("arguments"))}}


def clean_message(msg: dict[str, Any]) -> dict[str, Any]:
    """One message with only role, content (str), tool_calls, tool_call_id / name (tool messages)
    and reasoning_content (assistant messages). No key is ever None."""
    role = str(msg.get("role") or "")
    out: dict[str, Any] = {"role": role, "content": content_text(msg.get("content"))}
    if role == "assistant":
        calls = [clean_tool_call(c) for c in msg.get("tool_calls") or [] if isinstance(c, dict)]
        if calls:
            out["tool_calls"] = calls
        reasoning = msg.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            out["reasoning_content"] = reasoning
    elif role == "tool":
        if msg.get("tool_call_id") is not None:
            out["tool_call_id"] = str(msg["tool_call_id"])
        if msg.get("name") is not None:
            out["name"] = str(msg["name"])
    return out


def sft_messages(record: TrajectoryRecord) -> list[dict[str, Any]]:
    """The record's conversation cleaned for training (see :func:`clean_message`)."""
    return [clean_message(m) for m in record.messages if isinstance(m, dict)]


def conversation_hash(messages: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of a message list: equal hashes, equal training text."""
    canonical = json.dumps(messages, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reward_known(record: TrajectoryRecord) -> bool:
    """Whether the record's reward is a measured outcome: the verifier ran (``scored``). Imports
    without a reward are stored with ``scored=False`` (docs/sft.md)."""
    return record.scored


class SFTExample(BaseModel):
    """One training conversation with the metadata every exported row carries."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    episode_id: str
    task_id: str
    source: str
    category: str = ""
    reward: float | None = None
    """The record's reward; None when it is unknown (an import without one)."""
    model: str | None = None

    def metadata(self) -> dict[str, Any]:
        return {"episode_id": self.episode_id, "task_id": self.task_id, "source": self.source,
                "category": self.category, "reward": self.reward, "model": self.model}


def example_from_record(record: TrajectoryRecord) -> SFTExample:
    return SFTExample(messages=sft_messages(record), tools=list(record.tools), episode_id=record.episode_id,
                      task_id=record.task_id, source=record.source, category=record.category,
                      reward=record.reward if reward_known(record) else None, model=record.model)


__all__ = [
    "SFTExample", "arguments_string", "clean_message", "clean_tool_call", "conversation_hash",
    "example_from_record", "reward_known", "sft_messages",
]
