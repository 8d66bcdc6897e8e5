"""Threads that start sandboxes in the background (``Sandbox.prestart`` off an episode's critical path).

They never exit: bwrap's ``--die-with-parent`` (``PR_SET_PDEATHSIG``) fires when the *thread* that
forked it exits, so a sandbox started in the background must be started by a thread that lives as
long as the process (as ``clawgym_env.workers`` does for the async API). A job holds no reference
once it has run, so a dropped env is still garbage-collected.

The queue is ``queue.SimpleQueue`` and the result a bare ``concurrent.futures.Future`` (no
``ThreadPoolExecutor``: its submit takes a lock that is also an at-fork hook, see workers.py).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

MAX_THREADS = 8
"""Starts are a fork/exec each (milliseconds); a few threads keep up with many envs."""

_local = threading.local()
_jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
_lock = threading.Lock()
_threads = 0
_idle = 0


def _work() -> None:
    global _idle
    _local.starter = True
    while True:
        fut, fn = _jobs.get()
        with _lock:
            _idle -= 1
        try:
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                    fut.set_exception(exc)
        finally:
            del fut, fn  # hold nothing of the job while parked
            with _lock:
                _idle += 1


def submit(fn: Callable[[], Any]) -> Future[Any]:
    """Run ``fn()`` on a starter thread; its future holds the result or the exception."""
    global _threads, _idle
    fut: Future[Any] = Future()
    with _lock:
        spawn = _idle == 0 and _threads < MAX_THREADS
        if spawn:
            _threads += 1
            _idle += 1
    if spawn:
        threading.Thread(target=_work, name=f"clawgym-starter-{_threads}", daemon=True).start()
    _jobs.put((fut, fn))
    return fut


def on_starter_thread() -> bool:
    """True on a starter thread: waiting there for a job would wait for itself (a finalizer that
    the garbage collector runs in the middle of a job)."""
    return getattr(_local, "starter", False)
