"""``clawgym synth-llm persona2task|skill2task``: argument parsing and printing only (the work is in
:mod:`persona2task`, :mod:`skill2task` and :mod:`assemble`). Exit codes: 0 done (the funnel may
still keep nothing), 2 bad input."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def cmd_persona2task(args: argparse.Namespace) -> int:
    from clawgym_env.synth.llm.client import ModelSpec
    from clawgym_env.synth.llm.persona2task import Persona2TaskConfig, run_persona2task

    api_key = args.api_key or os.environ.get(args.api_key_env)
    generator = _generator_spec(args, api_key)
    judge = None
    if args.judge_model or args.judge_base_url:
        judge = ModelSpec(args.judge_base_url or args.base_url, args.judge_model or args.model,
                          args.judge_api_key or os.environ.get("CLAWGYM_JUDGE_API_KEY") or api_key,
                          temperature=args.judge_temperature, max_tokens=args.max_tokens or None,
                          max_retries=args.max_retries, timeout_s=args.request_timeout, backoff_base_s=args.backoff)
    cfg = Persona2TaskConfig(generator=generator, judge=judge, reference=_reference_spec(args, generator), n=args.n,
                             seed=args.seed, ops_per_task=args.ops_per_task,
                             persona_start=args.persona_start, personas_file=args.personas,
                             concurrency=args.concurrency, dedup=args.dedup, dedup_threshold=args.dedup_threshold,
                             progress=not args.quiet, verifier_rounds=args.verifier_rounds, jobs=args.jobs,
                             backend=args.backend, verifier_timeout_s=args.verifier_timeout,
                             rubric_temperature=args.rubric_temperature, last_stage=args.last_stage)
    return _run_route("persona2task", run_persona2task, args.out, cfg)


def _generator_spec(args: argparse.Namespace, api_key: str | None) -> Any:
    from clawgym_env.synth.llm.client import ModelSpec

    return ModelSpec(args.base_url, args.model, api_key, temperature=args.temperature,
                     max_tokens=args.max_tokens or None, max_retries=args.max_retries,
                     timeout_s=args.request_timeout, backoff_base_s=args.backoff)


def _run_route(name: str, run: Any, out: str, cfg: Any) -> int:
    """Run a route; bad input (a file, a setting, a folder of another run) is exit 2 with its message."""
    try:
        results = run(out, cfg)
    except ValueError as exc:
        print(f"clawgym synth-llm {name}: {exc}", file=sys.stderr)
        return 2
    _print_funnel(results, out)
    return 0


def _print_funnel(results: list[Any], out: str) -> None:
    for r in results:
        rejects = ", ".join(f"{k} {v}" for k, v in r.rejects.items())
        tokens = f"; {r.usage.get('total_tokens', 0)} tokens" if r.usage else ""
        print(f"{r.name:<22} {r.n_in:>6} -> {r.n_out:<6}{'  rejected: ' + rejects if rejects else ''}{tokens}")
    if (Path(out) / "tasks").is_dir():
        print(f"task folders: {out}/tasks  (clawgym validate {out}/tasks; register_suite('{out}/tasks'))")
    print(f"funnel: {out}/report.md")


def _reference_spec(args: argparse.Namespace, generator: Any) -> Any:
    """The reference writer's ModelSpec when --reference-model/--reference-base-url differ from the
    generator; None (the generator) otherwise."""
    if not (args.reference_model or args.reference_base_url):
        return None
    from dataclasses import replace

    return replace(generator, base_url=args.reference_base_url or generator.base_url,
                   model=args.reference_model or generator.model)


def _add_reference_options(sp: Any) -> None:
    sp.add_argument("--reference-model", help="model that writes the reference solutions the proof stage runs "
                    "(default: the generator; same API key)")
    sp.add_argument("--reference-base-url", help="its API root (default: --base-url)")


def add_synth_llm_parser(sub: Any) -> None:
    group = sub.add_parser("synth-llm", help="LLM task synthesis (the paper's SynData pipelines) on an "
                           "OpenAI-compatible endpoint; resumable")
    routes = group.add_subparsers(dest="synth_llm_command", required=True)
    sp = routes.add_parser("persona2task", help="personas x subcategory x operations -> tasks, novelty dedup, "
                           "judge audit, verifier with sandbox validation and repair, rubric (stages 1-11), "
                           "reference solution, proof through the env and gates, task folders (12-14); rerun with "
                           "the same --out to continue")
    sp.add_argument("--base-url", required=True, help="generator API root, e.g. http://127.0.0.1:8000/v1")
    sp.add_argument("--model", required=True, help="generator model name")
    sp.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY, else 'EMPTY')")
    sp.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    sp.add_argument("--judge-model", help="judge model (default: the generator)")
    sp.add_argument("--judge-base-url", help="judge API root (default: --base-url)")
    sp.add_argument("--judge-api-key", help="judge API key (default: $CLAWGYM_JUDGE_API_KEY, else the generator's)")
    sp.add_argument("--out", required=True, help="run folder (stage JSONL files, report.md, report.json)")
    sp.add_argument("--n", type=int, default=10, help="prompts (persona x subcategory x operations), default 10")
    sp.add_argument("--personas", help='JSONL of {"persona": str} (default: our persona generator)')
    sp.add_argument("--persona-start", type=int, default=0, help="index of the first persona")
    sp.add_argument("--ops-per-task", type=int, default=3, help="operations per task (default 3)")
    sp.add_argument("--seed", type=int, default=42)
    sp.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    sp.add_argument("--temperature", type=float, default=0.7)
    sp.add_argument("--judge-temperature", type=float, default=0.7)
    sp.add_argument("--max-tokens", type=int, default=8192, help="completion limit per request (0: none)")
    sp.add_argument("--max-retries", type=int, default=5, help="retries on 429/5xx/timeouts per request")
    sp.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds (doubles)")
    sp.add_argument("--request-timeout", type=float, default=600.0, help="seconds per request")
    sp.add_argument("--dedup", default="auto", choices=["auto", "embedding", "minhash", "off"],
                    help="novelty filter: all-MiniLM-L6-v2 cosine (needs clawgym[synth-llm]), MinHash, or none; "
                         "auto: the embedding if installed")
    sp.add_argument("--dedup-threshold", type=float, help="default 0.90 (embedding cosine) / 0.8 (MinHash Jaccard)")
    sp.add_argument("--verifier-rounds", type=int, default=3,
                    help="verifier generation rounds per task: the first plus repairs fed with the sandbox's "
                         "diagnostics (default 3)")
    sp.add_argument("--jobs", type=int, default=2, help="sandbox validations in parallel (default 2)")
    sp.add_argument("--backend", default="bwrap", choices=["bwrap", "docker"],
                    help="sandbox of the verifier validation (default bwrap)")
    sp.add_argument("--verifier-timeout", type=float, default=20.0, help="seconds per verifier run (default 20)")
    sp.add_argument("--rubric-temperature", type=float, default=0.2, help="rubric generation temperature (default 0.2)")
    sp.add_argument("--last-stage", type=int, default=14, choices=(6, 7, 8, 9, 10, 11, 14),
                    help="stop after this stage (11: tasks with a validated verifier and a rubric; default 14: "
                         "reference solutions, proofs and task folders in OUT/tasks)")
    _add_reference_options(sp)
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(fn=cmd_persona2task)
    _add_skill2task_parser(routes)


def cmd_skill2task(args: argparse.Namespace) -> int:
    """``clawgym synth-llm skill2task`` (the work is in :mod:`skill2task`); exit codes as persona2task's."""
    from clawgym_env.synth.llm.skill2task import Skill2TaskConfig, run_skill2task

    api_key = args.api_key or os.environ.get(args.api_key_env)
    generator = _generator_spec(args, api_key)
    cfg = Skill2TaskConfig(generator=generator, skills_root=args.skills, n=args.n, seed=args.seed,
                           combo_skill_count=args.combo_skill_count, english_only=args.english_only,
                           concurrency=args.concurrency, jobs=args.jobs, backend=args.backend,
                           progress=not args.quiet, reference=_reference_spec(args, generator),
                           last_stage=args.last_stage)
    return _run_route("skill2task", run_skill2task, args.out, cfg)


def _add_skill2task_parser(routes: Any) -> None:
    sp = routes.add_parser("skill2task", help="OpenClaw skills -> annotated, combined -> tasks with input files, "
                           "reward package and rubric, no-op filter in the sandbox (stages 1-7), reference solution, "
                           "proof and task folders (8-10); rerun with the same --out to continue")
    sp.add_argument("--skills", required=True, help="skills corpus: <owner>/<skill>/SKILL.md folders (or their parent)")
    sp.add_argument("--base-url", required=True, help="generator API root, e.g. http://127.0.0.1:8000/v1")
    sp.add_argument("--model", required=True, help="generator model name")
    sp.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY, else 'EMPTY')")
    sp.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    sp.add_argument("--out", required=True, help="run folder (stage JSONL files, report.md, report.json)")
    sp.add_argument("--n", type=int, default=10, help="skills drawn (seeded) and annotated; the synthesisable ones "
                    "are the primary skills, one task each (default 10)")
    sp.add_argument("--combo-skill-count", type=int, default=3, help="supporting skills per primary (default 3)")
    sp.add_argument("--english-only", action="store_true", help="only skills annotated as written in English")
    sp.add_argument("--seed", type=int, default=42)
    sp.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8, the authors' workers)")
    sp.add_argument("--jobs", type=int, default=2, help="sandboxes at once in the no-op filter (default 2)")
    sp.add_argument("--backend", default="bwrap", help="sandbox backend of the no-op filter (default bwrap)")
    sp.add_argument("--temperature", type=float, default=1.0, help="default 1.0 (the authors' run.sh)")
    sp.add_argument("--max-tokens", type=int, default=8192, help="completion limit per request (0: none)")
    sp.add_argument("--max-retries", type=int, default=5, help="retries on 429/5xx/timeouts per request")
    sp.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds (doubles)")
    sp.add_argument("--request-timeout", type=float, default=600.0, help="seconds per request")
    sp.add_argument("--last-stage", type=int, default=10, choices=(7, 10),
                    help="7: stop after the authors' filter; default 10: reference solutions, proofs and task "
                         "folders in OUT/tasks")
    _add_reference_options(sp)
    sp.add_argument("--quiet", action="store_true", help="no progress bars")
    sp.set_defaults(fn=cmd_skill2task)


__all__ = ["add_synth_llm_parser"]
