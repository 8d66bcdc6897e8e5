"""Our prompt texts for persona2task (stages 1, 4, 7, 8 and 9). The authors' contracts, our words.

Generation asks for one task as a JSON object with the authors' fields (question, scenario,
expected_behavior, required operations, input files with content, difficulty 1-5) and their rules
(self-contained, explicit output paths, every input used, no credentials, no live web facts). The
judge returns the two binary flags of stage 5 with a reason for each. The grader request carries
the authors' verifier contract and two rules of ours (harmless formatting must not lose points, echoes
must not earn them); the repair request adds the previous code and the sandbox's diagnostics; the
rubric request covers only what the code cannot judge, or answers a skip.
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

def _placeholders(template: str) -> frozenset[str]:
    """The example string values of an answer template, normalized as :func:`is_placeholder` does."""
    import re

    return frozenset(_norm(v) for v in re.findall(r'"([^"{}]+)"(?=\s*[,\]}])', template))


def _norm(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .,;:")


GENERATION_PLACEHOLDERS = _placeholders(_GENERATOR_USER)


def is_placeholder(text: str) -> bool:
    """True for a value copied from the generation prompt's JSON template (a small model's habit:
    the template's own example instead of a task) or an ellipsis."""
    return _norm(text) in GENERATION_PLACEHOLDERS or _norm(text) in ("", "...", "…")


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


# ---------------------------------------------------------------------------------------------- stages 7-10
VERIFIER_SYSTEM = (
    "You write automatic graders in Python for tasks done by a computer assistant in a workspace folder. "
    "You answer with one fenced Python code block and nothing else."
)

VERIFIER_CONTRACT = """- One Python file, standard library only. No network access, and never write, move or delete a file.
- Define `def grade(transcript: list, workspace_path: str) -> dict`. Ignore `transcript` (it may be
  empty); judge only the files under `workspace_path`.
- Return a dict of check name -> float in [0, 1] (1.0 / 0.0, or a fraction for partial credit; never a
  bool or a string). Names are snake_case and each names ONE atomic check (e.g. `total_matches_input`),
  not a bundle of several.
- Run as a script, `python3 check.py [workspace]` (one positional argument, default `.`) prints ONLY
  `json.dumps(grade([], workspace))`: no other output, and the same keys grade returns.
- Never crash: a missing, empty or malformed file gives 0.0 to the checks that need it (catch the error).
- No points for what exists before the assistant works: the input files below are already in the
  workspace, and a placeholder file at each output path must score 0.0 on every check. Existence alone
  earns nothing: every check looks at content.
- Recompute every expected value (totals, counts, rankings, selected records) from the input files
  inside grade(); never hard-code answers you worked out yourself.
- Harmless formatting differences must not lose points: JSON key order and indentation, 3 vs 3.0, CSV
  quoting and spacing, Markdown table pipes and alignment, heading case, trailing newlines. Compare
  parsed values (json.loads, csv.reader), numbers with a small tolerance, names case-insensitively.
- Writing the question, or copying an input file, into an output must not earn points: check for the
  facts the work produces, not for words the question or the inputs already contain."""

_VERIFIER_USER = """Write the grader for the task below, in one ```python block.

The grader's contract:
{contract}

Task:
{task}

Output files the task names: {outputs}"""

_REPAIR_USER = """Your grader for the task below failed our checks (we compile it, then run it on an empty
workspace and on one holding only the input files and a placeholder at each output path; both must
score 0.0). Fix it and answer with the whole corrected file in one ```python block.

What failed:
{diagnostics}

Your previous grader:
```python
{code}
```

The grader's contract:
{contract}

Task:
{task}

Output files the task names: {outputs}"""

RUBRIC_SYSTEM = (
    "You write grading rubrics that an LLM judge applies to the output files of a computer assistant. "
    "You answer with one JSON object and nothing else."
)

_RUBRIC_USER = """The task below already has a code grader (shown) that checks everything a program can check.
Write a rubric ONLY for the subjective qualities that code cannot judge (for example tone, clarity,
faithfulness of a summary, soundness of a recommendation), without repeating what the code checks.
If nothing subjective matters for this task, answer {{"skip_rubric": true, "reason": "..."}}.

Rules:
- 2 to 5 rules, each with a unique snake_case "name" and judging ONE output file, given as "file_path",
  one of: {outputs}.
- "scores" has exactly the five bands "0", "0.25", "0.5", "0.75", "1", each a distinct, concrete
  description of work that earns it.

Task:
{task}

Code grader:
```python
{code}
```

Answer with exactly this JSON object (or the skip object):
{{"rules": [{{"name": "clear_summary", "file_path": "output/summary.md", "scores": {{"0": "...", "0.25": "...",
"0.5": "...", "0.75": "...", "1": "..."}}}}]}}"""


def _task_text(task: dict[str, Any]) -> str:
    shown = {k: task[k] for k in ("question", "expected_behavior", "input_files") if k in task}
    return json.dumps(shown, ensure_ascii=False, indent=2)


def _outputs_text(outputs: list[str]) -> str:
    return ", ".join(f"`{p}`" for p in outputs) if outputs else "(none found: use the paths the question names)"


def verifier_messages(task: dict[str, Any], outputs: list[str]) -> list[dict[str, Any]]:
    """Stage 7: the grader request (the authors' contract, our words, plus formatting tolerance)."""
    user = _VERIFIER_USER.format(contract=VERIFIER_CONTRACT, task=_task_text(task), outputs=_outputs_text(outputs))
    return [{"role": "system", "content": VERIFIER_SYSTEM}, {"role": "user", "content": user}]


def verifier_repair_messages(task: dict[str, Any], outputs: list[str], code: str,
                             diagnostics: str) -> list[dict[str, Any]]:
    """Stage 8, rounds 2+: the previous code and what failed in the sandbox."""
    user = _REPAIR_USER.format(diagnostics=diagnostics or "(no diagnostics)", code=code or "# (no code was found)",
                               contract=VERIFIER_CONTRACT, task=_task_text(task), outputs=_outputs_text(outputs))
    return [{"role": "system", "content": VERIFIER_SYSTEM}, {"role": "user", "content": user}]


def rubric_messages(task: dict[str, Any], outputs: list[str], check_py: str) -> list[dict[str, Any]]:
    """Stage 9: a rubric for what the code grader cannot check, or a skip."""
    user = _RUBRIC_USER.format(outputs=_outputs_text(outputs), task=_task_text(task), code=check_py)
    return [{"role": "system", "content": RUBRIC_SYSTEM}, {"role": "user", "content": user}]


__all__ = [
    "FILE_FORMATS",
    "GENERATION_PLACEHOLDERS",
    "GENERATOR_SYSTEM",
    "JUDGE_SYSTEM",
    "OPERATION_TEXT",
    "RUBRIC_SYSTEM",
    "VERIFIER_CONTRACT",
    "VERIFIER_SYSTEM",
    "generation_messages",
    "is_placeholder",
    "judge_messages",
    "rubric_messages",
    "verifier_messages",
    "verifier_repair_messages",
]
