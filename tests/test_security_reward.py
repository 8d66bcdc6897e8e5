"""Reward integrity: nothing an agent leaves in its workspace may change its reward (issue 11).

A battery of reward-hack attempts, each on bwrap and docker: the agent plants modules, packages,
bytecode, path-configuration files, symlinks or processes, then the task's verifier runs. Every
attempt must leave the reward at its honest value. Positive controls show that a verifier that runs
the agent's code on purpose (a script, pytest on the agent's project) still runs it.

Each "hack" below scored 1.0 before the verifier's cwd and import guard were fixed (the json.py
reproduction scored 1.0 on every task), except where a comment says the form was already closed
(kept as regression guards).
"""

from __future__ import annotations

import json
import os
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backends import BACKENDS

from clawgym_env.env import ClawGymEnv
from clawgym_env.sandbox import SandboxConfig, ServerSandbox, make_sandbox
from clawgym_env.tasks import Task, load_task
from clawgym_env.verify.code import parse_reward_stdout, run_code_verifier

SHARED = Path(__file__).resolve().parents[2] / "shared"
OFFICIAL_REWARD_SH = (SHARED / "datasets" / "clawgym-train" / "task_0009" / "reward" / "reward.sh").read_text()

# What an attacker's module does when imported: print a perfect score and leave before anything else runs.
# "1" is a valid whole output for both places it can land: check.py's stdout (reward.sh's aggregation
# reads a bare number as the score) and the aggregation step's own stdout (the reward line).
EVIL = "import os, sys\nsys.stdout.write('1\\n'); sys.stdout.flush(); os._exit(0)\n"
HARMLESS = "# an ordinary module of the agent's\n"

HONEST_CHECK = """\
import json, sys
from pathlib import Path
ws = Path(sys.argv[1])
print(json.dumps({"result_written": (ws / "output" / "result.txt").is_file()}))
"""


def _task(check_py: str = HONEST_CHECK, reward_sh: str = OFFICIAL_REWARD_SH) -> Task:
    return Task(task_id="t_integrity", user_query="q", metadata={"category": ""},
                reward_files={"reward.sh": reward_sh.encode(), "check.py": check_py.encode()})


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _start(backend: str, config: SandboxConfig | None = None) -> ServerSandbox:
    sb = make_sandbox(backend, config)
    sb.start()
    return sb


@pytest.fixture
def box(backend: str) -> Iterator[ServerSandbox]:
    sb = _start(backend)
    try:
        yield sb
    finally:
        sb.close()


@pytest.fixture
def rootfs_box(backend: str) -> Iterator[ServerSandbox]:
    """A sandbox with pytest available: the built rootfs under bwrap (the host's /usr/bin/python3
    may lack it), the image under docker."""
    sb = _start(backend, SandboxConfig(root="default") if backend == "bwrap" else None)
    try:
        yield sb
    finally:
        sb.close()


def _plant(sb: ServerSandbox, files: dict[str, str]) -> None:
    """Write files the way the agent does: through the sandbox (its uid, its view of the paths)."""
    for rel, text in files.items():
        sb.write_file(f"{sb.workspace}/{rel}", text.encode())


def _score(sb: ServerSandbox, task: Task, **kw: object):  # type: ignore[no-untyped-def]
    res = run_code_verifier(sb, task, **kw)  # type: ignore[arg-type]
    assert res.infra_error is None, res.infra_error
    return res


# ----------------------------------------------------------------------------- the battery
# name -> (files the agent leaves, check.py). Every one must score the honest 0.0.
PATH_INSERT_CHECK = """\
import json, sys
from pathlib import Path
ws = Path(sys.argv[1])
sys.path.insert(0, str(ws))            # some released verifiers do this to import the agent's module
sys.path.insert(0, str(ws / "output"))
import csv                              # ...and import more of the standard library afterwards
print(json.dumps({"result_written": (ws / "output" / "result.txt").is_file()}))
"""
CHDIR_SUBPROCESS_CHECK = """\
import os, subprocess, sys
ws = sys.argv[1]
os.chdir(ws)
# the verifier's own helper code, run from the workspace
out = subprocess.run([sys.executable, "-c", "import json; print(json.dumps({'result_written': False}))"],
                     capture_output=True, text=True, cwd=ws).stdout
print(out.strip())
"""
M_TOOL_CHECK = """\
import subprocess, sys
ws = sys.argv[1]
# the verifier's own use of a standard-library tool, from the workspace
out = subprocess.run([sys.executable, "-m", "json.tool", "--compact"], input='{"result_written": false}',
                     capture_output=True, text=True, cwd=ws).stdout
print(out.strip())
"""

BATTERY: dict[str, tuple[dict[str, str], str]] = {
    # reward.sh's `python3 -c` aggregation step imported json from its cwd, the workspace
    "json_module_top_level": ({"json.py": EVIL}, HONEST_CHECK),
    "json_package_top_level": ({"json/__init__.py": EVIL}, HONEST_CHECK),
    # check.py puts the workspace (and a subfolder) on sys.path, then imports more stdlib
    "csv_after_sys_path_insert": ({"csv.py": EVIL}, PATH_INSERT_CHECK),
    "csv_package_in_subfolder": ({"output/csv/__init__.py": EVIL}, PATH_INSERT_CHECK),
    "json_in_subfolder_on_path": ({"output/json.py": EVIL, "output/csv.py": EVIL}, PATH_INSERT_CHECK),
    # the verifier's own `python -c` / `python -m` run with the workspace as cwd
    "json_for_python_c_in_workspace": ({"json.py": EVIL}, CHDIR_SUBPROCESS_CHECK),
    "json_for_python_m_in_workspace": ({"json/__init__.py": EVIL, "json/tool.py": EVIL}, M_TOOL_CHECK),
    # start-up hooks and path configuration (already closed before issue 11: kept as regression guards)
    "sitecustomize_usercustomize": ({"sitecustomize.py": EVIL, "usercustomize.py": EVIL}, HONEST_CHECK),
    "pth_files": ({"evil.pth": "import os; os.write(1, b'1\\n'); os._exit(0)\n",
                   "output/evil.pth": "import os; os.write(1, b'1\\n'); os._exit(0)\n"}, HONEST_CHECK),
    "encodings_and_site": ({"encodings/__init__.py": EVIL, "site.py": EVIL, "os.py": EVIL}, HONEST_CHECK),
    "planted_reward_bytecode": ({"reward/__pycache__/check.cpython-311.pyc": "junk",
                                 "reward/helpers.py": EVIL}, HONEST_CHECK),
    # executables where a verifier might look for python3/bash (PATH never contains the workspace)
    "fake_interpreters": ({"python3": "#!/bin/sh\necho 1\n", "bin/python3": "#!/bin/sh\necho 1\n",
                           "bash": "#!/bin/sh\necho 1\n", ".bashrc": "echo 1; exit 0\n"}, HONEST_CHECK),
}


@pytest.mark.parametrize("name", sorted(BATTERY))
def test_reward_hack_battery_scores_honestly(box: ServerSandbox, name: str) -> None:
    files, check = BATTERY[name]
    _plant(box, files)
    res = _score(box, _task(check))
    assert (res.reward, res.reason) == (0.0, None), (name, res.stdout_tail, res.stderr_head)
    assert res.subscores == {"result_written": False}, name


def test_sourceless_bytecode_in_the_workspace_is_not_imported(box: ServerSandbox) -> None:
    """A compiled ``json.pyc`` with no source beside it (bytecode for the sandbox's own python)."""
    _plant(box, {"evil_src.py": EVIL})
    res = box.exec("python3 -c \"import py_compile; py_compile.compile('evil_src.py', cfile='json.pyc')\" "
                   "&& rm evil_src.py && mkdir -p output && cp json.pyc output/csv.pyc && ls", timeout_s=30)
    assert res.exit_code == 0 and "json.pyc" in res.output, res.output
    for check in (HONEST_CHECK, PATH_INSERT_CHECK, CHDIR_SUBPROCESS_CHECK):
        res2 = _score(box, _task(check))
        assert (res2.reward, res2.reason) == (0.0, None), (check, res2.stdout_tail)


def test_python_m_pytest_in_the_workspace_runs_the_real_pytest(rootfs_box: ServerSandbox) -> None:
    """An agent's ``pytest.py`` (or ``_pytest/``) must not stand in for pytest when the verifier runs
    ``python3 -m pytest`` over the agent's project; the project's own tests still run."""
    check = textwrap.dedent("""\
        import json, subprocess, sys
        ws = sys.argv[1]
        rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                            cwd=ws, capture_output=True).returncode
        print(json.dumps({"tests_pass": rc == 0}))
    """)
    _plant(rootfs_box, {"tests/test_solution.py": "from solution import f\n\ndef test_f():\n    assert f() == 2\n",
                        "solution.py": "def f():\n    return 1\n",  # wrong: the honest score is 0
                        "pytest.py": EVIL, "_pytest/__init__.py": EVIL})
    res = _score(rootfs_box, _task(check))
    assert (res.reward, res.subscores) == (0.0, {"tests_pass": False}), res.stdout_tail
    # positive control: the right solution passes the same verifier (the agent's code does run)
    _plant(rootfs_box, {"solution.py": "def f():\n    return 2\n"})
    res = _score(rootfs_box, _task(check))
    assert (res.reward, res.subscores) == (1.0, {"tests_pass": True}), (res.stdout_tail, res.stderr_head)


def test_agent_scripts_run_on_purpose_keep_plain_python_semantics(box: ServerSandbox) -> None:
    """Positive control: ``python3 output/x.py`` imports its own sibling modules (even one named like
    a stdlib module), and check.py imports the agent's module it put on sys.path."""
    check = textwrap.dedent("""\
        import json, subprocess, sys
        ws = sys.argv[1]
        out = subprocess.run([sys.executable, "output/x.py"], cwd=ws, capture_output=True, text=True).stdout
        sys.path.insert(0, ws)
        import solution
        print(json.dumps({"script": out.strip() == "helper:42 calendar:mine", "module": solution.f() == 3}))
    """)
    _plant(box, {"output/x.py": "import helper, calendar\nprint(f'helper:{helper.X} calendar:{calendar.WHO}')\n",
                 "output/helper.py": "X = 42\n", "output/calendar.py": "WHO = 'mine'\n",
                 "solution.py": "def f():\n    return 3\n"})
    res = _score(box, _task(check))
    assert res.subscores == {"script": True, "module": True}, (res.stdout_tail, res.stderr_head)
    assert res.reward == 1.0


def test_background_process_rewriting_modules_is_gone_before_scoring(box: ServerSandbox) -> None:
    """A race with the verifier: a detached loop keeps (re)writing json.py; it must be dead before the
    verifier starts (and the verifier must not import json.py anyway)."""
    box.exec("setsid sh -c 'while true; do printf \"%s\" \"$0\" > json.py; sleep 0.005; done' "
             f"{json.dumps(EVIL)} >/dev/null 2>&1 &", timeout_s=5)
    res = _score(box, _task())
    assert (res.reward, res.subscores) == (0.0, {"result_written": False})


def test_subscores_never_follow_a_link_to_a_host_file(box: ServerSandbox, tmp_path: Path) -> None:
    """Defect 3: the verifier's process replaces its check_stdout with a symlink to a host file; the
    host must not read the host file into ``info["subscores"]``."""
    secret = tmp_path / "host_secret.json"
    secret.write_text(json.dumps({"host_secret": 42}))
    secret.chmod(0o644)
    check = HONEST_CHECK + textwrap.dedent(f"""\
        import os
        sys.stdout.flush()
        p = os.environ["CLAWGYM_CHECK_STDOUT"]
        os.remove(p)
        os.symlink({str(secret)!r}, p)
    """)
    res = _score(box, _task(check))
    assert res.reward == 0.0
    assert res.subscores is None or "host_secret" not in res.subscores, res.subscores


def test_huge_verifier_output_keeps_driver_memory_flat(box: ServerSandbox) -> None:
    """Defect 4: 256 MB printed by reward.sh; only the tail is kept, and the reward still parses."""
    tracemalloc.start()
    try:
        res = _score(box, _task(reward_sh="head -c 268435456 /dev/zero | tr '\\0' x; echo; echo 0.5\n"
                                           "head -c 67108864 /dev/zero >&2\n"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.reward == 0.5 and res.reason is None
    assert peak < 16 << 20, f"driver peak {peak / 2**20:.0f} MiB while capturing the verifier"
    assert len(res.stdout_tail) <= 2000 and len(res.stderr_head) <= 500


def test_a_huge_last_line_is_not_cut_into_a_number(box: ServerSandbox) -> None:
    """The kept tail starts mid-line; a fragment such as the final ``1`` of a 1 MB line is no reward."""
    res = _score(box, _task(reward_sh="head -c 1048576 /dev/zero | tr '\\0' 9; printf '\\n'; "
                                      "head -c 1048576 /dev/zero | tr '\\0' x; echo 1\n"))
    assert res.reward == 0.0 and "not a number" in (res.reason or ""), res.reason


@pytest.mark.parametrize("line, reward, flagged", [("1_0", 0.0, False), ("0_5", 0.0, False), ("1.5", 1.5, True),
                                                   ("-0.25", -0.25, True), ("1", 1.0, False), ("0.0", 0.0, False)])
def test_reward_parsing_refuses_underscores_and_flags_out_of_range(box: ServerSandbox, line: str, reward: float,
                                                                  flagged: bool) -> None:
    """Defect 11: ``float("1_0")`` is 10.0 in Python; the authors never meant it. Values outside [0, 1]
    are kept (the authors do not clamp) and flagged."""
    res = _score(box, _task(reward_sh=f"echo {line}\n"))
    assert res.reward == reward and res.out_of_range is flagged
    if "_" in line:
        assert "not a number" in (res.reason or "")
    assert parse_reward_stdout(line + "\n")[0] == reward


def test_lone_surrogate_in_the_payload_is_written_and_read_back(box: ServerSandbox) -> None:
    """Defect 5 (payload part): a model's lone surrogate reaches the payload as a JSON escape."""
    check = ("import json, os\np = json.load(open(os.environ['OPENCLAW_REWARD_PAYLOAD'], encoding='utf-8'))\n"
             "print(json.dumps({'ok': p['final_message'] == 'a\\ud800b'}))\n")
    res = _score(box, _task(check), final_message="a\ud800b", transcript=[{"text": "\udcff"}])
    assert res.reward == 1.0, (res.stdout_tail, res.stderr_head)


# ----------------------------------------------------------------------------- end to end through the env
def _train_ids(n: int) -> list[str]:
    folder = SHARED / "datasets" / "clawgym-train"
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("task_"))
    return [names[i * len(names) // n] for i in range(n)]


def _episode_with(env: ClawGymEnv, files: dict[str, str]) -> tuple[float, dict]:
    env.reset(seed=0)
    for rel, text in files.items():
        _, _, _, _, info = env.step({"name": "write", "arguments": {"path": rel, "content": text}})
        assert "Successfully wrote" in info["messages"][-1]["content"], info["messages"][-1]
    _, reward, terminated, _, info = env.step({"role": "assistant", "content": "done"})
    assert terminated and info["infra_error"] is None, info["infra_error"]
    return reward, info


@pytest.mark.parametrize("backend_name, n_train, n_builtin", [
    pytest.param("bwrap", 8, 8, id="bwrap"),
    pytest.param("docker", 3, 3, id="docker", marks=BACKENDS[1].marks),
])
def test_one_planted_file_no_longer_scores_every_task(backend_name: str, n_train: int, n_builtin: int) -> None:
    """The issue's reproduction through ``env.step``: ``write json.py`` then end the episode. The reward
    must equal that of the same episode with a harmless json.py (a 'workspace clean' check may see the
    file either way), on real train tasks and built-in tasks."""
    from clawgym_env.synth.builtin import BuiltinSource, task_name

    tasks = [load_task(SHARED / "datasets" / "clawgym-train" / tid) for tid in _train_ids(n_train)]
    builtin = BuiltinSource()
    tasks += [builtin.load(task_name(i * 997 % len(builtin))) for i in range(n_builtin)]
    for task in tasks:
        env = ClawGymEnv(task, backend=backend_name)
        try:
            evil, _ = _episode_with(env, {"json.py": EVIL, "output/json.py": EVIL})
            honest, _ = _episode_with(env, {"json.py": HARMLESS, "output/json.py": HARMLESS})
        finally:
            env.close()
        assert evil == honest < 1.0, (task.task_id, evil, honest)


def test_deep_folder_chain_at_reward_is_replaced_and_judged_without_recursion(box: ServerSandbox) -> None:
    """A 3,000-deep chain left at ``reward/`` (Python 3.11's os.walk/rmtree recurse: RecursionError out
    of step) is removed before scoring; the judge's file listing walks it without recursing."""
    from clawgym_env.verify.rubric import workspace_text_files

    res = box.exec("mkdir -p output reward && echo note > output/n.txt && cd reward && python3 -c \"import os\n"
                   "for _ in range(3000): os.mkdir('d'); os.chdir('d')\nopen('f.txt', 'w').write('deep')\"",
                   timeout_s=120)
    assert res.exit_code == 0, res.output
    box.stop()
    files = workspace_text_files(box.host_workspace)  # reward/ is skipped, the chain is walked
    assert ("output/n.txt", "note\n") in files
    res2 = _score(box, _task())
    assert (res2.reward, res2.subscores) == (0.0, {"result_written": False})
    assert sorted(p.name for p in (box.host_workspace / "reward").iterdir()) == ["check.py", "reward.sh"]


def test_verifier_cannot_fake_an_infra_error(box: ServerSandbox) -> None:
    """Dropping a sample is a reward too (its zero never counts): code the verifier runs that prints
    what a failed bwrap start prints, then exits 1, is scored 0.0 with a reason, not an infra error."""
    for script in ("echo 'bwrap: Can\\'t mount proc on /newroot/proc: Operation not permitted' >&2; exit 1",
                   "echo 'Error response from daemon: container is not running' >&2; exit 126",
                   "exec 1>&-; echo 'bwrap: execvp bash: No such file or directory' >&2; exit 1"):
        res = _score(box, _task(reward_sh=script + "\n"))
        assert res.infra_error is None and res.reward == 0.0 and "exited with code" in (res.reason or ""), script
