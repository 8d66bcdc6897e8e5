"""Development and execution operations: run a script, read code, fix a bug, run tests, read logs.

All five start a chain: each writes a tiny, realistic project (stdlib Python 3 only, so it runs in the
sandbox) or a log file into the workspace. Expected results are computed here by mirroring what the
code does, never by running it, so building a task stays in memory and takes about a millisecond; the
quality gate then proves the mirror right by running the oracle (which does execute the code).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Row, Table, Text, cell, serialize
from clawgym_env.synth.datagen import PEOPLE, make_table
from clawgym_env.synth.ops.base import TABLE_MUTATIONS, OpContext, OpStep, OutputSpec, exec_call, write_call
from clawgym_env.synth.phrasing import join_list, pick

# ================================================================ a small bank of real modules
# Six self-contained utility modules, each with a correct implementation, one realistic bug (a
# snippet of the correct code and its broken replacement) and unit tests whose data come from the
# RNG. fix_bug plants the bug; run_tests plants bugs and unfinished stubs; inspect_code reads them.


@dataclass(frozen=True)
class _Func:
    name: str
    params: str
    doc: str
    body: str
    """Body lines, each indented by four spaces."""
    todo: str
    """What a developer would leave as a TODO/FIXME in this function."""
    calls: tuple[str, ...] = ()
    """Other functions of the module it calls (a stub there makes its tests error too)."""

    @property
    def param_count(self) -> int:
        return len([p for p in self.params.split(",") if p.strip()])


@dataclass(frozen=True)
class _Case:
    name: str
    lines: tuple[str, ...]
    uses: tuple[str, ...]
    catches_bug: bool
    """Whether this test fails while the module's bug is present."""


@dataclass(frozen=True)
class _Module:
    name: str
    doc: str
    imports: tuple[str, ...]
    funcs: tuple[_Func, ...]
    bug_func: str
    fixed: str
    """A snippet of the correct code (unique in the file) ..."""
    broken: str
    """... and what the bug looks like instead (unique in the broken file)."""
    symptom: str
    """A user-facing bug report that does not name the function."""
    cause: str
    test_class: str
    cases: Callable[[random.Random], list[_Case]]


def _pricing_cases(rng: random.Random) -> list[_Case]:
    price = rng.choice((80, 120, 45.5, 249.99, 19.9, 64, 310, 72.4))
    pct = rng.choice((10, 15, 20, 25, 30, 40))
    rate = rng.choice((0.07, 0.1, 0.2, 0.21))
    qty = rng.randint(2, 9)
    disc = round(price * (100 - pct) / 100, 2)
    return [
        _Case("test_apply_discount", (f"self.assertAlmostEqual(apply_discount({price!r}, {pct}), {disc!r}, places=2)",),
              ("apply_discount",), True),
        _Case("test_zero_discount_keeps_price",
              (f"self.assertAlmostEqual(apply_discount({price!r}, 0), {price!r}, places=2)",), ("apply_discount",), True),
        _Case("test_discount_above_100_rejected", ("with self.assertRaises(ValueError):", f"    apply_discount({price!r}, 120)"),
              ("apply_discount",), False),
        _Case("test_add_tax", (f"self.assertAlmostEqual(add_tax({price!r}, {rate!r}), {round(price * (1 + rate), 2)!r}, places=2)",),
              ("add_tax",), False),
        _Case("test_line_total",
              (f"self.assertAlmostEqual(line_total({price!r}, {qty}, {pct}), {round(disc * qty, 2)!r}, places=2)",),
              ("line_total",), True),
    ]


def _pagination_cases(rng: random.Random) -> list[_Case]:
    per = rng.choice((5, 8, 10, 12))
    n = rng.randint(23, 47)
    if n % per == 0:
        n += 1
    pages = math.ceil(n / per)
    idx = rng.randint(0, n - 1)
    items = f"items = list(range(1, {n + 1}))"
    return [
        _Case("test_page_count", (f"self.assertEqual(page_count({n}, {per}), {pages})",), ("page_count",), False),
        _Case("test_empty_list_has_one_page", (f"self.assertEqual(page_count(0, {per}), 1)",), ("page_count",), False),
        _Case("test_first_page", (items, f"self.assertEqual(paginate(items, 1, {per}), list(range(1, {per + 1})))"),
              ("paginate",), True),
        _Case("test_last_page_is_partial",
              (items, f"self.assertEqual(paginate(items, {pages}, {per}), list(range({(pages - 1) * per + 1}, {n + 1})))"),
              ("paginate",), True),
        _Case("test_page_zero_rejected", (items, "with self.assertRaises(ValueError):", f"    paginate(items, 0, {per})"),
              ("paginate",), False),
        _Case("test_page_of", (f"self.assertEqual(page_of({idx}, {per}), {idx // per + 1})",), ("page_of",), False),
    ]


def _inventory_cases(rng: random.Random) -> list[_Case]:
    level = rng.randint(10, 60)
    target = level * rng.choice((2, 3, 4))
    below = level - rng.randint(1, level - 1)
    above = level + rng.randint(1, 40)
    skus = [f"SKU-{n}" for n in rng.sample(range(1000, 9999), 3)]
    stock = {skus[0]: level, skus[1]: below, skus[2]: above}
    return [
        _Case("test_below_level_needs_reorder", (f"self.assertTrue(needs_reorder({below}, {level}))",), ("needs_reorder",), False),
        _Case("test_at_level_needs_reorder", (f"self.assertTrue(needs_reorder({level}, {level}))",), ("needs_reorder",), True),
        _Case("test_above_level_is_fine", (f"self.assertFalse(needs_reorder({above}, {level}))",), ("needs_reorder",), False),
        _Case("test_reorder_quantity_at_level",
              (f"self.assertEqual(reorder_quantity({level}, {level}, {target}), {target - level})",), ("reorder_quantity",), True),
        _Case("test_no_reorder_above_level", (f"self.assertEqual(reorder_quantity({above}, {level}, {target}), 0)",),
              ("reorder_quantity",), False),
        _Case("test_low_stock", (f"stock = {stock!r}", f"self.assertEqual(low_stock(stock, {level}), {sorted(skus[:2])!r})"),
              ("low_stock",), True),
    ]


def _durations_cases(rng: random.Random) -> list[_Case]:
    h, m = rng.randint(1, 3), rng.randint(5, 55)
    h2, m2 = rng.randint(1, 4), rng.randint(5, 55)
    total = rng.randint(61, 600)
    return [
        _Case("test_hours_and_minutes", (f"self.assertEqual(parse_duration({f'{h}h{m}m'!r}), {h * 60 + m})",),
              ("parse_duration",), True),
        _Case("test_minutes_only", (f"self.assertEqual(parse_duration({f'{m2}m'!r}), {m2})",), ("parse_duration",), True),
        _Case("test_rejects_garbage", ("with self.assertRaises(ValueError):", "    parse_duration('soon')"),
              ("parse_duration",), False),
        _Case("test_format_minutes", (f"self.assertEqual(format_minutes({total}), {f'{total // 60}h{total % 60:02d}m'!r})",),
              ("format_minutes",), False),
        _Case("test_total_minutes",
              (f"self.assertEqual(total_minutes([{f'{h2}h'!r}, {f'{m}m'!r}]), {h2 * 60 + m})",), ("total_minutes",), True),
    ]


def _contacts_cases(rng: random.Random) -> list[_Case]:
    first, last = rng.sample(PEOPLE, 2)
    dom = rng.choice(("example.org", "northwind.io", "acme-mail.com", "fieldwork.net"))
    low = first.lower().replace(" ", ".") + "@" + dom
    mixed = first.replace(" ", ".") + "@" + dom.split(".")[0].capitalize() + "." + dom.split(".")[1].upper()
    other = last.lower().replace(" ", ".") + "@" + dom
    contacts = [{"name": first, "email": low}, {"name": last, "email": other}, {"name": first + " (old)", "email": mixed}]
    padded = [{"name": first, "email": low}, {"name": first, "email": "  " + low + " "}]
    return [
        _Case("test_normalize_lowercases", (f"self.assertEqual(normalize_email({mixed!r}), {low!r})",), ("normalize_email",), False),
        _Case("test_normalize_trims_whitespace", (f"self.assertEqual(normalize_email({'  ' + low + ' '!r}), {low!r})",),
              ("normalize_email",), True),
        _Case("test_domain_of", (f"self.assertEqual(domain_of({mixed!r}), {dom!r})",), ("domain_of",), False),
        _Case("test_dedupe_keeps_first_spelling",
              (f"contacts = {contacts!r}", "self.assertEqual(dedupe_contacts(contacts), contacts[:2])"), ("dedupe_contacts",), False),
        _Case("test_dedupe_ignores_padding", (f"contacts = {padded!r}", "self.assertEqual(len(dedupe_contacts(contacts)), 1)"),
              ("dedupe_contacts",), True),
    ]


def _stats_cases(rng: random.Random) -> list[_Case]:
    odd = rng.sample(range(1, 100), 5)
    even = rng.sample(range(1, 100), rng.choice((4, 6)))
    s = sorted(even)
    med_even = (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    old = rng.randint(50, 400)
    new = old + rng.randint(-40, 120)
    return [
        _Case("test_mean", (f"self.assertAlmostEqual(mean({odd!r}), {sum(odd) / len(odd)!r}, places=4)",), ("mean",), False),
        _Case("test_mean_of_empty_list_raises", ("with self.assertRaises(ValueError):", "    mean([])"), ("mean",), False),
        _Case("test_median_odd_count", (f"self.assertEqual(median({odd!r}), {sorted(odd)[2]})",), ("median",), False),
        _Case("test_median_even_count", (f"self.assertEqual(median({even!r}), {med_even!r})",), ("median",), True),
        _Case("test_percent_change",
              (f"self.assertAlmostEqual(percent_change({old}, {new}), {round((new - old) / old * 100, 1)!r}, places=1)",),
              ("percent_change",), False),
    ]


MODULES: tuple[_Module, ...] = (
    _Module(
        "pricing", "Price calculations for quotes and invoices.", (),
        (
            _Func("apply_discount", "price, percent", "Price after a percentage discount, rounded to cents.",
                  "    if not 0 <= percent <= 100:\n"
                  "        raise ValueError(\"percent must be between 0 and 100\")\n"
                  "    return round(price * (100 - percent) / 100, 2)",
                  "support fixed-amount coupons as well as percentages"),
            _Func("add_tax", "price, rate", "Price including tax at ``rate`` (0.2 means 20 %), rounded to cents.",
                  "    return round(price * (1 + rate), 2)", "read the default tax rate from config"),
            _Func("line_total", "unit_price, quantity, percent=0", "Total of one invoice line: discounted unit price times quantity.",
                  "    return round(apply_discount(unit_price, percent) * quantity, 2)",
                  "confirm with finance whether to round per line or per invoice", ("apply_discount",)),
        ),
        "apply_discount", "price * (100 - percent) / 100", "price * percent / 100",
        "quotes come out far too cheap: a 20 % discount on a 100.00 item shows 20.00 instead of 80.00",
        "it returned the discount amount itself instead of the price left after the discount",
        "PricingTests", _pricing_cases),
    _Module(
        "pagination", "Split long result lists into pages for the listing screens.", ("import math",),
        (
            _Func("page_count", "total_items, per_page", "Number of pages needed for ``total_items`` (always at least 1).",
                  "    if per_page <= 0:\n"
                  "        raise ValueError(\"per_page must be positive\")\n"
                  "    return max(1, math.ceil(total_items / per_page))",
                  "cache the count for the admin listing"),
            _Func("paginate", "items, page, per_page", "The items shown on 1-based ``page``.",
                  "    if page < 1:\n"
                  "        raise ValueError(\"pages are numbered from 1\")\n"
                  "    start = (page - 1) * per_page\n"
                  "    return items[start:start + per_page]",
                  "return a Page object with has_next and has_prev"),
            _Func("page_of", "index, per_page", "1-based page that shows the item at 0-based ``index``.",
                  "    return index // per_page + 1", "validate negative indexes"),
        ),
        "paginate", "start = (page - 1) * per_page", "start = page * per_page",
        "the first page of every listing skips the first batch of results and the last page is always empty",
        "it computed the start offset from the page number as if pages were numbered from 0",
        "PaginationTests", _pagination_cases),
    _Module(
        "inventory", "Stock level helpers used by the nightly reorder job.", (),
        (
            _Func("needs_reorder", "on_hand, reorder_level", "True when stock is at or below the reorder level.",
                  "    return on_hand <= reorder_level", "support per-warehouse reorder levels"),
            _Func("reorder_quantity", "on_hand, reorder_level, target",
                  "Units to order to get back to ``target`` (0 when no reorder is needed).",
                  "    if not needs_reorder(on_hand, reorder_level):\n"
                  "        return 0\n"
                  "    return max(0, target - on_hand)",
                  "respect supplier minimum order quantities", ("needs_reorder",)),
            _Func("low_stock", "stock, reorder_level", "SKUs that need reordering, sorted.",
                  "    return sorted(sku for sku, qty in stock.items() if needs_reorder(qty, reorder_level))",
                  "include items with pending deliveries", ("needs_reorder",)),
        ),
        "needs_reorder", "on_hand <= reorder_level", "on_hand < reorder_level",
        "items whose stock is exactly at the reorder level never get reordered",
        "it compared with a strict less-than, so stock exactly at the reorder level was treated as fine",
        "InventoryTests", _inventory_cases),
    _Module(
        "durations", "Parse and format the durations people type into timesheets.", ("import re",),
        (
            _Func("parse_duration", "text", "Minutes in a duration such as '1h30m', '45m' or '2h'.",
                  "    cleaned = text.strip().lower()\n"
                  "    match = re.fullmatch(r\"(?:(\\d+)h)?(?:(\\d+)m)?\", cleaned)\n"
                  "    if not cleaned or match is None:\n"
                  "        raise ValueError(f\"not a duration: {text!r}\")\n"
                  "    hours, minutes = match.groups()\n"
                  "    return int(hours or 0) * 60 + int(minutes or 0)",
                  "accept decimal hours such as '1.5h'"),
            _Func("format_minutes", "total", "'1h05m' style text for a number of minutes.",
                  "    hours, minutes = divmod(total, 60)\n"
                  "    return f\"{hours}h{minutes:02d}m\"", "localize the unit suffixes"),
            _Func("total_minutes", "entries", "Sum of several duration strings, in minutes.",
                  "    return sum(parse_duration(entry) for entry in entries)", "skip blank entries instead of failing",
                  ("parse_duration",)),
        ),
        "parse_duration", "int(hours or 0) * 60 + int(minutes or 0)", "int(hours or 0) + int(minutes or 0) * 60",
        "a timesheet entry of '45m' is booked as 2700 minutes and '2h' as 2 minutes",
        "it multiplied the minutes by 60 instead of the hours",
        "DurationTests", _durations_cases),
    _Module(
        "contacts", "Clean up the contact list exported from the CRM.", (),
        (
            _Func("normalize_email", "address", "Trimmed, lower-case e-mail address, so duplicates compare equal.",
                  "    return address.strip().lower()", "drop '+tag' suffixes for mailboxes that ignore them"),
            _Func("domain_of", "address", "The part after the last '@', normalized.",
                  "    return normalize_email(address).rsplit(\"@\", 1)[1]", "handle addresses without an '@'",
                  ("normalize_email",)),
            _Func("dedupe_contacts", "contacts", "First contact for every distinct e-mail address, in input order.",
                  "    seen = set()\n"
                  "    unique = []\n"
                  "    for contact in contacts:\n"
                  "        key = normalize_email(contact[\"email\"])\n"
                  "        if key in seen:\n"
                  "            continue\n"
                  "        seen.add(key)\n"
                  "        unique.append(contact)\n"
                  "    return unique",
                  "merge phone numbers of duplicates instead of dropping them", ("normalize_email",)),
        ),
        "normalize_email", "address.strip().lower()", "address.lower()",
        "contacts pasted with a stray space around their address are not recognised as duplicates",
        "it lower-cased the address but no longer trimmed surrounding whitespace",
        "ContactTests", _contacts_cases),
    _Module(
        "stats", "Small statistics helpers for the weekly KPI sheet.", (),
        (
            _Func("mean", "values", "Arithmetic mean; ValueError for an empty list.",
                  "    if not values:\n"
                  "        raise ValueError(\"mean of an empty list\")\n"
                  "    return sum(values) / len(values)", "switch to statistics.fmean"),
            _Func("median", "values", "Middle value; the mean of the two middle values when the count is even.",
                  "    if not values:\n"
                  "        raise ValueError(\"median of an empty list\")\n"
                  "    ordered = sorted(values)\n"
                  "    mid = len(ordered) // 2\n"
                  "    if len(ordered) % 2:\n"
                  "        return ordered[mid]\n"
                  "    return (ordered[mid - 1] + ordered[mid]) / 2",
                  "accept any iterable, not only lists"),
            _Func("percent_change", "old, new", "Change from ``old`` to ``new`` in percent, rounded to 1 decimal.",
                  "    return round((new - old) / old * 100, 1)", "guard against old == 0"),
        ),
        "median", "(ordered[mid - 1] + ordered[mid]) / 2", "(ordered[mid] + ordered[mid + 1]) / 2",
        "the median of an even number of values is too high (for 1, 2, 3, 4 the sheet shows 3.5 instead of 2.5)",
        "for an even count it averaged the wrong pair of middle values (one position too far right)",
        "StatsTests", _stats_cases),
)


@dataclass
class _Rendered:
    text: str
    spans: dict[str, tuple[int, int]]
    """Function name -> (line of its def, line of its last body line), 1-based."""
    todos: list[tuple[int, str, str]]
    """(line, tag, text) of each TODO/FIXME comment."""


def _render_module(mod: _Module, *, stubs: tuple[str, ...] = (), todos: dict[str, str] | None = None) -> _Rendered:
    """The module's source (correct code); ``stubs`` become NotImplementedError, ``todos`` maps function -> tag."""
    lines = [f'"""{mod.doc}"""', ""]
    if mod.imports:
        lines += [*mod.imports]
    spans: dict[str, tuple[int, int]] = {}
    found: list[tuple[int, str, str]] = []
    for f in mod.funcs:
        lines += ["", ""] if mod.imports or f is not mod.funcs[0] else [""]
        start = len(lines) + 1
        lines += [f"def {f.name}({f.params}):", f'    """{f.doc}"""']
        if todos and f.name in todos:
            lines.append(f"    # {todos[f.name]}: {f.todo}")
            found.append((len(lines), todos[f.name], f.todo))
        if f.name in stubs:
            lines.append(f'    raise NotImplementedError("{f.name} is planned for the next release")')
        else:
            lines += f.body.split("\n")
        spans[f.name] = (start, len(lines))
    return _Rendered("\n".join(lines) + "\n", spans, found)


def _break(text: str, mod: _Module) -> str:
    assert text.count(mod.fixed) == 1, mod.name
    broken = text.replace(mod.fixed, mod.broken)
    assert broken.count(mod.broken) == 1, mod.name
    return broken


def _render_tests(mod: _Module, cases: list[_Case], skips: dict[str, str] | None = None) -> str:
    names = sorted({u for c in cases for u in c.uses})
    lines = [f'"""Unit tests for {mod.name}.py."""', "", "import unittest", "", f"from {mod.name} import {', '.join(names)}",
             "", "", f"class {mod.test_class}(unittest.TestCase):"]
    for i, c in enumerate(cases):
        if i:
            lines.append("")
        if skips and c.name in skips:
            lines.append(f"    @unittest.skip({skips[c.name]!r})")
        lines.append(f"    def {c.name}(self):")
        lines += ["        " + ln for ln in c.lines]
    lines += ["", "", 'if __name__ == "__main__":', "    unittest.main()"]
    return "\n".join(lines) + "\n"


def _closure(mod: _Module, names: tuple[str, ...]) -> set[str]:
    """The functions a test reaches through the module's own calls."""
    by_name = {f.name: f for f in mod.funcs}
    todo, seen = list(names), set()
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(by_name[n].calls)
    return seen


TESTS_INIT = '"""Unit tests for the project (run with: python3 -m unittest)."""\n'

# The verifier's "test files untouched" check: every (path, sha256) pair must match.
_SAME_FILES_SRC = (
    "import hashlib, sys\n"
    "args = sys.argv[1:]\n"
    "def digest(p):\n"
    "    with open(p, 'rb') as fh:\n"
    "        return hashlib.sha256(fh.read().replace(b'\\r\\n', b'\\n').rstrip()).hexdigest()\n"
    "sys.exit(0 if all(digest(p) == h for p, h in zip(args[::2], args[1::2])) else 1)\n"
)


# builtin-v2's "suite passes" check: the original test files are all there, unchanged, and the suite is green
# (emptying or rewriting the tests must not pass for a fix). Arguments: project root, then (path, sha256) pairs.
_SUITE_PASSES_SRC = (
    "import hashlib, subprocess, sys\n"
    "root, args = sys.argv[1], sys.argv[2:]\n"
    "def digest(p):\n"
    "    try:\n"
    "        with open(p, 'rb') as fh:\n"
    "            return hashlib.sha256(fh.read().replace(b'\\r\\n', b'\\n').rstrip()).hexdigest()\n"
    "    except OSError:\n"
    "        return None\n"
    "if not all(digest(p) == h for p, h in zip(args[::2], args[1::2])):\n"
    "    sys.exit(1)\n"
    "sys.exit(subprocess.run([sys.executable, '-m', 'unittest', 'discover', '-s', root + '/tests', '-t', root]).returncode)\n"
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode().replace(b"\r\n", b"\n").rstrip()).hexdigest()


def _unittest_argv(root: str) -> list[str]:
    """``cd root && python3 -m unittest`` without a shell: discover from the workspace."""
    return ["python3", "-m", "unittest", "discover", "-s", f"{root}/tests", "-t", root]


# ================================================================ run_script

_SUMMARIZE_SRC = '''#!/usr/bin/env python3
"""Summarise {label} from a CSV export: count, total and mean of one column per group.

Example:
    python3 {path} --input export.csv --group-by region --metric amount --sort total
"""

import argparse
import csv
import sys


def load_rows(path):
    """Read the CSV export into a list of dicts, one per record."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def summarize(rows, group_by, metric, minimum=0.0):
    """(group, count, total, mean) per group, ignoring rows whose metric is below ``minimum``."""
    groups = {{}}
    for row in rows:
        value = float(row[metric])
        if value < minimum:
            continue
        groups.setdefault(row[group_by], []).append(value)
    summary = []
    for name, values in groups.items():
        total = sum(values)
        summary.append((name, len(values), round(total, 2), round(total / len(values), 2)))
    return summary


def sort_summary(summary, order):
    """By group name, or by total / count (largest first, ties by name)."""
    if order == "total":
        return sorted(summary, key=lambda s: (-s[2], s[0]))
    if order == "count":
        return sorted(summary, key=lambda s: (-s[1], s[0]))
    return sorted(summary, key=lambda s: s[0])


def write_csv(summary, group_by, fh):
    writer = csv.writer(fh, lineterminator="\\n")
    writer.writerow([group_by, "count", "total", "mean"])
    for name, count, total, mean in summary:
        writer.writerow([name, count, f"{{total:.2f}}", f"{{mean:.2f}}"])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Summarise a CSV export by group.")
    parser.add_argument("--input", required=True, help="CSV file to read")
    parser.add_argument("--group-by", required=True, help="column whose values form the groups")
    parser.add_argument("--metric", required=True, help="numeric column to count, add up and average")
    parser.add_argument("--min", type=float, default=0.0, help="skip rows whose metric is below this value")
    parser.add_argument("--sort", choices=("name", "total", "count"), default="name",
                        help="row order: group name (default), or largest total / count first")
    parser.add_argument("--output", help="write the CSV to this file instead of standard output")
    args = parser.parse_args(argv)
    rows = load_rows(args.input)
    summary = sort_summary(summarize(rows, args.group_by, args.metric, args.min), args.sort)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as fh:
            write_csv(summary, args.group_by, fh)
        matched = sum(s[1] for s in summary)
        print(f"wrote {{len(summary)}} groups ({{matched}} of {{len(rows)}} rows matched) to {{args.output}}")
    else:
        write_csv(summary, args.group_by, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

_TOP_SRC = '''#!/usr/bin/env python3
"""List the top {label} of a CSV export, ranked by one numeric column (largest first).

Example:
    python3 {path} --input export.csv --sort-by amount --limit 5 --where status=open --fields id,amount
"""

import argparse
import csv
import sys


def load_rows(path):
    """The export's column names and its records (dicts of strings)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def top_rows(rows, sort_by, limit, tie_field):
    """The ``limit`` rows with the largest ``sort_by`` (ties: ``tie_field`` ascending)."""
    ranked = sorted(rows, key=lambda r: (-float(r[sort_by]), r[tie_field]))
    return ranked[:limit]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rank the records of a CSV export by one column.")
    parser.add_argument("--input", required=True, help="CSV file to read")
    parser.add_argument("--sort-by", required=True, help="numeric column to rank by, largest first")
    parser.add_argument("--limit", type=int, default=10, help="how many rows to keep (default 10)")
    parser.add_argument("--where", help="keep only rows where COLUMN=VALUE (exact match)")
    parser.add_argument("--fields", help="comma-separated columns to output (default: all); "
                                         "ties in the ranking are broken by the first one")
    parser.add_argument("--output", help="write the CSV to this file instead of standard output")
    args = parser.parse_args(argv)
    columns, rows = load_rows(args.input)
    if args.where:
        column, _, wanted = args.where.partition("=")
        rows = [r for r in rows if r[column] == wanted]
    fields = args.fields.split(",") if args.fields else columns
    picked = top_rows(rows, args.sort_by, args.limit, fields[0])
    fh = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\\n")
    writer.writeheader()
    writer.writerows(picked)
    if args.output:
        fh.close()
        print(f"wrote {{len(picked)}} rows to {{args.output}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _threshold(values: list[float], frac: float) -> int | float:
    v = sorted(values)[int(len(values) * frac)]
    return int(v) if float(v).is_integer() else round(v, 2)


def _code(text: object) -> str:
    return f"`{text}`"


def _run_script_text(ctx: OpContext, *, script: str, cmd: str, src: str, words: str, out: str, log: str,
                     to_file: bool, exact: bool) -> str:
    """builtin-v2's instruction for run_script: what to run (the command, or the goal and the script), then
    where its output goes."""
    v = {"script": _code(script), "cmd": _code(cmd), "src": _code(src), "out": _code(out), "log": _code(log),
         "help": _code(f"python3 {script} --help"), "opt": _code("--output"), "words": words}
    if exact:
        run = ctx.say(
            "[[[Please |]run|[Please |]execute|I need you to run] [this command|the following command|our helper script "
            "with this command line] [from the workspace root|from the top of the workspace|with the workspace root as "
            "the working directory|in the workspace root][, exactly as written|, verbatim|, without changing any "
            "argument|]: {cmd}.|[The helper script|Our helper|The script] [needs to be run|has to be run|should be run] "
            "[from the workspace root|from the top of the workspace] [exactly as|precisely as|just as|as] {cmd}[| — "
            "[keep|leave] the arguments as they are| with no changes to its arguments].]", **v)
    else:
        run = ctx.say(
            "[[[Please |]use|[Please |]run] [the script|our helper|the helper script|the command-line tool] {script} "
            "[on|against|over] {src} to {words}[.| — {help} [lists|documents|explains] [its|the] options.| "
            "([check|see|read] {help} for [its options|the options|how to call it]).]|To {words}, [run|use] [our "
            "helper|the script|the helper script|the tool] {script} [on|against|over] {src}[.| (its options are "
            "[listed|documented|explained] by {help}).| — [check|see] {help} [for its options|for the flags|first].]]",
            **v)
    message = ("[the one-line message|the single line|the one-line status message|the short message] it prints[ on the "
               "terminal| on screen|]")
    if to_file and exact:
        how = ctx.say(
            "[The script|It|That command] [writes|saves|puts] [the CSV|its CSV|the table] [to|into|at] {out} [itself|on "
            "its own|by itself][; |, and you should |. Please ][[save|capture|store] " + message + " [to|in] {log}|"
            "[copy|put] " + message + " into {log}].", **v)
    elif to_file:
        how = ctx.say(
            "[Have it|Let it|Make it] write [its|the] CSV [to|into] {out} [(its {opt} option)|with its {opt} option|"
            "using {opt}|through its {opt} option][ and|, then|; then] [[save|capture|store] " + message + " [to|in] "
            "{log}|redirect [what it prints|its standard output|the line it prints] into {log}].", **v)
    else:
        how = ctx.say(
            "[It|The script|The tool] [prints|writes|emits] [a CSV|its result as CSV|the table as CSV] [on|to] "
            "[standard output|stdout|the terminal][; |, so |: ][[save|write] [it|that output] [unchanged|as is|without "
            "editing it|exactly as printed|verbatim] to {out}|redirect [it|that output] [unchanged|as is|without "
            "editing it] into {out}|[capture|keep] [it|that output] [unchanged|as is|verbatim] in {out}].", **v)
    return f"{run} {how}"


class RunScript:
    """Run a provided command-line script with the right arguments and capture what it produces."""

    name = "run_script"
    category = "development"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        schema = ctx.schema()
        n = 8 + 4 * ctx.difficulty + rng.randrange(0, 5)
        src = make_table(rng, schema, n, f"input/{schema.base_name}.csv", "csv")
        # What the script sees: the CSV's strings (the float of a cell equals the generated value).
        text_rows = [{c: cell(r[c]) for c in src.columns} for r in src.rows]
        to_file = rng.random() < 0.5
        if rng.random() < 0.5:
            script = f"project/tools/summarize_{schema.base_name}.py"
            code = _SUMMARIZE_SRC.format(label=src.label, path=script)
            out, args, words, log_line = self._summarize(ctx, src, text_rows)
        else:
            script = f"project/tools/top_{schema.base_name}.py"
            code = _TOP_SRC.format(label=src.label, path=script)
            out, args, words, log_line = self._top(ctx, src, text_rows)
        log_path = f"output/step{ctx.step}_run.log"
        cmd = f"python3 {script} {args}"
        if to_file:
            cmd += f" --output {out.path}"
        # builtin-v2 states the goal, never the command line: a dictated command is solved by any script that
        # runs backticked commands (issue 13's family gate); the agent reads --help and picks the options.
        exact = rng.random() < 0.5 and not ctx.v2
        if to_file and exact:
            how = pick(rng, (
                f"it writes the CSV to `{out.path}` itself; save the one-line message it prints to `{log_path}`",
                f"besides the CSV it writes to `{out.path}`, it prints a one-line message: capture that into `{log_path}`",
            ))
        elif to_file:
            how = pick(rng, (
                f"have it write its CSV to `{out.path}` (its `--output` option) and save the one-line message it "
                f"prints to `{log_path}`",
                f"pass `--output {out.path}` so it writes the CSV there, and capture what it prints on the terminal "
                f"into `{log_path}`",
            ))
        else:
            how = pick(rng, (
                f"save its standard output, unchanged, to `{out.path}`",
                f"redirect what it prints (a CSV) into `{out.path}` without editing it",
            ))
        if exact:
            instruction = pick(rng, (
                f"Run the helper script from the workspace root exactly as `{cmd}`; {how}.",
                f"From the workspace root, run `{cmd}`; {how}.",
            ))
        else:
            instruction = pick(rng, (
                f"Use the script `{script}` (check its `--help`) on `{src.path}` to {words}; {how}.",
                f"Our helper `{script}` takes command-line options (see `python3 {script} --help`). Run it on "
                f"`{src.path}` to {words}; {how}.",
            ))
        if ctx.v2:
            instruction = _run_script_text(ctx, script=script, cmd=cmd, src=src.path, words=words, out=out.path,
                                           log=log_path, to_file=to_file, exact=exact)
        header = ",".join(out.columns)
        checks = [ck.csv_header(f"step{ctx.step}_script_header", out.path, list(out.columns)) if ctx.v2 and out.fmt == "csv"
                  else ck.regex(f"step{ctx.step}_script_header", out.path, r"\A\ufeff?" + header.replace(".", r"\.") + r"\r?$"),
                  ck.table_equal(f"step{ctx.step}_script_output", out)]
        outputs = [OutputSpec(out.path, TABLE_MUTATIONS)]
        oracle_cmd = f"mkdir -p output && {cmd}" + (f" > {log_path}" if to_file else f" > {out.path}")
        if to_file:
            checks.append(ck.lines_equal(f"step{ctx.step}_script_message", log_path, [log_line]))
            outputs.append(OutputSpec(log_path, ("missing", "value")))
        return OpStep(
            op=self.name, instruction=instruction, oracle=[exec_call(oracle_cmd)], checks=checks, outputs=outputs,
            artifact=out, input_files={src.path: serialize(src).encode(), script: code.encode()},
        )

    @staticmethod
    def _summarize(ctx: OpContext, src: Table, text_rows: list[dict[str, str]]) -> tuple[Table, str, str, str]:
        """Mirror of summarize.py: groups of rows at or above --min, with count, total, mean."""
        rng = ctx.rng
        group = src.category or src.columns[1]
        metric = rng.choice(src.numeric)
        minimum = _threshold([float(r[metric]) for r in text_rows], rng.choice((0.2, 0.3)))
        order = rng.choice(("name", "total", "count"))
        groups: dict[str, list[float]] = {}
        for r in text_rows:
            value = float(r[metric])
            if value < float(minimum):
                continue
            groups.setdefault(r[group], []).append(value)
        summary = [(name, len(v), round(sum(v), 2), round(sum(v) / len(v), 2)) for name, v in groups.items()]
        if order == "total":
            summary.sort(key=lambda s: (-s[2], s[0]))
        elif order == "count":
            summary.sort(key=lambda s: (-s[1], s[0]))
        else:
            summary.sort(key=lambda s: s[0])
        rows: list[Row] = [{group: s[0], "count": s[1], "total": s[2], "mean": s[3]} for s in summary]
        path = f"output/step{ctx.step}_{group}_summary.csv"
        out = Table(columns=[group, "count", "total", "mean"], rows=rows, path=path, fmt="csv",
                    label=f"{group} totals of {src.label}", key=group, numeric=["count", "total", "mean"])
        args = f"--input {src.path} --group-by {group} --metric {metric} --min {minimum}"
        if order != "name" or rng.random() < 0.5:
            args += f" --sort {order}"
        sort_words = {"name": "ordered by group name", "total": "ordered by total, largest first",
                      "count": "ordered by count, largest first"}[order]
        words = (f"summarise `{metric}` per `{group}`, ignoring rows whose `{metric}` is below {minimum}, "
                 f"with the groups {sort_words}")
        if ctx.v2:
            order_words = {
                "name": "[by group name|alphabetically by name|by name, A to Z|alphabetically]",
                "total": "by [total|their total|the total], [largest|highest|biggest] first",
                "count": "by [count|their count|row count|how many rows they have], [largest|highest|most] first"}[order]
            words = ctx.clause("[summarise|summarize|total up|aggregate] {metric} [per|by|for each] {group}, [ignoring|skipping|"
                "leaving out] [rows|records] whose {metric} is [below|under|less than|smaller than] {minimum}[, with the "
                "groups [ordered|sorted|listed]|, and [order|sort|list] the groups|, [ordering|sorting|listing] the "
                "groups] " + order_words, metric=f"`{metric}`", group=f"`{group}`", minimum=minimum)
        matched = sum(s[1] for s in summary)
        log_line = f"wrote {len(summary)} groups ({matched} of {len(text_rows)} rows matched) to {path}"
        return out, args, words, log_line

    @staticmethod
    def _top(ctx: OpContext, src: Table, text_rows: list[dict[str, str]]) -> tuple[Table, str, str, str]:
        """Mirror of top.py: optional COLUMN=VALUE filter, rank by a number, keep the first N, some fields."""
        rng = ctx.rng
        key = src.key or src.columns[0]
        sort_by = rng.choice(src.numeric)
        rows = list(zip(src.rows, text_rows))
        where = None
        if src.category and (ctx.difficulty >= 3 or rng.random() < 0.4):
            counts: dict[str, int] = {}
            for _, t in rows:
                counts[t[src.category]] = counts.get(t[src.category], 0) + 1
            common = sorted((v for v, c in counts.items() if c >= 3), key=lambda v: (-counts[v], v))
            if common:
                where = (src.category, rng.choice(common[:2]))
                rows = [(r, t) for r, t in rows if t[src.category] == where[1]]
        limit = rng.randint(3, min(8, len(rows)))
        others = [c for c in src.columns if c not in (key, sort_by)]
        extra = rng.sample(others, k=min(len(others), 1 + ctx.difficulty // 2))
        fields = [key] + [c for c in src.columns if c in extra or c == sort_by]
        rows.sort(key=lambda rt: (-float(rt[1][sort_by]), rt[1][key]))
        picked = rows[:limit]
        path = f"output/step{ctx.step}_top_{src.label.replace(' ', '_')}.csv"
        out = Table(columns=fields, rows=[{f: r[f] for f in fields} for r, _ in picked], path=path, fmt="csv",
                    label=f"top {src.label}", key=key, numeric=[c for c in src.numeric if c in fields],
                    category=src.category if src.category in fields else None)
        args = f"--input {src.path} --sort-by {sort_by} --limit {limit}"
        if where:
            args += f" --where {where[0]}={where[1]}"
        args += f" --fields {','.join(fields)}"
        cond = f" with `{where[0]}` equal to `{where[1]}`" if where else ""
        words = (f"list the top {limit} {src.label}{cond} ranked by `{sort_by}` (largest first), with only the fields "
                 f"{join_list([f'`{f}`' for f in fields])} in that order")
        if ctx.v2:
            cond = "[ with {col} equal to {val}| whose {col} is {val}| where {col} is {val}]" if where else ""
            words = ctx.clause("[list|show|pull out|get] the [top|highest] {limit} {label}" + cond + " [ranked|ordered|sorted] by "
                "{sort_by} [([largest|highest|biggest] first)|in descending order|from largest to smallest][, with only|, "
                "keeping only|, showing just|, and output only] the [fields|columns] {fields}[ in that order|, in "
                "exactly that order|, in this order]", limit=limit, label=src.label, sort_by=f"`{sort_by}`",
                fields=join_list([f"`{f}`" for f in fields]), col=f"`{where[0]}`" if where else "",
                val=f"`{where[1]}`" if where else "")
        log_line = f"wrote {len(picked)} rows to {path}"
        return out, args, words, log_line


# ================================================================ inspect_code

_PACKAGES = ("storekit", "opsdesk", "ledgerline", "fieldnotes", "rostertools", "shiplog", "clinicdesk", "kpiboard")
_CONSTANTS: tuple[tuple[str, Callable[[random.Random], Any], str], ...] = (
    ("MAX_RETRIES", lambda r: r.randint(2, 6), "retries before a job is marked failed"),
    ("REQUEST_TIMEOUT_SECONDS", lambda r: r.choice((10, 15, 20, 30, 45)), "timeout for outgoing HTTP calls"),
    ("PAGE_SIZE", lambda r: r.choice((20, 25, 50, 100)), "rows per page in listings"),
    ("DEFAULT_CURRENCY", lambda r: r.choice(("EUR", "USD", "GBP", "CHF", "CAD")), "currency for new quotes"),
    ("LOW_STOCK_THRESHOLD", lambda r: r.randint(5, 40), "default reorder level"),
    ("REPORT_TIMEZONE", lambda r: r.choice(("Europe/Lisbon", "America/Toronto", "Asia/Tokyo", "Africa/Nairobi")),
     "timezone used in exported reports"),
    ("ENABLE_EMAIL_DIGEST", lambda r: r.random() < 0.5, "send the weekly digest e-mail"),
    ("VAT_RATE", lambda r: r.choice((0.07, 0.19, 0.2, 0.21, 0.25)), "default tax rate"),
    ("ARCHIVE_AFTER_DAYS", lambda r: r.choice((30, 60, 90, 180)), "move closed records to the archive after this"),
)
_CONFIG_NOTES = (
    ("FIXME", "move the API token out of the source tree before the next release"),
    ("TODO", "load overrides from an environment-specific file"),
    ("TODO", "document every setting in the README"),
)


def _literal(v: Any) -> str:
    """A Python literal as the project's style writes it (double-quoted strings)."""
    return json.dumps(v) if isinstance(v, str) else repr(v)


def _inspect_code_text(ctx: OpContext, *, root: str, fn_path: str, notes_path: str, names: str) -> str:
    """builtin-v2's instruction for inspect_code: read-only task, the function table, then the notes JSON."""
    v = {"root": _code(root + "/"), "fn": _code(fn_path), "notes": _code(notes_path), "names": names,
         "cols": _code("module,function,line,params,lines"), "def": _code("def"), "example": _code(f"{root}/<name>.py"),
         "module": _code("module"), "function": _code("function"), "line": _code("line"), "params": _code("params"),
         "lines": _code("lines"), "todos": _code("todos"), "constants": _code("constants"), "TODO": _code("TODO"),
         "FIXME": _code("FIXME"), "shape": _code('{"file", "line", "tag", "text"}'), "tag": _code("tag"),
         "text": _code("text"), "todoc": _code("TODO:"), "fixmec": _code("FIXME:"), "config": _code(f"{root}/config.py")}
    intro = ctx.say("[[Read|Go through|Look through|Study|Review] the [Python package|package|code] in {root}[ — reading the "
        "code is enough, no need to run it| (just read the code; there is no need to run it)| without running or "
        "changing it| without executing anything|] and [write|produce|put together|prepare] two files[| for me| from "
        "what you find| about it].|I [need|want|would like|am after] [an inventory|a short inventory|an overview|a "
        "quick map] of the [code|Python code|package] in {root} [in two files|as two files|written to two files][, read "
        "from the source without running anything|; please don't modify anything|, from reading the source alone|; "
        "nothing needs to run|].]", **v)
    table = ctx.say("[[First|To start|For the functions], [write|create|save|produce]|[Write|Create|Save|Produce]] {fn}, a "
        "[CSV|CSV file|comma-separated file] [with the header|with the columns|whose columns are|headed] {cols}, [with "
        "one row|holding one row|listing one row|one row] per top-level function ({def})[ in the package| across the "
        "package's files| of the package][, [sorted|ordered] by {module} and then by {line}|; [sort|order] the rows by "
        "{module}, then by {line}|, rows in order of {module}, then {line}|. [Sort|Order|Arrange] the rows by {module}, "
        "then by {line}].", **v)
    fields = ctx.say("[For each function|In every row|Per row|In each row], {module} is [the file's path relative to the "
        "workspace|the workspace-relative path of its file|the path of its file, relative to the workspace|where it is "
        "defined, as a workspace-relative path] ([like|such as|for instance|for example] {example}), {line} [is |]the "
        "[line number|number of the line] of [the|its] {def}, {params} [is |]its number of [parameters|arguments in the "
        "signature] and {lines} [is |]the number of lines from the {def} line to [the function's|its] last line[, "
        "inclusive| (both included)| inclusive| (counting both ends)].", **v)
    notes = ctx.say("[Then|Next|After that|Second|Besides that], [write|create|save|produce] {notes}[,| as] [a JSON object|an "
        "object|a JSON document] with two keys[,|:] {todos} and {constants}[. |: |; ]{todos} [lists|holds|collects|is a "
        "list of] [every|each] {TODO} [and|or] {FIXME} [comment|note] [in the package|anywhere in the package|across "
        "the package|in any of the package's files] as [objects|an object] {shape}, [sorted|ordered] by file[,| and] "
        "then [by |]line[;|, where] {tag} is [TODO or FIXME|either TODO or FIXME] and {text} is [the comment text "
        "after|whatever follows|the text that follows|the rest of the comment after] {todoc} or {fixmec}.", **v)
    consts = ctx.say("[Finally, |Lastly, |]{constants} [[maps|ties] {names} to their [final|effective] values|[gives|holds|"
        "records] the [final|effective] values of {names}] [in|from] {config}[ (the value each has once the module has "
        "been loaded)| (what each is once the module is loaded, so a later reassignment wins)| (after any later "
        "reassignment in the file)| (a later assignment overrides an earlier one)][, as JSON numbers, strings or "
        "booleans|; use JSON numbers, strings or booleans|, each as a JSON number, string or boolean|, with JSON types "
        "(number, string, boolean)].", **v)
    return f"{intro} {table} {fields} {notes} {consts}"


class InspectCode:
    """Answer questions about a small Python package by reading its source (no running)."""

    name = "inspect_code"
    category = "development"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        pkg = rng.choice(_PACKAGES)
        root = f"project/{pkg}"
        mods = sorted(rng.sample(MODULES, 2 + (ctx.difficulty >= 4)), key=lambda m: m.name)
        all_funcs = [(m, f) for m in mods for f in m.funcs]
        n_todos = min(len(all_funcs), 2 + ctx.difficulty // 2)
        tagged = rng.sample(all_funcs, n_todos)
        files: dict[str, str] = {}
        func_rows: list[Row] = []
        todo_rows: list[dict[str, Any]] = []
        for m in mods:
            tags = {f.name: rng.choice(("TODO", "FIXME")) for mm, f in tagged if mm is m}
            r = _render_module(m, todos=tags)
            path = f"{root}/{m.name}.py"
            files[path] = r.text
            for f in m.funcs:
                start, end = r.spans[f.name]
                func_rows.append({"module": path, "function": f.name, "line": start, "params": f.param_count,
                                  "lines": end - start + 1})
            todo_rows += [{"file": path, "line": ln, "tag": tag, "text": text} for ln, tag, text in r.todos]
        # config.py: constants with comments, a NOTE (not a TODO) and, when harder, a later override.
        consts = rng.sample(_CONSTANTS, 6)
        values = {name: make(rng) for name, make, _ in consts}
        lines = [f'"""Settings shared by the {pkg} modules."""', "", f'APP_NAME = "{pkg}"']
        for name, _, comment in consts:
            lines.append(f"{name} = {values[name]!r}  # {comment}")
        lines.append("")
        note_tag, note_text = rng.choice(_CONFIG_NOTES)
        lines.append(f"# {note_tag}: {note_text}")
        todo_rows.append({"file": f"{root}/config.py", "line": len(lines), "tag": note_tag, "text": note_text})
        lines.append('API_BASE_URL = "https://api.internal.example/v2"')
        lines.append("# NOTE: values below were agreed with the operations team")
        asked = [name for name, _, _ in rng.sample(consts, 2 + (ctx.difficulty >= 3))]
        if ctx.difficulty >= 3:
            name = asked[0]
            make = next(mk for n, mk, _ in consts if n == name)
            new = make(rng)
            for _ in range(10):
                if new != values[name]:
                    break
                new = make(rng)
            if new != values[name]:
                lines.append(f"{name} = {new!r}  # override after the spring review")
                values[name] = new
        files[f"{root}/config.py"] = "\n".join(lines) + "\n"
        version = f"0.{rng.randint(2, 9)}.{rng.randint(0, 9)}"
        files[f"{root}/__init__.py"] = f'"""{pkg}: internal helpers for {ctx.persona.domain}."""\n\n__version__ = "{version}"\n'

        func_rows.sort(key=lambda r: (str(r["module"]), int(r["line"])))  # type: ignore[arg-type]
        todo_rows.sort(key=lambda r: (r["file"], r["line"]))
        fn_path = f"output/step{ctx.step}_functions.csv"
        notes_path = f"output/step{ctx.step}_code_notes.json"
        table = Table(columns=["module", "function", "line", "params", "lines"], rows=func_rows, path=fn_path, fmt="csv",
                      label="functions", key="function", numeric=["line", "params", "lines"], category="module")
        notes = {"todos": todo_rows, "constants": {n: values[n] for n in asked}}
        names = join_list([f"`{n}`" for n in asked])
        instruction = pick(rng, (
            f"Read the Python package in `{root}/` (read the code, no need to run it) and write two files. "
            f"(a) `{fn_path}`, a CSV with header `module,function,line,params,lines`: one row per top-level function "
            f"(`def`) in the package, where `module` is the file's path relative to the workspace (like "
            f"`{root}/<name>.py`), `line` the line number of the `def`, `params` its number of parameters and `lines` "
            f"the number of lines from the `def` line to the function's last line inclusive; rows sorted by `module` "
            f"then `line`. (b) `{notes_path}`, a JSON object with `todos`: a list of every `TODO` and `FIXME` comment "
            f"in the package as objects `{{\"file\", \"line\", \"tag\", \"text\"}}` (`tag` is TODO or FIXME, `text` is "
            f"the comment after `TODO:`/`FIXME:`), sorted by file then line, and `constants`: an object giving the "
            f"values of {names} in `{root}/config.py` (the value each has once the module has been loaded, as a JSON "
            f"number, string or boolean).",
            f"I need an inventory of the code in `{root}/`. Without modifying anything, create `{fn_path}` (CSV, "
            f"columns `module,function,line,params,lines`) listing every top-level `def` of the package — `module` "
            f"is the workspace-relative file path (e.g. `{root}/<name>.py`), `line` is where the `def` is, `params` "
            f"counts its parameters, `lines` spans from the `def` to its last line (inclusive) — ordered by module "
            f"path and line. Also create `{notes_path}` holding a JSON object: `todos` lists each `TODO`/`FIXME` "
            f"comment as `{{\"file\": path, \"line\": n, \"tag\": \"TODO\" or \"FIXME\", \"text\": what follows the "
            f"colon}}`, ordered by file then line; `constants` maps {names} to their final values in "
            f"`{root}/config.py` (JSON types: numbers, strings, booleans).",
        ))
        if ctx.v2:
            instruction = _inspect_code_text(ctx, root=root, fn_path=fn_path, notes_path=notes_path, names=names)
        checks = [
            ck.table_equal(f"step{ctx.step}_functions_listed", _project(table, ["module", "function"]), exact_columns=False),
            ck.table_equal(f"step{ctx.step}_functions_def_lines", _project(table, ["function", "line"]), exact_columns=False),
            ck.table_equal(f"step{ctx.step}_functions_params", _project(table, ["function", "params"]), exact_columns=False),
            ck.table_equal(f"step{ctx.step}_functions_lengths", _project(table, ["function", "lines"]), exact_columns=False),
            ck.table_equal(f"step{ctx.step}_functions_table", table),
            ck.json_equal(f"step{ctx.step}_todos", notes_path, todo_rows, key_path=["todos"]),
        ] + [ck.json_equal(f"step{ctx.step}_constant_{n.lower()}", notes_path, values[n], key_path=["constants", n], tol=0.0001)
             for n in asked]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(fn_path, serialize(table)), write_call(notes_path, json.dumps(notes, indent=2) + "\n")],
            checks=checks,
            outputs=[OutputSpec(fn_path, TABLE_MUTATIONS),
                     OutputSpec(notes_path, ("missing", "value", "format"))],
            artifact=table, input_files={p: t.encode() for p, t in files.items()},
        )


def _project(table: Table, columns: list[str]) -> Table:
    """The same output file, checked on some columns only."""
    return Table(columns=columns, rows=[{c: r[c] for c in columns} for r in table.rows], path=table.path, fmt=table.fmt)


# ================================================================ fix_bug


def _fix_bug_text(ctx: OpContext, *, root: str, symptom: str, note: str) -> str:
    """builtin-v2's instruction for fix_bug: the complaint and the red suite, the fix, then the note."""
    v = {"root": _code(root + "/"), "cmd": _code(f"cd {root} && python3 -m unittest"), "symptom": symptom,
         "note": _code(note), "example": _code(f"{root}/<file>.py")}
    report = ctx.say(
        "[[A user|Someone on the team|One of our users|A colleague|Support] [reports|says|has reported|noticed] that "
        "{symptom}[, and|; on top of that,|; meanwhile] the unit tests in {root} [fail|are failing|are red] ([run|you "
        "can run|start] them with {cmd}).|The [test suite|unit test suite|unittest suite] of the [small |]project in "
        "{root} is [red|failing] ({cmd})[; the related complaint is that|, and a user [reports|says|complained] that|; "
        "the bug report says that] {symptom}.]", symptom=symptom, **{k: x for k, x in v.items() if k != "symptom"})
    fix = ctx.say(
        "[[Find|Track down|Locate|Hunt down] the bug and fix [the code|it in the source|the source code] so that the "
        "[whole|entire|full] suite passes[| again][ — |; |, but ]do not [change|touch|edit] the [tests|test files|"
        "existing tests].|[Please fix|Fix|Repair] the [bug|defect|faulty code] in the source[ so that| until] [all tests "
        "pass|the whole suite passes|every test passes][[; |, but ]leave the test files exactly as they are|[; |, but ]do "
        "not [change|edit|touch] the tests|. The [existing |]tests [must stay|have to stay|stay] as they are][| (new "
        "regression tests are welcome)].]", **v)
    tell = ctx.say(
        "[Then|Afterwards|Once the suite is green|When everything passes], [write|leave|add] a short [note|Markdown "
        "note|write-up] [to|in|at] {note} [naming|that names|stating|that gives] the file you changed ([as a path "
        "relative to the workspace|its workspace-relative path|relative to the workspace], [like|such as|for example] "
        "{example}) and the [function you fixed|function that had the bug|function with the bug|name of the broken "
        "function][|, plus a sentence on what was wrong|, with one line about what was wrong].", **v)
    return f"{report} {fix} {tell}"


class FixBug:
    """Fix a real bug in a small project so its unittest suite passes, and say what was fixed."""

    name = "fix_bug"
    category = "development"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        root = "project"
        buggy = rng.choice(MODULES)
        mods = [buggy]
        if ctx.difficulty >= 3:
            mods.append(rng.choice([m for m in MODULES if m is not buggy]))
        files: dict[str, str] = {f"{root}/tests/__init__.py": TESTS_INIT}
        n_tests = 0
        test_paths = []
        for m in mods:
            text = _render_module(m).text
            files[f"{root}/{m.name}.py"] = _break(text, m) if m is buggy else text
            cases = m.cases(rng)
            n_tests += len(cases)
            tpath = f"{root}/tests/test_{m.name}.py"
            files[tpath] = _render_tests(m, cases)
            test_paths.append(tpath)
        mod_path = f"{root}/{buggy.name}.py"
        note = f"output/step{ctx.step}_fix.md"
        instruction = pick(rng, (
            f"A user reports that {buggy.symptom}, and the unit tests in `{root}/` fail (run them with "
            f"`cd {root} && python3 -m unittest`). Find the bug and fix the code (do not change the tests) so the "
            f"whole suite passes, then write a short note to `{note}` naming the file you changed (its path "
            f"relative to the workspace, e.g. `{root}/<file>.py`) and the function you fixed.",
            f"The test suite of the small project in `{root}/` is red (`cd {root} && python3 -m unittest`); the "
            f"related complaint is that {buggy.symptom}. Fix the bug in the source code — leave the test files "
            f"exactly as they are — until all tests pass, and record in `{note}` (Markdown) the workspace-relative "
            f"path of the file you edited (like `{root}/<file>.py`) and the name of the function with the bug.",
        ))
        if ctx.v2:
            instruction = _fix_bug_text(ctx, root=root, symptom=buggy.symptom, note=note)
        content = (f"# Bug fix\n\n- File: `{mod_path}`\n- Function: `{buggy.bug_func}`\n- Cause: {buggy.cause}.\n"
                   f"- Result: all {n_tests} unit tests pass again.\n")
        argv = ["python3", "-c", _SAME_FILES_SRC]
        for p in test_paths:
            argv += [p, _digest(files[p])]
        pass_name = f"step{ctx.step}_tests_pass"
        checks = [
            # The whole suite must pass (new regression tests are welcome); the next check proves the original
            # test files are still there, unchanged.
            ck.command(pass_name, _unittest_argv(root)),
            ck.command(f"step{ctx.step}_tests_unchanged", argv, requires=note),
            ck.contains(f"step{ctx.step}_note_file", note, [mod_path]),
            ck.contains(f"step{ctx.step}_note_function", note, [buggy.bug_func]),
        ]
        if ctx.v2:
            # Content carries the credit (issue 13): the suite passes *with the original tests*; untouched tests
            # are true of doing nothing, so they count only beside a passing suite; the function's name is in every
            # copied source file (and some complaints), so it counts only beside the right file's path.
            checks[0] = ck.command(pass_name, ["python3", "-c", _SUITE_PASSES_SRC, root, *argv[3:]])
            checks[1] = {**ck.form(checks[1]), "needs_any": [pass_name]}
            checks[3] = ck.form(checks[3])
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[{"name": "edit", "arguments": {"path": mod_path, "oldText": buggy.broken, "newText": buggy.fixed}},
                    exec_call(f"cd {root} && python3 -m unittest"),
                    write_call(note, content)],
            checks=checks,
            outputs=[OutputSpec(note, ("missing", "value"), checked_values=(mod_path, buggy.bug_func)),
                     OutputSpec(mod_path, ("missing", "value"), checked_values=(buggy.fixed,))],
            artifact=Text(path=note, content=content, label="bug fix note",
                          facts={"file": mod_path, "function": buggy.bug_func, "tests": n_tests}),
            input_files={p: t.encode() for p, t in files.items()},
        )


# ================================================================ run_tests

_COLLECT_SRC = '''"""Run the unit tests in project/ and record one status per test (pass, fail, error, skip)."""

import csv
import os
import unittest

RESULTS = "{results}"
SUMMARY = "{summary}"


class StatusResult(unittest.TestResult):
    """Remembers the outcome of every test by its id."""

    def __init__(self):
        super().__init__()
        self.status = {{}}

    def addSuccess(self, test):
        super().addSuccess(test)
        self.status[test.id()] = "pass"

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.status[test.id()] = "fail"

    def addError(self, test, err):
        super().addError(test, err)
        self.status[test.id()] = "error"

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.status[test.id()] = "skip"


def main():
    root = os.getcwd()
    os.chdir("project")
    suite = unittest.defaultTestLoader.discover(".")
    result = StatusResult()
    suite.run(result)
    os.chdir(root)
    rows = sorted(result.status.items())
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\\n")
        writer.writerow(["test_id", "status"])
        writer.writerows(rows)
    modules = {{}}
    for test_id, status in rows:
        counts = modules.setdefault(test_id.rsplit(".", 2)[0], {{"pass": 0, "fail": 0, "error": 0, "skip": 0}})
        counts[status] += 1
    with open(SUMMARY, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\\n")
        writer.writerow(["module", "tests", "passed", "failed", "errors", "skipped"])
        for module in sorted(modules):
            c = modules[module]
            writer.writerow([module, sum(c.values()), c["pass"], c["fail"], c["error"], c["skip"]])


if __name__ == "__main__":
    main()
'''


def _run_tests_text(ctx: OpContext, *, root: str, res_path: str, sum_path: str) -> str:
    """builtin-v2's instruction for run_tests: run without fixing, the per-test CSV, then the per-module CSV."""
    v = {"root": _code(root + "/"), "cmd": _code(f"cd {root} && python3 -m unittest -v"), "res": _code(res_path),
         "sum": _code(sum_path), "hdr": _code("test_id,status"), "test_id": _code("test_id"), "status": _code("status"),
         "form": _code("tests.test_<module>.<TestClass>.<test_method>"), "pass": _code("pass"), "fail": _code("fail"),
         "error": _code("error"), "skip": _code("skip"), "sumhdr": _code("module,tests,passed,failed,errors,skipped"),
         "modform": _code("tests.test_<module>"), "tests": _code("tests")}
    run = ctx.say("[[Please |]run|I need you to run|[Please |]go through|Kindly run] [the unit tests|the test suite|the "
        "unittest suite] of the [|small ]project in {root} ({cmd})[| and report on them| and tell me how they do| and "
        "write up the results][. |; |, but ][some|a few|several] [tests|of them] [fail|are failing|break] [on "
        "purpose|by design|deliberately|as expected] ([unfinished features|features still being built|work in "
        "progress|parts not written yet])[, so|; so|. So] [do not|don't|please do not] [change|touch|fix|modify|edit] "
        "anything in {root}[| for this| while you are at it].", **v)
    results = ctx.say("[Write|Save|Create|Produce] {res}, a [CSV|CSV file|comma-separated file] [with the header|with columns|"
        "whose header is|headed] {hdr}, [with |holding |]one row per test: {test_id} as unittest [names|prints|reports|"
        "shows] it ({form}) and {status} one of {pass}, {fail} ([an assertion failed|assertion failure|a failed "
        "assertion|a check did not hold]), {error} ([it raised an exception|an unexpected exception|the test raised an "
        "error|it crashed]) or {skip}[. [Sort|Order] the rows by {test_id}|; [sort|order] the rows by {test_id}|, with "
        "the rows [sorted|ordered] by {test_id}|, rows in {test_id} order] ([plain string order|simple string order|"
        "ordinary string sorting|character by character|as plain text]).", **v)
    summary = ctx.say("[Then|Also|Next,|Finally,|After that,] [write|save|create|produce] {sum} [with the header|with columns|"
        "whose header is|headed] {sumhdr}: one row per test module ({modform}), [sorted|ordered|in order] by "
        "[module|module name], [counting its tests by status|with its tests counted by status|giving how many of its "
        "tests have each status|with a count per status], {tests} being [the total|all of its tests|its total test "
        "count|how many tests it has].", **v)
    return f"{run} {results} {summary}"


class RunTests:
    """Run a unittest suite in which some tests fail by design and report every test's status."""

    name = "run_tests"
    category = "development"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        root = "project"
        mods = sorted(rng.sample(MODULES, 2 + (ctx.difficulty >= 3)), key=lambda m: m.name)
        roles = ["bug", "stub"] + [rng.choice(("bug", "stub", "clean")) for _ in mods[2:]]
        if rng.random() < 0.3:
            roles[rng.randrange(2)] = "clean"
        rng.shuffle(roles)
        files: dict[str, str] = {f"{root}/tests/__init__.py": TESTS_INIT}
        results: list[Row] = []
        all_cases = [(m, m.cases(rng)) for m in mods]
        skip_at = rng.randrange(len(mods) + 1)  # one module gets a skipped test, or none
        for i, ((m, cases), role) in enumerate(zip(all_cases, roles)):
            stubs: tuple[str, ...] = ()
            if role == "stub":
                stubs = (rng.choice([f.name for f in m.funcs]),)
            text = _render_module(m, stubs=stubs).text
            files[f"{root}/{m.name}.py"] = _break(text, m) if role == "bug" else text
            status: dict[str, str] = {}
            for c in cases:
                if _closure(m, c.uses) & set(stubs):
                    status[c.name] = "error"
                elif role == "bug" and c.catches_bug:
                    status[c.name] = "fail"
                else:
                    status[c.name] = "pass"
            skips = {}
            passing = [c.name for c in cases if status[c.name] == "pass"]
            if i == skip_at and len(passing) > 1:  # skip a test that would pass, so no failure is hidden
                name = rng.choice(passing)
                skips[name] = rng.choice(("needs the staging database", "flaky on CI, see issue 214",
                                          "waiting for the new fixtures"))
                status[name] = "skip"
            files[f"{root}/tests/test_{m.name}.py"] = _render_tests(m, cases, skips)
            results += [{"test_id": f"tests.test_{m.name}.{m.test_class}.{c.name}", "status": status[c.name]}
                        for c in cases]
        results.sort(key=lambda r: str(r["test_id"]))
        summary: list[Row] = []
        for m in mods:
            mine = [r["status"] for r in results if str(r["test_id"]).startswith(f"tests.test_{m.name}.")]
            summary.append({"module": f"tests.test_{m.name}", "tests": len(mine), "passed": mine.count("pass"),
                            "failed": mine.count("fail"), "errors": mine.count("error"), "skipped": mine.count("skip")})
        res_path = f"output/step{ctx.step}_test_results.csv"
        sum_path = f"output/step{ctx.step}_test_summary.csv"
        res_table = Table(columns=["test_id", "status"], rows=results, path=res_path, fmt="csv", label="test results",
                          key="test_id", category="status")
        sum_table = Table(columns=["module", "tests", "passed", "failed", "errors", "skipped"], rows=summary,
                          path=sum_path, fmt="csv", label="test modules", key="module",
                          numeric=["tests", "passed", "failed", "errors", "skipped"])
        instruction = pick(rng, (
            f"Run the unit tests of the project in `{root}/` (`cd {root} && python3 -m unittest -v`). Some tests fail "
            f"on purpose (unfinished features), so do not change anything in `{root}/`. Write `{res_path}`, a CSV "
            f"with header `test_id,status` and one row per test: `test_id` as unittest names it "
            f"(`tests.test_<module>.<TestClass>.<test_method>`) and `status` one of `pass`, `fail` (an assertion "
            f"failed), `error` (it raised an exception) or `skip`; rows sorted by `test_id` (plain string order). "
            f"Then write `{sum_path}` with header `module,tests,passed,failed,errors,skipped`: one row per test "
            f"module (`tests.test_<module>`), sorted by module, counting its tests by status.",
            f"I want a test report for `{root}/`. Run its unittest suite from inside `{root}` (`python3 -m unittest "
            f"-v`) without fixing anything — some failures are expected. Save `{res_path}` (CSV, columns `test_id,status`): "
            f"every test once, `test_id` in unittest's dotted form `tests.test_<module>.<TestClass>.<test_method>`, "
            f"`status` = `pass`, `fail` (assertion failure), `error` (unexpected exception) or `skip`, sorted by "
            f"`test_id`. Also save `{sum_path}` (CSV, columns `module,tests,passed,failed,errors,skipped`) with one "
            f"row per test module `tests.test_<module>`, in module order.",
        ))
        if ctx.v2:
            instruction = _run_tests_text(ctx, root=root, res_path=res_path, sum_path=sum_path)
        script = f"scratch/step{ctx.step}_collect_results.py"
        checks = [
            ck.table_equal(f"step{ctx.step}_tests_listed", _project(res_table, ["test_id"]), exact_columns=False),
            ck.table_equal(f"step{ctx.step}_test_statuses", res_table),
            ck.table_equal(f"step{ctx.step}_test_summary", sum_table),
        ]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(script, _COLLECT_SRC.format(results=res_path, summary=sum_path)),
                    exec_call(f"python3 {script}")],
            checks=checks,
            outputs=[OutputSpec(res_path, TABLE_MUTATIONS),
                     OutputSpec(sum_path, TABLE_MUTATIONS)],
            artifact=sum_table, input_files={p: t.encode() for p, t in files.items()},
        )


# ================================================================ analyze_logs

_SERVICES = ("orderdesk", "roomplanner", "shipfast", "labtrack", "payrollsync", "ticketbay")
# (exception, message, frames as (component/file, function, code)); the innermost frame is last.
_TRACEBACKS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("ZeroDivisionError", "division by zero",
     (("worker/jobs.py", "run_job", "result = handler(payload)"),
      ("billing/invoices.py", "average_line_value", "return total / len(lines)"))),
    ("KeyError", "'customer_id'",
     (("api/handlers.py", "create_order", "body = serialize_order(order)"),
      ("api/serializers.py", "serialize_order", "\"customer\": order[\"customer_id\"],"))),
    ("ValueError", "invalid literal for int() with base 10: 'twelve'",
     (("api/handlers.py", "update_stock", "qty = parse_quantity(form)"),
      ("inventory/forms.py", "parse_quantity", "return int(form[\"quantity\"])"))),
    ("AttributeError", "'NoneType' object has no attribute 'email'",
     (("scheduler/runner.py", "send_digests", "mailer.send(build_digest(team))"),
      ("mailer/digest.py", "build_digest", "lines.append(render_entry(entry))"),
      ("mailer/render.py", "render_entry", "return f\"{entry.owner.email}: {entry.title}\""))),
    ("TypeError", "unsupported operand type(s) for +: 'int' and 'NoneType'",
     (("worker/jobs.py", "run_job", "result = handler(payload)"),
      ("reports/weekly.py", "build_totals", "totals[day] = totals.get(day, 0) + row.get(\"hours\")"))),
)
_PLAIN_ERRORS = (
    ("TimeoutError", "request to {dep} timed out after {s}s"),
    ("ConnectionError", "could not connect to {dep}:{port}"),
    ("PermissionError", "[Errno 13] Permission denied: '/var/lib/{svc}/exports'"),
    ("TimeoutError", "lock on table {table} not acquired within {s}s"),
    ("ConnectionError", "connection to {dep} reset by peer"),
)
_INFO = ("request completed in {ms}ms (GET /api/{res})", "job {job} finished in {ms}ms", "user {uid} signed in",
         "cache warmed with {n} keys", "processed batch of {n} {res}", "health check ok")
_DEBUG = ("payload size {n} bytes", "cache lookup {res}:{uid}", "retry budget {k}/5 remaining",
          "sql: select * from {table} limit {n}")
_WARN = ("slow response from {dep}: {ms}ms", "retrying request to {dep} (attempt {k}/3)",
         "queue depth {n} above soft limit", "deprecated setting 'timeout' used, use 'request_timeout'",
         "disk usage at {pct}% on /var/lib/{svc}")
_EXTRA_COMPONENTS = ("api", "auth", "billing", "cache", "db", "mailer", "scheduler", "search", "worker", "reports")
_DEPS = ("payments-gateway", "postgres-primary", "redis", "smtp-relay", "search-cluster", "geo-api")


def _fill(rng: random.Random, template: str, svc: str) -> str:
    return template.format(
        ms=rng.randint(12, 4800), res=rng.choice(("orders", "invoices", "users", "rooms", "reports")),
        job=rng.randint(1000, 9999), uid=rng.randint(100, 9999), n=rng.randint(2, 900), k=rng.randint(1, 3),
        dep=rng.choice(_DEPS), s=rng.choice((5, 10, 30, 60)), port=rng.choice((443, 5432, 6379, 25, 9200)),
        table=rng.choice(("orders", "invoices", "sessions")), pct=rng.randint(81, 97), svc=svc)


def _analyze_logs_text(ctx: OpContext, *, svc: str, log_path: str, fmt_words: str, comp_path: str,
                       json_path: str) -> str:
    """builtin-v2's instruction for analyze_logs: the log's format, the per-component CSV, then the JSON."""
    v = {"svc": _code(svc), "log": _code(log_path), "fmt": fmt_words, "comp": _code(comp_path), "json": _code(json_path),
         "hdr": _code("component,entries,warnings,errors,first_seen,last_seen"), "entries": _code("entries"),
         "error_types": _code("error_types"), "first_error": _code("first_error"), "last_error": _code("last_error"),
         "last_tb": _code("last_traceback"), "exception": _code("exception"), "file": _code("file"),
         "line": _code("line"), "function": _code("function"), "File": _code("File ..."), "colon": _code(":")}
    log = ctx.say("[[Our|The] {svc} service [writes its log to|logs to|keeps its log in|appends its log to] {log}[,| —|:] "
        "[one entry per line|each entry on its own line|one line per entry] [in the form|formatted as|like|following "
        "the pattern] {fmt}|The log of [our|the] {svc} [service|app|application] is [saved|stored|kept] [at|in] {log}, "
        "[one entry per line|each entry on its own line|one line per entry] [in the form|formatted as|following the "
        "pattern] {fmt}][. |; |, and ][lines that do not start with a timestamp|lines without a leading timestamp|lines "
        "with no timestamp at the start|lines not starting with a timestamp] [belong to|are part of|continue] the entry "
        "[above them|before them|just above][ (a traceback, usually)| (mostly traceback lines)| (tracebacks)|] and [are "
        "not|do not count as|are not counted as|should not be counted as] entries[ themselves| on their own|].", **v)
    comps = ctx.say("[Write|Create|Produce|Save] {comp}, a [CSV|CSV file|comma-separated file] [with the header|with columns|"
        "whose header is|headed] {hdr}: one row per component, [sorted by name|in alphabetical order|ordered by "
        "component name|alphabetically], [with|giving|holding] [its number of entries (all levels), of warning entries "
        "and of error entries|its entry count over all levels, its warning count and its error count|how many entries "
        "it has (any level), how many are warnings and how many are errors], and the timestamps of its first and last "
        "entry [copied exactly as written in the log|exactly as they appear in the log|as written in the log|verbatim "
        "from the log].", **v)
    keys = ctx.say("[Then|Next,|After that,|Also|Second,] [write|create|save|produce] {json}, [a JSON object with|a JSON "
        "object holding|an object with|a JSON document with] [the keys|five keys:|keys] {entries}, {error_types}, "
        "{first_error}, {last_error} and {last_tb}[. |: |; ]{entries} is the [total number of|number of|count of all] "
        "entries[ in the log| in the file|], and {error_types} maps [each|every] exception name ([the text before the "
        "first {colon} of an error entry's message|what precedes the first {colon} in an error entry's message|the part "
        "of an error message before its first {colon}]) to [how many times it occurs|its number of occurrences|the "
        "number of error entries with it|its count].", **v)
    trace = ctx.say("{first_error} and {last_error} [are|hold|give] the timestamps of the first and [the |]last error [entries|"
        "entry][, as written|, exactly as in the log|, copied as written|, verbatim][. |; ][for|under|in] {last_tb}, "
        "[describe|give|summarise] the [last|final] traceback [in the file|in the log|] [as an object|in an object] "
        "with {exception} and the {file}, {line} ([a number|as a number|numeric|an integer]) and {function} of its "
        "innermost frame ([the last|its final] {File} line).", **v)
    return f"{log} {comps} {keys} {trace}"


# ---------------------------------------------------------------- analyze_logs, builtin-v2 difficulty >= 4
# An incident diagnosis across several inputs: a service log (a background of harmless errors, an earlier
# burst below the threshold, then the incident), a deploy history whose times are written in mixed formats
# and zones, the service's current config and, at difficulty 5, per-minute metrics stamped in epoch seconds.
# The agent finds when the incident started (a rule the instruction states), which deploy caused it and what
# it changed, then writes a report and the config with that one setting put back.


@dataclass(frozen=True)
class _Fault:
    """An error kind whose message points at one config setting (it quotes the setting's current value)."""

    exception: str
    section: str
    key: str
    good: tuple[Any, ...]
    """Values under which the service runs fine."""
    bad: tuple[Any, ...]
    """Values a bad deploy sets: each makes this error fire many times a minute."""
    message: str
    """``{v}``: the setting's value; ``{svc}``: the service."""
    component: str
    others: tuple[tuple[str, Any], ...]
    """The section's other settings, never changed."""


_FAULTS: tuple[_Fault, ...] = (
    _Fault("PoolExhaustedError", "database", "pool_size", (10, 16, 20, 24, 30), (2, 3, 4),
           "QueuePool limit of size {v} overflow 0 reached, connection timed out", "db",
           (("host", "db.internal"), ("port", 5432))),
    _Fault("ConnectionRefusedError", "cache", "port", (6379, 6479), (6739, 6397, 7379),
           "[Errno 111] connect to redis.internal:{v} refused", "cache",
           (("host", "redis.internal"), ("ttl_seconds", 300))),
    _Fault("ReadTimeout", "payments", "timeout_ms", (3000, 4000, 5000, 8000), (150, 200, 250),
           "payments-gateway sent no response within {v} ms", "billing",
           (("url", "https://payments-gateway.internal"), ("retries", 3))),
    _Fault("FileNotFoundError", "storage", "export_dir", ("/var/lib/{svc}/exports", "/srv/{svc}/exports"),
           ("/var/lib/{svc}/export", "/srv/{svc}/exprots", "/var/lib/{svc}/exports/tmp"),
           "[Errno 2] No such file or directory: '{v}/batch.csv'", "reports", (("max_file_mb", 50),)),
    _Fault("SMTPConnectError", "smtp", "port", (587, 25), (2525, 5870, 465),
           "smtp-relay.internal:{v} closed the connection during the greeting", "mailer",
           (("host", "smtp-relay.internal"), ("use_tls", True))),
    _Fault("WorkerMemoryError", "worker", "max_memory_mb", (1024, 1536, 2048), (128, 192, 256),
           "job exceeded the {v} MB memory limit and was killed", "worker", (("concurrency", 4),)),
    _Fault("TokenExpiredError", "auth", "token_ttl_seconds", (900, 1800, 3600), (9, 18, 36),
           "session token expired {v}s after it was issued", "auth", (("issuer", "https://login.internal"),)),
)
# Settings no error points at: what the harmless deploys change.
_HARMLESS: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("app", "workers", (2, 4, 6, 8)), ("logging", "level", ("info", "debug", "warning")),
    ("logging", "format", ("json", "text")), ("logging", "retention_days", (7, 14, 30)),
    ("features", "beta_search", (True, False)), ("features", "dark_mode", (True, False)),
    ("features", "email_digest", (True, False)),
)
_ZONES = ((2, 0), (1, 0), (-5, 0), (5, 30), (-7, 0), (9, 0))
_DEPLOYERS = ("ci-bot", "Ana", "Marek", "Priya", "release-train", "Jonas", "Wen")


@dataclass
class _Deploy:
    at: datetime
    """UTC."""
    changes: list[tuple[str, str, Any, Any]]
    """(section, key, old, new)."""
    ident: str = ""
    role: str = "harmless"


def _deploy_time(rng: random.Random, at: datetime, zone: tuple[int, int], as_json: bool) -> str | int:
    """A deploy's time as people and tools write it: with an offset, in UTC words, or epoch seconds."""
    kind = rng.choice(("offset", "utc", "words", "epoch" if as_json else "offset"))
    if kind == "offset":
        tz = timezone(timedelta(hours=zone[0], minutes=zone[1] if zone[0] >= 0 else -zone[1]))
        return at.replace(tzinfo=UTC).astimezone(tz).isoformat()
    if kind == "utc":
        return at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if kind == "words":
        return at.strftime("%d %b %Y, %H:%M:%S UTC").lstrip("0")
    return int(at.replace(tzinfo=UTC).timestamp())


def _written(rng: random.Random, value: Any, as_json: bool) -> Any:
    """A changed value as a deploy tool records it: sometimes quoted, sometimes a string in JSON."""
    text = _render_value(value)
    if as_json:
        return text if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.4 else value
    return f'"{text}"' if rng.random() < 0.3 else text


def _render_value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _setting_name(fmt: str, sec: str, key: str) -> str:
    if fmt == "env":
        return f"{'FEATURE' if sec == 'features' else sec.upper()}_{key.upper()}"
    return f"{sec}.{key}"


def _render_config(fmt: str, title: str, sections: list[tuple[str, list[tuple[str, Any]]]]) -> str:
    out = [f"; {title}" if fmt == "ini" else f"# {title}"]
    for sec, items in sections:
        if fmt == "yaml":
            out += ["", f"{sec}:"] + [f"  {k}: {_render_value(v)}" for k, v in items]
        elif fmt == "ini":
            out += ["", f"[{sec}]"] + [f"{k} = {_render_value(v)}" for k, v in items]
        else:
            out += ["", f"# --- {sec} ---"] + [f"{_setting_name(fmt, sec, k)}={_render_value(v)}" for k, v in items]
    return "\n".join(out) + "\n"


def _incident_text(ctx: OpContext, v: dict[str, str], *, metrics: bool) -> str:
    """builtin-v2's instruction for the incident variant: the inputs, the two rules, the two outputs."""
    intro = ctx.say(
        "[[Last night|Earlier today|Yesterday|This morning] [our|the] {svc} service [went down|started failing|"
        "fell over|had an outage]|[Our|The] {svc} service [had an incident|broke|went down|started failing] "
        "[last night|earlier today|yesterday|this morning]][ and I need a diagnosis| and I need to know why| and "
        "we need a post-mortem|]. [Its log is|The service log is|Its application log is] {log} ([entries like|"
        "one entry per line:|lines of the form] {fmt}), "
        "[the deploy history is|deploys are recorded in|every deploy is listed in] {deploys} and [the running "
        "config is|the current config is|its live configuration is] {config}[| (the live file)].", **v)
    if metrics:
        intro += " " + ctx.say("[Per-minute metrics are in|The monitoring export is|Minute-by-minute metrics sit "
                               "in|Our monitoring exported per-minute numbers to|The dashboard's per-minute export "
                               "is] {metrics}[| (one row a minute)| if you need them| as well].", **v)
    rules = ctx.say(
        "[The incident [starts|begins] [in|at] the first minute|We count the incident from the first minute] "
        "[with|that has|holding] at least {n} [error entries|ERROR entries|errors][ (any exception)| of any "
        "kind|, whatever the exception|]; [times without a zone are UTC|a time with no zone is UTC|timestamps "
        "without an offset are in UTC]. [The deploy to blame|The culprit|The deploy that caused it] is the "
        "[last|latest|most recent] deploy before that minute that changed a setting the incident's errors "
        "[point at|point to|implicate] (the errors of the exception that [dominates|makes up "
        "most of the errors] from that minute on).", **v)
    peak = ctx.clause(", and {peak} ([the highest|the top|the largest] p95 latency the metrics show from the "
                      "incident's first minute on, [a number|as a number])", **v) if metrics else ""
    report = ctx.say(
        "[Write|Save] [a JSON object|a JSON report|an incident report (a JSON object)] [to|at|as] {json} with "
        "{started} ([the start minute as|that minute, written as|the first minute as] {fmt_min}, UTC), "
        "{exception} ([the exception name|the name of that exception|that exception's name]), {deploy} ([the "
        "deploy's id|the id of the deploy|that deploy's id]), {setting} ([the setting it changed|which setting it "
        "changed], {setting_fmt}), {old} and {new} ([the value before and after that deploy|what the value was "
        "before that deploy and what it set])" + peak + ".", **v)
    fix = ctx.say(
        "[Then|Also|Finally|After that,] [write|save] [the repaired config|a repaired copy of the config|the "
        "fixed configuration] [to|at|as] {out}: [the same file with only that setting put back to its value "
        "before the deploy|the current config with just that one setting reverted|identical to the live config "
        "except that the one setting is restored][; |, and |. ][everything else stays as it is|leave every other "
        "setting as it is|no other setting changes][| — what later deploys changed included| (keep what later "
        "deploys changed)].", **v)
    return f"{intro} {rules} {report} {fix}"


def _incident_logs(ctx: OpContext) -> OpStep:
    """analyze_logs at builtin-v2 difficulty >= 4: find the incident's start, its cause among the deploys,
    and revert it (see the section comment above)."""
    rng, hard = ctx.rng, ctx.difficulty >= 5
    svc = rng.choice(_SERVICES)
    style = rng.choice(("plain", "logfmt"))
    fmt = rng.choice(("yaml", "ini", "env"))
    as_json = rng.random() < 0.5
    faults = rng.sample(_FAULTS, 4 + hard)
    culprit, burst, background = faults[0], faults[1], faults[1:]
    n_min = rng.choice((4, 5, 6))
    length = 80 + 15 * hard + rng.randrange(0, 16)
    start = length - rng.randint(18, 30)
    # ---- the settings: initial values, then the deploys in time order
    def fill(value: Any) -> Any:
        return value.format(svc=svc) if isinstance(value, str) else value

    values: dict[tuple[str, str], Any] = {(f.section, f.key): fill(rng.choice(f.good)) for f in faults}
    harmless = list(_HARMLESS)
    for sec, key, choices in harmless:
        values[(sec, key)] = rng.choice(choices)
    initial = dict(values)
    t0 = datetime(2026, rng.randint(1, 11), rng.randint(2, 27), rng.randint(0, 21), rng.randint(0, 59))
    cause_at = start - rng.randint(7, 25)
    burst_min = rng.randint(12, cause_at - 4)
    deploys: list[_Deploy] = []

    def harmless_changes(k: int) -> list[tuple[str, str, Any, Any]]:
        out = []
        for sec, key, choices in rng.sample(harmless, k):
            new = rng.choice([c for c in choices if c != values[(sec, key)]])
            out.append((sec, key, values[(sec, key)], new))
        return out

    def minute(m: int, lo: int = 0, hi: int = 59) -> datetime:
        return t0 + timedelta(minutes=m, seconds=rng.randint(lo, hi))

    def deploy(at: datetime, changes: list[tuple[str, str, Any, Any]], role: str = "harmless") -> None:
        for sec, key, _old, new in changes:
            values[(sec, key)] = new
        deploys.append(_Deploy(at, changes, role=role))

    ck_key = (culprit.section, culprit.key)
    old_days = sorted(rng.sample(range(1, 9), 3), reverse=True)
    deploy(t0 - timedelta(days=old_days[0], minutes=rng.randint(0, 600)), harmless_changes(rng.randint(1, 2)))
    if rng.random() < 0.7:  # an earlier, harmless change of the same setting: the revert target is not the oldest
        prior = rng.choice([fill(g) for g in culprit.good if fill(g) != values[ck_key]])
        deploy(t0 - timedelta(days=old_days[1], minutes=rng.randint(0, 600)), [(*ck_key, values[ck_key], prior)]
               + harmless_changes(rng.randint(0, 1)))
    deploy(t0 - timedelta(days=old_days[2], minutes=rng.randint(0, 600)), harmless_changes(rng.randint(1, 2)))
    b_key = (burst.section, burst.key)
    b_new = rng.choice([fill(g) for g in burst.good if fill(g) != values[b_key]])
    deploy(minute(burst_min - rng.randint(3, 8)), [(*b_key, values[b_key], b_new)], role="burst")
    bad = fill(rng.choice(culprit.bad))
    old_value = values[ck_key]
    cause_changes = [(*ck_key, old_value, bad)] + harmless_changes(rng.randint(0, 1))
    rng.shuffle(cause_changes)
    deploy(minute(cause_at), cause_changes, role="cause")
    deploy(minute(start - rng.randint(1, 4)), harmless_changes(rng.randint(1, 2)), role="right_before")
    deploy(minute(start + rng.randint(3, 10)), harmless_changes(1), role="after")
    for d in deploys:
        d.ident = f"d-{rng.getrandbits(28):07x}"
    # ---- the errors, minute by minute: (second, fault)
    errs: list[list[tuple[int, _Fault]]] = [[] for _ in range(length)]
    for m in range(length):
        if rng.random() < 0.2:
            errs[m].append((rng.randint(0, 59), rng.choice(background)))
    errs[burst_min] = [(s, burst) for s in rng.sample(range(60), n_min - 1)]
    if hard:  # n_min errors within seconds, but split across two calendar minutes
        split = rng.choice([m for m in range(burst_min + 3, cause_at - 1)] or [burst_min + 2])
        errs[split] = [(s, background[-1]) for s in rng.sample(range(44, 60), n_min - 2)]
        errs[split + 1] = [(s, background[-1]) for s in rng.sample(range(12), 2)]
    errs[start - 1] = [(s, culprit) for s in rng.sample(range(30, 60), rng.randint(1, n_min - 1))]
    for m in range(start, length):
        k = rng.randint(n_min, n_min + 5) if m == start else max(1, rng.randint(n_min - 2, n_min + 5))
        errs[m] = [(s, culprit) for s in rng.sample(range(60), k)] + [
            (rng.randint(0, 59), rng.choice(background))] * (rng.random() < 0.2)
    current = values

    def value_at(key: tuple[str, str], when: datetime) -> Any:
        value = initial[key]
        for d in deploys:
            value = next((n for s, k, _o, n in d.changes if (s, k) == key and d.at <= when), value)
        return value
    # ---- the log lines
    comps = sorted({f.component for f in faults} | {"api", "scheduler"})
    lines: list[str] = []
    for m in range(length):
        entries: list[tuple[int, str, str, str]] = []
        for s, f in errs[m]:
            v = value_at((f.section, f.key), t0 + timedelta(minutes=m, seconds=s))
            entries.append((s, "ERROR", f.component, f"{f.exception}: {f.message.format(v=v, svc=svc)}"))
        for _ in range(rng.randint(1, 3)):
            level = rng.choices(("DEBUG", "INFO", "WARNING"), weights=(20, 60, 20))[0]
            text = _fill(rng, rng.choice({"DEBUG": _DEBUG, "INFO": _INFO, "WARNING": _WARN}[level]), svc)
            entries.append((rng.randint(0, 59), level, rng.choice(comps), text))
        for s, level, comp, text in sorted(entries, key=lambda e: e[0]):
            t = t0 + timedelta(minutes=m, seconds=s)
            if style == "plain":
                lines.append(f"{t:%Y-%m-%d %H:%M:%S} {level:<7} [{comp}] {text}")
            else:
                lv = {"WARNING": "warn"}.get(level, level.lower())
                lines.append(f'ts={t:%Y-%m-%dT%H:%M:%SZ} level={lv} component={comp} msg="{text}"')
    # ---- the config (as it runs now), the deploy history, the metrics
    sections: list[tuple[str, list[tuple[str, Any]]]] = [("app", [("name", svc), ("port", rng.choice((8000, 8080, 9000))),
                                                                   ("workers", current[("app", "workers")])])]
    for f in sorted(faults, key=lambda f: f.section):
        items = [(f.key, current[(f.section, f.key)]), *f.others]
        sections.append((f.section, sorted(items, key=lambda kv: kv[0] != "host")))
    sections += [(sec, [(k, current[(s, k)]) for s, k, _ in _HARMLESS if s == sec]) for sec in ("logging", "features")]
    title = f"{svc} configuration (production)"
    live = _render_config(fmt, title, sections)
    repaired = _render_config(fmt, title, [(s, [(k, old_value if (s, k) == ck_key else v) for k, v in items])
                                           for s, items in sections])
    ext = {"yaml": "yaml", "ini": "ini", "env": "env"}[fmt]
    config_path, out_path = f"input/config/{svc}.{ext}", f"output/step{ctx.step}_{svc}.{ext}"
    zone = rng.choice(_ZONES)
    newest_first = rng.random() < 0.5
    shown = sorted(deploys, key=lambda d: d.at, reverse=newest_first)
    release = [rng.randint(2, 6), rng.randint(0, 20), 0]
    versions = {}
    for d in deploys:
        release[2] += rng.randint(1, 3)
        versions[d.ident] = ".".join(map(str, release))
    who = {d.ident: rng.choice(_DEPLOYERS) for d in deploys}
    if as_json:
        history_path = "input/deploys/history.json"
        doc = [{"id": d.ident, "release": versions[d.ident], "deployed_at": _deploy_time(rng, d.at, zone, True),
                "by": who[d.ident], "changes": [{"setting": _setting_name(fmt, s, k), "from": _written(rng, o, True),
                                                 "to": _written(rng, n, True)} for s, k, o, n in d.changes]}
               for d in shown]
        history = json.dumps(doc, indent=2) + "\n"
    else:
        history_path = "input/deploys/HISTORY.md"
        parts = [f"# Deploy history: {svc}", ""]
        for d in shown:
            parts += [f"## {d.ident} · {_deploy_time(rng, d.at, zone, False)}",
                      f"Release {versions[d.ident]}, deployed by {who[d.ident]}", ""]
            parts += [f"- `{_setting_name(fmt, s, k)}`: {_written(rng, o, False)} → {_written(rng, n, False)}"
                      for s, k, o, n in d.changes] + [""]
        history = "\n".join(parts)
    started = (t0 + timedelta(minutes=start)).strftime("%Y-%m-%d %H:%M")
    cause = next(d for d in deploys if d.role == "cause")
    setting = _setting_name(fmt, *ck_key)
    report: dict[str, Any] = {"started_at": started, "exception": culprit.exception, "deploy": cause.ident,
                              "setting": setting, "old_value": old_value, "new_value": bad}
    inputs = {f"input/logs/{svc}.log": ("\n".join(lines) + "\n").encode(), history_path: history.encode(),
              config_path: live.encode()}
    metrics_path = f"input/metrics/{svc}_per_minute.csv"
    if hard:
        p95 = [rng.randint(80, 260) for _ in range(length)]
        for m in range(start, length):
            p95[m] = rng.randint(700, 2600)
        spike = rng.randint(5, start - 6)  # a traffic spike before the incident, higher than its peak
        p95[spike] = max(p95[start:]) + rng.randint(150, 900)
        rows = ["ts,requests,p95_ms,cpu_pct"] + [
            f"{int((t0 + timedelta(minutes=m)).replace(tzinfo=UTC).timestamp())},"
            f"{rng.randint(300, 900) * (3 if m == spike else 1)},{p95[m]},{rng.randint(12, 55 + 40 * (m == spike))}"
            for m in range(length)]
        inputs[metrics_path] = ("\n".join(rows) + "\n").encode()
        report["peak_p95_ms"] = max(p95[start:])
    json_path = f"output/step{ctx.step}_incident.json"
    fmt_words = ("`<timestamp> <LEVEL> [<component>] <message>`" if style == "plain" else
                 "`ts=<timestamp> level=<level> component=<component> msg=\"<message>\"`")
    setting_fmt = ctx.clause("[the variable name as the config spells it|its variable name|named as in the "
                             "config file]" if fmt == "env" else "[written|spelled|given] as {sk}", sk=_code("section.key"))
    v = {"svc": _code(svc), "log": _code(f"input/logs/{svc}.log"), "fmt": fmt_words, "deploys": _code(history_path),
         "config": _code(config_path), "metrics": _code(metrics_path), "n": str(n_min), "json": _code(json_path),
         "out": _code(out_path), "started": _code("started_at"), "fmt_min": _code("YYYY-MM-DD HH:MM"),
         "exception": _code("exception"), "deploy": _code("deploy"), "setting": _code("setting"),
         "setting_fmt": setting_fmt, "old": _code("old_value"), "new": _code("new_value"),
         "peak": _code("peak_p95_ms")}
    instruction = _incident_text(ctx, v, metrics=hard)
    step = f"step{ctx.step}"
    checks = [ck.json_equal(f"{step}_incident_start", json_path, started, key_path=["started_at"]),
              ck.json_equal(f"{step}_incident_exception", json_path, culprit.exception, key_path=["exception"]),
              ck.json_equal(f"{step}_incident_deploy", json_path, cause.ident, key_path=["deploy"]),
              ck.json_equal(f"{step}_incident_setting", json_path, setting, key_path=["setting"]),
              ck.json_equal(f"{step}_incident_old_value", json_path, old_value, key_path=["old_value"], tol=0),
              ck.json_equal(f"{step}_incident_new_value", json_path, bad, key_path=["new_value"], tol=0)]
    if hard:
        checks.append(ck.json_equal(f"{step}_incident_peak_p95", json_path, report["peak_p95_ms"],
                                    key_path=["peak_p95_ms"], tol=0))
    checks.append(ck.config_equal(f"{step}_config_repaired", out_path, repaired, fmt))
    text = json.dumps(report, indent=2) + "\n"
    log_rel = f"input/logs/{svc}.log"
    count = (f"grep ' ERROR ' {log_rel} | cut -c1-16" if style == "plain" else
             f"grep 'level=error' {log_rel} | cut -c4-19")
    oracle = [exec_call(f"{count} | uniq -c"), write_call(json_path, text), write_call(out_path, repaired)]
    strings = tuple(str(x) for x in (culprit.exception, cause.ident, setting, old_value, bad) if isinstance(x, str))
    facts = [["the incident start (UTC)", started], ["the deploy that caused it", cause.ident],
             ["the setting it changed", setting], ["the value to restore", _render_value(old_value)]]
    return OpStep(
        op="analyze_logs", instruction=instruction, oracle=oracle, checks=checks,
        outputs=[OutputSpec(json_path, ("missing", "value", "format"), checked_values=strings),
                 OutputSpec(out_path, ("missing", "value"), checked_values=(_render_value(old_value),))],
        artifact=Text(path=json_path, content=text, label="incident report", facts={"described": facts}),
        input_files=inputs,
    )


class AnalyzeLogs:
    """Summarise an application log: entries per component, error types, and the last traceback (builtin-v2,
    difficulty >= 4: diagnose an incident from the log, the deploy history and the config, and revert its cause)."""

    name = "analyze_logs"
    category = "development"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        if ctx.v2 and ctx.difficulty >= 4:  # builtin-v2's harder variant: an incident diagnosis
            return _incident_logs(ctx)
        rng = ctx.rng
        svc = rng.choice(_SERVICES)
        style = rng.choice(("plain", "logfmt"))
        tbs = rng.sample(_TRACEBACKS, 1 + (ctx.difficulty >= 3))
        comps = sorted({tb[2][0][0].split("/")[0] for tb in tbs})
        comps += rng.sample([c for c in _EXTRA_COMPONENTS if c not in comps], k=2 + ctx.difficulty // 2)
        comps = sorted(comps)
        n = 18 + 7 * ctx.difficulty + rng.randrange(0, 6)
        levels = [rng.choices(("DEBUG", "INFO", "WARNING", "ERROR"), weights=(15, 50, 20, 15))[0] for _ in range(n)]
        entry_comps = [rng.choice(comps) for _ in range(n)]
        for i, c in enumerate(comps):  # every component shows up
            entry_comps[(i * 5 + 1) % n] = c
        tb_at = sorted(rng.sample(range(2, n), len(tbs)))
        plain_err = [i for i in range(n) if levels[i] == "ERROR" and i not in tb_at]
        while len(plain_err) < 2:
            i = rng.choice([j for j in range(1, n) if j not in tb_at and j not in plain_err])
            levels[i] = "ERROR"
            plain_err.append(i)
        t = datetime(2026, rng.randint(1, 11), rng.randint(1, 28), rng.randint(0, 20), rng.randint(0, 59), rng.randint(0, 59))
        lines: list[str] = []
        stamps: list[str] = []
        error_types: dict[str, int] = {}
        last_tb: dict[str, Any] = {}
        for i in range(n):
            t += timedelta(seconds=rng.randint(1, 95))
            ts = t.strftime("%Y-%m-%d %H:%M:%S") if style == "plain" else t.strftime("%Y-%m-%dT%H:%M:%SZ")
            stamps.append(ts)
            trace: list[str] = []
            if i in tb_at:
                exc, msg, frames = tbs[tb_at.index(i)]
                level, comp = "ERROR", frames[0][0].split("/")[0]
                entry_comps[i] = comp
                text = f"{exc}: {msg}"
                trace = ["Traceback (most recent call last):"]
                line_no = 0
                for rel, func, code in frames:
                    line_no = rng.randint(18, 420)
                    trace += [f'  File "/srv/{svc}/{rel}", line {line_no}, in {func}', f"    {code}"]
                trace.append(text)
                last_tb = {"exception": exc, "file": f"/srv/{svc}/{frames[-1][0]}", "line": line_no,
                           "function": frames[-1][1]}
            else:
                level, comp = levels[i], entry_comps[i]
                if level == "ERROR":
                    exc, tmpl = rng.choice(_PLAIN_ERRORS)
                    text = f"{exc}: {_fill(rng, tmpl, svc)}"
                else:
                    text = _fill(rng, rng.choice({"DEBUG": _DEBUG, "INFO": _INFO, "WARNING": _WARN}[level]), svc)
            levels[i] = level
            if level == "ERROR":
                name = text.split(":", 1)[0]
                error_types[name] = error_types.get(name, 0) + 1
            if style == "plain":
                lines.append(f"{ts} {level:<7} [{comp}] {text}")
            else:
                lv = {"WARNING": "warn"}.get(level, level.lower())
                lines.append(f'ts={ts} level={lv} component={comp} msg="{text}"')
            lines += trace
        log_path = f"input/logs/{svc}.log"
        rows: list[Row] = []
        for c in comps:
            idx = [i for i in range(n) if entry_comps[i] == c]
            rows.append({"component": c, "entries": len(idx), "warnings": sum(levels[i] == "WARNING" for i in idx),
                         "errors": sum(levels[i] == "ERROR" for i in idx), "first_seen": stamps[idx[0]],
                         "last_seen": stamps[idx[-1]]})
        errs = [i for i in range(n) if levels[i] == "ERROR"]
        comp_path = f"output/step{ctx.step}_log_components.csv"
        json_path = f"output/step{ctx.step}_log_errors.json"
        table = Table(columns=["component", "entries", "warnings", "errors", "first_seen", "last_seen"], rows=rows,
                      path=comp_path, fmt="csv", label="log components", key="component",
                      numeric=["entries", "warnings", "errors"])
        doc = {"entries": n, "error_types": dict(sorted(error_types.items())), "first_error": stamps[errs[0]],
               "last_error": stamps[errs[-1]], "last_traceback": last_tb}
        fmt_words = ("`<timestamp> <LEVEL> [<component>] <message>`" if style == "plain" else
                     "`ts=<timestamp> level=<level> component=<component> msg=\"<message>\"`")
        instruction = pick(rng, (
            f"The log of our `{svc}` service is saved at `{log_path}`: one entry per line as {fmt_words}; lines that "
            f"do not start with a timestamp are traceback lines belonging to the entry above and are not entries. "
            f"Write `{comp_path}`, a CSV with header `component,entries,warnings,errors,first_seen,last_seen`: one row "
            f"per component, sorted by name, with its number of entries (all levels), of warning entries and of error "
            f"entries, and the timestamps of its first and last entry copied exactly as written in the log. Then write "
            f"`{json_path}`, a JSON object with `entries` (total entries), `error_types` (for error entries, the "
            f"exception name before the first `:` of the message, mapped to how many times it occurs), `first_error` "
            f"and `last_error` (timestamps of the first and last error entry, as written), and `last_traceback`: for "
            f"the last traceback in the file, an object with `exception`, and the `file`, `line` (a number) and "
            f"`function` of its innermost frame (the last `File ...` line).",
            f"Please analyse `{log_path}` (entries look like {fmt_words}; indented and `Traceback`/exception lines "
            f"continue the entry before them and do not count as entries). Produce `{comp_path}` (CSV, columns "
            f"`component,entries,warnings,errors,first_seen,last_seen`, one row per component in alphabetical order: "
            f"entry count over all levels, warning count, error count, first and last timestamp exactly as in the "
            f"log) and `{json_path}` with keys `entries` (number of entries), `error_types` (exception name — the text "
            f"before the first colon of each error message — to count), `first_error`, `last_error` (timestamps as "
            f"written) and `last_traceback` (`exception`, plus `file`, `line` as a number and `function` taken from "
            f"the innermost `File` line of the final traceback in the log).",
        ))
        if ctx.v2:
            instruction = _analyze_logs_text(ctx, svc=svc, log_path=log_path, fmt_words=fmt_words, comp_path=comp_path,
                                             json_path=json_path)
        checks = [
            ck.table_equal(f"step{ctx.step}_component_counts", _project(table, ["component", "entries", "warnings", "errors"]),
                           exact_columns=False),
            ck.table_equal(f"step{ctx.step}_component_times", _project(table, ["component", "first_seen", "last_seen"]),
                           exact_columns=False),
            ck.table_equal(f"step{ctx.step}_component_table", table),
            ck.json_equal(f"step{ctx.step}_entry_total", json_path, n, key_path=["entries"]),
            ck.json_equal(f"step{ctx.step}_error_types", json_path, doc["error_types"], key_path=["error_types"]),
            ck.json_equal(f"step{ctx.step}_first_error", json_path, doc["first_error"], key_path=["first_error"]),
            ck.json_equal(f"step{ctx.step}_last_error", json_path, doc["last_error"], key_path=["last_error"]),
            ck.json_equal(f"step{ctx.step}_last_traceback", json_path, last_tb, key_path=["last_traceback"]),
        ]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(comp_path, serialize(table)), write_call(json_path, json.dumps(doc, indent=2) + "\n")],
            checks=checks,
            outputs=[OutputSpec(comp_path, TABLE_MUTATIONS),
                     OutputSpec(json_path, ("missing", "value", "format"))],
            artifact=table, input_files={log_path: ("\n".join(lines) + "\n").encode()},
        )
