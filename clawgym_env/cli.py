"""The ``clawgym`` command: inspect suites, replay scripted episodes, verify workspaces, score no-ops,
evaluate agents."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clawgym_env.tasks import Task, TaskFormatError, TaskSource, open_source, write_task
from clawgym_env.tasks.files import input_size
from clawgym_env.tools.schemas import PROFILES
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, OPENCLAW_VERSIONS


def _resolve_task(spec: str) -> Task:
    """A task folder, SUITE_DIR:TASK_ID, builtin:task-0042 or ClawGym/task-0042."""
    from clawgym_env.registration import resolve_task_spec

    try:
        return resolve_task_spec(spec)[0]
    except TaskFormatError:
        raise  # a broken task folder: main() reports it (exit 2)
    except ValueError as exc:
        raise SystemExit(f"clawgym: {exc}") from None


def _select(ids: list[str], limit: int, sample: int) -> list[str]:
    """``sample`` ids spread evenly over the suite, then the first ``limit``."""
    if sample:
        step = max(1, len(ids) // sample)
        ids = ids[::step][:sample]
    return ids[:limit] if limit else ids


def _load_actions(path: Path) -> list[Any]:
    """A JSON list of actions, or JSONL with one action per line."""
    text = path.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict) and "actions" in data:
        data = data["actions"]
    if not isinstance(data, list):
        raise SystemExit(f"clawgym: {path} must hold a JSON list of actions")
    return data


def _backend(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--backend`` and ``--docker-*`` options as a backend config (``EnvConfig.backend``)."""
    docker = {k: v for k, v in (("image", args.docker_image), ("cpus", args.docker_cpus),
                                ("pool_size", args.docker_pool)) if v is not None}
    if docker and args.backend != "docker":
        raise SystemExit(f"clawgym: --docker-image/--docker-cpus/--docker-pool need --backend docker "
                         f"(not {args.backend})")
    return {"kind": args.backend, **docker}


def _env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {"backend": _backend(args), "profile": args.profile, "openclaw_version": args.openclaw_version}
    if getattr(args, "max_steps", None):
        kw["max_steps"] = args.max_steps
    if getattr(args, "network", False):
        kw["network"] = True
    return kw


def cmd_list(args: argparse.Namespace) -> int:
    source = open_source(args.suite)
    ids = _select(source.ids(), args.limit, 0)
    for task_id in ids:
        if args.queries:
            task = source.load(task_id)
            print(f"{task_id}\t{task.user_query[:100].replace(chr(10), ' ')}")
        else:
            print(task_id)
    print(f"# {len(source)} tasks in {getattr(source, 'path', args.suite)}", file=sys.stderr)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write ``--n`` synthesized tasks (indices start..start+n-1 of seed ``--seed``) as task folders."""
    from clawgym_env.progress import progress_bar
    from clawgym_env.synth.builtin import task_name
    from clawgym_env.synth.compose import synthesize

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with progress_bar("synthesizing", args.n, enabled=not args.quiet) as advance:
        for i in range(args.start, args.start + args.n):
            write_task(synthesize(i, seed=args.seed, version=args.version, task_id=task_name(i)).task, out,
                       overwrite=args.overwrite)
            advance()
    secs = time.perf_counter() - start
    print(f"wrote {args.n} tasks to {out} in {secs:.2f} s ({args.n / secs:.0f} tasks/s; seed {args.seed}, "
          f"suite version {args.version})")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    task = _resolve_task(args.task)
    if args.json:
        print(json.dumps({**task.data_entry(), "input_files": sorted(task.input_files),
                          "reward_files": sorted(task.reward_files)}, indent=2, ensure_ascii=False))
        return 0
    print(f"task_id:   {task.task_id}")
    print(f"metadata:  {json.dumps(task.metadata, ensure_ascii=False)}")
    print(f"mount dir: {task.input_mount_dir}")
    size = sum(map(input_size, task.input_files.values()))  # big inputs (TaskFile) are sized, not read
    print(f"inputs:    {len(task.input_files)} files, {size} bytes")
    for rel in sorted(task.workspace_files()):
        print(f"  {rel}")
    print(f"verifier:  {', '.join(sorted(task.reward_files))}")
    print("\n" + task.user_query)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from clawgym_env.agents.replay import ScriptedAgent
    from clawgym_env.env import ClawGymEnv
    from clawgym_env.rollout.driver import run_episode

    task = _resolve_task(args.task)
    if args.oracle:
        if task.oracle is None:
            raise SystemExit(f"clawgym run: task {task.task_id} has no oracle; give --actions FILE")
        actions = list(task.oracle)
    elif args.actions:
        actions = _load_actions(Path(args.actions))
    else:
        raise SystemExit("clawgym run: give --actions FILE or --oracle")
    env = ClawGymEnv(task, render_mode="ansi", **_env_kwargs(args))
    try:
        # the script, then "Done." if it runs out of turns: the episode ends as OpenClaw ends it
        result = asyncio.run(run_episode(env, ScriptedAgent(actions, final="Done."), seed=args.seed))
        if result.error is not None:  # not the agent's doing: show the traceback as it was
            raise SystemExit(f"clawgym run: {result.infra_error}\n{result.error['traceback']}")
        info = result.final_info or {}
        if args.json:
            print(json.dumps({"task_id": task.task_id, "reward": result.reward, "terminated": result.terminated,
                              "truncated": result.truncated, "steps": info.get("step", result.steps),
                              "verifier": result.verifier, "messages": result.messages[1:]},
                             indent=2, ensure_ascii=False))
        else:
            print(env.render())
            v = result.verifier or {}
            if v.get("subscores"):
                print("[subscores] " + json.dumps(v["subscores"], ensure_ascii=False))
            print(f"reward: {result.reward:.4f}")
        return 1 if result.infra_error is not None else 0
    finally:
        env.close()


def cmd_verify(args: argparse.Namespace) -> int:
    from clawgym_env.verify.offline import verify_workspace

    task = _resolve_task(args.task)
    result = verify_workspace(task, Path(args.workspace), backend=args.backend, timeout_s=args.timeout)
    if args.json:
        print(json.dumps(result.to_info(), indent=2, ensure_ascii=False))
    else:
        print(f"reward: {result.reward:.4f}")
        if result.reason:
            print(f"reason: {result.reason}")
        if result.infra_error:
            print(f"INFRA ERROR: {result.infra_error}")
        if result.subscores:
            for key, value in result.subscores.items():
                print(f"  {key}: {value}")
    return 1 if result.infra_error else 0


def _print_gate(report: dict[str, Any], show_all: bool) -> int:
    s = report["summary"]
    alone = f" ({s['without_oracle']} without an oracle: no-op part only)" if s.get("without_oracle") else ""
    print(f"tasks: {s['tasks']}{alone}  passed: {s['passed']}  crashes: {s['crashes']}  oracle mean: {s['oracle_mean']}  "
          f"oracle = 1.0: {s['oracle_perfect']}  no-op mean: {s['noop_mean']}  no-op max: {s['noop_max']}  "
          f"non-discriminative checks: {s['not_discriminative_checks']}  mutations caught: "
          f"{s['mutations'] - s['mutations_not_caught']}/{s['mutations']}")
    for r in report["reports"]:
        if show_all or not r["passed"]:
            bad = {k: v for k, v in r["mutations"].items() if v >= 1.0}
            print(f"  {r['task_id']}: passed={r['passed']} oracle={r['oracle_reward']} noop={r['noop_reward']} "
                  f"non_discriminative={r['not_discriminative']} uncaught_mutations={list(bad)} errors={r['errors']}")
    if "near_duplicates" in report:
        print(f"near-duplicate instructions: {len(report['near_duplicates'])} pairs")
        for a, b, sim in report["near_duplicates"][:20]:
            print(f"  {a} ~ {b} (jaccard {sim:.2f})")
    return 0 if s["passed"] == s["tasks"] and not report.get("near_duplicates") else 1


def _print_equivalence(report: dict[str, Any], show_all: bool) -> bool:
    s = report["summary"]
    rate = f"{s['pass_rate']:.1%}" if s["pass_rate"] is not None else "n/a"
    print(f"equivalence gate: {s['pairs_passed']}/{s['pairs']} (task, rewrite) pairs keep the oracle's reward "
          f"({rate}; needs >= 99%) over {s['tasks_checked']} tasks; skipped: {s['skipped']}  crashes: {s['crashes']}  "
          f"outputs left alone as copies of inputs: {s['copies_left_alone']}")
    for name, r in sorted(s["per_rewrite"].items(), key=lambda kv: (kv[1]["pass_rate"], kv[0])):
        examples = [f"{t['task_id']} ({', '.join(sorted({c for x in t['results'] if x['rewrite'] == name for c in x['failed_checks']}))})"
                    for t in report["reports"] if name in t["pairs"] and t["pairs"][name] < (t["oracle_reward"] or 1.0) - 1e-9]
        print(f"  {name:<24} {r['passed']:>5}/{r['pairs']:<5} {r['pass_rate']:>7.1%}  mean {r['mean_reward']:.3f}"
              + (f"  e.g. {'; '.join(examples[:3])}" if examples else ""))
    reasons = sorted({r["skipped"] for r in report["reports"] if r["skipped"]})
    for reason in reasons:
        print(f"  skipped: {reason}")
    for r in report["reports"]:
        bad = {k: v for k, v in r["pairs"].items() if v < (r["oracle_reward"] or 1.0) - 1e-9}
        if r["errors"] or (show_all and bad):
            print(f"  {r['task_id']}: below the oracle={bad} errors={r['errors']}")
    return s["gate_passed"] is not False


def _print_adversarial(report: dict[str, Any], show_all: bool) -> bool:
    s = report["summary"]
    print(f"adversarial gate over {s['tasks']} tasks (output paths from the oracle: {s['outputs_from']['oracle']}, "
          f"from the instruction: {s['outputs_from']['instruction']}; none found: {s['no_outputs']})  crashes: {s['crashes']}")
    for name, r in s["strategies"].items():
        if not r["tasks"]:
            print(f"  {name:<18} not run (needs an oracle)" if name == "perturbed_values" else f"  {name:<18} not run")
            continue
        print(f"  {name:<18} tasks {r['tasks']:>4}  mean {r['mean']:.3f}  max {r['max']:.3f}  "
              f">= 0.5: {r['share_ge_0.5']:.1%}  > 0.1: {r['share_gt_0.1']:.1%}  "
              f"{'ok' if r['gate_passed'] else 'over the limit'}"
              + (f"  worst: {', '.join(f'{t} ({v:.2f})' for t, v in r['worst'][:3])}" if r["worst"] else ""))
    for r in report["reports"]:
        if r["errors"] or (show_all and r["rewards"]):
            print(f"  {r['task_id']}: rewards={r['rewards']} credited={r['credited']} errors={r['errors']}")
    return bool(s["gate_passed"])


def _print_family(report: dict[str, Any], show_all: bool) -> bool:
    s = report["summary"]
    print(f"family gate (one fixed recipe-following script on every step) over {s['tasks']} tasks  "
          f"crashes: {s['crashes']}")
    for name, f in s["families"].items():
        print(f"  {name:<20} steps {f['steps']:>4}  solved {f['solved']:>4} ({f['solved_share']:.1%}; needs <= 5%)  "
              f"checks passed {f['checks_passed_mean']:.1%}  {'ok' if f['gate_passed'] else 'over the limit'}")
    worst = sorted(((o, f) for o, f in s["operations"].items() if f["solved"]), key=lambda x: -x[1]["solved_share"])
    if worst:
        print("  solved most often: " + ", ".join(f"{o} {f['solved']}/{f['steps']}" for o, f in worst[:6]))
    for r in report["reports"]:
        if r["errors"] or (show_all and any(x["solved"] for x in r["steps"])):
            print(f"  {r['task_id']}: solved steps={[x['op'] for x in r['steps'] if x['solved']]} errors={r['errors']}")
    return bool(s["gate_passed"])


def cmd_validate(args: argparse.Namespace) -> int:
    """The quality gate on task folders (oracle parts only where a task has oracle.json); with
    --equivalence / --adversarial also those gates (their own summaries, all in --out)."""
    from clawgym_env.synth.dedup import near_duplicates
    from clawgym_env.synth.gate import gate_many

    spec = args.suite or args.dir
    if not spec:
        raise SystemExit("clawgym validate: give a task folder (or --suite builtin)")
    source = open_source(spec)
    from clawgym_env.synth.builtin import BuiltinSource

    if args.family and not isinstance(source, BuiltinSource):
        raise SystemExit("clawgym validate --family: built-in suites only (it needs each step's instruction and "
                         f"checks, which a task folder does not record); got {spec!r}")
    ids = _select(source.ids(), args.limit, args.sample)
    report = gate_many(source.load, ids, jobs=args.jobs, backend=args.backend, progress=not args.quiet)
    queries = [source.load(i).user_query for i in ids]
    report["near_duplicates"] = [(ids[a], ids[b], sim) for a, b, sim in near_duplicates(queries)]
    if args.equivalence:
        from clawgym_env.synth.equivalence import equivalence_many

        report["equivalence"] = equivalence_many(source.load, ids, jobs=args.jobs, backend=args.backend,
                                                 progress=not args.quiet)
    if args.adversarial:
        from clawgym_env.synth.adversarial import adversarial_many

        report["adversarial"] = adversarial_many(source.load, ids, jobs=args.jobs, backend=args.backend,
                                                 progress=not args.quiet)
    if args.family:
        from clawgym_env.synth.family_gate import family_many

        report["family"] = family_many(source, ids, jobs=args.jobs, backend=args.backend, progress=not args.quiet)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    rc = _print_gate(report, args.verbose)
    if "equivalence" in report and not _print_equivalence(report["equivalence"], args.verbose):
        rc = 1
    if "adversarial" in report and not _print_adversarial(report["adversarial"], args.verbose):
        rc = 1
    if "family" in report and not _print_family(report["family"], args.verbose):
        rc = 1
    return rc


def _split_categories(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


def _parse_agent_options(items: list[str] | None) -> dict[str, Any]:
    """``--agent-option KEY=VALUE`` pairs; a value is JSON where it parses, else the string."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def _apply_agent_config(args: argparse.Namespace) -> None:
    """Fill the agent flags left unset from ``--agent-config FILE`` (flags win); raises
    AgentConfigError listing every problem (unknown keys, missing model, unset variables, paths)."""
    import os

    if not args.agent_config:
        args.agent = args.agent or "oracle"
        return
    from clawgym_env.agents.config import resolve_agent_config

    api_key = args.api_key or (os.environ.get(args.api_key_env) if args.api_key_env else None)
    r = resolve_agent_config(args.agent_config, agent=args.agent, model=args.model, base_url=args.base_url,
                             api_key=api_key, temperature=args.temperature, max_tokens=args.max_tokens,
                             max_steps=args.max_steps or None, chat_template=args.chat_template,
                             options=_parse_agent_options(args.agent_option))
    args.agent, args.model, args.base_url, args.api_key = r.agent, r.model, r.base_url, r.api_key
    args.temperature, args.max_tokens, args.max_steps = r.temperature, r.max_tokens, r.max_steps or 0
    args.chat_template = r.chat_template if r.agent == "hf" else args.chat_template
    args.resolved_agent_options = r.options
    args.resolved_agent = r


def _eval_config(args: argparse.Namespace, out: str) -> Any:
    """The EvalConfig ``clawgym eval`` and ``clawgym calibrate`` build from the same options."""
    import os

    from clawgym_env.agents import AgentOptionError, check_agent_options
    from clawgym_env.bench.runner import EvalConfig

    agent_options = dict(getattr(args, "resolved_agent_options", None) or _parse_agent_options(args.agent_option))
    for flag, key, value in (("--chat-template", "chat_template", args.chat_template),
                             ("--strict", "strict", args.strict or None)):
        if value is not None:
            if args.agent != "hf":
                raise AgentOptionError(f"{flag} is for --agent hf (an OpenAI-compatible server applies its own "
                                       f"template: vLLM's --chat-template)")
            agent_options[key] = value
    check_agent_options(args.agent, agent_options)
    config = EvalConfig(
        out=out, suite=args.suite, agent=args.agent, model=args.model, base_url=args.base_url,
        api_key=args.api_key or os.environ.get(args.api_key_env or "OPENAI_API_KEY") or None,
        agent_config=str(args.agent_config) if args.agent_config else None, temperature=args.temperature,
        max_tokens=args.max_tokens, agent_options=agent_options,
        actions=_load_actions(Path(args.actions)) if args.actions else None, replay=args.replay,
        concurrency=args.concurrency, repeats=args.repeats, limit=args.limit, sample=args.sample,
        categories=_split_categories(args.categories), max_steps=args.max_steps or None,
        episode_timeout_s=args.episode_timeout or None, max_episode_tokens=args.max_episode_tokens or None,
        run_seed=args.seed, backend=args.backend, profile=args.profile,
        openclaw_version=args.openclaw_version, network=True if args.network else None,
        docker={k: v for k, v in _backend(args).items() if k != "kind"},
        judge_base_url=args.judge_base_url, judge_model=args.judge_model,
        judge_api_key=args.judge_api_key or os.environ.get("CLAWGYM_JUDGE_API_KEY") or None,
        retry_infra_errors=args.retry_infra_errors, score_truncated=not args.no_score_truncated,
        wandb=args.wandb, wandb_project=args.wandb_project, wandb_name=args.wandb_name, progress=not args.quiet,
        ray=args.ray, ray_workers=args.ray_workers,
    )
    return config


def _run_eval(args: argparse.Namespace, command: str) -> tuple[str, dict[str, Any] | None]:
    """Run (or resume) the evaluation the options describe; returns its folder and results, or
    None for the results after a Ctrl-C (the finished episodes stay in its records)."""
    from clawgym_env.agents import AgentOptionError
    from clawgym_env.bench.runner import run_eval

    try:
        _apply_agent_config(args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = args.out or str(Path("runs") / f"{command}-{Path(args.suite).name}-{args.agent}-{stamp}")
        config = _eval_config(args, out)
    except AgentOptionError as exc:  # a usage error, like argparse's: one line (a config file: one per problem), exit 2
        print(f"clawgym {command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.check_config:
        resolved = getattr(args, "resolved_agent", None)
        print(json.dumps(resolved.public() if resolved is not None else {"agent": args.agent, "model": args.model},
                         indent=2))
        print(f"clawgym {command}: the agent settings are complete" +
              (f" ({args.agent_config})" if args.agent_config else ""), file=sys.stderr)
        raise SystemExit(0)
    try:
        return out, run_eval(config)
    except ValueError as exc:
        raise SystemExit(f"clawgym {command}: {exc}") from None
    except KeyboardInterrupt:
        print(f"clawgym {command}: interrupted; finished episodes are in {Path(out) / 'records.jsonl'}; "
              "rerun the same command to resume", file=sys.stderr)
        return out, None


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Per-task pass rates of an agent (``clawgym eval`` with repeats, then the calibration table)."""
    from clawgym_env.bench.calibrate import CALIBRATION_FILE, calibrate, format_calibration, write_calibration
    from clawgym_env.rollout.records import latest_by_key, read_records

    if args.into_suite and not Path(args.suite).is_dir():
        raise SystemExit(f"clawgym calibrate: --into-suite needs a suite folder, not {args.suite!r}")
    out, results = _run_eval(args, "calibrate")
    if results is None:
        return 130
    source = open_source(args.suite)
    records = list(latest_by_key(read_records(Path(out) / "records.jsonl", slim=True)).values())
    agent = args.agent + (f":{args.model}" if args.model else "")
    rows = calibrate(records, agent=agent, difficulty_of=lambda t: _stated_difficulty(source.load(t).metadata))
    written = [write_calibration(rows, Path(out) / CALIBRATION_FILE)]
    if args.into_suite:
        written.append(write_calibration(rows, Path(args.suite) / CALIBRATION_FILE))
    print(format_calibration(rows))
    print("calibration: " + ", ".join(str(p) for p in written) + f"  (report: {Path(out) / 'report.html'})")
    return 1 if results["summary"]["infra_errors"] else 0


def _stated_difficulty(metadata: dict[str, Any]) -> int | None:
    """``metadata.difficulty`` as an int: ours is 1-5, the authors' is that or ``{"score": n, ...}``."""
    value = metadata.get("difficulty")
    if isinstance(value, dict):
        value = value.get("score")
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate an agent on a suite through the rollout engine; write records and reports to --out."""
    from clawgym_env.bench.runner import format_summary

    out, results = _run_eval(args, "eval")
    if results is None:
        return 130
    print(format_summary(results))
    print(f"report: {Path(out) / 'report.html'}  (also report.md, results.json, records.jsonl)")
    return 1 if results["summary"]["infra_errors"] else 0


def cmd_export_session(args: argparse.Namespace) -> int:
    """Each trajectory record as an OpenClaw session JSONL file."""
    from clawgym_env.rollout.records import export_sessions

    written = export_sessions(args.records, args.out_dir)
    print(f"wrote {len(written)} session files to {args.out_dir}")
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    """Serve the trajectory viewer on 127.0.0.1 until interrupted."""
    from clawgym_env.viewer.server import serve

    try:
        viewer = serve(args.run, port=args.port, compare=args.compare, suite=args.suite)
    except FileNotFoundError:
        raise  # no records there: main() says so (exit 2)
    except OSError as exc:
        raise SystemExit(f"clawgym: cannot serve on 127.0.0.1:{args.port}: {exc} (try --port 0)") from None
    print(f"viewing {args.run}" + (f" against {args.compare}" if args.compare else "") + f" at {viewer.url}  "
          "(Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        viewer.close()
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    """Coverage of the built-in suite and/or the text diversity of task folders, side by side."""
    from clawgym_env.progress import progress_bar
    from clawgym_env.synth.builtin import SUITE_SIZE, SUITE_VERSION, BuiltinSource, task_name
    from clawgym_env.synth.coverage import coverage, diversity_table, text_coverage

    folders = [s for s in args.suites if s != "builtin"]
    columns: dict[str, dict[str, Any]] = {}
    cov: dict[str, Any] | None = None
    if not folders or args.builtin or args.n or "builtin" in args.suites:
        n = args.n or SUITE_SIZE
        source = BuiltinSource(version=args.version)
        with progress_bar("generating", n, enabled=not args.quiet) as advance:
            cov = coverage(n, lambda i: source.load(task_name(i)), lambda _: advance())
        columns[f"{args.version} (first {n:,})" if n < SUITE_SIZE else args.version] = cov
    for spec in folders:
        src = open_source(spec)
        ids = src.ids()
        texts = []
        with progress_bar(f"reading {spec}", len(ids), enabled=not args.quiet) as advance:
            for task_id in ids:
                texts.append(src.load(task_id).user_query)
                advance()
        label = Path(spec).name or spec
        columns[label if label not in columns else spec] = text_coverage(texts)
    if args.json:
        print(json.dumps(cov if cov is not None and not folders else columns, indent=2))
        return 0
    if cov is not None:
        print(f"built-in suite: {cov['tasks']} tasks" + (f" ({args.version})" if args.version != SUITE_VERSION else ""))
        print(f"categories {len(cov['categories'])}/9, subcategories {len(cov['subcategories'])}/43, operations "
              f"{len(cov['operations'])}/26 (missing: {cov['categories_missing'] + cov['subcategories_missing'] + cov['operations_missing'] or 'none'})")
        print(f"distinct personas: {cov['personas']}   chain lengths: {cov['chain_lengths']}   difficulty: {cov['difficulty']}")
        ic = cov["instruction_chars"]
        print(f"instruction chars: min {ic['min']}  p10 {ic['p10']:.0f}  median {ic['median']:.0f}  p90 {ic['p90']:.0f}  "
              f"max {ic['max']}  mean {ic['mean']:.0f}")
        print(f"distinct 4-gram ratio: {cov['distinct_4gram_ratio']:.4f}   distinct texts: {cov['distinct_texts']}   "
              f"near-duplicate rate: {cov['near_duplicate_rate']:.4%} ({cov['near_duplicate_pairs']} pairs)")
        print("\nwork by difficulty (medians):")
        print("  difficulty  tasks  steps  oracle calls (p90)  input files  instruction chars")
        for d, w in cov["by_difficulty"].items():
            print(f"  {d:>10}  {w['tasks']:5d}  {w['steps']:5g}  {w['oracle_calls']:7g} ({w['oracle_calls_p90']:4.0f})      "
                  f"{w['input_files']:11g}  {w['instruction_chars']:17,.0f}")
        print("\ntasks per category:")
        for k, v in sorted(cov["categories"].items()):
            print(f"  {v:6d}  {k}")
        print("operations used:")
        for k, v in sorted(cov["operations"].items()):
            print(f"  {v:6d}  {k}")
        print()
    print("text diversity (skeletons: numbers, names, paths, quoted/backticked spans and identifiers stripped):")
    print(diversity_table(columns))
    if cov is None:
        return 0
    return 0 if not (cov["categories_missing"] or cov["subcategories_missing"] or cov["operations_missing"]) else 1


def cmd_noop(args: argparse.Namespace) -> int:
    from clawgym_env.bench.noop import noop_scores

    source: TaskSource = open_source(args.suite)
    ids = _select(source.ids(), args.limit, args.sample)
    report = noop_scores(source, ids, jobs=args.jobs, backend=args.backend, compare_check=not args.no_compare,
                         progress=not args.quiet)
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    s = report["summary"]
    print(f"tasks: {s['tasks']}  crashes: {s['crashes']}  mean: {s['mean']:.5f}  max: {s['max']:.4f}  "
          f"nonzero: {s['nonzero']}  mismatches: {s['mismatches']}  ({s['seconds']:.1f} s)")
    for row in report["rows"]:
        if row.get("crash") or row.get("mismatch"):
            print(f"  {row['task_id']}: reward={row['reward']} direct={row.get('direct')} "
                  f"crash={row.get('crash')} mismatch={row.get('mismatch')}")
    return 1 if s["crashes"] or s["mismatches"] else 0


def cmd_sandbox_build(args: argparse.Namespace) -> int:
    """Build (or reuse) the default sandbox rootfs and its docker image: scripts/build_rootfs.sh."""
    from clawgym_env.sandbox import SandboxError
    from clawgym_env.sandbox.rootfs import build

    try:
        root = build(dest=Path(args.dest) if args.dest else None, image=not args.no_image, force=args.force,
                     mirror=args.mirror)
    except SandboxError as exc:
        print(f"clawgym: {exc}", file=sys.stderr)
        return 1
    print(root)
    return 0


def cmd_sandbox_gc(args: argparse.Namespace) -> int:
    """Remove what killed drivers left, on every backend: docker containers (owner dead or hard
    lifetime passed), sandbox cgroups, then host folders (workspaces, verifier folders) whose owner
    process is gone."""
    from clawgym_env.sandbox.reaper import collect

    report = collect(dry_run=args.dry_run)
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "leaked": [vars(x) for x in report.leaked],
                          "errors": report.errors}))
    else:
        for item in report.leaked:
            print(f"{'would remove' if args.dry_run else 'removed'} {item.kind} {item.name}: {item.reason}")
        for error in report.errors:
            print(f"clawgym: {error}", file=sys.stderr)
        kinds = {k: sum(1 for x in report.leaked if x.kind == k) for k in ("container", "cgroup", "folder")}
        print(f"{kinds['container']} leaked container(s), {kinds['cgroup']} cgroup(s), {kinds['folder']} folder(s) "
              f"{'found' if args.dry_run else 'removed'}")
    docker_skipped = any(e.startswith("docker containers not checked") for e in report.errors)
    return 1 if len(report.errors) > int(docker_skipped) else 0


def _add_sandbox_commands(sub: Any) -> None:
    """``clawgym sandbox <action>``: manage sandbox infrastructure. Add an action with
    ``actions.add_parser(...)`` + ``set_defaults(fn=...)``."""
    group = sub.add_parser("sandbox", help="sandbox infrastructure: build the rootfs/image, ...")
    actions = group.add_subparsers(dest="sandbox_command", required=True)

    sp = actions.add_parser("build", help="build (or reuse) the default sandbox rootfs offline from Debian "
                            "packages, and import it into docker as clawgym/sandbox:bookworm")
    sp.add_argument("--dest", help="folder for root filesystems (default: $CLAWGYM_ROOTFS_DIR or "
                    "/var/lib/clawgym/rootfs)")
    sp.add_argument("--mirror", help="Debian mirror (default: $CLAWGYM_DEBIAN_MIRROR or http://deb.debian.org/debian)")
    sp.add_argument("--no-image", action="store_true", help="skip the docker import")
    sp.add_argument("--force", action="store_true", help="rebuild even if the same rootfs exists")
    sp.set_defaults(fn=cmd_sandbox_build)

    sp = actions.add_parser("gc", help="remove what killed drivers left: docker containers and the host folders "
                            "(workspaces, verifier folders) of every backend whose owner process is gone")
    sp.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_sandbox_gc)


def build_parser() -> argparse.ArgumentParser:
    from clawgym_env.synth.builtin import (  # light: no generator until a task is made
        SUITE_VERSION,
        SUITE_VERSIONS,
    )

    p = argparse.ArgumentParser(prog="clawgym", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def env_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--backend", default="bwrap", help="sandbox backend: bwrap (default), docker, or local (unsafe)")
        sp.add_argument("--profile", default="coding", choices=list(PROFILES),
                        help="tool profile: coding (5 tools, default), rl (OpenClaw's 15-tool coding profile), "
                        "openclaw (the SFT data's 19 tools)")
        sp.add_argument("--openclaw-version", default=DEFAULT_OPENCLAW_VERSION, choices=list(OPENCLAW_VERSIONS),
                        help="whose tool schemas, validation and texts: 2026.3.24 (SFT data, default) or 2026.4.1 "
                        "(ClawGym-RL's image)")
        sp.add_argument("--docker-image", default=None, help="docker backend: image (default $CLAWGYM_DOCKER_IMAGE, "
                        "else clawgym/sandbox:bookworm)")
        sp.add_argument("--docker-cpus", type=float, default=None, help="docker backend: CPU quota per container "
                        "(default $CLAWGYM_DOCKER_CPUS, else none)")
        sp.add_argument("--docker-pool", type=int, default=None, help="docker backend: containers kept started "
                        "(default $CLAWGYM_DOCKER_POOL, else 0)")

    sp = sub.add_parser("list", help="list the task ids of a suite")
    sp.add_argument("suite", help="builtin, or a folder of ClawGym task folders")
    sp.add_argument("--limit", type=int, default=0)
    sp.add_argument("--queries", action="store_true", help="show the start of each user query")
    sp.set_defaults(fn=cmd_list)

    sp = sub.add_parser("show", help="show one task")
    sp.add_argument("task", help="a task folder, or SUITE_DIR:TASK_ID")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_show)

    sp = sub.add_parser("run", help="replay a scripted action list on a task; print transcript and reward")
    sp.add_argument("task", help="a task folder, SUITE_DIR:TASK_ID, or a built-in id (ClawGym/task-0042)")
    sp.add_argument("--actions", help="JSON list (or JSONL) of actions: assistant messages, "
                    "tool-call dicts or raw text with <tool_call> blocks")
    sp.add_argument("--oracle", action="store_true", help="play the task's own oracle (synthesized tasks)")
    sp.add_argument("--max-steps", type=int, default=0)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--network", action="store_true", help="let the sandbox reach the network")
    sp.add_argument("--json", action="store_true")
    env_opts(sp)
    sp.set_defaults(fn=cmd_run)

    sp = sub.add_parser("verify", help="score an existing workspace directory with a task's verifier")
    sp.add_argument("task", help="a task folder, or SUITE_DIR:TASK_ID")
    sp.add_argument("--workspace", required=True, help="directory holding the workspace to score (copied, not modified)")
    sp.add_argument("--timeout", type=float, default=120.0)
    sp.add_argument("--json", action="store_true")
    env_opts(sp)
    sp.set_defaults(fn=cmd_verify)

    sp = sub.add_parser("synth", help="write synthesized tasks as ClawGym task folders")
    sp.add_argument("--n", type=int, required=True, help="how many tasks")
    sp.add_argument("--seed", type=int, default=0, help="suite seed (0 = the built-in suite)")
    sp.add_argument("--start", type=int, default=0, help="first task index")
    sp.add_argument("--out", required=True, help="output folder")
    sp.add_argument("--overwrite", action="store_true")
    sp.add_argument("--quiet", action="store_true")
    sp.add_argument("--version", default=SUITE_VERSION, choices=SUITE_VERSIONS,
                    help=f"built-in suite version to write (default {SUITE_VERSION})")
    sp.set_defaults(fn=cmd_synth)

    def gate_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--jobs", type=int, default=2, help="tasks gated at once")
        sp.add_argument("--limit", type=int, default=0, help="only the first N tasks")
        sp.add_argument("--sample", type=int, default=0, help="N tasks spread evenly over the suite")
        sp.add_argument("--out", help="write the per-task report as JSON")
        sp.add_argument("--verbose", action="store_true", help="print every task, not only failures")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")
        env_opts(sp)

    sp = sub.add_parser("validate", help="quality gate on task folders: oracle 1.0, no-op ~0, discriminative "
                        "checks, mutations caught, no near-duplicate instructions")
    sp.add_argument("dir", nargs="?", help="a task folder or a folder of them (or builtin)")
    sp.add_argument("--suite", help="same as DIR; 'builtin' gates the built-in suite (with --sample/--limit)")
    sp.add_argument("--equivalence", action="store_true",
                    help="also rescore harmless rewrites of the oracle's outputs (each must keep the oracle's reward)")
    sp.add_argument("--adversarial", action="store_true",
                    help="also score cheap non-solutions: instruction echo, empty-but-valid files, a copied input, "
                         "the oracle's outputs with every value changed")
    sp.add_argument("--family", action="store_true",
                    help="built-in suites: also run one fixed recipe-following script on every step (after the "
                         "oracle's earlier steps); no operation family may be solved on more than 5%% of its steps")
    gate_opts(sp)
    sp.set_defaults(fn=cmd_validate)

    def eval_opts(sp: argparse.ArgumentParser, *, repeats: int) -> None:
        """The agent, budget, run and backend options ``eval`` and ``calibrate`` share."""
        sp.add_argument("--agent", default=None, choices=["oracle", "openai", "hf", "replay", "scripted"],
                        help="oracle (default): the task's oracle (synthesized tasks); openai: an OpenAI-compatible "
                        "endpoint; hf: a local transformers model; replay: recorded trajectories (--replay); "
                        "scripted: the same --actions on every task (none: a no-op agent)")
        sp.add_argument("--agent-config", metavar="YAML",
                        help="an agent recipe (agents/NAME.yaml: agent kind, model, base_url, API key variable, "
                        "sampling, chat template, max steps, options); the flags given here win over it")
        sp.add_argument("--check-config", action="store_true",
                        help="only check the agent settings (--agent-config merged with the flags) and print them")
        sp.add_argument("--model", help="served model name (openai) or model path / hub id (hf)")
        sp.add_argument("--base-url", help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
        sp.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY, else 'EMPTY')")
        sp.add_argument("--api-key-env", default=None, help="environment variable holding the API key (default "
                        "OPENAI_API_KEY, or the --agent-config file's api_key_env)")
        sp.add_argument("--temperature", type=float, help="sampling temperature (agent default if not given)")
        sp.add_argument("--max-tokens", type=int, help="generation limit per turn")
        sp.add_argument("--agent-option", action="append", metavar="KEY=VALUE",
                        help="extra agent constructor option (value parsed as JSON when it can be), repeatable")
        sp.add_argument("--chat-template", metavar="NAME_OR_PATH",
                        help="hf: the chat template, a TRL template name (e.g. qwen2_5) or a .jinja file (default: the "
                        "tokenizer's own; one that drops tool calls or tool schemas gets a warning)")
        sp.add_argument("--strict", action="store_true",
                        help="hf: refuse a chat template that drops tool calls or tool schemas instead of warning")
        sp.add_argument("--actions", help="scripted agent: JSON list (or JSONL) of actions played on every task")
        sp.add_argument("--replay", help="replay agent: trajectory JSONL (e.g. an earlier records.jsonl), by task_id")
        sp.add_argument("--concurrency", "--jobs", type=int, default=8, help="episodes in flight at once")
        sp.add_argument("--repeats", type=int, default=repeats, help="episodes per task (pass@k and pass rates use "
                        f"them; default {repeats})")
        sp.add_argument("--limit", type=int, default=0, help="only the first N selected tasks")
        sp.add_argument("--sample", type=int, default=0, help="N tasks spread evenly over the suite")
        sp.add_argument("--categories", action="append", help="only tasks whose metadata.category is one of these "
                        "(comma-separated, case-insensitive; repeatable)")
        sp.add_argument("--max-steps", type=int, default=0, help="assistant turns per episode (default: the env's, 64)")
        sp.add_argument("--episode-timeout", type=float, default=0, help="wall seconds per episode (0: none)")
        sp.add_argument("--max-episode-tokens", type=int, default=0,
                        help="total tokens (prompt + completion, summed over turns) per episode (0: none)")
        sp.add_argument("--no-score-truncated", action="store_true",
                        help="do not score the workspace of an episode cut by --episode-timeout/--max-episode-tokens")
        sp.add_argument("--seed", type=int, default=0, help="run seed; each episode's seed derives from it")
        sp.add_argument("--out", help="output folder (records.jsonl, results.json, report.md, report.html); "
                        "rerun with the same folder to resume")
        sp.add_argument("--retry-infra-errors", action="store_true", help="on resume, redo episodes that had an infra error")
        sp.add_argument("--judge-base-url", help="OpenAI-compatible endpoint of the rubric judge")
        sp.add_argument("--judge-model", help="rubric judge model")
        sp.add_argument("--judge-api-key", help="judge API key (default: $CLAWGYM_JUDGE_API_KEY, else $OPENAI_API_KEY)")
        sp.add_argument("--network", action="store_true", help="let sandboxes reach the network")
        sp.add_argument("--wandb", action="store_true", help="log to Weights & Biases (WANDB_MODE=offline works offline)")
        sp.add_argument("--wandb-project", default="clawgym")
        sp.add_argument("--wandb-name", help="wandb run name (default: the output folder's name)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")
        sp.add_argument("--ray", metavar="ADDRESS", help="run the sandboxes on Ray env workers (pip install "
                        "'clawgym[ray]'): 'auto' (the cluster of `ray start`), ray://HOST:10001, or 'local' "
                        "(a Ray started here); the agent stays in this process")
        sp.add_argument("--ray-workers", type=int, default=0, metavar="N",
                        help="Ray env workers (default: one per alive node)")
        env_opts(sp)

    sp = sub.add_parser("eval", help="evaluate an agent on a suite: concurrent rollouts, records, reports (resumable)")
    sp.add_argument("--suite", default="builtin",
                    help="builtin, a ClawGym task folder (or a folder of them), or a PinchBench checkout")
    eval_opts(sp, repeats=1)
    sp.set_defaults(fn=cmd_eval)

    sp = sub.add_parser("calibrate", help="measured difficulty: per-task pass rates of an agent over repeated "
                        "episodes (resumable), written as calibration.jsonl")
    sp.add_argument("suite", help="builtin, a ClawGym task folder (or a folder of them), or a PinchBench checkout")
    eval_opts(sp, repeats=4)
    sp.add_argument("--into-suite", action="store_true",
                    help="also write calibration.jsonl into the suite folder (it ships beside the tasks)")
    sp.set_defaults(fn=cmd_calibrate)


    sp = sub.add_parser("export-session", help="write trajectory records as OpenClaw session JSONL files")
    sp.add_argument("records", help="a records.jsonl written by clawgym eval / the rollout engine")
    sp.add_argument("out_dir", help="folder for <task_id>__r<repeat>.jsonl files")
    sp.set_defaults(fn=cmd_export_session)

    sp = sub.add_parser("view", help="browse a run in a local web page (127.0.0.1): filter episodes, step "
                        "through one, compare two runs")
    sp.add_argument("run", help="an eval output folder (records.jsonl, run.json) or a records JSONL file")
    sp.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765, which the eval "
                    "report links to; 0: any free port)")
    sp.add_argument("--compare", metavar="OTHER_RUN", help="a second run of the same tasks to compare side by side")
    sp.add_argument("--suite", help="task source for the initial files the diffs start from (default: the run's "
                    "suite from run.json)")
    sp.set_defaults(fn=cmd_view)

    sp = sub.add_parser("coverage", help="coverage table of the built-in suite (taxonomy, personas, text diversity); "
                        "text diversity of task folders beside it")
    sp.add_argument("suites", nargs="*", metavar="DIR",
                    help="task folders (or suite specs) whose instructions to measure beside the built-in suite's "
                         "(e.g. the authors' 2,000); without any, the built-in suite alone")
    sp.add_argument("--builtin", action="store_true", help="include the built-in suite when DIRs are given "
                    "(implied by --n)")
    sp.add_argument("--n", type=int, default=0, help="first N built-in tasks (default: all 13,500)")
    sp.add_argument("--version", default=SUITE_VERSION, choices=SUITE_VERSIONS,
                    help=f"which built-in suite version to measure (default {SUITE_VERSION})")
    sp.add_argument("--json", action="store_true", help="the figures as JSON (with DIRs: one object per column)")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(fn=cmd_coverage)

    sp = sub.add_parser("noop", help="score every task with no agent actions; compare with check.py run directly")
    sp.add_argument("suite", help="a folder of ClawGym task folders")
    sp.add_argument("--jobs", type=int, default=4, help="tasks scored at once")
    sp.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    sp.add_argument("--sample", type=int, default=0, help="N tasks spread evenly over the suite")
    sp.add_argument("--no-compare", action="store_true", help="skip running check.py directly")
    sp.add_argument("--out", help="write the per-task report as JSON")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    env_opts(sp)
    sp.set_defaults(fn=cmd_noop)

    _add_sandbox_commands(sub)

    from clawgym_env.sft.cli import add_sft_parser  # clawgym sft {build,import}

    add_sft_parser(sub)
    from clawgym_env.integrations.cli import add_rl_parser  # clawgym rl build-data

    add_rl_parser(sub)
    from clawgym_env.synth.llm.cli import add_synth_llm_parser  # clawgym synth-llm persona2task

    add_synth_llm_parser(sub)
    from clawgym_env.convert.cli import add_convert_parser  # clawgym convert SUITE --to FORMAT

    add_convert_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except (TaskFormatError, KeyError, FileNotFoundError) as exc:
        print(f"clawgym: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
