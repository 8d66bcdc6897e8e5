"""Which trajectories become SFT data, and why the others do not.

The default keeps what the ClawGym paper trains on: successful trajectories (reward 1.0) that ended
on their own, with no infrastructure failure and no call to a tool the agent was not offered. Each
dropped record is counted once, under the first reason of :data:`REASONS` that applies, so the
counts add up to the number of records dropped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clawgym_env.rollout.records import TrajectoryRecord
from clawgym_env.sft.examples import conversation_hash, reward_known, sft_messages

REASONS: tuple[str, ...] = (
    "infra_error",          # infrastructure failed: the reward is not a model outcome (always dropped)
    "unscored",             # a judge-only task ran without a judge: the reward means nothing
    "limit_hit",            # a budget cut it (budget_hit), or it was truncated without the agent ending it
    "unrewarded",           # reward unknown (an import without one: scored=False)
    "low_reward",           # reward below min_reward
    "unknown_tool",         # a call to a tool not among the record's tool schemas
    "few_assistant_turns",  # fewer assistant messages than min_assistant_turns
    "duplicate",            # the same training conversation as an earlier kept record
    "per_task_cap",         # the task already has per_task_cap better (or earlier) records
)
"""Drop reasons in the order they are checked; a record is counted under the first that applies."""

EXAMPLES_PER_REASON = 5


class FilterConfig(BaseModel):
    """What ``clawgym sft build`` keeps. Records with an ``infra_error`` are always dropped."""

    model_config = ConfigDict(extra="forbid")

    min_reward: float = 1.0
    """Keep rewards >= this. 1.0: the paper trains on successful trajectories only."""
    keep_unrewarded: bool = False
    """Keep records whose reward is unknown (imports without one); they skip the min_reward test."""
    drop_unknown_tools: bool = True
    drop_limit_hits: bool = True
    drop_unscored: bool = True
    dedupe: bool = True
    per_task_cap: int | None = Field(default=None, ge=1)
    """At most N records per task_id: highest reward first (unknown rewards last), then input order."""
    min_assistant_turns: int = Field(default=1, ge=0)


@dataclass
class FilterResult:
    """The records kept (in input order) and, for the rest, how many went for which reason."""

    kept: list[TrajectoryRecord]
    total: int
    dropped: Counter[str] = field(default_factory=Counter)
    examples_dropped: dict[str, list[str]] = field(default_factory=dict)
    """Reason -> the first few episode_ids dropped for it."""
    input_rewards: list[float] = field(default_factory=list)
    """The known rewards of every input record (kept or not): what the summary quotes when none is kept."""

    def summary_text(self) -> str:
        kept = len(self.kept)
        tasks = len({r.task_id for r in self.kept})
        rewards = [r.reward for r in self.kept if reward_known(r)]
        if rewards:
            mean = f"mean reward {sum(rewards) / len(rewards):.3f}"
        elif kept:
            mean = "no known rewards"
        elif self.input_rewards:  # nothing kept: say what the input's rewards were, not "no known rewards"
            mean = (f"the input's {len(self.input_rewards)} known rewards: mean "
                    f"{sum(self.input_rewards) / len(self.input_rewards):.3f}, max {max(self.input_rewards):.3f}")
        else:
            mean = "the input has no known rewards"
        lines = [f"kept {kept} of {self.total} trajectories ({tasks} tasks, {mean})"]
        if self.dropped:
            lines.append(f"dropped {sum(self.dropped.values())}:")
            width = max(len(r) for r in self.dropped)
            for reason in REASONS:
                if self.dropped[reason]:
                    examples = ", ".join(self.examples_dropped.get(reason, []))
                    more = " ..." if self.dropped[reason] > len(self.examples_dropped.get(reason, [])) else ""
                    lines.append(f"  {reason:<{width}}  {self.dropped[reason]:>6}  e.g. {examples}{more}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "kept": len(self.kept), "dropped": {r: self.dropped[r] for r in REASONS
                                                                      if self.dropped[r]},
                "examples_dropped": self.examples_dropped}

    def _drop(self, reason: str, record: TrajectoryRecord) -> None:
        self.dropped[reason] += 1
        examples = self.examples_dropped.setdefault(reason, [])
        if len(examples) < EXAMPLES_PER_REASON:
            examples.append(record.episode_id)


def tool_names(record: TrajectoryRecord) -> set[str]:
    """Names of the tools the record's schemas offer (OpenAI ``{"function": {"name"}}`` or flat ``{"name"}``)."""
    names = set()
    for schema in record.tools:
        fn = schema.get("function") if isinstance(schema.get("function"), dict) else schema
        if isinstance(fn.get("name"), str):
            names.add(fn["name"])
    return names


def has_unknown_tool_call(record: TrajectoryRecord) -> bool:
    """A call, in the messages or the executed calls, to a tool not offered, or one the env refused
    as unknown (``error_kind == "unknown_tool"``)."""
    offered = tool_names(record)
    for call in record.tool_calls:
        if call.error_kind == "unknown_tool" or call.name not in offered:
            return True
    for msg in sft_messages(record):
        for call in msg.get("tool_calls", []):
            if call["function"]["name"] not in offered:
                return True
    return False


def is_limit_hit(record: TrajectoryRecord) -> bool:
    return record.budget_hit is not None or (record.truncated and not record.terminated)


def first_reason(record: TrajectoryRecord, cfg: FilterConfig) -> str | None:
    """The first per-record reason (:data:`REASONS` order) to drop ``record``, or None to keep it."""
    if record.infra_error:
        return "infra_error"
    if cfg.drop_unscored and record.unscored:
        return "unscored"
    if cfg.drop_limit_hits and is_limit_hit(record):
        return "limit_hit"
    if not reward_known(record):
        if not cfg.keep_unrewarded:
            return "unrewarded"
    elif record.reward < cfg.min_reward:
        return "low_reward"
    if cfg.drop_unknown_tools and has_unknown_tool_call(record):
        return "unknown_tool"
    if sum(1 for m in record.messages if m.get("role") == "assistant") < cfg.min_assistant_turns:
        return "few_assistant_turns"
    return None


def filter_records(records: Iterable[TrajectoryRecord], cfg: FilterConfig | None = None) -> FilterResult:
    """Per-record tests first, then duplicates (the first copy stays), then the per-task cap."""
    cfg = cfg or FilterConfig()
    records = list(records)
    result = FilterResult(kept=[], total=len(records), input_rewards=[r.reward for r in records if reward_known(r)])
    survivors: list[TrajectoryRecord] = []
    seen: set[str] = set()
    for record in records:
        reason = first_reason(record, cfg)
        if reason is None and cfg.dedupe:
            digest = conversation_hash(sft_messages(record))
            if digest in seen:
                reason = "duplicate"
            seen.add(digest)
        if reason is None:
            survivors.append(record)
        else:
            result._drop(reason, record)

    if cfg.per_task_cap is None:
        result.kept = survivors
        return result
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(survivors):
        by_task[record.task_id].append(i)
    keep: set[int] = set()
    for indices in by_task.values():
        ranked = sorted(indices, key=lambda i: (-_rank_reward(survivors[i]), i))
        keep.update(ranked[:cfg.per_task_cap])
    for i, record in enumerate(survivors):
        if i in keep:
            result.kept.append(record)
        else:
            result._drop("per_task_cap", record)
    return result


def _rank_reward(record: TrajectoryRecord) -> float:
    return record.reward if reward_known(record) else float("-inf")


__all__ = ["REASONS", "FilterConfig", "FilterResult", "filter_records", "first_reason", "has_unknown_tool_call",
           "is_limit_hit", "tool_names"]
