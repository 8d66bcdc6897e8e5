"""TaskRef: the one serializable way to say *which task*, everywhere a task must be named again later.

The veRL parquet rows, Ray env workers, gym registrations and the ``clawgym`` command line all name
tasks with it. Its JSON forms (see docs/task-sources.md)::

    {"kind": "builtin", "id": "task-0042", "suite_version": "builtin-v2"}   a task of a suite in code
    {"kind": "source", "path": "/abs/suite", "id": "task_0009"}             a task in a folder or
                                                                            PinchBench checkout (the
                                                                            format is detected)
    {"kind": "inline", "task": {...}}                                       the whole task, files base64
    {"kind": "<source kind>", "path": "...", "id": "..."}                   a task of a registered kind
                                                                            (``folder``, ``pinchbench``,
                                                                            a plugin's), named explicitly

``suite_version`` (optional on any kind) is checked against the source's ``version``; where a kind
of that name exists (``builtin-v1``: the suite keeps its older versions), the reference loads from it,
so data written before the default version moved on still names the same tasks. ``params``
(optional) are the source's constructor arguments (e.g. the built-in suite's ``seed``).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from clawgym_env.tasks.files import InputData, input_bytes
from clawgym_env.tasks.model import Task, TaskFormatError
from clawgym_env.tasks.registry import (
    DEFAULT_KIND,
    TaskSource,
    cached_kind_source,
    cached_source,
    source_kind,
)

GYM_ENTRY_POINT = "clawgym_env.env:make_task_env"
"""The entry point of every ClawGym gym id (registration.ENTRY_POINT): how a gym id is recognised."""

INLINE = "inline"
SOURCE = "source"
DATA_ENTRY = "data_entry.json"


def _is_task_folder(path: Path) -> bool:
    """One ClawGym task folder (not a suite of them). Checked here rather than imported from
    tasks.folder: the sources import this module, so it imports none of them."""
    return (path / DATA_ENTRY).is_file()


def _open_folder(path: Path) -> TaskSource:
    kind = source_kind(DEFAULT_KIND)
    assert kind is not None
    return kind.open(str(path))


def _b64(files: Mapping[str, InputData]) -> dict[str, str]:
    """Inline refs carry the files themselves, so a big input (TaskFile) is read here, on purpose:
    for task folders with big inputs reference the folder instead."""
    return {path: base64.b64encode(input_bytes(data)).decode("ascii") for path, data in files.items()}


def _unb64(files: Mapping[str, str]) -> dict[str, bytes]:
    return {path: base64.b64decode(data) for path, data in files.items()}


def task_to_json(task: Task) -> dict[str, Any]:
    """A JSON-safe dict of the whole task (file bytes base64); :func:`task_from_json` inverts it."""
    return {
        "task_id": task.task_id, "user_query": task.user_query, "metadata": task.metadata,
        "input_mount_dir": task.input_mount_dir, "input_files": _b64(task.input_files),
        "reward_files": _b64(task.reward_files), "extra": task.extra, "source": task.source,
        "oracle": task.oracle, "oracle_outputs": task.oracle_outputs, "file_modes": task.file_modes,
    }


def task_from_json(data: Mapping[str, Any]) -> Task:
    fields = dict(data)
    fields["input_files"] = _unb64(fields.get("input_files") or {})
    fields["reward_files"] = _unb64(fields.get("reward_files") or {})
    return Task(**fields)


class TaskRef(BaseModel):
    """A reference that loads one task anywhere this clawgym (and the task's files, for a path) is.

    Build one with :meth:`of` (from a source), :meth:`parse` (from the command-line grammar),
    :meth:`inline`, :meth:`from_path` or :meth:`from_json`; :meth:`load` gives the Task. Picklable
    (Ray ships it as is; an inline ref pickles its Task, cheaper than base64 JSON).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    kind: str
    """``inline``, ``source`` (a path whose format is detected) or a registered source kind."""
    path: str | None = None
    id: str | None = None
    suite_version: str | None = None
    params: dict[str, Any] | None = None
    task: Task | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if not self.kind:
            raise ValueError("a task reference needs a kind")
        if self.kind == INLINE:
            if self.task is None or any(v is not None for v in (self.path, self.id, self.suite_version, self.params)):
                raise ValueError("an inline task reference carries the task and nothing else")
            return self
        if self.task is not None:
            raise ValueError(f"only an inline task reference carries a task (kind {self.kind!r})")
        if not self.id:
            raise ValueError(f"a {self.kind!r} task reference needs an id")
        if self.kind == SOURCE and not self.path:
            raise ValueError("a 'source' task reference needs a path")
        return self

    # ------------------------------------------------------------------ constructors
    @classmethod
    def inline(cls, task: Task) -> TaskRef:
        """The whole task: self-contained (no path needs to exist where it is loaded)."""
        return cls(kind=INLINE, task=task)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], task_id: str, *, kind: str = SOURCE) -> TaskRef:
        """Task ``task_id`` of the suite at ``path`` (resolved); ``kind`` names its format, or
        ``source`` to detect it when loading."""
        return cls(kind=kind, path=str(Path(path).resolve()), id=task_id)

    @classmethod
    def of(cls, source: TaskSource, task_id: str, *, task: Task | None = None) -> TaskRef:
        """The reference ``source`` gives for ``task_id`` (its ``ref`` method), or the task inline
        for a source that has none (``task``, when given, saves loading it again). A source's ``ref``
        raises KeyError for an id it does not hold."""
        make = getattr(source, "ref", None)
        ref = make(task_id) if callable(make) else None
        if ref is not None:
            return ref  # type: ignore[no-any-return]
        return cls.inline(task if task is not None else source.load(task_id))

    @classmethod
    def parse(cls, spec: str | os.PathLike[str]) -> TaskRef:
        """The task a command-line spec names: a task folder, a registered ClawGym gym id
        (``ClawGym/task-0042``), ``builtin:TASK_ID`` (any suite name) or ``SUITE_DIR:TASK_ID``.
        ValueError for anything else, KeyError for an id the suite does not hold."""
        return parse_task_spec(spec)[0]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskRef:
        fields = dict(data)
        if fields.get("kind") == INLINE and isinstance(fields.get("task"), Mapping):
            fields["task"] = task_from_json(fields["task"])
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | bytes | Mapping[str, Any]) -> TaskRef:
        """Inverse of :meth:`to_json` (a dict of the same shape is accepted too)."""
        return cls.from_dict(text if isinstance(text, Mapping) else json.loads(text))

    @classmethod
    def coerce(cls, value: TaskRef | Mapping[str, Any] | str) -> TaskRef:
        """A TaskRef from a TaskRef, its dict, its JSON string, or a command-line spec (:meth:`parse`)."""
        if isinstance(value, TaskRef):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        text = value.strip()
        return cls.from_json(text) if text.startswith("{") else cls.parse(text)

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict: only the fields set, in a fixed order (kind, path, id, suite_version, params)."""
        if self.kind == INLINE:
            assert self.task is not None
            return {"kind": INLINE, "task": task_to_json(self.task)}
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("path", "id", "suite_version", "params"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    # ------------------------------------------------------------------ loading
    def source(self) -> TaskSource:
        """The (process-wide cached) source this reference points into, its suite version checked."""
        if self.kind == INLINE:
            raise ValueError("an inline task reference has no source")
        if self.kind == SOURCE:
            if self.params:
                raise ValueError("a 'source' task reference takes no params; name the source kind instead")
            src = cached_source(str(self.path))
        else:
            if source_kind(self.kind) is None:
                raise ValueError(f"unknown task_ref kind {self.kind!r} (expected builtin, inline, source or "
                                 f"a registered task source kind)")
            src = cached_kind_source(self.kind, self.path, self.params)
        have = getattr(src, "version", None)
        if self.suite_version is not None and have != self.suite_version and self.kind != self.suite_version:
            # a suite that keeps its older versions registers each as a kind of that name (builtin-v1):
            # a reference written before the default moved on still loads the tasks it was made from
            older = source_kind(self.suite_version)
            if older is not None and not older.takes_path:
                src = cached_kind_source(self.suite_version, None, self.params)
                have = getattr(src, "version", None)
        if self.suite_version is not None and have != self.suite_version:
            raise ValueError(f"task_ref names {self.kind} task {self.id!r} of suite {self.suite_version!r}, but "
                             f"this clawgym generates {have!r}; rebuild the parquet with this version")
        return src

    def load(self) -> Task:
        """The task. A ``source`` reference to one task folder re-reads it (no cache: what the folder
        holds now); every other reference loads through a source shared by the process."""
        if self.kind == INLINE:
            assert self.task is not None
            return self.task
        assert self.id is not None
        if self.kind == SOURCE and not self.params and _is_task_folder(Path(str(self.path))):
            return _open_folder(Path(str(self.path))).load(self.id)  # a fresh source: no cache
        return self.source().load(self.id)


def parse_task_spec(spec: str | os.PathLike[str]) -> tuple[TaskRef, dict[str, Any]]:
    """:meth:`TaskRef.parse`, plus the env defaults a gym id's registration carries
    (``register_suite``'s ``env_kwargs``; empty for the other forms)."""
    text = os.fspath(spec)
    path = Path(text)
    if path.is_dir():
        if not _is_task_folder(path):  # what load_task says of it
            raise TaskFormatError(f"{path / DATA_ENTRY}: missing (every task folder needs {DATA_ENTRY})")
        return TaskRef.from_path(path, path.resolve().name), {}
    import gymnasium as gym

    env_spec = gym.registry.get(text)
    if env_spec is not None:
        if env_spec.entry_point != GYM_ENTRY_POINT:
            raise ValueError(f"gym id {text!r} is not a ClawGym task")
        kwargs = dict(env_spec.kwargs)
        source, task_id = kwargs.pop("source"), kwargs.pop("task_id")
        return TaskRef.of(cached_source(source), task_id), kwargs
    if ":" in text:
        suite, task_id = text.rsplit(":", 1)
        return TaskRef.of(cached_source(suite), task_id), {}
    raise ValueError(f"task {text!r} is neither a task folder, a registered ClawGym gym id "
                     f"(ClawGym/task-0042), builtin:TASK_ID nor SUITE_DIR:TASK_ID")


__all__ = ["GYM_ENTRY_POINT", "TaskRef", "parse_task_spec", "task_from_json", "task_to_json"]
