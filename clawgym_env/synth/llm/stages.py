"""Resumable pipeline stages: one JSONL per stage, one line per item keyed by ``id``.

A stage reads the items the previous stage kept and appends one record per item it finishes, so a
killed run loses at most the items in flight: a rerun loads the file (last line per id wins; a line
cut by the kill is ignored) and does only what is missing. Records say ``ok`` and, when not, a
``reason`` (``kind: detail``); an API failure that outlived its retries is ``retryable`` and is the
one reject a rerun tries again. Token usage is stored per record, so a stage's accounting sums every
invocation that contributed to it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

from clawgym_env.progress import progress_bar

Record = dict[str, Any]


def read_records(path: Path) -> dict[str, Record]:
    """The records of a stage file by id (last line wins); missing file -> {}; unreadable lines (a
    write cut short by a kill) are skipped."""
    out: dict[str, Record] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("id"), str):
                out[rec["id"]] = rec
    return out


class StageWriter:
    """Appends records, one flushed line each, starting on a fresh line if a kill cut the last one."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = path.exists() and path.stat().st_size > 0 and _last_byte(path) != b"\n"
        self._fh = path.open("a", encoding="utf-8")
        if needs_newline:
            self._fh.write("\n")

    def write(self, record: Record) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1)


def pin_config(out: Path, pinned: dict[str, Any]) -> None:
    """Write ``out/config.json`` on a first run; on a rerun refuse settings that differ from it, so
    two runs' items never mix in one folder."""
    path = out / "config.json"
    if path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        if before != pinned:
            raise ValueError(f"{out} holds a run with other settings ({before}); use another --out or the same "
                             f"settings ({pinned})")
    else:
        path.write_text(json.dumps(pinned, indent=2) + "\n", encoding="utf-8")


def reason_kind(reason: str | None) -> str:
    """The funnel groups rejects by the part of the reason before its first colon."""
    return (reason or "unknown").split(":", 1)[0].strip() or "unknown"


@dataclass
class StageResult:
    """One row of the funnel."""

    name: str
    file: str
    n_in: int
    n_out: int
    rejects: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    done_now: int = 0
    """Items processed by this invocation (the rest came from the file: resumed)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(name: str, path: Path, ids: Iterable[str], records: dict[str, Record], *, done_now: int = 0) -> StageResult:
    """Funnel counts and summed token usage over the records of ``ids`` (the stage's current input)."""
    ids = list(ids)
    rejects: Counter[str] = Counter()
    usage: Counter[str] = Counter()
    requests = n_out = 0
    for i in ids:
        rec = records.get(i)
        if rec is None:
            rejects["not_done"] += 1
            continue
        if rec.get("ok"):
            n_out += 1
        else:
            rejects[reason_kind(rec.get("reason"))] += 1
        for k, v in (rec.get("usage") or {}).items():
            if isinstance(v, int):
                usage[k] += v
        requests += int(rec.get("attempts") or 0)
    return StageResult(name, path.name, len(ids), n_out, dict(sorted(rejects.items())), dict(sorted(usage.items())),
                       requests, done_now)


def kept(items: list[Record], records: dict[str, Record]) -> list[Record]:
    """The items whose record in a stage file is ok, in input order, merged with that record."""
    return [{**it, **records[it["id"]]} for it in items if records.get(it["id"], {}).get("ok")]


async def _run_all(todo: list[Record], worker: Callable[[Record], Awaitable[Record]], writer: StageWriter,
                   concurrency: int, advance: Callable[[], None]) -> None:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(item: Record) -> None:
        async with gate:
            rec = await worker(item)
        writer.write(rec)  # the loop's thread only: lines never interleave
        advance()

    await asyncio.gather(*(one(it) for it in todo))


def run_llm_stage(name: str, path: Path, items: list[Record], *, client_factory: Callable[[], Any],
                  build_messages: Callable[[Record], list[dict[str, Any]]],
                  parse: Callable[[Record, str], Record], concurrency: int = 8, progress: bool = True) -> StageResult:
    """Ask the model once per item not yet in ``path``; ``parse(item, text)`` returns the record's
    payload with ``ok`` and ``reason``. Retries are the client's; an API failure that outlives them is
    recorded as a retryable reject, not raised, so one bad item does not stop the stage."""
    from clawgym_env.agents.common import AgentError

    done = read_records(path)
    todo = [it for it in items if it["id"] not in done or done[it["id"]].get("retryable")]
    if todo:
        async def main() -> None:
            client = client_factory()

            async def worker(item: Record) -> Record:
                try:
                    out = await client.complete(build_messages(item))
                except AgentError as exc:
                    return {"id": item["id"], "ok": False, "reason": f"api_error: {exc.kind}: {exc}",
                            "retryable": True, "attempts": exc.attempts}
                rec = parse(item, out.text)
                return {"id": item["id"], **rec, "raw": out.text, "usage": out.usage, "attempts": out.attempts,
                        "model": out.model}

            try:
                with StageWriter(path) as writer, progress_bar(name, len(todo), enabled=progress) as advance:
                    await _run_all(todo, worker, writer, concurrency, advance)
            finally:
                await client.aclose()

        asyncio.run(main())
    return summarize(name, path, (it["id"] for it in items), read_records(path), done_now=len(todo))


__all__ = ["Record", "StageResult", "StageWriter", "kept", "pin_config", "read_records", "reason_kind", "run_llm_stage",
           "summarize"]
