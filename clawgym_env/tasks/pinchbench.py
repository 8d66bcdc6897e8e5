"""PinchBench tasks (one Markdown file each) as ClawGym Tasks.

A PinchBench task file (specs/clawgym-reference.md §F1) is YAML front matter (``id``, ``name``,
``category``, ``grading_type``, ``timeout_seconds``, ``workspace_files``, optional
``grading_weights``) and a body split on ``## `` headers: Prompt, Expected Behavior, Grading
Criteria (a ``- [ ]`` checklist), Automated Checks (a fenced ``def grade(transcript,
workspace_path) -> dict``) and LLM Judge Rubric.

The loaded Task follows the ClawGym contract, so PinchBench runs through the same env, sandbox and
verifier as every other task:

- ``user_query`` is the Prompt section (exactly what PinchBench sends);
- fixtures (``{source, dest}`` from ``assets/``, or inline ``{path, content}``) become
  ``input_files``, binaries as raw bytes (an asset past 16 MiB as a TaskFile, see ``tasks/files.py``);
- ``reward/check.py`` is generated: the task's own ``grade()``, verbatim, plus a small stdlib runner
  that loads the OpenClaw session transcript from ``$OPENCLAW_REWARD_PAYLOAD``, calls
  ``grade(transcript, workspace)`` and prints the numeric scores as one JSON object;
  ``reward/reward.sh`` is the official template, which averages them -- PinchBench's automated
  score (the mean of the numeric values). PinchBench ``exec``s graders inside its harness; here
  they run inside the verifier sandbox and never in our process;
- the judge-graded parts (rubric, expected behaviour, weights) are kept in ``metadata`` for the
  rubric judge (``clawgym_env.verify.rubric``, ``clawgym_env.verify.hybrid``).

Quirks kept on purpose (faithful scoring; see README):

- ids come from the front matter, not the file name (upstream ``task_18_market_research.md`` has id
  ``task_16_market_research``); ``load`` also accepts the file stem;
- some graders look for tool names ``read_file`` / ``execute_command`` and a ``params`` key, which
  OpenClaw transcripts never contain (OpenClaw says ``read`` / ``exec`` / ``arguments``), so those
  sub-scores cannot be earned (task_08 ``read_notes``, task_10 ``read_config``);
- multi-session tasks (``sessions``) keep their placeholder Prompt as the user query, as the
  version of the runner we follow did; the sessions are kept in ``metadata``.
- ``reward/`` sits in the workspace while grade() runs (the ClawGym contract); a grader that scans
  the whole workspace recursively would see it (none of the shipped graders does).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clawgym_env.tasks.files import InputData, load_input
from clawgym_env.tasks.model import Task, TaskFormatError
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tasks.registry import TaskSourceKind
from clawgym_env.tasks.reward_template import REWARD_SH

SOURCE_NAME = "pinchbench"
DEFAULT_WEIGHTS = {"automated": 0.5, "llm_judge": 0.5}
"""PinchBench's hybrid default (lib_grading ``_combine_grades``)."""
DEFAULT_TIMEOUT_S = 120
GRADING_TYPES = ("automated", "llm_judge", "hybrid")
TASK_GLOB = "task_*.md"

_FRONT_MATTER = re.compile(r"^---\s*\n(.*?)\n---\s*\n(.*)$", re.DOTALL)
_HEADER = re.compile(r"^##\s+(.+?)\s*$")
_CHECK_ITEM = re.compile(r"^-\s+\[[ xX]\]\s+(.+)$")
_PYTHON_BLOCK = re.compile(r"```python\s*(.*?)\s*```", re.DOTALL)
_CRITERION = re.compile(r"^###\s+(?:Criterion\s*\d+\s*:\s*)?(.+?)\s*(?:\(Weight:\s*([\d.]+)\s*%\))?\s*$")


def _is_template(task_id: str) -> bool:
    """PinchBench skips its template (TASK_TEMPLATE.md, id ``task_XX_name``)."""
    return "_XX_" in task_id or task_id == "task_XX_name"


def split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """(front matter dict, body). Needs PyYAML, a dependency of this package."""
    import yaml  # lazy: only PinchBench needs it

    match = _FRONT_MATTER.match(text)
    if not match:
        raise TaskFormatError(f"{where}: no YAML front matter (the file must start with a '---' block)")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise TaskFormatError(f"{where}: invalid YAML front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise TaskFormatError(f"{where}: the front matter must be a mapping")
    return meta, match.group(2)


def split_sections(body: str) -> dict[str, str]:
    """``## Title`` -> stripped section text. Fenced code blocks are skipped when looking for
    headers (PinchBench's loader does not skip them; the shipped files give the same result)."""
    sections: dict[str, str] = {}
    title: str | None = None
    lines: list[str] = []
    in_fence = False
    for line in body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        header = None if in_fence else _HEADER.match(line)
        if header:
            if title is not None:
                sections[title] = "\n".join(lines).strip()
            title, lines = header.group(1), []
        elif title is not None:
            lines.append(line)
    if title is not None:
        sections[title] = "\n".join(lines).strip()
    return sections


def grading_criteria(section: str) -> list[str]:
    """The ``- [ ]`` checklist items of a Grading Criteria section."""
    items = []
    for line in section.split("\n"):
        match = _CHECK_ITEM.match(line.strip())
        if match:
            items.append(match.group(1))
    return items


def rubric_criteria(rubric: str) -> list[dict[str, Any]]:
    """``### Criterion N: Name (Weight: X%)`` headers -> [{name, weight}] (weight None if absent).

    PinchBench asks its judge for the plain mean of the criterion scores; the weights are kept
    for reference only.
    """
    found = []
    for line in rubric.split("\n"):
        if not line.startswith("### "):
            continue
        match = _CRITERION.match(line.strip())
        if match:
            weight = float(match.group(2)) / 100 if match.group(2) else None
            found.append({"name": match.group(1), "weight": weight})
    return found


def grading_code(section: str | None) -> str:
    """The first fenced python block of Automated Checks, as PinchBench extracts it."""
    if not section:
        return ""
    match = _PYTHON_BLOCK.search(section)
    return match.group(1) if match else ""


_RUNNER = '''

# ---- runner: added by clawgym_env (tasks/pinchbench.py) ------------------------------------------
def _clawgym_transcript():
    """The OpenClaw session events of the episode, from the reward payload ([] if unavailable)."""
    import json, os
    try:
        with open(os.environ.get("OPENCLAW_REWARD_PAYLOAD", ""), encoding="utf-8") as fh:
            payload = json.load(fh)
    except (OSError, ValueError):
        return []
    events = payload.get("transcript") if isinstance(payload, dict) else None
    return events if isinstance(events, list) else []


def _clawgym_main():
    import contextlib, json, sys
    workspace = sys.argv[1] if len(sys.argv) > 1 else "/root/.openclaw/workspace"
    grade_fn = globals().get("grade")
    scores = {}
    if callable(grade_fn):
        with contextlib.redirect_stdout(sys.stderr):  # reward.sh needs exactly one JSON document
            scores = grade_fn(_clawgym_transcript(), workspace)
    if not isinstance(scores, dict):
        scores = {}
    # PinchBench's score is the mean of the numeric values (bools count as 0/1); others are dropped.
    print(json.dumps({str(k): float(v) for k, v in scores.items() if isinstance(v, (int, float))}))


if __name__ == "__main__":
    _clawgym_main()
'''


def render_check_py(task_id: str, file_name: str, code: str) -> str:
    """reward/check.py: the task's grade() verbatim, then the runner."""
    head = (
        "#!/usr/bin/env python3\n"
        f"# PinchBench automated checks for {task_id}, generated by clawgym_env from {file_name}.\n"
        "# grade() below is the task's own code, verbatim. The runner at the end loads the OpenClaw\n"
        "# session transcript from $OPENCLAW_REWARD_PAYLOAD, calls grade(transcript, workspace) and\n"
        "# prints the numeric scores as one JSON object; reward.sh prints their mean (PinchBench's score).\n"
    )
    body = code if code else "# (this task has no automated checks: it scores 0.0 here, as in PinchBench)\n"
    return head + "\n" + body.rstrip("\n") + "\n" + _RUNNER


def _resolve_asset(source: str, assets_dir: Path | None, task_id: str, where: str) -> Path:
    """PinchBench looks in ``assets/<task_id>/<source>``, then ``assets/<source>``; the template's
    ``assets/...`` spelling is accepted too."""
    if assets_dir is None:
        raise TaskFormatError(f"{where}: fixture {source!r} needs an assets folder, and none was given")
    rel = source.removeprefix("assets/")
    root = assets_dir.resolve()
    for candidate in (assets_dir / task_id / rel, assets_dir / rel):
        resolved = candidate.resolve()
        if (resolved == root or root in resolved.parents) and resolved.is_file():
            return resolved
    raise TaskFormatError(f"{where}: fixture source {source!r} not found under {assets_dir}")


def _fixtures(specs: Any, assets_dir: Path | None, task_id: str, where: str) -> dict[str, InputData]:
    if specs is None:
        return {}
    if not isinstance(specs, list):
        raise TaskFormatError(f"{where}: field 'workspace_files' must be a list")
    files: dict[str, InputData] = {}
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise TaskFormatError(f"{where}: workspace_files[{i}] must be a mapping")
        if "content" in spec:
            dest, data = spec.get("path"), str(spec["content"]).encode("utf-8")
        elif "source" in spec:
            dest = spec.get("dest")
            asset = _resolve_asset(str(spec["source"]), assets_dir, task_id, where)
            st = asset.stat()
            data = load_input(asset, st.st_size, st.st_mtime_ns)  # past 16 MiB: a TaskFile, not read
        else:
            raise TaskFormatError(f"{where}: workspace_files[{i}] needs 'source' + 'dest' or 'path' + 'content'")
        if not isinstance(dest, str) or not dest:
            raise TaskFormatError(f"{where}: workspace_files[{i}] has no destination path")
        while dest.startswith("./"):
            dest = dest[2:]
        files[dest] = data
    return files


def _weights(raw: Any, where: str) -> dict[str, float]:
    if raw is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(raw, dict):
        raise TaskFormatError(f"{where}: field 'grading_weights' must be a mapping")
    try:
        return {k: float(raw.get(k, DEFAULT_WEIGHTS[k])) for k in DEFAULT_WEIGHTS}
    except (TypeError, ValueError):
        raise TaskFormatError(f"{where}: field 'grading_weights' must hold numbers") from None


_KNOWN_KEYS = {"id", "name", "category", "grading_type", "timeout_seconds", "workspace_files", "grading_weights"}


def load_pinchbench_task(md_path: str | os.PathLike[str], assets_dir: str | os.PathLike[str] | None = None) -> Task:
    """Load one PinchBench task file. ``assets_dir`` defaults to ``../assets`` beside ``tasks/``."""
    md_path = Path(md_path)
    where = str(md_path)
    try:
        text = md_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{where}: cannot read: {exc}") from None
    meta, body = split_front_matter(text, where)
    task_id = meta.get("id")
    if not isinstance(task_id, str) or not task_id.strip():
        raise TaskFormatError(f"{where}: front matter field 'id' is missing")
    grading_type = meta.get("grading_type", "automated")
    if grading_type not in GRADING_TYPES:
        raise TaskFormatError(f"{where}: grading_type {grading_type!r} is not one of {', '.join(GRADING_TYPES)}")
    sections = split_sections(body)
    prompt = sections.get("Prompt", "").strip()
    if not prompt:
        raise TaskFormatError(f"{where}: the '## Prompt' section is missing or empty")
    code = grading_code(sections.get("Automated Checks"))
    if code:
        try:
            ast.parse(code)
        except SyntaxError as exc:
            raise TaskFormatError(f"{where}: Automated Checks do not parse: line {exc.lineno}: {exc.msg}") from None
    if grading_type in ("automated", "hybrid") and "def grade" not in code:
        raise TaskFormatError(f"{where}: grading_type {grading_type} needs an Automated Checks grade() function")
    rubric = sections.get("LLM Judge Rubric")
    if assets_dir is None:
        guess = md_path.resolve().parent.parent / "assets"
        assets = guess if guess.is_dir() else None
    else:
        assets = Path(assets_dir)
    input_files = _fixtures(meta.get("workspace_files"), assets, task_id, where)
    try:
        timeout = int(meta.get("timeout_seconds", DEFAULT_TIMEOUT_S))
    except (TypeError, ValueError):
        raise TaskFormatError(f"{where}: field 'timeout_seconds' must be a number") from None

    metadata: dict[str, Any] = {
        "source": SOURCE_NAME,
        "name": meta.get("name", ""),
        "category": meta.get("category", ""),
        "grading_type": grading_type,
        "grading_weights": _weights(meta.get("grading_weights"), where),
        "timeout_seconds": timeout,
        "expected_behavior": sections.get("Expected Behavior", "").strip(),
        "grading_criteria": grading_criteria(sections.get("Grading Criteria", "")),
        "llm_judge_rubric": rubric,
        "rubric_criteria": rubric_criteria(rubric) if rubric else [],
        "has_automated_checks": bool(code),
        "file": md_path.name,
    }
    for key, value in meta.items():  # multi_session, sessions, label, ... kept as they are
        if key not in _KNOWN_KEYS and key not in metadata:
            metadata[key] = value
    try:
        return Task(
            task_id=task_id,
            user_query=prompt,
            metadata=metadata,
            input_files=input_files,
            reward_files={
                "reward.sh": REWARD_SH.encode(),  # the official template, byte for byte
                "check.py": render_check_py(task_id, md_path.name, code).encode(),
            },
            file_modes={"reward/reward.sh": 0o755},
            source=where,
        )
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise TaskFormatError(f"{where}: {msgs}") from None


def _read_id(md_path: Path) -> str:
    """The task id from the front matter alone (cheap indexing)."""
    meta, _ = split_front_matter(md_path.read_text(encoding="utf-8"), str(md_path))
    task_id = meta.get("id")
    if not isinstance(task_id, str) or not task_id.strip():
        raise TaskFormatError(f"{md_path}: front matter field 'id' is missing")
    return task_id


def is_pinchbench_dir(path: str | os.PathLike[str]) -> bool:
    """A PinchBench folder (holding ``tasks/task_*.md``) or its tasks folder."""
    p = Path(path)
    if p.is_file():
        return p.suffix == ".md"
    if not p.is_dir() or (p / "data_entry.json").exists():
        return False
    tasks = p / "tasks" if (p / "tasks").is_dir() else p
    return any(tasks.glob(TASK_GLOB))


class PinchBenchSource:
    """A PinchBench checkout (or its ``tasks/`` folder, or one task file) as a TaskSource.

    Indexing reads only front matter (ids); a task is parsed the first time it is loaded. Files
    are found as PinchBench finds them (``tasks/**/task_*.md``, the template skipped). A file that
    cannot be indexed is left out and reported in ``errors`` and ``describe()``.
    """

    def __init__(self, path: str | os.PathLike[str]):
        p = Path(path).resolve()
        if p.is_file():
            self.tasks_dir = p.parent
            files = [p]
        elif (p / "tasks").is_dir():
            self.tasks_dir = p / "tasks"
            files = sorted(self.tasks_dir.rglob(TASK_GLOB))
        elif p.is_dir():
            self.tasks_dir = p
            files = sorted(p.rglob(TASK_GLOB))
        else:
            raise TaskFormatError(f"{p}: no such PinchBench folder")
        self.path = p
        assets = self.tasks_dir.parent / "assets"
        self.assets_dir: Path | None = assets if assets.is_dir() else None
        self._files: dict[str, Path] = {}
        self._stems: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        for f in files:
            try:
                task_id = _read_id(f)
            except (TaskFormatError, OSError, UnicodeDecodeError) as exc:
                self.errors[str(f)] = str(exc)
                continue
            if _is_template(task_id):
                continue
            if task_id in self._files:
                self.errors[str(f)] = f"duplicate id {task_id!r} (also in {self._files[task_id].name})"
                continue
            self._files[task_id] = f
            self._stems.setdefault(f.stem, task_id)
        if not self._files:
            raise TaskFormatError(f"{p}: contains no PinchBench task files ({TASK_GLOB})")
        self._cache: dict[str, Task] = {}

    @property
    def name(self) -> str:
        return SOURCE_NAME

    def ids(self) -> list[str]:
        return list(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._files or task_id in self._stems

    def __iter__(self) -> Iterator[Task]:
        for task_id in self._files:
            yield self.load(task_id)

    def task_file(self, task_id: str) -> Path:
        """The Markdown file of ``task_id`` (its front-matter id, or the file stem)."""
        key = task_id if task_id in self._files else self._stems.get(task_id)
        if key is None:
            raise KeyError(f"no PinchBench task {task_id!r} in {self.tasks_dir}")
        return self._files[key]

    def load(self, task_id: str) -> Task:
        key = task_id if task_id in self._files else self._stems.get(task_id, task_id)
        task = self._cache.get(key)
        if task is None:
            task = load_pinchbench_task(self.task_file(key), self.assets_dir)
            self._cache[key] = task
        return task

    def ref(self, task_id: str) -> TaskRef:
        """``{"kind": "source", "path", "id"}`` (the front-matter id, also for a file stem)."""
        key = task_id if task_id in self._files else self._stems.get(task_id)
        if key is None:
            raise KeyError(f"no PinchBench task {task_id!r} in {self.tasks_dir}")
        return TaskRef.from_path(self.path, key)

    def describe(self) -> dict[str, Any]:
        types: dict[str, int] = {}
        for task in self:
            kind = task.metadata["grading_type"]
            types[kind] = types.get(kind, 0) + 1
        return {"kind": SOURCE_NAME, "path": str(self.path), "tasks": len(self), "grading_types": types,
                "errors": dict(self.errors)}


SOURCE_KIND = TaskSourceKind(SOURCE_NAME, PinchBenchSource, detect=is_pinchbench_dir)
"""PinchBench checkouts: claims a folder holding ``tasks/task_*.md``, that folder, or one task file."""
