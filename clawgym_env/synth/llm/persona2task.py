"""persona2task, stages 1-6 (specs/clawgym-reference.md §E1): persona x subcategory x k operations
-> one task JSON from the generator -> per-category novelty filter -> judge audit (factual error,
answer leak) -> tasks that pass.

Files in the run folder, as the authors name them: ``01_task_prompts.jsonl``, ``02_tasks.jsonl``,
``03_dedup.jsonl``, ``04_judge_prompts.jsonl``, ``05_judge_results.jsonl``, ``06_judge_pass.jsonl``;
``config.json`` pins what decides the prompts (a rerun with other settings is refused instead of
mixing two runs), ``report.md``/``report.json`` hold the funnel.

Stages 7-11 write the verifier and the rubric: ``07_validation_code_prompts.jsonl``,
``08_validation_code_results.jsonl`` (generation, sandbox validation and repair rounds:
:mod:`verifier`), ``09_llm_rubric_prompts.jsonl``, ``10_llm_rubric_results.jsonl`` and
``11_rubric_filter.jsonl`` (:mod:`rubric`), whose kept records are the candidates the proof stages take.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from clawgym_env.synth.llm.client import ModelSpec, StageClient
from clawgym_env.synth.llm.jsonout import NoJSON, extract_json_object, read_flag
from clawgym_env.synth.llm.prompts import (
    FILE_FORMATS,
    generation_messages,
    is_placeholder,
    judge_messages,
    rubric_messages,
    verifier_messages,
    verifier_repair_messages,
)
from clawgym_env.synth.llm.stages import (
    Record,
    StageResult,
    StageWriter,
    kept,
    pin_config,
    read_records,
    run_llm_stage,
    summarize,
)

DedupMode = Literal["auto", "embedding", "minhash", "off"]
STAGE_FILES = {1: "01_task_prompts.jsonl", 2: "02_tasks.jsonl", 3: "03_dedup.jsonl", 4: "04_judge_prompts.jsonl",
               5: "05_judge_results.jsonl", 6: "06_judge_pass.jsonl", 7: "07_validation_code_prompts.jsonl",
               8: "08_validation_code_results.jsonl", 9: "09_llm_rubric_prompts.jsonl",
               10: "10_llm_rubric_results.jsonl", 11: "11_rubric_filter.jsonl", 12: "12_references.jsonl",
               13: "13_proof.jsonl", 14: "14_assembled.jsonl"}
LAST_STAGES = (6, 7, 8, 9, 10, 11, 14)
"""Where a run may stop: after any stage up to 11, or after the proof stages (12-14 run together)."""
_TRANSIENT = ("messages", "raw", "usage", "attempts", "model", "retryable", "ok", "reason", "rounds")
"""A stage record's bookkeeping, dropped before its item goes on to the next stage."""


@dataclass
class Persona2TaskConfig:
    generator: ModelSpec
    judge: ModelSpec | None = None
    """None: the generator judges (the authors' default)."""
    n: int = 10
    seed: int = 42
    ops_per_task: int = 3
    persona_start: int = 0
    personas_file: str | None = None
    """JSONL of ``{"persona": str}`` (the authors' format); None: our generator (synth/personas.py)."""
    concurrency: int = 16
    dedup: DedupMode = "auto"
    dedup_threshold: float | None = None
    """None: 0.90 cosine (embedding) or the MinHash module's Jaccard threshold."""
    progress: bool = True
    verifier_rounds: int = 3
    """Stage 8: rounds of generation (the first) and repair (the rest) per task."""
    jobs: int = 2
    """Sandbox validations in parallel (stage 8)."""
    backend: str = "bwrap"
    """Sandbox backend of the verifier validation (bwrap | docker)."""
    verifier_timeout_s: float = 20.0
    """Per verifier run in the sandbox (the authors' 20 s)."""
    rubric_temperature: float = 0.2
    """Stage 10 samples the generator at this temperature (the authors' 0.2)."""
    reference: ModelSpec | None = None
    """Writes the reference solutions of stage 12; None: the generator."""
    last_stage: int = 14
    """Stop after this stage (6: the tasks only; 11: verifier and rubric, no proof; 14: task folders)."""
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- stage 1
def load_personas(path: str | Path) -> list[str]:
    """The ``persona`` strings of a JSONL file (blank lines skipped; anything else is an error)."""
    out = []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{no}: not JSON ({exc})") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("persona"), str) or not rec["persona"].strip():
            raise ValueError(f'{path}:{no}: expected {{"persona": str}}')
        out.append(rec["persona"].strip())
    if not out:
        raise ValueError(f"{path}: no personas")
    return out


def _persona_text(cfg: Persona2TaskConfig, personas: list[str] | None, index: int) -> str:
    if personas is not None:
        return personas[index % len(personas)]
    from clawgym_env.synth.personas import persona

    p = persona(index)
    return f"{p.describe()}, {p.situation}. {p.preference}"


def build_prompts(cfg: Persona2TaskConfig, personas: list[str] | None) -> list[Record]:
    """Stage 1: item i takes persona ``persona_start + i`` (in order, as the authors do), a random
    subcategory and ``ops_per_task`` distinct random operations, seeded per item so ``--n`` can grow."""
    from clawgym_env.synth.taxonomy import OPERATIONS, SUBCATEGORIES

    items = []
    for i in range(cfg.n):
        rng = random.Random(f"persona2task-{cfg.seed}-{i}")
        category, subcategory = rng.choice(SUBCATEGORIES)
        ops = rng.sample(OPERATIONS, cfg.ops_per_task)
        persona = _persona_text(cfg, personas, cfg.persona_start + i)
        items.append({"id": f"p{i:06d}", "persona_index": cfg.persona_start + i, "persona": persona,
                      "category": category, "subcategory": subcategory, "operations": ops,
                      "messages": generation_messages(persona, category, subcategory, ops)})
    return items


# ---------------------------------------------------------------------------------------------- stage 2
def parse_task(item: Record, text: str) -> Record:
    """Stage 2's check of one answer: ``{"ok": True, "task": {...}}`` with normalized fields, or
    ``{"ok": False, "reason": "kind: detail"}``."""
    try:
        data = extract_json_object(text)
    except NoJSON as exc:
        return {"ok": False, "reason": f"malformed_json: {exc}"}
    try:
        task = normalize_task(data)
    except ValueError as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "reason": None, "task": task}


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"missing_field: {key} (a non-empty string)")
    return value.strip()


def normalize_task(data: dict[str, Any]) -> dict[str, Any]:
    """The task contract; raises ValueError('kind: detail') on the first violation."""
    question, scenario = _text(data, "question"), _text(data, "scenario")
    behavior = data.get("expected_behavior")
    if isinstance(behavior, str) and behavior.strip():
        behavior = [behavior.strip()]
    if not isinstance(behavior, list) or not behavior or not all(isinstance(b, str) and b.strip() for b in behavior):
        raise ValueError("missing_field: expected_behavior (a string or a list of strings)")
    ops = data.get("required_operations", data.get("required_basic_operations"))
    if not isinstance(ops, list) or not ops or not all(isinstance(o, str) and o.strip() for o in ops):
        raise ValueError("missing_field: required_operations (a list of strings)")
    files = data.get("input_files") or []
    if not isinstance(files, list):
        raise ValueError("bad_input_files: input_files is not a list")
    clean_files, seen = [], set()
    for f in files:
        if not isinstance(f, dict) or not isinstance(f.get("file_path"), str) or not isinstance(f.get("content"), str):
            raise ValueError("bad_input_files: each needs file_path and content strings")
        path = posixpath.normpath(f["file_path"].strip().removeprefix("./"))
        if path.startswith(("/", "..")) or path in (".", "") or "\\" in path:
            raise ValueError(f"bad_input_files: unsafe path {f['file_path']!r}")
        ext = path.rsplit(".", 1)[-1].lower() if "." in posixpath.basename(path) else ""
        if ext not in FILE_FORMATS:
            raise ValueError(f"bad_input_files: {path!r} is not one of {', '.join(FILE_FORMATS)}")
        if path in seen:
            raise ValueError(f"bad_input_files: {path!r} given twice")
        seen.add(path)
        clean_files.append({"file_path": path, "file_format": ext, "content": f["content"]})
    copied = [name for name, value in (("question", question), ("scenario", scenario))
              + tuple(("expected_behavior", b) for b in behavior)
              + tuple((f"content of {f['file_path']}", f["content"]) for f in clean_files) if is_placeholder(value)]
    if copied:
        raise ValueError(f"template_copy: {copied[0]} repeats the prompt's example instead of a task")
    difficulty = data.get("difficulty")
    score = difficulty.get("score") if isinstance(difficulty, dict) else difficulty
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValueError(f"bad_difficulty: score must be an integer 1-5, got {score!r}")
    reason = difficulty.get("reason") if isinstance(difficulty, dict) else None
    return {"question": question, "task_type": str(data.get("task_type") or ""), "scenario": scenario,
            "expected_behavior": [b.strip() for b in behavior], "required_operations": [o.strip() for o in ops],
            "has_input_files": bool(clean_files), "input_files": clean_files,
            "difficulty": {"score": score, "reason": reason if isinstance(reason, str) else ""}}


# ---------------------------------------------------------------------------------------------- stage 3
def run_dedup(path: Path, items: list[Record], mode: DedupMode, threshold: float | None) -> StageResult:
    """Stage 3: items already decided keep their decision; the rest are decided against the kept."""
    from clawgym_env.synth.llm.novelty import Candidate, embedding_available, greedy_novelty

    done = read_records(path)
    todo = [it for it in items if it["id"] not in done]
    if todo:
        if mode == "off":
            decisions = [{"id": it["id"], "ok": True, "reason": None, "method": "off"} for it in todo]
        else:
            method = "embedding" if mode == "embedding" or (mode == "auto" and embedding_available()) else "minhash"

            def cand(it: Record) -> Candidate:
                return Candidate(it["id"], it["category"], it["task"]["question"])

            prior = [cand(it) for it in items if done.get(it["id"], {}).get("ok")]
            decisions = []
            for d in greedy_novelty([cand(it) for it in todo], prior, method=method, threshold=threshold):
                decisions.append({"id": d.id, "ok": d.kept, "method": method, "similar_to": d.similar_to,
                                  "similarity": d.similarity,
                                  "reason": None if d.kept else f"near_duplicate: {method} {d.similarity} "
                                                                f"with {d.similar_to}"})
        with StageWriter(path) as writer:
            for rec in decisions:
                writer.write(rec)
    return summarize("3 novelty dedup", path, (it["id"] for it in items), read_records(path), done_now=len(todo))


# ---------------------------------------------------------------------------------------------- stages 4-6
def parse_verdict(item: Record, text: str) -> Record:
    """Stage 5: the judge's two flags, or a reject saying why they could not be read."""
    try:
        data = extract_json_object(text)
    except NoJSON as exc:
        return {"ok": False, "reason": f"judge_unparsed: {exc}"}
    read = {k: read_flag(data.get(k)) for k in ("has_factual_error", "has_answer_leak")}
    flags = {k: None if v is None else int(v) for k, v in read.items()}
    missing = [k for k, v in flags.items() if v is None]
    if missing:
        return {"ok": False, "reason": f"judge_unparsed: no 0/1 {', '.join(missing)}"}
    verdict = {**flags, "factual_error_reason": str(data.get("factual_error_reason") or ""),
               "answer_leak_reason": str(data.get("answer_leak_reason") or "")}
    return {"ok": True, "reason": None, "verdict": verdict}


def judge_filter(path: Path, items: list[Record]) -> StageResult:
    """Stage 6: pass iff the verdict parsed and both flags are 0. Derived, so rewritten every run."""
    records = []
    for it in items:
        v = it["verdict"]
        if v["has_factual_error"]:
            reason = f"factual_error: {v['factual_error_reason']}"
        elif v["has_answer_leak"]:
            reason = f"answer_leak: {v['answer_leak_reason']}"
        else:
            reason = None
        records.append({"id": it["id"], "ok": reason is None, "reason": reason,
                        **{k: it[k] for k in ("persona", "category", "subcategory", "operations", "task", "verdict")}})
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    tmp.replace(path)
    return summarize("6 judge filter", path, (it["id"] for it in items), {r["id"]: r for r in records})


# ---------------------------------------------------------------------------------------------- driver
def _pinned(cfg: Persona2TaskConfig, personas: list[str] | None) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(personas).encode()).hexdigest()[:16] if personas is not None else None
    return {"pipeline": "persona2task", "seed": cfg.seed, "ops_per_task": cfg.ops_per_task,
            "persona_start": cfg.persona_start, "personas_sha256": digest}


def _carry(item: Record) -> Record:
    return {k: v for k, v in item.items() if k not in _TRANSIENT}


def _write_prompts(name: str, path: Path, items: list[Record]) -> StageResult:
    """A prompt stage: the messages of each item not yet in ``path``."""
    have = read_records(path)
    with StageWriter(path) as writer:
        for it in items:
            if it["id"] not in have:
                writer.write({"id": it["id"], "ok": True, "messages": it["messages"]})
    return summarize(name, path, (it["id"] for it in items), read_records(path))


def _verifier_and_rubric(out: Path, cfg: Persona2TaskConfig, passed: list[Record]) -> list[StageResult]:
    """Stages 7-11 over the tasks the judge passed (as many as ``cfg.last_stage`` allows)."""
    from clawgym_env.synth.llm.rubric import parse_rubric, rubric_filter
    from clawgym_env.synth.llm.scaffold import output_paths
    from clawgym_env.synth.llm.verifier import run_verifier_stage

    results = []
    p7 = out / STAGE_FILES[7]
    code_items = [{**it, "messages": verifier_messages(it["task"], output_paths(it["task"]))} for it in passed]
    results.append(_write_prompts("7 verifier prompts", p7, code_items))
    if cfg.last_stage < 8:
        return results

    def repair(it: Record, code: str, diagnostics: str) -> list[dict[str, Any]]:
        return verifier_repair_messages(it["task"], output_paths(it["task"]), code, diagnostics)

    p8 = out / STAGE_FILES[8]
    results.append(run_verifier_stage("8 verifier + repair", p8, code_items,
                                      client_factory=lambda: StageClient(cfg.generator), repair_messages=repair,
                                      rounds=cfg.verifier_rounds, concurrency=cfg.concurrency, jobs=cfg.jobs,
                                      backend=cfg.backend, timeout_s=cfg.verifier_timeout_s, progress=cfg.progress))
    verified = [_carry(it) for it in kept(code_items, read_records(p8))]
    if cfg.last_stage < 9:
        return results

    p9 = out / STAGE_FILES[9]
    rubric_items = [{**it, "messages": rubric_messages(it["task"], output_paths(it["task"]), it["check_py"])}
                    for it in verified]
    results.append(_write_prompts("9 rubric prompts", p9, rubric_items))
    if cfg.last_stage < 10:
        return results

    p10 = out / STAGE_FILES[10]
    rubric_model = replace(cfg.generator, temperature=cfg.rubric_temperature)
    results.append(run_llm_stage("10 rubric generation", p10, rubric_items,
                                 client_factory=lambda: StageClient(rubric_model),
                                 build_messages=lambda it: it["messages"], parse=parse_rubric,
                                 concurrency=cfg.concurrency, progress=cfg.progress))
    if cfg.last_stage < 11:
        return results
    answered = [_carry(it) for it in kept(rubric_items, read_records(p10))]
    results.append(rubric_filter(out / STAGE_FILES[11], answered))
    return results


def run_persona2task(out_dir: str | Path, cfg: Persona2TaskConfig) -> list[StageResult]:
    """Run (or continue) stages 1 to ``cfg.last_stage`` (default 11) in ``out_dir``; returns the
    funnel and writes report.md/json/html."""
    from clawgym_env.synth.llm.report import write_report

    if cfg.last_stage not in LAST_STAGES:
        raise ValueError(f"last_stage must be one of {', '.join(map(str, LAST_STAGES))}, got {cfg.last_stage}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    personas = load_personas(cfg.personas_file) if cfg.personas_file else None
    pinned = _pinned(cfg, personas)
    pin_config(out, pinned)

    results: list[StageResult] = []
    prompts = build_prompts(cfg, personas)
    p1 = out / STAGE_FILES[1]
    have = read_records(p1)
    with StageWriter(p1) as writer:
        for it in prompts:
            if it["id"] not in have:
                writer.write({**it, "ok": True})
    results.append(summarize("1 task prompts", p1, (it["id"] for it in prompts), read_records(p1)))

    judge = cfg.judge or cfg.generator
    p2 = out / STAGE_FILES[2]
    results.append(run_llm_stage("2 task generation", p2, prompts, client_factory=lambda: StageClient(cfg.generator),
                                 build_messages=lambda it: it["messages"], parse=parse_task,
                                 concurrency=cfg.concurrency, progress=cfg.progress))
    generated = [{k: v for k, v in it.items() if k not in ("messages", "raw", "usage", "attempts", "model")}
                 for it in kept(prompts, read_records(p2))]

    p3 = out / STAGE_FILES[3]
    results.append(run_dedup(p3, generated, cfg.dedup, cfg.dedup_threshold))
    novel = kept(generated, read_records(p3))

    p4 = out / STAGE_FILES[4]
    have = read_records(p4)
    judge_items = [{**it, "messages": judge_messages(it["task"])} for it in novel]
    with StageWriter(p4) as writer:
        for it in judge_items:
            if it["id"] not in have:
                writer.write({"id": it["id"], "ok": True, "messages": it["messages"]})
    results.append(summarize("4 judge prompts", p4, (it["id"] for it in judge_items), read_records(p4)))

    p5 = out / STAGE_FILES[5]
    results.append(run_llm_stage("5 judge audit", p5, judge_items, client_factory=lambda: StageClient(judge),
                                 build_messages=lambda it: it["messages"], parse=parse_verdict,
                                 concurrency=cfg.concurrency, progress=cfg.progress))
    judged = kept(judge_items, read_records(p5))
    p6 = out / STAGE_FILES[6]
    results.append(judge_filter(p6, judged))
    if cfg.last_stage >= 7:
        results += _verifier_and_rubric(out, cfg, [_carry(it) for it in kept(judged, read_records(p6))])
    if cfg.last_stage >= 12:
        from clawgym_env.synth.llm.assemble import run_proof_stages

        candidates = [r for r in read_records(out / STAGE_FILES[11]).values() if r.get("ok")]
        results += run_proof_stages(out, sorted(candidates, key=lambda r: r["id"]), model=cfg.reference or cfg.generator,
                                    backend=cfg.backend, jobs=cfg.jobs, concurrency=cfg.concurrency,
                                    progress=cfg.progress, first_stage=12)

    config = {**pinned, "n": cfg.n, "generator": {"base_url": cfg.generator.base_url, "model": cfg.generator.model,
                                                   "temperature": cfg.generator.temperature},
              "judge": {"base_url": judge.base_url, "model": judge.model, "temperature": judge.temperature},
              "dedup": cfg.dedup, "last_stage": cfg.last_stage, **cfg.extra}
    if cfg.last_stage >= 7:
        config.update(verifier_rounds=cfg.verifier_rounds, jobs=cfg.jobs, backend=cfg.backend,
                      verifier_timeout_s=cfg.verifier_timeout_s, rubric_temperature=cfg.rubric_temperature)
    if cfg.last_stage >= 12:
        ref = cfg.reference or cfg.generator
        config["reference"] = {"base_url": ref.base_url, "model": ref.model, "temperature": ref.temperature}
    write_report(out, results, config, "persona2task funnel")
    return results


__all__ = ["LAST_STAGES", "STAGE_FILES", "Persona2TaskConfig", "build_prompts", "judge_filter", "load_personas", "normalize_task",
           "parse_task", "parse_verdict", "run_dedup", "run_persona2task"]
