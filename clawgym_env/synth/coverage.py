"""Coverage of a synthesized suite: taxonomy, personas, instruction lengths, n-gram diversity,
near-duplicates, and the text-diversity figures of :mod:`clawgym_env.synth.diversity`.

:func:`coverage` needs our own metadata (category, operations, persona) and generates the built-in
tasks (no disk); :func:`text_coverage` reads only the instructions, so it measures any task folder
(the authors' released tasks, whose metadata has none of our taxonomy keys) the same way."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from clawgym_env.synth.dedup import near_duplicate_rate
from clawgym_env.synth.diversity import diversity
from clawgym_env.synth.taxonomy import OPERATIONS, SCENARIOS, SUBCATEGORIES


def text_coverage(texts: Iterable[str]) -> dict[str, Any]:
    """Figures over instructions alone: lengths, distinct 4-grams, near-duplicates, ``diversity``."""
    texts = list(texts)
    lengths = [len(q) for q in texts] or [0]
    grams: Counter[tuple[str, ...]] = Counter()
    for q in texts:
        words = re.findall(r"\w+", q.lower())
        grams.update(tuple(words[k:k + 4]) for k in range(len(words) - 3))
    dup_rate, pairs = near_duplicate_rate(texts)
    qs = statistics.quantiles(lengths, n=10) if len(lengths) > 1 else [lengths[0]] * 9
    return {
        "tasks": len(texts),
        "instruction_chars": {"min": min(lengths), "p10": qs[0], "median": statistics.median(lengths), "p90": qs[-1],
                              "max": max(lengths), "mean": statistics.fmean(lengths)},
        "distinct_4gram_ratio": len(grams) / max(1, sum(grams.values())),
        "distinct_texts": len(set(texts)),
        "near_duplicate_rate": dup_rate,
        "near_duplicate_pairs": len(pairs),
        "diversity": diversity(texts),
    }


def coverage(n: int, load: Callable[[int], Any], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Coverage figures over tasks ``load(0) .. load(n-1)`` (tasks with our taxonomy metadata)."""
    cats: Counter[str] = Counter()
    subs: Counter[str] = Counter()
    ops: Counter[str] = Counter()
    personas: set[int] = set()
    texts: list[str] = []
    chain_lengths: Counter[int] = Counter()
    difficulty: Counter[int] = Counter()
    work: dict[int, list[tuple[int, int, int, int]]] = {}
    for i in range(n):
        task = load(i)
        meta = task.metadata
        cats[meta["category"]] += 1
        subs[meta["subcategory"]] += 1
        ops.update(meta["operations"])
        chain_lengths[len(meta["operations"])] += 1
        difficulty[meta["difficulty"]] += 1
        work.setdefault(meta["difficulty"], []).append(
            (len(meta["operations"]), len(task.oracle or ()), len(task.input_files), len(task.user_query)))
        personas.add(meta["persona_index"])
        texts.append(task.user_query)
        if progress:
            progress(i)
    return {
        "tasks": n,
        "categories": dict(cats), "categories_missing": [c for c in SCENARIOS if c not in cats],
        "subcategories": dict(subs), "subcategories_missing": [s for _, s in SUBCATEGORIES if s not in subs],
        "operations": dict(ops), "operations_missing": [o for o in OPERATIONS if o not in ops],
        "chain_lengths": dict(sorted(chain_lengths.items())), "difficulty": dict(sorted(difficulty.items())),
        "by_difficulty": {d: _work_profile(rows) for d, rows in sorted(work.items())},
        "personas": len(personas),
        **{k: v for k, v in text_coverage(texts).items() if k != "tasks"},
    }


def _work_profile(rows: list[tuple[int, int, int, int]]) -> dict[str, float]:
    """What a difficulty level asks for, as medians: steps, oracle calls, input files, instruction chars.
    (Difficulty is the generator's label; measured pass rates come from ``clawgym calibrate``.)"""
    steps, calls, files, chars = zip(*rows)
    return {"tasks": len(rows), "steps": statistics.median(steps), "oracle_calls": statistics.median(calls),
            "oracle_calls_p90": statistics.quantiles(calls, n=10)[-1] if len(calls) > 1 else calls[0],
            "input_files": statistics.median(files), "instruction_chars": statistics.median(chars)}


DIVERSITY_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
    ("tasks", lambda c: f"{c['tasks']:,}"),
    ("sentences (>= 3 plain words)", lambda c: f"{c['diversity']['sentences']:,}"),
    ("distinct sentence skeletons", lambda c: f"{c['diversity']['distinct_skeletons']:,}"),
    ("sentences with a unique skeleton", lambda c: f"{c['diversity']['unique_skeleton_share']:.1%}"),
    ("sentences reusing a skeleton", lambda c: f"{c['diversity']['reused_skeleton_share']:.1%}"),
    ("distinct openings (first 6 words)", lambda c: f"{c['diversity']['distinct_openings']:,} "
                                                    f"({c['diversity']['distinct_opening_share']:.1%})"),
    ("zlib ratio, each instruction alone", lambda c: f"{c['diversity']['zlib_ratio_alone']:.3f}"),
    ("zlib ratio, all concatenated", lambda c: f"{c['diversity']['zlib_ratio_corpus']:.3f}"),
    ("literal spans / instruction (median)", lambda c: f"{c['diversity']['literal_spans_median']:g}"),
    ("  backticked / quoted / paths / identifiers", lambda c: " / ".join(
        f"{c['diversity']['literal_spans_median_by_kind'][k]:g}" for k in ("code", "q", "path", "id"))),
    ("instruction chars (median)", lambda c: f"{c['diversity']['chars_median']:,.0f}"),
    ("instruction chars (p10 - p90)", lambda c: f"{c['diversity']['chars_p10']:,.0f} - {c['diversity']['chars_p90']:,.0f}"),
    ("instruction words (median)", lambda c: f"{c['diversity']['words_median']:,.0f}"),
    ("distinct 4-gram ratio", lambda c: f"{c['distinct_4gram_ratio']:.4f}"),
    ("near-duplicate rate", lambda c: f"{c['near_duplicate_rate']:.2%}"),
)
"""The rows of :func:`diversity_table`: a label and how to print a column's figure."""


def diversity_table(columns: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per :data:`DIVERSITY_ROWS`, one column per ``text_coverage`` result."""
    rows = [["", *columns]] + [[label, *(fmt(c) for c in columns.values())] for label, fmt in DIVERSITY_ROWS]
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return "\n".join("  ".join([r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])]).rstrip()
                     for r in rows)


__all__ = ["DIVERSITY_ROWS", "coverage", "diversity_table", "text_coverage"]
