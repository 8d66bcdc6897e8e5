"""The eval report's reward-over-turns and pass@k curves (inline SVG), and the CLI's progress bars.

The curves are checked on a real ``clawgym eval`` run (bwrap sandboxes, the built-in suite) and on
hand-made records whose pass@k values are worked out here from the binomial formula.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
from pathlib import Path

from rich.console import Console

from clawgym_env.bench.metrics import summarize
from clawgym_env.bench.report import html_report, pass_at_k_curve, reward_over_turns, svg_pass_at_k
from clawgym_env.cli import main
from clawgym_env.progress import progress_bar
from clawgym_env.rollout import read_records
from clawgym_env.rollout.records import TrajectoryRecord

_POINT = re.compile(r'<circle class="pt" data-series="([^"]*)" data-x="([^"]*)" data-y="([^"]*)"')


def points(page: str) -> dict[str, list[tuple[float, float]]]:
    """The plotted points of each series, read back off the page."""
    out: dict[str, list[tuple[float, float]]] = {}
    for series, x, y in _POINT.findall(page):
        out.setdefault(series, []).append((float(x), float(y)))
    return out


def only(series: dict[str, list[tuple[float, float]]], prefix: str) -> list[tuple[float, float]]:
    (key,) = [k for k in series if k.startswith(prefix)]
    return series[key]


def record(task: str, repeat: int, reward: float, steps: int) -> TrajectoryRecord:
    return TrajectoryRecord(episode_id=f"{task}#{repeat}", task_id=task, source="test", repeat=repeat,
                            reward=reward, steps=steps, scored=True)


def test_pass_at_k_curve_matches_the_binomial_formula_and_the_summary() -> None:
    # task a: 4 samples, 1 correct; b: 4 samples, 0 correct; c: 2 samples, 2 correct
    recs = [record("a", i, r, 3) for i, r in enumerate([1.0, 0.0, 0.2, 0.0])]
    recs += [record("b", i, 0.0, 5) for i in range(4)]
    recs += [record("c", i, 1.0, 2) for i in range(2)]
    curve = pass_at_k_curve([(4, 1), (4, 0), (2, 2)])
    expect = {1: (0.25 + 0 + 1) / 3, 2: (0.5 + 0 + 1) / 3, 3: (1 - math.comb(3, 3) / math.comb(4, 3)) / 2,
              4: 1.0 / 2}
    assert [k for k, _, _ in curve] == [1, 2, 3, 4]
    assert [n for _, _, n in curve] == [3, 3, 2, 2]
    for k, value, _ in curve:
        assert math.isclose(value, expect[k])
    # the summary's pass@k (at k = 1, 2, 4) is the same estimator over the same tasks
    summary = summarize(recs)
    for k, v in summary["pass_at_k"].items():
        assert math.isclose(v["value"], {kk: vv for kk, vv, _ in curve}[int(k)])
    # the SVG carries one point per k, at the curve's values
    pts = only(points(svg_pass_at_k([(4, 1), (4, 0), (2, 2)])), "pass@k")
    assert [x for x, _ in pts] == [1, 2, 3, 4]
    assert all(math.isclose(y, expect[int(x)], rel_tol=1e-5) for x, y in pts)


def test_reward_over_turns_means_and_share_solved_within_t() -> None:
    means, within = reward_over_turns([(3, 1.0), (3, 0.2), (5, 0.8), (7, 0.0)])
    assert means == [(3, 0.6, 2), (5, 0.8, 1), (7, 0.0, 1)]
    assert within == [(3, 0.25), (4, 0.25), (5, 0.5), (6, 0.5), (7, 0.5)]
    results = {"run": {"suite": "x"}, "summary": summarize([record("a", 0, 1.0, 3)]), "tasks": []}
    page = html_report(results, {"scores": [1.0, 0.2, 0.8, 0.0], "turns": [3, 3, 5, 7],
                                 "turn_scores": [[3, 1.0], [3, 0.2], [5, 0.8], [7, 0.0]],
                                 "passk_counts": [[1, 1]]})
    series = points(page)
    assert [p for p in only(series, "mean score")] == [(3, 0.6), (5, 0.8), (7, 0.0)]
    assert len(only(series, "share of episodes solved")) == 5
    assert "Reward over turns" in page
    # one sample per task: no pass@k curve, and the page says how to get one
    assert not any(k.startswith("pass@k") for k in series) and "--repeats N" in page


def test_eval_report_html_has_both_curves_with_one_point_per_k_and_turn_count(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(["eval", "--suite", "builtin", "--agent", "oracle", "--limit", "2", "--repeats", "3",
                 "--concurrency", "3", "--out", str(out), "--quiet"])
    assert code == 0
    page = (out / "report.html").read_text()
    assert "<script" not in page  # inline SVG, no JS
    series = points(page)
    assert only(series, "pass@k") == [(1, 1.0), (2, 1.0), (3, 1.0)]  # the oracle solves every sample
    recs = read_records(out / "records.jsonl")
    turns = sorted({r.steps for r in recs})
    assert [x for x, _ in only(series, "mean score")] == turns
    assert all(y == 1.0 for _, y in only(series, "mean score"))
    within = only(series, "share of episodes solved")
    assert [x for x, _ in within] == list(range(turns[0], turns[-1] + 1))
    assert within[-1][1] == 1.0  # every episode solved within the longest one's turns
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["pass_at_k"]["2"]["value"] == 1.0


def test_progress_bar_shows_count_elapsed_and_eta() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with progress_bar("reading", 3, console=console) as advance:
        for _ in range(3):
            time.sleep(0.02)
            advance()
    text = buf.getvalue()
    assert "reading" in text and "3/3" in text
    assert re.search(r"eta\s+0:00:00", text)  # the ETA column, resolved once done
    buf2 = io.StringIO()
    with progress_bar("reading", 3, enabled=False, console=Console(file=buf2, force_terminal=True)) as advance:
        advance()
    assert buf2.getvalue() == ""
