"""The rollout engine: many episodes at once on one asyncio loop, each one isolated.

Why an engine rather than a loop over ``env.step``: evaluation and RL need hundreds of episodes in
flight while model calls wait on the network, and one bad episode (an agent exception, a sandbox
that died) must not stop the rest or poison the statistics. So each episode

- runs as its own task under a concurrency cap; env I/O goes through ``areset``/``astep`` (a
  worker thread per env) and task loading / env construction / ``close`` run on a thread pool,
  so the event loop is never blocked by the sandbox;
- has budgets (assistant turns, wall seconds, total tokens); the one that ends it is recorded, and
  by default the workspace is still scored, as the env does when ``max_steps`` truncates;
- turns any exception into that episode's ``infra_error`` (with where and a traceback);
- always closes its env (also on cancellation);
- is appended to the records file as soon as it ends, so a killed run loses only in-flight
  episodes, and a rerun skips every ``(task_id, repeat)`` already recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.agents.base import Agent, AgentTurn
from clawgym_env.rollout.records import (
    BudgetName,
    RecordWriter,
    ToolCallRecord,
    TrajectoryRecord,
    TurnRecord,
    episode_id,
    latest_by_key,
    now_iso,
    read_records,
    total_tokens,
)
from clawgym_env.tasks import Task, TaskSource

log = logging.getLogger(__name__)

CLOSING_MESSAGE: dict[str, Any] = {"role": "assistant", "content": ""}
"""Stepped by the engine to end a budget-cut episode so the verifier scores the workspace; it is
not kept in the record's messages (the agent never said it)."""


@dataclass(frozen=True)
class Budgets:
    """Per-episode limits; None = unlimited. Hitting one truncates the episode and records which.

    ``max_steps`` is the env's own ``max_steps`` (assistant turns). ``wall_s`` bounds the episode
    from the end of ``reset`` (agent turns and tool calls; not task loading, sandbox start or the
    final verification); an agent turn in flight at the deadline is cancelled, a tool call in flight
    runs to its own timeout first. ``total_tokens`` is the sum over turns of the backend's
    ``total_tokens`` (prompt + completion): once reached, no further turn is requested.
    """

    max_steps: int | None = None
    wall_s: float | None = None
    total_tokens: int | None = None


@dataclass(frozen=True)
class EpisodeSpec:
    """What identifies an episode: the task, which repeat, and its seed."""

    task_id: str
    repeat: int
    seed: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.repeat)


def episode_seed(run_seed: int, task_id: str, repeat: int) -> int:
    """A stable 31-bit seed per episode: the same run seed gives the same seeds on any machine,
    and repeats of a task get different ones."""
    digest = hashlib.sha256(f"{run_seed}:{task_id}:{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def plan_episodes(task_ids: Iterable[str], repeats: int = 1, run_seed: int = 0) -> list[EpisodeSpec]:
    """Every (task, repeat) pair, repeat-major so a partial run covers many tasks once first."""
    ids = list(task_ids)
    return [EpisodeSpec(t, r, episode_seed(run_seed, t, r)) for r in range(repeats) for t in ids]


AgentFactory = Callable[[Task], Agent]
"""Gives the agent for one episode. Stateful agents (oracle, scripted, replay) need a new instance
per episode; stateless ones (OpenAI, HF) can return one shared instance."""


@dataclass
class RunStats:
    """What a finished :meth:`RolloutEngine.run` did."""

    planned: int = 0
    skipped: int = 0
    """Already in the records file (resume)."""
    finished: int = 0
    infra_errors: int = 0
    wall_s: float = 0.0
    records: list[TrajectoryRecord] = field(default_factory=list)
    """The records of every planned episode: resumed ones from the file, new ones from this run."""

    @property
    def episodes_per_s(self) -> float:
        return self.finished / self.wall_s if self.wall_s > 0 else 0.0


class RolloutEngine:
    """Runs episodes concurrently and records each one.

    Args:
        source: where tasks come from (``load(task_id)``).
        agent_factory: the agent for an episode (see :data:`AgentFactory`), or one shared Agent.
        env_kwargs: keyword arguments for :class:`~clawgym_env.env.ClawGymEnv` (backend, profile,
            judge, ...); ``max_steps`` comes from ``budgets``.
        concurrency: episodes in flight at once.
        budgets: per-episode limits.
        run_seed: episode seeds derive from it (:func:`episode_seed`).
        records_path: JSONL file records are appended to; episodes it already holds are skipped.
        retry_infra_errors: on resume, redo episodes whose record has an ``infra_error``.
        score_truncated: score the workspace when a wall/token/context budget cuts an episode
            (the env scores ``max_steps`` truncation by its own ``score_on_truncation``).
        on_record: called (on the loop) with each new record, e.g. to advance a progress bar.
        make_env: builds the env for a task (default: ``ClawGymEnv(task, **env_kwargs)``).
        fsync: fsync the records file after each record.
        keep_records: return every record in ``RunStats.records`` (False for big runs: read the
            file back, e.g. with ``read_records(path, slim=True)``).
    """

    def __init__(
        self,
        source: TaskSource,
        agent_factory: AgentFactory | Agent,
        *,
        env_kwargs: dict[str, Any] | None = None,
        concurrency: int = 8,
        budgets: Budgets = Budgets(),
        run_seed: int = 0,
        records_path: str | Path | None = None,
        retry_infra_errors: bool = False,
        score_truncated: bool = True,
        on_record: Callable[[TrajectoryRecord], None] | None = None,
        make_env: Callable[[Task], Any] | None = None,
        fsync: bool = True,
        keep_records: bool = True,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.source = source
        if callable(agent_factory) and not hasattr(agent_factory, "act"):
            self.agent_factory: AgentFactory = agent_factory
        else:
            shared = agent_factory
            self.agent_factory = lambda task: shared  # type: ignore[assignment,return-value]
        self.env_kwargs = dict(env_kwargs or {})
        if budgets.max_steps is not None:
            self.env_kwargs["max_steps"] = budgets.max_steps
        self.concurrency = concurrency
        self.budgets = budgets
        self.run_seed = run_seed
        self.records_path = Path(records_path) if records_path is not None else None
        self.retry_infra_errors = retry_infra_errors
        self.score_truncated = score_truncated
        self.on_record = on_record
        self._make_env = make_env
        self.fsync = fsync
        self.keep_records = keep_records
        self._source_name = str(getattr(source, "name", type(source).__name__))
        from clawgym_env import __version__

        self._version = __version__

    # ------------------------------------------------------------------ public API
    def done_keys(self) -> dict[tuple[str, int], TrajectoryRecord]:
        """Episodes the records file already holds (the ones a resumed run skips)."""
        if self.records_path is None:
            return {}
        done = latest_by_key(read_records(self.records_path, slim=not self.keep_records))
        if self.retry_infra_errors:
            done = {k: r for k, r in done.items() if r.infra_error is None}
        return done

    def run_sync(self, task_ids: Iterable[str], repeats: int = 1) -> RunStats:
        """:meth:`run` from synchronous code."""
        return asyncio.run(self.run(task_ids, repeats))

    async def run(self, task_ids: Iterable[str], repeats: int = 1) -> RunStats:
        """Run every (task, repeat) not yet recorded; returns the records of all planned episodes."""
        specs = plan_episodes(task_ids, repeats, self.run_seed)
        done = self.done_keys()
        todo = [s for s in specs if s.key not in done]
        stats = RunStats(planned=len(specs), skipped=len(specs) - len(todo))
        new: dict[tuple[str, int], TrajectoryRecord] = {}
        writer = RecordWriter(self.records_path, fsync=self.fsync) if self.records_path is not None else None
        pool = ThreadPoolExecutor(max_workers=self.concurrency + 2, thread_name_prefix="clawgym-rollout")
        # one writer thread: lines stay whole and in order, and a slow fsync never stalls the loop
        write_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clawgym-records")
        semaphore = asyncio.Semaphore(self.concurrency)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()

        async def one(spec: EpisodeSpec) -> None:
            async with semaphore:
                record = await self.run_episode(spec, pool)
            if self.keep_records:
                new[spec.key] = record
            if writer is not None:
                await asyncio.shield(loop.run_in_executor(write_pool, writer.write, record))
            stats.finished += 1
            stats.infra_errors += record.infra_error is not None
            if self.on_record is not None:
                try:
                    self.on_record(record)
                except Exception:  # a progress bar or logger failing must not stop the run
                    log.exception("on_record callback failed for %s", record.episode_id)

        try:
            await asyncio.gather(*(one(s) for s in todo))
        finally:
            stats.wall_s = time.perf_counter() - started
            write_pool.shutdown(wait=True)  # records already handed to the writer still land
            if writer is not None:
                writer.close()
            pool.shutdown(wait=False, cancel_futures=True)
        if self.keep_records:
            stats.records = [r for s in specs if (r := new.get(s.key) or done.get(s.key)) is not None]
        return stats

    # ------------------------------------------------------------------ one episode
    def _build_env(self, task: Task) -> Any:
        if self._make_env is not None:
            return self._make_env(task)
        from clawgym_env.env import ClawGymEnv

        # one env per episode: starting a next episode's sandbox after scoring would be wasted
        return ClawGymEnv(task, **{"prestart_next": False, **self.env_kwargs})

    def _setup(self, task_id: str) -> tuple[Task, Any]:
        task = self.source.load(task_id)
        return task, self._build_env(task)

    async def run_episode(self, spec: EpisodeSpec, pool: ThreadPoolExecutor | None = None) -> TrajectoryRecord:
        """Run one episode to its end and return its record; never raises (but for cancellation)."""
        loop = asyncio.get_running_loop()
        ep = _Episode(spec, self)
        env: Any = None
        try:
            t = time.perf_counter()
            task, env = await loop.run_in_executor(pool, self._setup, spec.task_id)
            ep.on_task(task, env)
            ep.timings["setup"] = time.perf_counter() - t
            ep.stage = "agent"
            agent = self.agent_factory(task)
            agent.begin_episode(task)
            ep.agent_config = _safe_config(agent)
            ep.stage = "env"
            t = time.perf_counter()
            _, info = await env.areset(seed=spec.seed)
            ep.timings["reset"] = time.perf_counter() - t
            ep.absorb(info)
            await self._loop(ep, env, agent)
        except asyncio.CancelledError:
            if env is not None:
                env.close()  # synchronous on purpose: a cancelled loop may not run another thread hop
            raise
        except Exception as exc:  # crash isolation: this episode fails, the run goes on
            ep.fail(ep.stage, exc)
        if env is not None:
            try:
                await loop.run_in_executor(pool, env.close)
            except Exception as exc:  # a failing close must not lose the record
                ep.note_close_error(exc)
        return ep.record()

    async def _loop(self, ep: _Episode, env: Any, agent: Agent) -> None:
        budgets = self.budgets
        # the agent's clock starts when the workspace is ready (task load and sandbox start excluded)
        deadline = time.perf_counter() + budgets.wall_s if budgets.wall_s is not None else None
        while True:
            if budgets.total_tokens is not None and ep.tokens >= budgets.total_tokens:
                ep.budget_hit = "tokens"
                break
            timeout = None
            if deadline is not None:
                timeout = deadline - time.perf_counter()
                if timeout <= 0:
                    ep.budget_hit = "wall_s"
                    break
            t = time.perf_counter()
            ep.stage = "agent"
            try:
                turn = await asyncio.wait_for(agent.act(ep.messages, ep.tools), timeout)
            except Exception as exc:
                if isinstance(exc, TimeoutError) and deadline is not None and time.perf_counter() >= deadline:
                    ep.budget_hit = "wall_s"
                    break
                if getattr(exc, "kind", None) == "context_length":  # AgentError: the context is full
                    ep.budget_hit = "context_length"
                    break
                raise
            agent_s = time.perf_counter() - t
            ep.stage = "env"
            t = time.perf_counter()
            _, reward, terminated, truncated, info = await env.astep(turn.message)
            ep.on_step(turn, agent_s, time.perf_counter() - t, reward, terminated, truncated, info,
                       getattr(env, "last_timings", None))
            if terminated or truncated:
                return
        # a budget cut the episode short: end it (scored unless disabled) and mark it truncated
        ep.truncated = True
        if self.score_truncated:
            ep.stage = "env"
            t = time.perf_counter()
            n_messages = len(ep.messages)
            _, reward, _, _, info = await env.astep(dict(CLOSING_MESSAGE))
            ep.on_closing(reward, info, time.perf_counter() - t, getattr(env, "last_timings", None), n_messages)


class _Episode:
    """Accumulates one episode's record as it runs."""

    def __init__(self, spec: EpisodeSpec, engine: RolloutEngine):
        self.spec = spec
        self.engine = engine
        self.stage = "task_load"
        """Where the episode is (``task_load``, ``agent``, ``env``): names the culprit of an exception."""
        self.t0 = time.perf_counter()
        self.started_at = now_iso()
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
        self.final_info: dict[str, Any] | None = None
        self.infra_error: str | None = None
        self.error: dict[str, Any] | None = None

    def on_task(self, task: Task, env: Any) -> None:
        self.category = str(task.metadata.get("category") or "")
        self.env_config = {k: getattr(env, k) for k in ("backend", "profile", "max_steps", "max_tool_calls_per_step",
                                                        "seed_bootstrap") if hasattr(env, k)}
        if getattr(env, "judge_config", None) is not None:
            self.env_config["judge_model"] = env.judge_config.model

    def absorb(self, info: dict[str, Any]) -> None:
        self.messages = list(info["messages"])
        self.tools = list(info.get("tools") or [])

    def on_step(self, turn: AgentTurn, agent_s: float, env_s: float, reward: float, terminated: bool,
                truncated: bool, info: dict[str, Any], last_timings: dict[str, Any] | None) -> None:
        index = len(self.turns)
        before = len(self.messages)
        self.absorb(info)
        self._tool_calls(index, before, info, last_timings)
        usage = {k: int(v) for k, v in (turn.usage or {}).items() if isinstance(v, (int, float))}
        for k, v in usage.items():
            self.usage[k] = self.usage.get(k, 0) + v
        self.tokens += total_tokens(usage)
        self.model = turn.model or self.model
        n_calls = sum(len(m.get("tool_calls") or []) for m in self.messages[before:] if m.get("role") == "assistant")
        self.turns.append(TurnRecord(index=index, usage=usage, agent_s=agent_s, env_s=env_s, tool_calls=n_calls,
                                     model=turn.model, raw=_jsonable(turn.raw)))
        self.timings["agent"] = (self.timings["agent"] or 0.0) + agent_s
        self.timings["env"] = (self.timings["env"] or 0.0) + env_s
        if info.get("infra_error"):
            self.infra_error = str(info["infra_error"])
        if terminated or truncated:
            self.reward = float(reward)
            self.terminated, self.truncated = terminated, truncated
            self.final_info = info
            max_steps = self.env_config.get("max_steps")
            if truncated and not self.infra_error and max_steps is not None and index + 1 >= max_steps:
                self.budget_hit = "steps"
            self._verifier_time(last_timings)

    def on_closing(self, reward: float, info: dict[str, Any], env_s: float, last_timings: dict[str, Any] | None,
                   n_messages: int) -> None:
        """The engine's closing step: keep its score, drop its message."""
        self.reward = float(reward)
        self.final_info = info
        self.messages = list(info["messages"])[:n_messages]
        self.timings["env"] = (self.timings["env"] or 0.0) + env_s
        if info.get("infra_error"):
            self.infra_error = str(info["infra_error"])
        self._verifier_time(last_timings)

    def _verifier_time(self, last_timings: dict[str, Any] | None) -> None:
        if last_timings and last_timings.get("verifier_s") is not None:
            self.timings["verifier"] = float(last_timings["verifier_s"])

    def _tool_calls(self, turn: int, before: int, info: dict[str, Any], last_timings: dict[str, Any] | None) -> None:
        new = self.messages[before:]
        results = {m.get("tool_call_id"): m for m in new if m.get("role") == "tool"}
        status = {r.get("tool_call_id"): r for r in info.get("tool_results") or []}
        durations = list((last_timings or {}).get("tools_s") or [])
        executed = 0
        for m in new:
            if m.get("role") != "assistant":
                continue
            for call in m.get("tool_calls") or []:
                cid = call.get("id", "")
                if cid not in results:  # not executed (the sandbox died first)
                    continue
                fn = call.get("function", {})
                args = fn.get("arguments")
                st = status.get(cid, {})
                duration = durations[executed] if executed < len(durations) else None
                executed += 1
                self.timings["tools"] = (self.timings["tools"] or 0.0) + (duration or 0.0)
                self.tool_calls.append(ToolCallRecord(
                    turn=turn, id=cid, name=str(fn.get("name", "")),
                    arguments=args if isinstance(args, str) else _json_text(args),
                    result=str(results[cid].get("content") or ""), ok=st.get("ok"), error_kind=st.get("error_kind"),
                    duration_s=duration))

    def fail(self, stage: str, exc: BaseException) -> None:
        kind = getattr(exc, "kind", None)
        self.infra_error = f"{stage}: {type(exc).__name__}" + (f" ({kind})" if kind else "") + f": {exc}"
        self.error = {"where": stage, "type": type(exc).__name__, "kind": kind, "message": str(exc),
                      "traceback": "".join(traceback.format_exception(exc))[-4000:]}
        self.truncated = not self.terminated

    def note_close_error(self, exc: BaseException) -> None:
        self.error = {**(self.error or {}), "close_error": f"{type(exc).__name__}: {exc}"}

    def record(self) -> TrajectoryRecord:
        info = self.final_info or {}
        self.timings["total"] = time.perf_counter() - self.t0
        engine = self.engine
        return TrajectoryRecord(
            episode_id=episode_id(self.spec.task_id, self.spec.repeat), task_id=self.spec.task_id,
            source=engine._source_name, category=self.category, repeat=self.spec.repeat, seed=self.spec.seed,
            run_seed=engine.run_seed, messages=self.messages, tools=self.tools, tool_calls=self.tool_calls,
            turns=self.turns, final_message=info.get("final_message"), reward=self.reward,
            terminated=self.terminated, truncated=self.truncated, budget_hit=self.budget_hit,
            scored=info.get("verifier") is not None, verifier=info.get("verifier"), subscores=info.get("subscores"),
            code_score=info.get("code_score"), rubric=info.get("rubric"), unscored=bool(info.get("unscored")),
            infra_error=self.infra_error, error=self.error, steps=len(self.turns), usage=self.usage,
            timings=self.timings, started_at=self.started_at, finished_at=now_iso(), agent=self.agent_config,
            model=self.model or self.agent_config.get("model"), env_config=self.env_config,
            budgets=asdict(engine.budgets), clawgym_version=engine._version,
        )


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


__all__ = [
    "CLOSING_MESSAGE",
    "AgentFactory",
    "Budgets",
    "EpisodeSpec",
    "RolloutEngine",
    "RunStats",
    "episode_seed",
    "plan_episodes",
]
