"""Agents against a real HTTP endpoint, the real openai client, real parsing and real envs.

The only test double is the model behind the server (tests/chat_server.py: a scripted stand-in,
because no model runs in CI).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest
from chat_server import ScriptedModelServer, error_reply, text_reply, tool_call_reply

import clawgym_env  # noqa: F401 - registers the built-in suite
from clawgym_env.agents import (
    AgentError,
    AgentTurn,
    OpenAIChatAgent,
    OracleAgent,
    ReplayAgent,
    ScriptedAgent,
    make_agent,
)
from clawgym_env.agents.openai_agent import _retry_after
from clawgym_env.tools.parsing import parse_action

TOOLS = [{"type": "function", "function": {"name": "exec", "description": "Run a shell command",
                                           "parameters": {"type": "object", "properties": {"command": {"type": "string"}},
                                                          "required": ["command"]}}}]
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a personal assistant."},
    {"role": "user", "content": "List the workspace."},
]


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as s:
        yield s


def agent_for(server: ScriptedModelServer, **kw: Any) -> OpenAIChatAgent:
    opts: dict[str, Any] = {"api_key": "test-key", "temperature": 0.6, "top_p": 0.95, "max_tokens": 512,
                            "timeout_s": 10.0, "max_retries": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    opts.update(kw)
    return OpenAIChatAgent(server.base_url, "qwen-test", **opts)


def act(agent: Any, messages: list[dict[str, Any]] = MESSAGES, tools: list[dict[str, Any]] = TOOLS) -> AgentTurn:
    return asyncio.run(agent.act(messages, tools))


# ---------------------------------------------------------------------- what goes over the wire
def test_native_tool_calls_and_the_request_the_server_sees(server: ScriptedModelServer) -> None:
    server.push(tool_call_reply([{"id": "call_abc", "name": "exec", "arguments": {"command": "ls -R"}}],
                                usage={"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338,
                                       "prompt_tokens_details": {"cached_tokens": 256}}))
    history = MESSAGES + [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "exec", "arguments": "{\"command\": \"pwd\"}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "name": "exec", "content": "/root/.openclaw/workspace"},
    ]
    agent = agent_for(server, extra_body={"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}})
    turn = act(agent, history)

    call = turn.message["tool_calls"][0]
    assert turn.message["role"] == "assistant"
    assert call["id"] == "call_abc" and call["function"]["name"] == "exec"
    assert json.loads(call["function"]["arguments"]) == {"command": "ls -R"}
    assert turn.usage == {"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338, "cached_tokens": 256}
    assert turn.latency_s > 0 and turn.model == "scripted-stand-in-model"
    assert turn.raw["finish_reason"] == "tool_calls" and turn.raw["attempts"] == 1
    assert turn.raw["text_tool_calls"] is False

    (req,) = server.chat_requests
    body = req.body
    assert req.path == "/v1/chat/completions" and req.headers["authorization"] == "Bearer test-key"
    assert body["model"] == "qwen-test" and body["temperature"] == 0.6 and body["top_p"] == 0.95
    assert body["max_tokens"] == 512 and body["tools"] == TOOLS and "tool_choice" not in body
    assert body["top_k"] == 20 and body["chat_template_kwargs"] == {"enable_thinking": False}
    # OpenClaw's wire format: tool results as {role, tool_call_id, content}, arguments as JSON strings
    assert body["messages"][-1] == {"role": "tool", "tool_call_id": "call_0", "content": "/root/.openclaw/workspace"}
    assert body["messages"][2]["tool_calls"][0]["function"]["arguments"] == "{\"command\": \"pwd\"}"
    assert body["messages"][:2] == MESSAGES
    assert agent.config() == {
        "agent": "openai", "name": "openai", "base_url": server.base_url, "model": "qwen-test", "temperature": 0.6,
        "top_p": 0.95, "max_tokens": 512, "max_tokens_param": "max_tokens", "timeout_s": 10.0, "max_retries": 3,
        "extra_body": {"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}}, "text_tool_calls": True,
    }


def test_text_tool_calls_from_a_server_without_a_tool_parser(server: ScriptedModelServer) -> None:
    server.push(
        text_reply('Let me look.\n<tool_call>\n{"name": "exec", "arguments": {"command": "ls"}}\n</tool_call>'),
        text_reply("<tool_call>\n<function=exec>\n<parameter=command>\ncat a.txt\n</parameter>\n</function>\n"
                   "</tool_call>", finish_reason="stop"),
        text_reply('<tool_call>{"name": "exec", "arguments": {"command": "ls"}}</tool_call>'),
    )
    history = MESSAGES + [{"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_0", "type": "function", "function": {"name": "exec", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "x"}]
    agent = agent_for(server)

    turn = act(agent, history)
    assert turn.message["content"] == "Let me look."
    (call,) = turn.message["tool_calls"]
    assert call["function"] == {"name": "exec", "arguments": '{"command": "ls"}'}
    assert call["id"] == "call_1"  # continues the conversation's numbering: ids stay unique
    assert turn.raw["text_tool_calls"] is True and "<tool_call>" in turn.raw["content"]

    turn = act(agent)  # Qwen3-Coder's XML form
    assert turn.message["tool_calls"][0]["function"] == {"name": "exec", "arguments": '{"command": "cat a.txt"}'}

    raw_agent = agent_for(server, text_tool_calls=False)
    turn = act(raw_agent)
    assert "tool_calls" not in turn.message and turn.message["content"].startswith("<tool_call>")


def test_malformed_arguments_come_back_and_the_env_answers_with_openclaws_error(server: ScriptedModelServer) -> None:
    server.push(
        tool_call_reply([{"id": "call_w", "name": "write", "arguments": '{"path" "notes.txt"}'}]),
        text_reply('<tool_call>{"name": "write", "arguments": {"path": }</tool_call>'),
        text_reply("<tool_call>not json at all</tool_call>"),
    )
    agent = agent_for(server)
    env = gym.make("ClawGym/task-0042")
    try:
        _, info = env.reset(seed=0)
        expected = ('Validation failed for tool "write":\n  - content: must have required property \'content\'\n\n'
                    'Received arguments:\n{}')

        turn = act(agent, info["messages"], info["tools"])
        assert turn.message["tool_calls"][0]["function"]["arguments"] == '{"path" "notes.txt"}'  # passed on as is
        obs, _, terminated, truncated, info = env.step(turn.message)
        assert obs == expected and not (terminated or truncated)
        assert info["messages"][-1] == {"role": "tool", "tool_call_id": "call_w", "name": "write", "content": expected}

        turn = act(agent, info["messages"], info["tools"])
        assert turn.message["tool_calls"][0]["function"] == {"name": "write", "arguments": "{}"}  # OpenClaw's rule
        (bad,) = turn.raw["malformed_tool_calls"]
        assert bad["text"] == '{"name": "write", "arguments": {"path": }' and "invalid JSON" in bad["error"]
        obs, *_ = env.step(turn.message)
        assert obs == expected

        turn = act(agent, info["messages"], info["tools"])
        assert turn.message["tool_calls"][0]["function"]["name"] == ""
        obs, *_ = env.step(turn.message)
        assert obs == "Tool  not found"  # OpenClaw's text for a call with no name
    finally:
        env.close()


# ---------------------------------------------------------------------- retries and failures
def test_429_then_success_honours_retry_after(server: ScriptedModelServer) -> None:
    server.push(error_reply(429, "slow down", retry_after="1"), text_reply("done"))
    started = time.monotonic()
    turn = act(agent_for(server))
    assert turn.message == {"role": "assistant", "content": "done"} and turn.raw["attempts"] == 2
    first, second = server.chat_requests
    assert second.received_at - first.received_at >= 0.95  # waited what the server asked, not the 10 ms backoff
    assert time.monotonic() - started < 5
    assert turn.latency_s >= 0.95 and turn.raw["request_latency_s"] < 0.95


def test_retry_after_is_bounded(server: ScriptedModelServer) -> None:
    server.push(error_reply(503, "overloaded", retry_after="3600"), text_reply("done"))
    started = time.monotonic()
    turn = act(agent_for(server, retry_after_max_s=0.2))
    assert turn.raw["attempts"] == 2 and time.monotonic() - started < 5


def test_retry_after_header_forms() -> None:
    assert _retry_after({"retry-after": "2"}) == 2.0
    assert _retry_after({"retry-after": "1.5", "retry-after-ms": "250"}) == 0.25
    assert _retry_after({}) is None and _retry_after({"retry-after": "soon"}) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (_retry_after({"retry-after": date}) or 0) <= 31


def test_server_errors_exhaust_the_retries_then_agent_error(server: ScriptedModelServer) -> None:
    server.push(*[error_reply(500, "boom")] * 3, text_reply("never reached"))
    with pytest.raises(AgentError, match="server after 3 attempts") as exc:
        act(agent_for(server, max_retries=2))
    assert exc.value.kind == "server" and exc.value.attempts == 3 and exc.value.status_code == 500
    assert len(server.chat_requests) == 3 and server.remaining == 1


def test_a_server_slower_than_timeout_is_retried_then_agent_error(server: ScriptedModelServer) -> None:
    server.push(*[error_reply(200, delay_s=3.0)] * 2)
    started = time.monotonic()
    with pytest.raises(AgentError, match="timeout after 2 attempts") as exc:
        act(agent_for(server, timeout_s=0.3, max_retries=1))
    assert exc.value.kind == "timeout" and exc.value.attempts == 2
    assert time.monotonic() - started < 2.5 and len(server.chat_requests) == 2


def test_a_timeout_then_a_fast_answer_succeeds(server: ScriptedModelServer) -> None:
    server.push(error_reply(200, delay_s=3.0), text_reply("done"))
    turn = act(agent_for(server, timeout_s=0.5, max_retries=1))
    assert turn.message["content"] == "done" and turn.raw["attempts"] == 2


def test_client_errors_are_not_retried_and_context_overflow_is_named(server: ScriptedModelServer) -> None:
    server.push(error_reply(404, "The model `qwen-test` does not exist."),
                error_reply(400, "This model's maximum context length is 32768 tokens. However, you requested 40000"))
    with pytest.raises(AgentError) as exc:
        act(agent_for(server))
    assert exc.value.kind == "client" and exc.value.attempts == 1 and exc.value.status_code == 404
    with pytest.raises(AgentError) as exc:
        act(agent_for(server))
    assert exc.value.kind == "context_length" and exc.value.attempts == 1
    assert len(server.chat_requests) == 2


def test_connection_refused_is_retried_then_agent_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    agent = OpenAIChatAgent(f"http://127.0.0.1:{port}/v1", "m", max_retries=2, backoff_base_s=0.01, timeout_s=5)
    with pytest.raises(AgentError) as exc:
        act(agent)
    assert exc.value.kind == "connection" and exc.value.attempts == 3


def test_a_200_that_is_not_a_completion_is_an_agent_error(server: ScriptedModelServer) -> None:
    server.push({"status": 200, "body": {"object": "chat.completion", "choices": []}})
    with pytest.raises(AgentError) as exc:
        act(agent_for(server, max_retries=0))
    assert exc.value.kind == "bad_response"


def test_one_agent_serves_concurrent_episodes_and_event_loops(server: ScriptedModelServer) -> None:
    server.push(*[text_reply(f"reply {i}") for i in range(8)])
    agent = agent_for(server)

    async def many() -> list[AgentTurn]:
        return await asyncio.gather(*[agent.act(MESSAGES, TOOLS) for _ in range(8)])

    turns = asyncio.run(many())
    assert sorted(t.message["content"] for t in turns) == sorted(f"reply {i}" for i in range(8))
    server.push(text_reply("again"))
    assert act(agent).message["content"] == "again"  # a new event loop gets its own client


# ---------------------------------------------------------------------- whole episodes
async def play(env: Any, agent: Any, seed: int = 0) -> tuple[float, dict[str, Any], list[AgentTurn]]:
    """The loop a rollout engine runs: env I/O on the env's worker thread, model I/O on the event loop."""
    agent.begin_episode(env.unwrapped.task)
    _, info = await env.unwrapped.areset(seed=seed)
    turns = []
    while True:
        turn = await agent.act(info["messages"], info["tools"])
        turns.append(turn)
        _, reward, terminated, truncated, info = await env.unwrapped.astep(turn.message)
        if terminated or truncated:
            return reward, info, turns


def test_an_episode_on_a_builtin_task_driven_through_the_openai_agent(server: ScriptedModelServer) -> None:
    env = gym.make("ClawGym/task-0042")
    try:
        oracle = env.unwrapped.task.oracle
        assert oracle, "task-0042 carries an oracle"
        for i, action in enumerate(oracle):  # the stand-in model replays the oracle as native tool calls
            call = parse_action(action).tool_calls[0]
            server.push(tool_call_reply([{"id": f"chatcmpl-tool-{i}", "name": call.name, "arguments": call.arguments}]))
        server.push(text_reply("All requested files are written."))

        reward, info, turns = asyncio.run(play(env, agent_for(server)))
        assert reward == 1.0 and info["infra_error"] is None
        assert info["final_message"] == "All requested files are written."
        assert len(turns) == len(oracle) + 1 and server.remaining == 0
        # every request carried the env's conversation so far, in OpenClaw's wire format
        requests = server.chat_requests
        assert requests[0].body["messages"] == [{"role": m["role"], "content": m["content"]} for m in info["messages"][:2]]
        last = requests[-1].body["messages"]
        assert [m["role"] for m in last] == [m["role"] for m in info["messages"][:-1]]
        tool_msgs = [m for m in last if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tool_msgs] == [f"chatcmpl-tool-{i}" for i in range(len(oracle))]
        assert all(r.body["tools"] == info["tools"] for r in requests)

        # the recording replays to the same result, on the same env
        replay = ReplayAgent({"messages": info["messages"]})
        reward2, info2, _ = asyncio.run(play(env, replay))
        assert reward2 == 1.0 and info2["messages"] == info["messages"]
    finally:
        env.close()


def test_scripted_and_oracle_agents_through_the_same_loop() -> None:
    env = gym.make("ClawGym/task-0042")
    try:
        oracle = env.unwrapped.task.oracle
        as_text = ["<tool_call>" + json.dumps(a) + "</tool_call>" for a in oracle]  # raw model text
        reward, info, turns = asyncio.run(play(env, ScriptedAgent(as_text, final="Finished.")))
        assert reward == 1.0 and info["final_message"] == "Finished."
        assert [t.message["tool_calls"][0]["id"] for t in turns[:-1]] == [f"call_{i}" for i in range(len(oracle))]
        reward, info, _ = asyncio.run(play(env, make_agent("oracle")))
        assert reward == 1.0

        reward, info, _ = asyncio.run(play(env, ScriptedAgent([{"name": "exec", "arguments": {"command": "true"}}])))
        assert reward < 1.0 and info["infra_error"] is None
    finally:
        env.close()


def test_replay_sources_and_running_out(tmp_path: Any) -> None:
    messages = MESSAGES + [{"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_0", "type": "function", "function": {"name": "exec", "arguments": "{\"command\": \"ls\"}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "a.txt"},
        {"role": "assistant", "content": "Done."}]
    path = tmp_path / "trajectories.jsonl"
    path.write_text(json.dumps({"task_id": "t1", "messages": messages[:3]}) + "\n"
                    + json.dumps({"task_id": "t2", "messages": messages}) + "\n")
    for agent in (ReplayAgent(messages), ReplayAgent(json.dumps({"messages": messages})),
                  ReplayAgent.from_jsonl(path, task_id="t2"), make_agent("replay", path=str(path), index=1)):
        first, second = act(agent), act(agent)
        assert first.message["tool_calls"][0]["id"] == "call_0" and second.message == messages[-1]
        with pytest.raises(AgentError) as exc:
            act(agent)
        assert exc.value.kind == "exhausted"
        agent.begin_episode(None)  # type: ignore[arg-type]  # a new episode replays from the start
        assert act(agent).message == first.message
    with pytest.raises(ValueError, match="no assistant messages"):
        ReplayAgent(MESSAGES)


def test_make_agent_names_and_a_light_import() -> None:
    assert isinstance(make_agent("oracle"), OracleAgent)
    assert isinstance(make_agent("scripted", actions=[]), ScriptedAgent)
    agent = make_agent("openai", base_url="http://127.0.0.1:9/v1", model="m", temperature=0.0)
    assert isinstance(agent, OpenAIChatAgent) and agent.config()["temperature"] == 0.0
    with pytest.raises(ValueError, match="unknown agent 'gpt'.*oracle, openai, hf, replay, scripted"):
        make_agent("gpt")
    code = ("import sys, clawgym_env.agents; "
            "print(sorted(m for m in ('openai', 'torch', 'transformers', 'httpx', 'httpx2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
