"""SFT data from trajectories: import outside data, filter, export loss-masked multi-turn datasets.

``clawgym sft build`` runs the pipeline (docs/sft.md): :mod:`importers` reads our records, the
ClawGym authors' JSONL and OpenClaw sessions as :class:`~clawgym_env.rollout.TrajectoryRecord`;
:mod:`filter` keeps what is worth training on; :mod:`export` writes veRL, TRL/HF and OpenRLHF files.
Light to import: pyarrow, pandas, datasets and transformers load only inside the writers.
"""

from __future__ import annotations

from clawgym_env.sft.examples import SFTExample, example_from_record, sft_messages
from clawgym_env.sft.export import (
    FORMATS,
    read_verl_parquet,
    to_hf_dataset,
    write_format,
    write_hf_dataset,
    write_hf_jsonl,
    write_openrlhf,
    write_openrlhf_pretok,
    write_tokens,
    write_verl_parquet,
)
from clawgym_env.sft.filter import REASONS, FilterConfig, FilterResult, filter_records
from clawgym_env.sft.importers import ImportStats, load_many, load_trajectories

__all__ = [
    "FORMATS", "REASONS", "FilterConfig", "FilterResult", "ImportStats", "SFTExample", "example_from_record",
    "filter_records", "load_many", "load_trajectories", "read_verl_parquet", "sft_messages", "to_hf_dataset",
    "write_format", "write_hf_dataset", "write_hf_jsonl", "write_openrlhf", "write_openrlhf_pretok",
    "write_tokens", "write_verl_parquet",
]
