"""Bounded capture of a one-shot command's output (the verifier's).

``Popen.communicate`` keeps everything a process prints: a verifier that prints 1 GB took the driver
to 2.9 GB RSS. What matters of a verifier's output is small — the last non-empty stdout line (the
reward) and the start of stderr (the reason for a failure) — so this keeps the last ``stdout_tail``
bytes of stdout and the first ``stderr_head`` bytes of stderr, reads the rest and drops it, and
counts what was dropped. Memory stays at a few chunks whatever the command prints.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
from dataclasses import dataclass
from typing import IO

from clawgym_env.sandbox.base import IsolatedResult

STDOUT_TAIL_BYTES = 64 << 10
STDERR_HEAD_BYTES = 8 << 10
STDOUT_HEAD_BYTES = 512
_CHUNK = 64 << 10


@dataclass
class Captured:
    stdout: bytes
    """The last ``stdout_tail`` bytes of stdout."""
    stdout_head: bytes
    """The first 512 bytes of stdout (a start marker printed first survives any amount of output)."""
    stderr: bytes
    """The first ``stderr_head`` bytes of stderr."""
    stdout_dropped: int = 0
    """Bytes of stdout before the kept tail (0: ``stdout`` is all of it)."""
    stderr_dropped: int = 0


def wait_exit(proc: subprocess.Popen[bytes], timeout_s: float | None) -> bool:
    """Wait for ``proc`` to exit and reap it; False on timeout.

    ``Popen.wait(timeout)`` polls with sleeps that double up to 50 ms: a 100 ms verifier was seen
    10-40 ms late, and so was every stop of a sandbox. A pidfd wakes us when the process exits."""
    if timeout_s is not None and proc.returncode is None and hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(proc.pid)
        except OSError:  # already reaped, or a kernel without pidfd: poll as before
            pass
        else:
            try:
                # still unreaped after the open (no other thread took it): the pidfd is this process's
                if proc.returncode is None:
                    poller = select.poll()  # not select(): descriptors past 1024 are common in a driver
                    poller.register(fd, select.POLLIN)
                    if not poller.poll(max(timeout_s, 0.0) * 1000):
                        return False
            finally:
                os.close(fd)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return True


class _Reader(threading.Thread):
    """Reads one pipe to its end and closes it (the file object's close is idempotent, so the
    Popen's own reference never closes a reused descriptor number)."""

    def __init__(self, stream: IO[bytes], keep: int, tail: bool):
        super().__init__(daemon=True, name="clawgym-capture")
        self.stream, self.keep, self.tail = stream, keep, tail
        self.kept = bytearray()
        self.head = bytearray()
        self.dropped = 0

    def run(self) -> None:
        try:
            self._drain()
        finally:
            try:
                self.stream.close()
            except OSError:
                pass

    def _drain(self) -> None:
        fd = self.stream.fileno()
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                break
            if not chunk:
                break
            if len(self.head) < STDOUT_HEAD_BYTES:
                self.head += chunk[:STDOUT_HEAD_BYTES - len(self.head)]
            if self.tail:
                self.kept += chunk
                extra = len(self.kept) - self.keep
                if extra > 0:
                    del self.kept[:extra]
                    self.dropped += extra
            else:
                room = self.keep - len(self.kept)
                self.kept += chunk[:max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)


class BoundedCapture:
    """Drain a started process's stdout and stderr pipes (both ``subprocess.PIPE``) on two threads."""

    def __init__(self, proc: subprocess.Popen[bytes], *, stdout_tail: int = STDOUT_TAIL_BYTES,
                 stderr_head: int = STDERR_HEAD_BYTES):
        assert proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self._readers = (_Reader(proc.stdout, stdout_tail, tail=True),
                         _Reader(proc.stderr, stderr_head, tail=False))
        for reader in self._readers:
            reader.start()

    def wait(self, timeout_s: float | None) -> bool:
        """Wait for the process to exit; False on timeout (the caller kills it, then ``finish``)."""
        return wait_exit(self.proc, timeout_s)

    def finish(self, grace_s: float = 10.0) -> Captured:
        """Collect what was kept once the process is gone. A descendant that still holds a pipe
        open (a daemon that escaped the kill) is not waited for past ``grace_s``."""
        self.proc.wait()
        for reader in self._readers:
            reader.join(grace_s)
        out, err = self._readers
        return Captured(bytes(out.kept), bytes(out.head), bytes(err.kept), out.dropped, err.dropped)


def isolated_result(captured: Captured, exit_code: int | None, timed_out: bool, duration_s: float) -> IsolatedResult:
    """The backend-neutral result. A stdout tail that starts mid-line loses that partial line, so a
    fragment such as the ``1.0`` at the end of a long line can never pass for a whole line."""
    out = captured.stdout
    if captured.stdout_dropped:
        cut = out.find(b"\n")
        out = out[cut + 1:] if cut >= 0 else b""
    return IsolatedResult(
        exit_code=None if timed_out else exit_code,
        stdout=out.decode("utf-8", "replace"),
        stderr=captured.stderr.decode("utf-8", "replace"),
        timed_out=timed_out,
        duration_s=duration_s,
        stdout_dropped=captured.stdout_dropped + (len(captured.stdout) - len(out)),
        stdout_head=captured.stdout_head.decode("utf-8", "replace"),
    )
