"""Tasks: the pydantic Task model, the sources tasks come from, and TaskRef, the one way to name a task.

Sources are opened by name or path through one registry (:mod:`clawgym_env.tasks.registry`); a new
task format is one module registered as a :class:`TaskSourceKind` (docs/task-sources.md).
"""

from __future__ import annotations

from clawgym_env.tasks.files import LAZY_INPUT_BYTES, TaskFile, TaskFileChanged
from clawgym_env.tasks.folder import FolderSource, dump_data_entry, load_task, write_task
from clawgym_env.tasks.model import WORKSPACE, Task, TaskFormatError
from clawgym_env.tasks.pinchbench import PinchBenchSource, is_pinchbench_dir, load_pinchbench_task
from clawgym_env.tasks.ref import TaskRef, parse_task_spec, task_from_json, task_to_json
from clawgym_env.tasks.registry import (
    TaskSource,
    TaskSourceKind,
    cached_source,
    open_source,
    register_source_kind,
    source_kind,
    source_kind_names,
)

__all__ = [
    "LAZY_INPUT_BYTES", "WORKSPACE", "FolderSource", "PinchBenchSource", "Task", "TaskFile", "TaskFileChanged", "TaskFormatError",
    "TaskRef", "TaskSource", "TaskSourceKind", "cached_source", "dump_data_entry", "is_pinchbench_dir", "load_pinchbench_task",
    "load_task", "open_source", "parse_task_spec", "register_source_kind", "source_kind", "source_kind_names", "task_from_json",
    "task_to_json", "write_task",
]
