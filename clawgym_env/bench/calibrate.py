"""Measured difficulty: per-task pass rates of one agent, and the tasks a policy can learn from.

``clawgym calibrate SUITE --agent ... --repeats k`` runs the evaluation (resumable, through the
rollout engine) and turns its records into a calibration table, one JSON line per task::

    {"task_id": "task-0042", "category": "...", "difficulty": 3, "episodes": 8, "correct": 3,
     "pass_rate": 0.375, "mean_reward": 0.52, "infra_errors": 0, "agent": "openai:Qwen3-8B"}

``pass_rate`` is the share of scored episodes with reward above ``CORRECT_THRESHOLD`` (0.5, as the
ClawGym RL eval counts a correct answer); infrastructure failures are left out, as everywhere.
``clawgym rl build-data --pass-rate LO:HI`` then keeps the tasks whose rate lies in the range: a
GRPO group on a task the policy always or never solves has no reward variance to learn from.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clawgym_env.bench.metrics import CORRECT_THRESHOLD, is_scored
from clawgym_env.rollout.records import TrajectoryRecord

CALIBRATION_FILE = "calibration.jsonl"
"""The table's name, in the run folder and (``--into-suite``) beside a suite's task folders."""


@dataclass(frozen=True)
class Calibration:
    """One task's measured difficulty for one agent."""

    task_id: str
    category: str
    difficulty: int | None
    episodes: int
    correct: int
    pass_rate: float | None
    mean_reward: float | None
    infra_errors: int
    agent: str


def calibrate(records: Iterable[TrajectoryRecord], *, agent: str,
              difficulty_of: Callable[[str], int | None] = lambda _: None,
              threshold: float = CORRECT_THRESHOLD) -> list[Calibration]:
    """The table, one row per task in the records (sorted by task id). ``difficulty_of`` gives a
    task's stated difficulty (its ``metadata.difficulty``), or None where the suite has none."""
    by_task: dict[str, list[TrajectoryRecord]] = defaultdict(list)
    for r in records:
        by_task[r.task_id].append(r)
    rows = []
    for task_id in sorted(by_task):
        recs = by_task[task_id]
        scored = [r.reward for r in recs if is_scored(r)]
        correct = sum(s > threshold for s in scored)
        rows.append(Calibration(
            task_id=task_id, category=recs[0].category, difficulty=difficulty_of(task_id), episodes=len(scored),
            correct=correct, pass_rate=correct / len(scored) if scored else None,
            mean_reward=statistics.fmean(scored) if scored else None,
            infra_errors=sum(r.infra_error is not None for r in recs), agent=agent))
    return rows


def write_calibration(rows: list[Calibration], path: str | os.PathLike[str]) -> Path:
    """Write the table as JSONL (atomically: a reader never sees half a table)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    os.replace(tmp, out)
    return out


def read_calibration(path: str | os.PathLike[str]) -> dict[str, Calibration]:
    """A table written by :func:`write_calibration`, by task id; a clear error for anything else."""
    rows: dict[str, Calibration] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read the calibration table {path}: {exc.strerror}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = Calibration(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a calibration row ({exc})") from None
        if row.task_id in rows:
            raise ValueError(f"{path}:{n}: task {row.task_id!r} appears twice")
        rows[row.task_id] = row
    return rows


def parse_pass_range(text: str) -> tuple[float, float]:
    """``"0.1:0.9"`` -> (0.1, 0.9); both ends inclusive, each in [0, 1]."""
    lo_text, sep, hi_text = text.partition(":")
    try:
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        lo = hi = float("nan")
    if not sep or not (0.0 <= lo <= hi <= 1.0):
        raise ValueError(f"--pass-rate wants LO:HI with 0 <= LO <= HI <= 1, e.g. 0.1:0.9 (got {text!r})")
    return lo, hi


def in_range(table: dict[str, Calibration], lo: float, hi: float) -> Callable[[str], bool]:
    """A task-id filter: measured, and its pass rate within [lo, hi]."""
    def keep(task_id: str) -> bool:
        row = table.get(task_id)
        return row is not None and row.pass_rate is not None and lo <= row.pass_rate <= hi
    return keep


def by_difficulty(rows: list[Calibration]) -> dict[str, Any]:
    """Pass rate per stated difficulty, and how well difficulty predicts failure: Spearman's rank
    correlation between difficulty and pass rate over the measured tasks (negative: harder tasks
    are failed more often; None when there is nothing to correlate)."""
    measured = [r for r in rows if r.pass_rate is not None and r.difficulty is not None]
    levels: dict[int, list[float]] = defaultdict(list)
    for r in measured:
        levels[r.difficulty].append(r.pass_rate)  # type: ignore[index, arg-type]
    table = {d: {"tasks": len(v), "pass_rate": statistics.fmean(v),
                 "learnable": sum(0.0 < p < 1.0 for p in v) / len(v)} for d, v in sorted(levels.items())}
    rho = _spearman([float(r.difficulty) for r in measured], [r.pass_rate for r in measured])  # type: ignore[misc]
    return {"levels": table, "spearman": rho, "tasks": len(measured)}


def _spearman(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(_ranks(xs), _ranks(ys))


def _ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share the mean of their positions)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def format_calibration(rows: list[Calibration]) -> str:
    """The console summary: tasks measured, pass rate per difficulty, the correlation."""
    summary = by_difficulty(rows)
    measured = [r for r in rows if r.pass_rate is not None]
    lines = [f"calibrated {len(measured)} of {len(rows)} tasks"
             + (f" (mean pass rate {statistics.fmean(r.pass_rate for r in measured):.3f}; "  # type: ignore[misc]
                f"{sum(0 < r.pass_rate < 1 for r in measured)} with mixed outcomes)" if measured else "")]  # type: ignore[operator]
    if summary["levels"]:
        lines.append("  difficulty  tasks  pass rate  mixed outcomes")
        lines += [f"  {d:>10}  {v['tasks']:5d}  {v['pass_rate']:9.3f}  {v['learnable']:14.1%}"
                  for d, v in summary["levels"].items()]
        rho = summary["spearman"]
        lines.append("  Spearman(difficulty, pass rate): " + ("n/a (no variation)" if rho is None else f"{rho:+.3f}"))
    return "\n".join(lines)


__all__ = ["CALIBRATION_FILE", "Calibration", "by_difficulty", "calibrate", "format_calibration", "in_range",
           "parse_pass_range", "read_calibration", "write_calibration"]
