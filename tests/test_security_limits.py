"""Resource caps per sandbox (issue 11, defect 9), measured in real sandboxes.

bwrap: each sandbox (the server's, and each verifier run) in its own cgroup with a memory cap that
counts every process and the tmpfs files together, a pids cap and a cpu quota; docker: the same
limits as container options. Plus the workspace disk quota (checked by the env between steps) and
networked sandboxes that reach the outside but not the host's loopback services.

The cgroup tests need a writable cgroup hierarchy (root on this machine and on CI); elsewhere they
skip and say why. Caps are small (256 MiB) so a test allocates little and ends in seconds.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from _backends import docker_unavailable

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import SandboxConfig, SandboxLimits, ServerSandbox, cgroups, make_sandbox
from clawgym_env.sandbox.quota import workspace_usage
from clawgym_env.tasks import load_task

CAP = 256 << 20
SMALL = SandboxLimits(max_total_memory_bytes=CAP, tmpfs_bytes=64 << 20, max_memory_bytes=2 << 30)
_CG_VERSION, _CG_WHY = cgroups.support()
needs_cgroups = pytest.mark.skipif(_CG_VERSION is None, reason=f"no writable cgroup hierarchy here: {_CG_WHY}")


@pytest.fixture(params=["bwrap", "docker"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "bwrap" and _CG_VERSION is None:
        pytest.skip(f"bwrap caps need a writable cgroup hierarchy: {_CG_WHY}")
    if request.param == "docker":
        reason = docker_unavailable()
        if reason:
            pytest.skip(reason)
    return request.param


@contextmanager
def _started(backend: str, limits: SandboxLimits = SMALL, network: bool = False) -> Iterator[ServerSandbox]:
    kw = {"recycle": False, "shared_pool": False} if backend == "docker" else {}
    sb = make_sandbox(backend, SandboxConfig(limits=limits, network=network), **kw)
    sb.start()
    try:
        yield sb
    finally:
        sb.close()


def _usable(sb: ServerSandbox) -> None:
    res = sb.exec("echo ok", timeout_s=20)
    assert (res.output, res.exit_code) == ("ok\n", 0), res


def _hog(mib: int, then: str = "") -> str:
    """A python3 command that really touches ``mib`` MiB (b'x' * n writes every page)."""
    return f"python3 -c \"import time; b = b'x' * ({mib} << 20); {then}print('survived', flush=True)\""


def _cg_file(sb: ServerSandbox, controller: str, v1: str, v2: str) -> str:
    cg = sb.cgroup  # type: ignore[attr-defined]
    assert cg is not None, "root on a host with writable cgroups: every bwrap sandbox has one"
    return cg.read(controller, v1 if cg.version == 1 else v2)


# ----------------------------------------------------------------------------- memory
def test_one_process_past_the_memory_cap_is_oom_killed_and_the_host_is_fine(backend: str) -> None:
    with _started(backend) as sb:
        res = sb.exec(_hog(400), timeout_s=60)
        assert "survived" not in res.output and res.exit_code != 0, res
        assert res.signal == "SIGKILL" or res.exit_code == 137, res  # the OOM killer, not a MemoryError
        _usable(sb)  # the server (small) was not the victim
        if backend == "bwrap":
            peak = int(_cg_file(sb, "memory", "memory.max_usage_in_bytes", "memory.peak"))
            assert peak <= CAP


def test_processes_together_cannot_exceed_the_total_cap(backend: str) -> None:
    """Four processes of 100 MiB each fit any per-process limit; together they pass 256 MiB."""
    with _started(backend) as sb:
        hogs = " & ".join(_hog(100, "time.sleep(3); ") for _ in range(4))
        res = sb.exec(f"{hogs} & wait", timeout_s=60)
        assert 1 <= res.output.count("survived") <= 2, res.output
        _usable(sb)


def test_tmpfs_files_count_against_the_memory_cap(backend: str) -> None:
    """150 MiB in /tmp + /root leave too little of 256 MiB for a 150 MiB process (alone it fits)."""
    limits = SandboxLimits(max_total_memory_bytes=CAP, tmpfs_bytes=80 << 20, max_memory_bytes=2 << 30)
    with _started(backend, limits) as sb:
        assert "survived" in sb.exec(_hog(150), timeout_s=60).output  # control: fits on its own
        fill = sb.exec("head -c 75M /dev/zero > /tmp/fill && head -c 75M /dev/zero > /root/fill && echo filled",
                       timeout_s=60)
        assert fill.output.strip() == "filled", fill
        if backend == "bwrap":
            assert int(_cg_file(sb, "memory", "memory.usage_in_bytes", "memory.current")) >= 150 << 20
        res = sb.exec(_hog(150), timeout_s=60)
        assert "survived" not in res.output and res.exit_code != 0, res
        _usable(sb)


def test_tmpfs_size_is_the_configured_one(backend: str) -> None:
    with _started(backend) as sb:
        res = sb.exec("head -c 80M /dev/zero > /tmp/big; echo rc=$?; du -sm /tmp | cut -f1", timeout_s=60)
        assert "rc=1" in res.output and "No space left" in res.output, res.output
        assert int(res.output.split()[-1]) <= 64


# ----------------------------------------------------------------------------- pids, cpu
_FORK_BOMB = """import os, signal, time
kids = []
while len(kids) < 100:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
print(len(kids), flush=True)
for pid in kids:
    os.kill(pid, signal.SIGKILL)
"""


def test_pids_cap_holds(backend: str) -> None:
    limits = SandboxLimits(max_total_memory_bytes=CAP, tmpfs_bytes=64 << 20, max_processes=40)
    with _started(backend, limits) as sb:
        sb.write_file(f"{sb.workspace}/fork.py", _FORK_BOMB.encode())
        res = sb.exec("python3 fork.py", timeout_s=60)
        forked = int(res.output.split()[-1])
        assert 20 <= forked < 40, res.output  # the server, the shell and python hold a few of the 40
        if backend == "bwrap":
            from clawgym_env.sandbox.bwrap import _PIDS_HEADROOM

            assert _cg_file(sb, "pids", "pids.max", "pids.max") == str(40 + _PIDS_HEADROOM)
        else:
            assert sb.client.api.inspect_container(sb.container_name)["HostConfig"]["PidsLimit"] == 40  # type: ignore[attr-defined]


_SPIN = """import os, time
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 2
        while time.monotonic() < end:
            pass
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
t = os.times()
print(t.children_user + t.children_system)
"""


def test_cpu_quota_is_set_and_holds(backend: str) -> None:
    limits = SandboxLimits(max_total_memory_bytes=CAP, tmpfs_bytes=64 << 20, cpus=0.5)
    with _started(backend, limits) as sb:
        if backend == "docker":
            host_config = sb.client.api.inspect_container(sb.container_name)["HostConfig"]  # type: ignore[attr-defined]
            assert host_config["NanoCpus"] == 500_000_000
            return
        cg = sb.cgroup  # type: ignore[attr-defined]
        if "cpu" not in cg.dirs:
            pytest.skip("the cpu controller is not available to this driver (documented: no cpu quota then)")
        if cg.version == 1:
            assert (cg.read("cpu", "cpu.cfs_quota_us"), cg.read("cpu", "cpu.cfs_period_us")) == ("50000", "100000")
        else:
            assert cg.read("cpu", "cpu.max") == "50000 100000"
        # two busy processes for 2 s of wall time: under a 0.5-core quota they get at most ~1 s of cpu
        # together (an upper bound, so a busy host cannot make this fail)
        sb.write_file(f"{sb.workspace}/spin.py", _SPIN.encode())
        res = sb.exec("python3 spin.py", timeout_s=60)
        assert float(res.output.split()[-1]) <= 1.4, res.output


# ----------------------------------------------------------------------------- cgroup lifecycle (bwrap)
def _our_cgroup_dirs() -> list[Path]:
    return [d for d in cgroups._walk(Path("/sys/fs/cgroup"), 8)
            if d.name.startswith(f"clawgym-{os.getpid()}-")]


@needs_cgroups
def test_cgroup_per_sandbox_removed_on_close_and_verifier_has_its_own() -> None:
    before = set(_our_cgroup_dirs())
    with _started("bwrap") as sb:
        cg = sb.cgroup  # type: ignore[attr-defined]
        assert cg is not None and cgroups.NAME_RE.match(cg.name)
        assert cg.name.startswith(f"clawgym-{os.getpid()}-")
        assert set(cg.dirs.values()) <= set(_our_cgroup_dirs()) - before
        server_pids = cg.pids()
        assert server_pids, "the server runs inside the sandbox's cgroup"
        sb.stop()  # the verifier runs after the agent's sandbox stopped
        res = sb.run_isolated(["/bin/sh", "-c", _hog(400)], env={"PATH": "/usr/bin:/bin"}, timeout_s=60)  # type: ignore[attr-defined]
        assert "survived" not in res.stdout and res.exit_code != 0, res
        assert set(_our_cgroup_dirs()) - before == set(cg.dirs.values()), "the verifier's cgroup was removed"
    assert set(_our_cgroup_dirs()) == before


@needs_cgroups
def test_orphaned_cgroups_of_a_dead_driver_are_removed_by_gc() -> None:
    code = ("import os; from clawgym_env.sandbox import cgroups; cg = cgroups.create(64 << 20, 8, None); "
            "print(cg.name, flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    name = out.stdout.strip()
    assert cgroups.NAME_RE.match(name), out
    orphans = [d for d in cgroups.find_orphans() if d.name == name]
    assert orphans and all(d.is_dir() for d in orphans)
    assert not any(d.name.startswith(f"clawgym-{os.getpid()}-") for d in cgroups.find_orphans()), "a live owner's"
    removed = cgroups.remove_orphans()
    assert {d.name for d in removed} >= {name}
    assert not any(d.exists() for d in orphans)


def _has_freezer() -> bool:
    cg = cgroups.create(64 << 20, 8, None) if _CG_VERSION is not None else None
    if cg is None:
        return False
    try:
        return cg._freezer() is not None
    finally:
        cg.remove()


needs_freezer = pytest.mark.skipif(not _has_freezer(), reason="no cgroup freezer here (v2 cgroup.freeze or v1 freezer)")


def _uid_alive(uid: int) -> list[int]:
    from clawgym_env.sandbox.bwrap import _pids_of_uid

    return _pids_of_uid(uid)


@needs_freezer
def test_a_frozen_cgroup_runs_nothing_and_killed_processes_only_die_when_thawed(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    cg = cgroups.create(64 << 20, 8, None)
    assert cg is not None
    loop = f"import itertools, os\nfor i in itertools.count():\n    open({str(counter)!r}, 'w').write(str(i))\n"
    proc = subprocess.Popen(["sh", "-c", " ".join(f"echo 0 > {f};" for f in cg.procs_files())
                             + f" exec {sys.executable} -c \"$0\"", loop])
    try:
        for _ in range(200):
            if counter.exists() and counter.read_text():
                break
            threading.Event().wait(0.01)
        assert not cg.freeze(holding=os.getpid()), "this process is not inside: not a freeze to rely on"
        assert cg.freeze(holding=proc.pid)
        frozen_at = counter.read_text()
        threading.Event().wait(0.2)
        assert counter.read_text() == frozen_at, "a frozen process wrote"
        cg.kill()
        threading.Event().wait(0.1)
        assert proc.poll() is None or cg.version == 2  # v1: SIGKILL waits for the thaw
        cg.thaw()
        assert proc.wait(timeout=10) == -9
        assert counter.read_text() == frozen_at, "a killed process ran again after the thaw"
    finally:
        proc.kill()
        proc.wait()
        cg.remove()


@needs_freezer
def test_stop_freezes_a_quiet_sandbox_and_nothing_of_it_runs_after() -> None:
    """The fast stop: the agent's writer loop never writes again from the moment stop returns,
    and once settled (here: the verifier run) no process of the uid is left."""
    with _started("bwrap") as sb:
        sb.exec("setsid sh -c 'while true; do date +%s%N > beat; done' >/dev/null 2>&1 &", timeout_s=10)
        assert sb.exec("while [ ! -s beat ]; do sleep 0.01; done; echo ok", timeout_s=10).output == "ok\n"
        sb.stop()
        assert sb._dying is not None, "a few processes, a freezer: stop did not wait"  # type: ignore[attr-defined]
        beat = sb.host_workspace / "beat"
        first = beat.read_bytes()
        threading.Event().wait(0.3)
        assert beat.read_bytes() == first
        res = sb.run_isolated(["/bin/sh", "-c", "cat /root/.openclaw/workspace/beat"], env={"PATH": "/usr/bin:/bin"},
                              timeout_s=30)  # type: ignore[attr-defined]
        assert res.stdout.encode() == first
        assert _uid_alive(sb.uid) == []  # type: ignore[arg-type]


def test_stop_right_after_launch_leaves_nothing_running() -> None:
    """A stop while the launcher is still joining its cgroups (it is not frozen with them) kills
    and waits: nothing of the sandbox starts up behind the stop."""
    sb = make_sandbox("bwrap")
    try:
        for _ in range(10):
            sb.launch()
            sb.stop()
            threading.Event().wait(0.2)
            assert _uid_alive(sb.uid) == [], "a sandbox process outlived stop"  # type: ignore[arg-type]
    finally:
        sb.close()


def test_stop_with_many_processes_waits_for_all_of_them() -> None:
    """RLIMIT_NPROC counts dying processes and the verifier runs as the same uid: past a handful,
    stop waits until every one is gone, as without a freezer."""
    with _started("bwrap") as sb:
        sb.exec("for i in $(seq 40); do setsid sleep 600 >/dev/null 2>&1 & done", timeout_s=20)
        assert len(_uid_alive(sb.uid)) > 40  # type: ignore[arg-type]
        sb.stop()
        assert sb._dying is None  # type: ignore[attr-defined]
        assert _uid_alive(sb.uid) == []  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- disk
@pytest.mark.parametrize("backend_name", ["bwrap", "docker"])
def test_disk_quota_ends_the_episode_scored(backend_name: str, train_dir: Path) -> None:
    if backend_name == "docker" and (reason := docker_unavailable()):
        pytest.skip(reason)
    limits = SandboxLimits(max_workspace_bytes=8 << 20, max_workspace_files=200)
    env = ClawGymEnv(load_task(train_dir / "task_0009"), backend=backend_name,
                     sandbox_config=SandboxConfig(limits=limits), prestart_next=False)
    try:
        env.reset()
        call = {"name": "exec", "arguments": {"command": "head -c 2M /dev/zero > small.bin"}}
        obs, reward, term, trunc, info = env.step(call)
        assert (term, trunc) == (False, False) and "disk_quota_exceeded" not in info  # within the cap
        call = {"name": "exec", "arguments": {"command": "head -c 20M /dev/urandom > big.bin"}}
        obs, reward, term, trunc, info = env.step(call)
        assert (term, trunc) == (True, False)
        assert "disk quota exceeded" in obs and "disk quota exceeded" in info["messages"][-1]["content"]
        assert info["disk_quota_exceeded"] and info["infra_error"] is None
        assert info["verifier"]["reason"] is None and isinstance(reward, float)  # scored, not dropped
        env.reset()
        call = {"name": "exec", "arguments": {"command": "mkdir d && cd d && touch $(seq 300)"}}
        obs, reward, term, trunc, info = env.step(call)
        assert term and "files and folders" in info["disk_quota_exceeded"]
    finally:
        env.close()


def test_disk_quota_bounds_growth_not_the_tasks_own_inputs(train_dir: Path) -> None:
    """A task whose inputs alone exceed the cap: the episode is not ended for files the agent did not
    write (it once was, after its first step); what the agent adds is still capped."""
    task = load_task(train_dir / "task_0009")
    task = task.model_copy(update={"input_files": {**task.input_files, "big_input.bin": os.urandom(3 << 20)}})
    limits = SandboxLimits(max_workspace_bytes=1 << 20, max_workspace_files=200)
    env = ClawGymEnv(task, backend="bwrap", sandbox_config=SandboxConfig(limits=limits), prestart_next=False)
    try:
        for _ in range(2):
            env.reset()
            _, _, term, _, info = env.step({"name": "exec", "arguments": {"command": "ls -la big_input.bin"}})
            assert not term and "disk_quota_exceeded" not in info
            _, _, term, _, info = env.step({"name": "exec", "arguments": {"command": "head -c 2M /dev/urandom > x"}})
            assert term and "grew by more than" in info["disk_quota_exceeded"]
    finally:
        env.close()


def test_workspace_usage_counts_blocks_once_and_stops_at_the_cap(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * (1 << 20))
    os.link(tmp_path / "a", tmp_path / "a-link")
    with open(tmp_path / "sparse", "wb") as fh:
        fh.truncate(1 << 30)  # 1 GiB apparent, no blocks
    fd = os.open(tmp_path, os.O_RDONLY)
    for _ in range(30):  # 7,500 chars of path: past PATH_MAX (shallow, so pytest can remove it)
        os.mkdir("d" * 250, dir_fd=fd)
        fd, old = os.open("d" * 250, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    with open(os.open("deep.bin", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as fh:
        fh.write(b"y" * (1 << 20))
    os.close(fd)
    usage = workspace_usage(tmp_path)
    assert usage.complete and usage.entries == 3 + 30 + 1
    assert (2 << 20) <= usage.bytes < (2 << 20) + 30 * 8192
    early = workspace_usage(tmp_path, max_entries=10)
    assert not early.complete and early.entries == 11


def test_bad_limits_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="max_total_memory_bytes must be a positive int"):
        SandboxLimits(max_total_memory_bytes=0)
    with pytest.raises(ValueError, match="cpus must be None or a number"):
        SandboxLimits(cpus=-1)
    with pytest.raises(ValueError, match="tmpfs_bytes=.* too large"):
        SandboxLimits(max_total_memory_bytes=1 << 30, tmpfs_bytes=512 << 20)


# ----------------------------------------------------------------------------- network
def _host_ip() -> str:
    """An address of this host that is not loopback (the sandbox's "outside world" here)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the outbound interface
            ip = s.getsockname()[0]
        if not ip.startswith("127."):
            return ip
    except OSError:
        pass
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        ip = line.split()[3].split("/")[0]
        if not ip.startswith("127."):
            return ip
    pytest.fail("this host has no non-loopback IPv4 address to play the outside world")


@contextmanager
def _http_server(host: str, body: bytes) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


_FETCH = ("python3 -c \"import sys, urllib.request as u; "
          "print(u.urlopen(sys.argv[1], timeout=3).read().decode())\" {url} 2>&1 | tail -1")


def test_network_reaches_outside_but_not_host_loopback(backend: str) -> None:
    """network=True: a server on the host's 127.0.0.1 (a vLLM, a Ray dashboard) is out of reach;
    one on the host's own non-loopback address (as any outside host) answers."""
    inside, outside = secrets.token_hex(8), secrets.token_hex(8)
    ip = _host_ip()
    with _http_server("127.0.0.1", inside.encode()) as lo_port, _http_server(ip, outside.encode()) as port, \
            _started(backend, network=True) as sb:
        for url in (f"http://127.0.0.1:{lo_port}/", f"http://10.0.2.2:{lo_port}/", f"http://localhost:{lo_port}/"):
            res = sb.exec(_FETCH.format(url=url), timeout_s=30)
            assert inside not in res.output, (url, res.output)
        res = sb.exec(_FETCH.format(url=f"http://{ip}:{port}/"), timeout_s=30)
        assert res.output.strip() == outside, res.output


def test_network_verifier_sandbox_is_networked_the_same_way() -> None:
    outside = secrets.token_hex(8)
    ip = _host_ip()
    with _http_server(ip, outside.encode()) as port, _started("bwrap", network=True) as sb:
        sb.stop()
        res = sb.run_isolated(["/bin/sh", "-c", _FETCH.format(url=f"http://{ip}:{port}/")],  # type: ignore[attr-defined]
                              env={"PATH": "/usr/bin:/bin"}, timeout_s=30)
        assert res.stdout.strip() == outside, res


# ----------------------------------------------------------------------------- fallbacks
def test_without_cgroups_bwrap_still_runs_with_rlimits_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No writable hierarchy (an unprivileged caller, a locked-down container): sandboxes start,
    without a cgroup, and say why once in the log (README: what is then not guaranteed)."""
    monkeypatch.setattr(cgroups, "_hierarchy", lambda: (None, "no usable cgroup hierarchy (test)"))
    monkeypatch.setattr(cgroups, "_warned", False)
    with _started("bwrap") as sb:
        assert sb.cgroup is None  # type: ignore[attr-defined]
        _usable(sb)
    assert cgroups._warned


def test_network_without_slirp4netns_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback to the host's network namespace."""
    from clawgym_env.sandbox import SandboxError, netns

    sb = make_sandbox("bwrap", SandboxConfig(network=True))
    monkeypatch.setattr(netns.shutil, "which", lambda *a, **k: None)  # after bwrap itself was found
    try:
        with pytest.raises(SandboxError, match="needs slirp4netns"):
            sb.start()
    finally:
        sb.close()


def test_cgroup_v2_selection_and_limit_files(tmp_path: Path) -> None:
    """The v2 path cannot run for real on this (v1) host; its choices are checked on a mock tree:
    a delegated parent gets memory/pids/cpu enabled for its children, a parent whose memory
    controller is held by v1 is refused with the reason, and the limit files say what they should."""
    parent = tmp_path / "delegated"
    parent.mkdir()
    (parent / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (parent / "cgroup.subtree_control").write_text("")
    mount = cgroups._Mount("/", tmp_path, "cgroup2", frozenset())
    h, why = cgroups._try_v2([mount], {"": "/delegated"})
    assert h is not None and h.version == 2 and set(h.parents) == {"memory", "pids", "cpu"}, why
    (parent / "cgroup.controllers").write_text("hugetlb\n")  # hybrid host: memory/pids are v1's
    h, why = cgroups._try_v2([mount], {"": "/delegated"})
    assert h is None and "not available" in why
    files = cgroups._limit_files(2, 256 << 20, 40, 0.5)
    assert files["memory"][0] == ("memory.max", str(256 << 20)) and ("memory.swap.max", "0") in files["memory"]
    assert files["pids"] == [("pids.max", "40")] and files["cpu"] == [("cpu.max", "50000 100000")]
