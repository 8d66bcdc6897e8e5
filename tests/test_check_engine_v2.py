"""builtin-v2's checker revisions (``synth/check_engine_v2.py``): correct answers written another
harmless way keep their points, wrong ones still lose them. Each test runs the checker as a task
carries it: the engine text with the revision appended, executed as one standalone module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.synth.checks import engine_source, render_check_py


def _engine(version: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "check"}
    exec(compile(engine_source(version), "check.py", "exec"), ns)  # noqa: S102 - the checker a task ships
    return ns


V1, V2 = _engine("builtin-v1"), _engine("builtin-v2")


def _check(engine: dict[str, Any], ws: Path, files: dict[str, str], check: dict[str, Any]) -> bool:
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    return engine["run"]({"checks": [{"name": "c", **check}]}, str(ws))["c"]


TABLE = {"kind": "table_equal", "columns": ["name", "hours"], "rows": [{"name": "ada", "hours": 3}, {"name": "bo", "hours": 1811}],
         "ordered": True, "tol": 0.01, "exact_columns": True}


@pytest.mark.parametrize("fmt, text, v1_passes", [
    ("json", json.dumps([{"hours": 3, "name": "ada"}, {"hours": 1811.0, "name": "bo"}]), False),
    ("csv", "hours,name\n3,ada\n1811.0,bo\n", False),
    ("md", "name | hours\n--- | ---\nada | 3\n**bo** | `1811`\n", False),
    ("md", "| name | hours |\n|:---|---:|\n| ada | 3 |\n| bo | 1,811 |\n", True),
])
def test_tables_written_another_harmless_way_pass_in_v2(tmp_path: Path, fmt: str, text: str, v1_passes: bool) -> None:
    path = f"out/t.{fmt}"
    check = {**TABLE, "path": path, "fmt": fmt}
    assert _check(V2, tmp_path / "v2", {path: text}, check)
    assert _check(V1, tmp_path / "v1", {path: text}, check) is v1_passes  # what the audit measured


@pytest.mark.parametrize("fmt, text", [
    ("json", json.dumps([{"name": "ada", "hours": 3}, {"name": "bo", "hours": 1812}])),
    ("json", json.dumps([{"name": "ada", "hours": 3}, {"name": "bo", "hours": 1811, "extra": 1}])),
    ("csv", "name,name\nada,3\nbo,1811\n"),
    ("md", "name | hours\n--- | ---\nada | 3\n"),
    ("md", "name hours\nada 3\nbo 1811\n"),
])
def test_wrong_tables_still_fail_in_v2(tmp_path: Path, fmt: str, text: str) -> None:
    path = f"out/t.{fmt}"
    assert not _check(V2, tmp_path, {path: text}, {**TABLE, "path": path, "fmt": fmt})


def test_column_order_is_kept_where_the_check_asks_for_it(tmp_path: Path) -> None:
    check = {**TABLE, "path": "t.csv", "fmt": "csv", "column_order": True}
    assert _check(V2, tmp_path, {"t.csv": "name,hours\nada,3\nbo,1811\n"}, check)
    assert not _check(V2, tmp_path, {"t.csv": "hours,name\n3,ada\n1811,bo\n"}, check)


@pytest.mark.parametrize("text, ok", [
    ("- Total hours_open: 1811\n", True),
    ("**Total hours_open:** 1,811.0\n", True),
    ("Total `hours_open` = 1811.00 h\n", True),
    ("total HOURS_OPEN - 1811\n", True),
    ("- Total hours_open: 1812\n", False),
    ("- Total hours_open: 18110\n", False),
    ("- Subtotal hours_open: 1811\n", False),
    ("- Total hours_open was about 1811\n", False),
])
def test_labelled_number(tmp_path: Path, text: str, ok: bool) -> None:
    check = {"kind": "labelled_number", "path": "r.md", "label": "Total hours_open", "value": 1811, "tol": 0.01}
    assert _check(V2, tmp_path, {"r.md": text}, check) is ok


@pytest.mark.parametrize("text, ok", [
    ("# Weekly summary: tickets\n", True),
    ("# **Weekly Summary** — tickets\n", True),
    ("#   weekly SUMMARY\n", True),
    ("## Weekly summary\n", False),  # level 1 asked for
    ("Weekly summary\n", False),
    ("# Summary, weekly\n", False),
])
def test_heading(tmp_path: Path, text: str, ok: bool) -> None:
    check = {"kind": "heading", "path": "r.md", "text": "Weekly summary", "level": 1}
    assert _check(V2, tmp_path, {"r.md": text}, check) is ok


def test_word_range_accepts_either_way_of_counting(tmp_path: Path) -> None:
    text = "Meeting on 2026-04-10 at 09:30 with the whole team. " * 3  # 30 wc -w words, 48 \\w+ runs
    check = {"kind": "word_range", "path": "m.txt", "min": 25, "max": 35}
    assert _check(V2, tmp_path, {"m.txt": text}, check)
    assert not _check(V1, tmp_path, {"m.txt": text}, check)
    assert not _check(V2, tmp_path, {"m.txt": "too short"}, check)


def test_v2_check_py_is_standalone_and_v1_unchanged(tmp_path: Path) -> None:
    """builtin-v2 tasks carry the revisions and run with ``python3 -I``; builtin-v1's check.py has
    the engine alone."""
    v2 = BuiltinSource(version="builtin-v2").load("task-0007")
    assert b"check_engine_v2.py" in v2.reward_files["check.py"]
    assert b"check_engine_v2.py" not in BuiltinSource(version="builtin-v1").load("task-0007").reward_files["check.py"]
    script = tmp_path / "check.py"
    script.write_bytes(v2.reward_files["check.py"])
    out = subprocess.run([sys.executable, "-I", str(script), str(tmp_path)], capture_output=True, text=True, check=True)
    scores = json.loads(out.stdout)
    assert scores and not any(scores.values())  # an empty workspace earns nothing
    assert render_check_py([], "x", "builtin-v2").count("CHECKS.update(") == 1


def test_csv_header_any_quoting_but_same_order(tmp_path: Path) -> None:
    check = {"kind": "csv_header", "path": "o.csv", "columns": ["id", "total"], "fmt": "csv"}
    assert _check(V2, tmp_path, {"o.csv": '"id","total"\r\n1,2\r\n'}, check)
    assert _check(V2, tmp_path, {"o.csv": "\ufeffid,total\n"}, check)
    assert not _check(V2, tmp_path, {"o.csv": "total,id\n2,1\n"}, check)
    assert not _check(V2, tmp_path, {"o.csv": "id,total,x\n"}, check)


@pytest.mark.parametrize("fmt, expected, same, different", [
    ("yaml", "# t\n\napp:\n  name: demo\n  version: 1.1.5  # deprecated\n",
     "app:\n  name: 'demo'\n  version: \"1.1.5\"\n", "app:\n  name: demo\n  version: 1.1.6\n"),
    ("ini", "; t\n\n[app]\nname = demo\nretries = 3  ; deprecated\n",
     "[app]\nname=demo\nretries = \"3\"\n", "[app]\nname = demo\n"),
    ("env", "# t\nAPP_NAME=demo\nAPP_PORT=8080  # deprecated\n",
     "export APP_NAME=\"demo\"\nAPP_PORT = '8080'\n", "APP_NAME=demo\nAPP_PORT=8081\n"),
])
def test_config_equal_reads_settings_not_spelling(tmp_path: Path, fmt: str, expected: str, same: str,
                                                  different: str) -> None:
    check = {"kind": "config_equal", "path": "c", "expected": expected, "fmt": fmt}
    assert _check(V2, tmp_path / "a", {"c": same}, check)
    assert not _check(V2, tmp_path / "b", {"c": different}, check)


def test_exact_heading(tmp_path: Path) -> None:
    check = {"kind": "heading", "path": "r.md", "text": "Open tickets", "level": 2, "exact": True}
    assert _check(V2, tmp_path, {"r.md": "## OPEN **Tickets**\n"}, check)
    assert not _check(V2, tmp_path, {"r.md": "## Open tickets (draft)\n"}, check)


# --- end to end: the operations ported to builtin-v2, through the real env and a bwrap sandbox -------

@pytest.mark.parametrize("task_id, rewrites", [
    ("task-2700", ["md_bold_labels", "md_heading_case", "md_bullets", "thousands_separators"]),  # status_report, action_items
    ("task-2475", ["yaml_quote", "md_heading_case", "json_key_order"]),  # update_config, write_structured
])
def test_ported_operations_keep_full_reward_under_harmless_rewrites(task_id: str, rewrites: list[str]) -> None:
    """The rewrites that cost builtin-v1 points (issue 13's audit; `clawgym validate --equivalence`)
    keep the oracle's 1.0 on builtin-v2 tasks built from the ported operations."""
    from clawgym_env.synth.equivalence import equivalence_check

    report = equivalence_check(BuiltinSource(version="builtin-v2").load(task_id), rewrites=rewrites)
    assert report.errors == [] and report.oracle_reward == 1.0
    pairs = report.pairs()
    assert set(pairs) & set(rewrites), pairs  # the rewrites applied to this task's outputs
    assert all(reward == 1.0 for reward in pairs.values()), report.results


def test_form_checks_count_only_beside_content(tmp_path: Path) -> None:
    """A heading earns nothing in a file whose content is wrong; with the content right it counts."""
    from clawgym_env.synth.checks import gate_form_checks, heading, labelled_number, word_range

    checks = gate_form_checks([heading("title", "r.md", "Weekly summary", level=1),
                               labelled_number("count", "r.md", "Records reviewed", 16, tol=0),
                               word_range("other_file_length", "o.txt", 1, 50)])
    assert checks[0]["needs_any"] == ["count"]
    assert "needs_any" not in checks[1] and "needs_any" not in checks[2]  # content; a file with form checks only
    spec = {"checks": checks}
    (tmp_path / "o.txt").write_text("a few words\n")
    (tmp_path / "r.md").write_text("# Weekly summary\n\nRecords reviewed: 15\n")
    assert V2["run"](spec, str(tmp_path)) == {"title": False, "count": False, "other_file_length": True}
    (tmp_path / "r.md").write_text("# Weekly summary\n\nRecords reviewed: 16\n")
    assert V2["run"](spec, str(tmp_path)) == {"title": True, "count": True, "other_file_length": True}
    assert V1["run"]({"checks": checks}, str(tmp_path))["other_file_length"]  # v1 ignores the key
