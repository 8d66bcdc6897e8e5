"""Small helpers for varied, natural task text.

builtin-v1 picks one of two to four whole sentences (:func:`pick`), so its sentences reuse a few
hundred skeletons. builtin-v2 writes each sentence as a small grammar (:func:`say`): every
``[a|b|c]`` group is one independent choice, so a sentence with five groups of four has ~1,000
wordings, and two tasks rarely share one.
"""

from __future__ import annotations

import random
import re
from typing import Any, Sequence, TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """One of several phrasings (the RNG keeps it deterministic per task)."""
    return options[rng.randrange(len(options))]


def join_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_CODE = re.compile(r"(`[^`\n]*`)")
"""A backticked span (captured, so ``split`` keeps it: odd parts are code, even parts are text)."""
_GROUP = re.compile(r"\[([^\[\]]*)\]")


class GrammarError(ValueError):
    """A template whose brackets do not pair up."""


def expand(rng: random.Random, template: str) -> str:
    """``template`` with every ``[a|b|c]`` group replaced by one of its options, innermost first.

    ``[|x]`` makes ``x`` optional. A bracket group with no ``|`` and anything inside backticks is
    kept as written (a JSON shape such as ```[{"id": 1}]``` stays literal).
    """
    parts = _CODE.split(template)
    return "".join(p if k % 2 else _expand_plain(rng, p, template) for k, p in enumerate(parts))


def _expand_plain(rng: random.Random, text: str, template: str) -> str:
    held: list[str] = []  # literal [x] groups, parked so the loop ends

    def one(m: re.Match[str]) -> str:
        body = m.group(1)
        if "|" not in body:
            held.append(m.group(0))
            return f"\x00{len(held) - 1}\x00"
        return pick(rng, body.split("|"))

    while True:
        new = _GROUP.sub(one, text)
        if new == text:
            break
        text = new
    if "[" in text or "]" in text:
        raise GrammarError(f"unbalanced brackets in phrasing template: {template!r}")
    return re.sub(r"\x00(\d+)\x00", lambda m: held[int(m.group(1))], text)


_SPACE_BEFORE_MARK = re.compile(r" +(?=[,.;:)])")
_SENTENCE_INSIDE = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)([.!?] )([a-z])")


def say(rng: random.Random, template: str, *, capitalize: bool = True, **values: Any) -> str:
    """One wording of ``template`` (see :func:`expand`), then ``{name}`` filled from ``values``.

    Values are filled after the choice, so a value holding ``[`` or ``|`` is never read as grammar.
    Outside backticked spans the text is tidied: double spaces and a space an empty option leaves
    before punctuation go, and a sentence that a choice started inside the text (``[. |; ]``) gets
    its capital, so one grammar may write one sentence or two. The first letter is capitalized
    unless ``capitalize`` is False (a piece of a sentence).
    builtin-v2 operations call it through :meth:`~clawgym_env.synth.ops.OpContext.say` and
    :meth:`~clawgym_env.synth.ops.OpContext.clause`, whose RNG is apart from the data's: rewording
    a sentence never changes a task's files or checks.
    """
    text = expand(rng, template).format(**values) if values else expand(rng, template)
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        plain = re.sub(r"(?<=\S) {2,}(?=\S)", " ", parts[i])
        plain = _SPACE_BEFORE_MARK.sub("", plain)
        parts[i] = _SENTENCE_INSIDE.sub(lambda m: m.group(1) + m.group(2).upper(), plain)
    text = "".join(parts).strip()
    return text[:1].upper() + text[1:] if capitalize else text


__all__ = ["GrammarError", "expand", "join_list", "pick", "say"]
