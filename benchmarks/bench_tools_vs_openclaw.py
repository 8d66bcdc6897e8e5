"""Per-call latency of our tools against the real OpenClaw tools, in the same run and the same folder.

    python benchmarks/bench_tools_vs_openclaw.py [--version 2026.4.1] [--reps 200]

The real side is openclaw@VERSION under Node 22 (tests/openclaw_real/install.sh), each call through its
own dispatch (tests/openclaw_real/harness.mjs) over a pipe; ours is a ToolBox of the same version over a
``local`` sandbox (same host folder) and over a ``bwrap`` sandbox (what episodes use). Printed: the median
and p90 per call of each tool and ours/real as a ratio. The pipe and JSON hop of the harness (~0.1 ms) is
part of the real side's figure; the sandbox server's hop is part of ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from openclaw_real.diff import RealOpenClaw, missing_install  # noqa: E402

from clawgym_env.sandbox import make_sandbox  # noqa: E402
from clawgym_env.tools import ToolBox, ToolContext  # noqa: E402

CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("read", "read", {"path": "notes.txt"}),
    ("write", "write", {"path": "out.txt", "content": "hello\n" * 50}),
    ("exec", "exec", {"command": "echo hi"}),
    ("bad args", "read", {"offset": "x"}),
]


def timed(fn: Callable[[], Any], reps: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def row(label: str, real: list[float], ours: dict[str, list[float]]) -> str:
    med = statistics.median
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9)]  # noqa: E731
    cells = [f"{label:9s} real {med(real) * 1e3:6.2f} ms (p90 {p90(real) * 1e3:6.2f})"]
    for name, xs in ours.items():
        cells.append(f"ours/{name} {med(xs) * 1e3:6.2f} ms (p90 {p90(xs) * 1e3:6.2f}) = {med(xs) / med(real):4.2f}x")
    return "  ".join(cells)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="2026.4.1")
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()
    why = missing_install(args.version)
    if why:
        print(why, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="clawgym-bench-tools-") as tmp:
        ws = Path(tmp) / "workspace"
        ws.mkdir()
        (ws / "notes.txt").write_text("line\n" * 500)
        real = RealOpenClaw(args.version, Path(tmp) / "home")
        boxes: dict[str, ToolBox] = {}
        sandboxes = []
        try:
            real.request({"op": "init", "workspace": str(ws)}, 60)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                local = make_sandbox("local", host_workspace=ws)
            bwrap = make_sandbox("bwrap")
            for name, sb in (("local", local), ("bwrap", bwrap)):
                sb.start()
                sandboxes.append(sb)
                if name == "bwrap":
                    sb.write_file(f"{sb.workspace}/notes.txt", b"line\n" * 500)
                boxes[name] = ToolBox(ToolContext(sandbox=sb, workspace=sb.workspace, openclaw_version=args.version), "rl")
            print(f"openclaw {args.version}, {args.reps} calls each (median, p90; ours/real of the medians)")
            for label, tool, arguments in CALLS:
                r = timed(lambda: real.request({"op": "call", "name": tool, "args": arguments, "id": "c"}, 60), args.reps)
                ours = {n: timed(lambda b=b: b.call(tool, dict(arguments)), args.reps) for n, b in boxes.items()}
                print(row(label, r, ours))
        finally:
            real.close()
            for sb in sandboxes:
                sb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
