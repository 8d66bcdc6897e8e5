"""The funnel of a synthesis run: items in and out of each stage, rejects by reason, tokens spent.

Written to DIR/report.json (machine-readable), DIR/report.md and DIR/report.html (for people: the
same table and a bar per stage, one self-contained page, no script) after every run, from the stage
files, so a resumed run reports the whole run, not just its last invocation.
"""

from __future__ import annotations

import html
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
    (out_dir / "report.html").write_text(_html(title, results, summary, config), encoding="utf-8")
    return data


def _html(title: str, results: list[StageResult], summary: str, config: dict[str, Any]) -> str:
    """The funnel as one static page: a bar per stage (kept of received) beside the table."""
    esc = html.escape
    widest = max([r.n_in for r in results] + [1])
    rows = []
    for r in results:
        rejects = "<br>".join(f"{esc(k)}: {v}" for k, v in r.rejects.items()) or "-"
        bar = (f'<svg width="200" height="14" role="img" aria-label="{r.n_out} of {r.n_in} kept">'
               f'<rect width="{200 * r.n_in / widest:.1f}" height="14" fill="#e3a6a6"/>'
               f'<rect width="{200 * r.n_out / widest:.1f}" height="14" fill="#5b9b5b"/></svg>')
        rows.append(f"<tr><td>{esc(r.name)}</td><td><code>{esc(r.file)}</code></td><td>{r.n_in}</td>"
                    f"<td>{r.n_out}</td><td>{bar}</td><td>{rejects}</td>"
                    f"<td>{r.usage.get('prompt_tokens', 0)}</td><td>{r.usage.get('completion_tokens', 0)}</td>"
                    f"<td>{r.requests}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("stage", "file", "in", "out", "kept", "rejected (reason: count)",
                                               "prompt tok", "completion tok", "requests"))
    plain = summary.replace("**", "")
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}</style></head>"
            f"<body><h1>{esc(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
            f"</table><p>{esc(plain)}</p><p>Config: <code>{esc(json.dumps(config, sort_keys=True))}</code></p>"
            "</body></html>\n")


__all__ = ["funnel", "write_report"]
