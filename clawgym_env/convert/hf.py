"""``clawgym convert SUITE --to hf-dataset``: a task suite as a Hugging Face ``datasets.Dataset``.

One row per task in the layout :mod:`clawgym_env.tasks.hf` documents (the authors' ``syn_task.jsonl``
columns plus what a lossless round trip needs), saved with ``save_to_disk``. It loads back offline
with ``datasets.load_from_disk``, with ``open_source(DIR)`` / ``register_suite(DIR)`` (or
``"hf:DIR"``), and, once the user pushes it (``load_from_disk(DIR).push_to_hub("me/suite")``: their
step, with their token), with ``register_suite("hf:me/suite")``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from clawgym_env.progress import progress_bar
from clawgym_env.sft.export import atomic_path
from clawgym_env.tasks import TaskSource
from clawgym_env.tasks.hf import features, require_datasets, task_to_row


def _rows(source: TaskSource, ids: list[str], advance: Callable[[], None]) -> Iterator[dict[str, Any]]:
    for task_id in ids:
        yield task_to_row(source.load(task_id))
        advance()


def suite_dataset(source: TaskSource, ids: list[str] | None = None, *, cache_dir: str | os.PathLike[str],
                  progress: bool | Callable[[], None] = False) -> Any:
    """The tasks ``ids`` (default: all) of ``source`` as a ``datasets.Dataset``, written row by row
    under ``cache_dir`` (so a suite bigger than memory converts). ``progress``: draw a bar, or a
    function called once per task (the caller's bar)."""
    ds = require_datasets()
    ids = source.ids() if ids is None else ids
    if not ids:  # from_generator refuses an empty generator
        return ds.Dataset.from_list([], features=features())
    # a fresh fingerprint: datasets would otherwise hash the source (every cached Task) to name its cache,
    # and could hand back an older conversion of a suite whose files changed since
    def build(advance: Callable[[], None]) -> Any:
        return ds.Dataset.from_generator(_rows, gen_kwargs={"source": source, "ids": ids, "advance": advance},
                                         features=features(), cache_dir=str(cache_dir), fingerprint=uuid.uuid4().hex)

    if callable(progress):
        return build(progress)
    with progress_bar("converting to hf-dataset", len(ids), enabled=progress) as advance:
        return build(advance)


def write_hf_dataset(source: TaskSource, out: str | os.PathLike[str], ids: list[str] | None = None, *,
                     progress: bool | Callable[[], None] = False) -> dict[str, Any]:
    """``save_to_disk`` the suite at ``out`` (replaced atomically); returns ``{path, rows, bytes}``."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    quiet_before = are_progress_bars_disabled()
    disable_progress_bars()  # datasets' own bars would interleave with ours
    try:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".hf-cache-", dir=out.parent) as cache, \
                atomic_path(out, directory=True) as tmp:
            dataset = suite_dataset(source, ids, cache_dir=cache, progress=progress)
            dataset.save_to_disk(str(tmp))
            rows = len(dataset)
            del dataset  # release the memory-mapped cache files before the folder goes
    finally:
        if not quiet_before:
            enable_progress_bars()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"path": str(out), "rows": rows, "bytes": size}


def write_suite(source: TaskSource, ids: list[str], out: Path, *, overwrite: bool = False,
                progress: Callable[[], None] | None = None, **_: Any) -> dict[str, Any]:
    """``clawgym convert --to hf-dataset`` (the ``convert.cli.FORMATS`` interface). Exits 2, saying why,
    when ``datasets`` is missing or ``out`` holds files and ``overwrite`` is off."""
    try:
        require_datasets()
    except ImportError as exc:
        print(f"clawgym convert: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if Path(out).exists() and any(Path(out).iterdir()) and not overwrite:
        print(f"clawgym convert: {out} exists and is not empty (pass --overwrite)", file=sys.stderr)
        raise SystemExit(2)
    summary = write_hf_dataset(source, out, ids, progress=progress or False)
    return {"format": "hf-dataset", "out": summary["path"], "tasks": summary["rows"], "bytes": summary["bytes"]}


__all__ = ["suite_dataset", "write_hf_dataset", "write_suite"]
