"""Composition: persona + scenario + 2-4 operations chained through the workspace -> one Task.

Each index of a suite maps to one task, deterministically: the RNG is seeded from
(suite version, seed, index), the scenario subcategory cycles through all 43 so every stretch of
the suite covers the taxonomy, and the chain is built so that each step consumes the artifact the
previous step wrote.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from clawgym_env.synth.checks import gate_form_checks, parses_values, render_check_py
from clawgym_env.synth.instructions import instruction_v2
from clawgym_env.synth.ops import OpContext, OpStep, Scenario, operations
from clawgym_env.synth.ops.base import Meaningless
from clawgym_env.synth.personas import PERSONA_COUNT, persona, persona_for
from clawgym_env.synth.phrasing import pick
from clawgym_env.synth.taxonomy import (OPERATION_CATEGORIES, PREFERRED_OPS, SUBCATEGORIES, SUBCATEGORY_OPS,
                                        operation_category)
from clawgym_env.tasks.model import WORKSPACE, Task
from clawgym_env.tasks.reward_template import REWARD_SH

GENERATOR_VERSION = "clawgym-synth-1"


@dataclass
class Synthesized:
    """A task plus what only the generator knows: its oracle and the gate's mutation targets."""

    task: Task
    steps: list[OpStep]


# Operations that accept any artifact would otherwise follow almost every step (archive_files was in
# 46% of tasks, draft_message in 30%); these weights bring them near the others' share.
_NEXT_WEIGHT = {"archive_files": 0.25, "draft_message": 0.5}


_FITTING_WEIGHT = 4.0
"""builtin-v2: how much likelier a later step is when its operation fits the subcategory."""


def _weighted_choice(rng: random.Random, names: list[str], fitting: tuple[str, ...] = ()) -> str:
    weights = [_NEXT_WEIGHT.get(n, 1.0) * (_FITTING_WEIGHT if n in fitting else 1.0) for n in names]
    return rng.choices(names, weights=weights, k=1)[0]


def synthesize(index: int, *, seed: int = 0, version: str = GENERATOR_VERSION, task_id: str | None = None,
               force_ops: list[str] | None = None) -> Synthesized:
    """Build task ``index`` of the suite (same inputs -> same task, on every machine).

    ``force_ops`` fixes the chain (for tests and operation authors); each must accept the artifact
    the previous one produces.
    """
    rng = random.Random(f"{version}/{seed}/{index}")
    category, subcategory = SUBCATEGORIES[index % len(SUBCATEGORIES)]
    coherent = parses_values(version)  # builtin-v2: persona, data and operations fit the scenario
    who = persona_for(rng, category) if coherent else persona(rng.randrange(PERSONA_COUNT))
    difficulty = 1 + rng.randrange(5)
    length = 2 + (difficulty >= 3) + (difficulty >= 5)
    scenario = Scenario(category, subcategory, who.domain)
    ops = operations()
    fitting = SUBCATEGORY_OPS[subcategory] if coherent else ()
    if coherent:
        starters = [op for op in fitting if ops[op].starts]
    else:
        starters = [op for cat in PREFERRED_OPS[category] for op in OPERATION_CATEGORIES[cat]
                    if op in ops and ops[op].starts]
    name = rng.choice(starters or sorted(n for n, o in ops.items() if o.starts))
    if force_ops:
        name, length = force_ops[0], len(force_ops)
    steps: list[OpStep] = []
    used: set[str] = set()
    wording = random.Random(f"{version}/{seed}/{index}/wording")
    options = [name]
    for step_no in range(1, length + 1):
        step = None
        while step is None and options:
            ctx = OpContext(rng=rng, persona=who, scenario=scenario, step=step_no,
                            upstream=steps[-1].artifact if steps else None, difficulty=difficulty, version=version,
                            phrase_rng=wording)
            try:
                step = ops[name].build(ctx)
            except Meaningless:  # builtin-v2: this table admits no meaningful version of it; try another
                if force_ops or not steps:
                    raise
                options = [n for n in options if n != name]
                name = _weighted_choice(rng, options, fitting) if options else name
        if step is None:
            break
        steps.append(step)
        used.add(name)
        art = steps[-1].artifact
        if step_no == length or art is None:
            break
        nxt = [n for n, o in ops.items() if art.kind in o.consumes and n not in used]
        if not nxt and not force_ops:
            break
        options = sorted(nxt)
        name = force_ops[step_no] if force_ops else _weighted_choice(rng, options, fitting)
    tid = task_id or f"task-{index:04d}"
    query = instruction_v2(wording, who, scenario, steps) if coherent else _instruction(rng, who, scenario, steps)
    checks = [c for s in steps for c in s.checks]
    if parses_values(version):
        checks = gate_form_checks(checks)
    inputs = {p: d for s in steps for p, d in s.input_files.items()}
    metadata: dict[str, Any] = {
        "category": category,
        "subcategory": subcategory,
        "grading_type": "automated",
        "operations": [s.op for s in steps],
        "operation_categories": [operation_category(s.op) for s in steps],
        "persona": who.describe(),
        "persona_index": who.index,
        "difficulty": difficulty,
        "seed": seed,
        "index": index,
        "generator_version": version,
    }
    task = Task(
        task_id=tid, user_query=query, metadata=metadata, input_mount_dir=WORKSPACE,
        input_files=inputs,
        reward_files={"reward.sh": REWARD_SH.encode(), "check.py": render_check_py(checks, tid, version).encode()},
        file_modes={"reward/reward.sh": 0o755},
        oracle=demonstration(steps) if coherent else [call for s in steps for call in s.oracle],
        oracle_outputs=[{"path": o.path, "mutations": list(o.mutations), "checked_values": list(o.checked_values)}
                        for s in steps for o in s.outputs],
        source=f"builtin:{version}:{seed}",
    )
    return Synthesized(task, steps)


_READS_PER_STEP = 10
_READ_LIMIT = 64 * 1024


def demonstration(steps: list[OpStep]) -> list[dict[str, Any]]:
    """builtin-v2's oracle: each step first reads what it works from (the previous step's output,
    then up to ten of its own text inputs), as an agent would, so the oracle is a demonstration
    to learn from (SFT, replay) and not only a proof that the checks can be met."""
    calls: list[dict[str, Any]] = []
    previous: Any = None
    for step in steps:
        paths = [previous.path] if previous is not None and getattr(previous, "path", None) else []
        paths += [p for p, data in step.input_files.items() if len(data) <= _READ_LIMIT and _is_text(data)][
            :_READS_PER_STEP]
        calls += [{"name": "read", "arguments": {"path": p}} for p in dict.fromkeys(paths)]
        calls += step.oracle
        previous = step.artifact
    return calls


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def _instruction(rng: random.Random, who: Any, scenario: Scenario, steps: list[OpStep]) -> str:
    first = who.name.split()[0]
    opening = pick(rng, (
        f"Hi! I'm {who.describe()}, and I'm {who.situation}.",
        f"Hello, this is {first} ({who.role} at {who.domain}). I'm {who.situation}.",
        f"I'm {who.describe()}; right now I'm {who.situation}.",
        f"Quick request from {first}, {who.a_role} at {who.domain}, who is {who.situation}.",
    ))
    framing = pick(rng, (
        f"This is {scenario.subcategory} work. {who.preference}",
        f"It falls under {scenario.subcategory}. {who.preference}",
        f"Think of it as {scenario.subcategory} ({scenario.category.lower()}). {who.preference}",
    ))
    lead = pick(rng, ("Using only the files in this workspace, please:", "Please do the following with the local files:",
                      "Here is what I need, step by step:", "Could you work through these steps?"))
    numbered = "\n".join(f"{i}. {s.instruction}" for i, s in enumerate(steps, 1))
    closing = pick(rng, (
        "Create the output files exactly at the paths given and leave the input files as they are.",
        "Put results only at the paths named above; do not modify the inputs.",
        "Use the exact output paths and formats above and keep the original files unchanged.",
    ))
    return f"{opening} {framing}\n\n{lead}\n{numbered}\n\n{closing} All file paths are relative to the workspace directory."
