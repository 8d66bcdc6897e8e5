"""Scripted perfect-agent episodes on real ClawGym train tasks, through the real env and sandbox.

Each file in examples/actions/<task_id>.json is the turn list a perfect agent could send for that
task: tool calls that do the work (exec of python3 scripts, write, edit, read) and then a plain
final reply, which ends the episode and runs the task's own verifier. The test replays it through
``ClawGymEnv`` and expects reward 1.0; it then resets the same env and sends a no-op (one empty
assistant message), which must score below 0.2. So a pass shows that the script did the work, that
the verifier ran inside the sandbox, and that reset restored the task's initial workspace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.tasks import load_task

ACTIONS_DIR = Path(__file__).resolve().parents[1] / "examples" / "actions"
SCRIPTS = sorted(ACTIONS_DIR.glob("task_*.json"))
TOOLS = {"write", "exec", "read", "edit"}
NOOP = {"role": "assistant", "content": ""}


def _load(path: Path) -> list[Any]:
    actions = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(actions, list) and actions, f"{path.name}: must hold a non-empty JSON list"
    return actions


def _tool_calls(action: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, arguments) of every tool call in one action, in either accepted shape."""
    if "tool_calls" in action:
        return [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in action["tool_calls"] or []]
    if "name" in action:
        args = action["arguments"]
        return [(action["name"], json.loads(args) if isinstance(args, str) else args)]
    return []


def _run(env: Any, actions: list[Any]) -> tuple[float, bool, bool, dict[str, Any], int]:
    """Step until the episode ends; returns (reward, terminated, truncated, info, steps taken).

    Every tool call must succeed (a non-zero exit of an exec command still counts as success):
    a script whose calls fail is not the script we meant, even if it happens to score.
    """
    reward, terminated, truncated, info = 0.0, False, False, {}
    steps = 0
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        assert not info.get("infra_error"), f"infrastructure error at step {steps}: {info['infra_error']}"
        failed = [r for r in info.get("tool_results", []) if not r["ok"]]
        assert not failed, f"tool call failed at step {steps}: {failed}\n{obs[-2000:]}"
        if terminated or truncated:
            break
    return reward, terminated, truncated, info, steps


def test_action_files_exist() -> None:
    assert len(SCRIPTS) >= 6, f"expected at least 6 scripted tasks in {ACTIONS_DIR}, found {len(SCRIPTS)}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_action_file_is_well_formed(path: Path, train_dir: Path) -> None:
    """Static checks, no sandbox: tool names and arguments, and a plain final reply at the end."""
    actions = _load(path)
    assert (train_dir / path.stem / "data_entry.json").is_file(), f"{path.stem} is not a train task"
    *turns, final = actions
    assert turns, f"{path.name}: no tool-calling turn before the final reply"
    for i, action in enumerate(turns):
        calls = _tool_calls(action)
        assert calls, f"{path.name}: turn {i} has no tool call (it would end the episode early)"
        for name, args in calls:
            assert name in TOOLS, f"{path.name}: turn {i} calls unknown tool {name!r}"
            assert isinstance(args, dict)
            if name in ("write", "read", "edit"):
                assert isinstance(args.get("path"), str) and not args["path"].startswith("/"), args
            if name == "exec":
                assert isinstance(args.get("command"), str) and args["command"].strip()
    is_reply = final.get("role") == "assistant" and not final.get("tool_calls")
    assert is_reply and final.get("content", "").strip(), f"{path.name}: must end in a plain reply"


@pytest.mark.slow
@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_scripted_episode_scores_one(path: Path, train_dir: Path) -> None:
    from clawgym_env.env import ClawGymEnv  # here, so the static checks above run on their own

    actions = _load(path)
    task = load_task(train_dir / path.stem)
    env = ClawGymEnv(task)
    try:
        obs, info = env.reset(seed=0)
        assert obs == task.user_query
        reward, terminated, truncated, info, steps = _run(env, actions)
        verifier = info.get("verifier") or {}
        detail = (f"subscores={info.get('subscores')} reason={verifier.get('reason')} "
                  f"stderr={verifier.get('stderr_head')!r}")
        assert terminated and not truncated, f"episode did not terminate after {steps} steps; {detail}"
        assert steps == len(actions), f"episode ended at step {steps} of {len(actions)}"
        assert info.get("infra_error") is None, info.get("infra_error")
        assert reward == 1.0, f"{path.stem}: reward {reward}; {detail}"

        # Same env, fresh episode: the no-op must not get credit (the script did the work, and
        # reset put the task's initial workspace back).
        env.reset(seed=1)
        noop_reward, terminated, truncated, info, steps = _run(env, [NOOP])
        assert terminated and steps == 1
        assert info.get("infra_error") is None, info.get("infra_error")
        assert noop_reward < 0.2, f"{path.stem}: no-op scored {noop_reward}; {info.get('subscores')}"
    finally:
        env.close()
