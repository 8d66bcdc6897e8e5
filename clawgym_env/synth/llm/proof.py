"""The proof stage: a generated task is kept only if its verifier is proven through the real env.

The model's reference solution (tool calls, written without seeing the verifier) becomes the
task's oracle, and the in-memory task must pass what a built-in task passes: the quality gate
(reference 1.0, no-op 0, every check 0 at no-op and 1 under the reference, every listed mutation of
the reference's outputs caught, 'missing' always), a scaffold (inputs + placeholders) scoring 0,
the equivalence gate (harmless rewrites of the reference's outputs keep >= 0.99) and the adversarial
gate (instruction echo, empty-but-valid files and copied inputs each <= 0.1). That is more than the
authors ask of their verifiers (specs §E1 stage 8 and §E2 filter: no-op and scaffold only), and it
is what lets the emitted folder enter ``clawgym validate`` like a built-in task.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.synth.llm.jsonout import NoJSON, extract_json_object
from clawgym_env.synth.llm.reference_prompts import with_suffix
from clawgym_env.synth.llm.scaffold import input_files, output_paths, scaffold_files
from clawgym_env.tasks.model import Task
from clawgym_env.tasks.reward_template import REWARD_SH

TOOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "read": (("path",), ("offset", "limit")),
    "write": (("path", "content"), ()),
    "edit": (("path", "oldText", "newText"), ()),
    "exec": (("command",), ("workdir", "timeout")),
}
"""OpenClaw tool -> (required string arguments, optional arguments) a reference may use."""

MUTATION_KINDS = ("missing", "value", "format", "order")
ADVERSARIAL_MAX = 0.1
"""Each cheap strategy (echo, empty-but-valid, copied input) may score at most this."""
EQUIVALENCE_MIN = 0.99
"""Each harmless rewrite of the reference's outputs must keep at least this."""
_STRATEGY_REASON = {"instruction_echo": "echo_rewarded", "empty_valid": "empty_rewarded", "copy_input": "copy_rewarded"}


# ---------------------------------------------------------------------------------------------- parse
def _workspace_path(path: str) -> str | None:
    """A tool path as workspace-relative POSIX, or None when it leaves the workspace."""
    p = path.strip()
    root = WORKSPACE.rstrip("/") + "/"
    p = p.removeprefix(root)
    p = posixpath.normpath(p.removeprefix("./")) if p else p
    if not p or p.startswith(("/", "../")) or p in (".", "..") or "\\" in p:
        return None
    return p


def parse_reference(item: dict[str, Any], text: str) -> dict[str, Any]:
    """The reference stage's check of one answer: ``{"ok", "reason", "actions", "final"}``; reasons
    ``no_json``, ``no_actions``, ``unknown_tool``, ``bad_arguments``."""
    try:
        data = extract_json_object(text)
    except NoJSON as exc:
        return {"ok": False, "reason": f"no_json: {exc}", "actions": [], "final": ""}
    final = data.get("final") if isinstance(data.get("final"), str) else ""
    raw = data.get("actions")
    if not isinstance(raw, list) or not raw:
        return {"ok": False, "reason": "no_actions: 'actions' is not a non-empty list", "actions": [], "final": final}
    actions: list[dict[str, Any]] = []
    for i, act in enumerate(raw):
        bad = _check_action(i, act)
        if bad:
            return {"ok": False, "reason": bad, "actions": [], "final": final}
        actions.append({"name": act["name"], "arguments": dict(act["arguments"])})
    if not any(a["name"] != "read" for a in actions):
        return {"ok": False, "reason": "no_actions: only reads (nothing writes an output)", "actions": [], "final": final}
    return {"ok": True, "reason": None, "actions": actions, "final": final}


def _check_action(i: int, act: Any) -> str | None:
    if not isinstance(act, dict) or not isinstance(act.get("name"), str):
        return f"bad_arguments: action {i} is not {{\"name\", \"arguments\"}}"
    name = act["name"]
    if name not in TOOLS:
        return f"unknown_tool: action {i} calls {name!r} (read, write, edit, exec only)"
    args = act.get("arguments")
    if not isinstance(args, dict):
        return f"bad_arguments: action {i} ({name}) has no arguments object"
    required, optional = TOOLS[name]
    for key in required:
        value = args.get(key)
        if not isinstance(value, str) or (key != "newText" and key != "content" and not value.strip()):
            return f"bad_arguments: action {i} ({name}) needs a string {key!r}"
    extra = sorted(set(args) - set(required) - set(optional))
    if extra:
        return f"bad_arguments: action {i} ({name}) has unknown arguments {extra}"
    if "path" in args and _workspace_path(args["path"]) is None:
        return f"bad_arguments: action {i} ({name}) path {args['path']!r} leaves the workspace"
    return None


# ---------------------------------------------------------------------------------------------- task
def task_id_for(candidate: dict[str, Any]) -> str:
    """The candidate's id, made safe as a folder name."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(candidate["id"])).strip(".")
    return safe or "task"


def written_paths(actions: list[dict[str, Any]]) -> list[str]:
    """The workspace paths the actions write or edit, in order of first touch."""
    out: list[str] = []
    for a in actions:
        if a.get("name") in ("write", "edit"):
            p = _workspace_path(str(a.get("arguments", {}).get("path", "")))
            if p and p not in out:
                out.append(p)
    return out


def _named_paths(task: dict[str, Any]) -> set[str]:
    """Every path the task names (inputs included: an input edited in place is an output)."""
    from clawgym_env.synth.adversarial import mentioned_paths

    text = "\n".join([str(task.get("question") or ""), *(str(b) for b in task.get("expected_behavior") or [])])
    return set(mentioned_paths(text)) | set(input_files(task))


def static_outputs(candidate: dict[str, Any], actions: list[dict[str, Any]]) -> list[str]:
    """The outputs known without running: the paths the task names that the actions write or edit.
    A scratch file the reference leaves (a helper script) is not an output: no check reads it."""
    named = _named_paths(candidate["task"])
    return [p for p in written_paths(actions) if p in named]


def candidate_task(candidate: dict[str, Any], actions: list[dict[str, Any]],
                   outputs: list[dict[str, Any]] | None = None) -> Task:
    """The candidate as an in-memory Task with the reference as its oracle. ``outputs`` (oracle
    outputs with their mutation kinds) default to the statically known ones with every kind."""
    task = candidate["task"]
    rules = candidate.get("rules") or None
    difficulty = task.get("difficulty")
    metadata: dict[str, Any] = {"category": candidate.get("category")}
    if candidate.get("subcategory"):
        metadata["subcategory"] = candidate["subcategory"]
    metadata.update({"grading_type": "hybrid" if rules else "automated",
                     "source": f"synth-llm:{candidate.get('route', 'unknown')}",
                     "difficulty": difficulty.get("score") if isinstance(difficulty, dict) else difficulty})
    for key, value in (candidate.get("metadata") or {}).items():
        metadata.setdefault(key, value)
    if outputs is None:
        outputs = [{"path": p, "mutations": list(MUTATION_KINDS), "checked_values": []}
                   for p in static_outputs(candidate, actions)]
    return Task(
        task_id=task_id_for(candidate),
        user_query=with_suffix(str(task["question"])),
        metadata=metadata,
        input_files=input_files(task),
        reward_files={"reward.sh": REWARD_SH.encode(), "check.py": str(candidate["check_py"]).encode()},
        file_modes={"reward/reward.sh": 0o755},
        extra={"rules": rules} if rules else {},
        oracle=[{"name": a["name"], "arguments": dict(a["arguments"])} for a in actions],
        oracle_outputs=outputs,
        source=f"synth-llm:{candidate.get('route', 'unknown')}:{candidate['id']}",
    )


# ---------------------------------------------------------------------------------------------- proof
@dataclass
class ProofReport:
    """Every figure the proof measured; ``reasons`` empty means the task is kept."""

    id: str
    reasons: list[str] = field(default_factory=list)
    """``kind: detail`` for each failed requirement, in the order they were checked."""
    reference_reward: float | None = None
    noop_reward: float | None = None
    not_discriminative: list[str] = field(default_factory=list)
    mutations: dict[str, float] = field(default_factory=dict)
    """``path:kind`` -> reward, every kind tried (a kind is listed in oracle.json only if caught)."""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    """The oracle outputs for oracle.json: each path with the mutation kinds the gate proved caught."""
    scratch_writes: list[str] = field(default_factory=list)
    """Paths the reference wrote that the task does not name (not outputs, not gated)."""
    scaffold_reward: float | None = None
    equivalence: dict[str, Any] = field(default_factory=dict)
    """``pairs`` (rewrite -> lowest reward), ``failed`` (below the minimum), ``copies``."""
    adversarial: dict[str, Any] = field(default_factory=dict)
    """``rewards`` and ``credited`` per strategy (perturbed_values recorded, not gated)."""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _final_outputs(paths: list[str], mutations: dict[str, float]) -> list[dict[str, Any]]:
    out = []
    for p in paths:
        caught = [k for k in MUTATION_KINDS if mutations.get(f"{p}:{k}", 1.0) < 1.0]
        out.append({"path": p, "mutations": caught, "checked_values": []})
    return out


def _same_draws(tried: list[dict[str, Any]], kept: list[dict[str, Any]], mutations: dict[str, float]) -> bool:
    """Whether the gate, run on ``kept``, draws the same random value mutations as it did on
    ``tried``: a dropped value mutation that was drawn shifts every later output's draw."""
    shifted = False
    for t, k in zip(tried, kept):
        if shifted and "value" in k["mutations"]:
            return False
        if f"{t['path']}:value" in mutations and "value" not in k["mutations"]:
            shifted = True
    return True


def _existing_after_reference(task: Task, paths: list[str], backend: str) -> set[str]:
    """Which of ``paths`` exist once the reference has run (one extra episode; only needed when an
    exec call may have written a named output)."""
    from clawgym_env.synth.gate import gate_env, run_oracle

    tmp = Path(tempfile.mkdtemp(prefix="clawgym-proof-"))
    env = gate_env(task, backend)
    try:
        run_oracle(env, task, tmp / "ws")
        return {p for p in paths if (tmp / "ws" / p).is_file() and not (tmp / "ws" / p).is_symlink()}
    finally:
        env.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _scaffold_reward(task: Task, candidate: dict[str, Any], backend: str) -> float:
    from clawgym_env.verify.offline import verify_workspace

    tmp = Path(tempfile.mkdtemp(prefix="clawgym-scaffold-"))
    try:
        for rel, data in scaffold_files(candidate["task"]).items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return float(verify_workspace(task, tmp, backend=backend).reward)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prove(candidate: dict[str, Any], actions: list[dict[str, Any]], *, backend: str = "bwrap") -> ProofReport:
    """Run every proof on the candidate with ``actions`` as its oracle; never raises."""
    report = ProofReport(task_id_for(candidate))
    start = time.monotonic()
    try:
        _prove(report, candidate, actions, backend)
    except Exception as exc:  # infrastructure or a candidate that cannot even become a Task
        report.errors.append(f"{type(exc).__name__}: {exc}")
        report.reasons.append(f"reference_error: {type(exc).__name__}: {exc}"[:500])
    report.seconds = round(time.monotonic() - start, 3)
    return report


def _prove(report: ProofReport, candidate: dict[str, Any], actions: list[dict[str, Any]], backend: str) -> None:
    from clawgym_env.synth.adversarial import adversarial_check
    from clawgym_env.synth.equivalence import equivalence_check
    from clawgym_env.synth.gate import gate_task

    task = candidate_task(candidate, actions)
    paths = static_outputs(candidate, actions)
    named = _named_paths(candidate["task"])
    report.scratch_writes = [p for p in written_paths(actions) if p not in named]
    unsure = [p for p in output_paths(candidate["task"]) if p not in paths]
    if unsure and any(a["name"] == "exec" for a in actions):
        made = _existing_after_reference(task, unsure, backend)
        paths += [p for p in unsure if p in made]
    if not paths:
        report.reasons.append("reference_failed: the reference writes none of the task's output paths")
        return
    tried = [{"path": p, "mutations": list(MUTATION_KINDS), "checked_values": []} for p in paths]
    task = task.model_copy(update={"oracle_outputs": tried})

    gate = gate_task(task, backend=backend)
    report.reference_reward, report.noop_reward = gate.oracle_reward, gate.noop_reward
    report.not_discriminative, report.mutations = list(gate.not_discriminative), dict(gate.mutations)
    if gate.errors:
        report.errors.extend(gate.errors)
        report.reasons.append(f"reference_error: {gate.errors[0]}"[:500])
        return
    if gate.oracle_reward != 1.0:  # GateReport.passed asks exactly 1.0
        report.reasons.append(f"reference_failed: the verifier gives the reference {gate.oracle_reward}")
        return
    if gate.noop_reward != 0.0:
        report.reasons.append(f"noop_scored: doing nothing scores {gate.noop_reward}")
    if gate.not_discriminative:
        report.reasons.append(f"not_discriminative: {', '.join(gate.not_discriminative)} not 0 at no-op and 1 "
                              f"under the reference")
    outputs = _final_outputs(paths, gate.mutations)
    for _ in range(3):  # a dropped value mutation shifts later draws: confirm the listed ones again
        if _same_draws(tried, outputs, gate.mutations):
            break
        tried = outputs
        gate = gate_task(task.model_copy(update={"oracle_outputs": outputs}), backend=backend)
        report.mutations.update({f"{k}@recheck": v for k, v in gate.mutations.items()})
        outputs = [{**o, "mutations": [k for k in o["mutations"] if gate.mutations.get(f"{o['path']}:{k}", 1.0) < 1.0]}
                   for o in outputs]
    missed = [o["path"] for o in outputs if "missing" not in o["mutations"]]
    if missed:
        report.reasons.append(f"mutation_missed: deleting {', '.join(missed)} keeps full reward")
    report.outputs = outputs
    task = task.model_copy(update={"oracle_outputs": outputs})

    report.scaffold_reward = _scaffold_reward(task, candidate, backend)
    if report.scaffold_reward > 0.0:
        report.reasons.append(f"scaffold_scored: inputs plus placeholders score {report.scaffold_reward}")

    eq = equivalence_check(task, backend=backend)
    pairs = eq.pairs()
    failed = {name: r for name, r in pairs.items() if r < EQUIVALENCE_MIN}
    report.equivalence = {"pairs": pairs, "failed": failed, "copies": eq.copies,
                          "results": [r for r in eq.results if r["reward"] < EQUIVALENCE_MIN]}
    if eq.errors:
        report.errors.extend(eq.errors)
        report.reasons.append(f"equivalence_failed: {eq.errors[0]}"[:500])
    elif failed:
        report.reasons.append("equivalence_failed: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(failed.items())))

    adv = adversarial_check(task, backend=backend)
    report.adversarial = {"rewards": adv.rewards, "credited": adv.credited, "skipped": adv.skipped}
    if adv.errors:
        report.errors.extend(adv.errors)
        report.reasons.append(f"reference_error: adversarial gate: {adv.errors[0]}"[:500])
    for name, kind in _STRATEGY_REASON.items():
        reward = adv.rewards.get(name)
        if reward is not None and reward > ADVERSARIAL_MAX:
            credited = ", ".join(adv.credited.get(name, [])) or "no named check"
            report.reasons.append(f"{kind}: {name} scores {reward:.2f} (credited: {credited})")


__all__ = ["ADVERSARIAL_MAX", "EQUIVALENCE_MIN", "MUTATION_KINDS", "TOOLS", "ProofReport", "candidate_task",
           "parse_reference", "prove", "static_outputs", "task_id_for", "written_paths"]
