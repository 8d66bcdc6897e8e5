"""Both synth-llm routes end to end: 100 persona and 100 skill tasks from a scripted model on loopback
(real HTTP through the OpenAI client) through every stage, into task folders that `clawgym validate`
passes, `register_suite` loads and whose reference scores 1.0 through the env and the authors' reward.sh.

The scripted model answers as a good model would (tests/synth_factory.py: coherent tasks, verifiers
that parse their outputs, reference solutions), so every filter stays open and each kept folder is
proven; the filters' rejects have their own tests (test_synth_llm*.py, test_skill2task.py). Token
usage is what the server reports: characters / 4 of the request's messages and of the answer, a
stand-in for a tokenizer (benchmarks/synth_llm_cost.py counts with a real one).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from chat_server import ScriptedModelServer, text_reply
from synth_factory import FAMILIES, Made, make

from clawgym_env.registration import register_suite
from clawgym_env.synth.llm.client import ModelSpec
from clawgym_env.synth.llm.persona2task import Persona2TaskConfig, run_persona2task
from clawgym_env.synth.llm.prompts import GENERATOR_SYSTEM, JUDGE_SYSTEM, RUBRIC_SYSTEM, VERIFIER_SYSTEM
from clawgym_env.synth.llm.reference_prompts import REFERENCE_SYSTEM
from clawgym_env.synth.llm.skill2task import Skill2TaskConfig, run_skill2task
from clawgym_env.synth.llm.skill_prompts import ANNOTATE_SYSTEM, FILES_SYSTEM, REWARD_SYSTEM, TASK_SYSTEM
from clawgym_env.synth.llm.skill_prompts import RUBRIC_SYSTEM as SKILL_RUBRIC_SYSTEM
from clawgym_env.synth.llm.skills import load_skills
from clawgym_env.tasks.folder import load_task
from clawgym_env.tasks.reward_template import REWARD_SH

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "datasets" / "openclaw-skills"
N = 100
# config_edit writes .ini files, which are not among the authors' ten input formats both routes accept
E2E_FAMILIES = tuple(f for f in FAMILIES if f != "config_edit")


def _made(route: str, i: int) -> Made:
    return make(i, route=route, family=E2E_FAMILIES[i % len(E2E_FAMILIES)])


def usage_for(body: Any, text: str) -> dict[str, int]:
    """The stand-in token count: characters / 4 of the request's messages and of the answer."""
    prompt = sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4
    completion = len(text) // 4
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class ScriptedGoodModel:
    """Answers every stage of both routes for the factory tasks; records what each stage was asked."""

    def __init__(self, route: str, skill_index: dict[str, int] | None = None):
        self.route = route
        self.made = [_made(route, i) for i in range(N)]
        self.skill_index = skill_index or {}
        self.asked: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, body: Any) -> dict[str, Any]:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        text = self.answer(system, user)
        return text_reply(text, usage=usage_for(body, text))

    def _count(self, stage: str) -> None:
        with self._lock:
            self.asked[stage] = self.asked.get(stage, 0) + 1

    def _by_tag(self, user: str) -> Made:
        """The task a later stage's request is about: every file name carries its unique tag."""
        tags = {m.tag: m for m in self.made}
        found = {t for t in re.findall(r"[ps]\d{4}", user) if t in tags}
        assert len(found) == 1, f"request names tasks {sorted(found)}"
        return tags[found.pop()]

    def answer(self, system: str, user: str) -> str:
        if system == GENERATOR_SYSTEM:
            self._count("task")
            made = self.made[int(re.search(r"Persona #(\d+)", user).group(1))]
            return "```json\n" + json.dumps(made.task_json(), indent=2) + "\n```"
        if system == ANNOTATE_SYSTEM:
            self._count("annotate")
            return json.dumps({"language": "English", "summary": "Works on text files.", "auth_required": False,
                               "auth_details": "", "input_format": "text", "output_format": "text",
                               "has_risk": False, "risk_reasons": [], "required_env": [],
                               "text_only_compatible": True, "non_text_reasons": [],
                               "core_content": "Reads records and writes a summary."})
        if system == TASK_SYSTEM:
            self._count("task")
            made = self.made[self.skill_index[re.search(r"^Primary skill: (.+)$", user, re.MULTILINE).group(1)]]
            task = made.candidate["task"]
            return json.dumps({"tasks": [{
                "user_query": task["question"], "category": made.candidate["category"],
                "requires_input_files": True,
                "input_files": [{"path": f["file_path"], "description": "the data"} for f in task["input_files"]],
                "reward_type": "output_files", "reward_summary": "the output's values must be right",
                "expected_behaviors": task["expected_behavior"], "difficulty": 3,
                "difficulty_reason": "read, compute and write"}]})
        if system == JUDGE_SYSTEM:
            self._count("judge")
            return json.dumps({"has_factual_error": 0, "factual_error_reason": "none", "has_answer_leak": 0,
                               "answer_leak_reason": "none"})
        made = self._by_tag(user)
        if system == FILES_SYSTEM:
            self._count("files")
            return "".join(f"===FILE: ./input_files/{f['file_path'].removeprefix('input/')} | data===\n{f['content']}"
                           for f in made.candidate["task"]["input_files"])
        if system == REWARD_SYSTEM:
            self._count("reward")
            sh = '#!/usr/bin/env bash\nset -euo pipefail\npython3 "$(dirname "$0")/check.py" "${1:-$PWD}"\n'
            return (f"===FILE: ./reward/reward.sh | entry===\n{sh}"
                    f"===FILE: ./reward/check.py | checks===\n{made.candidate['check_py']}")
        if system == VERIFIER_SYSTEM:
            self._count("verifier")
            return f"```python\n{made.candidate['check_py']}\n```"
        if system in (RUBRIC_SYSTEM, SKILL_RUBRIC_SYSTEM):
            self._count("rubric")
            if system == RUBRIC_SYSTEM and made.seed % 2:  # persona route: half the tasks need no rubric
                return json.dumps({"skip_rubric": True, "reason": "the code checks everything that matters"})
            return json.dumps({"rules": made.rules})
        if system == REFERENCE_SYSTEM:
            self._count("reference")
            return made.reference_text()
        raise AssertionError(f"unexpected system prompt: {system[:80]!r}")


def _validate(tasks: Path) -> dict[str, Any]:
    """The real CLI over the emitted folders: exit 0 means every gate passed and no near duplicates."""
    report = tasks.parent / "validate.json"
    proc = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "validate", str(tasks), "--jobs", "2", "--quiet",
                           "--out", str(report)], cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(report.read_text())


def _check_folders(tasks: Path, route: str, namespace: str) -> None:
    folders = sorted(p for p in tasks.iterdir() if p.is_dir())
    assert len(folders) == N
    validated = _validate(tasks)
    assert validated["summary"]["passed"] == N and validated["summary"]["oracle_perfect"] == N
    assert all(r["oracle_reward"] == 1.0 and r["noop_reward"] == 0.0 for r in validated["reports"])
    rubrics = 0
    for folder in folders:
        task = load_task(folder)
        assert task.reward_files["reward.sh"] == REWARD_SH.encode()  # the authors' reward flow, byte for byte
        assert task.user_query.endswith("All file paths are relative to the workspace directory.")
        assert task.metadata["source"] == f"synth-llm:{route}" and task.oracle and task.oracle_outputs
        rubrics += bool(task.extra.get("rules"))
    assert rubrics == (N // 2 if route == "persona2task" else N)
    ids = register_suite(tasks, namespace=namespace)
    assert len(ids) == N
    env = gym.make(ids[0])
    try:
        _, info = env.reset()
        assert info["task_id"] == folders[0].name
    finally:
        env.close()


def _funnel(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "report.json").read_text())["stages"]


def test_persona2task_end_to_end_100_tasks(tmp_path: Path) -> None:
    personas = tmp_path / "personas.jsonl"
    personas.write_text("".join(json.dumps({"persona": f"Persona #{i}: an office worker who keeps records"}) + "\n"
                                for i in range(N)))
    model = ScriptedGoodModel("persona2task")
    out = tmp_path / "p2t"
    with ScriptedModelServer(responder=model) as server:
        cfg = Persona2TaskConfig(generator=ModelSpec(server.base_url, "scripted"), n=N, personas_file=str(personas),
                                 dedup="minhash", concurrency=8, jobs=2, progress=False)
        results = run_persona2task(out, cfg)
    assert [r.n_out for r in results] == [N] * len(results), "\n".join(f"{r.name}: {r.n_out} {r.rejects}" for r in results)
    assert [r.name.split()[0] for r in results] == [str(i) for i in range(1, 15)]
    assert model.asked == {"task": N, "judge": N, "verifier": N, "rubric": N, "reference": N}
    stages = _funnel(out)
    assert all(s["usage"]["total_tokens"] > 0 for s in stages if s["requests"])
    _check_folders(out / "tasks", "persona2task", "SynthE2EPersona")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the OpenClaw skills corpus is missing at {CORPUS}")
def test_skill2task_end_to_end_100_tasks(tmp_path: Path) -> None:
    drawn = load_skills(CORPUS, limit=N, seed=42)
    model = ScriptedGoodModel("skill2task", {s.id: i for i, s in enumerate(drawn)})
    out = tmp_path / "s2t"
    with ScriptedModelServer(responder=model) as server:
        cfg = Skill2TaskConfig(generator=ModelSpec(server.base_url, "scripted"), skills_root=str(CORPUS), n=N,
                               seed=42, concurrency=8, jobs=2, progress=False)
        results = run_skill2task(out, cfg)
    assert [r.n_out for r in results] == [N] * len(results), "\n".join(f"{r.name}: {r.n_out} {r.rejects}" for r in results)
    assert [r.name.split()[0] for r in results] == [str(i) for i in range(1, 11)]
    assert model.asked == {"annotate": N, "task": N, "files": N, "reward": N, "rubric": N, "reference": N}
    _check_folders(out / "tasks", "skill2task", "SynthE2ESkill")
