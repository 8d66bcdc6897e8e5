"""The quality gate for one task: prove its verifier with its oracle, through the real env.

For a task with an oracle: the oracle scores 1.0; doing nothing scores <= 0.05; every check is 0 on
the untouched workspace and 1 under the oracle; targeted mutations of the oracle's outputs (a
wrong value, a missing file, a wrong format, a wrong order) each lose points. Without an oracle
only the no-op part applies.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from clawgym_env.agents.base import AgentTurn
from clawgym_env.agents.replay import ScriptedAgent
from clawgym_env.episode import EpisodeResult
from clawgym_env.rollout.driver import run_episode
from clawgym_env.tasks.model import Task

NOOP_MAX = 0.05
FINAL_TEXT = "Done."


@dataclass
class GateReport:
    task_id: str
    oracle_reward: float | None = None
    noop_reward: float | None = None
    not_discriminative: list[str] = field(default_factory=list)
    """Checks that are not 0 at no-op and 1 under the oracle."""
    mutations: dict[str, float] = field(default_factory=dict)
    """Mutation label -> reward (each must be < the oracle's)."""
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No errors, no-op at most NOOP_MAX and, where the task has an oracle, the oracle's parts:
        1.0, every check discriminative, every mutation caught. A task without an oracle (the
        authors' folders) passes on what can be run without one."""
        oracle_ok = self.oracle_reward is None or (
            self.oracle_reward == 1.0 and not self.not_discriminative and all(r < 1.0 for r in self.mutations.values()))
        return not self.errors and self.noop_reward is not None and self.noop_reward <= NOOP_MAX and oracle_ok

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def play(env: Any, actions: list[Any], before_final: Callable[[], None] | None = None) -> EpisodeResult:
    """One episode through :func:`run_episode`: ``actions``, then the final reply ``"Done."``;
    ``before_final`` runs just before that reply (the workspace is the actions' result)."""
    agent = _GateScript(actions, before_final)
    return asyncio.run(run_episode(env, agent, seed=0))


class _GateScript(ScriptedAgent):
    """The gate's scripted agent: the actions, a hook, then the final reply."""

    def __init__(self, actions: list[Any], before_final: Callable[[], None] | None):
        super().__init__(actions, final=FINAL_TEXT, name="gate")
        self.before_final = before_final

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        if self._next == len(self.actions) and self.before_final is not None:
            self.before_final()
        return await super().act(messages, tools)


def _mutate_value(text: str, rng: random.Random, targets: tuple[str, ...] = ()) -> str | None:
    """Change one checked value (or any number, or failing that any word) in the text."""
    import re

    present = [t for t in targets if t in text]
    if present:
        t = rng.choice(present)
        changed = _mutate_value(t, rng) or t[::-1] + "q"
        if t in changed:  # a mutation must not keep the value it alters as a substring
            changed = "Q" * len(t)
        return text.replace(t, changed, 1)
    nums = list(re.finditer(r"\d+(\.\d+)?", text))
    if nums:
        m = rng.choice(nums)
        return text[: m.start()] + str(int(float(m.group()) + 7)) + text[m.end():]
    words = list(re.finditer(r"[A-Za-z]{4,}", text))
    if words:
        m = rng.choice(words)
        return text[: m.start()] + m.group()[::-1] + "x" + text[m.end():]
    return None


def _mutate_format(text: str, path: str) -> str:
    if path.endswith(".json"):
        return text.replace("{", "").replace("[", "")
    if path.endswith((".csv", ".tsv")):
        return text.replace(",", ";").replace("\t", ";")
    return "\n".join(line.lstrip("#-|* ") for line in text.splitlines())


def _mutate_order(text: str, path: str) -> str | None:
    lines = text.splitlines()
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, list) and len(data) > 1:
            return json.dumps(data[::-1], indent=2)
        return None
    head, body = (lines[:1], lines[1:]) if path.endswith((".csv", ".tsv")) else ([], lines)
    content = [i for i, ln in enumerate(body) if ln.strip()]
    if len(content) < 2:
        return None
    reordered = list(body)
    vals = [body[i] for i in content][::-1]
    for i, v in zip(content, vals):
        reordered[i] = v
    return "\n".join(head + reordered) + "\n"


def output_specs(task: Task) -> list[Any]:
    """The task's ``oracle_outputs`` as OutputSpec-like objects (path, mutations, checked_values)."""
    return [SimpleNamespace(path=o["path"], mutations=tuple(o.get("mutations", ())),
                            checked_values=tuple(o.get("checked_values", ()))) for o in task.oracle_outputs or []]


def gate_env(task: Task, backend: str) -> Any:
    """The env the gates play a task's no-op and oracle in (room for every oracle call)."""
    from clawgym_env.env import ClawGymEnv

    return ClawGymEnv(task, backend=backend, max_steps=max(8, len(task.oracle or []) + 2))


def run_oracle(env: Any, task: Task, dest: Path) -> tuple[EpisodeResult, list[str], bool]:
    """Play ``task.oracle`` in ``env`` and keep its final workspace at ``dest``. Returns the
    episode, the problems seen and whether the oracle ran to its end (only then do its reward and
    ``dest`` mean anything)."""
    errors: list[str] = []

    def keep_workspace() -> None:
        assert env.sandbox is not None
        env.sandbox.snapshot(dest)  # no setuid/setgid bits leave a sandbox

    oracle = play(env, list(task.oracle or []), before_final=keep_workspace)
    failed = [c for c in oracle.tool_calls if not c.ok]
    if failed:
        errors.append(f"oracle tool call failed: {failed[0].result[:300]}")
    if oracle.error is not None:
        errors.append(f"{oracle.error['type']}: {oracle.error['message']}")
        return oracle, errors, False
    if len(oracle.turns) != len(task.oracle or []) + 1 or not oracle.terminated:
        errors.append("the oracle ended the episode early")
        return oracle, errors, False
    if oracle.infra_error is not None:
        errors.append(f"oracle infra error: {oracle.infra_error}")
    return oracle, errors, True


def rescore(task: Task, base: Path, work: Path, edits: dict[str, bytes | None], *,
            backend: str = "bwrap") -> Any:
    """Score a copy of the workspace ``base`` (made at ``work``) with ``edits`` applied:
    workspace-relative path -> new content, or None to delete it. Returns the VerifierResult."""
    from clawgym_env.verify.offline import verify_workspace

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work, symlinks=True)
    for rel, data in edits.items():
        target = work / rel
        if data is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)  # never write through a link the oracle left
        target.write_bytes(data)
    return verify_workspace(task, work, backend=backend)


def read_text(path: Path) -> str | None:
    """A workspace file's text; None when absent, not a plain file or not UTF-8 (an archive)."""
    try:
        return path.read_text() if path.is_file() and not path.is_symlink() else None
    except UnicodeDecodeError:
        return None


def gate_task(task: Task, outputs: list[Any] | None = None, *, backend: str = "bwrap",
              seed: int = 0) -> GateReport:
    """Run the gate on one task. ``outputs`` are OutputSpec-like objects (path, mutations,
    checked_values); by default the task's own ``oracle_outputs``."""
    if outputs is None and task.oracle_outputs:
        outputs = output_specs(task)
    report = GateReport(task.task_id)
    env = gate_env(task, backend)
    snapshot = Path(tempfile.mkdtemp(prefix="clawgym-gate-"))
    try:
        noop = play(env, [])
        report.noop_reward = noop.reward
        noop_subs = noop.subscores or {}
        if noop.error is not None:  # an exception, not a verdict: the gate reports it as a crash
            report.errors.append(f"{noop.error['type']}: {noop.error['message']}")
            return report
        if noop.infra_error is not None:
            report.errors.append(f"no-op infra error: {noop.infra_error}")
        if task.oracle is None:
            return report

        oracle, problems, complete = run_oracle(env, task, snapshot / "ws")
        report.errors.extend(problems)
        if not complete:
            return report
        report.oracle_reward = oracle.reward
        oracle_subs = oracle.subscores or {}
        for name in sorted(set(noop_subs) | set(oracle_subs)):
            if float(noop_subs.get(name, 1)) != 0.0 or float(oracle_subs.get(name, 0)) != 1.0:
                report.not_discriminative.append(name)
        rng = random.Random(f"gate/{task.task_id}/{seed}")
        for out in outputs or []:
            text = read_text(snapshot / "ws" / out.path)  # None for a binary output: only 'missing' applies
            for kind in out.mutations:
                if kind == "missing":
                    edit: bytes | None = None
                elif text is None:
                    continue
                else:
                    new = {"value": lambda: _mutate_value(text, rng, tuple(getattr(out, "checked_values", ()))), "format": lambda: _mutate_format(text, out.path),
                           "order": lambda: _mutate_order(text, out.path)}[kind]()
                    if new is None or new == text:
                        continue
                    edit = new.encode()
                res = rescore(task, snapshot / "ws", snapshot / f"m-{kind}", {out.path: edit}, backend=backend)
                report.mutations[f"{out.path}:{kind}"] = res.reward
    except Exception as exc:  # the gate reports, it never crashes a batch
        report.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        env.close()
        shutil.rmtree(snapshot, ignore_errors=True)
    return report


R = TypeVar("R")


def run_batch(check: Callable[[Task], R], summarize: Callable[[list[R]], dict[str, Any]],
              on_error: Callable[[str, str], R], load: Callable[[str], Task], ids: list[str], *, jobs: int,
              description: str, progress: bool) -> dict[str, Any]:
    """``check(load(id))`` for each id on ``jobs`` threads behind a progress bar; a task that raises
    (one that cannot even be loaded) becomes ``on_error(id, message)``. The reports, by task id,
    and their ``summarize``: what every gate over many tasks returns."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from clawgym_env.progress import progress_bar

    reports: list[R] = []
    with progress_bar(description, len(ids), enabled=progress) as advance, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(lambda i=i: check(load(i))): i for i in ids}
        for fut in as_completed(futures):
            try:
                reports.append(fut.result())
            except Exception as exc:
                reports.append(on_error(futures[fut], f"{type(exc).__name__}: {exc}"))
            advance()
    reports.sort(key=lambda r: r.task_id)  # type: ignore[attr-defined]
    return {"summary": summarize(reports), "reports": [r.to_dict() for r in reports]}  # type: ignore[attr-defined]


def gate_many(load: Any, ids: list[str], *, jobs: int = 2, backend: str = "bwrap",
              progress: bool = True) -> dict[str, Any]:
    """Gate ``ids`` (``load(id) -> Task``) concurrently; per-task reports and a summary."""
    return run_batch(lambda task: gate_task(task, backend=backend), summarize, lambda i, msg: GateReport(i, errors=[msg]),
                     load, ids, jobs=jobs, description="quality gate", progress=progress)


def summarize(reports: list[GateReport]) -> dict[str, Any]:
    """Counts over the quality gate's per-task reports."""
    with_oracle = [r for r in reports if r.oracle_reward is not None]
    noop = [r.noop_reward for r in reports if r.noop_reward is not None]
    return {
        "tasks": len(reports),
        "without_oracle": sum(r.oracle_reward is None and not r.errors for r in reports),
        "passed": sum(r.passed for r in reports),
        "crashes": sum(bool(r.errors) for r in reports),
        "oracle_mean": statistics.fmean([r.oracle_reward for r in with_oracle]) if with_oracle else None,  # type: ignore[misc]
        "oracle_perfect": sum(r.oracle_reward == 1.0 for r in with_oracle),
        "noop_mean": statistics.fmean(noop) if noop else None,
        "noop_max": max(noop) if noop else None,
        "not_discriminative_checks": sum(len(r.not_discriminative) for r in reports),
        "mutations": sum(len(r.mutations) for r in reports),
        "mutations_not_caught": sum(1 for r in reports for v in r.mutations.values() if v >= 1.0),
    }
