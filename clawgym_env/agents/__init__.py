"""Agents that act in ClawGym envs: one protocol (messages + tools -> assistant turn).

``import clawgym_env.agents`` stays light: the OpenAI client is imported on an agent's first
request and torch/transformers when an HFAgent is created.
"""

from __future__ import annotations

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


__all__ = [
    "AGENT_NAMES", "Agent", "AgentError", "AgentTurn", "HFAgent", "OpenAIChatAgent", "OracleAgent", "ReplayAgent",
    "ScriptedAgent", "count_tool_calls", "make_agent",
]
