"""veRL's multi-turn SFT dataset, reading ClawGym's parquet losslessly (``data.custom_cls``).

veRL 0.9.1's ``MultiTurnSFTDataset`` reads a ``tools`` list-of-dicts column. Parquet cannot hold
tool schemas that way: pyarrow unifies all JSON schemas of a column into one struct, so every tool
gets every other tool's parameters as nulls (the model would train on tool JSON it never sees at
inference), and the 19-tool OpenClaw schema cannot be written at all (an empty ``properties``
struct). ClawGym's export therefore stores the exact schemas as a JSON string (``tools_json``), and
this subclass decodes it; it also drops the null keys pyarrow adds to messages (``tool_calls: None``
on a user message), so templates see the messages as they were written. Everything else is veRL's.

Use it with ``verl.trainer.sft_trainer``::

    data.custom_cls.path=pkg://clawgym_env.sft.verl_dataset data.custom_cls.name=ClawGymMultiTurnSFTDataset

Importing this module imports veRL (extra ``[verl]``).
"""

from __future__ import annotations

import json
from typing import Any

from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from clawgym_env.sft.export import drop_none_keys

TOOLS_JSON_KEY = "tools_json"


class ClawGymMultiTurnSFTDataset(MultiTurnSFTDataset):
    """``MultiTurnSFTDataset`` + exact tool schemas from ``tools_json`` + null-free messages."""

    def _read_files_and_process(self) -> None:
        super()._read_files_and_process()
        if TOOLS_JSON_KEY in self.dataframe.columns:
            self.tools = [json.loads(t) if t else None for t in self.dataframe[TOOLS_JSON_KEY].tolist()]
        self.messages = [drop_none_keys(m) for m in self.messages]

    def _build_messages(self, example: dict) -> list[dict[str, Any]]:
        return drop_none_keys(super()._build_messages(example))


__all__ = ["TOOLS_JSON_KEY", "ClawGymMultiTurnSFTDataset"]
