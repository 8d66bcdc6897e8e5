"""PinchBench: every shared task loads, fixtures reach the workspace, and the tasks' own grade()
functions score real episodes inside the verifier sandbox (never in the test process)."""

from __future__ import annotations

import ast
import hashlib
import shutil
import time
from pathlib import Path

import gymnasium as gym
import pytest
from conftest import SHARED

import clawgym_env
from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.checks import REWARD_SH
from clawgym_env.tasks import (
    FolderSource,
    PinchBenchSource,
    TaskFormatError,
    load_pinchbench_task,
    load_task,
    open_source,
    write_task,
)
from clawgym_env.tasks.pinchbench import grading_code, split_front_matter, split_sections

PINCH = SHARED / "datasets" / "pinchbench"
DONE = {"role": "assistant", "content": "Done."}


@pytest.fixture(scope="module")
def pinch() -> PinchBenchSource:
    if not (PINCH / "tasks").is_dir():
        pytest.fail(f"the shared PinchBench folder is missing at {PINCH}; CI places ../shared beside the repo")
    return PinchBenchSource(PINCH)


def _episode(task, actions, **kwargs):
    env = ClawGymEnv(task, **kwargs)
    try:
        env.reset(seed=0)
        out = None
        for action in actions:
            out = env.step(action)
            if out[2] or out[3]:
                break
        assert out is not None and (out[2] or out[3]), "the episode did not end"
        return out[1], out[4]
    finally:
        env.close()


# ----------------------------------------------------------------------------- loading
def test_every_shared_task_loads(pinch: PinchBenchSource) -> None:
    files = sorted((PINCH / "tasks").glob("task_*.md"))
    assert len(files) == 12 and len(pinch) == 12 and not pinch.errors
    kinds: dict[str, int] = {}
    for task in pinch:
        meta = task.metadata
        kinds[meta["grading_type"]] = kinds.get(meta["grading_type"], 0) + 1
        assert meta["source"] == "pinchbench" and meta["category"] and meta["timeout_seconds"] > 0
        assert meta["expected_behavior"] and meta["grading_criteria"]
        assert task.reward_files["reward.sh"].decode() == REWARD_SH
        check = task.reward_files["check.py"].decode()
        ast.parse(check)
        md = (PINCH / "tasks" / meta["file"]).read_text()
        code = grading_code(split_sections(split_front_matter(md, meta["file"])[1]).get("Automated Checks"))
        if meta["grading_type"] == "llm_judge":
            assert not code and meta["llm_judge_rubric"]
        else:
            assert code and code in check  # the task's grade(), verbatim
        assert task.user_query == split_sections(split_front_matter(md, "x")[1])["Prompt"]
    assert kinds == {"automated": 7, "llm_judge": 4, "hybrid": 1}
    assert pinch.describe()["grading_types"] == kinds


def test_sections_metadata_and_open_source(pinch: PinchBenchSource) -> None:
    task = pinch.load("task_10_workflow")
    meta = task.metadata
    assert meta["grading_type"] == "hybrid" and meta["grading_weights"] == {"automated": 0.5, "llm_judge": 0.5}
    assert meta["timeout_seconds"] == 300 and meta["category"] == "complex"
    assert [c["name"] for c in meta["rubric_criteria"]] == [
        "Script Quality and Functionality", "Documentation Quality", "Process Understanding", "Overall Completeness"]
    assert meta["rubric_criteria"][0]["weight"] == pytest.approx(0.3)
    assert len(meta["grading_criteria"]) == 10 and meta["grading_criteria"][1].startswith("Python script file created")
    assert task.user_query.startswith("Read config.json, extract the API endpoint")
    assert b'"endpoint": "https://api.example.com/v2/data"' in task.input_files["config.json"]
    # the last block scalar before the closing '---' loses its final newline, in PinchBench's loader too
    assert task.input_files["config.json"].endswith(b"}")
    for path in (PINCH, PINCH / "tasks", PINCH / "tasks" / "task_00_sanity.md"):
        src = open_source(path)
        assert isinstance(src, PinchBenchSource) and "task_00_sanity" in src.ids()
    assert len(open_source(PINCH / "tasks" / "task_00_sanity.md")) == 1


def _write_md(path: Path, task_id: str, *, front: str = "", grade: str | None = None, extra: str = "") -> Path:
    grade = grade if grade is not None else (
        "def grade(transcript: list, workspace_path: str) -> dict:\n"
        "    from pathlib import Path\n"
        "    return {'done': 1.0 if (Path(workspace_path) / 'out.txt').exists() else 0.0}\n")
    path.write_text(
        f"---\nid: {task_id}\nname: Test\ncategory: test\ngrading_type: automated\ntimeout_seconds: 60\n{front}---\n\n"
        f"## Prompt\n\nDo the thing for {task_id}.\n\n## Expected Behavior\n\nIt does the thing.\n\n"
        f"## Grading Criteria\n\n- [ ] thing done\n\n## Automated Checks\n\n```python\n{grade}```\n{extra}")
    return path


def test_ids_assets_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "assets").mkdir()
    for name in ("company_expenses.xlsx", "quarterly_sales.csv"):
        shutil.copy(PINCH / "assets" / name, tmp_path / "assets" / name)
    front = ("grading_weights:\n  automated: 0.6\n  llm_judge: 0.4\nworkspace_files:\n"
             "  - source: company_expenses.xlsx\n    dest: data/company_expenses.xlsx\n"
             "  - source: assets/quarterly_sales.csv\n    dest: quarterly_sales.csv\n"
             "  - path: \"notes/inline.txt\"\n    content: |\n      line one\n      line two\n")
    _write_md(tmp_path / "tasks" / "task_18_market_research.md", "task_16_market_research", front=front)
    _write_md(tmp_path / "tasks" / "task_XX_template.md", "task_XX_name")
    (tmp_path / "tasks" / "task_99_broken.md").write_text("no front matter here\n")
    src = PinchBenchSource(tmp_path)
    assert src.ids() == ["task_16_market_research"]  # the front-matter id, not the file name
    assert list(src.errors) == [str(tmp_path / "tasks" / "task_99_broken.md")]
    task = src.load("task_18_market_research")  # the file stem works too
    assert task.task_id == "task_16_market_research" and src.load("task_16_market_research") is task
    assert task.metadata["grading_weights"] == {"automated": 0.6, "llm_judge": 0.4}
    assert task.input_files["data/company_expenses.xlsx"] == (PINCH / "assets" / "company_expenses.xlsx").read_bytes()
    assert task.input_files["quarterly_sales.csv"] == (PINCH / "assets" / "quarterly_sales.csv").read_bytes()
    assert task.input_files["notes/inline.txt"] == b"line one\nline two"  # last block before ---

    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(TaskFormatError, match="not found"):
        load_pinchbench_task(_write_md(bad / "task_a.md", "task_a", front="workspace_files:\n  - source: nope.csv\n    dest: x\n"),
                             tmp_path / "assets")
    with pytest.raises(TaskFormatError, match="relative"):
        load_pinchbench_task(_write_md(bad / "task_b.md", "task_b", front="workspace_files:\n  - path: ../escape.txt\n    content: x\n"))
    with pytest.raises(TaskFormatError, match="not found"):  # an asset path may not leave assets/
        load_pinchbench_task(_write_md(bad / "task_c.md", "task_c", front="workspace_files:\n  - source: ../tasks/task_18_market_research.md\n    dest: x\n"),
                             tmp_path / "assets")
    with pytest.raises(TaskFormatError, match="do not parse"):
        load_pinchbench_task(_write_md(bad / "task_d.md", "task_d", grade="def grade(:\n"))


def test_fixtures_land_in_workspace_and_round_trip(tmp_path: Path, pinch: PinchBenchSource) -> None:
    (tmp_path / "assets").mkdir()
    shutil.copy(PINCH / "assets" / "company_expenses.xlsx", tmp_path / "assets")
    md = _write_md(tmp_path / "task_fx.md", "task_fx", front="workspace_files:\n  - source: company_expenses.xlsx\n    dest: in/x.xlsx\n")
    task = load_pinchbench_task(md, tmp_path / "assets")
    xlsx = (PINCH / "assets" / "company_expenses.xlsx").read_bytes()
    env = ClawGymEnv(task)
    try:
        env.reset(seed=0)
        assert env.sandbox is not None and (env.sandbox.host_workspace / "in" / "x.xlsx").read_bytes() == xlsx
        obs, *_ = env.step({"name": "exec", "arguments": {"command": "sha256sum in/x.xlsx"}})
        assert hashlib.sha256(xlsx).hexdigest() in obs
    finally:
        env.close()
    # a PinchBench task written as a ClawGym task folder loads back unchanged
    folder = write_task(pinch.load("task_08_memory"), tmp_path / "out")
    back = load_task(folder)
    orig = pinch.load("task_08_memory")
    assert (back.task_id, back.user_query, back.metadata) == (orig.task_id, orig.user_query, orig.metadata)
    assert back.input_files == orig.input_files and back.reward_files == orig.reward_files
    assert isinstance(open_source(tmp_path / "out"), FolderSource)


# ----------------------------------------------------------------------------- scoring real episodes
def test_sanity_task_through_gym_make(pinch: PinchBenchSource) -> None:
    ids = clawgym_env.register_suite(PINCH, namespace="PinchBench")
    assert "PinchBench/task_00_sanity" in ids and len(ids) == 12
    env = gym.make("PinchBench/task_00_sanity")
    try:
        obs, _ = env.reset(seed=0)
        assert obs == 'Say "Hello, I\'m ready!" to confirm you can respond.'
        _, reward, terminated, _, info = env.step({"role": "assistant", "content": "Hello, I'm ready!"})
        assert terminated and reward == 1.0 and info["subscores"] == {"agent_responded": 1.0}
        assert info["code_score"] == 1.0 and info["rubric"] is None and not info["unscored"]
        env.reset(seed=0)
        _, reward, *_ , info = env.step({"role": "assistant", "content": ""})  # no-op: no assistant content
        assert reward == 0.0 and info["verifier"]["reason"] is None
    finally:
        env.close()


def test_file_task_scored_by_its_grader(pinch: PinchBenchSource) -> None:
    task = pinch.load("task_09_files")
    actions = [
        {"name": "write", "arguments": {"path": "src/main.py", "content": 'print("Hello, world!")\n'}},
        {"name": "write", "arguments": {"path": "README.md", "content": "# My Project\n\nA demo.\n"}},
        {"name": "write", "arguments": {"path": ".gitignore", "content": "__pycache__/\n"}},
        DONE,
    ]
    reward, info = _episode(task, actions)
    assert reward == 1.0 and set(info["subscores"].values()) == {1.0} and len(info["subscores"]) == 7
    reward, info = _episode(task, [DONE])
    assert reward == 0.0 and info["verifier"]["reason"] is None


def test_transcript_grader_and_tool_name_quirk(pinch: PinchBenchSource) -> None:
    """task_08 looks for a ``read_file`` call with ``params``: OpenClaw's ``read`` never matches,
    so a perfect episode scores 4/5 here, as it does in PinchBench with OpenClaw."""
    actions = [
        {"name": "read", "arguments": {"path": "notes.md"}},
        {"name": "write", "arguments": {"path": "answer.txt", "content": "The beta release deadline is June 1, 2024.\n"}},
        DONE,
    ]
    reward, info = _episode(pinch.load("task_08_memory"), actions)
    assert reward == pytest.approx(0.8)
    assert info["subscores"]["read_notes"] == 0.0 and info["subscores"]["correct_date"] == 1.0


# ----------------------------------------------------------------------------- hostile graders
def test_grader_cannot_touch_the_host(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret 42\n")
    secret.chmod(0o644)
    planted = tmp_path / "planted.txt"
    grade = (
        "def grade(transcript, workspace_path):\n"
        "    import os, sys\n"
        "    read = wrote = 0.0\n"
        "    try:\n"
        f"        read = 1.0 if 'host secret' in open({str(secret)!r}).read() else 0.0\n"
        "    except OSError as exc:\n"
        "        print('read failed:', exc, file=sys.stderr)\n"
        "    try:\n"
        f"        open({str(planted)!r}, 'w').write('pwned')\n"
        "        wrote = 1.0\n"
        "    except OSError as exc:\n"
        "        print('write failed:', exc, file=sys.stderr)\n"
        "    home = 1.0 if os.path.exists('/work') or os.path.exists('/home') and os.listdir('/home') else 0.0\n"
        "    return {'read_host': read, 'wrote_host': wrote, 'saw_host_dirs': home}\n")
    task = load_pinchbench_task(_write_md(tmp_path / "task_evil.md", "task_evil", grade=grade))
    reward, info = _episode(task, [DONE])
    assert info["subscores"] == {"read_host": 0.0, "wrote_host": 0.0, "saw_host_dirs": 0.0}
    assert reward == 0.0 and info["infra_error"] is None
    assert not planted.exists() and secret.read_text() == "host secret 42\n"


def test_grader_that_hangs_is_killed_at_the_verifier_timeout(tmp_path: Path) -> None:
    grade = "def grade(transcript, workspace_path):\n    while True:\n        pass\n"
    task = load_pinchbench_task(_write_md(tmp_path / "task_hang.md", "task_hang", grade=grade))
    env = ClawGymEnv(task, verifier_timeout_s=2)
    try:
        env.reset(seed=0)
        start = time.monotonic()
        _, reward, *_, info = env.step(DONE)
        assert time.monotonic() - start < 15
        assert reward == 0.0 and info["verifier"]["timed_out"] and "timed out" in info["verifier"]["reason"]
        assert info["infra_error"] is None
        env.reset(seed=0)  # the env is still usable
        env.step({"name": "write", "arguments": {"path": "x", "content": "y"}})
    finally:
        env.close()


@pytest.mark.parametrize("body,expected,reason", [
    ("    print('chatty grader')\n    return {'a': 1, 'b': True, 'note': 'text', 'c': 0.5}\n", 2.5 / 3, None),
    ("    return ['not', 'a', 'dict']\n", 0.0, None),
    ("    raise RuntimeError('grader bug')\n", 0.0, "exited with code"),
])
def test_grader_output_rules(tmp_path: Path, body: str, expected: float, reason: str | None) -> None:
    """Numeric values are averaged (bools as 0/1, others dropped), stray prints do not break the
    JSON, a non-dict scores 0, a crashing grader scores 0 with the reason."""
    task = load_pinchbench_task(_write_md(tmp_path / "task_out.md", "task_out",
                                          grade=f"def grade(transcript, workspace_path):\n{body}"))
    reward, info = _episode(task, [DONE])
    assert reward == pytest.approx(expected)
    if reason is None:
        assert info["verifier"]["reason"] is None
    else:
        assert reason in info["verifier"]["reason"] and "grader bug" in info["verifier"]["reason"]
