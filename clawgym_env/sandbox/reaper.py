"""The reaper: remove what a driver that died without ``close()`` left behind, on every backend.

A driver killed with ``kill -9`` (OOM, a crashed node) leaves its docker containers running and
its host folders (workspaces of both backends, docker ``.out`` folders, verifier folders, the
runtime folder, a nosuid mount) in place. Both carry their owner, so the reaper can tell:

- containers are labelled with owner host, pid, the pid's start time and a deadline: owner on this
  host whose pid is gone or was reused by another process -> remove; deadline passed (any host) ->
  remove;
- host folders live in a per-process folder named after its owner (see hostdirs.py): owner on this
  host gone (same test) -> unmount, remove (also what the agent made read-only or very deep).
  Only folders of our own euid are considered; a live driver's are never touched.

- sandbox cgroups (cgroups.py) named after a driver pid that is gone -> processes killed, removed.

Containers and cgroups go first, so that nothing writes into a workspace while it is removed.

Run by ``clawgym sandbox gc`` and, in the background, at a driver's start-up: when it makes its
first host folder (folders) and whenever it creates a DockerSandbox (containers and folders), at
most once a minute per process for each.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.docker_api import LABEL, docker_client
from clawgym_env.sandbox.hostdirs import (
    mounted_at,
    parse_owner,
    proc_start_ticks,
    remove_tree,
    runtime_base,
    umount,
    workspace_base,
)

_AUTO_INTERVAL_S = 60.0
_auto_lock = threading.Lock()
_auto_last: dict[str, float] = {}


@dataclass
class Leaked:
    name: str
    reason: str
    kind: str = "container"
    """``container``, ``cgroup`` or ``folder``."""


@dataclass
class GcReport:
    """What one gc pass found (and, unless a dry run, removed)."""

    leaked: list[Leaked] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """What could not be checked or removed (e.g. no docker engine): reported, not raised."""


# --------------------------------------------------------------------------- containers
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
    if start and proc_start_ticks(pid) not in ("", start):
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


# --------------------------------------------------------------------------- host folders
def gc_bases() -> list[Path]:
    """The folders drivers with this environment make their per-process folders in."""
    bases: list[Path] = []
    for base in (workspace_base(), runtime_base()):
        if base not in bases:
            bases.append(base)
    return bases


def find_leaked_dirs(bases: list[Path] | None = None) -> list[Leaked]:
    """Per-process folders of our euid whose owner process on this host is gone."""
    leaked = []
    for base in gc_bases() if bases is None else bases:
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            owner = parse_owner(entry.name)
            if owner is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
                continue  # a link, or someone else's: never ours to remove
            reason = owner.gone()
            if reason is not None:
                leaked.append(Leaked(entry.path, reason, kind="folder"))
    return leaked


def reap_dirs(bases: list[Path] | None = None, *, dry_run: bool = False) -> GcReport:
    """Unmount and remove orphaned per-process folders."""
    report = GcReport(find_leaked_dirs(bases))
    if not dry_run:
        for item in report.leaked:
            path = Path(item.name)
            try:
                while mounted_at(path):  # the nosuid bind the owner made
                    umount(str(path))
                remove_tree(path)
            except OSError as exc:
                report.errors.append(f"could not remove {path}: {exc}")
    return report


# --------------------------------------------------------------------------- both
def collect(*, dry_run: bool = False, docker: bool = True, now: float | None = None) -> GcReport:
    """One gc pass: leaked containers (when ``docker`` and an engine answers), orphaned sandbox
    cgroups, then folders."""
    report = GcReport()
    if docker:
        try:
            report.leaked += reap(dry_run=dry_run, now=now)
        except Exception as exc:  # noqa: BLE001 - no SDK, no engine: the folders are still collected
            report.errors.append(f"docker containers not checked: {exc}")
    try:  # bwrap sandboxes' cgroups (cgroups.py): kills what is left in them, then removes them
        from clawgym_env.sandbox import cgroups

        report.leaked += [Leaked(str(d), "owner pid is dead", kind="cgroup")
                          for d in cgroups.remove_orphans(dry_run=dry_run)]
    except Exception as exc:  # noqa: BLE001 - reported, the folders are still collected
        report.errors.append(f"cgroups not checked: {exc}")
    folders = reap_dirs(dry_run=dry_run)
    report.leaked += folders.leaked
    report.errors += folders.errors
    return report


def collect_in_background(*, docker: bool) -> None:
    """Start one gc pass on a daemon thread, at most once a minute per process for each kind."""
    kind = "docker" if docker else "folders"
    with _auto_lock:
        last = _auto_last.get(kind)
        if last is not None and time.monotonic() - last < _AUTO_INTERVAL_S:
            return
        _auto_last[kind] = time.monotonic()
        if docker:  # a docker pass collects folders too
            _auto_last["folders"] = _auto_last[kind]

    def run() -> None:
        with contextlib.suppress(Exception):  # best effort; `clawgym sandbox gc` reports errors
            collect(docker=docker)

    threading.Thread(target=run, name="clawgym-reaper", daemon=True).start()


def reap_in_background() -> None:
    """Containers and folders, in the background (what creating a DockerSandbox runs)."""
    collect_in_background(docker=True)
