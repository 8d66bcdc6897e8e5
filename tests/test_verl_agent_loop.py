"""``ClawAgentLoop`` (veRL 0.9.1's ``claw_agent``) on CPU, as veRL's own CPU agent-loop tests do it.

The real loop class, built the way ``AgentLoopWorker._run_agent_loop`` builds it (``hydra.utils.
instantiate`` of the registry entry with ``trainer_config=DictConfigWrap(cfg)``, ``cfg`` composed by
hydra from veRL's ``ppo_trainer`` config), real ClawGym envs in bwrap sandboxes, rows read by
veRL's ``RLHFDataset`` from a parquet written by ``build_rl_parquet``, and a local
``server_manager`` with ``generate(...) -> TokenOutput``: scripted (the task's oracle actions as
Qwen tool-call text) or a random tiny Qwen3 model. The outputs go through
``AgentLoopWorker._agent_loop_postprocess`` / ``_postprocess`` on a dummy object, as upstream does.
No Ray, no GPU, no vLLM.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers", reason="transformers is not installed: pip install 'clawgym[train]'")
pytest.importorskip("verl", reason="veRL is not installed: pip install 'clawgym[verl]' (verl==0.9.1)")

import gymnasium as gym
import hydra
import numpy as np
import torch
import verl  # loads the verl.plugins entry points: ours registers claw_agent
from omegaconf import OmegaConf
from verl.experimental.agent_loop.agent_loop import (
    AgentLoopOutput,
    AgentLoopWorker,
    DictConfigWrap,
    ToolListWrap,
    _agent_loop_registry,
)
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.workers.rollout.replica import TokenOutput

import clawgym_env  # registers ClawGym/task-*
from clawgym_env.integrations.cli import add_rl_parser
from clawgym_env.integrations.verl_agent_loop import REWARD_EXTRA_KEYS, ClawAgentLoop
from clawgym_env.integrations.verl_data import build_rl_parquet, load_task_ref, task_from_row
from clawgym_env.sft.tiny import build_tiny_model, build_tiny_tokenizer
from clawgym_env.synth.builtin import BuiltinSource

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO.parent / "shared" / "datasets" / "clawgym-train"
TASK_IDS = [f"task-{i:04d}" for i in range(0, 13_500, 844)]  # 16 tasks spread over the suite
assert len(TASK_IDS) == 16
SAMPLING = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
FINAL = "Done: the requested files are in place."
PROMPT_LENGTH = 16384
RESPONSE_LENGTH = 49152  # prompt + response = 65,536, ClawGym RL's context: builtin-v2's oracles read their inputs first


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tok() -> Any:
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def cfg() -> Any:
    from hydra import compose, initialize_config_dir

    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return compose(config_name="ppo_trainer", overrides=[
            "actor_rollout_ref.rollout.name=vllm", "algorithm.adv_estimator=grpo", "actor_rollout_ref.rollout.n=8",
            f"data.max_prompt_length={PROMPT_LENGTH}", f"data.max_response_length={RESPONSE_LENGTH}",
        ])


@pytest.fixture(scope="module")
def rows(tok: Any, cfg: Any, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The 16 rows as veRL's RLHFDataset yields them from our parquet, as the worker passes them
    to ``run`` (``agent_name`` consumed by the worker; the tensor column is not a kwarg)."""
    path = tmp_path_factory.mktemp("rl") / "train.parquet"
    assert build_rl_parquet([f"builtin:{t}" for t in TASK_IDS], path) == 16
    ds = RLHFDataset(str(path), tok, cfg.data)
    out = []
    for i in range(len(ds)):
        row = ds[i]
        assert row.pop("agent_name") == "claw_agent"
        row.pop("dummy_tensor")
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------ helpers
def tool_call_text(action: dict[str, Any]) -> str:
    """An oracle action as Qwen writes a tool call (exactly as the chat template renders one)."""
    arguments = json.dumps(action["arguments"], ensure_ascii=False)
    return f'<tool_call>\n{{"name": "{action["name"]}", "arguments": {arguments}}}\n</tool_call>'


def oracle_script(task_id: str) -> list[str]:
    task = BuiltinSource().load(task_id)
    assert task.oracle
    return [tool_call_text(a) for a in task.oracle] + [FINAL]


@dataclass
class Call:
    prompt_ids: list[int]
    max_tokens: int
    ids: list[int]
    logprobs: list[float]


class ScriptedServer:
    """``server_manager.generate`` playing a script per trajectory; the trajectory is recognized by
    its task's request in its first prompt. Honours ``max_tokens`` like vLLM does. (A plain class:
    hydra would turn a dataclass kwarg into a config.)"""

    def __init__(self, tok: Any, scripts: dict[str, list[str]],
                 before: Callable[[str, int], Awaitable[None]] | None = None):
        self.tok = tok
        self.scripts = scripts  # user query -> assistant turns (text)
        self.before = before  # awaited before answering (request id, call number)
        self.calls: dict[str, list[Call]] = {}
        self.task_of: dict[str, str] = {}

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any],
                       **kwargs: Any) -> TokenOutput:
        if request_id not in self.task_of:
            text = self.tok.decode(prompt_ids)
            matches = [q for q in self.scripts if q in text]
            assert len(matches) == 1, "the prompt must hold exactly one scripted task's request"
            self.task_of[request_id] = matches[0]
        calls = self.calls.setdefault(request_id, [])
        if self.before is not None:
            await self.before(request_id, len(calls))
        script = self.scripts[self.task_of[request_id]]
        text = script[min(len(calls), len(script) - 1)]
        ids = self.tok.encode(text + "<|im_end|>", add_special_tokens=False)[: sampling_params["max_tokens"]]
        logprobs = [-0.001 * (len(calls) + 1) * (k + 1) for k in range(len(ids))]
        calls.append(Call(list(prompt_ids), sampling_params["max_tokens"], ids, logprobs))
        return TokenOutput(token_ids=ids, log_probs=logprobs, stop_reason="completed", num_preempted=0,
                           extra_fields={"global_steps": 7, "min_global_steps": 7, "max_global_steps": 7})


def make_loop(cfg: Any, tok: Any, server: Any, **knobs: Any) -> ClawAgentLoop:
    """As ``AgentLoopWorker._run_agent_loop`` does: hydra-instantiate the registry entry (plus
    knobs, as an ``agent_loop_config_path`` entry would add them)."""
    entry = {**_agent_loop_registry["claw_agent"], **knobs}
    loop = hydra.utils.instantiate(
        config=entry, trainer_config=DictConfigWrap(config=cfg), server_manager=server, tokenizer=tok,
        processor=None, hf_model_type="qwen3", dataset_cls=RLHFDataset, data_config=DictConfigWrap(cfg.data),
        tools=ToolListWrap([]))
    assert type(loop) is ClawAgentLoop
    return loop


def run_one(cfg: Any, tok: Any, server: Any, row: dict[str, Any], setup: Callable[[ClawAgentLoop], None] | None = None,
            **knobs: Any) -> Any:
    """Build the loop inside the running event loop (as the worker does; AgentLoopBase keeps the
    loop it was built on) and run one trajectory."""
    async def main() -> Any:
        loop = make_loop(cfg, tok, server, **knobs)
        if setup is not None:
            setup(loop)
        return await loop.run(dict(SAMPLING), **row)

    return asyncio.run(main())


@dataclass
class Seen:
    """The envs a loop built, and the last info each returned (public API only)."""

    envs: list[Any] = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)


def watch(loop: ClawAgentLoop, seen: Seen) -> None:
    make = loop._make_env

    def make_and_watch(task: Any) -> Any:
        env = make(task)
        seen.envs.append(env)
        aturn, afinish = env.aturn, env.afinish

        async def recording_aturn(action: Any) -> Any:
            result = await aturn(action)
            seen.infos.append(result.info)
            return result

        async def recording_afinish(*args: Any, **kwargs: Any) -> Any:
            result = await afinish(*args, **kwargs)
            seen.infos.append(result.info)
            return result

        env.aturn, env.afinish = recording_aturn, recording_afinish
        return env

    loop._make_env = make_and_watch  # type: ignore[method-assign]


def direct_reward(task_id: str, texts: list[str], *, max_steps: int = 64, close: bool = False) -> tuple[float, Any]:
    """The reward the same assistant turns get through ``gym.make`` + ``env.step``."""
    env = gym.make(f"ClawGym/{task_id}", max_steps=max_steps)
    try:
        env.reset(seed=0)
        for text in texts:
            _, reward, terminated, truncated, info = env.step(text)
            if terminated or truncated:
                return reward, info
        assert close, "the script ended before the episode"
        result = env.unwrapped.finish("tokens")
        return result.reward, result.info
    finally:
        env.close()


def turn_text(tok: Any, ids: list[int]) -> str:
    """What the loop hands the env for generated ids (trailing end tokens dropped)."""
    end = tok.convert_tokens_to_ids("<|im_end|>")
    while ids and ids[-1] == end:
        ids = ids[:-1]
    return tok.decode(ids, skip_special_tokens=False)


def check_token_stream(out: AgentLoopOutput, calls: list[Call]) -> None:
    """Exact token ids across turns: every generate call saw a prefix of the final stream, its ids
    follow that prefix with mask 1 and their logprobs; every other response token has mask 0 and
    logprob 0.0."""
    full = out.prompt_ids + out.response_ids
    n_prompt = len(out.prompt_ids)
    assert len(out.response_ids) == len(out.response_mask) == len(out.response_logprobs)
    expected_mask = [0] * len(out.response_ids)
    expected_lp = [0.0] * len(out.response_ids)
    for call in calls:
        start = len(call.prompt_ids)
        assert full[:start] == call.prompt_ids, "history was re-tokenized between turns"
        assert full[start:start + len(call.ids)] == call.ids
        for k in range(len(call.ids)):
            expected_mask[start - n_prompt + k] = 1
            expected_lp[start - n_prompt + k] = call.logprobs[k]
    assert calls[0].prompt_ids == out.prompt_ids
    assert out.response_mask == expected_mask
    assert out.response_logprobs == pytest.approx(expected_lp)


class DummyWorker:
    """What ``AgentLoopWorker._agent_loop_postprocess`` needs (upstream CPU-test pattern)."""

    _compute_multi_modal_inputs = AgentLoopWorker._compute_multi_modal_inputs
    _compute_position_ids = AgentLoopWorker._compute_position_ids
    _get_mm_processor_kwargs = AgentLoopWorker._get_mm_processor_kwargs
    _compute_score = AgentLoopWorker._compute_score
    _compute_teacher_logprobs = AgentLoopWorker._compute_teacher_logprobs
    _pad_token_ids = AgentLoopWorker._pad_token_ids
    distillation_enabled = False
    reward_loop_worker_handles = None
    processor = None
    mm_processor_kwargs: dict[str, Any] = {}  # noqa: RUF012  (read only, as on the real worker)

    def __init__(self, tok: Any, cfg: Any):
        self.tokenizer = tok
        self.rollout_config = cfg.actor_rollout_ref.rollout


async def postprocess(tok: Any, cfg: Any, outs: list[AgentLoopOutput], rows: list[dict[str, Any]]) -> Any:
    worker = DummyWorker(tok, cfg)
    internal = [await AgentLoopWorker._agent_loop_postprocess(worker, out, validate=False, **row)
                for out, row in zip(outs, rows)]
    return AgentLoopWorker._postprocess(worker, inputs=internal, input_non_tensor_batch={
        "index": np.array([r["index"] for r in rows], dtype=object),
        "agent_name": np.array(["claw_agent"] * len(rows), dtype=object)})


def check_batch(batch: Any, outs: list[AgentLoopOutput]) -> None:
    """Shapes, masks and ``rm_scores`` on the last valid response token."""
    n = len(outs)
    assert batch.batch["prompts"].shape == (n, PROMPT_LENGTH)
    assert batch.batch["responses"].shape == (n, RESPONSE_LENGTH)
    assert batch.batch["input_ids"].shape == (n, PROMPT_LENGTH + RESPONSE_LENGTH)
    assert batch.meta_info["reward_extra_keys"] == list(REWARD_EXTRA_KEYS)
    rm = batch.batch["rm_scores"]
    for i, out in enumerate(outs):
        n_resp = len(out.response_ids)
        assert int(batch.batch["attention_mask"][i, PROMPT_LENGTH:].sum()) == n_resp
        assert batch.batch["response_mask"][i, :n_resp].tolist() == out.response_mask
        assert int(batch.batch["response_mask"][i, n_resp:].sum()) == 0
        assert float(rm[i, n_resp - 1]) == pytest.approx(out.reward_score)
        assert float(rm[i].abs().sum()) == pytest.approx(abs(out.reward_score))
        assert batch.batch["rollout_log_probs"][i, :n_resp].tolist() == pytest.approx(out.response_logprobs)
        for key in REWARD_EXTRA_KEYS:
            assert batch.non_tensor_batch[key][i] == out.extra_fields["reward_extra_info"][key]


# ------------------------------------------------------------------------------------------ tests
def test_entry_point_registers_claw_agent(tmp_path: Path) -> None:
    """pyproject.toml declares the ``verl.plugins`` entry point, and with it a fresh ``import verl``
    loads our plugin (staying light: veRL's agent-loop module is not imported by it), which adds
    ``claw_agent`` to the registry as soon as that module is imported. The subprocess sees the
    declaration through a dist-info of its own, so the check does not depend on which checkout
    happens to be pip-installed on this machine."""
    import tomllib

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["verl.plugins"]
    assert declared == {"clawgym": "clawgym_env.integrations.verl_plugin"}
    dist = tmp_path / "clawgym_plugin_check-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: clawgym-plugin-check\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(
        "[verl.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in declared.items()))
    code = ("import sys, verl\n"
            "assert 'clawgym_env.integrations.verl_plugin' in sys.modules\n"
            "assert 'verl.experimental.agent_loop.agent_loop' not in sys.modules\n"
            "from verl.experimental.agent_loop.agent_loop import _agent_loop_registry as r\n"
            "print(r['claw_agent']['_target_'])\n")
    env = {**os.environ, "VERL_USE_EXTERNAL_PLUGINS": "auto",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300,
                          env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "clawgym_env.integrations.verl_agent_loop.ClawAgentLoop"
    assert _agent_loop_registry["claw_agent"] == {"_target_": "clawgym_env.integrations.verl_agent_loop.ClawAgentLoop"}


def test_yaml_fallback_config_instantiates_the_loop(cfg: Any, tok: Any) -> None:
    entries = OmegaConf.load(REPO / "rl" / "agent_loop.yaml")
    (entry,) = [e for e in entries if e.name == "claw_agent"]
    loop = hydra.utils.instantiate(  # the whole entry, name included, as AgentLoopWorker passes it
        config=entry, trainer_config=DictConfigWrap(config=cfg), server_manager=None, tokenizer=tok, processor=None,
        hf_model_type="qwen3", dataset_cls=RLHFDataset, data_config=DictConfigWrap(cfg.data), tools=ToolListWrap([]))
    assert isinstance(loop, ClawAgentLoop)
    assert loop.settings.max_tokens_per_turn == entry.max_tokens_per_turn
    assert loop.settings.env_kwargs == {"profile": "coding", "openclaw_version": "2026.3.24", "backend": "bwrap"}
    assert loop.on_infra_error == "drop"  # cfg is the V1 trainer's (trainer.use_v1=True)


def test_launch_script_config_composes_and_validates(tmp_path: Path) -> None:
    """rl/grpo_qwen3_4b.sh's overrides compose onto veRL's ppo_trainer config and pass veRL's own
    ``validate_config``, with the authors' settings; a ``+clawgym`` section sets the loop's knobs
    (constructor kwargs, i.e. rl/agent_loop.yaml entries, win over it)."""
    from hydra import compose, initialize_config_dir
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    from clawgym_env.integrations.verl_agent_loop import resolve_settings

    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"\n")
    (shim / "python").chmod(0o755)
    (tmp_path / "t.parquet").touch()
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "TRAIN_FILE": str(tmp_path / "t.parquet"),
           "VAL_FILE": str(tmp_path / "t.parquet")}
    proc = subprocess.run(["bash", str(REPO / "rl" / "grpo_qwen3_4b.sh"), "trainer.total_training_steps=3"],
                          check=False, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    args = json.loads(proc.stdout.strip().splitlines()[-1])
    assert args[:2] == ["-m", "verl.trainer.main_ppo"]
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=[*args[2:], "+clawgym.max_turns=32"])
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    actor, rollout = cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    assert cfg.algorithm.adv_estimator == "grpo" and rollout.n == 8 and cfg.data.train_batch_size == 8
    assert actor.optim.lr == 1e-6 and not actor.use_kl_loss and actor.kl_loss_coef == 0.0 and actor.entropy_coeff == 0
    assert (actor.clip_ratio_low, actor.clip_ratio_high, rollout.temperature) == (0.2, 0.28, 0.7)
    assert rollout.prompt_length + rollout.response_length == rollout.max_model_len == 65536
    assert rollout.name == "vllm" and rollout.agent.default_agent_loop == "claw_agent"
    assert rollout.agent.agent_loop_config_path == str(REPO / "rl" / "agent_loop.yaml")
    assert cfg.trainer.total_training_steps == 3
    assert resolve_settings(cfg, {}).max_turns == 32
    assert resolve_settings(cfg, {"max_turns": 64, "max_tokens_per_turn": None}).max_turns == 64


def test_oracle_trajectories_score_as_the_env_does(cfg: Any, tok: Any, rows: list[dict[str, Any]]) -> None:
    """ACCEPTANCE: 16 built-in tasks, scripted oracle policy, concurrently: exact token bookkeeping,
    prompt + response decode to the chat template's rendering of the env's messages, and
    ``reward_score`` is exactly the reward the same turns get through ``gym.make`` + ``env.step``."""
    scripts = {BuiltinSource().load(t).user_query: oracle_script(t) for t in TASK_IDS}
    server = ScriptedServer(tok, scripts)
    seen = [Seen() for _ in rows]

    async def main() -> list[Any]:
        loops = [make_loop(cfg, tok, server, max_env_concurrency=4) for _ in rows]  # one per trajectory
        for loop, s in zip(loops, seen):
            watch(loop, s)
        outs = await asyncio.gather(*[loop.run(dict(SAMPLING), **row) for loop, row in zip(loops, rows)])
        return [outs, await postprocess(tok, cfg, outs, rows)]

    outs, batch = asyncio.run(main())
    by_query = {q: rid for rid, q in server.task_of.items()}
    for row, out, s in zip(rows, outs, seen):
        task_id = row["extra_info"]["task_id"]
        assert isinstance(out, AgentLoopOutput)
        calls = server.calls[by_query[row["raw_prompt"][0]["content"]]]
        check_token_stream(out, calls)
        final = s.infos[-1]
        rendered = tok.apply_chat_template(final["messages"], tools=final["tools"], tokenize=False)
        assert tok.decode(out.prompt_ids + out.response_ids) + "\n" == rendered  # the template's last \n is never generated
        reward, _ = direct_reward(task_id, [turn_text(tok, c.ids) for c in calls])
        assert out.reward_score == reward == 1.0, task_id
        assert out.extra_fields["reward_extra_info"] == {
            "verifier_reward": reward, "infra_error": 0, "turns": len(calls), "truncated": 0}
        assert out.num_turns == 2 * len(calls)  # the request, each turn, each tool-result turn
        assert out.extra_fields["min_global_steps"] == out.extra_fields["max_global_steps"] == 7
        assert len(s.envs) == 1 and s.envs[0].sandbox is None  # closed
    check_batch(batch, outs)


def test_budgets_end_episodes_cleanly(cfg: Any, tok: Any, rows: list[dict[str, Any]]) -> None:
    """Per-turn cap, total response budget and turn limit: each ends the episode, marks it
    truncated, and it is still scored as the env scores the same turns."""
    row = rows[0]
    task_id = row["extra_info"]["task_id"]
    query = row["raw_prompt"][0]["content"]
    end = tok.convert_tokens_to_ids("<|im_end|>")
    first_turn = len(tok.encode(oracle_script(task_id)[0] + "<|im_end|>", add_special_tokens=False))
    budget_len = first_turn + 60  # the first turn fits, the episode does not
    small = copy.deepcopy(cfg)
    small.actor_rollout_ref.rollout.response_length = budget_len

    async def play(config: Any, **knobs: Any) -> tuple[Any, list[Call]]:
        server = ScriptedServer(tok, {query: oracle_script(task_id)})
        out = await make_loop(config, tok, server, **knobs).run(dict(SAMPLING), **row)
        (calls,) = server.calls.values()
        return out, calls

    async def main() -> list[Any]:
        return await asyncio.gather(play(cfg, max_tokens_per_turn=12, max_turns=3), play(small), play(cfg, max_turns=2))

    (cut, cut_calls), (budget, budget_calls), (turns, turn_calls) = asyncio.run(main())

    # per-turn cap: every turn cut at 12 tokens and closed with <|im_end|> (mask 0); 3 turns, then the env truncates
    assert [c.max_tokens for c in cut_calls] == [12, 12, 12] and all(len(c.ids) == 12 for c in cut_calls)
    for c in cut_calls[:-1]:
        pos = len(c.prompt_ids) + 12 - len(cut.prompt_ids)
        assert cut.response_ids[pos] == end and cut.response_mask[pos] == 0
    check_token_stream(cut, cut_calls)
    reward, _ = direct_reward(task_id, [turn_text(tok, c.ids) for c in cut_calls], max_steps=3)
    assert cut.reward_score == reward
    assert cut.extra_fields["reward_extra_info"] == {"verifier_reward": reward, "infra_error": 0, "turns": 3,
                                                     "truncated": 1}

    # total budget: never more than rollout.response_length tokens; each call asks for what is left
    assert len(budget.response_ids) <= budget_len
    for c in budget_calls:
        assert c.max_tokens == min(8192, budget_len - (len(c.prompt_ids) - len(budget.prompt_ids)))
    check_token_stream(budget, budget_calls)
    reward, _ = direct_reward(task_id, [turn_text(tok, c.ids) for c in budget_calls], close=True)
    assert budget.reward_score == reward
    assert budget.extra_fields["reward_extra_info"]["truncated"] == 1
    assert budget.extra_fields["reward_extra_info"]["turns"] == len(budget_calls) < len(oracle_script(task_id))

    # turn limit: the env truncates after 2 turns and scores the workspace
    assert len(turn_calls) == 2
    check_token_stream(turns, turn_calls)
    reward, _ = direct_reward(task_id, [turn_text(tok, c.ids) for c in turn_calls], max_steps=2)
    assert turns.reward_score == reward
    assert turns.extra_fields["reward_extra_info"] == {"verifier_reward": reward, "infra_error": 0, "turns": 2,
                                                       "truncated": 1}


def _uid_pids(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def _processes(uid: int | None) -> set[tuple[int, str]]:
    """(pid, start time) of a sandbox uid's live processes: the uid is reused by later sandboxes
    (this machine runs other work), so a process is identified by pid and start time. Zombies run
    nothing (bwrap's init may wait a moment for the host's pid 1 to reap it)."""
    found = set()
    for pid in _uid_pids(uid) if uid is not None else []:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X"):
            found.add((pid, fields[19]))
    return found


@pytest.mark.parametrize("where", ["tool_call", "generate"])
def test_cancellation_closes_the_env(cfg: Any, tok: Any, rows: list[dict[str, Any]], where: str) -> None:
    """``task.cancel()`` mid-episode (during a 30 s tool call, or while the model generates) still
    closes the env: no sandbox process is left and its workspace is gone."""
    row = rows[1]
    query = row["raw_prompt"][0]["content"]
    blocked = asyncio.Event()

    async def before(request_id: str, n: int) -> None:
        if where == "generate" and n == 1:
            blocked.set()
            await asyncio.sleep(3600)

    command = "sleep 30" if where == "tool_call" else "echo hi"
    server = ScriptedServer(tok, {query: [tool_call_text({"name": "exec", "arguments": {"command": command}}),
                                          FINAL]}, before=before)

    async def main() -> tuple[Any, float]:
        loop = make_loop(cfg, tok, server)
        seen = Seen()
        watch(loop, seen)
        task = asyncio.create_task(loop.run(dict(SAMPLING), **row))
        deadline = time.monotonic() + 60
        while not (seen.envs and seen.envs[0].elapsed_steps == 1):  # the sleep is running in the sandbox
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.05)
        if where == "generate":
            await asyncio.wait_for(blocked.wait(), 60)
        else:
            await asyncio.sleep(0.5)
        env = seen.envs[0]
        sandbox = env.sandbox
        assert sandbox is not None and sandbox.alive
        running = _processes(sandbox.uid)
        assert running or sandbox.uid is None
        t = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return (env, sandbox, running), time.monotonic() - t

    (env, sandbox, running), took = asyncio.run(main())
    assert took < 10
    assert env.sandbox is None and not sandbox.alive
    assert not sandbox.host_workspace.exists()
    assert not running & _processes(sandbox.uid)  # no process of the sandbox is left


def test_infra_failure_is_masked_out_not_scored(cfg: Any, tok: Any, rows: list[dict[str, Any]]) -> None:
    """The sandbox dies mid-episode. Under the V1 trainer (0.9.1's default) the trajectory is
    dropped: ``run`` returns ``[]`` and the TransferQueue worker stores nothing for it, so GRPO's
    group statistics never see it. With ``on_infra_error="mask"`` (legacy trainer) it is an
    all-zero-mask sample flagged ``infra_error=1`` that carries no loss; both close the env."""
    row = rows[2]
    task_id = row["extra_info"]["task_id"]
    query = row["raw_prompt"][0]["content"]
    sandboxes: list[Any] = []

    async def kill_sandbox(request_id: str, n: int) -> None:
        if n == 1:  # after the first tool call: the sandbox dies before the next one
            sb = sandboxes[-1]
            for pid in _uid_pids(sb.uid) if sb.uid is not None else [sb._proc.pid]:
                os.kill(pid, signal.SIGKILL)

    script = [tool_call_text({"name": "exec", "arguments": {"command": "echo hi"}})] * 2 + [FINAL]

    async def play(**knobs: Any) -> tuple[Any, Seen]:
        loop = make_loop(cfg, tok, ScriptedServer(tok, {query: script}, before=kill_sandbox), **knobs)
        seen = Seen()
        watch(loop, seen)
        make = loop._make_env

        def keep_sandbox(task: Any) -> Any:
            env = make(task)
            reset = env.reset

            def reset_and_keep(**kw: Any) -> Any:
                result = reset(**kw)
                sandboxes.append(env.sandbox)
                return result

            env.reset = reset_and_keep
            return env

        loop._make_env = keep_sandbox  # type: ignore[method-assign]
        return await loop.run(dict(SAMPLING), **row), seen

    async def main() -> list[Any]:
        dropped, seen_drop = await play()
        masked, seen_mask = await play(on_infra_error="mask")
        good, _ = await play_good()
        batch = await postprocess(tok, cfg, [masked, good], [row, rows[3]])
        from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopWorkerTQ

        tq_worker_cls = AgentLoopWorkerTQ.__ray_metadata__.modified_class
        stored = await tq_worker_cls._agent_loop_postprocess(object(), dropped, False, uid="u", session_id=0, **row)
        return [dropped, seen_drop, masked, seen_mask, good, batch, stored]

    async def play_good() -> tuple[Any, None]:
        other = rows[3]
        server = ScriptedServer(tok, {other["raw_prompt"][0]["content"]: oracle_script(other["extra_info"]["task_id"])})
        return await make_loop(cfg, tok, server, on_infra_error="mask").run(dict(SAMPLING), **other), None

    dropped, seen_drop, masked, seen_mask, good, batch, stored = asyncio.run(main())
    for seen in (seen_drop, seen_mask):
        assert seen.infos[-1]["infra_error"] and "sandbox" in seen.infos[-1]["infra_error"]
        assert seen.envs[0].sandbox is None  # closed
    assert dropped == [] and stored is None
    assert isinstance(masked, AgentLoopOutput) and masked.reward_score == 0.0
    assert sum(masked.response_mask) == 0 and set(masked.response_logprobs) == {0.0}
    assert masked.extra_fields["reward_extra_info"] == {"verifier_reward": 0.0, "infra_error": 1, "turns": 2,
                                                        "truncated": 0}
    assert "sandbox" in masked.extra_fields["claw_error"] and task_id == masked.extra_fields["claw_task_id"]
    assert good.reward_score == 1.0
    check_batch(batch, [masked, good])
    assert int(batch.batch["response_mask"][0].sum()) == 0 and float(batch.batch["rm_scores"][0].abs().sum()) == 0.0
    assert list(batch.non_tensor_batch["infra_error"]) == [1, 0]


def test_env_exception_is_an_infra_failure(cfg: Any, tok: Any, rows: list[dict[str, Any]]) -> None:
    """An exception inside the env (here: its step raising) is masked out too, never raised."""
    row = rows[4]
    query = row["raw_prompt"][0]["content"]
    seen = Seen()

    def break_steps(loop: ClawAgentLoop) -> None:
        watch(loop, seen)
        make = loop._make_env

        def broken(task: Any) -> Any:
            env = make(task)

            async def aturn(action: Any) -> Any:
                raise RuntimeError("worker thread died")

            env.aturn = aturn
            return env

        loop._make_env = broken  # type: ignore[method-assign]

    server = ScriptedServer(tok, {query: oracle_script(row["extra_info"]["task_id"])})
    out = run_one(cfg, tok, server, row, break_steps, on_infra_error="mask")
    assert out.extra_fields["reward_extra_info"]["infra_error"] == 1 and sum(out.response_mask) == 0
    assert "worker thread died" in out.extra_fields["claw_error"]
    assert seen.envs[0].sandbox is None


class TinyModelServer:
    """``generate`` by a random tiny Qwen3 (HF ``generate``, pure sampling) with its logprobs."""

    def __init__(self, model: Any, tok: Any):
        self.model = model
        self.tok = tok
        self.calls: list[Call] = []

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any],
                       **kwargs: Any) -> TokenOutput:
        ids, logprobs = await asyncio.to_thread(self._sample, prompt_ids, sampling_params["max_tokens"])
        self.calls.append(Call(list(prompt_ids), sampling_params["max_tokens"], ids, logprobs))
        return TokenOutput(token_ids=ids, log_probs=logprobs, stop_reason="completed")

    def _sample(self, prompt_ids: list[int], max_tokens: int) -> tuple[list[int], list[float]]:
        torch.manual_seed(len(self.calls))
        with torch.no_grad():
            out = self.model.generate(
                torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=max_tokens,
                eos_token_id=self.tok.eos_token_id, pad_token_id=self.tok.pad_token_id,
                output_logits=True, return_dict_in_generate=True)
        ids = out.sequences[0, len(prompt_ids):].tolist()
        logprobs = [float(torch.log_softmax(logits[0].float(), -1)[t]) for logits, t in zip(out.logits, ids)]
        return ids, logprobs


def test_tiny_model_rollout(cfg: Any, tok: Any, rows: list[dict[str, Any]]) -> None:
    """A real (random) model behind ``generate``: the shapes hold, the logprobs kept for mask-1
    tokens are the model's own at those positions, and the reward is the env's for the same turns."""
    model = build_tiny_model(tok).eval()
    server = TinyModelServer(model, tok)
    row = rows[5]
    out = run_one(cfg, tok, server, row, max_turns=2, max_tokens_per_turn=16)
    assert isinstance(out, AgentLoopOutput)
    check_token_stream(out, server.calls)
    full = torch.tensor([out.prompt_ids + out.response_ids])
    with torch.no_grad():
        logp = torch.log_softmax(model(full).logits[0].float(), -1)
    n = len(out.prompt_ids)
    for k, (token, m) in enumerate(zip(out.response_ids, out.response_mask)):
        if m:
            assert float(logp[n + k - 1, token]) == pytest.approx(out.response_logprobs[k], abs=2e-3)
    texts = [turn_text(tok, c.ids) for c in server.calls]
    reward, _ = direct_reward(row["extra_info"]["task_id"], texts, max_steps=2)
    assert out.reward_score == reward
    assert out.extra_fields["reward_extra_info"]["turns"] == len(server.calls) <= 2


def test_rl_parquet_builtin_and_folder_rows(cfg: Any, tok: Any, tmp_path: Path) -> None:
    """``clawgym rl build-data``: the columns veRL reads, built-in ids by reference, a ClawGym
    folder task embedded (or by path), loaded back by RLHFDataset and run by the loop."""
    import pyarrow.parquet as pq

    if not TRAIN.is_dir():
        pytest.skip(f"the shared ClawGym train split is missing at {TRAIN}")
    folder = TRAIN / "task_0009"
    parser = argparse.ArgumentParser()
    add_rl_parser(parser.add_subparsers())
    out = tmp_path / "mix.parquet"
    args = parser.parse_args(["rl", "build-data", "ClawGym/task-0042", str(folder), "--out", str(out), "--split", "val"])
    assert args.fn(args) == 0
    table = pq.read_table(out)
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info", "agent_name"]
    ds = RLHFDataset(str(out), tok, cfg.data)
    assert len(ds) == 2
    builtin_row, folder_row = ds[0], ds[1]
    assert builtin_row["data_source"] == "clawgym" and builtin_row["reward_model"]["ground_truth"] == ""
    assert json.loads(builtin_row["extra_info"]["task_ref"]) == {"kind": "builtin", "id": "task-0042",
                                                                 "suite_version": "builtin-v2"}
    assert [r["index"] for r in (builtin_row, folder_row)] == [0, 1] and folder_row["extra_info"]["split"] == "val"
    original = clawgym_env.load_task(folder)
    assert json.loads(folder_row["extra_info"]["task_ref"])["kind"] == "inline"
    task = task_from_row(folder_row["extra_info"])
    for name in ("task_id", "user_query", "metadata", "input_mount_dir", "input_files", "reward_files", "file_modes"):
        assert getattr(task, name) == getattr(original, name), name
    assert folder_row["raw_prompt"] == [{"role": "user", "content": original.user_query}]

    by_path = tmp_path / "ref.parquet"
    assert build_rl_parquet([str(TRAIN)], by_path, inline=False, offset=9, limit=1) == 1
    ref = json.loads(pq.read_table(by_path).to_pylist()[0]["extra_info"]["task_ref"])
    assert ref == {"kind": "source", "path": str(TRAIN.resolve()), "id": "task_0009"}
    assert load_task_ref(ref).input_files == original.input_files
    assert load_task_ref(f"{TRAIN}:task_0009").user_query == original.user_query == load_task_ref(str(folder)).user_query

    # the embedded real task runs: a policy that only says it is done scores what the env says
    server = ScriptedServer(tok, {original.user_query: [FINAL]})
    row = {k: v for k, v in folder_row.items() if k not in ("agent_name", "dummy_tensor")}
    result = run_one(cfg, tok, server, row)
    env = clawgym_env.ClawGymEnv(original)
    try:
        env.reset(seed=0)
        _, reward, terminated, _, _ = env.step(FINAL)
    finally:
        env.close()
    assert terminated and result.reward_score == reward
