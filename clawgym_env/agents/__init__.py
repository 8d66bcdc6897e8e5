"""Agents that act in ClawGym envs: one protocol (messages + tools -> assistant turn).

``import clawgym_env.agents`` stays light: the OpenAI client is imported on an agent's first
request and torch/transformers when an HFAgent is created.
"""

from __future__ import annotations

import json
from typing import Any

from clawgym_env.agents.base import Agent, AgentTurn
from clawgym_env.agents.common import AgentError, count_tool_calls
from clawgym_env.agents.hf_agent import HFAgent
from clawgym_env.agents.openai_agent import OpenAIChatAgent
from clawgym_env.agents.oracle import OracleAgent
from clawgym_env.agents.replay import ReplayAgent, ScriptedAgent

AGENT_NAMES = ("oracle", "openai", "hf", "replay", "scripted")


def make_agent(name: str, **options: Any) -> Agent:
    """Build an agent by name (what ``clawgym … --agent NAME`` uses); options go to its constructor.

    ``oracle`` (``task=`` optional: ``begin_episode`` gives it), ``openai`` (``base_url``, ``model``,
    sampling and retry settings), ``hf`` (``model_or_path``, ``tokenizer``, ...), ``replay``
    (``messages``: a message list, trajectory dict or JSONL line; or ``path`` [+ ``index`` /
    ``task_id``] of a trajectory JSONL file), ``scripted`` (``actions``).
    """
    if name == "oracle":
        return OracleAgent(**options)
    if name == "openai":
        return OpenAIChatAgent(**options)
    if name == "hf":
        return HFAgent(**options)
    if name == "replay":
        if "path" in options:
            path = options.pop("path")
            return ReplayAgent.from_jsonl(path, **options)
        return ReplayAgent(**options)
    if name == "scripted":
        return ScriptedAgent(**options)
    raise ValueError(f"unknown agent {name!r}; choose one of: {', '.join(AGENT_NAMES)}")


class AgentOptionError(ValueError):
    """An option an agent's constructor does not take, or a value of the wrong type."""


_AGENT_CLASSES: dict[str, type] = {"oracle": OracleAgent, "openai": OpenAIChatAgent, "hf": HFAgent,
                                   "replay": ReplayAgent, "scripted": ScriptedAgent}
_SET_BY_RUNNER = {"oracle": {"task": "each episode's task"}, "openai": {"base_url": "--base-url", "model": "--model"},
                  "hf": {"model_or_path": "--model"}, "scripted": {"actions": "--actions"},
                  "replay": {"messages": "--replay"}}


def check_agent_options(name: str, options: dict[str, Any]) -> None:
    """Raise :class:`AgentOptionError` (one line) for an option ``make_agent(name, ...)`` would die on
    with a raw ``TypeError``: a key its constructor does not take, one the runner sets itself, or a
    value its annotation rejects (checked with pydantic, lax: ``1`` is a fine float)."""
    import inspect
    import typing

    from pydantic import TypeAdapter, ValidationError

    cls = _AGENT_CLASSES.get(name)
    if cls is None:
        raise AgentOptionError(f"unknown agent {name!r}; choose one of: {', '.join(AGENT_NAMES)}")
    params = {k: p for k, p in inspect.signature(cls.__init__).parameters.items()
              if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    reserved = _SET_BY_RUNNER.get(name, {})
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve here: check names only
        hints = {}
    for key, value in options.items():
        if key in reserved:
            raise AgentOptionError(f"--agent-option {key}: set by {reserved[key]}, not as an agent option")
        if key not in params:
            known = ", ".join(k for k in params if k not in reserved) or "none"
            raise AgentOptionError(f"--agent-option {key}: the {name} agent takes no option {key!r}; its options: "
                                   f"{known}")
        if key in hints:
            try:
                TypeAdapter(hints[key]).validate_python(value)
            except ValidationError as exc:
                want = getattr(hints[key], "__name__", None) or str(hints[key]).replace("typing.", "")
                why = exc.errors()[0]["msg"] if exc.errors() else str(exc)
                raise AgentOptionError(f"--agent-option {key}={json.dumps(value)}: the {name} agent wants {want} "
                                       f"({why})") from None


__all__ = [
    "AGENT_NAMES", "Agent", "AgentError", "AgentOptionError", "AgentTurn", "HFAgent", "OpenAIChatAgent",
    "OracleAgent", "ReplayAgent", "ScriptedAgent", "check_agent_options", "count_tool_calls", "make_agent",
]
