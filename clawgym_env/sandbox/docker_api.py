"""The docker engine as the backend, the pool and the reaper all reach it: client, CLI, labels.

Why a module of its own: ``docker.py`` (the sandbox), ``pool.py`` (warm containers) and
``reaper.py`` (leaked containers) all need the engine and agree on the owner labels; with those
here, the reaper imports neither the sandbox nor the pool, and no sandbox module imports in a cycle
(tests/test_layers.py). The docker SDK itself is imported only when a client is first asked for.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from typing import Any

from clawgym_env.sandbox.base import SandboxError
from clawgym_env.sandbox.hostdirs import proc_start_ticks

DEFAULT_IMAGE = "clawgym/sandbox:bookworm"
"""The offline Debian image (``clawgym sandbox build``); override with $CLAWGYM_DOCKER_IMAGE or ``image=``."""
DEFAULT_LIFETIME_S = 12 * 3600.0
"""Hard lifetime of a container; the reaper removes it after this even if its owner still runs."""
LABEL = "clawgym.owner_host"
"""Every container we make carries this label; the reaper and the tests select on it."""

_NO_SDK = "the docker backend needs the docker SDK, ClawGym's [docker] extra: pip install 'clawgym[docker]'"


def _docker_module():  # type: ignore[no-untyped-def]
    try:
        import docker
    except ImportError as exc:
        raise SandboxError(_NO_SDK) from exc
    if getattr(docker, "__file__", None) is None or not hasattr(docker, "from_env"):
        # e.g. run from a checkout's root without the SDK: the repo's docker/ folder imports as a
        # namespace package
        where = ", ".join(getattr(docker, "__path__", [])) or repr(docker)
        raise SandboxError(f"{_NO_SDK} (`import docker` found {where}, which is not the SDK)")
    return docker


_client_lock = threading.Lock()
_client: Any = None


def docker_client() -> Any:
    """One shared SDK client per process (it pools HTTP connections to the engine)."""
    global _client
    with _client_lock:
        if _client is None:
            docker = _docker_module()
            try:
                client = docker.from_env(timeout=120)
                client.ping()
            except Exception as exc:
                raise SandboxError(f"no docker engine answers ({exc}); start dockerd or pick backend='bwrap'") from exc
            _client = client
        return _client


def docker_cli() -> str:
    path = shutil.which("docker")
    if path is None:
        raise SandboxError("the docker CLI is not installed (apt-get install docker.io)")
    return path


def default_image() -> str:
    return os.environ.get("CLAWGYM_DOCKER_IMAGE") or DEFAULT_IMAGE


def default_cpus() -> float | None:
    """$CLAWGYM_DOCKER_CPUS (a container's CPU quota), else None: no quota."""
    value = os.environ.get("CLAWGYM_DOCKER_CPUS")
    return float(value) if value else None


def default_pool_size() -> int:
    """$CLAWGYM_DOCKER_POOL (containers kept started), else 0; a malformed value is 0 (no pool)."""
    try:
        return int(os.environ.get("CLAWGYM_DOCKER_POOL", "0"))
    except ValueError:
        return 0


def owner_labels(lifetime_s: float) -> dict[str, str]:
    """The labels of a container this process makes: who owns it and until when (the reaper reads them)."""
    now = time.time()
    return {
        LABEL: socket.gethostname(),
        "clawgym.owner_pid": str(os.getpid()),
        "clawgym.owner_start": proc_start_ticks(os.getpid()),
        "clawgym.started": f"{now:.3f}",
        "clawgym.deadline": f"{now + lifetime_s:.3f}",
    }
