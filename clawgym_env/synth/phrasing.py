"""Small helpers for varied, natural task text."""

from __future__ import annotations

import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """One of several phrasings (the RNG keeps it deterministic per task)."""
    return options[rng.randrange(len(options))]


def join_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
