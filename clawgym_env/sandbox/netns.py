"""Outbound-only networking for bwrap sandboxes: their own network namespace behind slirp4netns.

``--share-net`` would hand the agent the host's network namespace, loopback included: a vLLM
server, a Ray dashboard or anything else listening on the host's 127.0.0.1 (and abstract unix
sockets) would be one ``curl`` away. Instead a networked sandbox keeps ``--unshare-net`` and gets a
tap device whose packets slirp4netns (a user-mode TCP/IP stack, Debian package ``slirp4netns``)
turns into ordinary host sockets: outbound connections work, the host's loopback does not
(``--disable-host-loopback``: 10.0.2.2 is refused, and 127.0.0.1 inside is the sandbox's own).
Addresses of the host's other interfaces are reachable like any outside host.

Plumbing: bwrap reports the sandbox's pid on ``--info-fd`` once its namespaces exist and waits on
``--block-fd`` before running the command; in between slirp4netns attaches (``--ready-fd``). It
exits when its ``--exit-fd`` closes: on :meth:`Slirp.close`, or when the driver dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence

from clawgym_env.sandbox.base import SandboxError

RESOLV_CONF = b"nameserver 10.0.2.3\n"
"""slirp4netns's built-in DNS forwarder (it asks the host's resolvers)."""
_SLIRP_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def slirp4netns_path() -> str:
    path = shutil.which("slirp4netns", path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
    if path is None:
        raise SandboxError(
            "network=True on the bwrap backend needs slirp4netns (the sandbox gets its own network "
            "namespace, so the host's loopback services stay out of reach). Install it with "
            "`apt-get install slirp4netns`, or use network=False."
        )
    return path


def _read_all_json(fd: int, deadline: float) -> dict[str, object]:
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SandboxError("bwrap did not report its namespaces in time")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise SandboxError(f"bwrap exited before its namespaces were ready: {data!r}")
        data += chunk
        with contextlib.suppress(ValueError):
            return json.loads(data)


def _target(pid: int) -> list[str]:
    """Where slirp4netns attaches. As root it joins only the network namespace (given by path):
    by pid it would also join the pid's user namespace, and with ``--disable-userns`` bwrap puts
    the command in a nested one that has no say over the sandbox's network namespace (EPERM).
    Unprivileged, it must join a user namespace to get CAP_SYS_ADMIN over the network one."""
    if os.geteuid() == 0:
        return ["--netns-type=path", f"/proc/{pid}/ns/net"]
    return [str(pid)]


class Slirp:
    """A running slirp4netns attached to one sandbox."""

    def __init__(self, proc: subprocess.Popen[bytes], exit_w: int):
        self.proc = proc
        self._exit_w: int | None = exit_w

    def close(self) -> None:
        if self._exit_w is not None:
            os.close(self._exit_w)
            self._exit_w = None
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class NetnsSetup:
    """The fds one bwrap start needs to be networked; ``attach()`` after the Popen."""

    def __init__(self) -> None:
        self._slirp = slirp4netns_path()
        self.info_r, self.info_w = os.pipe()
        self.block_r, self.block_w = os.pipe()
        self.resolv_r, resolv_w = os.pipe()
        os.write(resolv_w, RESOLV_CONF)
        os.close(resolv_w)

    @property
    def pass_fds(self) -> tuple[int, int, int]:
        return self.info_w, self.block_r, self.resolv_r

    def bwrap_args(self) -> list[str]:
        return ["--info-fd", str(self.info_w), "--block-fd", str(self.block_r),
                "--ro-bind-data", str(self.resolv_r), "/etc/resolv.conf"]

    def after_popen(self) -> None:
        """Close the ends only bwrap needs (call once the child holds them, or on failure)."""
        for name in ("info_w", "block_r", "resolv_r"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)

    def attach(self, prefix: Sequence[str] = (), timeout_s: float = 10.0) -> Slirp:
        """Wait for bwrap's namespaces, start slirp4netns in them, then let bwrap run the command.
        ``prefix`` execs slirp4netns (e.g. the sandbox's cgroup entry: no Python between fork and
        exec, see bwrap._limits_argv)."""
        deadline = time.monotonic() + timeout_s
        try:
            info = _read_all_json(self.info_r, deadline)
            pid = int(info["child-pid"])  # type: ignore[call-overload]
            ready_r, ready_w = os.pipe()
            exit_r, exit_w = os.pipe()
            errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed below; its log, read only if it fails (a pipe could SIGPIPE it later)
            try:
                proc = subprocess.Popen(
                    [*prefix, self._slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                     "--enable-seccomp", "--ready-fd", str(ready_w), "--exit-fd", str(exit_r), *_target(pid), "tap0"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                    env=_SLIRP_ENV, close_fds=True, pass_fds=(ready_w, exit_r), start_new_session=True,
                )
            except OSError as exc:
                os.close(exit_w)
                errors.close()
                raise SandboxError(f"could not start slirp4netns: {exc}") from exc
            finally:
                os.close(ready_w)
                os.close(exit_r)
            slirp = Slirp(proc, exit_w)
            try:
                left = max(0.0, deadline - time.monotonic())
                ok = select.select([ready_r], [], [], left)[0] and os.read(ready_r, 1) == b"1"
            finally:
                os.close(ready_r)
            with errors:
                if not ok:
                    slirp.close()
                    errors.seek(0)
                    err = errors.read()[-500:].decode(errors="replace")
                    raise SandboxError(f"slirp4netns did not configure the sandbox network: {err.strip()}")
            return slirp
        finally:
            os.close(self.info_r)
            try:
                os.write(self.block_w, b"1")  # bwrap goes on (and dies at once if we are failing)
            except BrokenPipeError:
                pass  # bwrap is gone already: the error above, or the launch's own check, says why
            os.close(self.block_w)
