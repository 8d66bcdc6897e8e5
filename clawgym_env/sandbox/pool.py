"""A warm pool of started docker sandboxes, so a new sandbox does not pay ``docker run``.

The pool keeps ``size`` containers started, their server ready, each over its own empty host
workspace. ``DockerSandbox(pool=...)`` takes one at launch: the pool pings it first (a dead one is
removed, never handed out), the sandbox moves its workspace files in (renames) and adopts it. A
background thread refills the pool, starting at most ``max_starts_per_s`` containers a second, so
a burst of resets never floods the engine.

Used from ``gym.make(..., backend="docker")`` without code: set ``CLAWGYM_DOCKER_POOL=N`` and every
docker sandbox ``make_sandbox`` makes draws from one shared pool of N per configuration
(:func:`new_docker_sandbox`; the lookup lives here so that docker.py does not import this module).
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import SandboxConfig, SandboxError
from clawgym_env.sandbox.docker import DockerSandbox, _Container
from clawgym_env.sandbox.docker_api import DEFAULT_LIFETIME_S, default_pool_size


class DockerPool:
    """Pre-started docker sandboxes of one configuration.

    Args:
        size: containers kept ready.
        config, image, cpus, lifetime_s: as for :class:`DockerSandbox` (a sandbox whose settings
            differ from the pool's gets no container from it and starts its own).
        max_starts_per_s: bound on the refill rate.
    """

    def __init__(self, size: int = 4, *, config: SandboxConfig | None = None, image: str | None = None,
                 cpus: float | None = None, lifetime_s: float = DEFAULT_LIFETIME_S, max_starts_per_s: float = 4.0,
                 start: bool = True):
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.size = size
        self.max_starts_per_s = max_starts_per_s
        self._settings: dict[str, Any] = {"config": config, "image": image, "cpus": cpus, "lifetime_s": lifetime_s}
        self.key = self._template().pool_key()
        self._ready: deque[DockerSandbox] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.stats = {"started": 0, "handed_out": 0, "dead_discarded": 0, "misses": 0}
        self._thread = threading.Thread(target=self._refill_loop, name="clawgym-docker-pool", daemon=True)
        if start:
            self._thread.start()

    def _template(self) -> DockerSandbox:
        sb = DockerSandbox(**self._settings)
        sb._release()  # only its settings are wanted
        return sb

    # ------------------------------------------------------------------ refill
    def _refill_loop(self) -> None:
        interval = 1.0 / self.max_starts_per_s if self.max_starts_per_s > 0 else 0.0
        last = 0.0
        while True:
            with self._cond:
                while not self._closed and len(self._ready) >= self.size:
                    self._cond.wait()
                if self._closed:
                    return
            wait = last + interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            last = time.monotonic()
            sb = DockerSandbox(**self._settings)
            try:
                sb.start()
            except SandboxError:
                sb.close()
                time.sleep(1.0)  # the engine is unhappy: do not spin
                continue
            with self._cond:
                if self._closed:
                    sb.close()
                    return
                self._ready.append(sb)
                self.stats["started"] += 1
                self._cond.notify_all()

    def wait_filled(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._ready) < self.size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the pool has {len(self._ready)}/{self.size} containers after {timeout_s} s")
                self._cond.wait(left)

    def peek_names(self) -> list[str]:
        with self._cond:
            return [sb.container_name or "" for sb in self._ready]

    def __len__(self) -> int:
        with self._cond:
            return len(self._ready)

    # ------------------------------------------------------------------ hand-out
    def acquire(self, requester: DockerSandbox) -> _Container | None:
        """A live, ready container for ``requester``, or None (a miss: the requester starts its own)."""
        if requester.pool_key() != self.key:
            return None
        while True:
            with self._cond:
                if self._closed or not self._ready:
                    self.stats["misses"] += 1
                    return None
                sb = self._ready.popleft()
                self._cond.notify_all()  # wake the refill thread
            if _is_live(sb):
                box = sb._box
                assert box is not None
                sb._box = None  # the container moves to the requester; closing the husk keeps it
                sb._proc = None
                sb._box_finalizer.detach()
                sb._owns_workspace = False
                sb.close()
                with self._cond:
                    self.stats["handed_out"] += 1
                return box
            sb.close()
            with self._cond:
                self.stats["dead_discarded"] += 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            boxes = list(self._ready)
            self._ready.clear()
            self._cond.notify_all()
        for sb in boxes:
            sb.close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)

    def __enter__(self) -> DockerPool:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_live(sb: DockerSandbox) -> bool:
    if not sb.alive:
        return False
    try:
        sb.request("ping", wait_s=0)
    except SandboxError:
        return False
    return sb.alive


_shared: dict[Any, DockerPool] = {}
_shared_lock = threading.Lock()


def shared_pool(sandbox: DockerSandbox) -> DockerPool | None:
    """The process-wide pool for ``sandbox``'s settings when its ``pool_size`` (default
    $CLAWGYM_DOCKER_POOL) is > 0."""
    size = sandbox.pool_size if sandbox.pool_size is not None else default_pool_size()
    if size <= 0:
        return None
    key = sandbox.pool_key()
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None:
            pool = _shared[key] = DockerPool(size, config=sandbox.config, image=sandbox.image, cpus=sandbox.cpus,
                                             lifetime_s=sandbox.lifetime_s)
        return pool


def new_docker_sandbox(config: SandboxConfig | None = None, host_workspace: Path | None = None,
                       **options: Any) -> DockerSandbox:
    """``make_sandbox("docker", ...)``: a :class:`DockerSandbox` that, given no ``pool`` and no
    ``host_workspace``, draws from the process-wide pool when $CLAWGYM_DOCKER_POOL is set (unless
    the option ``shared_pool=False`` is given)."""
    use_shared = options.pop("shared_pool", True)
    sandbox = DockerSandbox(config, host_workspace, **options)
    if sandbox.pool is None and use_shared and host_workspace is None:
        try:
            sandbox.pool = shared_pool(sandbox)
        except BaseException:
            sandbox.close()
            raise
    return sandbox


@atexit.register
def _close_shared() -> None:
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()
