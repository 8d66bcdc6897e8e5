"""Coverage of a synthesized suite: taxonomy, personas, instruction lengths, n-gram diversity,
near-duplicates. Everything is computed by generating the tasks (no disk)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Any, Callable

from clawgym_env.synth.dedup import near_duplicate_rate
from clawgym_env.synth.taxonomy import OPERATIONS, SCENARIOS, SUBCATEGORIES


def coverage(n: int, load: Callable[[int], Any], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Coverage figures over tasks ``load(0) .. load(n-1)``."""
    cats: Counter[str] = Counter()
    subs: Counter[str] = Counter()
    ops: Counter[str] = Counter()
    personas: set[int] = set()
    lengths: list[int] = []
    texts: list[str] = []
    grams: Counter[tuple[str, ...]] = Counter()
    chain_lengths: Counter[int] = Counter()
    difficulty: Counter[int] = Counter()
    for i in range(n):
        task = load(i)
        meta = task.metadata
        cats[meta["category"]] += 1
        subs[meta["subcategory"]] += 1
        ops.update(meta["operations"])
        chain_lengths[len(meta["operations"])] += 1
        difficulty[meta["difficulty"]] += 1
        personas.add(meta["persona_index"])
        q = task.user_query
        texts.append(q)
        lengths.append(len(q))
        words = re.findall(r"\w+", q.lower())
        grams.update(tuple(words[k:k + 4]) for k in range(len(words) - 3))
        if progress:
            progress(i)
    dup_rate, pairs = near_duplicate_rate(texts)
    qs = statistics.quantiles(lengths, n=10)
    return {
        "tasks": n,
        "categories": dict(cats), "categories_missing": [c for c in SCENARIOS if c not in cats],
        "subcategories": dict(subs), "subcategories_missing": [s for _, s in SUBCATEGORIES if s not in subs],
        "operations": dict(ops), "operations_missing": [o for o in OPERATIONS if o not in ops],
        "chain_lengths": dict(sorted(chain_lengths.items())), "difficulty": dict(sorted(difficulty.items())),
        "personas": len(personas),
        "instruction_chars": {"min": min(lengths), "p10": qs[0], "median": statistics.median(lengths), "p90": qs[-1],
                              "max": max(lengths), "mean": statistics.fmean(lengths)},
        "distinct_4gram_ratio": len(grams) / max(1, sum(grams.values())),
        "distinct_texts": len(set(texts)),
        "near_duplicate_rate": dup_rate,
        "near_duplicate_pairs": len(pairs),
    }
