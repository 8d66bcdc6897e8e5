"""The ``clawgym`` command: inspect suites, replay scripted episodes, verify workspaces, score no-ops."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from clawgym_env.tasks import Task, TaskFormatError, TaskSource, load_task, open_source, write_task


def _open_suite(spec: str) -> TaskSource:
    """``builtin`` or a folder of task folders."""
    if spec == "builtin":
        from clawgym_env.synth.builtin import BuiltinSource

        return BuiltinSource()
    return open_source(spec)


def _resolve_task(spec: str) -> Task:
    """A task folder path, SUITE_DIR:TASK_ID, builtin:task-0042 or ClawGym/task-0042."""
    path = Path(spec)
    if path.is_dir():
        return load_task(path)
    if spec.startswith("ClawGym/task-"):
        spec = "builtin:" + spec.split("/", 1)[1]
    if ":" in spec:
        suite, task_id = spec.rsplit(":", 1)
        return _open_suite(suite).load(task_id)
    raise SystemExit(f"clawgym: {spec!r} is neither a task folder, SUITE_DIR:TASK_ID nor builtin:TASK_ID")


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


def _env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kw: dict[str, Any] = {"backend": args.backend, "profile": args.profile}
    if getattr(args, "max_steps", None):
        kw["max_steps"] = args.max_steps
    if getattr(args, "network", False):
        kw["network"] = True
    return kw


def cmd_list(args: argparse.Namespace) -> int:
    source = _open_suite(args.suite)
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
    from clawgym_env.synth.builtin import SUITE_VERSION, task_name
    from clawgym_env.synth.compose import synthesize
    from clawgym_env.verify.offline import progress_bar

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with progress_bar("synthesizing", args.n, enabled=not args.quiet) as advance:
        for i in range(args.start, args.start + args.n):
            write_task(synthesize(i, seed=args.seed, version=SUITE_VERSION, task_id=task_name(i)).task, out,
                       overwrite=args.overwrite)
            advance()
    secs = time.perf_counter() - start
    print(f"wrote {args.n} tasks to {out} in {secs:.2f} s ({args.n / secs:.0f} tasks/s; seed {args.seed}, "
          f"suite version {SUITE_VERSION})")
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
    print(f"inputs:    {len(task.input_files)} files, {sum(map(len, task.input_files.values()))} bytes")
    for rel in sorted(task.workspace_files()):
        print(f"  {rel}")
    print(f"verifier:  {', '.join(sorted(task.reward_files))}")
    print("\n" + task.user_query)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from clawgym_env.env import ClawGymEnv

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
        obs, info = env.reset(seed=args.seed)
        reward, terminated, truncated = 0.0, False, False
        for action in actions:
            obs, reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        if not (terminated or truncated):  # the script ran out of turns: end the episode like OpenClaw
            obs, reward, terminated, truncated, info = env.step({"role": "assistant", "content": "Done."})
        if args.json:
            print(json.dumps({"task_id": task.task_id, "reward": reward, "terminated": terminated,
                              "truncated": truncated, "steps": info["step"], "verifier": info.get("verifier"),
                              "messages": info["messages"][1:]}, indent=2, ensure_ascii=False))
        else:
            print(env.render())
            v = info.get("verifier") or {}
            if v.get("subscores"):
                print("[subscores] " + json.dumps(v["subscores"], ensure_ascii=False))
            print(f"reward: {reward:.4f}")
        return 1 if info.get("infra_error") else 0
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
    print(f"tasks: {s['tasks']}  passed: {s['passed']}  crashes: {s['crashes']}  oracle mean: {s['oracle_mean']}  "
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


def cmd_validate(args: argparse.Namespace) -> int:
    """The quality gate on task folders (oracle parts only where a task has oracle.json)."""
    from clawgym_env.synth.dedup import near_duplicates
    from clawgym_env.synth.gate import gate_many

    source = open_source(args.dir)
    ids = _select(source.ids(), args.limit, args.sample)
    report = gate_many(source.load, ids, jobs=args.jobs, backend=args.backend, progress=not args.quiet)
    queries = [source.load(i).user_query for i in ids]
    report["near_duplicates"] = [(ids[a], ids[b], sim) for a, b, sim in near_duplicates(queries)]
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return _print_gate(report, args.verbose)


def cmd_eval(args: argparse.Namespace) -> int:
    """Minimal evaluation: the oracle agent over a suite, i.e. the quality gate at scale."""
    from clawgym_env.synth.gate import gate_many

    if args.agent != "oracle":
        raise SystemExit("clawgym eval: only --agent oracle exists yet (model agents come with the rollout engine)")
    source = _open_suite(args.suite)
    ids = _select(source.ids(), args.limit, args.sample)
    start = time.perf_counter()
    report = gate_many(source.load, ids, jobs=args.jobs, backend=args.backend, progress=not args.quiet)
    report["summary"]["seconds"] = time.perf_counter() - start
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return _print_gate(report, args.verbose)


def cmd_coverage(args: argparse.Namespace) -> int:
    from clawgym_env.synth.builtin import SUITE_SIZE, BuiltinSource, task_name
    from clawgym_env.synth.coverage import coverage
    from clawgym_env.verify.offline import progress_bar

    n = args.n or SUITE_SIZE
    source = BuiltinSource()
    with progress_bar("generating", n, enabled=not args.quiet) as advance:
        cov = coverage(n, lambda i: source.load(task_name(i)), lambda _: advance())
    if args.json:
        print(json.dumps(cov, indent=2))
        return 0
    print(f"built-in suite: {cov['tasks']} tasks")
    print(f"categories {len(cov['categories'])}/9, subcategories {len(cov['subcategories'])}/43, operations "
          f"{len(cov['operations'])}/26 (missing: {cov['categories_missing'] + cov['subcategories_missing'] + cov['operations_missing'] or 'none'})")
    print(f"distinct personas: {cov['personas']}   chain lengths: {cov['chain_lengths']}   difficulty: {cov['difficulty']}")
    ic = cov["instruction_chars"]
    print(f"instruction chars: min {ic['min']}  p10 {ic['p10']:.0f}  median {ic['median']:.0f}  p90 {ic['p90']:.0f}  "
          f"max {ic['max']}  mean {ic['mean']:.0f}")
    print(f"distinct 4-gram ratio: {cov['distinct_4gram_ratio']:.4f}   distinct texts: {cov['distinct_texts']}   "
          f"near-duplicate rate: {cov['near_duplicate_rate']:.4%} ({cov['near_duplicate_pairs']} pairs)")
    print("\ntasks per category:")
    for k, v in sorted(cov["categories"].items()):
        print(f"  {v:6d}  {k}")
    print("operations used:")
    for k, v in sorted(cov["operations"].items()):
        print(f"  {v:6d}  {k}")
    return 0 if not (cov["categories_missing"] or cov["subcategories_missing"] or cov["operations_missing"]) else 1


def cmd_noop(args: argparse.Namespace) -> int:
    from clawgym_env.verify.offline import noop_scores

    source: TaskSource = _open_suite(args.suite)
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clawgym", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def env_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--backend", default="bwrap", help="sandbox backend: bwrap (default) or local (unsafe)")
        sp.add_argument("--profile", default="coding", choices=["coding", "openclaw"], help="tool profile")

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
    sp.add_argument("dir", help="a task folder or a folder of them")
    gate_opts(sp)
    sp.set_defaults(fn=cmd_validate)

    sp = sub.add_parser("eval", help="evaluate an agent on a suite (for now: the oracle, i.e. the gate at scale)")
    sp.add_argument("--suite", default="builtin", help="builtin, or a folder of task folders")
    sp.add_argument("--agent", default="oracle", help="oracle")
    gate_opts(sp)
    sp.set_defaults(fn=cmd_eval)

    sp = sub.add_parser("coverage", help="coverage table of the built-in suite (taxonomy, personas, text diversity)")
    sp.add_argument("--n", type=int, default=0, help="first N tasks (default: all 13,500)")
    sp.add_argument("--json", action="store_true")
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
