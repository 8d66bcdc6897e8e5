"""A tiny Qwen3-architecture model and tokenizer built here, for smoke runs and tests.

Nothing can be downloaded at run time, so the tokenizer is a byte-level BPE trained on local text
(the OpenClaw system prompt, the tool schemas, built-in task requests and their oracle outputs) with
Qwen's special tokens, and the chat template is the Qwen3-Instruct-2507 one that ships inside TRL
(the template of the authors' SFT model). The model is randomly initialised. It writes garbage;
it exists so the training and rollout plumbing runs for real on a CPU in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MARKUP_TOKENS = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"]
DEFAULT_TEMPLATE = "qwen3_instruct_2507"


def default_corpus(n_tasks: int = 40) -> list[str]:
    """Local text shaped like the conversations the tiny model sees."""
    from clawgym_env.synth.compose import synthesize
    from clawgym_env.tools import build_system_prompt, tool_schemas

    texts = [build_system_prompt([s["function"]["name"] for s in tool_schemas(p)]) for p in ("openclaw", "coding")]
    texts += [json.dumps(tool_schemas(p), ensure_ascii=False) for p in ("openclaw", "coding")]
    for i in range(0, n_tasks * 25, 25):
        task = synthesize(i).task
        texts.append(task.user_query)
        texts.append(json.dumps(task.oracle or [], ensure_ascii=False))
    return texts


def build_tiny_tokenizer(corpus: Iterable[str] | None = None, *, vocab_size: int = 4000,
                         chat_template: str = DEFAULT_TEMPLATE) -> Any:
    """A PreTrainedTokenizerFast with Qwen's special tokens; eos = ``<|im_end|>`` as in Qwen instruct
    models. ``chat_template``: a TRL template name or a .jinja path."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from clawgym_env.sft.tokenize import resolve_chat_template

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(list(corpus if corpus is not None else default_corpus()), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_tokens(MARKUP_TOKENS)
    tokenizer.chat_template = resolve_chat_template(chat_template)
    return tokenizer


def build_tiny_model(tokenizer: Any, *, hidden_size: int = 64, layers: int = 2, heads: int = 4,
                     seed: int = 0) -> Any:
    """A randomly initialised Qwen3ForCausalLM sized for a CPU."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        head_dim=hidden_size // heads, max_position_embeddings=65536, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None)
    return Qwen3ForCausalLM(config)


def save_tiny(out_dir: str | Path, **kwargs: Any) -> Path:
    """Build and ``save_pretrained`` the tiny tokenizer + model into ``out_dir`` (a model path any
    HF-based trainer or ``clawgym --agent hf`` accepts)."""
    out = Path(out_dir)
    tokenizer = build_tiny_tokenizer(**kwargs)
    model = build_tiny_model(tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


__all__ = ["DEFAULT_TEMPLATE", "build_tiny_model", "build_tiny_tokenizer", "default_corpus", "save_tiny"]
