"""File and content handling operations."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Table, Text, cell, describe_format, serialize
from clawgym_env.synth.coherence import summable
from clawgym_env.synth.datagen import make_table
from clawgym_env.synth.ops import decoys
from clawgym_env.synth.ops.base import (
    TABLE_MUTATIONS,
    Mutation,
    OpContext,
    OpStep,
    OutputSpec,
    table_step,
    write_call,
)
from clawgym_env.synth.ops.data_ops import FMT_SAY, choose, tick, ticks
from clawgym_env.synth.personas import FIRST_NAMES, LAST_NAMES
from clawgym_env.synth.phrasing import join_list, pick
from clawgym_env.synth.vocab import Vocab


class ReadExtract:
    """Read a local data file and extract some fields of every record into a new file."""

    name = "read_extract"
    category = "file_content"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        schema = ctx.schema()
        n = 5 + 3 * ctx.difficulty + rng.randrange(0, 4)
        in_fmt = rng.choice(("csv", "json", "jsonl", "tsv"))
        ext = {"csv": "csv", "json": "json", "jsonl": "jsonl", "tsv": "tsv"}[in_fmt]
        src = make_table(rng, schema, n, f"input/{schema.base_name}.{ext}", in_fmt)
        keep = [src.key] + rng.sample([c for c in src.columns if c != src.key], k=min(len(src.columns) - 1, 2 + ctx.difficulty // 2))
        keep = [c for c in src.columns if c in keep]  # keep the file's column order
        out_fmt = rng.choice(("csv", "json"))
        out = Table(columns=keep, rows=[{c: r[c] for c in keep} for r in src.rows],
                    path=f"output/step{ctx.step}_{schema.base_name}_extract.{out_fmt}", fmt=out_fmt, label=src.label,
                    key=src.key, numeric=[c for c in src.numeric if c in keep],
                    category=src.category if src.category in keep else None)
        if not out.numeric:  # later steps filter and aggregate on numbers: keep one
            extra = src.numeric[0]
            out.columns.append(extra)
            for row, full in zip(out.rows, src.rows):
                row[extra] = full[extra]
            out.numeric = [extra]
            keep = out.columns
        cols = join_list([f"`{c}`" for c in keep])
        instruction = pick(rng, (
            f"Read `{src.path}` ({describe_format(in_fmt)} of {n} {src.label}) and extract {cols} for every record, "
            f"in the original order, into `{out.path}` as {describe_format(out_fmt)} with exactly those columns.",
            f"Take the {src.label} in `{src.path}` and copy just the fields {cols} of each one, keeping the file's "
            f"order, to `{out.path}` ({describe_format(out_fmt)}; columns in that order, nothing else).",
        ))
        inputs: dict[str, bytes] = {}
        if ctx.v2:
            which, chosen = _selection_v2(ctx, src)
            out.rows = [{c: r[c] for c in out.columns} for r in chosen]
            named = tick(src.path)
            if decoys.wanted(ctx):  # the file is described, beside a near-miss the agent must not use
                side = decoys.side_rng(ctx, self.name)
                spot = decoys.place(ctx, side, "input", schema.base_name, ext, src.label)
                src.path, named = spot.path, spot.phrase
                stale = Table(columns=src.columns, rows=decoys.stale_rows(side, src.rows, src.numeric),
                              path=spot.decoy, fmt=src.fmt)
                inputs[spot.decoy] = serialize(stale).encode()
            v = dict(src=named, n=n, label=src.label, cols=ticks(keep), out=tick(out.path), which=which)
            fin = {"csv": "[a CSV file|a CSV]", "tsv": "[a tab-separated file|a TSV file]", "json": "[a JSON "
                   "array|a JSON file]", "jsonl": "[a JSON Lines file|JSONL]"}[in_fmt]
            fout = FMT_SAY[out_fmt]
            instruction = [
                "[Read|Open|Go through|Load] {src} (" + fin + " [of|holding|with] {n} {label}) and [extract|copy|pull "
                "out|take] {cols} [for|of] {which}, [in the original order|keeping the file's order|in the order they "
                "appear], [into|to] {out} as " + fout + " [with exactly those columns|and no other columns|with just "
                "those columns].",
                "[Take|Use] {which} in {src} and [copy|keep|carry over] [just|only] their fields {cols} [to|into] {out} "
                "as " + fout + "[, keeping the file's order|, in their original order|, same order as the file]"
                "[ and nothing else| and no other columns|].",
                "I [only need|just need|need only] {cols} [of|for] {which} in {src}[;|. Please] [[write|save] "
                "[them|those fields|that subset] [to|into]|put [them|those fields|that subset] in] {out} as " + fout +
                ", [one row per record|a row for each record] in the [original|same|file's] order[| and no other "
                "columns|, nothing else].",
            ][choose(ctx, 3)]
            instruction = ctx.say(instruction, **v)
            instruction = instruction.replace(". please ", ". Please ")
        return table_step(self.name, instruction, out, [ck.table_equal(f"step{ctx.step}_extracted", out)],
                          input_files={src.path: serialize(src).encode(), **inputs})


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _selection_v2(ctx: OpContext, src: Table) -> tuple[str, list[dict[str, Any]]]:
    """builtin-v2: which records to extract, said in words the agent must apply to the data (a month
    boundary on the date column, or one value of the category column left out), and those records.
    A fixed script that follows backticked literals cannot make the cut; the check compares rows."""
    rng, rows, n = ctx.rng, src.rows, len(src.rows)
    dated = [c for c in src.columns if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(r[c])) for r in rows)]
    options: list[tuple[str, list[dict[str, Any]]]] = []
    if dated:
        col = dated[0]
        for month in range(2, 12):
            start = f"2026-{month:02d}-01"
            later = [r for r in rows if str(r[col]) >= start]
            name = _MONTHS[month - 1]
            if 0.35 * n <= len(later) <= 0.8 * n:
                options.append((ctx.clause(
                    "the {label} [dated {m} 2026 or later|dated on or after 1 {m} 2026|with a {col} in {m} 2026 or "
                    "later|whose {col} is on or after 1 {m} 2026|whose {col} falls in {m} 2026 or later]",
                    label=src.label, col=tick(col), m=name), later))
            earlier = [r for r in rows if str(r[col]) < start]
            if 0.35 * n <= len(earlier) <= 0.8 * n:
                options.append((ctx.clause(
                    "the {label} [dated before {m} 2026|whose {col} is before 1 {m} 2026|with a {col} earlier than 1 "
                    "{m} 2026|whose {col} falls before {m} 2026]", label=src.label, col=tick(col), m=name), earlier))
    if not options and src.category:
        col = src.category
        for value in sorted({str(r[col]) for r in rows}):
            rest = [r for r in rows if str(r[col]) != value]
            if 0.4 * n <= len(rest) <= 0.85 * n:
                options.append((ctx.clause(
                    "the {label} [other than|except] the [ones|records] whose {words} is {v}",
                    label=src.label, words=col.replace("_", " "), v=value), rest))
    if not options:
        return ctx.clause("[every record|each record|all the {label}]", label=src.label), list(rows)
    return rng.choice(options)


# ================================================================= write_structured
def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _snake(label: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_") or "records"


class WriteStructured:
    """Restructure the previous step's table into another exact shape (wrapper, grouping, keyed, Markdown)."""

    name = "write_structured"
    category = "file_content"
    consumes: tuple[str, ...] = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = ctx.upstream
        if not isinstance(src, Table) or not src.rows:
            raise TypeError("write_structured needs a non-empty table")
        key = src.key or src.columns[0]
        variants = ["records", "markdown"]
        if any("|" in cell(r.get(c)) or "\n" in cell(r.get(c)) for r in src.rows for c in src.columns):
            variants.remove("markdown")  # a Markdown table cannot hold these cells unambiguously
        n_groups = len({str(r[src.category]) for r in src.rows}) if src.category in src.columns else 0
        if src.category and src.category != key and 1 < n_groups < len(src.rows):
            variants.append("grouped")
        keys = [r.get(key) for r in src.rows]
        if all(isinstance(k, str) and k for k in keys) and len(set(keys)) == len(keys) and len(src.columns) > 1:
            variants.append("keyed")
        if ctx.v2 and not any(summable(src, c) for c in src.numeric):
            variants = [v for v in variants if v != "markdown"] or variants  # its share column needs a total
        variant = rng.choice(variants)
        build = {"records": self._records, "markdown": self._markdown, "grouped": self._grouped,
                 "keyed": self._keyed}[variant]
        return build(ctx, src, key)

    def _records(self, ctx: OpContext, src: Table, key: str) -> OpStep:
        """A JSON object with provenance, a count and the records under a named list."""
        rng, n = ctx.rng, len(src.rows)
        list_key = _snake(src.label)
        path = f"output/step{ctx.step}_{list_key}_bundle.json"
        rows = [{c: r.get(c) for c in src.columns} for r in src.rows]
        doc = {"source": src.path, "count": n, list_key: rows}
        instruction = pick(rng, (
            f"Package `{src.path}` as a single JSON object in `{path}` with exactly three keys: `source` (the string "
            f"`{src.path}`), `count` (the number of {src.label}) and `{list_key}` (every record as an object with the "
            f"keys {join_list([f'`{c}`' for c in src.columns])}, in the file's order; numbers as JSON numbers).",
            f"Write `{path}`: a JSON object whose `{list_key}` key holds all rows of `{src.path}` as objects (same "
            f"column names, same order, numeric values as numbers), plus `count` = how many rows there are and "
            f"`source` = `\"{src.path}\"`. No other keys.",
        ))
        if ctx.v2:
            v = dict(src=tick(src.path), path=tick(path), label=src.label, list=tick(list_key), cols=ticks(src.columns),
                     source=tick("source"), count=tick("count"), srcq=tick(f'"{src.path}"'))
            fields = "[the keys {cols}|all its fields|the same fields as in the file]"
            instruction = ctx.say([
                "[Package|Bundle|Wrap] {src} [as|into] a single JSON object [in|at] {path} with exactly three keys: "
                "{source} (the string {srcq}), {count} ([the number of {label}|how many {label} there are]) and {list} "
                "([every record|each record|all the rows] as an object with " + fields + ", [in the file's order|in "
                "their original order|keeping the file's order][; numbers as JSON numbers|, numbers as JSON numbers| "
                "with numeric values as numbers]).",
                "[Write|Create|Produce] {path}: a JSON object whose {list} key holds [all rows|every row|each record] "
                "of {src} as objects ([same|the same] column names, [same|original] order, numeric values as "
                "[numbers|JSON numbers]), [plus|together with|along with] {count} = [how many rows there are|the number "
                "of rows|the number of {label}] and {source} = {srcq}[; no other keys|, and no other keys|, nothing "
                "else].",
            ][choose(ctx, 2)], **v)
        out = Table(columns=list(src.columns), rows=rows, path=path, fmt="json", label=src.label, key=src.key,
                    numeric=list(src.numeric), category=src.category)
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")],
            checks=[ck.json_equal(f"step{ctx.step}_bundle_source", path, src.path, key_path=["source"]),
                    ck.json_equal(f"step{ctx.step}_bundle_count", path, n, key_path=["count"]),
                    ck.json_equal(f"step{ctx.step}_bundle_records", path, rows, key_path=[list_key])],
            outputs=[OutputSpec(path, ("missing", "value", "format"))],
            artifact=out,
        )

    def _markdown(self, ctx: OpContext, src: Table, key: str) -> OpStep:
        """A Markdown table under a heading, optionally re-sorted."""
        rng = ctx.rng
        title = pick(rng, (src.label.capitalize(), f"{src.label.capitalize()} overview", f"{src.label.capitalize()} list"))
        path = f"output/step{ctx.step}_{_snake(src.label)}_table.md"
        rows = [dict(r) for r in src.rows]
        sortable = [c for c in src.numeric if all(_is_number(r.get(c)) for r in src.rows)]
        if ctx.v2:  # each row's share of a total: only of a column whose total means something
            sortable = [c for c in sortable if summable(src, c)]
        sort_col = rng.choice(sortable) if sortable and ctx.difficulty >= 3 else None
        if sort_col:
            rows.sort(key=lambda r: (-float(r[sort_col]), cell(r.get(key))))  # type: ignore[arg-type]
            order = f"sorted by `{sort_col}` from highest to lowest (ties by `{key}`, A to Z)"
        else:
            order = f"in the same order as `{src.path}`"
        columns, numeric = list(src.columns), list(src.numeric)
        if ctx.v2 and sortable:
            # builtin-v2: a column the agent computes (each row's share of the total), so the table is
            # work and not a re-sort a fixed script does from the instruction alone
            if not sort_col:
                sort_col = rng.choice(sortable)
                rows.sort(key=lambda r: (-float(r[sort_col]), cell(r.get(key))))  # type: ignore[arg-type]
            total = sum(float(r[sort_col]) for r in rows)  # type: ignore[arg-type]
            if total > 0:
                share = "share_pct" if "share_pct" not in columns else f"{sort_col}_share_pct"
                for r in rows:
                    r[share] = round(100 * float(r[sort_col]) / total, 2)  # type: ignore[arg-type]
                columns.append(share)
                numeric.append(share)
        out = Table(columns=columns, rows=rows, path=path, fmt="md", label=src.label, key=src.key,
                    numeric=numeric, category=src.category)
        content = f"## {title}\n\n" + serialize(out)
        cols = join_list([f"`{c}`" for c in src.columns])
        instruction = pick(rng, (
            f"Turn `{src.path}` into a Markdown document `{path}`: a level-2 heading `## {title}`, a blank line, then "
            f"a Markdown table (header row, `---` separator row) with the columns {cols} and one row per record, "
            f"{order}. Write numbers plainly (no currency symbols).",
            f"Create `{path}` containing the heading `## {title}` followed by a pipe-delimited Markdown table of every "
            f"row of `{src.path}` (columns {cols}, in that order), {order}.",
        ))
        if ctx.v2:
            extra = columns[len(src.columns):]
            v = dict(src=tick(src.path), path=tick(path), heading=tick(f"## {title}"), cols=ticks(src.columns),
                     sc=tick(sort_col), key=tick(key), sep=tick("---"), share=tick(extra[0]) if extra else "")
            how = ("[sorted by {sc} from highest to lowest|ordered by {sc}, highest first|with the largest {sc} first]"
                   "[ (ties by {key}, A to Z)|, ties broken by {key} alphabetically|, breaking ties on {key} A to Z]"
                   if sort_col else "[in the same order as {src}|in the order of {src}|keeping the row order of {src}]")
            instruction = ctx.say([
                "[Turn|Convert|Render] {src} into a Markdown document {path}: a level-2 heading {heading}, [a blank "
                "line, then|followed by|and under it] a Markdown table ([header row and|with a header row and] a {sep} "
                "separator row) with the columns {cols} and one row per record, " + how + "[; write numbers plainly|; "
                "keep numbers plain|, numbers written plainly] [(no currency symbols)|, without currency symbols|, no "
                "currency signs].",
                "[Create|Write|Make] {path} [containing|with] the heading {heading} followed by a [pipe-delimited "
                "|]Markdown table of [every row|all the rows|each record] of {src} ([columns {cols}, in that order|with "
                "the columns {cols}]), " + how + "[| and with numbers written plainly|, numbers without currency "
                "symbols].",
            ][choose(ctx, 2)], **v)
            if extra:
                instruction += " " + ctx.say(
                    "[Add|Append|Include] [a last|one more|a final] column {share} [holding|with|giving] each row's "
                    "[share|percentage] of the [total|sum] {sc} [over all rows|of the whole table|across every row], "
                    "[in percent|as a percentage] [rounded to|to] 2 decimals[| (so the column adds up to about 100)].", **v)
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)],
            params={"summed": [sort_col]} if len(columns) > len(src.columns) else {},
            checks=[ck.heading(f"step{ctx.step}_md_heading", path, title, level=2, exact=True) if ctx.v2 else
                    ck.regex(f"step{ctx.step}_md_heading", path, rf"^## {re.escape(title)}\s*$"),
                    ck.table_equal(f"step{ctx.step}_md_table", out)],
            outputs=[OutputSpec(path, TABLE_MUTATIONS)],
            artifact=out,
        )

    def _grouped(self, ctx: OpContext, src: Table, key: str) -> OpStep:
        """A JSON object grouping record ids (or id + number pairs) by the category column."""
        rng = ctx.rng
        cat = src.category
        assert cat is not None
        metric = rng.choice(src.numeric) if src.numeric and ctx.difficulty >= 3 else None
        groups: dict[str, list[Any]] = {}
        for r in src.rows:
            item: Any = {key: r.get(key), metric: r.get(metric)} if metric else r.get(key)
            groups.setdefault(str(r[cat]), []).append(item)
        doc = dict(sorted(groups.items()))
        path = f"output/step{ctx.step}_{_snake(src.label)}_by_{cat}.json"
        if metric:
            shape = (f"a list of objects `{{\"{key}\": ..., \"{metric}\": ...}}` for the {src.label} in that group, "
                     f"in the order they appear in `{src.path}` ({metric} as a number)")
        else:
            shape = f"the list of `{key}` values of the {src.label} in that group, in the order they appear in `{src.path}`"
        instruction = pick(rng, (
            f"Group the {src.label} in `{src.path}` by `{cat}` and write the result to `{path}` as a JSON object: "
            f"one key per distinct `{cat}` value, whose value is {shape}.",
            f"Write `{path}`: a JSON object keyed by each `{cat}` found in `{src.path}`; each key maps to {shape}. "
            f"Include every group and nothing else.",
        ))
        if ctx.v2:
            v = dict(src=tick(src.path), path=tick(path), label=src.label, cat=tick(cat), key=tick(key),
                     metric=tick(metric), obj=tick(f'{{"{key}": ..., "{metric}": ...}}'))
            order = "[in the order they appear in {src}|in the same order as {src}|in file order]"
            shape = ("[a list of objects|an array of objects] {obj} [for the|covering the] {label} in that group, "
                     + order + " ({metric} as [a number|a JSON number])" if metric else
                     "the [list|array] of {key} values of the {label} in [that|the] group, " + order)
            instruction = ctx.say([
                "[Group|Bucket|Organise] the {label} in {src} by {cat} and [write|save|store] the result [to|in] "
                "{path} as a JSON object: [one key per distinct {cat} value|a key for each {cat}|one key per {cat}], "
                "[whose value is|mapping to|each holding] " + shape + ".",
                "[Write|Create|Produce] {path}: a JSON object keyed by [each|every] {cat} found in {src}[; each key "
                "maps to|, where each key maps to|, each key holding] " + shape + "[, covering every group and nothing "
                "else|; include every group and nothing else|, with every group and no extra keys].",
            ][choose(ctx, 2)], **v)
        checks = [ck.json_equal(f"step{ctx.step}_group_{i}", path, items, key_path=[g])
                  for i, (g, items) in enumerate(doc.items())]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")],
            checks=checks, params={"group": cat},
            outputs=[OutputSpec(path, ("missing", "value", "format"))],
            artifact=None,
        )

    def _keyed(self, ctx: OpContext, src: Table, key: str) -> OpStep:
        """A JSON object keyed by record id, each value the record's other fields."""
        rng = ctx.rng
        rest = [c for c in src.columns if c != key]
        doc = {cell(r.get(key)): {c: r.get(c) for c in rest} for r in src.rows}
        path = f"output/step{ctx.step}_{_snake(src.label)}_by_{key}.json"
        instruction = pick(rng, (
            f"Re-shape `{src.path}` into a lookup file `{path}`: a JSON object keyed by `{key}`, where each value is "
            f"an object with the record's other fields {join_list([f'`{c}`' for c in rest])} (numbers as JSON numbers).",
            f"Write `{path}` as one JSON object mapping every `{key}` in `{src.path}` to an object holding that "
            f"record's {join_list([f'`{c}`' for c in rest])} (exactly those keys; numeric values as numbers).",
        ))
        if ctx.v2:
            v = dict(src=tick(src.path), path=tick(path), key=tick(key), rest=ticks(rest))
            instruction = ctx.say([
                "[Re-shape|Restructure|Turn|Convert] {src} into a lookup file {path}[:|, namely] a JSON object keyed by "
                "{key}, [where each value is|each value being|with each value] an object [with|holding] the "
                "[record's|row's] other fields {rest} ([numbers as JSON numbers|numeric "
                "values as numbers|numbers kept as numbers])[| so records can be looked up by {key}].",
                "[Write|Create|Build] {path} as [one|a single] JSON object mapping [every|each] {key} in {src} to an "
                "object [holding|with|containing] that record's {rest} ([exactly those keys; numeric values as "
                "numbers|exactly those keys, numbers as JSON numbers|no other keys; numbers stay numbers])"
                "[| so I can look records up by {key}].",
            ][choose(ctx, 2)], **v)
        first, last = next(iter(doc)), list(doc)[-1]
        checks = [ck.json_equal(f"step{ctx.step}_keyed_all", path, doc),
                  ck.json_equal(f"step{ctx.step}_keyed_first", path, doc[first], key_path=[first])]
        if last != first:
            checks.append(ck.json_equal(f"step{ctx.step}_keyed_last", path, doc[last], key_path=[last]))
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")],
            checks=checks,
            outputs=[OutputSpec(path, ("missing", "value", "format"))],
            artifact=None,
        )


# ================================================================= edit_document
@dataclass(frozen=True)
class _Fact:
    """A fact the document states (``old``) that the edit must change to ``new`` everywhere."""

    what: str
    old: str
    new: str
    kind: Literal["change", "typo", "line"] = "change"
    """How the edit is asked for: a changed fact, a misspelling to fix, or a whole line to set."""


@dataclass
class _Doc:
    stem: str
    label: str
    text: str
    """The document as it stands (old facts), Markdown with '## ' sections."""
    facts: list[_Fact]
    removable: list[tuple[str, str]]
    """(heading, a phrase only that section contains) for sections free of facts."""
    additions: list[tuple[str, str]]
    """(heading, the one line of body) for sections the user may ask to add."""


def _two(rng: random.Random, options: tuple[str, ...]) -> tuple[str, str]:
    a, b = rng.sample(options, 2)
    return a, b


def _iso(rng: random.Random, lo: date, span: int) -> str:
    return (lo + timedelta(days=rng.randrange(span))).isoformat()


def _misspell(rng: random.Random, name: str) -> str:
    """A plausible typo of the surname (swapped or dropped letter)."""
    first, last = name.split(" ", 1)
    i = rng.randrange(1, len(last) - 2)
    if rng.random() < 0.5:
        wrong = last[:i] + last[i + 1] + last[i] + last[i + 2:]
    else:
        wrong = last[:i] + last[i + 1:]
    if wrong == last:  # swapped two equal letters: double one instead
        wrong = last[: i + 1] + last[i:]
    return f"{first} {wrong}"


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _context_line(rng: random.Random, vocab: Vocab | None) -> str:
    """builtin-v2: one line of the workplace's own news, so the document reads as theirs (none in v1).
    Lines naming a weekday are left out: a runbook's maintenance day is a fact an edit replaces."""
    if vocab is None:
        return ""
    return rng.choice([n for n in vocab.notes if not any(d in n for d in _WEEKDAYS)]) + "\n"


def _event_brief(rng: random.Random, vocab: Vocab | None = None) -> _Doc:
    event = rng.choice(vocab.events if vocab else ("Spring volunteer summit", "Regional data workshop",
                                                   "Annual partner day", "Customer advisory meeting", "Team offsite"))
    owner = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    d_old = _iso(rng, date(2026, 3, 2), 60)
    d_new = (date.fromisoformat(d_old) + timedelta(days=7 * rng.randint(1, 3))).isoformat()
    v_old, v_new = _two(rng, ("Room 204", "Harbor Hall", "Lakeside Pavilion", "Conference Room B", "Atrium Hall"))
    t_old, t_new = _two(rng, ("08:30", "09:00", "09:30", "10:00"))
    b_old = rng.randrange(30, 60) * 100
    b_new = b_old + rng.randrange(3, 15) * 100
    c_old, c_new = _two(rng, ("Green Fork Catering", "Blue Plate Kitchen", "Saffron & Sage", "Maple Street Deli"))
    email = f"{owner.split()[0].lower()}.{owner.split()[1].lower()}@example.org"
    upd_old, upd_new = _iso(rng, date(2026, 1, 5), 40), _iso(rng, date(2026, 2, 20), 10)
    typo = _misspell(rng, owner)
    n = rng.randrange(40, 160)
    text = (
        f"# {event} — planning brief\n\nLast updated: {upd_old}\nOwner: {typo}\n\n"
        f"## Overview\nThe {event.lower()} brings together about {n} participants for a day of talks and workshops.\n"
        f"Please send questions about logistics to the owner by email.\n{_context_line(rng, vocab)}\n"
        f"## Date and venue\n- Date: {d_old}\n- Doors open: {t_old}\n- Venue: {v_old}, 14 Canal Street\n\n"
        f"## Budget\n- Approved budget: ${b_old:,}\n- Catering: {c_old} (lunch and two coffee breaks)\n\n"
        f"## Agenda\n1. Welcome and introductions\n2. Keynote and open questions\n3. Breakout sessions\n"
        f"4. Wrap-up and feedback survey\n\n"
        f"## Parking\nLimited parking is available behind the building; carpooling is encouraged.\n\n"
        f"## Draft notes\nSeating plan still pending; do not forward this section outside the team.\n\n"
        f"## Contacts\n- Coordinator: {typo} ({email})\n- Facilities desk: extension 2210\n")
    return _Doc("event_brief", "event brief", text, [
        _Fact("the event date", d_old, d_new), _Fact("the venue", v_old, v_new), _Fact("the doors-open time", t_old, t_new),
        _Fact("the approved budget", f"${b_old:,}", f"${b_new:,}"), _Fact("the caterer", c_old, c_new),
        _Fact("the owner's name", typo, owner, kind="typo"),
        _Fact("the `Last updated:` line", f"Last updated: {upd_old}", f"Last updated: {upd_new}", kind="line"),
    ], [("Parking", "carpooling is encouraged"), ("Draft notes", "Seating plan still pending")],
        [("Accessibility", "Step-free access is available through the north entrance."),
         ("Remote attendance", "A livestream link will be shared the day before the event."),
         ("Dress code", "Business casual; name badges are handed out at registration.")])


def _onboarding(rng: random.Random, vocab: Vocab | None = None) -> _Doc:
    team = rng.choice(vocab.teams if vocab else ("Operations", "Data", "Customer Support", "Finance", "Platform"))
    manager = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    buddy_old, buddy_new = _two(rng, tuple(f"{f} {l}" for f, l in zip(FIRST_NAMES[::3], LAST_NAMES[1::2])))
    start_old = _iso(rng, date(2026, 4, 1), 50)
    start_new = (date.fromisoformat(start_old) + timedelta(days=rng.choice((7, 14)))).isoformat()
    p_old, p_new = _two(rng, ("IT desk, floor 2", "Room B12", "front reception", "east wing service point"))
    s_old, s_new = _two(rng, ("09:15", "09:30", "10:00", "10:15"))
    slug = re.sub(r"[^a-z0-9]+", "-", team.lower()).strip("-")
    ch_old, ch_new = f"#{slug}-team", f"#{slug}-{rng.choice(('crew', 'hub', 'desk'))}"
    x_old, x_new = str(rng.randrange(4100, 4500)), str(rng.randrange(4600, 4999))
    typo = _misspell(rng, manager)
    upd_old, upd_new = _iso(rng, date(2026, 1, 5), 40), _iso(rng, date(2026, 2, 20), 10)
    text = (
        f"# Onboarding guide: {team} team\n\nLast updated: {upd_old}\nPrepared by: {typo}\n\n"
        f"## Welcome\nWelcome to the {team} team! Your manager is {typo}, and your onboarding buddy is {buddy_old}.\n"
        f"{_context_line(rng, vocab)}\n"
        f"## First week\n- Start date: {start_old}\n- Laptop pickup: {p_old} on your first morning\n"
        f"- Team stand-up: every weekday at {s_old}\n\n"
        f"## Tools and access\n- Chat channel: {ch_old}\n- Request access through the IT portal; approvals usually take "
        f"one business day.\n- Shared drive: ask your buddy for the team folder link.\n\n"
        f"## Old VPN instructions\nThe legacy VPN client is no longer supported; ignore any setup emails about it.\n\n"
        f"## Parking and transit\nStaff parking permits are issued by reception; the number 12 bus stops outside.\n\n"
        f"## Contacts\n- Manager: {typo}\n- IT help desk: extension {x_old}\n")
    return _Doc("onboarding_guide", "onboarding guide", text, [
        _Fact("the start date", start_old, start_new), _Fact("the laptop pickup location", p_old, p_new),
        _Fact("the stand-up time", s_old, s_new), _Fact("the chat channel", ch_old, ch_new),
        _Fact("the IT help desk extension", f"extension {x_old}", f"extension {x_new}"),
        _Fact("the onboarding buddy", buddy_old, buddy_new), _Fact("the manager's name", typo, manager, kind="typo"),
        _Fact("the `Last updated:` line", f"Last updated: {upd_old}", f"Last updated: {upd_new}", kind="line"),
    ], [("Old VPN instructions", "legacy VPN client"), ("Parking and transit", "Staff parking permits")],
        [("Security training", "Complete the security awareness course within your first two weeks."),
         ("Equipment returns", "Return any spare hardware to the IT desk with a ticket number."),
         ("Time off", "Request leave in the HR portal at least two weeks ahead.")])


def _runbook(rng: random.Random, vocab: Vocab | None = None) -> _Doc:
    service = rng.choice(vocab.services if vocab else ("billing-api", "search-indexer", "auth-gateway",
                                                       "report-builder", "media-store"))
    lead = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    r_old, r_new = _two(rng, ("eu-west-1", "eu-central-1", "us-east-2", "ap-southeast-1"))
    day_old, day_new = _two(rng, ("Sunday", "Saturday", "Tuesday", "Wednesday"))
    w_old, w_new = _two(rng, ("02:00-04:00", "03:00-05:00", "01:00-03:00", "22:00-23:30"))
    m_old, m_new = _two(rng, ("10 minutes", "15 minutes", "20 minutes", "30 minutes"))
    ph_old, ph_new = f"+1 555 01{rng.randrange(10, 50)}", f"+1 555 01{rng.randrange(50, 99)}"
    pg_old, pg_new = _two(rng, ("PagerDuty", "Opsgenie", "the team pager"))
    upd_old, upd_new = _iso(rng, date(2026, 1, 5), 40), _iso(rng, date(2026, 2, 20), 10)
    typo = _misspell(rng, lead)
    text = (
        f"# Runbook: {service}\n\nLast updated: {upd_old}\nService lead: {typo}\n\n"
        f"## Overview\nThe {service} service runs in {r_old} and is deployed from the main branch after review.\n"
        f"{_context_line(rng, vocab)}\n"
        f"## Dashboards\n- Metrics: open the {service} board in the monitoring tool\n"
        f"- Logs: filter on service={service} in the log viewer\n\n"
        f"## Maintenance window\nPlanned maintenance happens every {day_old} between {w_old} UTC.\n\n"
        f"## Escalation\n1. Page the on-call engineer via {pg_old}.\n"
        f"2. If nobody acknowledges within {m_old}, call {typo} at {ph_old}.\n\n"
        f"## Known issues\n- Cache warm-up after a deploy can take several minutes.\n\n"
        f"## Deprecated endpoints\nThe /v1/export endpoint was retired; clients must call /v2/export instead.\n")
    return _Doc("runbook", "runbook", text, [
        _Fact("the region", r_old, r_new), _Fact("the maintenance day", day_old, day_new),
        _Fact("the maintenance window", w_old, w_new), _Fact("the acknowledgement timeout", m_old, m_new),
        _Fact("the lead's phone number", ph_old, ph_new), _Fact("the paging route", pg_old, pg_new),
        _Fact("the service lead's name", typo, lead, kind="typo"),
        _Fact("the `Last updated:` line", f"Last updated: {upd_old}", f"Last updated: {upd_new}", kind="line"),
    ], [("Deprecated endpoints", "/v1/export endpoint was retired"), ("Known issues", "Cache warm-up after a deploy")],
        [("Rollback", "Redeploy the previous release tag from the deployment dashboard."),
         ("Capacity", "Scale out when CPU stays above 70 percent for ten minutes."),
         ("Owners", "The platform team reviews this runbook every quarter.")])


DOC_TEMPLATES: tuple[Callable[[random.Random, Vocab | None], _Doc], ...] = (_event_brief, _onboarding, _runbook)
"""Documents to edit; builtin-v2 passes the workplace's vocabulary (its events, teams, services)."""


def _remove_section(text: str, heading: str) -> str:
    lines, out, skipping = text.split("\n"), [], False
    for ln in lines:
        if ln.startswith("## "):
            skipping = ln == f"## {heading}"
        if not skipping:
            out.append(ln)
    return "\n".join(out)


class EditDocument:
    """Revise an existing document: change stated facts, fix a name, drop and add sections."""

    name = "edit_document"
    category = "file_content"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        doc = rng.choice(DOC_TEMPLATES)(rng, ctx.vocab() if ctx.v2 else None)
        src_path = f"input/{doc.stem}.md"
        path = f"output/step{ctx.step}_{doc.stem}.md"
        k = 2 + (ctx.difficulty >= 3) + (ctx.difficulty >= 5)
        facts = rng.sample(doc.facts, k=k)

        def apply(fs: list[_Fact]) -> str:
            text = doc.text
            for f in fs:
                text = text.replace(f.old, f.new)
            return text

        # keep only edits whose old wording really disappears and whose new wording is really new
        trial = apply(facts)
        facts = [f for f in facts if f.old.lower() not in trial.lower() and f.new.lower() not in doc.text.lower()]
        for f in doc.facts:  # a typo nobody asked to fix would tempt a careful agent to fix it anyway
            if f.kind == "typo" and f not in facts:
                doc.text = doc.text.replace(f.old, f.new)
        new = apply(facts)
        removed = rng.choice(doc.removable) if ctx.difficulty >= 2 or rng.random() < 0.5 else None
        if removed:
            new = _remove_section(new, removed[0])
        added = rng.choice(doc.additions) if ctx.difficulty >= 3 or not removed else None
        last_heading = [ln for ln in new.split("\n") if ln.startswith("## ")][-1]
        if added:
            new = new.rstrip("\n") + f"\n\n## {added[0]}\n{added[1]}\n"
        edits = []
        for f in facts:
            if f.kind == "typo":
                edits.append(f"{f.what} is misspelled as `{f.old}` — correct it to `{f.new}` everywhere")
            elif f.kind == "line":
                edits.append(f"set {f.what} to `{f.new}`")
            else:
                edits.append(f"change {f.what} from `{f.old}` to `{f.new}` (every mention)")
        if removed:
            edits.append(f"delete the whole `## {removed[0]}` section (heading and text)")
        if added:
            edits.append(f"add a new last section `## {added[0]}` whose text is the single line “{added[1]}”")
        body = "; ".join(f"({i}) {e}" for i, e in enumerate(edits, 1))
        instruction = pick(rng, (
            f"Revise the {doc.label} `{src_path}` and save the revised copy as `{path}` (leave the original as is): "
            f"{body}. Everything else must stay word for word the same.",
            f"Make these edits to the {doc.label} in `{src_path}`, writing the result to `{path}` rather than "
            f"overwriting the input: {body}. Keep all other lines unchanged.",
        ))
        s = ctx.step
        kept = self._kept_lines(rng, doc.text, new, facts, removed)
        if ctx.v2:
            instruction = _edit_v2(ctx, doc.label, src_path, path, facts, removed, added)
            checks = _edit_checks_v2(s, path, new, facts, removed, added, kept)
        else:
            checks = []
            for i, f in enumerate(facts):
                checks.append(ck.contains(f"step{s}_edit{i}_new", path, [f.new], ci=False))
                checks.append(ck.absent_words(f"step{s}_edit{i}_old_gone", path, [f.old]))
            if removed:
                checks.append(ck.absent_words(f"step{s}_section_removed", path, [f"## {removed[0]}", removed[1]]))
            if added:
                checks.append(ck.regex(f"step{s}_section_added", path, rf"^## {re.escape(added[0])}\s*$"))
                checks.append(ck.contains(f"step{s}_section_text", path, [added[1]]))
                checks.append(ck.ordered(f"step{s}_section_last", path, [last_heading, f"## {added[0]}"]))
            checks += [ck.contains(f"step{s}_kept{i}", path, [ln]) for i, ln in enumerate(kept)]
        targets = [v for v in [f.new for f in facts] + kept + ([added[1]] if added else [])
                   if new.count(v) == 1 and new.lower().count(v.lower()) == 1]
        mutations: tuple[Mutation, ...] = ("missing", "value") + (("format", "order") if added else ())
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, new)], checks=checks,
            outputs=[OutputSpec(path, mutations, checked_values=tuple(targets))],
            artifact=Text(path=path, content=new, label=f"revised {doc.label}",
                          facts={"changed": {f.what: f.new for f in facts},
                                 "described": [self._described(f) for f in facts],
                                 "removed_section": removed[0] if removed else None,
                                 "added_section": added[0] if added else None}),
            input_files={src_path: doc.text.encode()},
        )

    @staticmethod
    def _described(f: _Fact) -> list[str]:
        """(what, value as written in the revised file): lets a later message restate the changes."""
        if f.kind == "line":
            return ["the last-updated date", f.new.split(": ", 1)[1]]
        return [f.what.replace("`", ""), f.new]

    @staticmethod
    def _kept_lines(rng: random.Random, old: str, new: str, facts: list[_Fact],
                    removed: tuple[str, str] | None) -> list[str]:
        """Two untouched lines (list markers stripped) that must survive the edit verbatim."""
        candidates = []
        for ln in old.split("\n"):
            body = ln.lstrip("-0123456789. ").strip()
            if len(body) < 25 or ln.startswith("#") or any(f.old in ln for f in facts):
                continue
            if body not in new or new.lower().count(body.lower()) != 1:
                continue
            if removed and removed[1] in body:
                continue
            candidates.append(body)
        return rng.sample(candidates, k=min(2, len(candidates)))


# ---------------------------------------------------------------- edit_document, builtin-v2
def _edit_v2(ctx: OpContext, label: str, src: str, path: str, facts: list[_Fact], removed: tuple[str, str] | None,
             added: tuple[str, str] | None) -> str:
    edits = []
    for f in facts:
        v = dict(what=f.what, old=tick(f.old), new=tick(f.new), lu=tick("Last updated:"),
                 date=tick(f.new.split(": ", 1)[-1]))
        if f.kind == "typo":
            t = ("[{what} is misspelled as {old}[ —|, so] [correct|fix|change] it to {new} [everywhere|in every "
                 "place|wherever it appears]|[fix|correct] the misspelling of {what}: {old} should read {new} "
                 "[everywhere|in every place|wherever it appears]|{what} appears as {old}, which is a typo[ —|, so] "
                 "[make it|it should be] {new} [everywhere|throughout]]")
        elif f.kind == "line":
            t = "[set|update|bump|move] the [{lu} date|last-updated date|date on the {lu} line] to {date}"
        else:
            t = ("[[[change|update|switch] {what} from {old} to {new}|replace {old} with {new} as {what}] [(every "
                 "mention)|everywhere it appears|in every place it is mentioned|wherever it occurs]|{what} is now {new}, "
                 "not {old}[ —|, so] [update every mention|change it everywhere|fix every mention]]")
        edits.append(ctx.say(t, **v))
    v = dict(label=label, src=tick(src), path=tick(path))
    if removed:
        edits.append(ctx.say("[[delete|drop|remove] the whole {sec} section ([heading and text|its heading and its "
                             "text|heading included])|the {sec} section [is obsolete|is no longer needed|should go], "
                             "so [delete|remove] it, heading and all]", sec=tick(f"## {removed[0]}")))
    if added:
        edits.append(ctx.say("[[add|append] a new last section {sec} whose text is the single line {line}|[end the "
                             "document with|finish with|put at the end] a new section {sec} [containing|holding|with] "
                             "[just|only] the line {line}]", sec=tick(f"## {added[0]}"), line=f"“{added[1]}”"))
    body = "; ".join(f"({i}) {e[:1].lower() + e[1:]}" for i, e in enumerate(edits, 1))
    keep = ("[everything else|all other text|the rest of the document|anything not listed|every other line] "
            "[staying|kept|left] [word for word the same|exactly as it is|unchanged, word for word|as it was]"
            "[| (same headings, same lines)|, headings and list markers included]")
    if choose(ctx, 2):
        head = ("[Revise|Update|Edit] the {label} {src} and [save|write] the [revised|updated|edited] copy [as|to] "
                "{path} ([leave the original as is|do not overwrite the original|keep the input untouched]), with "
                + keep + "[:| — the edits:|; the changes are:]")
    else:
        head = ("[Make|Apply] these [edits|changes] to the {label} in {src}, [writing|saving] the result to {path} "
                "[rather than|instead of] overwriting the input, with " + keep + "[:| —|; here they are:]")
    return ctx.say(head, **v) + " " + body + "."


def _line_pattern(line: str) -> str:
    """``line`` as a regex that allows thousands separators in its long numbers (2210 or 2,210)."""
    parts = re.split(r"(\d{4,})", line)
    return "".join(re.escape(p) if k % 2 == 0 else f"(?:{p}|{int(p):,})" for k, p in enumerate(parts))


def _lines_check(name: str, path: str, lines: list[str]) -> dict[str, Any]:
    """Every line of ``lines`` somewhere in ``path`` (Markdown emphasis aside): whole lines, so the
    value the instruction dictates earns nothing without the document around it."""
    return ck.plain_regex(name, path, r"\A" + "".join(rf"(?=[\s\S]*?{_line_pattern(ln)})" for ln in lines))


def _edit_checks_v2(s: int, path: str, new: str, facts: list[_Fact], removed: tuple[str, str] | None,
                    added: tuple[str, str] | None, kept: list[str]) -> list[dict[str, Any]]:
    """Content: each revised line, whole. Form only (count beside content): old wording gone, the
    removed and added sections, the untouched lines (a copy of the input has those)."""
    checks: list[dict[str, Any]] = []
    for i, f in enumerate(facts):
        lines = [ln.lstrip("-0123456789. ").strip() for ln in new.split("\n") if f.new in ln and not ln.startswith("#")]
        checks.append(_lines_check(f"step{s}_edit{i}_new", path, lines))
        checks.append(ck.absent_words(f"step{s}_edit{i}_old_gone", path, [f.old]))
    if removed:
        checks.append(ck.absent_words(f"step{s}_section_removed", path, [f"## {removed[0]}", removed[1]]))
    if added:
        checks.append(ck.heading(f"step{s}_section_added", path, added[0], level=2, exact=True))
        checks.append(ck.form(ck.contains(f"step{s}_section_text", path, [added[1]])))
        checks.append(ck.form(ck.plain_regex(f"step{s}_section_last", path,
                                             rf"^#+\s*{re.escape(added[0])}\s*$(?![\s\S]*^#{{1,6}}\s)", ci=True)))
    checks += [ck.form(_lines_check(f"step{s}_kept{i}", path, [ln])) for i, ln in enumerate(kept)]
    return checks
