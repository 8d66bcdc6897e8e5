"""HFAgent with a real (tiny, random) transformers model on a real env.

No model can be downloaded here, so the model is a randomly initialised Qwen2-architecture network
with tiny sizes and the tokenizer is a byte-level BPE trained on local text (the README, the env's
system prompt and tool schemas, built-in task requests; ``clawgym_env.sft.tiny.build_tiny_tokenizer``).
The chat template is the real Qwen2.5 one that TRL ships (``trl/chat_templates/qwen2_5.jinja``). The
model writes garbage; what is tested is the plumbing: rendering, generation off the event loop,
parsing, exact token ids, clean episode ends.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip(
    "torch", reason="torch is not installed: pip install torch==2.13.0, then the [train] extra (.ci/run does both)")
transformers = pytest.importorskip(
    "transformers", reason="transformers is not installed: pip install 'clawgym[train]' after torch==2.13.0")
pytest.importorskip("trl", reason="TRL (its bundled Qwen2.5 chat template) is not installed: pip install 'clawgym[train]'")

import gymnasium as gym

import clawgym_env  # noqa: F401 - registers the built-in suite
from clawgym_env.agents import AgentError, HFAgent, ScriptedAgent, make_agent
from clawgym_env.sft.tiny import build_tiny_tokenizer
from clawgym_env.synth.compose import synthesize

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> dict[str, Any]:
    env = gym.make("ClawGym/task-0042")
    try:
        corpus = [(REPO / "README.md").read_text(), env.unwrapped.system_prompt,
                  json.dumps(env.unwrapped.tool_schemas, indent=2)]
    finally:
        env.close()
    corpus += [synthesize(i).task.user_query for i in range(0, 400, 20)]
    tokenizer = build_tiny_tokenizer(corpus, vocab_size=1500, chat_template="qwen2_5")

    torch.manual_seed(0)
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32768, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    model = transformers.Qwen2ForCausalLM(config).eval()
    return {"model": model, "tokenizer": tokenizer}


def run_episode(env: Any, agents: list[Any]) -> tuple[float, bool, bool, dict[str, Any], list[Any]]:
    """Play with ``agents[0]`` for one turn, ``agents[1]`` for the next, ..., the last one until the end."""

    async def go() -> tuple[float, bool, bool, dict[str, Any], list[Any]]:
        for a in agents:
            a.begin_episode(env.unwrapped.task)
        _, info = await env.unwrapped.areset(seed=0)
        turns = []
        while True:
            agent = agents[min(len(turns), len(agents) - 1)]
            turn = await agent.act(info["messages"], info["tools"])
            turns.append(turn)
            _, reward, terminated, truncated, info = await env.unwrapped.astep(turn.message)
            if terminated or truncated:
                return reward, terminated, truncated, info, turns

    return asyncio.run(go())


def test_a_whole_episode_through_hf_agent_with_exact_token_ids(tiny: dict[str, Any]) -> None:
    tok = tiny["tokenizer"]
    scripted = ScriptedAgent([{"name": "exec", "arguments": {"command": "ls input"}}])
    agent = HFAgent(tiny["model"], tok, max_new_tokens=24, temperature=1.0, device="cpu")
    env = gym.make("ClawGym/task-0042", max_steps=3)
    try:
        reward, terminated, truncated, info, turns = run_episode(env, [scripted, agent])
    finally:
        env.close()
    assert terminated or truncated
    assert info["infra_error"] is None and 0.0 <= reward <= 1.0 and "verifier" in info
    hf_turns = turns[1:]
    assert 1 <= len(hf_turns) <= 2
    for turn in hf_turns:
        raw = turn.raw
        # exact ids: the response ids decode to the generated text, the prompt ids to the rendered prompt
        assert tok.decode(raw["response_ids"], skip_special_tokens=False) == raw["response_text"]
        assert tok.decode(raw["prompt_ids"], skip_special_tokens=False) == raw["prompt_text"]
        assert raw["prompt_ids"] == tok(raw["prompt_text"], add_special_tokens=False)["input_ids"]
        assert 1 <= len(raw["response_ids"]) <= 24 and raw["finish_reason"] in ("stop", "length")
        assert raw["response_text"].startswith(raw["text"])
        assert turn.usage == {"prompt_tokens": len(raw["prompt_ids"]), "completion_tokens": len(raw["response_ids"])}
        assert turn.message["role"] == "assistant" and turn.latency_s > 0
    # the history the model saw: the scripted call rendered by the real template (arguments as an object,
    # not a double-encoded string) and its result as a tool response
    prompt = hf_turns[0].raw["prompt_text"]
    assert '<tool_call>\n{"name": "exec", "arguments": {"command": "ls input"}}\n</tool_call>' in prompt
    assert "<tool_response>\n" in prompt and prompt.endswith("<|im_start|>assistant\n")
    assert '"name": "write"' in prompt  # the tool schemas are in the system turn
    assert info["messages"][4]["role"] == "assistant"  # the HF turn is in the env's conversation


def test_a_stop_token_ends_the_turn_and_the_episode(tiny: dict[str, Any]) -> None:
    tok = tiny["tokenizer"]
    every_token = list(range(len(tok)))  # whatever the model samples first ends its turn
    agent = HFAgent(tiny["model"], tok, max_new_tokens=8, temperature=0.0, stop_token_ids=every_token)
    env = gym.make("ClawGym/task-0042", max_steps=2)
    try:
        _, terminated, truncated, info, turns = run_episode(env, [agent])
    finally:
        env.close()
    (turn,) = turns
    assert turn.raw["finish_reason"] == "stop" and len(turn.raw["response_ids"]) == 1 and turn.raw["text"] == ""
    assert "tool_calls" not in turn.message and terminated and not truncated and info["infra_error"] is None


def test_generation_runs_off_the_event_loop_and_greedy_is_deterministic(tiny: dict[str, Any]) -> None:
    agent = make_agent("hf", model_or_path=tiny["model"], tokenizer=tiny["tokenizer"], max_new_tokens=48,
                       temperature=0.0)
    messages = [{"role": "system", "content": "You are a personal assistant."},
                {"role": "user", "content": "Summarise input/notes.txt into output/summary.md."}]
    tools = [{"type": "function", "function": {"name": "read", "description": "Read a file",
                                               "parameters": {"type": "object",
                                                              "properties": {"path": {"type": "string"}}}}}]

    async def go() -> tuple[Any, Any, int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.002)

        t = asyncio.create_task(ticker())
        first = await agent.act(messages, tools)
        second = await agent.act(messages, tools)
        done.set()
        await t
        return first, second, ticks

    first, second, ticks = asyncio.run(go())
    assert ticks >= 3  # the loop kept running while the model generated
    assert first.raw["response_ids"] == second.raw["response_ids"]
    assert agent.config()["temperature"] == 0.0 and agent.config()["agent"] == "hf"


def test_loading_from_a_saved_checkpoint(tiny: dict[str, Any], tmp_path: Path) -> None:
    tiny["model"].save_pretrained(tmp_path)
    tiny["tokenizer"].save_pretrained(tmp_path)
    agent = make_agent("hf", model_or_path=str(tmp_path), max_new_tokens=4, temperature=0.0)
    assert agent.config()["model"] == str(tmp_path) and not agent.model.training
    given = HFAgent(tiny["model"], tiny["tokenizer"], max_new_tokens=4, temperature=0.0)
    messages = [{"role": "user", "content": "Write output/report.md."}]
    assert asyncio.run(agent.act(messages, [])).raw["response_ids"] == \
        asyncio.run(given.act(messages, [])).raw["response_ids"]


def test_construction_errors_are_clear(tiny: dict[str, Any]) -> None:
    bare = transformers.PreTrainedTokenizerFast(tokenizer_object=tiny["tokenizer"].backend_tokenizer,
                                                eos_token="<|im_end|>")
    with pytest.raises(ValueError, match="no chat template"):
        HFAgent(tiny["model"], bare)
    assert issubclass(AgentError, RuntimeError)
