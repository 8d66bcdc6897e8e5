"""The built-in suite: ``ClawGym/task-0000`` ... ``ClawGym/task-13499``, generated on demand.

A task is synthesized from its index the first time it is loaded (about a millisecond) and is the
same on every machine for a given ``SUITE_VERSION``; nothing is stored or downloaded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from clawgym_env.tasks.model import Task
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tasks.registry import TaskSourceKind

SUITE_SIZE = 13_500
SUITE_VERSION = "builtin-v2"
"""The default version (``builtin``, ``ClawGym/task-NNNN``), recorded in every task's metadata
(``generator_version``). A change to the generated tasks needs a new version: builtin-v1 is pinned
(tests/test_synth_suite.py) and stays loadable as ``builtin-v1``."""
SUITE_VERSIONS = ("builtin-v1", "builtin-v2")
"""builtin-v1: the first suite (raw-text checks, two-to-four sentence templates). builtin-v2 (issue
13): checks that parse values, proven by the equivalence, adversarial and family gates; worded by
grammars; persona, data and operations that fit the scenario."""


def task_name(index: int) -> str:
    return f"task-{index:04d}"


def index_of(task_id: str) -> int:
    if not task_id.startswith("task-"):
        raise KeyError(f"no built-in task {task_id!r}")
    try:
        index = int(task_id[5:])
    except ValueError:
        raise KeyError(f"no built-in task {task_id!r}") from None
    if not 0 <= index < SUITE_SIZE or task_name(index) != task_id:
        raise KeyError(f"no built-in task {task_id!r} (the suite has task-0000 .. {task_name(SUITE_SIZE - 1)})")
    return index


class BuiltinSource:
    """The built-in suite as a TaskSource (ids are cheap; tasks are generated on load)."""

    def __init__(self, size: int = SUITE_SIZE, seed: int = 0, version: str = SUITE_VERSION):
        if version not in SUITE_VERSIONS:
            raise ValueError(f"no built-in suite version {version!r} (have {', '.join(SUITE_VERSIONS)})")
        self.size = size
        self.seed = seed
        self.version = version
        self.name = "builtin" if version == SUITE_VERSION else version

    def ids(self) -> list[str]:
        return [task_name(i) for i in range(self.size)]

    def __len__(self) -> int:
        return self.size

    def __contains__(self, task_id: object) -> bool:
        try:
            return isinstance(task_id, str) and index_of(task_id) < self.size
        except KeyError:
            return False

    def __iter__(self) -> Iterator[Task]:
        for i in range(self.size):
            yield self.load(task_name(i))

    def load(self, task_id: str) -> Task:
        return _load(index_of(task_id), self.seed, self.version)

    def synthesized(self, task_id: str):  # type: ignore[no-untyped-def]
        """The task with its generator-side details (operations' outputs, for the gate)."""
        from clawgym_env.synth.compose import synthesize

        return synthesize(index_of(task_id), seed=self.seed, version=self.version, task_id=task_id)

    def ref(self, task_id: str) -> TaskRef:
        """``{"kind": "builtin", "id", "suite_version"}`` (``params.seed`` for a non-default seed):
        the task is regenerated where the reference is loaded, refused there if the version differs."""
        if index_of(task_id) >= self.size:
            raise KeyError(f"no built-in task {task_id!r} in a suite of {self.size}")
        return TaskRef(kind=self.name, id=task_id, suite_version=self.version,
                       params={"seed": self.seed} if self.seed else None)

    def category(self, task_id: str) -> str:
        """``metadata.category`` without synthesizing the task."""
        from clawgym_env.synth.taxonomy import SUBCATEGORIES

        return SUBCATEGORIES[index_of(task_id) % len(SUBCATEGORIES)][0]

    def describe(self) -> dict[str, object]:
        """A summary for people (reports, logs); a task is named by :meth:`ref`."""
        return {"kind": "builtin", "version": self.version, "tasks": self.size, "seed": self.seed}

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (BuiltinSource, (self.size, self.seed, self.version))


SOURCE_KIND = TaskSourceKind("builtin", BuiltinSource, takes_path=False)
"""Registered under ``clawgym.task_sources``: ``open_source("builtin")``, ``builtin:task-0042``."""


def _open_v1(**params: object) -> BuiltinSource:
    return BuiltinSource(**params, version="builtin-v1")  # type: ignore[arg-type]


def _open_v2(**params: object) -> BuiltinSource:
    return BuiltinSource(**params, version="builtin-v2")  # type: ignore[arg-type]


SOURCE_KIND_V1 = TaskSourceKind("builtin-v1", _open_v1, takes_path=False)
"""``open_source("builtin-v1")``, ``builtin-v1:task-0042``: the first suite, kept reproducible (and
what a reference written by an older clawgym, ``builtin`` at ``builtin-v1``, loads)."""
SOURCE_KIND_V2 = TaskSourceKind("builtin-v2", _open_v2, takes_path=False)
"""``open_source("builtin-v2")``, ``builtin-v2:task-0042``: the current suite by its version."""


@lru_cache(maxsize=256)
def _load(index: int, seed: int, version: str = SUITE_VERSION) -> Task:
    from clawgym_env.synth.compose import synthesize

    return synthesize(index, seed=seed, version=version, task_id=task_name(index)).task
