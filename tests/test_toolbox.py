"""ToolBox dispatch (names, arguments, validation, errors, context guard) and the offline stub tools.

Dispatch tests that need a tool body use small local functions passed through ``extra_tools``
(test doubles, named as such); everything that touches files runs in a real bwrap sandbox.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from clawgym_env.sandbox.base import SandboxError
from clawgym_env.tools import ToolBox, ToolContext, ToolError, ToolResult, parse_action
from clawgym_env.tools.schemas import OPENCLAW_TOOL_NAMES, schema_for
from clawgym_env.tools.toolbox import CONTEXT_LIMIT_NOTICE, apply_context_guard, normalize_tool_call_name

WS = "/root/.openclaw/workspace"


def offline_ctx(**kw: Any) -> ToolContext:
    """A context without a sandbox, for tools that never touch one."""
    return ToolContext(sandbox=None, workspace=WS, **kw)  # type: ignore[arg-type]


class Recorder:
    """Test double for a tool body: remembers its arguments, returns or raises what it is told."""

    def __init__(self, result: Any = "done", exc: BaseException | None = None):
        self.result, self.exc, self.calls = result, exc, []

    def __call__(self, ctx: ToolContext, args: dict[str, Any]) -> Any:
        self.calls.append(args)
        if self.exc is not None:
            raise self.exc
        return self.result


def box_with(name: str, fn: Recorder, profile: str = "coding", **kw: Any) -> ToolBox:
    return ToolBox(offline_ctx(), profile, extra_tools={name: fn}, **kw)


# ---------------------------------------------------------------- names


def test_unknown_tool_text() -> None:
    box = ToolBox(offline_ctx(), "coding")
    r = box.call("ls", {"path": "."})
    assert isinstance(r, ToolResult)
    assert (r.text, r.ok, r.error_kind, r.tool) == ("Tool ls not found", False, "unknown_tool", "ls")
    assert box.call("browser", {"action": "status"}).text == "Tool browser not found"  # not in the coding profile
    assert box.call("", {}).text == "Tool  not found"


def test_name_repair_on_by_default_and_switchable() -> None:
    rec = Recorder("ran")
    box = box_with("exec", rec)
    for raw in ("bash", "Bash", " exec ", "EXEC", "functions.exec", "tools/exec"):
        r = box.call(raw, {"command": "ls"})
        assert (r.ok, r.tool, r.text) == (True, "exec", "ran"), raw
    assert box.call("functions.exec:0", {"command": "ls"}).tool == "exec"  # Kimi-style id used as a name
    assert box.call("functions.foo:1", {}).text == "Tool functions.foo:1 not found"  # counter-like: left alone
    assert box.call("", {"command": "ls"}, call_id="functions.exec:3").tool == "exec"  # inferred from the id
    strict = box_with("exec", Recorder(), repair_tool_names=False)
    assert strict.call("bash", {"command": "ls"}).text == "Tool bash not found"
    assert strict.call(" exec", {"command": "ls"}).text == "Tool  exec not found"


def test_normalize_tool_call_name_cases() -> None:
    # reference: OpenClaw 2026.3.24 normalizeToolCallNameForDispatch on the same inputs
    allowed = list(OPENCLAW_TOOL_NAMES)
    assert normalize_tool_call_name("Read", allowed) == "read"
    assert normalize_tool_call_name("functions.sessions_list", allowed) == "sessions_list"
    assert normalize_tool_call_name("apply-patch", allowed) == "apply-patch"  # alias target not allowed: unchanged
    assert normalize_tool_call_name("a/b/read", allowed) == "read"
    assert normalize_tool_call_name("", allowed, "call_abc") == ""
    assert normalize_tool_call_name("  nope ", allowed) == "nope"
    assert normalize_tool_call_name("read_file", allowed) == "read_file"


# ---------------------------------------------------------------- arguments and validation


def test_validation_failure_texts() -> None:
    rec = Recorder()
    box = box_with("exec", rec)
    r = box.call("exec", {})
    assert r.text == "Validation failed for tool \"exec\":\n  - command: must have required property 'command'\n\nReceived arguments:\n{}"
    assert (r.ok, r.error_kind, rec.calls) == (False, "validation", [])
    r = box.call("exec", '{"command": "ls", "yieldMs": "soon", "background": 2}')
    assert r.text == ('Validation failed for tool "exec":\n  - yieldMs: must be number\n  - background: must be boolean\n\n'
                      'Received arguments:\n{\n  "command": "ls",\n  "yieldMs": "soon",\n  "background": 2\n}')


def test_coercion_reaches_the_tool() -> None:
    rec = Recorder()
    box = box_with("exec", rec)
    r = box.call("exec", '{"command": "sleep 1", "timeout": "5", "background": "false", "env": {"N": 3}}')
    assert r.ok and r.error_kind is None and not r.malformed_arguments
    assert rec.calls == [{"command": "sleep 1", "timeout": 5, "background": False, "env": {"N": "3"}}]
    assert r.arguments == rec.calls[0]


def test_bad_json_arguments() -> None:
    rec = Recorder()
    box = box_with("exec", rec)
    r = box.call("exec", "not json")
    assert r.text == "Validation failed for tool \"exec\":\n  - command: must have required property 'command'\n\nReceived arguments:\n{}"
    assert (r.error_kind, r.malformed_arguments) == ("bad_arguments", True)
    r = box.call("exec", '{"command": "echo cut')  # OpenClaw salvages the prefix and runs it
    assert (r.ok, r.malformed_arguments, rec.calls[-1]) == (True, True, {"command": "echo cut"})
    strict = box_with("exec", Recorder(), partial_json=False)
    r = strict.call("exec", '{"command": "echo cut')
    assert (r.error_kind, r.text.endswith("Received arguments:\n{}")) == ("bad_arguments", True)
    r = box.call("exec", '"ls"')
    assert r.text == 'Validation failed for tool "exec":\n  - root: must be object\n\nReceived arguments:\n"ls"'
    assert box.call("exec", None).error_kind == "validation"


def test_call_parsed_runs_malformed_blocks_with_empty_arguments() -> None:
    rec = Recorder()
    box = box_with("write", rec)
    (call,) = parse_action('<tool_call>{"name": "write", "arguments": {"path": "a", "content": "x</tool_call>').tool_calls
    r = box.call_parsed(call)
    assert r.text == "Validation failed for tool \"write\":\n  - content: must have required property 'content'\n\nReceived arguments:\n{}"
    assert (r.error_kind, r.malformed_arguments, rec.calls) == ("bad_arguments", True, [])
    (call,) = parse_action("<tool_call>garbage</tool_call>").tool_calls
    assert box.call_parsed(call).text == "Tool  not found"
    (call,) = parse_action({"name": "write", "arguments": '{"path": "a", "content": "x"}'}).tool_calls
    assert box.call_parsed(call).ok and rec.calls == [{"path": "a", "content": "x"}]


# ---------------------------------------------------------------- errors inside tools


def test_tool_errors_become_the_envelope() -> None:
    r = box_with("read", Recorder(exc=ToolError("ENOENT: no such file or directory, access '/x'"))).call("read", {"path": "/x"})
    assert r.text == '{\n  "status": "error",\n  "tool": "read",\n  "error": "ENOENT: no such file or directory, access \'/x\'"\n}'
    assert (r.ok, r.error_kind) == (False, "tool_error")
    r = box_with("read", Recorder(exc=KeyError("boom"))).call("read", {})
    assert json.loads(r.text) == {"status": "error", "tool": "read", "error": "'boom'"}
    r = box_with("read", Recorder(exc=RuntimeError())).call("read", {})
    assert json.loads(r.text)["error"] == "RuntimeError"
    with pytest.raises(SandboxError):  # infrastructure, not the model: the env must see it
        box_with("read", Recorder(exc=SandboxError("died"))).call("read", {})


def test_non_string_results_and_extra_tools() -> None:
    r = box_with("read", Recorder(result={"a": 1.0})).call("read", {})
    assert r.text == '{\n  "a": 1\n}'
    schema = {"type": "function", "function": {"name": "ping", "description": "Ping.",
                                               "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}}
    rec = Recorder("pong")
    box = ToolBox(offline_ctx(), "coding", extra_tools={"ping": (schema, rec)})
    assert box.names == ["read", "write", "edit", "exec", "process", "ping"] and box.schemas[-1] == schema
    assert box.call("ping", '{"n": "7"}').text == "pong" and rec.calls == [{"n": 7}]
    assert box.call("ping", '{"n": "7.5"}').text.startswith('Validation failed for tool "ping":\n  - n: must be integer')
    with pytest.raises(ValueError):
        ToolBox(offline_ctx(), "coding", extra_tools={"ping": rec})
    with pytest.raises(ValueError):
        ToolBox(offline_ctx(), "nope")


# ---------------------------------------------------------------- context guard


def test_context_guard_cuts_long_results() -> None:
    long = "x" * 5000
    r = ToolBox(offline_ctx(context_window_tokens=2000), "coding", extra_tools={"read": Recorder(long)}).call("read", {})
    assert r.truncated and r.ok
    assert r.text == "x" * (2000 - 43) + "\n" + CONTEXT_LIMIT_NOTICE and len(r.text) == 2000
    # budget 1024 - 43 = 981: cut at the last newline at or before index 981 (index 979), when past 70% of it
    text, cut = apply_context_guard("line\n" * 1000, 1024)
    assert cut and text == "line\n" * 195 + "line" + "\n" + CONTEXT_LIMIT_NOTICE
    assert apply_context_guard("short", 1024) == ("short", False)
    assert apply_context_guard("y" * 2000, 10)[0] == "y" * (1024 - 43) + "\n" + CONTEXT_LIMIT_NOTICE  # floor of 1024


# ---------------------------------------------------------------- stubs (no sandbox needed)


def openclaw_box(**kw: Any) -> ToolBox:
    return ToolBox(offline_ctx(**kw), "openclaw")


def envelope(tool: str, error: str) -> str:
    return json.dumps({"status": "error", "tool": tool, "error": error}, indent=2, ensure_ascii=False)


def test_outside_world_tools_return_openclaw_errors() -> None:
    box = openclaw_box()
    assert box.call("browser", {"action": "status"}).text == envelope(
        "browser", "Browser control is disabled. Set browser.enabled=true in ~/.openclaw/openclaw.json.")
    assert box.call("browser", {"action": "open", "target": "sandbox"}).text == envelope(
        "browser", 'Sandbox browser is unavailable. Enable agents.defaults.sandbox.browser.enabled or use target="host" if allowed.')
    assert box.call("browser", {"action": "tabs", "target": "node"}).text == envelope("browser", "No connected browser-capable nodes.")
    assert box.call("canvas", {"action": "present"}).text == envelope("canvas", "node required")
    assert box.call("canvas", {"action": "present", "node": "mac"}).text == envelope("canvas", "unknown node: mac")
    assert box.call("message", {"action": "send", "message": "hi"}).text == envelope(
        "message", "Channel is required (no configured channels detected).")
    assert box.call("message", {"action": "send", "channel": "Slack"}).text == envelope("message", "Channel is unavailable: slack")
    r = box.call("tts", {"text": "hello"})
    assert r.ok and r.text.startswith("TTS conversion failed: TTS conversion failed: microsoft: ")
    assert box.call("tts", {"text": "   "}).text == envelope("tts", "text required")


def test_web_fetch_offline_and_fixtures() -> None:
    box = openclaw_box()
    assert box.call("web_fetch", {"url": "ftp://x.org/f"}).text == envelope("web_fetch", "Invalid URL: must be http or https")
    assert box.call("web_fetch", {"url": "example.com"}).text == envelope("web_fetch", "Invalid URL: must be http or https")
    assert box.call("web_fetch", {"url": "http://127.0.0.1:8080/"}).text == envelope(
        "web_fetch", "Blocked hostname or private/internal/special-use IP address")
    assert box.call("web_fetch", {"url": "https://docs.example.com/a"}).text == envelope(
        "web_fetch", "getaddrinfo EAI_AGAIN docs.example.com")
    box.ctx.state["web_fetch_fixtures"] = {"https://example.com/": {"text": "# Hello\nworld", "contentType": "text/markdown"}}
    r = box.call("web_fetch", {"url": "https://example.com/", "maxChars": "2000"})
    payload = json.loads(r.text)
    assert list(payload) == ["url", "finalUrl", "status", "contentType", "extractMode", "extractor", "externalContent",
                             "truncated", "length", "rawLength", "wrappedLength", "fetchedAt", "tookMs", "text"]
    assert (payload["status"], payload["extractor"], payload["truncated"], payload["rawLength"]) == (200, "cf-markdown", False, 13)
    assert payload["text"].startswith("SECURITY NOTICE: The following content is from an EXTERNAL, UNTRUSTED source")
    assert "\nSource: Web Fetch\n---\n# Hello\nworld\n<<<END_EXTERNAL_UNTRUSTED_CONTENT id=" in payload["text"]
    assert payload["length"] == len(payload["text"]) <= 2000


def test_session_tools() -> None:
    box = openclaw_box(context_window_tokens=128000)
    box.ctx.state["now_ms"] = 1767628800000  # 2026-01-05T16:00:00Z
    box.ctx.state["session"] = {"session_id": "11111111-2222-3333-4444-555555555555", "started_ms": 1767628800000}
    assert box.call("session_status", {}).text == "\n".join([
        "🦞 OpenClaw 2026.3.24",
        "🕒 Time: Monday, January 5th, 2026 — 4:00 PM (UTC)",
        "🧠 Model: rl-server/policy",
        "📚 Context: 0/128k (0%) · 🧹 Compactions: 0",
        "🧵 Session: agent:main:main • updated just now",
        "⚙️ Runtime: direct · Think: off · elevated",
        "🪢 Queue: collect (depth 0)",
    ])
    assert box.call("session_status", {"sessionKey": "other"}).text == envelope("session_status", "Unknown sessionKey: other")
    box41 = openclaw_box(context_window_tokens=128000, openclaw_version="2026.4.1")  # the card names the version
    assert box41.call("session_status", {}).text.startswith("🦞 OpenClaw 2026.4.1\n")
    assert "🧠 Model: openai/gpt-5" in box.call("session_status", {"model": "openai/gpt-5"}).text
    assert json.loads(box.call("agents_list", {}).text) == {
        "requester": "main", "allowAny": False, "agents": [{"id": "main", "configured": False}]}
    listing = json.loads(box.call("sessions_list", {"limit": 5}).text)
    assert listing["count"] == 1 and listing["sessions"][0]["key"] == "main"
    assert listing["sessions"][0]["sessionId"] == "11111111-2222-3333-4444-555555555555"
    assert json.loads(box.call("sessions_list", {"kinds": ["group"]}).text) == {"count": 0, "sessions": []}
    box.ctx.state["messages"] = [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
                                 {"role": "assistant", "content": "", "tool_calls": [{}]}, {"role": "tool", "content": "x"},
                                 {"role": "assistant", "content": "done"}]
    hist = json.loads(box.call("sessions_history", {"sessionKey": "main"}).text)
    assert hist["messages"] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "done"}]
    assert json.loads(box.call("sessions_history", {"sessionKey": "agent:main:other"}).text) == {
        "status": "forbidden",
        "error": "Session history visibility is restricted to the current session tree (tools.sessions.visibility=tree)."}
    sent = json.loads(box.call("sessions_send", {"message": "hi"}).text)
    assert (sent["status"], sent["error"]) == ("error", "Either sessionKey or label is required")
    spawn = json.loads(box.call("sessions_spawn", {"task": "t", "streamTo": "parent"}).text)
    assert spawn == {"status": "error", "error": "streamTo is only supported for runtime=acp; got runtime=subagent"}
    assert box.call("sessions_spawn", {"task": "t", "channel": "x"}).text == envelope(
        "sessions_spawn", 'sessions_spawn does not support "channel". Use "message" or "sessions_send" for channel delivery.')
    assert json.loads(box.call("sessions_spawn", {"task": "t"}).text)["status"] == "error"
    assert box.call("sessions_yield", {}).text == '{\n  "status": "yielded",\n  "message": "Turn yielded."\n}'
    assert box.ctx.state["yielded"] == "Turn yielded."
    subs = json.loads(box.call("subagents", {}).text)
    assert subs["text"] == "active subagents:\n(none)\n\nrecent (last 30m):\n(none)" and subs["total"] == 0
    assert json.loads(box.call("subagents", {"action": "kill", "target": "2"}).text)["error"] == "Invalid subagent index: 2"
    assert box.call("subagents", {"action": "steer", "target": "x"}).text == envelope("subagents", "message required")


# ---------------------------------------------------------------- with a real sandbox


def test_memory_get_in_a_real_sandbox(sandbox: Any) -> None:
    box = ToolBox(ToolContext(sandbox=sandbox, workspace=sandbox.workspace), "openclaw")
    sandbox.write_file(f"{sandbox.workspace}/MEMORY.md", b"one\ntwo\nthree\n")
    sandbox.write_file(f"{sandbox.workspace}/memory/2026-01-05.md", "caf\u00e9\n".encode())
    assert json.loads(box.call("memory_get", {"path": "MEMORY.md"}).text) == {"text": "one\ntwo\nthree\n", "path": "MEMORY.md"}
    r = box.call("memory_get", {"path": "MEMORY.md", "from": "2", "lines": 1})
    assert r.text == '{\n  "text": "two",\n  "path": "MEMORY.md"\n}'
    assert json.loads(box.call("memory_get", {"path": f"{WS}/memory/2026-01-05.md"}).text)["text"] == "caf\u00e9\n"
    assert json.loads(box.call("memory_get", {"path": "memory/none.md"}).text) == {"text": "", "path": "memory/none.md"}
    for bad in ("notes.md", "../etc/passwd", "memory/x.txt", "memory"):
        assert json.loads(box.call("memory_get", {"path": bad}).text) == {
            "path": bad, "text": "", "disabled": True, "error": "path required"}, bad
    assert box.call("memory_get", {"path": "  "}).text == envelope("memory_get", "path required")


def test_core_tools_dispatch_in_a_real_sandbox(sandbox: Any) -> None:
    box = ToolBox(ToolContext(sandbox=sandbox, workspace=sandbox.workspace), "coding")
    assert [s["function"]["name"] for s in box.schemas] == ["read", "write", "edit", "exec", "process"]
    assert box.call("write", {"path": "a.txt", "content": "hello\n"}).ok
    r = box.call("exec", '{"command": "cat a.txt"}')
    assert (r.ok, r.text, r.tool) == (True, "hello", "exec")
    r = box.call("bash", {"command": "printf '%s' \"$PWD\""})  # repaired to exec
    assert r.text == WS
    r = box.call("read", {"path": "a.txt", "limit": "1"})  # "1" coerced before read sees it
    assert r.ok and r.text.startswith("hello")
    assert box.call("exec", {}).error_kind == "validation"
    assert box.call("read", {"path": "missing.txt"}).error_kind == "tool_error"


def test_openclaw_profile_schema_surface(sandbox: Any) -> None:
    box = ToolBox(ToolContext(sandbox=sandbox, workspace=sandbox.workspace), "openclaw")
    assert box.names == list(OPENCLAW_TOOL_NAMES)
    assert box.schemas == [schema_for(n) for n in OPENCLAW_TOOL_NAMES]


def test_rl_profile_dispatch_repairs_names_and_rejects_denied_tools() -> None:
    box = ToolBox(offline_ctx(openclaw_version="2026.4.1"), "rl")
    assert box.call("functions.subagents:0", {}).tool == "subagents"
    assert box.call("", {}, call_id="functions.sessions_yield:3").text == (
        '{\n  "status": "error",\n  "error": "No session context"\n}')
    for denied in ("web_search", "memory_search", "browser"):  # denied or not in OpenClaw's coding profile
        assert box.call(denied, {"query": "x"}).text == f"Tool {denied} not found"
    r = box.call("subagents", {"action": "destroy"})
    assert r.error_kind == "validation" and r.text.startswith(
        'Validation failed for tool "subagents":\n  - action: must be equal to one of the allowed values')
