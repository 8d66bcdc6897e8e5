"""OpenAIChatAgent: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, SGLang, Ollama, ...).

It talks to the model the way OpenClaw's ``openai-completions`` provider does (specs/openclaw-tools.md
§6): the conversation as OpenAI messages (tool results as ``{role: "tool", tool_call_id, content}``),
the tool schemas as ``{type: "function", function: {...}}``, no ``tool_choice``. What comes back is
normalized with :func:`clawgym_env.tools.parsing.parse_action`, so a model served without a tool
parser (Qwen's ``<tool_call>{…}</tool_call>`` or ``<function=…>`` left in ``content``, §8) still
yields an assistant message with real ``tool_calls``. Malformed arguments are passed on untouched:
the env answers them with OpenClaw's own error text, which is the signal the model should learn from.

Transient failures (429, 5xx, 408/409, timeouts, dropped connections) are retried with exponential
backoff, honouring ``Retry-After`` up to a bound; when retries run out an :class:`AgentError` says
why, so the rollout engine records an infrastructure failure instead of a reward of 0.

The ``openai`` package is imported on first use (``pip install clawgym[openai]``).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from typing import Any, Literal

from clawgym_env.agents.base import AgentTurn
from clawgym_env.agents.common import AgentError, AgentErrorKind, count_tool_calls, turn_message
from clawgym_env.tasks.model import Task
from clawgym_env.tools.parsing import parse_action

__all__ = ["OpenAIChatAgent", "wire_messages"]

_RETRYABLE: set[AgentErrorKind] = {"timeout", "connection", "rate_limit", "server", "bad_response"}
_CONTEXT_MARKERS = ("context length", "context_length", "maximum context", "too many tokens", "prompt is too long",
                    "context window")


class OpenAIChatAgent:
    """An agent backed by an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the served model name.
        api_key: defaults to ``$OPENAI_API_KEY``, else ``"EMPTY"`` (what local servers expect).
        temperature, top_p, max_tokens: sampling settings sent with every request
            (``max_tokens=None`` sends no limit).
        timeout_s: wall limit of one request; a request that takes longer is retried.
        max_retries: retries after the first attempt (so ``max_retries + 1`` requests at most).
        extra_body: merged into the request body (vLLM's ``top_k``, ``chat_template_kwargs``, ...).
        text_tool_calls: parse ``<tool_call>`` blocks left in ``content`` into ``tool_calls``.
            With False the server's message is returned as is; note the env parses such text
            itself by default, so this only changes what the returned turn records.
        max_tokens_param: ``"max_tokens"`` (vLLM, SGLang, most servers) or
            ``"max_completion_tokens"`` (OpenAI's reasoning models).
        backoff_base_s, backoff_max_s: exponential backoff ``base * 2**attempt`` (with jitter), capped.
        retry_after_max_s: the longest ``Retry-After`` honoured; a larger one waits this long.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        temperature: float = 0.7,
        top_p: float = 1.0,
        max_tokens: int | None = 4096,
        timeout_s: float = 600.0,
        max_retries: int = 5,
        extra_body: dict[str, Any] | None = None,
        text_tool_calls: bool = True,
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        retry_after_max_s: float = 120.0,
        default_headers: dict[str, str] | None = None,
        name: str = "openai",
    ):
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.name = name
        self.base_url = base_url
        self.model = model
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.temperature = temperature
        self.top_p = top_p
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.extra_body = dict(extra_body or {})
        self.text_tool_calls = text_tool_calls
        self.max_tokens_param = max_tokens_param
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self.default_headers = dict(default_headers or {})
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ Agent protocol
    def begin_episode(self, task: Task) -> None:
        """Stateless between turns: one instance can serve many concurrent episodes."""

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        started = time.perf_counter()
        request = self.build_request(messages, tools)
        response, attempts, request_latency = await self._create_with_retries(request)
        choice = response.choices[0]
        server_message = _dump(choice.message)
        action: dict[str, Any] = {"role": "assistant", "content": server_message.get("content") or ""}
        if server_message.get("tool_calls"):
            action["tool_calls"] = server_message["tool_calls"]
        reasoning = server_message.get("reasoning_content") or server_message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            action["reasoning_content"] = reasoning
        parsed = parse_action(action, id_offset=count_tool_calls(messages), text_tool_calls=self.text_tool_calls)
        message, malformed = turn_message(parsed)

        raw: dict[str, Any] = {
            "finish_reason": getattr(choice, "finish_reason", None),
            "response_id": getattr(response, "id", None),
            "attempts": attempts,
            "request_latency_s": request_latency,
            "text_tool_calls": bool(parsed.tool_calls) and not server_message.get("tool_calls"),
            "malformed_tool_calls": malformed,
        }
        if raw["text_tool_calls"]:
            raw["content"] = action["content"]  # the text as generated, markup included
        return AgentTurn(
            message=message,
            usage=_usage(getattr(response, "usage", None)),
            latency_s=time.perf_counter() - started,
            model=getattr(response, "model", None) or self.model,
            raw=raw,
        )

    def config(self) -> dict[str, Any]:
        return {
            "agent": "openai", "name": self.name, "base_url": self.base_url, "model": self.model,
            "temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
            "max_tokens_param": self.max_tokens_param, "timeout_s": self.timeout_s,
            "max_retries": self.max_retries, "extra_body": dict(self.extra_body),
            "text_tool_calls": self.text_tool_calls,
        }

    # ------------------------------------------------------------------ requests
    def build_request(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` (without the timeout)."""
        request: dict[str, Any] = {
            "model": self.model,
            "messages": wire_messages(messages),
            "temperature": self.temperature,
            "top_p": self.top_p,
        }
        if self.max_tokens is not None:
            request[self.max_tokens_param] = self.max_tokens
        if tools:  # some servers reject an empty list
            request["tools"] = list(tools)
        if self.extra_body:
            request["extra_body"] = dict(self.extra_body)
        return request

    def _get_client(self) -> Any:
        """One AsyncOpenAI per event loop: its connection pool belongs to the loop that opened it."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            try:
                from openai import AsyncOpenAI
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ImportError("OpenAIChatAgent needs the openai package: pip install 'clawgym[openai]'") from exc
            self._client = AsyncOpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0,
                                       timeout=self.timeout_s, default_headers=self.default_headers or None)
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client (call from the loop that used it)."""
        client, self._client, self._client_loop = self._client, None, None
        if client is not None:
            await client.close()

    async def _create_with_retries(self, request: dict[str, Any]) -> tuple[Any, int, float]:
        client = self._get_client()
        attempt = 0
        while True:
            attempt += 1
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout_s):  # hard wall: httpx's read timeout is per chunk
                    response = await client.chat.completions.create(**request, timeout=self.timeout_s)
                choices = getattr(response, "choices", None)
                if not choices or getattr(choices[0], "message", None) is None:
                    raise _BadResponse(f"not a chat completion with a message: {str(response)[:300]!r}")
                return response, attempt, time.perf_counter() - t0
            except Exception as exc:
                kind, status, retry_after, detail = _classify(exc)
                if kind is None:
                    raise
                if kind not in _RETRYABLE or attempt > self.max_retries:
                    how = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
                    raise AgentError(f"{self.base_url} model {self.model!r}: {kind} {how}: {detail}",
                                     kind=kind, attempts=attempt, status_code=status) from exc
                await asyncio.sleep(self.retry_delay(attempt - 1, retry_after))

    def retry_delay(self, retry_index: int, retry_after: float | None) -> float:
        """Seconds to wait before retry ``retry_index`` (0-based): the server's Retry-After if it
        gave one (bounded by ``retry_after_max_s``), else jittered exponential backoff."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max_s))
        delay = min(self.backoff_max_s, self.backoff_base_s * (2 ** retry_index))
        return delay * random.uniform(0.5, 1.0)


class _BadResponse(Exception):
    pass


def _classify(exc: BaseException) -> tuple[AgentErrorKind | None, int | None, float | None, str]:
    """(kind, HTTP status, Retry-After seconds, detail) of a failed request; kind None = not ours."""
    if isinstance(exc, _BadResponse):
        return "bad_response", None, None, str(exc)
    if isinstance(exc, TimeoutError):
        return "timeout", None, None, "no response within timeout_s"
    try:
        import openai
    except ImportError:  # pragma: no cover
        return None, None, None, ""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", None, None, "no response within timeout_s"
    if isinstance(exc, openai.APIConnectionError):
        return "connection", None, None, str(exc.__cause__ or exc)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = f"HTTP {status}: {str(exc)[:500]}"
        retry_after = _retry_after(exc.response.headers)
        if status == 429:
            return "rate_limit", status, retry_after, detail
        if status >= 500 or status in (408, 409):
            return "server", status, retry_after, detail
        if status in (400, 413, 422) and any(m in str(exc).lower() for m in _CONTEXT_MARKERS):
            return "context_length", status, None, detail
        return "client", status, None, detail
    if isinstance(exc, openai.APIError):  # e.g. a response body that does not validate
        return "bad_response", None, None, str(exc)[:500]
    return None, None, None, ""


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
    except (TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _dump(message: Any) -> dict[str, Any]:
    if isinstance(message, dict):
        return message
    if hasattr(message, "model_dump"):
        return message.model_dump(exclude_none=True)
    return dict(vars(message))


def _usage(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    data = _dump(usage)
    out = {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}
    for details_key, key in (("prompt_tokens_details", "cached_tokens"), ("completion_tokens_details", "reasoning_tokens")):
        details = data.get(details_key)
        if isinstance(details, dict) and isinstance(details.get(key), int):
            out[key] = details[key]
    return out


def wire_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as OpenClaw sends it: standard OpenAI message fields only.

    Tool results go back as ``{role, tool_call_id, content}`` (the env also records the tool
    ``name``, which strict servers reject); assistant tool-call arguments are JSON strings.
    """
    out: list[dict[str, Any]] = []
    for m in messages:
        role = m.get("role")
        wire: dict[str, Any] = {"role": role, "content": m.get("content")}
        if role == "tool":
            wire["tool_call_id"] = m.get("tool_call_id")
            if wire["content"] is None:
                wire["content"] = ""
        elif role == "assistant":
            calls = m.get("tool_calls") or []
            if calls:
                wire["tool_calls"] = [_wire_call(c) for c in calls]
            if isinstance(m.get("reasoning_content"), str):
                wire["reasoning_content"] = m["reasoning_content"]
        elif isinstance(m.get("name"), str):
            wire["name"] = m["name"]
        out.append(wire)
    return out


def _wire_call(call: dict[str, Any]) -> dict[str, Any]:
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    arguments = fn.get("arguments", "")
    if not isinstance(arguments, str):
        try:
            arguments = json.dumps(arguments, ensure_ascii=False)
        except (TypeError, ValueError):
            arguments = json.dumps(str(arguments), ensure_ascii=False)
    return {"id": call.get("id"), "type": "function", "function": {"name": fn.get("name"), "arguments": arguments}}
