"""The sandbox owns its workspace (issue 12): ``restore``, ``install_verifier``, ``run_verifier``,
``read_outputs``, ``workspace_usage``, ``snapshot`` on every backend that runs here; bwrap's verifier
sandbox started ahead of time; and a backend with no host folder (a test double) that runs a whole
episode through the env and the verifier without either knowing."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from _backends import BACKENDS

from clawgym_env.sandbox import SandboxConfig, make_sandbox
from clawgym_env.sandbox.base import (
    WORKSPACE,
    ExecResult,
    IsolatedResult,
    Sandbox,
    SandboxLimits,
    SandboxStartError,
    VerifierPaths,
)
from clawgym_env.sandbox.hostws import text_files
from clawgym_env.sandbox.quota import workspace_usage
from clawgym_env.tasks import Task
from clawgym_env.tasks.files import TaskFile

ALL = [*BACKENDS, pytest.param("local", id="local")]
BIN = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(params=ALL)
def box(request: pytest.FixtureRequest) -> Any:
    with pytest.warns(UserWarning) if request.param == "local" else _nothing():
        sb = make_sandbox(request.param)
    sb.start()
    yield sb
    sb.close()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _sh(sb: Any, command: str) -> str:
    res = sb.exec(command, timeout_s=30)
    assert res.exit_code == 0, res.output
    return res.output


def test_backends_implement_the_protocol(box: Any) -> None:
    assert isinstance(box, Sandbox)
    assert isinstance(box.verifier_paths, VerifierPaths)


def test_restore_writes_files_modes_and_big_inputs_and_clears_the_rest(box: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(3 << 20)  # sparse: streamed, holes kept
        fh.write(b"head")
    _sh(box, "echo old > stale.txt && mkdir -p olddir && echo x > olddir/y")
    box.stop()
    box.restore([("a.txt", b"alpha\n", 0o644), ("sub/dir/run.sh", b"#!/bin/sh\necho ran\n", 0o755),
                 ("data/big.bin", TaskFile.of(big), 0o644)])
    box.start()
    out = _sh(box, "ls -A; cat a.txt; ./sub/dir/run.sh; stat -c '%a %u' sub/dir/run.sh a.txt; wc -c < data/big.bin")
    assert out.split() == ["a.txt", "data", "sub", "alpha", "ran", "755", "0", "644", "0", str(3 << 20)]


def test_install_verifier_replaces_what_the_agent_planted(box: Any, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    _sh(box, "mkdir -p reward/deep && echo evil > reward/check.py && echo x > reward/deep/f")
    box.stop()
    box.install_verifier({"reward.sh": f"echo {WORKSPACE}\n".encode(), "lib/util.py": b"X = 1\n"},
                         {"reward.sh": 0o755})
    box.start()
    out = _sh(box, "cd reward && find . | sort && stat -c %a reward.sh lib/util.py && cat reward.sh")
    lines = out.split()
    assert lines[:4] == [".", "./lib", "./lib/util.py", "./reward.sh"] and lines[4:6] == ["755", "644"]
    assert lines[6:] == ["echo", box.workspace]  # the local backend's copy names its own workspace path
    assert (outside / "keep.txt").read_text() == "keep"


def test_install_verifier_does_not_follow_a_planted_link(box: Any, tmp_path: Path) -> None:
    _sh(box, "ln -s /etc reward")
    box.stop()
    box.install_verifier({"reward.sh": b"echo 1\n"}, {})
    assert box.run_verifier(["bash", f"{box.workspace}/reward/reward.sh"], env={"PATH": BIN},
                            timeout_s=30).stdout == "1\n"
    assert os.path.isdir("/etc") and os.path.exists("/etc/passwd")


def test_run_verifier_inputs_outputs_and_links(box: Any) -> None:
    box.stop()
    out = box.verifier_paths.out
    script = ('cat "$OUT/in.txt" > "$OUT/res"; ln -s /etc/passwd "$OUT/link"; mkdir "$OUT/dir"; '
              'head -c 2000 /dev/zero > "$OUT/big"; echo ok; echo err >&2; exit 3')
    res = box.run_verifier(["/bin/sh", "-c", script], env={"PATH": BIN, "OUT": out}, timeout_s=30,
                           inputs={"in.txt": b"hello"}, outputs=("res", "link", "dir", "big", "missing"),
                           max_output_bytes=1000)
    assert isinstance(res, IsolatedResult)
    assert (res.exit_code, res.stdout, res.stderr, res.timed_out) == (3, "ok\n", "err\n", False)
    assert res.outputs == {"res": b"hello"}  # no link followed, no folder, nothing past the cap


def test_run_verifier_environment_is_exactly_env(box: Any) -> None:
    box.stop()
    res = box.run_verifier(["/bin/sh", "-c", "env | cut -d= -f1 | sort | tr '\\n' ' '; echo; pwd"],
                           env={"PATH": BIN, "ONLY": "1"}, timeout_s=30)
    names, cwd = res.stdout.splitlines()
    assert "ONLY" in names.split() and cwd == "/"
    if box.backend != "local":  # the unsafe local backend starts from the server's environment
        assert set(names.split()) <= {"PATH", "ONLY", "PWD", "SHLVL", "_", "OLDPWD"}


def test_read_outputs_usage_and_snapshot(box: Any, tmp_path: Path) -> None:
    _sh(box, "mkdir -p out reward .hid && echo note > out/n.txt && echo r > reward/x && echo h > .hid/y "
             "&& ln -s /etc/passwd out/link && printf 'a\\0b' > out/bin && cp /bin/true s && chmod 4755 s")
    box.stop()
    files = box.read_outputs(first=["s"])
    assert ("out/n.txt", "note\n") in files
    assert not any(rel.startswith(("reward/", ".hid")) or rel in ("out/link", "out/bin") for rel, _ in files)
    usage = box.workspace_usage()
    assert usage.complete and usage.entries >= 8 and usage.bytes > 0
    assert box.workspace_usage(max_entries=2).complete is False
    dest = tmp_path / "snap"
    box.snapshot(dest)
    assert (dest / "out" / "n.txt").read_text() == "note\n" and (dest / "out" / "link").is_symlink()
    assert not (dest / "s").stat().st_mode & (stat.S_ISUID | stat.S_ISGID)


def test_restore_tree_copies_a_host_folder(box: Any, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f.txt").write_text("from host\n")
    (src / "l").symlink_to("d/f.txt")
    box.stop()
    box.restore_tree(src)
    box.start()
    assert _sh(box, "cat l; stat -c %u d/f.txt").split() == ["from", "host", "0" if box.backend == "bwrap" else
                                                              _sh(box, "id -u").strip()]


# ------------------------------------------------------------------------ bwrap: the ready verifier
@pytest.fixture
def bw() -> Any:
    sb = make_sandbox("bwrap")
    sb.start()
    yield sb
    sb.close()


def _spec_run(sb: Any, script: str) -> IsolatedResult:
    return sb.run_verifier(["/bin/sh", "-c", script], env={"PATH": BIN}, timeout_s=30)


def test_ready_verifier_waits_for_the_go(bw: Any) -> None:
    """Started ahead of time, its command has not run until ``run_verifier`` hands it the go line."""
    script = f"date +%s%N > {WORKSPACE}/ran; echo 1"
    assert _spec_run(bw, script).stdout == "1\n"  # the first run: no ready sandbox yet
    (bw.host_workspace / "ran").unlink()
    bw.prestart()
    ready = bw._verifier
    assert ready is not None and ready.proc.poll() is None
    time.sleep(0.5)
    assert not (bw.host_workspace / "ran").exists()
    before = time.time_ns()
    res = _spec_run(bw, script)
    assert res.stdout == "1\n" and res.exit_code == 0
    assert int((bw.host_workspace / "ran").read_text()) >= before
    assert bw._verifier is None and ready.proc.poll() is not None  # used once, then gone


def test_agent_processes_are_gone_but_the_ready_verifier_is_spared(bw: Any) -> None:
    _spec_run(bw, "true")
    bw.prestart()
    bw.exec("setsid sh -c 'while true; do echo x >> loop.txt; sleep 0.01; done' >/dev/null 2>&1 &", timeout_s=5)
    time.sleep(0.2)
    bw.stop()  # the agent's sandbox: every process of the uid but the ready verifier's is killed
    assert bw._verifier is not None and bw._verifier.proc.poll() is None
    res = _spec_run(bw, f"rm -f {WORKSPACE}/loop.txt; sleep 0.3; test -e {WORKSPACE}/loop.txt && echo 0 || echo 1")
    assert res.stdout == "1\n"


def test_ready_verifier_has_a_fresh_tmp(bw: Any) -> None:
    script = "ls -A /tmp | wc -l"
    _spec_run(bw, script)
    bw.prestart()
    _sh(bw, "echo planted > /tmp/x && ls /tmp")
    assert _spec_run(bw, script).stdout == "0\n"


def test_ready_verifier_killed_before_the_go_is_replaced(bw: Any) -> None:
    """The host killed the uid's processes while the verifier waited: nothing of the command had
    run, so a fresh sandbox runs it (no infra error)."""
    _spec_run(bw, "echo 1")
    bw.prestart()
    ready = bw._verifier
    for pid in ready.tree():
        os.kill(pid, 9)
    ready.proc.wait(5)
    bw.stop()
    assert _spec_run(bw, "echo 1").stdout == "1\n"


def test_ready_verifier_for_another_command_is_not_used(bw: Any) -> None:
    _spec_run(bw, "echo first")
    bw.prestart()
    assert _spec_run(bw, "echo second").stdout == "second\n"


def test_close_kills_the_ready_verifier(bw: Any) -> None:
    _spec_run(bw, "true")
    bw.prestart()
    pids = bw._verifier.tree()
    cgroup = bw._verifier.cgroup
    bw.close()
    assert all(_gone(pid) for pid in pids)
    if cgroup is not None:
        assert not any(d.exists() for d in cgroup._unique_dirs())


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return True


@pytest.mark.parametrize("ready", [False, True])
def test_broken_root_raises_a_typed_start_error(ready: bool) -> None:
    base = Path(tempfile.mkdtemp(prefix="clawgym-test-root-"))
    base.chmod(0o755)
    root = base / "root"
    (root / "usr" / "bin").mkdir(parents=True)  # no sh, no bash, no python
    sb = make_sandbox("bwrap", SandboxConfig(root=root))
    try:
        if ready:
            sb._verifier_spec = (("true",), (("PATH", BIN),), "/")
            sb.prestart()
        with pytest.raises(SandboxStartError) as err:
            sb.run_verifier(["true"], env={"PATH": BIN}, timeout_s=20)
        assert err.value.kind == "verifier" and err.value.where == "bwrap"
    finally:
        sb.close()
        shutil.rmtree(base)


# ------------------------------------------------------------------ a backend with no host folder
class RemoteDiskSandboxDouble:
    """Test double of a backend whose workspace is not a host folder the env can see (a remote
    machine, a Ray node): it implements only the protocol. Its "remote disk" is a private folder the
    double alone touches; it has no ``host_workspace``, ``uid`` or ``sees_host_paths``."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig(limits=SandboxLimits())
        self._disk = Path(tempfile.mkdtemp(prefix="clawgym-remote-"))
        self.workspace = str(self._disk / "ws")
        os.mkdir(self.workspace)
        self._out = self._disk / "out"
        self._running = False
        self.calls: list[str] = []

    # lifecycle
    def start(self) -> None:
        self._running = True

    def launch(self) -> None:
        self._running = True

    def prestart(self) -> None:
        self.calls.append("prestart")
        self._running = True

    def stop(self) -> None:
        self.calls.append("stop")
        self._running = False

    def close(self) -> None:
        self._running = False
        shutil.rmtree(self._disk, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self._running

    # the workspace
    def restore(self, files: Any) -> None:
        self.calls.append("restore")
        shutil.rmtree(self.workspace)
        os.mkdir(self.workspace)
        for rel, data, mode in files:
            path = Path(self.workspace) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else Path(data.path).read_bytes())
            path.chmod(mode)

    def restore_tree(self, src: Path) -> None:
        shutil.rmtree(self.workspace)
        shutil.copytree(src, self.workspace, symlinks=True)

    def install_verifier(self, files: Any, modes: Any) -> None:
        self.calls.append("install_verifier")
        reward = Path(self.workspace) / "reward"
        if reward.is_symlink() or reward.is_file():
            reward.unlink()
        shutil.rmtree(reward, ignore_errors=True)
        for rel, data in files.items():
            (reward / rel).parent.mkdir(parents=True, exist_ok=True)
            (reward / rel).write_bytes(data.replace(WORKSPACE.encode(), self.workspace.encode()))
            (reward / rel).chmod(modes.get(rel, 0o644))

    @property
    def verifier_paths(self) -> VerifierPaths:
        return VerifierPaths(out=str(self._out), bin="/nonexistent", guard="/nonexistent")

    def run_verifier(self, argv: list[str], *, env: dict[str, str], timeout_s: float, cwd: str = "/",
                     inputs: Any = None, outputs: Any = (), max_output_bytes: int = 1 << 20) -> IsolatedResult:
        self.calls.append("run_verifier")
        assert not self._running, "the verifier ran alongside the agent"
        shutil.rmtree(self._out, ignore_errors=True)
        self._out.mkdir()
        for name, data in (inputs or {}).items():
            (self._out / name).write_bytes(data)
        start = time.monotonic()
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=timeout_s, check=False)
        res = IsolatedResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), False,
                             time.monotonic() - start)
        for name in outputs:
            path = self._out / name
            if path.is_file() and not path.is_symlink():
                res.outputs[name] = path.read_bytes()[:max_output_bytes]
        return res

    def make_scorable(self) -> None:
        pass

    def workspace_usage(self, *, max_bytes: int | None = None, max_entries: int | None = None) -> Any:
        return workspace_usage(Path(self.workspace), max_bytes=max_bytes, max_entries=max_entries)

    def read_outputs(self, *, first: Any = (), rules: Any = None) -> list[tuple[str, str]]:
        return text_files(Path(self.workspace), first=first, rules=rules)

    def snapshot(self, dest: Path) -> None:
        shutil.copytree(self.workspace, dest, symlinks=True, dirs_exist_ok=True)

    # commands (only what an exec tool call needs)
    def exec(self, command: str, *, workdir: str | None = None, env: dict[str, str] | None = None,
             timeout_s: float | None = None, yield_ms: int | None = None, background: bool = False,
             pty: bool = False) -> ExecResult:
        assert self._running
        proc = subprocess.run(["/bin/sh", "-c", command], cwd=workdir or self.workspace, capture_output=True,
                              env={"PATH": BIN, **(env or {})}, timeout=timeout_s, check=False)
        return ExecResult(output=(proc.stdout + proc.stderr).decode(), exit_code=proc.returncode)

    def read_file(self, path: str, max_bytes: int | None = None) -> bytes:
        return Path(path).read_bytes()[:max_bytes]

    def write_file(self, path: str, data: bytes, *, mkdirs: bool = True) -> None:
        Path(path).write_bytes(data)

    def stat(self, path: str) -> dict[str, Any]:
        st = os.stat(path)
        return {"size": st.st_size, "is_dir": stat.S_ISDIR(st.st_mode), "is_file": stat.S_ISREG(st.st_mode),
                "mode": st.st_mode, "mtime": st.st_mtime}

    def list_processes(self) -> list[Any]:
        return []

    def poll_process(self, session_id: str, timeout_ms: int = 0) -> Any:
        raise KeyError(session_id)

    def process_log(self, session_id: str) -> Any:
        raise KeyError(session_id)

    def write_process(self, session_id: str, data: bytes, eof: bool = False) -> Any:
        raise KeyError(session_id)

    def kill_process(self, session_id: str) -> Any:
        raise KeyError(session_id)

    def remove_process(self, session_id: str) -> None:
        raise KeyError(session_id)


_REMOTE_REWARD = """\
python3 - <<'PY'
import json, os
ws = os.environ["CLAWGYM_VERIFIER_WORKSPACE"]
payload = json.load(open(os.environ["OPENCLAW_REWARD_PAYLOAD"]))
ok = open(os.path.join(ws, "out.txt")).read() == "hi\\n" and payload["final_message"] == "Done."
print(json.dumps({"out": ok}), file=open(os.environ["CLAWGYM_CHECK_STDOUT"], "w"))
print(1.0 if ok else 0.0)
PY
"""


def test_an_episode_runs_on_a_backend_with_no_host_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """env.py and verify/ see only the protocol: a backend with no host_workspace runs a whole
    episode (restore, a tool call, the disk quota check, the verifier with its payload and
    sub-scores, the next episode's prestart) unchanged."""
    import clawgym_env.env as env_module
    from clawgym_env.env import ClawGymEnv

    made: list[RemoteDiskSandboxDouble] = []

    def make(backend: str, config: SandboxConfig | None = None, **_: Any) -> RemoteDiskSandboxDouble:
        made.append(RemoteDiskSandboxDouble(config))
        return made[-1]

    monkeypatch.setattr(env_module, "make_sandbox", make)
    task = Task(task_id="remote", user_query="write hi to out.txt", metadata={"category": ""},
                input_files={"in.txt": b"input\n"}, reward_files={"reward.sh": _REMOTE_REWARD.encode()})
    env = ClawGymEnv(task, backend="local")  # any name: make_sandbox is the double's
    try:
        for _ in range(2):
            env.reset()
            sb = made[0]
            assert not hasattr(sb, "host_workspace") and not hasattr(sb, "uid")
            obs = env.step({"name": "exec", "arguments": {"command": "cat in.txt && echo hi > out.txt"}})[0]
            assert obs == "input"
            _, reward, terminated, _, info = env.step({"role": "assistant", "content": "Done."})
            assert (reward, terminated, info["infra_error"], info["subscores"]) == (1.0, True, None, {"out": True})
        assert len(made) == 1
        env.close()  # waits for the next episode's prestart, started in the background
        episode = ["restore", "stop", "install_verifier", "run_verifier"]
        assert sb.calls == ["stop", *episode, "prestart", *episode, "prestart"]  # the 1st reset: a cold start
    finally:
        env.close()


def test_the_next_prestart_runs_after_step_returns_and_reset_waits_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reward comes back without waiting for the next episode's sandbox; ``reset`` waits."""
    import threading

    import clawgym_env.env as env_module
    from clawgym_env.env import ClawGymEnv

    release = threading.Event()
    started = threading.Event()

    class SlowStart(RemoteDiskSandboxDouble):
        def prestart(self) -> None:
            started.set()
            assert release.wait(10)
            super().prestart()

    made: list[SlowStart] = []
    monkeypatch.setattr(env_module, "make_sandbox", lambda *a, **k: made.append(SlowStart()) or made[-1])
    task = Task(task_id="slow", user_query="q", metadata={"category": ""}, reward_files={"reward.sh": b"echo 1\n"})
    env = ClawGymEnv(task, backend="local")
    try:
        env.reset()
        assert env.step({"role": "assistant", "content": "Done."})[1] == 1.0
        assert started.wait(10) and made[0].calls[-1] == "run_verifier"  # step returned, prestart still blocked
        done = threading.Event()
        threading.Thread(target=lambda: (env.reset(), done.set()), daemon=True).start()
        assert not done.wait(0.3)  # reset waits for the prestart in flight...
        release.set()
        assert done.wait(10) and made[0].calls[-2:] == ["prestart", "restore"]  # ...then restores, warm
    finally:
        release.set()
        env.close()


def test_env_episodes_use_the_ready_verifier(train_dir: Path) -> None:
    from clawgym_env.env import ClawGymEnv
    from clawgym_env.tasks import load_task

    env = ClawGymEnv(load_task(train_dir / "task_0009"))
    try:
        env.reset()
        first = env.step({"role": "assistant", "content": "Done."})
        env.reset()  # waits for the background prestart: agent server launched, verifier waiting
        ready = env.sandbox._verifier
        assert ready is not None and ready.proc.poll() is None
        second = env.step({"role": "assistant", "content": "Done."})
        assert ready.proc.poll() is not None  # it ran this episode's verifier
        assert (first[1], first[4]["subscores"]) == (second[1], second[4]["subscores"])
        assert second[4]["infra_error"] is None
    finally:
        env.close()
