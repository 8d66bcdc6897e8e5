"""skill2task (specs/clawgym-reference.md §E2): real OpenClaw skills, combined, become tasks with
input files, a reward package and a rubric, filtered by running the verifier on the no-op.

Stages and their files in the run folder (one JSONL each, keyed by ``id`` = ``s<index>``, the
skill's place in the seeded draw from the corpus):

1. ``01_annotations.jsonl``: the model describes each drawn skill; synthesisable iff not
   ``auth_required`` and ``text_only_compatible`` (and English with ``english_only``).
2. ``02_combos.jsonl``: each synthesisable skill is a primary with ``combo_skill_count`` supporting
   skills drawn (seeded per primary) from the other synthesisable skills of the draw.
3. ``03_tasks.jsonl``: ``TASKS_PER_SKILL`` task(s) per primary (English, relative ``input/`` and
   ``output/`` paths, our 10 text formats, no media, output files as the reward).
4. ``04_input_files.jsonl``: the promised input files as ``===FILE: ./input_files/<path> | <desc>===``
   blocks, parsed strictly.
5. ``05_reward.jsonl``: ``./reward/reward.sh`` and ``./reward/check.py`` blocks.
6. ``06_rubric.jsonl``: 2-5 rules for what code cannot judge, strict schema.
7. ``07_filter.jsonl``: ``bash -n``, ``ast.parse``, stdlib-only imports, then check.py through the
   authors' template reward.sh on the untouched inputs in our sandbox: the no-op must score exactly 0.
   Kept records are candidate records (the synth-llm contract) for the proof stages.

``config.json`` pins what decides the draw and the prompts (a rerun with other settings is refused);
every stage is resumable (a rerun does only the ids its file lacks); ``report.md/json/html`` hold the
funnel.
"""

from __future__ import annotations

import ast
import hashlib
import math
import posixpath
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.synth.llm.client import ModelSpec, StageClient
from clawgym_env.synth.llm.jsonout import NoJSON, extract_json_object, read_flag
from clawgym_env.synth.llm.prompts import FILE_FORMATS
from clawgym_env.synth.llm.skill_prompts import (
    annotate_messages,
    input_files_messages,
    reward_messages,
    rubric_messages,
    task_messages,
)
from clawgym_env.synth.llm.skills import Skill, draw, scan_skills
from clawgym_env.synth.llm.stages import (
    Record,
    StageResult,
    StageWriter,
    pin_config,
    read_records,
    run_llm_stage,
    summarize,
)

STAGE_FILES = {1: "01_annotations.jsonl", 2: "02_combos.jsonl", 3: "03_tasks.jsonl", 4: "04_input_files.jsonl",
               5: "05_reward.jsonl", 6: "06_rubric.jsonl", 7: "07_filter.jsonl", 8: "08_references.jsonl",
               9: "09_proof.jsonl", 10: "10_assembled.jsonl"}
TASKS_PER_SKILL = 1
NOOP_TIMEOUT_S = 60.0
"""The authors' filter timeout for reward.sh at no-op."""
REWARD_FILES = ("reward.sh", "check.py")
MEDIA_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "ico", "heic", "mp3", "wav",
                    "flac", "ogg", "m4a", "aac", "mp4", "mov", "avi", "mkv", "webm", "pdf", "docx", "xlsx", "pptx")


@dataclass
class Skill2TaskConfig:
    generator: ModelSpec
    skills_root: str
    n: int = 10
    """Skills drawn from the corpus and annotated; the synthesisable ones are the primaries."""
    seed: int = 42
    combo_skill_count: int = 3
    english_only: bool = False
    concurrency: int = 8
    jobs: int = 2
    """Sandboxes at once in the filter stage."""
    backend: str = "bwrap"
    noop_timeout_s: float = NOOP_TIMEOUT_S
    progress: bool = True
    reference: ModelSpec | None = None
    """Writes the reference solutions of stage 8; None: the generator."""
    last_stage: int = 10
    """7: stop after the authors' filter; 10: prove each verifier and write task folders (stages 8-10)."""
    extra: dict[str, Any] = field(default_factory=dict)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


# ---------------------------------------------------------------------------------------------- stage 1
def normalize_annotation(data: dict[str, Any]) -> dict[str, Any]:
    """The annotation contract; raises ValueError('malformed_json: ...') on a missing or mistyped field."""
    out: dict[str, Any] = {}
    for key in ("language", "summary", "core_content"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"malformed_json: {key} is not a non-empty string")
        out[key] = value.strip()
    for key in ("auth_required", "text_only_compatible", "has_risk"):
        flag = read_flag(data.get(key, False if key == "has_risk" else None))
        if flag is None:
            raise ValueError(f"malformed_json: {key} is not true/false")
        out[key] = flag
    for key in ("auth_details", "input_format", "output_format"):
        out[key] = str(data.get(key) or "").strip()
    for key in ("risk_reasons", "required_env", "non_text_reasons"):
        out[key] = _strings(data.get(key))
    return out


def is_english(language: str) -> bool:
    lang = language.strip().lower()
    return lang in ("en", "eng") or lang.startswith(("english", "en-", "en_"))


def parse_annotation(item: Record, text: str, *, english_only: bool = False) -> Record:
    """Stage 1: the annotation and whether the skill is synthesisable (the reject says why not)."""
    try:
        annotation = normalize_annotation(extract_json_object(text))
    except NoJSON as exc:
        return {"ok": False, "reason": f"malformed_json: {exc}", "skill_id": item["skill_id"]}
    except ValueError as exc:
        return {"ok": False, "reason": str(exc), "skill_id": item["skill_id"]}
    reason = None
    if annotation["auth_required"]:
        reason = f"auth_required: {annotation['auth_details'] or 'needs an account or a key'}"
    elif not annotation["text_only_compatible"]:
        reason = f"not_text_only: {'; '.join(annotation['non_text_reasons']) or 'needs more than text files'}"
    elif english_only and not is_english(annotation["language"]):
        reason = f"not_english: {annotation['language']}"
    return {"ok": reason is None, "reason": reason, "skill_id": item["skill_id"], "annotation": annotation}


# ---------------------------------------------------------------------------------------------- stage 2
def plan_combos(path: Path, pool: list[Record], k: int, seed: int) -> StageResult:
    """Stage 2: a primary keeps the combo first planned for it; a new one draws ``k`` supporting
    skills (fewer if the pool is smaller) from the other synthesisable skills, seeded by its id."""
    done = read_records(path)
    todo = [it for it in pool if it["id"] not in done]
    if todo:
        with StageWriter(path) as writer:
            for it in todo:
                others = sorted((o["skill_id"], o["id"]) for o in pool if o["id"] != it["id"])
                rng = random.Random(f"skill2task-combo-{seed}-{it['skill_id']}")
                chosen = rng.sample(others, min(k, len(others)))
                writer.write({"id": it["id"], "ok": True, "reason": None, "primary_skill_id": it["skill_id"],
                              "supporting_skill_ids": [s for s, _ in chosen], "supporting_ids": [i for _, i in chosen]})
    return summarize("2 combine", path, (it["id"] for it in pool), read_records(path), done_now=len(todo))


# ---------------------------------------------------------------------------------------------- stage 3
_EXT = "|".join(sorted(set(FILE_FORMATS) | set(MEDIA_EXTENSIONS) | {"yml", "ini", "toml", "sh", "js", "ts", "sql",
                                                                     "htm", "zip", "gz", "tar", "log", "ipynb"},
                       key=len, reverse=True))
_PATH_TOKEN = re.compile(r"(?<![\w.~/\\-])((?:~|\.{1,2})?[/\\]?(?:[\w.-]+[/\\])*[\w-][\w.-]*\.(?:" + _EXT
                         + r"))(?![\w/-])", re.IGNORECASE)
_TOOL_WORDS = re.compile(r"\b(MCP|pip install|npm install|apt-get|brew install)\b", re.IGNORECASE)


def _ext(path: str) -> str:
    base = posixpath.basename(path)
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def safe_relative(path: str) -> str | None:
    """``path`` normalized (``./`` dropped) if it is relative and stays inside; else None."""
    if not path or "\\" in path or path.startswith(("/", "~")):
        return None
    norm = posixpath.normpath(path.strip())
    if norm in (".", "") or norm.startswith("..") or "/../" in f"/{norm}/":
        return None
    return norm


def query_paths(text: str) -> list[str]:
    """Every file path with an extension in ``text`` (as written), in order of first mention."""
    out: list[str] = []
    for m in _PATH_TOKEN.finditer(text):
        if m.group(1) not in out:
            out.append(m.group(1))
    return out


def _check_paths(text: str) -> list[str]:
    """The output paths of a request; raises ValueError('kind: detail') on a path it may not name."""
    outputs = []
    for raw in query_paths(text):
        ext = _ext(raw)
        if ext in MEDIA_EXTENSIONS:
            raise ValueError(f"media: {raw!r}")
        if "/" not in raw and "\\" not in raw:
            continue  # a bare file name: where it lives is up to the task's other paths
        path = safe_relative(raw.removeprefix("./"))
        if path is None:
            raise ValueError(f"bad_path: {raw!r} is absolute or leaves the workspace")
        if path.split("/", 1)[0] not in ("input", "output"):
            raise ValueError(f"bad_path: {raw!r} is outside input/ and output/")
        if ext not in FILE_FORMATS:
            raise ValueError(f"bad_format: {raw!r} is not one of {', '.join(FILE_FORMATS)}")
        if path.startswith("output/") and path not in outputs:
            outputs.append(path)
    return outputs


def _mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return not letters or sum(ord(c) > 0x24F for c in letters) <= 0.1 * len(letters)


def normalize_skill_task(data: dict[str, Any]) -> dict[str, Any]:
    """Stage 3's task contract; raises ValueError('kind: detail') on the first violation."""
    from clawgym_env.synth.taxonomy import SCENARIOS

    query = data.get("user_query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("missing_field: user_query (a non-empty string)")
    query = query.strip()
    if not _mostly_latin(query):
        raise ValueError("not_english: the request is not written in English")
    if m := _TOOL_WORDS.search(query):
        raise ValueError(f"names_tool: {m.group(1)!r}")
    outputs = _check_paths(query)
    if not outputs:
        raise ValueError("no_output_path: the request names no file under output/")
    if data.get("reward_type") != "output_files":
        raise ValueError(f"bad_reward_type: {data.get('reward_type')!r} (expected 'output_files')")
    files = data.get("input_files") or []
    if not isinstance(files, list):
        raise ValueError("bad_input_files: input_files is not a list")  # noqa: TRY004 - a reject reason
    inputs, seen = [], set()
    for f in files:
        if isinstance(f, str):
            raw, desc = (f.split(":", 1) + [""])[:2] if ":" in f else (f, "")
        elif isinstance(f, dict):
            raw, desc = f.get("path") or f.get("file_path"), f.get("description") or ""
        else:
            raw, desc = None, ""
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("bad_input_files: each needs a path")
        path = safe_relative(raw.strip().removeprefix("./"))
        if path is None or not path.startswith("input/"):
            raise ValueError(f"bad_path: input file {raw!r} is not a relative path under input/")
        if _ext(path) in MEDIA_EXTENSIONS:
            raise ValueError(f"media: {raw!r}")
        if _ext(path) not in FILE_FORMATS:
            raise ValueError(f"bad_format: {raw!r} is not one of {', '.join(FILE_FORMATS)}")
        if path in seen:
            raise ValueError(f"bad_input_files: {path!r} listed twice")
        seen.add(path)
        inputs.append({"path": path, "description": str(desc).strip()})
    needs = read_flag(data.get("requires_input_files", bool(inputs)))
    if needs is None or needs != bool(inputs):
        raise ValueError("bad_input_files: requires_input_files disagrees with input_files")
    summary = data.get("reward_summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ValueError("missing_field: reward_summary (a non-empty string)")
    behaviors = _strings(data.get("expected_behaviors"))
    if not behaviors:
        raise ValueError("missing_field: expected_behaviors (a list of strings)")
    score = data.get("difficulty")
    if isinstance(score, dict):
        score = score.get("score")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValueError(f"bad_difficulty: an integer 1-5, got {score!r}")
    category = str(data.get("category") or "").strip()
    return {"user_query": query, "category": category if category in SCENARIOS else "Uncategorized",
            "category_given": category, "requires_input_files": bool(inputs), "input_files": inputs,
            "output_paths": outputs, "reward_type": "output_files", "reward_summary": summary.strip(),
            "expected_behaviors": behaviors, "difficulty": score,
            "difficulty_reason": str(data.get("difficulty_reason") or "").strip()}


def parse_tasks(item: Record, text: str) -> Record:
    """Stage 3: ``{"tasks": [...]}``, a bare array or one task object; the first TASKS_PER_SKILL."""
    try:
        data = extract_json_object(text)
    except NoJSON as exc:
        return {"ok": False, "reason": f"malformed_json: {exc}"}
    tasks = data.get("tasks", [data])
    if not isinstance(tasks, list) or len(tasks) < TASKS_PER_SKILL or not all(isinstance(t, dict) for t in tasks):
        return {"ok": False, "reason": f"malformed_json: expected {TASKS_PER_SKILL} task object(s) in 'tasks'"}
    try:
        task = normalize_skill_task(tasks[0])
    except ValueError as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "reason": None, "task": task}


# ---------------------------------------------------------------------------------------------- stages 4-5
_BLOCK = re.compile(r"^===\s*FILE:\s*(?P<path>[^|\n]*?)\s*(?:\|(?P<desc>[^\n]*?))?\s*===[ \t]*$", re.MULTILINE)


class BlockError(ValueError):
    """A file block answer that breaks the format; ``str(exc)`` is the reject reason."""


def parse_file_blocks(text: str, prefix: str) -> list[tuple[str, str, str]]:
    """``(path below prefix, description, content)`` of each ``===FILE: <prefix><path> | <desc>===``
    block. Text before the first block is ignored; a content wrapped in one code fence is unwrapped."""
    heads = list(_BLOCK.finditer(text or ""))
    if not heads:
        raise BlockError("no_file_blocks: the answer has no ===FILE: ...=== block")
    out, seen = [], set()
    for i, m in enumerate(heads):
        raw = m.group("path").strip()
        bare = raw.removeprefix("./")
        if not bare.startswith(prefix):
            raise BlockError(f"unsafe_path: {raw!r} is not ./{prefix}<path>")
        rel = safe_relative(bare[len(prefix):])
        if rel is None:
            raise BlockError(f"unsafe_path: {raw!r}")
        if rel in seen:
            raise BlockError(f"duplicate_file: {rel!r}")
        seen.add(rel)
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.end():end].removeprefix("\n")
        lines = body.strip("\n").split("\n")
        if len(lines) >= 2 and lines[0].lstrip().startswith("```") and lines[-1].strip() == "```":
            body = "\n".join(lines[1:-1])
        content = body.rstrip() + "\n" if body.strip() else ""
        out.append((rel, (m.group("desc") or "").strip(), content))
    return out


def parse_input_files(item: Record, text: str) -> Record:
    """Stage 4: exactly the promised files, each a safe path under input/ with one of our formats."""
    try:
        blocks = parse_file_blocks(text, "input_files/")
    except BlockError as exc:
        return {"ok": False, "reason": str(exc)}
    files = []
    for rel, desc, content in blocks:
        path = rel if rel.startswith("input/") else f"input/{rel}"
        if _ext(path) not in FILE_FORMATS:
            return {"ok": False, "reason": f"bad_extension: {path!r} is not one of {', '.join(FILE_FORMATS)}"}
        if not content:
            return {"ok": False, "reason": f"empty_file: {path!r}"}
        files.append({"file_path": path, "file_format": _ext(path), "content": content, "description": desc})
    promised = [f["path"] for f in item["task"]["input_files"]]
    given = {f["file_path"] for f in files}
    if missing := [p for p in promised if p not in given]:
        return {"ok": False, "reason": f"missing_input_file: {', '.join(missing)}"}
    if extra := sorted(given - set(promised)):
        return {"ok": False, "reason": f"unexpected_file: {', '.join(extra)}"}
    return {"ok": True, "reason": None, "files": files}


def parse_reward(item: Record, text: str) -> Record:
    """Stage 5: exactly ``./reward/reward.sh`` and ``./reward/check.py``."""
    try:
        blocks = parse_file_blocks(text, "reward/")
    except BlockError as exc:
        return {"ok": False, "reason": str(exc)}
    got = {rel: content for rel, _, content in blocks}
    if extra := sorted(set(got) - set(REWARD_FILES)):
        return {"ok": False, "reason": f"unexpected_file: {', '.join(extra)}"}
    if missing := [f for f in REWARD_FILES if not got.get(f)]:
        return {"ok": False, "reason": f"missing_reward_file: {', '.join(missing)}"}
    return {"ok": True, "reason": None, "reward_sh": got["reward.sh"], "check_py": got["check.py"]}


# ---------------------------------------------------------------------------------------------- stage 6
def validate_rules(data: Any, outputs: list[str] | None = None) -> list[dict[str, Any]]:
    """The rubric's strict schema, persona2task stage 11's (:func:`rubric.check_rules`): 2-5 rules of
    exactly ``name``, ``file_path`` (one of ``outputs``; None: any path under output/) and ``scores``
    with exactly the five bands, distinct non-empty texts, unique names. Raises
    ValueError('bad_rubric: ...')."""
    from clawgym_env.synth.llm.rubric import check_rules

    try:
        return check_rules(data.get("rules") if isinstance(data, dict) else None, outputs)
    except ValueError as exc:
        raise ValueError(f"bad_rubric: {exc}") from None


def parse_rubric(item: Record, text: str) -> Record:
    try:
        rules = validate_rules(extract_json_object(text), item["task"].get("output_paths") or None)
    except NoJSON as exc:
        return {"ok": False, "reason": f"malformed_json: {exc}"}
    except ValueError as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "reason": None, "rules": rules}


# ---------------------------------------------------------------------------------------------- stage 7
def static_checks(reward_sh: str, check_py: str) -> str | None:
    """``bash -n`` on reward.sh, ``ast.parse`` and stdlib-only imports on check.py: the reject reason, or None."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", encoding="utf-8") as fh:
        fh.write(reward_sh)
        fh.flush()
        try:
            res = subprocess.run(["bash", "-n", fh.name], capture_output=True, text=True, timeout=10, check=False)
        except subprocess.TimeoutExpired:
            return "reward_sh_syntax: bash -n timed out"
    if res.returncode != 0:
        return f"reward_sh_syntax: {res.stderr.strip().replace(fh.name, 'reward.sh')[:300]}"
    try:
        tree = ast.parse(check_py, filename="check.py")
    except (SyntaxError, ValueError) as exc:
        return f"check_py_syntax: {exc}"
    bad = sorted(non_stdlib_imports(tree))
    return f"non_stdlib_import: {', '.join(bad)}" if bad else None


def non_stdlib_imports(tree: ast.AST) -> set[str]:
    """Top-level modules a script imports that the standard library does not provide (relative
    imports and ``__import__``/``importlib.import_module`` of a literal name included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if called in ("__import__", "import_module"):
                names.add(node.args[0].value)
    return {n for n in names if n.startswith(".") or n.split(".")[0] not in sys.stdlib_module_names}


def _noop_task(item: Record, check_py: str) -> Any:
    from clawgym_env.tasks import Task
    from clawgym_env.tasks.reward_template import REWARD_SH

    return Task(task_id=f"skill2task-{item['id']}", user_query=item["task"]["user_query"], metadata={},
                input_files={f["file_path"]: f["content"].encode() for f in item["files"]},
                reward_files={"reward.sh": REWARD_SH.encode(), "check.py": check_py.encode()})


def noop_check(item: Record, *, backend: str = "bwrap", timeout_s: float = NOOP_TIMEOUT_S) -> Record:
    """check.py through the authors' template reward.sh on the untouched inputs (our sandbox): the
    printed JSON must have ``reward`` first (a number), booleans after it, and both that reward and
    reward.sh's mean must be 0. Returns ``{"ok", "reason", "noop": figures}``."""
    from clawgym_env.verify.offline import verify_workspace

    task = _noop_task(item, item["check_py"])
    with tempfile.TemporaryDirectory(prefix="skill2task-noop-") as tmp:
        ws = Path(tmp)
        for f in item["files"]:
            target = ws / f["file_path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f["content"], encoding="utf-8")
        res = verify_workspace(task, ws, backend=backend, timeout_s=timeout_s)
    figures = {"reward_sh": res.reward, "printed": res.subscores, "exit_code": res.exit_code,
               "duration_s": round(res.duration_s, 3)}
    if res.infra_error:
        return {"ok": False, "reason": f"infra_error: {res.infra_error}", "retryable": True, "noop": figures}
    if res.timed_out:
        return {"ok": False, "reason": f"noop_timeout: over {timeout_s:g} s", "noop": figures}
    if res.exit_code != 0:
        return {"ok": False, "reason": f"noop_exit: code {res.exit_code}: {res.stderr_head.strip()[-300:]}",
                "noop": figures}
    printed = res.subscores
    if printed is None:
        return {"ok": False, "reason": "bad_output_json: check.py did not print one JSON object", "noop": figures}
    keys = list(printed)
    if not keys or keys[0] != "reward":
        return {"ok": False, "reason": f"reward_not_first: first key {keys[0] if keys else None!r}", "noop": figures}
    reward = printed["reward"]
    if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward):
        return {"ok": False, "reason": f"bad_output_json: reward is {reward!r}, not a number", "noop": figures}
    if not_bool := [k for k in keys[1:] if not isinstance(printed[k], bool)]:
        return {"ok": False, "reason": f"bad_output_json: not booleans: {', '.join(not_bool[:5])}", "noop": figures}
    if res.reason:
        return {"ok": False, "reason": f"bad_output_json: {res.reason}", "noop": figures}
    if abs(reward) > 1e-9 or abs(res.reward) > 1e-9:
        return {"ok": False, "reason": f"noop_nonzero: printed reward {reward}, reward.sh mean {res.reward}",
                "noop": figures}
    return {"ok": True, "reason": None, "noop": figures}


def filter_one(item: Record, *, backend: str = "bwrap", timeout_s: float = NOOP_TIMEOUT_S) -> Record:
    """Stage 7 for one item: the static checks, then the no-op; a kept item becomes a candidate record."""
    reason = static_checks(item["reward_sh"], item["check_py"])
    if reason:
        return {"id": item["id"], "ok": False, "reason": reason}
    verdict = noop_check(item, backend=backend, timeout_s=timeout_s)
    if not verdict["ok"]:
        return {"id": item["id"], **verdict}
    return {**candidate(item), "ok": True, "reason": None, "noop": verdict["noop"]}


def candidate(item: Record) -> Record:
    """The synth-llm candidate record (what the proof stages take) of a filtered item."""
    t = item["task"]
    metadata = {"primary_skill_id": item["primary_skill_id"], "supporting_skill_ids": item["supporting_skill_ids"],
                "task_source": "original", "difficulty": t["difficulty"], "difficulty_reason": t["difficulty_reason"],
                "reward_type": t["reward_type"], "reward_summary": t["reward_summary"],
                "expected_behaviors": t["expected_behaviors"]}
    files = [{"file_path": f["file_path"], "file_format": f["file_format"], "content": f["content"]}
             for f in item["files"]]
    return {"id": item["id"], "route": "skill2task", "category": t["category"], "subcategory": None,
            "task": {"question": t["user_query"], "input_files": files, "expected_behavior": t["expected_behaviors"],
                     "difficulty": {"score": t["difficulty"], "reason": t["difficulty_reason"]},
                     "output_paths": t["output_paths"]},
            "check_py": item["check_py"], "check_style": "reward_first", "rules": item["rules"],
            "model_reward_sh": item["reward_sh"], "metadata": metadata}


def run_filter(path: Path, items: list[Record], *, jobs: int = 2, backend: str = "bwrap",
               timeout_s: float = NOOP_TIMEOUT_S, progress: bool = True) -> StageResult:
    """Stage 7 over the items not yet decided (and those an infrastructure error left retryable)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from clawgym_env.progress import progress_bar

    done = read_records(path)
    todo = [it for it in items if it["id"] not in done or done[it["id"]].get("retryable")]
    if todo:
        with StageWriter(path) as writer, progress_bar("7 filter", len(todo), enabled=progress) as advance, \
                ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(filter_one, it, backend=backend, timeout_s=timeout_s): it for it in todo}
            for fut in as_completed(futures):
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - a bug in one item must not lose the others' records
                    rec = {"id": futures[fut]["id"], "ok": False, "reason": f"filter_error: {type(exc).__name__}: "
                                                                           f"{exc}", "retryable": True}
                writer.write(rec)
                advance()
    return summarize("7 filter", path, (it["id"] for it in items), read_records(path), done_now=len(todo))


# ---------------------------------------------------------------------------------------------- driver
def _corpus_digest(skills: list[Skill]) -> str:
    h = hashlib.sha256()
    for s in sorted(skills, key=lambda s: s.id):
        h.update(f"{s.id}\0{s.text}\0".encode())
    return h.hexdigest()[:16]


def _pinned(cfg: Skill2TaskConfig, corpus: list[Skill]) -> dict[str, Any]:
    return {"pipeline": "skill2task", "seed": cfg.seed, "combo_skill_count": cfg.combo_skill_count,
            "english_only": cfg.english_only, "tasks_per_skill": TASKS_PER_SKILL, "skills_sha256": _corpus_digest(corpus)}


def _ok(path: Path) -> dict[str, Record]:
    return {i: r for i, r in read_records(path).items() if r.get("ok")}


def run_skill2task(out_dir: str | Path, cfg: Skill2TaskConfig) -> list[StageResult]:
    """Run (or continue) stages 1 to ``cfg.last_stage`` (default 10: proven task folders in
    ``out_dir/tasks``) in ``out_dir``; returns the funnel and writes report.md/json/html."""
    from clawgym_env.synth.llm.report import write_report
    from clawgym_env.synth.llm.scaffold import output_paths

    if cfg.last_stage not in (7, 10):
        raise ValueError(f"last_stage must be 7 or 10, got {cfg.last_stage}")
    out = Path(out_dir)
    corpus = scan_skills(cfg.skills_root).skills
    if not corpus:
        raise ValueError(f"{cfg.skills_root}: no SKILL.md files")
    out.mkdir(parents=True, exist_ok=True)
    pinned = _pinned(cfg, corpus)
    pin_config(out, pinned)

    drawn = draw(corpus, seed=cfg.seed, limit=cfg.n)
    by_id = {s.id: s for s in corpus}
    client = lambda: StageClient(cfg.generator)
    llm: dict[str, Any] = {"client_factory": client, "concurrency": cfg.concurrency, "progress": cfg.progress}
    results: list[StageResult] = []

    items1 = [{"id": f"s{i:06d}", "skill_id": s.id} for i, s in enumerate(drawn)]
    p1 = out / STAGE_FILES[1]
    results.append(run_llm_stage("1 annotate", p1, items1, build_messages=lambda it: annotate_messages(by_id[it["skill_id"]]),
                                 parse=lambda it, text: parse_annotation(it, text, english_only=cfg.english_only), **llm))
    ann = _ok(p1)
    pool = [it for it in items1 if it["id"] in ann]

    p2 = out / STAGE_FILES[2]
    results.append(plan_combos(p2, pool, cfg.combo_skill_count, cfg.seed))
    combos = _ok(p2)
    items3 = [{"id": it["id"], "primary_skill_id": combos[it["id"]]["primary_skill_id"],
               "supporting_skill_ids": combos[it["id"]]["supporting_skill_ids"],
               "supporting_ids": combos[it["id"]]["supporting_ids"]} for it in pool if it["id"] in combos]

    def task_msgs(it: Record) -> list[dict[str, Any]]:
        sup = [(by_id[s], ann[i]["annotation"]) for s, i in zip(it["supporting_skill_ids"], it["supporting_ids"],
                                                               strict=True) if i in ann]
        return task_messages((by_id[it["primary_skill_id"]], ann[it["id"]]["annotation"]), sup, TASKS_PER_SKILL)

    p3 = out / STAGE_FILES[3]
    results.append(run_llm_stage("3 task generation", p3, items3, build_messages=task_msgs, parse=parse_tasks, **llm))
    tasks = _ok(p3)
    items4 = [{**it, "task": tasks[it["id"]]["task"]} for it in items3 if it["id"] in tasks]

    p4 = out / STAGE_FILES[4]
    have = read_records(p4)
    with StageWriter(p4) as writer:  # a task without input files needs no request
        for it in items4:
            if not it["task"]["input_files"] and it["id"] not in have:
                writer.write({"id": it["id"], "ok": True, "reason": None, "files": []})
    results.append(run_llm_stage("4 input files", p4, items4, build_messages=lambda it: input_files_messages(it["task"]),
                                 parse=parse_input_files, **llm))
    files = _ok(p4)
    items5 = [{**it, "files": files[it["id"]]["files"]} for it in items4 if it["id"] in files]

    p5 = out / STAGE_FILES[5]
    results.append(run_llm_stage("5 reward package", p5, items5,
                                 build_messages=lambda it: reward_messages(it["task"], it["files"]),
                                 parse=parse_reward, **llm))
    reward = _ok(p5)
    items6 = [{**it, "reward_sh": reward[it["id"]]["reward_sh"], "check_py": reward[it["id"]]["check_py"]}
              for it in items5 if it["id"] in reward]

    def rubric_msgs(it: Record) -> list[dict[str, Any]]:
        outputs = it["task"]["output_paths"] or output_paths({"question": it["task"]["user_query"],
                                                             "expected_behavior": it["task"]["expected_behaviors"],
                                                             "input_files": it["files"]})
        return rubric_messages(it["task"], outputs, it["check_py"])

    p6 = out / STAGE_FILES[6]
    results.append(run_llm_stage("6 rubric", p6, items6, build_messages=rubric_msgs, parse=parse_rubric, **llm))
    rubric = _ok(p6)
    items7 = [{**it, "rules": rubric[it["id"]]["rules"]} for it in items6 if it["id"] in rubric]

    results.append(run_filter(out / STAGE_FILES[7], items7, jobs=cfg.jobs, backend=cfg.backend,
                              timeout_s=cfg.noop_timeout_s, progress=cfg.progress))
    if cfg.last_stage >= 8:
        from clawgym_env.synth.llm.assemble import run_proof_stages

        results += run_proof_stages(out, kept_candidates(out), model=cfg.reference or cfg.generator,
                                    backend=cfg.backend, jobs=cfg.jobs, concurrency=cfg.concurrency,
                                    progress=cfg.progress, first_stage=8)

    config = {**pinned, "n": cfg.n, "skills_root": str(cfg.skills_root),
              "generator": {"base_url": cfg.generator.base_url, "model": cfg.generator.model,
                            "temperature": cfg.generator.temperature}, "last_stage": cfg.last_stage, **cfg.extra}
    if cfg.last_stage >= 8:
        ref = cfg.reference or cfg.generator
        config["reference"] = {"base_url": ref.base_url, "model": ref.model, "temperature": ref.temperature}
    write_report(out, results, config, "skill2task funnel")
    return results


def kept_candidates(out_dir: str | Path) -> list[Record]:
    """The candidate records stage 7 kept, in id order (what the proof stages read)."""
    recs = read_records(Path(out_dir) / STAGE_FILES[7])
    return [recs[i] for i in sorted(recs) if recs[i].get("ok")]


__all__ = ["NOOP_TIMEOUT_S", "STAGE_FILES", "TASKS_PER_SKILL", "Skill2TaskConfig", "candidate", "filter_one",
           "kept_candidates", "non_stdlib_imports", "noop_check", "normalize_annotation",
           "normalize_skill_task", "parse_annotation", "parse_file_blocks", "parse_input_files",
           "parse_reward", "parse_rubric", "parse_tasks", "plan_combos", "query_paths", "run_filter",
           "run_skill2task", "static_checks", "validate_rules"]
