"""File and content handling operations."""

from __future__ import annotations

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Table, describe_format, serialize
from clawgym_env.synth.datagen import make_table, schema_for
from clawgym_env.synth.ops.base import OpContext, OpStep, OutputSpec, write_call
from clawgym_env.synth.phrasing import join_list, pick


class ReadExtract:
    """Read a local data file and extract some fields of every record into a new file."""

    name = "read_extract"
    category = "file_content"
    consumes: tuple[str, ...] = ()
    starts = True
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        schema = schema_for(rng)
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
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(out.path, serialize(out))],
            checks=[ck.table_equal(f"step{ctx.step}_extracted", out)],
            outputs=[OutputSpec(out.path, ("missing", "value", "format", "order"))],
            artifact=out,
            input_files={src.path: serialize(src).encode()},
        )


# ================================================================= write_structured
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
        if src.category and src.category in src.columns and len({str(r[src.category]) for r in src.rows}) > 1:
            variants.append("grouped")
        keys = [cell(r.get(key)) for r in src.rows]
        if all(keys) and len(set(keys)) == len(keys) and len(src.columns) > 1:
            variants.append("keyed")
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
        sort_col = rng.choice(src.numeric) if src.numeric and ctx.difficulty >= 3 else None
        if sort_col:
            rows.sort(key=lambda r: (-float(r[sort_col]), cell(r.get(key))))  # type: ignore[arg-type]
            order = f"sorted by `{sort_col}` from highest to lowest (ties by `{key}`, A to Z)"
        else:
            order = f"in the same order as `{src.path}`"
        out = Table(columns=list(src.columns), rows=rows, path=path, fmt="md", label=src.label, key=src.key,
                    numeric=list(src.numeric), category=src.category)
        content = f"## {title}\n\n" + serialize(out)
        cols = join_list([f"`{c}`" for c in src.columns])
        instruction = pick(rng, (
            f"Turn `{src.path}` into a Markdown document `{path}`: a level-2 heading `## {title}`, a blank line, then "
            f"a Markdown table (header row, `---` separator row) with the columns {cols} and one row per record, "
            f"{order}. Write numbers plainly (no currency symbols).",
            f"Create `{path}` containing the heading `## {title}` followed by a pipe-delimited Markdown table of every "
            f"row of `{src.path}` (columns {cols}, in that order), {order}.",
        ))
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)],
            checks=[ck.regex(f"step{ctx.step}_md_heading", path, rf"^## {re.escape(title)}\s*$"),
                    ck.table_equal(f"step{ctx.step}_md_table", out)],
            outputs=[OutputSpec(path, ("missing", "value", "format", "order"))],
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
        checks = [ck.json_equal(f"step{ctx.step}_group_{i}", path, items, key_path=[g])
                  for i, (g, items) in enumerate(doc.items())]
        return OpStep(
            op=self.name, instruction=instruction,
            oracle=[write_call(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")],
            checks=checks,
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
