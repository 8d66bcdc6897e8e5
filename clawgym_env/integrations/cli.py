"""``clawgym rl build-data``: argument parsing and printing only; the work is in :mod:`verl_data`."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def cmd_rl_build_data(args: argparse.Namespace) -> int:
    """Write the veRL RL parquet for the given tasks."""
    from clawgym_env.integrations.verl_data import build_rl_parquet

    start = time.monotonic()
    counts: dict[str, int] = {}
    try:
        keep, why = _pass_rate_filter(args)
        n = build_rl_parquet(args.tasks, args.out, split=args.split, data_source=args.data_source,
                             inline=not args.by_reference, offset=args.offset, limit=args.limit, keep=keep,
                             counts=counts)
    except (ValueError, KeyError) as exc:
        print(f"clawgym rl build-data: {exc}", file=sys.stderr)
        return 2
    if keep is not None:
        print(f"kept {counts['seen'] - counts['filtered_out']} of {counts['seen']} tasks ({why})")
    print(f"wrote {n} rows to {args.out} ({time.monotonic() - start:.1f} s); agent_name=claw_agent")
    return 0


def _pass_rate_filter(args: argparse.Namespace) -> tuple[Any, str]:
    """``--pass-rate LO:HI`` as a task-id filter over a calibration table (``clawgym calibrate``):
    ``--calibration FILE``, else the ``calibration.jsonl`` beside the one task folder named."""
    from pathlib import Path

    from clawgym_env.bench.calibrate import CALIBRATION_FILE, in_range, parse_pass_range, read_calibration

    if args.pass_rate is None:
        if args.calibration:
            raise ValueError("--calibration is used with --pass-rate LO:HI")
        return None, ""
    lo, hi = parse_pass_range(args.pass_rate)
    path = args.calibration
    if path is None:
        beside = [Path(t) / CALIBRATION_FILE for t in args.tasks if (Path(t) / CALIBRATION_FILE).is_file()]
        if len(beside) != 1 or len(args.tasks) != 1:
            raise ValueError("--pass-rate needs a calibration table: --calibration FILE (from `clawgym calibrate`), "
                             "or one suite folder with calibration.jsonl beside its tasks")
        path = beside[0]
    table = read_calibration(path)
    return in_range(table, lo, hi), f"pass rate in [{lo:g}, {hi:g}] by {path}; unmeasured tasks left out"


def add_rl_parser(sub: Any) -> None:
    """Register ``clawgym rl ...`` on the top-level subparsers object."""
    rl = sub.add_parser("rl", help="reinforcement learning with veRL (see rl/README.md)")
    rl_sub = rl.add_subparsers(dest="rl_command", required=True)
    sp = rl_sub.add_parser("build-data", help="write the parquet veRL's RLHFDataset reads (one row per task)")
    sp.add_argument("tasks", nargs="+",
                    help="builtin (the whole suite), builtin:task-0042, ClawGym/task-0042, a task folder, "
                         "a folder of task folders, or SUITE_DIR:TASK_ID")
    sp.add_argument("--out", required=True, help="the .parquet to write")
    sp.add_argument("--split", default="train", help="recorded in extra_info.split (default: train)")
    sp.add_argument("--data-source", default="clawgym", help="the data_source column (default: clawgym)")
    sp.add_argument("--offset", type=int, default=0, help="skip the first N tasks")
    sp.add_argument("--limit", type=int, default=0, help="keep at most N tasks (default: all)")
    sp.add_argument("--pass-rate", metavar="LO:HI",
                    help="keep only tasks whose measured pass rate is in [LO, HI] (e.g. 0.1:0.9: GRPO groups "
                         "with mixed rewards); the rates come from `clawgym calibrate`")
    sp.add_argument("--calibration", metavar="FILE",
                    help="the calibration.jsonl --pass-rate reads (default: the one beside the suite folder)")
    sp.add_argument("--by-reference", action="store_true",
                    help="store folder tasks by path instead of embedding them "
                         "(every node must see the path)")
    sp.set_defaults(fn=cmd_rl_build_data)


__all__ = ["add_rl_parser", "cmd_rl_build_data"]
