"""OpenAI-format messages -> OpenClaw session events (the transcript verifiers and graders read).

OpenClaw stores a session as JSONL lines ``{"type": "message", "message": {"role": ..., "content":
[blocks]}}`` with roles user / assistant / toolResult and blocks text / toolCall
(specs/clawgym-reference.md §A4, §F6). The reward payload's ``transcript`` and PinchBench's graders
expect that shape, so the env converts its message list once, here.
"""

from __future__ import annotations

import json
from typing import Any

from clawgym_env.tools.jsjson import nested_deeper_than, well_formed
from clawgym_env.tools.parsing import content_text


def _arguments(raw: Any) -> Any:
    """Parsed arguments; ``{}`` for invalid JSON or nesting deeper than MAX_NESTING (the verifier's
    payload must stay serializable)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return {}
    if raw is None or nested_deeper_than(raw):
        return {}
    return _well_formed_value(raw)


def _well_formed_value(value: Any) -> Any:
    """``value`` with lone surrogates (``"\\ud800"`` escapes in the JSON) made U+FFFD, keys included.
    Recursion is bounded: callers pass at most MAX_NESTING levels."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, dict):
        return {well_formed(k) if isinstance(k, str) else k: _well_formed_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_well_formed_value(v) for v in value]
    return value


def to_openclaw_session(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert an OpenAI message list (system messages dropped) to OpenClaw session events."""
    events: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}
    for msg in messages:
        role = msg.get("role")
        if role == "user":
            events.append({"type": "message", "message": {"role": "user",
                                                          "content": [{"type": "text", "text": content_text(msg.get("content"))}]}})
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            text = content_text(msg.get("content"))
            if text:
                blocks.append({"type": "text", "text": text})
            for call in msg.get("tool_calls") or []:
                fn = call.get("function", {})
                tool_names[call.get("id", "")] = fn.get("name", "")
                blocks.append({"type": "toolCall", "id": call.get("id"), "name": fn.get("name"),
                               "arguments": _arguments(fn.get("arguments"))})
            event: dict[str, Any] = {"role": "assistant", "content": blocks}
            if msg.get("usage"):
                event["usage"] = msg["usage"]
            events.append({"type": "message", "message": event})
        elif role == "tool":
            call_id = msg.get("tool_call_id", "")
            events.append({"type": "message", "message": {
                "role": "toolResult", "toolCallId": call_id, "toolName": msg.get("name") or tool_names.get(call_id, ""),
                "content": [{"type": "text", "text": content_text(msg.get("content"))}]}})
    return events
