"""Task suites as Hugging Face datasets (issue 17 item 3): ``clawgym convert --to hf-dataset`` and the
``hf`` task source. Round trips through real ``datasets`` files, scored in real bwrap sandboxes."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from conftest import REPO

from clawgym_env import register_suite
from clawgym_env.agents.oracle import OracleAgent
from clawgym_env.convert.hf import write_hf_dataset
from clawgym_env.env import ClawGymEnv
from clawgym_env.paths import WORKSPACE
from clawgym_env.tasks import Task, TaskFormatError, TaskRef, open_source, write_task
from clawgym_env.tasks.hf import COLUMNS, HFSource, require_datasets, row_to_task
from clawgym_env.tasks.reward_template import REWARD_SH
from clawgym_env.verify.hybrid import rubric_plan

datasets = pytest.importorskip("datasets", reason="pip install 'clawgym[train]'")


def fields(task: Task) -> dict[str, Any]:
    """Everything a Task holds except where it was loaded from (``source``, the raw data_entry bytes)."""
    return task.model_dump(exclude={"source", "raw_data_entry"})


def noop_reward(task: Task) -> float:
    env = ClawGymEnv(task)
    try:
        env.reset(seed=0)
        return env.finish("noop").reward
    finally:
        env.close()


def oracle_reward(task: Task) -> float:
    env = ClawGymEnv(task)
    try:
        reward, info = OracleAgent(task).run_episode(env)
        assert info["infra_error"] is None
        return reward
    finally:
        env.close()


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


@pytest.fixture(scope="module")
def builtin_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[str], Path]:
    src = open_source("builtin")
    ids = src.ids()[:: len(src) // 50][:50]
    out = tmp_path_factory.mktemp("hf") / "builtin-50"
    summary = write_hf_dataset(src, out, ids)
    assert summary["rows"] == 50 and summary["bytes"] > 0
    return src, ids, out


def test_builtin_round_trip_gives_the_same_tasks_and_rewards(builtin_dataset: tuple[Any, list[str], Path]) -> None:
    src, ids, out = builtin_dataset
    loaded = open_source(out)  # a saved dataset's folder is detected as the hf kind
    assert isinstance(loaded, HFSource) and loaded.ids() == ids
    pairs = [(src.load(task_id), loaded.load(task_id)) for task_id in ids]
    for a, b in pairs:
        assert fields(a) == fields(b), a.task_id  # files byte-equal, modes, metadata, oracle, outputs

    def rewards(task: Task) -> tuple[float, float]:
        return oracle_reward(task), noop_reward(task)

    with ThreadPoolExecutor(max_workers=4) as pool:  # each episode mostly waits on its sandbox
        scored = list(pool.map(rewards, [t for pair in pairs for t in pair]))
    for (a, _), before, after in zip(pairs, scored[::2], scored[1::2], strict=True):
        assert after == before and before[0] == 1.0, (a.task_id, before, after)


def test_binary_files_modes_and_rubrics_round_trip(tmp_path: Path) -> None:
    """What the built-in suite does not exercise (its .png/.xlsx are text placeholders, as the authors'
    are): real binary bytes, an executable input, an input file under reward/, extra data_entry keys,
    and a rubric in each place data_entry may hold one."""
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(png, format="PNG")
    base = open_source("builtin").load("task-0042")
    variants = {
        "bin": {"input_files": {**base.input_files, "img/real.png": png.getvalue(), "raw.bin": bytes(range(256)),
                                "run.sh": b"#!/bin/sh\necho hi\n", "reward/notes.txt": b"an input, not the verifier"},
                "file_modes": {**base.file_modes, "input_files/run.sh": 0o755}, "extra": {"validation_mode": "code"}},
        "top": {"extra": {"rules": RULES, "reward_aggregation": "average_code_and_rubric"}},
        "meta-rules": {"metadata": {**base.metadata, "rules": RULES}},
        "meta-rule": {"metadata": {**base.metadata, "rule": "Judge output/summary.md for clarity."}},
    }
    tasks = [base.model_copy(update={"task_id": name, **update}) for name, update in variants.items()]
    write_hf_dataset(_ListSource(tasks), tmp_path / "ds")
    row = datasets.load_from_disk(str(tmp_path / "ds"))[0]
    files = {f["file_path"]: f for f in row["input_files"]}
    assert files["raw.bin"]["content"] is None and files["raw.bin"]["content_bytes"] == bytes(range(256))
    assert files["img/real.png"]["content_bytes"] == png.getvalue() and files["run.sh"]["mode"] == 0o755
    assert files["reward/notes.txt"]["role"] == "input"
    loaded = open_source(tmp_path / "ds")
    for task in tasks:
        back = loaded.load(task.task_id)
        assert fields(back) == fields(task), task.task_id
        assert (rubric_plan(back) is None) == (rubric_plan(task) is None)
    assert [r["rule_field"] for r in datasets.load_from_disk(str(tmp_path / "ds"))] == \
        [None, "rules", "metadata.rules", "metadata.rule"]
    bin_task = loaded.load("bin")
    assert noop_reward(bin_task) == noop_reward(base) and oracle_reward(bin_task) == 1.0


class _ListSource:
    """A suite of in-memory tasks (the TaskSource protocol)."""

    name = "list"

    def __init__(self, tasks: list[Task]):
        self._tasks = {t.task_id: t for t in tasks}

    def ids(self) -> list[str]:
        return list(self._tasks)

    def load(self, task_id: str) -> Task:
        return self._tasks[task_id]

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Any:
        return iter(self._tasks.values())


def test_saved_rows_follow_the_authors_layout(builtin_dataset: tuple[Any, list[str], Path]) -> None:
    _, ids, out = builtin_dataset
    ds = datasets.load_from_disk(str(out))
    assert tuple(ds.column_names) == COLUMNS and len(ds) == len(ids)
    row = ds[0]
    assert row["prompt"] and row["origin_template"] == f"id: {ids[0]}\n" and row["hook_code"] == "bash reward/reward.sh"
    files = {f["file_path"]: f for f in row["input_files"]}
    assert files["reward/reward.sh"]["role"] == "reward" and files["reward/reward.sh"]["content"] == REWARD_SH
    assert files["reward/reward.sh"]["mode"] == 0o755 and "reward/check.py" in files
    assert all(f["content_bytes"] is None for f in row["input_files"])  # every file here is UTF-8 text
    assert isinstance(row["metadata"], dict) and row["metadata"]["generator_version"] == "builtin-v2"
    assert isinstance(row["oracle"], list) and row["oracle"]
    # read by a tool that drops the Json feature (JSON columns as text), the row still gives the task
    plain = {k: json.dumps(v) if k in ("metadata", "data_entry_extra", "oracle", "oracle_outputs") else v
             for k, v in row.items()}
    assert fields(row_to_task(plain)) == fields(open_source("builtin").load(ids[0]))


def test_shared_train_round_trip(train_dir: Path, tmp_path: Path) -> None:
    src = open_source(train_dir)
    ids = src.ids()[::20]  # 100 tasks spread over the 2,000
    write_hf_dataset(src, tmp_path / "train-100", ids)
    loaded = open_source(f"hf:{tmp_path / 'train-100'}")
    assert isinstance(loaded, HFSource) and loaded.ids() == ids
    for task_id in ids:
        a, b = src.load(task_id), loaded.load(task_id)
        assert fields(a) == fields(b), task_id
        # written back as a task folder, the dataset's task is the shipped folder byte for byte
        assert same_tree(train_dir / task_id, write_task(b, tmp_path / "back")), task_id
    for task_id in ids[::10]:
        assert noop_reward(loaded.load(task_id)) == noop_reward(src.load(task_id)), task_id


def test_register_suite_task_refs_and_a_hub_repository_on_disk(builtin_dataset: tuple[Any, list[str], Path],
                                                               tmp_path: Path) -> None:
    src, ids, out = builtin_dataset
    env_ids = register_suite(f"hf:{out}", namespace="HFSuite")
    assert env_ids == [f"HFSuite/{i}" for i in ids]
    env = gym.make(env_ids[3])
    try:
        assert fields(env.unwrapped.task) == fields(src.load(ids[3]))
        reward, _ = OracleAgent(env.unwrapped.task).run_episode(env)
        assert reward == 1.0
    finally:
        env.close()
    # references name the dataset (kind hf), survive JSON, and load the same task elsewhere
    loaded = open_source(out)
    ref = TaskRef.of(loaded, ids[1])
    assert ref.to_dict() == {"kind": "hf", "path": str(out.resolve()), "id": ids[1]}
    assert fields(TaskRef.from_json(ref.to_json()).load()) == fields(src.load(ids[1]))
    assert fields(TaskRef.parse(f"hf:{out}:{ids[2]}").load()) == fields(src.load(ids[2]))
    # what `push_to_hub` uploads (parquet shards under data/), cloned to disk: read by datasets.load_dataset
    repo = tmp_path / "repo"
    datasets.load_from_disk(str(out)).to_parquet(str(repo / "data" / "train-00000-of-00001.parquet"))
    hub = open_source(f"hf:{repo}")
    assert hub.ids() == ids and all(fields(hub.load(i)) == fields(src.load(i)) for i in ids[:10])


HUB_SCRIPT = textwrap.dedent("""
    import json, sys
    import datasets
    from datasets.packaged_modules.generator.generator import Generator
    from clawgym_env import register_suite
    from clawgym_env.tasks import TaskFormatError, open_source
    import gymnasium as gym

    saved, repo = sys.argv[1], sys.argv[2]
    rows = datasets.load_from_disk(saved)
    # the datasets cache as `load_dataset(repo)` leaves it after a download (built by datasets' own
    # builder under the repo's name): from here on only the local cache is read
    Generator(dataset_name=repo.split("/")[1], repo_id=repo, config_id="default", hash="0" * 16,
              generator=lambda: iter(rows), features=rows.features).download_and_prepare()
    ids = register_suite("hf:" + repo, namespace="HubSuite")
    env = gym.make(ids[0])
    env.reset(seed=0)
    noop = env.unwrapped.finish("noop").reward
    env.close()
    src = open_source("hf:" + repo)
    same = all(src.load(i).model_dump(exclude={"source", "raw_data_entry"})
               == open_source(saved).load(i).model_dump(exclude={"source", "raw_data_entry"}) for i in src.ids())
    try:
        open_source("hf:nobody/not-cached")
        missing = "loaded"
    except TaskFormatError as exc:
        missing = str(exc)
    print(json.dumps({"ids": ids, "noop": noop, "same": same, "ref": src.ref(src.ids()[0]), "missing": missing}))
""")


def test_hub_repo_id_loads_from_the_local_cache_only(builtin_dataset: tuple[Any, list[str], Path],
                                                     tmp_path: Path) -> None:
    _, ids, out = builtin_dataset
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home"),
           "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets"), "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", HUB_SCRIPT, str(out), "clawgym-test/builtin-50"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ids"] == [f"HubSuite/{i}" for i in ids] and result["same"] is True
    assert result["noop"] == 0.0
    assert result["ref"] is None  # a Hub task travels inline: another machine may not have the cache
    assert "HF_HUB_OFFLINE is set" in result["missing"] and "nobody/not-cached" in result["missing"]


CHECK_PY = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    ws = Path(sys.argv[1] if len(sys.argv) > 1 else "/root/.openclaw/workspace")
    want = sum(int(x) for x in (ws / "input" / "nums.csv").read_text().split())
    out = ws / "output" / "total.txt"
    print(json.dumps({"total_written": out.is_file(),
                      "total_right": out.is_file() and out.read_text().strip() == str(want)}))
""")
RULES = [{"name": "clear_summary", "file_path": "output/summary.md",
          "scores": {"0": "missing", "0.25": "vague", "0.5": "partial", "0.75": "mostly clear", "1": "clear"}}]
AUTHORS_ROWS = [
    {"prompt": "Add up the numbers in input/nums.csv and write the total to output/total.txt.",
     "hook_code": "python3 reward/test.py /root/.openclaw/workspace",
     "input_files": [{"file_path": "input/nums.csv", "content": "3\n4\n5\n"},
                     {"file_path": "reward/test.py", "content": CHECK_PY}],
     "rule": None, "origin_template": "id: task_9001\ncategory: data\n"},
    {"prompt": "Summarise the week in output/summary.md.", "hook_code": "python3 reward/test.py /root/.openclaw/workspace",
     "input_files": [{"file_path": "reward/test.py", "content": "print('{\"reward\": 0.0}')\n"}],
     "rule": RULES, "origin_template": "name: weekly\nid: task_9002\n"},
    {"prompt": "Write hello.txt.", "hook_code": "python3 reward/test.py /root/.openclaw/workspace",
     "input_files": [{"file_path": "reward/test.py", "content": "print(1.0)\n"}],
     "rule": None, "origin_template": "no id line here"},
]


def _check_authors_tasks(src: Any) -> None:
    assert src.ids() == ["task_9001", "task_9002", "row-00002"]
    first, second = src.load("task_9001"), src.load("task_9002")
    assert first.user_query == AUTHORS_ROWS[0]["prompt"] and first.input_mount_dir == WORKSPACE
    assert first.input_files == {"input/nums.csv": b"3\n4\n5\n"}
    assert first.reward_files == {"check.py": CHECK_PY.encode(), "reward.sh": REWARD_SH.encode()}  # test.py renamed
    assert first.metadata == {"category": "", "grading_type": "automated"}
    assert second.metadata["rule"] == RULES and second.input_files == {} and second.input_mount_dir is None
    plan = rubric_plan(second)  # the rubric is where the hybrid scorer looks for it
    assert plan is not None and plan.rubric_weight == 0.3


def test_authors_jsonl_rows_import_and_score(tmp_path: Path) -> None:
    path = tmp_path / "syn_task.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in AUTHORS_ROWS), encoding="utf-8")
    src = open_source(path)  # detected: a JSONL file of task rows
    assert isinstance(src, HFSource)
    _check_authors_tasks(src)
    task = src.load("task_9001")
    assert noop_reward(task) == 0.0
    env = ClawGymEnv(task, max_steps=4)
    try:
        env.reset(seed=0)
        env.step({"name": "write", "arguments": {"path": "output/total.txt", "content": "12\n"}})
        assert env.step({"role": "assistant", "content": "Done."})[1] == 1.0
    finally:
        env.close()
    # the same rows as a datasets.Dataset (what load_dataset gives for the Hub's syn_task.jsonl)
    saved = tmp_path / "authors-saved"
    datasets.Dataset.from_list(AUTHORS_ROWS).save_to_disk(str(saved))
    _check_authors_tasks(open_source(saved))
    # and the authors' tasks convert to our layout and back unchanged
    write_hf_dataset(src, tmp_path / "ours")
    again = open_source(tmp_path / "ours")
    assert [fields(again.load(i)) for i in src.ids()] == [fields(src.load(i)) for i in src.ids()]


def test_cli_convert_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cli-ds"
    cmd = [sys.executable, "-m", "clawgym_env.cli", "convert", "builtin", "--to", "hf-dataset", "--out", str(out),
           "--sample", "5", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wrote 5 hf-dataset tasks" in done.stdout and len(datasets.load_from_disk(str(out))) == 5
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    with pytest.raises(TaskFormatError, match="not a task dataset"):
        datasets.Dataset.from_list([{"text": "hi"}]).save_to_disk(str(tmp_path / "other"))
        HFSource(tmp_path / "other")
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if the [train] extra were not installed
    with pytest.raises(ImportError, match=r"clawgym\[train\]"):
        require_datasets()
