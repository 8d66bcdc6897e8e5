"""The proof stages (reference solution, proof through the real env and gates, assembly) on factory
tasks: real bwrap sandboxes, the scripted model on loopback for the reference stage. Each proof
reason fires on its case, a good candidate's folder passes the gate and loads as a suite, and a
killed or repeated run does not redo finished ids."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from chat_server import ScriptedModelServer, text_reply
from synth_factory import FAMILIES, Made, by_question, make

from clawgym_env.synth.llm.assemble import run_proof_stages, write_candidate_folder
from clawgym_env.synth.llm.client import ModelSpec
from clawgym_env.synth.llm.proof import candidate_task, parse_reference, prove
from clawgym_env.synth.llm.reference_prompts import REFERENCE_SYSTEM, WORKSPACE_SUFFIX, reference_messages
from clawgym_env.synth.llm.stages import read_records

REPO = Path(__file__).resolve().parents[1]
REF_USAGE = {"prompt_tokens": 300, "completion_tokens": 80, "total_tokens": 380}


# ---------------------------------------------------------------------------------------------- no sandbox
def test_parse_reference_accepts_prose_around_json_and_names_each_fault() -> None:
    m = make(0)
    rec = parse_reference({"id": "x"}, m.reference_text())
    assert rec["ok"] and rec["actions"] == m.actions and rec["final"] == m.final
    cases = {
        "no_json": "I would read the file and then write the totals.",
        "no_actions": json.dumps({"actions": [], "final": "done"}),
        "unknown_tool": json.dumps({"actions": [{"name": "bash", "arguments": {"command": "ls"}}]}),
        "bad_arguments": json.dumps({"actions": [{"name": "write", "arguments": {"path": "out.txt"}}]}),
    }
    for kind, text in cases.items():
        rec = parse_reference({"id": "x"}, text)
        assert not rec["ok"] and rec["reason"].startswith(kind + ":"), (kind, rec)
    escaping = json.dumps({"actions": [{"name": "write", "arguments": {"path": "../etc/x", "content": "a"}}]})
    assert parse_reference({}, escaping)["reason"].startswith("bad_arguments:")
    only_reads = json.dumps({"actions": [{"name": "read", "arguments": {"path": "input/a.csv"}}]})
    assert parse_reference({}, only_reads)["reason"].startswith("no_actions:")
    extra = json.dumps({"actions": [{"name": "edit", "arguments": {"path": "a", "oldText": "x", "newText": "",
                                                                      "mode": "fast"}}]})
    assert parse_reference({}, extra)["reason"].startswith("bad_arguments:")


def test_reference_prompt_shows_the_task_but_never_the_verifier() -> None:
    m = make(3)
    system, user = (msg["content"] for msg in reference_messages(m.candidate))
    assert system == REFERENCE_SYSTEM
    assert m.question in user and user.count(WORKSPACE_SUFFIX.strip()) == 1
    for f in m.candidate["task"]["input_files"]:
        assert f["file_path"] in user and f["content"].strip().splitlines()[0] in user
    assert "EXPECTED" not in user and "def check_" not in user and m.candidate["check_py"][:200] not in user


def test_candidate_task_carries_the_contract_fields() -> None:
    m = make(7, route="skill2task", rubric=True)
    task = candidate_task(m.candidate, m.actions)
    assert task.task_id == "s000007" and task.user_query.endswith(WORKSPACE_SUFFIX)
    again = dict(m.candidate, task=dict(m.candidate["task"], question=task.user_query))
    assert candidate_task(again, m.actions).user_query == task.user_query  # the suffix is not doubled
    assert task.metadata["grading_type"] == "hybrid" and task.metadata["source"] == "synth-llm:skill2task"
    assert task.metadata["difficulty"] == m.candidate["task"]["difficulty"]["score"]
    assert task.metadata["category"] == m.candidate["category"] and task.metadata["family"] == m.family
    assert task.extra["rules"] == m.rules
    assert task.reward_files["check.py"].decode() == m.candidate["check_py"]
    assert task.input_mount_dir is None and set(task.input_files) == {f["file_path"] for f in m.candidate["task"]["input_files"]}
    assert task.oracle == m.actions and [o["path"] for o in task.oracle_outputs or []] == [m.output]
    plain = candidate_task(make(8).candidate, make(8).actions)
    assert plain.metadata["grading_type"] == "automated" and "rules" not in plain.extra


def test_factory_tasks_differ_and_cover_every_family() -> None:
    made = [make(s) for s in range(100)]
    assert len({m.question for m in made}) == 100
    assert Counter(m.family for m in made).keys() == set(FAMILIES)
    assert by_question(made, "prefix " + made[42].question + WORKSPACE_SUFFIX) is made[42]


# ---------------------------------------------------------------------------------------------- sandboxes
def _with_extra_output(m: Made) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The task also asks for a notes file that its verifier never reads."""
    cand = json.loads(json.dumps(m.candidate))
    note = f"output/notes_{m.tag}.md"
    cand["task"]["question"] += f" Also leave a one-line note of what you did in `{note}`."
    return cand, [*m.actions, {"name": "write", "arguments": {"path": note, "content": "# Notes\nDone.\n"}}]


@pytest.mark.parametrize(("variant", "reasons"), [
    ({"reference": "wrong"}, {"reference_failed"}),
    ({"reference": "tool_error"}, {"reference_error"}),
    ({"verifier": "noop"}, {"noop_scored", "not_discriminative"}),
    ({"verifier": "scaffold"}, {"scaffold_scored", "echo_rewarded", "empty_rewarded", "copy_rewarded"}),
    ({"verifier": "echo"}, {"echo_rewarded"}),
    ({"verifier": "string_json"}, {"equivalence_failed"}),
    ("extra_output", {"mutation_missed"}),
])
def test_each_proof_reason_fires_on_its_case(variant: Any, reasons: set[str]) -> None:
    if variant == "extra_output":
        cand, actions = _with_extra_output(make(5))
    else:
        m = make(13, **variant)
        cand, actions = m.candidate, m.actions
    report = prove(cand, actions)
    kinds = {r.split(":", 1)[0] for r in report.reasons}
    assert reasons <= kinds, report.reasons  # a verifier paying for inputs also pays every cheap answer
    assert not report.ok and report.reason == report.reasons[0] and report.reason.split(":")[0] in reasons
    if variant == {"verifier": "echo"}:
        assert report.adversarial["rewards"]["instruction_echo"] == 1.0 and report.reference_reward == 1.0
    if variant == {"verifier": "string_json"}:
        assert report.equivalence["failed"]["json_compact"] == 0.5 and report.equivalence["pairs"]["trailing_newline"] == 1.0


@pytest.mark.parametrize(("seed", "kw"), [(0, {}), (3, {"route": "skill2task", "rubric": True}), (2, {"reference": "exec"})])
def test_good_candidate_is_kept_and_its_folder_passes_the_gate(tmp_path: Path, seed: int, kw: dict[str, Any]) -> None:
    import gymnasium as gym

    from clawgym_env.registration import register_suite
    from clawgym_env.synth.gate import gate_task
    from clawgym_env.tasks.folder import load_task

    m = make(seed, **kw)
    report = prove(m.candidate, m.actions)
    assert report.ok, report.reasons
    assert report.reference_reward == 1.0 and report.noop_reward == 0.0 and report.scaffold_reward == 0.0
    assert report.equivalence["pairs"] and not report.equivalence["failed"]
    assert all(report.adversarial["rewards"][s] <= 0.1 for s in ("instruction_echo", "empty_valid", "copy_input"))
    assert all("missing" in o["mutations"] for o in report.outputs) and report.seconds > 0

    folder = write_candidate_folder(tmp_path / "suite", m.candidate, m.actions, report)
    oracle = json.loads((folder / "oracle.json").read_text())
    assert oracle == {"actions": m.actions, "outputs": report.outputs}
    entry = json.loads((folder / "data_entry.json").read_text())
    assert ("rules" in entry) == bool(kw.get("rubric")) and "input_mount_dir" not in entry
    assert os.access(folder / "reward" / "reward.sh", os.X_OK)
    gate = gate_task(load_task(folder))
    assert gate.passed, gate.to_dict()
    assert gate.mutations.keys() == {f"{o['path']}:{k}" for o in report.outputs for k in o["mutations"]}

    ids = register_suite(tmp_path / "suite", namespace=f"ProofTest{seed}")
    assert ids == [f"ProofTest{seed}/{m.candidate['id']}"] and gym.spec(ids[0]).kwargs["task_id"] == m.candidate["id"]


# ---------------------------------------------------------------------------------------------- the stages
def _responder(made: list[Made], broken_ids: set[str], delay_s: float = 0.0) -> Any:
    def respond(body: Any) -> dict[str, Any]:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        assert system == REFERENCE_SYSTEM
        m = by_question(made, user)
        text = "I cannot do that." if m.candidate["id"] in broken_ids else m.reference_text()
        return {**text_reply(text, usage=REF_USAGE), "delay_s": delay_s}
    return respond


def _lines_per_id(path: Path) -> Counter[str]:
    return Counter(json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip())


def test_proof_stages_funnel_folders_and_rerun(tmp_path: Path) -> None:
    from clawgym_env.registration import register_suite

    made = [make(20 + i) for i in range(3)] + [make(40, verifier="echo"), make(41, route="skill2task")]
    no_json = made[1].candidate["id"]
    cands = [m.candidate for m in made]
    out = tmp_path / "run"
    with ScriptedModelServer(responder=_responder(made, {no_json})) as server:
        spec = ModelSpec(server.base_url, "ref-m")
        rows = run_proof_stages(out, cands, model=spec, jobs=2, progress=False)
        assert [(r.file, r.n_in, r.n_out, r.rejects) for r in rows] == [
            ("12_references.jsonl", 5, 4, {"no_json": 1}),
            ("13_proof.jsonl", 4, 3, {"echo_rewarded": 1}),
            ("14_assembled.jsonl", 3, 3, {}),
        ]
        assert rows[0].usage["total_tokens"] == 5 * REF_USAGE["total_tokens"] and rows[0].requests == 5
        asked = len(server.chat_requests)
        again = run_proof_stages(out, cands, model=spec, jobs=2, progress=False)
        assert [r.done_now for r in again] == [0, 0, 0] and len(server.chat_requests) == asked
        assert [(r.n_in, r.n_out) for r in again] == [(r.n_in, r.n_out) for r in rows]

    proof = read_records(out / "13_proof.jsonl")
    echo_id = made[3].candidate["id"]
    assert proof[echo_id]["reason"].startswith("echo_rewarded:") and proof[echo_id]["proof"]["reference_reward"] == 1.0
    kept_ids = sorted(m.candidate["id"] for m in made if m.candidate["id"] not in (no_json, echo_id))
    tasks = out / "tasks"
    assert sorted(p.name for p in tasks.iterdir()) == kept_ids
    res = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "validate", str(tasks), "--quiet", "--jobs", "2"],
                         check=False, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"passed: {len(kept_ids)}" in res.stdout
    assert register_suite(tasks, namespace="ProofStages") == [f"ProofStages/{i}" for i in kept_ids]

    rows = run_proof_stages(out, cands, model=ModelSpec("http://127.0.0.1:9/v1", "gone"), progress=False,
                            first_stage=9)  # another numbering is another set of files
    assert [r.file for r in rows] == ["09_references.jsonl", "10_proof.jsonl", "11_assembled.jsonl"]
    assert rows[0].rejects == {"api_error": 5}


_CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from clawgym_env.synth.llm.assemble import run_proof_stages
from clawgym_env.synth.llm.client import ModelSpec
cands = json.load(open({cands!r}))
run_proof_stages({out!r}, cands, model=ModelSpec({url!r}, "ref-m"), jobs=1, progress=False)
"""


def test_killed_proof_run_resumes_without_redoing_finished_ids(tmp_path: Path) -> None:
    made = [make(60 + i) for i in range(5)]
    cands = [m.candidate for m in made]
    (tmp_path / "cands.json").write_text(json.dumps(cands))
    out = tmp_path / "run"
    proof_file = out / "13_proof.jsonl"
    with ScriptedModelServer(responder=_responder(made, set())) as server:
        code = _CHILD.format(tests=str(REPO / "tests"), cands=str(tmp_path / "cands.json"), out=str(out),
                             url=server.base_url)
        child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                 start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and child.poll() is None:
                if proof_file.exists() and len(_lines_per_id(proof_file)) >= 2:
                    break
                time.sleep(0.05)
            assert child.poll() is None, "the run finished before it could be killed"
            os.killpg(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=30)
        before = _lines_per_id(proof_file)
        assert 2 <= len(before) < len(cands)
        rows = run_proof_stages(out, cands, model=ModelSpec(server.base_url, "ref-m"), jobs=2, progress=False)
    after = _lines_per_id(proof_file)
    assert rows[1].done_now == len(cands) - len(before) and rows[0].done_now == 0
    assert set(after) == {c["id"] for c in cands} and max(after.values()) == 1  # nothing proved twice
    assert rows[2].n_out == len(cands) and sorted(p.name for p in (out / "tasks").iterdir()) == sorted(after)
