"""Soak: many episodes of fuzzed tool calls; nothing may raise, leak or grow.

    python benchmarks/bench_soak.py [--episodes 10000] [--backend bwrap|docker] [--concurrency 4]
                                    [--seed 0] [--skip CATEGORY ...] [--json OUT]
    python benchmarks/bench_soak.py --kill-test [--backend bwrap|docker]

Episodes run on built-in tasks (oracle steps mixed in) and a few tasks of the shared train split
(``../shared/datasets/clawgym-train``), each env living 1-4 episodes (reset reuse, abandoned
episodes, ``max_steps`` truncation, final answers that run the verifier) before ``close``. About
70 % of the actions are fuzzed: random JSON, wrong argument types, unknown tools, huge / negative /
non-finite numbers, lone surrogates, deep nesting, paths escaping the workspace, NUL bytes, FIFOs,
``chmod 000``, 3,000-deep directory chains, background processes left running, ``process`` tool
abuse, malformed ``<tool_call>`` text and messages, big payloads; the rest are valid calls.

Reported (the issue's acceptance asks for 0 of each but episodes/s):

- exceptions out of ``reset`` / ``step`` / ``close``: each distinct one (call, type, where) with its
  count, the fuzz category and action that raised it first (a reproduction) and a traceback;
- steps slower than ``--slow-s`` (hangs) and infra errors the agent caused, by message;
- leaked processes: the sandbox uid's processes that started before ``close`` returned and still
  run after it (bwrap), containers labelled with this driver's pid after every close (docker);
- leaked workspaces (``clawgym-ws-*`` / ``clawgym-dws-*`` and docker's ``.out`` folders) and
  verifier folders (``clawgym-verify-*``), each tracked by its exact path, plus new entries of
  those names in the temp dir; mount entries naming them in /proc/self/mountinfo;
- the driver's RSS (median of the first, middle and last tenth of the run, after warm-up), and
  episodes/s.

``--kill-test`` starts a driver subprocess with 8 live envs (one mid-verifier loop, background
processes in the others), ``kill -9``s it, runs ``clawgym sandbox gc`` once and reports what is
left of it: processes, workspaces, verifier folders, containers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox.bwrap import _pids_of_uid  # live (non-zombie) processes of a uid
from clawgym_env.sandbox.runtime import runtime_dir
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.tasks import Task, load_task

TRAIN = REPO.parent / "shared" / "datasets" / "clawgym-train"
TOOLS = ["read", "write", "edit", "exec", "process"]
WS_PATTERNS = ("clawgym-ws-*", "clawgym-dws-*", ".clawgym-dws-*.out", "clawgym-verify-*", "clawgym-run-*")
CLK_TCK = os.sysconf("SC_CLK_TCK")
FINAL = {"role": "assistant", "content": "Done."}


# ====================================================================== fuzzing
def _rand_str(rng: random.Random, n: int | None = None) -> str:
    n = rng.randint(0, 40) if n is None else n
    alphabet = "abcXYZ019 ./-_*?$`'\"\\\n\t{}[]<>|&;~%\u00e9\u4e2d\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(n))


def _rand_json(rng: random.Random, depth: int = 3) -> Any:
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] if depth > 0 else [])
    k = rng.choice(kinds)
    if k == "null":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "int":
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64, 10**30, rng.randint(-1000, 1000)])
    if k == "float":
        return rng.choice([0.5, -0.0, 1e308, -1e308, 1e-320, 3.14159])
    if k == "str":
        return _rand_str(rng)
    if k == "list":
        return [_rand_json(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {_rand_str(rng, rng.randint(0, 8)): _rand_json(rng, depth - 1) for _ in range(rng.randint(0, 4))}


def _nested(depth: int, leaf: Any = "x", kind: str = "list") -> Any:
    v = leaf
    for _ in range(depth):
        v = [v] if kind == "list" else {"a": v}
    return v


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _exec(command: str, **extra: Any) -> dict[str, Any]:
    return _call("exec", command=command, **extra)


BAD_NUMBERS = [-1, 0, -(2**63), 2**63, 2**200, 1e308, -1e308, float("inf"), float("-inf"), float("nan"), 1.5, -0.5]
WRONG_TYPES: list[Any] = [123, -1, 1e308, True, False, None, [], {}, ["a", 1], {"k": "v"}, "", "x" * 5000]
ESCAPES = ["../../../../etc/passwd", "/etc/shadow", "/proc/self/environ", "/proc/1/environ", "/run/clawgym/server.py",
           "/root/.openclaw/workspace/../../../etc/hostname", "~/../../etc/hostname", "/proc/1/root/etc/passwd",
           "/dev/mem", "/sys/kernel/notes", "..", "/", "reward/reward.sh", "//etc//passwd", "/proc/self/mem",
           "link_root/etc/shadow", "link_root/tmp/planted", "/run/clawgym-out/x", "/tmp/../etc/passwd"]


def fz_random_json(rng: random.Random) -> Any:
    value = _rand_json(rng, rng.randint(1, 4))
    form = rng.randrange(4)
    if form == 0:
        return f"<tool_call>{json.dumps(value)}</tool_call>"
    if form == 1:
        return {"name": rng.choice(TOOLS), "arguments": value}
    if form == 2:
        text = json.dumps(value)
        return {"name": rng.choice(TOOLS), "arguments": text[: max(0, len(text) - rng.randint(0, 3))]}
    return {"role": "assistant", "content": _rand_str(rng), "tool_calls": [
        {"id": _rand_json(rng, 0), "type": "function", "function": {"name": rng.choice(TOOLS), "arguments": json.dumps(value)}}]}


def fz_wrong_types(rng: random.Random) -> Any:
    params = {"read": ["path", "offset", "limit"], "write": ["path", "content"], "edit": ["path", "oldText", "newText", "edits"],
              "exec": ["command", "workdir", "env", "yieldMs", "background", "timeout", "pty", "elevated", "host"],
              "process": ["action", "sessionId", "data", "keys", "hex", "offset", "limit", "eof"]}
    tool = rng.choice(TOOLS)
    return _call(tool, **{p: rng.choice(WRONG_TYPES) for p in params[tool] if rng.random() < 0.7})


def fz_unknown_tool(rng: random.Random) -> Any:
    name = rng.choice(["", " ", "exec ", "EXEC", "Read", "browser", "../exec", "a" * 1000, "read\x00", "exec\n",
                       "sessions_spawn", "apply_patch", "__import__", _rand_str(rng)])
    return {"name": name, "arguments": _rand_json(rng, 2)}


def fz_numbers(rng: random.Random) -> Any:
    n = lambda: rng.choice(BAD_NUMBERS)
    return rng.choice([
        _call("read", path="input", offset=n(), limit=n()),
        _exec("echo hi", timeout=n()),
        _exec("echo hi", yieldMs=n()),
        _exec("sleep 0.2", yieldMs=n(), timeout=n()),
        _call("process", action="log", sessionId="nope", offset=n(), limit=n()),
        _call("process", action="poll", sessionId="nope", timeout=n()),
    ])


def fz_surrogates(rng: random.Random) -> Any:
    s = rng.choice(["\ud800", "\udfff", "a\udc80b", "\ud83d", "x\ud800\udc00y"])
    return rng.choice([
        _call("write", path=f"f{s}", content="x"),
        _call("write", path="f.txt", content=f"x{s}y"),
        _call("read", path=f"in{s}put"),
        _exec(f"echo {s}"),
        _call("edit", path="f.txt", oldText=s, newText="y"),
        _call("process", action="write", sessionId=s, data=s),
        {"name": f"exec{s}", "arguments": {"command": "true"}},
        _exec("true", env={f"K{s}": s}),
        '<tool_call>{"name": "exec", "arguments": {"command": "echo \\ud800"}}</tool_call>',
    ])


def fz_deep(rng: random.Random) -> Any:
    depth = rng.choice([100, 500, 1000, 3000])
    kind = rng.choice(["list", "dict"])
    nested = _nested(depth, kind=kind)
    return rng.choice([
        _call("write", path="d.txt", content=nested),
        _exec("true", env=nested),
        {"name": "exec", "arguments": nested},
        {"name": "exec", "arguments": json.dumps(_nested(min(depth, 900), kind=kind))},
        "<tool_call>" + "[" * depth + "]" * depth + "</tool_call>",
        "<tool_call>" + '{"a":' * depth + "1" + "}" * depth + "</tool_call>",
        _call("process", action="send-keys", sessionId="x", keys=nested),
    ])


def fz_escape(rng: random.Random) -> Any:
    path = rng.choice(ESCAPES)
    return rng.choice([
        _call("read", path=path),
        _call("write", path=path, content="planted"),
        _call("edit", path=path, oldText="root", newText="toor"),
        _exec("ln -sfn / link_root; ls link_root/ >/dev/null; echo ok"),
        _exec("cat " + path, workdir=rng.choice(["/", "..", "/proc/1/cwd", "/nonexistent", path])),
    ])


def fz_nul(rng: random.Random) -> Any:
    return rng.choice([
        _call("read", path="in\x00put"),
        _call("write", path="a\x00b", content="x"),
        _call("write", path="nul.txt", content="a\x00b\x00"),
        _exec("echo a\x00b"),
        _exec("true", workdir="\x00"),
        _exec("true", env={"A\x00B": "c", "D": "e\x00f"}),
        _call("edit", path="nul.txt", oldText="\x00", newText="z"),
        _call("process", action="write", sessionId="a\x00", data="\x00"),
    ])


def fz_fifo(rng: random.Random) -> Any:
    return rng.choice([
        _exec("mkfifo p 2>/dev/null; echo made"),
        _call("read", path="p"),
        _call("write", path="p", content="into the fifo"),
        _call("edit", path="p", oldText="a", newText="b"),
        _exec("mkfifo q 2>/dev/null; cat q", yieldMs=500),
        _exec("mkfifo input/r 2>/dev/null; ls input"),
        [_exec("mkfifo p 2>/dev/null; echo made"), _call("write", path="p", content="into the fifo")],
        [_exec("mkfifo p 2>/dev/null; echo made"), _call("read", path="p")],
    ])


def fz_chmod(rng: random.Random) -> Any:
    return rng.choice([
        _exec("chmod 000 ."),
        _exec("chmod -R 000 . 2>/dev/null; echo done"),
        _exec("mkdir -p locked/sub && touch locked/sub/f && chmod 000 locked/sub locked"),
        _exec("chmod 000 /root/.openclaw/workspace"),
        _exec("touch ro && chmod 000 ro"),
        _call("read", path="ro"),
        _call("write", path="locked/sub/f", content="x"),
        _exec("chmod 000 input 2>/dev/null; chmod 000 input/* 2>/dev/null; echo ok"),
        [_exec("touch ro2 && chmod 000 ro2"), _call("read", path="ro2"), _call("write", path="ro2", content="x")],
    ])


def fz_deep_dirs(rng: random.Random) -> Any:
    depth = rng.choice([300, 1000, 3000])
    return rng.choice([
        _exec(f"python3 -c \"import os\nfor i in range({depth}):\n os.mkdir('d'); os.chdir('d')\nopen('f','w').write('x')\""),
        _exec(f"python3 -c \"import os\nfor i in range({depth}):\n os.mkdir('e'); os.chdir('e')\nos.chmod('.', 0)\""),
        _exec(f"python3 -c \"import os\nfor i in range({depth}):\n os.mkdir('L'); os.chdir('L')\nos.symlink('/', 'root')\""),
    ])


def fz_background(rng: random.Random) -> Any:
    return rng.choice([
        _exec("sleep 1000 &"),
        _exec("sleep 1000", background=True),
        _exec("nohup sleep 1000 >/dev/null 2>&1 &"),
        _exec("setsid sleep 1000 >/dev/null 2>&1 < /dev/null &"),
        _exec("(sleep 1000 &) &"),
        _exec("python3 -c \"import os,time\nif os.fork(): os._exit(0)\nos.setsid()\nif os.fork(): os._exit(0)\ntime.sleep(1000)\" &"),
        _exec("sh -c 'trap \"\" TERM HUP INT; sleep 1000' &"),
        _exec("for i in 1 2 3 4 5; do sleep 1000 & done"),
        _exec("timeout 3 yes > /dev/null &"),
        _exec("sleep 1000 > out.txt 2>&1 &", pty=True),
    ])


def fz_process(rng: random.Random) -> Any:
    action = rng.choice(["list", "poll", "log", "write", "kill", "remove", "send-keys", "paste", "submit", "clear",
                         "", "rm -rf /", "LIST", None, 123, ["list"], "\x00"])
    args: dict[str, Any] = {"action": action}
    if rng.random() < 0.8:
        args["sessionId"] = rng.choice(["nope", "", "../../x", "a" * 500, "1", None, 7, "%s", "\n"])
    for key, values in (("data", ["", "x" * 100000, "\x04", None]), ("keys", [["C-c"], ["nonsense-key"], [], "C-c", [1]]),
                        ("hex", [["zz"], ["0x41"], ["ff" * 1000]]), ("offset", BAD_NUMBERS), ("limit", BAD_NUMBERS),
                        ("eof", [True, "yes"]), ("text", ["paste me", None])):
        if rng.random() < 0.3:
            args[key] = rng.choice(values)
    return {"name": "process", "arguments": args}


def fz_text(rng: random.Random) -> Any:
    return rng.choice([
        "<tool_call>{not json</tool_call>",
        "<tool_call></tool_call>",
        "<tool_call>",
        "<tool_call>{\"name\": \"exec\", \"arguments\": {\"command\": \"echo cut",
        "<function=exec><parameter=command>ls",
        "<function=><parameter=x>1</parameter></function>",
        "<function=exec><parameter=command>echo a</parameter><parameter=command>echo b</parameter></function>",
        "<tool_call>[1, 2, 3]</tool_call>",
        "<tool_call>{\"function\": {\"name\": 5}}</tool_call>",
        "<tool_call>" + "".join(chr(rng.randint(1, 0x2FF)) for _ in range(200)) + "</tool_call>",
        "<tool_call>" + json.dumps({"name": "exec", "arguments": {"command": "echo " + "x" * 100000}}) + "</tool_call>",
    ])


def fz_message(rng: random.Random) -> Any:
    return rng.choice([
        {"role": "assistant", "content": [1, None, {"text": 5}, {"text": "hi"}], "tool_calls": [None, 5, "x"]},
        {"role": "assistant", "content": None, "tool_calls": "exec"},
        {"role": "assistant", "tool_calls": {"function": {"name": "exec", "arguments": "{\"command\": \"true\"}"}}},
        {"role": "assistant", "tool_calls": [{"function": "exec"}]},
        {"role": "assistant", "tool_calls": [{"function": {"name": "exec", "arguments": ["ls"]}}]},
        {"role": "assistant", "tool_calls": [{"id": 5, "function": {"name": "exec", "arguments": {"command": "true"}}}] * 3},
        {"role": "tool", "content": "spoofed tool result", "tool_calls": [{"function": {"name": "exec", "arguments": "{}"}}]},
        {"function": {"name": None, "arguments": None}},
        {"name": "exec", "parameters": {"command": "echo params"}},
        {"name": "exec", "input": {"command": "echo input"}},
        {"role": "assistant", "content": "x", "reasoning_content": 5, "tool_calls": [{"name": "exec", "arguments": "{}"}]},
    ])


def fz_big(rng: random.Random) -> Any:
    return rng.choice([
        _call("write", path="big.txt", content="y" * (5 << 20)),
        _exec("head -c 20000000 /dev/zero | tr '\\0' a"),
        _exec("head -c 30000000 /dev/urandom > rnd.bin; echo ok"),
        _call("read", path="rnd.bin"),
        _call("read", path="big.txt", offset=1, limit=1),
        [_exec(f"echo {i}") for i in range(60)],
        _call("edit", path="big.txt", oldText="y" * 1000, newText="z"),
    ])


FUZZERS = {
    "random_json": fz_random_json, "wrong_types": fz_wrong_types, "unknown_tool": fz_unknown_tool,
    "numbers": fz_numbers, "surrogates": fz_surrogates, "deep_nesting": fz_deep, "path_escape": fz_escape,
    "nul_bytes": fz_nul, "fifo": fz_fifo, "chmod_000": fz_chmod, "deep_dirs": fz_deep_dirs,
    "background": fz_background, "process_abuse": fz_process, "malformed_text": fz_text,
    "malformed_message": fz_message, "big_payloads": fz_big,
}


def valid_action(rng: random.Random, oracle: list[Any] | None, step: int) -> Any:
    if oracle and rng.random() < 0.5 and step < len(oracle):
        return oracle[step]
    name = f"notes_{rng.randint(0, 3)}.txt"
    return rng.choice([
        _call("write", path=name, content="hello\nworld\n"),
        _call("read", path=name),
        _call("edit", path=name, oldText="world", newText="there"),
        _exec("ls -la; pwd; id -u"),
        _exec("echo $((1+2)) && wc -c * 2>/dev/null | tail -1"),
        _call("process", action="list"),
        _exec("sleep 0.2; echo slept", yieldMs=50),
        _call("read", path="input"),
    ])


# ====================================================================== bookkeeping
@dataclass
class Findings:
    exceptions: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    infra: Counter[str] = field(default_factory=Counter)
    infra_examples: dict[str, str] = field(default_factory=dict)
    slow: list[dict[str, Any]] = field(default_factory=list)
    leaked_procs: list[dict[str, Any]] = field(default_factory=list)
    leaked_paths: list[str] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)
    episodes: int = 0
    envs: int = 0
    steps: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def exception(self, call: str, exc: BaseException, category: str, action: Any) -> None:
        tb = traceback.extract_tb(exc.__traceback__)
        inner = [f for f in tb if "clawgym_env" in f.filename] or tb
        where = f"{Path(inner[-1].filename).name}:{inner[-1].lineno} {inner[-1].name}" if inner else "?"
        key = (call, type(exc).__name__, where)
        with self.lock:
            entry = self.exceptions.get(key)
            if entry is None:
                self.exceptions[key] = {
                    "call": call, "type": type(exc).__name__, "where": where, "count": 1, "category": category,
                    "message": str(exc)[:300], "action": _short(action),
                    "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-3000:],
                }
            else:
                entry["count"] += 1

    def infra_error(self, message: str, category: str) -> None:
        key = re.sub(r"\d+", "N", message)[:120]
        with self.lock:
            self.infra[key] += 1
            self.infra_examples.setdefault(key, f"[after {category}] {message[:300]}")


def _short(action: Any, limit: int = 300) -> str:
    try:
        text = repr(action)
    except RecursionError:
        text = "<too deep to repr>"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _proc_start_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _now_ticks() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME) * CLK_TCK


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")[:200]
    except OSError:
        return "?"


def _rss_windows(samples: list[float]) -> dict[str, float]:
    """Median RSS of the first, middle and last tenth of the run (one sample can catch a big
    payload in flight; a leak moves the medians)."""
    n = len(samples)
    k = max(1, n // 10)

    def med(xs: list[float]) -> float:
        return round(sorted(xs)[len(xs) // 2], 1)

    mid = max(0, n // 2 - k // 2)
    return {"start": med(samples[:k]), "middle": med(samples[mid:mid + k]), "end": med(samples[-k:])}


def _rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _our_mounts(patterns: tuple[str, ...] = ("clawgym-ws-", "clawgym-dws-", "clawgym-verify-")) -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return [line.strip() for line in fh if any(p in line for p in patterns)]


def _temp_entries() -> set[str]:
    base = Path(tempfile.gettempdir())
    out: set[str] = set()
    for pattern in WS_PATTERNS:
        out.update(str(p) for p in base.glob(pattern))
    return out


class _RecordingTempfile:
    """``tempfile`` as the verifier module sees it: records every folder it makes (exact tracking
    of ``clawgym-verify-*``; behaviour unchanged)."""

    def __init__(self, sink: list[str], lock: threading.Lock) -> None:
        self._sink, self._lock = sink, lock

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)

    def mkdtemp(self, *args: Any, **kwargs: Any) -> str:
        path = tempfile.mkdtemp(*args, **kwargs)
        with self._lock:
            self._sink.append(path)
        return path


def _track_verifier_dirs() -> tuple[list[str], threading.Lock]:
    """Record every verifier folder the verifier module makes (``new_private_dir`` or, in older
    code, ``tempfile.mkdtemp``); behaviour unchanged."""
    from clawgym_env.verify import code as code_mod

    sink: list[str] = []
    lock = threading.Lock()
    make = getattr(code_mod, "new_private_dir", None)
    if make is None:
        code_mod.tempfile = _RecordingTempfile(sink, lock)  # type: ignore[assignment]
        return sink, lock

    def recording(*args: Any, **kwargs: Any) -> Any:
        path = make(*args, **kwargs)
        with lock:
            sink.append(str(path))
        return path

    code_mod.new_private_dir = recording  # type: ignore[attr-defined]
    return sink, lock


def _docker_containers(owner_pid: int | None = None) -> list[str]:
    from clawgym_env.sandbox.docker import LABEL

    filters = ["--filter", f"label={LABEL}"]
    if owner_pid is not None:
        filters += ["--filter", f"label=clawgym.owner_pid={owner_pid}"]
    proc = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}", *filters], capture_output=True, text=True,
                          timeout=60, check=False)
    return [n for n in proc.stdout.split() if n]


# ====================================================================== the soak
class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.f = Findings()
        self.builtin = BuiltinSource()
        ids = self.builtin.ids()
        self.builtin_ids = [ids[self.rng.randrange(len(ids))] for _ in range(200)]
        self.train: list[Task] = []
        if TRAIN.is_dir():
            for name in sorted(p.name for p in TRAIN.iterdir() if p.name.startswith("task_"))[: args.train_tasks]:
                self.train.append(load_task(TRAIN / name))
        self.categories = [c for c in FUZZERS if c not in set(args.skip)]
        self.remaining = args.episodes
        self.remaining_lock = threading.Lock()
        self.verify_dirs, self.verify_lock = _track_verifier_dirs()
        self.tracked_ws: set[str] = set()
        self.in_flight: dict[int, tuple[float, ClawGymEnv, str, Any]] = {}
        self.rss: list[tuple[int, float]] = []
        self.done = threading.Event()

    def _take(self) -> bool:
        with self.remaining_lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def _task(self, rng: random.Random) -> Task:
        if self.train and rng.random() < 0.1:
            return rng.choice(self.train)
        return self.builtin.load(rng.choice(self.builtin_ids))

    def _guarded(self, call: str, fn: Any, env: ClawGymEnv, category: str, action: Any = None) -> tuple[bool, Any]:
        me = threading.get_ident()
        t = time.monotonic()
        self.in_flight[me] = (t, env, category, action)
        try:
            return True, fn()
        except Exception as exc:  # noqa: BLE001 -- the finding
            self.f.exception(call, exc, category, action)
            return False, None
        finally:
            self.in_flight.pop(me, None)
            took = time.monotonic() - t
            if took > self.args.slow_s:
                with self.f.lock:
                    self.f.slow.append({"call": call, "seconds": round(took, 1), "category": category, "action": _short(action)})

    def _note_workspace(self, env: ClawGymEnv) -> tuple[int | None, list[str]]:
        sb = env.sandbox
        if sb is None:
            return None, []
        paths = [str(sb.host_workspace)]
        if self.args.backend == "docker":
            paths.append(str(sb.host_workspace.parent / f".{sb.host_workspace.name}.out"))
        with self.f.lock:
            self.tracked_ws.update(paths)
        return getattr(sb, "uid", None), paths

    def worker(self, wid: int) -> None:
        rng = random.Random(self.args.seed * 1000 + wid)
        while self._take():
            task = self._task(rng)
            try:
                env = ClawGymEnv(task, backend=self.args.backend, max_steps=rng.randint(3, 9), exec_timeout_s=20,
                                 verifier_timeout_s=60, max_tool_calls_per_step=rng.choice([None, 1, 4]))
            except Exception as exc:  # noqa: BLE001
                self.f.exception("ClawGymEnv()", exc, "construct", task.task_id)
                continue
            with self.f.lock:
                self.f.envs += 1
            episodes_here = rng.randint(1, 4)
            uid: int | None = None
            paths: list[str] = []
            first = True
            healthy = True
            while healthy and (first or self._take()):
                first = False
                episodes_here -= 1
                healthy = self.episode(env, task, rng)
                u, p = self._note_workspace(env)
                uid, paths = u if u is not None else uid, paths + p
                with self.f.lock:
                    self.f.episodes += 1
                if episodes_here <= 0:
                    break
            self._close_and_check(env, uid, paths)

    def episode(self, env: ClawGymEnv, task: Task, rng: random.Random) -> bool:
        ok, _ = self._guarded("reset", lambda: env.reset(seed=rng.randrange(2**31)), env, "reset")
        if not ok:
            return False
        self._note_workspace(env)
        oracle = task.oracle
        n_steps = rng.randint(1, 7)
        ending = rng.choices(["final", "truncate", "abandon"], weights=[0.75, 0.1, 0.15])[0]
        if ending == "truncate":
            n_steps = env.max_steps
        for step in range(n_steps):
            if rng.random() < self.args.fuzz_ratio:
                category = rng.choice(self.categories)
                action = FUZZERS[category](rng)
                with self.f.lock:
                    self.f.actions["fuzzed"] += 1
                    self.f.actions[category] += 1
            else:
                category, action = "valid", valid_action(rng, oracle, step)
                with self.f.lock:
                    self.f.actions["valid"] += 1
            ok, out = self._guarded("step", lambda a=action: env.step(a), env, category, action)
            with self.f.lock:
                self.f.steps += 1
            if not ok:
                return False
            _, _, terminated, truncated, info = out
            if info.get("infra_error"):
                self.f.infra_error(str(info["infra_error"]), category)
            if terminated or truncated:
                return True
        if ending == "abandon":
            return True
        ok, out = self._guarded("step", lambda: env.step(FINAL), env, "final", FINAL)
        if ok and out[4].get("infra_error"):
            self.f.infra_error(str(out[4]["infra_error"]), "final")
        return ok

    def _close_and_check(self, env: ClawGymEnv, uid: int | None, paths: list[str]) -> None:
        sb_name = getattr(env.sandbox, "container_name", None)
        self._guarded("close", env.close, env, "close")
        closed_at = _now_ticks()
        if uid is not None:
            for pid in _pids_of_uid(uid):
                start = _proc_start_ticks(pid)
                if start is not None and start <= closed_at:  # ours (a later lessee's start after our close)
                    with self.f.lock:
                        self.f.leaked_procs.append({"uid": uid, "pid": pid, "cmd": _cmdline(pid)})
        for p in set(paths):
            if os.path.lexists(p):
                with self.f.lock:
                    self.f.leaked_paths.append(p)
        if sb_name:
            left = subprocess.run(["docker", "ps", "-aq", "--filter", f"name=^{sb_name}$"], capture_output=True,
                                  text=True, timeout=60, check=False).stdout.strip()
            if left:
                with self.f.lock:
                    self.f.leaked_procs.append({"container": sb_name})

    def watchdog(self) -> None:
        """Close an env whose call runs past ``--hang-s`` (recorded as a hang; the soak goes on)."""
        while not self.done.wait(2.0):
            now = time.monotonic()
            for tid, (t, env, category, action) in list(self.in_flight.items()):
                if now - t > self.args.hang_s:
                    with self.f.lock:
                        self.f.slow.append({"call": "HANG (closed by the watchdog)", "seconds": round(now - t, 1),
                                            "category": category, "action": _short(action)})
                    self.in_flight.pop(tid, None)
                    try:
                        env.close()
                    except Exception as exc:  # noqa: BLE001
                        self.f.exception("close (watchdog)", exc, category, action)

    def sampler(self) -> None:
        while not self.done.wait(1.0):
            self.rss.append((self.f.episodes, _rss_mb()))

    def run(self) -> dict[str, Any]:
        runtime_dir()
        before_tmp = _temp_entries()
        before_mounts = _our_mounts()
        start = time.perf_counter()
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.args.concurrency)]
        helpers = [threading.Thread(target=self.watchdog, daemon=True), threading.Thread(target=self.sampler, daemon=True)]
        for t in threads + helpers:
            t.start()
        last = 0
        while any(t.is_alive() for t in threads):
            time.sleep(5)
            if self.f.episodes - last >= max(50, self.args.episodes // 20):
                last = self.f.episodes
                print(f"  {self.f.episodes} episodes, {self.f.steps} steps, {len(self.f.exceptions)} distinct "
                      f"exceptions, rss {_rss_mb():.0f} MB, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        wall = time.perf_counter() - start
        self.done.set()
        left_verify = [p for p in self.verify_dirs if os.path.lexists(p)]
        new_tmp = sorted(_temp_entries() - before_tmp)
        mounts = [m for m in _our_mounts() if m not in before_mounts]
        containers = _docker_containers(os.getpid()) if self.args.backend == "docker" else []
        rss = self.rss or [(0, _rss_mb())]
        warm = [r for r in rss if r[0] >= max(1, self.f.episodes // 20)] or rss
        report = {
            "backend": self.args.backend, "episodes": self.f.episodes, "envs": self.f.envs, "steps": self.f.steps,
            "actions": dict(self.f.actions), "wall_s": round(wall, 1), "episodes_per_s": round(self.f.episodes / wall, 2),
            "exceptions": sorted(self.f.exceptions.values(), key=lambda e: -e["count"]),
            "n_exceptions": sum(e["count"] for e in self.f.exceptions.values()),
            "infra_errors": {k: {"count": v, "example": self.f.infra_examples[k]} for k, v in self.f.infra.most_common()},
            "slow_steps": self.f.slow,
            "leaked_processes": self.f.leaked_procs, "leaked_workspaces": sorted(set(self.f.leaked_paths)),
            "leaked_verifier_dirs": left_verify, "verifier_dirs_made": len(self.verify_dirs),
            "new_temp_entries_other_processes": [p for p in new_tmp if p not in self.tracked_ws and p not in self.verify_dirs],
            "new_mounts": mounts, "leaked_containers": containers,
            "driver_rss_mb": {**_rss_windows([r[1] for r in warm]), "max": round(max(r[1] for r in rss), 1)},
        }
        if self.args.cleanup:
            for p in sorted(set(self.f.leaked_paths) | set(left_verify)):
                subprocess.run(["chmod", "-R", "u+rwx", p], capture_output=True, check=False)
                subprocess.run(["rm", "-rf", "--one-file-system", p], capture_output=True, check=False)
        return report


# ====================================================================== kill -9 test
_CHILD = r"""
import os, sys, json, threading, time
sys.path.insert(0, sys.argv[1])
from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.builtin import BuiltinSource
import clawgym_env.verify.code as code, tempfile
backend = sys.argv[2]
class Rec:
    def __getattr__(self, n): return getattr(tempfile, n)
    def mkdtemp(self, *a, **k):
        p = tempfile.mkdtemp(*a, **k); print(json.dumps({"verify_dir": p}), flush=True); return p
if hasattr(code, "new_private_dir"):
    _make = code.new_private_dir
    def _rec(*a, **k):
        p = _make(*a, **k); print(json.dumps({"verify_dir": str(p)}), flush=True); return p
    code.new_private_dir = _rec
else:
    code.tempfile = Rec()
src = BuiltinSource(); ids = src.ids()
envs = []
for i in range(8):
    env = ClawGymEnv(src.load(ids[i]), backend=backend)
    env.reset()
    sb = env.sandbox
    extra = [str(sb.host_workspace.parent / f".{sb.host_workspace.name}.out")] if backend == "docker" else []
    print(json.dumps({"workspace": str(sb.host_workspace), "extra": extra, "uid": getattr(sb, "uid", None),
                      "container": getattr(sb, "container_name", None)}), flush=True)
    envs.append(env)
for env in envs[1:]:
    env.step({"name": "exec", "arguments": {"command": "sleep 1000 & setsid sleep 1000 >/dev/null 2>&1 < /dev/null & echo ok"}})
def churn(env):  # episodes end over and over: a verifier is often in flight at the kill
    while True:
        env.step({"role": "assistant", "content": "done"})
        env.reset()
        sb = env.sandbox
        print(json.dumps({"workspace": str(sb.host_workspace), "uid": getattr(sb, "uid", None),
                          "container": getattr(sb, "container_name", None)}), flush=True)
threading.Thread(target=churn, args=(envs[0],), daemon=True).start()
print(json.dumps({"ready": os.getpid()}), flush=True)
time.sleep(3600)
"""


def kill_test(backend: str) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(REPO), backend], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    paths: set[str] = set()
    uids: set[int] = set()
    containers: set[str] = set()
    verify: set[str] = set()
    pid = proc.pid
    ready_at: float | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        msg = json.loads(line)
        if "workspace" in msg:
            paths.add(msg["workspace"])
            paths.update(msg.get("extra") or [])
            if msg.get("uid") is not None:
                uids.add(msg["uid"])
            if msg.get("container"):
                containers.add(msg["container"])
        if "verify_dir" in msg:
            verify.add(msg["verify_dir"])
        if "ready" in msg and ready_at is None:
            ready_at = time.monotonic()
        if ready_at is not None and time.monotonic() - ready_at > 2.0:
            break
    # keep reading what it prints in the last moments (verifier folders being made)
    reader_out: list[str] = []
    reader = threading.Thread(target=lambda: reader_out.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    time.sleep(0.3)
    killed_at = _now_ticks()
    os.kill(pid, signal.SIGKILL)
    proc.wait()
    reader.join(timeout=5)
    for line in reader_out:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "verify_dir" in msg:
            verify.add(msg["verify_dir"])
        if "workspace" in msg:
            paths.add(msg["workspace"])
    time.sleep(1.0)

    def leftovers() -> dict[str, Any]:
        procs = []
        for uid in sorted(uids):
            for p in _pids_of_uid(uid):
                start = _proc_start_ticks(p)
                if start is not None and start <= killed_at:
                    procs.append({"uid": uid, "pid": p, "cmd": _cmdline(p)})
        out: dict[str, Any] = {
            "processes": procs, "workspaces": sorted(p for p in paths if os.path.lexists(p)),
            "verifier_dirs": sorted(p for p in verify if os.path.lexists(p)),
            "driver_folders": sorted(str(p) for p in Path(tempfile.gettempdir()).glob(f"clawgym-run-{pid}-*")),
        }
        if backend == "docker":
            out["containers"] = _docker_containers(pid)
        return out

    before_gc = leftovers()
    gc = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "sandbox", "gc"], capture_output=True, text=True,
                        timeout=300, check=False, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO)
    after_gc = leftovers()
    report = {
        "backend": backend, "driver_pid": pid, "envs": 8, "tracked_workspaces": len(paths), "tracked_uids": len(uids),
        "tracked_verifier_dirs": len(verify), "tracked_containers": len(containers),
        "left_before_gc": before_gc, "gc_exit": gc.returncode, "gc_output": (gc.stdout + gc.stderr).strip()[-1500:],
        "left_after_gc": after_gc,
    }
    # leave the machine clean whatever gc did (after reporting)
    for item in after_gc["processes"]:
        with _suppress():
            os.kill(item["pid"], signal.SIGKILL)
    for p in after_gc["workspaces"] + after_gc["verifier_dirs"] + after_gc["driver_folders"]:
        subprocess.run(["chmod", "-R", "u+rwx", p], capture_output=True, check=False)
        shutil.rmtree(p, ignore_errors=True)
    for name in after_gc.get("containers", []):
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    return report


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


# ====================================================================== output
def print_report(r: dict[str, Any]) -> None:
    print(f"\n== soak: {r['backend']}, {r['episodes']} episodes in {r['envs']} envs, {r['steps']} steps, "
          f"{r['wall_s']} s, {r['episodes_per_s']} episodes/s")
    acts = r["actions"]
    print(f"actions: {acts.get('fuzzed', 0)} fuzzed, {acts.get('valid', 0)} valid; per category: "
          + ", ".join(f"{k} {v}" for k, v in sorted(acts.items()) if k not in ("fuzzed", "valid")))
    print(f"\nexceptions out of reset/step/close: {r['n_exceptions']} ({len(r['exceptions'])} distinct)")
    for e in r["exceptions"]:
        print(f"\n  [{e['count']}x] {e['call']}: {e['type']} at {e['where']} (first after: {e['category']})")
        print(f"    message: {e['message']}")
        print(f"    action:  {e['action']}")
        print("    " + e["traceback"].strip().replace("\n", "\n    ")[-1500:])
    print(f"\ninfra errors caused by actions: {sum(v['count'] for v in r['infra_errors'].values())}")
    for v in r["infra_errors"].values():
        print(f"  [{v['count']}x] {v['example']}")
    print(f"\nslow steps (> slow-s) / hangs: {len(r['slow_steps'])}")
    for s in r["slow_steps"][:30]:
        print(f"  {s}")
    for key in ("leaked_processes", "leaked_workspaces", "leaked_verifier_dirs", "new_temp_entries_other_processes",
                "new_mounts", "leaked_containers"):
        items = r[key]
        print(f"\n{key}: {len(items)}")
        for it in items[:20]:
            print(f"  {it}")
    print(f"\ndriver RSS MB: {r['driver_rss_mb']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=10_000)
    ap.add_argument("--backend", default="bwrap", choices=["bwrap", "docker"])
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--fuzz-ratio", type=float, default=0.7, help="share of actions that are fuzzed")
    ap.add_argument("--skip", nargs="*", default=[], choices=sorted(FUZZERS), help="fuzz categories to leave out")
    ap.add_argument("--train-tasks", type=int, default=5, help="shared train tasks mixed in (10 %% of envs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slow-s", type=float, default=30.0, help="report steps slower than this")
    ap.add_argument("--hang-s", type=float, default=150.0, help="close an env whose call runs longer (a hang)")
    ap.add_argument("--no-cleanup", dest="cleanup", action="store_false", help="leave leaked folders in place")
    ap.add_argument("--kill-test", action="store_true", help="only the kill -9 + gc test")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.kill_test:
        report = kill_test(args.backend)
        print(json.dumps(report, indent=1))
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))
        left = report["left_after_gc"]
        return 0 if not any(left.values()) else 1
    report = Soak(args).run()
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    bad = (report["n_exceptions"] or report["leaked_processes"] or report["leaked_workspaces"]
           or report["leaked_verifier_dirs"] or report["new_mounts"] or report["leaked_containers"])
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
