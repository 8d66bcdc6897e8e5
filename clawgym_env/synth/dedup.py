"""Near-duplicate instructions: MinHash over word shingles, LSH to find candidates, exact Jaccard
to confirm.

The authors filter near-duplicates with sentence embeddings (cosine >= 0.90, stage 3 of
persona2task); an embedding model cannot be downloaded here, so we use MinHash on word 3-shingles,
which catches the same failure (two tasks that say the same thing) without a model.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from typing import Iterable

import numpy as np

NUM_PERM = 64
BANDS = 16  # 16 bands x 4 rows: pairs with Jaccard >= ~0.6 become candidates with high probability
THRESHOLD = 0.8
"""Jaccard similarity of word 3-shingle sets at or above which two instructions are near-duplicates."""
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20260421)
_A = _rng.integers(1, 1 << 31, size=NUM_PERM, dtype=np.uint64)  # a*x < 2**63 for 32-bit x: no overflow
_B = _rng.integers(0, _PRIME, size=NUM_PERM, dtype=np.uint64)
_WORD = re.compile(r"[a-z0-9]+")


def shingles(text: str, k: int = 3) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i:i + k]) for i in range(max(1, len(words) - k + 1))}


def _signature(sh: set[str]) -> np.ndarray:
    hashes = np.fromiter((zlib.crc32(s.encode()) for s in sh), dtype=np.uint64, count=len(sh))
    # (a*x + b) mod p: one universal hash per permutation, vectorised over all shingles (crc32, not
    # hash(), so signatures are the same in every process)
    return ((np.outer(_A, hashes) + _B[:, None]) % _PRIME).min(axis=1)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicates(texts: Iterable[str], threshold: float = THRESHOLD) -> list[tuple[int, int, float]]:
    """All pairs (i, j, similarity) with shingle Jaccard >= threshold."""
    sets = [shingles(t) for t in texts]
    rows = NUM_PERM // BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, sh in enumerate(sets):
        sig = _signature(sh)
        for band in range(BANDS):
            buckets[(band, sig[band * rows:(band + 1) * rows].tobytes())].append(i)
    seen: set[tuple[int, int]] = set()
    pairs = []
    for members in buckets.values():
        if len(members) < 2:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pair = (members[x], members[y])
                if pair in seen:
                    continue
                seen.add(pair)
                sim = jaccard(sets[pair[0]], sets[pair[1]])
                if sim >= threshold:
                    pairs.append((pair[0], pair[1], sim))
    return sorted(pairs)


def near_duplicate_rate(texts: list[str], threshold: float = THRESHOLD) -> tuple[float, list[tuple[int, int, float]]]:
    """Fraction of texts that have a near-duplicate earlier in the list, and the pairs."""
    pairs = near_duplicates(texts, threshold)
    dup = {j for _, j, _ in pairs}
    return (len(dup) / len(texts) if texts else 0.0), pairs
