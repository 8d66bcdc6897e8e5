"""Docker backend: one container per sandbox, the same in-sandbox server as every other backend.

What the agent sees: the image's root filesystem read-only, size-capped tmpfs at /tmp, /var/tmp,
/root and /run, its workspace (a host dir) bind-mounted read-write at /root/.openclaw/workspace,
the runtime dir read-only at /run/clawgym, no network (``network_mode="none"``) unless the task
needs it, and cpu / memory / pids limits (cgroups) plus the file-size and open-file rlimits.

The server (``server.py``) is the container's pid 1, started attached (``docker start -ai``: the
docker CLI is the JSON-line pipe, so :class:`ServerSandbox` works unchanged). As pid 1 of the
container's pid namespace it gets the same protection as under bwrap: the kernel drops SIGKILL and
SIGSTOP sent from inside, so ``kill -9 -1`` cannot take it down, and it is not dumpable.

Episodes reuse a warm container: ``stop()`` kills every process but the server (its ``kill_all``
op) and wipes the scratch tmpfs; ``launch()`` then costs nothing. The verifier (``run_isolated``)
runs with ``docker exec`` in a clean environment (``env -i``) after the same kill + wipe, so no
process and no file outside the workspace carries over from the agent. A container past its hard
lifetime, or one that died, is replaced (from a :class:`~clawgym_env.sandbox.pool.DockerPool` when
one is given). ``close()`` always removes the container, also on exceptions and garbage collection.

The workspace and the verifier's out folder are private host folders (0700) inside the driver's
per-process folder, which is bind-mounted over itself nosuid,nodev on the host (hostdirs.py): docker
has no nosuid option for a bind mount, but its binds inherit the source mount's flags, so a setuid
binary the agent leaves gives no one its owner's rights, inside or on the host; the end of every
episode also clears setuid/setgid bits in the workspace.

Every container carries labels (``clawgym.owner_host``, ``clawgym.owner_pid``, ``clawgym.started``,
``clawgym.deadline``) so the reaper (``clawgym sandbox gc``, and automatically when a sandbox is
created) removes those whose owner died or whose lifetime passed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Protocol

from clawgym_env.sandbox.base import WORKSPACE, SandboxConfig, SandboxError
from clawgym_env.sandbox.capture import BoundedCapture, Captured, isolated_result
from clawgym_env.sandbox.client import VERIFIER_OUT, IsolatedResult, ServerSandbox, _kill_process, clear_directory
from clawgym_env.sandbox.docker_api import (  # noqa: F401 - DEFAULT_IMAGE, LABEL: importable from here too
    DEFAULT_IMAGE,
    DEFAULT_LIFETIME_S,
    LABEL,
    _docker_module,
    default_cpus,
    default_image,
    docker_cli,
    docker_client,
    owner_labels,
)
from clawgym_env.sandbox.hostdirs import make_nosuid, process_dir, remove_tree, strip_setid
from clawgym_env.sandbox.runtime import (
    SANDBOX_RUN,
    new_host_workspace,
    new_private_dir,
    runtime_dir,
    workspace_base,
)

OUT_DIR = VERIFIER_OUT
"""The verifier's writable output dir (``Sandbox.verifier_paths.out``); mounted at container creation."""

_SCRATCH_TMPFS = {
    "/tmp": "rw,nosuid,nodev,size=1g,mode=1777",
    "/var/tmp": "rw,nosuid,nodev,size=256m,mode=1777",
    "/root": "rw,nosuid,nodev,size=1g,mode=700",
    "/run": "rw,nosuid,nodev,size=16m,mode=755",
}
# Run inside after kill_all: scratch space back to empty, the mount points left alone.
_WIPE_SCRATCH = (
    "for d in /tmp /var/tmp /dev/shm; do find \"$d\" -mindepth 1 -maxdepth 1 -exec rm -rf {} + ; done; "
    "find /root -mindepth 1 -maxdepth 1 ! -name .openclaw -exec rm -rf {} + ; "
    "find /root/.openclaw -mindepth 1 -maxdepth 1 ! -name workspace -exec rm -rf {} + ; "
    f"find /run -mindepth 1 -maxdepth 1 ! -name clawgym ! -name clawgym-out -exec rm -rf {{}} + ; "
    f"find {OUT_DIR} -mindepth 1 -maxdepth 1 -exec rm -rf {{}} + ; "
    # nothing the agent left keeps a setuid/setgid bit past its episode (the mount is nosuid too)
    f"find {WORKSPACE} -xdev -perm /6000 ! -type l -exec chmod ug-s {{}} + ; true"
)
_CAP_DROP = ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SYS_CHROOT"]
# The docker CLI (our pipe) needs only these of the caller's environment.
_CLI_ENV = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY")


# pid 1 of the container installs the bwrap backend's seccomp filter (fallocate(FALLOC_FL_KEEP_SIZE)
# -> EOPNOTSUPP: it allocates disk past EOF without RLIMIT_FSIZE being checked) on top of docker's
# default profile, then becomes the server; every command inherits the filter.
_SECCOMP_LAUNCHER = """\
import base64, ctypes, os
prog = base64.b64decode({prog!r})
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.addressof(buf))
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
    raise SystemExit("clawgym: could not install the seccomp filter: errno %d" % ctypes.get_errno())
os.execv("/usr/bin/python3", ["python3", "-I", "-S", "{server}"])
"""


def _server_command() -> list[str]:
    import base64

    from clawgym_env.sandbox.bwrap import _seccomp_program

    code = _SECCOMP_LAUNCHER.format(prog=base64.b64encode(_seccomp_program()).decode(),
                                    server=f"{SANDBOX_RUN}/server.py")
    return ["/usr/bin/python3", "-I", "-S", "-c", code]


def _cli_env() -> dict[str, str]:
    return {k: os.environ[k] for k in _CLI_ENV if k in os.environ}


def _remove_container(name: str | None, proc: subprocess.Popen[bytes] | None = None) -> None:
    """``docker rm -f`` then reap the attached CLI. Safe from a finalizer and twice."""
    if name:
        try:
            docker_client().api.remove_container(name, force=True)
        except Exception:  # noqa: BLE001 - already gone, engine down: nothing more we can do here
            with contextlib.suppress(Exception):
                subprocess.run([docker_cli(), "rm", "-f", name], capture_output=True, timeout=30, env=_cli_env(),
                               check=False)
    _kill_process(proc)


class _Container:
    """One started container with its server attached (what the pool hands out)."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], host_workspace: Path, out_dir: Path,
                 deadline: float):
        self.name = name
        self.proc = proc
        self.host_workspace = host_workspace
        self.out_dir = out_dir
        self.deadline = deadline


class ContainerSource(Protocol):
    """Where a sandbox can take a started container from: :class:`~clawgym_env.sandbox.pool.DockerPool`
    (typed by its shape, so that this module does not import the pool, which imports it)."""

    def acquire(self, requester: DockerSandbox) -> _Container | None: ...


class DockerSandbox(ServerSandbox):
    """A sandbox in a docker container; ``start``/``stop`` may repeat, the container is reused.

    Args:
        config: limits, network, env (``config.root`` does not apply: the image is the root).
        host_workspace: host dir to mount as the workspace (default: a fresh private folder, nosuid);
            a folder you pass is mounted as it is: keep it private and on a nosuid filesystem.
        image: image to run (default $CLAWGYM_DOCKER_IMAGE or ``clawgym/sandbox:bookworm``).
        cpus: cpu quota (e.g. 1.5); None = no limit. Default $CLAWGYM_DOCKER_CPUS.
        lifetime_s: hard lifetime of each container (labels; the reaper enforces it).
        pool: take started containers from this pool instead of starting them here.
        recycle: reuse the container between episodes (kill + wipe); False = a new one each launch.
        pool_size: the size of the process-wide pool ``make_sandbox`` draws from; None = $CLAWGYM_DOCKER_POOL,
            else 0 (no pool).

    ``make_sandbox("docker")`` (what the env uses) also gives a sandbox with no ``pool`` the
    process-wide pool when ``pool_size`` (or $CLAWGYM_DOCKER_POOL) is > 0 (``pool.new_docker_sandbox``).
    """

    backend = "docker"

    def __init__(self, config: SandboxConfig | None = None, host_workspace: Path | None = None, *,
                 image: str | None = None, cpus: float | None = None, lifetime_s: float = DEFAULT_LIFETIME_S,
                 pool: ContainerSource | None = None, recycle: bool = True,
                 pool_size: int | None = None):
        super().__init__(config)
        self.client = docker_client()
        self._cli = docker_cli()
        self.image = image or default_image()
        self.cpus = cpus if cpus is not None else default_cpus()
        self.lifetime_s = lifetime_s
        self.pool = pool if host_workspace is None else None  # a pooled container mounts its own workspace
        self.recycle = recycle
        self.pool_size = pool_size
        self.workspace = WORKSPACE
        self.uid = None  # the agent is root in the container; no per-sandbox host uid
        self._owns_workspace = host_workspace is None
        self.host_workspace = host_workspace or new_host_workspace(None, prefix="clawgym-dws-")
        self._runtime = runtime_dir()
        self._box: _Container | None = None
        self._dirty = False  # something ran since the last kill + wipe
        self._box_finalizer = weakref.finalize(self, _remove_container, None)
        from clawgym_env.sandbox.reaper import reap_in_background

        reap_in_background()

    # ------------------------------------------------------------------ containers
    @property
    def container_name(self) -> str | None:
        return self._box.name if self._box else None

    def container_kwargs(self, host_workspace: Path, out_dir: Path) -> dict[str, Any]:
        """Everything ``containers.create`` gets (the pool builds identical ones)."""
        docker = _docker_module()
        lim = self.config.limits
        kw: dict[str, Any] = dict(  # noqa: C408 - reads like the SDK's keywords
            image=self.image,
            command=_server_command(),
            stdin_open=True,
            detach=True,
            hostname="clawgym",
            user="0:0",
            working_dir=WORKSPACE,
            environment={"CLAWGYM_SERVER_ENV": json.dumps(self._server_env())},
            network_mode="bridge" if self.config.network else "none",  # bridge: not the host's loopback
            read_only=True,
            tmpfs={**_SCRATCH_TMPFS, "/tmp": f"rw,nosuid,nodev,size={lim.tmpfs_bytes},mode=1777",
                   "/root": f"rw,nosuid,nodev,size={lim.tmpfs_bytes},mode=700"},
            shm_size=64 << 20,
            mounts=[
                docker.types.Mount(SANDBOX_RUN, str(self._runtime.host), type="bind", read_only=True),
                docker.types.Mount(WORKSPACE, str(host_workspace), type="bind"),
                docker.types.Mount(OUT_DIR, str(out_dir), type="bind"),
                *[docker.types.Mount(inside, host, type="bind", read_only=True)
                  for host, inside in self.config.extra_ro_binds],
            ],
            mem_limit=lim.max_total_memory_bytes,
            memswap_limit=lim.max_total_memory_bytes,
            pids_limit=lim.max_processes,
            ulimits=[
                docker.types.Ulimit(name="fsize", soft=lim.max_file_bytes, hard=lim.max_file_bytes),
                docker.types.Ulimit(name="nofile", soft=lim.max_open_files, hard=lim.max_open_files),
                docker.types.Ulimit(name="core", soft=0, hard=0),
            ],
            cap_drop=list(_CAP_DROP),
            security_opt=["no-new-privileges"],
            labels=owner_labels(self.lifetime_s),
            name=f"clawgym-{uuid.uuid4().hex[:12]}",
        )
        cpus = self.cpus if self.cpus is not None else lim.cpus
        if cpus:
            kw["nano_cpus"] = int(cpus * 1e9)
        return kw

    def pool_key(self) -> tuple[Any, ...]:
        """Containers are interchangeable when these match."""
        return (self.image, self.cpus, self.config.network, self.config.limits, tuple(sorted(self.config.env.items())),
                self.config.extra_ro_binds, self.config.shell)

    def _new_container(self, host_workspace: Path) -> _Container:
        """Create and start a container over ``host_workspace``, its server attached (not yet ready)."""
        make_nosuid(process_dir(workspace_base()))  # the binds below inherit nosuid,nodev
        out_dir = new_private_dir(f".{host_workspace.name}.out-")
        kw = self.container_kwargs(host_workspace, out_dir)
        name = kw["name"]
        try:
            self.client.containers.create(**kw)
        except Exception as exc:
            shutil.rmtree(out_dir, ignore_errors=True)
            hint = " (build it with `clawgym sandbox build`)" if "No such image" in str(exc) else ""
            raise SandboxError(f"could not create a docker container from {self.image}{hint}: {exc}") from exc
        try:
            proc = subprocess.Popen([self._cli, "start", "-a", "-i", name], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_cli_env(),
                                    start_new_session=True, close_fds=True)
        except OSError as exc:
            _remove_container(name)
            raise SandboxError(f"could not start the docker CLI: {exc}") from exc
        return _Container(name, proc, host_workspace, out_dir, float(kw["labels"]["clawgym.deadline"]))

    def _attach(self, box: _Container, ready: bool) -> None:
        self._box = box
        self._proc = box.proc
        self._ready = ready
        self._buf = b""
        self._dirty = False
        self._finalizer.detach()
        self._box_finalizer.detach()
        self._box_finalizer = weakref.finalize(self, _remove_container, box.name, box.proc)

    def _drop_box(self) -> None:
        box, self._box = self._box, None
        self._proc = None
        self._ready = False
        self._box_finalizer.detach()
        if box is not None:
            _remove_container(box.name, box.proc)
            with contextlib.suppress(OSError):
                remove_tree(box.out_dir)

    def _box_usable(self) -> bool:
        box = self._box
        return (box is not None and self.recycle and box.proc.poll() is None
                and time.time() < box.deadline - 300 and self._ready)

    # ------------------------------------------------------------------ lifecycle
    def launch(self) -> None:
        """Make sure a clean container is running: the warm one (after kill + wipe) or a new one."""
        if self._closed:
            raise SandboxError("sandbox is closed")
        if self._box_usable():
            if self._dirty:
                self._clean()
            return
        self._drop_box()
        if self.pool is not None:
            box = self.pool.acquire(self)
            if box is not None:
                self._adopt_workspace(box)
                self._attach(box, ready=True)
                return
        self._attach(self._new_container(self.host_workspace), ready=False)

    def _adopt_workspace(self, box: _Container) -> None:
        """Move our workspace's entries into the pooled container's (same filesystem: renames)."""
        if box.host_workspace == self.host_workspace:
            return
        for entry in os.listdir(self.host_workspace):
            os.rename(self.host_workspace / entry, box.host_workspace / entry)
        strip_setid(box.host_workspace)
        if self._owns_workspace:
            try:
                self.host_workspace.rmdir()
            except OSError:
                pass
        self.host_workspace = box.host_workspace
        self._owns_workspace = True

    def request(self, op: str, wait_s: float | None = None, **fields: Any) -> dict[str, Any]:
        if op not in ("ping", "kill_all", "stat", "read_file"):
            self._dirty = True
        return super().request(op, wait_s, **fields)

    def _clean(self) -> None:
        """Kill every process but the server, then empty the scratch tmpfs (fast: no new container)."""
        super().request("kill_all", wait_s=10)
        res = super().request("exec", wait_s=30, command=_WIPE_SCRATCH, workdir="/", env={}, shell="/bin/sh",
                              timeout_s=30, yield_ms=None, background=False, pty=False, keep_stdin=False)
        if res.get("spawn_error") or res.get("session", {}).get("exit_code") != 0:
            raise SandboxError(f"could not wipe the sandbox's scratch space: {res}")
        super().request("kill_all", wait_s=10)
        if os.geteuid() != 0:  # files the agent made are root's: hand them to us so the host can clear them
            self._docker_exec(["chown", "-R", f"{os.geteuid()}:{os.getegid()}", WORKSPACE], {}, "/", 60)
        self._dirty = False

    def stop(self) -> None:
        """Kill every process of the episode; the workspace stays. The container stays too (warm)
        unless it died, outlived its lifetime or ``recycle`` is off."""
        if self._box is None:
            return
        try:
            if self.recycle and self._box.proc.poll() is None and time.time() < self._box.deadline - 300:
                try:
                    self.wait_ready()
                    if self._dirty:
                        self._clean()
                    return
                except SandboxError:
                    pass
            self._drop_box()
            with contextlib.suppress(OSError):  # no wipe ran inside: clear the bits from the host side
                strip_setid(self.host_workspace)
        finally:
            self._make_scorable()  # as every backend's stop: the verifier sees the same modes

    @property
    def alive(self) -> bool:
        return self._box is not None and self._box.proc.poll() is None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        self._drop_box()
        self._release()

    def _release(self) -> None:
        if self._owns_workspace and self.host_workspace.exists():
            with contextlib.suppress(OSError):  # what stays is gc's once this process is gone
                remove_tree(self.host_workspace)

    # ------------------------------------------------------------------ one-shot commands
    def _docker_exec(self, argv: list[str], env: dict[str, str], cwd: str, timeout_s: float
                     ) -> tuple[int | None, Captured, bool]:
        """``docker exec`` as root with exactly ``env``; output kept bounded (sandbox/capture.py)."""
        assert self._box is not None
        cmd = [self._cli, "exec", "-u", "0:0", "-w", cwd, self._box.name, "env", "-i",
               *[f"{k}={v}" for k, v in env.items()], *argv]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_cli_env(), start_new_session=True, close_fds=True)
        capture = BoundedCapture(proc)
        if capture.wait(timeout_s):
            return proc.returncode, capture.finish(), False
        # killing the CLI leaves the exec running inside: kill everything but the server there
        try:
            super().request("kill_all", wait_s=10)
        except SandboxError:
            self._drop_box()
        if not capture.wait(10):
            _kill_process(proc)  # type: ignore[arg-type]
        return None, capture.finish(grace_s=5), True

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
        """``docker exec`` in the same container after every agent process is killed and the scratch
        space wiped; environment exactly ``env``. Only :data:`OUT_DIR` can be bound read-write
        (it is mounted at creation): the host dir's files are copied in and back out."""
        if extra_ro_binds:
            raise SandboxError("the docker backend cannot add read-only binds to a running container")
        for _, inside in rw_binds:
            if inside != OUT_DIR:
                raise SandboxError(f"the docker backend can bind only {OUT_DIR} read-write, not {inside}")
        if not self._box_usable():
            self.launch()
        self.wait_ready()
        if self._dirty:
            self._clean()
        assert self._box is not None
        box = self._box
        for host, _ in rw_binds:
            clear_directory(box.out_dir)
            for entry in os.listdir(host):
                shutil.copy2(os.path.join(host, entry), box.out_dir / entry)
        start = time.monotonic()
        code, captured, timed_out = self._docker_exec(argv, env, cwd or WORKSPACE, timeout_s)
        duration = time.monotonic() - start
        self._dirty = True
        if self._box is not None:
            try:
                super().request("kill_all", wait_s=10)  # nothing the verifier started outlives it
            except SandboxError:
                self._drop_box()
        for host, _ in rw_binds:
            for entry in os.listdir(box.out_dir):
                src = box.out_dir / entry
                if src.is_file() and not src.is_symlink():
                    shutil.copyfile(src, os.path.join(host, entry))
        return isolated_result(captured, code, timed_out, duration)
