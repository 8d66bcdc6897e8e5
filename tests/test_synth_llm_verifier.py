"""The verifier validation of persona2task stage 8, in real bwrap sandboxes: every filter fires on its case."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chat_server import text_reply

from clawgym_env.synth.llm.prompts import GENERATOR_SYSTEM, JUDGE_SYSTEM, RUBRIC_SYSTEM, VERIFIER_SYSTEM
from clawgym_env.synth.llm.scaffold import scaffold_files
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
