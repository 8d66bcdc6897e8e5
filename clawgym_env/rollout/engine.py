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
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.agents.base import Agent
from clawgym_env.agents.common import QUEUE_WAIT
from clawgym_env.episode import Budgets, EpisodeResult
from clawgym_env.rollout.driver import Episode, env_session, run_episode
from clawgym_env.rollout.records import (
    RecordWriter,
    TrajectoryRecord,
    episode_id,
    latest_by_key,
    now_iso,
    read_records,
)
from clawgym_env.tasks import Task, TaskSource

log = logging.getLogger(__name__)


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

    async def run_episode(self, spec: EpisodeSpec, pool: ThreadPoolExecutor | None = None) -> TrajectoryRecord:
        """Run one episode to its end and return its record; never raises (but for cancellation)."""
        loop = asyncio.get_running_loop()
        started_at = now_iso()
        ep = Episode(spec.task_id)
        queue = [0.0]  # seconds the agent's turns waited for a shared model (HFAgent's lock)
        token = QUEUE_WAIT.set(queue)
        try:
            t = time.perf_counter()
            task = await loop.run_in_executor(pool, self.source.load, spec.task_id)
            async with env_session(lambda: self._build_env(task), executor=pool,
                                   on_close_error=ep.note_close_error) as env:
                ep.attach(env)
                ep.timings["setup"] = time.perf_counter() - t
                ep.stage = "agent"
                agent = self.agent_factory(task)
                await run_episode(env, agent, self.budgets, seed=spec.seed, score_truncated=self.score_truncated,
                                  episode=ep)
        except Exception as exc:  # crash isolation: this episode fails, the run goes on
            ep.fail(ep.stage, exc)
        finally:
            QUEUE_WAIT.reset(token)
        return self._record(spec, ep.result(), started_at, ep.t0, queue_s=queue[0])

    def _record(self, spec: EpisodeSpec, result: EpisodeResult, started_at: str, t0: float,
                queue_s: float = 0.0) -> TrajectoryRecord:
        """The record; ``timings["queue"]`` is the part of ``total`` spent waiting for a shared model."""
        return TrajectoryRecord(
            episode_id=episode_id(spec.task_id, spec.repeat), task_id=spec.task_id, source=self._source_name,
            category=result.category, repeat=spec.repeat, seed=spec.seed, run_seed=self.run_seed,
            messages=result.messages, tools=result.tools, tool_calls=result.tool_calls, turns=result.turns,
            final_message=result.final_message, reward=result.reward, terminated=result.terminated,
            truncated=result.truncated, budget_hit=result.budget_hit, scored=result.scored, verifier=result.verifier,
            subscores=result.subscores, code_score=result.code_score, rubric=result.rubric, unscored=result.unscored,
            infra_error=str(result.infra_error) if result.infra_error is not None else None, error=result.error,
            steps=result.steps, usage=result.usage, timings={**result.timings, "queue": queue_s,
                                                                    "total": time.perf_counter() - t0},
            started_at=started_at, finished_at=now_iso(), agent=result.agent_config,
            model=result.model or result.agent_config.get("model"), env_config=result.env_config,
            budgets=self.budgets.model_dump(), clawgym_version=self._version,
        )


__all__ = [
    "AgentFactory",
    "Budgets",
    "EpisodeSpec",
    "RolloutEngine",
    "RunStats",
    "episode_seed",
    "plan_episodes",
]
