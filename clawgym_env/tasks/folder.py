"""The official ClawGym task-folder format: read (lazily indexed) and write (byte-identical).

Layout (specs/clawgym-reference.md §A1)::

    task_0042/
      data_entry.json        {"task_id", "user_query", "metadata", optional "input_mount_dir"}
      input_files/           copied verbatim to the workspace root (optional)
      reward/reward.sh       the verifier entry point (+ check.py)

Input files past ``LAZY_INPUT_BYTES`` (16 MiB; ``load_task(..., lazy_bytes=)``) are not read:
the Task holds a :class:`~clawgym_env.tasks.files.TaskFile` reference and every reset streams a
copy (holes kept, never a link), so a 2 GiB input does not cost the driver 2 GiB per env.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Iterator, cast

from pydantic import ValidationError

from clawgym_env.tasks.files import LAZY_INPUT_BYTES, InputData, write_input
from clawgym_env.tasks.files import load_input as _load_input
from clawgym_env.tasks.model import Task, TaskFormatError, task_dir_name
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tasks.registry import TaskSourceKind

DATA_ENTRY = "data_entry.json"
ORACLE = "oracle.json"
INPUT_DIR = "input_files"
REWARD_DIR = "reward"
_OFFICIAL_KEYS = ("task_id", "user_query", "metadata", "input_mount_dir")


def is_task_dir(path: Path) -> bool:
    return (path / DATA_ENTRY).is_file()


def _read_tree(root: Path, what: str, lazy_bytes: int | None = None) -> tuple[dict[str, InputData], dict[str, int]]:
    """All regular files under ``root`` as {relative posix path: bytes}; links are refused. Files
    past ``lazy_bytes`` (None: no limit) are TaskFile references, not read."""
    files: dict[str, InputData] = {}
    modes: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            st = full.lstat()
            rel = full.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                raise TaskFormatError(f"{full}: symbolic links are not allowed in {what}/")
            if stat.S_ISREG(st.st_mode):
                files[rel] = (full.read_bytes() if lazy_bytes is None
                              else _load_input(full, st.st_size, st.st_mtime_ns, lazy_bytes=lazy_bytes))
                mode = stat.S_IMODE(st.st_mode)
                if mode & 0o111:
                    modes[rel] = 0o755
            elif not stat.S_ISDIR(st.st_mode):
                raise TaskFormatError(f"{full}: only regular files and folders are allowed in {what}/")
    return files, modes


def _format_validation(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err["loc"]) or "(root)"
        parts.append(f"field '{field}': {err['msg']}")
    return f"{path}: " + "; ".join(parts)


def load_task(task_dir: str | os.PathLike[str], *, lazy_bytes: int = LAZY_INPUT_BYTES) -> Task:
    """Load one task folder. Raises TaskFormatError naming the file and field at fault. Input
    files bigger than ``lazy_bytes`` stay on disk as TaskFile references (verifier files are
    always read)."""
    task_dir = Path(task_dir)
    entry_path = task_dir / DATA_ENTRY
    if not task_dir.is_dir():
        raise TaskFormatError(f"{task_dir}: not a directory")
    if not entry_path.is_file():
        raise TaskFormatError(f"{entry_path}: missing (every task folder needs {DATA_ENTRY})")
    raw = entry_path.read_bytes()
    try:
        entry = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{entry_path}: invalid JSON: {exc}") from None
    if not isinstance(entry, dict):
        raise TaskFormatError(f"{entry_path}: must hold a JSON object, not {type(entry).__name__}")
    input_dir = task_dir / INPUT_DIR
    if "input_mount_dir" in entry and not input_dir.is_dir():
        raise TaskFormatError(f"{entry_path}: field 'input_mount_dir' is set but {input_dir} does not exist")
    reward_sh = task_dir / REWARD_DIR / "reward.sh"
    if not reward_sh.is_file():
        raise TaskFormatError(f"{reward_sh}: missing (every task needs a verifier)")
    input_files, in_modes = _read_tree(input_dir, INPUT_DIR, lazy_bytes) if input_dir.is_dir() else ({}, {})
    reward_tree, rw_modes = _read_tree(task_dir / REWARD_DIR, REWARD_DIR)  # no lazy_bytes: all bytes
    reward_files = cast("dict[str, bytes]", reward_tree)
    oracle = outputs = None
    if (task_dir / ORACLE).is_file():
        try:
            doc = json.loads((task_dir / ORACLE).read_text())
        except ValueError as exc:
            raise TaskFormatError(f"{task_dir / ORACLE}: invalid JSON: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("actions"), list):
            raise TaskFormatError(f"{task_dir / ORACLE}: must hold {{\"actions\": [...], \"outputs\": [...]}}")
        oracle, outputs = doc["actions"], doc.get("outputs")
    modes = {f"{INPUT_DIR}/{k}": v for k, v in in_modes.items()} | {f"{REWARD_DIR}/{k}": v for k, v in rw_modes.items()}
    try:
        return Task(
            task_id=entry.get("task_id"),
            user_query=entry.get("user_query"),
            metadata=entry.get("metadata"),
            input_mount_dir=entry.get("input_mount_dir"),
            input_files=input_files,
            reward_files=reward_files,
            extra={k: v for k, v in entry.items() if k not in _OFFICIAL_KEYS},
            source=str(task_dir),
            raw_data_entry=raw,
            file_modes=modes,
            oracle=oracle,
            oracle_outputs=outputs,
        )
    except ValidationError as exc:
        raise TaskFormatError(_format_validation(entry_path, exc)) from None


def dump_data_entry(task: Task) -> bytes:
    """data_entry.json bytes: the original bytes when unchanged, else the authors' formatting."""
    entry = task.data_entry()
    if task.raw_data_entry is not None:
        try:
            if json.loads(task.raw_data_entry) == entry:
                return task.raw_data_entry
        except ValueError:
            pass
    return (json.dumps(entry, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_task(task: Task, dest: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``task`` as ``dest/<task_id>/`` in the official format. Returns the task folder.
    TaskFile inputs are streamed (holes kept); writing a task onto its own folder is safe."""
    out = Path(dest) / task_dir_name(task)
    if out.exists() and not overwrite and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty (pass overwrite=True)")
    out.mkdir(parents=True, exist_ok=True)
    (out / DATA_ENTRY).write_bytes(dump_data_entry(task))
    if task.oracle is not None:
        doc = {"actions": task.oracle, "outputs": task.oracle_outputs or []}
        (out / ORACLE).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    if task.input_files or task.input_mount_dir is not None:
        (out / INPUT_DIR).mkdir(exist_ok=True)
    for prefix, files in ((INPUT_DIR, task.input_files), (REWARD_DIR, task.reward_files)):
        for rel, data in files.items():
            path = out / prefix / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_input(data, path)
            os.chmod(path, task.file_modes.get(f"{prefix}/{rel}", 0o644))
    return out


class FolderSource:
    """One task folder, or a folder of task folders, indexed lazily.

    Indexing only lists sub-folder names (2,000 tasks in a few ms); a task's files are read the
    first time it is asked for. Non-folder entries (LICENSE, README) and hidden entries are ignored.
    """

    def __init__(self, path: str | os.PathLike[str], *, lazy_bytes: int = LAZY_INPUT_BYTES):
        self.path = Path(path).resolve()
        self.lazy_bytes = lazy_bytes
        if not self.path.is_dir():
            raise TaskFormatError(f"{self.path}: no such task folder")
        if is_task_dir(self.path):
            self._dirs = {self.path.name: self.path}
        else:
            self._dirs = {
                e.name: Path(e.path)
                for e in sorted(os.scandir(self.path), key=lambda e: e.name)
                if e.is_dir() and not e.name.startswith(".")
            }
            if not self._dirs:
                raise TaskFormatError(f"{self.path}: contains no task folders")
        self._cache: dict[str, Task] = {}

    @property
    def name(self) -> str:
        return self.path.name

    def ids(self) -> list[str]:
        return list(self._dirs)

    def __len__(self) -> int:
        return len(self._dirs)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._dirs

    def __iter__(self) -> Iterator[Task]:
        for tid in self._dirs:
            yield self.load(tid)

    def task_dir(self, task_id: str) -> Path:
        try:
            return self._dirs[task_id]
        except KeyError:
            raise KeyError(f"no task {task_id!r} in {self.path}") from None

    def load(self, task_id: str) -> Task:
        task = self._cache.get(task_id)
        if task is None:
            task = load_task(self.task_dir(task_id), lazy_bytes=self.lazy_bytes)
            self._cache[task_id] = task
        return task

    def ref(self, task_id: str) -> TaskRef:
        """``{"kind": "source", "path", "id"}``: loads where the folder is at the same path."""
        self.task_dir(task_id)  # KeyError now rather than where the reference is loaded
        return TaskRef.from_path(self.path, task_id)

    def describe(self) -> dict[str, Any]:
        return {"kind": "folder", "path": str(self.path), "tasks": len(self)}


SOURCE_KIND = TaskSourceKind("folder", FolderSource)
"""ClawGym task folders: the kind a path opens as when no other kind claims it."""
