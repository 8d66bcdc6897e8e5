"""The CPU SFT smoke run: oracle rollouts of built-in tasks -> ``clawgym sft build`` -> TRL SFTTrainer
(sft/train_trl.py, the recipe users run) on a tiny Qwen3-architecture model built here (random init,
BPE tokenizer trained on local text, the Qwen3-Instruct-2507 chat template shipped inside TRL).
The loss must go down, within the 5 minutes the issue allows."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trl", reason="TRL is not installed: pip install 'clawgym[train]' (after torch==2.13.0)")

from clawgym_env.rollout.records import read_records
from clawgym_env.sft.tiny import save_tiny
from clawgym_env.sft.tokenize import tokenize_conversation

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def export_dir(oracle_records_path: Path, tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sft")
    proc = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "sft", "build", str(oracle_records_path),
                           "--out", str(out), "--format", "hf-dataset,tokens", "--tokenizer", str(tiny_dir)],
                          check=False, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_cpu_smoke_run_loss_goes_down(export_dir: Path, tiny_dir: Path, tmp_path: Path) -> None:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(REPO / "sft" / "train_trl.py"), "--model", str(tiny_dir),
                           "--data", str(export_dir / "hf_dataset"), "--output", str(tmp_path / "run"),
                           "--max-steps", "12", "--lr", "3e-3", "--grad-accum", "1", "--no-save"],
                          check=False, capture_output=True, text=True, timeout=300, cwd=REPO)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    losses = json.loads((tmp_path / "run" / "loss.json").read_text())["loss"]
    assert len(losses) == 12
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first - 0.5, losses
    assert elapsed < 300, elapsed
    print(f"\nSFT smoke: 12 steps in {elapsed:.0f} s, loss {first:.2f} -> {last:.2f}")


def test_trl_assistant_mask_agrees_with_ours(export_dir: Path, tiny_dir: Path, oracle_records_path: Path) -> None:
    """TRL's ``{% generation %}`` mask (what SFTTrainer trains) covers our spans plus the newline
    its training template puts inside the generation block after ``<|im_end|>``; nothing else."""
    from transformers import AutoTokenizer
    from trl.chat_template_utils import get_training_chat_template

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    training_template = get_training_chat_template(tok)
    assert training_template and "{% generation %}" in training_template.replace("{%- generation %}", "{% generation %}")
    rec = read_records(oracle_records_path)[5]
    ours = tokenize_conversation(tok, rec.messages, rec.tools)
    out: Any = tok.apply_chat_template(rec.messages, tools=rec.tools, tokenize=True, return_dict=True,
                                       return_assistant_tokens_mask=True, chat_template=training_template)
    assert list(out["input_ids"]) == ours.input_ids
    trl_mask = list(out["assistant_masks"])
    expected = list(ours.loss_mask)
    for _, e in ours.spans:
        assert tok.decode([ours.input_ids[e]]) == "\n"
        expected[e] = 1
    assert trl_mask == expected
    # the tokens export holds the same ids and mask
    row = next(json.loads(line) for line in (export_dir / "tokens.jsonl").open() if json.loads(line)["episode_id"] == rec.episode_id)
    assert row["input_ids"] == ours.input_ids and row["loss_mask"] == ours.loss_mask


def test_build_runs_verls_per_message_check_when_given_a_tokenizer(oracle_records_path: Path, tiny_dir: Path,
                                                                   tmp_path: Path) -> None:
    """Two tool calls in one turn give two consecutive tool messages, which the Qwen template merges
    into one user turn: veRL's MultiTurnSFTDataset would raise at training time, so the build says so
    now (exit 2), or drops the conversation with --drop-drift."""
    good, base = read_records(oracle_records_path)[:2]
    msgs = [dict(m) for m in base.messages]
    call = msgs[2]["tool_calls"][0]
    msgs[2] = {**msgs[2], "tool_calls": [call, {**call, "id": "call_1"}]}
    msgs.insert(4, {**msgs[3], "tool_call_id": "call_1"})
    parallel = base.model_copy(update={"messages": msgs, "episode_id": "parallel#0", "task_id": "parallel"})
    src = tmp_path / "records.jsonl"
    src.write_text(good.to_json_line() + parallel.to_json_line())

    def build(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "clawgym_env.cli", "sft", "build", str(src), "--out",
                               str(tmp_path / "out"), "--format", "verl", "--tokenizer", str(tiny_dir), *extra],
                              check=False, capture_output=True, text=True, timeout=300, cwd=REPO)

    failed = build()
    assert failed.returncode == 2 and "parallel#0" in failed.stderr and "veRL per-message" in failed.stderr
    assert not (tmp_path / "out" / "train.parquet").exists()
    dropped = build("--drop-drift")
    assert dropped.returncode == 0, dropped.stderr
    assert "dropped 1 conversation" in dropped.stdout
    from clawgym_env.sft.export import read_verl_parquet

    assert [r["messages"] for r in read_verl_parquet(tmp_path / "out" / "train.parquet")] == [good.messages]
