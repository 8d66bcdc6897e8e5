"""Host side of the in-sandbox server: a backend-agnostic client over the JSON-line pipe.

A backend subclasses :class:`ServerSandbox` and says how to launch ``server.py`` (``_server_argv``)
and how to run a one-shot command in a fresh sandbox (``run_isolated``). Launch is split from
readiness (``launch`` / ``wait_ready``) so the env can start the next episode's sandbox in the
background while the previous one is being scored.

The workspace methods of the protocol (``restore``, ``install_verifier``, ``run_verifier``,
``read_outputs``, ...) are implemented here over the host folder every current backend mounts
(``host_workspace``, see hostws.py); a backend without one overrides them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import select
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clawgym_env.sandbox import hostws
from clawgym_env.sandbox.base import (
    ExecResult,
    FileData,
    IsolatedResult,
    ProcessInfo,
    SandboxConfig,
    SandboxError,
    SandboxFileError,
    SandboxStartError,
    TextFileRules,
    VerifierPaths,
)
from clawgym_env.sandbox.capture import wait_exit
from clawgym_env.sandbox.fstree import make_workspace_scorable, remove_tree
from clawgym_env.sandbox.hostdirs import copy_tree_out
from clawgym_env.sandbox.runtime import new_private_dir, runtime_dir

if TYPE_CHECKING:
    from clawgym_env.sandbox.quota import WorkspaceUsage

_LAUNCH_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""The only environment besides the sandbox's own that the launched server process gets."""
_RESPONSE_MARGIN_S = 30.0  # how long past a command's own timeout we wait before calling the server dead
VERIFIER_OUT = "/run/clawgym-out"
"""Where a sandboxed ``run_verifier`` command sees its output folder."""
_MARK_SH = 'printf "%s\\n" "$0" && exec "$@"'
"""Prints the start marker, then becomes the command: what ``run_verifier`` prints first inside the
sandbox, so that "the sandbox could not run the command" (no marker: SandboxStartError) is told from
"the command failed" (its exit status). The command cannot take back what is already in the pipe,
so it can never make its own failure look like a failed start; a bwrap/prlimit/loader failure never
prints it."""


def start_marker() -> str:
    return f"clawgym-verifier-started-{secrets.token_hex(8)}"


def unmark(res: IsolatedResult, marker: str, where: str) -> IsolatedResult:
    """``res`` without the start marker line; SandboxStartError when the marker never came."""
    line = marker + "\n"
    if not res.stdout_head.startswith(line):
        raise SandboxStartError(f"verifier sandbox failed to start (exit {res.exit_code}): {res.stderr.strip()[:500]}",
                                kind="verifier", where=where)
    if not res.stdout_dropped and res.stdout.startswith(line):
        res.stdout = res.stdout[len(line):]
    res.stdout_head = res.stdout_head[len(line):]
    return res


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        return []


def _kill_process(proc: subprocess.Popen[bytes] | None) -> None:
    """Kill a launched sandbox and reap it. Safe to call twice and from a finalizer.

    The launched process's children die first (for bwrap: the pid namespace's init, which takes
    the whole namespace with it), so the launcher can reap them; killing the launcher first would
    orphan them to the host's pid 1, which may reap zombies slowly (seen here: seconds).
    """
    if proc is None:
        return
    if proc.poll() is None:
        children = _children(proc.pid)  # none yet if bwrap is still setting up
        for child in children:
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        if children:
            wait_exit(proc, 1)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                try:
                    proc.kill()
                except OSError:
                    pass
    wait_exit(proc, 5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class ServerSandbox:
    """A sandbox driven through ``server.py``. Thread-safe: one request at a time."""

    workspace: str
    host_workspace: Path
    """The workspace's host folder (a backend detail: env, verifier and gate use the protocol)."""
    uid: int | None = None
    """The host uid the sandbox's files belong to (bwrap as root); None: the driver's own."""
    sees_host_paths = False
    """True when commands see the host's paths as they are (the unsafe local backend); False when
    the runtime dir appears at /run/clawgym and ``run_isolated`` binds are mounted where asked."""
    backend = "server"

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._next_id = 1
        self._ready = False
        self._buf = b""
        self._closed = False
        self._restored: hostws.Restored | None = None
        """What the last ``restore`` wrote (the next one undoes only what changed since)."""
        self._finalizer = weakref.finalize(self, _kill_process, None)

    # ----------------------------------------------------------------- backend hooks
    def _server_argv(self) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict[str, Any]:
        return {}

    def _server_env(self) -> dict[str, str]:
        """Environment every command inside the sandbox starts from."""
        rt = runtime_dir()
        bin_dir = str(rt.host / "bin") if self.sees_host_paths else rt.sandbox_bin
        env = {
            "PATH": f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "USER": "root",
            "LOGNAME": "root",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TMPDIR": "/tmp",
            "TERM": "dumb",
            "OPENCLAW_SHELL": "exec",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(self.config.env)
        return env

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
        """Run one command in a fresh sandbox over the same workspace (used by the verifier).

        Nothing of the running sandbox is shared: only the workspace and the given binds."""
        raise NotImplementedError

    # ----------------------------------------------------------------- lifecycle
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def launch(self) -> None:
        """Start the server process without waiting for it (cheap: one fork/exec)."""
        if self._closed:
            raise SandboxError("sandbox is closed")
        if self._proc is not None:
            self.stop()
        # Not the host's PATH: the server reads files for the agent, /proc/self/environ included.
        env = {"CLAWGYM_SERVER_ENV": json.dumps(self._server_env()), "PATH": _LAUNCH_PATH}
        try:
            self._proc = subprocess.Popen(
                self._server_argv(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
                close_fds=True,
                **self._popen_kwargs(),
            )
        except OSError as exc:
            raise SandboxError(f"could not launch sandbox: {exc}") from exc
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _kill_process, self._proc)
        self._ready = False
        self._buf = b""

    def wait_ready(self) -> None:
        if self._ready:
            return
        if self._proc is None:
            self.launch()
        msg = self._read_message(time.monotonic() + self.config.start_timeout_s)
        if not msg.get("ready"):
            raise SandboxError(f"sandbox server sent {msg!r} instead of its ready line")
        self._ready = True

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        """Kill the sandbox and every process in it; the workspace stays."""
        proc, self._proc = self._proc, None
        self._ready = False
        _kill_process(proc)
        self._after_stop()
        self._make_scorable()

    def _make_scorable(self) -> None:
        """Nothing runs in the sandbox now: give the workspace back the permissions the verifier and
        the next episode need (an agent's ``chmod 000`` must not turn into an infra error)."""
        workspace = getattr(self, "host_workspace", None)
        if workspace is not None:
            try:
                make_workspace_scorable(workspace)
            except OSError:
                pass  # best effort: a workspace that stays unreadable still scores (as a failure), or is an infra error

    def _after_stop(self) -> None:
        """Backend hook: make sure nothing of the sandbox is still running."""

    def close(self) -> None:
        if self._closed:
            return
        self.stop()
        self._closed = True
        self._finalizer.detach()
        self._release()

    def _release(self) -> None:
        """Backend hook: free what the backend holds beyond the process (workspace, uid)."""

    def prestart(self) -> None:
        """Start the next episode's server without waiting for it (``launch``)."""
        self.launch()

    # ----------------------------------------------------------------- the workspace (protocol)
    def restore(self, files: Iterable[tuple[str, FileData, int]]) -> None:
        """Only what the episode changed is undone (``hostws.restore_files``)."""
        self._restored = hostws.restore_files(self.host_workspace, files, self.uid, self._restored)

    def restore_tree(self, src: Path) -> None:
        self._restored = None
        remove_tree(self.host_workspace, keep_root=True)
        copy_tree_out(src, self.host_workspace)  # links as links, no setuid/setgid bits
        hostws.chown_tree(self.host_workspace, self.uid)

    def install_verifier(self, files: Mapping[str, bytes], modes: Mapping[str, int]) -> None:
        hostws.install_reward_dir(self.host_workspace, files, modes, self.uid, self.workspace)

    def make_scorable(self) -> None:
        self._make_scorable()

    def workspace_usage(self, *, max_bytes: int | None = None, max_entries: int | None = None) -> WorkspaceUsage:
        from clawgym_env.sandbox.quota import workspace_usage

        return workspace_usage(self.host_workspace, max_bytes=max_bytes, max_entries=max_entries)

    def read_outputs(self, *, first: Iterable[str] = (), rules: TextFileRules | None = None) -> list[tuple[str, str]]:
        return hostws.text_files(self.host_workspace, first=first, rules=rules)

    def snapshot(self, dest: Path) -> None:
        copy_tree_out(self.host_workspace, dest)

    @property
    def verifier_paths(self) -> VerifierPaths:
        rt = runtime_dir()
        return VerifierPaths(out=VERIFIER_OUT, bin=rt.sandbox_verifier_bin, guard=rt.sandbox_verifier_guard)

    def _verifier_out_dir(self) -> Path:
        """A fresh private host folder for one verifier run's outputs, owned by the sandbox's user."""
        out_dir = new_private_dir("clawgym-verify-")  # 0700; gc removes it if the driver is killed
        os.chmod(out_dir, 0o700)
        if self.uid is not None:
            os.chown(out_dir, self.uid, self.uid)
        return out_dir

    def _put_inputs(self, out_dir: Path, inputs: Mapping[str, bytes] | None) -> None:
        """Write a verifier run's input files into its output folder; SandboxStartError if it cannot
        (the command has not run)."""
        try:
            for name, data in (inputs or {}).items():
                path = out_dir / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                if self.uid is not None:
                    os.chown(path, self.uid, self.uid)
        except OSError as exc:
            raise SandboxStartError(f"could not prepare the verifier's output folder: {exc}",
                                    kind="verifier", where=self.backend) from exc

    @staticmethod
    def _take_outputs(res: IsolatedResult, out_dir: Path, outputs: Iterable[str], max_bytes: int) -> IsolatedResult:
        for name in outputs:
            data = hostws.read_regular_file(out_dir / name, max_bytes)
            if data is not None:
                res.outputs[name] = data
        return res

    def run_verifier(self, argv: list[str], *, env: dict[str, str], timeout_s: float, cwd: str = "/",
                     inputs: Mapping[str, bytes] | None = None, outputs: Iterable[str] = (),
                     max_output_bytes: int = 1 << 20) -> IsolatedResult:
        """``run_isolated`` with the output folder bound at ``verifier_paths.out`` and the start
        marker checked (SandboxStartError when the command never started)."""
        out_dir = self._verifier_out_dir()
        try:
            self._put_inputs(out_dir, inputs)
            marker = start_marker()
            try:
                res = self.run_isolated(["/bin/sh", "-c", _MARK_SH, marker, *argv], env=env, timeout_s=timeout_s,
                                        cwd=cwd, rw_binds=((str(out_dir), self.verifier_paths.out),))
            except OSError as exc:
                raise SandboxStartError(f"verifier sandbox failed: {exc}", kind="verifier", where=self.backend) from exc
            return self._take_outputs(unmark(res, marker, self.backend), out_dir, outputs, max_output_bytes)
        finally:
            self._drop_verifier_out(out_dir)

    def _drop_verifier_out(self, out_dir: Path) -> None:
        remove_tree(out_dir)  # the verifier may leave anything there, deep chains included

    def __enter__(self) -> "ServerSandbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- wire
    def _stderr_tail(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None or proc.poll() is None:
            return ""
        try:
            return proc.stderr.read(4000).decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _read_message(self, deadline: float) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise SandboxError("sandbox is not running")
        # Read from a duplicate of the pipe: a ``close`` from another thread (allowed mid-step)
        # closes the original, and a read of a closed descriptor failed with EBADF (a tool error
        # instead of an infra error) or, once the number was reused, read someone else's file. The
        # duplicate sees EOF when the server is gone, as the original would.
        try:
            fd = os.dup(proc.stdout.fileno())
        except (OSError, ValueError) as exc:
            raise SandboxError(f"sandbox was stopped: {exc}") from exc
        # A reply can be tens of MB (read_file) arriving in 64 KiB pipe reads: scan each chunk once
        # and join once. (``buf += chunk`` with a rescan per chunk was quadratic: 64 MiB took 57 s.)
        pending = [self._buf]
        try:
            while b"\n" not in pending[-1]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxError("sandbox server did not answer in time")
                ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
                if not ready:
                    if proc.poll() is not None:
                        raise SandboxError(f"sandbox died (exit {proc.returncode}): {self._stderr_tail()}")
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    proc.wait(timeout=5)
                    raise SandboxError(f"sandbox died (exit {proc.returncode}): {self._stderr_tail()}")
                pending.append(chunk)
        finally:
            os.close(fd)
            self._buf = b"".join(pending)
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, op: str, wait_s: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its answer. Raises SandboxError if the server is gone."""
        with self._lock:
            self.wait_ready()
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            req_id = self._next_id
            self._next_id += 1
            payload = (json.dumps({"id": req_id, "op": op, **fields}) + "\n").encode()
            try:
                proc.stdin.write(payload)
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                raise SandboxError(f"sandbox died: {exc} {self._stderr_tail()}") from exc
            deadline = time.monotonic() + (wait_s if wait_s is not None else 60.0) + _RESPONSE_MARGIN_S
            while True:
                msg = self._read_message(deadline)
                if msg.get("id") == req_id:
                    break
        if not msg.get("ok"):
            err = msg.get("error", {})
            if err.get("kind") == "os":
                raise SandboxFileError(err.get("errno", "EIO"), err.get("message", ""), err.get("filename") or "")
            if err.get("kind") == "no_session":
                raise KeyError(err.get("message", ""))
            raise SandboxError(f"sandbox server error on {op}: {err.get('message')}")
        return msg

    # ----------------------------------------------------------------- protocol
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
    ) -> ExecResult:
        wait = timeout_s if timeout_s is not None else None
        if yield_ms is not None:
            wait = min(wait, yield_ms / 1000.0) if wait is not None else yield_ms / 1000.0
        msg = self.request(
            "exec",
            wait_s=wait if wait is not None else 24 * 3600.0,
            command=command,
            workdir=workdir or self.workspace,
            env=env or {},
            shell=self.config.shell,
            **{"timeout_s": timeout_s, "yield_ms": yield_ms, "background": background, "pty": pty,
               "keep_stdin": pty},  # OpenClaw closes stdin at spawn unless pty
        )
        if msg.get("spawn_error"):
            err = msg["spawn_error"]
            return ExecResult(output="", exit_code=None, spawn_error=err)
        s = msg["session"]
        return ExecResult(
            output=msg.get("output", ""),
            exit_code=s["exit_code"],
            signal=s["signal"],
            timed_out=s["timed_out"],
            truncated=bool(msg.get("truncated")),
            backgrounded=bool(msg.get("backgrounded")),
            session_id=s["session_id"] if msg.get("backgrounded") else None,
            pid=s["pid"],
            duration_s=s["runtime_s"],
        )

    def read_file(self, path: str, max_bytes: int | None = None) -> bytes:
        msg = self.request("read_file", path=path, max_bytes=max_bytes)
        return base64.b64decode(msg["data_b64"])

    def read_lines(self, path: str, start: int, count: int, *, text_budget: int, max_line_bytes: int,
                   head_bytes: int = 0, device_cap: int = 0) -> dict[str, Any]:
        """A window of a text file's lines (see server.op_read_lines): the host gets only what the
        read tool shows, whatever the file's size."""
        return self.request("read_lines", path=path, start=start, count=count, text_budget=text_budget,
                            max_line_bytes=max_line_bytes, head_bytes=head_bytes, device_cap=device_cap)

    def write_file(self, path: str, data: bytes, *, mkdirs: bool = True) -> None:
        self.request("write_file", path=path, data_b64=base64.b64encode(data).decode("ascii"), mkdirs=mkdirs)

    def stat(self, path: str) -> dict[str, Any]:
        return self.request("stat", path=path)

    def list_processes(self) -> list[ProcessInfo]:
        return [ProcessInfo.from_wire(d) for d in self.request("proc_list")["sessions"]]

    def poll_process(self, session_id: str, timeout_ms: int = 0) -> tuple[ProcessInfo, str]:
        msg = self.request("proc_poll", wait_s=timeout_ms / 1000.0, session_id=session_id, timeout_ms=timeout_ms)
        return ProcessInfo.from_wire(msg["session"]), msg["output"]

    def process_log(self, session_id: str) -> tuple[ProcessInfo, str]:
        msg = self.request("proc_log", session_id=session_id)
        return ProcessInfo.from_wire(msg["session"]), msg["output"]

    def write_process(self, session_id: str, data: bytes, eof: bool = False) -> tuple[int, bool]:
        msg = self.request("proc_write", session_id=session_id, data_b64=base64.b64encode(data).decode(), eof=eof)
        if msg.get("unavailable"):
            raise BrokenPipeError(session_id)
        return int(msg["written"]), bool(msg["stdin_closed"])

    def kill_process(self, session_id: str, term_grace_s: float | None = None) -> tuple[ProcessInfo, bool]:
        msg = self.request("proc_kill", session_id=session_id, term_grace_s=term_grace_s)
        return ProcessInfo.from_wire(msg["session"]), bool(msg["was_running"])

    def remove_process(self, session_id: str) -> None:
        self.request("proc_remove", session_id=session_id)


def clear_directory(path: Path) -> None:
    """Delete everything inside ``path`` (not ``path`` itself: it is bind-mounted), never following links."""
    remove_tree(path, keep_root=True)
