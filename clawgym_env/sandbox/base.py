"""The sandbox protocol every backend implements, and the results it returns.

Five methods (after rLLM): ``start``, ``exec``, ``read_file``, ``write_file``, ``close``; plus the
background-process calls the OpenClaw ``process`` tool needs. Backends differ only in how they start
the in-sandbox server (``server.py``); everything after start speaks the same JSON-line protocol, so
tools, verifier and env are backend-agnostic.

The sandbox also owns its workspace: the env restores it (``restore``), the verifier installs its
files and runs (``install_verifier``, ``run_verifier``), the judge, the disk quota and the quality
gate read what the episode left (``read_outputs``, ``workspace_usage``, ``snapshot``) only through
these methods, so a backend whose workspace is not a host folder (a remote machine, a Ray node) fits
without env.py or verify/ knowing. Backends report their failures as :class:`SandboxError`
subclasses (:class:`SandboxStartError` when a sandbox could not start), never as text to parse.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from clawgym_env.sandbox.quota import WorkspaceUsage

from clawgym_env.paths import WORKSPACE  # noqa: F401 - re-exported: sandbox.base.WORKSPACE is public


class SandboxError(RuntimeError):
    """Infrastructure failure: the sandbox could not start, died, or stopped answering.

    Never the agent's fault; the env turns it into ``info["infra_error"]`` instead of a reward of 0.
    """


class SandboxStartError(SandboxError):
    """A sandbox could not start, or could not start the command it was given (the verifier's):
    nothing of the command ran. ``kind`` says which sandbox (``"sandbox"``: the agent's,
    ``"verifier"``: a one-shot run), ``where`` which backend or step failed."""

    def __init__(self, message: str, *, kind: str = "sandbox", where: str = ""):
        super().__init__(message)
        self.kind = kind
        self.where = where


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


class StreamedFile(Protocol):
    """File content a sandbox copies in without holding it in memory (``tasks.files.TaskFile``:
    a big task input, streamed from the task folder with its holes kept)."""

    size: int

    def copy_to(self, dest: str | os.PathLike[str]) -> None: ...


FileData = bytes | StreamedFile
"""What ``Sandbox.restore`` writes: bytes, or a :class:`StreamedFile`."""


@dataclass
class IsolatedResult:
    """Outcome of a one-shot command (the verifier) in a fresh sandbox."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    stdout_dropped: int = 0
    """Bytes of stdout not kept (only the tail is: sandbox/capture.py); 0 when ``stdout`` is whole."""
    stdout_head: str = ""
    """The first 512 bytes of stdout, whatever was dropped after them."""
    outputs: dict[str, bytes] = field(default_factory=dict)
    """``run_verifier``: the files asked for that the command left in its output folder (regular
    files only, read without following links, each at most ``max_output_bytes``)."""


@dataclass(frozen=True)
class TextFileRules:
    """Which workspace files ``read_outputs`` returns and how much of each (the rubric judge's
    PinchBench rules by default): hidden entries, OpenClaw bootstrap files and tool folders are
    skipped, ``reward/`` (the verifier's own files) too; each file is cut to ``max_file_chars``."""

    max_file_chars: int = 3000
    max_total_chars: int = 40_000
    max_files: int = 40
    skip_names: frozenset[str] = frozenset({"BOOTSTRAP.md", "SOUL.md", "USER.md", "IDENTITY.md", "HEARTBEAT.md",
                                            "TOOLS.md", "AGENTS.md", "MEMORY.md"})
    """Top-level file names not shown."""
    skip_dirs: frozenset[str] = frozenset({"reward", "node_modules", "__pycache__", "skills"})
    """Top-level folders not walked (``__pycache__`` and ``node_modules`` are skipped at any depth)."""
    max_listed: int = 10_000
    """Stop listing past this many files (an agent that left a million does not stall grading)."""
    max_depth: int = 32


@dataclass(frozen=True)
class VerifierPaths:
    """Where a ``run_verifier`` command finds things, as paths it sees (the same for every run of
    one sandbox, so the command line and environment can be prepared before the episode ends)."""

    out: str
    """Its private writable output folder (``inputs`` are put there, ``outputs`` read back)."""
    bin: str
    """The verifier's PATH entry (the ``python3`` shim that tees check.py's stdout)."""
    guard: str
    """The verifier's PYTHONPATH entry (the import guard, ``verifier_guard.py``)."""


@runtime_checkable
class Sandbox(Protocol):
    """A place where an agent's commands run, isolated from the host, with the workspace it owns."""

    workspace: str
    """The workspace path as seen inside the sandbox."""
    config: SandboxConfig

    def start(self) -> None: ...

    def launch(self) -> None:
        """Start without waiting until the sandbox is ready (its first command waits)."""
        ...

    def stop(self) -> None:
        """Kill every process of the episode (the workspace stays, its permissions made scorable)."""
        ...

    def prestart(self) -> None:
        """Start the next episode's sandbox (and, where the backend can, a verifier sandbox blocked
        until ``run_verifier`` hands it the go) without waiting for either to be ready."""
        ...

    # the workspace, owned by the sandbox
    def restore(self, files: Iterable[tuple[str, FileData, int]]) -> None:
        """Empty the workspace and write ``(relative path, bytes or TaskFile, mode)`` entries into it,
        owned by the sandbox's user. Call while the sandbox is stopped or not yet used."""
        ...

    def restore_tree(self, src: Path) -> None:
        """Empty the workspace and copy a host folder into it (links as links, no setuid bits)."""
        ...

    def install_verifier(self, files: Mapping[str, bytes], modes: Mapping[str, int]) -> None:
        """Replace whatever is at ``<workspace>/reward`` with ``files`` (relative path -> bytes;
        ``modes`` by the same key). Call only after ``stop``."""
        ...

    @property
    def verifier_paths(self) -> VerifierPaths: ...

    def run_verifier(self, argv: list[str], *, env: dict[str, str], timeout_s: float, cwd: str = "/",
                     inputs: Mapping[str, bytes] | None = None, outputs: Iterable[str] = (),
                     max_output_bytes: int = 1 << 20) -> IsolatedResult:
        """Run ``argv`` in a new sandbox over the workspace, environment exactly ``env``, stdin empty.
        Raises :class:`SandboxStartError` when the sandbox could not start the command (nothing of it
        ran); any outcome of the command itself is the returned result."""
        ...

    def make_scorable(self) -> None:
        """Give the stopped workspace back the permissions reading and scoring it need."""
        ...

    def workspace_usage(self, *, max_bytes: int | None = None, max_entries: int | None = None) -> WorkspaceUsage: ...

    def read_outputs(self, *, first: Iterable[str] = (), rules: TextFileRules | None = None) -> list[tuple[str, str]]:
        """(relative path, text) of the small text files in the workspace, ``first`` first, for the
        rubric judge (``rules``, default :class:`TextFileRules`); links are never followed. Call
        only while nothing runs in the sandbox."""
        ...

    def snapshot(self, dest: Path) -> None:
        """Copy the workspace into the host folder ``dest`` (links as links, no setuid bits)."""
        ...

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

    def kill_process(self, session_id: str, term_grace_s: float | None = None) -> tuple[ProcessInfo, bool]:
        """Kill a session's processes: at once (None), or SIGTERM to its group, SIGKILL to the
        command itself, and the rest of the group killed after ``term_grace_s``."""
        ...

    def remove_process(self, session_id: str) -> None: ...

    @property
    def alive(self) -> bool: ...
