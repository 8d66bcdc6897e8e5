"""Bridges from ClawGym environments to RL trainers.

Nothing is imported here on purpose: ``import clawgym_env`` must stay light, and each bridge
imports its trainer itself.

- :mod:`clawgym_env.integrations.verl_agent_loop`: ``ClawAgentLoop``, veRL's ``claw_agent`` loop
  (imports veRL; loaded by veRL workers through the ``verl.plugins`` entry point,
  :mod:`clawgym_env.integrations.verl_plugin`).
- :mod:`clawgym_env.integrations.verl_data`: the RL parquet veRL's ``RLHFDataset`` reads, and the
  task references its rows carry (no veRL needed).
- :mod:`clawgym_env.integrations.cli`: ``clawgym rl build-data``.
"""
