"""Ray env workers (clawgym_env.rollout.ray_pool): a real local 2-worker Ray cluster, real bwrap sandboxes.

The agent runs here (the driver); the envs run on the EnvWorker actors. Skipped, saying why, only
when Ray is not installed (the ``[ray]`` extra) or cannot start on this machine.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.agents import make_agent
from clawgym_env.agents.base import AgentTurn
from clawgym_env.bench.runner import EvalConfig, open_suite, run_eval, select_tasks
from clawgym_env.rollout.engine import RolloutEngine
from clawgym_env.rollout.records import TrajectoryRecord, read_records
from clawgym_env.tasks import Task, TaskRef

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'clawgym[ray]')")

from clawgym_env.rollout.ray_pool import RayEnvPool, RemoteEnv, task_ref

SOURCE = open_suite("builtin")


@pytest.fixture(scope="module")
def pool() -> Iterator[RayEnvPool]:
    try:
        p = RayEnvPool(None, num_workers=2, init_kwargs={"num_cpus": 4, "include_dashboard": False})
    except Exception as exc:  # pragma: no cover - depends on the machine
        if ray.is_initialized():
            ray.shutdown()
        pytest.skip(f"a local Ray cluster could not start here: {type(exc).__name__}: {exc}")
    try:
        yield p
    finally:
        p.shutdown()
        if ray.is_initialized():
            ray.shutdown()


def oracle(task: Task) -> Any:
    return make_agent("oracle")


def untimed(value: Any) -> Any:
    """``value`` with durations that tools print (``Ran 5 tests in 0.004s``) blanked out."""
    return json.loads(re.sub(r"\d+\.\d+s\b", "<t>s", json.dumps(value)))


def comparable(r: TrajectoryRecord) -> dict[str, Any]:
    """What must not depend on where the sandbox ran (timings and clocks left out)."""
    verifier = {k: v for k, v in (r.verifier or {}).items() if k != "duration_s"}
    return untimed({"task_id": r.task_id, "repeat": r.repeat, "seed": r.seed, "category": r.category, "reward": r.reward,
            "subscores": r.subscores, "code_score": r.code_score, "verifier": verifier, "messages": r.messages,
            "tools": r.tools, "final_message": r.final_message, "terminated": r.terminated,
            "truncated": r.truncated, "steps": r.steps, "infra_error": r.infra_error, "env_config": r.env_config,
            "tool_calls": [(c.id, c.name, c.arguments, c.result, c.ok, c.error_kind) for c in r.tool_calls]})


def assert_idle(pool: RayEnvPool) -> None:
    """No env left open anywhere: the pool's counts and the workers' own."""
    assert pool.loads() == [0] * pool.num_workers
    assert ray.get([s.actor.num_envs.remote() for s in pool._slots]) == [0] * pool.num_workers


def test_fifty_builtin_tasks_through_the_pool_equal_the_local_run(pool: RayEnvPool) -> None:
    ids = select_tasks(SOURCE, sample=50)
    assert len(ids) == 50
    placed: list[int] = []
    make = pool.env_maker(SOURCE)

    def make_env(task: Task) -> RemoteEnv:
        env = make(task)
        placed.append(env.worker)
        return env

    remote = RolloutEngine(SOURCE, oracle, concurrency=6, make_env=make_env).run_sync(ids)
    local = RolloutEngine(SOURCE, oracle, concurrency=6).run_sync(ids)

    assert remote.finished == local.finished == 50
    assert remote.infra_errors == 0 and local.infra_errors == 0
    assert [r.task_id for r in remote.records] == [r.task_id for r in local.records] == ids
    assert [r.reward for r in remote.records] == [r.reward for r in local.records]
    assert [r.subscores for r in remote.records] == [r.subscores for r in local.records]
    for a, b in zip(remote.records, local.records):
        assert comparable(a) == comparable(b), a.task_id
    assert sum(r.reward for r in local.records) > 0  # the oracle really solved tasks
    assert set(Counter(placed)) == {0, 1}  # both workers hosted episodes
    assert_idle(pool)


def test_task_references_are_small() -> None:
    task = SOURCE.load("task-0007")
    assert task_ref(SOURCE, task) == TaskRef(kind="builtin", id="task-0007", suite_version="builtin-v2")
    assert task_ref(None, task) == TaskRef.inline(task)  # an unknown source: the Task itself travels


def test_cancellation_closes_every_remote_env(pool: RayEnvPool) -> None:
    envs: list[RemoteEnv] = []
    make = pool.env_maker(SOURCE)

    def make_env(task: Task) -> RemoteEnv:
        envs.append(make(task))
        return envs[-1]

    class Slow:
        name = "slow"

        def begin_episode(self, task: Task) -> None:
            self.turns = 0

        async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
            self.turns += 1
            await asyncio.sleep(0.2)
            call = {"id": f"call_{self.turns}", "type": "function",
                    "function": {"name": "exec", "arguments": json.dumps({"command": "true"})}}
            return AgentTurn(message={"role": "assistant", "content": "", "tool_calls": [call]})

        def config(self) -> dict[str, Any]:
            return {"agent": "slow"}

    async def main() -> None:
        engine = RolloutEngine(SOURCE, lambda t: Slow(), concurrency=4, make_env=make_env)
        run = asyncio.create_task(engine.run([f"task-{i:04d}" for i in range(8)]))
        while sum(pool.loads()) < 4:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # all four mid-episode
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())
    assert len(envs) == 4 and all(e._closed for e in envs)
    assert_idle(pool)


def test_a_dead_worker_fails_its_episode_and_the_run_goes_on(pool: RayEnvPool) -> None:
    envs: dict[str, RemoteEnv] = {}
    make = pool.env_maker(SOURCE)
    victim = "task-0002"

    def make_env(task: Task) -> RemoteEnv:
        envs[task.task_id] = make(task)
        return envs[task.task_id]

    class Killer:
        """The oracle, except that on the victim task it kills the worker hosting the env first."""

        name = "killer"

        def begin_episode(self, task: Task) -> None:
            self.task = task
            self.inner = make_agent("oracle")
            self.inner.begin_episode(task)

        async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
            if self.task.task_id == victim:
                env = envs[victim]
                ray.kill(pool._slots[env.worker].actor, no_restart=True)
            return await self.inner.act(messages, tools)

        def config(self) -> dict[str, Any]:
            return {"agent": "killer"}

    before = pool.respawned
    ids = [f"task-{i:04d}" for i in range(6)]
    stats = RolloutEngine(SOURCE, lambda t: Killer(), concurrency=1, make_env=make_env).run_sync(ids)
    by_id = {r.task_id: r for r in stats.records}
    assert stats.finished == 6 and stats.infra_errors == 1
    assert "WorkerDiedError" in (by_id[victim].infra_error or "")
    assert all(by_id[t].infra_error is None and by_id[t].reward > 0 for t in ids if t != victim)
    assert pool.respawned == before + 1  # a fresh actor took the dead one's place
    assert all(s.alive for s in pool._slots)
    assert_idle(pool)


def test_eval_with_ray(pool: RayEnvPool, tmp_path: Path) -> None:
    """``clawgym eval --ray``'s code path (joins the Ray this test process already runs)."""
    config = EvalConfig(out=str(tmp_path / "run"), limit=4, ray="local", ray_workers=2, progress=False,
                        concurrency=4, max_steps=16)
    results = run_eval(config, log=lambda msg: None)
    records = read_records(tmp_path / "run" / "records.jsonl")
    assert [r.task_id for r in records] == SOURCE.ids()[:4] or sorted(r.task_id for r in records) == SOURCE.ids()[:4]
    assert results["summary"]["infra_errors"] == 0
    assert all(r.env_config["max_steps"] == 16 for r in records)
    assert ray.is_initialized()  # the pool joined this process's Ray and left it running


def test_importing_clawgym_env_does_not_import_ray() -> None:
    code = ("import sys, clawgym_env, clawgym_env.rollout, clawgym_env.rollout.ray_pool, clawgym_env.bench.runner, "
            "clawgym_env.cli; sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
