"""The ``clawgym`` command: inspect suites, replay scripted episodes, verify workspaces, score no-ops."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from clawgym_env.tasks import Task, TaskFormatError, TaskSource, load_task, open_source


def _resolve_task(spec: str) -> Task:
    """A task folder path, or SUITE_DIR:TASK_ID."""
    path = Path(spec)
    if path.is_dir():
        return load_task(path)
    if ":" in spec:
        suite, task_id = spec.rsplit(":", 1)
        return open_source(suite).load(task_id)
    raise SystemExit(f"clawgym: {spec!r} is neither a task folder nor SUITE_DIR:TASK_ID")


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
    source = open_source(args.suite)
    ids = source.ids()
    if args.limit:
        ids = ids[: args.limit]
    for task_id in ids:
        if args.queries:
            task = source.load(task_id)
            print(f"{task_id}\t{task.user_query[:100].replace(chr(10), ' ')}")
        else:
            print(task_id)
    print(f"# {len(source)} tasks in {getattr(source, 'path', args.suite)}", file=sys.stderr)
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
    actions = _load_actions(Path(args.actions))
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


def cmd_noop(args: argparse.Namespace) -> int:
    from clawgym_env.verify.offline import noop_scores

    source: TaskSource = open_source(args.suite)
    ids = source.ids()
    if args.sample:
        step = max(1, len(ids) // args.sample)
        ids = ids[::step][: args.sample]
    if args.limit:
        ids = ids[: args.limit]
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
    sp.add_argument("suite", help="a folder of ClawGym task folders")
    sp.add_argument("--limit", type=int, default=0)
    sp.add_argument("--queries", action="store_true", help="show the start of each user query")
    sp.set_defaults(fn=cmd_list)

    sp = sub.add_parser("show", help="show one task")
    sp.add_argument("task", help="a task folder, or SUITE_DIR:TASK_ID")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_show)

    sp = sub.add_parser("run", help="replay a scripted action list on a task; print transcript and reward")
    sp.add_argument("task", help="a task folder, or SUITE_DIR:TASK_ID")
    sp.add_argument("--actions", required=True, help="JSON list (or JSONL) of actions: assistant messages, "
                    "tool-call dicts or raw text with <tool_call> blocks")
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
