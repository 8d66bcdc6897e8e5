"""Harbor task folders both ways, in real sandboxes: ``clawgym convert --to harbor`` writes ClawGym
tasks as Harbor folders, the ``harbor`` source kind loads Harbor folders as envs, and the oracle and
no-op rewards stay the same across the trip (built-in tasks, the authors' train tasks, and Harbor
tasks written by hand here, one of them with a Dockerfile whose RUN step only docker applies)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from _backends import docker_unavailable

from clawgym_env.cli import main
from clawgym_env.convert.harbor import harbor_expressible, write_harbor_task
from clawgym_env.paths import WORKSPACE
from clawgym_env.synth.gate import gate_env, play
from clawgym_env.tasks import TaskRef, open_source, write_task
from clawgym_env.tasks.folder import load_task
from clawgym_env.tasks.harbor import HarborSource, parse_dockerfile

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO.parent / "shared" / "datasets" / "clawgym-train"


def scores(task, backend: str = "bwrap") -> tuple[float | None, float]:
    """(oracle reward or None, no-op reward) of ``task``, each one real episode."""
    env = gate_env(task, backend)
    try:
        oracle = play(env, list(task.oracle)).reward if task.oracle else None
        return oracle, play(env, []).reward
    finally:
        env.close()


def _write(root: Path, files: dict[str, str], exe: tuple[str, ...] = ()) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        if rel in exe:
            path.chmod(0o755)
    return root


def hand_task(root: Path, *, reward_json: bool = False) -> Path:
    """A Harbor task as people write them: WORKDIR /app, a pytest-style check file that opens /app
    paths, test.sh writing /logs/verifier/reward.txt (or reward.json), solution/solve.sh."""
    test_sh = ("""
        #!/bin/bash
        cd /app
        python3 /tests/test_outputs.py > /logs/verifier/detail.txt
        if [ $? -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
        """ if not reward_json else """
        #!/bin/bash
        s=0; [ -f /app/sum.txt ] && s=1
        v=0; [ "$(cat /app/sum.txt 2>/dev/null)" = "6" ] && v=1
        python3 -c "import json; json.dump({'reward': ($s + $v) / 2, 'exists': $s, 'value': $v}, open('/logs/verifier/reward.json', 'w'))"
        """)
    return _write(root, {
        "task.toml": """
            version = "1.0"

            [metadata]
            author_name = "ClawGym tests"
            difficulty = "easy"
            category = "file-operations"
            tags = ["arithmetic"]

            [verifier]
            timeout_sec = 60.0

            [agent]
            timeout_sec = 120.0

            [environment]
            build_timeout_sec = 600.0
            cpus = 1
            memory_mb = 2048
            """,
        "instruction.md": "Add up the numbers in /app/numbers.txt and write the sum to /app/sum.txt.\n",
        "environment/Dockerfile": """
            FROM clawgym/sandbox:bookworm
            WORKDIR /app
            COPY numbers.txt /app/numbers.txt
            COPY data/ ./data/
            COPY notes.md /opt/notes.md
            """,
        "environment/numbers.txt": "1\n2\n3\n",
        "environment/data/readme.txt": "the numbers are integers\n",
        "environment/notes.md": "not in the workspace\n",
        "tests/test.sh": test_sh,
        "tests/test_outputs.py": """
            from pathlib import Path
            assert Path("/app/numbers.txt").is_file(), "input gone"
            assert Path("/app/sum.txt").read_text().strip() == "6", "wrong sum"
            print("ok")
            """,
        "solution/solve.sh": """
            #!/bin/bash
            python3 -c "print(sum(int(x) for x in open('/app/numbers.txt').read().split()))" > /app/sum.txt
            """,
    }, exe=("tests/test.sh", "solution/solve.sh"))


def test_dockerfile_plan() -> None:
    plan = parse_dockerfile(textwrap.dedent("""
        FROM python:3.12 AS build
        WORKDIR /src
        COPY . .
        FROM ubuntu:24.04
        # comment
        WORKDIR /app
        RUN apt-get update && \\
            apt-get install -y jq
        COPY ["a.txt", "b.txt", "sub/"]
        COPY --chown=1000 c.txt /app/c.txt
        COPY --from=build /src/out /app/out
        ADD https://example.org/x.tgz /app/
        WORKDIR data
        """))
    assert plan.base_image == "ubuntu:24.04" and plan.workdir == "/app/data"
    assert plan.copies == [("a.txt", "/app/sub/"), ("b.txt", "/app/sub/"), ("c.txt", "/app/c.txt")]
    assert any(u.startswith("RUN apt-get update &&") for u in plan.unmapped)
    assert any("--from=build" in u for u in plan.unmapped) and any("example.org" in u for u in plan.unmapped)


def test_hand_written_harbor_task_loads_and_scores(tmp_path: Path) -> None:
    folder = hand_task(tmp_path / "suite" / "sum-numbers")
    source = open_source(tmp_path / "suite")  # detected: task.toml + instruction.md
    assert isinstance(source, HarborSource) and source.ids() == ["sum-numbers"]
    task = source.load("sum-numbers")
    assert task.user_query == f"Add up the numbers in {WORKSPACE}/numbers.txt and write the sum to {WORKSPACE}/sum.txt.\n"
    assert task.input_files == {"numbers.txt": b"1\n2\n3\n", "data/readme.txt": b"the numbers are integers\n"}
    harbor = task.metadata["harbor"]
    assert harbor["workdir"] == "/app" and harbor["verifier_timeout_sec"] == 60.0
    assert harbor["unmapped"] == ["notes.md -> /opt/notes.md"]
    assert task.metadata["category"] == "file-operations"
    assert b"/tmp/harbor/tests/test_outputs.py" in task.reward_files["tests/test.sh"]
    assert b'Path("/root/.openclaw/workspace/sum.txt")' in task.reward_files["tests/test_outputs.py"]
    assert scores(task) == (1.0, 0.0)

    # a reference names it by kind; it loads again from the reference
    ref = TaskRef.of(source, "sum-numbers")
    assert json.loads(ref.to_json()) == {"kind": "harbor", "path": str((tmp_path / "suite").resolve()), "id": "sum-numbers"}
    assert TaskRef.from_json(ref.to_json()).load().user_query == task.user_query

    # an agent that writes a wrong sum: the test's own failure message is in the verifier's output
    env = gate_env(task, "bwrap")
    try:
        res = play(env, [{"name": "write", "arguments": {"path": "sum.txt", "content": "7\n"}}])
        assert res.reward == 0.0
    finally:
        env.close()

    # Harbor -> ClawGym task folder -> back: the same rewards
    clawgym_dir = write_task(task, tmp_path / "clawgym")
    assert scores(load_task(clawgym_dir)) == (1.0, 0.0)
    # ... and Harbor -> ClawGym -> Harbor again (clawgym convert on a Harbor suite)
    assert main(["convert", str(tmp_path / "suite"), "--to", "harbor", "--out", str(tmp_path / "again"), "--quiet"]) == 0
    again = HarborSource(tmp_path / "again").load("sum-numbers")
    assert scores(again) == (1.0, 0.0)
    assert folder.is_dir()


def test_reward_json_and_subscores(tmp_path: Path) -> None:
    task = HarborSource(hand_task(tmp_path / "t", reward_json=True)).load("t")
    env = gate_env(task, "bwrap")
    try:
        half = play(env, [{"name": "write", "arguments": {"path": "sum.txt", "content": "5"}}])
        assert half.reward == 0.5
        assert half.verifier["subscores"] == {"reward": 0.5, "exists": 1, "value": 0}
        full = play(env, list(task.oracle))
        assert full.reward == 1.0
    finally:
        env.close()


def test_missing_reward_file_is_a_zero_with_the_reason(tmp_path: Path) -> None:
    folder = hand_task(tmp_path / "t")
    (folder / "tests" / "test.sh").write_text("#!/bin/bash\necho 'forgot the reward'\n")
    task = HarborSource(folder).load("t")
    env = gate_env(task, "bwrap")
    try:
        res = play(env, list(task.oracle))
    finally:
        env.close()
    assert res.reward == 0.0
    assert "wrote neither reward.txt nor reward.json" in res.verifier["reason"]


def test_builtin_round_trip(tmp_path: Path) -> None:
    """50 built-in tasks (every category, both step kinds): clawgym convert --to harbor, load the
    folders as envs; oracle and no-op rewards equal the original task's."""
    out = tmp_path / "harbor"
    assert main(["convert", "builtin", "--to", "harbor", "--out", str(out), "--sample", "50", "--quiet"]) == 0
    builtin, harbor = open_source("builtin"), open_source(out)
    assert isinstance(harbor, HarborSource) and len(harbor) == 50
    rows = []
    for task_id in harbor.ids():
        original, loaded = builtin.load(task_id), harbor.load(task_id)
        assert loaded.oracle is not None
        assert loaded.metadata["category"] == original.metadata["category"]
        rows.append((task_id, scores(original), scores(loaded)))
    diffs = [r for r in rows if r[1] != r[2]]
    assert not diffs, diffs
    assert all(r[1] == (1.0, 0.0) for r in rows)  # the gate's contract, so the comparison means something


@pytest.mark.skipif(not TRAIN.is_dir(), reason=f"{TRAIN} (the shared train tasks) is not on this machine")
def test_train_tasks_round_trip(tmp_path: Path) -> None:
    """30 of the authors' train tasks that Harbor can express (no oracle: no-op rewards), and the
    one kind it cannot (a verifier reading the reward payload) reported, not hidden."""
    train = open_source(TRAIN)
    ids = train.ids()[::66][:30]
    assert main(["convert", str(TRAIN), "--to", "harbor", "--out", str(tmp_path / "h"), "--sample", "30",
                 "--quiet"]) == 0
    harbor = HarborSource(tmp_path / "h")
    assert harbor.ids() == ids
    for task_id in ids:
        original = train.load(task_id)
        assert harbor_expressible(original) == (True, None)
        assert scores(harbor.load(task_id)) == scores(original), task_id
    payload_reader = next(t for t in (train.load(i) for i in train.ids())
                          if any(b"OPENCLAW_REWARD_PAYLOAD" in d for d in t.reward_files.values()))
    ok, why = harbor_expressible(payload_reader)
    assert not ok and "reward payload" in why


_DOCKER = docker_unavailable()


@pytest.mark.skipif(_DOCKER is not None, reason=_DOCKER or "")
def test_dockerfile_run_steps_on_docker_only(tmp_path: Path) -> None:
    """A RUN step the verifier depends on: the docker backend builds the task's image (and takes the
    workspace from its WORKDIR), the bwrap backend cannot apply it (documented)."""
    folder = _write(tmp_path / "run-step", {
        "task.toml": 'version = "1.0"\n[metadata]\ncategory = "system"\n',
        "instruction.md": "Copy the secret in /opt/tool/secret to /app/answer.txt.\n",
        "environment/Dockerfile": """
            FROM clawgym/sandbox:bookworm
            WORKDIR /app
            RUN mkdir -p /opt/tool && echo s3cret > /opt/tool/secret && echo built > /app/generated.txt
            """,
        "tests/test.sh": """
            #!/bin/bash
            if [ -f /app/generated.txt ] && [ "$(cat /app/answer.txt)" = "$(cat /opt/tool/secret)" ]; then
              echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
            """,
        "solution/solve.sh": "#!/bin/bash\ncat /opt/tool/secret > /app/answer.txt\n",
    })
    built = HarborSource(folder, build=True).load("run-step")
    assert built.metadata["docker_image"].startswith("clawgym-harbor/run-step:")
    assert built.input_files == {"generated.txt": b"built\n"}
    assert scores(built, "docker") == (1.0, 0.0)
    plain = HarborSource(folder).load("run-step")
    assert any(u.startswith("RUN mkdir -p /opt/tool") for u in plain.metadata["harbor"]["unmapped"])
    assert scores(plain, "bwrap") == (0.0, 0.0)


def _harbor_trial(task_dir: Path, logs: Path, *, oracle: bool) -> float:
    """What Harbor does with a task folder on docker, with plain docker: build environment/, upload
    tests/ (and solution/ for the oracle), run solve.sh then tests/test.sh, read reward.txt."""
    tag = f"clawgym-harbor-trial/{task_dir.name}:latest"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(task_dir / "environment")], check=True,
                   capture_output=True)
    logs.mkdir(parents=True)
    script = ("bash /solution/solve.sh > /dev/null 2>&1; " if oracle else "") + "bash /tests/test.sh"
    subprocess.run(["docker", "run", "--rm", "--network", "none", "-v", f"{task_dir / 'tests'}:/tests:ro",
                    "-v", f"{task_dir / 'solution'}:/solution:ro", "-v", f"{logs}:/logs", tag, "bash", "-c", script],
                   check=True, capture_output=True, timeout=300)
    return float((logs / "verifier" / "reward.txt").read_text())


@pytest.mark.skipif(_DOCKER is not None, reason=_DOCKER or "")
def test_converted_folders_score_the_harbor_way(tmp_path: Path) -> None:
    """The written folders outside ClawGym: a Harbor-style trial on plain docker (no ClawGym code in
    the loop) gives the oracle 1.0 and the untouched workspace 0.0, as the ClawGym env does."""
    builtin = open_source("builtin")
    for task_id in builtin.ids()[::4500][:3]:
        folder = write_harbor_task(builtin.load(task_id), tmp_path / "h")
        assert _harbor_trial(folder, tmp_path / task_id / "oracle", oracle=True) == 1.0
        assert _harbor_trial(folder, tmp_path / task_id / "noop", oracle=False) == 0.0
