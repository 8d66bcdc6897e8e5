#!/usr/bin/env bash
# Qwen3-4B-Instruct-2507 (the authors' RL base model) on vLLM, 64K context as in their RL run
# (OPENCLAW_CONTEXT_WINDOW 65536; the model's own window is 256K). MODEL: a local copy instead of the hub id.
exec "$(dirname "$0")/vllm_serve.sh" "${MODEL:-Qwen/Qwen3-4B-Instruct-2507}" qwen3-4b-instruct-2507 65536 "$@"
