"""Task model, the official folder format, lazy indexing and byte-identical round trips."""

from __future__ import annotations

import filecmp
import json
import time
from pathlib import Path

import pytest

from clawgym_env.tasks import FolderSource, Task, TaskFormatError, load_task, open_source, write_task


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def test_index_2000_tasks_fast_and_lazy(train_dir: Path) -> None:
    t = time.perf_counter()
    src = FolderSource(train_dir)
    elapsed = time.perf_counter() - t
    assert len(src) == 2000
    assert elapsed < 0.5, f"indexing took {elapsed:.3f} s"
    assert src._cache == {}  # nothing read yet
    assert "LICENSE" not in src.ids()


def test_load_real_task(train_dir: Path) -> None:
    task = open_source(train_dir).load("task_0009")
    assert task.task_id == "task_0009"
    assert task.metadata == {"category": "", "grading_type": "automated"}
    assert task.input_mount_dir == "/root/.openclaw/workspace"
    assert "input/teams.json" in task.workspace_files()
    assert set(task.reward_files) == {"reward.sh", "check.py"}
    assert task.file_modes["reward/reward.sh"] == 0o755


@pytest.mark.parametrize("task_id", ["task_0000", "task_0009", "task_0483", "task_1275", "task_1999"])
def test_round_trip_is_byte_identical(train_dir: Path, tmp_path: Path, task_id: str) -> None:
    task = load_task(train_dir / task_id)
    out = write_task(task, tmp_path)
    assert _same_tree(train_dir / task_id, out)
    assert (out / "reward" / "reward.sh").stat().st_mode & 0o111


def test_round_trip_of_an_edited_task_uses_the_authors_format(train_dir: Path, tmp_path: Path) -> None:
    task = load_task(train_dir / "task_0009")
    edited = task.model_copy(update={"user_query": task.user_query + " Ünïcode stays raw."})
    out = write_task(edited, tmp_path)
    raw = (out / "data_entry.json").read_text(encoding="utf-8")
    assert raw.endswith("}\n") and "Ünïcode" in raw and raw.startswith('{\n  "task_id": "task_0009"')
    assert load_task(out).user_query.endswith("Ünïcode stays raw.")


def _make(tmp_path: Path, entry: object, *, reward: bool = True, inputs: bool = True) -> Path:
    d = tmp_path / "task_x"
    d.mkdir()
    (d / "data_entry.json").write_text(entry if isinstance(entry, str) else json.dumps(entry))
    if inputs:
        (d / "input_files").mkdir()
    if reward:
        (d / "reward").mkdir()
        (d / "reward" / "reward.sh").write_text("echo 1\n")
    return d


GOOD = {"task_id": "t", "user_query": "do it", "metadata": {}, "input_mount_dir": "/root/.openclaw/workspace"}


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("{not json", "data_entry.json: invalid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ({**GOOD, "user_query": None}, "field 'user_query'"),
        ({k: v for k, v in GOOD.items() if k != "task_id"}, "field 'task_id'"),
        ({**GOOD, "metadata": "x"}, "field 'metadata'"),
        ({**GOOD, "input_mount_dir": "/etc"}, "field 'input_mount_dir'"),
    ],
)
def test_broken_data_entry_names_file_and_field(tmp_path: Path, entry: object, expected: str) -> None:
    d = _make(tmp_path, entry)
    with pytest.raises(TaskFormatError, match=expected) as err:
        load_task(d)
    assert str(d / "data_entry.json") in str(err.value)


def test_missing_pieces_are_named(tmp_path: Path) -> None:
    d = _make(tmp_path, GOOD, reward=False)
    with pytest.raises(TaskFormatError, match=r"reward/reward.sh: missing"):
        load_task(d)
    (tmp_path / "b").mkdir()
    no_inputs = _make(tmp_path / "b", GOOD, inputs=False)
    with pytest.raises(TaskFormatError, match="input_mount_dir' is set but"):
        load_task(no_inputs)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TaskFormatError, match="data_entry.json: missing"):
        load_task(tmp_path / "empty")


def test_symlinks_in_task_folders_are_refused(tmp_path: Path) -> None:
    d = _make(tmp_path, GOOD)
    (d / "input_files" / "secret").symlink_to("/etc/hostname")
    with pytest.raises(TaskFormatError, match="symbolic links are not allowed"):
        load_task(d)


def test_paths_must_stay_inside_the_task() -> None:
    with pytest.raises(ValueError, match="must be relative"):
        Task(task_id="t", user_query="q", metadata={}, input_files={"../escape": b""})


def test_empty_suite_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TaskFormatError, match="contains no task folders"):
        FolderSource(tmp_path)
