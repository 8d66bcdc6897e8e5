"""The sandbox protocol every backend implements, and the results it returns.

Five methods (after rLLM): ``start``, ``exec``, ``read_file``, ``write_file``, ``close``; plus the
background-process calls the OpenClaw ``process`` tool needs. Backends differ only in how they start
the in-sandbox server (``server.py``); everything after start speaks the same JSON-line protocol, so
tools, verifier and env are backend-agnostic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from clawgym_env.paths import WORKSPACE  # noqa: F401 - re-exported: sandbox.base.WORKSPACE is public


class SandboxError(RuntimeError):
    """Infrastructure failure: the sandbox could not start, died, or stopped answering.

    Never the agent's fault; the env turns it into ``info["infra_error"]`` instead of a reward of 0.
    """


class SandboxFileError(OSError):
    """A file operation inside the sandbox failed (the agent's business, e.g. ENOENT)."""

    def __init__(self, code: str, message: str, path: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits applied to everything inside a sandbox. They hold when the caller is root:
    the bwrap backend drops to a per-sandbox unprivileged uid before applying them.

    What each backend actually enforces is in README.md ("Resource limits"): the totals
    (``max_total_memory_bytes``, ``max_processes`` per sandbox, ``cpus``) need a cgroup (bwrap on a
    host with writable cgroups, docker); the workspace caps are checked by the env between steps.
    """

    max_processes: int = 256
    """RLIMIT_NPROC for the sandbox uid (threads count too); the sandbox cgroup's pids.max is this
    plus 32 (it also holds slirp4netns, and is the only per-sandbox cap for an unprivileged caller)."""
    max_memory_bytes: int = 4 << 30
    """RLIMIT_AS per process (address space, not resident memory)."""
    max_file_bytes: int = 1 << 30
    """RLIMIT_FSIZE: no single file may grow past this."""
    max_open_files: int = 1024
    """RLIMIT_NOFILE."""
    max_total_memory_bytes: int = 4 << 30
    """Resident memory of all the sandbox's processes together, tmpfs files included (cgroup
    memory.max / memory.limit_in_bytes, docker ``mem_limit``); past it the OOM killer kills inside
    the sandbox. No swap on top."""
    cpus: float | None = None
    """CPU time quota in cores (cgroup cpu.max / cfs quota, docker ``nano_cpus``); None = no quota.
    With a quota the sandbox is scheduled as one group: on a busy host all its processes together
    get about one process's fair share, so a fork bomb's killed processes also take longer to go."""
    max_workspace_bytes: int = 2 << 30
    """Disk blocks the workspace may use, checked after every step: past it the episode ends (the
    tool result says so) and is scored as it stands, with ``info["disk_quota_exceeded"]``."""
    max_workspace_files: int = 100_000
    """Entries (files, folders, links) the workspace may hold; same check and outcome."""
    tmpfs_bytes: int = 512 << 20
    """Size of each scratch tmpfs, /tmp and /root (host RAM, charged to the memory cap)."""

    def __post_init__(self) -> None:
        for name in ("max_processes", "max_memory_bytes", "max_file_bytes", "max_open_files",
                     "max_total_memory_bytes", "max_workspace_bytes", "max_workspace_files", "tmpfs_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be a positive int, got {value!r}")
        if self.cpus is not None and (isinstance(self.cpus, bool) or not isinstance(self.cpus, (int, float))
                                      or not 0.01 <= self.cpus <= 4096):
            raise ValueError(f"SandboxLimits.cpus must be None or a number of cores in [0.01, 4096], got {self.cpus!r}")
        if 2 * self.tmpfs_bytes + (80 << 20) >= self.max_total_memory_bytes:
            raise ValueError(
                f"SandboxLimits.tmpfs_bytes={self.tmpfs_bytes} is too large for max_total_memory_bytes="
                f"{self.max_total_memory_bytes}: /tmp and /root full (plus /dev/shm and /run) would leave "
                f"no memory for the sandbox's processes; lower tmpfs_bytes or raise the memory cap"
            )


@dataclass(frozen=True)
class SandboxConfig:
    """How to build a sandbox. Backends ignore what does not apply to them."""

    network: bool = False
    """Outbound network access. Off by default: the agent cannot reach anything. On, the bwrap
    backend gives the sandbox its own network namespace behind slirp4netns (outbound only; the
    host's loopback services stay out of reach), docker its default bridge."""
    root: Path | str | None = None
    """Root filesystem to expose read-only: None (the host's own /usr, /etc whitelist, ...), a
    directory, or ``"default"``: the built ClawGym rootfs (``clawgym_env.sandbox.rootfs``:
    ``$CLAWGYM_ROOTFS``, else /var/lib/clawgym/rootfs/bookworm; ``clawgym sandbox build`` makes it)."""
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    shell: str = "/bin/sh"
    """Shell for exec (OpenClaw runs ``$SHELL -c`` and falls back to ``sh``)."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for every command."""
    extra_ro_binds: tuple[tuple[str, str], ...] = ()
    """(host path, sandbox path) pairs mounted read-only (e.g. the verifier's payload)."""
    start_timeout_s: float = 30.0


@dataclass
class ExecResult:
    """What one command did. ``output`` is stdout+stderr interleaved, the last 200k chars."""

    output: str
    exit_code: int | None
    signal: str | None = None
    timed_out: bool = False
    truncated: bool = False
    backgrounded: bool = False
    session_id: str | None = None
    pid: int | None = None
    duration_s: float = 0.0
    spawn_error: dict[str, Any] | None = None


@dataclass
class ProcessInfo:
    """A background exec session, as the ``process`` tool reports it."""

    session_id: str
    command: str
    pid: int
    status: str  # running | completed | failed
    exit_code: int | None
    signal: str | None
    runtime_s: float
    timed_out: bool = False
    killed: bool = False

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> ProcessInfo:
        return cls(
            session_id=d["session_id"], command=d["command"], pid=d["pid"], status=d["status"],
            exit_code=d["exit_code"], signal=d["signal"], runtime_s=d["runtime_s"],
            timed_out=d.get("timed_out", False), killed=d.get("killed", False),
        )


@runtime_checkable
class Sandbox(Protocol):
    """A place where an agent's commands run, isolated from the host."""

    workspace: str
    """The workspace path as seen inside the sandbox."""
    host_workspace: Path
    """The same directory on the host (the env restores and inspects it from here)."""

    def start(self) -> None: ...

    def exec(
        self,
        command: str,
        *,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
        timeout_s: float | None = None,
        yield_ms: int | None = None,
        background: bool = False,
        pty: bool = False,
    ) -> ExecResult: ...

    def read_file(self, path: str, max_bytes: int | None = None) -> bytes: ...

    def write_file(self, path: str, data: bytes, *, mkdirs: bool = True) -> None: ...

    def stat(self, path: str) -> dict[str, Any]:
        """``{"size", "is_dir", "is_file", "mode", "mtime"}``; raises SandboxFileError."""
        ...

    def close(self) -> None: ...

    # background sessions (the OpenClaw ``process`` tool)
    def list_processes(self) -> list[ProcessInfo]: ...

    def poll_process(self, session_id: str, timeout_ms: int = 0) -> tuple[ProcessInfo, str]: ...

    def process_log(self, session_id: str) -> tuple[ProcessInfo, str]: ...

    def write_process(self, session_id: str, data: bytes, eof: bool = False) -> tuple[int, bool]: ...

    def kill_process(self, session_id: str) -> tuple[ProcessInfo, bool]: ...

    def remove_process(self, session_id: str) -> None: ...

    @property
    def alive(self) -> bool: ...
