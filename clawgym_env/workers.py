"""Worker threads for the async env API (``areset``/``astep``/``aclose``), shared by the process.

Why not ``loop.run_in_executor`` with a ``ThreadPoolExecutor`` per env, as before: with 64
concurrent episodes the event loop stalled for seconds (measured: benchmarks/bench_async.py), and
nothing on it was slow Python. The loop thread was *waiting*:

- ``ThreadPoolExecutor.submit`` takes ``concurrent.futures.thread._global_shutdown_lock``, which is
  also an at-fork hook: every ``fork()`` of the process that runs Python before exec (a
  ``preexec_fn``) holds it while the kernel copies the driver's page tables, so the loop queued
  behind every sandbox start in flight;
- the first ``submit`` of each env started that env's thread on the loop, and ``Thread.start``
  waits until the new thread has run, i.e. until the OS and the GIL get round to it: 64 envs
  reset together are 64 such waits in one turn of the loop.

Here the loop thread only puts to ``queue.SimpleQueue`` (a C queue: no Python-level lock anyone
else can hold) and never starts a thread but the very first one. Workers start further workers so
one is always idle, and a worker serves one :class:`Lane` (an env) at a time, so calls on an env
stay ordered. Workers never exit: bwrap's ``--die-with-parent`` is bound to the *thread* that
started the sandbox (Linux's parent-death signal is per thread), so a sandbox must not outlive the
thread whose call launched it; parked threads are reused by later envs instead.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_STOP = object()


class _Hub:
    """The process-wide park of worker threads."""

    def __init__(self) -> None:
        self._lanes: queue.SimpleQueue[_LaneQueue] = queue.SimpleQueue()
        self._lock = threading.Lock()  # counters only; never taken by an event-loop thread
        self._idle = 0
        self._threads = 0
        self._first = threading.Lock()

    @property
    def threads(self) -> int:
        return self._threads

    def dispatch(self, lane: _LaneQueue) -> None:
        """Give ``lane`` to an idle worker (from the event loop: never blocks)."""
        if self._threads == 0:
            with self._first:  # the one Thread.start an event loop ever waits for
                if self._threads == 0:
                    self._spawn()
        self._lanes.put(lane)

    def _spawn(self) -> None:
        with self._lock:
            self._threads += 1
            self._idle += 1
            name = f"clawgym-env-{self._threads}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            lane = self._lanes.get()
            with self._lock:
                self._idle -= 1
                spawn = self._idle == 0
            if spawn:  # keep one worker parked so the next lane never waits for a thread start
                self._spawn()
            lane.serve()
            with self._lock:
                self._idle += 1


_hub = _Hub()


class _LaneQueue:
    """The jobs of one lane; served by one worker thread at a time, in order."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stopped = False

    def serve(self) -> None:
        while True:
            job = self.jobs.get()
            if job is _STOP:
                return
            loop, fut, fn, args = job
            if self.stopped:
                loop_call(loop, _cancel, fut)
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 -- handed to the awaiting coroutine
                loop_call(loop, _set_exception, fut, exc)
            else:
                loop_call(loop, _set_result, fut, result)


class Lane:
    """Runs one env's blocking calls on a worker thread, one at a time, in submission order.

    ``shutdown`` has the signature of ``Executor.shutdown`` so ``ClawGymEnv.close`` can treat it like
    the executor it replaces: jobs not yet started are cancelled and the worker goes back to the park.
    """

    def __init__(self) -> None:
        self._queue = _LaneQueue()
        self._dispatched = False
        self._finalizer = weakref.finalize(self, self._queue.jobs.put, _STOP)

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Schedule ``fn(*args)``; returns a future of the running loop. Call from the loop thread."""
        if self._queue.stopped:
            raise RuntimeError("cannot schedule new calls after shutdown")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.jobs.put((loop, fut, fn, args))
        if not self._dispatched:
            self._dispatched = True
            _hub.dispatch(self._queue)
        return fut

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        """Release the worker after the running call (``wait`` is accepted and ignored: closing an
        env must not wait for a step it is interrupting)."""
        if cancel_futures:
            self._queue.stopped = True
        self._finalizer()


def run_detached(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """``fn(*args)`` on a parked worker, outside any lane (``aclose``: it must not queue behind a step)."""
    lane = Lane()
    fut = lane.submit(fn, *args)
    lane.shutdown(cancel_futures=False)
    return fut


def worker_threads() -> int:
    """Worker threads started so far (they are reused, never stopped)."""
    return _hub.threads


def loop_call(loop: asyncio.AbstractEventLoop, cb: Callable[..., Any], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(cb, *args)
    except RuntimeError:  # the loop is closed: nobody awaits the result any more
        pass


def _set_result(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _cancel(fut: asyncio.Future[Any]) -> None:
    fut.cancel()


__all__ = ["Lane", "run_detached", "worker_threads"]
