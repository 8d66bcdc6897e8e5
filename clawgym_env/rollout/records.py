"""Trajectory records: one JSON line per finished episode, versioned, self-contained.

A record holds everything needed to train on, re-score or audit an episode without the run that
made it: the OpenAI-format conversation and tool schemas (render it with any chat template), every
tool call with its result, the reward with the verifier's sub-scores, what went wrong
(``infra_error``: drop the sample), token usage, timings, the agent's model and sampling settings,
and which budget (if any) cut the episode short. The schema is documented in
``docs/trajectory-schema.md``; bump :data:`SCHEMA_VERSION` on any incompatible change.

Files are append-only JSONL. :class:`RecordWriter` flushes and fsyncs each line, so a killed run
loses at most its in-flight episodes; :func:`read_records` skips a torn last line.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Self

from pydantic import BaseModel, ConfigDict, Field

from clawgym_env.episode import BudgetName, ToolCallRecord, TurnRecord
from clawgym_env.paths import WORKSPACE
from clawgym_env.transcript import to_openclaw_session

SCHEMA_VERSION = 1
"""Version of :class:`TrajectoryRecord`; readers refuse records from a newer major schema."""


class TrajectoryRecord(BaseModel):
    """One finished episode. ``(task_id, repeat)`` identifies it within a run."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = SCHEMA_VERSION
    episode_id: str
    """``"<task_id>#<repeat>"``."""
    task_id: str
    source: str
    """The task source's name (``builtin``, a folder name, ``pinchbench``)."""
    category: str = ""
    """``metadata.category`` of the task ("" when it has none, as in the ClawGym RL split)."""
    repeat: int = 0
    seed: int = 0
    run_seed: int = 0

    messages: list[dict[str, Any]] = Field(default_factory=list)
    """The conversation in OpenAI format, system prompt first, as the env recorded it."""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    """OpenAI function schemas offered to the agent."""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)
    final_message: str | None = None

    reward: float = 0.0
    """The env's reward (hybrid score where a rubric was judged)."""
    terminated: bool = False
    """The agent ended the episode itself (a turn with no tool call)."""
    truncated: bool = False
    """A budget, the env's ``max_steps`` or an infrastructure failure ended it."""
    budget_hit: BudgetName | None = None
    """Which budget truncated the episode: ``steps`` (max_steps), ``wall_s`` (episode timeout),
    ``tokens`` (total-token budget) or ``context_length`` (the model's context was full)."""
    scored: bool = False
    """The verifier ran on the final workspace (also after a budget cut, when scoring is on)."""
    verifier: dict[str, Any] | None = None
    """``info["verifier"]``: reward, reason for a zero, exit code, timed_out, stdout/stderr excerpts."""
    subscores: dict[str, Any] | None = None
    code_score: float | None = None
    rubric: dict[str, Any] | None = None
    unscored: bool = False
    """A judge-only task with no judge: the reward means nothing; evaluations leave it out."""
    infra_error: str | None = None
    """Set when infrastructure failed (agent error, sandbox death, verifier could not run):
    the reward is not a model outcome; drop the sample."""
    error: dict[str, Any] | None = None
    """Details of an infra error raised as an exception: ``where``, ``type``, ``kind``, ``traceback``."""

    steps: int = 0
    usage: dict[str, int] = Field(default_factory=dict)
    """Sum of the per-turn usage over the episode."""
    timings: dict[str, float | None] = Field(default_factory=dict)
    """Seconds: ``setup`` (task load + env build), ``reset``, ``agent``, ``env``, ``tools``,
    ``verifier``, ``total``."""
    started_at: str = ""
    finished_at: str = ""

    agent: dict[str, Any] = Field(default_factory=dict)
    """``agent.config()``: agent kind, model, sampling settings."""
    model: str | None = None
    env_config: dict[str, Any] = Field(default_factory=dict)
    budgets: dict[str, Any] = Field(default_factory=dict)
    clawgym_version: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.repeat)

    @property
    def total_tokens(self) -> int:
        return total_tokens(self.usage)

    def to_json_line(self) -> str:
        return self.model_dump_json() + "\n"


def total_tokens(usage: dict[str, int]) -> int:
    """``total_tokens`` when the backend gives it, else prompt + completion."""
    if "total_tokens" in usage:
        return int(usage["total_tokens"])
    return int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))


def episode_id(task_id: str, repeat: int) -> str:
    return f"{task_id}#{repeat}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------------------- files
class RecordWriter:
    """Appends records to a JSONL file, one flushed (and by default fsynced) line per record.

    Opening an existing file appends; a torn last line left by a killed writer is closed with a
    newline first so the next record starts on its own line (readers skip the torn one).
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(self.path, "a+", encoding="utf-8")
        if self._file.tell() > 0:
            self._file.seek(self._file.tell() - 1)
            if self._file.read(1) != "\n":
                self._file.write("\n")
                self._file.flush()

    def write(self, record: TrajectoryRecord) -> None:
        if self._file is None:
            raise RuntimeError("the record writer is closed")
        self._file.write(record.to_json_line())
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_records(path: str | os.PathLike[str], *, strict: bool = False,
                 slim: bool = False) -> Iterator[TrajectoryRecord]:
    """Records in file order. Unreadable lines (a torn last line) are skipped unless ``strict``.

    ``slim`` drops the bulky parts (messages, tool schemas, tool results and arguments, raw agent
    extras) so summary statistics over a large run fit in memory.
    """
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if slim:
                    _slim(data)
                record = TrajectoryRecord.model_validate(data)
            except ValueError as exc:
                if strict:
                    raise ValueError(f"{path}:{lineno}: not a trajectory record: {exc}") from exc
                continue
            if record.schema_version > SCHEMA_VERSION:
                raise ValueError(f"{path}:{lineno}: schema_version {record.schema_version} is newer than "
                                 f"this clawgym ({SCHEMA_VERSION}); upgrade clawgym to read it")
            yield record


def _slim(data: Any) -> None:
    if not isinstance(data, dict):
        return
    data["messages"], data["tools"] = [], []
    for call in data.get("tool_calls") or []:
        if isinstance(call, dict):
            call["arguments"], call["result"] = "", ""
    for turn in data.get("turns") or []:
        if isinstance(turn, dict):
            turn["raw"] = None


def read_records(path: str | os.PathLike[str], *, strict: bool = False, slim: bool = False) -> list[TrajectoryRecord]:
    """All records of a JSONL file ([] when it does not exist)."""
    if not Path(path).exists():
        return []
    return list(iter_records(path, strict=strict, slim=slim))


def latest_by_key(records: list[TrajectoryRecord]) -> dict[tuple[str, int], TrajectoryRecord]:
    """The last record of each (task_id, repeat): a redone episode supersedes the earlier one."""
    return {r.key: r for r in records}


# ---------------------------------------------------------------------------------------- sessions
def _openclaw_usage(usage: dict[str, int]) -> dict[str, int]:
    """OpenAI usage names -> OpenClaw's (``input``, ``output``, ``cacheRead``, ``totalTokens``)."""
    out: dict[str, int] = {}
    if "prompt_tokens" in usage:
        out["input"] = usage["prompt_tokens"]
    if "completion_tokens" in usage:
        out["output"] = usage["completion_tokens"]
    if "cached_tokens" in usage:
        out["cacheRead"] = usage["cached_tokens"]
    if usage:
        out["totalTokens"] = total_tokens(usage)
    return out


def to_session_events(record: TrajectoryRecord) -> list[dict[str, Any]]:
    """The episode as OpenClaw session JSONL entries: a ``session`` header, then one ``message``
    entry per user / assistant / toolResult message (via :func:`clawgym_env.transcript.to_openclaw_session`,
    the same conversion the verifier's transcript uses), chained by ``id`` / ``parentId``."""
    messages = [dict(m) for m in record.messages]
    turn = 0
    for m in messages:  # per-turn usage goes on its assistant message, as OpenClaw stores it
        if m.get("role") == "assistant":
            if turn < len(record.turns) and record.turns[turn].usage:
                m["usage"] = _openclaw_usage(record.turns[turn].usage)
            turn += 1
    session_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"clawgym:{record.source}:{record.episode_id}:{record.seed}"))
    stamp = record.started_at or now_iso()
    events: list[dict[str, Any]] = [{"type": "session", "version": 3, "id": session_id, "timestamp": stamp,
                                     "cwd": WORKSPACE}]
    parent: str | None = None
    for i, event in enumerate(to_openclaw_session(messages)):
        entry_id = f"{i + 1:08x}"
        events.append({"type": event["type"], "id": entry_id, "parentId": parent, "timestamp": stamp,
                       "message": event["message"]})
        parent = entry_id
    return events


def session_filename(record: TrajectoryRecord) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", record.task_id)
    return f"{safe}__r{record.repeat}.jsonl"


def export_sessions(records_path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write each record of ``records_path`` (the latest per episode) as an OpenClaw session file
    ``OUT_DIR/<task_id>__r<repeat>.jsonl``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for record in latest_by_key(read_records(records_path)).values():
        path = out / session_filename(record)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(event, ensure_ascii=False) + "\n" for event in to_session_events(record))
        written.append(path)
    return written


__all__ = [
    "SCHEMA_VERSION", "BudgetName", "RecordWriter", "ToolCallRecord", "TrajectoryRecord", "TurnRecord",
    "episode_id", "export_sessions", "iter_records", "latest_by_key", "now_iso", "read_records", "session_filename",
    "to_session_events", "total_tokens",
]
