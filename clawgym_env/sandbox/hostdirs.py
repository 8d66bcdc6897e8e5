"""Host folders the sandboxes use: private to the driver process that made them, never guessed.

Why: a predictable shared path under /tmp lets another local user plant the files the verifier
runs (a fake ``python3`` shim scores a no-op agent 1.0), or point root's writes somewhere else with
a symlink; and a driver killed with ``kill -9`` leaves its folders behind, which only an owner
marker lets a later ``clawgym sandbox gc`` tell from a live driver's.

Every driver process makes at most one folder per base directory (the workspace base and the
runtime base; usually both are the system temp dir), and everything it creates for a sandbox lives
inside it::

    <base>/clawgym-run-<pid>-<start ticks>-<host>-<random>/   0711, owned by the driver's euid
        runtime/                  server.py, python links, the verifier's shim, /etc files (0755)
        clawgym-ws-XXXX/          bwrap workspaces (0700, owned by the sandbox uid)
        clawgym-dws-XXXX/         docker workspaces (0700), each with its .clawgym-dws-XXXX.out
        clawgym-verify-XXXX/      verifier folders (0700)

The folder is made with ``mkdtemp`` (unpredictable name, created exclusively, owner re-checked),
so nothing that existed before is ever trusted. Its name says who owns it (pid, the pid's start
time, host), so gc removes a folder only when that process is gone (pid dead, or reused by another
process). 0711 lets the unprivileged sandbox uids reach what is bound into their sandboxes without
listing anything. A process that exits (also a multiprocessing child) removes its folders itself.

Where docker workspaces live the folder is bind-mounted over itself ``nosuid,nodev`` (root only;
docker has no such option for a bind mount): docker's binds of a workspace inherit those flags, so
a setuid binary the agent leaves raises no one's privileges, not inside, not on the host. (This
needs dockerd to see the host's mounts, as a system dockerd does; a non-root driver cannot mount and
relies on the 0700 workspace.)
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import hashlib
import os
import shutil
import socket
import stat
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clawgym_env.sandbox.base import SandboxError

PREFIX = "clawgym-run-"
"""Every per-process folder's name starts with this."""

_SETID = stat.S_ISUID | stat.S_ISGID
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND = 1, 2, 4, 8, 32, 4096
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
_ST_RELATIME = 4096  # statvfs reports relatime with this bit; the mount flag is 1 << 21
_MNT_DETACH = 2

_lock = threading.Lock()
_dirs: dict[tuple[int, str], Path] = {}  # (pid, base) -> this process's folder there
_mounted: set[str] = set()  # folders this process bind-mounted nosuid
_mount_refused: set[str] = set()  # ... or tried to and may not (warned once)
_exit_hook_pid: int | None = None
_new_dir_hooks: list[Callable[[], None]] = []


def proc_start_ticks(pid: int) -> str:
    """The process's start time (clock ticks since boot): tells a live owner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def host_tag() -> str:
    """A short, filename-safe digest of the host name (gc leaves other hosts' folders alone)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Owner:
    pid: int
    start: str
    host: str

    def gone(self) -> str | None:
        """Why this owner is no longer running, or None while it is (or is another host's)."""
        if self.host != host_tag():
            return None
        if not os.path.exists(f"/proc/{self.pid}"):
            return f"owner pid {self.pid} is dead"
        if proc_start_ticks(self.pid) != self.start:
            return f"owner pid {self.pid} was reused by another process"
        return None


def parse_owner(name: str) -> Owner | None:
    """The owner encoded in a per-process folder's name; None for any other name."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX):].split("-")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return Owner(int(parts[0]), parts[1], parts[2])


def runtime_base() -> Path:
    """Where runtime folders are made: $CLAWGYM_RUNTIME_DIR, else the system temp dir."""
    return Path(os.environ.get("CLAWGYM_RUNTIME_DIR") or tempfile.gettempdir())


def workspace_base() -> Path:
    """Where host workspaces are made: $CLAWGYM_WORKSPACE_DIR, else the system temp dir."""
    base = Path(os.environ.get("CLAWGYM_WORKSPACE_DIR") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return base


def check_base(base: Path) -> None:
    """Refuse a base where another user could move or replace our folders: a world- or
    group-writable folder must be sticky (as /tmp is), and it must be root's or ours."""
    try:
        st = os.stat(base)
    except OSError as exc:
        raise SandboxError(f"cannot use {base} for sandbox folders: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise SandboxError(f"cannot use {base} for sandbox folders: not a directory")
    if st.st_uid not in (0, os.geteuid()):
        raise SandboxError(f"cannot use {base} for sandbox folders: it belongs to uid {st.st_uid}")
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise SandboxError(f"cannot use {base} for sandbox folders: other users may write there and it is "
                           f"not sticky (chmod +t {base}, or pick another folder)")


def process_dir(base: Path) -> Path:
    """This process's private folder under ``base`` (made on first use; a forked child gets its own)."""
    pid = os.getpid()
    key = (pid, str(base))
    with _lock:
        path = _dirs.get(key)
        if path is not None:
            return path
        check_base(base)
        tag = f"{PREFIX}{pid}-{proc_start_ticks(pid)}-{host_tag()}-"
        path = Path(tempfile.mkdtemp(prefix=tag, dir=base))
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():  # mkdtemp guarantees it; check anyway
            raise SandboxError(f"{path} is not a folder of ours")
        os.chmod(path, 0o711)
        _dirs[key] = path
        _register_exit_hook()
    for hook in _new_dir_hooks:  # the reaper's start-up pass (installed by runtime.py)
        hook()
    return path


def on_new_process_dir(hook: Callable[[], None]) -> None:
    """Call ``hook`` whenever this process makes its per-process folder somewhere: runtime.py hangs
    the reaper's background pass here (a driver's start-up clears what killed drivers left), so this
    module, which the reaper uses, does not import the reaper."""
    _new_dir_hooks.append(hook)


def private_dir(base: Path, prefix: str, *, mode: int = 0o700, owner_uid: int | None = None) -> Path:
    """A fresh folder inside this process's folder under ``base``."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=process_dir(base)))
    os.chmod(path, mode)
    if owner_uid is not None:
        os.chown(path, owner_uid, owner_uid)
    return path


# --------------------------------------------------------------------------- nosuid
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(src: str | None, target: str, flags: int) -> None:
    libc = _libc()
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(src.encode() if src else None, target.encode(), None, flags, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def umount(target: str) -> None:
    """Detach a mount (lazily: whoever still uses it keeps it until done)."""
    libc = _libc()
    if libc.umount2(target.encode(), _MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def is_nosuid(path: Path) -> bool:
    flags = os.statvfs(path).f_flag
    return bool(flags & os.ST_NOSUID and flags & os.ST_NODEV)


def make_nosuid(path: Path) -> bool:
    """Bind-mount ``path`` over itself nosuid,nodev (keeping its other flags). True when ``path``
    is nosuid,nodev afterwards; False (with a warning, once) where the process may not mount."""
    with _lock:
        if str(path) in _mounted or is_nosuid(path):
            return True
        if str(path) in _mount_refused:
            return False
        keep = os.statvfs(path).f_flag
        flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV
        flags |= keep & (_MS_RDONLY | _MS_NOEXEC | _MS_NOATIME | _MS_NODIRATIME)
        if keep & _ST_RELATIME:
            flags |= _MS_RELATIME
        try:
            _mount(str(path), str(path), _MS_BIND)
        except OSError as exc:
            warnings.warn(f"clawgym: cannot mount {path} nosuid ({exc}); a setuid file an agent leaves in a "
                          f"docker workspace is protected only by the workspace's 0700 mode", stacklevel=3)
            _mount_refused.add(str(path))
            return False
        try:
            _mount(None, str(path), flags)
        except OSError:
            umount(str(path))
            raise
        _mounted.add(str(path))
        return True


# --------------------------------------------------------------------------- clean-up
def _register_exit_hook() -> None:
    """atexit, and multiprocessing's exit hook: its children (vector-env workers) leave with
    ``os._exit`` after running only the latter."""
    global _exit_hook_pid
    if _exit_hook_pid != os.getpid():
        _exit_hook_pid = os.getpid()
        atexit.register(_at_exit, os.getpid())
        from multiprocessing import util

        util.Finalize(None, _at_exit, args=(os.getpid(),), exitpriority=0)


def _at_exit(pid: int) -> None:
    """Unmount and remove this process's folders: what is in them is this process's alone (a
    sandbox never closed, a workspace a finalizer did not remove). What stays is gc's."""
    if os.getpid() != pid:
        return
    for key, path in list(_dirs.items()):
        if key[0] != pid:
            continue
        del _dirs[key]
        if str(path) in _mounted:
            try:
                umount(str(path))
            except OSError:
                pass
        try:
            remove_tree(path)
        except OSError:
            pass


def mounted_at(path: Path) -> bool:
    """Whether something is mounted exactly at ``path`` (from our mount namespace's view)."""
    target = str(path).encode()
    try:
        with open("/proc/self/mountinfo", "rb") as fh:
            for line in fh:
                fields = line.split(b" ")
                if len(fields) > 4 and fields[4].replace(b"\\040", b" ") == target:
                    return True
    except OSError:
        return False
    return False


def remove_tree(path: Path) -> None:
    """Remove ``path`` and everything below without following links, also what an agent made
    hard to delete: read-only or mode-000 folders, chains deeper than Python's recursion limit
    (see :mod:`clawgym_env.sandbox.fstree`). Raises OSError if something stays."""
    from clawgym_env.sandbox.fstree import remove_tree as _remove

    try:
        _remove(path)
    except OSError:
        if not os.path.lexists(path):  # another gc pass (or the owner's exit) got there first
            return
        raise
    if os.path.lexists(path):
        raise OSError(errno.ENOTEMPTY, f"could not remove {path}")


# --------------------------------------------------------------------------- setuid bits
def strip_setid(root: Path) -> int:
    """Clear setuid/setgid bits below ``root`` (links never followed; any depth). Call it only on a
    tree nobody else writes meanwhile (a copy we made, a stopped sandbox). Returns how many."""
    count = 0
    stack = [str(root)]
    st = os.lstat(root)
    if stat.S_ISLNK(st.st_mode):
        return 0
    if st.st_mode & _SETID:
        os.chmod(root, stat.S_IMODE(st.st_mode) & ~_SETID)
        count += 1
    while stack:
        top = stack.pop()
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                est = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISLNK(est.st_mode):
                continue
            if est.st_mode & _SETID:
                os.chmod(entry.path, stat.S_IMODE(est.st_mode) & ~_SETID)
                count += 1
            if stat.S_ISDIR(est.st_mode):
                stack.append(entry.path)
    return count


def copy_tree_out(src: Path, dst: Path) -> None:
    """Copy a sandbox's tree to a host folder (links copied as links), setuid/setgid bits stripped."""
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    strip_setid(dst)
