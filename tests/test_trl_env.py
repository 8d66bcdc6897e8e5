"""The TRL adapter (clawgym_env/integrations/trl_env.py, rl/train_trl_grpo.py), all real: bwrap sandboxes,
the tasks' verifiers, TRL's GRPOTrainer on CPU with the tiny Qwen3-architecture model.

(a) ClawGymTRLEnv alone: the oracle's tool calls through its methods score what they score through
    gym.make + env.step, and the tool schemas TRL derives from the class are OpenClaw's up to the
    documented differences.
(b) GRPO on CPU: the training script as users run it (random model: no valid tool calls, the plumbing
    is what is tested), and one GRPO step whose generations are scripted so TRL's tool loop runs the
    oracle through the env (reward 1), a malformed turn (unknown tool, missing file; reward 0), and the
    verifier's reward reaches TRL's advantages.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import clawgym_env  # noqa: F401  (registers ClawGym/task-*)
from clawgym_env.integrations.trl_env import (
    INFRA_PREFIX,
    TOOL_NAMES,
    ClawGymTRLEnv,
    ClawGymTRLEnv41,
    make_dataset,
    trl_env_class,
    trl_tool_schemas,
)
from clawgym_env.synth.builtin import BuiltinSource
from clawgym_env.tasks import write_task
from clawgym_env.tools import tool_schemas

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "rl" / "train_trl_grpo.py"
ORACLE_TASKS = ["task-0042", "task-1000", "task-5000", "task-9999"]  # writes; edits + archive; exec first


def _arguments(action: dict[str, Any]) -> dict[str, Any]:
    args = action["arguments"]
    return json.loads(args) if isinstance(args, str) else dict(args)


def _gym_episode(task_id: str, actions: list[Any]) -> tuple[list[str], float]:
    env = gym.make(f"ClawGym/{task_id}")
    try:
        env.reset(seed=0)
        outs = [env.step(a)[0] for a in actions]
        _, reward, terminated, _, info = env.step({"role": "assistant", "content": ""})
        assert terminated and info["infra_error"] is None
        return outs, reward
    finally:
        env.close()


# ---------------------------------------------------------------------------------------------- (a) the env
def test_oracle_through_tool_methods_scores_as_through_gym(tmp_path: Path) -> None:
    log = tmp_path / "episodes.jsonl"
    env = ClawGymTRLEnv(episode_log=log)
    previous = None
    try:
        for task_id in ORACLE_TASKS:
            task = BuiltinSource().load(task_id)
            assert task.oracle
            request = env.reset(task_id=f"ClawGym/{task_id}", prompt=[{"role": "user", "content": ""}])
            assert request == task.user_query
            assert env.env is not previous and (previous is None or previous._closed)  # the last task's env closed
            previous = env.env
            outs = [getattr(env, a["name"])(**_arguments(a)) for a in task.oracle]
            reward = env.get_reward()
            gym_outs, gym_reward = _gym_episode(task_id, task.oracle)
            assert outs == gym_outs, task_id
            assert reward == gym_reward == 1.0, (task_id, reward, gym_reward)
            assert env.get_reward() == reward  # idempotent
            assert env.last_info is not None and env.last_info["subscores"]
            assert all(env.last_info["subscores"].values())
    finally:
        env.close()
    env.close()  # twice is fine
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["task"] for r in records] == [f"ClawGym/{t}" for t in ORACLE_TASKS]
    assert all(r["reward"] == 1.0 and r["infra_error"] is None for r in records)
    assert [r["tool_calls"] for r in records] == [len(BuiltinSource().load(t).oracle or []) for t in ORACLE_TASKS]


def test_task_forms_errors_and_reuse(tmp_path: Path) -> None:
    task = BuiltinSource().load("task-0042")
    folder = write_task(task, tmp_path)
    env = ClawGymTRLEnv()
    try:
        for spec in ("ClawGym/task-0042", "builtin:task-0042", str(folder)):
            assert env.reset(task_id=spec) == task.user_query
        inner = env.env
        env.reset(task_id=str(folder))  # same task, same options: the env (and its sandbox) is reused
        assert env.env is inner
        # what the model sends goes to the env as sent: unknown properties, nulls, OpenClaw's aliases
        calls = [("read", {"path": "missing.txt", "bogus": 1}), ("read", {"path": "missing.txt", "offset": None}),
                 ("read", {}), ("exec", {"command": "ls input | head -3", "workdir": "."}),
                 ("write", {"file_path": "out/a.txt", "content": "x\n"}),
                 ("edit", {"filePath": "out/a.txt", "old_string": "x", "newString": "y"}),
                 ("read", {"file": "out/a.txt"}), ("process", {"action": "list"})]
        outs = [getattr(env, name)(**args) for name, args in calls]
        gym_outs, _ = _gym_episode("task-0042", [{"name": n, "arguments": a} for n, a in calls])
        assert outs == gym_outs
        assert "ENOENT" in outs[0] and "Missing required parameter" in outs[2] and outs[6].strip() == "y"
        assert env.get_reward() == 0.0  # the task is not done
        assert env.read(path="out/a.txt").startswith("Error: the episode is over")
        with pytest.raises(KeyError):
            env.reset(prompt=[])  # no task column: a dataset bug, not an infra error
        with pytest.raises(KeyError):
            env.reset(task_id="builtin:task-99999")
        for bad in ("ClawGym/task-99999", "no-such-thing"):
            with pytest.raises(ValueError):
                env.reset(task_id=bad)
    finally:
        env.close()


def test_infra_errors_are_not_zeros(tmp_path: Path) -> None:
    log = tmp_path / "episodes.jsonl"
    fresh = ClawGymTRLEnv()
    assert math.isnan(fresh.get_reward())  # never reset
    assert fresh.read(path="x").startswith(f"{INFRA_PREFIX}")
    for infra_reward in (math.nan, 0.0):
        env = ClawGymTRLEnv(episode_log=log, infra_error_reward=infra_reward)
        try:
            env.reset(task_id="ClawGym/task-0042")
            env.env.sandbox.close()  # the sandbox dies mid-episode
            out = env.exec(command="ls")
            assert out.startswith(INFRA_PREFIX) and "sandbox" in out
            assert env.write(path="a", content="b").startswith(INFRA_PREFIX)
            reward = env.get_reward()
            assert math.isnan(reward) if math.isnan(infra_reward) else reward == infra_reward
            # the next episode gets a fresh env and scores normally
            env.reset(task_id="ClawGym/task-0042")
            top = sorted({p.split("/")[0] for p in BuiltinSource().load("task-0042").input_files})
            assert env.infra_error is None and env.exec(command="ls") == "\n".join(top)
            assert env.get_reward() == 0.0
        finally:
            env.close()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["infra_error"] is not None for r in records] == [True, False, True, False]
    assert records[0]["reward"] is None and records[2]["reward"] == 0.0


def _tool_methods(env: Any) -> list[Any]:
    """The tools exactly as TRL 1.16 collects them (GRPOTrainer.__init__ / _generate_and_score_completions)."""
    return [getattr(env, name) for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


def test_trl_tool_schemas_are_openclaws() -> None:
    pytest.importorskip("transformers", reason="pip install 'clawgym[train]'")
    from transformers.utils import get_json_schema

    env = ClawGymTRLEnv()
    methods = _tool_methods(env)
    assert sorted(m.__name__ for m in methods) == sorted(TOOL_NAMES)  # close/reset/get_reward are not tools
    derived = {s["function"]["name"]: s for s in (get_json_schema(m) for m in methods)}
    assert derived == {s["function"]["name"]: s for s in trl_tool_schemas(env)}
    ours = {s["function"]["name"]: s for s in tool_schemas("coding")}
    for name, theirs in derived.items():
        mine = copy.deepcopy(ours[name])
        assert theirs["type"] == "function" and set(theirs) == {"type", "function"}
        fn, ref = theirs["function"], mine["function"]
        assert fn["name"] == name and fn["description"] == ref["description"]
        assert list(fn["parameters"]["properties"]) == list(ref["parameters"]["properties"])  # names and order
        assert fn["parameters"].get("required", []) == ref["parameters"]["required"]
        # the documented differences, and nothing else
        if name == "exec":
            env_prop = fn["parameters"]["properties"]["env"]
            assert env_prop == {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "Environment variables to set for the command (name to value)"}
            assert ref["parameters"]["properties"]["env"] == {"type": "object",
                                                              "patternProperties": {"^(.*)$": {"type": "string"}}}
            fn["parameters"]["properties"]["env"] = ref["parameters"]["properties"]["env"]
        if name == "process":
            assert ref["parameters"]["properties"]["timeout"].pop("minimum") == 0
        if not ref["parameters"]["required"]:
            assert "required" not in fn["parameters"]
            fn["parameters"]["required"] = []
        assert fn == ref, name
    # the schemas reach the prompt: TRL renders the bound methods through the chat template
    from clawgym_env.sft.tiny import build_tiny_tokenizer

    tok = build_tiny_tokenizer(["tiny corpus"], vocab_size=300)
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tools=methods, tokenize=False)
    positions = [text.index(json.dumps(schema, ensure_ascii=False)) for schema in trl_tool_schemas(env)]
    assert positions == sorted(positions)  # in TRL's (alphabetical) order: edit, exec, process, read, write


def test_openclaw_4_1_class_carries_4_1_schemas_and_semantics() -> None:
    pytest.importorskip("transformers", reason="pip install 'clawgym[train]'")
    assert trl_env_class() is ClawGymTRLEnv and trl_env_class("2026.4.1") is ClawGymTRLEnv41
    with pytest.raises(ValueError, match="unknown openclaw_version"):
        trl_env_class("2026.1.1")
    with pytest.raises(ValueError, match="use trl_env_class\\('2026.4.1'\\)"):
        ClawGymTRLEnv(openclaw_version="2026.4.1")
    env = ClawGymTRLEnv41()
    try:
        derived = {s["function"]["name"]: s["function"] for s in trl_tool_schemas(env)}
        for ref in (s["function"] for s in tool_schemas("coding", "2026.4.1")):
            fn = derived[ref["name"]]
            assert fn["description"] == ref["description"]
            assert list(fn["parameters"]["properties"]) == list(ref["parameters"]["properties"])
            assert fn["parameters"].get("required", []) == ref["parameters"]["required"]
        env.reset(task_id="ClawGym/task-0042", prompt=[{"role": "user", "content": ""}])
        assert env.env.openclaw_version == "2026.4.1"
        env.write(path="v.txt", content="one two")
        assert env.edit(path="v.txt", edits=[{"oldText": "one", "newText": "1"}]) == \
            "Successfully replaced 1 block(s) in v.txt."
        legacy = env.edit(path="v.txt", edits=[], oldText="two", newText="2")  # what 4.1's AJV rejects
        assert legacy.startswith('Validation failed for tool "edit":')
        assert env.read(path="v.txt") == "1 two"
    finally:
        env.close()


def test_make_dataset() -> None:
    pytest.importorskip("datasets", reason="pip install 'clawgym[train]'")
    ds = make_dataset(3)
    assert ds.column_names == ["prompt", "task_id"] and ds["task_id"] == [f"ClawGym/task-{i:04d}" for i in range(3)]
    env = gym.make("ClawGym/task-0001")
    try:
        system = env.unwrapped.system_prompt
    finally:
        env.close()
    assert ds[0]["prompt"] == [{"role": "system", "content": system}, {"role": "user", "content": ""}]
    ds2 = make_dataset(["builtin:task-0007", "ClawGym/task-0042"], task_column="task", system_prompt="S")
    assert ds2.column_names == ["prompt", "task"] and ds2[1]["prompt"][0]["content"] == "S"
    assert make_dataset("ClawGym/task-0042")["task_id"] == ["ClawGym/task-0042"]
    with pytest.raises(ValueError):
        make_dataset(["ClawGym/task-99999"])


# ---------------------------------------------------------------------------------------------- (b) GRPO on CPU
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("trl", reason="TRL is not installed: pip install 'clawgym[train]' (after torch==2.13.0)")
    from clawgym_env.sft.tiny import save_tiny

    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("train_trl_grpo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grpo_script_runs_on_cpu(tiny_model: Path, tmp_path: Path) -> None:
    """The script as users run it: 2 GRPO steps (1 task x 2 generations each) on the random tiny model."""
    out = tmp_path / "run"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--model", str(tiny_model), "--tasks", "2",
                           "--output", str(out), "--max-steps", "2", "--num-generations", "2", "--batch-size", "2",
                           "--grad-accum", "1", "--max-completion-length", "48", "--no-save"],
                          check=False, capture_output=True, text=True, timeout=300, cwd=REPO)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 2
    assert len(metrics["loss"]) == 2 and all(math.isfinite(x) for x in metrics["loss"])
    assert len(metrics["env_reward"]) == 2  # get_reward was TRL's reward source, every step
    assert metrics["episodes"] == 4 and metrics["infra_errors"] == 0  # 2 steps x 2 rollouts, each reset + scored
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert sorted({e["task"] for e in episodes}) == ["ClawGym/task-0000", "ClawGym/task-0001"]
    assert all(e["reward"] == 0.0 for e in episodes)  # a random model solves nothing
    assert elapsed < 300, elapsed
    print(f"\nTRL GRPO script: 2 steps in {elapsed:.0f} s (train {metrics['elapsed_s']} s)")


def test_grpo_step_runs_trl_tool_loop_through_the_env(tiny_model: Path, tmp_path: Path) -> None:
    """One GRPO step whose two generations are scripted (the tiny model cannot call tools): generation 0
    plays the oracle of builtin-v1's task-0042 (four calls: it fits the completion budget of a CPU
    step) as Qwen-style <tool_call> text, one call per turn, then stops;
    generation 1 makes one turn with two calls (a missing file and a tool that does not exist), then stops.
    TRL parses the calls, runs them through ClawGymTRLEnv (the real env), feeds the results back, and
    get_reward's verifier scores come back as rewards 1 and 0."""
    from trl import GRPOTrainer

    module = _load_script()
    task = BuiltinSource(version="builtin-v1").load("task-0042")
    oracle = task.oracle or []
    calls_seen: list[list[str]] = []

    def call_text(name: str, arguments: dict[str, Any]) -> str:
        return f'<tool_call>\n{json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)}\n</tool_call>'

    class ScriptedTrainer(GRPOTrainer):
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations,  # type: ignore[override]
                                  has_tool_images=False):
            tok = self.processing_class
            texts = []
            for i, ids in enumerate(prompt_ids):
                prompt = tok.decode(ids)
                assert task.user_query in prompt  # reset's request was appended to the user message
                done = prompt.count("<tool_response>")
                if done == 0 and i % 2 == 1:
                    texts.append(call_text("read", {"path": "does-not-exist.txt"}) + "\n"
                                 + call_text("browse_web", {"url": "https://example.com"}) + "<|im_end|>")
                elif "does-not-exist.txt" not in prompt and done < len(oracle):
                    texts.append(call_text(oracle[done]["name"], _arguments(oracle[done])) + "<|im_end|>")
                else:
                    texts.append("Done.<|im_end|>")
            calls_seen.append(texts)
            return [tok(t, add_special_tokens=False)["input_ids"] for t in texts], None

    args = module.build_parser().parse_args([
        "--model", str(tiny_model), "--tasks", "builtin-v1:task-0042", "--output", str(tmp_path / "run"),
        "--max-steps", "1", "--num-generations", "2", "--batch-size", "2", "--grad-accum", "1",
        "--max-completion-length", "4096", "--no-save"])
    start = time.monotonic()
    trainer = module.build_trainer(args, trainer_cls=ScriptedTrainer)
    try:
        # TRL's own view of the class: its tools are OpenClaw's five, and get_reward is a reward source
        assert sorted(t.__name__ for t in trainer._env_tools[None]) == sorted(TOOL_NAMES)
        assert trainer.reward_func_names == ["ClawGymTRLEnv"]
        trainer.train()
    finally:
        module.close_environments(trainer)
    elapsed = time.monotonic() - start
    metrics = module.write_metrics(trainer, Path(args.output), elapsed)
    log = trainer.state.log_history[0]
    assert log["rewards/ClawGymTRLEnv/mean"] == pytest.approx(0.5)  # rewards 1 and 0
    assert log["reward_std"] > 0 and log["frac_reward_zero_std"] == 0.0  # the group has signal
    assert log["tools/call_frequency"] == pytest.approx((len(oracle) + 2) / 2)
    assert log["tools/failure_frequency"] == pytest.approx(1 / (len(oracle) + 2))  # browse_web: not a tool
    assert math.isfinite(log["loss"])
    assert len(calls_seen) == len(oracle) + 1  # the first turn, then one per tool round
    episodes = [json.loads(line) for line in (Path(args.output) / "episodes.jsonl").read_text().splitlines()]
    assert sorted((e["reward"], e["tool_calls"]) for e in episodes) == [(0.0, 1), (1.0, len(oracle))]
    solved = next(e for e in episodes if e["reward"] == 1.0)
    assert all(solved["subscores"].values())
    assert metrics["episodes"] == 2 and metrics["env_reward"] == [pytest.approx(0.5)]
    print(f"\nscripted TRL GRPO step: {elapsed:.0f} s")
