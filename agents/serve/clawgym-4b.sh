#!/usr/bin/env bash
# ClawGym-4B (SFT of Qwen3-4B-Instruct-2507 on the authors' trajectories) on vLLM, 64K context.
# MODEL: the checkpoint, a local folder or its hub id (the authors announced the ClawGym-Agents
# checkpoints without a fixed hub name at the time of writing, so none is assumed here).
: "${MODEL:?set MODEL to the ClawGym-4B checkpoint (a local folder or hub id)}"
exec "$(dirname "$0")/vllm_serve.sh" "$MODEL" clawgym-4b 65536 "$@"
