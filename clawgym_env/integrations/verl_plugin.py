"""veRL plugin: registers ``claw_agent`` in veRL's agent-loop registry.

Loaded through the ``verl.plugins`` entry point (``pyproject.toml``): ``import verl`` imports every
module of that group (``EntryPoint.load()``; ``VERL_USE_EXTERNAL_PLUGINS=auto|none|name,...``), in
every process, Ray workers included. That is how a pip-installed ClawGym reaches the
``AgentLoopWorker`` actors without ``agent_loop_config_path`` (``rl/agent_loop.yaml`` is the
fallback when plugins are disabled).

The registry is a dict in ``verl.experimental.agent_loop.agent_loop``, and importing that module
here would pull torch, transformers and the rollout stack into every process that imports verl
(vLLM servers, FSDP workers) while verl itself is still half-initialised. So the entry is added
when that module is imported, by a one-shot import hook; if it is already imported, right away.
The loop class itself is only imported when veRL instantiates it (hydra ``_target_``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

AGENT_NAME = "claw_agent"
TARGET = "clawgym_env.integrations.verl_agent_loop.ClawAgentLoop"
REGISTRY_MODULE = "verl.experimental.agent_loop.agent_loop"


def register(module: ModuleType) -> None:
    """Add ``claw_agent`` to the module's ``_agent_loop_registry`` (kept if already there)."""
    module._agent_loop_registry.setdefault(AGENT_NAME, {"_target_": TARGET})


class _RegisteringLoader(importlib.abc.Loader):
    """Runs the real loader, then registers; everything else is delegated to it."""

    def __init__(self, inner: Any):
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        register(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for tracebacks and inspect
        return getattr(self._inner, name)


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Finds the registry module with the other finders and wraps its loader; then steps aside."""

    def find_spec(self, fullname: str, path: Any,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != REGISTRY_MODULE:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Register now if veRL's agent-loop module is loaded, else as soon as it is."""
    module = sys.modules.get(REGISTRY_MODULE)
    if module is not None:
        register(module)
    elif not any(isinstance(f, _RegisterOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())


install()

__all__ = ["AGENT_NAME", "REGISTRY_MODULE", "TARGET", "install", "register"]
