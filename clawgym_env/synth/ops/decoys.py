"""builtin-v2 distractors: a chain-starting input that is described instead of named, beside a
near-miss file the agent must not use (last month's export, a stale ``_old`` copy, a draft, another
team's file, an earlier save).

The instruction names the right file by a property the workspace makes unambiguous (the newest
date, the final version, the team), so the agent has to list the folder and choose. The decoy holds
the same records with other values (and a record fewer), so a table built from it differs in every
row and fails the step's value checks. Its draws come from :func:`side_rng`, never from the task's
data RNG, so adding a decoy moves no other value of the task.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from clawgym_env.synth.artifacts import Row
from clawgym_env.synth.ops.base import OpContext

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
TEAMS = ("north", "south", "east", "west", "ops", "field", "central")


@dataclass(frozen=True)
class Placement:
    """Where the right input and its decoy go, and how the instruction points at the right one."""

    path: str
    decoy: str
    phrase: str
    """A noun phrase that picks the right file by a property (with its folder, never its name)."""


def wanted(ctx: OpContext) -> bool:
    """Whether this step describes its input and adds a decoy: builtin-v2 from difficulty 3."""
    return ctx.v2 and ctx.difficulty >= 3


def side_rng(ctx: OpContext, salt: str) -> random.Random:
    """An RNG seeded from the data RNG's state without drawing from it: the decoy's draws move
    nothing else in the task (the same task id still gives the same data around it)."""
    return random.Random(f"{salt}:{ctx.rng.getstate()!r}")


def place(ctx: OpContext, rng: random.Random, folder: str, stem: str, ext: str, label: str) -> Placement:
    """A naming scheme for the right file and its decoy in ``folder``, and the words for the right one."""
    d = f"`{folder}/`"
    kind = rng.choice(("month", "month", "old", "draft", "team"))
    if kind == "month":
        m = rng.randrange(2, 7)  # exported after the records' dates (2026), a month apart
        right, decoy = f"{folder}/{stem}_2027-{m:02d}.{ext}", f"{folder}/{stem}_2027-{m - 1:02d}.{ext}"
        phrase = ctx.clause("[the [newest|latest|most recent] {label} export in {d}|the {month} 2027 export of the "
                            "{label} in {d}|the {label} export of {month} 2027 in {d}|the [newest|latest] monthly "
                            "{label} export in {d}]", label=label, d=d, month=MONTHS[m - 1])
    elif kind == "old":
        right, decoy = f"{folder}/{stem}.{ext}", f"{folder}/{stem}_old.{ext}"
        phrase = ctx.clause("the [current|up-to-date] {label} file in {d}[ rather than its {old} copy| rather "
                            "than the stale {old} one|]", label=label, d=d, old="`_old`")
    elif kind == "draft":
        right, decoy = f"{folder}/{stem}_final.{ext}", f"{folder}/{stem}_draft.{ext}"
        phrase = ctx.clause("[the final {label} file in {d}|the final version of the {label} in {d}][ rather than "
                            "the draft|]", label=label, d=d)
    else:
        team, other = rng.sample(TEAMS, 2)
        right, decoy = f"{folder}/{team}_{stem}.{ext}", f"{folder}/{other}_{stem}.{ext}"
        phrase = ctx.clause("[the {team} team's {label} file in {d}|the {label} file of the {team} team in {d}]",
                            label=label, d=d, team=team)
    return Placement(right, decoy, phrase)


def saved_on(ctx: OpContext, folder: str, stem: str, ext: str, day: str, earlier: str, what: str) -> Placement:
    """Two saves of the same thing told apart by the date in their names; the right one is the newer."""
    d = f"`{folder}/`"
    phrase = ctx.clause("the [newest|latest|most recent] {what} in {d}[| (the file names carry the save date)| (the "
                        "save date is in the file name)| (its file name has the later date)]", what=what, d=d)
    return Placement(f"{folder}/{stem}_{day}.{ext}", f"{folder}/{stem}_{earlier}.{ext}", phrase)


def _nudge(rng: random.Random, v: Any) -> Any:
    """Another value near ``v``, never equal to it, of the same type."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return v
    if isinstance(v, int):
        return v + rng.choice((1, 2, 3)) if v < 4 or rng.random() < 0.5 else v - rng.choice((1, 2, 3))
    step = max(abs(v) * rng.choice((0.04, 0.07, 0.1, 0.15)), 0.5)
    new = round(v + step if rng.random() < 0.5 else v - step, 2)
    return new if new != v else round(v + 1, 2)


def stale_rows(rng: random.Random, rows: list[Row], numeric: list[str], *, drop: int = 1) -> list[Row]:
    """The same records with every ``numeric`` value moved and ``drop`` of them missing (an older
    export): whichever records a step selects from it, no row matches the right file's."""
    out = copy.deepcopy(rows)
    for row in out:
        for col in numeric:
            row[col] = _nudge(rng, row[col])
    for _ in range(min(drop, len(out) - 2)):
        out.pop(rng.randrange(len(out)))
    return out
