"""persona2task stages 7-11 against a scripted model on loopback (real HTTP) and real bwrap
sandboxes: every verifier filter fires on its case, a repair round recovers a fixable verifier from
the diagnostics it is sent, the rubric schema rejects bad rubrics and keeps a skip, and a killed run
resumes without asking again for finished ids."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from chat_server import ScriptedModelServer, text_reply
from synth_cli import kill_midway, synth_cli

from clawgym_env.synth.llm.client import ModelSpec
from clawgym_env.synth.llm.persona2task import Persona2TaskConfig, run_persona2task
from clawgym_env.synth.llm.prompts import GENERATOR_SYSTEM, JUDGE_SYSTEM, RUBRIC_SYSTEM, VERIFIER_SYSTEM
from clawgym_env.synth.llm.rubric import check_rules
from clawgym_env.synth.llm.scaffold import scaffold_files
from clawgym_env.synth.llm.stages import read_records
from clawgym_env.synth.llm.verifier import extract_code, static_check, validate_verifier

REPO = Path(__file__).resolve().parents[1]
VER_USAGE = {"prompt_tokens": 300, "completion_tokens": 100, "total_tokens": 400}
ROLE = re.compile(r"\[role:(\w+)\]")

GOOD = '''import csv
import json
import os
import sys


def grade(transcript: list, workspace_path: str) -> dict:
    scores = {"total_matches_input": 0.0, "notes_mention_total": 0.0}
    try:
        with open(os.path.join(workspace_path, "input/data.csv"), newline="") as fh:
            want = sum(float(row["b"]) for row in csv.DictReader(fh))
    except Exception:
        return scores
    try:
        with open(os.path.join(workspace_path, "output/total.json")) as fh:
            got = json.load(fh)
        if abs(float(got["total"]) - want) < 1e-6:
            scores["total_matches_input"] = 1.0
    except Exception:
        pass
    try:
        with open(os.path.join(workspace_path, "output/notes.md")) as fh:
            if f"{want:g}" in fh.read():
                scores["notes_mention_total"] = 1.0
    except Exception:
        pass
    return scores


if __name__ == "__main__":
    print(json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else ".")))
'''
CRASH = GOOD.replace('    scores = {"total_matches_input"', '    raise RuntimeError("grader exploded")\n    scores = {"total_matches_input"')
BROKEN = {
    "good": GOOD,
    "crash": CRASH,
    "syntax": GOOD.replace("def grade(transcript: list, workspace_path: str) -> dict:", "def grade(transcript, workspace_path) -> dict"),
    "requests": GOOD.replace("import csv\n", "import csv\nimport requests\n"),
    "scaffold": GOOD.replace('scores["total_matches_input"] = 1.0', 'pass')
                    .replace('    try:\n        with open(os.path.join(workspace_path, "output/notes.md")) as fh:',
                             '    if os.path.exists(os.path.join(workspace_path, "output/notes.md")):\n'
                             '        scores["notes_mention_total"] = 1.0\n    try:\n'
                             '        with open(os.path.join(workspace_path, "output/notes.md")) as fh:'),
    "keys": GOOD.replace('print(json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else ".")))',
                         'print(json.dumps({"total_ok": 0.0, "notes_ok": 0.0}))'),
    "bools": GOOD.replace('{"total_matches_input": 0.0, "notes_mention_total": 0.0}',
                          '{"total_matches_input": False, "notes_mention_total": False}'),
}
RUBRIC_ROLES = ("rubric_bad_bands", "rubric_wrong_keys", "rubric_skip")
ROLES = [*BROKEN, "repair", *RUBRIC_ROLES]


def _task(role: str) -> dict[str, Any]:
    return {"question": f"[role:{role}] Add up column b of `input/data.csv`, write the total to `output/total.json` "
                        'as {"total": n} and a one-paragraph explanation that states it to `output/notes.md`.',
            "task_type": "calculation", "scenario": "A clerk checks a ledger.",
            "expected_behavior": ["read input/data.csv", "write output/total.json", "write output/notes.md"],
            "required_operations": ["compute_stats"], "has_input_files": True,
            "input_files": [{"file_path": "input/data.csv", "file_format": "csv", "content": "a,b\nx,2\ny,5\n"}],
            "difficulty": {"score": 2, "reason": "one sum"}}


def _bands(prefix: str) -> dict[str, str]:
    return {b: f"{prefix}: level {b}" for b in ("0", "0.25", "0.5", "0.75", "1")}


def _rubric(role: str) -> dict[str, Any]:
    rules = [{"name": "clear_explanation", "file_path": "output/notes.md", "scores": _bands("clarity")},
             {"name": "plain_language", "file_path": "output/notes.md", "scores": _bands("plainness")}]
    if role == "rubric_skip":
        return {"skip_rubric": True, "reason": "the code checks everything that matters"}
    if role == "rubric_bad_bands":
        rules[1]["scores"] = {**_bands("plainness"), "0.75": "plainness: level 1"}
    if role == "rubric_wrong_keys":
        rules[0]["scores"] = {"0": "bad", "1": "ok", "2": "good", "3": "great", "4": "superb"}
    return {"rules": rules}


class Model:
    """The scripted model for every stage, answering by the system prompt and the task's role tag."""

    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.verifier_asks: list[tuple[str, str]] = []
        """(role, user text) of each verifier request (stage 7 prompt or a repair), in arrival order."""

    def __call__(self, body: Any) -> dict[str, Any]:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if system == GENERATOR_SYSTEM:
            role = re.search(r"Person: persona-(\w+)\n", user).group(1)  # type: ignore[union-attr]
            return text_reply(json.dumps(_task(role)))
        if system == JUDGE_SYSTEM:
            return text_reply(json.dumps({"has_factual_error": 0, "factual_error_reason": "",
                                          "has_answer_leak": 0, "answer_leak_reason": ""}))
        role = ROLE.search(user).group(1)  # type: ignore[union-attr]
        if system == VERIFIER_SYSTEM:
            self.verifier_asks.append((role, user))
            repair = "failed our checks" in user
            code = BROKEN.get(role, GOOD) if role != "repair" else (GOOD if repair else CRASH)
            return {**text_reply(f"Here is the grader.\n```python\n{code}```\n", usage=VER_USAGE), "delay_s": self.delay_s}
        assert system == RUBRIC_SYSTEM, system
        return text_reply("```json\n" + json.dumps(_rubric(role)) + "\n```")


def _personas(tmp_path: Path, roles: list[str]) -> Path:
    path = tmp_path / "personas.jsonl"
    path.write_text("".join(json.dumps({"persona": f"persona-{r}"}) + "\n" for r in roles))
    return path


def _by_role(records: dict[str, dict[str, Any]], roles: list[str]) -> dict[str, dict[str, Any]]:
    return {roles[int(i[1:])]: rec for i, rec in records.items()}


def test_static_checks_and_extraction() -> None:
    assert extract_code("Sure:\n```python\nx = 1\n```\n```py\ndef grade(t, w):\n    return {}\n```") == \
        "def grade(t, w):\n    return {}\n"
    assert extract_code("```python\ndef grade(t, w):\n    return {\n") == "def grade(t, w):\n    return {\n"
    assert extract_code("I cannot help with that.") is None
    assert static_check(GOOD) is None
    assert static_check("from urllib import request\ndef grade(t, w): return {}")[0] == "network_import"
    assert static_check("import importlib\nimportlib.import_module('socket')\ndef grade(t, w): return {}")[0] == \
        "network_import"
    assert static_check("import numpy as np\ndef grade(t, w): return {}")[0] == "non_stdlib_import"
    assert static_check("import json\n")[0] == "no_grade"


def test_validate_verifier_runs_in_the_sandbox() -> None:
    task = _task("good")
    assert set(scaffold_files(task)) == {"input/data.csv", "output/total.json", "output/notes.md"}
    ok = validate_verifier(GOOD, task)
    assert ok.ok and ok.reason is None and ok.scores == {"empty": 0.0, "scaffold": 0.0}
    cases = {
        "empty_scored": GOOD.replace('scores = {"total_matches_input": 0.0,', 'scores = {"total_matches_input": 1.0,'),
        "bad_result": GOOD.replace('print(json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else ".")))',
                                   'print("scores:", json.dumps(grade([], sys.argv[1] if len(sys.argv) > 1 else ".")))'),
        "timeout": GOOD.replace('    scores = {"total_matches_input"', '    import time\n    time.sleep(30)\n'
                                                                       '    scores = {"total_matches_input"'),
        "no_code": "",
    }
    for kind, code in cases.items():
        v = validate_verifier(code, task, timeout_s=2)
        assert not v.ok and v.reason.split(":")[0] == kind, (kind, v.reason)
    empty = validate_verifier(GOOD.replace("return scores", "return {}"), task)
    assert empty.reason.startswith("bad_result: grade([], workspace) on the empty workspace returned an empty dict")
    negative = validate_verifier(GOOD.replace('"notes_mention_total": 0.0}', '"notes_mention_total": -1.0}'), task)
    assert negative.reason == ("bad_result: grade([], workspace) on the empty workspace gave values outside [0, 1]: "
                               "notes_mention_total=-1.0")


def test_stages_7_to_11(tmp_path: Path) -> None:
    personas = _personas(tmp_path, ROLES)
    model = Model()
    out = tmp_path / "run"
    with ScriptedModelServer(responder=model) as server:
        cfg = Persona2TaskConfig(generator=ModelSpec(server.base_url, "gen-m"), n=len(ROLES),
                                 personas_file=str(personas), concurrency=4, dedup="off", progress=False, jobs=2,
                                 last_stage=11)
        results = run_persona2task(out, cfg)
        funnel = {r.name: (r.n_in, r.n_out, r.rejects) for r in results}
        n, n_bad = len(ROLES), 6
        assert funnel["6 judge filter"] == (n, n, {})
        assert funnel["7 verifier prompts"] == (n, n, {})
        assert funnel["8 verifier + repair"] == (n, n - n_bad, {
            "bad_result": 1, "key_mismatch": 1, "non_stdlib_import": 1, "scaffold_scored": 1, "syntax_error": 1,
            "verifier_crash": 1})
        assert funnel["9 rubric prompts"] == (n - n_bad, n - n_bad, {})
        assert funnel["10 rubric generation"] == (n - n_bad, n - n_bad, {})
        assert funnel["11 rubric filter"] == (n - n_bad, n - n_bad - 2, {"bad_rubric": 2})

        verified = _by_role(read_records(out / "08_validation_code_results.jsonl"), ROLES)
        assert "booleans" in verified["bools"]["reason"] and "total_matches_input" in verified["bools"]["reason"]
        assert "only in the CLI: ['notes_ok', 'total_ok']" in verified["keys"]["reason"]
        assert "notes_mention_total=1" in verified["scaffold"]["reason"]
        assert "requests" in verified["requests"]["reason"]
        assert "RuntimeError: grader exploded" in verified["crash"]["reason"]
        for role in ("crash", "syntax", "requests", "scaffold", "keys", "bools"):  # every round failed
            rec = verified[role]
            assert len(rec["rounds"]) == 3 and rec["attempts"] == 3 and not rec["ok"]
            assert rec["usage"] == {k: 3 * v for k, v in VER_USAGE.items()}
            assert rec["check_py"] == BROKEN[role]
        assert verified["good"]["ok"] and len(verified["good"]["rounds"]) == 1
        assert verified["good"]["scores"] == {"empty": 0.0, "scaffold": 0.0}

        # the repair round recovered: round 1 crashed, round 2 got the diagnostics and passed
        repair = verified["repair"]
        assert repair["ok"] and [r["reason"] is None for r in repair["rounds"]] == [False, True]
        assert repair["rounds"][0]["reason"].startswith("verifier_crash")
        asks = [user for role, user in model.verifier_asks if role == "repair"]
        assert len(asks) == 2 and "failed our checks" not in asks[0]
        assert "RuntimeError: grader exploded" in asks[1] and "[verifier_crash]" in asks[1]
        assert CRASH.strip() in asks[1] and repair["check_py"] == GOOD
        # a repair prompt for the syntax error carries the compiler's message
        syntax_asks = [user for role, user in model.verifier_asks if role == "syntax"]
        assert len(syntax_asks) == 3 and "[syntax_error]" in syntax_asks[1] and "line 7" in syntax_asks[1]

        # stage 10 samples at the rubric temperature, the verifier at the generator's
        temps = {r.body["messages"][0]["content"]: r.body.get("temperature") for r in server.chat_requests}
        assert temps[RUBRIC_SYSTEM] == 0.2 and temps[VERIFIER_SYSTEM] == 0.7

        final = _by_role(read_records(out / "11_rubric_filter.jsonl"), ROLES)
        assert final["rubric_bad_bands"]["reason"] == "bad_rubric: rule 'plain_language': band texts are not distinct"
        assert final["rubric_wrong_keys"]["reason"].startswith("bad_rubric: rule 'clear_explanation': score keys")
        skip = final["rubric_skip"]
        assert skip["ok"] and skip["rules"] is None and skip["metadata"]["llm_rubric_skip"]
        good = final["good"]
        assert set(good) == {"id", "ok", "reason", "route", "category", "subcategory", "task", "check_py",
                             "check_style", "rules", "metadata"}
        assert good["route"] == "persona2task" and good["check_style"] == "grade" and good["check_py"] == GOOD
        assert [r["name"] for r in good["rules"]] == ["clear_explanation", "plain_language"]
        assert good["task"] == _task("good")
        assert set(good["metadata"]) >= {"persona", "persona_index", "operations", "verdict"}
        assert good["metadata"]["persona"] == "persona-good" and good["metadata"]["persona_index"] == 0

        report = json.loads((out / "report.json").read_text())
        assert [s["file"] for s in report["stages"]][6:] == [
            "07_validation_code_prompts.jsonl", "08_validation_code_results.jsonl", "09_llm_rubric_prompts.jsonl",
            "10_llm_rubric_results.jsonl", "11_rubric_filter.jsonl"]
        assert report["kept"] == n - n_bad - 2
        assert report["stages"][7]["usage"]["total_tokens"] == 400 * (1 + 6 * 3 + 2 + 3)  # good/repair/rubric roles
        assert "| 8 verifier + repair | `08_validation_code_results.jsonl` |" in (out / "report.md").read_text()

        before = len(server.chat_requests)
        again = run_persona2task(out, cfg)
        assert len(server.chat_requests) == before  # nothing asked again
        assert [(r.n_in, r.n_out, r.rejects) for r in again] == [(r.n_in, r.n_out, r.rejects) for r in results]


def test_check_rules_schema() -> None:
    outputs = ["output/notes.md"]
    good = _rubric("good")["rules"]
    assert check_rules([{**good[0], "file_path": "./output/notes.md"}, good[1]], outputs)[0]["file_path"] == \
        "output/notes.md"
    bad = {
        "expected 2-5": good[:1],
        "used twice": [good[0], good[0]],
        "not an output path": [good[0], {**good[1], "file_path": "input/data.csv"}],
        "extra ['weight']": [good[0], {**good[1], "weight": 1}],
        "non-empty": [good[0], {**good[1], "scores": {**good[1]["scores"], "0.5": " "}}],
        "not a list": {"a": good},
    }
    for why, rules in bad.items():
        with pytest.raises(ValueError, match=re.escape(why)):
            check_rules(rules, outputs)


def test_killed_run_resumes_stage_8(tmp_path: Path) -> None:
    roles = ["good", "repair", "crash", "good", "repair", "good"]
    personas = tmp_path / "personas.jsonl"
    personas.write_text("".join(json.dumps({"persona": f"persona-{r}"}) + "\n" for r in roles))
    model = Model(delay_s=0.3)
    out = tmp_path / "run"
    results_file = out / "08_validation_code_results.jsonl"
    with ScriptedModelServer(responder=model) as server:
        cmd, env = synth_cli("persona2task", "--base-url", server.base_url, "--model", "m", "--out", str(out),
                             "--n", str(len(roles)), "--personas", str(personas), "--concurrency", "1", "--jobs", "1",
                             "--dedup", "off", "--quiet", "--last-stage", "11")
        kill_midway(cmd, env, results_file, timeout_s=120)
        finished = set(read_records(results_file))
        assert 2 <= len(finished) < len(roles), "the run was not killed midway"
        seen = len(model.verifier_asks)

        res = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        records = read_records(results_file)
        assert set(records) == {f"p{i:06d}" for i in range(len(roles))}
        # a finished id's record is the one the killed run wrote; only unfinished ids were asked again
        redone = {i for i in records if i not in finished}
        rounds = {"good": 1, "repair": 2, "crash": 3}
        asked_again = sorted(role for role, _ in model.verifier_asks[seen:])
        assert asked_again == sorted(r for i in redone for r in [roles[int(i[1:])]] * rounds[roles[int(i[1:])]])
        assert [records[f"p{i:06d}"]["ok"] for i in range(len(roles))] == [r != "crash" for r in roles]
        report = json.loads((out / "report.json").read_text())
        stage8 = report["stages"][7]
        assert (stage8["n_in"], stage8["n_out"], stage8["done_now"]) == (6, 5, len(roles) - len(finished))
        assert "11 rubric filter" in res.stdout
