"""Turn whatever an agent returns into tool calls and a normalized assistant message.

Accepted actions (DESIGN contract 7):

- an OpenAI-style assistant message ``{"role": "assistant", "content": …, "tool_calls": […]}``
  (arguments as a JSON string or an object; content as a string or a list of text parts);
- one tool call ``{"name", "arguments"}`` (also ``"parameters"``), or ``{"function": {...}, "id"?}``;
- a list of such tool calls;
- raw model text with Hermes/Qwen ``<tool_call>{"name": …, "arguments": …}</tool_call>`` blocks,
  an unclosed last block (generation cut off) and Qwen3-Coder's ``<function=name><parameter=k>v
  </parameter></function>`` form included. Blocks inside a leading ``<think>…</think>`` are not calls.

A block that is not valid JSON still becomes a :class:`ToolCall`, with ``error`` set and the name
recovered when the text shows one; ``ToolBox.call_parsed`` then runs it with ``{}``, which is what
OpenClaw does with unparseable arguments, so the model gets OpenClaw's own error text (the
validation failure with ``{}`` received, the tool's missing-parameter error, or ``Tool  not found``
when there is no name). A message dict with no ``tool_calls`` is also scanned for such text blocks
unless ``text_tool_calls=False`` (real OpenClaw would end the turn there; the env decides).
Arguments nested deeper than ``MAX_NESTING`` levels count as unreadable too (the call runs with
``{}`` and its message records ``"{}"``), and the assistant message is made well-formed (lone
surrogates become U+FFFD), so nothing the model writes can break validation, the transcript or
the verifier's payload. Only actions of the wrong Python type raise (``TypeError``): that is the
caller's bug.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from clawgym_env.tools.jsjson import MAX_NESTING, nested_deeper_than, safe_str, well_formed

__all__ = ["ParsedAction", "ToolCall", "content_text", "parse_action"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str | dict[str, Any] | Any
    """As the agent gave them: a JSON string (possibly invalid) or an already-parsed value."""
    error: str | None = None
    """Why the call could not be read (malformed block); the env reports it through ``ToolBox.call_parsed``."""


@dataclass
class ParsedAction:
    content: str
    """Assistant text with the tool-call markup removed."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    assistant_message: dict[str, Any] = field(default_factory=dict)
    """OpenAI-format message: role, content, tool_calls (ids, function.arguments always a JSON string)."""


_TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FUNCTION_RE = re.compile(r"<function=([^>\n]*)>(.*?)(?:</function>|\Z)", re.DOTALL)
_PARAM_RE = re.compile(r"<parameter=([^>\n]*)>(.*?)(?:</parameter>|(?=<parameter=)|(?=</function>)|\Z)", re.DOTALL)
_THINK_RE = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_NAME_RE = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


def parse_action(action: Any, *, id_offset: int = 0, text_tool_calls: bool = True) -> ParsedAction:
    """Parse an agent action; tool-call ids the agent did not give are ``call_<id_offset + index>``."""
    if isinstance(action, str):
        content, calls = _parse_text(action)
        extra: dict[str, Any] = {}
    elif isinstance(action, dict):
        if "tool_calls" in action or "role" in action or "content" in action:
            content, calls, extra = _parse_message(action, text_tool_calls)
        else:
            content, calls, extra = "", [_from_call_dict(action)], {}
    elif isinstance(action, (list, tuple)):
        for i, item in enumerate(action):
            if not isinstance(item, dict):
                raise TypeError(f"action list item {i} is {type(item).__name__}; expected a tool-call dict")
        content, calls, extra = "", [_from_call_dict(item) for item in action], {}
    else:
        raise TypeError(
            f"action must be an assistant message dict, a tool-call dict, a list of tool-call dicts or model "
            f"text; got {type(action).__name__}"
        )

    used: set[str] = set()
    for i, call in enumerate(calls):
        if not call.id or call.id in used:
            call.id = f"call_{id_offset + i}"
        used.add(call.id)
    message: dict[str, Any] = {"role": "assistant", "content": well_formed(content)}
    message.update({k: well_formed(v) for k, v in extra.items()})
    if calls:
        message["tool_calls"] = [
            {"id": well_formed(c.id), "type": "function",
             "function": {"name": well_formed(c.name), "arguments": well_formed(_arguments_string(c.arguments))}}
            for c in calls
        ]
    return ParsedAction(content=content, tool_calls=calls, assistant_message=message)


def _arguments_string(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    if nested_deeper_than(arguments):
        return "{}"
    try:
        return json.dumps(arguments, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(safe_str(arguments), ensure_ascii=False)


def content_text(content: Any) -> str:
    """The text of an OpenAI message ``content`` (a string, or a list of text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return "".join(parts)
    return safe_str(content)


def _parse_message(msg: dict[str, Any], text_tool_calls: bool) -> tuple[str, list[ToolCall], dict[str, Any]]:
    content = content_text(msg.get("content"))
    extra = {k: msg[k] for k in ("reasoning_content",) if isinstance(msg.get(k), str)}
    raw_calls = msg.get("tool_calls")
    if raw_calls:
        if not isinstance(raw_calls, list):
            raw_calls = [raw_calls]
        calls = [_from_call_dict(c) if isinstance(c, dict) else _bad_call(f"tool call is {type(c).__name__}", safe_str(c))
                 for c in raw_calls]
        return content, calls, extra
    if text_tool_calls and ("<tool_call>" in content or "<function=" in content):
        text, calls = _parse_text(content)
        return text, calls, extra
    return content, [], extra


def _bad_call(error: str, raw: str, name: str = "") -> ToolCall:
    return ToolCall(id="", name=name, arguments=raw, error=error)


def _from_call_dict(d: dict[str, Any]) -> ToolCall:
    call_id = d.get("id") if isinstance(d.get("id"), str) else ""
    fn = d.get("function") if isinstance(d.get("function"), dict) else d
    name = fn.get("name")
    if "arguments" in fn:
        arguments = fn["arguments"]
    elif "parameters" in fn:
        arguments = fn["parameters"]
    else:
        arguments = fn.get("input", "")
    if arguments is None:
        arguments = ""
    if not isinstance(name, str):
        return ToolCall(id=call_id, name="" if name is None else safe_str(name), arguments=arguments,
                        error="tool call has no function name")
    if not isinstance(arguments, str) and nested_deeper_than(arguments):
        return ToolCall(id=call_id, name=name, arguments="{}",
                        error=f"tool call arguments are nested deeper than {MAX_NESTING} levels")
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _parse_text(text: str) -> tuple[str, list[ToolCall]]:
    think_spans = [m.span() for m in _THINK_RE.finditer(text)]

    def in_think(pos: int) -> bool:
        return any(a <= pos < b for a, b in think_spans)

    calls: list[ToolCall] = []
    removed: list[tuple[int, int]] = []
    for m in _TOOL_CALL_RE.finditer(text):
        if in_think(m.start()):
            continue
        removed.append(m.span())
        calls.extend(_parse_block(m.group(1)))
    if not calls:  # Qwen3-Coder sometimes drops the <tool_call> wrapper
        for m in _FUNCTION_RE.finditer(text):
            if in_think(m.start()):
                continue
            removed.append(m.span())
            calls.append(_parse_function_block(m.group(1), m.group(2)))
    if not removed:
        return text.strip(), []
    kept, pos = [], 0
    for a, b in sorted(removed):
        kept.append(text[pos:a])
        pos = b
    kept.append(text[pos:])
    return "".join(kept).strip(), calls


def _parse_block(inner: str) -> list[ToolCall]:
    body = inner.strip()
    fm = _FUNCTION_RE.search(body)
    if body.startswith("<function=") and fm:
        return [_parse_function_block(fm.group(1), fm.group(2))]
    try:
        obj = json.loads(body)
        if nested_deeper_than(obj, MAX_NESTING + 2):  # the call object and its arguments object
            raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    except (ValueError, RecursionError) as exc:
        name_match = _NAME_RE.search(body)
        name = ""
        if name_match:
            try:
                name = json.loads(f'"{name_match.group(1)}"')
            except ValueError:
                name = name_match.group(1)
        return [_bad_call(f"invalid JSON in <tool_call> block: {exc}", body, name)]
    objs = obj if isinstance(obj, list) else [obj]
    out = []
    for o in objs:
        if not isinstance(o, dict):
            out.append(_bad_call("<tool_call> block is not a JSON object", body))
            continue
        out.append(_from_call_dict(o))
    return out or [_bad_call("empty <tool_call> block", body)]


def _parse_function_block(name: str, body: str) -> ToolCall:
    args: dict[str, Any] = {}
    for pm in _PARAM_RE.finditer(body):
        key = pm.group(1).strip()
        value = pm.group(2)
        value = value.removeprefix("\n")
        value = value.removesuffix("\n")
        stripped = value.strip()
        if stripped[:1] in "{[" and stripped:
            try:
                parsed = json.loads(stripped)
                if not nested_deeper_than(parsed, MAX_NESTING - 1):
                    args[key] = parsed
                    continue
            except (ValueError, RecursionError):
                pass
        args[key] = value
    name = name.strip()
    if not name:
        return _bad_call("<function=…> block has no name", body)
    return ToolCall(id="", name=name, arguments=args)
