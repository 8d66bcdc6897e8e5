"""Two real runs of the same three built-in tasks for the viewer's tests, made with ``clawgym eval``.

Run A: the oracle on ``--sample 3`` (three categories). Run B: the OpenAI agent against the scripted
loopback model server (:mod:`chat_server`), which reports token usage and plays, on each task, the
oracle's first action, then a write, an edit, an exec that appends to the file and a full read of it
(so the viewer must show that read as a change made outside write/edit), then a final reply. On the
third task the stand-in answers HTTP 400 at once: an infra error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chat_server import ScriptedModelServer, error_reply, text_reply, tool_call_reply

from clawgym_env.bench.runner import select_tasks
from clawgym_env.cli import main
from clawgym_env.synth.builtin import BuiltinSource

NOTES = "output/notes.md"
B_ACTIONS = [
    {"name": "write", "arguments": {"path": NOTES, "content": "# Notes\ndraft line\n"}},
    {"name": "edit", "arguments": {"path": NOTES, "oldText": "draft line", "newText": "final line"}},
    {"name": "exec", "arguments": {"command": f"echo appended by exec >> {NOTES}"}},
    {"name": "read", "arguments": {"path": NOTES}},
]


@dataclass
class Runs:
    a: Path
    b: Path
    tasks: list[str]
    """The three task ids, in suite order; ``tasks[2]`` is B's infra error."""
    categories: dict[str, str]


def make_runs(root: Path) -> Runs:
    source = BuiltinSource()
    tasks = select_tasks(source, sample=3)
    loaded = {t: source.load(t) for t in tasks}
    a, b = root / "run-oracle", root / "run-model"
    assert main(["eval", "--suite", "builtin", "--agent", "oracle", "--sample", "3", "--concurrency", "2",
                 "--out", str(a), "--quiet"]) == 0

    def responder(body: Any) -> dict[str, Any]:
        messages = body["messages"]
        query = next(m["content"] for m in messages if m["role"] == "user")
        task = next(t for t in loaded.values() if t.user_query[:200] in str(query))
        turn = sum(m["role"] == "assistant" for m in messages)
        prompt = 1000 + 150 * turn + 1000 * tasks.index(task.task_id)  # the second task costs more tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": 20 + turn, "total_tokens": prompt + 20 + turn}
        if task.task_id == tasks[2]:
            return error_reply(400, "stand-in: this request is refused")
        if turn == 0:
            first = task.oracle[0]
            assert isinstance(first, dict), "the built-in oracle starts with a tool call"
            return tool_call_reply([first], usage=usage)
        if turn <= len(B_ACTIONS):
            return tool_call_reply([B_ACTIONS[turn - 1]], content="working on it" if turn == 1 else None, usage=usage)
        return text_reply("I wrote my notes to output/notes.md.", usage=usage)

    with ScriptedModelServer(responder=responder) as server:
        code = main(["eval", "--suite", "builtin", "--agent", "openai", "--base-url", server.base_url, "--model",
                     "stand-in", "--api-key", "k", "--agent-option", "max_retries=0", "--sample", "3",
                     "--concurrency", "1", "--out", str(b), "--quiet"])
    assert code == 1  # the infra error
    return Runs(a, b, tasks, {t: str(loaded[t].metadata.get("category")) for t in tasks})
