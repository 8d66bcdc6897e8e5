"""Harbor task folders (the Terminal-Bench 2 / Harbor framework format) as ClawGym tasks.

A Harbor task folder::

    my-task/
      task.toml          [metadata], [verifier] timeout_sec, [agent], [environment] ...
      instruction.md     what the agent is asked
      environment/       the build context of the agent's container (Dockerfile, files it COPYs)
      tests/test.sh      the verifier: writes the reward to /logs/verifier/reward.txt (or reward.json)
      solution/solve.sh  a reference solution (optional)

How it becomes a :class:`~clawgym_env.tasks.model.Task`:

- ``user_query`` is instruction.md;
- the workspace is what the Dockerfile's ``COPY``/``ADD`` steps put under its final ``WORKDIR``
  (the container's working directory, where Harbor's agent starts); the ClawGym sandbox shows it at
  ``/root/.openclaw/workspace``, so the WORKDIR path is rewritten to that path in the instruction,
  the tests and the solution. Files copied elsewhere, ``ADD`` of URLs and ``COPY --from`` stages
  cannot be followed without building the image: they are listed in ``metadata.harbor.unmapped``;
- the verifier is ``reward/reward.sh`` (:data:`ADAPTER_SH`), which copies ``tests/`` to
  ``/tmp/harbor/tests``, runs ``tests/test.sh`` from the workspace with its output in
  ``/tmp/harbor/logs/verifier`` and prints the number it wrote. Harbor's absolute paths
  ``/tests``, ``/logs``, ``/solution`` are rewritten under ``/tmp/harbor`` in the text files of
  ``tests/`` and ``solution/`` (the sandbox's root is read-only; its /tmp is private to each run);
- the oracle (``solution/``) is played as ``exec`` calls that unpack the folder into
  ``/tmp/harbor/solution`` and run ``bash solve.sh`` from the workspace, as Harbor's oracle agent does.

The Dockerfile's ``RUN`` steps (packages, files made at build time) are applied only on the docker
backend, and only when the source builds the image (``HarborSource(path, build=True)`` or
:func:`build_image`): the task then names the image in ``metadata.docker_image`` and its workspace
is the WORKDIR of the built image (RUN steps that write there included). The bwrap backend runs
ClawGym's own root filesystem: no RUN step of the task is applied there.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shlex
import subprocess
import tarfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks.model import Task, TaskFormatError
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tasks.registry import TaskSourceKind

TASK_TOML = "task.toml"
INSTRUCTION = "instruction.md"
HARBOR_TMP = "/tmp/harbor"
"""Where Harbor's fixed absolute paths (/tests, /logs, /solution) live inside a ClawGym sandbox."""
DEFAULT_VERIFIER_TIMEOUT_S = 120.0
_EXEC_CHUNK = 8000
"""base64 characters per oracle ``exec`` call (the exec tool takes at most 10,000)."""

ADAPTER_SH = f"""#!/usr/bin/env bash
# Harbor's verifier run inside a ClawGym verifier sandbox (clawgym_env/tasks/harbor.py): tests/ at
# {HARBOR_TMP}/tests, logs at {HARBOR_TMP}/logs, cwd the workspace; prints the reward test.sh wrote.
set -u
WS={WORKSPACE}
H={HARBOR_TMP}
rm -rf "$H/tests" "$H/logs"
mkdir -p "$H/logs/verifier" "$H/logs/agent" "$H/logs/artifacts"
cp -r "$WS/reward/tests" "$H/tests"
rm -rf "$WS/reward"  # Harbor's test.sh sees the working directory as the agent left it
cd "$WS"
bash "$H/tests/test.sh" > "$H/logs/verifier/test-stdout.txt" 2>&1
code=$?
tail -c 2000 "$H/logs/verifier/test-stdout.txt" >&2
python3 - "$H/logs/verifier" "$code" <<'PY'
import json, os, sys
logs, code = sys.argv[1], sys.argv[2]
txt, js = os.path.join(logs, "reward.txt"), os.path.join(logs, "reward.json")
if os.path.isfile(txt):
    print(open(txt).read().strip())
elif os.path.isfile(js):
    data = json.load(open(js))
    out = os.environ.get("CLAWGYM_CHECK_STDOUT")
    if out and isinstance(data, dict):
        with open(out, "w") as f:
            json.dump(data, f)
    print(data.get("reward", sum(map(float, data.values())) / len(data)) if isinstance(data, dict) and data else data)
else:
    sys.exit(f"harbor: tests/test.sh (exit {{code}}) wrote neither reward.txt nor reward.json")
PY
"""
"""The ``reward/reward.sh`` of every Harbor task loaded here."""

_INSTR = re.compile(r"^\s*([A-Za-z]+)\s*(.*)$", re.DOTALL)


# ---------------------------------------------------------------------- Dockerfile
@dataclass
class DockerfilePlan:
    """What a Dockerfile does that a ClawGym task can hold, and what it cannot."""

    workdir: str | None = None
    """The final WORKDIR (absolute), None when the Dockerfile sets none."""
    base_image: str | None = None
    copies: list[tuple[str, str]] = field(default_factory=list)
    """(source relative to the build context, absolute destination) of each local COPY/ADD."""
    unmapped: list[str] = field(default_factory=list)
    """Steps that do not land in the workspace as files: RUN, COPY --from, ADD of URLs, ..."""


def _logical_lines(text: str) -> Iterator[str]:
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        yield buf
        buf = ""
    if buf:
        yield buf


def _args(rest: str) -> list[str]:
    rest = rest.strip()
    if rest.startswith("["):
        try:
            value = json.loads(rest)
            if isinstance(value, list):
                return [str(v) for v in value]
        except ValueError:
            pass
    return shlex.split(rest)


def parse_dockerfile(text: str) -> DockerfilePlan:
    """The WORKDIR and the local COPY/ADD steps of a Dockerfile (the last stage's)."""
    plan = DockerfilePlan()
    cwd = "/"
    for line in _logical_lines(text):
        m = _INSTR.match(line)
        if m is None:
            continue
        op, rest = m.group(1).upper(), m.group(2)
        if op == "FROM":
            plan = DockerfilePlan(base_image=(rest.split() or [None])[0])  # a new stage starts over
            cwd = "/"
        elif op == "WORKDIR":
            cwd = str(PurePosixPath(cwd, rest.strip().strip('"')))
            plan.workdir = cwd
        elif op in ("COPY", "ADD"):
            words = _args(rest)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            if any(f.startswith("--from") for f in flags) or len(paths) < 2:
                plan.unmapped.append(line)
                continue
            *srcs, dest = paths
            dest_abs = str(PurePosixPath(cwd, dest)) + ("/" if dest.endswith("/") or len(srcs) > 1 else "")
            for src in srcs:
                if op == "ADD" and (re.match(r"^[a-z]+://", src) or re.search(r"\.(tar|tgz|tar\.\w+)$", src)):
                    plan.unmapped.append(f"{op} {src} {dest}")
                else:
                    plan.copies.append((src, dest_abs))
        elif op in ("RUN", "ENV", "USER", "VOLUME", "SHELL"):  # what only a built image has
            plan.unmapped.append(line)
    return plan


def _context_files(context: Path, src: str) -> list[tuple[Path, str]]:
    """(file, path relative to the copy's destination) for one COPY source (globs, folders)."""
    norm = src.lstrip("/") or "."
    matches = sorted(context.glob(norm)) if any(c in norm for c in "*?[") else [context / norm]
    out: list[tuple[Path, str]] = []
    for m in matches:
        if m.is_dir():
            for dirpath, _dirs, files in os.walk(m):
                for name in files:
                    f = Path(dirpath) / name
                    out.append((f, f.relative_to(m).as_posix()))
        elif m.is_file():
            out.append((m, m.name))
        else:
            raise TaskFormatError(f"{context}: COPY source {src!r} does not exist")
    return out


def workspace_from_context(context: Path, plan: DockerfilePlan) -> tuple[dict[str, bytes], dict[str, int], list[str]]:
    """The files the plan's COPY steps put under its WORKDIR, by workspace-relative path; their
    executable modes; and the copies that land outside it."""
    files: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    outside: list[str] = []
    workdir = PurePosixPath(plan.workdir) if plan.workdir else None
    ignore = {"Dockerfile", ".dockerignore"}
    for src, dest in plan.copies:
        entries = _context_files(context, src)
        single_file = len(entries) == 1 and (context / src.lstrip("/")).is_file() and not dest.endswith("/")
        for path, rel in entries:
            if path.relative_to(context).as_posix() in ignore:
                continue
            target = PurePosixPath(dest) if single_file else PurePosixPath(dest, rel)
            if workdir is None or workdir not in target.parents:
                outside.append(f"{path.relative_to(context).as_posix()} -> {target}")
                continue
            key = target.relative_to(workdir).as_posix()
            files[key] = path.read_bytes()
            if path.stat().st_mode & 0o111:
                modes[key] = 0o755
    return files, modes, outside


# ---------------------------------------------------------------------- path rewriting
def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.~/$-])" + re.escape(path.rstrip("/")) + r"(?=/|[\s\"'`;:,)\]}|&>]|\.(?:\s|$)|$)")


_FIXED = (("/tests", f"{HARBOR_TMP}/tests"), ("/logs", f"{HARBOR_TMP}/logs"), ("/solution", f"{HARBOR_TMP}/solution"))
"""Harbor's fixed absolute paths and where a ClawGym sandbox has them."""


def path_map(workdir: str | None, *, shell: bool = True) -> list[tuple[re.Pattern[str], str]]:
    """Harbor's absolute paths -> where a ClawGym sandbox has them. In a shell script every use of
    /tests, /logs, /solution is mapped; in other text files (Python tests) only string literals that
    start with one and go on (``"/tests/expected.txt"``), so code that joins ``root + '/tests'`` is
    left alone. The WORKDIR is mapped everywhere."""
    pairs: list[tuple[re.Pattern[str], str]] = []
    for path, repl in _FIXED:
        pattern = _path_pattern(path) if shell else re.compile(r"(?<=[\"'])" + re.escape(path) + r"(?=/)")
        pairs.append((pattern, repl))
    if workdir and workdir not in ("/", WORKSPACE):
        pairs.append((_path_pattern(workdir), WORKSPACE))
    return pairs


def _is_shell(rel: str, data: bytes) -> bool:
    first = data.split(b"\n", 1)[0]
    return rel.endswith(".sh") or (first.startswith(b"#!") and (b"sh" in first.rsplit(b"/", 1)[-1]))


def rewrite_paths(data: bytes, mapping: list[tuple[re.Pattern[str], str]]) -> bytes:
    """``data`` with the mapped paths replaced, when it is UTF-8 text; other bytes as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    for pattern, repl in mapping:
        text = pattern.sub(repl.replace("\\", "\\\\"), text)
    return text.encode("utf-8")


def rewrite_tree(files: dict[str, bytes], workdir: str | None) -> dict[str, bytes]:
    """The text files of tests/ or solution/ with Harbor's paths mapped (:func:`path_map`)."""
    shell, other = path_map(workdir), path_map(workdir, shell=False)
    return {rel: rewrite_paths(data, shell if _is_shell(rel, data) else other) for rel, data in files.items()}


# ---------------------------------------------------------------------- loading
def is_harbor_task(path: Path) -> bool:
    return (path / TASK_TOML).is_file() and (path / INSTRUCTION).is_file()


def _tree(root: Path) -> tuple[dict[str, bytes], dict[str, int]]:
    files: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    if not root.is_dir():
        return files, modes
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            f = Path(dirpath) / name
            if f.is_symlink() or not f.is_file():
                raise TaskFormatError(f"{f}: only regular files are allowed in {root.name}/")
            rel = f.relative_to(root).as_posix()
            files[rel] = f.read_bytes()
            if f.stat().st_mode & 0o111:
                modes[rel] = 0o755
    return files, modes


def oracle_actions(solution: dict[str, bytes], modes: dict[str, int]) -> list[dict[str, Any]]:
    """``exec`` calls that unpack ``solution/`` into /tmp/harbor/solution and run solve.sh from the
    workspace (each call under the exec tool's 10,000 characters)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in sorted(solution.items()):
            info = tarfile.TarInfo(rel)
            info.size, info.mode, info.mtime = len(data), modes.get(rel, 0o644), 0
            tar.addfile(info, io.BytesIO(data))
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    staged = f"{HARBOR_TMP}/solution.tgz.b64"
    calls = [f"mkdir -p {HARBOR_TMP} && rm -rf {HARBOR_TMP}/solution {staged}"]
    calls += [f"printf %s '{b64[i:i + _EXEC_CHUNK]}' >> {staged}" for i in range(0, len(b64), _EXEC_CHUNK)]
    calls.append(f"mkdir -p {HARBOR_TMP}/solution && base64 -d {staged} | tar -xzf - -C {HARBOR_TMP}/solution "
                 f"&& cd {WORKSPACE} && bash {HARBOR_TMP}/solution/solve.sh")
    return [{"name": "exec", "arguments": {"command": c}} for c in calls]


def load_harbor_task(task_dir: str | os.PathLike[str], *, files: dict[str, bytes] | None = None,
                     modes: dict[str, int] | None = None, docker_image: str | None = None) -> Task:
    """One Harbor task folder as a Task. ``files``/``modes``/``docker_image``: the workspace taken
    from a built image (:func:`build_image`) instead of the Dockerfile's COPY steps."""
    task_dir = Path(task_dir)
    if not is_harbor_task(task_dir):
        raise TaskFormatError(f"{task_dir}: not a Harbor task folder (needs {TASK_TOML} and {INSTRUCTION})")
    try:
        config = tomllib.loads((task_dir / TASK_TOML).read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{task_dir / TASK_TOML}: invalid TOML: {exc}") from None
    tests, test_modes = _tree(task_dir / "tests")
    if "test.sh" not in tests:
        raise TaskFormatError(f"{task_dir / 'tests' / 'test.sh'}: missing (Harbor's verifier entry point)")
    dockerfile = task_dir / "environment" / "Dockerfile"
    plan = parse_dockerfile(dockerfile.read_text()) if dockerfile.is_file() else DockerfilePlan()
    outside: list[str] = []
    if files is None:
        files, modes, outside = workspace_from_context(task_dir / "environment", plan)
    raw_meta = config.get("metadata", {}) if isinstance(config.get("metadata"), dict) else {}
    meta_json = raw_meta.get("clawgym_metadata")
    metadata: dict[str, Any] = json.loads(meta_json) if isinstance(meta_json, str) else dict(raw_meta)
    env_conf = config.get("environment", {}) if isinstance(config.get("environment"), dict) else {}
    verifier_conf = config.get("verifier", {}) if isinstance(config.get("verifier"), dict) else {}
    metadata["harbor"] = {
        "workdir": plan.workdir, "base_image": plan.base_image, "unmapped": plan.unmapped + outside,
        "verifier_timeout_sec": float(verifier_conf.get("timeout_sec", DEFAULT_VERIFIER_TIMEOUT_S)),
        "agent_timeout_sec": (config.get("agent") or {}).get("timeout_sec"),
        "applied": "docker image" if docker_image else "COPY steps only (RUN steps not applied)",
    }
    if env_conf.get("allow_internet") is True:
        metadata["network"] = True
    if docker_image:
        metadata["docker_image"] = docker_image
    solution, sol_modes = _tree(task_dir / "solution")
    oracle = None
    if "solve.sh" in solution:
        oracle = oracle_actions(rewrite_tree(solution, plan.workdir), sol_modes)
    reward_files = {"reward.sh": ADAPTER_SH.encode()} | {
        f"tests/{k}": v for k, v in rewrite_tree(tests, plan.workdir).items()}
    file_modes = {"reward/reward.sh": 0o755} | {f"reward/tests/{k}": v for k, v in test_modes.items()}
    file_modes |= {f"input_files/{k}": v for k, v in (modes or {}).items()}
    instruction = (task_dir / INSTRUCTION).read_text()
    try:
        return Task(
            task_id=task_dir.name, user_query=rewrite_paths(instruction.encode(), path_map(plan.workdir)[len(_FIXED):]).decode(),
            metadata=metadata, input_files=files, reward_files=reward_files, source=str(task_dir),
            file_modes=file_modes, oracle=oracle,
        )
    except ValueError as exc:
        raise TaskFormatError(f"{task_dir}: {exc}") from None


# ---------------------------------------------------------------------- docker
def image_tag(task_dir: Path) -> str:
    """``clawgym-harbor/<name>:<hash of the build context>``: rebuilt only when the context changes."""
    h = hashlib.sha256()
    ctx = task_dir / "environment"
    for dirpath, dirs, names in os.walk(ctx):
        dirs.sort()
        for name in sorted(names):
            f = Path(dirpath) / name
            h.update(f.relative_to(ctx).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    name = re.sub(r"[^a-z0-9._-]+", "-", task_dir.name.lower()).strip(".-_") or "task"
    return f"clawgym-harbor/{name}:{h.hexdigest()[:12]}"


def _docker(*args: str, input: bytes | None = None, timeout: float = 600) -> bytes:
    try:
        res = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TaskFormatError(f"docker {args[0]}: {exc}") from None
    if res.returncode != 0:
        raise TaskFormatError(f"docker {' '.join(args[:2])}: {res.stderr.decode(errors='replace')[-2000:]}")
    return res.stdout


def build_image(task_dir: str | os.PathLike[str], *, timeout_s: float = 600) -> tuple[str, dict[str, bytes], dict[str, int]]:
    """Build (or reuse) the image of a Harbor task's environment/Dockerfile; returns its tag and
    the files of its WORKDIR (RUN steps' files included), as the workspace. The image must have
    ``/usr/bin/python3`` (ClawGym's in-sandbox server runs on it)."""
    task_dir = Path(task_dir)
    ctx = task_dir / "environment"
    if not (ctx / "Dockerfile").is_file():
        raise TaskFormatError(f"{ctx / 'Dockerfile'}: missing (the docker backend builds the task's image from it)")
    plan = parse_dockerfile((ctx / "Dockerfile").read_text())
    tag = image_tag(task_dir)
    if not _docker("images", "-q", tag).strip():
        _docker("build", "-q", "-t", tag, str(ctx), timeout=timeout_s)
    files: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    if plan.workdir and plan.workdir != "/":
        cid = _docker("create", tag, "true").decode().strip()
        try:
            raw = _docker("cp", f"{cid}:{plan.workdir}/.", "-")
        finally:
            _docker("rm", "-f", cid)
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                rel = PurePosixPath(member.name).as_posix().removeprefix("./")
                if rel and not rel.startswith("../"):
                    f = tar.extractfile(member)
                    files[rel] = f.read() if f else b""
                    if member.mode & 0o111:
                        modes[rel] = 0o755
    return tag, files, modes


# ---------------------------------------------------------------------- the source
class HarborSource:
    """One Harbor task folder, or a folder of them (a Harbor dataset), indexed lazily.

    Args:
        path: the folder.
        build: build each task's image from its Dockerfile (needs docker) and take the workspace
            from the built image's WORKDIR; the task then names the image in ``metadata.docker_image``,
            which the docker backend runs. False (default): the Dockerfile's COPY steps only.
    """

    def __init__(self, path: str | os.PathLike[str], *, build: bool = False):
        self.path = Path(path).resolve()
        self.build = build
        if is_harbor_task(self.path):
            self._dirs = {self.path.name: self.path}
        elif self.path.is_dir():
            self._dirs = {p.name: p for p in sorted(self.path.iterdir()) if p.is_dir() and is_harbor_task(p)}
        else:
            self._dirs = {}
        if not self._dirs:
            raise TaskFormatError(f"{self.path}: no Harbor task folders (task.toml + instruction.md)")
        self._cache: dict[str, Task] = {}

    @property
    def name(self) -> str:
        return self.path.name

    def ids(self) -> list[str]:
        return list(self._dirs)

    def __len__(self) -> int:
        return len(self._dirs)

    def __iter__(self) -> Iterator[Task]:
        for tid in self._dirs:
            yield self.load(tid)

    def task_dir(self, task_id: str) -> Path:
        try:
            return self._dirs[task_id]
        except KeyError:
            raise KeyError(f"no Harbor task {task_id!r} in {self.path}") from None

    def load(self, task_id: str) -> Task:
        task = self._cache.get(task_id)
        if task is None:
            d = self.task_dir(task_id)
            if self.build:
                tag, files, modes = build_image(d)
                task = load_harbor_task(d, files=files, modes=modes, docker_image=tag)
            else:
                task = load_harbor_task(d)
            self._cache[task_id] = task
        return task

    def category(self, task_id: str) -> str:
        return str(self.load(task_id).metadata.get("category", ""))

    def ref(self, task_id: str) -> TaskRef:
        self.task_dir(task_id)
        return TaskRef(kind="harbor", path=str(self.path), id=task_id, params={"build": True} if self.build else None)

    def describe(self) -> dict[str, Any]:
        return {"kind": "harbor", "path": str(self.path), "tasks": len(self)}


def _detect(path: Path) -> bool:
    if is_harbor_task(path):
        return True
    try:
        return path.is_dir() and any(is_harbor_task(p) for p in path.iterdir() if p.is_dir())
    except OSError:
        return False


SOURCE_KIND = TaskSourceKind("harbor", HarborSource, detect=_detect, priority=10)
"""Harbor task folders: claimed by ``open_source`` where a folder (or one below it) has task.toml and
instruction.md."""

__all__ = [
    "ADAPTER_SH",
    "HARBOR_TMP",
    "SOURCE_KIND",
    "HarborSource",
    "build_image",
    "image_tag",
    "is_harbor_task",
    "load_harbor_task",
    "parse_dockerfile",
    "path_map",
    "rewrite_paths",
]
