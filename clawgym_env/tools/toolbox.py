"""One tool call, start to finish, the way OpenClaw 2026.3.24 runs it.

``ToolBox.call(name, arguments)`` goes through the same stages as the gateway, so the model gets the
same text for every kind of failure:

1. **Name.** OpenClaw trims and repairs tool-call names before dispatch
   (``normalizeToolCallNameForDispatch``: exact, ``bash``→``exec``, case-insensitive, ``functions.``
   / ``tools.`` prefixes and ``a/b`` paths, names inferred from ids like ``functions.read:0``). This
   is already in 3.24 (``wrapStreamFnTrimToolCallNames`` in ``pi-embedded-runner/run/attempt.ts``),
   not only in 4.1, so it is on by default; ``repair_tool_names=False`` gives pi-agent-core's bare
   exact lookup. Unknown names give ``Tool <name> not found``.
2. **Arguments.** A JSON string is parsed like pi-ai's ``parseStreamingJson`` (``JSON.parse``, else
   the ``partial-json`` salvage, else ``{}``); ``partial_json=False`` skips the salvage (no truncated
   writes), giving ``{}`` instead. Dicts are used as they are. Arguments nested deeper than
   ``MAX_NESTING`` (64) levels are unreadable too: ``{}``.
3. **Validation.** AJV with ``coerceTypes`` (:mod:`clawgym_env.tools.ajv`): ``Validation failed for
   tool "exec": …`` on failure; the tool receives the coerced arguments.
4. **Execution.** ``ToolError`` and any other exception become OpenClaw's JSON error envelope. A
   :class:`~clawgym_env.sandbox.base.SandboxError` is not the model's doing (the sandbox died): it
   propagates, so the env can flag ``info["infra_error"]`` instead of scoring a broken episode.
5. **Context guard.** One result longer than ``max(1024, context_window_tokens)`` UTF-16 units is cut
   (at a newline in the last 30% when there is one) and ends with
   ``\\n[truncated: output exceeded context limit]`` (``tool-result-context-guard.ts``). The
   conversation-wide budget that compacts older results is the env's business, not one call's.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from clawgym_env.sandbox.base import SandboxError
from clawgym_env.tools.ajv import format_validation_error, validate
from clawgym_env.tools.context import ToolContext, ToolError, ToolFn, error_envelope
from clawgym_env.tools.gatewayless import GATEWAYLESS_TOOLS
from clawgym_env.tools.images import ToolImage, ToolOutput
from clawgym_env.tools.jsjson import (
    js_stringify,
    nested_deeper_than,
    parse_streaming_json,
    safe_str,
    utf16_len,
    utf16_slice,
    well_formed,
)
from clawgym_env.tools.schemas import CODING_TOOL_NAMES, PROFILES, schema_for
from clawgym_env.tools.stubs import STUB_TOOLS
from clawgym_env.tools.versions import check_openclaw_version

__all__ = ["ErrorKind", "ExtraTool", "ToolBox", "ToolImage", "ToolResult", "apply_context_guard",
           "normalize_tool_call_name"]

ErrorKind = Literal["unknown_tool", "bad_arguments", "validation", "tool_error"]
ExtraTool = ToolFn | tuple[dict[str, Any], ToolFn]
"""An ``extra_tools`` entry: a bare function replaces the implementation of a profile tool (schema
unchanged); ``(openai_function_schema, fn)`` adds a tool or replaces both schema and function."""

CONTEXT_LIMIT_NOTICE = "[truncated: output exceeded context limit]"


@dataclass
class ToolResult:
    """What one tool call produced."""

    text: str
    """Exactly what the model sees as the tool message content."""
    ok: bool
    """False where OpenClaw marks the result as an error (unknown tool, validation, envelope)."""
    tool: str
    """The tool that ran (after name repair), or the name as given when there is none."""
    error_kind: ErrorKind | None = None
    duration_s: float = 0.0
    arguments: Any = None
    """The arguments the tool received (coerced), or those rejected by validation."""
    malformed_arguments: bool = False
    """The arguments string was not valid JSON (salvaged by the partial parser, or replaced by {})."""
    truncated: bool = False
    """The context guard cut the text."""
    images: list[ToolImage] = field(default_factory=list)
    """Image parts after the text (a read of an image file), for multimodal models; ``text`` alone is
    what a text-only model sees."""


# ---------------------------------------------------------------- name repair (OpenClaw dispatch)

_TOOL_NAME_ALIASES = {"bash": "exec", "apply-patch": "apply_patch"}


def _normalize(name: str) -> str:
    n = name.strip().lower()
    return _TOOL_NAME_ALIASES.get(n, n)


def _case_insensitive(raw: str, allowed: list[str]) -> str | None:
    match = None
    for name in allowed:
        if name.lower() != raw.lower():
            continue
        if match is not None and match != name:
            return None
        match = name
    return match


def _exact(raw: str, allowed: list[str]) -> str | None:
    if raw in allowed:
        return raw
    norm = _normalize(raw)
    if norm in allowed:
        return norm
    return _case_insensitive(raw, allowed) or _case_insensitive(norm, allowed)


def _structured_candidates(raw: str) -> list[str]:
    trimmed = raw.strip()
    out: list[str] = []

    def add(value: str) -> None:
        v = value.strip()
        if v and v not in out:
            out.append(v)

    if not trimmed:
        return out
    add(trimmed)
    add(_normalize(trimmed))
    dotted = trimmed.replace("/", ".")
    add(dotted)
    add(_normalize(dotted))
    segments = [s.strip() for s in dotted.split(".") if s.strip()]
    for i in range(1, len(segments)):
        suffix = ".".join(segments[i:])
        add(suffix)
        add(_normalize(suffix))
    return out


def _structured(raw: str, allowed: list[str]) -> str | None:
    cands = _structured_candidates(raw)
    for c in cands:
        if c in allowed:
            return c
    for c in cands:
        m = _case_insensitive(c, allowed)
        if m:
            return m
    return None


def _infer_from_id(raw_id: str | None, allowed: list[str]) -> str | None:
    if not raw_id or not allowed or not raw_id.strip():
        return None
    ident = raw_id.strip()
    tokens: list[str] = []

    def add(v: str) -> None:
        if v not in tokens:
            tokens.append(v)

    def add_token(value: str) -> None:
        t = value.strip()
        if not t:
            return
        add(t)
        add(re.sub(r"[:._/-]\d+$", "", t))
        add(re.sub(r"\d+$", "", t))
        dotted = t.replace("/", ".")
        add(dotted)
        add(re.sub(r"[:._-]\d+$", "", dotted))
        add(re.sub(r"\d+$", "", dotted))
        for prefix in (r"^functions?[._-]?", r"^tools?[._-]?"):
            stripped = re.sub(prefix, "", dotted, count=1, flags=re.IGNORECASE)
            if stripped != dotted:
                add(stripped)
                add(re.sub(r"[:._-]\d+$", "", stripped))
                add(re.sub(r"\d+$", "", stripped))

    for seed in (ident, ident.split(":")[0]):
        add_token(seed)
    single = None
    for cand in tokens:
        matched = _structured(cand, allowed)
        if not matched:
            continue
        if single is not None and single != matched:
            return None
        single = matched
    return single


def normalize_tool_call_name(raw: str, allowed: list[str], call_id: str | None = None) -> str:
    """OpenClaw's ``normalizeToolCallNameForDispatch`` (3.24 and 4.1 alike)."""
    trimmed = raw.strip()
    if not trimmed:
        return _infer_from_id(call_id, allowed) or raw
    if not allowed:
        return trimmed
    exact = _exact(trimmed, allowed)
    if exact:
        return exact
    inferred = _infer_from_id(trimmed, allowed)
    if inferred:
        return inferred
    dotted = trimmed.replace("/", ".")
    if re.match(r"^(?:functions?|tools?)[._-]?", dotted, re.IGNORECASE) and re.search(r"(?:[:._-]\d+|\d+)$", dotted):
        return trimmed
    return _structured(trimmed, allowed) or trimmed


# ---------------------------------------------------------------- context guard


def apply_context_guard(text: str, context_window_tokens: int) -> tuple[str, bool]:
    """The per-result cap of OpenClaw's tool-result context guard; returns (text, was_truncated)."""
    max_chars = max(1024, math.floor(max(1, math.floor(context_window_tokens)) * 2 * 0.5))
    if utf16_len(text) <= max_chars:
        return text, False
    suffix = "\n" + CONTEXT_LIMIT_NOTICE
    budget = max(0, max_chars - len(suffix))
    if budget <= 0:
        return CONTEXT_LIMIT_NOTICE, True
    cut = budget
    head = utf16_slice(text, budget + 1)  # JS lastIndexOf("\n", budget) also looks at index `budget`
    newline = head.rfind("\n")
    if newline != -1 and utf16_len(head[:newline]) > budget * 0.7:
        cut = utf16_len(head[:newline])
    return utf16_slice(text, cut) + suffix, True


# ---------------------------------------------------------------- the box


def _core_implementations(names: set[str]) -> dict[str, ToolFn]:
    """read/write/edit/exec/process come from fs.py and exec_tools.py (owned by the core-tools module)."""
    impls: dict[str, ToolFn] = {}
    if names & {"read", "write", "edit"}:
        from clawgym_env.tools.fs import edit_tool, read_tool, write_tool

        impls.update(read=read_tool, write=write_tool, edit=edit_tool)
    if names & {"exec", "process"}:
        from clawgym_env.tools.exec_tools import exec_tool, process_tool

        impls.update(exec=exec_tool, process=process_tool)
    return {n: f for n, f in impls.items() if n in names}


class ToolBox:
    """The tools of one episode: schemas for the model, ``call`` for its tool calls.

    ``extra_tools`` maps a name to a function (replacing a profile tool's implementation) or to
    ``(openai_function_schema, fn)`` (adding a tool, or replacing schema and function). It exists for
    custom tools and tests; the profiles' own tools are always the real implementations.
    """

    def __init__(
        self,
        ctx: ToolContext,
        profile: str = "coding",
        *,
        extra_tools: Mapping[str, ExtraTool] | None = None,
        repair_tool_names: bool = True,
        partial_json: bool = True,
        context_guard: bool = True,
    ):
        if profile not in PROFILES:
            raise ValueError(f"unknown tool profile {profile!r}; known: {sorted(PROFILES)}")
        check_openclaw_version(ctx.openclaw_version)
        self.ctx = ctx
        self.profile = profile
        self.repair_tool_names = repair_tool_names
        self.partial_json = partial_json
        self.context_guard = context_guard
        self._schemas: dict[str, dict[str, Any]] = {n: schema_for(n, ctx.openclaw_version) for n in PROFILES[profile]}
        # rl: OpenClaw's coding profile as it answers with no gateway; openclaw: the gateway-emulating stubs.
        others = GATEWAYLESS_TOOLS if profile == "rl" else STUB_TOOLS
        self._impls: dict[str, ToolFn] = {n: others[n] for n in PROFILES[profile] if n in others}
        for name, entry in (extra_tools or {}).items():
            if isinstance(entry, tuple):
                schema, fn = entry
                if schema.get("function", {}).get("name") != name:
                    raise ValueError(f"extra tool {name!r}: schema function.name must be {name!r}")
                self._schemas[name] = schema
                self._impls[name] = fn
            elif callable(entry):
                if name not in self._schemas:
                    raise ValueError(f"extra tool {name!r} is not in profile {profile!r}; pass (schema, fn) to add it")
                self._impls[name] = entry
            else:
                raise TypeError(f"extra tool {name!r}: expected a function or (schema, function)")
        missing = {n for n in self._schemas if n not in self._impls}
        if missing:
            unknown = missing - set(CODING_TOOL_NAMES)
            if unknown:
                raise ValueError(f"no implementation for tools {sorted(unknown)}")
            self._impls.update(_core_implementations(missing))

    @property
    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI function schemas, in profile order (extras last)."""
        return list(self._schemas.values())

    @property
    def names(self) -> list[str]:
        return list(self._schemas)

    def resolve_name(self, name: str, call_id: str | None = None) -> str:
        """The tool a call names, after OpenClaw's dispatch repair (if enabled)."""
        if not self.repair_tool_names or not isinstance(name, str):
            return name
        return normalize_tool_call_name(name, self.names, call_id)

    def call(self, name: str, arguments: str | dict[str, Any] | Any = None, *, call_id: str | None = None) -> ToolResult:
        """Run one tool call and return what the model sees. Never raises for the model's mistakes."""
        started = time.perf_counter()
        raw_name = name if isinstance(name, str) else ("" if name is None else safe_str(name))
        tool = self.resolve_name(raw_name, call_id)
        if tool not in self._impls:
            return self._finish(f"Tool {tool} not found", False, tool, "unknown_tool", started, arguments)

        malformed = False
        if arguments is None:
            args: Any = {}
        elif isinstance(arguments, str):
            args, valid = parse_streaming_json(arguments)
            malformed = not valid
            if malformed and not self.partial_json:
                args = {}
        else:
            args = arguments
        if nested_deeper_than(args):  # unreadable, like invalid JSON: the tool gets {}
            args, malformed = {}, True

        parameters = self._schemas[tool]["function"].get("parameters") or {"type": "object"}
        coerced, errors = validate(parameters, args)
        if errors:
            kind: ErrorKind = "bad_arguments" if malformed else "validation"
            text = format_validation_error(tool, errors, args)
            return self._finish(text, False, tool, kind, started, args, malformed)

        try:
            out = self._impls[tool](self.ctx, coerced)
        except SandboxError:
            raise
        except ToolError as exc:
            text = error_envelope(tool, exc.message if exc.message.strip() else "Error")
            return self._finish(text, False, tool, "tool_error", started, coerced, malformed)
        except Exception as exc:  # noqa: BLE001 -- OpenClaw turns any throw inside a tool into the envelope
            message = str(exc) if str(exc).strip() else type(exc).__name__
            return self._finish(error_envelope(tool, message), False, tool, "tool_error", started, coerced, malformed)
        images: list[ToolImage] = []
        if isinstance(out, ToolOutput):
            out, images = out.text, list(out.images)
        elif not isinstance(out, str):
            out = js_stringify(out, 2) if isinstance(out, (dict, list)) else str(out)
        result = self._finish(out, True, tool, None, started, coerced, malformed)
        result.images = images
        return result

    def call_parsed(self, tool_call: Any) -> ToolResult:
        """Run a :class:`~clawgym_env.tools.parsing.ToolCall`. A call whose block was not valid JSON runs
        with ``{}`` (OpenClaw's rule for unparseable arguments), so the model gets the validation or
        tool error it would have got, never a half-salvaged write."""
        if getattr(tool_call, "error", None):
            result = self.call(tool_call.name, {}, call_id=tool_call.id)
            result.malformed_arguments = True
            if result.error_kind == "validation":
                result.error_kind = "bad_arguments"
            return result
        return self.call(tool_call.name, tool_call.arguments, call_id=tool_call.id)

    def _finish(self, text: str, ok: bool, tool: str, kind: ErrorKind | None, started: float,
                arguments: Any = None, malformed: bool = False) -> ToolResult:
        truncated = False
        text = well_formed(text)  # the model gets valid Unicode, whatever the tool echoed back
        if self.context_guard:
            text, truncated = apply_context_guard(text, self.ctx.context_window_tokens)
        return ToolResult(text=text, ok=ok, tool=tool, error_kind=kind, duration_s=time.perf_counter() - started,
                          arguments=arguments, malformed_arguments=malformed, truncated=truncated)

