"""In-sandbox command server: the only code that runs inside a sandbox on our behalf.

It is started once per sandbox (``python3 -I -S server.py``) and answers JSON-line requests on
stdin/stdout. Running one long-lived server makes each tool call a fork inside the sandbox instead of
a new bwrap or ``docker exec`` (measured in benchmarks/), and doing file work here means paths are
resolved inside the sandbox's own mount namespace, so ``..`` and symlinks cannot reach the host.

Standard library only: it runs on whatever python3 the sandbox root provides (3.8+).
"""

import base64
import codecs
import errno
import fcntl
import io
import json
import os
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time

OUTPUT_TAIL_CHARS = 200_000  # OpenClaw keeps the last 200k chars of exec output
LOG_CAP_CHARS = 1_000_000  # aggregated output kept per session for process log/poll
READ_CHUNK = 65536
SPAWN_RETRY_S = 1.0
READ_FILE_CAP = 64 << 20  # most bytes one read_file returns: the reply is one JSON line the host holds ~5x over
WRITE_WAIT_S = 5.0  # longest a write waits on a full FIFO or device before failing with EAGAIN


def _now():
    return time.monotonic()


def _live_processes(belongs):
    """{pid: state} of the processes in /proc that ``belongs(pid)`` accepts, zombies left out (a
    zombie runs nothing; the reaper collects it). This server's own pid is never listed."""
    me = os.getpid()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        p = int(entry)
        try:
            if not belongs(p):
                continue
            with open("/proc/%d/stat" % p, "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found[p] = state
    return found


def _signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except OSError:
            pass


def _stop_then_kill(targets, stop_s=5.0, kill_s=5.0):
    """Kill every process ``targets()`` lists, fork bombs included; returns how many were signalled.

    Killing alone races a fork bomb: the survivors of one pass refill the process table before the
    next, and on a loaded host the race can be lost for good. So first SIGSTOP every listed process
    until a pass finds none still running (a stopped process cannot fork), then SIGKILL them all and
    repeat until none is left. Each phase is bounded; the kill phase runs even if stopping timed out
    (a process in uninterruptible sleep never shows as stopped).
    """
    signalled = set()
    deadline = _now() + stop_s
    while True:
        found = targets()
        running = [p for p, state in found.items() if state not in (b"T", b"t")]
        if not running or _now() > deadline:
            break
        _signal_all(running, signal.SIGSTOP)
        signalled.update(running)
        time.sleep(0.002)
    deadline = _now() + kill_s
    while True:
        found = targets()
        if not found or _now() > deadline:
            break
        _signal_all(found, signal.SIGKILL)
        _signal_all(found, signal.SIGCONT)  # a stopped process dies of SIGKILL anyway; this is for tracers
        signalled.update(found)
        time.sleep(0.005)
    return len(signalled)


class Session(object):
    """One spawned command: its process, captured output and exit status."""

    def __init__(self, sid, command, proc, master_fd=None):
        self.sid = sid
        self.command = command
        self.proc = proc
        self.master_fd = master_fd
        self.started = _now()
        self.ended = None
        self.chunks = []  # list of str pieces, tail-capped
        self.total_chars = 0  # all chars ever produced
        self.kept_from = 0  # absolute offset of the first kept char
        self.kept_chars = 0
        self.poll_offset = 0  # absolute offset already returned by poll
        self.timed_out = False
        self.killed = False
        self.backgrounded = False
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.reader_done = threading.Event()

    def append(self, text):
        with self.lock:
            self.chunks.append(text)
            self.total_chars += len(text)
            self.kept_chars += len(text)
            while self.kept_chars > LOG_CAP_CHARS and len(self.chunks) > 1:
                dropped = self.chunks.pop(0)
                self.kept_chars -= len(dropped)
                self.kept_from += len(dropped)
            if self.kept_chars > LOG_CAP_CHARS:
                cut = self.kept_chars - LOG_CAP_CHARS
                self.chunks[0] = self.chunks[0][cut:]
                self.kept_chars -= cut
                self.kept_from += cut

    def text_since(self, offset):
        with self.lock:
            full = "".join(self.chunks)
            start = max(offset, self.kept_from) - self.kept_from
            return full[start:], self.total_chars

    def status(self):
        code = self.proc.poll()
        if code is None:
            return "running"
        if self.timed_out:
            return "failed"
        return "completed" if code == 0 else "failed"

    def describe(self):
        code = self.proc.poll()
        sig = None
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = "SIG%d" % -code
        end = self.ended if self.ended is not None else _now()
        return {
            "session_id": self.sid,
            "command": self.command,
            "pid": self.proc.pid,
            "status": self.status(),
            "exit_code": code if (code is not None and code >= 0) else None,
            "signal": sig,
            "timed_out": self.timed_out,
            "killed": self.killed,
            "runtime_s": end - self.started,
            "backgrounded": self.backgrounded,
            "total_chars": self.total_chars,
        }


def harden_self():
    """Make this server untouchable by the commands it runs, which share its uid.

    PR_SET_DUMPABLE=0: only a process with CAP_SYS_PTRACE (commands have no capabilities) may
    ptrace us, read our memory or environ, or open our protocol pipes through /proc/<pid>/fd.
    Signals: as pid 1 of the sandbox (bwrap --as-pid-1) the kernel drops every signal sent from
    inside the sandbox that we have no handler for, SIGKILL and SIGSTOP included, so ``kill -9 -1``,
    ``pkill python3`` or ``kill -STOP 1`` cannot take the server down or freeze it. Python installs
    a SIGINT handler; remove it. (Default dispositions are inherited by commands, as they should.)
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE = 4
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server(object):
    def __init__(self, base_env):
        self.base_env = base_env
        self.sessions = {}
        self.counter = 0
        self.out_lock = threading.Lock()
        self.children = set()  # pids of our sessions' processes that are not yet reaped
        self.children_lock = threading.Lock()
        self.protocol_ids = set()  # (st_dev, st_ino) of our stdin/stdout pipes: file ops refuse them

    # ---------------------------------------------------------------- process helpers
    def _reader(self, sess, stream_fd):
        decoder_buf = b""
        while True:
            try:
                data = os.read(stream_fd, READ_CHUNK)
            except OSError:
                data = b""
            if not data:
                break
            data = decoder_buf + data
            # keep an incomplete utf-8 tail for the next read
            cut = len(data)
            for back in range(1, 4):
                if cut - back < 0:
                    break
                b = data[cut - back]
                if b & 0xC0 == 0x80:
                    continue
                if b >= 0xC0:
                    need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                    if back < need:
                        cut -= back
                break
            decoder_buf = data[cut:]
            sess.append(data[:cut].decode("utf-8", "replace"))
        if decoder_buf:
            sess.append(decoder_buf.decode("utf-8", "replace"))
        try:
            os.close(stream_fd)
        except OSError:
            pass
        sess.reader_done.set()

    def _waiter(self, sess):
        sess.proc.wait()
        with self.children_lock:
            self.children.discard(sess.proc.pid)
        # the command's own process group may keep the pipe open (a daemonised child); give the
        # reader a moment, then stop waiting for it
        sess.reader_done.wait(0.2)
        sess.ended = _now()
        sess.done.set()

    def _reap_orphans(self):
        """As pid 1 we adopt every orphaned process. Reap those that are not our sessions' (their
        waiters reap those): a zombie still counts towards RLIMIT_NPROC."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                time.sleep(0.2)
                continue
            if info is None:
                continue
            with self.children_lock:
                ours = info.si_pid in self.children
            if ours:
                time.sleep(0.01)
                continue
            try:
                os.waitpid(info.si_pid, os.WNOHANG)
            except ChildProcessError:
                pass

    def _session_members(self, pid):
        """Live processes in the session or process group led by ``pid``, with their states."""
        def belongs(p):
            return os.getsid(p) == pid or os.getpgid(p) == pid
        return _live_processes(belongs)

    def _kill_session(self, sess):
        """Kill the command and everything it started (its session and process group)."""
        pid = sess.proc.pid

        def targets():
            found = self._session_members(pid)
            if sess.proc.poll() is None:
                found.setdefault(pid, b"?")
            return found
        _stop_then_kill(targets)

    def _start_child(self, argv, **kwargs):
        """Popen, retried for up to SPAWN_RETRY_S while fork fails with EAGAIN: the processes of a
        command just killed (a fork bomb) still count against the process limit until they are
        reaped, and the next command should not fail for that. A fork bomb still running keeps
        failing, and the error is reported as before. The lock is not held while waiting: the
        reaper needs it to free those slots."""
        deadline = _now() + SPAWN_RETRY_S
        while True:
            try:
                with self.children_lock:
                    proc = subprocess.Popen(argv, **kwargs)
                    self.children.add(proc.pid)
                return proc
            except BlockingIOError:
                if _now() >= deadline:
                    raise
                time.sleep(0.02)

    def _spawn(self, req):
        command = req["command"]
        shell = req.get("shell") or "/bin/sh"
        shell_name = os.path.basename(shell)  # argv[0] "sh", as OpenClaw's spawn gives ("sh: 1: x: not found")
        env = dict(self.base_env)
        for k, v in (req.get("env") or {}).items():
            env[str(k)] = str(v)
        cwd = req.get("workdir") or env.get("HOME", "/")
        use_pty = bool(req.get("pty"))
        self.counter += 1
        sid = req.get("session_id") or ("s%d" % self.counter)
        master_fd = None
        if use_pty:
            import pty

            master_fd, slave_fd = pty.openpty()
            # node-pty's defaults: 120x30, xterm-256color, and the pty as the controlling terminal
            # (so C-c / C-z reach the foreground process as signals)
            fcntl.ioctl(master_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
            env.setdefault("TERM", "xterm-256color")
            if env.get("TERM") == "dumb":
                env["TERM"] = "xterm-256color"
            proc = self._start_child(
                [shell_name, "-c", command], executable=shell, cwd=cwd, env=env, stdin=slave_fd,
                stdout=slave_fd, stderr=slave_fd, start_new_session=True, close_fds=True,
                preexec_fn=_take_controlling_tty,
            )
            os.close(slave_fd)
            read_fd = os.dup(master_fd)
        else:
            r, w = os.pipe()
            stdin = subprocess.PIPE if req.get("keep_stdin") else subprocess.DEVNULL
            try:
                proc = self._start_child(
                    [shell_name, "-c", command], executable=shell, cwd=cwd, env=env, stdin=stdin, stdout=w,
                    stderr=w, start_new_session=True, close_fds=True,
                )
            except BaseException:
                os.close(r)
                raise
            finally:
                os.close(w)
            read_fd = r
        sess = Session(sid, command, proc, master_fd)
        reader_started = False
        try:
            threading.Thread(target=self._reader, args=(sess, read_fd), daemon=True).start()
            reader_started = True
            threading.Thread(target=self._waiter, args=(sess,), daemon=True).start()
        except RuntimeError:
            # "can't start new thread": the sandbox's process limit is used up (threads count).
            # The agent did that; report it like a failed fork, not as a broken sandbox.
            self._kill_session(sess)
            proc.wait()
            with self.children_lock:
                self.children.discard(proc.pid)
            for fd in ([] if reader_started else [read_fd]) + ([master_fd] if master_fd is not None else []):
                os.close(fd)
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable (process limit reached)")
        self.sessions[sid] = sess
        return sess

    # ---------------------------------------------------------------- ops
    def op_ping(self, req):
        return {"pid": os.getpid(), "python": sys.version.split()[0]}

    def op_exec(self, req):
        """Run a command; wait up to ``yield_ms`` (None: until it ends or times out)."""
        try:
            sess = self._spawn(req)
        except OSError as exc:  # bad cwd, missing shell
            return {"spawn_error": {"errno": errno.errorcode.get(exc.errno, "EIO"), "message": exc.strerror,
                                    "filename": exc.filename}}
        timeout_s = req.get("timeout_s")
        deadline = sess.started + timeout_s if timeout_s else None
        if req.get("background"):
            sess.backgrounded = True
            if deadline:
                threading.Thread(target=self._deadline_killer, args=(sess, deadline), daemon=True).start()
            return {"session": sess.describe(), "output": "", "backgrounded": True}
        yield_ms = req.get("yield_ms")
        yield_at = sess.started + yield_ms / 1000.0 if yield_ms is not None else None
        while True:
            limits = [t for t in (deadline, yield_at) if t is not None]
            wait = (min(limits) - _now()) if limits else None
            if sess.done.wait(None if wait is None else max(0.0, wait)):
                break
            if deadline is not None and _now() >= deadline:
                sess.timed_out = True
                self._kill_session(sess)
                sess.done.wait(5)
                break
            if yield_at is not None and _now() >= yield_at:
                sess.backgrounded = True
                if deadline:
                    threading.Thread(target=self._deadline_killer, args=(sess, deadline), daemon=True).start()
                text, total = sess.text_since(0)
                return {"session": sess.describe(), "output": text[-OUTPUT_TAIL_CHARS:], "backgrounded": True}
        sess.reader_done.wait(0.2)
        text, total = sess.text_since(0)
        truncated = total > len(text[-OUTPUT_TAIL_CHARS:])
        self.sessions.pop(sess.sid, None)
        return {"session": sess.describe(), "output": text[-OUTPUT_TAIL_CHARS:], "truncated": truncated,
                "total_chars": total, "backgrounded": False}

    def _deadline_killer(self, sess, deadline):
        if not sess.done.wait(max(0.0, deadline - _now())):
            sess.timed_out = True
            self._kill_session(sess)

    def _get(self, req):
        sess = self.sessions.get(req.get("session_id"))
        if sess is None:
            raise LookupError(req.get("session_id"))
        return sess

    def op_proc_list(self, req):
        return {"sessions": [s.describe() for s in self.sessions.values()]}

    def op_proc_poll(self, req):
        sess = self._get(req)
        timeout_ms = req.get("timeout_ms") or 0
        if timeout_ms > 0:
            sess.done.wait(timeout_ms / 1000.0)
        if sess.done.is_set():
            sess.reader_done.wait(0.2)
        text, total = sess.text_since(sess.poll_offset)
        sess.poll_offset = total
        return {"session": sess.describe(), "output": text}

    def op_proc_log(self, req):
        sess = self._get(req)
        text, total = sess.text_since(0)
        return {"session": sess.describe(), "output": text}

    def op_proc_write(self, req):
        sess = self._get(req)
        data = base64.b64decode(req.get("data_b64") or "")
        if sess.master_fd is not None:
            os.write(sess.master_fd, data)
            return {"written": len(data), "stdin_closed": False}
        if sess.proc.stdin is None or sess.proc.stdin.closed:
            return {"written": 0, "stdin_closed": True, "unavailable": True}
        try:
            sess.proc.stdin.write(data)
            sess.proc.stdin.flush()
            if req.get("eof"):
                sess.proc.stdin.close()
        except (BrokenPipeError, OSError):
            return {"written": 0, "stdin_closed": True, "unavailable": True}
        return {"written": len(data), "stdin_closed": bool(req.get("eof"))}

    def _terminate_session(self, sess, grace_s):
        """OpenClaw's kill of a session: SIGTERM to the command's process group and SIGKILL to the
        command itself at once (a shell that ignores SIGTERM dies anyway), then, if some of the
        group is still alive after ``grace_s``, kill what is left."""
        pid = sess.proc.pid
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            try:
                sess.proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
        try:
            sess.proc.send_signal(signal.SIGKILL)  # no-op once reaped: never a recycled pid
        except OSError:
            pass

        def finish():
            time.sleep(grace_s)
            if self._session_members(pid):
                self._kill_session(sess)
        threading.Thread(target=finish, daemon=True).start()

    def op_proc_kill(self, req):
        sess = self._get(req)
        was_running = sess.proc.poll() is None
        if was_running:
            sess.killed = True
            grace_s = req.get("term_grace_s")
            if grace_s is None:
                self._kill_session(sess)
            else:
                self._terminate_session(sess, float(grace_s))
            sess.done.wait(2)
        return {"was_running": was_running, "session": sess.describe()}

    def op_proc_remove(self, req):
        sess = self._get(req)
        if sess.proc.poll() is None:
            sess.killed = True
            self._kill_session(sess)
        self.sessions.pop(sess.sid, None)
        return {"removed": True}

    def _open(self, path, flags, mode=0o666):
        """Open for a file op: never blocking (a FIFO without a peer, a device), never one of our
        own protocol pipes (``/proc/self/fd/N`` names them, and this process opens the path)."""
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, mode)
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) in self.protocol_ids and not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EACCES, "Permission denied", path)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def op_read_file(self, req):
        """Whole file, or its first ``max_bytes``; at most READ_FILE_CAP either way. A whole-file read
        of a bigger regular file fails with EFBIG rather than returning a silently cut file (which an
        edit would write back) or exhausting host memory."""
        path = req["path"]
        max_bytes = min(req.get("max_bytes") or READ_FILE_CAP, READ_FILE_CAP)
        fd, st = self._open(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as fh:
            size = st.st_size
            if not req.get("max_bytes") and size > READ_FILE_CAP and stat.S_ISREG(st.st_mode):
                raise OSError(errno.EFBIG, f"File too large to read at once ({size} bytes, limit {READ_FILE_CAP})",
                              path)
            try:
                data = fh.read(max_bytes) or b""
            except BlockingIOError:
                data = b""
        return {"data_b64": base64.b64encode(data).decode("ascii"), "size": size}

    def op_read_lines(self, req):
        """A window of a text file's lines, so the host never holds more than the read tool shows.

        Lines are split at b"\\n" and decoded as UTF-8 with U+FFFD for bad bytes (the same text as
        decoding the whole file); ``sizes`` are their UTF-8 lengths after that decoding. From line
        ``start`` (0-based), up to ``count`` lines are described; a line's text is included while the
        texts sent stay within ``text_budget`` bytes and the line is at most ``max_line_bytes``
        (else its text is null, its size still exact). ``total`` counts every line of the file,
        ``head_b64`` is its first ``head_bytes`` (for image detection). A non-regular file (a device)
        is read non-blocking up to ``device_cap`` bytes and treated as that text."""
        path = req["path"]
        start = max(0, int(req.get("start") or 0))
        count = max(0, int(req.get("count") or 0))
        budget = max(0, int(req.get("text_budget") or 0))
        max_line = max(0, int(req.get("max_line_bytes") or 0))
        fd, st = self._open(path, os.O_RDONLY)
        with os.fdopen(fd, "rb") as raw:
            if stat.S_ISREG(st.st_mode):
                fh = raw
            else:
                try:
                    fh = io.BytesIO(raw.read(max(0, int(req.get("device_cap") or 0))) or b"")
                except BlockingIOError:
                    fh = io.BytesIO(b"")
            head = fh.read(max(0, int(req.get("head_bytes") or 0)))
            fh.seek(0)
            newlines = 0
            pos = 0
            while newlines < start:  # skip to line ``start``
                chunk = fh.read(READ_CHUNK * 16)
                if not chunk:
                    break
                n = chunk.count(b"\n")
                if newlines + n < start:
                    newlines += n
                    pos += len(chunk)
                    continue
                at = -1
                for _ in range(start - newlines):
                    at = chunk.index(b"\n", at + 1)
                newlines = start
                pos += at + 1
            fh.seek(pos)
            texts, sizes = [], []
            eof = newlines < start
            used = 0
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            while not eof and len(sizes) < count:
                parts, size = [], 0
                while True:
                    piece = fh.readline(READ_CHUNK * 16)
                    ends = piece.endswith(b"\n")
                    text = decoder.decode(piece[:-1] if ends else piece, final=ends or not piece)
                    size += len(text.encode("utf-8"))
                    if size <= max_line:
                        parts.append(text)
                    if ends or not piece:
                        break
                decoder.reset()
                keep = size <= max_line and used + size <= budget
                used += size if keep else 0
                texts.append("".join(parts) if keep else None)
                sizes.append(size)
                if ends:
                    newlines += 1
                else:
                    eof = True
            while True:  # the rest only counts
                chunk = fh.read(READ_CHUNK * 16)
                if not chunk:
                    break
                newlines += chunk.count(b"\n")
        return {"texts": texts, "sizes": sizes, "total": newlines + 1,
                "head_b64": base64.b64encode(head).decode("ascii")}

    def op_write_file(self, req):
        """Create or overwrite a file. Never blocks: a FIFO without a reader fails (ENXIO) and one
        that stays full fails after WRITE_WAIT_S (EAGAIN); the server must answer in time."""
        path = req["path"]
        if req.get("mkdirs", True):
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
        data = base64.b64decode(req["data_b64"])
        fd, st = self._open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            view = memoryview(data)
            deadline = _now() + WRITE_WAIT_S
            while view:
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    if _now() > deadline:
                        raise OSError(errno.EAGAIN, "Resource temporarily unavailable", path) from None
                    select.select([], [fd], [], 0.05)
        finally:
            os.close(fd)
        return {"written": len(data)}

    def op_stat(self, req):
        st = os.stat(req["path"])
        return {"size": st.st_size, "is_dir": stat.S_ISDIR(st.st_mode), "is_file": stat.S_ISREG(st.st_mode),
                "mode": st.st_mode, "mtime": st.st_mtime}

    def op_kill_all(self, req):
        """Kill every process in the sandbox but this server (and pid 1, bwrap's init)."""
        n = _stop_then_kill(lambda: _live_processes(lambda p: p != 1))  # never lists this server
        self.sessions.clear()
        return {"killed": n}

    # ---------------------------------------------------------------- loop
    def handle(self, req):
        op = req.get("op", "")
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            return {"id": req.get("id"), "ok": False, "error": {"kind": "protocol", "message": "unknown op " + op}}
        try:
            result = fn(req)
            result["id"] = req.get("id")
            result["ok"] = True
            return result
        except LookupError as exc:
            return {"id": req.get("id"), "ok": False,
                    "error": {"kind": "no_session", "message": str(exc.args[0] if exc.args else "")}}
        except OSError as exc:
            return {"id": req.get("id"), "ok": False,
                    "error": {"kind": "os", "errno": errno.errorcode.get(exc.errno or 0, "EIO"),
                              "message": exc.strerror or str(exc), "filename": exc.filename}}
        except Exception as exc:  # report, never die on one bad request
            return {"id": req.get("id"), "ok": False,
                    "error": {"kind": "internal", "message": "%s: %s" % (type(exc).__name__, exc)}}

    def reply(self, out, msg):
        line = (json.dumps(msg) + "\n").encode("utf-8")
        with self.out_lock:
            out.write(line)
            out.flush()

    def serve(self):
        out = os.fdopen(os.dup(1), "wb")
        # commands must not write into our protocol channel
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        inp = os.fdopen(os.dup(0), "rb")
        os.dup2(devnull, 0)
        for fd in (out.fileno(), inp.fileno(), 2):  # 2: the host reads our stderr when we die
            st = os.fstat(fd)
            self.protocol_ids.add((st.st_dev, st.st_ino))
        self.reply(out, {"id": 0, "ok": True, "ready": True, "pid": os.getpid()})
        for raw in inp:
            try:
                req = json.loads(raw)
            except ValueError:
                self.reply(out, {"id": None, "ok": False, "error": {"kind": "protocol", "message": "bad json"}})
                continue
            if req.get("op") == "shutdown":
                break
            if req.get("async"):
                threading.Thread(target=lambda r=req: self.reply(out, self.handle(r)), daemon=True).start()
            else:
                self.reply(out, self.handle(req))
        self.op_kill_all({})


def _take_controlling_tty():
    """Child side of a pty spawn (after setsid): make stdin, the pty, the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def main():
    base_env = json.loads(os.environ.get("CLAWGYM_SERVER_ENV", "{}")) or {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
    }
    os.environ.pop("CLAWGYM_SERVER_ENV", None)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    harden_self()
    server = Server(base_env)
    if os.getpid() == 1:
        threading.Thread(target=server._reap_orphans, daemon=True).start()
    server.serve()


if __name__ == "__main__":
    main()
