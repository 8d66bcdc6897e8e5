"""Per-sandbox cgroups: one total memory, pids and cpu cap for everything a sandbox runs.

rlimits are per process (RLIMIT_AS) or per uid (RLIMIT_NPROC), so three processes of one sandbox
could take 3x the memory cap, and files in tmpfs (host RAM) were not counted at all. A cgroup caps
the sum: every process of the sandbox (bwrap, the server, the agent's commands, slirp4netns) is
born into it (the launcher joins it between fork and exec), and tmpfs pages are charged to the
cgroup of the process that wrote them, so a full ``/tmp`` counts against the same cap. Past the
memory cap the kernel's OOM killer kills inside the cgroup only (the largest process first); the
host and other sandboxes are unaffected.

Which hierarchy, in this order:

- **cgroup v2** when the unified hierarchy owns the ``memory`` and ``pids`` controllers and the
  parent (``$CLAWGYM_CGROUP_PARENT``, else the driver's own cgroup) is writable with those
  controllers enabled for its children (a delegated subtree; cgroup v2 forbids enabling them in a
  cgroup that itself holds processes, so run the driver in a leaf of a delegated subtree and name
  the subtree's root in ``$CLAWGYM_CGROUP_PARENT``);
- **cgroup v1** when the ``memory`` and ``pids`` hierarchies are mounted writable (root on a hybrid
  or legacy host; ``cpu`` and ``freezer`` are used when mounted too), below the driver's own cgroup
  in each;
- **none** otherwise: sandboxes still start, with per-process rlimits only (see README,
  "Resource limits"); :func:`support` says why.

Names: ``clawgym-<driver pid>-<n>``, so a leftover of a driver that died (``kill -9``) can be told
from a live one: :func:`remove_orphans` (``clawgym sandbox gc``) removes those whose pid is gone.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "clawgym-"
NAME_RE = re.compile(r"^clawgym-(\d+)-(\d+)$")
"""``clawgym-<owner pid>-<n>``: the owner pid is the driver process that made it."""
CPU_PERIOD_US = 100_000
_REQUIRED = ("memory", "pids")
_V1_CONTROLLERS = ("memory", "pids", "cpu", "freezer")
_counter = itertools.count()
_counter_lock = threading.Lock()
_warned = False


@dataclass(frozen=True)
class _Hierarchy:
    version: int
    parents: dict[str, Path]
    """controller -> directory under which sandbox cgroups are made (v2: one directory for all)."""


@dataclass(frozen=True)
class _Mount:
    root: str
    mountpoint: Path
    fstype: str
    super_options: frozenset[str]


def _unescape(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def _mounts() -> list[_Mount]:
    out = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 3 or rf[0] not in ("cgroup", "cgroup2"):
            continue
        out.append(_Mount(_unescape(lf[3]), Path(_unescape(lf[4])), rf[0], frozenset(rf[2].split(","))))
    return out


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path ("" for the unified hierarchy)."""
    own: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctrl in parts[1].split(",") if parts[1] else [""]:
            own[ctrl] = parts[2]
    return own


def _below(mount: _Mount, cgroup_path: str) -> Path | None:
    """The directory of ``cgroup_path`` under ``mount`` (None when the mount does not show it)."""
    root = mount.root.rstrip("/")
    if cgroup_path != root and not cgroup_path.startswith(root + "/"):
        return None
    return mount.mountpoint / cgroup_path[len(root):].lstrip("/")


def _try_v2(mounts: list[_Mount], own: dict[str, str]) -> tuple[_Hierarchy | None, str]:
    v2 = [m for m in mounts if m.fstype == "cgroup2"]
    if not v2:
        return None, "no cgroup2 mount"
    override = os.environ.get("CLAWGYM_CGROUP_PARENT")
    if override:
        parent: Path | None = Path(override)
    else:
        parent = _below(v2[0], own.get("", "/")) if "" in own else None
    if parent is None or not parent.is_dir():
        return None, f"cgroup v2: parent {parent} not found"
    try:
        available = set((parent / "cgroup.controllers").read_text().split())
    except OSError as exc:
        return None, f"cgroup v2: {exc}"
    missing = [c for c in _REQUIRED if c not in available]
    if missing:
        return None, f"cgroup v2: controllers {missing} not available in {parent} (held by cgroup v1)"
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
    except OSError as exc:
        return None, f"cgroup v2: {exc}"
    for ctrl in ("memory", "pids", "cpu"):
        if ctrl in available and ctrl not in enabled:
            try:
                (parent / "cgroup.subtree_control").write_text(f"+{ctrl}")
                enabled.add(ctrl)
            except OSError as exc:
                if ctrl in _REQUIRED:
                    return None, (f"cgroup v2: cannot enable {ctrl} for the children of {parent} ({exc}); "
                                  f"set $CLAWGYM_CGROUP_PARENT to a delegated cgroup that holds no process")
    if not os.access(parent, os.W_OK):
        return None, f"cgroup v2: {parent} is not writable"
    return _Hierarchy(2, {c: parent for c in ("memory", "pids", "cpu") if c in enabled}), "cgroup v2"


def _try_v1(mounts: list[_Mount], own: dict[str, str]) -> tuple[_Hierarchy | None, str]:
    parents: dict[str, Path] = {}
    for ctrl in _V1_CONTROLLERS:
        for m in mounts:
            if m.fstype == "cgroup" and ctrl in m.super_options and ctrl in own:
                d = _below(m, own[ctrl])
                if d is not None and d.is_dir() and os.access(d, os.W_OK):
                    parents[ctrl] = d
                break
    missing = [c for c in _REQUIRED if c not in parents]
    if missing:
        return None, f"cgroup v1: no writable {'/'.join(missing)} hierarchy"
    return _Hierarchy(1, parents), "cgroup v1"


@lru_cache(maxsize=1)
def _hierarchy() -> tuple[_Hierarchy | None, str]:
    mounts, own = _mounts(), _own_cgroups()
    h2, why2 = _try_v2(mounts, own)
    if h2 is not None:
        return h2, why2
    h1, why1 = _try_v1(mounts, own)
    if h1 is not None:
        return h1, why1
    return None, f"no usable cgroup hierarchy ({why2}; {why1})"


def support() -> tuple[int | None, str]:
    """(1 or 2, description) when sandboxes get cgroups here, else (None, why not)."""
    h, why = _hierarchy()
    return (h.version if h else None), why


@dataclass
class Cgroup:
    """One sandbox's cgroup (one directory per v1 controller, one in all for v2)."""

    version: int
    dirs: dict[str, Path]
    limits: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return next(iter(self.dirs.values())).name

    def _unique_dirs(self) -> list[Path]:
        return list(dict.fromkeys(self.dirs.values()))

    def path(self, controller: str) -> Path:
        return self.dirs[controller]

    def read(self, controller: str, file: str) -> str:
        return (self.dirs[controller] / file).read_text().strip()

    def procs_files(self) -> list[Path]:
        """The cgroup.procs file of each directory (an exec wrapper writes to them: bwrap.py)."""
        return [d / "cgroup.procs" for d in self._unique_dirs()]

    def enter(self) -> None:
        """Move the calling process in (used between fork and exec: children are born inside)."""
        for d in self._unique_dirs():
            with open(d / "cgroup.procs", "w") as fh:
                fh.write("0")

    def pids(self) -> set[int]:
        out: set[int] = set()
        for d in self._unique_dirs():
            try:
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return out

    def kill(self) -> None:
        """SIGKILL everything inside (cgroup.kill on v2, one by one on v1)."""
        if self.version == 2 and (self._unique_dirs()[0] / "cgroup.kill").exists():
            try:
                (self._unique_dirs()[0] / "cgroup.kill").write_text("1")
                return
            except OSError:
                pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def _freezer(self) -> tuple[Path, str, str] | None:
        """(state file, frozen value, thawed value) of this cgroup's freezer, if it has one."""
        if self.version == 2:
            path = self._unique_dirs()[0] / "cgroup.freeze"
            return (path, "1", "0") if path.exists() else None
        d = self.dirs.get("freezer") or self.dirs.get("")
        if d is None or not (d / "freezer.state").exists():
            return None
        return d / "freezer.state", "FROZEN", "THAWED"

    def freeze(self, holding: int, timeout_s: float = 1.0) -> bool:
        """Stop every process inside where it stands (none runs another instruction of its own
        until thawed); True once all are frozen and process ``holding`` is one of them (a launcher
        still joining its cgroups is not: it would run on), else False, thawed, as without a
        freezer or when it takes longer than ``timeout_s``."""
        freezer = self._freezer()
        if freezer is None:
            return False
        state, frozen, _ = freezer
        deadline = time.monotonic() + timeout_s
        try:
            state.write_text(frozen)
            while not self._all_frozen(state, frozen):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.0001)
            else:
                if str(holding) in (state.parent / "cgroup.procs").read_text().split():
                    return True
        except OSError:
            pass
        self.thaw()
        return False

    def _all_frozen(self, state: Path, frozen: str) -> bool:
        """v2 says so in cgroup.events; v1's state file reads FREEZING until every task is frozen."""
        if self.version == 2:
            return "frozen 1" in (state.parent / "cgroup.events").read_text().splitlines()
        return state.read_text().strip() == frozen

    def thaw(self) -> None:
        """Let frozen processes run again: killed ones only die (SIGKILL is handled first)."""
        freezer = self._freezer()
        if freezer is not None:
            try:
                freezer[0].write_text(freezer[2])
            except OSError:
                pass

    def remove(self, timeout_s: float = 5.0) -> bool:
        """Kill what is left and remove the directories; False if one could not be removed."""
        deadline = time.monotonic() + timeout_s
        self.thaw()  # a frozen process dies of SIGKILL only once thawed (cgroup v1)
        left = self._unique_dirs()
        while left:
            self.kill()
            remaining = []
            for d in left:
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    remaining.append(d)
            left = remaining
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if left:
            log.warning("could not remove cgroup(s) %s; `clawgym sandbox gc` retries", left)
        return not left


def _limit_files(version: int, memory_bytes: int, max_pids: int, cpus: float | None) -> dict[str, list[tuple[str, str]]]:
    """controller -> [(file, value)] in the order they must be written."""
    if version == 2:
        files = {"memory": [("memory.max", str(memory_bytes)), ("memory.swap.max", "0")],
                 "pids": [("pids.max", str(max_pids))]}
        if cpus:
            files["cpu"] = [("cpu.max", f"{max(1000, int(cpus * CPU_PERIOD_US))} {CPU_PERIOD_US}")]
        return files
    files = {"memory": [("memory.limit_in_bytes", str(memory_bytes)), ("memory.memsw.limit_in_bytes", str(memory_bytes))],
             "pids": [("pids.max", str(max_pids))]}
    if cpus:
        files["cpu"] = [("cpu.cfs_period_us", str(CPU_PERIOD_US)),
                        ("cpu.cfs_quota_us", str(max(1000, int(cpus * CPU_PERIOD_US))))]
    return files


_OPTIONAL_FILES = {"memory.swap.max", "memory.memsw.limit_in_bytes"}  # absent without swap accounting


def create(memory_bytes: int, max_pids: int, cpus: float | None) -> Cgroup | None:
    """A fresh cgroup with these caps, or None (logged once) when this host offers none."""
    global _warned
    h, why = _hierarchy()
    if h is None:
        if not _warned:
            _warned = True
            log.warning("clawgym sandboxes run without cgroups: %s; only per-process rlimits hold "
                        "(no total memory/tmpfs, pids-per-sandbox or cpu cap)", why)
        return None
    with _counter_lock:
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    dirs: dict[str, Path] = {}
    cg = Cgroup(h.version, dirs)
    try:
        for ctrl, parent in h.parents.items():
            if ctrl == "cpu" and not cpus:
                continue  # no quota: stay out of cpu group scheduling (see SandboxLimits.cpus)
            d = parent / name
            if d not in dirs.values():
                d.mkdir()
            dirs[ctrl] = d
        for ctrl, entries in _limit_files(h.version, memory_bytes, max_pids, cpus).items():
            if ctrl not in dirs:
                continue  # cpu not mounted/enabled here: no quota (documented)
            for file, value in entries:
                try:
                    (dirs[ctrl] / file).write_text(value)
                    cg.limits[file] = value
                except OSError:
                    if file not in _OPTIONAL_FILES:
                        raise
    except OSError as exc:
        cg.remove(timeout_s=1.0)
        from clawgym_env.sandbox.base import SandboxError

        raise SandboxError(f"could not set up the sandbox cgroup {name} ({why}): {exc}") from exc
    return cg


def _walk(root: Path, depth: int) -> list[Path]:
    """Our cgroup directories under ``root`` (not descending into them), at most ``depth`` deep."""
    found = []
    stack = [(root, 0)]
    while stack:
        d, level = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            if not e.is_dir(follow_symlinks=False):
                continue
            if NAME_RE.match(e.name):
                found.append(Path(e.path))
            elif level < depth:
                stack.append((Path(e.path), level + 1))
    return found


def find_orphans(depth: int = 8) -> list[Path]:
    """Sandbox cgroups (any hierarchy mounted here) whose owner pid no longer exists."""
    roots = list(dict.fromkeys(m.mountpoint for m in _mounts()
                               if m.fstype == "cgroup2" or set(_V1_CONTROLLERS) & m.super_options))
    out = []
    for root in roots:
        for d in _walk(root, depth):
            m = NAME_RE.match(d.name)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                out.append(d)
    return out


def remove_orphans(dry_run: bool = False) -> list[Path]:
    """Kill what is left in orphaned sandbox cgroups and remove them; returns them."""
    orphans = find_orphans()
    if not dry_run:
        for d in orphans:
            Cgroup(2 if (d / "cgroup.controllers").exists() else 1, {"": d}).remove(timeout_s=2.0)
    return orphans
