"""Measured difficulty: ``clawgym calibrate`` end to end (real sandboxes, real records) and the
``rl build-data --pass-rate`` filter that reads its table."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from clawgym_env.bench.calibrate import (
    Calibration,
    by_difficulty,
    calibrate,
    in_range,
    parse_pass_range,
    read_calibration,
    write_calibration,
)
from clawgym_env.cli import main
from clawgym_env.rollout.records import TrajectoryRecord
from clawgym_env.synth.compose import synthesize
from clawgym_env.tasks import write_task


def record(task_id: str, repeat: int, reward: float, *, infra: str | None = None) -> TrajectoryRecord:
    return TrajectoryRecord(episode_id=f"{task_id}#{repeat}", task_id=task_id, source="t", category="C",
                            repeat=repeat, reward=reward, scored=infra is None, infra_error=infra)


def test_pass_rates_leave_infra_errors_out_and_count_above_one_half() -> None:
    recs = [record("a", 0, 1.0), record("a", 1, 0.5), record("a", 2, 0.75), record("a", 3, 0.0, infra="sandbox"),
            record("b", 0, 0.0), record("b", 1, 0.2), record("c", 0, 0.0, infra="agent")]
    rows = {r.task_id: r for r in calibrate(recs, agent="x", difficulty_of={"a": 1, "b": 5}.get)}
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert (a.episodes, a.correct, a.pass_rate, a.infra_errors, a.difficulty) == (3, 2, 2 / 3, 1, 1)  # 0.5 is not > 0.5
    assert a.mean_reward == pytest.approx(0.75)
    assert (b.pass_rate, b.mean_reward, b.difficulty) == (0.0, pytest.approx(0.1), 5)
    assert (c.episodes, c.pass_rate, c.mean_reward, c.difficulty) == (0, None, None, None)  # nothing measured


def test_difficulty_against_pass_rate_is_a_rank_correlation() -> None:
    def row(tid: str, d: int, rate: float) -> Calibration:
        return Calibration(tid, "C", d, 4, round(rate * 4), rate, rate, 0, "x")

    falling = [row(f"t{i}", d, rate) for i, (d, rate) in enumerate([(1, 1.0), (1, 0.75), (3, 0.5), (5, 0.25), (5, 0.0)])]
    summary = by_difficulty(falling)
    assert summary["spearman"] == pytest.approx(-0.9486832980505138)  # ties share their mean rank
    assert summary["levels"][1] == {"tasks": 2, "pass_rate": 0.875, "learnable": 0.5}
    assert summary["levels"][5]["learnable"] == 0.5  # 0.25 is mixed, 0.0 is not
    assert by_difficulty([row("t", 2, 0.5), row("u", 2, 0.5), row("v", 2, 0.5)])["spearman"] is None


def test_the_table_round_trips_and_bad_tables_are_named(tmp_path: Path) -> None:
    rows = calibrate([record("a", 0, 1.0), record("b", 0, 0.0)], agent="oracle")
    path = write_calibration(rows, tmp_path / "calibration.jsonl")
    assert read_calibration(path) == {r.task_id: r for r in rows}
    keep = in_range(read_calibration(path), 0.5, 1.0)
    assert keep("a") and not keep("b") and not keep("never-measured")
    path.write_text(path.read_text() + json.dumps({"task_id": "a"}) + "\n")
    with pytest.raises(ValueError, match=r"calibration.jsonl:3: not a calibration row"):
        read_calibration(path)
    path.write_text(json.dumps(rows[0].__dict__) + "\n" + json.dumps(rows[0].__dict__) + "\n")
    with pytest.raises(ValueError, match="appears twice"):
        read_calibration(path)
    with pytest.raises(ValueError, match="cannot read the calibration table"):
        read_calibration(tmp_path / "missing.jsonl")
    for bad in ("0.9:0.1", "0.5", "a:b", "-1:0.5", "0:2"):
        with pytest.raises(ValueError, match="--pass-rate wants LO:HI"):
            parse_pass_range(bad)
    assert parse_pass_range("0.1:0.9") == (0.1, 0.9)


def _suite_of_short_and_long_oracles(folder: Path) -> tuple[list[str], list[str]]:
    """Two builtin-v2 tasks whose oracle (4 calls and the final message) fits in 5 turns, and two whose
    oracle reads inputs for its first 5 calls, as task folders: under --max-steps 5 the oracle agent
    solves the first two and has written nothing when the budget ends the others."""
    short: list[str] = []
    long: list[str] = []
    for i in range(200):
        task = synthesize(i, version="builtin-v2", task_id=f"task-{i:04d}").task
        calls = task.oracle or []
        only_reads = len(calls) > 5 and all(c["name"] == "read" for c in calls[:5])
        bucket = short if len(calls) <= 4 else long if only_reads else None
        if bucket is not None and len(bucket) < 2:
            write_task(task, folder)
            bucket.append(task.task_id)
        if len(short) == len(long) == 2:
            return short, long
    raise AssertionError("the first 200 builtin-v2 tasks lack two short and two long oracles")


def test_calibrate_measures_resumes_and_feeds_build_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "suite"
    short, long = _suite_of_short_and_long_oracles(suite)
    out = tmp_path / "run"
    args = ["calibrate", str(suite), "--agent", "oracle", "--repeats", "2", "--max-steps", "5", "--concurrency", "2",
            "--out", str(out), "--into-suite", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "calibrated 4 of 4 tasks" in printed and "Spearman(difficulty, pass rate)" in printed
    table = read_calibration(out / "calibration.jsonl")
    assert read_calibration(suite / "calibration.jsonl") == table  # --into-suite: it ships beside the tasks
    assert {t: table[t].pass_rate for t in short + long} == {**dict.fromkeys(short, 1.0), **dict.fromkeys(long, 0.0)}
    assert all(r.episodes == 2 and r.agent == "oracle" and r.difficulty in range(1, 6) for r in table.values())
    episodes = (out / "records.jsonl").read_text().count("\n")
    assert episodes == 8
    assert main(args) == 0  # a rerun resumes: nothing is redone, the table is the same
    assert (out / "records.jsonl").read_text().count("\n") == episodes
    assert read_calibration(out / "calibration.jsonl") == table
    capsys.readouterr()

    parquet = tmp_path / "learnable.parquet"
    assert main(["rl", "build-data", str(suite), "--out", str(parquet), "--pass-rate", "0.5:1"]) == 0
    assert "kept 2 of 4 tasks" in capsys.readouterr().out
    kept = sorted(json.loads(r["task_ref"])["task"]["task_id"] for r in pq.read_table(parquet).column("extra_info").to_pylist())
    assert kept == sorted(short)
    assert main(["rl", "build-data", str(suite), "--out", str(parquet), "--pass-rate", "0.1:0.9"]) == 2
    assert "no tasks" in capsys.readouterr().err  # every task here is always or never solved
    assert main(["rl", "build-data", "builtin:task-0001", "--out", str(parquet), "--pass-rate", "0:1"]) == 2
    assert "--pass-rate needs a calibration table" in capsys.readouterr().err
