"""Token ids + loss masks from real oracle trajectories, with the Qwen3-Instruct-2507 chat template that
ships inside TRL and a byte-level BPE tokenizer trained here (no model hub is reachable).

The acceptance round trip: messages -> token ids + mask -> the decoded masked spans are exactly the
assistant messages (their rendered text, and parsed back: the same content and tool calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers", reason="transformers is not installed: pip install 'clawgym[train]' (after torch==2.13.0)")

from clawgym_env.rollout.records import TrajectoryRecord, TurnRecord, read_records
from clawgym_env.sft.tiny import build_tiny_tokenizer
from clawgym_env.sft.tokenize import (
    TemplateDriftError,
    check_per_message_tokenization,
    resolve_chat_template,
    stop_tokens,
    template_messages,
    to_openrlhf_pretok,
    tokenize_conversation,
    tokens_from_rollout,
)
from clawgym_env.tools.parsing import parse_action


@pytest.fixture(scope="module")
def tok() -> Any:
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def records(oracle_records_path: Path) -> list[TrajectoryRecord]:
    recs = read_records(oracle_records_path)
    assert len(recs) == 100 and all(r.reward == 1.0 and r.infra_error is None for r in recs)
    return recs


def _strip_stop(text: str, tok: Any) -> str:
    for s in stop_tokens(tok):
        if text.endswith(s):
            return text[: -len(s)]
    raise AssertionError(f"trained span does not end with an end-of-turn token: {text[-40:]!r}")


def test_round_trip_on_100_oracle_trajectories(tok: Any, records: list[TrajectoryRecord]) -> None:
    n_assistant = 0
    for rec in records:
        conv = tokenize_conversation(tok, rec.messages, rec.tools)
        assistants = [m for m in rec.messages if m["role"] == "assistant"]
        assert len(conv.spans) == len(assistants) >= 2
        assert len(conv.input_ids) == len(conv.loss_mask)
        # the mask is exactly the union of the spans
        in_spans = {i for s, e in conv.spans for i in range(s, e)}
        assert [int(i in in_spans) for i in range(len(conv.input_ids))] == conv.loss_mask
        # and equals templating the whole conversation at once, token for token
        assert conv.input_ids == tok.apply_chat_template(rec.messages, tools=rec.tools, tokenize=True,
                                                         return_dict=False)
        for msg, text in zip(assistants, conv.trained_text(tok), strict=True):
            body = _strip_stop(text, tok)
            assert not body.startswith("<|im_start|>")  # the generation-prompt header is context
            parsed = parse_action(body)
            assert parsed.content.strip() == (msg.get("content") or "").strip()
            want = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in msg.get("tool_calls") or []]
            got = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                   for c in parsed.assistant_message.get("tool_calls") or []]
            assert got == want
            n_assistant += 1
        # everything outside the spans (system, user, tool results, headers) is mask 0 and holds them
        outside = tok.decode([t for t, m in zip(conv.input_ids, conv.loss_mask) if not m])
        assert rec.messages[1]["content"] in outside
        assert all(m["content"] in outside for m in rec.messages if m["role"] == "tool")
    assert n_assistant >= 300


def test_qwen25_template_gets_arguments_as_objects(tok: Any, records: list[TrajectoryRecord]) -> None:
    """Qwen2.5's template ``tojson``s arguments: a JSON string would be printed quoted and escaped."""
    qwen25 = build_tiny_tokenizer(chat_template="qwen2_5")
    msgs = records[0].messages
    assert isinstance(template_messages(tok, msgs)[2]["tool_calls"][0]["function"]["arguments"], str)
    assert isinstance(template_messages(qwen25, msgs)[2]["tool_calls"][0]["function"]["arguments"], dict)
    conv = tokenize_conversation(qwen25, msgs, records[0].tools)
    assert '"arguments": {"path"' in conv.trained_text(qwen25)[0]


def test_a_template_that_rewrites_history_is_an_error(tok: Any, records: list[TrajectoryRecord]) -> None:
    tok2 = build_tiny_tokenizer()
    tok2.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }} (turn {{ loop.index }} of {{ messages|length }})\n"
                          "{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    with pytest.raises(TemplateDriftError, match="not prefix-preserving"):
        tokenize_conversation(tok2, records[0].messages, records[0].tools)


def test_a_token_merging_across_a_turn_boundary_is_an_error(records: list[TrajectoryRecord]) -> None:
    """A vocabulary entry spanning the assistant header and the reply: per-turn tokenization
    splits it, whole-conversation tokenization does not."""
    tok2 = build_tiny_tokenizer()
    msgs = [m for m in records[0].messages[:2]] + [{"role": "assistant", "content": "Done."}]
    tokenize_conversation(tok2, msgs)  # fine before
    tok2.add_tokens(["assistant\nDone"])
    with pytest.raises(TemplateDriftError, match="at token"):
        tokenize_conversation(tok2, msgs)


def test_verl_per_message_check(tok: Any, records: list[TrajectoryRecord]) -> None:
    rec = records[0]
    check_per_message_tokenization(tok, rec.messages, rec.tools)  # one tool call per turn: veRL agrees
    # two calls in one turn -> two consecutive tool messages, which the Qwen template merges into one
    # user turn while veRL templates each alone: veRL's AssertionError, reported here first
    msgs = [dict(m) for m in rec.messages]
    first_call = msgs[2]["tool_calls"][0]
    msgs[2] = {**msgs[2], "tool_calls": [first_call, {**first_call, "id": "call_1"}]}
    msgs.insert(4, {**msgs[3], "tool_call_id": "call_1"})
    tokenize_conversation(tok, msgs, rec.tools)  # our prefix segmentation handles it
    with pytest.raises(TemplateDriftError, match="veRL per-message"):
        check_per_message_tokenization(tok, msgs, rec.tools)


def test_openrlhf_pretok_row(tok: Any, records: list[TrajectoryRecord]) -> None:
    rec = records[1]
    conv = tokenize_conversation(tok, rec.messages, rec.tools)
    row = to_openrlhf_pretok(conv, tok)
    assert row["prompt"] + row["response"] == conv.text
    assert len(tok(row["prompt"], add_special_tokens=False)["input_ids"]) == row["prompt_ids_len"] == conv.spans[0][0]
    assert row["response_ranges"] == [[s - 1, e - 1] for s, e in conv.spans]
    ids = tok(row["prompt"] + row["response"], add_special_tokens=False)["input_ids"]
    for (s, e), text in zip(row["response_ranges"], conv.trained_text(tok)):
        assert tok.decode(ids[s + 1:e + 1]) == text  # logit positions [s, e) predict tokens [s+1, e+1)


def _rollout_record(tok: Any, rec: TrajectoryRecord) -> TrajectoryRecord:
    """What HFAgent records per turn (prompt_ids, response_ids) for a history rendered consistently."""
    conv = tokenize_conversation(tok, rec.messages, rec.tools)
    turns = [TurnRecord(index=k, raw={"prompt_ids": conv.input_ids[:s], "response_ids": conv.input_ids[s:e]})
             for k, (s, e) in enumerate(conv.spans)]
    return rec.model_copy(update={"turns": turns})


def test_tokens_from_rollout_are_the_recorded_ids(tok: Any, records: list[TrajectoryRecord]) -> None:
    rec = _rollout_record(tok, records[2])
    conv = tokenize_conversation(tok, records[2].messages, records[2].tools)
    got = tokens_from_rollout(rec)
    end = conv.spans[-1][1]
    assert got.input_ids == conv.input_ids[:end] and got.loss_mask == conv.loss_mask[:end]
    assert got.spans == conv.spans
    # a history re-rendered differently from what the model generated is drift, named by turn
    turns = [t.model_copy() for t in rec.turns]
    turns[2].raw = {**turns[2].raw, "prompt_ids": turns[2].raw["prompt_ids"][:-5] + [0] * 5}
    with pytest.raises(TemplateDriftError, match="turn 2"):
        tokens_from_rollout(rec.model_copy(update={"turns": turns}))
    with pytest.raises(ValueError, match="no recorded token ids"):
        tokens_from_rollout(records[2])


def test_unknown_chat_template_name_lists_the_known_ones() -> None:
    with pytest.raises(FileNotFoundError, match="qwen3_instruct_2507"):
        resolve_chat_template("no_such_template")
