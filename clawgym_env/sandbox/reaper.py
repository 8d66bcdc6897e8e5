"""The reaper: remove docker containers that nobody will ever close.

A container is leaked when the process that made it died without ``close()`` (``kill -9``, OOM,
a crashed node) or when it outlived its hard lifetime. Every container the docker backend makes is
labelled with its owner (host, pid, the pid's start time) and its deadline, so the reaper can tell:

- owner on this host whose pid is gone, or was reused by another process -> remove;
- deadline passed (any host) -> remove.

Run by ``clawgym sandbox gc`` and, in the background, whenever a DockerSandbox is created (at most
once a minute per process).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from clawgym_env.sandbox.docker import LABEL, _proc_start_ticks, docker_client

_AUTO_INTERVAL_S = 60.0
_auto_lock = threading.Lock()
_auto_last = 0.0


@dataclass
class Leaked:
    name: str
    reason: str


def _owner_gone(labels: dict[str, str], host: str) -> str | None:
    if labels.get(LABEL) != host:
        return None  # another machine's: only its deadline tells
    try:
        pid = int(labels.get("clawgym.owner_pid", ""))
    except ValueError:
        return "owner pid label missing"
    if not os.path.exists(f"/proc/{pid}"):
        return f"owner pid {pid} is dead"
    start = labels.get("clawgym.owner_start")
    if start and _proc_start_ticks(pid) not in ("", start):
        return f"owner pid {pid} was reused by another process"
    return None


def find_leaked(client: Any = None, *, now: float | None = None) -> list[Leaked]:
    """Containers with our labels whose owner is dead or whose lifetime passed."""
    client = client or docker_client()
    host = socket.gethostname()
    now = time.time() if now is None else now
    leaked = []
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        labels = c.get("Labels") or {}
        name = (c.get("Names") or [c["Id"]])[0].lstrip("/")
        reason = _owner_gone(labels, host)
        if reason is None:
            try:
                if float(labels.get("clawgym.deadline", "inf")) < now:
                    reason = "hard lifetime passed"
            except ValueError:
                reason = "bad deadline label"
        if reason is not None:
            leaked.append(Leaked(name, reason))
    return leaked


def reap(client: Any = None, *, dry_run: bool = False, now: float | None = None) -> list[Leaked]:
    """Remove leaked containers; returns what was (or, with ``dry_run``, would be) removed."""
    client = client or docker_client()
    leaked = find_leaked(client, now=now)
    if not dry_run:
        for item in leaked:
            with contextlib.suppress(Exception):  # gone meanwhile (another reaper): fine
                client.api.remove_container(item.name, force=True)
    return leaked


def reap_in_background() -> None:
    """Start one reaper pass on a daemon thread, at most once a minute per process."""
    global _auto_last
    with _auto_lock:
        if time.monotonic() - _auto_last < _AUTO_INTERVAL_S and _auto_last:
            return
        _auto_last = time.monotonic()

    def run() -> None:
        with contextlib.suppress(Exception):  # best effort; `clawgym sandbox gc` reports errors
            reap()

    threading.Thread(target=run, name="clawgym-reaper", daemon=True).start()
