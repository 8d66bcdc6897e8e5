"""Evaluation reports: results JSON, a Markdown summary and a self-contained HTML page.

The HTML draws its plots as inline SVG generated here (score by category, score distribution,
turns and tokens per episode), so the page needs no network, no JavaScript and no plotting
library, and ``import clawgym_env`` stays light.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from clawgym_env.bench.metrics import category_label

# ---------------------------------------------------------------------------------------- formatting


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, int) or float(x).is_integer() and abs(x) >= 100:
        return f"{int(x):,}"
    return f"{x:.{digits}f}"


def _dist(d: dict[str, float] | None, digits: int = 1) -> str:
    if not d:
        return "–"
    return f"{d['mean']:.{digits}f} (median {d['median']:.{digits}f}, p90 {d['p90']:.{digits}f}, max {d['max']:.{digits}f})"


def headline_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(figure, value) pairs of the headline table, shared by Markdown and HTML."""
    rows = [
        ("mean score", _num(summary["mean_score"])),
        (f"correct rate (score > {summary['correct_threshold']})", _pct(summary["correct_rate"])),
    ]
    for k, v in summary["pass_at_k"].items():
        rows.append((f"pass@{k} ({v['tasks']} tasks)", _pct(v["value"])))
    rows += [
        ("episodes / tasks", f"{summary['episodes']} / {summary['tasks']}"),
        ("scored episodes", str(summary["scored"])),
        ("infra errors (excluded)", str(summary["infra_errors"])),
        ("unscored (judge-only, no judge)", str(summary["unscored"])),
        ("truncated (budget or max steps)", str(summary["truncated"])),
        ("turns per episode", _dist(summary["turns"])),
        ("tool calls per episode", _dist(summary["tool_calls"])),
        ("tool error rate", _pct(summary["tool_error_rate"])),
        ("tokens per episode", _dist(summary["tokens"], 0) if summary["tokens"] else "– (agent reports no usage)"),
        ("seconds per episode", _dist(summary["episode_seconds"], 2)),
    ]
    if summary.get("queue_seconds"):  # turns that waited for a model another episode was using
        rows.append(("seconds queued per episode (excluded above)", _dist(summary["queue_seconds"], 2)))
    if summary["budget_hits"]:
        rows.append(("budgets hit", ", ".join(f"{k}: {v}" for k, v in summary["budget_hits"].items())))
    if summary.get("groups"):
        g = summary["groups"]
        rows.append(("repeat groups all-0 / all-1 / mixed",
                     f"{_pct(g['all_zero'])} / {_pct(g['all_one'])} / {_pct(g['mixed'])} ({g['groups']} groups)"))
    return rows


def _run_line(run: dict[str, Any]) -> str:
    agent = run.get("agent", {})
    parts = [f"suite `{run.get('suite')}`", f"agent `{agent.get('agent', '?')}`"]
    if agent.get("model"):
        parts.append(f"model `{agent['model']}`")
    for key in ("repeats", "concurrency", "run_seed"):
        if key in run:
            parts.append(f"{key} {run[key]}")
    if run.get("wall_s") is not None:
        parts.append(f"wall {run['wall_s']:.1f} s")
    if run.get("episodes_per_s"):
        parts.append(f"{run['episodes_per_s']:.2f} episodes/s")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------- markdown


def _md_table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(results: dict[str, Any], *, max_task_rows: int = 300) -> str:
    s, run = results["summary"], results["run"]
    out = [f"# ClawGym evaluation: {run.get('suite')}", "", _run_line(run), "",
           _md_table(["figure", "value"], [list(r) for r in headline_rows(s)]), ""]
    if s["per_category"]:
        out += ["## By category", "", _md_table(
            ["category", "episodes", "mean score", "correct rate"],
            [[category_label(c), str(v["episodes"]), _num(v["mean_score"]), _pct(v["correct_rate"])]
             for c, v in s["per_category"].items()]), ""]
    if results.get("infra_errors"):
        out += ["## Infrastructure errors (left out of the means)", "",
                _md_table(["episode", "error"], [[e["episode_id"], e["infra_error"][:200]]
                                                  for e in results["infra_errors"]]), ""]
    tasks = results.get("tasks") or []
    if tasks and len(tasks) <= max_task_rows:
        out += ["## Per task", "", _md_table(
            ["task", "category", "n", "mean score", "correct", "infra errors"],
            [[t["task_id"], category_label(t["category"]), str(t["n"]), _num(t["mean_score"]), str(t["correct"]),
              str(t["infra_errors"])] for t in tasks]), ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- SVG plots
_W, _BAR_H, _FONT = 640, 22, "font-family:system-ui,sans-serif;font-size:12px"


def svg_hbars(items: list[tuple[str, float, str]], *, max_value: float = 1.0, title: str = "") -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    if not items:
        return ""
    label_w, right = 260, 110
    plot_w = _W - label_w - right
    h = 30 + len(items) * _BAR_H + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}" role="img" style="{_FONT}">',
             f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value, note) in enumerate(items):
        y = 28 + i * _BAR_H
        w = 0 if max_value <= 0 else max(0.0, min(1.0, value / max_value)) * plot_w
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(label[:40])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="{_BAR_H - 6}" fill="#eef1f5"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{_BAR_H - 6}" fill="#3b73b9"/>')
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 15}">{html.escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: list[float], bins: int, lo: float, hi: float) -> list[int]:
    counts = [0] * bins
    width = (hi - lo) / bins if hi > lo else 1.0
    for v in values:
        i = int((v - lo) / width) if hi > lo else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def _tick(v: float) -> str:
    """Short axis label: 0.25, 120, 12k, 1.5M."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:.0f}" if a >= 100 or float(v).is_integer() else f"{v:.2g}"


def svg_histogram(values: list[float], *, bins: int = 10, lo: float | None = None, hi: float | None = None,
                  title: str = "", integer: bool = False) -> str:
    """Vertical-bar histogram of ``values`` over [lo, hi] (default: their range)."""
    if not values:
        return ""
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    if integer:  # one bar per integer when the range is small, else integer-wide bins
        span = int(hi - lo) + 1
        bins = min(span, 30)
        hi = lo + math.ceil(span / bins) * bins
    elif hi <= lo:
        hi = lo + 1.0
    counts = histogram(values, bins, lo, hi)
    top = max(counts) or 1
    left, bottom, plot_h = 40, 40, 160
    plot_w = _W - left - 10
    h = 24 + plot_h + bottom
    bw = plot_w / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}" role="img" style="{_FONT}">',
             f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{left}" y1="{24 + plot_h}" x2="{left + plot_w}" y2="{24 + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{30}" text-anchor="end">{top}</text>']
    step = (hi - lo) / bins
    for i, c in enumerate(counts):
        bh = plot_h * c / top
        x = left + i * bw
        parts.append(f'<rect x="{x + 1:.1f}" y="{24 + plot_h - bh:.1f}" width="{max(bw - 2, 1):.1f}" '
                     f'height="{bh:.1f}" fill="#3b73b9"><title>{c}</title></rect>')
        every = 1 if bins <= 12 else max(1, bins // 5)
        if i % every == 0 and (i == 0 or i + every <= bins or integer and step == 1):
            edge = lo + i * step
            if integer and step == 1:  # one bar per value: label its middle
                parts.append(f'<text x="{x + bw / 2:.1f}" y="{24 + plot_h + 14}" text-anchor="middle">{edge:.0f}</text>')
            else:
                parts.append(f'<text x="{x:.1f}" y="{24 + plot_h + 14}">{_tick(edge)}</text>')
    if not (integer and step == 1):
        parts.append(f'<text x="{left + plot_w}" y="{24 + plot_h + 14}" text-anchor="end">{_tick(hi)}</text>')
    parts.append(f'<text x="{left - 4}" y="{24 + plot_h}" text-anchor="end">0</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------- HTML
_CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f5f8}code{background:#f3f5f8;padding:0 3px}.plots svg{display:block;margin:1.5em 0}"""


def _html_table(header: list[str], rows: Iterable[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(results: dict[str, Any], plot_data: dict[str, list[float]]) -> str:
    """The report as one HTML file; ``plot_data`` holds per-episode ``scores``, ``turns``, ``tokens``."""
    s, run = results["summary"], results["run"]
    title = f"ClawGym evaluation: {run.get('suite')}"
    plots = []
    if s["per_category"]:
        plots.append(svg_hbars([(category_label(c), v["mean_score"], f"{v['mean_score']:.3f} (n={v['episodes']})")
                                for c, v in s["per_category"].items()], title="Mean score by category"))
    plots.append(svg_histogram(plot_data.get("scores", []), bins=10, lo=0.0, hi=1.0,
                               title="Score distribution (scored episodes)"))
    plots.append(svg_histogram(plot_data.get("turns", []), integer=True, title="Turns per episode"))
    if plot_data.get("tokens"):
        plots.append(svg_histogram(plot_data["tokens"], bins=20, lo=0.0, title="Tokens per episode"))
    else:
        plots.append("<p><em>Tokens per episode: the agent reported no token usage.</em></p>")
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(_run_line(run).replace('`', ''))}</p>",
            _html_table(["figure", "value"], [list(r) for r in headline_rows(s)]),
            '<div class="plots">' + "".join(plots) + "</div>"]
    if s["per_category"]:
        body += ["<h2>By category</h2>", _html_table(
            ["category", "episodes", "mean score", "correct rate"],
            [[category_label(c), str(v["episodes"]), _num(v["mean_score"]), _pct(v["correct_rate"])]
             for c, v in s["per_category"].items()])]
    if results.get("infra_errors"):
        body += ["<h2>Infrastructure errors (left out of the means)</h2>", _html_table(
            ["episode", "error"], [[e["episode_id"], e["infra_error"][:300]] for e in results["infra_errors"]])]
    tasks = results.get("tasks") or []
    if tasks:
        body += [f"<details><summary>Per task ({len(tasks)})</summary>", _html_table(
            ["task", "category", "n", "mean score", "correct", "infra errors"],
            [[t["task_id"], category_label(t["category"]), str(t["n"]), _num(t["mean_score"]), str(t["correct"]),
              str(t["infra_errors"])] for t in tasks]), "</details>"]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_reports(out_dir: str | Path, results: dict[str, Any], plot_data: dict[str, list[float]]) -> dict[str, Path]:
    """results.json, report.md and report.html in ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.json", "markdown": out / "report.md", "html": out / "report.html"}
    _atomic_write(paths["results"], json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _atomic_write(paths["markdown"], markdown_report(results) + "\n")
    _atomic_write(paths["html"], html_report(results, plot_data))
    return paths


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


__all__ = ["headline_rows", "histogram", "html_report", "markdown_report", "svg_hbars", "svg_histogram",
           "write_reports"]
