"""Evaluation reports: results JSON, a Markdown summary and a self-contained HTML page.

The HTML draws its plots as inline SVG generated here (score by category, score distribution,
reward over turns, pass@k, turns and tokens per episode), so the page needs no network, no
JavaScript and no plotting library, and ``import clawgym_env`` stays light.
"""

from __future__ import annotations

import html
import json
import math
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clawgym_env.bench.metrics import CORRECT_THRESHOLD, category_label, pass_at_k
from clawgym_env.viewer import VIEWER_URL

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


def pass_at_k_curve(counts: Iterable[tuple[int, int]]) -> list[tuple[int, float, int]]:
    """``(k, pass@k, tasks)`` for every k from 1 to the most samples a task has, from each task's
    ``(n samples, c correct)``; pass@k averages the tasks with at least k samples (as the summary's)."""
    pairs = [(int(n), int(c)) for n, c in counts if n > 0]
    top = max((n for n, _ in pairs), default=0)
    curve = []
    for k in range(1, top + 1):
        vals = [pass_at_k(n, c, k) for n, c in pairs if n >= k]
        curve.append((k, math.fsum(vals) / len(vals), len(vals)))
    return curve


def reward_over_turns(turn_scores: Iterable[tuple[float, float]], *, threshold: float = CORRECT_THRESHOLD
                      ) -> tuple[list[tuple[int, float, int]], list[tuple[int, float]]]:
    """Two views of how reward relates to the turns an episode took, from ``(turns, score)`` per
    scored episode: the mean score of the episodes that ended after exactly t turns ``(t, mean, n)``,
    one point per turn count seen; and the share of all of them solved (score > threshold) within
    t turns ``(t, share)``, for every t from the fewest turns to the most."""
    pairs = [(int(t), float(s)) for t, s in turn_scores]
    if not pairs:
        return [], []
    by_turn: dict[int, list[float]] = {}
    for t, score in pairs:
        by_turn.setdefault(t, []).append(score)
    means = [(t, math.fsum(v) / len(v), len(v)) for t, v in sorted(by_turn.items())]
    lo, hi = min(by_turn), max(by_turn)
    solved = sorted(t for t, score in pairs if score > threshold)
    within, i = [], 0
    for t in range(lo, hi + 1):
        while i < len(solved) and solved[i] <= t:
            i += 1
        within.append((t, i / len(pairs)))
    return means, within


def svg_line_chart(series: list[tuple[str, str, list[tuple[float, float, str]]]], *, title: str = "",
                   x_label: str = "", y_label: str = "", lines: bool = True) -> str:
    """Points (and the line through them) of each ``(name, colour, [(x, y, tooltip)])`` series on
    y in [0, 1]; every point is a ``<circle class="pt">`` carrying ``data-series``, ``data-x`` and
    ``data-y``, so a reader (or a test) can take the values back off the page."""
    points = [p for _, _, pts in series for p in pts]
    if not points:
        return ""
    left, top, plot_h, bottom = 44, 30, 180, 40
    plot_w = _W - left - 20
    h = top + plot_h + bottom + 16 * len(series)
    x_lo = min(x for x, _, _ in points)
    x_hi = max(x for x, _, _ in points)
    span = (x_hi - x_lo) or 1.0

    def sx(x: float) -> float:
        return left + (plot_w / 2 if x_hi == x_lo else (x - x_lo) / span * plot_w)

    def sy(y: float) -> float:
        return top + plot_h - max(0.0, min(1.0, y)) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}" role="img" style="{_FONT}">',
             f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = sy(frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{frac:g}</text>')
    xs = sorted({x for x, _, _ in points})
    every = max(1, math.ceil(len(xs) / 12))
    for x in xs[::every]:
        parts.append(f'<text x="{sx(x):.1f}" y="{top + plot_h + 14}" text-anchor="middle">{_tick(x)}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 30}" text-anchor="middle">'
                 f'{html.escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{html.escape(y_label)}</text>')
    for name, colour, pts in series:
        if lines and len(pts) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in pts)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, tip in pts:
            parts.append(f'<circle class="pt" data-series="{html.escape(name)}" data-x="{x:g}" data-y="{y:.6g}" '
                         f'cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{colour}"><title>{html.escape(tip)}'
                         f'</title></circle>')
    for i, (name, colour, _) in enumerate(series):
        y = top + plot_h + bottom + 12 * i + 4
        parts.append(f'<rect x="{left}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + 16}" y="{y + 1}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_reward_over_turns(turn_scores: Iterable[tuple[float, float]], *,
                          threshold: float = CORRECT_THRESHOLD) -> str:
    """The reward-over-turns plot of :func:`reward_over_turns` (empty without scored episodes)."""
    means, within = reward_over_turns(turn_scores, threshold=threshold)
    if not means:
        return ""
    return svg_line_chart([
        ("mean score of the episodes that ended after t turns", "#3b73b9",
         [(t, m, f"{t} turns: mean score {m:.3f} over {n} episode(s)") for t, m, n in means]),
        (f"share of episodes solved (score > {threshold:g}) within t turns", "#d9822b",
         [(t, v, f"within {t} turns: {100 * v:.1f} % solved") for t, v in within]),
    ], title="Reward over turns", x_label="turns (t)", y_label="score / share")


def svg_pass_at_k(counts: Iterable[tuple[int, int]]) -> str:
    """The pass@k curve of :func:`pass_at_k_curve` (empty when no task has a sample)."""
    curve = pass_at_k_curve(counts)
    if not curve:
        return ""
    return svg_line_chart([("pass@k (unbiased estimator, tasks with at least k samples)", "#2e8b57",
                            [(k, v, f"pass@{k} = {100 * v:.1f} % over {n} task(s)") for k, v, n in curve])],
                          title="pass@k", x_label="k (samples per task)", y_label="pass@k")


# ---------------------------------------------------------------------------------------- HTML
_CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f5f8}code{background:#f3f5f8;padding:0 3px}.plots svg{display:block;margin:1.5em 0}"""


def _html_table(header: list[str], rows: Iterable[list[str]], *, raw_cols: frozenset[int] = frozenset()) -> str:
    """A table; the cells of ``raw_cols`` are HTML already (links), the others are escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if i in raw_cols else html.escape(str(c))}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _viewer_link(text: str, route: str) -> str:
    """A link into ``clawgym view`` (served on its default port) at ``route``."""
    return f'<a href="{html.escape(VIEWER_URL + "#/" + route)}">{html.escape(text)}</a>'


def _viewer_hint(run: dict[str, Any]) -> str:
    if not run.get("records"):
        return ""
    command = f"clawgym view {shlex.quote(str(Path(run['records']).parent))}"
    return (f'<p class="viewer">Step through each episode (messages, tool calls, file diffs, sub-scores): run '
            f"<code>{html.escape(command)}</code>, then open {_viewer_link(VIEWER_URL, '')}; the task and episode "
            "links below open it there.</p>")


def html_report(results: dict[str, Any], plot_data: dict[str, list[Any]]) -> str:
    """The report as one HTML file; ``plot_data`` holds per-episode ``scores``, ``turns``, ``tokens``,
    ``turn_scores`` ([turns, score] per scored episode) and ``passk_counts`` ([n, c] per task)."""
    s, run = results["summary"], results["run"]
    title = f"ClawGym evaluation: {run.get('suite')}"
    plots = []
    if s["per_category"]:
        plots.append(svg_hbars([(category_label(c), v["mean_score"], f"{v['mean_score']:.3f} (n={v['episodes']})")
                                for c, v in s["per_category"].items()], title="Mean score by category"))
    plots.append(svg_histogram(plot_data.get("scores", []), bins=10, lo=0.0, hi=1.0,
                               title="Score distribution (scored episodes)"))
    threshold = s.get("correct_threshold", CORRECT_THRESHOLD)
    plots.append(svg_reward_over_turns(plot_data.get("turn_scores", []), threshold=threshold))
    counts = plot_data.get("passk_counts", [])
    if max((n for n, _ in counts), default=0) >= 2:
        plots.append(svg_pass_at_k(counts))
    elif counts:
        plots.append("<p><em>pass@k: one episode per task; run with --repeats N (N &ge; 2) for the curve.</em></p>")
    plots.append(svg_histogram(plot_data.get("turns", []), integer=True, title="Turns per episode"))
    if plot_data.get("tokens"):
        plots.append(svg_histogram(plot_data["tokens"], bins=20, lo=0.0, title="Tokens per episode"))
    else:
        plots.append("<p><em>Tokens per episode: the agent reported no token usage.</em></p>")
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(_run_line(run).replace('`', ''))}</p>",
            _viewer_hint(run), _html_table(["figure", "value"], [list(r) for r in headline_rows(s)]),
            '<div class="plots">' + "".join(plots) + "</div>"]
    if s["per_category"]:
        body += ["<h2>By category</h2>", _html_table(
            ["category", "episodes", "mean score", "correct rate"],
            [[category_label(c), str(v["episodes"]), _num(v["mean_score"]), _pct(v["correct_rate"])]
             for c, v in s["per_category"].items()])]
    if results.get("infra_errors"):
        body += ["<h2>Infrastructure errors (left out of the means)</h2>", _html_table(
            ["episode", "error"], [[_viewer_link(e["episode_id"], "episode/a/" + quote(e["episode_id"], safe="")),
                                    e["infra_error"][:300]] for e in results["infra_errors"]], raw_cols=frozenset({0}))]
    tasks = results.get("tasks") or []
    if tasks:
        body += [f"<details><summary>Per task ({len(tasks)})</summary>", _html_table(
            ["task", "category", "n", "mean score", "correct", "infra errors"],
            [[_viewer_link(t["task_id"], "?task=" + quote(t["task_id"], safe="")), category_label(t["category"]),
              str(t["n"]), _num(t["mean_score"]), str(t["correct"]), str(t["infra_errors"])] for t in tasks],
            raw_cols=frozenset({0})), "</details>"]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_reports(out_dir: str | Path, results: dict[str, Any], plot_data: dict[str, list[Any]]) -> dict[str, Path]:
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


__all__ = ["headline_rows", "histogram", "html_report", "markdown_report", "pass_at_k_curve", "reward_over_turns",
           "svg_hbars", "svg_histogram", "svg_line_chart", "svg_pass_at_k", "svg_reward_over_turns", "write_reports"]
