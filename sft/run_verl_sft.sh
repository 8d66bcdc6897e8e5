#!/usr/bin/env bash
# veRL multi-turn SFT on a ClawGym export: torchrun + verl.trainer.sft_trainer with sft/verl_sft.yaml.
#
#   pip install -e ".[verl]"                       # verl==0.9.1 (GPU machine: plus flash-attn for your CUDA)
#   clawgym sft build runs/*/records.jsonl --out out --format verl
#   DATA=out/train.parquet MODEL=Qwen/Qwen3-4B-Instruct-2507 NGPUS=8 bash sft/run_verl_sft.sh
#
# Several nodes: run the same command on every node with NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT
# set (torchrun's rendezvous); extra arguments are hydra overrides, e.g. trainer.total_epochs=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DATA=${DATA:-out/train.parquet}
MODEL=${MODEL:-Qwen/Qwen3-4B-Instruct-2507}
NGPUS=${NGPUS:-8}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
OUT=${OUT:-checkpoints/clawgym-sft}

exec torchrun --nnodes="$NNODES" --node_rank="$NODE_RANK" --nproc_per_node="$NGPUS" \
  --master_addr="$MASTER_ADDR" --master_port="$MASTER_PORT" \
  -m verl.trainer.sft_trainer --config-path="$here" --config-name=verl_sft \
  data.train_files="$DATA" model.path="$MODEL" \
  trainer.nnodes="$NNODES" trainer.n_gpus_per_node="$NGPUS" trainer.default_local_dir="$OUT" "$@"
