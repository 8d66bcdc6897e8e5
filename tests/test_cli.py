"""The `clawgym` command, run as users run it (the installed console script)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def clawgym(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(["clawgym", *args], capture_output=True, text=True, cwd=REPO, timeout=600)
    if check:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


def test_list(train_dir: Path) -> None:
    res = clawgym("list", str(train_dir), "--limit", "3")
    assert res.stdout.split() == ["task_0000", "task_0001", "task_0002"]
    assert "2000 tasks" in res.stderr


def test_show(train_dir: Path) -> None:
    res = clawgym("show", str(train_dir / "task_0009"))
    assert "task_id:   task_0009" in res.stdout and "input/teams.json" in res.stdout
    data = json.loads(clawgym("show", f"{train_dir}:task_0009", "--json").stdout)
    assert data["task_id"] == "task_0009" and data["reward_files"] == ["check.py", "reward.sh"]


def test_run_prints_transcript_and_reward(train_dir: Path, tmp_path: Path) -> None:
    actions = tmp_path / "a.json"
    actions.write_text(json.dumps([{"name": "exec", "arguments": {"command": "ls input"}}]))
    res = clawgym("run", str(train_dir / "task_0009"), "--actions", str(actions))
    assert "[call] exec(" in res.stdout and "teams.json" in res.stdout
    assert res.stdout.strip().splitlines()[-1].startswith("reward: 0.")


def test_run_with_openclaw_version_and_rl_profile(train_dir: Path, tmp_path: Path) -> None:
    actions = tmp_path / "a.json"
    actions.write_text(json.dumps([
        {"name": "write", "arguments": {"path": "v.txt", "content": "one"}},
        {"name": "edit", "arguments": {"path": "v.txt", "edits": [{"oldText": "one", "newText": "1"}]}},
        {"name": "cron", "arguments": {"action": "list"}},
    ]))
    res = clawgym("run", str(train_dir / "task_0009"), "--actions", str(actions), "--profile", "rl",
                  "--openclaw-version", "2026.4.1")
    assert "Successfully replaced 1 block(s) in v.txt." in res.stdout
    assert "gateway closed" in res.stdout  # cron needs the gateway, which a sandbox does not run
    bad = clawgym("run", str(train_dir / "task_0009"), "--openclaw-version", "2025.1.1", check=False)
    assert bad.returncode == 2 and "invalid choice: '2025.1.1'" in bad.stderr


def test_verify(train_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    res = clawgym("verify", str(train_dir / "task_0009"), "--workspace", str(tmp_path), "--json")
    data = json.loads(res.stdout)
    assert data["reward"] == 0.0 and data["infra_error"] is None and data["subscores"]


def test_noop_command(train_dir: Path) -> None:
    res = clawgym("noop", str(train_dir), "--limit", "4", "--quiet")
    assert "tasks: 4  crashes: 0" in res.stdout and "mismatches: 0" in res.stdout


def test_bad_task_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    res = clawgym("show", str(tmp_path / "t"), check=False)
    assert res.returncode == 2 and "data_entry.json: missing" in res.stderr
