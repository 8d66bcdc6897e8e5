"""Tasks: the pydantic Task model and the sources tasks come from."""

from __future__ import annotations

import os
from typing import Iterator, Protocol, runtime_checkable

from clawgym_env.tasks.files import LAZY_INPUT_BYTES, TaskFile, TaskFileChanged
from clawgym_env.tasks.folder import FolderSource, dump_data_entry, load_task, write_task
from clawgym_env.tasks.model import WORKSPACE, Task, TaskFormatError
from clawgym_env.tasks.pinchbench import PinchBenchSource, is_pinchbench_dir, load_pinchbench_task

__all__ = [
    "LAZY_INPUT_BYTES", "WORKSPACE", "FolderSource", "PinchBenchSource", "Task", "TaskFile", "TaskFileChanged", "TaskFormatError", "TaskSource", "dump_data_entry",
    "load_pinchbench_task", "load_task", "open_source", "write_task",
]


@runtime_checkable
class TaskSource(Protocol):
    """Anything that lists task ids and loads a Task by id, cheaply and repeatably."""

    @property
    def name(self) -> str: ...

    def ids(self) -> list[str]: ...

    def load(self, task_id: str) -> Task: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Task]: ...


def open_source(path_or_source: "str | os.PathLike[str] | TaskSource") -> TaskSource:
    """A TaskSource from a source object or a path: one task folder or a folder of them, or a
    PinchBench checkout (its root, its ``tasks/`` folder or one task file)."""
    if isinstance(path_or_source, (str, os.PathLike)):
        if is_pinchbench_dir(path_or_source):
            return PinchBenchSource(path_or_source)
        return FolderSource(path_or_source)
    if isinstance(path_or_source, TaskSource):
        return path_or_source
    raise TypeError(f"expected a task folder path or a TaskSource, got {type(path_or_source).__name__}")
