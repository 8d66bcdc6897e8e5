"""Sandbox behaviour (not escapes: see test_sandbox_security.py): what commands find inside."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from clawgym_env.sandbox import SandboxConfig, SandboxError, ServerSandbox, make_sandbox


def test_python_and_python3_both_exist(sandbox: ServerSandbox) -> None:
    res = sandbox.exec("python -c 'import sys; print(sys.version_info[0])'; python3 -c 'print(3)'; "
                       "/usr/bin/env python -c 'print(1)'", timeout_s=10)
    assert res.output == "3\n3\n1\n" and res.exit_code == 0


def test_workspace_path_identity_and_minimal_etc(sandbox: ServerSandbox) -> None:
    res = sandbox.exec("pwd; id -u; echo $HOME; hostname; ls /etc | wc -l; cat /etc/passwd | cut -d: -f1", timeout_s=10)
    lines = res.output.split()
    assert lines[:4] == ["/root/.openclaw/workspace", "0", "/root", "clawgym"]
    assert int(lines[4]) < 60  # a whitelist, not the host's /etc
    assert lines[5:] == ["root", "nobody"]


def test_files_written_inside_show_up_on_the_host_workspace(sandbox: ServerSandbox) -> None:
    sandbox.exec("mkdir -p out && echo hi > out/a.txt", timeout_s=10)
    assert (sandbox.host_workspace / "out" / "a.txt").read_text() == "hi\n"


def test_a_rootfs_directory_replaces_the_host_system(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="not searchable by other users"):
        make_sandbox("bwrap", SandboxConfig(root=_fake_rootfs(tmp_path / "private")))  # pytest's tmp is 0700
    base = Path(tempfile.mkdtemp(prefix="clawgym-test-rootfs-"))
    base.chmod(0o755)
    try:
        _run_in_fake_rootfs(_fake_rootfs(base / "rootfs"))
    finally:
        shutil.rmtree(base)


def _fake_rootfs(root: Path) -> Path:
    """A rootfs sharing the host's /usr, with its own /etc."""
    (root / "etc").mkdir(parents=True)
    (root / "usr").symlink_to("/usr")
    for name in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink(f"/{name}"):
            (root / name).symlink_to(os.readlink(f"/{name}"))
    (root / "etc" / "os-release").write_text('PRETTY_NAME="clawgym test rootfs"\n')
    for p in (root, *root.parents):
        if str(p).startswith(tempfile.gettempdir() + "/clawgym-test-rootfs-"):
            p.chmod(0o755)
    return root


def _run_in_fake_rootfs(root: Path) -> None:
    sb = make_sandbox("bwrap", SandboxConfig(root=root))
    try:
        sb.start()
        assert sb.exec("cat /etc/os-release", timeout_s=10).output == 'PRETTY_NAME="clawgym test rootfs"\n'
        assert sb.exec("python3 -c 'print(1)'", timeout_s=10).output == "1\n"
    finally:
        sb.close()


def test_restart_keeps_the_workspace_and_drops_the_rest(sandbox: ServerSandbox) -> None:
    sandbox.exec("echo keep > k.txt; echo gone > /tmp/t.txt", timeout_s=10)
    sandbox.stop()
    sandbox.start()
    res = sandbox.exec("cat k.txt; ls /tmp | wc -l", timeout_s=10)
    assert res.output == "keep\n0\n"


def test_extra_env_reaches_commands() -> None:
    sb = make_sandbox("bwrap", SandboxConfig(env={"TASK_MODE": "eval"}))
    try:
        sb.start()
        assert sb.exec("echo $TASK_MODE $OPENCLAW_SHELL", timeout_s=10).output == "eval exec\n"
    finally:
        sb.close()
