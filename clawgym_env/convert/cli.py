"""``clawgym convert SUITE --to FORMAT --out DIR``: any suite ``open_source`` opens, written in another
format. A format is one entry of :data:`FORMATS` (``"module:function"``, imported when used), the
function ``write_suite(source, ids, out, *, overwrite, progress, **options) -> summary dict``."""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMATS: dict[str, str] = {
    "harbor": "clawgym_env.convert.harbor:write_suite",
    "hf-dataset": "clawgym_env.convert.hf:write_suite",
}
"""Output formats by ``--to`` name. Another format is one line here."""


def writer(name: str) -> Callable[..., dict[str, Any]]:
    """The ``write_suite`` function of format ``name``."""
    try:
        target = FORMATS[name]
    except KeyError:
        raise SystemExit(f"clawgym convert: unknown format {name!r} (known: {', '.join(sorted(FORMATS))})") from None
    module, _, attr = target.partition(":")
    fn: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), attr)
    return fn


def cmd_convert(args: argparse.Namespace) -> int:
    from clawgym_env.progress import progress_bar
    from clawgym_env.tasks import open_source

    write = writer(args.to)
    source = open_source(args.suite)
    ids = source.ids()
    if args.sample:  # spread evenly over the suite, as the other commands' --sample
        ids = ids[::max(1, len(ids) // args.sample)][:args.sample]
    if args.limit:
        ids = ids[:args.limit]
    options: dict[str, Any] = {}
    if args.base_image:
        options["base_image"] = args.base_image
    with progress_bar(f"converting to {args.to}", len(ids), enabled=not args.quiet) as advance:
        summary = write(source, ids, Path(args.out), overwrite=args.overwrite, progress=advance, **options)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"wrote {summary['tasks']} {args.to} tasks to {args.out}"
              + (f" ({summary['with_solution']} with a solution)" if "with_solution" in summary else ""))
        for task_id, why in (summary.get("not_expressible") or {}).items():
            print(f"  {task_id}: written, but {why}")
        for task_id, why in (summary.get("errors") or {}).items():
            print(f"  {task_id}: NOT written: {why}")
    return 1 if summary.get("errors") else 0


def add_convert_parser(sub: Any) -> None:
    """``clawgym convert``, added to the top-level subcommands."""
    sp = sub.add_parser("convert", help="write a suite in another task format (Harbor task folders, a Hugging Face "
                        "datasets.Dataset saved with save_to_disk)")
    sp.add_argument("suite", help="builtin, a folder of ClawGym task folders, a PinchBench checkout, Harbor tasks, ...")
    sp.add_argument("--to", required=True, choices=sorted(FORMATS), help="output format")
    sp.add_argument("--out", required=True, help="output folder")
    sp.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    sp.add_argument("--sample", type=int, default=0, help="N tasks spread evenly over the suite")
    sp.add_argument("--overwrite", action="store_true", help="replace task folders that exist")
    sp.add_argument("--base-image", help="harbor: the image environment/Dockerfile starts FROM "
                    "(default clawgym/sandbox:bookworm, made by `clawgym sandbox build`)")
    sp.add_argument("--json", action="store_true", help="print the summary as JSON")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(fn=cmd_convert)
