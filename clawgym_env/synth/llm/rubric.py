"""persona2task stages 10-11 (specs/clawgym-reference.md §E1): read the rubric answer, then hold it
to a strict schema and emit the candidate records the proof stages take.

A rubric is 2-5 rules ``{name, file_path, scores}`` with exactly those keys, unique names, a
``file_path`` among the task's output paths, and ``scores`` keyed exactly "0", "0.25", "0.5", "0.75",
"1" with distinct non-empty texts: the shape ``data_entry.rules`` and the rubric judge use. A model
may instead answer a skip (the code checks everything that matters); unlike the authors' stage 12,
which read only the rubric's pass file and so dropped every skipped task, a skip is kept with
``rules = None``. A rubric that breaks the schema is rejected (``bad_rubric: detail``), not repaired.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

from clawgym_env.synth.llm.jsonout import NoJSON, extract_json_object
from clawgym_env.synth.llm.scaffold import output_paths
from clawgym_env.synth.llm.stages import Record, StageResult, summarize

BANDS = ("0", "0.25", "0.5", "0.75", "1")
RULE_KEYS = frozenset({"name", "file_path", "scores"})
MIN_RULES, MAX_RULES = 2, 5


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1")) or value == 1


def parse_rubric(item: Record, text: str) -> Record:
    """Stage 10's reading of one answer: a skip (``llm_rubric_skip``), the raw ``rules`` for stage
    11 to judge, or ``rubric_unparsed``."""
    try:
        data = extract_json_object(text)
    except NoJSON as exc:
        return {"ok": False, "reason": f"rubric_unparsed: {exc}"}
    if _truthy(data.get("skip_rubric")):
        return {"ok": True, "reason": None, "llm_rubric_skip": True, "skip_reason": str(data.get("reason") or "")}
    if "rules" not in data:
        return {"ok": False, "reason": "rubric_unparsed: neither \"rules\" nor \"skip_rubric\" in the answer"}
    return {"ok": True, "reason": None, "llm_rubric_skip": False, "rules": data["rules"]}


def check_rules(rules: Any, outputs: list[str] | None) -> list[dict[str, Any]]:
    """The rules as stored (``file_path`` without a leading ``./``); ValueError(detail) on the first
    schema violation. ``outputs``: the task's output paths a rule may name; None: any path under
    ``output/`` (skill2task's contract)."""
    if not isinstance(rules, list):
        raise ValueError(f"rules is a {type(rules).__name__}, not a list")
    if not MIN_RULES <= len(rules) <= MAX_RULES:
        raise ValueError(f"{len(rules)} rules, expected {MIN_RULES}-{MAX_RULES}")
    clean, names = [], set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ValueError(f"rule {i} is a {type(rule).__name__}, not an object")
        if set(rule) != RULE_KEYS:
            extra, missing = sorted(set(rule) - RULE_KEYS), sorted(RULE_KEYS - set(rule))
            raise ValueError(f"rule {i} keys: extra {extra}, missing {missing}")
        name, file_path, scores = rule["name"], rule["file_path"], rule["scores"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"rule {i} has no name")
        if name.strip() in names:
            raise ValueError(f"rule name {name.strip()!r} is used twice")
        names.add(name.strip())
        path = posixpath.normpath(file_path.strip()) if isinstance(file_path, str) and file_path.strip() else ""
        if outputs is None:
            if not path.startswith("output/") or ".." in path.split("/"):
                raise ValueError(f"rule {name!r}: file_path {file_path!r} is not under output/")
        elif path not in outputs:
            raise ValueError(f"rule {name!r}: file_path {file_path!r} is not an output path of the task "
                             f"({', '.join(outputs) or 'it names none'})")
        if not isinstance(scores, dict) or set(scores) != set(BANDS):
            got = sorted(scores) if isinstance(scores, dict) else type(scores).__name__
            raise ValueError(f"rule {name!r}: score keys {got}, expected exactly {list(BANDS)}")
        texts = [scores[b] for b in BANDS]
        if not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError(f"rule {name!r}: every band needs a non-empty text")
        if len({t.strip().casefold() for t in texts}) != len(BANDS):
            raise ValueError(f"rule {name!r}: band texts are not distinct")
        clean.append({"name": name.strip(), "file_path": path, "scores": {b: scores[b].strip() for b in BANDS}})
    return clean


def candidate(item: Record, rules: list[dict[str, Any]] | None) -> Record:
    """The shared contract's candidate record (route persona2task, grade-style verifier)."""
    return {"id": item["id"], "ok": True, "reason": None, "route": "persona2task", "category": item["category"],
            "subcategory": item.get("subcategory"), "task": item["task"], "check_py": item["check_py"],
            "check_style": "grade", "rules": rules,
            "metadata": {"persona": item.get("persona"), "persona_index": item.get("persona_index"),
                         "operations": item.get("operations"), "verdict": item.get("verdict"),
                         "llm_rubric_skip": rules is None}}


def rubric_filter(path: Path, items: list[Record], name: str = "11 rubric filter") -> StageResult:
    """Stage 11 over the stage-10 records (merged with their items): kept records are candidates,
    a skip included. Derived, so rewritten every run."""
    records = []
    for it in items:
        if it.get("llm_rubric_skip"):
            records.append(candidate(it, None))
            continue
        try:
            rules = check_rules(it.get("rules"), output_paths(it["task"]))
        except ValueError as exc:
            records.append({"id": it["id"], "ok": False, "reason": f"bad_rubric: {exc}", "rules": it.get("rules")})
            continue
        records.append(candidate(it, rules))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)
    return summarize(name, path, (it["id"] for it in items), {r["id"]: r for r in records})


__all__ = ["BANDS", "MAX_RULES", "MIN_RULES", "candidate", "check_rules", "parse_rubric", "rubric_filter"]
