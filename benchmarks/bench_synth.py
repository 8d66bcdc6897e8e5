"""Synthesis throughput: built-in tasks generated and written to disk per second, beside the
baseline of copying the same task folders (pure file I/O), measured in the same run.

    python benchmarks/bench_synth.py [--n 2000] [--version builtin-v2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--version", default="", help="built-in suite version (default: the default one)")
    args = ap.parse_args()

    from clawgym_env.synth.builtin import SUITE_VERSION, task_name
    from clawgym_env.synth.compose import synthesize
    from clawgym_env.tasks import write_task

    root = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        t = time.perf_counter()
        version = args.version or SUITE_VERSION
        tasks = [synthesize(i, version=version, task_id=task_name(i)).task for i in range(args.n)]
        gen = time.perf_counter() - t
        t = time.perf_counter()
        for task in tasks:
            write_task(task, root / "out")
        write = time.perf_counter() - t
        t = time.perf_counter()
        shutil.copytree(root / "out", root / "copy")
        copy = time.perf_counter() - t
        files = sum(1 for p in (root / "out").rglob("*") if p.is_file())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total = gen + write
    print(f"{args.n} tasks of {version}, {files} files")
    print(f"generate + write     {args.n / total:8.0f} tasks/s   ({gen:.2f} s generating, {write:.2f} s writing)")
    print(f"baseline: copy tree  {args.n / copy:8.0f} tasks/s   ({copy:.2f} s)   ratio {copy / total:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
