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
