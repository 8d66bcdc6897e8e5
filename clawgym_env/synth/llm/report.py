"""The funnel of a synthesis run: items in and out of each stage, rejects by reason, tokens spent.

Written to DIR/report.json (machine-readable) and DIR/report.md (for people) after every run, from
the stage files, so a resumed run reports the whole run, not just its last invocation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clawgym_env.synth.llm.stages import StageResult


def funnel(results: list[StageResult], config: dict[str, Any]) -> dict[str, Any]:
    total: dict[str, int] = {}
    for r in results:
        for k, v in r.usage.items():
            total[k] = total.get(k, 0) + v
    return {"config": config, "stages": [r.to_dict() for r in results], "usage_total": total,
            "kept": results[-1].n_out if results else 0}


def write_report(out_dir: Path, results: list[StageResult], config: dict[str, Any], title: str) -> dict[str, Any]:
    data = funnel(results, config)
    (out_dir / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    header = "| stage | file | in | out | rejected (reason: count) | prompt tok | completion tok | requests |"
    lines = [f"# {title}", "", header, "|---|---|---:|---:|---|---:|---:|---:|"]
    for r in results:
        rejects = ", ".join(f"{k}: {v}" for k, v in r.rejects.items()) or "-"
        lines.append(f"| {r.name} | `{r.file}` | {r.n_in} | {r.n_out} | {rejects} | {r.usage.get('prompt_tokens', 0)} "
                     f"| {r.usage.get('completion_tokens', 0)} | {r.requests} |")
    usage = data["usage_total"]
    summary = (f"Kept: **{data['kept']}** of {results[0].n_in if results else 0}. Tokens: "
               f"{usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} completion "
               f"= {usage.get('total_tokens', 0)} total (summed from the API's usage, every invocation of the run).")
    lines += ["", summary, "", "Config: `" + json.dumps(config, sort_keys=True) + "`", ""]
    (out_dir / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return data


__all__ = ["funnel", "write_report"]
