"""Escape attempts against the bwrap sandbox, each one through ``sandbox.exec`` (the agent's exec tool).

Every test plants something on the host, attacks it from inside, then checks that the host is
unharmed and that the sandbox (or a restarted one, where the attempt legitimately killed it) still
works. Attacks that would do damage if they succeeded write values that change nothing (the current
hostname, the current core_pattern), so a regression fails the test without hurting the machine.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clawgym_env.sandbox import (
    ExecResult,
    SandboxConfig,
    SandboxError,
    SandboxFileError,
    ServerSandbox,
    make_sandbox,
)
from clawgym_env.sandbox.client import clear_directory
from clawgym_env.sandbox.runtime import runtime_dir

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- helpers
def _run(sb: ServerSandbox, command: str, timeout_s: float = 20.0) -> ExecResult:
    return sb.exec(command, timeout_s=timeout_s)


def _assert_usable(sb: ServerSandbox) -> None:
    """The sandbox still answers, promptly and correctly."""
    start = time.monotonic()
    res = sb.exec("echo ok", timeout_s=10)
    assert (res.output, res.exit_code) == ("ok\n", 0), res
    assert time.monotonic() - start < 5


@contextmanager
def _started(config: SandboxConfig | None = None) -> Iterator[ServerSandbox]:
    sb = make_sandbox("bwrap", config)
    sb.start()
    try:
        yield sb
    finally:
        sb.close()


def _uid_of(sb: ServerSandbox) -> int:
    uid = getattr(sb, "uid", None)
    assert uid is not None, "these tests run as root, so every sandbox gets its own uid"
    return uid


def _host_pids_of_uid(uid: int) -> list[int]:
    """Every host process whose real uid is ``uid``, zombies included."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                for line in fh:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return pids


def _live_pids_of_uid(uid: int) -> list[int]:
    live = []
    for pid in _host_pids_of_uid(uid):
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            live.append(pid)
    return live


def _leftovers(uid: int) -> list[bytes]:
    """Command lines of the live processes of ``uid`` other than bwrap's launcher and the server."""
    found = []
    for pid in _live_pids_of_uid(uid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if not (cmdline.startswith(b"/usr/bin/bwrap\0") or b"/run/clawgym/server.py" in cmdline):
            found.append(cmdline)
    return found


def _server_host_pid(sb: ServerSandbox) -> int:
    for pid in _live_pids_of_uid(_uid_of(sb)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        argv = cmdline.split(b"\0")
        if b"python3" in argv[0] and b"server.py" in cmdline:  # the server, not bwrap (whose argv names it too)
            return pid
    raise AssertionError("no server process found for the sandbox uid")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def _planted(path: Path, text: str) -> Iterator[Path]:
    path.write_text(text)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def _token_server(sock: socket.socket, token: bytes) -> Iterator[None]:
    """Serve ``token`` to anyone who connects to the bound ``sock``."""
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(token)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(2)
        sock.close()


_CONNECT_PY = """\
import socket, sys
kind, where = sys.argv[1], sys.argv[2]
host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
try:
    if kind == "tcp":
        s = socket.create_connection((host, int(where)), timeout=3)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(3)
        s.connect("\\0" + where)
    print("GOT", s.recv(100).decode())
except OSError as exc:
    print("FAILED", type(exc).__name__, exc)
"""


# ----------------------------------------------------------------------------- 1. read host secrets
@pytest.mark.parametrize("where", ["root", "tmp", "repo"])
def test_cannot_read_host_secrets(sandbox: ServerSandbox, where: str) -> None:
    """Host files outside the workspace do not exist for the agent, by any path trick."""
    name, token = secrets.token_hex(8), secrets.token_hex(16)  # the file's name is no secret, its content is
    base = {"root": Path("/root"), "tmp": Path("/tmp"), "repo": REPO}[where]
    with _planted(base / f".clawgym-secret-{name}", f"SECRET {token}\n") as secret:
        attempts = [
            f"cat {secret}",
            f"cat /proc/1/root{secret}",
            f"cat /proc/self/root{secret}",
            f"cat /proc/self/cwd/../../..{secret}",
            f"cat ../../..{secret}",
            f"ln -s {secret} link && cat link",
            "ln -s / hostroot && cat hostroot" + str(secret),
            f"ln -s {secret.parent} dirlink && cat dirlink/{secret.name}",
            f"find / -path /proc -prune -o -name '*{name}*' -print 2>/dev/null",
            f"grep -rs {token} /tmp /root /run /etc /var; true",
        ]
        for command in attempts:
            res = _run(sandbox, command)
            assert token not in res.output, (command, res.output)
            if command.startswith("find"):
                assert res.output == "", res.output
        # the read tool goes through the server: same answer
        for path in (str(secret), f"/proc/1/root{secret}", f"{sandbox.workspace}/link"):
            with pytest.raises(SandboxFileError):
                sandbox.read_file(path)
        assert secret.read_text() == f"SECRET {token}\n"
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- 2. write outside
def test_cannot_write_outside_workspace(sandbox: ServerSandbox) -> None:
    """Writes outside the workspace never reach the host: new files do not appear, planted ones
    keep their content, and the runtime files shared by every sandbox stay intact."""
    token = secrets.token_hex(8)
    new_targets = [
        Path(f"/tmp/clawgym-escape-{token}"),
        REPO / f".clawgym-escape-{token}",
        Path(f"/usr/clawgym-escape-{token}"),
        Path(f"/etc/clawgym-escape-{token}"),
    ]
    runtime = runtime_dir().host
    shared = [runtime / "server.py", runtime / "vguard" / "sitecustomize.py", runtime / "etc" / "passwd"]
    before = {p: _sha256(p) for p in shared}
    with _planted(Path(f"/tmp/clawgym-victim-{token}"), "original\n") as tmp_victim, \
            _planted(REPO / f".clawgym-victim-{token}", "original\n") as repo_victim, \
            _planted(Path(f"/usr/local/clawgym-victim-{token}"), "original\n") as usr_victim:
        targets = new_targets + [tmp_victim, repo_victim, usr_victim]
        for i, p in enumerate(targets):
            for command in (
                f"echo pwned > {p}",
                f"echo pwned >> /proc/1/root{p}",
                f"ln -sf {p} link{i} && echo pwned > link{i}",
                f"mkdir -p {p.parent} && cp /bin/true {p}",
            ):
                _run(sandbox, command)
        for command in (
            "echo pwned >> /run/clawgym/server.py",
            "echo pwned >> /run/clawgym/vguard/sitecustomize.py",
            "echo pwned >> /etc/passwd",
            "mount -o remount,rw /usr; mount -o remount,rw /",
            "touch /usr/bin/clawgym-pwned /etc/clawgym-pwned",
        ):
            res = _run(sandbox, command)
            assert res.exit_code != 0, (command, res.output)
        for p in new_targets:
            assert not p.exists(), p
        for p in (tmp_victim, repo_victim, usr_victim):
            assert p.read_text() == "original\n", p
        assert not Path("/usr/bin/clawgym-pwned").exists()
        assert {p: _sha256(p) for p in shared} == before
    # positive control: the workspace is writable, and what the agent writes is not root's on the host
    assert _run(sandbox, "echo mine > mine.txt").exit_code == 0
    st = (sandbox.host_workspace / "mine.txt").stat()
    assert st.st_uid == _uid_of(sandbox) and st.st_uid != 0
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- 3. host processes
def test_host_processes_invisible_and_unkillable(sandbox: ServerSandbox) -> None:
    """A host process can be neither seen nor signalled from inside (own pid namespace, own uid)."""
    marker = f"{900 + secrets.randbelow(99)}.{secrets.randbelow(10**6):06d}"
    host = subprocess.Popen(["sleep", marker])
    try:
        ps = _run(sandbox, "ps aux; ls /proc")
        assert marker not in ps.output
        assert str(host.pid) not in ps.output.split()
        for command in (f"kill -9 {host.pid}", f"kill -STOP {host.pid}", "pkill -9 sleep",
                        f"pkill -9 -f {marker}", "kill -9 -1"):
            _run(sandbox, command)
        time.sleep(0.2)
        assert host.poll() is None, "the host process was killed from inside the sandbox"
        with open(f"/proc/{host.pid}/stat", "rb") as fh:
            assert fh.read().rsplit(b")", 1)[1].split()[0] != b"T", "the host process was stopped"
    finally:
        host.kill()
        host.wait()
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- 4. network
def test_host_loopback_unreachable_without_network(sandbox: ServerSandbox) -> None:
    """Without ``network=True`` the sandbox has its own empty network namespace: the host's
    loopback TCP servers and abstract unix sockets are out of reach."""
    token = secrets.token_hex(8)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(f"\0clawgym-test-{token}")
    sandbox.write_file(f"{sandbox.workspace}/connect.py", _CONNECT_PY.encode())
    with _token_server(tcp, token.encode()), _token_server(unix, token.encode()):
        for args in (f"tcp {port}", f"unix clawgym-test-{token}"):
            res = _run(sandbox, f"python3 connect.py {args}")
            assert res.output.startswith("FAILED"), res.output
            assert token not in res.output
        res = _run(sandbox, f"curl -s -m 3 http://127.0.0.1:{port}/ || wget -q -T 3 -O- http://127.0.0.1:{port}/; true")
        assert token not in res.output
    _assert_usable(sandbox)


def _host_ip() -> str:
    """An address of this host that is not loopback: the "outside world" (no internet here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))  # sends nothing: only picks the outbound interface
        ip = s.getsockname()[0]
    assert not ip.startswith("127."), "this host needs a non-loopback IPv4 address for this test"
    return ip


def test_network_sandbox_reaches_outside_but_not_host_loopback() -> None:
    """With ``network=True`` the sandbox still has its own network namespace (slirp4netns): the
    host's loopback TCP servers (a vLLM server, a Ray dashboard) and abstract unix sockets stay out
    of reach, also through slirp's host alias 10.0.2.2, while a server on the host's non-loopback
    address, standing in for the outside world, answers (the network does work)."""
    token, outside = secrets.token_hex(8), secrets.token_hex(8)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(f"\0clawgym-test-{token}")
    ip = _host_ip()
    world = socket.socket()
    world.bind((ip, 0))
    world_port = world.getsockname()[1]
    with _started(SandboxConfig(network=True)) as sb, _token_server(tcp, token.encode()), \
            _token_server(unix, token.encode()), _token_server(world, outside.encode()):
        sb.write_file(f"{sb.workspace}/connect.py", _CONNECT_PY.encode())
        for args in (f"tcp {port}", f"tcp {port} 10.0.2.2", f"tcp {port} localhost", f"unix clawgym-test-{token}"):
            res = _run(sb, f"python3 connect.py {args}")
            assert res.output.startswith("FAILED") and token not in res.output, (args, res.output)
        res = _run(sb, f"python3 connect.py tcp {world_port} {ip}")
        assert res.output.strip() == f"GOT {outside}", res.output


# ----------------------------------------------------------------------------- 5. leftovers
def test_no_process_survives_close() -> None:
    """Daemonised processes (nohup, setsid, double fork, ignoring SIGTERM/SIGHUP) die with the sandbox."""
    sb = make_sandbox("bwrap")
    sb.start()
    uid = _uid_of(sb)
    try:
        command = (
            "nohup sleep 1000 >/dev/null 2>&1 & "
            "setsid sleep 1001 >/dev/null 2>&1 & "
            "(sleep 1002 >/dev/null 2>&1 &) ; "
            "setsid -f sh -c 'trap \"\" HUP TERM INT; sleep 1003' >/dev/null 2>&1; "
            "python3 -c 'import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        os.close(0); os.close(1); os.close(2); time.sleep(1004)\n' ; "
            "echo started"
        )
        assert _run(sb, command).output.strip() == "started"
        sb.exec("sleep 1005", background=True)
        deadline = time.monotonic() + 5
        while len(_live_pids_of_uid(uid)) < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_live_pids_of_uid(uid)) >= 7  # server + 6 sleepers
    finally:
        sb.close()
    deadline = time.monotonic() + 3
    while _host_pids_of_uid(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _host_pids_of_uid(uid) == []
    with _started() as fresh:
        _assert_usable(fresh)


# ----------------------------------------------------------------------------- 6. fork bomb
_BOMB_PY = """\
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
"""


def run_fork_bomb(sandbox: ServerSandbox, count_processes: Callable[[], int]) -> int:
    """Run a persistent fork bomb under a 3 s exec timeout while the host spawns processes beside
    it; assert the exec timed out, returned within 10 s and the host stayed responsive (< 2 s per
    spawn). Returns the peak of ``count_processes`` sampled meanwhile. Shared with the docker tests."""
    sandbox.write_file(f"{sandbox.workspace}/bomb.py", _BOMB_PY.encode())
    outcome: dict[str, object] = {}

    def bomb() -> None:
        start = time.monotonic()
        outcome["result"] = sandbox.exec("python3 bomb.py", timeout_s=3)
        outcome["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=bomb)
    thread.start()
    peak = 0
    worst_host_spawn = 0.0
    while thread.is_alive():
        start = time.monotonic()
        subprocess.run(["true"], check=True)
        worst_host_spawn = max(worst_host_spawn, time.monotonic() - start)
        peak = max(peak, count_processes())
        time.sleep(0.1)
    thread.join()
    res = outcome["result"]
    assert isinstance(res, ExecResult) and res.timed_out, res
    assert outcome["elapsed"] < 10  # type: ignore[operator]
    assert worst_host_spawn < 2.0, worst_host_spawn
    return peak


def test_fork_bomb_is_bounded_and_killed_on_timeout(sandbox: ServerSandbox) -> None:
    """A persistent fork bomb hits RLIMIT_NPROC; the exec timeout kills all of it; the host stays
    responsive throughout and the same sandbox is usable afterwards."""
    uid = _uid_of(sandbox)
    peak = run_fork_bomb(sandbox, lambda: len(_host_pids_of_uid(uid)))
    assert 50 < peak <= 256 + 5, peak  # the bomb did run, and RLIMIT_NPROC (256, threads included) held
    _assert_usable(sandbox)
    deadline = time.monotonic() + 3
    while _leftovers(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _leftovers(uid) == []  # nothing of the bomb is left


def test_escaped_fork_bomb_sandbox_restarts(sandbox: ServerSandbox) -> None:
    """A fork bomb left running in the background may make the sandbox refuse new commands (never
    hang); stop/start clears it and the workspace survives."""
    uid = _uid_of(sandbox)
    sandbox.write_file(f"{sandbox.workspace}/bomb.py", _BOMB_PY.encode())
    res = sandbox.exec("python3 bomb.py >/dev/null 2>&1 & sleep 1; echo launched", timeout_s=10)
    assert "launched" in res.output
    start = time.monotonic()
    try:
        during = sandbox.exec("echo ok", timeout_s=5)
        assert during.spawn_error is not None or during.output == "ok\n"
    except SandboxError:
        pass
    assert time.monotonic() - start < 15
    sandbox.stop()
    assert _live_pids_of_uid(uid) == []
    sandbox.start()
    _assert_usable(sandbox)
    assert _run(sandbox, "test -f bomb.py && echo kept").output == "kept\n"


# ----------------------------------------------------------------------------- 7. huge files
def test_huge_file_fails_on_file_size_limit(sandbox: ServerSandbox) -> None:
    """No file may hold more than RLIMIT_FSIZE (1 GiB), whether written, extended or preallocated
    (``fallocate -n`` allocates blocks past EOF without the limit being checked: refused by seccomp)."""
    limit = sandbox.config.limits.max_file_bytes
    attempts = {
        "dd": "dd if=/dev/zero of=dd.bin bs=1M count=10240",
        "fallocate": "fallocate -l 10G fa.bin",
        "fallocate-keep-size": "touch fk.bin && fallocate -n -l 10G fk.bin",
        "truncate": "truncate -s 10G tr.bin",
        "pwrite": "python3 -c \"import os; os.pwrite(os.open('pw.bin', os.O_CREAT | os.O_WRONLY), b'x', 10 << 30)\"",
    }
    for name, command in attempts.items():
        res = _run(sandbox, command, timeout_s=60)
        assert res.exit_code != 0 or res.signal == "SIGXFSZ", (name, res)
    for entry in os.scandir(sandbox.host_workspace):
        st = entry.stat(follow_symlinks=False)
        assert st.st_size <= limit, (entry.name, st.st_size)
        assert st.st_blocks * 512 <= limit + (1 << 20), (entry.name, st.st_blocks)
    assert _run(sandbox, "rm -f *.bin && ls").output == ""
    _assert_usable(sandbox)


def test_scratch_tmpfs_is_capped_and_dev_read_only(sandbox: ServerSandbox) -> None:
    """/tmp, /root, /run and /dev/shm are RAM: each is size-capped, and /dev cannot be written."""
    res = _run(sandbox, "python3 -c \"import os\n"
                        "for d in ('/tmp', '/root', '/run', '/dev/shm'):\n"
                        "    s = os.statvfs(d); print(d, s.f_blocks * s.f_frsize)\"")
    sizes = {d: int(n) for d, n in (line.split() for line in res.output.splitlines())}
    assert all(n <= 1 << 30 for n in sizes.values()), sizes
    res = _run(sandbox, "head -c 100M /dev/zero > /dev/shm/big; echo rc=$?; touch /dev/evil; echo rc=$?")
    assert "No space left on device" in res.output and "Read-only file system" in res.output, res.output
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- 8. huge output
def test_huge_output_keeps_only_the_tail(sandbox: ServerSandbox) -> None:
    """100 MB of output: the call returns the last 200k chars, quickly, without the host side
    ever holding the whole output."""
    tracemalloc.start()
    try:
        start = time.monotonic()
        res = sandbox.exec("yes | head -c 100000000", timeout_s=60)
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.exit_code == 0 and res.truncated
    assert len(res.output) == 200_000 and res.output.endswith("y\ny\n")
    assert elapsed < 30, elapsed
    assert peak < 20 << 20, peak
    _assert_usable(sandbox)


def test_reading_huge_files_is_refused_fast_and_big_reads_are_linear(sandbox: ServerSandbox) -> None:
    """The read tool reads whole files through the server. A file past the server's cap (64 MiB)
    fails as the agent's own error (EFBIG), at once; a file at the cap arrives in seconds. (Before:
    a 1 GB file took the server past RLIMIT_AS or the host past ~6 GB, and the client's quadratic
    line assembly made 64 MiB take 57 s and 128 MiB a "did not answer" infra error.)"""
    assert _run(sandbox, "yes | head -c 100M > huge.txt && yes | head -c 64M > big.txt").exit_code == 0
    start = time.monotonic()
    with pytest.raises(SandboxFileError) as info:
        sandbox.read_file(f"{sandbox.workspace}/huge.txt")
    assert info.value.code == "EFBIG"
    assert time.monotonic() - start < 2
    assert len(sandbox.read_file(f"{sandbox.workspace}/huge.txt", max_bytes=1000)) == 1000
    start = time.monotonic()
    assert len(sandbox.read_file(f"{sandbox.workspace}/big.txt")) == 64 << 20
    assert time.monotonic() - start < 15
    assert _run(sandbox, "rm huge.txt big.txt && ls").output == ""
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- the in-sandbox server
def test_agent_cannot_kill_or_freeze_the_server(sandbox: ServerSandbox) -> None:
    """The server is pid 1 of the sandbox: signals from inside (SIGKILL, SIGSTOP included) are
    dropped by the kernel, so neither a stray ``pkill python3`` nor a deliberate attack makes the
    sandbox an infra error or hangs it."""
    start = time.monotonic()
    res = _run(sandbox, "ps -o pid,comm -p 1; kill -9 1; kill -STOP 1; kill -INT 1; kill -TERM 1; "
                        "pkill -9 python3; pkill -STOP -f 'clawgym/serve[r]'; kill -9 -1; echo done")
    assert "python3" in res.output and res.output.endswith("done\n"), res.output
    _assert_usable(sandbox)
    assert time.monotonic() - start < 5


_PTRACE_PY = """\
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("attach", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH
for path, mode in (("/proc/1/mem", "rb"), ("/proc/1/environ", "rb"), ("/proc/1/fd/0", "rb"),
                   ("/proc/1/fd/1", "wb"), ("/proc/1/fd/3", "wb")):
    try:
        with open(path, mode) as fh:
            fh.write(b'{"id": 99, "ok": true}\\ngarbage\\n') if "w" in mode else fh.read(100)
        print("OPENED", path)
    except OSError as exc:
        print("refused", path, exc.errno)
"""


def test_agent_cannot_trace_or_inject_into_the_server(sandbox: ServerSandbox) -> None:
    """The server is not dumpable: no ptrace, no reading its memory or environ, no writing forged
    replies or garbage into its protocol pipes through /proc/1/fd."""
    sandbox.write_file(f"{sandbox.workspace}/trace.py", _PTRACE_PY.encode())
    start = time.monotonic()
    res = _run(sandbox, "python3 trace.py")
    assert "attach -1 1" in res.output, res.output  # EPERM
    assert "OPENED" not in res.output, res.output
    _assert_usable(sandbox)
    assert time.monotonic() - start < 5


def test_command_output_cannot_forge_protocol_messages(sandbox: ServerSandbox) -> None:
    """Whatever a command prints (fake replies, NUL bytes, broken UTF-8) is just its output."""
    res = _run(sandbox, r"""printf '{"id": 3, "ok": true, "ready": true}\n\000\377\376 {"id":'""")
    assert res.output.startswith('{"id": 3, "ok": true, "ready": true}\n\x00'), repr(res.output)
    _assert_usable(sandbox)
    assert _run(sandbox, "echo second").output == "second\n"


def test_dead_server_is_a_sandbox_error_and_restart_keeps_workspace(sandbox: ServerSandbox) -> None:
    """When the server dies anyway (OOM killer, host-side kill), calls fail fast with SandboxError,
    never hang, and ``start()`` again gives a working sandbox over the same workspace."""
    assert _run(sandbox, "echo kept > note.txt").exit_code == 0
    os.kill(_server_host_pid(sandbox), signal.SIGKILL)
    for _ in range(2):
        start = time.monotonic()
        with pytest.raises(SandboxError):
            sandbox.exec("echo ok", timeout_s=10)
        assert time.monotonic() - start < 5
    sandbox.start()
    _assert_usable(sandbox)
    assert _run(sandbox, "cat note.txt").output == "kept\n"


# ----------------------------------------------------------------------------- workspace reset
def test_clear_directory_does_not_follow_agent_symlinks(sandbox: ServerSandbox, tmp_path: Path) -> None:
    """Links the agent plants in the workspace point into the host once seen from the host side;
    resetting the workspace removes the links, never their targets."""
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "keep.txt").write_text("keep\n")
    (victim / "sub" / "keep2.txt").write_text("keep2\n")
    res = _run(sandbox, f"ln -s {victim} dirlink; ln -s {victim}/keep.txt filelink; ln -s / rootlink; "
                        f"mkdir -p a/b && ln -s {victim} a/b/link && ln -s {victim}/sub a/sublink; "
                        f"mkdir ro && ln -s {victim} ro/link && chmod 0 ro; "
                        f"mkdir -p deep/x && ln -s {victim}/sub deep/x/y && chmod 0 deep/x; echo planted")
    assert res.output.endswith("planted\n"), res.output
    sandbox.stop()
    clear_directory(sandbox.host_workspace)
    assert list(sandbox.host_workspace.iterdir()) == []
    assert (victim / "keep.txt").read_text() == "keep\n"
    assert (victim / "sub" / "keep2.txt").read_text() == "keep2\n"
    assert Path("/usr/bin/python3").exists()
    sandbox.start()
    _assert_usable(sandbox)


# ----------------------------------------------------------------------------- limits and kernel knobs
def test_memory_limit_per_process(sandbox: ServerSandbox) -> None:
    """RLIMIT_AS (4 GiB) holds: allocating 8 GB fails inside the process, nothing else dies."""
    res = _run(sandbox, "python3 -c 'b = bytearray(8 << 30); print(\"allocated\")'; echo rc=$?")
    assert "MemoryError" in res.output and "allocated" not in res.output, res.output
    _assert_usable(sandbox)


def test_proc_sys_and_sys_not_writable(sandbox: ServerSandbox) -> None:
    """Kernel knobs are out of reach: /proc/sys and /proc/sysrq-trigger refuse writes, there is no
    /sys, and proc/sysfs cannot be mounted. The values written are the current ones, so a failure
    of this test changes nothing on the host."""
    hostname = socket.gethostname()
    core_pattern = Path("/proc/sys/kernel/core_pattern").read_text()
    res = _run(sandbox, f"echo {hostname} > /proc/sys/kernel/hostname; echo rc=$?; "
                        f"printf '%s' '{core_pattern.strip()}' > /proc/sys/kernel/core_pattern; echo rc=$?; "
                        "ls /sys; echo rc=$?; "
                        "mount -t sysfs sysfs /tmp; echo rc=$?; mount -t proc proc /tmp; echo rc=$?; "
                        "test ! -e /proc/sysrq-trigger || python3 -c \"open('/proc/sysrq-trigger', 'w')\"; "
                        "echo rc=$?")
    codes = [line for line in res.output.splitlines() if line.startswith("rc=")]
    assert len(codes) == 6 and all(c != "rc=0" for c in codes[:5]), res.output
    assert codes[5] == "rc=0" or "PermissionError" in res.output, res.output  # absent, or refused
    assert socket.gethostname() == hostname
    assert Path("/proc/sys/kernel/core_pattern").read_text() == core_pattern
    _assert_usable(sandbox)


def test_host_env_and_shadow_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host environment (API keys...) reaches neither commands nor the verifier's one-shot
    sandbox, not even through /proc/*/environ; the host's /etc/shadow and users are not there."""
    token = secrets.token_hex(16)
    monkeypatch.setenv("CLAWGYM_TEST_API_KEY", token)
    dump = "env; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done 2>/dev/null; " \
           "cat /etc/shadow /proc/1/root/etc/shadow"
    with _started() as sb:
        res = _run(sb, dump)
        assert token not in res.output
        assert "/root/.pyenv" not in res.output and "CLAWGYM_SERVER_ENV" not in res.output
        assert "cat: /etc/shadow: No such file" in res.output and res.output.count("cat: ") == 2, res.output
        host_shadow = Path("/etc/shadow")
        if host_shadow.exists():
            assert all(line not in res.output for line in host_shadow.read_text().splitlines() if line)
        passwd = _run(sb, "cat /etc/passwd").output
        assert {line.split(":")[0] for line in passwd.splitlines()} <= {"root", "nobody"}, passwd
        _assert_usable(sb)
        # the verifier's path; it stops the agent's sandbox first (nothing of the agent runs beside it)
        sb.stop()
        iso = sb.run_isolated(["sh", "-c", dump], env={"PATH": "/usr/bin:/bin"}, timeout_s=20)
        assert iso.exit_code is not None and "HOME=" not in iso.stdout, iso
        assert token not in iso.stdout + iso.stderr
        assert "/root/.pyenv" not in iso.stdout


def test_no_nested_user_namespaces(sandbox: ServerSandbox) -> None:
    """Nested user namespaces would give the agent capabilities (mount a tmpfs of any size, ...)
    and the kernel's largest attack surface."""
    res = _run(sandbox, "unshare -U true; echo rc=$?; unshare -Urm true; echo rc=$?")
    assert "rc=0" not in res.output, res.output
    _assert_usable(sandbox)
