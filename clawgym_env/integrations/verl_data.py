"""The RL parquet veRL's ``RLHFDataset`` reads for ClawGym tasks, and the task references in it.

One row per task, the columns ``RLHFDataset`` expects:

- ``data_source``: ``"clawgym"`` (veRL groups validation metrics by it);
- ``prompt``: ``[{"role": "user", "content": <the task's request>}]``. Only the request: the system
  prompt and the tool schemas come from the env at ``reset`` (they depend on the loop's env
  options, e.g. the tool profile), so ``ClawAgentLoop`` renders its prompt from the env's messages
  and never reads this column. It is what veRL logs as ``raw_prompt``;
- ``ability``: the task's category (unused by veRL's code);
- ``reward_model``: ``{"style": "rule", "ground_truth": ""}``: veRL reads ``ground_truth``
  unconditionally; the reward itself is the task's verifier, run by the loop;
- ``extra_info``: ``{"index", "split", "task_id", "task_ref"}`` with ``task_ref`` a **JSON
  string**: parquet unifies dicts with varying keys into one struct (missing keys become null), so
  the variable part is kept out of the schema;
- ``agent_name``: ``"claw_agent"`` (selects :class:`~clawgym_env.integrations.verl_agent_loop.ClawAgentLoop`).

``task_ref`` is the JSON of a :class:`~clawgym_env.tasks.TaskRef` (all forms: docs/task-sources.md);
the builder writes one of

- ``{"kind": "builtin", "id": "task-0042", "suite_version": "builtin-v2"}``: a built-in task,
  regenerated where the rollout runs (a millisecond; a reference to an older suite version loads
  that version where the suite keeps it, as ``builtin-v1``; an unknown version is refused);
- ``{"kind": "inline", "task": {...}}``: the whole task folder, files base64-encoded. The default
  for folders: the parquet is self-contained, so every node of a Ray cluster can run it;
- ``{"kind": "source", "path": "/abs/suite", "id": "task_0009"}``: a task in a folder (or a
  PinchBench checkout) that every node must see at the same path (``inline=False``).

A hand-made row may also give ``task_ref`` as a plain string: ``builtin:task-0042``,
``ClawGym/task-0042``, a task folder path or ``SUITE_DIR:TASK_ID``.

No veRL import here: writing the parquet needs pyarrow only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from clawgym_env.tasks import Task, TaskRef, open_source, task_from_json, task_to_json
from clawgym_env.tasks.registry import cached_source, is_suite_name

AGENT_NAME = "claw_agent"
DATA_SOURCE = "clawgym"

__all__ = [
    "AGENT_NAME", "DATA_SOURCE", "build_rl_parquet", "builtin_ref", "inline_ref", "load_task_ref",
    "resolve_tasks",
    "rl_row", "source_ref", "task_from_json", "task_from_row", "task_to_json",
]


# ---------------------------------------------------------------------------------------- references
# The dict helpers below are the JSON of a TaskRef (kept for callers of the dict API).
def builtin_ref(task_id: str) -> dict[str, Any]:
    return TaskRef.of(cached_source("builtin"), task_id).to_dict()  # KeyError now, not on a rollout worker


def source_ref(path: str | os.PathLike[str], task_id: str) -> dict[str, Any]:
    return TaskRef.from_path(path, task_id).to_dict()


def inline_ref(task: Task) -> dict[str, Any]:
    return TaskRef.inline(task).to_dict()


def load_task_ref(ref: TaskRef | str | Mapping[str, Any]) -> Task:
    """The Task a ``task_ref`` names (a TaskRef, its dict or JSON string, or a plain id/path string)."""
    return TaskRef.coerce(ref).load()


def task_from_row(extra_info: Mapping[str, Any] | None) -> Task:
    """The task of one dataset row (``extra_info`` as veRL passes it to the agent loop)."""
    if not extra_info or not extra_info.get("task_ref"):
        raise ValueError("row has no extra_info.task_ref; build the parquet with `clawgym rl build-data`")
    return load_task_ref(extra_info["task_ref"])


# ---------------------------------------------------------------------------------------- the parquet
def _names_suite(spec: str) -> bool:
    """A whole suite: a suite name (``builtin``) or a path that exists (a folder of tasks, one task
    folder, a PinchBench checkout)."""
    return is_suite_name(spec) or Path(spec).exists()


def _refs(spec: str) -> Iterator[tuple[Task, TaskRef]]:
    if _names_suite(spec):
        src = open_source(spec)
        for task_id in src.ids():
            task = src.load(task_id)
            yield task, TaskRef.of(src, task_id, task=task)
    else:
        ref = TaskRef.parse(spec)
        yield ref.load(), ref


def resolve_tasks(specs: Iterable[str], *, inline: bool = True) -> Iterable[tuple[Task, TaskRef]]:
    """(task, reference) for every task the specs name, in order. A spec is a suite name (``builtin``:
    the whole suite), a folder of task folders (or a PinchBench checkout), or what
    :meth:`TaskRef.parse` reads: a task folder, ``builtin:task-0042``, ``ClawGym/task-0042``,
    ``SUITE_DIR:TASK_ID``. With ``inline``, a task referenced by path is embedded instead."""
    for spec in specs:
        for task, ref in _refs(spec):
            yield task, (TaskRef.inline(task) if inline and ref.path is not None else ref)


def rl_row(task: Task, ref: TaskRef | Mapping[str, Any], *, index: int, split: str = "train",
           data_source: str = DATA_SOURCE) -> dict[str, Any]:
    """One parquet row (see the module docstring)."""
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": task.user_query}],
        "ability": str(task.metadata.get("category") or "agentic"),
        "reward_model": {"style": "rule", "ground_truth": ""},
        "extra_info": {"index": index, "split": split, "task_id": task.task_id,
                       "task_ref": TaskRef.coerce(ref).to_json()},
        "agent_name": AGENT_NAME,
    }


def build_rl_parquet(specs: Sequence[str] | str, out_path: str | os.PathLike[str], *, split: str = "train",
                     data_source: str = DATA_SOURCE, inline: bool = True, offset: int = 0,
                     limit: int = 0, keep: Callable[[str], bool] | None = None,
                     counts: dict[str, int] | None = None) -> int:
    """Write the RL parquet for the tasks ``specs`` name (see :func:`resolve_tasks`), skipping the
    first ``offset`` and keeping at most ``limit`` (0 = all). Returns the number of rows.

    ``inline`` embeds folder tasks in the rows (self-contained, multi-node safe); ``False`` stores
    their path instead. Built-in tasks are always stored by id. ``keep(task_id)``, when given, must
    accept a task before offset and limit apply (``clawgym rl build-data --pass-rate``: tasks whose
    measured pass rate is in range); ``counts`` receives ``seen`` and ``filtered_out``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(specs, str):
        specs = [specs]
    rows: list[dict[str, Any]] = []
    tally = counts if counts is not None else {}
    tally.update(seen=0, filtered_out=0)

    def accepted() -> Iterator[tuple[Task, TaskRef]]:
        for task, ref in resolve_tasks(specs, inline=inline):
            tally["seen"] += 1
            if keep is None or keep(task.task_id):
                yield task, ref
            else:
                tally["filtered_out"] += 1

    for n, (task, ref) in enumerate(accepted()):
        if n < offset:
            continue
        if limit and len(rows) >= limit:
            break
        rows.append(rl_row(task, ref, index=len(rows), split=split, data_source=data_source))
    if not rows:
        why = f", {tally['filtered_out']} of {tally['seen']} filtered out" if keep is not None else ""
        raise ValueError(f"no tasks in {list(specs)} (offset {offset}, limit {limit}{why})")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, out)
    return len(rows)
