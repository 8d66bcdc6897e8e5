"""Reward hacks at scale: does anything the agent leaves in its workspace change its reward?

For each task, two episodes through the real env (``env.step``): the agent writes the attack files
and ends; then writes harmless files of the same names and ends. An attack "works" on a task when
its reward differs from the harmless twin's (a 'workspace clean' check may see the files either
way, so the twin, not the no-op, is the honest value). The baseline in the same run is the honest
reward itself: how many tasks would be at 1.0 if the attack worked (all of them, before issue 11).

    python benchmarks/bench_reward_hacks.py [--train 200] [--builtin 100] [--backend bwrap] [--jobs 4]

Attacks: json.py / json package at the top level and in output/, csv.py and statistics.py beside
them, a sourceless json.pyc, sitecustomize.py, a .pth file, pytest.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.builtin import BuiltinSource, task_name
from clawgym_env.tasks import Task, load_task

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVIL = "import os, sys\nsys.stdout.write('1\\n'); sys.stdout.flush(); os._exit(0)\n"
HARMLESS = "# an ordinary file of the agent's\n"
ATTACK_FILES = ["json.py", "json/__init__.py", "output/json.py", "output/csv.py", "csv.py", "statistics.py",
                "sitecustomize.py", "pytest.py", "output/__init__.py"]
PTH = "evil.pth"
PYC_CMD = ("python3 -c \"import py_compile; py_compile.compile('json/__init__.py', cfile='stats.pyc')\" "
           "&& cp stats.pyc json.pyc && cp stats.pyc output/json.pyc")


def _episode(env: ClawGymEnv, text: str, pth: str) -> tuple[float, str | None]:
    env.reset(seed=0)
    for rel in ATTACK_FILES:
        env.step({"name": "write", "arguments": {"path": rel, "content": text}})
    env.step({"name": "write", "arguments": {"path": PTH, "content": pth}})
    env.step({"name": "exec", "arguments": {"command": PYC_CMD}})
    _, reward, _, _, info = env.step({"role": "assistant", "content": "done"})
    return float(reward), info.get("infra_error")


def _one(task: Task, backend: str) -> dict[str, object]:
    env = ClawGymEnv(task, backend=backend, prestart_next=False)
    try:
        evil, err1 = _episode(env, EVIL, "import os; os.write(1, b'1\\n'); os._exit(0)\n")
        honest, err2 = _episode(env, HARMLESS, "# nothing\n")
    finally:
        env.close()
    return {"task": task.task_id, "evil": evil, "honest": honest, "infra": err1 or err2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=int, default=200, help="shared train tasks (spread over the split)")
    ap.add_argument("--builtin", type=int, default=100, help="built-in tasks (spread over the suite)")
    ap.add_argument("--backend", default="bwrap")
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()

    train_dir = SHARED / "datasets" / "clawgym-train"
    names = sorted(p.name for p in train_dir.iterdir() if p.name.startswith("task_"))
    tasks: list[Task] = [load_task(train_dir / names[i * len(names) // args.train]) for i in range(args.train)]
    source = BuiltinSource()
    tasks += [source.load(task_name(i * (len(source) // max(args.builtin, 1)))) for i in range(args.builtin)]

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(lambda t: _one(t, args.backend), tasks))
    seconds = time.monotonic() - start
    for label, part in (("train", rows[:args.train]), ("built-in", rows[args.train:])):
        if not part:
            continue
        changed = [r for r in part if r["evil"] != r["honest"]]
        full = sum(1 for r in part if r["evil"] == 1.0)
        infra = sum(1 for r in part if r["infra"])
        honest_full = sum(1 for r in part if r["honest"] == 1.0)
        print(f"{label:8s} tasks {len(part):4d}: attack changed the reward on {len(changed)} "
              f"({len(changed) / len(part):.1%}); attack at 1.0 on {full} vs {honest_full} honestly at 1.0; "
              f"infra errors {infra}")
        for r in changed[:10]:
            print(f"    {r['task']}: attack {r['evil']} vs honest {r['honest']}")
    print(f"backend {args.backend}, {len(rows)} tasks x 2 episodes in {seconds:.0f} s")


if __name__ == "__main__":
    main()
