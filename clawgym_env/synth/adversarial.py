"""The adversarial gate: cheap answers that do not solve the task must score (close to) nothing.

Each strategy builds a workspace from the task's initial workspace (or, for ``perturbed_values``,
from the oracle's final one) without solving anything, and the real verifier scores it:

- ``instruction_echo``: the instruction text written into every expected output path;
- ``empty_valid``: per output an empty-but-valid file of its kind (JSON ``{}``/``[]`` of the
  oracle output's top-level type, CSV header only, Markdown headings only, an empty archive, ...);
- ``copy_input``: one input file copied to every output path (the best of up to 3 inputs);
- ``perturbed_values`` (oracle only): the oracle's outputs with every number changed and each
  ``checked_values`` string replaced; binary outputs (archives) are removed, not perturbed.

Expected output paths are the oracle's ``oracle_outputs`` when the task has them; otherwise every
workspace-relative path with a known file extension that the instruction mentions (``output/x.md``,
or an absolute path under the workspace) and that is not an input file.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import statistics
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks.files import input_bytes, input_size, write_input
from clawgym_env.tasks.model import Task

FILE_EXTENSIONS = (
    "json", "jsonl", "ndjson", "geojson", "csv", "tsv", "md", "markdown", "txt", "text", "log", "eml", "rst",
    "yaml", "yml", "ini", "cfg", "conf", "env", "toml", "py", "sh", "js", "ts", "sql", "html", "htm", "xml",
    "ics", "vcf", "svg", "zip", "tar", "gz", "tgz", "bz2", "xz", "pdf", "png", "jpg", "jpeg", "gif", "docx",
    "xlsx", "pptx", "diff", "patch", "ipynb",
)

LIMITS: dict[str, tuple[float, float | None]] = {
    "instruction_echo": (0.05, 0.2), "empty_valid": (0.05, 0.2), "copy_input": (0.05, 0.2),
    "perturbed_values": (0.15, None),
}
"""The issue's acceptance per strategy: (mean at most, max at most or None)."""

_PATH = re.compile(r"(?<![\w.-])((?:/?[\w.-]+/)*[\w-]*(?:\.[\w-]+)*\.(?:" + "|".join(FILE_EXTENSIONS)
                   + r"))(?![\w/-])", re.IGNORECASE)


def instruction_paths(task: Task) -> list[str]:
    """Workspace-relative paths with a known file extension that the instruction mentions, minus
    the input files, in order of first mention."""
    return mentioned_paths(task.user_query, set(task.workspace_files()))


def mentioned_paths(text: str, inputs: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Workspace-relative paths with a known file extension in ``text`` (bare, back-quoted or
    absolute under the workspace), minus ``inputs`` and ``reward/``, in order of first mention."""
    out: list[str] = []
    for m in _PATH.finditer(text):
        path = m.group(1)
        if path.startswith("/"):
            if not path.startswith(WORKSPACE.rstrip("/") + "/"):
                continue
            path = path[len(WORKSPACE.rstrip("/")) + 1:]
        path = path.removeprefix("./")
        p = PurePosixPath(path)
        if ".." in p.parts or path in inputs or path in out or p.parts[:1] == ("reward",):
            continue
        out.append(path)
    return out


def expected_outputs(task: Task) -> tuple[list[str], str]:
    """The output paths the strategies write, and where they came from ('oracle'/'instruction')."""
    if task.oracle_outputs:
        return [o["path"] for o in task.oracle_outputs], "oracle"
    return instruction_paths(task), "instruction"


@dataclass
class Context:
    """What a strategy may look at: never the verifier, the oracle only for its output shape (or,
    for perturbed_values, its outputs to spoil)."""

    task: Task
    outputs: list[str]
    inputs: dict[str, bytes]
    """The initial workspace's files (those up to 1 MiB), workspace-relative."""
    oracle: dict[str, bytes | None] | None = None
    """Oracle output path -> its final content (None: absent); None when no oracle ran."""
    checked_values: dict[str, tuple[str, ...]] = field(default_factory=dict)


Edits = dict[str, "bytes | None"]


def _suffix(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    for double in (".tar.gz", ".tar.bz2", ".tar.xz"):
        if name.endswith(double):
            return double
    if name == ".env" or name.startswith(".env."):
        return ".env"
    return PurePosixPath(name).suffix


def instruction_echo(ctx: Context) -> list[Edits]:
    """The instruction, verbatim, in every output."""
    text = ctx.task.user_query.encode()
    return [{p: text for p in ctx.outputs}] if ctx.outputs else []


def _empty_archive(kind: str) -> bytes:
    buf = io.BytesIO()
    if kind == ".zip":
        with zipfile.ZipFile(buf, "w"):
            pass
    elif kind in (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"):
        mode = {".tar": "w", ".tar.bz2": "w:bz2", ".tar.xz": "w:xz"}.get(kind, "w:gz")
        with tarfile.open(fileobj=buf, mode=mode):  # type: ignore[call-overload]
            pass
    else:  # .gz
        return gzip.compress(b"")
    return buf.getvalue()


_COLUMNS = re.compile(r"columns?\b[^.\n]{0,40}?[:(]?\s*((?:`[^`]+`|\w+)(?:\s*(?:,|\band\b)\s*(?:`[^`]+`|\w+))+)")


def _columns_in_instruction(query: str, path: str) -> list[str]:
    """Column names the instruction lists for ``path``: the first 'column(s) ...' list after a
    mention of it, within 300 characters and before the next path; [] when there is none."""
    for mention in re.finditer(re.escape(path), query):
        other = _PATH.search(query, mention.end())  # the list must come before another file is named
        m = _COLUMNS.search(query, mention.end(), min(mention.end() + 300, other.start() if other else len(query)))
        if not m:
            continue
        ticked = re.findall(r"`([^`]+)`", m.group(1))
        return ticked or [c.strip() for c in re.split(r",|\band\b", m.group(1)) if c.strip()]
    return []


def _empty_for(path: str, ctx: Context, json_default: str) -> bytes:
    kind = _suffix(path)
    oracle = (ctx.oracle or {}).get(path)
    try:
        oracle_text = oracle.decode() if oracle is not None else None
    except UnicodeDecodeError:
        oracle_text = None
    if kind in (".json", ".geojson"):
        if oracle_text is not None:
            try:
                return b"[]\n" if isinstance(json.loads(oracle_text), list) else b"{}\n"
            except ValueError:
                pass
        return json_default.encode()
    if kind in (".csv", ".tsv"):
        if oracle_text is not None:
            return (oracle_text.splitlines()[0] + "\n").encode() if oracle_text.strip() else b""
        cols = _columns_in_instruction(ctx.task.user_query, path)
        return ((("\t" if kind == ".tsv" else ",").join(cols) + "\n") if cols else "").encode()
    if kind in (".md", ".markdown"):
        if oracle_text is not None:
            heads = [ln for ln in oracle_text.splitlines() if re.match(r"#{1,6} ", ln)]
            if heads:
                return ("\n\n".join(heads) + "\n").encode()
        return f"# {PurePosixPath(path).stem.replace('_', ' ').title()}\n".encode()
    if kind in (".yaml", ".yml"):
        return b"{}\n"
    if kind in (".html", ".htm"):
        return b"<!DOCTYPE html>\n<html><head><title></title></head><body></body></html>\n"
    if kind in (".xml", ".svg"):
        return b'<?xml version="1.0"?>\n<root/>\n'
    if kind == ".ics":
        return b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n"
    if kind == ".ipynb":
        return b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
    if kind in (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".gz"):
        return _empty_archive(kind)
    if kind == ".sh":
        return b"#!/bin/sh\n"
    return b""


def empty_valid(ctx: Context) -> list[Edits]:
    """Per output an empty file of its kind. JSON takes the oracle output's top-level type; without
    an oracle both ``{}`` and ``[]`` are tried (two variants)."""
    if not ctx.outputs:
        return []
    defaults = ["{}\n"] if ctx.oracle is not None else ["{}\n", "[]\n"]
    variants = [{p: _empty_for(p, ctx, d) for p in ctx.outputs} for d in defaults]
    return [v for i, v in enumerate(variants) if v not in variants[:i]]


def copy_input(ctx: Context, limit: int = 3) -> list[Edits]:
    """One input copied to every output path: up to ``limit`` inputs, those sharing an output's
    extension first."""
    if not ctx.outputs or not ctx.inputs:
        return []
    exts = {_suffix(p) for p in ctx.outputs}
    order = sorted(ctx.inputs, key=lambda p: _suffix(p) not in exts)  # stable: workspace order otherwise
    return [{p: ctx.inputs[src] for p in ctx.outputs} for src in order[:limit]]


def _bump(m: re.Match[str]) -> str:
    digits = m.group()
    return f"{int(digits) + 7:0{len(digits)}d}"


def perturb_text(text: str, checked: tuple[str, ...] = ()) -> str:
    """Every checked string replaced (reversed, marked) and every digit run changed (+7, width
    kept): the same structure, no right value."""
    for value in sorted({v for v in checked if v and not re.fullmatch(r"[\d.,\s-]+", v)}, key=len, reverse=True):
        spoiled = value[::-1] + "q" if value[::-1] != value else value + "q"
        text = text.replace(value, spoiled)
    return re.sub(r"\d+", _bump, text)


def perturbed_values(ctx: Context) -> list[Edits]:
    """The oracle's outputs with every value spoiled (text outputs); binary outputs removed."""
    if ctx.oracle is None:
        return []
    edits: Edits = {}
    for path, data in ctx.oracle.items():
        if data is None:
            continue
        try:
            text = data.decode()
        except UnicodeDecodeError:
            edits[path] = None
            continue
        edits[path] = perturb_text(text, ctx.checked_values.get(path, ())).encode()
    return [edits] if edits else []


STRATEGIES: dict[str, tuple[Callable[[Context], list[Edits]], bool]] = {
    "instruction_echo": (instruction_echo, False),
    "empty_valid": (empty_valid, False),
    "copy_input": (copy_input, False),
    "perturbed_values": (perturbed_values, True),
}
"""name -> (strategy, whether it starts from the oracle's final workspace)."""


@dataclass
class AdversarialReport:
    task_id: str
    outputs: list[str] = field(default_factory=list)
    outputs_from: str = ""
    rewards: dict[str, float] = field(default_factory=dict)
    """Strategy -> reward (the best of its variants)."""
    credited: dict[str, list[str]] = field(default_factory=dict)
    """Strategy -> the checks that gave its best variant points."""
    skipped: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _materialize(task: Task, dest: Path) -> dict[str, bytes]:
    """Write the initial workspace at ``dest``; return its small files' bytes."""
    small: dict[str, bytes] = {}
    dest.mkdir(parents=True)
    for rel, data, mode in task.workspace_entries():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        write_input(data, target)
        target.chmod(mode)
        if input_size(data) <= 1 << 20:
            small[rel] = input_bytes(data)
    return small


def adversarial_check(task: Task, *, backend: str = "bwrap", strategies: list[str] | None = None) -> AdversarialReport:
    """Score each cheap strategy on ``task`` through the real verifier."""
    from clawgym_env.synth.gate import gate_env, rescore, run_oracle

    outputs, source = expected_outputs(task)
    report = AdversarialReport(task.task_id, outputs=outputs, outputs_from=source)
    names = strategies or list(STRATEGIES)
    tmp = Path(tempfile.mkdtemp(prefix="clawgym-adv-"))
    env = None
    try:
        if not outputs:
            report.skipped = {n: "no expected output paths (no oracle outputs, none in the instruction)" for n in names}
            return report
        ctx = Context(task, outputs, _materialize(task, tmp / "init"))
        if task.oracle is not None:
            env = gate_env(task, backend)
            _, problems, complete = run_oracle(env, task, tmp / "oracle")
            env.close()
            report.errors.extend(problems)
            if complete:
                ctx.oracle = {p: (tmp / "oracle" / p).read_bytes() if (tmp / "oracle" / p).is_file() else None
                              for p in outputs}
                ctx.checked_values = {o["path"]: tuple(str(v) for v in o.get("checked_values", ()))
                                      for o in task.oracle_outputs or []}
        for name in names:
            fn, from_oracle = STRATEGIES[name]
            variants = fn(ctx)
            if not variants:
                report.skipped[name] = "needs an oracle" if from_oracle and ctx.oracle is None else "not applicable"
                continue
            best = None
            for edits in variants:
                res = rescore(task, tmp / ("oracle" if from_oracle else "init"), tmp / "work", edits, backend=backend)
                if best is None or res.reward > best.reward:
                    best = res
            assert best is not None
            report.rewards[name] = best.reward
            report.credited[name] = sorted(k for k, v in (best.subscores or {}).items()
                                           if k != "reward" and isinstance(v, (int, float)) and v > 0)
    except Exception as exc:  # the gate reports, it never crashes a batch
        report.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        if env is not None:
            env.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def summarize(reports: list[AdversarialReport]) -> dict[str, Any]:
    """Per strategy: mean and max reward, the share of tasks at >= 0.5 and above 0.1."""
    per: dict[str, list[tuple[float, str]]] = {}
    for r in reports:
        for name, reward in r.rewards.items():
            per.setdefault(name, []).append((reward, r.task_id))
    strategies = {}
    for name in STRATEGIES:
        vals = per.get(name, [])
        rewards = [v for v, _ in vals]
        mean = statistics.fmean(rewards) if rewards else None
        top = max(rewards) if rewards else None
        mean_cap, max_cap = LIMITS[name]
        strategies[name] = {
            "tasks": len(rewards), "mean": mean, "max": top,
            "share_ge_0.5": sum(v >= 0.5 for v in rewards) / len(rewards) if rewards else None,
            "share_gt_0.1": sum(v > 0.1 for v in rewards) / len(rewards) if rewards else None,
            "worst": [[t, v] for v, t in sorted(vals, key=lambda x: (-x[0], x[1]))[:5] if v > 0],
            "gate_passed": (mean <= mean_cap and (max_cap is None or top <= max_cap))  # type: ignore[operator]
            if rewards else None,  # None: not run (perturbed_values without oracles)
        }
    return {
        "tasks": len(reports),
        "crashes": sum(bool(r.errors) for r in reports),
        "outputs_from": {k: sum(r.outputs_from == k for r in reports) for k in ("oracle", "instruction")},
        "no_outputs": sum(not r.outputs for r in reports),
        "strategies": strategies,
        "gate_passed": all(s["gate_passed"] for s in strategies.values() if s["tasks"]),
    }


def adversarial_many(load: Callable[[str], Task], ids: list[str], *, jobs: int = 2, backend: str = "bwrap",
                     progress: bool = True) -> dict[str, Any]:
    """The adversarial gate over ``ids``: a summary and per-task reports."""
    from clawgym_env.synth.gate import run_batch

    return run_batch(lambda task: adversarial_check(task, backend=backend), summarize, lambda i, msg: AdversarialReport(i, errors=[msg]),
                     load, ids, jobs=jobs, description="adversarial gate", progress=progress)


__all__ = ["LIMITS", "STRATEGIES", "AdversarialReport", "Context", "adversarial_check", "adversarial_many",
           "copy_input", "empty_valid", "expected_outputs", "instruction_echo", "instruction_paths",
           "perturb_text", "perturbed_values", "summarize"]
