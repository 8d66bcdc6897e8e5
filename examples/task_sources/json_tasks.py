"""A third-party task format in one file: tasks listed in a ``*.tasks.json`` file.

The file holds a JSON list; each entry names a task, its request and the files the workspace must
end up with::

    [{"id": "hello", "prompt": "Write hello.txt containing hi.", "expect": {"hello.txt": "hi"}}]

Register it as an entry point in the plugin's ``pyproject.toml``::

    [project.entry-points."clawgym.task_sources"]
    json-tasks = "json_tasks:SOURCE_KIND"

or, without packaging, ``clawgym_env.tasks.register_source_kind(json_tasks.SOURCE_KIND)``. Then
``open_source("suite.tasks.json")``, ``clawgym list suite.tasks.json``, ``TaskRef.parse(
"suite.tasks.json:hello")`` and the veRL / Ray task references all work (docs/task-sources.md).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clawgym_env.tasks import Task, TaskRef, TaskSourceKind

KIND = "json-tasks"
SUFFIX = ".tasks.json"


def _reward_sh(expect: dict[str, str]) -> bytes:
    """1.0 when every expected file holds exactly the expected text, else 0.0."""
    tests = " && ".join(f'[ "$(cat {shlex.quote(path)} 2>/dev/null)" = {shlex.quote(text)} ]'
                        for path, text in expect.items()) or "true"
    return (f"#!/bin/bash\ncd /root/.openclaw/workspace || exit 1\n"
            f"if {tests}; then echo 1.0; else echo 0.0; fi\n").encode()


class JsonTasksSource:
    """The tasks of one ``*.tasks.json`` file (a TaskSource)."""

    name = KIND

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path).resolve()
        entries: list[dict[str, Any]] = json.loads(self.path.read_text())
        self._entries = {str(e["id"]): e for e in entries}

    def ids(self) -> list[str]:
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Task]:
        return (self.load(i) for i in self._entries)

    def load(self, task_id: str) -> Task:
        e = self._entries[task_id]  # KeyError for an unknown id, as every source
        expect = {str(k): str(v) for k, v in e.get("expect", {}).items()}
        return Task(task_id=task_id, user_query=e["prompt"], metadata={"category": e.get("category", "")},
                    reward_files={"reward.sh": _reward_sh(expect)}, file_modes={"reward/reward.sh": 0o755},
                    source=f"{KIND}:{self.path}",
                    oracle=[{"name": "write", "arguments": {"path": p, "content": t}} for p, t in expect.items()])

    def ref(self, task_id: str) -> TaskRef:
        """How a parquet row or a Ray worker names this task: this kind, this file, this id."""
        if task_id not in self._entries:
            raise KeyError(f"no task {task_id!r} in {self.path}")
        return TaskRef.from_path(self.path, task_id, kind=KIND)


def detect(path: Path) -> bool:
    """Claim ``*.tasks.json`` files in ``open_source(path)``."""
    return path.name.endswith(SUFFIX) and path.is_file()


SOURCE_KIND = TaskSourceKind(KIND, JsonTasksSource, detect=detect)
