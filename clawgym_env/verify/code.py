"""The code verifier: ``bash reward/reward.sh`` in a fresh sandbox over the episode's workspace.

Contract (DESIGN.md 3, specs/clawgym-reference.md §A3): reward/ is copied in only now, after
whatever the agent left at reward/ is removed (links not followed); the verifier runs in a new
sandbox (``Sandbox.run_verifier``; bwrap starts it ahead of time, blocked until the agent's sandbox
is stopped and reward/ installed), so no process of the episode survives into it and nothing but
the workspace carries over; 120 s default timeout; reward = float(last non-empty stdout line);
non-zero exit, empty output, parse error, NaN/inf, timeout -> 0.0 with the reason. A sandbox that
could not run the verifier at all (the backend raises ``SandboxStartError``: its start marker never
came, see sandbox/client.py) is an infrastructure error, never a zero.

Everything here goes through the sandbox protocol (``stop``, ``install_verifier``,
``verifier_paths``, ``run_verifier``): no host path of the workspace, no backend attribute, so a
backend whose workspace is not a host folder needs no change here.

Nothing the agent leaves may change the reward (issue 11):

- cwd is ``/``, as in the authors' chroot backend, never the workspace: with cwd = workspace the
  ``python3 -c`` step of reward.sh imported an agent's ``json.py`` (1.0 on every task);
- the verifier's own Python runs with an import guard (``sandbox/verifier_guard.py``): modules the
  sandbox's Python installation provides always come from the installation, so no module, package
  or bytecode anywhere in the workspace can stand in for them, while scripts of the agent that
  check.py runs on purpose keep plain Python semantics;
- the output folder is read (by the sandbox) without following links, size-capped; stdout/stderr are kept bounded
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import Sandbox, SandboxError, SandboxStartError
from clawgym_env.sandbox.hostws import install_reward_dir
from clawgym_env.tasks.model import WORKSPACE, Task

DEFAULT_TIMEOUT_S = 120.0
VERIFIER_CWD = "/"
"""The verifier's working directory: the authors' chroot backend runs reward.sh from ``/``."""
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


def install_reward_files(task: Task, folder: Path, owner_uid: int | None, workspace_path: str = WORKSPACE) -> None:
    """Replace whatever is at ``folder/reward`` with ``task``'s verifier files (a host folder; the
    env and the verifier go through ``Sandbox.install_verifier`` instead)."""
    install_reward_dir(Path(folder), task.reward_files, reward_modes(task), owner_uid, workspace_path)


def reward_modes(task: Task) -> dict[str, int]:
    """The file mode of each reward file, by its path relative to reward/."""
    return {rel: task.file_modes.get(f"reward/{rel}", 0o644) for rel in task.reward_files}


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
    sandbox: Sandbox,
    task: Task,
    *,
    final_message: str = "",
    transcript: list[dict[str, Any]] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> VerifierResult:
    """Score the workspace of ``sandbox`` with ``task``'s verifier. Stops the agent's sandbox first."""
    if not task.has_verifier:
        return VerifierResult(0.0, infra_error=f"task {task.task_id} has no reward/reward.sh")
    try:
        sandbox.stop()  # nothing the agent started may run alongside; stop also undoes an agent's chmod 000
        sandbox.install_verifier(task.reward_files, reward_modes(task))
    except (OSError, SandboxError) as exc:
        return VerifierResult(0.0, infra_error=f"could not prepare the verifier: {exc}")
    ws = sandbox.workspace
    paths = sandbox.verifier_paths
    env = {
        "PATH": f"{paths.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": paths.guard,
        "CLAWGYM_VERIFIER_WORKSPACE": ws,
        "OPENCLAW_REWARD_PAYLOAD": f"{paths.out}/payload.json",
        "CLAWGYM_CHECK_STDOUT": f"{paths.out}/check_stdout",
    }
    payload = _payload_bytes(reward_payload(task, final_message, transcript or []))
    try:
        res = sandbox.run_verifier(["bash", f"{ws}/reward/reward.sh"], env=env, timeout_s=timeout_s, cwd=VERIFIER_CWD,
                                   inputs={"payload.json": payload}, outputs=("check_stdout",),
                                   max_output_bytes=_SUBSCORES_MAX_BYTES)
    except SandboxStartError as exc:
        return VerifierResult(0.0, infra_error=str(exc))
    except (OSError, SandboxError) as exc:
        return VerifierResult(0.0, infra_error=f"verifier sandbox failed: {exc}")
    stdout = res.stdout
    result = VerifierResult(
        0.0, exit_code=res.exit_code, timed_out=res.timed_out, stdout_tail=stdout[-2000:],
        stderr_head=res.stderr[:500], duration_s=res.duration_s,
    )
    result.subscores = _parse_subscores(res.outputs.get("check_stdout"))
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


def _payload_bytes(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON; a lone surrogate (a model can emit one) becomes its ``\\udXXX`` JSON escape, which
    every JSON parser reads back, instead of failing the write (UnicodeEncodeError)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _parse_subscores(raw: bytes | None) -> dict[str, Any] | None:
    """check.py's stdout as the verifier left it in its output folder (the sandbox read it as a
    regular file, without following links, at most 1 MiB): its dict, else None."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
