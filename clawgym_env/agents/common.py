"""What every agent shares: AgentError, and tool-call numbering.

AgentError means the agent could not produce a turn (infrastructure, not the model's mistake). A
rollout engine catches it and marks the episode as an infrastructure failure, so a trainer drops
the sample instead of learning from a fake 0 (DESIGN contract 4).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Literal

from clawgym_env.tools.parsing import ParsedAction

AgentErrorKind = Literal[
    "timeout", "connection", "rate_limit", "server", "client", "context_length", "bad_response", "exhausted", "backend",
]


class AgentError(RuntimeError):
    """An agent failed to act after its retries.

    ``kind`` says why (``timeout``, ``connection``, ``rate_limit``, ``server``: retried and still
    failing; ``client``: a 4xx the server will not change its mind about; ``context_length``: the
    conversation no longer fits the model, which an engine may treat as truncation; ``bad_response``:
    the server answered something that is not a chat completion; ``exhausted``: a replay ran out;
    ``backend``: a local model crashed). ``attempts`` counts requests made, ``status_code`` is the last
    HTTP status seen (if any).
    """

    def __init__(self, message: str, *, kind: AgentErrorKind, attempts: int = 1, status_code: int | None = None):
        super().__init__(message)
        self.kind: AgentErrorKind = kind
        self.attempts = attempts
        self.status_code = status_code


def count_tool_calls(messages: list[dict[str, Any]]) -> int:
    """Tool calls made so far; new call ids continue the env's numbering (``call_<n>``), so ids stay
    unique across the conversation even when the model (text tool calls) gives none."""
    return sum(len(m.get("tool_calls") or []) for m in messages if m.get("role") == "assistant")


def turn_message(parsed: ParsedAction) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The assistant message to return for a parsed model output, and its unreadable calls.

    A ``<tool_call>`` block that is not valid JSON carries the whole block as its "arguments";
    passed on, the env would salvage it as if the model had sent ``{"name": …, "arguments": …}`` as
    arguments. OpenClaw runs unparseable calls with ``{}``, and so does the env when it parses the
    text itself, so such calls go out with ``"{}"``: stepping the message gives the model the same
    error as stepping the raw text. The text as generated is returned in the second value.
    """
    message = dict(parsed.assistant_message)
    malformed: list[dict[str, Any]] = []
    if parsed.tool_calls and any(c.error for c in parsed.tool_calls):
        calls = []
        for call, wire in zip(parsed.tool_calls, message["tool_calls"]):
            if call.error:
                malformed.append({"id": call.id, "name": call.name, "text": call.arguments, "error": call.error})
                wire = {**wire, "function": {**wire["function"], "arguments": "{}"}}
            calls.append(wire)
        message["tool_calls"] = calls
    return message, malformed


QUEUE_WAIT: ContextVar[list[float] | None] = ContextVar("clawgym_queue_wait", default=None)
"""Where an episode's driver collects the seconds its agent's turns waited for a shared model (a
one-element list it sets in the episode's task; the threads and child tasks of the episode see the
same list). Queue time is the run's congestion, not the episode's own cost, so it is reported apart."""


def note_queue_wait(seconds: float) -> None:
    """Add ``seconds`` to the current episode's queue time (nothing when no driver collects it)."""
    box = QUEUE_WAIT.get()
    if box is not None and seconds > 0:
        box[0] += seconds


__all__ = ["QUEUE_WAIT", "AgentError", "AgentErrorKind", "count_tool_calls", "note_queue_wait", "turn_message"]
