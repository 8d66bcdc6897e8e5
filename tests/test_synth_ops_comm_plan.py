"""The communication and planning operations: draft_message, rewrite_message, action_items,
schedule_plan, organize_knowledge — each proven by the quality gate through the real env."""

from __future__ import annotations

import json

import pytest

from clawgym_env.synth.compose import synthesize
from clawgym_env.synth.gate import gate_task

# (chain, task indices): the indices give difficulties 1..5 between them (difficulty comes from the index)
CHAINS = [
    (["rewrite_message", "draft_message"], [3, 15, 1]),
    (["action_items", "draft_message"], [0, 4, 1]),
    (["schedule_plan", "filter_rank"], [3, 15, 4]),
    (["organize_knowledge", "aggregate_stats"], [0, 15, 1]),
    (["read_extract", "draft_message"], [4, 11]),
    (["read_extract", "status_report", "draft_message"], [3]),  # forwards a text without described facts
]


@pytest.mark.parametrize("chain, index", [(c, i) for c, idx in CHAINS for i in idx],
                         ids=lambda v: "+".join(v) if isinstance(v, list) else str(v))
def test_gate_passes(chain: list[str], index: int) -> None:
    s = synthesize(index, force_ops=chain)
    report = gate_task(s.task, [o for st in s.steps for o in st.outputs])
    assert report.passed, report.to_dict()


@pytest.mark.parametrize("chain", [c for c, _ in CHAINS] + [["edit_document", "draft_message"],
                                                            ["action_items", "aggregate_stats"],
                                                            ["schedule_plan", "draft_message"]])
def test_builds_everywhere_and_deterministically(chain: list[str]) -> None:
    """Many indices (all difficulties) build without error, the same way twice, with paths in place."""
    for i in range(60):
        a, b = synthesize(i, force_ops=chain), synthesize(i, force_ops=chain)
        assert a.task.user_query == b.task.user_query and a.task.input_files == b.task.input_files
        assert a.task.oracle == b.task.oracle
        for st in a.steps:
            assert all(p.startswith("input/") for p in st.input_files)
            assert all(o.path.startswith(f"output/step{a.steps.index(st) + 1}_") for o in st.outputs)
            assert all(c["arguments"]["content"].strip() for c in st.oracle)


def test_rewrite_drops_banned_phrases_the_draft_uses() -> None:
    for i in range(40):
        step = synthesize(i, force_ops=["rewrite_message", "draft_message"]).steps[0]
        banned = [w for c in step.checks if c["kind"] == "absent_words" for w in c["words"]]
        draft = next(iter(step.input_files.values())).decode().lower()
        rewrite = step.oracle[0]["arguments"]["content"].lower()
        assert banned and all(w.lower() in draft and w.lower() not in rewrite for w in banned)


def test_schedule_respects_dependencies() -> None:
    for i in range(40):
        s = synthesize(i, force_ops=["schedule_plan", "filter_rank"])
        src = next(p for p in s.task.input_files if p.startswith("input/tasks."))
        step = s.steps[0]
        if not src.endswith(".json"):
            continue
        tasks = {t["id"]: t for t in json.loads(s.task.input_files[src])["tasks"]}
        rows = {r["task_id"]: r for r in step.artifact.rows}  # type: ignore[union-attr]
        for tid, t in tasks.items():
            r = rows[tid]
            assert r["finish_day"] == r["start_day"] + t["duration_days"]
            assert all(rows[d]["finish_day"] <= r["start_day"] for d in t["depends_on"])


@pytest.mark.parametrize("email, expected", [
    ("Hi,\n---\n# Report\n\n- Total:   5\n", True),  # whitespace may differ, text may not
    ("Hi,\n---\n# Report\n- Total: 6\n", False),
    ("Hi, nothing forwarded\n", False),
])
def test_includes_file_check(tmp_path, email: str, expected: bool) -> None:
    from clawgym_env.synth import check_engine

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").write_text("# Report\n\n- Total: 5\n")
    (tmp_path / "out" / "email.txt").write_text(email)
    spec = {"checks": [{"name": "c", "kind": "includes_file", "path": "out/email.txt", "source": "out/report.md"}]}
    assert check_engine.run(spec, str(tmp_path)) == {"c": expected}
