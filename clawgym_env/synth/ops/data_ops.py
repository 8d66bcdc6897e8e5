"""Data extraction and analysis operations over record tables."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from clawgym_env.synth import checks as ck
from clawgym_env.synth import coherence
from clawgym_env.synth.artifacts import Row, Table, cell, describe_format, fmt_number, serialize, to_csv
from clawgym_env.synth.datagen import CITIES, COMPANIES, PEOPLE, make_rows
from clawgym_env.synth.ops import decoys
from clawgym_env.synth.ops.base import (TABLE_MUTATIONS, Meaningless, OpContext, OpStep, OutputSpec, exec_call,
                                        table_step, write_call)
from clawgym_env.synth.phrasing import join_list, pick

# ---------------------------------------------------------------- builtin-v2 wording helpers
# Templates are ctx.say grammars (see clawgym_env.synth.phrasing). Values arrive already in backticks
# (tick), so a choice group may hold them; a template itself never holds a backtick or a brace.

FMT_SAY: dict[str, str] = {
    "csv": "[a CSV file with a header row|CSV (header row first)|a comma-separated file with a header line|"
           "a CSV with one header row]",
    "tsv": "[a tab-separated file with a header row|TSV (header line first)|a tab-delimited file with a header row]",
    "json": "[a JSON array of objects|a JSON list of objects, one per [row|record]|JSON (an array holding one object "
            "per [row|record])|a JSON array with one object for each [row|record]]",
    "jsonl": "[JSON Lines (one object per line)|newline-delimited JSON, one object per line|JSONL with one object "
             "on each line]",
    "md": "[a Markdown table|a pipe-delimited Markdown table]",
}
"""How builtin-v2 names an output format (grammar fragments, spliced into templates)."""


def tick(value: Any) -> str:
    return f"`{value}`"


def ticks(values: list[str]) -> str:
    return join_list([tick(v) for v in values])


def choose(ctx: OpContext, n: int) -> int:
    """A structure for a builtin-v2 sentence, from the wording RNG (never the data's)."""
    return (ctx.phrase_rng or random.Random(ctx.step)).randrange(n)


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
        if ctx.v2:  # a measured number to cut on (>= 2 rows above its mean) and one to rank by; never a label
            cuts = [c for c in src.numeric if coherence.rankable(src, c) and coherence.mean_cut(src, c) >= 2]
            ranks = [c for c in src.numeric if coherence.rankable(src, c)]
            if not cuts or not ranks:
                raise Meaningless("filter_rank needs a varying measured column")
            filt, rank = rng.choice(cuts), rng.choice(ranks)
        else:
            filt = rng.choice(src.numeric)
            rank = rng.choice(src.numeric)
        values = sorted(float(r[filt]) for r in src.rows)  # type: ignore[arg-type]
        threshold = values[len(values) // 3] if values else 0
        threshold = int(threshold) if float(threshold).is_integer() else round(threshold, 2)
        kept = [r for r in src.rows if float(r[filt]) >= threshold]  # type: ignore[arg-type]
        if ctx.v2 and values and len(set(values)) > 1:
            # builtin-v2: the cut is the column's average, which the agent computes (a literal number
            # is a recipe a fixed script follows); a row exactly at the average is not above it
            mean = sum(values) / len(values)
            kept = [r for r in src.rows if float(r[filt]) > mean]  # type: ignore[arg-type]
            threshold = None  # type: ignore[assignment]
        key = src.key or src.columns[0]
        kept.sort(key=lambda r: (-float(r[rank]), str(r[key])))  # type: ignore[arg-type]
        limit = None
        n_kept = len(kept)
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
        if ctx.v2:
            instruction = _filter_rank_v2(ctx, src, filt, threshold, rank, key, limit, out)
        step = table_step(self.name, instruction, out, [ck.table_equal(f"step{ctx.step}_ranked_rows", out)])
        step.params = {"ranked": [filt, rank], "kept": n_kept, "shown": len(kept)}
        return step


def _filter_rank_v2(ctx: OpContext, src: Table, filt: str, thr: float | None, rank: str, key: str, limit: int | None,
                    out: Table) -> str:
    v = dict(src=tick(src.path), label=src.label, filt=tick(filt), thr=thr, rank=tick(rank), key=tick(key),
             out=tick(out.path), n=limit)
    cond = ("[above the average {filt} of all the rows in {src}|higher than the mean {filt} [of the whole file|over "
            "all rows|across every row]|greater than the average of {filt} over the [whole|entire] file|strictly "
            "above the file's mean {filt}]" if thr is None else
            "[at least {thr}|{thr} or [more|higher|above]|no lower than {thr}|not below {thr}|greater than or equal to "
            "{thr}]")
    where = "[whose {filt} is|where {filt} is|for which {filt} is]"
    order = ("by {rank} [from highest to lowest|in descending order|largest first|with the biggest values first|"
             "high to low]")
    ties = ("[ties broken by {key} [ascending|A to Z|alphabetically]|breaking ties on {key} [A to Z|alphabetically|"
            "in ascending order]|with {key} [A to Z|ascending] deciding ties|using {key} [A to Z|ascending] when two "
            "rows tie]")
    which = ("[the top {n}|the first {n} rows|only the highest {n}|just the top {n} rows]" if limit else
             "[all of them|every remaining row|the whole ranked list|all matching rows]")
    cols = "[keeping|with] the [same|original|input's] columns in the [same|original] order"
    save = "[save|write|store|export] " + which + " [to|into] {out} [as|in the form of|formatted as] " + FMT_SAY[out.fmt]
    form = choose(ctx, 4)
    if form == 0:
        return ctx.say("[From|In|Starting from|Working from] {src}, [keep|retain|select|pick out] [only |just |]the "
                       "{label} " + where + " " + cond + ", [then |]" + "[sort|order|rank] [them|the remaining rows|"
                       "what is left|those rows] " + order + " (" + ties + "), and " + save + ", " + cols + ".", **v)
    if form == 1:
        return " ".join((
            ctx.say("[Filter|Narrow down|Trim] {src} to the {label} " + where + " " + cond + "[| and drop the rest|; "
                    "the others can go]" + ".", **v),
            ctx.say("[Sort|Order|Rank] [them|what remains|the rows that are left] " + order + ", " + ties + ", and "
                    + save + " " + "[(same columns, same order)|with the columns [unchanged|as they are]]" + ".", **v)))
    if form == 2:
        return " ".join((
            ctx.say("I [only care about|am only interested in|need just] the {label} in {src} " + where + " " + cond
                    + ".", **v),
            ctx.say("[Rank|Sort|Order] [them|those|these] " + order + " (" + ties + ").", **v),
            ctx.say("[Then |Finally, |After that, |]" + save + ", " + cols + ".", **v)))
    which2 = ("[the top {n}|the {n} highest-ranked|just the top {n}]" if limit else "[all the|every one of the|each of the]")
    return " ".join((
        ctx.say("[Create|Produce|Build|Prepare] {out} (" + FMT_SAY[out.fmt] + ", [same|original] columns in the "
                "[same|original] order) [holding|listing|with] " + which2 + " {label} from {src} " + where + " "
                + cond + ".", **v),
        ctx.say("[Rank|Sort|Order] them " + order + "[,|;] " + ties + ".", **v)))


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
        if ctx.v2:  # several groups, some of several rows, and a column whose total means something
            group = _group_column(src)
            if not coherence.groupable(src, group):
                reserved = set(src.numeric) | {"count", "total", "mean"}
                group = next((c for c in src.columns if c not in reserved and coherence.groupable(src, c)), "")
            cols = [c for c in src.numeric if coherence.summable(src, c)]
            if not group or not cols:
                raise Meaningless("aggregate_stats needs a grouping and an additive column")
            col = rng.choice(cols)
        else:
            group = _group_column(src)
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
        # the same groups as rows, so a later step filters, joins or reports on a real table
        table = Table(columns=[group, "count", "total", "mean"], rows=[{group: g, **v} for g, v in summary.items()],
                      path=f"output/step{ctx.step}_{group}_summary.csv", fmt="csv", label=f"{group} groups",
                      key=group, numeric=["count", "total", "mean"])

        instruction = pick(rng, (
            f"Summarise `{src.path}` by `{group}`: for each value give the number of {src.label}, the total and "
            f"the mean of `{col}` (rounded to 2 decimals). Save it as JSON to `{path}` in the shape "
            f'`{{"by_{group}": {{"<{group}>": {{"count": n, "total": x, "mean": y}}}}, "overall": {{"count": n, "total": x}}}}`, '
            f"and the same groups as `{table.path}` (a CSV file with columns `{group},count,total,mean`, one row per "
            f"`{group}` in alphabetical order).",
            f"Write `{path}`: a JSON object with key `by_{group}` mapping every `{group}` in `{src.path}` to its "
            f"`count`, `total` and `mean` of `{col}` (2 decimals), plus an `overall` object with the total `count` "
            f"and `total`. Also write those per-`{group}` figures to `{table.path}` as CSV (header "
            f"`{group},count,total,mean`, rows sorted by `{group}`).",
        ))
        if ctx.v2:
            instruction = _aggregate_v2(ctx, src, group, col, path, table)
        return OpStep(
            op=self.name, instruction=instruction, params={"group": group, "summed": [col]},
            oracle=[write_call(path, json.dumps(doc, indent=2) + "\n"), write_call(table.path, serialize(table))],
            checks=[ck.json_equal(f"step{ctx.step}_groups", path, summary, key_path=[f"by_{group}"]),
                    ck.json_equal(f"step{ctx.step}_overall", path, overall, key_path=["overall"]),
                    ck.table_equal(f"step{ctx.step}_groups_csv", table)],
            outputs=[OutputSpec(path, ("missing", "value", "format")),
                     OutputSpec(table.path, TABLE_MUTATIONS)],
            artifact=table,
        )


def _aggregate_v2(ctx: OpContext, src: Table, group: str, col: str, path: str, table: Table) -> str:
    shape = (f'{{"by_{group}": {{"<{group}>": {{"count": n, "total": x, "mean": y}}, ...}}, '
             f'"overall": {{"count": n, "total": x}}}}')
    v = dict(src=tick(src.path), label=src.label, group=tick(group), col=tick(col), path=tick(path),
             csv=tick(table.path), shape=tick(shape), cols=ticks(table.columns), by=tick(f"by_{group}"),
             overall=tick("overall"))
    stats = ("[the number of {label}|how many {label} it has|its count of {label}|a count of its {label}], "
             "[plus |along with |and ]the [total|sum] and [the |][mean|average] of {col}")
    rounding = "[ (rounded to 2 decimals)|, rounded to two decimal places| (to 2 decimal places)|, to 2 decimals]"
    intro = ("[Summarise|Summarize|Break down|Aggregate|Group] {src} by {group}[:|;|, and] [for each|for every|per] "
             "[value|group|distinct value] [give|report|work out|compute] " + stats + rounding)
    json_part = ("[write|save|store|put] [this|the result|these figures|the summary] [as JSON |]in {path}, "
                 "[shaped like|in the shape|following the shape|with the structure] {shape}")
    overall = ("[where|in which] {overall} [covers|sums up|is taken over] [all|every one of the] {label} [together|"
               "at once|as a whole]")
    csv_part = ("[also|additionally|in addition,|then] [write|save|export|put] the same per-group figures [to|into] "
                "{csv} [as a CSV|as CSV|in CSV form] with the columns {cols}[, one row per group|, a row for each "
                "group|,] [sorted by {group}|in alphabetical order of {group}|ordered alphabetically by {group}|with "
                "the groups in A-to-Z order]")
    if choose(ctx, 2):
        return " ".join((ctx.say(intro + ".", **v),
                         ctx.say(json_part + ", " + overall + ".", **v), ctx.say(csv_part + ".", **v)))
    return " ".join((
        ctx.say("[I need|I'd like|Please produce|Could you put together] [a summary|per-group figures|an overview] of "
                "the {label} in {src} by {group}: " + stats + rounding + ".", **v),
        ctx.say("[The JSON goes to|Put the JSON in|Save it as JSON at] {path} [in the shape|shaped like|laid out "
                "as] {shape} (" + overall + ")" + "[,|;] " + csv_part + ".", **v)))


# ---------------------------------------------------------------- shared helpers


def _group_column(table: Table) -> str:
    """A text column to group by: the category, else the first non-numeric column whose values repeat,
    else the key. Never a numeric column or one of the summary's own column names."""
    reserved = set(table.numeric) | {"count", "total", "mean"}
    if table.category and table.category not in reserved:
        return table.category
    for col in table.columns:
        if col in reserved or col == table.key:
            continue
        values = [str(r.get(col)) for r in table.rows]
        if len(set(values)) < len(values):
            return col
    return table.key if table.key and table.key not in reserved else next(c for c in table.columns if c not in reserved)


def _cols(table: Table, columns: list[str]) -> Table:
    return Table(columns=columns, rows=table.rows, path=table.path, fmt=table.fmt)


def table_checks(step: int, name: str, table: Table, *, ordered: bool = True) -> list[dict[str, Any]]:
    """Fine-grained checks on one output table, so partial work earns partial credit: the whole table
    (exact columns), the right records in the right order (key column alone), and each numeric
    column next to the key."""
    key = table.key if table.key in table.columns else table.columns[0]
    checks = [ck.table_equal(f"step{step}_{name}_table", table, ordered=ordered),
              ck.table_equal(f"step{step}_{name}_{key}_list", _cols(table, [key]), ordered=ordered,
                             exact_columns=False)]
    for col in [c for c in table.numeric if c in table.columns and c != key][:1]:
        checks.append(ck.table_equal(f"step{step}_{name}_{col}", _cols(table, [key, col]), ordered=ordered,
                                     exact_columns=False))
    return checks


def pick_fmt(rng: Any) -> Literal["csv", "json"]:
    """CSV or JSON for an output table (typed for :class:`Table`)."""
    return "json" if rng.randrange(2) else "csv"


def _as_float(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


ITEMS = ("desk lamp", "monitor arm", "office chair", "standing desk", "label printer", "paper shredder",
         "whiteboard", "headset", "webcam", "docking station", "ergonomic keyboard", "filing cabinet",
         "projector", "router", "laptop stand", "conference speaker")


# ---------------------------------------------------------------- extract_records


class _Extraction:
    """One semi-structured source and the records a careful reader pulls out of it."""

    def __init__(self, src: str, content: str, what: str, rules: str, table: Table, said: list[str] | None = None):
        self.src, self.content, self.what, self.rules, self.table = src, content, what, rules, table
        self.said = said or []
        """builtin-v2: the rules as worded sentences (``rules`` is builtin-v1's fixed clause)."""


def _log_source(ctx: OpContext) -> _Extraction:
    """An application log with noise (DEBUG, health checks, tracebacks, non-request warnings)."""
    rng = ctx.rng
    services = rng.sample(("api", "billing", "auth", "search", "worker", "notifications"), 3 + (ctx.difficulty >= 3))
    paths = ("/v1/orders", "/v1/customers", "/v1/invoices", "/v1/login", "/v1/search", "/v1/export",
             "/v1/payments", "/v1/reports")
    wanted = ("ERROR",) if rng.random() < 0.4 else ("WARN", "ERROR")
    n = 18 + 6 * ctx.difficulty
    levels = [rng.choices(("DEBUG", "INFO", "WARN", "ERROR"), (15, 50, 18, 17))[0] for _ in range(n)]
    while levels.count("ERROR") < 3:  # ERROR lines always describe a request, so rows >= 3
        levels[rng.randrange(n)] = "ERROR"
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))
    t = datetime(day.year, day.month, day.day, 8, rng.randrange(0, 50), rng.randrange(0, 60))
    lines: list[str] = []
    rows: list[Row] = []
    seen: set[str] = set()
    errors = (("upstream timeout", "TimeoutError: upstream did not answer within 5s"),
              ("database connection reset", "ConnectionResetError: [Errno 104] Connection reset by peer"),
              ("payment gateway returned 502", "GatewayError: bad gateway from payments provider"),
              ("unhandled KeyError: 'customer_id'", "KeyError: 'customer_id'"),
              ("disk quota exceeded while writing export", "OSError: [Errno 122] Disk quota exceeded"))
    warns = ("slow response", "rate limit reached for client", "retrying request (attempt 2)",
             "response served from stale cache")
    for lv in levels:
        t += timedelta(seconds=rng.randint(1, 95))
        stamp = t.strftime("%Y-%m-%d %H:%M:%S")
        ts = f"{stamp},{rng.randrange(1000):03d}"
        svc = rng.choice(services)
        head = f"{ts} {lv:<5} [{svc}]"
        if lv == "DEBUG":
            lines.append(f"{head} cache lookup key=user:{rng.randint(100, 999)} hit={rng.choice(('true', 'false'))}")
            continue
        if lv == "INFO" and rng.random() < 0.3:
            lines.append(f"{head} GET /healthz 200 OK")
            continue
        if lv == "WARN" and ctx.difficulty >= 3 and rng.random() < 0.3:
            lines.append(f"{head} disk usage at {rng.randint(81, 97)}% on /var/lib/{svc}")
            continue
        rid = f"req-{rng.getrandbits(24):06x}"
        while rid in seen:
            rid = f"req-{rng.getrandbits(24):06x}"
        seen.add(rid)
        status = {"INFO": rng.choice((200, 200, 201, 204)), "WARN": rng.choice((200, 408, 429)),
                  "ERROR": rng.choice((500, 502, 503, 504))}[lv]
        dur = {"INFO": rng.randint(8, 300), "WARN": rng.randint(900, 4000), "ERROR": rng.randint(30, 9000)}[lv]
        method = rng.choice(("GET", "GET", "POST", "PUT"))
        line = f"{head} request_id={rid} method={method} path={rng.choice(paths)} status={status} duration_ms={dur}"
        msg, exc = rng.choice(errors)
        if lv == "WARN":
            line += f' msg="{rng.choice(warns)}"'
        elif lv == "ERROR":
            line += f' msg="{msg}"'
        lines.append(line)
        if lv == "ERROR" and ctx.difficulty >= 2 and rng.random() < 0.5:
            lines += ["Traceback (most recent call last):",
                      f'  File "/srv/{svc}/handlers.py", line {rng.randint(20, 400)}, in handle',
                      "    response = upstream.call(payload, timeout=5)", exc]
        if lv in wanted:
            rows.append({"timestamp": stamp, "level": lv, "service": svc, "request_id": rid, "status": status,
                         "duration_ms": dur})
    src = f"input/{rng.choice(('app', 'server', 'gateway'))}.log"
    lv_text = "`ERROR`" if wanted == ("ERROR",) else "`WARN` and `ERROR`"
    rules = (f"every {lv_text} request line (one that has a `request_id`; skip DEBUG/INFO lines, traceback lines and "
             f"log lines without a `request_id`). `timestamp` is the line's date and time as `YYYY-MM-DD HH:MM:SS` "
             f"(drop the milliseconds), `level` and `service` (without brackets) as in the line, and `request_id`, "
             f"`status` and `duration_ms` are the values of those fields (numbers as plain integers)")
    table = Table(columns=["timestamp", "level", "service", "request_id", "status", "duration_ms"], rows=rows, path="",
                  label="problem requests", key="request_id", numeric=["duration_ms"], category="service")
    said = []
    if ctx.v2:
        v = dict(levels=" and ".join(tick(w) for w in wanted), rid=tick("request_id"), ts=tick("timestamp"),
                 stamp=tick("YYYY-MM-DD HH:MM:SS"), level=tick("level"), service=tick("service"),
                 status=tick("status"), dur=tick("duration_ms"))
        said = [ctx.say("[Take|Pull out|Extract|Collect] [every|each] {levels} [request line|line that describes a "
                        "request] (one [with|that carries] a {rid}); [skip|ignore|leave out] [DEBUG and INFO lines|the "
                        "DEBUG and INFO noise|DEBUG/INFO lines], [traceback lines|the traceback lines|stack traces] "
                        "and [any|other] [log |]lines [without|that lack] a {rid}.", **v),
                ctx.say("{ts} is the [line's|entry's] date and time [as|written as|in the form] {stamp} [(drop "
                        "the milliseconds)|without the milliseconds|with the milliseconds cut off], {level} and "
                        "{service} [are copied|come straight|are taken] [from the line|as they appear] ({service} without [its |the ]brackets), and {rid}, "
                        "{status} and {dur} are [the values of those fields|copied from those fields], with {status} "
                        "and {dur} [as plain integers|written as whole numbers|as integers].", **v)]
    return _Extraction(src, "\n".join(lines) + "\n", "a service log exported from production", rules, table, said)


def _html_source(ctx: OpContext) -> _Extraction:
    """A saved supplier catalog page: product cards, sponsored cards, sale prices, HTML entities."""
    rng = ctx.rng
    vendors = rng.sample(COMPANIES, 3 + (ctx.difficulty >= 4))
    n = 6 + 2 * ctx.difficulty
    cards: list[str] = []
    rows: list[Row] = []
    names = rng.sample(ITEMS, min(n, len(ITEMS)))
    for i in range(n):
        sku = f"SKU-{1000 + i * 7 + rng.randrange(7)}"
        name = names[i % len(names)].title()
        vendor = rng.choice(vendors)
        price = round(rng.uniform(8, 2400), 2)
        stock = 0 if rng.random() < 0.2 else rng.randint(1, 140)
        price_html = f"${price:,.2f}"
        if ctx.difficulty >= 3 and rng.random() < 0.3:
            was = round(price * rng.uniform(1.1, 1.5), 2)
            price_html = f"<del>${was:,.2f}</del> ${price:,.2f}"
        stock_html = "Out of stock" if stock == 0 else f"{stock} in stock"
        cards.append(f'''    <article class="product" data-sku="{sku}">
      <h2 class="name">{name}</h2>
      <p class="vendor">{vendor.replace("&", "&amp;")}</p>
      <span class="price">{price_html}</span>
      <span class="stock">{stock_html}</span>
      <a class="details" href="/catalog/{sku.lower()}">Details</a>
    </article>''')
        rows.append({"sku": sku, "name": name, "vendor": vendor, "price": price, "stock": stock})
        if ctx.difficulty >= 2 and rng.random() < 0.25:
            ad = f"AD-{rng.randint(100, 999)}"
            cards.append(f'''    <article class="product sponsored" data-sku="{ad}">
      <span class="badge">Sponsored</span>
      <h2 class="name">{rng.choice(ITEMS).title()} Bundle</h2>
      <p class="vendor">{rng.choice(COMPANIES).replace("&", "&amp;")}</p>
      <span class="price">${round(rng.uniform(20, 900), 2):,.2f}</span>
      <span class="stock">{rng.randint(1, 50)} in stock</span>
    </article>''')
    portal = rng.choice(("Supplier portal", "Procurement hub", "Vendor marketplace"))
    content = (f'''<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{portal} - Office equipment catalog</title>
  <link rel="stylesheet" href="/static/catalog.css">
</head>
<body>
  <header><nav><a href="/">Home</a> | <a href="/catalog">Catalog</a> | <a href="/cart">Cart (0)</a></nav></header>
  <main>
  <h1>Office equipment</h1>
  <p class="hint">Prices exclude VAT. Showing {n} products.</p>
  <section class="grid">
''' + "\n".join(cards) + f'''
  </section>
  </main>
  <footer>&copy; 2026 {portal}. All rights reserved.</footer>
</body>
</html>
''')
    rules = ("one row per product card (`<article class=\"product\">`), skipping cards marked `sponsored`: `sku` from "
             "`data-sku`, `name` and `vendor` as displayed (decode HTML entities such as `&amp;`), `price` as a plain "
             "number without `$` or thousands separators (for discounted items the current price, not the struck-out "
             "`<del>` one), and `stock` as an integer (0 for `Out of stock`)")
    table = Table(columns=["sku", "name", "vendor", "price", "stock"], rows=rows, path="", label="catalog products",
                  key="sku", numeric=["price", "stock"], category="vendor")
    said = []
    if ctx.v2:
        v = dict(article=tick('<article class="product">'), sponsored=tick("sponsored"), sku=tick("sku"),
                 datasku=tick("data-sku"), name=tick("name"), vendor=tick("vendor"), amp=tick("&amp;"),
                 price=tick("price"), dollar=tick("$"), dl=tick("<del>"), stock=tick("stock"),
                 oos=tick("Out of stock"))
        said = [ctx.say("[Make|Write|Produce|Create] [one row|a row] [per|for each|for every] product card ({article}), [skipping|leaving out|ignoring] "
                        "[cards|any card|the cards] marked {sponsored}[| (those are ads)| since they are ads].", **v),
                ctx.say("{sku} [comes from|is taken from|is the value of|is read from] [the card's |the |]{datasku}"
                        "[ attribute|]; {name} and {vendor} [are|should be] [as displayed|the text shown on the card|"
                        "as shown on the page|exactly what the card shows][, with HTML entities such as {amp} "
                        "decoded| (decode entities like {amp})|, HTML entities like {amp} decoded].", **v),
                ctx.say("{stock} is [an integer|a whole number|a plain integer] ([0|zero] [for|when the card says|if it "
                        "reads] {oos}) [and|while] {price} [is |]a plain number "
                        "[without|with no] {dollar} or thousands separators[; for a discounted item that is the current "
                        "price, not the struck-out {dl} one|, using the current price rather than the crossed-out {dl} "
                        "one on discounted items| (the current price, never the struck-out {dl} one, for items on "
                        "sale)].", **v)]
    return _Extraction("input/catalog_page.html", content, "a catalog page saved from the supplier's website", rules,
                       table, said)


def _email_source(ctx: OpContext) -> _Extraction:
    """An exported e-mail thread of purchase requests with quoted replies and a cancellation."""
    rng = ctx.rng
    people = rng.sample(PEOPLE, 3 + (ctx.difficulty >= 4))
    org = rng.choice(("northwind.org", "brightpath.org", "oakridge.co", "lumen-group.com"))
    n_msgs = 3 + ctx.difficulty // 2
    po = rng.randint(2100, 2900)
    when = datetime(2026, rng.randint(1, 10), rng.randint(1, 20), 9, rng.randrange(60))
    subject = f"Equipment requests for Q{rng.randint(2, 4)}"
    blocks: list[str] = []
    rows: list[Row] = []
    prev_body: list[str] = []
    prev_from = ""
    prev_when = when
    cancel_msg = rng.randrange(1, n_msgs) if ctx.difficulty >= 3 else -1
    for m in range(n_msgs):
        who = people[m % len(people)]
        when += timedelta(hours=rng.randint(2, 30), minutes=rng.randrange(60))
        body = [rng.choice(("Hi all,", "Hello team,", "Hi,")), "",
                rng.choice(("Adding my requests:", "Here is what we need:", "Please order the following:"))]
        if m == cancel_msg and rows:
            victim = rng.choice(rows)
            body = [f"Hi, quick change: please cancel {victim['po_number']}, we found a spare one.", ""] + body
            rows.remove(victim)
        for _ in range(rng.randint(1, 3)):
            po += rng.randint(1, 3)
            item = rng.choice(ITEMS)
            qty = rng.randint(1, 25)
            price = round(rng.uniform(9, 900), 2)
            body.append(f"- PO-{po}: {qty} x {item} at ${price:,.2f} each")
            rows.append({"po_number": f"PO-{po}", "requested_by": who, "date": when.date().isoformat(), "item": item,
                         "quantity": qty, "unit_price": price})
        body += ["", "Thanks,", who.split()[0]]
        addr = f"{who.split()[0].lower()}.{who.split()[1].lower()}@{org}"
        head = [f"From: {who} <{addr}>", f"To: purchasing@{org}", f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
                f"Subject: {'Re: ' if m else ''}{subject}", ""]
        quoted = ([f"On {prev_when.strftime('%d %b %Y')}, {prev_from} wrote:"] + ["> " + ln if ln else ">" for ln in prev_body]
                  if m else [])
        blocks.append("\n".join(head + body + ([""] + quoted if quoted else [])))
        prev_body, prev_from, prev_when = body, who, when
    content = ("\n\n" + "=" * 72 + "\n\n").join(blocks) + "\n"
    rules = ("one row per purchase-order line (`- PO-…: <qty> x <item> at $<price> each`) written in a message — "
             "ignore quoted lines starting with `>` (they repeat earlier messages)" +
             (" and leave out any PO that a later message cancels" if cancel_msg >= 0 else "") +
             ": `po_number`, `requested_by` (the sender's name from the `From:` header), `date` (the message date as "
             "YYYY-MM-DD), `item`, `quantity` (integer) and `unit_price` (plain number, no `$`)")
    table = Table(columns=["po_number", "requested_by", "date", "item", "quantity", "unit_price"], rows=rows, path="",
                  label="purchase requests", key="po_number", numeric=["quantity", "unit_price"],
                  category="requested_by")
    said = []
    if ctx.v2:
        v = dict(pattern=tick("- PO-…: <qty> x <item> at $<price> each"), gt=tick(">"), po=tick("po_number"),
                 by=tick("requested_by"), frm=tick("From:"), date=tick("date"), item=tick("item"),
                 qty=tick("quantity"), price=tick("unit_price"), dollar=tick("$"))
        cancel = ("; [also |][leave out|drop|exclude] any PO that a later message cancels" if cancel_msg >= 0 else "")
        said = [ctx.say("[Make|Write|Produce|Create] one row per purchase-order line ({pattern}) [written|typed|sent] "
                        "in a message[; ignore|, ignoring|, skipping] quoted lines [starting with|that begin with] {gt} "
                        "[(they repeat earlier messages)|, which only repeat earlier messages|since they copy earlier "
                        "mail]" + cancel + ".", **v),
                ctx.say("[Fill in|The columns are|Use the columns|Each row has] {po}, {by} [(the sender's name from "
                        "the {frm} header)|(the sender's name as given in the {frm} header)|(the name in the "
                        "message's {frm} header)], {date} [(the message date as YYYY-MM-DD)|(the day the message was "
                        "sent, as YYYY-MM-DD)|(message date, YYYY-MM-DD)], {item}, {qty}[ (an integer)| as a whole "
                        "number| (integer)] and {price}[ (plain number, no {dollar})| as a plain number without "
                        "{dollar}|, a bare number with no {dollar}].", **v)]
    return _Extraction("input/purchase_requests_thread.txt", content, "an e-mail thread exported from the shared inbox",
                       rules, table, said)


class ExtractRecords:
    """Turn semi-structured text (a log, a saved web page, an e-mail thread) into a clean table."""

    name = "extract_records"
    category = "data_analysis"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        make = rng.choice((_log_source, _html_source, _email_source))
        ex = make(ctx)
        fmt = pick_fmt(rng)
        stem = ex.table.label.replace(" ", "_")
        out = ex.table
        out.path, out.fmt = f"output/step{ctx.step}_{stem}.{fmt}", fmt
        cols = ", ".join(f"`{c}`" for c in out.columns)
        instruction = pick(rng, (
            f"`{ex.src}` is {ex.what}. Extract {ex.rules}. Save the records to `{out.path}` as {describe_format(fmt)} "
            f"with exactly the columns {cols}, in that order, one row per record in the order they appear in the file.",
            f"Pull the {out.label} out of `{ex.src}` ({ex.what}): {ex.rules}. Write them, in file order, to "
            f"`{out.path}` ({describe_format(fmt)}; columns {cols} and nothing else).",
        ))
        inputs = {ex.src: ex.content.encode()}
        named = tick(ex.src)
        if decoys.wanted(ctx):  # the source is described, beside another of its kind with other records
            side = decoys.side_rng(ctx, self.name)
            other = make(replace(ctx, rng=side, phrase_rng=random.Random(0)))
            stem, ext = ex.src.removeprefix("input/").rsplit(".", 1)
            spot = decoys.place(ctx, side, "input", stem, ext, _SOURCE_WORDS[make.__name__])
            inputs = {spot.path: ex.content.encode(), spot.decoy: other.content.encode()}
            named = spot.phrase
        if ctx.v2:
            v = dict(src=named, what=ex.what, label=out.label, out=tick(out.path), cols=cols)
            intro = ctx.say(pick(ctx.phrase_rng or rng, (
                "{src} is {what}[, and I need| and I'd like| and I want|; I need] the {label} [in it|it mentions|it "
                "contains|it lists] [as a proper table|in a clean table|as a table I can work with|as structured "
                "rows].",
                "[I have|Here is|There's] {what} [at|in|saved as] {src}[;|, so] [please |]"
                "[pull|get|turn] the {label} [out of it|from it] into a [clean |tidy |proper |]table[| I can sort "
                "and filter| for the next step].",
                "[Please|Could you please|I'd like you to] [go through|read through|work through] {src} ({what}) and "
                "[extract|pull out|collect] [the|all the|every one of the] {label}[| it records| it mentions| "
                "in it].")), **v)
            save = ctx.say("[[Save|Write] [the records|them|the rows|the result] [to|into]|[Store|Put] [the "
                           "records|them|the rows|the result] in] {out} as " + FMT_SAY[fmt]
                           + "[ having exactly the columns| whose columns are exactly|, columns exactly] {cols}[, in that order|, in this order| (in that order)], [one row per record|a "
                           "row for each record] [in the order they appear in the file|in file order|in the order "
                           "the file gives them].", **v)
            instruction = " ".join([intro, *ex.said, save])
        return table_step(self.name, instruction, out, table_checks(ctx.step, "records", out), input_files=inputs)


_SOURCE_WORDS = {"_log_source": "service log", "_html_source": "catalog page",
                 "_email_source": "purchase-request thread"}
"""How a described extract_records source is called (builtin-v2, beside its decoy)."""


# ---------------------------------------------------------------- join_enrich

TEAMS = ("Finance", "Operations", "Customer Success", "Platform", "Facilities", "Research", "Sales", "Logistics")


def _join_column(src: Table) -> str:
    """A text column whose values repeat (a dimension to look up), else the key (one-to-one lookup)."""
    cands = []
    for c in src.columns:
        if c in src.numeric or c == src.key:
            continue
        vals = [cell(r.get(c)) for r in src.rows]
        distinct = set(vals)
        if vals and "" not in distinct and len(distinct) <= 10 and len(distinct) < len(vals):
            cands.append(c)
    if src.category in cands:
        return src.category  # type: ignore[return-value]
    if cands:
        return cands[0]
    return src.key if src.key in src.columns else src.columns[0]


_VALUE_POOLS: tuple[tuple[str, ...], ...] = (
    COMPANIES, PEOPLE, CITIES, ITEMS, TEAMS, ("paid", "open", "overdue", "disputed"),
    ("low", "medium", "high", "urgent", "critical"), ("DHL", "UPS", "FedEx", "PostNL", "GLS"),
    ("north", "south", "east", "west", "central"), ("travel", "meals", "software", "training", "office", "equipment"),
    ("data", "design", "security", "leadership", "marketing"), ("river", "meadow", "forest", "wetland", "estuary"),
    ("api", "billing", "search", "auth", "storage", "notifications", "worker"))


def _distractors(rng: Any, values: list[str]) -> list[str]:
    """Lookup rows nobody references, drawn from the same kind of values (a real lookup has extras)."""
    for pool in _VALUE_POOLS:
        if any(v in pool for v in values):
            unused = [p for p in pool if p not in values]
            return rng.sample(unused, min(len(unused), 2))
    return []


class JoinEnrich:
    """Left-join a lookup file onto the previous table and derive a column from the joined value."""

    name = "join_enrich"
    category = "data_analysis"
    consumes = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = _require_table(ctx)
        on = _join_column(src)
        if ctx.v2 and not coherence.joinable(src, on):  # an entity the lookup describes, else the record key
            on = next((c for c in src.columns if c != src.key and coherence.joinable(src, c)
                       and coherence.groups(src, c) <= 10), src.key or "")
            if not on or not coherence.joinable(src, on):
                raise Meaningless("join_enrich needs a column that identifies records or entities")
        values = list(dict.fromkeys(cell(r.get(on)) for r in src.rows))
        nums = [c for c in src.numeric if c in src.columns and src.rows
                and all(_as_float(r.get(c)) is not None for r in src.rows)]
        missing: list[str] = []
        if ctx.difficulty >= 2 and len(values) >= 3:
            missing = rng.sample(values, 1 + (ctx.difficulty >= 4 and len(values) >= 5))
        extras = _distractors(rng, values)
        owner_pool = rng.choice((PEOPLE, TEAMS))
        owner_col = "owner" if owner_pool is PEOPLE else "team"
        if owner_col in src.columns:  # e.g. incidents already have an owner: the lookup adds a distinct column
            owner_col = "account_owner" if owner_pool is PEOPLE else "team"
            owner_col = owner_col if owner_col not in src.columns else f"lookup_{owner_col}"
        num = rng.choice(nums) if nums else ""
        mode = rng.choice(("weight", "limit")) if num else "region"
        lookup: dict[str, dict[str, Any]] = {}
        for v in values + extras:
            entry: dict[str, Any] = {owner_col: rng.choice(owner_pool)}
            if mode == "weight":
                entry["weight"] = rng.choice((0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 2))
            elif mode == "limit":
                col_vals = sorted(float(r[num]) for r in src.rows)  # type: ignore[arg-type]
                lim = col_vals[len(col_vals) // 2] * rng.uniform(0.6, 1.4)
                whole = lim >= 20 or all(x.is_integer() for x in col_vals)
                entry[f"{num}_limit"] = max(1, round(lim)) if whole else round(lim, 2)
            else:
                entry["region"] = rng.choice(("EMEA", "APAC", "Americas", "Nordics"))
            lookup[v] = entry
        factor = {"weight": "weight", "limit": f"{num}_limit", "region": "region"}[mode]
        derived = {"weight": f"weighted_{num}", "limit": "over_limit", "region": "matched"}[mode]
        default_owner = "unassigned"
        rows: list[Row] = []
        for r in src.rows:
            v = cell(r.get(on))
            hit = lookup.get(v) if v not in missing else None
            new: Row = dict(r)
            new[owner_col] = hit[owner_col] if hit else default_owner
            if mode == "weight":
                w = hit["weight"] if hit else 1
                new["weight"] = w
                new[derived] = round(float(r[num]) * w, 2)  # type: ignore[arg-type]
            elif mode == "limit":
                limit = hit[factor] if hit else None
                new[factor] = limit
                new[derived] = "unknown" if limit is None else ("yes" if float(r[num]) > limit else "no")  # type: ignore[arg-type]
            else:
                new["region"] = hit["region"] if hit else ""
                new[derived] = "yes" if hit else "no"
            rows.append(new)
        lk_rows = [{on: v, **e} for v, e in lookup.items() if v not in missing]
        rng.shuffle(lk_rows)
        messy = ctx.difficulty >= 4 and on != src.key
        if messy:  # hand-maintained lookups drift in case and spacing
            for lr in lk_rows:
                if rng.random() < 0.5:
                    lr[on] = rng.choice((str(lr[on]).upper(), f" {lr[on]} ", str(lr[on]).title()))
        lk_cols = [on, owner_col, factor]
        lk_fmt = pick_fmt(rng)
        lk_path = f"input/{on}_lookup.{lk_fmt}"
        lk_text = to_csv(lk_cols, lk_rows) if lk_fmt == "csv" else json.dumps(lk_rows, indent=2) + "\n"
        fmt = pick_fmt(rng)
        stem = src.label.replace(" ", "_")
        out = Table(columns=list(src.columns) + [owner_col, factor, derived], rows=rows,
                    path=f"output/step{ctx.step}_{stem}_enriched.{fmt}", fmt=fmt, label=f"enriched {src.label}",
                    key=src.key, numeric=list(src.numeric) + ([factor, derived] if mode == "weight" else []),
                    category=src.category or owner_col)
        if mode == "weight":
            rule = (f"`weight` from the lookup (1 when there is no match) and `{derived}` = `{num}` × `weight`, "
                    f"rounded to 2 decimals")
        elif mode == "limit":
            rule = (f"`{factor}` from the lookup (empty when there is no match) and `over_limit` = `yes` when `{num}` "
                    f"is greater than `{factor}`, `no` when it is not, `unknown` when there is no match")
        else:
            rule = "`region` from the lookup (empty when there is no match) and `matched` = `yes` or `no`"
        match = (" Match the values ignoring case and surrounding spaces (the lookup was typed by hand), but keep "
                 f"`{on}` as it is in `{src.path}`." if messy else "")
        cols = ", ".join(f"`{c}`" for c in out.columns)
        instruction = pick(rng, (
            f"Enrich `{src.path}` with `{lk_path}` (a lookup keyed by `{on}`): a left join on `{on}` that keeps every "
            f"row and the original row order, adding `{owner_col}` (`{default_owner}` when the lookup has no match), "
            f"{rule}.{match} Save it to `{out.path}` as {describe_format(fmt)} with the columns {cols}.",
            f"Join the {src.label} in `{src.path}` to `{lk_path}` on `{on}` (left join: every row stays, same order). "
            f"Add `{owner_col}` (use `{default_owner}` when the row's `{on}` is not in the lookup), then {rule}.{match} Write the "
            f"result to `{out.path}` ({describe_format(fmt)}; columns {cols}, in that order).",
        ))
        base = [on]
        if ctx.v2:  # each part beside a number of its row, so right labels on wrong numbers earn nothing
            instruction = _join_v2(ctx, src, lk_path, on, owner_col, default_owner, mode, num, factor, derived, messy, out)
            anchor = num or next((c for c in src.numeric if c in src.columns and c != on), "")
            base = list(dict.fromkeys([on, anchor or (src.key if src.key in src.columns else on)]))
        checks = [ck.table_equal(f"step{ctx.step}_enriched_table", out),
                  ck.table_equal(f"step{ctx.step}_enriched_{owner_col}", _cols(out, base + [owner_col]), exact_columns=False),
                  ck.table_equal(f"step{ctx.step}_enriched_{factor}", _cols(out, base + [factor]), exact_columns=False),
                  ck.table_equal(f"step{ctx.step}_enriched_{derived}", _cols(out, base + [derived]), exact_columns=False)]
        step = table_step(self.name, instruction, out, checks, input_files={lk_path: lk_text.encode()})
        step.params = {"on": on, "lookup_keys": [lr[on] for lr in lk_rows]}
        return step


def _join_v2(ctx: OpContext, src: Table, lk_path: str, on: str, owner: str, default: str, mode: str, num: str,
             factor: str, derived: str, messy: bool, out: Table) -> str:
    v = dict(src=tick(src.path), lk=tick(lk_path), on=tick(on), owner=tick(owner), default=tick(default),
             num=tick(num), factor=tick(factor), derived=tick(derived), out=tick(out.path), label=src.label,
             new=ticks([owner, factor, derived]), cols=ticks(out.columns), yes=tick("yes"), no=tick("no"),
             unknown=tick("unknown"), one=tick(1))
    nomatch = "[when|if] [there is no match|the lookup has no entry for it|the row has no match]"
    if mode == "weight":
        rule = ("[take|copy|bring over] {factor} from the lookup ([{one}|use {one}] " + nomatch + ") and [add|compute|"
                "derive] {derived} = {num} × {factor}[, rounded to 2 decimals| (2 decimal places)|, rounded to two "
                "decimal places]")
    elif mode == "limit":
        rule = ("[take|copy|bring over] {factor} from the lookup ([empty|left blank] " + nomatch + ") and [add|set|"
                "fill in] {derived}: {yes} [when|if] {num} is [greater than|above|over] {factor}, {no} when it is not, "
                "{unknown} " + nomatch)
    else:
        rule = ("[take|copy|bring over] {factor} from the lookup ([empty|left blank] " + nomatch + ") and [add|set] "
                "{derived} to {yes} or {no} [depending on whether the row found a match|by whether there is a match|"
                "to show whether it matched]")
    owner_s = "{owner} ({default} " + nomatch + ")"
    said = []
    if choose(ctx, 2):
        said.append(ctx.say("[Enrich|Extend|Augment] {src} with {lk} ([a lookup keyed by {on}|a lookup table keyed on {on}|one entry "
                            "per {on}])[: |; that is, |; do ]a left join on {on} [that keeps|keeping|which keeps] [every row|all rows|each row] and the "
                            "[original|existing|current] [row order|order of the rows|order][| of {src}].", **v))
        said.append(ctx.say("[Add|Bring in|Append] " + owner_s + ", then " + rule + ".", **v))
    else:
        said.append(ctx.say("[Join|Match] the {label} in {src} [to|against|with] {lk} on {on}[ (left join: every row "
                            "stays, same order)| as a left join, so every row stays in its [original|current] place|, "
                            "keeping all rows in their order even without a match][ and add| and bring in|, adding] "
                            + owner_s + ".", **v))
        said.append(ctx.say("[Then|Next,|After that,|Also] " + rule + ".", **v))
    if messy:
        said.append(ctx.say("[The lookup was typed by hand|Someone keyed the lookup in by hand|The lookup is "
                            "hand-maintained|The lookup file is maintained by hand], so [match|compare] [the |]{on} "
                            "[values |keys |][ignoring|regardless of] [case|upper and lower case] and [surrounding|"
                            "stray leading or trailing|extra] spaces[, but|; but|, yet] keep {on} [as it is|exactly as written|"
                            "unchanged] in {src}.", **v))
    said.append(ctx.say("[[Save|Write] [it|the result|the joined table|the enriched table] [to|into]|[Store|Put] "
                        "[it|the result|the joined table] in] {out} as " + FMT_SAY[out.fmt] + "[ with the columns "
                        "{cols}|, columns {cols}[| in that order]|: the original columns followed by {new}|, keeping "
                        "every original column and adding {new}].", **v))
    return " ".join(said)


# ---------------------------------------------------------------- clean_dedupe

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _messy_date(rng: Any, iso: str) -> str:
    d = date.fromisoformat(iso)
    return rng.choice((iso, f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {d.strftime('%b')} {d.year}"))


def _messy_text(rng: Any, s: str, p: float) -> str:
    if rng.random() < p:
        s = s.replace(" ", "  ", 1) if " " in s and rng.random() < 0.5 else s
        s = rng.choice((" ", "", "  ")) + s + rng.choice((" ", "  ", ""))
    return s


def _messy_case(rng: Any, s: str, p: float) -> str:
    return rng.choice((s.upper(), s.title(), s.capitalize())) if rng.random() < p else s


def _messy_number(rng: Any, v: Any, is_money: bool, p: float) -> str:
    if rng.random() >= p:
        return cell(v)
    if is_money:
        return rng.choice((f"${float(v):,.2f}", f"{float(v):,.2f}", f" {fmt_number(float(v))} "))
    return rng.choice((f" {v}", f"{v} ", f"{v}.0"))


class CleanDedupe:
    """Clean a dirty export by explicit rules (ids, case, spacing, dates, numbers, blanks), drop
    duplicates, and report what was removed and filled (builtin-v2, difficulty >= 4: reconcile several
    systems' exports under a policy memo and report the conflicts and cancellations)."""

    name = "clean_dedupe"
    category = "data_analysis"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        if ctx.v2 and ctx.difficulty >= 4:  # builtin-v2's harder variant: a reconciliation of several exports
            return _reconcile(ctx)
        rng = ctx.rng
        schema = ctx.schema()
        n = 8 + 3 * ctx.difficulty + rng.randrange(3)
        truth = make_rows(rng, schema, n)
        cols = [c.name for c in schema.columns]
        key, cat = schema.key, schema.category
        numeric = [c.name for c in schema.columns if c.numeric]
        money = {c for c in numeric if any(isinstance(r[c], float) for r in truth)}
        date_col = next((c for c in cols if all(_ISO.match(str(r[c])) for r in truth)), None)
        texts = [c for c in cols if c not in (key, cat, date_col) and c not in numeric]
        p = 0.25 + 0.08 * ctx.difficulty
        for r in truth:
            r[cat] = str(r[cat]).lower()
        # blanks: a few numbers are missing (never in rows that get duplicated below)
        n_blank = 1 + ctx.difficulty // 2
        blank_cells = {(i, rng.choice(numeric)) for i in rng.sample(range(n), min(n, n_blank))}
        blank_rows = {i for i, _ in blank_cells}
        na = ("", "N/A") if ctx.difficulty >= 3 else ("",)

        def dirty(r: Row, i: int) -> dict[str, str]:
            out = {key: _messy_text(rng, str(r[key]).lower() if rng.random() < p else str(r[key]), p / 2),
                   cat: _messy_text(rng, _messy_case(rng, str(r[cat]), p), p)}
            for c in texts:
                out[c] = _messy_text(rng, str(r[c]), p)
            if date_col:
                out[date_col] = _messy_date(rng, str(r[date_col]))
            for c in numeric:
                out[c] = rng.choice(na) if (i, c) in blank_cells else _messy_number(rng, r[c], c in money, p)
            return out

        raw: list[dict[str, str]] = [dirty(r, i) for i, r in enumerate(truth)]
        # exact duplicates once cleaned, inserted after their original
        n_dup = 1 + ctx.difficulty // 2
        dup_src = rng.sample([i for i in range(n) if i not in blank_rows], min(n_dup, n - len(blank_rows)))
        for i in sorted(dup_src, reverse=True):
            pos = rng.randint(i + 1, len(raw))
            raw.insert(pos, dirty(truth[i], i))
        # rows without an id (half-filled lines from the export) are dropped
        n_noid = (ctx.difficulty >= 2) + (ctx.difficulty >= 4)
        for _ in range(n_noid):
            junk = make_rows(rng, schema, 1)[0]
            junk[cat] = str(junk[cat]).lower()
            junk_row = dirty(junk, -1)
            junk_row[key] = rng.choice(("", " "))
            raw.insert(rng.randint(1, len(raw)), junk_row)
        clean_rows: list[Row] = []
        for i, r in enumerate(truth):
            clean: Row = dict(r)
            for c in numeric:
                if (i, c) in blank_cells:
                    clean[c] = 0
            clean_rows.append(clean)
        filled = len(blank_cells)
        report = {"rows_read": len(raw), "missing_id_dropped": n_noid, "duplicates_removed": len(dup_src),
                  "values_filled": filled, "rows_written": len(clean_rows)}
        base = schema.base_name
        src_path = f"input/{base}_raw.csv"
        fmt = pick_fmt(rng)
        out = Table(columns=cols, rows=clean_rows, path=f"output/step{ctx.step}_{base}_clean.{fmt}", fmt=fmt,
                    label=schema.label, key=key, numeric=numeric, category=cat)
        report_path = f"output/step{ctx.step}_cleaning_report.json"
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for raw_row in raw:
            w.writerow([raw_row[c] for c in cols])
        rules = [f"drop rows whose `{key}` is empty",
                 "trim spaces at both ends of every value and collapse repeated spaces inside values to one",
                 f"write `{key}` in upper case and `{cat}` in lower case"]
        if date_col:
            rules.append(f"write `{date_col}` as YYYY-MM-DD (the file mixes YYYY-MM-DD, DD/MM/YYYY and forms like "
                         f"`7 Mar 2026`)")
        blank_words = "empty or `N/A`" if len(na) > 1 else "empty"
        rules += [f"write numbers ({join_list([f'`{c}`' for c in numeric])}) as plain numbers without `$` or thousands "
                  f"separators; a number that is {blank_words} becomes 0",
                  "then remove every row that is identical to an earlier row, keeping the first one; keep the remaining "
                  "rows in their original order"]
        bullets = "".join(f"\n   - {r};" for r in rules)[:-1] + "."
        instruction = pick(rng, (
            f"Clean `{src_path}` (a messy export of {schema.label}) and save the result to `{out.path}` as "
            f"{describe_format(fmt)} with the same columns in the same order, applying these rules in order:{bullets}\n"
            f"   Then write `{report_path}`, a JSON object with the integer counts `rows_read` (data rows in the raw file), "
            f"`missing_id_dropped`, `duplicates_removed`, `values_filled` (numbers set to 0) and `rows_written`.",
            f"`{src_path}` is an export of {schema.label} with inconsistent formatting and repeated rows. Produce a "
            f"clean copy at `{out.path}` ({describe_format(fmt)}, columns unchanged) using these rules, in this order:"
            f"{bullets}\n   Also save a JSON report to `{report_path}` with the keys `rows_read`, `missing_id_dropped`, "
            f"`duplicates_removed`, `values_filled` and `rows_written` (integers).",
        ))
        if ctx.v2:
            instruction = _clean_v2(ctx, src_path, schema.label, key, cat, date_col, numeric, len(na) > 1, out,
                                    report_path)
        checks = table_checks(ctx.step, "clean", out)
        checks += [ck.json_equal(f"step{ctx.step}_report_{k}", report_path, v, key_path=[k], tol=0)
                   for k, v in report.items()]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(out.path, serialize(out)), write_call(report_path, json.dumps(report, indent=2) + "\n")],
            checks=checks,
            outputs=[OutputSpec(out.path, TABLE_MUTATIONS),
                     OutputSpec(report_path, ("missing", "value", "format"))],
            artifact=out,
            input_files={src_path: buf.getvalue().encode()},
        )


def _clean_v2(ctx: OpContext, src_path: str, label: str, key: str, cat: str, date_col: str | None, numeric: list[str],
              na: bool, out: Table, report_path: str) -> str:
    v = dict(src=tick(src_path), label=label, key=tick(key), cat=tick(cat), date=tick(date_col), nums=ticks(numeric),
             dollar=tick("$"), blank="empty or " + tick("N/A") if na else "empty", out=tick(out.path),
             ex=tick("7 Mar 2026"), report=tick(report_path), read=tick("rows_read"),
             missing=tick("missing_id_dropped"), dups=tick("duplicates_removed"), filled=tick("values_filled"),
             written=tick("rows_written"))
    rules = [
        "[drop|remove|discard|delete|skip] [rows|every row|any row|lines] [whose {key} is [empty|blank]|where {key} is [empty|"
        "blank]|with [an empty|a blank|no] {key}][| (half-filled lines from the export)| since they cannot be "
        "identified| as they are incomplete]",
        "[trim|strip] [spaces|whitespace|blanks] [at both ends of|around|from the start and end of] [every|each] "
        "value and [collapse|squeeze|reduce|shrink] [repeated|runs of|double|multiple] spaces [inside|within] "
        "[values|a value|the text] to [one|a single space|one space]",
        "[write {key} in|put {key} in|turn {key} into|convert {key} to|normalise {key} to] [upper case|capitals|"
        "uppercase] and {cat} [to|into] [lower case|lowercase|small letters][|, whatever the raw file has| (the raw file "
        "mixes both)| (the export is inconsistent here)]",
    ]
    if date_col:
        rules.append("[write {date} as|convert {date} to|normalise {date} to|rewrite {date} as|give {date} as] "
                     "YYYY-MM-DD[; the file mixes|; the raw file mixes|, since the export mixes|, because the "
                     "[file|export] [uses|has] a mix of] YYYY-MM-DD, DD/MM/YYYY and [forms|dates|values] like {ex}"
                     "[| written out with a short month name]")
    rules += [
        "[write|store|give] [the numbers|numeric values|the numeric columns] ({nums}) as plain numbers [without|with "
        "no|stripped of] {dollar} [signs |]or thousands separators[;|, and] [a number that is|any number that is|a "
        "numeric cell that is] {blank} [becomes|is set to|turns into] 0",
        "[then|finally|last of all] [remove|drop|delete] [every|each|any] row that is [identical to|an exact copy "
        "of|the same as] an earlier [row|one][, keeping the first [one|occurrence|copy]|; the first [one|occurrence|"
        "copy] stays], and [keep|leave] the [remaining|other|surviving] rows in their [original|existing|input] order",
    ]
    bullets = "".join(f"\n   - {ctx.say(r, **v)};" for r in rules)[:-1] + "."
    intro = [
        "[Clean|Tidy up|Clean up|Sort out] {src} ([a messy export of|an untidy export of|a raw dump of] {label}[| with "
        "repeated rows| full of formatting slips]) and [save|write|store] the result [to|into] {out} as "
        + FMT_SAY[out.fmt] + " [with|keeping] the [same|original] columns in the [same|original] order, [applying|"
        "using|following] these rules[, in this order| in order| one after the other]:",
        "{src} is [an export of|a raw export of|a dump of] {label} with [inconsistent|messy|sloppy] formatting and "
        "[repeated|duplicate|doubled] rows[;|.] [produce|make|write] a clean copy at {out} as " + FMT_SAY[out.fmt]
        + "[, columns unchanged| with the columns as they are|, same columns in the same order], [using|by applying|following] these rules[, in this "
        "order| in order| one after another]:",
    ][choose(ctx, 2)]
    report = ("[Then|Also|Afterwards|Finally,] [write|save|produce] {report}, [a JSON object with|a JSON object holding|"
              "a small JSON report with|JSON with] the integer counts {read} [(data rows in the raw file)|(how many "
              "data rows the raw file has)|(rows in the raw file, header excluded)], {missing}, {dups}, {filled} "
              "[(numbers set to 0)|(blank numbers you set to 0)|(how many numbers you filled with 0)] and {written}.")
    parts = ctx.say(intro, **v).split(". ", 1)
    head = ". ".join(parts[:1] + [p[:1].upper() + p[1:] for p in parts[1:]])
    return f"{head}{bullets}\n   {ctx.say(report, **v)}"


# ---------------------------------------------------------------- clean_dedupe, builtin-v2 difficulty >= 4
# A reconciliation: the same records exported by two systems (three at difficulty 5) that drifted apart.
# Ids differ in case and punctuation, amounts carry currency signs and thousands separators, dates and
# update times come in each system's own notation (one writes them day first), a record edited later in one
# system, a record cancelled in one system (and edited later in another: the cancellation still wins), rows
# repeated inside an export, and a near-twin (same name and numbers, another id and date) that is a different
# record. A policy memo beside the exports states the rules; the instruction states the goal and the outputs.

_SYSTEMS = ("crm", "erp", "billing", "backoffice", "ops_sheet", "legacy_portal", "field_app")
_STAMPS = {"iso": "ISO 8601 in UTC (like `2026-03-07T14:05:00Z`)",
           "dayfirst": "day first, in UTC (`DD/MM/YYYY HH:MM`)",
           "epoch": "Unix epoch seconds (UTC)",
           "words": "like `7 Mar 2026 14:05 UTC`"}
_DROPPED = ("cancelled", "void", "deleted")


def _stamp(style: str, at: datetime) -> str:
    if style == "iso":
        return at.strftime("%Y-%m-%dT%H:%M:00Z")
    if style == "dayfirst":
        return at.strftime("%d/%m/%Y %H:%M")
    if style == "words":
        return f"{at.day} {at.strftime('%b %Y %H:%M')} UTC"
    return str(int(at.replace(tzinfo=UTC).timestamp()))


def _messy_id(rng: random.Random, ident: str, p: float) -> str:
    if rng.random() >= p:
        return ident
    prefix, num = ident.split("-", 1)
    return rng.choice((f"{prefix.lower()}-{num}", f"{prefix} {num}", f"{prefix}{num}", f"{prefix.lower()}_{num}",
                       f" {ident} ", f"{prefix.capitalize()}-{num}"))


def _near_id(rng: random.Random, ident: str, taken: set[str]) -> str:
    """Another id that looks like ``ident`` (one digit off, or two digits swapped)."""
    prefix, num = ident.split("-", 1)
    swapped = num[:-2] + num[-1] + num[-2]
    options = [f"{prefix}-{int(num) + d}" for d in (1, -1, 2, -2, 10, -10) if 1000 <= int(num) + d <= 9999]
    options += [f"{prefix}-{swapped}"] if swapped[0] != "0" else []
    return rng.choice([o for o in options if o not in taken and o != ident])


def _reconcile(ctx: OpContext) -> OpStep:
    """clean_dedupe at builtin-v2 difficulty >= 4: reconcile several systems' exports by a stated policy."""
    rng, hard = ctx.rng, ctx.difficulty >= 5
    schema = ctx.schema()
    cols = [c.name for c in schema.columns]
    key, cat = schema.key, schema.category
    numeric = [c.name for c in schema.columns if c.numeric]
    n = 9 + 3 * hard + rng.randrange(3)
    truth = make_rows(rng, schema, n)
    money = {c for c in numeric if any(isinstance(r[c], float) for r in truth)}
    date_col = next((c for c in cols if all(_ISO.match(str(r[c])) for r in truth)), None)
    name_col = next(c for c in cols if c not in (key, cat, date_col) and c not in numeric)
    for r in truth:
        r[cat] = str(r[cat]).lower()
    # the near-twin: a different record with the same name, category and numbers, a near-miss id
    orig = truth[rng.randrange(n)]
    twin = dict(orig, **{key: _near_id(rng, str(orig[key]), {str(r[key]) for r in truth})})
    if date_col:
        twin[date_col] = (date.fromisoformat(str(twin[date_col])) + timedelta(days=rng.randint(1, 40))).isoformat()
    truth.insert(rng.randint(0, n), twin)
    n += 1
    k = 3 if hard else 2
    systems = rng.sample(_SYSTEMS, k)
    styles = ["dayfirst"] + rng.sample(("iso", "epoch", "words"), k - 1)
    rng.shuffle(styles)
    as_json = [hard and s == k - 1 for s in range(k)]
    # who holds which record: everyone at least once; the special records in two or more systems
    pool = [i for i, r in enumerate(truth) if r is not twin and r is not orig]
    n_conf, n_cancel = (3 + rng.randrange(2), 2) if hard else (2, 1)
    special = rng.sample(pool, n_conf + n_cancel)
    conflicts, cancelled = special[:n_conf], special[n_conf:]
    held: dict[int, list[int]] = {}
    for i in range(n):
        if i in special:
            held[i] = sorted(rng.sample(range(k), rng.randint(2, k)))
        else:
            held[i] = [s for s in range(k) if rng.random() < 0.7] or [rng.randrange(k)]
    day_first = styles.index("dayfirst")  # the first conflict is between it and one other system (see _misread)
    held[conflicts[0]] = sorted([day_first, rng.choice([s for s in range(k) if s != day_first])])
    # versions: (system, values, updated, state)
    p = 0.3 + 0.08 * ctx.difficulty
    versions: list[tuple[int, Row, datetime, str]] = []
    for i in range(n):
        base = datetime(2026, rng.randint(1, 10), rng.randint(1, 28), rng.randint(6, 20), rng.randint(0, 59))
        offsets = sorted(rng.sample(range(30, 60 * 24 * 20), len(held[i])))
        order = list(held[i])
        rng.shuffle(order)  # order[-1] holds the newest version
        if i in conflicts[:2]:  # the newest in the last system that holds it, then in the first: keeping the
            want = (max, min)[conflicts.index(i)](held[i])  # first or the last row seen is wrong either way
            order.remove(want)
            order.append(want)
        trap = _misread(rng, order[-1] == day_first) if i == conflicts[0] else None
        for rank, s in enumerate(order):
            values = dict(truth[i])
            state = "active"
            if i in conflicts and rank < len(order) - 1:  # an older version holds a stale value
                field = numeric[0] if conflicts.index(i) == 0 or rank == 0 else rng.choice(numeric + [cat])
                values[field] = _stale(rng, schema, field, values[field], money)
            if i in cancelled and rank == (0 if cancelled.index(i) == 0 else len(order) - 1):
                state = rng.choice(_DROPPED)  # the first one is edited later elsewhere: the cancellation still wins
            at = base + timedelta(minutes=offsets[rank])
            if trap:
                at = trap[s != day_first]
            versions.append((s, values, at, state))
    # rows repeated inside one export (same version, written another way)
    repeats = rng.sample([v for v in versions if v[3] == "active"], 1 + hard)
    versions += repeats
    rng.shuffle(versions)
    # ---- the answer
    dropped = sorted(str(truth[i][key]) for i in cancelled)
    kept = sorted((r for i, r in enumerate(truth) if i not in cancelled), key=lambda r: str(r[key]))
    disagreed = sorted(str(truth[i][key]) for i in conflicts)
    # ---- the files
    base_name = schema.base_name
    folder = f"input/{base_name}_exports"
    files: dict[str, bytes] = {}
    header = cols + ["updated", "state"]
    for s, system in enumerate(systems):
        mine = [v for v in versions if v[0] == s]
        rows_out: list[dict[str, Any]] = []
        for _s, values, at, state in mine:
            row: dict[str, Any] = {key: _messy_id(rng, str(values[key]), p),
                                   name_col: _messy_text(rng, str(values[name_col]), p),
                                   cat: _messy_text(rng, _messy_case(rng, str(values[cat]), p), p / 2)}
            for c in cols:
                if c in row:
                    continue
                if c == date_col:
                    row[c] = _messy_date(rng, str(values[c]))
                elif c in numeric:
                    row[c] = _messy_number(rng, values[c], c in money, p)
                    if as_json[s] and rng.random() < 0.5 and not row[c].strip().startswith("$"):
                        row[c] = values[c]
                else:
                    row[c] = _messy_text(rng, str(values[c]), p)
            stamp = _stamp(styles[s], at)
            row["updated"] = int(stamp) if as_json[s] and styles[s] == "epoch" else stamp
            row["state"] = _messy_case(rng, state, p / 2) if state != "active" or rng.random() < 0.8 else "ACTIVE"
            rows_out.append(row)
        if as_json[s]:
            files[f"{folder}/{system}.json"] = (json.dumps(rows_out, indent=2) + "\n").encode()
        else:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(header)
            w.writerows([[r[c] for c in header] for r in rows_out])
            files[f"{folder}/{system}.csv"] = buf.getvalue().encode()
    names = list(files)
    memo_path = f"{folder}/{rng.choice(('POLICY.md', 'README.md', 'reconciliation_policy.md'))}"
    prefix = str(truth[0][key]).split("-", 1)[0]
    example = str(truth[0][key])
    num = example.split("-", 1)[1]
    lines = [f"# Reconciling the {schema.label} exports", "",
             f"The {schema.label} are kept in {join_list([f'`{s}`' for s in systems])}, which drifted apart. "
             f"Each export has the columns of the record plus `updated` (when that system last changed the row) "
             "and `state`.", "",
             "## Policy", "",
             f"1. **Same record**: two rows are one record when their `{key}` values match once case, spaces and "
             f"punctuation are ignored (`{example}`, `{prefix.lower()} {num}` and `{prefix}_{num}` are one record). "
             f"Rows that share a `{name_col}` but not an id are different records: keep each of them.",
             "2. **Newest wins**: when the exports disagree about a record, take all of its values from the "
             "version with the latest `updated` time.",
             "3. **Cancellation wins**: a record that any export marks `cancelled`, `void` or `deleted` "
             "(any case) is dropped, even when another system changed it later.",
             f"4. **Clean values**: `{key}` as `{prefix}-NNNN` (upper case, one hyphen); `{cat}` in lower case; "
             "text trimmed with single spaces inside"
             + (f"; `{date_col}` as YYYY-MM-DD (the exports mix YYYY-MM-DD, DD/MM/YYYY and forms like `7 Mar 2026`)"
                if date_col else "")
             + "; numbers as plain numbers, without currency symbols or thousands separators.", "",
             "## How each system writes `updated`", ""]
    lines += [f"- `{name}`: {_STAMPS[styles[s]]}" for s, name in enumerate(names)]
    files[memo_path] = ("\n".join(lines) + "\n").encode()
    # ---- outputs, checks, wording
    fmt = pick_fmt(rng)
    out = Table(columns=cols, rows=kept, path=f"output/step{ctx.step}_{base_name}_reconciled.{fmt}", fmt=fmt,
                label=schema.label, key=key, numeric=numeric, category=cat)
    report_path = f"output/step{ctx.step}_{rng.choice(('reconciliation', 'discrepancies', 'sync_report'))}.json"
    report = {"conflicts": disagreed, "cancelled": dropped}
    step = f"step{ctx.step}"
    checks = table_checks(ctx.step, "reconciled", out)
    if date_col:
        checks.append(ck.table_equal(f"{step}_reconciled_{date_col}", _cols(out, [key, date_col]), exact_columns=False))
    checks += [ck.json_equal(f"{step}_report_conflicts", report_path, disagreed, key_path=["conflicts"]),
               ck.json_equal(f"{step}_report_cancelled", report_path, dropped, key_path=["cancelled"])]
    instruction = _reconcile_wording(ctx, schema.label, folder, memo_path, len(systems), out, key, report_path)
    look = f"grep -i -n -E '{'|'.join(_DROPPED)}' {folder}/*"
    oracle = [exec_call(look), write_call(out.path, serialize(out)),
              write_call(report_path, json.dumps(report, indent=2) + "\n")]
    return OpStep(
        op=CleanDedupe.name, instruction=instruction, oracle=oracle, checks=checks,
        outputs=[OutputSpec(out.path, TABLE_MUTATIONS),
                 OutputSpec(report_path, ("missing", "value", "format"), checked_values=tuple(disagreed + dropped))],
        artifact=out, input_files=files,
    )


def _misread(rng: random.Random, day_first_newer: bool) -> tuple[datetime, datetime]:
    """Update times for two versions, (day-first system's, the other's), whose order flips when the day-first
    date is read month first: whoever reads it the American way takes the stale version."""
    small, big = sorted(rng.sample(range(1, 13), 2))
    day, month = (small, big) if day_first_newer else (big, small)
    true, misread = date(2026, month, day), date(2026, day, month)
    lo, hi = sorted((true, misread))
    between = lo + timedelta(days=rng.randint(1, (hi - lo).days - 1))
    clock = timedelta(hours=rng.randint(6, 20), minutes=rng.randint(0, 59))
    return (datetime.combine(true, datetime.min.time()) + clock,
            datetime.combine(between, datetime.min.time()) + clock + timedelta(minutes=rng.randint(1, 50)))


def _stale(rng: random.Random, schema: Any, field: str, value: Any, money: set[str]) -> Any:
    """An older value of ``field``: another category, or a number a little off."""
    if field == schema.category:
        make = next(c.make for c in schema.columns if c.name == field)
        return rng.choice(sorted({str(make(random.Random(x), 0)).lower() for x in range(40)} - {value}))
    if field in money:
        return round(float(value) + rng.choice((-1, 1)) * rng.uniform(5, 120), 2) if float(value) > 130 else \
            round(float(value) + rng.uniform(1, 9), 2)
    step = rng.choice((1, 2, 3, 5, 10))
    return int(value) - step if int(value) >= step and rng.random() < 0.5 else int(value) + step


def _reconcile_wording(ctx: OpContext, label: str, folder: str, memo: str, k: int, out: Table, key: str,
                       report: str) -> str:
    """The goal and the output contract; the rules live in the memo."""
    v = dict(label=label, folder=tick(folder + "/"), memo=tick(memo), k="two" if k == 2 else "three",
             out=tick(out.path), cols=ticks(out.columns), key=tick(key), report=tick(report),
             conflicts=tick("conflicts"), cancelled=tick("cancelled"))
    intro = ctx.say(
        "[Our|The] {label} [live in|are kept in|are tracked in] {k} systems that [no longer agree|have drifted "
        "apart|disagree with each other][, and I need one version of the truth|; I need a single clean list|]. "
        "[Their exports are in|Each system's export is in|The exports sit in] {folder}[, and|; ] [[the "
        "reconciliation policy|the policy for reconciling them|our reconciliation policy] is|the rules we agreed on "
        "are] [written down |spelled out |]in {memo}.", **v)
    table = ctx.say(
        "[Reconcile them|Merge the exports|Bring them together] [following|according to|by] [the policy|the memo's "
        "rules|what the policy says] and [[save|write] the result to|store the result in|put the merged table in] {out} as " + FMT_SAY[out.fmt] + "[ with| using] "
        "[exactly |]the columns {cols}[,|:] one row per [real |]record, [sorted by|ordered by] {key}[| ascending].",
        **v)
    rep = ctx.say(
        "[Also|Then|Finally,] [write|save|produce] {report}, a JSON object with {conflicts} ([the|all the] "
        "{key} values, sorted, of the [kept |]records whose exports disagreed on [at least one|some] value "
        "[once cleaned|after cleaning|after the values are normalised]; a [mere |]difference in formatting is not "
        "a disagreement) and {cancelled} (the {key} values, [sorted|in sorted order|sorted A to Z], of the records "
        "[dropped|removed] "
        "[because they were cancelled|as cancelled]).", **v)
    return f"{intro} {table} {rep}"
