#!/usr/bin/env bash
# ClawGym-8B (SFT of Qwen3-8B on the authors' trajectories) on vLLM, 32K context (Qwen3-8B's native window).
# MODEL: the checkpoint, a local folder or its hub id (no fixed hub name is assumed here).
: "${MODEL:?set MODEL to the ClawGym-8B checkpoint (a local folder or hub id)}"
exec "$(dirname "$0")/vllm_serve.sh" "$MODEL" clawgym-8b 32768 "$@"
