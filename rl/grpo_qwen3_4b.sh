#!/usr/bin/env bash
# GRPO on ClawGym tasks with veRL 0.9.1 (python -m verl.trainer.main_ppo), the ClawGym authors'
# RL settings (RL/run_qwen3_4b.sh): Qwen3-4B-Instruct-2507, 8 prompts x 8 samples per step, lr 1e-6
# constant, no KL, no entropy bonus, clip 0.2 / 0.28, token-mean loss, temperature 0.7, 64K context,
# 8K tokens per model turn, dynamic batching at 64K tokens per GPU, eval and save every 5 steps.
#
# Each trajectory is one ClawGym episode in its own bwrap sandbox, run by the `claw_agent` loop
# (clawgym_env/integrations/verl_agent_loop.py); the reward is the task's verifier. See rl/README.md.
#
#   bash rl/grpo_qwen3_4b.sh                              # one node, 8 GPUs
#   NNODES=2 bash rl/grpo_qwen3_4b.sh                     # on the head of a running Ray cluster
#   bash rl/grpo_qwen3_4b.sh trainer.total_training_steps=100   # extra hydra overrides go last
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODEL=${MODEL:-Qwen/Qwen3-4B-Instruct-2507}
DATA_DIR=${DATA_DIR:-$HOME/data/clawgym}
TRAIN_FILE=${TRAIN_FILE:-$DATA_DIR/train.parquet}
VAL_FILE=${VAL_FILE:-$DATA_DIR/val.parquet}
NNODES=${NNODES:-1}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROLLOUT_TP=${ROLLOUT_TP:-1}                      # vLLM tensor parallel size per replica (4B fits one GPU)
PROMPTS_PER_STEP=${PROMPTS_PER_STEP:-8}          # x GROUP_SIZE trajectories per step
GROUP_SIZE=${GROUP_SIZE:-8}
MAX_PROMPT=${MAX_PROMPT:-12288}                  # OpenClaw system prompt + tool schemas + request (~7K Qwen tokens)
MAX_RESPONSE=${MAX_RESPONSE:-53248}              # the whole trajectory (all turns + tool results): 64K context in all
AGENT_LOOP_CONFIG=${AGENT_LOOP_CONFIG:-$REPO/rl/agent_loop.yaml}   # claw_agent's knobs (max turns, 8K per turn, ...)
PROJECT=${PROJECT:-clawgym-rl}
EXPERIMENT=${EXPERIMENT:-grpo-qwen3-4b}

if [[ ! -f $TRAIN_FILE ]]; then
    echo "no $TRAIN_FILE: build it first, e.g." >&2
    echo "  clawgym rl build-data builtin --limit 13300 --out $TRAIN_FILE" >&2
    echo "  clawgym rl build-data builtin --offset 13300 --out $VAL_FILE --split val" >&2
    exit 2
fi

# every Ray worker imports clawgym_env from here (and loads its verl.plugins entry point if installed)
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

python -m verl.trainer.main_ppo \
    algorithm.adv_estimator=grpo \
    algorithm.norm_adv_by_std_in_grpo=True \
    algorithm.use_kl_in_reward=False \
    data.train_files="$TRAIN_FILE" \
    data.val_files="$VAL_FILE" \
    data.train_batch_size="$PROMPTS_PER_STEP" \
    data.max_prompt_length="$MAX_PROMPT" \
    data.max_response_length="$MAX_RESPONSE" \
    data.filter_overlong_prompts=False \
    data.truncation=error \
    data.return_raw_chat=True \
    actor_rollout_ref.model.path="$MODEL" \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.actor.optim.lr=1e-6 \
    actor_rollout_ref.actor.optim.lr_scheduler_type=constant \
    actor_rollout_ref.actor.optim.weight_decay=0.1 \
    'actor_rollout_ref.actor.optim.betas=[0.9,0.98]' \
    actor_rollout_ref.actor.ppo_mini_batch_size="$PROMPTS_PER_STEP" \
    actor_rollout_ref.actor.ppo_epochs=1 \
    actor_rollout_ref.actor.use_dynamic_bsz=True \
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=65536 \
    actor_rollout_ref.actor.use_kl_loss=False \
    actor_rollout_ref.actor.kl_loss_coef=0.0 \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.actor.clip_ratio_low=0.2 \
    actor_rollout_ref.actor.clip_ratio_high=0.28 \
    actor_rollout_ref.actor.loss_agg_mode=token-mean \
    actor_rollout_ref.actor.fsdp_config.param_offload=True \
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=True \
    actor_rollout_ref.ref.fsdp_config.param_offload=True \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.mode=async \
    actor_rollout_ref.rollout.n="$GROUP_SIZE" \
    actor_rollout_ref.rollout.temperature=0.7 \
    actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP" \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
    actor_rollout_ref.rollout.max_model_len=65536 \
    actor_rollout_ref.rollout.max_num_batched_tokens=65536 \
    actor_rollout_ref.rollout.calculate_log_probs=True \
    actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True \
    actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=65536 \
    actor_rollout_ref.rollout.val_kwargs.n=1 \
    actor_rollout_ref.rollout.val_kwargs.temperature=0.7 \
    actor_rollout_ref.rollout.val_kwargs.do_sample=True \
    actor_rollout_ref.rollout.multi_turn.enable=True \
    actor_rollout_ref.rollout.agent.default_agent_loop=claw_agent \
    actor_rollout_ref.rollout.agent.agent_loop_config_path="$AGENT_LOOP_CONFIG" \
    actor_rollout_ref.rollout.agent.num_workers=8 \
    trainer.logger='["console"]' \
    trainer.project_name="$PROJECT" \
    trainer.experiment_name="$EXPERIMENT" \
    trainer.nnodes="$NNODES" \
    trainer.n_gpus_per_node="$GPUS_PER_NODE" \
    trainer.val_before_train=True \
    trainer.test_freq=5 \
    trainer.save_freq=5 \
    trainer.total_epochs=1 \
    "$@"
