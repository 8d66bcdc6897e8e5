#!/usr/bin/env bash
# Qwen3-8B on vLLM (no Instruct-2507 release exists at 8B: this is the hybrid thinking model the authors
# fine-tuned into ClawGym-8B). 32K context, the model's native window; 64K needs YaRN rope scaling
# (pass --hf-overrides with a yarn factor of 2; see Qwen3-8B's model card). MODEL: a local copy.
exec "$(dirname "$0")/vllm_serve.sh" "${MODEL:-Qwen/Qwen3-8B}" qwen3-8b 32768 "$@"
