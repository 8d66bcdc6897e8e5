"""The tool schemas the model sees, per profile.

``openclaw`` is the 19-tool list of the ClawGym SFT data (ClawGym-Agents
``SFT/process_scripts/sft_data_pre_tokenize_toolcall_for_openclaw.py``), i.e. what OpenClaw 2026.3.24
sent to the model: names, descriptions and parameter schemas, in that order, byte for byte. The
data lives in ``data/openclaw_sft_tools.json`` (see ``data/NOTICE``). ``coding`` is read, write,
edit, exec, process with the same schemas, in OpenClaw's tool-summary order.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["CODING_TOOL_NAMES", "OPENCLAW_TOOL_NAMES", "PROFILES", "schema_for", "tool_schemas"]

OPENCLAW_TOOL_NAMES: tuple[str, ...] = (
    "read", "edit", "write", "exec", "process", "browser", "canvas", "message", "tts", "agents_list",
    "sessions_list", "sessions_history", "sessions_send", "sessions_yield", "sessions_spawn", "subagents",
    "session_status", "web_fetch", "memory_get",
)
CODING_TOOL_NAMES: tuple[str, ...] = ("read", "write", "edit", "exec", "process")

PROFILES: dict[str, tuple[str, ...]] = {"openclaw": OPENCLAW_TOOL_NAMES, "coding": CODING_TOOL_NAMES}
"""Tool names per profile, in the order the schemas are listed."""


@lru_cache(maxsize=1)
def _sft_tools() -> dict[str, dict[str, Any]]:
    text = resources.files("clawgym_env.tools").joinpath("data/openclaw_sft_tools.json").read_text("utf-8")
    tools = json.loads(text)
    by_name = {t["function"]["name"]: t for t in tools}
    if tuple(by_name) != OPENCLAW_TOOL_NAMES:  # the data file is the contract; fail loudly if it drifts
        raise RuntimeError(f"openclaw_sft_tools.json lists {tuple(by_name)}, expected {OPENCLAW_TOOL_NAMES}")
    return by_name


def schema_for(name: str) -> dict[str, Any]:
    """One tool's OpenAI function schema (a fresh copy; KeyError for names outside the 19)."""
    return copy.deepcopy(_sft_tools()[name])


def tool_schemas(profile: str = "coding") -> list[dict[str, Any]]:
    """OpenAI function schemas ``{"type": "function", "function": {...}}`` for a profile (fresh copies)."""
    try:
        names = PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown tool profile {profile!r}; known: {sorted(PROFILES)}") from None
    return [schema_for(n) for n in names]
