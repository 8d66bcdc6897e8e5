"""Development operations (run_script, inspect_code, fix_bug, run_tests, analyze_logs).

Three layers: the real quality gate (bwrap sandbox) on a few chains per operation; the oracle played
on the host against the standalone check engine over many seeds (fast, catches mirror mistakes);
and independent re-derivations of the expected answers (ast for code facts, a separate log parser,
actually running the bug bank's tests).
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from clawgym_env.synth import check_engine
from clawgym_env.synth.checks import engine_source, gate_form_checks
from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.diversity import is_sentence, sentences
from clawgym_env.synth.gate import gate_task
from clawgym_env.synth.ops.base import OpContext, Scenario
from clawgym_env.synth.ops.dev_ops import (
    MODULES,
    AnalyzeLogs,
    FixBug,
    InspectCode,
    RunScript,
    RunTests,
    _break,
    _render_module,
    _render_tests,
)
from clawgym_env.synth.personas import persona

DEV_OPS = ("run_script", "inspect_code", "fix_bug", "run_tests", "analyze_logs")
CHAINS = {
    "run_script": ["run_script", "filter_rank"],
    "inspect_code": ["inspect_code", "aggregate_stats"],
    "fix_bug": ["fix_bug"],
    "run_tests": ["run_tests", "filter_rank"],
    "analyze_logs": ["analyze_logs", "filter_rank"],
}


def _ctx(seed: int, difficulty: int) -> OpContext:
    return OpContext(rng=random.Random(f"dev-test/{seed}"), persona=persona(seed), step=1, upstream=None,
                     scenario=Scenario("Software Development", "debugging and issue fixing", "a lab"),
                     difficulty=difficulty)


def _materialize(files: dict[str, bytes], ws: Path) -> None:
    for rel, data in files.items():
        dest = ws / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def _play_on_host(oracle: list[dict], ws: Path) -> None:
    """Perform write / edit / exec calls the way OpenClaw would, without a sandbox."""
    for call in oracle:
        args = call["arguments"]
        if call["name"] == "write":
            dest = ws / args["path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(args["content"])
        elif call["name"] == "edit":
            dest = ws / args["path"]
            text = dest.read_text()
            assert text.count(args["oldText"]) == 1, "edit oldText must be unique"
            dest.write_text(text.replace(args["oldText"], args["newText"]))
        elif call["name"] == "exec":
            res = subprocess.run(["/bin/sh", "-c", args["command"]], cwd=ws, capture_output=True, text=True, timeout=60, check=False)
            assert res.returncode == 0, res.stderr
        else:
            raise AssertionError(call["name"])


@pytest.mark.parametrize("op", DEV_OPS)
def test_gate_passes(op: str) -> None:
    """The real gate: oracle 1.0, no-op 0, every check discriminative, every mutation costs points."""
    for index in (0, 1, 4):
        s = synthesize(index, force_ops=CHAINS[op])
        report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
        assert report.passed, report.to_dict()


@pytest.mark.parametrize("op", DEV_OPS)
def test_oracle_scores_on_host_over_many_seeds(op: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Oracle played on the host: every check true; an untouched workspace: every check false."""
    # `python3` in commands and checks: this interpreter directly (version-manager shims are slow to start).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    for index in range(6):
        s = synthesize(100 + index, force_ops=[op])
        step = s.steps[0]
        spec = {"checks": step.checks}
        ws = tmp_path / f"ws{index}"
        _materialize(step.input_files, ws)
        assert not any(check_engine.run(spec, ws).values()), f"{op} #{index}: a check passes at no-op"
        _play_on_host(step.oracle, ws)
        results = check_engine.run(spec, ws)
        assert all(results.values()), f"{op} #{index}: {results}"


def test_instruction_names_paths_and_is_deterministic() -> None:
    for op in DEV_OPS:
        a, b = synthesize(3, force_ops=[op]), synthesize(3, force_ops=[op])
        assert a.task.user_query == b.task.user_query and a.task.input_files == b.task.input_files
        step = a.steps[0]
        for out in step.outputs:
            if out.path.startswith("output/"):
                assert out.path in step.instruction, (op, out.path)
        assert step.artifact is not None
        for path in step.input_files:
            assert path.startswith(("input/", "project/")), path
            assert "$" not in step.input_files[path].decode(), "OpenClaw's exec preflight refuses scripts with $VARS"


def test_bug_bank_fails_when_broken_and_passes_when_fixed(tmp_path: Path) -> None:
    """Each module's bug really breaks exactly the tests marked as catching it."""
    for m in MODULES:
        cases = m.cases(random.Random(m.name))
        for broken in (False, True):
            ws = tmp_path / f"{m.name}-{broken}"
            (ws / "tests").mkdir(parents=True)
            text = _render_module(m).text
            (ws / f"{m.name}.py").write_text(_break(text, m) if broken else text)
            (ws / "tests" / "__init__.py").write_text("")
            (ws / "tests" / f"test_{m.name}.py").write_text(_render_tests(m, cases))
            res = subprocess.run([sys.executable, "-m", "unittest", "-v"], cwd=ws, capture_output=True, text=True, check=False)
            failed = set(re.findall(r"^(test_\w+) \(.*\) \.\.\. FAIL$", res.stderr, re.MULTILINE))
            assert not re.search(r"\.\.\. ERROR$", res.stderr, re.MULTILINE), res.stderr
            expected = {c.name for c in cases if c.catches_bug} if broken else set()
            assert failed == expected, (m.name, broken, res.stderr)
            assert any(c.catches_bug for c in cases) and not all(c.catches_bug for c in cases)


def test_inspect_code_matches_ast() -> None:
    """Function spans, parameter counts, TODOs and constants re-derived from the source itself."""
    for seed in range(20):
        step = InspectCode().build(_ctx(seed, 1 + seed % 5))
        files = {p: d.decode() for p, d in step.input_files.items()}
        rows, todos = [], []
        for path, text in sorted(files.items()):
            for node in ast.parse(text).body:
                if isinstance(node, ast.FunctionDef):
                    rows.append({"module": path, "function": node.name, "line": node.lineno,
                                 "params": len(node.args.args), "lines": node.end_lineno - node.lineno + 1})
            for no, line in enumerate(text.splitlines(), 1):
                m = re.search(r"#\s*(TODO|FIXME):\s*(.*)", line)
                if m:
                    todos.append({"file": path, "line": no, "tag": m.group(1), "text": m.group(2).strip()})
        table = next(c for c in step.checks if c["name"].endswith("functions_table"))
        assert table["rows"] == rows
        notes = json.loads(step.oracle[1]["arguments"]["content"])
        assert notes["todos"] == todos
        config = next(t for p, t in files.items() if p.endswith("config.py"))
        scope: dict = {}
        exec(compile(config, "config.py", "exec"), scope)  # noqa: S102 - the package's own config, generated above
        for name, value in notes["constants"].items():
            assert scope[name] == value, name


def _parse_log(text: str) -> tuple[list[dict], dict]:
    """An independent reader for both log styles."""
    entries, last_tb = [], {}
    plain = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\w+)\s+\[(\w+)\] (.*)$")
    logfmt = re.compile(r'^ts=(\S+) level=(\w+) component=(\w+) msg="(.*)"$')
    frame = None
    for line in text.splitlines():
        m = plain.match(line) or logfmt.match(line)
        if m:
            level = {"warn": "WARNING"}.get(m.group(2), m.group(2).upper())
            entries.append({"ts": m.group(1), "level": level, "comp": m.group(3), "msg": m.group(4)})
            continue
        f = re.match(r'^  File "(.+)", line (\d+), in (\w+)$', line)
        if f:
            frame = {"file": f.group(1), "line": int(f.group(2)), "function": f.group(3)}
        elif re.match(r"^\w+(Error|Exception)\b", line) and frame:
            last_tb = {"exception": line.split(":")[0], **frame}
    return entries, last_tb


def test_analyze_logs_matches_independent_parse() -> None:
    for seed in range(20):
        step = AnalyzeLogs().build(_ctx(seed, 1 + seed % 5))
        (text,) = [d.decode() for d in step.input_files.values()]
        entries, last_tb = _parse_log(text)
        doc = json.loads(step.oracle[1]["arguments"]["content"])
        errors = [e for e in entries if e["level"] == "ERROR"]
        types: dict[str, int] = {}
        for e in errors:
            types[e["msg"].split(":")[0]] = types.get(e["msg"].split(":")[0], 0) + 1
        assert doc["entries"] == len(entries)
        assert doc["error_types"] == types
        assert (doc["first_error"], doc["last_error"]) == (errors[0]["ts"], errors[-1]["ts"])
        assert doc["last_traceback"] == last_tb
        table = next(c for c in step.checks if c["name"].endswith("component_table"))
        for row in table["rows"]:
            mine = [e for e in entries if e["comp"] == row["component"]]
            assert row["entries"] == len(mine)
            assert row["warnings"] == sum(e["level"] == "WARNING" for e in mine)
            assert row["errors"] == sum(e["level"] == "ERROR" for e in mine)
            assert (row["first_seen"], row["last_seen"]) == (mine[0]["ts"], mine[-1]["ts"])
        assert sorted({e["comp"] for e in entries}) == [r["component"] for r in table["rows"]]


def _v2_engine() -> dict:
    ns: dict = {"__name__": "check_v2"}
    exec(compile(engine_source("builtin-v2"), "check.py", "exec"), ns)  # noqa: S102 - the checker a v2 task ships
    return ns


def test_v2_fix_bug_credits_the_fix_not_what_costs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """builtin-v2: untouched tests, a copied source file or an echoed instruction earn nothing; rewriting the
    tests until they pass is not a fix; the oracle earns everything."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    run = _v2_engine()["run"]
    for index in range(4):
        step = synthesize(200 + index, version="builtin-v2", force_ops=["fix_bug"]).steps[0]
        spec = {"checks": gate_form_checks(step.checks)}
        note = next(o.path for o in step.outputs if o.path.startswith("output/"))
        module = next(o.path for o in step.outputs if o.path.startswith("project/"))
        cheap = {"copy": step.input_files[module].decode(), "echo": step.instruction}
        for name, text in cheap.items():
            ws = tmp_path / f"{name}{index}"
            _materialize(step.input_files, ws)
            (ws / note).parent.mkdir(parents=True, exist_ok=True)
            (ws / note).write_text(text)
            assert not any(run(spec, ws).values()), (name, run(spec, ws))
        ws = tmp_path / f"oracle{index}"
        _materialize(step.input_files, ws)
        _play_on_host(step.oracle, ws)
        assert all(run(spec, ws).values()), run(spec, ws)
        for test_file in (p for p in step.input_files if "/tests/test_" in p):  # a suite made to pass, not a fix
            (ws / test_file).write_text("import unittest\n\n\nclass T(unittest.TestCase):\n"
                                        "    def test_ok(self):\n        pass\n")
        (ws / module).write_bytes(step.input_files[module])
        results = run(spec, ws)
        assert not results["step1_tests_pass"] and not results["step1_tests_unchanged"], results


V2_OPS = {"run_script": RunScript, "inspect_code": InspectCode, "fix_bug": FixBug, "run_tests": RunTests,
          "analyze_logs": AnalyzeLogs}


@pytest.mark.parametrize("op", DEV_OPS)
def test_v2_wording_varies_without_moving_the_data(op: str) -> None:
    """builtin-v2 words each instruction from a grammar: most sentences are worded once in 40 tasks, every
    output path is still named, and another wording leaves the files and checks as they were."""
    seen: list[str] = []
    for seed in range(40):
        steps = [V2_OPS[op]().build(OpContext(
            rng=random.Random(f"dev-v2/{seed}"), persona=persona(seed), step=1, upstream=None,
            scenario=Scenario("Software Development", "debugging and issue fixing", "an open-source project"),
            difficulty=1 + seed % 5,
            version="builtin-v2", phrase_rng=random.Random(f"wording/{seed}/{k}"))) for k in (0, 1)]
        a, b = steps
        assert a.input_files == b.input_files and a.checks == b.checks and a.oracle == b.oracle
        assert a.instruction != b.instruction
        for out in a.outputs:
            if out.path.startswith("output/"):
                assert f"`{out.path}`" in a.instruction, (op, out.path, a.instruction)
        assert "[" not in a.instruction.replace("[<component>]", "") and "|" not in a.instruction, a.instruction
        assert not re.search(r"\. [a-z]| [,.;:]", re.sub(r"`[^`]*`", "X", a.instruction)), a.instruction
        seen += [x for x in sentences(a.instruction) if is_sentence(x)]
    counts = {x: seen.count(x) for x in seen}
    assert sum(c == 1 for c in counts.values()) >= 0.75 * len(seen), sorted(counts.items(), key=lambda kv: -kv[1])[:3]
