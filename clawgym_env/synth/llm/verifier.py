"""persona2task stage 8 (specs/clawgym-reference.md §E1): a generated verifier is kept only if it
runs, in our sandbox, the way the reward flow will run it.

:func:`validate_verifier` is the reusable check (skill2task and the proof stage call it too): a
static pass (one fenced file that compiles, defines ``grade``, imports only the standard library
and no network module), then ``grade([], ws)`` through a small harness and the CLI
``python3 reward/check.py <ws>`` (exactly as ``reward.sh`` calls it) on an empty workspace and on
the task's scaffold (inputs + a placeholder at each output path), each in a fresh one-shot sandbox.
It fails on a traceback, a timeout, a result that is not a non-empty dict of numbers in [0, 1]
(bools are not numbers here), CLI keys that differ from grade's, or any points on either workspace:
a verifier that pays for files existing pays for no work.

:func:`run_verifier_stage` asks for the verifier and repairs it: up to ``rounds`` rounds, each
after the first carrying the previous code and what failed. One record per id, written when its
last round ends, so a killed run redoes only unfinished ids.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clawgym_env.synth.llm.stages import Record, StageResult, StageWriter, read_records, summarize

NETWORK_MODULES = frozenset({
    "socket", "ssl", "socketserver", "urllib.request", "http.client", "http.server", "ftplib", "smtplib",
    "poplib", "imaplib", "telnetlib", "xmlrpc.client", "xmlrpc.server", "requests", "httpx", "aiohttp",
    "urllib3",
})
"""Modules a grader has no business importing: it must not reach the network."""

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL | re.IGNORECASE)
_TAIL = 1500

HARNESS = b'''import importlib.util, json, math, sys
ws, check, out = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("check", check)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
result = mod.grade([], ws)

def describe(v):
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, (int, float)):
        try:
            f = float(v)
        except OverflowError:
            return ["nonfinite", repr(v)[:40]]
        return ["number", f] if math.isfinite(f) else ["nonfinite", repr(v)]
    return [type(v).__name__, repr(v)[:80]]

if isinstance(result, dict):
    desc = {"type": "dict", "items": [[k if isinstance(k, str) else "<non-str key " + repr(k)[:40] + ">", *describe(v)]
                                      for k, v in result.items()]}
else:
    desc = {"type": type(result).__name__, "repr": repr(result)[:200]}
with open(out, "w") as fh:
    json.dump(desc, fh)
'''
"""Runs ``grade([], ws)`` and writes a description of what it returned (printing is unreliable:
a grader may print while it is imported)."""


@dataclass
class Validation:
    """The verdict on one verifier: ``reason`` is ``kind: detail`` (the first problem) and
    ``diagnostics`` every problem in words, for the repair prompt."""

    ok: bool
    reason: str | None = None
    diagnostics: str = ""
    scores: dict[str, float | None] = field(default_factory=dict)
    """Mean of grade's values on ``empty`` and ``scaffold`` (None where it did not run cleanly)."""
    infra: bool = False
    """The sandbox itself failed: nothing is known about the verifier (a rerun tries again)."""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "diagnostics": self.diagnostics, "scores": self.scores}


# ---------------------------------------------------------------------------------------------- static
def extract_code(text: str) -> str | None:
    """The grader's source from a model answer: the fenced block that defines ``grade`` (else the
    first fenced block; an unterminated fence runs to the end), or the bare answer if it defines one."""
    if not isinstance(text, str) or not text.strip():
        return None
    blocks = [m.group(1) for m in _FENCE.finditer(text)]
    for block in blocks:
        if "def grade" in block:
            return block.strip("\n") + "\n"
    if blocks:
        return blocks[0].strip("\n") + "\n"
    if "def grade" in text:
        return text.strip("\n") + "\n"
    return None


def _imported(tree: ast.AST) -> list[tuple[str, int]]:
    """Every module name the code imports (statements, ``__import__`` and ``importlib.import_module``
    with a literal name), with its line."""
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, node.lineno))
            out += [(f"{node.module}.{a.name}", node.lineno) for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if name in ("__import__", "import_module"):
                out.append((node.args[0].value, node.lineno))
    return out


def static_check(code: str) -> tuple[str, str] | None:
    """``(kind, detail)`` for the first static problem, or None: compile, ``grade`` defined at top
    level, standard library only, no network module."""
    try:
        tree = ast.parse(code)
        compile(tree, "check.py", "exec")
    except SyntaxError as exc:
        return "syntax_error", f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. a NUL byte in the source
        return "syntax_error", str(exc)
    for name, line in _imported(tree):
        parts = name.split(".")
        if any(".".join(parts[:i]) in NETWORK_MODULES for i in range(1, len(parts) + 1)) and \
                parts[0] in sys.stdlib_module_names:
            return "network_import", f"line {line} imports {name}: a grader must not use the network"
        if parts[0] not in sys.stdlib_module_names:
            return "non_stdlib_import", f"line {line} imports {parts[0]}, which is not in the standard library"
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "grade" for n in tree.body):
        return "no_grade", "no top-level def grade(transcript, workspace_path)"
    return None


# ---------------------------------------------------------------------------------------------- sandbox
def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TAIL else "..." + text[-_TAIL:]


def _check_values(items: list[tuple[str, str, Any]], where: str) -> tuple[str, str] | None:
    if not items:
        return "bad_result", f"{where} returned an empty dict (it must return at least one check)"
    bools = [k for k, kind, _ in items if kind == "bool"]
    if bools:
        return "bad_result", f"{where} gave booleans, not floats, for: {', '.join(bools)} (use 1.0 / 0.0)"
    odd = [f"{k} ({kind} {v})" for k, kind, v in items if kind != "number"]
    if odd:
        return "bad_result", f"{where} gave non-numeric values for: {', '.join(odd)}"
    out = [f"{k}={v}" for k, _, v in items if not 0.0 <= v <= 1.0]
    if out:
        return "bad_result", f"{where} gave values outside [0, 1]: {', '.join(out)}"
    bad_keys = [k for k, _, _ in items if k.startswith("<non-str key")]
    if bad_keys:
        return "bad_result", f"{where} used keys that are not strings: {', '.join(bad_keys)}"
    return None


def _cli_items(data: Any) -> list[tuple[str, str, Any]]:
    def kind(v: Any) -> tuple[str, Any]:
        if isinstance(v, bool):
            return "bool", v
        if isinstance(v, (int, float)):
            return ("number", float(v)) if math.isfinite(v) else ("nonfinite", repr(v))
        return type(v).__name__, repr(v)[:80]
    return [(k, *kind(v)) for k, v in data.items()]


def _run_workspace(sandbox: Any, label: str, files: dict[str, bytes], check_py: str,
                   timeout_s: float) -> tuple[list[tuple[str, str]], float | None]:
    """Both runs on one workspace; the problems found (``(kind, text)``) and grade's mean."""
    from clawgym_env.verify.code import VERIFIER_CWD

    sandbox.restore([(p, data, 0o644) for p, data in files.items()])
    sandbox.install_verifier({"check.py": check_py.encode()}, {})
    ws, paths = sandbox.workspace, sandbox.verifier_paths
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": paths.guard}
    problems: list[tuple[str, str]] = []

    def fail(kind: str, text: str) -> None:
        problems.append((kind, text))

    def ran(res: Any, what: str) -> bool:
        if res.timed_out:
            fail("timeout", f"{what} on the {label} workspace did not finish in {timeout_s:g} s")
        elif res.exit_code != 0:
            last = (res.stderr.strip().splitlines() or ["(no stderr)"])[-1][:200]
            fail("verifier_crash", f"{what} on the {label} workspace exited with code {res.exit_code}: {last}\n"
                                   f"stderr:\n{_tail(res.stderr) or '(empty)'}")
        return not res.timed_out and res.exit_code == 0

    def values_ok(items: list[tuple[str, str, Any]], what: str) -> bool:
        bad = _check_values(items, f"{what} on the {label} workspace")
        if bad:
            fail(*bad)
        return bad is None

    grade_items: list[tuple[str, str, Any]] | None = None
    what = "grade([], workspace)"
    res = sandbox.run_verifier(["python3", f"{paths.out}/harness.py", ws, f"{ws}/reward/check.py",
                                f"{paths.out}/grade.json"], env=env, timeout_s=timeout_s, cwd=VERIFIER_CWD,
                               inputs={"harness.py": HARNESS}, outputs=("grade.json",))
    if ran(res, what):
        desc = json.loads(res.outputs.get("grade.json") or b"{}")
        if desc.get("type") != "dict":
            fail("bad_result", f"{what} on the {label} workspace returned a {desc.get('type')} "
                               f"({desc.get('repr')}), not a dict")
        elif values_ok(items := [tuple(i) for i in desc["items"]], what):  # type: ignore[misc]
            grade_items = items

    cli_items: list[tuple[str, str, Any]] | None = None
    what = "python3 check.py <workspace>"
    res = sandbox.run_verifier(["python3", f"{ws}/reward/check.py", ws], env=env, timeout_s=timeout_s,
                               cwd=VERIFIER_CWD)
    if ran(res, what):
        try:
            data = json.loads(res.stdout.strip())
        except ValueError:
            data = None
            fail("bad_result", f"{what} on the {label} workspace must print only the JSON dict; it printed:\n"
                               f"{_tail(res.stdout) or '(nothing)'}")
        else:
            if not isinstance(data, dict):
                fail("bad_result", f"{what} on the {label} workspace printed a {type(data).__name__}, "
                                   "not a JSON object")
        if isinstance(data, dict) and values_ok(items := _cli_items(data), what):
            cli_items = items

    mean = None
    if grade_items is not None:
        mean = sum(v for _, _, v in grade_items) / len(grade_items)
        if cli_items is not None:
            g, c = {k for k, _, _ in grade_items}, {k for k, _, _ in cli_items}
            if g != c:
                fail("key_mismatch", f"on the {label} workspace the CLI printed other keys than grade returned: "
                                     f"only in grade: {sorted(g - c)}, only in the CLI: {sorted(c - g)}")
        scoring = [f"{k}={v:g}" for k, _, v in grade_items if v > 0]
        if cli_items is not None:
            scoring += [f"{k}={v:g} (CLI)" for k, _, v in cli_items if v > 0 and f"{k}={v:g}" not in scoring]
        if scoring:
            kind = "scaffold_scored" if label == "scaffold" else "empty_scored"
            what_ws = ("the scaffold (the input files plus a placeholder file at each output path: no work done)"
                       if label == "scaffold" else "an empty workspace")
            fail(kind, f"{what_ws} must score 0 on every check, but these scored: {', '.join(scoring)}")
    return problems, mean


def validate_verifier(check_py: str, task: dict[str, Any], *, backend: str = "bwrap",
                      timeout_s: float = 20) -> Validation:
    """Check a verifier statically, then run it in fresh sandboxes on an empty workspace and on the
    task's scaffold (``scaffold.scaffold_files``). Sandbox failures are ``infra`` (reason
    ``sandbox_error``), never the verifier's fault."""
    from clawgym_env.sandbox import SandboxError, make_sandbox
    from clawgym_env.synth.llm.scaffold import scaffold_files

    if not check_py or not check_py.strip():
        return Validation(False, "no_code: no Python code in the answer",
                          "- [no_code] the answer held no Python code: give the whole grader in one ```python block")
    bad = static_check(check_py)
    if bad:
        return Validation(False, f"{bad[0]}: {bad[1]}", f"- [{bad[0]}] {bad[1]}")
    problems: list[tuple[str, str]] = []
    scores: dict[str, float | None] = {}
    try:
        sandbox = make_sandbox(backend)
        try:
            for label, files in (("empty", {}), ("scaffold", scaffold_files(task))):
                found, scores[label] = _run_workspace(sandbox, label, files, check_py, timeout_s)
                problems += found
        finally:
            sandbox.close()
    except (SandboxError, OSError) as exc:
        return Validation(False, f"sandbox_error: {exc}", f"the sandbox failed: {exc}", scores, infra=True)
    if not problems:
        return Validation(True, None, "", scores)
    kind, text = problems[0]
    first_line = text.splitlines()[0]
    diagnostics = "\n\n".join(f"- [{k}] {t}" for k, t in problems)
    return Validation(False, f"{kind}: {first_line}", diagnostics, scores)


# ---------------------------------------------------------------------------------------------- stage 8
def run_verifier_stage(name: str, path: Path, items: list[Record], *, client_factory: Callable[[], Any],
                       repair_messages: Callable[[Record, str, str], list[dict[str, Any]]], rounds: int = 3,
                       concurrency: int = 8, jobs: int = 2, backend: str = "bwrap", timeout_s: float = 20,
                       progress: bool = True) -> StageResult:
    """Stage 8 over ``items`` (each with ``task`` and its stage-7 ``messages``): up to ``rounds``
    rounds of ask -> extract -> validate; round k > 1 asks ``repair_messages(item, code, diagnostics)``.
    Model calls are bounded by ``concurrency``, sandbox validations (run in threads, off the event
    loop) by ``jobs``. An API or sandbox failure is a retryable reject: a rerun tries that id again."""
    from clawgym_env.agents.common import AgentError
    from clawgym_env.progress import progress_bar

    done = read_records(path)
    todo = [it for it in items if it["id"] not in done or done[it["id"]].get("retryable")]
    if todo:
        async def main() -> None:
            client = client_factory()
            asking, sandboxes = asyncio.Semaphore(max(1, concurrency)), asyncio.Semaphore(max(1, jobs))

            async def worker(item: Record) -> Record:
                usage: dict[str, int] = {}
                attempts, history, code, model = 0, [], "", None
                messages = item["messages"]
                for k in range(max(1, rounds)):
                    if k:
                        messages = repair_messages(item, code, history[-1]["diagnostics"])
                    try:
                        async with asking:
                            out = await client.complete(messages)
                    except AgentError as exc:
                        return {"id": item["id"], "ok": False, "reason": f"api_error: {exc.kind}: {exc}",
                                "retryable": True, "attempts": attempts + exc.attempts, "usage": usage,
                                "rounds": history, "check_py": code}
                    attempts += out.attempts
                    model = out.model
                    for key, v in out.usage.items():
                        if isinstance(v, int):
                            usage[key] = usage.get(key, 0) + v
                    code = extract_code(out.text) or ""
                    async with sandboxes:
                        v = await asyncio.to_thread(validate_verifier, code, item["task"], backend=backend,
                                                    timeout_s=timeout_s)
                    if v.infra:
                        return {"id": item["id"], "ok": False, "reason": v.reason, "retryable": True,
                                "attempts": attempts, "usage": usage, "rounds": history, "check_py": code}
                    history.append({"reason": v.reason, "diagnostics": v.diagnostics, "scores": v.scores})
                    if v.ok:
                        break
                last = history[-1]
                return {"id": item["id"], "ok": last["reason"] is None, "reason": last["reason"], "check_py": code,
                        "scores": last["scores"], "rounds": history, "usage": usage, "attempts": attempts,
                        "model": model}

            try:
                with StageWriter(path) as writer, progress_bar(name, len(todo), enabled=progress) as advance:
                    async def one(item: Record) -> None:
                        rec = await worker(item)
                        writer.write(rec)  # the loop's thread only: lines never interleave
                        advance()

                    await asyncio.gather(*(one(it) for it in todo))
            finally:
                await client.aclose()

        asyncio.run(main())
    return summarize(name, path, (it["id"] for it in items), read_records(path), done_now=len(todo))


__all__ = ["HARNESS", "NETWORK_MODULES", "Validation", "extract_code", "run_verifier_stage", "static_check",
           "validate_verifier"]
