"""The tool schemas the model sees, per profile and OpenClaw version.

Profiles:

- ``coding`` (the default): read, write, edit, exec, process, in OpenClaw's tool-summary order; the
  minimal set.
- ``rl``: the 15 tools OpenClaw's own ``coding`` profile offers under ClawGym-RL's configuration
  (web_search and memory_search denied, exec host=gateway security=full, the caller the owner), in
  OpenClaw's order. The same list in 2026.3.24 and 2026.4.1.
- ``openclaw``: the 19-tool list of the ClawGym SFT data (ClawGym-Agents
  ``SFT/process_scripts/sft_data_pre_tokenize_toolcall_for_openclaw.py``), in that order.

Schemas are per version, byte for byte what that OpenClaw sends: ``data/openclaw_tools_<version>.json``
(dumped from the real npm packages by ``tests/openclaw_real/harness.mjs``; see ``data/NOTICE``). The
2026.3.24 file holds the SFT data's 19 schemas unchanged (``data/openclaw_sft_tools.json``) plus cron.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, check_openclaw_version

__all__ = ["CODING_TOOL_NAMES", "OPENCLAW_TOOL_NAMES", "PROFILES", "RL_TOOL_NAMES", "schema_for", "tool_schemas"]

OPENCLAW_TOOL_NAMES: tuple[str, ...] = (
    "read", "edit", "write", "exec", "process", "browser", "canvas", "message", "tts", "agents_list",
    "sessions_list", "sessions_history", "sessions_send", "sessions_yield", "sessions_spawn", "subagents",
    "session_status", "web_fetch", "memory_get",
)
CODING_TOOL_NAMES: tuple[str, ...] = ("read", "write", "edit", "exec", "process")
RL_TOOL_NAMES: tuple[str, ...] = (
    "read", "edit", "write", "exec", "process", "cron", "sessions_list", "sessions_history", "sessions_send",
    "sessions_yield", "sessions_spawn", "subagents", "session_status", "web_fetch", "memory_get",
)

PROFILES: dict[str, tuple[str, ...]] = {"openclaw": OPENCLAW_TOOL_NAMES, "coding": CODING_TOOL_NAMES, "rl": RL_TOOL_NAMES}
"""Tool names per profile, in the order the schemas are listed."""


_ALL_NAMES = (*OPENCLAW_TOOL_NAMES, "cron")


@cache
def _version_tools(version: str) -> dict[str, dict[str, Any]]:
    name = f"data/openclaw_tools_{check_openclaw_version(version)}.json"
    tools = json.loads(resources.files("clawgym_env.tools").joinpath(name).read_text("utf-8"))
    by_name = {t["function"]["name"]: t for t in tools}
    if tuple(by_name) != _ALL_NAMES:  # the data file is the contract; fail loudly if it drifts
        raise RuntimeError(f"{name} lists {tuple(by_name)}, expected {_ALL_NAMES}")
    return by_name


def schema_for(name: str, version: str = DEFAULT_OPENCLAW_VERSION) -> dict[str, Any]:
    """One tool's OpenAI function schema in that OpenClaw version (a fresh copy; KeyError for unknown names)."""
    return copy.deepcopy(_version_tools(version)[name])


def tool_schemas(profile: str = "coding", version: str = DEFAULT_OPENCLAW_VERSION) -> list[dict[str, Any]]:
    """OpenAI function schemas ``{"type": "function", "function": {...}}`` for a profile (fresh copies)."""
    try:
        names = PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown tool profile {profile!r}; known: {sorted(PROFILES)}") from None
    return [schema_for(n, version) for n in names]
