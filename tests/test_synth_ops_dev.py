"""Development operations (run_script, inspect_code, fix_bug, run_tests, analyze_logs).

Three layers: the real quality gate (bwrap sandbox) on a few chains per operation; the oracle played
on the host against the standalone check engine over many seeds (fast, catches mirror mistakes);
and independent re-derivations of the expected answers (ast for code facts, a separate log parser,
actually running the bug bank's tests).
"""

from __future__ import annotations

import ast
import configparser
import csv
import io
import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from _checks import gated_hard_tasks

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


# ---------------------------------------------------------------- analyze_logs, builtin-v2 difficulty >= 4

# Which setting each incident exception points at, written down here apart from the generator.
_POINTS_AT = {"PoolExhaustedError": "database.pool_size", "ConnectionRefusedError": "cache.port",
              "ReadTimeout": "payments.timeout_ms", "FileNotFoundError": "storage.export_dir",
              "SMTPConnectError": "smtp.port", "WorkerMemoryError": "worker.max_memory_mb",
              "TokenExpiredError": "auth.token_ttl_seconds"}


def _incident_step(seed: int, difficulty: int):
    return AnalyzeLogs().build(OpContext(
        rng=random.Random(f"incident/{seed}"), persona=persona(seed), step=1, upstream=None,
        scenario=Scenario("Software Development", "incident response and reliability", "a lab"),
        difficulty=difficulty, version="builtin-v2", phrase_rng=random.Random(f"incident-wording/{seed}")))


def _utc(text: object) -> datetime:
    """A deploy time in any of the history's notations, as naive UTC."""
    if isinstance(text, int):
        return datetime.fromtimestamp(text, UTC).replace(tzinfo=None)
    for pattern in ("%Y-%m-%d %H:%M:%S UTC", "%d %b %Y, %H:%M:%S UTC"):
        try:
            return datetime.strptime(str(text), pattern)
        except ValueError:
            pass
    return datetime.fromisoformat(str(text)).astimezone(UTC).replace(tzinfo=None)


def _deploys(path: str, text: str) -> list[dict]:
    """Each deploy: id, UTC time, {setting: (old, new)} with quotes dropped, in time order."""
    out = []
    if path.endswith(".json"):
        for d in json.loads(text):
            out.append({"id": d["id"], "at": _utc(d["deployed_at"]),
                        "changes": {c["setting"]: (str(c["from"]), str(c["to"])) for c in d["changes"]}})
    else:
        for block in text.split("\n## ")[1:]:
            head = block.splitlines()[0]
            ident, when = head.split(" · ")
            changes = {m.group(1): (m.group(2).strip('"'), m.group(3).strip('"'))
                       for m in re.finditer(r"^- `(\S+)`: (.+) → (.+)$", block, re.MULTILINE)}
            out.append({"id": ident, "at": _utc(when), "changes": changes})
    return sorted(out, key=lambda d: d["at"])


def _settings(text: str, fmt: str) -> dict[str, str]:
    """A config file's settings by the name the report uses (``section.key`` or the variable)."""
    if fmt == "ini":
        parser = configparser.ConfigParser()
        parser.read_string(text)
        return {f"{s}.{k}": v for s in parser.sections() for k, v in parser[s].items()}
    if fmt == "yaml":
        return {f"{s}.{k}": str(v).lower() if isinstance(v, bool) else str(v)
                for s, items in yaml.safe_load(text).items() for k, v in items.items()}
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _diagnose(step) -> dict:
    """An independent incident diagnosis from the step's files and the rules its instruction states."""
    files = {p: d.decode() for p, d in step.input_files.items()}
    n_min = int(re.search(r"at least (\d+)", step.instruction).group(1))
    per_minute: dict[str, list[str]] = {}
    for line in next(t for p, t in files.items() if p.endswith(".log")).splitlines():
        m = re.match(r"^(?:ts=)?(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d):\d\d\S* (?:ERROR|level=error) .*?(?:\] |msg=\")(\w+):", line)
        if m:
            per_minute.setdefault(f"{m.group(1)} {m.group(2)}", []).append(m.group(3))
    minutes = sorted(per_minute)
    start = next(k for k in minutes if len(per_minute[k]) >= n_min)
    after = [e for k in minutes if k >= start for e in per_minute[k]]
    exception = max(set(after), key=after.count)
    config_path = next(p for p in files if p.startswith("input/config/"))
    fmt = config_path.rsplit(".", 1)[1]
    setting = _POINTS_AT[exception]
    if fmt == "env":
        setting = setting.replace(".", "_").upper()
    history = next(p for p in files if p.startswith("input/deploys/"))
    start_at = datetime.strptime(start, "%Y-%m-%d %H:%M")
    before = [d for d in _deploys(history, files[history]) if d["at"] < start_at]
    cause = [d for d in before if setting in d["changes"]][-1]
    old, new = cause["changes"][setting]
    live = _settings(files[config_path], fmt)
    out = {"started_at": start, "exception": exception, "deploy": cause["id"], "setting": setting, "old_value": old,
           "new_value": new, "config": {**live, setting: old}, "last_before": before[-1]["id"],
           "first_culprit_minute": next(k for k in minutes if exception in per_minute[k]),
           "max_below": max(len(per_minute[k]) for k in minutes if k < start), "n_min": n_min, "fmt": fmt}
    metrics = [p for p in files if p.startswith("input/metrics/")]
    if metrics:
        rows = list(csv.DictReader(io.StringIO(files[metrics[0]])))
        epoch = int(start_at.replace(tzinfo=UTC).timestamp())
        out["peak_p95_ms"] = max(int(r["p95_ms"]) for r in rows if int(r["ts"]) >= epoch)
        out["peak_overall"] = max(int(r["p95_ms"]) for r in rows)
    return out


def test_v2_incident_matches_independent_diagnosis() -> None:
    """builtin-v2 at difficulty >= 4: the report and the repaired config agree with a diagnosis made from the
    files alone, and every distractor is there (a harmless deploy last before the start, a burst just below the
    threshold, a first error before the start minute, a higher p95 before the incident)."""
    for seed in range(24):
        step = _incident_step(seed, 4 + seed % 2)
        got = _diagnose(step)
        report = json.loads(next(c for c in step.oracle if c["name"] == "write"
                                 and c["arguments"]["path"].endswith("_incident.json"))["arguments"]["content"])
        for key in ("started_at", "exception", "deploy", "setting", "peak_p95_ms"):
            assert report.get(key) == got.get(key), (seed, key, report, got)
        assert (str(report["old_value"]), str(report["new_value"])) == (got["old_value"], got["new_value"])
        repaired = next(c["arguments"]["content"] for c in step.oracle if c["name"] == "write"
                        and c["arguments"]["path"].startswith("output/") and not c["arguments"]["path"].endswith(".json"))
        assert _settings(repaired, got["fmt"]) == got["config"], seed
        assert got["last_before"] != got["deploy"] and got["max_below"] == got["n_min"] - 1
        assert got["first_culprit_minute"] < got["started_at"]
        if "peak_p95_ms" in got:
            assert got["peak_overall"] > got["peak_p95_ms"]


def test_v2_incident_checks_credit_the_diagnosis_not_its_distractors(tmp_path: Path) -> None:
    """Copying the live config, echoing the instruction or an empty report earn nothing; a report built on a
    distractor (the deploy right before the start, the first error's minute, the value before an older change of
    the same setting, the highest p95 overall) loses exactly that check; the oracle earns everything."""
    run = _v2_engine()["run"]
    for seed in range(6):
        step = _incident_step(seed, 4 + seed % 2)
        spec = {"checks": gate_form_checks(step.checks)}
        json_path, conf_path = (o.path for o in step.outputs)
        live = next(d for p, d in step.input_files.items() if p.startswith("input/config/"))
        for name, (report, conf) in {"copy": (live, live), "echo": (step.instruction.encode(),) * 2,
                                     "empty": (b"{}", b"")}.items():
            ws = tmp_path / f"{name}{seed}"
            _materialize({**step.input_files, json_path: report, conf_path: conf}, ws)
            assert not any(run(spec, ws).values()), (name, run(spec, ws))
        ws = tmp_path / f"oracle{seed}"
        _materialize(step.input_files, ws)
        _play_on_host(step.oracle, ws)
        assert all(run(spec, ws).values()), run(spec, ws)
        got = _diagnose(step)
        good = json.loads((ws / json_path).read_text())
        wrong = {"deploy": got["last_before"], "started_at": got["first_culprit_minute"]}
        if "peak_p95_ms" in good:
            wrong["peak_p95_ms"] = got["peak_overall"]
        for key, value in wrong.items():
            (ws / json_path).write_text(json.dumps({**good, key: value}))
            results = run(spec, ws)
            failed = {k for k, ok in results.items() if not ok}
            assert failed == {next(c["name"] for c in step.checks if c.get("key_path") == [key])}, (key, failed)
        (ws / json_path).write_text(json.dumps(good))
        (ws / conf_path).write_bytes(live)
        assert run(spec, ws) == {**{c["name"]: True for c in step.checks}, "step1_config_repaired": False}


def test_v2_incident_passes_the_gate() -> None:
    """The real gate on builtin-v2 tasks whose first step is the incident variant, chained to what reads it."""
    for s in gated_hard_tasks(["analyze_logs", "draft_message"], scan=60):
        assert s.steps[0].outputs[0].path.endswith("_incident.json")


def test_builtin_v1_and_easier_v2_analyze_logs_unchanged() -> None:
    """The variant is builtin-v2's at difficulty >= 4 only: builtin-v1 at every difficulty, and builtin-v2 below
    4, still build the component table and error summary from the same data."""
    for seed in range(10):
        for difficulty in range(1, 6):
            v1 = AnalyzeLogs().build(_ctx(seed, difficulty))
            assert [c["name"] for c in v1.checks][:3] == ["step1_component_counts", "step1_component_times",
                                                          "step1_component_table"]
            ctx2 = _ctx(seed, difficulty)
            ctx2.version, ctx2.phrase_rng = "builtin-v2", random.Random(seed)
            v2 = AnalyzeLogs().build(ctx2)
            assert (v2.checks == v1.checks) == (difficulty < 4)
            assert (v2.input_files == v1.input_files) == (difficulty < 4)
