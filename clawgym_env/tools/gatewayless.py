"""The rl profile's non-core tools, answering as the real OpenClaw does with no gateway and no network.

ClawGym-RL ran OpenClaw's own coding profile inside a sandbox where no gateway listens on
``ws://127.0.0.1:18789`` and DNS fails. So every tool that needs the gateway answers with the gateway's
close error (as an envelope, or inside the tool's own JSON where OpenClaw catches it), after the checks
OpenClaw makes before calling it; sessions_yield has no session context; the session store is empty.
memory_get reads the workspace (the agent's workspace) as OpenClaw's builtin memory backend does.
The texts follow OpenClaw 2026.3.24 and 2026.4.1 (``src/agents/tools/*``), which agree on these tools.
The gateway-emulating tools of the ``openclaw`` profile live in :mod:`clawgym_env.tools.stubs`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from clawgym_env.tools import stubs
from clawgym_env.tools.context import ToolContext, ToolError

__all__ = ["GATEWAYLESS_TOOLS", "gateway_closed_message"]

REQUESTER_KEY = "agent:main:main"
"""The session key OpenClaw's tools run under (agent ``main``, main key ``main``)."""
GATEWAY_PORT = 18789
DEFAULT_CONFIG_PATH = "/root/.openclaw/openclaw.json"

json_result = stubs.json_result
_str_param = stubs._str_param
_int_param = stubs._int_param


def _config_path(ctx: ToolContext) -> str:
    return str(ctx.state.get("openclaw_config_path", DEFAULT_CONFIG_PATH))


def gateway_closed_message(ctx: ToolContext, url_override: str | None = None) -> str:
    """callGateway's error when nothing listens (``formatGatewayCloseError`` with the connection details)."""
    if url_override:
        details = f"Gateway target: {url_override}\nSource: cli --url\nConfig: {_config_path(ctx)}"
    else:
        details = (f"Gateway target: ws://127.0.0.1:{GATEWAY_PORT}\nSource: local loopback\n"
                   f"Config: {_config_path(ctx)}\nBind: loopback")
    return f"gateway closed (1006 abnormal closure (no close frame)): no close reason\n{details}"


# ---------------------------------------------------------------- session keys (src/sessions, src/routing)

_SESSION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_VALID_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$", re.IGNORECASE)


def _js_trim(s: str) -> str:
    return s.strip(" \t\n\r\x0b\x0c\u00a0\ufeff\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                   "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _normalize_agent_id(value: str | None) -> str:
    trimmed = _js_trim(value or "")
    if not trimmed:
        return "main"
    if _VALID_ID_RE.match(trimmed):
        return trimmed.lower()
    out = re.sub(r"[^a-z0-9_-]+", "-", trimmed.lower())
    return re.sub(r"-+$", "", re.sub(r"^-+", "", out))[:64] or "main"


def _agent_of(key: str) -> str:
    """resolveAgentIdFromSessionKey: agent:<id>:<rest> (case-insensitive), else main."""
    parts = [p for p in _js_trim(key).lower().split(":") if p]
    agent = parts[1].strip() if len(parts) >= 3 and parts[0] == "agent" and parts[1].strip() else None
    return _normalize_agent_id(agent or "main")


def _looks_like_key(value: str) -> bool:
    raw = _js_trim(value)
    if not raw:
        return False
    if raw in ("main", "global", "unknown", "current") or raw.startswith(("agent:", "cron:", "hook:", "node-", "node:")):
        return True
    lowered = raw.lower()
    if lowered.startswith("acp:") or (lowered.startswith("agent:") and ":acp:" in lowered):
        return True
    return ":group:" in raw or ":channel:" in raw


def _needs_session_id_lookup(value: str) -> bool:
    return bool(_SESSION_ID_RE.match(_js_trim(value))) or not _looks_like_key(value)


def _display_key(key: str) -> str:
    return "main" if key == "main" else key


def _resolve_reference(ctx: ToolContext, session_key: str) -> tuple[str, str] | dict[str, Any]:
    """resolveSessionReference with no gateway: (key, display key), or the failure payload."""
    raw = _js_trim(session_key)
    if raw == "current":
        raw = REQUESTER_KEY
    if _needs_session_id_lookup(raw):
        return {"status": "error", "error": gateway_closed_message(ctx)}
    key = "main" if raw == "main" else raw
    return key, _display_key(key)


def _visibility_error(action: str, key: str) -> str | None:
    """The session visibility guard (tools.sessions.visibility=tree, agent-to-agent off, no spawned sessions)."""
    prefix = {"history": "Session history", "send": "Session send"}[action]
    if _agent_of(key) != "main":
        return f"{prefix} visibility is restricted. Set tools.sessions.visibility=all to allow cross-agent access."
    if key != REQUESTER_KEY:
        return f"{prefix} visibility is restricted to the current session tree (tools.sessions.visibility=tree)."
    return None


# ---------------------------------------------------------------- cron


def _canonical_ws_url(raw: str) -> tuple[str, str]:
    """canonicalizeToolGatewayWsUrl: (origin, protocol//host) or ToolError with OpenClaw's text."""
    text = _js_trim(raw)
    try:
        parts = urlsplit(text)
        port = parts.port
        ok = bool(parts.scheme) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*$", parts.scheme) is not None and (
            parts.scheme.lower() not in ("ws", "wss", "http", "https") or bool(parts.hostname))
    except ValueError:
        ok, port = False, None
    if not ok:
        raise ToolError(f"invalid gatewayUrl: {text} (Invalid URL)")
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ToolError(f"invalid gatewayUrl protocol: {scheme}: (expected ws:// or wss://)")
    if parts.username is not None or parts.password is not None:
        raise ToolError("invalid gatewayUrl: credentials are not allowed")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ToolError("invalid gatewayUrl: query/hash not allowed")
    if parts.path not in ("", "/"):
        raise ToolError("invalid gatewayUrl: path not allowed")
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = 80 if scheme == "ws" else 443
    hostport = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{hostport}", f"{scheme}://{hostport}"


def _cron_gateway_error(ctx: ToolContext, args: dict[str, Any]) -> ToolError:
    url = args.get("gatewayUrl")
    token = args.get("gatewayToken")
    if isinstance(url, str) and _js_trim(url):
        origin, key = _canonical_ws_url(url)
        allowed = {f"{p}://{h}:{GATEWAY_PORT}" for p in ("ws", "wss") for h in ("127.0.0.1", "localhost", "[::1]")}
        if key not in allowed:
            raise ToolError("gatewayUrl override rejected. Allowed: ws(s) loopback on port 18789 "
                            "(127.0.0.1/localhost/[::1]) Or: configure gateway.remote.url and omit gatewayUrl to "
                            "use the configured remote gateway.")
        if not (isinstance(token, str) and _js_trim(token)):
            raise ToolError("gateway url override requires explicit credentials\nFix: pass --token or --password "
                            f"(or gatewayToken in tools).\nConfig: {_config_path(ctx)}")
        return ToolError(gateway_closed_message(ctx, origin))
    return ToolError(gateway_closed_message(ctx))


_JOB_KEYS = ("name", "schedule", "sessionTarget", "wakeMode", "payload", "delivery", "enabled", "description",
             "deleteAfterRun", "agentId", "sessionKey", "message", "text", "model", "thinking", "timeoutSeconds",
             "allowUnsafeExternalContent")
_PATCH_KEYS = ("name", "schedule", "payload", "delivery", "enabled", "description", "deleteAfterRun", "agentId",
               "sessionKey", "sessionTarget", "wakeMode", "failureAlert", "allowUnsafeExternalContent")


def _valid_http_url(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _payload_kind(job: dict[str, Any]) -> str | None:
    payload = job.get("payload")
    if isinstance(payload, dict):
        kind = payload.get("kind")
        if isinstance(kind, str):
            return kind
        if isinstance(payload.get("message"), str):
            return "agentTurn"
        if isinstance(payload.get("text"), str):
            return "systemEvent"
    elif isinstance(job.get("message"), str):
        return "agentTurn"
    elif isinstance(job.get("text"), str):
        return "systemEvent"
    return None


def _js_truthy(value: Any) -> bool:
    return not (value is None or value is False or value == "" or (isinstance(value, (int, float)) and value == 0))


def cron_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """OpenClaw's cron tool: its argument checks, then the gateway (none listens)."""
    action = _str_param(args, "action", required=True)

    def job_id() -> str:
        found = _str_param(args, "jobId") or _str_param(args, "id")
        if not found:
            raise ToolError("jobId required (id accepted for backward compatibility)")
        return found

    if action in ("status", "list"):
        pass
    elif action == "add":
        job = args.get("job")
        if not _js_truthy(job) or job == {}:
            synthetic = {k: args[k] for k in args if k in _JOB_KEYS and args[k] is not None}
            if synthetic and any(k in synthetic for k in ("schedule", "payload", "message", "text")):
                job = synthetic
        if not _js_truthy(job) or not isinstance(job, (dict, list)):
            raise ToolError("job required")
        if isinstance(job, dict) and _payload_kind(job) == "agentTurn":
            delivery = job.get("delivery")
            mode = delivery.get("mode") if isinstance(delivery, dict) else None
            if isinstance(mode, str) and mode.strip().lower() == "webhook" and not _valid_http_url(delivery.get("to")):
                raise ToolError('delivery.mode="webhook" requires delivery.to to be a valid http(s) URL')
    elif action == "update":
        job_id()
        patch = args.get("patch")
        if not _js_truthy(patch) or patch == {}:
            synthetic = {k: args[k] for k in args if k in _PATCH_KEYS and args[k] is not None}
            if synthetic:
                patch = synthetic
        if not _js_truthy(patch) or not isinstance(patch, (dict, list)):
            raise ToolError("patch required")
    elif action in ("remove", "run", "runs"):
        job_id()
    elif action == "wake":
        _str_param(args, "text", required=True)
    else:
        raise ToolError(f"Unknown action: {action}")
    raise _cron_gateway_error(ctx, args)


# ---------------------------------------------------------------- sessions_*


def sessions_list_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """sessions.list needs the gateway."""
    raise ToolError(gateway_closed_message(ctx))


def sessions_history_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    key_param = _str_param(args, "sessionKey", required=True)
    assert key_param is not None
    resolved = _resolve_reference(ctx, key_param)
    if isinstance(resolved, dict):
        return json_result(resolved)
    key, _display = resolved
    error = _visibility_error("history", key)
    if error:
        return json_result({"status": "forbidden", "error": error})
    raise ToolError(gateway_closed_message(ctx))  # chat.history


def sessions_send_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    _str_param(args, "message", required=True)
    key_param = _str_param(args, "sessionKey")
    label = _str_param(args, "label")
    label_agent = _str_param(args, "agentId")

    def result(status: str, error: str, session_key: str | None = None) -> str:
        return json_result({"runId": str(uuid.uuid4()), "status": status, "error": error, "sessionKey": session_key})

    if key_param and label:
        return result("error", "Provide either sessionKey or label (not both).")
    if not key_param and label:
        if label_agent and _normalize_agent_id(label_agent) != "main":
            return result("forbidden", "Agent-to-agent messaging is disabled. Set tools.agentToAgent.enabled=true "
                                       "to allow cross-agent sends.")
        return result("error", gateway_closed_message(ctx))  # sessions.resolve by label
    if not key_param:
        return result("error", "Either sessionKey or label is required")
    resolved = _resolve_reference(ctx, key_param)
    if isinstance(resolved, dict):
        return result(resolved["status"], resolved["error"])
    key, display = resolved
    error = _visibility_error("send", key)
    if error:
        return result("forbidden", error, display)
    return result("error", gateway_closed_message(ctx), display)  # agent run


def sessions_yield_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """OpenClaw's tools get no session id outside a gateway run, so there is nothing to yield."""
    return json_result({"status": "error", "error": "No session context"})


_UNSUPPORTED_SPAWN_KEYS = ("target", "transport", "channel", "to", "threadId", "thread_id", "replyTo", "reply_to")
_THINK_LEVELS = "off, minimal, low, medium, high, adaptive"


def _think_level(raw: str) -> str | None:
    key = _js_trim(raw).lower()
    collapsed = re.sub(r"[\s_-]+", "", key)
    if collapsed in ("adaptive", "auto"):
        return "adaptive"
    if collapsed in ("xhigh", "extrahigh"):
        return "xhigh"
    table = {"off": "off", "on": "low", "enable": "low", "enabled": "low", "min": "minimal", "minimal": "minimal",
             "low": "low", "thinkhard": "low", "think-hard": "low", "think_hard": "low", "mid": "medium",
             "med": "medium", "medium": "medium", "thinkharder": "medium", "think-harder": "medium",
             "harder": "medium", "high": "high", "ultra": "high", "ultrathink": "high", "thinkhardest": "high",
             "highest": "high", "max": "high", "think": "minimal"}
    return table.get(key)


def sessions_spawn_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    for k in _UNSUPPORTED_SPAWN_KEYS:
        if k in args:
            raise ToolError(f'sessions_spawn does not support "{k}". Use "message" or "sessions_send" for channel delivery.')
    _str_param(args, "task", required=True)
    runtime = "acp" if args.get("runtime") == "acp" else "subagent"
    agent_id = _str_param(args, "agentId")
    thread = args.get("thread") is True
    requested_mode = args.get("mode")
    mode = requested_mode if requested_mode in ("run", "session") else ("session" if thread else "run")
    if args.get("streamTo") == "parent" and runtime != "acp":
        return json_result({"status": "error", "error": f"streamTo is only supported for runtime=acp; got runtime={runtime}"})
    if _str_param(args, "resumeSessionId") and runtime != "acp":
        return json_result({"status": "error", "error": f"resumeSessionId is only supported for runtime=acp; got runtime={runtime}"})
    if runtime == "acp":
        attachments = args.get("attachments")
        if isinstance(attachments, list) and attachments:
            return json_result({"status": "error", "error": "attachments are currently unsupported for runtime=acp; "
                                                            "use runtime=subagent or remove attachments"})
        if args.get("sandbox") == "require":
            return json_result({"status": "forbidden", "error": 'sessions_spawn sandbox="require" is unsupported for '
                                'runtime="acp" because ACP sessions run outside the sandbox. Use runtime="subagent" or '
                                'sandbox="inherit".'})
        if mode == "session" and not thread:
            return json_result({"status": "error", "error": 'mode="session" requires thread=true so the ACP session '
                                                            'can stay bound to a thread.'})
        if not agent_id:
            return json_result({"status": "error", "error": "ACP target agent is not configured. Pass `agentId` in "
                                                            "`sessions_spawn` or set `acp.defaultAgent` in config."})
        return json_result({"status": "error", "error": gateway_closed_message(ctx)})  # the ACP session's init
    if agent_id and not _VALID_ID_RE.match(agent_id):
        return json_result({"status": "error", "error": f'Invalid agentId "{agent_id}". Agent IDs must match '
                            "[a-z0-9][a-z0-9_-]{0,63}. Use agents_list to discover valid targets."})
    if mode == "session" and not thread:
        return json_result({"status": "error", "error": 'mode="session" requires thread=true so the subagent can '
                                                        'stay bound to a thread.'})
    target = _normalize_agent_id(agent_id) if agent_id else "main"
    if target != "main":
        return json_result({"status": "forbidden", "error": "agentId is not allowed for sessions_spawn (allowed: none)"})
    if args.get("sandbox") == "require":
        return json_result({"status": "forbidden", "error": 'sessions_spawn sandbox="require" needs a sandboxed target '
                            'runtime. Pick a sandboxed agentId or use sandbox="inherit".'})
    thinking = _str_param(args, "thinking")
    if thinking and _think_level(thinking) is None:
        return json_result({"status": "error", "error": f'Invalid thinking level "{thinking}". Use one of: {_THINK_LEVELS}.'})
    return json_result({"status": "error", "error": gateway_closed_message(ctx),
                        "childSessionKey": f"agent:{target}:subagent:{uuid.uuid4()}"})


def session_status_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """The session store is empty outside a gateway run, so every key is unknown."""
    raw = _str_param(args, "sessionKey") or REQUESTER_KEY
    if raw.startswith("agent:") and _agent_of(raw) != "main":
        raise ToolError("Agent-to-agent status is disabled. Set tools.agentToAgent.enabled=true to allow cross-agent access.")
    kind = "sessionId" if _needs_session_id_lookup(raw) else "sessionKey"
    raise ToolError(f"Unknown {kind}: {raw}")


# ---------------------------------------------------------------- web_fetch, memory_get


def web_fetch_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """URL and SSRF checks as OpenClaw, then the resolver's answer with no network."""
    url = _str_param(args, "url", required=True)
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ToolError("Invalid URL: must be http or https")
    if stubs._blocked_host(parts.hostname):
        raise ToolError("Blocked hostname or private/internal/special-use IP address")
    host = parts.hostname
    try:
        host = host.encode("idna").decode("ascii")  # the URL parser's punycode form
    except UnicodeError:
        pass
    # glibc refuses names longer than 255 before asking any resolver
    raise ToolError(f"getaddrinfo {'EINVAL' if len(host) > 255 else 'ENOTFOUND'} {host}")


GATEWAYLESS_TOOLS: dict[str, Callable[[ToolContext, dict[str, Any]], str]] = {
    "cron": cron_tool,
    "sessions_list": sessions_list_tool,
    "sessions_history": sessions_history_tool,
    "sessions_send": sessions_send_tool,
    "sessions_yield": sessions_yield_tool,
    "sessions_spawn": sessions_spawn_tool,
    "subagents": stubs.subagents_tool,  # an empty run registry answers the same with or without a gateway
    "session_status": session_status_tool,
    "web_fetch": web_fetch_tool,
    "memory_get": stubs.memory_get_tool,
}
"""Implementations of the rl-profile tools that are not read/write/edit/exec/process."""
