"""Outside trajectories as :class:`TrajectoryRecord`, so one filter and one set of writers serve all.

Three formats are recognised from a file's first line:

- our records (``schema_version`` + ``episode_id``): read as ``read_records`` does (the last record
  of an episode wins, torn lines are skipped and counted);
- the ClawGym authors' trajectory JSONL (HF ``RUC-AIBOX/ClawGym-Trajectory``, OpenRLHF
  ``--input_key messages``): one ``{"messages": [...], "tools"?, "reward"?|"score"?, ...}`` per line;
- an OpenClaw session file (``{"type": "session", ...}`` header, then ``message`` entries), as
  OpenClaw writes under ``~/.openclaw/agents/main/sessions/`` and ``clawgym export-session`` writes.

An imported reward that the source does not give stays unknown: ``reward=0.0, scored=False,
verifier=None``; :mod:`clawgym_env.sft.filter` drops such records unless told to keep them. Nothing
is dropped silently: skipped lines, entries and content blocks are counted in :class:`ImportStats`.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.rollout.records import (
    SCHEMA_VERSION,
    ToolCallRecord,
    TrajectoryRecord,
    TurnRecord,
    episode_id,
)
from clawgym_env.sft.examples import arguments_string
from clawgym_env.tools.parsing import content_text
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION

AUTHORS_SOURCE = "import:authors"
SESSION_SOURCE = "import:openclaw-session"
DEFAULT_TOOLS_PROFILE = "openclaw"
"""Tool schemas given to imports that carry none: the 19-tool profile of the authors' SFT data (spec D1)."""

_EXPECTED = ("expected one of: a clawgym trajectory record (schema_version + episode_id), an authors' "
             "trajectory line ({\"messages\": [...]}), or an OpenClaw session file (first line "
             "{\"type\": \"session\", ...})")


@dataclass
class ImportStats:
    """What loading saw: records per format, and everything it skipped, by kind."""

    files: Counter[str] = field(default_factory=Counter)
    """Input files per detected format (``records``, ``authors``, ``session``, ``empty``)."""
    records: Counter[str] = field(default_factory=Counter)
    """Records produced per format."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Things not imported, e.g. ``records: torn line``, ``records: superseded``, ``session entry:
    model_change``, ``session block: image``."""

    def to_dict(self) -> dict[str, Any]:
        return {"files": dict(self.files), "records": dict(self.records), "skipped": dict(self.skipped)}


# ---------------------------------------------------------------------------------------- entry points
def input_files(path: str | os.PathLike[str]) -> list[Path]:
    """A file as itself; a directory as every ``*.jsonl`` directly in it, sorted."""
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.glob("*.jsonl") if f.is_file())
    if not p.exists():
        raise FileNotFoundError(f"no such file or directory: {p}")
    return [p]


def load_trajectories(path: str | os.PathLike[str], *, system_prompt: str | None = None,
                      tools_profile: str = DEFAULT_TOOLS_PROFILE, openclaw_version: str = DEFAULT_OPENCLAW_VERSION,
                      stats: ImportStats | None = None) -> Iterator[TrajectoryRecord]:
    """Records from a file or a directory of ``*.jsonl`` files, whatever their format.

    ``system_prompt`` is prepended to imported OpenClaw sessions (they store none); ``tools_profile``
    and ``openclaw_version`` name the tool schemas given to imports that carry none. Counts go into ``stats`` if given.
    Raises ValueError naming ``file:line`` on a line of no known format.
    """
    stats = stats if stats is not None else ImportStats()
    for file in input_files(path):
        yield from _load_file(file, system_prompt=system_prompt, tools_spec=(tools_profile, openclaw_version),
                              stats=stats)


def load_many(paths: Iterable[str | os.PathLike[str]], **kw: Any) -> list[TrajectoryRecord]:
    """:func:`load_trajectories` over several inputs, in order."""
    return [r for p in paths for r in load_trajectories(p, **kw)]


def detect_format(first: Any) -> str | None:
    """``records``, ``authors`` or ``session`` for a parsed first line, None if it is none of them."""
    if not isinstance(first, dict):
        return None
    if first.get("type") == "session":
        return "session"
    if "schema_version" in first and "episode_id" in first:
        return "records"
    if isinstance(first.get("messages"), list):
        return "authors"
    return None


def _load_file(file: Path, *, system_prompt: str | None, tools_spec: tuple[str, str],
               stats: ImportStats) -> Iterator[TrajectoryRecord]:
    first_line, first = _first_json(file)
    if first_line == 0:
        stats.files["empty"] += 1
        return
    kind = detect_format(first)
    if kind is None:
        raise ValueError(f"{file}:{first_line}: unrecognised trajectory line; {_EXPECTED}")
    stats.files[kind] += 1
    if kind == "records":
        records: Iterable[TrajectoryRecord] = _load_records(file, stats)
    elif kind == "authors":
        records = _load_authors(file, tools_spec, stats)
    else:
        records = [_load_session(file, system_prompt, tools_spec, stats)]
    for record in records:
        stats.records[kind] += 1
        yield record


def _first_json(file: Path) -> tuple[int, Any]:
    """(line number, parsed JSON) of the first non-blank line; (0, None) for an empty file."""
    with open(file, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                try:
                    return lineno, json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{file}:{lineno}: not JSON ({exc}); {_EXPECTED}") from exc
    return 0, None


def _json_lines(file: Path) -> Iterator[tuple[int, str]]:
    with open(file, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, line


def _default_tools(tools_spec: tuple[str, str]) -> list[dict[str, Any]]:
    from clawgym_env.tools import tool_schemas

    profile, version = tools_spec
    return tool_schemas(profile, version)


# ---------------------------------------------------------------------------------------- our records
def _load_records(file: Path, stats: ImportStats) -> list[TrajectoryRecord]:
    """Our own records: as ``read_records`` + ``latest_by_key`` (torn lines skipped, the last record of
    an episode wins), but a complete JSON line that is not a record is an error."""
    latest: dict[tuple[str, int], TrajectoryRecord] = {}
    for lineno, line in _json_lines(file):
        try:
            data = json.loads(line)
        except ValueError:
            stats.skipped["records: torn line"] += 1
            continue
        try:
            record = TrajectoryRecord.model_validate(data)
        except ValueError as exc:
            raise ValueError(f"{file}:{lineno}: not a clawgym trajectory record (the file's first line is "
                             f"one): {exc}") from exc
        if record.schema_version > SCHEMA_VERSION:
            raise ValueError(f"{file}:{lineno}: schema_version {record.schema_version} is newer than this "
                             f"clawgym ({SCHEMA_VERSION}); upgrade clawgym to read it")
        if record.key in latest:
            stats.skipped["records: superseded by a later record of the episode"] += 1
        latest[record.key] = record  # as latest_by_key: the episode keeps its first position
    return list(latest.values())


# ---------------------------------------------------------------------------------------- authors' JSONL
def _load_authors(file: Path, tools_spec: tuple[str, str], stats: ImportStats) -> Iterator[TrajectoryRecord]:
    repeats: Counter[str] = Counter()
    default_tools: list[dict[str, Any]] | None = None
    for lineno, line in _json_lines(file):
        where = f"{file}:{lineno}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{where}: not JSON ({exc}); expected an authors' trajectory line "
                             "{\"messages\": [...]} like the file's first line") from exc
        if detect_format(data) != "authors":
            raise ValueError(f"{where}: expected an authors' trajectory line {{\"messages\": [...]}} like the "
                             f"file's first line; got keys {sorted(data)[:8] if isinstance(data, dict) else type(data).__name__}")
        tools = _tools_field(data.get("tools"), where)
        if tools is None:
            if default_tools is None:
                default_tools = _default_tools(tools_spec)
            tools = default_tools
        task_id = str(data.get("task_id") or data.get("id") or f"{file.stem}:{lineno}")
        repeat = repeats[task_id]
        repeats[task_id] += 1
        reward = data.get("reward", data.get("score"))
        if reward is not None and not isinstance(reward, int | float):
            raise ValueError(f"{where}: reward/score must be a number, got {reward!r}")
        messages = _authors_messages(data["messages"], where)
        record = _record_from_messages(
            messages, tools=tools, task_id=task_id, repeat=repeat, source=AUTHORS_SOURCE,
            category=str(data.get("category") or data.get("task_category") or ""), model=data.get("model"),
            reward=None if reward is None else float(reward), origin=where, stats=stats)
        yield record


def _tools_field(value: Any, where: str) -> list[dict[str, Any]] | None:
    """A ``tools`` field: a list of schemas, a JSON string of one (HF datasets often store it so), or absent."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"{where}: 'tools' is a string but not JSON: {exc}") from exc
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ValueError(f"{where}: 'tools' must be a list of OpenAI function schemas")
    return value


def _authors_messages(messages: list[Any], where: str) -> list[dict[str, Any]]:
    """The messages with every tool call given an id and string arguments, and every tool result
    a ``tool_call_id`` (results without one answer the turn's calls in order)."""
    out: list[dict[str, Any]] = []
    pending: list[str] = []
    n_calls = 0
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise ValueError(f"{where}: messages[{i}] is not an OpenAI message (an object with a 'role')")  # noqa: TRY004
        msg = dict(msg)
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            calls, pending = [], []
            for call in msg["tool_calls"]:
                if not isinstance(call, dict):
                    raise ValueError(f"{where}: messages[{i}].tool_calls holds a non-object")  # noqa: TRY004
                fn = call.get("function") if isinstance(call.get("function"), dict) else call
                call_id = str(call.get("id") or f"call_{n_calls}")
                n_calls += 1
                calls.append({"id": call_id, "type": "function",
                              "function": {"name": str(fn.get("name") or ""),
                                           "arguments": arguments_string(fn.get("arguments"))}})
                pending.append(call_id)
            msg["tool_calls"] = calls
        elif msg["role"] == "tool":
            if not msg.get("tool_call_id") and pending:
                msg["tool_call_id"] = pending[0]
            if msg.get("tool_call_id") in pending:
                pending.remove(msg["tool_call_id"])
        out.append(msg)
    return out


# ---------------------------------------------------------------------------------------- shared builder
def _record_from_messages(messages: list[dict[str, Any]], *, tools: list[dict[str, Any]], task_id: str,
                          repeat: int, source: str, category: str, model: Any, reward: float | None,
                          origin: str, stats: ImportStats, turn_info: list[dict[str, Any]] | None = None,
                          errors: dict[int, bool] | None = None, started_at: str = "",
                          extra: dict[str, Any] | None = None) -> TrajectoryRecord:
    """A record from an OpenAI message list: tool calls paired with their results by id (ids are
    reused across turns, e.g. ``call_0`` every turn, so a result answers the latest pending call).
    ``turn_info``: per assistant message, its ``usage`` and ``model`` where the source has them;
    ``errors``: message index of a tool result -> whether the tool failed."""
    calls: list[ToolCallRecord] = []
    turns: list[TurnRecord] = []
    pending: dict[str, ToolCallRecord] = {}
    for position, msg in enumerate(messages):
        role = msg.get("role")
        if role == "assistant":
            index = len(turns)
            info = turn_info[index] if turn_info and index < len(turn_info) else {}
            turn_calls = [c for c in msg.get("tool_calls") or [] if isinstance(c, dict)]
            turns.append(TurnRecord(index=index, usage=info.get("usage") or {}, tool_calls=len(turn_calls),
                                    model=info.get("model")))
            for c in turn_calls:
                fn = c.get("function") or {}
                call = ToolCallRecord(turn=index, id=str(c.get("id") or ""), name=str(fn.get("name") or ""),
                                      arguments=arguments_string(fn.get("arguments")), result="")
                calls.append(call)
                pending[call.id] = call
        elif role == "tool":
            call_id = str(msg.get("tool_call_id") or "")
            match = pending.pop(call_id, None)
            if match is None:
                stats.skipped["tool result without a matching call (kept in messages)"] += 1
                continue
            match.result = content_text(msg.get("content"))
            if errors is not None and position in errors:  # OpenClaw's isError on the result
                match.ok = not errors[position]
                match.error_kind = "tool_error" if errors[position] else None
    assistants = [m for m in messages if m.get("role") == "assistant"]
    last = messages[-1] if messages else {}
    terminated = last.get("role") == "assistant" and not last.get("tool_calls")
    usage_total: Counter[str] = Counter()
    for t in turns:
        usage_total.update(t.usage)
    last_model = next((t.model for t in reversed(turns) if t.model), None)
    return TrajectoryRecord(
        episode_id=episode_id(task_id, repeat), task_id=task_id, source=source, category=category, repeat=repeat,
        messages=messages, tools=tools, tool_calls=calls, turns=turns,
        final_message=content_text(last.get("content")) if terminated else None,
        reward=reward if reward is not None else 0.0, terminated=terminated, truncated=False,
        scored=reward is not None, verifier=None, steps=len(assistants), usage=dict(usage_total),
        started_at=started_at, agent={"agent": "import"}, model=model if isinstance(model, str) else last_model,
        import_origin=origin, **(extra or {}))


# ---------------------------------------------------------------------------------------- OpenClaw sessions
_USAGE_NAMES = {"input": "prompt_tokens", "output": "completion_tokens", "cacheRead": "cached_tokens",
                "totalTokens": "total_tokens"}
_EXPORT_STEM = re.compile(r"^(?P<task>.+)__r(?P<repeat>\d+)$")


def _load_session(file: Path, system_prompt: str | None, tools_spec: tuple[str, str],
                  stats: ImportStats) -> TrajectoryRecord:
    """One session file -> one record. The conversation is the active branch: the chain of
    ``parentId`` links back from the last entry (for a linear session, every entry in file order)."""
    header: dict[str, Any] = {}
    entries: list[tuple[int, dict[str, Any]]] = []
    for lineno, line in _json_lines(file):
        where = f"{file}:{lineno}"
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{where}: not JSON ({exc}); expected an OpenClaw session entry") from exc
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise ValueError(f"{where}: expected an OpenClaw session entry (an object with a 'type')")  # noqa: TRY004
        if data["type"] == "session":
            if header:
                raise ValueError(f"{where}: a second session header; one file holds one session")
            header = data
            continue
        entries.append((lineno, data))

    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    turn_info: list[dict[str, Any]] = []
    errors: dict[int, bool] = {}
    for lineno, entry in _active_branch(entries, stats):
        if entry["type"] != "message":
            stats.skipped[f"session entry: {entry['type']}"] += 1
            continue
        msg = entry.get("message")
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise ValueError(f"{file}:{lineno}: a 'message' entry without a message object with a 'role'")  # noqa: TRY004
        converted = _session_message(msg, f"{file}:{lineno}", stats)
        if converted is None:
            continue
        if converted["role"] == "assistant":
            usage = {_USAGE_NAMES[k]: int(v) for k, v in (msg.get("usage") or {}).items()
                     if k in _USAGE_NAMES and isinstance(v, int | float)}
            turn_info.append({"usage": usage, "model": msg["model"] if isinstance(msg.get("model"), str) else None})
        if converted["role"] == "tool" and "isError" in msg:
            errors[len(messages)] = bool(msg["isError"])
        messages.append(converted)

    m = _EXPORT_STEM.match(file.stem)
    task_id, repeat = (m["task"], int(m["repeat"])) if m else (file.stem, 0)
    return _record_from_messages(
        messages, tools=_default_tools(tools_spec), task_id=task_id, repeat=repeat, source=SESSION_SOURCE,
        category="", model=None, reward=None, origin=str(file), stats=stats, turn_info=turn_info, errors=errors,
        started_at=str(header.get("timestamp") or ""),
        extra={"session_id": header.get("id")} if header.get("id") else None)


def _active_branch(entries: list[tuple[int, dict[str, Any]]],
                   stats: ImportStats | None) -> list[tuple[int, dict[str, Any]]]:
    """Entries on the path from the last entry back to the root via ``parentId``. Sessions without
    ids (or with a broken chain) are taken in file order. Off-branch entries are counted."""
    by_id = {e.get("id"): (n, e) for n, e in entries if e.get("id")}
    if not entries or len(by_id) != len(entries):
        return entries
    path: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    current: Any = entries[-1][1].get("id")
    while current is not None:
        if current in seen or current not in by_id:
            return entries  # a cycle or a dangling parent: not a tree we understand, keep file order
        seen.add(current)
        path.append(by_id[current])
        current = by_id[current][1].get("parentId")
    path.reverse()
    if stats is not None and len(path) < len(entries):
        stats.skipped["session entry: not on the active branch"] += len(entries) - len(path)
    return path


def _session_message(msg: dict[str, Any], where: str, stats: ImportStats) -> dict[str, Any] | None:
    """An OpenClaw ``message`` as an OpenAI message (None, counted, for roles with no OpenAI form)."""
    role = msg["role"]
    content = msg.get("content")
    blocks: list[Any] = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
    if role == "user":
        return {"role": "user", "content": _blocks_text(blocks, where, stats, allowed=("text",))}
    if role == "assistant":
        out: dict[str, Any] = {"role": "assistant", "content": _blocks_text(blocks, where, stats,
                                                                            allowed=("text", "thinking", "toolCall"))}
        thinking = "".join(str(b.get("thinking") or "") for b in blocks
                           if isinstance(b, dict) and b.get("type") == "thinking")
        if thinking:
            out["reasoning_content"] = thinking
        calls = []
        for b in blocks:
            if isinstance(b, dict) and b.get("type") == "toolCall":
                if not b.get("name"):
                    raise ValueError(f"{where}: a toolCall block without a name")
                calls.append({"id": str(b.get("id") or f"call_{len(calls)}"), "type": "function",
                              "function": {"name": str(b["name"]), "arguments": arguments_string(b.get("arguments"))}})
        if calls:
            out["tool_calls"] = calls
        return out
    if role == "toolResult":
        if not msg.get("toolCallId"):
            raise ValueError(f"{where}: a toolResult message without toolCallId")
        return {"role": "tool", "tool_call_id": str(msg["toolCallId"]), "name": str(msg.get("toolName") or ""),
                "content": _blocks_text(blocks, where, stats, allowed=("text",))}
    stats.skipped[f"session message: role {role}"] += 1
    return None


def _blocks_text(blocks: list[Any], where: str, stats: ImportStats, *, allowed: tuple[str, ...]) -> str:
    """The text blocks joined; other known block types are handled by the caller, unknown ones counted."""
    parts = []
    for b in blocks:
        if not isinstance(b, dict):
            raise ValueError(f"{where}: a content block that is not an object")  # noqa: TRY004
        kind = b.get("type")
        if kind == "text":
            parts.append(str(b.get("text") or ""))
        elif kind not in allowed:
            stats.skipped[f"session block: {kind}"] += 1
    return "".join(parts)


__all__ = [
    "AUTHORS_SOURCE", "DEFAULT_TOOLS_PROFILE", "SESSION_SOURCE", "ImportStats", "detect_format", "input_files",
    "load_many", "load_trajectories",
]
