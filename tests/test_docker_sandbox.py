"""The docker backend on a real docker engine: the backend-agnostic behaviour tests of the bwrap
backend (tools, verifier, escape attempts) re-collected here with ``sandbox_backend = "docker"``,
plus what only docker has (warm reuse, pool, labels, reaper, no leaked containers).

Skipped only when no docker engine answers (with that reason); a missing image is built with the
offline image builder when one is installed, else the test fails and says how to build it.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backends import docker_unavailable

from clawgym_env.sandbox import SandboxError, ServerSandbox, make_sandbox

REPO = Path(__file__).resolve().parents[1]


_REASON = docker_unavailable()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def _ensure_test_image() -> str:
    """$CLAWGYM_DOCKER_IMAGE, else the default image (built offline when the builder exists)."""
    from clawgym_env.sandbox.docker import default_image, docker_client

    image = default_image()
    client = docker_client()
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        pass  # built below
    else:
        return image
    try:
        from clawgym_env.sandbox.rootfs import ensure_image  # the offline image builder
    except ImportError:
        pytest.fail(f"docker image {image} is missing and no builder is installed; "
                    f"build one and set CLAWGYM_DOCKER_IMAGE (see README, Docker backend)")
    ensure_image()
    return image


@pytest.fixture(scope="session", autouse=True)
def docker_image() -> Iterator[str]:
    """The image every docker test runs; at the end of the session no container of ours is left."""
    if _REASON is not None:
        yield ""
        return
    image = _ensure_test_image()
    old = os.environ.get("CLAWGYM_DOCKER_IMAGE")
    os.environ["CLAWGYM_DOCKER_IMAGE"] = image
    yield image
    if old is None:
        os.environ.pop("CLAWGYM_DOCKER_IMAGE", None)
    else:
        os.environ["CLAWGYM_DOCKER_IMAGE"] = old
    gc.collect()
    left = _our_containers()
    assert left == [], f"docker containers left behind by this test session: {left}"


def _our_containers(pid: int | None = None) -> list[str]:
    from clawgym_env.sandbox.docker import LABEL, docker_client

    pid = os.getpid() if pid is None else pid
    return sorted(c["Names"][0].lstrip("/") for c in docker_client().api.containers(
        all=True, filters={"label": [LABEL, f"clawgym.owner_pid={pid}"]}))


@pytest.fixture
def sandbox_backend() -> str:
    return "docker"


# ---------------------------------------------------------------- the shared behaviour tests, on docker
from test_sandbox import (  # noqa: F401
    test_files_written_inside_show_up_on_the_host_workspace,
    test_python_and_python3_both_exist,
    test_restart_keeps_the_workspace_and_drops_the_rest,
)
from test_sandbox_security import (  # noqa: F401
    test_agent_cannot_kill_or_freeze_the_server,
    test_agent_cannot_trace_or_inject_into_the_server,
    test_cannot_read_host_secrets,
    test_clear_directory_does_not_follow_agent_symlinks,
    test_command_output_cannot_forge_protocol_messages,
    test_host_loopback_unreachable_without_network,
    test_huge_file_fails_on_file_size_limit,
    test_huge_output_keeps_only_the_tail,
)
from test_tools_exec import *
from test_tools_fs import *
from test_verifier import (  # noqa: F401
    test_agent_planted_reward_dir_is_replaced,
    test_agent_planted_reward_symlink_is_not_followed,
    test_agent_processes_do_not_survive_into_the_verifier,
    test_failures_score_zero_with_a_reason,
    test_hanging_verifier_times_out_and_is_killed,
    test_last_nonempty_line_wins_and_is_not_clamped,
    test_official_reward_sh_mean_and_subscores,
    test_payload_json_is_valid_utf8,
    test_runs_from_root_with_payload_outside_the_workspace,
    test_verifier_env_is_clean,
)


@pytest.fixture
def box(sandbox: ServerSandbox) -> ServerSandbox:
    """test_verifier's sandbox fixture, on docker."""
    return sandbox


# ---------------------------------------------------------------- docker only


def _inspect(sb: ServerSandbox) -> dict:
    from clawgym_env.sandbox.docker import docker_client

    return docker_client().api.inspect_container(sb.container_name)  # type: ignore[attr-defined]


def test_container_limits_labels_and_isolation(sandbox: ServerSandbox) -> None:
    info = _inspect(sandbox)
    host = info["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["PidsLimit"] == 256 and host["Memory"] == 4 << 30
    labels = info["Config"]["Labels"]
    assert labels["clawgym.owner_pid"] == str(os.getpid())
    assert float(labels["clawgym.deadline"]) > float(labels["clawgym.started"]) > 0
    out = sandbox.exec("cat /proc/1/cmdline | tr '\\0' ' '; echo; ip link 2>/dev/null | grep -c eth; "
                       "touch /usr/x 2>&1; echo $HOME", timeout_s=10).output
    assert "python3 -I -S /run/clawgym/server.py" in out
    assert "Read-only file system" in out and out.rstrip().endswith("/root")


def test_cannot_write_outside_workspace_or_touch_kernel_knobs(sandbox: ServerSandbox) -> None:
    """The root filesystem is read-only, /proc/sys and /sys refuse writes, mounts are refused;
    only the workspace and the scratch tmpfs (wiped between episodes) take writes."""
    res = sandbox.exec("for p in /x /usr/x /etc/x /run/clawgym/x /proc/sys/kernel/hostname /sys/kernel/x; do "
                       "echo hi > $p 2>/dev/null; echo rc=$?; done; mount -t tmpfs t /mnt 2>/dev/null; echo rc=$?; "
                       "echo ok > /tmp/t && echo ok > w.txt && echo fine", timeout_s=10)
    codes = [ln for ln in res.output.splitlines() if ln.startswith("rc=")]
    assert len(codes) == 7 and "rc=0" not in codes, res.output
    assert res.output.rstrip().endswith("fine")
    assert (sandbox.host_workspace / "w.txt").read_text() == "ok\n"


def test_cpus_option_sets_a_quota() -> None:
    sb = make_sandbox("docker", cpus=0.5)
    try:
        sb.start()
        assert _inspect(sb)["HostConfig"]["NanoCpus"] == 500_000_000
    finally:
        sb.close()


def test_stop_keeps_the_container_but_kills_everything_and_wipes_scratch(sandbox: ServerSandbox) -> None:
    name = sandbox.container_name  # type: ignore[attr-defined]
    sandbox.exec("sleep 300 & echo x > /tmp/junk; echo y > /root/.hidden; echo keep > kept.txt", timeout_s=10)
    t = time.monotonic()
    sandbox.stop()
    sandbox.launch()
    warm_s = time.monotonic() - t
    assert sandbox.container_name == name, "the warm container is reused"  # type: ignore[attr-defined]
    out = sandbox.exec("ls -A /tmp /root; cat kept.txt; cat /proc/[0-9]*/comm", timeout_s=10).output
    assert "junk" not in out and ".hidden" not in out and "keep" in out
    assert "sleep" not in out, out
    assert warm_s < 1.0


def test_dead_container_is_replaced_on_launch(sandbox: ServerSandbox) -> None:
    from clawgym_env.sandbox.docker import docker_client

    sandbox.exec("echo data > d.txt", timeout_s=10)
    old = sandbox.container_name  # type: ignore[attr-defined]
    docker_client().api.kill(old)
    with pytest.raises(SandboxError):
        sandbox.exec("true", timeout_s=5)
    sandbox.stop()
    sandbox.launch()
    assert sandbox.exec("cat d.txt", timeout_s=10).output == "data\n"
    assert sandbox.container_name != old  # type: ignore[attr-defined]


def test_recycle_off_gives_a_new_container_each_launch() -> None:
    sb = make_sandbox("docker", recycle=False)
    try:
        sb.start()
        first = sb.container_name  # type: ignore[attr-defined]
        sb.stop()
        sb.start()
        assert sb.container_name != first  # type: ignore[attr-defined]
    finally:
        sb.close()
    assert _our_containers() == []


def test_close_removes_the_container_also_on_gc() -> None:
    sb = make_sandbox("docker")
    sb.start()
    name = sb.container_name  # type: ignore[attr-defined]
    assert name in _our_containers()
    del sb
    gc.collect()
    assert name not in _our_containers()


def test_root_owned_agent_files_are_cleaned(sandbox: ServerSandbox) -> None:
    sandbox.exec("mkdir -p a/b && touch a/b/c && chmod 000 a/b && chmod 000 a", timeout_s=10)
    ws = sandbox.host_workspace
    sandbox.close()
    assert not ws.exists()


_DRIVER = """
import os, sys, time
os.environ["CLAWGYM_DOCKER_IMAGE"] = {image!r}
from clawgym_env.sandbox import make_sandbox
boxes = [make_sandbox("docker") for _ in range(8)]
for b in boxes:
    b.launch()
for b in boxes:
    b.wait_ready()
print(" ".join(b.container_name for b in boxes), flush=True)
time.sleep(600)
"""


def test_reaper_removes_containers_of_a_killed_driver(docker_image: str) -> None:
    from clawgym_env.sandbox.reaper import reap

    proc = subprocess.Popen([sys.executable, "-c", _DRIVER.format(image=docker_image)], stdout=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        names = proc.stdout.readline().split()  # type: ignore[union-attr]
        assert len(names) == 8
        assert len(_our_containers(proc.pid)) == 8
        reaped = {r.name for r in reap()}
        assert not reaped & set(names), "a live owner's containers are never reaped"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(_our_containers(proc.pid)) == 8  # leaked: nobody closed them
    reaped = {r.name: r.reason for r in reap()}
    assert set(names) <= set(reaped)
    assert all("dead" in reaped[n] for n in names)
    assert _our_containers(proc.pid) == []


def test_reaper_enforces_the_hard_lifetime() -> None:
    from clawgym_env.sandbox.reaper import find_leaked, reap

    sb = make_sandbox("docker", lifetime_s=1000)
    try:
        sb.start()
        name = sb.container_name  # type: ignore[attr-defined]
        assert name not in {r.name for r in find_leaked()}
        assert name in {r.name for r in reap(now=time.time() + 2000) if "lifetime" in r.reason}
        assert name not in _our_containers()
    finally:
        sb.close()


def test_gc_cli_dry_run_and_json() -> None:
    out = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "sandbox", "gc", "--dry-run", "--json"],
                         check=False, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert isinstance(json.loads(out.stdout)["leaked"], list)


def test_pool_hands_out_only_live_containers(docker_image: str) -> None:
    from clawgym_env.sandbox.docker import docker_client
    from clawgym_env.sandbox.pool import DockerPool

    with DockerPool(size=2, max_starts_per_s=20) as pool:
        pool.wait_filled(timeout_s=60)
        victim = pool.peek_names()[0]
        docker_client().api.kill(victim)
        time.sleep(0.3)
        sb = make_sandbox("docker", pool=pool)
        try:
            sb.host_workspace.joinpath("f.txt").write_text("hi")
            sb.launch()
            assert sb.exec("cat f.txt", timeout_s=10).output == "hi"  # the workspace moved in
            assert sb.container_name != victim  # type: ignore[attr-defined]
            assert sb.exec("echo ok", timeout_s=10).output == "ok\n"
        finally:
            sb.close()
    assert _our_containers() == []


def test_gym_env_on_docker_matches_bwrap(train_dir: Path) -> None:
    """Same task, same no-op episode: identical reward and verifier details on both backends."""
    from clawgym_env.env import ClawGymEnv
    from clawgym_env.tasks import load_task

    task = load_task(train_dir / "task_0009")
    results = {}
    for backend in ("bwrap", "docker"):
        env = ClawGymEnv(task, backend=backend, prestart_next=False)
        try:
            env.reset(seed=0)
            env.step({"name": "exec", "arguments": {"command": "ls -R . | head -20"}})
            _, reward, term, _, info = env.step({"role": "assistant", "content": "done"})
            assert term and info.get("infra_error") is None
            results[backend] = (reward, info["verifier"]["subscores"], info["verifier"]["reason"])
        finally:
            env.close()
    assert results["docker"] == results["bwrap"]


def test_gym_make_with_backend_docker(train_dir: Path) -> None:
    import gymnasium as gym

    import clawgym_env

    ids = clawgym_env.register_suite(str(train_dir))
    env = gym.make(next(i for i in ids if i.endswith("task_0009")), backend="docker")
    try:
        for _ in range(2):  # the second reset reuses the warm container
            env.reset(seed=0)
            _, _reward, term, _, info = env.step({"role": "assistant", "content": "nothing"})
            assert term and info.get("infra_error") is None
        assert env.unwrapped.sandbox.__class__.__name__ == "DockerSandbox"
    finally:
        env.close()


def test_cli_run_with_backend_docker(train_dir: Path, tmp_path: Path) -> None:
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps([{"name": "exec", "arguments": {"command": "ls"}},
                                   {"role": "assistant", "content": "done"}]))
    out = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "run", str(train_dir / "task_0009"),
                          "--backend", "docker", "--actions", str(actions)], check=False, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "reward" in out.stdout.lower(), out.stdout[-2000:]



def test_noop_scores_match_bwrap_on_the_built_rootfs(train_dir: Path) -> None:
    """A sample of the shared train split scores the same with no agent actions on docker and on
    bwrap over the built rootfs (same Debian packages). All 2,000:
    ``python benchmarks/bench_docker.py --noop-compare 2000``."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_docker import noop_compare
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    from clawgym_env.sandbox.rootfs import DEFAULT_ROOT  # noqa: F401 - needs the rootfs builder

    out = noop_compare(train_dir, 6)
    assert out["tasks"] == 6 and out["mismatches"] == 0, out


def test_concurrent_docker_envs_complete_episodes_without_error(train_dir: Path) -> None:
    """8 docker envs in threads, 40 episodes. The full figure (32 envs, 200 episodes, 0 errors,
    ~50 s on 2 cores): ``python benchmarks/bench_docker.py --stress 32 --episodes 200``."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_docker import stress
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    out = stress(train_dir, 8, 40)
    assert out["episodes"] == 40 and out["errors"] == 0, out


def _pids_cgroup(sb: ServerSandbox) -> Path:
    """The container's pids cgroup on the host (v1 or v2 layout)."""
    cid = _inspect(sb)["Id"]
    for cand in (f"/sys/fs/cgroup/pids/docker/{cid}", f"/sys/fs/cgroup/system.slice/docker-{cid}.scope",
                 f"/sys/fs/cgroup/docker/{cid}"):
        if Path(cand, "pids.current").exists():
            return Path(cand)
    pytest.fail(f"no pids cgroup found for container {cid[:12]}")


def test_fork_bomb_hits_the_pids_limit_and_is_killed_on_timeout(sandbox: ServerSandbox) -> None:
    """Docker's own fork-bomb test: the container's pids cgroup (256) holds, the exec timeout kills
    the whole tree, the host stays responsive, and the same container is usable afterwards."""
    from test_sandbox_security import run_fork_bomb

    cg = _pids_cgroup(sandbox)
    assert (cg / "pids.max").read_text().strip() == "256"
    peak = run_fork_bomb(sandbox, lambda: int((cg / "pids.current").read_text()))
    assert 50 < peak <= 256, peak  # the bomb ran, and the cgroup limit held
    deadline = time.monotonic() + 15  # reaping 256 processes on a loaded 2-core CI host took over 5 s once
    while int((cg / "pids.current").read_text()) > 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int((cg / "pids.current").read_text()) <= 3  # the server (+ its helper), nothing of the bomb
    assert sandbox.exec("echo ok", timeout_s=10).output == "ok\n"
