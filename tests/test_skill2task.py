"""skill2task stages 1-7 on the real skills corpus (../shared) against a scripted model on loopback
(real HTTP through the OpenAI client) and real bwrap sandboxes: the corpus loads, every filter
fires on its case, a good task passes as a candidate record, and a killed run resumes."""

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
from clawgym_env.synth.llm.skill2task import (
    Skill2TaskConfig,
    kept_candidates,
    parse_file_blocks,
    run_skill2task,
    validate_rules,
)
from clawgym_env.synth.llm.skill_prompts import (
    ANNOTATE_SYSTEM,
    FILES_SYSTEM,
    REWARD_SYSTEM,
    RUBRIC_SYSTEM,
    TASK_SYSTEM,
)
from clawgym_env.synth.llm.skills import TEXT_LIMIT, load_skills, scan_skills
from clawgym_env.synth.llm.stages import read_records

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "datasets" / "openclaw-skills"
USAGE = {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360}

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/datasets/openclaw-skills is not here")


# ---------------------------------------------------------------------------------------------- the corpus
@needs_corpus
def test_load_skills_reads_the_whole_corpus() -> None:
    scan = scan_skills(CORPUS)
    assert scan.files == 2451 and len(scan.skills) == 2451 and not scan.skipped
    # hand-written front matter: repaired, never dropped (counts measured on this corpus)
    assert scan.repaired == {"no_front_matter": 132, "invalid_yaml": 49, "unclosed_front_matter": 3,
                             "no_name": 137, "no_description": 133}
    by_id = {s.id: s for s in scan.skills}
    assert len(by_id) == 2451 and all(s.name and s.description for s in scan.skills)
    assert all(len(s.text) <= TEXT_LIMIT for s in scan.skills) and any(s.truncated for s in scan.skills)
    assert by_id["acastellana/genlayer"].name == "genlayer-claw-skill"  # 'Triggers: ...' breaks the YAML
    assert "Triggers: explain" in by_id["acastellana/genlayer"].description
    assert by_id["aatmaan1/communication-skill"].name == "communication"  # never closed
    molt = by_id["801c07/molt-trader-skill"]  # no front matter: folder name, first paragraph
    assert molt.name == "molt-trader-skill" and molt.description.startswith("Trade on the Molt Trader simulator")
    assert "arisylafeta/clawlist/brainstorming" in by_id  # nested skills keep their folder as id

    first = load_skills(CORPUS / "skills", limit=5, seed=7)
    assert [s.id for s in first] == [s.id for s in load_skills(CORPUS, seed=7)[:5]]
    assert [s.id for s in first] != [s.id for s in load_skills(CORPUS, limit=5, seed=8)]


def test_scan_skips_unusable_files_with_a_reason(tmp_path: Path) -> None:
    for owner, raw in (("a/ok", b"---\nname: ok\ndescription: fine\n---\nbody\n"), ("b/latin1", "caf\xe9".encode("latin-1")),
                       ("c/empty", b"  \n")):
        (tmp_path / owner).mkdir(parents=True)
        (tmp_path / owner / "SKILL.md").write_bytes(raw)
    scan = scan_skills(tmp_path)
    assert scan.files == 3 and [s.id for s in scan.skills] == ["a/ok"]
    assert scan.skipped == {"not_utf8": 1, "empty": 1}
    with pytest.raises(ValueError, match="not a directory"):
        scan_skills(tmp_path / "nowhere")


def test_block_and_rubric_parsers() -> None:
    text = ("Here you go:\n===FILE: ./input_files/a.csv | the data===\n```csv\nx,y\n1,2\n```\n"
            "===FILE: ./input_files/notes/b.md===\n# B\n")
    assert parse_file_blocks(text, "input_files/") == [("a.csv", "the data", "x,y\n1,2\n"), ("notes/b.md", "", "# B\n")]
    with pytest.raises(ValueError, match="unsafe_path"):
        parse_file_blocks("===FILE: /etc/passwd | x===\nroot\n", "input_files/")
    bands = {"0": "a", "0.25": "b", "0.5": "c", "0.75": "d", "1": "e"}
    rule = {"name": "r1", "file_path": "output/x.md", "scores": bands}
    assert len(validate_rules({"rules": [rule, {**rule, "name": "r2"}]})) == 2
    assert len(validate_rules({"rules": [rule, {**rule, "name": "r2"}]}, ["output/x.md"])) == 2
    for bad, why in (({"rules": [rule]}, "1 rules, expected 2-5"), ({"rules": [rule, rule]}, "used twice"),
                     ({"rules": [rule, {**rule, "name": "r2", "weight": 1}]}, r"extra \['weight'\]"),
                     ({"rules": [rule, {**rule, "name": "r2", "file_path": "input/x.md"}]}, "under output/"),
                     ({"rules": [rule, {**rule, "name": "r2", "scores": {**bands, "0.5": "b"}}]}, "not distinct"),
                     ({"rules": [rule, {**rule, "name": "r2", "scores": {**bands, "0.9": "z"}}]}, "expected exactly"),
                     ({"rules": None}, "not a list")):
        with pytest.raises(ValueError, match="bad_rubric: .*" + why):
            validate_rules(bad)
    with pytest.raises(ValueError, match="not an output path"):
        validate_rules({"rules": [rule, {**rule, "name": "r2"}]}, ["output/y.md"])


# ---------------------------------------------------------------------------------------------- the scripted model
def _annotation(role: str) -> str:
    ann = {"language": "English", "summary": "Turns records into summaries.", "auth_required": False,
           "auth_details": "", "input_format": "CSV", "output_format": "JSON", "has_risk": False, "risk_reasons": [],
           "required_env": [], "text_only_compatible": True, "non_text_reasons": [],
           "core_content": "Summing amounts per item and reporting totals."}
    if role == "malformed_annotation":
        return '```json\n{"language": "English", "summary": \n```\nI ran out of room.'
    if role == "auth":
        ann.update(auth_required=True, auth_details="a personal API token")
    elif role == "non_text":
        ann.update(text_only_compatible=False, non_text_reasons=["drives smart light bulbs"])
    elif role == "not_english":
        ann.update(language="Chinese")
    return "Sure.\n```json\n" + json.dumps(ann, indent=1) + "\n```"


def _task(role: str) -> str:
    inputs = [{"path": f"input/{role}_data.csv", "description": "items and amounts"}]
    query = (f"Sum the amount column of input/{role}_data.csv and write the total as JSON "
             f"{{\"total\": n}} to output/{role}_summary.json.")
    if role == "good_noinput":
        inputs, query = [], "Write output/good_noinput_summary.json holding {\"greeting\": \"hello\"}."
    elif role == "bad_path":
        query = f"Sum /tmp/{role}_data.csv and write output/{role}_summary.json."
    elif role == "missing_input":
        inputs.append({"path": f"input/{role}_notes.md", "description": "remarks"})
    task = {"user_query": query, "category": "Office & Daily Tasks", "requires_input_files": bool(inputs),
            "input_files": inputs, "reward_type": "output_files", "reward_summary": "the total must be right",
            "expected_behaviors": ["read the CSV", "sum the amounts", "write the JSON"], "difficulty": 3,
            "difficulty_reason": "one join of reading and writing"}
    return json.dumps({"tasks": [task]})


def _files(role: str) -> str:
    if role == "unsafe_input":
        return f"===FILE: ./input_files/../{role}_data.csv | escapes===\nitem,amount\n"
    return f"===FILE: ./input_files/{role}_data.csv | items===\nitem,amount\napples,3\npears,4\n"


GOOD_SH = '#!/usr/bin/env bash\nset -euo pipefail\npython3 "$(dirname "$0")/check.py" "${1:-$PWD}"\n'
GOOD_CHECK = '''import csv
import json
import os
import sys


def main():
    root = sys.argv[1]
    checks = {"summary_exists": False, "total_correct": False}
    path = os.path.join(root, "output", "ROLE_summary.json")
    if os.path.isfile(path):
        checks["summary_exists"] = True
        with open(os.path.join(root, "input", "ROLE_data.csv"), newline="") as fh:
            total = sum(int(r["amount"]) for r in csv.DictReader(fh))
        try:
            with open(path) as fh:
                checks["total_correct"] = json.load(fh).get("total") == total
        except (OSError, ValueError):
            pass
    print(json.dumps({"reward": sum(checks.values()) / len(checks), **checks}))


main()
'''
NOINPUT_CHECK = '''import json, os, sys
path = os.path.join(sys.argv[1], "output", "good_noinput_summary.json")
ok = False
if os.path.isfile(path):
    try:
        ok = json.load(open(path)).get("greeting") == "hello"
    except ValueError:
        pass
print(json.dumps({"reward": 1.0 if ok else 0.0, "greeting_written": ok}))
'''


def _reward(role: str) -> str:
    sh, check = GOOD_SH, GOOD_CHECK.replace("ROLE", role)
    if role == "good_noinput":
        check = NOINPUT_CHECK
    elif role == "sh_syntax":
        sh = "#!/usr/bin/env bash\nif [ -f x ]; then\n  echo hi\n"
    elif role == "py_syntax":
        check = check.replace("def main():", "def main(:")
    elif role == "non_stdlib":
        check = "import numpy as np\n" + check
    elif role == "noop_positive":  # pays for the input file that is there before any work
        check = ('import json, os, sys\nhere = os.path.exists(os.path.join(sys.argv[1], "input", "noop_positive_data.csv"))\n'
                 'print(json.dumps({"reward": 0.5 if here else 0.0, "input_seen": here}))\n')
    elif role == "noop_bool_true":  # prints reward 0 but a true check: reward.sh's mean is 1/4
        check = check.replace("**checks}))", '**checks, "inputs_present": True}))')
    elif role == "first_key":
        check = check.replace('{"reward": sum(checks.values()) / len(checks), **checks}',
                              '{**checks, "reward": sum(checks.values()) / len(checks)}')
    return f"===FILE: ./reward/reward.sh | entry===\n{sh}===FILE: ./reward/check.py | checks===\n{check}"


def _rubric(role: str) -> str:
    bands = {"0": "missing", "0.25": "mostly wrong", "0.5": "half right", "0.75": "nearly right", "1": "right"}
    if role == "bad_rubric":
        bands["0.5"] = "mostly wrong"
    path = f"output/{role}_summary.json"
    rules = [{"name": "readable", "file_path": path, "scores": bands},
             {"name": "tidy_keys", "file_path": path, "scores": {k: f"keys {v}" for k, v in bands.items()}}]
    return json.dumps({"rules": rules})


_ROLE_OF_OUTPUT = re.compile(r"output/(\w+?)_summary\.json")


def _responder(roles: dict[str, str], delay_s: float = 0.0) -> Any:
    """Answers each stage by its system prompt; the skill (stages 1, 3) or the output path (later) says the role."""
    def respond(body: Any) -> dict[str, Any]:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if system == ANNOTATE_SYSTEM:
            text = _annotation(roles[re.search(r"^Skill id: (.+)$", user, re.MULTILINE).group(1)])
        elif system == TASK_SYSTEM:
            text = _task(roles[re.search(r"^Primary skill: (.+)$", user, re.MULTILINE).group(1)])
        else:
            role = _ROLE_OF_OUTPUT.search(user).group(1)
            text = {FILES_SYSTEM: _files, REWARD_SYSTEM: _reward, RUBRIC_SYSTEM: _rubric}[system](role)
        return {**text_reply(text, usage=USAGE), "delay_s": delay_s}
    return respond


SKILL_ROLES = ["auth", "non_text", "malformed_annotation", "not_english"]
TASK_ROLES = ["good", "good_noinput", "bad_path", "missing_input", "unsafe_input", "sh_syntax", "py_syntax", "non_stdlib",
              "noop_positive", "noop_bool_true", "first_key", "bad_rubric"]


@needs_corpus
def test_skill2task_funnel(tmp_path: Path) -> None:
    n = len(SKILL_ROLES) + len(TASK_ROLES)
    drawn = load_skills(CORPUS, limit=n, seed=42)
    roles = {s.id: r for s, r in zip(drawn, SKILL_ROLES + TASK_ROLES, strict=True)}
    out = tmp_path / "run"
    with ScriptedModelServer(responder=_responder(roles)) as server:
        cfg = Skill2TaskConfig(generator=ModelSpec(server.base_url, "gen-m"), skills_root=str(CORPUS), n=n, seed=42,
                               english_only=True, concurrency=4, jobs=2, progress=False, last_stage=7)
        results = run_skill2task(out, cfg)
        funnel = {r.name: (r.n_in, r.n_out, r.rejects) for r in results}
        assert funnel == {
            "1 annotate": (16, 12, {"auth_required": 1, "malformed_json": 1, "not_english": 1, "not_text_only": 1}),
            "2 combine": (12, 12, {}),
            "3 task generation": (12, 11, {"bad_path": 1}),
            "4 input files": (11, 9, {"missing_input_file": 1, "unsafe_path": 1}),
            "5 reward package": (9, 9, {}),
            "6 rubric": (9, 8, {"bad_rubric": 1}),
            "7 filter": (8, 2, {"check_py_syntax": 1, "non_stdlib_import": 1, "noop_nonzero": 2,
                                "reward_not_first": 1, "reward_sh_syntax": 1}),
        }
        # one request per item per LLM stage (the no-input task asks for no files): usage adds up
        asked = 16 + 12 + 10 + 9 + 9
        assert len(server.chat_requests) == asked
        report = json.loads((out / "report.json").read_text())
        assert report["kept"] == 2 and report["usage_total"]["total_tokens"] == asked * USAGE["total_tokens"]
        md = (out / "report.md").read_text()
        for r in results:
            assert f"| {r.name} | `{r.file}` | {r.n_in} | {r.n_out} |" in md

        rejects = {read_records(out / "01_annotations.jsonl")[i]["skill_id"]: r["reason"]
                   for i, r in read_records(out / "07_filter.jsonl").items() if not r["ok"]}
        assert {roles[s] for s in rejects} == {"sh_syntax", "py_syntax", "non_stdlib", "noop_positive",
                                               "noop_bool_true", "first_key"}
        by_role = {roles[s]: why for s, why in rejects.items()}
        assert by_role["non_stdlib"] == "non_stdlib_import: numpy"
        assert by_role["noop_positive"] == "noop_nonzero: printed reward 0.5, reward.sh mean 0.75"
        assert by_role["noop_bool_true"] == "noop_nonzero: printed reward 0.0, reward.sh mean 0.25"

        combos = read_records(out / "02_combos.jsonl")
        synth = {r["skill_id"] for r in read_records(out / "01_annotations.jsonl").values() if r["ok"]}
        for c in combos.values():
            assert len(c["supporting_skill_ids"]) == 3 and set(c["supporting_skill_ids"]) <= synth - {c["primary_skill_id"]}

        kept = kept_candidates(out)
        assert sorted(roles[c["metadata"]["primary_skill_id"]] for c in kept) == ["good", "good_noinput"]
        good = next(c for c in kept if roles[c["metadata"]["primary_skill_id"]] == "good")
        assert good["route"] == "skill2task" and good["check_style"] == "reward_first" and good["subcategory"] is None
        assert good["category"] == "Office & Daily Tasks"
        assert good["task"]["question"].startswith("Sum the amount column of input/good_data.csv")
        assert good["task"]["input_files"] == [{"file_path": "input/good_data.csv", "file_format": "csv",
                                                "content": "item,amount\napples,3\npears,4\n"}]
        assert good["task"]["difficulty"] == {"score": 3, "reason": "one join of reading and writing"}
        assert [r["name"] for r in good["rules"]] == ["readable", "tidy_keys"]
        meta = good["metadata"]
        assert meta["task_source"] == "original" and len(meta["supporting_skill_ids"]) == 3
        assert set(meta) == {"primary_skill_id", "supporting_skill_ids", "task_source", "difficulty",
                             "difficulty_reason", "reward_type", "reward_summary", "expected_behaviors"}
        assert good["noop"]["reward_sh"] == 0.0 and list(good["noop"]["printed"]) == ["reward", "summary_exists",
                                                                                        "total_correct"]
        _solved_scores_one(good)

        # a rerun asks nothing again and reports the same funnel; other settings are refused
        before = len(server.requests)
        again = run_skill2task(out, cfg)
        assert len(server.requests) == before
        assert [(r.n_in, r.n_out, r.rejects) for r in again] == [(r.n_in, r.n_out, r.rejects) for r in results]
        with pytest.raises(ValueError, match="other settings"):
            run_skill2task(out, Skill2TaskConfig(generator=cfg.generator, skills_root=str(CORPUS), n=n, seed=42,
                                                 combo_skill_count=2, english_only=True, progress=False,
                                                 last_stage=7))


def _solved_scores_one(cand: dict[str, Any]) -> None:
    """The kept candidate's check.py, through the authors' reward.sh in the sandbox, pays 1.0 for the work done."""
    from clawgym_env.synth.llm.skill2task import _noop_task
    from clawgym_env.verify.offline import verify_workspace

    item = {"id": cand["id"], "task": {"user_query": cand["task"]["question"]}, "files": cand["task"]["input_files"]}
    task = _noop_task(item, cand["check_py"])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        for f in cand["task"]["input_files"]:
            (ws / f["file_path"]).parent.mkdir(parents=True, exist_ok=True)
            (ws / f["file_path"]).write_text(f["content"])
        (ws / "output").mkdir()
        (ws / "output" / "good_summary.json").write_text('{"total": 7}')
        res = verify_workspace(task, ws)
    assert res.reward == 1.0 and res.subscores == {"reward": 1.0, "summary_exists": True, "total_correct": True}


@needs_corpus
def test_killed_run_resumes_without_reasking(tmp_path: Path) -> None:
    n = 5
    drawn = load_skills(CORPUS, limit=n, seed=3)
    roles = {s.id: "good" for s in drawn}
    out = tmp_path / "run"
    with ScriptedModelServer(responder=_responder(roles, delay_s=0.3)) as server:
        cmd, env = synth_cli("skill2task", "--skills", str(CORPUS / "skills"), "--base-url", server.base_url,
                             "--model", "m", "--out", str(out), "--n", str(n), "--seed", "3", "--combo-skill-count", "2",
                             "--concurrency", "1", "--jobs", "1", "--quiet", "--last-stage", "7")
        annotations = out / "01_annotations.jsonl"
        kill_midway(cmd, env, annotations)
        finished = {r["skill_id"] for r in read_records(annotations).values()}
        assert 2 <= len(finished) < n, "the run was not killed midway"
        seen_before = len(server.chat_requests)

        res = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        later = server.chat_requests[seen_before:]
        annotated = [re.search(r"^Skill id: (.+)$", r.body["messages"][-1]["content"], re.MULTILINE).group(1)
                     for r in later if r.body["messages"][0]["content"] == ANNOTATE_SYSTEM]
        assert not set(annotated) & finished and len(annotated) == n - len(finished)
        assert len(later) == len(annotated) + 4 * n  # every later stage asked once per skill
        report = json.loads((out / "report.json").read_text())
        assert [(s["n_in"], s["n_out"]) for s in report["stages"]] == [(n, n)] * 7
        assert report["stages"][0]["done_now"] == n - len(finished)
        assert "7 filter" in res.stdout and "report.md" in res.stdout
