"""Data extraction and analysis operations over record tables."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Row, Table, cell, describe_format, fmt_number, serialize, to_csv
from clawgym_env.synth.datagen import COMPANIES, PEOPLE, make_rows, schema_for
from clawgym_env.synth.ops.base import OpContext, OpStep, OutputSpec, write_call
from clawgym_env.synth.phrasing import join_list, pick


def _require_table(ctx: OpContext) -> Table:
    if not isinstance(ctx.upstream, Table):
        raise TypeError("this operation needs a table from the previous step")
    return ctx.upstream


class FilterRank:
    """Keep the records above a threshold on one number, ranked by another."""

    name = "filter_rank"
    category = "data_analysis"
    consumes = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = _require_table(ctx)
        if not src.numeric:
            raise TypeError("filter_rank needs a numeric column")
        filt = rng.choice(src.numeric)
        rank = rng.choice(src.numeric)
        values = sorted(float(r[filt]) for r in src.rows)  # type: ignore[arg-type]
        threshold = values[len(values) // 3] if values else 0
        threshold = int(threshold) if float(threshold).is_integer() else round(threshold, 2)
        kept = [r for r in src.rows if float(r[filt]) >= threshold]  # type: ignore[arg-type]
        key = src.key or src.columns[0]
        kept.sort(key=lambda r: (-float(r[rank]), str(r[key])))  # type: ignore[arg-type]
        limit = None
        if ctx.difficulty >= 3 and len(kept) > 3:
            limit = rng.randint(3, min(8, len(kept)))
            kept = kept[:limit]
        fmt = rng.choice(("csv", "json"))
        out = Table(columns=list(src.columns), rows=kept, path=f"output/step{ctx.step}_ranked_{src.label.replace(' ', '_')}.{fmt}",
                    fmt=fmt, label=f"ranked {src.label}", key=src.key, numeric=list(src.numeric), category=src.category)
        top = f"the top {limit} " if limit else "all "
        instruction = pick(rng, (
            f"From `{src.path}`, keep only the {src.label} whose `{filt}` is at least {threshold}, sort them by "
            f"`{rank}` from highest to lowest (ties broken by `{key}` ascending) and save {top}of them to "
            f"`{out.path}` as {describe_format(fmt)} with the same columns in the same order.",
            f"Filter `{src.path}` to the {src.label} with `{filt}` >= {threshold}; rank what remains by `{rank}`, "
            f"largest first (break ties on `{key}`, A to Z), and write {top}rows to `{out.path}` "
            f"({describe_format(fmt)}, columns unchanged).",
        ))
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(out.path, serialize(out))],
            checks=[ck.table_equal(f"step{ctx.step}_ranked_rows", out)],
            outputs=[OutputSpec(out.path, ("missing", "value", "format", "order"))],
            artifact=out,
        )


class AggregateStats:
    """Per-group counts, totals and means of one numeric column."""

    name = "aggregate_stats"
    category = "data_analysis"
    consumes = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = _require_table(ctx)
        group = src.category or src.columns[1]
        col = rng.choice(src.numeric)
        groups: dict[str, list[float]] = {}
        for r in src.rows:
            groups.setdefault(str(r[group]), []).append(float(r[col]))  # type: ignore[arg-type]
        summary = {
            g: {"count": len(v), "total": round(sum(v), 2), "mean": round(sum(v) / len(v), 2)}
            for g, v in sorted(groups.items())
        }
        overall = {"count": len(src.rows), "total": round(sum(sum(v) for v in groups.values()), 2)}
        path = f"output/step{ctx.step}_{group}_summary.json"
        doc = {"by_" + group: summary, "overall": overall}

        instruction = pick(rng, (
            f"Summarise `{src.path}` by `{group}`: for each value give the number of {src.label}, the total and "
            f"the mean of `{col}` (rounded to 2 decimals). Save it as JSON to `{path}` in the shape "
            f'`{{"by_{group}": {{"<{group}>": {{"count": n, "total": x, "mean": y}}}}, "overall": {{"count": n, "total": x}}}}`.',
            f"Write `{path}`: a JSON object with key `by_{group}` mapping every `{group}` in `{src.path}` to its "
            f"`count`, `total` and `mean` of `{col}` (2 decimals), plus an `overall` object with the total `count` "
            f"and `total`.",
        ))
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(path, json.dumps(doc, indent=2) + "\n")],
            checks=[ck.json_equal(f"step{ctx.step}_groups", path, summary, key_path=[f"by_{group}"]),
                    ck.json_equal(f"step{ctx.step}_overall", path, overall, key_path=["overall"])],
            outputs=[OutputSpec(path, ("missing", "value", "format"))],
            artifact=Table(columns=[group, "count", "total", "mean"],
                           rows=[{group: g, **v} for g, v in summary.items()], path=path, fmt="json",
                           label=f"{group} groups", key=group, numeric=["count", "total", "mean"]),
        )
