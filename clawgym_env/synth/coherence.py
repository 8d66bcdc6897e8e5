"""Is a chain's result meaningful? The judgement a domain expert makes on a generated task.

A chain can be valid (every step consumes what the previous one wrote) and still be nonsense: a
summary by a column that has one value, a "top 5" of one row, a total of pH readings or of counts,
a lookup joined on a status. :func:`meaningless` lists such faults from what each step chose
(``OpStep.params``) and the table it read; the column predicates here are what the table operations
consult under builtin-v2 to choose something meaningful instead (or raise
:class:`~clawgym_env.synth.ops.base.Meaningless`). Pure and fast: no disk, no RNG.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from clawgym_env.synth.artifacts import Table, cell

_ID_LIKE = re.compile(r"(^|_)(id|ids|code|no|num|number|ref|sku|zip|postcode|phone|line|lineno|year|month|day|week|"
                      r"quarter|rank|position|index|version|port|pid)$")
"""Numbers that label a record (identifiers, codes, calendar parts, ranks): never totalled or ranked on."""

_NOT_ADDITIVE = re.compile(r"(^|_)(pct|percent|percentage|ratio|rate|ph|score|mean|average|avg|median|share|weight|"
                           r"limit|count|rating|grade)$")
"""Levels, ratios and per-group figures: an average of them can mean something, a sum cannot (a total
pH, a total of percentages, a total of means, a total of the counts an earlier summary produced)."""

_STATE_LIKE = re.compile(r"(^|_)(status|state|priority|level|phase|stage|severity|outcome|result|channel|method|"
                         r"type|kind|category|track|subject|area|species|flag|matched|over_limit|timestamp|date)$")
"""Attributes of a record, not things a lookup can describe: a join on one identifies nothing."""


def identifier_like(table: Table, col: str) -> bool:
    """A column that labels records (the key, an id, a code, a year or a rank)."""
    return col == table.key or bool(_ID_LIKE.search(col.lower()))


def numbers(table: Table, col: str) -> list[float]:
    """The column's values as floats (non-numbers skipped)."""
    out: list[float] = []
    for r in table.rows:
        v = r.get(col)
        if isinstance(v, bool) or v is None:
            continue
        try:
            out.append(float(v))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return out


def rankable(table: Table, col: str) -> bool:
    """A measured number (not a label) that varies across the rows."""
    return (col in table.columns and not identifier_like(table, col)
            and len(set(numbers(table, col))) > 1 and len(numbers(table, col)) == len(table.rows))


def summable(table: Table, col: str) -> bool:
    """A measured quantity whose total means something (money, hours, items; not a level or a count of groups)."""
    return (col in table.columns and not identifier_like(table, col) and not _NOT_ADDITIVE.search(col.lower())
            and len(numbers(table, col)) == len(table.rows))


def groups(table: Table, col: str) -> int:
    return len({cell(r.get(col)) for r in table.rows})


def groupable(table: Table, col: str) -> bool:
    """A grouping that summarises: at least two groups, and at least one group of several rows."""
    return col in table.columns and 1 < groups(table, col) < len(table.rows)


def mean_cut(table: Table, col: str) -> int:
    """How many rows lie strictly above the column's mean (builtin-v2's filter)."""
    vals = numbers(table, col)
    if not vals:
        return 0
    mean = sum(vals) / len(vals)
    return sum(1 for v in vals if v > mean)


def joinable(table: Table, col: str) -> bool:
    """A column a lookup can be keyed on: the record key (one entry per record) or an entity that records
    share (a vendor, a site, a carrier), never an attribute such as a status, a date or a number."""
    vals = [cell(r.get(col)) for r in table.rows]
    if col not in table.columns or not vals or "" in vals or col in table.numeric:
        return False
    if col == table.key:
        return len(set(vals)) == len(vals)
    if _STATE_LIKE.search(col.lower()) or _ID_LIKE.search(col.lower()):
        return False
    return len(set(vals)) > 1


def _norm(v: Any) -> str:
    return " ".join(cell(v).split()).lower()


def meaningless(steps: Sequence[Any]) -> list[str]:
    """Reasons a synthesized chain's results are meaningless, each ``"<reason>: <detail>"`` (empty:
    none found). ``steps`` are :class:`~clawgym_env.synth.ops.base.OpStep`; a step is judged from its
    ``params`` and the table the previous step handed it."""
    found: list[str] = []
    for i, step in enumerate(steps):
        p: dict[str, Any] = getattr(step, "params", None) or {}
        src = steps[i - 1].artifact if i else None
        if not p or not isinstance(src, Table):
            continue
        op = step.op
        group = p.get("group")
        if group:
            n = groups(src, group)
            if n <= 1:
                found.append(f"single_group: {op} groups by `{group}`, which has one value")
            elif n >= len(src.rows):
                found.append(f"group_per_row: {op} groups by `{group}`, one row per group")
        for col in p.get("summed", ()):
            if identifier_like(src, col):
                found.append(f"total_of_identifier: {op} totals `{col}`, which labels records")
            elif not summable(src, col):
                found.append(f"total_not_additive: {op} totals `{col}`, whose sum means nothing")
        for col in p.get("ranked", ()):
            if not rankable(src, col):
                found.append(f"rank_by_label: {op} filters or ranks on `{col}`, a label or a constant")
        if "kept" in p:
            kept = p["kept"]
            if kept == 0:
                found.append(f"filter_keeps_none: {op} keeps no row")
            elif kept >= len(src.rows):
                found.append(f"filter_keeps_all: {op} keeps every row")
            elif p.get("shown", kept) <= 1:
                found.append(f"rank_of_one: {op} ranks a single row")
        on = p.get("on")
        if on:
            if not joinable(src, on):
                found.append(f"join_not_identifying: {op} joins on `{on}`, which identifies nothing")
            keys = [_norm(k) for k in p.get("lookup_keys", ())]
            if len(set(keys)) < len(keys):
                found.append(f"join_key_not_unique: {op}'s lookup repeats a `{on}` value")
    return found


def reason_counts(reasons: Sequence[str]) -> dict[str, int]:
    """``{"single_group": 3, ...}`` over reasons from :func:`meaningless`."""
    out: dict[str, int] = {}
    for r in reasons:
        code = r.split(":", 1)[0]
        out[code] = out.get(code, 0) + 1
    return out
