"""The viewer's HTTP server: the static page and a small JSON API over one run (and a second to compare).

Standard library only (``http.server``), bound to 127.0.0.1: nothing to build, nothing fetched, so it
works offline on a fresh machine. The page (``static/``) is plain HTML/CSS/JS shipped in the package.

API (all GET, JSON):

- ``/api/runs``: the runs being viewed (``a``, and ``b`` when comparing)
- ``/api/episodes?run=a``: one summary per episode (the page filters and sorts them itself)
- ``/api/episode?run=a&id=EPISODE_ID``: one episode step by step (:func:`data.episode_view`)
- ``/api/compare``: per-episode reward deltas and first diverging turns, with a summary
"""

from __future__ import annotations

import json
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

from clawgym_env.viewer import VIEWER_PORT
from clawgym_env.viewer.data import Run, compare_rows, compare_summary, episode_view

DEFAULT_PORT = VIEWER_PORT
HOST = "127.0.0.1"
_STATIC = ("index.html", "app.js", "style.css")


class ViewerServer:
    """Serves ``runs`` (``{"a": Run, "b": Run?}``) on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(self, runs: dict[str, Run], port: int = DEFAULT_PORT):
        self.runs = runs
        self._static = {name: resources.files("clawgym_env.viewer").joinpath("static", name).read_bytes()
                        for name in _STATIC}
        self.httpd = ThreadingHTTPServer((HOST, port), self._handler())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}/"

    def start(self) -> Self:
        """Serve from a background thread (tests); :meth:`serve_forever` blocks instead."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="clawgym-viewer", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ API
    def api(self, route: str, query: dict[str, str]) -> Any:
        if route == "runs":
            return {key: run.info() for key, run in self.runs.items()}
        run = self.runs.get(query.get("run", "a"))
        if route in ("episodes", "episode") and run is None:
            raise KeyError(f"no run {query.get('run')!r}")
        assert run is not None or route == "compare"
        if route == "episodes":
            return run.episodes()  # type: ignore[union-attr]
        if route == "episode":
            record = run.record(query.get("id", ""))  # type: ignore[union-attr]
            initial, why = run.initial_files(record.task_id)  # type: ignore[union-attr]
            return episode_view(record, initial, why)
        if route == "compare":
            if "b" not in self.runs:
                raise KeyError("no second run to compare: start the viewer with --compare OTHER_RUN")
            rows = compare_rows(self.runs["a"], self.runs["b"])
            return {"rows": rows, "summary": compare_summary(rows)}
        raise KeyError(f"no API route {route!r}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path.startswith("/api/"):
                    try:
                        body, status = server.api(url.path[5:], query), 200
                    except KeyError as exc:
                        body, status = {"error": str(exc.args[0] if exc.args else exc)}, 404
                    except Exception as exc:  # noqa: BLE001 - the page shows it instead of hanging
                        body, status = {"error": f"{type(exc).__name__}: {exc}"}, 500
                    self._send(status, json.dumps(body, ensure_ascii=False, default=str).encode(),
                               "application/json; charset=utf-8")
                    return
                if url.path == "/favicon.ico":
                    self._send(204, b"", "image/x-icon")
                    return
                name = "index.html" if url.path in ("/", "/index.html") else url.path.lstrip("/")
                if name not in server._static:
                    self._send(404, b"not found", "text/plain")
                    return
                ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
                self._send(200, server._static[name], f"{ctype}; charset=utf-8")

        return Handler


def serve(path: str | Path, *, port: int = DEFAULT_PORT, compare: str | Path | None = None,
          suite: str | None = None) -> ViewerServer:
    """A started viewer over the run at ``path`` (and ``compare``)."""
    runs = {"a": Run(Path(path), suite=suite)}
    if compare is not None:
        runs["b"] = Run(Path(compare), suite=suite)
    return ViewerServer(runs, port=port).start()


__all__ = ["DEFAULT_PORT", "HOST", "ViewerServer", "serve"]
