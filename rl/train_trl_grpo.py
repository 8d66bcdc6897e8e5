#!/usr/bin/env python3
"""GRPO with TRL over ClawGym tasks: the model acts through OpenClaw's coding tools in real sandboxes and
the task's code verifier is the reward (``clawgym_env.integrations.trl_env.ClawGymTRLEnv`` as TRL's
``environment_factory``; its ``get_reward`` is the reward source, logged as ``rewards/ClawGymTRLEnv/mean``; ``--openclaw-version 2026.4.1`` uses ``ClawGymTRLEnv41``).

With a GPU, defaults follow the ClawGym authors' RL run (spec C6): group size 8, 8 prompts per optimiser step
(``--batch-size 8 --grad-accum 8``: 64 trajectories, one optimiser step per generation batch), lr 1e-6
constant, no KL (``--beta 0``), Adam betas (0.9, 0.98), weight decay 0.1, temperature 0.7, clip 0.2 / 0.28,
token-level (DAPO) loss, 8,192 completion tokens. They keep one tool call per reply and score infra failures
0; here TRL runs every call of a turn, and infra failures are dropped from learning (``--infra-error-reward``
nan; pass 0 for the authors' choice).

Without a GPU the defaults are sized for a 2-core, 24 GiB machine (``CPU_DEFAULTS``): gradient checkpointing on,
group size 2, one prompt per optimiser step, 256 completion tokens, 8 tool-calling turns. The memory is the
prompt's: OpenClaw's system prompt plus the five tool schemas are ~7.4K tokens, and without gradient checkpointing
the backward pass of even a 135M model over two such sequences keeps activations well past 10 GiB (the issue saw
24 GB and an OOM kill). ``--system-prompt compact`` (~2.3K prompt tokens) is the option for small-context models.
The peak RSS of the run is printed at the end (and stored in metrics.json).

The chat template must render tool schemas and tool calls (SmolLM2's plain ChatML does not: pass e.g.
``--chat-template qwen2_5``); one that cannot is refused in one line before the model loads.

    # GPU with vLLM colocated (model downloaded beforehand):
    python rl/train_trl_grpo.py --model Qwen/Qwen3-4B-Instruct-2507 --tasks 2000 --output ckpt --use-vllm --bf16
    # CPU smoke run on a tiny local model (what CI runs; python -c "from clawgym_env.sft.tiny import save_tiny;
    # save_tiny('/tmp/tiny')"):
    python rl/train_trl_grpo.py --model /tmp/tiny --tasks 2 --output /tmp/grpo --max-steps 2 \\
        --num-generations 2 --batch-size 2 --grad-accum 1 --max-completion-length 64 --no-save
    # CPU, a real small chat model (SmolLM2-135M-Instruct, 2 cores, 24 GiB: the CPU defaults apply):
    python rl/train_trl_grpo.py --model SMOLLM2_DIR --chat-template qwen2_5 --system-prompt compact --tasks 2 \\
        --output /tmp/grpo --max-steps 1 --max-completion-length 64 --no-save

``--tasks``: a count N (built-in tasks ClawGym/task-0000 .. N-1), comma-separated specs (``ClawGym/task-0042``,
``builtin:task-0042``, ``SUITE_DIR:TASK_ID``, task folder paths) or a file with one spec per line.

Writes OUTPUT/metrics.json (TRL's log history plus per-step reward / loss series), OUTPUT/episodes.jsonl (one
line per scored episode: task, reward, infra error, tool calls, subscores) and, unless --no-save, the model.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

_CHECKOUT = Path(__file__).resolve().parents[1]
if (_CHECKOUT / "clawgym_env" / "__init__.py").is_file() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))  # run from a clone: use that clone's clawgym_env, not another install

from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, OPENCLAW_VERSIONS

ENV_REWARD_KEY = "rewards/{env_class}/mean"
"""TRL logs an environment's reward under its class name (ClawGymTRLEnv, or ClawGymTRLEnv41 for 2026.4.1)."""

# Defaults that depend on the machine: the authors' settings on a GPU, a run that fits 2 cores and 24 GiB without one.
GPU_DEFAULTS = {"num_generations": 8, "grad_accum": 8, "max_completion_length": 8192, "max_tool_calling_iterations": 64,
                "gradient_checkpointing": False}
CPU_DEFAULTS = {"num_generations": 2, "grad_accum": 1, "max_completion_length": 256, "max_tool_calling_iterations": 8,
                "gradient_checkpointing": True}


class SetupError(Exception):
    """A bad setting the user can fix (a chat template that cannot call tools, an unknown template): printed as
    one line, not a traceback."""


def parse_tasks(spec: str) -> int | list[str]:
    """``--tasks``: a count, a file of specs (one a line), or comma-separated specs."""
    if spec.strip().isdigit():
        return int(spec)
    path = Path(spec)
    if path.is_file():
        return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [s.strip() for s in spec.split(",") if s.strip()]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF model id or local path (a chat model with tool calling)")
    ap.add_argument("--tasks", required=True, type=parse_tasks, help="a count N, comma-separated specs, or a file")
    ap.add_argument("--output", required=True)
    ap.add_argument("--max-steps", type=int, default=-1, help="optimiser steps (-1: --epochs over the tasks)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--num-generations", type=int, default=None, help="GRPO group size (authors: 8; CPU default 2)")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="per-device micro-batch of completions (default: --num-generations)")
    ap.add_argument("--grad-accum", type=int, default=None,
                    help="micro-batches per optimiser step = generation batches (authors: 8 prompts x 8; CPU default 1)")
    ap.add_argument("--lr", type=float, default=1e-6, help="learning rate, constant (authors: 1e-6)")
    ap.add_argument("--beta", type=float, default=0.0, help="KL coefficient (authors: 0, no reference model)")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--max-completion-length", type=int, default=None,
                    help="tokens of the whole multi-turn completion, tool results included (authors: 8192; CPU "
                         "default 256)")
    ap.add_argument("--max-tool-calling-iterations", type=int, default=None,
                    help="assistant turns with tool calls per rollout (0: no limit; default 64, CPU 8)")
    ap.add_argument("--chat-template", default=None,
                    help="replace the tokenizer's template (TRL name such as qwen2_5, or a .jinja); it must render "
                         "tool schemas and tool calls")
    ap.add_argument("--system-prompt", default="openclaw", choices=["openclaw", "compact"],
                    help="openclaw: OpenClaw's prompt (~19.5K characters, ~5.3K tokens); compact: the same tools and "
                         "rules in ~1K characters, for small-context models (a departure from OpenClaw)")
    ap.add_argument("--openclaw-version", default=DEFAULT_OPENCLAW_VERSION, choices=list(OPENCLAW_VERSIONS),
                    help="whose tool schemas and semantics: 2026.3.24 (default; edit takes oldText/newText) or 2026.4.1 "
                         "(ClawGym-RL's image; edit takes edits[])")
    ap.add_argument("--use-vllm", action="store_true", help="generate with vLLM (GPU); colocated unless --vllm-mode")
    ap.add_argument("--vllm-mode", default="colocate", choices=["colocate", "server"])
    ap.add_argument("--vllm-gpu-memory-utilization", type=float, default=0.3)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=None,
                    help="recompute activations in the backward pass (default: on without a GPU, off with one)")
    ap.add_argument("--backend", default="bwrap", help="sandbox backend: bwrap, docker, local")
    ap.add_argument("--exec-timeout", type=float, default=None, help="exec's default timeout, seconds")
    ap.add_argument("--infra-error-reward", type=float, default=math.nan,
                    help="reward of episodes with an infrastructure error (nan: dropped from learning; authors: 0)")
    ap.add_argument("--log-completions", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    return ap


def apply_machine_defaults(args: argparse.Namespace, *, gpu: bool) -> argparse.Namespace:
    """Fill the options left unset with ``GPU_DEFAULTS`` or ``CPU_DEFAULTS`` (in place; returns ``args``)."""
    for key, value in (GPU_DEFAULTS if gpu else CPU_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def check_chat_template(tokenizer: Any, name: str | None) -> None:
    """Refuse a chat template GRPO with tools cannot use, in one line: TRL's own probe (a tool call's name and
    arguments and the tool's answer must appear in the rendering) plus the tool schemas in the prompt."""
    from trl.chat_template_utils import supports_tool_calling

    which = f"the chat template {name!r}" if name else "the tokenizer's chat template"
    fix = "pass --chat-template with one that can (e.g. qwen2_5 for ChatML models, or a .jinja path)"
    if not getattr(tokenizer, "chat_template", None):
        raise SetupError(f"the tokenizer has no chat template: {fix}")
    if not supports_tool_calling(tokenizer):
        raise SetupError(f"{which} cannot render tool calls and tool results (it drops them): {fix}")
    schema = {"type": "function", "function": {"name": "probe_tool_e5c1", "description": "probe",
                                               "parameters": {"type": "object", "properties": {}}}}
    try:
        text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tools=[schema], tokenize=False)
    except Exception as exc:  # noqa: BLE001 - any template error is the same user-facing problem
        raise SetupError(f"{which} fails to render tool schemas ({type(exc).__name__}: {exc}): {fix}") from None
    if "probe_tool_e5c1" not in text:
        raise SetupError(f"{which} does not show the tool schemas to the model: {fix}")


def build_trainer(args: argparse.Namespace, *, trainer_cls: Any = None) -> Any:
    """The GRPOTrainer the command line describes (``trainer_cls``: a GRPOTrainer subclass, for tests)."""
    import torch
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from clawgym_env.integrations.trl_env import make_dataset, trl_env_class

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is experimental in TRL 1.16
    gpu = torch.cuda.is_available()
    apply_machine_defaults(args, gpu=gpu)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if args.chat_template:
        from clawgym_env.sft.tokenize import resolve_chat_template

        try:
            tokenizer.chat_template = resolve_chat_template(args.chat_template)
        except FileNotFoundError as exc:
            raise SetupError(f"--chat-template: {exc}") from None
    check_chat_template(tokenizer, args.chat_template)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    env_kwargs: dict[str, Any] = {"backend": args.backend, "system_prompt_style": args.system_prompt}
    if args.exec_timeout is not None:
        env_kwargs["exec_timeout_s"] = args.exec_timeout
    factory = functools.partial(trl_env_class(args.openclaw_version), episode_log=output / "episodes.jsonl",
                                infra_error_reward=args.infra_error_reward, **env_kwargs)
    vllm = {"use_vllm": True, "vllm_mode": args.vllm_mode,
            "vllm_gpu_memory_utilization": args.vllm_gpu_memory_utilization} if args.use_vllm else {}
    config = GRPOConfig(
        output_dir=str(output), seed=args.seed, max_steps=args.max_steps, num_train_epochs=args.epochs,
        learning_rate=args.lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.1,
        adam_beta1=0.9, adam_beta2=0.98, beta=args.beta, epsilon=0.2, epsilon_high=0.28, loss_type="dapo",
        num_generations=args.num_generations, per_device_train_batch_size=args.batch_size or args.num_generations,
        gradient_accumulation_steps=args.grad_accum, temperature=args.temperature,
        max_completion_length=args.max_completion_length,
        max_tool_calling_iterations=args.max_tool_calling_iterations or None,
        bf16=args.bf16, model_init_kwargs={"dtype": torch.bfloat16} if args.bf16 else None,
        gradient_checkpointing=args.gradient_checkpointing, use_cpu=not gpu,
        logging_steps=1, save_strategy="no", report_to=[], dataloader_num_workers=0,
        log_completions=args.log_completions, **vllm)
    cls = trainer_cls or GRPOTrainer
    return cls(
        model=args.model,
        reward_funcs=None,  # the reward is the verifier's, through ClawGymTRLEnv.get_reward
        args=config,
        train_dataset=make_dataset(args.tasks, system_prompt_style=args.system_prompt),
        processing_class=tokenizer,
        environment_factory=factory,
    )


def close_environments(trainer: Any) -> None:
    """Close the sandboxes of every pooled env instance (TRL keeps them for the next batch)."""
    for pool in (getattr(trainer, "_environment_pool", None) or {}).values():
        for env in pool:
            close = getattr(env, "close", None)
            if close is not None:
                close()


def series(log_history: list[dict[str, Any]], key: str) -> list[float]:
    return [h[key] for h in log_history if key in h]


def write_metrics(trainer: Any, output: Path, elapsed_s: float, env_class: str = "ClawGymTRLEnv") -> dict[str, Any]:
    history = trainer.state.log_history
    episodes_path = output / "episodes.jsonl"
    episodes = [json.loads(line) for line in episodes_path.read_text().splitlines()] if episodes_path.exists() else []
    metrics = {
        "steps": trainer.state.global_step,
        "elapsed_s": round(elapsed_s, 1),
        "reward": series(history, "reward"),
        "env_reward": series(history, ENV_REWARD_KEY.format(env_class=env_class)),
        "loss": series(history, "loss"),
        "tool_call_frequency": series(history, "tools/call_frequency"),
        "episodes": len(episodes),
        "infra_errors": sum(1 for e in episodes if e.get("infra_error")),
        "peak_rss_mb": peak_rss_mb(),
        "log_history": history,
    }
    (output / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    return metrics


def peak_rss_mb() -> float:
    """This process's peak resident set (``ru_maxrss``: KiB on Linux), in MiB; sandboxes are other processes."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output = Path(args.output)
    start = time.monotonic()
    try:
        trainer = build_trainer(args)
    except SetupError as exc:
        print(f"train_trl_grpo.py: error: {exc}", file=sys.stderr)
        return 2
    try:
        trainer.train()
    finally:
        close_environments(trainer)
    from clawgym_env.integrations.trl_env import trl_env_class

    metrics = write_metrics(trainer, output, time.monotonic() - start, trl_env_class(args.openclaw_version).__name__)
    if not args.no_save:
        trainer.save_model(str(output))
    print(json.dumps({k: metrics[k] for k in ("steps", "elapsed_s", "reward", "env_reward", "loss", "episodes",
                                              "infra_errors", "peak_rss_mb")}, default=str))
    print(f"peak RSS {metrics['peak_rss_mb']:.0f} MiB (this process, ru_maxrss)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
