"""Paths every layer agrees on, defined once at the bottom of the import graph.

Why a module of its own: the workspace path is part of the task contract (verifiers hard-code it,
DESIGN.md contract 2), and sandbox, tasks, tools, env and rollout records all need it; defining it
here keeps one spelling without any of them importing a heavier neighbour.
"""

from __future__ import annotations

WORKSPACE = "/root/.openclaw/workspace"
"""Where the agent and the verifier see the workspace (verifiers hard-code it)."""

__all__ = ["WORKSPACE"]
