"""Issue 11, item 11: a 2 GiB task input file is not buffered whole by the driver.

A task folder with a sparse 2 GiB input (``os.truncate``: no disk, but a real head and tail so
content checks mean something) goes through ``load_task`` and a real env on bwrap and docker:
the workspace gets the file (size, content at the checked offsets, mode, holes kept), the ``read``
tool pages into it, the episode scores, the agent cannot reach the task folder through it, reset
restores it, close removes it, and the driver's Python heap stays small throughout.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from _backends import BACKENDS

from clawgym_env.env import ClawGymEnv
from clawgym_env.tasks import TaskFile, TaskFileChanged, load_task, write_task
from clawgym_env.tasks import files as task_files

BIG = 2 << 30
HEAD = b"".join(f"head-{i}\n".encode() for i in range(10))
TAIL = b"\n" + b"".join(f"tail-{i}\n".encode() for i in range(5))
REL = "data/big.bin"
WS = "/root/.openclaw/workspace"
PEAK_LIMIT = 64 << 20

REWARD_SH = f"""#!/usr/bin/env bash
set -euo pipefail
python3 - <<'EOF'
import os
p = "{WS}/{REL}"
ok = os.path.getsize(p) == {BIG}
with open(p, "rb") as f:
    ok = ok and f.read({len(HEAD)}) == {HEAD!r}
    f.seek(-{len(TAIL)}, 2)
    ok = ok and f.read() == {TAIL!r}
print(1.0 if ok else 0.0)
EOF
"""


def make_big_task(root: Path, size: int = BIG) -> Path:
    """A task folder whose ``input_files/data/big.bin`` is ``size`` bytes: HEAD, a hole, TAIL."""
    task = root / "big_task"
    (task / "input_files" / "data").mkdir(parents=True)
    (task / "reward").mkdir()
    (task / "data_entry.json").write_text(json.dumps(
        {"task_id": "big_task", "user_query": "Look at data/big.bin.", "metadata": {"category": "test"}}))
    (task / "reward" / "reward.sh").write_text(REWARD_SH.replace(str(BIG), str(size)))
    (task / "input_files" / "notes.txt").write_text("small input, kept in memory\n")
    run = task / "input_files" / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)
    with open(task / "input_files" / REL, "wb") as f:
        f.write(HEAD)
        os.truncate(f.fileno(), size - len(TAIL))
        f.seek(0, os.SEEK_END)
        f.write(TAIL)
    return task


def check_big_file(path: Path, size: int = BIG) -> None:
    """Size, head and tail right, and the hole still a hole (far less disk than bytes)."""
    st = path.stat()
    assert st.st_size == size
    with open(path, "rb") as f:
        assert f.read(len(HEAD)) == HEAD
        f.seek(size // 2)
        assert f.read(16) == b"\0" * 16
        f.seek(-len(TAIL), os.SEEK_END)
        assert f.read() == TAIL
    assert st.st_blocks * 512 < 16 << 20, f"the copy takes {st.st_blocks * 512} bytes of disk: holes were filled"


@pytest.fixture(scope="module")
def big_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_big_task(tmp_path_factory.mktemp("bigtask"))


def _call(name: str, **arguments: object) -> dict[str, object]:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_2gib_input_is_streamed_not_buffered(big_task: Path, backend: str) -> None:
    source = big_task / "input_files" / REL
    tracemalloc.start()
    try:
        task = load_task(big_task)
        assert isinstance(task.input_files[REL], TaskFile) and task.input_files[REL].size == BIG
        assert isinstance(task.input_files["notes.txt"], bytes)  # small files stay in memory
        env = ClawGymEnv(task, backend=backend)
        try:
            env.reset(seed=0)
            assert env.sandbox is not None
            ws = env.sandbox.host_workspace
            check_big_file(ws / REL)
            assert stat.S_IMODE((ws / "run.sh").stat().st_mode) == 0o755
            assert (ws / "notes.txt").read_bytes() == b"small input, kept in memory\n"

            # the read tool pages into the far end of the file (line 11 is the 2 GiB hole)
            obs, _, _, _, info = env.step(_call("read", path=REL, offset=12, limit=5))
            assert info["infra_error"] is None
            assert all(f"tail-{i}" in obs for i in range(5)), obs[:500]
            obs, _, _, _, _ = env.step(_call("read", path=REL, offset=2, limit=2))
            assert "head-1" in obs and "head-2" in obs and "head-3" not in obs, obs[:500]

            _, reward, terminated, _, info = env.step({"role": "assistant", "content": "Done."})
            assert terminated and info["infra_error"] is None
            assert reward == 1.0, info

            # episode 2: the agent overwrites the file in place; the task folder must not see it
            env.reset()
            check_big_file(ws / REL)
            obs, _, _, _, info = env.step(_call(
                "exec", command=f"printf HACKED | dd of={REL} conv=notrunc 2>/dev/null; head -c 6 {REL}"))
            assert info["infra_error"] is None and "HACKED" in obs, obs
            env.step(_call("write", path=REL, content="gone"))
            assert (ws / REL).read_bytes() == b"gone"
            check_big_file(source)

            env.reset()  # restored again, from the untouched task folder
            check_big_file(ws / REL)
        finally:
            env.close()
        assert not ws.exists(), "close must remove the workspace (and its 2 GiB file)"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"driver Python heap peaked at {peak / 2**20:.0f} MiB for a 2 GiB input"


_RSS_SCRIPT = textwrap.dedent("""
    import sys, time
    from clawgym_env.env import ClawGymEnv
    from clawgym_env.tasks import load_task

    def hwm_kib():  # this process's peak RSS (ru_maxrss would carry over pytest's own peak through fork)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

    base = hwm_kib()
    env = ClawGymEnv(load_task(sys.argv[1]), backend="bwrap")
    t = time.perf_counter(); env.reset(); first = time.perf_counter() - t
    env.step({"role": "assistant", "content": "Done."})
    t = time.perf_counter(); env.reset(); again = time.perf_counter() - t
    env.close()
    print(hwm_kib() - base, f"{first:.3f} {again:.3f}", base)
""")


def test_driver_rss_stays_small(big_task: Path) -> None:
    """The same, measured as the driver process's peak RSS (C allocations included)."""
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(big_task)], check=True,
                         capture_output=True, text=True, timeout=300).stdout.split()
    grew_kib, first_s, again_s, base_kib = int(out[0]), float(out[1]), float(out[2]), int(out[3])
    print(f"driver peak RSS {base_kib / 1024:.0f} MiB after imports, grew {grew_kib / 1024:.1f} MiB; "
          f"reset {first_s:.3f} s, reset after an episode {again_s:.3f} s")
    assert grew_kib * 1024 < PEAK_LIMIT, f"driver RSS grew {grew_kib / 1024:.0f} MiB for a 2 GiB input"


# ----------------------------------------------------------------------------- TaskFile itself
SMALL = 5 << 20  # big enough for several extents, small enough to compare byte for byte


def _holey(path: Path) -> bytes:
    """Add 64 KiB of data in the middle of a file made by make_big_task; return the full content."""
    with open(path, "r+b") as f:
        f.seek(SMALL // 2)
        f.write(b"M" * 65536)
    return path.read_bytes()


def test_write_task_round_trip_is_byte_identical(tmp_path: Path) -> None:
    src = make_big_task(tmp_path / "a", SMALL)
    content = _holey(src / "input_files" / REL)
    task = load_task(src, lazy_bytes=1 << 20)
    assert isinstance(task.input_files[REL], TaskFile)
    out = write_task(task, tmp_path / "b")
    for rel in ("input_files/" + REL, "input_files/run.sh", "input_files/notes.txt", "reward/reward.sh",
                "data_entry.json"):
        assert (out / rel).read_bytes() == (src / rel).read_bytes(), rel
        assert (out / rel).stat().st_mode == (src / rel).stat().st_mode, rel
    assert (out / "input_files" / REL).stat().st_blocks * 512 < 1 << 20  # holes kept
    # writing a task onto its own folder leaves the big file intact (no truncate-then-copy-nothing)
    write_task(task, tmp_path / "a", overwrite=True)
    assert (src / "input_files" / REL).read_bytes() == content


@pytest.mark.parametrize("mode", ["kernel", "no copy_file_range", "no SEEK_DATA"])
def test_copy_fallbacks_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    src = make_big_task(tmp_path, SMALL) / "input_files" / REL
    content = _holey(src)
    if mode == "no copy_file_range":
        def no_cfr(*_: object) -> int:
            raise OSError(errno.EXDEV, "cross-device")
        monkeypatch.setattr(task_files.os, "copy_file_range", no_cfr)
    elif mode == "no SEEK_DATA":
        real = os.lseek

        def lseek(fd: int, pos: int, how: int) -> int:
            if how in (os.SEEK_DATA, os.SEEK_HOLE):
                raise OSError(errno.EINVAL, "unsupported")
            return real(fd, pos, how)
        monkeypatch.setattr(task_files.os, "lseek", lseek)
    dest = tmp_path / "copy"
    TaskFile.of(src).copy_to(dest)
    assert dest.read_bytes() == content
    if mode != "no SEEK_DATA":
        assert dest.stat().st_blocks * 512 < 1 << 20


def test_changed_or_linked_source_is_refused(tmp_path: Path) -> None:
    src = make_big_task(tmp_path, SMALL) / "input_files" / REL
    ref = TaskFile.of(src)
    with open(src, "ab") as f:
        f.write(b"more")
    with pytest.raises(TaskFileChanged, match="changed since the task was loaded"):
        ref.copy_to(tmp_path / "copy")
    with pytest.raises(TaskFileChanged):
        ref.read_bytes()
    # a link planted at the destination is not followed
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError):
        TaskFile.of(src).copy_to(tmp_path / "link")
    assert target.read_bytes() == b"keep"


def test_show_sizes_big_inputs_without_reading(big_task: Path) -> None:
    """``clawgym show`` reports the inputs' total size from the sizes, not by reading them."""
    script = ("import sys; from clawgym_env.cli import main; rc = main(['show', sys.argv[1]]); "
              "print('maxrss', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))); "
              "sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", script, str(big_task)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    total = sum(p.stat().st_size for p in (big_task / "input_files").rglob("*") if p.is_file())
    assert f"inputs:    3 files, {total} bytes" in out, out
    assert f"  {REL}" in out
    maxrss_kib = int(out.split("maxrss")[1])
    assert maxrss_kib * 1024 < 512 << 20, f"clawgym show peaked at {maxrss_kib / 1024:.0f} MiB RSS"
