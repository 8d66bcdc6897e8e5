"""The workspace as a host folder: what every current backend (bwrap, docker, local) does for the
sandbox protocol's workspace methods (``restore``, ``install_verifier``, ``read_outputs``, ...).

These run on the host with the driver's rights over a folder an agent wrote to, so none of them
follows a link the agent left, and every walk is iterative (an agent's 3,000-deep folder chain
raised RecursionError out of Python 3.11's recursive walkers).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import WORKSPACE, FileData, TextFileRules
from clawgym_env.sandbox.fstree import remove_tree


_CLOCK_REALTIME_COARSE = getattr(time, "CLOCK_REALTIME_COARSE", 5)
"""The clock Linux stamps file times from (linux/time.h; Python names only some clocks)."""


@dataclass(frozen=True)
class Restored:
    """What :func:`restore_files` wrote: which files, and each entry's ``lstat`` right after, so the
    next restore of the same files can undo only what an episode changed."""

    files_key: tuple[Any, ...]
    entries: dict[str, tuple[int, ...]]
    """Workspace-relative path -> :func:`_entry_key` of every file and folder written."""


def restore_files(root: Path, files: Iterable[tuple[str, FileData, int]], owner_uid: int | None,
                  previous: Restored | None = None) -> Restored:
    """Make ``root`` (not ``root`` itself: it is bind-mounted) hold exactly the task's initial files:
    small ones from memory, big ones (TaskFile) streamed from the task folder, holes kept (a copy,
    never a link: the task folder stays out of the agent's reach); owned by ``owner_uid``.

    With ``previous`` (what the last restore of this workspace returned) and the same files, only
    what changed since is undone: entries that were not written are removed, and if every written
    entry still has the inode, type, mode, owner, size, link count, mtime and ctime it had, nothing
    is rewritten. ctime is what makes that safe: no unprivileged process can set it, so content
    changed and mtime put back (``touch -r``) still shows. Anything else (a changed or missing
    entry, a path too long to walk, an unexpected error) falls back to emptying and rewriting all."""
    files = list(files)
    key = (owner_uid, _files_key(files))
    if previous is not None and previous.files_key == key:
        for _, data, _ in files:
            if not isinstance(data, (bytes, bytearray)):
                data.check()  # TaskFileChanged, as a full restore would raise it
        try:
            if _undo_changes(root, previous.entries):
                return previous
        except OSError:
            pass  # whatever it was, a full restore copes with it or reports it
    _write_all(root, files, owner_uid)
    entries = _entries(root, files)
    _let_the_clock_pass(entries)
    return Restored(key, entries)


def _let_the_clock_pass(entries: Mapping[str, tuple[int, ...]]) -> None:
    """Return only once the clock file times come from has moved past every ctime just recorded.

    File times come from a coarse clock (a scheduler tick, 1-4 ms): a change made within the tick
    of the restore could otherwise leave ctime (and a put-back mtime and size) exactly as recorded
    and go unseen ("racy git"). Costs at most one tick, and only on a full restore."""
    latest = max((k[-1] for k in entries.values() if len(k) > 4), default=0)
    while time.clock_gettime_ns(_CLOCK_REALTIME_COARSE) <= latest:
        time.sleep(0.0005)


def _files_key(files: list[tuple[str, FileData, int]]) -> tuple[Any, ...]:
    """The files' identity: paths, modes, sizes and content hashes (bytes objects cache theirs, so
    restoring the same in-memory inputs again costs nothing); a TaskFile by path, size and mtime."""
    return tuple((rel, mode, len(data), hash(bytes(data)) if isinstance(data, bytearray) else hash(data))
                 for rel, data, mode in files)


def _entry_key(st: os.stat_result) -> tuple[int, ...]:
    if stat.S_ISDIR(st.st_mode):  # a folder's size and times change as entries come and go
        return (st.st_ino, st.st_mode, st.st_uid, st.st_gid)
    return (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_nlink, st.st_mtime_ns, st.st_ctime_ns)


def _entries(root: Path, files: list[tuple[str, FileData, int]]) -> dict[str, tuple[int, ...]]:
    entries: dict[str, tuple[int, ...]] = {}
    for rel, _, _ in files:
        parts = Path(rel).parts
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in entries:
                entries[sub] = _entry_key(os.lstat(root / sub))
    return entries


def _undo_changes(root: Path, entries: Mapping[str, tuple[int, ...]]) -> bool:
    """Remove what is in ``root`` but not in ``entries``; True when every entry is as it was (the
    workspace then holds exactly the initial files), False when a full restore is needed. Walks
    only the folders that were written; nothing runs in the sandbox (links are never followed)."""
    seen = 0
    extra: list[tuple[Path, bool]] = []
    folders = [""]
    while folders:
        folder = folders.pop()
        with os.scandir(root / folder if folder else root) as it:
            for entry in it:
                rel = f"{folder}/{entry.name}" if folder else entry.name
                st = entry.stat(follow_symlinks=False)
                expected = entries.get(rel)
                if expected is None:
                    extra.append((root / rel, stat.S_ISDIR(st.st_mode)))
                    continue
                if _entry_key(st) != expected:
                    return False
                seen += 1
                if stat.S_ISDIR(st.st_mode):
                    folders.append(rel)
    if seen != len(entries):
        return False  # something written is gone
    for path, is_dir in extra:
        if is_dir:
            remove_tree(path)  # any depth, links not followed
        else:
            os.unlink(path)
    return True


def _write_all(root: Path, files: list[tuple[str, FileData, int]], owner_uid: int | None) -> None:
    remove_tree(root, keep_root=True)
    made: set[str] = set()
    for rel, data, mode in files:
        path = root / rel
        for parent in reversed(path.relative_to(root).parents[:-1]):
            if str(parent) not in made:
                (root / parent).mkdir(exist_ok=True)
                if owner_uid is not None:
                    os.lchown(root / parent, owner_uid, owner_uid)
                made.add(str(parent))
        if isinstance(data, (bytes, bytearray)):
            path.write_bytes(data)
        else:
            data.copy_to(path)  # streamed in the kernel, holes kept
        if mode != 0o644:
            path.chmod(mode)
        if owner_uid is not None:
            os.lchown(path, owner_uid, owner_uid)


def chown_tree(root: Path, owner_uid: int | None) -> None:
    """Hand everything below ``root`` to ``owner_uid`` (links themselves, never their targets)."""
    if owner_uid is None:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), owner_uid, owner_uid)


def install_reward_dir(root: Path, files: Mapping[str, bytes], modes: Mapping[str, int], owner_uid: int | None,
                       workspace_path: str = WORKSPACE) -> None:
    """Replace whatever is at ``root/reward`` with ``files`` (relative path -> bytes).

    ``workspace_path`` differs from the official path only on the unsafe local backend, which cannot
    mount the workspace there; for it alone the hard-coded path is rewritten in the installed copy
    (as the authors' own no-op measurement did). Sandboxed backends never edit task files.
    """
    reward_dir = root / "reward"
    remove_tree(reward_dir)  # whatever the agent left there: any depth, links not followed
    reward_dir.mkdir()
    for rel, data in files.items():
        if workspace_path != WORKSPACE:
            data = data.replace(WORKSPACE.encode(), workspace_path.encode())
        dest = reward_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(dest, modes.get(rel, 0o644))
    if owner_uid is not None:
        chown_tree(reward_dir, owner_uid)
        os.lchown(reward_dir, owner_uid, owner_uid)


def read_regular_file(path: Path, max_bytes: int) -> bytes | None:
    """A regular file's bytes, opened without following links, or None when it is missing, not a
    regular file or bigger than ``max_bytes`` (a command could plant a link to a host file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= max_bytes else None


def _read_text_file(path: Path, limit: int) -> str | None:
    """A regular file's text (first ``limit`` characters), never following a link; None if binary."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        data = fh.read(limit * 4 + 4)
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:  # not just a character cut at the read limit
            return None
        text = data[: exc.start].decode("utf-8")
    return text[:limit]


def text_files(root: Path, *, first: Iterable[str] = (), rules: TextFileRules | None = None) -> list[tuple[str, str]]:
    """(relative path, text) of the small text files below ``root`` (see :class:`TextFileRules`)."""
    rules = rules or TextFileRules()
    root = Path(root)
    found: list[str] = []
    # An explicit stack, not os.walk; folders deeper than max_depth are not shown.
    stack: list[tuple[Path, Path, int]] = [(root, Path("."), 0)]
    while stack and len(found) <= rules.max_listed:
        dirpath, rel_dir, depth = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if (depth < rules.max_depth and not entry.name.startswith(".")
                        and not (rel_dir == Path(".") and entry.name in rules.skip_dirs)
                        and entry.name not in ("__pycache__", "node_modules")):
                    subdirs.append((Path(entry.path), rel_dir / entry.name, depth + 1))
            elif not (entry.name.startswith(".") or (rel_dir == Path(".") and entry.name in rules.skip_names)):
                found.append((rel_dir / entry.name).as_posix())
        stack.extend(reversed(subdirs))
    wanted = [p for p in first if p in found]
    ordered = wanted + sorted(p for p in found if p not in wanted)
    out: list[tuple[str, str]] = []
    total = 0
    for rel in ordered:
        if len(out) >= rules.max_files or total >= rules.max_total_chars:
            break
        text = _read_text_file(root / rel, min(rules.max_file_chars, rules.max_total_chars - total))
        if text is None:
            continue
        out.append((rel, text))
        total += len(text)
    return out
