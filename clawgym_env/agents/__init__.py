"""Agents that act in ClawGym envs: one protocol (messages + tools -> assistant turn)."""

from clawgym_env.agents.base import Agent, AgentTurn
from clawgym_env.agents.oracle import OracleAgent

__all__ = ["Agent", "AgentTurn", "OracleAgent"]
