"""Files every sandbox needs, the host folders it works in, and the uid it runs as.

The package may live somewhere an unprivileged sandbox uid cannot traverse (``/root/.pyenv``), so
the server script, the ``python`` links, the verifier's import guard and a minimal ``/etc`` are copied
into a world-readable ``runtime/`` folder inside this process's private folder (see hostdirs.py):
made fresh by each driver process, never a shared predictable path another local user could
pre-create and fill. Workspaces and verifier folders live in the same kind of private folder.

Sandbox uids (bwrap as root) are leased machine-wide: a lease holds an abstract unix socket named
after the uid and a ``flock`` on ``/run/clawgym-uids/<uid>.lock``, both released by the kernel when
the holder dies, so drivers with different ``$TMPDIR`` (or network namespaces, or /tmp) never share
a uid, and a uid that still runs processes is never handed out.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from clawgym_env.sandbox.base import SandboxError
from clawgym_env.sandbox.hostdirs import (
    on_new_process_dir,
    private_dir,
    process_dir,
    runtime_base,
    workspace_base,
)
from clawgym_env.sandbox.reaper import collect_in_background

# A driver's start-up clears what killed drivers left: a gc pass (folders, cgroups) in the background
# when this process makes its per-process folder (at most once a minute, see reaper.py).
on_new_process_dir(lambda: collect_in_background(docker=False))

SANDBOX_RUN = "/run/clawgym"
"""Where the runtime dir appears inside a sandbox."""

_PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1\tlocalhost clawgym\n::1\tlocalhost ip6-localhost ip6-loopback\n"
_NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"


@dataclass(frozen=True)
class RuntimeDir:
    host: Path
    """On the host."""

    @property
    def server(self) -> Path:
        return self.host / "server.py"

    @property
    def sandbox_bin(self) -> str:
        return f"{SANDBOX_RUN}/bin"

    @property
    def sandbox_verifier_bin(self) -> str:
        return f"{SANDBOX_RUN}/vbin"

    @property
    def sandbox_verifier_guard(self) -> str:
        """PYTHONPATH entry holding the verifier's import guard (``verifier_guard.py`` as sitecustomize)."""
        return f"{SANDBOX_RUN}/vguard"

    @property
    def etc(self) -> Path:
        return self.host / "etc"


def _write(path: Path, data: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(data)
    os.chmod(path, mode)


_runtime: dict[int, RuntimeDir] = {}  # pid -> its runtime folder (a forked child makes its own)
_runtime_lock = threading.Lock()


def runtime_dir() -> RuntimeDir:
    """This process's runtime folder (made on first use, in a folder nobody else can write)."""
    with _runtime_lock:
        rt = _runtime.get(os.getpid())
        if rt is None:
            rt = _runtime[os.getpid()] = RuntimeDir(_make_runtime(process_dir(runtime_base()) / "runtime"))
        return rt


def _make_runtime(host: Path) -> Path:
    """Fill a folder that did not exist (O_EXCL everywhere: nothing found there is trusted)."""
    server_src = (Path(__file__).with_name("server.py")).read_text()
    guard_src = (Path(__file__).with_name("verifier_guard.py")).read_text()
    for sub in ("", "bin", "vbin", "vguard", "etc"):
        os.mkdir(host / sub)
        os.chmod(host / sub, 0o755)  # the sandbox uids read it
    _write(host / "server.py", server_src, 0o644)
    os.symlink("/usr/bin/python3", host / "bin" / "python")
    os.symlink("/usr/bin/python3", host / "vbin" / "python")
    _write(host / "vguard" / "sitecustomize.py", guard_src, 0o644)
    _compile_guard(host / "vguard")
    for name, text in (("passwd", _PASSWD), ("group", _GROUP), ("hosts", _HOSTS), ("hostname", "clawgym\n"),
                       ("nsswitch.conf", _NSSWITCH)):
        _write(host / "etc" / name, text, 0o644)
    return host


def _compile_guard(folder: Path) -> None:
    """The guard's bytecode for this Python's version: every verifier Python imports the guard, and
    compiling it from source each time (nothing may write bytecode there) cost ~1.5 ms per start. A
    sandbox Python of another version ignores this file and compiles the source, as before."""
    import py_compile
    import sys

    cache = folder / "__pycache__"
    os.mkdir(cache)
    os.chmod(cache, 0o755)
    target = cache / f"sitecustomize.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(folder / "sitecustomize.py"), cfile=str(target), doraise=True)
    os.chmod(target, 0o644)


LEASE_DIR = Path("/run/clawgym-uids")
"""Root's lock files for sandbox uid leases (/run: only root may create there, cleared at boot)."""


def _lease_dir() -> Path | None:
    """The lock folder, made if missing and refused unless it is root's own, writable only by
    root and not a link; None where /run cannot hold it (the abstract socket still holds)."""
    try:
        os.mkdir(LEASE_DIR, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    st = os.lstat(LEASE_DIR)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise SandboxError(f"{LEASE_DIR} is not a root-only folder (owner uid {st.st_uid}, mode "
                           f"{stat.filemode(st.st_mode)}); remove it, ClawGym makes it anew")
    return LEASE_DIR


def _uids_running(first: int, count: int) -> set[int]:
    """Uids in [first, first + count) that own a process right now (leased by anyone or not)."""
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uid = entry.stat(follow_symlinks=False).st_uid
            except OSError:
                continue
            if first <= uid < first + count:
                found.add(uid)
    return found


class UidLease:
    """An unprivileged uid reserved for one sandbox (RLIMIT_NPROC counts per uid, so each
    concurrent sandbox gets its own), machine-wide: see the module docstring."""

    FIRST = 1_100_000
    COUNT = 4096

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._fd: int | None = None
        lock_dir = _lease_dir()
        busy = _uids_running(self.FIRST, self.COUNT)
        start = secrets.randbelow(self.COUNT)
        for i in range(self.COUNT):
            uid = self.FIRST + (start + i) % self.COUNT
            if uid in busy:
                continue
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(f"\0clawgym-uid-{uid}")
            except OSError:
                sock.close()
                continue
            fd = None
            if lock_dir is not None:
                fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    sock.close()
                    continue
            self.uid = uid
            self._sock, self._fd = sock, fd
            return
        raise RuntimeError(f"all {self.COUNT} sandbox uids are in use")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def new_host_workspace(owner_uid: int | None, prefix: str = "clawgym-ws-") -> Path:
    """A fresh host directory for a sandbox workspace, 0700 and owned by the sandbox uid (the
    driver, as root, still reads it), inside this process's private folder."""
    return private_dir(workspace_base(), prefix, mode=0o700, owner_uid=owner_uid)


def new_private_dir(prefix: str) -> Path:
    """A fresh 0700 folder for one use (a verifier's output), inside this process's private folder
    so that gc removes it if the process is killed."""
    return private_dir(workspace_base(), prefix, mode=0o700)
