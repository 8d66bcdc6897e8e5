"""The Task model: one ClawGym task, in memory, exactly as its folder describes it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks.files import InputData


class TaskFormatError(ValueError):
    """A task folder that does not follow the ClawGym format. The message names file and field."""


def check_relative(path: str) -> str:
    """Task file paths are relative, POSIX, and stay inside their folder."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or path != p.as_posix():
        raise ValueError(f"file path {path!r} must be relative, normalized and stay inside the task")
    return path


class Task(BaseModel):
    """A ClawGym task: the user request, its input files and its verifier.

    ``input_files`` and ``reward_files`` map relative paths to raw bytes (copied verbatim); an
    input file loaded from a folder past ``LAZY_INPUT_BYTES`` (16 MiB) is a :class:`TaskFile`
    reference instead, streamed at each reset (``tasks/files.py``). The data_entry fields are the official ones; ``extra`` keeps any other top-level keys of
    data_entry.json so a round trip loses nothing.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    task_id: str = Field(min_length=1)
    user_query: str = Field(min_length=1)
    metadata: dict[str, Any]
    input_mount_dir: str | None = None
    input_files: dict[str, InputData] = Field(default_factory=dict)
    reward_files: dict[str, bytes] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None
    """Where the task came from (a folder path, ``builtin:<version>``, ...). Not written out."""
    raw_data_entry: bytes | None = Field(default=None, repr=False)
    """The exact bytes of data_entry.json when loaded from disk, so writing back is byte-identical."""
    oracle: list[dict[str, Any]] | None = Field(default=None, repr=False)
    """A known-good action list (``oracle.json`` beside data_entry.json), when the task has one."""
    oracle_outputs: list[dict[str, Any]] | None = Field(default=None, repr=False)
    """The oracle's output files and the gate mutations each must fail (``{path, mutations,
    checked_values}``), stored in oracle.json with the actions."""
    file_modes: dict[str, int] = Field(default_factory=dict, repr=False)
    """Permission bits of files that are not plain 0644 (``input_files/x.sh`` -> 0o755)."""

    @field_validator("input_files", "reward_files")
    @classmethod
    def _paths_are_relative(cls, files: dict[str, Any]) -> dict[str, Any]:
        for path in files:
            check_relative(path)
        return files

    @field_validator("input_mount_dir")
    @classmethod
    def _mount_inside_workspace(cls, value: str | None) -> str | None:
        if value is None:
            return value
        norm = PurePosixPath(value)
        if not (norm == PurePosixPath(WORKSPACE) or PurePosixPath(WORKSPACE) in norm.parents
                or not norm.is_absolute()):
            raise ValueError(f"input_mount_dir {value!r} is outside the workspace {WORKSPACE}")
        if ".." in norm.parts:
            raise ValueError(f"input_mount_dir {value!r} must not contain '..'")
        return value

    @property
    def mount_subdir(self) -> str:
        """Where input files land, relative to the workspace root ('' = the root itself)."""
        if not self.input_mount_dir:
            return ""
        p = PurePosixPath(self.input_mount_dir)
        if p.is_absolute():
            return p.relative_to(WORKSPACE).as_posix() if p != PurePosixPath(WORKSPACE) else ""
        return p.as_posix()

    @property
    def needs_network(self) -> bool:
        """Tasks may declare ``metadata.network: true``; the train split never does."""
        return bool(self.metadata.get("network", False))

    @property
    def has_verifier(self) -> bool:
        return "reward.sh" in self.reward_files

    def data_entry(self) -> dict[str, Any]:
        """data_entry.json's content, official keys first in the authors' order."""
        entry: dict[str, Any] = {"task_id": self.task_id, "user_query": self.user_query, "metadata": self.metadata}
        if self.input_mount_dir is not None:
            entry["input_mount_dir"] = self.input_mount_dir
        entry.update(self.extra)
        return entry

    def workspace_files(self) -> dict[str, InputData]:
        """The initial workspace: input files placed under the mount dir (big ones as TaskFile:
        write them with ``tasks.files.write_input``, size them with ``input_size``)."""
        return {rel: data for rel, data, _ in self.workspace_entries()}

    def workspace_entries(self) -> list[tuple[str, InputData, int]]:
        """The initial workspace as ``(workspace-relative path, data, mode)``: what a sandbox's
        ``restore`` takes."""
        sub = self.mount_subdir
        return [((f"{sub}/{p}" if sub else p), data, self.file_modes.get(f"input_files/{p}", 0o644))
                for p, data in self.input_files.items()]


def task_dir_name(task: Task) -> str:
    """Folder name for a task: its id when that is a safe file name."""
    name = task.task_id
    if "/" in name or name in (".", "..") or Path(name).name != name:
        raise TaskFormatError(f"task_id {name!r} cannot be used as a folder name")
    return name
