"""Our prompt for the proof stage's reference solution (the stage after a route's own stages).

The model sees what an agent would see (the request and the input files) and never the verifier,
so a reference that the verifier scores 1.0 is an independent proof that the task can be solved
and that the verifier accepts a solution it did not write. The answer is a JSON object of tool
calls in OpenClaw's own names and argument names (specs/openclaw-tools.md §1), which the proof
stage plays through the real env.
"""

from __future__ import annotations

from typing import Any

WORKSPACE_SUFFIX = " All file paths are relative to the workspace directory."
"""Stage 12's suffix to every question (specs §E1), added once."""

MAX_FILE_CHARS = 20_000
"""An input file longer than this is shown cut (the reference can still ``read`` it whole)."""

REFERENCE_SYSTEM = (
    "You are a careful assistant working in a sandboxed workspace folder. You solve the user's task by "
    "planning the exact tool calls that produce the requested files, and you answer with one JSON object "
    "and nothing else."
)

_REFERENCE_USER = """Solve the task below. Plan every tool call yourself: nothing runs between your calls
and you will not see their results, so compute every value from the input files shown here.

## Task
{question}

## Input files (already in the workspace)
{files}

## Tools
- read: {{"path": str}} - read a file.
- write: {{"path": str, "content": str}} - create or overwrite a file (parent folders are created).
- edit: {{"path": str, "oldText": str, "newText": str}} - replace one exact, unique piece of text in a file.
- exec: {{"command": str}} - run a shell command (bash) in the workspace; python3 is available, no network.

## Rules
- Paths are relative to the workspace directory; write each output exactly where the task says.
- Never modify the input files unless the task asks for it.
- Write complete, correct content: exact numbers, every requested record, the requested format.

## Answer
One JSON object:
{{"actions": [{{"name": "read" | "write" | "edit" | "exec", "arguments": {{...}}}}, ...],
 "final": "a one-sentence reply to the user saying what you did"}}
"""


def with_suffix(question: str) -> str:
    """The question with stage 12's workspace sentence, never twice."""
    q = question.rstrip()
    return q if q.endswith(WORKSPACE_SUFFIX.strip()) else q + WORKSPACE_SUFFIX


def _files_text(files: list[dict[str, Any]]) -> str:
    if not files:
        return "(none)"
    blocks = []
    for f in files:
        content = str(f.get("content") or "")
        if len(content) > MAX_FILE_CHARS:
            content = content[:MAX_FILE_CHARS] + f"\n[... cut at {MAX_FILE_CHARS} characters; read the file for the rest]"
        blocks.append(f"### {f['file_path']}\n```\n{content}\n```")
    return "\n\n".join(blocks)


def reference_messages(candidate: dict[str, Any]) -> list[dict[str, str]]:
    """The reference-solution request for one candidate record (question and input files only)."""
    task = candidate["task"]
    user = _REFERENCE_USER.format(question=with_suffix(str(task["question"])),
                                  files=_files_text(list(task.get("input_files") or [])))
    return [{"role": "system", "content": REFERENCE_SYSTEM}, {"role": "user", "content": user}]


__all__ = ["MAX_FILE_CHARS", "REFERENCE_SYSTEM", "WORKSPACE_SUFFIX", "reference_messages", "with_suffix"]
