"""Issue 11, defects 5 and 6 (and the minor read/PATH items): nothing malformed that an agent sends
or leaves behind makes ``step``/``reset``/``close`` raise, hang, drop the sample or leak the
workspace. Real bwrap sandboxes and a real docker engine, real train tasks, real files.
"""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.env import ClawGymEnv
from _backends import BACKENDS

from clawgym_env.sandbox import ServerSandbox, make_sandbox
from clawgym_env.sandbox.fstree import make_workspace_scorable, remove_tree
from clawgym_env.tasks import load_task
from clawgym_env.tools import fs
from clawgym_env.tools.context import ToolContext, ToolError


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def env(backend: str, train_dir: Path) -> Iterator[ClawGymEnv]:
    e = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=400, backend=backend)
    e.reset()
    yield e
    e.close()


def _exec(cmd: str) -> dict[str, Any]:
    return {"name": "exec", "arguments": {"command": cmd}}


def _assert_clean_step(env: ClawGymEnv, action: Any) -> str:
    obs, reward, term, trunc, info = env.step(action)
    assert info["infra_error"] is None, info["infra_error"]
    obs.encode("utf-8")  # well-formed: a tokenizer can take it
    return obs


# ----------------------------------------------------------------------------- remove_tree (host side)
def _deep_chain(root: Path, depth: int, name: str = "d" * 200) -> None:
    """A chain of ``depth`` folders (paths far past PATH_MAX), built with dir fds."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.mkfifo("fifo", dir_fd=fd)
    os.close(os.open("locked", os.O_CREAT | os.O_WRONLY, 0o000, dir_fd=fd))
    os.close(fd)


def _hostile_tree(root: Path) -> None:
    _deep_chain(root, 3000)
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "f").write_text("x")
    os.mkfifo(root / "a" / "fifo")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(root / "a" / "sock"))
    os.symlink("/etc", root / "a" / "etc")
    os.chmod(root / "a" / "b" / "c", 0)
    os.chmod(root / "a" / "b", 0)
    os.chmod(root / "a", 0o500)


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Our own temp folder, removed with remove_tree: pytest's cleanup (shutil.rmtree) would hit
    RecursionError on a deep chain a failing test left behind."""
    path = Path(tempfile.mkdtemp(prefix="clawgym-test-"))
    yield path
    remove_tree(path)


def test_remove_tree_removes_any_depth_modes_and_special_files(tmp_path: Path) -> None:
    """3,000-deep chains (RecursionError in shutil.rmtree on 3.11), chmod 000 folders, FIFOs and
    sockets all go; a link is removed, never followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    ws = tmp_path / "ws"
    ws.mkdir()
    _hostile_tree(ws)
    os.symlink(outside, ws / "link")
    os.chmod(ws, 0)
    remove_tree(ws, keep_root=True)
    assert os.listdir(ws) == []
    remove_tree(ws)
    assert not ws.exists()
    assert (outside / "keep").read_text() == "keep"
    link = tmp_path / "link"
    os.symlink(outside, link)
    remove_tree(link)  # a link given as the root is removed itself
    assert not link.is_symlink() and (outside / "keep").exists()
    remove_tree(tmp_path / "missing")  # not an error


def test_remove_tree_as_an_unprivileged_owner(tmp_path: Path) -> None:
    """Without root's DAC override (a non-root driver), modes the agent took away are given back
    on the way down: the owner can still remove everything."""
    if os.geteuid() != 0:
        pytest.skip("needs root to hand the tree to another uid (runs as root in CI)")
    base = Path(tempfile.mkdtemp(prefix="clawgym-test-rt-"))  # tmp_path's parents are root-only
    os.chmod(base, 0o755)
    ws = base / "ws"
    ws.mkdir()
    _hostile_tree(ws)
    os.chmod(ws, 0)
    subprocess.run(["chown", "-R", "-h", "65534:65534", str(base)], check=True)
    pid = os.fork()
    if pid == 0:  # the child drops to the tree's owner and removes it
        code = 1
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            remove_tree(ws)
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(2, repr(exc).encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    try:
        assert os.waitstatus_to_exitcode(status) == 0
        assert not ws.exists()
    finally:
        remove_tree(base)


def test_make_workspace_scorable_restores_access_but_not_exec_bits(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "sub" / "run.sh").write_text("echo")
    (ws / "data.txt").write_text("d")
    os.chmod(ws / "sub" / "run.sh", 0o100)
    os.chmod(ws / "data.txt", 0o044)
    os.chmod(ws / "sub", 0)
    os.chmod(ws, 0)
    make_workspace_scorable(ws)
    assert stat.S_IMODE(os.stat(ws).st_mode) & 0o700 == 0o700
    assert stat.S_IMODE(os.stat(ws / "sub").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ws / "sub" / "run.sh").st_mode) == 0o700  # x kept, rw added
    assert stat.S_IMODE(os.stat(ws / "data.txt").st_mode) == 0o644  # no x added, group/other kept


# ----------------------------------------------------------------------------- defect 6: no infra error at will
def test_chmod_000_workspace_is_scored_and_does_not_poison_the_env(env: ClawGymEnv) -> None:
    """Before: the verifier (bwrap) could not enter the workspace, an infra error, and so was every
    later episode of the env. Now the episode is scored and the next one works."""
    _assert_clean_step(env, _exec("mkdir -p sub/inner && echo x > sub/inner/f && chmod 000 sub/inner sub && "
                                  "chmod 000 . ; echo done"))
    _, reward, term, _, info = env.step("finished")
    assert term and info["infra_error"] is None, info["infra_error"]
    assert info["verifier"]["exit_code"] is not None
    noop = ClawGymEnv(env.task, backend=env.backend)
    try:
        noop.reset()
        _, noop_reward, _, _, noop_info = noop.step("finished")
    finally:
        noop.close()
    assert reward == noop_reward and noop_info["infra_error"] is None
    for _ in range(2):  # the env is not poisoned
        env.reset()
        assert "input" in _assert_clean_step(env, _exec("ls"))
        _, _, _, _, info = env.step("finished")
        assert info["infra_error"] is None, info["infra_error"]


def test_fifo_never_blocks_the_tools_or_the_episode(env: ClawGymEnv) -> None:
    """Before: ``write`` to a FIFO the agent made hung the server ~90 s, then an infra error."""
    _assert_clean_step(env, _exec("mkfifo pipe"))
    start = time.monotonic()
    obs = _assert_clean_step(env, {"name": "write", "arguments": {"path": "pipe", "content": "x"}})
    assert "ENXIO: no such device or address, open '/root/.openclaw/workspace/pipe'" in obs
    _assert_clean_step(env, {"name": "read", "arguments": {"path": "pipe"}})
    obs = _assert_clean_step(env, {"name": "edit", "arguments": {"path": "pipe", "oldText": "a", "newText": "b"}})
    assert "Could not find the exact text" in obs
    _assert_clean_step(env, _exec("sleep 60 < pipe & sleep 0.3; echo started"))  # a reader that never reads
    obs = _assert_clean_step(env, {"name": "write", "arguments": {"path": "pipe", "content": "y" * 300_000}})
    assert "EAGAIN" in obs
    assert time.monotonic() - start < 30
    _, _, term, _, info = env.step("finished")
    assert term and info["infra_error"] is None


def test_server_protocol_pipes_cannot_be_opened_through_proc_self(env: ClawGymEnv) -> None:
    """File tools run in the server, so /proc/self/fd/N are its pipes to the host: refused. (A guard:
    under bwrap the kernel already refuses to reopen those host-made pipes; the server's own check
    holds on every backend, and stderr, which the host reads, is one of them.)"""
    refused = 0
    for n in range(0, 8):
        obs = _assert_clean_step(env, {"name": "write", "arguments": {"path": f"/proc/self/fd/{n}",
                                                                       "content": '{"id": 7, "ok": true}\n'}})
        refused += "EACCES: permission denied" in obs
    assert refused == 3  # stdin, stdout, stderr of the server (0 and 1 are /dev/null by then)
    assert "input" in _assert_clean_step(env, _exec("ls"))


def test_host_path_not_in_the_servers_environ(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``read /proc/self/environ`` shows the server's environment: it held the host's PATH."""
    marker = "/clawgym-host-path-marker/bin"
    monkeypatch.setenv("PATH", f"{marker}:{os.environ['PATH']}")
    sb = make_sandbox(backend)
    try:
        sb.start()
        text = fs.read_tool(ToolContext(sandbox=sb, workspace=sb.workspace), {"path": "/proc/self/environ"})
        assert "PATH" in text and marker not in text, text
    finally:
        sb.close()


# ----------------------------------------------------------------------------- defect 5: no exception escapes
def _deep(n: int) -> Any:
    d: Any = "x"
    for _ in range(n):
        d = {"a": d}
    return d


def test_lone_surrogates_and_deep_nesting_give_error_texts(env: ClawGymEnv) -> None:
    """Before: RecursionError out of ``step`` (validation, parsing), and lone surrogates in
    observations and the transcript (UnicodeEncodeError when written)."""
    deep_text = '<tool_call>{"name":"exec","arguments":{"x":' + "[" * 5000 + "]" * 5000 + "}}</tool_call>"
    for action in (
        {"name": "exec", "arguments": {"command": "ls", "x": _deep(500)}},
        {"name": "exec", "arguments": json.dumps({"command": "ls", "x": _deep(500)})},
        deep_text,
        {"role": "assistant", "content": [_deep(3000)], "tool_calls": [_exec("true")]},
    ):
        obs = _assert_clean_step(env, action)
        assert obs == "(no output)" or "Validation failed" in obs, obs[:300]
    for action in (
        {"name": "write", "arguments": {"path": "s\ud800.txt", "content": "x\udc00"}},
        {"name": "ex\ud800ec", "arguments": {}},
        _exec("echo \ud800"),
        {"name": "exec", "arguments": {"command": "true", "env": {"A\ud800": "\udc00"}}},
    ):
        _assert_clean_step(env, action)
    assert "s\ufffd.txt" in _assert_clean_step(env, _exec("ls"))
    _, _, term, _, info = env.step("done \ud800")
    assert term and info["infra_error"] is None, info["infra_error"]
    json.dumps(info["messages"], ensure_ascii=False).encode("utf-8")
    env.render_mode = "ansi"
    assert "\ufffd" in (env.render() or "")


def test_deep_directory_chain_reset_and_close(backend: str, train_dir: Path) -> None:
    """Before: ``reset`` and ``close`` raised RecursionError and the workspace leaked."""
    env = ClawGymEnv(load_task(train_dir / "task_0009"), backend=backend)
    env.reset()
    make = ("python3 -c \"import os\nfor i in range(3000):\n    os.mkdir('d'*100); os.chdir('d'*100)\n"
            "os.mkfifo('p'); open('f','w').close(); os.chmod('f', 0)\" && chmod -R 000 d* ; echo ok")
    assert "ok" in _assert_clean_step(env, _exec(make))
    env.reset()
    assert "input" in _assert_clean_step(env, _exec("ls"))
    _assert_clean_step(env, _exec(make))
    sandbox = env.sandbox
    assert sandbox is not None
    ws = sandbox.host_workspace
    env.close()
    assert not ws.exists()


# ----------------------------------------------------------------------------- read tool: bounded host memory
class _WholeFileSandbox:
    """The sandbox without ``read_lines``: the read tool falls back to one whole-file read."""

    def __init__(self, inner: ServerSandbox):
        self._inner = inner

    def stat(self, path: str) -> dict[str, Any]:
        return self._inner.stat(path)

    def read_file(self, path: str, max_bytes: int | None = None) -> bytes:
        return self._inner.read_file(path, max_bytes)


def _random_text_file(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.choice([0, 1, 3, 1999, 2000, 2001, 4500, 17000])):
        n = rng.choice([0, 5, 80, 30_000, 51_200, 51_201, 70_000]) if rng.random() < 0.02 else rng.randint(0, 40)
        piece = rng.choice([b"a", "\u00e9".encode(), "\u65e5".encode(), b"\r", b"\xff", b"\xe2\x82"]) * n
        lines.append(piece[: n * 2])
    return b"\n".join(lines) + rng.choice([b"", b"\n", b"\xe2"])


@pytest.mark.parametrize("sandbox_backend", BACKENDS)
def test_windowed_read_gives_the_same_text_as_a_whole_file_read(sandbox: ServerSandbox) -> None:
    """The read tool now asks the server for the lines it shows; the text must be the one the
    whole-file read gives (OpenClaw's texts), for every offset/limit form."""
    rng = random.Random(11)
    values = [None, 0, 1, 2, -3, 1.5, 1999, 2001, 5000, 16001, 1e308, -1e308, 0.3]
    windowed = ToolContext(sandbox=sandbox, workspace=sandbox.workspace)
    for _ in range(25):
        sandbox.write_file(f"{sandbox.workspace}/f.txt", _random_text_file(rng))
        for _ in range(4):
            args = {"path": "f.txt", **{k: v for k in ("offset", "limit") if (v := rng.choice(values)) is not None}}
            tokens = rng.choice([0, 2000, 65536, 1_000_000])
            results = []
            for ctx in (windowed, ToolContext(sandbox=_WholeFileSandbox(sandbox), workspace=sandbox.workspace)):  # type: ignore[arg-type]
                ctx.context_window_tokens = tokens
                try:
                    results.append(fs.read_tool(ctx, dict(args)))
                except ToolError as exc:
                    results.append("error: " + exc.message)
            assert results[0] == results[1], (args, tokens)


@pytest.mark.parametrize("sandbox_backend", BACKENDS)
def test_read_of_a_63_mb_file_keeps_host_memory_small(sandbox: ServerSandbox) -> None:
    """Before: +354 MB of driver RSS to return 51 KB (the whole file crossed the pipe as base64)."""
    res = sandbox.exec("python3 -c \"import sys; sys.stdout.write(('x' * 80 + '\\n') * (63 * 1024 * 1024 // 81))\""
                       " > big.txt", timeout_s=120)
    assert res.exit_code == 0
    ctx = ToolContext(sandbox=sandbox, workspace=sandbox.workspace)
    tracemalloc.start()
    try:
        text = fs.read_tool(ctx, {"path": "big.txt"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert text.endswith("Use offset=633 to continue.]") and len(text.encode()) < 60_000
    assert peak < 8 << 20, peak
    text = fs.read_tool(ctx, {"path": "big.txt", "offset": 800_000, "limit": 2})
    assert text.startswith("x" * 80 + "\n" + "x" * 80) and "more lines in file" in text


# ----------------------------------------------------------------------------- fuzz
_TOOLS = ["exec", "read", "write", "edit", "process", "bash", "EXEC", "functions.read", "nope", "", "\ud800"]
_KEYS = ["command", "path", "content", "oldText", "newText", "edits", "offset", "limit", "action", "sessionId",
         "timeout", "yieldMs", "background", "workdir", "env", "data", "file_path", "x"]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(14)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**63, -(2**70), 10**400 if rng.random() < 0.1 else 7])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e308, float("inf"), float("nan"), 1e-320])
    if kind == 4:
        return "".join(rng.choice(["a", "\x00", "\ud800", "\udfff", "/", "..", "\n", "~", "\u202f", "'", '"'])
                       for _ in range(rng.randint(0, 30)))
    if kind == 5:
        return rng.choice(["x" * 2_000_000, "/dev/zero", "/proc/self/environ", "/proc/self/fd/1", "pipe",
                           "../../../../etc/passwd", "~/../../x", "input", "\x00", "/root/.openclaw/workspace"])
    if kind == 6:
        return _deep(rng.choice([10, 70, 600]))
    if kind == 7 and depth < 3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 8 and depth < 3:
        return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if kind == 9:
        return rng.choice(["echo hi", "mkfifo pipe 2>/dev/null; echo", "chmod 000 . ; echo", "chmod 755 .",
                           "yes | head -c 3000000", "sleep 0.2 &", "ls -la", "cat /proc/self/environ"])
    return rng.choice(["", "ok", "NaN", "{}", "[]", "null", "1_0"])


def _random_action(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    args = {rng.choice(_KEYS): _random_value(rng) for _ in range(rng.randint(0, 5))}
    name = rng.choice(_TOOLS)
    if kind == 0:  # raw JSON text of random arguments, possibly cut off
        text = json.dumps(args)
        return {"name": name, "arguments": text[: rng.randint(0, len(text))] if rng.random() < 0.3 else text}
    if kind == 1:
        return "<tool_call>" + json.dumps({"name": name, "arguments": args})[: rng.randint(0, 400)]
    if kind == 2:
        return {"role": "assistant", "content": _random_value(rng), "tool_calls": _random_value(rng)}
    if kind == 3:
        return {"role": "assistant", "content": "", "tool_calls": [
            {"id": _random_value(rng), "function": {"name": _random_value(rng) if rng.random() < 0.2 else name,
                                                    "arguments": args}} for _ in range(rng.randint(1, 3))]}
    if kind == 4:
        return f"<function={name}><parameter=command>{_random_value(rng)}</parameter>" \
               f"<parameter=x>{'[' * 3000}</parameter></function>"
    if kind == 5:
        return [{"name": name, "parameters": args}]
    return {"name": name, "arguments": args}


def test_fuzzed_actions_never_raise_and_the_env_keeps_working(train_dir: Path) -> None:
    """400 random/malformed actions (random JSON, wrong types, 2 MB strings, lone surrogates,
    600-deep nesting, unknown tools, NUL bytes, absurd offsets) through a real bwrap env: no
    exception out of step/reset/close, no infra error, and the env works afterwards."""
    rng = random.Random(20261106)
    env = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=60, exec_timeout_s=10)
    ws = None
    try:
        env.reset()
        episodes = 0
        for i in range(400):
            _, _, term, trunc, info = env.step(_random_action(rng))
            assert info["infra_error"] is None, (i, info["infra_error"])
            json.dumps(info["messages"], ensure_ascii=False).encode("utf-8")
            if term or trunc:
                episodes += 1
                env.reset()
        env.reset()
        obs, _, _, _, info = env.step(_exec("echo still-works"))
        assert obs.strip() == "still-works" and info["infra_error"] is None
        assert episodes >= 5
        assert env.sandbox is not None
        ws = env.sandbox.host_workspace
    finally:
        env.close()
    assert ws is not None and not ws.exists()
