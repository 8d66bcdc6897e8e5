"""Restoring a workspace undoes only what an episode changed, and never misses a change: real
folders, real bwrap episodes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import hostws
from clawgym_env.tasks import Task, TaskFile, TaskFileChanged

FILES = [("input/a.txt", b"alpha\n", 0o644), ("input/sub/b.csv", b"x,y\n1,2\n", 0o644),
         ("run.sh", b"#!/bin/sh\necho hi\n", 0o755)]


def contents(root: Path) -> dict[str, tuple[bytes | None, int]]:
    out: dict[str, tuple[bytes | None, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            out[rel] = (path.read_bytes() if path.is_file() and not path.is_symlink() else None, st.st_mode)
    return out


@pytest.fixture
def restored(tmp_path: Path) -> tuple[Path, hostws.Restored, dict[str, tuple[bytes | None, int]]]:
    root = tmp_path / "ws"
    root.mkdir()
    state = hostws.restore_files(root, FILES, None)
    return root, state, contents(root)


def test_unchanged_workspace_is_kept_and_extras_go(restored: tuple[Path, hostws.Restored, dict]) -> None:
    root, state, initial = restored
    inode = (root / "input/a.txt").stat().st_ino
    (root / "reward").mkdir()
    (root / "reward/check.py").write_text("print(1)")
    (root / "out.txt").write_text("agent output")
    (root / "input/sub/new").mkdir()
    os.symlink("/etc/passwd", root / "input/link")
    again = hostws.restore_files(root, FILES, None, state)
    assert again is state  # nothing rewritten
    assert (root / "input/a.txt").stat().st_ino == inode
    assert contents(root) == initial


@pytest.mark.parametrize("change", ["same_size_mtime_put_back", "chmod", "deleted", "replaced_by_link",
                                    "hard_link", "dir_mode"])
def test_every_change_is_undone(restored: tuple[Path, hostws.Restored, dict], change: str) -> None:
    """Even a change made at once (within the clock tick of the restore) whose size and mtime are
    put back: ctime gives it away."""
    root, state, initial = restored
    target = root / "input/a.txt"
    st = target.stat()
    if change == "same_size_mtime_put_back":
        target.write_bytes(b"ALPHA\n")
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "chmod":
        target.chmod(0o600)
    elif change == "deleted":
        target.unlink()
    elif change == "replaced_by_link":
        target.unlink()
        os.symlink("/etc/hostname", target)
    elif change == "hard_link":
        os.link(target, root / "elsewhere")
    elif change == "dir_mode":
        (root / "input/sub").chmod(0o700)
    again = hostws.restore_files(root, FILES, None, state)
    assert again is not state
    assert contents(root) == initial


def test_different_files_or_owner_restore_everything(restored: tuple[Path, hostws.Restored, dict]) -> None:
    root, state, _ = restored
    other = [("input/a.txt", b"other\n", 0o644)]
    new = hostws.restore_files(root, other, None, state)
    assert new.files_key != state.files_key
    assert contents(root) == {"input": (None, contents(root)["input"][1]), "input/a.txt": (b"other\n", 0o100644)}


def test_a_changed_task_file_still_raises(tmp_path: Path) -> None:
    """The shortcut does not skip the check that a big input (TaskFile) is still what was loaded."""
    src = tmp_path / "big.bin"
    src.write_bytes(b"0" * 4096)
    files = [("big.bin", TaskFile.of(src), 0o644)]
    root = tmp_path / "ws"
    root.mkdir()
    state = hostws.restore_files(root, files, None)
    assert hostws.restore_files(root, files, None, state) is state
    src.write_bytes(b"1" * 10)
    with pytest.raises(TaskFileChanged):
        hostws.restore_files(root, files, None, state)


def test_episode_edits_never_leak_into_the_next_episode() -> None:
    """Through the env on bwrap: an agent that rewrites an input in place with the same size and puts
    its mtime back, right after reset, still gets the original file in the next episode."""
    task = Task(task_id="restore-check", user_query="edit", metadata={}, input_files={"notes.txt": b"original\n"},
                reward_files={"reward.sh": b"#!/bin/bash\necho 1\n"})
    env = ClawGymEnv(task, max_steps=4)
    try:
        for _ in range(3):
            env.reset(seed=0)
            _, _, _, _, info = env.step({"name": "exec", "arguments": {"command": (
                "cat notes.txt; t=$(stat -c %y notes.txt); printf 'tampered' > notes.txt; "
                "printf '\\n' >> notes.txt; touch -d \"$t\" notes.txt; echo extra > left.txt")}})
            assert info["messages"][-1]["content"].startswith("original")
            env.step({"role": "assistant", "content": "done"})
    finally:
        env.close()
