"""Our prompt texts for skill2task (specs/clawgym-reference.md §E2). The authors' contracts, our words.

Five requests per primary skill: annotate the skill (stage 1, every drawn skill), write one task
grounded in the primary skill and its supporting skills (stage 3), write the task's input files as
``===FILE: ./input_files/<path> | <desc>===`` blocks (stage 4), write the reward package as
``./reward/reward.sh`` + ``./reward/check.py`` blocks (stage 5), and a rubric for what code cannot
judge (stage 6). Each has its own system prompt, so a reader of a request log can tell them apart.
"""

from __future__ import annotations

from typing import Any

from clawgym_env.synth.llm.prompts import FILE_FORMATS
from clawgym_env.synth.llm.skills import Skill
from clawgym_env.synth.taxonomy import SCENARIOS

ANNOTATE_SYSTEM = ("You catalogue skills written for a personal computer assistant: you read a skill's "
                   "documentation and describe it precisely. You answer with one JSON object and nothing else.")
TASK_SYSTEM = ("You design realistic, checkable tasks for a personal computer assistant that works only on text "
               "files inside a sandboxed workspace folder. You answer with JSON only.")
FILES_SYSTEM = ("You write the input files of a task for a computer assistant: fictional, realistic and "
                "consistent with each other. You answer with file blocks only.")
REWARD_SYSTEM = ("You write deterministic Python verifiers that score what a computer assistant left in its "
                 "workspace. You answer with file blocks only.")
RUBRIC_SYSTEM = ("You write grading rubrics for the parts of a task's result that a program cannot judge. "
                 "You answer with JSON only.")

_ANNOTATE_USER = """Read this skill and describe it.

Skill id: {skill_id}
Skill name: {name}
Description: {description}

Documentation:
<<<
{text}
>>>

Answer with exactly this JSON object:
{{
  "language": "the language the documentation is written in, e.g. English",
  "summary": "what the skill lets the assistant do, in one or two sentences",
  "auth_required": false,
  "auth_details": "the accounts, API keys, tokens or logins it needs, or an empty string",
  "input_format": "what the skill works from (files, text, data formats)",
  "output_format": "what it produces",
  "has_risk": false,
  "risk_reasons": ["why it could cause harm (money, deletion, messages sent to people), if it could"],
  "required_env": ["programs, services or environment variables it needs"],
  "text_only_compatible": true,
  "non_text_reasons": ["why it needs more than reading and writing text files (images, audio, video, a GUI, devices, a live service), if it does"],
  "core_content": "the know-how of the skill that a task could exercise without the skill's tools, in a short paragraph"
}}
auth_required is true when the skill cannot work without an account, a key, a token or a login.
text_only_compatible is true when its core can be exercised by reading and writing text files alone."""

_TASK_USER = """Design {count} for a computer assistant, grounded in the primary skill below and really
needing every supporting skill too.

Primary skill: {primary_id}
{primary}

Supporting skills:
{supporting}

Rules:
- Write in English, as a user would ask. The assistant works offline on text files in its workspace.
- Paths are relative: inputs under input/, results under output/ (for example `input/orders.csv` and
  `output/report.md`). Name every output file the assistant must write, its format and what it must hold,
  so a program can check it.
- Files use only these formats: {formats}. No images, audio, video or other media.
- Do not name tools, MCP servers, libraries, command-line programs or services: describe the work.
- No accounts, passwords, keys or live data; everything needed is in the request or its input files.
- Prefer difficulty 3 to 5 (1 trivial, 5 hard).
- category is one of: {categories}.

Answer with this JSON object:
{{"tasks": [{{
  "user_query": "the request, naming its input and output paths",
  "category": "one of the categories above",
  "requires_input_files": true,
  "input_files": [{{"path": "input/example.csv", "description": "what the file holds, briefly"}}],
  "reward_type": "output_files",
  "reward_summary": "how the output files are judged",
  "expected_behaviors": ["what a correct assistant does", "..."],
  "difficulty": 4,
  "difficulty_reason": "why"
}}]}}"""

_FILES_USER = """Write the input files of this task.

Task: {query}

Files to write (path: description):
{files}

Rules: fictional but realistic data, consistent across files and with the task; enough of it that the task
takes real work; no secrets or real personal data. Write each file as a block:

===FILE: ./input_files/<path> | <one-line description>===
<the file's full content>

where <path> is the file's path inside input/ (for `input/orders.csv` write `./input_files/orders.csv`).
Write exactly these files, nothing before the first block and nothing else."""

_REWARD_USER = """Write the verifier of this task.

Task: {query}

Expected behaviour:
{behaviors}

How the result is judged: {summary}

Input files (in the workspace under input/):
{inputs}

Write two files as blocks:

===FILE: ./reward/reward.sh | entry point===
<a bash script that runs check.py on the workspace root and prints its output>
===FILE: ./reward/check.py | the checks===
<Python 3>

check.py rules:
- Python standard library only; no network; never write anything.
- The workspace root is sys.argv[1]. Score only files under output/ (the inputs are there before any work).
- Recompute what the files must hold from the inputs; check exact values where the task fixes them.
- A rubric judges the subjective parts (tone, style, quality of prose): check only what is deterministic.
- If nothing was done (no output/ files), the reward must be exactly 0.0.
- Print one line of JSON as the last line of output: its first key is "reward" (a number from 0 to 1,
  the share of checks passed), every other key is one check's name with a true/false value.
  Example: {{"reward": 0.5, "summary_exists": true, "totals_correct": false}}"""

_RUBRIC_USER = """Write a rubric for the parts of this task's result that the code below does not check
(quality of writing, fitness for the reader, soundness of judgement).

Task: {query}

Expected behaviour:
{behaviors}

Output files the task asks for: {outputs}

The code verifier already checks:
```python
{check_py}
```

Answer with this JSON object: 2 to 5 rules, each about one output file, each band saying what earns it.
{{"rules": [{{"name": "snake_case_name", "file_path": "output/report.md",
  "scores": {{"0": "...", "0.25": "...", "0.5": "...", "0.75": "...", "1": "..."}}}}]}}"""


def _skill_card(skill: Skill, annotation: dict[str, Any]) -> str:
    parts = [f"Name: {skill.name}", f"Description: {skill.description}"]
    for key, label in (("summary", "Summary"), ("core_content", "Core know-how"), ("input_format", "Works from"),
                       ("output_format", "Produces")):
        if annotation.get(key):
            parts.append(f"{label}: {annotation[key]}")
    return "\n".join(parts)


def annotate_messages(skill: Skill) -> list[dict[str, Any]]:
    user = _ANNOTATE_USER.format(skill_id=skill.id, name=skill.name, description=skill.description, text=skill.text)
    return [{"role": "system", "content": ANNOTATE_SYSTEM}, {"role": "user", "content": user}]


def task_messages(primary: tuple[Skill, dict[str, Any]], supporting: list[tuple[Skill, dict[str, Any]]],
                  n: int = 1) -> list[dict[str, Any]]:
    sup = "\n\n".join(f"- {s.id}\n{_skill_card(s, a)}" for s, a in supporting) or "(none)"
    count = "one task" if n == 1 else f"{n} tasks"
    user = _TASK_USER.format(count=count, primary_id=primary[0].id, primary=_skill_card(*primary), supporting=sup,
                             formats=", ".join(FILE_FORMATS), categories="; ".join(SCENARIOS))
    return [{"role": "system", "content": TASK_SYSTEM}, {"role": "user", "content": user}]


def input_files_messages(task: dict[str, Any]) -> list[dict[str, Any]]:
    files = "\n".join(f"- {f['path']}: {f['description']}" for f in task["input_files"])
    user = _FILES_USER.format(query=task["user_query"], files=files)
    return [{"role": "system", "content": FILES_SYSTEM}, {"role": "user", "content": user}]


def reward_messages(task: dict[str, Any], files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    inputs = "\n\n".join(f"--- {f['file_path']} ---\n{f['content']}" for f in files) or "(none)"
    user = _REWARD_USER.format(query=task["user_query"], behaviors=_bullets(task["expected_behaviors"]),
                               summary=task["reward_summary"], inputs=inputs)
    return [{"role": "system", "content": REWARD_SYSTEM}, {"role": "user", "content": user}]


def rubric_messages(task: dict[str, Any], outputs: list[str], check_py: str) -> list[dict[str, Any]]:
    user = _RUBRIC_USER.format(query=task["user_query"], behaviors=_bullets(task["expected_behaviors"]),
                               outputs=", ".join(outputs) or "(see the task)", check_py=check_py)
    return [{"role": "system", "content": RUBRIC_SYSTEM}, {"role": "user", "content": user}]


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {b}" for b in items)


__all__ = ["ANNOTATE_SYSTEM", "FILES_SYSTEM", "REWARD_SYSTEM", "RUBRIC_SYSTEM", "TASK_SYSTEM", "annotate_messages",
           "input_files_messages", "reward_messages", "rubric_messages", "task_messages"]
