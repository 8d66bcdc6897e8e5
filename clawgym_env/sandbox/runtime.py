"""Files every sandbox needs, prepared once per host and shared read-only.

The package may live somewhere an unprivileged sandbox uid cannot traverse (``/root/.pyenv``), so
the server script, the ``python`` links, the verifier's tee shim and a minimal ``/etc`` are copied
into a world-readable directory under the system temp dir, named by a content hash so concurrent
processes and package upgrades never step on each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SANDBOX_RUN = "/run/clawgym"
"""Where the runtime dir appears inside a sandbox."""

_PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1\tlocalhost clawgym\n::1\tlocalhost ip6-localhost ip6-loopback\n"
_NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"

# The verifier runs reward.sh unchanged; this shim only tees check.py's stdout to a file so the env
# can expose the verifier's sub-score dict without running check.py a second time. Stdout and exit
# status pass through untouched.
_PYTHON3_TEE_SHIM = """#!/bin/bash
case "$1" in
  */reward/check.py)
    /usr/bin/python3 "$@" | tee "${CLAWGYM_CHECK_STDOUT:-/dev/null}"
    exit "${PIPESTATUS[0]}" ;;
esac
exec /usr/bin/python3 "$@"
"""


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


def _write_atomic(path: Path, data: str, mode: int) -> None:
    if path.exists() and path.read_text() == data:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _symlink(target: str, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


@lru_cache(maxsize=1)
def runtime_dir() -> RuntimeDir:
    server_src = (Path(__file__).with_name("server.py")).read_text()
    guard_src = (Path(__file__).with_name("verifier_guard.py")).read_text()
    digest = hashlib.sha256((server_src + guard_src + _PYTHON3_TEE_SHIM + _PASSWD).encode()).hexdigest()[:12]
    base = Path(os.environ.get("CLAWGYM_RUNTIME_DIR") or tempfile.gettempdir())
    host = base / f"clawgym-runtime-{os.geteuid()}-{digest}"
    for sub in ("", "bin", "vbin", "vguard", "etc"):
        (host / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(host / sub, 0o755)
    _write_atomic(host / "server.py", server_src, 0o644)
    _symlink("/usr/bin/python3", host / "bin" / "python")
    _symlink("/usr/bin/python3", host / "vbin" / "python")
    _write_atomic(host / "vbin" / "python3", _PYTHON3_TEE_SHIM, 0o755)
    _write_atomic(host / "vguard" / "sitecustomize.py", guard_src, 0o644)
    for name, text in (("passwd", _PASSWD), ("group", _GROUP), ("hosts", _HOSTS), ("hostname", "clawgym\n"),
                       ("nsswitch.conf", _NSSWITCH)):
        _write_atomic(host / "etc" / name, text, 0o644)
    return RuntimeDir(host)


class UidLease:
    """An unprivileged uid reserved for one sandbox (RLIMIT_NPROC counts per uid, so each
    concurrent sandbox gets its own). Leases are flock'ed files, so separate processes
    (vector-env workers) never share a uid."""

    FIRST = 1_100_000
    COUNT = 4096

    def __init__(self) -> None:
        lock_dir = Path(tempfile.gettempdir()) / "clawgym-uids"
        lock_dir.mkdir(mode=0o755, exist_ok=True)
        start = (os.getpid() * 7919) % self.COUNT
        for i in range(self.COUNT):
            uid = self.FIRST + (start + i) % self.COUNT
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid = uid
            self._fd: int | None = fd
            return
        raise RuntimeError(f"all {self.COUNT} sandbox uids are in use")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def workspace_base() -> Path:
    """Where host workspaces are made: $CLAWGYM_WORKSPACE_DIR, else the system temp dir."""
    base = Path(os.environ.get("CLAWGYM_WORKSPACE_DIR") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return base


def new_host_workspace(owner_uid: int | None, prefix: str = "clawgym-ws-") -> Path:
    """A fresh host directory for a sandbox workspace, owned by the sandbox uid."""
    base = workspace_base()
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    os.chmod(path, 0o755)
    if owner_uid is not None:
        os.chown(path, owner_uid, owner_uid)
    return path
