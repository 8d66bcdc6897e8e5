"""bubblewrap backend: unprivileged namespaces, the default.

What the agent sees: a tmpfs root with only whitelisted system paths (read-only), a minimal /etc, a
private /tmp and /root, its workspace at /root/.openclaw/workspace (read-write), its own pid, ipc,
uts and (unless allowed) network namespaces. When the caller is root, bwrap is started as a
per-sandbox unprivileged uid (mapped to root inside), so file permissions and RLIMIT_NPROC hold.
Killing bwrap kills the whole pid namespace: nothing outlives the sandbox.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import WORKSPACE, SandboxConfig, SandboxError, SandboxLimits
from clawgym_env.sandbox.client import IsolatedResult, ServerSandbox, _children, clear_directory
from clawgym_env.sandbox.runtime import SANDBOX_RUN, UidLease, new_host_workspace, runtime_dir

# Read-only from the root: enough for python3, bash, coreutils, git, ssl. Nothing else of the host.
_SYSTEM_DIRS = ("usr",)
_MERGED_USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_WHITELIST = (
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
    "ca-certificates", "ca-certificates.conf", "mime.types", "bash.bashrc", "profile", "profile.d",
    "inputrc", "python3", "python3.11", "python3.12", "python3.13", "perl", "ruby", "gitconfig",
    "protocols", "services", "magic", "magic.mime", "debian_version", "os-release", "login.defs",
    "environment", "shells", "xdg", "fonts", "subversion", "vim", "nanorc", "gai.conf", "sqlite3",
)
_NET_ETC = ("resolv.conf",)


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed. Install it with `apt-get install bubblewrap`, "
            "or pick another backend (backend='docker' or backend='local' for debugging)."
        )
    return path


def _limits_preexec(limits: SandboxLimits, uid: int | None):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)

    return apply


class BwrapSandbox(ServerSandbox):
    """One bwrap sandbox with a persistent host workspace; ``start``/``stop`` may repeat."""

    def __init__(self, config: SandboxConfig | None = None, host_workspace: Path | None = None):
        super().__init__(config)
        self._bwrap = bwrap_path()
        self._runtime = runtime_dir()
        self._lease = UidLease() if os.geteuid() == 0 else None
        self.uid: int | None = self._lease.uid if self._lease else None
        self.workspace = WORKSPACE
        self._owns_workspace = host_workspace is None
        self.host_workspace = host_workspace or new_host_workspace(self.uid)
        root = Path(self.config.root) if self.config.root else Path("/")
        if not (root / "usr" / "bin").is_dir():
            raise SandboxError(f"sandbox root {root} has no usr/bin: not a root filesystem")
        self.root = root

    # ------------------------------------------------------------------ command line
    def _bwrap_argv(self, extra_binds: tuple[tuple[str, str], ...] = (), rw_binds: tuple[tuple[str, str], ...] = ()) -> list[str]:
        root = self.root
        argv = [self._bwrap, "--unshare-user", "--uid", "0", "--gid", "0", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--hostname", "clawgym", "--die-with-parent",
                "--new-session"]
        argv += ["--share-net"] if self.config.network else ["--unshare-net"]
        for d in _SYSTEM_DIRS:
            if (root / d).is_dir():
                argv += ["--ro-bind", str(root / d), f"/{d}"]
        for name in _MERGED_USR_LINKS:
            p = root / name
            if p.is_symlink():
                argv += ["--symlink", os.readlink(p), f"/{name}"]
            elif p.is_dir():
                argv += ["--ro-bind", str(p), f"/{name}"]
        argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/root", "--tmpfs", "/run",
                 "--dir", "/var", "--symlink", "/tmp", "/var/tmp", "--dir", "/etc"]
        etc_names = _ETC_WHITELIST + (_NET_ETC if self.config.network else ())
        for name in etc_names:
            p = root / "etc" / name
            if p.exists():
                argv += ["--ro-bind", str(p), f"/etc/{name}"]
        for name in ("passwd", "group", "hosts", "hostname", "nsswitch.conf"):
            argv += ["--ro-bind", str(self._runtime.etc / name), f"/etc/{name}"]
        argv += ["--ro-bind", str(self._runtime.host), SANDBOX_RUN]
        argv += ["--dir", "/root/.openclaw", "--bind", str(self.host_workspace), WORKSPACE]
        for host, inside in tuple(self.config.extra_ro_binds) + tuple(extra_binds):
            argv += ["--ro-bind", host, inside]
        for host, inside in rw_binds:
            argv += ["--bind", host, inside]
        argv += ["--chdir", WORKSPACE, "--remount-ro", "/"]
        return argv

    def _server_argv(self) -> list[str]:
        return self._bwrap_argv() + ["--", "/usr/bin/python3", "-I", "-S", f"{SANDBOX_RUN}/server.py"]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"preexec_fn": _limits_preexec(self.config.limits, self.uid)}

    # ------------------------------------------------------------------ lifecycle hooks
    def _after_stop(self) -> None:
        """Wait until no process of this sandbox's uid is left (the pid namespace dies async)."""
        if self.uid is None:
            return
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if not _pids_of_uid(self.uid):
                return
            for pid in _pids_of_uid(self.uid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(0.005)
        raise SandboxError(f"processes of sandbox uid {self.uid} survived kill")

    def _release(self) -> None:
        if self._owns_workspace and self.host_workspace.exists():
            try:
                clear_directory(self.host_workspace)
                self.host_workspace.rmdir()
            except OSError:
                shutil.rmtree(self.host_workspace, ignore_errors=True)
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    # ------------------------------------------------------------------ one-shot commands
    def run_isolated(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        timeout_s: float,
        cwd: str | None = None,
        extra_ro_binds: tuple[tuple[str, str], ...] = (),
        rw_binds: tuple[tuple[str, str], ...] = (),
    ) -> IsolatedResult:
        full = self._bwrap_argv(extra_ro_binds, rw_binds)
        full.insert(1, "--clearenv")
        if cwd:
            full[full.index("--chdir") + 1] = cwd
        for k, v in env.items():
            full += ["--setenv", k, v]
        full += ["--", *argv]
        start = time.monotonic()
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, close_fds=True, **self._popen_kwargs())
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            for child in _children(proc.pid):
                os.kill(child, 9)
            out, err = proc.communicate()
        self._after_stop()
        return IsolatedResult(
            exit_code=None if timed_out else proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            timed_out=timed_out,
            duration_s=time.monotonic() - start,
        )


def _pids_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes owned by ``uid``.

    Zombies are skipped: they run nothing and hold no files. bwrap's namespace init can linger as a
    zombie for about a second when the host's pid 1 is slow to reap it (seen here).
    """
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(entry.name))
    return pids
