"""Our system prompt against the real OpenClaw ``buildAgentSystemPrompt``, per OpenClaw version.

``python -m openclaw_real.prompt_diff [--version V] [--only PREFIX] [--show N]`` (run from ``tests/``) prints
the differing cases (first differing line, real vs ours) and ``equal/compared`` per version.

:func:`js_request` maps the arguments of :func:`clawgym_env.tools.prompt.build_system_prompt` to the
harness's ``prompt`` op: the parameters OpenClaw's embedded runner passes to ``buildAgentSystemPrompt``
(toolNames, toolSummaries, workspaceDir, workspaceNotes, skillsPrompt, userTimezone, runtimeInfo,
defaultThinkLevel, reasoningLevel, docsPath, heartbeatPrompt, extraSystemPrompt, acpEnabled, promptMode) and
the workspace files as ``loadWorkspaceBootstrapFiles`` lists them, which the harness turns into contextFiles
with the real ``buildBootstrapContextFiles``. The memory-core plugin's prompt section is registered, as in a
gateway that offers memory_get. Prompts are compared byte for byte after one normalisation: where OpenClaw's
head/tail cut of a long bootstrap file splits a surrogate pair, the lone half (which no UTF-8 text can hold)
is U+FFFD, as ClawGym writes it (``well_formed``).
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.tools import prompt as P
from clawgym_env.tools.jsjson import well_formed
from clawgym_env.tools.schemas import OPENCLAW_TOOL_NAMES, PROFILES, schema_for, tool_schemas
from openclaw_real.diff import RealOpenClaw, run_cli

_RUNTIME_KEYS = {"agent": "agentId", "host": "host", "repo": "repoRoot", "os": "os", "arch": "arch", "node": "node",
                 "model": "model", "default_model": "defaultModel", "shell": "shell", "channel": "channel",
                 "capabilities": "capabilities"}


def _bootstrap_entries(workspace: str, files: Mapping[str, str]) -> list[dict[str, Any]]:
    """loadWorkspaceBootstrapFiles: the seven standard names, then MEMORY.md (or memory.md) when present."""
    names = list(P.BOOTSTRAP_FILE_ORDER)
    memory = next((m for m in ("MEMORY.md", "memory.md") if m in files), None)
    if memory:
        names.append(memory)
    return [{"name": n, "path": posixpath.join(workspace, n), "content": files[n], "missing": False} if n in files
            else {"name": n, "path": posixpath.join(workspace, n), "missing": True} for n in names]


def js_request(tool_names: list[str], *, openclaw_version: str = P.DEFAULT_OPENCLAW_VERSION, **kw: Any) -> dict[str, Any]:
    """The harness ``prompt`` request that should give what ``build_system_prompt(tool_names, **kw)`` gives."""
    workspace = kw.get("workspace", P.WORKSPACE)
    files = kw.get("bootstrap_files")
    runtime = {**P.DEFAULT_RUNTIME, **(kw.get("runtime") or {})}
    if tuple(kw.get("message_channels", P.DEFAULT_MESSAGE_CHANNELS)) != P.DEFAULT_MESSAGE_CHANNELS:
        raise ValueError("OpenClaw lists its own channels; only the default message_channels can be compared")
    summaries = kw.get("tool_summaries")
    if summaries is None:
        summaries = {n: schema_for(n, openclaw_version)["function"]["description"] for n in OPENCLAW_TOOL_NAMES}
    skills = (kw.get("skills_xml") or "").strip()
    if skills.startswith("<available_skills>"):  # our shorthand for pi's formatSkillsForPrompt text
        skills = P._SKILLS_PREAMBLE + "\n\n" + skills
    params: dict[str, Any] = {
        "workspaceDir": workspace,
        "toolNames": list(tool_names),
        "toolSummaries": dict(summaries),
        "promptMode": kw.get("prompt_mode", "full"),
        "acpEnabled": kw.get("acp_enabled", True),
        "runtimeInfo": {js: runtime[ours] for ours, js in _RUNTIME_KEYS.items() if runtime.get(ours) is not None},
        "reasoningLevel": runtime.get("reasoning") or "off",
        "workspaceNotes": ["Reminder: commit your changes in this workspace after edits."]
        if files and "BOOTSTRAP.md" in files else [],
    }
    if runtime.get("thinking"):
        params["defaultThinkLevel"] = runtime["thinking"]
    if skills:
        params["skillsPrompt"] = skills
    if kw.get("timezone", "UTC"):
        params["userTimezone"] = kw.get("timezone", "UTC")
    if kw.get("docs_path", "/app/docs"):
        params["docsPath"] = kw.get("docs_path", "/app/docs")
    if kw.get("heartbeat", True):
        params["heartbeatPrompt"] = P.DEFAULT_HEARTBEAT_PROMPT
    if kw.get("extra_system_prompt"):
        params["extraSystemPrompt"] = kw["extra_system_prompt"]
    request: dict[str, Any] = {"op": "prompt", "params": params}
    if files is not None:
        request["bootstrap"] = {"files": _bootstrap_entries(workspace, files),
                                "maxChars": kw.get("bootstrap_max_chars", 20000),
                                "totalMaxChars": kw.get("bootstrap_total_max_chars", 150000)}
    return request


@dataclass
class PromptCase:
    id: str
    tool_names: list[str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    """build_system_prompt keyword arguments except openclaw_version; a callable value is called with the version."""

    def resolved(self, version: str) -> dict[str, Any]:
        return {k: v(version) if callable(v) else v for k, v in self.kwargs.items()}


def _summaries(profile: str) -> Any:
    """The tool summaries ClawGymEnv passes: that version's schema descriptions of the profile's tools."""
    return lambda version: {s["function"]["name"]: s["function"]["description"] for s in tool_schemas(profile, version)}


WS = "/root/.openclaw/workspace"
_SKILLS = P.format_skills_prompt([
    {"name": "weather", "description": "Get <weather> & 'forecasts'", "location": "/s/weather/SKILL.md"},
    {"name": "pdf", "description": "Read \"PDF\" files", "location": "/s/pdf/SKILL.md"}])


def _files(fresh: bool, **changes: str | None) -> dict[str, str]:
    files = P.bootstrap_files(fresh)
    for name, text in changes.items():
        name = name.replace("_", ".")
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
    return files


def _grid() -> list[PromptCase]:
    cases: list[PromptCase] = []
    for profile in ("coding", "rl", "openclaw"):
        for boot_id, boot in (("none", None), ("fresh", True), ("seeded", False)):
            for mode in ("full", "minimal"):
                kw: dict[str, Any] = {"workspace": WS, "tool_summaries": _summaries(profile), "prompt_mode": mode}
                if boot is not None:
                    kw["bootstrap_files"] = P.bootstrap_files(boot)
                else:
                    kw["bootstrap_files"] = None
                cases.append(PromptCase(f"grid.{profile}.{boot_id}.{mode}", list(PROFILES[profile]), kw))
    rl = list(PROFILES["rl"])
    base = {"workspace": WS, "tool_summaries": _summaries("rl"), "bootstrap_files": P.bootstrap_files(False)}
    extra = [
        ("skills.full", rl, {"skills_xml": _SKILLS}),
        ("skills.bare", rl, {"skills_xml": _SKILLS[_SKILLS.index("<available_skills>"):]}),
        ("skills.minimal", rl, {"skills_xml": _SKILLS, "prompt_mode": "minimal"}),
        ("extra.group", rl, {"extra_system_prompt": "  You are in a group chat.\nBe brief.  "}),
        ("extra.subagent", rl, {"extra_system_prompt": "Task: fix the build.", "prompt_mode": "minimal"}),
        ("extra.blank", rl, {"extra_system_prompt": "   "}),
        ("mode.none", rl, {"prompt_mode": "none"}),
        ("runtime.telegram-buttons", list(PROFILES["openclaw"]),
         {"runtime": {"channel": "Telegram", "capabilities": ["inlineButtons", " reactions "]},
          "tool_summaries": _summaries("openclaw")}),
        ("runtime.discord", list(PROFILES["openclaw"]),
         {"runtime": {"channel": "discord"}, "tool_summaries": _summaries("openclaw")}),
        ("runtime.slack", rl, {"runtime": {"channel": " SLACK "}}),
        ("runtime.no-channel", list(PROFILES["openclaw"]),
         {"runtime": {"channel": None}, "tool_summaries": _summaries("openclaw")}),
        ("runtime.signal", rl, {"runtime": {"channel": "signal", "capabilities": ["polls"]}}),
        ("runtime.repo-model-thinking", rl, {"runtime": {"repo": "/src/app", "model": "vllm/qwen3-8b",
                                                         "default_model": "vllm/qwen3-32b", "thinking": "high",
                                                         "reasoning": "stream", "host": None}}),
        ("runtime.arch-only", rl, {"runtime": {"os": None, "arch": "arm64", "node": None, "shell": "bash",
                                               "agent": "ops"}}),
        ("runtime.sparse", ["read"], {"runtime": {k: None for k in P.DEFAULT_RUNTIME}}),
        ("timezone.shanghai", rl, {"timezone": "Asia/Shanghai"}),
        ("timezone.none", rl, {"timezone": ""}),
        ("docs.none", rl, {"docs_path": None}),
        ("docs.spaces", rl, {"docs_path": "  /opt/openclaw/docs  "}),
        ("heartbeat.off", rl, {"heartbeat": False}),
        ("acp.off", rl, {"acp_enabled": False}),
        ("acp.off.agents", list(PROFILES["openclaw"]), {"acp_enabled": False, "tool_summaries": _summaries("openclaw")}),
        ("tools.case", ["Read", "WRITE", "edit", "Exec", "PROCESS", "read"], {"tool_summaries": None}),
        ("tools.unknown", ["read", "zeta_tool", "alpha_tool", "exec"], {"tool_summaries": {"zeta_tool": " Zeta. ",
                                                                                            "alpha_tool": ""}}),
        ("tools.empty", [], {}),
        ("tools.blank-names", ["", "  ", "read"], {}),
        ("tools.all-core", ["read", "write", "edit", "apply_patch", "grep", "find", "ls", "exec", "process",
                            "code_execution", "web_search", "web_fetch", "browser", "canvas", "nodes", "cron",
                            "message", "gateway", "agents_list", "sessions_list", "sessions_history", "sessions_send",
                            "sessions_spawn", "subagents", "session_status", "image", "image_generate", "memory_search",
                            "memory_get"], {"tool_summaries": {"code_execution": "Run code in a sandbox"}}),
        ("tools.gateway-minimal", ["read", "gateway", "message"], {"prompt_mode": "minimal"}),
        ("tools.memory-search-only", ["read", "memory_search"], {}),
        ("tools.memory-both", ["read", "memory_search", "memory_get"], {}),
        ("tools.default-summaries", list(PROFILES["openclaw"]), {"tool_summaries": None}),
        ("workspace.other", rl, {"workspace": "/tmp/ws-123"}),
        ("workspace.control-chars", rl, {"workspace": "/tmp/a\u200bb\nc\u2028d"}),
        ("boot.empty-dict", rl, {"bootstrap_files": {}}),
        ("boot.only-agents", rl, {"bootstrap_files": {"AGENTS.md": "# Rules\n\nBe nice.\n\n\n"}}),
        ("boot.soul-missing", rl, {"bootstrap_files": _files(False, SOUL_md=None)}),
        ("boot.memory", rl, {"bootstrap_files": _files(False, MEMORY_md="- likes tea\n")}),
        ("boot.memory-lower", rl, {"bootstrap_files": _files(False, memory_md="lower case memory")}),
        ("boot.memory-both", rl, {"bootstrap_files": _files(False, MEMORY_md="upper", memory_md="lower")}),
        ("boot.empty-file", rl, {"bootstrap_files": _files(False, USER_md="")}),
        ("boot.whitespace-file", rl, {"bootstrap_files": _files(False, USER_md="  \n\n ")}),
        ("boot.truncate", rl, {"bootstrap_files": _files(False, AGENTS_md="A" * 25000 + "tail\n")}),
        ("boot.truncate-unicode", rl, {"bootstrap_files": _files(False, AGENTS_md="é😀x" * 9000)}),
        ("boot.truncate-split-pair", rl, {"bootstrap_files": _files(False, AGENTS_md="x" + "😀" * 15000 + "yz")}),
        ("boot.js-trim-end", rl, {"bootstrap_files": _files(False, USER_md="name: Ada\u3000\ufeff\u2028 ",
                                                             TOOLS_md="tools\x1c\x1f\x85")}),
        ("boot.max-chars-small", rl, {"bootstrap_files": _files(True), "bootstrap_max_chars": 300}),
        ("boot.total-small", rl, {"bootstrap_files": _files(True), "bootstrap_total_max_chars": 5000}),
        ("boot.total-tiny", rl, {"bootstrap_files": _files(True), "bootstrap_total_max_chars": 40}),
        ("boot.total-edge", rl, {"bootstrap_files": {"AGENTS.md": "x" * 200}, "bootstrap_total_max_chars": 260}),
        ("boot.max-1", rl, {"bootstrap_files": {"AGENTS.md": "hello world"}, "bootstrap_max_chars": 1}),
        ("boot.minimal-fresh", rl, {"bootstrap_files": _files(True), "prompt_mode": "minimal",
                                    "extra_system_prompt": "sub"}),
    ]
    for case_id, names, kw in extra:
        cases.append(PromptCase(case_id, names, {**base, **kw}))
    return cases


CASES: list[PromptCase] = _grid()


@dataclass
class PromptOutcome:
    case: str
    version: str
    real: str = ""
    ours: str = ""
    error: str | None = None

    @property
    def equal(self) -> bool:
        return self.error is None and well_formed(self.real) == self.ours

    def describe(self) -> str:
        if self.error:
            return f"[{self.version}] {self.case}: ERROR {self.error}"
        real, ours = self.real.split("\n"), self.ours.split("\n")
        i = next((i for i, (r, o) in enumerate(zip(real, ours)) if r != o), min(len(real), len(ours)))
        return (f"[{self.version}] {self.case}: first difference at line {i + 1} "
                f"(real {len(self.real)} chars, ours {len(self.ours)})\n"
                f"  real: {real[i][:400] if i < len(real) else '<end>'!r}\n"
                f"  ours: {ours[i][:400] if i < len(ours) else '<end>'!r}")


def run_version(version: str, cases: list[PromptCase], scratch: Path) -> list[PromptOutcome]:
    """Every case through one harness process of that version, then through ours."""
    real = RealOpenClaw(version, scratch / "home")
    outcomes: list[PromptOutcome] = []
    try:
        for case in cases:
            out = PromptOutcome(case.id, version)
            outcomes.append(out)
            kw = case.resolved(version)
            try:
                out.real = real.request(js_request(case.tool_names, openclaw_version=version, **kw), 120)["text"]
                out.ours = P.build_system_prompt(case.tool_names, openclaw_version=version, **kw)
            except Exception as exc:  # noqa: BLE001 -- one broken case is reported, the rest go on
                out.error = f"{type(exc).__name__}: {exc}"
                if real.proc.poll() is not None:
                    real = RealOpenClaw(version, scratch / f"home-{len(outcomes)}")
    finally:
        real.close()
    return outcomes


if __name__ == "__main__":
    sys.exit(run_cli(None, description=__doc__.splitlines()[0], cases=CASES, run=run_version, label=" prompt", show=20))
