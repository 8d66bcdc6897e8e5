"""Verification: the code verifier (reward.sh in a fresh sandbox) and offline scoring helpers."""

from clawgym_env.verify.code import DEFAULT_TIMEOUT_S, VerifierResult, parse_reward_stdout, run_code_verifier

__all__ = ["DEFAULT_TIMEOUT_S", "VerifierResult", "parse_reward_stdout", "run_code_verifier"]
