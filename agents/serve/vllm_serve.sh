#!/usr/bin/env bash
# Serve a model with vLLM for `clawgym eval --agent-config agents/NAME.yaml` (an OpenAI-compatible
# endpoint on http://$HOST:$PORT/v1). GPU only: pip install 'clawgym[vllm]' on the GPU machine.
#
#   vllm_serve.sh MODEL SERVED_NAME MAX_MODEL_LEN [more vllm serve flags...]
#
# Tool calling: --enable-auto-tool-choice --tool-call-parser hermes. Qwen3 and Qwen3-Instruct-2507
# (and models fine-tuned from them, ClawGym-4B/8B) write calls as <tool_call>{"name", "arguments"}
# </tool_call>, the Hermes format; vLLM's qwen3_coder/qwen3_xml parsers are for Qwen3-Coder's XML calls.
# --generation-config vllm: the model's generation_config.json sets no hidden defaults (Qwen's ships
# top_k 20, top_p 0.8), so what a request sends is what samples, as in the authors' SGLang rollouts.
# Environment: HOST (127.0.0.1), PORT (8000), TP (tensor parallel size, 1), GPU_MEMORY_UTILIZATION (0.9).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 MODEL SERVED_NAME MAX_MODEL_LEN [vllm serve flags...]" >&2
  exit 2
fi
model=$1 name=$2 len=$3
shift 3
if ! command -v vllm >/dev/null; then
  echo "$0: vllm is not installed: pip install 'clawgym[vllm]' (GPU machines only: it pins its own torch)" >&2
  exit 1
fi
exec vllm serve "$model" --served-model-name "$name" --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" \
  --max-model-len "$len" --enable-auto-tool-choice --tool-call-parser hermes --generation-config vllm \
  --tensor-parallel-size "${TP:-1}" --gpu-memory-utilization "${GPU_MEMORY_UTILIZATION:-0.9}" "$@"
