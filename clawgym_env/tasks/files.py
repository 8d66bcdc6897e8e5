"""Big task input files: held as a reference to the file in the task folder, never buffered whole.

A task folder's input files up to :data:`LAZY_INPUT_BYTES` (16 MiB) are loaded as ``bytes``: the
env restores them from memory at every reset, which is the fast path for the usual small inputs.
A bigger file becomes a :class:`TaskFile` (path, size, mtime): a 2 GiB input costs the driver a
few hundred bytes per env instead of 2 GiB (and more while copying).

:meth:`TaskFile.copy_to` streams the file in the kernel and keeps holes: a reflink (``FICLONE``:
btrfs, xfs) when the filesystem allows, else ``copy_file_range`` over the data extents only
(``SEEK_DATA``/``SEEK_HOLE``, so a sparse file stays sparse), else ``pread``/``pwrite`` in 1 MiB
chunks. It always copies, never hard-links: through a link the agent could write to the task
folder from the workspace, changing the task for every later episode.

The file is checked against the size and mtime it had when the task was loaded; a task folder
edited under a running env raises :class:`TaskFileChanged` rather than silently changing the task.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

LAZY_INPUT_BYTES = 16 << 20
"""Input files bigger than this are loaded as :class:`TaskFile` references, smaller ones as bytes."""

FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h
_CHUNK = 1 << 20
_SRC_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DST_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NO_FAST_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF,
                 errno.EPERM, errno.ETXTBSY}


class TaskFileChanged(OSError):
    """The task folder's file is no longer the one that was loaded (size or mtime differ, or it
    was replaced by something other than a regular file)."""


class TaskFile:
    """A task input file left on disk: its absolute path and the size and mtime it had when loaded.

    Not a dataclass on purpose: pydantic accepts only real instances (``arbitrary_types_allowed``),
    so a JSON document cannot make a Task point at an arbitrary host file."""

    __slots__ = ("mtime_ns", "path", "size")

    def __init__(self, path: str | os.PathLike[str], size: int, mtime_ns: int):
        self.path = Path(path)
        self.size = int(size)
        self.mtime_ns = int(mtime_ns)

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> TaskFile:
        """A reference to the regular file at ``path`` as it is now (a link is refused)."""
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise TaskFileChanged(errno.EINVAL, "not a regular file", str(path))
        return cls(Path(path).absolute(), st.st_size, st.st_mtime_ns)

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskFile):
            return NotImplemented
        return (self.path, self.size, self.mtime_ns) == (other.path, other.size, other.mtime_ns)

    def __hash__(self) -> int:
        return hash((self.path, self.size, self.mtime_ns))

    def __repr__(self) -> str:
        return f"TaskFile({str(self.path)!r}, size={self.size})"

    def __getstate__(self) -> tuple[str, int, int]:
        return str(self.path), self.size, self.mtime_ns

    def __setstate__(self, state: tuple[str, int, int]) -> None:
        self.path, self.size, self.mtime_ns = Path(state[0]), state[1], state[2]

    def _open(self) -> tuple[int, os.stat_result]:
        """The file, opened without following a link, checked against what was loaded."""
        fd = os.open(self.path, _SRC_FLAGS)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != self.size or st.st_mtime_ns != self.mtime_ns:
                raise TaskFileChanged(errno.ESTALE, f"task input file changed since the task was loaded "
                                      f"(was {self.size} bytes), reload the task", str(self.path))
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def check(self) -> None:
        """Raise :class:`TaskFileChanged` if the file is no longer what was loaded."""
        fd, _ = self._open()
        os.close(fd)

    def read_bytes(self) -> bytes:
        """The whole content, in memory: only for consumers that must have bytes (say which)."""
        fd, _ = self._open()
        try:
            parts, pos = [], 0
            while pos < self.size:
                chunk = os.pread(fd, min(_CHUNK, self.size - pos), pos)
                if not chunk:
                    raise TaskFileChanged(errno.ESTALE, "task input file shrank while it was read", str(self.path))
                parts.append(chunk)
                pos += len(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)

    def copy_to(self, dest: str | os.PathLike[str]) -> None:
        """Copy into ``dest`` (created 0644 or truncated; a link at ``dest`` is refused), streamed
        in the kernel, holes kept. ``dest`` being this very file (a task written onto itself) is a
        no-op. Permission bits are the caller's business (``Task.file_modes``)."""
        src, src_st = self._open()
        try:
            dst = os.open(dest, _DST_FLAGS, 0o644)
            try:
                dst_st = os.fstat(dst)
                if (dst_st.st_dev, dst_st.st_ino) == (src_st.st_dev, src_st.st_ino):
                    return
                if not stat.S_ISREG(dst_st.st_mode):
                    raise OSError(errno.EINVAL, "destination is not a regular file", str(dest))
                os.ftruncate(dst, 0)
                copy_fd(src, dst, self.size)
            finally:
                os.close(dst)
        finally:
            os.close(src)


InputData = bytes | TaskFile
"""What ``Task.input_files`` maps a path to."""


def load_input(path: Path, size: int, mtime_ns: int, *, lazy_bytes: int = LAZY_INPUT_BYTES) -> InputData:
    """An input file as bytes when small, as a :class:`TaskFile` past ``lazy_bytes``."""
    if size > lazy_bytes:
        return TaskFile(path.absolute(), size, mtime_ns)
    return path.read_bytes()


def input_size(data: InputData) -> int:
    """Size in bytes, without reading a :class:`TaskFile`."""
    return data.size if isinstance(data, TaskFile) else len(data)


def input_bytes(data: InputData) -> bytes:
    """The content in memory (reads a :class:`TaskFile` whole: callers that must have bytes)."""
    return data.read_bytes() if isinstance(data, TaskFile) else data


def write_input(data: InputData, dest: Path) -> None:
    """Write one input file at ``dest``: bytes from memory, a :class:`TaskFile` streamed."""
    if isinstance(data, TaskFile):
        data.copy_to(dest)
    else:
        dest.write_bytes(data)


def _extents(fd: int, size: int) -> list[tuple[int, int]]:
    """The [start, end) ranges of ``fd`` that hold data; the whole file if holes cannot be asked."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # only a hole is left
                break
            if e.errno in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP) and not ranges:
                return [(0, size)]
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if start >= size or end <= start:
            break
        ranges.append((start, end))
        pos = end
    return ranges


def _copy_range(src: int, dst: int, start: int, end: int, fast: list[bool]) -> None:
    """Copy bytes [start, end) at the same offsets: copy_file_range, else pread/pwrite chunks."""
    pos = start
    while pos < end:
        n = 0
        if fast[0]:
            try:
                n = os.copy_file_range(src, dst, min(end - pos, 1 << 30), pos, pos)
            except OSError as e:
                if e.errno not in _NO_FAST_COPY:
                    raise
                fast[0] = False
                continue
        else:
            chunk = os.pread(src, min(_CHUNK, end - pos), pos)
            n = len(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.pwrite(dst, view, pos + n - len(view)):]
        if n == 0:
            raise TaskFileChanged(errno.ESTALE, "task input file shrank while it was copied", f"fd {src}")
        pos += n


def copy_fd(src: int, dst: int, size: int) -> None:
    """Copy ``size`` bytes of ``src`` into the empty ``dst``: reflink, else the data extents with
    copy_file_range (or chunks), then extend to ``size`` so trailing holes stay holes."""
    try:
        fcntl.ioctl(dst, FICLONE, src)
        return
    except OSError as e:
        if e.errno not in _NO_FAST_COPY | {errno.ENOTTY}:
            raise
    fast = [hasattr(os, "copy_file_range")]
    for start, end in _extents(src, size):
        _copy_range(src, dst, start, end, fast)
    os.ftruncate(dst, size)


__all__ = ["LAZY_INPUT_BYTES", "InputData", "TaskFile", "TaskFileChanged", "copy_fd", "input_bytes",
           "input_size", "load_input", "write_input"]
