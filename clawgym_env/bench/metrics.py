"""Headline figures of an evaluation, computed from trajectory records.

As the paper and the ClawGym RL eval report them (specs/clawgym-reference.md §C5, §G): the mean
score and the correct rate (score > 0.5) over scored episodes, per-category means, and pass@k
with the unbiased estimator over n repeats (Chen et al. 2021). Infrastructure failures are
counted but left out of every mean (a sandbox that died says nothing about the model), and so are
judge-only tasks that had no judge (``unscored``).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from clawgym_env.rollout.records import TrajectoryRecord

CORRECT_THRESHOLD = 0.5
"""A score above this counts as correct (ClawGym RL eval: reward > 0.5)."""
NO_CATEGORY = "(none)"
"""The key results.json files tasks without a ``metadata.category`` under (kept for readers of old results)."""


def category_label(category: str | None) -> str:
    """How reports and the terminal name a category: a task without one is "uncategorised"."""
    return "uncategorised" if category in (None, "", NO_CATEGORY) else category


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples with ``c`` correct: ``1 - C(n-c, k) / C(n, k)``."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n (c={c}, n={n})")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n (k={k}, n={n})")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def default_ks(n: int) -> list[int]:
    """1, 2, 4, ... up to n, and n itself."""
    ks = [k for k in (2**i for i in range(12)) if k <= n]
    if n >= 1 and n not in ks:
        ks.append(n)
    return ks


def distribution(values: Iterable[float]) -> dict[str, float] | None:
    """mean / median / p90 / min / max / total, or None for no values."""
    vals = sorted(float(v) for v in values)
    if not vals:
        return None
    p90 = vals[min(len(vals) - 1, math.ceil(0.9 * len(vals)) - 1)]
    return {"mean": statistics.fmean(vals), "median": statistics.median(vals), "p90": p90, "min": vals[0],
            "max": vals[-1], "total": math.fsum(vals)}


def is_scored(r: TrajectoryRecord) -> bool:
    """Counts in the means: no infrastructure failure, and a score that means something."""
    return r.infra_error is None and not r.unscored


def summarize(records: list[TrajectoryRecord], *, threshold: float = CORRECT_THRESHOLD,
              ks: list[int] | None = None) -> dict[str, Any]:
    """Every figure of the report, as a JSON-ready dict (the latest record per episode is used)."""
    by_key = {r.key: r for r in records}
    recs = list(by_key.values())
    scored = [r for r in recs if is_scored(r)]
    ran = [r for r in recs if r.infra_error is None]
    scores = [r.reward for r in scored]
    correct = [s > threshold for s in scores]

    # per task: n valid samples, c correct (pass@k)
    per_task: dict[str, list[float]] = defaultdict(list)
    task_category: dict[str, str] = {}
    for r in recs:
        task_category[r.task_id] = r.category or NO_CATEGORY
    for r in scored:
        per_task[r.task_id].append(r.reward)
    max_n = max((len(v) for v in per_task.values()), default=0)
    ks = ks or default_ks(max_n)
    passk: dict[str, dict[str, float | int]] = {}
    for k in ks:
        vals = [pass_at_k(len(v), sum(s > threshold for s in v), k) for v in per_task.values() if len(v) >= k]
        if vals:
            passk[str(k)] = {"value": statistics.fmean(vals), "tasks": len(vals)}

    # per category
    cats: dict[str, list[float]] = defaultdict(list)
    for r in scored:
        cats[r.category or NO_CATEGORY].append(r.reward)
    per_category = {
        c: {"episodes": len(v), "mean_score": statistics.fmean(v),
            "correct_rate": sum(s > threshold for s in v) / len(v)}
        for c, v in sorted(cats.items())
    }

    # repeat groups (RL's view: a group is one task's repeats)
    groups = [v for v in per_task.values() if len(v) > 1]
    group_stats = None
    if groups:
        all_zero = sum(all(s == 0 for s in v) for v in groups)
        all_one = sum(all(s >= 1.0 for s in v) for v in groups)
        group_stats = {"groups": len(groups), "all_zero": all_zero / len(groups), "all_one": all_one / len(groups),
                       "mixed": 1 - (all_zero + all_one) / len(groups),
                       "zero_variance": sum(len(set(v)) == 1 for v in groups) / len(groups)}

    n_calls = sum(len(r.tool_calls) for r in ran)
    n_failed_calls = sum(1 for r in ran for c in r.tool_calls if c.ok is False)
    budget_hits = Counter(r.budget_hit for r in recs if r.budget_hit)
    with_tokens = [r for r in ran if r.usage]
    return {
        "episodes": len(recs),
        "tasks": len({r.task_id for r in recs}),
        "scored": len(scored),
        "infra_errors": sum(r.infra_error is not None for r in recs),
        "unscored": sum(r.infra_error is None and r.unscored for r in recs),
        "mean_score": statistics.fmean(scores) if scores else None,
        "std_score": statistics.pstdev(scores) if len(scores) > 1 else None,
        "correct_rate": sum(correct) / len(correct) if correct else None,
        "correct_threshold": threshold,
        "pass_at_k": passk,
        "per_category": per_category,
        "terminated": sum(r.terminated for r in recs),
        "truncated": sum(r.truncated and r.infra_error is None for r in recs),
        "budget_hits": dict(sorted(budget_hits.items())),
        "turns": distribution(r.steps for r in ran),
        "tokens": distribution(r.total_tokens for r in with_tokens),
        "tokens_reported": len(with_tokens),
        "tool_calls": distribution(len(r.tool_calls) for r in ran),
        "tool_error_rate": n_failed_calls / n_calls if n_calls else None,
        "episode_seconds": distribution(float(r.timings.get("total") or 0.0) - float(r.timings.get("queue") or 0.0)
                                        for r in recs),
        "queue_seconds": distribution(float(r.timings.get("queue") or 0.0) for r in recs)
        if any(r.timings.get("queue") for r in recs) else None,
        "groups": group_stats,
        "models": sorted({r.model for r in recs if r.model}),
    }


def per_task_rows(records: list[TrajectoryRecord], *, threshold: float = CORRECT_THRESHOLD) -> list[dict[str, Any]]:
    """One row per task: category, samples, mean score, correct count, infra errors."""
    rows: dict[str, dict[str, Any]] = {}
    for r in {r.key: r for r in records}.values():
        row = rows.setdefault(r.task_id, {"task_id": r.task_id, "category": r.category, "scores": [],
                                          "infra_errors": 0, "unscored": 0})
        if r.infra_error is not None:
            row["infra_errors"] += 1
        elif r.unscored:
            row["unscored"] += 1
        else:
            row["scores"].append(r.reward)
    out = []
    for row in sorted(rows.values(), key=lambda x: x["task_id"]):
        s = row["scores"]
        row["n"] = len(s)
        row["mean_score"] = statistics.fmean(s) if s else None
        row["correct"] = sum(v > threshold for v in s)
        out.append(row)
    return out


def infra_error_rows(records: list[TrajectoryRecord], limit: int = 50) -> list[dict[str, Any]]:
    return [{"episode_id": r.episode_id, "infra_error": r.infra_error}
            for r in {r.key: r for r in records}.values() if r.infra_error is not None][:limit]


__all__ = ["CORRECT_THRESHOLD", "category_label", "default_ks", "distribution", "infra_error_rows", "is_scored", "pass_at_k",
           "per_task_rows", "summarize"]
