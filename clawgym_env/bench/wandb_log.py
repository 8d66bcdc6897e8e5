"""Weights & Biases logging of rollouts and evaluations (off unless asked for).

``wandb`` is imported only when a :class:`WandbLogger` is created (``pip install 'clawgym[wandb]'``);
``WANDB_MODE=offline`` logs to local files without network. What gets logged is built by the
pure functions :func:`episode_metrics` and :func:`summary_metrics`, so it can be tested without wandb.
"""

from __future__ import annotations

from typing import Any

from clawgym_env.rollout.records import TrajectoryRecord


def episode_metrics(record: TrajectoryRecord, *, done: int, running_mean: float | None,
                    infra_errors: int) -> dict[str, float | int]:
    """One episode's scalars plus the run's progress, logged as each episode ends."""
    metrics: dict[str, float | int] = {
        "rollout/episodes_done": done,
        "rollout/infra_errors": infra_errors,
        "episode/turns": record.steps,
        "episode/tool_calls": len(record.tool_calls),
        "episode/seconds": float(record.timings.get("total") or 0.0),
        "episode/infra_error": int(record.infra_error is not None),
        "episode/truncated": int(record.truncated),
    }
    if record.infra_error is None and not record.unscored:
        metrics["episode/score"] = record.reward
    if record.usage:
        metrics["episode/tokens"] = record.total_tokens
    if running_mean is not None:
        metrics["rollout/mean_score"] = running_mean
    return metrics


def summary_metrics(summary: dict[str, Any]) -> dict[str, float | int]:
    """The headline figures, flattened to ``eval/...`` keys (wandb run summary)."""
    out: dict[str, float | int] = {}
    for key in ("episodes", "tasks", "scored", "infra_errors", "unscored", "truncated", "mean_score", "std_score",
                "correct_rate", "tool_error_rate"):
        if summary.get(key) is not None:
            out[f"eval/{key}"] = summary[key]
    for k, v in summary.get("pass_at_k", {}).items():
        out[f"eval/pass@{k}"] = v["value"]
    for cat, v in summary.get("per_category", {}).items():
        out[f"eval/category/{cat}/mean_score"] = v["mean_score"]
        out[f"eval/category/{cat}/correct_rate"] = v["correct_rate"]
    for name in ("turns", "tokens", "tool_calls", "episode_seconds"):
        dist = summary.get(name)
        if dist:
            out[f"eval/{name}_mean"] = dist["mean"]
            out[f"eval/{name}_p90"] = dist["p90"]
    for k, v in (summary.get("budget_hits") or {}).items():
        out[f"eval/budget_hits/{k}"] = v
    if summary.get("groups"):
        for k in ("all_zero", "all_one", "mixed", "zero_variance"):
            out[f"eval/groups/{k}"] = summary["groups"][k]
    return out


class WandbLogger:
    """A wandb run that receives per-episode metrics and the final summary."""

    def __init__(self, *, project: str = "clawgym", name: str | None = None, config: dict[str, Any] | None = None,
                 dir: str | None = None, **init_kwargs: Any):
        try:
            import wandb
        except ImportError as exc:
            raise ImportError("--wandb needs the wandb package: pip install 'clawgym[wandb]'") from exc
        self._wandb = wandb
        self.run = wandb.init(project=project, name=name, config=config or {}, dir=dir, **init_kwargs)
        self._done = 0
        self._infra = 0
        self._score_sum = 0.0
        self._scored = 0

    def log_episode(self, record: TrajectoryRecord) -> dict[str, float | int]:
        self._done += 1
        self._infra += record.infra_error is not None
        if record.infra_error is None and not record.unscored:
            self._score_sum += record.reward
            self._scored += 1
        metrics = episode_metrics(record, done=self._done, infra_errors=self._infra,
                                  running_mean=self._score_sum / self._scored if self._scored else None)
        self.run.log(metrics)
        return metrics

    def log_summary(self, summary: dict[str, Any], task_rows: list[dict[str, Any]] | None = None) -> None:
        flat = summary_metrics(summary)
        self.run.summary.update(flat)
        if summary.get("per_category"):
            table = self._wandb.Table(columns=["category", "episodes", "mean_score", "correct_rate"])
            for cat, v in summary["per_category"].items():
                table.add_data(cat, v["episodes"], v["mean_score"], v["correct_rate"])
            self.run.log({"eval/per_category": table})
        if task_rows:
            table = self._wandb.Table(columns=["task_id", "category", "n", "mean_score", "correct", "infra_errors"])
            for t in task_rows:
                table.add_data(t["task_id"], t["category"], t["n"], t["mean_score"], t["correct"], t["infra_errors"])
            self.run.log({"eval/per_task": table})

    def finish(self) -> None:
        self.run.finish()


__all__ = ["WandbLogger", "episode_metrics", "summary_metrics"]
