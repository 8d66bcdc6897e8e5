"""Communication and coordination operations: reports, messages, notes built from data."""

from __future__ import annotations

import re

from clawgym_env.synth import checks as ck
from clawgym_env.synth.artifacts import Table, Text, fmt_number
from clawgym_env.synth.ops.base import OpContext, OpStep, OutputSpec, write_call
from clawgym_env.synth.phrasing import pick


class StatusReport:
    """A short Markdown status report that states counts and names the leading records."""

    name = "status_report"
    category = "communication"
    consumes = ("table",)
    starts = False
    offline_note = None

    def build(self, ctx: OpContext) -> OpStep:
        rng = ctx.rng
        src = ctx.upstream
        if not isinstance(src, Table) or not src.rows:
            raise TypeError("status_report needs a non-empty table")
        key = src.key or src.columns[0]
        metric = src.numeric[0] if src.numeric else None
        top = src.rows[: min(3, len(src.rows))]
        title = pick(rng, ("Status update", "Weekly summary", "Review notes", "Situation report"))
        path = f"output/step{ctx.step}_report.md"
        total = fmt_number(sum(float(r[metric]) for r in src.rows)) if metric else None  # type: ignore[arg-type]
        lines = [f"# {title}: {src.label}", "", f"- Records reviewed: {len(src.rows)}"]
        if metric:
            lines.append(f"- Total `{metric}`: {total}")
        lines += ["", "## Leading items", ""]
        lines += [f"{i + 1}. {r[key]}" + (f" ({metric}: {fmt_number(r[metric])})" if metric else "")  # type: ignore[arg-type]
                  for i, r in enumerate(top)]
        content = "\n".join(lines) + "\n"
        facts = [f"Records reviewed: {len(src.rows)}"] + ([f"{total}"] if metric else [])
        instruction = pick(rng, (
            f"Write a short Markdown report to `{path}` for {ctx.persona.name.split()[0]}'s colleagues: a level-1 "
            f"heading starting with `{title}`, a bullet `Records reviewed: <n>` with the number of rows in "
            f"`{src.path}`" + (f", a bullet `Total {metric}: <sum of {metric}>`" if metric else "") +
            f", and a `## Leading items` section listing the first {len(top)} `{key}` values of `{src.path}` in order "
            f"as a numbered list.",
            f"Draft `{path}` (Markdown): title line `# {title}: …`, then `Records reviewed: <count of rows in "
            f"{src.path}>`" + (f", then `Total {metric}: <sum>`" if metric else "") + f", then a `## Leading items` "
            f"numbered list of the top {len(top)} `{key}` values exactly as they appear in `{src.path}`.",
        ))
        checks = [ck.regex(f"step{ctx.step}_title", path, rf"^# {title}\b"),
                  ck.regex(f"step{ctx.step}_count", path, rf"Records reviewed: {len(src.rows)}(?![\d.])"),
                  ck.ordered(f"step{ctx.step}_leading_order", path, ["## Leading items"] + [str(r[key]) for r in top])]
        if metric:
            checks.append(ck.regex(f"step{ctx.step}_total", path,
                                   rf"Total `?{re.escape(metric)}`?: {re.escape(str(total))}(?![\d]|\.\d)"))
        return OpStep(
            op=self.name, instruction=instruction, oracle=[write_call(path, content)], checks=checks,
            outputs=[OutputSpec(path, ("missing", "value", "order"),
                                checked_values=tuple([f"Records reviewed: {len(src.rows)}"] + ([f"Total `{metric}`: {total}"] if metric else [])
                                                     + [str(r[key]) for r in top]))],
            artifact=Text(path=path, content=content, label="status report", facts={"facts": facts}),
        )
