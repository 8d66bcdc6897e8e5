"""Sandboxes: where an agent's commands run. ``make_sandbox(backend)`` picks one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import (
    WORKSPACE,
    ExecResult,
    ProcessInfo,
    Sandbox,
    SandboxConfig,
    SandboxError,
    SandboxFileError,
    SandboxLimits,
)
from clawgym_env.sandbox.client import IsolatedResult, ServerSandbox

BACKENDS = ("bwrap", "docker", "local")

__all__ = [
    "BACKENDS", "WORKSPACE", "ExecResult", "IsolatedResult", "ProcessInfo", "Sandbox", "SandboxConfig",
    "SandboxError", "SandboxFileError", "SandboxLimits", "ServerSandbox", "make_sandbox",
]


def make_sandbox(backend: str = "bwrap", config: SandboxConfig | None = None,
                 host_workspace: Path | None = None, **options: Any) -> ServerSandbox:
    """Create (not start) a sandbox of the named backend. ``options`` go to the docker backend
    (``image``, ``cpus``, ``lifetime_s``, ``pool``, ``recycle``, ``shared_pool``)."""
    if backend == "bwrap":
        from clawgym_env.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox(config, host_workspace)
    if backend == "docker":
        from clawgym_env.sandbox.pool import new_docker_sandbox

        return new_docker_sandbox(config, host_workspace, **options)
    if options:
        raise TypeError(f"backend {backend!r} takes no options ({', '.join(options)})")
    if backend == "local":
        from clawgym_env.sandbox.local import LocalSandbox

        return LocalSandbox(config, host_workspace)
    raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {', '.join(BACKENDS)}")
