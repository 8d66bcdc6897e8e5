"""The one progress bar of the command line (synthesis, quality gates, no-op scoring, SFT export).

Its own module because layers far apart use it (verify, synth, sft, cli): none of them should
import another's module just for a bar. ``rich`` is imported only when a bar is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def progress_columns() -> tuple[Any, ...]:
    """Description, bar, done/total, elapsed and ETA: the columns every bar of the CLI shows."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())


@contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True,
                 console: Any = None) -> Iterator[Callable[[], None]]:
    """A rich progress bar (transient) with elapsed time and ETA; yields the function that advances
    it by one. ``console``: a ``rich.console.Console`` to draw on (default: rich's, on stdout)."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import Progress

    bar = Progress(*progress_columns(), transient=True, console=console)
    handle = bar.add_task(description, total=total)
    with bar:
        yield lambda: bar.advance(handle)


__all__ = ["progress_bar", "progress_columns"]
