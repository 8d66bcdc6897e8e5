"""The workspace disk quota: a cheap scan of the host workspace between steps (``Sandbox.workspace_usage``).

The workspace is a bind mount of a host directory, so no kernel quota applies without a special
filesystem (project quotas, a loop image). What holds instead: RLIMIT_FSIZE caps each file
(``SandboxLimits.max_file_bytes``), and the env calls :func:`disk_quota_error` after every step;
past ``max_workspace_bytes`` (disk blocks actually allocated, hard links counted once) or
``max_workspace_files`` entries the episode ends, scored as it stands. Within one step the agent
can still write up to the per-file cap times the files it manages to write before the step ends.

The scan is iterative (no recursion: a 3,000-deep folder chain is fine), never follows symlinks,
and stops as soon as either cap is passed, so a workspace of a million files costs one cap's worth.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WorkspaceUsage:
    bytes: int
    """Disk blocks allocated (st_blocks * 512), each inode once; lower bound if ``complete`` is False."""
    entries: int
    """Files, folders and links below the root; lower bound if ``complete`` is False."""
    complete: bool
    """False when the scan stopped early at a cap."""


class _Anchor:
    """An open directory that deeper paths are opened relative to (refcounted by the scan stack)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.refs = 0

    def drop(self) -> None:
        self.refs -= 1
        if self.refs <= 0:
            os.close(self.fd)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_REANCHOR_AT = 2048  # path chars; PATH_MAX is 4096, and an agent can nest folders past it


def workspace_usage(root: Path, *, max_bytes: int | None = None, max_entries: int | None = None) -> WorkspaceUsage:
    """Measure ``root``; stop early once past ``max_bytes`` or ``max_entries``. Unreadable folders
    (the agent's ``chmod 000``; root reads them anyway) count as empty.

    Folders are opened relative to an open ancestor, never by full path, so chains deeper than
    PATH_MAX are measured too; at most a handful of descriptors are open at once."""
    total = 0
    entries = 0
    seen: set[tuple[int, int]] = set()
    try:
        top = _Anchor(os.open(root, _DIR_FLAGS))
    except OSError:  # gone (the env closed meanwhile) or not a folder: nothing to count
        return WorkspaceUsage(0, 0, complete=True)
    top.refs = 1
    stack: list[tuple[_Anchor, str]] = [(top, ".")]
    try:
        while stack:
            anchor, rel = stack.pop()
            try:
                base = anchor
                if len(rel) > _REANCHOR_AT:
                    base = _Anchor(os.open(rel, _DIR_FLAGS, dir_fd=anchor.fd))
                    rel = "."
                dfd = os.open(rel, _DIR_FLAGS, dir_fd=base.fd)
            except OSError:
                anchor.drop()
                continue
            try:
                with os.scandir(dfd) as it:
                    for entry in it:
                        entries += 1
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                            key = (st.st_dev, st.st_ino)
                            if key in seen:
                                continue
                            seen.add(key)
                        total += st.st_blocks * 512
                        if stat.S_ISDIR(st.st_mode):
                            base.refs += 1
                            stack.append((base, entry.name if rel == "." else f"{rel}/{entry.name}"))
                        if (max_bytes is not None and total > max_bytes) or \
                                (max_entries is not None and entries > max_entries):
                            return WorkspaceUsage(total, entries, complete=False)
            finally:
                os.close(dfd)
                if base is not anchor and base.refs == 0:
                    os.close(base.fd)
                anchor.drop()
    finally:
        for anchor, _ in stack:
            anchor.drop()
    return WorkspaceUsage(total, entries, complete=True)


def disk_quota_error(sandbox: Any, baseline: WorkspaceUsage | None = None) -> str | None:
    """A message for the agent when the sandbox's workspace is past its limits, else None.

    The limits bound what the episode adds: ``baseline`` is the workspace as the episode started
    (the task's own input files, which may alone be larger than the cap, are not the agent's doing)."""
    limits = sandbox.config.limits
    base_bytes = baseline.bytes if baseline is not None else 0
    base_entries = baseline.entries if baseline is not None else 0
    max_bytes = limits.max_workspace_bytes + base_bytes
    max_entries = limits.max_workspace_files + base_entries
    usage = sandbox.workspace_usage(max_bytes=max_bytes, max_entries=max_entries)
    if usage.bytes > max_bytes:
        return (f"disk quota exceeded: the workspace grew by more than {limits.max_workspace_bytes} bytes "
                f"(at least {usage.bytes - base_bytes}); the episode ends here and is scored as it stands")
    if usage.entries > max_entries:
        return (f"disk quota exceeded: the workspace gained more than {limits.max_workspace_files} files and "
                f"folders; the episode ends here and is scored as it stands")
    return None
