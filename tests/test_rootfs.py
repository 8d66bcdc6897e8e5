"""The default sandbox rootfs (scripts/build_rootfs.sh): built offline from Debian packages, used by
bwrap via ``SandboxConfig(root="default")`` and imported into docker as clawgym/sandbox:bookworm.

The first run on a machine builds it (a few minutes, needs root + debootstrap + the Debian mirror);
later runs reuse it (the script is a no-op when the same package list was built).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import SandboxConfig, SandboxError, make_sandbox
from clawgym_env.sandbox import rootfs as rootfs_mod
from clawgym_env.tasks import load_task
from clawgym_env.verify.code import install_reward_files
from clawgym_env.verify.offline import _chown_tree, aggregate_like_reward_sh

MIRROR = os.environ.get("CLAWGYM_DEBIAN_MIRROR", "http://deb.debian.org/debian")

# Train tasks whose verifiers need the rootfs's tools: pytest (0447), ruby (0792), `python -m` (0590),
# yaml (0566), plus two plain-stdlib ones.
NOOP_TASKS = ("task_0447", "task_0792", "task_0590", "task_0566", "task_0009", "task_0000")


def _mirror_reachable() -> bool:
    try:
        with urllib.request.urlopen(f"{MIRROR}/dists/bookworm/Release", timeout=15) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def root() -> Path:
    """Build (or reuse) the rootfs with the script, as CI does; the docker import too when an engine answers."""
    if os.geteuid() != 0:
        pytest.skip("building the rootfs needs root (debootstrap)")
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap; .ci/run does it)")
    try:
        path = rootfs_mod.build(image=rootfs_mod.docker_available(), quiet=True)
    except SandboxError as exc:
        if not _mirror_reachable():
            pytest.skip(f"debootstrap cannot reach the Debian mirror {MIRROR}: {exc}")
        raise
    return path


def _run(root: Path, command: str) -> tuple[int | None, str]:
    sb = make_sandbox("bwrap", SandboxConfig(root=root))
    sb.start()
    try:
        res = sb.exec(command, timeout_s=60)
        return res.exit_code, res.output
    finally:
        sb.close()


def test_default_rootfs_resolves_to_the_build(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rootfs_mod.default_rootfs() == root
    assert root.name == rootfs_mod.rootfs_name() and root.name.startswith("bookworm-")
    info = rootfs_mod.rootfs_info(root)
    assert info["name"] == root.name and "python3-pytest" in info["packages"]
    # world-searchable down to the root: bwrap binds it as an unprivileged uid
    for p in (root, *root.parents):
        assert p.stat().st_mode & 0o001, p
    monkeypatch.setenv("CLAWGYM_ROOTFS", "/nonexistent-rootfs")
    with pytest.raises(SandboxError, match="clawgym sandbox build"):
        rootfs_mod.default_rootfs()
    monkeypatch.setenv("CLAWGYM_ROOTFS", str(root))
    assert rootfs_mod.resolve_root("default") == root


def test_second_build_is_a_noop(root: Path) -> None:
    out = subprocess.run(["bash", str(rootfs_mod.build_script()), "--no-image"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "reusing it" in out and "debootstrap" not in out


def test_tools_inside_bwrap_on_rootfs(root: Path) -> None:
    code, out = _run(root, "set -e; python -m pytest --version; python3 -c 'import yaml, sqlite3, ssl; print(\"py-ok\")';"
                           " git --version; echo '{\"a\": [1, 2]}' | jq -c .a; sqlite3 :memory: 'select 6*7';"
                           " ruby -e 'puts [1,2,3].sum'; curl --version | head -1; zip -v | head -2 | tail -1;"
                           " unzip -v | head -1; pip --version; ps -o comm= -p 1; cat /etc/debian_version;"
                           " locale 2>/dev/null | head -1; test ! -e /usr/lib/python3.11/EXTERNALLY-MANAGED")
    assert code == 0, out
    for needle in ("pytest 7.", "py-ok", "git version", "[1,2]", "42", "6", "curl 7.", "pip ", "12."):
        assert needle in out, (needle, out)


def test_sandbox_sees_the_rootfs_not_the_host(root: Path) -> None:
    host_only = "/usr/bin/bwrap"  # installed on the host, not in the rootfs
    assert Path(host_only).exists() and not (root / host_only.lstrip("/")).exists()
    code, out = _run(root, f"test ! -e {host_only} && echo no-host-bwrap; python3 -c 'import sys; print(sys.version_info[:2])';"
                           " cat /etc/clawgym-rootfs.json")
    assert code == 0 and "no-host-bwrap" in out and "(3, 11)" in out, out
    assert json.loads(out.splitlines()[-1])["name"] == root.name


def _noop_reward(task_dir: Path, config: SandboxConfig | None) -> tuple[float, dict]:
    env = ClawGymEnv(load_task(task_dir), sandbox_config=config, max_steps=4)
    try:
        env.reset(seed=0)
        _, reward, term, _, info = env.step({"role": "assistant", "content": "Done."})
        assert term and not info.get("infra_error"), info
        return reward, info
    finally:
        env.close()


@pytest.mark.parametrize("task_id", NOOP_TASKS)
def test_noop_reward_on_rootfs_matches_check_py(root: Path, train_dir: Path, task_id: str) -> None:
    """The env's no-op reward on the rootfs equals check.py run directly in the rootfs, and the host-root no-op."""
    task = load_task(train_dir / task_id)
    reward, info = _noop_reward(train_dir / task_id, SandboxConfig(root="default"))
    # check.py directly, in the rootfs, on the untouched inputs
    sb = make_sandbox("bwrap", SandboxConfig(root=root))
    try:
        for rel, data in task.workspace_files().items():
            dest = sb.host_workspace / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        _chown_tree(sb.host_workspace, sb.uid)
        install_reward_files(task, sb.host_workspace, sb.uid)
        ws = sb.workspace
        res = sb.run_isolated(["python3", f"{ws}/reward/check.py", ws], cwd=ws, timeout_s=120,
                              env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8"})
    finally:
        sb.close()
    assert res.exit_code == 0, res.stderr[-2000:]
    assert reward == pytest.approx(aggregate_like_reward_sh(res.stdout), abs=1e-6), (res.stdout, info)
    host_reward, _ = _noop_reward(train_dir / task_id, None)
    assert reward == pytest.approx(host_reward, abs=1e-6)


def test_env_episode_on_rootfs(root: Path, train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0447"), sandbox_config=SandboxConfig(root="default"), max_steps=6)
    try:
        env.reset(seed=0)
        obs, _, term, trunc, _ = env.step(
            {"name": "exec", "arguments": {"command": "ls input >/dev/null; python -m pytest --version; ruby -v | cut -c1-4"}})
        assert "pytest" in obs and "ruby" in obs and (term, trunc) == (False, False), obs
        _, _, term, _, info = env.step({"role": "assistant", "content": "Done."})
        assert term and not info.get("infra_error")
    finally:
        env.close()


def test_docker_image(root: Path) -> None:
    if not rootfs_mod.docker_available():
        pytest.skip("no docker engine answers (`docker info` failed): the image part of the build was skipped")
    tag = rootfs_mod.ensure_image(build_if_missing=False)
    assert tag == "clawgym/sandbox:bookworm"
    pinned = f"clawgym/sandbox:{root.name}"
    ids = {subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", t], capture_output=True, text=True,
                          check=True).stdout.strip() for t in (tag, pinned)}
    assert len(ids) == 1, "clawgym/sandbox:bookworm must point at the current build"
    label = subprocess.run(["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", tag], capture_output=True,
                           text=True, check=True).stdout
    assert json.loads(label)["org.clawgym.rootfs"] == root.name
    run = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "sh", "-c",
                          "python -m pytest --version && pwd && jq --version"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "pytest 7." in run.stdout + run.stderr and "/root/.openclaw/workspace" in run.stdout
