"""The viewer's data layer and JSON API on real runs made here with ``clawgym eval`` (real sandboxes,
real records, a real loopback model server), plus ``clawgym view`` as a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from viewer_runs import NOTES, Runs, make_runs

from clawgym_env.episode import ToolCallRecord
from clawgym_env.viewer import VIEWER_URL
from clawgym_env.viewer.data import (
    DIFF_NOTE,
    Run,
    compare_rows,
    compare_summary,
    episode_view,
    file_changes,
    first_divergence,
    turn_signatures,
)
from clawgym_env.viewer.server import ViewerServer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return make_runs(tmp_path_factory.mktemp("viewer-runs"))


def get(url: str) -> tuple[int, str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode()
            ctype = resp.headers["Content-Type"]
            return resp.status, ctype, json.loads(body) if ctype.startswith("application/json") else body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read().decode())


def test_summaries_match_the_records(runs: Runs) -> None:
    a, b = Run(runs.a), Run(runs.b)
    ea = {e["episode_id"]: e for e in a.episodes()}
    assert sorted(ea) == [f"{t}#0" for t in runs.tasks]
    assert {e["category"] for e in ea.values()} == set(runs.categories.values()) and len(runs.categories) == 3
    assert all(e["reward"] == 1.0 and e["scored"] and e["tokens"] is None and e["turns"] > 3 for e in ea.values())
    eb = {e["episode_id"]: e for e in b.episodes()}
    t0, t1, t2 = (eb[f"{t}#0"] for t in runs.tasks)
    assert t0["turns"] == t1["turns"] == 6 and t0["tool_calls"] == 5 and t0["reward"] == 0.0
    assert t0["tokens"] == sum(1020 + 151 * k for k in range(6)) and t1["tokens"] == t0["tokens"] + 6000
    assert t0["prompt_tokens"] == sum(1000 + 150 * k for k in range(6))
    assert "HTTP 400" in t2["infra_error"] and t2["turns"] == 0 and t0["infra_error"] is None
    # a records file opens like its folder; run.json supplies the suite and the agent
    assert Run(runs.b / "records.jsonl").episodes() == b.episodes()
    assert b.info()["agent"] == {"agent": "openai", "model": "stand-in"} and b.info()["suite"] == "builtin"


def test_latest_record_wins_torn_lines_are_skipped_and_a_growing_file_is_rescanned(runs: Runs, tmp_path: Path) -> None:
    lines = (runs.a / "records.jsonl").read_text().splitlines(keepends=True)
    redone = json.loads(lines[0])
    redone["reward"], redone["final_message"] = 0.25, "redone"
    path = tmp_path / "records.jsonl"
    path.write_text("".join(lines) + json.dumps(redone) + "\n" + '{"schema_version": 1, "episode_')
    run = Run(path)
    episodes = {e["episode_id"]: e for e in run.episodes()}
    assert len(episodes) == 3 and episodes[redone["episode_id"]]["reward"] == 0.25
    assert run.record(redone["episode_id"]).final_message == "redone"
    assert run.suite is None and run.initial_files(redone["task_id"])[0] is None  # a bare file names no suite
    extra = dict(redone, episode_id="task-0000#1", repeat=1)
    with open(path, "a") as f:
        f.write("\n" + json.dumps(extra) + "\n")
    assert len(run.episodes()) == 4 and run.record("task-0000#1").repeat == 1
    with pytest.raises(KeyError):
        run.record("task-0000#7")


def test_file_changes_are_followed_through_the_episode(runs: Runs) -> None:
    run = Run(runs.b)
    task = runs.tasks[0]
    record = run.record(f"{task}#0")
    initial, why = run.initial_files(task)
    assert why is None and initial and all(p.startswith("input/") for p in initial)
    view = episode_view(record, initial, why)
    steps = view["steps"]
    assert len(steps) == 6 and steps[1]["content"] == "working on it" and view["diff_note"] == DIFF_NOTE
    assert steps[0]["before"][0]["role"] == "user" and view["system"].startswith("You are")
    assert [c["name"] for s in steps for c in s["tool_calls"]] == ["read", "write", "edit", "exec", "read"]
    assert steps[5]["turn"]["usage"]["prompt_tokens"] == 1750 and steps[5]["content"] == view["final_message"]
    assert steps[0]["changes"] == []  # reading an input changes nothing
    (created,) = steps[1]["changes"]
    assert (created["path"], created["status"]) == (NOTES, "created")
    assert created["diff"].splitlines()[2:] == ["@@ -0,0 +1,2 @@", "+# Notes", "+draft line"]
    (edited,) = steps[2]["changes"]
    assert edited["status"] == "modified" and "-draft line\n+final line\n" in edited["diff"]
    (ran,) = steps[3]["changes"]
    assert ran["status"] == "unknown" and "echo appended by exec" in ran["note"]
    (seen,) = steps[4]["changes"]
    assert seen["status"] == "changed outside write/edit" and seen["diff"].endswith(" final line\n+appended by exec\n")
    assert "exec of turn 4" in seen["note"]
    assert view["verifier"]["reward"] == 0.0 and view["subscores"] and view["timings"]["total"] > 0

    # without the initial workspace the first write cannot tell created from overwritten
    changes = file_changes(record, None)
    assert changes[1][0]["status"] == "overwritten" and changes[2][0]["status"] == "modified"
    # an edit of a file whose content is unknown shows the replaced text only
    only_edit = record.model_copy(update={"tool_calls": [c for c in record.tool_calls if c.name == "edit"]})
    (hunk,) = file_changes(only_edit, None)[2]
    assert hunk["status"] == "edited" and "-draft line\n+final line\n" in hunk["diff"]


def test_an_edit_of_an_input_file_diffs_against_the_task_s_initial_content(runs: Runs) -> None:
    run = Run(runs.a)
    task = runs.tasks[0]
    initial, _ = run.initial_files(task)
    assert initial is not None
    path, text = next((p, t) for p, t in initial.items() if t and t.count("\n") > 4)
    line = next(x for x in text.splitlines() if x.strip() and text.count(x) == 1)
    call = ToolCallRecord(turn=0, id="c0", name="edit", ok=True, result="Successfully replaced text.",
                          arguments=json.dumps({"path": f"/root/.openclaw/workspace/{path}", "old_string": line,
                                                "new_string": "CHANGED"}))
    record = run.record(f"{task}#0").model_copy(update={"tool_calls": [call]})
    (change,) = file_changes(record, initial)[0]
    assert change["path"] == path and change["status"] == "modified"
    assert f"\n-{line}\n+CHANGED\n" in change["diff"] and change["diff"].count("\n ") >= 1  # context lines


def test_first_divergence_and_compare(runs: Runs) -> None:
    assert first_divergence(["x", "y"], ["x", "y"]) is None
    assert first_divergence(["x"], ["x", "y"]) == 1 and first_divergence(["x", "y"], ["x", "z"]) == 1
    a, b = Run(runs.a), Run(runs.b)
    rows = {r["episode_id"]: r for r in compare_rows(a, b)}
    t0, t1, t2 = (rows[f"{t}#0"] for t in runs.tasks)
    # B plays the oracle's first action, then its own: they diverge at the second turn
    assert t0["first_divergence"] == t1["first_divergence"] == 1
    assert t0["delta"] == -1.0 and t0["reward_a"] == 1.0 and t0["reward_b"] == 0.0
    assert t2["infra_b"] and t2["first_divergence"] == 0 and t2["in"] == "both"
    assert compare_summary(list(rows.values())) == {
        "episodes": 3, "in_both": 3, "only_a": 0, "only_b": 0, "better_b": 0, "worse_b": 3, "same": 0,
        "mean_delta": -1.0, "identical": 0}
    same = compare_rows(a, Run(runs.a))
    assert all(r["first_divergence"] is None and r["delta"] == 0 for r in same)
    rec = a.record(f"{runs.tasks[0]}#0")
    assert len(turn_signatures(rec)) == len(rec.turns)


def test_json_api_and_static_page(runs: Runs) -> None:
    with ViewerServer({"a": Run(runs.a), "b": Run(runs.b)}, port=0) as viewer:
        assert viewer.url.startswith("http://127.0.0.1:")
        status, _, info = get(viewer.url + "api/runs")
        assert status == 200 and set(info) == {"a", "b"} and info["a"]["agent"] == {"agent": "oracle"}
        status, _, episodes = get(viewer.url + "api/episodes?run=b")
        assert len(episodes) == 3
        status, _, ep = get(viewer.url + f"api/episode?run=b&id={runs.tasks[0]}%230")
        assert status == 200 and len(ep["steps"]) == 6 and ep["initial_files"]
        status, _, cmp = get(viewer.url + "api/compare")
        assert status == 200 and cmp["summary"]["in_both"] == 3
        status, _, err = get(viewer.url + "api/episode?run=b&id=nope%230")
        assert status == 404 and "nope#0" in err["error"]
        status, ctype, page = get(viewer.url)
        assert status == 200 and ctype.startswith("text/html") and '<script src="app.js">' in page
        status, ctype, js = get(viewer.url + "app.js")
        assert "javascript" in ctype and "function showCompare" in js
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(viewer.url + "../pyproject.toml", timeout=5)
    with ViewerServer({"a": Run(runs.a)}, port=0) as viewer:
        status, _, err = get(viewer.url + "api/compare")
        assert status == 404 and "--compare" in err["error"]


def test_eval_report_links_into_the_viewer(runs: Runs) -> None:
    page = (runs.b / "report.html").read_text()
    assert f"clawgym view {runs.b}" in page
    assert f'href="{VIEWER_URL}#/?task={runs.tasks[0]}"' in page
    assert f'href="{VIEWER_URL}#/episode/a/{runs.tasks[2]}%230"' in page  # the infra error's episode


def test_clawgym_view_command(runs: Runs) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "clawgym_env.cli", "view", str(runs.a), "--compare", str(runs.b),
                             "--port", "0"], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"viewing {runs.a} against {runs.b} at http://127.0.0.1:"), proc.stderr
        url = line.split(" at ")[1].split()[0]
        status, _, compared = get(url + "api/compare")
        assert status == 200 and len(compared["rows"]) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    bad = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "view", str(runs.a / "nothing-here.jsonl")],
                         check=False, cwd=REPO, text=True, capture_output=True, timeout=60)
    assert bad.returncode == 2 and "no trajectory records" in bad.stderr
