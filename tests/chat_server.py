"""A stand-in for a model: a real OpenAI chat-completions HTTP server on 127.0.0.1 that answers from a script.

Everything between an agent and this server is real (the ``openai`` client, HTTP, JSON, timeouts,
status codes, headers); only the model is replaced, because no model can run in CI. Each request
to ``POST …/chat/completions`` takes the next scripted reply; the server records what it was sent so
tests can assert on the client's requests.

A reply is a dict: ``status`` (default 200), ``body`` (JSON), ``delay_s`` (sleep before answering,
to provoke client timeouts), ``retry_after`` (sets the ``Retry-After`` header) and ``headers``.
Build them with :func:`completion`, :func:`tool_call_reply`, :func:`text_reply`, :func:`error_reply`.
When the script runs out the server asks ``responder(body)`` if one was given (a reply chosen from
the request, for concurrent clients whose request order is not fixed), else answers 500 with
``stand-in model: script exhausted``.

    with ScriptedModelServer([text_reply("hi")]) as server:
        agent = OpenAIChatAgent(server.base_url, "stand-in")
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["RecordedRequest", "ScriptedModelServer", "completion", "error_reply", "text_reply", "tool_call_reply"]

STAND_IN_MODEL = "scripted-stand-in-model"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any
    received_at: float
    """``time.monotonic()`` when the request arrived."""


def completion(message: dict[str, Any], *, usage: dict[str, Any] | None = None, finish_reason: str | None = None,
               model: str = STAND_IN_MODEL) -> dict[str, Any]:
    """A 200 reply carrying one chat completion choice with ``message``."""
    if finish_reason is None:
        finish_reason = "tool_calls" if message.get("tool_calls") else "stop"
    body = {
        "id": f"chatcmpl-standin-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason,
                     "logprobs": None}],
        "usage": usage if usage is not None else {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }
    return {"status": 200, "body": body}


def tool_call_reply(calls: list[dict[str, Any]], content: str | None = None, **kw: Any) -> dict[str, Any]:
    """Native ``tool_calls`` (as a server with a tool parser returns them). Each call is
    ``{"name", "arguments", "id"?}``; arguments may be an object or a (possibly broken) JSON string."""
    wire = []
    for i, c in enumerate(calls):
        args = c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])
        wire.append({"id": c.get("id", f"chatcmpl-tool-{i}"), "type": "function",
                     "function": {"name": c["name"], "arguments": args}})
    return completion({"content": content, "tool_calls": wire}, **kw)


def text_reply(text: str, **kw: Any) -> dict[str, Any]:
    """Plain ``content`` (also how a server without a tool parser returns ``<tool_call>`` text)."""
    return completion({"content": text}, **kw)


def error_reply(status: int, message: str = "stand-in error", *, retry_after: str | None = None,
                delay_s: float = 0.0) -> dict[str, Any]:
    body = {"error": {"message": message, "type": "stand_in_error", "code": status}}
    return {"status": status, "body": body, "retry_after": retry_after, "delay_s": delay_s}


class ScriptedModelServer:
    """The stand-in model's HTTP server (threaded, loopback only, a free port)."""

    def __init__(self, script: list[dict[str, Any]] | None = None,
                 responder: Callable[[Any], dict[str, Any]] | None = None):
        self._script: deque[dict[str, Any]] = deque(script or [])
        self._responder = responder
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ script
    def push(self, *replies: dict[str, Any]) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_reply(self, body: Any = None) -> dict[str, Any]:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self._responder is not None:
            return self._responder(body)
        return error_reply(500, "stand-in model: script exhausted")

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ScriptedModelServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self, body: Any) -> None:
                with server._lock:
                    server.requests.append(RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                                           time.monotonic()))

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout) before the stand-in answered

            def do_GET(self) -> None:
                self._record(None)
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": STAND_IN_MODEL, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                self._record(body)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = server._next_reply(body)
                if reply.get("delay_s"):
                    time.sleep(reply["delay_s"])
                headers = dict(reply.get("headers") or {})
                if reply.get("retry_after") is not None:
                    headers["Retry-After"] = str(reply["retry_after"])
                self._send(int(reply.get("status", 200)), reply.get("body", {}), headers)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # a handler still sleeping through a delay must not hold up stop()
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stand-in-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
