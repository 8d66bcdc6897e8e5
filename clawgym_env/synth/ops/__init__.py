"""The operation library: one class per atomic operation (see ``taxonomy.OPERATIONS``)."""

from __future__ import annotations

import importlib
from functools import lru_cache

from clawgym_env.synth.ops.base import Operation, OpContext, OpStep, OutputSpec, Scenario

_MODULES = ("file_ops", "data_ops", "comm_ops", "web_ops", "sys_ops", "dev_ops", "plan_ops")

__all__ = ["OpContext", "OpStep", "Operation", "OutputSpec", "Scenario", "operations"]


@lru_cache(maxsize=1)
def operations() -> dict[str, Operation]:
    """Every implemented operation by name."""
    found: dict[str, Operation] = {}
    for mod_name in _MODULES:
        try:
            mod = importlib.import_module(f"clawgym_env.synth.ops.{mod_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"clawgym_env.synth.ops.{mod_name}":
                raise
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and obj.__module__ == mod.__name__ and hasattr(obj, "build") and hasattr(obj, "name"):
                found[obj.name] = obj()
    return found
