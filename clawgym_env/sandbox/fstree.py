"""Removing and repairing trees an agent may have made hostile, without recursion or following links.

Workspaces, verifier folders and the per-process host folders can hold whatever the agent's commands
made: folder chains thousands deep (Python 3.11's ``shutil.rmtree`` and ``os.walk`` recurse:
RecursionError), paths longer than PATH_MAX, ``chmod 000`` folders, FIFOs and devices, links to host
files. Everything here walks with one open directory descriptor at a time (``openat`` with
O_NOFOLLOW), so none of that stops it or escapes through it. Standard library only.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable

__all__ = ["make_workspace_scorable", "remove_tree"]


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open_dir(name: str, dir_fd: int | None) -> int:
    """Open a directory without following a link; give it u+rwx first if the agent took that away.

    The mode is changed through an O_PATH descriptor of the very directory that was looked up (no
    link is followed between the check and the chmod)."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        pfd = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            os.chmod(f"/proc/self/fd/{pfd}", stat.S_IMODE(os.fstat(pfd).st_mode) | 0o700)
        finally:
            os.close(pfd)
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o700 != 0o700:  # unlinking entries needs w+x on the folder
            os.fchmod(fd, mode | 0o700)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_tree(path: str | os.PathLike[str], keep_root: bool = False) -> None:
    """Remove ``path`` and everything under it (only its contents with ``keep_root``), whatever an
    agent did to it.

    Why not ``shutil.rmtree``: in Python 3.11 it recurses (a 3,000-deep folder chain raises
    RecursionError), it needs paths shorter than PATH_MAX, and it gives up on folders made
    unreadable (``chmod 000``). This walks with one open descriptor at a time (``openat`` of each
    child with O_NOFOLLOW, ``..`` checked by device and inode on the way back up), so any depth and
    any path length work, no link is ever followed, no file is ever opened (FIFOs and devices
    cannot block it), folders get u+rwx back as it goes, and it never crosses into another file
    system. A missing ``path`` is not an error; a symlink ``path`` is removed itself, not followed.
    """
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        if keep_root:
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    try:
        fd = _open_dir(path, None)
    except FileNotFoundError:  # removed meanwhile (another clean-up pass): done
        return
    try:
        _walk(fd, _clear_files, remove_folders=True, doing="it was being removed")
    finally:
        os.close(fd)
    if not keep_root:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass


def _walk(root_fd: int, visit: Callable[[int, int], list[str]], *, remove_folders: bool, doing: str) -> None:
    """Depth first over every folder below the open folder ``root_fd``, one descriptor at a time.

    ``visit(fd, root_dev)`` handles one open folder's entries and returns the names of the
    sub-folders to descend into. With ``remove_folders`` each sub-folder is removed once its
    contents are done. On the way back up ``..`` must be the folder we came from (same device and
    inode), else the tree was moved under us and the walk stops with ESTALE (``doing`` says what
    was under way).
    """
    root_dev = os.fstat(root_fd).st_dev
    fd = os.dup(root_fd)
    # one entry per folder we are inside below the root: (its name in its parent, the parent's
    # (dev, ino), the sub-folders of the parent still to visit)
    stack: list[tuple[str, tuple[int, int], list[str]]] = []
    todo = visit(fd, root_dev)
    try:
        while True:
            if todo:
                name = todo.pop()
                try:
                    child = _open_dir(name, fd)
                except (FileNotFoundError, NotADirectoryError):  # gone, or replaced by a file: skip it
                    continue
                pst = os.fstat(fd)
                stack.append((name, (pst.st_dev, pst.st_ino), todo))
                os.close(fd)
                fd = child
                todo = visit(fd, root_dev)
                continue
            if not stack:
                return
            name, parent_id, todo = stack.pop()
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            pst = os.fstat(fd)
            if (pst.st_dev, pst.st_ino) != parent_id:
                raise OSError(errno.ESTALE, f"folder moved while {doing}", name)
            if remove_folders:
                try:
                    os.rmdir(name, dir_fd=fd)
                except FileNotFoundError:
                    pass
    finally:
        os.close(fd)


def _clear_files(fd: int, root_dev: int) -> list[str]:
    """Unlink every non-folder in the open folder ``fd``; return the names of its sub-folders."""
    folders: list[str] = []
    with os.scandir(fd) as it:
        for entry in it:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.stat(follow_symlinks=False).st_dev != root_dev:
                        raise OSError(errno.EXDEV, "refusing to remove another file system mounted inside",
                                      entry.name)
                    folders.append(entry.name)
                else:
                    os.unlink(entry.name, dir_fd=fd)
            except FileNotFoundError:
                pass
    return folders


def make_workspace_scorable(path: str | os.PathLike[str]) -> None:
    """Undo what an agent did to a workspace's permissions that would stop the verifier (which runs
    as the agent's own unprivileged uid under bwrap) or the next episode from reading, listing or
    clearing it: every folder, the root included, gets u+rwx and every file u+rw. Execute bits of
    files, which verifiers check, and group/other bits are left as the agent set them; links are
    never followed. Call it only when no process of the sandbox runs (``ServerSandbox.stop`` does).
    """
    path = os.fspath(path)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return
        fd = _open_dir(path, None)
    except FileNotFoundError:
        return
    try:
        _walk(fd, _fix_modes, remove_folders=False, doing="its permissions were being restored")
    finally:
        os.close(fd)


def _fix_modes(fd: int, root_dev: int) -> list[str]:
    """Give u+rw to the regular files in the open folder ``fd``; return its sub-folders (same fs)."""
    folders: list[str] = []
    with os.scandir(fd) as it:
        for entry in it:
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    if st.st_dev == root_dev:
                        folders.append(entry.name)
                elif stat.S_ISREG(st.st_mode) and st.st_mode & 0o600 != 0o600:
                    # no link can be followed here: the entry is a regular file, and nothing runs
                    os.chmod(entry.name, stat.S_IMODE(st.st_mode) | 0o600, dir_fd=fd)
            except FileNotFoundError:
                pass
    return folders
