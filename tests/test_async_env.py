"""The async env API keeps the event loop responsive (issue 11, defect 12).

With 64 concurrent episodes on ``areset``/``astep`` the loop stalled 3.9-4.7 s. Two causes, each
with a regression test that fails on the old code:

- bwrap was started with a Python ``preexec_fn``: such a fork runs the process's at-fork hooks,
  which take concurrent.futures' global lock (and the import lock) and hold the GIL while the
  kernel copies the driver, and ``ThreadPoolExecutor.submit`` on the loop takes that same lock;
- each env's first async call started its worker thread on the loop, and ``Thread.start`` waits
  for the new thread to get the CPU and the GIL.

benchmarks/bench_async.py measures the stall at 64 and 256 episodes against the old path.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import thread as cf_thread
from typing import Any

import pytest
from _backends import BACKENDS

from clawgym_env.agents.oracle import OracleAgent
from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.workers import worker_threads

_SOURCE = BuiltinSource()
_IDS = _SOURCE.ids()


def _envs(n: int, offset: int = 0, backend: str = "bwrap") -> list[tuple[ClawGymEnv, Any]]:
    out = []
    for i in range(n):
        task = _SOURCE.load(_IDS[offset + i])
        out.append((ClawGymEnv(task, backend=backend, prestart_next=False), task))
    return out


async def _oracle_episode(env: ClawGymEnv, task: Any) -> float:
    agent = OracleAgent(task)
    try:
        await env.areset()
        while True:
            _, reward, terminated, truncated, info = await env.astep(agent.next_action())
            if terminated or truncated:
                assert info["infra_error"] is None, info["infra_error"]
                return reward
    finally:
        await env.aclose()


async def _max_stall(make_work: Any) -> tuple[Any, float]:
    """Run ``make_work()`` beside a coroutine that sleeps 10 ms at a time (started first); returns
    the work's result and the longest time the loop made that coroutine wait past its wake-up."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def monitor() -> None:
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - t - 0.01)

    mon = asyncio.create_task(monitor())
    await asyncio.sleep(0.02)  # the monitor is asleep before any work is scheduled
    try:
        result = await make_work()
    finally:
        done.set()
        await mon
    return result, max(stalls)


_forks_with_hooks: list[int] = []
_armed = threading.Event()
os.register_at_fork(before=lambda: _forks_with_hooks.append(1) if _armed.is_set() else None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sandbox_starts_run_no_python_between_fork_and_exec(backend: str) -> None:
    """Starting the agent's sandbox and the verifier's forks without at-fork hooks (no preexec_fn):
    under bwrap rlimits and the uid drop are done by prlimit/setpriv after exec, so a start never
    takes the process's fork locks or holds the GIL across a full fork of the driver."""
    (env, task), = _envs(1, backend=backend)
    _forks_with_hooks.clear()
    _armed.set()
    try:
        reward = asyncio.run(_oracle_episode(env, task))  # reset (bwrap start) + verifier (bwrap start)
    finally:
        _armed.clear()
    assert reward == 1.0
    assert _forks_with_hooks == [], f"{len(_forks_with_hooks)} fork(s) ran Python at-fork hooks"


def test_sandbox_limits_and_uid_still_apply() -> None:
    """The exec chain that replaced the preexec_fn applies the same limits and uid."""
    (env, _), = _envs(1)
    try:
        env.reset()
        out = env.step({"name": "exec", "arguments": {"command": "cat /proc/self/limits; grep CapEff /proc/self/status"}})[0]
        sandbox = env.sandbox
        assert sandbox is not None
        limits = sandbox.config.limits
        lines = {line[:26].strip(): line[26:].split() for line in out.splitlines() if line.startswith("Max ")}
        assert lines["Max processes"][:2] == [str(limits.max_processes)] * 2
        assert lines["Max address space"][:2] == [str(limits.max_memory_bytes)] * 2
        assert lines["Max file size"][:2] == [str(limits.max_file_bytes)] * 2
        assert lines["Max open files"][:2] == [str(limits.max_open_files)] * 2
        assert lines["Max core file size"][:2] == ["0", "0"]
        assert "CapEff:\t0000000000000000" in out
        if os.geteuid() == 0:  # the sandbox's processes run as its leased uid on the host
            uid = getattr(sandbox, "uid", None)
            assert uid is not None and uid != 0
            assert os.stat(f"/proc/{sandbox._proc.pid}").st_uid == uid  # type: ignore[union-attr]
    finally:
        env.close()


def test_loop_keeps_running_while_a_fork_holds_the_executor_lock() -> None:
    """16 concurrent oracle episodes through areset/astep/aclose while another thread holds
    concurrent.futures' global lock for 3 s, as every fork with at-fork hooks in the process does
    (os.fork, a preexec_fn, multiprocessing) while the kernel copies it: the loop never waits for
    it. Before the fix each submit waited; the loop stalled for the whole 3 s."""
    pairs = _envs(16)
    held = threading.Event()

    def hold() -> None:
        with cf_thread._global_shutdown_lock:
            held.set()
            time.sleep(3.0)

    async def main() -> tuple[list[float], float]:
        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        try:
            return await _max_stall(lambda: asyncio.gather(*(_oracle_episode(e, t) for e, t in pairs)))
        finally:
            await asyncio.to_thread(holder.join)

    rewards, stall = asyncio.run(main())
    assert rewards == [1.0] * 16
    assert stall < 1.0, f"the event loop stalled {stall:.2f} s"


def test_fresh_envs_start_no_thread_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first async call of a new env must not start a thread on the loop thread (Thread.start
    waits for the new thread to be scheduled: 64 fresh envs were 64 waits in one loop turn); worker
    threads are started by workers and reused by later envs."""
    asyncio.run(_oracle_episode(*_envs(1)[0]))  # the process's first worker: started once
    threads_before = worker_threads()
    started_on: list[int] = []
    real_start = threading.Thread.start

    def recording_start(self: threading.Thread) -> None:
        started_on.append(threading.get_ident())
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", recording_start)

    async def main() -> tuple[list[float], int]:
        rewards = []
        for wave in range(3):  # three waves of 4 fresh envs each
            rewards += await asyncio.gather(*(_oracle_episode(e, t) for e, t in _envs(4, offset=4 * wave)))
        return rewards, threading.get_ident()

    rewards, loop_thread = asyncio.run(main())
    assert rewards == [1.0] * 12
    assert loop_thread not in started_on
    assert worker_threads() - threads_before <= 5  # 12 envs, at most 4 at once: threads were reused


def test_calls_on_one_env_stay_ordered_and_errors_propagate() -> None:
    """Lane semantics: queued calls run in order; an exception of ``step`` reaches the awaiting code."""
    (env, _), = _envs(1)

    async def main() -> list[str]:
        await env.areset()
        calls = [env.astep({"name": "exec", "arguments": {"command": f"echo {i} >> log; cat log | wc -l"}})
                 for i in range(5)]
        outs = [r[0].strip() for r in await asyncio.gather(*calls)]
        await env.astep({"role": "assistant", "content": "done"})
        with pytest.raises(RuntimeError, match="finished episode"):
            await env.astep({"role": "assistant", "content": "again"})
        return outs

    try:
        assert asyncio.run(main()) == ["1", "2", "3", "4", "5"]
    finally:
        env.close()


def test_aclose_interrupts_a_running_astep() -> None:
    """``aclose`` is not queued behind the env's running call: it kills the sandbox and the step
    ends with an infra error instead of running its 60 s command to the end."""
    (env, _), = _envs(1)

    async def main() -> tuple[dict[str, Any], float]:
        await env.areset()
        step = asyncio.ensure_future(env.astep({"name": "exec", "arguments": {"command": "sleep 60", "timeout": 120}}))
        await asyncio.sleep(0.5)
        t = time.perf_counter()
        await env.aclose()
        _, _, _, truncated, info = await step
        assert truncated
        return info, time.perf_counter() - t

    info, elapsed = asyncio.run(main())
    assert info["infra_error"] and "sandbox failed during exec" in info["infra_error"]
    assert elapsed < 15
