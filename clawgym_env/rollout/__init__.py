"""Concurrent rollouts and trajectory records.

``RolloutEngine`` runs many episodes at once (asyncio, a concurrency cap, per-episode budgets,
crash isolation, resume from its JSONL records); ``TrajectoryRecord`` is the versioned record of
one episode (docs/trajectory-schema.md), exportable as an OpenClaw session.
"""

from __future__ import annotations

from clawgym_env.episode import Budgets, EpisodeResult
from clawgym_env.rollout.driver import Episode, run_episode
from clawgym_env.rollout.engine import (
    AgentFactory,
    EpisodeSpec,
    RolloutEngine,
    RunStats,
    episode_seed,
    plan_episodes,
)
from clawgym_env.rollout.records import (
    SCHEMA_VERSION,
    RecordWriter,
    ToolCallRecord,
    TrajectoryRecord,
    TurnRecord,
    export_sessions,
    iter_records,
    latest_by_key,
    read_records,
    to_session_events,
)

__all__ = [
    "SCHEMA_VERSION", "AgentFactory", "Budgets", "Episode", "EpisodeResult", "EpisodeSpec", "RecordWriter", "RolloutEngine", "RunStats",
    "ToolCallRecord", "TrajectoryRecord", "TurnRecord", "episode_seed", "export_sessions", "iter_records",
    "latest_by_key", "plan_episodes", "read_records", "run_episode", "to_session_events",
]
