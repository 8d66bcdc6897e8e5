"""The viewer's data layer: a run's records as episode summaries, step-by-step episodes and run comparisons.

A run is an eval output folder (``records.jsonl`` + ``run.json``) or a bare records file. Opening one
scans the file once, keeping per episode only a summary, the byte offset of its line and a signature
per turn; an episode's full record is read back from its offset when the page asks for it, so a
run of thousands of episodes stays small in memory. A run still being written is rescanned when the
file grows.

Records hold no workspace snapshots, so the per-step file changes are reconstructed: the task's
initial files (when the run's suite can still be opened) and the content of every full ``read``,
``write`` and ``edit`` are followed through the episode. What ``exec`` commands changed is not in
the records; a later full ``read`` that disagrees with the content followed so far shows up as a
change "made outside write/edit". :data:`DIFF_NOTE` says this on the page.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.rollout.records import TrajectoryRecord, total_tokens
from clawgym_env.tools.fs import NEW_TEXT_KEYS, OLD_TEXT_KEYS, PATH_KEYS

DIFF_NOTE = ("Records hold no workspace snapshots: file changes are reconstructed from the task's initial files, "
             "full reads, and the arguments of write and edit calls. Changes made by exec commands are not "
             "recorded; a later full read that disagrees shows them as 'changed outside write/edit'.")
MAX_TEXT_FILE = 1 << 20
"""Initial files bigger than this (or not UTF-8) are not followed: their diffs show the new text only."""
_READ_NOTICES = ("\n\n[Showing lines ", " more lines in file. Use offset=", "\n\n[Read output capped at ")
_WORKSPACE_PREFIXES = ("/root/.openclaw/workspace/", "~/.openclaw/workspace/")


# ---------------------------------------------------------------------------------------- summaries
def summarize(record: TrajectoryRecord) -> dict[str, Any]:
    """The episode's row in the run table: what the page filters and sorts on."""
    usage = record.usage or {}
    calls = record.tool_calls
    return {
        "episode_id": record.episode_id, "task_id": record.task_id, "repeat": record.repeat,
        "category": record.category, "reward": record.reward, "scored": record.scored,
        "unscored": record.unscored, "infra_error": record.infra_error,
        "turns": len(record.turns) or record.steps, "tool_calls": len(calls),
        "tool_errors": sum(1 for c in calls if c.ok is False),
        "tokens": total_tokens(usage) if usage else None,
        "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens"),
        "seconds": record.timings.get("total"), "budget_hit": record.budget_hit,
        "terminated": record.terminated, "truncated": record.truncated, "model": record.model,
    }


def turn_signatures(record: TrajectoryRecord) -> list[str]:
    """One short hash per assistant turn of what the agent did (text and tool calls with canonical
    arguments): two episodes diverge at the first turn whose signatures differ."""
    out = []
    for m in record.messages:
        if m.get("role") != "assistant":
            continue
        calls = []
        for tc in m.get("tool_calls") or []:
            fn = tc.get("function") or {}
            calls.append([fn.get("name"), _canonical_args(fn.get("arguments"))])
        text = m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
        blob = json.dumps([(text or "").strip(), calls], sort_keys=True, ensure_ascii=False)
        out.append(hashlib.sha1(blob.encode()).hexdigest()[:12])
    return out


def first_divergence(a: list[str], b: list[str]) -> int | None:
    """Index of the first turn where two signature lists differ (a shorter episode diverges where
    it ends); None when they are the same."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _canonical_args(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


# ---------------------------------------------------------------------------------------- runs
@dataclass
class _Entry:
    offset: int
    summary: dict[str, Any]
    signature: list[str]


@dataclass
class Run:
    """One run opened for viewing: ``path`` is an eval output folder or a records JSONL file."""

    path: Path
    suite: str | None = None
    """Task source to read initial files from (default: ``run.json``'s suite)."""
    records_path: Path = field(init=False)
    run_info: dict[str, Any] = field(init=False, default_factory=dict)
    _entries: dict[str, _Entry] = field(init=False, default_factory=dict)
    _scanned: tuple[int, int] = field(init=False, default=(-1, -1))
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _source: Any = field(init=False, default=None)
    _source_error: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.path.is_dir():
            self.records_path = self.path / "records.jsonl"
            run_json = self.path / "run.json"
            if run_json.is_file():
                self.run_info = json.loads(run_json.read_text(encoding="utf-8"))
        else:
            self.records_path = self.path
        if not self.records_path.is_file():
            raise FileNotFoundError(f"no trajectory records at {self.records_path}")
        if self.suite is None:
            self.suite = (self.run_info.get("config") or {}).get("suite")
        self.refresh()

    @property
    def name(self) -> str:
        return self.path.name if self.path.is_dir() else self.path.stem

    def refresh(self) -> None:
        """Rescan the records when the file changed (a run still being written)."""
        st = self.records_path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        with self._lock:
            if stamp == self._scanned:
                return
            entries: dict[str, _Entry] = {}
            with open(self.records_path, "rb") as f:
                offset = 0
                for line in f:
                    start, offset = offset, offset + len(line)
                    record = _parse(line)
                    if record is not None:  # a later record of an episode supersedes the earlier one
                        entries.pop(record.episode_id, None)
                        entries[record.episode_id] = _Entry(start, summarize(record), turn_signatures(record))
            self._entries, self._scanned = entries, stamp

    def episodes(self) -> list[dict[str, Any]]:
        self.refresh()
        return [e.summary for e in self._entries.values()]

    def signature(self, episode_id: str) -> list[str] | None:
        entry = self._entries.get(episode_id)
        return None if entry is None else entry.signature

    def record(self, episode_id: str) -> TrajectoryRecord:
        self.refresh()
        entry = self._entries.get(episode_id)
        if entry is None:
            raise KeyError(f"no episode {episode_id!r} in {self.records_path}")
        with open(self.records_path, "rb") as f:
            f.seek(entry.offset)
            record = _parse(f.readline())
        if record is None:
            raise KeyError(f"episode {episode_id!r} could not be read back from {self.records_path}")
        return record

    def initial_files(self, task_id: str) -> tuple[dict[str, str | None] | None, str | None]:
        """The task's initial files by workspace path (their text; None for a big or binary file), or
        None and why they are unavailable."""
        if not self.suite:
            return None, "the run names no suite (pass --suite to view its initial files)"
        try:
            if self._source is None and self._source_error is None:
                from clawgym_env.tasks import open_source

                self._source = open_source(self.suite)
            if self._source is None:
                return None, self._source_error
            task = self._source.load(task_id)
        except Exception as exc:  # noqa: BLE001 - any failure only costs the page its initial files
            if self._source is None:
                self._source_error = f"suite {self.suite!r} could not be opened: {exc}"
                return None, self._source_error
            return None, f"task {task_id!r} could not be loaded from {self.suite!r}: {exc}"
        files: dict[str, str | None] = {}
        for path, data, _mode in task.workspace_entries():
            if isinstance(data, bytes) and len(data) <= MAX_TEXT_FILE:
                try:
                    files[path] = data.decode("utf-8")
                except UnicodeDecodeError:
                    files[path] = None  # exists; its content is not followed
            else:
                files[path] = None
        return files, None

    def info(self) -> dict[str, Any]:
        config = self.run_info.get("config") or {}
        agent = {k: config.get(k) for k in ("agent", "model") if config.get(k)}
        return {"name": self.name, "path": str(self.path), "records": str(self.records_path),
                "suite": self.suite, "agent": agent, "updated_at": self.run_info.get("updated_at")}


def _parse(line: bytes) -> TrajectoryRecord | None:
    if not line.strip():
        return None
    try:
        return TrajectoryRecord.model_validate_json(line)
    except ValueError:
        return None  # a torn last line of a killed writer


# ---------------------------------------------------------------------------------------- episodes
def episode_view(record: TrajectoryRecord, initial: dict[str, str | None] | None = None,
                 initial_note: str | None = None) -> dict[str, Any]:
    """The episode as the page shows it: the prompt, one step per assistant turn (its text, each
    tool call with arguments and result, the file changes it made), then the score and costs."""
    calls_by_turn: dict[int, list[dict[str, Any]]] = {}
    for c in record.tool_calls:
        calls_by_turn.setdefault(c.turn, []).append(c.model_dump())
    changes = file_changes(record, initial)
    tool_results = {m.get("tool_call_id"): m for m in record.messages if m.get("role") == "tool"}
    system, pending, steps = None, [], []
    for m in record.messages:
        role = m.get("role")
        if role == "system" and system is None:
            system = _text(m.get("content"))
        elif role in ("user", "system"):
            pending.append({"role": role, "content": _text(m.get("content"))})
        elif role == "assistant":
            i = len(steps)
            calls = calls_by_turn.get(i)
            if calls is None:  # no executed calls recorded for this turn: show what the message asked for
                calls = []
                for tc in m.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    res = tool_results.get(tc.get("id"))
                    calls.append({"turn": i, "id": tc.get("id"), "name": fn.get("name"),
                                  "arguments": fn.get("arguments"),
                                  "result": _text(res.get("content")) if res else None, "ok": None})
            for c in calls:
                c["arguments_parsed"] = _canonical_args(c.get("arguments"))
            turn = record.turns[i].model_dump(exclude={"raw"}) if i < len(record.turns) else {}
            raw = record.turns[i].raw if i < len(record.turns) else None
            steps.append({"index": i, "before": pending, "content": _text(m.get("content")),
                          "reasoning": m.get("reasoning_content") or m.get("reasoning"),
                          "tool_calls": calls, "changes": changes.get(i, []), "turn": turn,
                          "finish_reason": raw.get("finish_reason") if isinstance(raw, dict) else None})
            pending = []
    return {
        "summary": summarize(record), "system": system, "steps": steps, "after": pending,
        "final_message": record.final_message, "verifier": record.verifier, "subscores": record.subscores,
        "code_score": record.code_score, "rubric": record.rubric, "timings": record.timings,
        "usage": record.usage, "error": record.error, "budgets": record.budgets, "agent": record.agent,
        "env_config": record.env_config, "started_at": record.started_at, "finished_at": record.finished_at,
        "diff_note": DIFF_NOTE, "initial_files": sorted(initial) if initial is not None else None,
        "initial_note": initial_note,
    }


def _text(content: Any) -> str:
    """Message content as text: multimodal parts joined, images named."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text":
                parts.append(str(p.get("text", "")))
            elif isinstance(p, dict):
                parts.append(f"[{p.get('type', 'part')}]")
            else:
                parts.append(str(p))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False)


# ---------------------------------------------------------------------------------------- file changes
def workspace_path(path: str) -> str:
    """A tool's path argument as a workspace-relative path."""
    for prefix in _WORKSPACE_PREFIXES:
        path = path.removeprefix(prefix)
    while path.startswith("./"):
        path = path[2:]
    return path


def unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}", n=3)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def file_changes(record: TrajectoryRecord, initial: dict[str, str | None] | None = None) -> dict[int, list[dict[str, Any]]]:
    """Per assistant turn, the workspace changes its tool calls made, as far as the records tell.

    Each change: ``path``, ``tool``, ``status`` (``created``, ``modified``, ``unchanged``,
    ``overwritten`` (previous content unknown), ``edited`` (only the edited text is known),
    ``changed outside write/edit``, ``unknown`` (exec)), ``diff`` (unified) and ``note``."""
    known: dict[str, str | None] = dict(initial or {})
    complete = initial is not None  # a path absent from a known initial workspace did not exist
    out: dict[int, list[dict[str, Any]]] = {}
    last_exec: int | None = None

    def add(turn: int, change: dict[str, Any]) -> None:
        out.setdefault(turn, []).append(change)

    for call in record.tool_calls:
        args = _canonical_args(call.arguments)
        if not isinstance(args, dict) or call.ok is False:
            continue
        raw_path = next((args[k] for k in PATH_KEYS if isinstance(args.get(k), str)), None)
        path = workspace_path(raw_path) if raw_path else None
        if call.name == "read" and path and not any(k in args for k in ("offset", "limit")) \
                and not any(n in call.result for n in _READ_NOTICES) and not call.result.startswith("Read image"):
            before = known.get(path)
            if before is not None and before != call.result:
                since = f" (by the exec of turn {last_exec + 1}?)" if last_exec is not None else ""
                add(call.turn, {"path": path, "tool": "read", "status": "changed outside write/edit",
                                "diff": unified_diff(before, call.result, path),
                                "note": f"this read shows content that no recorded write/edit made{since}"})
            known[path] = call.result
        elif call.name == "write" and path and isinstance(args.get("content"), str):
            new = args["content"]
            if path in known and known[path] is not None:
                old = known[path] or ""
                status, note = ("unchanged" if old == new else "modified"), ""
            elif path in known or not complete:
                old, status = "", "overwritten"
                note = "the previous content is not in the records: the diff shows the whole new file"
            else:
                old, status, note = "", "created", ""
            add(call.turn, {"path": path, "tool": "write", "status": status, "diff": unified_diff(old, new, path),
                            "note": note})
            known[path] = new
        elif call.name == "edit" and path:
            pairs = _edit_pairs(args)
            if not pairs:
                continue
            old = known.get(path)
            new = _apply_edits(old, pairs) if old is not None else None
            if old is not None and new is not None:
                add(call.turn, {"path": path, "tool": "edit", "status": "modified",
                                "diff": unified_diff(old, new, path), "note": ""})
                known[path] = new
            else:
                hunks = f"--- a/{path}\n+++ b/{path}\n" + "".join(
                    "@@ edit @@\n" + "".join(f"-{x}\n" for x in a.split("\n")) + "".join(f"+{x}\n" for x in b.split("\n"))
                    for a, b in pairs)
                add(call.turn, {"path": path, "tool": "edit", "status": "edited", "diff": hunks,
                                "note": "the file's content before the edit is not in the records: only the "
                                        "replaced text is shown"})
                known[path] = None
        elif call.name == "exec":
            last_exec = call.turn
            add(call.turn, {"path": None, "tool": "exec", "status": "unknown", "diff": "",
                            "note": f"ran `{str(args.get('command', ''))[:200]}`: any files it changed are not "
                                    "recorded"})
    return out


def _edit_pairs(args: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    edits = args.get("edits")
    for e in edits if isinstance(edits, list) else []:
        if isinstance(e, dict):
            old = next((e[k] for k in OLD_TEXT_KEYS if isinstance(e.get(k), str)), None)
            new = next((e[k] for k in NEW_TEXT_KEYS if isinstance(e.get(k), str)), None)
            if old and new is not None:
                pairs.append((old, new))
    old = next((args[k] for k in OLD_TEXT_KEYS if isinstance(args.get(k), str)), None)
    new = next((args[k] for k in NEW_TEXT_KEYS if isinstance(args.get(k), str)), None)
    if old and new is not None:
        pairs.append((old, new))
    return pairs


def _apply_edits(content: str, pairs: list[tuple[str, str]]) -> str | None:
    """The content after exact, unique replacements; None when one does not match exactly (the tool
    also matches with normalised whitespace, which is not followed here)."""
    for old, new in pairs:
        if content.count(old) != 1:
            return None
        content = content.replace(old, new, 1)
    return content


# ---------------------------------------------------------------------------------------- compare
def compare_rows(a: Run, b: Run) -> list[dict[str, Any]]:
    """Per episode of either run: both rewards, their delta and the first turn where the agents'
    actions differ (None when identical or when one run lacks the episode)."""
    ea = {e["episode_id"]: e for e in a.episodes()}
    eb = {e["episode_id"]: e for e in b.episodes()}
    rows = []
    for eid in list(ea) + [k for k in eb if k not in ea]:
        x, y = ea.get(eid), eb.get(eid)
        both = x is not None and y is not None
        sa, sb = a.signature(eid), b.signature(eid)
        rows.append({
            "episode_id": eid, "task_id": (x or y or {}).get("task_id"), "category": (x or y or {}).get("category"),
            "reward_a": x["reward"] if x else None, "reward_b": y["reward"] if y else None,
            "delta": y["reward"] - x["reward"] if both else None,  # type: ignore[index]
            "turns_a": x["turns"] if x else None, "turns_b": y["turns"] if y else None,
            "infra_a": x["infra_error"] if x else None, "infra_b": y["infra_error"] if y else None,
            "first_divergence": first_divergence(sa or [], sb or []) if both else None,
            "in": "both" if both else ("a" if x else "b"),
        })
    return sorted(rows, key=lambda r: _natural(r["episode_id"]))


def _natural(text: str) -> list[Any]:
    """Sort key that orders task-9000 before task-10000."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def compare_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    both = [r for r in rows if r["in"] == "both"]
    deltas = [r["delta"] for r in both]
    return {"episodes": len(rows), "in_both": len(both), "only_a": sum(r["in"] == "a" for r in rows),
            "only_b": sum(r["in"] == "b" for r in rows),
            "better_b": sum(d > 0 for d in deltas), "worse_b": sum(d < 0 for d in deltas),
            "same": sum(d == 0 for d in deltas),
            "mean_delta": sum(deltas) / len(deltas) if deltas else None,
            "identical": sum(r["first_divergence"] is None for r in both)}


def open_run(path: str | os.PathLike[str], suite: str | None = None) -> Run:
    return Run(Path(path), suite=suite)


__all__ = ["DIFF_NOTE", "Run", "compare_rows", "compare_summary", "episode_view", "file_changes",
           "first_divergence", "open_run", "summarize", "turn_signatures", "unified_diff", "workspace_path"]
