"""OpenClaw's system prompt and workspace bootstrap files (2026.3.24 and 2026.4.1).

``build_system_prompt`` renders ``buildAgentSystemPrompt`` (``src/agents/system-prompt.ts``) of the
chosen OpenClaw version for the ClawGym gateway: full prompt mode, webchat channel (the OpenAI-compatible
endpoint), no sandbox section (ClawGym runs exec on the gateway host), TTS off, no owner numbers, no
model aliases, memory plugin present (so ``## Memory Recall`` appears when memory_get is enabled).
Lines are joined with ``\\n`` after dropping empty ones, as OpenClaw does. Placeholders that describe
the machine (host, os, node, model, docs path) come from ``runtime``; the defaults are fixed values so
that prompts are reproducible across machines, not a description of the host running this code.
tests/test_openclaw_prompt_differential.py compares both versions with the real OpenClaw.

``bootstrap_files`` returns the workspace templates OpenClaw seeds (``docs/reference/templates``,
front matter stripped as ``ensureAgentWorkspace`` does).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.tools.jsjson import _JS_WS, utf16_len, utf16_slice, well_formed
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, check_openclaw_version

__all__ = [
    "BOOTSTRAP_FILE_ORDER",
    "DEFAULT_HEARTBEAT_PROMPT",
    "DEFAULT_RUNTIME",
    "SYSTEM_PROMPT_STYLES",
    "bootstrap_files",
    "build_compact_system_prompt",
    "build_system_prompt",
    "format_skills_prompt",
]

BOOTSTRAP_FILE_ORDER = ("AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md")
"""The files OpenClaw always looks for, in Project Context order; MEMORY.md (or memory.md) follows if present."""

DEFAULT_HEARTBEAT_PROMPT = (
    "Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. Do not infer or repeat old tasks "
    "from prior chats. If nothing needs attention, reply HEARTBEAT_OK."
)

DEFAULT_RUNTIME: dict[str, Any] = {
    "agent": "main",
    "host": "clawgym",
    "repo": None,
    "os": "Linux 6.8.0",
    "arch": "x64",
    "node": "v22.22.0",
    "model": "rl-server/policy",
    "default_model": "rl-server/policy",
    "shell": "sh",
    "channel": "webchat",
    "capabilities": [],
    "thinking": "off",
    "reasoning": "off",
}
"""Runtime line values (keys as in ``Runtime: agent=… | host=…``); pass ``runtime`` to override any."""

# what 2026.4.1 changed in buildAgentSystemPrompt (the helpers it calls are unchanged: skills, memory, bootstrap
# context files, message channels, runtime line)
_V4 = "2026.4.1"

# the chat channels OpenClaw ships (src/channels/ids.ts, the same in 2026.3.24 and 2026.4.1), listed for the message tool
DEFAULT_MESSAGE_CHANNELS = ("telegram", "whatsapp", "discord", "irc", "googlechat", "slack", "signal", "imessage", "line")

_TOOL_ORDER = (
    "read", "write", "edit", "apply_patch", "grep", "find", "ls", "exec", "process", "web_search", "web_fetch",
    "browser", "canvas", "nodes", "cron", "message", "gateway", "agents_list", "sessions_list", "sessions_history",
    "sessions_send", "subagents", "session_status", "image", "image_generate",
)
_TOOL_ORDER_V4 = (*_TOOL_ORDER[:9], "code_execution", *_TOOL_ORDER[9:])


def _tool_order(version: str) -> tuple[str, ...]:
    return _TOOL_ORDER_V4 if version == _V4 else _TOOL_ORDER


def _core_summaries(acp_spawn: bool, version: str = DEFAULT_OPENCLAW_VERSION) -> dict[str, str]:
    return {
        "read": "Read file contents",
        "write": "Create or overwrite files",
        "edit": "Make precise edits to files",
        "apply_patch": "Apply multi-file patches",
        "grep": "Search file contents for patterns",
        "find": "Find files by glob pattern",
        "ls": "List directory contents",
        "exec": "Run shell commands (pty available for TTY-required CLIs)",
        "process": "Manage background exec sessions",
        "web_search": "Search the web" if version == _V4 else "Search the web (Brave API)",
        "web_fetch": "Fetch and extract readable content from a URL",
        "browser": "Control web browser",
        "canvas": "Present/eval/snapshot the Canvas",
        "nodes": "List/describe/notify/camera/screen on paired nodes",
        "cron": "Manage cron jobs and wake events (use for reminders; when scheduling a reminder, write the "
                "systemEvent text as something that will read like a reminder when it fires, and mention that it "
                "is a reminder depending on the time gap between setting and firing; include recent context in "
                "reminder text if appropriate)",
        "message": "Send messages and channel actions",
        "gateway": "Restart, apply config, or run updates on the running OpenClaw process",
        "agents_list": 'List OpenClaw agent ids allowed for sessions_spawn when runtime="subagent" (not ACP harness ids)'
        if acp_spawn else "List OpenClaw agent ids allowed for sessions_spawn",
        "sessions_list": "List other sessions (incl. sub-agents) with filters/last",
        "sessions_history": "Fetch history for another session/sub-agent",
        "sessions_send": "Send a message to another session/sub-agent",
        "sessions_spawn": 'Spawn an isolated sub-agent or ACP coding session (runtime="acp" requires `agentId` unless '
                          "`acp.defaultAgent` is configured; ACP harness ids follow acp.allowedAgents, not agents_list)"
        if acp_spawn else "Spawn an isolated sub-agent session",
        "subagents": "List, steer, or kill sub-agent runs for this requester session",
        "session_status": "Show a /status-equivalent status card (usage + time + Reasoning/Verbose/Elevated); use for "
                          "model-use questions (📊 session_status); optional per-session model override",
        "image": "Analyze an image with the configured image model",
        "image_generate": "Generate images with the configured image-generation model",
    }


def _sanitize_literal(value: str) -> str:
    """sanitizeForPromptLiteral: drop control/format characters and line/paragraph separators."""
    return "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf") and ch not in "\u2028\u2029")


_SKILLS_PREAMBLE = "\n".join([
    "The following skills provide specialized instructions for specific tasks.",
    "Use the read tool to load a skill's file when the task matches its description.",
    ("When a skill file references a relative path, resolve it against the skill directory (parent of SKILL.md "
     "/ dirname of the path) and use that absolute path in tool commands."),
])


def format_skills_prompt(skills: list[Mapping[str, str]]) -> str:
    """pi's formatSkillsForPrompt: preamble + ``<available_skills>`` XML from {name, description, location}."""
    if not skills:
        return ""

    def esc(s: str) -> str:
        return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;").replace("'", "&apos;"))

    lines = ["\n\n" + _SKILLS_PREAMBLE, "", "<available_skills>"]
    for s in skills:
        lines += ["  <skill>", f"    <name>{esc(s['name'])}</name>", f"    <description>{esc(s['description'])}</description>",
                  f"    <location>{esc(s['location'])}</location>", "  </skill>"]
    lines.append("</available_skills>")
    return "\n".join(lines)


def _js_slice(s: str, start: int, end: int | None = None) -> str:
    """``s.slice(start, end)`` in JS: UTF-16 code units, negative from the end, ``-0`` is 0; may cut a pair in half."""
    units = s.encode("utf-16-le", "surrogatepass")
    n = len(units) // 2
    a = max(n + start, 0) if start < 0 else min(start, n)
    b = n if end is None else max(n + end, 0) if end < 0 else min(end, n)
    return units[2 * a:2 * max(a, b)].decode("utf-16-le", "surrogatepass")


def _trim_bootstrap(content: str, name: str, max_chars: int) -> str:
    """trimBootstrapContent: keep 70% head + 20% tail with OpenClaw's markers. Its plain slices may cut a
    surrogate pair (a lone half, as Node would put it on the wire, becomes U+FFFD: see ``well_formed``), and a
    zero-length tail is ``slice(-0)``: the whole file."""
    trimmed = content.rstrip(_JS_WS)
    length = utf16_len(trimmed)
    if length <= max_chars:
        return trimmed
    head_n, tail_n = int(max_chars * 0.7), int(max_chars * 0.2)
    marker = "\n".join(["", f"[...truncated, read {name} for full content...]",
                        f"…(truncated {name}: kept {head_n}+{tail_n} chars of {length})…", ""])
    return "\n".join([_js_slice(trimmed, 0, head_n), marker, _js_slice(trimmed, -tail_n)])


def _clamp(content: str, budget: int) -> str:
    if budget <= 0:
        return ""
    if utf16_len(content) <= budget:
        return content
    if budget <= 3:
        return utf16_slice(content, budget)
    return utf16_slice(content, budget - 1) + "…"


def _context_files(workspace: str, files: Mapping[str, str], max_chars: int, total_max: int) -> list[tuple[str, str]]:
    """buildBootstrapContextFiles over the standard names (+ MEMORY.md / memory.md when given)."""
    names = list(BOOTSTRAP_FILE_ORDER)
    for mem in ("MEMORY.md", "memory.md"):
        if mem in files:
            names.append(mem)
            break
    remaining = max(1, total_max)
    out: list[tuple[str, str]] = []
    for name in names:
        if remaining <= 0:
            break
        path = posixpath.join(workspace, name)
        if name not in files:
            text = _clamp(f"[MISSING] Expected at: {path}", remaining)
            if not text:
                break
            remaining = max(0, remaining - utf16_len(text))
            out.append((path, text))
            continue
        if remaining < 64:
            break
        trimmed = _trim_bootstrap(files[name] or "", name, max(1, min(max_chars, remaining)))
        text = _clamp(trimmed, remaining)
        if not text:
            continue
        remaining = max(0, remaining - utf16_len(text))
        out.append((path, text))
    return out


def _tool_listing(tool_names: list[str], summaries: Mapping[str, str], tool_summaries: Mapping[str, str] | None,
                  version: str = DEFAULT_OPENCLAW_VERSION) -> tuple[dict[str, str], set[str], list[str]]:
    """The ``## Tooling`` list: (lower-case name -> name as given, the lower-case names, ``- name: summary`` lines
    in OpenClaw's order, unknown tools last alphabetically)."""
    names = [n.strip() for n in tool_names if n and n.strip()]
    canonical: dict[str, str] = {}
    for n in names:
        canonical.setdefault(n.lower(), n)
    available = {n.lower() for n in names}
    external: dict[str, str] = {}
    if tool_summaries is None:
        from clawgym_env.tools.schemas import OPENCLAW_TOOL_NAMES, schema_for

        tool_summaries = {n: schema_for(n, version)["function"]["description"] for n in OPENCLAW_TOOL_NAMES}
    for k, v in tool_summaries.items():
        if k.strip() and v and v.strip():
            external[k.strip().lower()] = v.strip()

    def line_for(tool: str) -> str:
        summary = summaries.get(tool) or external.get(tool)
        shown = canonical.get(tool, tool)
        return f"- {shown}: {summary}" if summary else f"- {shown}"

    order = _tool_order(version)
    tool_lines = [line_for(t) for t in order if t in available]
    tool_lines += [line_for(t) for t in sorted({t for t in available if t not in order})]
    return canonical, available, tool_lines


def _approval_guidance(version: str, channel: Any) -> list[str]:
    """The Tool Call Style lines on /approve: fixed in 3.24; 4.1's buildExecApprovalPromptGuidance depends on the
    channel (native approval buttons on Discord/Slack/Telegram/WebChat) and adds a line against running /approve."""
    if version != _V4:
        return [("When exec returns approval-pending, include the concrete /approve command from tool output (with "
                 "allow-once|allow-always|deny) and do not ask for a different or rotated code.")]
    native = str(channel or "").strip().lower() in ("discord", "slack", "telegram", "webchat")
    first = ("When exec returns approval-pending on Discord, Slack, Telegram, or WebChat, rely on the native approval "
             "card/buttons when they appear and do not also send plain chat /approve instructions. Only include the "
             "concrete /approve command if the tool result says chat approvals are unavailable or only manual approval "
             "is possible." if native else
             "When exec returns approval-pending, include the concrete /approve command from tool output (with "
             "allow-once|allow-always|deny) as plain chat text for the user, and do not ask for a different or rotated code.")
    return [first, ("Never execute /approve through exec or any other shell/tool path; /approve is a user-facing "
                    "approval command, not a shell command.")]


def build_system_prompt(
    tool_names: list[str],
    *,
    workspace: str = WORKSPACE,
    bootstrap_files: Mapping[str, str] | None = None,
    skills_xml: str | None = None,
    timezone: str = "UTC",
    runtime: Mapping[str, Any] | None = None,
    prompt_mode: str = "full",
    docs_path: str | None = "/app/docs",
    heartbeat: bool = True,
    extra_system_prompt: str | None = None,
    tool_summaries: Mapping[str, str] | None = None,
    message_channels: tuple[str, ...] | list[str] = DEFAULT_MESSAGE_CHANNELS,
    acp_enabled: bool = True,
    bootstrap_max_chars: int = 20000,
    bootstrap_total_max_chars: int = 150000,
    openclaw_version: str = DEFAULT_OPENCLAW_VERSION,
) -> str:
    """OpenClaw's system prompt, as ``openclaw_version`` writes it, for an agent with ``tool_names`` enabled.

    ``bootstrap_files`` maps workspace file names (AGENTS.md, …) to their contents; the seven standard
    names are always listed, those absent as ``[MISSING] Expected at: <path>`` (what OpenClaw shows
    for a deleted file), MEMORY.md only when given. ``None`` leaves out ``# Project Context``
    altogether (a deliberate choice of the caller; OpenClaw itself always has the section).
    ``skills_xml`` is either pi's full skills text or a bare ``<available_skills>`` block (the
    preamble is added). Tool summaries for tools outside OpenClaw's core list come from
    ``tool_summaries`` or, for the 19 known tools, from their schema descriptions.
    """
    version = check_openclaw_version(openclaw_version)
    rt = {**DEFAULT_RUNTIME, **(runtime or {})}
    minimal = prompt_mode in ("minimal", "none")
    if prompt_mode == "none":
        return "You are a personal assistant running inside OpenClaw."
    acp_spawn = acp_enabled  # no sandbox in the ClawGym gateway
    summaries = _core_summaries(acp_spawn, version)

    canonical, available, tool_lines = _tool_listing(tool_names, summaries, tool_summaries, version)
    exec_name, process_name, read_name = (canonical.get(t, t) for t in ("exec", "process", "read"))
    has_spawn = "sessions_spawn" in available

    lines: list[str] = [
        "You are a personal assistant running inside OpenClaw.",
        "",
        "## Tooling",
        "Tool availability (filtered by policy):",
        "Tool names are case-sensitive. Call tools exactly as listed.",
    ]
    if tool_lines:
        lines.append("\n".join(tool_lines))
    else:
        lines.append("\n".join([
            "Pi lists the standard tools above. This runtime enables:",
            "- grep: search file contents for patterns",
            "- find: find files by glob pattern",
            "- ls: list directory contents",
            "- apply_patch: apply multi-file patches",
            f"- {exec_name}: run shell commands (supports background via yieldMs/background)",
            f"- {process_name}: manage background exec sessions",
            "- browser: control OpenClaw's dedicated browser",
            "- canvas: present/eval/snapshot the Canvas",
            "- nodes: list/describe/notify/camera/screen on paired nodes",
            "- cron: " + summaries["cron"][0].lower() + summaries["cron"][1:],
            "- sessions_list: list sessions",
            "- sessions_history: fetch session history",
            "- sessions_send: send to another session",
            "- subagents: list/steer/kill sub-agent runs",
            '- session_status: show usage/time/model state and answer "what model are we using?"',
        ]))
    lines += [
        "TOOLS.md does not control tool availability; it is user guidance for how to use external tools.",
        f"For long waits, avoid rapid poll loops: use {exec_name} with enough yieldMs or {process_name}(action=poll, timeout=<ms>).",
        "If a task is more complex or takes longer, spawn a sub-agent. Completion is push-based: it will auto-announce when done.",
    ]
    if has_spawn and acp_spawn:
        lines += [
            ('For requests like "do this in codex/claude code/cursor/gemini" or similar ACP harnesses, treat it as ACP '
             'harness intent and call `sessions_spawn` with `runtime: "acp"`.') if version == _V4 else
            'For requests like "do this in codex/claude code/gemini", treat it as ACP harness intent and call `sessions_spawn` with `runtime: "acp"`.',
            'On Discord, default ACP harness requests to thread-bound persistent sessions (`thread: true`, `mode: "session"`) unless the user asks otherwise.',
            "Set `agentId` explicitly unless `acp.defaultAgent` is configured, and do not route ACP harness requests through `subagents`/`agents_list` or local PTY exec flows.",
            'For ACP harness thread spawns, do not call `message` with `action=thread-create`; use `sessions_spawn` (`runtime: "acp"`, `thread: true`) as the single thread creation path.',
        ]
    lines += [
        "Do not poll `subagents list` / `sessions_list` in a loop; only check status on-demand (for intervention, debugging, or when explicitly asked).",
        "",
        "## Tool Call Style",
        "Default: do not narrate routine, low-risk tool calls (just call the tool).",
        "Narrate only when it helps: multi-step work, complex/challenging problems, sensitive actions (e.g., deletions), or when the user explicitly asks.",
        "Keep narration brief and value-dense; avoid repeating obvious steps.",
        "Use plain human language for narration unless in a technical context.",
        "When a first-class tool exists for an action, use the tool directly instead of asking the user to run equivalent CLI or slash commands.",
        *_approval_guidance(version, rt.get("channel")),
        "Treat allow-once as single-command only: if another elevated command needs approval, request a fresh /approve and do not claim prior approval covered it.",
        "When approvals are required, preserve and show the full command/script exactly as provided (including chained operators like &&, ||, |, ;, or multiline shells) so the user can approve what will actually run.",
        "",
        "## Safety",
        "You have no independent goals: do not pursue self-preservation, replication, resource acquisition, or power-seeking; avoid long-term plans beyond the user's request.",
        "Prioritize safety and human oversight over completion; if instructions conflict, pause and ask; comply with stop/pause/audit requests and never bypass safeguards. (Inspired by Anthropic's constitution.)",
        "Do not manipulate or persuade anyone to expand access or disable safeguards. Do not copy yourself or change system prompts, safety rules, or tool policies unless explicitly requested.",
        "",
        "## OpenClaw CLI Quick Reference",
        "OpenClaw is controlled via subcommands. Do not invent commands.",
        "To manage the Gateway daemon service (start/stop/restart):",
        "- openclaw gateway status",
        "- openclaw gateway start",
        "- openclaw gateway stop",
        "- openclaw gateway restart",
        "If unsure, ask the user to run `openclaw help` (or `openclaw gateway --help`) and paste the output.",
        "",
    ]
    skills = (skills_xml or "").strip()
    if skills:
        if skills.startswith("<available_skills>"):
            skills = _SKILLS_PREAMBLE + "\n\n" + skills
        lines += [
            "## Skills (mandatory)",
            "Before replying: scan <available_skills> <description> entries.",
            f"- If exactly one skill clearly applies: read its SKILL.md at <location> with `{read_name}`, then follow it.",
            "- If multiple could apply: choose the most specific one, then read/follow it.",
            "- If none clearly apply: do not read any SKILL.md.",
            "Constraints: never read more than one skill up front; only read after selecting.",
            "- When a skill drives external API writes, assume rate limits: prefer fewer larger writes, avoid tight one-item loops, serialize bursts when possible, and respect 429/Retry-After.",
            skills,
            "",
        ]
    if not minimal and ("memory_search" in available or "memory_get" in available):
        if "memory_search" in available and "memory_get" in available:
            guidance = ("Before answering anything about prior work, decisions, dates, people, preferences, or todos: run "
                        "memory_search on MEMORY.md + memory/*.md; then use memory_get to pull only the needed lines. If "
                        "low confidence after search, say you checked.")
        elif "memory_search" in available:
            guidance = ("Before answering anything about prior work, decisions, dates, people, preferences, or todos: run "
                        "memory_search on MEMORY.md + memory/*.md and answer from the matching results. If low confidence "
                        "after search, say you checked.")
        else:
            guidance = ("Before answering anything about prior work, decisions, dates, people, preferences, or todos that "
                        "already point to a specific memory file or note: run memory_get to pull only the needed lines. If "
                        "low confidence after reading them, say you checked.")
        lines += ["## Memory Recall", guidance,
                  "Citations: include Source: <path#line> when it helps the user verify memory snippets.", ""]
    has_gateway = "gateway" in available and not minimal
    if has_gateway:
        lines += [
            "## OpenClaw Self-Update",
            "\n".join([
                "Get Updates (self-update) is ONLY allowed when the user explicitly asks for it.",
                "Do not run config.apply or update.run unless the user explicitly requests an update or config change; if it's not explicit, ask first.",
                "Use config.schema.lookup with a specific dot path to inspect only the relevant config subtree before making config changes or answering config-field questions; avoid guessing field names/types.",
                "Actions: config.schema.lookup, config.get, config.apply (validate + write full config, then restart), config.patch (partial update, merges with existing), update.run (update deps or git, then restart).",
                "After restart, OpenClaw pings the last active session automatically.",
            ]),
        ]
    lines.append("")
    if timezone:
        lines.append("If you need the current date, time, or day of week, run session_status (📊 session_status).")
    notes = ["Reminder: commit your changes in this workspace after edits."] if bootstrap_files and "BOOTSTRAP.md" in bootstrap_files else []
    lines += [
        "## Workspace",
        f"Your working directory is: {_sanitize_literal(workspace)}",
        "Treat this directory as the single global workspace for file operations unless explicitly instructed otherwise.",
        *notes,
        "",
    ]
    if docs_path and docs_path.strip() and not minimal:
        lines += [
            "## Documentation",
            f"OpenClaw docs: {docs_path.strip()}",
            "Mirror: https://docs.openclaw.ai",
            "Source: https://github.com/openclaw/openclaw",
            "Community: https://discord.com/invite/clawd",
            "Find new skills: https://clawhub.ai",
            "For OpenClaw behavior, commands, config, or architecture: consult local docs first.",
            "When diagnosing issues, run `openclaw status` yourself when possible; only ask the user if you lack access (e.g., sandboxed).",
            "",
        ]
    if timezone:
        lines += ["## Current Date & Time", f"Time zone: {timezone}", ""]
    lines += [
        "## Workspace Files (injected)",
        "These user-editable files are loaded by OpenClaw and included below in Project Context.",
        "",
    ]
    channel = (rt.get("channel") or "").strip().lower()
    capabilities = [str(c).strip() for c in rt.get("capabilities") or [] if str(c).strip()]
    if not minimal:
        lines += [
            "## Reply Tags",
            "To request a native reply/quote on supported surfaces, include one tag in your reply:",
            "- Reply tags must be the very first token in the message (no leading text/newlines): [[reply_to_current]] your reply.",
            "- [[reply_to_current]] replies to the triggering message.",
            "- Prefer [[reply_to_current]]. Use [[reply_to:<id>]] only when an id was explicitly provided (e.g. by the user or a tool).",
            "Whitespace inside the tag is allowed (e.g. [[ reply_to_current ]] / [[ reply_to: 123 ]]).",
            "Tags are stripped before sending; support depends on the current channel config.",
            "",
            "## Messaging",
            "- Reply in current session → automatically routes to the source channel (Signal, Telegram, etc.)",
            "- Cross-session messaging → use sessions_send(sessionKey, message)",
            "- Sub-agent orchestration → use subagents(action=list|steer|kill)",
            "- Runtime-generated completion events may ask for a user update. Rewrite those in your normal assistant voice and send the update (do not forward raw internal metadata or default to NO_REPLY).",
            "- Never use exec/curl for provider messaging; OpenClaw handles all routing internally.",
        ]
        if "message" in available:
            inline = "inlinebuttons" in {c.lower() for c in capabilities}
            msg_lines = [
                "",
                "### message tool",
                "- Use `message` for proactive sends + channel actions (polls, reactions, etc.).",
                "- For `action=send`, include `to` and `message`.",
                f"- If multiple channels are configured, pass `channel` ({'|'.join(message_channels)}).",
                "- If you use `message` (`action=send`) to deliver your user-visible reply, respond with ONLY: NO_REPLY (avoid duplicate replies).",
                "- Inline buttons supported. Use `action=send` with `buttons=[[{text,callback_data,style?}]]`; `style` can be `primary`, `success`, or `danger`."
                if inline else (f'- Inline buttons not enabled for {channel}. If you need them, ask to set {channel}.capabilities.inlineButtons ("dm"|"group"|"all"|"allowlist").'
                                if channel else ""),
            ]
            lines.append("\n".join(x for x in msg_lines if x))
        lines.append("")
    if extra_system_prompt and extra_system_prompt.strip():
        header = "## Subagent Context" if prompt_mode == "minimal" else "## Group Chat Context"
        lines += [header, extra_system_prompt.strip(), ""]

    if bootstrap_files is not None:
        files = _context_files(workspace, bootstrap_files, bootstrap_max_chars, bootstrap_total_max_chars)
        if files:
            lines += ["# Project Context", "", "The following project context files have been loaded:"]
            if any(posixpath.basename(p).lower() == "soul.md" for p, _ in files):
                lines.append("If SOUL.md is present, embody its persona and tone. Avoid stiff, generic replies; "
                             "follow its guidance unless higher-priority instructions override it.")
            lines.append("")
            for path, content in files:
                lines += [f"## {path}", "", well_formed(content), ""]
    if not minimal:
        lines += [
            "## Silent Replies",
            "When you have nothing to say, respond with ONLY: NO_REPLY",
            "",
            "⚠️ Rules:",
            "- It must be your ENTIRE message — nothing else",
            '- Never append it to an actual response (never include "NO_REPLY" in real replies)',
            "- Never wrap it in markdown or code blocks",
            "",
            '❌ Wrong: "Here\'s help... NO_REPLY"',
            '❌ Wrong: "NO_REPLY"',
            "✅ Right: NO_REPLY",
            "",
        ]
        if heartbeat:
            lines += [
                "## Heartbeats",
                f"Heartbeat prompt: {DEFAULT_HEARTBEAT_PROMPT}",
                "If you receive a heartbeat poll (a user message matching the heartbeat prompt above), and there is nothing that needs attention, reply exactly:",
                "HEARTBEAT_OK",
                'OpenClaw treats a leading/trailing "HEARTBEAT_OK" as a heartbeat ack (and may discard it).',
                'If something needs attention, do NOT include "HEARTBEAT_OK"; reply with the alert text instead.',
                "",
            ]
    os_part = ""
    if rt.get("os"):
        os_part = f"os={rt['os']}" + (f" ({rt['arch']})" if rt.get("arch") else "")
    elif rt.get("arch"):
        os_part = f"arch={rt['arch']}"
    fields = [
        f"agent={rt['agent']}" if rt.get("agent") else "",
        f"host={rt['host']}" if rt.get("host") else "",
        f"repo={rt['repo']}" if rt.get("repo") else "",
        os_part,
        f"node={rt['node']}" if rt.get("node") else "",
        f"model={rt['model']}" if rt.get("model") else "",
        f"default_model={rt['default_model']}" if rt.get("default_model") else "",
        f"shell={rt['shell']}" if rt.get("shell") else "",
        f"channel={channel}" if channel else "",
        f"capabilities={','.join(capabilities) if capabilities else 'none'}" if channel else "",
        f"thinking={rt.get('thinking') or 'off'}",
    ]
    lines += [
        "## Runtime",
        "Runtime: " + " | ".join(f for f in fields if f),
        f"Reasoning: {rt.get('reasoning') or 'off'} (hidden unless on/stream). Toggle /reasoning; /status shows Reasoning when enabled.",
    ]
    return "\n".join(line for line in lines if line)


SYSTEM_PROMPT_STYLES = ("openclaw", "compact")
"""``EnvConfig.system_prompt_style``: OpenClaw's own prompt, or :func:`build_compact_system_prompt`."""


def build_compact_system_prompt(
    tool_names: list[str],
    *,
    workspace: str = WORKSPACE,
    runtime: Mapping[str, Any] | None = None,
    tool_summaries: Mapping[str, str] | None = None,
) -> str:
    """A short system prompt for small-context models: OpenClaw's identity line, the same tool list (same
    order and summaries as :func:`build_system_prompt`) and its rules that bear on a task in a sandbox, in
    about a twentieth of the tokens.

    A departure from OpenClaw, which always sends its full prompt (~19.5K characters for the coding tools,
    most of it the injected workspace files): no Project Context, no sections about channels, sub-agents,
    approvals, reply tags, heartbeats or docs. It adds one line OpenClaw leaves implicit: a reply without a
    tool call ends the turn (and the episode)."""
    rt = {**DEFAULT_RUNTIME, **(runtime or {})}
    _, _, tool_lines = _tool_listing(tool_names, _core_summaries(False), tool_summaries)
    os_part = f"os={rt['os']}" + (f" ({rt['arch']})" if rt.get("arch") else "") if rt.get("os") else ""
    fields = [os_part, f"shell={rt['shell']}" if rt.get("shell") else "", f"model={rt['model']}" if rt.get("model") else ""]
    lines = [
        "You are a personal assistant running inside OpenClaw.",
        "## Tools",
        "Tool names are case-sensitive. Call tools exactly as listed.",
        *tool_lines,
        "## Rules",
        "- Just call the tool: do not narrate routine calls, and do not ask the user to run commands a tool can run.",
        "- For long waits use exec with enough yieldMs or process(action=poll, timeout=<ms>), not rapid poll loops.",
        f"- Your working directory is {workspace}: the single workspace for file operations.",
        "- No independent goals. If instructions conflict, pause and ask. Never bypass safeguards.",
        "- Never exfiltrate private data. Ask before destructive commands (prefer trash to rm).",
        "- A reply without a tool call ends your turn. With nothing to say, reply only: NO_REPLY",
        "## Runtime",
        "Runtime: " + " | ".join(f for f in fields if f),
    ]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------- bootstrap files


def _strip_front_matter(content: str) -> str:
    """ensureAgentWorkspace's stripFrontMatter."""
    if not content.startswith("---"):
        return content
    end = content.find("\n---", 3)
    if end == -1:
        return content
    return re.sub(r"^\s+", "", content[end + 4:])


@cache
def _template(name: str) -> str:
    raw = resources.files("clawgym_env.tools").joinpath(f"data/templates/{name}").read_text("utf-8")
    return _strip_front_matter(raw)


def bootstrap_files(fresh: bool = True) -> dict[str, str]:
    """The files OpenClaw writes into a new workspace: AGENTS, SOUL, TOOLS, IDENTITY, USER, HEARTBEAT,
    plus BOOTSTRAP.md when ``fresh`` (a brand-new workspace with untouched IDENTITY/USER, no memory/ or .git)."""
    names = [n for n in BOOTSTRAP_FILE_ORDER if fresh or n != "BOOTSTRAP.md"]
    return {n: _template(n) for n in names}
