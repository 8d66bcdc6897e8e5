"""The proof stages' driver and their last step: proven candidates become official task folders.

Three resumable stages, numbered after the route's own (persona2task: 12, 13, 14):
``NN_references.jsonl`` (the model's reference solution, :mod:`reference_prompts`),
``NN+1_proof.jsonl`` (:func:`proof.prove` in sandboxes, ``jobs`` at a time) and
``NN+2_assembled.jsonl`` with ``tasks/<task_id>/``: data_entry.json, input_files/, reward/reward.sh
(the authors' template) + check.py, top-level ``rules`` when there is a rubric, and oracle.json
``{"actions", "outputs"}`` as built-in tasks write it, so ``clawgym validate`` gates the folder and
``register_suite`` loads it like any other suite.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from clawgym_env.synth.llm.client import ModelSpec, StageClient
from clawgym_env.synth.llm.proof import ProofReport, candidate_task, parse_reference, prove, task_id_for
from clawgym_env.synth.llm.reference_prompts import reference_messages
from clawgym_env.synth.llm.stages import (
    Record,
    StageResult,
    StageWriter,
    kept,
    read_records,
    run_llm_stage,
    summarize,
)

TASKS_DIR = "tasks"


def write_candidate_folder(root: str | os.PathLike[str], candidate: dict[str, Any], actions: list[dict[str, Any]],
                           proof: ProofReport | dict[str, Any]) -> Path:
    """Write ``root/<task_id>/`` for a proven candidate (the oracle outputs are the proof's, each with
    the mutation kinds it proved caught). Written beside and renamed into place, so a kill never
    leaves a half folder under its real name; an existing folder of that id is replaced."""
    from clawgym_env.tasks.folder import write_task

    outputs = proof.outputs if isinstance(proof, ProofReport) else proof["outputs"]
    task = candidate_task(candidate, actions, outputs=[dict(o) for o in outputs])
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{task.task_id}"
    shutil.rmtree(staging, ignore_errors=True)
    written = write_task(task, staging)
    final = root / task.task_id
    if final.exists():
        shutil.rmtree(final)
    written.rename(final)
    shutil.rmtree(staging, ignore_errors=True)
    return final


def stage_files(first_stage: int) -> dict[str, str]:
    return {"references": f"{first_stage:02d}_references.jsonl", "proof": f"{first_stage + 1:02d}_proof.jsonl",
            "assembled": f"{first_stage + 2:02d}_assembled.jsonl"}


def _prove_stage(path: Path, items: list[Record], *, backend: str, jobs: int, progress: bool, name: str) -> StageResult:
    """Prove the items not yet in ``path``, ``jobs`` at a time; each record is written (from this
    thread) as its proof finishes, so a kill loses only the proofs in flight."""
    from clawgym_env.progress import progress_bar

    done = read_records(path)
    todo = [it for it in items if it["id"] not in done]
    if todo:
        with StageWriter(path) as writer, progress_bar(name, len(todo), enabled=progress) as advance, \
                ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            pending: dict[Future[ProofReport], Record] = {}
            queue = list(todo)
            while queue or pending:
                while queue and len(pending) < max(1, jobs):  # submit lazily: a kill leaves nothing queued
                    it = queue.pop(0)
                    pending[pool.submit(prove, it, it["actions"], backend=backend)] = it
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    it = pending.pop(fut)
                    rep = fut.result()  # prove never raises
                    writer.write({"id": it["id"], "ok": rep.ok, "reason": rep.reason, "task_id": rep.id,
                                  "proof": rep.to_dict()})
                    advance()
    return summarize(name, path, (it["id"] for it in items), read_records(path), done_now=len(todo))


def _assemble_stage(path: Path, tasks_dir: Path, items: list[Record], *, name: str) -> StageResult:
    done = read_records(path)
    todo = [it for it in items if it["id"] not in done  # or a folder deleted since it was written
            or done[it["id"]].get("ok") and not (tasks_dir / str(done[it["id"]].get("task_id"))).is_dir()]
    if todo:
        with StageWriter(path) as writer:
            for it in todo:
                try:
                    folder = write_candidate_folder(tasks_dir, it, it["actions"], it["proof"])
                except Exception as exc:  # one bad candidate must not stop the others
                    writer.write({"id": it["id"], "ok": False, "reason": f"assembly_error: {type(exc).__name__}: {exc}",
                                  "task_id": task_id_for(it)})
                    continue
                writer.write({"id": it["id"], "ok": True, "reason": None, "task_id": folder.name,
                              "task_dir": f"{TASKS_DIR}/{folder.name}"})
    return summarize(name, path, (it["id"] for it in items), read_records(path), done_now=len(todo))


def run_proof_stages(out_dir: str | os.PathLike[str], candidates: list[Record], *, model: ModelSpec,
                     backend: str = "bwrap", jobs: int = 2, concurrency: int = 16, progress: bool = True,
                     first_stage: int = 12) -> list[StageResult]:
    """References, proofs and task folders for ``candidates`` (the contract's candidate records) in
    ``out_dir``; a rerun continues where a killed one stopped. Returns the three funnel rows."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = stage_files(first_stage)
    results = []

    p_ref = out / files["references"]
    results.append(run_llm_stage(f"{first_stage} reference solution", p_ref, candidates,
                                 client_factory=lambda: StageClient(model), build_messages=reference_messages,
                                 parse=parse_reference, concurrency=concurrency, progress=progress))
    drop = ("raw", "usage", "attempts", "model", "ok", "reason", "retryable")
    referenced = [{k: v for k, v in it.items() if k not in drop} for it in kept(candidates, read_records(p_ref))]

    p_proof = out / files["proof"]
    results.append(_prove_stage(p_proof, referenced, backend=backend, jobs=jobs, progress=progress,
                                name=f"{first_stage + 1} proof"))
    proven = [{k: v for k, v in it.items() if k not in ("ok", "reason")} for it in kept(referenced, read_records(p_proof))]

    results.append(_assemble_stage(out / files["assembled"], out / TASKS_DIR, proven, name=f"{first_stage + 2} assembly"))
    return results


__all__ = ["TASKS_DIR", "run_proof_stages", "stage_files", "write_candidate_folder"]
