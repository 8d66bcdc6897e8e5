"""The code verifier: ``bash reward/reward.sh`` in a fresh sandbox over the episode's workspace.

Contract (DESIGN.md 3, specs/clawgym-reference.md §A3): reward/ is copied in only now, after
whatever the agent left at reward/ is removed (links not followed); the verifier runs in a new
sandbox, so no process of the episode survives into it and nothing but the workspace carries over;
120 s default timeout; reward = float(last non-empty stdout line); non-zero exit, empty output,
parse error, NaN/inf, timeout -> 0.0 with the reason. A sandbox that could not run the verifier at
all is an infrastructure error, never a zero.

Nothing the agent leaves may change the reward (issue 11):

- cwd is ``/``, as in the authors' chroot backend, never the workspace: with cwd = workspace the
  ``python3 -c`` step of reward.sh imported an agent's ``json.py`` (1.0 on every task);
- the verifier's own Python runs with an import guard (``sandbox/verifier_guard.py``): modules the
  sandbox's Python installation provides always come from the installation, so no module, package
  or bytecode anywhere in the workspace can stand in for them, while scripts of the agent that
  check.py runs on purpose keep plain Python semantics;
- the output folder is read without following links, size-capped; stdout/stderr are kept bounded
  (the last 64 KiB / first 8 KiB), whatever the verifier prints;
- a reward line is parsed like the authors' ``float()`` but ``_`` digit separators are refused
  (``1_0`` is not 10.0); values outside [0, 1] are kept, as the authors keep them, and flagged
  (``out_of_range``).

One deliberate difference from the authors: the reward payload file is written outside the
workspace (``OPENCLAW_REWARD_PAYLOAD`` points at it), because some verifiers penalise unexpected
top-level workspace entries and the payload is not the agent's output.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import SandboxError
from clawgym_env.sandbox.client import ServerSandbox
from clawgym_env.sandbox.fstree import remove_tree
from clawgym_env.sandbox.runtime import new_private_dir, runtime_dir
from clawgym_env.tasks.model import WORKSPACE, Task

DEFAULT_TIMEOUT_S = 120.0
VERIFIER_CWD = "/"
"""The verifier's working directory: the authors' chroot backend runs reward.sh from ``/``."""
_OUT_DIR = "/run/clawgym-out"
_SUBSCORES_MAX_BYTES = 1 << 20


@dataclass
class VerifierResult:
    """Everything the verifier run tells us. ``reward`` is what the env returns."""

    reward: float
    reason: str | None = None
    """Why the reward is 0.0 by rule (timeout, exit code, parse error, NaN); None when parsed cleanly."""
    infra_error: str | None = None
    """Set when the verifier could not run at all; trainers should drop the sample."""
    subscores: dict[str, Any] | None = None
    """The dict check.py printed (its own ``reward`` key included for skill2task-style checkers)."""
    exit_code: int | None = None
    timed_out: bool = False
    out_of_range: bool = False
    """The parsed reward lies outside [0, 1]. Kept as is (the authors do not clamp); flagged so a
    trainer can tell a verifier bug from a real score."""
    stdout_tail: str = ""
    stderr_head: str = ""
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_info(self) -> dict[str, Any]:
        """The result as a plain dict for ``info``; timings are left out so that equal episodes
        give equal infos (gymnasium's determinism check), see ``ClawGymEnv.last_timings``."""
        info = asdict(self)
        del info["duration_s"]
        return info


def parse_reward_stdout(stdout: str) -> tuple[float, str | None]:
    """float(last non-empty line) with the contract's failure rules; returns (reward, reason)."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    if not lines:
        return 0.0, "verifier printed nothing"
    last = lines[-1]
    try:
        if "_" in last:  # float() accepts "1_0" as 10.0; no verifier means that
            raise ValueError(last)
        value = float(last)
    except ValueError:
        return 0.0, f"verifier output is not a number: {last[:200]!r}"
    if math.isnan(value) or math.isinf(value):
        return 0.0, f"verifier returned {last!r}"
    return value, None


def install_reward_files(task: Task, host_workspace: Path, owner_uid: int | None,
                         workspace_path: str = WORKSPACE) -> None:
    """Replace whatever is at <workspace>/reward with the task's verifier files.

    ``workspace_path`` differs from the official path only on the unsafe local backend, which cannot
    mount the workspace there; for it alone the hard-coded path is rewritten in the installed copy
    (as the authors' own no-op measurement did). Sandboxed backends never edit task files.
    """
    reward_dir = host_workspace / "reward"
    remove_tree(reward_dir)  # whatever the agent left there: any depth, links not followed
    reward_dir.mkdir()
    for rel, data in task.reward_files.items():
        if workspace_path != WORKSPACE:
            data = data.replace(WORKSPACE.encode(), workspace_path.encode())
        dest = reward_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(dest, task.file_modes.get(f"reward/{rel}", 0o644))
    if owner_uid is not None:
        for root, dirs, files in os.walk(reward_dir):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), owner_uid, owner_uid)
        os.lchown(reward_dir, owner_uid, owner_uid)


def reward_payload(task: Task, final_message: str, transcript: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of the fields the authors' pipelines write (specs §A4)."""
    return {
        "task_id": task.task_id,
        "user_query": task.user_query,
        "metadata": task.metadata,
        "final_message": final_message,
        "transcript": transcript,
    }


def run_code_verifier(
    sandbox: ServerSandbox,
    task: Task,
    *,
    final_message: str = "",
    transcript: list[dict[str, Any]] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> VerifierResult:
    """Score the workspace of ``sandbox`` with ``task``'s verifier. Stops the agent's sandbox first."""
    if not task.has_verifier:
        return VerifierResult(0.0, infra_error=f"task {task.task_id} has no reward/reward.sh")
    uid = getattr(sandbox, "uid", None)
    try:
        sandbox.stop()  # nothing the agent started may run alongside; stop also undoes an agent's chmod 000
        install_reward_files(task, sandbox.host_workspace, uid, sandbox.workspace)
    except (OSError, SandboxError) as exc:
        return VerifierResult(0.0, infra_error=f"could not prepare the verifier: {exc}")
    out_dir = new_private_dir("clawgym-verify-")  # private, 0700; gc removes it if the driver is killed
    try:
        os.chmod(out_dir, 0o700)
        payload = out_dir / "payload.json"
        payload.write_bytes(_payload_bytes(reward_payload(task, final_message, transcript or [])))
        if uid is not None:
            os.chown(out_dir, uid, uid)
            os.chown(payload, uid, uid)
        ws = sandbox.workspace
        host_paths = sandbox.sees_host_paths
        inside_out = str(out_dir) if host_paths else _OUT_DIR
        rt = runtime_dir()
        vbin = str(rt.host / "vbin") if host_paths else rt.sandbox_verifier_bin
        guard = str(rt.host / "vguard") if host_paths else rt.sandbox_verifier_guard
        env = {
            "PATH": f"{vbin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": guard,
            "CLAWGYM_VERIFIER_WORKSPACE": ws,
            "OPENCLAW_REWARD_PAYLOAD": f"{inside_out}/payload.json",
            "CLAWGYM_CHECK_STDOUT": f"{inside_out}/check_stdout",
        }
        # A start marker, printed inside the sandbox before reward.sh runs, tells "the sandbox could
        # not run the verifier" (infra error: drop the sample) from "the verifier failed" (0.0). The
        # verifier cannot take back what is already in the pipe, so it can never make its own
        # failure look like an infra error; a bwrap/prlimit/loader failure never prints it.
        marker = f"clawgym-verifier-started-{secrets.token_hex(8)}\n"
        argv = ["/bin/sh", "-c", 'printf "%s" "$0" && exec "$@"', marker, "bash", f"{ws}/reward/reward.sh"]
        try:
            res = sandbox.run_isolated(argv, env=env, timeout_s=timeout_s, cwd=VERIFIER_CWD,
                                       rw_binds=((str(out_dir), _OUT_DIR),))
        except (OSError, SandboxError) as exc:
            return VerifierResult(0.0, infra_error=f"verifier sandbox failed: {exc}")
        if not res.stdout_head.startswith(marker):
            return VerifierResult(0.0, infra_error=f"verifier sandbox failed to start (exit {res.exit_code}): "
                                                   f"{res.stderr.strip()[:500]}")
        stdout = res.stdout[len(marker):] if not res.stdout_dropped and res.stdout.startswith(marker) else res.stdout
        result = VerifierResult(
            0.0, exit_code=res.exit_code, timed_out=res.timed_out, stdout_tail=stdout[-2000:],
            stderr_head=res.stderr[:500], duration_s=res.duration_s,
        )
        result.subscores = _read_subscores(out_dir / "check_stdout")
        if res.timed_out:
            result.reason = f"verifier timed out after {timeout_s:g} s"
        elif res.exit_code != 0:
            result.reason = f"verifier exited with code {res.exit_code}: {res.stderr[:500].strip()}"
        elif res.stdout_dropped and not stdout.strip():
            result.reason = "verifier output is not a number: its last line is longer than the 64 KiB kept"
        else:
            result.reward, result.reason = parse_reward_stdout(stdout)
            result.out_of_range = not 0.0 <= result.reward <= 1.0
        return result
    finally:
        remove_tree(out_dir)  # the verifier may leave anything there, deep chains included


def _payload_bytes(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON; a lone surrogate (a model can emit one) becomes its ``\\udXXX`` JSON escape, which
    every JSON parser reads back, instead of failing the write (UnicodeEncodeError)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _read_subscores(path: Path) -> dict[str, Any] | None:
    """check.py's stdout as the verifier left it in its output folder: a regular file, opened without
    following links (the verifier's processes could plant one to a host file), at most 1 MiB."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _SUBSCORES_MAX_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(_SUBSCORES_MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
