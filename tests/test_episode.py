"""The episode contract: EnvConfig, ClawGymEnv.turn/finish, run_episode and its typed results, on
real built-in tasks in real bwrap sandboxes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import pytest

from clawgym_env.agents import AgentError, AgentTurn, OracleAgent
from clawgym_env.agents.replay import ScriptedAgent
from clawgym_env.env import ClawGymEnv
from clawgym_env.episode import (
    Budgets,
    BwrapBackend,
    DockerBackend,
    EnvConfig,
    EpisodeResult,
    InfraError,
    LocalBackend,
    StepResult,
)
from clawgym_env.rollout.driver import BudgetExhausted, Episode, run_episode
from clawgym_env.sandbox.base import SandboxConfig, SandboxLimits
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.tasks import Task
from clawgym_env.verify.rubric import JudgeConfig

SOURCE = BuiltinSource(version="builtin-v1")  # episode mechanics on a pinned task: its 3-call oracle fits the step budgets below
TASK = SOURCE.load("task-0001")


def exec_call(cmd: str) -> dict[str, Any]:
    return {"name": "exec", "arguments": {"command": cmd}}


# ---------------------------------------------------------------------------------------- EnvConfig
def test_env_config_round_trips_through_json_and_builds_the_same_env() -> None:
    config = EnvConfig(backend=DockerBackend(image="img:1", cpus=1.5, pool_size=4), profile="openclaw", max_steps=7,
                       max_tool_calls_per_step=1, sandbox=SandboxConfig(limits=SandboxLimits(max_processes=64)),
                       judge=JudgeConfig(base_url="http://127.0.0.1:1/v1", model="m", api_key="secret"))
    text = config.to_json()
    assert "secret" not in text  # the judge's key stays in the process
    back = EnvConfig.from_json(text)
    assert back.backend == config.backend and back.sandbox == config.sandbox and back.max_steps == 7
    assert back.judge == {k: v for k, v in (config.judge or {}).items() if k != "api_key"}
    assert back.to_json() == text  # stable: usable as a cache key
    env = ClawGymEnv(TASK, config=config)
    try:
        assert (env.backend, env.profile, env.max_steps, env.max_tool_calls_per_step) == ("docker", "openclaw", 7, 1)
        assert env.sandbox_config.limits.max_processes == 64 and env.judge_config is not None
    finally:
        env.close()


def test_env_config_from_kwargs_backends_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert EnvConfig.from_kwargs(backend="local").backend == LocalBackend()
    assert EnvConfig.from_kwargs(backend={"kind": "docker", "cpus": 2}).backend == DockerBackend(cpus=2)
    assert EnvConfig().backend == BwrapBackend()
    base = EnvConfig(max_steps=5)
    assert base.replace(profile="openclaw").max_steps == 5
    assert EnvConfig.from_kwargs(base, sandbox_config=SandboxConfig(shell="/bin/bash")).sandbox.shell == "/bin/bash"
    with pytest.raises(TypeError, match="unknown ClawGymEnv option.*max_stepz"):
        EnvConfig.from_kwargs(max_stepz=3)
    with pytest.raises(ValueError, match="unknown sandbox backend 'podman'"):
        EnvConfig.from_kwargs(backend="podman")
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        ClawGymEnv(TASK, max_steps=0)
    with pytest.raises(ValueError, match="exec_timeout_s"):
        ClawGymEnv(TASK, exec_timeout_s=-1)
    # environment variables fill what the config leaves unset; a set field wins
    monkeypatch.setenv("CLAWGYM_DOCKER_IMAGE", "from-env:1")
    monkeypatch.setenv("CLAWGYM_DOCKER_CPUS", "0.5")
    monkeypatch.setenv("CLAWGYM_DOCKER_POOL", "3")
    resolved = DockerBackend(cpus=2.0).resolved()
    assert (resolved.image, resolved.cpus, resolved.pool_size) == ("from-env:1", 2.0, 3)
    assert DockerBackend(cpus=2.0, pool_size=1).sandbox_options() == {"recycle": True, "cpus": 2.0, "pool_size": 1}


# ---------------------------------------------------------------------------------------- turn / finish
def test_turn_is_step_typed_and_finish_scores_without_a_turn() -> None:
    env = ClawGymEnv(TASK, max_steps=8)
    try:
        env.reset(seed=0)
        assert TASK.oracle is not None
        first = env.turn(TASK.oracle[0])
        assert isinstance(first, StepResult) and not first.done and first.reward == 0.0
        assert [r.name for r in first.tool_results] == [first.info["tool_results"][0]["name"]]
        assert first.tool_results[0].duration_s > 0 and first.observation == first.tool_results[0].content
        for action in TASK.oracle[1:]:
            env.turn(action)
        n_messages = len(env._messages)
        done = env.finish("tokens")
        assert done.scored and done.reward == 1.0 and done.truncated and not done.terminated
        assert done.end_reason == "tokens" and done.infra_error is None
        assert len(done.info["messages"]) == n_messages  # nothing was added to the conversation
        assert done.info["final_message"] == "" and done.info["verifier"]["reward"] == 1.0
        with pytest.raises(RuntimeError, match="finish\\(\\) called on a finished episode"):
            env.finish()
        # the same episode ended by the agent's own final turn scores the same
        env.reset(seed=0)
        for action in TASK.oracle:
            env.turn(action)
        final = env.turn({"role": "assistant", "content": "All done."})
        assert final.terminated and final.end_reason == "agent_done" and final.reward == done.reward
        env.reset(seed=0)  # gymnasium's step is turn() as a 5-tuple
        observation, reward, terminated, truncated, info = env.step(exec_call("echo typed"))
        assert (observation, reward, terminated, truncated) == ("typed", 0.0, False, False)
        assert info["tool_results"][0]["ok"] is True
    finally:
        env.close()


def test_a_dead_sandbox_is_a_typed_infra_error() -> None:
    env = ClawGymEnv(TASK, max_steps=8)
    try:
        env.reset(seed=0)
        sandbox = env.sandbox
        assert sandbox is not None
        env.turn(exec_call("echo hi"))
        os.kill(sandbox._proc.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        sandbox._proc.wait()  # type: ignore[attr-defined]
        result = env.turn(exec_call("echo again"))
        assert result.truncated and result.end_reason == "infra_error" and not result.scored
        assert isinstance(result.infra_error, InfraError)
        assert (result.infra_error.kind, result.infra_error.where) == ("sandbox", "step")
        assert result.info["infra_error"] == str(result.infra_error) and "sandbox failed during exec" in str(result.infra_error)
    finally:
        env.close()


# ---------------------------------------------------------------------------------------- run_episode
def run(env: ClawGymEnv, agent: Any, budgets: Budgets = Budgets(), **kwargs: Any) -> EpisodeResult:
    return asyncio.run(run_episode(env, agent, budgets, seed=0, **kwargs))


def test_run_episode_oracle_and_budget_cut() -> None:
    env = ClawGymEnv(TASK, max_steps=16)
    try:
        result = run(env, OracleAgent())
        assert result.reward == 1.0 and result.terminated and result.scored and result.usable
        assert result.steps == len(TASK.oracle or []) + 1 and result.budget_hit is None
        assert len(result.tool_calls) == len(TASK.oracle or []) and all(c.ok for c in result.tool_calls)
        assert result.timings["verifier"] and result.timings["reset"] and result.agent_config == {"agent": "oracle"}
        assert result.messages[-1] == {"role": "assistant", "content": "Done: the requested files are in place."}

        class CutAfterOne(ScriptedAgent):
            async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
                if self._next == 1:
                    raise BudgetExhausted("tokens")
                return await super().act(messages, tools)

        cut = run(env, CutAfterOne(list(TASK.oracle or [])))
        assert cut.truncated and not cut.terminated and cut.budget_hit == "tokens" and cut.scored
        assert cut.steps == 1 and cut.messages[-1]["role"] == "tool"  # no closing turn in the conversation
        unscored = run(env, CutAfterOne(list(TASK.oracle or [])), score_truncated=False)
        assert unscored.truncated and not unscored.scored and unscored.reward == 0.0
    finally:
        env.close()


def test_run_episode_isolates_agent_failures_and_honours_propagate() -> None:
    class Boom:
        name = "boom"

        def begin_episode(self, task: Task) -> None:
            pass

        def config(self) -> dict[str, Any]:
            return {"agent": "boom"}

        async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
            raise AgentError("the endpoint is down", kind="connection")

    env = ClawGymEnv(TASK, max_steps=4)
    try:
        result = run(env, Boom())
        assert result.infra_error is not None and not result.usable
        assert (result.infra_error.kind, result.infra_error.where) == ("agent", "agent")
        assert str(result.infra_error) == "agent: AgentError (connection): the endpoint is down"
        assert result.error is not None and "Traceback" in result.error["traceback"]
        with pytest.raises(AgentError):
            run(env, Boom(), propagate=(AgentError,))
    finally:
        env.close()


def test_run_episode_holds_the_env_slot_around_every_env_call() -> None:
    """``env_slots`` caps concurrent sandbox work: with one slot, two episodes never run an env
    call at the same time."""
    active = 0
    peak = 0

    class Counting(ClawGymEnv):
        async def _count(self, coro: Any) -> Any:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                return await coro
            finally:
                active -= 1

        async def areset(self, **kw: Any) -> Any:  # type: ignore[override]
            return await self._count(super().areset(**kw))

        async def aturn(self, action: Any) -> Any:
            return await self._count(super().aturn(action))

    async def main() -> list[EpisodeResult]:
        slots = asyncio.Semaphore(1)
        envs = [Counting(TASK, max_steps=16) for _ in range(2)]
        try:
            return list(await asyncio.gather(*(run_episode(e, OracleAgent(), env_slots=slots) for e in envs)))
        finally:
            for e in envs:
                e.close()

    results = asyncio.run(main())
    assert [r.reward for r in results] == [1.0, 1.0] and peak == 1


def test_episode_step_by_step_matches_run_episode() -> None:
    """Inverted control (TRL): driving an Episode by hand gives the same record as run_episode."""
    env = ClawGymEnv(TASK, max_steps=16)
    try:
        ep = Episode(TASK.task_id, env)
        ep.reset(seed=0)
        for action in TASK.oracle or []:
            ep.step(action)
        ep.finish("get_reward")
        manual = ep.result()
        cut = run(env, ScriptedAgent(list(TASK.oracle or []), final=None), Budgets(max_steps=None))
        assert cut.infra_error is not None and cut.infra_error.kind == "agent"  # the script ran out: AgentError
        assert manual.reward == 1.0 and manual.truncated and manual.scored
        assert [c.name for c in manual.tool_calls] == [c["name"] for c in TASK.oracle or []]
        assert json.loads(manual.model_dump_json())["task_id"] == TASK.task_id
    finally:
        env.close()


def test_cli_docker_options_become_the_backend_config() -> None:
    """``--docker-image/--docker-cpus/--docker-pool`` set what only $CLAWGYM_DOCKER_* could set before."""
    from clawgym_env.bench.runner import EvalConfig, env_kwargs
    from clawgym_env.cli import _env_kwargs, build_parser

    args = build_parser().parse_args(["run", "builtin:task-0001", "--oracle", "--backend", "docker",
                                      "--docker-image", "img:2", "--docker-cpus", "1.5", "--docker-pool", "2"])
    config = EnvConfig.from_kwargs(**_env_kwargs(args))
    assert config.backend == DockerBackend(image="img:2", cpus=1.5, pool_size=2)
    bad = build_parser().parse_args(["run", "builtin:task-0001", "--oracle", "--docker-cpus", "1"])
    with pytest.raises(SystemExit, match="need --backend docker"):
        _env_kwargs(bad)
    evaluated = EnvConfig.from_kwargs(**env_kwargs(EvalConfig(out="x", suite="builtin", backend="docker",
                                                              docker={"image": "img:3"})))
    assert evaluated.backend == DockerBackend(image="img:3")
