"""Writers: filtered records -> the files SFT trainers read (veRL, TRL/HF, OpenRLHF, token ids).

Every writer takes records that are already filtered, writes atomically (a temporary file renamed
into place, so a crash never leaves half a dataset under the final name) and returns a small dict
of stats. All of them render the conversation through :func:`clawgym_env.sft.examples.sft_messages`.

Heavy libraries (pyarrow, pandas, datasets) are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from clawgym_env.rollout.records import TrajectoryRecord
from clawgym_env.sft.examples import example_from_record, sft_messages

OnDrift = Literal["error", "drop"]


class ToolTemplateError(ValueError):
    """The chat template cannot render tool calls or tool schemas: every tool-call turn would train
    as an empty turn (just the end-of-turn token), teaching the model to stop instead of calling."""


def check_tool_template(tokenizer: Any) -> None:
    """Raise :class:`ToolTemplateError` naming what the tokenizer's chat template drops of a
    tool-calling conversation (:func:`clawgym_env.agents.templates.tool_template_problems`)."""
    from clawgym_env.agents.templates import TEMPLATE_HINT, tool_template_problems

    problems = tool_template_problems(tokenizer)
    if problems:
        raise ToolTemplateError(
            "the chat template cannot carry tool calling, so the exported data would train every tool-call turn "
            f"as an empty turn: {'; '.join(problems)}. Pass --chat-template NAME_OR_PATH (chat_template=): "
            f"{TEMPLATE_HINT}")


# ---------------------------------------------------------------------------------------- atomic files
@contextmanager
def atomic_path(path: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto it when the block succeeds, removed otherwise."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")  # umask permissions
    if directory:
        tmp.mkdir()
    try:
        yield tmp
        if directory and final.exists():  # a directory cannot be renamed over a non-empty one
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old)
        else:
            os.replace(tmp, final)
    except BaseException:
        if directory:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def _write_jsonl(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> dict[str, Any]:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return {"path": str(path), "rows": len(rows), "bytes": Path(path).stat().st_size}


def _row(record: TrajectoryRecord) -> dict[str, Any]:
    example = example_from_record(record)
    return {"messages": example.messages, "tools": example.tools, **example.metadata()}


# ---------------------------------------------------------------------------------------- veRL parquet
def verl_rows(records: list[TrajectoryRecord]) -> list[dict[str, Any]]:
    """Rows of the veRL parquet: ``messages``, ``tools_json`` (the tool schemas as a JSON string) and
    the metadata columns. There is no ``tools`` column: Arrow unifies all tool schemas into one
    struct (every tool gets every other tool's properties as null), and the 19-tool openclaw
    profile cannot be written at all (an empty ``properties`` struct)."""
    rows = []
    for record in records:
        example = example_from_record(record)
        rows.append({"messages": example.messages, "tools_json": json.dumps(example.tools, ensure_ascii=False),
                     **example.metadata()})
    return rows


def write_verl_parquet(records: list[TrajectoryRecord], path: str | os.PathLike[str], *,
                       verify: bool = True) -> dict[str, Any]:
    """veRL 0.9.1 ``MultiTurnSFTDataset`` parquet (with ``tools_json`` for the lead's ``data.custom_cls``).
    ``verify`` reads the file back the way veRL does and checks every row equals what was written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not records:
        raise ValueError("no records to write: a parquet file needs at least one row to type its columns")
    rows = verl_rows(records)
    table = pa.Table.from_pylist(rows)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
        if verify:
            back = read_verl_parquet(tmp)
            for want, got in zip(rows, back, strict=True):
                if got["messages"] != want["messages"] or got["tools"] != json.loads(want["tools_json"]):
                    raise RuntimeError(f"{path}: row {want['episode_id']} does not read back as written")
    return {"path": str(path), "rows": len(rows), "bytes": Path(path).stat().st_size, "verified": verify}


def _to_python(value: Any) -> Any:
    """numpy arrays -> lists, recursively (``verl.utils.py_functional.convert_nested_value_to_list_recursive``)."""
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_python(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _to_python(value.tolist())
    return value


def drop_none_keys(value: Any) -> Any:
    """Remove None-valued keys at every depth: what Arrow's struct unification adds (``tool_calls:
    None`` on a user message). :func:`sft_messages` never writes a None value, so this is lossless."""
    if isinstance(value, dict):
        return {k: drop_none_keys(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none_keys(v) for v in value]
    return value


def split_verl_compatible(records: list[TrajectoryRecord], tokenizer: Any,
                          ) -> tuple[list[TrajectoryRecord], list[tuple[str, str]]]:
    """Split records by whether veRL's per-message tokenization (MultiTurnSFTDataset) reproduces the
    whole conversation; the rest would raise veRL's AssertionError at training time."""
    from clawgym_env.sft.tokenize import TemplateDriftError, check_per_message_tokenization

    check_tool_template(tokenizer)
    ok, bad = [], []
    for r in records:
        try:
            check_per_message_tokenization(tokenizer, sft_messages(r), r.tools)
        except TemplateDriftError as exc:
            bad.append((r.episode_id, str(exc)))
        else:
            ok.append(r)
    return ok, bad


def read_verl_parquet(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a parquet written by :func:`write_verl_parquet`, read as veRL reads them
    (``pd.read_parquet(dtype_backend="pyarrow")``, arrays to lists), with None keys dropped from the
    messages and ``tools`` decoded from ``tools_json``."""
    import pandas as pd

    frame = pd.read_parquet(path, dtype_backend="pyarrow")
    rows = []
    for raw in frame.to_dict(orient="records"):
        row = {k: _to_python(v) for k, v in raw.items()}
        row["messages"] = drop_none_keys(row["messages"])
        row["tools"] = json.loads(row["tools_json"]) if row.get("tools_json") else []
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------- HF / TRL
def write_hf_jsonl(records: list[TrajectoryRecord], path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{"messages", "tools", episode_id, task_id, source, category, reward, model}`` per line: what
    TRL ``SFTTrainer`` (``load_dataset("json")``) and OpenRLHF (``--input_key messages``) read."""
    return _write_jsonl([_row(r) for r in records], path)


def hf_features() -> Any:
    """``datasets.Features``: messages and tools as ``Json`` (exact nested JSON, no struct unification)."""
    import datasets

    return datasets.Features({
        "messages": datasets.Json(), "tools": datasets.Json(), "episode_id": datasets.Value("string"),
        "task_id": datasets.Value("string"), "source": datasets.Value("string"),
        "category": datasets.Value("string"), "reward": datasets.Value("float64"),
        "model": datasets.Value("string")})


def to_hf_dataset(records: list[TrajectoryRecord]) -> Any:
    """The rows of :func:`write_hf_jsonl` as an in-memory ``datasets.Dataset``."""
    import datasets

    return datasets.Dataset.from_list([_row(r) for r in records], features=hf_features())


def write_hf_dataset(records: list[TrajectoryRecord], path: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`to_hf_dataset` saved with ``save_to_disk`` (read it with ``datasets.load_from_disk``)."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    dataset = to_hf_dataset(records)
    quiet_before = are_progress_bars_disabled()
    disable_progress_bars()  # save_to_disk's bar would interleave with our summary
    try:
        with atomic_path(path, directory=True) as tmp:
            dataset.save_to_disk(str(tmp))
    finally:
        if not quiet_before:
            enable_progress_bars()
    size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return {"path": str(path), "rows": len(dataset), "bytes": size}


# ---------------------------------------------------------------------------------------- OpenRLHF
def write_openrlhf(records: list[TrajectoryRecord], path: str | os.PathLike[str]) -> dict[str, Any]:
    """The authors' record format (spec D2): ``{"messages", "tools"}`` per line, for OpenRLHF
    ``train_sft --input_key messages --apply_chat_template --multiturn``."""
    return _write_jsonl([{"messages": sft_messages(r), "tools": list(r.tools)} for r in records], path)


def _token_rows(records: list[TrajectoryRecord], make_row: Callable[[TrajectoryRecord, Any], dict[str, Any]], *,
                tokenizer: Any, from_rollout: bool, on_drift: OnDrift, chat_template_kwargs: dict[str, Any] | None,
                progress: bool) -> tuple[list[dict[str, Any]], int]:
    """``make_row(record, TokenizedConversation)`` per record, and how many were dropped for template
    drift (``on_drift="drop"``; with ``"error"`` drift raises, naming the episode)."""
    from clawgym_env.progress import progress_bar
    from clawgym_env.sft.tokenize import TemplateDriftError, tokenize_conversation, tokens_from_rollout

    if on_drift not in ("error", "drop"):
        raise ValueError(f"on_drift must be 'error' or 'drop', not {on_drift!r}")
    if not from_rollout:
        check_tool_template(tokenizer)
    rows: list[dict[str, Any]] = []
    dropped = 0
    with progress_bar("tokenizing", len(records), enabled=progress) as advance:
        for record in records:
            try:
                if from_rollout:
                    conv = tokens_from_rollout(record)
                else:
                    conv = tokenize_conversation(tokenizer, sft_messages(record), record.tools or None,
                                                 chat_template_kwargs=chat_template_kwargs)
                rows.append(make_row(record, conv))
            except TemplateDriftError as exc:
                if on_drift == "error":
                    raise TemplateDriftError(f"{_naming(record, exc)} (drop such episodes with on_drift='drop' "
                                             f"/ --drop-drift)") from exc
                dropped += 1
            except ValueError as exc:
                raise ValueError(_naming(record, exc)) from exc
            advance()
    return rows, dropped


def _naming(record: TrajectoryRecord, exc: Exception) -> str:
    """The error message, prefixed with the episode unless it names it already."""
    text = str(exc)
    return text if record.episode_id in text else f"episode {record.episode_id}: {text}"


def write_openrlhf_pretok(records: list[TrajectoryRecord], path: str | os.PathLike[str], tokenizer: Any, *,
                          on_drift: OnDrift = "error", chat_template_kwargs: dict[str, Any] | None = None,
                          progress: bool = False) -> dict[str, Any]:
    """Pre-tokenised OpenRLHF rows ``{prompt, response, prompt_ids_len, response_ranges}`` (spec D3):
    every assistant turn trained, as the authors' patched ``sft_dataset.py`` reads them."""
    from clawgym_env.sft.tokenize import to_openrlhf_pretok

    rows, dropped = _token_rows(records, lambda _record, conv: to_openrlhf_pretok(conv, tokenizer),
                                tokenizer=tokenizer, from_rollout=False, on_drift=on_drift,
                                chat_template_kwargs=chat_template_kwargs, progress=progress)
    return {**_write_jsonl(rows, path), "dropped_drift": dropped}


def write_tokens(records: list[TrajectoryRecord], path: str | os.PathLike[str], tokenizer: Any = None, *,
                 from_rollout: bool = False, on_drift: OnDrift = "error",
                 chat_template_kwargs: dict[str, Any] | None = None, progress: bool = False) -> dict[str, Any]:
    """``{episode_id, task_id, input_ids, loss_mask, spans}`` per line: the tokenizer's template over
    :func:`sft_messages`, or with ``from_rollout`` the exact ids the HF agent generated (no tokenizer
    needed; a record without them is an error). Template drift is an error naming the episode, or
    with ``on_drift="drop"`` the record is dropped and counted."""
    if tokenizer is None and not from_rollout:
        raise ValueError("the tokens format needs a tokenizer (or from_rollout=True)")

    def row(record: TrajectoryRecord, conv: Any) -> dict[str, Any]:
        return {"episode_id": record.episode_id, "task_id": record.task_id, "input_ids": list(conv.input_ids),
                "loss_mask": list(conv.loss_mask), "spans": [list(s) for s in conv.spans]}

    rows, dropped = _token_rows(records, row, tokenizer=tokenizer, from_rollout=from_rollout, on_drift=on_drift,
                                chat_template_kwargs=chat_template_kwargs, progress=progress)
    return {**_write_jsonl(rows, path), "dropped_drift": dropped, "tokens": sum(len(r["input_ids"]) for r in rows),
            "trained_tokens": sum(sum(r["loss_mask"]) for r in rows)}


# ---------------------------------------------------------------------------------------- format table
@dataclass(frozen=True)
class FormatSpec:
    name: str
    filename: str
    needs_tokenizer: bool
    description: str


FORMATS: dict[str, FormatSpec] = {f.name: f for f in [
    FormatSpec("verl", "train.parquet", False, "veRL MultiTurnSFTDataset parquet (messages, tools_json, metadata)"),
    FormatSpec("hf", "train.jsonl", False, "JSONL {messages, tools, metadata} for TRL SFTTrainer / OpenRLHF"),
    FormatSpec("hf-dataset", "hf_dataset", False, "datasets.Dataset saved with save_to_disk (Json features)"),
    FormatSpec("openrlhf", "openrlhf.jsonl", False, "the authors' JSONL {messages, tools} (spec D2)"),
    FormatSpec("openrlhf-pretok", "openrlhf_pretok.jsonl", True,
               "pre-tokenised {prompt, response, prompt_ids_len, response_ranges} (spec D3)"),
    FormatSpec("tokens", "tokens.jsonl", True, "token ids with loss masks {input_ids, loss_mask, spans}"),
]}
DEFAULT_FORMATS = ("verl", "hf")


def parse_formats(text: str) -> list[str]:
    """``"verl,hf"`` -> ``["verl", "hf"]``; ValueError on an unknown name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown format(s) {unknown or [text]}; known: {', '.join(FORMATS)}")
    return list(dict.fromkeys(names))


def needs_tokenizer(name: str, *, from_rollout: bool = False) -> bool:
    """Whether a format needs a tokenizer (``tokens`` from rollout ids does not)."""
    return FORMATS[name].needs_tokenizer and not (name == "tokens" and from_rollout)


def write_format(name: str, records: list[TrajectoryRecord], out_dir: str | os.PathLike[str], *,
                 tokenizer: Any = None, from_rollout: bool = False, on_drift: OnDrift = "error",
                 chat_template_kwargs: dict[str, Any] | None = None, progress: bool = False) -> dict[str, Any]:
    """Write one named format into ``out_dir`` under its file name; returns the writer's stats."""
    spec = FORMATS[name]
    path = Path(out_dir) / spec.filename
    if needs_tokenizer(name, from_rollout=from_rollout) and tokenizer is None:
        raise ValueError(f"format {name!r} needs a tokenizer")
    writers: dict[str, Callable[[], dict[str, Any]]] = {
        "verl": lambda: write_verl_parquet(records, path),
        "hf": lambda: write_hf_jsonl(records, path),
        "hf-dataset": lambda: write_hf_dataset(records, path),
        "openrlhf": lambda: write_openrlhf(records, path),
        "openrlhf-pretok": lambda: write_openrlhf_pretok(records, path, tokenizer, on_drift=on_drift,
                                                         chat_template_kwargs=chat_template_kwargs,
                                                         progress=progress),
        "tokens": lambda: write_tokens(records, path, tokenizer, from_rollout=from_rollout, on_drift=on_drift,
                                       chat_template_kwargs=chat_template_kwargs, progress=progress),
    }
    return {"format": name, **writers[name]()}


__all__ = [
    "DEFAULT_FORMATS", "FORMATS", "FormatSpec", "OnDrift", "ToolTemplateError", "atomic_path", "check_tool_template",
    "drop_none_keys", "hf_features",
    "needs_tokenizer", "parse_formats", "read_verl_parquet", "split_verl_compatible", "to_hf_dataset", "verl_rows", "write_format",
    "write_hf_dataset", "write_hf_jsonl", "write_openrlhf", "write_openrlhf_pretok", "write_tokens",
    "write_verl_parquet",
]
