"""What every tool implementation receives, and how it reports failure.

A tool implementation is ``fn(ctx: ToolContext, args: dict) -> str``: ``args`` has already passed
JSON-schema validation (with AJV-style type coercion) but aliases are not yet folded, because the
alias errors are tool-specific OpenClaw texts. Raising :class:`ToolError` gives the model OpenClaw's
JSON error envelope; returning a string gives it that string verbatim (a
:class:`~clawgym_env.tools.images.ToolOutput` adds image parts after its text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from clawgym_env.sandbox.base import Sandbox
from clawgym_env.tools.images import ToolOutput
from clawgym_env.tools.jsjson import js_stringify
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION


class ToolError(Exception):
    """An exception thrown inside a tool: the model sees OpenClaw's error envelope."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def error_envelope(tool: str, message: str) -> str:
    """OpenClaw's JSON shape for an exception inside a tool (specs/openclaw-tools.md §1a.3). A lone
    surrogate (half an emoji cut by a message's truncation) is escaped, as JSON.stringify does."""
    return js_stringify({"status": "error", "tool": tool, "error": message}, 2)


@dataclass
class ToolContext:
    """Per-episode state shared by the tools of one env."""

    sandbox: Sandbox
    workspace: str
    """Workspace path inside the sandbox (relative tool paths resolve against it)."""
    context_window_tokens: int = 65536
    """Drives read's auto-paging cap and the per-result context guard, as in OpenClaw."""
    exec_timeout_s: float = 1800.0
    """exec's default timeout when the model gives none (OpenClaw: tools.exec.timeoutSec, else 1800)."""
    exec_yield_ms: int = 10000
    """exec's default yield window before a command is backgrounded."""
    max_exec_timeout_s: float | None = None
    """Hard cap on any exec timeout (the env's wall budget); None: no cap."""
    openclaw_version: str = DEFAULT_OPENCLAW_VERSION
    """Whose schemas, validation, texts and semantics the tools reproduce (see ``tools.versions``)."""
    state: dict[str, Any] = field(default_factory=dict)
    """Scratch space for tools that keep per-episode state (process session names, ...)."""


ToolFn = Callable[[ToolContext, dict[str, Any]], "str | ToolOutput"]
