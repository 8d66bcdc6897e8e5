#!/usr/bin/env python3
"""SFT with TRL's SFTTrainer on a ClawGym export (``clawgym sft build --format hf-dataset`` or ``hf``).

Loss on the model's own turns only (``assistant_only_loss``: TRL swaps in the training variant of
known chat templates, e.g. Qwen3-Instruct-2507's, with ``{% generation %}`` markers); each row's own
``tools`` are rendered into its system turn. Defaults follow the ClawGym authors' SFT run (spec D3:
lr 1e-5, 3 epochs, global batch 128, micro-batch 1, 64K context); set ``--max-steps`` for a smoke run.

    # GPU, the authors' settings (Qwen3-4B-Instruct-2507 downloaded beforehand):
    accelerate launch sft/train_trl.py --model Qwen/Qwen3-4B-Instruct-2507 --data out/hf_dataset --output ckpt --bf16
    # CPU smoke run on a tiny local model (what CI runs; see sft/README.md):
    python sft/train_trl.py --model /tmp/tiny --data out/hf_dataset --output /tmp/sft --max-steps 30 \
        --lr 3e-3 --grad-accum 1

Writes OUTPUT/loss.json (the logged training losses) and, unless --no-save, the final model.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def load_rows(path: str):  # type: ignore[no-untyped-def]
    """A ``datasets`` folder (save_to_disk) or a JSONL file of ``{"messages", "tools"}`` rows."""
    from datasets import load_dataset, load_from_disk

    p = Path(path)
    if p.is_dir():
        return load_from_disk(str(p))
    return load_dataset("json", data_files=str(p), split="train")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF model id or local path")
    ap.add_argument("--data", required=True, help="clawgym sft build output: hf_dataset/ or train.jsonl")
    ap.add_argument("--output", required=True)
    ap.add_argument("--chat-template", default=None, help="replace the tokenizer's template (TRL name or .jinja)")
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--max-steps", type=int, default=-1)
    ap.add_argument("--batch-size", type=int, default=1, help="per-device micro-batch")
    ap.add_argument("--grad-accum", type=int, default=128, help="global batch = batch-size x grad-accum x devices")
    ap.add_argument("--max-length", type=int, default=65536)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if args.chat_template:
        from clawgym_env.sft.tokenize import resolve_chat_template

        tokenizer.chat_template = resolve_chat_template(args.chat_template)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16 if args.bf16 else torch.float32)
    config = SFTConfig(
        output_dir=args.output, assistant_only_loss=True, max_length=args.max_length, packing=False,
        per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=args.grad_accum,
        learning_rate=args.lr, num_train_epochs=args.epochs, max_steps=args.max_steps, lr_scheduler_type="constant",
        warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[], seed=args.seed, bf16=args.bf16,
        gradient_checkpointing=args.gradient_checkpointing, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0, dataset_num_proc=None)
    trainer = SFTTrainer(model=model, args=config, train_dataset=load_rows(args.data), processing_class=tokenizer)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    os.makedirs(args.output, exist_ok=True)
    Path(args.output, "loss.json").write_text(json.dumps({"loss": losses}, indent=1))
    if not args.no_save:
        trainer.save_model(args.output)
    print(json.dumps({"steps": trainer.state.global_step, "first_loss": losses[0] if losses else None,
                      "last_loss": losses[-1] if losses else None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
