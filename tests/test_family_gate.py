"""The family gate: one fixed recipe-following script on each step of built-in tasks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TRAIN

from clawgym_env.cli import main
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.synth.family_gate import FamilyReport, StepResult, family_check, recipe_source, summarize


def test_recipe_script_follows_a_literal_recipe(tmp_path: Path) -> None:
    """Projection, a filter, a sort and 'top N' spelled in backticks are all it needs."""
    (tmp_path / "input").mkdir()
    (tmp_path / "input/t.csv").write_text("id,team,score\na,red,3\nb,blue,9\nc,red,7\nd,red,5\n")
    (tmp_path / "step.txt").write_text("From `input/t.csv`, keep the rows whose `team` is `red`, sort them by `score` "
                                       "from highest to lowest and save the top 2 to `out/top.csv` with the columns "
                                       "`id` and `score`.")
    (tmp_path / "r.py").write_text(recipe_source())
    subprocess.run([sys.executable, "r.py", "step.txt"], cwd=tmp_path, check=True)
    assert (tmp_path / "out/top.csv").read_text() == "id,score\nc,7\nd,5\n"


def test_family_gate_on_a_recipe_task_of_builtin_v1() -> None:
    """builtin-v1's task 1 opens with a literal projection (read_extract): the script solves that
    step, and not the join that follows it (it needs a case-insensitive lookup)."""
    report = family_check(BuiltinSource(version="builtin-v1"), "task-0001")
    assert not report.errors
    by_op = {s.op: s for s in report.steps}
    assert by_op["read_extract"].solved and by_op["read_extract"].family == "file_content"
    assert not by_op["join_enrich"].solved and by_op["join_enrich"].checks == 4


def test_family_gate_solves_builtin_v1_archives_as_the_audit_did() -> None:
    """builtin-v1's archive step dictates the README lines, the member names and the manifest, so
    the script that only reads the instruction passes all four of its checks."""
    [_, archive] = family_check(BuiltinSource(version="builtin-v1"), "task-0002").steps
    assert archive.op == "archive_files" and archive.solved and archive.checks == 4


def test_summary_holds_each_family_to_five_percent() -> None:
    steps = [StepResult(1, "read_extract", "file_content", 1, 1)] + \
        [StepResult(1, "join_enrich", "data_analysis", 4, p) for p in (0, 1, 2, 3)] * 6
    s = summarize([FamilyReport("t", steps=steps)])
    assert s["families"]["file_content"]["solved_share"] == 1.0 and not s["families"]["file_content"]["gate_passed"]
    assert s["families"]["data_analysis"]["gate_passed"] and s["families"]["data_analysis"]["checks_passed_mean"] == 0.375
    assert not s["gate_passed"]


def test_validate_family_refuses_task_folders() -> None:
    with pytest.raises(SystemExit, match="built-in suites only"):
        main(["validate", str(TRAIN / "task_0001"), "--family", "--quiet"])
