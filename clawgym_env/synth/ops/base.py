"""The operation interface: every atomic operation of the built-in suite implements it.

An operation is one step of a task. Given a seeded RNG, the persona and scenario, and (unless it
starts the chain) the artifact the previous step produced, it returns an :class:`OpStep`:

- ``input_files``: resources it adds to the workspace (generated from the RNG, realistic content);
- ``instruction``: its fragment of the user request, naming its input and output paths and formats;
- ``oracle``: tool calls that perform it (what a perfect agent would send);
- ``checks``: declarative checks on its outputs (see :mod:`clawgym_env.synth.checks`), each 0 on
  the untouched workspace and 1 after the oracle — the quality gate proves both;
- ``artifact``: what it produced, as data, for the next operation to consume;
- ``outputs``: its output files and the mutations that must cost points (for the gate).

Operations never read the disk: everything is computed in memory, which is why a task is
generated in about a millisecond and is the same on every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from clawgym_env.synth.artifacts import Artifact, Table, serialize
from clawgym_env.synth.checks import parses_values
from clawgym_env.synth.datagen import Schema, schema_for
from clawgym_env.synth.personas import Persona
from clawgym_env.synth.phrasing import say
from clawgym_env.synth.vocab import Vocab, vocab_for

Mutation = Literal["missing", "value", "format", "order"]


@dataclass(frozen=True)
class Scenario:
    category: str
    subcategory: str
    domain: str
    """A noun phrase for the scenario's world (e.g. 'the quarterly vendor review')."""


@dataclass
class OpContext:
    """Everything an operation may use. ``prefix`` keeps paths of chained steps apart."""

    rng: random.Random
    persona: Persona
    scenario: Scenario
    step: int
    """1-based position in the chain."""
    upstream: Artifact | None
    """The previous step's artifact (None for the first step)."""
    difficulty: int
    """1 (easy) .. 5 (hard): size of data, number of constraints."""
    version: str = ""
    """The suite version being generated: an operation changes what it generates only for a new
    version (builtin-v1 is pinned), see :attr:`v2`."""

    phrase_rng: random.Random | None = None
    """The RNG for wording (builtin-v2): apart from :attr:`rng`, so rewording never moves the data."""

    @property
    def v2(self) -> bool:
        """builtin-v2: checks that parse values (``check_engine_v2.py``) instead of matching raw text."""
        return parses_values(self.version)

    def schema(self) -> Schema:
        """A record kind for the task's data: builtin-v2 draws one the persona's workplace keeps."""
        return schema_for(self.rng, self.scenario.domain if self.v2 else None)

    def vocab(self) -> Vocab:
        """The words of the persona's workplace for text inputs (builtin-v2 only: v1 text is pinned)."""
        return vocab_for(self.scenario.domain)

    def say(self, template: str, **values: Any) -> str:
        """One wording of a phrasing grammar (see :func:`clawgym_env.synth.phrasing.say`)."""
        return say(self.phrase_rng or self.rng, template, **values)

    def clause(self, template: str, **values: Any) -> str:
        """A wording for a piece of a sentence: like :meth:`say`, first letter as written."""
        return say(self.phrase_rng or self.rng, template, capitalize=False, **values)


@dataclass
class OutputSpec:
    path: str
    """Workspace-relative path of an output file."""
    mutations: tuple[Mutation, ...] = ("missing", "value")
    """Gate mutations that must lower the score when applied to this output."""
    checked_values: tuple[str, ...] = ()
    """Substrings the checks depend on (for free text): the gate's value mutation alters one of
    these. Empty: it alters any number or word (right for tables, where every cell is checked)."""


@dataclass
class OpStep:
    op: str
    instruction: str
    oracle: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    outputs: list[OutputSpec]
    artifact: Artifact | None
    input_files: dict[str, bytes] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    """What the step chose (columns it grouped, filtered, summed or joined on), for
    :mod:`clawgym_env.synth.coherence` to judge the chain; never written into the task."""


class Meaningless(ValueError):
    """builtin-v2: the upstream artifact admits no meaningful version of this operation (one group,
    nothing to total, no record key to join on); compose then picks another next operation."""


class Operation(Protocol):
    """One atomic operation (see taxonomy.OPERATIONS for the list)."""

    name: str
    category: str
    consumes: tuple[str, ...]
    """Artifact kinds it can take from the previous step; empty = it can only start a chain."""
    starts: bool
    """Whether it can start a chain (generates its own inputs)."""
    offline_note: str | None
    """For web operations: how the offline equivalent stands in for the network."""

    def build(self, ctx: OpContext) -> OpStep: ...


def write_call(path: str, content: str) -> dict[str, Any]:
    """An oracle tool call that writes a file (OpenClaw's ``write``)."""
    return {"name": "write", "arguments": {"path": path, "content": content}}


TABLE_MUTATIONS: tuple[Mutation, ...] = ("missing", "value", "format", "order")
"""Every gate mutation a table output admits (each cell is checked, and its format and row order)."""


def table_step(op: str, instruction: str, out: Table, checks: list[dict[str, Any]],
               input_files: dict[str, bytes] | None = None) -> OpStep:
    """The most common step: the oracle writes the table ``out``, which is the step's only output
    (open to every table mutation) and the artifact the next step consumes."""
    return OpStep(op=op, instruction=instruction, oracle=[write_call(out.path, serialize(out))], checks=checks,
                  outputs=[OutputSpec(out.path, TABLE_MUTATIONS)], artifact=out, input_files=input_files or {})


def exec_call(command: str) -> dict[str, Any]:
    return {"name": "exec", "arguments": {"command": command}}
