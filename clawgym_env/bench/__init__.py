"""Benchmark runner and reports: ``clawgym eval`` over a suite, headline metrics, Markdown/HTML/JSON.

``metrics`` (mean score, correct rate, per-category means, pass@k), ``report`` (results.json,
report.md, report.html with inline SVG plots), ``runner`` (:func:`run_eval`), ``wandb_log``
(optional Weights & Biases logging; wandb is imported only when used).
"""

from __future__ import annotations

from clawgym_env.bench.metrics import CORRECT_THRESHOLD, pass_at_k, per_task_rows, summarize

__all__ = ["CORRECT_THRESHOLD", "pass_at_k", "per_task_rows", "summarize"]
