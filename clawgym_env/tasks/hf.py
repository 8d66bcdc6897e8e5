"""Task suites as Hugging Face datasets: the row layout, and the ``hf`` task-source kind.

One row per task, in the layout of the authors' released ``RUC-AIBOX/ClawGym-Task`` ``syn_task.jsonl``
(specs/clawgym-reference.md §A1: ``{prompt, hook_code, input_files:[{file_path, content}], rule,
origin_template}``), with the columns it lacks added so a round trip gives the same Task back:

==================  ======================================================================================
``task_id``         (added) the task id; the authors derive it from ``origin_template``'s ``id:`` line
``prompt``          the user request (``user_query``)
``hook_code``       the command that scores the workspace (``bash reward/reward.sh``; informational: the
                    verifier is the ``reward/`` files, as the authors regenerate ``reward.sh`` too)
``hook_lang``       ``bash`` (the authors' stage-12 payload field)
``input_files``     every file: ``{file_path, content, content_bytes, mode, role}``. ``file_path`` is
                    relative to ``input_files/``, or ``reward/...`` for the verifier, as the authors do;
                    ``content`` the text when the bytes are UTF-8, else null with the bytes in
                    ``content_bytes`` (added); ``mode`` the permission bits when not 0644 (added);
                    ``role`` ``input`` or ``reward`` (added: an input file may itself live under reward/)
``rule``            the rubric rules (JSON), or null
``origin_template`` ``id: <task_id>`` (so the authors' builder finds the same id)
``metadata``        (added) ``metadata`` of data_entry.json, the rubric taken out (JSON)
``input_mount_dir`` (added) data_entry's ``input_mount_dir``, or null
``data_entry_extra`` (added) data_entry's other top-level keys (JSON)
``rule_field``      (added) where ``rule`` sits in data_entry: ``rules``, ``metadata.rules``,
                    ``metadata.rule``, or null
``oracle``          (added) the known-good action list, or null (JSON)
``oracle_outputs``  (added) the oracle's outputs and the mutations each must fail, or null (JSON)
==================  ======================================================================================

A row without ``task_id`` is read as the authors' build script reads it (``build_dataset_from_hf.py``,
§A1): the id from ``origin_template``'s ``id:`` line, ``reward/`` files to the verifier with
``test.py`` renamed ``check.py``, ``reward.sh`` regenerated from the one template, metadata
``{"category": "", "grading_type": "automated"}`` plus ``rule`` when set, the rest as input files.

The source (:data:`SOURCE_KIND`, ``hf``) opens a ``save_to_disk`` folder, a folder of data files (a
Hub dataset repository downloaded as is), a ``.jsonl``/``.parquet`` file, or a Hub repo id through
``datasets.load_dataset`` (which honours ``HF_HUB_OFFLINE=1``: the local cache only).
``datasets`` (the ``[train]`` extra) is imported only when a dataset is opened; a ``.jsonl`` file
needs no ``datasets`` at all.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks.files import input_bytes
from clawgym_env.tasks.model import Task, TaskFormatError
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tasks.registry import TaskSourceKind
from clawgym_env.tasks.reward_template import REWARD_SH

KIND = "hf"
HOOK_CODE = "bash reward/reward.sh"
AUTHORS_METADATA = {"category": "", "grading_type": "automated"}
RULE_FIELDS = ("metadata.rules", "metadata.rule", "rules")
"""Where a rubric sits in data_entry.json, in the order ``verify.hybrid`` looks."""
COLUMNS = ("task_id", "prompt", "hook_code", "hook_lang", "input_files", "rule", "origin_template", "metadata",
           "input_mount_dir", "data_entry_extra", "rule_field", "oracle", "oracle_outputs")
_ID_LINE = re.compile(r"^\s*[\"']?id[\"']?\s*:\s*[\"']?([^\s\"',]+)", re.MULTILINE)


def require_datasets() -> Any:
    """``import datasets``, or an ImportError that says how to get it."""
    try:
        import datasets
    except ImportError as exc:
        raise ImportError("Hugging Face datasets support needs the `datasets` package: "
                          "pip install 'clawgym[train]' (or pip install 'datasets>=5.2')") from exc
    return datasets


def features() -> Any:
    """The ``datasets.Features`` of a task row (JSON columns stay exact: no struct unification)."""
    ds = require_datasets()
    string, json_ = ds.Value("string"), ds.Json()
    file = {"file_path": string, "content": string, "content_bytes": ds.Value("binary"),
            "mode": ds.Value("int32"), "role": string}
    return ds.Features({
        "task_id": string, "prompt": string, "hook_code": string, "hook_lang": string,
        "input_files": ds.List(file), "rule": json_, "origin_template": string, "metadata": json_,
        "input_mount_dir": string, "data_entry_extra": json_, "rule_field": string, "oracle": json_,
        "oracle_outputs": json_})


# ------------------------------------------------------------------------------------ Task -> row
def _file(path: str, data: bytes, mode: int | None, role: str) -> dict[str, Any]:
    try:
        text: str | None = data.decode("utf-8")  # strict UTF-8 decodes and encodes back byte for byte
    except UnicodeDecodeError:
        text = None
    return {"file_path": path, "content": text, "content_bytes": None if text is not None else data,
            "mode": mode, "role": role}


def _take_rule(metadata: dict[str, Any], extra: dict[str, Any]) -> tuple[Any, str | None]:
    """Remove the rubric from its place (the first of RULE_FIELDS present); returns it and the place."""
    for field in RULE_FIELDS:
        holder, key = (metadata, field.split(".", 1)[1]) if field.startswith("metadata.") else (extra, field)
        if key in holder:
            return holder.pop(key), field
    return None, None


def task_to_row(task: Task) -> dict[str, Any]:
    """One dataset row for ``task`` (big TaskFile inputs are read whole)."""
    metadata, extra = dict(task.metadata), dict(task.extra)
    rule, rule_field = _take_rule(metadata, extra)
    files = [_file(p, input_bytes(d), task.file_modes.get(f"input_files/{p}"), "input")
             for p, d in task.input_files.items()]
    files += [_file(f"reward/{p}", d, task.file_modes.get(f"reward/{p}"), "reward")
              for p, d in task.reward_files.items()]
    return {"task_id": task.task_id, "prompt": task.user_query, "hook_code": HOOK_CODE, "hook_lang": "bash",
            "input_files": files, "rule": rule, "origin_template": f"id: {task.task_id}\n", "metadata": metadata,
            "input_mount_dir": task.input_mount_dir, "data_entry_extra": extra, "rule_field": rule_field,
            "oracle": task.oracle, "oracle_outputs": task.oracle_outputs}


# ------------------------------------------------------------------------------------ row -> Task
def _content(entry: dict[str, Any]) -> bytes:
    if entry.get("content_bytes") is not None:
        return bytes(entry["content_bytes"])
    text = entry.get("content")
    return b"" if text is None else str(text).encode("utf-8")


def _json(value: Any) -> Any:
    """A JSON column's value; text when a reader lost the ``Json`` feature (a parquet file read
    without the datasets metadata), decoded here. Not for ``rule``, which may be text itself."""
    return json.loads(value) if isinstance(value, str) else value


def authors_task_id(row: dict[str, Any], index: int) -> str:
    """The id the authors' builder gives a ``syn_task.jsonl`` row: ``origin_template``'s ``id:`` line
    (``row-<index>`` when there is none)."""
    match = _ID_LINE.search(str(row.get("origin_template") or ""))
    return match.group(1) if match else f"row-{index:05d}"


def _authors_task(row: dict[str, Any], index: int, source: str) -> Task:
    inputs: dict[str, bytes] = {}
    rewards: dict[str, bytes] = {}
    for entry in row.get("input_files") or []:
        path = str(entry["file_path"]).removeprefix("./")
        if path.startswith("reward/"):
            rel = path.removeprefix("reward/")
            rewards["check.py" if rel == "test.py" else rel] = _content(entry)
        else:
            inputs[path] = _content(entry)
    rewards["reward.sh"] = REWARD_SH.encode()  # regenerated from the one template, as the authors do
    metadata = dict(AUTHORS_METADATA)
    if row.get("rule") is not None:
        metadata["rule"] = row["rule"]
    return Task(task_id=authors_task_id(row, index), user_query=row["prompt"], metadata=metadata,
                input_mount_dir=WORKSPACE if inputs else None, input_files=inputs, reward_files=rewards,
                file_modes={"reward/reward.sh": 0o755}, source=source)


def row_to_task(row: dict[str, Any], *, index: int = 0, source: str | None = None) -> Task:
    """The Task a row describes: our layout (a ``task_id`` column) or the authors' ``syn_task.jsonl``."""
    try:
        if not row.get("task_id"):
            return _authors_task(row, index, source or "")
        inputs: dict[str, bytes] = {}
        rewards: dict[str, bytes] = {}
        modes: dict[str, int] = {}
        for entry in row["input_files"] or []:
            path, mode = str(entry["file_path"]), entry.get("mode")
            role = entry.get("role") or ("reward" if path.startswith("reward/") else "input")
            if role == "reward":
                rewards[path.removeprefix("reward/")] = _content(entry)
                key = path
            else:
                inputs[path] = _content(entry)
                key = f"input_files/{path}"
            if mode is not None:
                modes[key] = int(mode)
        metadata = dict(_json(row.get("metadata")) or {})
        extra = dict(_json(row.get("data_entry_extra")) or {})
        field = row.get("rule_field")
        if field:
            if field not in RULE_FIELDS:
                raise TaskFormatError(f"row {index}: rule_field {field!r} is not one of {', '.join(RULE_FIELDS)}")
            holder, key = (metadata, field.split(".", 1)[1]) if field.startswith("metadata.") else (extra, field)
            holder[key] = row.get("rule")
        return Task(task_id=row["task_id"], user_query=row["prompt"], metadata=metadata,
                    input_mount_dir=row.get("input_mount_dir"), input_files=inputs, reward_files=rewards,
                    extra=extra, source=source, oracle=_json(row.get("oracle")),
                    oracle_outputs=_json(row.get("oracle_outputs")),
                    file_modes=modes)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TaskFormatError):
            raise
        raise TaskFormatError(f"{source or 'dataset'} row {index}: {type(exc).__name__}: {exc}") from None


# ------------------------------------------------------------------------------------ the source
def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise TaskFormatError(f"{path}:{n}: invalid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise TaskFormatError(f"{path}:{n}: a row must be a JSON object")
            rows.append(row)
    return rows


def is_saved_dataset(path: Path) -> bool:
    """A ``Dataset.save_to_disk`` (or ``DatasetDict``) folder."""
    return path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file())


def _open_rows(spec: str, split: str, revision: str | None) -> tuple[Any, str | None]:
    """The rows (a ``datasets.Dataset`` or a list of dicts) and the local path, None for a Hub repo id."""
    path = Path(spec)
    if path.is_file() and path.suffix in (".jsonl", ".json"):
        return _read_jsonl(path), str(path.resolve())
    ds = require_datasets()
    if is_saved_dataset(path):
        data = ds.load_from_disk(str(path))
        if isinstance(data, ds.DatasetDict):
            if split not in data:
                raise TaskFormatError(f"{path}: no split {split!r} (has {', '.join(data)})")
            data = data[split]
        return data, str(path.resolve())
    if path.is_file():
        builder = {".parquet": "parquet", ".arrow": "arrow", ".csv": "csv"}.get(path.suffix)
        if builder is None:
            raise TaskFormatError(f"{path}: not a dataset file (.jsonl, .parquet, .arrow) nor a saved dataset")
        return ds.load_dataset(builder, data_files=str(path), split="train"), str(path.resolve())
    if path.is_dir():  # a Hub dataset repository on disk (data/*.parquet, *.jsonl ...)
        return ds.load_dataset(str(path), split=split), str(path.resolve())
    if spec.count("/") != 1 or spec.startswith(("/", ".")):
        raise TaskFormatError(f"{spec}: no such dataset folder or file, and not a Hub repo id (owner/name)")
    try:
        return ds.load_dataset(spec, split=split, revision=revision), None
    except (ConnectionError, FileNotFoundError, ValueError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE") not in (None, "", "0")
        hint = " (HF_HUB_OFFLINE is set: only the local cache is read)" if offline else ""
        raise TaskFormatError(f"hf:{spec}: could not load the Hub dataset{hint}: {exc}") from None


class HFSource:
    """A task suite stored as a Hugging Face dataset (one row per task, :func:`task_to_row`'s layout
    or the authors' ``syn_task.jsonl``). The dataset is memory-mapped; a task is built from its row
    the first time it is asked for."""

    def __init__(self, path: str | os.PathLike[str], *, split: str = "train", revision: str | None = None):
        spec = os.fspath(path).removeprefix(f"{KIND}:")
        self.spec, self.split, self.revision = spec, split, revision
        self._rows, self.path = _open_rows(spec, split, revision)
        if isinstance(self._rows, list):
            rows_ids = [r.get("task_id") for r in self._rows]
            authors = [authors_task_id(r, i) for i, r in enumerate(self._rows)]
        else:
            names = self._rows.column_names
            if "prompt" not in names:
                raise TaskFormatError(f"{spec}: not a task dataset (no 'prompt' column; has {', '.join(names)})")
            rows_ids = self._rows["task_id"] if "task_id" in names else [None] * len(self._rows)
            templates = self._rows["origin_template"] if "origin_template" in names else [None] * len(self._rows)
            authors = [authors_task_id({"origin_template": t}, i) for i, t in enumerate(templates)]
        self._index: dict[str, int] = {}
        for i, (tid, fallback) in enumerate(zip(rows_ids, authors, strict=True)):
            key = tid or fallback
            if key in self._index:
                raise TaskFormatError(f"{spec}: task id {key!r} appears twice (rows {self._index[key]} and {i})")
            self._index[key] = i
        self._cache: dict[str, Task] = {}

    @property
    def name(self) -> str:
        return Path(self.spec).name if self.path else self.spec

    def ids(self) -> list[str]:
        return list(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._index

    def __iter__(self) -> Iterator[Task]:
        for tid in self._index:
            yield self.load(tid)

    def row(self, task_id: str) -> dict[str, Any]:
        try:
            index = self._index[task_id]
        except KeyError:
            raise KeyError(f"no task {task_id!r} in {KIND}:{self.spec}") from None
        return dict(self._rows[index])

    def load(self, task_id: str) -> Task:
        task = self._cache.get(task_id)
        if task is None:
            task = row_to_task(self.row(task_id), index=self._index[task_id], source=f"{KIND}:{self.spec}")
            self._cache[task_id] = task
        return task

    def category(self, task_id: str) -> str:
        return str((self.load(task_id).metadata or {}).get("category") or "")

    def ref(self, task_id: str) -> TaskRef | None:
        """``{"kind": "hf", "path", "id"}`` for a local dataset; None (the task travels inline) for a
        Hub repo id, which another machine may not have cached."""
        self.row(task_id)  # KeyError now rather than where the reference is loaded
        if self.path is None:
            return None
        params = {"split": self.split} if self.split != "train" else None
        return TaskRef(kind=KIND, path=self.path, id=task_id, params=params)

    def describe(self) -> dict[str, Any]:
        return {"kind": KIND, "path": self.path or self.spec, "split": self.split, "tasks": len(self)}


def _detect(path: Path) -> bool:
    """A saved dataset folder, or a ``.jsonl`` file whose first row is a task row."""
    if is_saved_dataset(path):
        return True
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        row = json.loads(first)
    except ValueError:
        return False
    return isinstance(row, dict) and "prompt" in row and ("hook_code" in row or "input_files" in row)


SOURCE_KIND = TaskSourceKind(KIND, HFSource, detect=_detect, priority=10)
"""Task suites as Hugging Face datasets: ``hf:PATH_OR_REPO``, or a saved dataset's folder."""

__all__ = ["COLUMNS", "KIND", "SOURCE_KIND", "HFSource", "authors_task_id", "features", "is_saved_dataset",
           "require_datasets", "row_to_task", "task_to_row"]
