"""The code verifier contract (DESIGN.md 3 and 4), on real bwrap sandboxes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from clawgym_env.sandbox import SandboxConfig, make_sandbox
from clawgym_env.tasks import Task, load_task
from clawgym_env.verify.code import parse_reward_stdout, run_code_verifier
from clawgym_env.verify.offline import verify_workspace

OFFICIAL_REWARD_SH = (Path(__file__).resolve().parents[2] / "shared" / "datasets" / "clawgym-train" / "task_0009"
                      / "reward" / "reward.sh")


def _task(reward_sh: str, check_py: str | None = None, **kw: object) -> Task:
    files = {"reward.sh": reward_sh.encode()}
    if check_py is not None:
        files["check.py"] = check_py.encode()
    return Task(task_id="t_verify", user_query="q", metadata={"category": ""}, reward_files=files, **kw)


def _official(check_py: str) -> Task:
    return _task(OFFICIAL_REWARD_SH.read_text(), check_py)


@pytest.fixture
def box():
    sb = make_sandbox("bwrap")
    sb.start()
    yield sb
    sb.close()


def test_official_reward_sh_mean_and_subscores(box) -> None:
    task = _official('import json\nprint(json.dumps({"a": 1.0, "b": False, "c": 0.5}))\n')
    res = run_code_verifier(box, task)
    assert res.reward == pytest.approx(0.5)
    assert res.reason is None and res.infra_error is None
    assert res.subscores == {"a": 1.0, "b": False, "c": 0.5}


_WS = "/root/.openclaw/workspace"


@pytest.mark.parametrize("line, status", [
    ("import sys; sys.exit(3)", 3),
    ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + 15),
    ("print('x' * 70000 + '-', flush=True); print('done')", 0),
])
def test_check_py_stdout_and_status_pass_through_unchanged(box, line: str, status: int) -> None:
    """The guard's copy of check.py's stdout (for sub-scores) is invisible to reward.sh: same bytes
    on stdout, same exit status (128 + n for a signal, as the shell reports it)."""
    check = f"import json\nprint(json.dumps({{'a': 1}}), flush=True)\n{line}\n"
    script = (f"python3 {_WS}/reward/check.py > /tmp/o; echo \"status=$? bytes=$(wc -c < /tmp/o)\"; "
              "python3 -c 'import hashlib; print(hashlib.sha256(open(\"/tmp/o\", \"rb\").read()).hexdigest())'; echo 1")
    res = run_code_verifier(box, _task(script, check))
    expected = b'{"a": 1}\n' + (b"x" * 70000 + b"-\ndone\n" if "done" in line else b"")
    lines = res.stdout_tail.splitlines()
    assert lines[0] == f"status={status} bytes={len(expected)}", res
    assert lines[1] == hashlib.sha256(expected).hexdigest()
    assert res.reward == 1.0


def test_check_py_sub_scores_come_from_what_it_prints(box) -> None:
    """Sub-scores are what check.py prints through ``sys.stdout`` (text or bytes); what reaches
    file descriptor 1 another way still counts for the reward, it only has no sub-scores."""
    both = "import sys\nsys.stdout.write('{\"a\": ')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'1}')\n"
    res = run_code_verifier(box, _official(both))
    assert res.reward == 1.0 and res.subscores == {"a": 1}
    child = "import subprocess\nsubprocess.run(['echo', '{\"from_child\": 1}'])\n"
    res = run_code_verifier(box, _official(child))
    assert res.reward == 1.0 and res.subscores is None


def test_check_py_behind_a_reader_that_quits_is_not_stuck(box) -> None:
    """A reader that stops early: check.py gets EPIPE (as it would behind tee), the run ends."""
    check = "import sys\nfor i in range(10**6):\n    print('y' * 100)\n"
    res = run_code_verifier(box, _task(f"python3 {_WS}/reward/check.py | head -c 10 > /dev/null; echo 1", check),
                            timeout_s=20)
    assert res.reward == 1.0 and not res.timed_out, res


@pytest.mark.parametrize(
    "script, reason",
    [
        ("echo 0.7; exit 3", "exited with code 3"),
        ("true", "printed nothing"),
        ("echo fine", "not a number"),
        ("echo nan", "returned 'nan'"),
        ("echo inf", "returned 'inf'"),
    ],
)
def test_failures_score_zero_with_a_reason(box, script: str, reason: str) -> None:
    res = run_code_verifier(box, _task(script))
    assert res.reward == 0.0
    assert reason in (res.reason or "")
    assert res.infra_error is None


def test_last_nonempty_line_wins_and_is_not_clamped(box) -> None:
    res = run_code_verifier(box, _task("echo noise; echo 1.5; echo"))
    assert res.reward == 1.5 and res.reason is None


def test_hanging_verifier_times_out_and_is_killed(box) -> None:
    res = run_code_verifier(box, _task("sleep 100 & sleep 100"), timeout_s=1)
    assert res.reward == 0.0 and res.timed_out
    assert "timed out after 1 s" in (res.reason or "")
    assert res.duration_s < 10


def test_runs_from_root_with_payload_outside_the_workspace(box) -> None:
    script = ('pwd; ls -A /root/.openclaw/workspace; python3 -c "import json,os; p=json.load(open(os.environ[\'OPENCLAW_REWARD_PAYLOAD\'])); '
              'print(sorted(p)); print(p[\'final_message\'])"; echo 1')
    res = run_code_verifier(box, _task(script), final_message="bye", transcript=[{"type": "message"}])
    lines = res.stdout_tail.splitlines()
    assert lines[0] == "/"  # the authors' chroot backend runs reward.sh from / (never the workspace)
    assert lines[1] == "reward"  # nothing but the verifier in the workspace: the payload lives outside it
    assert lines[2] == "['final_message', 'metadata', 'task_id', 'transcript', 'user_query']"
    assert lines[3] == "bye"
    assert res.reward == 1.0


def test_agent_planted_reward_dir_is_replaced(box) -> None:
    ws = box.host_workspace
    (ws / "reward").mkdir()
    (ws / "reward" / "check.py").write_text('print(\'{"hacked": 1}\')')
    (ws / "reward" / "extra.txt").write_text("x")
    task = _official('import json\nprint(json.dumps({"ok": 0}))\n')
    res = run_code_verifier(box, task)
    assert res.reward == 0.0 and res.subscores == {"ok": 0}
    assert sorted(p.name for p in (ws / "reward").iterdir()) == ["check.py", "reward.sh"]


def test_agent_planted_reward_symlink_is_not_followed(box, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep me")
    (box.host_workspace / "reward").symlink_to(outside)
    res = run_code_verifier(box, _task("echo 1"))
    assert res.reward == 1.0
    assert (outside / "keep.txt").read_text() == "keep me"
    assert not (box.host_workspace / "reward").is_symlink()


def test_agent_processes_do_not_survive_into_the_verifier(box) -> None:
    box.exec("setsid sh -c 'while true; do echo 1 > out.txt; sleep 0.01; done' >/dev/null 2>&1 &", timeout_s=5)
    res = run_code_verifier(box, _task("rm -f out.txt; sleep 0.3; if [ -e out.txt ]; then echo 0; else echo 1; fi"))
    assert res.reward == 1.0


def test_verifier_env_is_clean(box) -> None:
    box.exec("echo 'export EVIL=1' >> /root/.bashrc", timeout_s=5)
    res = run_code_verifier(box, _task('env | sort | cut -d= -f1 | tr "\\n" " "; echo; echo 1'))
    keys = res.stdout_tail.splitlines()[0].split()
    assert "EVIL" not in keys
    assert set(keys) <= {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "OPENCLAW_REWARD_PAYLOAD",
                         "CLAWGYM_CHECK_STDOUT", "PYTHONPATH", "CLAWGYM_VERIFIER_WORKSPACE", "PWD", "SHLVL", "_",
                         "OLDPWD"}


def test_broken_sandbox_root_is_an_infra_error() -> None:
    base = Path(tempfile.mkdtemp(prefix="clawgym-test-root-"))
    base.chmod(0o755)
    root = base / "root"
    (root / "usr" / "bin").mkdir(parents=True)  # a root with no bash or python at all
    sb = make_sandbox("bwrap", SandboxConfig(root=root))
    try:
        res = run_code_verifier(sb, _task("echo 1"))
    finally:
        sb.close()
        shutil.rmtree(base)
    assert res.reward == 0.0
    assert res.infra_error and "failed to start" in res.infra_error  # never a silent, clean-looking zero


def test_verify_workspace_on_a_real_task(train_dir: Path, tmp_path: Path) -> None:
    task = load_task(train_dir / "task_0009")
    ws = tmp_path / "ws"
    for rel, data in task.workspace_files().items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_bytes(data)
    before = sorted(os.listdir(ws))
    res = verify_workspace(task, ws)
    assert res.infra_error is None and res.reason is None
    assert res.reward < 0.2 and isinstance(res.subscores, dict) and len(res.subscores) > 3
    assert sorted(os.listdir(ws)) == before  # the given directory is not touched


@pytest.mark.parametrize("text, value", [("0.25\n", 0.25), ("a\n\n1\n\n", 1.0), ("", 0.0), ("x", 0.0), ("-inf", 0.0)])
def test_parse_reward_stdout(text: str, value: float) -> None:
    assert parse_reward_stdout(text)[0] == value


def test_payload_json_is_valid_utf8(box) -> None:
    task = _official("import json,os\np=json.load(open(os.environ['OPENCLAW_REWARD_PAYLOAD'], encoding='utf-8'))\n"
                     "print(json.dumps({'ok': p['final_message'] == 'héllo ✓'}))\n")
    assert run_code_verifier(box, task, final_message="héllo ✓").reward == 1.0
    assert json.dumps  # keep import used
