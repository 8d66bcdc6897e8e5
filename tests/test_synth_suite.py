"""The built-in suite: registration, determinism, the standalone verifier, the gate, coverage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import clawgym_env
from clawgym_env.agents import OracleAgent
from clawgym_env.synth import check_engine
from clawgym_env.synth.builtin import SUITE_SIZE, BuiltinSource
from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.coverage import coverage
from clawgym_env.synth.dedup import near_duplicate_rate
from clawgym_env.synth.gate import gate_many
from clawgym_env.synth.ops import operations
from clawgym_env.synth.personas import PERSONA_COUNT, persona
from clawgym_env.synth.taxonomy import OPERATIONS, SUBCATEGORIES
from clawgym_env.tasks import load_task, open_source, write_task


def test_import_registers_every_builtin_id_without_generating_any() -> None:
    code = ("import clawgym_env, gymnasium as gym; from clawgym_env.synth import builtin; "
            "print(len(clawgym_env.BUILTIN_IDS), builtin._load.cache_info().currsize, "
            "gym.spec('ClawGym/task-13499').id, 'clawgym_env.synth.compose' in __import__('sys').modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(SUITE_SIZE), "0", "ClawGym/task-13499", "False"]


def test_gym_make_a_builtin_task_and_solve_it_with_the_oracle() -> None:
    env = gym.make("ClawGym/task-0042")
    try:
        agent = OracleAgent(env.unwrapped.task)
        reward, info = agent.run_episode(env)
        assert reward == 1.0 and info["infra_error"] is None
        assert info["messages"][1]["content"] == env.unwrapped.task.user_query
    finally:
        env.close()


def test_same_id_same_task_and_distinct_ids_differ() -> None:
    a, b = synthesize(42).task, synthesize(42).task
    assert a.user_query == b.user_query and a.input_files == b.input_files and a.reward_files == b.reward_files
    assert synthesize(43).task.user_query != a.user_query
    assert synthesize(42, seed=1).task.user_query != a.user_query
    src = BuiltinSource()
    assert src.load("task-0042").metadata["generator_version"] == "builtin-v2"  # the default version
    assert BuiltinSource(version="builtin-v1").load("task-0042").metadata["generator_version"] == "builtin-v1"
    with pytest.raises(KeyError, match="no built-in task"):
        src.load(f"task-{SUITE_SIZE}")


BUILTIN_V1_DIGEST = "b0bc66ce63c24ab61c8d21144a09895910818d05fcc45c12af963ca054849724"
"""sha256 over every 45th task of builtin-v1 (300 tasks: instruction, metadata, every file, oracle)."""


def _suite_digest(source: BuiltinSource, step: int = 45) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256()
    for i in range(0, source.size, step):
        t = source.load(f"task-{i:04d}")
        files = {kind: {p: base64.b64encode(d).decode() for p, d in fs.items()}
                 for kind, fs in (("input_files", t.input_files), ("reward_files", t.reward_files))}
        doc = {"task_id": t.task_id, "user_query": t.user_query, "metadata": t.metadata, **files,
               "oracle": t.oracle, "oracle_outputs": t.oracle_outputs, "file_modes": t.file_modes}
        digest.update(json.dumps(doc, sort_keys=True).encode())
    return digest.hexdigest()


def test_builtin_v1_stays_reproducible() -> None:
    """builtin-v1 is what published results were measured on: the same ids give the same tasks,
    byte for byte, on every machine and at every later commit (the digest is from the suite as it
    was when issue 12 landed). A change here needs a new suite version, not a new digest."""
    assert open_source("builtin-v1").version == "builtin-v1"
    assert _suite_digest(BuiltinSource(version="builtin-v1")) == BUILTIN_V1_DIGEST


def test_synthesized_folders_are_official_format_and_round_trip(tmp_path: Path) -> None:
    res = subprocess.run(["clawgym", "synth", "--n", "5", "--start", "100", "--out", str(tmp_path), "--quiet",
                          "--version", "builtin-v1"], capture_output=True, text=True, check=True)
    assert "wrote 5 tasks" in res.stdout
    folder = tmp_path / "task-0102"
    entry = json.loads((folder / "data_entry.json").read_text())
    assert set(entry) == {"task_id", "user_query", "metadata", "input_mount_dir"}
    assert {"category", "subcategory", "operations", "persona", "difficulty", "seed", "generator_version"} <= set(entry["metadata"])
    assert (folder / "reward" / "reward.sh").stat().st_mode & 0o111
    task = load_task(folder)
    assert task == synthesize(102, version="builtin-v1", task_id="task-0102").task.model_copy(
        update={"source": task.source, "raw_data_entry": task.raw_data_entry})
    again = write_task(task, tmp_path / "again")
    assert (again / "reward" / "check.py").read_bytes() == (folder / "reward" / "check.py").read_bytes()


def test_check_py_is_standalone_stdlib(tmp_path: Path) -> None:
    """The generated check.py runs with `python3 -I` (no site, no package) and prints a JSON dict."""
    task = synthesize(7).task
    check = tmp_path / "check.py"
    check.write_bytes(task.reward_files["check.py"])
    out = subprocess.run(["/usr/bin/python3", "-I", str(check), str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout
    scores = json.loads(out)
    assert scores and set(scores.values()) == {False}


@pytest.mark.parametrize("kind, spec, files, expected", [
    ("table_equal", {"path": "t.csv", "fmt": "csv", "columns": ["a", "b"], "rows": [{"a": "x", "b": 1.5}],
                     "ordered": True, "tol": 0.01}, {"t.csv": "a,b\nx,1.50\n"}, True),
    ("table_equal", {"path": "t.csv", "fmt": "csv", "columns": ["a", "b"], "rows": [{"a": "x", "b": 1.5}],
                     "ordered": True, "tol": 0.01}, {"t.csv": "a,b\nx,1.6\n"}, False),
    ("table_equal", {"path": "t.json", "fmt": "json", "columns": ["a"], "rows": [{"a": 1}, {"a": 2}],
                     "ordered": False}, {"t.json": '[{"a": 2}, {"a": 1}]'}, True),
    ("json_equal", {"path": "j.json", "expected": {"x": 1}, "key_path": ["k"]}, {"j.json": '{"k": {"x": 1.004}}'}, True),
    ("contains", {"path": "r.md", "needles": ["Total: 5"]}, {"r.md": "# R\ntotal: 5\n"}, True),
    ("ordered", {"path": "r.md", "items": ["b", "a"]}, {"r.md": "a then b"}, False),
    ("moved", {"from": "in/x", "to": "out/x", "content": "hi"}, {"in/x": "hi", "out/x": "hi"}, False),
    ("exists", {"path": "missing.txt"}, {}, False),
])
def test_check_engine_kinds(tmp_path: Path, kind: str, spec: dict, files: dict, expected: bool) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert check_engine.run({"checks": [{"name": "c", "kind": kind, **spec}]}, str(tmp_path)) == {"c": expected}


def test_personas_are_distinct_and_deterministic() -> None:
    assert PERSONA_COUNT >= 1000
    sample = [persona(i) for i in range(0, PERSONA_COUNT, 37)]
    keys = {(p.role, p.domain, p.situation, p.preference) for p in sample}
    assert len(keys) == len(sample) and persona(5) == persona(5)


def test_near_duplicates_are_detected() -> None:
    base = synthesize(1).task.user_query
    texts = [synthesize(i).task.user_query for i in range(2, 40)] + [base, base.replace("Please", "Kindly")]
    rate, pairs = near_duplicate_rate(texts)
    assert pairs and pairs[-1][:2] == (len(texts) - 2, len(texts) - 1) and rate == pytest.approx(1 / len(texts))


def test_every_operation_is_implemented() -> None:
    assert sorted(operations()) == sorted(OPERATIONS)


def test_coverage_of_one_pass_over_the_subcategories() -> None:
    src = BuiltinSource()
    cov = coverage(len(SUBCATEGORIES) * 10, lambda i: src.load(f"task-{i:04d}"))
    assert cov["categories_missing"] == [] and cov["subcategories_missing"] == []
    assert cov["distinct_texts"] == cov["tasks"] and cov["near_duplicate_rate"] < 0.01


def test_gate_on_a_spread_sample_of_the_suite() -> None:
    src = BuiltinSource()
    ids = src.ids()[:: SUITE_SIZE // 40][:40]
    report = gate_many(src.load, ids, jobs=2, progress=False)
    s = report["summary"]
    failures = [r for r in report["reports"] if not r["passed"]]
    assert s["passed"] == len(ids), failures[:3]
    assert s["oracle_perfect"] == len(ids) and s["noop_mean"] <= 0.02 and s["mutations_not_caught"] == 0


def test_builtin_v2_persona_data_and_operations_fit_the_scenario() -> None:
    """builtin-v2 coherence (issue 13): the persona's role does the category's work at a workplace
    that has that role, the first step is an operation that fits the subcategory, a table's records
    are a kind the workplace keeps, and no preference is stated that no check holds."""
    from clawgym_env.synth.datagen import DOMAIN_SCHEMAS, V2_SCHEMAS, SCHEMAS
    from clawgym_env.synth.personas import CATEGORY_ROLES, PREFERENCES, ROLE_DOMAINS, persona
    from clawgym_env.synth.taxonomy import SUBCATEGORY_OPS

    labels = {s.base_name: s.label for s in SCHEMAS + V2_SCHEMAS}
    fitted_ops = tables = 0
    for i in range(0, 430, 3):
        s = synthesize(i, version="builtin-v2")
        meta = s.task.metadata
        who = persona(meta["persona_index"])
        assert who.role in CATEGORY_ROLES[meta["category"]] and who.domain in ROLE_DOMAINS[who.role]
        assert who.name in meta["persona"] and who.domain.split(" ", 1)[1] in s.task.user_query
        assert s.steps[0].op in SUBCATEGORY_OPS[meta["subcategory"]]
        fitted_ops += sum(op in SUBCATEGORY_OPS[meta["subcategory"]] for op in meta["operations"][1:])
        assert not any(p in s.task.user_query for p in PREFERENCES)
        for path in s.task.input_files:
            stem = path.rsplit("/", 1)[-1].split(".")[0]
            if path.startswith("input/") and stem in labels and stem not in ("expenses", "invoices"):
                tables += 1
                assert labels[stem] in DOMAIN_SCHEMAS[who.domain], (i, path, who.domain)
    assert tables >= 20 and fitted_ops >= 40


def test_builtin_v2_oracle_reads_before_it_writes() -> None:
    """builtin-v2's oracle is a demonstration: each step first reads the previous step's output and
    its own text inputs (each exists by then), so harder tasks take more calls."""
    lengths: dict[int, list[int]] = {}
    for i in range(0, 430, 5):
        s = synthesize(i, version="builtin-v2")
        available, calls = set(s.task.input_files), list(s.task.oracle)
        for step in s.steps:
            reads = []
            while calls and calls[0]["name"] == "read" and calls[0] not in step.oracle:
                reads.append(calls.pop(0)["arguments"]["path"])
            assert calls[:len(step.oracle)] == step.oracle
            del calls[:len(step.oracle)]
            assert reads and set(reads) <= available, (i, step.op, reads)  # every step reads what it works from
            available |= {o.path for o in step.outputs} | ({step.artifact.path} if step.artifact else set())
        assert [c for c in s.task.oracle if c["name"] != "read"] == [c for st in s.steps for c in st.oracle]
        lengths.setdefault(s.task.metadata["difficulty"], []).append(len(s.task.oracle))
    medians = {d: sorted(v)[len(v) // 2] for d, v in lengths.items()}
    assert medians[5] >= 8 and medians[5] > medians[1]
