"""The one progress bar of the command line (synthesis, quality gate, no-op scoring, SFT export).

Its own module because layers far apart use it (verify, synth, sft, cli): none of them should
import another's module just for a bar. ``rich`` is imported only when a bar is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[[], None]]:
    """A rich progress bar (transient); yields the function that advances it by one."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True)
    handle = bar.add_task(description, total=total)
    with bar:
        yield lambda: bar.advance(handle)


__all__ = ["progress_bar"]
