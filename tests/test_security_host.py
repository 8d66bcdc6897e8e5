"""Host safety (issue 11): what an agent leaves, or another local user plants, never reaches the host.

- setuid files: the workspace mount is nosuid,nodev on both backends, host workspaces are 0700,
  and nothing copied out of a sandbox keeps a setuid/setgid bit;
- no predictable shared path under the temp dir is trusted: a runtime folder or uid-lock folder
  planted by another user (a fake ``python3`` shim, a symlink) changes neither the reward nor where
  root writes;
- sandbox uids are leased machine-wide, whatever ``$TMPDIR`` each driver has;
- after ``kill -9`` of a driver, one ``clawgym sandbox gc`` removes every workspace, verifier folder,
  container and process it left, and keeps a live driver's;
- without the docker SDK, ``backend="docker"`` names the missing ``[docker]`` extra.

Everything is real: bwrap sandboxes, the docker engine, setuid binaries, separate driver processes.
Tests about both backends are parametrized over them; docker cases skip (with the reason) only when
no engine answers. Several need root (setuid, chown to another user, uid leases), as CI runs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clawgym_env.sandbox import ServerSandbox, make_sandbox

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: setuid files, other users, uid leases")


def _docker_reason() -> str | None:
    """Why docker cannot run here (tests/_backends.py), or None; a missing image is a failure."""
    from _backends import docker_unavailable

    if docker_unavailable() is not None:
        return docker_unavailable()
    from clawgym_env.sandbox.docker import default_image, docker_client

    try:
        docker_client().images.get(default_image())
    except Exception:  # noqa: BLE001
        pytest.fail(f"docker answers but image {default_image()} is missing: run `clawgym sandbox build`")
    return None


@pytest.fixture(params=["bwrap", "docker"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        reason = _docker_reason()
        if reason is not None:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def box(backend: str) -> Iterator[ServerSandbox]:
    sb = make_sandbox(backend)
    sb.start()
    try:
        yield sb
    finally:
        sb.close()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAWGYM_WORKSPACE_DIR", "CLAWGYM_RUNTIME_DIR")}
    return {**env, "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A fresh folder under the real temp dir whose parents the sandbox uids can traverse (pytest's
    own tmp_path is 0700), removed afterwards; planted paths go below it, never into /tmp itself."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="clawgym-hosttest-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def _sticky_tmp(parent: Path, name: str) -> Path:
    """A private stand-in for /tmp (1777, sticky), given to a driver as its $TMPDIR."""
    path = parent / name
    path.mkdir()
    os.chmod(path, 0o1777)
    return path


# ============================================================================ 2. setuid files
def _run_as_nobody(path: Path) -> str:
    # through a shell: setpriv itself execs with root's capabilities still in effect (path lookup
    # passes any 0700 folder), as a real other user would not
    out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "/bin/sh", "-c",
                          'exec "$0"', str(path)], capture_output=True, text=True, timeout=30, check=False)
    return (out.stdout + out.stderr).strip()


@ROOT_ONLY
def test_setuid_file_left_by_the_agent_gives_no_one_root(backend: str, box: ServerSandbox, open_tmp: Path) -> None:
    """``cp /usr/bin/id s; chmod 4755 s`` inside: the host workspace is 0700, the mount is
    nosuid,nodev (inside and on the host: even through an opened path the file runs as its caller),
    no copy out keeps the bit, and the docker backend clears it when the episode stops."""
    docker = backend == "docker"
    res = box.exec("cp /usr/bin/id s && chmod 4755 s && mkdir -p sub && cp s sub/t && chmod 6755 sub/t "
                   "&& ls -l s && grep ' /root/.openclaw/workspace ' /proc/self/mountinfo", timeout_s=30)
    assert res.exit_code == 0, res.output
    mount_line = res.output.strip().splitlines()[-1]
    assert "nosuid" in mount_line.split()[5] and "nodev" in mount_line.split()[5], mount_line
    ws = box.host_workspace
    host_file = ws / "s"
    assert host_file.stat().st_mode & stat.S_ISUID  # the agent could set it...
    assert stat.S_IMODE(ws.stat().st_mode) == 0o700, oct(ws.stat().st_mode)
    out = _run_as_nobody(host_file)
    assert "Permission denied" in out and "euid" not in out, out  # ...but no other user reaches it
    os.chmod(ws, 0o711)  # even where the path is opened to others, running it raises no privilege
    try:
        out = _run_as_nobody(host_file)
    finally:
        os.chmod(ws, 0o700)
    assert out.startswith("uid=65534") and "euid=0" not in out, out
    if docker:
        assert "euid=" not in out, out  # the host path is nosuid too
    from clawgym_env.sandbox.hostdirs import copy_tree_out

    copied = open_tmp / "copy"
    copy_tree_out(ws, copied)
    assert not (copied / "s").stat().st_mode & 0o6000
    assert not (copied / "sub" / "t").stat().st_mode & 0o6000
    assert (copied / "s").stat().st_mode & 0o111  # still an executable copy
    if docker:
        box.stop()  # the end of the episode: no bit survives it
        assert not host_file.stat().st_mode & 0o6000
        assert not (ws / "sub" / "t").stat().st_mode & 0o6000


@ROOT_ONLY
def test_docker_workspaces_and_out_folders_are_private_and_nosuid_on_the_host() -> None:
    reason = _docker_reason()
    if reason is not None:
        pytest.skip(reason)
    sb = make_sandbox("docker")
    try:
        sb.start()
        box = sb._box  # type: ignore[attr-defined]
        for path in (sb.host_workspace, box.out_dir):
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
            flags = os.statvfs(path).f_flag
            assert flags & os.ST_NOSUID and flags & os.ST_NODEV, path
    finally:
        sb.close()


# ============================================================================ 7. planted shared paths
_REWARD_SH = (REPO.parent / "shared" / "datasets" / "clawgym-train" / "task_0009" / "reward" / "reward.sh")

_PLANT_DRIVER = """
import json, sys
from clawgym_env.sandbox import make_sandbox
from clawgym_env.sandbox.runtime import runtime_dir
from clawgym_env.tasks import Task
from clawgym_env.verify.code import run_code_verifier

reward_sh = open({reward_sh!r}).read()
task = Task(task_id="t_plant", user_query="q", metadata={{"category": ""}},
            reward_files={{"reward.sh": reward_sh.encode(),
                          "check.py": b"import json\\nprint(json.dumps({{'a': 0.0}}))\\n"}})
sb = make_sandbox({backend!r})
sb.start()
print(json.dumps({{"runtime": str(runtime_dir().host)}}), flush=True)
sys.stdin.readline()  # the attacker acts now, between set-up and scoring
res = run_code_verifier(sb, task)
sb.close()
print(json.dumps({{"reward": res.reward, "reason": res.reason, "infra": res.infra_error}}), flush=True)
"""


_LEGACY_TEE_SHIM = """#!/bin/bash
case "$1" in
  */reward/check.py)
    /usr/bin/python3 "$@" | tee "${CLAWGYM_CHECK_STDOUT:-/dev/null}"
    exit "${PIPESTATUS[0]}" ;;
esac
exec /usr/bin/python3 "$@"
"""
"""The ``vbin/python3`` shim those folders held (the import guard now keeps check.py's stdout)."""


def _legacy_runtime_names() -> list[str]:
    """The predictable names runtime folders had: clawgym-runtime-<euid>-<content digest> (the
    digest covered server.py, the shim, passwd, and later the verifier's import guard)."""
    from clawgym_env.sandbox import runtime

    here = REPO / "clawgym_env" / "sandbox"
    server_src = (here / "server.py").read_text()
    guard = here / "verifier_guard.py"
    sources = [server_src + _LEGACY_TEE_SHIM + runtime._PASSWD]
    if guard.is_file():
        sources.append(server_src + guard.read_text() + _LEGACY_TEE_SHIM + runtime._PASSWD)
    return [f"clawgym-runtime-{os.geteuid()}-{hashlib.sha256(src.encode()).hexdigest()[:12]}" for src in sources]


def _drive(backend: str, tmpdir: Path, attack: callable) -> dict[str, object]:  # type: ignore[valid-type]
    if not _REWARD_SH.is_file():
        pytest.fail(f"the shared train split is missing ({_REWARD_SH})")
    proc = subprocess.Popen([sys.executable, "-c", _PLANT_DRIVER.format(reward_sh=str(_REWARD_SH), backend=backend)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                            env=_env(TMPDIR=str(tmpdir)))
    try:
        first = json.loads(proc.stdout.readline() or "{}")  # type: ignore[union-attr]
        assert "runtime" in first, "the driver did not start"
        attack(Path(first["runtime"]))
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return json.loads(line)


_EVIL_SHIM = "#!/bin/sh\ncat > /dev/null 2>&1\necho 1.0\n"  # reads its stdin: no SIGPIPE upstream


@ROOT_ONLY
def test_planted_runtime_folder_does_not_change_the_reward(backend: str, open_tmp: Path) -> None:
    """Another user pre-creates the runtime folder's predictable name with a fake ``python3`` shim
    (and keeps replacing it, as its owner may): the no-op episode still scores its honest 0.0."""
    tmpdir = _sticky_tmp(open_tmp, "tmp")
    planted_all = [tmpdir / name for name in _legacy_runtime_names()]
    for planted in planted_all:
        for sub in ("", "bin", "vbin", "vguard", "etc"):
            (planted / sub).mkdir()
            os.chown(planted / sub, NOBODY, NOBODY)

    def attack(runtime: Path) -> None:  # as the folder's owner, after the driver set up
        for planted in planted_all:
            shim = planted / "vbin" / "python3"
            shim.unlink(missing_ok=True)
            shim.write_text(_EVIL_SHIM)
            os.chmod(shim, 0o755)
            os.chown(shim, NOBODY, NOBODY)
        # the folder the driver uses (seen while it runs)
        seen["planted"] = runtime.resolve() in {p.resolve() for p in planted_all}
        for p in (runtime.parent, runtime, runtime / "vbin", runtime / "vguard", runtime / "vguard" / "sitecustomize.py"):
            st = p.lstat()
            seen[str(p)] = (st.st_uid, stat.S_IMODE(st.st_mode))

    seen: dict[str, object] = {}
    result = _drive(backend, tmpdir, attack)
    assert result["infra"] is None, result
    assert result["reward"] == 0.0, result
    # ... is neither the planted one nor writable by anyone but the driver
    assert seen.pop("planted") is False
    for path, (uid, mode) in seen.items():  # type: ignore[misc]
        assert uid == os.geteuid() and not mode & 0o022, (path, uid, oct(mode))


@ROOT_ONLY
def test_planted_symlinks_do_not_steer_roots_writes(open_tmp: Path) -> None:
    """The runtime folder's and the uid locks' old names pre-created as symlinks to a folder the
    attacker chose: a whole episode later nothing was created there."""
    tmpdir = _sticky_tmp(open_tmp, "tmp")
    victims = [open_tmp / "victim-runtime", open_tmp / "victim-uids"]
    for victim in victims:
        victim.mkdir()
        os.chown(victim, NOBODY, NOBODY)
    links = [tmpdir / name for name in _legacy_runtime_names()]
    for link in links:
        os.symlink(victims[0], link)
    os.symlink(victims[1], tmpdir / "clawgym-uids")
    for p in (*links, tmpdir / "clawgym-uids"):
        os.lchown(p, NOBODY, NOBODY)
    result = _drive("bwrap", tmpdir, lambda runtime: None)
    assert result["reward"] == 0.0 and result["infra"] is None, result
    for victim in victims:
        assert list(victim.iterdir()) == [], victim


@ROOT_ONLY
def test_sandbox_folders_refuse_a_base_others_can_rename_in(open_tmp: Path) -> None:
    """A workspace base that any user may write to and that is not sticky lets them swap our
    folders: refused with a clear error instead."""
    from clawgym_env.sandbox import SandboxError

    base = open_tmp / "open"
    base.mkdir()
    os.chmod(base, 0o777)
    proc = subprocess.run([sys.executable, "-c", "from clawgym_env.sandbox import make_sandbox; make_sandbox('bwrap')"],
                          capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
                          env=_env(CLAWGYM_WORKSPACE_DIR=str(base)))
    assert proc.returncode != 0
    assert "not sticky" in proc.stderr and str(base) in proc.stderr, proc.stderr[-2000:]
    assert SandboxError.__name__ in proc.stderr


# ============================================================================ 8. uid leases
_LEASER = """
import json, sys
from clawgym_env.sandbox.runtime import UidLease
UidLease.FIRST, UidLease.COUNT = {first}, {count}
held = []
try:
    while True:
        held.append(UidLease())
except RuntimeError:
    pass
print(json.dumps([lease.uid for lease in held]), flush=True)
sys.stdin.readline()
"""


def _leaser(tmpdir: Path, first: int, count: int) -> tuple[subprocess.Popen[str], list[int]]:
    proc = subprocess.Popen([sys.executable, "-c", _LEASER.format(first=first, count=count)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=REPO, env=_env(TMPDIR=str(tmpdir)))
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line, "the leasing process died"
    return proc, json.loads(line)


@ROOT_ONLY
def test_uid_leases_are_machine_wide_across_tmpdirs(open_tmp: Path) -> None:
    """Two drivers with different $TMPDIR: while the first holds every uid of a range, the second
    gets none of them; once the first is killed (-9), the kernel frees its leases."""
    first, count = 1_390_000 + (os.getpid() % 1000) * 16, 16  # far from the uids real sandboxes use
    a, held_a = _leaser(_sticky_tmp(open_tmp, "tmp-a"), first, count)
    try:
        assert len(held_a) == count
        b, held_b = _leaser(_sticky_tmp(open_tmp, "tmp-b"), first, count)
        b.kill()
        b.wait()
        assert held_b == [], f"uids leased twice: {sorted(set(held_a) & set(held_b))}"
    finally:
        a.kill()
        a.wait()
    c, held_c = _leaser(_sticky_tmp(open_tmp, "tmp-c"), first, count)
    c.kill()
    c.wait()
    assert sorted(held_c) == sorted(held_a)


@ROOT_ONLY
def test_a_leased_uid_is_handed_out_again_only_after_release() -> None:
    from clawgym_env.sandbox.runtime import UidLease

    class Small(UidLease):
        FIRST, COUNT = 1_380_000 + (os.getpid() % 1000) * 4, 4

    leases = [Small() for _ in range(Small.COUNT)]
    try:
        assert len({lease.uid for lease in leases}) == Small.COUNT
        with pytest.raises(RuntimeError, match="in use"):
            Small()
        freed = leases.pop(1)
        freed.release()
        again = Small()
        assert again.uid == freed.uid
        leases.append(again)
    finally:
        for lease in leases:
            lease.release()


@ROOT_ONLY
def test_a_uid_that_still_runs_processes_is_not_leased() -> None:
    """A uid whose processes outlived their lease (another driver's, an older version's) is skipped."""
    from clawgym_env.sandbox.runtime import UidLease

    class Small(UidLease):
        FIRST, COUNT = 1_370_000 + (os.getpid() % 1000) * 2, 2

    squatter = subprocess.Popen(["setpriv", f"--reuid={Small.FIRST}", f"--regid={Small.FIRST}", "--clear-groups",
                                 "sleep", "60"])
    try:
        deadline = time.monotonic() + 10
        while os.stat(f"/proc/{squatter.pid}").st_uid != Small.FIRST and time.monotonic() < deadline:
            time.sleep(0.01)
        lease = Small()
        try:
            assert lease.uid == Small.FIRST + 1
            with pytest.raises(RuntimeError):
                Small()
        finally:
            lease.release()
    finally:
        squatter.kill()
        squatter.wait()


# ============================================================================ 10. kill -9 leftovers
_KILLED_DRIVER = """
import glob, json, os, sys, threading, time
from clawgym_env.sandbox import make_sandbox
from clawgym_env.tasks import Task
from clawgym_env.verify.code import run_code_verifier

sb = make_sandbox({backend!r})
sb.start()
# what an agent leaves to make removal hard: read-only and mode-000 folders, a chain 3,000 deep
res = sb.exec("mkdir -p ro/x && touch ro/x/f && chmod 555 ro/x ro && mkdir -p locked/in && chmod 000 locked && "
              "python3 -c \\"import os\\nfor _ in range(3000): os.mkdir('d'); os.chdir('d')\\" && "
              "(sleep 1000 > /dev/null 2>&1 &) ; echo made", timeout_s=120)
assert "made" in res.output, res.output
task = Task(task_id="t_kill", user_query="q", metadata={{"category": ""}},
            reward_files={{"reward.sh": b"sleep 300 & wait"}})
threading.Thread(target=run_code_verifier, args=(sb, task), daemon=True).start()
mine = sb.host_workspace.parent  # this driver's own folder
deadline = time.monotonic() + 60
while not glob.glob(str(mine / "clawgym-verify-*")) and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(1.0)  # the verifier's sandbox is up
print(json.dumps({{"dir": str(mine), "workspace": str(sb.host_workspace), "uid": getattr(sb, "uid", None),
                  "container": getattr(sb, "container_name", None),
                  "verify": glob.glob(str(mine / "clawgym-verify-*"))}}), flush=True)
time.sleep(600)
"""


def _pids_matching(needles: list[str], uid: int | None) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            st_uid = os.stat(f"/proc/{entry}").st_uid
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == b"Z":
            continue
        if (uid is not None and st_uid == uid) or any(n in cmd for n in needles):
            found.append(f"{entry}: {cmd[:200]}")
    return found


def _gc(*args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "clawgym_env.cli", "sandbox", "gc", "--json", *args],
                         capture_output=True, text=True, cwd=REPO, env=_env(), timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


@ROOT_ONLY
def test_gc_after_kill9_leaves_nothing_and_keeps_live_drivers(backend: str, box: ServerSandbox) -> None:
    """A driver with a live sandbox, an agent's hard-to-remove tree and a running verifier is
    killed with -9; one ``clawgym sandbox gc`` removes its folders (workspace, verifier folder, the
    docker out folder), its container and every process, and keeps this process's live sandbox."""
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_DRIVER.format(backend=backend)], stdout=subprocess.PIPE,
                            text=True, cwd=REPO, env=_env())
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line, "the driver died before it was set up"
        info = json.loads(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    left = Path(info["dir"])
    assert info["verify"] and Path(info["workspace"]).parent == left
    assert left.is_dir()  # nobody cleaned up: the driver was killed
    needles = [left.name] + ([info["container"]] if info["container"] else [])
    dry = _gc("--dry-run")
    assert str(left) in {x["name"] for x in dry["leaked"]}  # type: ignore[union-attr]
    assert left.is_dir()
    report = _gc()
    names = {x["name"] for x in report["leaked"]}  # type: ignore[union-attr]
    assert str(left) in names, report
    assert not os.path.lexists(left)
    assert not [ln for ln in Path("/proc/self/mountinfo").read_text().splitlines() if left.name in ln]
    deadline = time.monotonic() + 10  # a docker CLI notices its container's removal, bwrap's init exits
    while _pids_matching(needles, info["uid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _pids_matching(needles, info["uid"]) == []
    from clawgym_env.sandbox import cgroups

    assert not [d for d in cgroups.find_orphans() if d.name.startswith(f"clawgym-{proc.pid}-")]
    if info["container"]:
        assert info["container"] in names
        from clawgym_env.sandbox.docker import LABEL, docker_client

        assert docker_client().api.containers(all=True, filters={"label": [LABEL, f"clawgym.owner_pid={proc.pid}"]}) == []
    # the live driver (this process) kept its folder, workspace and working sandbox
    assert box.host_workspace.is_dir() and str(box.host_workspace.parent) not in names
    res = box.exec("echo alive", timeout_s=30)
    assert res.output == "alive\n"


# ============================================================================ 11. the [docker] extra
_HIDE_SDK = """
import importlib.abc, importlib.machinery, sys
class HideSDK(importlib.abc.MetaPathFinder):
    # what a checkout without the [docker] extra sees: no SDK on sys.path, only the repo's docker/
    def find_spec(self, name, path=None, target=None):
        if name == "docker" or name.startswith("docker."):
            paths = [p for p in sys.path if "-packages" not in p]
            return importlib.machinery.PathFinder.find_spec(name, paths if path is None else path)
        return None
sys.meta_path.insert(0, HideSDK())
from clawgym_env.sandbox import SandboxError, make_sandbox
try:
    make_sandbox("docker")
except SandboxError as exc:
    print(exc)
"""


def test_docker_backend_without_the_sdk_names_the_extra() -> None:
    assert (REPO / "docker").is_dir(), "the repo's docker/ folder is what shadows the SDK here"
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_HIDE_SDK)], capture_output=True, text=True,
                         cwd=REPO, env=_env(), timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    message = out.stdout.strip()
    assert "pip install 'clawgym[docker]'" in message, message
    assert "from_env" not in message and "no docker engine" not in message, message


def test_no_file_names_a_package_that_does_not_exist() -> None:
    """Ours is ``clawgym`` (pyproject), with the extra ``[docker]``; ``clawgym-env`` is nobody's."""
    offenders = []
    for path in [*REPO.glob("clawgym_env/**/*.py"), REPO / "README.md", *REPO.glob("docs/**/*.md"),
                 *REPO.glob("scripts/*")]:
        if path.is_file() and "clawgym-env[" in path.read_text(errors="replace"):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
