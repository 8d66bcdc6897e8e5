"""One episode, driven: the single loop every ClawGym driver runs.

:func:`run_episode` plays an agent against an env until the env ends the episode or a budget does,
then scores what the agent left (:meth:`ClawGymEnv.finish`, no fake closing turn) and returns a
typed :class:`~clawgym_env.episode.EpisodeResult`. The rollout engine, the veRL agent loop, the
quality gate and ``clawgym run`` are adapters over it: they differ in where the agent's turns come
from (a model endpoint, veRL's token server, a script) and in what they make of the result (a
trajectory record, a veRL ``AgentLoopOutput``, a gate report).

:class:`Episode` is the state it accumulates (messages, tool calls with results and timings, turns,
usage, the score, what went wrong). Drivers whose control is inverted (TRL calls the env's tools
one by one and asks for the reward at the end) drive an :class:`Episode` step by step instead of
handing it an agent; the result is the same type either way.

Never raises for an episode's own failures: an exception in the agent, the env or the sandbox
becomes the result's ``infra_error`` (with where it happened and the traceback in ``error``);
cancellation propagates, and so do exception types the caller names in ``propagate`` (e.g. a data
error that must stop a training run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import traceback
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

from clawgym_env.agents.base import Agent, AgentTurn
from clawgym_env.episode import (
    BudgetName,
    Budgets,
    EpisodeResult,
    InfraError,
    StepResult,
    ToolCallRecord,
    TurnRecord,
)
from clawgym_env.rollout.records import total_tokens

if TYPE_CHECKING:
    from clawgym_env.env import ClawGymEnv

E = TypeVar("E")


class BudgetExhausted(Exception):
    """Raised by an agent whose own budget ran out (veRL's response length): the episode is cut
    short like any budget, scored unless scoring truncated episodes is off."""

    def __init__(self, budget: BudgetName = "tokens"):
        super().__init__(budget)
        self.budget: BudgetName = budget


class Episode:
    """One episode's state as it runs; :meth:`result` freezes it into an :class:`EpisodeResult`."""

    def __init__(self, task_id: str, env: Any = None):
        self.task_id = task_id
        self.stage = "task_load"
        """Where the episode is (``task_load``, ``agent``, ``env``): names the culprit of an exception."""
        self.t0 = time.perf_counter()
        self.env: Any = None
        self.category = ""
        self.env_config: dict[str, Any] = {}
        self.agent_config: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []
        self.tool_calls: list[ToolCallRecord] = []
        self.turns: list[TurnRecord] = []
        self.usage: dict[str, int] = {}
        self.tokens = 0
        self.model: str | None = None
        self.timings: dict[str, float | None] = {"setup": None, "reset": None, "agent": 0.0, "env": 0.0,
                                                 "tools": 0.0, "verifier": None}
        self.reward = 0.0
        self.terminated = False
        self.truncated = False
        self.budget_hit: BudgetName | None = None
        self.final: StepResult | None = None
        self.infra_error: InfraError | None = None
        self.error: dict[str, Any] | None = None
        if env is not None:
            self.attach(env)

    # ------------------------------------------------------------------ what happened
    def attach(self, env: Any) -> None:
        """The env the episode runs in (its task's category and the settings records keep)."""
        self.env = env
        task = getattr(env, "task", None)
        if task is not None:
            self.category = str(task.metadata.get("category") or "")
        self.env_config = {k: getattr(env, k) for k in ("backend", "profile", "openclaw_version", "max_steps", "max_tool_calls_per_step",
                                                        "seed_bootstrap") if hasattr(env, k)}
        if getattr(env, "judge_config", None) is not None:
            self.env_config["judge_model"] = env.judge_config.model

    def on_agent(self, agent: Agent) -> None:
        self.agent_config = _safe_config(agent)

    def on_reset(self, info: dict[str, Any], seconds: float) -> None:
        self.timings["reset"] = seconds
        self.messages = list(info["messages"])
        self.tools = list(info.get("tools") or [])

    def on_step(self, step: StepResult, env_s: float, turn: AgentTurn | None = None, agent_s: float = 0.0) -> None:
        """An assistant turn the env took (``turn`` is the agent's, when an agent made it)."""
        index = len(self.turns)
        before = len(self.messages)
        self.messages = list(step.info["messages"])
        self._tool_calls(index, before, step)
        usage = {k: int(v) for k, v in ((turn.usage if turn else None) or {}).items() if isinstance(v, (int, float))}
        for k, v in usage.items():
            self.usage[k] = self.usage.get(k, 0) + v
        self.tokens += total_tokens(usage)
        model = turn.model if turn else None
        self.model = model or self.model
        n_calls = sum(len(m.get("tool_calls") or []) for m in self.messages[before:] if m.get("role") == "assistant")
        self.turns.append(TurnRecord(index=index, usage=usage, agent_s=agent_s, env_s=env_s, tool_calls=n_calls,
                                     model=model, raw=_jsonable(turn.raw) if turn else None))
        self.timings["agent"] = (self.timings["agent"] or 0.0) + agent_s
        self.timings["env"] = (self.timings["env"] or 0.0) + env_s
        if step.infra_error is not None:
            self.infra_error = step.infra_error
        if step.done:
            self.reward = step.reward
            self.terminated, self.truncated = step.terminated, step.truncated
            self.final = step
            if step.end_reason == "max_steps" and self.infra_error is None:
                self.budget_hit = "steps"
            self._verifier_time(step)

    def on_finish(self, step: StepResult, env_s: float) -> None:
        """The driver ended the episode (:meth:`ClawGymEnv.finish`): keep its score."""
        self.reward = step.reward
        self.final = step
        self.messages = list(step.info["messages"])
        self.timings["env"] = (self.timings["env"] or 0.0) + env_s
        if step.infra_error is not None:
            self.infra_error = step.infra_error
        self._verifier_time(step)

    def cut(self, budget: BudgetName | None) -> None:
        """A budget ended the episode before the env did."""
        self.truncated = True
        if budget is not None:
            self.budget_hit = budget

    def fail(self, where: str, exc: BaseException) -> None:
        """An exception ended the episode: an infrastructure error, with its traceback kept."""
        self.infra_error = InfraError.from_exception(where, exc)
        self.error = {"where": where, "type": type(exc).__name__, "kind": getattr(exc, "kind", None),
                      "message": str(exc), "traceback": "".join(traceback.format_exception(exc))[-4000:]}
        self.truncated = not self.terminated

    def note_close_error(self, exc: BaseException) -> None:
        self.error = {**(self.error or {}), "close_error": f"{type(exc).__name__}: {exc}"}

    def _verifier_time(self, step: StepResult) -> None:
        if step.verifier_s is not None:
            self.timings["verifier"] = float(step.verifier_s)

    def _tool_calls(self, turn: int, before: int, step: StepResult) -> None:
        results = {r.tool_call_id: r for r in step.tool_results}
        for m in self.messages[before:]:
            if m.get("role") != "assistant":
                continue
            for call in m.get("tool_calls") or []:
                res = results.get(call.get("id", ""))
                if res is None:  # not executed (the sandbox died first)
                    continue
                args = call.get("function", {}).get("arguments")
                self.timings["tools"] = (self.timings["tools"] or 0.0) + res.duration_s
                self.tool_calls.append(ToolCallRecord(
                    turn=turn, id=res.tool_call_id, name=str(call.get("function", {}).get("name", "")),
                    arguments=args if isinstance(args, str) else _json_text(args), result=res.content,
                    ok=res.ok, error_kind=res.error_kind, duration_s=res.duration_s))

    # ------------------------------------------------------------------ step by step (inverted control)
    def reset(self, seed: int | None = None) -> str:
        """``env.reset`` (synchronously), recorded; returns the first observation."""
        self.stage = "env"
        t = time.perf_counter()
        observation, info = self.env.reset(seed=seed)
        self.on_reset(info, time.perf_counter() - t)
        return str(observation)

    def step(self, action: Any) -> StepResult:
        """One env turn for ``action`` (synchronously), recorded."""
        self.stage = "env"
        t = time.perf_counter()
        step = self.env.turn(action)
        self.on_step(step, time.perf_counter() - t)
        return step

    def finish(self, reason: str, budget: BudgetName | None = None) -> StepResult:
        """End and score the episode now (synchronously), recorded as truncated."""
        self.cut(budget)
        self.stage = "env"
        t = time.perf_counter()
        step = self.env.finish(reason)
        self.on_finish(step, time.perf_counter() - t)
        return step

    # ------------------------------------------------------------------ the result
    def result(self) -> EpisodeResult:
        final = self.final
        info = final.info if final is not None else {}
        return EpisodeResult(
            task_id=self.task_id, category=self.category, messages=self.messages, tools=self.tools,
            tool_calls=self.tool_calls, turns=self.turns, final_message=info.get("final_message"),
            reward=self.reward, terminated=self.terminated, truncated=self.truncated, budget_hit=self.budget_hit,
            scored=info.get("verifier") is not None, verifier=info.get("verifier"), subscores=info.get("subscores"),
            code_score=info.get("code_score"), rubric=info.get("rubric"), unscored=bool(info.get("unscored")),
            infra_error=self.infra_error, error=self.error, usage=self.usage, tokens=self.tokens,
            timings={**self.timings, "total": time.perf_counter() - self.t0}, model=self.model,
            agent_config=self.agent_config, env_config=self.env_config, final_info=info or None,
        )


async def run_episode(
    env: ClawGymEnv,
    agent: Agent,
    budgets: Budgets = Budgets(),
    *,
    seed: int | None = None,
    score_truncated: bool = True,
    episode: Episode | None = None,
    env_slots: asyncio.Semaphore | None = None,
    propagate: tuple[type[BaseException], ...] = (),
) -> EpisodeResult:
    """Play ``agent`` on ``env`` for one episode; the env is reset here and left open (the caller
    closes it).

    Args:
        budgets: turn, wall-time and token limits (``max_steps`` is the env's own; set it there).
        seed: ``reset`` seed.
        score_truncated: score the workspace when a wall/token/context budget cuts the episode (the
            env scores ``max_steps`` truncation by its own ``score_on_truncation``).
        episode: continue this accumulator (a driver that already timed task loading and env setup).
        env_slots: a semaphore held around each env call (a per-process cap on concurrent sandbox work).
        propagate: exception types raised by the agent or the env that must not be swallowed.
    """
    ep = episode if episode is not None else Episode(env.task.task_id)
    if ep.env is None:
        ep.attach(env)
    try:
        ep.stage = "agent"
        agent.begin_episode(env.task)
        ep.on_agent(agent)
        ep.stage = "env"
        t = time.perf_counter()
        async with _slot(env_slots):
            _, info = await env.areset(seed=seed)
        ep.on_reset(info, time.perf_counter() - t)
        budget = await _play(ep, env, agent, budgets, env_slots)
        if not ep.final:  # a budget cut the episode short: score it unless disabled
            ep.cut(budget)
            if score_truncated:
                ep.stage = "env"
                t = time.perf_counter()
                async with _slot(env_slots):
                    step = await env.afinish(budget or "budget")
                ep.on_finish(step, time.perf_counter() - t)
    except asyncio.CancelledError:
        raise
    except propagate:
        raise
    except Exception as exc:  # crash isolation: this episode fails, the run goes on
        ep.fail(ep.stage, exc)
    return ep.result()


async def _play(ep: Episode, env: Any, agent: Agent, budgets: Budgets,
                env_slots: asyncio.Semaphore | None) -> BudgetName | None:
    """Turns until the env ends the episode (returns None) or a budget does (returns its name)."""
    # the agent's clock starts when the workspace is ready (task load and sandbox start excluded)
    deadline = time.perf_counter() + budgets.wall_s if budgets.wall_s is not None else None
    while True:
        if budgets.total_tokens is not None and ep.tokens >= budgets.total_tokens:
            return "tokens"
        timeout = None
        if deadline is not None:
            timeout = deadline - time.perf_counter()
            if timeout <= 0:
                return "wall_s"
        t = time.perf_counter()
        ep.stage = "agent"
        try:
            turn = await asyncio.wait_for(agent.act(ep.messages, ep.tools), timeout)
        except BudgetExhausted as exc:
            return exc.budget
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline is not None and time.perf_counter() >= deadline:
                return "wall_s"
            if getattr(exc, "kind", None) == "context_length":  # AgentError: the context is full
                return "context_length"
            raise
        agent_s = time.perf_counter() - t
        ep.stage = "env"
        t = time.perf_counter()
        async with _slot(env_slots):
            step = await env.aturn(turn.message)
        ep.on_step(step, time.perf_counter() - t, turn, agent_s)
        if step.done:
            return None


@contextlib.asynccontextmanager
async def env_session(
    make_env: Callable[[], E],
    *,
    executor: Executor | None = None,
    env_slots: asyncio.Semaphore | None = None,
    on_close_error: Callable[[BaseException], None] | None = None,
) -> AsyncIterator[E]:
    """An env built off the event loop and always closed: on a thread normally, synchronously when
    the task is cancelled (a cancelled task may not get another thread hop), which kills its sandbox
    before the cancellation unwinds. A failing close goes to ``on_close_error`` (default: raised)."""
    loop = asyncio.get_running_loop()
    async with _slot(env_slots):
        env = await loop.run_in_executor(executor, make_env)
    try:
        yield env
    except asyncio.CancelledError:
        env.close()  # type: ignore[attr-defined]
        raise
    except BaseException:
        await _close(env, loop, executor, env_slots, on_close_error or _ignore)
        raise
    await _close(env, loop, executor, env_slots, on_close_error)


async def _close(env: Any, loop: asyncio.AbstractEventLoop, executor: Executor | None,
                 env_slots: asyncio.Semaphore | None, on_error: Callable[[BaseException], None] | None) -> None:
    try:
        async with _slot(env_slots):
            await loop.run_in_executor(executor, env.close)
    except Exception as exc:
        if on_error is None:
            raise
        on_error(exc)


def _ignore(exc: BaseException) -> None:
    """A close failing while an exception is already on its way out: that exception wins."""


@contextlib.asynccontextmanager
async def _slot(sem: asyncio.Semaphore | None) -> AsyncIterator[None]:
    if sem is None:
        yield
    else:
        async with sem:
            yield


def _safe_config(agent: Any) -> dict[str, Any]:
    try:
        config = agent.config()
        return _jsonable(dict(config))  # type: ignore[no-any-return]
    except Exception as exc:  # the config is informational; never fail an episode over it
        return {"agent": getattr(agent, "name", type(agent).__name__), "config_error": str(exc)}


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it, else a JSON-safe copy (unknown objects as their repr)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=repr))


__all__ = ["BudgetExhausted", "Episode", "env_session", "run_episode"]
