"""The rl profile's non-core tools answer as the real OpenClaw does with no gateway and no network.

The expected texts were taken from the real ``openclaw@2026.3.24`` / ``@2026.4.1`` tools (see
tests/openclaw_real/cases_tools.py, which checks them byte for byte when OpenClaw is installed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from clawgym_env.tools import ToolBox, ToolContext
from clawgym_env.tools.context import error_envelope
from clawgym_env.tools.gatewayless import GATEWAYLESS_TOOLS, gateway_closed_message
from clawgym_env.tools.schemas import RL_TOOL_NAMES
from clawgym_env.tools.versions import OPENCLAW_VERSIONS

WS = "/root/.openclaw/workspace"
CONFIG = "/tmp/home/.openclaw/openclaw.json"
CLOSED = ("gateway closed (1006 abnormal closure (no close frame)): no close reason\nGateway target: "
          f"ws://127.0.0.1:18789\nSource: local loopback\nConfig: {CONFIG}\nBind: loopback")


def rl_box(version: str = "2026.3.24", sandbox: Any = None, workspace: str = WS) -> ToolBox:
    ctx = ToolContext(sandbox=sandbox, workspace=workspace, openclaw_version=version)
    ctx.state["openclaw_config_path"] = CONFIG
    return ToolBox(ctx, "rl")


def text(box: ToolBox, name: str, args: Any) -> str:
    return box.call(name, args).text


def test_rl_profile_uses_the_gatewayless_tools() -> None:
    box = rl_box()
    assert box.names == list(RL_TOOL_NAMES)
    assert set(GATEWAYLESS_TOOLS) == set(RL_TOOL_NAMES) - {"read", "edit", "write", "exec", "process"}
    for name, fn in GATEWAYLESS_TOOLS.items():
        assert box._impls[name] is fn
    assert gateway_closed_message(ToolContext(sandbox=None, workspace=WS)).endswith(  # type: ignore[arg-type]
        "Config: /root/.openclaw/openclaw.json\nBind: loopback")


@pytest.mark.parametrize("version", OPENCLAW_VERSIONS)
def test_gateway_tools_fail_with_the_close_error(version: str) -> None:
    box = rl_box(version)
    assert text(box, "sessions_list", {"limit": 3}) == error_envelope("sessions_list", CLOSED)
    assert text(box, "cron", {"action": "status"}) == error_envelope("cron", CLOSED)
    assert text(box, "sessions_history", {"sessionKey": "agent:main:main"}) == error_envelope("sessions_history", CLOSED)
    spawn = json.loads(text(box, "sessions_spawn", {"task": "t"}))
    assert spawn["error"] == CLOSED and spawn["childSessionKey"].startswith("agent:main:subagent:")


def test_cron_checks_before_the_gateway() -> None:
    box = rl_box()
    env = lambda msg: error_envelope("cron", msg)
    assert text(box, "cron", {"action": "add"}) == env("job required")
    assert text(box, "cron", {"action": "add", "job": {}}) == env(CLOSED)  # {} is truthy in JS
    assert text(box, "cron", {"action": "update", "jobId": "j"}) == env("patch required")
    assert text(box, "cron", {"action": "update", "id": "j", "enabled": False}) == env(CLOSED)  # flat patch
    assert text(box, "cron", {"action": "runs"}) == env("jobId required (id accepted for backward compatibility)")
    assert text(box, "cron", {"action": "wake"}) == env("text required")
    assert text(box, "cron", {"action": "add", "job": {"payload": {"kind": "agentTurn", "message": "m"},
                                                       "delivery": {"mode": "webhook", "to": "nope"}}}) == env(
        'delivery.mode="webhook" requires delivery.to to be a valid http(s) URL')
    assert text(box, "cron", {"action": "status", "gatewayUrl": "http://127.0.0.1:18789"}) == env(
        "invalid gatewayUrl protocol: http: (expected ws:// or wss://)")
    assert text(box, "cron", {"action": "status", "gatewayUrl": "ws://localhost:18789"}) == env(
        "gateway url override requires explicit credentials\nFix: pass --token or --password (or gatewayToken in "
        f"tools).\nConfig: {CONFIG}")
    assert text(box, "cron", {"action": "list", "gatewayUrl": "ws://localhost:18789", "gatewayToken": "t"}) == env(
        "gateway closed (1006 abnormal closure (no close frame)): no close reason\nGateway target: "
        f"ws://localhost:18789\nSource: cli --url\nConfig: {CONFIG}")
    assert "override rejected" in text(box, "cron", {"action": "status", "gatewayUrl": "ws://example.com:18789"})


def test_session_references_and_visibility() -> None:
    box = rl_box("2026.4.1")
    tree = "Session history visibility is restricted to the current session tree (tools.sessions.visibility=tree)."
    assert json.loads(text(box, "sessions_history", {"sessionKey": "main"})) == {"status": "forbidden", "error": tree}
    assert json.loads(text(box, "sessions_history", {"sessionKey": "agent:ops:main"}))["error"] == (
        "Session history visibility is restricted. Set tools.sessions.visibility=all to allow cross-agent access.")
    # not key-shaped (or a session id): resolved through the gateway, whose error comes back as JSON
    assert json.loads(text(box, "sessions_history", {"sessionKey": "my-session"})) == {"status": "error", "error": CLOSED}
    sent = json.loads(text(box, "sessions_send", {"sessionKey": "current", "message": "hi"}))
    assert (sent["status"], sent["error"], sent["sessionKey"]) == ("error", CLOSED, "agent:main:main")
    sent = json.loads(text(box, "sessions_send", {"label": "b", "agentId": "ops", "message": "hi"}))
    assert sent["status"] == "forbidden" and "Agent-to-agent messaging is disabled" in sent["error"]
    assert json.loads(text(box, "sessions_yield", {"message": "m"})) == {"status": "error", "error": "No session context"}
    assert text(box, "session_status", {}) == error_envelope("session_status", "Unknown sessionKey: agent:main:main")
    assert text(box, "session_status", {"sessionKey": "my-session"}) == error_envelope(
        "session_status", "Unknown sessionId: my-session")
    assert json.loads(text(box, "subagents", {"action": "kill", "target": "last"}))["error"] == "Unknown subagent target."


def test_spawn_checks() -> None:
    box = rl_box()
    err = lambda args: json.loads(text(box, "sessions_spawn", {"task": "t", **args}))
    assert err({"agentId": "ops"}) == {"status": "forbidden",
                                       "error": "agentId is not allowed for sessions_spawn (allowed: none)"}
    assert err({"thinking": "galaxy"})["error"] == (
        'Invalid thinking level "galaxy". Use one of: off, minimal, low, medium, high, adaptive.')
    assert err({"thinking": "ultra"})["error"] == CLOSED
    assert err({"runtime": "acp"})["error"].startswith("ACP target agent is not configured.")
    assert err({"runtime": "acp", "agentId": "codex"}) == {"status": "error", "error": CLOSED}
    assert err({"sandbox": "require"})["status"] == "forbidden"


def test_web_fetch_without_network() -> None:
    box = rl_box()
    env = lambda msg: error_envelope("web_fetch", msg)
    assert text(box, "web_fetch", {"url": "https://Docs.Example.com/x"}) == env("getaddrinfo ENOTFOUND docs.example.com")
    assert text(box, "web_fetch", {"url": "https://héllo.com/"}) == env("getaddrinfo ENOTFOUND xn--hllo-bpa.com")
    assert text(box, "web_fetch", {"url": "https://" + "a" * 300 + ".com"}) == env(f"getaddrinfo EINVAL {'a' * 300}.com")
    assert text(box, "web_fetch", {"url": "http://10.1.2.3/"}) == env(
        "Blocked hostname or private/internal/special-use IP address")
    assert text(box, "web_fetch", {"url": "ftp://x.org/"}) == env("Invalid URL: must be http or https")


def test_memory_get_reads_the_workspace(sandbox: Any) -> None:
    box = rl_box("2026.4.1", sandbox, sandbox.workspace)
    sandbox.write_file(f"{sandbox.workspace}/memory/a.md", b"one\ntwo\n")
    assert text(box, "memory_get", {"path": "./memory/a.md", "from": 2, "lines": 1}) == (
        '{\n  "text": "two",\n  "path": "memory/a.md"\n}')
    assert json.loads(text(box, "memory_get", {"path": "notes.md"}))["error"] == "path required"
