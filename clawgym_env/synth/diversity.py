"""How varied a set of instructions reads, from the text alone (nothing is generated or run).

A template-driven suite can score well on n-gram and near-duplicate figures (every task names other
files, columns and numbers) while every sentence is the same sentence with other values. These
figures strip the values first and look at what is left:

- **sentence skeletons**: each sentence with its literals (numbers, quoted and backticked spans, file
  paths, snake_case / camelCase identifiers, capitalized names, e-mail addresses, URLs) replaced by
  placeholders, a list of like placeholders folded into one, lowercased, whitespace collapsed; the
  share of sentences whose skeleton occurs only once and the share whose skeleton occurs again;
- **openings**: the first :data:`OPENING_WORDS` words of an instruction's skeleton;
- **compressibility** (lower: more repetitive): zlib compressed size / raw size, of each instruction alone (repetition
  inside it) and of all of them concatenated in a seeded shuffled order (repetition across them:
  zlib's 32 KB window codes each instruction against the ~10-20 before it, so the figure does not
  drift with the number of tasks, as an lzma ratio would);
- **literal spans** per instruction: what an agent is told verbatim (paths, quoted and backticked
  spans, identifiers, URLs, e-mails; numbers and names not counted).

Skeletons and openings are counted over the whole set (a sentence repeated inside one instruction
counts as reuse too). Stdlib only; a few seconds for the authors' 2,000 instructions (6 MB).
"""

from __future__ import annotations

import random
import re
import statistics
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

OPENING_WORDS = 6
"""Words (placeholders count as words, punctuation does not) that make an instruction's opening."""
MIN_SENTENCE_WORDS = 3
"""A line fragment with fewer plain words than this (a heading, a bare list item such as
``- input/a.csv``) is not counted as a sentence: it has no phrasing to reuse."""

LITERAL_KINDS = ("code", "q", "url", "email", "path", "id")
"""Placeholders that stand for text an agent is given verbatim (counted as literal spans)."""

_QUOTES = (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'))
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_BULLET = re.compile(r"^[ \t]*(?:[-*\u2022+>]|#+|\d+[.)]|\(?[a-zA-Z]\))[ \t]+", re.MULTILINE)
# Order matters: a span masked earlier is not looked at again (a path inside backticks is one <code>).
_MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("code", re.compile(r"`[^`\n]+`")),
    ("url", re.compile(r"\b(?:https?|ftp)://[^\s<>\"')]+|\bwww\.[^\s<>\"')]+")),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("q", re.compile(r"\"[^\"\n]{1,200}\"|(?<!\w)'[^'\n]{1,120}'(?!\w)")),
    # any token with a slash; kept as a path only if _IS_PATH says so (and/or, A/B, 1/2 stay)
    ("path", re.compile(r"(?<![\w<])[\w.*~/-]*/[\w.*~/-]*")),
    # bare file names: name.ext (name of 2+ chars so "e.g." and "i.e." stay words)
    ("path", re.compile(r"(?<![\w<])[\w-]{2,}(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,5}\b(?!\.\w)")),
    ("id", re.compile(r"\b[A-Za-z]\w*_\w+\b|\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")),
    ("n", re.compile(r"(?<![A-Za-z<])[-+]?[$\u20ac\u00a3]?\d+(?:[.,:/-]\d+)*(?:st|nd|rd|th|%|[kKmM]\b)?")),
)
_IS_PATH = re.compile(r"\w\.[A-Za-z][A-Za-z0-9]{0,5}$|\w/$|^(?:~|\.{1,2})?/[\w.]")
"""A slashed token that is a path: a file name with an extension, a folder with a trailing slash, or
a path from the root, home or the current folder."""
_NAME_RUN = re.compile(r"(?<![\w<'-])[A-Z][\w'-]*(?:[ \t]+(?!I(?:'[a-z]+)?\b)[A-Z][\w'-]*)*")
_KEEP_CAPS = {"I", "I'm", "I've", "I'd", "I'll"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])")
_LIST = re.compile(r"<(\w+)>(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+|\s*/\s*)<\1>)+")
_WORD = re.compile(r"<\w+>|[a-z]+(?:'[a-z]+)?")
_PLAIN_WORD = re.compile(r"(?<![<\w])[a-z]+(?:'[a-z]+)?")


def _mask(text: str, kinds: Counter[str] | None = None) -> str:
    """``text`` with every literal replaced by ``<kind>``; ``kinds`` counts them. No pattern crosses
    a line."""
    for kind, pattern in _MASKS:
        def sub(m: re.Match[str], kind: str = kind) -> str:
            span, tail = m.group(0), ""
            if kind == "path" and "/" in span:
                core = span.rstrip(".")  # a sentence's full stop
                if not _IS_PATH.search(core):
                    return span
                tail = span[len(core):]
            if kinds is not None:
                kinds[kind] += 1
            return f"<{kind}>{tail}"
        text = pattern.sub(sub, text)
    return text


def _names(sentence: str) -> str:
    """Capitalized words that do not open the sentence become ``<name>`` (a run of them, one)."""
    first = re.match(r"\s*(?:<\w+>\W*)*[\w'-]+", sentence)
    start = first.end() if first else 0

    def sub(m: re.Match[str]) -> str:
        if m.start() < start and m.end() <= start:
            return m.group(0)
        if m.start() < start:  # the opening word keeps its place; the capitalized words after it are a name
            head, _, tail = m.group(0).partition(" ")
            return f"{head} <name>" if tail else head
        return m.group(0) if m.group(0) in _KEEP_CAPS else "<name>"

    return _NAME_RUN.sub(sub, sentence)


def _finish(sentence: str) -> str:
    return _LIST.sub(r"<\1>", " ".join(sentence.lower().split()))


def sentences(text: str, kinds: Counter[str] | None = None) -> list[str]:
    """The skeletons of every line fragment of ``text``, in order (short fragments included)."""
    for curly, plain in _QUOTES:
        text = text.replace(curly, plain)
    text = _mask(_BULLET.sub("", _FENCE.sub(" <code> ", text)), kinds)
    out: list[str] = []
    for line in text.splitlines():
        for part in _SENTENCE_END.split(line):
            part = _finish(_names(part.strip()))
            if part:
                out.append(part)
    return out


def skeleton(sentence: str) -> str:
    """One sentence's skeleton: two sentences that differ only in their values share it."""
    return " ".join(sentences(sentence))


def is_sentence(skel: str) -> bool:
    """A skeleton with enough plain words to count as a sentence (see :data:`MIN_SENTENCE_WORDS`)."""
    return len(_PLAIN_WORD.findall(skel)) >= MIN_SENTENCE_WORDS


def opening(text: str, words: int = OPENING_WORDS) -> str:
    """The first ``words`` words of ``text``'s skeleton (placeholders count as words)."""
    return _opening(sentences(text), words)


def _opening(skeletons: list[str], words: int = OPENING_WORDS) -> str:
    found: list[str] = []
    for s in skeletons:
        found.extend(_WORD.findall(s))
        if len(found) >= words:
            break
    return " ".join(found[:words])


def literal_spans(text: str) -> int:
    """How many literal spans (:data:`LITERAL_KINDS`) ``text`` carries."""
    kinds: Counter[str] = Counter()
    sentences(text, kinds)
    return sum(kinds[k] for k in LITERAL_KINDS)


def _ratio(data: bytes) -> float:
    return len(zlib.compress(data, 9)) / max(1, len(data))


def _quantile(values: list[int], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def diversity(texts: Iterable[str], *, seed: int = 0) -> dict[str, Any]:
    """Text-diversity figures over instructions ``texts`` (see the module docstring)."""
    texts = list(texts)
    skeletons: list[str] = []
    openings: Counter[str] = Counter()
    per_task: list[Counter[str]] = []
    for t in texts:
        kinds: Counter[str] = Counter()
        skels = sentences(t, kinds)
        openings[_opening(skels)] += 1
        skeletons.extend(s for s in skels if is_sentence(s))
        per_task.append(kinds)
    counts = Counter(skeletons)
    reused = sum(c for c in counts.values() if c > 1)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    raw = [t.encode() for t in texts]
    n, total = len(texts), len(skeletons)

    def median(values: Iterable[float]) -> float:
        values = list(values)
        return statistics.median(values) if values else 0.0

    return {
        "tasks": n,
        "sentences": total,
        "distinct_skeletons": len(counts),
        "skeletons_reused": sum(1 for c in counts.values() if c > 1),
        "unique_skeleton_share": (total - reused) / total if total else 0.0,
        "reused_skeleton_share": reused / total if total else 0.0,
        "distinct_openings": len(openings),
        "distinct_opening_share": len(openings) / n if n else 0.0,
        "top_opening": list(openings.most_common(1)[0]) if openings else ["", 0],
        "zlib_ratio_alone": statistics.fmean(_ratio(r) for r in raw) if raw else 0.0,
        "zlib_ratio_corpus": _ratio(b"\n\n".join(raw[i] for i in order)),
        "literal_spans_median": median(sum(k[x] for x in LITERAL_KINDS) for k in per_task),
        "literal_spans_median_by_kind": {x: median(k[x] for k in per_task) for x in LITERAL_KINDS},
        "chars_median": median(len(t) for t in texts),
        "chars_p10": _quantile([len(t) for t in texts], 0.1),
        "chars_p90": _quantile([len(t) for t in texts], 0.9),
        "words_median": median(len(t.split()) for t in texts),
    }


__all__ = ["LITERAL_KINDS", "MIN_SENTENCE_WORDS", "OPENING_WORDS", "diversity", "is_sentence", "literal_spans",
           "opening", "sentences", "skeleton"]
