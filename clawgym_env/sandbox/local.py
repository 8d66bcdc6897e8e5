"""Unsafe local backend: the server runs as a plain subprocess on the host. Debugging only.

Nothing is isolated: the agent's commands run with your permissions, see your files and network.
The workspace is a host temp dir, so its path is not /root/.openclaw/workspace: the verifier's
installed copy of reward/ has that path rewritten (see ``hostws.install_reward_dir``), and the
verifier's output folder is a host folder of this sandbox's (``verifier_paths``), emptied per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

from clawgym_env.sandbox.base import SandboxConfig, VerifierPaths
from clawgym_env.sandbox.capture import BoundedCapture, isolated_result
from clawgym_env.sandbox.client import IsolatedResult, ServerSandbox
from clawgym_env.sandbox.fstree import remove_tree
from clawgym_env.sandbox.runtime import new_host_workspace, new_private_dir, runtime_dir


class LocalSandbox(ServerSandbox):
    """No isolation at all; opt-in with ``backend="local"``."""

    def __init__(self, config: SandboxConfig | None = None, host_workspace: Path | None = None):
        super().__init__(config)
        warnings.warn("backend='local' runs agent commands unsandboxed on this host", stacklevel=3)
        self._owns_workspace = host_workspace is None
        self.host_workspace = host_workspace or new_host_workspace(None)
        self.workspace = str(self.host_workspace)
        self._runtime = runtime_dir()
        self._verifier_out = new_private_dir("clawgym-verify-")

    sees_host_paths = True
    backend = "local"

    @property
    def verifier_paths(self) -> VerifierPaths:
        rt = self._runtime.host
        return VerifierPaths(out=str(self._verifier_out), bin=str(rt / "vbin"), guard=str(rt / "vguard"))

    def _verifier_out_dir(self) -> Path:
        """The same host folder every run (its path is in the verifier's environment), emptied."""
        remove_tree(self._verifier_out, keep_root=True)
        os.chmod(self._verifier_out, 0o700)
        return self._verifier_out

    def _drop_verifier_out(self, out_dir: Path) -> None:
        remove_tree(out_dir, keep_root=True)

    def _server_env(self) -> dict[str, str]:
        env = super()._server_env()
        env["HOME"] = os.environ.get("HOME", "/root")
        return env

    def _server_argv(self) -> list[str]:
        return [sys.executable, "-I", "-S", str(self._runtime.server)]

    def _release(self) -> None:
        remove_tree(self._verifier_out)
        if self._owns_workspace:
            remove_tree(self.host_workspace)

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
        """A plain subprocess: binds do not apply, the command sees host paths."""
        start = time.monotonic()
        full_env = {**self._server_env(), **env}
        proc = subprocess.Popen(argv, cwd=cwd or self.workspace, env=full_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        capture = BoundedCapture(proc)
        timed_out = not capture.wait(timeout_s)
        if timed_out:
            os.killpg(proc.pid, 9)
        return isolated_result(capture.finish(), proc.returncode, timed_out, time.monotonic() - start)
