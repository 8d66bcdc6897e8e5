"""Write ClawGym tasks as Harbor task folders (the Terminal-Bench 2 / Harbor framework format).

One ClawGym task becomes::

    <task_id>/
      task.toml                [metadata] (category, difficulty, tags, the whole ClawGym metadata as
                               JSON in clawgym_metadata), [verifier]/[agent]/[environment] settings
      instruction.md           the user query
      environment/Dockerfile   FROM the ClawGym sandbox image, WORKDIR the ClawGym workspace,
                               COPY workspace/ (the task's initial workspace)
      environment/workspace/   the input files, at their workspace paths
      tests/test.sh            runs our verifier (tests/reward/reward.sh) as ClawGym does and writes
                               its number to /logs/verifier/reward.txt
      tests/reward/            the task's reward files (reward.sh, check.py, ...)
      tests/payload.json       the reward payload (final message and transcript empty: Harbor has none)
      solution/solve.sh        the oracle's actions as bash (only where the task has an oracle)

The workspace keeps ClawGym's path (``/root/.openclaw/workspace``) because the verifiers hard-code it.
A verifier that reads the reward payload's final message or transcript scores what Harbor cannot
give it (:func:`harbor_expressible` says which tasks those are).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks.files import write_input
from clawgym_env.tasks.model import Task, task_dir_name

TASK_TOML_NAME = "task.toml"
DEFAULT_BASE_IMAGE = "clawgym/sandbox:bookworm"
"""The image the Dockerfile starts FROM: ClawGym's sandbox rootfs (``clawgym sandbox build``), where
every verifier is known to run."""

TEST_SH = f"""#!/usr/bin/env bash
# A ClawGym verifier run the Harbor way: reward/ is installed fresh into the workspace, reward.sh
# runs from / (as in ClawGym), and float(its last non-empty stdout line) goes to reward.txt; a
# non-zero exit, no number, NaN or inf give 0 with the reason in /logs/verifier/reason.txt.
set -u
WS={WORKSPACE}
mkdir -p /logs/verifier
rm -rf "$WS/reward"
cp -r /tests/reward "$WS/reward"
export OPENCLAW_REWARD_PAYLOAD=/tests/payload.json CLAWGYM_VERIFIER_WORKSPACE="$WS" PYTHONDONTWRITEBYTECODE=1
cd / && bash "$WS/reward/reward.sh" > /logs/verifier/reward-stdout.txt 2> /logs/verifier/reward-stderr.txt
code=$?
python3 - "$code" <<'PY'
import math, sys
code = int(sys.argv[1])
lines = [ln.strip() for ln in open("/logs/verifier/reward-stdout.txt", errors="replace").read().splitlines() if ln.strip()]
reward, reason = 0.0, None
if code != 0:
    reason = f"verifier exited with code {{code}}"
elif not lines:
    reason = "verifier printed nothing"
else:
    try:
        if "_" in lines[-1]:
            raise ValueError(lines[-1])
        reward = float(lines[-1])
        if math.isnan(reward) or math.isinf(reward):
            reward, reason = 0.0, f"verifier returned {{lines[-1]!r}}"
    except ValueError:
        reason = f"verifier output is not a number: {{lines[-1][:200]!r}}"
open("/logs/verifier/reward.txt", "w").write(f"{{reward!r}}\\n")
if reason:
    open("/logs/verifier/reason.txt", "w").write(reason + "\\n")
PY
"""


def harbor_expressible(task: Task) -> tuple[bool, str | None]:
    """Whether Harbor can score ``task`` as ClawGym does, and why not: its verifier must not read the
    reward payload (Harbor gives the verifier no final message and no transcript) and it must not
    need a rubric judge."""
    for rel, data in task.reward_files.items():
        if b"OPENCLAW_REWARD_PAYLOAD" in data:
            return False, f"reward/{rel} reads the reward payload (final message, transcript)"
    if not task.has_verifier:
        return False, "no reward/reward.sh"
    return True, None


def _resolve(path: str) -> str:
    p = PurePosixPath(path)
    return str(p if p.is_absolute() else PurePosixPath(WORKSPACE, p))


def _heredoc_b64(data: bytes) -> str:
    body = base64.encodebytes(data).decode("ascii")
    return f"<<'CLAWGYM_B64'\n{body}CLAWGYM_B64\n"


def solve_sh(actions: list[Any]) -> str:
    """The oracle's tool calls as bash: ``write`` -> the file written, ``edit`` -> its first exact
    match replaced, ``exec`` -> ``sh -c`` from the workspace, ``read`` -> nothing. Raises ValueError
    for another tool (no bash equivalent written)."""
    out = ["#!/usr/bin/env bash", "# The ClawGym oracle's tool calls, as bash (a failing call does not stop the",
           "# ones after it, as in a ClawGym episode).", f"cd {WORKSPACE}"]
    for action in actions:
        if not isinstance(action, dict) or "name" not in action:
            continue  # an assistant message: no effect on the workspace
        name, args = action["name"], action.get("arguments") or {}
        if isinstance(args, str):
            args = json.loads(args)
        if name == "read":
            continue
        if name == "write":
            path = shlex.quote(_resolve(args["path"]))
            out.append(f"mkdir -p \"$(dirname {path})\"")
            out.append(f"base64 -d > {path} {_heredoc_b64(str(args['content']).encode())}".rstrip("\n"))
        elif name == "edit":
            spec = json.dumps({"path": _resolve(args["path"]), "old": args["oldText"], "new": args["newText"]})
            out.append("python3 - <<'CLAWGYM_PY'\nimport base64, json\n"
                       f"e = json.loads(base64.b64decode({base64.b64encode(spec.encode()).decode()!r}))\n"
                       "text = open(e['path'], encoding='utf-8').read()\n"
                       "assert e['old'] in text, 'edit: oldText not found in ' + e['path']\n"
                       "open(e['path'], 'w', encoding='utf-8').write(text.replace(e['old'], e['new'], 1))\n"
                       "CLAWGYM_PY")
        elif name == "exec":
            out.append(f"(cd {WORKSPACE} && sh -c \"$(base64 -d {_heredoc_b64(str(args['command']).encode())})\")")
        else:
            raise ValueError(f"oracle tool {name!r} has no bash equivalent")
    return "\n".join(out) + "\n"


def _toml_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return "[" + ", ".join(_toml_value(v) or "" for v in value) + "]"
    return None


def task_toml(task: Task, *, verifier_timeout_s: float, agent_timeout_s: float) -> str:
    """task.toml: Harbor's settings, and the ClawGym metadata whole (as JSON) so it loads back as is."""
    meta = task.metadata
    lines = ['version = "1.0"', "", "[metadata]", f"clawgym_task_id = {_toml_value(task.task_id)}"]
    for key, harbor_key in (("category", "category"), ("subcategory", "subcategory"), ("difficulty", "difficulty"),
                            ("operations", "tags")):
        value = _toml_value(meta.get(key)) if key in meta else None
        if value is not None:
            lines.append(f"{harbor_key} = {value}")
    lines.append(f"clawgym_metadata = {_toml_value(json.dumps(meta, ensure_ascii=False, sort_keys=True))}")
    lines += ["", "[verifier]", f"timeout_sec = {float(verifier_timeout_s)!r}",
              "", "[agent]", f"timeout_sec = {float(agent_timeout_s)!r}",
              "", "[environment]", "build_timeout_sec = 600.0", "cpus = 1", "memory_mb = 2048", "storage_mb = 10240",
              f"allow_internet = {'true' if task.needs_network else 'false'}", ""]
    return "\n".join(lines)


def dockerfile(task: Task, base_image: str) -> str:
    lines = [f"FROM {base_image}", f"WORKDIR {WORKSPACE}"]
    if task.input_files:
        lines.append(f"COPY workspace/ {WORKSPACE}/")
    return "\n".join(lines) + "\n"


def write_harbor_task(task: Task, dest: str | os.PathLike[str], *, base_image: str = DEFAULT_BASE_IMAGE,
                      verifier_timeout_s: float = 120.0, agent_timeout_s: float = 1800.0,
                      overwrite: bool = False) -> Path:
    """Write ``task`` as the Harbor task folder ``dest/<task_id>/``; returns it."""
    out = Path(dest) / task_dir_name(task)
    if out.exists() and not overwrite and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty (pass overwrite=True)")
    solution = solve_sh(task.oracle) if task.oracle else None  # before writing: a ValueError leaves nothing
    (out / "environment").mkdir(parents=True, exist_ok=True)
    (out / "tests").mkdir(exist_ok=True)
    (out / TASK_TOML_NAME).write_text(task_toml(task, verifier_timeout_s=verifier_timeout_s,
                                                agent_timeout_s=agent_timeout_s))
    (out / "instruction.md").write_text(task.user_query if task.user_query.endswith("\n") else task.user_query + "\n")
    (out / "environment" / "Dockerfile").write_text(dockerfile(task, base_image))
    for rel, data, mode in task.workspace_entries():
        path = out / "environment" / "workspace" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_input(data, path)
        os.chmod(path, mode)
    for rel, data in task.reward_files.items():
        path = out / "tests" / "reward" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, task.file_modes.get(f"reward/{rel}", 0o644))
    payload = {"task_id": task.task_id, "user_query": task.user_query, "metadata": task.metadata,
               "final_message": "", "transcript": []}
    (out / "tests" / "payload.json").write_text(json.dumps(payload, ensure_ascii=False) + "\n")
    (out / "tests" / "test.sh").write_text(TEST_SH)
    os.chmod(out / "tests" / "test.sh", 0o755)
    if solution is not None:
        (out / "solution").mkdir(exist_ok=True)
        (out / "solution" / "solve.sh").write_text(solution)
        os.chmod(out / "solution" / "solve.sh", 0o755)
    return out


def write_suite(source: Any, ids: list[str], out: Path, *, overwrite: bool = False, base_image: str = DEFAULT_BASE_IMAGE,
                progress: Any = None, **_: Any) -> dict[str, Any]:
    """Write ``ids`` of ``source`` as Harbor task folders under ``out``. Returns a summary: tasks
    written, with a solution, and those whose verifier Harbor cannot feed (still written)."""
    out.mkdir(parents=True, exist_ok=True)
    written, solutions, inexpressible, errors = 0, 0, {}, {}
    for task_id in ids:
        task = source.load(task_id)
        try:
            folder = write_harbor_task(task, out, base_image=base_image, overwrite=overwrite)
        except ValueError as exc:
            errors[task_id] = str(exc)
            continue
        finally:
            if progress is not None:
                progress()
        written += 1
        solutions += (folder / "solution" / "solve.sh").is_file()
        ok, why = harbor_expressible(task)
        if not ok:
            inexpressible[task_id] = why
    return {"format": "harbor", "out": str(out), "tasks": written, "with_solution": solutions,
            "not_expressible": inexpressible, "errors": errors}


__all__ = ["DEFAULT_BASE_IMAGE", "TEST_SH", "dockerfile", "harbor_expressible", "solve_sh", "task_toml",
           "write_harbor_task", "write_suite"]
