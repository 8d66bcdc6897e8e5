"""The rollout engine and trajectory records, on built-in tasks in real bwrap sandboxes.

Agents here are the package's own scripted/oracle agents, plus small agent classes written for a
test (one that raises, one that sleeps, one that reports token usage): the Agent protocol is the
unit under test's input, and these are real implementations of it, not stand-ins for a model.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.agents import AgentError, AgentTurn, make_agent
from clawgym_env.bench.metrics import pass_at_k, summarize
from clawgym_env.env import ClawGymEnv
from clawgym_env.rollout import (
    SCHEMA_VERSION,
    Budgets,
    RolloutEngine,
    TrajectoryRecord,
    episode_seed,
    export_sessions,
    plan_episodes,
    read_records,
    to_session_events,
)
from clawgym_env.sandbox.bwrap import _pids_of_uid
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.tasks import Task
from clawgym_env.transcript import to_openclaw_session

SOURCE = BuiltinSource()
EXEC_TRUE = {"name": "exec", "arguments": {"command": "true"}}


def exec_call(cmd: str) -> dict[str, Any]:
    return {"name": "exec", "arguments": {"command": cmd}}


def ids(n: int, start: int = 0) -> list[str]:
    return [f"task-{i:04d}" for i in range(start, start + n)]


class RaisingAgent:
    """Acts once, then raises: an agent bug in the middle of an episode."""

    name = "raising"

    def __init__(self) -> None:
        self.turn = 0

    def begin_episode(self, task: Task) -> None:
        self.turn = 0

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        self.turn += 1
        if self.turn > 1:
            raise RuntimeError("agent bug on turn 2")
        return AgentTurn(message={"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "exec", "arguments": '{"command": "true"}'}}]})

    def config(self) -> dict[str, Any]:
        return {"agent": "raising"}


class UsageAgent:
    """Runs ``echo`` forever, reporting ``tokens`` of usage per turn (a model that never stops)."""

    name = "usage"

    def __init__(self, tokens: int = 100, sleep_s: float = 0.0, error_on_turn: int | None = None):
        self.tokens, self.sleep_s, self.error_on_turn = tokens, sleep_s, error_on_turn
        self.turn = 0

    def begin_episode(self, task: Task) -> None:
        self.turn = 0

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        self.turn += 1
        if self.error_on_turn == self.turn:
            raise AgentError("prompt is too long", kind="context_length")
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        n = sum(1 for m in messages if m.get("role") == "assistant")
        call = {"id": f"call_{n}", "type": "function",
                "function": {"name": "exec", "arguments": json.dumps({"command": f"echo turn{self.turn}"})}}
        return AgentTurn(message={"role": "assistant", "content": "", "tool_calls": [call]},
                         usage={"prompt_tokens": self.tokens - 10, "completion_tokens": 10,
                                "total_tokens": self.tokens}, model="usage-agent")

    def config(self) -> dict[str, Any]:
        return {"agent": "usage", "model": "usage-agent", "tokens": self.tokens}


def scripted(task: Task) -> Any:
    return make_agent("scripted", actions=[EXEC_TRUE, EXEC_TRUE, EXEC_TRUE])


def sandbox_alive(env: ClawGymEnv) -> bool:
    return env.sandbox is not None and bool(_pids_of_uid(env.sandbox.uid))


# ---------------------------------------------------------------------------------------- engine
def test_concurrent_run_isolates_crashes(tmp_path: Path) -> None:
    """8 episodes at concurrency 4: an agent that raises and a sandbox killed mid-episode become
    those episodes' infra errors; the others finish normally and every env is closed."""
    envs: dict[str, ClawGymEnv] = {}
    task_ids = ids(8)

    def make_env(task: Task) -> ClawGymEnv:
        envs[task.task_id] = ClawGymEnv(task)
        return envs[task.task_id]

    class SandboxKiller(UsageAgent):
        async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
            if self.turn == 1:  # the host kills the sandbox under the episode (OOM killer, admin, ...)
                uid = envs["task-0005"].sandbox.uid  # type: ignore[union-attr]
                while _pids_of_uid(uid):
                    for pid in _pids_of_uid(uid):
                        os.kill(pid, 9)
                    await asyncio.sleep(0.01)
            return await super().act(messages, tools)

    def factory(task: Task) -> Any:
        if task.task_id == "task-0003":
            return RaisingAgent()
        if task.task_id == "task-0005":
            return SandboxKiller()
        if task.task_id == "task-0006":
            raise ValueError("no agent for this task")
        return make_agent("oracle")

    seen: list[str] = []
    engine = RolloutEngine(SOURCE, factory, concurrency=4, records_path=tmp_path / "r.jsonl", make_env=make_env,
                           on_record=lambda r: seen.append(r.episode_id))
    stats = engine.run_sync(task_ids)
    by_task = {r.task_id: r for r in stats.records}
    assert stats.finished == 8 and stats.infra_errors == 3 and len(seen) == 8
    assert by_task["task-0003"].infra_error.startswith("agent: RuntimeError: agent bug on turn 2")
    assert by_task["task-0003"].error["where"] == "agent" and "Traceback" in by_task["task-0003"].error["traceback"]
    assert by_task["task-0003"].steps == 1 and len(by_task["task-0003"].tool_calls) == 1
    assert "sandbox" in by_task["task-0005"].infra_error
    assert by_task["task-0006"].infra_error.startswith("agent: ValueError")
    for t in ("task-0000", "task-0001", "task-0002", "task-0004", "task-0007"):
        assert by_task[t].infra_error is None and by_task[t].reward == 1.0 and by_task[t].terminated
    assert all(e._closed and not sandbox_alive(e) for e in envs.values())
    assert len(read_records(tmp_path / "r.jsonl")) == 8
    # infra errors stay out of the means
    summary = summarize(stats.records)
    assert summary["infra_errors"] == 3 and summary["scored"] == 5 and summary["mean_score"] == 1.0


def test_concurrency_cap_is_respected() -> None:
    """Each episode's one turn waits until 3 turns are in flight (10 s at most): with a cap of 3 the
    first three episodes meet there, and a fourth never joins them."""
    active, peak = 0, 0

    class Counting(UsageAgent):
        async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            deadline = time.monotonic() + 10
            while active < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            active -= 1
            return AgentTurn(message={"role": "assistant", "content": "done"})

    stats = RolloutEngine(SOURCE, lambda t: Counting(), concurrency=3).run_sync(ids(6))
    assert stats.finished == 6 and stats.infra_errors == 0
    assert peak == 3


def test_step_budget_truncates_and_scores() -> None:
    agent = lambda t: make_agent("scripted", actions=[EXEC_TRUE] * 6)
    stats = RolloutEngine(SOURCE, agent, budgets=Budgets(max_steps=2)).run_sync(ids(1))
    r = stats.records[0]
    assert r.truncated and not r.terminated and r.budget_hit == "steps" and r.steps == 2
    assert r.scored and r.verifier is not None and r.infra_error is None
    assert r.env_config["max_steps"] == 2 and r.budgets["max_steps"] == 2
    assert r.env_config["openclaw_version"] == "2026.3.24" and r.env_config["profile"] == "coding"


def test_wall_budget_cancels_a_slow_turn_and_scores_the_workspace() -> None:
    start = time.perf_counter()
    stats = RolloutEngine(SOURCE, lambda t: UsageAgent(sleep_s=0.4), budgets=Budgets(wall_s=1.0)).run_sync(ids(1))
    r = stats.records[0]
    assert time.perf_counter() - start < 15  # the agent alone would never stop
    assert r.budget_hit == "wall_s" and r.truncated and not r.terminated and r.infra_error is None
    assert 1 <= r.steps <= 3
    assert r.scored and r.reward == 0.0 and r.verifier["reason"] is None
    # the engine's closing message is not part of the recorded conversation
    assert r.messages[-1]["role"] == "tool"


def test_token_budget_stops_before_the_next_turn() -> None:
    stats = RolloutEngine(SOURCE, lambda t: UsageAgent(tokens=100),
                          budgets=Budgets(total_tokens=250)).run_sync(ids(1))
    r = stats.records[0]
    assert r.budget_hit == "tokens" and r.truncated and r.steps == 3
    assert r.usage == {"prompt_tokens": 270, "completion_tokens": 30, "total_tokens": 300}
    assert [t.usage["total_tokens"] for t in r.turns] == [100, 100, 100]
    assert r.model == "usage-agent" and r.scored


def test_context_length_error_is_a_budget_not_an_infra_error() -> None:
    stats = RolloutEngine(SOURCE, lambda t: UsageAgent(error_on_turn=3)).run_sync(ids(1))
    r = stats.records[0]
    assert r.budget_hit == "context_length" and r.infra_error is None and r.steps == 2 and r.scored


def test_budget_cut_without_scoring() -> None:
    stats = RolloutEngine(SOURCE, lambda t: UsageAgent(tokens=100), budgets=Budgets(total_tokens=100),
                          score_truncated=False).run_sync(ids(1))
    r = stats.records[0]
    assert r.budget_hit == "tokens" and r.truncated and not r.scored and r.verifier is None and r.steps == 1


def test_cancellation_closes_every_env() -> None:
    envs: list[ClawGymEnv] = []

    def make_env(task: Task) -> ClawGymEnv:
        envs.append(ClawGymEnv(task))
        return envs[-1]

    async def main() -> None:
        engine = RolloutEngine(SOURCE, lambda t: UsageAgent(sleep_s=0.2), concurrency=3, make_env=make_env)
        run = asyncio.create_task(engine.run(ids(6)))
        while len(envs) < 3 or not all(e.elapsed_steps >= 1 for e in envs[:3]):  # all three mid-episode
            await asyncio.sleep(0.05)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())
    assert len(envs) == 3
    assert all(e._closed and not sandbox_alive(e) for e in envs)


def test_resume_skips_recorded_episodes_and_survives_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    first = RolloutEngine(SOURCE, scripted, concurrency=4, records_path=path).run_sync(ids(4), repeats=2)
    assert first.finished == 8
    before = path.read_bytes()
    with open(path, "a") as f:  # a run killed in the middle of writing a record
        f.write('{"schema_version": 1, "episode_id": "task-0009#0", "task_id": "ta')
    calls: list[str] = []

    def counting(task: Task) -> Any:
        calls.append(task.task_id)
        return scripted(task)

    second = RolloutEngine(SOURCE, counting, concurrency=4, records_path=path).run_sync(ids(6), repeats=2)
    assert second.skipped == 8 and second.finished == 4
    assert sorted(calls) == ["task-0004", "task-0004", "task-0005", "task-0005"]
    assert path.read_bytes().startswith(before)
    records = read_records(path)
    assert len(records) == 12 and len({r.key for r in records}) == 12
    assert {r.key for r in second.records} == {(t, k) for t in ids(6) for k in (0, 1)}
    third = RolloutEngine(SOURCE, counting, records_path=path).run_sync(ids(6), repeats=2)
    assert third.finished == 0 and third.skipped == 12


def test_retry_infra_errors_redoes_only_failed_episodes(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    broken = lambda t: RaisingAgent() if t.task_id == "task-0001" else scripted(t)
    RolloutEngine(SOURCE, broken, records_path=path).run_sync(ids(3))
    again = RolloutEngine(SOURCE, scripted, records_path=path, retry_infra_errors=True).run_sync(ids(3))
    assert again.finished == 1 and again.infra_errors == 0
    assert {r.task_id: r.infra_error for r in again.records} == {"task-0000": None, "task-0001": None,
                                                                 "task-0002": None}


def test_seeds_are_stable_and_distinct_per_repeat() -> None:
    specs = plan_episodes(["a", "b"], repeats=3, run_seed=7)
    assert [(s.task_id, s.repeat) for s in specs[:3]] == [("a", 0), ("b", 0), ("a", 1)]
    assert len({s.seed for s in specs}) == 6
    assert episode_seed(7, "a", 1) == specs[2].seed == episode_seed(7, "a", 1)
    assert episode_seed(8, "a", 1) != episode_seed(7, "a", 1)
    assert all(0 <= s.seed < 2**31 for s in specs)


# ---------------------------------------------------------------------------------------- records
@pytest.fixture(scope="module")
def oracle_record(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrajectoryRecord, Path]:
    path = tmp_path_factory.mktemp("oracle") / "records.jsonl"
    agent = lambda t: make_agent("scripted", actions=[exec_call("ls -R"), exec_call("exit 3")] + list(t.oracle))
    stats = RolloutEngine(SOURCE, agent, records_path=path, run_seed=3).run_sync(["task-0042"])
    return stats.records[0], path


def test_record_holds_the_whole_episode(oracle_record: tuple[TrajectoryRecord, Path]) -> None:
    r, _ = oracle_record
    task = SOURCE.load("task-0042")
    assert r.schema_version == SCHEMA_VERSION and r.episode_id == "task-0042#0" and r.source == "builtin"
    assert r.category == task.metadata["category"] and r.seed == episode_seed(3, "task-0042", 0)
    assert r.reward == 1.0 and r.terminated and r.scored and r.verifier["reward"] == 1.0
    assert r.subscores and r.code_score == 1.0 and r.final_message == "Done."
    assert r.messages[0]["role"] == "system" and r.messages[1] == {"role": "user", "content": task.user_query}
    assert {t["function"]["name"] for t in r.tools} == {"read", "write", "edit", "exec", "process"}
    n_oracle = len(task.oracle or [])
    assert r.steps == 3 + n_oracle and len(r.turns) == r.steps
    assert len(r.tool_calls) == 2 + n_oracle
    first, failed = r.tool_calls[0], r.tool_calls[1]
    assert first.name == "exec" and json.loads(first.arguments) == {"command": "ls -R"} and first.ok
    shown = [Path(p).name for p in task.input_files if not any(part.startswith(".") for part in Path(p).parts)]
    assert shown and all(name in first.result for name in shown)  # the listing the agent saw (ls -R hides dotfiles)
    assert first.duration_s is not None and first.duration_s > 0
    assert failed.result.endswith("(Command exited with code 3)")
    # each tool call's result is the tool message the model saw
    tool_msgs = {m["tool_call_id"]: m["content"] for m in r.messages if m["role"] == "tool"}
    assert all(tool_msgs[c.id] == c.result for c in r.tool_calls)
    assert r.agent == {"agent": "scripted", "name": "scripted", "actions": 2 + n_oracle, "final": "Done."}
    assert r.timings["total"] >= r.timings["env"] > 0 and r.timings["verifier"] > 0
    assert r.started_at < r.finished_at and r.clawgym_version


def test_record_round_trips_through_json(oracle_record: tuple[TrajectoryRecord, Path]) -> None:
    r, path = oracle_record
    line = path.read_text().splitlines()[0]
    again = TrajectoryRecord.model_validate_json(line)
    assert again == r
    assert TrajectoryRecord.model_validate(json.loads(again.model_dump_json())) == r
    data = json.loads(line)
    data["schema_version"] = SCHEMA_VERSION + 1
    newer = path.parent / "newer.jsonl"
    newer.write_text(json.dumps(data) + "\n")
    with pytest.raises(ValueError, match="newer"):
        read_records(newer)
    slim = read_records(path, slim=True)[0]
    assert slim.messages == [] and slim.reward == r.reward and len(slim.tool_calls) == len(r.tool_calls)


def test_session_export_is_openclaw_jsonl(oracle_record: tuple[TrajectoryRecord, Path], tmp_path: Path) -> None:
    r, path = oracle_record
    files = export_sessions(path, tmp_path / "sessions")
    assert [f.name for f in files] == ["task-0042__r0.jsonl"]
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["cwd"] == "/root/.openclaw/workspace"
    events = lines[1:]
    assert [e["message"] for e in events] == [
        {k: v for k, v in e.items() if k != "usage"} for e in
        [ev["message"] for ev in to_openclaw_session(r.messages)]]
    assert events[0]["message"]["role"] == "user" and events[0]["parentId"] is None
    assert all(b["parentId"] == a["id"] for a, b in itertools.pairwise(events))
    calls = [b for e in events if e["message"]["role"] == "assistant" for b in e["message"]["content"]
             if b["type"] == "toolCall"]
    assert [c["name"] for c in calls] == [c.name for c in r.tool_calls]
    results = [e["message"] for e in events if e["message"]["role"] == "toolResult"]
    assert [m["content"][0]["text"] for m in results] == [c.result for c in r.tool_calls]
    assert to_session_events(r) == lines


def test_session_export_carries_usage() -> None:
    stats = RolloutEngine(SOURCE, lambda t: UsageAgent(tokens=50), budgets=Budgets(max_steps=2)).run_sync(ids(1))
    events = to_session_events(stats.records[0])
    usages = [e["message"].get("usage") for e in events[1:] if e["message"]["role"] == "assistant"]
    assert usages == [{"input": 40, "output": 10, "totalTokens": 50}] * 2


# ---------------------------------------------------------------------------------------- pass@k
def brute_pass_at_k(n: int, c: int, k: int) -> float:
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_matches_enumeration(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k))


def test_pass_at_k_known_values_and_summary() -> None:
    assert pass_at_k(5, 1, 1) == pytest.approx(0.2)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert pass_at_k(4, 0, 4) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)

    def rec(task: str, repeat: int, reward: float, category: str = "A", **kw: Any) -> TrajectoryRecord:
        return TrajectoryRecord(episode_id=f"{task}#{repeat}", task_id=task, source="t", category=category,
                                repeat=repeat, reward=reward, **kw)

    records = [rec("t1", 0, 1.0), rec("t1", 1, 0.0), rec("t1", 2, 0.6), rec("t1", 3, 0.5),
               rec("t2", 0, 0.0, "B"), rec("t2", 1, 0.0, "B"), rec("t2", 2, 0.0, "B"),
               rec("t2", 3, 0.9, "B", infra_error="sandbox died"), rec("t3", 0, 0.0, "B", unscored=True)]
    s = summarize(records)
    assert s["episodes"] == 9 and s["scored"] == 7 and s["infra_errors"] == 1 and s["unscored"] == 1
    assert s["mean_score"] == pytest.approx((1.0 + 0.0 + 0.6 + 0.5) / 7)
    assert s["correct_rate"] == pytest.approx(2 / 7)  # 0.5 is not > 0.5
    # t1: n=4, c=2; t2: n=3 (the infra error is not a sample), c=0
    assert s["pass_at_k"]["1"]["value"] == pytest.approx((pass_at_k(4, 2, 1) + 0.0) / 2)
    assert s["pass_at_k"]["2"]["value"] == pytest.approx((pass_at_k(4, 2, 2) + 0.0) / 2)
    assert s["pass_at_k"]["4"] == {"value": pytest.approx(1.0), "tasks": 1}
    assert s["per_category"]["A"]["mean_score"] == pytest.approx(2.1 / 4)
    assert s["per_category"]["B"] == {"episodes": 3, "mean_score": 0.0, "correct_rate": 0.0}
    assert s["groups"]["all_zero"] == 0.5 and s["groups"]["mixed"] == 0.5
