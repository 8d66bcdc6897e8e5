"""The data side of ``clawgym sft``: importers, filter, writers and the CLI, on real trajectories.

The trajectories are real oracle rollouts of built-in tasks (``clawgym eval``: bwrap sandboxes, the
tasks' verifiers), made once for this module. Filter cases are variants of those records
(``model_copy``); the authors' JSONL and OpenClaw sessions are written from them the way those
formats are written elsewhere (``clawgym export-session`` for sessions). The tokenizer is the tiny
Qwen3-2507-template tokenizer of :mod:`clawgym_env.sft.tiny`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from clawgym_env.rollout import TrajectoryRecord, read_records, to_session_events
from clawgym_env.sft.examples import SFTExample, clean_message, example_from_record, sft_messages
from clawgym_env.sft.export import (
    FORMATS,
    parse_formats,
    read_verl_parquet,
    to_hf_dataset,
    write_hf_dataset,
    write_hf_jsonl,
    write_openrlhf,
    write_openrlhf_pretok,
    write_tokens,
    write_verl_parquet,
)
from clawgym_env.sft.filter import REASONS, FilterConfig, filter_records
from clawgym_env.sft.importers import (
    AUTHORS_SOURCE,
    SESSION_SOURCE,
    ImportStats,
    load_many,
    load_trajectories,
)
from clawgym_env.tools import tool_schemas

REPO = Path(__file__).resolve().parents[1]


def clawgym(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clawgym_env.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, oracle_records_path: Path) -> dict[str, Path]:
    """records.jsonl of 12 oracle rollouts (coding profile: the first 12 built-in tasks of the
    session's 100 oracle rollouts, conftest.py) and 4 with the 19-tool openclaw profile."""
    first12 = {f"task-{i:04d}" for i in range(12)}
    coding = tmp_path_factory.mktemp("oracle-coding") / "records.jsonl"
    coding.write_text("".join(r.to_json_line() for r in read_records(oracle_records_path) if r.task_id in first12))
    folder = tmp_path_factory.mktemp("oracle-openclaw")
    proc = clawgym("eval", "--suite", "builtin", "--agent", "oracle", "--concurrency", "4", "--out", str(folder),
                   "--quiet", "--limit", "4", "--profile", "openclaw")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {"coding": coding, "openclaw": folder / "records.jsonl"}


@pytest.fixture(scope="module")
def records(runs: dict[str, Path]) -> list[TrajectoryRecord]:
    recs = read_records(runs["coding"])
    assert len(recs) == 12
    assert all(r.reward == 1.0 and r.scored and r.terminated and not r.infra_error for r in recs), \
        "oracle rollouts of built-in tasks all succeed"
    assert len({r.task_id for r in recs}) == 12
    return recs


@pytest.fixture(scope="module")
def openclaw_records(runs: dict[str, Path]) -> list[TrajectoryRecord]:
    recs = read_records(runs["openclaw"])
    assert len(recs) == 4 and all(len(r.tools) == 19 for r in recs)
    return recs


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from clawgym_env.sft.tiny import build_tiny_tokenizer

    return build_tiny_tokenizer()


def parsed_args(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with tool-call arguments parsed: equal conversations whatever the JSON spacing."""
    out = []
    for m in messages:
        m = dict(m)
        if "tool_calls" in m:
            m["tool_calls"] = [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                               for c in m["tool_calls"]]
        out.append(m)
    return out


def with_reasoning(record: TrajectoryRecord) -> TrajectoryRecord:
    """A variant whose first assistant turn carries reasoning_content and dict arguments (plus junk keys)."""
    messages = [dict(m) for m in record.messages]
    i = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    call = messages[i]["tool_calls"][0]
    messages[i] = {**messages[i], "reasoning_content": "Let me write the file first: ünïcode.",
                   "usage": {"prompt_tokens": 3}, "content": None,
                   "tool_calls": [{**call, "function": {**call["function"],
                                                        "arguments": json.loads(call["function"]["arguments"])}}]}
    return record.model_copy(update={"messages": messages, "episode_id": record.task_id + "#7", "repeat": 7})


# ---------------------------------------------------------------------------------------- examples
def test_sft_messages_keep_only_training_keys(records: list[TrajectoryRecord]) -> None:
    record = with_reasoning(records[0])
    msgs = sft_messages(record)
    assert [m["role"] for m in msgs] == [m["role"] for m in record.messages]
    allowed = {"system": {"role", "content"}, "user": {"role", "content"},
               "assistant": {"role", "content", "tool_calls", "reasoning_content"},
               "tool": {"role", "content", "tool_call_id", "name"}}
    for m in msgs:
        assert set(m) <= allowed[m["role"]], m.keys()
        assert isinstance(m["content"], str)
        assert None not in m.values()
        for call in m.get("tool_calls", []):
            assert set(call) == {"id", "type", "function"} and call["type"] == "function"
            assert isinstance(call["function"]["arguments"], str)
    first = next(m for m in msgs if m["role"] == "assistant")
    assert first["reasoning_content"] == "Let me write the file first: ünïcode."
    assert first["content"] == "" and "usage" not in first
    original = json.loads(records[0].messages[2]["tool_calls"][0]["function"]["arguments"])
    assert json.loads(first["tool_calls"][0]["function"]["arguments"]) == original
    # dicts are re-serialised without ASCII escapes; strings are kept verbatim
    assert clean_message({"role": "assistant", "content": "x", "tool_calls": [
        {"id": "c", "function": {"name": "write", "arguments": {"path": "é.txt"}}}]})["tool_calls"][0][
        "function"]["arguments"] == '{"path": "é.txt"}'
    assert clean_message({"role": "assistant", "content": "", "tool_calls": [
        {"id": "c", "function": {"name": "exec", "arguments": '{"command": "ls"'}}]})["tool_calls"][0][
        "function"]["arguments"] == '{"command": "ls"'
    # the untouched record: same messages as recorded (the env already writes the clean form)
    assert sft_messages(records[1]) == records[1].messages


def test_example_from_record(records: list[TrajectoryRecord]) -> None:
    ex = example_from_record(records[0])
    assert isinstance(ex, SFTExample)
    assert ex.metadata() == {"episode_id": records[0].episode_id, "task_id": records[0].task_id,
                             "source": "builtin", "category": records[0].category, "reward": 1.0, "model": "oracle"}
    assert ex.tools == records[0].tools and len(ex.tools) == 5
    assert example_from_record(records[0].model_copy(update={"scored": False})).reward is None


# ---------------------------------------------------------------------------------------- filter
def test_filter_reasons_exact_counts(records: list[TrajectoryRecord]) -> None:
    r = records

    def variant(i: int, repeat: int, **update: Any) -> TrajectoryRecord:
        return r[i].model_copy(update={"repeat": repeat, "episode_id": f"{r[i].task_id}#{repeat}", **update})

    unknown_msgs = [dict(m) for m in r[3].messages]
    k = next(i for i, m in enumerate(unknown_msgs) if m["role"] == "assistant")
    unknown_msgs[k] = {**unknown_msgs[k], "tool_calls": [{"id": "x", "type": "function",
                                                         "function": {"name": "browser", "arguments": "{}"}}]}
    refused_calls = [c.model_copy(update={"error_kind": "unknown_tool"}) if j == 0 else c
                     for j, c in enumerate(r[4].tool_calls)]
    crafted = [
        variant(0, 1, infra_error="env: sandbox died", reward=0.0, budget_hit="steps"),  # infra_error first
        variant(1, 1, reward=0.5),                                                       # low_reward
        variant(2, 1, reward=0.0, unscored=True),                                        # unscored
        variant(3, 1, messages=unknown_msgs),                                            # unknown_tool (messages)
        variant(4, 1, tool_calls=refused_calls),                                         # unknown_tool (env refused)
        variant(5, 1, budget_hit="steps", truncated=True, terminated=False),             # limit_hit
        variant(6, 1, truncated=True, terminated=False),                                 # limit_hit (max_steps)
        variant(7, 1),                                                                   # duplicate of r[7]
        variant(8, 1, scored=False, verifier=None),                                      # unrewarded
        variant(9, 1, messages=r[9].messages[:2]),                                       # few_assistant_turns
    ]
    result = filter_records([*r, *crafted])
    assert result.total == 22
    assert [x.episode_id for x in result.kept] == [x.episode_id for x in r]
    assert result.dropped == Counter({"infra_error": 1, "low_reward": 1, "unscored": 1, "unknown_tool": 2,
                                      "limit_hit": 2, "duplicate": 1, "unrewarded": 1, "few_assistant_turns": 1})
    assert result.examples_dropped["unknown_tool"] == [f"{r[3].task_id}#1", f"{r[4].task_id}#1"]
    assert result.examples_dropped["duplicate"] == [f"{r[7].task_id}#1"]
    text = result.summary_text()
    assert "kept 12 of 22 trajectories" in text
    for reason in result.dropped:
        assert reason in text
    assert set(result.to_dict()["dropped"]) <= set(REASONS)

    # every switch does what it says
    relaxed = filter_records([*r, *crafted], FilterConfig(
        min_reward=0.5, keep_unrewarded=True, drop_unknown_tools=False, drop_limit_hits=False, drop_unscored=False,
        dedupe=False, min_assistant_turns=0))
    # infra errors are never kept; the unscored variant's reward (0.0) is now tested against min_reward
    assert relaxed.dropped == Counter({"infra_error": 1, "low_reward": 1})
    assert len(relaxed.kept) == 20
    assert filter_records([*r, *crafted], FilterConfig(min_reward=0.0, drop_unscored=False)).dropped["unscored"] == 0


def test_filter_per_task_cap_orders_by_reward_then_input(records: list[TrajectoryRecord]) -> None:
    base = records[0]

    def attempt(repeat: int, reward: float, scored: bool = True) -> TrajectoryRecord:
        msgs = [dict(m) for m in base.messages]
        msgs[-1] = {**msgs[-1], "content": f"Done (attempt {repeat})."}  # distinct conversations
        return base.model_copy(update={"repeat": repeat, "episode_id": f"{base.task_id}#{repeat}", "reward": reward,
                                       "scored": scored, "messages": msgs})

    batch = [attempt(0, 0.5), attempt(1, 1.0), attempt(2, 0.8), attempt(3, 1.0), attempt(4, 0.0, scored=False),
             records[1]]
    cfg = FilterConfig(min_reward=0.0, keep_unrewarded=True, per_task_cap=2)
    result = filter_records(batch, cfg)
    assert [x.episode_id for x in result.kept] == [f"{base.task_id}#1", f"{base.task_id}#3", records[1].episode_id]
    assert result.dropped == Counter({"per_task_cap": 3})
    cfg3 = cfg.model_copy(update={"per_task_cap": 3})
    assert [x.repeat for x in filter_records(batch, cfg3).kept if x.task_id == base.task_id] == [1, 2, 3]
    cfg5 = cfg.model_copy(update={"per_task_cap": 5})  # unknown rewards rank last
    assert [x.repeat for x in filter_records(batch, cfg5).kept if x.task_id == base.task_id] == [0, 1, 2, 3, 4]
    cfg4 = cfg.model_copy(update={"per_task_cap": 4})
    assert [x.repeat for x in filter_records(batch, cfg4).kept if x.task_id == base.task_id] == [0, 1, 2, 3]


# ---------------------------------------------------------------------------------------- writers
def test_verl_parquet_round_trip(records: list[TrajectoryRecord], openclaw_records: list[TrajectoryRecord],
                                 tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    batch = [*records, with_reasoning(records[0]), *openclaw_records,
             records[2].model_copy(update={"scored": False, "model": None})]
    stats = write_verl_parquet(batch, tmp_path / "train.parquet")
    assert stats["rows"] == 18 and stats["verified"]
    schema = pq.read_schema(tmp_path / "train.parquet")
    assert "tools" not in schema.names
    assert set(schema.names) == {"messages", "tools_json", "episode_id", "task_id", "source", "category", "reward",
                                 "model"}
    assert str(schema.field("tools_json").type) == "string"
    rows = read_verl_parquet(tmp_path / "train.parquet")
    for row, record in zip(rows, batch, strict=True):
        assert row["messages"] == sft_messages(record)
        assert row["tools"] == record.tools
        assert row["episode_id"] == record.episode_id and row["task_id"] == record.task_id
    assert rows[-1]["reward"] is None and rows[0]["reward"] == 1.0
    assert len(rows[13]["tools"]) == 19  # the openclaw profile survives exactly
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.parquet"]  # no temp file left

    # the parquet pitfall the tools_json column avoids: a list-of-structs tools column loses the schemas
    import pyarrow as pa

    with pytest.raises(Exception, match="no child field"):
        pq.write_table(pa.Table.from_pylist([{"tools": r.tools} for r in openclaw_records]), tmp_path / "bad.parquet")


def test_verl_parquet_refuses_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no records"):
        write_verl_parquet([], tmp_path / "train.parquet")
    assert list(tmp_path.iterdir()) == []


def test_hf_jsonl_and_openrlhf(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    batch = [*records[:4], with_reasoning(records[0])]
    assert write_hf_jsonl(batch, tmp_path / "train.jsonl")["rows"] == 5
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    for row, record in zip(rows, batch, strict=True):
        assert row == {"messages": sft_messages(record), "tools": record.tools, **example_from_record(record).metadata()}
    assert "ünïcode" in (tmp_path / "train.jsonl").read_text()  # UTF-8, not \\u escapes

    assert write_openrlhf(batch, tmp_path / "openrlhf.jsonl")["rows"] == 5
    rows = [json.loads(line) for line in (tmp_path / "openrlhf.jsonl").read_text().splitlines()]
    assert rows == [{"messages": sft_messages(r), "tools": r.tools} for r in batch]


def test_hf_dataset_round_trip(records: list[TrajectoryRecord], openclaw_records: list[TrajectoryRecord],
                               tmp_path: Path) -> None:
    import datasets

    batch = [*records, with_reasoning(records[0]), *openclaw_records]
    memory = to_hf_dataset(batch)
    assert len(memory) == 17 and memory[12]["messages"] == sft_messages(batch[12])
    stats = write_hf_dataset(batch, tmp_path / "hf_dataset")
    assert stats["rows"] == 17
    loaded = datasets.load_from_disk(str(tmp_path / "hf_dataset"))
    for row, record in zip(loaded, batch, strict=True):
        assert row == {"messages": sft_messages(record), "tools": record.tools, **example_from_record(record).metadata()}
    write_hf_dataset(batch[:3], tmp_path / "hf_dataset")  # overwriting an existing dataset is atomic too
    assert len(datasets.load_from_disk(str(tmp_path / "hf_dataset"))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf_dataset"]


def test_format_names() -> None:
    assert list(FORMATS) == ["verl", "hf", "hf-dataset", "openrlhf", "openrlhf-pretok", "tokens"]
    assert parse_formats("verl, hf,verl") == ["verl", "hf"]
    with pytest.raises(ValueError, match="unknown format"):
        parse_formats("verl,parquet")


def test_tokens_and_openrlhf_pretok(records: list[TrajectoryRecord], tokenizer: Any, tmp_path: Path) -> None:
    batch = records[:4]
    stats = write_tokens(batch, tmp_path / "tokens.jsonl", tokenizer)
    assert stats["rows"] == 4 and stats["dropped_drift"] == 0 and 0 < stats["trained_tokens"] < stats["tokens"]
    rows = [json.loads(line) for line in (tmp_path / "tokens.jsonl").read_text().splitlines()]
    for row, record in zip(rows, batch, strict=True):
        assert row["episode_id"] == record.episode_id and row["task_id"] == record.task_id
        assert len(row["loss_mask"]) == len(row["input_ids"])
        assert len(row["spans"]) == sum(m["role"] == "assistant" for m in record.messages)
        assert sum(e - s for s, e in row["spans"]) == sum(row["loss_mask"])
        last = tokenizer.decode(row["input_ids"][row["spans"][-1][0]:row["spans"][-1][1]])
        assert record.final_message in last

    stats = write_openrlhf_pretok(batch, tmp_path / "pretok.jsonl", tokenizer)
    assert stats["rows"] == 4
    pretok = [json.loads(line) for line in (tmp_path / "pretok.jsonl").read_text().splitlines()]
    for row, tok_row in zip(pretok, rows, strict=True):
        assert set(row) == {"prompt", "response", "prompt_ids_len", "response_ranges"}
        assert row["prompt_ids_len"] == tok_row["spans"][0][0]
        assert row["response_ranges"] == [[s - 1, e - 1] for s, e in tok_row["spans"]]
        assert row["prompt"].startswith("<|im_start|>system\n")


def test_tokens_from_rollout_needs_recorded_ids(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a tokenizer"):
        write_tokens(records[:1], tmp_path / "tokens.jsonl")
    with pytest.raises(ValueError, match=f"{records[0].episode_id}.*no recorded token ids"):
        write_tokens(records[:1], tmp_path / "tokens.jsonl", from_rollout=True)  # the oracle generates no tokens
    assert not (tmp_path / "tokens.jsonl").exists()


# ---------------------------------------------------------------------------------------- importers: authors'
def authors_line(record: TrajectoryRecord, *, dict_args: bool, **fields: Any) -> dict[str, Any]:
    msgs = sft_messages(record)
    if dict_args:
        msgs = parsed_args(msgs)
    return {"messages": msgs, **fields}


def test_authors_import(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    coding = tool_schemas("coding")
    lines = [
        authors_line(records[0], dict_args=True),                                        # no tools, no reward
        authors_line(records[1], dict_args=False, tools=coding, reward=1.0, task_id="t1", category="Office"),
        authors_line(records[2], dict_args=True, tools=json.dumps(coding), score=0.0, id="t2",
                     task_category="Coding"),
        authors_line(records[3], dict_args=False, task_id="t1", reward=0.5),             # a second attempt at t1
    ]
    path = tmp_path / "authors.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    stats = ImportStats()
    imported = list(load_trajectories(path, stats=stats))
    assert stats.files == Counter({"authors": 1}) and stats.records == Counter({"authors": 4})
    assert [r.episode_id for r in imported] == ["authors:1#0", "t1#0", "t2#0", "t1#1"]
    for rec, orig in zip(imported, records[:4], strict=True):
        assert rec.source == AUTHORS_SOURCE
        assert parsed_args(sft_messages(rec)) == parsed_args(sft_messages(orig))
        assert [(c.name, json.loads(c.arguments), c.result, c.turn) for c in rec.tool_calls] == \
               [(c.name, json.loads(c.arguments), c.result, c.turn) for c in orig.tool_calls]
        assert rec.steps == orig.steps and rec.terminated and rec.final_message == orig.final_message
        assert rec.import_origin.startswith(f"{path}:")
    assert imported[0].tools == tool_schemas("openclaw") and imported[1].tools == coding == imported[2].tools
    assert [(r.scored, r.reward) for r in imported] == [(False, 0.0), (True, 1.0), (True, 0.0), (True, 0.5)]
    assert imported[0].verifier is None
    assert [r.category for r in imported] == ["", "Office", "Coding", ""]
    # string arguments are kept byte for byte
    assert sft_messages(imported[1]) == sft_messages(records[1])

    # the filter tells "no reward" from "reward 0"
    result = filter_records(imported)
    assert [r.episode_id for r in result.kept] == ["t1#0"]
    assert result.dropped == Counter({"unrewarded": 1, "low_reward": 2})
    kept = filter_records(imported, FilterConfig(keep_unrewarded=True)).kept
    assert [r.episode_id for r in kept] == ["authors:1#0", "t1#0"]


def test_authors_import_pairs_calls_without_ids_and_flags_unknown_tools(tmp_path: Path) -> None:
    line = {"messages": [
        {"role": "system", "content": "sys"}, {"role": "user", "content": "open the page, then list files"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"function": {"name": "browser", "arguments": {"action": "open", "url": "https://example.com"}}},
            {"function": {"name": "exec", "arguments": {"command": "ls"}}}]},
        {"role": "tool", "content": "opened"}, {"role": "tool", "content": "a.txt"},
        {"role": "assistant", "content": "Done."}], "reward": 1}
    path = tmp_path / "authors.jsonl"
    path.write_text(json.dumps(line) + "\n" + json.dumps({**line, "tools": tool_schemas("coding")}) + "\n")
    default_tools, coding_tools = load_many([path])
    assert [(c.id, c.name, c.result) for c in default_tools.tool_calls] == \
           [("call_0", "browser", "opened"), ("call_1", "exec", "a.txt")]
    assert [m.get("tool_call_id") for m in default_tools.messages if m["role"] == "tool"] == ["call_0", "call_1"]
    assert default_tools.tool_calls[1].arguments == '{"command": "ls"}'
    result = filter_records([default_tools, coding_tools])
    assert result.kept == [default_tools]  # browser is in the authors' 19-tool schema, not in coding's 5
    assert result.dropped == Counter({"unknown_tool": 1})


# ---------------------------------------------------------------------------------------- importers: sessions
def test_session_round_trip_via_export_session(runs: dict[str, Path], records: list[TrajectoryRecord],
                                               tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    proc = clawgym("export-session", str(runs["coding"]), str(sessions))
    assert proc.returncode == 0, proc.stderr
    (sessions / "sessions.json").write_text("{}")  # OpenClaw's index file beside the sessions: not a *.jsonl
    stats = ImportStats()
    imported = {r.key: r for r in load_trajectories(sessions, stats=stats)}
    assert stats.files == Counter({"session": 12}) and not stats.skipped
    for orig in records:
        rec = imported[orig.key]
        assert rec.source == SESSION_SOURCE and rec.episode_id == orig.episode_id
        assert parsed_args(sft_messages(rec)) == parsed_args(sft_messages(orig)[1:])  # no system prompt
        assert [(c.id, c.name, json.loads(c.arguments), c.result) for c in rec.tool_calls] == \
               [(c.id, c.name, json.loads(c.arguments), c.result) for c in orig.tool_calls]
        assert rec.steps == orig.steps and rec.terminated and not rec.scored
        assert rec.tools == tool_schemas("openclaw")
        assert rec.started_at == orig.started_at

    system = records[0].messages[0]["content"]
    with_system = next(load_trajectories(sessions / "task-0000__r0.jsonl", system_prompt=system,
                                         tools_profile="coding"))
    orig = next(r for r in records if r.task_id == "task-0000")
    assert parsed_args(sft_messages(with_system)) == parsed_args(sft_messages(orig))
    assert with_system.tools == orig.tools
    assert filter_records([with_system]).dropped == Counter({"unrewarded": 1})
    rl41 = next(load_trajectories(sessions / "task-0000__r0.jsonl", tools_profile="rl", openclaw_version="2026.4.1"))
    assert rl41.tools == tool_schemas("rl", "2026.4.1")
    assert "edits" in next(t for t in rl41.tools if t["function"]["name"] == "edit")["function"]["parameters"]["properties"]


def test_session_usage_round_trip(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    usage = {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127, "cached_tokens": 100}
    record = records[0].model_copy(update={"turns": [t.model_copy(update={"usage": usage}) for t in records[0].turns]})
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in to_session_events(record)))
    rec = next(load_trajectories(path))
    assert [t.usage for t in rec.turns] == [usage] * len(record.turns)
    assert rec.task_id == "s" and rec.repeat == 0


def test_openclaw_session_entries(tmp_path: Path) -> None:
    """A session as OpenClaw writes one: other entry types, thinking, an error result, an image, a branch."""
    def msg(id_: str, parent: str | None, message: dict[str, Any]) -> dict[str, Any]:
        return {"type": "message", "id": id_, "parentId": parent, "timestamp": "2026-11-21T10:00:00.000Z",
                "message": message}

    entries = [
        {"type": "session", "version": 3, "id": "abc", "timestamp": "2026-11-21T10:00:00.000Z", "cwd": "/ws"},
        {"type": "model_change", "id": "e1", "parentId": None, "provider": "vllm", "modelId": "qwen3-4b"},
        {"type": "thinking_level_change", "id": "e2", "parentId": "e1", "thinkingLevel": "low"},
        msg("e3", "e2", {"role": "user", "content": [{"type": "text", "text": "Count the files."},
                                                     {"type": "image", "data": "AAAA", "mimeType": "image/png"}]}),
        msg("e4", "e3", {"role": "assistant", "model": "qwen3-4b", "stopReason": "toolUse",
                         "usage": {"input": 50, "output": 9, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 59,
                                   "cost": {"total": 0}},
                         "content": [{"type": "thinking", "thinking": "I should list them."},
                                     {"type": "toolCall", "id": "t1", "name": "exec", "arguments": {"command": "ls"}}]}),
        msg("e5", "e4", {"role": "toolResult", "toolCallId": "t1", "toolName": "exec", "isError": True,
                         "content": [{"type": "text", "text": "ls: cannot open"}]}),
        msg("x6", "e5", {"role": "assistant", "content": [{"type": "text", "text": "abandoned branch"}]}),
        {"type": "custom", "id": "e6", "parentId": "e5", "customType": "note", "data": {}},
        msg("e7", "e6", {"role": "assistant", "model": "qwen3-4b",
                         "content": [{"type": "text", "text": "There are "}, {"type": "text", "text": "no files."}]}),
    ]
    path = tmp_path / "0a1b.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    stats = ImportStats()
    (rec,) = load_trajectories(path, stats=stats)
    assert sft_messages(rec) == [
        {"role": "user", "content": "Count the files."},
        {"role": "assistant", "content": "", "reasoning_content": "I should list them.", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "exec", "arguments": '{"command": "ls"}'}}]},
        {"role": "tool", "content": "ls: cannot open", "tool_call_id": "t1", "name": "exec"},
        {"role": "assistant", "content": "There are no files."}]
    assert stats.skipped == Counter({"session entry: model_change": 1, "session entry: thinking_level_change": 1,
                                     "session entry: custom": 1, "session block: image": 1,
                                     "session entry: not on the active branch": 1})
    assert rec.tool_calls[0].ok is False and rec.tool_calls[0].error_kind == "tool_error"
    assert rec.turns[0].usage == {"prompt_tokens": 50, "completion_tokens": 9, "cached_tokens": 0,
                                  "total_tokens": 59}
    assert rec.model == "qwen3-4b" and rec.task_id == "0a1b" and rec.session_id == "abc"
    assert rec.terminated and rec.steps == 2 and rec.final_message == "There are no files."


# ---------------------------------------------------------------------------------------- importers: records, errors
def test_records_import_latest_wins_and_torn_lines(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    redone = records[1].model_copy(update={"reward": 0.25})
    path.write_text(records[0].to_json_line() + records[1].to_json_line() + redone.to_json_line()
                    + records[2].to_json_line()[:500] + "\n" + records[3].to_json_line())
    stats = ImportStats()
    loaded = list(load_trajectories(path, stats=stats))
    assert [(r.episode_id, r.reward) for r in loaded] == [(records[0].episode_id, 1.0), (records[1].episode_id, 0.25),
                                                          (records[3].episode_id, 1.0)]
    assert stats.skipped == Counter({"records: torn line": 1,
                                     "records: superseded by a later record of the episode": 1})
    assert loaded[0] == records[0]


SESSION_HEADER = '{"type": "session", "version": 3, "id": "s"}\n'


@pytest.mark.parametrize(("content", "line", "match"), [
    ('{"hello": "world"}\n', 1, "unrecognised trajectory line"),
    ("not json at all\n", 1, "not JSON"),
    ('{"messages": []}\n\n{"messages": []}\n{"prompt": "x"}\n', 4, "expected an authors' trajectory line"),
    ('{"messages": []}\n{"messages": [], "reward": "high"}\n', 2, "reward/score must be a number"),
    ('{"messages": [{"content": "no role"}]}\n', 1, "not an OpenAI message"),
    (SESSION_HEADER + '{"type": "message", "message": {"role": "user", "content": []}}\n[1, 2]\n', 3,
     "expected an OpenClaw session entry"),
    (SESSION_HEADER + '{"type": "message", "message": {"role": "toolResult", "content": []}}\n', 2,
     "without toolCallId"),
])
def test_malformed_lines_name_file_and_line(tmp_path: Path, content: str, line: int, match: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        list(load_trajectories(path))
    assert f"{path}:{line}:" in str(info.value)


def test_records_file_with_a_foreign_line(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(records[0].to_json_line() + '{"messages": []}\n')
    with pytest.raises(ValueError, match=rf"{path}:2: not a clawgym trajectory record"):
        list(load_trajectories(path))


def test_directory_input_sorted_and_missing_path(records: list[TrajectoryRecord], tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text(records[1].to_json_line())
    (tmp_path / "a.jsonl").write_text(json.dumps({"messages": sft_messages(records[0]), "reward": 1.0}) + "\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "notes.txt").write_text("ignored")
    stats = ImportStats()
    loaded = list(load_trajectories(tmp_path, stats=stats))
    assert [r.source for r in loaded] == [AUTHORS_SOURCE, "builtin"]
    assert stats.files == Counter({"authors": 1, "records": 1, "empty": 1})
    with pytest.raises(FileNotFoundError):
        list(load_trajectories(tmp_path / "nope.jsonl"))


# ---------------------------------------------------------------------------------------- CLI
def test_cli_build_end_to_end(runs: dict[str, Path], tmp_path: Path) -> None:
    authors = tmp_path / "authors.jsonl"
    recs = read_records(runs["openclaw"])  # tasks 0-3 again, as unrewarded authors' lines
    authors.write_text("".join(json.dumps({"messages": sft_messages(r), "task_id": r.task_id}) + "\n" for r in recs))
    out = tmp_path / "sft"
    proc = clawgym("sft", "build", str(runs["coding"]), str(runs["openclaw"]), str(authors), "--out", str(out),
                   "--format", "verl,hf,hf-dataset,openrlhf", "--per-task-cap", "1")
    assert proc.returncode == 0, proc.stderr
    assert "kept 12 of 20 trajectories" in proc.stdout
    assert "unrewarded" in proc.stdout and "per_task_cap" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["hf_dataset", "openrlhf.jsonl", "sft_build.json",
                                                     "train.jsonl", "train.parquet"]
    report = json.loads((out / "sft_build.json").read_text())
    assert report["total"] == 20 and report["kept"] == 12
    assert report["dropped"] == {"unrewarded": 4, "per_task_cap": 4}
    assert report["config"]["per_task_cap"] == 1 and report["config"]["min_reward"] == 1.0
    assert report["import"]["records"] == {"records": 16, "authors": 4}
    assert {name: s["rows"] for name, s in report["formats"].items()} == \
           {"verl": 12, "hf": 12, "hf-dataset": 12, "openrlhf": 12}
    coding_ids = [r.episode_id for r in read_records(runs["coding"])]
    assert [row["episode_id"] for row in read_verl_parquet(out / "train.parquet")] == coding_ids
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert [(row["episode_id"], row["source"], len(row["tools"])) for row in rows] == \
           [(e, "builtin", 5) for e in coding_ids]  # the first of equally rewarded attempts stays

    # keep the unrewarded imports too: they rank below every known reward under the cap
    proc = clawgym("sft", "build", str(runs["coding"]), str(runs["openclaw"]), str(authors), "--out", str(out),
                   "--keep-unrewarded", "--per-task-cap", "1", "--no-dedupe", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["kept"] == 12 and report["dropped"] == {"per_task_cap": 8}
    assert set(report["formats"]) == {"verl", "hf"}


def test_cli_build_tokenized_formats(runs: dict[str, Path], tokenizer: Any, tmp_path: Path) -> None:
    tokenizer.save_pretrained(tmp_path / "tok")
    out = tmp_path / "sft"
    proc = clawgym("sft", "build", str(runs["openclaw"]), "--out", str(out), "--format", "tokens,openrlhf-pretok",
                   "--tokenizer", str(tmp_path / "tok"), "--chat-template", "qwen3_instruct_2507")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "sft_build.json").read_text())
    assert report["formats"]["tokens"]["rows"] == 4 and report["formats"]["openrlhf-pretok"]["rows"] == 4

    proc = clawgym("sft", "build", str(runs["openclaw"]), "--out", str(out), "--format", "tokens",
                   "--tokenizer", str(tmp_path / "tok"), "--from-rollout-tokens")
    assert proc.returncode == 2 and "no recorded token ids" in proc.stderr


def test_cli_build_failures(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sft"
    proc = clawgym("sft", "build", str(runs["coding"]), "--out", str(out), "--min-reward", "1.5")
    assert proc.returncode == 1
    assert "no trajectory passed the filter" in proc.stderr and "low_reward" in proc.stdout
    assert not out.exists()

    proc = clawgym("sft", "build", str(runs["coding"]), "--out", str(out), "--format", "verl,tokens")
    assert proc.returncode == 2 and "need --tokenizer" in proc.stderr and not out.exists()

    proc = clawgym("sft", "build", str(runs["coding"]), "--out", str(out), "--format", "csv")
    assert proc.returncode == 2 and "unknown format" in proc.stderr

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "x", "completion": "y"}\n')
    proc = clawgym("sft", "build", str(bad), "--out", str(out))
    assert proc.returncode == 2 and f"{bad}:1:" in proc.stderr


def test_cli_import(runs: dict[str, Path], records: list[TrajectoryRecord], tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    assert clawgym("export-session", str(runs["coding"]), str(sessions)).returncode == 0
    system = tmp_path / "system.txt"
    system.write_text(records[0].messages[0]["content"])
    out = tmp_path / "imported.jsonl"
    proc = clawgym("sft", "import", str(sessions), "--out", str(out), "--system-prompt-file", str(system),
                   "--tools-profile", "coding")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 12 records" in proc.stdout
    imported = {r.key: r for r in read_records(out, strict=True)}
    for orig in records:
        assert parsed_args(sft_messages(imported[orig.key])) == parsed_args(sft_messages(orig))
    # an imported file is our record format: importing it again changes nothing
    again = list(load_trajectories(out))
    assert [r.model_dump() for r in again] == [r.model_dump() for r in read_records(out)]


def test_import_is_light() -> None:
    code = ("import sys, clawgym_env, clawgym_env.sft, clawgym_env.cli; clawgym_env.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'pyarrow', 'pandas') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

