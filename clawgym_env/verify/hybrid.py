"""Hybrid scoring: the code verifier's score combined with the rubric judge's.

Which tasks carry a rubric, and with what weights:

- PinchBench (``metadata.source == "pinchbench"``): ``hybrid`` tasks use the task's
  ``grading_weights`` (default 0.5/0.5), ``(w_a*auto + w_j*judge) / (w_a + w_j)``; ``llm_judge``
  tasks are judge-only; ``automated`` tasks have no rubric.
- ClawGym tasks with rubric rules (``metadata.rules``, ``metadata.rule`` or a top-level ``rules``
  in data_entry.json; specs §B2, §E): 0.7 code / 0.3 rubric (the ClawGym-Bench card), unless
  skill2task's ``reward_aggregation`` says otherwise (``average_code_and_rubric`` 0.5/0.5,
  ``rubric_only``, ``code_only``).

Without a judge (none configured, or one that failed): a task with a code part reports its code
score and marks the rubric unscored; a judge-only task scores 0.0 with ``unscored=True`` so
evaluation can leave it out. No judge score is ever made up. A judge that was configured but
failed is also an infrastructure error (the sample should be dropped, not learned from).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clawgym_env.tasks.model import Task
from clawgym_env.verify.rubric import JudgeResult, Rubric

CLAWGYM_WEIGHTS = (0.7, 0.3)
PINCHBENCH_WEIGHTS = (0.5, 0.5)
_AGGREGATION = {"average_code_and_rubric": (0.5, 0.5), "rubric_only": (0.0, 1.0)}


@dataclass(frozen=True)
class RubricPlan:
    """How one task's reward combines its code score with a rubric score."""

    rubric: Rubric
    code_weight: float
    rubric_weight: float
    origin: str
    """``pinchbench`` or ``clawgym``."""

    @property
    def judge_only(self) -> bool:
        return self.code_weight <= 0.0

    def weights(self) -> dict[str, float]:
        return {"code": self.code_weight, "rubric": self.rubric_weight}


def _render_rules(rules: list[Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """ClawGym rubric rules ({name, file_path, scores{"0".."1"}}) as judge text, names, files."""
    blocks, names, files = [], [], []
    for i, rule in enumerate(rules, start=1):
        if isinstance(rule, dict):
            name = str(rule.get("name") or f"rule_{i}")
            path = rule.get("file_path")
            head = f"### {name}" + (f" (judge the file `{path}`; it scores 0 if missing)" if path else "")
            bands = rule.get("scores")
            if isinstance(bands, dict):
                body = "\n".join(f"**Score {k}**: {v}" for k, v in bands.items())
            else:
                body = str(rule.get("description") or json.dumps(rule, ensure_ascii=False))
            blocks.append(f"{head}\n{body}")
            names.append(name)
            if isinstance(path, str) and path:
                files.append(path.removeprefix("./"))
        else:
            blocks.append(f"### rule_{i}\n{rule}")
            names.append(f"rule_{i}")
    return "\n\n".join(blocks), tuple(names), tuple(files)


def rubric_plan(task: Task) -> RubricPlan | None:
    """The task's rubric and weights, or None for a code-only task."""
    meta = task.metadata
    if meta.get("source") == "pinchbench":
        kind = meta.get("grading_type")
        if kind not in ("llm_judge", "hybrid"):
            return None
        text = meta.get("llm_judge_rubric") or "\n".join(f"- {c}" for c in meta.get("grading_criteria") or [])
        names = tuple(c["name"] for c in meta.get("rubric_criteria") or [] if isinstance(c, dict) and c.get("name"))
        rubric = Rubric(task_prompt=task.user_query, text=text, criteria=names,
                        expected_behavior=str(meta.get("expected_behavior") or ""))
        if kind == "llm_judge":
            return RubricPlan(rubric, 0.0, 1.0, "pinchbench")
        weights = meta.get("grading_weights") or {}
        code_w = float(weights.get("automated", PINCHBENCH_WEIGHTS[0]))
        judge_w = float(weights.get("llm_judge", PINCHBENCH_WEIGHTS[1]))
        if code_w + judge_w <= 0:
            code_w, judge_w = PINCHBENCH_WEIGHTS
        return RubricPlan(rubric, code_w, judge_w, "pinchbench")

    rules = meta.get("rules") or meta.get("rule") or task.extra.get("rules")
    if not rules:
        return None
    aggregation = task.extra.get("reward_aggregation") or meta.get("reward_aggregation")
    if aggregation == "code_only":
        return None
    code_w, judge_w = _AGGREGATION.get(str(aggregation), CLAWGYM_WEIGHTS)
    if isinstance(rules, str):
        text, names, files = rules, (), ()
    else:
        text, names, files = _render_rules(rules if isinstance(rules, list) else [rules])
    rubric = Rubric(task_prompt=task.user_query, text=text, criteria=names, priority_files=files)
    return RubricPlan(rubric, code_w, judge_w, "clawgym")


@dataclass
class HybridScore:
    """The episode's reward and what ``info`` says about how it was reached."""

    reward: float
    code_score: float | None
    rubric: dict[str, Any] | None
    unscored: bool = False
    infra_error: str | None = None


def combine(code_score: float, plan: RubricPlan | None, judge: JudgeResult | None, *,
            judge_configured: bool) -> HybridScore:
    """The reward from the code score and (maybe) a judge verdict; see the module docstring."""
    if plan is None:
        return HybridScore(code_score, code_score, None)
    code = None if plan.judge_only else code_score
    info: dict[str, Any] = {"origin": plan.origin, "weights": plan.weights(), "scored": False, "score": None}
    if judge is not None and judge.scored and judge.score is not None:
        info.update(judge.to_info())
        total_w = plan.code_weight + plan.rubric_weight
        reward = (plan.code_weight * (code or 0.0) + plan.rubric_weight * judge.score) / total_w
        return HybridScore(reward, code, info)
    if judge is not None:
        info.update(judge.to_info())
        info["reason"] = f"rubric judge failed: {judge.error}"
    else:
        info["reason"] = "no judge configured" if not judge_configured else "judge not run"
    infra = info["reason"] if judge is not None and judge_configured else None
    if plan.judge_only:
        return HybridScore(0.0, None, info, unscored=True, infra_error=infra)
    return HybridScore(code_score, code, info, infra_error=infra)


__all__ = ["CLAWGYM_WEIGHTS", "PINCHBENCH_WEIGHTS", "HybridScore", "RubricPlan", "combine", "rubric_plan"]
