"""bubblewrap backend: unprivileged namespaces, the default.

What the agent sees: a tmpfs root with only whitelisted system paths (read-only), a minimal /etc, a
private /tmp and /root, its workspace at /root/.openclaw/workspace (read-write), its own pid, ipc,
uts and (unless allowed) network namespaces. When the caller is root, bwrap is started as a
per-sandbox unprivileged uid (mapped to root inside), so file permissions and RLIMIT_NPROC hold.
Killing bwrap kills the whole pid namespace: nothing outlives the sandbox.

Hardening beyond namespaces and rlimits (each one closes an escape measured on this machine, see
tests/test_sandbox_security.py):

- the server runs as pid 1 of the sandbox (``--as-pid-1``) and is not dumpable (server.py), so the
  agent's commands, which share its uid, can neither kill, stop nor ptrace it;
- /tmp, /root, /run and /dev/shm are size-capped tmpfs (``SandboxLimits.tmpfs_bytes``) and /dev is
  read-only: tmpfs lives in host RAM, and bwrap's default size is half of it per mount;
- every sandbox (the server's, and each verifier run) gets its own cgroup where the host allows
  (``cgroups.py``): one memory cap for all its processes and tmpfs files together, a pids cap and a
  cpu quota; removed on close;
- ``network=True`` keeps a private network namespace, connected outward by slirp4netns
  (``netns.py``): the host's loopback services (a vLLM server, a Ray dashboard) stay unreachable;
- no nested user namespaces (``--disable-userns``): they would hand the agent capabilities (mount a
  tmpfs of any size, ...) and the kernel's largest attack surface;
- a seccomp filter refuses ``fallocate(FALLOC_FL_KEEP_SIZE)``, which allocates disk blocks past the
  end of a file without RLIMIT_FSIZE ever being checked (``fallocate -n -l 10G f`` took 10 GB);
- one-shot sandboxes (the verifier) start bwrap with a bare PATH, not the host's environment:
  there bwrap stays in the sandbox as its pid 1, whose environ the command can read.

The verifier's sandbox is started ahead of time (``prestart``, off the episode's critical path):
bwrap sets it up in full, with its own cgroup, a fresh /tmp and an empty output folder, and its
command waits, blocked reading a pipe only the driver holds, until ``run_verifier`` writes the go
line, which it does only after the agent's sandbox is stopped and ``reward/`` installed. It runs as
the same uid as the agent's sandbox (the workspace's files are that uid's) but in its own pid, user
and mount namespaces, which the agent's processes cannot see or enter; the sweep that makes sure no
process of the agent survives (``_after_stop``) spares only the waiting sandbox's own process tree.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
import time
import weakref
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from clawgym_env.sandbox import cgroups
from clawgym_env.sandbox.base import (
    WORKSPACE,
    IsolatedResult,
    SandboxConfig,
    SandboxError,
    SandboxLimits,
    SandboxStartError,
)
from clawgym_env.sandbox.capture import BoundedCapture, isolated_result, wait_exit
from clawgym_env.sandbox.client import (
    _MARK_SH,
    VERIFIER_OUT,
    ServerSandbox,
    _children,
    _kill_process,
    start_marker,
    unmark,
)
from clawgym_env.sandbox.fstree import remove_tree
from clawgym_env.sandbox.netns import NetnsSetup, Slirp
from clawgym_env.sandbox.rootfs import resolve_root
from clawgym_env.sandbox.runtime import SANDBOX_RUN, UidLease, new_host_workspace, runtime_dir, workspace_base

# Read-only from the root: enough for python3, bash, coreutils, git, ssl. Nothing else of the host.
_SYSTEM_DIRS = ("usr",)
_MERGED_USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_WHITELIST = (
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "ssl",
    "ca-certificates", "ca-certificates.conf", "mime.types", "bash.bashrc", "profile", "profile.d",
    "inputrc", "python3", "python3.11", "python3.12", "python3.13", "perl", "ruby", "gitconfig",
    "protocols", "services", "magic", "magic.mime", "debian_version", "os-release", "login.defs",
    "environment", "shells", "xdg", "fonts", "subversion", "vim", "nanorc", "gai.conf", "sqlite3",
    "locale.alias", "terminfo", "clawgym-rootfs.json",
)

# tmpfs is host RAM; bwrap's default is half of it for each mount. /dev/shm gets docker's default.
# /tmp and /root: SandboxLimits.tmpfs_bytes each.
_RUN_TMPFS_BYTES = 16 << 20
_SHM_TMPFS_BYTES = 64 << 20

# The cgroup's pids cap sits this far above RLIMIT_NPROC, which binds first where it applies (root
# caller: one uid per sandbox). The cgroup also holds slirp4netns (the driver's uid), and for an
# unprivileged caller, whose sandboxes share its uid, it is the per-sandbox cap.
_PIDS_HEADROOM = 32

# bwrap itself needs no environment; it must not carry the host's (API keys, paths) into the sandbox.
_BWRAP_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed. Install it with `apt-get install bubblewrap`, "
            "or pick another backend (backend='docker' or backend='local' for debugging)."
        )
    return path


@cache
def _bwrap_options(bwrap: str) -> frozenset[str]:
    """The options this bwrap knows (``--size`` and ``--disable-userns`` need bwrap >= 0.8)."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(word for word in text.split() if word.startswith("--"))


# seccomp: fallocate(fd, mode, ...) with FALLOC_FL_KEEP_SIZE in mode -> EOPNOTSUPP; all else allowed.
# (AUDIT_ARCH, syscall number) of fallocate for every ABI an x86-64 or arm64 host can run.
_FALLOCATE_SYSCALLS = (
    (0xC000003E, 285),  # x86_64
    (0xC000003E, 0x40000000 | 285),  # x32
    (0x40000003, 324),  # i386
    (0xC00000B7, 47),  # aarch64
    (0x40000028, 352),  # arm
)
_FALLOC_FL_KEEP_SIZE = 0x01


@lru_cache(maxsize=1)
def _seccomp_program() -> bytes:
    """A classic-BPF seccomp program, as ``bwrap --seccomp FD`` reads it (struct sock_filter[])."""
    ld_abs, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, refuse = 0x7FFF0000, 0x00050000 | errno.EOPNOTSUPP  # SECCOMP_RET_ALLOW, RET_ERRNO
    n = len(_FALLOCATE_SYSCALLS)
    insns: list[tuple[int, int, int, int]] = []
    for i, (arch, nr) in enumerate(_FALLOCATE_SYSCALLS):
        insns += [
            (ld_abs, 0, 0, 4),  # seccomp_data.arch
            (jeq, 0, 2, arch),
            (ld_abs, 0, 0, 0),  # seccomp_data.nr
            (jeq, 4 * (n - i) - 3, 0, nr),  # -> check_mode
        ]
    insns += [
        (ret, 0, 0, allow),
        (ld_abs, 0, 0, 24),  # check_mode: low 32 bits of args[1] (little-endian hosts only)
        (jset, 0, 1, _FALLOC_FL_KEEP_SIZE),
        (ret, 0, 0, refuse),
        (ret, 0, 0, allow),
    ]
    return b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in insns)


def _seccomp_fd() -> int:
    """A pipe holding the filter program, for one bwrap start (bwrap reads it to the end)."""
    r, w = os.pipe()
    try:
        os.write(w, _seccomp_program())
    finally:
        os.close(w)
    return r


def _tmpfs(path: str, size: int, options: frozenset[str]) -> list[str]:
    return (["--size", str(size)] if "--size" in options else []) + ["--tmpfs", path]


def _limits_argv(limits: SandboxLimits, uid: int | None, cgroup: cgroups.Cgroup | None = None) -> list[str]:
    """The exec chain that puts bwrap in its cgroup, applies the rlimits and drops to the sandbox
    uid before bwrap runs.

    util-linux's ``prlimit`` and ``setpriv`` do what a ``preexec_fn`` did, without Python code
    between fork and exec: such a fork cannot use vfork, holds the GIL while the kernel copies the
    driver's page tables, and takes every at-fork lock of the process (concurrent.futures' global
    one among them), which stalled an asyncio driver for seconds with 64 sandboxes starting.
    The order is the same: the cgroup and the limits first (as the caller: the cgroup files are
    root's), then the uid (setresuid, groups cleared). Each step execs the next: same pid.
    """
    argv: list[str] = []
    if cgroup is not None:  # ``sh`` writes "0" (itself) to each cgroup.procs, then execs the rest
        argv += _enter_cgroup_argv(cgroup)
    argv += [_util("prlimit"), f"--nproc={limits.max_processes}", f"--as={limits.max_memory_bytes}",
            f"--fsize={limits.max_file_bytes}", f"--nofile={limits.max_open_files}", "--core=0"]
    if uid is not None:
        argv += [_util("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return argv


_ENTER_CGROUPS_SH = 'while [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; exec "$@"'


def _enter_cgroup_argv(cgroup: cgroups.Cgroup) -> list[str]:
    """A prefix that moves the process into ``cgroup`` (every hierarchy), then execs the rest."""
    return [_util("sh"), "-c", _ENTER_CGROUPS_SH, "clawgym-cgroup", *map(str, cgroup.procs_files()), "--"]


@cache
def _util(name: str) -> str:
    for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if os.access(f"{d}/{name}", os.X_OK):
            return f"{d}/{name}"
    raise SandboxError(f"{name} (from util-linux) is not installed; the bwrap backend needs it "
                       f"to apply the sandbox limits: `apt-get install util-linux`")


_GO_SH = 'IFS= read -r m || exit 125; exec </dev/null; ' + _MARK_SH.replace('"$0"', '"$m"')
"""The ready verifier's command: wait for the go line (the start marker) on stdin, which then
becomes /dev/null as for any verifier, print the marker, become the verifier's command."""

_VerifierSpec = tuple[tuple[str, ...], tuple[tuple[str, str], ...], str]
"""(argv, sorted environment, cwd) of a verifier run: a ready sandbox is used only for the same."""


def _process_tree(pid: int) -> set[int]:
    """``pid`` and its descendants (bwrap's children, the pid namespace's processes)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo.extend(_children(p))
    return found


class _ReadyVerifier:
    """A verifier sandbox started ahead of time, its command blocked until the go line. Its output
    is drained from the start (the reader threads wait on the empty pipes), so the go is one write."""

    def __init__(self, spec: _VerifierSpec, proc: subprocess.Popen[bytes], cgroup: cgroups.Cgroup | None,
                 out_dir: Path):
        self.spec, self.proc, self.cgroup, self.out_dir = spec, proc, cgroup, out_dir
        self.capture = BoundedCapture(proc)  # the last 64 KiB of stdout, the first 8 KiB of stderr

    def tree(self) -> set[int]:
        return _process_tree(self.proc.pid)

    @staticmethod
    def discard(proc: subprocess.Popen[bytes], capture: BoundedCapture, cgroup: cgroups.Cgroup | None,
                out_dir: Path) -> None:
        """Kill it and free its cgroup and output folder (also from a finalizer). Its readers end
        before its pipes are closed (they close stdout and stderr themselves)."""
        if proc.poll() is None:
            for pid in _children(proc.pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
        wait_exit(proc, 5)
        capture.finish(grace_s=5)
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        if cgroup is not None:
            cgroup.kill()
            cgroup.remove()
        remove_tree(out_dir)


class BwrapSandbox(ServerSandbox):
    """One bwrap sandbox with a persistent host workspace; ``start``/``stop`` may repeat."""

    backend = "bwrap"

    def __init__(self, config: SandboxConfig | None = None, host_workspace: Path | None = None):
        super().__init__(config)
        self._bwrap = bwrap_path()
        self._runtime = runtime_dir()
        root = resolve_root(self.config.root) or Path("/")
        if not (root / "usr" / "bin").is_dir():
            raise SandboxError(f"sandbox root {root} has no usr/bin: not a root filesystem")
        privileged = os.geteuid() == 0
        for path in (root, host_workspace or workspace_base(), self._runtime.host):
            if privileged and path is not None:
                _check_traversable(Path(path).resolve())
        self.root = root
        self._lease = UidLease() if privileged else None
        self.uid: int | None = self._lease.uid if self._lease else None
        self.workspace = WORKSPACE
        self._owns_workspace = host_workspace is None
        self.host_workspace = host_workspace or new_host_workspace(self.uid)
        self._filter_fd: int | None = None  # the seccomp filter's pipe, only while launch() starts bwrap
        self._net_setup: NetnsSetup | None = None  # only while launch() starts bwrap with network=True
        self._slirp: Slirp | None = None
        self.cgroup: cgroups.Cgroup | None = None
        """The running sandbox's cgroup (None where the host offers none); made at the first launch."""
        self._spent: weakref.finalize | None = None
        """Discards the verifier that last ran (``_set_spent``), once."""
        self._dying: subprocess.Popen[bytes] | None = None
        """A sandbox ``stop`` froze and killed but did not wait for (``_settle`` does)."""
        self._verifier: _ReadyVerifier | None = None
        self._verifier_finalizer: weakref.finalize | None = None
        self._verifier_spec: _VerifierSpec | None = None
        """The last verifier run's command: ``prestart`` gets a sandbox ready for the same."""

    # ------------------------------------------------------------------ command line
    def _bwrap_argv(self, extra_binds: tuple[tuple[str, str], ...] = (), rw_binds: tuple[tuple[str, str], ...] = (),
                    seccomp_fd: int | None = None, net: NetnsSetup | None = None) -> list[str]:
        root = self.root
        options = _bwrap_options(self._bwrap)
        argv = [self._bwrap, "--unshare-user", "--uid", "0", "--gid", "0", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--hostname", "clawgym", "--die-with-parent",
                "--new-session"]
        if "--disable-userns" in options:
            argv += ["--disable-userns"]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        argv += ["--unshare-net"]  # also with network=True: see netns.py
        if net is not None:
            argv += net.bwrap_args()
        for d in _SYSTEM_DIRS:
            if (root / d).is_dir():
                argv += ["--ro-bind", str(root / d), f"/{d}"]
        for name in _MERGED_USR_LINKS:
            p = root / name
            if p.is_symlink():
                argv += ["--symlink", os.readlink(p), f"/{name}"]
            elif p.is_dir():
                argv += ["--ro-bind", str(p), f"/{name}"]
        scratch = self.config.limits.tmpfs_bytes
        argv += ["--proc", "/proc", "--dev", "/dev", *_tmpfs("/dev/shm", _SHM_TMPFS_BYTES, options),
                 "--remount-ro", "/dev", *_tmpfs("/tmp", scratch, options), *_tmpfs("/root", scratch, options), *_tmpfs("/run", _RUN_TMPFS_BYTES, options),
                 "--dir", "/var", "--symlink", "/tmp", "/var/tmp", "--dir", "/etc"]
        for name in _ETC_WHITELIST:
            p = root / "etc" / name
            if p.exists():
                argv += ["--ro-bind", str(p), f"/etc/{name}"]
        # DNS (network=True): /etc/resolv.conf names slirp4netns's forwarder (NetnsSetup.bwrap_args).
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
        argv = self._bwrap_argv(seccomp_fd=self._filter_fd, net=self._net_setup)
        argv.insert(1, "--as-pid-1")  # the server is the namespace's init: see server.harden_self
        return [*_limits_argv(self.config.limits, self.uid, self.cgroup), *argv,
                "--", "/usr/bin/python3", "-I", "-S", f"{SANDBOX_RUN}/server.py"]

    def _popen_kwargs(self) -> dict[str, Any]:
        fds = (self._filter_fd,) if self._filter_fd is not None else ()
        if self._net_setup is not None:
            fds += self._net_setup.pass_fds
        return {"pass_fds": fds} if fds else {}

    def _new_cgroup(self) -> cgroups.Cgroup | None:
        lim = self.config.limits
        return cgroups.create(lim.max_total_memory_bytes, lim.max_processes + _PIDS_HEADROOM, lim.cpus)

    def _net_prefix(self, cgroup: cgroups.Cgroup | None) -> list[str]:
        """slirp4netns runs as the driver's user (it opens /dev/net/tun) but inside the sandbox's
        cgroup: its buffers are the agent's traffic."""
        return _enter_cgroup_argv(cgroup) if cgroup is not None else []

    def launch(self) -> None:
        """Start bwrap with the server (see ServerSandbox.launch); the seccomp filter travels in a
        pipe; the cgroup is made once per sandbox; with network=True slirp4netns attaches before
        the server runs."""
        if self._closed:
            raise SandboxError("sandbox is closed")
        self._settle()
        self._drop_spent()
        if self.cgroup is None:
            self.cgroup = self._new_cgroup()
            if self.cgroup is not None:  # dropped without close(): still removed (gc catches a kill -9)
                self._cgroup_finalizer = weakref.finalize(self, self.cgroup.remove)
        self._filter_fd = _seccomp_fd()
        net = self._net_setup = NetnsSetup() if self.config.network else None
        try:
            super().launch()
        finally:
            os.close(self._filter_fd)
            self._filter_fd = None
            self._net_setup = None
            if net is not None:
                net.after_popen()
        if net is not None:
            try:
                self._slirp = net.attach(self._net_prefix(self.cgroup))
            except BaseException:
                self.stop()
                raise

    # ------------------------------------------------------------------ lifecycle hooks
    def stop(self) -> None:
        """Kill the sandbox (its pid namespace's init first, so the server never answers for a
        command killed before it), then sweep its cgroup and stop its slirp4netns. With a cgroup
        freezer and a handful of processes, only as far as nothing of it can run (``_stop_frozen``)."""
        try:
            if not self._stop_frozen():
                super().stop()
                if self.cgroup is not None:
                    self.cgroup.kill()
        finally:
            if self._slirp is not None:
                self._slirp.close()
                self._slirp = None

    def _stop_frozen(self) -> bool:
        """Freeze the sandbox's cgroup, SIGKILL everything in it, thaw: a frozen process runs no
        other instruction of its own, and a thawed one with SIGKILL pending only dies, so nothing of
        the agent's can touch the workspace from here on and the verifier may start at once while
        the kernel tears the namespaces down (~2 ms of an episode's critical path, in parallel
        now). ``_settle`` waits for that before the uid's processes must be gone (the next launch,
        after the verifier, close). Not with more than a few processes: RLIMIT_NPROC counts dying
        ones, and the verifier runs as the same uid; those are waited for as before."""
        proc, cgroup = self._proc, self.cgroup
        if proc is None or cgroup is None or not cgroup.freeze(holding=proc.pid):
            return False
        try:
            few = len(cgroup.pids()) <= _FROZEN_STOP_MAX_PROCESSES
            cgroup.kill()
        finally:
            cgroup.thaw()
        if not few:
            return False
        self._settle()  # an earlier one, if any (never more than one dying sandbox)
        self._proc, self._ready, self._dying = None, False, proc
        self._make_scorable()
        return True

    def _settle(self) -> None:
        """Reap the sandbox ``_stop_frozen`` left dying and wait until none of its processes is left."""
        proc, self._dying = self._dying, None
        if proc is not None:
            _kill_process(proc)
            self._after_stop()

    def _after_stop(self, ran_in: tuple[cgroups.Cgroup | None, ...] = ()) -> None:
        """Wait until nothing of this sandbox runs (the pid namespace dies async) but the ready
        verifier, after the agent's sandbox or a one-shot run in ``ran_in`` ended.

        With cgroups, every process of the sandbox's uid is in the agent's cgroup, a ready verifier's
        or a one-shot run's (a sandbox uid cannot move a process out: the cgroup files are root's
        and not mounted inside), so those cgroups being empty is the test: a read or two instead of
        a scan of /proc (~0.6 ms, twice an episode). Without them, every live process of the uid
        but the ready verifier's tree is killed until none is left: its tree is read after the
        uid's processes are listed, so a process it has just forked is spared too, and no other
        process can be part of it (the agent's cannot become children of a process of another pid
        namespace)."""
        if self.uid is None:
            return
        watched = (self.cgroup, *ran_in)
        by_cgroup = all(cgroup is not None for cgroup in watched)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if by_cgroup:
                pids = [pid for cgroup in watched if cgroup is not None for pid in cgroup.pids()]
            else:
                pids = _pids_of_uid(self.uid)
                if pids and self._verifier is not None:
                    spared = self._verifier.tree()
                    pids = [pid for pid in pids if pid not in spared]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(0.002)
        raise SandboxError(f"processes of sandbox uid {self.uid} survived kill")

    def _release(self) -> None:
        self._settle()
        self._drop_spent()
        self._discard_ready()
        if self.cgroup is not None:
            self._cgroup_finalizer.detach()
            self.cgroup.remove()
            self.cgroup = None
        if self._owns_workspace and self.host_workspace.exists():
            remove_tree(self.host_workspace)
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    # ------------------------------------------------------------------ the ready verifier
    def prestart(self) -> None:
        """The next episode's server (``launch``), then a verifier sandbox ready for the same
        command as the last verifier run (none before the first, none with network=True)."""
        self.launch()
        spec = self._verifier_spec
        if spec is None or self.config.network or (self._verifier is not None and self._verifier.proc.poll() is None):
            return
        self._discard_ready()
        try:
            self._set_ready(self._start_verifier(spec))
        except (OSError, SandboxError):
            pass  # run_verifier starts one itself

    def _set_ready(self, ready: _ReadyVerifier) -> None:
        self._verifier = ready
        self._verifier_finalizer = weakref.finalize(self, _ReadyVerifier.discard, ready.proc, ready.capture, ready.cgroup,
                                                   ready.out_dir)

    def _take_ready(self) -> _ReadyVerifier | None:
        ready, self._verifier = self._verifier, None
        if self._verifier_finalizer is not None:
            self._verifier_finalizer.detach()
            self._verifier_finalizer = None
        return ready

    def _discard_ready(self) -> None:
        ready = self._take_ready()
        if ready is not None:
            _ReadyVerifier.discard(ready.proc, ready.capture, ready.cgroup, ready.out_dir)

    def _start_verifier(self, spec: _VerifierSpec) -> _ReadyVerifier:
        """bwrap with the verifier's command line, its output folder bound, blocked before the command."""
        argv, env, cwd = spec
        cgroup = self._new_cgroup()
        out_dir: Path | None = None
        seccomp_fd: int | None = None
        try:
            out_dir = self._verifier_out_dir()
            seccomp_fd = _seccomp_fd()
            full = self._one_shot_argv(["/bin/sh", "-c", _GO_SH, "clawgym-verifier", *argv], env, cwd, (),
                                       ((str(out_dir), VERIFIER_OUT),), seccomp_fd, cgroup)
            proc = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=_BWRAP_ENV, start_new_session=True, close_fds=True, pass_fds=(seccomp_fd,))
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            if out_dir is not None:
                remove_tree(out_dir)
            raise
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)
        return _ReadyVerifier(spec, proc, cgroup, out_dir)

    def run_verifier(self, argv: list[str], *, env: dict[str, str], timeout_s: float, cwd: str = "/",
                     inputs: Mapping[str, bytes] | None = None, outputs: Iterable[str] = (),
                     max_output_bytes: int = 1 << 20) -> IsolatedResult:
        """The ready verifier sandbox when one waits for this command, else one started now; either
        way only after the agent's sandbox is stopped. A ready one that died before the go (the host
        killed the uid's processes) is replaced: nothing of the command had run."""
        if self.config.network:  # its slirp4netns attaches at start: the plain one-shot path
            return super().run_verifier(argv, env=env, timeout_s=timeout_s, cwd=cwd, inputs=inputs,
                                        outputs=outputs, max_output_bytes=max_output_bytes)
        if self._proc is not None:
            self.stop()  # nothing of the agent's sandbox runs alongside the verifier
        spec: _VerifierSpec = (tuple(argv), tuple(sorted(env.items())), cwd)
        self._verifier_spec = spec
        ready = self._take_ready()
        if ready is not None and (ready.spec != spec or ready.proc.poll() is not None):
            _ReadyVerifier.discard(ready.proc, ready.capture, ready.cgroup, ready.out_dir)
            ready = None
        for attempt in range(2):
            fresh = ready is None
            if fresh:
                try:
                    ready = self._start_verifier(spec)
                except OSError as exc:
                    raise SandboxStartError(f"verifier sandbox failed: {exc}", kind="verifier", where="bwrap") from exc
            assert ready is not None
            try:
                return self._go(ready, inputs, timeout_s, outputs, max_output_bytes)
            except SandboxStartError:
                if fresh or attempt:
                    raise
                ready = None  # it died waiting: nothing of the command ran, start one now
        raise AssertionError("unreachable")

    def _go(self, ready: _ReadyVerifier, inputs: Mapping[str, bytes] | None, timeout_s: float,
            outputs: Iterable[str], max_output_bytes: int) -> IsolatedResult:
        """Hand ``ready`` its inputs and the go line; collect its outcome; free it (later, once it ended)."""
        proc = ready.proc
        ended = False  # nothing of it runs any more: freeing it can wait
        try:
            self._put_inputs(ready.out_dir, inputs)
            marker = start_marker()
            capture = ready.capture
            start = time.monotonic()
            assert proc.stdin is not None
            try:
                proc.stdin.write(marker.encode() + b"\n")
                proc.stdin.close()
            except OSError:
                pass  # it died before the go: no marker, SandboxStartError below
            try:
                captured, timed_out = _wait_captured(proc, capture, timeout_s)
            finally:
                if ready.cgroup is not None:
                    ready.cgroup.kill()
            self._after_stop((ready.cgroup,))
            self._settle()
            ended = True
            res = isolated_result(captured, proc.returncode, timed_out, time.monotonic() - start)
            return self._take_outputs(unmark(res, marker, "bwrap"), ready.out_dir, outputs, max_output_bytes)
        finally:
            if ended:
                self._set_spent(ready)
            else:
                _ReadyVerifier.discard(proc, ready.capture, ready.cgroup, ready.out_dir)

    def _set_spent(self, ready: _ReadyVerifier) -> None:
        """A verifier that ran: its cgroup and output folder are freed off the episode's critical
        path (the next launch, on the starter thread, or close); the reward does not wait on it."""
        self._drop_spent()
        self._spent = weakref.finalize(self, _ReadyVerifier.discard, ready.proc, ready.capture, ready.cgroup,
                                       ready.out_dir)

    def _drop_spent(self) -> None:
        discard, self._spent = self._spent, None
        if discard is not None:
            discard()

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
        cgroup = self._new_cgroup()
        try:
            return self._run_isolated(argv, env=env, timeout_s=timeout_s, cwd=cwd, extra_ro_binds=extra_ro_binds,
                                      rw_binds=rw_binds, cgroup=cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()

    def _one_shot_argv(self, argv: list[str], env: Iterable[tuple[str, str]], cwd: str | None,
                       extra_ro_binds: tuple[tuple[str, str], ...], rw_binds: tuple[tuple[str, str], ...],
                       seccomp_fd: int, cgroup: cgroups.Cgroup | None, net: NetnsSetup | None = None) -> list[str]:
        """The full command line of a one-shot sandbox (the verifier's): the sandbox's bwrap line with
        exactly ``env`` as its environment, ``cwd`` as its working folder, its limits and ``cgroup``."""
        full = self._bwrap_argv(extra_ro_binds, rw_binds, seccomp_fd=seccomp_fd, net=net)
        full.insert(1, "--clearenv")
        if cwd:
            full[full.index("--chdir") + 1] = cwd
        for k, v in env:
            full += ["--setenv", k, v]
        return [*_limits_argv(self.config.limits, self.uid, cgroup), *full, "--", *argv]

    def _run_isolated(self, argv: list[str], *, env: dict[str, str], timeout_s: float, cwd: str | None,
                      extra_ro_binds: tuple[tuple[str, str], ...], rw_binds: tuple[tuple[str, str], ...],
                      cgroup: cgroups.Cgroup | None) -> IsolatedResult:
        """One bwrap, in its own cgroup (``cgroup``) and, with network=True, its own slirp4netns."""
        self._settle()
        net = NetnsSetup() if self.config.network else None
        seccomp_fd = _seccomp_fd()
        full = self._one_shot_argv(argv, env.items(), cwd, extra_ro_binds, rw_binds, seccomp_fd, cgroup, net)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=_BWRAP_ENV, start_new_session=True, close_fds=True,
                                    pass_fds=(seccomp_fd, *(net.pass_fds if net else ())))
        except BaseException:
            if net is not None:
                for fd in (net.info_r, net.block_w):
                    os.close(fd)
            raise
        finally:
            os.close(seccomp_fd)
            if net is not None:
                net.after_popen()
        capture = BoundedCapture(proc)  # the last 64 KiB of stdout, the first 8 KiB of stderr
        slirp = None
        try:
            if net is not None:
                try:
                    slirp = net.attach(self._net_prefix(cgroup))
                except BaseException:
                    proc.kill()
                    capture.finish()
                    raise
            captured, timed_out = _wait_captured(proc, capture, timeout_s)
        finally:
            if slirp is not None:
                slirp.close()
            if cgroup is not None:
                cgroup.kill()
        self._after_stop((cgroup,))
        return isolated_result(captured, proc.returncode, timed_out, time.monotonic() - start)


_FROZEN_STOP_MAX_PROCESSES = 16
"""At most this many processes in a stopped sandbox's cgroup are left dying while the verifier runs."""


def _check_traversable(path: Path) -> None:
    """bwrap runs as the unprivileged sandbox uid, so every folder above a bind source must be
    searchable by others; fail here with a clear message instead of a bwrap error later."""
    for p in (path, *path.parents):
        if not p.stat().st_mode & 0o001:
            raise SandboxError(
                f"{path} cannot be mounted into the sandbox: {p} is not searchable by other users "
                f"(the sandbox runs as an unprivileged uid); use a folder under a world-searchable "
                f"path or `chmod o+x {p}`"
            )


def _wait_captured(proc: subprocess.Popen[bytes], capture: BoundedCapture, timeout_s: float) -> tuple[Any, bool]:
    """The command's captured output and whether it timed out (then its whole tree was killed);
    on any failure while waiting the command is killed and its pipes drained before raising."""
    try:
        timed_out = not capture.wait(timeout_s)
        if timed_out:
            for child in _children(proc.pid):
                os.kill(child, 9)
        return capture.finish(), timed_out
    except BaseException:
        proc.kill()
        capture.finish()
        raise


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
