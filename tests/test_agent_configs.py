"""The agent recipes in agents/ (``clawgym eval --agent-config agents/NAME.yaml``) and their launchers.

Each recipe is run the way a user runs it, against the scripted OpenAI-compatible server on loopback
(tests/chat_server.py: real HTTP, real ``openai`` client; only the model is a script), with its
base_url pointed there; the vLLM launchers run against a stand-in ``vllm`` on PATH that prints its
arguments, since vLLM itself needs a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from chat_server import ScriptedModelServer, text_reply, tool_call_reply

from clawgym_env.agents.config import AgentConfigError, load_agent_config, resolve_agent_config
from clawgym_env.cli import main
from clawgym_env.rollout import read_records

REPO = Path(__file__).resolve().parents[1]
AGENTS = REPO / "agents"
VLLM_RECIPES = ["qwen3-4b-instruct-2507", "qwen3-8b", "clawgym-4b", "clawgym-8b"]


def test_every_recipe_parses_and_resolves() -> None:
    names = sorted(p.stem for p in AGENTS.glob("*.yaml"))
    assert names == sorted([*VLLM_RECIPES, "openai", "hf-local"])
    for name in names:
        config = load_agent_config(AGENTS / f"{name}.yaml")
        resolved = resolve_agent_config(AGENTS / f"{name}.yaml", environ={"OPENAI_API_KEY": "sk-test"})
        assert resolved.model and resolved.max_tokens == 8192 and resolved.temperature == 0.7, name
        if name in VLLM_RECIPES:  # the authors' sampling, on a local vLLM server
            assert config.agent == "openai" and resolved.base_url == "http://127.0.0.1:8000/v1"
            assert resolved.options["top_p"] == 1.0 and resolved.options["extra_body"]["top_k"] == -1
            assert (AGENTS / config.launcher).is_file()
    # ${CLAWGYM_VLLM_URL} moves every vLLM recipe to another server
    moved = resolve_agent_config(AGENTS / "clawgym-8b.yaml", environ={"CLAWGYM_VLLM_URL": "http://gpu7:9000/v1"})
    assert moved.base_url == "http://gpu7:9000/v1"
    assert moved.options["extra_body"]["chat_template_kwargs"] == {"enable_thinking": False}


def launch(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(script), *args], env=env, text=True, capture_output=True, timeout=30,
                          check=False)


@pytest.mark.parametrize("name", VLLM_RECIPES)
def test_launchers_pass_the_tool_parser_context_length_and_served_name(name: str, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "vllm"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    config = load_agent_config(AGENTS / f"{name}.yaml")
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "MODEL": "/models/ckpt", "PORT": "8123"}
    run = launch(AGENTS / config.launcher, env, "--seed", "7")
    assert run.returncode == 0, run.stderr
    args = run.stdout.split("\n")
    assert args[:2] == ["serve", "/models/ckpt"]
    flags = " ".join(args)
    assert "--enable-auto-tool-choice --tool-call-parser hermes" in flags
    assert f"--served-model-name {config.model} " in flags  # the name the recipe asks the server for
    assert f"--max-model-len {config.context_length} " in flags
    assert "--port 8123" in flags and "--host 127.0.0.1" in flags and flags.rstrip().endswith("--seed 7")
    if name.startswith("clawgym"):  # no hub name is assumed for the authors' checkpoints
        env.pop("MODEL")
        run = launch(AGENTS / config.launcher, env)
        assert run.returncode != 0 and "set MODEL" in run.stderr
    # without vllm installed the launcher says how to get it
    bare = {**env, "PATH": "/usr/bin:/bin", "MODEL": "/m"}
    run = launch(AGENTS / config.launcher, bare)
    assert run.returncode == 1 and "clawgym[vllm]" in run.stderr


def test_eval_with_a_recipe_against_the_loopback_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the recipe as the README names it
    script = [tool_call_reply([{"name": "exec", "arguments": {"command": "ls"}}]), text_reply("Done.")]
    out = tmp_path / "run"
    with ScriptedModelServer(script) as server:
        code = main(["eval", "--suite", "builtin", "--agent-config", "agents/qwen3-4b-instruct-2507.yaml",
                     "--base-url", server.base_url, "--limit", "1", "--concurrency", "1", "--out", str(out),
                     "--quiet"])
        sent = [r.body for r in server.chat_requests]
    assert code == 0
    assert len(sent) == 2
    body = sent[0]
    assert body["model"] == "qwen3-4b-instruct-2507" and body["temperature"] == 0.7 and body["top_p"] == 1.0
    assert body["max_tokens"] == 8192 and body["top_k"] == -1 and body["tools"]
    (r,) = read_records(out / "records.jsonl")
    assert r.scored and r.steps == 2 and [c.name for c in r.tool_calls] == ["exec"]
    assert r.agent["agent"] == "openai" and r.agent["temperature"] == 0.7
    run = json.loads((out / "run.json").read_text())["config"]
    assert run["agent_config"] == "agents/qwen3-4b-instruct-2507.yaml" and run["max_steps"] == 64


def test_flags_win_over_the_recipe_and_the_api_key_comes_from_its_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    out = tmp_path / "run"
    with ScriptedModelServer([text_reply("Nothing to do.")]) as server:
        code = main(["eval", "--suite", "builtin", "--agent-config", "agents/openai.yaml", "--base-url",
                     server.base_url, "--model", "stand-in", "--temperature", "0.2", "--max-tokens", "64",
                     "--agent-option", "max_retries=0", "--limit", "1", "--out", str(out), "--quiet"])
        (req,) = server.chat_requests
    assert code == 0
    assert req.headers["authorization"] == "Bearer sk-from-env"
    assert req.body["model"] == "stand-in" and req.body["temperature"] == 0.2 and req.body["max_tokens"] == 64


def test_a_broken_recipe_names_every_problem_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("NOT_SET_URL", raising=False)
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent: openai\nbase_url: ${NOT_SET_URL}\napi_key_env: NOT_SET_KEY\n"
                   "sampling: {temprature: 0.3}\nlauncher: serve/missing.sh\ncolour: blue\n")
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--agent-config", str(bad), "--check-config"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for line in ["model: missing", "sampling.temprature: unknown key", "colour: unknown key",
                 "base_url: ${NOT_SET_URL} is not set", "api_key_env: $NOT_SET_KEY is not set",
                 f"launcher: no such file: {tmp_path / 'serve' / 'missing.sh'}"]:
        assert line in err, line
    assert "6 problem(s)" in err
    # an hf recipe: a local model folder and a template file that do not exist, an option it lacks
    hf = tmp_path / "hf.yaml"
    hf.write_text("agent: hf\nmodel: ./ckpt\nchat_template: ./tool.jinja\nsampling: {top_k: 20}\n"
                  "options: {devise: cuda}\n")
    with pytest.raises(AgentConfigError) as err2:
        resolve_agent_config(hf)
    assert err2.value.problems == [
        "sampling.top_k: the hf agent samples with temperature and top_p only",
        f"chat_template: no such file: {tmp_path / 'tool.jinja'}",
        (f"model: no such folder: {tmp_path / 'ckpt'} (a local model folder, or a hub id like "
         "Qwen/Qwen3-4B-Instruct-2507)"),
        err2.value.problems[3]]
    assert err2.value.problems[3].startswith("options: devise: the hf agent takes no option 'devise'")
    # the same folder made real: the recipe resolves, relative to its file
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "tool.jinja").write_text("{{ messages }}")
    hf.write_text("agent: hf\nmodel: ./ckpt\nchat_template: ./tool.jinja\noptions: {device: cpu}\n")
    ok = resolve_agent_config(hf)
    assert ok.model == str(tmp_path / "ckpt") and ok.chat_template == str(tmp_path / "tool.jinja")
    # --check-config on a good recipe prints the merged settings, the key masked
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--agent-config", "agents/openai.yaml", "--check-config", "--max-steps", "5"])
    assert exc.value.code == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["api_key"] == "***" and shown["max_steps"] == 5 and shown["model"] == "gpt-4.1-mini"
    assert "sk-secret" not in json.dumps(shown)
