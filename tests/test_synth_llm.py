"""persona2task stages 1-6 against a scripted model on loopback (real HTTP through the OpenAI client):
every filter fires on its case, retries recover, tokens add up, and a killed run resumes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from chat_server import ScriptedModelServer, error_reply, text_reply
from synth_cli import kill_midway, synth_cli

from clawgym_env.synth.llm.client import ModelSpec
from clawgym_env.synth.llm.jsonout import NoJSON, extract_json_object
from clawgym_env.synth.llm.novelty import Candidate, greedy_novelty
from clawgym_env.synth.llm.persona2task import Persona2TaskConfig, build_prompts, run_persona2task
from clawgym_env.synth.llm.prompts import GENERATOR_SYSTEM, JUDGE_SYSTEM
from clawgym_env.synth.llm.stages import read_records

REPO = Path(__file__).resolve().parents[1]
GEN_USAGE = {"prompt_tokens": 200, "completion_tokens": 50, "total_tokens": 250}
JUDGE_USAGE = {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140}


def _task(question: str, **over: Any) -> dict[str, Any]:
    task = {"question": question, "task_type": "report", "scenario": "A routine request at work.",
            "expected_behavior": ["read the input", "write the output"], "required_operations": ["read_extract"],
            "has_input_files": True, "input_files": [{"file_path": "input/data.csv", "file_format": "csv",
                                                      "content": "a,b\n1,2\n"}],
            "difficulty": {"score": 3, "reason": "two steps"}}
    task.update(over)
    return task


QUESTIONS = {
    "good": "Summarize the quarterly sales CSV in input/data.csv into a short report at output/summary.md.",
    "dup": "Write a short summary report of the quarterly sales CSV input/data.csv and save it as output/summary.md.",
    "leak": "Translate the French greeting card in input/card.txt into Spanish and write it to output/card_es.txt.",
    "factual": "Fix the failing pytest unit test in input/parser.py and describe the bug in output/bug.md.",
    "unparsed": "Plan a three-day hiking itinerary from input/trails.json and save it as output/plan.yaml.",
    "pass": "Rank the support tickets in input/tickets.jsonl by urgency and write output/ranked.csv.",
}


def _generation_answer(role: str) -> str:
    if role == "malformed":
        return '```json\n{"question": "Sort the files", "scenario": \n```\nSorry, I ran out of room.'
    if role == "no_difficulty":
        return json.dumps(_task("Count the words in input/essay.md and write output/count.txt.", difficulty="hard"))
    body = json.dumps(_task(QUESTIONS[role]), indent=2)
    return f"Here is the task you asked for:\n```json\n{body}\n```\nIt uses every operation listed."


def _verdict(text: str) -> str:
    flags = {"has_factual_error": 0, "factual_error_reason": "none", "has_answer_leak": 0, "answer_leak_reason": "none"}
    if "greeting card" in text:
        flags.update(has_answer_leak=1, answer_leak_reason="the translation is given in the scenario")
    elif "pytest" in text:
        flags.update(has_factual_error=1, factual_error_reason="parser.py is not among the input files")
    elif "hiking" in text:
        return "The task looks fine to me overall."
    return "```json\n" + json.dumps(flags) + "\n```"


def _user_text(body: Any) -> tuple[str, str]:
    msgs = body["messages"]
    return msgs[0]["content"], msgs[-1]["content"]


def _cast(prompts: list[dict[str, Any]]) -> dict[str, str]:
    """persona text -> role; the paraphrase pair shares a category (dedup is per category)."""
    by_cat: dict[str, list[dict[str, Any]]] = {}
    for it in prompts:
        by_cat.setdefault(it["category"], []).append(it)
    pair = next(v for v in by_cat.values() if len(v) >= 2)[:2]
    rest = [it for it in prompts if it not in pair]
    roles = ["malformed", "no_difficulty", "leak", "factual", "unparsed", "pass"]
    cast = {pair[0]["persona"]: "good", pair[1]["persona"]: "dup"}
    cast.update({it["persona"]: roles[i % len(roles)] for i, it in enumerate(rest)})
    return cast


def _personas(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "personas.jsonl"
    path.write_text("".join(json.dumps({"persona": f"persona-{i:02d}, a clerk who files things"}) + "\n"
                            for i in range(n)))
    return path


def _generator(cast: dict[str, str], delay_s: float = 0.0) -> Any:
    def respond(body: Any) -> dict[str, Any]:
        system, user = _user_text(body)
        assert system == GENERATOR_SYSTEM
        role = next(r for p, r in cast.items() if f"Person: {p}\n" in user)
        return {**text_reply(_generation_answer(role), usage=GEN_USAGE), "delay_s": delay_s}
    return respond


def _judge(body: Any) -> dict[str, Any]:
    system, user = _user_text(body)
    assert system == JUDGE_SYSTEM
    return text_reply(_verdict(user), usage=JUDGE_USAGE)


def test_extract_json_object() -> None:
    assert extract_json_object('Sure!\n```json\n{"a": 1}\n```\nDone.') == {"a": 1}
    assert extract_json_object('The answer is {"a": {"b": [1, 2]}} and that is all {x}.') == {"a": {"b": [1, 2]}}
    for bad, why in (("", "empty"), ("[1, 2]", "no '{'"), ('{"a": 1', "invalid JSON")):
        with pytest.raises(NoJSON, match=why):
            extract_json_object(bad)


def test_minhash_fallback_drops_copies_but_keeps_paraphrases() -> None:
    cands = [Candidate("a", "X", QUESTIONS["good"]), Candidate("b", "X", QUESTIONS["good"] + " Thanks!"),
             Candidate("c", "X", QUESTIONS["dup"]), Candidate("d", "Y", QUESTIONS["good"])]
    kept = {d.id: d.kept for d in greedy_novelty(cands, [], method="minhash")}
    assert kept == {"a": True, "b": False, "c": True, "d": True}


def test_persona2task_funnel(tmp_path: Path) -> None:
    personas = _personas(tmp_path, 8)
    out = tmp_path / "run"
    plan = Persona2TaskConfig(generator=ModelSpec("unused", "unused"), n=8)
    cast = _cast(build_prompts(plan, [json.loads(line)["persona"] for line in personas.read_text().splitlines()]))
    retried = [error_reply(429, retry_after="0"), error_reply(500, retry_after="0")]
    with ScriptedModelServer(retried, responder=_generator(cast)) as gen_server, \
            ScriptedModelServer(responder=_judge) as judge_server:
        cfg = Persona2TaskConfig(generator=ModelSpec(gen_server.base_url, "gen-m", backoff_base_s=0.01),
                                 judge=ModelSpec(judge_server.base_url, "judge-m"), n=8, personas_file=str(personas),
                                 concurrency=3, dedup="embedding", progress=False, last_stage=6)
        results = run_persona2task(out, cfg)
        funnel = {r.name: (r.n_in, r.n_out, r.rejects) for r in results}
        assert funnel == {
            "1 task prompts": (8, 8, {}),
            "2 task generation": (8, 6, {"bad_difficulty": 1, "malformed_json": 1}),
            "3 novelty dedup": (6, 5, {"near_duplicate": 1}),
            "4 judge prompts": (5, 5, {}),
            "5 judge audit": (5, 4, {"judge_unparsed": 1}),
            "6 judge filter": (4, 2, {"answer_leak": 1, "factual_error": 1}),
        }
        stage = {r.name: r for r in results}
        # 429 then 500 were retried: 10 requests for 8 items; usage only from the answers
        assert len(gen_server.chat_requests) == 10 and stage["2 task generation"].requests == 10
        assert stage["2 task generation"].usage == {k: 8 * v for k, v in GEN_USAGE.items()}
        assert stage["5 judge audit"].usage == {k: 5 * v for k, v in JUDGE_USAGE.items()}
        assert {r.body["model"] for r in judge_server.chat_requests} == {"judge-m"}
        assert {r.body["model"] for r in gen_server.chat_requests} == {"gen-m"}

        dedup = read_records(out / "03_dedup.jsonl")
        dropped = [r for r in dedup.values() if not r["ok"]]
        assert len(dropped) == 1 and dropped[0]["method"] == "embedding" and dropped[0]["similarity"] >= 0.9
        tasks = read_records(out / "02_tasks.jsonl")
        assert tasks[dropped[0]["id"]]["task"]["question"] == QUESTIONS["dup"]
        assert tasks[dropped[0]["similar_to"]]["task"]["question"] == QUESTIONS["good"]
        passed = sorted(r["task"]["question"] for r in read_records(out / "06_judge_pass.jsonl").values() if r["ok"])
        assert passed == sorted([QUESTIONS["good"], QUESTIONS["pass"]])

        report = json.loads((out / "report.json").read_text())
        assert report["kept"] == 2
        assert report["usage_total"]["total_tokens"] == 8 * 250 + 5 * 140
        md = (out / "report.md").read_text()
        assert "| 2 task generation | `02_tasks.jsonl` | 8 | 6 | bad_difficulty: 1, malformed_json: 1 |" in md
        page = _html_rows((out / "report.html").read_text())
        assert page[0][:4] == ["stage", "file", "in", "out"] and len(page) == 1 + len(report["stages"])
        assert page[2][:4] == ["2 task generation", "02_tasks.jsonl", "8", "6"]
        assert page[2][5] == "bad_difficulty: 1malformed_json: 1"  # one reason a line

        # a rerun asks nothing again and reports the same funnel
        before = len(gen_server.requests) + len(judge_server.requests)
        again = run_persona2task(out, cfg)
        assert len(gen_server.requests) + len(judge_server.requests) == before
        assert [(r.n_in, r.n_out, r.rejects, r.usage) for r in again] == \
            [(r.n_in, r.n_out, r.rejects, r.usage) for r in results]
        with pytest.raises(ValueError, match="other settings"):
            run_persona2task(out, Persona2TaskConfig(generator=cfg.generator, n=8, seed=7, personas_file=str(personas)))


def test_killed_run_resumes_without_redoing(tmp_path: Path) -> None:
    n = 6
    personas = _personas(tmp_path, n)
    out = tmp_path / "run"
    plist = [json.loads(line)["persona"] for line in personas.read_text().splitlines()]
    cast = {p: "pass" for p in plist}
    gen = _generator(cast, delay_s=0.3)
    # distinct questions so dedup keeps them all
    def respond(body: Any) -> dict[str, Any]:
        system, user = _user_text(body)
        if system == JUDGE_SYSTEM:
            return _judge(body)
        reply = gen(body)
        who = next(p for p in plist if f"Person: {p}\n" in user)
        text = json.dumps(_task(f"For {who}: tidy input/data.csv and write output/clean_{plist.index(who)}.csv."))
        return {**reply, **text_reply(text, usage=GEN_USAGE)}

    with ScriptedModelServer(responder=respond) as server:
        cmd, env = synth_cli("persona2task", "--base-url", server.base_url, "--model", "m", "--out", str(out),
                             "--n", str(n), "--personas", str(personas), "--concurrency", "1", "--dedup", "minhash",
                             "--quiet", "--last-stage", "6")
        tasks_file = out / "02_tasks.jsonl"
        kill_midway(cmd, env, tasks_file)
        finished = set(read_records(tasks_file))
        assert 2 <= len(finished) < n, "the run was not killed midway"
        seen_before = len(server.chat_requests)

        res = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        later = [r for r in server.chat_requests[seen_before:] if r.body["messages"][0]["content"] == GENERATOR_SYSTEM]
        asked = [next(i for i, p in enumerate(plist) if f"Person: {p}\n" in r.body["messages"][-1]["content"])
                 for r in later]
        assert not {f"p{i:06d}" for i in asked} & finished  # finished items were not asked again
        assert len(later) == n - len(finished)
        report = json.loads((out / "report.json").read_text())
        assert [(s["n_in"], s["n_out"]) for s in report["stages"]] == [(n, n)] * 6
        gen_stage = report["stages"][1]
        assert gen_stage["usage"]["total_tokens"] == n * 250 and gen_stage["done_now"] == n - len(finished)
        assert "6 judge filter" in res.stdout and "report.md" in res.stdout


def _html_rows(page: str) -> list[list[str]]:
    """The text of each table row of an HTML page (a real parser: the page must be well formed)."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Rows()
    parser.feed(page)
    return parser.rows


def test_a_copy_of_the_prompts_template_is_not_a_task() -> None:
    """SmolLM2-135M answered stage 2 with the prompt's own JSON example; it parsed, so it went on to
    the judge. Each copied field is now a reject of its own kind."""
    from clawgym_env.synth.llm.persona2task import normalize_task

    copied = {"question": "The request, as the person would write it, naming input and output paths.",
              "task_type": "a few words", "scenario": "One or two sentences of context",
              "expected_behavior": ["what a correct assistant does, step by step", "..."],
              "required_operations": ["read_extract"], "has_input_files": True,
              "input_files": [{"file_path": "input/example.csv", "file_format": "csv", "content": "..."}],
              "difficulty": {"score": 3, "reason": "why 1 (trivial) to 5 (hard)"}}
    with pytest.raises(ValueError, match="template_copy: question"):
        normalize_task(copied)
    real = _task(QUESTIONS["good"])
    assert normalize_task(real)["question"] == QUESTIONS["good"]
    for field, value in (("scenario", "one or two sentences of context"),
                         ("expected_behavior", ["read the input", "..."]),
                         ("input_files", [{"file_path": "input/data.csv", "file_format": "csv", "content": " ... "}])):
        with pytest.raises(ValueError, match="template_copy"):
            normalize_task({**real, field: value})
