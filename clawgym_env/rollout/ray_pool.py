"""Remote env workers on a Ray cluster: the agent runs on the driver, the sandboxes on workers.

A :class:`RayEnvPool` starts ``num_workers`` :class:`EnvWorker` actors (one per machine, or a few:
each hosts many envs, one thread per call in flight). :meth:`RayEnvPool.env_maker` gives the
rollout engine's ``make_env`` hook: each episode's env is created on the least-loaded live worker
and driven through a :class:`RemoteEnv`, which has the ``areset``/``astep``/``close`` of a local
:class:`~clawgym_env.env.ClawGymEnv`, so the engine (budgets, records, crash isolation) is unchanged::

    pool = RayEnvPool("auto", num_workers=4, env_kwargs={"backend": "bwrap"})
    engine = RolloutEngine(source, agent_factory, make_env=pool.env_maker(source))
    ...
    pool.shutdown()

Tasks travel as references (:class:`~clawgym_env.tasks.TaskRef`: the built-in suite's id, or a
folder / PinchBench path + task id, what the source's ``ref`` gives) and are loaded on the worker;
only a task from a source without references travels whole (an inline TaskRef). With more than one
machine, every node needs clawgym installed (same version) and the task folders at the same
path. A worker that dies fails its in-flight episodes with an infra error (the run goes on) and is
replaced by a fresh actor for later episodes.

Ray is imported lazily: ``import clawgym_env`` never imports it. Install it with the ``[ray]`` extra.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any, Self

from clawgym_env.episode import StepResult
from clawgym_env.tasks import Task, TaskRef, TaskSource

log = logging.getLogger(__name__)

ENV_ATTRS = ("backend", "profile", "openclaw_version", "max_steps", "max_tool_calls_per_step", "seed_bootstrap", "judge_config",
             "score_on_truncation", "tool_schemas", "system_prompt")
"""Attributes a :class:`RemoteEnv` mirrors from its remote env (the engine records some of them)."""


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("Ray is not installed: pip install 'clawgym[ray]'") from exc
    return ray


def task_ref(source: TaskSource | None, task: Task) -> TaskRef:
    """The cheapest reference that loads ``task`` on a worker: its source's reference, or the whole
    Task (an inline reference) for no source, a source without references, or a task it does not hold."""
    if source is not None:
        try:
            return TaskRef.of(source, task.task_id, task=task)
        except KeyError:
            pass
    return TaskRef.inline(task)


# ---------------------------------------------------------------------------------------- worker side
class _EnvHost:
    """What an :class:`EnvWorker` actor does (a plain class, so it is testable without Ray)."""

    def __init__(self, env_kwargs: dict[str, Any] | None = None):
        self.env_kwargs = dict(env_kwargs or {})
        self._envs: dict[int, Any] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def load(self, ref: TaskRef | str) -> Task:
        """The task of a reference (or its JSON); sources are opened once per worker process."""
        return TaskRef.coerce(ref).load()

    def create(self, ref: TaskRef, env_kwargs: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Build an env; returns its handle and the attributes a proxy mirrors."""
        from clawgym_env.env import ClawGymEnv

        env = ClawGymEnv(self.load(ref), **{"prestart_next": False, **self.env_kwargs, **(env_kwargs or {})})
        with self._lock:
            handle = next(self._ids)
            self._envs[handle] = env
        return handle, {k: getattr(env, k) for k in ENV_ATTRS if hasattr(env, k)}

    def _env(self, handle: int) -> Any:
        try:
            return self._envs[handle]
        except KeyError:
            raise RuntimeError(f"no env {handle} on this worker (closed, or the worker restarted)") from None

    def reset(self, handle: int, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        return self._env(handle).reset(seed=seed, options=options)

    def turn(self, handle: int, action: Any) -> Any:
        return self._env(handle).turn(action)

    def finish(self, handle: int, reason: str, final_message: str = "") -> Any:
        return self._env(handle).finish(reason, final_message=final_message)

    def close(self, handle: int) -> bool:
        with self._lock:
            env = self._envs.pop(handle, None)
        if env is None:
            return False
        env.close()
        return True

    def close_all(self) -> int:
        with self._lock:
            envs, self._envs = list(self._envs.values()), {}
        for env in envs:
            try:
                env.close()
            except Exception:  # closing the rest matters more
                log.exception("closing an env failed")
        return len(envs)

    def num_envs(self) -> int:
        return len(self._envs)

    def node(self) -> dict[str, Any]:
        import os
        import socket

        return {"host": socket.gethostname(), "pid": os.getpid(), "envs": len(self._envs)}

    def __del__(self) -> None:
        try:
            self.close_all()
        except Exception:
            pass


_WORKER_CLASS: Any = None


def worker_class() -> Any:
    """The ``EnvWorker`` Ray actor class (made on first use, so importing this module needs no Ray)."""
    global _WORKER_CLASS
    if _WORKER_CLASS is None:
        ray = _ray()

        @ray.remote
        class EnvWorker(_EnvHost):
            """A Ray actor hosting ClawGymEnvs (any backend); envs are addressed by integer handles."""

        _WORKER_CLASS = EnvWorker
    return _WORKER_CLASS


# ---------------------------------------------------------------------------------------- driver side
class _Slot:
    def __init__(self, index: int, actor: Any):
        self.index = index
        self.actor = actor
        self.load = 0
        self.alive = True
        self.generation = 0


class RayEnvPool:
    """Env workers on a Ray cluster, and env proxies placed on the least-loaded one.

    Args:
        address: None starts a new local Ray (or uses the one this process already initialised); ``"auto"`` joins the
            cluster this machine belongs to (``ray start --head`` / ``--address``); ``"ray://host:10001"``
            connects through Ray Client.
        num_workers: EnvWorker actors (e.g. one per node).
        env_kwargs: :class:`~clawgym_env.env.ClawGymEnv` keyword arguments for every env.
        worker_cpus: CPUs each worker reserves from Ray's scheduler (placement only; sandboxes use
            what they use).
        max_envs_per_worker: threads per worker, i.e. env calls a worker runs at once.
        respawn: replace a dead worker with a fresh actor (its in-flight episodes fail either way).
        call_timeout_s: driver-side limit on one remote create/reset/step (None: none; the env's own
            tool and verifier timeouts still apply).
        init_kwargs: extra ``ray.init`` arguments (e.g. ``num_cpus`` for a local cluster, ``runtime_env``).
        startup_timeout_s: how long the workers may take to be placed and start.
    """

    def __init__(self, address: str | None = None, num_workers: int = 1, env_kwargs: dict[str, Any] | None = None,
                 *, worker_cpus: float = 1.0, max_envs_per_worker: int = 64, respawn: bool = True,
                 call_timeout_s: float | None = None, init_kwargs: dict[str, Any] | None = None,
                 scheduling_strategy: str | None = "SPREAD", startup_timeout_s: float = 120.0):
        if num_workers < 1:
            raise ValueError("num_workers must be at least 1")
        ray = _ray()
        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            kw = {"ignore_reinit_error": True, "log_to_driver": False, **(init_kwargs or {})}
            # None: a new local Ray, even where `ray start` left one on this machine ("auto" joins that)
            ray.init(address=address or "local", **kw)
            self._owns_ray = True
        self.env_kwargs = dict(env_kwargs or {})
        self.num_workers = num_workers
        self.respawn = respawn
        self.call_timeout_s = call_timeout_s
        self._options: dict[str, Any] = {"num_cpus": worker_cpus, "max_concurrency": max_envs_per_worker,
                                         "max_restarts": 0}
        if scheduling_strategy:
            self._options["scheduling_strategy"] = scheduling_strategy
        self._lock = threading.Lock()
        self._slots = [_Slot(i, self._spawn()) for i in range(num_workers)]
        self._open: dict[int, RemoteEnv] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.respawned = 0
        # wait for the workers to come up, so a broken or full cluster fails here and not per episode
        try:
            ray.get([s.actor.num_envs.remote() for s in self._slots], timeout=startup_timeout_s)
        except Exception as exc:
            self.shutdown(timeout_s=1.0)
            hint = ""
            if isinstance(exc, ray.exceptions.GetTimeoutError):
                hint = (f": not placed within {startup_timeout_s:g} s; each needs {worker_cpus:g} CPU of the "
                        f"cluster's free {ray.available_resources().get('CPU', 0):g} (lower worker_cpus or num_workers)")
            raise RuntimeError(f"RayEnvPool: {num_workers} env worker(s) did not start{hint}") from exc

    def _spawn(self) -> Any:
        return worker_class().options(**self._options).remote(self.env_kwargs)

    # ------------------------------------------------------------------ placement
    def _acquire(self) -> _Slot:
        with self._lock:
            if self._closed:
                raise RuntimeError("the RayEnvPool is shut down")
            for slot in self._slots:
                if not slot.alive and self.respawn:
                    slot.actor, slot.alive, slot.load = self._spawn(), True, 0
                    slot.generation += 1
                    self.respawned += 1
                    log.warning("RayEnvPool: replaced dead env worker %d", slot.index)
            live = [s for s in self._slots if s.alive]
            if not live:
                raise RuntimeError("every Ray env worker is dead")
            slot = min(live, key=lambda s: (s.load, s.index))
            slot.load += 1
            return slot

    def _release(self, slot: _Slot, generation: int) -> None:
        with self._lock:
            if slot.generation == generation and slot.load > 0:
                slot.load -= 1

    def _mark_dead(self, slot: _Slot, generation: int) -> None:
        with self._lock:
            if slot.generation == generation and slot.alive:
                slot.alive = False
                log.warning("RayEnvPool: env worker %d died", slot.index)

    def loads(self) -> list[int]:
        """Envs open per worker (what placement balances)."""
        with self._lock:
            return [s.load for s in self._slots]

    # ------------------------------------------------------------------ envs
    def make_env(self, ref: TaskRef | Task, env_kwargs: dict[str, Any] | None = None,
                 task: Task | None = None) -> RemoteEnv:
        """A :class:`RemoteEnv` for a task reference (or a Task, pickled whole) on the least-loaded worker.
        Blocks until the worker built it (call it from a thread, as the engine does)."""
        if isinstance(ref, Task):
            task, ref = ref, TaskRef.inline(ref)
        slot = self._acquire()
        generation = slot.generation
        try:
            handle, attrs = self._get(slot, generation, slot.actor.create.remote(ref, env_kwargs))
        except BaseException:
            self._release(slot, generation)
            raise
        env = RemoteEnv(self, slot, generation, handle, attrs, task)
        with self._lock:
            env._key = next(self._ids)
            self._open[env._key] = env
        return env

    def env_maker(self, source: TaskSource | None = None,
                  env_kwargs: dict[str, Any] | None = None) -> Callable[[Task], RemoteEnv]:
        """The rollout engine's ``make_env`` hook: envs of ``source``'s tasks, loaded on the workers."""

        def make(task: Task) -> RemoteEnv:
            return self.make_env(task_ref(source, task), env_kwargs, task=task)

        return make

    def _is_actor_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._ray.exceptions.RayActorError)

    def _get(self, slot: _Slot, generation: int, ref: Any) -> Any:
        try:
            return self._ray.get(ref, timeout=self.call_timeout_s)
        except Exception as exc:
            raise self._translate(slot, generation, exc) from exc

    def _translate(self, slot: _Slot, generation: int, exc: BaseException) -> BaseException:
        """A remote exception as the original error where possible; a dead worker as WorkerDiedError."""
        ray = self._ray
        if self._is_actor_error(exc):
            self._mark_dead(slot, generation)
            return WorkerDiedError(f"Ray env worker {slot.index} died: {exc}")
        if isinstance(exc, ray.exceptions.GetTimeoutError):
            return TimeoutError(f"Ray env worker {slot.index}: call timed out after {self.call_timeout_s} s")
        if isinstance(exc, ray.exceptions.RayTaskError):
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception):
                return cause
        return exc

    def _forget(self, env: RemoteEnv) -> None:
        with self._lock:
            self._open.pop(env._key, None)
        self._release(env._slot, env._generation)

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Close every env still open, stop the workers, and (if this pool started Ray) Ray."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            slots = list(self._slots)
        ray = self._ray
        refs = [s.actor.close_all.remote() for s in slots if s.alive]
        try:
            ray.wait(refs, num_returns=len(refs), timeout=timeout_s)
        except Exception:
            log.exception("RayEnvPool: closing envs at shutdown failed")
        for s in slots:
            try:
                ray.kill(s.actor)
            except Exception:
                pass
        if self._owns_ray:
            ray.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class WorkerDiedError(RuntimeError):
    """The Ray actor hosting an env died (node lost, OOM-killed, killed): its episodes fail."""

    kind = "worker_died"


class RemoteEnv:
    """A ClawGymEnv on a Ray worker, used like a local one: async ``areset``/``aturn``/``afinish``
    (and ``astep``), their sync twins, and ``close`` (idempotent; never raises for a dead worker)."""

    def __init__(self, pool: RayEnvPool, slot: _Slot, generation: int, handle: int, attrs: dict[str, Any],
                 task: Task | None):
        self._pool = pool
        self._slot = slot
        self._generation = generation
        self._handle = handle
        self._key = 0
        self._closed = False
        self.task = task
        self.last_timings: dict[str, Any] = {"tools_s": [], "verifier_s": None}
        for k, v in attrs.items():
            setattr(self, k, v)

    @property
    def worker(self) -> int:
        """Index of the pool worker hosting this env."""
        return self._slot.index

    def _check(self) -> None:
        if self._closed:
            raise RuntimeError("the env is closed")

    async def _call(self, method: str, *args: Any) -> Any:
        self._check()
        ref = getattr(self._slot.actor, method).remote(self._handle, *args)
        try:
            if self._pool.call_timeout_s is not None:
                return await asyncio.wait_for(asyncio.wrap_future(ref.future()), self._pool.call_timeout_s)
            return await ref
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._pool._translate(self._slot, self._generation, exc) from exc

    async def areset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        return await self._call("reset", seed, options)  # type: ignore[no-any-return]

    async def aturn(self, action: Any) -> StepResult:
        return self._timed(await self._call("turn", action))

    async def afinish(self, reason: str = "finish", *, final_message: str = "") -> StepResult:
        return self._timed(await self._call("finish", reason, final_message))

    async def astep(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        return (await self.aturn(action)).as_gym()

    def _timed(self, result: StepResult) -> StepResult:
        self.last_timings = {"tools_s": [r.duration_s for r in result.tool_results], "verifier_s": result.verifier_s}
        return result

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._check()
        return self._pool._get(self._slot, self._generation,  # type: ignore[no-any-return]
                               self._slot.actor.reset.remote(self._handle, seed, options))

    def turn(self, action: Any) -> StepResult:
        self._check()
        return self._timed(self._pool._get(self._slot, self._generation,
                                           self._slot.actor.turn.remote(self._handle, action)))

    def finish(self, reason: str = "finish", *, final_message: str = "") -> StepResult:
        self._check()
        return self._timed(self._pool._get(self._slot, self._generation,
                                           self._slot.actor.finish.remote(self._handle, reason, final_message)))

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        return self.turn(action).as_gym()

    def close(self, timeout_s: float = 30.0) -> None:
        """Close the remote env (waits up to ``timeout_s``; a dead worker took it down already)."""
        if self._closed:
            return
        self._closed = True
        pool = self._pool
        try:
            ref = self._slot.actor.close.remote(self._handle)
            pool._ray.get(ref, timeout=timeout_s)
        except Exception as exc:
            if pool._is_actor_error(exc):
                pool._mark_dead(self._slot, self._generation)
            else:
                log.warning("RayEnvPool: closing env %d on worker %d: %s", self._handle, self._slot.index, exc)
        finally:
            pool._forget(self)

    def __del__(self) -> None:
        try:
            if not self._closed and not self._pool._closed:
                self._slot.actor.close.remote(self._handle)  # fire and forget
        except Exception:
            pass


__all__ = ["ENV_ATTRS", "RayEnvPool", "RemoteEnv", "TaskRef", "WorkerDiedError", "task_ref", "worker_class"]
