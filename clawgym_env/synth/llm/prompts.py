"""Our prompt texts for persona2task (stages 1 and 4). The authors' contracts, our words.

Generation asks for one task as a JSON object with the authors' fields (question, scenario,
expected_behavior, required operations, input files with content, difficulty 1-5) and their rules
(self-contained, explicit output paths, every input used, no credentials, no live web facts). The
judge returns the two binary flags of stage 5 with a reason for each.
"""

from __future__ import annotations

import json
from typing import Any

from clawgym_env.synth.taxonomy import ADDED_OPERATIONS, OPERATION_FROM_SEEDS

FILE_FORMATS = ("txt", "csv", "json", "jsonl", "md", "tsv", "yaml", "xml", "html", "py")

_ADDED_TEXT = {
    "organize_files": "move, rename or sort files into folders",
    "archive_files": "pack files into an archive or unpack one",
    "update_config": "change settings in a configuration file",
    "join_enrich": "join records from two sources and add derived fields",
    "clean_dedupe": "normalize messy records and remove duplicates",
    "schedule_plan": "build a schedule or plan under constraints",
    "organize_knowledge": "organize notes into an index or knowledge base",
}
OPERATION_TEXT: dict[str, str] = {op: text for text, op in OPERATION_FROM_SEEDS.items()} | _ADDED_TEXT
"""Each of our 26 operations in words (the seed action's text where there is one)."""
assert set(ADDED_OPERATIONS) <= set(OPERATION_TEXT)

GENERATOR_SYSTEM = (
    "You design realistic, checkable tasks for a personal computer assistant that works inside a sandboxed "
    "workspace folder with a shell, a file editor and (sometimes) a web browser. You answer with one JSON "
    "object and nothing else."
)

_GENERATOR_USER = """Invent ONE task that the person below would really hand to their assistant.

Person: {persona}
Scenario: {category} / {subcategory}
The task must need these operations (it may use others too):
{operations}

Rules:
- Self-contained: everything the assistant needs is in the question or in the input files you provide.
  No real accounts, passwords, API keys, private servers or paid services.
- Name every output file with an explicit path relative to the workspace (for example `output/summary.md`),
  and say what format and content it must have, so a program can check it.
- Every input file you provide must be needed by the task. Give its full, realistic content
  (formats: {formats}).
- Do not state the answer in the question: the assistant has to work it out from the files.
- Only ask for the web when the task truly needs it; never give a URL, and never ask for facts that
  change over time (prices today, current news).

Answer with this JSON object:
{{
  "question": "the request, as the person would write it, naming input and output paths",
  "task_type": "a few words",
  "scenario": "one or two sentences of context",
  "expected_behavior": ["what a correct assistant does, step by step", "..."],
  "required_operations": ["operation ids from the list above"],
  "has_input_files": true,
  "input_files": [{{"file_path": "input/example.csv", "file_format": "csv", "content": "..."}}],
  "difficulty": {{"score": 3, "reason": "why 1 (trivial) to 5 (hard)"}}
}}"""

JUDGE_SYSTEM = "You are a careful reviewer of tasks written for a computer assistant. You answer with JSON only."

_JUDGE_USER = """Review this task for two defects.

1. has_factual_error: the task cannot be done as written: it contradicts itself or its input files,
   relies on something the assistant cannot have (a missing file, a private system, a real account), or
   states something plainly false.
2. has_answer_leak: the question or scenario already gives away the result the assistant is asked to
   produce, so no real work is needed.

Task:
{task}

Answer with exactly this JSON object (flags are 0 or 1):
{{"has_factual_error": 0, "factual_error_reason": "...", "has_answer_leak": 0, "answer_leak_reason": "..."}}"""


def generation_messages(persona: str, category: str, subcategory: str, operations: list[str]) -> list[dict[str, Any]]:
    ops = "\n".join(f"- {op}: {OPERATION_TEXT.get(op, op)}" for op in operations)
    user = _GENERATOR_USER.format(persona=persona, category=category, subcategory=subcategory, operations=ops,
                                  formats=", ".join(FILE_FORMATS))
    return [{"role": "system", "content": GENERATOR_SYSTEM}, {"role": "user", "content": user}]


def judge_messages(task: dict[str, Any]) -> list[dict[str, Any]]:
    shown = {k: task[k] for k in ("question", "scenario", "expected_behavior", "input_files") if k in task}
    user = _JUDGE_USER.format(task=json.dumps(shown, ensure_ascii=False, indent=2))
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


__all__ = ["FILE_FORMATS", "GENERATOR_SYSTEM", "JUDGE_SYSTEM", "OPERATION_TEXT", "generation_messages",
           "judge_messages"]
