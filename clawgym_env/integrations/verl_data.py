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

``task_ref`` is one of

- ``{"kind": "builtin", "id": "task-0042", "suite_version": "builtin-v1"}``: a built-in task,
  regenerated where the rollout runs (a millisecond; refused if the suite version differs);
- ``{"kind": "inline", "task": {...}}``: the whole task folder, files base64-encoded. The default
  for folders: the parquet is self-contained, so every node of a Ray cluster can run it;
- ``{"kind": "source", "path": "/abs/suite", "id": "task_0009"}``: a task in a folder (or a
  PinchBench checkout) that every node must see at the same path (``inline=False``).

A hand-made row may also give ``task_ref`` as a plain string: ``builtin:task-0042``,
``ClawGym/task-0042``, a task folder path or ``SUITE_DIR:TASK_ID``.

No veRL import here: writing the parquet needs pyarrow only.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clawgym_env.tasks import Task, TaskSource, open_source
from clawgym_env.tasks.files import InputData, input_bytes

AGENT_NAME = "claw_agent"
DATA_SOURCE = "clawgym"

__all__ = [
    "AGENT_NAME", "DATA_SOURCE", "build_rl_parquet", "builtin_ref", "inline_ref", "load_task_ref",
    "resolve_tasks",
    "rl_row", "source_ref", "task_from_json", "task_from_row", "task_to_json",
]


# ---------------------------------------------------------------------------------------- references
def builtin_ref(task_id: str) -> dict[str, Any]:
    from clawgym_env.synth.builtin import SUITE_VERSION, index_of

    index_of(task_id)  # KeyError now rather than on a rollout worker
    return {"kind": "builtin", "id": task_id, "suite_version": SUITE_VERSION}


def source_ref(path: str | os.PathLike[str], task_id: str) -> dict[str, Any]:
    return {"kind": "source", "path": str(Path(path).resolve()), "id": task_id}


def inline_ref(task: Task) -> dict[str, Any]:
    return {"kind": "inline", "task": task_to_json(task)}


def _b64(files: Mapping[str, InputData]) -> dict[str, str]:
    """Inline refs carry the files themselves, so a big input (TaskFile) is read here, on purpose:
    for task folders with big inputs use :func:`source_ref` (the parquet then names the folder)."""
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


def load_task_ref(ref: str | Mapping[str, Any]) -> Task:
    """The Task a ``task_ref`` names (a dict, its JSON string, or a plain id/path string)."""
    if isinstance(ref, str):
        text = ref.strip()
        if text.startswith("{"):
            ref = json.loads(text)
        else:
            return _load_plain(text)
    kind = ref.get("kind")
    if kind == "builtin":
        from clawgym_env.synth.builtin import SUITE_VERSION, BuiltinSource

        version = ref.get("suite_version", SUITE_VERSION)
        if version != SUITE_VERSION:
            raise ValueError(f"task_ref names built-in {ref.get('id')!r} of suite {version!r}, but this "
                             f"clawgym generates {SUITE_VERSION!r}; rebuild the parquet with this version")
        return BuiltinSource().load(str(ref["id"]))
    if kind == "inline":
        return task_from_json(ref["task"])
    if kind == "source":
        from clawgym_env.registration import cached_source

        return cached_source(str(ref["path"])).load(str(ref["id"]))
    raise ValueError(f"unknown task_ref kind {kind!r} (expected builtin, inline or source)")


def _load_plain(spec: str) -> Task:
    """``builtin:task-0042``, ``ClawGym/task-0042``, a task folder, or ``SUITE_DIR:TASK_ID``."""
    from clawgym_env.registration import resolve_task_spec

    return resolve_task_spec(spec)[0]


def task_from_row(extra_info: Mapping[str, Any] | None) -> Task:
    """The task of one dataset row (``extra_info`` as veRL passes it to the agent loop)."""
    if not extra_info or not extra_info.get("task_ref"):
        raise ValueError("row has no extra_info.task_ref; build the parquet with `clawgym rl build-data`")
    return load_task_ref(extra_info["task_ref"])


# ---------------------------------------------------------------------------------------- the parquet
def resolve_tasks(specs: Iterable[str], *, inline: bool = True) -> Iterable[tuple[Task, dict[str, Any]]]:
    """(task, task_ref) for every task the specs name, in order. A spec is ``builtin`` (the whole
    suite), ``builtin:task-0042``, ``ClawGym/task-0042``, a task folder, a folder of task folders
    (or a PinchBench checkout), or ``SUITE_DIR:TASK_ID``."""
    for spec in specs:
        if spec == "builtin":
            from clawgym_env.synth.builtin import BuiltinSource

            source = BuiltinSource()
            for task_id in source.ids():
                yield source.load(task_id), builtin_ref(task_id)
            continue
        if spec.startswith(("builtin:", "ClawGym/task-")):
            task_id = spec.split(":", 1)[1] if spec.startswith("builtin:") else spec.split("/", 1)[1]
            ref = builtin_ref(task_id)
            yield load_task_ref(ref), ref
            continue
        if not Path(spec).exists() and ":" in spec:
            suite, task_id = spec.rsplit(":", 1)
            ref = source_ref(suite, task_id)
            task = load_task_ref(ref)
            yield task, (inline_ref(task) if inline else ref)
            continue
        src: TaskSource = open_source(spec)
        for task_id in src.ids():
            task = src.load(task_id)
            yield task, (inline_ref(task) if inline else source_ref(spec, task_id))


def rl_row(task: Task, ref: Mapping[str, Any], *, index: int, split: str = "train",
           data_source: str = DATA_SOURCE) -> dict[str, Any]:
    """One parquet row (see the module docstring)."""
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": task.user_query}],
        "ability": str(task.metadata.get("category") or "agentic"),
        "reward_model": {"style": "rule", "ground_truth": ""},
        "extra_info": {"index": index, "split": split, "task_id": task.task_id,
                       "task_ref": json.dumps(ref, ensure_ascii=False)},
        "agent_name": AGENT_NAME,
    }


def build_rl_parquet(specs: Sequence[str] | str, out_path: str | os.PathLike[str], *, split: str = "train",
                     data_source: str = DATA_SOURCE, inline: bool = True, offset: int = 0,
                     limit: int = 0) -> int:
    """Write the RL parquet for the tasks ``specs`` name (see :func:`resolve_tasks`), skipping the
    first ``offset`` and keeping at most ``limit`` (0 = all). Returns the number of rows.

    ``inline`` embeds folder tasks in the rows (self-contained, multi-node safe); ``False`` stores
    their path instead. Built-in tasks are always stored by id.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(specs, str):
        specs = [specs]
    rows: list[dict[str, Any]] = []
    for n, (task, ref) in enumerate(resolve_tasks(specs, inline=inline)):
        if n < offset:
            continue
        if limit and len(rows) >= limit:
            break
        rows.append(rl_row(task, ref, index=len(rows), split=split, data_source=data_source))
    if not rows:
        raise ValueError(f"no tasks in {list(specs)} (offset {offset}, limit {limit})")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, out)
    return len(rows)
