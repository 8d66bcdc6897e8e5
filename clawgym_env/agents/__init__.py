"""Agents that act in ClawGym envs. (Model-backed agents arrive with the rollout issue.)"""

from clawgym_env.agents.oracle import OracleAgent

__all__ = ["OracleAgent"]
