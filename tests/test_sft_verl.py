"""The veRL parquet export, loaded by veRL 0.9.1's own multi-turn SFT dataset class (real veRL, CPU).

``MultiTurnSFTDataset`` templates each message separately and asserts that the concatenation equals
templating the whole conversation; here its token ids must also equal ClawGym's own tokenization,
and its loss mask must cover exactly ClawGym's trained spans plus the template's newline after each
``<|im_end|>`` (veRL trains that newline; ClawGym does not: the model never generates it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers", reason="transformers is not installed: pip install 'clawgym[train]' (after torch==2.13.0)")
pytest.importorskip("verl", reason="veRL is not installed: pip install 'clawgym[verl]' (verl==0.9.1; .ci/run installs it)")

from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from clawgym_env.rollout.records import TrajectoryRecord, read_records
from clawgym_env.sft.export import read_verl_parquet, write_verl_parquet
from clawgym_env.sft.tiny import build_tiny_tokenizer
from clawgym_env.sft.tokenize import tokenize_conversation
from clawgym_env.sft.verl_dataset import ClawGymMultiTurnSFTDataset

CONFIG = {"max_length": 32768, "truncation": "error", "pad_mode": "no_padding"}


@pytest.fixture(scope="module")
def tok() -> Any:
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def records(oracle_records_path: Path) -> list[TrajectoryRecord]:
    return read_records(oracle_records_path)[:12]


@pytest.fixture(scope="module")
def parquet(records: list[TrajectoryRecord], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verl") / "train.parquet"
    write_verl_parquet(records, path)
    return path


def _mask_plus_newline(tok: Any, ids: list[int], spans: list[tuple[int, int]]) -> list[int]:
    mask = [0] * len(ids)
    for s, e in spans:
        for i in range(s, e):
            mask[i] = 1
        if e < len(ids) and tok.decode([ids[e]]) == "\n":
            mask[e] = 1
    return mask


def test_clawgym_dataset_class_reproduces_our_tokens_with_the_exact_tools(tok: Any, parquet: Path,
                                                                           records: list[TrajectoryRecord]) -> None:
    ds = ClawGymMultiTurnSFTDataset(str(parquet), tok, dict(CONFIG))
    assert len(ds) == len(records)
    assert ds.tools[0] == records[0].tools  # exact schemas, not pyarrow's unified struct
    for i, rec in enumerate(records):
        item = ds[i]  # veRL's per-message tokenization + its own sanity check against the whole template
        ours = tokenize_conversation(tok, rec.messages, rec.tools)
        assert item["input_ids"].tolist() == ours.input_ids
        assert item["loss_mask"].tolist() == _mask_plus_newline(tok, ours.input_ids, ours.spans)


def test_stock_dataset_class_loads_the_parquet(tok: Any, parquet: Path, records: list[TrajectoryRecord]) -> None:
    """veRL's unmodified class loads the same file; without ``data.custom_cls`` it sees no tool
    schemas (there is no lossless ``tools`` column), so its ids equal ours rendered without tools."""
    ds = MultiTurnSFTDataset(str(parquet), tok, dict(CONFIG))
    assert len(ds) == len(records) and ds.tools is None
    for i in (0, len(records) - 1):
        item = ds[i]
        ours = tokenize_conversation(tok, records[i].messages, None)
        assert item["input_ids"].tolist() == ours.input_ids
        assert item["loss_mask"].tolist() == _mask_plus_newline(tok, ours.input_ids, ours.spans)


def test_parquet_round_trip_is_exact(parquet: Path, records: list[TrajectoryRecord]) -> None:
    rows = read_verl_parquet(parquet)
    assert [r["messages"] for r in rows] == [rec.messages for rec in records]
    assert [r["tools"] for r in rows] == [rec.tools for rec in records]
    assert json.loads(json.dumps(rows[0]["messages"])) == rows[0]["messages"]


def test_sft_config_composes_with_verls_trainer_config() -> None:
    """sft/verl_sft.yaml extends veRL's sft_trainer_engine.yaml (hydra searchpath) with the authors'
    settings and our dataset class; composing it needs veRL's config tree but no GPU."""
    from hydra import compose, initialize_config_dir

    sft_dir = Path(__file__).resolve().parents[1] / "sft"
    with initialize_config_dir(config_dir=str(sft_dir), version_base=None):
        cfg = compose(config_name="verl_sft", overrides=["data.train_files=x.parquet", "model.path=/m"])
    assert cfg.data.custom_cls.path == "pkg://clawgym_env.sft.verl_dataset"
    assert cfg.data.custom_cls.name == "ClawGymMultiTurnSFTDataset"
    assert (cfg.data.train_files, cfg.model.path, cfg.optim.lr, cfg.trainer.total_epochs) == ("x.parquet", "/m", 1e-5, 3)
    assert cfg.data.train_batch_size == 128 and cfg.data.max_length == 65536
    assert "engine" in cfg and "checkpoint" in cfg  # veRL's own defaults came along
    from verl.utils.import_utils import load_extern_object

    assert load_extern_object(cfg.data.custom_cls.path, cfg.data.custom_cls.name) is ClawGymMultiTurnSFTDataset
