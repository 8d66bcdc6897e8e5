"""ClawGymEnv through gymnasium's own machinery, on real train tasks and real bwrap sandboxes."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import clawgym_env
from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox.bwrap import _pids_of_uid
from clawgym_env.tasks import load_task

WS = "/root/.openclaw/workspace"


@pytest.fixture(scope="module")
def train_ids(train_dir: Path) -> list[str]:
    return clawgym_env.register_suite(train_dir)


@pytest.fixture
def env(train_dir: Path):
    e = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=8)
    yield e
    e.close()


def exec_call(cmd: str) -> dict:
    return {"name": "exec", "arguments": {"command": cmd}}


def test_register_suite_gives_one_real_gym_id_per_task(train_ids: list[str], train_dir: Path) -> None:
    assert len(train_ids) == 2000 and train_ids[9] == "ClawGym/task_0009"
    spec = gym.spec("ClawGym/task_0009")
    assert spec.entry_point == "clawgym_env.env:make_task_env"
    assert clawgym_env.register_suite(train_dir) == train_ids  # idempotent
    with pytest.raises(ValueError, match="already registered by another suite"):
        clawgym_env.register_suite(train_dir / "task_0009")


def test_gym_make_reset_step(train_ids: list[str]) -> None:
    env = gym.make("ClawGym/task_0009", max_steps=4)
    try:
        obs, info = env.reset(seed=0)
        assert obs.startswith("I'm drafting a column")
        assert [m["role"] for m in info["messages"]] == ["system", "user"]
        assert "Your working directory is: /root/.openclaw/workspace" in info["system_prompt"]
        assert {t["function"]["name"] for t in info["tools"]} == {"read", "write", "edit", "exec", "process"}
        obs, reward, term, trunc, info = env.step(exec_call("pwd; ls input"))
        assert obs == f"{WS}\nfan_comments.html\nsponsors.csv\nteams.json"
        assert (reward, term, trunc) == (0.0, False, False)
        assert info["messages"][-1]["role"] == "tool"
        obs, reward, term, trunc, info = env.step({"role": "assistant", "content": "I could not finish."})
        assert term and not trunc and reward < 0.2
        assert info["final_message"] == "I could not finish."
        assert isinstance(info["subscores"], dict) and info["infra_error"] is None
        with pytest.raises(RuntimeError, match="call reset"):
            env.step(exec_call("true"))
    finally:
        env.close()


def test_check_env_passes(train_ids: list[str]) -> None:
    env = gym.make("ClawGym/task_0009").unwrapped
    try:
        check_env(env, skip_render_check=False)
    finally:
        env.close()


def test_reset_restores_the_initial_workspace(env: ClawGymEnv) -> None:
    env.reset()
    env.step(exec_call("rm -rf input; mkdir -p junk/deep; echo x > junk/deep/f; chmod 000 junk/deep; ls -A"))
    obs, _ = env.reset()
    obs, *_ = env.step(exec_call("ls -A; cat /proc/loadavg >/dev/null; ls input"))
    assert obs == "input\nfan_comments.html\nsponsors.csv\nteams.json"


def test_reset_mid_episode_kills_the_old_processes(env: ClawGymEnv) -> None:
    env.reset()
    env.step(exec_call("nohup sleep 300 >/dev/null 2>&1 &"))
    env.reset()
    obs, *_ = env.step(exec_call("ps -eo comm | grep -c sleep || true"))
    assert obs.strip().splitlines()[-1] == "0"


def test_action_forms(env: ClawGymEnv) -> None:
    env.reset()
    obs, *_ = env.step({"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "exec", "arguments": json.dumps({"command": "echo a"})}},
        {"id": "c2", "type": "function", "function": {"name": "exec", "arguments": {"command": "echo b"}}}]})
    assert obs == "a\n\nb"
    obs, *_ = env.step('Let me look.\n<tool_call>\n{"name": "exec", "arguments": {"command": "echo c"}}\n</tool_call>')
    assert obs == "c"
    obs, _, term, *_ = env.step(exec_call("echo d"))
    assert obs == "d" and not term


def test_malformed_calls_give_openclaw_errors_not_exceptions(env: ClawGymEnv) -> None:
    env.reset()
    obs, _, term, trunc, _ = env.step({"name": "bogus_tool", "arguments": {}})
    assert obs == "Tool bogus_tool not found" and not term and not trunc
    obs, _, term, *_ = env.step({"name": "exec", "arguments": {}})
    assert obs.startswith('Validation failed for tool "exec":') and not term
    obs, _, term, *_ = env.step('<tool_call>{"name": "exec", "arguments": {"command": </tool_call>')
    assert not term and obs  # an error text for the model, never an exception


def test_max_steps_truncates_and_still_scores(train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=2)
    try:
        env.reset()
        assert env.step(exec_call("true"))[2:4] == (False, False)
        obs, reward, term, trunc, info = env.step(exec_call("true"))
        assert (term, trunc) == (False, True)
        assert info["verifier"]["reason"] is None and isinstance(info["subscores"], dict)
    finally:
        env.close()


def test_render_ansi(env: ClawGymEnv) -> None:
    env.render_mode = "ansi"
    env.reset()
    env.step(exec_call("echo hi"))
    env.step({"role": "assistant", "content": "bye"})
    text = env.render()
    assert "[call] exec(" in text and "[exec] hi" in text and "[assistant] bye" in text and "[reward]" in text


def test_close_leaves_no_process_and_no_workspace(train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0009"))
    env.reset()
    env.step(exec_call("setsid nohup sleep 300 >/dev/null 2>&1 & (sleep 301 &) ; true"))
    uid, ws = env.sandbox.uid, env.sandbox.host_workspace
    assert _pids_of_uid(uid)
    env.close()
    assert _pids_of_uid(uid) == [] and not ws.exists()


def test_garbage_collection_closes_the_sandbox(train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0009"))
    env.reset()
    env.step(exec_call("true"))
    uid = env.sandbox.uid
    del env
    gc.collect()
    deadline = time.monotonic() + 5
    while _pids_of_uid(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_of_uid(uid) == []


def test_killed_sandbox_is_an_infra_error(env: ClawGymEnv) -> None:
    env.reset()
    env.step(exec_call("true"))
    uid = env.sandbox.uid
    while _pids_of_uid(uid):  # the host kills the sandbox under the episode (OOM killer, admin, ...)
        for pid in _pids_of_uid(uid):
            os.kill(pid, 9)
        time.sleep(0.01)
    obs, reward, term, trunc, info = env.step(exec_call("echo hi"))
    assert info["infra_error"] and "sandbox" in info["infra_error"]
    assert trunc and reward == 0.0
    obs, _ = env.reset()  # and the env recovers
    assert env.step(exec_call("echo back"))[0] == "back"


def test_sync_vector_env(train_ids: list[str]) -> None:
    envs = gym.vector.SyncVectorEnv([lambda i=i: gym.make(train_ids[i]) for i in (0, 9)])
    try:
        obs, infos = envs.reset(seed=0)
        assert len(obs) == 2 and all(isinstance(o, str) for o in obs)
        obs, rewards, terms, truncs, infos = envs.step((exec_call("echo 0"), exec_call("echo 9")))
        assert list(obs) == ["0", "9"] and not any(terms)
        obs, rewards, terms, truncs, infos = envs.step(({"role": "assistant", "content": "x"},) * 2)
        assert all(terms) and all(r < 0.2 for r in rewards)
    finally:
        envs.close()


def test_async_vector_env(train_ids: list[str]) -> None:
    envs = gym.vector.AsyncVectorEnv([lambda i=i: gym.make(train_ids[i]) for i in (0, 9)], shared_memory=False)
    try:
        obs, infos = envs.reset(seed=0)
        obs, rewards, terms, truncs, infos = envs.step((exec_call("hostname"), exec_call("echo $HOME")))
        assert list(obs) == ["clawgym", "/root"]
    finally:
        envs.close()


def test_async_api_keeps_the_event_loop_free(train_dir: Path) -> None:
    async def main() -> tuple[list[str], int]:
        envs = [ClawGymEnv(load_task(train_dir / t)) for t in ("task_0000", "task_0009", "task_0483")]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        try:
            await asyncio.gather(*(e.areset() for e in envs))
            results = await asyncio.gather(*(e.astep(exec_call("sleep 0.5; echo done")) for e in envs))
        finally:
            tick_task.cancel()
            for e in envs:
                e.close()
        return [r[0] for r in results], ticks

    outs, ticks = asyncio.run(main())
    assert outs == ["done"] * 3
    assert ticks >= 20  # the loop kept running while three sandboxes slept 0.5 s each


def test_seed_bootstrap_option(train_dir: Path) -> None:
    task = load_task(train_dir / "task_0009")
    plain, seeded = ClawGymEnv(task), ClawGymEnv(task, seed_bootstrap=True)
    try:
        plain.reset()
        seeded.reset()
        assert plain.step(exec_call("ls"))[0] == "input"
        listing = seeded.step(exec_call("ls"))[0].split()
        assert {"AGENTS.md", "SOUL.md", "USER.md", "input"} <= set(listing)
        assert "## " in plain.system_prompt and plain.system_prompt == seeded.system_prompt
    finally:
        plain.close()
        seeded.close()


def test_construction_errors_are_clear(train_dir: Path) -> None:
    with pytest.raises(ValueError, match="give a task"):
        ClawGymEnv()
    with pytest.raises(ValueError, match="unknown sandbox backend"):
        ClawGymEnv(load_task(train_dir / "task_0009"), backend="nope").reset()


def test_tool_call_ids_are_unique_across_the_episode(env: ClawGymEnv) -> None:
    env.reset()
    env.step([exec_call("echo 1"), exec_call("echo 2")])
    _, _, _, _, info = env.step(exec_call("echo 3"))
    ids = [c["id"] for m in info["messages"] if m["role"] == "assistant" for c in m["tool_calls"]]
    assert ids == ["call_0", "call_1", "call_2"]
    assert [m["tool_call_id"] for m in info["messages"] if m["role"] == "tool"] == ids


def test_local_backend_is_unsandboxed_but_scores(train_dir: Path) -> None:
    """backend='local' (debugging only) warns, and still scores a solved task 1.0."""
    with pytest.warns(UserWarning, match="unsandboxed"):
        env = ClawGymEnv(load_task(train_dir / "task_0185"), backend="local")
        env.reset()
    try:
        actions = json.loads((Path(__file__).resolve().parents[1] / "examples/actions/task_0185.json").read_text())
        for action in actions:
            _, reward, term, _, info = env.step(action)
        assert term and reward == 1.0 and info["infra_error"] is None
    finally:
        env.close()


def test_max_tool_calls_per_step_keeps_the_first(train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0009"), max_tool_calls_per_step=1)
    try:
        env.reset()
        obs, _, _, _, info = env.step([exec_call("echo first"), exec_call("echo second")])
        assert obs == "first"
        assert len(info["messages"][-2]["tool_calls"]) == 1 and info["messages"][-1]["content"] == "first"
    finally:
        env.close()


def test_prestart_next_off_leaves_no_sandbox_running_between_episodes(train_dir: Path) -> None:
    env = ClawGymEnv(load_task(train_dir / "task_0009"), prestart_next=False)
    try:
        env.reset()
        env.step({"role": "assistant", "content": "done"})
        assert not env.sandbox.alive and _pids_of_uid(env.sandbox.uid) == []
        env.reset()
        assert env.step(exec_call("echo again"))[0] == "again"
    finally:
        env.close()


def test_close_from_another_thread_during_a_step_is_an_infra_error(train_dir: Path) -> None:
    import threading

    env = ClawGymEnv(load_task(train_dir / "task_0009"))
    env.reset()
    timer = threading.Timer(0.5, env.close)
    timer.start()
    _, reward, _, trunc, info = env.step(exec_call("sleep 30"))
    timer.join()
    assert info["infra_error"] and trunc and reward == 0.0


def test_openclaw_version_and_rl_profile(train_dir: Path) -> None:
    """2026.4.1 with the rl profile: that version's 15 schemas, edits[] applies, the legacy pair fails
    validation; the default stays 3.24 (legacy applies, edits[] is ignored)."""
    from clawgym_env.tools import tool_schemas

    env = ClawGymEnv(load_task(train_dir / "task_0009"), profile="rl", openclaw_version="2026.4.1", max_steps=8)
    try:
        _, info = env.reset(seed=0)
        assert info["tools"] == tool_schemas("rl", "2026.4.1") and len(info["tools"]) == 15
        assert "- cron:" in info["system_prompt"] and "- sessions_spawn:" in info["system_prompt"]
        assert "Never execute /approve through exec" in info["system_prompt"]  # 4.1's prompt
        env.step(exec_call("printf 'one\\ntwo\\n' > v.txt"))
        obs, *_ = env.step({"name": "edit", "arguments": {"path": "v.txt", "edits": [{"oldText": "one", "newText": "1"}]}})
        assert obs == "Successfully replaced 1 block(s) in v.txt."
        obs, *_ = env.step({"name": "edit", "arguments": {"path": "v.txt", "oldText": "two", "newText": "2"}})
        assert obs.startswith('Validation failed for tool "edit":\n  - edits: must have required property \'edits\'')
        obs, *_ = env.step(exec_call("cat v.txt"))
        assert obs == "1\ntwo"
    finally:
        env.close()
    env = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=8)
    try:
        env.reset(seed=0)
        assert env.openclaw_version == "2026.3.24" and len(env.tool_schemas) == 5
        assert "Never execute /approve through exec" not in env.system_prompt
        env.step(exec_call("printf 'one\\n' > v.txt"))
        obs, *_ = env.step({"name": "edit", "arguments": {"path": "v.txt", "edits": [{"oldText": "one", "newText": "1"}]}})
        assert "Missing required parameters: oldText alias, newText alias." in obs
    finally:
        env.close()
    with pytest.raises(ValueError, match="openclaw_version"):
        ClawGymEnv(load_task(train_dir / "task_0009"), openclaw_version="2026.5.0")


def test_tool_images_reach_a_multimodal_model_as_openclaw_sends_them(train_dir: Path) -> None:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (3000, 2200), (200, 30, 30)).save(buf, "PNG")
    for tool_images in (False, True):
        env = ClawGymEnv(load_task(train_dir / "task_0009"), max_steps=8, tool_images=tool_images)
        try:
            env.reset(seed=0)
            env._sandbox.write_file(f"{WS}/big.png", buf.getvalue())  # (piping base64 to a file needs approval)
            result = env.turn({"name": "read", "arguments": {"path": "big.png"}})
            assert result.observation.startswith("Read image file [image/png]\n[Image: original 3000x2200, displayed at "
                                                 "2000x1467. Multiply coordinates by 1.50")
            (tool_result,) = result.tool_results
            (image,) = tool_result.images
            assert image["mime_type"] in ("image/png", "image/jpeg") and base64.b64decode(image["data"])
            last = env._messages[-1]
            if tool_images:
                assert last["role"] == "user" and last["content"][0] == {"type": "text",
                                                                         "text": "Attached image(s) from tool result:"}
                assert last["content"][1]["image_url"]["url"] == f"data:{image['mime_type']};base64,{image['data']}"
            else:
                assert last["role"] == "tool" and last["content"] == result.observation
        finally:
            env.close()
